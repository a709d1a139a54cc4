// Reduction #5: unrolled last warp, warp-synchronous through volatile shared memory.
// (Unsafe even on recent CUDA; the transpiler warns. See reduce_warp_shfl.cu.)
__device__ void warp_reduce(volatile int* sdata, unsigned int tid) {
    sdata[tid] += sdata[tid + 32];
    sdata[tid] += sdata[tid + 16];
    sdata[tid] += sdata[tid + 8];
    sdata[tid] += sdata[tid + 4];
    sdata[tid] += sdata[tid + 2];
    sdata[tid] += sdata[tid + 1];
}

__global__ void reduce_unrolled_volatile(const int* g_in, int* g_out, unsigned int n) {
    __shared__ int sdata[256];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * (blockDim.x * 2) + threadIdx.x;
    int sum = (i < n) ? g_in[i] : 0;
    if (i + blockDim.x < n) sum += g_in[i + blockDim.x];
    sdata[tid] = sum;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 32; s >>= 1) {
        if (tid < s) sdata[tid] = sum = sum + sdata[tid + s];
        __syncthreads();
    }
    if (tid < 32) warp_reduce(sdata, tid);
    if (tid == 0) g_out[blockIdx.x] = sdata[0];
}

void run(const int* in, int* out, unsigned int n) {
    reduce_unrolled_volatile<<<(n + 511) / 512, 256>>>(in, out, n);
}
