//! The synchronisation model: which calls make every thread of a block wait
//! (`__syncthreads*`, a cooperative-groups block or grid's `.sync()`,
//! `cg::sync(block)`), and which only make the lanes of one warp meet
//! (`__syncwarp`, a tile's `.sync()`, the warp-wide `*_sync` intrinsics).

use std::collections::HashSet;

use cudalens_syntax::ir::{CallExpr, Expr, ExprKind};
use cudalens_syntax::model::{Function, is_barrier};

/// Warp-wide intrinsics: every lane named in the mask executes the call
/// together, so a warp's lanes meet there.
const WARP_SYNC_CALLS: &[&str] = &[
    "__syncwarp",
    "__shfl_sync",
    "__shfl_up_sync",
    "__shfl_down_sync",
    "__shfl_xor_sync",
    "__ballot_sync",
    "__all_sync",
    "__any_sync",
    "__uni_sync",
    "__match_any_sync",
    "__match_all_sync",
    "__reduce_add_sync",
    "__reduce_min_sync",
    "__reduce_max_sync",
    "__reduce_and_sync",
    "__reduce_or_sync",
    "__reduce_xor_sync",
];

/// The kernel's cooperative-groups handles: which variables are a whole
/// thread block or grid (`cg::this_thread_block()`, `this_grid()`), whose
/// `.sync()` is a block barrier, and which are tiles of a block
/// (`tiled_partition`), whose `.sync()` only orders one warp.
#[derive(Default)]
pub(crate) struct Groups {
    pub(crate) block: HashSet<String>,
    pub(crate) tile: HashSet<String>,
}

impl Groups {
    pub(crate) fn of(kernel: &Function) -> Groups {
        let mut g = Groups::default();
        for d in kernel.local_decls() {
            g.classify(&d.name, &d.ty.base, d.init.as_ref());
        }
        // `cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);`
        // reads as an expression (`a < 32 > (warp = ...)`) when the template
        // is not known: the handle is then the target of an assignment.
        if let Some(body) = &kernel.body {
            body.walk_exprs(&mut |e| {
                if let ExprKind::Assign(None, t, v) = &e.kind
                    && let ExprKind::Ident(name) = &t.kind
                    && !g.block.contains(name)
                    && !g.tile.contains(name)
                {
                    g.classify(name, "", Some(v));
                }
            });
        }
        g
    }

    fn classify(&mut self, name: &str, ty: &str, init: Option<&Expr>) {
        let mut calls = String::new();
        if let Some(i) = init {
            i.walk(&mut |x| {
                if let ExprKind::Call(c) = &x.kind {
                    calls.push_str(&c.callee);
                    calls.push(' ');
                }
            });
        }
        if calls.contains("tiled_partition")
            || calls.contains("coalesced_threads")
            || ty.contains("tile")
            || ty.contains("coalesced_group")
        {
            self.tile.insert(name.to_string());
        } else if calls.contains("this_thread_block")
            || calls.contains("this_grid")
            || ty.ends_with("thread_block")
            || ty.ends_with("grid_group")
        {
            self.block.insert(name.to_string());
        }
    }

    /// Whether a call to `callee(args)` makes every thread of the block wait:
    /// `__syncthreads*`, `block.sync()`, `grid.sync()`, `cg::sync(block)`,
    /// `block.barrier_wait(...)`.
    pub(crate) fn is_block_barrier(&self, call: &CallExpr) -> bool {
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

    /// Whether a call makes the lanes of a warp (or of a tile) meet without
    /// making the whole block wait: `__syncwarp()`, `tile.sync()`,
    /// `cg::sync(tile)`, `__shfl_xor_sync(...)` and the other warp-wide
    /// `*_sync` intrinsics.
    pub(crate) fn is_warp_sync(&self, call: &CallExpr) -> bool {
        let callee = call.callee.as_str();
        let plain = callee.trim_start_matches("::");
        if WARP_SYNC_CALLS.contains(&plain) {
            return true;
        }
        if let Some((recv, method)) = callee.rsplit_once('.') {
            return matches!(method, "sync" | "barrier_wait" | "arrive_and_wait")
                && self.tile.contains(recv);
        }
        if matches!(plain, "cg::sync" | "cooperative_groups::sync" | "sync")
            && let Some(ExprKind::Ident(g)) = call.args.first().map(|a| &a.kind)
        {
            return self.tile.contains(g);
        }
        false
    }
}
