// Shared-memory bank-conflict corpus: transposes, every classic reduction,
// 64- and 128-bit accesses, strides, broadcasts and swizzles. Ground truth:
// ncu on an H100 (tests/ground-truth/).
#include <cuda_runtime.h>

#define TILE 32
#define ROWS 8
#define W 1024
#define BLOCK 256
#define BLOCKS 1024

__global__ void transpose_smem(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float tile[TILE][TILE];
  int x = blockIdx.x * TILE + threadIdx.x;
  int y = blockIdx.y * TILE + threadIdx.y;
  for (int j = 0; j < TILE; j += ROWS)
    tile[threadIdx.y + j][threadIdx.x] = in[(y + j) * W + x];
  __syncthreads();
  x = blockIdx.y * TILE + threadIdx.x;
  y = blockIdx.x * TILE + threadIdx.y;
  for (int j = 0; j < TILE; j += ROWS)
    out[(y + j) * W + x] = tile[threadIdx.x][threadIdx.y + j];
}

__global__ void transpose_padded(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float tile[TILE][TILE + 1];
  int x = blockIdx.x * TILE + threadIdx.x;
  int y = blockIdx.y * TILE + threadIdx.y;
  for (int j = 0; j < TILE; j += ROWS)
    tile[threadIdx.y + j][threadIdx.x] = in[(y + j) * W + x];
  __syncthreads();
  x = blockIdx.y * TILE + threadIdx.x;
  y = blockIdx.x * TILE + threadIdx.y;
  for (int j = 0; j < TILE; j += ROWS)
    out[(y + j) * W + x] = tile[threadIdx.x][threadIdx.y + j];
}

__global__ void transpose_swizzled(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float tile[TILE][TILE];
  int x = blockIdx.x * TILE + threadIdx.x;
  int y = blockIdx.y * TILE + threadIdx.y;
  for (int j = 0; j < TILE; j += ROWS)
    tile[threadIdx.y + j][threadIdx.x ^ (threadIdx.y + j)] = in[(y + j) * W + x];
  __syncthreads();
  x = blockIdx.y * TILE + threadIdx.x;
  y = blockIdx.x * TILE + threadIdx.y;
  for (int j = 0; j < TILE; j += ROWS)
    out[(y + j) * W + x] = tile[threadIdx.x][threadIdx.x ^ (threadIdx.y + j)];
}

