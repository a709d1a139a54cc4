//! Which values differ between the threads of a block ("thread-dependent"):
//! anything computed from `threadIdx`, from a thread-dependent value, or
//! assigned under a thread-dependent condition. Used to find divergent
//! barriers (the analysis' lint, the transpiler's refusal) and to know which
//! accesses only some lanes execute.

use std::collections::HashSet;

use crate::ir::{Builtin, Expr, ExprKind, Stmt, StmtKind, expr_key};
use crate::model::Function;

/// Intrinsics whose result differs per lane.
const LANE_VARYING_CALLS: &[&str] = &[
    "__shfl_sync",
    "__shfl_up_sync",
    "__shfl_down_sync",
    "__shfl_xor_sync",
    "__lane_id",
    "laneid",
    "__activemask",
    "clock",
    "clock64",
    "curand",
    "curand_uniform",
];

/// Methods of cooperative groups whose result differs per thread.
const THREAD_VARYING_METHODS: &[&str] = &[
    "thread_rank",
    "thread_index",
    "meta_group_rank",
    "block_rank",
];

/// Block-wide votes: every thread of the block gets the same result.
const BLOCK_UNIFORM_CALLS: &[&str] = &[
    "__syncthreads_or",
    "__syncthreads_and",
    "__syncthreads_count",
];

/// CuTe's shape queries: a thread's partition of a tensor has the same shape
/// in every thread (only its data differs), so `size<2>(tAgA)` is uniform.
const SHAPE_QUERIES: &[&str] = &["size", "shape", "rank", "depth", "cosize"];

#[derive(Clone, Debug, Default)]
pub struct ThreadDependence {
    vars: HashSet<String>,
    /// `__shared__` variables, and a kernel's pointer parameters that are
    /// never reassigned (global memory): one object for the whole block, so
    /// reading a shared scalar or `flags[blockIdx.x]` (a flag one thread set
    /// before a barrier) gives every thread the same value, and `s[i]`
    /// varies only if `i` does.
    shared: HashSet<String>,
}

impl ThreadDependence {
    pub fn of(f: &Function) -> Self {
        let mut shared: HashSet<String> = f.shared_decls().iter().map(|d| d.name.clone()).collect();
        if f.is_kernel() {
            // A device function's pointer may point at one thread's locals.
            let reassigned = f.reassigned_vars();
            shared.extend(
                f.params
                    .iter()
                    .filter(|p| p.ty.pointer > 0 && !reassigned.contains(&p.name))
                    .map(|p| p.name.clone()),
            );
        }
        let mut td = ThreadDependence {
            shared,
            ..ThreadDependence::default()
        };
        let Some(body) = &f.body else { return td };
        // Each pass can only add variables, so this reaches a fixpoint.
        for _ in 0..16 {
            let before = td.vars.len();
            td.visit(body, false);
            if td.vars.len() == before {
                break;
            }
        }
        td
    }

    /// The state at the kernel's entry, for a flow-sensitive walk: nothing
    /// varies yet (parameters are uniform); [`ThreadDependence::step`] then
    /// follows the statements in order.
    pub fn at_entry(&self) -> ThreadDependence {
        ThreadDependence {
            vars: HashSet::new(),
            shared: self.shared.clone(),
        }
    }

    /// Either state (after two branches, or over loop iterations).
    /// Adds what varies in `other`; whether that added anything (joins
    /// only add, so a loop's walk reaches its fixpoint when one adds nothing).
    pub fn join(&mut self, other: &ThreadDependence) -> bool {
        let before = self.vars.len();
        self.vars.extend(other.vars.iter().cloned());
        self.vars.len() != before
    }

    /// The effect of one declaration or expression statement at this point
    /// of a flow-sensitive walk: a variable set from a uniform value outside
    /// thread-dependent control is uniform again (`i = 2` after a loop that
    /// made `i` thread-dependent).
    pub fn step(&mut self, s: &Stmt, divergent: bool) {
        match &s.kind {
            StmtKind::Decl(decls) => {
                for d in decls.iter().filter(|d| !d.shared) {
                    let varies = d.init.as_ref().is_some_and(|i| self.varies(i))
                        || d.ctor_args.iter().flatten().any(|a| self.varies(a))
                        || (divergent && d.init.is_some());
                    if varies {
                        self.vars.insert(d.name.clone());
                    } else {
                        self.vars.remove(&d.name);
                    }
                }
            }
            StmtKind::Expr(e) => self.step_expr(e, divergent),
            _ => {}
        }
    }

    /// [`ThreadDependence::step`] for the assignments of one expression.
    pub fn step_expr(&mut self, e: &Expr, divergent: bool) {
        let mut changes: Vec<(String, bool)> = Vec::new();
        e.walk(&mut |x| match &x.kind {
            ExprKind::Assign(op, t, v) => {
                if let Some(name) = root_var(t)
                    && !self.shared.contains(name)
                {
                    if self.varies(v) || divergent {
                        changes.push((name.to_string(), true));
                    } else if op.is_none() && matches!(t.kind, ExprKind::Ident(_)) {
                        changes.push((name.to_string(), false));
                    }
                }
            }
            ExprKind::IncDec { target, .. } if divergent => {
                if let Some(name) = root_var(target)
                    && !self.shared.contains(name)
                {
                    changes.push((name.to_string(), true));
                }
            }
            _ => {}
        });
        for (name, varies) in changes {
            if varies {
                self.vars.insert(name);
            } else {
                self.vars.remove(&name);
            }
        }
    }

