//! CUB's block-wide reduction, `cub::BlockReduce<T, BLOCK_DIM_X[, ALGORITHM,
//! BLOCK_DIM_Y, BLOCK_DIM_Z]>` (HeCBench's accuracy, attention, dp, gd,
//! scel, ...): the alias the kernel declares names the reducer, its
//! `TempStorage` becomes a workgroup array of one value per thread, and
//! `R(temp).Sum(x)` / `.Reduce(x, cub::Max())` (optionally over the first
//! `num_valid` threads) a tree reduction over it between barriers. CUB gives
//! the aggregate to thread 0 only; every thread gets it here.
//!
//! Its warp-wide one, `cub::WarpReduce<T>` over the 32 lanes of a warp
//! (HeCBench softmax-online's baseline): `R(temp[w]).Sum(x)` /
//! `.Reduce(x, op)` is the subgroup's reduction (32-lane subgroups), its
//! `TempStorage` needing no memory; every lane gets the aggregate (CUB:
//! lane 0).

use cudalens_syntax::Span;
use std::collections::HashSet;

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{BinOp, Expr, ExprKind, StmtKind, Type as CType};

use crate::context::{BlockReducer, FnLower, Val};
use crate::decl::{Decl, Space};
use crate::emit::WStmt;
use crate::instantiate::split_top_level;
use crate::types::{Scalar, Ty};
use crate::wexpr::WExpr;

/// `typedef cub::BlockReduce<ARGS> NAME;` or `using NAME = cub::BlockReduce<ARGS>;`
/// (or `cub::WarpReduce`) → (NAME, ARGS, whether a warp reduction).
fn alias_of_block_reduce(text: &str) -> Option<(String, String, bool)> {
    let t = text.trim().strip_suffix(';')?.trim();
    let (name, ty) = if let Some(rest) = t.strip_prefix("using ") {
        let (name, ty) = rest.split_once('=')?;
        (name.trim().to_string(), ty.trim().to_string())
    } else {
        let rest = t.strip_prefix("typedef ")?.trim();
        let close = rest.rfind('>')?;
        (
            rest[close + 1..].trim().to_string(),
            rest[..=close].trim().to_string(),
        )
    };
    let ty = ty.trim_start_matches("typename ").trim_start_matches("::");
    let (rest, warp) = match ty.strip_prefix("cub::BlockReduce") {
        Some(rest) => (rest, false),
        None => (ty.strip_prefix("cub::WarpReduce")?, true),
    };
    let args = rest.trim().strip_prefix('<')?.strip_suffix('>')?;
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| (name, args.to_string(), warp))
}

/// The `cub::BlockReduce` aliases `f` declares.
pub(crate) fn block_reduce_aliases(f: &cudalens_syntax::model::Function) -> HashSet<String> {
    let mut out = HashSet::new();
    if let Some(body) = &f.body {
        body.walk(&mut |s| {
            if let StmtKind::Unknown(text) = &s.kind
                && let Some((name, _, false)) = alias_of_block_reduce(text)
            {
                out.insert(name);
            }
        });
    }
    out
}

/// Whether `callee` is `R(temp).Sum` or `R(temp).Reduce` of one of `aliases`.
pub(crate) fn is_reduction_of(callee: &str, aliases: &HashSet<String>) -> bool {
    let Some((receiver, method)) = callee.rsplit_once('.') else {
        return false;
    };
    let alias = receiver.trim().split_once('(').map(|(a, _)| a.trim());
    matches!(method.trim(), "Sum" | "Reduce") && alias.is_some_and(|a| aliases.contains(a))
}

/// The reduction operator of `Reduce(x, op)`: `cub::Sum()`, `cub::Max()`, `cub::Min()`.
fn reduction_operator(model: &FileModel, e: &Expr) -> Option<&'static str> {
    let callee = match &e.kind {
        ExprKind::Call(c) if c.args.is_empty() => c.callee.as_str(),
        ExprKind::Ident(n) => n.as_str(),
        _ => return None,
    };
    // A functor of the file's own (`Max{}` of `struct Max`, whose call
    // operator is `return t > u ? t : u;`): what its body computes.
    if let Some(f) = model.function(&format!("{callee}::operator()")) {
        return functor_reduction(f);
    }
    // A type of the file's own that the model cannot read is no cub functor.
    if model.types.structs.contains_key(callee) {
        return None;
    }
    match callee.trim_start_matches("::").trim_start_matches("cub::") {
        "Sum" => Some("sum"),
        "Max" => Some("max"),
        "Min" => Some("min"),
        _ => None,
    }
}

