//! CUDA's conversion intrinsics with a rounding mode in the name
//! (`__double2ll_rd`, `__ull2float_ru`, `__int2float_rz`, ...) and the
//! bit splits of a `double` (`__double2hiint`, `__hiloint2double`).
//! Float to integer rounds in the source's precision (`floor` for `_rd`),
//! then converts (WGSL clamps, as CUDA saturates). Integer to float rounds
//! the magnitude's dropped bits itself: WGSL leaves the rounding of an
//! inexact integer conversion to the implementation.

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Expr, Type as CType};

use crate::context::{FnLower, Val};
use crate::emit::WStmt;
use crate::types::{Scalar, Ty};
use crate::wexpr::WExpr;

/// A rounding mode's suffix, as the helpers take it: 0 nearest even, 1
/// toward zero, 2 down, 3 up.
fn mode(suffix: &str) -> Option<u32> {
    match suffix {
        "rn" => Some(0),
        "rz" => Some(1),
        "rd" => Some(2),
        "ru" => Some(3),
        _ => None,
    }
}

/// The C type a name's part spells (`ll` → `long long`).
fn c_type(part: &str) -> Option<&'static str> {
    match part {
        "int" => Some("int"),
        "uint" => Some("unsigned int"),
        "ll" => Some("long long"),
        "ull" => Some("unsigned long long"),
        "float" => Some("float"),
        "double" => Some("double"),
        _ => None,
    }
}

/// Rounds an integer's magnitude to a float of `mantissa` bits in `mode`
/// (`neg`: the value is negative, which turns down into away from zero):
/// the kept bits, plus one where the mode rounds the dropped bits up.
const HELPER_U32_TO_F32: (&str, &str) = (
    "cuda_u32_to_f32",
    "// CUDA `__int2float_rd` and kin: |x| to f32 in a rounding mode (0 rn, 1 rz, 2 rd, 3 ru).
fn cuda_u32_to_f32(mag: u32, neg: bool, mode: u32) -> f32 {
    let sign = select(1.0, -1.0, neg);
    if (mag < 16777216u) { return sign * f32(mag); }
    let shift = 31u - countLeadingZeros(mag) - 23u;
    var m = mag >> shift;
    let rem = mag & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    let up = (mode == 0u && (rem > half || (rem == half && (m & 1u) == 1u)))
        || (mode == 2u && neg && rem != 0u) || (mode == 3u && !neg && rem != 0u);
    if (up) { m = m + 1u; }
    return sign * ldexp(f32(m), i32(shift));
}",
);
const HELPER_U64_TO_FLOAT: (&str, &str) = (
    "cuda_u64_to_float",
    "// CUDA `__ll2double_rd` and kin: |x| to a float of `bits` mantissa bits
// (23 or 52) in a rounding mode (0 rn, 1 rz, 2 rd, 3 ru), as f64 (exact for f32 results).
fn cuda_u64_to_float(mag: u64, neg: bool, mode: u32, bits: u32) -> f64 {
    let sign = select(1.0lf, -1.0lf, neg);
    let hi = u32(mag >> 32u);
    let top = select(31u - countLeadingZeros(u32(mag)), 63u - countLeadingZeros(hi), hi != 0u);
    if (mag == 0lu || top <= bits) { return sign * f64(mag); }
    let shift = top - bits;
    var m = mag >> shift;
    let rem = mag & ((1lu << shift) - 1lu);
    let half = 1lu << (shift - 1u);
    let up = (mode == 0u && (rem > half || (rem == half && (m & 1lu) == 1lu)))
        || (mode == 2u && neg && rem != 0lu) || (mode == 3u && !neg && rem != 0lu);
    if (up) { m = m + 1lu; }
    return sign * ldexp(f64(m), i32(shift));
}",
);

