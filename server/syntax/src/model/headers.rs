//! Headers as the builds of one `check` run or one language-server session
//! share them: a header's syntax tree and its directive list are made once
//! per content, however many files include it.
//!
//! Two ways a build reads a header (see `Builder::include`): *fully* (its
//! tree is walked: functions, types, constants, macros) while the file's
//! budget of fully read header bytes lasts, and *for macros only* after that
//! (its directives alone: conditionals, `#define`, `#include`), which is what
//! keeps a file that includes 20 MB of a template library (CUTLASS, CUB)
//! cheap. Trees are large (about 40 bytes per byte of text), so the store
//! keeps trees for a bounded amount of header text; beyond it a build parses
//! a header for itself and drops the tree when it finishes.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use tree_sitter::Tree;

use super::header_bodies::{Excluded, Outline, outline};
use crate::fingerprint::hash_parts;
use crate::preprocess::scan::{self, Directive};
use crate::span::Span;

/// Header text whose trees the store keeps, at most (their trees take
/// about 40 times as much memory).
const MAX_KEPT_TREE_TEXT: usize = 4 * 1024 * 1024;

/// A header's text and tree (`None` when it could not be parsed).
pub struct ParsedHeader {
    pub text: Arc<str>,
    pub tree: Option<Tree>,
    /// The function bodies left out of the tree (see `header_bodies.rs`).
    pub excluded: Excluded,
}

/// A header's directives, each with its line's span, in order.
pub type Directives = Arc<[(Span, Directive)]>;

#[derive(Default)]
struct Entries {
    /// By path: the hash of the text and of the bodies left out, and the
    /// parsed header.
    trees: HashMap<PathBuf, (u64, Arc<ParsedHeader>)>,
    tree_text_bytes: usize,
    directives: HashMap<PathBuf, (u64, Directives, Option<String>)>,
    outlines: HashMap<PathBuf, (u64, Arc<Outline>)>,
    /// Headers waiting for a prefetching thread, the last needed at the end
    /// (see [`HeaderStore::prefetch`]).
    pending: Vec<HeaderToParse>,
    /// Headers a prefetching thread is parsing now.
    parsing: HashSet<PathBuf>,
    /// Headers prefetched and not yet asked for, with their keys.
    ready: HashMap<PathBuf, (u64, Arc<ParsedHeader>)>,
}

/// A header a build is about to read fully: its path, the hash of its text,
/// the text, and the bodies its plan leaves out.
pub struct HeaderToParse {
    pub path: PathBuf,
    pub hash: u64,
    pub text: Arc<str>,
    pub excluded: Excluded,
}

/// See the module documentation. Cheap to share (`Arc`); thread-safe.
#[derive(Default)]
pub struct HeaderStore {
    entries: Mutex<Entries>,
    /// Signalled when a prefetching thread finishes a header.
    finished: Condvar,
    /// Threads that parse a build's headers ahead of it, at most.
    prefetchers: usize,
    /// Builds leave out the header function bodies their file never
    /// reaches (see `header_bodies.rs`).
    plans_bodies: bool,
}

