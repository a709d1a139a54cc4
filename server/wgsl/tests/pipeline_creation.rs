//! What validates must also become a pipeline: naga validates a module
//! with its overrides unset, but wgpu sets them when it creates the
//! pipeline, validates the specialized module again and hands it to naga's
//! SPIR-V backend on Vulkan. Validation now does the same at the defaults
//! (`validate::check`), so a kernel that would fail or crash there is
//! refused when it is compiled. Our own kernels, each pinning what a real
//! one hit (HeCBench's sss `CanDeleteEdge`, ced's stencils).

mod common;

use cudalens_wgsl::TranspileOptions;
use cudalens_wgsl::validate::{Rejection, check};

/// naga 30 keeps an initializer made of overrides alone for the pipeline to
/// fold, cannot fold `extractBits`, and its SPIR-V backend then panics.
const FOLDED_INITIALIZER: &str = "override BLOCK_DIM_X: u32 = 16u;
@group(0) @binding(0) var<storage, read_write> o: array<i32>;
@compute @workgroup_size(BLOCK_DIM_X)
fn main() {
    var a: i32 = extractBits(i32(BLOCK_DIM_X), 0u, 16u);
    o[0] = a;
}
";

#[test]
fn a_module_the_spirv_backend_panics_on_is_refused_not_a_crash() {
    let err = check(FOLDED_INITIALIZER).err().expect("refused");
    let Rejection::Invalid(message) = err else {
        panic!("{err}")
    };
    assert!(message.contains("naga's SPIR-V backend"), "{message}");
    assert!(message.contains("panics"), "{message}");
    // The same value stored after the declaration is fine.
    let stored = FOLDED_INITIALIZER.replace(
        "var a: i32 = extractBits(",
        "var a: i32;\n    a = extractBits(",
    );
    check(&stored).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_lane_builtin_in_a_workgroup_of_rows_is_refused() {
    let text = "override BLOCK_DIM_X: u32 = 8u;
override BLOCK_DIM_Y: u32 = 4u;
@group(0) @binding(0) var<storage, read_write> o: array<u32>;
@compute @workgroup_size(BLOCK_DIM_X, BLOCK_DIM_Y)
fn main(@builtin(subgroup_invocation_id) lane: u32) {
    o[0] = lane;
}
";
    let err = check(text).err().expect("refused");
    assert!(err.to_string().contains("multi dimensional"), "{err}");
}

/// sss: `short bdim = blockDim.x;`, a 16-bit local initialised from the
/// block size alone.
#[test]
fn a_narrow_local_from_the_block_size_is_stored_after_its_declaration() {
    let source = r#"
__global__ void widths(short *out) {
    short bdim = blockDim.x;
    short tid = threadIdx.x;
    out[tid] = bdim + tid;
}
"#;
    let out = common::compile(source, "widths", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("var bdim: i32; // 16-bit signed"),
        "{}",
        out.wgsl
    );
    let Some(got) = common::run_block::<i16>(&out, 64, &[], ("out", 64)) else {
        return;
    };
    // The buffer is sized in words; the shorts are packed two to a word.
    let want: Vec<i16> = (0..64).map(|t| 64 + t).collect();
    assert_eq!(got[..64], want);
}

/// ced: `L = blockDim.x` indexes `extern __shared__` memory at
/// `(L + 1) * (L + 2) + L + 1`, past the default 256 elements at the
/// default 256 threads; the runner sets both from the launch.
#[test]
fn a_constant_index_past_the_default_dynamic_shared_size_compiles() {
    let source = r#"
__global__ void halo(const int *in, int *out) {
    extern __shared__ int tile[];
    const int L = blockDim.x;
    int t = threadIdx.x;
    tile[t] = in[t];
    if (t == 0) tile[(L + 1) * (L + 2) + L + 1] = 7;
    __syncthreads();
    out[t] = tile[t];
}
"#;
    common::compile(source, "halo", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
}
