// Launch configurations changed by assignments before the launch: a grid
// component set in a loop from the loop variable, a scalar assigned before
// it, and one assigned under a condition (not followed).
#define SIDE 1000
#define BX 64

__global__ void shrink(float *a, int side, int k)
{
    int i = k + 1 + blockIdx.x * blockDim.x + threadIdx.x;
    if (i < side) a[i * side + k] /= a[k * side + k];
}

__global__ void scale(float *a, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) a[i] *= 2.0f;
}

void factor(float *a)
{
    dim3 threads(BX);
    dim3 blocks(1, 1, 1);
    int k;
    for (k = 0; k < SIDE; k++) {
        blocks.x = (unsigned int)ceil((float)(SIDE - (k + 1)) / (float)threads.x);
        shrink<<<blocks, threads>>>(a, SIDE, k);
    }
}

void scaled(float *a, int flag)
{
    int n = 10;
    n = SIDE * 4;
    int m = 256;
    if (flag) m = 512;
    scale<<<(n + m - 1) / m, 256>>>(a, n);
}

int main(int argc, char **argv)
{
    float *a;
    factor(a);
    scaled(a, argc > 1);
    return 0;
}
