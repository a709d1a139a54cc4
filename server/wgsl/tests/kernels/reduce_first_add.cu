// Reduction #4: first add during the global load (each block reduces 2*blockDim elements).
__global__ void reduce_first_add(const int* g_in, int* g_out, unsigned int n) {
    __shared__ int sdata[256];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * (blockDim.x * 2) + threadIdx.x;
    int sum = (i < n) ? g_in[i] : 0;
    if (i + blockDim.x < n) sum += g_in[i + blockDim.x];
    sdata[tid] = sum;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) sdata[tid] = sum = sum + sdata[tid + s];
        __syncthreads();
    }
    if (tid == 0) g_out[blockIdx.x] = sum;
}

void run(const int* in, int* out, unsigned int n) {
    reduce_first_add<<<(n + 511) / 512, 256>>>(in, out, n);
}
