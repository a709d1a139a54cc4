//! `cudalens hw`: the GPU adapters wgpu sees and the one benchmarks would use.

use std::io::Write as _;
use std::process::ExitCode;

use super::exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the hardware report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Prefer the first adapter whose name contains NAME.
    #[arg(long, value_name = "NAME")]
    pub adapter: Option<String>,
}

pub fn run(args: Args) -> ExitCode {
    let report = cudalens_gpu::detect_hardware(args.adapter.as_deref());
    if args.json {
        match serde_json::to_string_pretty(&report) {
            // A closed pipe (`cudalens hw | head`) is not an error worth a panic.
            Ok(json) => {
                let _ = writeln!(std::io::stdout(), "{json}");
            }
            Err(e) => {
                eprintln!("error: cannot serialise the report: {e}");
                return ExitCode::from(exit::FINDINGS);
            }
        }
    } else {
        let _ = write!(std::io::stdout(), "{report}");
    }
    ExitCode::from(if report.selected.is_some() {
        exit::OK
    } else {
        exit::FINDINGS
    })
}
