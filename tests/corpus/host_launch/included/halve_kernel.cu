// A kernel kept in its own file, compiled as part of the program that
// includes it (halve_main.cu launches it).
__global__ void halve(float *v, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) v[i] *= 0.5f;
}
