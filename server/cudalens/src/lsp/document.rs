//! The task that owns one open document.
//!
//! Why a task per document: edits must apply strictly in order, parsing and
//! analysis must run off the async runtime's threads, and a slow file must
//! never delay typing in another. Each task drains every queued event before
//! analysing, so a burst of keystrokes costs one analysis (superseded
//! versions are skipped, never published), and publishes only while its
//! version is still the newest the client sent.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio::sync::{mpsc, watch};
use tower_lsp_server::ls_types::{MessageType, Uri};

use cudalens_ide::PluginFindings;
use cudalens_syntax::preprocess::include::CompileFlags;
use cudalens_syntax::{Document, TextChange};

use super::state::{DocEvent, DocState, ServerState, Snapshot};
use super::{convert, diagnostics};
use crate::background::{drop_in_background, plan_ahead, prepare_outline};
use crate::gpu_actions::compile_commands_flags;
use crate::pipeline::{self, Analyzed, Caches};
use crate::services::NewestVersion;
use cudalens_syntax::model::ModelCache;

/// `textDocument/didOpen`: starts the document's task.
///
/// Its text is what files including it read from now on: recorded here,
/// before the next message is handled, not when the task gets to it, so a
/// file opened after it is analysed with it from its first publish.
pub fn open(state: &Arc<ServerState>, uri: Uri, text: String, version: i32) {
    let path = convert::uri_to_path(&uri);
    if let Some(path) = &path {
        state.set_open_text(path, Some(Arc::from(text.as_str())));
    }
    let (events, rx) = mpsc::unbounded_channel();
    let (snapshot_tx, snapshot) = watch::channel(None);
    let generation = state.next_generation.fetch_add(1, Ordering::Relaxed);
    let _ = events.send(DocEvent::Open { text, version });
    let newest = NewestVersion::new(version);
    if let Some(previous) = state.docs.insert(
        uri.clone(),
        DocState {
            newest: newest.clone(),
            generation,
            events,
            snapshot,
        },
    ) {
        previous.newest.close();
    }
    let task = DocTask {
        state: state.clone(),
        path,
        uri,
        generation,
        newest,
        doc: None,
        base_flags: None,
        caches: None,
        dirty: false,
        refresh_views: false,
        hibernated: false,
        reanalysed: false,
        snapshot_tx,
        siblings: Default::default(),
    };
    tokio::spawn(task.run(rx));
}

/// `textDocument/didChange`: records the version at once (so stale results
/// are recognised) and queues the edits.
pub fn change(state: &ServerState, uri: &Uri, changes: Vec<TextChange>, version: i32) {
    if let Some(doc) = state.docs.get(uri) {
        doc.newest.set(version);
        let _ = doc.events.send(DocEvent::Change { changes, version });
    }
}

/// `textDocument/didClose`: the task ends when its channel closes.
pub async fn close(state: &ServerState, uri: &Uri) {
    if let Some((_, doc)) = state.docs.remove(uri) {
        doc.newest.close();
        state.forget_analyzed(uri);
        if let Some(path) = convert::uri_to_path(uri) {
            state.set_open_text(&path, None);
        }
        diagnostics::clear(state, uri).await;
    }
}

struct DocTask {
    state: Arc<ServerState>,
    uri: Uri,
    path: Option<PathBuf>,
    generation: u64,
    /// The newest version the client sent, for the services' requests.
    newest: NewestVersion,
    doc: Option<Document>,
    /// Flags from compile_commands.json, looked up once per settings change.
    base_flags: Option<CompileFlags>,
    /// What the last analysis can lend the next (unchanged functions are reused).
    caches: Option<Caches>,
    /// Text or settings changed since the last analysis.
    dirty: bool,
    /// The pending analysis has no text change behind it (settings, nvcc):
    /// clients must be told to fetch inlay hints and code lenses again.
    refresh_views: bool,
    /// Idle: tree and caches freed, the snapshot an outline (see `hibernate`).
    hibernated: bool,
    /// The client changed the text, or a header it includes changed, since
    /// it was opened or last hibernated: more analyses are coming, so the
    /// syntax tree is kept between them (see `drop_tree_unless_reanalysed`).
    /// Settings and nvcc's register counts cause one re-analysis, not a
    /// series.
    reanalysed: bool,
    snapshot_tx: watch::Sender<Option<Arc<Snapshot>>>,
    /// Launches of this document's kernels by the files beside it.
    siblings: crate::launches_elsewhere::Siblings,
}

