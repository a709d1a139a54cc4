//! Exponentials, logarithms, powers and trigonometric functions of
//! `double`, computed in software. naga accepts WGSL's `exp`, `log`, `sin`
//! and the like on `f64`, but the SPIR-V they become (GLSL.std.450) is
//! defined for 16- and 32-bit floats only, and NVIDIA's Vulkan driver
//! crashed compiling one (H100, driver 580.159.04). So each is written here
//! with the operations SPIR-V does define on 64-bit floats (`+ - * /`,
//! `sqrt`, `round`, `floor`, `ldexp`), after fdlibm (Sun's freely
//! distributable libm, the basis of most C libraries' `double` math):
//! `e_exp.c`, `e_log.c`, `k_sin.c`, `k_cos.c`, `s_atan.c`, with the
//! Cody-Waite reduction of `e_rem_pio2.c` for arguments below 2^20·π/2.
//!
//! Accuracy, stated with each call as a warning (the tests compare with the
//! host's libm on the adapter): `exp`, `log`, `sin`, `cos`, `atan` within
//! about 1 ulp (`sin`/`cos`/`tan` for |x| < 1.6·10^6; their error grows
//! beyond, where fdlibm switches to Payne-Hanek reduction); `tan`, `atan2`,
//! `asin`, `acos`, `log2`, `log10` a few ulp (built from the others);
//! `pow` by repeated multiplication for integer exponents up to 64 in
//! magnitude (`x*x`, correctly rounded, for `pow(x, 2)`; one rounding per
//! multiplication, at most 11, beyond), `sqrt` for 0.5,
//! otherwise `exp(y·log|x|)`, whose relative error grows as |y·ln x|·2^-53
//! (1e-14 at |y·ln x| = 50). Subnormal arguments and results may be flushed
//! to zero, as Vulkan allows. NaN is tested as `!(x == x)`: naga writes `!=`
//! as SPIR-V's ordered comparison, false for NaN (lavapipe gave
//! `pow(0, NaN) = 0` with `x != x`).

/// A helper: its WGSL name and text.
pub(crate) type Helper = (&'static str, &'static str);

/// `types::literal` of an f64 infinity and NaN (a test keeps them equal),
/// as constants for the helpers' texts.
const INF: &str = "f64(bitcast<f32>(0x7f800000u))";
const NAN: &str = "f64(bitcast<f32>(0x7fc00000u))";

/// The helpers `name` (a WGSL builtin, `exp` … `atan2`, `pow`) of a
/// `double` needs, itself first; `None` for those not written here.
pub(crate) fn helpers_for(name: &str) -> Option<Vec<Helper>> {
    let exp = helper_exp();
    let log = helper_log();
    let (sin, cos, kernels) = (helper_sin(), helper_cos(), helper_sin_cos_kernels());
    let atan = helper_atan();
    let atan2 = helper_atan2();
    Some(match name {
        "exp" => vec![exp],
        "log" => vec![log],
        "log2" => vec![helper_log2(), log],
        "log10" => vec![helper_log10(), log],
        "pow" => vec![helper_pow(), exp, log],
        "sin" => vec![sin, kernels],
        "cos" => vec![cos, kernels],
        "tan" => vec![helper_tan(), sin, cos, kernels],
        "atan" => vec![atan],
        "atan2" => vec![atan2, atan],
        "asin" => vec![helper_asin(), atan2, atan],
        "acos" => vec![helper_acos(), atan2, atan],
        "cbrt" => vec![helper_cbrt(), exp, log],
        _ => return None,
    })
}

/// What the warning at each call says about the result's accuracy.
pub(crate) fn accuracy(name: &str) -> &'static str {
    match name {
        "exp" | "log" | "atan" | "cbrt" => "within about 1 ulp",
        "sin" | "cos" => "within about 1 ulp for |x| < 1.6e6, less accurate beyond",
        "tan" => "within a few ulp for |x| < 1.6e6, less accurate beyond",
        "pow" => {
            "integer exponents up to 64 by repeated multiplication (one rounding per multiplication, correctly rounded for y = 2), otherwise as exp(y*log|x|): relative error about |y*ln x|*2^-53 (1e-14 at |y*ln x| = 50)"
        }
        _ => "within a few ulp",
    }
}

/// The WGSL function name of `name`'s helper.
pub(crate) fn function_name(name: &str) -> String {
    format!("cuda_{name}_f64")
}

