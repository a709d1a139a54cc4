//! Typed parameters and results of every protocol message (see `plugins/PROTOCOL.md`).
//!
//! Every field a peer may omit has a serde default, and unknown fields are kept (kernel
//! model) or ignored (everything else), so newer hosts and older plugins interoperate
//! within one major protocol version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The protocol version this crate implements. Peers must agree on the major part.
pub const PROTOCOL_VERSION: &str = "1.1";

/// Method names.
pub mod methods {
    /// host → plugin request: handshake.
    pub const INITIALIZE: &str = "initialize";
    /// host → plugin request: diagnose one kernel.
    pub const ANALYZE: &str = "analyze";
    /// host → plugin request: tune one kernel, calling back `host/benchmark`.
    pub const TUNE: &str = "tune";
    /// host → plugin request: prepare to exit.
    pub const SHUTDOWN: &str = "shutdown";
    /// host → plugin notification: exit now.
    pub const EXIT: &str = "exit";
    /// plugin → host request: time one variant of the kernel being tuned.
    pub const HOST_BENCHMARK: &str = "host/benchmark";
    /// plugin → host notification: a log line for the plugin's output channel.
    pub const LOG: &str = "$/log";
}

/// Returns true when `version` has the same major number as [`PROTOCOL_VERSION`].
pub fn is_compatible_version(version: &str) -> bool {
    let major = |v: &str| v.split('.').next().map(str::trim).map(str::to_owned);
    major(version).is_some_and(|m| Some(m) == major(PROTOCOL_VERSION))
}

/// A zero-based position; `character` counts UTF-16 code units, exactly like LSP.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Position {
    pub line: u32,
    pub character: u32,
}

impl Position {
    pub const fn new(line: u32, character: u32) -> Self {
        Position { line, character }
    }
}

/// A half-open range `[start, end)` in a document.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Range {
    pub start: Position,
    pub end: Position,
}

impl Range {
    pub const fn new(start: Position, end: Position) -> Self {
        Range { start, end }
    }
}

/// Diagnostic severity, spelled as lowercase strings on the wire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    #[default]
    Warning,
    Information,
    Hint,
}

// ---------------------------------------------------------------- initialize

/// Identifies the host (or any program) by name and version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostInfo {
    pub name: String,
    pub version: String,
}

/// `initialize` request parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InitializeParams {
    pub protocol_version: String,
    pub host: HostInfo,
    /// Plugin-specific options from the plugin's configuration entry (`null` when none).
    #[serde(default)]
    pub options: Value,
}

/// What a plugin can do; the host only sends requests the plugin declared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// Answers `analyze` with diagnostics.
    #[serde(default)]
    pub diagnostics: bool,
    /// Answers `analyze` with code actions.
    #[serde(default)]
    pub code_actions: bool,
    /// Answers `tune`.
    #[serde(default)]
    pub tuning: bool,
}

/// `initialize` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InitializeResult {
    pub name: String,
    pub version: String,
    pub protocol_version: String,
    #[serde(default)]
    pub capabilities: Capabilities,
}

// ---------------------------------------------------------------- kernel model

/// One kernel parameter as written in the source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KernelParameter {
    pub name: String,
    #[serde(rename = "type", default)]
    pub ty: String,
}

/// A `__shared__` array declared in the kernel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SharedArray {
    pub name: String,
    #[serde(default)]
    pub element_type: String,
    /// Size in bytes when statically known.
    #[serde(default)]
    pub bytes: Option<u64>,
}

/// A diagnostic produced by cudalens' own analysis, forwarded to plugins as context.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisDiagnostic {
    pub code: String,
    pub message: String,
    pub range: Range,
    #[serde(default)]
    pub severity: Option<Severity>,
}

/// Metrics cudalens computed for one global/shared memory access.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessMetrics {
    pub range: Range,
    /// The array or pointer accessed.
    #[serde(default)]
    pub array: String,
    /// Pattern class, e.g. `coalesced`, `strided`, `broadcast`, `random`.
    #[serde(default)]
    pub pattern: String,
    /// Any further numbers (transactions per request, bank conflicts, ...).
    #[serde(flatten)]
    pub metrics: Map<String, Value>,
}

