//! The GPU commands of the server: `cudalens.transpile` (kernel → WGSL file),
//! `cudalens.benchmark` and `cudalens.autotune` (run on the GPU, report).
//!
//! Every command takes `[uri, kernel name or null, {line, character}]`; a
//! null kernel means the kernel around the position. The logic lives in
//! [`crate::gpu_actions`]; this module does the LSP side: progress,
//! cancellation, messages, `window/showDocument`, and the transpiler's
//! diagnostics (source `cudalens-wgsl`, kept until the next edit).
//!
//! GPU work runs on a blocking thread. The [`Runner`] is created on first use
//! and reused; it sits behind a `std` mutex that is only locked there.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::{Cancellable, OngoingProgress, Unbounded};

use cudalens_gpu::{AdapterReport, Runner};
use cudalens_syntax::LineIndex;
use cudalens_wgsl::TranspileDiagnostic;

use super::convert;
use super::features::diagnostics;
use super::state::ServerState;
use crate::gpu_actions::{self, BenchOptions, PrepareError};
use crate::pipeline::{Analyzed, panic_message};
use crate::tuning_data;

pub const TRANSPILE: &str = "cudalens.transpile";
pub const BENCHMARK: &str = "cudalens.benchmark";
pub const AUTOTUNE: &str = "cudalens.autotune";
/// The commands this module answers (advertised in `executeCommandProvider`).
pub const COMMANDS: [&str; 3] = [TRANSPILE, BENCHMARK, AUTOTUNE];

/// Bound on the GPU work of one run (upload, launches, read-back).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on a whole benchmark or sweep, compilation and waiting included.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(600);
const OVERWRITE: &str = "Overwrite";

/// GPU state of the server.
#[derive(Default)]
pub struct GpuState {
    /// Created lazily by the first benchmark; locked only on blocking threads.
    runner: Arc<Mutex<Option<Runner>>>,
    /// Transpiler diagnostics per document, for the version they were computed on.
    wgsl: DashMap<lsp::Uri, (i32, Vec<lsp::Diagnostic>)>,
    /// Cancellation flags of running benchmarks, by progress token.
    cancels: DashMap<String, Arc<AtomicBool>>,
    next_token: AtomicU64,
}

impl GpuState {
    /// The shared runner (created by the first job that needs it), for
    /// other GPU work such as plugins' `host/benchmark`.
    pub fn runner(&self) -> Arc<Mutex<Option<Runner>>> {
        self.runner.clone()
    }

    /// The transpiler diagnostics to publish with `version` of `uri` (none
    /// once the document changed).
    pub fn wgsl_diagnostics_for(&self, uri: &lsp::Uri, version: i32) -> Vec<lsp::Diagnostic> {
        self.wgsl.remove_if(uri, |_, (v, _)| *v != version);
        self.wgsl.get(uri).map(|e| e.1.clone()).unwrap_or_default()
    }

