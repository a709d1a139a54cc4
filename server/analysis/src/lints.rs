//! Correctness lints a GPU expert would flag: a barrier only some threads of a
//! block reach, and shared memory read by one thread after another thread
//! wrote it with no barrier in between.

use std::cell::RefCell;
use std::collections::HashMap;

use cudalens_syntax::FileModel;
use cudalens_syntax::consteval::ConstEnv;
use cudalens_syntax::ir::{BinOp, Builtin, Expr, ExprKind, Stmt, StmtKind};
use cudalens_syntax::model::Function;

use crate::context::{HostValue, KernelContext};
use crate::diagnostic::{Diagnostic, Span};
use crate::groups::{CalledBarriers, Groups};
use crate::races;
use crate::rules::barrier_in_divergent_code;
use cudalens_syntax::divergence::ThreadDependence;

pub fn analyze_kernel(
    model: &FileModel,
    kernel: &Function,
    contexts: &[KernelContext],
) -> Vec<Diagnostic> {
    let Some(body) = &kernel.body else {
        return Vec::new();
    };
    let td = ThreadDependence::of(kernel);
    let groups = Groups::of(kernel);
    let launches = Launches {
        model,
        kernel,
        contexts,
        decided: RefCell::new(HashMap::new()),
        barriers: CalledBarriers::new(model),
    };
    let mut out = Vec::new();
    divergent_barriers(
        body,
        &mut td.at_entry(),
        &groups,
        &launches,
        None,
        &mut None,
        &mut out,
        true,
    );
    races::check(
        model,
        kernel,
        body,
        &td,
        &groups,
        &launches.barriers,
        &mut out,
    );
    // Barriers inside this file's device functions that the kernel calls:
    // the function's own thread-dependent conditions and returns make them
    // divergent (its parameters count as uniform, as the caller's values
    // are not followed; a condition a launch would settle stays possible).
    for f in model.device_functions_called_by(body) {
        let (Some(f_body), true) = (&f.body, f.in_main_file()) else {
            continue;
        };
        let f_groups = Groups::of(f);
        let mut has_barrier = false;
        f_body.walk_exprs(&mut |e| {
            if let ExprKind::Call(c) = &e.kind {
                has_barrier |= f_groups.is_block_barrier(c);
            }
        });
        if !has_barrier {
            continue;
        }
        let inside = Launches {
            model,
            kernel: f,
            contexts: &[],
            decided: RefCell::new(HashMap::new()),
            barriers: CalledBarriers::new(model),
        };
        let f_td = ThreadDependence::of(f);
        divergent_barriers(
            f_body,
            &mut f_td.at_entry(),
            &f_groups,
            &inside,
            None,
            &mut None,
            &mut out,
            true,
        );
    }
    out
}

/// The launches of the kernel in this file, to decide conditions the block
/// size settles.
struct Launches<'a> {
    model: &'a FileModel,
    kernel: &'a Function,
    contexts: &'a [KernelContext<'a>],
    /// Conditions already decided (the walk visits loop bodies repeatedly).
    decided: RefCell<HashMap<Span, bool>>,
    /// Device functions that reach a block barrier.
    barriers: CalledBarriers<'a>,
}