/// `"sum"`, `"max"` or `"min"` when the call operator `f` (with the
/// object as `this`) returns `a + b`, or `a > b ? a : b` of its two
/// operands in either order and with either comparison (operands possibly
/// passed through `std::forward<T>(a)`); `None` for any other body.
fn functor_reduction(f: &cudalens_syntax::model::Function) -> Option<&'static str> {
    let operands: Vec<&str> = (f.params.iter())
        .filter(|p| p.name != "this")
        .map(|p| p.name.as_str())
        .collect();
    let [a, b] = operands.as_slice() else {
        return None;
    };
    let StmtKind::Block(body) = &f.body.as_deref()?.kind else {
        return None;
    };
    let [only] = body.as_slice() else { return None };
    let StmtKind::Return(Some(value)) = &only.kind else {
        return None;
    };
    let name = |e: &Expr| match &e.kind {
        ExprKind::Ident(n) => Some(n.clone()),
        ExprKind::Call(c)
            if matches!(c.callee.as_str(), "std::forward" | "forward") && c.args.len() == 1 =>
        {
            match &c.args[0].kind {
                ExprKind::Ident(n) => Some(n.clone()),
                _ => None,
            }
        }
        _ => None,
    };
    if let ExprKind::Binary(BinOp::Add, l, r) = &value.kind {
        let (l, r) = (name(l)?, name(r)?);
        let both = [l.as_str(), r.as_str()] == [*a, *b] || [l.as_str(), r.as_str()] == [*b, *a];
        return both.then_some("sum");
    }
    let ExprKind::Ternary(cond, yes, no) = &value.kind else {
        return None;
    };
    let ExprKind::Binary(op, l, r) = &cond.kind else {
        return None;
    };
    let (l, r, yes, no) = (name(l)?, name(r)?, name(yes)?, name(no)?);
    let ordered = [l.as_str(), r.as_str()] == [*a, *b] || [l.as_str(), r.as_str()] == [*b, *a];
    if !ordered || l == r || yes == no {
        return None;
    }
    // `l > r ? l : r` is the larger; `l > r ? r : l` the smaller.
    let picks_left = yes == l && no == r;
    let picks_right = yes == r && no == l;
    match op {
        BinOp::Gt | BinOp::Ge if picks_left => Some("max"),
        BinOp::Gt | BinOp::Ge if picks_right => Some("min"),
        BinOp::Lt | BinOp::Le if picks_left => Some("min"),
        BinOp::Lt | BinOp::Le if picks_right => Some("max"),
        _ => None,
    }
}

