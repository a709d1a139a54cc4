//! `check --format json`: a stable, versioned report. Ranges are LSP ranges
//! (0-based lines, UTF-16 columns) so editors and bots can use them as is.
//! Adding keys is compatible; renaming or removing them bumps [`VERSION`].

use serde::Serialize;

use cudalens_analysis::{AccessReport, Diagnostic, FileAnalysis, KernelReport, LaunchReport};
use cudalens_syntax::Span;
use cudalens_syntax::{LineIndex, Position};

pub const VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Report {
    pub version: u32,
    pub files: Vec<FileReport>,
    /// Files not analysed (binary, too large, unreadable), with the reason.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Serialize)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Serialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

#[derive(Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    pub kernels: Vec<Kernel>,
    pub accesses: Vec<Access>,
    pub diagnostics: Vec<Diag>,
}

#[derive(Debug, Serialize)]
pub struct Kernel {
    pub name: String,
    /// `null` for a kernel defined in an included file (`file`), reported
    /// here for this file's launches of it.
    pub range: Option<Range>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub block: Option<[u32; 3]>,
    pub block_source: cudalens_analysis::BlockSource,
    pub registers: u32,
    pub registers_estimated: bool,
    /// `[low, high]` of the estimate (equal when nvcc measured them).
    pub registers_range: [u32; 2],
    pub static_smem: Option<u64>,
    pub launches: Vec<Launch>,
}

#[derive(Debug, Serialize)]
pub struct Launch {
    /// `null` for the assumed configuration of a kernel launched nowhere in
    /// the file, and for a launch made in another file (`launched_in`).
    pub range: Option<Range>,
    /// `file:line` of a launch made in another file that includes this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launched_in: Option<String>,
    pub block: [u32; 3],
    pub grid: Option<[i64; 3]>,
    pub dynamic_smem: Option<u64>,
    /// The launch passes dynamic shared memory of a run-time size: not
    /// counted, so `occupancy` is an upper bound and `occupancy_range`
    /// reaches down to one block per SM.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dynamic_smem_unresolved: bool,
    pub active_blocks_per_sm: Option<u32>,
    /// Fraction of the SM's warp slots in use (0–1), at the low end of an
    /// estimated register range.
    pub occupancy: Option<f64>,
    /// `[at the high end, at the low end]` of the register range (equal
    /// when the registers are measured or the range does not matter); the
    /// low end also takes in dynamic shared memory of a run-time size.
    pub occupancy_range: Option<[f64; 2]>,
    pub limiter: Option<&'static str>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Access {
    pub kernel: String,
    pub range: Range,
    pub space: cudalens_analysis::MemorySpace,
    pub kind: cudalens_analysis::AccessKind,
    /// The array or pointer accessed.
    pub array: String,
    pub element_bytes: u32,
    /// Global: 32-byte sectors one warp request touches (averaged over warps and iterations).
    pub sectors_per_request: Option<f64>,
    pub ideal_sectors: Option<f64>,
    /// Shared: wavefronts per warp request ("N-way" as Nsight Compute counts it), averaged.
    pub bank_conflict_ways: Option<f64>,
    /// Shared: the wavefronts a conflict-free request of the same width needs
    /// (1 for 4-byte elements, 2 for 8, 4 for 16).
    pub ideal_wavefronts: Option<f64>,
    pub block_assumed: bool,
}

#[derive(Debug, Serialize)]
pub struct Diag {
    pub range: Range,
    pub severity: &'static str,
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
}

#[derive(Debug, Serialize)]
pub struct Related {
    pub range: Range,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct Fix {
    pub title: String,
    pub safe: bool,
    pub edits: Vec<Edit>,
}

#[derive(Debug, Serialize)]
pub struct Edit {
    pub range: Range,
    pub new_text: String,
}

/// The report of one analysed file.
pub fn file_report(path: String, index: &LineIndex, analysis: &FileAnalysis) -> FileReport {
    let range = |span: Span| Range {
        start: index.position(span.start),
        end: index.position(span.end),
    };
    FileReport {
        path,
        kernels: analysis.kernels.iter().map(|k| kernel(k, &range)).collect(),
        accesses: analysis
            .accesses
            .iter()
            .map(|a| access(a, &range))
            .collect(),
        diagnostics: analysis
            .diagnostics
            .iter()
            .map(|d| diag(d, &range))
            .collect(),
    }
}

fn kernel(k: &KernelReport, range: &dyn Fn(Span) -> Range) -> Kernel {
    Kernel {
        name: k.name.clone(),
        range: k.file.is_none().then(|| range(k.span)),
        file: k.file.as_ref().map(|f| f.display().to_string()),
        block: k.block,
        block_source: k.block_source,
        registers: k.registers.count,
        registers_estimated: k.registers.estimated,
        registers_range: [k.registers.low, k.registers.high],
        static_smem: k.static_smem,
        launches: k.launches.iter().map(|l| launch(l, range)).collect(),
    }
}

fn launch(l: &LaunchReport, range: &dyn Fn(Span) -> Range) -> Launch {
    Launch {
        range: l.span.map(range),
        launched_in: l.launched_in.clone(),
        block: l.block,
        grid: l.grid,
        dynamic_smem: l.dynamic_smem,
        dynamic_smem_unresolved: l.dynamic_smem_unresolved.is_some(),
        active_blocks_per_sm: l.occupancy.as_ref().map(|o| o.active_blocks_per_sm),
        occupancy: l.occupancy.as_ref().map(|o| o.occupancy),
        occupancy_range: l.occupancy.as_ref().map(|o| {
            let mut low = o
                .at_high_registers
                .as_ref()
                .map_or(o.occupancy, |h| h.occupancy);
            if l.dynamic_smem_unresolved.is_some() {
                // Uncounted shared memory can leave room for one block.
                let warps = l
                    .block
                    .iter()
                    .map(|&d| d as u64)
                    .product::<u64>()
                    .div_ceil(32);
                low = low.min(warps as f64 / o.max_warps_per_sm.max(1) as f64);
            }
            [low, o.occupancy]
        }),
        limiter: l.occupancy.as_ref().map(|o| o.limiter.as_str()),
        error: l.error.clone(),
    }
}

fn access(a: &AccessReport, range: &dyn Fn(Span) -> Range) -> Access {
    Access {
        kernel: a.kernel.to_string(),
        range: range(a.span),
        space: a.space,
        kind: a.kind,
        array: a.array.to_string(),
        element_bytes: a.element_bytes,
        sectors_per_request: a.sectors_per_request,
        ideal_sectors: a.ideal_sectors,
        bank_conflict_ways: a.bank_conflict_ways,
        ideal_wavefronts: a.ideal_wavefronts,
        block_assumed: a.block_assumed,
    }
}

fn diag(d: &Diagnostic, range: &dyn Fn(Span) -> Range) -> Diag {
    Diag {
        range: range(d.span),
        severity: d.severity.as_str(),
        code: d.code,
        message: d.message.clone(),
        related: d
            .related
            .iter()
            .map(|r| Related {
                range: range(r.span),
                message: r.message.clone(),
            })
            .collect(),
        fixes: d
            .fixes
            .iter()
            .map(|f| Fix {
                title: f.title.clone(),
                safe: f.safe,
                edits: f
                    .edits
                    .iter()
                    .map(|e| Edit {
                        range: range(e.span),
                        new_text: e.new_text.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
