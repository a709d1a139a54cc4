//! Runs cudalens optimizer plugins as child processes speaking JSON-RPC over stdio.
//!
//! The language server builds a [`PluginConfig`] (user settings, plus the workspace's
//! `cudalens.toml` when the workspace is trusted), creates a [`PluginHost`], and calls
//! [`PluginHost::analyze`] per kernel and [`PluginHost::tune`] on request. Plugins that time
//! out, crash or break the protocol are restarted up to `max_restarts` times, then disabled;
//! [`PluginHost::status`] shows where each one stands.

mod benchmark;
mod config;
mod host;
mod process;
mod status;
mod supervisor;
mod transport;

pub use benchmark::{BenchmarkRequest, BenchmarkService, BoxFuture, NoBenchmarks};
pub use config::{ConfigError, HostSettings, PluginConfig, PluginOrigin, PluginSpec};
pub use host::PluginHost;
pub use status::{
    AnalyzeReport, PluginAnalysis, PluginError, PluginFailure, PluginState, PluginStatus,
    TuneOutcome,
};

/// Re-export of the protocol crate, so the server needs only one dependency.
pub use cudalens_plugin_protocol as protocol;
