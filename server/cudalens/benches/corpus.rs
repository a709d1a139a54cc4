//! A generated, realistic CUDA file of any length for benchmarks: kernels
//! with shared tiles, loops, macros, templates, device helpers and launches
//! (shared by `benches/latency.rs` and `examples/gen_corpus.rs`).

#![allow(dead_code)] // each user takes what it needs

use std::fmt::Write as _;

/// About `lines` lines of CUDA (never fewer).
pub fn generate(lines: usize) -> String {
    let mut out = String::from(
        "// Generated benchmark corpus for cudalens.\n#include <cuda_runtime.h>\n#define TILE 32\n#define BLOCK 256\n#define IDX(i, j, n) ((i) * (n) + (j))\n\n",
    );
    let mut unit = 0;
    while out.lines().count() < lines {
        unit_source(&mut out, unit);
        unit += 1;
    }
    out
}

fn unit_source(out: &mut String, n: usize) {
    let _ = write!(
        out,
        r#"// ---- unit {n}: transpose, reduction, stencil and saxpy kernels ----
__device__ __forceinline__ float clamp_{n}(float v, float lo, float hi) {{
  return v < lo ? lo : (v > hi ? hi : v);
}}

__global__ void transpose_{n}(float* out, const float* in, int width) {{
  __shared__ float tile[TILE][TILE];
  int x = blockIdx.x * TILE + threadIdx.x;
  int y = blockIdx.y * TILE + threadIdx.y;
  tile[threadIdx.y][threadIdx.x] = in[IDX(y, x, width)];
  __syncthreads();
  x = blockIdx.y * TILE + threadIdx.x;
  y = blockIdx.x * TILE + threadIdx.y;
  out[IDX(y, x, width)] = tile[threadIdx.x][threadIdx.y];
}}

template <int BS>
__global__ void __launch_bounds__(BS) reduce_{n}(const float* __restrict__ in, float* out, int count) {{
  __shared__ float partial[BS];
  unsigned int tid = threadIdx.x;
  unsigned int i = blockIdx.x * BS + tid;
  partial[tid] = i < count ? in[i] : 0.0f;
  __syncthreads();
  for (unsigned int s = BS / 2; s > 0; s >>= 1) {{
    if (tid < s) partial[tid] += partial[tid + s];
    __syncthreads();
  }}
  if (tid == 0) atomicAdd(out, partial[0]);
}}

__global__ void stencil_{n}(const float* in, float* out, int count) {{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i > 0 && i < count - 1) {{
    out[i] = clamp_{n}(0.25f * in[i - 1] + 0.5f * in[i] + 0.25f * in[i + 1], -1.0f, 1.0f);
  }}
}}

__global__ void saxpy_{n}(int count, float a, const float* x, float* y) {{
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < count; i += blockDim.x * gridDim.x) {{
    y[i] = a * x[i * 2] + y[i];
  }}
}}

void launch_{n}(float* a, float* b, int count) {{
  dim3 block(TILE, TILE);
  dim3 grid(count / TILE, count / TILE);
  transpose_{n}<<<grid, block>>>(b, a, count);
  reduce_{n}<BLOCK><<<(count + BLOCK - 1) / BLOCK, BLOCK>>>(a, b, count);
  stencil_{n}<<<(count + 127) / 128, 128>>>(a, b, count);
  saxpy_{n}<<<264, 1000>>>(count, 2.0f, a, b);
}}

"#
    );
}
