// y = a * x + y
__global__ void saxpy(int n, const float* __restrict__ x, float* __restrict__ y, float a) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = a * x[i] + y[i];
    }
}

void run_saxpy(int n, const float* x, float* y, float a) {
    int block = 256;
    int grid = (n + block - 1) / block;
    saxpy<<<grid, block>>>(n, x, y, a);
}
