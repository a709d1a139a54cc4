//! `hypotf` (no overflow or underflow on the way, C's infinities and NaNs)
//! and the loads and stores with cache hints (`__ldcs`, `__stcs`, ...),
//! which are plain loads and stores in WGSL: the stores make their buffer
//! written (our own kernel; a run on a real adapter, lavapipe here, against
//! Rust's `f32::hypot`).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const SOURCE: &str = r#"
__global__ void norms(const float *x, const float *y, float *h, float *copy, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    __stcs(h + i, hypotf(x[i], __ldcs(&y[i])));
    __stwt(&copy[i], __ldg(x + i) + __ldcg(y + i));
}
"#;

#[test]
fn hypot_and_cache_hinted_accesses_match_a_reference_on_the_adapter() {
    let out = common::compile_as("norms.cu", SOURCE, "norms").unwrap_or_else(|e| panic!("{e}"));
    let written: Vec<_> = out
        .sidecar
        .bindings
        .iter()
        .filter(|b| b.kind == cudalens_wgsl::BindingKind::StorageReadWrite)
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(written, ["h", "copy"]);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let special = [
        (3.0f32, 4.0f32),
        (0.0, -0.0),
        (-5.0, 0.0),
        (3.0e38, 3.0e38),
        (2.0e30, 1.0e-30),
        (1.0e-44, 3.0e-45),
        (f32::INFINITY, f32::NAN),
        (f32::NAN, f32::NEG_INFINITY),
        (f32::NAN, 1.0),
        (1.0e-20, 1.0e-20),
    ];
    let n = 64usize;
    let mut x: Vec<f32> = (0..n).map(|i| i as f32 * 0.7 - 20.0).collect();
    let mut y: Vec<f32> = (0..n).map(|i| (i as f32 * 0.3).sin() * 9.0).collect();
    for (k, (a, b)) in special.iter().enumerate() {
        x[k] = *a;
        y[k] = *b;
    }
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bytes = |v: &[f32]| BufferSpec::bytes(n as u64, bytemuck::cast_slice(v).to_vec());
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(4, ParamValue::Scalar(n as f64))
        .with_buffer("x", bytes(&x))
        .with_buffer("y", bytes(&y))
        .with_buffer("h", BufferSpec::zeros(n as u64))
        .with_buffer("copy", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let h: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("h").expect("h").bytes);
    let copy: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("copy").expect("copy").bytes);
    for i in 0..n {
        let want = x[i].hypot(y[i]);
        if want.is_nan() {
            assert!(h[i].is_nan(), "h[{i}] = {} for ({}, {})", h[i], x[i], y[i]);
        } else {
            // CUDA's hypotf is within 2 ulp; WGSL's sqrt and division add theirs.
            let tol = want.abs() * 4.0 * f32::EPSILON;
            assert!(
                h[i] == want || (h[i] - want).abs() <= tol,
                "h[{i}] = {} for ({}, {}), want {want}",
                h[i],
                x[i],
                y[i]
            );
        }
        let sum = x[i] + y[i];
        assert!(
            copy[i] == sum || (sum.is_nan() && copy[i].is_nan()),
            "copy[{i}]"
        );
    }
}
