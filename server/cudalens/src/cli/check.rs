//! `cudalens check`: analyse files and directories, print diagnostics like
//! rustc (or a JSON report), exit 1 when anything reaches `--deny`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use cudalens_analysis::{AnalysisConfig, RULES, diagnostic::rule_exists};
use cudalens_occupancy::Arch;
use cudalens_syntax::Severity;
use cudalens_syntax::model::{HeaderStore, ModelCache};
use cudalens_syntax::preprocess::include::{
    CompileFlags, FsProvider, find_compile_commands, flags_from_compile_commands,
};
use cudalens_syntax::{LineIndex, SyntaxTrees, document};

use super::{exit, files, json_report, text_report};
use crate::pipeline;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files and directories (searched recursively for .cu and .cuh, and for
    /// C++ headers, reported when they hold CUDA code).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit with status 1 when a diagnostic at or above this severity is found.
    #[arg(long, default_value = "error", value_parser = parse_severity)]
    pub deny: Severity,
    /// Target architecture.
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
    Text {
        output: String,
        counts: Counts,
    },
    Json {
        report: json_report::FileReport,
        counts: Counts,
    },
    Skipped {
        reason: String,
    },
    /// A C++ header found in a directory that holds no CUDA code.
    NotCuda,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    errors: usize,
    warnings: usize,
    others: usize,
    denied: usize,
}

pub fn run(args: Args) -> ExitCode {
    if let Err(e) = Arch::parse(&args.arch) {
        eprintln!("error: {e}");
        return ExitCode::from(exit::USAGE);
    }
    let paths = match files::discover(&args.paths) {
        Ok(paths) => paths,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
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
    let flags = FlagSource::new(&args);
    let outcomes = analyse_all(&paths, &args, &config, &flags);
    if args.timings {
        print_timings(&paths, &outcomes);
    }
    let outcomes = outcomes.into_iter().map(|(o, _)| o).collect();
    print_outcomes(&paths, outcomes, args.format)
}

/// Threads for `count` files: `-j`, else one per core, at most one per file.
fn jobs(args: &Args, count: usize) -> usize {
    args.jobs
        .unwrap_or_else(cudalens_analysis::parallel::cores)
        .clamp(1, count.max(1))
}

/// Analyses every file on `jobs` threads; results (with the time each file
/// took) come back in input order.
fn analyse_all(
    sources: &[files::Source],
    args: &Args,
    config: &AnalysisConfig,
    flags: &FlagSource,
) -> Vec<(Outcome, std::time::Duration)> {
    let jobs = jobs(args, sources.len());
    // Headers are parsed once for the whole run, whichever files include them.
    let headers = HeaderStore::new();
    cudalens_analysis::parallel::map_in_order(sources.len(), jobs, |i| {
        let started = std::time::Instant::now();
        let outcome = analyse_one(&sources[i], args, config, flags, &headers);
        (outcome, started.elapsed())
    })
}

/// `--timings`: each file's analysis time, slowest first.
fn print_timings(sources: &[files::Source], outcomes: &[(Outcome, std::time::Duration)]) {
    let mut rows: Vec<(std::time::Duration, &Path)> = sources
        .iter()
        .zip(outcomes)
        .map(|(s, (_, t))| (*t, s.path.as_path()))
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

fn analyse_one(
    source: &files::Source,
    args: &Args,
    config: &AnalysisConfig,
    flags: &FlagSource,
    headers: &Arc<HeaderStore>,
) -> Outcome {
    let path = source.path.as_path();
    let max_bytes = args.max_file_size_mb.saturating_mul(1024 * 1024);
    let text = match files::read_source(path, max_bytes) {
        Ok(text) => text,
        Err(reason) => return Outcome::Skipped { reason },
    };
    let tree = SyntaxTrees::parse_whole(&mut document::cuda_parser(), &text);
    let mut caches = pipeline::Caches {
        model: ModelCache::sharing(headers.clone()),
        ..Default::default()
    };
    let request = pipeline::Request {
        text: &text,
        tree: tree.as_ref(),
        path: Some(path),
        flags: flags.for_file(path),
        provider: &FsProvider,
        config,
        caches: Some(&mut caches),
    };
    let analyzed = match pipeline::run_guarded(request) {
        Ok(a) => a,
        Err(panic) => {
            return Outcome::Skipped {
                reason: format!("internal error in cudalens (please report): {panic}"),
            };
        }
    };
    if source.only_if_cuda && !analyzed.model.has_cuda_code() {
        return Outcome::NotCuda;
    }
    let diagnostics = &analyzed.analysis.diagnostics;
    let mut counts = Counts::default();
    for d in diagnostics {
        match d.severity {
            Severity::Error => counts.errors += 1,
            Severity::Warning => counts.warnings += 1,
            _ => counts.others += 1,
        }
        counts.denied += usize::from(d.severity >= args.deny);
    }
    let index = LineIndex::new(&text);
    let shown = path.display().to_string();
    match args.format {
        Format::Text => Outcome::Text {
            output: text_report::render(&shown, &text, &index, diagnostics),
            counts,
        },
        Format::Json => Outcome::Json {
            report: json_report::file_report(shown, &index, &analyzed.analysis),
            counts,
        },
    }
}

fn print_outcomes(sources: &[files::Source], outcomes: Vec<Outcome>, format: Format) -> ExitCode {
    let mut total = Counts::default();
    let mut report = json_report::Report {
        version: json_report::VERSION,
        files: Vec::new(),
        skipped: Vec::new(),
    };
    let mut analysed = 0;
    let mut not_cuda = 0;
    for (source, outcome) in sources.iter().zip(outcomes) {
        let path = &source.path;
        let counts = match outcome {
            Outcome::Text { output, counts } => {
                print!("{output}");
                counts
            }
            Outcome::Json {
                report: file,
                counts,
            } => {
                report.files.push(file);
                counts
            }
            Outcome::Skipped { reason } => {
                eprintln!("note: {}: {reason}", path.display());
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
        total.errors += counts.errors;
        total.warnings += counts.warnings;
        total.others += counts.others;
        total.denied += counts.denied;
    }
    if format == Format::Json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(e) => eprintln!("error: cannot serialise the report: {e}"),
        }
    }
    let headers_note = match not_cuda {
        0 => String::new(),
        n => format!(" ({n} C++ header{} without CUDA code left out)", plural(n)),
    };
    eprintln!(
        "cudalens: {analysed} file{} checked{headers_note}: {} error{}, {} warning{}, {} note{}",
        plural(analysed),
        total.errors,
        plural(total.errors),
        total.warnings,
        plural(total.warnings),
        total.others,
        plural(total.others),
    );
    ExitCode::from(if total.denied > 0 {
        exit::FINDINGS
    } else {
        exit::OK
    })
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
        flags.include_dirs.extend(self.include.iter().cloned());
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
