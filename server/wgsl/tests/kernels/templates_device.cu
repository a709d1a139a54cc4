// Templates and device functions: a value function, a pointer-taking device
// function (specialized per buffer), a template kernel instantiated from its launch.
template <typename T>
__device__ T square(T v) {
    return v * v;
}

__device__ float load_or(const float* p, int i, int n, float fallback) {
    if (i < 0 || i >= n) return fallback;
    return p[i];
}

__device__ void accumulate(float* dst, int i, float v) {
    dst[i] += v;
}

template <int RADIUS, typename T>
__global__ void smooth_squares(const T* in, T* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    T acc = 0;
    for (int d = -RADIUS; d <= RADIUS; d++) {
        acc += square(load_or(in, i + d, n, 0.0f));
    }
    out[i] = acc / (2 * RADIUS + 1);
    accumulate(out, i, 1.0f);
}

void run(const float* in, float* out, int n) {
    smooth_squares<2, float><<<(n + 127) / 128, 128>>>(in, out, n);
}
