//! cudalens-gpu: runs, times and autotunes WGSL compute kernels on a real
//! adapter through wgpu.
//!
//! * [`adapter`] — hardware detection and adapter selection (`cudalens hw`).
//! * [`interface`] — the JSON contract the CUDA→WGSL transpiler emits.
//! * [`grid`] — folding CUDA grids into WebGPU dispatch dimensions.
//! * [`bench`] — the [`Runner`] that compiles, uploads, dispatches and times.
//! * [`autotune`] — workgroup-size sweeps.
//! * [`history`] — an embedded run history with regression flags.
//! * [`report`] — Markdown + inline SVG rendering.
//! * [`dashboard`] — the whole history as one self-contained HTML page.
//!
//! See `README.md` for the timing method.

pub mod adapter;
pub mod autotune;
pub mod bench;
pub mod dashboard;
mod data;
mod error;
pub mod grid;
pub mod history;
pub mod interface;
pub mod report;
pub mod stats;

pub use adapter::{AdapterFeatures, AdapterLimits, AdapterReport, HardwareReport, detect_hardware};
pub use autotune::{AutotuneEntry, AutotuneResult, CandidateOutcome, autotune};
pub use bench::{
    Benchmark, BenchmarkResult, BufferInit, BufferSpec, ClampCheck, LaunchConfig, NagaModule,
    OutputBuffer, ParamValue, Runner, RuntimeChecks, TimingMethod, TimingPreference, TimingSource,
};
pub use dashboard::{DashboardInput, render_dashboard};
pub use error::GpuError;
pub use grid::{DispatchPlan, GridLayout, fold_grid, plan_dispatch};
pub use history::{AdapterInfo, History, HistoryRecord, Regression, RunWithFlag};

pub use interface::{Binding, BindingKind, KernelInterface, MemberOf, UniformField, WgslType};
pub use report::{ReportInput, render_autotune_svg, render_markdown};
pub use stats::TimingStats;
