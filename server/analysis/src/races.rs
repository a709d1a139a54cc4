//! `missing-syncthreads`: shared memory read by one thread after another
//! wrote it, or overwritten in the next loop iteration while other threads
//! may still read it, with no barrier in between.
//!
//! The walk follows the kernel's statements with the shared accesses made
//! since the last block barrier ([`Pending`]). A read and an earlier write
//! (or a write and a read of the previous iteration) race unless the code
//! shows they cannot touch a slot of another thread:
//! - the same thread-private index (`s[tid]`), group (`s[4 * tid + c]`) or
//!   row (`s[tid][*]`);
//! - ranges that cannot meet: `s[j]` for `j < i` against `s[threadIdx.x]`
//!   under `threadIdx.x > i`, `s[stride + k]` against `s[k]` for `k < stride`
//!   ([`crate::index_range`]);
//! - a single-thread section (`if (threadIdx.x == 0)`) reading the slot it
//!   wrote itself;
//! - warp-synchronous code: when the lanes of a warp met between the two
//!   accesses (`__syncwarp()`, a tile's `.sync()`, `__shfl_*_sync`), the
//!   data is taken to be warp-private unless the indices show a read of
//!   another warp's slot (`s[255 - tid]`, `s[lane]` after `s[warp_id]`).