fn leak(text: String) -> &'static str {
    // Each text is made once per process (see the `OnceLock`s below).
    Box::leak(text.into_boxed_str())
}

macro_rules! helper {
    ($fn:ident, $name:expr, $body:expr) => {
        fn $fn() -> Helper {
            static TEXT: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
            ($name, TEXT.get_or_init(|| leak($body)))
        }
    };
}

helper!(
    helper_exp,
    "cuda_exp_f64",
    format!(
        "// CUDA `exp` of a double, in software (fdlibm e_exp.c): x = k*ln2 + r, |r| <= ln2/2,
// exp(r) from a rational approximation, scaled by 2^k.
fn cuda_exp_f64(x: f64) -> f64 {{
    if (!(x == x)) {{
        return x;
    }}
    if (x > 709.782712893383973096lf) {{
        return {INF};
    }}
    if (x < -745.13321910194110842lf) {{
        return 0.0lf;
    }}
    if (abs(x) < 3.725290298461914e-9lf) {{
        return 1.0lf + x;
    }}
    let k = round(x * 1.44269504088896338700lf);
    let hi = x - k * 6.93147180369123816490e-01lf;
    let lo = k * 1.90821492927058770002e-10lf;
    let r = hi - lo;
    let t = r * r;
    let c = r - t * (1.66666666666666019037e-01lf + t * (-2.77777777770155933842e-03lf + t * (6.61375632143793436117e-05lf + t * (-1.65339022054652515390e-06lf + t * 4.13813679705723846039e-08lf))));
    let y = 1.0lf - ((lo - (r * c) / (2.0lf - c)) - hi);
    let n = i32(k);
    if (n > 1000) {{
        return ldexp(y, n - 2) * 4.0lf;
    }}
    if (n < -1000) {{
        return ldexp(y, n + 1000) * ldexp(1.0lf, -1000);
    }}
    return ldexp(y, n);
}}"
    )
);

helper!(
    helper_cbrt,
    "cuda_cbrt_f64",
    format!(
        "// CUDA `cbrt` of a double: exp(log|x| / 3), then two Newton steps y += (|x|/y^2 - y)/3
// (written so that no step overflows), with the sign of x.
fn cuda_cbrt_f64(x: f64) -> f64 {{
    let a = abs(x);
    if (!(x == x) || a == 0.0lf || a == {INF}) {{
        return x;
    }}
    var y = cuda_exp_f64(cuda_log_f64(a) / 3.0lf);
    y = y + (a / (y * y) - y) / 3.0lf;
    y = y + (a / (y * y) - y) / 3.0lf;
    return select(y, -y, x < 0.0lf);
}}"
    )
);

