//! Threads that leave a kernel before a barrier: `if (i >= n) return;`
//! followed by `__syncthreads()`, the most common shape of real kernels
//! (HeCBench's `crs` has twenty of them, `stencil3d`, `matern`, the CUDA
//! samples' `shfl_scan`). WGSL wants every barrier in uniform control flow,
//! so the early `return` becomes a flag and the work after it is guarded by
//! the flag, while the barriers stay where every thread reaches them:
//!
//! ```text
//! if (i >= n) return;          var cudalens_exited = false;
//! s[t] = x[i];                 if (i >= n) { cudalens_exited = true; }
//! __syncthreads();      ==>    if (!cudalens_exited) { s[t] = x[i]; }
//! y[i] = s[t ^ 1];             workgroupBarrier();
//!                              if (!cudalens_exited) { y[i] = s[t ^ 1]; }
//! ```
//!
//! The threads that returned do nothing after their `return` (no access, no
//! write), as in CUDA; they only arrive at the barriers, where on the GPU an
//! exited thread no longer holds the others back. The rewrite is made only
//! where it cannot change what a thread that did not return does: barriers
//! stand alone at the top of the kernel body or of loops whose header reads
//! no memory; a guarded stretch before a barrier holds no other `return`,
//! no `break`/`continue` of the loop being guarded and no `goto`;
//! declarations whose initialiser reads memory or calls are split into a
//! declaration before the guard and an assignment inside it. The caller
//! then checks the result with the same uniformity rule, which sees the
//! flag as thread-dependent: a loop whose bound the guarded work computes is
//! still refused.

use cudalens_syntax::FileModel;
use cudalens_syntax::Span;
use cudalens_syntax::ir::{Expr, ExprKind, Stmt, StmtKind, Type, UnOp, VarDecl};
use cudalens_syntax::model::Function;

use crate::uniformity::Barriers;

/// The flag the rewrite declares (a kernel naming its own variable so is
/// left as it is).
const FLAG: &str = "cudalens_exited";
/// The flag of [`rewrite_guarded_block`]: the thread skips the block.
const SKIPPED: &str = "cudalens_skipped";

/// `kernel` with its early returns turned into a flag (see the module
/// note), and the spans of the returns rewritten; `None` when its body is
/// not of a shape the rewrite keeps the meaning of.
pub(crate) fn rewrite(model: &FileModel, kernel: &Function) -> Option<(Function, Vec<Span>)> {
    let body = kernel.body.as_deref()?;
    let StmtKind::Block(stmts) = &body.kind else {
        return None;
    };
    if names_flag(body) {
        return None;
    }
    let first = stmts.iter().position(|s| early_return(s).is_some())?;
    let mut rw = Rewriter {
        barriers: Barriers::of(model, kernel),
        returns: Vec::new(),
        flag: FLAG,
    };
    let at = stmts[first].span;
    let mut out: Vec<Stmt> = stmts[..first].to_vec();
    out.push(declare_flag(FLAG, Expr::new(ExprKind::Bool(false), at)));
    out.extend(rw.guard(&stmts[first..], Context::KernelBody)?);
    let mut f = kernel.clone();
    f.body = Some(Box::new(stmt(StmtKind::Block(out), body.span)));
    Some((f, rw.returns))
}