impl DocTask {
    async fn run(mut self, mut rx: mpsc::UnboundedReceiver<DocEvent>) {
        loop {
            let mut batch = Vec::new();
            if !self.dirty {
                let idle_limit = self.idle_limit();
                let event = match idle_limit {
                    Some(limit) => match tokio::time::timeout(limit, rx.recv()).await {
                        Ok(event) => event,
                        Err(_idle) => {
                            self.hibernate("idle").await;
                            continue;
                        }
                    },
                    None => rx.recv().await,
                };
                match event {
                    Some(event) => batch.push(event),
                    None => return, // closed
                }
            }
            while let Ok(event) = rx.try_recv() {
                batch.push(event);
            }
            if rx.is_closed() && rx.is_empty() && batch.is_empty() {
                return;
            }
            // Parsing and analysing from scratch (an open, a wake, settings
            // changed while hibernating) waits for one of `full_analyses`.
            let state = self.state.clone();
            let permit = match self.caches.is_none() {
                true => state.full_analyses.acquire().await.ok(),
                false => None,
            };
            self.apply(batch).await;
            // Newer edits queued meanwhile: apply them first, analyse once.
            if self.dirty && rx.is_empty() {
                self.dirty = false;
                self.analyze_and_publish().await;
            }
            drop(permit);
        }
    }

    /// How long this document may stay idle before it hibernates; `None`
    /// when it already does, has no text yet, or hibernation is off.
    fn idle_limit(&self) -> Option<std::time::Duration> {
        let secs = self.state.settings().hibernate_after_secs;
        (secs > 0 && !self.hibernated && self.doc.is_some())
            .then(|| std::time::Duration::from_secs(secs))
    }

    /// Frees what only edits and requests need: the syntax tree, the
    /// per-function caches and the function bodies of the published model.
    /// Text, line index, diagnostics and analysis results stay, so nothing
    /// is republished; the next edit or request rebuilds the rest.
    async fn hibernate(&mut self, why: &str) {
        self.state.forget_analyzed(&self.uri);
        self.hibernated = true;
        self.reanalysed = false;
        self.caches = None;
        let current = self.snapshot_tx.borrow().clone();
        let table = self.doc.as_mut().and_then(|doc| {
            drop_in_background(doc.drop_tree_and_rope());
            // The snapshot is of this text: it shares the document's table.
            let same_text = current
                .as_ref()
                .is_some_and(|s| Arc::ptr_eq(&s.text, doc.text()));
            same_text.then(|| doc.line_index().clone())
        });
        if let Some(current) = current {
            let outline =
                crate::allocator::on_long_lived_thread(move || current.hibernated(table)).await;
            if let Ok(outline) = outline {
                self.snapshot_tx.send_replace(Some(Arc::new(outline)));
            }
        }
        crate::allocator::release_freed_memory();
        let text = format!(
            "cudalens: {} {why}: syntax tree and analysis caches freed until the next edit or request",
            self.uri.as_str()
        );
        self.state.client.log_message(MessageType::LOG, text).await;
    }

    /// Leaves hibernation: parses again and schedules a full analysis.
    async fn wake(&mut self) {
        if self.hibernated {
            self.ensure_parsed().await;
            self.dirty = true;
        }
    }

