//! Theoretical CUDA occupancy, computed exactly as the CUDA runtime's
//! `cudaOccupancyMaxActiveBlocksPerMultiprocessor` does, plus a parser for
//! `ptxas -v` resource reports and renderers for hovers and the CLI.
//!
//! A pure library: no I/O, no LSP types.
//!
//! ```
//! use cudalens_occupancy::{Arch, OccupancyInput, occupancy, render};
//!
//! let h100 = Arch::parse("sm_90").unwrap();
//! let report = occupancy(h100, &OccupancyInput::new(256, 64)).unwrap();
//! assert_eq!(report.active_blocks_per_sm, 4);
//! assert_eq!(
//!     render::summary_line(&report),
//!     "occupancy 50% (32/64 warps) — limited by registers: 64/thread"
//! );
//! ```

pub mod arch;
pub mod calc;
pub mod digits;
pub mod nvcc;
pub mod render;

pub use arch::{Arch, ArchParseError};
pub use calc::{
    BlockSizeSuggestion, LaunchError, Limiter, OccupancyInput, OccupancyReport, RegisterRangeEnd,
    best_block_size, blocks_per_full_wave, max_threads_per_block_for_registers, occupancy,
};
pub use nvcc::{ResourceUsage, demangle_base_name, parse_ptxas_output};
