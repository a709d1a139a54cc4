//! Suppression comments: `// cudalens-ignore[code]: reason` silences the
//! findings of `code` on its own line (a trailing comment) or on the next
//! line (a comment on a line of its own; several such lines stack), and
//! `// cudalens-ignore-file[code]: reason` silences `code` in the whole file.
//! Several codes go in one pair of brackets, separated by commas.
//!
//! As ruff's `RUF100`, a suppression is checked too: one that silences
//! nothing (or names an unknown or disabled rule) is `unused-suppression`, one
//! without a reason is `suppression-without-reason` (it still silences).
//!
//! [`ignore_edit`] is the editor's "Ignore this finding here": the edit that
//! adds a suppression for one diagnostic.
//!
//! ```
//! use cudalens_analysis::suppress::suppressions;
//! let text = "int x; // cudalens-ignore[bank-conflict]: padded on purpose\n";
//! let found = suppressions(text);
//! assert_eq!(found[0].codes[0].0, "bank-conflict");
//! assert_eq!(found[0].reason.as_deref(), Some("padded on purpose"));
//! ```

use std::collections::HashSet;

use crate::diagnostic::{Diagnostic, Edit, Fix, Span};
use crate::rules::{self, suppression_without_reason, unused_suppression};

const LINE_MARKER: &str = "cudalens-ignore";
const FILE_MARKER: &str = "cudalens-ignore-file";

/// What a suppression comment covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Findings starting on this 0-based line.
    Line(usize),
    File,
}

/// One `cudalens-ignore` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// From `//` to the end of the line.
    pub comment: Span,
    pub scope: Scope,
    /// Each code with its span; empty when the brackets are missing.
    pub codes: Vec<(String, Span)>,
    /// The text after `:`, trimmed; `None` when there is none.
    pub reason: Option<String>,
    /// The comment is alone on its line (it then covers the next line).
    pub own_line: bool,
}

/// Every suppression comment of `text`, in order.
pub fn suppressions(text: &str) -> Vec<Suppression> {
    let mut out: Vec<Suppression> = Vec::new();
    // A cheap test first: most files have none.
    if !text.contains(LINE_MARKER) {
        return out;
    }
    let mut line_start = 0;
    for (line_no, line) in text.split_inclusive('\n').enumerate() {
        let start = line_start;
        line_start += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let Some(s) = parse_comment(content, start, line_no) else {
            continue;
        };
        out.push(s);
    }
    // Stacked comments on lines of their own all cover the first code line after them.
    for i in (0..out.len()).rev() {
        if let (Scope::Line(line), true) = (out[i].scope, out[i].own_line)
            && let Some(next) = out.get(i + 1)
            && next.own_line
            && next.scope != Scope::File
            && line_of(text, next.comment.start) == line
        {
            out[i].scope = next.scope;
        }
    }
    out
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].bytes().filter(|&b| b == b'\n').count()
}

/// `// cudalens-ignore[...]: reason` in one line (without its newline) that
/// starts at byte `start`.
fn parse_comment(line: &str, start: usize, line_no: usize) -> Option<Suppression> {
    let marker_at = line.find(LINE_MARKER)?;
    let slashes = line[..marker_at].trim_end().strip_suffix("//")?;
    let comment_at = slashes.len();
    let own_line = slashes.trim().is_empty();
    let file = line[marker_at..].starts_with(FILE_MARKER);
    let after_marker = marker_at
        + if file {
            FILE_MARKER.len()
        } else {
            LINE_MARKER.len()
        };
    let rest = &line[after_marker..];
    let mut codes = Vec::new();
    let mut after_codes = after_marker;
    if let Some(inner) = rest.strip_prefix('[')
        && let Some(close) = inner.find(']')
    {
        let mut at = after_marker + 1;
        for part in inner[..close].split(',') {
            let code = part.trim();
            if !code.is_empty() {
                let code_at = at + (part.len() - part.trim_start().len());
                codes.push((
                    code.to_string(),
                    Span::new(start + code_at, start + code_at + code.len()),
                ));
            }
            at += part.len() + 1;
        }
        after_codes = after_marker + 1 + close + 1;
    }
    let reason = line[after_codes..]
        .trim_start()
        .strip_prefix(':')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    Some(Suppression {
        comment: Span::new(start + comment_at, start + line.len()),
        scope: if file {
            Scope::File
        } else if own_line {
            Scope::Line(line_no + 1)
        } else {
            Scope::Line(line_no)
        },
        codes,
        reason,
        own_line,
    })
}

