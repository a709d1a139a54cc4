//! WGSL's rule that `workgroupBarrier()` runs in uniform control flow, which
//! naga does not check: a block barrier (`__syncthreads*`, a thread block's
//! `.sync()`, or a call of a device function that reaches one) under a
//! thread-dependent condition or loop, or after a thread-dependent early
//! `return`, is refused. Which values are thread-dependent is the analysis'
//! reasoning ([`cudalens_syntax::divergence`]); this walk mirrors its
//! `barrier-in-divergent-code` lint, without the launch facts it uses to
//! settle conditions such as `threadIdx.y >= k` (so it can only refuse what
//! the lint may also report, never less).

use std::collections::HashSet;

use cudalens_syntax::FileModel;
use cudalens_syntax::Span;
use cudalens_syntax::divergence::ThreadDependence;
use cudalens_syntax::ir::{CallExpr, ExprKind, Stmt, StmtKind};
use cudalens_syntax::model::Function;

use crate::diag::TranspileDiagnostic;
use crate::source_facts::{is_group_sync, is_this_thread_block, strip_cg};

// How deep calls are followed to find a barrier: the analysis' depth.
use cudalens_syntax::model::CALL_DEPTH;

/// The refusals for `kernel`: its own divergent barriers and those inside
/// the device functions it calls, in its file or a header (their
/// parameters count as uniform). Each diagnostic names the file its span
/// indexes; `texts` give the lines its message cites.
pub fn divergent_barriers(
    model: &FileModel,
    kernel: &Function,
    texts: &crate::SourceTexts<'_>,
) -> Vec<TranspileDiagnostic> {
    let mut out = Vec::new();
    let mut functions = vec![kernel];
    if let Some(body) = &kernel.body {
        functions.extend(model.device_functions_called_by(body));
    }
    for f in functions {
        let Some(body) = &f.body else { continue };
        let text = texts.text_of(f.file.as_deref());
        let mut walk = Walk {
            model,
            blocks: block_handles(f),
            reducers: crate::cub::block_reduce_aliases(f),
            found: Vec::new(),
        };
        let td = ThreadDependence::of(f);
        walk.visit(body, &mut td.at_entry(), None, &mut None, true);
        for finding in walk.found {
            let diag = finding.diagnostic(text).in_file(f.file.clone());
            if !out.contains(&diag) {
                out.push(diag);
            }
        }
    }
    out
}

/// Which statements of `f` make a block barrier (see [`crate::early_exit`]).
pub(crate) struct Barriers<'a>(Walk<'a>);

impl<'a> Barriers<'a> {
    pub(crate) fn of(model: &'a FileModel, f: &Function) -> Self {
        Barriers(Walk {
            model,
            blocks: block_handles(f),
            reducers: crate::cub::block_reduce_aliases(f),
            found: Vec::new(),
        })
    }

    /// `s` is a block barrier and nothing else: `__syncthreads();`, a
    /// thread block's `sync()`.
    pub(crate) fn is_bare_barrier(&self, s: &Stmt) -> bool {
        matches!(&s.kind, StmtKind::Expr(e) if matches!(&e.kind, ExprKind::Call(c) if self.0.is_block_barrier(c)))
    }

    /// `s` makes or reaches a block barrier somewhere.
    pub(crate) fn in_stmt(&self, s: &Stmt) -> bool {
        self.0.contains_barrier(s)
    }
}

/// Why a barrier is not reached by every thread.
#[derive(Clone, Copy)]
enum Cause {
    Condition(Span),
    EarlyReturn(Span),
}

struct Finding {
    at: Span,
    /// `__syncthreads()`, or `` `stage()`, which reaches __syncthreads() ``.
    what: String,
    cause: Cause,
}

impl Finding {
    fn diagnostic(&self, text: Option<&str>) -> TranspileDiagnostic {
        let line = |s: Span| {
            text.filter(|t| s.start <= t.len())
                .map(|t| format!(" on line {}", t[..s.start].matches('\n').count() + 1))
                .unwrap_or_default()
        };
        let why = match self.cause {
            Cause::Condition(c) => format!(
                "is inside a condition that depends on the thread (the condition{})",
                line(c)
            ),
            Cause::EarlyReturn(r) => format!(
                "comes after a thread-dependent early return (the return{})",
                line(r)
            ),
        };
        TranspileDiagnostic::error(
            self.at,
            format!(
                "{}{} {why}: WGSL requires workgroupBarrier() in uniform control flow, and in CUDA a barrier only some threads reach is undefined behaviour; not transpiled (move the barrier out of the branch and guard only the work)",
                self.what,
                line(self.at)
            ),
        )
    }
}

