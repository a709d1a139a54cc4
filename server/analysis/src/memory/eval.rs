//! A symbolic interpreter over one thread block: runs the kernel body for all
//! threads at once (values are [`Poly`]s), tracks which threads are active
//! under conditions, unrolls loops whose trip count is known and small, and
//! records every global/shared memory access with the addresses of all threads.

use std::collections::HashMap;

use cudalens_syntax::FileModel;
use cudalens_syntax::consteval::ConstEnv;
use cudalens_syntax::ir::{
    Axis, BinOp, Builtin, Expr, ExprKind, Stmt, StmtKind, Type, UnOp, VarDecl, int_literal_value,
};
use cudalens_syntax::model::{Function, Step, induction_of};

use super::lanes::{Poly, Symbols};
use super::{AccessKind, MemorySpace};
use crate::context::KernelContext;
use crate::diagnostic::Span;

/// Loops with more iterations than this are evaluated once with a symbolic
/// iteration counter instead of being unrolled.
const MAX_UNROLL: usize = 64;
/// Bound on interpreted statements per kernel configuration, so no kernel can
/// make analysis slow.
const STEP_BUDGET: usize = 20_000;
/// All the work of one run, counting what an abandoned unrolling undid
/// (which `steps` gives back): a bound on the whole, however loops nest.
const WORK_BUDGET: usize = 8 * STEP_BUDGET;
const MAX_INLINE_DEPTH: usize = 4;

/// A pointer into global or shared memory: a root array plus a byte offset.
#[derive(Clone, Debug, PartialEq)]
pub struct PtrVal {
    pub root: String,
    pub space: MemorySpace,
    pub offset: Poly,
    pub pointee: Type,
    /// Remaining array dimensions for multi-dimensional shared arrays (`[32][33]` → `[32, 33]`).
    pub dims: Vec<u64>,
    /// The size of the struct this address lies in when it was reached
    /// through a member (`x->d`, `x->qs + 4`), 0 otherwise.
    pub record: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Int(Poly),
    Ptr(PtrVal),
    Unknown,
}

/// One evaluation of one access: every thread's byte address and which threads run it.
pub struct AccessEvent {
    pub span: Span,
    pub kind: AccessKind,
    pub space: MemorySpace,
    pub root: String,
    pub element_bytes: u32,
    /// The accessed element's type, for messages (`float`, `Point`).
    pub element_type: String,
    pub address: Poly,
    pub active: Vec<bool>,
    /// The index expression (for messages and fixes).
    pub index: Option<Expr>,
    /// How many times this evaluation stands for (trip counts of loops that
    /// were evaluated once symbolically).
    pub weight: f64,
    /// False when an enclosing loop's trip count is unknown (`weight` is then a lower bound).
    pub weight_exact: bool,
    /// Evaluated only in the first iteration of a loop whose later
    /// iterations' values are unknown (see `Interp::first_iteration`).
    pub first_iteration_only: bool,
    /// The device functions inlined to reach the access, outermost first:
    /// each callee's name and the call expression (empty in the kernel's body).
    pub chain: Vec<(String, Span)>,
    /// See [`PtrVal::record`].
    pub record: u64,
    /// For an access in a function of another file (a header): that file,
    /// whose text the spans are in (`None` in this file).
    pub file: Option<std::sync::Arc<std::path::Path>>,
    /// For each call of `chain`: whether its callee is defined in `file`.
    pub chain_in_file: Vec<bool>,
    /// For an access in another file: the access as written (this file's
    /// text cannot give it), for messages.
    pub text: Option<String>,
}

pub struct Interp<'a> {
    model: &'a FileModel,
    env: ConstEnv<'a>,
    ctx: &'a KernelContext<'a>,
    pub syms: Symbols,
    pub n: usize,
    block: [u32; 3],
    vars: HashMap<String, Val>,
    alive: Vec<bool>,
    steps: usize,
    /// Every step taken, never given back (see [`WORK_BUDGET`]).
    work: usize,
    /// Loops whose unrolling was abandoned as too costly: met again (an
    /// outer loop's symbolic pass), they are evaluated symbolically at
    /// once, so each nesting level does not double the work.
    too_costly: std::collections::HashSet<*const Stmt>,
    inline_depth: usize,
    /// The inlined calls being evaluated (see [`AccessEvent::chain`]).
    calls: Vec<(String, Span)>,
    /// The file of each inlined call's callee (`None`: this file).
    call_files: Vec<Option<std::sync::Arc<std::path::Path>>>,
    /// Accesses made in this file's code.
    pub events: Vec<AccessEvent>,
    /// Accesses made inside functions defined in other files (headers):
    /// their spans are in that file's text, which this file's spans cannot
    /// point at, so they are kept apart (see [`AccessEvent::file`]).
    pub foreign_events: Vec<AccessEvent>,
    /// Shared-memory accesses of this file whose index did not evaluate
    /// (a run-time value decides it): `report::probe` tries values for the
    /// kernel's unknown scalar parameters on them.
    pub unknown_shared: Vec<Span>,
    /// Result of the innermost inlined device function.
    ret: Option<Val>,
    /// A shared array analysed as if padded by one element in its last dimension.
    pad: Option<String>,
    /// Trip-count multiplier of the loops being evaluated symbolically.
    weight: f64,
    weight_exact: bool,
    /// Inside `first_iteration`: see `AccessEvent::first_iteration_only`.
    first_iteration_only: bool,
    /// threadIdx.x/y/z for the whole block, computed on first use.
    thread_indices: [std::cell::OnceCell<Poly>; 3],
    /// The values each loop's iteration symbol takes (`0..=trips-1`), for
    /// the loops evaluated once symbolically whose trip count is known.
    pub iteration_ranges: HashMap<super::lanes::Sym, (i64, i64)>,
    /// The kernel's cooperative-groups handles and their thread counts
    /// (`None`: the whole block), for `warp.thread_rank()` and friends.
    group_sizes: HashMap<String, Option<u32>>,
}

impl<'a> Interp<'a> {
    pub fn new(model: &'a FileModel, env: ConstEnv<'a>, ctx: &'a KernelContext<'a>) -> Self {
        let n = ctx.threads().clamp(1, 1024) as usize;
        Interp {
            model,
            env,
            ctx,
            syms: Symbols::default(),
            n,
            block: ctx.block,
            vars: HashMap::new(),
            alive: vec![true; n],
            steps: 0,
            work: 0,
            too_costly: Default::default(),
            inline_depth: 0,
            calls: Vec::new(),
            call_files: Vec::new(),
            events: Vec::new(),
            foreign_events: Vec::new(),
            unknown_shared: Vec::new(),
            ret: None,
            pad: None,
            weight: 1.0,
            weight_exact: true,
            first_iteration_only: false,
            thread_indices: Default::default(),
            iteration_ranges: HashMap::new(),
            group_sizes: HashMap::new(),
        }
    }

    /// Whether the statement budget ran out (the events are then incomplete).
    pub fn exhausted(&self) -> bool {
        self.steps > STEP_BUDGET || self.work > WORK_BUDGET
    }

