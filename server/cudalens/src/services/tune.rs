//! Plugin tuning: `cudalens.pluginTune` sends `tune` to a tuning plugin
//! (PROTOCOL.md, "tune"), shows the measured table and applies the plugin's
//! code action once the user accepts it. The plugin's `host/benchmark`
//! calls go to the main loop as [`Event::PluginBenchmark`] (which finds the
//! document) and are timed by [`benchmark_variant`] on the GPU worker.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::sync::oneshot;

use cudalens_ide::Snapshot;
use cudalens_ide::commands::PluginTuneArgs;
use cudalens_ide::kernels::resolve_kernel;
use cudalens_ide::tune::{PROBLEM_SIZE, tune_params, tune_problem_size};
use cudalens_plugin_host::protocol::{BenchResult, TuneRow, Variant};
use cudalens_plugin_host::{BenchmarkRequest, BenchmarkService, BoxFuture, PluginHost};

use super::gpu::GpuWorker;
use super::gpu_commands::Source;
use super::{Event, Events, Level, Ui};
use crate::gpu_actions::{self, HistoryTarget, VariantTarget};
use crate::tuning_data;

/// Bound on the GPU work of one variant.
const VARIANT_TIMEOUT: Duration = Duration::from_secs(60);
const WARMUP: u32 = 2;
const ITERATIONS: u32 = 10;
const APPLY: &str = "Apply";
const CANCEL: &str = "Cancel";

// ---------------------------------------------------------------- host/benchmark

/// The plugin host's [`BenchmarkService`]: forwards each `host/benchmark` to
/// the main loop and waits for the result.
pub struct PluginBenchmarks {
    events: Events,
}

impl PluginBenchmarks {
    pub fn new(events: Events) -> Self {
        PluginBenchmarks { events }
    }
}

impl BenchmarkService for PluginBenchmarks {
    fn benchmark(&self, request: BenchmarkRequest) -> BoxFuture<'_, BenchResult> {
        let (reply, answer) = oneshot::channel();
        let sent = self.events.send(Event::PluginBenchmark { request, reply });
        Box::pin(async move {
            if sent.is_err() {
                return BenchResult::failure("the server is shutting down");
            }
            answer
                .await
                .unwrap_or_else(|_| BenchResult::failure("the server is shutting down"))
        })
    }
}

/// Times one variant of the kernel in `request` on the GPU worker, and
/// records it in the history at `root` with the kernel's tuning features.
pub async fn benchmark_variant(
    gpu: &GpuWorker,
    source: Result<Source, String>,
    root: PathBuf,
    arch: String,
    request: BenchmarkRequest,
) -> BenchResult {
    let source = match source {
        Ok(s) => s,
        Err(e) => return BenchResult::failure(e),
    };
    let model = &request.tune.kernel;
    let size = model
        .extra
        .get(PROBLEM_SIZE)
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| tune_problem_size(request.tune.is_2d));
    let (kernel, variant) = (model.name.clone(), request.variant);
    let run = gpu.run(move |slot| {
        let runner = slot.get().map_err(|e| e.to_string())?;
        let analyzed = &source.analyzed;
        let tuning = runner.adapter().ok().and_then(|adapter| {
            tuning_data::tuning_record(
                &analyzed.model,
                &analyzed.analysis,
                &kernel,
                &arch,
                &adapter,
            )
        });
        let file = gpu_actions::display_relative(&source.path, &root);
        let target = VariantTarget {
            model: &analyzed.model,
            text: &source.text,
            source: &source.path,
            kernel: &kernel,
            size,
            warmup: WARMUP,
            iterations: ITERATIONS,
            timeout: VARIANT_TIMEOUT,
            history: Some(HistoryTarget {
                root: &root,
                file: &file,
                tuning,
            }),
        };
        Ok::<_, String>(gpu_actions::benchmark_variant(runner, &target, &variant))
    });
    match run.await {
        Ok(Ok(result)) => result,
        Ok(Err(e)) | Err(e) => BenchResult::failure(e),
    }
}

// ---------------------------------------------------------------- the command

