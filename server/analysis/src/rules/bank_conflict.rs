//! `bank-conflict`: shared-memory requests that need more wavefronts than the
//! same lanes would without conflicts. Computed by [`crate::memory`]
//! (message and the padding fix in `memory/report.rs`), judged by
//! [`crate::memory::verdict`].

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "bank-conflict";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "an N-way shared-memory bank conflict",
    default_severity: Severity::Warning,
    category: Category::Performance,
    detects: "\
A shared-memory load, store or atomic in which several lanes of a warp hit different
32-bit words of the same bank, so the request is split into several wavefronts. It is
reported as a **warning** from 4-way on average and as a note (**info**) below. The
message names the busiest bank, how many distinct words it serves, and the wavefronts
per request against the ideal.",
    why: "\
Shared memory has 32 banks, each serving one 32-bit word per cycle. Lanes reading the
same word share it (a broadcast), but N lanes reading N different words of one bank
are served one after another: an N-way conflict makes the request N times as slow.
Reading a column of a `[32][32]` float tile is the classic case: every element of a
column sits in the same bank, so the warp's read takes 32 wavefronts instead of 1.",
    measured: "\
cudalens runs the kernel symbolically for a whole thread block and computes, per warp
request, the wavefronts the hardware needs (the most distinct words on one bank,
split as the hardware splits 64- and 128-bit accesses) against the ideal for the same
lanes and access width (`ideal_wavefronts`: a conflict-free `float4` access needs 4).
An access is reported when the excess share (actual − ideal) / actual is above 15 %,
through the one verdict function every part of cudalens uses (`memory::verdict`).

On the committed ground truth (`tests/ground-truth`, Nsight Compute 2025.3 on an
H100) the wavefronts agree exactly with ncu's \"L1 Wavefronts Shared\" for all 68
(kernel, load/store) pairs of the shared-memory corpus: padded and XOR-swizzled
transposes, five reductions, 64- and 128-bit accesses, broadcasts, strides.

A loop that doubles or halves its variable up to a run-time bound (`for (size = 2;
size < n; size <<= 1)`) is judged in its first iteration only, and the message says
so. An index that a scalar argument the launch does not fix decides (`pos = 2 * tid -
(tid & (size - 1))` with `size` a parameter) is tried with that argument at each power
of two from 1 to 1024 (`memory/probe.rs`); when some of them conflict, a note (**info**)
names the values that do and those that do not, never a single claim. On the CUDA
samples measured by ncu (H100) this finds the two `scanExclusiveShared` kernels (ncu:
50% of their wavefronts excessive); what the data decides (atomics on
`s_hist[value]`, `histogram256Kernel`) stays unknown and silent.",
    example: r#"
#define TILE 32

