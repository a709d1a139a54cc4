//! Correctness lints a GPU expert would flag: a barrier only some threads of a
//! block reach, and shared memory read by one thread after another thread
//! wrote it with no barrier in between.

use std::collections::{HashMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{CallExpr, Expr, ExprKind, Stmt, StmtKind};
use cudalens_syntax::model::{Function, is_barrier};

use crate::diagnostic::{Diagnostic, Span};
use crate::divergence::{ThreadDependence, root_var};
use crate::memory::expr_key;
use crate::rules::{barrier_in_divergent_code, missing_syncthreads};

pub fn analyze_kernel(_model: &FileModel, kernel: &Function) -> Vec<Diagnostic> {
    let Some(body) = &kernel.body else {
        return Vec::new();
    };
    let td = ThreadDependence::of(kernel);
    let mut out = Vec::new();
    divergent_barriers(body, &td, None, &mut None, &mut out);
    let shared: HashSet<String> = kernel
        .shared_decls()
        .iter()
        .map(|d| d.name.clone())
        .collect();
    if !shared.is_empty() {
        let mut checker = SyncChecker {
            td: &td,
            shared: &shared,
            reported: HashSet::new(),
            out: &mut out,
            pass: 0,
        };
        checker.stmt(body, Pending::default());
    }
    out
}

/// Reports barriers under a thread-dependent condition, or after a
/// thread-dependent early `return`.
fn divergent_barriers(
    s: &Stmt,
    td: &ThreadDependence,
    divergent: Option<Span>,
    early_exit: &mut Option<Span>,
    out: &mut Vec<Diagnostic>,
) {
    let check_exprs = |s: &Stmt, early_exit: &Option<Span>, out: &mut Vec<Diagnostic>| {
        for e in s.own_exprs() {
            e.walk(&mut |x| {
                let ExprKind::Call(call) = &x.kind else {
                    return;
                };
                let callee = &call.callee;
                if !is_barrier(callee) {
                    return;
                }
                if let Some(cond) = divergent {
                    out.push(barrier_in_divergent_code::under_condition(
                        x.span, callee, cond,
                    ));
                } else if let Some(ret) = early_exit {
                    out.push(barrier_in_divergent_code::after_early_return(
                        x.span, callee, *ret,
                    ));
                }
            });
        }
    };
    check_exprs(s, early_exit, out);
    match &s.kind {
        StmtKind::If { cond, then, els } => {
            let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
            let before = *early_exit;
            divergent_barriers(then, td, d, early_exit, out);
            if let Some(e) = els {
                divergent_barriers(e, td, d, early_exit, out);
            }
            if divergent.is_none() && d.is_some() && early_exit.is_none() && before.is_none() {
                // A thread-dependent branch that returns makes the rest divergent.
                if let Some(ret) =
                    find_return(then).or_else(|| els.as_deref().and_then(find_return))
                {
                    *early_exit = Some(ret);
                }
            }
        }
        StmtKind::For {
            cond, body, init, ..
        } => {
            for i in init {
                divergent_barriers(i, td, divergent, early_exit, out);
            }
            let d = divergent.or_else(|| cond.as_ref().filter(|c| td.varies(c)).map(|c| c.span));
            divergent_barriers(body, td, d, early_exit, out);
        }
        StmtKind::While { cond, body } | StmtKind::DoWhile { body, cond } => {
            let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
            divergent_barriers(body, td, d, early_exit, out);
        }
        StmtKind::Switch { cond, body } => {
            let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
            divergent_barriers(body, td, d, early_exit, out);
        }
        _ => {
            for c in s.children() {
                divergent_barriers(c, td, divergent, early_exit, out);
            }
        }
    }
}

fn find_return(s: &Stmt) -> Option<Span> {
    let mut found = None;
    s.walk(&mut |x| {
        if matches!(x.kind, StmtKind::Return(_)) && found.is_none() {
            found = Some(x.span);
        }
    });
    found
}

/// Shared-memory accesses since the last barrier: array → (index key,
/// thread-private, span, loop pass that made it).
#[derive(Clone, Default)]
struct Pending {
    writes: HashMap<String, Vec<(String, bool, Span, u32)>>,
    reads: HashMap<String, Vec<(String, bool, Span, u32)>>,
}

impl Pending {
    fn merge(mut self, other: Pending) -> Pending {
        for (mine, theirs) in [
            (&mut self.writes, other.writes),
            (&mut self.reads, other.reads),
        ] {
            for (k, v) in theirs {
                let e = mine.entry(k).or_default();
                for w in v {
                    if !e.contains(&w) {
                        e.push(w);
                    }
                }
            }
        }
        self
    }
}

struct SyncChecker<'a> {
    td: &'a ThreadDependence,
    shared: &'a HashSet<String>,
    reported: HashSet<Span>,
    out: &'a mut Vec<Diagnostic>,
    /// Bumped for each second pass over a loop body, to tell loop-carried
    /// accesses from those of the same iteration.
    pass: u32,
}

