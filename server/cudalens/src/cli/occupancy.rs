//! `cudalens occupancy`: the calculator's full table for one configuration,
//! the command-line twin of the kernel hover.

use std::process::ExitCode;

use cudalens_occupancy::{Arch, OccupancyInput, occupancy, render};

use super::exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Target architecture (sm_70 … sm_120).
    #[arg(long, default_value = "sm_90")]
    pub arch: String,
    /// Threads per block: `256`, or `16x16` / `8x8x4`.
    #[arg(long, value_parser = parse_threads)]
    pub block: u32,
    /// Registers per thread (from `nvcc --resource-usage`).
    #[arg(long)]
    pub regs: u32,
    /// Static shared memory per block, in bytes.
    #[arg(long, default_value_t = 0)]
    pub smem_static: u64,
    /// Dynamic shared memory per block, in bytes (the third `<<<>>>` argument).
    #[arg(long, default_value_t = 0)]
    pub smem_dynamic: u64,
    /// Print the report as JSON (the occupancy report's keys).
    #[arg(long)]
    pub json: bool,
}

fn parse_threads(text: &str) -> Result<u32, String> {
    let dims = crate::pipeline::parse_block(text)
        .ok_or_else(|| format!("`{text}` is not a block size (e.g. 256 or 16x16)"))?;
    dims.iter()
        .try_fold(1u32, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| format!("`{text}` has too many threads"))
}

pub fn run(args: Args) -> ExitCode {
    let arch = match Arch::parse(&args.arch) {
        Ok(arch) => arch,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(exit::USAGE);
        }
    };
    let input = OccupancyInput::new(args.block, args.regs)
        .with_static_smem(args.smem_static)
        .with_dynamic_smem(args.smem_dynamic);
    match (occupancy(arch, &input), args.json) {
        (Ok(report), true) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            );
            ExitCode::from(exit::OK)
        }
        (Ok(report), false) => {
            println!("{}\n", render::summary_line(&report));
            print!("{}", render::markdown_table(&report));
            ExitCode::from(exit::OK)
        }
        (Err(error), true) => {
            let json = serde_json::json!({ "error": error, "message": error.to_string() });
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
            ExitCode::from(exit::FINDINGS)
        }
        (Err(error), false) => {
            println!("error: this launch cannot run on {}: {error}", arch.name);
            ExitCode::from(exit::FINDINGS)
        }
    }
}
