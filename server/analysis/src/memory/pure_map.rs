//! The "thread-contiguous layout" fix for a loop that is a pure map.
//!
//! ```text
//! int t = blockIdx.x * blockDim.x + threadIdx.x;
//! for (int k = 0; k < K; ++k)
//!   out[t * K + k] = 2.0f * in[t * K + k];
//! ```
//!
//! Each thread walks its own chunk of `K` elements, so one warp request
//! touches 32 chunks. With `T = gridDim.x * blockDim.x` threads all running
//! the loop, thread `t` handles the elements `e = t*K + k` for `k < K`: every
//! element of `0..T*K` exactly once. Indexing with `e = k*T + t` instead
//! covers the same set, each element once, but adjacent threads now touch
//! adjacent elements. It only changes which thread handles which element, so
//! it keeps the program's meaning when the body is a pure map — what is
//! written at element `e` depends only on what is read at `e` and on values
//! that are the same in every thread and iteration.
//!
//! [`fix`] proves that shape on the IR (deliberately narrow; see its
//! conditions), writes the edits with the user's names, and re-analyses the
//! rewritten kernel to check the accesses become coalesced. The fix is a
//! suggestion, never applied on save: it assumes the arrays do not overlap
//! except at identical indices, which the source cannot show.

use std::collections::{HashMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{Axis, BinOp, Builtin, Expr, ExprKind, Stmt, StmtKind, UnOp, VarDecl};
use cudalens_syntax::model::{Function, Step, induction_of};

use super::MemorySpace;
use super::cost::{WarpCost, fmt_num, global_cost, warp_lanes};
use super::eval::Interp;
use super::expr_key;
use crate::context::KernelContext;
use crate::diagnostic::{Edit, Fix, Span};

/// Calls a pure-map body may make: math without side effects.
#[rustfmt::skip]
const PURE_CALLS: &[&str] = &[
    "sqrtf", "sqrt", "rsqrtf", "rsqrt", "cbrtf", "cbrt", "expf", "exp", "exp2f", "exp2", "exp10f",
    "expm1f", "expm1", "__expf", "logf", "log", "log2f", "log2", "log10f", "log10", "log1pf",
    "log1p", "__logf", "__log2f", "__log10f", "powf", "pow", "__powf", "sinf", "sin", "cosf",
    "cos", "tanf", "tan", "__sinf", "__cosf", "__tanf", "asinf", "asin", "acosf", "acos", "atanf",
    "atan", "atan2f", "atan2", "sinhf", "sinh", "coshf", "cosh", "tanhf", "tanh", "erff", "erf",
    "erfcf", "erfc", "hypotf", "hypot", "fabsf", "fabs", "abs", "fminf", "fmaxf", "fmin", "fmax",
    "min", "max", "floorf", "floor", "ceilf", "ceil", "roundf", "round", "truncf", "trunc",
    "rintf", "rint", "fmodf", "fmod", "copysignf", "copysign", "fmaf", "fma", "__fmaf_rn",
    "__fmul_rn", "__fadd_rn", "__fsub_rn", "__fdiv_rn", "__fdividef", "fdividef", "__frcp_rn",
    "__fsqrt_rn", "__saturatef", "isnan", "isinf", "isfinite", "signbit", "__popc", "__popcll",
    "__clz", "__clzll", "__ffs", "__brev", "__mul24", "__umul24", "__mulhi", "__umulhi",
    "__float2int_rn", "__float2int_rz", "__int2float_rn", "__half2float", "__float2half",
];

/// The suggestion for the loop that holds the access at `access`, when that
/// loop is a pure map over `t*K + k` and the rewrite makes it coalesced.
///
/// Offered only when all of these hold (anything else: no fix):
/// * the loop is `for (k = 0; k < K; ++k)` (or `k++`, `k += 1`) with `K`
///   the same in every thread, and it is a statement of the kernel's top-level
///   block with no `return` (or `goto`) before it, so every thread runs it;
/// * the kernel uses only the x dimension (no `threadIdx.y/z`, `blockIdx.y/z`)
///   and every launch has a 1D block and grid;
/// * every array access in the body is `p[e]`, `p` a pointer parameter used
///   nowhere outside the loop, and `e` is `t*K + k` in any operand order, or a
///   local of the body initialised with it, where `t` is
///   `blockIdx.x * blockDim.x + threadIdx.x` or a local holding it;
/// * the body only declares and writes its own locals and those elements:
///   no shared memory, local arrays, pointers, barriers, atomics, warp
///   intrinsics or calls other than side-effect-free math, no `break`,
///   `continue`, `return`, `goto` or `switch`, and `k`, `t` and other
///   thread-dependent values appear only inside those index expressions.
pub(super) fn fix(
    model: &FileModel,
    source: &str,
    kernel: &Function,
    contexts: &[KernelContext],
    access: Span,
    before: &str,
) -> Option<Fix> {
    let body = kernel.body.as_ref()?;
    let StmtKind::Block(top) = &body.kind else {
        return None;
    };
    let pos = top.iter().position(|s| {
        matches!(s.kind, StmtKind::For { .. })
            && s.span.start <= access.start
            && access.end <= s.span.end
    })?;
    let lp = &top[pos];
    if top[..pos].iter().any(ends_threads_early) || !one_dimensional(kernel, contexts) {
        return None;
    }
    let StmtKind::For {
        body: loop_body, ..
    } = &lp.kind
    else {
        return None;
    };
    let ind = induction_of(lp)?;
    let one = |e: &Expr| matches!(e.kind, ExprKind::Int { value: 1, .. });
    if !matches!(ind.init.kind, ExprKind::Int { value: 0, .. })
        || !matches!(&ind.step, Step::Add(by) if one(by))
    {
        return None;
    }
    let ExprKind::Binary(BinOp::Lt, var, bound) = &ind.cond.as_ref()?.kind else {
        return None;
    };
    if var.as_ident() != Some(ind.var.as_str()) {
        return None;
    }
    let mut inside = HashSet::new();
    loop_body.walk(&mut |s| {
        if let StmtKind::Decl(ds) = &s.kind {
            inside.extend(ds.iter().map(|d| d.name.clone()));
        }
    });
    let mut m = Matcher {
        model,
        source,
        kernel,
        decls: kernel.local_decls(),
        reassigned: kernel.reassigned_vars(),
        loop_span: lp.span,
        k: &ind.var,
        bound,
        inside,
        idx_locals: HashMap::new(),
        roots: HashSet::new(),
        rewrites: Vec::new(),
    };
    // Names declared in the body must be declared nowhere else, so every
    // use of them in the body means the body's own variable.
    if !m.uniform(bound, 0) || m.inside.iter().any(|n| m.decl(n).is_none()) {
        return None;
    }
    m.find_index_locals(loop_body);
    if !m.stmt(loop_body) || m.rewrites.is_empty() {
        return None;
    }
    // The arrays must be used by this loop only: elsewhere, a thread could
    // read an element another thread now writes.
    let mut used_outside = false;
    body.walk_exprs(&mut |e| {
        if let ExprKind::Ident(n) = &e.kind
            && m.roots.contains(n)
            && !(lp.span.start <= e.span.start && e.span.end <= lp.span.end)
        {
            used_outside = true;
        }
    });
    if used_outside {
        return None;
    }
    let after = rewritten_sectors(model, kernel, contexts, lp.span, access, &m.rewrites)?;
    let old = m.rewrites[0].span.text(source).to_string();
    let new = m.rewrites[0].new_text.clone();
    let edits = m
        .rewrites
        .iter()
        .map(|r| Edit {
            span: r.span,
            new_text: r.new_text.clone(),
        })
        .collect();
    Some(Fix {
        title: format!(
            "Interleave the `{}` loop across threads: index `{old}` → `{new}` ({before} → {} sectors per request)",
            ind.var,
            fmt_num(after)
        ),
        edits,
        safe: false,
        explanation: format!(
            "Assumes every thread of the grid (gridDim.x * blockDim.x) runs the loop and each element's result depends only on that element: \
             each element is still processed once, by a different thread, which is safe for this pure map if {}.",
            aliasing_condition(&m.roots)
        ),
    })
}

/// The no-aliasing condition the fix cannot check, in words.
fn aliasing_condition(roots: &HashSet<String>) -> String {
    let mut names: Vec<String> = roots.iter().map(|n| format!("`{n}`")).collect();
    names.sort();
    match names.split_last() {
        Some((last, [])) => format!("{last} is not also reached through another pointer"),
        Some((last, rest)) => format!(
            "{} and {last} do not overlap except at identical indices",
            rest.join(", ")
        ),
        None => String::new(),
    }
}

/// A `return`, `goto` or label: some threads might not reach what follows.
fn ends_threads_early(s: &Stmt) -> bool {
    let mut found = false;
    s.walk(&mut |x| {
        found |= matches!(
            x.kind,
            StmtKind::Return(_) | StmtKind::Goto(_) | StmtKind::Label(..)
        );
    });
    found
}

/// Only x indices in the kernel, and 1D blocks and grids at every launch.
fn one_dimensional(kernel: &Function, contexts: &[KernelContext]) -> bool {
    let mut x_only = true;
    if let Some(body) = &kernel.body {
        body.walk_exprs(&mut |e| {
            if let ExprKind::Builtin(Builtin::ThreadIdx | Builtin::BlockIdx, axis) = e.kind {
                x_only &= axis == Axis::X;
            }
        });
    }
    x_only
        && contexts.iter().all(|c| {
            let grid = c.launch.map(|l| l.grid_dims);
            c.block[1] == 1
                && c.block[2] == 1
                && grid.is_none_or(|g| g.y.is_none_or(|y| y == 1) && g.z.is_none_or(|z| z == 1))
        })
}

/// `blockIdx.x * blockDim.x + threadIdx.x`, in any operand order.
fn is_linear_tid(e: &Expr) -> bool {
    let ExprKind::Binary(BinOp::Add, a, b) = &e.without_casts().kind else {
        return false;
    };
    let builtin = |e: &Expr, want: Builtin| matches!(e.without_casts().kind, ExprKind::Builtin(b, Axis::X) if b == want);
    let block_base = |e: &Expr| match &e.without_casts().kind {
        ExprKind::Binary(BinOp::Mul, x, y) => {
            (builtin(x, Builtin::BlockIdx) && builtin(y, Builtin::BlockDim))
                || (builtin(x, Builtin::BlockDim) && builtin(y, Builtin::BlockIdx))
        }
        _ => false,
    };
    (block_base(a) && builtin(b, Builtin::ThreadIdx))
        || (builtin(a, Builtin::ThreadIdx) && block_base(b))
}

/// One index expression (or index local's initialiser) to rewrite.
struct Rewrite {
    span: Span,
    /// The original expression, to find it in a copy of the IR.
    original: Expr,
    /// The rewritten index in the IR, for re-analysis.
    replacement: Expr,
    new_text: String,
}

struct Matcher<'a> {
    model: &'a FileModel,
    source: &'a str,
    kernel: &'a Function,
    decls: Vec<&'a VarDecl>,
    reassigned: HashSet<String>,
    loop_span: Span,
    /// The loop counter.
    k: &'a str,
    /// The loop bound `K`.
    bound: &'a Expr,
    /// Names declared in the loop body.
    inside: HashSet<String>,
    /// Locals of the body initialised with `t*K + k`.
    idx_locals: HashMap<String, Span>,
    /// Arrays the body accesses.
    roots: HashSet<String>,
    rewrites: Vec<Rewrite>,
}