    /// The work this run took, as a share of one run's budget (1.0: all
    /// of it).
    pub fn work_share(&self) -> f64 {
        self.work as f64 / WORK_BUDGET as f64
    }

    /// Counts one step; whether the budget is spent.
    fn spend(&mut self) -> bool {
        self.steps += 1;
        self.work += 1;
        self.exhausted()
    }

    /// Analyse `array` as if its innermost dimension had one more element.
    pub fn pad_array(&mut self, array: &str) {
        self.pad = Some(array.to_string());
    }

    /// Runs `kernel` for one block.
    pub fn run(&mut self, kernel: &Function) {
        self.group_sizes = crate::groups::handle_sizes(kernel);
        for p in &kernel.params {
            let v = if p.ty.pointer > 0 {
                Val::Ptr(PtrVal {
                    root: p.name.clone(),
                    space: MemorySpace::Global,
                    offset: Poly::constant(0, self.n),
                    pointee: self.concrete(&p.ty.pointee()),
                    dims: Vec::new(),
                    record: 0,
                })
            } else {
                match self
                    .ctx
                    .param_values
                    .get(&p.name)
                    .and_then(|v| i64::try_from(*v).ok())
                {
                    Some(v) => Val::Int(Poly::constant(v, self.n)),
                    None => Val::Int(Poly::symbol(self.syms.named(&p.name), self.n)),
                }
            };
            self.vars.insert(p.name.clone(), v);
        }
        if let Some(body) = &kernel.body {
            let mask = vec![true; self.n];
            self.stmt(body, &mask, true);
        }
    }

    fn concrete(&self, ty: &Type) -> Type {
        let mut t = ty.clone();
        t.base = self.ctx.concrete_type(&ty.base).to_string();
        self.model.types.resolve(&t)
    }

    fn size_of(&self, ty: &Type) -> Option<u64> {
        self.model.types.size_of(&self.concrete(ty))
    }

    fn thread_index(&self, axis: Axis) -> Poly {
        let slot = match axis {
            Axis::X => 0,
            Axis::Y => 1,
            Axis::Z => 2,
        };
        self.thread_indices[slot]
            .get_or_init(|| {
                let [dx, dy, _] = self.block;
                let (dx, dy) = (dx.max(1) as i64, dy.max(1) as i64);
                let values = (0..self.n as i64)
                    .map(|t| match axis {
                        Axis::X => t % dx,
                        Axis::Y => (t / dx) % dy,
                        Axis::Z => t / (dx * dy),
                    })
                    .collect();
                Poly::per_thread(values)
            })
            .clone()
    }

    fn and_alive(&self, mask: &[bool]) -> Vec<bool> {
        mask.iter()
            .zip(&self.alive)
            .map(|(m, a)| *m && *a)
            .collect()
    }

    // ---- statements ---------------------------------------------------------

    /// `certain`: false inside branches whose condition we could not evaluate,
    /// where a `return` must not be taken as ending the threads.
    fn stmt(&mut self, s: &Stmt, mask: &[bool], certain: bool) {
        if self.spend() || self.ret.is_some() {
            return;
        }
        match &s.kind {
            StmtKind::Block(v) => {
                for c in v {
                    self.stmt(c, mask, certain);
                }
            }
            StmtKind::Decl(decls) => {
                for d in decls {
                    self.decl(d, mask);
                }
            }
            StmtKind::Expr(e) => {
                self.eval(e, mask);
            }
            StmtKind::If { cond, then, els } => {
                self.if_stmt(cond, then, els.as_deref(), mask, certain)
            }
            StmtKind::For { .. } => self.for_stmt(s, mask, certain),
            StmtKind::While { cond, body } => {
                let exact = std::mem::replace(&mut self.weight_exact, false);
                self.invalidate_assigned(body);
                self.eval(cond, mask);
                self.stmt(body, mask, false);
                self.invalidate_assigned(body);
                self.weight_exact = exact;
            }
            StmtKind::DoWhile { body, cond } => {
                let exact = std::mem::replace(&mut self.weight_exact, false);
                self.invalidate_assigned(body);
                self.stmt(body, mask, false);
                self.eval(cond, mask);
                self.invalidate_assigned(body);
                self.weight_exact = exact;
            }
            StmtKind::Switch { cond, body } => {
                self.eval(cond, mask);
                self.invalidate_assigned(body);
                self.stmt(body, mask, false);
                self.invalidate_assigned(body);
            }
            StmtKind::Case { body, .. } => {
                for c in body {
                    self.stmt(c, mask, false);
                }
            }
            StmtKind::Return(e) => {
                let v = e.as_ref().map(|e| self.eval(e, mask));
                if self.inline_depth > 0 {
                    self.ret = Some(v.unwrap_or(Val::Unknown));
                } else if certain {
                    for (a, m) in self.alive.iter_mut().zip(mask) {
                        if *m {
                            *a = false;
                        }
                    }
                }
            }
            StmtKind::Label(_, inner) => self.stmt(inner, mask, certain),
            _ => {}
        }
    }

    fn decl(&mut self, d: &VarDecl, mask: &[bool]) {
        if d.shared {
            let dims: Vec<u64> = d
                .dims
                .iter()
                .map(|x| {
                    x.as_ref()
                        .and_then(|x| self.env.eval(x))
                        .and_then(|v| u64::try_from(v).ok())
                        .unwrap_or(0)
                })
                .collect();
            let mut dims = dims;
            if self.pad.as_deref() == Some(d.name.as_str())
                && let Some(last) = dims.last_mut()
            {
                *last += 1;
            }
            self.vars.insert(
                d.name.clone(),
                Val::Ptr(PtrVal {
                    root: d.name.clone(),
                    space: MemorySpace::Shared,
                    offset: Poly::constant(0, self.n),
                    pointee: self.concrete(&d.ty),
                    dims,
                    record: 0,
                }),
            );
            return;
        }
        if !d.dims.is_empty() {
            // Local arrays live in registers or local memory: not analysed.
            self.vars.insert(d.name.clone(), Val::Unknown);
            return;
        }
        let v = match (&d.init, &d.ctor_args) {
            (Some(init), _) => {
                let v = self.eval(init, mask);
                self.convert(v, &d.ty)
            }
            _ => Val::Unknown,
        };
        self.vars.insert(d.name.clone(), v);
    }

    /// Keeps integer values when assigned to integer variables; floats are opaque.
    fn convert(&self, v: Val, ty: &Type) -> Val {
        if ty.pointer > 0 {
            return match v {
                Val::Ptr(mut p) => {
                    p.pointee = self.concrete(&ty.pointee());
                    Val::Ptr(p)
                }
                _ => Val::Unknown,
            };
        }
        let base = self.concrete(ty).base;
        match base.as_str() {
            "float" | "double" | "half" | "__half" | "float2" | "float4" => Val::Unknown,
            _ => v,
        }
    }

