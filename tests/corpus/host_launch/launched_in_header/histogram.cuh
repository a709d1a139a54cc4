// A kernel's file that also launches it from a host function (as HeCBench's
// tpacf keeps `histoKernel` and `GPUHistogram` in `histogram_kernel.cu`,
// included by `compute.cu`): our own kernel.
#define THREADS 128
#define BINS 64

__global__ void count_bins(const unsigned int *data, unsigned int *bins, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) atomicAdd(&bins[data[i] % BINS], 1u);
}

void histogram(const unsigned int *d_data, unsigned int *d_bins, int n) {
    dim3 grid((n + THREADS - 1) / THREADS);
    dim3 threads(THREADS);
    count_bins<<<grid, threads>>>(d_data, d_bins, n);
}

void histogram_small(const unsigned int *d_data, unsigned int *d_bins) {
    count_bins<<<8, THREADS>>>(d_data, d_bins, 1000);
}
