//! CUDA builtin functions: barriers, atomics, warp intrinsics (through WGSL
//! subgroup builtins), math with CUDA's semantics, vector constructors, and
//! clear refusals for what WGSL cannot do (printf, textures, ...).

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Axis, BinOp, Builtin, Expr, ExprKind, Type as CType, UnOp};

use crate::builtin_names::float_unary;
use crate::context::{AtomicRepr, FnLower, Place, Prec, Sym, Val};
use crate::emit::{BlockKind, WStmt};
use crate::types::{Konst, Scalar, Ty, common_type, map_value_type, promote};
use crate::wexpr::WExpr;

/// `roundf`: CUDA rounds halfway cases away from zero, WGSL `round` to even.
const HELPER_ROUNDF: (&str, &str) = (
    "cuda_roundf",
    "// CUDA `roundf`: halfway cases round away from zero (WGSL `round` rounds to even).
fn cuda_roundf(x: f32) -> f32 {
    let t = trunc(x);
    return select(t, t + sign(x), abs(x - t) >= 0.5f);
}",
);

/// `ldexpf`: WGSL's `ldexp` leaves the result undefined for an exponent
/// past the type's bias (127), where CUDA overflows to infinity or
/// underflows to zero; three steps of at most a third each stay inside it
/// (each partial result lies between `x` and the final one, so no step
/// overflows or underflows unless the result does).
const HELPER_LDEXPF: (&str, &str) = (
    "cuda_ldexpf",
    "// CUDA `ldexpf`: x * 2^e, in three steps WGSL's `ldexp` defines (|step| <= 100).
fn cuda_ldexpf(x: f32, e: i32) -> f32 {
    let n = clamp(e, -300, 300);
    let a = n / 3;
    let b = (n - a) / 2;
    return ldexp(ldexp(ldexp(x, a), b), n - a - b);
}",
);

/// `ldexp` of a `double`: as [`HELPER_LDEXPF`], the bias being 1023.
const HELPER_LDEXP: (&str, &str) = (
    "cuda_ldexp",
    "// CUDA `ldexp`: x * 2^e, in three steps WGSL's `ldexp` defines (|step| <= 734).
fn cuda_ldexp(x: f64, e: i32) -> f64 {
    let n = clamp(e, -2200, 2200);
    let a = n / 3;
    let b = (n - a) / 2;
    return ldexp(ldexp(ldexp(x, a), b), n - a - b);
}",
);

/// The SIMD-in-a-word intrinsics: (name, arity, lane bits, signed lanes,
/// what each lane becomes of `x` and `y`), as the CUDA Math API's "SIMD
/// Intrinsics" define them: wrap-around unless saturated (`ss`: to the
/// signed lane's range, `us`: to the unsigned one's), `vcmp*` all ones
/// where true, `vset*` one, `vhaddu` the truncated and `vavgu` the rounded
/// unsigned average. (`__vavgs*` and the `__vsad*` sums are not here.)
const SIMD_LANES: &[(&str, usize, u32, bool, &str)] = &[
    ("vabs4", 1, 8, true, "abs(x)"),
    ("vabs2", 1, 16, true, "abs(x)"),
    ("vabsdiffs4", 2, 8, true, "abs(x - y)"),
    ("vabsdiffs2", 2, 16, true, "abs(x - y)"),
    ("vabsdiffu4", 2, 8, false, "abs(x - y)"),
    ("vabsdiffu2", 2, 16, false, "abs(x - y)"),
    ("vabsss4", 1, 8, true, "min(abs(x), 127)"),
    ("vadd4", 2, 8, false, "x + y"),
    ("vaddss4", 2, 8, true, "clamp(x + y, -128, 127)"),
    ("vaddus4", 2, 8, false, "min(x + y, 255)"),
    ("vsub4", 2, 8, false, "x - y"),
    ("vsubss4", 2, 8, true, "clamp(x - y, -128, 127)"),
    ("vsubus4", 2, 8, false, "max(x - y, 0)"),
    ("vneg4", 1, 8, true, "-x"),
    ("vnegss4", 1, 8, true, "min(-x, 127)"),
    ("vmaxs4", 2, 8, true, "max(x, y)"),
    ("vmaxu4", 2, 8, false, "max(x, y)"),
    ("vmins4", 2, 8, true, "min(x, y)"),
    ("vminu4", 2, 8, false, "min(x, y)"),
    ("vhaddu4", 2, 8, false, "(x + y) >> 1u"),
    ("vavgu4", 2, 8, false, "(x + y + 1) >> 1u"),
    ("vcmpeq4", 2, 8, false, "select(0, -1, x == y)"),
    ("vcmpne4", 2, 8, false, "select(0, -1, x != y)"),
    ("vcmpges4", 2, 8, true, "select(0, -1, x >= y)"),
    ("vcmpgeu4", 2, 8, false, "select(0, -1, x >= y)"),
    ("vcmpgts4", 2, 8, true, "select(0, -1, x > y)"),
    ("vcmpgtu4", 2, 8, false, "select(0, -1, x > y)"),
    ("vcmples4", 2, 8, true, "select(0, -1, x <= y)"),
    ("vcmpleu4", 2, 8, false, "select(0, -1, x <= y)"),
    ("vcmplts4", 2, 8, true, "select(0, -1, x < y)"),
    ("vcmpltu4", 2, 8, false, "select(0, -1, x < y)"),
    ("vseteq4", 2, 8, false, "select(0, 1, x == y)"),
    ("vsetne4", 2, 8, false, "select(0, 1, x != y)"),
    ("vsetges4", 2, 8, true, "select(0, 1, x >= y)"),
    ("vsetgeu4", 2, 8, false, "select(0, 1, x >= y)"),
    ("vsetgts4", 2, 8, true, "select(0, 1, x > y)"),
    ("vsetgtu4", 2, 8, false, "select(0, 1, x > y)"),
    ("vsetles4", 2, 8, true, "select(0, 1, x <= y)"),
    ("vsetleu4", 2, 8, false, "select(0, 1, x <= y)"),
    ("vsetlts4", 2, 8, true, "select(0, 1, x < y)"),
    ("vsetltu4", 2, 8, false, "select(0, 1, x < y)"),
    ("vabsss2", 1, 16, true, "min(abs(x), 32767)"),
    ("vadd2", 2, 16, false, "x + y"),
    ("vaddss2", 2, 16, true, "clamp(x + y, -32768, 32767)"),
    ("vaddus2", 2, 16, false, "min(x + y, 65535)"),
    ("vsub2", 2, 16, false, "x - y"),
    ("vsubss2", 2, 16, true, "clamp(x - y, -32768, 32767)"),
    ("vsubus2", 2, 16, false, "max(x - y, 0)"),
    ("vneg2", 1, 16, true, "-x"),
    ("vnegss2", 1, 16, true, "min(-x, 32767)"),
    ("vmaxs2", 2, 16, true, "max(x, y)"),
    ("vmaxu2", 2, 16, false, "max(x, y)"),
    ("vmins2", 2, 16, true, "min(x, y)"),
    ("vminu2", 2, 16, false, "min(x, y)"),
    ("vhaddu2", 2, 16, false, "(x + y) >> 1u"),
    ("vavgu2", 2, 16, false, "(x + y + 1) >> 1u"),
    ("vcmpeq2", 2, 16, false, "select(0, -1, x == y)"),
    ("vcmpne2", 2, 16, false, "select(0, -1, x != y)"),
    ("vcmpges2", 2, 16, true, "select(0, -1, x >= y)"),
    ("vcmpgeu2", 2, 16, false, "select(0, -1, x >= y)"),
    ("vcmpgts2", 2, 16, true, "select(0, -1, x > y)"),
    ("vcmpgtu2", 2, 16, false, "select(0, -1, x > y)"),
    ("vcmples2", 2, 16, true, "select(0, -1, x <= y)"),
    ("vcmpleu2", 2, 16, false, "select(0, -1, x <= y)"),
    ("vcmplts2", 2, 16, true, "select(0, -1, x < y)"),
    ("vcmpltu2", 2, 16, false, "select(0, -1, x < y)"),
    ("vseteq2", 2, 16, false, "select(0, 1, x == y)"),
    ("vsetne2", 2, 16, false, "select(0, 1, x != y)"),
    ("vsetges2", 2, 16, true, "select(0, 1, x >= y)"),
    ("vsetgeu2", 2, 16, false, "select(0, 1, x >= y)"),
    ("vsetgts2", 2, 16, true, "select(0, 1, x > y)"),
    ("vsetgtu2", 2, 16, false, "select(0, 1, x > y)"),
    ("vsetles2", 2, 16, true, "select(0, 1, x <= y)"),
    ("vsetleu2", 2, 16, false, "select(0, 1, x <= y)"),
    ("vsetlts2", 2, 16, true, "select(0, 1, x < y)"),
    ("vsetltu2", 2, 16, false, "select(0, 1, x < y)"),
    // The signed average rounds half away from zero (NVIDIA's
    // simd_functions.h: `(a + b) >> 1` where the sum is negative, else
    // `(a + b + 1) >> 1`); the `vsad` rows are summed over the lanes.
    (
        "vavgs4",
        2,
        8,
        true,
        "select((x + y + 1) >> 1u, (x + y) >> 1u, x + y < 0)",
    ),
    (
        "vavgs2",
        2,
        16,
        true,
        "select((x + y + 1) >> 1u, (x + y) >> 1u, x + y < 0)",
    ),
    ("vsads4", 2, 8, true, "abs(x - y)"),
    ("vsads2", 2, 16, true, "abs(x - y)"),
    ("vsadu4", 2, 8, false, "abs(x - y)"),
    ("vsadu2", 2, 16, false, "abs(x - y)"),
    // sm_90's DPX functions: a 16-bit lane's sum wraps to the lane before
    // it is compared; `relu` is a maximum with 0.
    ("vimax_s32", 2, 32, true, "max(x, y)"),
    ("vimax_u32", 2, 32, false, "max(x, y)"),
    ("vimax_s16x2", 2, 16, true, "max(x, y)"),
    ("vimax_u16x2", 2, 16, false, "max(x, y)"),
    ("vimin_s32", 2, 32, true, "min(x, y)"),
    ("vimin_u32", 2, 32, false, "min(x, y)"),
    ("vimin_s16x2", 2, 16, true, "min(x, y)"),
    ("vimin_u16x2", 2, 16, false, "min(x, y)"),
    ("viaddmax_s32", 3, 32, true, "max(x + y, z)"),
    ("viaddmax_s32_relu", 3, 32, true, "max(max(x + y, z), 0)"),
    ("vimax3_s32", 3, 32, true, "max(max(x, y), z)"),
    ("vimax3_s32_relu", 3, 32, true, "max(max(max(x, y), z), 0)"),
    ("vimax_s32_relu", 2, 32, true, "max(max(x, y), 0)"),
    ("viaddmax_u32", 3, 32, false, "max(x + y, z)"),
    ("vimax3_u32", 3, 32, false, "max(max(x, y), z)"),
    (
        "viaddmax_s16x2",
        3,
        16,
        true,
        "max(extractBits(x + y, 0u, 16u), z)",
    ),
    (
        "viaddmax_s16x2_relu",
        3,
        16,
        true,
        "max(max(extractBits(x + y, 0u, 16u), z), 0)",
    ),
    ("vimax3_s16x2", 3, 16, true, "max(max(x, y), z)"),
    (
        "vimax3_s16x2_relu",
        3,
        16,
        true,
        "max(max(max(x, y), z), 0)",
    ),
    ("vimax_s16x2_relu", 2, 16, true, "max(max(x, y), 0)"),
    ("viaddmax_u16x2", 3, 16, false, "max(((x + y) & 0xffff), z)"),
    ("vimax3_u16x2", 3, 16, false, "max(max(x, y), z)"),
    ("viaddmin_s32", 3, 32, true, "min(x + y, z)"),
    ("viaddmin_s32_relu", 3, 32, true, "max(min(x + y, z), 0)"),
    ("vimin3_s32", 3, 32, true, "min(min(x, y), z)"),
    ("vimin3_s32_relu", 3, 32, true, "max(min(min(x, y), z), 0)"),
    ("vimin_s32_relu", 2, 32, true, "max(min(x, y), 0)"),
    ("viaddmin_u32", 3, 32, false, "min(x + y, z)"),
    ("vimin3_u32", 3, 32, false, "min(min(x, y), z)"),
    (
        "viaddmin_s16x2",
        3,
        16,
        true,
        "min(extractBits(x + y, 0u, 16u), z)",
    ),
    (
        "viaddmin_s16x2_relu",
        3,
        16,
        true,
        "max(min(extractBits(x + y, 0u, 16u), z), 0)",
    ),
    ("vimin3_s16x2", 3, 16, true, "min(min(x, y), z)"),
    (
        "vimin3_s16x2_relu",
        3,
        16,
        true,
        "max(min(min(x, y), z), 0)",
    ),
    ("vimin_s16x2_relu", 2, 16, true, "max(min(x, y), 0)"),
    ("viaddmin_u16x2", 3, 16, false, "min(((x + y) & 0xffff), z)"),
    ("vimin3_u16x2", 3, 16, false, "min(min(x, y), z)"),
];

/// The value of a SIMD or DPX intrinsic's helper call `word`: the DPX
/// functions of whole signed words (`__vimax_s32`) return `int`, the rest
/// `unsigned int`.
fn simd_result(name: &str, word: WExpr) -> Val {
    match name.contains("_s32") {
        true => Val::atom(WExpr::call("bitcast<i32>", vec![word]), Ty::I32),
        false => Val::atom(word, Ty::U32),
    }
}

/// The place an intrinsic's out-parameter writes: `&e` writes `e`, a
/// pointer `p` writes `*p`.
fn pointee(target: &Expr) -> Expr {
    match &target.kind {
        ExprKind::Unary(cudalens_syntax::ir::UnOp::AddrOf, inner) => (**inner).clone(),
        _ => Expr {
            kind: ExprKind::Unary(cudalens_syntax::ir::UnOp::Deref, Box::new(target.clone())),
            span: target.span,
            from_macro: target.from_macro,
        },
    }
}

/// The helper of the SIMD-in-a-word intrinsic `name` (`__vabs4` …) and its
/// arity: each byte or halfword of the 32-bit words taken out
/// (sign-extended for the signed ones), through the lane's expression, and
/// put back (the low bits: `-128` stays `0x80`, as in CUDA).
fn simd_helper(name: &str) -> Option<((&'static str, &'static str), usize)> {
    static TEXTS: std::sync::OnceLock<Vec<(&'static str, &'static str)>> =
        std::sync::OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        SIMD_LANES
            .iter()
            .map(|&(lanes, arity, bits, signed, each)| {
                // Lanes are `i32`, but a whole unsigned word stays `u32`.
                let lane = |v: &str| match (signed, bits) {
                    (true, _) => format!("extractBits(bitcast<i32>({v}), k, {bits}u)"),
                    (false, 32) => format!("extractBits({v}, k, 32u)"),
                    (false, _) => format!("bitcast<i32>(extractBits({v}, k, {bits}u))"),
                };
                let params = ["a: u32", "b: u32", "c: u32"][..arity].join(", ");
                let kind = if signed { "signed" } else { "unsigned" };
                let (what, update) = match lanes.starts_with("vsad") {
                    true => (
                        format!("the sum of {each} over each {kind} {bits}-bit lane"),
                        format!("r += bitcast<u32>({each});"),
                    ),
                    false => (
                        format!("{each} of each {kind} {bits}-bit lane"),
                        format!("r = insertBits(r, bitcast<u32>({each}), k, {bits}u);"),
                    ),
                };
                let third = match arity {
                    3 => format!("\n        let z = {};", lane("c")),
                    _ => String::new(),
                };
                let text = format!(
                    "// CUDA `__{lanes}`: {what}.
fn cuda_{lanes}({params}) -> u32 {{
    var r = 0u;
    for (var k = 0u; k < 32u; k += {bits}u) {{
        let x = {x};
        let y = {y};{third}
        {update}
    }}
    return r;
}}",
                    x = lane("a"),
                    y = if arity >= 2 { lane("b") } else { "0".into() },
                );
                let leak = |t: String| -> &'static str { Box::leak(t.into_boxed_str()) };
                (leak(format!("cuda_{lanes}")), leak(text))
            })
            .collect()
    });
    let at = SIMD_LANES
        .iter()
        .position(|l| Some(l.0) == name.strip_prefix("__"))?;
    Some((texts[at], SIMD_LANES[at].1))
}