impl HeaderStore {
    /// A store for many files (`check`): every header is parsed whole,
    /// once, and its tree serves every file that includes it.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A store for the language server, where an open waits for one file:
    /// its builds leave out the header function bodies the file never
    /// reaches (`header_bodies.rs`) and hand the headers they will read to
    /// other threads first.
    pub fn for_editor() -> Arc<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Arc::new(HeaderStore {
            prefetchers: cores.saturating_sub(1).min(MAX_PREFETCHERS),
            plans_bodies: true,
            ..Self::default()
        })
    }

    /// Whether builds leave out the bodies their file never reaches;
    /// `CUDALENS_HEADER_BODIES=all` or `=planned` overrides it (to compare
    /// the two).
    pub fn plans_bodies(&self) -> bool {
        static FORCED: std::sync::OnceLock<Option<bool>> = std::sync::OnceLock::new();
        let forced =
            FORCED.get_or_init(
                || match std::env::var("CUDALENS_HEADER_BODIES").as_deref() {
                    Ok("all") => Some(false),
                    Ok("planned") => Some(true),
                    _ => None,
                },
            );
        forced.unwrap_or(self.plans_bodies)
    }

    /// Parses `headers` (in the order a build reads them) on other threads,
    /// from the last: the build takes them from the first, parsing itself
    /// any no thread has started, so the two meet in the middle. Replaces
    /// what an earlier call left waiting.
    pub fn prefetch(self: &Arc<Self>, headers: Vec<HeaderToParse>) {
        if self.prefetchers == 0 || headers.is_empty() {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let e = &mut *entries;
        e.ready.clear();
        e.pending = headers
            .into_iter()
            .filter(|h| {
                let key = tree_key(h.hash, &h.excluded);
                e.trees.get(&h.path).is_none_or(|(k, _)| *k != key)
            })
            .collect();
        let threads = self.prefetchers.min(e.pending.len());
        drop(entries);
        for _ in 0..threads {
            let store = self.clone();
            let spawned = std::thread::Builder::new()
                .name("cudalens-headers".into())
                .spawn(move || store.prefetch_worker());
            if spawned.is_err() {
                break;
            }
        }
    }

    fn prefetch_worker(&self) {
        loop {
            let job = {
                let Ok(mut entries) = self.entries.lock() else {
                    return;
                };
                let Some(job) = entries.pending.pop() else {
                    return;
                };
                entries.parsing.insert(job.path.clone());
                job
            };
            // A build may be waiting for this header: it hears of the end
            // whatever happens (a panic leaves it to parse the header itself).
            let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                parse_header(&job.text, &job.excluded)
            }));
            let key = tree_key(job.hash, &job.excluded);
            if let Ok(mut entries) = self.entries.lock() {
                entries.parsing.remove(&job.path);
                if let Ok(parsed) = parsed {
                    entries.ready.insert(job.path, (key, parsed));
                }
            }
            self.finished.notify_all();
        }
    }

    /// The parsed header for `text` at `path` with the bodies `excluded`
    /// left out, parsing it on first use.
    pub fn parsed(
        &self,
        path: &Path,
        hash: u64,
        text: &Arc<str>,
        excluded: &Excluded,
    ) -> Arc<ParsedHeader> {
        let key = tree_key(hash, excluded);
        let Ok(mut entries) = self.entries.lock() else {
            return parse_header(text, excluded);
        };
        // Kept from an earlier build, prefetched, being prefetched (wait
        // for it), or waiting for a thread (parse it here instead).
        loop {
            if let Some((k, parsed)) = entries.trees.get(path)
                && *k == key
            {
                return parsed.clone();
            }
            if let Some((k, parsed)) = entries.ready.remove(path)
                && k == key
            {
                keep(&mut entries, path, key, &parsed);
                return parsed;
            }
            if !entries.parsing.contains(path) {
                break;
            }
            entries = match self.finished.wait_timeout(entries, PREFETCH_WAIT) {
                Ok((e, timeout)) if !timeout.timed_out() => e,
                _ => return parse_header(text, excluded),
            };
        }
        entries.pending.retain(|h| h.path != path);
        drop(entries);
        // Parsed outside the lock: other builds go on meanwhile.
        let parsed = parse_header(text, excluded);
        if let Ok(mut entries) = self.entries.lock() {
            keep(&mut entries, path, key, &parsed);
        }
        parsed
    }

    /// The outline of `text` at `path` (see `header_bodies.rs`), made on first use.
    pub fn outline(&self, path: &Path, hash: u64, text: &str) -> Arc<Outline> {
        if let Ok(entries) = self.entries.lock()
            && let Some((h, o)) = entries.outlines.get(path)
            && *h == hash
        {
            return o.clone();
        }
        let made = Arc::new(outline(text));
        if let Ok(mut entries) = self.entries.lock() {
            entries
                .outlines
                .insert(path.to_path_buf(), (hash, made.clone()));
        }
        made
    }

    /// The directives of `text` at `path`, read on first use, and the
    /// macro of its include guard if it has one.
    pub fn directives(&self, path: &Path, hash: u64, text: &str) -> (Directives, Option<String>) {
        if let Ok(entries) = self.entries.lock()
            && let Some((h, d, g)) = entries.directives.get(path)
            && *h == hash
        {
            return (d.clone(), g.clone());
        }
        let found: Directives = scan::directives(text).into();
        let guard = include_guard(text, &found);
        if let Ok(mut entries) = self.entries.lock() {
            entries
                .directives
                .insert(path.to_path_buf(), (hash, found.clone(), guard.clone()));
        }
        (found, guard)
    }
}

/// Threads that prefetch headers, at most (a build reads them in order,
/// so more rarely help).
const MAX_PREFETCHERS: usize = 3;

/// How long a build waits for a header another thread is parsing before
/// parsing it itself (a parse takes milliseconds; this only bounds the
/// unforeseen).
const PREFETCH_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What a parsed header is kept under: its text and the bodies left out.
fn tree_key(hash: u64, excluded: &[Range<usize>]) -> u64 {
    let ranges: Vec<u8> = excluded
        .iter()
        .flat_map(|r| [r.start.to_le_bytes(), r.end.to_le_bytes()])
        .flatten()
        .collect();
    hash_parts(&[&hash.to_le_bytes(), &ranges])
}

/// Keeps `parsed` for later builds while the budget of kept text lasts.
fn keep(e: &mut Entries, path: &Path, key: u64, parsed: &Arc<ParsedHeader>) {
    if let Some((_, old)) = e.trees.remove(path) {
        e.tree_text_bytes -= old.text.len();
    }
    if e.tree_text_bytes + parsed.text.len() <= MAX_KEPT_TREE_TEXT {
        e.tree_text_bytes += parsed.text.len();
        e.trees.insert(path.to_path_buf(), (key, parsed.clone()));
    }
}

/// Parses a header (too large ones get no tree).
fn parse_header(text: &Arc<str>, excluded: &Excluded) -> Arc<ParsedHeader> {
    let tree = if text.len() <= crate::document::MAX_PARSE_BYTES {
        parse_leaving_out(text, excluded)
    } else {
        None
    };
    Arc::new(ParsedHeader {
        text: text.clone(),
        tree,
        excluded: excluded.clone(),
    })
}

