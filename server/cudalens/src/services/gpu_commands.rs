//! `cudalens.transpile` (kernel → WGSL file), `cudalens.benchmark` and
//! `cudalens.autotune` (run on the GPU, report), over the [`Ui`]. The logic
//! lives in [`crate::gpu_actions`]; this module sequences it: the kernel,
//! progress and cancellation, messages, opening what was written, and the
//! transpiler's diagnostics (sent as [`Event::WgslDiagnostics`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use cudalens_gpu::{AdapterReport, AutotuneResult, BenchmarkResult};
use cudalens_ide::Snapshot;
use cudalens_ide::commands::KernelTarget;
use cudalens_ide::kernels::resolve_kernel;
use cudalens_ide::pipeline::Analyzed;
use cudalens_syntax::LineIndex;
use cudalens_syntax::preprocess::include::CompileFlags;
use cudalens_wgsl::TranspileDiagnostic;

use super::gpu::{GpuWorker, RunnerSlot};
use super::{Event, Events, Level, Ui};
use crate::gpu_actions::{self, BenchOptions, PrepareError, Prepared};
use crate::tuning_data;

/// Bound on the GPU work of one run (upload, launches, read-back).
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
/// Bound on a whole benchmark or sweep, compilation and waiting included.
const TOTAL_TIMEOUT: Duration = Duration::from_secs(600);
const OVERWRITE: &str = "Overwrite";
const CANCEL: &str = "Cancel";

/// The text and model a command works on: the open document's newest
/// snapshot, else the file on disk.
pub struct Source {
    pub uri: String,
    pub path: PathBuf,
    pub text: Arc<str>,
    pub analyzed: Arc<Analyzed>,
    /// Set when the document is open (diagnostics are published for it).
    pub version: Option<i32>,
}

impl Source {
    /// `snapshot` when the document is open, else `path` read and analysed
    /// with `compile_commands.json` and then `extra` (the settings' include
    /// paths and defines).
    pub async fn load(
        uri: &str,
        path: Option<PathBuf>,
        snapshot: Option<Arc<Snapshot>>,
        extra: CompileFlags,
    ) -> Result<Source, String> {
        let path = path.ok_or("only files on disk can be transpiled")?;
        if let Some(s) = snapshot {
            return Ok(Source {
                uri: uri.to_string(),
                path,
                text: s.text.clone(),
                analyzed: s.analyzed.clone(),
                version: Some(s.version),
            });
        }
        let for_task = path.clone();
        let built = tokio::task::spawn_blocking(move || {
            let text = std::fs::read_to_string(&for_task).map_err(|e| format!("{e}"))?;
            let model = gpu_actions::model_of_file(&for_task, &text, &extra);
            let analysis = cudalens_analysis::analyze(&model, &text, &Default::default());
            Ok::<_, String>((text, model, analysis))
        })
        .await
        .map_err(|e| format!("internal error: {e}"))?
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(Source {
            uri: uri.to_string(),
            path,
            text: built.0.into(),
            analyzed: Arc::new(Analyzed::new(built.1, Arc::new(built.2))),
            version: None,
        })
    }

    /// The kernel `target` means (named, or around its position).
    pub fn kernel(&self, target: &KernelTarget) -> Result<String, String> {
        let index = LineIndex::new(&self.text);
        resolve_kernel(&self.analyzed.model, &index, target)
    }

    /// The definition `target` means when its kernel is overloaded.
    pub fn overload(
        &self,
        target: &KernelTarget,
    ) -> Option<(cudalens_wgsl::KernelDefinition, usize)> {
        let index = LineIndex::new(&self.text);
        cudalens_ide::kernels::overload_at(&self.analyzed.model, &index, target)
    }

    /// Publishes (or clears, with an empty list) the transpiler's
    /// diagnostics on the CUDA file when it is open.
    fn wgsl_diagnostics(&self, events: &Events, diagnostics: Vec<TranspileDiagnostic>) {
        if let Some(version) = self.version {
            let _ = events.send(Event::WgslDiagnostics {
                uri: self.uri.clone(),
                version,
                text: self.text.clone(),
                diagnostics,
            });
        }
    }
}

