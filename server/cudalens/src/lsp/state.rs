//! What the server knows: open documents, settings, client capabilities.
//!
//! Each open document is owned by its own task (`document.rs`): the
//! `Document` (rope + tree) lives there so that edits apply strictly in
//! order and parsing runs on a blocking thread, never on the runtime's. The
//! map below holds, per URI, the newest version received, the channel to
//! that task, and the latest analysed [`Snapshot`] that requests read.

use cudalens_syntax::model::HeaderStore;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use dashmap::DashMap;
use tokio::sync::{mpsc, watch};
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{self as lsp, Uri};

pub use crate::overlay::OverlayProvider;
pub use cudalens_ide::Snapshot;
use cudalens_ide::{PluginFindings, Settings};
use cudalens_syntax::TextChange;

use super::capabilities::ClientSupport;
use super::convert;
use super::transport::Output;
use super::ui::ClientUi;
use crate::services::gpu::GpuWorker;
use crate::services::gpu_commands::Source;
use crate::services::nvcc::Nvcc;
use crate::services::plugins::Plugins;
use crate::services::{Events, NewestVersion};

/// How long a request waits for the analysis of the newest text before
/// answering from the previous one.
const FRESH_SNAPSHOT_WAIT: Duration = Duration::from_secs(2);

/// Messages to a document's task, applied in the order sent.
#[derive(Debug)]
pub enum DocEvent {
    Open {
        text: String,
        version: i32,
    },
    Change {
        changes: Vec<TextChange>,
        version: i32,
    },
    /// Settings, register counts or an included header changed.
    Reanalyze {
        /// An included header changed: its edits come one keystroke at a
        /// time, so this document will be analysed again and again.
        header_changed: bool,
    },
    /// A request needs the full analysis of a hibernated document.
    Wake,
    /// Other documents were analysed since: free the tree and caches
    /// (`cudalens.keepAnalyzedDocuments`).
    Hibernate,
    PluginResults {
        version: i32,
        results: Vec<PluginFindings>,
    },
}

/// One open document, as the handlers see it.
pub struct DocState {
    /// The newest version the client sent (the task may still be applying
    /// it), shared with the services' requests for this document.
    pub newest: NewestVersion,
    /// Distinguishes a reopened document from its closed predecessor.
    pub generation: u64,
    pub events: mpsc::UnboundedSender<DocEvent>,
    pub snapshot: watch::Receiver<Option<Arc<Snapshot>>>,
}

pub struct ServerState {
    pub client: Client,
    /// The output stream itself, for messages cudalens serialises on its own
    /// (see `transport::Output`).
    pub output: Output,
    pub docs: DashMap<Uri, DocState>,
    /// Text of open documents by path, so a header open in the editor is read
    /// from memory (with unsaved edits) when another file includes it.
    /// Changed through [`ServerState::set_open_text`].
    pub open_texts: Arc<DashMap<PathBuf, Arc<str>>>,
    /// Headers parsed once per content for every open document (ggml's
    /// CUDA files share about 0.9 MB of headers).
    pub headers: Arc<HeaderStore>,
    /// When each path's open text last changed, as a tick of `text_clock`:
    /// an analysis that read a header which changed while it ran is stale
    /// (see [`ServerState::changed_since`]).
    text_changed_at: DashMap<PathBuf, u64>,
    text_clock: std::sync::atomic::AtomicU64,
    pub settings: RwLock<Arc<Settings>>,
    /// Broken `cudalens.toml` files already reported.
    pub rule_config_problems: crate::rule_config::Reported,
    pub support: Arc<RwLock<ClientSupport>>,
    pub workspace_root: RwLock<Option<PathBuf>>,
    /// What the services may ask of the editor.
    pub ui: Arc<ClientUi>,
    /// Where the services report (the main loop, `main_loop.rs`).
    pub events: Events,
    pub nvcc: Nvcc,
    pub plugins: Arc<Plugins>,
    pub gpu: GpuWorker,
    /// Transpiler diagnostics per document URI, for the version they were computed on.
    pub wgsl_diagnostics: DashMap<String, (i32, Vec<lsp::Diagnostic>)>,
    pub next_generation: std::sync::atomic::AtomicU64,
    /// Documents holding a full analysis, least recently analysed first.
    analyzed: std::sync::Mutex<std::collections::VecDeque<Uri>>,
    /// Analyses from scratch (an open, a wake) run at most one per core, in
    /// the order asked: an editor restoring fifty tabs gets the first
    /// file's diagnostics first, and memory holds a few analyses at a time,
    /// not fifty. Edits, which reuse their caches, never wait for these.
    pub full_analyses: tokio::sync::Semaphore,
}

