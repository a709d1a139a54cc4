//! Which values differ between the threads of a block ("thread-dependent"):
//! anything computed from `threadIdx`, from a thread-dependent value, or
//! assigned under a thread-dependent condition. Used to find divergent
//! barriers and to know which accesses only some lanes execute.

use std::collections::HashSet;

use cudalens_syntax::ir::{Builtin, Expr, ExprKind, Stmt, StmtKind};
use cudalens_syntax::model::Function;

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

#[derive(Clone, Debug, Default)]
pub struct ThreadDependence {
    vars: HashSet<String>,
}

impl ThreadDependence {
    pub fn of(f: &Function) -> Self {
        let mut td = ThreadDependence::default();
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

    pub fn var_varies(&self, name: &str) -> bool {
        self.vars.contains(name)
    }

    /// Whether `e` can have different values in different threads of a block.
    pub fn varies(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Builtin(Builtin::ThreadIdx, _) => true,
            ExprKind::Ident(name) => self.vars.contains(name),
            ExprKind::Call(call) => {
                LANE_VARYING_CALLS.contains(&call.callee.as_str())
                    || call.callee.starts_with("atomic")
                    || call.args.iter().any(|a| self.varies(a))
            }
            _ => e.children().into_iter().any(|c| self.varies(c)),
        }
    }

    fn visit(&mut self, s: &Stmt, divergent: bool) {
        match &s.kind {
            StmtKind::Decl(decls) => {
                for d in decls {
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
                let d = divergent || cond.as_ref().is_some_and(|c| self.varies(c));
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
            {
                self.vars.insert(name.to_string());
            }
        });
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
