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
tracked per array with their index; a read whose index differs from every write's own
(thread-private) index is reported, once per read. Loops are walked twice to catch
races between iterations. Barriers are `__syncthreads*` and the `.sync()`/`cg::sync()`
of a cooperative-groups thread block or grid; a thread's own slot is `s[i]`, its group
`s[K * i + c]` (constant `c` within `K`) or its row `s[i][*]` with `i`
thread-dependent. Known limits: warp-synchronous code (`__syncwarp`, a tile's
`.sync()`, `__shfl_*_sync`) on warp-private data and single-thread sections are not
understood. Precision on labelled real code: see `tests/realworld` (issue 18).",
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
}
