//! Facts read from the CUDA source that several lowering rooms need:
//! cooperative-groups spellings and reference parameters. A leaf module
//! (it imports no other room), so `context`, `stmt`, `functions` and
//! `unroll` can all use it without import circles.

use cudalens_syntax::ir::{ExprKind, UnOp};
use cudalens_syntax::model::{Function, Param};

use crate::SourceTexts;

/// `cg::thread_block`, `cooperative_groups::thread_block`, `thread_block`.
pub fn is_thread_block_type(base: &str) -> bool {
    strip_cg(base) == "thread_block"
}

/// `cg::this_thread_block` and its spellings.
pub fn is_this_thread_block(callee: &str) -> bool {
    strip_cg(callee) == "this_thread_block"
}

/// A name without its cooperative-groups namespace (`cg::` is the
/// samples' alias, `cooperative_groups::` the real one).
pub fn strip_cg(name: &str) -> &str {
    let name = name.trim().trim_start_matches("::");
    name.strip_prefix("cooperative_groups::")
        .or_else(|| name.strip_prefix("cg::"))
        .unwrap_or(name)
}

/// `cg::sync(g)` or `g.sync()`: a barrier of a cooperative group.
pub fn is_group_sync(callee: &str) -> bool {
    strip_cg(callee) == "sync" || callee.trim_end().ends_with(".sync")
}

/// Whether `f` writes its parameter `p` and `p` may be a reference
/// (`v = ...`, `v.x = ...`, `v++`, or its address taken).
pub fn writes_reference(texts: &SourceTexts<'_>, f: &Function, p: &Param) -> bool {
    let Some(body) = &f.body else { return false };
    let mut writes = false;
    body.walk_exprs(&mut |e| {
        let target = match &e.kind {
            ExprKind::Assign(_, t, _) | ExprKind::IncDec { target: t, .. } => t,
            ExprKind::Unary(UnOp::AddrOf, t) => t,
            _ => return,
        };
        let mut root = &**target;
        while let ExprKind::Member { base, .. } = &root.kind {
            root = base;
        }
        if root.as_ident() == Some(p.name.as_str()) {
            writes = true;
        }
    });
    writes && may_be_reference(texts, f, p)
}

/// Whether `p` is declared as a reference (`float3& v`): the model drops
/// the `&`, so the text before the name is read. Without the function's
/// text, it may be.
fn may_be_reference(texts: &SourceTexts<'_>, f: &Function, p: &Param) -> bool {
    let Some(text) = texts.text_of(f.file.as_deref()) else {
        return true;
    };
    text.get(..p.name_span.start)
        .and_then(|before| before.trim_end().chars().next_back())
        .is_none_or(|c| c == '&')
}
