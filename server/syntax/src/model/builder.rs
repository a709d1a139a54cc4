//! The state of one model build, shared by the rooms that fill it: the
//! options ([`BuildOptions`]), the text being lowered ([`Cx`]) and the
//! [`Builder`] whose methods live in `build.rs` (items, the preprocessor on
//! the tree, headers), `lower.rs` (expressions and statements) and
//! `region.rs` (items lowered from their preprocessed text).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tree_sitter::{Node, Parser, Tree};

use super::FileModel;
use super::Function;
use super::headers::HeaderStore;
use super::source_map::SourceMap;
use crate::fingerprint::FingerprintMap;
use crate::ir::{Expr, ExprKind};
use crate::preprocess::include::{CompileFlags, FsProvider, SourceProvider};
use crate::preprocess::macros::MacroTable;
use crate::span::Span;

/// How to build a model: where the file lives and how to find its headers.
pub struct BuildOptions<'a> {
    /// The file's path, for resolving `#include "..."` next to it.
    pub path: Option<&'a Path>,
    pub flags: CompileFlags,
    pub provider: &'a dyn SourceProvider,
    pub max_include_depth: usize,
    /// When reached, the build stops reading further items and says so
    /// (a notice on the file): no file takes the server or `check` hostage.
    pub deadline: Option<Instant>,
}

impl Default for BuildOptions<'_> {
    /// No path, no flags, headers from disk, includes 16 deep, no deadline.
    fn default() -> Self {
        BuildOptions {
            path: None,
            flags: CompileFlags::default(),
            provider: &FsProvider,
            max_include_depth: 16,
            deadline: None,
        }
    }
}

/// Header text a file reads fully (trees walked: functions, types,
/// constants) before further headers are read for their macros only (see
/// `headers.rs`). Real project headers fit (ggml's CUDA backend includes
/// about 0.9 MB); a CUTLASS example includes 5 to 23 MB.
pub(super) const MAX_FULL_HEADER_BYTES: usize = 2 * 1024 * 1024;

/// Notes about code cudalens cannot parse, per file at most.
pub(super) const MAX_SYNTAX_NOTES: usize = 50;

/// Deepest expression/statement nesting lowered (real code stays far below;
/// deeper input would only risk the stack).
pub(super) const MAX_NESTING: usize = 150;

/// The architecture `__CUDA_ARCH__` stands for when no flag names one (sm_90).
pub(super) const DEFAULT_CUDA_ARCH: u32 = 900;

/// Where an `#include` was written.
pub(super) struct IncludeSite<'p> {
    /// The including file (`None`: the main file).
    pub from: Option<&'p Path>,
    pub span: Span,
    /// The header name's span.
    pub path_span: Span,
}

/// The `template<...>` declaration items stand in.
#[derive(Clone, Copy)]
pub(super) struct Template<'t> {
    pub(super) header: Node<'t>,
    /// The item is the declaration's own child (not inside an `#if` in it):
    /// the header is then part of the item's text and span.
    pub(super) direct: bool,
}

/// The text being lowered: the main file, a header, or a macro expansion.
pub(super) struct Cx<'s> {
    pub src: &'s str,
    /// `None` for the main file.
    pub file: Option<&'s Path>,
    /// Set while lowering a macro expansion: every node gets this span.
    pub origin: Option<Span>,
    /// Set while lowering an item's preprocessed text (see `region.rs`):
    /// spans go through it back to the source.
    pub map: Option<&'s SourceMap>,
    /// What a header's build left out of its tree (see `header_bodies.rs`):
    /// function bodies' interiors, declarations and table values, in
    /// order, as offsets of the header (also while lowering its
    /// preprocessed text, through `map`).
    pub skipped: &'s [std::ops::Range<usize>],
}

