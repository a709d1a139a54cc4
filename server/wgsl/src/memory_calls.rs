//! `memcpy` and `memset` on typed arrays (HeCBench grrt's `memcpy(y,
//! ytemp, N * sizeof(double))` between a caller's local arrays): a loop
//! over the elements, each copied or set as C's element assignment would
//! be. What is not a whole number of one element type's elements, views
//! of packed or atomic memory, and a destination whose value is used, are
//! refused with the reason: WGSL has no bytes to copy.

use cudalens_syntax::Span;
use cudalens_syntax::ir::{BinOp, Expr, ExprKind, Stmt, StmtKind, Type, VarDecl};

use crate::context::{FnLower, PtrVal, Val};
use crate::emit::WStmt;
use crate::types::{Konst, Scalar, Ty};

/// The loop counter of the element loop.
const COUNTER: &str = "cudalens_element";

impl FnLower<'_, '_> {
    /// `memcpy(dst, src, bytes)` or `memset(dst, value, bytes)` as a loop
    /// over the elements, appended to `out`.
    pub(crate) fn memory_call(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        if !std::mem::take(&mut self.result_discarded) {
            return self.error(
                span,
                format!("`{name}`'s result is used here: WGSL has no pointer values to return"),
            );
        }
        if !self.arity(name, args, 3, span) {
            return Val::error();
        }
        if let Some(a) = args.iter().find(|a| crate::analysis::has_side_effect(a)) {
            return self.error(
                a.span,
                format!("`{name}` with an argument that has a side effect is not supported (its operands are read once per element)"),
            );
        }
        // The operands lowered once for their types; the loop lowers them again.
        let mut scratch = Vec::new();
        let Some(dst) = self.array_pointer(name, &args[0], &mut scratch) else {
            return Val::error();
        };
        let elem_size = match element_size(&dst.elem) {
            Some(s) => s,
            None => {
                return self.error(
                    args[0].span,
                    format!(
                        "`{name}` into an array of `{}` elements is not supported (only scalars and vectors)",
                        dst.elem.wgsl()
                    ),
                );
            }
        };
        let value = if name == "memcpy" {
            let Some(src) = self.array_pointer(name, &args[1], &mut scratch) else {
                return Val::error();
            };
            if src.elem != dst.elem {
                return self.error(
                    span,
                    format!(
                        "`memcpy` from `{}` elements to `{}` elements copies bytes between different types, which WGSL cannot reinterpret here",
                        src.elem.wgsl(),
                        dst.elem.wgsl()
                    ),
                );
            }
            index(args[1].clone(), span)
        } else {
            let byte = self.expr(&args[1], &mut scratch);
            let scalar = match dst.elem {
                Ty::Scalar(s) => Some(s),
                _ => None,
            };
            match (byte.konst, scalar) {
                (Some(Konst::Int(0)), Some(_)) => int_literal(0, span),
                // A non-zero byte repeated through an integer element.
                (Some(Konst::Int(b)), Some(s)) if s.is_int() => {
                    let byte = (b & 0xff) as u64;
                    let pattern = (0..elem_size).fold(0u64, |acc, _| (acc << 8) | byte);
                    int_literal(pattern, span)
                }
                _ => {
                    return self.error(
                        args[1].span,
                        "`memset` of a value that is not a constant byte, of a non-zero byte into floats, or into vectors is not supported",
                    );
                }
            }
        };
        let Some(count) = self.element_count(&args[2], elem_size, &mut scratch) else {
            return self.error(
                args[2].span,
                format!(
                    "`{name}`'s byte count is not a known whole number of {elem_size}-byte elements"
                ),
            );
        };
        if dst.scalar_target && !matches!(count.kind, ExprKind::Int { value: 1, .. }) {
            return self.error(
                args[0].span,
                format!("`{name}` of more than one element through the address of a scalar is not supported"),
            );
        }
        let target = if dst.scalar_target {
            deref(args[0].clone(), span)
        } else {
            index(args[0].clone(), span)
        };
        let value = match (&value.kind, dst.scalar_target) {
            (ExprKind::Index(base, _), true) => deref((**base).clone(), span),
            _ => value,
        };
        let assign = Expr::new(
            ExprKind::Assign(None, Box::new(target), Box::new(value)),
            span,
        );
        let counter = Expr::new(ExprKind::Ident(COUNTER.into()), span);
        let lp = Stmt {
            kind: StmtKind::For {
                init: vec![Stmt {
                    kind: StmtKind::Decl(vec![VarDecl {
                        name: COUNTER.into(),
                        name_span: span,
                        span,
                        ty: Type::named("int"),
                        dims: Vec::new(),
                        init: Some(int_literal(0, span)),
                        ctor_args: None,
                        shared: false,
                        is_extern: false,
                        is_static: false,
                        constexpr: false,
                    }]),
                    span,
                }],
                cond: Some(Box::new(Expr::new(
                    ExprKind::Binary(BinOp::Lt, Box::new(counter.clone()), Box::new(count)),
                    span,
                ))),
                step: Some(Box::new(Expr::new(
                    ExprKind::IncDec {
                        increment: true,
                        prefix: true,
                        target: Box::new(counter),
                    },
                    span,
                ))),
                body: Box::new(Stmt {
                    kind: StmtKind::Expr(assign),
                    span,
                }),
                unroll: None,
            },
            span,
        };
        self.assigned.insert(COUNTER.to_string());
        self.stmt(&lp, out);
        Val::void()
    }

