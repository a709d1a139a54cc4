//! The server's background services, each a handle that owns its state,
//! takes requests and reports back as [`Event`]s, the way rust-analyzer's
//! flycheck talks to its main loop:
//!
//! - [`gpu`]: the one GPU worker (a thread owning the wgpu runner) that
//!   serves `cudalens bench`, the editor's benchmarks and plugins'
//!   `host/benchmark`;
//! - [`gpu_commands`]: `cudalens.transpile`, `cudalens.benchmark`,
//!   `cudalens.autotune` (progress, cancellation, messages);
//! - [`tune`]: `cudalens.pluginTune` and the plugins' `host/benchmark`;
//! - [`nvcc`]: exact register counts;
//! - [`plugins`]: the plugin host, workspace trust, `analyze` per kernel.
//!
//! Services see the editor only through the narrow [`Ui`] trait and the
//! [`Event`] channel, never the language server's state; `src/lsp` turns
//! both into LSP messages.

pub mod gpu;
pub mod gpu_commands;
pub mod nvcc;
pub mod plugins;
pub mod tune;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use tokio::sync::{mpsc, oneshot};

use cudalens_ide::PluginFindings;
use cudalens_plugin_host::protocol::{BenchResult, TextEdit};
use cudalens_plugin_host::{BenchmarkRequest, BoxFuture};
use cudalens_wgsl::TranspileDiagnostic;

/// How important a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Info,
    Log,
}

/// What services may ask of the editor.
pub trait Ui: Send + Sync + 'static {
    /// A message for the user.
    fn show(&self, level: Level, message: String) -> BoxFuture<'_, ()>;
    /// A line for the server's log.
    fn log(&self, level: Level, message: String) -> BoxFuture<'_, ()>;
    /// Asks the user to pick one of `choices`; `None` when dismissed, or
    /// when the editor cannot ask (then nothing is shown).
    fn ask<'a>(
        &'a self,
        level: Level,
        message: String,
        choices: &'a [&'a str],
    ) -> BoxFuture<'a, Option<String>>;
    /// Starts a progress report (shown when the editor supports it).
    fn progress(&self, title: String) -> BoxFuture<'_, Box<dyn Progress>>;
    /// Asks the editor to open `path`; false when it cannot or will not.
    fn open(&self, path: &Path) -> BoxFuture<'_, bool>;
    /// Applies a plugin's edits (an edit without a URI is on `uri`).
    fn apply_edits<'a>(
        &'a self,
        uri: &'a str,
        edits: &'a [TextEdit],
    ) -> BoxFuture<'a, Result<(), String>>;
}

/// One running progress report. The cancellation flag is set when the user
/// cancels it (or a timeout does); work checks it between steps.
pub trait Progress: Send + Sync {
    fn cancel_flag(&self) -> Arc<AtomicBool>;
    fn report(&self, message: String) -> BoxFuture<'_, ()>;
    fn finish(self: Box<Self>) -> BoxFuture<'static, ()>;
}

/// What services report to the language server's main loop.
#[derive(Debug)]
pub enum Event {
    /// nvcc measured this document's registers: analyse it again.
    RegistersMeasured { uri: String },
    /// The plugins answered for `version` of a document.
    PluginResults {
        uri: String,
        version: i32,
        results: Vec<PluginFindings>,
    },
    /// A new plugin host runs: every document goes to its plugins.
    PluginsStarted,
    /// The transpiler's diagnostics for `version` of an open document (empty: clear them).
    WgslDiagnostics {
        uri: String,
        version: i32,
        /// The text at `version` (the diagnostics' spans are in it).
        text: Arc<str>,
        diagnostics: Vec<TranspileDiagnostic>,
    },
    /// A plugin asks to time a variant: the main loop finds the document
    /// and hands the job to [`tune::benchmark_variant`].
    PluginBenchmark {
        request: BenchmarkRequest,
        reply: oneshot::Sender<BenchResult>,
    },
}

pub type Events = mpsc::UnboundedSender<Event>;

/// The newest version the client sent of one opening of a document. A
/// request carries it so a service neither spends time on nor reports for
/// text that an edit (or closing the document) has superseded.
#[derive(Clone, Debug)]
pub struct NewestVersion(Arc<AtomicI64>);

impl NewestVersion {
    pub fn new(version: i32) -> Self {
        NewestVersion(Arc::new(AtomicI64::new(i64::from(version))))
    }

    pub fn set(&self, version: i32) {
        self.0.store(i64::from(version), Ordering::SeqCst);
    }

    /// The document was closed: no version is current any more.
    pub fn close(&self) {
        self.0.store(i64::MIN, Ordering::SeqCst);
    }

    pub fn is(&self, version: i32) -> bool {
        self.0.load(Ordering::SeqCst) == i64::from(version)
    }

    /// The newest version (`i32::MIN` once closed).
    pub fn get(&self) -> i32 {
        let newest = self.0.load(Ordering::SeqCst);
        i32::try_from(newest).unwrap_or(i32::MIN)
    }
}

/// Where history and reports of `file` go: the editor's workspace when the
/// file is in it, else the nearest ancestor with `.git` or `cudalens.toml`.
pub fn workspace_for(editor_root: Option<&Path>, file: &Path) -> PathBuf {
    editor_root
        .filter(|root| file.starts_with(root))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| crate::gpu_actions::workspace_root_for(file))
}