impl Matcher<'_> {
    /// The one declaration of `name` in the kernel (none when it is
    /// declared more than once: scopes would have to be resolved).
    fn decl(&self, name: &str) -> Option<&VarDecl> {
        let mut it = self.decls.iter().filter(|d| d.name == name);
        let d = it.next()?;
        it.next().is_none().then_some(*d)
    }

    fn declared_before_loop(&self, d: &VarDecl) -> bool {
        d.span.end <= self.loop_span.start
    }

    fn scalar_local(d: &VarDecl) -> bool {
        d.dims.is_empty() && d.ty.pointer == 0 && !d.shared && !d.is_static
    }

    /// Whether `e` has the same value in every thread of the grid and every
    /// iteration of the loop (and reads no memory).
    fn uniform(&self, e: &Expr, depth: usize) -> bool {
        if depth > 16 {
            return false;
        }
        match &e.kind {
            ExprKind::Int { .. }
            | ExprKind::Float { .. }
            | ExprKind::Bool(_)
            | ExprKind::WarpSize
            | ExprKind::SizeofType(_) => true,
            ExprKind::Builtin(b, _) => matches!(b, Builtin::BlockDim | Builtin::GridDim),
            ExprKind::Ident(n) => self.uniform_var(n, depth),
            ExprKind::Unary(UnOp::Deref | UnOp::AddrOf, _) => false,
            ExprKind::Unary(_, a) | ExprKind::Cast { expr: a, .. } => self.uniform(a, depth + 1),
            ExprKind::Binary(_, a, b) => self.uniform(a, depth + 1) && self.uniform(b, depth + 1),
            ExprKind::Ternary(c, a, b) => {
                self.uniform(c, depth + 1)
                    && self.uniform(a, depth + 1)
                    && self.uniform(b, depth + 1)
            }
            _ => false,
        }
    }

    fn uniform_var(&self, n: &str, depth: usize) -> bool {
        if n == self.k || self.inside.contains(n) || self.reassigned.contains(n) {
            return false;
        }
        if self.decls.iter().any(|d| d.name == n) {
            return self.decl(n).is_some_and(|d| {
                Self::scalar_local(d)
                    && self.declared_before_loop(d)
                    && d.init.as_ref().is_some_and(|i| self.uniform(i, depth + 1))
            });
        }
        if let Some(p) = self.kernel.params.iter().find(|p| p.name == n) {
            return p.ty.pointer == 0;
        }
        self.model.consts.contains_key(n) || self.kernel.template_params.iter().any(|t| t.name == n)
    }

    /// `t` as the linear global thread id: the expression itself, or a local
    /// declared before the loop, never reassigned, holding it. Returns the
    /// text to use for `t` in the rewrite and its IR.
    fn tid(&self, e: &Expr) -> Option<(String, Expr)> {
        let e = e.without_casts();
        if let ExprKind::Ident(n) = &e.kind {
            let d = self.decl(n)?;
            let ok = Self::scalar_local(d)
                && self.declared_before_loop(d)
                && !self.reassigned.contains(n)
                && d.init.as_ref().is_some_and(is_linear_tid);
            return ok.then(|| (n.clone(), e.clone()));
        }
        if e.from_macro || !is_linear_tid(e) {
            return None;
        }
        let text = e.span.text(self.source);
        (!text.is_empty()).then(|| (format!("({text})"), e.clone()))
    }

    /// `t*K + k` (operands of `+` and `*` in any order) with this loop's `k`
    /// and `K`: the rewritten text and IR, `k * (gridDim.x * blockDim.x) + t`.
    fn element(&self, e: &Expr) -> Option<(String, Expr)> {
        if e.from_macro {
            return None;
        }
        let ExprKind::Binary(BinOp::Add, a, b) = &e.kind else {
            return None;
        };
        let is_k = |x: &Expr| x.without_casts().as_ident() == Some(self.k);
        let (mul, _) = if is_k(b) {
            (a, b)
        } else if is_k(a) {
            (b, a)
        } else {
            return None;
        };
        let ExprKind::Binary(BinOp::Mul, x, y) = &mul.kind else {
            return None;
        };
        let bound = expr_key(self.bound);
        let t = if expr_key(y) == bound {
            x
        } else if expr_key(x) == bound {
            y
        } else {
            return None;
        };
        let (t_text, t_ir) = self.tid(t)?;
        let span = e.span;
        let ident = |n: &str| Expr::new(ExprKind::Ident(n.to_string()), span);
        let builtin = |b| Expr::new(ExprKind::Builtin(b, Axis::X), span);
        let bin = |op, l, r| Expr::new(ExprKind::Binary(op, Box::new(l), Box::new(r)), span);
        let threads = bin(
            BinOp::Mul,
            builtin(Builtin::GridDim),
            builtin(Builtin::BlockDim),
        );
        let ir = bin(BinOp::Add, bin(BinOp::Mul, ident(self.k), threads), t_ir);
        Some((
            format!("{} * (gridDim.x * blockDim.x) + {t_text}", self.k),
            ir,
        ))
    }

    fn push_rewrite(&mut self, e: &Expr) -> bool {
        let Some((new_text, replacement)) = self.element(e) else {
            return false;
        };
        if e.span.text(self.source).is_empty() {
            return false;
        }
        if !self.rewrites.iter().any(|r| r.span == e.span) {
            self.rewrites.push(Rewrite {
                span: e.span,
                original: e.clone(),
                replacement,
                new_text,
            });
        }
        true
    }

    /// Locals of the body declared once, never reassigned, initialised with `t*K + k`.
    fn find_index_locals(&mut self, body: &Stmt) {
        let mut found = Vec::new();
        body.walk(&mut |s| {
            if let StmtKind::Decl(ds) = &s.kind {
                for d in ds {
                    if let Some(init) = &d.init
                        && Self::scalar_local(d)
                        && self.decl(&d.name).is_some()
                        && !self.reassigned.contains(&d.name)
                        && self.element(init).is_some()
                    {
                        found.push((d.name.clone(), init.span));
                    }
                }
            }
        });
        self.idx_locals.extend(found);
    }

    fn stmt(&mut self, s: &Stmt) -> bool {
        match &s.kind {
            StmtKind::Block(v) => v.iter().all(|c| self.stmt(c)),
            StmtKind::Empty => true,
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::Decl(ds) => ds.iter().all(|d| {
                if !Self::scalar_local(d) || d.ctor_args.is_some() {
                    return false;
                }
                match &d.init {
                    Some(init) if self.idx_locals.contains_key(&d.name) => self.push_rewrite(init),
                    Some(init) => self.expr(init),
                    None => true,
                }
            }),
            StmtKind::If { cond, then, els } => {
                self.expr(cond) && self.stmt(then) && els.as_ref().is_none_or(|e| self.stmt(e))
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
                ..
            } => {
                init.iter().all(|s| self.stmt(s))
                    && cond.as_ref().is_none_or(|c| self.expr(c))
                    && step.as_ref().is_none_or(|c| self.expr(c))
                    && self.stmt(body)
            }
            StmtKind::While { cond, body } | StmtKind::DoWhile { body, cond } => {
                self.expr(cond) && self.stmt(body)
            }
            // break, continue, return, goto, switch, asm, anything unknown.
            _ => false,
        }
    }

    fn expr(&mut self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Ident(n) => self.inside.contains(n) || self.uniform_var(n, 0),
            ExprKind::Index(base, index) => self.access(base, index),
            ExprKind::Assign(_, target, value) => self.target(target) && self.expr(value),
            ExprKind::IncDec { target, .. } => self.target(target),
            ExprKind::Unary(UnOp::Deref | UnOp::AddrOf, _) => false,
            ExprKind::Unary(_, a) | ExprKind::Cast { expr: a, .. } => self.expr(a),
            ExprKind::Member { base, .. } => self.expr(base),
            ExprKind::Binary(_, a, b) => self.expr(a) && self.expr(b),
            ExprKind::Ternary(c, a, b) => self.expr(c) && self.expr(a) && self.expr(b),
            ExprKind::Call(call) => {
                PURE_CALLS.contains(&call.callee.as_str())
                    && !self.model.functions.iter().any(|f| f.name == call.callee)
                    && call.args.iter().all(|a| self.expr(a))
            }
            ExprKind::SizeofExpr(_) => true,
            _ => self.uniform(e, 0),
        }
    }

    /// What the body may write: its own locals and the mapped elements.
    fn target(&mut self, t: &Expr) -> bool {
        match &t.kind {
            ExprKind::Ident(n) => self.inside.contains(n) && !self.idx_locals.contains_key(n),
            ExprKind::Member { base, .. } => self.target(base),
            ExprKind::Index(base, index) => self.access(base, index),
            _ => false,
        }
    }

    /// `p[e]` with `p` a pointer parameter and `e` the element index.
    fn access(&mut self, base: &Expr, index: &Expr) -> bool {
        let Some(root) = base.as_ident() else {
            return false;
        };
        let is_param = self
            .kernel
            .params
            .iter()
            .any(|p| p.name == root && p.ty.pointer > 0);
        if !is_param || self.decls.iter().any(|d| d.name == root) || self.reassigned.contains(root)
        {
            return false;
        }
        let ok = match index.as_ident() {
            Some(n) if self.idx_locals.contains_key(n) => true,
            _ => self.push_rewrite(index),
        };
        if ok {
            self.roots.insert(root.to_string());
        }
        ok
    }
}

