// Our own kernels for stop 29's device check: double math computed in
// software (f64_math.rs) and early returns before barriers (early_exit.rs),
// run by `cudalens bench --native` against nvcc on NVIDIA's Vulkan driver.
#include <cuda_runtime.h>
#define N 4096
#define BLOCK 64

__global__ void double_math(const double* x, const double* y, double* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double a = x[i], b = y[i];
    out[i] = exp(a * 0.01) + log(fabs(a) + 1.0) + pow(fabs(a) + 1.0, b * 0.1)
           + sin(a) + cos(a * 3.0) + tan(a * 0.1) + atan(a) + atan2(a, b + 2.0)
           + asin(b / (fabs(b) + 1.0)) + acos(a / (fabs(a) + 1.0)) + log2(fabs(b) + 1.0)
           + log10(fabs(a) + 1.0);
}

__global__ void neighbours(const float* x, float* y, int n) {
    __shared__ float s[BLOCK];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    if (i >= n) return;
    const float v = x[i];
    s[t] = v * 2.0f;
    __syncthreads();
    y[i] = s[t ^ 1] + v;
}

__global__ void rows(const float* in, float* out, int size, int k) {
    __shared__ float sh[BLOCK];
    const unsigned int idx = blockDim.x * blockIdx.x + threadIdx.x;
    if (idx >= size) {
        return;
    }
    float acc = 0.0f;
    for (int r = 0; r < k; r++) {
        sh[threadIdx.x] = in[r * size + idx];
        __syncthreads();
        acc += sh[threadIdx.x ^ 1];
        __syncthreads();
    }
    out[idx] = acc;
}

int main() {
    double *x, *y, *o;
    float *a, *b;
    cudaMalloc(&x, N * sizeof(double));
    cudaMalloc(&y, N * sizeof(double));
    cudaMalloc(&o, N * sizeof(double));
    cudaMalloc(&a, 3 * N * sizeof(float));
    cudaMalloc(&b, N * sizeof(float));
    double_math<<<N / BLOCK, BLOCK>>>(x, y, o, N - 10);
    neighbours<<<N / BLOCK, BLOCK>>>(a, b, N - 10);
    rows<<<N / BLOCK, BLOCK>>>(a, b, N - 10, 3);
    return 0;
}