use std::collections::{HashMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::consteval::{ConstEnv, fold_binary};
use cudalens_syntax::ir::{
    BinOp, Builtin, Expr, ExprKind, Stmt, StmtKind, UnOp, int_literal_value,
};
use cudalens_syntax::model::Function;

use crate::diagnostic::{Diagnostic, Span};
use crate::groups::{CalledBarriers, Groups};
use crate::index_range::{Atom, Lin, Range, builtin_lower_bound};
use crate::memory::expr_key;
use crate::rules::missing_syncthreads;
use cudalens_syntax::divergence::{ThreadDependence, root_var};

/// Reports the shared-memory races of `kernel` (see the module docs).
pub(crate) fn check(
    model: &FileModel,
    kernel: &Function,
    body: &Stmt,
    td: &ThreadDependence,
    groups: &Groups,
    barriers: &CalledBarriers,
    out: &mut Vec<Diagnostic>,
) {
    let shared: HashSet<String> = kernel
        .shared_decls()
        .iter()
        .map(|d| d.name.clone())
        .collect();
    if shared.is_empty() {
        return;
    }
    let file_env = model.const_env();
    let mut dims = [false; 3];
    body.walk_exprs(&mut |e| {
        if let ExprKind::Builtin(Builtin::ThreadIdx, axis) = &e.kind {
            dims[*axis as usize] = true;
        }
    });
    let env = Env {
        td,
        groups,
        barriers,
        consts: kernel.const_env(&file_env),
        dims,
        gens: HashMap::new(),
        next_gen: 0,
        defs: HashMap::new(),
        ranges: HashMap::new(),
        strided: HashSet::new(),
    };
    let mut checker = SyncChecker {
        env,
        shared: &shared,
        reported: HashSet::new(),
        out,
        pass: 0,
        carried: Vec::new(),
    };
    checker.stmt(body, Pending::default());
}

/// The terms of a sum with their signs: `a + 4 * i - 1` → `a`, `4 * i`, `-1`.
fn signed_addends(e: &Expr, negative: bool) -> Vec<(&Expr, bool)> {
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

/// The part of a shared array one thread owns, when the index says so:
/// `s[4 * i + c]` with `i` thread-dependent touches the thread's own group of
/// 4 (for constant `c` in one window of 4), `s[row][j]` with `row`
/// thread-dependent the thread's own row, `s[j][col]` with only `col`
/// thread-dependent its own column. Threads are assumed to map to
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

/// The generations of the variables a form or range is written over, when
/// it was made: it still holds while none of them was assigned since.
type Snapshot = Vec<(String, u32)>;

/// The identifiers in an atom's text (`(j * nthreads)` → `j`, `nthreads`).
fn idents(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|t| t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_'))
}

/// Methods of a cooperative group whose value does not change while the
/// kernel runs (so two calls give the same value in one thread).
const PURE_GROUP_METHODS: &[&str] = &[
    "thread_rank",
    "meta_group_rank",
    "meta_group_size",
    "num_threads",
    "size",
];

/// What the walk knows about values at one point of the kernel: constants,
/// the definitions of locals assigned once, ranges from loop headers and
/// conditions, and each variable's assignment generation.
struct Env<'a> {
    td: &'a ThreadDependence,
    groups: &'a Groups,
    /// Device functions that reach a block barrier: calling one is one.
    barriers: &'a CalledBarriers<'a>,
    consts: ConstEnv<'a>,
    /// Which of `threadIdx.x/y/z` the kernel reads.
    dims: [bool; 3],
    gens: HashMap<String, u32>,
    next_gen: u32,
    /// The value each local was last given (`int c = threadIdx.x;`,
    /// `idx = threadIdx.x - 16;`) on every path to this point.
    defs: HashMap<String, (Expr, Snapshot)>,
    /// Ranges of variables (loop counters, guarded values) by atom key.
    ranges: HashMap<String, (Range, Snapshot)>,
    /// Loop counters that start at `threadIdx.x` and step by `blockDim.x`:
    /// a value `v` below `blockDim.x` is reached by thread `v` alone.
    strided: HashSet<String>,
}

impl Env<'_> {
    fn bump(&mut self, name: &str) {
        self.next_gen += 1;
        self.gens.insert(name.to_string(), self.next_gen);
    }

    /// `name` now holds `value` (evaluated before the assignment).
    fn define(&mut self, name: &str, value: &Expr) {
        let snap = self.expr_snapshot(value);
        self.bump(name);
        self.defs.insert(name.to_string(), (value.clone(), snap));
    }

    /// After two paths: a definition holds only where both paths agree.
    fn join_defs(&mut self, other: &HashMap<String, (Expr, Snapshot)>) {
        self.defs.retain(|k, v| other.get(k) == Some(v));
    }

    fn gen_of(&self, name: &str) -> u32 {
        self.gens.get(name).copied().unwrap_or(0)
    }

    /// After two paths (branches, or a loop's entry and its iterations): a
    /// variable whose generation differs on them may hold either value.
    fn join_gens(&mut self, other: HashMap<String, u32>) {
        let names: HashSet<String> = self.gens.keys().chain(other.keys()).cloned().collect();
        for n in names {
            if self.gens.get(&n) != other.get(&n) {
                self.bump(&n);
            }
        }
    }

    fn snapshot<'t>(&self, texts: impl Iterator<Item = &'t str>) -> Snapshot {
        let mut s: Snapshot = texts
            .flat_map(idents)
            .map(|n| (n.to_string(), self.gen_of(n)))
            .collect();
        s.sort();
        s.dedup();
        s
    }

    fn fresh(&self, s: &Snapshot) -> bool {
        s.iter().all(|(n, g)| self.gen_of(n) == *g)
    }

    fn expr_snapshot(&self, e: &Expr) -> Snapshot {
        let mut names = Vec::new();
        e.walk(&mut |x| {
            if let ExprKind::Ident(n) = &x.kind {
                names.push(n.clone());
            }
        });
        self.snapshot(names.iter().map(String::as_str))
    }

    fn lin(&self, e: &Expr) -> Option<Lin> {
        // Definitions can share operands (`b = a + a; c = b + b; ...`): a
        // budget of visited nodes keeps any chain linear in time.
        self.lin_at(e, 0, &mut 4096)
    }

    fn lin_at(&self, e: &Expr, depth: u32, budget: &mut u32) -> Option<Lin> {
        if depth > 24 || *budget == 0 {
            return None;
        }
        *budget -= 1;
        let d = depth + 1;
        match &e.kind {
            ExprKind::Int {
                value, unsigned, ..
            } => i64::try_from(int_literal_value(*value, *unsigned))
                .ok()
                .map(Lin::constant),
            ExprKind::Ident(n) => {
                if let Some(v) = self.consts.lookup(n) {
                    return i64::try_from(v).ok().map(Lin::constant);
                }
                if let Some((def, snap)) = self.defs.get(n)
                    && self.fresh(snap)
                    && let Some(l) = self.lin_at(def, d, budget)
                {
                    return Some(l);
                }
                Some(Lin::atom(n.clone(), self.td.var_varies(n)))
            }
            ExprKind::Builtin(b, a) => Some(Lin::atom(
                format!("{}.{}", b.name(), a.name()),
                *b == Builtin::ThreadIdx,
            )),
            ExprKind::WarpSize => Some(Lin::constant(32)),
            ExprKind::Unary(UnOp::Neg, x) => self.lin_at(x, d, budget)?.scale(-1),
            ExprKind::Unary(UnOp::Plus, x) | ExprKind::Cast { expr: x, .. } => {
                self.lin_at(x, d, budget)
            }
            ExprKind::Binary(op, a, b) => {
                let la = self.lin_at(a, d, budget)?;
                let lb = self.lin_at(b, d, budget)?;
                match op {
                    BinOp::Add => la.add(&lb),
                    BinOp::Sub => la.sub(&lb),
                    BinOp::Mul if la.as_const().is_some() => lb.scale(la.c),
                    BinOp::Mul if lb.as_const().is_some() => la.scale(lb.c),
                    BinOp::Shl if lb.as_const().is_some_and(|k| (0..31).contains(&k)) => {
                        la.scale(1 << lb.c)
                    }
                    _ => match (la.as_const(), lb.as_const()) {
                        (Some(x), Some(y)) => fold_binary(*op, x.into(), y.into())
                            .and_then(|v| i64::try_from(v).ok())
                            .map(Lin::constant),
                        _ => Some(Lin::atom(
                            format!("({} {} {})", la.display(), op.as_str(), lb.display()),
                            la.varies() || lb.varies(),
                        )),
                    },
                }
            }
            ExprKind::Call(call) => {
                let (recv, method) = call.callee.rsplit_once('.')?;
                let group = self.groups.block.contains(recv) || self.groups.tile.contains(recv);
                (group && call.args.is_empty() && PURE_GROUP_METHODS.contains(&method))
                    .then(|| Lin::atom(call.callee.clone() + "()", self.td.varies(e)))
            }
            ExprKind::Member {
                base, arrow: false, ..
            } if matches!(base.kind, ExprKind::Ident(_)) => {
                Some(Lin::atom(expr_key(e), self.td.varies(e)))
            }
            _ => None,
        }
    }

    /// The values `e` can take in the threads that run this point.
    fn range_of(&self, e: &Expr) -> Range {
        match self.lin(e) {
            Some(l) => self.range_of_lin(&l),
            None => Range::unbounded(),
        }
    }

    fn range_of_lin(&self, l: &Lin) -> Range {
        let mut r = Range::point(Lin::constant(l.c));
        for (a, k) in &l.terms {
            r = r.add(&self.atom_range(a).scale(*k));
        }
        r
    }

    /// A uniform symbol is its own (exact) value; a thread-dependent one
    /// ranges over what the loop header or the guards allow.
    fn atom_range(&self, a: &Atom) -> Range {
        if !a.varies {
            return Range::point(Lin::atom(a.key.clone(), false));
        }
        if let Some((r, snap)) = self.ranges.get(&a.key)
            && self.fresh(snap)
        {
            return r.clone();
        }
        if let Some(axis) = a.key.strip_prefix("threadIdx.") {
            return Range {
                lo: Some(Lin::constant(0)),
                hi: Lin::atom(format!("blockDim.{axis}"), false).add(&Lin::constant(-1)),
            };
        }
        Range::unbounded()
    }

    /// The bounds a condition puts on one symbol each, `x op v` with `v`
    /// block-uniform: `threadIdx.x > i`, `j < n`, `tid == 0`, through
    /// `&&`, `!` and (when false) `||`.
    fn constraints(&self, cond: &Expr, positive: bool, out: &mut Vec<(Atom, BinOp, Lin)>) {
        match &cond.kind {
            ExprKind::Binary(BinOp::LogAnd, a, b) if positive => {
                self.constraints(a, true, out);
                self.constraints(b, true, out);
            }
            ExprKind::Binary(BinOp::LogOr, a, b) if !positive => {
                self.constraints(a, false, out);
                self.constraints(b, false, out);
            }
            ExprKind::Unary(UnOp::Not, x) => self.constraints(x, !positive, out),
            ExprKind::Binary(
                op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne),
                a,
                b,
            ) => {
                let op = if positive { *op } else { negate(*op) };
                let (Some(la), Some(lb)) = (self.lin(a), self.lin(b)) else {
                    return;
                };
                let Some(d) = la.sub(&lb) else { return };
                // d op 0, with one symbol x of coefficient ±1 and the rest uniform.
                let varying: Vec<_> = d.terms.iter().filter(|(a, _)| a.varies).collect();
                let (x, k) = match varying.as_slice() {
                    [(x, k)] => ((*x).clone(), **k),
                    [] if d.terms.len() == 1 => {
                        let (x, k) = d.terms.iter().next().expect("one term");
                        (x.clone(), *k)
                    }
                    _ => return,
                };
                let mut rest = d.clone();
                rest.terms.remove(&x);
                let bound = match k {
                    1 => rest.scale(-1).map(|v| (op, v)),
                    -1 => Some((mirror(op), rest)),
                    _ => None,
                };
                if let Some((op, v)) = bound {
                    out.push((x, op, v));
                }
            }
            _ => {}
        }
    }

    /// Narrows the ranges of the symbols `cond` bounds, where it holds
    /// (`positive`) or where it does not.
    fn apply_guard(&mut self, cond: &Expr, positive: bool) {
        let mut cs = Vec::new();
        self.constraints(cond, positive, &mut cs);
        for (x, op, v) in cs {
            let mut r = self.atom_range(&x);
            let tighter = |old: &Option<Lin>, new: Option<Lin>, hi: bool| match (
                old.as_ref().and_then(Lin::as_const),
                new.as_ref().and_then(Lin::as_const),
            ) {
                (Some(o), Some(n)) if (hi && o < n) || (!hi && o > n) => old.clone(),
                _ => new.or_else(|| old.clone()),
            };
            match op {
                BinOp::Lt => r.hi = tighter(&r.hi, v.add(&Lin::constant(-1)), true),
                BinOp::Le => r.hi = tighter(&r.hi, Some(v), true),
                BinOp::Gt => r.lo = tighter(&r.lo, v.add(&Lin::constant(1)), false),
                BinOp::Ge => r.lo = tighter(&r.lo, Some(v), false),
                BinOp::Eq => r = Range::point(v),
                _ => continue,
            }
            let snap = self.snapshot(
                r.atoms()
                    .map(|a| a.key.as_str())
                    .chain(std::iter::once(x.key.as_str())),
            );
            self.ranges.insert(x.key, (r, snap));
        }
    }

    /// The range of a `for` loop's counter inside the body, when the header
    /// says it: `for (j = a; j < b; j += s)` with `s >= 1` gives `[a, b - 1]`
    /// (over every thread: `a` may be `threadIdx.x`), `for (d = n; d > 0;
    /// d /= 2)` gives `[1, n]`. None when the body assigns the counter.
    fn loop_range(
        &self,
        init: &[Stmt],
        cond: Option<&Expr>,
        step: Option<&Expr>,
        body: &Stmt,
    ) -> Option<(String, Range, Snapshot)> {
        let (var, start) = cudalens_syntax::model::loop_start(init)?;
        if assigns(body, var) {
            return None;
        }
        let at_least = |e: &Expr, k: i64| {
            self.range_of(e)
                .lo
                .and_then(|lo| Lin::constant(k).sub(&lo))
                // k - lo <= 0 for every value of the symbols.
                .and_then(|d| d.max_value(&builtin_lower_bound))
                .is_some_and(|m| m <= 0)
        };
        let is_var = |t: &Expr| matches!(&t.kind, ExprKind::Ident(n) if n == var);
        // +1: counts up; -1: counts down; 0: halves towards zero (needs a
        // non-negative lower bound from the condition).
        let dir = match &step?.kind {
            ExprKind::IncDec {
                increment, target, ..
            } if is_var(target) => {
                if *increment {
                    1
                } else {
                    -1
                }
            }
            ExprKind::Assign(Some(op), t, v) if is_var(t) => match op {
                BinOp::Add if at_least(v, 1) => 1,
                BinOp::Sub if at_least(v, 1) => -1,
                BinOp::Div if at_least(v, 2) => 0,
                BinOp::Shr if at_least(v, 1) => 0,
                _ => return None,
            },
            _ => return None,
        };
        let start = self.range_of(start);
        let mut r = if dir > 0 {
            Range {
                lo: start.lo,
                hi: None,
            }
        } else {
            Range {
                lo: None,
                hi: start.hi,
            }
        };
        let mut cs = Vec::new();
        if let Some(c) = cond {
            self.constraints(c, true, &mut cs);
        }
        for (x, op, v) in cs.into_iter().filter(|(x, _, _)| x.key == var) {
            let _ = x;
            match (dir > 0, op) {
                (true, BinOp::Lt) => r.hi = v.add(&Lin::constant(-1)),
                (true, BinOp::Le) => r.hi = Some(v),
                (false, BinOp::Gt) => r.lo = v.add(&Lin::constant(1)),
                (false, BinOp::Ge) => r.lo = Some(v),
                _ => {}
            }
        }
        if dir == 0 {
            // Halving keeps the value between the condition's bound and the
            // start only for non-negative values.
            let non_negative = r.lo.as_ref().is_some_and(|lo| {
                lo.scale(-1)
                    .and_then(|d| d.max_value(&builtin_lower_bound))
                    .is_some_and(|m| m <= 0)
            });
            if !non_negative {
                return None;
            }
        }
        let snap = self.snapshot(r.atoms().map(|a| a.key.as_str()));
        Some((var.to_string(), r, snap))
    }

    /// Whether the loop is `for (v = threadIdx.x; ...; v += blockDim.x)`
    /// with `v` assigned nowhere else: each thread's values are its index
    /// plus multiples of the block size.
    fn block_strided(&self, init: &[Stmt], step: Option<&Expr>, body: &Stmt) -> Option<String> {
        let (var, start) = cudalens_syntax::model::loop_start(init)?;
        let tid = Lin::atom("threadIdx.x".into(), true);
        let bdx = Lin::atom("blockDim.x".into(), false);
        let ExprKind::Assign(Some(BinOp::Add), t, v) = &step?.kind else {
            return None;
        };
        (matches!(&t.kind, ExprKind::Ident(n) if n == var)
            && self.dims == [true, false, false]
            && self.lin(start) == Some(tid)
            && self.lin(v) == Some(bdx)
            && !assigns(body, var))
        .then(|| var.to_string())
    }

    /// The thread-index symbols fixed to one value here (`threadIdx.x == 0`).
    fn pinned(&self) -> Vec<(String, i64)> {
        self.ranges
            .iter()
            .filter(|(k, (_, snap))| self.thread_atom(k) && self.fresh(snap))
            .filter_map(|(k, (r, _))| r.as_const().map(|c| (k.clone(), c)))
            .collect()
    }

    /// `threadIdx.*` or a thread block's `thread_rank()`.
    fn thread_atom(&self, key: &str) -> bool {
        key.starts_with("threadIdx.") || self.block_rank(key)
    }

    fn block_rank(&self, key: &str) -> bool {
        key.strip_suffix(".thread_rank()")
            .is_some_and(|recv| self.groups.block.contains(recv))
    }

    /// Whether one thread runs this point: every thread index the kernel
    /// reads is fixed, or the block rank is.
    fn single(&self, pinned: &[(String, i64)]) -> bool {
        if pinned.iter().any(|(k, _)| self.block_rank(k)) {
            return true;
        }
        let mut any = false;
        for (axis, used) in ["x", "y", "z"].iter().zip(self.dims) {
            if used {
                any = true;
                let key = format!("threadIdx.{axis}");
                if !pinned.iter().any(|(k, _)| *k == key) {
                    return false;
                }
            }
        }
        any
    }

    /// The warp (`threadIdx.x / 32`) every thread running this point is in,
    /// for a kernel of one-dimensional thread indices.
    fn one_warp(&self) -> Option<i64> {
        if self.dims != [true, false, false] {
            return None;
        }
        let r = self.atom_range(&Atom {
            key: "threadIdx.x".into(),
            varies: true,
        });
        let (lo, hi) = (r.lo?.as_const()?, r.hi?.as_const()?);
        (lo >= 0 && lo / 32 == hi / 32).then_some(lo / 32)
    }

    fn lane_atom(&self, a: &Atom) -> bool {
        matches!(a.key.as_str(), "(threadIdx.x % 32)" | "(threadIdx.x & 31)")
            || a.key
                .strip_suffix(".thread_rank()")
                .is_some_and(|recv| self.groups.tile.contains(recv))
    }

    /// A symbol that tells warps apart: a thread index, a warp index.
    fn warp_atom(&self, a: &Atom) -> bool {
        self.thread_atom(&a.key)
            || matches!(a.key.as_str(), "(threadIdx.x / 32)" | "(threadIdx.x >> 5)")
            || a.key
                .strip_suffix(".meta_group_rank()")
                .is_some_and(|recv| self.groups.tile.contains(recv))
    }
}

