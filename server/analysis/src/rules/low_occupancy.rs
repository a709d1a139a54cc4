//! `low-occupancy`: theoretical occupancy of a launch below
//! `occupancyThreshold`. Computed by [`crate::launch`] with the
//! `cudalens-occupancy` calculator.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::{Diagnostic, Severity, Span};

pub const CODE: &str = "low-occupancy";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "theoretical occupancy below the configured threshold",
    default_severity: Severity::Warning,
    category: Category::Performance,
    detects: "\
A launch (or, for a kernel launched nowhere in the file, its assumed block size) at
which the kernel's theoretical occupancy — resident warps per SM over the SM's maximum
— is below `occupancyThreshold` (default 0.5, `--occupancy-threshold`). The message
names the limiting resource (registers, shared memory, warps, blocks per SM, barriers)
and how much of it each block uses.",
    why: "\
A GPU hides memory latency by switching between resident warps. With few warps per SM
there is nothing to switch to while a warp waits on memory, and a latency-bound kernel
runs proportionally slower. Occupancy is not the goal in itself (a kernel with enough
instruction-level parallelism can run well at 25 %), which is why the threshold is a
setting.",
    measured: "\
The `cudalens-occupancy` calculator reproduces the CUDA occupancy calculator from the
architecture tables (each entry cited in `server/occupancy`); it equals
`cudaOccupancyMaxActiveBlocksPerMultiprocessor` on all 3,416 configurations of an H100
ground-truth sweep, and with nvcc's register counts the occupancy equals Nsight
Compute's on all 37 kernels of the committed corpus. Block size, dynamic shared memory
and static shared arrays come from the source. Registers come from `nvcc
--resource-usage` when nvcc is available (the editor does this in the background);
otherwise they are estimated from the kernel's size and the message says so with the
estimated range. Estimates are off by up to 2x either way on real kernels, so when the
limiting resource is an *estimated* register count nothing is reported (on the real
code labelled for issue 18 all 17 such warnings were unconfirmable): run with nvcc on
PATH for those kernels.",
    example: r#"
__global__ void stage(float* out, const float* in) {
    extern __shared__ float staging[];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    staging[threadIdx.x] = in[i];
    __syncthreads();
    out[i] = staging[threadIdx.x] * 2.0f;
}