impl FnLower<'_, '_> {
    /// A `cub::BlockReduce` alias statement: recorded (nothing to emit).
    /// `false`: not one.
    pub(crate) fn block_reduce_alias(&mut self, text: &str, span: Span) -> bool {
        let Some((name, args, warp)) = alias_of_block_reduce(text) else {
            return false;
        };
        let args = split_top_level(&args);
        if warp {
            return self.warp_reduce_alias(name, &args, span);
        }
        let Some(value) = args.first() else {
            self.m
                .error(span, "`cub::BlockReduce` without a value type");
            return true;
        };
        let value = self.subst_type(&CType::named(value.trim().trim_start_matches("typename ")));
        // BLOCK_DIM_X, then (after the algorithm) BLOCK_DIM_Y and BLOCK_DIM_Z.
        let mut threads: i128 = 1;
        for dim in args
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != 0 && *i != 2)
            .map(|(_, d)| d)
        {
            match self.alias_argument_value(dim) {
                Some(n) if (1..=1024).contains(&n) => threads *= n,
                _ => {
                    self.m.error(
                        span,
                        format!("`cub::BlockReduce` block dimension `{dim}` is not a compile-time integer from 1 to 1024"),
                    );
                    return true;
                }
            }
        }
        if threads > 1024 {
            self.m.error(
                span,
                format!("`cub::BlockReduce` over {threads} threads: a block has at most 1024"),
            );
            return true;
        }
        self.block_reduce.reducers.insert(
            name,
            BlockReducer {
                value,
                threads: threads as u32,
                warp: false,
            },
        );
        true
    }

    /// The value of an alias's integer argument (`256`, `THREADS`, a
    /// template parameter), through the file's macros.
    fn alias_argument_value(&mut self, written: &str) -> Option<i128> {
        let written = written.trim();
        self.template_value(written).or_else(|| {
            let expanded = self.m.model.macros.expand_text(written).ok()?;
            self.template_value(expanded.trim_matches(|c| c == '(' || c == ')' || c == ' '))
        })
    }

    /// `cub::WarpReduce<T[, LOGICAL_WARP_THREADS]>`: a reducer over the 32
    /// lanes of a warp (a narrower logical warp is refused: a subgroup
    /// reduction spans the warp).
    fn warp_reduce_alias(&mut self, name: String, args: &[String], span: Span) -> bool {
        let Some(value) = args.first() else {
            self.m.error(span, "`cub::WarpReduce` without a value type");
            return true;
        };
        if let Some(lanes) = args.get(1)
            && self.alias_argument_value(lanes) != Some(32)
        {
            self.m.error(
                span,
                format!("`cub::WarpReduce` over a logical warp of `{lanes}` threads is not supported (only the whole 32-lane warp: a subgroup reduction spans it)"),
            );
            return true;
        }
        let value = self.subst_type(&CType::named(value.trim().trim_start_matches("typename ")));
        self.block_reduce.reducers.insert(
            name,
            BlockReducer {
                value,
                threads: 32,
                warp: true,
            },
        );
        true
    }

    /// A `typename R::TempStorage v` declaration of a known reducer `R`
    /// (`v[n]`, `arrayed`, of a warp reducer: one per warp): recorded (its
    /// array is declared at the first block reduction). `false`: not one.
    pub(crate) fn block_reduce_storage(&mut self, ty: &CType, var: &str, arrayed: bool) -> bool {
        let base = ty.base.trim().trim_start_matches("typename ").trim();
        let Some(alias) = base.strip_suffix("::TempStorage").map(str::trim) else {
            return false;
        };
        match self.block_reduce.reducers.get(alias) {
            Some(r) if r.warp || !arrayed => {}
            _ => return false,
        }
        self.block_reduce
            .storage
            .insert(var.to_string(), alias.to_string());
        true
    }

    /// `R(temp).Sum(x)`, `R(temp).Sum(x, num_valid)`, `R(temp).Reduce(x, op)`,
    /// `R(temp).Reduce(x, op, num_valid)`. `None`: not a call of a reducer.
    pub(crate) fn block_reduce_call(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let (receiver, method) = name.rsplit_once('.')?;
        let (alias, storage) = receiver.trim().strip_suffix(')')?.split_once('(')?;
        let (alias, storage) = (alias.trim(), storage.trim());
        let reducer = self.block_reduce.reducers.get(alias)?.clone();
        // `WarpReduce(temp[warp_id])`: one storage per warp of an array.
        let storage = match storage.split_once('[') {
            Some((array, _)) if reducer.warp => array.trim(),
            _ => storage,
        };
        if self.block_reduce.storage.get(storage).map(String::as_str) != Some(alias) {
            return Some(self.error(
                span,
                format!("`{alias}({storage})`: `{storage}` is not a `{alias}::TempStorage` of this function"),
            ));
        }
        let kind = if reducer.warp {
            "cub::WarpReduce"
        } else {
            "cub::BlockReduce"
        };
        let (op, valid) = match (method.trim(), args) {
            ("Sum", [_]) => ("sum", None),
            ("Sum", [_, n]) => ("sum", Some(n)),
            ("Reduce", [_, op]) | ("Reduce", [_, op, _]) => {
                match reduction_operator(self.m.model, op) {
                    Some(o) => (o, args.get(2)),
                    None => {
                        return Some(self.error(
                        op.span,
                        format!("`{kind}::Reduce` with an operator other than `cub::Sum()`, `cub::Max()` or `cub::Min()` is not supported"),
                    ));
                    }
                }
            }
            (m, _) => {
                return Some(self.error(
                    span,
                    format!("`{kind}::{m}` with {} argument(s) is not supported (`Sum` and `Reduce` are)", args.len()),
                ));
            }
        };
        let ty = self.map_type(&reducer.value, span);
        if !matches!(
            ty,
            Ty::Scalar(
                Scalar::F32
                    | Scalar::I32
                    | Scalar::U32
                    | Scalar::F64
                    | Scalar::I64
                    | Scalar::U64
                    | Scalar::F16
            )
        ) {
            return Some(self.error(
                span,
                format!(
                    "`cub::BlockReduce` of `{}` is not supported (scalars only)",
                    reducer.value.display()
                ),
            ));
        }
        let x = self.expr(&args[0], out);
        let x = self.convert(x, &ty, span);
        if reducer.warp {
            return Some(self.warp_reduce(alias, method.trim(), op, valid.is_some(), x, span));
        }
        let x = self.materialize(x, "reduce_input", out);
        let threads = WExpr::literal(format!("{}u", reducer.threads));
        let bound = match valid {
            Some(n) => {
                let n = self.expr(n, out);
                let n = self.convert(n, &Ty::U32, span);
                WExpr::call("min", vec![n.expr, threads.clone()])
            }
            None => threads.clone(),
        };
        let array = match self.block_reduce.arrays.get(storage) {
            Some(a) => a.clone(),
            None => {
                let a = self.m.module_name(&format!("{storage}_reduce"));
                self.m.workgroup_vars.push(
                    Decl::var(
                        Space::Workgroup,
                        a.clone(),
                        format!("array<{}, {}>", ty.wgsl(), reducer.threads),
                    )
                    .noted(format!(
                        "`{alias}::TempStorage {storage}`: one value per thread"
                    )),
                );
                self.block_reduce
                    .arrays
                    .insert(storage.to_string(), a.clone());
                a
            }
        };
        let rank = self.expr(&crate::intrinsics::block_thread_rank(span), out);
        let rank = self.convert(rank, &Ty::U32, span);
        let rank = self.materialize(rank, "reduce_rank", out);
        let valid_count = self.fresh("reduce_count");
        let stride = self.fresh("stride");
        let result = self.fresh("block_aggregate");
        let combine = |a: WExpr, b: WExpr| match op {
            "sum" => WExpr::binary(a, "+", b),
            f => WExpr::call(f, vec![a, b]),
        };
        let element = |i: WExpr| WExpr::index(WExpr::name(&array), i);
        let (r, stride_name) = (rank.expr.clone(), WExpr::name(&stride));
        out.push(WStmt::Comment(format!(
            "`{alias}({storage}).{}`: a tree reduction over the block ({} threads) between barriers",
            method.trim(),
            reducer.threads
        )));
        out.push(WStmt::let_(valid_count.clone(), bound));
        out.push(WStmt::If {
            cond: WExpr::binary(r.clone(), "<", threads.clone()),
            then: vec![WStmt::assign(element(r.clone()), x.expr.clone())],
            els: vec![],
        });
        self.barrier(out);
        let pair = WExpr::binary(r.clone(), "+", stride_name.clone());
        let double = WExpr::paren(WExpr::binary(
            WExpr::literal("2u"),
            "*",
            stride_name.clone(),
        ));
        let mut step = vec![WStmt::If {
            cond: WExpr::binary(
                WExpr::binary(
                    WExpr::binary(r.clone(), "%", double),
                    "==",
                    WExpr::literal("0u"),
                ),
                "&&",
                WExpr::binary(pair.clone(), "<", WExpr::name(&valid_count)),
            ),
            then: vec![WStmt::assign(
                element(r.clone()),
                combine(element(r.clone()), element(pair)),
            )],
            els: vec![],
        }];
        self.barrier(&mut step);
        out.push(WStmt::For {
            init: Some(Box::new(WStmt::decl(
                "var",
                stride.clone(),
                None,
                Some(WExpr::literal("1u")),
            ))),
            cond: Some(WExpr::binary(stride_name.clone(), "<", threads)),
            step: Some(Box::new(WStmt::assign(
                stride_name.clone(),
                WExpr::binary(stride_name, "*", WExpr::literal("2u")),
            ))),
            body: step,
        });
        out.push(WStmt::let_(result.clone(), element(WExpr::literal("0"))));
        // The array may be written again by the next reduction.
        self.barrier(out);
        Some(Val::atom(result, ty))
    }

    /// `R(temp[w]).Sum(x)` / `.Reduce(x, op)` of a `cub::WarpReduce`: the
    /// subgroup reduction, on 32-lane subgroups.
    fn warp_reduce(
        &mut self,
        alias: &str,
        method: &str,
        op: &str,
        partial: bool,
        x: Val,
        span: Span,
    ) -> Val {
        if partial {
            return self.error(
                span,
                format!("`{alias}(...).{method}` over the first lanes only (`valid_items`) is not supported: a subgroup reduction spans the warp"),
            );
        }
        if !self.require_warp_subgroups("cub::WarpReduce", span) {
            return Val::error();
        }
        let f = match op {
            "sum" => "subgroupAdd",
            "max" => "subgroupMax",
            _ => "subgroupMin",
        };
        let ty = x.ty.clone();
        Val::atom(WExpr::call(f, vec![x.expr.clone()]), ty)
    }
}