fn negate(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Ge,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        BinOp::Ge => BinOp::Lt,
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        other => other,
    }
}

/// `v op x` as `x op' v`.
fn mirror(op: BinOp) -> BinOp {
    match op {
        BinOp::Lt => BinOp::Gt,
        BinOp::Le => BinOp::Ge,
        BinOp::Gt => BinOp::Lt,
        BinOp::Ge => BinOp::Le,
        other => other,
    }
}

/// The variable a loop step assigns (`i++`, `i += s`, `i = next(i)`).
fn step_target(step: &Expr) -> Option<&str> {
    match &step.kind {
        ExprKind::IncDec { target, .. } | ExprKind::Assign(_, target, _) => root_var(target),
        ExprKind::Comma(v) => v.first().and_then(step_target),
        _ => None,
    }
}

/// Whether `s` assigns `var` (other than by a loop header's own step).
fn assigns(s: &Stmt, var: &str) -> bool {
    let mut found = false;
    s.walk_exprs(&mut |e| match &e.kind {
        ExprKind::Assign(_, t, _) | ExprKind::IncDec { target: t, .. }
            if root_var(t) == Some(var) =>
        {
            found = true;
        }
        ExprKind::Unary(UnOp::AddrOf, t) if root_var(t) == Some(var) => found = true,
        _ => {}
    });
    if !found {
        s.walk(&mut |x| {
            if let StmtKind::Decl(d) = &x.kind
                && d.iter().any(|d| d.name == var)
            {
                found = true;
            }
        });
    }
    found
}