/// Re-analyses the kernel with the rewrites applied. The access at `access`
/// (any of the loop's, when it is no longer a separate access) must cost at
/// most the reporting threshold above ideal, and so must every other global
/// access of the loop: the average sectors per request of the access at
/// `access` is returned.
fn rewritten_sectors(
    model: &FileModel,
    kernel: &Function,
    contexts: &[KernelContext],
    loop_span: Span,
    access: Span,
    rewrites: &[Rewrite],
) -> Option<f64> {
    let mut fixed = kernel.clone();
    let keys: Vec<String> = rewrites.iter().map(|r| expr_key(&r.original)).collect();
    fixed.body.as_mut()?.walk_exprs_mut(&mut |e| {
        if let Some(i) = rewrites.iter().position(|r| r.span == e.span)
            && expr_key(e) == keys[i]
        {
            *e = rewrites[i].replacement.clone();
        }
    });
    let file_env = model.const_env();
    let (mut requests, mut sectors) = (0.0, 0.0);
    for ctx in contexts {
        let tenv = ctx.env(&file_env);
        let env = fixed.const_env(&tenv);
        let mut interp = Interp::new(model, env, ctx);
        interp.run(&fixed);
        for ev in &interp.events {
            let in_loop = loop_span.start <= ev.span.start && ev.span.end <= loop_span.end;
            if !in_loop || ev.space != MemorySpace::Global {
                continue;
            }
            for w in 0..ev.active.len().div_ceil(32) {
                let lanes = warp_lanes(w, &ev.active);
                let Some(WarpCost::Global {
                    sectors: s, ideal, ..
                }) = global_cost(&ev.address, &lanes, ev.element_bytes)
                else {
                    continue;
                };
                // Still wasteful (or uncountable) after the fix: not offered.
                if s <= 0.0 || ideal == 0 || super::verdict::waste(s, ideal as f64).is_some() {
                    return None;
                }
                if ev.span == access {
                    requests += ev.weight;
                    sectors += ev.weight * s;
                }
            }
        }
    }
    (requests > 0.0).then(|| sectors / requests)
}
