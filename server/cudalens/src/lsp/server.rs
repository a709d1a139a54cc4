//! The `LanguageServer` implementation: each handler converts, delegates to
//! `document.rs`, a feature of `cudalens-ide` or a service, and converts back.
//!
//! Built on `tower-lsp-server`, the maintained fork of `tower-lsp` (same API,
//! current `lsp-types` as `ls-types`, no `async_trait`), because tower-lsp
//! itself is no longer released.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use cudalens_ide::code_actions::ActionKind;
use cudalens_ide::commands::{Command, KernelTarget};
use cudalens_ide::{Settings, code_actions, code_lens, definition, hover, inlay_hints, symbols};

use super::capabilities::{self, ClientSupport};
use super::state::ServerState;
use super::transport::Output;
use super::{convert, document, main_loop, workspace_rules};
use crate::services::gpu_commands::{self, BenchmarkSetup};
use crate::services::{plugins, tune, workspace_for};

pub struct CudaLens {
    state: Arc<ServerState>,
    /// Set by `shutdown`: `exit` then ends the process with status 0 (else 1).
    pub shutdown_requested: Arc<AtomicBool>,
}

impl CudaLens {
    /// `output`: where cudalens writes its own messages (diagnostics), beside
    /// the client's.
    pub fn new(client: Client, shutdown_requested: Arc<AtomicBool>, output: Output) -> Self {
        let (events, reports) = tokio::sync::mpsc::unbounded_channel();
        let state = Arc::new(ServerState::new(client, output, events));
        tokio::spawn(main_loop::run(Arc::downgrade(&state), reports));
        CudaLens {
            state,
            shutdown_requested,
        }
    }

    /// Applies a settings object; returns true when the plugin settings changed.
    async fn apply_settings(&self, value: &Value) -> bool {
        let (settings, warnings) = Settings::from_json(value);
        for w in warnings {
            self.state
                .client
                .show_message(MessageType::WARNING, w)
                .await;
        }
        let plugins_changed =
            plugins::settings_key(&settings) != plugins::settings_key(&self.state.settings());
        self.state.set_settings(settings);
        plugins_changed
    }

    /// `window/workDoneProgress/cancel` (registered as a custom method: the
    /// `LanguageServer` trait has no handler for it).
    pub async fn work_done_progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        self.state.ui.cancel(&params.token);
    }

    /// `workspace/configuration` for the `cudalens` section, when the client
    /// supports it; `None` when it does not or answers null.
    async fn pull_settings(&self) -> Option<Value> {
        if !self.state.support().configuration_pull {
            return None;
        }
        let item = ConfigurationItem {
            scope_uri: None,
            section: Some("cudalens".to_string()),
        };
        let mut values = self.state.client.configuration(vec![item]).await.ok()?;
        Some(values.pop()?).filter(|v| !v.is_null())
    }
}

#[allow(deprecated)] // root_uri: still what most clients send
fn workspace_root(params: &InitializeParams) -> Option<std::path::PathBuf> {
    params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| &f.uri)
        .or(params.root_uri.as_ref())
        .and_then(convert::uri_to_path)
}

