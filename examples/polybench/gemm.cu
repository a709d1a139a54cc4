// GEMM in the PolyBench/GPU style: sizes and block shape come from a header,
// the launch configuration is built from macros. cudalens resolves them all.
#include <cuda_runtime.h>
#include "gemm.cuh"

#define ALPHA 32412.0f
#define BETA 2123.0f

__global__ void gemm_kernel(DATA_TYPE *a, DATA_TYPE *b, DATA_TYPE *c) {
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  int i = blockIdx.y * blockDim.y + threadIdx.y;

  if ((i < NI) && (j < NJ)) {
    c[i * NJ + j] *= BETA;
    for (int k = 0; k < NK; k++) {
      c[i * NJ + j] += ALPHA * a[i * NK + k] * b[k * NJ + j];
    }
  }
}

// The same kernel with the thread mapping swapped: adjacent threads now walk
// rows, so every access to `c` and `b` is uncoalesced.
__global__ void gemm_kernel_transposed(DATA_TYPE *a, DATA_TYPE *b, DATA_TYPE *c) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  int j = blockIdx.y * blockDim.y + threadIdx.y;

  if ((i < NI) && (j < NJ)) {
    c[i * NJ + j] *= BETA;
    for (int k = 0; k < NK; k++) {
      c[i * NJ + j] += ALPHA * a[i * NK + k] * b[k * NJ + j];
    }
  }
}

void gemm_cuda(DATA_TYPE *a_gpu, DATA_TYPE *b_gpu, DATA_TYPE *c_gpu) {
  dim3 block(DIM_THREAD_BLOCK_X, DIM_THREAD_BLOCK_Y);
  dim3 grid((size_t)(ceil(((float)NI) / ((float)block.x))), (size_t)(ceil(((float)NJ) / ((float)block.y))));
  gemm_kernel<<<grid, block>>>(a_gpu, b_gpu, c_gpu);
  gemm_kernel_transposed<<<grid, block>>>(a_gpu, b_gpu, c_gpu);
  cudaDeviceSynchronize();
}
