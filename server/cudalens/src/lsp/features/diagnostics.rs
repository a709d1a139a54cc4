//! `textDocument/publishDiagnostics`: the built-in analyses' diagnostics plus
//! the plugins' (each with the plugin's name as `source`), and the WGSL
//! transpiler's from the last `cudalens.transpile`/`benchmark` on this version.

use tower_lsp_server::ls_types as lsp;

use crate::lsp::convert;
use crate::lsp::state::{ServerState, Snapshot};

pub fn collect(snapshot: &Snapshot) -> Vec<lsp::Diagnostic> {
    let builtin = snapshot
        .analyzed
        .analysis
        .diagnostics
        .iter()
        .map(|d| convert::diagnostic(&snapshot.uri, &snapshot.index, d));
    let from_plugins = snapshot.plugin_results.iter().flat_map(|found| {
        let result = &found.analysis;
        result
            .diagnostics
            .iter()
            .map(|d| convert::from_plugin_diagnostic(&result.source, d))
    });
    builtin.chain(from_plugins).collect()
}

/// Publishes with the snapshot's version, so clients can drop stale results.
pub async fn publish(state: &ServerState, snapshot: &Snapshot) {
    let mut diagnostics = collect(snapshot);
    diagnostics.extend(
        state
            .gpu
            .wgsl_diagnostics_for(&snapshot.uri, snapshot.version),
    );
    if !state.support().related_information {
        for d in &mut diagnostics {
            d.related_information = None;
        }
    }
    state
        .client
        .publish_diagnostics(snapshot.uri.clone(), diagnostics, Some(snapshot.version))
        .await;
}