/// `kernel` with the barriers of a thread-dependent `if` moved out of it:
///
/// ```text
/// if (i < n) {                 bool cudalens_skipped = !(i < n);
///   s[t] = x[i];               if (!cudalens_skipped) { s[t] = x[i]; }
///   __syncthreads();    ==>    workgroupBarrier();
///   y[i] = s[t ^ 1];           if (!cudalens_skipped) { y[i] = s[t ^ 1]; }
/// }                            z[i] = 0;
/// z[i] = 0;
/// ```
///
/// CUDA's rules leave a barrier only some threads reach undefined; on the
/// GPU the threads that skip the block run on past it and leave, and no
/// longer hold its barriers back (the pattern HeCBench's streamcluster and
/// sad rely on). Here they wait at the barriers and do nothing between
/// them, which no thread that took the block can tell apart. Made only for
/// an `if` at the top of the kernel's body after which no barrier comes
/// (a later barrier would pair differently on the GPU), whose block holds
/// no early `return` before its last barrier (the thread would then run
/// the statements after the `if`) and is guarded as [`rewrite`] guards
/// the kernel's body; the `if`'s condition is evaluated once, where it
/// stands. Returns the span of the `if`'s condition; the caller checks the
/// result with the uniformity rule.
pub(crate) fn rewrite_guarded_block(
    model: &FileModel,
    kernel: &Function,
) -> Option<(Function, Span)> {
    let body = kernel.body.as_deref()?;
    let StmtKind::Block(stmts) = &body.kind else {
        return None;
    };
    if names_flag(body) {
        return None;
    }
    let mut rw = Rewriter {
        barriers: Barriers::of(model, kernel),
        returns: Vec::new(),
        flag: SKIPPED,
    };
    let at = stmts.iter().position(|s| rw.barriers.in_stmt(s))?;
    if stmts[at + 1..].iter().any(|s| rw.barriers.in_stmt(s))
        || stmts[..at].iter().any(|s| early_return(s).is_some())
    {
        return None;
    }
    let StmtKind::If { cond, then, els } = &stmts[at].kind else {
        return None;
    };
    if els.as_deref().is_some_and(|e| rw.barriers.in_stmt(e)) {
        return None;
    }
    let inner = match &then.kind {
        StmtKind::Block(v) => v.as_slice(),
        _ => std::slice::from_ref(&**then),
    };
    let guarded = rw.guard(inner, Context::KernelBody)?;
    if !rw.returns.is_empty() {
        return None;
    }
    let skipped = Expr::new(
        ExprKind::Unary(UnOp::Not, Box::new(cond.clone())),
        cond.span,
    );
    let mut out: Vec<Stmt> = stmts[..at].to_vec();
    out.push(declare_flag(SKIPPED, skipped));
    // A declaration of the block's stays in a scope of the kernel's body
    // (the guard splits it from its assignment): braces keep the names
    // of the statements after the `if` apart from them.
    out.push(stmt(StmtKind::Block(guarded), then.span));
    if let Some(e) = els {
        let flag = Expr::new(ExprKind::Ident(SKIPPED.into()), e.span);
        out.push(stmt(
            StmtKind::If {
                cond: flag,
                then: e.clone(),
                els: None,
            },
            e.span,
        ));
    }
    out.extend(stmts[at + 1..].iter().cloned());
    let mut f = kernel.clone();
    f.body = Some(Box::new(stmt(StmtKind::Block(out), body.span)));
    Some((f, cond.span))
}

/// Where a list of statements stands.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    /// The kernel's body: the stretch after its last barrier may return.
    KernelBody,
    /// The body of a loop that holds a barrier: every stretch comes before
    /// the barrier of the next iteration.
    BarrierLoop,
}

struct Rewriter<'a> {
    barriers: Barriers<'a>,
    returns: Vec<Span>,
    /// The flag that guards the work: [`FLAG`] or [`SKIPPED`].
    flag: &'static str,
}