    /// `window/workDoneProgress/cancel`: stops the benchmark between runs.
    pub fn cancel(&self, token: &lsp::ProgressToken) {
        let key = token_key(token);
        if let Some(flag) = self.cancels.get(&key) {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

fn token_key(token: &lsp::ProgressToken) -> String {
    match token {
        lsp::NumberOrString::Number(n) => n.to_string(),
        lsp::NumberOrString::String(s) => s.clone(),
    }
}

/// `[uri, kernel | null, {line, character}]`.
pub(super) struct Target {
    pub(super) uri: lsp::Uri,
    pub(super) kernel: Option<String>,
    pub(super) position: Option<lsp::Position>,
}

pub(super) fn parse_target(args: &[Value]) -> Result<Target> {
    let usage = || Error::invalid_params("expected [uri, kernel name or null, {line, character}]");
    let uri = args
        .first()
        .and_then(Value::as_str)
        .ok_or_else(usage)?
        .parse::<lsp::Uri>()
        .map_err(|_| Error::invalid_params("invalid uri"))?;
    let kernel = match args.get(1) {
        None | Some(Value::Null) => None,
        Some(Value::String(k)) => Some(k.clone()),
        Some(_) => return Err(usage()),
    };
    let position = match args.get(2) {
        None | Some(Value::Null) => None,
        Some(p) => Some(serde_json::from_value(p.clone()).map_err(|_| usage())?),
    };
    if kernel.is_none() && position.is_none() {
        return Err(usage());
    }
    Ok(Target {
        uri,
        kernel,
        position,
    })
}

/// The text and model a command works on: the open document's newest
/// snapshot, else the file on disk.
pub(super) struct Source {
    uri: lsp::Uri,
    pub(super) path: PathBuf,
    pub(super) text: Arc<str>,
    pub(super) analyzed: Arc<Analyzed>,
    /// Set when the document is open (diagnostics are published for it).
    version: Option<i32>,
}

pub(super) async fn load(
    state: &ServerState,
    uri: &lsp::Uri,
) -> std::result::Result<Source, String> {
    let path = convert::uri_to_path(uri).ok_or("only files on disk can be transpiled")?;
    if let Some(s) = state.snapshot(uri).await {
        return Ok(Source {
            uri: uri.clone(),
            path,
            text: s.text.clone(),
            analyzed: s.analyzed.clone(),
            version: Some(s.version),
        });
    }
    let for_task = path.clone();
    let built = tokio::task::spawn_blocking(move || {
        let text = std::fs::read_to_string(&for_task).map_err(|e| format!("{e}"))?;
        let model = gpu_actions::model_of_file(&for_task, &text);
        let analysis = cudalens_analysis::analyze(&model, &text, &Default::default());
        Ok::<_, String>((text, model, analysis))
    })
    .await
    .map_err(|e| format!("internal error: {e}"))?
    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Source {
        uri: uri.clone(),
        path,
        text: built.0.into(),
        analyzed: Arc::new(Analyzed::new(built.1, Arc::new(built.2))),
        version: None,
    })
}

/// The kernel named by the command, or the one around its position.
fn resolve_kernel(source: &Source, target: &Target) -> std::result::Result<String, String> {
    let model = &source.analyzed.model;
    if let Some(name) = &target.kernel {
        return gpu_actions::kernel_names(model)
            .contains(name)
            .then(|| name.clone())
            .ok_or_else(|| format!("no kernel `{name}` with a body in this file"));
    }
    let index = LineIndex::new(&source.text);
    let offset = target.position.map_or(0, |p| convert::offset(&index, p));
    gpu_actions::kernel_at(model, offset)
        .map(|k| k.name.clone())
        .ok_or_else(|| "place the cursor inside a kernel".to_string())
}

/// Where history and reports go: the editor's workspace when the file is in
/// it, else the nearest ancestor with `.git` or `cudalens.toml`.
pub(super) fn workspace_for(state: &ServerState, file: &Path) -> PathBuf {
    state
        .workspace_root()
        .filter(|root| file.starts_with(root))
        .unwrap_or_else(|| gpu_actions::workspace_root_for(file))
}

fn internal(e: &tokio::task::JoinError) -> Error {
    let mut error = Error::internal_error();
    error.message = format!("internal error: {e}").into();
    error
}

pub(super) async fn error(state: &ServerState, message: impl Into<String>) {
    state
        .client
        .show_message(lsp::MessageType::ERROR, message.into())
        .await;
}

/// Publishes (or clears, with an empty list) the transpiler's diagnostics on
/// the CUDA file, together with the analyses' own.
async fn set_wgsl_diagnostics(state: &ServerState, source: &Source, found: &[TranspileDiagnostic]) {
    let Some(version) = source.version else {
        return;
    };
    let had = state.gpu.wgsl.remove(&source.uri).is_some();
    if found.is_empty() && !had {
        return;
    }
    let index = LineIndex::new(&source.text);
    let converted: Vec<lsp::Diagnostic> = found
        .iter()
        .map(|d| convert::wgsl_diagnostic(&index, d))
        .collect();
    if !converted.is_empty() {
        state
            .gpu
            .wgsl
            .insert(source.uri.clone(), (version, converted));
    }
    if let Some(snapshot) = state.snapshot(&source.uri).await
        && snapshot.version == version
    {
        diagnostics::publish(state, &snapshot).await;
    }
}

async fn report_untranspilable(
    state: &ServerState,
    source: &Source,
    kernel: &str,
    found: &[TranspileDiagnostic],
) {
    set_wgsl_diagnostics(state, source, found).await;
    let first = found
        .iter()
        .find(|d| d.is_error())
        .map_or("unsupported construct", |d| d.message.as_str());
    let more = found
        .iter()
        .filter(|d| d.is_error())
        .count()
        .saturating_sub(1);
    let more = if more > 0 {
        format!(" (and {more} more, see the problems list)")
    } else {
        String::new()
    };
    error(
        state,
        format!("`{kernel}` cannot be transpiled to WGSL: {first}{more}"),
    )
    .await;
}

/// Asks the client to open `path`; false when it cannot or will not.
async fn open_document(state: &ServerState, path: &Path) -> bool {
    let Some(uri) = convert::path_to_uri(path) else {
        return false;
    };
    if !state.support().show_document {
        state
            .client
            .show_message(lsp::MessageType::INFO, format!("wrote {}", path.display()))
            .await;
        return false;
    }
    let params = lsp::ShowDocumentParams {
        uri,
        external: None,
        take_focus: Some(true),
        selection: None,
    };
    state.client.show_document(params).await.unwrap_or(false)
}

/// Asks before replacing a file cudalens did not write; true on "Overwrite".
async fn confirm_overwrite(state: &ServerState, path: &Path) -> bool {
    if !state.support().show_message_request {
        return false;
    }
    let answer = state
        .client
        .show_message_request(
            lsp::MessageType::WARNING,
            format!(
                "{} exists and was not generated by cudalens. Overwrite?",
                path.display()
            ),
            Some(vec![
                lsp::MessageActionItem {
                    title: OVERWRITE.to_string(),
                    properties: Default::default(),
                },
                lsp::MessageActionItem {
                    title: "Cancel".to_string(),
                    properties: Default::default(),
                },
            ]),
        )
        .await;
    matches!(answer, Ok(Some(item)) if item.title == OVERWRITE)
}

// ---------------------------------------------------------------- transpile

/// `cudalens.transpile`: writes `<file>.<kernel>.wgsl` (+ `.json` sidecar)
/// and opens it. Answers `{"path"}` on success, `null` otherwise (the
/// reason goes to the user as a message).
pub async fn transpile(state: &ServerState, args: &[Value]) -> Result<Option<Value>> {
    let target = parse_target(args)?;
    let source = match load(state, &target.uri).await {
        Ok(s) => s,
        Err(e) => {
            error(state, e).await;
            return Ok(None);
        }
    };
    let kernel = match resolve_kernel(&source, &target) {
        Ok(k) => k,
        Err(e) => {
            error(state, e).await;
            return Ok(None);
        }
    };
    // The editor's transpile allows warp intrinsics and `half`: the sidecar
    // lists the features the shader then needs.
    let opts = gpu_actions::transpile_options(&source.path, true, true);
    let (analyzed, text, name) = (source.analyzed.clone(), source.text.clone(), kernel.clone());
    let compiled = tokio::task::spawn_blocking(move || {
        gpu_actions::transpile_guarded(&analyzed.model, &text, &name, &opts)
    })
    .await
    .map_err(|e| internal(&e))?;
    let out = match compiled {
        Ok(out) => out,
        Err(found) => {
            report_untranspilable(state, &source, &kernel, &found).await;
            return Ok(None);
        }
    };
    set_wgsl_diagnostics(state, &source, &[]).await;

    let path = gpu_actions::wgsl_path(&source.path, &kernel);
    let check = path.clone();
    let foreign = tokio::task::spawn_blocking(move || gpu_actions::foreign_output(&check))
        .await
        .ok()
        .flatten();
    let force = match foreign {
        Some(f) if confirm_overwrite(state, &f).await => true,
        Some(f) => {
            state
                .client
                .show_message(
                    lsp::MessageType::INFO,
                    format!("{} was left unchanged", f.display()),
                )
                .await;
            return Ok(None);
        }
        None => false,
    };
    let to = path.clone();
    let written =
        tokio::task::spawn_blocking(move || gpu_actions::write_outputs(&to, &out, force)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            error(state, e.to_string()).await;
            return Ok(None);
        }
        Err(e) => return Err(internal(&e)),
    }
    open_document(state, &path).await;
    Ok(Some(json!({ "path": path, "kernel": kernel })))
}

// ---------------------------------------------------------------- benchmark

/// `cudalens.benchmark` / `cudalens.autotune`: checks the arguments, then
/// runs in the background (progress, a summary message, the report opened).
pub fn benchmark(state: &Arc<ServerState>, args: &[Value], sweep: bool) -> Result<Option<Value>> {
    let target = parse_target(args)?;
    tokio::spawn(run_benchmark(state.clone(), target, sweep));
    Ok(None)
}

/// What a finished job tells the user.
struct Done {
    summary: String,
    warnings: Vec<String>,
    report: Option<PathBuf>,
}

enum JobError {
    Transpile(Vec<TranspileDiagnostic>),
    Cancelled,
    Failed(String),
}

/// The blocking part of a benchmark.
struct Job {
    runner: Arc<Mutex<Option<Runner>>>,
    cancel: Arc<AtomicBool>,
    progress: tokio::sync::mpsc::UnboundedSender<String>,
    source_path: PathBuf,
    text: Arc<str>,
    analyzed: Arc<Analyzed>,
    kernel: String,
    sweep: bool,
    root: PathBuf,
    /// Target architecture (settings), for the tuning features stored with runs.
    arch: String,
}

async fn run_benchmark(state: Arc<ServerState>, target: Target, sweep: bool) {
    let source = match load(&state, &target.uri).await {
        Ok(s) => s,
        Err(e) => return error(&state, e).await,
    };
    let kernel = match resolve_kernel(&source, &target) {
        Ok(k) => k,
        Err(e) => return error(&state, e).await,
    };
    let verb = if sweep { "Autotuning" } else { "Benchmarking" };
    let progress = Progress::start(&state, format!("{verb} {kernel}")).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let job = Job {
        runner: state.gpu.runner.clone(),
        cancel: progress.cancel.clone(),
        progress: tx,
        root: workspace_for(&state, &source.path),
        source_path: source.path.clone(),
        text: source.text.clone(),
        analyzed: source.analyzed.clone(),
        kernel: kernel.clone(),
        sweep,
        arch: state.settings().arch.clone(),
    };
    let mut handle = tokio::task::spawn_blocking(move || job.run());
    let deadline = tokio::time::sleep(TOTAL_TIMEOUT);
    tokio::pin!(deadline);
    let outcome = loop {
        tokio::select! {
            Some(message) = rx.recv() => progress.report(message).await,
            joined = &mut handle => {
                break joined.unwrap_or_else(|e| Err(JobError::Failed(format!("internal error: {e}"))));
            }
            () = &mut deadline => {
                progress.cancel.store(true, Ordering::SeqCst);
                break Err(JobError::Failed(format!(
                    "{kernel}: no result after {} s; stopped", TOTAL_TIMEOUT.as_secs()
                )));
            }
        }
    };
    progress.finish(&state).await;
    match outcome {
        Ok(done) => {
            set_wgsl_diagnostics(&state, &source, &[]).await;
            state
                .client
                .show_message(lsp::MessageType::INFO, done.summary)
                .await;
            for w in done.warnings {
                state
                    .client
                    .show_message(lsp::MessageType::WARNING, w)
                    .await;
            }
            if let Some(report) = done.report {
                open_document(&state, &report).await;
            }
        }
        Err(JobError::Transpile(found)) => {
            report_untranspilable(&state, &source, &kernel, &found).await;
        }
        Err(JobError::Cancelled) => {
            state
                .client
                .show_message(lsp::MessageType::INFO, format!("{kernel}: cancelled"))
                .await;
        }
        Err(JobError::Failed(e)) => error(&state, e).await,
    }
}

impl Job {
    fn run(self) -> std::result::Result<Done, JobError> {
        let runner = self.runner.clone();
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.run_inner())).unwrap_or_else(
            |payload| {
                // The runner may be half-way through something: start afresh next time.
                let mut slot = runner.lock().unwrap_or_else(|p| p.into_inner());
                *slot = None;
                runner.clear_poison();
                Err(JobError::Failed(format!(
                    "internal error while benchmarking (please report): {}",
                    panic_message(&*payload)
                )))
            },
        )
    }

    fn say(&self, message: impl Into<String>) {
        let _ = self.progress.send(message.into());
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn run_inner(self) -> std::result::Result<Done, JobError> {
        let gpu = |e: cudalens_gpu::GpuError| JobError::Failed(format!("{}: {e}", self.kernel));
        self.say("waiting for the GPU");
        let mut slot = self.runner.lock().unwrap_or_else(|p| p.into_inner());
        if self.cancelled() {
            return Err(JobError::Cancelled);
        }
        if slot.is_none() {
            self.say("opening the GPU");
            *slot = Some(Runner::new(None).map_err(gpu)?);
        }
        let Some(runner) = slot.as_mut() else {
            return Err(JobError::Failed("no GPU runner".into()));
        };
        let adapter = runner.adapter().map_err(gpu)?;
        self.say(format!("compiling for {}", adapter.name));
        let opts = BenchOptions {
            timeout: RUN_TIMEOUT,
            ..BenchOptions::default()
        };
        let prepared = gpu_actions::prepare(
            &self.analyzed.model,
            &self.text,
            &self.source_path,
            &self.kernel,
            &opts,
            &adapter,
        )
        .map_err(|e| match e {
            PrepareError::Transpile(d) => JobError::Transpile(d),
            PrepareError::Other(m) => JobError::Failed(format!("{}: {m}", self.kernel)),
        })?;
        let mut prepared = prepared;
        prepared.tuning = tuning_data::tuning_record(
            &self.analyzed.model,
            &self.analyzed.analysis,
            &self.kernel,
            &self.arch,
            &adapter,
        );
        if self.cancelled() {
            return Err(JobError::Cancelled);
        }
        let (bench, sweep) = if self.sweep {
            let sweep = gpu_actions::autotune_stepwise(runner, &prepared, |i, n, wg| {
                if self.cancelled() {
                    return false;
                }
                self.say(format!(
                    "workgroup {}×{}×{} ({}/{n})",
                    wg[0],
                    wg[1],
                    wg[2],
                    i + 1
                ));
                true
            })
            .map_err(gpu)?;
            if sweep.cancelled && sweep.result.best.is_none() {
                return Err(JobError::Cancelled);
            }
            (None, Some(sweep))
        } else {
            self.say(format!(
                "running {} launches",
                prepared.bench.warmup + prepared.bench.iterations
            ));
            (Some(runner.run(&prepared.bench).map_err(gpu)?), None)
        };
        drop(slot); // the GPU is free for the next job; what is left is files
        let sweep_result = sweep.as_ref().map(|s| &s.result);
        let mut warnings = Vec::new();
        if sweep.as_ref().is_some_and(|s| s.cancelled) {
            warnings.push(format!(
                "{}: autotune cancelled; results of the candidates run so far",
                self.kernel
            ));
        }
        self.finish(&adapter, &prepared, bench.as_ref(), sweep_result, warnings)
    }

    /// History, report, summary.
    fn finish(
        &self,
        adapter: &AdapterReport,
        prepared: &gpu_actions::Prepared,
        bench: Option<&cudalens_gpu::BenchmarkResult>,
        sweep: Option<&cudalens_gpu::AutotuneResult>,
        mut warnings: Vec<String>,
    ) -> std::result::Result<Done, JobError> {
        let label = gpu_actions::display_relative(&self.source_path, &self.root);
        let history = gpu_actions::record_history(&self.root, &label, prepared, bench, sweep);
        let runs = match &history {
            Ok(h) => {
                if let Some(r) = &h.regression {
                    warnings.push(gpu_actions::regression_warning(&self.kernel, r));
                }
                &h.runs[..]
            }
            Err(e) => {
                warnings.push(format!("{}: the run was not recorded: {e}", self.kernel));
                &[][..]
            }
        };
        let markdown = gpu_actions::report_markdown(adapter, bench, sweep, runs);
        let report = self
            .root
            .join(".cudalens")
            .join("reports")
            .join(format!("{}.md", self.kernel));
        let report = match gpu_actions::write_report(&report, &markdown) {
            Ok(()) => Some(report),
            Err(e) => {
                warnings.push(format!("{}: report not written: {e}", self.kernel));
                None
            }
        };
        let best = bench.or(sweep.and_then(|s| s.best_result.as_ref()));
        let Some(best) = best else {
            return Err(JobError::Failed(format!(
                "{}: no workgroup size could run (see the report)",
                self.kernel
            )));
        };
        let mut summary = gpu_actions::summary_line(best, adapter);
        if sweep.is_some() {
            let [x, y, z] = best.workgroup_size;
            summary.push_str(&format!(" — best workgroup {x}×{y}×{z}"));
        }
        Ok(Done {
            summary,
            warnings,
            report,
        })
    }
}

