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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tree_sitter::Tree;

use crate::preprocess::scan::{self, Directive};
use crate::span::Span;

/// Header text whose trees the store keeps, at most (their trees take
/// about 40 times as much memory).
const MAX_KEPT_TREE_TEXT: usize = 4 * 1024 * 1024;

/// A header's text and tree (`None` when it could not be parsed).
pub struct ParsedHeader {
    pub text: Arc<str>,
    pub tree: Option<Tree>,
}

/// A header's directives, each with its line's span, in order.
pub type Directives = Arc<[(Span, Directive)]>;

#[derive(Default)]
struct Entries {
    /// By path: the hash of the text, and the parsed header.
    trees: HashMap<PathBuf, (u64, Arc<ParsedHeader>)>,
    tree_text_bytes: usize,
    directives: HashMap<PathBuf, (u64, Directives, Option<String>)>,
}

/// See the module documentation. Cheap to share (`Arc`); thread-safe.
#[derive(Default)]
pub struct HeaderStore {
    entries: Mutex<Entries>,
}

impl HeaderStore {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The parsed header for `text` at `path`, parsing it on first use.
    pub fn parsed(&self, path: &Path, hash: u64, text: &Arc<str>) -> Arc<ParsedHeader> {
        if let Ok(entries) = self.entries.lock()
            && let Some((h, parsed)) = entries.trees.get(path)
            && *h == hash
        {
            return parsed.clone();
        }
        // Parsed outside the lock: other builds go on meanwhile.
        let tree = if text.len() <= crate::document::MAX_PARSE_BYTES {
            crate::document::parse(&mut crate::document::cuda_parser(), text, None)
        } else {
            None
        };
        let parsed = Arc::new(ParsedHeader {
            text: text.clone(),
            tree,
        });
        if let Ok(mut entries) = self.entries.lock() {
            let e = &mut *entries;
            if let Some((_, old)) = e.trees.remove(path) {
                e.tree_text_bytes -= old.text.len();
            }
            if e.tree_text_bytes + text.len() <= MAX_KEPT_TREE_TEXT {
                e.tree_text_bytes += text.len();
                e.trees.insert(path.to_path_buf(), (hash, parsed.clone()));
            }
        }
        parsed
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
        let found: Directives = scan::lines(text)
            .into_iter()
            .filter(|l| l.directive)
            .map(|l| (l.range, scan::directive(l.range.text(text))))
            .filter(|(_, d)| *d != Directive::Other)
            .collect();
        let guard = include_guard(text, &found);
        if let Ok(mut entries) = self.entries.lock() {
            entries
                .directives
                .insert(path.to_path_buf(), (hash, found.clone(), guard.clone()));
        }
        (found, guard)
    }
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