    /// Leaves hibernation, and parses the text again if its tree was
    /// dropped (hibernation, or `drop_tree_unless_reanalysed`).
    async fn ensure_parsed(&mut self) {
        self.hibernated = false;
        let Some(mut doc) = self
            .doc
            .take_if(|doc| doc.syntax().is_none() && !doc.too_large())
        else {
            return;
        };
        let parsed = tokio::task::spawn_blocking(move || {
            // The document comes back whatever happens: it holds the user's text.
            let parse = std::panic::AssertUnwindSafe(|| doc.ensure_parsed());
            let panic = std::panic::catch_unwind(parse).err();
            (doc, panic.map(|p| pipeline::panic_message(&*p)))
        })
        .await;
        match parsed {
            Ok((doc, panic)) => {
                self.doc = Some(doc);
                if let Some(message) = panic {
                    self.log_internal_error(&message).await;
                }
            }
            Err(e) => self.log_internal_error(&e.to_string()).await,
        }
    }

    /// Frees the syntax tree of a document analysed only once since it was
    /// opened or last hibernated. The tree serves only re-analyses (an
    /// edit's incremental re-parse, a header's change) and is the largest
    /// part of an analysed document (7.5 MB for a 180 KB file, against
    /// 6.5 MB for model, analysis and caches), while most opened files are
    /// only read. Model and caches stay, so requests are answered at once;
    /// the first edit parses from scratch.
    fn drop_tree_unless_reanalysed(&mut self) {
        if !self.reanalysed
            && let Some(doc) = self.doc.as_mut()
        {
            drop_in_background(doc.drop_tree());
        }
    }

    async fn apply(&mut self, batch: Vec<DocEvent>) {
        let mut text_events = Vec::new();
        let mut edited = false;
        let mut hibernate = false;
        for event in batch {
            match event {
                DocEvent::Open { .. } => text_events.push(event),
                DocEvent::Change { .. } => {
                    self.reanalysed = true;
                    edited = true;
                    text_events.push(event)
                }
                DocEvent::Reanalyze { header_changed } => {
                    self.reanalysed |= header_changed;
                    self.base_flags = None;
                    self.dirty = true;
                    self.refresh_views = true;
                }
                DocEvent::Wake => {
                    hibernate = false;
                    self.wake().await
                }
                DocEvent::Hibernate => hibernate = true,
                DocEvent::PluginResults { version, results } => {
                    self.take_plugin_results(version, results).await
                }
            }
        }
        if text_events.is_empty() {
            // Only when nothing is pending: an analysis about to run keeps it.
            if hibernate && !self.dirty && !self.hibernated && self.doc.is_some() {
                self.hibernate("not among the most recently analysed documents (cudalens.keepAnalyzedDocuments)")
                    .await;
            }
            return;
        }
        self.dirty = true;
        // An edit parses from scratch when the tree was dropped (Document::apply_changes).
        self.hibernated = false;
        self.refresh_views = false; // an edit makes the client ask anyway
        let doc = self.doc.take();
        let ahead = plan_ahead(
            &text_events,
            self.caches.is_some(),
            &self.path,
            &self.state,
            &self.siblings,
        );
        let applied =
            tokio::task::spawn_blocking(move || apply_text_events(doc, text_events)).await;
        if let Some(task) = ahead
            && let Ok((caches, base)) = task.await
        {
            (self.caches, self.base_flags) = (Some(caches), Some(base));
        }
        match applied {
            Ok((doc, panic)) => {
                if let Some(message) = panic {
                    self.log_internal_error(&message).await;
                }
                self.doc = doc;
            }
            Err(e) => self.log_internal_error(&e.to_string()).await,
        }
        if let (Some(path), Some(doc)) = (&self.path, &self.doc) {
            let text = doc.text().clone();
            if edited {
                self.state.set_open_text(path, Some(text));
            } else {
                // The text `open` recorded, now shared with the document.
                self.state.open_texts.insert(path.clone(), text);
            }
        }
    }

