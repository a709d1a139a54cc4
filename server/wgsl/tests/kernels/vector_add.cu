#define BLOCK 128

__global__ void vector_add(const float* a, const float* b, float* c, unsigned int n) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}

void launch(const float* a, const float* b, float* c, unsigned int n) {
    vector_add<<<(n + BLOCK - 1) / BLOCK, BLOCK>>>(a, b, c, n);
}
