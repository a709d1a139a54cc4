//! `cudalens-learned-tuner`: predicts the best block size from kernel and adapter features
//! with a small MLP trained on benchmark history, falling back to heuristics until the
//! history is large enough. `cudalens-learned-tuner --evaluate` prints the synthetic
//! hold-out evaluation and `--evaluate-history FILE` the leave-one-kernel-out evaluation
//! on a real history export (`cudalens history export`), both quoted in `plugins/README.md`.

mod features;
mod holdout;
mod mlp;
mod rng;
mod synthetic;
mod tuner;

use std::path::Path;

use cudalens_plugin_protocol::{
    AnalyzeParams, AnalyzeResult, Capabilities, HostLink, InitializeParams, InitializeResult,
    KernelModel, PROTOCOL_VERSION, Plugin, PluginDiagnostic, RpcError, Severity, TuneParams,
    TuneResult, TuneRow, Variant, serve_stdio,
};
use serde_json::Value;

use crate::features::{AdapterFeatures, KernelFeatures, Record, block_label};
use crate::mlp::TrainConfig;
use crate::tuner::{Prediction, Thresholds, Tuner};

/// How many of the top-ranked candidates `tune` measures.
const MEASURED_CANDIDATES: usize = 3;

struct LearnedTuner {
    tuner: Tuner,
}

/// Reads a JSON-lines history; malformed lines are counted and skipped.
fn load_history(path: &Path) -> Result<(Vec<Record>, usize), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut skipped = 0;
    let records = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter_map(|l| serde_json::from_str(l).inspect_err(|_| skipped += 1).ok())
        .collect();
    Ok((records, skipped))
}

fn option_usize(options: &Value, key: &str) -> Option<usize> {
    options.get(key).and_then(Value::as_u64).map(|v| v as usize)
}

/// Kernel features: the host's `features` object when it sends one, else what the kernel
/// model shows (shared arrays, access patterns, block dimensionality).
fn kernel_features(kernel: &KernelModel, is_2d_hint: bool) -> KernelFeatures {
    if let Some(f) = kernel
        .extra
        .get("features")
        .and_then(|f| serde_json::from_value(f.clone()).ok())
    {
        return f;
    }
    let mut counts = std::collections::HashMap::<&str, usize>::new();
    for access in &kernel.analysis.accesses {
        *counts.entry(access.pattern.as_str()).or_default() += 1;
    }
    let access_pattern = counts
        .into_iter()
        .max_by_key(|(p, n)| (*n, *p))
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default();
    KernelFeatures {
        access_pattern,
        shared_mem_bytes: kernel.shared_arrays.iter().filter_map(|a| a.bytes).sum(),
        is_2d: is_2d_hint || kernel.block.is_some_and(|b| b[1] > 1),
        ..serde_json::from_value(Value::Object(Default::default())).unwrap_or_default()
    }
}

fn adapter_features(kernel: &KernelModel) -> AdapterFeatures {
    let Some(adapter) = &kernel.adapter else {
        return AdapterFeatures::default();
    };
    let name = adapter.name.to_ascii_lowercase();
    let vendor = ["nvidia", "amd", "radeon", "intel"]
        .into_iter()
        .find(|v| name.contains(v))
        .map(|v| if v == "radeon" { "amd" } else { v })
        .unwrap_or("")
        .to_owned();
    let limit = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| adapter.limits.get(*k).and_then(Value::as_u64))
    };
    AdapterFeatures {
        name: adapter.name.clone(),
        vendor,
        subgroup_size: limit(&["subgroup_size", "min_subgroup_size", "warp_size"]).unwrap_or(32)
            as u32,
        max_invocations: limit(&[
            "max_compute_invocations_per_workgroup",
            "max_threads_per_block",
        ])
        .unwrap_or(1024) as u32,
    }
}

fn explain(prediction: &Prediction) -> String {
    format!("{}: {}", prediction.method.describe(), prediction.rationale)
}

impl Plugin for LearnedTuner {
    fn initialize(&mut self, params: InitializeParams) -> Result<InitializeResult, RpcError> {
        let options = &params.options;
        let thresholds = Thresholds {
            min_records: option_usize(options, "min_records")
                .unwrap_or(Thresholds::default().min_records),
            min_kernels: option_usize(options, "min_kernels")
                .unwrap_or(Thresholds::default().min_kernels),
        };
        self.tuner = match options.get("history").and_then(Value::as_str) {
            None => Tuner::heuristic_only("no history file configured"),
            Some(path) => match load_history(Path::new(path)) {
                Ok((records, skipped)) => {
                    let mut tuner = Tuner::train(&records, thresholds, &TrainConfig::default());
                    if skipped > 0 {
                        tuner
                            .status
                            .push_str(&format!(" ({skipped} malformed history lines skipped)"));
                    }
                    tuner
                }
                Err(e) => Tuner::heuristic_only(e),
            },
        };
        eprintln!("cudalens-learned-tuner: {}", self.tuner.status);
        Ok(InitializeResult {
            name: "cudalens-learned-tuner".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            protocol_version: PROTOCOL_VERSION.into(),
            capabilities: Capabilities {
                diagnostics: true,
                code_actions: false,
                tuning: true,
            },
        })
    }

