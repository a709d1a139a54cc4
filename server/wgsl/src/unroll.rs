//! Loop unrolling (`TranspileOptions::unroll`, `#pragma unroll N`): which
//! `for` loops may be unrolled, decided on the CUDA tree. The lowering in
//! `stmt` adds the checks that need types and symbols (an integer induction
//! variable, an integer bound made of values the body cannot change) and
//! emits the unrolled form.
//!
//! A loop qualifies when its shape is
//! `for (init; i < b | i <= b | b > i | b >= i; i++ | ++i | i += c | i = i + c)`
//! with `c` a positive integer constant, and its body
//!
//! - never assigns `i` or takes its address;
//! - has no `break`/`continue` of its own (those of nested loops, and `break`
//!   in a nested `switch`, are fine), no `return`, `goto` or label;
//! - reaches no barrier, fence or warp intrinsic, also not through device
//!   functions;
//!
//! and `b` is built from literals, names, builtins, operators, casts and pure
//! integer math functions (no memory loads, no other calls, no side effects).

use std::collections::HashSet;

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{BinOp, Expr, ExprKind, Stmt, StmtKind, UnOp};
use cudalens_syntax::model::is_barrier;

/// The largest unroll factor; larger requests are clamped to it.
pub const MAX_UNROLL: u32 = 64;

/// How the induction variable advances each iteration.
#[derive(Clone, Copy, Debug)]
pub enum StepBy<'a> {
    One,
    /// `i += c` / `i = i + c`: `c` must fold to a positive integer constant.
    Const(&'a Expr),
}

/// A `for` loop whose shape and body allow unrolling.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    /// The induction variable.
    pub var: &'a str,
    /// The loop-invariant bound.
    pub bound: &'a Expr,
    /// `i <= b` (or `b >= i`) rather than `i < b`.
    pub inclusive: bool,
    pub step: StepBy<'a>,
    /// Names assigned (or whose address is taken) anywhere in the body.
    pub body_writes: HashSet<String>,
}

/// The unroll factor for one loop: the option wins over the loop's
/// `#pragma unroll N`; 0 and 1 mean "do not unroll".
pub fn factor(option: Option<u32>, pragma: Option<Option<i64>>) -> u32 {
    let f = match option {
        Some(u) => u,
        None => match pragma {
            Some(Some(n)) if n > 1 => u32::try_from(n).unwrap_or(MAX_UNROLL),
            _ => 1,
        },
    };
    f.min(MAX_UNROLL)
}

/// The shape and body checks (everything that does not need types).
pub fn candidate<'a>(
    model: &FileModel,
    cond: Option<&'a Expr>,
    step: Option<&'a Expr>,
    body: &Stmt,
) -> Option<Candidate<'a>> {
    let (var, bound, inclusive) = match &cond?.kind {
        ExprKind::Binary(op @ (BinOp::Lt | BinOp::Le), a, b) => {
            (a.as_ident()?, &**b, *op == BinOp::Le)
        }
        ExprKind::Binary(op @ (BinOp::Gt | BinOp::Ge), b, a) => {
            (a.as_ident()?, &**b, *op == BinOp::Ge)
        }
        _ => return None,
    };
    let step = match &step?.kind {
        ExprKind::IncDec {
            increment: true,
            target,
            ..
        } if target.as_ident() == Some(var) => StepBy::One,
        ExprKind::Assign(Some(BinOp::Add), target, c) if target.as_ident() == Some(var) => {
            StepBy::Const(c)
        }
        ExprKind::Assign(None, target, value) if target.as_ident() == Some(var) => {
            match &value.kind {
                ExprKind::Binary(BinOp::Add, a, c) if a.as_ident() == Some(var) => StepBy::Const(c),
                ExprKind::Binary(BinOp::Add, c, a) if a.as_ident() == Some(var) => StepBy::Const(c),
                _ => return None,
            }
        }
        _ => return None,
    };
    if let StepBy::Const(c) = step
        && !is_pure(c, &mut |_| true)
    {
        return None;
    }
    // The bound: pure, and without the induction variable.
    if !is_pure(bound, &mut |name| name != var) {
        return None;
    }
    if !control_ok(body, false, false) {
        return None;
    }
    let mut writes = HashSet::new();
    let mut ok = true;
    let mut visited = HashSet::new();
    body.walk_exprs(&mut |e| match &e.kind {
        ExprKind::Assign(_, target, _) | ExprKind::IncDec { target, .. } => {
            if let Some(r) = root_name(target) {
                writes.insert(r.to_string());
            }
        }
        ExprKind::Unary(UnOp::AddrOf, target) => {
            if let Some(r) = root_name(target) {
                writes.insert(r.to_string());
            }
        }
        ExprKind::Call { callee, .. } if synchronizes(model, callee, &mut visited) => ok = false,
        ExprKind::Launch { .. } | ExprKind::Unknown(_) => ok = false,
        _ => {}
    });
    if !ok || writes.contains(var) {
        return None;
    }
    Some(Candidate {
        var,
        bound,
        inclusive,
        step,
        body_writes: writes,
    })
}