/// cudalens' own analysis results for the kernel.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalysisResults {
    #[serde(default)]
    pub diagnostics: Vec<AnalysisDiagnostic>,
    #[serde(default)]
    pub accesses: Vec<AccessMetrics>,
}

/// The GPU adapter the host benchmarks on, when one is available.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AdapterInfo {
    pub name: String,
    /// e.g. `vulkan`, `cuda`, `metal`.
    #[serde(default)]
    pub backend: String,
    /// Device limits as reported by the backend (free-form object).
    #[serde(default)]
    pub limits: Value,
}

/// The model of one kernel sent with `analyze` and `tune`. The typed fields are the stable
/// core; everything else the host sends is kept in `extra` so plugins can use it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KernelModel {
    pub name: String,
    /// Document the kernel lives in.
    pub uri: String,
    /// Source text of the kernel, starting at `range.start`.
    #[serde(default)]
    pub source: String,
    /// The kernel's range in the document.
    #[serde(default)]
    pub range: Range,
    /// Block dimensions when cudalens could resolve them from a launch site.
    #[serde(default)]
    pub block: Option<[u32; 3]>,
    #[serde(default)]
    pub parameters: Vec<KernelParameter>,
    #[serde(default)]
    pub shared_arrays: Vec<SharedArray>,
    #[serde(default)]
    pub analysis: AnalysisResults,
    /// Target architecture, e.g. `sm_90`.
    #[serde(default)]
    pub target_arch: Option<String>,
    #[serde(default)]
    pub adapter: Option<AdapterInfo>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

// ---------------------------------------------------------------- analyze

/// `analyze` request parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeParams {
    pub kernel: KernelModel,
}

/// A text replacement. `uri` defaults to the kernel's document when absent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TextEdit {
    pub range: Range,
    pub new_text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
}

/// A fix the editor can apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CodeAction {
    pub title: String,
    pub edits: Vec<TextEdit>,
    #[serde(default)]
    pub is_preferred: bool,
}

/// A diagnostic reported by a plugin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PluginDiagnostic {
    pub range: Range,
    #[serde(default)]
    pub severity: Severity,
    pub code: String,
    pub message: String,
    /// Edits that fix the diagnostic, offered as a quick fix.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<TextEdit>,
}

/// `analyze` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AnalyzeResult {
    #[serde(default)]
    pub diagnostics: Vec<PluginDiagnostic>,
    #[serde(default)]
    pub code_actions: Vec<CodeAction>,
}

// ---------------------------------------------------------------- tune

/// Where and how the kernel is launched, so a tuner can rewrite the block argument.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LaunchSite {
    /// Document of the launch (may differ from the kernel's).
    pub uri: String,
    /// Range of the block argument inside `<<<grid, block>>>`.
    pub block_arg_range: Range,
    /// Its current text, e.g. `256`, `dim3(16, 16)`, `threads`.
    #[serde(default)]
    pub block_arg_text: String,
    /// Range of the grid argument, when it is written at the launch (not a macro).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_arg_range: Option<Range>,
    /// Its current text, e.g. `(n + 255) / 256`, `dim3((w + 15) / 16, (h + 15) / 16)`.
    #[serde(default)]
    pub grid_arg_text: String,
}

/// Device limits relevant to choosing a block shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockLimits {
    #[serde(default = "default_max_threads")]
    pub max_threads_per_block: u32,
    #[serde(default = "default_max_dims")]
    pub max_block_dims: [u32; 3],
    #[serde(default = "default_warp")]
    pub warp_size: u32,
}

fn default_max_threads() -> u32 {
    1024
}
fn default_max_dims() -> [u32; 3] {
    [1024, 1024, 64]
}
fn default_warp() -> u32 {
    32
}

impl Default for BlockLimits {
    fn default() -> Self {
        BlockLimits {
            max_threads_per_block: default_max_threads(),
            max_block_dims: default_max_dims(),
            warp_size: default_warp(),
        }
    }
}

