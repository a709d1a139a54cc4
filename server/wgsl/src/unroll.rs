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
use cudalens_syntax::ir::{Axis, BinOp, Builtin, Expr, ExprKind, Stmt, StmtKind, UnOp};
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
    let (writes, synchronizing) = writes_and_sync(Some(model), body);
    if synchronizing || writes.contains(var) {
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

/// The most iterations a block-shaped loop is written out for.
pub const MAX_BLOCK_SHAPED_TRIPS: usize = 16;

/// A loop whose every iteration's induction value follows from constants and
/// `blockDim` alone, e.g. `for (s = blockDim.x / 2; s > 0; s >>= 1)` (tree
/// reductions) or `for (o = 1; o < blockDim.x; o *= 2)` (scans).
#[derive(Clone, Debug)]
pub struct BlockShaped<'a> {
    pub var: &'a str,
    /// The induction variable's value in each iteration, for the block size given.
    pub values: Vec<i128>,
    /// Which `blockDim` axes the sequence depends on.
    pub axes: [bool; 3],
}

/// Recognises a block-shaped loop and runs its header for `block`: `init`
/// declares one integer variable, `cond` compares it with a bound, `step`
/// changes it by a constant (`+ - * / << >>`), the body never writes it nor
/// leaves the loop early (barriers are fine: every copy stays where the loop
/// was). `konst` resolves names to integer constants. None when the
/// sequence depends on anything else, never ends within
/// [`MAX_BLOCK_SHAPED_TRIPS`], or leaves the non-negative `i32` range.
pub fn block_shaped<'a>(
    init: &'a [Stmt],
    cond: Option<&'a Expr>,
    step: Option<&'a Expr>,
    body: &Stmt,
    block: [u32; 3],
    konst: &dyn Fn(&str) -> Option<i128>,
) -> Option<BlockShaped<'a>> {
    let [init] = init else { return None };
    let StmtKind::Decl(decls) = &init.kind else {
        return None;
    };
    let [decl] = decls.as_slice() else {
        return None;
    };
    if !decl.dims.is_empty() || decl.ctor_args.is_some() || decl.ty.pointer != 0 {
        return None;
    }
    let var = decl.name.as_str();
    let mut axes = [false; 3];
    let mut eval = |e: &Expr| eval_block_const(e, block, konst, &mut axes);
    let start = eval(decl.init.as_ref()?)?;
    let (op, bound, var_left) = match &cond?.kind {
        ExprKind::Binary(op, a, b) if a.as_ident() == Some(var) => (*op, &**b, true),
        ExprKind::Binary(op, a, b) if b.as_ident() == Some(var) => (*op, &**a, false),
        _ => return None,
    };
    if !matches!(
        op,
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Ne
    ) {
        return None;
    }
    let bound = eval(bound)?;
    let (step_op, amount) = match &step?.kind {
        ExprKind::IncDec {
            increment, target, ..
        } if target.as_ident() == Some(var) => {
            (if *increment { BinOp::Add } else { BinOp::Sub }, 1)
        }
        ExprKind::Assign(Some(op), target, c) if target.as_ident() == Some(var) => (*op, eval(c)?),
        ExprKind::Assign(None, target, value) if target.as_ident() == Some(var) => {
            match &value.kind {
                ExprKind::Binary(op, a, c) if a.as_ident() == Some(var) => (*op, eval(c)?),
                _ => return None,
            }
        }
        _ => return None,
    };
    if !axes.contains(&true) || !control_ok(body, false, false) {
        return None;
    }
    let (writes, unknown) = writes_and_sync(None, body);
    if unknown || writes.contains(var) {
        return None;
    }
    let holds = |v: i128| {
        let (l, r) = if var_left { (v, bound) } else { (bound, v) };
        match op {
            BinOp::Lt => l < r,
            BinOp::Le => l <= r,
            BinOp::Gt => l > r,
            BinOp::Ge => l >= r,
            _ => l != r,
        }
    };
    let in_range = |v: i128| (0..=i128::from(i32::MAX)).contains(&v);
    let mut values = Vec::new();
    let mut v = start;
    while holds(v) {
        if values.len() == MAX_BLOCK_SHAPED_TRIPS || !in_range(v) {
            return None;
        }
        values.push(v);
        v = match step_op {
            BinOp::Add => v + amount,
            BinOp::Sub => v - amount,
            BinOp::Mul => v * amount,
            BinOp::Div if amount > 0 => v / amount,
            BinOp::Shl if (0..31).contains(&amount) => v << amount,
            BinOp::Shr if (0..31).contains(&amount) => v >> amount,
            _ => return None,
        };
        if !in_range(v) {
            return None;
        }
    }
    Some(BlockShaped { var, values, axes })
}