__global__ void transpose(float* out, const float* in) {
    __shared__ float tile[TILE][TILE];
    tile[threadIdx.y][threadIdx.x] = in[threadIdx.y * TILE + threadIdx.x];
    __syncthreads();
    out[threadIdx.y * TILE + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
    //                                      ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[bank-conflict]: 32-way shared-memory bank conflict on load of tile[threadIdx.x][threadIdx.y]: every lane of the warp hits bank 0 (32 wavefronts per request, ideal 1)
}

void launch(float* out, const float* in) {
    transpose<<<264, dim3(TILE, TILE)>>>(out, in);
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
#define TILE 32

__global__ void transpose(float* out, const float* in) {
    __shared__ float tile[TILE][TILE + 1];
    tile[threadIdx.y][threadIdx.x] = in[threadIdx.y * TILE + threadIdx.x];
    __syncthreads();
    out[threadIdx.y * TILE + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}

void launch(float* out, const float* in) {
    transpose<<<264, dim3(TILE, TILE)>>>(out, in);
}
"#,
    fix: "\
Pad the tile by one column so that consecutive rows start in different banks, or
swizzle the column index (`tile[y][x ^ y]`). cudalens offers the padding when
re-analysing the padded kernel shows the conflict gone, and marks it safe (applied by
`source.fixAll.cudalens`, e.g. on save) when every use of the array indexes all its
dimensions, so the extra column is never observed. The fixed code below is the
example with that quick fix applied.",
};

#[cfg(test)]
mod tests {
    use super::super::fixture::{check_diagnostics, check_fix};

    #[test]
    fn the_offered_padding_is_the_documented_fix() {
        check_fix(super::RULE.example, super::CODE, super::RULE.fixed);
    }

    #[test]
    fn a_conflict_free_float4_access_is_not_a_conflict() {
        // Four wavefronts per request, and four is the ideal for 16-byte lanes.
        check_diagnostics(
            r#"
__global__ void copy4(float4* out, const float4* in) {
    __shared__ float4 stage[256];
    stage[threadIdx.x] = in[blockIdx.x * 256 + threadIdx.x];
    __syncthreads();
    out[blockIdx.x * 256 + threadIdx.x] = stage[threadIdx.x];
}

void launch(float4* out, const float4* in) {
    copy4<<<264, 256>>>(out, in);
}
"#,
        );
    }

    #[test]
    fn a_two_way_conflict_is_a_note() {
        check_diagnostics(
            r#"
__global__ void stride2(float* out) {
    __shared__ float s[512];
    s[threadIdx.x * 2] = 1.0f;
  //^^^^^^^^^^^^^^^^^^ info[bank-conflict]: 2-way shared-memory bank conflict on store of s[threadIdx.x * 2]: bank 0 serves 2 different words (2 wavefronts per request, ideal 1)
    __syncthreads();
    out[blockIdx.x * 256 + threadIdx.x] = s[threadIdx.x];
}

void launch(float* out) {
    stride2<<<264, 256>>>(out);
}
"#,
        );
    }

    #[test]
    fn a_doubling_loop_up_to_a_runtime_bound_is_judged_in_its_first_iteration() {
        // The CUDA samples' bitonicSortShared: `for (size = 2; size <
        // arrayLength; size <<= 1)` with `arrayLength` a kernel parameter.
        // No symbol stands for every iteration's `stride`, but the first one
        // (stride 1: `pos = 2 * threadIdx.x`) is known, and it is 2-way
        // (ncu on the H100: 46% of the kernel's wavefronts excessive). The
        // message says that later iterations were not judged.
        check_diagnostics(
            r#"
__global__ void sort_shared(unsigned* keys, unsigned n) {
    __shared__ unsigned s[1024];
    s[threadIdx.x] = keys[blockIdx.x * 1024 + threadIdx.x];
    s[threadIdx.x + 512] = keys[blockIdx.x * 1024 + threadIdx.x + 512];
    for (unsigned size = 2; size < n; size <<= 1) {
        for (unsigned stride = size / 2; stride > 0; stride >>= 1) {
            __syncthreads();
            unsigned pos = 2 * threadIdx.x - (threadIdx.x & (stride - 1));
            unsigned a = s[pos];
            //           ^^^^^^ info[bank-conflict]: 2-way shared-memory bank conflict on load of s[pos]: bank 0 serves 2 different words (2 wavefronts per request, ideal 1); judged in the first iteration of a loop whose bound is a run-time value (later iterations are not judged)
            unsigned b = s[pos + stride];
            //           ^^^^^^^^^^^^^^^ info[bank-conflict]: 2-way shared-memory bank conflict on load of s[pos + stride]: bank 1 serves 2 different words (2 wavefronts per request, ideal 1); judged in the first iteration of a loop whose bound is a run-time value (later iterations are not judged)
            if (a > b) { s[pos] = b; s[pos + stride] = a; }
            //           ^^^^^^ info[bank-conflict]: 2-way shared-memory bank conflict on store of s[pos]: bank 0 serves 2 different words (2 wavefronts per request, ideal 1); judged in the first iteration of a loop whose bound is a run-time value (later iterations are not judged)
            //                       ^^^^^^^^^^^^^^^ info[bank-conflict]: 2-way shared-memory bank conflict on store of s[pos + stride]: bank 1 serves 2 different words (2 wavefronts per request, ideal 1); judged in the first iteration of a loop whose bound is a run-time value (later iterations are not judged)
        }
    }
    __syncthreads();
    keys[blockIdx.x * 1024 + threadIdx.x] = s[threadIdx.x];
}

void launch(unsigned* keys, unsigned n) {
    sort_shared<<<n / 1024, 512>>>(keys, n);
}
"#,
        );
    }
    #[test]
    fn a_conflict_a_runtime_argument_decides_is_a_note_with_the_values() {
        // The CUDA samples' scan (`pos = 2 * tid - (tid & (size - 1))`, ncu
        // on the H100: 50% of the wavefronts excessive at the size the
        // program passes) and a stride argument: conflicts for some values
        // of an argument the launch does not fix, none for others. Each
        // power of two is tried; the note names which conflict.
        check_diagnostics(
            r#"
__device__ unsigned scan_step(unsigned v, unsigned* s, unsigned size) {
    unsigned pos = 2 * threadIdx.x - (threadIdx.x & (size - 1));
    s[pos] = v;
  //^^^^^^ info[bank-conflict]: 2-way shared-memory bank conflict on store of s[pos]: bank 0 serves 2 different words (2 wavefronts per request, ideal 1) when `size` is 1–16 — `size` is a run-time argument here: of the powers of two from 1 to 1024 tried, these conflict (the figures are for size = 1) and 32–1024 do not
    __syncthreads();
    return s[pos];
    //     ^^^^^^ info[bank-conflict]: 2-way shared-memory bank conflict on load of s[pos]: bank 0 serves 2 different words (2 wavefronts per request, ideal 1) when `size` is 1–16 — `size` is a run-time argument here: of the powers of two from 1 to 1024 tried, these conflict (the figures are for size = 1) and 32–1024 do not
}

__global__ void scan(unsigned* data, unsigned size) {
    __shared__ unsigned s[512];
    unsigned i = blockIdx.x * 256 + threadIdx.x;
    data[i] = scan_step(data[i], s, size);
}

void launch(unsigned* data, unsigned size) {
    scan<<<64, 256>>>(data, size);
}
"#,
        );
    }
}
