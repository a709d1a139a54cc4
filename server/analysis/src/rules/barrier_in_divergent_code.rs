//! `barrier-in-divergent-code`: a `__syncthreads()` only some threads of a
//! block reach. Computed by [`crate::lints`].

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::{Diagnostic, Severity, Span};

pub const CODE: &str = "barrier-in-divergent-code";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "__syncthreads() reachable by only some threads of a block",
    default_severity: Severity::Warning,
    category: Category::Correctness,
    detects: "\
A block-wide barrier (`__syncthreads()` and its `_count`/`_and`/`_or` forms) inside a
branch or loop whose condition depends on the thread index, or after an early `return`
taken by only some threads; also a call of a device function that reaches such a
barrier (in its body or in a function it calls), made under such a condition or after
such a return.",
    why: "\
Every thread of the block must reach the same `__syncthreads()`. When some threads
skip it the behaviour is undefined: the block can hang, or the barrier releases early
and threads read shared memory their neighbours have not written yet. It often works
on one GPU and fails on the next.",
    measured: "\
Statically, with no hardware ground truth, walking the kernel in order: a value is
thread-dependent at a point when it is computed there from `threadIdx` or
`thread_rank()` (directly, or through variables assigned before that point, including
loop variables); a condition on such a value makes its branches divergent. Uniform:
kernel and template parameters, `blockIdx`/`blockDim`/`gridDim`, `__shared__`
variables and a kernel's pointer parameters (one object for the block: `flag[blockIdx.x]`
is uniform, `a[threadIdx.x]` is not), the result of `__syncthreads_or/and/count`, a
variable re-assigned a uniform value, a loop whose start and bound shift by the same
thread-dependent term (`for (t = base + tid; t < end + tid; t += C)`: the trip count is
uniform), and returns inside a uniform branch that returns on every path. Never
taken: `threadIdx.y >= k` when every launch of the kernel in the file makes
`blockDim.y` at most `k` (the same never-reassigned caller variable bound to the
kernel's `k`, or a template argument equal to the `case` of `switch (k)` the launch
sits in); a kernel launched nowhere in the file keeps such a condition. Barriers:
`__syncthreads*`, and `.sync()`/`cg::sync()` of a cooperative-groups thread block or
grid (a `tiled_partition` tile's `.sync()` is a warp barrier, not reported here),
also as a handle parameter of a device function; a call of a device function that
reaches one of these (up to four calls deep) counts as a barrier where it is made, with
the same uniformity of its condition. Inside the file's device functions a kernel
calls, a barrier under the function's own thread-dependent condition or after its own
thread-dependent return is reported too (its parameters count as uniform). Not
reported: a thread-dependent `if` both of whose branches reach a barrier (every thread
arrives at one).
Precision on labelled real code: see `tests/realworld` (issue 18).",
    example: r#"
__global__ void block_sum(float* out, const float* in) {
    __shared__ float partial[256];
    partial[threadIdx.x] = in[blockIdx.x * 256 + threadIdx.x];
    __syncthreads();
    if (threadIdx.x < 128) {
        partial[threadIdx.x] += partial[threadIdx.x + 128];
        __syncthreads();
      //^^^^^^^^^^^^^^^ warning[barrier-in-divergent-code]: __syncthreads() inside a condition that depends on threadIdx: threads that skip it never arrive, so the block can deadlock or read stale shared memory
    }
    if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void block_sum(float* out, const float* in) {
    __shared__ float partial[256];
    partial[threadIdx.x] = in[blockIdx.x * 256 + threadIdx.x];
    __syncthreads();
    if (threadIdx.x < 128) {
        partial[threadIdx.x] += partial[threadIdx.x + 128];
    }
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
}
"#,
    fix: "\
Move the barrier out of the branch so that every thread reaches it, guarding only the
work: `if (tid < n) work(); __syncthreads();` instead of an early `return`.",
};

/// A barrier under the thread-dependent condition at `condition`.
pub(crate) fn under_condition(at: Span, callee: &str, condition: Span) -> Diagnostic {
    Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!("{callee}() inside a condition that depends on threadIdx: threads that skip it never arrive, so the block can deadlock or read stale shared memory"),
    )
    .with_related(condition, "the thread-dependent condition")
}

/// A barrier after the thread-dependent early return at `ret`.
pub(crate) fn after_early_return(at: Span, callee: &str, ret: Span) -> Diagnostic {
    Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!("{callee}() after a thread-dependent early return: the threads that returned never arrive at this barrier (undefined behaviour; guard the work instead of returning)"),
    )
    .with_related(ret, "the early return")
}