/// Parses `text` without the bytes of `excluded` (sorted, disjoint): the
/// tree's offsets are the text's, and a body left out reads as `{}`.
fn parse_leaving_out(text: &Arc<str>, excluded: &[Range<usize>]) -> Option<Tree> {
    let mut parser = crate::document::cuda_parser();
    if !excluded.is_empty() {
        let lines = crate::line_table::LineTable::new(text.clone());
        let point = |offset: usize| {
            let row = lines.line_of(offset);
            tree_sitter::Point {
                row,
                column: offset - lines.line_start(row),
            }
        };
        let mut included = Vec::with_capacity(excluded.len() + 1);
        let mut from = 0;
        for r in excluded
            .iter()
            .chain(std::iter::once(&(text.len()..text.len())))
        {
            if r.start > from {
                included.push(tree_sitter::Range {
                    start_byte: from,
                    end_byte: r.start,
                    start_point: point(from),
                    end_point: point(r.start),
                });
            }
            from = r.end;
        }
        if parser.set_included_ranges(&included).is_err() {
            parser = crate::document::cuda_parser();
        }
    }
    crate::document::parse(&mut parser, text, None)
}

/// The macro of a classic include guard: the file is `#ifndef G` /
/// `#define G` ... `#endif` with nothing but comments outside. A second
/// `#include` of it while `G` is defined would read nothing, so it is not
/// read at all (what GCC's multiple-include optimisation does).
fn include_guard(text: &str, directives: &[(Span, Directive)]) -> Option<String> {
    let (
        first,
        Directive::Ifdef {
            name,
            negated: true,
        },
    ) = directives.first()?
    else {
        return None;
    };
    let (_, Directive::Define { name: defined, .. }) = directives.get(1)? else {
        return None;
    };
    let (last, Directive::Endif) = directives.last()? else {
        return None;
    };
    // The `#endif` closes the `#ifndef`.
    let mut depth = 0usize;
    for (i, (_, d)) in directives.iter().enumerate() {
        match d {
            Directive::If(_) | Directive::Ifdef { .. } => depth += 1,
            Directive::Endif => {
                depth -= 1;
                if depth == 0 && i + 1 != directives.len() {
                    return None;
                }
            }
            _ => {}
        }
    }
    let outside = format!("{}{}", &text[..first.start], &text[last.end..]);
    (name == defined && crate::preprocess::lex::tokenize(&outside).is_empty()).then(|| name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(i: usize) -> HeaderToParse {
        let text: Arc<str> = format!(
            "#pragma once\n__device__ float f{i}(float x) {{ return x * {i}.0f; }}\n\
             __device__ float g{i}(float x) {{ return f{i}(x) + 1.0f; }}\n"
        )
        .into();
        // Every other header leaves `g`'s body out.
        let excluded: Excluded = if i.is_multiple_of(2) {
            let start = text.rfind('{').unwrap() + 1;
            std::iter::once(start..text.rfind('}').unwrap()).collect()
        } else {
            Arc::from([])
        };
        HeaderToParse {
            path: PathBuf::from(format!("/h{i}.cuh")),
            hash: i as u64,
            text,
            excluded,
        }
    }

    #[test]
    fn prefetched_headers_are_the_trees_a_build_would_parse() {
        let store = HeaderStore::for_editor();
        store.prefetch((0..12).map(header).collect());
        // Taken in order, as a build does, while other threads parse from
        // the last: each is the tree of a parse of its own.
        for i in 0..12 {
            let h = header(i);
            let got = store.parsed(&h.path, h.hash, &h.text, &h.excluded);
            let own = parse_header(&h.text, &h.excluded);
            let sexp = |p: &ParsedHeader| p.tree.as_ref().map(|t| t.root_node().to_sexp());
            assert_eq!(sexp(&got), sexp(&own), "header {i}");
            assert!(sexp(&got).is_some_and(|s| !s.contains("ERROR")));
            // A body left out reads as `{}`.
            let bodies = sexp(&got).unwrap().matches("(return_statement").count();
            let expected = if i.is_multiple_of(2) { 1 } else { 2 };
            assert_eq!(bodies, expected, "header {i}");
        }
    }

    fn guard_of(text: &str) -> Option<String> {
        HeaderStore::default()
            .directives(Path::new("/h.h"), 0, text)
            .1
    }

    #[test]
    fn include_guards() {
        assert_eq!(
            guard_of("// c\n#ifndef A_H\n#define A_H\n#if X\n#endif\nint a;\n#endif // A_H\n"),
            Some("A_H".into())
        );
        // Code after the guard, a different macro, a guard closed early.
        assert_eq!(guard_of("#ifndef A_H\n#define A_H\n#endif\nint b;\n"), None);
        assert_eq!(guard_of("#ifndef A_H\n#define B_H\n#endif\n"), None);
        assert_eq!(
            guard_of("#ifndef A_H\n#define A_H\n#endif\n#if Y\n#endif\n"),
            None
        );
        assert_eq!(guard_of("#pragma once\nint c;\n"), None);
    }
}
