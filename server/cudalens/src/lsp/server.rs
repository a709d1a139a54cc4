//! The `LanguageServer` implementation: each handler converts, delegates to
//! `document.rs` or a module of `features/`, and converts back.
//!
//! Built on `tower-lsp-server`, the maintained fork of `tower-lsp` (same API,
//! current `lsp-types` as `ls-types`, no `async_trait`), because tower-lsp
//! itself is no longer released.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::config::Settings;
use super::features::code_lens::SHOW_OCCUPANCY_TABLE;
use super::features::{code_actions, code_lens, definition, hover, inlay_hints, symbols};
use super::state::{ClientSupport, ServerState};
use super::transport::Output;
use super::{convert, document, gpu, plugins, tune};

pub struct CudaLens {
    state: Arc<ServerState>,
    /// Set by `shutdown`: `exit` then ends the process with status 0 (else 1).
    pub shutdown_requested: Arc<AtomicBool>,
}

impl CudaLens {
    /// `output`: where cudalens writes its own messages (diagnostics), beside
    /// the client's.
    pub fn new(client: Client, shutdown_requested: Arc<AtomicBool>, output: Output) -> Self {
        CudaLens {
            state: Arc::new(ServerState::new(client, output)),
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
        self.state.gpu.cancel(&params.token);
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

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                ..Default::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        definition_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::REFACTOR,
                code_actions::fix_all_kind(),
            ]),
            ..Default::default()
        })),
        inlay_hint_provider: Some(OneOf::Left(true)),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: std::iter::once(SHOW_OCCUPANCY_TABLE)
                .chain(gpu::COMMANDS)
                .chain([tune::PLUGIN_TUNE])
                .map(str::to_string)
                .collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn client_support(caps: &ClientCapabilities) -> ClientSupport {
    let text = caps.text_document.as_ref();
    let workspace = caps.workspace.as_ref();
    ClientSupport {
        inlay_hint_refresh: workspace
            .and_then(|w| w.inlay_hint.as_ref())
            .and_then(|i| i.refresh_support)
            .unwrap_or(false),
        code_lens_refresh: workspace
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
        configuration_pull: caps
            .workspace
            .as_ref()
            .and_then(|w| w.configuration)
            .unwrap_or(false),
        related_information: text
            .and_then(|t| t.publish_diagnostics.as_ref())
            .and_then(|p| p.related_information)
            .unwrap_or(false),
        work_done_progress: caps
            .window
            .as_ref()
            .and_then(|w| w.work_done_progress)
            .unwrap_or(false),
        show_document: caps
            .window
            .as_ref()
            .and_then(|w| w.show_document.as_ref())
            .is_some_and(|d| d.support),
        show_message_request: caps
            .window
            .as_ref()
            .is_some_and(|w| w.show_message.is_some())
            || caps.window.is_none(),
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
            *support = client_support(&params.capabilities);
        }
        if let Ok(mut root) = self.state.workspace_root.write() {
            *root = workspace_root(&params);
        }
        if let Some(options) = &params.initialization_options {
            self.apply_settings(options).await;
        }
        Ok(InitializeResult {
            capabilities: capabilities(),
            server_info: Some(ServerInfo {
                name: "cudalens".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if let Some(settings) = self.pull_settings().await {
            self.apply_settings(&settings).await;
            self.state.reanalyze_all();
        }
        // Not awaited: asking whether to trust the workspace may wait on the user.
        tokio::spawn(plugins::restart(self.state.clone()));
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
        self.state.reanalyze_all();
        if plugins_changed {
            tokio::spawn(plugins::restart(self.state.clone()));
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let at = params.text_document_position_params;
        let Some(s) = self.state.snapshot(&at.text_document.uri).await else {
            return Ok(None);
        };
        Ok(hover::hover(&s, convert::offset(&s.index, at.position)))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let Some(s) = self.state.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        Ok(Some(DocumentSymbolResponse::Nested(
            symbols::document_symbols(&s),
        )))
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
        Ok(definition::definition(&self.state, &s, offset).map(GotoDefinitionResponse::Scalar))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let Some(s) = self.state.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        let range = convert::span(&s.index, params.range);
        let only = params.context.only.as_deref();
        Ok(Some(code_actions::code_actions(&s, range, only)))
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        let Some(s) = self.state.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        let range = convert::span(&s.index, params.range);
        Ok(Some(inlay_hints::inlay_hints(
            &s,
            range,
            &self.state.settings(),
        )))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let Some(s) = self.state.snapshot(&params.text_document.uri).await else {
            return Ok(None);
        };
        Ok(Some(code_lens::code_lenses(&s)))
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        match params.command.as_str() {
            SHOW_OCCUPANCY_TABLE => {}
            gpu::TRANSPILE => return gpu::transpile(&self.state, &params.arguments).await,
            gpu::BENCHMARK => return gpu::benchmark(&self.state, &params.arguments, false),
            gpu::AUTOTUNE => return gpu::benchmark(&self.state, &params.arguments, true),
            tune::PLUGIN_TUNE => return tune::plugin_tune(&self.state, &params.arguments),
            other => return Err(Error::invalid_params(format!("unknown command {other}"))),
        }
        let args: Vec<&str> = params.arguments.iter().filter_map(Value::as_str).collect();
        let [uri, kernel] = args[..] else {
            return Err(Error::invalid_params("expected [uri, kernel name]"));
        };
        let uri: Uri = uri
            .parse()
            .map_err(|_| Error::invalid_params("invalid uri"))?;
        let Some(s) = self.state.snapshot(&uri).await else {
            return Ok(None);
        };
        Ok(code_lens::occupancy_table(&s, kernel).map(Value::String))
    }
}
