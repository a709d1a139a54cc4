//! The CUDA toolkit's `cuComplex.h` (which cudalens does not read): complex
//! numbers are `float2`/`double2` (`cuFloatComplex`, `cuDoubleComplex`,
//! cuFFT's `cufftComplex`: `cudalens_syntax::types::normalize_base`), and
//! its functions are lowered here. Multiplication is the schoolbook
//! formula; division scales both operands by `|b.x| + |b.y|` first and the
//! modulus divides by the larger part, as the header documents, so that
//! neither overflows where the result does not.

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Expr, Type as CType};

use crate::context::{FnLower, Val};
use crate::emit::WStmt;
use crate::intrinsics::HELPER_HYPOTF;
use crate::types::{Scalar, Ty};
use crate::wexpr::WExpr;

const HELPER_CMULF: (&str, &str) = (
    "cuda_cmulf",
    "// cuComplex.h `cuCmulf`.
fn cuda_cmulf(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}",
);

const HELPER_CMUL: (&str, &str) = (
    "cuda_cmul",
    "// cuComplex.h `cuCmul`.
fn cuda_cmul(a: vec2<f64>, b: vec2<f64>) -> vec2<f64> {
    return vec2<f64>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}",
);

const HELPER_CDIVF: (&str, &str) = (
    "cuda_cdivf",
    "// cuComplex.h `cuCdivf`: both operands scaled by 1 / (|b.x| + |b.y|) first.
fn cuda_cdivf(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let scale = 1.0f / (abs(b.x) + abs(b.y));
    let p = a * scale;
    let q = b * scale;
    let inv = 1.0f / (q.x * q.x + q.y * q.y);
    return vec2<f32>((p.x * q.x + p.y * q.y) * inv, (p.y * q.x - p.x * q.y) * inv);
}",
);

const HELPER_CDIV: (&str, &str) = (
    "cuda_cdiv",
    "// cuComplex.h `cuCdiv`: both operands scaled by 1 / (|b.x| + |b.y|) first.
fn cuda_cdiv(a: vec2<f64>, b: vec2<f64>) -> vec2<f64> {
    let scale = 1.0lf / (abs(b.x) + abs(b.y));
    let p = a * scale;
    let q = b * scale;
    let inv = 1.0lf / (q.x * q.x + q.y * q.y);
    return vec2<f64>((p.x * q.x + p.y * q.y) * inv, (p.y * q.x - p.x * q.y) * inv);
}",
);

const HELPER_CABSF: (&str, &str) = (
    "cuda_cabsf",
    "// cuComplex.h `cuCabsf`: the modulus without overflow (`hypotf`).
fn cuda_cabsf(z: vec2<f32>) -> f32 {
    return cuda_hypotf(z.x, z.y);
}",
);

const HELPER_CABS: (&str, &str) = (
    "cuda_cabs",
    "// cuComplex.h `cuCabs`: the larger part times sqrt(1 + (smaller / larger)^2).
fn cuda_cabs(z: vec2<f64>) -> f64 {
    let a = abs(z.x);
    let b = abs(z.y);
    let big = max(a, b);
    if (big == 0.0lf) {
        return a + b;
    }
    let q = min(a, b) / big;
    return big * sqrt(1.0lf + q * q);
}",
);

impl FnLower<'_, '_> {
    /// A function of `cuComplex.h`; `None` for any other name.
    pub(crate) fn cucomplex_call(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let double = match name {
            "make_cuFloatComplex"
            | "make_cuComplex"
            | "cuCrealf"
            | "cuCimagf"
            | "cuConjf"
            | "cuCaddf"
            | "cuCsubf"
            | "cuCmulf"
            | "cuCdivf"
            | "cuCabsf" => false,
            "make_cuDoubleComplex"
            | "cuCreal"
            | "cuCimag"
            | "cuConj"
            | "cuCadd"
            | "cuCsub"
            | "cuCmul"
            | "cuCdiv"
            | "cuCabs" => true,
            _ => return None,
        };
        // A file that defines the function itself (without the header) calls its own.
        if crate::analysis::device_function(self.m.model, name).is_some_and(|f| f.body.is_some()) {
            return None;
        }
        let complex = self.map_type(
            &CType::named(if double { "double2" } else { "float2" }),
            span,
        );
        if complex == Ty::Error {
            return Some(Val::error());
        }
        let real = Ty::Scalar(if double { Scalar::F64 } else { Scalar::F32 });
        let arity = match name {
            n if n.starts_with("make_") => 2,
            "cuCaddf" | "cuCsubf" | "cuCmulf" | "cuCdivf" | "cuCadd" | "cuCsub" | "cuCmul"
            | "cuCdiv" => 2,
            _ => 1,
        };
        if !self.arity(name, args, arity, span) {
            return Some(Val::error());
        }
        let vals = self.args(args, out);
        if vals.iter().any(Val::is_error) {
            return Some(Val::error());
        }
        let as_type = |lower: &mut Self, v: &Val, t: &Ty| lower.convert(v.clone(), t, span).expr;
        // `(z)`: the lowering parenthesizes complex operands whatever they are.
        let paren = WExpr::paren;
        let op = name.strip_suffix('f').filter(|_| !double).unwrap_or(name);
        Some(match op {
            _ if name.starts_with("make_") => {
                let (re, im) = (
                    as_type(self, &vals[0], &real),
                    as_type(self, &vals[1], &real),
                );
                Val::atom(WExpr::call(complex.wgsl(), vec![re, im]), complex)
            }
            "cuCreal" | "cuCimag" => {
                let z = as_type(self, &vals[0], &complex);
                let lane = if op == "cuCreal" { "x" } else { "y" };
                Val::atom(WExpr::member(paren(z), lane), real)
            }
            "cuConj" => {
                let z = as_type(self, &vals[0], &complex);
                let flip = WExpr::call(
                    complex.wgsl(),
                    vec![WExpr::literal("1"), WExpr::literal("-1")],
                );
                Val::atom(paren(WExpr::binary(paren(z), "*", flip)), complex)
            }
            "cuCadd" | "cuCsub" => {
                let (a, b) = (
                    as_type(self, &vals[0], &complex),
                    as_type(self, &vals[1], &complex),
                );
                let sign = if op == "cuCadd" { "+" } else { "-" };
                Val::atom(paren(WExpr::binary(paren(a), sign, paren(b))), complex)
            }
            "cuCmul" | "cuCdiv" => {
                let (a, b) = (
                    as_type(self, &vals[0], &complex),
                    as_type(self, &vals[1], &complex),
                );
                let helper = match (op, double) {
                    ("cuCmul", false) => HELPER_CMULF,
                    ("cuCmul", true) => HELPER_CMUL,
                    (_, false) => HELPER_CDIVF,
                    (_, true) => HELPER_CDIV,
                };
                self.m.helpers.insert(helper);
                Val::atom(WExpr::call(helper.0, vec![a, b]), complex)
            }
            _ => {
                // cuCabs / cuCabsf
                let z = as_type(self, &vals[0], &complex);
                let helper = if double {
                    HELPER_CABS
                } else {
                    self.m.helpers.insert(HELPER_HYPOTF);
                    HELPER_CABSF
                };
                self.m.helpers.insert(helper);
                Val::atom(WExpr::call(helper.0, vec![z]), real)
            }
        })
    }
}
