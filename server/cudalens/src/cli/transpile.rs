//! `cudalens transpile`: CUDA kernels → WGSL files plus their JSON sidecars.
//! Files and directories as `check` takes them, with the same front door
//! (`compile_commands.json`, `-I`, `-D`); `--check` only validates, and
//! `--format json` prints one record per kernel (what the coverage harness
//! in `tests/transpile-suites` reads).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;

use cudalens_analysis::Diagnostic;
use cudalens_syntax::file_kind::FileKind;
use cudalens_syntax::model::Function;
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{FileModel, LineIndex};
use cudalens_wgsl::{TranspileDiagnostic, TranspileOptions};

use super::{exit, files, text_report};
use crate::gpu_actions::{self, WriteError};

/// `-I` and `-D`, as `check` takes them (after `compile_commands.json`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct PreprocessorArgs {
    /// Extra include directory (after those from compile_commands.json).
    #[arg(short = 'I', value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Define a macro: `NAME` or `NAME=VALUE`.
    #[arg(short = 'D', value_name = "NAME[=VALUE]", value_parser = parse_define)]
    pub define: Vec<(String, String)>,
}

impl PreprocessorArgs {
    pub fn flags(&self) -> CompileFlags {
        CompileFlags {
            // Relative to the working directory, as a compiler takes them.
            include_dirs: self
                .include
                .iter()
                .map(|d| std::path::absolute(d).unwrap_or_else(|_| d.clone()))
                .collect(),
            defines: self.define.clone(),
            ..CompileFlags::default()
        }
    }
}

fn parse_define(text: &str) -> Result<(String, String), String> {
    crate::pipeline::parse_define(text).ok_or_else(|| format!("`{text}` is not NAME or NAME=VALUE"))
}

/// A kernel's template arguments as written on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateArgs(pub Vec<String>);

/// `float,256` → `["float", "256"]`, split at the commas outside `<...>` and `(...)`.
pub fn parse_template_args(text: &str) -> Result<TemplateArgs, String> {
    let out = cudalens_wgsl::split_top_level(text);
    let balanced = |open: char, close: char| {
        text.chars().filter(|c| *c == open).count() == text.chars().filter(|c| *c == close).count()
    };
    if !balanced('<', '>') || !balanced('(', ')') || out.iter().any(String::is_empty) {
        return Err(format!(
            "`{text}` is not a list of template arguments (e.g. float,256)"
        ));
    }
    Ok(TemplateArgs(out))
}

/// What the target adapter has (`bench` reads them from the adapter).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FeatureArgs {
    /// The target has subgroups: compile warp intrinsics.
    #[arg(long)]
    pub subgroups: bool,
    /// Allow `half` (WGSL `f16`, wgpu's SHADER_F16).
    #[arg(long)]
    pub f16: bool,
    /// Allow `double` (WGSL `f64`, wgpu's SHADER_F64; NVIDIA's Vulkan driver has it).
    #[arg(long)]
    pub f64: bool,
    /// Allow 64-bit integers (`long`, `size_t`; wgpu's SHADER_INT64).
    #[arg(long)]
    pub int64: bool,
    /// The target has native 32-bit float atomics (wgpu's SHADER_FLOAT32_ATOMIC):
    /// float `atomicAdd`/`atomicSub`/`atomicExch` on buffers become `atomic<f32>`.
    #[arg(long)]
    pub float_atomics: bool,
    /// The target has 64-bit integer atomics on buffers and shared memory
    /// (wgpu's SHADER_INT64_ATOMIC_ALL_OPS): atomics on `long long` and
    /// `double` (the latter as compare-exchange loops on its bits).
    #[arg(long)]
    pub int64_atomics: bool,
    /// All of the above (what NVIDIA's Vulkan driver offers).
    #[arg(long)]
    pub all_features: bool,
}

