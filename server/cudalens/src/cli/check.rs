//! `cudalens check`: analyse files and directories, print diagnostics like
//! rustc, as a JSON report, SARIF or GitHub annotations (on stdout and/or to
//! files), and exit with a status CI can act on (see [`super::exit`]).
//!
//! What is reported can be narrowed by `cudalens-ignore` comments (in the
//! analysis), `disabledRules` in `cudalens.toml` ([`crate::rule_config`]) and
//! a baseline of accepted findings ([`super::baseline`]).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cudalens_analysis::{AnalysisConfig, Diagnostic, FileAnalysis, RULES, rule_exists};
use cudalens_ide::settings::NvccSetting;
use cudalens_occupancy::Arch;
use cudalens_syntax::Severity;
use cudalens_syntax::model::{HeaderStore, LaunchSite, ModelCache};
use cudalens_syntax::preprocess::include::{
    CompileFlags, FsProvider, find_compile_commands, flags_from_compile_commands,
};
use cudalens_syntax::{LineIndex, SyntaxTrees, document};

use super::baseline::Baseline;
use super::files::Unread;
use super::findings::{self, Finding, ProjectRoot};
use super::progress::Progress;
use super::{exit, files, github, json_report, sarif, text_report};
use crate::rule_config::{self, RuleConfig};
use crate::{nvcc_registers, pipeline};

/// Names a file whose analysis panics on purpose (tests of exit status 3).
const INJECT_PANIC_ENV: &str = "CUDALENS_INJECT_PANIC";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// rustc-style diagnostics
    Text,
    /// the versioned JSON report (server/cudalens/README.md)
    Json,
    /// SARIF 2.1.0 (GitHub code scanning and other CI dashboards)
    Sarif,
    /// GitHub Actions workflow commands (annotations on the diff)
    Github,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files and directories (searched recursively for .cu and .cuh, and for
    /// C++ headers, reported when they hold CUDA code).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write this format to the `--output` at the same position (repeatable).
    #[arg(long = "output-format", value_enum, value_name = "FORMAT")]
    pub output_formats: Vec<Format>,
    /// The file for the `--output-format` at the same position (repeatable).
    #[arg(long = "output", value_name = "FILE")]
    pub outputs: Vec<PathBuf>,
    /// Exit with status 1 when a diagnostic at or above this severity is found.
    #[arg(long, default_value = "error", value_parser = parse_severity)]
    pub deny: Severity,
    /// Report and fail only on findings not recorded in FILE; the first run
    /// (FILE missing) records the current findings there.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in the `--baseline` FILE, replacing it.
    #[arg(long, requires = "baseline")]
    pub update_baseline: bool,
    /// Target architecture (sm_70 … sm_120).
    #[arg(long, default_value = "sm_90")]
    pub arch: String,
    /// Block size assumed for kernels launched nowhere in their file: `256` or `16x16`.
    #[arg(long, default_value = "256", value_parser = parse_block)]
    pub block: [u32; 3],
    /// Extra include directory (after those from compile_commands.json).
    #[arg(short = 'I', value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Define a macro: `NAME` or `NAME=VALUE`.
    #[arg(short = 'D', value_name = "NAME[=VALUE]", value_parser = parse_define)]
    pub define: Vec<(String, String)>,
    /// Turn a rule off by code (repeatable).
    #[arg(long, value_name = "RULE", value_parser = parse_rule)]
    pub disable: Vec<String>,
    /// Occupancy below this fraction is reported.
    #[arg(long, default_value_t = 0.5)]
    pub occupancy_threshold: f64,
    /// Files larger than this are skipped with a notice.
    #[arg(long, default_value_t = 8)]
    pub max_file_size_mb: u64,
    /// Worker threads (default: all cores).
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Print how long each file took, slowest first, on stderr.
    #[arg(long)]
    pub timings: bool,
    /// Register counts from nvcc (`auto`: nvcc on PATH, if any; `off`; or
    /// the nvcc to run). Each .cu file with kernels is compiled once with
    /// `--resource-usage`; without nvcc, registers are estimated (a range).
    #[arg(long, value_name = "auto|off|PATH", default_value = "auto", value_parser = parse_nvcc)]
    pub nvcc: NvccSetting,
}