/// `__umulhi`, `__umul64hi`: the high half of the full product, from the
/// four products of the operands' halves (WGSL has no wider integer).
const HELPER_UMULHI: (&str, &str) = (
    "cuda_umulhi",
    "// CUDA `__umulhi`: bits 32..63 of the 64-bit product.
fn cuda_umulhi(a: u32, b: u32) -> u32 {
    let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
    let p01 = a0 * b1; let p10 = a1 * b0;
    let mid = ((a0 * b0) >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
    return a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
}",
);
const HELPER_UMUL64HI: (&str, &str) = (
    "cuda_umul64hi",
    "// CUDA `__umul64hi`: bits 64..127 of the 128-bit product.
fn cuda_umul64hi(a: u64, b: u64) -> u64 {
    let m = 0xfffffffflu;
    let a0 = a & m; let a1 = a >> 32u; let b0 = b & m; let b1 = b >> 32u;
    let p01 = a0 * b1; let p10 = a1 * b0;
    let mid = ((a0 * b0) >> 32u) + (p01 & m) + (p10 & m);
    return a1 * b1 + (p01 >> 32u) + (p10 >> 32u) + (mid >> 32u);
}",
);
/// `__mulhi`, `__mul64hi`: the unsigned high half, less each negative
/// operand's partner (two's complement: a = ua - 2^n when negative).
const HELPER_MULHI: (&str, &str) = (
    "cuda_mulhi",
    "// CUDA `__mulhi`: bits 32..63 of the signed 64-bit product.
fn cuda_mulhi(a: i32, b: i32) -> i32 {
    var h = cuda_umulhi(bitcast<u32>(a), bitcast<u32>(b));
    if (a < 0) { h = h - bitcast<u32>(b); }
    if (b < 0) { h = h - bitcast<u32>(a); }
    return bitcast<i32>(h);
}",
);
const HELPER_MUL64HI: (&str, &str) = (
    "cuda_mul64hi",
    "// CUDA `__mul64hi`: bits 64..127 of the signed 128-bit product.
fn cuda_mul64hi(a: i64, b: i64) -> i64 {
    var h = cuda_umul64hi(bitcast<u64>(a), bitcast<u64>(b));
    if (a < 0) { h = h - bitcast<u64>(b); }
    if (b < 0) { h = h - bitcast<u64>(a); }
    return bitcast<i64>(h);
}",
);

/// `__nv_cvt_float_to_fp8(x, saturate, interpretation)`: `x` rounded to
/// nearest even in E4M3 (bias 7, 3 mantissa bits, no infinity, NaN
/// 0x7F) or E5M2 (bias 15, 2 mantissa bits), as PTX's `cvt.rn` does; too
/// large (or infinite) is the largest finite value with `__NV_SATFINITE`,
/// else NaN (E4M3) or infinity (E5M2); NaN is the canonical 0x7F.
const HELPER_FP8: (&str, &str) = (
    "cuda_fp8_from_f32",
    "// CUDA `__nv_cvt_float_to_fp8`: round to nearest even, then saturate.
fn cuda_fp8_from_f32(x: f32, e5m2: bool, satfinite: bool) -> u32 {
    let bits = bitcast<u32>(x);
    let sign = (bits >> 24u) & 0x80u;
    let a = bits & 0x7fffffffu;
    if (a > 0x7f800000u) { return 0x7fu; }
    let m = select(3u, 2u, e5m2);
    let maxnorm = select(0x7eu, 0x7bu, e5m2);
    let over = select(select(0x7fu, 0x7cu, e5m2), maxnorm, satfinite);
    if (a == 0x7f800000u) { return sign | over; }
    var biased = i32(a >> 23u) - 127 + select(7, 15, e5m2);
    let mant = (a & 0x7fffffu) | 0x800000u;
    var shift = 23u - m;
    if (biased < 1) {
        shift = shift + u32(1 - biased);
        biased = 0;
    }
    if (shift >= 31u) { return sign; }
    let lsb = (mant >> shift) & 1u;
    let rounded = (mant + (1u << (shift - 1u)) - 1u + lsb) >> shift;
    var r = rounded;
    if (biased > 0) { r = (u32(biased) << m) + rounded - (1u << m); }
    if (r > maxnorm) { r = over; }
    return sign | r;
}",
);

/// `__byte_perm(x, y, s)`: byte `n` of the result is byte `s<4n+2:4n>` of
/// the eight bytes `y:x` (x's lowest first), as the CUDA Math API defines
/// it (the selector nibbles' fourth bit is not read).
const HELPER_BYTE_PERM: (&str, &str) = (
    "cuda_byte_perm",
    "// CUDA `__byte_perm`: byte n of the result is byte (s >> 4n) & 7 of y:x.
fn cuda_byte_perm(x: u32, y: u32, s: u32) -> u32 {
    var r = 0u;
    for (var n = 0u; n < 4u; n++) {
        let k = extractBits(s, 4u * n, 3u);
        let word = select(y, x, k < 4u);
        r = insertBits(r, extractBits(word, 8u * (k & 3u), 8u), 8u * n, 8u);
    }
    return r;
}",
);

/// `copysignf`: the magnitude of `x` with the sign bit of `y`.
const HELPER_COPYSIGNF: (&str, &str) = (
    "cuda_copysignf",
    "// CUDA `copysignf`: magnitude of `x`, sign bit of `y` (also for -0.0 and NaN).
fn cuda_copysignf(x: f32, y: f32) -> f32 {
    return bitcast<f32>((bitcast<u32>(x) & 0x7fffffffu) | (bitcast<u32>(y) & 0x80000000u));
}",
);

pub(crate) const HELPER_HYPOTF: (&str, &str) = (
    "cuda_hypotf",
    "// CUDA `hypotf`: sqrt(x * x + y * y) without overflow or underflow on the
// way; infinite when either argument is (even beside a NaN), else NaN when
// either is NaN.
fn cuda_hypotf(x: f32, y: f32) -> f32 {
    let bx = bitcast<u32>(x) & 0x7fffffffu;
    let by = bitcast<u32>(y) & 0x7fffffffu;
    if (bx == 0x7f800000u || by == 0x7f800000u) {
        return bitcast<f32>(0x7f800000u);
    }
    if (bx > 0x7f800000u || by > 0x7f800000u) {
        return bitcast<f32>(0x7fc00000u);
    }
    let m = bitcast<f32>(max(bx, by));
    if (m == 0.0f) {
        return 0.0f;
    }
    let q = bitcast<f32>(min(bx, by)) / m;
    return m * sqrt(1.0f + q * q);
}",
);

/// `log1pf`: log(1 + x) accurate for small `x`. WGSL's `log` has an
/// absolute error bound of 2^-21 near 1, which is all of log(1 + x) for
/// x = 1e-7: below |x| = 1/16 a Taylor series (to x^8: error under 1e-10
/// relative), above it `log(1 + x)`.
const HELPER_LOG1PF: (&str, &str) = (
    "cuda_log1pf",
    "// CUDA `log1pf`: log(1 + x); a series near 0, where log(1 + x) would lose x.
fn cuda_log1pf(x: f32) -> f32 {
    if (abs(x) < 0.0625f) {
        return x * (1.0f - x * (0.5f - x * (1.0f / 3.0f - x * (0.25f - x * (0.2f - x * (1.0f / 6.0f - x * (1.0f / 7.0f - x * 0.125f)))))));
    }
    return log(1.0f + x);
}",
);

/// `expm1f`: exp(x) - 1 accurate for small `x`: below |x| = 1/16 a Taylor
/// series (to x^7), above it `exp(x) - 1`.
const HELPER_EXPM1F: (&str, &str) = (
    "cuda_expm1f",
    "// CUDA `expm1f`: exp(x) - 1; a series near 0, where exp(x) - 1 would lose x.
fn cuda_expm1f(x: f32) -> f32 {
    if (abs(x) < 0.0625f) {
        return x * (1.0f + x * (0.5f + x * (1.0f / 6.0f + x * (1.0f / 24.0f + x * (1.0f / 120.0f + x * (1.0f / 720.0f + x * (1.0f / 5040.0f)))))));
    }
    return exp(x) - 1.0f;
}",
);

/// `cbrtf`: the real cube root (negative for negative `x`), with one Newton
/// step after `pow` (whose error alone exceeds CUDA's 1 ulp bound).
const HELPER_CBRTF: (&str, &str) = (
    "cuda_cbrtf",
    "// CUDA `cbrtf`: real cube root, one Newton step refining pow(|x|, 1/3).
fn cuda_cbrtf(x: f32) -> f32 {
    let a = abs(x);
    if (a == 0.0f || a == bitcast<f32>(0x7f800000u) || a != a) {
        return x;
    }
    var y = pow(a, 1.0f / 3.0f);
    y = y - (y * y * y - a) / (3.0f * y * y);
    return select(y, -y, x < 0.0f);
}",
);

/// WGSL builtin `f` (one of `float_unary`'s) of the constant `x`, rounded to
/// `f32` when `single`; `None` for the builtins not folded (those whose
/// domain is the whole line, which naga evaluates without complaint).
fn fold_float_unary(f: &str, x: f64, single: bool) -> Option<f64> {
    let g: fn(f64) -> f64 = match f {
        "sqrt" => f64::sqrt,
        "inverseSqrt" => |v| 1.0 / v.sqrt(),
        "log" => f64::ln,
        "log2" => f64::log2,
        "exp" => f64::exp,
        "exp2" => f64::exp2,
        "asin" => f64::asin,
        "acos" => f64::acos,
        _ => return None,
    };
    let x = if single { f64::from(x as f32) } else { x };
    let y = g(x);
    Some(if single { f64::from(y as f32) } else { y })
}

impl<'m> FnLower<'_, 'm> {
    /// `float(x)`, `T(x)`, `(fp)(x)`, `uint(x)`: C++'s functional casts (a
    /// call whose callee names a value type) are explicit conversions;
    /// `T()` is the zero value.
    fn functional_cast(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let name = name.trim_start_matches('(').trim_end_matches(')').trim();
        if args.len() > 1 || self.lookup(name).is_some() || self.m.model.function(name).is_some() {
            return None;
        }
        // `(uchar)(x)`, `Bool(x)`: an 8/16-bit type, narrowed as a C cast.
        if let Some(k) = self.packed_of(&CType::named(name), false)
            && !k.boolean
            && k.lanes == 1
            && let Some(arg) = args.first()
        {
            let v = self.expr(arg, out);
            if v.is_error() {
                return Some(v);
            }
            return Some(self.narrow(v, k, span));
        }
        let ty = self.subst_type(&CType::named(name));
        let to = match map_value_type(&ty, &self.m.model.types, self.m.opts) {
            Ok(to) => to,
            // `#define fp float` then `fp(x)`: the body keeps the call as
            // written; the macro names the type.
            Err(_) => {
                let expanded = self.m.model.macros.expand_text(name).ok()?;
                let expanded = expanded.trim();
                if expanded == name || expanded.is_empty() {
                    return None;
                }
                let ty = self.subst_type(&CType::named(expanded));
                map_value_type(&ty, &self.m.model.types, self.m.opts).ok()?
            }
        };
        if !to.is_value() {
            return None;
        }
        self.note_type(&to);
        Some(match args.first() {
            Some(arg) => {
                let v = self.expr(arg, out);
                self.explicit_cast(v, &to, span)
            }
            None => crate::stmt::zero_value(&to),
        })
    }

    /// Cooperative groups on the thread block: `cg::sync(cta)`,
    /// `cta.sync()` (a `__syncthreads()`), `cta.thread_rank()` (the linear
    /// thread index), `cta.size()` / `cta.num_threads()` (the block's
    /// threads). `None`: not such a call.
    fn thread_block_call(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        if let Some(v) = self.coalesced_call(name, args, span, out) {
            return Some(v);
        }
        if let Some(v) = self.tile_call(name, args, span, out) {
            return Some(v);
        }
        let is_block = |this: &Self, e: &Expr| {
            e.as_ident()
                .is_some_and(|n| matches!(this.lookup(n), Some(Sym::ThreadBlock)))
                || matches!(&e.kind, ExprKind::Call(c) if crate::source_facts::is_this_thread_block(&c.callee))
        };
        let method = match name.rsplit_once('.') {
            Some((receiver, method))
                if matches!(self.lookup(receiver.trim()), Some(Sym::ThreadBlock)) =>
            {
                method.trim()
            }
            _ => {
                let bare = crate::source_facts::strip_cg(name);
                if bare == "sync" && args.len() == 1 && is_block(self, &args[0]) {
                    "sync"
                } else if bare == "this_thread_block" && args.is_empty() {
                    // Used as a value only where a group is passed on.
                    return Some(self.error(
                        span,
                        "`this_thread_block()` is supported as the initialiser of a `thread_block` variable",
                    ));
                } else {
                    return None;
                }
            }
        };
        let dims = || block_thread_count(span);
        Some(match method {
            "sync" => {
                self.barrier(out);
                Val::void()
            }
            "thread_rank" => self.expr(&block_thread_rank(span), out),
            "size" | "num_threads" => self.expr(&dims(), out),
            other => self.error(
                span,
                format!("cooperative groups: `thread_block::{other}` is not supported yet"),
            ),
        })
    }

    /// Lowers a call: a CUDA builtin, a device function, or a diagnostic.
    pub fn call(
        &mut self,
        callee: &str,
        template_args: &[String],
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        self.last_effectful = false;
        let name = callee.trim_start_matches("::").trim_start_matches("std::");
        if let Some(Sym::Function(target)) = self.lookup(name).cloned() {
            return self.call(&target, &[], args, span, out);
        }
        if let Some(v) = self.thread_block_call(name, args, span, out) {
            return v;
        }
        if let Some(v) = self.block_reduce_call(name, args, span, out) {
            return v;
        }
        if let Some(v) = self.texture_call(name, template_args, args, span, out) {
            return v;
        }
        // A builtin name the file overloads for vector arguments with
        // another result (`float abs(float2 a) { return hypotf(a.x, a.y); }`,
        // where WGSL's `abs` is per component): C++ calls the file's
        // function, whose parameters match the arguments exactly.
        if let Some(f) = self.overload_with_other_result(name, args, span) {
            return self.call_device(f, &[], args, span, out);
        }
        if let Some(v) = self.cucomplex_call(name, args, span, out) {
            return v;
        }
        // `Pair<T>(a, b)`: a temporary of a class template's instance.
        if !template_args.is_empty()
            && let Some(instance) = self.class_instance(&CType {
                template_args: template_args.to_vec(),
                ..CType::named(name)
            })
        {
            if !self.m.model.types.structs.contains_key(&instance.base) {
                return self.error(span, format!("unknown or unsupported type `{name}`"));
            }
            if let Some(v) = self.construct(&instance.base, args, span, out) {
                return v;
            }
        }
        // `PayoffPut(k)`: a temporary of a struct the file constructs.
        if self.m.model.types.structs.contains_key(name)
            && let Some(v) = self.construct(name, args, span, out)
        {
            return v;
        }
        if let Some(f) = self.file_atomic(name, args) {
            return self.call_device(f, &[], args, span, out);
        }
        let diags = self.m.diags.len();
        if let Some(v) = self.intrinsic(name, args, span, out) {
            return v;
        }
        // An intrinsic whose argument failed (`__ldcs(x + i)` with `x`
        // unknown) has said why: it is not also an unknown function.
        if self.m.diags[diags..].iter().any(|d| d.is_error()) {
            return Val::error();
        }
        if let Some(v) = self.numeric_limits(name, args, span) {
            return v;
        }
        if let Some(v) = self.functional_cast(name, args, span, out) {
            return v;
        }
        let model = self.m.model;
        // `Comparator::compare(x, y)` with `Comparator` a template type
        // parameter (HeCBench collision): the static method of the struct
        // it is bound to.
        if let Some((class, method)) = name.rsplit_once("::")
            && let Some(bound) = self.template_types.get(class).cloned()
            && bound.pointer == 0
        {
            // `LessThan<int>`: the class template's static method, with the
            // class's arguments (`class_template_static`).
            let spelled = match bound.template_args.is_empty() {
                true => bound.base.clone(),
                false => format!("{}<{}>", bound.base, bound.template_args.join(", ")),
            };
            let plain = bound.base.split('<').next().unwrap_or_default();
            if spelled != class && model.function(&format!("{plain}::{method}")).is_some() {
                return self.call(
                    &format!("{spelled}::{method}"),
                    template_args,
                    args,
                    span,
                    out,
                );
            }
        }
        // `Func<T>::op(a, b)` with `Func` a template template parameter
        // bound to `SumOp` (HeCBench rmsnorm's `BlockReduce<SumOp, float>`):
        // `SumOp<T>::op`, `T` resolved where the call is.
        if let Some((class, method)) = name.rsplit_once("::")
            && let Some((param, class_args)) = cudalens_syntax::types::template_instance(class)
            && let Some(bound) = self.template_types.get(param).cloned()
            && bound.pointer == 0
            && bound.template_args.is_empty()
            && bound.base != *param
        {
            let renamed = format!("{}<{}>::{method}", bound.base, class_args.join(", "));
            if self.class_template_static(&renamed).is_some() {
                return self.call(&renamed, template_args, args, span, out);
            }
        }
        if let Some((f, class_args)) = self.class_template_static(name) {
            let all: Vec<String> = class_args
                .into_iter()
                .chain(template_args.iter().cloned())
                .collect();
            return self.call_device(f, &all, args, span, out);
        }
        let name = crate::analysis::namespaced_callee(model, name);
        // `P<DEGREE>(x)` with an explicit specialization `template <> float
        // P<7>(float x)` for the arguments here: C++ calls that one.
        if !template_args.is_empty()
            && let Some(want) = self.specialization_name(name, template_args)
            && let Some(f) = model.functions.iter().map(|f| &**f).find(|f| {
                f.body.is_some()
                    && f.callable_from_device()
                    && f.name
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect::<String>()
                        == want
            })
        {
            return self.call_device(f, &[], args, span, out);
        }
        // `MIN(a, b)` with explicit specializations `MIN<float>`,
        // `MIN<double>` of a template: the one for the deduced arguments.
        if template_args.is_empty()
            && let Some(f) = self.deduced_specialization(name, args)
        {
            return self.call_device(f, &[], args, span, out);
        }
        if let Some(f) = self.overload_of(name, template_args, args) {
            return self.call_device(f, template_args, args, span, out);
        }
        match crate::analysis::device_function(model, name) {
            Some(f) if f.body.is_some() && f.callable_from_device() => self.call_device(f, template_args, args, span, out),
            Some(f) if f.body.is_none() => self.error(
                span,
                format!("`{name}` has no definition in this file (device functions must be visible to be compiled)"),
            ),
            Some(_) => self.error(span, format!("`{name}` is a host function and cannot be called from a kernel")),
            None if self.lookup(name).is_some() => {
                self.error(span, format!("calling `{name}` through a pointer: function pointers cannot be expressed in WGSL"))
            }
            // Names beginning `__` are CUDA's and the compiler's: an
            // intrinsic, not a function pointer.
            None if name.starts_with("__") => self.error(
                span,
                format!("`{name}`: a CUDA intrinsic cudalens does not transpile yet (the file does not define it, and no WGSL for it is written)"),
            ),
            None => self.error(
                span,
                format!("unknown function `{name}`: not a device function of this file (function pointers cannot be expressed in WGSL)"),
            ),
        }
    }

    /// `HashTable<K, V>::empty_key` of a class template's static member
    /// function: the function `HashTable::empty_key` (which takes the
    /// class's parameters first, `syntax::model::methods`) and the class
    /// arguments written.
    fn class_template_static(
        &self,
        name: &str,
    ) -> Option<(&'m cudalens_syntax::model::Function, Vec<String>)> {
        let (class, method) = name.rsplit_once("::")?;
        let (class, args) = cudalens_syntax::types::template_instance(class)?;
        let qualified = format!("{class}::{method}");
        let f = self.m.model.functions.iter().map(|f| &**f).find(|f| {
            f.name == qualified
                && f.body.is_some()
                && f.callable_from_device()
                && f.params.first().is_none_or(|p| p.name != "this")
                && f.template_params.len() >= args.len()
        })?;
        Some((f, args))
    }

    /// A constant `double` argument read from a `var`: naga's constant
    /// evaluator cannot apply most math functions to 64-bit floats
    /// (`acos(-1.0lf)` fails validation), and a `let` of a constant is a
    /// constant again when wgpu specializes the module for the pipeline
    /// (naga's `process_overrides` then fails on `abs(c)`); a `var` is
    /// read at run time, as in CUDA.
    fn runtime_f64(&mut self, v: Val, out: &mut Vec<WStmt>) -> Val {
        if v.konst.is_none() || v.ty.scalar() != Some(Scalar::F64) {
            return v;
        }
        let name = self.fresh("c");
        out.push(WStmt::decl(
            "var",
            name.clone(),
            Some("f64".to_string()),
            Some(v.expr.clone()),
        ));
        Val::atom(name, v.ty)
    }

    /// The name an explicit specialization of the function template `name`
    /// for `template_args` has in the model (`P<7>`, without spaces): each
    /// argument resolved in this scope (an integer, a constant or template
    /// value, a type).
    fn specialization_name(&mut self, name: &str, template_args: &[String]) -> Option<String> {
        let mut resolved = Vec::new();
        for a in template_args {
            let a = a.trim();
            let text = if a.parse::<i128>().is_ok() {
                a.to_string()
            } else if let Some(Sym::Const(v)) = self.lookup(a)
                && let Some(k) = v.konst
            {
                k.as_int().to_string()
            } else if let Some(v) = self.m.model.consts.get(a) {
                v.to_string()
            } else if !matches!(a, "true" | "false")
                && let Some(v) = self.template_value(a)
            {
                // `N - 1` in `f<N>`: `f<0>` where N is 1. (`f<true>` is
                // written so in the model: not `f<1>`.)
                v.to_string()
            } else {
                let t = self.subst_type(&CType::named(a));
                if t.pointer > 0 {
                    return None;
                }
                t.base
            };
            resolved.push(text);
        }
        Some(
            format!("{name}<{}>", resolved.join(","))
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
        )
    }

    /// `std::numeric_limits<T>::max()` and its siblings of a 32- or 64-bit
    /// integer or a float type: C's constants (`min` of a float is the
    /// smallest normal, as in C++). `None` for other names.
    fn numeric_limits(&mut self, name: &str, args: &[Expr], span: Span) -> Option<Val> {
        let rest = name.strip_prefix("numeric_limits<")?;
        let (ty, method) = rest.rsplit_once(">::")?;
        if !args.is_empty() {
            return Some(self.error(span, format!("`{name}` takes no arguments")));
        }
        let written = CType::named(ty.trim());
        // 8- and 16-bit integers (`numeric_limits<int8_t>::min()`): their
        // C range, as the `int` C promotes them to.
        if let Some(k) = self
            .packed_of(&written, false)
            .filter(|k| !k.boolean && k.lanes == 1)
        {
            let bits = u32::from(k.bits);
            let (min, max) = match k.signed {
                true => (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1),
                false => (0, (1i128 << bits) - 1),
            };
            return Some(match method {
                "max" => Val::konst(Konst::Int(max), Scalar::I32),
                "min" | "lowest" => Val::konst(Konst::Int(min), Scalar::I32),
                _ => self.error(span, format!("`{name}` is not supported")),
            });
        }
        let t = self.map_type(&written, span);
        let Ty::Scalar(s) = t else {
            if t == Ty::Error {
                return Some(Val::error());
            }
            return Some(self.error(
                span,
                format!("`numeric_limits` of `{}` is not supported", t.wgsl()),
            ));
        };
        let int = |min: i128, max: i128| match method {
            "max" => Some(Konst::Int(max)),
            "min" | "lowest" => Some(Konst::Int(min)),
            _ => None,
        };
        let float = |max: f64, min: f64, eps: f64| match method {
            "max" => Some(Konst::Float(max)),
            "min" => Some(Konst::Float(min)),
            "lowest" => Some(Konst::Float(-max)),
            "epsilon" => Some(Konst::Float(eps)),
            "infinity" => Some(Konst::Float(f64::INFINITY)),
            _ => None,
        };
        let k = match s {
            Scalar::I32 => int(i32::MIN.into(), i32::MAX.into()),
            Scalar::U32 => int(0, u32::MAX.into()),
            Scalar::I64 => int(i64::MIN.into(), i64::MAX.into()),
            Scalar::U64 => int(0, u64::MAX.into()),
            Scalar::F32 => float(
                f32::MAX.into(),
                f32::MIN_POSITIVE.into(),
                f32::EPSILON.into(),
            ),
            Scalar::F64 => float(f64::MAX, f64::MIN_POSITIVE, f64::EPSILON),
            _ => None,
        };
        Some(match k {
            Some(k) => Val::konst(k, s),
            None => self.error(
                span,
                format!("`numeric_limits<{}>::{method}` is not supported", t.wgsl()),
            ),
        })
    }

    pub(crate) fn args(&mut self, args: &[Expr], out: &mut Vec<WStmt>) -> Vec<Val> {
        args.iter().map(|a| self.expr(a, out)).collect()
    }

    pub(crate) fn arity(&mut self, name: &str, args: &[Expr], n: usize, span: Span) -> bool {
        if args.len() == n {
            return true;
        }
        self.m.error(
            span,
            format!("`{name}` expects {n} argument(s), got {}", args.len()),
        );
        false
    }

    pub(crate) fn intrinsic(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        if let Some(f) = float_unary(name) {
            if !self.arity(name, args, 1, span) {
                return Some(Val::error());
            }
            let v = self.expr(&args[0], out);
            // `expf(d)` of a double converts it to float, as C does; `exp`
            // keeps the argument's precision (CUDA's overloads).
            let v = if is_float_variant(name) && v.ty.scalar() == Some(Scalar::F64) {
                self.convert(v, &Ty::F32, args[0].span)
            } else {
                self.float_operand(v, args[0].span)
            };
            if v.is_error() {
                return Some(v);
            }
            let ty = v.ty.clone();
            if ty.scalar() == Some(Scalar::F64) && is_32_bit_only(f) {
                // A constant is folded below, as C folds it.
                let folds = matches!(v.konst, Some(Konst::Float(x)) if fold_float_unary(f, x, false).is_some());
                if !folds {
                    if ty == Ty::Scalar(Scalar::F64)
                        && let Some(call) = self.f64_software(f, &[&v.expr], span)
                    {
                        return Some(call);
                    }
                    return Some(self.f64_refused(name, span));
                }
            }
            // A constant argument is computed here, as C computes it: naga
            // evaluates builtins of constants itself and rejects arguments
            // outside their domain (`log(0.0f)`, prna's `INF` = `-LOG(0)`).
            if let (Some(Konst::Float(x)), Some(scalar @ (Scalar::F32 | Scalar::F64))) =
                (v.konst, ty.scalar())
                && let Some(y) = fold_float_unary(f, x, scalar == Scalar::F32)
            {
                return Some(Val::konst(Konst::Float(y), scalar));
            }
            let v = self.runtime_f64(v, out);
            return Some(Val::atom(WExpr::call(f, vec![v.expr.clone()]), ty));
        }
        let v = match name {
            "__syncthreads" => {
                self.barrier(out);
                Val::void()
            }
            "__syncthreads_count" | "__syncthreads_and" | "__syncthreads_or" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                // The predicate first (C evaluates the argument before the
                // call), then a workgroup counter: cleared after every
                // thread is done reading the last result, counted, read
                // after the barrier that is `__syncthreads` itself.
                let p = self.expr(&args[0], out);
                if p.is_error() {
                    return Some(p);
                }
                let p = self.convert(p, &Ty::BOOL, args[0].span);
                let p = self.materialize(p, "pred", out);
                let decl = crate::decl::Decl::var(
                    crate::decl::Space::Workgroup,
                    "cuda_sync_reduction",
                    "atomic<u32>",
                );
                if !self.m.workgroup_vars.contains(&decl) {
                    self.m.workgroup_vars.push(decl);
                }
                self.barrier(out);
                let counter = || WExpr::unary("&", WExpr::name("cuda_sync_reduction"));
                out.push(WStmt::Eval(WExpr::call(
                    "atomicStore",
                    vec![counter(), WExpr::literal("0u")],
                )));
                self.barrier(out);
                // `and` counts the threads whose predicate is false.
                let counted = if name == "__syncthreads_and" {
                    WExpr::unary("!", WExpr::paren(p.expr.clone()))
                } else {
                    p.expr.clone()
                };
                out.push(WStmt::If {
                    cond: counted,
                    then: vec![WStmt::Eval(WExpr::call(
                        "atomicAdd",
                        vec![counter(), WExpr::literal("1u")],
                    ))],
                    els: Vec::new(),
                });
                self.barrier(out);
                let n = self.fresh("count");
                out.push(WStmt::let_(
                    n.clone(),
                    WExpr::call("atomicLoad", vec![counter()]),
                ));
                match name {
                    "__syncthreads_count" => Val::atom(WExpr::call("i32", vec![WExpr::name(n)]), Ty::I32),
                    and_or => {
                        let op = if and_or == "__syncthreads_and" { "==" } else { "!=" };
                        let test = WExpr::binary(WExpr::name(n), op, WExpr::literal("0u"));
                        let args = vec![WExpr::literal("0"), WExpr::literal("1"), test];
                        Val::atom(WExpr::call("select", args), Ty::I32)
                    }
                }
            }
            "__threadfence" | "__threadfence_block" | "__threadfence_system" => {
                // WGSL has no fence without a barrier: `storageBarrier` also
                // synchronises the workgroup, which is stronger than CUDA.
                self.m.barriers = true;
                out.push(WStmt::Eval(crate::wexpr::WExpr::call("storageBarrier", Vec::new())));
                Val::void()
            }
            "__syncwarp" => {
                if self.require_subgroups(name, span) {
                    self.m.barriers = true;
                    self.m.needs.subgroup_barrier = true;
                    out.push(WStmt::Eval(crate::wexpr::WExpr::call("subgroupBarrier", Vec::new())));
                }
                Val::void()
            }
            // `_block` and `_system` scopes: one dispatch's storage atomics
            // are device-wide, which covers the block, and nothing outside
            // the dispatch (the host, other GPUs) touches its buffers.
            "atomicAdd" | "atomicSub" | "atomicMin" | "atomicMax" | "atomicAnd" | "atomicOr"
            | "atomicXor" | "atomicExch" | "atomicAdd_block" | "atomicAdd_system"
            | "atomicSub_block" | "atomicSub_system" | "atomicMin_block" | "atomicMin_system"
            | "atomicMax_block" | "atomicMax_system" | "atomicAnd_block" | "atomicAnd_system"
            | "atomicOr_block" | "atomicOr_system" | "atomicXor_block" | "atomicXor_system"
            | "atomicExch_block" | "atomicExch_system" => self.atomic_call(name, args, span, out),
            // CUDA 12.8's `__nv_atomic_load_n(p, order[, scope])`: relaxed, it
            // reads `*p` as every WGSL atomic access is (relaxed); other orders
            // ask for ordering WGSL's atomics do not give.
            "__nv_atomic_load_n" | "__nv_atomic_load" => {
                if args.len() < 2 || args.len() > 3 {
                    return Some(self.error(span, format!("`{name}` expects 2 or 3 arguments")));
                }
                let relaxed = matches!(&args[1].kind, ExprKind::Ident(o) if o == "__NV_ATOMIC_RELAXED");
                if !relaxed {
                    return Some(self.error(
                        args[1].span,
                        format!("`{name}` with a memory order other than `__NV_ATOMIC_RELAXED`: WGSL's atomics are relaxed, so the ordering it asks for cannot be kept"),
                    ));
                }
                let read = Expr {
                    kind: ExprKind::Unary(UnOp::Deref, Box::new(args[0].clone())),
                    span,
                    from_macro: args[0].from_macro,
                };
                self.expr(&read, out)
            }
            "atomicCAS" | "atomicCAS_block" | "atomicCAS_system" => {
                self.atomic_cas(args, span, out)
            }
            "atomicInc" | "atomicDec" | "atomicInc_block" | "atomicInc_system"
            | "atomicDec_block" | "atomicDec_system" => {
                self.atomic_wrapping(name.starts_with("atomicInc"), args, span, out)
            }
            "__shfl_sync" | "__shfl_down_sync" | "__shfl_up_sync" | "__shfl_xor_sync"
            | "__shfl" | "__shfl_down" | "__shfl_up" | "__shfl_xor" => {
                self.shuffle(name, args, span, out)
            }
            "__ballot_sync" | "__any_sync" | "__all_sync" | "__ballot" | "__any" | "__all" => {
                self.vote(name, args, span, out)
            }
            "__activemask" => {
                if !self.require_subgroups(name, span) {
                    return Some(Val::error());
                }
                Val::atom(active_lanes(), Ty::U32)
            }
            "__match_any_sync" => self.match_any(args, span, out),
            "__reduce_add_sync" | "__reduce_min_sync" | "__reduce_max_sync" => {
                if !self.require_subgroups(name, span) || !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let f = match name {
                    "__reduce_add_sync" => "subgroupAdd",
                    "__reduce_min_sync" => "subgroupMin",
                    _ => "subgroupMax",
                };
                let v = vals[1].clone();
                Val::atom(WExpr::call(f, vec![v.expr.clone()]), v.ty)
            }
            "fminf" | "fmaxf" | "fmin" | "fmax" | "min" | "max" | "umin" | "umax" | "powf"
            | "__powf" | "pow" | "atan2f" | "atan2" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let float = name.starts_with('f') || name.contains("pow") || name.contains("atan");
                let mut t = common_type(&vals[0].ty, &vals[1].ty);
                if float {
                    t = float_of(&t);
                }
                // `powf`, `atan2f`, `fminf`, `fmaxf` of doubles compute in float.
                if is_float_variant(name) && t.scalar() == Some(Scalar::F64) {
                    t = Ty::F32;
                }
                let a = self.convert(vals[0].clone(), &t, args[0].span);
                let b = self.convert(vals[1].clone(), &t, args[1].span);
                let f = match name {
                    n if n.contains("min") => "min",
                    n if n.contains("max") => "max",
                    n if n.contains("pow") => "pow",
                    _ => "atan2",
                };
                if t.scalar() == Some(Scalar::F64) && is_32_bit_only(f) {
                    if t == Ty::Scalar(Scalar::F64)
                        && let Some(call) = self.f64_software(f, &[&a.expr, &b.expr], span)
                    {
                        return Some(call);
                    }
                    return Some(self.f64_refused(name, span));
                }
                let a = self.runtime_f64(a, out);
                Val::atom(WExpr::call(f, vec![a.expr.clone(), b.expr.clone()]), t)
            }
            "ldexpf" | "ldexp" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let t = match vals[0].ty {
                    Ty::Scalar(Scalar::F64) => vals[0].ty.clone(),
                    _ => Ty::F32,
                };
                let x = self.convert(vals[0].clone(), &t, span);
                let e = self.convert(vals[1].clone(), &Ty::I32, span);
                let helper = match t {
                    Ty::Scalar(Scalar::F64) => HELPER_LDEXP,
                    _ => HELPER_LDEXPF,
                };
                self.m.helpers.insert(helper);
                Val::atom(WExpr::call(helper.0, vec![x.expr.clone(), e.expr.clone()]), t)
            }
            "__dp4a" => {
                // The four byte products of `a` and `b` added to `c`: signed
                // bytes for `int` arguments, unsigned for `unsigned`
                // (`extractBits` sign-extends an `i32`, not a `u32`).
                if !self.arity(name, args, 3, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let t = match vals[0].ty {
                    Ty::Scalar(Scalar::U32) => Ty::U32,
                    _ => Ty::I32,
                };
                let a = self.convert(vals[0].clone(), &t, span).operand_expr(&[Prec::Primary]);
                let b = self.convert(vals[1].clone(), &t, span).operand_expr(&[Prec::Primary]);
                let c = self.convert(vals[2].clone(), &t, span).operand_expr(&[Prec::Primary]);
                let byte = |v: &WExpr, k: u32| {
                    let at = WExpr::literal(format!("{}u", 8 * k));
                    WExpr::call("extractBits", vec![v.clone(), at, WExpr::literal("8u")])
                };
                let sum = (0..4).fold(c, |sum, k| {
                    WExpr::binary(sum, "+", WExpr::binary(byte(&a, k), "*", byte(&b, k)))
                });
                Val::atom(WExpr::paren(sum), t)
            }
            "fmodf" | "fmod" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let t = float_of(&common_type(&vals[0].ty, &vals[1].ty));
                let a = self.convert(vals[0].clone(), &t, span);
                let b = self.convert(vals[1].clone(), &t, span);
                // WGSL `%` on floats truncates like C `fmod`.
                self.binary(BinOp::Rem, a, b, span)
            }
            "__fdividef" | "fdividef" | "__fdiv_rn" | "__fmul_rn" | "__fadd_rn" | "__fsub_rn"
            | "__ddiv_rn" | "__dmul_rn" | "__dadd_rn" | "__dsub_rn" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let t = match name.starts_with("__d") {
                    true => self.map_type(&CType::named("double"), span),
                    false => Ty::F32,
                };
                if t == Ty::Error {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let a = self.convert(vals[0].clone(), &t, span);
                let b = self.convert(vals[1].clone(), &t, span);
                let op = match name {
                    n if n.contains("mul") => BinOp::Mul,
                    n if n.contains("add") => BinOp::Add,
                    n if n.contains("sub") => BinOp::Sub,
                    _ => BinOp::Div,
                };
                self.binary(op, a, b, span)
            }
            // The reciprocal rounded to nearest: IEEE division, as WGSL's
            // `/` on Vulkan's `OpFDiv` (the `__fdiv_rn` arm's assumption).
            "__frcp_rn" | "__drcp_rn" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let t = match name {
                    "__drcp_rn" => self.map_type(&CType::named("double"), span),
                    _ => Ty::F32,
                };
                if t == Ty::Error {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                let v = self.convert(v, &t, span);
                let one = self.convert(Val::atom(WExpr::literal("1.0"), Ty::F32), &t, span);
                self.binary(BinOp::Div, one, v, span)
            }
            "__byte_perm" => {
                if !self.arity(name, args, 3, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let v: Vec<WExpr> = vals
                    .into_iter()
                    .map(|v| self.convert(v, &Ty::U32, span).expr)
                    .collect();
                self.m.helpers.insert(HELPER_BYTE_PERM);
                Val::atom(WExpr::call("cuda_byte_perm", v), Ty::U32)
            }
            "fmaf" | "fma" | "__fmaf_rn" => {
                if !self.arity(name, args, 3, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let t = float_of(&common_type(
                    &common_type(&vals[0].ty, &vals[1].ty),
                    &vals[2].ty,
                ));
                let v: Vec<Val> = vals
                    .into_iter()
                    .map(|v| self.convert(v, &t, span))
                    .collect();
                Val::atom(
                    WExpr::call("fma", v.into_iter().map(|v| v.expr).collect()),
                    t,
                )
            }
            "abs" | "labs" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                let t = promote(&v.ty);
                let v = self.convert(v, &t, span);
                Val::atom(WExpr::call("abs", vec![v.expr.clone()]), t)
            }
            "log10f" | "log10" | "exp10f" | "exp10" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                let v = if is_float_variant(name) && v.ty.scalar() == Some(Scalar::F64) {
                    self.convert(v, &Ty::F32, span)
                } else {
                    self.float_operand(v, span)
                };
                if v.ty.scalar() == Some(Scalar::F64) {
                    if v.ty == Ty::Scalar(Scalar::F64)
                        && name == "log10"
                        && let Some(call) = self.f64_software("log10", &[&v.expr], span)
                    {
                        return Some(call);
                    }
                    return Some(self.f64_refused(name, span));
                }
                if name.starts_with("log") {
                    let log = WExpr::call("log", vec![v.expr.clone()]);
                    let product = WExpr::binary(log, "*", WExpr::literal("0.4342944819f"));
                    Val::new(product, v.ty, Prec::Mul)
                } else {
                    let operand = v.operand_expr(&[Prec::Primary, Prec::Unary, Prec::Mul]);
                    let product = WExpr::binary(operand, "*", WExpr::literal("3.3219280949f"));
                    Val::atom(WExpr::call("exp2", vec![product]), v.ty)
                }
            }
            "roundf" | "round" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                let v = self.convert(v, &Ty::F32, span);
                self.m.helpers.insert(HELPER_ROUNDF);
                Val::atom(WExpr::call("cuda_roundf", vec![v.expr.clone()]), Ty::F32)
            }
            "hypotf" | "hypot" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                // `hypot` of doubles is not lowered (no f64 helper).
                if name == "hypot" && vals.iter().any(|v| v.ty != Ty::F32) {
                    return Some(self.error(span, "`hypot` of `double` is not supported yet (`hypotf` is)"));
                }
                let a = self.convert(vals[0].clone(), &Ty::F32, span);
                let b = self.convert(vals[1].clone(), &Ty::F32, span);
                self.m.helpers.insert(HELPER_HYPOTF);
                Val::atom(WExpr::call("cuda_hypotf", vec![a.expr.clone(), b.expr.clone()]), Ty::F32)
            }
            "log1pf" | "expm1f" | "cbrtf" | "cbrt" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                if name == "cbrt" && v.ty == Ty::Scalar(Scalar::F64) {
                    return Some(
                        self.f64_software("cbrt", &[&v.expr], span)
                            .unwrap_or_else(|| self.f64_refused(name, span)),
                    );
                }
                let v = self.convert(v, &Ty::F32, span);
                let helper = match name {
                    "log1pf" => HELPER_LOG1PF,
                    "expm1f" => HELPER_EXPM1F,
                    _ => HELPER_CBRTF,
                };
                self.m.helpers.insert(helper);
                Val::atom(WExpr::call(helper.0, vec![v.expr.clone()]), Ty::F32)
            }
            "copysignf" | "copysign" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let a = self.convert(vals[0].clone(), &Ty::F32, span);
                let b = self.convert(vals[1].clone(), &Ty::F32, span);
                self.m.helpers.insert(HELPER_COPYSIGNF);
                Val::atom(WExpr::call("cuda_copysignf", vec![a.expr.clone(), b.expr.clone()]), Ty::F32)
            }
            _ if simd_helper(name).is_some() => {
                let (helper, arity) = simd_helper(name)?;
                if !self.arity(name, args, arity, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let words: Vec<WExpr> = vals
                    .into_iter()
                    .map(|v| self.convert(v, &Ty::U32, span).expr)
                    .collect();
                self.m.helpers.insert(helper);
                simd_result(name, WExpr::call(helper.0, words))
            }
            "__vibmax_s32" | "__vibmax_u32" | "__vibmin_s32" | "__vibmin_u32" | "__vibmax_s16x2"
            | "__vibmax_u16x2" | "__vibmin_s16x2" | "__vibmin_u16x2" => {
                self.dpx_with_predicates(name, args, span, out)
            }
            "__popc" | "__clz" | "__ffs" | "__brev" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                let (arg_ty, f, ret) = match name {
                    "__popc" => (Ty::U32, "countOneBits", Ty::I32),
                    "__clz" => (Ty::I32, "countLeadingZeros", Ty::I32),
                    "__ffs" => (Ty::I32, "firstTrailingBit", Ty::I32),
                    _ => (Ty::U32, "reverseBits", Ty::U32),
                };
                let v = self.convert(v, &arg_ty, span);
                let call = Val::atom(WExpr::call(f, vec![v.expr.clone()]), arg_ty.clone());
                match name {
                    // firstTrailingBit(0) is -1: `+ 1` gives CUDA's 0 for "no bit set".
                    "__ffs" => self.binary(
                        BinOp::Add,
                        call,
                        Val::konst(Konst::Int(1), Scalar::I32),
                        span,
                    ),
                    _ => self.convert(call, &ret, span),
                }
            }
            "__mul24" | "__umul24" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let vals = self.args(args, out);
                let t = if name == "__umul24" { Ty::U32 } else { Ty::I32 };
                let a = self.convert(vals[0].clone(), &t, span);
                let b = self.convert(vals[1].clone(), &t, span);
                self.binary(BinOp::Mul, a, b, span)
            }
            // stdint.h's constant macros: `UINT32_C(255)` is `255U`.
            "INT32_C" | "UINT32_C" | "INT64_C" | "UINT64_C" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let c_type = match name {
                    "INT32_C" => "int",
                    "UINT32_C" => "unsigned int",
                    "INT64_C" => "long",
                    _ => "unsigned long",
                };
                let to = self.map_type(&CType::named(c_type), span);
                if to == Ty::Error {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                self.convert(v, &to, span)
            }
            "__float_as_int" | "__float_as_uint" | "__int_as_float" | "__uint_as_float"
            | "__double_as_longlong" | "__longlong_as_double" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let (from, to) = match name {
                    "__float_as_int" => (Ty::F32, Ty::I32),
                    "__float_as_uint" => (Ty::F32, Ty::U32),
                    "__int_as_float" => (Ty::I32, Ty::F32),
                    "__uint_as_float" => (Ty::U32, Ty::F32),
                    _ => {
                        let (double, long) = (CType::named("double"), CType::named("long long"));
                        let (f, i) = (self.map_type(&double, span), self.map_type(&long, span));
                        if f == Ty::Error || i == Ty::Error {
                            return Some(Val::error());
                        }
                        if name == "__double_as_longlong" { (f, i) } else { (i, f) }
                    }
                };
                let v = self.expr(&args[0], out);
                let v = self.convert(v, &from, span);
                Val::atom(WExpr::call(format!("bitcast<{}>", to.wgsl()), vec![v.expr]), to)
            }
            // A `half`'s bits as a 16-bit integer and back. naga cannot
            // bitcast a word to `vec2<f16>`, so the bits go through
            // `unpack2x16float`/`pack2x16float`'s `f32`, exact for every
            // half but a NaN's payload.
            "__ushort_as_half" | "__short_as_half" | "__half_as_ushort" | "__half_as_short" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                if !self.m.opts.enable_f16 {
                    return Some(self.error(
                        span,
                        format!("`{name}` needs 16-bit floats: enable `enable_f16` (`cudalens transpile --f16`)"),
                    ));
                }
                self.m.needs.f16 = true;
                let v = self.expr(&args[0], out);
                let lit = |t: &str| WExpr::literal(t);
                match name {
                    "__ushort_as_half" | "__short_as_half" => {
                        let from = if name == "__ushort_as_half" { Ty::U32 } else { Ty::I32 };
                        let v = self.convert(v, &from, span);
                        let bits = match from == Ty::U32 {
                            true => v.expr,
                            false => WExpr::call("bitcast<u32>", vec![v.expr]),
                        };
                        let pair = WExpr::call("unpack2x16float", vec![bits]);
                        let low = WExpr::member(pair, "x");
                        Val::atom(WExpr::call("f16", vec![low]), Ty::Scalar(Scalar::F16))
                    }
                    _ => {
                        let h = self.convert(v, &Ty::F32, span);
                        let pair = WExpr::call("vec2<f32>", vec![h.expr, lit("0.0")]);
                        let bits = WExpr::call("pack2x16float", vec![pair]);
                        match name {
                            "__half_as_ushort" => Val::atom(bits, Ty::U32),
                            _ => {
                                let word = WExpr::call("bitcast<i32>", vec![bits]);
                                let lanes = vec![word, lit("0u"), lit("16u")];
                                Val::atom(WExpr::call("extractBits", lanes), Ty::I32)
                            }
                        }
                    }
                }
            }
            "__float2int_rz" | "__float2uint_rz" | "__float2int_rn" | "__float2uint_rn"
            | "__float2int_rd" | "__float2uint_rd" | "__float2int_ru" | "__float2uint_ru"
            | "__int2float_rn" | "__uint2float_rn" | "__float2half" | "__half2float"
            | "__int2half_rn" | "__uint2half_rn" | "__short2half_rn" | "__ushort2half_rn" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                // The argument converts to the parameter's type first, as
                // C converts it (`__int2float_rn(x)` of a `long long`
                // takes its low 32 bits; it was converted whole before
                // stop 37, and differed from the H100).
                let param = match name {
                    n if n.starts_with("__float2") => Some(Ty::F32),
                    "__int2float_rn" | "__int2half_rn" => Some(Ty::I32),
                    "__uint2float_rn" | "__uint2half_rn" => Some(Ty::U32),
                    // `__half2float(colors[i])` of a `short`: the value
                    // becomes a `__half` first, rounded to its 11 bits
                    // (HeCBench flame).
                    "__half2float" if v.ty.scalar() != Some(Scalar::F16) => {
                        Some(Ty::Scalar(Scalar::F16))
                    }
                    _ => None,
                };
                if param == Some(Ty::Scalar(Scalar::F16)) {
                    if !self.m.opts.enable_f16 {
                        return Some(self.error(span, format!("`{name}` needs enable_f16")));
                    }
                    self.m.needs.f16 = true;
                }
                let v = match param {
                    Some(t) if !v.is_error() => self.convert(v, &t, span),
                    _ => v,
                };
                let to = match name {
                    n if n.starts_with("__float2int") => Ty::I32,
                    n if n.starts_with("__float2uint") => Ty::U32,
                    // An integer to `half` through `f32`: exact up to 2^24,
                    // and anything larger is past `half`'s 65504 either way.
                    n if n == "__float2half" || n.ends_with("2half_rn") => {
                        if !self.m.opts.enable_f16 {
                            return Some(self.error(span, format!("`{n}` needs enable_f16")));
                        }
                        self.m.needs.f16 = true;
                        Ty::Scalar(Scalar::F16)
                    }
                    _ => Ty::F32,
                };
                // Rounded as the suffix says (`rn`: to nearest even, as
                // WGSL's `round`), then converted toward zero.
                let rounding = match &name[name.len() - 3..] {
                    "_rn" => Some("round"),
                    "_rd" => Some("floor"),
                    "_ru" => Some("ceil"),
                    _ => None,
                };
                let v = match rounding {
                    Some(r) if !name.starts_with("__int") && !name.starts_with("__uint") => {
                        let f = self.convert(v, &Ty::F32, span);
                        Val::atom(WExpr::call(r, vec![f.expr.clone()]), Ty::F32)
                    }
                    _ => v,
                };
                self.convert(v, &to, span)
            }
            "__float2half_rn" | "__float2half2_rn" | "__floats2half2_rn" | "__halves2half2"
            | "__low2float" | "__high2float" | "__low2half" | "__high2half" | "__half22float2"
            | "__hadd" | "__hsub" | "__hmul" | "__hadd2" | "__hsub2" | "__hmul2" | "__hfma"
            | "__hfma2" | "__hneg" | "__hneg2" | "__float22half2_rn" | "hexp" | "hlog" | "hsqrt"
            | "h2exp" | "h2log" | "h2sqrt" | "__hgt" | "__hlt" | "__hge" | "__hle" | "__heq"
            | "__hne" | "__hgt2" | "__hlt2" | "__hge2" | "__hle2" | "__heq2" | "__hne2"
            | "__habs" | "__habs2" | "__hmax" | "__hmin" | "__hmax2" | "__hmin2" | "__hdiv"
            | "__h2div" => {
                // cuda_fp16.h on `half`/`half2` (`vec2<f16>`): IEEE half
                // arithmetic, rounded to nearest as `_rn` says.
                if !self.m.opts.enable_f16 {
                    return Some(self.error(
                        span,
                        format!("`{name}` needs 16-bit floats: enable `enable_f16` (`cudalens transpile --f16`)"),
                    ));
                }
                self.m.needs.f16 = true;
                let h = Ty::Scalar(Scalar::F16);
                let h2 = Ty::Vector(Scalar::F16, 2);
                let f2 = Ty::Vector(Scalar::F32, 2);
                let (params, ret): (Vec<&Ty>, &Ty) = match name {
                    "__float2half_rn" => (vec![&Ty::F32], &h),
                    "__float2half2_rn" => (vec![&Ty::F32], &h2),
                    "__floats2half2_rn" => (vec![&Ty::F32, &Ty::F32], &h2),
                    "__halves2half2" => (vec![&h, &h], &h2),
                    "__low2float" | "__high2float" => (vec![&h2], &Ty::F32),
                    "__low2half" | "__high2half" => (vec![&h2], &h),
                    "__half22float2" => (vec![&h2], &f2),
                    "__hadd" | "__hsub" | "__hmul" | "__hdiv" | "__hmax" | "__hmin" => {
                        (vec![&h, &h], &h)
                    }
                    "__hadd2" | "__hsub2" | "__hmul2" | "__h2div" | "__hmax2" | "__hmin2" => {
                        (vec![&h2, &h2], &h2)
                    }
                    "__hfma" => (vec![&h, &h, &h], &h),
                    "__hfma2" => (vec![&h2, &h2, &h2], &h2),
                    "__hneg" | "__habs" | "hexp" | "hlog" | "hsqrt" => (vec![&h], &h),
                    "__float22half2_rn" => (vec![&f2], &h2),
                    "__hgt" | "__hlt" | "__hge" | "__hle" | "__heq" | "__hne" => {
                        (vec![&h, &h], &Ty::BOOL)
                    }
                    "__hgt2" | "__hlt2" | "__hge2" | "__hle2" | "__heq2" | "__hne2" => {
                        (vec![&h2, &h2], &h2)
                    }
                    _ => (vec![&h2], &h2),
                };
                let (params, ret): (Vec<Ty>, Ty) =
                    (params.into_iter().cloned().collect(), ret.clone());
                if !self.arity(name, args, params.len(), span) {
                    return Some(Val::error());
                }
                let mut vals = Vec::new();
                for (a, t) in args.iter().zip(&params) {
                    let v = self.expr(a, out);
                    if v.is_error() {
                        return Some(v);
                    }
                    let v = self.convert(v, t, a.span);
                    vals.push(v.operand_expr(&[Prec::Primary]));
                }
                let v = |i: usize| vals[i].clone();
                let call = |f: &str, args: Vec<WExpr>| WExpr::call(f, args);
                let paren_binary =
                    |op: &'static str| WExpr::paren(WExpr::binary(v(0), op, v(1)));
                let expr = match name {
                    "__float2half_rn" => call("f16", vec![v(0)]),
                    "__float2half2_rn" => call("vec2<f16>", vec![call("f16", vec![v(0)])]),
                    "__floats2half2_rn" => call(
                        "vec2<f16>",
                        vec![call("f16", vec![v(0)]), call("f16", vec![v(1)])],
                    ),
                    "__halves2half2" => call("vec2<f16>", vec![v(0), v(1)]),
                    "__low2float" => call("f32", vec![WExpr::member(v(0), "x")]),
                    "__high2float" => call("f32", vec![WExpr::member(v(0), "y")]),
                    "__low2half" => WExpr::member(v(0), "x"),
                    "__high2half" => WExpr::member(v(0), "y"),
                    "__half22float2" => call("vec2<f32>", vec![v(0)]),
                    "__hadd" | "__hadd2" => paren_binary("+"),
                    "__hsub" | "__hsub2" => paren_binary("-"),
                    "__hmul" | "__hmul2" => paren_binary("*"),
                    "__hdiv" | "__h2div" => paren_binary("/"),
                    // As `fmaxf`/`fminf` are lowered: WGSL's `max`/`min`.
                    "__hmax" | "__hmax2" => call("max", vec![v(0), v(1)]),
                    "__hmin" | "__hmin2" => call("min", vec![v(0), v(1)]),
                    "__habs" | "__habs2" => call("abs", vec![v(0)]),
                    "__hfma" | "__hfma2" => call("fma", vec![v(0), v(1), v(2)]),
                    "__float22half2_rn" => call("vec2<f16>", vec![v(0)]),
                    "hexp" | "h2exp" => call("exp", vec![v(0)]),
                    "hlog" | "h2log" => call("log", vec![v(0)]),
                    "hsqrt" | "h2sqrt" => call("sqrt", vec![v(0)]),
                    // Ordered comparisons (false with a NaN, as in CUDA);
                    // the `2` forms give 1.0 or 0.0 per lane.
                    "__hgt" | "__hlt" | "__hge" | "__hle" | "__heq" | "__hne" | "__hgt2"
                    | "__hlt2" | "__hge2" | "__hle2" | "__heq2" | "__hne2" => {
                        let n = name;
                        let op = match &n[3..5] {
                            "gt" => ">",
                            "lt" => "<",
                            "ge" => ">=",
                            "le" => "<=",
                            "eq" => "==",
                            _ => "!=",
                        };
                        let compare = paren_binary(op);
                        match n.ends_with('2') {
                            true => call(
                                "select",
                                vec![
                                    call("vec2<f16>", vec![WExpr::literal("0.0h")]),
                                    call("vec2<f16>", vec![WExpr::literal("1.0h")]),
                                    compare,
                                ],
                            ),
                            false => compare,
                        }
                    }
                    _ => WExpr::paren(WExpr::unary("-", v(0))),
                };
                Val::atom(expr, ret)
            }
            "lrintf" | "llrintf" | "lroundf" | "llroundf" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                // `long` results: 64-bit integers, as the types say.
                let to = self.map_type(&CType::named("long"), span);
                if to == Ty::Error {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                let f = self.convert(v, &Ty::F32, span);
                let rounded = if name.contains("round") {
                    // Halfway cases away from zero.
                    self.m.helpers.insert(HELPER_ROUNDF);
                    WExpr::call("cuda_roundf", vec![f.expr])
                } else {
                    WExpr::call("round", vec![f.expr])
                };
                self.convert(Val::atom(rounded, Ty::F32), &to, span)
            }
            "signbit" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                let sign_bit = |bits: &str, top: &str, zero: &str| {
                    let word = WExpr::call(bits, vec![v.expr.clone()]);
                    let sign = WExpr::paren(WExpr::binary(word, ">>", WExpr::literal(top)));
                    Val::new(WExpr::binary(sign, "!=", WExpr::literal(zero)), Ty::BOOL, Prec::Rel)
                };
                match v.ty {
                    Ty::Scalar(Scalar::F32) => sign_bit("bitcast<u32>", "31u", "0u"),
                    Ty::Scalar(Scalar::F64) => sign_bit("bitcast<u64>", "63u", "0u"),
                    Ty::Error => v,
                    _ => self.error(span, format!("`signbit` of a `{}`", v.ty.wgsl())),
                }
            }
            "__nv_cvt_float_to_fp8" => {
                if !self.arity(name, args, 3, span) {
                    return Some(Val::error());
                }
                let word = |e: &Expr| e.as_ident().map(|n| n.trim_start_matches("::").to_string());
                let satfinite = match word(&args[1]).as_deref() {
                    Some("__NV_SATFINITE") => true,
                    Some("__NV_NOSAT") => false,
                    _ => return Some(self.error(args[1].span, "the saturation of `__nv_cvt_float_to_fp8` must be written `__NV_SATFINITE` or `__NV_NOSAT`")),
                };
                let e5m2 = match word(&args[2]).as_deref() {
                    Some("__NV_E5M2") => true,
                    Some("__NV_E4M3") => false,
                    _ => return Some(self.error(args[2].span, "the format of `__nv_cvt_float_to_fp8` must be written `__NV_E4M3` or `__NV_E5M2`")),
                };
                let v = self.expr(&args[0], out);
                if v.is_error() {
                    return Some(Val::error());
                }
                // The parameter is a `float` (a `double` argument converts).
                let v = self.convert(v, &Ty::F32, span);
                self.m.helpers.insert(HELPER_FP8);
                let flags = [e5m2, satfinite].map(|b| WExpr::literal(b.to_string()));
                let [e5m2, satfinite] = flags;
                Val::atom(WExpr::call("cuda_fp8_from_f32", vec![v.expr, e5m2, satfinite]), Ty::U32)
            }
            "__umulhi" | "__mulhi" | "__umul64hi" | "__mul64hi" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let (c_type, helpers): (&str, &[(&str, &str)]) = match name {
                    "__umulhi" => ("unsigned int", &[HELPER_UMULHI]),
                    "__mulhi" => ("int", &[HELPER_UMULHI, HELPER_MULHI]),
                    "__umul64hi" => ("unsigned long long", &[HELPER_UMUL64HI]),
                    _ => ("long long", &[HELPER_UMUL64HI, HELPER_MUL64HI]),
                };
                let t = self.map_type(&CType::named(c_type), span);
                let vals = self.args(args, out);
                if t == Ty::Error || vals.iter().any(Val::is_error) {
                    return Some(Val::error());
                }
                let a = self.convert(vals[0].clone(), &t, span);
                let b = self.convert(vals[1].clone(), &t, span);
                for h in helpers {
                    self.m.helpers.insert(*h);
                }
                let f = helpers[helpers.len() - 1].0;
                Val::atom(WExpr::call(f, vec![a.expr.clone(), b.expr.clone()]), t)
            }
            "__popcll" | "__clzll" | "__brevll" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                let t = self.map_type(&CType::named("unsigned long long"), span);
                if t == Ty::Error || v.is_error() {
                    return Some(Val::error());
                }
                let v = self.convert(v, &t, span);
                let v = self.materialize(v, "bits", out);
                // The two 32-bit halves (WGSL's bit counts are 32-bit).
                let half = |op: &'static str, by: &str| {
                    let part = WExpr::binary(v.expr.clone(), op, WExpr::literal(by));
                    WExpr::call("u32", vec![part])
                };
                let (hi, lo) = (half(">>", "32u"), half("&", "4294967295lu"));
                let call = |f: &str, arg: &WExpr| WExpr::call(f, vec![arg.clone()]);
                if name == "__brevll" {
                    // Each half reversed, and the halves swapped.
                    let reversed = |half: &WExpr| call("u64", &call("reverseBits", half));
                    let high = WExpr::paren(WExpr::binary(reversed(&lo), "<<", WExpr::literal("32u")));
                    let swapped = WExpr::binary(high, "|", reversed(&hi));
                    return Some(Val::atom(WExpr::paren(swapped), t));
                }
                let expr = if name == "__popcll" {
                    let sum = WExpr::binary(call("countOneBits", &hi), "+", call("countOneBits", &lo));
                    WExpr::call("i32", vec![sum])
                } else {
                    let zeros = |half: &WExpr| call("i32", &call("countLeadingZeros", half));
                    let low = WExpr::binary(WExpr::literal("32"), "+", zeros(&lo));
                    let high_is_zero = WExpr::binary(hi.clone(), "==", WExpr::literal("0u"));
                    WExpr::call("select", vec![zeros(&hi), low, high_is_zero])
                };
                Val::atom(expr, Ty::I32)
            }
            // Loads and stores with cache hints: the hint has no WGSL
            // counterpart and changes no value.
            "__ldg" | "__ldca" | "__ldcg" | "__ldcs" | "__ldlu" | "__ldcv" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                // `__ldg(&r[i].rate)`: the value there, however it is reached.
                if let ExprKind::Unary(UnOp::AddrOf, place) = &args[0].kind {
                    return Some(self.expr(place, out));
                }
                let p = self.pointer(&args[0], out)?;
                let place = self.deref(p, None, span);
                self.read_place(&place)
            }
            "__stwb" | "__stcg" | "__stcs" | "__stwt" => {
                if !self.arity(name, args, 2, span) {
                    return Some(Val::error());
                }
                let p = self.pointer(&args[0], out)?;
                let place = self.deref(p, None, span);
                if !place.mutable {
                    return Some(self.error(span, format!("`{name}` into a read-only location")));
                }
                let v = self.expr(&args[1], out);
                if v.is_error() {
                    return Some(v);
                }
                let v = self.convert(v, &place.ty, span);
                self.write_place(&place, v, out);
                Val::void()
            }
            n if n.starts_with("make_") => self.make_vector(n, args, span, out)?,
            "dim3" => {
                let vals = self.args(args, out);
                let mut parts = Vec::new();
                for i in 0..3 {
                    let v = vals
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| Val::konst(Konst::Int(1), Scalar::U32));
                    parts.push(self.convert(v, &Ty::U32, span).text());
                }
                Val::atom(
                    format!("vec3<u32>({})", parts.join(", ")),
                    Ty::Vector(Scalar::U32, 3),
                )
            }
            "printf" => self.printf(args, span),
            "assert" => self.assert(args, span),
            "isnan" | "isnanf" | "__isnanf" | "isinf" | "isinff" | "__isinff" | "isfinite"
            | "finitef" | "__finitef" => {
                if !self.arity(name, args, 1, span) {
                    return Some(Val::error());
                }
                let v = self.expr(&args[0], out);
                if v.is_error() {
                    return Some(v);
                }
                if v.ty.scalar() == Some(Scalar::F64) {
                    return Some(self.error(span, format!("`{name}` of a double is not supported")));
                }
                // On the bits: WGSL lets implementations assume floats are
                // never NaN or infinite, so `x != x` could fold away.
                let v = self.convert(v, &Ty::F32, span);
                let magnitude = WExpr::binary(
                    WExpr::call("bitcast<u32>", vec![v.expr]),
                    "&",
                    WExpr::literal("0x7fffffffu"),
                );
                let op = match name.trim_start_matches('_') {
                    n if n.starts_with("isnan") => ">",
                    n if n.starts_with("isinf") => "==",
                    _ => "<",
                };
                let test = WExpr::binary(WExpr::paren(magnitude), op, WExpr::literal("0x7f800000u"));
                Val::new(test, Ty::BOOL, crate::context::Prec::Rel)
            }
            "sincosf" | "__sincosf" | "sincos" | "sincospif" | "sincospi" => {
                self.sincos(name, args, span, out)
            }
            "sinpif" | "cospif" => self.sin_cos_pi(name, args, span, out),
            "frexpf" | "frexp" => self.frexp(name, args, span, out),
            "memcpy" | "memset" => self.memory_call(name, args, span, out),
            "malloc" | "free" | "cudaMalloc" | "cudaFree" => self.error(
                span,
                format!("`{name}`: dynamic memory is not available in WGSL"),
            ),
            "__trap" | "__brkpt" => {
                self.error(span, format!("`{name}` has no WGSL equivalent"))
            }
            "clock" | "clock64" | "__globaltimer" => {
                self.error(span, format!("`{name}`: WGSL has no clock"))
            }
            // Not the file's own device function (`tex2DBicubic`).
            n if (n.starts_with("tex") || n.starts_with("surf"))
                && self
                    .m
                    .model
                    .function(n)
                    .is_none_or(|f| f.body.is_none() || !f.callable_from_device()) =>
            {
                self.error(
                    span,
                    format!(
                        "`{n}`: textures and surfaces are supported only as texture objects (kernel parameters) read with tex1Dfetch, tex1D, tex2D, tex3D, tex2DLayered or texCubemap, and texture references read with tex1Dfetch"
                    ),
                )
            }
            // Not a device function the file defines or declares
            // (`cuda_ij2intindex`; one defined in another file is reported
            // as having no definition here).
            n if n.starts_with("cuda")
                && self.m.model.function(n).is_none_or(|f| !f.callable_from_device()) =>
            {
                self.error(
                span,
                    format!("`{n}` is a CUDA runtime API call: not available in device code / WGSL"),
                )
            }
            // `__double2ll_rd`, `__ull2float_ru`, `__double2hiint`, ...
            _ => return self.rounded_conversion(name, args, span, out),
        };
        Some(v)
    }

    /// `sinpif(x)`, `cospif(x)`: of `π·x` with the argument reduced first,
    /// as CUDA's are exact where the result is: `r = x - 2·round(x/2)` (in
    /// [-1, 1], exact), then `sin(π·a)` of `a` in [0, 1/2] (`sinpi(1 - a)`
    /// is `sinpi(a)`, `cospi(a)` is `sinpi(1/2 - a)`), so `sinpif(1)` and
    /// `cospif(0.5)` are 0, not `sin(π)`'s 8.7e-8.
    fn sin_cos_pi(&mut self, name: &str, args: &[Expr], span: Span, out: &mut Vec<WStmt>) -> Val {
        if !self.arity(name, args, 1, span) {
            return Val::error();
        }
        let x = self.expr(&args[0], out);
        let x = self.convert(x, &Ty::F32, args[0].span);
        if x.is_error() {
            return x;
        }
        let x = self.materialize(x, "x", out);
        let half = WExpr::binary(x.expr.clone(), "*", WExpr::literal("0.5f"));
        let whole = WExpr::binary(
            WExpr::literal("2.0f"),
            "*",
            WExpr::call("round", vec![half]),
        );
        let r = Val::atom(
            WExpr::paren(WExpr::binary(x.expr.clone(), "-", whole)),
            Ty::F32,
        );
        let r = self.materialize(r, "reduced", out);
        let a = self.materialize(
            Val::atom(WExpr::call("abs", vec![r.expr.clone()]), Ty::F32),
            "a",
            out,
        );
        let sin_pi = |angle: WExpr| {
            let radians = WExpr::binary(WExpr::literal("3.14159265358979f"), "*", angle);
            WExpr::call("sin", vec![radians])
        };
        let a = a.expr;
        match name {
            "sinpif" => {
                let folded = WExpr::binary(WExpr::literal("1.0f"), "-", a.clone());
                let high = WExpr::binary(a.clone(), ">", WExpr::literal("0.5f"));
                let angle = WExpr::call("select", vec![a, folded, high]);
                let sign = WExpr::call("sign", vec![r.expr]);
                Val::new(WExpr::binary(sign, "*", sin_pi(angle)), Ty::F32, Prec::Mul)
            }
            _ => {
                let angle = WExpr::paren(WExpr::binary(WExpr::literal("0.5f"), "-", a));
                Val::atom(sin_pi(angle), Ty::F32)
            }
        }
    }

    /// `sincosf(x, &s, &c)`: `s = sin(x); c = cos(x);` through the two
    /// pointers (`sincospif`: of `pi * x`). `x` is evaluated once.
    fn sincos(&mut self, name: &str, args: &[Expr], span: Span, out: &mut Vec<WStmt>) -> Val {
        if !self.arity(name, args, 3, span) {
            return Val::error();
        }
        let pi = name.starts_with("sincospi");
        let double = !name.ends_with('f');
        let x = self.expr(&args[0], out);
        let x = if double && self.m.opts.enable_f64 {
            self.m.needs.f64 = true;
            self.convert(x, &Ty::Scalar(Scalar::F64), args[0].span)
        } else {
            self.float_operand(x, args[0].span)
        };
        if x.is_error() {
            return x;
        }
        let x = if pi {
            let pi = Val::konst(
                Konst::Float(std::f64::consts::PI),
                x.ty.scalar().unwrap_or(Scalar::F32),
            );
            self.binary(BinOp::Mul, pi, x, span)
        } else {
            x
        };
        let x = self.materialize(x, "angle", out);
        let ty = x.ty.clone();
        for (f, target) in [("sin", &args[1]), ("cos", &args[2])] {
            // `&s` writes `s`; a pointer `p` writes `*p`.
            let place = match &target.kind {
                ExprKind::Unary(cudalens_syntax::ir::UnOp::AddrOf, inner) => (**inner).clone(),
                _ => Expr {
                    kind: ExprKind::Unary(
                        cudalens_syntax::ir::UnOp::Deref,
                        Box::new(target.clone()),
                    ),
                    span: target.span,
                    from_macro: target.from_macro,
                },
            };
            let value = Val::atom(WExpr::call(f, vec![x.expr.clone()]), ty.clone());
            self.store_value(&place, value, target.span, out);
        }
        Val::void()
    }

    /// `frexp(x, &e)` of a `float`, on the bits: WGSL's `frexp` is
    /// indeterminate for subnormal, infinite and NaN `x`, where C (and CUDA,
    /// which keeps subnormals unless built with `-ftz=true`) normalizes a
    /// subnormal and returns an infinite or NaN `x` itself with exponent 0
    /// (CUDA: unspecified), as it returns `±0` with exponent 0. `frexp` of
    /// an integer is the `double` overload: refused.
    fn frexp(&mut self, name: &str, args: &[Expr], span: Span, out: &mut Vec<WStmt>) -> Val {
        if !self.arity(name, args, 2, span) {
            return Val::error();
        }
        let x = self.expr(&args[0], out);
        if x.is_error() {
            return x;
        }
        let int_to_float =
            name == "frexpf" && matches!(x.ty, Ty::Scalar(Scalar::I32 | Scalar::U32));
        if x.ty != Ty::F32 && !int_to_float {
            return self.error(
                span,
                format!(
                    "`{name}` of a `{}` is not supported (only `float`)",
                    x.ty.wgsl()
                ),
            );
        }
        let x = self.convert(x, &Ty::F32, args[0].span);
        let x = self.materialize(x, "x", out);
        let bits = self.fresh("bits");
        let mantissa = self.fresh("mantissa");
        let zeros = self.fresh("zeros");
        let biased = self.fresh("biased");
        let special = self.fresh("special");
        let subnormal = self.fresh("subnormal");
        let n = |name: &str| WExpr::name(name);
        let l = |text: &str| WExpr::literal(text);
        let bin = WExpr::binary;
        let paren = WExpr::paren;
        let call = |f: &str, args: Vec<WExpr>| WExpr::call(f, args);
        let masked = |mask: &str| paren(bin(n(&bits), "&", l(mask)));
        for (name, value) in [
            (&bits, call("bitcast<u32>", vec![x.expr.clone()])),
            (&mantissa, bin(n(&bits), "&", l("0x7fffffu"))),
            (&zeros, call("countLeadingZeros", vec![n(&mantissa)])),
            (
                &biased,
                bin(paren(bin(n(&bits), ">>", l("23u"))), "&", l("0xffu")),
            ),
            // ±0, ±inf and NaN are returned as they are, with exponent 0.
            (
                &special,
                bin(
                    bin(n(&biased), "==", l("0xffu")),
                    "||",
                    bin(masked("0x7fffffffu"), "==", l("0u")),
                ),
            ),
            (&subnormal, bin(n(&biased), "==", l("0u"))),
        ] {
            out.push(WStmt::let_(name.clone(), value));
        }
        // A subnormal `m * 2^-149` with its top bit at 31 - zeros is
        // `(m / 2^(32 - zeros)) * 2^(-117 - zeros)`.
        let as_i32 = |name: &str| call("i32", vec![n(name)]);
        let normal_exp = bin(as_i32(&biased), "-", l("126"));
        let subnormal_exp = bin(l("-117"), "-", as_i32(&zeros));
        let exp = call(
            "select",
            vec![
                call("select", vec![normal_exp, subnormal_exp, n(&subnormal)]),
                l("0"),
                n(&special),
            ],
        );
        let exp = Val::atom(exp, Ty::I32);
        let half = l("0x3f000000u");
        let normal = bin(masked("0x807fffffu"), "|", half.clone());
        let shifted = paren(bin(n(&mantissa), "<<", paren(bin(n(&zeros), "-", l("8u")))));
        let top = paren(bin(shifted, "&", l("0x7fffffu")));
        let denormal = bin(bin(masked("0x80000000u"), "|", half), "|", top);
        let fraction = call(
            "bitcast<f32>",
            vec![call("select", vec![normal, denormal, n(&subnormal)])],
        );
        self.store_value(&pointee(&args[1]), exp, args[1].span, out);
        Val::atom(call("select", vec![fraction, x.expr, n(&special)]), Ty::F32)
    }

    /// sm_90's `__vibmax_s32(a, b, &pred)` and kin: the maximum (minimum)
    /// of `a` and `b`, lane by lane, and through each pointer whether its
    /// lane of `a` was the one chosen (`a >= b`; `a <= b` for the minimum;
    /// the `16x2` forms write `pred_hi`, then `pred_lo`).
    fn dpx_with_predicates(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        let lanes = if name.ends_with("16x2") { 2 } else { 1 };
        if !self.arity(name, args, 2 + lanes, span) {
            return Val::error();
        }
        let values = self.args(&args[..2], out);
        let mut words = Vec::new();
        for v in values {
            let word = self.convert(v, &Ty::U32, span).expr;
            let bound = self.fresh("w");
            out.push(WStmt::let_(bound.clone(), word));
            words.push(WExpr::name(bound));
        }
        let Some((helper, _)) = simd_helper(&name.replace("__vib", "__vi")) else {
            return self.error(span, format!("`{name}`: no helper for its value"));
        };
        self.m.helpers.insert(helper);
        let signed = name.contains("_s");
        let compare = if name.contains("max") { ">=" } else { "<=" };
        let lit = |t: &str| WExpr::literal(t);
        let lane = |w: &WExpr, at: &str| match (signed, lanes) {
            (true, 1) => WExpr::call("bitcast<i32>", vec![w.clone()]),
            (false, 1) => w.clone(),
            (true, _) => WExpr::call(
                "extractBits",
                vec![
                    WExpr::call("bitcast<i32>", vec![w.clone()]),
                    lit(at),
                    lit("16u"),
                ],
            ),
            (false, _) => WExpr::call("extractBits", vec![w.clone(), lit(at), lit("16u")]),
        };
        for (k, at) in ["16u", "0u"].iter().skip(2 - lanes).enumerate() {
            let chosen = WExpr::paren(WExpr::binary(
                lane(&words[0], at),
                compare,
                lane(&words[1], at),
            ));
            let target = &args[2 + k];
            self.store_value(
                &pointee(target),
                Val::atom(chosen, Ty::BOOL),
                target.span,
                out,
            );
        }
        simd_result(name, WExpr::call(helper.0, words))
    }

    /// `printf` as a statement: WGSL has no console, and the call changes
    /// no memory the kernel or the host can read, so it is left out with a
    /// warning. Refused when its value is used or an argument has an effect
    /// (an assignment, `++`, a call), which leaving it out would lose.
    fn printf(&mut self, args: &[Expr], span: Span) -> Val {
        self.left_out(
            "printf",
            "WGSL has no console output (the kernel's memory effects are unchanged)",
            args,
            span,
        )
    }

    /// `assert(c)`: left out, as a build with `NDEBUG` leaves it out. A
    /// dispatch cannot be stopped from WGSL, so only a failing assertion
    /// behaves differently (no trap).
    fn assert(&mut self, args: &[Expr], span: Span) -> Val {
        self.left_out(
            "assert",
            "as when `NDEBUG` is defined: WGSL cannot stop a dispatch, so a failing assertion no longer traps",
            args,
            span,
        )
    }

    /// A call with no WGSL equivalent and no effect on memory, left out with
    /// a warning saying `why`; refused where its result is used or an
    /// argument has a side effect (which leaving it out would lose).
    fn left_out(&mut self, name: &str, why: &str, args: &[Expr], span: Span) -> Val {
        if !std::mem::take(&mut self.result_discarded) {
            return self.error(
                span,
                format!("`{name}` is not available in WGSL (its result is used here)"),
            );
        }
        let mut effect = false;
        for a in args {
            a.walk(&mut |e| {
                effect |= match &e.kind {
                    ExprKind::Assign(..) | ExprKind::IncDec { .. } => true,
                    // `__half2float(res[i])`, `fabsf(d)`: CUDA's conversions
                    // and math read their arguments only.
                    ExprKind::Call(c) => {
                        let callee = crate::analysis::namespaced_callee(self.m.model, &c.callee);
                        let pure = match crate::analysis::device_function(self.m.model, callee) {
                            Some(_) => crate::analysis::computes_only(self.m.model, callee, 4),
                            None => crate::builtin_names::pure_builtin(&c.callee, c.args.len()),
                        };
                        !pure
                    }
                    _ => false,
                };
            });
        }
        if effect {
            return self.error(
                span,
                format!("`{name}` is not available in WGSL, and an argument here has a side effect that leaving it out would lose"),
            );
        }
        self.m.warning(span, format!("`{name}` left out: {why}"));
        Val::void()
    }

    /// `f` (a WGSL builtin) of `double` arguments through the software
    /// helper of `f64_math.rs`, with a warning stating its accuracy (once
    /// per function in a kernel); `None` for the functions not written there.
    fn f64_software(&mut self, f: &str, args: &[&WExpr], span: Span) -> Option<Val> {
        let helpers = crate::f64_math::helpers_for(f)?;
        for h in helpers {
            self.m.helpers.insert(h);
        }
        let message = format!(
            "`{f}` of a `double` is computed in software (Vulkan's SPIR-V has no 64-bit `{f}`; after fdlibm): {}",
            crate::f64_math::accuracy(f)
        );
        if !self.m.diags.iter().any(|d| d.message == message) {
            self.m.warning(span, message);
        }
        let args = args.iter().map(|&a| a.clone()).collect();
        Some(Val::atom(
            WExpr::call(crate::f64_math::function_name(f), args),
            Ty::Scalar(Scalar::F64),
        ))
    }

    /// `exp(x)` of a `double`: naga accepts it, but SPIR-V's GLSL.std.450
    /// defines these functions for 16- and 32-bit floats only, and NVIDIA's
    /// Vulkan driver crashed compiling one (H100, driver 580.159.04): refused
    /// rather than emitted.
    fn f64_refused(&mut self, name: &str, span: Span) -> Val {
        self.error(
            span,
            format!(
                "`{name}` of a `double`: naga accepts WGSL's `{}` on f64, but Vulkan's SPIR-V (GLSL.std.450) defines it for 16- and 32-bit floats only (a kernel using such calls crashed NVIDIA's Vulkan driver); use `{}f` where float precision is enough",
                float_unary(name)
                    .or(match name {
                        n if n.contains("pow") => Some("pow"),
                        n if n.contains("atan2") => Some("atan2"),
                        _ => None,
                    })
                    .unwrap_or(name),
                name.trim_end_matches('f').trim_start_matches("__")
            ),
        )
    }

    fn float_operand(&mut self, v: Val, span: Span) -> Val {
        let t = float_of(&promote(&v.ty));
        self.convert(v, &t, span)
    }

    fn make_vector(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let rest = name.strip_prefix("make_")?;
        let digits = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        let lanes: u8 = digits.parse().ok()?;
        let base = &rest[..rest.len() - digits.len()];
        // `make_float4(v3, 0.0f)`, `make_float3(s)`: not CUDA's constructor
        // but an overload the file defines (helper_math.h), chosen by the
        // argument types.
        if args.len() != usize::from(lanes)
            && let Some(f) = self.overload_for(name, args)
        {
            return Some(self.call_device(f, &[], args, span, out));
        }
        // `make_uchar1(v)`, `make_float1(v)`: a 1-lane vector is its scalar
        // (`v.x` reads it back), converted as C converts.
        if lanes == 1 {
            if !self.arity(name, args, 1, span) {
                return Some(Val::error());
            }
            if let Some(k) = crate::types::Packed::of(rest, false) {
                let v = self.expr(&args[0], out);
                return Some(self.narrow(v, k, span));
            }
            let ty = self.map_type(&CType::named(rest), span);
            if ty == Ty::Error {
                return Some(Val::error());
            }
            let v = self.expr(&args[0], out);
            return Some(self.convert(v, &ty, span));
        }
        // `make_uchar4(r, g, b, a)`, `make_short2(x, y)`: each lane narrowed
        // as C converts.
        if let Some(k) = crate::types::Packed::of(&format!("{base}{lanes}"), false)
            && k.lanes > 1
        {
            if !self.arity(name, args, usize::from(lanes), span) {
                return Some(Val::error());
            }
            let vals = self.args(args, out);
            let parts: Vec<WExpr> = vals
                .into_iter()
                .map(|v| self.narrow(v, k.lane(), span).expr)
                .collect();
            let ty = k.value_type();
            return Some(Val::atom(WExpr::call(ty.wgsl(), parts), ty));
        }
        let s = match base {
            "float" => Scalar::F32,
            "int" => Scalar::I32,
            "uint" => Scalar::U32,
            "double" if self.m.opts.enable_f64 => {
                self.m.needs.f64 = true;
                Scalar::F64
            }
            // Two and four lanes: three have another stride in C (24 bytes)
            // than in WGSL (32).
            "long" | "longlong" if self.m.opts.enable_int64 && lanes != 3 => {
                self.m.needs.int64 = true;
                Scalar::I64
            }
            "ulong" | "ulonglong" if self.m.opts.enable_int64 && lanes != 3 => {
                self.m.needs.int64 = true;
                Scalar::U64
            }
            _ => return Some(self.error(span, format!("`{name}`: unsupported vector type"))),
        };
        if !(2..=4).contains(&lanes) || !self.arity(name, args, lanes as usize, span) {
            return Some(Val::error());
        }
        let vals = self.args(args, out);
        let parts: Vec<WExpr> = vals
            .into_iter()
            .map(|v| self.convert(v, &Ty::Scalar(s), span).expr)
            .collect();
        let ty = Ty::Vector(s, lanes);
        Some(Val::atom(WExpr::call(ty.wgsl(), parts), ty))
    }

    /// `__syncthreads()`: a workgroup barrier, plus a storage barrier when the
    /// kernel shares global memory between threads through the barrier.
    pub fn barrier(&mut self, out: &mut Vec<WStmt>) {
        self.m.barriers = true;
        if self.m.writes_storage {
            out.push(WStmt::Eval(crate::wexpr::WExpr::call(
                "storageBarrier",
                Vec::new(),
            )));
        }
        out.push(WStmt::Eval(crate::wexpr::WExpr::call(
            "workgroupBarrier",
            Vec::new(),
        )));
    }

    fn require_subgroups(&mut self, name: &str, span: Span) -> bool {
        if self.m.opts.subgroups {
            self.m.needs.subgroups = true;
            true
        } else {
            self.m.error(
                span,
                format!("`{name}` needs WGSL subgroup operations: enable the `subgroups` option (the adapter must support subgroups)"),
            );
            false
        }
    }

    /// Subgroups that are CUDA's 32-lane warp, for what spans the whole
    /// warp (a warp reduction, `__match_any_sync`, a coalesced group): an
    /// error where subgroups are off or known to be another size.
    pub(crate) fn require_warp_subgroups(&mut self, name: &str, span: Span) -> bool {
        if !self.require_subgroups(name, span) {
            return false;
        }
        match self.m.opts.subgroup_size {
            Some(n) if n != 32 => {
                self.m.error(
                    span,
                    format!("`{name}` spans the 32-lane warp and needs 32-lane subgroups (the adapter's have {n})"),
                );
                false
            }
            _ => true,
        }
    }

    /// `__match_any_sync(mask, v)`: the lanes of `mask` (and active) whose
    /// `v` equals the caller's, found by reading every lane's value
    /// (`subgroupShuffle`) on 32-lane subgroups. A pointer cast to an
    /// integer (HeCBench atomicAggregate's `(unsigned long long)ptr`) is
    /// matched on its offset: every lane's pointer views the same array, so
    /// equal offsets are equal addresses.
    fn match_any(&mut self, args: &[Expr], span: Span, out: &mut Vec<WStmt>) -> Val {
        let name = "__match_any_sync";
        if !self.require_warp_subgroups(name, span) || !self.arity(name, args, 2, span) {
            return Val::error();
        }
        let mask = self.expr(&args[0], out);
        let mask = self.convert(mask, &Ty::U32, span);
        let mask = self.materialize(mask, "match_mask", out);
        let inner = match &args[1].kind {
            ExprKind::Cast { expr, .. } => &**expr,
            _ => &args[1],
        };
        let v = self.expr(inner, out);
        if v.is_error() {
            return v;
        }
        let key = match &v.ptr {
            Some(p) if p.scalar_target => Val::konst(Konst::Int(0), Scalar::I32),
            Some(p) => match &p.offset {
                Some(o) => self.convert((**o).clone(), &Ty::I32, span),
                None => Val::konst(Konst::Int(0), Scalar::I32),
            },
            None => {
                // The value as written (the cast included).
                let v = if std::ptr::eq(inner, &args[1]) {
                    v
                } else {
                    self.expr(&args[1], out)
                };
                match v.ty.scalar() {
                    Some(Scalar::I32 | Scalar::U32 | Scalar::I64 | Scalar::U64) => v,
                    Some(Scalar::F32) => {
                        Val::atom(WExpr::call("bitcast<u32>", vec![v.expr.clone()]), Ty::U32)
                    }
                    Some(Scalar::Bool) => self.convert(v, &Ty::I32, span),
                    _ => {
                        return self.error(
                            args[1].span,
                            format!("`{name}` of `{}` values is not supported (integers, floats and pointers are)", v.ty.wgsl()),
                        );
                    }
                }
            }
        };
        let key = self.materialize(key, "match_key", out);
        let lanes = self.fresh("match_lanes");
        let lane = self.fresh("lane");
        out.push(WStmt::Comment(format!(
            "`{name}`: the lanes holding the caller's value, each lane's read by a shuffle"
        )));
        out.push(WStmt::decl(
            "var",
            lanes.clone(),
            None,
            Some(WExpr::literal("0u")),
        ));
        let shuffled = WExpr::call(
            "subgroupShuffle",
            vec![key.expr.clone(), WExpr::name(&lane)],
        );
        out.push(WStmt::For {
            init: Some(Box::new(WStmt::decl(
                "var",
                lane.clone(),
                None,
                Some(WExpr::literal("0u")),
            ))),
            cond: Some(WExpr::binary(
                WExpr::name(&lane),
                "<",
                WExpr::literal("32u"),
            )),
            step: Some(Box::new(WStmt::Increment {
                target: WExpr::name(&lane),
                op: "++",
            })),
            body: vec![WStmt::If {
                cond: WExpr::binary(shuffled, "==", key.expr.clone()),
                then: vec![WStmt::Assign {
                    target: WExpr::name(&lanes),
                    op: "|=",
                    value: WExpr::binary(WExpr::literal("1u"), "<<", WExpr::name(&lane)),
                }],
                els: vec![],
            }],
        });
        let masked = WExpr::binary(WExpr::name(&lanes), "&", mask.expr.clone());
        Val::new(
            WExpr::binary(masked, "&", active_lanes()),
            Ty::U32,
            crate::context::Prec::BitAnd,
        )
    }

    fn shuffle(&mut self, name: &str, args: &[Expr], span: Span, out: &mut Vec<WStmt>) -> Val {
        if !self.require_subgroups(name, span) {
            return Val::error();
        }
        let sync = name.ends_with("_sync");
        let (value_at, min_args) = if sync { (1, 3) } else { (0, 2) };
        if args.len() < min_args || args.len() > min_args + 1 {
            return self.error(
                span,
                format!("`{name}` expects {min_args} or {} arguments", min_args + 1),
            );
        }
        let vals = self.args(args, out);
        // `width`: lanes shuffle within aligned segments of that many lanes
        // (a power of two up to the warp size, as CUDA requires).
        let mut width: Option<Val> = None;
        if let Some(w) = vals.get(min_args)
            && w.konst.map(|k| k.as_int()) != Some(32)
            && w.text() != "warp_size"
        {
            let constant = w.konst.map(|k| k.as_int());
            if constant.is_some_and(|c| !(1..=32).contains(&c) || c & (c - 1) != 0) {
                return self.error(
                    args[min_args].span,
                    "a shuffle `width` must be a power of two up to the warp size",
                );
            }
            if let (Some(c), Some(sub)) = (constant, self.m.opts.subgroup_size)
                && c > i128::from(sub)
            {
                return self.error(
                    args[min_args].span,
                    format!(
                        "a shuffle `width` of {c} spans more than the adapter's subgroup of {sub}"
                    ),
                );
            }
            let w = self.convert(w.clone(), &Ty::U32, span);
            width = Some(self.materialize(w, "width", out));
        }
        let mut v = vals[value_at].clone();
        // A `bool` is promoted to the `int` overload, as C++ calls it.
        if v.ty == Ty::BOOL {
            v = self.convert(v, &Ty::I32, span);
        }
        // 64-bit values (with their feature on) shuffle whole: SPIR-V's
        // group shuffles take any scalar width, as CUDA's 64-bit overloads
        // do (two 32-bit shuffles there).
        if !matches!(
            v.ty.scalar(),
            Some(
                Scalar::F32
                    | Scalar::I32
                    | Scalar::U32
                    | Scalar::F16
                    | Scalar::F64
                    | Scalar::I64
                    | Scalar::U64
            )
        ) {
            return self.error(
                args[value_at].span,
                format!(
                    "shuffles support 32- and 64-bit (and f16) values, not `{}`",
                    v.ty.wgsl()
                ),
            );
        }
        let v = self.materialize(v, "value", out);
        let lane = self.convert(vals[value_at + 1].clone(), &Ty::U32, span);
        let lane = self.materialize(lane, "delta", out);
        let ty = v.ty.clone();
        let base = name.trim_start_matches("__shfl").trim_end_matches("_sync");
        if let Some(w) = width {
            // Within the caller's segment of `w` lanes: `__shfl` reads lane
            // `src % w` of it; up/down keep the caller's value past its
            // ends; xor may read earlier segments, not later ones.
            self.m.uses.lane_id = true;
            let (v, d, w) = (v.expr.clone(), lane.expr.clone(), w.expr.clone());
            let bin = |l: WExpr, op: &'static str, r: WExpr| WExpr::binary(l, op, r);
            let lane_id = || WExpr::name("lane_id");
            // `(w - 1u)`: the lane's place in its segment as a mask.
            let low = || WExpr::paren(bin(w.clone(), "-", WExpr::literal("1u")));
            let kept = |f: &str, inside: WExpr| {
                let shuffled = WExpr::call(f, vec![v.clone(), d.clone()]);
                WExpr::call("select", vec![v.clone(), shuffled, inside])
            };
            let expr = match base {
                "" => {
                    let segment = WExpr::paren(bin(lane_id(), "&", WExpr::unary("~", low())));
                    let source = WExpr::paren(bin(d.clone(), "&", low()));
                    WExpr::call(
                        "subgroupShuffle",
                        vec![v.clone(), bin(segment, "|", source)],
                    )
                }
                "_xor" => {
                    let end = bin(
                        WExpr::paren(bin(lane_id(), "|", low())),
                        "+",
                        WExpr::literal("1u"),
                    );
                    kept(
                        "subgroupShuffleXor",
                        bin(WExpr::paren(bin(lane_id(), "^", d.clone())), "<", end),
                    )
                }
                "_down" => {
                    let place = WExpr::paren(bin(lane_id(), "&", low()));
                    kept(
                        "subgroupShuffleDown",
                        bin(bin(place, "+", d.clone()), "<", w.clone()),
                    )
                }
                _ => {
                    let place = WExpr::paren(bin(lane_id(), "&", low()));
                    kept("subgroupShuffleUp", bin(place, ">=", d.clone()))
                }
            };
            return Val::atom(expr, ty);
        }
        let shuffle = |f: &str| WExpr::call(f, vec![v.expr.clone(), lane.expr.clone()]);
        let lane_id = || WExpr::name("lane_id");
        let expr = match base {
            "" => shuffle("subgroupShuffle"),
            "_xor" => shuffle("subgroupShuffleXor"),
            "_down" => {
                // CUDA keeps the caller's value when the source lane is past the warp.
                self.m.uses.lane_id = true;
                self.m.uses.warp_size = true;
                let source = WExpr::binary(lane_id(), "+", lane.expr.clone());
                let warp = WExpr::call("u32", vec![WExpr::name("warp_size")]);
                WExpr::call(
                    "select",
                    vec![
                        v.expr.clone(),
                        shuffle("subgroupShuffleDown"),
                        WExpr::binary(source, "<", warp),
                    ],
                )
            }
            _ => {
                self.m.uses.lane_id = true;
                let in_range = WExpr::binary(lane_id(), ">=", lane.expr.clone());
                WExpr::call(
                    "select",
                    vec![v.expr.clone(), shuffle("subgroupShuffleUp"), in_range],
                )
            }
        };
        Val::atom(expr, ty)
    }

    fn vote(&mut self, name: &str, args: &[Expr], span: Span, out: &mut Vec<WStmt>) -> Val {
        if !self.require_subgroups(name, span) {
            return Val::error();
        }
        let sync = name.ends_with("_sync");
        let n = if sync { 2 } else { 1 };
        if !self.arity(name, args, n, span) {
            return Val::error();
        }
        let vals = self.args(args, out);
        let pred = self.as_condition(vals[n - 1].clone(), args[n - 1].span);
        match name.trim_end_matches("_sync") {
            "__ballot" => Val::atom(
                WExpr::member(WExpr::call("subgroupBallot", vec![pred.expr]), "x"),
                Ty::U32,
            ),
            vote => {
                let f = if vote == "__any" {
                    "subgroupAny"
                } else {
                    "subgroupAll"
                };
                Val::atom(
                    WExpr::call("i32", vec![WExpr::call(f, vec![pred.expr])]),
                    Ty::I32,
                )
            }
        }
    }

    /// The atomic location an atomic call's first argument points to.
    fn atomic_place(
        &mut self,
        arg: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<(Place, AtomicRepr)> {
        let mut p = self.pointer(arg, out)?;
        if let Some(o) = p.offset.take() {
            p.offset = Some(Box::new(self.materialize(*o, "slot", out)));
        }
        let place = Place {
            expr: match (&p.offset, p.scalar_target) {
                (_, true) => p.base.clone(),
                (Some(o), false) => WExpr::index(p.base.clone(), o.expr.clone()),
                (None, false) => WExpr::index(p.base.clone(), WExpr::literal("0")),
            },
            ty: p.elem.clone(),
            atomic: p.atomic,
            mutable: p.mutable,
        };
        match place.atomic {
            Some(repr) if repr.is_view() => {
                self.m.error(
                    span,
                    "atomic operations through a vector or scalar view of other-typed memory (a pointer cast) are not supported",
                );
                None
            }
            Some(AtomicRepr::BitField { .. }) => {
                self.m.error(
                    span,
                    "atomic operations on a member held in bits of a word are not supported",
                );
                None
            }
            Some(repr) if repr.is_part_of_word() => {
                self.m.error(
                    span,
                    "atomic operations on 8- or 16-bit (or `bool`) buffers and variables are not supported",
                );
                None
            }
            Some(repr) if place.mutable => Some((place, repr)),
            _ => {
                self.m.error(span, "atomic operation on memory that cannot be declared atomic (only 32-bit integers and floats in storage or shared arrays)");
                None
            }
        }
    }

    fn atomic_call(&mut self, name: &str, args: &[Expr], span: Span, out: &mut Vec<WStmt>) -> Val {
        let discarded = std::mem::take(&mut self.result_discarded);
        if !self.arity(name, args, 2, span) {
            return Val::error();
        }
        let Some((place, repr)) = self.atomic_place(&args[0], span, out) else {
            return Val::error();
        };
        let v = self.expr(&args[1], out);
        let base = name.trim_end_matches("_block").trim_end_matches("_system");
        if repr == AtomicRepr::F32Bits
            && matches!(base, "atomicAdd" | "atomicSub")
            && discarded
            && self.m.opts.subgroups
            && self.warp_uniform(&args[0])
        {
            return self.float_atomic_per_subgroup(base, &place, v, span, out);
        }
        let wgsl = match name.trim_end_matches("_block").trim_end_matches("_system") {
            "atomicAdd" => "atomicAdd",
            "atomicSub" => "atomicSub",
            "atomicMin" => "atomicMin",
            "atomicMax" => "atomicMax",
            "atomicAnd" => "atomicAnd",
            "atomicOr" => "atomicOr",
            "atomicXor" => "atomicXor",
            _ => "atomicExchange",
        };
        let mut r = self.atomic_rmw(wgsl, &place, repr, v, span, out, true);
        // An unused float exchange: the bare atomic (`bitcast` must be used).
        if discarded
            && let Some((float, bits)) = repr.float_bits()
            && let Some(inner) = r
                .text()
                .strip_prefix(&format!("bitcast<{float}>("))
                .and_then(|t| t.strip_suffix(')'))
        {
            let bits = if bits == "u64" {
                Scalar::U64
            } else {
                Scalar::U32
            };
            r = Val::atom(inner.to_string(), Ty::Scalar(bits));
        }
        // A native atomic (`atomicAdd(...)`, `bitcast<f32>(atomicExchange(...))`)
        // must stay even when its value is unused; emulated ones are already
        // statements.
        self.last_effectful = r.text().contains("atomic");
        r
    }

    /// A read-modify-write on an atomic place; returns the old value (as a
    /// call text for native atomics, or a variable for emulated ones). With
    /// `want_value == false` the operation is emitted as a statement.
    #[allow(clippy::too_many_arguments)]
    pub fn atomic_rmw(
        &mut self,
        wgsl: &str,
        place: &Place,
        repr: AtomicRepr,
        v: Val,
        span: Span,
        out: &mut Vec<WStmt>,
        want_value: bool,
    ) -> Val {
        let result = match repr {
            AtomicRepr::Lanes(_)
            | AtomicRepr::LanesBits(..)
            | AtomicRepr::IntBits
            | AtomicRepr::HalfPairs(_)
            | AtomicRepr::WordPairs(_)
            | AtomicRepr::HalfOfWord(_)
            | AtomicRepr::BitsLane { .. }
            | AtomicRepr::Spread(_)
            | AtomicRepr::SpreadBits(..)
            | AtomicRepr::Bits(_)
            | AtomicRepr::Pairs
            | AtomicRepr::Words(_) => {
                return self.error(
                    span,
                    "atomic operations through a vector or scalar view of other-typed memory (a pointer cast) are not supported",
                );
            }
            AtomicRepr::Packed(_)
            | AtomicRepr::Narrow(_)
            | AtomicRepr::MemberBytes { .. }
            | AtomicRepr::ByteBool
            | AtomicRepr::Members { .. }
            | AtomicRepr::Triple => {
                return self.error(
                    span,
                    "atomic operations on 8- or 16-bit (or `bool`) buffers are not supported",
                );
            }
            // C takes no address of a bit-field; a union's `short`s are bits.
            AtomicRepr::BitField { .. } => {
                return self.error(
                    span,
                    "atomic operations on a member held in bits of a word are not supported",
                );
            }
            AtomicRepr::Native(Scalar::F32)
                if !matches!(wgsl, "atomicAdd" | "atomicSub" | "atomicExchange") =>
            {
                return self.error(
                    span,
                    format!("`{wgsl}` on floats is not supported (only add, sub, exchange)"),
                );
            }
            AtomicRepr::Native(s) => {
                let v = self.convert(v, &Ty::Scalar(s), span);
                Val::atom(
                    WExpr::call(wgsl, vec![WExpr::unary("&", place.expr.clone()), v.expr]),
                    Ty::Scalar(s),
                )
            }
            AtomicRepr::F32Bits | AtomicRepr::F64Bits => {
                let (float, bits) = repr.float_bits().unwrap_or(("f32", "u32"));
                let float_ty = if repr == AtomicRepr::F64Bits {
                    Ty::Scalar(Scalar::F64)
                } else {
                    Ty::F32
                };
                let v = self.convert(v, &float_ty, span);
                match wgsl {
                    "atomicExchange" => Val::atom(
                        WExpr::call(
                            format!("bitcast<{float}>"),
                            vec![WExpr::call(
                                "atomicExchange",
                                vec![
                                    WExpr::unary("&", place.expr.clone()),
                                    WExpr::call(format!("bitcast<{bits}>"), vec![v.expr]),
                                ],
                            )],
                        ),
                        float_ty,
                    ),
                    "atomicAdd" | "atomicSub" => {
                        let v = self.materialize(v, "operand", out);
                        let old = self.fresh("old_bits");
                        let swap = self.fresh("swap");
                        let op = if wgsl == "atomicAdd" { "+" } else { "-" };
                        out.push(WStmt::Comment(
                            "float atomic: compare-exchange loop on the bits (WGSL atomics are integer-only)".into(),
                        ));
                        let address = WExpr::unary("&", place.expr.clone());
                        out.push(WStmt::decl(
                            "var",
                            old.clone(),
                            Some(bits.to_string()),
                            Some(WExpr::call("atomicLoad", vec![address.clone()])),
                        ));
                        let as_float =
                            WExpr::call(format!("bitcast<{float}>"), vec![WExpr::name(&old)]);
                        let sum = WExpr::binary(as_float, op, v.expr);
                        out.push(WStmt::Block(
                            BlockKind::Loop,
                            vec![
                                WStmt::let_(
                                    swap.clone(),
                                    WExpr::call(
                                        "atomicCompareExchangeWeak",
                                        vec![
                                            address,
                                            WExpr::name(&old),
                                            WExpr::call(format!("bitcast<{bits}>"), vec![sum]),
                                        ],
                                    ),
                                ),
                                WStmt::If {
                                    cond: WExpr::member(WExpr::name(&swap), "exchanged"),
                                    then: vec![WStmt::Break],
                                    els: vec![],
                                },
                                WStmt::assign(
                                    WExpr::name(&old),
                                    WExpr::member(WExpr::name(&swap), "old_value"),
                                ),
                            ],
                        ));
                        Val::atom(
                            WExpr::call(format!("bitcast<{float}>"), vec![WExpr::name(old)]),
                            float_ty,
                        )
                    }
                    _ => {
                        return self.error(
                            span,
                            format!(
                                "`{wgsl}` on floats is not supported (only add, sub, exchange)"
                            ),
                        );
                    }
                }
            }
        };
        if !want_value {
            if !result.is_simple() && result.text().contains('&') {
                out.push(WStmt::Eval(result.expr));
            }
            return Val::void();
        }
        result
    }

    /// A float `atomicAdd`/`atomicSub` whose result is unused, on an address
    /// every thread shares: the subgroup adds its operands first and one
    /// invocation applies the sum. Without native float atomics every add is
    /// a compare-exchange loop, and a whole grid retrying on one word
    /// serialises (192 ms instead of 0.12 ms for 65,536 adds on an H100).
    /// The total is the same sum in another association, which CUDA's
    /// unordered float atomics allow.
    fn float_atomic_per_subgroup(
        &mut self,
        wgsl: &str,
        place: &Place,
        v: Val,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        self.m.needs.subgroups = true;
        let v = self.convert(v, &Ty::F32, span);
        let sum = self.fresh("subgroup_sum");
        out.push(WStmt::Comment(
            "float atomic on an address shared by the warp: one compare-exchange loop per subgroup"
                .into(),
        ));
        out.push(WStmt::let_(
            sum.clone(),
            WExpr::call("subgroupAdd", vec![v.expr]),
        ));
        let mut leader = Vec::new();
        self.atomic_rmw(
            wgsl,
            place,
            AtomicRepr::F32Bits,
            Val::atom(sum, Ty::F32),
            span,
            &mut leader,
            false,
        );
        // The first active invocation applies the sum (naga has no subgroupElect).
        self.m.uses.lane_id = true;
        out.push(WStmt::If {
            cond: WExpr::binary(
                WExpr::call("subgroupBroadcastFirst", vec![WExpr::name("lane_id")]),
                "==",
                WExpr::name("lane_id"),
            ),
            then: leader,
            els: vec![],
        });
        self.last_effectful = false;
        Val::void()
    }

    /// True when `e` has the same value in every thread: literals, block and
    /// grid builtins, and parameters of the kernel that are never assigned,
    /// combined with arithmetic, indexing, `&`, `*` and casts.
    fn warp_uniform(&self, e: &Expr) -> bool {
        if !self.is_kernel {
            return false; // a device function's parameters may differ per thread
        }
        // (name, is a pointer): `&p[0]` takes an element's address, not p's.
        let params: Vec<(&str, bool)> = self
            .m
            .model
            .function(&self.function)
            .map(|f| {
                f.params
                    .iter()
                    .map(|p| (p.name.as_str(), p.ty.pointer > 0))
                    .collect()
            })
            .unwrap_or_default();
        let mut uniform = true;
        e.walk(&mut |x| {
            uniform &= match &x.kind {
                ExprKind::Int { .. } => true,
                ExprKind::Builtin(b, _) => *b != Builtin::ThreadIdx,
                ExprKind::Ident(name) => params.iter().any(|&(p, pointer)| {
                    p == name
                        && !self.assigned.contains(name)
                        && (pointer || !self.addr_taken.contains(name))
                }),
                ExprKind::Unary(..)
                | ExprKind::Binary(..)
                | ExprKind::Index(..)
                | ExprKind::Cast { .. } => true,
                _ => false,
            };
        });
        uniform
    }

    /// `atomicCAS`: CUDA's compare-and-swap is strong; WGSL's is weak (may
    /// fail spuriously), so retry while it failed without a mismatch.
    fn atomic_cas(&mut self, args: &[Expr], span: Span, out: &mut Vec<WStmt>) -> Val {
        if !self.arity("atomicCAS", args, 3, span) {
            return Val::error();
        }
        let Some((place, repr)) = self.atomic_place(&args[0], span, out) else {
            return Val::error();
        };
        let AtomicRepr::Native(s) = repr else {
            return self.error(span, "`atomicCAS` on floats is not supported");
        };
        if s == Scalar::F32 {
            return self.error(span, "`atomicCAS` on floats is not supported");
        }
        let cmp = self.expr(&args[1], out);
        let val = self.expr(&args[2], out);
        let cmp = self.convert(cmp, &Ty::Scalar(s), span);
        let cmp = self.materialize(cmp, "expected", out);
        let val = self.convert(val, &Ty::Scalar(s), span);
        let val = self.materialize(val, "desired", out);
        let old = self.fresh("cas_old");
        let r = self.fresh("cas");
        out.push(WStmt::decl(
            "var",
            old.clone(),
            Some(s.wgsl().to_string()),
            None,
        ));
        out.push(WStmt::Block(
            BlockKind::Loop,
            vec![
                WStmt::let_(
                    r.clone(),
                    WExpr::call(
                        "atomicCompareExchangeWeak",
                        vec![
                            WExpr::unary("&", place.expr.clone()),
                            cmp.expr.clone(),
                            val.expr,
                        ],
                    ),
                ),
                WStmt::If {
                    cond: WExpr::binary(
                        WExpr::member(WExpr::name(&r), "exchanged"),
                        "||",
                        WExpr::binary(WExpr::member(WExpr::name(&r), "old_value"), "!=", cmp.expr),
                    ),
                    then: vec![
                        WStmt::assign(
                            WExpr::name(&old),
                            WExpr::member(WExpr::name(&r), "old_value"),
                        ),
                        WStmt::Break,
                    ],
                    els: vec![],
                },
            ],
        ));
        Val::atom(old, Ty::Scalar(s))
    }

    /// `atomicInc(p, v)`: `*p = (old >= v) ? 0 : old + 1`; `atomicDec(p, v)`:
    /// `*p = (old == 0 || old > v) ? v : old - 1`, both on `unsigned int`
    /// and returning the old value: a compare-exchange loop (WGSL has no
    /// wrapping atomics).
    fn atomic_wrapping(
        &mut self,
        increment: bool,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        let name = if increment { "atomicInc" } else { "atomicDec" };
        if !self.arity(name, args, 2, span) {
            return Val::error();
        }
        // `atomicInc((unsigned int *)&count[i], n)` on an `int` buffer (the
        // CUDA samples' simpleAtomicIntrinsics): the same 32 bits, counted
        // as unsigned.
        let mut location = &args[0];
        let mut through_unsigned = false;
        if let ExprKind::Cast { ty, expr, .. } = &args[0].kind
            && ty.pointer == 1
            && self.map_type(&ty.pointee(), span) == Ty::U32
        {
            location = expr;
            through_unsigned = true;
        }
        let Some((place, repr)) = self.atomic_place(location, span, out) else {
            return Val::error();
        };
        let signed = match repr {
            AtomicRepr::Native(Scalar::U32) => false,
            AtomicRepr::Native(Scalar::I32) if through_unsigned => true,
            _ => return self.error(span, format!("`{name}` needs an `unsigned int` location")),
        };
        let bound = self.expr(&args[1], out);
        let bound = self.convert(bound, &Ty::U32, span);
        let bound = self.materialize(bound, "bound", out);
        let old = self.fresh("old");
        let r = self.fresh("swap");
        let name_old = || WExpr::name(&old);
        let u = |v: &str| WExpr::literal(v);
        let next = if increment {
            WExpr::call(
                "select",
                vec![
                    WExpr::binary(name_old(), "+", u("1u")),
                    u("0u"),
                    WExpr::binary(name_old(), ">=", bound.expr.clone()),
                ],
            )
        } else {
            WExpr::call(
                "select",
                vec![
                    WExpr::binary(name_old(), "-", u("1u")),
                    bound.expr.clone(),
                    WExpr::binary(
                        WExpr::binary(name_old(), "==", u("0u")),
                        "||",
                        WExpr::binary(name_old(), ">", bound.expr.clone()),
                    ),
                ],
            )
        };
        let address = WExpr::unary("&", place.expr.clone());
        let old_value = WExpr::member(WExpr::name(&r), "old_value");
        let load = WExpr::call("atomicLoad", vec![address.clone()]);
        // An `int` location holds the counter's bits.
        let (load, stored, read) = if signed {
            let bits = |ty: &str, e: WExpr| WExpr::call(format!("bitcast<{ty}>"), vec![e]);
            (
                bits("u32", load),
                (bits("i32", name_old()), bits("i32", next)),
                bits("u32", old_value),
            )
        } else {
            (load, (name_old(), next), old_value)
        };
        out.push(WStmt::Comment(format!(
            "`{name}`: a compare-exchange loop (WGSL has no wrapping atomics)"
        )));
        out.push(WStmt::decl(
            "var",
            old.clone(),
            Some("u32".to_string()),
            Some(load),
        ));
        out.push(WStmt::Block(
            BlockKind::Loop,
            vec![
                WStmt::let_(
                    r.clone(),
                    WExpr::call(
                        "atomicCompareExchangeWeak",
                        vec![address, stored.0, stored.1],
                    ),
                ),
                WStmt::If {
                    cond: WExpr::member(WExpr::name(&r), "exchanged"),
                    then: vec![WStmt::Break],
                    els: vec![],
                },
                WStmt::assign(name_old(), read),
            ],
        ));
        Val::atom(old, Ty::U32)
    }
}