impl Cx<'_> {
    pub fn is_main(&self) -> bool {
        self.file.is_none()
    }

    pub fn text(&self, n: Node) -> &str {
        self.src.get(n.byte_range()).unwrap_or("")
    }

    pub fn span(&self, n: Node) -> Span {
        match (self.origin, self.map) {
            (Some(origin), _) => origin,
            (None, Some(map)) => map.span(n.byte_range()),
            (None, None) => n.byte_range().into(),
        }
    }

    /// `body` is a function body left out of the tree (its function is
    /// modelled as a declaration).
    pub fn is_skipped(&self, body: Node) -> bool {
        if self.skipped.is_empty() || self.origin.is_some() {
            return false;
        }
        let brace = body.start_byte()..body.start_byte() + 1;
        let start = match self.map {
            // In preprocessed text: the `{` the user wrote.
            Some(map) if map.verbatim(brace.clone()) => map.span(brace).start + 1,
            Some(_) => return false,
            None => brace.end,
        };
        self.skipped
            .binary_search_by_key(&start, |r| r.start)
            .is_ok()
    }

    /// The text is the source as written (not a macro expansion or an
    /// item's preprocessed text).
    pub fn is_raw(&self) -> bool {
        self.origin.is_none() && self.map.is_none()
    }

    /// Some macro produced part of node `n`'s text.
    pub fn is_from_macro(&self, n: Node) -> bool {
        self.origin.is_some() || self.map.is_some_and(|m| !m.verbatim(n.byte_range()))
    }
}

pub(super) struct Builder<'o> {
    pub(super) opts: &'o BuildOptions<'o>,
    pub(super) model: FileModel,
    pub(super) macros: MacroTable,
    pub(super) include_stack: Vec<PathBuf>,
    pub(super) expansion_parser: Parser,
    pub(super) store: Arc<HeaderStore>,
    /// Headers entered that said `#pragma once`.
    pub(super) once: HashSet<PathBuf>,
    /// Headers read so far that have a classic include guard, with its macro.
    pub(super) guards: HashMap<PathBuf, String>,
    /// Header text read fully so far (see [`MAX_FULL_HEADER_BYTES`]).
    pub(super) full_header_bytes: usize,
    pub(super) macro_only: MacroOnlyHeaders,
    /// The main file's `#include` being followed, if any.
    pub(super) main_include: Option<Span>,
    /// Every header read so far, with its `SourceProvider::version`.
    pub(super) headers_read: Vec<(PathBuf, u64)>,
    /// Every `#include` not found so far (see [`MissingInclude`]).
    pub(super) missing_includes: Vec<MissingInclude>,
    /// Where the deadline stopped the build (an offset in the main file).
    pub(super) out_of_time: Option<usize>,
    /// A `#pragma unroll` waiting for the loop it applies to.
    pub(super) pending_unroll: Option<Option<i64>>,
    /// `#pragma pack` in effect (its stack, innermost last; `None` where
    /// `#pragma pack()` restored the default): structs defined under a
    /// packing are not laid out.
    pub(super) packing: Vec<Option<String>>,
    /// Changes whenever a macro is defined or undefined: part of the cache key.
    pub(super) macro_hash: u64,
    /// Count of `<<<...>>>` launches lowered so far.
    pub(super) launches_lowered: usize,
    /// Current expression/statement/item nesting (see `lower::MAX_NESTING`).
    pub(super) nesting: usize,
    pub(super) nesting_reported: bool,
    pub(super) old_functions: FingerprintMap<(Arc<Function>, usize)>,
    /// Items' preprocessed texts and trees from the previous build, and
    /// this build's (see `region.rs`).
    pub(super) old_regions: FingerprintMap<Arc<ExpandedRegion>>,
    pub(super) new_regions: FingerprintMap<Arc<ExpandedRegion>>,
    pub(super) new_functions: FingerprintMap<(Arc<Function>, usize)>,
    /// Times code was not lowered for being nested too deep.
    pub(super) nesting_refusals: u64,
    /// Macro expansions already lowered, by expanded text (see `expand_expr`).
    pub(super) expansions: HashMap<ExpansionKey, Expr>,
    /// Statement macros' shapes by `stmt_shapes.rs`'s key; `None`: not reusable.
    pub(super) stmt_shapes: HashMap<String, Option<crate::ir::Stmt>>,
    /// Which header function bodies are left out (see `header_bodies.rs`).
    pub(super) plan: super::header_bodies::Plan,
    /// A header was read fully that the plan was not made over.
    pub(super) plan_missed: bool,
    /// Execution-space words a preprocessor branch left before the next
    /// function (`#ifdef GPU __device__ #endif`).
    pub(super) pending_exec: Vec<&'static str>,
    /// The named namespaces around the item being built, outermost first.
    pub(super) namespaces: Vec<String>,
    /// The struct whose member functions are being lowered (`methods.rs`),
    /// and whether the one being lowered is `static`.
    pub(super) receiver: Option<(super::methods::Receiver, bool)>,
    /// The parameters and header text of the class template whose struct
    /// is about to be built (`template <typename K> struct HashTable`):
    /// its static member functions take them (`methods.rs`).
    pub(super) class_template: Option<(Vec<super::TemplateParam>, String)>,
}