/// What a call of a function that reaches a barrier says of it.
fn reaching(b: &crate::groups::BarrierInside) -> String {
    if b.within == b.function {
        format!("`{}()` calls {}()", b.function, b.barrier)
    } else {
        format!(
            "`{}()` reaches {}() (in `{}`)",
            b.function, b.barrier, b.within
        )
    }
}

/// A call of a device function that reaches a barrier, under the
/// thread-dependent condition at `condition`.
pub(crate) fn call_under_condition(
    at: Span,
    b: &crate::groups::BarrierInside,
    condition: Span,
) -> Diagnostic {
    let d = Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!("{} inside a condition that depends on threadIdx: threads that skip the call never arrive at that barrier, so the block can deadlock or read stale shared memory", reaching(b)),
    )
    .with_related(condition, "the thread-dependent condition");
    with_barrier(d, b)
}

/// A call of a device function that reaches a barrier, after the
/// thread-dependent early return at `ret`.
pub(crate) fn call_after_early_return(
    at: Span,
    b: &crate::groups::BarrierInside,
    ret: Span,
) -> Diagnostic {
    let d = Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!("{} after a thread-dependent early return: the threads that returned never arrive at that barrier (undefined behaviour; guard the work instead of returning)", reaching(b)),
    )
    .with_related(ret, "the early return");
    with_barrier(d, b)
}

