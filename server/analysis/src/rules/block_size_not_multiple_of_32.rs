//! `block-size-not-multiple-of-32`: a block size that leaves the last warp
//! partly idle. Computed by [`crate::launch`].

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::{Diagnostic, Severity, Span};

pub const CODE: &str = "block-size-not-multiple-of-32";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a block size that leaves a partial warp",
    default_severity: Severity::Warning,
    category: Category::Performance,
    detects: "\
A launch (or `__launch_bounds__`, or a template argument) whose threads per block
(x × y × z) is not a multiple of 32, the warp size. Kernels with only the default
block size assumed are not reported.",
    why: "\
Threads run in warps of 32. A block of 100 threads is 4 warps, the last with 4 active
lanes and 28 idle: they occupy a warp slot, registers and issue cycles while doing
nothing. That is 12.5 % of the block's warp capacity wasted here, and the partial warp
often also breaks coalescing at the block's edge.",
    measured: "\
Exact arithmetic on the block size resolved from the launch's `<<<grid, block>>>`
(constants, macros, `dim3` and template arguments), `__launch_bounds__` or the kernel's
template parameters. A block size that does not resolve to constants is not reported,
nor a one-thread block: `<<<1, 1>>>` is a deliberate serial kernel (a flag, a scalar, a
timer), not a warp with lanes to fill; nor a kernel whose threads share out no work (no
memory access or call argument depends on the thread: a `printf` demo).",
    example: r#"
__global__ void add(float* c, const float* a, const float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    c[i] = a[i] + b[i];
}

void launch(float* c, const float* a, const float* b) {
    add<<<4096, 100>>>(c, a, b);
    //          ^^^ warning[block-size-not-multiple-of-32]: block of 100 threads is not a multiple of the warp size: the last warp runs with 28 of 32 lanes idle
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void add(float* c, const float* a, const float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    c[i] = a[i] + b[i];
}

void launch(float* c, const float* a, const float* b) {
    add<<<1600, 256>>>(c, a, b);
}
"#,
    fix: "\
Choose a block size that is a multiple of 32 (128 or 256 are good defaults; `cudalens
occupancy` or the kernel's hover shows the best one for its resources) and size the
grid to cover the problem with it, guarding the tail with `if (i < n)`.",
};

/// `from_host`: the launching function's variables the block size was
/// resolved through and their values in this configuration (`dim3
/// block(s, s)` with `s` = 4 from a caller), named so the number can be
/// traced where the launch does not spell it.
pub(crate) fn diagnostic(at: Span, threads: u64, from_host: &[(String, u32)]) -> Diagnostic {
    let with = match from_host {
        [] => String::new(),
        vars => {
            let vars: Vec<String> = vars.iter().map(|(n, v)| format!("`{n}` = {v}")).collect();
            format!(" (with {})", vars.join(", "))
        }
    };
    Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!(
            "block of {threads} threads{with} is not a multiple of the warp size: the last warp runs with {} of 32 lanes idle",
            32 - threads % 32
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::check_diagnostics;

    #[test]
    fn two_dimensional_blocks_count_all_their_threads() {
        check_diagnostics(
            r#"
__global__ void k(float* a) {
    a[threadIdx.y * 10 + threadIdx.x] = 0.0f;
}

void launch(float* a) {
    k<<<264, dim3(10, 10)>>>(a);
    //       ^^^^^^^^^^^^ warning[block-size-not-multiple-of-32]: block of 100 threads is not a multiple of the warp size: the last warp runs with 28 of 32 lanes idle
    k<<<264, dim3(16, 16)>>>(a);
}
"#,
        );
    }

    /// llm.c's `dev/cuda/matmul_forward.cu` launches with `dim3
    /// blockDim(sqrt_block_size, sqrt_block_size)`, `sqrt_block_size` one
    /// of 4, 8, 16, 32 from its callers: the 16-thread block names it.
    #[test]
    fn a_block_size_from_the_callers_names_its_variable() {
        check_diagnostics(
            r#"
__global__ void k(float* a) {
    a[threadIdx.y * 32 + threadIdx.x] = 0.0f;
}

void launch(float* a, const int side) {
    dim3 block(side, side);
    k<<<264, block>>>(a);
    //       ^^^^^ warning[block-size-not-multiple-of-32]: block of 16 threads (with `side` = 4) is not a multiple of the warp size: the last warp runs with 16 of 32 lanes idle
}

void run(float* a) {
    int sides[] = {4, 16};
    for (int j = 0; j < 2; j++) {
        int side = sides[j];
        launch(a, side);
    }
}
"#,
        );
    }

    #[test]
    fn a_one_thread_kernel_is_deliberate() {
        check_diagnostics(
            r#"
__global__ void set_flag(int* flag) { *flag = 1; }
void launch(int* flag) { set_flag<<<1, 1>>>(flag); }
"#,
        );
    }

    #[test]
    fn a_kernel_whose_threads_only_print_shares_out_no_work() {
        // The printing kernel has no lanes worth filling; the one that
        // passes its thread index to a helper does share out work.
        check_diagnostics(
            r#"
#include <cstdio>
__device__ void store(float* a, int i) { a[i] = 1.0f; }
__global__ void hello(int val) {
    printf("%d %d\n", threadIdx.x + threadIdx.y * blockDim.x, val);
}
__global__ void work(float* a) { store(a, threadIdx.x + 2 * threadIdx.y + 4 * threadIdx.z); }
void launch(float* a) {
    hello<<<1, dim3(2, 2, 2)>>>(10);
    work<<<1, dim3(2, 2, 2)>>>(a);
    //        ^^^^^^^^^^^^^ warning[block-size-not-multiple-of-32]: block of 8 threads is not a multiple of the warp size: the last warp runs with 24 of 32 lanes idle
}
"#,
        );
    }
}
