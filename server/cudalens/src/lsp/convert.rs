//! Conversions between cudalens types (byte spans, severities, diagnostics,
//! the `cudalens-ide` features' results, plugin protocol types) and LSP
//! types. The only module that knows both sides.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tower_lsp_server::ls_types as lsp;

use cudalens_analysis::{Diagnostic, Edit, rules};
use cudalens_ide::code_actions::{ActionEdits, ActionKind, CodeAction, FixedDiagnostic};
use cudalens_ide::code_lens::CodeLens;
use cudalens_ide::commands::Command;
use cudalens_ide::definition::{FileRef, NavigationTarget};
use cudalens_ide::hover::HoverResult;
use cudalens_ide::inlay_hints::InlayHint;
use cudalens_ide::symbols::{Symbol, SymbolKind};
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
        code_description: code_description(d.code),
        source: Some(SOURCE.to_string()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    }
}

/// The link to the rule's page (`codeDescription`), for a registry rule.
pub fn code_description(code: &str) -> Option<lsp::CodeDescription> {
    let href = rules::find(code)?.docs_url().parse().ok()?;
    Some(lsp::CodeDescription { href })
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

// ---------------------------------------------------------------- features

fn to_range(start: Position, end: Position) -> lsp::Range {
    lsp::Range::new(
        lsp::Position::new(start.line, start.character),
        lsp::Position::new(end.line, end.character),
    )
}

fn uri_of(text: &str) -> Option<lsp::Uri> {
    text.parse().ok()
}

pub fn hover(index: &LineIndex, found: HoverResult) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value: found.markdown,
        }),
        range: Some(range(index, found.span)),
    }
}