helper!(
    helper_log,
    "cuda_log_f64",
    format!(
        "// CUDA `log` of a double, in software (fdlibm e_log.c): x = 2^k * (1 + f), 1 + f in
// [sqrt(2)/2, sqrt(2)), log(1 + f) from s = f / (2 + f).
fn cuda_log_f64(x: f64) -> f64 {{
    if (!(x == x) || x == {INF}) {{
        return x;
    }}
    if (x < 0.0lf) {{
        return {NAN};
    }}
    if (x == 0.0lf) {{
        return -{INF};
    }}
    // x = 2^k * m with m in [sqrt(2)/2, sqrt(2)): frexp of an f64 needs a 64-bit
    // exponent in naga, so the exponent is found from an f32 estimate.
    var m = x;
    var k = 0;
    for (var i = 0; i < 12 && m > 1.2676506002282294e30lf; i++) {{
        m = m * 7.888609052210118e-31lf;
        k = k + 100;
    }}
    for (var i = 0; i < 12 && m < 7.888609052210118e-31lf; i++) {{
        m = m * 1.2676506002282294e30lf;
        k = k - 100;
    }}
    let e = i32(floor(log2(f32(m))));
    m = ldexp(m, -e);
    k = k + e;
    if (m >= 2.0lf) {{
        m = m * 0.5lf;
        k = k + 1;
    }}
    if (m < 1.0lf) {{
        m = m * 2.0lf;
        k = k - 1;
    }}
    if (m > 1.41421356237309504880lf) {{
        m = m * 0.5lf;
        k = k + 1;
    }}
    let f = m - 1.0lf;
    let s = f / (2.0lf + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (3.999999999940941908e-01lf + w * (2.222219843214978396e-01lf + w * 1.531383769920937332e-01lf));
    let t2 = z * (6.666666666666735130e-01lf + w * (2.857142874366239149e-01lf + w * (1.818357216161805012e-01lf + w * 1.479819860511658591e-01lf)));
    let r = t2 + t1;
    let hfsq = 0.5lf * f * f;
    let dk = f64(k);
    return dk * 6.93147180369123816490e-01lf - ((hfsq - (s * (hfsq + r) + dk * 1.90821492927058770002e-10lf)) - f);
}}"
    )
);

/// `log2` or `log10` of a double: the natural logarithm times `factor`.
fn log_base(name: &str, factor: f64) -> String {
    format!(
        "// CUDA `{name}` of a double: the natural logarithm times {factor:?}.
fn cuda_{name}_f64(x: f64) -> f64 {{
    return cuda_log_f64(x) * {factor:?}lf;
}}"
    )
}

helper!(
    helper_log2,
    "cuda_log2_f64",
    log_base("log2", std::f64::consts::LOG2_E)
);
helper!(
    helper_log10,
    "cuda_log10_f64",
    log_base("log10", std::f64::consts::LOG10_E)
);

helper!(
    helper_pow,
    "cuda_pow_f64",
    format!(
        "// CUDA `pow` of doubles, in software: C99's special cases (Annex F), integer exponents up to 64 by
// repeated multiplication, 0.5 by sqrt, otherwise exp(y * log|x|).
fn cuda_pow_f64(x: f64, y: f64) -> f64 {{
    if (y == 0.0lf || x == 1.0lf) {{
        return 1.0lf;
    }}
    if (!(x == x) || !(y == y)) {{
        return x + y;
    }}
    let ax = abs(x);
    let ay = abs(y);
    if (ay == {INF}) {{
        if (ax == 1.0lf) {{
            return 1.0lf;
        }}
        return select(0.0lf, {INF}, (ax > 1.0lf) == (y > 0.0lf));
    }}
    let integer = round(y) == y;
    let odd = integer && ay < 9007199254740992.0lf && abs(y - 2.0lf * round(y * 0.5lf)) == 1.0lf;
    if (x < 0.0lf && !integer && ax != {INF}) {{
        return {NAN};
    }}
    // The sign of x, that of -0 included (pow(-0, -1) is -inf).
    let negative = x < 0.0lf || (x == 0.0lf && 1.0lf / x < 0.0lf);
    var r: f64;
    if (ax == 0.0lf) {{
        r = select(0.0lf, {INF}, y < 0.0lf);
    }} else if (ax == {INF}) {{
        r = select({INF}, 0.0lf, y < 0.0lf);
    }} else if (integer && ay <= 64.0lf) {{
        var n = u32(ay);
        var b = ax;
        r = 1.0lf;
        loop {{
            if ((n & 1u) != 0u) {{
                r = r * b;
            }}
            n = n >> 1u;
            if (n == 0u) {{
                break;
            }}
            b = b * b;
        }}
        if (y < 0.0lf) {{
            r = 1.0lf / r;
        }}
    }} else if (y == 0.5lf) {{
        r = sqrt(ax);
    }} else {{
        r = cuda_exp_f64(y * cuda_log_f64(ax));
    }}
    return select(r, -r, negative && odd);
}}"
    )
);

helper!(
    helper_sin_cos_kernels,
    "cuda_sincos_kernels_f64",
    "// The kernels of CUDA's `sin` and `cos` of a double, in software (fdlibm k_sin.c, k_cos.c,
// e_rem_pio2.c): the argument reduced to [-pi/4, pi/4] as a sum y0 + y1 with its quadrant
// (Cody-Waite with pi/2 in three parts: exact for |x| < 2^20 * pi/2).
struct cuda_reduced_f64 {
    y0: f64,
    y1: f64,
    quadrant: i32,
}

fn cuda_reduce_pio2_f64(x: f64) -> cuda_reduced_f64 {
    let n = round(x * 6.36619772367581382433e-01lf);
    var r = x - n * 1.57079632673412561417e+00lf;
    var t = r;
    var w = n * 6.07710050630396597660e-11lf;
    r = t - w;
    w = n * 2.02226624879595063154e-21lf - ((t - r) - w);
    t = r;
    w = n * 2.02226624871116645580e-21lf;
    r = t - w;
    w = n * 8.47842766036889956997e-32lf - ((t - r) - w);
    let y0 = r - w;
    let y1 = (r - y0) - w;
    let q = n - 4.0lf * floor(n * 0.25lf);
    return cuda_reduced_f64(y0, y1, i32(q));
}

fn cuda_ksin_f64(x: f64, y: f64) -> f64 {
    let z = x * x;
    let v = z * x;
    let r = 8.33333333332248946124e-03lf + z * (-1.98412698298579493134e-04lf + z * (2.75573137070700676789e-06lf + z * (-2.50507602534068634195e-08lf + z * 1.58969099521155010221e-10lf)));
    return x - ((z * (0.5lf * y - v * r) - y) - v * -1.66666666666666324348e-01lf);
}

fn cuda_kcos_f64(x: f64, y: f64) -> f64 {
    let z = x * x;
    let r = z * (4.16666666666666019037e-02lf + z * (-1.38888888888741095749e-03lf + z * (2.48015872894767294178e-05lf + z * (-2.75573143513906633035e-07lf + z * (2.08757232129817482790e-09lf + z * -1.13596475577881948265e-11lf)))));
    let hz = 0.5lf * z;
    let w = 1.0lf - hz;
    return w + (((1.0lf - w) - hz) + (z * r - x * y));
}"
        .to_string()
);

/// `sin` or `cos` of a double: the kernel each quadrant of the reduced
/// argument takes (`-` before a name negates it); `sin` returns a tiny
/// argument itself.
fn trig(name: &str, quadrants: [&str; 4]) -> String {
    let tiny = match name {
        "sin" => "\n    if (abs(x) < 7.450580596923828e-9lf) {\n        return x;\n    }",
        _ => "",
    };
    let [q0, q1, q2, q3] = quadrants.map(|q| match q.strip_prefix('-') {
        Some(k) => format!("-cuda_k{k}_f64(a.y0, a.y1)"),
        None => format!("cuda_k{q}_f64(a.y0, a.y1)"),
    });
    format!(
        "// CUDA `{name}` of a double, in software (see cuda_reduce_pio2_f64).
fn cuda_{name}_f64(x: f64) -> f64 {{
    if (!(x == x) || abs(x) == {INF}) {{
        return {NAN};
    }}{tiny}
    let a = cuda_reduce_pio2_f64(x);
    if (a.quadrant == 0) {{
        return {q0};
    }}
    if (a.quadrant == 1) {{
        return {q1};
    }}
    if (a.quadrant == 2) {{
        return {q2};
    }}
    return {q3};
}}"
    )
}

helper!(
    helper_sin,
    "cuda_sin_f64",
    trig("sin", ["sin", "cos", "-sin", "-cos"])
);
helper!(
    helper_cos,
    "cuda_cos_f64",
    trig("cos", ["cos", "-sin", "-cos", "sin"])
);

helper!(
    helper_tan,
    "cuda_tan_f64",
    "// CUDA `tan` of a double, in software: sin / cos.
fn cuda_tan_f64(x: f64) -> f64 {
    return cuda_sin_f64(x) / cuda_cos_f64(x);
}"
    .to_string()
);

helper!(
    helper_atan,
    "cuda_atan_f64",
    "// CUDA `atan` of a double, in software (fdlibm s_atan.c): |x| reduced against
// atan(0.5), atan(1), atan(1.5) and pi/2, then an odd polynomial.
fn cuda_atan_f64(x: f64) -> f64 {
    if (!(x == x)) {
        return x;
    }
    var ax = abs(x);
    if (ax > 7.37869762948382064640e+19lf) {
        return select(1.57079632679489655800e+00lf + 6.12323399573676603587e-17lf, -(1.57079632679489655800e+00lf + 6.12323399573676603587e-17lf), x < 0.0lf);
    }
    var id = -1;
    if (ax < 0.4375lf) {
        if (ax < 1.862645149230957e-9lf) {
            return x;
        }
    } else if (ax < 1.1875lf) {
        if (ax < 0.6875lf) {
            id = 0;
            ax = (2.0lf * ax - 1.0lf) / (2.0lf + ax);
        } else {
            id = 1;
            ax = (ax - 1.0lf) / (ax + 1.0lf);
        }
    } else if (ax < 2.4375lf) {
        id = 2;
        ax = (ax - 1.5lf) / (1.0lf + 1.5lf * ax);
    } else {
        id = 3;
        ax = -1.0lf / ax;
    }
    let z = ax * ax;
    let w = z * z;
    let s1 = z * (3.33333333333329318027e-01lf + w * (1.42857142725034663711e-01lf + w * (9.09088713343650656196e-02lf + w * (6.66107313738753120669e-02lf + w * (4.97687799461593236017e-02lf + w * 1.62858201153657823623e-02lf)))));
    let s2 = w * (-1.99999999998764832476e-01lf + w * (-1.11111104054623557880e-01lf + w * (-7.69187620504482999495e-02lf + w * (-5.83357013379057348645e-02lf + w * -3.65315727442169155270e-02lf))));
    if (id < 0) {
        return x - x * (s1 + s2);
    }
    var hi: f64;
    var lo: f64;
    switch (id) {
        case 0: { hi = 4.63647609000806093515e-01lf; lo = 2.26987774529616870924e-17lf; }
        case 1: { hi = 7.85398163397448278999e-01lf; lo = 3.06161699786838301793e-17lf; }
        case 2: { hi = 9.82793723247329054082e-01lf; lo = 1.39033110312309984516e-17lf; }
        default: { hi = 1.57079632679489655800e+00lf; lo = 6.12323399573676603587e-17lf; }
    }
    let r = hi - ((ax * (s1 + s2) - lo) - ax);
    return select(r, -r, x < 0.0lf);
}"
    .to_string()
);

helper!(
    helper_atan2,
    "cuda_atan2_f64",
    format!(
        "// CUDA `atan2` of doubles, in software: atan(|y / x|) placed in its quadrant.
fn cuda_atan2_f64(y: f64, x: f64) -> f64 {{
    if (!(x == x) || !(y == y)) {{
        return x + y;
    }}
    let pi = 3.14159265358979311600e+00lf;
    let pi_lo = 1.22464679914735317720e-16lf;
    let pio2 = 1.57079632679489655800e+00lf;
    let inf = {INF};
    // The signs, those of zeros included (C99 Annex F).
    let y_negative = y < 0.0lf || (y == 0.0lf && 1.0lf / y < 0.0lf);
    let x_negative = x < 0.0lf || (x == 0.0lf && 1.0lf / x < 0.0lf);
    let ax = abs(x);
    let ay = abs(y);
    var r: f64;
    if (ay == 0.0lf) {{
        r = select(0.0lf, pi, x_negative);
    }} else if (ax == 0.0lf) {{
        r = pio2;
    }} else if (ax == inf) {{
        if (ay == inf) {{
            r = select(0.25lf * pi, 0.75lf * pi, x_negative);
        }} else {{
            r = select(0.0lf, pi, x_negative);
        }}
    }} else if (ay == inf) {{
        r = pio2;
    }} else {{
        let a = cuda_atan_f64(ay / ax);
        r = select(a, pi - (a - pi_lo), x_negative);
    }}
    return select(r, -r, y_negative);
}}"
    )
);

helper!(
    helper_asin,
    "cuda_asin_f64",
    format!(
        "// CUDA `asin` of a double, in software: atan2(x, sqrt((1 - x)(1 + x))).
fn cuda_asin_f64(x: f64) -> f64 {{
    if (abs(x) > 1.0lf) {{
        return {NAN};
    }}
    return cuda_atan2_f64(x, sqrt((1.0lf - x) * (1.0lf + x)));
}}"
    )
);

helper!(
    helper_acos,
    "cuda_acos_f64",
    format!(
        "// CUDA `acos` of a double, in software: atan2(sqrt((1 - x)(1 + x)), x).
fn cuda_acos_f64(x: f64) -> f64 {{
    if (abs(x) > 1.0lf) {{
        return {NAN};
    }}
    return cuda_atan2_f64(sqrt((1.0lf - x) * (1.0lf + x)), x);
}}"
    )
);

#[cfg(test)]
mod tests {
    use crate::types::{Konst, Scalar, literal};

    /// The helpers' infinity and NaN are the transpiler's own literals.
    #[test]
    fn infinity_and_nan_are_the_literals_the_transpiler_writes() {
        assert_eq!(
            super::INF,
            literal(Konst::Float(f64::INFINITY), Scalar::F64)
        );
        assert_eq!(super::NAN, literal(Konst::Float(f64::NAN), Scalar::F64));
    }
}
