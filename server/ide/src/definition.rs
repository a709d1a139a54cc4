//! Go to definition: functions and macros (also when defined in an included
//! header: the model records each definition's file), `#include` lines (the
//! header), and functions defined in other open documents.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cudalens_syntax::preprocess::include::SourceProvider;
use cudalens_syntax::{LineIndex, Position, Span};

use crate::Snapshot;
use crate::text::word_at;

/// The file a definition is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileRef {
    /// An open document, by URI.
    Document(String),
    /// A file on disk (an included header).
    Path(PathBuf),
}

/// Where a definition is: a file and a range in it (LSP positions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NavigationTarget {
    pub file: FileRef,
    pub start: Position,
    pub end: Position,
}

/// The definition of what is at `offset`. `open_documents` gives the other
/// open documents (asked only when nothing in this one matches); headers are
/// read through `provider`.
pub fn definition(
    snapshot: &Snapshot,
    offset: usize,
    provider: &dyn SourceProvider,
    open_documents: impl FnOnce() -> Vec<Arc<Snapshot>>,
) -> Option<NavigationTarget> {
    let model = &snapshot.analyzed.model;
    if let Some(include) = model.includes.iter().find(|i| i.span.contains(offset)) {
        let path = include.resolved.clone()?;
        return Some(NavigationTarget {
            file: FileRef::Path(path),
            start: Position::default(),
            end: Position::default(),
        });
    }
    let (word, _) = word_at(&snapshot.text, offset)?;
    if let Some(def) = model.macro_defs.iter().rev().find(|m| m.name == word) {
        return location(snapshot, provider, def.file.as_deref(), def.name_span);
    }
    if let Some(f) = model.function(word) {
        return location(snapshot, provider, f.file.as_deref(), f.name_span);
    }
    // A kernel defined in another open file (e.g. launched from main.cu). An
    // idle file's outline lists only the functions it defines, without bodies.
    open_documents().into_iter().find_map(|other| {
        let f = other.analyzed.model.functions.iter().find(|f| {
            f.name == word && f.in_main_file() && (f.body.is_some() || other.hibernated)
        })?;
        Some(in_document(&other, f.name_span))
    })
}

fn in_document(snapshot: &Snapshot, span: Span) -> NavigationTarget {
    NavigationTarget {
        file: FileRef::Document(snapshot.uri.clone()),
        start: snapshot.index.position(span.start),
        end: snapshot.index.position(span.end),
    }
}

/// A span in this document (`file: None`) or in a header.
fn location(
    snapshot: &Snapshot,
    provider: &dyn SourceProvider,
    file: Option<&Path>,
    span: Span,
) -> Option<NavigationTarget> {
    let Some(path) = file else {
        return Some(in_document(snapshot, span));
    };
    let text = provider.read(path)?;
    let index = LineIndex::new(&text);
    Some(NavigationTarget {
        file: FileRef::Path(path.to_path_buf()),
        start: index.position(span.start),
        end: index.position(span.end),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    /// The definition of what is at `$0`, as `file:line:column-line:column`.
    fn definition_of(text: &str) -> Option<String> {
        let f = fixture::analyze(text);
        let found = definition(&f.snapshot, f.cursor(), &f.files, Vec::new)?;
        let file = match &found.file {
            FileRef::Document(uri) => uri.clone(),
            FileRef::Path(path) => path.display().to_string(),
        };
        let (s, e) = (found.start, found.end);
        Some(format!(
            "{file}:{}:{}-{}:{}",
            s.line, s.character, e.line, e.character
        ))
    }

    #[test]
    fn function_in_this_file() {
        let found = definition_of(
            "__device__ float twice(float x) { return 2 * x; }\n\
             __global__ void k(float* y) { y[0] = tw$0ice(y[0]); }\n",
        );
        assert_eq!(found.as_deref(), Some("file:///fixture/main.cu:0:17-0:22"));
    }

    #[test]
    fn macro_in_a_header() {
        let found = definition_of(
            r#"
            #include "tile.h"
            __global__ void k(float* y) { y[threadIdx.x] = TI$0LE; }
            //- /fixture/tile.h
            // the tile's side
            #define TILE 32
            "#,
        );
        assert_eq!(found.as_deref(), Some("/fixture/tile.h:1:8-1:12"));
    }

    #[test]
    fn include_line_opens_the_header() {
        let found = definition_of(
            r#"
            #include "ti$0le.h"
            //- /fixture/tile.h
            #define TILE 32
            "#,
        );
        assert_eq!(found.as_deref(), Some("/fixture/tile.h:0:0-0:0"));
    }

    #[test]
    fn kernel_in_another_open_document() {
        let other = fixture::analyze("__global__ void far(float* y) { y[0] = 1; }\n").snapshot;
        let other = Arc::new(Snapshot {
            uri: "file:///fixture/far.cu".into(),
            ..other
        });
        let f = fixture::analyze("void run(float* y) { f$0ar<<<1, 32>>>(y); }\n");
        let found = definition(&f.snapshot, f.cursor(), &f.files, || vec![other]);
        let found = found.expect("a definition");
        assert_eq!(
            found.file,
            FileRef::Document("file:///fixture/far.cu".into())
        );
        assert_eq!(
            (found.start, found.end),
            (Position::new(0, 16), Position::new(0, 19))
        );
    }

    #[test]
    fn nothing_for_unknown_names() {
        assert_eq!(definition_of("int x = y$0z;\n"), None);
    }
}