impl LanguageServer for CudaLens {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        if let Ok(mut support) = self.state.support.write() {
            *support = ClientSupport::from(&params.capabilities);
        }
        if let Ok(mut root) = self.state.workspace_root.write() {
            *root = workspace_root(&params);
        }
        if let Some(options) = &params.initialization_options {
            self.apply_settings(options).await;
        }
        Ok(InitializeResult {
            capabilities: capabilities::server(),
            server_info: Some(ServerInfo {
                name: "cudalens".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if self.state.support().watched_files_registration {
            let client = self.state.client.clone();
            let registration = workspace_rules::watcher_registration();
            tokio::spawn(async move {
                let _ = client.register_capability(vec![registration]).await;
            });
        }
        if let Some(settings) = self.pull_settings().await {
            self.apply_settings(&settings).await;
            self.state.reanalyze_all(None);
        }
        self.state.restart_plugins();
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown_requested.store(true, Ordering::SeqCst);
        if let Some(host) = self.state.plugins.host() {
            host.shutdown().await;
        }
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        document::open(&self.state, doc.uri, doc.text, doc.version);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let changes = params
            .content_changes
            .into_iter()
            .map(convert::text_change)
            .collect();
        let doc = params.text_document;
        document::change(&self.state, &doc.uri, changes, doc.version);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        document::close(&self.state, &params.text_document.uri).await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let pulled = self.pull_settings().await;
        let settings = pulled.unwrap_or(params.settings);
        let plugins_changed = self.apply_settings(&settings).await;
        self.state.reanalyze_all(None);
        if plugins_changed {
            self.state.restart_plugins();
        }
    }

    /// A `cudalens.toml` changed: every open document is analysed again
    /// (each reads the file it falls under).
    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        if workspace_rules::touches_config(&params) {
            self.state.rule_config_problems.forget();
            self.state.reanalyze_all(None);
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        let Some(s) = self.state.snapshot(&at.text_document.uri).await else {
            return Ok(None);
        };
        let found = hover::hover(&s, convert::offset(&s.index, at.position));
        Ok(found.map(|found| convert::hover(&s.index, found)))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(s) = self.state.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        let symbols = symbols::document_symbols(&s).into_iter();
        let symbols = symbols.map(|symbol| convert::document_symbol(&s.index, symbol));
        Ok(Some(DocumentSymbolResponse::Nested(symbols.collect())))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        let Some(s) = self.state.snapshot(&at.text_document.uri).await else {
            return Ok(None);
        };
        let offset = convert::offset(&s.index, at.position);
        let provider = self.state.source_provider();
        let found = definition::definition(&s, offset, &provider, || self.state.all_snapshots());
        Ok(found
            .and_then(convert::location)
            .map(GotoDefinitionResponse::Scalar))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some(s) = self.state.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        let range = convert::span(&s.index, params.range);
        let only = params.context.only.as_deref();
        let wants = |kind: ActionKind| match only {
            None => true,
            Some(requested) => requested.iter().any(|r| {
                let (r, k) = (r.as_str(), convert::action_kind(kind));
                k.as_str() == r || k.as_str().starts_with(&format!("{r}."))
            }),
        };
        let uri = &params.text_document.uri;
        let actions = code_actions::code_actions(&s, range, only.is_some(), wants);
        let actions = actions
            .into_iter()
            .map(|a| CodeActionOrCommand::CodeAction(convert::code_action(uri, &s.index, a)));
        Ok(Some(actions.collect()))
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let Some(s) = self.state.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        let range = convert::span(&s.index, params.range);
        let hints = inlay_hints::inlay_hints(&s, range, &self.state.settings());
        let hints = hints.into_iter().map(|h| convert::inlay_hint(&s.index, h));
        Ok(Some(hints.collect()))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let Some(s) = self.state.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        let lenses = code_lens::code_lenses(&s).into_iter();
        Ok(Some(
            lenses.map(|l| convert::code_lens(&s.index, l)).collect(),
        ))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        let command = Command::parse(&params.command, &params.arguments)
            .map_err(|e| Error::invalid_params(e.to_string()))?;
        let state = &self.state;
        match command {
            Command::ShowOccupancyTable(args) => {
                let Some(s) = state.snapshot(&parse_uri(&args.uri)?).await else {
                    return Ok(None);
                };
                Ok(code_lens::occupancy_table(&s, &args.kernel).map(Value::String))
            }
            Command::Transpile(target) => {
                let source = state.command_source(&parse_uri(&target.uri)?).await;
                let ui = &*state.ui;
                match gpu_commands::transpile(ui, &state.events, source, &target).await {
                    Ok(Some(done)) => Ok(Some(json!({"path": done.path, "kernel": done.kernel}))),
                    Ok(None) => Ok(None),
                    Err(message) => {
                        let mut error = Error::internal_error();
                        error.message = message.into();
                        Err(error)
                    }
                }
            }
            Command::Benchmark(target) => self.benchmark(target, false),
            Command::Autotune(target) => self.benchmark(target, true),
            Command::PluginTune(args) => {
                let uri = parse_uri(&args.target.uri)?;
                let state = state.clone();
                tokio::spawn(async move {
                    let snapshot = state.snapshot(&uri).await;
                    let (ui, gpu, host) =
                        (state.ui.clone(), state.gpu.clone(), state.plugins.host());
                    tune::plugin_tune(ui, gpu, host, snapshot, args).await;
                });
                Ok(None)
            }
        }
    }
}

fn parse_uri(uri: &str) -> Result<Uri> {
    uri.parse()
        .map_err(|_| Error::invalid_params("invalid uri"))
}

impl CudaLens {
    /// `cudalens.benchmark` / `cudalens.autotune`: answers at once and runs
    /// in the background.
    fn benchmark(&self, target: KernelTarget, sweep: bool) -> Result<Option<Value>> {
        let uri = parse_uri(&target.uri)?;
        let state = self.state.clone();
        tokio::spawn(async move {
            let source = state.command_source(&uri).await;
            let root = source
                .as_ref()
                .ok()
                .map(|s| workspace_for(state.workspace_root().as_deref(), &s.path));
            let setup = BenchmarkSetup {
                root: root.unwrap_or_default(),
                arch: state.settings().arch.clone(),
                sweep,
            };
            let (ui, events, gpu) = (state.ui.clone(), state.events.clone(), state.gpu.clone());
            gpu_commands::benchmark(ui, events, gpu, source, target, setup).await;
        });
        Ok(None)
    }
}