/// What `cudalens.transpile` wrote.
pub struct Transpiled {
    pub path: PathBuf,
    pub kernel: String,
}

async fn report_untranspilable(
    ui: &dyn Ui,
    events: &Events,
    source: &Source,
    kernel: &str,
    found: Vec<TranspileDiagnostic>,
) {
    let errors: Vec<&str> = found
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.as_str())
        .collect();
    let first = errors.first().copied().unwrap_or("unsupported construct");
    let more = match errors.len().saturating_sub(1) {
        0 => String::new(),
        n => format!(" (and {n} more, see the problems list)"),
    };
    let message = format!("`{kernel}` cannot be transpiled to WGSL: {first}{more}");
    source.wgsl_diagnostics(events, found);
    ui.show(Level::Error, message).await;
}

// ---------------------------------------------------------------- transpile

/// `cudalens.transpile`: writes `<file>.<kernel>.wgsl` (+ `.json` sidecar)
/// and opens it. `None` when nothing was written (the user was told why);
/// `Err` for an internal error.
pub async fn transpile(
    ui: &dyn Ui,
    events: &Events,
    source: Result<Source, String>,
    target: &KernelTarget,
) -> Result<Option<Transpiled>, String> {
    let source = match source {
        Ok(s) => s,
        Err(e) => {
            ui.show(Level::Error, e).await;
            return Ok(None);
        }
    };
    let kernel = match source.kernel(target) {
        Ok(k) => k,
        Err(e) => {
            ui.show(Level::Error, e).await;
            return Ok(None);
        }
    };
    // The editor's transpile allows warp intrinsics and `half`: the sidecar
    // lists the features the shader then needs.
    let mut opts = gpu_actions::transpile_options(&source.path, true, true);
    let overload = source.overload(target);
    opts.definition = overload.as_ref().map(|(d, _)| d.clone());
    let (analyzed, text, name) = (source.analyzed.clone(), source.text.clone(), kernel.clone());
    let compiled = tokio::task::spawn_blocking(move || {
        let headers = cudalens_syntax::preprocess::include::FsProvider;
        gpu_actions::transpile_guarded(&analyzed.model, &text, &headers, &name, &opts)
    })
    .await
    .map_err(|e| format!("internal error: {e}"))?;
    let out = match compiled {
        Ok(out) => out,
        Err(found) => {
            report_untranspilable(ui, events, &source, &kernel, found).await;
            return Ok(None);
        }
    };
    source.wgsl_diagnostics(events, Vec::new());

    let path =
        gpu_actions::overload_wgsl_path(&source.path, &kernel, overload.map_or(0, |(_, n)| n));
    let check = path.clone();
    let foreign = tokio::task::spawn_blocking(move || gpu_actions::foreign_output(&check))
        .await
        .ok()
        .flatten();
    let force = match foreign {
        Some(f) => {
            let question = format!(
                "{} exists and was not generated by cudalens. Overwrite?",
                f.display()
            );
            let answer = ui.ask(Level::Warning, question, &[OVERWRITE, CANCEL]).await;
            if answer.as_deref() != Some(OVERWRITE) {
                let message = format!("{} was left unchanged", f.display());
                ui.show(Level::Info, message).await;
                return Ok(None);
            }
            true
        }
        None => false,
    };
    let to = path.clone();
    let written =
        tokio::task::spawn_blocking(move || gpu_actions::write_outputs(&to, &out, force)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            ui.show(Level::Error, e.to_string()).await;
            return Ok(None);
        }
        Err(e) => return Err(format!("internal error: {e}")),
    }
    ui.open(&path).await;
    Ok(Some(Transpiled { path, kernel }))
}

// ---------------------------------------------------------------- benchmark