impl FnLower<'_, '_> {
    /// `__<from>2<to>_<mode>` and the `double` bit splits; `None` for any
    /// other name.
    pub(crate) fn rounded_conversion(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        match name {
            "__double2hiint" | "__double2loint" | "__hiloint2double" => {
                return Some(self.double_halves(name, args, span, out));
            }
            _ => {}
        }
        let rest = name.strip_prefix("__")?;
        let (from, rest) = rest.split_once('2')?;
        let (to, suffix) = rest.rsplit_once('_')?;
        let (from_c, to_c, mode) = (c_type(from)?, c_type(to)?, mode(suffix)?);
        let float_from = matches!(from, "float" | "double");
        let float_to = matches!(to, "float" | "double");
        if float_from == float_to {
            return None;
        }
        if !self.arity(name, args, 1, span) {
            return Some(Val::error());
        }
        let (src, dst) = (
            self.map_type(&CType::named(from_c), span),
            self.map_type(&CType::named(to_c), span),
        );
        let v = self.expr(&args[0], out);
        if src == Ty::Error || dst == Ty::Error || v.is_error() {
            return Some(Val::error());
        }
        let v = self.convert(v, &src, span);
        if float_from {
            // Rounded in the source's precision, then converted (toward
            // zero, clamped: the rounding already made it integral).
            let rounded = match mode {
                0 => WExpr::call("round", vec![v.expr.clone()]),
                2 => WExpr::call("floor", vec![v.expr.clone()]),
                3 => WExpr::call("ceil", vec![v.expr.clone()]),
                _ => v.expr.clone(),
            };
            return Some(self.convert(Val::atom(rounded, src), &dst, span));
        }
        // Integer to float: the magnitude and sign, rounded by a helper.
        let v = self.materialize(v, "int", out);
        let signed = matches!(from, "int" | "ll");
        let wide = matches!(from, "ll" | "ull");
        let unsigned = if wide { "bitcast<u64>" } else { "bitcast<u32>" };
        let zero = WExpr::literal(if wide { "0lu" } else { "0u" });
        let (mag, neg) = match signed {
            true => {
                let negative = WExpr::binary(
                    v.expr.clone(),
                    "<",
                    WExpr::literal(if wide { "0li" } else { "0" }),
                );
                let bits = WExpr::call(unsigned, vec![v.expr.clone()]);
                let negated = WExpr::binary(zero, "-", bits.clone());
                (
                    WExpr::call("select", vec![bits, negated, negative.clone()]),
                    negative,
                )
            }
            false => (v.expr.clone(), WExpr::literal("false")),
        };
        let mode = WExpr::literal(format!("{mode}u"));
        if !wide && to == "float" {
            self.m.helpers.insert(HELPER_U32_TO_F32);
            return Some(Val::atom(
                WExpr::call("cuda_u32_to_f32", vec![mag, neg, mode]),
                Ty::F32,
            ));
        }
        if !wide {
            // A 32-bit integer is exact in a `double`.
            return Some(self.convert(v, &dst, span));
        }
        self.m.helpers.insert(HELPER_U64_TO_FLOAT);
        let bits = WExpr::literal(if to == "float" { "23u" } else { "52u" });
        let f = WExpr::call("cuda_u64_to_float", vec![mag, neg, mode, bits]);
        Some(match to {
            // Exact: the helper rounded to 24 bits.
            "float" => Val::atom(WExpr::call("f32", vec![f]), Ty::F32),
            _ => Val::atom(f, dst),
        })
    }

    /// `__double2hiint(x)`, `__double2loint(x)`: the high and low 32 bits
    /// of the `double`; `__hiloint2double(hi, lo)`: the `double` of them.
    fn double_halves(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        let n = if name == "__hiloint2double" { 2 } else { 1 };
        if !self.arity(name, args, n, span) {
            return Val::error();
        }
        let double = self.map_type(&CType::named("double"), span);
        let long = self.map_type(&CType::named("unsigned long long"), span);
        if double == Ty::Error || long == Ty::Error {
            return Val::error();
        }
        let vals: Vec<Val> = args.iter().map(|a| self.expr(a, out)).collect();
        if vals.iter().any(Val::is_error) {
            return Val::error();
        }
        if name == "__hiloint2double" {
            let hi = self.convert(vals[0].clone(), &Ty::I32, span);
            let lo = self.convert(vals[1].clone(), &Ty::I32, span);
            let word = |v: Val| WExpr::call("u64", vec![WExpr::call("bitcast<u32>", vec![v.expr])]);
            let high = WExpr::paren(WExpr::binary(word(hi), "<<", WExpr::literal("32u")));
            let bits = WExpr::binary(high, "|", word(lo));
            return Val::atom(WExpr::call("bitcast<f64>", vec![bits]), double);
        }
        let x = self.convert(vals[0].clone(), &double, span);
        let bits = WExpr::call("bitcast<u64>", vec![x.expr.clone()]);
        let part = if name == "__double2hiint" {
            WExpr::binary(bits, ">>", WExpr::literal("32u"))
        } else {
            WExpr::binary(bits, "&", WExpr::literal("4294967295lu"))
        };
        let word = WExpr::call("u32", vec![part]);
        Val::atom(
            WExpr::call("bitcast<i32>", vec![word]),
            Ty::Scalar(Scalar::I32),
        )
    }
}