    fn if_stmt(
        &mut self,
        cond: &Expr,
        then: &Stmt,
        els: Option<&Stmt>,
        mask: &[bool],
        certain: bool,
    ) {
        let c = self.eval(cond, mask);
        match self.truth(&c) {
            Some(truth) => {
                let then_mask: Vec<bool> = mask.iter().zip(&truth).map(|(m, t)| *m && *t).collect();
                let else_mask: Vec<bool> =
                    mask.iter().zip(&truth).map(|(m, t)| *m && !*t).collect();
                let before = self.vars.clone();
                if then_mask.iter().any(|x| *x) {
                    self.stmt(then, &then_mask, certain);
                }
                let after_then = std::mem::replace(&mut self.vars, before.clone());
                if let Some(e) = els
                    && else_mask.iter().any(|x| *x)
                {
                    self.stmt(e, &else_mask, certain);
                }
                let after_else = std::mem::take(&mut self.vars);
                self.vars = merge_vars(
                    &before,
                    &after_then,
                    after_else,
                    &then_mask,
                    &else_mask,
                    self.n,
                );
            }
            None => {
                // Unknown condition: both sides may run for any thread.
                let before = self.vars.clone();
                self.stmt(then, mask, false);
                let after_then = std::mem::replace(&mut self.vars, before);
                if let Some(e) = els {
                    self.stmt(e, mask, false);
                }
                let after_else = std::mem::take(&mut self.vars);
                self.vars = merge_unknown(&after_then, after_else);
            }
        }
    }

    fn for_stmt(&mut self, s: &Stmt, mask: &[bool], certain: bool) {
        let StmtKind::For {
            init,
            cond,
            step,
            body,
            ..
        } = &s.kind
        else {
            return;
        };
        for i in init {
            self.stmt(i, mask, certain);
        }
        if let Some(ind) = induction_of(s)
            && self.try_unroll(
                &ind.var,
                cond.as_deref(),
                step.as_deref(),
                body,
                mask,
                certain,
            )
        {
            self.vars.insert(ind.var.clone(), Val::Unknown);
            return;
        }
        if let Some(ind) = induction_of(s)
            && matches!(
                ind.step,
                Step::Mul(_) | Step::Div(_) | Step::Shl(_) | Step::Shr(_)
            )
            && matches!(self.vars.get(&ind.var), Some(Val::Int(p)) if p.as_const().is_some())
        {
            self.first_iteration(cond.as_deref(), body, mask);
            self.vars.insert(ind.var.clone(), Val::Unknown);
            return;
        }
        // Symbolic: one pass standing for every iteration.
        let induction = induction_of(s);
        let trips = induction
            .as_ref()
            .and_then(|ind| self.trip_count(&ind.var, cond.as_deref(), &ind.step, mask));
        let (saved_weight, saved_exact) = (self.weight, self.weight_exact);
        match trips {
            Some(t) => self.weight *= t as f64,
            None => self.weight_exact = false,
        }
        self.invalidate_assigned(body);
        if let Some(ind) = &induction {
            let start = self.vars.get(&ind.var).cloned().unwrap_or(Val::Unknown);
            let it_sym = self.syms.fresh(&format!("{} (iteration)", ind.var));
            if let Some(t) = trips.filter(|&t| t > 0)
                && let Ok(last) = i64::try_from(t - 1)
            {
                self.iteration_ranges.insert(it_sym, (0, last));
            }
            let it = Poly::symbol(it_sym, self.n);
            let v = match (&ind.step, start) {
                (Step::Add(by) | Step::Sub(by), Val::Int(p0)) => match self.eval(by, mask) {
                    Val::Int(by) if by.is_uniform() => {
                        let by = if matches!(ind.step, Step::Sub(_)) {
                            by.neg()
                        } else {
                            Some(by)
                        };
                        by.and_then(|by| it.mul(&by))
                            .and_then(|d| p0.add(&d))
                            .map_or(Val::Unknown, Val::Int)
                    }
                    _ => Val::Unknown,
                },
                (_, Val::Int(p0)) if p0.is_uniform() => {
                    Val::Int(Poly::symbol(self.syms.fresh(&ind.var), self.n))
                }
                _ => Val::Unknown,
            };
            self.vars.insert(ind.var.clone(), v);
        }
        if let Some(c) = cond {
            self.eval(c, mask);
        }
        self.stmt(body, mask, false);
        if let Some(st) = step {
            self.eval(st, mask);
        }
        self.invalidate_assigned(body);
        if let Some(ind) = &induction {
            self.vars.insert(ind.var.clone(), Val::Unknown);
        }
        self.weight = saved_weight;
        self.weight_exact = saved_exact;
    }

    /// A loop that doubles or halves its variable up to a run-time bound
    /// (`for (size = 2; size < arrayLength; size <<= 1)`, the CUDA samples'
    /// bitonic sort): no symbolic value stands for all its iterations, but
    /// the first one is known. It is evaluated alone, as code that runs
    /// when the loop runs at all; its counts are marked inexact (one
    /// iteration of an unknown number) and the later iterations are not
    /// judged.
    fn first_iteration(&mut self, cond: Option<&Expr>, body: &Stmt, mask: &[bool]) {
        let mut loop_mask = mask.to_vec();
        if let Some(c) = cond
            && let Val::Int(c) = self.eval(c, mask)
            && let Some(t) = self.truth_concrete(&c)
        {
            for (m, x) in loop_mask.iter_mut().zip(&t) {
                *m = *m && *x;
            }
        }
        if loop_mask.iter().any(|m| *m) {
            let saved = (self.weight_exact, self.first_iteration_only);
            (self.weight_exact, self.first_iteration_only) = (false, true);
            self.stmt(body, &loop_mask, false);
            (self.weight_exact, self.first_iteration_only) = saved;
        }
        self.invalidate_assigned(body);
    }