// Reduction 1: interleaved addressing with divergent branching.
__global__ void reduce_interleaved_divergent(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float sdata[BLOCK];
  unsigned int tid = threadIdx.x;
  sdata[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  for (unsigned int s = 1; s < blockDim.x; s *= 2) {
    if (tid % (2 * s) == 0) sdata[tid] += sdata[tid + s];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = sdata[0];
}

// Reduction 2: interleaved addressing with a strided index (bank conflicts).
__global__ void reduce_interleaved_strided(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float sdata[BLOCK];
  unsigned int tid = threadIdx.x;
  sdata[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  for (unsigned int s = 1; s < blockDim.x; s *= 2) {
    int index = 2 * s * tid;
    if (index < blockDim.x) sdata[index] += sdata[index + s];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = sdata[0];
}

// Reduction 3: sequential addressing (conflict-free).
__global__ void reduce_sequential(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float sdata[BLOCK];
  unsigned int tid = threadIdx.x;
  sdata[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) sdata[tid] += sdata[tid + s];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = sdata[0];
}

// Reduction 4: first add during the global load.
__global__ void reduce_first_add(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float sdata[BLOCK];
  unsigned int tid = threadIdx.x;
  unsigned int i = blockIdx.x * (blockDim.x * 2) + threadIdx.x;
  sdata[tid] = in[i] + in[i + blockDim.x];
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) sdata[tid] += sdata[tid + s];
    __syncthreads();
  }
  if (tid == 0) out[blockIdx.x] = sdata[0];
}

// Reduction 5: warp-level finish with shuffles.
__global__ void reduce_shuffle(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float sdata[BLOCK];
  unsigned int tid = threadIdx.x;
  sdata[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 32; s >>= 1) {
    if (tid < s) sdata[tid] += sdata[tid + s];
    __syncthreads();
  }
  if (tid < 32) {
    float v = sdata[tid] + sdata[tid + 32];
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffff, v, offset);
    if (tid == 0) out[blockIdx.x] = v;
  }
}

__global__ void shared_double(const double* __restrict__ in, double* __restrict__ out) {
  __shared__ double d[BLOCK];
  unsigned int tid = threadIdx.x;
  d[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  out[blockIdx.x * blockDim.x + tid] = d[BLOCK - 1 - tid];
}

__global__ void shared_double_stride2(const double* __restrict__ in, double* __restrict__ out) {
  __shared__ double d[2 * BLOCK];
  unsigned int tid = threadIdx.x;
  d[2 * tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  out[blockIdx.x * blockDim.x + tid] = d[(2 * tid + 2) % (2 * BLOCK)];
}

__global__ void shared_float4(const float4* __restrict__ in, float4* __restrict__ out) {
  __shared__ float4 v[BLOCK];
  unsigned int tid = threadIdx.x;
  v[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  out[blockIdx.x * blockDim.x + tid] = v[(tid + 1) % BLOCK];
}

__global__ void shared_float4_stride2(const float4* __restrict__ in, float4* __restrict__ out) {
  __shared__ float4 v[2 * BLOCK];
  unsigned int tid = threadIdx.x;
  v[2 * tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  out[blockIdx.x * blockDim.x + tid] = v[(2 * tid + 2) % (2 * BLOCK)];
}

__global__ void shared_broadcast(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float s[BLOCK];
  unsigned int tid = threadIdx.x;
  s[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  out[blockIdx.x * blockDim.x + tid] = s[5];
}

__global__ void shared_stride2(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float s[2 * BLOCK];
  unsigned int tid = threadIdx.x;
  s[2 * tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  out[blockIdx.x * blockDim.x + tid] = s[(2 * tid + 2) % (2 * BLOCK)];
}

__global__ void shared_xor_swizzle(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float s[32 * 32];
  unsigned int tid = threadIdx.x;
  unsigned int row = tid / 32, col = tid % 32;
  s[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  out[blockIdx.x * blockDim.x + tid] = s[col * 32 + (row ^ col)];
}

__global__ void column_16x16(const float* __restrict__ in, float* __restrict__ out) {
  __shared__ float t[16][16];
  t[threadIdx.y][threadIdx.x] = in[(blockIdx.x * 16 + threadIdx.y) * 16 + threadIdx.x];
  __syncthreads();
  out[(blockIdx.x * 16 + threadIdx.y) * 16 + threadIdx.x] = t[threadIdx.x][threadIdx.y];
}

__global__ void shared_char(const char* __restrict__ in, char* __restrict__ out) {
  __shared__ char c[BLOCK];
  unsigned int tid = threadIdx.x;
  c[tid] = in[blockIdx.x * blockDim.x + tid];
  __syncthreads();
  out[blockIdx.x * blockDim.x + tid] = c[BLOCK - 1 - tid];
}

int main() {
  float *a, *b;
  cudaMalloc(&a, sizeof(float) * W * W * 4);
  cudaMalloc(&b, sizeof(float) * W * W * 4);
  cudaMemset(a, 0, sizeof(float) * W * W * 4);
  dim3 tblock(TILE, ROWS);
  dim3 tgrid(W / TILE, W / TILE);
  transpose_smem<<<tgrid, tblock>>>(a, b);
  transpose_padded<<<tgrid, tblock>>>(a, b);
  transpose_swizzled<<<tgrid, tblock>>>(a, b);
  reduce_interleaved_divergent<<<BLOCKS, BLOCK>>>(a, b);
  reduce_interleaved_strided<<<BLOCKS, BLOCK>>>(a, b);
  reduce_sequential<<<BLOCKS, BLOCK>>>(a, b);
  reduce_first_add<<<BLOCKS / 2, BLOCK>>>(a, b);
  reduce_shuffle<<<BLOCKS, BLOCK>>>(a, b);
  shared_double<<<BLOCKS, BLOCK>>>((double*)a, (double*)b);
  shared_double_stride2<<<BLOCKS, BLOCK>>>((double*)a, (double*)b);
  shared_float4<<<BLOCKS, BLOCK>>>((float4*)a, (float4*)b);
  shared_float4_stride2<<<BLOCKS, BLOCK>>>((float4*)a, (float4*)b);
  shared_broadcast<<<BLOCKS, BLOCK>>>(a, b);
  shared_stride2<<<BLOCKS, BLOCK>>>(a, b);
  shared_xor_swizzle<<<BLOCKS, 1024>>>(a, b);
  dim3 sq(16, 16);
  column_16x16<<<BLOCKS, sq>>>(a, b);
  shared_char<<<BLOCKS, BLOCK>>>((char*)a, (char*)b);
  cudaDeviceSynchronize();
  return 0;
}