/// `tune` request parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TuneParams {
    pub kernel: KernelModel,
    /// Range of the declaration head, from `__global__` up to (not including) the kernel
    /// name, e.g. `__global__ void ` or `__global__ __launch_bounds__(128) void `.
    pub declaration_range: Range,
    /// The text in `declaration_range`.
    #[serde(default)]
    pub declaration_text: String,
    #[serde(default)]
    pub launch: Option<LaunchSite>,
    #[serde(default)]
    pub limits: BlockLimits,
    /// True when the kernel is indexed in two dimensions (uses `threadIdx.y`).
    #[serde(default)]
    pub is_2d: bool,
    /// True when the kernel has a loop whose unroll factor the host can override
    /// (via the `unroll` field of a variant).
    #[serde(default)]
    pub unroll_allowed: bool,
    /// The loops a variant's `unroll` applies to, where `#pragma unroll N` would go.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unroll_loops: Vec<LoopSite>,
}

/// A loop the host can unroll.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoopSite {
    /// The `for` statement.
    pub range: Range,
    /// The whitespace that starts the loop's line (for an inserted pragma line).
    #[serde(default)]
    pub indent: String,
    /// An existing `#pragma unroll ...` line right above the loop (to replace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pragma_range: Option<Range>,
}

/// One configuration to benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Variant {
    pub block: [u32; 3],
    /// Preprocessor defines / constant overrides to apply when compiling this variant.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub defines: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unroll: Option<u32>,
}

impl Variant {
    pub fn with_block(block: [u32; 3]) -> Self {
        Variant {
            block,
            ..Variant::default()
        }
    }

    pub fn threads(&self) -> u64 {
        self.block.iter().map(|&d| u64::from(d)).product()
    }

    /// Human label: `256`, `16x16`, `8x8x4`, plus ` unroll 4` when set.
    pub fn label(&self) -> String {
        let [x, y, z] = self.block;
        let mut s = match (y, z) {
            (1, 1) => x.to_string(),
            (_, 1) => format!("{x}x{y}"),
            _ => format!("{x}x{y}x{z}"),
        };
        if let Some(u) = self.unroll {
            s.push_str(&format!(" unroll {u}"));
        }
        s
    }
}

/// `host/benchmark` request parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkParams {
    pub variant: Variant,
}

/// `host/benchmark` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    pub ok: bool,
    #[serde(default)]
    pub median_ms: Option<f64>,
    #[serde(default)]
    pub gbps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl BenchResult {
    pub fn success(median_ms: f64, gbps: Option<f64>) -> Self {
        BenchResult {
            ok: true,
            median_ms: Some(median_ms),
            gbps,
            error: None,
        }
    }

    pub fn failure(error: impl Into<String>) -> Self {
        BenchResult {
            ok: false,
            median_ms: None,
            gbps: None,
            error: Some(error.into()),
        }
    }
}

/// One measured row of a tuning table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TuneRow {
    pub variant: Variant,
    pub result: BenchResult,
}

/// `tune` result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TuneResult {
    pub recommendation: Variant,
    pub table: Vec<TuneRow>,
    pub explanation: String,
    #[serde(default)]
    pub code_action: Option<CodeAction>,
}

/// `$/log` notification parameters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogParams {
    #[serde(default)]
    pub level: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kernel_model_keeps_unknown_fields_and_defaults_missing_ones() {
        let kernel: KernelModel = serde_json::from_value(json!({
            "name": "saxpy", "uri": "file:///a.cu", "future_field": [1, 2]
        }))
        .unwrap();
        assert_eq!(kernel.block, None);
        assert_eq!(kernel.extra["future_field"], json!([1, 2]));
        let back = serde_json::to_value(&kernel).unwrap();
        assert_eq!(back["future_field"], json!([1, 2]));
    }

    #[test]
    fn version_compatibility_is_by_major() {
        assert!(is_compatible_version("1.0"));
        assert!(is_compatible_version("1.7"));
        assert!(!is_compatible_version("2.0"));
        assert!(!is_compatible_version(""));
    }

    #[test]
    fn variant_labels() {
        assert_eq!(Variant::with_block([256, 1, 1]).label(), "256");
        assert_eq!(Variant::with_block([16, 16, 1]).label(), "16x16");
        let v = Variant {
            unroll: Some(4),
            ..Variant::with_block([128, 1, 1])
        };
        assert_eq!(v.label(), "128 unroll 4");
    }
}
