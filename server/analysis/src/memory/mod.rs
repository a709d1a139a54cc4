//! Memory-access cost per warp request: sectors for global memory, bank
//! conflicts for shared memory.

use serde::Serialize;

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{Expr, ExprKind};
use cudalens_syntax::model::Function;

use crate::context::KernelContext;
use crate::diagnostic::{Diagnostic, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemorySpace {
    Global,
    Shared,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    Load,
    Store,
    Atomic,
}

/// One memory access and what a warp request of it costs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccessReport {
    pub kernel: String,
    pub span: Span,
    pub space: MemorySpace,
    pub kind: AccessKind,
    pub element_bytes: u32,
    /// Global: distinct 32-byte sectors one warp request touches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sectors_per_request: Option<u32>,
    /// Global: sectors a perfectly coalesced request of this size needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ideal_sectors: Option<u32>,
    /// Shared: N-way bank conflict (1 = conflict-free).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_conflict_ways: Option<u32>,
    pub block_assumed: bool,
}

pub fn analyze_kernel(
    _model: &FileModel,
    _source: &str,
    _kernel: &Function,
    _contexts: &[KernelContext],
) -> (Vec<AccessReport>, Vec<Diagnostic>) {
    (Vec::new(), Vec::new())
}

/// A canonical text for an expression, ignoring spans (used to compare indices).
pub fn expr_key(e: &Expr) -> String {
    use ExprKind::*;
    match &e.kind {
        Int { value, .. } => value.to_string(),
        Float { value, .. } => format!("{value:?}"),
        Bool(b) => b.to_string(),
        Ident(n) => n.clone(),
        Builtin(b, a) => format!("{}.{}", b.name(), a.name()),
        WarpSize => "warpSize".into(),
        Unary(op, x) => format!("{op:?}({})", expr_key(x)),
        Binary(op, a, b) => format!("({} {} {})", expr_key(a), op.as_str(), expr_key(b)),
        Ternary(c, a, b) => format!("({} ? {} : {})", expr_key(c), expr_key(a), expr_key(b)),
        Index(a, i) => format!("{}[{}]", expr_key(a), expr_key(i)),
        Member { base, field, .. } => format!("{}.{field}", expr_key(base)),
        Cast { ty, expr, .. } => format!("({}){}", ty.display(), expr_key(expr)),
        Call { callee, args, .. } => format!(
            "{callee}({})",
            args.iter().map(expr_key).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}