    async fn analyze_and_publish(&mut self) {
        // Settings or a header changed while this document hibernated, or
        // its tree was dropped after its first analysis.
        self.ensure_parsed().await;
        let Some(doc) = &self.doc else { return };
        let settings = self.state.settings();
        let text = doc.text().clone();
        let version = doc.version;
        let index = doc.line_index().clone();
        let tree = doc.syntax().cloned();
        let path = self.path.clone();
        let provider = self.state.source_provider();
        let headers_read_at = self.state.text_clock();
        let base_flags = self.base_flags.take();
        let nvcc = self.state.nvcc.clone();
        let task_settings = settings.clone();
        let headers = &self.state.headers;
        let mut caches = self.caches.take().unwrap_or_else(|| Caches {
            model: ModelCache::sharing(headers.clone()),
            ..Caches::default()
        });
        let (open, siblings) = (self.state.all_snapshots(), self.siblings.clone());
        let published = self.release_published_model();
        let result = tokio::task::spawn_blocking(move || {
            // Before the build: this may leave the cache the only owner of
            // each function (see `release_published_model`).
            drop(published);
            let base = base_flags.unwrap_or_else(|| compile_commands_flags(path.as_deref()));
            let flags = task_settings.compile_flags(base.clone());
            let workspace = path.as_deref().map(crate::rule_config::disabled_for);
            let (disabled_here, rule_problem) = match workspace {
                Some(Err(problem)) => (Vec::new(), Some(problem)),
                Some(Ok(disabled)) => (disabled, None),
                None => (Vec::new(), None),
            };
            if text.len() > task_settings.max_file_bytes() {
                let code = cudalens_analysis::rules::file_too_large::CODE;
                let disabled = task_settings.disabled_rules.contains(code)
                    || disabled_here.iter().any(|c| c == code);
                let notice = match disabled {
                    true => Analyzed::default(),
                    false => Analyzed::too_large(task_settings.max_file_size_mb),
                };
                return (base, flags, caches, Ok(notice), rule_problem);
            }
            let registers = nvcc.registers_for(&text, &flags, &task_settings);
            let mut config = task_settings.analysis_config(registers);
            config.disabled_rules.extend(disabled_here);
            let elsewhere = siblings.launches(path.as_deref(), &text, &flags, &provider, &open);
            let request = pipeline::Request {
                text: &text,
                tree: tree.as_ref(),
                path: path.as_deref(),
                flags: flags.clone(),
                provider: &provider,
                config: &config,
                caches: Some(&mut caches),
                launches_elsewhere: &elsewhere,
            };
            let analyzed = pipeline::run_guarded(request);
            (base, flags, caches, analyzed, rule_problem)
        })
        .await;
        if let Ok((.., Some(problem))) = &result {
            self.report_rule_config_problem(problem).await;
        }
        let (flags, analyzed) = match result {
            Ok((base, flags, caches, Ok(analyzed), _)) => {
                self.base_flags = Some(base);
                self.caches = Some(caches);
                (flags, analyzed)
            }
            Ok((base, flags, _possibly_inconsistent_caches, Err(panic), _)) => {
                self.base_flags = Some(base);
                self.log_internal_error(&panic).await;
                (flags, Analyzed::default())
            }
            Err(e) => {
                self.log_internal_error(&e.to_string()).await;
                (CompileFlags::default(), Analyzed::default())
            }
        };
        let snapshot = Arc::new(Snapshot::new(
            self.uri.as_str().to_string(),
            self.path.clone(),
            version,
            doc.text().clone(),
            index,
            analyzed,
            settings,
        ));
        let previous = self.snapshot_tx.send_replace(Some(snapshot.clone()));
        // A header this analysis read was opened, edited or closed meanwhile:
        // analyse again (its change found no snapshot including it).
        let includes = snapshot.analyzed.model.includes.iter();
        let resolved = includes.filter_map(|i| i.resolved.as_deref());
        if self.state.changed_since(resolved, headers_read_at) {
            self.dirty = true;
        }
        if self.state.is_current(&self.uri, self.generation, version) {
            diagnostics::publish(&self.state, &snapshot).await;
            let launched = crate::launches_elsewhere::changed(&snapshot, previous.as_deref());
            self.state.reanalyze_all(Some(&launched));
            prepare_outline(&snapshot);
            if std::mem::take(&mut self.refresh_views) {
                request_view_refresh(&self.state);
            }
            let newest = self.newest.clone();
            self.state.nvcc.schedule(&snapshot, flags, newest.clone());
            self.state.plugins.schedule(&snapshot, newest);
            self.state.mark_analyzed(&self.uri);
        }
        drop_in_background(previous);
        self.drop_tree_unless_reanalysed();
    }

