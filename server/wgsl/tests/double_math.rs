//! `exp`, `log`, `pow`, `sin`, `cos`, `tan`, `atan`, `atan2`, `asin`,
//! `acos`, `log2`, `log10`, `cbrt` of `double`, which Vulkan's SPIR-V does not
//! define, computed in software (`f64_math.rs`, after fdlibm): run on a real
//! adapter (lavapipe here) over arguments across each function's range and
//! compared with the host's libm, within the accuracy the warning states.
//! Rodinia's myocyte and particlefilter, HeCBench's cooling, vanGenuchten,
//! gabor, haversine, romberg, lulesh (`cbrt`) … call these.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::{Severity, TranspileOptions};

const SOURCE: &str = r#"
__global__ void math(const double* x, const double* y, double* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    double a = x[i], b = y[i];
    out[i * 13 + 0] = exp(a);
    out[i * 13 + 1] = log(fabs(a) + 1e-300);
    out[i * 13 + 2] = pow(fabs(a), b);
    out[i * 13 + 3] = sin(a);
    out[i * 13 + 4] = cos(a);
    out[i * 13 + 5] = tan(a);
    out[i * 13 + 6] = atan(a);
    out[i * 13 + 7] = atan2(a, b);
    out[i * 13 + 8] = asin(b / 8.0);
    out[i * 13 + 9] = acos(b / 8.0);
    out[i * 13 + 10] = log2(fabs(b) + 1.0);
    out[i * 13 + 11] = log10(fabs(a) + 1.0);
    out[i * 13 + 12] = cbrt(a);
}
int main() {
    double *x, *y, *o;
    math<<<8, 64>>>(x, y, o, 512);
}
"#;

fn options() -> TranspileOptions {
    TranspileOptions {
        enable_f64: true,
        ..TranspileOptions::default()
    }
}

/// Distance in units in the last place between two doubles of the same sign.
fn ulps(a: f64, b: f64) -> f64 {
    if a == b || a.is_nan() && b.is_nan() {
        return 0.0;
    }
    if a.is_nan() || b.is_nan() || a.signum() != b.signum() {
        return f64::INFINITY;
    }
    (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as f64
}

/// Runs `out` (a kernel of `x`, `y`, `out` and a count) on the adapter over
/// `x` and `y` with `cells` output doubles per element; the outputs.
fn run_xy(
    runner: &mut cudalens_gpu::Runner,
    out: &cudalens_wgsl::TranspileOutput,
    x: &[f64],
    y: &[f64],
    cells: usize,
) -> Vec<f64> {
    let n = x.len();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bytes = |v: &[f64]| BufferSpec::bytes(n as u64, bytemuck::cast_slice(v).to_vec());
    let bench = Benchmark::new(
        out.wgsl.clone(),
        iface,
        [n.div_ceil(64) as u32, 1, 1],
        [64, 1, 1],
    )
    .with_iterations(0, 1)
    .with_arg(3, ParamValue::Scalar(n as f64))
    .with_buffer("x", bytes(x))
    .with_buffer("y", bytes(y))
    .with_buffer("out", BufferSpec::zeros((cells * n) as u64));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes)
}

#[test]
fn doubles_math_matches_libm_on_the_adapter() {
    let out = common::compile(SOURCE, "math", &options()).unwrap_or_else(|d| panic!("{d:#?}"));
    for f in [
        "cuda_exp_f64(",
        "cuda_pow_f64(",
        "cuda_sin_f64(",
        "cuda_atan2_f64(",
        "cuda_acos_f64(",
        "cuda_cbrt_f64(",
    ] {
        assert!(out.wgsl.contains(f), "{f}: {}", out.wgsl);
    }
    // One warning per function, stating its accuracy.
    let warned = |f: &str| {
        out.warnings
            .iter()
            .filter(|w| {
                w.severity == Severity::Warning
                    && w.message
                        .starts_with(&format!("`{f}` of a `double` is computed in software"))
            })
            .count()
    };
    assert_eq!(warned("exp"), 1, "{:#?}", out.warnings);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.message.contains("`sin` of a `double`") && w.message.contains("1.6e6"))
    );

    let n = 512usize;
    // Arguments across the ranges: tiny, around the reduction boundaries,
    // large (sin/cos up to 1e5), negative; exponents integral and not.
    let x: Vec<f64> = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64;
            match i % 4 {
                0 => (t - 0.5) * 1400.0, // exp over its whole range
                1 => (t - 0.5) * 2.0e5,  // large trigonometric arguments
                2 => (t - 0.5) * 1e-6,   // tiny
                _ => (t - 0.5) * 7.0,    // around pi/4 .. 2 pi
            }
        })
        .collect();
    let y: Vec<f64> = (0..n)
        .map(|i| match i % 3 {
            0 => (i % 17) as f64 - 8.0,         // integer exponents
            1 => (i as f64 * 0.37) % 7.9 - 3.9, // fractional
            _ => 0.5,
        })
        .collect();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let got = run_xy(runner, &out, &x, &y, 13);
    let names = [
        "exp", "log", "pow", "sin", "cos", "tan", "atan", "atan2", "asin", "acos", "log2", "log10",
        "cbrt",
    ];
    let mut worst = [0.0f64; 13];
    for i in 0..n {
        let (a, b) = (x[i], y[i]);
        let want = [
            a.exp(),
            (a.abs() + 1e-300).ln(),
            a.abs().powf(b),
            a.sin(),
            a.cos(),
            a.tan(),
            a.atan(),
            a.atan2(b),
            (b / 8.0).asin(),
            (b / 8.0).acos(),
            (b.abs() + 1.0).log2(),
            (a.abs() + 1.0).log10(),
            a.cbrt(),
        ];
        for k in 0..13 {
            let (g, w) = (got[i * 13 + k], want[k]);
            // Results the adapter may flush (subnormal) or that are zero:
            // compared absolutely.
            let err = if w.abs() < 1e-300 {
                if (g - w).abs() < 1e-300 {
                    0.0
                } else {
                    f64::INFINITY
                }
            } else {
                ulps(g, w)
            };
            worst[k] = worst[k].max(err);
            let bound = match names[k] {
                "exp" | "log" | "atan" | "sin" | "cos" | "cbrt" => 2.0,
                // pow's error grows with |y ln x| (here below 60).
                "pow" => 64.0,
                _ => 8.0,
            };
            assert!(
                err <= bound,
                "{}({a:e}, {b:e}) = {g:e}, libm {w:e}: {err} ulp",
                names[k]
            );
        }
    }
    eprintln!(
        "worst ulps: {:?}",
        names.iter().zip(worst).collect::<Vec<_>>()
    );
}