    /// Iterations of `for (v = init; v OP bound; v STEP= k)` when init, bound
    /// and step are the same constant in every thread.
    fn trip_count(
        &mut self,
        var: &str,
        cond: Option<&Expr>,
        step: &Step,
        mask: &[bool],
    ) -> Option<u64> {
        let init = match self.vars.get(var) {
            Some(Val::Int(p)) => p.as_const()?,
            _ => return None,
        };
        let ExprKind::Binary(op, l, r) = &cond?.kind else {
            return None;
        };
        let (op, bound_expr) = match (l.as_ident(), r.as_ident()) {
            (Some(v), _) if v == var => (*op, &**r),
            (_, Some(v)) if v == var => (flip(*op)?, &**l),
            _ => return None,
        };
        let Val::Int(b) = self.eval(bound_expr, mask) else {
            return None;
        };
        let bound = b.as_const()?;
        let (Step::Add(k)
        | Step::Sub(k)
        | Step::Mul(k)
        | Step::Div(k)
        | Step::Shl(k)
        | Step::Shr(k)) = step;
        let Val::Int(k) = self.eval(k, mask) else {
            return None;
        };
        let k = k.as_const()?;
        let next = |v: i64| -> Option<i64> {
            match step {
                Step::Add(_) => v.checked_add(k),
                Step::Sub(_) => v.checked_sub(k),
                Step::Mul(_) => v.checked_mul(k),
                Step::Div(_) => v.checked_div(k),
                Step::Shl(_) => v.checked_shl(u32::try_from(k).ok()?),
                Step::Shr(_) => v.checked_shr(u32::try_from(k).ok()?),
            }
        };
        let holds = |v: i64| compare(op, v, bound) != 0;
        // Arithmetic progressions: closed form; anything else: simulate briefly.
        if let Step::Add(_) | Step::Sub(_) = step {
            let d = if matches!(step, Step::Add(_)) { k } else { -k };
            if d == 0 {
                return None;
            }
            let n = match op {
                BinOp::Lt if d > 0 => (bound - init + d - 1).div_euclid(d),
                BinOp::Le if d > 0 => (bound - init + d).div_euclid(d),
                BinOp::Gt if d < 0 => (init - bound + (-d) - 1).div_euclid(-d),
                BinOp::Ge if d < 0 => (init - bound + (-d)).div_euclid(-d),
                BinOp::Ne if (bound - init) % d == 0 && (bound - init) / d >= 0 => {
                    (bound - init) / d
                }
                _ => return None,
            };
            return u64::try_from(n.max(0)).ok();
        }
        let mut v = init;
        let mut n = 0u64;
        while holds(v) {
            n += 1;
            v = next(v)?;
            if n > 4096 {
                return None;
            }
        }
        Some(n)
    }

    /// Unrolls a loop whose induction variable has concrete values and whose
    /// trip count is small; returns false (having done nothing) otherwise.
    fn try_unroll(
        &mut self,
        var: &str,
        cond: Option<&Expr>,
        step: Option<&Expr>,
        body: &Stmt,
        mask: &[bool],
        certain: bool,
    ) -> bool {
        let (Some(cond), Some(step)) = (cond, step) else {
            return false;
        };
        if self.too_costly.contains(&std::ptr::from_ref(body)) {
            return false;
        }
        // Dry run on the induction variable alone to count iterations.
        let Some(Val::Int(start)) = self.vars.get(var).cloned() else {
            return false;
        };
        if !start.is_concrete() {
            return false;
        }
        let saved = self.vars.clone();
        let saved_events = self.events.len();
        let mut trips = 0usize;
        let mut ok = false;
        for _ in 0..=MAX_UNROLL {
            let Val::Int(c) = self.eval(cond, mask) else {
                break;
            };
            let Some(t) = self.truth_concrete(&c) else {
                break;
            };
            if !mask.iter().zip(&t).any(|(m, x)| *m && *x) {
                ok = true;
                break;
            }
            trips += 1;
            self.eval(step, mask);
            if !matches!(self.vars.get(var), Some(Val::Int(p)) if p.is_concrete()) {
                break;
            }
        }
        self.vars = saved;
        self.events.truncate(saved_events);
        if !ok || trips > MAX_UNROLL {
            return false;
        }
        let mut loop_mask = mask.to_vec();
        let (start_steps, start_events, start_vars) =
            (self.steps, self.events.len(), self.vars.clone());
        for i in 0..trips {
            let Val::Int(c) = self.eval(cond, &loop_mask) else {
                break;
            };
            let Some(t) = self.truth_concrete(&c) else {
                break;
            };
            for (m, x) in loop_mask.iter_mut().zip(&t) {
                *m = *m && *x;
            }
            if !loop_mask.iter().any(|x| *x) {
                break;
            }
            self.stmt(body, &loop_mask, certain);
            self.eval(step, &loop_mask);
            // Nested loops with known trip counts (llm.c's flash attention:
            // 32 × 32 tiles of 64-element loops) would spend the whole
            // statement budget and lose every access after them: when the
            // iterations would take more than half of what is left, the
            // loop is evaluated symbolically instead.
            let per_iteration = self.steps - start_steps;
            if i == 0 && per_iteration * trips > STEP_BUDGET.saturating_sub(start_steps) / 2 {
                self.steps = start_steps;
                self.events.truncate(start_events);
                self.vars = start_vars;
                self.too_costly.insert(std::ptr::from_ref(body));
                return false;
            }
        }
        true
    }

    /// Forgets variables a statement assigns (their values vary per iteration).
    fn invalidate_assigned(&mut self, s: &Stmt) {
        let mut names = Vec::new();
        s.walk_exprs(&mut |e| match &e.kind {
            ExprKind::Assign(_, t, _) | ExprKind::IncDec { target: t, .. } => {
                if let Some(n) = t.as_ident() {
                    names.push(n.to_string());
                }
            }
            _ => {}
        });
        for n in names {
            if !matches!(self.vars.get(&n), Some(Val::Ptr(p)) if p.space == MemorySpace::Shared && p.offset.is_concrete() && !p.dims.is_empty())
            {
                self.vars.insert(n, Val::Unknown);
            }
        }
    }

    // ---- expressions --------------------------------------------------------

    fn int(&self, v: i64) -> Val {
        Val::Int(Poly::constant(v, self.n))
    }

    fn opaque(&mut self, hint: &str, uniform: bool) -> Val {
        if uniform {
            Val::Int(Poly::symbol(self.syms.fresh(hint), self.n))
        } else {
            Val::Unknown
        }
    }

    fn is_uniform(v: &Val) -> bool {
        match v {
            Val::Int(p) => p.is_uniform(),
            Val::Ptr(p) => p.offset.is_uniform(),
            Val::Unknown => false,
        }
    }

