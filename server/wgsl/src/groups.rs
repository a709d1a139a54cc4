//! Cooperative groups' warp tiles: `cg::thread_block_tile<32> t =
//! cg::tiled_partition<32>(block)` (or `auto t = ...`). A tile of 32 threads
//! of the block is its warp: CUDA partitions the block's linear thread
//! ranks into consecutive tiles, as warps are. Its methods lower to the warp
//! intrinsics the transpiler already has (`__shfl_*_sync`, `__syncwarp`,
//! `__any_sync`, ...), so they need subgroups as those do. Tiles of other
//! sizes (a shuffle `width` below the warp) are refused with the reason.
//! A coalesced group (`coalesced_threads()`) is the ballot of the lanes
//! active where it is made.

use cudalens_syntax::Span;
use cudalens_syntax::ir::{BinOp, CallExpr, Expr, ExprKind};

use crate::context::{FnLower, Sym, Val};
use crate::emit::WStmt;
use crate::source_facts::{is_this_thread_block, strip_cg};
use crate::types::Ty;
use crate::types::{Konst, Scalar};
use crate::wexpr::WExpr;

/// The warp a tile must be.
const WARP: i64 = 32;

/// `tiled_partition<N>` (as a callee, with or without its arguments written
/// into the name) → N as written.
fn tiled_partition_size<'a>(callee: &'a str, template_args: &'a [String]) -> Option<&'a str> {
    let bare = strip_cg(callee);
    if let Some(rest) = bare.strip_prefix("tiled_partition") {
        let inside = rest
            .trim()
            .strip_prefix('<')
            .and_then(|r| r.strip_suffix('>'));
        return inside.or_else(|| template_args.first().map(String::as_str));
    }
    None
}

impl FnLower<'_, '_> {
    /// `cg::thread_block_tile<32> t = init;` parsed as an expression
    /// statement (`(thread_block_tile < 32) > t = init`: the parser does not
    /// know the template): declares the tile. False when `e` is not that.
    pub fn misparsed_tile_decl(&mut self, e: &Expr) -> bool {
        // `(T < 32) > t = init` either way round: the assignment on top, or
        // (as the parser recovers) inside the comparison.
        let (lhs, name, init) = match &e.kind {
            ExprKind::Assign(None, target, init) => match &target.kind {
                ExprKind::Binary(BinOp::Gt, lhs, name) => (&**lhs, &**name, &**init),
                _ => return false,
            },
            ExprKind::Binary(BinOp::Gt, lhs, rhs) => match &rhs.kind {
                ExprKind::Assign(None, name, init) => (&**lhs, &**name, &**init),
                _ => return false,
            },
            _ => return false,
        };
        let ExprKind::Binary(BinOp::Lt, ty, size) = &lhs.kind else {
            return false;
        };
        let (Some(ty), Some(name)) = (ty.as_ident(), name.as_ident()) else {
            return false;
        };
        if strip_cg(ty) != "thread_block_tile" {
            return false;
        }
        let size = match &size.kind {
            ExprKind::Int { value, .. } => Some(*value),
            _ => None,
        };
        self.tile_decl(name, size, init, e.span);
        true
    }

    /// Whether `base` (a declared type) is a tile type, or `auto` holding a
    /// `tiled_partition` call.
    pub fn is_tile_decl(&self, base: &str, init: Option<&Expr>) -> bool {
        let bare = strip_cg(base);
        bare.starts_with("thread_block_tile")
            || (bare == "auto"
                && matches!(init.map(|e| &e.kind), Some(ExprKind::Call(c))
                    if tiled_partition_size(&c.callee, &c.template_args).is_some()))
    }

    /// Declares the tile `name` (of `size` threads when the type says) from
    /// `init`, which must be `tiled_partition<32>(block)`.
    pub fn tile_decl(&mut self, name: &str, size: Option<i64>, init: &Expr, span: Span) {
        let ExprKind::Call(call) = &init.kind else {
            self.m.error(
                span,
                "a `thread_block_tile` must be initialised with `tiled_partition<32>(block)`",
            );
            return;
        };
        let Some(written) = tiled_partition_size(&call.callee, &call.template_args) else {
            self.m.error(
                span,
                "a `thread_block_tile` must be initialised with `tiled_partition<32>(block)`",
            );
            return;
        };
        let n = self.template_value(written.trim()).map(|v| v as i64);
        let of_block = call.args.len() == 1
            && (call.args[0]
                .as_ident()
                .is_some_and(|a| matches!(self.lookup(a), Some(Sym::ThreadBlock)))
                || matches!(&call.args[0].kind, ExprKind::Call(c) if is_this_thread_block(&c.callee)));
        if !of_block {
            self.m.error(
                span,
                "cooperative groups: only tiles of the thread block (`tiled_partition<32>(this_thread_block())`) are supported",
            );
            return;
        }
        if n != Some(WARP) || size.is_some_and(|s| s != WARP) {
            self.m.error(
                span,
                format!(
                    "cooperative groups: tiles of {} threads are not supported, only the warp (32): WGSL subgroups have no narrower shuffles",
                    n.map_or_else(|| written.to_string(), |n| n.to_string())
                ),
            );
            return;
        }
        self.declare(name, Sym::Tile);
    }