struct Walk<'a> {
    model: &'a FileModel,
    /// Local names of this function's cooperative-groups thread blocks.
    blocks: HashSet<String>,
    /// Its `cub::BlockReduce` aliases: `R(temp).Sum(x)` synchronises the
    /// block (CUB's reductions contain `__syncthreads`; so does ours).
    reducers: HashSet<String>,
    found: Vec<Finding>,
}

impl Walk<'_> {
    /// What `call` synchronises when it makes or reaches a block barrier.
    fn barrier(&self, call: &CallExpr) -> Option<String> {
        if self.is_block_barrier(call) {
            return Some(format!("{}()", call.callee));
        }
        let reached = reaches_barrier(self.model, &call.callee, 0, &mut HashSet::new())?;
        Some(format!("`{}()`, which reaches {reached},", call.callee))
    }

    fn is_block_barrier(&self, call: &CallExpr) -> bool {
        let callee = call.callee.as_str();
        if is_barrier_call(callee) || crate::cub::is_reduction_of(callee, &self.reducers) {
            return true;
        }
        if !is_group_sync(callee) {
            return false;
        }
        let group = match callee.trim_end().strip_suffix(".sync") {
            Some(receiver) => receiver.trim(),
            None => match call.args.first().map(|a| &a.kind) {
                Some(ExprKind::Ident(g)) => g.as_str(),
                Some(ExprKind::Call(c)) if is_this_thread_block(&c.callee) => return true,
                _ => return false,
            },
        };
        self.blocks.contains(group) || is_this_thread_block(group.trim_end_matches("()"))
    }

    /// Whether `s` makes a block barrier somewhere.
    fn contains_barrier(&self, s: &Stmt) -> bool {
        let mut found = false;
        s.walk_exprs(&mut |e| {
            if let ExprKind::Call(c) = &e.kind {
                found = found || self.barrier(c).is_some();
            }
        });
        found
    }

    /// Walks `s` in order with the thread dependence at each point;
    /// `divergent` is the thread-dependent condition `s` is under,
    /// `early_exit` a thread-dependent return before it; records findings
    /// when `report` (the loop passes that only find a fixpoint do not).
    fn visit(
        &mut self,
        s: &Stmt,
        td: &mut ThreadDependence,
        divergent: Option<Span>,
        early_exit: &mut Option<Span>,
        report: bool,
    ) {
        if report
            && let Some(cause) = divergent
                .map(Cause::Condition)
                .or(early_exit.map(Cause::EarlyReturn))
        {
            let mut found = Vec::new();
            for e in s.own_exprs() {
                e.walk(&mut |x| {
                    if let ExprKind::Call(c) = &x.kind
                        && let Some(what) = self.barrier(c)
                    {
                        found.push(Finding {
                            at: x.span,
                            what,
                            cause,
                        });
                    }
                });
            }
            self.found.extend(found);
        }
        match &s.kind {
            StmtKind::Decl(_) | StmtKind::Expr(_) => td.step(s, divergent.is_some()),
            StmtKind::If { cond, then, els } => {
                td.step_expr(cond, divergent.is_some());
                // Both branches reaching a barrier: every thread arrives at one.
                let matched = els
                    .as_deref()
                    .is_some_and(|e| self.contains_barrier(then) && self.contains_barrier(e));
                let d = divergent.or_else(|| (td.varies(cond) && !matched).then_some(cond.span));
                let before = *early_exit;
                let mut other = td.clone();
                self.visit(then, td, d, early_exit, report);
                if d.is_none() && always_returns(then) {
                    // The threads that took this uniform branch all left.
                    *early_exit = before;
                    *td = other.clone();
                }
                match els {
                    Some(e) => {
                        let mid = *early_exit;
                        self.visit(e, &mut other, d, early_exit, report);
                        if d.is_none() && always_returns(e) {
                            *early_exit = mid;
                        } else {
                            td.join(&other);
                        }
                    }
                    None => {
                        td.join(&other);
                    }
                }
                if divergent.is_none() && d.is_some() && early_exit.is_none() && before.is_none() {
                    // A thread-dependent branch that returns makes the rest divergent.
                    *early_exit =
                        find_return(then).or_else(|| els.as_deref().and_then(find_return));
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
                    self.visit(i, td, divergent, early_exit, report);
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
                self.loop_fixpoint(
                    td,
                    body,
                    early_exit,
                    |pass, d| {
                        if let Some(st) = step {
                            pass.step_expr(st, d.is_some());
                        }
                    },
                    &loop_divergence,
                );
                if report {
                    let d = loop_divergence(td);
                    let mut pass = td.clone();
                    self.visit(body, &mut pass, d, early_exit, report);
                    td.join(&pass);
                }
            }
            StmtKind::While { cond, body } | StmtKind::DoWhile { body, cond } => {
                let loop_divergence = |td: &ThreadDependence| {
                    divergent.or_else(|| td.varies(cond).then_some(cond.span))
                };
                self.loop_fixpoint(td, body, early_exit, |_, _| {}, &loop_divergence);
                if report {
                    let d = loop_divergence(td);
                    let mut pass = td.clone();
                    self.visit(body, &mut pass, d, early_exit, report);
                    td.join(&pass);
                }
            }
            StmtKind::Switch { cond, body } => {
                let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
                self.visit(body, td, d, early_exit, report);
            }
            _ => {
                for c in s.children() {
                    self.visit(c, td, divergent, early_exit, report);
                }
            }
        }
    }

    /// Joins what walks of a loop's body leave into `td` (up to three
    /// walks, stopping at the first that adds nothing), so the last walk
    /// sees what any iteration may have made thread-dependent.
    fn loop_fixpoint(
        &mut self,
        td: &mut ThreadDependence,
        body: &Stmt,
        early_exit: &Option<Span>,
        after_body: impl Fn(&mut ThreadDependence, Option<Span>),
        divergence: &dyn Fn(&ThreadDependence) -> Option<Span>,
    ) {
        for _ in 0..3 {
            let mut pass = td.clone();
            let d = divergence(&pass);
            self.visit(body, &mut pass, d, &mut early_exit.clone(), false);
            after_body(&mut pass, d);
            if !td.join(&pass) {
                break;
            }
        }
    }
}

