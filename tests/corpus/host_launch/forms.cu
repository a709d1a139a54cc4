// Launch forms host code uses for grids, blocks and scalar arguments.

#define LEN (1 << 20)
#define THREADS 128
#define STEPS 40

const int WIDTH = 1000;
const float GAIN = 2.5f;

__global__ void bump(float *v, int n, int step)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] += step;
}

__global__ void fill(float *v, int n, float value)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] = value;
}

__global__ void blur(const float *in, float *out, int w, int h)
{
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) out[y * w + x] = in[y * w + x];
}

__global__ void stride_sum(const float *in, float *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    float s = 0.0f;
    for (int k = i; k < n; k += gridDim.x * blockDim.x) s += in[k];
    out[i] = s;
}

void steps(float *v)
{
    int n = LEN;
    // Round up with integers.
    int blocks = (n + THREADS - 1) / THREADS;
    for (int t = 0; t < STEPS; t++) {
        bump<<<blocks, THREADS>>>(v, n, t);
    }
}

void fills(float *v, float value)
{
    fill<<<(LEN + 255) / 256, 256>>>(v, LEN, value);
    fill<<<LEN / 64, 64>>>(v, LEN / 2, 0.0f);
}

void images(const float *in, float *out, int height)
{
    dim3 block = dim3(16, 16);
    dim3 grid = dim3((WIDTH + block.x - 1) / block.x, (height + block.y - 1) / block.y);
    blur<<<grid, block>>>(in, out, WIDTH, height);
}

void sums(const float *in, float *out)
{
    int threads = std::min(512, LEN);
    int blocks = std::max(1, std::min(LEN / threads, 1024));
    stride_sum<<<blocks, threads>>>(in, out, LEN);
}

int main(int argc, char **argv)
{
    float *v, *out;
    steps(v);
    fills(v, GAIN);
    images(v, out, argc * 100);
    sums(v, out);
    return 0;
}
