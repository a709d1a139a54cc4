//! `cudalens-autotune`: measures block sizes (and unroll factors) through the host's
//! `host/benchmark` callback and recommends the fastest, with a code action.

mod candidates;
mod edits;
mod history;

use std::path::PathBuf;

use cudalens_plugin_protocol::{
    AnalyzeParams, AnalyzeResult, Capabilities, CodeAction, HostLink, InitializeParams,
    InitializeResult, PROTOCOL_VERSION, Plugin, PluginDiagnostic, RpcError, Severity, TuneParams,
    TuneResult, TuneRow, Variant, error_codes, serve_stdio,
};

use crate::candidates::{block_candidates, unroll_candidates};
use crate::edits::{block_expression, launch_bounds_edit, launch_site_edit, unroll_pragma_edits};
use crate::history::History;

/// A difference below this is treated as noise when comparing with the current block.
const MEANINGFUL_SPEEDUP: f64 = 1.05;

#[derive(Default)]
struct Autotune {
    history: History,
}

impl Plugin for Autotune {
    fn initialize(&mut self, params: InitializeParams) -> Result<InitializeResult, RpcError> {
        if let Some(path) = params.options.get("history").and_then(|h| h.as_str()) {
            self.history = History::load(&PathBuf::from(path));
        }
        Ok(InitializeResult {
            name: "cudalens-autotune".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            protocol_version: PROTOCOL_VERSION.into(),
            capabilities: Capabilities {
                diagnostics: true,
                code_actions: false,
                tuning: true,
            },
        })
    }

    /// Reports a measured better block size, if the history has one.
    fn analyze(&mut self, params: AnalyzeParams) -> Result<AnalyzeResult, RpcError> {
        let kernel = &params.kernel;
        let mut result = AnalyzeResult::default();
        let Some(current) = kernel.block else {
            return Ok(result);
        };
        let Some(((best, best_ms), current_ms)) = self.history.compare(&kernel.name, current)
        else {
            return Ok(result);
        };
        let better = match current_ms {
            Some(ms) => ms / best_ms >= MEANINGFUL_SPEEDUP,
            None => false, // unmeasured current block: no evidence either way
        };
        if better && best != current {
            let best = Variant::with_block(best);
            result.diagnostics.push(PluginDiagnostic {
                range: kernel.range,
                severity: Severity::Information,
                code: "autotune-better-block".into(),
                message: format!(
                    "block {} measured {:.3} ms; the current block {} measured {:.3} ms",
                    best.label(),
                    best_ms,
                    Variant::with_block(current).label(),
                    current_ms.unwrap_or(f64::NAN),
                ),
                edits: Vec::new(),
            });
        }
        Ok(result)
    }

    fn tune(
        &mut self,
        params: TuneParams,
        host: &mut HostLink<'_>,
    ) -> Result<TuneResult, RpcError> {
        let mut table = Vec::new();
        for variant in block_candidates(params.is_2d, &params.limits) {
            measure(host, &mut table, variant);
        }
        let Some(best_block) = fastest(&table).cloned() else {
            return Err(no_measurements(&table));
        };
        if params.unroll_allowed {
            // Second stage: unroll only on the best shape, to keep the number of runs small.
            for variant in unroll_candidates(&best_block.variant) {
                measure(host, &mut table, variant);
            }
        }
        for row in &table {
            if let Some(ms) = row.result.median_ms.filter(|_| row.result.ok) {
                self.history.record(&params.kernel.name, &row.variant, ms);
            }
        }
        let Some(best) = fastest(&table).cloned() else {
            return Err(no_measurements(&table));
        };
        let explanation = explain(&params, &table, &best);
        let code_action = code_action(&params, &table, &best);
        Ok(TuneResult {
            recommendation: best.variant,
            table,
            explanation,
            code_action: Some(code_action),
        })
    }
}

fn measure(host: &mut HostLink<'_>, table: &mut Vec<TuneRow>, variant: Variant) {
    let result = host.benchmark(&variant);
    table.push(TuneRow { variant, result });
}