fn is_barrier_call(callee: &str) -> bool {
    matches!(
        callee.trim_start_matches("::"),
        "__syncthreads" | "__syncthreads_count" | "__syncthreads_and" | "__syncthreads_or"
    )
}

/// The names a function gives its cooperative-groups thread blocks:
/// `cg::thread_block b = cg::this_thread_block();` and parameters of that type.
fn block_handles(f: &Function) -> HashSet<String> {
    let is_block_type = |t: &str| {
        let t = strip_cg(t.trim_start_matches("const ").trim_end_matches(['&', ' ']));
        t == "thread_block"
    };
    let mut names: HashSet<String> = f
        .params
        .iter()
        .filter(|p| is_block_type(&p.ty.display()))
        .map(|p| p.name.clone())
        .collect();
    for d in f.local_decls() {
        let from_block = matches!(
            d.init.as_ref().map(|i| &i.kind),
            Some(ExprKind::Call(c)) if is_this_thread_block(&c.callee)
        );
        if from_block || is_block_type(&d.ty.display()) {
            names.insert(d.name.clone());
        }
    }
    names
}

/// The barrier a device function named `callee` makes or reaches (through
/// at most [`CALL_DEPTH`] calls), if any.
fn reaches_barrier(
    model: &FileModel,
    callee: &str,
    depth: usize,
    seen: &mut HashSet<String>,
) -> Option<String> {
    if depth >= CALL_DEPTH || !seen.insert(callee.to_string()) {
        return None;
    }
    let f = model
        .function(callee)
        .filter(|f| f.runs_on_device() && !f.is_kernel())?;
    let body = f.body.as_ref()?;
    let walk = Walk {
        model,
        blocks: block_handles(f),
        reducers: crate::cub::block_reduce_aliases(f),
        found: Vec::new(),
    };
    let mut barrier = None;
    let mut callees = Vec::new();
    body.walk_exprs(&mut |e| {
        if let ExprKind::Call(c) = &e.kind {
            if barrier.is_none() && walk.is_block_barrier(c) {
                barrier = Some(format!("{}()", c.callee));
            }
            callees.push(c.callee.clone());
        }
    });
    barrier.or_else(|| {
        callees
            .iter()
            .find_map(|c| reaches_barrier(model, c, depth + 1, seen))
    })
}

/// Whether every path through `s` ends in `return`.
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

fn find_return(s: &Stmt) -> Option<Span> {
    let mut found = None;
    s.walk(&mut |x| {
        if matches!(x.kind, StmtKind::Return(_)) && found.is_none() {
            found = Some(x.span);
        }
    });
    found
}