impl FeatureArgs {
    pub fn options(&self, source: &Path) -> TranspileOptions {
        let all = self.all_features;
        let mut opts =
            gpu_actions::transpile_options(source, self.subgroups || all, self.f16 || all);
        opts.enable_f64 = self.f64 || all;
        opts.enable_int64 = self.int64 || all;
        opts.float_atomics = self.float_atomics || all;
        opts.int64_atomics = self.int64_atomics || all;
        opts
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// CUDA files, or directories searched for `.cu`/`.cuh` files (and C++
    /// headers holding kernels).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// The kernel to compile (default: every kernel of each file).
    #[arg(long)]
    pub kernel: Option<String>,
    /// Output file (only with one file and one kernel; default `<file>.<kernel>.wgsl`).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// Also compile the kernels defined in the files each file includes from
    /// the given directories (or its own directory), in its context: its
    /// macros and types (a kernel in a `.cuh` or a `.cu` that another `.cu`
    /// includes, as nvcc compiles it).
    #[arg(long)]
    pub included: bool,
    /// Template arguments for the kernel, as written (`float,256`), when no
    /// launch in the file gives them (with --kernel).
    #[arg(long, value_name = "ARGS", value_parser = parse_template_args, requires = "kernel")]
    pub instantiate: Option<TemplateArgs>,
    /// Only compile and validate: write no files.
    #[arg(long)]
    pub check: bool,
    /// `text` (diagnostics rustc-style, written files on stdout) or `json`
    /// (one record per kernel on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub preprocessor: PreprocessorArgs,
    #[command(flatten)]
    pub features: FeatureArgs,
    /// Overwrite existing files even when cudalens did not generate them.
    #[arg(long)]
    pub force: bool,
}

/// TranspileDiagnostic → the analysis diagnostic the text renderer prints.
pub fn as_diagnostic(d: &TranspileDiagnostic) -> Diagnostic {
    Diagnostic::new(d.span, d.severity, "wgsl", d.message.clone())
}

/// Prints transpiler diagnostics rustc-style on stderr, each against the
/// file its span indexes: `path` (whose text is `text`), or the header it
/// names (read as the front end read it).
pub fn print_diagnostics(path: &Path, text: &str, diagnostics: &[TranspileDiagnostic]) {
    let mut texts = DiagnosticTexts::new(path, text);
    for d in diagnostics {
        let (file, text, index) = texts.of(d);
        eprint!(
            "{}",
            text_report::render(
                &file.display().to_string(),
                text,
                index,
                &[as_diagnostic(d)]
            )
        );
    }
}

/// The texts diagnostics point into: the file compiled and the headers
/// their `file` names, each read once.
struct DiagnosticTexts {
    files: Vec<(PathBuf, String, LineIndex)>,
}

impl DiagnosticTexts {
    fn new(path: &Path, text: &str) -> Self {
        DiagnosticTexts {
            files: vec![(path.to_path_buf(), text.to_string(), LineIndex::new(text))],
        }
    }

    /// The file, text and line index `d`'s span indexes.
    fn of(&mut self, d: &TranspileDiagnostic) -> (&Path, &str, &LineIndex) {
        let at = match &d.file {
            None => 0,
            Some(file) => match self.files.iter().position(|(p, ..)| p == file) {
                Some(i) => i,
                None => {
                    let text = files::read_source(file, u64::MAX).unwrap_or_default();
                    let index = LineIndex::new(&text);
                    self.files.push((file.clone(), text, index));
                    self.files.len() - 1
                }
            },
        };
        let (p, t, i) = &self.files[at];
        (p, t, i)
    }
}

/// One kernel's outcome in `--format json`.
#[derive(Debug, Serialize)]
struct KernelRecord {
    /// The file compiled (the translation unit).
    file: String,
    /// The file the kernel is defined in (differs with `--included`).
    defined_in: String,
    kernel: String,
    /// 1-based line of the kernel's name in `defined_in`.
    line: u32,
    ok: bool,
    /// The WGSL file written (absent with `--check` or on failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    errors: Vec<MessageRecord>,
    warnings: Vec<MessageRecord>,
    /// How much of the kernel's function bodies the lowering built as
    /// trees rather than text (issue 19's move to naga IR; measured by
    /// `tests/transpile-suites/wgsl_snapshot.py structure`).
    #[serde(skip_serializing_if = "Option::is_none")]
    structure: Option<cudalens_wgsl::emit::Structure>,
}

#[derive(Debug, Serialize)]
struct MessageRecord {
    /// The file the line is in, where it is not the file compiled.
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    line: u32,
    message: String,
}

fn message_records<'a>(
    texts: &mut DiagnosticTexts,
    found: impl Iterator<Item = &'a TranspileDiagnostic>,
) -> Vec<MessageRecord> {
    found
        .map(|d| {
            let (_, _, index) = texts.of(d);
            MessageRecord {
                file: d.file.as_ref().map(|f| f.display().to_string()),
                line: index.position(d.span.start).line + 1,
                message: d.message.clone(),
            }
        })
        .collect()
}

