//! The main loop: what the services report ([`Event`]) becomes work on the
//! server's state, the one place that knows both. Services never see the
//! state; they send events here (as rust-analyzer's flycheck does).

use std::sync::{Arc, Weak};

use tokio::sync::{mpsc, oneshot};
use tower_lsp_server::ls_types as lsp;

use cudalens_plugin_host::BenchmarkRequest;
use cudalens_plugin_host::protocol::BenchResult;
use cudalens_syntax::LineIndex;
use cudalens_wgsl::TranspileDiagnostic;

use super::state::{DocEvent, ServerState};
use super::{convert, diagnostics};
use crate::services::{Event, tune, workspace_for};

/// Runs until the server's state is gone or every sender is dropped.
pub async fn run(state: Weak<ServerState>, mut events: mpsc::UnboundedReceiver<Event>) {
    while let Some(event) = events.recv().await {
        let Some(state) = state.upgrade() else {
            return;
        };
        match event {
            Event::RegistersMeasured { uri } => {
                let event = DocEvent::Reanalyze {
                    header_changed: false,
                };
                send(&state, &uri, event);
            }
            Event::PluginResults {
                uri,
                version,
                results,
            } => send(&state, &uri, DocEvent::PluginResults { version, results }),
            Event::PluginsStarted => state.reanalyze_all(None),
            Event::WgslDiagnostics {
                uri,
                version,
                text,
                diagnostics,
            } => {
                tokio::spawn(set_wgsl_diagnostics(state, uri, version, text, diagnostics));
            }
            Event::PluginBenchmark { request, reply } => {
                tokio::spawn(plugin_benchmark(state, request, reply));
            }
        }
    }
}

fn send(state: &ServerState, uri: &str, event: DocEvent) {
    if let Ok(uri) = uri.parse::<lsp::Uri>() {
        state.send(&uri, event);
    }
}

/// Publishes (or clears, with an empty list) the transpiler's diagnostics on
/// the CUDA file, together with the analyses' own.
async fn set_wgsl_diagnostics(
    state: Arc<ServerState>,
    uri: String,
    version: i32,
    text: Arc<str>,
    found: Vec<TranspileDiagnostic>,
) {
    let Ok(lsp_uri) = uri.parse::<lsp::Uri>() else {
        return;
    };
    let key = lsp_uri.as_str().to_string();
    let had = state.wgsl_diagnostics.remove(&key).is_some();
    if found.is_empty() && !had {
        return;
    }
    let index = LineIndex::new(&text);
    let converted: Vec<lsp::Diagnostic> = found
        .iter()
        .map(|d| match &d.file {
            Some(header) => convert::wgsl_diagnostic_in_header(header, d),
            None => convert::wgsl_diagnostic(&index, d),
        })
        .collect();
    if !converted.is_empty() {
        state.wgsl_diagnostics.insert(key, (version, converted));
    }
    if let Some(snapshot) = state.snapshot(&lsp_uri).await
        && snapshot.version == version
    {
        diagnostics::publish(&state, &snapshot).await;
    }
}

/// A plugin's `host/benchmark`: the kernel's document (open, else on disk)
/// timed on the GPU worker.
async fn plugin_benchmark(
    state: Arc<ServerState>,
    request: BenchmarkRequest,
    reply: oneshot::Sender<BenchResult>,
) {
    let uri = request.tune.kernel.uri.clone();
    let Ok(lsp_uri) = uri.parse::<lsp::Uri>() else {
        let _ = reply.send(BenchResult::failure(format!("invalid kernel uri {uri}")));
        return;
    };
    let source = state.command_source(&lsp_uri).await;
    let root = match &source {
        Ok(s) => workspace_for(state.workspace_root().as_deref(), &s.path),
        Err(_) => std::path::PathBuf::new(),
    };
    let arch = state.settings().arch.clone();
    let result = tune::benchmark_variant(&state.gpu, source, root, arch, request).await;
    let _ = reply.send(result);
}
