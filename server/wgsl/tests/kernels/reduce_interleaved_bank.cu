// Reduction #2: interleaved addressing with a strided index (no divergence, bank conflicts).
__global__ void reduce_interleaved_bank(const int* g_in, int* g_out, unsigned int n) {
    __shared__ int sdata[256];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    sdata[tid] = (i < n) ? g_in[i] : 0;
    __syncthreads();
    for (unsigned int s = 1; s < blockDim.x; s *= 2) {
        int index = 2 * s * tid;
        if (index < blockDim.x) {
            sdata[index] += sdata[index + s];
        }
        __syncthreads();
    }
    if (tid == 0) g_out[blockIdx.x] = sdata[0];
}

void run(const int* in, int* out, unsigned int n) {
    reduce_interleaved_bank<<<(n + 255) / 256, 256>>>(in, out, n);
}
