// Occupancy corpus: kernels limited by each resource. Ground truth: ncu's
// Occupancy section (launch__occupancy_limit_*) on an H100 (tests/ground-truth/).
#include <cuda_runtime.h>

#define BIG_TILE 12288
#define SMALL 1024

__global__ void smem_48k(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float big[BIG_TILE];
  big[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = big[(threadIdx.x + 7) % BIG_TILE];
}

__global__ void full_block(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float s[SMALL];
  s[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[SMALL - 1 - threadIdx.x];
}

__global__ void register_heavy(const float* __restrict__ in, float* __restrict__ out, int n) {
  float acc[64];
#pragma unroll
  for (int k = 0; k < 64; ++k) acc[k] = in[(threadIdx.x * 64 + k) % n];
  for (int it = 0; it < n; ++it) {
#pragma unroll
    for (int k = 0; k < 64; ++k) acc[k] = acc[k] * acc[(k + 1) % 64] + in[(it + k) % n];
  }
  float r = 0.f;
#pragma unroll
  for (int k = 0; k < 64; ++k) r += acc[k];
  out[blockIdx.x * blockDim.x + threadIdx.x] = r;
}

__global__ void odd_block(const float* __restrict__ in, float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i] * 3.0f;
}

__global__ void dynamic_smem(const float* __restrict__ in, float* __restrict__ out) {
  extern __shared__ float dyn[];
  dyn[threadIdx.x] = in[blockIdx.x * blockDim.x + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = dyn[blockDim.x - 1 - threadIdx.x];
}

__global__ void __launch_bounds__(128, 4) bounded(const float* __restrict__ in, float* __restrict__ out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i] + 1.0f;
}

int main() {
  float *a, *b;
  cudaMalloc(&a, sizeof(float) * (1 << 22));
  cudaMalloc(&b, sizeof(float) * (1 << 22));
  cudaMemset(a, 0, sizeof(float) * (1 << 22));
  smem_48k<<<1024, 256>>>(a, b);
  full_block<<<1024, 1024>>>(a, b);
  register_heavy<<<1024, 256>>>(a, b, 64);
  odd_block<<<1024, 100>>>(a, b);
  dynamic_smem<<<1024, 256, 40960>>>(a, b);
  bounded<<<1024, 128>>>(a, b);
  cudaDeviceSynchronize();
  return 0;
}