fn parse_nvcc(text: &str) -> Result<NvccSetting, String> {
    Ok(match text {
        "auto" => NvccSetting::FromPath,
        "off" | "" => NvccSetting::Disabled,
        path => NvccSetting::Explicit(PathBuf::from(path)),
    })
}

fn parse_severity(text: &str) -> Result<Severity, String> {
    Severity::parse(text)
        .ok_or_else(|| format!("`{text}` is not one of error, warning, info, hint"))
}

fn parse_block(text: &str) -> Result<[u32; 3], String> {
    pipeline::parse_block(text)
        .ok_or_else(|| format!("`{text}` is not a block size (e.g. 256 or 16x16)"))
}

fn parse_define(text: &str) -> Result<(String, String), String> {
    pipeline::parse_define(text).ok_or_else(|| format!("`{text}` is not NAME or NAME=VALUE"))
}

fn parse_rule(text: &str) -> Result<String, String> {
    if rule_exists(text) {
        Ok(text.to_string())
    } else {
        let known: Vec<&str> = RULES.iter().map(|(code, _)| *code).collect();
        Err(format!(
            "unknown rule `{text}`; rules: {}",
            known.join(", ")
        ))
    }
}

/// What one file produced, rendered in the worker so the text can be dropped early.
enum Outcome {
    Analysed(FileResult),
    /// Not analysed on purpose (binary, too large): a notice.
    Skipped {
        reason: String,
    },
    /// cudalens failed on the file: the run's results are incomplete.
    Failed {
        reason: String,
    },
    /// A C++ header found in a directory that holds no CUDA code.
    NotCuda,
}

struct FileResult {
    text: Option<String>,
    json: Option<json_report::FileReport>,
    /// For SARIF, GitHub annotations and the baseline.
    findings: Vec<Finding>,
    /// The baseline entries these findings matched.
    baseline_used: Vec<(String, String, String)>,
    counts: Counts,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    errors: usize,
    warnings: usize,
    others: usize,
    denied: usize,
    baselined: usize,
}

/// Which renderings the requested outputs need.
#[derive(Debug, Clone, Copy, Default)]
struct Needs {
    text: bool,
    json: bool,
    findings: bool,
}

/// Everything a worker needs besides the file.
struct Context<'a> {
    args: &'a Args,
    config: &'a AnalysisConfig,
    flags: &'a FlagSource,
    rules: &'a [Option<Arc<RuleConfig>>],
    needs: Needs,
    root: &'a ProjectRoot,
    /// The baseline to compare with (`None` when recording one, or without).
    baseline: Option<&'a Baseline>,
    progress: &'a Progress,
    /// Headers are parsed once for the whole run, whichever files include them.
    headers: Arc<HeaderStore>,
    nvcc: NvccRuns,
}

/// `--nvcc`: the compiler, and what it did for the run's files.
struct NvccRuns {
    exe: Option<PathBuf>,
    measured: AtomicUsize,
    /// Files nvcc could not compile, with its first error.
    failed: Mutex<Vec<(PathBuf, String)>>,
    /// Each file's counts, once (a file launched from another is analysed twice).
    done: Mutex<HashMap<PathBuf, Option<HashMap<String, u32>>>>,
    /// The counts of the first compiled `.cu` file that includes each header
    /// (by canonical path): nvcc compiles a header's kernels in the files
    /// that include it, never on its own.
    by_header: Mutex<HashMap<PathBuf, HashMap<String, u32>>>,
}

