//! Pure analyses of the cudalens kernel model: memory-access cost (coalescing,
//! bank conflicts), theoretical occupancy per launch, and correctness lints.
//! No LSP types and no I/O: the server and the CLI map [`FileAnalysis`] to
//! their outputs.
//!
//! Where each diagnostic is computed:
//! - `uncoalesced-access`, `bank-conflict`: [`memory`]
//! - `low-occupancy`, `block-size-not-multiple-of-32`, `launch-exceeds-limit`,
//!   `grid-too-small`: [`launch`]
//! - `barrier-in-divergent-code`, `missing-syncthreads`: [`lints`]
//! - front-end diagnostics (syntax, preprocessor): passed through from `cudalens-syntax`

pub mod context;
pub mod diagnostic;
pub mod divergence;
pub mod launch;
pub mod lints;
pub mod memory;

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use cudalens_syntax::FileModel;

pub use context::{BlockSource, KernelContext};
pub use diagnostic::{Diagnostic, Edit, Fix, RULES, Related};
pub use launch::{KernelReport, LaunchReport, RegisterInfo};
pub use memory::{AccessKind, AccessReport, MemorySpace};

/// Settings that shape the analyses (the LSP settings / CLI flags).
#[derive(Clone, Debug)]
pub struct AnalysisConfig {
    /// Target architecture, e.g. `sm_90`.
    pub arch: String,
    /// Block size assumed when none can be inferred.
    pub default_block: [u32; 3],
    /// Occupancy below this fraction is reported.
    pub occupancy_threshold: f64,
    /// Rules turned off by code.
    pub disabled_rules: HashSet<String>,
    /// Real register counts per kernel name (from nvcc/ptxas), when known.
    pub registers: HashMap<String, u32>,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            arch: "sm_90".into(),
            default_block: [256, 1, 1],
            occupancy_threshold: 0.5,
            disabled_rules: HashSet::new(),
            registers: HashMap::new(),
        }
    }
}

/// Everything cudalens reports about one file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileAnalysis {
    pub diagnostics: Vec<Diagnostic>,
    pub kernels: Vec<KernelReport>,
    pub accesses: Vec<AccessReport>,
}

/// Runs every analysis on a model built from `source`.
pub fn analyze(model: &FileModel, source: &str, config: &AnalysisConfig) -> FileAnalysis {
    let mut out = FileAnalysis::default();
    for d in &model.diagnostics {
        out.diagnostics.push(Diagnostic::new(
            d.span,
            d.severity,
            d.code,
            d.message.clone(),
        ));
    }
    let arch = cudalens_occupancy::Arch::parse(&config.arch)
        .unwrap_or_else(|_| cudalens_occupancy::Arch::parse("sm_90").expect("sm_90 is built in"));
    for kernel in model
        .kernels()
        .filter(|k| k.in_main_file() && k.body.is_some())
    {
        let contexts = context::contexts_for(model, kernel, config);
        let (report, mut diags) = launch::analyze_kernel(model, kernel, &contexts, arch, config);
        out.kernels.push(report);
        out.diagnostics.append(&mut diags);
        let (accesses, mut diags) = memory::analyze_kernel(model, source, kernel, &contexts);
        out.accesses.extend(accesses);
        out.diagnostics.append(&mut diags);
        out.diagnostics.extend(lints::analyze_kernel(model, kernel));
    }
    out.diagnostics
        .retain(|d| !config.disabled_rules.contains(d.code));
    out.diagnostics
        .sort_by_key(|d| (d.span.start, d.span.end, d.code));
    out.diagnostics
        .dedup_by(|a, b| a.span == b.span && a.code == b.code && a.message == b.message);
    out
}
