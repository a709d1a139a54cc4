//! Conversions between cudalens types (byte spans, severities, diagnostics,
//! fixes, plugin protocol types) and LSP types. The only module that knows
//! both sides.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types as lsp;

use cudalens_analysis::{Diagnostic, Edit, Fix};
use cudalens_plugin_host::protocol as plugin;
use cudalens_syntax::{LineIndex, Position, Severity, Span, TextChange};

/// Diagnostics from the built-in analyses carry this `source`.
pub const SOURCE: &str = "cudalens";

pub fn position(index: &LineIndex, offset: usize) -> lsp::Position {
    let p = index.position(offset);
    lsp::Position::new(p.line, p.character)
}

pub fn range(index: &LineIndex, span: Span) -> lsp::Range {
    lsp::Range::new(position(index, span.start), position(index, span.end))
}

/// Byte offset of an LSP position (clamped to the text).
pub fn offset(index: &LineIndex, pos: lsp::Position) -> usize {
    index.offset(Position::new(pos.line, pos.character))
}

/// Byte span of an LSP range.
pub fn span(index: &LineIndex, range: lsp::Range) -> Span {
    let start = offset(index, range.start);
    Span::new(start, offset(index, range.end).max(start))
}

pub fn text_change(change: lsp::TextDocumentContentChangeEvent) -> TextChange {
    TextChange {
        range: change.range.map(|r| {
            (
                Position::new(r.start.line, r.start.character),
                Position::new(r.end.line, r.end.character),
            )
        }),
        text: change.text,
    }
}

pub fn severity(severity: Severity) -> lsp::DiagnosticSeverity {
    match severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Info => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

pub fn diagnostic(uri: &lsp::Uri, index: &LineIndex, d: &Diagnostic) -> lsp::Diagnostic {
    let related: Vec<lsp::DiagnosticRelatedInformation> = d
        .related
        .iter()
        .map(|r| lsp::DiagnosticRelatedInformation {
            location: lsp::Location::new(uri.clone(), range(index, r.span)),
            message: r.message.clone(),
        })
        .collect();
    lsp::Diagnostic {
        range: range(index, d.span),
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String(d.code.to_string())),
        source: Some(SOURCE.to_string()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

/// Edits on one document as a workspace edit.
pub fn workspace_edit(uri: &lsp::Uri, edits: Vec<lsp::TextEdit>) -> lsp::WorkspaceEdit {
    lsp::WorkspaceEdit {
        changes: Some(HashMap::from([(uri.clone(), edits)])),
        ..Default::default()
    }
}

pub fn text_edit(index: &LineIndex, edit: &Edit) -> lsp::TextEdit {
    lsp::TextEdit::new(range(index, edit.span), edit.new_text.clone())
}

/// A quick fix from an analysis fix. Safe fixes are preferred (the editor's
/// default quick fix); others say what to check in the title.
pub fn fix_action(
    uri: &lsp::Uri,
    index: &LineIndex,
    fix: &Fix,
    diagnostic: lsp::Diagnostic,
) -> lsp::CodeAction {
    let title = if fix.safe || fix.explanation.is_empty() {
        fix.title.clone()
    } else {
        format!("{} — {}", fix.title, fix.explanation)
    };
    lsp::CodeAction {
        title,
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(workspace_edit(
            uri,
            fix.edits.iter().map(|e| text_edit(index, e)).collect(),
        )),
        is_preferred: Some(fix.safe),
        ..Default::default()
    }
}

// ---------------------------------------------------------------- plugins
// Plugin positions are LSP positions already (PROTOCOL.md), so these only copy.

pub fn to_plugin_range(r: lsp::Range) -> plugin::Range {
    plugin::Range::new(
        plugin::Position::new(r.start.line, r.start.character),
        plugin::Position::new(r.end.line, r.end.character),
    )
}

pub fn from_plugin_range(r: plugin::Range) -> lsp::Range {
    lsp::Range::new(
        lsp::Position::new(r.start.line, r.start.character),
        lsp::Position::new(r.end.line, r.end.character),
    )
}

pub fn plugin_severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "information",
        Severity::Hint => "hint",
    }
}

pub fn from_plugin_severity(severity: plugin::Severity) -> lsp::DiagnosticSeverity {
    match severity {
        plugin::Severity::Error => lsp::DiagnosticSeverity::ERROR,
        plugin::Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        plugin::Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
        plugin::Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

pub fn from_plugin_diagnostic(source: &str, d: &plugin::PluginDiagnostic) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: from_plugin_range(d.range),
        severity: Some(from_plugin_severity(d.severity)),
        code: Some(lsp::NumberOrString::String(d.code.clone())),
        source: Some(source.to_string()),
        message: d.message.clone(),
        ..Default::default()
    }
}

/// Plugin edits as a workspace edit; an edit without `uri` targets `default_uri`.
pub fn from_plugin_edits(default_uri: &lsp::Uri, edits: &[plugin::TextEdit]) -> lsp::WorkspaceEdit {
    let mut changes: HashMap<lsp::Uri, Vec<lsp::TextEdit>> = HashMap::new();
    for e in edits {
        let uri = e
            .uri
            .as_deref()
            .and_then(|u| u.parse::<lsp::Uri>().ok())
            .unwrap_or_else(|| default_uri.clone());
        changes.entry(uri).or_default().push(lsp::TextEdit::new(
            from_plugin_range(e.range),
            e.new_text.clone(),
        ));
    }
    lsp::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }
}

// ---------------------------------------------------------------- paths

/// The file system path of a `file:` URI.
/// Diagnostics of the WGSL transpiler carry this `source`.
pub const WGSL_SOURCE: &str = "cudalens-wgsl";

/// A transpiler diagnostic (a construct WGSL cannot express) on the CUDA file.
pub fn wgsl_diagnostic(
    index: &LineIndex,
    d: &cudalens_wgsl::TranspileDiagnostic,
) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: range(index, d.span),
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String("wgsl".to_string())),
        source: Some(WGSL_SOURCE.to_string()),
        message: d.message.clone(),
        ..Default::default()
    }
}

pub fn uri_to_path(uri: &lsp::Uri) -> Option<PathBuf> {
    let is_file = uri.scheme().as_str().eq_ignore_ascii_case("file");
    is_file
        .then(|| uri.to_file_path().map(|p| p.into_owned()))
        .flatten()
}

pub fn path_to_uri(path: &Path) -> Option<lsp::Uri> {
    lsp::Uri::from_file_path(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_ranges() {
        let text = "// é😀\nint x;\n";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap_or_default();
        let r = range(&index, Span::new(x, x + 1));
        assert_eq!(r.start, lsp::Position::new(1, 4));
        // After the emoji: 3 (// ) + 1 (é) + 2 (😀 is two UTF-16 units).
        assert_eq!(
            position(&index, text.find('\n').unwrap_or_default()),
            lsp::Position::new(0, 6)
        );
        assert_eq!(span(&index, r), Span::new(x, x + 1));
    }

    #[test]
    fn file_uris_round_trip() {
        let uri = path_to_uri(Path::new("/tmp/a b/k.cu")).expect("absolute path");
        assert_eq!(uri.as_str(), "file:///tmp/a%20b/k.cu");
        assert_eq!(uri_to_path(&uri), Some(PathBuf::from("/tmp/a b/k.cu")));
        let untitled: lsp::Uri = "untitled:Untitled-1".parse().expect("valid uri");
        assert_eq!(uri_to_path(&untitled), None);
    }
}
