//! `textDocument/codeLens`: above each kernel, its occupancy; clicking runs
//! `cudalens.showOccupancyTable`, which answers the full table as Markdown.
//! Kernels defined in the file also get "▶ Benchmark" (`cudalens.benchmark`)
//! and "Autotune" (`cudalens.autotune`), both `[uri, kernel, position]`.

use serde_json::json;
use tower_lsp_server::ls_types as lsp;

use cudalens_analysis::KernelReport;

use super::hover::kernel_markdown;
use super::inlay_hints::launch_label;
use crate::lsp::convert;
use crate::lsp::gpu;
use crate::lsp::state::Snapshot;

pub const SHOW_OCCUPANCY_TABLE: &str = "cudalens.showOccupancyTable";

pub fn code_lenses(snapshot: &Snapshot) -> Vec<lsp::CodeLens> {
    let mut lenses = occupancy_lenses(snapshot);
    lenses.extend(gpu_lenses(snapshot));
    lenses
}

/// "▶ Benchmark" and "Autotune" above each kernel with a body in this file.
fn gpu_lenses(snapshot: &Snapshot) -> Vec<lsp::CodeLens> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for k in snapshot.analyzed.model.kernels() {
        if k.body.is_none() || !k.in_main_file() || !seen.insert(&k.name) {
            continue;
        }
        let range = convert::range(&snapshot.index, k.name_span);
        let args = vec![
            json!(snapshot.uri.as_str()),
            json!(k.name),
            json!(range.start),
        ];
        for (title, command) in [("▶ Benchmark", gpu::BENCHMARK), ("Autotune", gpu::AUTOTUNE)] {
            out.push(lsp::CodeLens {
                range,
                command: Some(lsp::Command {
                    title: title.to_string(),
                    command: command.to_string(),
                    arguments: Some(args.clone()),
                }),
                data: None,
            });
        }
    }
    out
}

fn occupancy_lenses(snapshot: &Snapshot) -> Vec<lsp::CodeLens> {
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