impl SyncChecker<'_> {
    fn stmt(&mut self, s: &Stmt, mut p: Pending) -> Pending {
        match &s.kind {
            StmtKind::Block(v) => {
                for c in v {
                    p = self.stmt(c, p);
                }
                p
            }
            StmtKind::If { cond, then, els } => {
                p = self.expr(cond, p);
                let a = self.stmt(then, p.clone());
                let b = match els {
                    Some(e) => self.stmt(e, p),
                    None => p,
                };
                a.merge(b)
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
                ..
            } => {
                for i in init {
                    p = self.stmt(i, p);
                }
                let entry = p.clone();
                // Twice: the second pass sees writes from the end of the previous iteration.
                let mut state = p;
                for round in 0..2 {
                    if round == 1 {
                        self.pass += 1;
                    }
                    if let Some(c) = cond {
                        state = self.expr(c, state);
                    }
                    state = self.stmt(body, state);
                    if let Some(st) = step {
                        state = self.expr(st, state);
                    }
                }
                entry.merge(state)
            }
            StmtKind::While { cond, body } | StmtKind::DoWhile { body, cond } => {
                let entry = p.clone();
                let mut state = p;
                for round in 0..2 {
                    if round == 1 {
                        self.pass += 1;
                    }
                    state = self.expr(cond, state);
                    state = self.stmt(body, state);
                }
                entry.merge(state)
            }
            _ => {
                for e in s.own_exprs() {
                    p = self.expr(e, p);
                }
                for c in s.children() {
                    p = self.stmt(c, p);
                }
                p
            }
        }
    }

    /// Processes reads before writes within one expression, in evaluation order.
    fn expr(&mut self, e: &Expr, mut p: Pending) -> Pending {
        if let ExprKind::Call(call) = &e.kind {
            let CallExpr { callee, args, .. } = &**call;
            if is_barrier(callee) {
                return Pending::default();
            }
            if callee == "__syncwarp" {
                return p;
            }
            if callee.starts_with("atomic") {
                for a in args.iter().skip(1) {
                    p = self.expr(a, p);
                }
                return p;
            }
        }
        match &e.kind {
            ExprKind::Assign(op, target, value) => {
                p = self.expr(value, p);
                if op.is_some() {
                    self.read(target, &mut p);
                }
                p = self.index_operands(target, p);
                self.write(target, &mut p);
                p
            }
            ExprKind::IncDec { target, .. } => {
                self.read(target, &mut p);
                p = self.index_operands(target, p);
                self.write(target, &mut p);
                p
            }
            ExprKind::Index(..) => {
                p = self.index_operands(e, p);
                self.read(e, &mut p);
                p
            }
            _ => {
                for c in e.children() {
                    p = self.expr(c, p);
                }
                p
            }
        }
    }

    /// Evaluates the index expressions along `a[i][j]` (reads inside indices).
    fn index_operands(&mut self, e: &Expr, mut p: Pending) -> Pending {
        let mut cur = e;
        loop {
            match &cur.kind {
                ExprKind::Index(base, idx) => {
                    p = self.expr(idx, p);
                    cur = base;
                }
                ExprKind::Member { base, .. } => cur = base,
                _ => return p,
            }
        }
    }

    fn shared_access<'e>(&self, e: &'e Expr) -> Option<(&'e str, String, bool)> {
        let ExprKind::Index(..) = &e.kind else {
            return None;
        };
        let name = root_var(e)?;
        if !self.shared.contains(name) {
            return None;
        }
        let mut indices = Vec::new();
        let mut cur = e;
        while let ExprKind::Index(base, idx) = &cur.kind {
            indices.push(idx.as_ref());
            cur = base;
        }
        let key = indices
            .iter()
            .rev()
            .map(|i| expr_key(i))
            .collect::<Vec<_>>()
            .join("][");
        let private = indices.iter().any(|i| self.td.varies(i));
        Some((name, key, private))
    }

    fn read(&mut self, e: &Expr, p: &mut Pending) {
        let Some((name, key, private)) = self.shared_access(e) else {
            return;
        };
        let entry = p.reads.entry(name.to_string()).or_default();
        if !entry.iter().any(|(k, _, sp, _)| *k == key && *sp == e.span) {
            entry.push((key.clone(), private, e.span, self.pass));
        }
        let Some(writes) = p.writes.get(name) else {
            return;
        };
        let conflict = writes
            .iter()
            .find(|(wkey, wprivate, _, _)| !(*wkey == key && private && *wprivate));
        if let Some((_, _, wspan, _)) = conflict
            && self.reported.insert(e.span)
        {
            self.out
                .push(missing_syncthreads::read_after_write(e.span, name, *wspan));
        }
    }

    fn write(&mut self, e: &Expr, p: &mut Pending) {
        let Some((name, key, private)) = self.shared_access(e) else {
            return;
        };
        // Write-after-read across loop iterations: the previous iteration's
        // readers may not be done when this iteration overwrites the array.
        let carried = p.reads.get(name).and_then(|reads| {
            reads.iter().find(|(rkey, rprivate, _, pass)| {
                *pass < self.pass && !(*rkey == key && private && *rprivate)
            })
        });
        if let Some((_, _, rspan, _)) = carried
            && self.reported.insert(e.span)
        {
            self.out
                .push(missing_syncthreads::write_after_read(e.span, name, *rspan));
        }
        let entry = p.writes.entry(name.to_string()).or_default();
        if !entry.iter().any(|(k, _, _, _)| *k == key) {
            entry.push((key, private, e.span, self.pass));
        }
    }
}
