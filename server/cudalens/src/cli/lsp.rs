//! `cudalens lsp`: the language server over stdio.

use std::process::ExitCode;

#[derive(Debug, Default, clap::Args)]
pub struct Args {
    /// Accepted for editors that pass it (VS Code's language client does); stdio is the only transport.
    #[arg(long)]
    pub stdio: bool,
}

pub fn run(_args: Args) -> ExitCode {
    crate::lsp::run_stdio()
}