/// The floating type math on `t` happens in (`int` arguments become `float`).
fn float_of(t: &Ty) -> Ty {
    match t.scalar() {
        Some(s) if s.is_float() => t.clone(),
        Some(_) => t.with_scalar(Scalar::F32),
        None => t.clone(),
    }
}

/// The block's linear thread rank,
/// `(threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x`:
/// what `thread_block::thread_rank()` returns, and what warp tiles divide
/// into lanes and warps.
pub(crate) fn block_thread_rank(span: Span) -> Expr {
    let builtin = |b: Builtin, axis: Axis| Expr {
        kind: ExprKind::Builtin(b, axis),
        span,
        from_macro: false,
    };
    let bin = |op: BinOp, a: Expr, b: Expr| Expr {
        kind: ExprKind::Binary(op, Box::new(a), Box::new(b)),
        span,
        from_macro: false,
    };
    bin(
        BinOp::Add,
        bin(
            BinOp::Mul,
            bin(
                BinOp::Add,
                bin(
                    BinOp::Mul,
                    builtin(Builtin::ThreadIdx, Axis::Z),
                    builtin(Builtin::BlockDim, Axis::Y),
                ),
                builtin(Builtin::ThreadIdx, Axis::Y),
            ),
            builtin(Builtin::BlockDim, Axis::X),
        ),
        builtin(Builtin::ThreadIdx, Axis::X),
    )
}