impl ServerState {
    pub fn new(client: Client, output: Output, events: Events) -> Self {
        let support = Arc::new(RwLock::new(ClientSupport::default()));
        let ui = Arc::new(ClientUi::new(client.clone(), support.clone()));
        ServerState {
            client,
            output,
            docs: DashMap::new(),
            open_texts: Arc::new(DashMap::new()),
            headers: HeaderStore::for_editor(),
            text_changed_at: DashMap::new(),
            text_clock: std::sync::atomic::AtomicU64::new(0),
            settings: RwLock::new(Arc::new(Settings::default())),
            rule_config_problems: Default::default(),
            support,
            workspace_root: RwLock::new(None),
            nvcc: Nvcc::new(ui.clone(), events.clone()),
            plugins: Arc::new(Plugins::new(ui.clone(), events.clone())),
            gpu: GpuWorker::start(None),
            wgsl_diagnostics: DashMap::new(),
            ui,
            events,
            next_generation: std::sync::atomic::AtomicU64::new(1),
            analyzed: Default::default(),
            full_analyses: tokio::sync::Semaphore::new(cudalens_analysis::parallel::cores()),
        }
    }

    pub fn settings(&self) -> Arc<Settings> {
        self.settings
            .read()
            .map(|s| s.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    pub fn set_settings(&self, settings: Settings) {
        let mut guard = self
            .settings
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = Arc::new(settings);
    }

    pub fn support(&self) -> ClientSupport {
        self.support.read().map(|s| *s).unwrap_or_default()
    }

    pub fn workspace_root(&self) -> Option<PathBuf> {
        self.workspace_root.read().ok().and_then(|r| r.clone())
    }

    /// True while `version` is the newest text of this opening of `uri`:
    /// results computed for it may be published.
    pub fn is_current(&self, uri: &Uri, generation: u64, version: i32) -> bool {
        self.docs
            .get(uri)
            .is_some_and(|d| d.generation == generation && d.newest.is(version))
    }

    /// Sends an event to a document's task; false when the document is not open.
    pub fn send(&self, uri: &Uri, event: DocEvent) -> bool {
        self.docs
            .get(uri)
            .is_some_and(|d| d.events.send(event).is_ok())
    }

    /// Records that `uri` now holds a full analysis, and asks the least
    /// recently analysed documents beyond `cudalens.keepAnalyzedDocuments`
    /// to hibernate (as clangd keeps only a few ASTs).
    pub fn mark_analyzed(&self, uri: &Uri) {
        let keep = self.settings().keep_analyzed_documents;
        let evicted: Vec<Uri> = {
            let mut analyzed = self
                .analyzed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            analyzed.retain(|u| u != uri);
            analyzed.push_back(uri.clone());
            let excess = if keep == 0 {
                0
            } else {
                analyzed.len().saturating_sub(keep)
            };
            analyzed.drain(..excess).collect()
        };
        for uri in evicted {
            self.send(&uri, DocEvent::Hibernate);
        }
    }

    /// `uri` hibernated or closed: it no longer counts against the limit.
    pub fn forget_analyzed(&self, uri: &Uri) {
        self.analyzed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|u| u != uri);
    }

    /// Asks the open documents to be analysed again: all (settings changed),
    /// or those at `only` (other files' launches of their kernels changed).
    pub fn reanalyze_all(&self, only: Option<&[PathBuf]>) {
        let at =
            |u: &Uri| only.is_none_or(|o| convert::uri_to_path(u).is_some_and(|p| o.contains(&p)));
        for doc in self.docs.iter().filter(|d| at(d.key())) {
            let _ = doc.events.send(DocEvent::Reanalyze {
                header_changed: false,
            });
        }
    }

    /// Records the open text of `path` (`None`: closed, the disk's text
    /// applies again) and re-analyses the documents that include it.
    ///
    /// The text is stored before the tick: an analysis that took its
    /// [`ServerState::text_clock`] before this tick and read the old text
    /// either sees the tick afterwards ([`ServerState::changed_since`]) or
    /// had published its snapshot before it, which `reanalyze_includers`
    /// then finds.
    pub fn set_open_text(&self, path: &Path, text: Option<Arc<str>>) {
        match text {
            Some(text) => drop(self.open_texts.insert(path.to_path_buf(), text)),
            None => drop(self.open_texts.remove(path)),
        }
        let tick = self.text_clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.text_changed_at.insert(path.to_path_buf(), tick);
        self.reanalyze_includers(path);
    }

    /// The current tick: take it before an analysis reads any header.
    pub fn text_clock(&self) -> u64 {
        self.text_clock.load(Ordering::SeqCst)
    }

    /// True when the open text of one of `paths` changed after tick `since`.
    pub fn changed_since<'a>(&self, mut paths: impl Iterator<Item = &'a Path>, since: u64) -> bool {
        paths.any(|p| {
            self.text_changed_at
                .get(p)
                .is_some_and(|tick| *tick > since)
        })
    }

