//! `textDocument/definition`: functions and macros (also when defined in an
//! included header: the model records each definition's file), `#include`
//! lines (the header), and functions defined in other open documents.

use std::path::Path;

use tower_lsp_server::ls_types as lsp;

use cudalens_syntax::{LineIndex, Span};

use super::word_at;
use crate::lsp::convert;
use crate::lsp::state::{ServerState, Snapshot};

pub fn definition(
    state: &ServerState,
    snapshot: &Snapshot,
    offset: usize,
) -> Option<lsp::Location> {
    let model = &snapshot.analyzed.model;
    if let Some(include) = model.includes.iter().find(|i| i.span.contains(offset)) {
        let uri = convert::path_to_uri(include.resolved.as_deref()?)?;
        return Some(lsp::Location::new(uri, lsp::Range::default()));
    }
    let (word, _) = word_at(&snapshot.text, offset)?;
    if let Some(def) = model.macro_defs.iter().rev().find(|m| m.name == word) {
        return location(state, snapshot, def.file.as_deref(), def.name_span);
    }
    if let Some(f) = model.function(word) {
        return location(state, snapshot, f.file.as_deref(), f.name_span);
    }
    // A kernel defined in another open file (e.g. launched from main.cu). An
    // idle file's outline lists only the functions it defines, without bodies.
    state.all_snapshots().into_iter().find_map(|other| {
        let f = other.analyzed.model.functions.iter().find(|f| {
            f.name == word && f.in_main_file() && (f.body.is_some() || other.hibernated)
        })?;
        Some(lsp::Location::new(
            other.uri.clone(),
            convert::range(&other.index, f.name_span),
        ))
    })
}

/// A span in this document (`file: None`) or in a header.
fn location(
    state: &ServerState,
    snapshot: &Snapshot,
    file: Option<&Path>,
    span: Span,
) -> Option<lsp::Location> {
    let Some(path) = file else {
        return Some(lsp::Location::new(
            snapshot.uri.clone(),
            convert::range(&snapshot.index, span),
        ));
    };
    let text = match state.open_texts.get(path) {
        Some(open) => open.to_string(),
        None => std::fs::read_to_string(path).ok()?,
    };
    let index = LineIndex::new(&text);
    Some(lsp::Location::new(
        convert::path_to_uri(path)?,
        convert::range(&index, span),
    ))
}
