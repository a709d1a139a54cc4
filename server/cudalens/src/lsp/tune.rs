//! Plugin tuning: `cudalens.pluginTune` sends `tune` to a tuning plugin
//! (PROTOCOL.md, "tune"), answers its `host/benchmark` callbacks on the GPU
//! ([`GpuBenchmarks`]), shows the measured table and applies the plugin's
//! code action once the user accepts it.
//!
//! Arguments: `[uri, kernel name or null, {line, character}, options?]`,
//! like `cudalens.benchmark`; `options` may name the `plugin` and the
//! problem `size` (N, or N×N for 2D kernels) every variant is timed on.

use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types as lsp;

use cudalens_gpu::{AdapterReport, Runner};
use cudalens_plugin_host::protocol::{
    BenchResult, KernelModel, LaunchSite, LoopSite, Range as PluginRange, TuneParams, TuneRow,
};
use cudalens_plugin_host::{BenchmarkRequest, BenchmarkService, BoxFuture};
use cudalens_syntax::{LineIndex, Span};

use super::convert;
use super::gpu::{self, Target};
use super::plugins::kernel_model;
use super::state::{ServerState, Snapshot};
use crate::gpu_actions::{self, HistoryTarget, VariantTarget};
use crate::pipeline::panic_message;
use crate::tuning_data;

pub const PLUGIN_TUNE: &str = "cudalens.pluginTune";
/// Model field (an extension of the protocol's kernel model) carrying the
/// problem size every variant of one `tune` is timed on.
const PROBLEM_SIZE: &str = "problem_size";
/// Bound on the GPU work of one variant.
const VARIANT_TIMEOUT: Duration = Duration::from_secs(60);
const WARMUP: u32 = 2;
const ITERATIONS: u32 = 10;
const APPLY: &str = "Apply";
const CANCEL: &str = "Cancel";

// ---------------------------------------------------------------- host/benchmark

/// The server's [`BenchmarkService`]: times a plugin's variant with the GPU
/// runner shared with `cudalens.benchmark`, on a blocking thread.
pub struct GpuBenchmarks {
    state: Weak<ServerState>,
    runner: Arc<Mutex<Option<Runner>>>,
}

impl GpuBenchmarks {
    pub fn new(state: &Arc<ServerState>) -> Self {
        GpuBenchmarks {
            state: Arc::downgrade(state),
            runner: state.gpu.runner(),
        }
    }

    async fn run(&self, request: BenchmarkRequest) -> BenchResult {
        let Some(state) = self.state.upgrade() else {
            return BenchResult::failure("the server is shutting down");
        };
        let model = &request.tune.kernel;
        let Ok(uri) = model.uri.parse::<lsp::Uri>() else {
            return BenchResult::failure(format!("invalid kernel uri {}", model.uri));
        };
        let source = match gpu::load(&state, &uri).await {
            Ok(s) => s,
            Err(e) => return BenchResult::failure(e),
        };
        let size = model
            .extra
            .get(PROBLEM_SIZE)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .filter(|&n| n > 0)
            .unwrap_or_else(|| gpu_actions::tune_problem_size(request.tune.is_2d));
        let (runner, kernel, variant) = (self.runner.clone(), model.name.clone(), request.variant);
        let root = gpu::workspace_for(&state, &source.path);
        let arch = state.settings().arch.clone();
        let joined = tokio::task::spawn_blocking(move || {
            with_runner(&runner, |runner| {
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
                Ok(gpu_actions::benchmark_variant(runner, &target, &variant))
            })
        })
        .await;
        match joined {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => BenchResult::failure(e),
            Err(e) => BenchResult::failure(format!("internal error: {e}")),
        }
    }
}

impl BenchmarkService for GpuBenchmarks {
    fn benchmark(&self, request: BenchmarkRequest) -> BoxFuture<'_, BenchResult> {
        Box::pin(self.run(request))
    }
}

/// Runs `f` with the shared runner (opening the GPU on first use). Blocking.
/// A panic becomes an error and drops the runner, which may be half-way
/// through something.
fn with_runner<T>(
    runner: &Mutex<Option<Runner>>,
    f: impl FnOnce(&mut Runner) -> std::result::Result<T, String>,
) -> std::result::Result<T, String> {
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut slot = runner.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(Runner::new(None).map_err(|e| e.to_string())?);
        }
        match slot.as_mut() {
            Some(r) => f(r),
            None => Err("no GPU runner".to_string()),
        }
    }));
    outcome.unwrap_or_else(|payload| {
        let mut slot = runner.lock().unwrap_or_else(|p| p.into_inner());
        *slot = None;
        runner.clear_poison();
        Err(format!(
            "internal error while benchmarking (please report): {}",
            panic_message(&*payload)
        ))
    })
}