    /// `cg::reduce(tile, v, cg::plus<T>())` over a warp tile: the subgroup
    /// reduction for the operator (`plus`, `less`, `greater`, `bit_and`,
    /// `bit_or`, `bit_xor`); another operator is refused.
    fn tile_reduce(&mut self, value: &Expr, op: &Expr, span: Span, out: &mut Vec<WStmt>) -> Val {
        let written = match &op.kind {
            ExprKind::Call(c) => c.callee.clone(),
            ExprKind::Ident(n) => n.clone(),
            ExprKind::Unknown(t) => t.clone(),
            // `cg::plus<float>{}`: the front end keeps a compound literal's
            // braces only; its type is read from the text before them.
            ExprKind::InitList(items) if items.is_empty() && !op.from_macro => self
                .function_text()
                .and_then(|t| t.get(..op.span.start))
                .map(type_before)
                .unwrap_or_default(),
            _ => String::new(),
        };
        let name = strip_cg(written.split(['<', '{', '(']).next().unwrap_or(""));
        let v = self.expr(value, out);
        if v.is_error() {
            return v;
        }
        let integer = v.ty.scalar().is_some_and(|s| s.is_int());
        let f = match name {
            "plus" => "subgroupAdd",
            "less" => "subgroupMin",
            "greater" => "subgroupMax",
            "bit_and" if integer => "subgroupAnd",
            "bit_or" if integer => "subgroupOr",
            "bit_xor" if integer => "subgroupXor",
            _ => {
                return self.error(
                    op.span,
                    format!("cooperative groups: `cg::reduce` with `{written}` is not supported (plus, less, greater and, on integers, bit_and, bit_or, bit_xor are)"),
                );
            }
        };
        // The subgroup reduction is the tile's only when the subgroup is
        // the 32-thread tile.
        if !self.require_warp_subgroups("cg::reduce", span) {
            return Val::error();
        }
        let ty = v.ty.clone();
        Val::atom(WExpr::call(f, vec![v.expr.clone()]), ty)
    }

    /// `auto g = cg::coalesced_threads();` (HeCBench's filter, the
    /// warp-aggregated atomic of NVIDIA's blog): the lanes active here, as
    /// the mask of a ballot taken now, so that `g.size()` inside a branch
    /// later still counts them all.
    pub fn coalesced_decl(&mut self, name: &str, span: Span, out: &mut Vec<WStmt>) {
        if !self.require_warp_subgroups("coalesced_threads()", span) {
            return;
        }
        let mask = self.fresh(&format!("{name}_lanes"));
        let ballot = WExpr::call("subgroupBallot", vec![WExpr::literal("true")]);
        out.push(
            WStmt::let_(mask.clone(), WExpr::member(ballot, "x")).noted(format!(
                "`{name}`: the lanes active at `coalesced_threads()`"
            )),
        );
        self.declare(name, Sym::Coalesced(mask));
    }

    /// A method of a coalesced group: `thread_rank()` (active lanes below
    /// this one), `size()`, `shfl(v, 0)` (the group's first lane), `sync()`.
    /// `None`: not a coalesced group's call.
    pub fn coalesced_call(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let (receiver, method) = name.rsplit_once('.')?;
        let Some(Sym::Coalesced(mask)) = self.lookup(receiver.trim()).cloned() else {
            return None;
        };
        self.m.uses.lane_id = true;
        Some(match (method.trim(), args) {
            ("thread_rank", []) => {
                let lane_bit = WExpr::binary(WExpr::literal("1u"), "<<", WExpr::name("lane_id"));
                let below = WExpr::paren(WExpr::binary(WExpr::paren(lane_bit), "-", WExpr::literal("1u")));
                let lanes_below = WExpr::binary(WExpr::name(&mask), "&", below);
                Val::atom(WExpr::call("countOneBits", vec![lanes_below]), Ty::U32)
            }
            ("size" | "num_threads", []) => {
                Val::atom(WExpr::call("countOneBits", vec![WExpr::name(&mask)]), Ty::U32)
            }
            ("sync", []) => Val::void(),
            ("shfl", [v, rank])
                if matches!(rank.kind, ExprKind::Int { value: 0, .. }) =>
            {
                let v = self.expr(v, out);
                if v.is_error() {
                    return Some(v);
                }
                let ty = v.ty.clone();
                let first = WExpr::call("firstTrailingBit", vec![WExpr::name(&mask)]);
                Val::atom(WExpr::call("subgroupShuffle", vec![v.expr, first]), ty)
            }
            (m, _) => self.error(
                span,
                format!("cooperative groups: `{m}` of a coalesced group is not supported (thread_rank, size, sync and shfl from rank 0 are)"),
            ),
        })
    }