impl NvccRuns {
    /// nvcc's register counts for a `.cu` file that defines kernels, or
    /// `None` (no nvcc, a header, no kernels, or nvcc failed: recorded).
    fn registers(
        &self,
        path: &Path,
        arch: &str,
        flags: &CompileFlags,
        has_kernels: bool,
    ) -> Option<HashMap<String, u32>> {
        let exe = self.exe.as_deref()?;
        if !has_kernels {
            return None;
        }
        if path.extension().is_none_or(|e| e != "cu") {
            return self.by_header.lock().ok()?.get(&canonical(path)).cloned();
        }
        if let Some(known) = self.done.lock().ok()?.get(path) {
            return known.clone();
        }
        let cmd = nvcc_registers::command(exe, arch, path, None, flags);
        let registers = match nvcc_registers::run_blocking(cmd, nvcc_registers::TIMEOUT) {
            Ok(registers) => {
                self.measured.fetch_add(1, Ordering::Relaxed);
                Some(registers)
            }
            Err(e) => {
                if let Ok(mut failed) = self.failed.lock() {
                    failed.push((path.to_path_buf(), e));
                }
                None
            }
        };
        if let Ok(mut done) = self.done.lock() {
            done.insert(path.to_path_buf(), registers.clone());
        }
        registers
    }

    /// Keeps a compiled file's counts for the headers it includes.
    fn record_includes(
        &self,
        includes: &[cudalens_syntax::model::Include],
        registers: &HashMap<String, u32>,
    ) {
        let Ok(mut by_header) = self.by_header.lock() else {
            return;
        };
        for header in includes.iter().filter_map(|i| i.resolved.as_deref()) {
            if header.extension().is_none_or(|e| e != "cu") {
                by_header
                    .entry(canonical(header))
                    .or_insert_with(|| registers.clone());
            }
        }
    }

    /// Whether the header got counts from a file that includes it.
    fn measured_through_includer(&self, path: &Path) -> bool {
        self.by_header
            .lock()
            .is_ok_and(|b| b.contains_key(&canonical(path)))
    }

    /// One line on stderr about the run's register counts.
    fn summarise(&self) {
        if self.exe.is_none() {
            return;
        }
        let measured = self.measured.load(Ordering::Relaxed);
        let failed = self.failed.lock().map(|f| f.clone()).unwrap_or_default();
        if measured == 0 && failed.is_empty() {
            return;
        }
        let mut line = format!("note: registers measured by nvcc for {measured} files");
        if let Some((first, why)) = failed.first() {
            line += &format!(
                "; estimated for {} that nvcc did not compile (first: {}: {why})",
                failed.len(),
                first.display()
            );
        }
        eprintln!("{line}");
    }
}

pub fn run(args: Args) -> ExitCode {
    if let Err(e) = Arch::parse(&args.arch) {
        eprintln!("error: {e}");
        return ExitCode::from(exit::USAGE);
    }
    if args.output_formats.len() != args.outputs.len() {
        eprintln!(
            "error: --output-format and --output go in pairs ({} formats, {} files)",
            args.output_formats.len(),
            args.outputs.len()
        );
        return ExitCode::from(exit::USAGE);
    }
    let paths = match files::discover(&args.paths) {
        Ok(paths) => paths,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let rules = match rule_configs(paths.iter().map(|s| s.path.as_path())) {
        Ok(rules) => rules,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let existing = match (&args.baseline, args.update_baseline) {
        (Some(file), false) => match Baseline::read(file) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::USAGE);
            }
        },
        _ => None,
    };
    let config = AnalysisConfig {
        arch: args.arch.clone(),
        default_block: args.block,
        occupancy_threshold: args.occupancy_threshold,
        disabled_rules: args.disable.iter().cloned().collect::<HashSet<_>>(),
        registers: HashMap::new(),
        // Files are analysed side by side (-j); one file alone gets the jobs.
        threads: match paths.len() {
            1 => jobs(&args, 1),
            _ => 1,
        },
    };
    let formats: Vec<Format> = std::iter::once(args.format)
        .chain(args.output_formats.iter().copied())
        .collect();
    let needs = Needs {
        text: formats.contains(&Format::Text),
        json: formats.contains(&Format::Json),
        findings: formats
            .iter()
            .any(|f| matches!(f, Format::Sarif | Format::Github))
            || args.baseline.is_some(),
    };
    let flags = FlagSource::new(&args);
    let root = ProjectRoot::discover();
    let progress = Progress::new(paths.len(), "files", args.format == Format::Text);
    let ctx = Context {
        args: &args,
        config: &config,
        flags: &flags,
        rules: &rules,
        needs,
        root: &root,
        baseline: existing.as_ref(),
        progress: &progress,
        headers: HeaderStore::new(),
        nvcc: NvccRuns {
            exe: nvcc_registers::executable(&args.nvcc),
            measured: AtomicUsize::new(0),
            failed: Mutex::new(Vec::new()),
            done: Mutex::new(HashMap::new()),
            by_header: Mutex::new(HashMap::new()),
        },
    };
    let mut outcomes = analyse_all(&paths, &ctx);
    let launched = launches_by_file(&outcomes);
    reanalyse_launched_elsewhere(&paths, &mut outcomes, &ctx, &launched);
    report_findings_in_includes(&paths, &mut outcomes, &ctx, &launched);
    progress.finish();
    ctx.nvcc.summarise();
    if args.timings {
        print_timings(&paths, &outcomes);
    }
    let outcomes = outcomes.into_iter().map(|(o, _, _)| o).collect();
    print_outcomes(&paths, outcomes, &ctx, existing.as_ref())
}