/// One shared access since the last barrier.
#[derive(Clone, Debug)]
struct Access {
    /// The index as text (`i][j` for `s[i][j]`).
    key: String,
    /// Some index differs per thread (`s[tid]`: each thread its own slot).
    private: bool,
    span: Span,
    /// The loop pass that made it (see [`SyncChecker::carried`]).
    pass: u32,
    owner: Option<Owner>,
    /// Per index, outermost first: its linear form and its range over the
    /// threads that run the access.
    dims: Vec<(Option<Lin>, Range)>,
    /// The forms (`lin`) and the ranges (`range`) hold while fresh.
    lin_snap: Snapshot,
    range_snap: Snapshot,
    /// Thread indices fixed where it runs; `single`: one thread runs it.
    pinned: Vec<(String, i64)>,
    single: bool,
    /// The one warp that runs it, when the guards say.
    warp: Option<i64>,
    /// Block-strided loop counters among the index's symbols.
    strided: Vec<String>,
    /// The one index that is a function of the thread index alone
    /// (`s[threadIdx.x]`, `rows[j][c]` with `c = threadIdx.x`), as
    /// `position:form`: the slot, row or column this thread owns.
    lin_owner: Option<(String, Snapshot)>,
    /// The lanes of a warp met after it (on some path) before the current point.
    warp_synced: bool,
}

