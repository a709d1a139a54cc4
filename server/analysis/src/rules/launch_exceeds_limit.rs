//! `launch-exceeds-limit`: a launch the target GPU refuses to run. Computed
//! by [`crate::launch`] from the occupancy calculator's limits.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::{Diagnostic, Severity, Span};

pub const CODE: &str = "launch-exceeds-limit";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a launch exceeding a hard limit of the target GPU",
    default_severity: Severity::Error,
    category: Category::Correctness,
    detects: "\
A launch that cannot run on the target architecture (`--arch`, `cudalens.arch`): more
than 1,024 threads per block, more shared memory per block than the SM offers, or more
registers per block than the SM has.",
    why: "\
Such a launch fails at run time with `cudaErrorInvalidConfiguration` or \"too many
resources requested for launch\", and the kernel never runs. Unless every launch is
checked for errors, the program continues with whatever its output buffers held.",
    measured: "\
The limits are the architecture's documented maxima, cited in `server/occupancy`
(threads per block, shared memory per block and per SM, registers per SM and per
thread). The calculator equals the CUDA runtime on all 3,416 configurations of the H100
ground-truth sweep, including those that cannot launch. With estimated registers (no
nvcc) only limits that do not depend on registers are certain: a register limit crossed
by the estimate is a warning that says the launch *may* not run and names the estimate,
and `__launch_bounds__(T, B)` caps the estimate as nvcc caps registers (B blocks of T
threads fit the register file).",
    example: r#"
__global__ void add(float* c, const float* a, const float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    c[i] = a[i] + b[i];
}

void launch(float* c, const float* a, const float* b) {
    add<<<4096, 2048>>>(c, a, b);
    //          ^^^^ error[launch-exceeds-limit]: this launch cannot run on sm_90 (H100 SXM5): 2048 threads per block exceeds the maximum of 1024
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void add(float* c, const float* a, const float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    c[i] = a[i] + b[i];
}

void launch(float* c, const float* a, const float* b) {
    add<<<8192, 1024>>>(c, a, b);
}
"#,
    fix: "\
Stay within the limit the message names: at most 1,024 threads per block (use more
blocks instead), less shared memory per block (tile smaller, or opt in to the larger
dynamic shared memory with `cudaFuncSetAttribute` where the architecture allows), or
fewer registers (`__launch_bounds__`).",
};

/// `estimate`: the estimated register range, when only estimated registers
/// cross the limit (then a warning: the launch may run with nvcc's count).
pub(crate) fn diagnostic(
    at: Span,
    arch: &str,
    gpu: &str,
    error: &str,
    estimate: Option<(u32, u32)>,
) -> Diagnostic {
    match estimate {
        None => Diagnostic::new(
            at,
            Severity::Error,
            CODE,
            format!("this launch cannot run on {arch} ({gpu}): {error}"),
        ),
        Some((low, high)) => Diagnostic::new(
            at,
            Severity::Warning,
            CODE,
            format!(
                "this launch may not run on {arch} ({gpu}): {error} (registers estimated \
                 {low}–{high}/thread; the count from nvcc makes this exact)"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::check_diagnostics;

    #[test]
    fn too_much_dynamic_shared_memory() {
        check_diagnostics(
            r#"
__global__ void k(float* a) {
    extern __shared__ float s[];
    s[threadIdx.x] = a[threadIdx.x];
    __syncthreads();
    a[threadIdx.x] = s[threadIdx.x];
}

void launch(float* a) {
    k<<<264, 256, 300 * 1024>>>(a);
    //       ^^^ error[launch-exceeds-limit]: this launch cannot run on sm_90 (H100 SXM5): 307,200 bytes of shared memory per block exceeds the maximum of 232,448 bytes (even with the opt-in attribute)
}
"#,
        );
    }
}
