//! `log1pf`, `expm1f` and `cbrtf` (HeCBench's prna `calc_xl`, qem's
//! `QuarticSolver`): accurate near 0 where `log(1 + x)` and `exp(x) - 1`
//! would round away `x`, and the real cube root of negatives. A run on a
//! real adapter (lavapipe here) against Rust's `ln_1p`, `exp_m1`, `cbrt`.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const SOURCE: &str = r#"
__global__ void fns(const float *x, float *l, float *e, float *c, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    l[i] = log1pf(x[i]);
    e[i] = expm1f(x[i]);
    c[i] = cbrtf(x[i]);
}
"#;

#[test]
fn log1p_expm1_and_cbrt_match_a_reference_on_the_adapter() {
    let out = common::compile_as("fns.cu", SOURCE, "fns").unwrap_or_else(|e| panic!("{e}"));
    for helper in ["fn cuda_log1pf", "fn cuda_expm1f", "fn cuda_cbrtf"] {
        assert!(out.wgsl.contains(helper), "{helper}:\n{}", out.wgsl);
    }
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let mut x: Vec<f32> = (0..n).map(|i| (i as f32 - 32.0) * 0.37).collect();
    for (k, v) in [1e-7f32, -3e-8, 1e-20, 0.0, -27.0, 8.0, 1e-30, -0.5]
        .into_iter()
        .enumerate()
    {
        x[k] = v;
    }
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(4, ParamValue::Scalar(n as f64))
        .with_buffer(
            "x",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer("l", BufferSpec::zeros(n as u64))
        .with_buffer("e", BufferSpec::zeros(n as u64))
        .with_buffer("c", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let read = |name: &str| -> Vec<f32> {
        bytemuck::pod_collect_to_vec(&result.output(name).expect(name).bytes)
    };
    let (l, e, c) = (read("l"), read("e"), read("c"));
    // Near 0 (|x| < 1/16, the series) within a few ulp, where `log(1 + x)`
    // and `exp(x) - 1` would be off by up to 100% (x = 1e-20); elsewhere
    // within WGSL's own bounds for `log` and `exp` (2^-21 absolute near 1).
    let close = |x: f32, got: f32, want: f32| {
        let tol = if x.abs() < 0.0625 {
            want.abs() * 4.0 * f32::EPSILON
        } else {
            want.abs() * 1e-5 + 1e-6
        };
        got == want || (got - want).abs() <= tol
    };
    for i in 0..n {
        if x[i] > -1.0 {
            let want = x[i].ln_1p();
            assert!(
                close(x[i], l[i], want),
                "log1pf({}) = {}, want {want}",
                x[i],
                l[i]
            );
        }
        let want = x[i].exp_m1();
        assert!(
            close(x[i], e[i], want),
            "expm1f({}) = {}, want {want}",
            x[i],
            e[i]
        );
        let want = x[i].cbrt();
        let tol = want.abs() * 4.0 * f32::EPSILON;
        assert!(
            c[i] == want || (c[i] - want).abs() <= tol,
            "cbrtf({}) = {}, want {want}",
            x[i],
            c[i]
        );
    }
}

/// `sinpif`/`cospif` (HeCBench's wlcpow): reduced before `sin`, so they
/// are exactly 0 where CUDA's are (`sinpif(n)`, `cospif(n + 0.5)`) and
/// within a few ulp of `sin(π x)` elsewhere, for large `x` too.
#[test]
fn sinpi_and_cospi_are_exact_at_their_zeros() {
    let source = r#"
__global__ void k(const float *x, float *s, float *c) {
    int i = threadIdx.x;
    s[i] = sinpif(x[i]);
    c[i] = cospif(x[i]);
}
"#;
    let out = common::compile_as("pi.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    let xs: Vec<f32> = (0..64)
        .map(|i| match i % 4 {
            0 => (i as f32) - 32.0,         // integers: sinpi 0
            1 => (i as f32) * 0.5 + 0.0625, // between
            2 => (i as f32) - 31.5,         // halves: cospi 0
            _ => 1.0e6 + i as f32 * 0.25,   // large
        })
        .collect();
    let inputs = |other: &'static str| {
        vec![
            ("x", 64u64, bytemuck::cast_slice(&xs).to_vec()),
            (other, 64u64, vec![0u8; 256]),
        ]
    };
    let Some(s) = common::run_block::<f32>(&out, 64, &inputs("c"), ("s", 64)) else {
        return;
    };
    let Some(c) = common::run_block::<f32>(&out, 64, &inputs("s"), ("c", 64)) else {
        return;
    };
    for (i, &x) in xs.iter().enumerate() {
        let r = f64::from(x) - 2.0 * (f64::from(x) / 2.0).round();
        let (ws, wc) = (
            (std::f64::consts::PI * r).sin(),
            (std::f64::consts::PI * r).cos(),
        );
        if x.fract() == 0.0 {
            assert_eq!(s[i].abs(), 0.0, "sinpif({x})");
        }
        if (x - 0.5).fract() == 0.0 {
            assert_eq!(c[i].abs(), 0.0, "cospif({x})");
        }
        assert!(
            (f64::from(s[i]) - ws).abs() < 1e-5,
            "sinpif({x}) = {} not {ws}",
            s[i]
        );
        assert!(
            (f64::from(c[i]) - wc).abs() < 1e-5,
            "cospif({x}) = {} not {wc}",
            c[i]
        );
    }
}

/// `__frsqrt_rn` (HeCBench halo-finder's `Step10_kernel`) is WGSL's
/// `inverseSqrt`, as `rsqrtf` and `__fsqrt_rn`'s `sqrt` are: within the
/// few ulp Vulkan allows, not correctly rounded.
#[test]
fn frsqrt_rn_is_an_inverse_square_root() {
    let source = "__global__ void r(const float *x, float *y) { y[threadIdx.x] = __frsqrt_rn(x[threadIdx.x]); }";
    let out = common::compile_as("r.cu", source, "r").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("inverseSqrt("), "{}", out.wgsl);
    let x: Vec<f32> = (1..=32).map(|i| i as f32 * 0.37).collect();
    let Some(got) = common::run_block::<f32>(
        &out,
        32,
        &[("x", 32, bytemuck::cast_slice(&x).to_vec())],
        ("y", 32),
    ) else {
        return;
    };
    for (v, x) in got.iter().zip(&x) {
        let want = 1.0 / f64::from(*x).sqrt();
        assert!(
            (f64::from(*v) - want).abs() <= want * 4.0 * f64::from(f32::EPSILON),
            "{x}: {v} vs {want}"
        );
    }
}
