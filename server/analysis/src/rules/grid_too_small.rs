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
A launch whose grid is computed from a problem size (`(N + 255) / 256` with `N` a
constant), folds to a constant and has fewer blocks than the reference GPU of the
target architecture has SMs (132 on an H100 SXM5 for `sm_90`). Reported as a note
(**info**). A grid written as a constant (`<<<1, 1024>>>`, `dim3(2, 1, 1)`, a named
count) is the author's choice for a fixed amount of work (a final reduction, a flag,
a demo), and a kernel that never reads `blockIdx`/`gridDim` is written for one
block: neither is reported (on real code they were wrong 19 times in 20, issue 18).",
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

#define N 4096
void launch(float* c, const float* a, const float* b) {
    add<<<(N + 255) / 256, 256>>>(c, a, b);
    //    ^^^^^^^^^^^^^^^ info[grid-too-small]: grid of 16 blocks leaves 116 of the 132 SMs of an H100 SXM5 idle
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void add(float* c, const float* a, const float* b, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        c[i] = a[i] + b[i];
    }
}

#define N 4096
#define SMS 132
void launch(float* c, const float* a, const float* b) {
    add<<<2 * SMS, 128>>>(c, a, b, N);
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
    fn a_computed_grid_and_a_grid_known_only_at_run_time() {
        check_diagnostics(
            r#"
__global__ void k(float* a) {
    a[blockIdx.x * blockDim.x + threadIdx.x] = 0.0f;
}

void launch(float* a, int n) {
    k<<<256 / 256, 256>>>(a);
    //  ^^^^^^^^^ info[grid-too-small]: grid of 1 block leaves 131 of the 132 SMs of an H100 SXM5 idle
    k<<<n / 256, 256>>>(a);
}
"#,
        );
    }

    #[test]
    fn constant_grids_and_one_block_kernels_are_deliberate() {
        // A literal or named grid is the author's choice; a kernel that never
        // reads blockIdx is written for one block (a final reduction, a flag).
        check_diagnostics(
            r#"
#define NUM_BLOCKS 8
__global__ void k(float* a) {
    a[blockIdx.x * blockDim.x + threadIdx.x] = 0.0f;
}
__global__ void finish(float* out, const float* partial, int n) {
    float s = 0.0f;
    for (int i = threadIdx.x; i < n; i += blockDim.x) s += partial[i];
    atomicAdd(out, s);
}
__global__ void set_flag(int* flag) { *flag = 1; }

void launch(float* a, int* flag) {
    k<<<1, 256>>>(a);
    k<<<NUM_BLOCKS, 256>>>(a);
    k<<<dim3(2, 1, 1), 256>>>(a);
    finish<<<(64 + 63) / 64, 1024>>>(a, a, 4096);
    set_flag<<<1, 1>>>(flag);
}
"#,
        );
    }
}