/// The `cudalens.toml` rule settings of each file, read once per directory.
fn rule_configs<'p>(
    paths: impl Iterator<Item = &'p Path>,
) -> Result<Vec<Option<Arc<RuleConfig>>>, String> {
    let mut by_root: HashMap<PathBuf, Option<Arc<RuleConfig>>> = HashMap::new();
    let mut by_dir: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    let mut out = Vec::new();
    for path in paths {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let dir = absolute.parent().map(Path::to_path_buf).unwrap_or_default();
        let root = by_dir
            .entry(dir.clone())
            .or_insert_with(|| rule_config::find_root(&dir))
            .clone();
        let config = match root {
            Some(root) => match by_root.get(&root) {
                Some(c) => c.clone(),
                None => {
                    let c = RuleConfig::load(&root)?.map(Arc::new);
                    by_root.insert(root, c.clone());
                    c
                }
            },
            None => None,
        };
        out.push(config);
    }
    Ok(out)
}

/// Threads for `count` files: `-j`, else one per core, at most one per file.
fn jobs(args: &Args, count: usize) -> usize {
    args.jobs
        .unwrap_or_else(cudalens_analysis::parallel::cores)
        .clamp(1, count.max(1))
}

/// What a file's analysis found for the files it includes, by file: the
/// launches it makes of their kernels, and the findings its kernels made
/// inside their functions.
#[derive(Default)]
struct LaunchesInto {
    launches: Vec<(PathBuf, Arc<LaunchSite>)>,
    findings: Vec<(PathBuf, Diagnostic)>,
}

/// The launches each file's kernels get from the files that include it, by
/// canonical path.
type LaunchedFrom = HashMap<PathBuf, Vec<Arc<LaunchSite>>>;

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

fn launches_by_file(outcomes: &[(Outcome, Duration, LaunchesInto)]) -> LaunchedFrom {
    let mut by_file: LaunchedFrom = HashMap::new();
    for (_, _, into) in outcomes {
        for (file, launch) in &into.launches {
            by_file
                .entry(canonical(file))
                .or_default()
                .push(launch.clone());
        }
    }
    by_file
}

/// Analyses every file on `jobs` threads; results (with the time each file
/// took, and the launches it makes of its includes' kernels) come back in
/// input order.
fn analyse_all(
    sources: &[files::Source],
    ctx: &Context<'_>,
) -> Vec<(Outcome, Duration, LaunchesInto)> {
    let jobs = jobs(ctx.args, sources.len());
    cudalens_analysis::parallel::map_in_order(sources.len(), jobs, |i| {
        ctx.progress.current(&sources[i].path.display().to_string());
        let (outcome, took, into) =
            analyse_guarded(&sources[i], ctx.rules[i].as_deref(), ctx, &[], &[]);
        ctx.progress.done_one();
        (outcome, took, into)
    })
}