pub fn run(args: Args) -> ExitCode {
    let sources = match files::discover_with(&args.paths, args.included) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    if args.output.is_some() && sources.len() != 1 {
        eprintln!("error: -o needs exactly one file");
        return ExitCode::from(exit::USAGE);
    }
    let explicit_files = args.paths.iter().all(|p| p.is_file());
    let mut records = Vec::new();
    let mut failed = false;
    let mut any_kernel = false;
    for source in &sources {
        let text = match files::read_source(&source.path, u64::MAX) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("error: {}: {e}", source.path.display());
                failed = true;
                continue;
            }
        };
        // A header holds its kernels; a C++ source may only include them
        // (its model says, below: no kernel, no record).
        let cpp_source = FileKind::of(&source.path) == FileKind::CppSource;
        if source.only_if_cuda && !cpp_source && !text.contains("__global__") {
            continue;
        }
        if cpp_source && !text.contains("#include") {
            continue;
        }
        let model = match build_guarded(&source.path, &text, &args.preprocessor.flags()) {
            Ok(m) => m,
            Err(panic) => {
                eprintln!(
                    "error: {}: internal error in the front end (please report): {panic}",
                    source.path.display()
                );
                failed = true;
                continue;
            }
        };
        let mut all = gpu_actions::kernel_names(&model);
        let roots = match args.included {
            true => include_roots(&args.paths, &source.path),
            false => Vec::new(),
        };
        let listed = |k: &Function| {
            k.in_main_file()
                || k.file.as_ref().is_some_and(|f| {
                    let f = std::path::absolute(f).unwrap_or_else(|_| f.clone());
                    roots.iter().any(|r| f.starts_with(r))
                })
        };
        for k in model.kernels() {
            if k.body.is_some() && listed(k) && !all.contains(&k.name) {
                all.push(k.name.clone());
            }
        }
        let kernels = match &args.kernel {
            Some(k) if all.contains(k) => vec![k.clone()],
            Some(_) | None if !explicit_files => {
                // Directories: files without (that) kernel are simply not listed.
                match &args.kernel {
                    Some(_) => continue,
                    None => all,
                }
            }
            Some(k) => {
                eprintln!(
                    "error: no kernel `{k}` in {} (kernels: {})",
                    source.path.display(),
                    if all.is_empty() {
                        "none".into()
                    } else {
                        all.join(", ")
                    }
                );
                return ExitCode::from(exit::USAGE);
            }
            None if all.is_empty() => {
                eprintln!("error: {} defines no kernel", source.path.display());
                return ExitCode::from(exit::USAGE);
            }
            None => all,
        };
        if args.output.is_some() && kernels.len() > 1 {
            eprintln!("error: -o needs --kernel when the file has several kernels");
            return ExitCode::from(exit::USAGE);
        }
        any_kernel |= !kernels.is_empty();
        let mut opts = args.features.options(&source.path);
        opts.instantiation = args.instantiate.clone().map(|t| t.0);
        // Every listed definition of each name (overloads are compiled
        // one by one), else the first.
        let definitions: Vec<(&String, Option<&Function>, usize)> = (kernels.iter())
            .flat_map(|kernel| {
                let all = cudalens_wgsl::kernel_definitions(&model, kernel);
                let mut chosen: Vec<&Function> =
                    all.iter().copied().filter(|f| listed(f)).collect();
                if chosen.is_empty() {
                    chosen.extend(all.first());
                }
                if chosen.is_empty() {
                    return vec![(kernel, None, 0)];
                }
                // Overloads are numbered from 1; a lone definition is 0.
                let overloaded = chosen.len() > 1;
                (chosen.into_iter().enumerate())
                    .map(|(i, f)| (kernel, Some(f), if overloaded { i + 1 } else { 0 }))
                    .collect::<Vec<_>>()
            })
            .collect();
        if args.output.is_some() && definitions.len() > 1 {
            eprintln!(
                "error: -o needs one kernel, and `{}` has {} definitions (overloads): leave -o out",
                kernels.first().map_or("", |k| k.as_str()),
                definitions.len()
            );
            return ExitCode::from(exit::USAGE);
        }
        for (kernel, function, overload) in definitions {
            opts.definition = function
                .filter(|_| overload > 0)
                .map(cudalens_wgsl::KernelDefinition::of);
            let defined_in = function
                .and_then(|f| f.file.clone())
                .unwrap_or_else(|| source.path.clone());
            // Spans index the text of the file the kernel is defined in.
            let kernel_text = if defined_in == source.path {
                text.clone()
            } else {
                // Read as the front end read it (invalid UTF-8 replaced), or the
                // spans would index another text.
                files::read_source(&defined_in, u64::MAX).unwrap_or_default()
            };
            let index = LineIndex::new(&kernel_text);
            let line = function.map_or(0, |f| index.position(f.name_span.start).line + 1);
            let mut texts = DiagnosticTexts::new(&source.path, &text);
            let mut record = KernelRecord {
                file: source.path.display().to_string(),
                defined_in: defined_in.display().to_string(),
                kernel: kernel.clone(),
                line,
                ok: false,
                output: None,
                errors: Vec::new(),
                warnings: Vec::new(),
                structure: None,
            };
            match gpu_actions::transpile_guarded(&model, &text, &FsProvider, kernel, &opts) {
                Ok(out) => {
                    record.warnings = message_records(&mut texts, out.warnings.iter());
                    record.structure = Some(out.structure);
                    if args.format == Format::Text && !out.warnings.is_empty() {
                        print_diagnostics(&source.path, &text, &out.warnings);
                    }
                    record.ok = true;
                    if !args.check {
                        let target = args.output.clone().unwrap_or_else(|| {
                            gpu_actions::overload_wgsl_path(&source.path, kernel, overload)
                        });
                        match gpu_actions::write_outputs(&target, &out, args.force) {
                            Ok(()) => {
                                if args.format == Format::Text {
                                    println!("{}", target.display());
                                }
                                record.output = Some(target.display().to_string());
                            }
                            Err(e) => {
                                let hint = match e {
                                    WriteError::Foreign(_) => " (use --force to replace it)",
                                    WriteError::Io(_) => "",
                                };
                                eprintln!("error: {e}{hint}");
                                failed = true;
                            }
                        }
                    }
                }
                Err(diagnostics) => {
                    record.errors =
                        message_records(&mut texts, diagnostics.iter().filter(|d| d.is_error()));
                    record.warnings =
                        message_records(&mut texts, diagnostics.iter().filter(|d| !d.is_error()));
                    if args.format == Format::Text {
                        print_diagnostics(&source.path, &text, &diagnostics);
                        eprintln!("error: kernel `{kernel}` cannot be transpiled to WGSL");
                        for missing in missing_includes(&model) {
                            eprintln!(
                                "note: `#include {missing}` was not found: give its directory with -I or compile_commands.json (its macros and types are unknown)"
                            );
                        }
                    }
                    failed = true;
                }
            }
            records.push(record);
        }
    }
    if args.format == Format::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&records).unwrap_or_default()
        );
    } else if !explicit_files {
        let ok = records.iter().filter(|r| r.ok).count();
        eprintln!(
            "cudalens: {ok} of {} kernels transpiled and validated",
            records.len()
        );
    }
    if args.kernel.is_some() && !any_kernel {
        eprintln!(
            "error: no kernel `{}` found",
            args.kernel.as_deref().unwrap_or("")
        );
        return ExitCode::from(exit::USAGE);
    }
    ExitCode::from(if failed { exit::FINDINGS } else { exit::OK })
}