fn fastest(table: &[TuneRow]) -> Option<&TuneRow> {
    table
        .iter()
        .filter(|r| {
            r.result.ok
                && r.result
                    .median_ms
                    .is_some_and(|ms| ms.is_finite() && ms > 0.0)
        })
        .min_by(|a, b| {
            a.result
                .median_ms
                .unwrap_or(f64::MAX)
                .total_cmp(&b.result.median_ms.unwrap_or(f64::MAX))
        })
}

fn no_measurements(table: &[TuneRow]) -> RpcError {
    let first_error = table
        .iter()
        .find_map(|r| r.result.error.clone())
        .unwrap_or_else(|| "no candidates".into());
    RpcError::new(
        error_codes::BENCHMARK_UNAVAILABLE,
        format!(
            "none of {} variants could be benchmarked: {first_error}",
            table.len()
        ),
    )
}

fn time_of(table: &[TuneRow], block: [u32; 3]) -> Option<f64> {
    table
        .iter()
        .find(|r| r.variant.block == block && r.variant.unroll.is_none() && r.result.ok)
        .and_then(|r| r.result.median_ms)
}

fn explain(params: &TuneParams, table: &[TuneRow], best: &TuneRow) -> String {
    let best_ms = best.result.median_ms.unwrap_or(f64::NAN);
    let measured = table.iter().filter(|r| r.result.ok).count();
    let device = params
        .kernel
        .adapter
        .as_ref()
        .map(|a| format!(" on {}", a.name))
        .unwrap_or_default();
    let mut text = format!(
        "Benchmarked {measured} of {} variants{device}; fastest: {} at {best_ms:.3} ms",
        table.len(),
        best.variant.label()
    );
    if let Some(current) = params.kernel.block {
        match time_of(table, current) {
            Some(ms) if current != best.variant.block || best.variant.unroll.is_some() => {
                text.push_str(&format!(
                    " ({:.2}x faster than the current {} at {ms:.3} ms)",
                    ms / best_ms,
                    Variant::with_block(current).label()
                ));
            }
            Some(_) => text.push_str(" (the current block size is already the fastest)"),
            None => {}
        }
    }
    text.push('.');
    if let Some(factor) = best.variant.unroll.filter(|&u| u > 1) {
        text.push_str(&format!(
            " `#pragma unroll {factor}` goes above the {} loop(s) the benchmark unrolled.",
            params.unroll_loops.len()
        ));
    }
    if let Some(launch) = &params.launch {
        if launch_site_edit(launch, &best.variant).is_none() {
            text.push_str(&format!(
                " The launch uses `{}`; set it to {} where it is defined, and compute the grid from it.",
                launch.block_arg_text.trim(),
                block_expression(&best.variant)
            ));
        } else {
            text.push_str(" The launch's block and the grid computed from it are rewritten together, so the same problem is covered.");
        }
    }
    text
}

fn code_action(params: &TuneParams, table: &[TuneRow], best: &TuneRow) -> CodeAction {
    let mut edits = vec![launch_bounds_edit(params, best.variant.threads())];
    if let Some(factor) = best.variant.unroll.filter(|&u| u > 1) {
        edits.extend(unroll_pragma_edits(&params.unroll_loops, factor));
    }
    edits.extend(
        params
            .launch
            .as_ref()
            .and_then(|l| launch_site_edit(l, &best.variant))
            .unwrap_or_default(),
    );
    let speedup = params
        .kernel
        .block
        .and_then(|current| time_of(table, current))
        .zip(best.result.median_ms)
        .map(|(current_ms, best_ms)| current_ms / best_ms);
    let title = match speedup {
        Some(s) => format!(
            "Use block size {} (measured {s:.2}x faster)",
            best.variant.label()
        ),
        None => format!("Use block size {} (fastest measured)", best.variant.label()),
    };
    CodeAction {
        title,
        edits,
        is_preferred: speedup.is_none_or(|s| s >= MEANINGFUL_SPEEDUP),
    }
}

fn main() {
    if let Err(e) = serve_stdio(&mut Autotune::default()) {
        eprintln!("cudalens-autotune: {e}");
        std::process::exit(1);
    }
}