    /// The array `e` points into, for `memcpy`/`memset`: plain memory of
    /// one element type (no packed, atomic or reinterpreted view).
    fn array_pointer(&mut self, name: &str, e: &Expr, scratch: &mut Vec<WStmt>) -> Option<PtrVal> {
        let v = self.expr(e, scratch);
        if v.is_error() {
            return None;
        }
        let Some(p) = v.ptr else {
            self.error(
                e.span,
                format!("`{name}` of something that is not a pointer into an array"),
            );
            return None;
        };
        if p.atomic.is_some() || !p.rows.is_empty() {
            self.error(
                e.span,
                format!("`{name}` of packed, atomic, reinterpreted or multi-dimensional memory is not supported (WGSL has no bytes to copy)"),
            );
            return None;
        }
        Some(*p)
    }

    /// The element count of `bytes` for elements of `size` bytes: a
    /// constant multiple, or `n * sizeof(T)` with `T` of that size.
    fn element_count(&mut self, bytes: &Expr, size: u64, scratch: &mut Vec<WStmt>) -> Option<Expr> {
        let v = self.expr(bytes, scratch);
        if let Some(Konst::Int(b)) = v.konst {
            let b = u64::try_from(b).ok()?;
            return (b % size == 0).then(|| int_literal(b / size, bytes.span));
        }
        let ExprKind::Binary(BinOp::Mul, a, b) = &bytes.kind else {
            return None;
        };
        for (n, s) in [(a, b), (b, a)] {
            if matches!(s.kind, ExprKind::SizeofType(_) | ExprKind::SizeofExpr(_))
                && self.expr(s, scratch).konst == Some(Konst::Int(i128::from(size)))
            {
                return Some((**n).clone());
            }
        }
        None
    }
}

/// C's size of one element of a plain array.
fn element_size(t: &Ty) -> Option<u64> {
    match t {
        Ty::Scalar(Scalar::Bool) => None,
        Ty::Scalar(s) => Some(s.size()),
        Ty::Vector(s, n) if *n != 3 => Some(s.size() * u64::from(*n)),
        _ => None,
    }
}

fn int_literal(v: u64, span: Span) -> Expr {
    Expr::new(
        ExprKind::Int {
            value: v as i64,
            unsigned: v > i32::MAX as u64,
            long: v > u32::MAX as u64,
        },
        span,
    )
}

/// `base[cudalens_element]`.
fn index(base: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::Index(
            Box::new(base),
            Box::new(Expr::new(ExprKind::Ident(COUNTER.into()), span)),
        ),
        span,
    )
}

/// `*p`.
fn deref(p: Expr, span: Span) -> Expr {
    Expr::new(
        ExprKind::Unary(cudalens_syntax::ir::UnOp::Deref, Box::new(p)),
        span,
    )
}