/// Removes the diagnostics that suppressions in `text` silence and adds the
/// findings about the suppressions themselves (unless `disabled`).
pub fn apply(text: &str, diagnostics: &mut Vec<Diagnostic>, disabled: &HashSet<String>) {
    let found = suppressions(text);
    if found.is_empty() {
        return;
    }
    let mut used: Vec<Vec<bool>> = found.iter().map(|s| vec![false; s.codes.len()]).collect();
    diagnostics.retain(|d| {
        let line = line_of(text, d.span.start.min(text.len()));
        let mut keep = true;
        for (s, used) in found.iter().zip(used.iter_mut()) {
            let covers = match s.scope {
                Scope::File => true,
                Scope::Line(l) => l == line,
            };
            if !covers {
                continue;
            }
            for ((code, _), used) in s.codes.iter().zip(used.iter_mut()) {
                if code == d.code {
                    *used = true;
                    keep = false;
                }
            }
        }
        keep
    });
    let mut added = Vec::new();
    for (s, used) in found.iter().zip(&used) {
        if s.reason.is_none() {
            added.push(suppression_without_reason::diagnostic(s.comment));
        }
        if s.codes.is_empty() {
            added.push(unused_suppression::diagnostic(
                s.comment,
                "names no rule: write the codes in brackets (`cudalens-ignore[rule-code]: reason`)"
                    .to_string(),
                None,
            ));
            continue;
        }
        for ((code, span), used) in s.codes.iter().zip(used) {
            if *used {
                continue;
            }
            let why = if rules::find(code).is_none() {
                format!("`{code}` is not a cudalens rule (`cudalens rules` lists them)")
            } else if disabled.contains(code) {
                format!("`{code}` is disabled here, so there is nothing to suppress")
            } else {
                match s.scope {
                    Scope::File => format!("no `{code}` finding in this file"),
                    Scope::Line(_) if s.own_line => format!("no `{code}` finding on the next line"),
                    Scope::Line(_) => format!("no `{code}` finding on this line"),
                }
            };
            added.push(unused_suppression::diagnostic(
                *span,
                why,
                Some(removal(text, s, span)),
            ));
        }
    }
    added.retain(|d| !disabled.contains(d.code));
    if !added.is_empty() {
        diagnostics.extend(added);
        diagnostics.sort_by_key(|d| (d.span.start, d.span.end, d.code));
    }
}