    /// Before an analysis: publishes the current snapshot with only an
    /// outline of its model (see `Snapshot::stale_outline`) and returns the
    /// full one, to be dropped before the model is built, so the model
    /// cache's functions are no longer shared with it.
    fn release_published_model(&self) -> Option<Arc<Snapshot>> {
        let current = self.snapshot_tx.borrow().clone();
        let current = current.filter(|s| !s.hibernated)?;
        let outline = Arc::new(current.stale_outline());
        drop(current);
        self.snapshot_tx.send_replace(Some(outline))
    }

    /// Stores plugin results for the current version and republishes.
    async fn take_plugin_results(&mut self, version: i32, results: Vec<PluginFindings>) {
        let current = self.snapshot_tx.borrow().clone();
        let Some(current) = current.filter(|s| s.version == version) else {
            return; // computed for text that has changed since
        };
        let snapshot = Arc::new(current.with_plugin_results(results));
        self.snapshot_tx.send_replace(Some(snapshot.clone()));
        if self.state.is_current(&self.uri, self.generation, version) {
            diagnostics::publish(&self.state, &snapshot).await;
        }
    }

    /// A `cudalens.toml` that cannot be used: shown once (until it changes).
    async fn report_rule_config_problem(&self, problem: &str) {
        if self.state.rule_config_problems.first_time(problem) {
            let message = crate::rule_config::problem_message(problem);
            self.state
                .client
                .show_message(MessageType::WARNING, message)
                .await;
        }
    }

    async fn log_internal_error(&self, message: &str) {
        let text = format!(
            "cudalens: internal error while analysing {}: {message} (please report this)",
            self.uri.as_str()
        );
        self.state
            .client
            .log_message(MessageType::ERROR, text)
            .await;
    }
}

/// Asks the client to re-request inlay hints and code lenses (in the
/// background: the answer does not matter and must not hold up this task).
fn request_view_refresh(state: &Arc<ServerState>) {
    let support = state.support();
    let client = state.client.clone();
    tokio::spawn(async move {
        if support.inlay_hint_refresh {
            let _ = client.inlay_hint_refresh().await;
        }
        if support.code_lens_refresh {
            let _ = client.code_lens_refresh().await;
        }
    });
}

/// Applies opens and edits in order. A panic in the front end is caught and
/// reported; the document is then rebuilt from its own text so it stays usable.
fn apply_text_events(
    mut doc: Option<Document>,
    events: Vec<DocEvent>,
) -> (Option<Document>, Option<String>) {
    let mut panic = None;
    for event in events {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match event {
            DocEvent::Open { text, version } => doc = Some(Document::new(text, version)),
            DocEvent::Change { changes, version } => match doc.as_mut() {
                Some(d) => d.apply_changes(&changes, version),
                // A change without an open: only a full replacement makes sense.
                None => {
                    if let Some(full) = changes.iter().rev().find(|c| c.range.is_none()) {
                        doc = Some(Document::new(full.text.clone(), version));
                    }
                }
            },
            _ => {}
        }));
        if let Err(payload) = outcome {
            panic = Some(pipeline::panic_message(&*payload));
            doc = doc.map(|d| Document::new(d.text().to_string(), d.version));
        }
    }
    (doc, panic)
}