/// Integer value of `e` from literals, constants and `blockDim` (= `block`).
fn eval_block_const(
    e: &Expr,
    block: [u32; 3],
    konst: &dyn Fn(&str) -> Option<i128>,
    axes: &mut [bool; 3],
) -> Option<i128> {
    let mut go = |e: &Expr| eval_block_const(e, block, konst, axes);
    // Every value, intermediate ones too, stays in 0..=i32::MAX: there signed
    // and unsigned 32-bit C arithmetic agree with this exact one.
    let v = match &e.kind {
        ExprKind::Int {
            value, unsigned, ..
        } => cudalens_syntax::ir::int_literal_value(*value, *unsigned),
        ExprKind::Ident(n) => konst(n)?,
        ExprKind::Builtin(Builtin::BlockDim, axis) => {
            let i = match axis {
                Axis::X => 0,
                Axis::Y => 1,
                Axis::Z => 2,
            };
            axes[i] = true;
            i128::from(block[i])
        }
        ExprKind::Cast {
            ty,
            reinterpret: false,
            expr,
        } if ty.pointer == 0 => go(expr)?,
        ExprKind::Binary(op, a, b) => {
            let (a, b) = (go(a)?, go(b)?);
            match op {
                BinOp::Add => a + b,
                BinOp::Sub => a - b,
                BinOp::Mul => a.checked_mul(b)?,
                BinOp::Div if b != 0 => a / b,
                BinOp::Rem if b != 0 => a % b,
                BinOp::Shl if (0..31).contains(&b) && a >= 0 => a << b,
                BinOp::Shr if (0..31).contains(&b) && a >= 0 => a >> b,
                _ => return None,
            }
        }
        _ => return None,
    };
    (0..=i128::from(i32::MAX)).contains(&v).then_some(v)
}

/// Names a body assigns or takes the address of, and whether it reaches a
/// synchronizing call (checked only with a model).
fn writes_and_sync(model: Option<&FileModel>, body: &Stmt) -> (HashSet<String>, bool) {
    let mut writes = HashSet::new();
    let mut bad = false;
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
        ExprKind::Call(call) => {
            if let Some(model) = model
                && synchronizes(model, &call.callee, &mut visited)
            {
                bad = true;
            }
        }
        ExprKind::Launch { .. } | ExprKind::Unknown(_) => bad = true,
        _ => {}
    });
    (writes, bad)
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
        || crate::source_facts::is_group_sync(name)
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
    let name = crate::analysis::namespaced_callee(
        model,
        callee.trim_start_matches("::").trim_start_matches("std::"),
    );
    if is_sync_intrinsic(name) {
        return true;
    }
    if !visited.insert(name.to_string()) {
        return false;
    }
    let Some(body) = crate::analysis::device_function(model, name).and_then(|f| f.body.as_ref())
    else {
        return false;
    };
    let mut found = false;
    body.walk_exprs(&mut |e| {
        if let ExprKind::Call(call) = &e.kind
            && !found
            && synchronizes(model, &call.callee, visited)
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
        ExprKind::Call(call) => {
            is_pure_math(
                call.callee
                    .trim_start_matches("::")
                    .trim_start_matches("std::"),
            ) && call.args.iter().all(|a| is_pure(a, name_ok))
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
