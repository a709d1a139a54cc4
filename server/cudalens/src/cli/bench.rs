//! `cudalens bench`: transpile one kernel, run and time it on the GPU (or
//! sweep workgroup sizes with `--autotune`), record the run in the
//! workspace's history and warn about regressions.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Value, json};

use cudalens_gpu::report::format_utc;
use cudalens_gpu::{
    AdapterReport, AutotuneResult, BenchmarkResult, CandidateOutcome, RuntimeChecks,
};

use cudalens_analysis::host_launch::HostLaunch;

use super::progress::Progress;
use super::{exit, files, transpile};
use crate::gpu_actions::format::dims;
use crate::gpu_actions::{self, BenchOptions, HistoryOutcome, PrepareError, Prepared, format_ms};
use crate::services::gpu::GpuWorker;
use crate::tuning_data;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The CUDA source file.
    pub file: PathBuf,
    /// The kernel to run.
    #[arg(long)]
    pub kernel: String,
    /// Problem size: N elements (N×N for 2D kernels); grid = ceil(N / block).
    #[arg(long, conflicts_with = "grid")]
    pub size: Option<u32>,
    /// Grid (blocks): `X[,Y[,Z]]`.
    #[arg(long, value_parser = parse_dims)]
    pub grid: Option<[u32; 3]>,
    /// Block (threads): `X[,Y[,Z]]`.
    #[arg(long, value_parser = parse_dims)]
    pub block: Option<[u32; 3]>,
    /// Timed launches.
    #[arg(long, default_value_t = 20)]
    pub iterations: u32,
    /// Untimed launches before timing.
    #[arg(long, default_value_t = 3)]
    pub warmup: u32,
    /// A scalar argument: `NAME=VALUE` (repeatable; overrides the size heuristic).
    #[arg(long = "arg", value_name = "NAME=VALUE", value_parser = parse_arg)]
    pub args: Vec<(String, f64)>,
    /// A buffer's size in elements: `NAME=ELEMENTS`, NAME the kernel's
    /// pointer parameter (repeatable). For buffers the program sizes at run
    /// time, which the analysis cannot bound; a run that indexes past it is
    /// reported as clamped, as always.
    #[arg(long = "buffer", value_name = "NAME=ELEMENTS", value_parser = parse_buffer)]
    pub buffers: Vec<(String, u64)>,
    /// The launch's dynamic shared memory in bytes (the third `<<<>>>`
    /// argument), where no launch in the code gives it; without it bench
    /// assumes one element per thread and says so.
    #[arg(long, value_name = "BYTES")]
    pub shared_bytes: Option<u32>,
    /// Sweep workgroup sizes and report the fastest.
    #[arg(long)]
    pub autotune: bool,
    /// Prefer the first adapter whose name contains NAME.
    #[arg(long, value_name = "NAME")]
    pub adapter: Option<String>,
    /// Write the Markdown report (with the sweep's SVG chart) to this file.
    #[arg(long, value_name = "OUT.md")]
    pub report: Option<PathBuf>,
    /// Unroll every loop the transpiler can unroll safely by N (overrides `#pragma unroll`;
    /// 1 turns unrolling off).
    #[arg(long, value_name = "N")]
    pub unroll: Option<u32>,
    /// wgpu's runtime checks: `bounds` (default) clamps every out-of-bounds access but
    /// runs loops as written, as CUDA does (an endless loop runs into --timeout);
    /// `all` also bounds every loop's iterations (wgpu's default, slower: the counters
    /// keep drivers from unrolling); `none` drops the clamps too, for kernels you trust
    /// (an out-of-bounds access is then undefined behaviour; a lost GPU is recovered).
    #[arg(long, value_enum, default_value_t = ChecksArg::Bounds)]
    pub runtime_checks: ChecksArg,
    /// Same as `--runtime-checks none`.
    #[arg(long, conflicts_with = "runtime_checks")]
    pub no_runtime_checks: bool,
    #[command(flatten)]
    pub preprocessor: transpile::PreprocessorArgs,
    /// Template arguments for the kernel, as written (`float,256`), when no
    /// launch in the file gives them.
    #[arg(long, value_name = "ARGS", value_parser = transpile::parse_template_args)]
    pub instantiate: Option<transpile::TemplateArgs>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Bound on each run's GPU work, in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Also compile the kernel with nvcc and run it natively on the same inputs,
    /// grid, block and arguments (CUDA events, same warm-up and iterations); print
    /// native time, WGSL time, their ratio and the output comparison. Without nvcc
    /// or a CUDA device this is said and skipped.
    #[arg(long, conflicts_with = "autotune")]
    pub native: bool,
    /// The nvcc to use for --native (default: `nvcc` on PATH).
    #[arg(long, value_name = "PATH", requires = "native")]
    pub nvcc: Option<PathBuf>,
    /// A flag for nvcc instead of the defaults (`-O3 -arch=native`, unresolved host
    /// symbols allowed; repeatable:
    /// `--nvcc-flag=-O3 --nvcc-flag=-arch=sm_90`).
    #[arg(
        long = "nvcc-flag",
        value_name = "FLAG",
        allow_hyphen_values = true,
        requires = "native"
    )]
    pub nvcc_flags: Vec<String>,
    /// Which launch of the kernel in the file (1-based, file order) gives the
    /// grid, block and scalar arguments the flags do not.
    #[arg(long = "launch", value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub launch_index: u32,
    /// Print the launch read from the program's host code (grid, block,
    /// scalars, buffer sizes and every assumption) and stop: nothing is
    /// transpiled or run, no GPU is opened. With --json, one JSON object.
    #[arg(long, conflicts_with_all = ["autotune", "native", "size"])]
    pub print_launch: bool,
    /// Relative tolerance for float outputs in the --native comparison
    /// (|wgsl − native| ≤ 1e-5 + REL·|native|).
    #[arg(long, value_name = "REL", default_value_t = 1e-4, requires = "native")]
    pub tolerance: f64,
}

