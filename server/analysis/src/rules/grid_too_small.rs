//! `grid-too-small`: a grid with fewer blocks than the target GPU has SMs.
//! Computed by [`crate::launch`].

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::{Diagnostic, Severity, Span};

pub const CODE: &str = "grid-too-small";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a grid with fewer blocks than the target GPU has SMs",
    default_severity: Severity::Info,
    category: Category::Performance,
    detects: "\
A launch whose grid resolves to constants and has fewer blocks than the reference GPU
of the target architecture has SMs (132 on an H100 SXM5 for `sm_90`). Reported as a
note (**info**): small grids are sometimes intended (a final reduction step).",
    why: "\
Each block runs on one SM. A grid of 16 blocks on a 132-SM GPU leaves 116 SMs with
nothing to do: the kernel can use at most 12 % of the GPU, however fast each block is.",
    measured: "\
Exact: the grid's block count against the SM count of the architecture's reference GPU
(cited in `server/occupancy`). GPUs of the same architecture with fewer SMs (an H100
PCIe has 114) are not considered. Grids computed at run time are not reported.",
    example: r#"
__global__ void add(float* c, const float* a, const float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    c[i] = a[i] + b[i];
}

void launch(float* c, const float* a, const float* b) {
    add<<<16, 256>>>(c, a, b);
    //    ^^ info[grid-too-small]: grid of 16 blocks leaves 116 of the 132 SMs of an H100 SXM5 idle
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void add(float* c, const float* a, const float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    c[i] = a[i] + b[i];
}

void launch(float* c, const float* a, const float* b) {
    add<<<264, 256>>>(c, a, b);
}
"#,
    fix: "\
Launch at least as many blocks as the GPU has SMs (a multiple of the SM count balances
best): split the work into smaller blocks, or give each block less work. A grid-stride
loop lets the grid size be chosen for the GPU rather than the problem.",
};

pub(crate) fn diagnostic(at: Span, blocks: i64, sms: u32, gpu: &str) -> Diagnostic {
    Diagnostic::new(
        at,
        Severity::Info,
        CODE,
        format!(
            "grid of {blocks} block{} leaves {} of the {sms} SMs of an {gpu} idle",
            if blocks == 1 { "" } else { "s" },
            sms as i64 - blocks,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixture::check_diagnostics;

    #[test]
    fn one_block_and_a_grid_known_only_at_run_time() {
        check_diagnostics(
            r#"
__global__ void k(float* a) {
    a[blockIdx.x * blockDim.x + threadIdx.x] = 0.0f;
}

void launch(float* a, int n) {
    k<<<1, 256>>>(a);
    //  ^ info[grid-too-small]: grid of 1 block leaves 131 of the 132 SMs of an H100 SXM5 idle
    k<<<n / 256, 256>>>(a);
}
"#,
        );
    }
}