const SPECIALS: &str = r#"
__global__ void specials(const double* x, const double* y, double* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    out[i * 6 + 0] = pow(x[i], y[i]);
    out[i * 6 + 1] = exp(x[i]);
    out[i * 6 + 2] = log(x[i]);
    out[i * 6 + 3] = sin(x[i]);
    out[i * 6 + 4] = atan(x[i]);
    out[i * 6 + 5] = atan2(x[i], y[i]);
}
int main() {
    double *x, *y, *o;
    specials<<<1, 64>>>(x, y, o, 64);
}
"#;

/// C99's special values (Annex F: zeros and their signs, infinities, NaN,
/// overflow and underflow) as the host's libm gives them: the same bits,
/// NaN for NaN.
#[test]
fn special_values_are_those_of_c() {
    let out =
        common::compile(SPECIALS, "specials", &options()).unwrap_or_else(|d| panic!("{d:#?}"));
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let values = [
        0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, inf, -inf, nan, 709.8, -746.0,
        1e-310,
    ];
    let mut pairs = Vec::new();
    for &a in &values {
        for &b in &[0.0, -0.0, 1.0, -1.0, 2.0, -3.0, 0.5, 2.5, inf, -inf, nan] {
            pairs.push((a, b));
        }
    }
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    for chunk in pairs.chunks(64) {
        let x: Vec<f64> = chunk.iter().map(|p| p.0).collect();
        let y: Vec<f64> = chunk.iter().map(|p| p.1).collect();
        let got = run_xy(runner, &out, &x, &y, 6);
        for (i, &(a, b)) in chunk.iter().enumerate() {
            let want = [a.powf(b), a.exp(), a.ln(), a.sin(), a.atan(), a.atan2(b)];
            for (k, name) in ["pow", "exp", "log", "sin", "atan", "atan2"]
                .iter()
                .enumerate()
            {
                let g = got[i * 6 + k];
                let w = want[k];
                // Subnormal inputs and results may be flushed (Vulkan allows it).
                let tiny = a != 0.0 && a.abs() < f64::MIN_POSITIVE
                    || w != 0.0 && w.abs() < f64::MIN_POSITIVE;
                // Finite results within the accuracy the warning states.
                let bound = if *name == "pow" { 64.0 } else { 2.0 };
                let same = g.to_bits() == w.to_bits()
                    || g.is_nan() && w.is_nan()
                    || w.is_finite() && w != 0.0 && ulps(g, w) <= bound
                    || tiny && g.abs() < 1e-300 && w.abs() < 1e-300;
                assert!(same, "{name}({a:e}, {b:e}) = {g:e}, C gives {w:e}");
            }
        }
    }
}

/// `__drcp_rn`, `__ddiv_rn`, `__dmul_rn`, `__dadd_rn`, `__dsub_rn` (HeCBench
/// aop's `compute_partial_beta_kernel` takes `__drcp_rn` of its pivots):
/// IEEE operations rounded to nearest, equal to Rust's on the adapter.
#[test]
fn rounded_double_intrinsics_are_ieee_operations_on_the_adapter() {
    let source = r#"
__global__ void ops(const double *x, const double *y, double *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    out[i * 5] = __drcp_rn(x[i]);
    out[i * 5 + 1] = __ddiv_rn(x[i], y[i]);
    out[i * 5 + 2] = __dmul_rn(x[i], y[i]);
    out[i * 5 + 3] = __dadd_rn(x[i], y[i]);
    out[i * 5 + 4] = __dsub_rn(x[i], y[i]);
}
"#;
    let out = common::compile(source, "ops", &options()).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("f64(1.0) / x[i]"), "{}", out.wgsl);
    let err = common::compile_as("ops.cu", source, "ops").expect_err("no f64");
    assert!(err.contains("64-bit floats"), "{err}");
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let x: Vec<f64> = (0..256)
        .map(|k| (k as f64 - 127.5) * 0.37 + 1.0 / 3.0)
        .collect();
    let y: Vec<f64> = (0..256)
        .map(|k| 1.0e-3 * (k as f64 + 0.25).powi(2) - 7.0)
        .collect();
    let got = run_xy(runner, &out, &x, &y, 5);
    for i in 0..x.len() {
        let (a, b) = (x[i], y[i]);
        let want = [1.0 / a, a / b, a * b, a + b, a - b];
        for (k, w) in want.iter().enumerate() {
            assert_eq!(
                got[i * 5 + k].to_bits(),
                w.to_bits(),
                "op {k} of ({a}, {b})"
            );
        }
    }
}
