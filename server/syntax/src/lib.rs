//! The cudalens front end: incremental tree-sitter parsing of CUDA, a light
//! preprocessor, and the kernel model that the analyses consume.
//!
//! - [`document`]: open documents (rope + trees) and UTF-16 positions.
//! - [`syntax_trees`]: a file's trees; an edit inside one item re-parses that item.
//! - [`preprocess`]: macros, conditionals, includes.
//! - [`ir`]: the statement/expression tree of function bodies.
//! - [`divergence`]: which values differ between the threads of a block.
//! - [`model`]: functions, kernels, shared arrays, loops, launch sites.

pub mod consteval;
pub mod divergence;
pub mod document;
pub mod file_kind;
pub mod fingerprint;
pub mod ir;
pub mod line_table;
pub mod literals;
pub mod model;
pub mod parser;
pub mod position;
pub mod preprocess;
pub mod span;
pub mod syntax_trees;
pub mod types;

pub use document::{Document, LineIndex, Position, PositionCursor, TextChange};
pub use model::{BuildOptions, FileModel, build_model};
pub use span::{Severity, Span, SyntaxDiagnostic};
pub use syntax_trees::SyntaxTrees;

/// Parses and models a whole file in one call (the CLI's path; the LSP keeps a
/// [`Document`] and calls [`build_model`] with its tree).
pub fn analyze_source(text: &str, opts: &BuildOptions) -> FileModel {
    let trees = SyntaxTrees::parse_whole(&mut document::cuda_parser(), text);
    build_model(text, trees.as_ref(), opts)
}