/// The directories whose files `--included` compiles kernels of: the
/// directories given, else the file's own.
fn include_roots(paths: &[PathBuf], file: &Path) -> Vec<PathBuf> {
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let dirs: Vec<PathBuf> = paths
        .iter()
        .filter(|p| p.is_dir())
        .map(|p| absolute(p))
        .collect();
    if dirs.is_empty() {
        file.parent().map(absolute).into_iter().collect()
    } else {
        dirs
    }
}

/// The includes of the main file that were not found, as written
/// (`<polybench.h>`), leaving out the C++ and CUDA toolkit headers
/// cudalens never reads.
fn missing_includes(model: &FileModel) -> Vec<String> {
    use cudalens_syntax::preprocess::predefined::is_toolkit_header;
    model
        .includes
        .iter()
        .filter(|i| i.resolved.is_none() && !is_toolkit_header(&i.written))
        .map(|i| {
            if i.system {
                format!("<{}>", i.written)
            } else {
                format!("\"{}\"", i.written)
            }
        })
        .collect()
}

/// The model, with a panic in the front end turned into a message (one bad
/// file must not end a run over a directory).
fn build_guarded(path: &Path, text: &str, extra: &CompileFlags) -> Result<FileModel, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gpu_actions::model_of_file(path, text, extra)
    }))
    .map_err(|payload| crate::pipeline::panic_message(&*payload))
}

#[cfg(test)]
mod template_args_tests {
    use super::parse_template_args;

    #[test]
    fn split_at_top_level_commas_and_refuse_what_is_not_a_list() {
        let args = parse_template_args("float, Pair<int, 2>, (4)").expect("a list");
        assert_eq!(args.0, ["float", "Pair<int, 2>", "(4)"]);
        assert!(parse_template_args("float,").is_err());
        assert!(parse_template_args("Pair<int, 2").is_err());
        assert!(parse_template_args("").is_err());
    }
}
