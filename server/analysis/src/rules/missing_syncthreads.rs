//! `missing-syncthreads`: shared memory read by one thread after another
//! wrote it, or overwritten while others may still read it, with no barrier
//! in between. Computed by [`crate::lints`].

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::{Diagnostic, Severity, Span};

pub const CODE: &str = "missing-syncthreads";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "shared memory written by one thread and read by another without a barrier in between",
    default_severity: Severity::Warning,
    category: Category::Correctness,
    detects: "\
A read of a `__shared__` array at an index other threads wrote, with no
`__syncthreads()` on the way from the write (a read-after-write race); and a write in
a loop that overwrites what other threads read in the previous iteration, with no
barrier at the end of the loop body (a write-after-read race across iterations).",
    why: "\
Threads of a block run in no guaranteed order across warps. Without a barrier a thread
can read a slot before its owner wrote it (stale data) or overwrite a slot another
thread has not read yet. The result depends on timing: it may pass every test and fail
on another GPU, driver or block size.",
    measured: "\
Statically, with no hardware ground truth: shared accesses since the last barrier are
tracked per array (a member array of a shared struct is its own array) with their
index; a read is reported once, when some write since the last barrier may have put
another thread's data in its slot. Loops are walked twice to catch races between the
iterations of the loop (a read before the loop does not count). Barriers are
`__syncthreads*` and the `.sync()`/`cg::sync()` of a cooperative-groups thread block
or grid, and a call of a device function that reaches one. Shared accesses made inside
called device functions are not seen yet (a race through them is missed, never
invented). Not a race: a thread's own slot `s[i]`, group `s[K * i + c]` (constant `c`
within `K`), row `s[i][*]` or column `s[*][i]` with `i` thread-dependent (a local's
last assignment counts: `c = threadIdx.x`); index ranges that cannot meet (`s[j]` for
`j < i` against `s[threadIdx.x]` under `threadIdx.x > i`, the halves `s[k]` and
`s[stride + k]` for `k < stride`); a single thread (`if (threadIdx.x == 0)`) reading
back its own write, also one made through `for (i = threadIdx.x; ...; i +=
blockDim.x)`. After the lanes of a warp met (`__syncwarp()`, a tile's
`.sync()`, `__shfl_*_sync` and the other warp-wide `*_sync` intrinsics) data is taken
as warp-private unless the indices show a read of another warp's slot (`s[tid + 1]`,
`s[255 - tid]`, `s[lane]` after `s[warp_id]`). Precision on labelled real code: see
`tests/realworld` (issue 18).",
    example: r#"
__global__ void reverse(float* data) {
    __shared__ float tmp[256];
    tmp[threadIdx.x] = data[blockIdx.x * 256 + threadIdx.x];
    data[blockIdx.x * 256 + threadIdx.x] = tmp[255 - threadIdx.x];
    //                                     ^^^^^^^^^^^^^^^^^^^^^^ warning[missing-syncthreads]: `tmp` is read here after other threads wrote it with no __syncthreads() in between: this read can see stale data (insert __syncthreads() between the write and the read)
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void reverse(float* data) {
    __shared__ float tmp[256];
    tmp[threadIdx.x] = data[blockIdx.x * 256 + threadIdx.x];
    __syncthreads();
    data[blockIdx.x * 256 + threadIdx.x] = tmp[255 - threadIdx.x];
}
"#,
    fix: "\
Insert `__syncthreads()` between the write and the read (for a loop, at the end of
its body as well), reached by every thread of the block.",
};

/// A read of `array` at `at` that the write at `write` may not have reached.
pub(crate) fn read_after_write(at: Span, array: &str, write: Span) -> Diagnostic {
    Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!("`{array}` is read here after other threads wrote it with no __syncthreads() in between: this read can see stale data (insert __syncthreads() between the write and the read)"),
    )
    .with_related(write, "the shared-memory write")
}

/// A write of `array` at `at` in the next iteration while the read at `read`
/// of the previous one may still be running.
pub(crate) fn write_after_read(at: Span, array: &str, read: Span) -> Diagnostic {
    Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!("`{array}` is overwritten here in the next loop iteration while other threads may still be reading it: add __syncthreads() at the end of the loop body"),
    )
    .with_related(read, "the read of the previous iteration")
}

