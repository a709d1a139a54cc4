#define BINS 64

// Histogram of byte-sized values (stored as ints): per-block shared histogram
// with shared atomics, merged into the global one with global atomics.
__global__ void histogram(const unsigned int* data, unsigned int* hist, int n) {
    __shared__ unsigned int local_hist[BINS];
    for (int b = threadIdx.x; b < BINS; b += blockDim.x)
        local_hist[b] = 0;
    __syncthreads();
    int stride = blockDim.x * gridDim.x;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        unsigned int bin = data[i] % BINS;
        atomicAdd(&local_hist[bin], 1);
    }
    __syncthreads();
    for (int b = threadIdx.x; b < BINS; b += blockDim.x)
        atomicAdd(&hist[b], local_hist[b]);
}

void run(const unsigned int* data, unsigned int* hist, int n) {
    histogram<<<32, 128>>>(data, hist, n);
}