void launch(float* out, const float* in) {
    stage<<<1024, 256, 96 * 1024>>>(out, in);
  //^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[low-occupancy]: occupancy 25% (16/64 warps) — limited by shared memory: 98,304 B/block (registers estimated 6–28/thread; the count from nvcc makes this exact)
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void stage(float* out, const float* in) {
    extern __shared__ float staging[];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    staging[threadIdx.x] = in[i];
    __syncthreads();
    out[i] = staging[threadIdx.x] * 2.0f;
}

void launch(float* out, const float* in) {
    stage<<<1024, 256, 256 * sizeof(float)>>>(out, in);
}
"#,
    fix: "\
Use less of the limiting resource per block: here the launch asked for 96 KB of
dynamic shared memory where the kernel uses one float per thread. For registers,
`__launch_bounds__(threads)` lets the compiler budget registers for the block size
(cudalens offers to add it), or simplify the kernel; a different block size can
reach more warps (cudalens offers the block size that maximises occupancy for the
kernel's resources). Both quick fixes are suggestions, never applied on save.",
};

/// The diagnostic at `at`: the calculator's summary line, why the block size
/// is what it is (`assumed`) and whether the registers are estimated.
pub(crate) fn diagnostic(
    at: Span,
    summary: String,
    assumed: &str,
    estimated: String,
) -> Diagnostic {
    Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!("{summary}{assumed}{estimated}"),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{check_diagnostics, check_diagnostics_with};
    use crate::AnalysisConfig;

    #[test]
    fn an_estimated_register_count_is_not_a_finding() {
        // Enough live values for the estimate to limit occupancy at 1024
        // threads; without nvcc's count this is a guess, not a claim.
        let mut body = String::new();
        for i in 0..96 {
            body.push_str(&format!(
                "    float v{i} = in[threadIdx.x + {i}] * {i}.0f;\n"
            ));
        }
        let sum: Vec<String> = (0..96).map(|i| format!("v{i}")).collect();
        let text = format!(
            "__global__ void heavy(float* out, const float* in) {{\n{body}    out[threadIdx.x] = {};\n}}\nvoid h(float* o, const float* i) {{ heavy<<<4096, 1024>>>(o, i); }}\n",
            sum.join(" + ")
        );
        let config = AnalysisConfig {
            occupancy_threshold: 0.99,
            ..AnalysisConfig::default()
        };
        let analysis = super::super::fixture::analyse(&text, &config);
        assert!(
            !analysis.diagnostics.iter().any(|d| d.code == super::CODE),
            "{:?}",
            analysis.diagnostics
        );
    }

    #[test]
    fn a_kernel_launched_nowhere_is_judged_at_the_assumed_block_size() {
        let text = r#"
__global__ void stage(float* out, const float* in) {
    __shared__ float big[12288];
    big[threadIdx.x] = in[threadIdx.x];
    __syncthreads();
    out[threadIdx.x] = big[threadIdx.x];
}
"#;
        // 48 KB per block: 4 blocks, 32 of 64 warps. Silent at the default threshold of 50 %.
        check_diagnostics(text);
        let config = AnalysisConfig {
            occupancy_threshold: 0.75,
            ..AnalysisConfig::default()
        };
        check_diagnostics_with(
            r#"
__global__ void stage(float* out, const float* in) {
//              ^^^^^ warning[low-occupancy]: occupancy 50% (32/64 warps) — limited by shared memory: 49,152 B/block (block size assumed: no launch in this file; set it with cudalens.defaultBlockSize, or --block in the CLI) (registers estimated 6–28/thread; the count from nvcc makes this exact)
    __shared__ float big[12288];
    big[threadIdx.x] = in[threadIdx.x];
    __syncthreads();
    out[threadIdx.x] = big[threadIdx.x];
}
"#,
            &config,
        );
    }

    #[test]
    fn dynamic_shared_memory_of_a_run_time_size_makes_it_an_upper_bound() {
        // Uncounted dynamic shared memory can only lower the occupancy: the
        // finding says "at most" and names what was not counted.
        let config = AnalysisConfig {
            occupancy_threshold: 0.75,
            ..AnalysisConfig::default()
        };
        check_diagnostics_with(
            r#"
__global__ void stage(float* out, const float* in) {
    __shared__ float big[12288];
    extern __shared__ float more[];
    big[threadIdx.x] = in[threadIdx.x];
    more[threadIdx.x] = in[threadIdx.x];
    __syncthreads();
    out[threadIdx.x] = big[threadIdx.x] + more[threadIdx.x];
}
void run(float* out, const float* in, int bytes) {
    stage<<<264, 256, bytes>>>(out, in);
  //^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[low-occupancy]: occupancy at most 50% (32/64 warps) — limited by shared memory: 49,152 B/block (`bytes`, the dynamic shared memory, is set at run time and not counted) (registers estimated 6–28/thread; the count from nvcc makes this exact)
}
"#,
            &config,
        );
    }

    #[test]
    fn a_launch_whose_block_size_is_a_runtime_value_is_named_as_such() {
        // The kernel is launched, with a block size only known at run time:
        // the message says so at the launch, and the finding in the kernel
        // names that launch's line, instead of "no launch in this file".
        let config = AnalysisConfig {
            occupancy_threshold: 0.75,
            ..AnalysisConfig::default()
        };
        check_diagnostics_with(
            r#"
__global__ void stage(float* out, const float* in) {
    __shared__ float big[12288];
    big[threadIdx.x] = in[threadIdx.x];
    __syncthreads();
    out[threadIdx.x * 2] = big[threadIdx.x];
  //^^^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global store: 8 sectors per warp request (ideal 4) — adjacent threads are 2 floats apart (block size assumed 256×1×1: the launch at line 11 sets it at run time)
}

void run(float* out, const float* in, int threads) {
    stage<<<64, threads>>>(out, in);
  //^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[low-occupancy]: occupancy 50% (32/64 warps) — limited by shared memory: 49,152 B/block (block size assumed: this launch's block size is set at run time; set it with cudalens.defaultBlockSize, or --block in the CLI) (registers estimated 6–28/thread; the count from nvcc makes this exact)
}
"#,
            &config,
        );
    }
}