    /// A method of a tile (`t.shfl_down(v, 1)`, `t.thread_rank()`, ...) or
    /// `cg::sync(t)`. `None`: not a tile call.
    pub fn tile_call(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let is_tile = |this: &Self, e: &Expr| {
            e.as_ident()
                .is_some_and(|n| matches!(this.lookup(n), Some(Sym::Tile)))
        };
        let method = match name.rsplit_once('.') {
            Some((receiver, method)) if matches!(self.lookup(receiver.trim()), Some(Sym::Tile)) => {
                method.trim()
            }
            _ if strip_cg(name) == "sync" && args.len() == 1 && is_tile(self, &args[0]) => "sync",
            _ if strip_cg(name) == "reduce" && args.len() == 3 && is_tile(self, &args[0]) => {
                return Some(self.tile_reduce(&args[1], &args[2], span, out));
            }
            _ => return None,
        };
        let mk = |kind: ExprKind| Expr {
            kind,
            span,
            from_macro: false,
        };
        let call = |callee: &str, args: Vec<Expr>| {
            mk(ExprKind::Call(Box::new(CallExpr {
                callee: callee.to_string(),
                template_args: Vec::new(),
                args,
                receiver: None,
                arrow: false,
            })))
        };
        let full_mask = || {
            mk(ExprKind::Int {
                value: 0xffff_ffff,
                unsigned: true,
                long: false,
            })
        };
        let int = |v: i64| {
            mk(ExprKind::Int {
                value: v,
                unsigned: true,
                long: false,
            })
        };
        let bin = |op, a: Expr, b: Expr| mk(ExprKind::Binary(op, Box::new(a), Box::new(b)));
        let rank = || crate::intrinsics::block_thread_rank(span);
        let with_mask = |callee: &str| {
            let mut a = vec![full_mask()];
            a.extend(args.iter().cloned());
            call(callee, a)
        };
        let lowered = match method {
            "sync" => call("__syncwarp", Vec::new()),
            "thread_rank" => bin(BinOp::Rem, rank(), int(WARP)),
            "meta_group_rank" => bin(BinOp::Div, rank(), int(WARP)),
            // The block's tiles: ceil(threads / 32).
            "meta_group_size" => {
                let threads = crate::intrinsics::block_thread_count(span);
                bin(
                    BinOp::Div,
                    bin(BinOp::Add, threads, int(WARP - 1)),
                    int(WARP),
                )
            }
            "size" | "num_threads" => {
                return Some(Val::konst(Konst::Int(i128::from(WARP)), Scalar::U32));
            }
            "shfl" if args.len() == 2 => with_mask("__shfl_sync"),
            "shfl_down" if args.len() == 2 => with_mask("__shfl_down_sync"),
            "shfl_up" if args.len() == 2 => with_mask("__shfl_up_sync"),
            "shfl_xor" if args.len() == 2 => with_mask("__shfl_xor_sync"),
            "any" if args.len() == 1 => with_mask("__any_sync"),
            "all" if args.len() == 1 => with_mask("__all_sync"),
            "ballot" if args.len() == 1 => with_mask("__ballot_sync"),
            other => {
                return Some(self.error(
                    span,
                    format!(
                        "cooperative groups: `thread_block_tile::{other}` is not supported yet"
                    ),
                ));
            }
        };
        Some(self.expr(&lowered, out))
    }
}

/// The type name written just before a compound literal's braces
/// (`... cg::plus<float>` → `cg::plus<float>`): template arguments, then a
/// name with its `::` qualifiers.
fn type_before(text: &str) -> String {
    let t = text.trim_end();
    let mut end = t.len();
    if t.ends_with('>') {
        let mut depth = 0i32;
        let mut open = None;
        for (i, c) in t.char_indices().rev() {
            match c {
                '>' => depth += 1,
                '<' => {
                    depth -= 1;
                    if depth == 0 {
                        open = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(open) = open else {
            return String::new();
        };
        end = open;
    }
    let head = &t[..end];
    let start = head
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_alphanumeric() || c == '_' || c == ':'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    t[start..].to_string()
}
