// Row pitches only known at run time (`width` comes from the command line, so
// the analysis cannot bind it): cudalens counts the runtime part of an address
// as 32-byte aligned, as cudaMalloc'd rows of a width that is a multiple of 8
// floats are. Ground truth: ncu on an H200 (sm_90, the H100's SM) with
// width = 1024 (tests/ground-truth/h200/). One global load and one global store
// per kernel, as in coalescing.cu.
#include <cstdlib>
#include <cuda_runtime.h>

#define ROWS 1024

// Row-major through a runtime pitch: coalesced (4 sectors per request).
__global__ void rows_pitch(const float* __restrict__ in, float* __restrict__ out, int width) {
  int x = blockIdx.x * 32 + threadIdx.x;
  int y = blockIdx.y * 8 + threadIdx.y;
  out[y * width + x] = in[y * width + x] * 2.0f;
}

// The same rows read one element late: misaligned (5 sectors per load).
__global__ void rows_pitch_shifted(const float* __restrict__ in, float* __restrict__ out, int width) {
  int x = blockIdx.x * 32 + threadIdx.x;
  int y = blockIdx.y * 8 + threadIdx.y;
  out[y * width + x] = in[y * width + x + 1];
}

// Columns through a runtime pitch: adjacent threads a whole row apart.
__global__ void columns_pitch(const float* __restrict__ in, float* __restrict__ out, int width) {
  int x = blockIdx.x * 32 + threadIdx.x;
  int y = blockIdx.y * 8 + threadIdx.y;
  out[y * width + x] = in[x * width + y];
}

int main(int argc, char** argv) {
  int width = argc > 1 ? atoi(argv[1]) : 1024;
  float *a, *b;
  cudaMalloc(&a, sizeof(float) * (width + 1) * ROWS);
  cudaMalloc(&b, sizeof(float) * width * ROWS);
  cudaMemset(a, 0, sizeof(float) * (width + 1) * ROWS);
  dim3 block(32, 8);
  dim3 grid(width / 32, ROWS / 8);
  rows_pitch<<<grid, block>>>(a, b, width);
  rows_pitch_shifted<<<grid, block>>>(a, b, width);
  columns_pitch<<<grid, block>>>(a, b, width);
  cudaDeviceSynchronize();
  return 0;
}
