//! `textDocument/codeLens`: above each kernel, its occupancy; clicking runs
//! `cudalens.showOccupancyTable`, which answers the full table as Markdown.

use serde_json::json;
use tower_lsp_server::ls_types as lsp;

use cudalens_analysis::KernelReport;

use super::hover::kernel_markdown;
use super::inlay_hints::launch_label;
use crate::lsp::convert;
use crate::lsp::state::Snapshot;

pub const SHOW_OCCUPANCY_TABLE: &str = "cudalens.showOccupancyTable";

pub fn code_lenses(snapshot: &Snapshot) -> Vec<lsp::CodeLens> {
    snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        .map(|k| lsp::CodeLens {
            range: convert::range(&snapshot.index, k.name_span),
            command: Some(lsp::Command {
                title: lens_title(k),
                command: SHOW_OCCUPANCY_TABLE.to_string(),
                arguments: Some(vec![json!(snapshot.uri.as_str()), json!(k.name)]),
            }),
            data: None,
        })
        .collect()
}

fn lens_title(k: &KernelReport) -> String {
    let Some(first) = k.launches.first() else {
        return "no launch configuration".to_string();
    };
    let mut title = launch_label(first);
    if first.span.is_none() {
        title.push_str(" (block size assumed)");
    }
    if k.launches.len() > 1 {
        title.push_str(&format!(" · {} launches", k.launches.len()));
    }
    title
}

/// The answer of `cudalens.showOccupancyTable [uri, kernel]`.
pub fn occupancy_table(snapshot: &Snapshot, kernel: &str) -> Option<String> {
    let k = snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        .find(|k| k.name == kernel)?;
    Some(format!(
        "### `{}`\n\n{}",
        k.name,
        kernel_markdown(snapshot, k)
    ))
}
