//! How far into each buffer a kernel can reach for one launch: the largest
//! byte address of every global access over all threads of the grid, from
//! the symbolic run of one block ([`super::eval`]) with `blockIdx` ranging
//! over the grid and each loop's iteration over its trip count. A benchmark
//! sizes its buffers from it (PolyBench's atax: a 1-D grid of `nx` threads
//! each walking a row of an `nx × ny` matrix reaches `nx · ny` elements, not
//! `grid × block`).
//!
//! Precision before recall: a buffer's extent is only given when every
//! access to it was evaluated with an address made of known quantities
//! (thread and block indices, grid size, known scalars, loops with a known
//! trip count); otherwise it is `None`.

use std::collections::{HashMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{ExprKind, UnOp};
use cudalens_syntax::model::Function;

use super::MemorySpace;
use super::eval::Interp;
use super::lanes::{Poly, Sym};
use crate::context::KernelContext;

/// Per pointer parameter of `kernel`, the bytes it can access under `ctx`
/// (its block size, scalar values) on a grid of `grid` blocks: one past the
/// largest byte any thread touches, `Some(0)` when it is never accessed,
/// `None` when the analysis cannot bound it.
pub fn buffer_extents(
    model: &FileModel,
    kernel: &Function,
    ctx: &KernelContext,
    grid: [u32; 3],
) -> HashMap<String, Option<u64>> {
    let pointers: Vec<&str> = kernel
        .params
        .iter()
        .filter(|p| p.ty.pointer > 0)
        .map(|p| p.name.as_str())
        .collect();
    let unknown = || pointers.iter().map(|p| (p.to_string(), None)).collect();
    let Some(body) = &kernel.body else {
        return unknown();
    };
    // Accesses in device functions are not matched against their events
    // below: a kernel calling one is not bounded.
    let mut calls_device_code = false;
    body.walk_exprs(&mut |e| {
        if let ExprKind::Call(call) = &e.kind
            && model
                .function(call.callee.trim_start_matches("::"))
                .is_some_and(|f| f.body.is_some())
        {
            calls_device_code = true;
        }
    });
    if calls_device_code {
        return unknown();
    }
    let file_env = model.const_env();
    let env = ctx.env(&file_env);
    let mut interp = Interp::new(model, env, ctx);
    interp.run(kernel);
    if interp.exhausted() {
        return unknown();
    }
    // Every subscript and dereference of the body must have left an event,
    // else an access was not understood (its root may be any buffer).
    let locals: HashSet<&str> = kernel
        .local_decls()
        .into_iter()
        .filter(|d| !d.dims.is_empty() && !d.is_extern)
        .map(|d| d.name.as_str())
        .collect();
    let recorded: HashSet<(usize, usize)> = interp
        .events
        .iter()
        .map(|e| (e.span.start, e.span.end))
        .collect();
    // An atomic's event is at its `&p[i]` argument.
    let atomics: Vec<(usize, usize)> = interp
        .events
        .iter()
        .filter(|e| e.kind == super::AccessKind::Atomic)
        .map(|e| (e.span.start, e.span.end))
        .collect();
    let is_recorded = |start: usize, end: usize| {
        recorded.contains(&(start, end)) || atomics.iter().any(|&(s, e)| s <= start && end <= e)
    };
    let mut missed = false;
    body.walk_exprs(&mut |e| {
        let base = match &e.kind {
            ExprKind::Index(base, _) => base,
            ExprKind::Unary(UnOp::Deref, base) => base,
            _ => return,
        };
        // `tile[i][j]`: the outer subscript is the access.
        if matches!(base.kind, ExprKind::Index(..)) {
            return;
        }
        let local_array = base.as_ident().is_some_and(|n| locals.contains(n));
        if !local_array && !is_recorded(e.span.start, e.span.end) {
            missed = true;
        }
    });
    if missed {
        return unknown();
    }
    let mut out: HashMap<String, Option<u64>> =
        pointers.iter().map(|p| (p.to_string(), Some(0))).collect();
    let ranges = |s: Sym| -> Option<(i64, i64)> {
        let name = interp.syms.name(s);
        let axis = |a: &str| match a {
            "x" => Some(0),
            "y" => Some(1),
            "z" => Some(2),
            _ => None,
        };
        if let Some(a) = name.strip_prefix("blockIdx.").and_then(axis) {
            return Some((0, i64::from(grid[a].max(1)) - 1));
        }
        if let Some(a) = name.strip_prefix("gridDim.").and_then(axis) {
            return Some((i64::from(grid[a]), i64::from(grid[a])));
        }
        interp.iteration_ranges.get(&s).copied()
    };
    for event in &interp.events {
        if event.space != MemorySpace::Global {
            continue;
        }
        let Some(slot) = out.get_mut(&event.root) else {
            continue;
        };
        let Some(current) = *slot else { continue };
        let reach = (0..interp.n)
            .filter(|&t| event.active.get(t).copied().unwrap_or(false))
            .map(|t| max_of(&event.address, t, &ranges))
            .try_fold(i64::MIN, |acc, m| m.map(|m| acc.max(m)));
        *slot = match reach {
            Some(i64::MIN) => Some(current),
            Some(max) => u64::try_from(max.saturating_add(i64::from(event.element_bytes)))
                .ok()
                .map(|end| current.max(end)),
            None => None,
        };
    }
    out
}

/// The largest value thread `t`'s `address` takes with each symbol in its
/// range (`None`: a symbol has no known range, or the value overflows).
fn max_of(address: &Poly, t: usize, ranges: &dyn Fn(Sym) -> Option<(i64, i64)>) -> Option<i64> {
    let mut total: i64 = 0;
    for (mono, coeff) in &address.terms {
        let c = coeff.get(t);
        let (mut lo, mut hi) = (c, c);
        for &s in mono {
            let (a, b) = ranges(s)?;
            let corners = [
                lo.checked_mul(a)?,
                lo.checked_mul(b)?,
                hi.checked_mul(a)?,
                hi.checked_mul(b)?,
            ];
            lo = *corners.iter().min()?;
            hi = *corners.iter().max()?;
        }
        total = total.checked_add(hi)?;
    }
    Some(total)
}
