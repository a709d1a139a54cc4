//! Correctness lints a GPU expert would flag: a barrier only some threads of a
//! block reach, and shared memory read by one thread after another thread
//! wrote it with no barrier in between.

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{ExprKind, Stmt, StmtKind};
use cudalens_syntax::model::Function;

use crate::diagnostic::{Diagnostic, Span};
use crate::divergence::ThreadDependence;
use crate::groups::Groups;
use crate::races;
use crate::rules::barrier_in_divergent_code;

pub fn analyze_kernel(model: &FileModel, kernel: &Function) -> Vec<Diagnostic> {
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
    races::check(model, kernel, body, &td, &groups, &mut out);
    out
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

fn find_return(s: &Stmt) -> Option<Span> {
    let mut found = None;
    s.walk(&mut |x| {
        if matches!(x.kind, StmtKind::Return(_)) && found.is_none() {
            found = Some(x.span);
        }
    });
    found
}