// ---------------------------------------------------------------- the command

/// What the fourth argument may ask for.
#[derive(Debug, Default)]
struct TuneOptions {
    plugin: Option<String>,
    size: Option<u32>,
}

fn parse_options(value: Option<&Value>) -> Result<TuneOptions> {
    let usage = || Error::invalid_params("options must be {\"plugin\"?: name, \"size\"?: N}");
    let Some(Value::Object(map)) = value else {
        return match value {
            None | Some(Value::Null) => Ok(TuneOptions::default()),
            Some(_) => Err(usage()),
        };
    };
    let plugin = match map.get("plugin") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(usage()),
    };
    let size = match map.get("size") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|&n| n > 0)
                .ok_or_else(usage)?,
        ),
    };
    Ok(TuneOptions { plugin, size })
}

/// `cudalens.pluginTune`: checks the arguments, then tunes in the background.
pub fn plugin_tune(state: &Arc<ServerState>, args: &[Value]) -> Result<Option<Value>> {
    let target = gpu::parse_target(args)?;
    let options = parse_options(args.get(3))?;
    tokio::spawn(run(state.clone(), target, options));
    Ok(None)
}

async fn run(state: Arc<ServerState>, target: Target, options: TuneOptions) {
    if let Err(message) = tune(&state, &target, options).await {
        gpu::error(&state, message).await;
    }
}

async fn tune(
    state: &Arc<ServerState>,
    target: &Target,
    options: TuneOptions,
) -> std::result::Result<(), String> {
    let host = state.plugins.host().ok_or(
        "no optimizer plugins are configured: add cudalens-autotune to `cudalens.plugins`",
    )?;
    let snapshot = state
        .snapshot(&target.uri)
        .await
        .ok_or("open the file in the editor to tune its kernels")?;
    let kernel = resolve_kernel(&snapshot, target)?;
    let runner = state.gpu.runner();
    let adapter = tokio::task::spawn_blocking(move || {
        with_runner(&runner, |r| r.adapter().map_err(|e| e.to_string()))
    })
    .await
    .map_err(|e| format!("internal error: {e}"))?
    .map_err(|e| format!("{kernel}: cannot benchmark: {e}"))?;
    let params = tune_params(&snapshot, &kernel, &adapter, options.size)?;
    let outcome = host
        .tune(options.plugin.as_deref(), &params)
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
    state
        .client
        .show_message(lsp::MessageType::INFO, message)
        .await;
    let Some(action) = result.code_action.filter(|a| !a.edits.is_empty()) else {
        return Ok(());
    };
    if !state.support().show_message_request {
        return Ok(()); // no way to ask; never edit without consent
    }
    let answer = state
        .client
        .show_message_request(
            lsp::MessageType::INFO,
            format!("{kernel}: {}?", action.title),
            Some(
                [APPLY, CANCEL]
                    .map(|title| lsp::MessageActionItem {
                        title: title.to_string(),
                        properties: Default::default(),
                    })
                    .to_vec(),
            ),
        )
        .await;
    if !matches!(answer, Ok(Some(item)) if item.title == APPLY) {
        return Ok(());
    }
    let edit = convert::from_plugin_edits(&target.uri, &action.edits);
    match state.client.apply_edit(edit).await {
        Ok(response) if response.applied => Ok(()),
        Ok(response) => Err(format!(
            "{kernel}: the editor did not apply the edits{}",
            response
                .failure_reason
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        )),
        Err(e) => Err(format!("{kernel}: applying the edits failed: {e}")),
    }
}

/// The kernel named by the command, or the one around its position.
fn resolve_kernel(snapshot: &Snapshot, target: &Target) -> std::result::Result<String, String> {
    let model = &snapshot.analyzed.model;
    if let Some(name) = &target.kernel {
        return gpu_actions::kernel_names(model)
            .contains(name)
            .then(|| name.clone())
            .ok_or_else(|| format!("no kernel `{name}` with a body in this file"));
    }
    let offset = target
        .position
        .map_or(0, |p| convert::offset(&snapshot.index, p));
    gpu_actions::kernel_at(model, offset)
        .map(|k| k.name.clone())
        .ok_or_else(|| "place the cursor inside a kernel".to_string())
}

