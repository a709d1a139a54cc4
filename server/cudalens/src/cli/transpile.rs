//! `cudalens transpile`: CUDA kernels → WGSL files plus their JSON sidecars.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cudalens_analysis::Diagnostic;
use cudalens_syntax::LineIndex;
use cudalens_wgsl::TranspileDiagnostic;

use super::{exit, files, text_report};
use crate::gpu_actions::{self, WriteError};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The CUDA source file.
    pub file: PathBuf,
    /// The kernel to compile (default: every kernel of the file).
    #[arg(long)]
    pub kernel: Option<String>,
    /// Output file (only with one kernel; default `<file>.<kernel>.wgsl`).
    #[arg(short = 'o', long = "output", value_name = "OUT")]
    pub output: Option<PathBuf>,
    /// The target has subgroups: compile warp intrinsics.
    #[arg(long)]
    pub subgroups: bool,
    /// Allow `half` (WGSL `f16`).
    #[arg(long)]
    pub f16: bool,
    /// The target has native 32-bit float atomics (wgpu's SHADER_FLOAT32_ATOMIC):
    /// float `atomicAdd`/`atomicSub`/`atomicExch` on buffers become `atomic<f32>`.
    #[arg(long)]
    pub float_atomics: bool,
    /// Overwrite existing files even when cudalens did not generate them.
    #[arg(long)]
    pub force: bool,
}

/// TranspileDiagnostic → the analysis diagnostic the text renderer prints.
pub fn as_diagnostic(d: &TranspileDiagnostic) -> Diagnostic {
    Diagnostic::new(d.span, d.severity, "wgsl", d.message.clone())
}

/// Prints transpiler diagnostics rustc-style on stderr.
pub fn print_diagnostics(path: &Path, text: &str, diagnostics: &[TranspileDiagnostic]) {
    let index = LineIndex::new(text);
    let converted: Vec<Diagnostic> = diagnostics.iter().map(as_diagnostic).collect();
    eprint!(
        "{}",
        text_report::render(&path.display().to_string(), text, &index, &converted)
    );
}

pub fn run(args: Args) -> ExitCode {
    let text = match files::read_source(&args.file, u64::MAX) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: {}: {e}", args.file.display());
            return ExitCode::from(exit::USAGE);
        }
    };
    let model = gpu_actions::model_of_file(&args.file, &text);
    let all = gpu_actions::kernel_names(&model);
    let kernels = match &args.kernel {
        Some(k) if all.contains(k) => vec![k.clone()],
        Some(k) => {
            eprintln!(
                "error: no kernel `{k}` in {} (kernels: {})",
                args.file.display(),
                if all.is_empty() {
                    "none".into()
                } else {
                    all.join(", ")
                }
            );
            return ExitCode::from(exit::USAGE);
        }
        None if all.is_empty() => {
            eprintln!("error: {} defines no kernel", args.file.display());
            return ExitCode::from(exit::USAGE);
        }
        None => all,
    };
    if args.output.is_some() && kernels.len() > 1 {
        eprintln!("error: -o needs --kernel when the file has several kernels");
        return ExitCode::from(exit::USAGE);
    }
    let mut opts = gpu_actions::transpile_options(&args.file, args.subgroups, args.f16);
    opts.float_atomics = args.float_atomics;
    let mut failed = false;
    for kernel in &kernels {
        let out = match gpu_actions::transpile_guarded(&model, &text, kernel, &opts) {
            Ok(out) => out,
            Err(diagnostics) => {
                print_diagnostics(&args.file, &text, &diagnostics);
                eprintln!("error: kernel `{kernel}` cannot be transpiled to WGSL");
                failed = true;
                continue;
            }
        };
        if !out.warnings.is_empty() {
            print_diagnostics(&args.file, &text, &out.warnings);
        }
        let target = args
            .output
            .clone()
            .unwrap_or_else(|| gpu_actions::wgsl_path(&args.file, kernel));
        match gpu_actions::write_outputs(&target, &out, args.force) {
            Ok(()) => println!("{}", target.display()),
            Err(e @ WriteError::Foreign(_)) => {
                eprintln!("error: {e} (use --force to replace it)");
                failed = true;
            }
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    ExitCode::from(if failed { exit::FINDINGS } else { exit::OK })
}