/// Headers read for their macros only, reported once per file.
#[derive(Clone, Default)]
pub(super) struct MacroOnlyHeaders {
    pub(super) count: usize,
    pub(super) bytes: usize,
    /// The main file's include that led to the first of them.
    pub(super) first_include: Option<Span>,
}

/// What the lowering of a macro expansion depends on.
#[derive(Hash, PartialEq, Eq)]
pub(super) struct ExpansionKey {
    pub(super) text: String,
    /// Diagnostics are reported in the main file only.
    pub(super) in_main_file: bool,
    /// Casts and `sizeof` consult the types declared so far.
    pub(super) types: usize,
}

/// Used by `lower`: an expression made of one identifier.
pub(super) fn ident_expr(name: &str, span: Span) -> Expr {
    Expr::new(ExprKind::Ident(name.to_string()), span)
}

/// What a file's preamble (as clangd calls it: everything up to its last
/// `#include`) left behind: the macros, the headers' functions, types and
/// constants, and the model of the code before the last include. Editing
/// below the preamble reuses it instead of walking every header again
/// (ggml's files read about 0.9 MB of headers per build).
pub(super) struct Preamble {
    /// The preamble's own text, the flags and the file's path.
    pub(super) key: u64,
    /// Each header read, with the hash of its text then: the preamble is
    /// stale when one of them changed.
    pub(super) headers: Vec<(PathBuf, u64)>,
    /// Each `#include` it did not find: the preamble is stale when one of
    /// them would be found now (the user created the header).
    pub(super) missing_includes: Vec<MissingInclude>,
    pub(super) model: FileModel,
    pub(super) macros: MacroTable,
    pub(super) macro_hash: u64,
    pub(super) once: HashSet<PathBuf>,
    pub(super) guards: HashMap<PathBuf, String>,
    pub(super) full_header_bytes: usize,
    pub(super) macro_only: MacroOnlyHeaders,
    pub(super) launches_lowered: usize,
}

/// An `#include` that found no header: what it said, whether with `<...>`,
/// and the directory of the file it stood in (searched first for `"..."`).
#[derive(Clone)]
pub(super) struct MissingInclude {
    pub(super) written: String,
    pub(super) dir: Option<PathBuf>,
}

/// An item's preprocessed text, its map to the source and its tree.
pub(super) struct ExpandedRegion {
    /// Where the item started in the source.
    pub(super) start: usize,
    pub(super) text: String,
    pub(super) map: SourceMap,
    pub(super) tree: Tree,
    /// The spans its conditionals left inactive (in the source).
    pub(super) inactive: Vec<Span>,
}

impl ExpandedRegion {
    /// The same item, moved to start at `start` (its text unchanged).
    pub(super) fn moved_to(&self, start: usize) -> ExpandedRegion {
        ExpandedRegion {
            start,
            text: self.text.clone(),
            map: self.map.shifted(start as isize - self.start as isize),
            tree: self.tree.clone(),
            inactive: self
                .inactive
                .iter()
                .map(|s| {
                    let delta = start as isize - self.start as isize;
                    let at = |b: usize| (b as isize + delta) as usize;
                    Span::new(at(s.start), at(s.end))
                })
                .collect(),
        }
    }
}
