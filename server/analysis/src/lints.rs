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
    let groups = Groups::of(kernel);
    let mut out = Vec::new();
    divergent_barriers(
        body,
        &mut td.at_entry(),
        &groups,
        None,
        &mut None,
        &mut out,
        true,
    );
    let shared: HashSet<String> = kernel
        .shared_decls()
        .iter()
        .map(|d| d.name.clone())
        .collect();
    if !shared.is_empty() {
        let mut checker = SyncChecker {
            td: &td,
            groups: &groups,
            shared: &shared,
            reported: HashSet::new(),
            out: &mut out,
            pass: 0,
        };
        checker.stmt(body, Pending::default());
    }
    out
}

/// The kernel's cooperative-groups handles: which variables are a whole
/// thread block or grid (`cg::this_thread_block()`, `this_grid()`), whose
/// `.sync()` is a block barrier, and which are tiles of a block
/// (`tiled_partition`), whose `.sync()` only orders one warp.
#[derive(Default)]
struct Groups {
    block: HashSet<String>,
    tile: HashSet<String>,
}

impl Groups {
    fn of(kernel: &Function) -> Groups {
        let mut g = Groups::default();
        for d in kernel.local_decls() {
            let ty = d.ty.base.as_str();
            let mut init = String::new();
            if let Some(i) = &d.init {
                i.walk(&mut |x| {
                    if let ExprKind::Call(c) = &x.kind {
                        init.push_str(&c.callee);
                        init.push(' ');
                    }
                });
            }
            if init.contains("tiled_partition")
                || ty.contains("tile")
                || ty.contains("coalesced_group")
            {
                g.tile.insert(d.name.clone());
            } else if init.contains("this_thread_block")
                || init.contains("this_grid")
                || ty.ends_with("thread_block")
                || ty.ends_with("grid_group")
            {
                g.block.insert(d.name.clone());
            }
        }
        g
    }

    /// Whether a call to `callee(args)` makes every thread of the block wait:
    /// `__syncthreads*`, `block.sync()`, `grid.sync()`, `cg::sync(block)`,
    /// `block.barrier_wait(...)`.
    fn is_block_barrier(&self, call: &CallExpr) -> bool {
        let callee = call.callee.as_str();
        if is_barrier(callee) {
            return true;
        }
        if let Some((recv, method)) = callee.rsplit_once('.') {
            return matches!(method, "sync" | "barrier_wait" | "arrive_and_wait")
                && self.block.contains(recv);
        }
        let plain = callee.trim_start_matches("::");
        if matches!(plain, "cg::sync" | "cooperative_groups::sync" | "sync")
            && let Some(ExprKind::Ident(g)) = call.args.first().map(|a| &a.kind)
        {
            return self.block.contains(g);
        }
        false
    }
}

/// Whether every path through `s` ends in `return`: a uniform branch that
/// does so takes its threads out together, whatever happens inside it.
fn always_returns(s: &Stmt) -> bool {
    match &s.kind {
        StmtKind::Return(_) => true,
        StmtKind::Block(v) => v.last().is_some_and(always_returns),
        StmtKind::If {
            then, els: Some(e), ..
        } => always_returns(then) && always_returns(e),
        _ => false,
    }
}

