// Problem and block sizes, as PolyBench/GPU keeps them in a header.
#ifndef GEMM_CUH
#define GEMM_CUH

#define NI 1024
#define NJ 1024
#define NK 1024

#define DIM_THREAD_BLOCK_X 32
#define DIM_THREAD_BLOCK_Y 8

typedef float DATA_TYPE;

#endif