/// [`analyse_one`], timed; a panic while analysing or rendering one file
/// fails that file, not the run.
fn analyse_guarded(
    source: &files::Source,
    rules: Option<&RuleConfig>,
    ctx: &Context<'_>,
    elsewhere: &[Arc<LaunchSite>],
    findings: &[Diagnostic],
) -> (Outcome, Duration, LaunchesInto) {
    let started = Instant::now();
    let (outcome, into) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        analyse_one(source, rules, ctx, elsewhere, findings)
    }))
    .unwrap_or_else(|payload| {
        let reason = internal_error(&pipeline::panic_message(&*payload));
        (Outcome::Failed { reason }, LaunchesInto::default())
    });
    (outcome, started.elapsed(), into)
}

/// A kernel file checked with the files that include it (Rodinia's
/// `needle_kernel.cu`, included and launched by `needle.cu`) is analysed
/// again under those launches: its block size, grid and scalar arguments
/// are theirs rather than an assumed default. Only the files that define a
/// kernel another checked file launches are analysed twice.
fn reanalyse_launched_elsewhere(
    sources: &[files::Source],
    outcomes: &mut [(Outcome, Duration, LaunchesInto)],
    ctx: &Context<'_>,
    launched: &LaunchedFrom,
) {
    // A header whose kernels nvcc compiled in a file that includes it is
    // analysed again with those counts, as a `.cu` file is with its own.
    let measured_later = |s: &files::Source| {
        s.path.extension().is_some_and(|e| e != "cu") && ctx.nvcc.measured_through_includer(&s.path)
    };
    let todo: Vec<Again> = sources
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(outcomes[*i].0, Outcome::Analysed(_)))
        .filter_map(|(i, s)| match launched.get(&canonical(&s.path)) {
            Some(launches) => Some((i, launches.as_slice(), &[][..])),
            None if measured_later(s) => Some((i, &[][..], &[][..])),
            None => None,
        })
        .collect();
    analyse_again(sources, outcomes, ctx, &todo);
}

/// A finding inside a header's function that a kernel of another checked
/// file reaches (llm.c's `llmc/cuda_common.cuh` helpers, called from the
/// kernels of `llmc/*.cuh`) is reported once, at the header, however many
/// files reach it: the header is analysed again with those findings among
/// its own (its suppressions and rule settings apply to them). A header
/// that is not among the checked files gets none.
fn report_findings_in_includes(
    sources: &[files::Source],
    outcomes: &mut [(Outcome, Duration, LaunchesInto)],
    ctx: &Context<'_>,
    launched: &LaunchedFrom,
) {
    let mut by_file: HashMap<PathBuf, Vec<Diagnostic>> = HashMap::new();
    for (_, _, into) in outcomes.iter() {
        for (file, d) in &into.findings {
            by_file.entry(canonical(file)).or_default().push(d.clone());
        }
    }
    if by_file.is_empty() {
        return;
    }
    let todo: Vec<Again> = sources
        .iter()
        .enumerate()
        .filter(|(i, _)| matches!(outcomes[*i].0, Outcome::Analysed(_)))
        .filter_map(|(i, s)| {
            let key = canonical(&s.path);
            let findings = by_file.get(&key)?;
            let launches = launched.get(&key).map_or(&[][..], Vec::as_slice);
            Some((i, launches, findings.as_slice()))
        })
        .collect();
    analyse_again(sources, outcomes, ctx, &todo);
}

/// A file to analyse again: its index, with the launches and the findings
/// other files make in it.
type Again<'a> = (usize, &'a [Arc<LaunchSite>], &'a [Diagnostic]);

/// Analyses the files of `todo` again, each with its launches and findings
/// from other files; their new results replace the first ones.
fn analyse_again(
    sources: &[files::Source],
    outcomes: &mut [(Outcome, Duration, LaunchesInto)],
    ctx: &Context<'_>,
    todo: &[Again],
) {
    let again =
        cudalens_analysis::parallel::map_in_order(todo.len(), jobs(ctx.args, todo.len()), |t| {
            let (i, launches, findings) = todo[t];
            analyse_guarded(
                &sources[i],
                ctx.rules[i].as_deref(),
                ctx,
                launches,
                findings,
            )
        });
    for ((i, _, _), (outcome, took, into)) in todo.iter().zip(again) {
        let slot = &mut outcomes[*i];
        slot.0 = outcome;
        slot.1 += took;
        slot.2 = into;
    }
}

