//! Memory-access cost per warp request: sectors for global memory, bank
//! conflicts for shared memory.
//!
//! [`eval`] runs the kernel symbolically for one block and records every
//! access with all threads' addresses; [`cost`] prices one warp request;
//! [`report`] aggregates, writes the diagnostics and proposes fixes;
//! [`verdict`] says whether an access is wasteful, for every consumer.

pub mod cost;
pub mod eval;
pub mod extent;
pub mod lanes;
mod probe;
mod pure_map;
mod render;
mod report;
pub mod verdict;

use serde::Serialize;

pub use probe::RUNTIME_ARGUMENT_NOTE;

use cudalens_syntax::FileModel;
use cudalens_syntax::model::Function;

use crate::context::KernelContext;
use crate::diagnostic::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MemorySpace {
    Global,
    Shared,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessKind {
    Load,
    Store,
    Atomic,
}

/// One memory access and what a warp request of it costs (averaged over the
/// warps of a block and the iterations of loops whose pattern changes).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccessReport {
    /// Shared strings: every edit copies the cached reports of every kernel
    /// into the new analysis.
    pub kernel: std::sync::Arc<str>,
    pub span: Span,
    pub space: MemorySpace,
    pub kind: AccessKind,
    /// The array or pointer accessed.
    pub array: std::sync::Arc<str>,
    pub element_bytes: u32,
    /// Global: distinct 32-byte sectors one warp request touches (average).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sectors_per_request: Option<f64>,
    /// Global: sectors a perfectly coalesced request of the same lanes needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ideal_sectors: Option<f64>,
    /// Shared: N-way bank conflict as Nsight Compute counts it ("L1 Conflicts
    /// Shared N-Way"): wavefronts per warp request, averaged over requests.
    /// A conflict-free 4-byte access is 1-way; 8- and 16-byte accesses need 2
    /// and 4 wavefronts even without conflicts (see `ideal_wavefronts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_conflict_ways: Option<f64>,
    /// Shared: the worst single request (wavefronts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_bank_conflict_ways: Option<u32>,
    /// Shared: wavefronts a conflict-free request of this size needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ideal_wavefronts: Option<f64>,
    /// Warp requests per block (all loop iterations).
    pub requests_per_block: f64,
    /// False when a loop's trip count is unknown (`requests_per_block` then
    /// counts one iteration of it).
    pub requests_exact: bool,
    pub block: [u32; 3],
    pub block_assumed: bool,
    /// The stride between adjacent lanes depends on a runtime value (assumed large).
    pub symbolic_stride: bool,
    /// The cost depends on the alignment of a runtime offset.
    pub alignment_dependent: bool,
}

impl AccessReport {
    pub fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.span = f(self.span);
    }
}

/// Every global and shared access of `kernel` under each configuration, with
/// its diagnostics, and the findings in functions of other files (headers)
/// that it reaches.
pub fn analyze_kernel(
    model: &FileModel,
    source: &str,
    kernel: &Function,
    contexts: &[KernelContext],
) -> report::Analysis {
    report::analyze(model, source, kernel, contexts)
}

pub use cudalens_syntax::ir::expr_key;
