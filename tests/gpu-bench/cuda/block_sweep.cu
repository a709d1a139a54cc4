// Native reference for the block-size ablation (tests/gpu-bench/variants):
// vector_add and smooth_squares<2, float> (templates_device) on 2^24 elements
// at 64..1024 threads per block, median of 500 launches (one CUDA event pair
// each) after 50 warm-ups. Prints one JSON object per configuration.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "../../../server/wgsl/tests/kernels/vector_add.cu"
namespace td {
#include "../../../server/wgsl/tests/kernels/templates_device.cu"
}

template <typename Launch>
static float median_ms(Launch launch) {
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    for (int i = 0; i < 50; ++i) launch();
    std::vector<float> t;
    for (int i = 0; i < 500; ++i) {
        cudaEventRecord(a);
        launch();
        cudaEventRecord(b);
        cudaEventSynchronize(b);
        float ms = 0;
        cudaEventElapsedTime(&ms, a, b);
        t.push_back(ms);
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

int main() {
    const unsigned n = 1u << 24;
    float *a, *b, *c;
    cudaMalloc(&a, n * 4);
    cudaMalloc(&b, n * 4);
    cudaMalloc(&c, n * 4);
    cudaMemset(a, 0, n * 4);
    cudaMemset(b, 0, n * 4);
    for (unsigned block : {64u, 128u, 256u, 512u, 1024u}) {
        unsigned grid = (n + block - 1) / block;
        float va = median_ms([&] { vector_add<<<grid, block>>>(a, b, c, n); });
        float sq = median_ms([&] { td::smooth_squares<2, float><<<grid, block>>>(a, c, (int)n); });
        printf("{\"block\":%u,\"vector_add_ms\":%.5f,\"templates_device_ms\":%.5f}\n", block, va, sq);
    }
    return cudaDeviceSynchronize() != cudaSuccess;
}
