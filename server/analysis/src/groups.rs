//! The synchronisation model: which calls make every thread of a block wait
//! (`__syncthreads*`, a cooperative-groups block or grid's `.sync()`,
//! `cg::sync(block)`), and which only make the lanes of one warp meet
//! (`__syncwarp`, a tile's `.sync()`, the warp-wide `*_sync` intrinsics).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{CallExpr, Expr, ExprKind};
use cudalens_syntax::model::{Function, is_barrier};

use crate::diagnostic::Span;

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
        // A device function's handle parameters (`cg::thread_block block`).
        for p in &kernel.params {
            g.classify(&p.name, &p.ty.base, None);
        }
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

/// How deep calls are followed to find a barrier in a called function.
const MAX_CALL_DEPTH: usize = 4;

/// A block barrier reached through a call of a device function: every
/// thread of the block must make that call, as if it were the barrier.
#[derive(Clone, Debug)]
pub(crate) struct BarrierInside {
    /// The function called (the call's callee).
    pub(crate) function: String,
    /// The function the barrier is in (`function` or one it calls).
    pub(crate) within: String,
    /// The barrier (`__syncthreads`, `block.sync`) as written.
    pub(crate) barrier: String,
    /// Where it is, when in the analysed file (a header's text is not).
    pub(crate) span: Option<Span>,
}

/// Which device functions of the file reach a block barrier, each decided
/// once per kernel analysis.
pub(crate) struct CalledBarriers<'a> {
    model: &'a FileModel,
    known: RefCell<HashMap<String, Option<BarrierInside>>>,
}

impl<'a> CalledBarriers<'a> {
    pub(crate) fn new(model: &'a FileModel) -> Self {
        CalledBarriers {
            model,
            known: RefCell::new(HashMap::new()),
        }
    }

    /// The block barrier `call` reaches inside the device function it
    /// calls (at any depth up to [`MAX_CALL_DEPTH`]), if any. A barrier
    /// the function makes only on some of its paths counts too: the call
    /// is where the caller's threads must all be.
    pub(crate) fn of_call(&self, call: &CallExpr) -> Option<BarrierInside> {
        self.reached(&call.callee, 0).map(|b| BarrierInside {
            function: call.callee.clone(),
            ..b
        })
    }

    fn reached(&self, callee: &str, depth: usize) -> Option<BarrierInside> {
        if let Some(known) = self.known.borrow().get(callee) {
            return known.clone();
        }
        // Cut cycles: a function being decided reaches nothing through itself.
        self.known.borrow_mut().insert(callee.to_string(), None);
        let found = self
            .model
            .function(callee)
            .filter(|f| f.runs_on_device() && !f.is_kernel())
            .filter(|_| depth < MAX_CALL_DEPTH)
            .and_then(|f| self.inside(f, depth));
        self.known
            .borrow_mut()
            .insert(callee.to_string(), found.clone());
        found
    }

    fn inside(&self, f: &Function, depth: usize) -> Option<BarrierInside> {
        let body = f.body.as_ref()?;
        let groups = Groups::of(f);
        let mut found: Option<BarrierInside> = None;
        let mut calls: Vec<String> = Vec::new();
        body.walk_exprs(&mut |e| {
            if let ExprKind::Call(c) = &e.kind {
                if found.is_none() && groups.is_block_barrier(c) {
                    found = Some(BarrierInside {
                        function: f.name.clone(),
                        within: f.name.clone(),
                        barrier: c.callee.clone(),
                        span: f.in_main_file().then_some(e.span),
                    });
                }
                calls.push(c.callee.clone());
            }
        });
        found.or_else(|| {
            calls
                .iter()
                .filter(|c| **c != f.name)
                .find_map(|c| self.reached(c, depth + 1))
        })
    }
}

/// The thread count of each cooperative-groups handle of `kernel`, for the
/// values of its per-thread methods (`thread_rank()`, `meta_group_rank()`):
/// `None` for the whole block, `Some(n)` for a tile of `n` threads
/// (`thread_block_tile<32>`, `tiled_partition<32>(block)`). A tile whose
/// size is not written as a number is left out.
pub(crate) fn handle_sizes(kernel: &Function) -> std::collections::HashMap<String, Option<u32>> {
    let groups = Groups::of(kernel);
    let mut sizes = std::collections::HashMap::new();
    for name in &groups.block {
        sizes.insert(name.clone(), None);
    }
    // The type and the calls of each handle's initialiser, as text: the
    // size is the first `<N>` in them.
    let mut texts: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let init_text = |base: &str, init: &Expr| {
        let mut text = base.to_string();
        init.walk(&mut |x| match &x.kind {
            ExprKind::Call(c) => {
                text.push_str(&c.callee);
                // `cg::tiled_partition<32>(block)`: the front end keeps a
                // qualified call's template arguments apart.
                if !c.template_args.is_empty() {
                    text.push_str(&format!("<{}>", c.template_args.join(", ")));
                }
            }
            // `tiled_partition<32>(block)` can read as comparisons.
            ExprKind::Int { value, .. } => text.push_str(&format!("<{value}>")),
            _ => {}
        });
        text
    };
    for d in kernel.local_decls() {
        let text = match &d.init {
            Some(init) => init_text(&d.ty.base, init),
            None => d.ty.base.clone(),
        };
        texts.insert(d.name.clone(), text);
    }
    // `cg::thread_block_tile<32> warp = …;` read as an expression (see
    // [`Groups::of`]): the handle is an assignment's target.
    if let Some(body) = &kernel.body {
        body.walk_exprs(&mut |e| {
            if let ExprKind::Assign(None, t, v) = &e.kind
                && let ExprKind::Ident(name) = &t.kind
                && groups.tile.contains(name)
            {
                texts
                    .entry(name.clone())
                    .or_insert_with(|| init_text("", v));
            }
        });
    }
    for name in &groups.tile {
        if let Some(n) = texts.get(name).and_then(|t| template_size(t)) {
            sizes.insert(name.clone(), Some(n));
        }
    }
    sizes
}

/// `32` from `cg::thread_block_tile<32>` (the first `<N>` in `text`).
fn template_size(text: &str) -> Option<u32> {
    let start = text.find('<')? + 1;
    let len = text[start..].find('>')?;
    text[start..start + len]
        .trim()
        .parse()
        .ok()
        .filter(|n: &u32| (1..=1024).contains(n))
}

#[cfg(test)]
mod tests {
    use cudalens_syntax::{BuildOptions, analyze_source};

    #[test]
    fn tile_and_block_handles_have_their_sizes() {
        let src = "namespace cg = cooperative_groups;
__global__ void k(float* out) {
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    auto half = cg::tiled_partition<16>(block);
    out[block.thread_rank()] = warp.thread_rank() + half.thread_rank();
}
";
        let model = analyze_source(src, &BuildOptions::default());
        let sizes = super::handle_sizes(model.function("k").expect("kernel"));
        assert_eq!(sizes.get("block"), Some(&None), "{sizes:?}");
        assert_eq!(sizes.get("warp"), Some(&Some(32)), "{sizes:?}");
        assert_eq!(sizes.get("half"), Some(&Some(16)), "{sizes:?}");
    }
}
