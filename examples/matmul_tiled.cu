// Tiled matrix multiply with a classic bug: the second __syncthreads() at the
// end of the tile loop is missing, so the next iteration's writes race with
// this iteration's reads. Also launched with a block size that is not a
// multiple of the warp size, and a huge shared tile that limits occupancy.
#include <cuda_runtime.h>

#define TILE 16
#define N 2048

__global__ void matmul_tiled(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  int row = blockIdx.y * TILE + threadIdx.y;
  int col = blockIdx.x * TILE + threadIdx.x;
  float acc = 0.0f;
  for (int t = 0; t < N / TILE; ++t) {
    As[threadIdx.y][threadIdx.x] = A[row * N + t * TILE + threadIdx.x];
    Bs[threadIdx.y][threadIdx.x] = B[(t * TILE + threadIdx.y) * N + col];
    __syncthreads();
    for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
  }
  C[row * N + col] = acc;
}

__global__ void scale_rows(float* data, int n) {
  __shared__ float staging[12288];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  staging[threadIdx.x] = data[i];
  __syncthreads();
  if (i < n) data[i] = staging[threadIdx.x] * 2.0f;
}

void run(float* a, float* b, float* c) {
  dim3 block(TILE, TILE);
  dim3 grid(N / TILE, N / TILE);
  matmul_tiled<<<grid, block>>>(a, b, c);
  scale_rows<<<N * N / 100, 100>>>(c, N * N);
}