/// Reports barriers under a thread-dependent condition, or after a
/// thread-dependent early `return`. Walks the statements in order with the
/// thread dependence at each point (`td`), so a variable reused for a uniform
/// loop after a thread-dependent one is uniform there; `report` is false for
/// the passes that only find a loop's fixpoint.
#[allow(clippy::too_many_arguments)]
fn divergent_barriers(
    s: &Stmt,
    td: &mut ThreadDependence,
    groups: &Groups,
    divergent: Option<Span>,
    early_exit: &mut Option<Span>,
    out: &mut Vec<Diagnostic>,
    report: bool,
) {
    let check_exprs = |s: &Stmt, early_exit: &Option<Span>, out: &mut Vec<Diagnostic>| {
        for e in s.own_exprs() {
            e.walk(&mut |x| {
                let ExprKind::Call(call) = &x.kind else {
                    return;
                };
                let callee = &call.callee;
                if !groups.is_block_barrier(call) {
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
    if report {
        check_exprs(s, early_exit, out);
    }
    match &s.kind {
        StmtKind::Decl(_) | StmtKind::Expr(_) => td.step(s, divergent.is_some()),
        StmtKind::If { cond, then, els } => {
            td.step_expr(cond, divergent.is_some());
            let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
            let before = *early_exit;
            let mut other = td.clone();
            divergent_barriers(then, td, groups, d, early_exit, out, report);
            if d.is_none() && always_returns(then) {
                // The threads that took this uniform branch all left: those
                // that go on never saw its returns, nor its assignments.
                *early_exit = before;
                *td = other.clone();
            }
            if let Some(e) = els {
                let mid = *early_exit;
                divergent_barriers(e, &mut other, groups, d, early_exit, out, report);
                if d.is_none() && always_returns(e) {
                    *early_exit = mid;
                } else {
                    td.join(&other);
                }
            } else {
                td.join(&other);
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
            cond,
            body,
            init,
            step,
            ..
        } => {
            for i in init {
                divergent_barriers(i, td, groups, divergent, early_exit, out, report);
            }
            let loop_divergence = |td: &ThreadDependence| {
                divergent.or_else(|| {
                    cond.as_ref()
                        .filter(|c| {
                            td.varies(c) && !td.uniform_trip_count(init, c, step.as_deref())
                        })
                        .map(|c| c.span)
                })
            };
            // The dependence at the top of the loop: what any iteration leaves.
            for _ in 0..3 {
                let mut pass = td.clone();
                let d = loop_divergence(&pass);
                divergent_barriers(
                    body,
                    &mut pass,
                    groups,
                    d,
                    &mut early_exit.clone(),
                    out,
                    false,
                );
                if let Some(st) = step {
                    pass.step_expr(st, d.is_some());
                }
                td.join(&pass);
            }
            let d = loop_divergence(td);
            let mut pass = td.clone();
            divergent_barriers(body, &mut pass, groups, d, early_exit, out, report);
            td.join(&pass);
        }
        StmtKind::While { cond, body } | StmtKind::DoWhile { body, cond } => {
            for _ in 0..3 {
                let mut pass = td.clone();
                let d = divergent.or_else(|| pass.varies(cond).then_some(cond.span));
                divergent_barriers(
                    body,
                    &mut pass,
                    groups,
                    d,
                    &mut early_exit.clone(),
                    out,
                    false,
                );
                td.join(&pass);
            }
            let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
            let mut pass = td.clone();
            divergent_barriers(body, &mut pass, groups, d, early_exit, out, report);
            td.join(&pass);
        }
        StmtKind::Switch { cond, body } => {
            let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
            divergent_barriers(body, td, groups, d, early_exit, out, report);
        }
        _ => {
            for c in s.children() {
                divergent_barriers(c, td, groups, divergent, early_exit, out, report);
            }
        }
    }
}

/// The terms of a sum with their signs: `a + 4 * i - 1` → `a`, `4 * i`, `-1`.
fn signed_addends(e: &Expr, negative: bool) -> Vec<(&Expr, bool)> {
    use cudalens_syntax::ir::BinOp;
    match &e.kind {
        ExprKind::Binary(BinOp::Add, a, b) => {
            let mut v = signed_addends(a, negative);
            v.extend(signed_addends(b, negative));
            v
        }
        ExprKind::Binary(BinOp::Sub, a, b) => {
            let mut v = signed_addends(a, negative);
            v.extend(signed_addends(b, !negative));
            v
        }
        _ => vec![(e, negative)],
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

/// The part of a shared array one thread owns, when the index says so:
/// `s[4 * i + c]` with `i` thread-dependent touches the thread's own group of
/// 4 (for constant `c` in one window of 4), `s[row][j]` with `row`
/// thread-dependent the thread's own row. Threads are assumed to map to
/// distinct `i` / `row`, as for the thread-private slots `s[i]`.
#[derive(Clone, Debug, PartialEq)]
struct Owner {
    /// The thread-dependent part (and any uniform non-constant part), as text.
    key: String,
    /// The width of each thread's group (`i64::MAX` for a whole row).
    width: i64,
    /// The constant offset within the group.
    offset: i64,
}

impl Owner {
    fn same_group(a: &Option<Owner>, b: &Option<Owner>) -> bool {
        match (a, b) {
            (Some(a), Some(b)) => {
                a.key == b.key && a.width == b.width && (a.offset - b.offset).abs() < a.width
            }
            _ => false,
        }
    }
}

/// One shared access since the last barrier: index key, thread-private,
/// span, loop pass that made it, the owned group.
type Access = (String, bool, Span, u32, Option<Owner>);

/// Shared-memory accesses since the last barrier, per array.
#[derive(Clone, Default)]
struct Pending {
    writes: HashMap<String, Vec<Access>>,
    reads: HashMap<String, Vec<Access>>,
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
    groups: &'a Groups,
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
            if self.groups.is_block_barrier(call) {
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

    /// The group of the array `indices` (outermost first) falls in, owned by
    /// one thread (see [`Owner`]).
    fn owner(&self, indices: &[&Expr]) -> Option<Owner> {
        use cudalens_syntax::ir::BinOp;
        let first = indices.first()?;
        if indices.len() > 1 {
            return self.td.varies(first).then(|| Owner {
                key: expr_key(first),
                width: i64::MAX,
                offset: 0,
            });
        }
        let mut varying = Vec::new();
        let mut uniform = Vec::new();
        let mut offset = 0i64;
        let mut width = None;
        for (t, negative) in signed_addends(first, false) {
            if let ExprKind::Int { value, .. } = &t.kind {
                let v = *value;
                offset += if negative { -v } else { v };
                continue;
            }
            if !self.td.varies(t) {
                uniform.push(format!(
                    "{}{}",
                    if negative { "-" } else { "+" },
                    expr_key(t)
                ));
                continue;
            }
            if negative {
                return None;
            }
            let k = match &t.kind {
                ExprKind::Binary(BinOp::Mul, a, b) => match (&a.kind, &b.kind) {
                    (ExprKind::Int { value, .. }, _) | (_, ExprKind::Int { value, .. }) => *value,
                    _ => return None,
                },
                _ => 1,
            };
            if width.replace(k).is_some() {
                return None; // two thread-dependent terms: no simple groups
            }
            varying.push(expr_key(t));
        }
        let width = width.filter(|w| *w > 0)?;
        uniform.sort();
        Some(Owner {
            key: format!("{}{}", varying.join(""), uniform.join("")),
            width,
            offset,
        })
    }

    fn shared_access<'e>(&self, e: &'e Expr) -> Option<(&'e str, String, bool, Option<Owner>)> {
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
        indices.reverse();
        let owner = self.owner(&indices);
        Some((name, key, private, owner))
    }

    fn read(&mut self, e: &Expr, p: &mut Pending) {
        let Some((name, key, private, owner)) = self.shared_access(e) else {
            return;
        };
        let entry = p.reads.entry(name.to_string()).or_default();
        if !entry
            .iter()
            .any(|(k, _, sp, _, _)| *k == key && *sp == e.span)
        {
            entry.push((key.clone(), private, e.span, self.pass, owner.clone()));
        }
        let Some(writes) = p.writes.get(name) else {
            return;
        };
        let conflict = writes.iter().find(|(wkey, wprivate, _, _, wowner)| {
            !(Owner::same_group(wowner, &owner) || (*wkey == key && private && *wprivate))
        });
        if let Some((_, _, wspan, _, _)) = conflict
            && self.reported.insert(e.span)
        {
            self.out
                .push(missing_syncthreads::read_after_write(e.span, name, *wspan));
        }
    }

    fn write(&mut self, e: &Expr, p: &mut Pending) {
        let Some((name, key, private, owner)) = self.shared_access(e) else {
            return;
        };
        // Write-after-read across loop iterations: the previous iteration's
        // readers may not be done when this iteration overwrites the array.
        let carried = p.reads.get(name).and_then(|reads| {
            reads.iter().find(|(rkey, rprivate, _, pass, rowner)| {
                *pass < self.pass
                    && !(*rkey == key && private && *rprivate)
                    && !Owner::same_group(rowner, &owner)
            })
        });
        if let Some((_, _, rspan, _, _)) = carried
            && self.reported.insert(e.span)
        {
            self.out
                .push(missing_syncthreads::write_after_read(e.span, name, *rspan));
        }
        let entry = p.writes.entry(name.to_string()).or_default();
        if !entry.iter().any(|(k, _, _, _, _)| *k == key) {
            entry.push((key, private, e.span, self.pass, owner));
        }
    }
}
