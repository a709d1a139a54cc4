//! The command line. One file per subcommand: add a subcommand by adding a
//! file with an `Args` struct and a `run(args) -> ExitCode`, and a variant to
//! [`Command`].

mod bench;
mod check;
mod files;
mod history;
mod hw;
mod json_report;
mod lsp;
mod occupancy;
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
    match cli.command {
        Some(Command::Lsp(args)) => lsp::run(args),
        Some(Command::Check(args)) => check::run(args),
        Some(Command::Occupancy(args)) => occupancy::run(args),
        Some(Command::Transpile(args)) => transpile::run(args),
        Some(Command::Hw(args)) => hw::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::History(args)) => history::run(args),
        // An editor starts us with a pipe on stdin; a person at a terminal gets help.
        None if !std::io::stdin().is_terminal() => lsp::run(lsp::Args::default()),
        None => {
            let _ = Cli::command().print_help();
            ExitCode::from(exit::USAGE)
        }
    }
}
