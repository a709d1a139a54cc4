// Reduction with warp shuffles: each warp reduces in registers, warp sums go
// through shared memory, the first warp reduces those. Portable to any
// subgroup size: it uses warpSize, never 32.
__device__ float warp_sum(float v) {
    for (int offset = warpSize / 2; offset > 0; offset /= 2)
        v += __shfl_down_sync(0xffffffff, v, offset);
    return v;
}

__global__ void reduce_warp_shfl(const float* g_in, float* g_out, unsigned int n) {
    __shared__ float warp_sums[256];
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    float v = (i < n) ? g_in[i] : 0.0f;
    v = warp_sum(v);
    int lane = tid % warpSize;
    int warp = tid / warpSize;
    if (lane == 0) warp_sums[warp] = v;
    __syncthreads();
    int warps = (blockDim.x + warpSize - 1) / warpSize;
    if (warp == 0) {
        float s = 0.0f;
        for (int w = lane; w < warps; w += warpSize) s += warp_sums[w];
        s = warp_sum(s);
        if (lane == 0) g_out[blockIdx.x] = s;
    }
}

void run(const float* in, float* out, unsigned int n) {
    reduce_warp_shfl<<<(n + 255) / 256, 256>>>(in, out, n);
}