/// The edit that removes `code` from `s`: the code alone when others remain,
/// else the whole comment (with its line when the comment is alone on it).
fn removal(text: &str, s: &Suppression, code: &Span) -> Edit {
    if s.codes.len() > 1 {
        let (before, after) = (&text[..code.start], &text[code.end..]);
        // Take the separator after the code, or before it for the last one.
        let span = if let Some(rest) = after.strip_prefix(',') {
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            Span::new(code.start, code.end + 1 + spaces)
        } else {
            let trimmed = before.trim_end_matches(' ');
            let start = trimmed.strip_suffix(',').map_or(code.start, str::len);
            Span::new(start, code.end)
        };
        return Edit {
            span,
            new_text: String::new(),
        };
    }
    let line_start = text[..s.comment.start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[s.comment.end..]
        .find('\n')
        .map_or(text.len(), |i| s.comment.end + i + 1);
    let span = if s.own_line {
        Span::new(line_start, line_end)
    } else {
        let before = text[line_start..s.comment.start].trim_end_matches([' ', '\t']);
        Span::new(line_start + before.len(), s.comment.end)
    };
    Edit {
        span,
        new_text: String::new(),
    }
}

/// "Ignore this finding here": the edit that suppresses `code` at `span`:
/// the code added to a suppression already covering that line, else a new
/// comment on the line before, indented like the finding's line. The reason
/// is left for the user to write (until then `suppression-without-reason`
/// asks for it).
///
/// `None` when the line before ends with a backslash: a line inserted there
/// would be spliced into it, and in a macro definition that moves the
/// finding's line out of the macro.
///
/// ```
/// use cudalens_analysis::diagnostic::Span;
/// use cudalens_analysis::suppress::ignore_edit;
/// let text = "void f() {\n    a[i] = 1;\n}\n";
/// let at = text.find("a[i]").unwrap();
/// let edit = ignore_edit(text, Span::new(at, at + 4), "bank-conflict").expect("an edit");
/// assert_eq!(edit.new_text, "    // cudalens-ignore[bank-conflict]: \n");
/// assert_eq!(edit.span, Span::new(11, 11));
/// ```
pub fn ignore_edit(text: &str, span: Span, code: &str) -> Option<Edit> {
    let at = floor_char_boundary(text, span.start);
    let line = line_of(text, at);
    if let Some(existing) = suppressions(text)
        .into_iter()
        .find(|s| s.scope == Scope::Line(line) && !s.codes.is_empty())
    {
        let last = existing.codes[existing.codes.len() - 1].1;
        return Some(Edit {
            span: Span::new(last.end, last.end),
            new_text: format!(", {code}"),
        });
    }
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let previous_line = text[..line_start.saturating_sub(1)].trim_end_matches('\r');
    if line_start > 0 && previous_line.ends_with('\\') {
        return None;
    }
    let indent: String = text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let newline = if text[line_start..]
        .split('\n')
        .next()
        .is_some_and(|l| l.ends_with('\r'))
    {
        "\r\n"
    } else {
        "\n"
    };
    Some(Edit {
        span: Span::new(line_start, line_start),
        new_text: format!("{indent}// {LINE_MARKER}[{code}]: {newline}"),
    })
}

/// `offset` clamped to the text and moved back to a character boundary.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// The fix offered with `unused-suppression`: not safe, since an analysis cut
/// short (a syntax error while typing) leaves suppressions unused that are not.
pub(crate) fn removal_fix(edit: Edit) -> Fix {
    Fix {
        title: "Remove the unused suppression".into(),
        edits: vec![edit],
        safe: false,
        explanation:
            "The comment silences nothing now; if the finding comes back, so must the comment."
                .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;

    fn diag(text: &str, needle: &str, code: &'static str) -> Diagnostic {
        let at = text.find(needle).expect("needle");
        Diagnostic::new(
            Span::new(at, at + needle.len()),
            Severity::Warning,
            code,
            "m".into(),
        )
    }

    fn codes(ds: &[Diagnostic]) -> Vec<&str> {
        ds.iter().map(|d| d.code).collect()
    }

    #[test]
    fn trailing_and_own_line_comments_cover_their_line_and_the_next() {
        let text = "a;\n// cudalens-ignore[bank-conflict]: padded\nb;\nc; // cudalens-ignore[grid-too-small]: one block on purpose\nd;\n";
        let mut ds = vec![
            diag(text, "a;", "bank-conflict"),
            diag(text, "b;", "bank-conflict"),
            diag(text, "c;", "grid-too-small"),
            diag(text, "d;", "grid-too-small"),
        ];
        apply(text, &mut ds, &HashSet::new());
        let left: Vec<&str> = ds.iter().map(|d| d.span.text(text)).collect();
        assert_eq!(left, ["a;", "d;"]);
    }

    #[test]
    fn stacked_comments_cover_the_first_code_line() {
        let text = "    // cudalens-ignore[bank-conflict]: a\n    // cudalens-ignore[grid-too-small]: b\n    x;\n";
        let mut ds = vec![
            diag(text, "x;", "bank-conflict"),
            diag(text, "x;", "grid-too-small"),
        ];
        apply(text, &mut ds, &HashSet::new());
        assert!(ds.is_empty(), "{ds:?}");
    }

    #[test]
    fn file_suppressions_cover_the_file() {
        let text = "// cudalens-ignore-file[bank-conflict]: generated tiles\na;\nb;\n";
        let mut ds = vec![
            diag(text, "a;", "bank-conflict"),
            diag(text, "b;", "bank-conflict"),
        ];
        apply(text, &mut ds, &HashSet::new());
        assert!(ds.is_empty());
    }

    #[test]
    fn unused_unknown_disabled_and_reasonless_suppressions_are_reported() {
        let text = "a; // cudalens-ignore[bank-conflict, no-such-rule, grid-too-small]\n// cudalens-ignore: x\n";
        let mut ds = vec![diag(text, "a;", "bank-conflict")];
        let disabled: HashSet<String> = ["grid-too-small".to_string()].into();
        apply(text, &mut ds, &disabled);
        assert_eq!(
            codes(&ds),
            [
                "suppression-without-reason",
                "unused-suppression",
                "unused-suppression",
                "unused-suppression"
            ]
        );
        let messages: Vec<&str> = ds.iter().map(|d| d.message.as_str()).collect();
        assert!(
            messages[1].contains("`no-such-rule` is not a cudalens rule"),
            "{messages:?}"
        );
        assert!(
            messages[2].contains("`grid-too-small` is disabled"),
            "{messages:?}"
        );
        assert!(messages[3].contains("names no rule"), "{messages:?}");
    }

    #[test]
    fn the_removal_fix_keeps_the_other_codes_or_the_line() {
        let remove = |text: &str| {
            let mut ds = Vec::new();
            apply(text, &mut ds, &HashSet::new());
            let fix = ds.iter().find_map(|d| d.fixes.first()).expect("a fix");
            assert!(!fix.safe);
            let mut out = text.to_string();
            let e = &fix.edits[0];
            out.replace_range(e.span.start..e.span.end, &e.new_text);
            out
        };
        assert_eq!(
            remove("a;  // cudalens-ignore[bank-conflict]: r\nb;\n"),
            "a;\nb;\n"
        );
        assert_eq!(
            remove("  // cudalens-ignore[bank-conflict]: r\nb;\n"),
            "b;\n"
        );
        let mut ds = vec![];
        let text = "a; // cudalens-ignore[grid-too-small, bank-conflict]: r\n";
        let at = text.find("a;").unwrap();
        ds.push(Diagnostic::new(
            Span::new(at, at + 2),
            Severity::Info,
            "grid-too-small",
            "m".into(),
        ));
        apply(text, &mut ds, &HashSet::new());
        let e = &ds[0].fixes[0].edits[0];
        let mut out = text.to_string();
        out.replace_range(e.span.start..e.span.end, &e.new_text);
        assert_eq!(out, "a; // cudalens-ignore[grid-too-small]: r\n");
    }

    #[test]
    fn ignore_edit_adds_to_an_existing_suppression_and_keeps_crlf() {
        let text = "x;\r\n\t// cudalens-ignore[grid-too-small]: r\r\n\ty;\r\n";
        let at = text.find("y;").unwrap();
        let e = ignore_edit(text, Span::new(at, at + 2), "bank-conflict").expect("an edit");
        let mut out = text.to_string();
        out.replace_range(e.span.start..e.span.end, &e.new_text);
        assert_eq!(
            out,
            "x;\r\n\t// cudalens-ignore[grid-too-small, bank-conflict]: r\r\n\ty;\r\n"
        );
        let at = text.find("x;").unwrap();
        let e = ignore_edit(text, Span::new(at, at + 2), "bank-conflict").expect("an edit");
        assert_eq!(e.new_text, "// cudalens-ignore[bank-conflict]: \r\n");
    }

    #[test]
    fn the_ignore_edit_suppresses_the_finding() {
        let text = "void f() {\n    a[i] = 1;\n}\n";
        let d = diag(text, "a[i]", "bank-conflict");
        let e = ignore_edit(text, d.span, d.code).expect("an edit");
        let mut edited = text.to_string();
        edited.replace_range(e.span.start..e.span.end, &e.new_text);
        let mut ds = vec![diag(&edited, "a[i]", "bank-conflict")];
        apply(&edited, &mut ds, &HashSet::new());
        // Silenced; only the missing reason is left to write.
        assert_eq!(codes(&ds), ["suppression-without-reason"]);
    }

    #[test]
    fn no_comment_line_after_a_backslash_continuation() {
        // In the macro the inserted line would end `M` and leave `a[i]` out of it.
        for text in [
            "#define M \\\n    a[i] = 1;\n",
            "#define M \\\r\n    a[i] = 1;\r\n",
        ] {
            let at = text.find("a[i]").unwrap();
            assert_eq!(
                ignore_edit(text, Span::new(at, at + 4), "bank-conflict"),
                None
            );
        }
        // A trailing suppression on the line is still extended.
        let text = "#define M \\\n    a[i] = 1; // cudalens-ignore[grid-too-small]: r\n";
        let at = text.find("a[i]").unwrap();
        let e = ignore_edit(text, Span::new(at, at + 4), "bank-conflict").expect("an edit");
        assert_eq!(e.new_text, ", bank-conflict");
    }

    #[test]
    fn any_text_is_safe() {
        for text in [
            "// cudalens-ignore[",
            "//cudalens-ignore-file[a,,b]:",
            "x // cudalens-ignore]:[",
            "é// cudalens-ignore[é]: é",
            "\"// cudalens-ignore\"",
        ] {
            let mut ds = vec![];
            apply(text, &mut ds, &HashSet::new());
            let _ = ignore_edit(text, Span::new(text.len(), text.len()), "syntax");
            let _ = ignore_edit(text, Span::new(2, 2), "syntax");
            let _ = ignore_edit(text, Span::new(usize::MAX, usize::MAX), "syntax");
        }
    }
}