/// The `tune` request for `kernel` (PROTOCOL.md, "tune").
fn tune_params(
    snapshot: &Snapshot,
    kernel: &str,
    adapter: &AdapterReport,
    size: Option<u32>,
) -> std::result::Result<TuneParams, String> {
    let model = &snapshot.analyzed.model;
    let report = snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        .find(|k| k.name == kernel)
        .ok_or_else(|| format!("`{kernel}` has not been analysed"))?;
    let function = model
        .kernels()
        .find(|k| k.name == kernel && k.body.is_some() && k.in_main_file())
        .ok_or_else(|| format!("no kernel `{kernel}` with a body in this file"))?;
    let index: &LineIndex = &snapshot.index;
    let plugin_range = |span: Span| convert::to_plugin_range(convert::range(index, span));
    let source = function.span.text(&snapshot.text);
    let is_2d = report.block.is_some_and(|b| b[1] > 1)
        || ["threadIdx.y", "blockIdx.y", "blockDim.y"]
            .iter()
            .any(|t| source.contains(t));
    let size = size.unwrap_or_else(|| gpu_actions::tune_problem_size(is_2d));

    let mut value = kernel_model(snapshot, report);
    value["adapter"] = json!({
        "name": adapter.name,
        "backend": adapter.backend,
        "limits": {
            "max_compute_invocations_per_workgroup": adapter.limits.max_compute_invocations_per_workgroup,
            "subgroup_size": adapter.subgroup_max_size,
        },
    });
    value[PROBLEM_SIZE] = json!(size);
    if let Some(features) = value.get_mut("features").and_then(Value::as_object_mut) {
        let threads = if is_2d {
            u64::from(size).pow(2)
        } else {
            u64::from(size)
        };
        features.insert("problem_size".into(), json!(threads));
    }
    let kernel_model: KernelModel =
        serde_json::from_value(value).map_err(|e| format!("internal error: kernel model: {e}"))?;

    let head = Span::new(
        function.decl_start,
        function.name_span.start.max(function.decl_start),
    );
    let in_text = |s: &Span| s.end <= snapshot.text.len();
    let launch = model.launches_of(kernel).find_map(|l| {
        let block = l.block_arg_span.filter(in_text)?;
        let grid = l
            .grid
            .as_ref()
            .filter(|g| !g.from_macro)
            .map(|g| g.span)
            .filter(in_text);
        Some(LaunchSite {
            uri: snapshot.uri.as_str().to_string(),
            block_arg_range: plugin_range(block),
            block_arg_text: block.text(&snapshot.text).to_string(),
            grid_arg_range: grid.map(plugin_range),
            grid_arg_text: grid
                .map(|g| g.text(&snapshot.text).to_string())
                .unwrap_or_default(),
        })
    });
    let unroll_loops: Vec<LoopSite> =
        cudalens_wgsl::unrollable_loops(model, &snapshot.text, kernel)
            .into_iter()
            .filter(in_text)
            .map(|span| loop_site(&snapshot.text, span, plugin_range))
            .collect();
    Ok(TuneParams {
        kernel: kernel_model,
        declaration_range: plugin_range(head),
        declaration_text: head.text(&snapshot.text).to_string(),
        launch,
        limits: gpu_actions::block_limits(adapter),
        is_2d,
        unroll_allowed: !unroll_loops.is_empty(),
        unroll_loops,
    })
}

/// Where `#pragma unroll N` goes for the loop at `span`: its line's
/// indentation, and the pragma line already above it, if any.
fn loop_site(text: &str, span: Span, range: impl Fn(Span) -> PluginRange) -> LoopSite {
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[line_start..span.start]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let pragma_range = line_start
        .checked_sub(1)
        .map(|newline| {
            let prev_start = text[..newline].rfind('\n').map_or(0, |i| i + 1);
            let line = text[prev_start..newline].trim_end_matches('\r');
            let first = prev_start + (line.len() - line.trim_start().len());
            (first, prev_start + line.len())
        })
        .filter(|&(first, end)| text[first..end].starts_with("#pragma unroll"))
        .map(|(first, end)| range(Span::new(first, end)));
    LoopSite {
        range: range(span),
        indent,
        pragma_range,
    }
}

/// `  128: 0.4120 ms, 812 GB/s` (`*` marks the recommendation).
fn table_line(row: &TuneRow, best: &cudalens_plugin_host::protocol::Variant) -> String {
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
    use cudalens_plugin_host::protocol::Variant;

    #[test]
    fn options() {
        let o = parse_options(Some(&json!({"plugin": "autotune", "size": 4096}))).expect("valid");
        assert_eq!(o.plugin.as_deref(), Some("autotune"));
        assert_eq!(o.size, Some(4096));
        assert!(parse_options(None).expect("none").plugin.is_none());
        assert!(parse_options(Some(&json!({"size": 0}))).is_err());
        assert!(parse_options(Some(&json!(3))).is_err());
    }

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