/// `--runtime-checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChecksArg {
    All,
    Bounds,
    None,
}

impl From<ChecksArg> for RuntimeChecks {
    fn from(c: ChecksArg) -> Self {
        match c {
            ChecksArg::All => RuntimeChecks::Checked,
            ChecksArg::Bounds => RuntimeChecks::BoundsOnly,
            ChecksArg::None => RuntimeChecks::Unchecked,
        }
    }
}

fn parse_dims(text: &str) -> Result<[u32; 3], String> {
    crate::pipeline::parse_block(text)
        .ok_or_else(|| format!("`{text}` is not X[,Y[,Z]] (positive integers)"))
}

fn parse_buffer(text: &str) -> Result<(String, u64), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=ELEMENTS"))?;
    let value: u64 = value
        .trim()
        .parse()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("`{value}` is not a positive number of elements"))?;
    Ok((name.trim().to_string(), value))
}

fn parse_arg(text: &str) -> Result<(String, f64), String> {
    let (name, value) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))?;
    let value: f64 = value
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not a number"))?;
    Ok((name.trim().to_string(), value))
}

/// A run's error, with what bench assumed that can cause it: wgpu rejects
/// a pipeline whose override values (block size, `extern __shared__`
/// elements) make a constant index leave its array, which a launch whose
/// dynamic shared size bench had to assume does (HeCBench's ced, launched
/// from a lambda bench does not read).
fn explain_run_error(e: cudalens_gpu::GpuError, prepared: &gpu_actions::Prepared) -> String {
    let message = e.to_string();
    if !message.contains("Pipeline constant error") {
        return message;
    }
    match &prepared.launch.dynamic_shared {
        Some((bytes, origin)) if origin.starts_with("assumed") => format!(
            "{message}\n  note: the kernel's `extern __shared__` array has {bytes} bytes, an assumption (no launch in the code gives its size); a constant index past it makes the pipeline invalid: give the launch's size with --shared-bytes"
        ),
        _ => format!(
            "{message}\n  note: the kernel is invalid for this launch's values (block size, `extern __shared__` bytes): a constant index leaves its array"
        ),
    }
}

/// A failure, already described; carries the exit status.
struct Failed(u8);

fn fail(message: impl std::fmt::Display) -> Failed {
    eprintln!("error: {message}");
    Failed(exit::FINDINGS)
}

pub fn run(args: Args) -> ExitCode {
    match run_inner(&args) {
        Ok(()) => ExitCode::from(exit::OK),
        Err(Failed(code)) => ExitCode::from(code),
    }
}