    pub fn eval(&mut self, e: &Expr, mask: &[bool]) -> Val {
        if self.spend() {
            return Val::Unknown;
        }
        match &e.kind {
            ExprKind::Int {
                value, unsigned, ..
            } => i64::try_from(int_literal_value(*value, *unsigned))
                .map_or(Val::Unknown, |v| self.int(v)),
            ExprKind::Bool(b) => self.int(*b as i64),
            ExprKind::WarpSize => self.int(32),
            ExprKind::Builtin(b, axis) => match b {
                Builtin::ThreadIdx => Val::Int(self.thread_index(*axis)),
                Builtin::BlockDim => self.int(self.block[axis.index()] as i64),
                Builtin::BlockIdx | Builtin::GridDim => Val::Int(Poly::symbol(
                    self.syms.named(&format!("{}.{}", b.name(), axis.name())),
                    self.n,
                )),
            },
            ExprKind::Ident(name) => match self.vars.get(name) {
                Some(v) => v.clone(),
                None => match self.env.lookup(name).and_then(|v| i64::try_from(v).ok()) {
                    Some(v) => self.int(v),
                    None => Val::Int(Poly::symbol(self.syms.named(name), self.n)),
                },
            },
            ExprKind::Unary(op, a) => self.unary(*op, a, e, mask),
            ExprKind::Binary(op, a, b) => {
                let x = self.eval(a, mask);
                let y = self.eval(b, mask);
                if *op == BinOp::Div
                    && let Some(v) = self.bytes_to_elements(&x, &y, b)
                {
                    return v;
                }
                self.binary(*op, x, y)
            }
            ExprKind::Ternary(c, a, b) => {
                let cv = self.eval(c, mask);
                let truth = self.truth(&cv);
                let x = self.eval(a, mask);
                let y = self.eval(b, mask);
                match (truth, &x, &y) {
                    (Some(t), Val::Int(px), Val::Int(py))
                        if px.is_concrete() && py.is_concrete() =>
                    {
                        let vals = (0..self.n)
                            .map(|i| {
                                if t[i] {
                                    px.value(i).unwrap_or(0)
                                } else {
                                    py.value(i).unwrap_or(0)
                                }
                            })
                            .collect();
                        Val::Int(Poly::per_thread(vals))
                    }
                    (Some(t), _, _) if t.iter().all(|v| *v) => x,
                    (Some(t), _, _) if t.iter().all(|v| !*v) => y,
                    _ if x == y => x,
                    _ => Val::Unknown,
                }
            }
            ExprKind::Assign(op, target, value) => self.assign(*op, target, value, mask),
            ExprKind::IncDec {
                increment,
                prefix,
                target,
            } => {
                let one = Expr::new(
                    ExprKind::Int {
                        value: 1,
                        unsigned: false,
                        long: false,
                    },
                    e.span,
                );
                let op = if *increment { BinOp::Add } else { BinOp::Sub };
                let old = self.eval_rvalue_silent(target, mask);
                let new = self.assign(Some(op), target, &one, mask);
                if *prefix { new } else { old }
            }
            ExprKind::Index(..) | ExprKind::Member { .. } => self.load(e, mask),
            ExprKind::Cast {
                ty,
                reinterpret: _,
                expr,
            } => {
                let v = self.eval(expr, mask);
                match v {
                    Val::Ptr(mut p) if ty.pointer > 0 => {
                        p.pointee = self.concrete(&ty.pointee());
                        p.dims.clear();
                        Val::Ptr(p)
                    }
                    Val::Int(_) if ty.pointer == 0 => self.convert(v, ty),
                    _ => Val::Unknown,
                }
            }
            ExprKind::SizeofType(ty) => self
                .size_of(ty)
                .map_or(Val::Unknown, |s| self.int(s as i64)),
            ExprKind::Call(call) => self.call(&call.callee, &call.args, mask, e.span),
            ExprKind::Comma(items) => {
                let mut last = Val::Unknown;
                for i in items {
                    last = self.eval(i, mask);
                }
                last
            }
            ExprKind::Launch(launch) => {
                for a in &launch.args {
                    self.eval(a, mask);
                }
                Val::Unknown
            }
            _ => {
                for c in e.children() {
                    self.eval(c, mask);
                }
                Val::Unknown
            }
        }
    }

    /// The value of `e` without recording an access (for post-increment results).
    fn eval_rvalue_silent(&mut self, e: &Expr, mask: &[bool]) -> Val {
        let n = self.events.len();
        let v = self.eval(e, mask);
        self.events.truncate(n);
        v
    }

    fn unary(&mut self, op: UnOp, a: &Expr, e: &Expr, mask: &[bool]) -> Val {
        match op {
            UnOp::AddrOf => match self.location(a, mask) {
                Some((p, _)) => Val::Ptr(p),
                None => Val::Unknown,
            },
            UnOp::Deref => self.load(e, mask),
            _ => {
                let v = self.eval(a, mask);
                let Val::Int(p) = v else { return Val::Unknown };
                let r = match op {
                    UnOp::Neg => p.neg(),
                    UnOp::Plus => Some(p.clone()),
                    UnOp::Not => p.map_concrete(|x| Some((x == 0) as i64)),
                    UnOp::BitNot => p.map_concrete(|x| Some(!x)),
                    _ => None,
                };
                match r {
                    Some(r) => Val::Int(r),
                    None => {
                        let u = p.is_uniform();
                        self.opaque("expr", u)
                    }
                }
            }
        }
    }

    /// `nb1 / sizeof(float)`: a runtime byte count (a name, uniform)
    /// divided by an element size to count elements. The division is exact
    /// by the code's own premise (a byte stride of `float` data), which a
    /// plain `nb1 / 4` does not state: the quotient is a runtime value of
    /// its own, `nb1 / sizeof(float)`, not an unknown (see
    /// `report::unknown_stride`).
    fn bytes_to_elements(&mut self, x: &Val, y: &Val, divisor: &Expr) -> Option<Val> {
        let sizeof = match &divisor.kind {
            ExprKind::SizeofType(_) | ExprKind::SizeofExpr(_) => divisor,
            ExprKind::Cast { expr, .. }
                if matches!(expr.kind, ExprKind::SizeofType(_) | ExprKind::SizeofExpr(_)) =>
            {
                expr
            }
            _ => return None,
        };
        let (Val::Int(bytes), Val::Int(size)) = (x, y) else {
            return None;
        };
        size.as_const().filter(|&k| k > 1)?;
        // Exactly one uniform named symbol, coefficient 1: `nb1`.
        let mut terms = bytes.terms.iter();
        let (mono, coeff) = terms.next()?;
        if terms.next().is_some() || mono.len() != 1 || *coeff != super::lanes::Lanes::Same(1) {
            return None;
        }
        let name = self.syms.name(mono[0]).to_string();
        let named = !name.is_empty()
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.');
        if !named {
            return None;
        }
        let text = match &sizeof.kind {
            ExprKind::SizeofType(ty) => format!("sizeof({})", ty.display()),
            _ => super::render::render_expr(sizeof),
        };
        if text.contains('…') {
            return None;
        }
        let quotient = self.syms.named(&format!("{name} / {text}"));
        Some(Val::Int(Poly::symbol(quotient, self.n)))
    }

    fn binary(&mut self, op: BinOp, x: Val, y: Val) -> Val {
        use BinOp::*;
        match (x, y) {
            (Val::Ptr(p), Val::Int(i)) | (Val::Int(i), Val::Ptr(p)) if matches!(op, Add | Sub) => {
                let Some(size) = self.size_of(&p.pointee) else {
                    return Val::Unknown;
                };
                let delta = if op == Sub { i.neg() } else { Some(i) };
                match delta
                    .and_then(|d| d.scale(size as i64))
                    .and_then(|d| p.offset.add(&d))
                {
                    Some(offset) => Val::Ptr(PtrVal {
                        offset,
                        dims: Vec::new(),
                        ..p
                    }),
                    None => Val::Unknown,
                }
            }
            (Val::Int(a), Val::Int(b)) => {
                let exact = match op {
                    Add => a.add(&b),
                    Sub => a.sub(&b),
                    Mul => a.mul(&b),
                    Shl => b
                        .as_const()
                        .filter(|s| (0..62).contains(s))
                        .and_then(|s| a.scale(1 << s)),
                    _ => None,
                };
                if let Some(r) = exact {
                    return Val::Int(r);
                }
                if matches!(op, Div | Rem)
                    && let Some(r) = self.aligned_div_rem(op, &a, &b)
                {
                    return Val::Int(r);
                }
                // Comparisons of values whose difference is concrete (`i < i0 + 128`).
                if op.is_comparison()
                    && !matches!(op, LogAnd | LogOr)
                    && let Some(d) = a.sub(&b)
                    && d.is_concrete()
                {
                    let zero = Poly::constant(0, self.n);
                    if let Some(r) = d.zip_concrete(&zero, |x, _| Some(compare(op, x, 0))) {
                        return Val::Int(r);
                    }
                }
                let folded = a.zip_concrete(&b, |x, y| fold(op, x, y));
                match folded {
                    Some(r) => Val::Int(r),
                    None => {
                        let u = a.is_uniform() && b.is_uniform();
                        self.opaque(op.as_str(), u)
                    }
                }
            }
            (x, y) => {
                let u = Self::is_uniform(&x) && Self::is_uniform(&y);
                self.opaque("expr", u)
            }
        }
    }