/// `$/progress` for one job when the client supports it; the cancellation
/// flag exists either way (the timeout uses it).
struct Progress {
    ongoing: Option<OngoingProgress<Unbounded, Cancellable>>,
    token: Option<String>,
    cancel: Arc<AtomicBool>,
}

impl Progress {
    async fn start(state: &ServerState, title: String) -> Progress {
        let cancel = Arc::new(AtomicBool::new(false));
        if !state.support().work_done_progress {
            return Progress {
                ongoing: None,
                token: None,
                cancel,
            };
        }
        let n = state.gpu.next_token.fetch_add(1, Ordering::Relaxed);
        let key = format!("cudalens/gpu/{n}");
        let token = lsp::NumberOrString::String(key.clone());
        if state
            .client
            .create_work_done_progress(token.clone())
            .await
            .is_err()
        {
            return Progress {
                ongoing: None,
                token: None,
                cancel,
            };
        }
        state.gpu.cancels.insert(key.clone(), cancel.clone());
        let ongoing = state
            .client
            .progress(token, title)
            .with_cancel_button()
            .begin()
            .await;
        Progress {
            ongoing: Some(ongoing),
            token: Some(key),
            cancel,
        }
    }

    async fn report(&self, message: String) {
        if let Some(p) = &self.ongoing {
            p.report_with_message(message, None).await;
        }
    }

    async fn finish(self, state: &ServerState) {
        if let Some(key) = &self.token {
            state.gpu.cancels.remove(key);
        }
        if let Some(p) = self.ongoing {
            p.finish().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = parse_target(&[
            json!("file:///a.cu"),
            Value::Null,
            json!({"line": 3, "character": 1}),
        ])
        .expect("valid");
        assert!(t.kernel.is_none());
        assert_eq!(t.position, Some(lsp::Position::new(3, 1)));
        let t = parse_target(&[json!("file:///a.cu"), json!("k")]).expect("valid");
        assert_eq!(t.kernel.as_deref(), Some("k"));
        assert!(parse_target(&[json!("file:///a.cu")]).is_err());
        assert!(parse_target(&[json!(1), json!("k")]).is_err());
    }
}