    pub fn var_varies(&self, name: &str) -> bool {
        self.vars.contains(name)
    }

    /// Whether `e` can have different values in different threads of a block.
    pub fn varies(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Builtin(Builtin::ThreadIdx, _) => true,
            ExprKind::Ident(name) => self.vars.contains(name),
            ExprKind::Call(call) => {
                let callee = call.callee.as_str();
                let plain = callee.rsplit("::").next().unwrap_or(callee);
                if BLOCK_UNIFORM_CALLS.contains(&callee) || SHAPE_QUERIES.contains(&plain) {
                    return false;
                }
                let method = callee.rsplit(['.', ':']).next().unwrap_or(callee);
                LANE_VARYING_CALLS.contains(&callee)
                    || (callee.contains('.') && THREAD_VARYING_METHODS.contains(&method))
                    || callee.starts_with("atomic")
                    || call.args.iter().any(|a| self.varies(a))
            }
            _ => e.children().into_iter().any(|c| self.varies(c)),
        }
    }

    /// Whether a loop's trip count is the same in every thread although its
    /// bounds are not: `for (t = base + tid; t < end + tid; t += C)` starts
    /// and ends shifted by the same thread-dependent term, with a uniform step.
    pub fn uniform_trip_count(&self, init: &[Stmt], cond: &Expr, step: Option<&Expr>) -> bool {
        let Some((var, start)) = crate::model::loop_start(init) else {
            return false;
        };
        let ExprKind::Binary(op, lhs, bound) = &cond.kind else {
            return false;
        };
        use crate::ir::BinOp;
        if !matches!(
            op,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Ne
        ) || !matches!(&lhs.kind, ExprKind::Ident(n) if n == var)
        {
            return false;
        }
        let Some(step) = step else { return false };
        let step_uniform = match &step.kind {
            ExprKind::IncDec { .. } => true,
            ExprKind::Assign(Some(_), t, v) => {
                matches!(&t.kind, ExprKind::Ident(n) if n == var) && !self.varies(v)
            }
            _ => false,
        };
        if !step_uniform {
            return false;
        }
        // The thread-dependent addends of the start and the bound must be the same.
        let mut a: Vec<String> = addends(start)
            .into_iter()
            .filter(|t| self.varies(t))
            .map(expr_key)
            .collect();
        let mut b: Vec<String> = addends(bound)
            .into_iter()
            .filter(|t| self.varies(t))
            .map(expr_key)
            .collect();
        a.sort();
        b.sort();
        !a.is_empty() && a == b
    }

    fn visit(&mut self, s: &Stmt, divergent: bool) {
        match &s.kind {
            StmtKind::Decl(decls) => {
                for d in decls.iter().filter(|d| !d.shared) {
                    let init_varies = d.init.as_ref().is_some_and(|i| self.varies(i))
                        || d.ctor_args.iter().flatten().any(|a| self.varies(a));
                    if init_varies || (divergent && d.init.is_some()) {
                        self.vars.insert(d.name.clone());
                    }
                }
            }
            StmtKind::Expr(e) => self.assignments(e, divergent),
            StmtKind::If { cond, then, els } => {
                self.assignments(cond, divergent);
                let d = divergent || self.varies(cond);
                self.visit(then, d);
                if let Some(e) = els {
                    self.visit(e, d);
                }
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
                ..
            } => {
                for i in init {
                    self.visit(i, divergent);
                }
                let d = divergent
                    || cond.as_ref().is_some_and(|c| {
                        self.varies(c) && !self.uniform_trip_count(init, c, step.as_deref())
                    });
                if let Some(st) = step {
                    self.assignments(st, d);
                }
                self.visit(body, d);
            }
            StmtKind::While { cond, body } | StmtKind::DoWhile { body, cond } => {
                let d = divergent || self.varies(cond);
                self.visit(body, d);
            }
            StmtKind::Switch { cond, body } => {
                let d = divergent || self.varies(cond);
                self.visit(body, d);
            }
            _ => {
                for c in s.children() {
                    self.visit(c, divergent);
                }
            }
        }
    }

    fn assignments(&mut self, e: &Expr, divergent: bool) {
        e.walk(&mut |x| {
            let (target, value_varies) = match &x.kind {
                ExprKind::Assign(_, t, v) => (t, self.varies(v)),
                ExprKind::IncDec { target, .. } => (target, false),
                _ => return,
            };
            if let Some(name) = root_var(target)
                && (value_varies || divergent)
                && !self.shared.contains(name)
            {
                self.vars.insert(name.to_string());
            }
        });
    }
}

/// The terms of a sum: `a + b - c` → `a`, `b`, `c` (signs are irrelevant to
/// which terms vary).
fn addends(e: &Expr) -> Vec<&Expr> {
    use crate::ir::BinOp;
    match &e.kind {
        ExprKind::Binary(BinOp::Add | BinOp::Sub, a, b) => {
            let mut v = addends(a);
            v.extend(addends(b));
            v
        }
        _ => vec![e],
    }
}

/// The variable at the root of `a`, `a.x`, `a[i]` (for locals and arrays).
pub fn root_var(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Ident(n) => Some(n),
        ExprKind::Member { base, .. } | ExprKind::Index(base, _) => root_var(base),
        _ => None,
    }
}