/// No `return`/`goto`/label anywhere; `break` only inside a nested loop or
/// `switch`, `continue` only inside a nested loop.
fn control_ok(s: &Stmt, in_loop: bool, in_switch: bool) -> bool {
    match &s.kind {
        StmtKind::Return(_) | StmtKind::Goto(_) | StmtKind::Label(..) => false,
        StmtKind::Break => in_loop || in_switch,
        StmtKind::Continue => in_loop,
        StmtKind::For { init, body, .. } => {
            init.iter().all(|s| control_ok(s, in_loop, in_switch))
                && control_ok(body, true, in_switch)
        }
        StmtKind::While { body, .. } | StmtKind::DoWhile { body, .. } => {
            control_ok(body, true, in_switch)
        }
        StmtKind::Switch { body, .. } => control_ok(body, in_loop, true),
        _ => s
            .children()
            .iter()
            .all(|c| control_ok(c, in_loop, in_switch)),
    }
}

/// The variable an assignment target or `&x` operand belongs to.
fn root_name(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Ident(n) => Some(n),
        ExprKind::Member { base, .. } | ExprKind::Index(base, _) => root_name(base),
        ExprKind::Unary(UnOp::Deref, inner) | ExprKind::Cast { expr: inner, .. } => {
            root_name(inner)
        }
        _ => None,
    }
}

/// Calls that synchronize threads or lanes: barriers, fences (WGSL's
/// `storageBarrier` is a control barrier too) and warp intrinsics.
fn is_sync_intrinsic(name: &str) -> bool {
    is_barrier(name)
        || name.starts_with("__syncwarp")
        || name.starts_with("__threadfence")
        || [
            "__shfl",
            "__ballot",
            "__any",
            "__all",
            "__activemask",
            "__reduce_",
            "__match",
        ]
        .iter()
        .any(|p| name.starts_with(p))
}

/// Whether calling `callee` may reach a synchronizing intrinsic.
fn synchronizes(model: &FileModel, callee: &str, visited: &mut HashSet<String>) -> bool {
    let name = callee.trim_start_matches("::").trim_start_matches("std::");
    if is_sync_intrinsic(name) {
        return true;
    }
    if !visited.insert(name.to_string()) {
        return false;
    }
    let Some(body) = model.function(name).and_then(|f| f.body.as_ref()) else {
        return false;
    };
    let mut found = false;
    body.walk_exprs(&mut |e| {
        if let ExprKind::Call { callee, .. } = &e.kind
            && !found
            && synchronizes(model, callee, visited)
        {
            found = true;
        }
    });
    found
}

/// Integer math functions without side effects that a bound may call.
fn is_pure_math(name: &str) -> bool {
    matches!(
        name,
        "min"
            | "max"
            | "umin"
            | "umax"
            | "llmin"
            | "llmax"
            | "ullmin"
            | "ullmax"
            | "abs"
            | "labs"
            | "llabs"
            | "__mul24"
            | "__umul24"
            | "__popc"
            | "__clz"
            | "__ffs"
    )
}

/// Side-effect free, no memory loads, no calls but pure math; every name
/// passes `name_ok`.
fn is_pure(e: &Expr, name_ok: &mut dyn FnMut(&str) -> bool) -> bool {
    match &e.kind {
        ExprKind::Int { .. }
        | ExprKind::Bool(_)
        | ExprKind::Builtin(..)
        | ExprKind::WarpSize
        | ExprKind::SizeofType(_)
        | ExprKind::Float { .. } => true,
        ExprKind::Ident(n) => name_ok(n),
        ExprKind::Unary(op, a) => !matches!(op, UnOp::Deref | UnOp::AddrOf) && is_pure(a, name_ok),
        ExprKind::Binary(_, a, b) => is_pure(a, name_ok) && is_pure(b, name_ok),
        ExprKind::Ternary(a, b, c) => {
            is_pure(a, name_ok) && is_pure(b, name_ok) && is_pure(c, name_ok)
        }
        ExprKind::Cast {
            ty,
            reinterpret: false,
            expr,
        } if ty.pointer == 0 => is_pure(expr, name_ok),
        ExprKind::Member {
            base, arrow: false, ..
        } => is_pure(base, name_ok),
        ExprKind::Call { callee, args, .. } => {
            is_pure_math(callee.trim_start_matches("::").trim_start_matches("std::"))
                && args.iter().all(|a| is_pure(a, name_ok))
        }
        _ => false,
    }
}

/// Every plain name in `e` (to look up after the pure-shape check).
pub fn names(e: &Expr) -> Vec<&str> {
    let mut out = Vec::new();
    collect_names(e, &mut out);
    out
}

fn collect_names<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    match &e.kind {
        ExprKind::Ident(n) => out.push(n),
        // `f(x)`: the callee is not an `Ident` child, only the arguments are.
        _ => {
            for c in e.children() {
                collect_names(c, out);
            }
        }
    }
}
