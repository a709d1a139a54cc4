// Global-memory coalescing corpus: one pattern per kernel, each launched once
// from main() with sizes the analysis can resolve. Ground truth: ncu on an H100
// (tests/ground-truth/). Keep one global load and one global store per kernel
// so per-kernel ncu totals map to single accesses.
#include <cuda_runtime.h>

#define N (1 << 20)
#define BLOCK 256
#define W 1024

struct Point { float x, y, z; };

__global__ void copy_coalesced(const float* __restrict__ in, float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i];
}

__global__ void copy_stride2(const float* __restrict__ in, float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[2 * i];
}

__global__ void copy_stride32(const float* __restrict__ in, float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i * 32];
}

__global__ void copy_offset1(const float* __restrict__ in, float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i + 1];
}

__global__ void load_float4(const float* __restrict__ in, float4* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = reinterpret_cast<const float4*>(in)[i];
}

__global__ void load_double(const double* __restrict__ in, double* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i] * 2.0;
}

__global__ void load_char(const char* __restrict__ in, int* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i];
}

__global__ void aos_x(const Point* __restrict__ pts, float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = pts[i].x;
}

__global__ void transpose_naive(const float* __restrict__ in, float* __restrict__ out) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  out[x * W + y] = in[y * W + x];
}

__global__ void rows_16x16(const float* __restrict__ in, float* __restrict__ out) {
  int x = blockIdx.x * blockDim.x + threadIdx.x;
  int y = blockIdx.y * blockDim.y + threadIdx.y;
  out[y * W + x] = in[y * W + x] + 1.0f;
}

__global__ void grid_stride(const float* __restrict__ in, float* __restrict__ out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x) {
    out[i] = in[i] * 2.0f;
  }
}

__global__ void every_other_lane(const float* __restrict__ in, float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (threadIdx.x % 2 == 0) {
    out[i] = in[i];
  }
}

__global__ void column_sum(const float* __restrict__ in, float* __restrict__ out) {
  int row = blockIdx.x * blockDim.x + threadIdx.x;
  float acc = 0.0f;
  for (int k = 0; k < W; k++) {
    acc += in[row * W + k];
  }
  out[row] = acc;
}

__global__ void row_sum(const float* __restrict__ in, float* __restrict__ out) {
  int col = blockIdx.x * blockDim.x + threadIdx.x;
  float acc = 0.0f;
  for (int k = 0; k < W; k++) {
    acc += in[k * W + col];
  }
  out[col] = acc;
}

int main() {
  float *a, *b;
  cudaMalloc(&a, sizeof(float) * N * 33);
  cudaMalloc(&b, sizeof(float) * N * 4);
  cudaMemset(a, 0, sizeof(float) * N * 33);
  copy_coalesced<<<N / BLOCK, BLOCK>>>(a, b);
  copy_stride2<<<N / BLOCK, BLOCK>>>(a, b);
  copy_stride32<<<N / BLOCK, BLOCK>>>(a, b);
  copy_offset1<<<N / BLOCK, BLOCK>>>(a, b);
  load_float4<<<N / BLOCK, BLOCK>>>(a, (float4*)b);
  load_double<<<N / 2 / BLOCK, BLOCK>>>((double*)a, (double*)b);
  load_char<<<N / BLOCK, BLOCK>>>((char*)a, (int*)b);
  aos_x<<<N / BLOCK, BLOCK>>>((Point*)a, b);
  dim3 tblock(32, 8);
  dim3 tgrid(W / 32, W / 8);
  transpose_naive<<<tgrid, tblock>>>(a, b);
  dim3 sq(16, 16);
  dim3 sqgrid(W / 16, W / 16);
  rows_16x16<<<sqgrid, sq>>>(a, b);
  grid_stride<<<264, BLOCK>>>(a, b, N);
  every_other_lane<<<N / BLOCK, BLOCK>>>(a, b);
  column_sum<<<W / 128, 128>>>(a, b);
  row_sum<<<W / 128, 128>>>(a, b);
  cudaDeviceSynchronize();
  return 0;
}