/// `cudalens.pluginTune`, run to the end (callers spawn it); failures are
/// shown as error messages.
pub async fn plugin_tune(
    ui: Arc<dyn Ui>,
    gpu: GpuWorker,
    host: Option<Arc<PluginHost>>,
    snapshot: Option<Arc<Snapshot>>,
    args: PluginTuneArgs,
) {
    if let Err(message) = tune(&*ui, &gpu, host, snapshot, &args).await {
        ui.show(Level::Error, message).await;
    }
}

async fn tune(
    ui: &dyn Ui,
    gpu: &GpuWorker,
    host: Option<Arc<PluginHost>>,
    snapshot: Option<Arc<Snapshot>>,
    args: &PluginTuneArgs,
) -> Result<(), String> {
    let host = host.ok_or(
        "no optimizer plugins are configured: add cudalens-autotune to `cudalens.plugins`",
    )?;
    let snapshot = snapshot.ok_or("open the file in the editor to tune its kernels")?;
    let kernel = resolve_kernel(&snapshot.analyzed.model, &snapshot.index, &args.target)?;
    // Measurements compile the first definition of an overloaded name.
    if let Some((_, n)) =
        cudalens_ide::kernels::overload_at(&snapshot.analyzed.model, &snapshot.index, &args.target)
            .filter(|(_, n)| *n > 1)
    {
        return Err(format!(
            "`{kernel}` here is definition {n} of an overloaded kernel: tuning measures the first definition only"
        ));
    }
    let adapter = gpu
        .run(|slot| {
            slot.get()
                .and_then(|r| r.adapter())
                .map_err(|e| e.to_string())
        })
        .await
        .and_then(|adapter| adapter)
        .map_err(|e| format!("{kernel}: cannot benchmark: {e}"))?;
    let params = tune_params(&snapshot, &kernel, &adapter, args.size)?;
    let outcome = host
        .tune(args.plugin.as_deref(), &params)
        .await
        .map_err(|f| {
            if f.plugin.is_empty() {
                format!("{kernel}: {}", f.error)
            } else {
                format!("{kernel}: plugin {} failed: {}", f.plugin, f.error)
            }
        })?;
    let result = outcome.result;
    let mut message = format!("{} ({}): {}", kernel, outcome.source, result.explanation);
    for row in &result.table {
        message.push('\n');
        message.push_str(&table_line(row, &result.recommendation));
    }
    ui.show(Level::Info, message).await;
    let Some(action) = result.code_action.filter(|a| !a.edits.is_empty()) else {
        return Ok(());
    };
    // Never edit without consent (an editor that cannot ask gets no edit).
    let question = format!("{kernel}: {}?", action.title);
    if ui
        .ask(Level::Info, question, &[APPLY, CANCEL])
        .await
        .as_deref()
        != Some(APPLY)
    {
        return Ok(());
    }
    ui.apply_edits(&args.target.uri, &action.edits)
        .await
        .map_err(|e| format!("{kernel}: {e}"))
}

/// `  128: 0.4120 ms, 812 GB/s` (`*` marks the recommendation).
fn table_line(row: &TuneRow, best: &Variant) -> String {
    let mark = if &row.variant == best { "*" } else { " " };
    let label = row.variant.label();
    match (&row.result, row.result.median_ms) {
        (r, Some(ms)) if r.ok => {
            let gbps = r
                .gbps
                .map(|g| format!(", {} GB/s", gpu_actions::thousands(g)))
                .unwrap_or_default();
            format!(
                "{mark} block {label}: {} ms{gbps}",
                gpu_actions::format_ms(ms)
            )
        }
        (r, _) => format!(
            "{mark} block {label}: failed: {}",
            r.error.as_deref().unwrap_or("no result")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_lines() {
        let v = Variant::with_block([128, 1, 1]);
        let ok = TuneRow {
            variant: v.clone(),
            result: BenchResult::success(0.5, Some(812.4)),
        };
        assert_eq!(table_line(&ok, &v), "* block 128: 0.5000 ms, 812 GB/s");
        let bad = TuneRow {
            variant: Variant::with_block([64, 1, 1]),
            result: BenchResult::failure("boom"),
        };
        assert_eq!(table_line(&bad, &v), "  block 64: failed: boom");
    }
}
