// Reduction #1 (Harris): interleaved addressing, divergent branch (tid % (2*s)).
__global__ void reduce_interleaved_divergent(const int* g_in, int* g_out, unsigned int n) {
    extern __shared__ int sdata[];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    sdata[tid] = (i < n) ? g_in[i] : 0;
    __syncthreads();
    for (unsigned int s = 1; s < blockDim.x; s *= 2) {
        if (tid % (2 * s) == 0) {
            sdata[tid] += sdata[tid + s];
        }
        __syncthreads();
    }
    if (tid == 0) g_out[blockIdx.x] = sdata[0];
}

void run(const int* in, int* out, unsigned int n) {
    int threads = 256;
    int blocks = (n + threads - 1) / threads;
    reduce_interleaved_divergent<<<blocks, threads, threads * sizeof(int)>>>(in, out, n);
}
