// C control flow and conversions: do/while with continue, switch with and
// without fallthrough, side effects inside expressions, compound assignment,
// ternaries with side effects, integer semantics, float atomics, math.
__device__ int collatz_steps(unsigned int x) {
    int steps = 0;
    while (x != 1 && steps < 1000) {
        x = (x % 2 == 0) ? x / 2 : 3 * x + 1;
        steps++;
    }
    return steps;
}

__global__ void control_flow(const int* in, int* out, float* total, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    int v = in[i];
    int acc = 0;
    int k = 0;
    do {
        k++;
        if (k % 3 == 0) continue;
        acc += k;
    } while (k < (v & 7));
    switch (v % 4) {
    case 0:
        acc += 10;
        break;
    case 1:
    case 2:
        acc -= 3;
        break;
    default:
        acc *= 2;
    }
    switch (v & 3) {
    case 3:
        acc += 1;
    case 2:
        acc += 2;
        break;
    default:
        acc ^= 5;
    }
    int j = 0;
    int w = in[j++] * 0;
    w += j;
    unsigned int u = (unsigned int)v;
    acc += (u >> 3) + w;
    acc += collatz_steps((unsigned int)(v & 255) + 1u);
    acc += (v < 0) ? -v : v / 3;
    acc += v % 5;
    out[i] = acc;
    atomicAdd(total, (float)acc * 0.5f);
}

void run(const int* in, int* out, float* total, int n) {
    control_flow<<<(n + 63) / 64, 64>>>(in, out, total, n);
}
