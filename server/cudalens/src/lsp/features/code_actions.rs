//! `textDocument/codeAction`: quick fixes from the analyses' fixes and from
//! plugins, and `source.fixAll.cudalens`, which applies only the fixes
//! proven safe (`Fix::safe`), so it can run on save. With the cursor in a
//! kernel, a `refactor` action "Transpile `k` to WGSL" runs `cudalens.transpile`.

use tower_lsp_server::ls_types as lsp;

use cudalens_analysis::Edit;
use cudalens_syntax::Span;

use super::touches;
use crate::lsp::state::Snapshot;
use crate::lsp::{convert, gpu};

/// `source.fixAll.cudalens`.
pub fn fix_all_kind() -> lsp::CodeActionKind {
    lsp::CodeActionKind::new("source.fixAll.cudalens")
}

pub fn code_actions(
    snapshot: &Snapshot,
    range: Span,
    only: Option<&[lsp::CodeActionKind]>,
) -> Vec<lsp::CodeActionOrCommand> {
    let wants = |kind: &lsp::CodeActionKind| match only {
        None => true,
        Some(requested) => requested.iter().any(|r| {
            let (r, k) = (r.as_str(), kind.as_str());
            k == r || k.starts_with(&format!("{r}."))
        }),
    };
    let mut actions = Vec::new();
    if wants(&lsp::CodeActionKind::QUICKFIX) {
        actions.extend(quick_fixes(snapshot, range));
        actions.extend(plugin_actions(snapshot, range));
    }
    if wants(&lsp::CodeActionKind::REFACTOR)
        && let Some(transpile) = transpile_action(snapshot, range)
    {
        actions.push(transpile);
    }
    // Offered in the light bulb only when asked for by kind (on save, or the command).
    if only.is_some()
        && wants(&fix_all_kind())
        && let Some(fix_all) = fix_all(snapshot)
    {
        actions.push(fix_all);
    }
    actions
        .into_iter()
        .map(lsp::CodeActionOrCommand::CodeAction)
        .collect()
}

/// "Transpile `k` to WGSL" for the kernel around the cursor.
fn transpile_action(snapshot: &Snapshot, range: Span) -> Option<lsp::CodeAction> {
    let kernel = crate::gpu_actions::kernel_at(&snapshot.analyzed.model, range.start)?;
    let title = format!("Transpile `{}` to WGSL", kernel.name);
    let position = convert::position(&snapshot.index, range.start);
    Some(lsp::CodeAction {
        title: title.clone(),
        kind: Some(lsp::CodeActionKind::REFACTOR),
        command: Some(lsp::Command {
            title,
            command: gpu::TRANSPILE.to_string(),
            arguments: Some(vec![
                serde_json::json!(snapshot.uri.as_str()),
                serde_json::json!(kernel.name),
                serde_json::json!(position),
            ]),
        }),
        ..Default::default()
    })
}

fn quick_fixes(snapshot: &Snapshot, range: Span) -> Vec<lsp::CodeAction> {
    let (uri, index) = (&snapshot.uri, &snapshot.index);
    snapshot
        .analyzed
        .analysis
        .diagnostics
        .iter()
        .filter(|d| touches(d.span, range))
        .flat_map(|d| {
            let lsp_diagnostic = convert::diagnostic(uri, index, d);
            d.fixes
                .iter()
                .map(move |fix| convert::fix_action(uri, index, fix, lsp_diagnostic.clone()))
        })
        .collect()
}

/// Plugin diagnostics with edits under the cursor, and plugin code actions
/// for the kernel under the cursor.
fn plugin_actions(snapshot: &Snapshot, range: Span) -> Vec<lsp::CodeAction> {
    let mut out = Vec::new();
    let lsp_range = convert::range(&snapshot.index, range);
    for found in &snapshot.plugin_results {
        let result = &found.analysis;
        for d in result.diagnostics.iter().filter(|d| !d.edits.is_empty()) {
            let diagnostic = convert::from_plugin_diagnostic(&result.source, d);
            if ranges_touch(diagnostic.range, lsp_range) {
                out.push(lsp::CodeAction {
                    title: format!("{} ({})", d.message, result.source),
                    kind: Some(lsp::CodeActionKind::QUICKFIX),
                    edit: Some(convert::from_plugin_edits(&snapshot.uri, &d.edits)),
                    diagnostics: Some(vec![diagnostic]),
                    ..Default::default()
                });
            }
        }
        if touches(found.kernel_span, range) {
            out.extend(result.code_actions.iter().map(|a| lsp::CodeAction {
                title: format!("{} ({})", a.title, result.source),
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                edit: Some(convert::from_plugin_edits(&snapshot.uri, &a.edits)),
                is_preferred: Some(a.is_preferred),
                ..Default::default()
            }));
        }
    }
    out
}

fn ranges_touch(a: lsp::Range, b: lsp::Range) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// Every safe fix in the file, as one edit; overlapping fixes are skipped
/// (the first wins), so the result is always applicable.
fn fix_all(snapshot: &Snapshot) -> Option<lsp::CodeAction> {
    let mut edits: Vec<&Edit> = Vec::new();
    let mut taken: Vec<Span> = Vec::new();
    let mut fixes = 0;
    let safe_fixes = snapshot
        .analyzed
        .analysis
        .diagnostics
        .iter()
        .flat_map(|d| d.fixes.iter().filter(|f| f.safe).take(1));
    for fix in safe_fixes {
        let overlaps = fix.edits.iter().any(|e| {
            taken
                .iter()
                .any(|t| (e.span.start < t.end && t.start < e.span.end) || e.span == *t)
        });
        if overlaps {
            continue;
        }
        taken.extend(fix.edits.iter().map(|e| e.span));
        edits.extend(fix.edits.iter());
        fixes += 1;
    }
    if edits.is_empty() {
        return None;
    }
    let text_edits = edits
        .iter()
        .map(|e| convert::text_edit(&snapshot.index, e))
        .collect();
    Some(lsp::CodeAction {
        title: format!(
            "Apply {fixes} safe cudalens fix{}",
            if fixes == 1 { "" } else { "es" }
        ),
        kind: Some(fix_all_kind()),
        edit: Some(convert::workspace_edit(&snapshot.uri, text_edits)),
        ..Default::default()
    })
}