impl Launches<'_> {
    /// Whether a thread-dependent condition is false in every thread of
    /// every launch in the file: `threadIdx.y >= k` where each launch's block
    /// has `blockDim.y <= k` (`dim3 threads(32, k)` with the kernel's `k`
    /// bound to the same `k`, or a template argument equal to the `case` of
    /// `switch (k)` the launch sits in). A kernel launched nowhere here, or
    /// a launch whose values are not known, keeps the condition possible.
    fn never_taken(&self, cond: &Expr) -> bool {
        if let Some(&known) = self.decided.borrow().get(&cond.span) {
            return known;
        }
        let answer = self.decide(cond);
        self.decided.borrow_mut().insert(cond.span, answer);
        answer
    }

    fn decide(&self, cond: &Expr) -> bool {
        if self.contexts.iter().any(|c| c.launch.is_none()) {
            return false;
        }
        let (x, bound) = match &cond.kind {
            ExprKind::Binary(BinOp::Ge, x, e) => (x, e),
            ExprKind::Binary(BinOp::Le, e, x) => (x, e),
            _ => return false,
        };
        let Some(axis) = self.thread_axis(x, 0) else {
            return false;
        };
        let file_env = self.model.const_env();
        !self.contexts.is_empty()
            && self.contexts.iter().all(|ctx| {
                let env = ctx.env(&file_env);
                let mut env = self.kernel.const_env(&env);
                env.values
                    .extend(ctx.param_values.iter().map(|(k, v)| (k.clone(), *v)));
                ctx.launch.is_some()
                    && match (self.value(bound, ctx, &env, 0), &ctx.block_values[axis]) {
                        (Some(HostValue::Const(k)), Some(HostValue::Const(b))) => k >= *b,
                        (Some(HostValue::Var(k)), Some(HostValue::Var(b))) => k == *b,
                        _ => false,
                    }
            })
    }

    /// `threadIdx.d`, directly or through a local set once to it.
    fn thread_axis(&self, e: &Expr, depth: u32) -> Option<usize> {
        match &e.kind {
            ExprKind::Builtin(Builtin::ThreadIdx, axis) => Some(*axis as usize),
            ExprKind::Cast { expr, .. } => self.thread_axis(expr, depth + 1),
            ExprKind::Ident(n) if depth < 8 => self.thread_axis(self.definition(n)?, depth + 1),
            _ => None,
        }
    }

    /// The initialiser of a local declared once and never assigned.
    fn definition(&self, name: &str) -> Option<&Expr> {
        if self.kernel.reassigned_vars().contains(name) {
            return None;
        }
        let decls: Vec<_> = self
            .kernel
            .local_decls()
            .into_iter()
            .filter(|d| d.name == name)
            .collect();
        match decls.as_slice() {
            [d] if !d.shared => d.init.as_ref(),
            _ => None,
        }
    }

    /// A kernel-side value in the caller's terms for one launch: a
    /// constant under its template arguments, or a scalar parameter's
    /// argument.
    fn value(
        &self,
        e: &Expr,
        ctx: &KernelContext,
        env: &ConstEnv,
        depth: u32,
    ) -> Option<HostValue> {
        if let Some(v) = env.eval(e) {
            return Some(HostValue::Const(v));
        }
        if depth > 8 {
            return None;
        }
        match &e.kind {
            ExprKind::Ident(n) => {
                if self.kernel.params.iter().any(|p| p.name == *n) {
                    return ctx.param_hosts.get(n).cloned();
                }
                self.value(self.definition(n)?, ctx, env, depth + 1)
            }
            ExprKind::Ternary(c, a, b) => {
                let pick = if env.eval(c)? != 0 { a } else { b };
                self.value(pick, ctx, env, depth + 1)
            }
            ExprKind::Cast { expr, .. } => self.value(expr, ctx, env, depth + 1),
            _ => None,
        }
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
    launches: &Launches,
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
                // A call of a device function that reaches a barrier is a
                // barrier where it is made (its threads must all call it).
                let inside = match groups.is_block_barrier(call) {
                    true => None,
                    false => match launches.barriers.of_call(call) {
                        Some(b) => Some(b),
                        None => return,
                    },
                };
                if let Some(cond) = divergent {
                    out.push(match &inside {
                        None => barrier_in_divergent_code::under_condition(x.span, callee, cond),
                        Some(b) => barrier_in_divergent_code::call_under_condition(x.span, b, cond),
                    });
                } else if let Some(ret) = early_exit {
                    out.push(match &inside {
                        None => barrier_in_divergent_code::after_early_return(x.span, callee, *ret),
                        Some(b) => {
                            barrier_in_divergent_code::call_after_early_return(x.span, b, *ret)
                        }
                    });
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
            // Both branches reaching a barrier (ggml's `if (warp combines) {
            // ...; __syncthreads(); ...} else { __syncthreads(); }`): every
            // thread arrives at one, so neither is reported.
            let matched = els.as_deref().is_some_and(|e| {
                reaches_barrier(then, groups, launches) && reaches_barrier(e, groups, launches)
            });
            let d = divergent.or_else(|| {
                (td.varies(cond) && !launches.never_taken(cond) && !matched).then_some(cond.span)
            });
            let before = *early_exit;
            let mut other = td.clone();
            divergent_barriers(then, td, groups, launches, d, early_exit, out, report);
            if d.is_none() && always_returns(then) {
                // The threads that took this uniform branch all left: those
                // that go on never saw its returns, nor its assignments.
                *early_exit = before;
                *td = other.clone();
            }
            if let Some(e) = els {
                let mid = *early_exit;
                divergent_barriers(e, &mut other, groups, launches, d, early_exit, out, report);
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
                divergent_barriers(i, td, groups, launches, divergent, early_exit, out, report);
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
            // The dependence at the top of the loop: what any iteration
            // leaves. A pass that adds nothing is a fixpoint: stopping there
            // (and, when not reporting, skipping the last walk, which would
            // add nothing either) keeps nested loops from costing 4^depth
            // walks (ggml's fattn kernels: 5 levels).
            let converged = loop_fixpoint(td, |td| {
                let mut pass = td.clone();
                let d = loop_divergence(&pass);
                divergent_barriers(
                    body,
                    &mut pass,
                    groups,
                    launches,
                    d,
                    &mut early_exit.clone(),
                    out,
                    false,
                );
                if let Some(st) = step {
                    pass.step_expr(st, d.is_some());
                }
                pass
            });
            if converged && !report {
                return;
            }
            let d = loop_divergence(td);
            let mut pass = td.clone();
            divergent_barriers(
                body, &mut pass, groups, launches, d, early_exit, out, report,
            );
            td.join(&pass);
        }
        StmtKind::While { cond, body } | StmtKind::DoWhile { body, cond } => {
            let converged = loop_fixpoint(td, |td| {
                let mut pass = td.clone();
                let d = divergent.or_else(|| pass.varies(cond).then_some(cond.span));
                divergent_barriers(
                    body,
                    &mut pass,
                    groups,
                    launches,
                    d,
                    &mut early_exit.clone(),
                    out,
                    false,
                );
                pass
            });
            if converged && !report {
                return;
            }
            let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
            let mut pass = td.clone();
            divergent_barriers(
                body, &mut pass, groups, launches, d, early_exit, out, report,
            );
            td.join(&pass);
        }
        StmtKind::Switch { cond, body } => {
            let d = divergent.or_else(|| td.varies(cond).then_some(cond.span));
            divergent_barriers(body, td, groups, launches, d, early_exit, out, report);
        }
        _ => {
            for c in s.children() {
                divergent_barriers(c, td, groups, launches, divergent, early_exit, out, report);
            }
        }
    }
}

/// Joins the dependence one walk of a loop's body leaves into `td`, up to
/// three times, stopping at the first walk that adds nothing; whether it
/// stopped there (a fixpoint: another walk would add nothing either).
fn loop_fixpoint(
    td: &mut ThreadDependence,
    mut walk: impl FnMut(&ThreadDependence) -> ThreadDependence,
) -> bool {
    for _ in 0..3 {
        let pass = walk(td);
        if !td.join(&pass) {
            return true;
        }
    }
    false
}

/// Whether `s` makes a block barrier, or calls a device function that
/// reaches one.
fn reaches_barrier(s: &Stmt, groups: &Groups, launches: &Launches) -> bool {
    let mut found = false;
    s.walk_exprs(&mut |e| {
        if let ExprKind::Call(c) = &e.kind
            && !found
        {
            found = groups.is_block_barrier(c) || launches.barriers.of_call(c).is_some();
        }
    });
    found
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
