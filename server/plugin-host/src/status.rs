//! What the host reports to the embedding server.

use std::fmt;
use std::time::Duration;

use cudalens_plugin_protocol::{Capabilities, CodeAction, PluginDiagnostic, RpcError, TuneResult};

use crate::config::PluginOrigin;

/// Lifecycle state of a plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginState {
    /// Enabled, will be started on first use (or by `PluginHost::start`).
    NotStarted,
    /// Spawned, handshake in progress.
    Starting,
    Running,
    /// Failed; will be restarted on next use.
    Restarting,
    /// Stopped by `shutdown`.
    Stopped,
    /// Turned off by the user or the configuration.
    DisabledByUser,
    /// Turned off by the host after repeated failures or an incompatible protocol version.
    Disabled {
        reason: String,
    },
}

/// One row of `PluginHost::status`.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginStatus {
    pub name: String,
    pub origin: PluginOrigin,
    pub state: PluginState,
    /// Restarts after failures so far.
    pub restarts: u32,
    /// Version reported in `initialize`, once started.
    pub version: Option<String>,
    pub capabilities: Option<Capabilities>,
    pub last_error: Option<String>,
}

/// Why a request to one plugin produced no result.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginError {
    UnknownPlugin(String),
    /// Disabled by the user or by the host; the reason says which.
    Disabled(String),
    /// The plugin did not declare the capability for this request.
    NotCapable(String),
    /// Another call kept the plugin busy until the deadline.
    Busy,
    /// No answer in time; the process was killed and will be restarted.
    Timeout {
        after: Duration,
        message: String,
    },
    /// Crash, exit, malformed output or failed start; restarted on next use unless disabled.
    Failed(String),
    /// The plugin answered with a JSON-RPC error (it is still healthy).
    Rpc(RpcError),
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginError::UnknownPlugin(name) => write!(f, "no plugin named '{name}'"),
            PluginError::Disabled(reason) => write!(f, "plugin disabled: {reason}"),
            PluginError::NotCapable(method) => write!(f, "plugin does not support {method}"),
            PluginError::Busy => {
                write!(f, "plugin was busy with another request until the deadline")
            }
            PluginError::Timeout { message, .. } => write!(f, "{message}"),
            PluginError::Failed(message) => write!(f, "{message}"),
            PluginError::Rpc(e) => write!(f, "plugin error: {e}"),
        }
    }
}

impl std::error::Error for PluginError {}

/// A failure attributed to a plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginFailure {
    pub plugin: String,
    pub error: PluginError,
}

/// One plugin's answer to `analyze`; `source` is the plugin's configured name.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginAnalysis {
    pub source: String,
    pub diagnostics: Vec<PluginDiagnostic>,
    pub code_actions: Vec<CodeAction>,
}

/// The combined answer of all plugins to `analyze`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalyzeReport {
    pub results: Vec<PluginAnalysis>,
    pub failures: Vec<PluginFailure>,
}

impl AnalyzeReport {
    /// All diagnostics with their source plugin.
    pub fn diagnostics(&self) -> impl Iterator<Item = (&str, &PluginDiagnostic)> {
        self.results
            .iter()
            .flat_map(|r| r.diagnostics.iter().map(move |d| (r.source.as_str(), d)))
    }
}

/// A plugin's answer to `tune`; `source` is the plugin's configured name.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneOutcome {
    pub source: String,
    pub result: TuneResult,
}