    /// Re-analyses the open documents that include `header`.
    pub fn reanalyze_includers(&self, header: &Path) {
        for doc in self.docs.iter() {
            let includes_it = doc.snapshot.borrow().as_ref().is_some_and(|s| {
                s.analyzed
                    .model
                    .includes
                    .iter()
                    .any(|i| i.resolved.as_deref() == Some(header))
            });
            if includes_it {
                let _ = doc.events.send(DocEvent::Reanalyze {
                    header_changed: true,
                });
            }
        }
    }

    /// The transpiler diagnostics to publish with `version` of `uri` (none
    /// once the document changed).
    pub fn wgsl_diagnostics_for(&self, uri: &str, version: i32) -> Vec<lsp::Diagnostic> {
        self.wgsl_diagnostics
            .remove_if(uri, |_, (v, _)| *v != version);
        self.wgsl_diagnostics
            .get(uri)
            .map(|e| e.1.clone())
            .unwrap_or_default()
    }

    /// Restarts the plugin host from the current settings and workspace (in
    /// the background: asking whether to trust the workspace may wait on the user).
    pub fn restart_plugins(&self) {
        let (plugins, settings, root) =
            (self.plugins.clone(), self.settings(), self.workspace_root());
        tokio::spawn(async move { plugins.restart(settings, root).await });
    }

    /// The analysis of `uri`'s newest text: waits (briefly) while the document's
    /// task catches up with edits, so positions in a request match the text.
    pub async fn snapshot(&self, uri: &Uri) -> Option<Arc<Snapshot>> {
        let (version, mut rx) = {
            let doc = self.docs.get(uri)?;
            let hibernating = doc.snapshot.borrow().as_ref().is_some_and(|s| s.hibernated);
            if hibernating {
                let _ = doc.events.send(DocEvent::Wake);
            }
            (doc.newest.get(), doc.snapshot.clone())
        }; // the map guard is released before awaiting
        let fresh = |s: &Option<Arc<Snapshot>>| {
            s.as_ref()
                .is_some_and(|s| s.version >= version && !s.hibernated)
        };
        let _ = tokio::time::timeout(FRESH_SNAPSHOT_WAIT, rx.wait_for(fresh)).await;
        rx.borrow().clone()
    }

    /// The text a GPU command works on: the open document's newest
    /// analysis, else the file on disk (read and analysed).
    pub async fn command_source(&self, uri: &Uri) -> Result<Source, String> {
        let snapshot = self.snapshot(uri).await;
        let extra = self.settings().compile_flags(Default::default());
        Source::load(uri.as_str(), convert::uri_to_path(uri), snapshot, extra).await
    }

    /// Latest snapshots of every open document (for cross-file go-to-definition).
    pub fn all_snapshots(&self) -> Vec<Arc<Snapshot>> {
        self.docs
            .iter()
            .filter_map(|d| d.snapshot.borrow().clone())
            .collect()
    }

    /// Headers from open documents first, then from disk.
    pub fn source_provider(&self) -> OverlayProvider {
        OverlayProvider::new(self.open_texts.clone())
    }
}