pub fn inlay_hint(index: &LineIndex, hint: InlayHint) -> lsp::InlayHint {
    lsp::InlayHint {
        position: position(index, hint.offset),
        label: lsp::InlayHintLabel::String(hint.label),
        kind: None,
        text_edits: None,
        tooltip: hint.tooltip.map(lsp::InlayHintTooltip::String),
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

pub fn command(title: String, command: &Command) -> lsp::Command {
    lsp::Command {
        title,
        command: command.name().to_string(),
        arguments: Some(command.arguments()),
    }
}

pub fn code_lens(index: &LineIndex, lens: CodeLens) -> lsp::CodeLens {
    lsp::CodeLens {
        range: range(index, lens.span),
        command: Some(command(lens.title, &lens.command)),
        data: None,
    }
}

/// `source.fixAll.cudalens`.
pub fn fix_all_kind() -> lsp::CodeActionKind {
    lsp::CodeActionKind::new("source.fixAll.cudalens")
}

pub fn action_kind(kind: ActionKind) -> lsp::CodeActionKind {
    match kind {
        ActionKind::QuickFix => lsp::CodeActionKind::QUICKFIX,
        ActionKind::Refactor => lsp::CodeActionKind::REFACTOR,
        ActionKind::FixAll => fix_all_kind(),
    }
}

pub fn code_action(uri: &lsp::Uri, index: &LineIndex, action: CodeAction) -> lsp::CodeAction {
    let diagnostic = action.fixes.map(|fixed| match fixed {
        FixedDiagnostic::Analysis(d) => diagnostic(uri, index, &d),
        FixedDiagnostic::Plugin { source, diagnostic } => {
            from_plugin_diagnostic(&source, &diagnostic)
        }
    });
    let edit = action.edits.map(|edits| match edits {
        ActionEdits::Document(edits) => {
            workspace_edit(uri, edits.iter().map(|e| text_edit(index, e)).collect())
        }
        ActionEdits::Plugin(edits) => from_plugin_edits(uri, &edits),
    });
    let command = action.command.map(|c| command(action.title.clone(), &c));
    lsp::CodeAction {
        title: action.title,
        kind: Some(action_kind(action.kind)),
        diagnostics: diagnostic.map(|d| vec![d]),
        edit,
        command,
        is_preferred: action.preferred,
        ..Default::default()
    }
}

pub fn location(target: NavigationTarget) -> Option<lsp::Location> {
    let uri = match &target.file {
        FileRef::Document(uri) => uri_of(uri)?,
        FileRef::Path(path) => path_to_uri(path)?,
    };
    Some(lsp::Location::new(uri, to_range(target.start, target.end)))
}

#[allow(deprecated)] // `deprecated` must still be spelled out in the struct literal
pub fn document_symbol(index: &LineIndex, symbol: Symbol) -> lsp::DocumentSymbol {
    let (kind, children) = match symbol.kind {
        SymbolKind::Function => (lsp::SymbolKind::FUNCTION, Some(symbol.children)),
        SymbolKind::SharedArray => (lsp::SymbolKind::ARRAY, None),
        SymbolKind::Launch => (lsp::SymbolKind::EVENT, None),
    };
    lsp::DocumentSymbol {
        name: symbol.name,
        detail: symbol.detail,
        kind,
        tags: None,
        deprecated: None,
        range: range(index, symbol.span),
        selection_range: range(index, symbol.name_span),
        children: children.map(|c| c.into_iter().map(|s| document_symbol(index, s)).collect()),
    }
}

// ---------------------------------------------------------------- plugins
// Plugin positions are LSP positions already (PROTOCOL.md), so these only copy.

pub fn from_plugin_range(r: plugin::Range) -> lsp::Range {
    lsp::Range::new(
        lsp::Position::new(r.start.line, r.start.character),
        lsp::Position::new(r.end.line, r.end.character),
    )
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

/// A transpiler diagnostic whose span is in a header the kernel uses (a
/// device function defined there): on the CUDA file's first line, its
/// message naming the header's line, the header's place as related
/// information (the server publishes diagnostics on the file transpiled).
pub fn wgsl_diagnostic_in_header(
    file: &Path,
    d: &cudalens_wgsl::TranspileDiagnostic,
) -> lsp::Diagnostic {
    // Read as the front end read it (invalid UTF-8 replaced): the spans
    // index that text.
    let text = std::fs::read(file)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    let index = LineIndex::new(&text);
    let at = range(&index, d.span);
    lsp::Diagnostic {
        range: lsp::Range::default(),
        severity: Some(severity(d.severity)),
        code: Some(lsp::NumberOrString::String("wgsl".to_string())),
        source: Some(WGSL_SOURCE.to_string()),
        message: format!("{}:{}: {}", file.display(), at.start.line + 1, d.message),
        related_information: path_to_uri(file).map(|uri| {
            vec![lsp::DiagnosticRelatedInformation {
                location: lsp::Location { uri, range: at },
                message: d.message.clone(),
            }]
        }),
        ..Default::default()
    }
}

/// The file system path of a `file:` URI.
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

    /// A transpiler diagnostic in a header: on the CUDA file's first line,
    /// naming the header's line, the header's range as related information.
    #[test]
    fn wgsl_diagnostics_in_headers_name_their_place() {
        let dir = tempfile::tempdir().expect("temp dir");
        let header = dir.path().join("h.cuh");
        std::fs::write(
            &header,
            "// one
__device__ int f() { return g(); }
",
        )
        .expect("write");
        let at = "// one\n__device__ int f() { return ".len();
        let d = cudalens_wgsl::TranspileDiagnostic::error(Span::new(at, at + 3), "no `g`")
            .in_file(Some(header.clone()));
        let converted = wgsl_diagnostic_in_header(&header, &d);
        assert_eq!(converted.range, lsp::Range::default());
        assert_eq!(converted.message, format!("{}:2: no `g`", header.display()));
        let related = converted.related_information.expect("related");
        assert_eq!(related[0].location.range.start, lsp::Position::new(1, 28));
        assert_eq!(related[0].location.uri, path_to_uri(&header).expect("uri"));
    }
}