    /// `idx % T` and `idx / T` for `idx = blockIdx.x * blockDim.x +
    /// threadIdx.x` and a constant `T` (llm.c's attention kernels split a
    /// flat index into `t2 = idx % T`, `t = (idx / T) % T`): when the uniform
    /// part is a multiple of `g` that divides `T` and every thread's own part
    /// lies in `0..g`, no thread's part crosses a multiple of `T`, so
    /// `(U + v) % T = U % T + v` (a uniform multiple of `g`, plus `v`) and
    /// `(U + v) / T = U / T` (uniform). Only for non-negative uniform parts:
    /// block indices, grid sizes and loop iterations counted from 0.
    fn aligned_div_rem(&mut self, op: BinOp, a: &Poly, b: &Poly) -> Option<Poly> {
        let m = b.as_const().filter(|&m| m > 0)?;
        let g = a.symbolic_gcd();
        if g <= 0 || m % g != 0 {
            return None;
        }
        for (mono, lanes) in &a.terms {
            if mono.is_empty() {
                continue;
            }
            let non_negative = mono.iter().all(|&s| self.syms.is_counter(s));
            if !lanes.is_uniform() || !non_negative {
                return None;
            }
            if let super::lanes::Lanes::Same(c) = lanes
                && *c < 0
            {
                return None;
            }
        }
        let own = a.concrete();
        if !(0..self.n).all(|t| own.map_or(0, |l| l.get(t)) < g && own.map_or(0, |l| l.get(t)) >= 0)
        {
            return None;
        }
        let own = Poly::per_thread((0..self.n).map(|t| own.map_or(0, |l| l.get(t))).collect());
        let uniform = Poly::symbol(self.syms.fresh(op.as_str()), self.n);
        match op {
            BinOp::Rem => uniform.scale(g)?.add(&own),
            _ => Some(uniform),
        }
    }

    fn assign(&mut self, op: Option<BinOp>, target: &Expr, value: &Expr, mask: &[bool]) -> Val {
        let rhs = self.eval(value, mask);
        if let Some(name) = target.as_ident() {
            let new = match op {
                None => rhs,
                Some(op) => {
                    let old = self.vars.get(name).cloned().unwrap_or(Val::Unknown);
                    self.binary(op, old, rhs)
                }
            };
            // A partial update (some threads only) is merged thread by thread.
            let full = mask.iter().all(|m| *m);
            let old = self.vars.get(name).cloned();
            let stored = if full {
                new.clone()
            } else {
                match (old, &new) {
                    (Some(Val::Int(o)), Val::Int(nv)) if o.is_concrete() && nv.is_concrete() => {
                        let vals = (0..self.n)
                            .map(|t| {
                                if mask[t] {
                                    nv.value(t).unwrap_or(0)
                                } else {
                                    o.value(t).unwrap_or(0)
                                }
                            })
                            .collect();
                        Val::Int(Poly::per_thread(vals))
                    }
                    (Some(o), nv) if o == *nv => o,
                    _ => Val::Unknown,
                }
            };
            self.vars.insert(name.to_string(), stored);
            return new;
        }
        if op.is_some() {
            self.access(target, AccessKind::Load, mask);
        }
        self.access(target, AccessKind::Store, mask);
        Val::Unknown
    }

    fn load(&mut self, e: &Expr, mask: &[bool]) -> Val {
        // An array member (`x->qs`) or a row of a multi-dimensional shared
        // array (`tile[i]`) used as a value is its address, not a load.
        if matches!(e.kind, ExprKind::Index(..) | ExprKind::Member { .. }) {
            let Some((ptr, bytes)) = self.location(e, mask) else {
                return Val::Unknown;
            };
            if !ptr.dims.is_empty() {
                return Val::Ptr(ptr);
            }
            let uniform = self.record_access(e, ptr, bytes, AccessKind::Load, mask);
            return self.opaque("loaded value", uniform);
        }
        match self.access(e, AccessKind::Load, mask) {
            Some(uniform_address) => self.opaque("loaded value", uniform_address),
            None => Val::Unknown,
        }
    }

    /// Records an access; returns whether every active thread used the same
    /// address (then the loaded value is uniform), or `None` if `e` is not a
    /// global/shared memory access.
    fn access(&mut self, e: &Expr, kind: AccessKind, mask: &[bool]) -> Option<bool> {
        let (ptr, bytes) = self.location(e, mask)?;
        if !ptr.dims.is_empty() {
            return None;
        }
        Some(self.record_access(e, ptr, bytes, kind, mask))
    }

    /// Records the access `e` makes at `ptr`; returns whether every active
    /// thread used the same address.
    fn record_access(
        &mut self,
        e: &Expr,
        ptr: PtrVal,
        bytes: u32,
        kind: AccessKind,
        mask: &[bool],
    ) -> bool {
        let active = self.and_alive(mask);
        let uniform = ptr.offset.is_uniform();
        let record = ptr.record;
        let index = match &e.kind {
            ExprKind::Index(_, i) => Some((**i).clone()),
            _ => None,
        };
        self.record(AccessEvent {
            span: e.span,
            kind,
            space: ptr.space,
            root: ptr.root.clone(),
            element_bytes: bytes,
            element_type: element_word(&ptr.pointee),
            address: ptr.offset,
            active,
            index,
            weight: self.weight,
            weight_exact: self.weight_exact,
            first_iteration_only: self.first_iteration_only,
            chain: Vec::new(),
            record,
            file: None,
            chain_in_file: Vec::new(),
            text: self.foreign_text(e),
        });
        uniform
    }

    /// The access as written, for an access in another file's function.
    fn foreign_text(&self, e: &Expr) -> Option<String> {
        let foreign = self.call_files.last().is_some_and(Option::is_some);
        let text = foreign.then(|| super::render::render_expr(e))?;
        (!text.contains('…')).then_some(text)
    }

    /// Records an access (with the calls that led to it): made here, or in
    /// a function of another file.
    fn record(&mut self, mut ev: AccessEvent) {
        ev.chain = self.calls.clone();
        match self.call_files.last().cloned().flatten() {
            None => self.events.push(ev),
            Some(file) => {
                ev.chain_in_file = (self.call_files.iter())
                    .map(|f| f.as_ref() == Some(&file))
                    .collect();
                ev.file = Some(file);
                self.foreign_events.push(ev);
            }
        }
    }

