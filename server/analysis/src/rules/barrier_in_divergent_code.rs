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
taken by only some threads.",
    why: "\
Every thread of the block must reach the same `__syncthreads()`. When some threads
skip it the behaviour is undefined: the block can hang, or the barrier releases early
and threads read shared memory their neighbours have not written yet. It often works
on one GPU and fails on the next.",
    measured: "\
Statically, with no hardware ground truth: a value is thread-dependent when it is
computed from `threadIdx` (directly, or through variables, including loop variables);
a condition on such a value makes its branches divergent. Known limits (tracked as the
uniformity analysis of issue 18): conditions whose value is uniform although they
mention the thread index (`for (t = base + tid; t < end + tid; …)`), cooperative-groups
and named barriers, and single-thread sections are not yet understood; on the real
project code reviewed for issue 18 this rule was right 5 times in 13.",
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

#[cfg(test)]
mod tests {
    use super::super::fixture::check_diagnostics;

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
}