/// The block's thread count, `blockDim.x * blockDim.y * blockDim.z`.
pub(crate) fn block_thread_count(span: Span) -> Expr {
    let builtin = |axis: Axis| Expr {
        kind: ExprKind::Builtin(Builtin::BlockDim, axis),
        span,
        from_macro: false,
    };
    let mul = |a: Expr, b: Expr| Expr {
        kind: ExprKind::Binary(BinOp::Mul, Box::new(a), Box::new(b)),
        span,
        from_macro: false,
    };
    mul(mul(builtin(Axis::X), builtin(Axis::Y)), builtin(Axis::Z))
}

/// C's single-precision variant of a math function (`expf`, `__powf`,
/// `fminf`, `__saturatef`): its arguments convert to `float`, whatever
/// their type, where the unsuffixed CUDA overloads keep a `double`'s.
fn is_float_variant(name: &str) -> bool {
    name.ends_with('f') && name != "erf" && !name.ends_with("_rn")
}

/// WGSL builtins that SPIR-V's GLSL.std.450 defines for 16- and 32-bit
/// floats only (its Exp, Log, Pow, the trigonometric and hyperbolic
/// functions): `sqrt`, `floor`, `abs`, `fma` and the like take `f64`.
fn is_32_bit_only(wgsl: &str) -> bool {
    matches!(
        wgsl,
        "exp"
            | "exp2"
            | "log"
            | "log2"
            | "pow"
            | "sin"
            | "cos"
            | "tan"
            | "asin"
            | "acos"
            | "atan"
            | "atan2"
            | "sinh"
            | "cosh"
            | "tanh"
    )
}

/// `subgroupBallot(true).x`: the lanes active here, as a 32-bit mask.
fn active_lanes() -> WExpr {
    WExpr::member(
        WExpr::call("subgroupBallot", vec![WExpr::literal("true")]),
        "x",
    )
}