impl Rewriter<'_> {
    /// `stmts` with every stretch between barriers guarded by the flag.
    fn guard(&mut self, stmts: &[Stmt], context: Context) -> Option<Vec<Stmt>> {
        let last_barrier = stmts.iter().rposition(|s| self.barriers.in_stmt(s));
        let mut out = Vec::new();
        let mut run: Vec<Stmt> = Vec::new();
        for (i, s) in stmts.iter().enumerate() {
            let before_a_barrier =
                context == Context::BarrierLoop || last_barrier.is_some_and(|b| i < b);
            if self.barriers.in_stmt(s) {
                close(&mut run, &mut out, self.flag);
                out.push(self.barrier_stmt(s)?);
                continue;
            }
            if let Some(ret) = early_return(s) {
                let first = self.returns.is_empty() && run.is_empty();
                self.returns.push(ret);
                let set = assign_flag(s.span, self.flag);
                let set = match &s.kind {
                    StmtKind::If { cond, .. } => stmt(
                        StmtKind::If {
                            cond: cond.clone(),
                            then: Box::new(set),
                            els: None,
                        },
                        s.span,
                    ),
                    _ => set,
                };
                // The flag is still false at the first one: no guard needed.
                match first {
                    true => out.push(set),
                    false => {
                        run.push(set);
                        close(&mut run, &mut out, self.flag);
                    }
                }
                continue;
            }
            if !before_a_barrier {
                // After the last barrier of the kernel's body: a `return`
                // leaves as in CUDA; nothing follows to wait for it.
                run.push(s.clone());
                continue;
            }
            if leaves_early(s, context == Context::BarrierLoop) {
                return None;
            }
            match &s.kind {
                StmtKind::Decl(decls) => {
                    for d in decls {
                        if d.shared || d.init.as_ref().is_none_or(reads_nothing) {
                            // Shared memory, or a value computed without
                            // reading memory: harmless for every thread, and
                            // kept where later statements see it as it was.
                            close(&mut run, &mut out, self.flag);
                            out.push(stmt(StmtKind::Decl(vec![d.clone()]), s.span));
                        } else {
                            let (decl, assign) = split(d)?;
                            close(&mut run, &mut out, self.flag);
                            out.push(decl);
                            run.push(assign);
                        }
                    }
                }
                _ => run.push(s.clone()),
            }
        }
        close(&mut run, &mut out, self.flag);
        Some(out)
    }

    /// A statement that holds a barrier, rewritten so every thread reaches
    /// the barrier: the barrier itself, a block around such statements, or a
    /// loop whose header reads no memory and whose body is guarded in turn.
    fn barrier_stmt(&mut self, s: &Stmt) -> Option<Stmt> {
        if self.barriers.is_bare_barrier(s) {
            return Some(s.clone());
        }
        let guarded_body = |rw: &mut Self, body: &Stmt| -> Option<Box<Stmt>> {
            let stmts = match &body.kind {
                StmtKind::Block(v) => v.as_slice(),
                _ => std::slice::from_ref(body),
            };
            let inner = rw.guard(stmts, Context::BarrierLoop)?;
            Some(Box::new(stmt(StmtKind::Block(inner), body.span)))
        };
        let kind = match &s.kind {
            StmtKind::Block(v) => StmtKind::Block(self.guard(v, Context::BarrierLoop)?),
            StmtKind::For {
                init,
                cond,
                step,
                body,
                unroll,
            } => {
                let header_pure = init.iter().all(|i| match &i.kind {
                    StmtKind::Decl(ds) => ds
                        .iter()
                        .all(|d| !d.shared && d.init.as_ref().is_none_or(reads_nothing)),
                    StmtKind::Expr(e) => assigns_locals_only(e),
                    StmtKind::Empty => true,
                    _ => false,
                }) && cond.as_deref().is_none_or(reads_nothing)
                    && step.as_deref().is_none_or(assigns_locals_only);
                if !header_pure {
                    return None;
                }
                StmtKind::For {
                    init: init.clone(),
                    cond: cond.clone(),
                    step: step.clone(),
                    body: guarded_body(self, body)?,
                    unroll: *unroll,
                }
            }
            StmtKind::While { cond, body } if reads_nothing(cond) => StmtKind::While {
                cond: cond.clone(),
                body: guarded_body(self, body)?,
            },
            _ => return None,
        };
        Some(stmt(kind, s.span))
    }
}

/// Ends a stretch of guarded statements: `if (!cudalens_exited) { ... }`.
fn close(run: &mut Vec<Stmt>, out: &mut Vec<Stmt>, flag: &str) {
    if run.is_empty() {
        return;
    }
    let stmts = std::mem::take(run);
    let at = Span::new(stmts[0].span.start, stmts[stmts.len() - 1].span.end);
    let not_exited = Expr::new(
        ExprKind::Unary(
            UnOp::Not,
            Box::new(Expr::new(ExprKind::Ident(flag.into()), at)),
        ),
        at,
    );
    out.push(stmt(
        StmtKind::If {
            cond: not_exited,
            then: Box::new(stmt(StmtKind::Block(stmts), at)),
            els: None,
        },
        at,
    ));
}

/// The span of the `return` when `s` is `if (c) return;`, `if (c) {
/// return; }` or a bare `return;`.
fn early_return(s: &Stmt) -> Option<Span> {
    let bare = |s: &Stmt| match &s.kind {
        StmtKind::Return(None) => Some(s.span),
        StmtKind::Block(v) if v.len() == 1 => match &v[0].kind {
            StmtKind::Return(None) => Some(v[0].span),
            _ => None,
        },
        _ => None,
    };
    match &s.kind {
        StmtKind::If {
            then, els: None, ..
        } => bare(then),
        StmtKind::Return(None) => Some(s.span),
        _ => None,
    }
}