#[cfg(test)]
mod tests {
    use super::super::fixture::check_diagnostics;

    #[test]
    fn a_race_across_loop_iterations() {
        check_diagnostics(
            r#"
__global__ void k(float* out, const float* in, int steps) {
    __shared__ float s[256];
    float acc = 0.0f;
    for (int t = 0; t < steps; ++t) {
        s[threadIdx.x] = in[t * 256 + threadIdx.x];
      //^^^^^^^^^^^^^^ warning[missing-syncthreads]: `s` is overwritten here in the next loop iteration while other threads may still be reading it: add __syncthreads() at the end of the loop body
        __syncthreads();
        acc += s[255 - threadIdx.x];
    }
    out[threadIdx.x] = acc;
}
"#,
        );
    }

    #[test]
    fn each_thread_reading_its_own_slot_needs_no_barrier() {
        check_diagnostics(
            r#"
__global__ void k(float* a) {
    __shared__ float s[256];
    s[threadIdx.x] = a[threadIdx.x];
    a[threadIdx.x] = s[threadIdx.x] * 2.0f;
}
"#,
        );
    }

    #[test]
    fn cooperative_groups_barriers_separate_writes_and_reads() {
        check_diagnostics(
            r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void k(float* a) {
    cg::thread_block cta = cg::this_thread_block();
    auto block = cg::this_thread_block();
    __shared__ float s[256];
    s[threadIdx.x] = a[threadIdx.x];
    cg::sync(cta);
    a[threadIdx.x] = s[255 - threadIdx.x];
    block.sync();
    s[block.thread_rank()] = 2.0f * a[threadIdx.x];
    block.sync();
    a[threadIdx.x] += s[(threadIdx.x + 1) % 256];
}
"#,
        );
    }

    /// A barrier inside a called device function separates the writes
    /// before the call from the reads after it; a called function without
    /// one does not.
    #[test]
    fn a_barrier_inside_a_called_function_separates_writes_and_reads() {
        check_diagnostics(
            r#"
__device__ void wait_for_block() { __syncthreads(); }
__device__ void nothing() {}
__global__ void k(float* a) {
    __shared__ float s[256];
    s[threadIdx.x] = a[threadIdx.x];
    wait_for_block();
    a[threadIdx.x] = s[255 - threadIdx.x];
    wait_for_block();
    s[threadIdx.x] = 2.0f * a[threadIdx.x];
    nothing();
    a[threadIdx.x] += s[255 - threadIdx.x];
    //                ^^^^^^^^^^^^^^^^^^^^ warning[missing-syncthreads]: `s` is read here after other threads wrote it with no __syncthreads() in between: this read can see stale data (insert __syncthreads() between the write and the read)
}
"#,
        );
    }

    #[test]
    fn a_warp_tile_sync_is_not_a_block_barrier() {
        check_diagnostics(
            r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void k(float* a) {
    cg::thread_block block = cg::this_thread_block();
    auto warp = cg::tiled_partition<32>(block);
    __shared__ float s[256];
    s[threadIdx.x] = a[threadIdx.x];
    warp.sync();
    a[threadIdx.x] = s[255 - threadIdx.x];
    //               ^^^^^^^^^^^^^^^^^^^^ warning[missing-syncthreads]: `s` is read here after other threads wrote it with no __syncthreads() in between: this read can see stale data (insert __syncthreads() between the write and the read)
}
"#,
        );
    }