    /// The memory location an lvalue expression designates, with the size of
    /// what is accessed there.
    fn location(&mut self, e: &Expr, mask: &[bool]) -> Option<(PtrVal, u32)> {
        match &e.kind {
            ExprKind::Index(base, idx) => {
                // `s.m[i][j]`: a struct's member arrays are known by their
                // element count only, not their shape (and a member indexed
                // twice may be a pointer's pointee): not analysed.
                if let ExprKind::Index(inner, _) = &base.kind
                    && matches!(inner.kind, ExprKind::Member { .. })
                {
                    self.eval(idx, mask);
                    return None;
                }
                // `tile[i][j]`: `tile[i]` is a row of a multi-dimensional array, not a load.
                let b = match &base.kind {
                    ExprKind::Index(..) => self.location(base, mask).map(|(p, _)| Val::Ptr(p)),
                    _ => Some(self.eval(base, mask)),
                };
                let Some(Val::Ptr(p)) = b else {
                    self.eval(idx, mask);
                    return None;
                };
                let i = self.eval(idx, mask);
                let Val::Int(i) = i else {
                    if p.space == MemorySpace::Shared
                        && self.call_files.last().is_none_or(Option::is_none)
                    {
                        self.unknown_shared.push(e.span);
                    }
                    return None;
                };
                let elem = self.size_of(&p.pointee)?;
                let stride = p.dims.iter().skip(1).product::<u64>().max(1) * elem;
                let offset = p.offset.add(&i.scale(stride as i64)?)?;
                let dims = if p.dims.is_empty() {
                    vec![]
                } else {
                    p.dims[1..].to_vec()
                };
                let is_element = dims.is_empty();
                let ptr = PtrVal { offset, dims, ..p };
                Some((ptr, if is_element { elem as u32 } else { 0 }))
            }
            ExprKind::Unary(UnOp::Deref, inner) => {
                let Val::Ptr(p) = self.eval(inner, mask) else {
                    return None;
                };
                let elem = self.size_of(&p.pointee)? as u32;
                Some((p, elem))
            }
            ExprKind::Member { base, field, arrow } => {
                let (mut p, _) = if *arrow {
                    let Val::Ptr(p) = self.eval(base, mask) else {
                        return None;
                    };
                    let s = self.size_of(&p.pointee)? as u32;
                    (p, s)
                } else {
                    self.location(base, mask)?
                };
                let (off, ty, dims) = self.field_layout(&p.pointee, field)?;
                let size = self.size_of(&ty)? as u32;
                p.record = self.size_of(&p.pointee).unwrap_or(0);
                p.offset = p.offset.add(&Poly::constant(off as i64, self.n))?;
                p.pointee = ty;
                // An array member: indexed further, or decays to a pointer.
                p.dims = dims;
                Some((p, size))
            }
            _ => None,
        }
    }

    /// Offset, type and array extents (none for a scalar) of `field` in a
    /// struct or CUDA vector type.
    fn field_layout(&self, ty: &Type, field: &str) -> Option<(u64, Type, Vec<u64>)> {
        let base = self.concrete(ty).base;
        let component = match base.as_str() {
            "float2" | "float3" | "float4" => Some("float"),
            "int2" | "int3" | "int4" => Some("int"),
            "uint2" | "uint3" | "uint4" => Some("unsigned int"),
            "double2" | "double3" | "double4" => Some("double"),
            "half2" | "__half2" => Some("half"),
            _ => None,
        };
        if let Some(c) = component {
            let ct = Type::named(c);
            let size = self.size_of(&ct)?;
            let k = ["x", "y", "z", "w"].iter().position(|f| *f == field)? as u64;
            return Some((k * size, ct, Vec::new()));
        }
        let f = self.model.types.field(&self.concrete(ty), field)?;
        Some((f.offset, f.ty.clone(), f.dims.clone()))
    }

    /// `block.thread_rank()`, `warp.thread_rank()`, `warp.meta_group_rank()`,
    /// `.size()`: a cooperative-groups handle's per-thread values, from the
    /// thread's linear index in the block (tiles are consecutive ranks).
    fn group_method(&self, callee: &str) -> Option<Val> {
        let (recv, method) = callee.rsplit_once('.')?;
        let size = *self.group_sizes.get(recv)?;
        let n = self.n as i64;
        let tile = size.map_or(n, i64::from);
        let per_thread =
            |f: &dyn Fn(i64) -> i64| Val::Int(Poly::per_thread((0..n).map(f).collect()));
        Some(match method {
            "thread_rank" => per_thread(&|t| t % tile),
            "meta_group_rank" if size.is_some() => per_thread(&|t| t / tile),
            "size" | "num_threads" => Val::Int(Poly::constant(tile, self.n)),
            "meta_group_size" if size.is_some() => {
                Val::Int(Poly::constant((n + tile - 1) / tile, self.n))
            }
            _ => return None,
        })
    }

    fn call(&mut self, callee: &str, args: &[Expr], mask: &[bool], at: Span) -> Val {
        let plain = callee.trim_start_matches("::").trim_start_matches("std::");
        if plain.starts_with("atomic") {
            if let Some(first) = args.first() {
                let target = match &first.kind {
                    ExprKind::Unary(UnOp::AddrOf, t) => Some(&**t),
                    _ => None,
                };
                match target {
                    Some(t) => {
                        self.access(t, AccessKind::Atomic, mask);
                    }
                    None => {
                        if let Val::Ptr(p) = self.eval(first, mask) {
                            let bytes = self.size_of(&p.pointee).unwrap_or(4) as u32;
                            let active = self.and_alive(mask);
                            self.record(AccessEvent {
                                span: first.span,
                                kind: AccessKind::Atomic,
                                space: p.space,
                                root: p.root.clone(),
                                element_bytes: bytes,
                                element_type: element_word(&p.pointee),
                                address: p.offset,
                                active,
                                index: None,
                                weight: self.weight,
                                weight_exact: self.weight_exact,
                                first_iteration_only: self.first_iteration_only,
                                chain: Vec::new(),
                                record: p.record,
                                file: None,
                                chain_in_file: Vec::new(),
                                text: self.foreign_text(first),
                            });
                        }
                    }
                }
            }
            for a in args.iter().skip(1) {
                self.eval(a, mask);
            }
            return Val::Unknown;
        }
        if args.is_empty()
            && let Some(v) = self.group_method(callee)
        {
            return v;
        }
        let vals: Vec<Val> = args.iter().map(|a| self.eval(a, mask)).collect();
        match (plain, vals.as_slice()) {
            ("min" | "max" | "umin" | "umax", [Val::Int(a), Val::Int(b)]) => {
                let f = if plain.ends_with("min") {
                    i64::min
                } else {
                    i64::max
                };
                if let Some(r) = a.zip_concrete(b, |x, y| Some(f(x, y))) {
                    return Val::Int(r);
                }
                let u = a.is_uniform() && b.is_uniform();
                return self.opaque(plain, u);
            }
            ("__syncthreads" | "__syncwarp" | "__threadfence" | "__threadfence_block", _) => {
                return Val::Unknown;
            }
            _ => {}
        }
        if let Some(f) = self
            .model
            .function(callee)
            .filter(|f| f.runs_on_device() && f.body.is_some())
            && self.inline_depth < MAX_INLINE_DEPTH
        {
            return self.inline(f, vals, mask, at);
        }
        let u = vals.iter().all(Self::is_uniform);
        self.opaque(plain, u && !vals.is_empty())
    }