fn with_barrier(d: Diagnostic, b: &crate::groups::BarrierInside) -> Diagnostic {
    match b.span {
        Some(span) => d.with_related(span, format!("the barrier in `{}`", b.within)),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::check_diagnostics;

    /// A device function that reaches a barrier is a barrier where it is
    /// called: under a thread-dependent condition, or after a
    /// thread-dependent return, some threads never arrive at it.
    #[test]
    fn a_barrier_inside_a_called_device_function_is_seen_at_the_call() {
        check_diagnostics(
            r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__device__ void stage(float* s, const float* a, int i) {
    s[threadIdx.x] = a[i];
    __syncthreads();
}
__device__ void wait_all(cg::thread_block block) { block.sync(); }
__device__ void step(cg::thread_block block) { wait_all(block); }
__global__ void k(float* a, int n) {
    __shared__ float s[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        stage(s, a, i);
      //^^^^^^^^^^^^^^ warning[barrier-in-divergent-code]: `stage()` calls __syncthreads() inside a condition that depends on threadIdx: threads that skip the call never arrive at that barrier, so the block can deadlock or read stale shared memory
    }
    cg::thread_block block = cg::this_thread_block();
    if (threadIdx.x >= n) return;
    step(block);
  //^^^^^^^^^^^ warning[barrier-in-divergent-code]: `step()` reaches block.sync() (in `wait_all`) after a thread-dependent early return: the threads that returned never arrive at that barrier (undefined behaviour; guard the work instead of returning)
    a[i] = s[255 - threadIdx.x];
}
"#,
        );
    }

    /// Inside a device function the kernel calls, the function's own
    /// thread-dependent condition makes its barrier divergent; its loops
    /// over parameters, conditions on the block index and a condition both
    /// of whose branches reach a barrier do not.
    #[test]
    fn a_barrier_under_a_called_functions_own_condition() {
        check_diagnostics(
            r#"
__device__ void tail(float* s) {
    if (threadIdx.x < 32) {
        s[threadIdx.x] += s[threadIdx.x + 32];
        __syncthreads();
      //^^^^^^^^^^^^^^^ warning[barrier-in-divergent-code]: __syncthreads() inside a condition that depends on threadIdx: threads that skip it never arrive, so the block can deadlock or read stale shared memory
    }
}
__device__ void uniform_steps(float* s, int n) {
    for (int i = 0; i < n; ++i) {
        s[threadIdx.x] += 1.0f;
        __syncthreads();
    }
    if (blockIdx.x == 0) {
        __syncthreads();
    }
    // Both branches arrive at a barrier: every thread arrives once.
    if (threadIdx.x / 32 == 0) {
        s[threadIdx.x] *= 2.0f;
        __syncthreads();
    } else {
        __syncthreads();
    }
}
__global__ void k(float* a, int n) {
    __shared__ float s[256];
    s[threadIdx.x] = a[threadIdx.x];
    __syncthreads();
    tail(s);
    uniform_steps(s, n);
    a[threadIdx.x] = s[threadIdx.x];
}
"#,
        );
    }

    /// Calls of such a function under block-uniform conditions (the block
    /// index, a kernel parameter, a loop whose trip count is the same for
    /// every thread) and calls of functions without a barrier are fine.
    #[test]
    fn a_called_barrier_under_uniform_conditions_is_silent() {
        check_diagnostics(
            r#"
__device__ void stage(float* s, const float* a, int i) {
    s[threadIdx.x] = a[i];
    __syncthreads();
}
__device__ float twice(float x) { return 2.0f * x; }
__global__ void k(float* a, int n, int rounds) {
    __shared__ float s[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (blockIdx.x < n) {
        stage(s, a, i);
    }
    if (rounds > 2) {
        stage(s, a, i);
    }
    for (int r = threadIdx.x; r < rounds + threadIdx.x; r += 1) {
        stage(s, a, i);
    }
    if (i < n) {
        a[i] = twice(s[255 - threadIdx.x]);
    }
}
"#,
        );
    }

    #[test]
    fn an_early_return_makes_the_rest_divergent() {
        check_diagnostics(
            r#"
__global__ void k(float* a, int n) {
    __shared__ float s[256];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    s[threadIdx.x] = a[i];
    __syncthreads();
  //^^^^^^^^^^^^^^^ warning[barrier-in-divergent-code]: __syncthreads() after a thread-dependent early return: the threads that returned never arrive at this barrier (undefined behaviour; guard the work instead of returning)
    a[i] = s[255 - threadIdx.x];
}
"#,
        );
    }

    #[test]
    fn a_condition_on_the_block_index_is_uniform() {
        check_diagnostics(
            r#"
__global__ void k(float* a) {
    __shared__ float s[256];
    if (blockIdx.x > 0) {
        s[threadIdx.x] = a[threadIdx.x];
        __syncthreads();
        a[threadIdx.x] = s[255 - threadIdx.x];
    }
}
"#,
        );
    }

    #[test]
    fn a_loop_shifted_by_the_thread_keeps_a_uniform_trip_count() {
        // Start and end both move by threadIdx.x: every thread runs the same
        // number of iterations, so every thread reaches both barriers.
        check_diagnostics(
            r#"
__global__ void k(float* out, const float* in, int T, int C) {
    __shared__ float s[256];
    const int tid = threadIdx.x;
    for (int t = blockIdx.x * C + tid; t < (blockIdx.x + T) * C + tid; t += C) {
        __syncthreads();
        s[tid] = in[t];
        __syncthreads();
        out[t] = s[(tid + 1) % 256];
    }
}
"#,
        );
    }

    #[test]
    fn a_loop_whose_trip_count_depends_on_the_thread_is_divergent() {
        check_diagnostics(
            r#"
__global__ void k(float* a, int n) {
    for (int i = threadIdx.x; i < n; i += blockDim.x) {
        a[i] += 1.0f;
        __syncthreads();
      //^^^^^^^^^^^^^^^ warning[barrier-in-divergent-code]: __syncthreads() inside a condition that depends on threadIdx: threads that skip it never arrive, so the block can deadlock or read stale shared memory
    }
}
"#,
        );
    }

    #[test]
    fn block_votes_and_shared_flags_are_block_uniform() {
        // The result of __syncthreads_or is the same in every thread, and a
        // __shared__ flag set by thread 0 before a barrier reads the same in all.
        check_diagnostics(
            r#"
__global__ void k(float* a, int* counter, int max_iter) {
    __shared__ int done;
    __shared__ float s[256];
    if (threadIdx.x == 0) done = 0;
    __syncthreads();
    int it = 0;
    while (!done && it < max_iter) {
        s[threadIdx.x] = a[threadIdx.x];
        __syncthreads();
        if (threadIdx.x == 0 && s[0] < 1.0f) done = 1;
        __syncthreads();
        it++;
    }
    bool last = false;
    if (threadIdx.x == 0) last = atomicAdd(counter, 1) == 7;
    if (__syncthreads_or(last)) {
        s[threadIdx.x] = 0.0f;
        __syncthreads();
        a[threadIdx.x] = s[255 - threadIdx.x];
    }
}
"#,
        );
    }

    #[test]
    fn returns_inside_a_uniform_branch_that_always_returns() {
        // The thread-dependent returns are in a branch on a kernel parameter
        // that ends in `return` for every thread that takes it.
        check_diagnostics(
            r#"
__global__ void k(float* dst, const int* ids, int n) {
    __shared__ int s[64];
    if (!ids) {
        if (threadIdx.x >= n) {
            return;
        }
        dst[threadIdx.x] += 1.0f;
        return;
    }
    s[threadIdx.x % 64] = ids[threadIdx.x];
    __syncthreads();
    dst[threadIdx.x] = s[(threadIdx.x + 1) % 64];
}
"#,
        );
    }

    #[test]
    fn cooperative_groups_barriers_are_barriers() {
        check_diagnostics(
            r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void k(float* a) {
    cg::thread_block block = cg::this_thread_block();
    if (threadIdx.x < 16) {
        block.sync();
      //^^^^^^^^^^^^ warning[barrier-in-divergent-code]: block.sync() inside a condition that depends on threadIdx: threads that skip it never arrive, so the block can deadlock or read stale shared memory
    }
    a[block.thread_rank()] = 0.0f;
}
"#,
        );
    }

    #[test]
    fn a_counter_reused_for_a_uniform_loop_is_uniform_there() {
        // `i` first walks the block's elements (thread-dependent), then is
        // reset to a constant for a tree reduction every thread runs.
        check_diagnostics(
            r#"
__global__ void k(float* a, int n) {
    __shared__ float s[256];
    int i;
    float acc = 0.0f;
    for (i = threadIdx.x; i < n; i += blockDim.x) acc += a[i];
    s[threadIdx.x] = acc;
    __syncthreads();
    for (i = 128; i > 0; i /= 2) {
        if (threadIdx.x < i) s[threadIdx.x] += s[threadIdx.x + i];
        __syncthreads();
    }
    for (int j = threadIdx.x; j < n; j += 32) a[j] = s[0];
    for (int j = blockDim.y / 2; j > 0; j /= 2) {
        __syncthreads();
    }
}
"#,
        );
    }

    #[test]
    fn a_loop_over_the_shape_of_a_thread_partition_is_uniform() {
        // The partition's data depends on the thread, its shape does not.
        check_diagnostics(
            r#"
__global__ void k(float* out, const float* in) {
    __shared__ float s[256];
    auto part = local_partition(in, threadIdx.x);
    auto K_TILE_MAX = size<2>(part);
    for (int k_tile = 0; k_tile < K_TILE_MAX; ++k_tile) {
        s[threadIdx.x] = in[k_tile * 256 + threadIdx.x];
        __syncthreads();
        out[threadIdx.x] += s[255 - threadIdx.x];
        __syncthreads();
    }
}
"#,
        );
    }

    #[test]
    fn a_return_the_launches_block_size_never_takes() {
        // Every launch in the file makes blockDim.y equal to the kernel's k
        // (the same caller variable, or the template argument of the case
        // the launch sits in), so threadIdx.y >= k never holds. A launch
        // with one more row than k makes it hold for the last row.
        check_diagnostics(
            r#"
template <int k_template>
__global__ void solve(float* x, const float* a, int k_arg) {
    const int k = k_template == 0 ? k_arg : k_template;
    const int col = threadIdx.y;
    if (col >= k) {
        return;
    }
    __shared__ float s[1024];
    s[threadIdx.y * 32 + threadIdx.x] = a[threadIdx.y * 32 + threadIdx.x];
    __syncthreads();
    x[threadIdx.y * 32 + threadIdx.x] = s[threadIdx.y * 32 + 31 - threadIdx.x];
}
template <int k_template>
__global__ void loose(float* x, int k) {
    if (threadIdx.y >= k) return;
    __syncthreads();
  //^^^^^^^^^^^^^^^ warning[barrier-in-divergent-code]: __syncthreads() after a thread-dependent early return: the threads that returned never arrive at this barrier (undefined behaviour; guard the work instead of returning)
    x[threadIdx.x] = 1.0f;
}
void run(float* x, const float* a, int k) {
    dim3 threads(32, k);
    switch (k) {
        case 16:
            solve<16><<<4, threads>>>(x, a, 0);
            break;
        case 8:
            solve<8><<<4, threads>>>(x, a, 0);
            break;
        default:
            solve<0><<<4, threads>>>(x, a, k);
    }
    loose<0><<<4, dim3(32, k + 1)>>>(x, k);
}
"#,
        );
    }
}
