//! `p != NULL` of a kernel pointer parameter (llm.c's `matmul_forward`
//! with `bias != NULL`, `layernorm` with `mean != nullptr`): a WGSL buffer
//! always exists, so the test reads a `bool` override that says whether the
//! host passed NULL (false: the runner binds every pointer parameter),
//! named in a warning and in the sidecar. A run on a real adapter (lavapipe
//! here) takes the bound branch.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const SOURCE: &str = r#"
__global__ void add_bias(float *out, const float *bias, const float *weights, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float w = weights != nullptr ? weights[i] : 1.0f;
    if (bias != NULL) out[i] += w * bias[i];
    if (NULL == bias) out[i] = -1.0f;
}
int main() { add_bias<<<1, 64>>>(0, 0, 0, 64); }
"#;

#[test]
fn null_tests_of_kernel_pointers_read_an_override() {
    let out = common::compile_as("bias.cu", SOURCE, "add_bias").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("override bias_IS_NULL: bool = false;"),
        "{}",
        out.wgsl
    );
    assert!(out.wgsl.contains("!bias_IS_NULL"), "{}", out.wgsl);
    assert!(
        out.wgsl.contains("override weights_IS_NULL: bool = false;"),
        "{}",
        out.wgsl
    );
    assert_eq!(
        out.sidecar
            .null_pointer_overrides
            .get("bias")
            .map(String::as_str),
        Some("bias_IS_NULL")
    );
    assert!(
        out.warnings
            .iter()
            .any(|d| d.message.contains("`bias` compared with NULL")),
        "{:?}",
        out.warnings
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let bias: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let weights: Vec<f32> = (0..n).map(|i| (i % 3) as f32).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bytes = |v: &[f32]| BufferSpec::bytes(n as u64, bytemuck::cast_slice(v).to_vec());
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(n as f64))
        .with_buffer("out", BufferSpec::zeros(n as u64))
        .with_buffer("bias", bytes(&bias))
        .with_buffer("weights", bytes(&weights));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for (i, value) in got.iter().enumerate() {
        assert_eq!(*value, weights[i] * bias[i], "out[{i}]");
    }
    // A launch that passes NULL for `bias` (what `bench` reads from the
    // host code): the other branch.
    let mut null_bias = bench.clone();
    null_bias.null_pointers.insert("bias".into());
    let result = runner
        .run(&null_bias)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    assert!(got.iter().all(|v| *v == -1.0), "{got:?}");
}

/// A kernel pointer used as a condition (`if (partial_sums)`, the CUDA
/// samples' shfl_scan; `!p`; `p ? a : b`) reads the same override.
#[test]
fn pointers_used_as_conditions_read_the_override() {
    let source = r#"
__global__ void k(float *out, const float *partial, const float *scale) {
    int i = threadIdx.x;
    if (partial) out[i] += partial[i];
    if (!scale || i > 8) return;
    out[i] *= scale ? scale[i] : 1.0f;
}
int main() { k<<<1, 32>>>(0, 0, 0); }
"#;
    let out = common::compile_as("cond.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    for needle in [
        "override partial_IS_NULL: bool = false;",
        "override scale_IS_NULL: bool = false;",
        "!partial_IS_NULL",
    ] {
        assert!(out.wgsl.contains(needle), "{needle}:\n{}", out.wgsl);
    }
}

/// `nullptr` passed to a device function's pointer parameter (HeCBench's
/// moe-align `..., topk_num, nullptr)`): the call is specialized for it,
/// its tests against null fold and only the branch taken is lowered, so the
/// other may use the pointer; a use outside such a test is refused by name.
/// Run on the adapter.
#[test]
fn null_arguments_of_device_functions_fold_their_tests() {
    let source = r#"
__device__ float scaled(const float *a, const float *mask, int i) {
    float m = mask == nullptr ? 2.0f : mask[i];
    if (mask) m += mask[0];
    else m += 1.0f;
    if (!mask) m *= 10.0f;
    return a[i] * m;
}
__device__ float broken(const float *mask) { return mask[0]; }
__global__ void apply(const float *a, float *out) {
    int i = threadIdx.x;
    out[i] = scaled(a, nullptr, i);
}
__global__ void misuse(float *out) { out[0] = broken(NULL); }
"#;
    let out = common::compile_as("null.cu", source, "apply").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("fn scaled_a_null("), "{}", out.wgsl);
    let err = common::compile_as("null.cu", source, "misuse").expect_err("refused");
    assert!(
        err.contains("`mask` is a null pointer in this call"),
        "{err}"
    );
    let a: Vec<f32> = (0..64).map(|i| i as f32 * 0.5).collect();
    let Some(got) = common::run_block::<f32>(
        &out,
        64,
        &[("a", 64, bytemuck::cast_slice(&a).to_vec())],
        ("out", 64),
    ) else {
        return;
    };
    for (i, x) in a.iter().enumerate() {
        assert_eq!(got[i], x * 30.0, "out[{i}]");
    }
}