/// `s` may leave the stretch it is in other than by falling through: a
/// `return` (in any form but those [`early_return`] rewrites), a `goto`, or
/// (`in_loop`) a `break`/`continue` of the loop being guarded.
fn leaves_early(s: &Stmt, in_loop: bool) -> bool {
    match &s.kind {
        StmtKind::Return(_) | StmtKind::Goto(_) | StmtKind::Label(..) => true,
        StmtKind::Break | StmtKind::Continue => in_loop,
        // Their own `break`/`continue` stay inside them.
        StmtKind::For { body, .. }
        | StmtKind::While { body, .. }
        | StmtKind::DoWhile { body, .. } => leaves_early(body, false),
        StmtKind::Switch { body, .. } => {
            // `break` ends the switch; `continue` goes on to the loop.
            let mut out = false;
            body.walk(&mut |x| {
                out |= matches!(x.kind, StmtKind::Return(_) | StmtKind::Goto(_))
                    || in_loop && matches!(x.kind, StmtKind::Continue);
            });
            out
        }
        _ => s.children().into_iter().any(|c| leaves_early(c, in_loop)),
    }
}

/// `e` computes a value from locals, parameters, literals and built-in
/// indices alone: no memory read, no call, no assignment.
fn reads_nothing(e: &Expr) -> bool {
    let mut pure = true;
    e.walk(&mut |x| {
        pure &= match &x.kind {
            ExprKind::Index(..)
            | ExprKind::Call(_)
            | ExprKind::Launch(_)
            | ExprKind::Assign(..)
            | ExprKind::IncDec { .. }
            | ExprKind::InitList(_)
            | ExprKind::Unknown(_) => false,
            ExprKind::Unary(op, _) => !matches!(op, UnOp::Deref),
            ExprKind::Member { arrow, .. } => !arrow,
            _ => true,
        }
    });
    pure
}

/// `e` assigns or steps local variables with values that read nothing
/// (`i = 0`, `i += 2`, `i++`, `i = 0, j = 1`).
fn assigns_locals_only(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Assign(_, target, value) => {
            matches!(target.kind, ExprKind::Ident(_)) && reads_nothing(value)
        }
        ExprKind::IncDec { target, .. } => matches!(target.kind, ExprKind::Ident(_)),
        ExprKind::Comma(v) => v.iter().all(assigns_locals_only),
        _ => reads_nothing(e),
    }
}

/// `T x = init;` as `T x;` before the guard and `x = init;` inside it;
/// `None` for what cannot be assigned later (arrays, initialiser lists,
/// constructors, statics).
fn split(d: &VarDecl) -> Option<(Stmt, Stmt)> {
    let init = d.init.clone()?;
    if !d.dims.is_empty()
        || d.ctor_args.is_some()
        || d.is_static
        || d.is_extern
        || d.ty.base.contains('&')
        || matches!(init.kind, ExprKind::InitList(_))
    {
        return None;
    }
    let mut decl = d.clone();
    decl.init = None;
    decl.constexpr = false;
    decl.ty.is_const = false;
    let target = Expr::new(ExprKind::Ident(d.name.clone()), d.name_span);
    let assign = Expr::new(
        ExprKind::Assign(None, Box::new(target), Box::new(init)),
        d.span,
    );
    Some((
        stmt(StmtKind::Decl(vec![decl]), d.span),
        stmt(StmtKind::Expr(assign), d.span),
    ))
}

/// `bool flag = init;`, at `init`'s span.
fn declare_flag(flag: &str, init: Expr) -> Stmt {
    let at = init.span;
    stmt(
        StmtKind::Decl(vec![VarDecl {
            name: flag.into(),
            name_span: at,
            span: at,
            ty: Type::named("bool"),
            dims: Vec::new(),
            init: Some(init),
            ctor_args: None,
            shared: false,
            is_extern: false,
            is_static: false,
            constexpr: false,
        }]),
        at,
    )
}

/// `cudalens_exited = true;`
fn assign_flag(at: Span, flag: &str) -> Stmt {
    let assign = ExprKind::Assign(
        None,
        Box::new(Expr::new(ExprKind::Ident(flag.into()), at)),
        Box::new(Expr::new(ExprKind::Bool(true), at)),
    );
    stmt(StmtKind::Expr(Expr::new(assign, at)), at)
}

fn names_flag(body: &Stmt) -> bool {
    let mut found = false;
    let ours = |n: &str| n == FLAG || n == SKIPPED;
    body.walk_exprs(&mut |e| found |= matches!(&e.kind, ExprKind::Ident(n) if ours(n)));
    body.walk(&mut |s| {
        if let StmtKind::Decl(ds) = &s.kind {
            found |= ds.iter().any(|d| ours(&d.name));
        }
    });
    found
}

fn stmt(kind: StmtKind, span: Span) -> Stmt {
    Stmt { kind, span }
}