    /// Suggests a block size when the prediction differs from the resolved one.
    fn analyze(&mut self, params: AnalyzeParams) -> Result<AnalyzeResult, RpcError> {
        let kernel = &params.kernel;
        let mut result = AnalyzeResult::default();
        let Some(current) = kernel.block else {
            return Ok(result);
        };
        let prediction = self
            .tuner
            .predict(&kernel_features(kernel, false), &adapter_features(kernel));
        if let Some(best) = prediction.best().filter(|&b| b != current) {
            result.diagnostics.push(PluginDiagnostic {
                range: kernel.range,
                severity: Severity::Hint,
                code: "learned-tuner-block-size".into(),
                message: format!(
                    "block {} is predicted to be faster than {} ({})",
                    block_label(best),
                    block_label(current),
                    explain(&prediction)
                ),
                edits: Vec::new(),
            });
        }
        Ok(result)
    }

    /// Ranks candidates, measures the top few (and the current block), returns the fastest.
    fn tune(
        &mut self,
        params: TuneParams,
        host: &mut HostLink<'_>,
    ) -> Result<TuneResult, RpcError> {
        let kernel = &params.kernel;
        let mut adapter = adapter_features(kernel);
        adapter.max_invocations = adapter
            .max_invocations
            .min(params.limits.max_threads_per_block);
        let prediction = self
            .tuner
            .predict(&kernel_features(kernel, params.is_2d), &adapter);
        let mut to_measure: Vec<[u32; 3]> = prediction
            .ranked
            .iter()
            .take(MEASURED_CANDIDATES)
            .map(|r| r.0)
            .collect();
        if let Some(current) = kernel.block.filter(|b| !to_measure.contains(b)) {
            to_measure.push(current);
        }
        let table: Vec<TuneRow> = to_measure
            .into_iter()
            .map(|block| {
                let variant = Variant::with_block(block);
                let result = host.benchmark(&variant);
                TuneRow { variant, result }
            })
            .collect();
        let fastest = table
            .iter()
            .filter(|r| r.result.ok)
            .filter_map(|r| r.result.median_ms.map(|ms| (r, ms)))
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let (recommendation, explanation) = match (fastest, prediction.best()) {
            (Some((row, ms)), _) => (
                row.variant.clone(),
                format!(
                    "Ranked {} candidates with the {}; measured the top {}: {} was fastest at {ms:.3} ms.",
                    prediction.ranked.len(),
                    explain(&prediction),
                    table.len(),
                    row.variant.label()
                ),
            ),
            (None, Some(best)) => (
                Variant::with_block(best),
                format!(
                    "Predicted {} with the {}; not verified because no benchmark succeeded ({}).",
                    block_label(best),
                    explain(&prediction),
                    table
                        .iter()
                        .find_map(|r| r.result.error.clone())
                        .unwrap_or_default()
                ),
            ),
            (None, None) => {
                return Err(RpcError::new(
                    cudalens_plugin_protocol::error_codes::INVALID_PARAMS,
                    "no block size candidate fits the limits",
                ));
            }
        };
        Ok(TuneResult {
            recommendation,
            table,
            explanation,
            code_action: None,
        })
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `--synthetic-history PATH N`: write N synthetic kernels' runs as JSON lines (for demos and tests).
    if let [_, flag, path, n] = args.as_slice()
        && flag == "--synthetic-history"
    {
        let kernels = n.parse().unwrap_or(50);
        let lines: Vec<String> = synthetic::history(kernels, 42)
            .iter()
            .filter_map(|r| serde_json::to_string(r).ok())
            .collect();
        if let Err(e) = std::fs::write(path, lines.join("\n") + "\n") {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
        return;
    }
    // `--evaluate-history PATH`: leave-one-kernel-out on a real history export.
    if let [_, flag, path] = args.as_slice()
        && flag == "--evaluate-history"
    {
        match load_history(Path::new(path)) {
            Ok((records, skipped)) => {
                println!("{} runs ({skipped} malformed lines skipped)", records.len());
                println!(
                    "{}",
                    holdout::leave_one_kernel_out(&records, &TrainConfig::default())
                );
            }
            Err(e) => {
                eprintln!("{e}");
                std::process::exit(1);
            }
        }
        return;
    }
    if args.iter().any(|a| a == "--evaluate") {
        for seed in [1, 2, 3] {
            println!(
                "seed {seed}:\n{}",
                synthetic::evaluate(300, 60, seed, &TrainConfig::default())
            );
        }
        return;
    }
    let mut plugin = LearnedTuner {
        tuner: Tuner::heuristic_only("not initialized"),
    };
    if let Err(e) = serve_stdio(&mut plugin) {
        eprintln!("cudalens-learned-tuner: {e}");
        std::process::exit(1);
    }
}
