//! Operators the file defines for vectors and structs (`__device__ float2
//! operator*(float2 a, float2 b)` as a complex product, HeCBench merkle's
//! `ulong4 operator<` giving masks). C++ calls them for `a * b`; WGSL's
//! own `*` on vectors is per component. An operator whose body is just
//! that (helper_math.h's `make_float4(a.x + b.x, ...)`) lowers to WGSL's
//! operator, as before; any other becomes a call to the file's function,
//! and one the transpiler cannot pick is refused — never the per-component
//! operator in its place.

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Expr, ExprKind, StmtKind, UnOp};
use cudalens_syntax::model::Function;

use crate::context::{FnLower, Place, Val};
use crate::emit::WStmt;
use crate::types::Ty;

/// Vector lanes in order.
const LANES: [&str; 4] = ["x", "y", "z", "w"];

impl<'m> FnLower<'_, 'm> {
    /// `a <symbol> b` (or `<symbol> a` for one operand) where the file
    /// defines a device `operator<symbol>` and some operand is a vector or
    /// a struct: the call to it, or the refusal when the transpiler cannot
    /// tell which of the file's overloads C++ calls. `None` where C++ calls
    /// no function of the file or the one it calls works per component.
    pub(crate) fn user_operator(
        &mut self,
        symbol: &str,
        operands: &[&Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        if let Some(v) = self.member_operator(symbol, operands, span, out) {
            return Some(v);
        }
        let name = format!("operator{symbol}");
        let f = self.chosen_operator(&name, symbol, operands, span)??;
        let args: Vec<Expr> = operands.iter().map(|e| (*e).clone()).collect();
        Some(self.call_device(f, &[], &args, span, out))
    }

    /// `a <symbol>= b` where the file defines an `operator<symbol>=` for
    /// the target's type that does not work per component (`float2 &a
    /// *= float2 b` as a complex product): the call, which writes the
    /// target through its reference parameter. `Some(None)`: refused.
    pub(crate) fn user_compound_operator(
        &mut self,
        symbol: &str,
        target: &Expr,
        value: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Option<Place>> {
        let name = format!("operator{symbol}=");
        let member = self.member_operator_of(&format!("{symbol}="), target);
        let chosen = match member {
            Some(_) => None,
            None => self.chosen_operator(&name, &format!("{symbol}="), &[target, value], span)?,
        };
        if member.is_none() && chosen.is_none() {
            return Some(None);
        }
        // The target is lowered again below (the assignment's value is its
        // place): one with effects (`a[i++] *= b`) would apply them twice.
        let mut effects = false;
        target.walk(&mut |e| {
            effects |= matches!(
                e.kind,
                ExprKind::IncDec { .. } | ExprKind::Assign(..) | ExprKind::Call(_)
            );
        });
        if effects {
            self.m.error(
                span,
                format!("`{name}` of the file on a target with side effects is not supported (its place would be evaluated twice)"),
            );
            return Some(None);
        }
        let v = match chosen {
            Some(f) => self.call_device(f, &[], &[target.clone(), value.clone()], span, out),
            None => {
                let call = member_call(&format!("{symbol}="), target, &[value]);
                self.method_call(&call, span, out)?
            }
        };
        if v.is_error() {
            return Some(None);
        }
        out.push(match v.ty {
            Ty::Void => WStmt::Eval(v.expr),
            _ => WStmt::Phony(v.expr),
        });
        Some(self.place(target, out))
    }

    /// `a <symbol> b` where `a` is a struct whose own member
    /// `operator<symbol>` the file defines (`complex operator*(const
    /// complex &z) const`): the call `a.operator<symbol>(b)`.
    fn member_operator(
        &mut self,
        symbol: &str,
        operands: &[&Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let (first, rest) = operands.split_first()?;
        self.member_operator_of(symbol, first)?;
        let call = member_call(symbol, first, rest);
        self.method_call(&call, span, out)
    }

    /// The struct of `object` when it defines a member `operator<symbol>`
    /// with a body (its name, `S::operator+=`).
    fn member_operator_of(&mut self, symbol: &str, object: &Expr) -> Option<String> {
        // `method` splits the callee at `.` and `>`: operators spelled with
        // `>` never reach here.
        if symbol.contains('>') {
            return None;
        }
        let model = self.m.model;
        let wanted = format!("::operator{symbol}");
        if !model.functions.iter().any(|f| f.name.ends_with(&wanted)) {
            return None;
        }
        let diags = self.m.diags.len();
        let ty = self.expr(object, &mut Vec::new()).ty;
        self.m.diags.truncate(diags);
        let Ty::Struct(s) = ty else { return None };
        let qualified = format!("{s}{wanted}");
        crate::analysis::device_function(model, &qualified)?;
        Some(qualified)
    }

    /// The file's `name` (`operator*`) that C++ calls for `operands`, when
    /// some operand is a vector or a struct and it is not per component
    /// (`Some(Some(f))`); `Some(None)` (reported) when some overload is
    /// not per component and the transpiler cannot tell which one C++
    /// calls; `None` when WGSL's own operator computes what C++ does.
    fn chosen_operator(
        &mut self,
        name: &str,
        symbol: &str,
        operands: &[&Expr],
        span: Span,
    ) -> Option<Option<&'m Function>> {
        let model = self.m.model;
        let defined: Vec<&Function> = (model.functions.iter())
            .map(|f| &**f)
            .filter(|f| {
                f.name == name
                    && f.body.is_some()
                    && f.callable_from_device()
                    && f.params.len() == operands.len()
            })
            .collect();
        // Declared and not defined here (a `-rdc` program's other file
        // defines it, and linking found none): C++ calls it, what it
        // computes is not known.
        let declared_only = defined.is_empty()
            && model
                .functions
                .iter()
                .any(|f| f.name == name && f.body.is_none() && f.params.len() == operands.len());
        if !declared_only && defined.iter().all(|f| per_component(f, symbol)) {
            return None;
        }
        let diags = self.m.diags.len();
        let mut scratch = Vec::new();
        let types: Vec<Ty> = operands
            .iter()
            .map(|a| self.expr(a, &mut scratch).ty)
            .collect();
        self.m.diags.truncate(diags);
        if !types
            .iter()
            .any(|t| matches!(t, Ty::Vector(..) | Ty::Struct(_)))
        {
            return None;
        }
        if declared_only {
            self.m.error(
                span,
                format!("`{name}` is declared but not defined in this file or its directory: what it computes is not known (WGSL's own `{symbol}` may compute something else)"),
            );
            return Some(None);
        }
        let args: Vec<Expr> = operands.iter().map(|e| (*e).clone()).collect();
        // The overload taking exactly these types, else the one whose
        // vector and struct parameters are the operands' (a scalar operand
        // converts, as C++ converts it).
        let chosen = self.overload_for(name, &args).or_else(|| {
            let fits: Vec<&Function> = (defined.iter().copied())
                .filter(|f| {
                    f.template_params.is_empty()
                        && f.params.iter().zip(&types).all(|(p, t)| {
                            p.ty.pointer == 0 && {
                                let want = self.map_type(&p.ty, p.name_span);
                                want == *t || (want.is_numeric_scalar() && t.is_numeric_scalar())
                            }
                        })
                })
                .collect();
            self.m.diags.truncate(diags);
            match fits.as_slice() {
                [f] => Some(*f),
                _ => None,
            }
        });
        match chosen {
            Some(f) if per_component(f, symbol) => None,
            Some(f) => Some(Some(f)),
            None => {
                self.m.error(
                    span,
                    format!(
                        "the file defines `{name}`, but which of its overloads C++ calls for `{}` is not known here, and WGSL's own `{symbol}` may compute something else",
                        types.iter().map(Ty::wgsl).collect::<Vec<_>>().join("`, `")
                    ),
                );
                Some(None)
            }
        }
    }
}

/// Whether `f`, the file's `operator<symbol>`, only applies the operator
/// to each component: `return make_float4(a.x + b.x, a.y + b.y, ...);` or
/// `return {a.x + b, ...};` (one operand may be a scalar), or for `+=`
/// `a.x += b.x; a.y += b.y; ...`, lanes in order — what WGSL's operator on
/// vectors does.
pub(crate) fn per_component(f: &Function, symbol: &str) -> bool {
    let Some(body) = &f.body else { return false };
    let params: Vec<&str> = f.params.iter().map(|p| p.name.as_str()).collect();
    let StmtKind::Block(stmts) = &body.kind else {
        return false;
    };
    // The lane `lane` of operand `i`: `p.lane` for a vector, `p` for a scalar.
    let operand = |e: &Expr, i: usize, lane: &str| -> bool {
        let Some(p) = params.get(i) else { return false };
        match &e.without_casts().kind {
            ExprKind::Member {
                base,
                field,
                arrow: false,
            } => field == lane && base.as_ident() == Some(*p),
            ExprKind::Ident(n) => n == p,
            _ => false,
        }
    };
    let lane_op = |e: &Expr, lane: &str| -> bool {
        match &e.without_casts().kind {
            ExprKind::Binary(op, a, b) if params.len() == 2 => {
                op.as_str() == symbol && operand(a, 0, lane) && operand(b, 1, lane)
            }
            ExprKind::Unary(op, a) if params.len() == 1 => {
                let sym = match op {
                    UnOp::Neg => "-",
                    UnOp::BitNot => "~",
                    UnOp::Not => "!",
                    _ => return false,
                };
                sym == symbol && operand(a, 0, lane)
            }
            _ => false,
        }
    };
    if let Some(op) = symbol.strip_suffix('=').filter(|s| !s.is_empty()) {
        // `a.x += b.x; ...` for each lane the statements name, in order.
        let lanes = stmts.len();
        return params.len() == 2
            && (1..=4).contains(&lanes)
            && stmts.iter().zip(LANES).all(|(s, lane)| match &s.kind {
                StmtKind::Expr(e) => match &e.kind {
                    ExprKind::Assign(Some(o), target, value) => {
                        o.as_str() == op
                            && matches!(&target.kind, ExprKind::Member { base, field, arrow: false }
                                if field == lane && base.as_ident() == Some(params[0]))
                            && operand(value, 1, lane)
                    }
                    _ => false,
                },
                _ => false,
            });
    }
    let [only] = stmts.as_slice() else {
        return false;
    };
    let StmtKind::Return(Some(value)) = &only.kind else {
        return false;
    };
    let lanes = match &value.without_casts().kind {
        ExprKind::Call(c) if c.callee.starts_with("make_") => &c.args,
        ExprKind::InitList(items) => items,
        _ => return false,
    };
    (1..=4).contains(&lanes.len()) && lanes.iter().zip(LANES).all(|(e, lane)| lane_op(e, lane))
}

/// A WGSL-friendly name for the file's operator function `name`
/// (`operator*` → `operator_mul`, a member's `S::operator+=` →
/// `S::operator_add_assign`); other names unchanged.
pub(crate) fn spelled_name(name: &str) -> String {
    if let Some((owner, member)) = name.rsplit_once("::") {
        return format!("{owner}::{}", spelled_name(member));
    }
    const WORDS: [(&str, &str); 18] = [
        ("<<", "shl"),
        (">>", "shr"),
        ("<=", "le"),
        (">=", "ge"),
        ("==", "eq"),
        ("!=", "ne"),
        ("+", "add"),
        ("-", "sub"),
        ("*", "mul"),
        ("/", "div"),
        ("%", "rem"),
        ("&", "and"),
        ("|", "or"),
        ("^", "xor"),
        ("<", "lt"),
        (">", "gt"),
        ("~", "not"),
        ("!", "lnot"),
    ];
    let word = |symbol: &str| WORDS.iter().find(|(s, _)| *s == symbol).map(|(_, w)| *w);
    let Some(symbol) = name.strip_prefix("operator") else {
        return name.to_string();
    };
    if let Some(w) = word(symbol) {
        return format!("operator_{w}");
    }
    // `operator*=`, `operator<<=`.
    match symbol.strip_suffix('=').and_then(word) {
        Some(w) => format!("operator_{w}_assign"),
        None => name.to_string(),
    }
}

/// `object.operator<symbol>(args)` as the front end writes a method call.
fn member_call(symbol: &str, object: &Expr, args: &[&Expr]) -> cudalens_syntax::ir::CallExpr {
    cudalens_syntax::ir::CallExpr {
        callee: format!("object.operator{symbol}"),
        template_args: Vec::new(),
        args: args.iter().map(|e| (*e).clone()).collect(),
        receiver: Some(Box::new(object.clone())),
        arrow: false,
    }
}