/// `--timings`: each file's analysis time, slowest first.
fn print_timings(sources: &[files::Source], outcomes: &[(Outcome, Duration, LaunchesInto)]) {
    let mut rows: Vec<(Duration, &Path)> = sources
        .iter()
        .zip(outcomes)
        .map(|(s, (_, t, _))| (*t, s.path.as_path()))
        .collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.0));
    for (t, path) in rows {
        eprintln!(
            "timing: {:>9.1} ms  {}",
            t.as_secs_f64() * 1000.0,
            path.display()
        );
    }
}

fn internal_error(message: &str) -> String {
    format!("internal error in cudalens (please report): {message}")
}

fn analyse_one(
    source: &files::Source,
    rules: Option<&RuleConfig>,
    ctx: &Context<'_>,
    elsewhere: &[Arc<LaunchSite>],
    findings_elsewhere: &[Diagnostic],
) -> (Outcome, LaunchesInto) {
    let path = source.path.as_path();
    let args = ctx.args;
    let max_bytes = args.max_file_size_mb.saturating_mul(1024 * 1024);
    let text = match files::read_source(path, max_bytes) {
        Ok(text) => text,
        Err(Unread::Skipped(reason)) => {
            return (Outcome::Skipped { reason }, LaunchesInto::default());
        }
        Err(Unread::Failed(reason)) => {
            return (Outcome::Failed { reason }, LaunchesInto::default());
        }
    };
    if std::env::var_os(INJECT_PANIC_ENV).is_some_and(|name| path.file_name() == Some(&name)) {
        panic!("{INJECT_PANIC_ENV} names this file");
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let extra: Vec<&str> = rules.map(|r| r.disabled_for(&absolute)).unwrap_or_default();
    let widened;
    let config = if extra.iter().all(|r| ctx.config.disabled_rules.contains(*r)) {
        ctx.config
    } else {
        let mut c = ctx.config.clone();
        c.disabled_rules.extend(extra.iter().map(|r| r.to_string()));
        widened = c;
        &widened
    };
    let tree = SyntaxTrees::parse_whole(&mut document::cuda_parser(), &text);
    let mut caches = pipeline::Caches {
        model: ModelCache::sharing(ctx.headers.clone()),
        ..Default::default()
    };
    let flags = ctx.flags.for_file(path);
    let mut analyse = |config: &AnalysisConfig| {
        pipeline::run_guarded_with_findings(
            pipeline::Request {
                text: &text,
                tree: tree.as_ref(),
                path: Some(path),
                flags: flags.clone(),
                provider: &FsProvider,
                config,
                caches: Some(&mut caches),
                launches_elsewhere: elsewhere,
            },
            findings_elsewhere,
        )
    };
    let mut analyzed = analyse(config);
    // With nvcc, the file is analysed again with its real register counts
    // (the model and the analyses not about registers come from the caches).
    if let Ok(a) = &analyzed {
        let has_kernels = !a.analysis.kernels.is_empty();
        if let Some(registers) = ctx.nvcc.registers(path, &args.arch, &flags, has_kernels) {
            ctx.nvcc.record_includes(&a.model.includes, &registers);
            let mut measured = config.clone();
            measured.registers = registers;
            analyzed = analyse(&measured);
        }
    }
    let analyzed = match analyzed {
        Ok(a) => a,
        Err(panic) => {
            let reason = internal_error(&panic);
            return (Outcome::Failed { reason }, LaunchesInto::default());
        }
    };
    if source.only_if_cuda && !analyzed.model.has_cuda_code() {
        return (Outcome::NotCuda, LaunchesInto::default());
    }
    let into = LaunchesInto {
        launches: pipeline::launches_into_includes(&analyzed.model, &text, path),
        findings: pipeline::findings_into_includes(&analyzed.analysis, &text, path),
    };
    let index = LineIndex::new(&text);
    let mut found = Vec::new();
    let mut baseline_used = Vec::new();
    if ctx.needs.findings {
        let key = ctx.root.key(path);
        let in_root = ctx.root.relative(path).is_some();
        found = findings::of_file(key, in_root, &text, &index, &analyzed.analysis.diagnostics);
        if let Some(baseline) = ctx.baseline {
            baseline_used = baseline.mark(&mut found);
        }
    }
    // With a baseline, the recorded findings are not shown or counted.
    let filtered;
    let analysis: &FileAnalysis = if baseline_used.is_empty() {
        &analyzed.analysis
    } else {
        let mut a = (*analyzed.analysis).clone();
        let mut keep = found.iter().map(|f| !f.baselined);
        a.diagnostics.retain(|_| keep.next().unwrap_or(true));
        filtered = a;
        &filtered
    };
    let mut counts = Counts {
        baselined: baseline_used.len(),
        ..Counts::default()
    };
    for d in &analysis.diagnostics {
        match d.severity {
            Severity::Error => counts.errors += 1,
            Severity::Warning => counts.warnings += 1,
            _ => counts.others += 1,
        }
        counts.denied += usize::from(d.severity >= args.deny);
    }
    let shown = path.display().to_string();
    let result = FileResult {
        text: ctx
            .needs
            .text
            .then(|| text_report::render(&shown, &text, &index, &analysis.diagnostics)),
        json: ctx
            .needs
            .json
            .then(|| json_report::file_report(shown, &index, analysis)),
        findings: found,
        baseline_used,
        counts,
    };
    (Outcome::Analysed(result), into)
}

fn print_outcomes(
    sources: &[files::Source],
    outcomes: Vec<Outcome>,
    ctx: &Context<'_>,
    existing: Option<&Baseline>,
) -> ExitCode {
    let args = ctx.args;
    let mut total = Counts::default();
    let mut report = json_report::Report {
        version: json_report::VERSION,
        files: Vec::new(),
        skipped: Vec::new(),
    };
    let mut text = String::new();
    let mut all_findings: Vec<Finding> = Vec::new();
    let mut used = Vec::new();
    let (mut failures, mut skipped) = (Vec::new(), Vec::new());
    let (mut analysed, mut not_cuda) = (0, 0);
    for (source, outcome) in sources.iter().zip(outcomes) {
        let path = &source.path;
        let result = match outcome {
            Outcome::Analysed(result) => result,
            Outcome::Skipped { reason } => {
                eprintln!("note: {}: {reason}", path.display());
                skipped.push(format!("{}: {reason}", path.display()));
                report.skipped.push(json_report::Skipped {
                    path: path.display().to_string(),
                    reason,
                });
                continue;
            }
            Outcome::Failed { reason } => {
                eprintln!("error: {}: {reason}", path.display());
                failures.push(format!("{}: {reason}", path.display()));
                report.skipped.push(json_report::Skipped {
                    path: path.display().to_string(),
                    reason,
                });
                continue;
            }
            Outcome::NotCuda => {
                not_cuda += 1;
                continue;
            }
        };
        analysed += 1;
        if let Some(t) = result.text {
            text.push_str(&t);
        }
        if let Some(file) = result.json {
            report.files.push(file);
        }
        all_findings.extend(result.findings);
        used.extend(result.baseline_used);
        let counts = result.counts;
        total.errors += counts.errors;
        total.warnings += counts.warnings;
        total.others += counts.others;
        total.denied += counts.denied;
        total.baselined += counts.baselined;
    }
    let refs: Vec<&Finding> = all_findings.iter().collect();
    let new: Vec<&Finding> = all_findings.iter().filter(|f| !f.baselined).collect();
    let render = |format: Format| -> String {
        match format {
            Format::Text => text.clone(),
            Format::Json => json_text(&report),
            Format::Sarif => {
                let notes = sarif::RunNotes {
                    failures: &failures,
                    skipped: &skipped,
                    with_baseline: existing.is_some(),
                };
                json_text(&sarif::log(ctx.root, &refs, &notes))
            }
            Format::Github => github::render(&new),
        }
    };
    let mut status = if total.denied > 0 {
        exit::FINDINGS
    } else {
        exit::OK
    };
    print!("{}", render(args.format));
    let mut unwritten = Vec::new();
    for (format, file) in args.output_formats.iter().zip(&args.outputs) {
        if let Err(e) = std::fs::write(file, render(*format)) {
            eprintln!("error: cannot write {}: {e}", file.display());
            unwritten.push(format!("cannot write {}", file.display()));
        }
    }
    failures.extend(unwritten);
    if let Some(file) = &args.baseline {
        match existing {
            Some(baseline) => report_gone(file, &baseline.gone(&used)),
            None => match Baseline::of(&refs).write(file) {
                Ok(()) => {
                    eprintln!(
                        "cudalens: baseline {} records {} finding{}; later runs report only new ones",
                        file.display(),
                        refs.len(),
                        plural(refs.len())
                    );
                    // Recording accepts what was found.
                    status = exit::OK;
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    failures.push(e);
                }
            },
        }
    }
    let baselined = if total.baselined > 0 {
        format!(" ({} in the baseline not shown)", total.baselined)
    } else {
        String::new()
    };
    let headers_note = match not_cuda {
        0 => String::new(),
        n => format!(" ({n} C++ header{} without CUDA code left out)", plural(n)),
    };
    eprintln!(
        "cudalens: {analysed} file{} checked{headers_note}: {} error{}, {} warning{}, {} note{}{baselined}",
        plural(analysed),
        total.errors,
        plural(total.errors),
        total.warnings,
        plural(total.warnings),
        total.others,
        plural(total.others),
    );
    if !failures.is_empty() {
        eprintln!(
            "error: cudalens failed on {} file{} or output{}; the results are incomplete",
            failures.len(),
            plural(failures.len()),
            plural(failures.len())
        );
        status = exit::FAILURE;
    }
    ExitCode::from(status)
}

/// Says which recorded findings are no longer reported (fixed, or changed).
fn report_gone(file: &Path, gone: &[&super::baseline::Entry]) {
    if gone.is_empty() {
        return;
    }
    eprintln!(
        "note: {} finding{} recorded in {} no longer reported (fixed or changed; `--update-baseline` drops them):",
        gone.len(),
        plural(gone.len()),
        file.display()
    );
    for e in gone.iter().take(20) {
        eprintln!("  {}:{}: [{}] {}", e.path, e.line, e.code, e.message);
    }
    if gone.len() > 20 {
        eprintln!("  … and {} more", gone.len() - 20);
    }
}

fn json_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(json) => json + "\n",
        Err(e) => {
            eprintln!("error: cannot serialise the report: {e}");
            String::new()
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The preprocessor flags of each file: its `compile_commands.json` entry (found
/// like clangd does, cached per directory), then `-I`/`-D` from the command line.
struct FlagSource {
    include: Vec<PathBuf>,
    define: Vec<(String, String)>,
    databases: Mutex<HashMap<PathBuf, Option<std::sync::Arc<str>>>>,
}

impl FlagSource {
    fn new(args: &Args) -> Self {
        FlagSource {
            include: args.include.clone(),
            define: args.define.clone(),
            databases: Mutex::new(HashMap::new()),
        }
    }

    fn for_file(&self, path: &Path) -> CompileFlags {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut flags = self
            .database_for(&absolute)
            .and_then(|json| flags_from_compile_commands(&json, &absolute))
            .unwrap_or_default();
        // Relative to the working directory, as a compiler takes them.
        flags.include_dirs.extend(
            self.include
                .iter()
                .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone())),
        );
        flags.defines.extend(self.define.iter().cloned());
        flags
    }

    fn database_for(&self, file: &Path) -> Option<std::sync::Arc<str>> {
        let dir = file.parent()?.to_path_buf();
        if let Ok(cache) = self.databases.lock()
            && let Some(found) = cache.get(&dir)
        {
            return found.clone();
        }
        let found = find_compile_commands(&dir)
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(std::sync::Arc::<str>::from);
        if let Ok(mut cache) = self.databases.lock() {
            cache.insert(dir, found.clone());
        }
        found
    }
}
