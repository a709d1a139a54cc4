// A program that runs its kernel at several block sizes, the way llm.c's
// dev/cuda programs validate and time each kernel version.
__global__ void scale(float* out, const float* in, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = 2.0f * in[i];
}

void run(float* out, const float* in, int n, int block_size) {
    int grid = (n + block_size - 1) / block_size;
    scale<<<grid, block_size>>>(out, in, n);
}

int main() {
    int n = 4096;
    int block_sizes[] = {32, 128, 512};
    for (int j = 0; j < sizeof(block_sizes) / sizeof(int); j++) {
        int block_size = block_sizes[j];
        run(0, 0, n, block_size);
    }
    return 0;
}
