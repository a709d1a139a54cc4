//! The command line. One file per subcommand: add a subcommand by adding a
//! file with an `Args` struct and a `run(args) -> ExitCode`, and a variant to
//! [`Command`].

mod baseline;
mod bench;
mod check;
mod files;
mod findings;
mod github;
mod history;
mod hw;
mod json_report;
mod lsp;
mod occupancy;
mod progress;
mod report;
pub mod rules;
mod sarif;
mod text_report;
mod transpile;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Exit statuses shared by every subcommand.
pub mod exit {
    /// Everything ran; nothing at or above the `--deny` level.
    pub const OK: u8 = 0;
    /// Findings at or above the `--deny` level (or a launch that cannot run).
    pub const FINDINGS: u8 = 1;
    /// Bad arguments, unreadable paths, unknown architecture or rule.
    pub const USAGE: u8 = 2;
    /// cudalens itself failed: an internal error, a file it could not read
    /// or finish, an output it could not write. The results are incomplete.
    pub const FAILURE: u8 = 3;
}

#[derive(Debug, Parser)]
#[command(
    name = "cudalens",
    version,
    about = "CUDA performance diagnostics: a language server and a command line",
    long_about = "CUDA performance diagnostics: a language server and a command line.\n\n\
                  Run without arguments from an editor (stdin not a terminal) to start the language server."
)]
pub struct Cli {
    /// Print the documentation of a rule (as `cudalens rules CODE`).
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the language server over stdio.
    Lsp(lsp::Args),
    /// Analyse .cu/.cuh files and directories; print diagnostics.
    Check(check::Args),
    /// The occupancy calculator: the full table for one configuration.
    Occupancy(occupancy::Args),
    /// Compile CUDA kernels to WGSL (plus a JSON sidecar for the runner).
    Transpile(transpile::Args),
    /// List the GPU adapters benchmarks can run on.
    Hw(hw::Args),
    /// Run and time a kernel on the GPU (through WGSL); `--autotune` sweeps block sizes.
    Bench(bench::Args),
    /// Export the workspace's benchmark history as training data for tuners.
    History(history::Args),
    /// Write the benchmark history as one self-contained HTML dashboard.
    Report(report::Args),
    /// List the rules, or print one rule's documentation.
    Rules(rules::Args),
}

/// Parses the command line and runs the chosen subcommand.
pub fn main() -> ExitCode {
    crate::allocator::install();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (success) and errors to stderr (status 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    if let Some(code) = &cli.explain {
        return rules::explain(code);
    }
    // The GPU runner (hw, bench, the server's benchmarks) probes for a display.
    if matches!(
        cli.command,
        Some(Command::Hw(_) | Command::Bench(_) | Command::Lsp(_)) | None
    ) {
        quiet_wayland_probe();
    }
    match cli.command {
        Some(Command::Lsp(args)) => lsp::run(args),
        Some(Command::Check(args)) => check::run(args),
        Some(Command::Occupancy(args)) => occupancy::run(args),
        Some(Command::Transpile(args)) => transpile::run(args),
        Some(Command::Hw(args)) => hw::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::History(args)) => history::run(args),
        Some(Command::Report(args)) => report::run(args),
        Some(Command::Rules(args)) => rules::run(args),
        // An editor starts us with a pipe on stdin; a person at a terminal gets help.
        None if !std::io::stdin().is_terminal() => lsp::run(lsp::Args::default()),
        None => {
            let _ = Cli::command().print_help();
            ExitCode::from(exit::USAGE)
        }
    }
}

/// Without `XDG_RUNTIME_DIR`, Mesa's Vulkan drivers probe for a Wayland
/// display anyway and libwayland prints "error: XDG_RUNTIME_DIR is invalid
/// or not set in the environment." (twice) although nothing is wrong: no
/// display could be reached in that case, and benchmarks need none. Pointing
/// `WAYLAND_DISPLAY` at an absolute path that does not exist makes the probe
/// fail quietly. Called first thing, before any thread exists.
fn quiet_wayland_probe() {
    let runtime_dir_ok =
        std::env::var_os("XDG_RUNTIME_DIR").is_some_and(|d| std::path::Path::new(&d).is_absolute());
    if !runtime_dir_ok && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        // SAFETY: no other thread exists yet (see above), so nothing reads
        // the environment concurrently.
        unsafe { std::env::set_var("WAYLAND_DISPLAY", "/nonexistent/cudalens-no-wayland") };
    }
}
