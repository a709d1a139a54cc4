// A wrapper launches; main sets the sizes and calls it. The scale factor
// is set through a pointer by pick_factor.
#include "dataset.cuh"

__global__ void scale_rows(int rows, int cols, real factor, const real *in, real *out)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    int r = blockIdx.y * blockDim.y + threadIdx.y;
    if (r < rows && c < cols) {
        out[r * COLS + c] = factor * in[r * COLS + c];
    }
}

void pick_factor(real *factor)
{
    *factor = 1.5f;
}

void run_on_gpu(int rows, int cols, real factor, const real *in_dev, real *out_dev)
{
    dim3 threads(TILE_X, TILE_Y);
    dim3 blocks((size_t)(ceil(((float)COLS) / ((float)threads.x))),
                (size_t)(ceil(((float)ROWS) / ((float)threads.y))));
    scale_rows<<<blocks, threads>>>(rows, cols, factor, in_dev, out_dev);
}

int main()
{
    int rows = ROWS;
    int cols = COLS;
    real factor;
    pick_factor(&factor);
    real *in_dev, *out_dev;
    cudaMalloc((void **)&in_dev, sizeof(real) * ROWS * COLS);
    cudaMalloc((void **)&out_dev, sizeof(real) * ROWS * COLS);
    run_on_gpu(rows, cols, factor, in_dev, out_dev);
    return 0;
}
