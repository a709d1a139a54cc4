//! The CUDA grammar: a parser for it, a bounded parse, its field ids.

use tree_sitter::{Parser, Point, Tree};

/// Files larger than this are not parsed (the user gets a notice instead).
pub const MAX_PARSE_BYTES: usize = 8 * 1024 * 1024;

/// The id of one of the CUDA grammar's field names.
pub(crate) fn field_id(name: &str) -> Option<u16> {
    let language: tree_sitter::Language = tree_sitter_cuda::LANGUAGE.into();
    language.field_id_for_name(name).map(|id| id.get())
}

/// Creates a parser for CUDA.
pub fn cuda_parser() -> Parser {
    let mut parser = Parser::new();
    // The grammar is compiled into this binary; a version mismatch would be a
    // build-time bug, so failing loudly in tests is right, but we never panic at
    // run time: an unset language makes `parse` return None, handled below.
    let _ = parser.set_language(&tree_sitter_cuda::LANGUAGE.into());
    parser
}

/// Parses `text` (reusing `old` when its edits were applied), giving up after
/// a generous deadline so no input can hang the caller.
pub fn parse(parser: &mut Parser, text: &str, old: Option<&Tree>) -> Option<Tree> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut check = |_: &tree_sitter::ParseState| {
        if std::time::Instant::now() > deadline {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    };
    let bytes = text.as_bytes();
    let mut read = |offset: usize, _: Point| bytes.get(offset..).unwrap_or(&[]);
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut check);
    let tree = parser.parse_with_options(&mut read, old, Some(options));
    parser.reset();
    tree
}