impl Access {
    fn same(&self, o: &Access) -> bool {
        self.key == o.key
            && self.span == o.span
            && self.lin_snap == o.lin_snap
            && self.range_snap == o.range_snap
            && self.pinned == o.pinned
    }
}

/// Shared-memory accesses since the last barrier, per array.
#[derive(Clone, Default)]
struct Pending {
    writes: HashMap<String, Vec<Access>>,
    reads: HashMap<String, Vec<Access>>,
}

fn add_access(list: &mut Vec<Access>, a: Access) {
    match list.iter_mut().find(|x| x.same(&a)) {
        Some(x) => {
            x.warp_synced |= a.warp_synced;
            x.pass = x.pass.min(a.pass);
        }
        None => list.push(a),
    }
}

impl Pending {
    fn merge(mut self, other: Pending) -> Pending {
        for (mine, theirs) in [
            (&mut self.writes, other.writes),
            (&mut self.reads, other.reads),
        ] {
            for (k, v) in theirs {
                let e = mine.entry(k).or_default();
                for a in v {
                    add_access(e, a);
                }
            }
        }
        self
    }

    fn warp_sync(&mut self) {
        for a in self
            .writes
            .values_mut()
            .chain(self.reads.values_mut())
            .flatten()
        {
            a.warp_synced = true;
        }
    }
}

