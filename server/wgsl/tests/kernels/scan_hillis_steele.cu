// Inclusive scan of each block's chunk (Hillis-Steele, double-buffered in dynamic shared memory).
__global__ void scan_hillis_steele(const float* in, float* out, int n) {
    extern __shared__ float temp[];
    int tid = threadIdx.x;
    int i = blockIdx.x * blockDim.x + tid;
    int pout = 0, pin = 1;
    temp[pout * blockDim.x + tid] = (i < n) ? in[i] : 0.0f;
    __syncthreads();
    for (int offset = 1; offset < blockDim.x; offset *= 2) {
        pout = 1 - pout;
        pin = 1 - pout;
        if (tid >= offset)
            temp[pout * blockDim.x + tid] = temp[pin * blockDim.x + tid] + temp[pin * blockDim.x + tid - offset];
        else
            temp[pout * blockDim.x + tid] = temp[pin * blockDim.x + tid];
        __syncthreads();
    }
    if (i < n) out[i] = temp[pout * blockDim.x + tid];
}

void run(const float* in, float* out, int n) {
    int threads = 256;
    scan_hillis_steele<<<(n + threads - 1) / threads, threads, 2 * threads * sizeof(float)>>>(in, out, n);
}
