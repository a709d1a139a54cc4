//! `cuComplex.h`'s types and functions (HeCBench's complex, the samples'
//! cuFFT programs): `cuFloatComplex` is `float2`, `cuDoubleComplex`
//! `double2`; products, quotients (scaled) and moduli (without overflow)
//! run on a real adapter (lavapipe here) against Rust.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

const SOURCE: &str = r#"
#include <cuComplex.h>
__global__ void complex_ops(const float *re, const float *im, float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    cuFloatComplex a = make_cuFloatComplex(re[i], im[i]);
    cuFloatComplex b = make_cuFloatComplex(im[i] + 1.0f, re[i] - 2.0f);
    cuFloatComplex p = cuCmulf(a, cuConjf(b));
    cuFloatComplex q = cuCdivf(cuCaddf(a, b), cuCsubf(b, a));
    out[4 * i] = cuCrealf(p);
    out[4 * i + 1] = cuCimagf(p);
    out[4 * i + 2] = cuCabsf(q);
    out[4 * i + 3] = cuCabsf(make_cuFloatComplex(3e30f, 4e30f)) * 1e-30f;
}
__global__ void complex_doubles(const double *re, double *out) {
    int i = threadIdx.x;
    cuDoubleComplex a = make_cuDoubleComplex(re[i], 1.0);
    out[i] = cuCabs(cuCdiv(a, make_cuDoubleComplex(0.5, re[i])));
}
"#;

#[test]
fn cucomplex_functions_run_as_the_header_defines_them() {
    let out = common::compile(SOURCE, "complex_ops", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    for helper in [
        "fn cuda_cmulf(",
        "fn cuda_cdivf(",
        "fn cuda_cabsf(",
        "fn cuda_hypotf(",
    ] {
        assert!(out.wgsl.contains(helper), "{helper}:\n{}", out.wgsl);
    }
    // Doubles need the adapter's f64, named in the error without it.
    let err = common::compile(SOURCE, "complex_doubles", &TranspileOptions::default())
        .expect_err("doubles without f64");
    assert!(
        err.iter().any(|d| d.message.contains("SHADER_F64")),
        "{err:#?}"
    );
    let f64_opts = TranspileOptions {
        enable_f64: true,
        ..TranspileOptions::default()
    };
    let doubles =
        common::compile(SOURCE, "complex_doubles", &f64_opts).unwrap_or_else(|d| panic!("{d:#?}"));

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let re: Vec<f32> = (0..n).map(|i| i as f32 * 0.37 - 9.0).collect();
    let im: Vec<f32> = (0..n).map(|i| 5.0 - i as f32 * 0.21).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(n as f64))
        .with_buffer(
            "re",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&re).to_vec()),
        )
        .with_buffer(
            "im",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&im).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(4 * n as u64));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let close = |x: f32, y: f32| (x - y).abs() <= 1e-5 * y.abs().max(1.0);
    for i in 0..n {
        let (a, b) = ((re[i], im[i]), (im[i] + 1.0, re[i] - 2.0));
        // a · conj(b)
        let p = (a.0 * b.0 + a.1 * b.1, a.1 * b.0 - a.0 * b.1);
        let (s, d) = ((a.0 + b.0, a.1 + b.1), (b.0 - a.0, b.1 - a.1));
        let den = d.0 * d.0 + d.1 * d.1;
        let q = ((s.0 * d.0 + s.1 * d.1) / den, (s.1 * d.0 - s.0 * d.1) / den);
        assert!(
            close(got[4 * i], p.0) && close(got[4 * i + 1], p.1),
            "p[{i}]"
        );
        assert!(
            close(got[4 * i + 2], q.0.hypot(q.1)),
            "|q[{i}]|: {}",
            got[4 * i + 2]
        );
        // |3e30 + 4e30 i| = 5e30: no overflow on the way.
        assert!(close(got[4 * i + 3], 5.0), "{}", got[4 * i + 3]);
    }
    if !runner.adapter().is_ok_and(|a| a.features.shader_f64) {
        return;
    }
    let re64: Vec<f64> = (0..n).map(|i| i as f64 * 0.5 - 7.0).collect();
    let iface = KernelInterface::from_json(&doubles.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(doubles.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "re",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&re64).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(n as u64));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", doubles.wgsl));
    let got: Vec<f64> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for i in 0..n {
        // (r + i) / (0.5 + r i)
        let (a, b) = ((re64[i], 1.0), (0.5, re64[i]));
        let den = b.0 * b.0 + b.1 * b.1;
        let q = ((a.0 * b.0 + a.1 * b.1) / den, (a.1 * b.0 - a.0 * b.1) / den);
        let want = q.0.hypot(q.1);
        assert!(
            (got[i] - want).abs() <= 1e-12 * want.max(1.0),
            "out[{i}] {} vs {want}",
            got[i]
        );
    }
}