struct SyncChecker<'a, 'o> {
    env: Env<'a>,
    shared: &'a HashSet<String>,
    reported: HashSet<Span>,
    out: &'o mut Vec<Diagnostic>,
    /// Bumped for each second pass over a loop body, to tell loop-carried
    /// accesses from those of the same iteration.
    pass: u32,
    /// For each loop whose second pass is being walked: the passes of its
    /// first. A read made then belongs to a previous iteration.
    carried: Vec<(u32, u32)>,
}

impl SyncChecker<'_, '_> {
    fn stmt(&mut self, s: &Stmt, mut p: Pending) -> Pending {
        match &s.kind {
            StmtKind::Block(v) => {
                for c in v {
                    p = self.stmt(c, p);
                }
                p
            }
            StmtKind::Decl(decls) => {
                for d in decls {
                    for e in d.init.iter().chain(d.ctor_args.iter().flatten()) {
                        p = self.expr(e, p);
                    }
                    match &d.init {
                        Some(i) if !d.shared => self.env.define(&d.name, i),
                        _ => {
                            self.env.bump(&d.name);
                            self.env.defs.remove(&d.name);
                        }
                    }
                }
                p
            }
            StmtKind::If { cond, then, els } => {
                p = self.expr(cond, p);
                let saved = self.env.ranges.clone();
                let gens = self.env.gens.clone();
                let defs = self.env.defs.clone();
                self.env.apply_guard(cond, true);
                let a = self.stmt(then, p.clone());
                self.env.ranges = saved.clone();
                let then_gens = std::mem::replace(&mut self.env.gens, gens);
                let then_defs = std::mem::replace(&mut self.env.defs, defs);
                self.env.apply_guard(cond, false);
                let b = match els {
                    Some(e) => self.stmt(e, p),
                    None => p,
                };
                self.env.ranges = saved;
                self.env.join_defs(&then_defs);
                self.env.join_gens(then_gens);
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
                // The counter's start holds in the first iteration only:
                // inside the loop it is its range.
                let counter_var = step.as_deref().and_then(step_target);
                if let Some(v) = counter_var {
                    self.env.defs.remove(v);
                }
                let saved = self.env.ranges.clone();
                let counter = self
                    .env
                    .loop_range(init, cond.as_deref(), step.as_deref(), body);
                let strided = self.env.block_strided(init, step.as_deref(), body);
                let strided_before = self.env.strided.clone();
                if let Some(v) = &strided {
                    self.env.strided.insert(v.clone());
                }
                let entry = p.clone();
                let gens = self.env.gens.clone();
                let defs = self.env.defs.clone();
                // Twice: the second pass sees writes from the end of the previous iteration.
                let mut state = p;
                let first = self.pass;
                for round in 0..2 {
                    if round == 1 {
                        self.pass += 1;
                        self.carried.push((first, self.pass));
                    }
                    if let Some((v, r, snap)) = &counter {
                        self.env.ranges.insert(v.clone(), (r.clone(), snap.clone()));
                    }
                    if let Some(v) = counter_var {
                        self.env.defs.remove(v);
                    }
                    if let Some(c) = cond {
                        state = self.expr(c, state);
                    }
                    state = self.stmt(body, state);
                    if let Some(st) = step {
                        state = self.expr(st, state);
                    }
                }
                self.carried.pop();
                self.env.ranges = saved;
                self.env.strided = strided_before;
                self.env.join_defs(&defs);
                self.env.join_gens(gens);
                entry.merge(state)
            }
            StmtKind::While { cond, body } | StmtKind::DoWhile { body, cond } => {
                let entry = p.clone();
                let gens = self.env.gens.clone();
                let defs = self.env.defs.clone();
                let mut state = p;
                let first = self.pass;
                for round in 0..2 {
                    if round == 1 {
                        self.pass += 1;
                        self.carried.push((first, self.pass));
                    }
                    state = self.expr(cond, state);
                    state = self.stmt(body, state);
                }
                self.carried.pop();
                self.env.join_defs(&defs);
                self.env.join_gens(gens);
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
            if self.env.groups.is_block_barrier(call) {
                return Pending::default();
            }
            if self.env.barriers.of_call(call).is_some() {
                // The callee's own accesses are not seen: after its barrier,
                // nothing written before the call is pending.
                return Pending::default();
            }
            if self.env.groups.is_warp_sync(call) {
                for a in &call.args {
                    p = self.expr(a, p);
                }
                p.warp_sync();
                return p;
            }
            if call.callee.starts_with("atomic") {
                for a in call.args.iter().skip(1) {
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
                match (&target.kind, op) {
                    (ExprKind::Ident(n), None) if !self.shared.contains(n) => {
                        self.env.define(n, value)
                    }
                    _ => self.assigned(target),
                }
                p
            }
            ExprKind::IncDec { target, .. } => {
                self.read(target, &mut p);
                p = self.index_operands(target, p);
                self.write(target, &mut p);
                self.assigned(target);
                p
            }
            ExprKind::Index(..) => {
                p = self.index_operands(e, p);
                self.read(e, &mut p);
                p
            }
            ExprKind::Unary(UnOp::AddrOf, x) => {
                p = self.expr(x, p);
                self.assigned(x);
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

    /// A local changed: what was known in terms of it no longer holds.
    fn assigned(&mut self, target: &Expr) {
        if let Some(name) = root_var(target)
            && !self.shared.contains(name)
        {
            let name = name.to_string();
            self.env.bump(&name);
            self.env.defs.remove(&name);
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
        let td = self.env.td;
        let first = indices.first()?;
        if indices.len() > 1 {
            if td.varies(first) {
                return Some(Owner {
                    key: expr_key(first),
                    width: i64::MAX,
                    offset: 0,
                });
            }
            // A column: `s[j][tid]` with only one thread-dependent index.
            let varying: Vec<(usize, &&Expr)> = indices
                .iter()
                .enumerate()
                .filter(|(_, i)| td.varies(i))
                .collect();
            return match varying.as_slice() {
                [(d, i)] => Some(Owner {
                    key: format!("{d}:{}", expr_key(i)),
                    width: i64::MAX,
                    offset: 0,
                }),
                _ => None,
            };
        }
        let mut varying = Vec::new();
        let mut uniform = Vec::new();
        let mut offset = 0i64;
        let mut width = None;
        for (t, negative) in signed_addends(first, false) {
            if let ExprKind::Int { value, .. } = &t.kind {
                let v = *value;
                offset = offset.checked_add(if negative { v.checked_neg()? } else { v })?;
                continue;
            }
            if !td.varies(t) {
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

    /// The shared array `e` indexes (`s`, or `storage.field` for a member
    /// array of a shared struct) and what is known of the access.
    fn shared_access(&self, e: &Expr) -> Option<(String, Access)> {
        let ExprKind::Index(..) = &e.kind else {
            return None;
        };
        let mut indices = Vec::new();
        let mut cur = e;
        while let ExprKind::Index(base, idx) = &cur.kind {
            indices.push(idx.as_ref());
            cur = base;
        }
        let root = root_var(cur)?;
        if !self.shared.contains(root) {
            return None;
        }
        let name = expr_key(cur);
        indices.reverse();
        let key = indices
            .iter()
            .map(|i| expr_key(i))
            .collect::<Vec<_>>()
            .join("][");
        let private = indices.iter().any(|i| self.env.td.varies(i));
        let owner = self.owner(&indices);
        let dims: Vec<(Option<Lin>, Range)> = indices
            .iter()
            .map(|i| {
                let l = self.env.lin(i);
                let r = match &l {
                    Some(l) => self.env.range_of_lin(l),
                    None => Range::unbounded(),
                };
                (l, r)
            })
            .collect();
        let lin_snap = self.env.snapshot(
            dims.iter()
                .flat_map(|(l, _)| l.iter().flat_map(|l| l.terms.keys()))
                .map(|a| a.key.as_str()),
        );
        let range_snap = self.env.snapshot(
            dims.iter()
                .flat_map(|(_, r)| r.atoms())
                .map(|a| a.key.as_str()),
        );
        let mut pinned = self.env.pinned();
        pinned.sort();
        let single = self.env.single(&pinned);
        let warp = self.env.one_warp();
        let thread_dims: Vec<(usize, &Lin)> = dims
            .iter()
            .enumerate()
            .filter_map(|(d, (l, _))| {
                l.as_ref()
                    .filter(|l| l.terms.keys().any(|a| self.env.thread_atom(&a.key)))
                    .map(|l| (d, l))
            })
            .collect();
        let lin_owner = match thread_dims.as_slice() {
            [(d, l)]
                if l.terms
                    .keys()
                    .all(|a| !a.varies || self.env.thread_atom(&a.key)) =>
            {
                let snap = self.env.snapshot(l.terms.keys().map(|a| a.key.as_str()));
                Some((format!("{d}:{}", l.display()), snap))
            }
            _ => None,
        };
        let strided = self
            .env
            .strided
            .iter()
            .filter(|v| lin_snap.iter().any(|(n, _)| n == *v))
            .cloned()
            .collect();
        Some((
            name,
            Access {
                key,
                private,
                span: e.span,
                pass: self.pass,
                owner,
                dims,
                lin_snap,
                range_snap,
                pinned,
                single,
                warp,
                strided,
                lin_owner,
                warp_synced: false,
            },
        ))
    }

    /// Whether thread `a` (one thread) is the only one whose accesses of
    /// `b`'s kind touch `a`'s slot: `b` is `a`'s own earlier access
    /// (`s[tid]` written, `s[0]` read under `tid == 0`).
    fn same_thread(&self, a: &Access, b: &Access) -> bool {
        if !a.single {
            return false;
        }
        if b.single && b.pinned == a.pinned {
            return true;
        }
        if !self.env.fresh(&a.lin_snap)
            || !self.env.fresh(&b.lin_snap)
            || a.dims.len() != b.dims.len()
        {
            return false;
        }
        let pin = |l: &Lin| {
            a.pinned
                .iter()
                .try_fold(l.clone(), |l, (k, v)| l.substitute(k, *v))
        };
        let mut depends = false;
        for ((la, _), (lb, _)) in a.dims.iter().zip(&b.dims) {
            let (Some(la), Some(lb)) = (la, lb) else {
                return false;
            };
            // `s[v]` for a block-strided counter `v`: a slot below the block
            // size (a thread index value) is thread `v`'s alone.
            let strided_slot = match lb.terms.iter().collect::<Vec<_>>().as_slice() {
                [(atom, 1)] if lb.c == 0 && b.strided.contains(&atom.key) => {
                    Some(Lin::atom("threadIdx.x".into(), true))
                }
                _ => None,
            };
            let lb = strided_slot.as_ref().unwrap_or(lb);
            depends |= a.pinned.iter().any(|(k, _)| lb.coef(k) != 0);
            match (pin(la), pin(lb)) {
                (Some(x), Some(y)) if x == y => {}
                _ => return false,
            }
        }
        // A slot that varies with the pinned index belongs to one thread.
        depends
    }

    /// Whether some index of the two accesses ranges over values the other
    /// never takes.
    fn disjoint(&self, a: &Access, b: &Access) -> bool {
        a.dims.len() == b.dims.len()
            && self.env.fresh(&a.range_snap)
            && self.env.fresh(&b.range_snap)
            && a.dims
                .iter()
                .zip(&b.dims)
                .any(|((_, x), (_, y))| x.disjoint(y))
    }

    /// Whether the indices show a thread reading (or overwriting) a slot of
    /// another warp: one index differs, as `s[tid]` and `s[255 - tid]` or
    /// `s[tid + 1]`, or the write tells warps apart and the read does not
    /// (`s[warp_id]` and `s[lane]`).
    fn crosses_warps(&self, w: &Access, r: &Access) -> bool {
        if w.warp.is_some() && w.warp == r.warp {
            return false;
        }
        if w.dims.len() != r.dims.len()
            || !self.env.fresh(&w.lin_snap)
            || !self.env.fresh(&r.lin_snap)
        {
            return false;
        }
        let mut differing = Vec::new();
        for ((lw, _), (lr, _)) in w.dims.iter().zip(&r.dims) {
            let (Some(lw), Some(lr)) = (lw, lr) else {
                return false;
            };
            if lw != lr {
                differing.push((lw, lr));
            }
        }
        let [(lw, lr)] = differing.as_slice() else {
            return false;
        };
        let varying =
            |l: &Lin| -> Vec<Atom> { l.terms.keys().filter(|a| a.varies).cloned().collect() };
        let (vw, vr) = (varying(lw), varying(lr));
        // The same thread index on both sides, scaled or shifted.
        if let ([t], [u]) = (vw.as_slice(), vr.as_slice())
            && t == u
            && self.env.thread_atom(&t.key)
        {
            let uniform = |l: &Lin| {
                let mut l = l.clone();
                l.terms.remove(t);
                l.c = 0;
                l
            };
            return uniform(lw) == uniform(lr);
        }
        // Every warp reads the same slots, written by different warps.
        r.warp.is_none()
            && vw.iter().any(|a| self.env.warp_atom(a))
            && vr.iter().all(|a| self.env.lane_atom(a))
    }

    /// Whether the write `w` and the read `r` can touch one slot from two
    /// threads with nothing ordering them (`synced`: the lanes of a warp
    /// met in between).
    fn conflict(&self, w: &Access, r: &Access, synced: bool) -> bool {
        if Owner::same_group(&w.owner, &r.owner) || (w.key == r.key && w.private && r.private) {
            return false;
        }
        if let (Some((wo, ws)), Some((ro, rs))) = (&w.lin_owner, &r.lin_owner)
            && wo == ro
            && self.env.fresh(ws)
            && self.env.fresh(rs)
        {
            return false;
        }
        if self.same_thread(r, w) || self.same_thread(w, r) || self.disjoint(w, r) {
            return false;
        }
        !synced || self.crosses_warps(w, r)
    }

    fn is_carried(&self, pass: u32) -> bool {
        self.carried
            .iter()
            .any(|(first, second)| (*first..*second).contains(&pass))
    }

    fn read(&mut self, e: &Expr, p: &mut Pending) {
        let Some((name, acc)) = self.shared_access(e) else {
            return;
        };
        let conflict = p.writes.get(&name).and_then(|writes| {
            writes
                .iter()
                .find(|w| self.conflict(w, &acc, w.warp_synced))
                .map(|w| w.span)
        });
        if let Some(wspan) = conflict
            && self.reported.insert(e.span)
        {
            self.out
                .push(missing_syncthreads::read_after_write(e.span, &name, wspan));
        }
        add_access(p.reads.entry(name).or_default(), acc);
    }

    fn write(&mut self, e: &Expr, p: &mut Pending) {
        let Some((name, acc)) = self.shared_access(e) else {
            return;
        };
        // Write-after-read across loop iterations: the previous iteration's
        // readers may not be done when this iteration overwrites the array.
        let carried = p.reads.get(&name).and_then(|reads| {
            reads
                .iter()
                .find(|r| self.is_carried(r.pass) && self.conflict(&acc, r, r.warp_synced))
                .map(|r| r.span)
        });
        if let Some(rspan) = carried
            && self.reported.insert(e.span)
        {
            self.out
                .push(missing_syncthreads::write_after_read(e.span, &name, rspan));
        }
        add_access(p.writes.entry(name).or_default(), acc);
    }
}
