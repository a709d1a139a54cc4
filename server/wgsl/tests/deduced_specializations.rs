//! A call without template arguments of a function template that has
//! explicit specializations (`template <class T> T clamp01(T);` declared
//! only, `template <> float clamp01<float>(float)` defined): C++ deduces
//! `T` from the argument types and calls the specialization for it, also
//! when the primary template has a body of its own (our own kernels,
//! written after a pattern of public code: per-type math wrappers).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const SOURCE: &str = r#"
template <class T> __device__ T clamp01(T x);
template <> __device__ float clamp01<float>(float x) { return fminf(fmaxf(x, 0.0f), 1.0f); }
template <> __device__ int clamp01<int>(int x) { return min(max(x, 0), 100); }

template <class T> __device__ T triple(T x) { return x + x; }
template <> __device__ float triple<float>(float x) { return x * 3.0f; }

template <class T> __device__ T pick(T a, T b);
template <> __device__ float pick<float>(float a, float b) { return a < b ? b : a; }

__global__ void deduce(const float *x, const int *n, float *y, int *m, float *z, int len) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= len) return;
    y[i] = clamp01(x[i]) + pick(x[i], (float)n[i]);
    m[i] = clamp01(n[i] * 3);
    z[i] = triple(x[i]) + (float)triple(n[i]);
}
"#;

fn compile() -> cudalens_wgsl::TranspileOutput {
    common::compile_as("deduce.cu", SOURCE, "deduce").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_specialization_for_the_deduced_arguments_is_called() {
    let out = compile();
    for want in [
        "return min(max(x_1, 0.0f), 1.0f);",
        "return min(max(x_1, 0), 100);",
        "return select(a, b, a < b);",
        // `triple(x[i])` is the specialization, `triple(n[i])` the primary.
        "fn triple_float_(x_1: f32) -> f32 {\n    return x_1 * 3.0f;",
        "fn triple_int(x_1: i32) -> i32 {\n    return x_1 + x_1;",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
}

#[test]
fn deduction_is_refused_where_the_wgsl_type_is_not_the_c_type() {
    // `0.5` is a `double` in C: without f64 its WGSL type is `f32`, so
    // `clamp01<float>` would be the wrong specialization.
    let source = SOURCE.replace("clamp01(x[i])", "clamp01(0.5)");
    let err = common::compile_as("deduce.cu", &source, "deduce").expect_err("refused");
    assert!(err.contains("`clamp01` has no definition"), "{err}");
}

#[test]
fn the_specializations_compute_on_the_adapter() {
    let out = compile();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let len = 100usize;
    let x: Vec<f32> = (0..len).map(|i| i as f32 * 0.03 - 1.0).collect();
    let n: Vec<i32> = (0..len).map(|i| i as i32 - 20).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(5, ParamValue::Scalar(len as f64))
        .with_buffer(
            "x",
            BufferSpec::bytes(len as u64, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer(
            "n",
            BufferSpec::bytes(len as u64, bytemuck::cast_slice(&n).to_vec()),
        )
        .with_buffer("y", BufferSpec::zeros(len as u64))
        .with_buffer("m", BufferSpec::zeros(len as u64))
        .with_buffer("z", BufferSpec::zeros(len as u64));
    let result = runner.run(&bench).expect("run");
    let bytes = |name: &str| {
        result
            .outputs
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no output {name}"))
            .bytes
            .clone()
    };
    let y: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes("y"));
    let m: Vec<i32> = bytemuck::pod_collect_to_vec(&bytes("m"));
    let z: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes("z"));
    for i in 0..len {
        let want_y = x[i].clamp(0.0, 1.0) + x[i].max(n[i] as f32);
        let want_m = (n[i] * 3).clamp(0, 100);
        let want_z = x[i] * 3.0 + (n[i] + n[i]) as f32;
        assert!(
            (y[i] - want_y).abs() <= 1e-6,
            "y[{i}]: {} vs {want_y}",
            y[i]
        );
        assert_eq!(m[i], want_m, "m[{i}]");
        assert!(
            (z[i] - want_z).abs() <= 1e-5,
            "z[{i}]: {} vs {want_z}",
            z[i]
        );
    }
}

/// `INT_T counts` given a `const int *` (HeCBench's rsbench and xsbench
/// pass their buffers to `template <class INT_T, class DOUBLE_T> ...
/// calculate_macro_xs(..., INT_T num_nucs, DOUBLE_T concs)`): the
/// parameter is that pointer, and the type parameter is it in the body.
const POINTER_TYPES: &str = r#"
template <class INT_T, class REAL_T>
__device__ void gather(float *acc, int row, INT_T counts, REAL_T values) {
    for (int k = 0; k < 4; k++) acc[k] = 0.0f;
    REAL_T rowp = values + row * 8;
    for (int k = 0; k < counts[row]; k++) acc[k % 4] += rowp[k];
}
__global__ void lookup(const int *__restrict__ counts, const float *__restrict__ values, float *out) {
    int i = threadIdx.x;
    float acc[4];
    gather(acc, i % 4, counts, values);
    out[i] = acc[0] + 10.0f * acc[3];
}
"#;

#[test]
fn template_parameters_given_pointers_are_those_pointers() {
    let out =
        common::compile_as("lookup.cu", POINTER_TYPES, "lookup").unwrap_or_else(|e| panic!("{e}"));
    let counts: Vec<i32> = vec![8, 3, 5, 0];
    let values: Vec<f32> = (0..32).map(|k| k as f32 * 0.25).collect();
    let Some(got) = common::run_block::<f32>(
        &out,
        32,
        &[
            ("counts", 4, bytemuck::cast_slice(&counts).to_vec()),
            ("values", 32, bytemuck::cast_slice(&values).to_vec()),
        ],
        ("out", 32),
    ) else {
        return;
    };
    for (i, g) in got.iter().enumerate() {
        let row = i % 4;
        let mut acc = [0.0f32; 4];
        for k in 0..counts[row] as usize {
            acc[k % 4] += values[row * 8 + k];
        }
        assert_eq!(*g, acc[0] + 10.0 * acc[3], "thread {i}");
    }
}