fn run_inner(args: &Args) -> Result<(), Failed> {
    let text = files::read_source(&args.file, u64::MAX).map_err(|e| {
        eprintln!("error: {}: {e}", args.file.display());
        Failed(exit::USAGE)
    })?;
    let model = gpu_actions::model_of_file(&args.file, &text, &args.preprocessor.flags());
    let kernels = gpu_actions::kernel_names(&model);
    // A kernel the file includes from another file (Rodinia's `needle.cu`
    // includes `needle_kernel.cu`) is benchmarked when named: the program
    // compiles it as part of this file, as `transpile --included` does.
    let included = model
        .kernels()
        .any(|k| k.name == args.kernel && k.body.is_some());
    if !kernels.contains(&args.kernel) && !included {
        eprintln!(
            "error: no kernel `{}` in {} (kernels: {})",
            args.kernel,
            args.file.display(),
            kernels.join(", ")
        );
        return Err(Failed(exit::USAGE));
    }
    // An overloaded name: the launch analysis and the benchmark take the
    // first definition; say so rather than time another silently.
    let definitions = cudalens_wgsl::kernel_definitions(&model, &args.kernel);
    if let [first, _, ..] = definitions.as_slice() {
        let line = |f: &cudalens_syntax::model::Function| {
            // The main file's text is read already; a header's is read here.
            let header =
                (f.file.as_deref()).map(|h| files::read_source(h, u64::MAX).unwrap_or_default());
            cudalens_syntax::LineIndex::new(header.as_deref().unwrap_or(&text))
                .position(f.name_span.start)
                .line
                + 1
        };
        eprintln!(
            "note: `{}` has {} definitions (overloads): `bench` measures the first, at line {} (`transpile` compiles each)",
            args.kernel,
            definitions.len(),
            line(first)
        );
    }
    let host_index = args.launch_index.saturating_sub(1) as usize;
    let local = cudalens_analysis::host_launch::launch_sites(&model, &args.kernel).len();
    // No launch here: one made by a file beside it that includes it.
    let (sites, host) = if local > 0 {
        let host = cudalens_analysis::host_launch::resolve(&model, &text, &args.kernel, host_index);
        (local, host)
    } else {
        match includer_launch(args, &text, host_index) {
            (0, _) => header_launch(&model, &text, &args.kernel, host_index),
            found => found,
        }
    };
    if args.launch_index > 1 && host_index >= sites {
        eprintln!(
            "error: --launch {}: the file launches `{}` {sites} time(s)",
            args.launch_index, args.kernel
        );
        return Err(Failed(exit::USAGE));
    }
    if args.print_launch {
        print_launch(args, &model, host);
        return Ok(());
    }
    // The GPU worker that also serves the editor's benchmarks (one runner, its jobs in order).
    let gpu = GpuWorker::start(args.adapter.clone());
    let opts = BenchOptions {
        size: args.size,
        grid: args.grid,
        block: args.block,
        warmup: args.warmup,
        iterations: args.iterations.max(1),
        args: args.args.clone(),
        timeout: Duration::from_secs(args.timeout.max(1)),
        runtime_checks: if args.no_runtime_checks {
            RuntimeChecks::Unchecked
        } else {
            args.runtime_checks.into()
        },
        unroll: args.unroll,
        instantiate: args.instantiate.clone().map(|t| t.0),
        host_launch: Some(host_index),
        host_given: host,
        buffers: args.buffers.clone(),
        shared_bytes: args.shared_bytes,
    };
    let (job_model, job_text) = (model.clone(), text.clone());
    let (file, kernel) = (args.file.clone(), args.kernel.clone());
    let compiled = gpu.run_blocking(move |slot| {
        let adapter = slot.get()?.adapter()?;
        let prepared = gpu_actions::prepare(&job_model, &job_text, &file, &kernel, &opts, &adapter);
        Ok::<_, cudalens_gpu::GpuError>((adapter, prepared))
    });
    let (adapter, prepared) = compiled.map_err(fail)?.map_err(fail)?;
    let mut prepared = match prepared {
        Ok(p) => p,
        Err(PrepareError::Transpile(diagnostics)) => {
            transpile::print_diagnostics(&args.file, &text, &diagnostics);
            return Err(fail(format_args!(
                "kernel `{}` cannot be transpiled to WGSL",
                args.kernel
            )));
        }
        Err(PrepareError::Other(e)) => return Err(fail(e)),
    };
    let config = cudalens_analysis::AnalysisConfig::default();
    let analysis = cudalens_analysis::analyze(&model, &text, &config);
    prepared.tuning =
        tuning_data::tuning_record(&model, &analysis, &args.kernel, &config.arch, &adapter);
    if !args.json && !prepared.warnings.is_empty() {
        transpile::print_diagnostics(&args.file, &text, &prepared.warnings);
    }

    let (job, sweep, quiet) = (prepared.clone(), args.autotune, args.json);
    let measured = gpu.run_blocking(move |slot| {
        let runner = slot.get()?;
        if sweep {
            // The candidate count is known once the sweep starts: the bar is made then.
            let mut progress: Option<Progress> = None;
            let swept = gpu_actions::autotune_stepwise(runner, &job, |i, n, wg| {
                let bar = progress.get_or_insert_with(|| Progress::new(n, "candidates", !quiet));
                if i > 0 {
                    bar.done_one();
                }
                bar.current(&dims(wg));
                true
            });
            if let Some(bar) = &progress {
                bar.finish();
            }
            Ok::<_, cudalens_gpu::GpuError>((None, Some(swept?.result)))
        } else {
            Ok((Some(runner.run(&job.bench)?), None))
        }
    });
    let (bench, sweep) = measured
        .map_err(fail)?
        .map_err(|e| fail(explain_run_error(e, &prepared)))?;

    let root = gpu_actions::workspace_root_for(&args.file);
    let label = gpu_actions::display_relative(&args.file, &root);
    let clamped = gpu_actions::clamp_error(&prepared, bench.as_ref(), sweep.as_ref());
    // The native run, on the WGSL run's inputs and launch (not when the
    // WGSL run measured another workload); before the history, which keeps its time.
    let native_outcome = match (&bench, &clamped) {
        (Some(b), None) if args.native => Some(run_native(args, &model, &prepared, b, &root)),
        _ => None,
    };
    let native_ms = match &native_outcome {
        Some(Ok(gpu_actions::native::NativeOutcome::Measured { timing, .. })) => {
            Some(timing.median_ms)
        }
        _ => None,
    };
    // A run that timed clamped accesses measured another workload: it
    // stays out of the history (it would pass for a speed-up).
    let history = match &clamped {
        Some(_) => Err(cudalens_gpu::GpuError::InvalidBenchmark(
            "accesses were clamped (see the error below)".into(),
        )),
        None => gpu_actions::record_history(
            &root,
            &label,
            &prepared,
            gpu_actions::Measurements {
                adapter: &adapter,
                bench: bench.as_ref(),
                native_ms,
                sweep: sweep.as_ref(),
            },
        ),
    };
    if let Some(out) = &args.report {
        let runs = history.as_ref().map_or(&[][..], |h| &h.runs[..]);
        let md = gpu_actions::report_markdown(
            &adapter,
            &prepared,
            &file_name(&args.file),
            bench.as_ref(),
            sweep.as_ref(),
            runs,
        );
        gpu_actions::write_report(out, &md).map_err(fail)?;
        if !args.json {
            eprintln!("report: {}", out.display());
        }
    }
    if args.json {
        let mut value = json_output(
            &prepared,
            &adapter,
            bench.as_ref(),
            sweep.as_ref(),
            &history,
        );
        if let (Some(outcome), Value::Object(map)) = (&native_outcome, &mut value) {
            map.insert(
                "native".into(),
                match outcome {
                    Ok(o) => serde_json::to_value(o).unwrap_or(Value::Null),
                    Err(e) => json!({ "error": e }),
                },
            );
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
    } else {
        print_text(
            &prepared,
            &file_name(&args.file),
            &adapter,
            bench.as_ref(),
            sweep.as_ref(),
        );
        print_history(&prepared.kernel, &history);
    }
    if let Some(e) = &clamped {
        eprintln!("error: {e}");
        return Err(Failed(exit::FINDINGS));
    }
    if let Some(outcome) = &native_outcome {
        print_native(args, outcome, bench.as_ref(), args.json)?;
    }
    if let Some(sweep) = &sweep
        && sweep.entries.iter().all(|e| e.median_ms().is_none())
    {
        return Err(fail("no candidate workgroup size could run"));
    }
    Ok(())
}

/// `--native`: the same launch through nvcc, timed and compared.
fn run_native(
    args: &Args,
    model: &cudalens_syntax::FileModel,
    prepared: &Prepared,
    wgsl: &BenchmarkResult,
    root: &std::path::Path,
) -> Result<gpu_actions::native::NativeOutcome, String> {
    use crate::gpu_actions::native::{self, NvccOptions, Tolerance};
    let inputs = prepared.bench.input_contents().map_err(|e| e.to_string())?;
    let spec = native::native_spec(
        model,
        &args.file,
        &prepared.bench,
        &prepared.instantiation,
        &inputs,
    )?;
    let mut preprocessor = Vec::new();
    let flags = gpu_actions::compile_commands_flags(Some(&args.file));
    let cli = args.preprocessor.flags();
    for dir in flags.include_dirs.iter().chain(&cli.include_dirs) {
        preprocessor.push(format!("-I{}", dir.display()));
    }
    for (name, value) in flags.defines.iter().chain(&cli.defines) {
        preprocessor.push(format!("-D{name}={value}"));
    }
    let nvcc = NvccOptions {
        nvcc: args.nvcc.clone(),
        flags: args.nvcc_flags.clone(),
        preprocessor,
    };
    let tol = Tolerance {
        rel: args.tolerance,
        ..Tolerance::default()
    };
    let dir = root
        .join(".cudalens")
        .join("native")
        .join(cudalens_wgsl::names::wgsl_ident(&args.kernel));
    native::run_native(&spec, &inputs, &wgsl.outputs, &dir, &nvcc, tol)
}

/// Prints the native outcome (text mode) and fails when it failed or an
/// output differs; a missing nvcc or device is only said.
fn print_native(
    args: &Args,
    outcome: &Result<gpu_actions::native::NativeOutcome, String>,
    wgsl: Option<&BenchmarkResult>,
    json: bool,
) -> Result<(), Failed> {
    use crate::gpu_actions::native::NativeOutcome;
    let outcome = outcome
        .as_ref()
        .map_err(|e| fail(format_args!("--native: {e}")))?;
    match outcome {
        NativeOutcome::Unavailable(why) => {
            eprintln!("native:    skipped: {why}");
            Ok(())
        }
        NativeOutcome::Measured {
            timing,
            outputs,
            tolerance,
            harness,
        } => {
            let wgsl_ms = wgsl.map_or(f64::NAN, |w| w.timing.median_ms);
            if !json {
                println!(
                    "native:    median {} ms, min {} ms ({} launches, CUDA events, {}; harness {})",
                    format_ms(timing.median_ms),
                    format_ms(timing.min_ms),
                    timing.samples,
                    timing.device,
                    harness.display()
                );
                println!(
                    "ratio:     native/WGSL {:.2} (native {} ms, WGSL {} ms)",
                    timing.median_ms / wgsl_ms,
                    format_ms(timing.median_ms),
                    format_ms(wgsl_ms)
                );
                for o in outputs {
                    if o.mismatches == 0 {
                        println!(
                            "compare:   {} {} elements equal (floats within {} relative, {} absolute; max abs error {:e})",
                            o.name, o.elements, tolerance.rel, tolerance.abs, o.max_abs_error
                        );
                    } else {
                        let (i, w, n) = o.first_mismatch.unwrap_or((0, 0.0, 0.0));
                        println!(
                            "compare:   {} {} values differ (first: value {i}, WGSL {w}, native {n}; max abs error {:e})",
                            o.name, o.mismatches, o.max_abs_error
                        );
                    }
                }
                if outputs.is_empty() {
                    println!("compare:   the kernel writes no buffer the runs could compare");
                }
            }
            let bad = outputs.iter().filter(|o| o.mismatches > 0).count();
            if bad > 0 {
                return Err(fail(format_args!(
                    "--native: {bad} output(s) of `{}` differ between WGSL and native CUDA",
                    args.kernel
                )));
            }
            Ok(())
        }
    }
}

fn json_output(
    prepared: &Prepared,
    adapter: &AdapterReport,
    bench: Option<&BenchmarkResult>,
    sweep: Option<&AutotuneResult>,
    history: &Result<HistoryOutcome, cudalens_gpu::GpuError>,
) -> Value {
    let mut value = match (bench, sweep) {
        (Some(b), _) => serde_json::to_value(b).unwrap_or(Value::Null),
        (None, Some(s)) => serde_json::to_value(s).unwrap_or(Value::Null),
        (None, None) => json!({}),
    };
    if let Value::Object(map) = &mut value {
        map.insert("kernel".into(), json!(prepared.kernel));
        map.insert(
            "mode".into(),
            json!(if sweep.is_some() {
                "autotune"
            } else {
                "benchmark"
            }),
        );
        map.insert(
            "launch".into(),
            serde_json::to_value(&prepared.launch).unwrap_or(Value::Null),
        );
        map.insert("backend".into(), json!(adapter.backend));
        let mut errors = Vec::new();
        if let Some(e) = gpu_actions::clamp_error(prepared, bench, sweep) {
            errors.push(json!({ "code": "clamped-accesses", "message": e }));
        }
        map.insert("errors".into(), json!(errors));
        map.insert(
            "clamps_counted".into(),
            json!(prepared.launch.clamps_not_counted.is_none()),
        );
        map.insert(
            "runtime_checks".into(),
            serde_json::to_value(prepared.bench.runtime_checks).unwrap_or(Value::Null),
        );
        if let Some(s) = sweep {
            let best = s.best_entry().map(|e| e.workgroup_size);
            map.insert("best_workgroup_size".into(), json!(best));
            map.insert("ranked".into(), json!(s.work_depends_on_launch.is_none()));
        }
        map.insert(
            "history".into(),
            match history {
                Ok(h) => json!({
                    "path": h.path,
                    "previous_runs": h.runs.len().saturating_sub(1),
                    "regression": h.regression,
                }),
                Err(e) => json!({ "error": e.to_string() }),
            },
        );
    }
    value
}

fn print_text(
    prepared: &Prepared,
    file: &str,
    adapter: &AdapterReport,
    bench: Option<&BenchmarkResult>,
    sweep: Option<&AutotuneResult>,
) {
    println!("kernel:    {}", prepared.kernel);
    println!(
        "adapter:   {} ({}, {})",
        adapter.name, adapter.backend, adapter.device_type
    );
    for line in gpu_actions::format::launch_lines(&prepared.launch, file) {
        println!("{line}");
    }
    if let Some(b) = bench {
        print_result(b);
    }
    if let Some(s) = sweep {
        println!("\nautotune (problem {}):", dims(s.problem_size));
        if let Some(why) = &s.work_depends_on_launch {
            println!(
                "warning:   not a ranking: the kernel's work depends on its block size ({why}); every candidate ran the same problem and buffers, but computed something else"
            );
        }
        println!(
            "  {:>10} {:>12} {:>12} {:>12} {:>10}",
            "workgroup", "grid", "median ms", "p95 ms", "GB/s"
        );
        for (i, e) in s.entries.iter().enumerate() {
            let mark = if Some(i) == s.best { "*" } else { " " };
            match &e.outcome {
                CandidateOutcome::Measured {
                    timing, gb_per_s, ..
                } => println!(
                    "{mark} {:>10} {:>12} {:>12} {:>12} {:>10}",
                    dims(e.workgroup_size),
                    dims(e.grid),
                    format_ms(timing.median_ms),
                    format_ms(timing.p95_ms),
                    gpu_actions::thousands(*gb_per_s)
                ),
                CandidateOutcome::Skipped { reason } => println!(
                    "{mark} {:>10} {:>12} skipped: {reason}",
                    dims(e.workgroup_size),
                    dims(e.grid)
                ),
            }
        }
        if let Some(best) = s.best_entry() {
            println!(
                "best:      workgroup {} (median {} ms)",
                dims(best.workgroup_size),
                best.median_ms().map_or("?".into(), format_ms)
            );
        }
        if let Some(b) = &s.best_result {
            print_result(b);
        }
    }
}

fn file_name(path: &std::path::Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The kernel's launch number `index` (0-based) made by the first file
/// beside FILE that includes it and launches the kernel (Rodinia's
/// `needle.cu` including `needle_kernel.cu`), read from that file's host
/// code; with how many launches of the kernel that file makes.
fn includer_launch(args: &Args, text: &str, index: usize) -> (usize, Option<HostLaunch>) {
    use cudalens_analysis::host_launch;
    let mut flags = gpu_actions::compile_commands_flags(Some(&args.file));
    let cli = args.preprocessor.flags();
    flags.include_dirs.extend(cli.include_dirs.iter().cloned());
    flags.defines.extend(cli.defines.iter().cloned());
    flags.undefines.extend(cli.undefines.iter().cloned());
    let provider = cudalens_syntax::preprocess::include::FsProvider;
    // (`needle_kernel.cu`'s parent is "": its directory is needed.)
    let path = std::path::absolute(&args.file).unwrap_or_else(|_| args.file.clone());
    for (from, from_text, from_model) in
        crate::launches_elsewhere::includers(&path, text, &flags, &provider)
    {
        let n = host_launch::launch_sites(&from_model, &args.kernel).len();
        if n == 0 {
            continue;
        }
        let host =
            host_launch::resolve(&from_model, &from_text, &args.kernel, index).map(|mut h| {
                h.origin = Some(format!("{}:{}", file_name(&from), h.line));
                h
            });
        return (n, host);
    }
    (0, None)
}

/// No launch in the file or in a file including it: one made in the
/// bodies of the headers it includes (a kernel's file that also launches it
/// from a host function, tpacf's `histogram_kernel.cu`), with what its
/// caller resolves there.
fn header_launch(
    model: &cudalens_syntax::FileModel,
    text: &str,
    kernel: &str,
    index: usize,
) -> (usize, Option<HostLaunch>) {
    let found = cudalens_syntax::model::header_launches(model, kernel, &|p| {
        // As the front end reads it: invalid UTF-8 replaced, not refused.
        files::read_source(p, u64::MAX).ok()
    });
    if found.is_empty() {
        return (0, None);
    }
    let n = found.len();
    let mut with = model.clone();
    with.launches
        .extend(found.into_iter().map(std::sync::Arc::new));
    (
        n,
        cudalens_analysis::host_launch::resolve(&with, text, kernel, index),
    )
}

/// Where the host code's launch numbers came from, one line each.
/// `--print-launch`: the launch from the host code, merged with the flags,
/// and the buffer sizes it implies; nothing runs.
fn print_launch(args: &Args, model: &cudalens_syntax::FileModel, host: Option<HostLaunch>) {
    use cudalens_analysis::host_launch::dims_text;
    let file = file_name(&args.file);
    let host_block = host.as_ref().and_then(|h| h.block.value);
    let host_grid = host.as_ref().and_then(|h| h.grid.value);
    let block = args.block.or(host_block);
    let grid = match (args.grid, host_grid, host_block, block) {
        (Some(g), ..) => Some(g),
        (None, Some(g), Some(hb), Some(b)) if hb != b => Some(std::array::from_fn(|i| {
            (g[i].saturating_mul(hb[i])).div_ceil(b[i])
        })),
        (None, g, ..) => g,
    };
    let mut assumptions: Vec<String> = host.as_ref().map_or_else(
        || {
            vec![format!(
                "no launch of `{}` in {file}: bench picks its default launch",
                args.kernel
            )]
        },
        |h| h.launch_assumptions(),
    );
    if let (None, Some(g), Some(hb), Some(b)) = (args.grid, host_grid, host_block, block)
        && hb != b
    {
        let threads: [u32; 3] = std::array::from_fn(|i| g[i].saturating_mul(hb[i]));
        assumptions.push(format!(
            "grid: the host code's {} threads re-divided by --block {}",
            dims_text(threads),
            dims_text(b)
        ));
    }
    let problem = match (grid, block) {
        (Some(g), Some(b)) => Some(std::array::from_fn::<u32, 3, _>(|i| {
            g[i].saturating_mul(b[i])
        })),
        _ => None,
    };
    // Scalars: --arg, else the host code's value, else bench's default.
    let params = model
        .function(&args.kernel)
        .map_or(&[][..], |f| &f.params[..]);
    let mut scalars = Vec::new();
    for (i, p) in params.iter().enumerate().filter(|(_, p)| p.ty.pointer == 0) {
        let hs = host
            .as_ref()
            .and_then(|h| h.scalars.iter().find(|s| s.index == i));
        let (value, origin) = if let Some((_, v)) = args.args.iter().find(|(n, _)| *n == p.name) {
            (*v, "--arg".to_string())
        } else if let Some(v) = hs.filter(|_| args.grid.is_none()).and_then(|s| s.value) {
            (v.as_f64(), "host".to_string())
        } else {
            let lower = p.name.to_ascii_lowercase();
            let is_int = !matches!(
                p.ty.base.as_str(),
                "float" | "double" | "half" | "__half" | "__nv_bfloat16"
            );
            let (v, what) = if is_int && gpu_actions::SIZE_NAMES.contains(&lower.as_str()) {
                (
                    problem.map_or_else(
                        || {
                            // bench's default problem, as `prepare` picks it.
                            let two_d = block.is_some_and(|b| b[1] > 1);
                            f64::from(if two_d {
                                gpu_actions::DEFAULT_SIZE_2D
                            } else {
                                gpu_actions::DEFAULT_SIZE_1D
                            })
                        },
                        |p| f64::from(p[0]),
                    ),
                    "bench's default for a size-like name, the problem's side",
                )
            } else {
                (1.0, "bench's default 1")
            };
            let why = hs
                .and_then(|s| s.how.unresolved.as_deref())
                .map_or(String::new(), |w| format!(" ({w})"));
            assumptions.push(format!("{} = {v}: {what}{why}", p.name));
            (v, format!("assumed: {what}"))
        };
        scalars.push((i, p.name.clone(), value, origin));
    }
    let buffers = match (grid, block) {
        (Some(g), Some(b)) => {
            let values: Vec<(usize, f64)> = scalars.iter().map(|(i, _, v, _)| (*i, *v)).collect();
            gpu_actions::launch::cuda_buffer_elements(model, &args.kernel, b, g, &values)
        }
        _ => Vec::new(),
    };
    // The program's allocations, in elements, for its own launch.
    let allocated = |name: &str| -> Option<u64> {
        let p = params.iter().find(|p| p.name == name)?;
        let bytes = host
            .as_ref()
            .filter(|_| args.grid.is_none())?
            .buffers
            .iter()
            .find(|b| b.param == name)?
            .bytes?;
        let size = model
            .const_env()
            .size_of(&p.ty.pointee())
            .filter(|&s| s > 0)?;
        Some(bytes / size)
    };
    if args.json {
        let value = json!({
            "file": args.file,
            "kernel": args.kernel,
            "location": host.as_ref().map(|h| h.location(&file)),
            "grid": grid,
            "block": block,
            "scalars": scalars.iter().map(|(_, n, v, o)| json!({"name": n, "value": v, "origin": o})).collect::<Vec<_>>(),
            "buffers": buffers.iter().map(|(n, e)| json!({"name": n, "elements": e, "allocated": allocated(n)})).collect::<Vec<_>>(),
            "assumptions": assumptions,
            "host": host,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return;
    }
    println!("kernel:    {}", args.kernel);
    if let Some(h) = &host {
        let source = if args.grid.is_some() { "flags" } else { "host" };
        for line in gpu_actions::format::host_lines(h, &file, source, block) {
            println!("{line}");
        }
    }
    let d = |v: Option<[u32; 3]>| v.map_or("?".to_string(), dims_text);
    println!("launch:    grid {} × block {}", d(grid), d(block));
    let shown: Vec<String> = scalars
        .iter()
        .map(|(_, n, v, o)| {
            if o == "host" {
                format!("{n}={v}")
            } else {
                format!("{n}={v} ({o})")
            }
        })
        .collect();
    println!(
        "scalars:   {}",
        if shown.is_empty() {
            "none".to_string()
        } else {
            shown.join(", ")
        }
    );
    if !buffers.is_empty() {
        let shown: Vec<String> = buffers
            .iter()
            .map(|(n, e)| match (e, allocated(n)) {
                (Some(e), Some(a)) if a > *e => format!("{n} {e} (the program allocates {a})"),
                (Some(e), _) => format!("{n} {e}"),
                (None, Some(a)) => {
                    format!("{n} ? (not bounded by the analysis; the program allocates {a})")
                }
                (None, None) => format!("{n} ? (not bounded by the analysis)"),
            })
            .collect();
        println!(
            "buffers:   {} elements (what the kernel can index)",
            shown.join(", ")
        );
    }
    for a in &assumptions {
        println!("assumed:   {a}");
    }
}

fn print_result(b: &BenchmarkResult) {
    let source = b.timing_description();
    println!(
        "time:      min {} / median {} / p95 {} ms ({} launches, {source})",
        format_ms(b.timing.min_ms),
        format_ms(b.timing.median_ms),
        format_ms(b.timing.p95_ms),
        b.timing.samples
    );
    println!(
        "bandwidth: {} GB/s ({} B read + {} B written per launch)",
        gpu_actions::thousands(b.gb_per_s),
        b.bytes_read,
        b.bytes_written
    );
    println!(
        "transfers: upload {} ms, download {} ms; compile {} ms",
        format_ms(b.upload_ms),
        format_ms(b.download_ms),
        format_ms(b.compile_ms)
    );
    println!("checks:    {}", b.runtime_checks.describe());
    match b.clamped_accesses {
        Some(0) => {
            println!("clamps:    no access was out of bounds (counted on the verification launch)")
        }
        Some(n) => println!(
            "clamps:    {n} accesses out of bounds and clamped: THE TIME ABOVE IS NOT THE KERNEL'S WORKLOAD"
        ),
        None => println!("clamps:    not counted"),
    }
    if b.blocks_per_workgroup > 1 {
        println!(
            "dispatch:  {} CUDA blocks per workgroup ({:?} workgroups): the kernel's blocks cannot interact, and small workgroups run slower on many GPUs",
            b.blocks_per_workgroup, b.dispatch
        );
    }
    for w in &b.warnings {
        println!("note:      {w}");
    }
}

fn print_history(kernel: &str, history: &Result<HistoryOutcome, cudalens_gpu::GpuError>) {
    match history {
        Ok(h) => {
            println!("history:   {}", h.path.display());
            let previous: Vec<_> = h.runs.iter().skip(1).collect();
            if !previous.is_empty() {
                println!("previous runs (newest first):");
                for run in previous {
                    let r = &run.record;
                    println!(
                        "  {}  workgroup {:>8}  median {} ms  {} GB/s",
                        format_utc(r.timestamp_ms),
                        dims(r.workgroup_size),
                        format_ms(r.median_ms),
                        gpu_actions::thousands(r.gb_per_s)
                    );
                }
            }
            if let Some(regression) = &h.regression {
                eprintln!(
                    "warning: {}",
                    gpu_actions::regression_warning(kernel, regression)
                );
            }
        }
        Err(e) => eprintln!("warning: the run was not recorded: {e}"),
    }
}