    #[test]
    fn each_thread_accumulating_into_its_thread_rank_slot() {
        check_diagnostics(
            r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void k(float* out, const float* in, int n) {
    cg::thread_block block = cg::this_thread_block();
    __shared__ float s[256];
    s[block.thread_rank()] = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        s[block.thread_rank()] += in[i];
    }
    cg::sync(block);
    if (threadIdx.x == 0) out[blockIdx.x] = s[0] + s[1];
}
"#,
        );
    }

    #[test]
    fn each_thread_owning_a_group_or_a_row() {
        // s[4 * i + c] for c in 0..4 stays in thread i's group of 4, and
        // rows[r][*] with r thread-dependent in the thread's own row: no
        // race (the stride-4 accesses do conflict on banks).
        check_diagnostics(
            r#"
__global__ void k(float* out, const float* in, int groups) {
    __shared__ float s[1024];
    __shared__ float rows[256][33];
    for (int i = threadIdx.x; i < groups; i += blockDim.x) {
        float a = s[4 * i];
        //        ^^^^^^^^ warning[bank-conflict]: 4-way shared-memory bank conflict on load of s[4 * i]: bank 0 serves 4 different words (4 wavefronts per request, ideal 1) (block size assumed 256×1×1: no launch resolves it)
        float b = s[4 * i + 1];
        //        ^^^^^^^^^^^^ warning[bank-conflict]: 4-way shared-memory bank conflict on load of s[4 * i + 1]: bank 1 serves 4 different words (4 wavefronts per request, ideal 1) (block size assumed 256×1×1: no launch resolves it)
        s[4 * i + 1] = a + b;
      //^^^^^^^^^^^^ warning[bank-conflict]: 4-way shared-memory bank conflict on store of s[4 * i + 1]: bank 1 serves 4 different words (4 wavefronts per request, ideal 1) (block size assumed 256×1×1: no launch resolves it)
        s[4 * i + 3] += a + b;
      //^^^^^^^^^^^^ warning[bank-conflict]: 4-way shared-memory bank conflict on load of s[4 * i + 3]: bank 3 serves 4 different words (4 wavefronts per request, ideal 1) (block size assumed 256×1×1: no launch resolves it)
      //^^^^^^^^^^^^ warning[bank-conflict]: 4-way shared-memory bank conflict on store of s[4 * i + 3]: bank 3 serves 4 different words (4 wavefronts per request, ideal 1) (block size assumed 256×1×1: no launch resolves it)
    }
    int r = threadIdx.x;
    for (int j = 0; j < 32; j++) {
        for (int m = 0; m < j; m++) rows[r][j] -= rows[r][m] * in[m];
        rows[r][j] /= in[j];
    }
    __syncthreads();
    out[threadIdx.x] = s[threadIdx.x] + rows[threadIdx.x][0];
}
"#,
        );
    }
    #[test]
    fn warp_private_slots_behind_a_warp_sync() {
        // Each warp reads back only the slots its own lanes wrote
        // (i in [32 * warp, 32 * warp + 32)), after the warp's lanes met.
        check_diagnostics(
            r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void k(int* out, const int* in, int n) {
    __shared__ int idx[256];
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(cg::this_thread_block());
    idx[threadIdx.x] = in[blockIdx.x * 256 + threadIdx.x];
    warp.sync();
    int w = threadIdx.x / 32;
    for (int i = w * 32; i < w * 32 + 32; ++i) {
        out[i * n + threadIdx.x % 32] = idx[i];
    }
}
__global__ void k2(float* out, const float* in, int steps) {
    __shared__ float part[256];
    float acc = 0.0f;
    for (int t = 0; t < steps; ++t) {
        float v = __shfl_xor_sync(0xffffffff, in[t * 256 + threadIdx.x], 1);
        part[threadIdx.x] = v;
        __syncwarp();
        int lane = threadIdx.x % 32;
        acc += part[(threadIdx.x / 32) * 32 + (lane ^ 1)];
    }
    out[threadIdx.x] = acc;
}
"#,
        );
    }

    #[test]
    fn another_warps_slot_after_a_warp_sync_is_still_a_race() {
        check_diagnostics(
            r#"
__global__ void k(float* out, const float* in) {
    __shared__ float s[256];
    __shared__ float per_warp[8];
    s[threadIdx.x] = in[threadIdx.x];
    __syncwarp();
    float a = s[threadIdx.x + 1];
    //        ^^^^^^^^^^^^^^^^^^ warning[missing-syncthreads]: `s` is read here after other threads wrote it with no __syncthreads() in between: this read can see stale data (insert __syncthreads() between the write and the read)
    if (threadIdx.x % 32 == 0) per_warp[threadIdx.x / 32] = a;
    __syncwarp();
    out[threadIdx.x] = per_warp[threadIdx.x % 32];
    //                 ^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[missing-syncthreads]: `per_warp` is read here after other threads wrote it with no __syncthreads() in between: this read can see stale data (insert __syncthreads() between the write and the read)
}
"#,
        );
    }

    #[test]
    fn a_single_thread_reads_back_its_own_slot() {
        // The last step of the reduction leaves s[0] written by thread 0
        // only (s[tid] for tid < d): thread 0 reads its own write. Reading
        // s[1], written by thread 1, is a race.
        check_diagnostics(
            r#"
__global__ void k(const float* in, float* out) {
    extern __shared__ float s[];
    const int tid = threadIdx.x;
    s[tid] = in[tid];
    s[tid + blockDim.x] = in[tid + blockDim.x];
    for (int d = blockDim.x; d > 0; d /= 2) {
        __syncthreads();
        if (tid < d) {
            float a = s[tid];
            float b = s[tid + d];
            if (b < a) s[tid] = b;
        }
    }
    if (tid == 0) out[blockIdx.x] = s[0];
    if (tid == 0) out[blockIdx.x + 1] = s[1];
    //                                  ^^^^ warning[missing-syncthreads]: `s` is read here after other threads wrote it with no __syncthreads() in between: this read can see stale data (insert __syncthreads() between the write and the read)
}
"#,
        );
    }

    #[test]
    fn rows_written_and_rows_read_that_cannot_meet() {
        // Threads above i update their rows while reading rows below i
        // (j < i): disjoint. Reading up to row i + 1 (j < i + 2) meets the
        // row thread i + 1 writes, in this iteration and the next.
        check_diagnostics(
            r#"
__global__ void k(float* m) {
    __shared__ float a[16][17];
    for (int r = 0; r < 16; r++) a[r][threadIdx.x] = m[r * 16 + threadIdx.x];
    __syncthreads();
    for (int i = 0; i < 15; i++) {
        if (threadIdx.x > i) {
            for (int j = 0; j < i; j++)
                a[threadIdx.x][i] -= a[threadIdx.x][j] * a[j][i];
            a[threadIdx.x][i] /= a[i][i];
        }
        __syncthreads();
        if (threadIdx.x > i) {
            for (int j = 0; j < i + 1; j++)
                a[i + 1][threadIdx.x] -= a[i + 1][j] * a[j][threadIdx.x];
        }
        __syncthreads();
        if (threadIdx.x > i) {
            for (int j = 0; j < i + 2; j++)
                a[threadIdx.x][i] += a[j][i];
              //^^^^^^^^^^^^^^^^^ warning[missing-syncthreads]: `a` is overwritten here in the next loop iteration while other threads may still be reading it: add __syncthreads() at the end of the loop body
                //                   ^^^^^^^ warning[missing-syncthreads]: `a` is read here after other threads wrote it with no __syncthreads() in between: this read can see stale data (insert __syncthreads() between the write and the read)
        }
        __syncthreads();
    }
}
"#,
        );
    }

    #[test]
    fn the_two_halves_of_a_tree_reduction_step() {
        // Each step adds the upper half [stride, 2 * stride) into the lower
        // [0, stride): no slot is both written and read within a step.
        check_diagnostics(
            r#"
__global__ void k(float* out, const float* in) {
    __shared__ float acc[1024];
    for (int i = threadIdx.x; i < 1024; i += blockDim.x) acc[i] = in[i];
    for (int stride = 512; stride > 0; stride >>= 1) {
        __syncthreads();
        for (int i = threadIdx.x; i < stride; i += blockDim.x)
            acc[i] += acc[stride + i];
    }
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = acc[0];
}
"#,
        );
    }

    #[test]
    fn a_write_after_read_race_across_iterations_through_cooperative_groups() {
        // Each warp writes its partial sum to slot [warp] while every warp
        // reads slots [lane] of the previous iteration: with no barrier at
        // the end of the loop body a fast warp overwrites a slot a slow warp
        // has not read yet.
        check_diagnostics(
            r#"
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
namespace cg = cooperative_groups;
__global__ void k(float* out, const float* in, int T) {
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    __shared__ float block_acc[32];
    if (warp.meta_group_rank() == 0) block_acc[warp.thread_rank()] = 0;
    for (int t = 0; t < T; ++t) {
        float v = in[t * 1024 + block.thread_rank()];
        block_acc[warp.meta_group_rank()] = cg::reduce(warp, v, cg::plus<float>{});
      //^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[missing-syncthreads]: `block_acc` is overwritten here in the next loop iteration while other threads may still be reading it: add __syncthreads() at the end of the loop body
        block.sync();
        out[t] = cg::reduce(warp, block_acc[warp.thread_rank()], cg::plus<float>{});
    }
}
"#,
        );
    }

    #[test]
    fn reads_before_a_loop_and_other_members_are_not_loop_carried() {
        // The reads of `in_counts` happen before the loop and in another
        // member of the shared struct: the loop's writes to `out_counts[tid]`
        // race with neither.
        check_diagnostics(
            r#"
__global__ void k(int* out, int tracks) {
    __shared__ struct { int in_counts[256]; int out_counts[256]; } st;
    st.in_counts[threadIdx.x] = out[threadIdx.x];
    __syncthreads();
    int c = st.in_counts[255 - threadIdx.x];
    for (int t = 0; t < tracks; ++t) {
        st.out_counts[threadIdx.x] = c + t;
    }
    __syncthreads();
    out[threadIdx.x] = st.out_counts[255 - threadIdx.x];
}
"#,
        );
    }

    #[test]
    fn a_thread_owning_a_column_or_its_block_strided_slots() {
        // Each thread updates its own column cols[*][c]; thread 0 reads
        // back acc[0], which only thread 0 writes (i = threadIdx.x, stepping
        // by blockDim.x). Thread 0 reading acc[1], written by thread 1 in the
        // next iteration, races.
        check_diagnostics(
            r#"
__global__ void k(float* out, const float* in, int n, int rounds) {
    __shared__ float cols[16][17];
    __shared__ float acc[256];
    int c;
    if (threadIdx.x < 16) {
        c = threadIdx.x;
        for (int i = 1; i < 16; i++)
            for (int j = 0; j < i; j++)
                cols[i][c] -= in[i * 16 + j] * cols[j][c];
    } else {
        c = threadIdx.x - 16;
    }
    for (int r = 0; r < rounds; r++) {
        for (int i = threadIdx.x; i < 256; i += blockDim.x)
            acc[i] = in[r * 256 + i];
          //^^^^^^ warning[missing-syncthreads]: `acc` is overwritten here in the next loop iteration while other threads may still be reading it: add __syncthreads() at the end of the loop body
        __syncthreads();
        if (threadIdx.x == 0) out[r] = acc[0] + acc[1];
    }
}
"#,
        );
    }

    #[test]
    fn a_long_chain_of_shared_definitions_is_cut_short() {
        // Each definition uses the previous one twice: expanding them all
        // would take 2^40 steps; the index's form gives up instead.
        check_diagnostics(
            r#"
__global__ void k(float* out) {
    __shared__ float s[256];
    int a0 = threadIdx.x;
    int a1 = a0 + a0;
    int a2 = a1 + a1;
    int a3 = a2 + a2;
    int a4 = a3 + a3;
    int a5 = a4 + a4;
    int a6 = a5 + a5;
    int a7 = a6 + a6;
    int a8 = a7 + a7;
    int a9 = a8 + a8;
    int a10 = a9 + a9;
    int a11 = a10 + a10;
    int a12 = a11 + a11;
    int a13 = a12 + a12;
    int a14 = a13 + a13;
    int a15 = a14 + a14;
    int a16 = a15 + a15;
    int a17 = a16 + a16;
    int a18 = a17 + a17;
    int a19 = a18 + a18;
    int a20 = a19 + a19;
    int a21 = a20 + a20;
    int a22 = a21 + a21;
    int a23 = a22 + a22;
    int a24 = a23 + a23;
    int a25 = a24 + a24;
    int a26 = a25 + a25;
    int a27 = a26 + a26;
    int a28 = a27 + a27;
    int a29 = a28 + a28;
    int a30 = a29 + a29;
    int a31 = a30 + a30;
    int a32 = a31 + a31;
    int a33 = a32 + a32;
    int a34 = a33 + a33;
    int a35 = a34 + a34;
    int a36 = a35 + a35;
    int a37 = a36 + a36;
    int a38 = a37 + a37;
    int a39 = a38 + a38;
    int a40 = a39 + a39;
    s[a40 % 256] = 1.0f;
    out[threadIdx.x] = s[a40 % 256];
}
"#,
        );
    }
}
