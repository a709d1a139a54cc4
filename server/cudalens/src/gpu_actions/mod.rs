//! Transpiling kernels to WGSL files and benchmarking them on the GPU: the
//! logic shared by `cudalens transpile`/`bench` and the language server's
//! `cudalens.transpile`/`benchmark`/`autotune` commands. Nothing here knows
//! about LSP or terminals.
//!
//! Launch and buffer heuristics (documented in the README):
//! - with `BenchOptions::host_launch` (`cudalens bench`), grid, block and
//!   scalars the flags do not give come from the program's host code
//!   (`cudalens_analysis::host_launch`), each with its provenance;
//! - block: `--block`, else the kernel's first launch when it resolves, else
//!   the WGSL default (`__launch_bounds__` or 256);
//! - problem: `--grid` (problem = grid × block), else `--size N` (N, or N×N
//!   when the kernel is 2D), else the launch's grid when it resolves, else
//!   2^20 (1D) or 512×512 (2D); grid = ceil(problem / block);
//! - every pointer parameter gets max(problem elements, grid × block threads)
//!   elements of random data (fixed seed per binding);
//! - integer scalars with a size-like name (`n`, `size`, `width`, ...) get the
//!   problem size (the side for 2D), other scalars 1; `--arg NAME=VALUE` wins.

//!
//! One room per concern: [`workspace`] (history root, models of files on
//! disk), [`wgsl_files`] (writing transpiled kernels), [`launch`] (launch,
//! buffers, arguments), [`sweep`] (autotune, cancellable), [`variants`]
//! (plugin variants), [`native`] (`bench --native`: the same kernel
//! through nvcc, timed and compared), [`history`] (history and report), [`format`](mod@format) (numbers
//! in messages). Which kernel a command means is `cudalens_ide::kernels`.

pub mod format;
pub mod history;
pub mod launch;
pub mod native;
pub mod sweep;
pub mod variants;
pub mod wgsl_files;
pub mod workspace;

pub use cudalens_ide::kernels::{kernel_at, kernel_names};
pub use cudalens_ide::tune::{DEFAULT_SIZE_1D, DEFAULT_SIZE_2D, block_limits, tune_problem_size};
pub use format::{format_ms, summary_line, thousands};
pub use history::{
    HistoryOutcome, Measurements, record_history, regression_warning, report_markdown, write_report,
};
pub use launch::{
    BenchOptions, LaunchInfo, PrepareError, Prepared, SIZE_NAMES, clamp_error, prepare,
};
pub use sweep::{Sweep, autotune_stepwise};
pub use variants::{HistoryTarget, VariantTarget, benchmark_variant};
pub use wgsl_files::{
    GENERATED_MARK, WriteError, foreign_output, may_overwrite, overload_wgsl_path, sidecar_path,
    transpile_guarded, transpile_options, wgsl_path, write_outputs,
};
pub use workspace::{compile_commands_flags, display_relative, model_of_file, workspace_root_for};
