//! `cudalens history`: the workspace's benchmark history
//! (`.cudalens/history.redb`), exported as training data for tuners.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use cudalens_gpu::history::History;

use super::exit;
use crate::tuning_data;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write the runs as the learned tuner's JSON lines (kernel and adapter
    /// features, block, median time); `-` for stdout.
    #[arg(long, value_name = "FILE")]
    pub export: PathBuf,
    /// The workspace whose `.cudalens/history.redb` is read.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub workspace: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    let path = History::default_path(&args.workspace);
    if !path.exists() {
        eprintln!("error: no benchmark history at {}", path.display());
        return ExitCode::from(exit::USAGE);
    }
    let export = match History::open(&args.workspace).and_then(|h| tuning_data::export(&h)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: {}: {e}", path.display());
            return ExitCode::from(exit::FINDINGS);
        }
    };
    let written = if args.export.as_os_str() == "-" {
        std::io::stdout().write_all(export.lines.as_bytes())
    } else {
        std::fs::write(&args.export, &export.lines)
    };
    if let Err(e) = written {
        eprintln!("error: {}: {e}", args.export.display());
        return ExitCode::from(exit::FINDINGS);
    }
    eprintln!(
        "exported {} runs of {} kernels ({} runs without features skipped)",
        export.runs, export.kernels, export.skipped
    );
    ExitCode::from(exit::OK)
}