/// Where a benchmark's results go.
pub struct BenchmarkSetup {
    /// The workspace (history and `.cudalens/reports`).
    pub root: PathBuf,
    /// Target architecture (settings), for the tuning features stored with runs.
    pub arch: String,
    /// Autotune (every candidate workgroup size) rather than one run.
    pub sweep: bool,
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

/// `cudalens.benchmark` / `cudalens.autotune`, run to the end (callers
/// spawn it): progress, a summary message, the report opened.
pub async fn benchmark(
    ui: Arc<dyn Ui>,
    events: Events,
    gpu: GpuWorker,
    source: Result<Source, String>,
    target: KernelTarget,
    setup: BenchmarkSetup,
) {
    let ui = &*ui;
    let source = match source {
        Ok(s) => s,
        Err(e) => return ui.show(Level::Error, e).await,
    };
    let kernel = match source.kernel(&target) {
        Ok(k) => k,
        Err(e) => return ui.show(Level::Error, e).await,
    };
    // The benchmark compiles the first definition of an overloaded name:
    // refuse another rather than time the wrong kernel.
    if let Some((_, n)) = source.overload(&target).filter(|(_, n)| *n > 1) {
        let message = format!(
            "`{kernel}` here is definition {n} of an overloaded kernel: benchmarks and autotuning measure the first definition only (Transpile compiles this one)"
        );
        return ui.show(Level::Error, message).await;
    }
    let verb = if setup.sweep {
        "Autotuning"
    } else {
        "Benchmarking"
    };
    let progress = ui.progress(format!("{verb} {kernel}")).await;
    let cancel = progress.cancel_flag();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let _ = tx.send("waiting for the GPU".to_string());
    let job = Job {
        cancel: cancel.clone(),
        progress: tx,
        source_path: source.path.clone(),
        text: source.text.clone(),
        analyzed: source.analyzed.clone(),
        kernel: kernel.clone(),
        setup,
    };
    let measured = gpu.run(move |slot| job.measure(slot));
    tokio::pin!(measured);
    let deadline = tokio::time::sleep(TOTAL_TIMEOUT);
    tokio::pin!(deadline);
    let outcome = loop {
        tokio::select! {
            Some(message) = rx.recv() => progress.report(message).await,
            joined = &mut measured => {
                break match joined {
                    Ok(Ok(measured)) => tokio::task::spawn_blocking(move || measured.finish())
                        .await
                        .unwrap_or_else(|e| Err(JobError::Failed(format!("internal error: {e}")))),
                    Ok(Err(e)) => Err(e),
                    Err(e) => Err(JobError::Failed(e)),
                };
            }
            () = &mut deadline => {
                cancel.store(true, Ordering::SeqCst);
                break Err(JobError::Failed(format!(
                    "{kernel}: no result after {} s; stopped", TOTAL_TIMEOUT.as_secs()
                )));
            }
        }
    };
    progress.finish().await;
    match outcome {
        Ok(done) => {
            source.wgsl_diagnostics(&events, Vec::new());
            ui.show(Level::Info, done.summary).await;
            for w in done.warnings {
                ui.show(Level::Warning, w).await;
            }
            if let Some(report) = done.report {
                ui.open(&report).await;
            }
        }
        Err(JobError::Transpile(found)) => {
            report_untranspilable(ui, &events, &source, &kernel, found).await;
        }
        Err(JobError::Cancelled) => ui.show(Level::Info, format!("{kernel}: cancelled")).await,
        Err(JobError::Failed(e)) => ui.show(Level::Error, e).await,
    }
}

/// The GPU part of a benchmark, run on the worker.
struct Job {
    cancel: Arc<AtomicBool>,
    progress: tokio::sync::mpsc::UnboundedSender<String>,
    source_path: PathBuf,
    text: Arc<str>,
    analyzed: Arc<Analyzed>,
    kernel: String,
    setup: BenchmarkSetup,
}

/// What the GPU measured; the rest is files.
struct Measured {
    job: Job,
    adapter: AdapterReport,
    prepared: Prepared,
    bench: Option<BenchmarkResult>,
    sweep: Option<AutotuneResult>,
    warnings: Vec<String>,
}

impl Job {
    fn say(&self, message: impl Into<String>) {
        let _ = self.progress.send(message.into());
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    fn measure(self, slot: &mut RunnerSlot) -> Result<Measured, JobError> {
        let gpu = |e: cudalens_gpu::GpuError| JobError::Failed(format!("{}: {e}", self.kernel));
        if self.cancelled() {
            return Err(JobError::Cancelled);
        }
        if !slot.is_open() {
            self.say("opening the GPU");
        }
        let runner = slot.get().map_err(gpu)?;
        let adapter = runner.adapter().map_err(gpu)?;
        self.say(format!("compiling for {}", adapter.name));
        // The program's own launch (its first of this kernel), as `cudalens
        // bench` with no flags runs it; what the host code does not give is
        // assumed, and the report says so.
        let opts = BenchOptions {
            timeout: RUN_TIMEOUT,
            host_launch: Some(0),
            ..BenchOptions::default()
        };
        let model = &self.analyzed.model;
        let mut prepared = gpu_actions::prepare(
            model,
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
        prepared.tuning = tuning_data::tuning_record(
            model,
            &self.analyzed.analysis,
            &self.kernel,
            &self.setup.arch,
            &adapter,
        );
        if self.cancelled() {
            return Err(JobError::Cancelled);
        }
        let mut warnings = Vec::new();
        let (bench, sweep) = if self.setup.sweep {
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
            let measured = sweep.result.entries.iter().any(|e| e.median_ms().is_some());
            if sweep.cancelled && !measured {
                return Err(JobError::Cancelled);
            }
            if sweep.cancelled {
                warnings.push(format!(
                    "{}: autotune cancelled; results of the candidates run so far",
                    self.kernel
                ));
            }
            (None, Some(sweep.result))
        } else {
            let launches = prepared.bench.warmup + prepared.bench.iterations;
            self.say(format!("running {launches} launches"));
            (Some(runner.run(&prepared.bench).map_err(gpu)?), None)
        };
        Ok(Measured {
            job: self,
            adapter,
            prepared,
            bench,
            sweep,
            warnings,
        })
    }
}

impl Measured {
    /// History, report, summary.
    fn finish(self) -> Result<Done, JobError> {
        let Measured {
            job,
            adapter,
            prepared,
            bench,
            sweep,
            mut warnings,
        } = self;
        let (bench, sweep) = (bench.as_ref(), sweep.as_ref());
        let kernel = &job.kernel;
        // A time over clamped accesses is another workload's: an error, not
        // a result (and not history).
        if let Some(e) = gpu_actions::clamp_error(&prepared, bench, sweep) {
            return Err(JobError::Failed(format!("{kernel}: {e}")));
        }
        let root = &job.setup.root;
        let label = gpu_actions::display_relative(&job.source_path, root);
        let history = gpu_actions::record_history(
            root,
            &label,
            &prepared,
            gpu_actions::Measurements {
                adapter: &adapter,
                bench,
                native_ms: None,
                sweep,
            },
        );
        let runs = match &history {
            Ok(h) => {
                if let Some(r) = &h.regression {
                    warnings.push(gpu_actions::regression_warning(kernel, r));
                }
                &h.runs[..]
            }
            Err(e) => {
                warnings.push(format!("{kernel}: the run was not recorded: {e}"));
                &[][..]
            }
        };
        let file = job
            .source_path
            .file_name()
            .map_or_else(|| label.clone(), |f| f.to_string_lossy().into_owned());
        let markdown = gpu_actions::report_markdown(&adapter, &prepared, &file, bench, sweep, runs);
        let report = root
            .join(".cudalens")
            .join("reports")
            .join(format!("{kernel}.md"));
        let report = match gpu_actions::write_report(&report, &markdown) {
            Ok(()) => Some(report),
            Err(e) => {
                warnings.push(format!("{kernel}: report not written: {e}"));
                None
            }
        };
        if let Some(why) = sweep.and_then(|s| s.work_depends_on_launch.as_ref())
            && sweep.is_some_and(|s| s.entries.iter().any(|e| e.median_ms().is_some()))
        {
            // Each candidate computed something else: times, not a winner.
            return Ok(Done {
                summary: format!(
                    "{kernel}: autotune not ranked: the kernel's work depends on its block size ({why}); the times are in the report"
                ),
                warnings,
                report,
            });
        }
        let best = bench.or(sweep.and_then(|s| s.best_result.as_ref()));
        let Some(best) = best else {
            return Err(JobError::Failed(format!(
                "{kernel}: no workgroup size could run (see the report)"
            )));
        };
        let mut summary = gpu_actions::summary_line(best, &adapter);
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