    fn inline(&mut self, f: &Function, args: Vec<Val>, mask: &[bool], at: Span) -> Val {
        let file = match (&f.file, self.call_files.last()) {
            (None, _) => None,
            // The caller's file again: its allocation is shared.
            (Some(p), Some(Some(caller))) if **caller == **p => Some(caller.clone()),
            (Some(p), _) => Some(std::sync::Arc::from(p.as_path())),
        };
        self.call_files.push(file);
        self.calls.push((f.name.clone(), at));
        let r = self.inline_body(f, args, mask);
        self.calls.pop();
        self.call_files.pop();
        r
    }

    fn inline_body(&mut self, f: &Function, args: Vec<Val>, mask: &[bool]) -> Val {
        let saved = self.vars.clone();
        for (p, v) in f.params.iter().zip(args) {
            let v = match v {
                Val::Ptr(mut ptr) if p.ty.pointer > 0 => {
                    ptr.pointee = self.concrete(&p.ty.pointee());
                    Val::Ptr(ptr)
                }
                other => other,
            };
            self.vars.insert(p.name.clone(), v);
        }
        self.inline_depth += 1;
        if let Some(body) = &f.body {
            self.stmt(body, mask, false);
        }
        self.inline_depth -= 1;
        let r = self.ret.take().unwrap_or(Val::Unknown);
        self.vars = saved;
        r
    }

    // ---- conditions ---------------------------------------------------------

    /// Per-thread truth of a condition, when known.
    fn truth(&self, v: &Val) -> Option<Vec<bool>> {
        match v {
            Val::Int(p) => self.truth_concrete(p),
            _ => None,
        }
    }

    fn truth_concrete(&self, p: &Poly) -> Option<Vec<bool>> {
        if !p.is_concrete() {
            return None;
        }
        Some((0..self.n).map(|t| p.value(t).unwrap_or(0) != 0).collect())
    }
}

/// `a OP b` ⇔ `b FLIP(OP) a`.
fn flip(op: BinOp) -> Option<BinOp> {
    use BinOp::*;
    Some(match op {
        Lt => Gt,
        Gt => Lt,
        Le => Ge,
        Ge => Le,
        Eq => Eq,
        Ne => Ne,
        _ => return None,
    })
}

fn compare(op: BinOp, x: i64, y: i64) -> i64 {
    use BinOp::*;
    (match op {
        Eq => x == y,
        Ne => x != y,
        Lt => x < y,
        Gt => x > y,
        Le => x <= y,
        Ge => x >= y,
        _ => false,
    }) as i64
}

fn fold(op: BinOp, x: i64, y: i64) -> Option<i64> {
    use BinOp::*;
    Some(match op {
        Add => x.checked_add(y)?,
        Sub => x.checked_sub(y)?,
        Mul => x.checked_mul(y)?,
        Div => x.checked_div(y)?,
        Rem => x.checked_rem(y)?,
        Shl => x.checked_shl(u32::try_from(y).ok().filter(|s| *s < 63)?)?,
        Shr => x.checked_shr(u32::try_from(y).ok().filter(|s| *s < 63)?)?,
        BitAnd => x & y,
        BitOr => x | y,
        BitXor => x ^ y,
        LogAnd => (x != 0 && y != 0) as i64,
        LogOr => (x != 0 || y != 0) as i64,
        _ => compare(op, x, y),
    })
}

/// Joins variables after an `if` whose condition is known per thread.
/// Both sides started from `before` and only add variables, so the result
/// starts from the else side and changes only what the sides disagree on
/// (most variables of a long kernel are untouched by one `if`: not cloning
/// them again is most of the analysis time of an edit in ggml's `mmq.cuh`).
fn merge_vars(
    before: &HashMap<String, Val>,
    then_vars: &HashMap<String, Val>,
    else_vars: HashMap<String, Val>,
    then_mask: &[bool],
    else_mask: &[bool],
    n: usize,
) -> HashMap<String, Val> {
    let differing = then_vars
        .iter()
        .filter(|&(k, t)| else_vars.get(k) != Some(t))
        .map(|(k, _)| k)
        .chain(else_vars.keys().filter(|k| !then_vars.contains_key(*k)));
    let merged: Vec<(String, Val)> = differing
        .map(|k| {
            let (t, e, b) = (then_vars.get(k), else_vars.get(k), before.get(k));
            (
                k.clone(),
                merge_per_thread(t, e, b, then_mask, else_mask, n),
            )
        })
        .collect();
    let mut out = else_vars;
    out.extend(merged);
    out
}

/// One variable after an `if` whose sides left it different: each thread's
/// value from the side it ran (or from before, if it ran neither).
fn merge_per_thread(
    t: Option<&Val>,
    e: Option<&Val>,
    b: Option<&Val>,
    then_mask: &[bool],
    else_mask: &[bool],
    n: usize,
) -> Val {
    let pick = |m: &[bool], v: Option<&Val>, t: usize| -> Option<Option<i64>> {
        m[t].then(|| match v {
            Some(Val::Int(p)) => p.value(t),
            _ => None,
        })
    };
    let mut vals = Vec::with_capacity(n);
    for i in 0..n {
        let v = pick(then_mask, t, i)
            .or_else(|| pick(else_mask, e, i))
            .unwrap_or_else(|| match b {
                Some(Val::Int(p)) => p.value(i),
                _ => None,
            });
        match v {
            Some(v) => vals.push(v),
            None => return Val::Unknown,
        }
    }
    Val::Int(Poly::per_thread(vals))
}

/// Joins variables after an `if` whose condition is unknown: values that
/// differ between the paths become unknown (both sides started from the
/// same variables and only add to them).
fn merge_unknown(
    then_vars: &HashMap<String, Val>,
    else_vars: HashMap<String, Val>,
) -> HashMap<String, Val> {
    let differing: Vec<String> = then_vars
        .iter()
        .filter(|&(k, t)| else_vars.get(k) != Some(t))
        .map(|(k, _)| k.clone())
        .chain(
            else_vars
                .keys()
                .filter(|k| !then_vars.contains_key(*k))
                .cloned(),
        )
        .collect();
    let mut out = else_vars;
    out.extend(differing.into_iter().map(|k| (k, Val::Unknown)));
    out
}

/// The accessed element's type for messages: `float`, `Point`, `void*`
/// (a pointer is never its pointee's name alone).
fn element_word(ty: &Type) -> String {
    format!("{}{}", ty.base, "*".repeat(usize::from(ty.pointer)))
}
