//! The top of cudalens: the language server and the command line, thin layers
//! over the pure analysis crates (`cudalens-syntax`, `cudalens-analysis`,
//! `cudalens-occupancy`, `cudalens-plugin-host`).
//!
//! - [`pipeline`]: text + settings → model + analysis, shared by both front ends.
//! - [`cli`]: `cudalens check`, `cudalens occupancy`, `cudalens lsp`.
//! - [`lsp`]: the language server.
//! - [`gpu_actions`]: WGSL transpiling and GPU benchmarks, shared by both.
//! - [`rule_config`]: the rules a workspace's `cudalens.toml` turns off, per path.
//! - [`overlay`]: open documents' text before the disk, for the server's reads.
//! - [`framing`]: `Content-Length` framing of the server's byte streams.
//! - [`tuning_data`]: tuner features stored with benchmark runs, and their export.
//! - [`launches_elsewhere`]: launches of a document's kernels by the files including it, for the server.
//! - [`background`]: outlines made and values freed on blocking threads.
//! - [`allocator`]: mimalloc for Rust and tree-sitter alike.

pub mod allocator;
pub mod background;
pub mod cli;
pub mod framing;
pub mod gpu_actions;
pub mod launches_elsewhere;
pub mod lsp;
pub mod nvcc_registers;
pub mod overlay;
pub mod rule_config;
pub mod services;
pub mod tuning_data;

/// The one text → model → analysis path (lives in `cudalens-ide`, below the
/// features that read its results).
pub use cudalens_ide::pipeline;
