//! `sincosf` and friends writing through their pointer arguments, and
//! functional casts to a type named by a macro (`#define fp float`, then
//! `fp(x)`, which the body keeps as a call): the generated WGSL (snapshot)
//! and a run on a real adapter (lavapipe here) against a Rust reference.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

/// Rotates points by a per-point angle (our own kernel).
const ROTATE: &str = r#"
#define real float
__global__ void rotate(float *x, float *y, const float *angle, float *cosines, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float s, c;
    __sincosf(angle[i] * 0.5f, &s, &c);
    float nx = c * x[i] - s * y[i];
    float ny = s * x[i] + c * y[i];
    sincosf(angle[i], y + i, &cosines[i]);
    x[i] = nx + real(n) * 0.0f + (real)(i) * 0.0f;
    y[i] += ny;
}
"#;

fn compile() -> cudalens_wgsl::TranspileOutput {
    let opts = TranspileOptions {
        source_name: Some("rotate.cu".into()),
        ..TranspileOptions::default()
    };
    common::compile(ROTATE, "rotate", &opts).unwrap_or_else(|d| panic!("{d:#?}"))
}

#[test]
fn sincos_stores_through_its_pointers_and_macro_types_cast() {
    let out = compile();
    let body = &out.wgsl[out.wgsl.find("let n: i32").expect("body")..];
    insta::assert_snapshot!("rotate_body", body);
    let written: Vec<_> = out
        .sidecar
        .bindings
        .iter()
        .filter(|b| b.kind == cudalens_wgsl::BindingKind::StorageReadWrite)
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(written, ["x", "y", "cosines"]);
}

#[test]
fn the_rotation_matches_a_reference_on_the_adapter() {
    let out = compile();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 96usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 3.0).collect();
    let y: Vec<f32> = (0..n).map(|i| 1.0 - i as f32 * 0.125).collect();
    let angle: Vec<f32> = (0..n).map(|i| i as f32 * 0.07 - 2.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bytes = |v: &[f32]| BufferSpec::bytes(n as u64, bytemuck::cast_slice(v).to_vec());
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(4, ParamValue::Scalar(n as f64))
        .with_buffer("x", bytes(&x))
        .with_buffer("y", bytes(&y))
        .with_buffer("angle", bytes(&angle))
        .with_buffer("cosines", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let output = |name: &str| -> Vec<f32> {
        bytemuck::pod_collect_to_vec(
            &result
                .outputs
                .iter()
                .find(|o| o.name == name)
                .unwrap_or_else(|| panic!("no output {name}"))
                .bytes,
        )
    };
    let (gx, gy, gc) = (output("x"), output("y"), output("cosines"));
    for i in 0..n {
        let (s, c) = (angle[i] * 0.5).sin_cos();
        let nx = c * x[i] - s * y[i];
        let ny = s * x[i] + c * y[i];
        let want_y = angle[i].sin() + ny;
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * b.abs().max(1.0);
        assert!(close(gx[i], nx), "x[{i}]: {} vs {nx}", gx[i]);
        assert!(close(gy[i], want_y), "y[{i}]: {} vs {want_y}", gy[i]);
        assert!(close(gc[i], angle[i].cos()), "cosines[{i}]: {}", gc[i]);
    }
}

/// Classifies floats and scales by math_constants.h's pi (our own kernel).
const CLASSIFY: &str = r#"
__global__ void classify(const float *x, int *kind, float *turns, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    kind[i] = isnan(x[i]) ? 1 : (isinf(x[i]) ? 2 : (isfinite(x[i]) ? 3 : 0));
    turns[i] = isfinite(x[i]) ? x[i] / (2.0f * CUDART_PI_F) : 0.0f;
}
"#;

#[test]
fn nan_and_infinity_tests_read_the_bits() {
    let opts = TranspileOptions {
        source_name: Some("classify.cu".into()),
        ..TranspileOptions::default()
    };
    let out = common::compile(CLASSIFY, "classify", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl
            .contains("(bitcast<u32>(x[i]) & 0x7fffffffu) > 0x7f800000u"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let x = [
        1.5f32,
        f32::NAN,
        f32::INFINITY,
        -f32::INFINITY,
        -0.0,
        6.283_185_5,
        f32::MIN_POSITIVE / 2.0,
        -7.0,
    ];
    let n = x.len();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(n as f64))
        .with_buffer(
            "x",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer("kind", BufferSpec::zeros(n as u64))
        .with_buffer("turns", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let kind: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("kind").expect("kind").bytes);
    let turns: Vec<f32> =
        bytemuck::pod_collect_to_vec(&result.output("turns").expect("turns").bytes);
    let want: Vec<i32> = x
        .iter()
        .map(|v| {
            if v.is_nan() {
                1
            } else if v.is_infinite() {
                2
            } else {
                3
            }
        })
        .collect();
    assert_eq!(kind, want);
    assert!((turns[5] - 1.0).abs() < 1e-6, "{turns:?}");
}
