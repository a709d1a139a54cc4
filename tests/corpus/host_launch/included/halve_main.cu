#include "halve_kernel.cu"

#define COUNT 5000

int main()
{
    float *v;
    int n = COUNT;
    int threads = 128;
    halve<<<(n + threads - 1) / threads, threads>>>(v, n);
    return 0;
}
