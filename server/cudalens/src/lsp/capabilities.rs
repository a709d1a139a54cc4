//! What the server offers (`initialize`'s answer) and what the client said
//! it supports.

use tower_lsp_server::ls_types::*;

use cudalens_ide::commands::COMMANDS;

use super::convert;

/// What the client said it supports.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClientSupport {
    pub configuration_pull: bool,
    pub related_information: bool,
    pub show_message_request: bool,
    /// `workspace/inlayHint/refresh` and `workspace/codeLens/refresh`: used when
    /// background work (nvcc, settings) changes results without an edit.
    pub inlay_hint_refresh: bool,
    pub code_lens_refresh: bool,
    /// `window/workDoneProgress/create` (progress for benchmarks).
    pub work_done_progress: bool,
    /// `window/showDocument` (opening generated WGSL and reports).
    pub show_document: bool,
    /// `client/registerCapability` for `workspace/didChangeWatchedFiles`
    /// (watching `cudalens.toml`).
    pub watched_files_registration: bool,
}

/// What the server offers.
pub fn server() -> ServerCapabilities {
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
                convert::fix_all_kind(),
            ]),
            ..Default::default()
        })),
        inlay_hint_provider: Some(OneOf::Left(true)),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: COMMANDS.iter().map(|c| c.name.to_string()).collect(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl From<&ClientCapabilities> for ClientSupport {
    fn from(caps: &ClientCapabilities) -> ClientSupport {
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
            watched_files_registration: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            show_message_request: caps
                .window
                .as_ref()
                .is_some_and(|w| w.show_message.is_some())
                || caps.window.is_none(),
        }
    }
}
