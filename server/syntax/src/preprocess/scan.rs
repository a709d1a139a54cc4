//! Splits source text into logical lines and reads preprocessor directives
//! from them, without a syntax tree: what the macro-only pass over library
//! headers and the expansion of unparsable items run on.
//!
//! A logical line joins physical lines ended by a backslash. A `#` that is the
//! first token of a line outside a comment or string starts a directive; a
//! block comment that spans lines hides any `#` inside it.

use super::lex::{TokKind, tokenize};
use crate::span::Span;

/// One logical line: `range` is its bytes without the final newline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Line {
    pub range: Span,
    /// The line is a preprocessor directive (starts with `#`).
    pub directive: bool,
}

/// Every logical line of `src`, in order (empty lines included).
pub fn lines(src: &str) -> Vec<Line> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_comment = false;
    while i < b.len() {
        let start = i;
        // A directive: the line's first non-blank byte is `#`, outside a comment.
        let mut j = i;
        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        let directive = !in_comment && b.get(j) == Some(&b'#');
        let mut in_str: Option<u8> = None;
        while i < b.len() {
            let c = b[i];
            if c == b'\\' && matches!(b.get(i + 1), Some(b'\n')) {
                i += 2;
                continue;
            }
            if c == b'\\' && b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') {
                i += 3;
                continue;
            }
            if c == b'\n' {
                break;
            }
            if in_comment {
                if c == b'*' && b.get(i + 1) == Some(&b'/') {
                    in_comment = false;
                    i += 2;
                    continue;
                }
            } else if let Some(q) = in_str {
                if c == b'\\' {
                    i += 1;
                } else if c == q {
                    in_str = None;
                }
            } else if c == b'"' || c == b'\'' {
                // A quote between two alphanumerics is a C++14 digit separator.
                let separator = c == b'\'' && in_number(b, i);
                if !separator {
                    in_str = Some(c);
                }
            } else if c == b'/' && b.get(i + 1) == Some(&b'/') {
                // The rest of the line is a comment (continuations included).
                while i < b.len() && b[i] != b'\n' {
                    if b[i] == b'\\' && b.get(i + 1) == Some(&b'\n') {
                        i += 1;
                    }
                    i += 1;
                }
                break;
            } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
                in_comment = true;
                i += 2;
                continue;
            }
            i += 1;
        }
        let end = if i > start && b.get(i - 1) == Some(&b'\r') && b.get(i) == Some(&b'\n') {
            i - 1
        } else {
            i
        };
        out.push(Line {
            range: Span::new(start, end),
            directive,
        });
        // Skip the newline.
        if i < b.len() {
            i += 1;
        }
    }
    out
}

/// The quote at `i` stands inside a number literal (`1'000'000`), where it
/// separates digits instead of opening a character literal.
fn in_number(b: &[u8], i: usize) -> bool {
    let mut k = i;
    while k > 0 && (b[k - 1].is_ascii_alphanumeric() || b[k - 1] == b'\'' || b[k - 1] == b'.') {
        k -= 1;
    }
    k < i
        && b[k].is_ascii_digit()
        && (k == 0 || !(b[k - 1].is_ascii_alphanumeric() || b[k - 1] == b'_'))
        && b.get(i + 1).is_some_and(u8::is_ascii_alphanumeric)
}

/// A preprocessor directive, read from its line's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Directive {
    Define {
        name: String,
        /// The name's bytes, relative to the line's start.
        name_at: Span,
        /// `None` for an object-like macro; `__VA_ARGS__` for `...`.
        params: Option<Vec<String>>,
        /// The replacement list's text.
        body: String,
    },
    Undef(String),
    If(String),
    /// `#ifdef NAME` (`negated`: `#ifndef`).
    Ifdef {
        name: String,
        negated: bool,
    },
    Elif(String),
    Elifdef {
        name: String,
        negated: bool,
    },
    Else,
    Endif,
    Include {
        written: String,
        /// `<...>` rather than `"..."`.
        system: bool,
    },
    Pragma(String),
    /// `#error`, `#line`, `#warning`, a null directive, or anything unknown.
    Other,
}

/// Every directive of `src` that says something (not [`Directive::Other`]),
/// with its line's span, in order.
pub fn directives(src: &str) -> Vec<(Span, Directive)> {
    lines(src)
        .into_iter()
        .filter(|l| l.directive)
        .map(|l| (l.range, directive(l.range.text(src))))
        .filter(|(_, d)| *d != Directive::Other)
        .collect()
}

/// Reads the directive on `line` (its text starts with optional blanks and `#`).
pub fn directive(line: &str) -> Directive {
    let text = line.trim_start();
    let Some(rest) = text.strip_prefix('#') else {
        return Directive::Other;
    };
    let offset = line.len() - rest.len();
    let trimmed = rest.trim_start();
    let offset = offset + (rest.len() - trimmed.len());
    let word_len = trimmed
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
        .count();
    let (word, args) = trimmed.split_at(word_len);
    let args_offset = offset + word_len;
    let first_ident = || {
        tokenize(args)
            .into_iter()
            .find(|t| t.kind == TokKind::Ident)
            .map(|t| t.text)
            .unwrap_or_default()
    };
    match word {
        "define" => define(args, args_offset),
        "undef" => Directive::Undef(first_ident()),
        "if" => Directive::If(args.to_string()),
        "ifdef" | "ifndef" => Directive::Ifdef {
            name: first_ident(),
            negated: word == "ifndef",
        },
        "elif" => Directive::Elif(args.to_string()),
        "elifdef" | "elifndef" => Directive::Elifdef {
            name: first_ident(),
            negated: word == "elifndef",
        },
        "else" => Directive::Else,
        "endif" => Directive::Endif,
        "include" | "include_next" | "import" => include(args),
        "pragma" => Directive::Pragma(strip_comments(args)),
        _ => Directive::Other,
    }
}

fn include(args: &str) -> Directive {
    let a = args.trim();
    let (system, close) = match a.chars().next() {
        Some('<') => (true, '>'),
        Some('"') => (false, '"'),
        _ => return Directive::Other,
    };
    match a[1..].find(close) {
        Some(end) => Directive::Include {
            written: a[1..1 + end].to_string(),
            system,
        },
        None => Directive::Other,
    }
}

/// `#define NAME body` or `#define NAME(params) body` (no space before `(`).
fn define(args: &str, args_offset: usize) -> Directive {
    let lead = args.len() - args.trim_start().len();
    let rest = &args[lead..];
    let name_len = rest
        .bytes()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80)
        .count();
    if name_len == 0 {
        return Directive::Other;
    }
    let name = rest[..name_len].to_string();
    let name_at = Span::new(args_offset + lead, args_offset + lead + name_len);
    let after = &rest[name_len..];
    let (params, body) = match after.strip_prefix('(') {
        Some(p) => {
            let Some(close) = p.find(')') else {
                return Directive::Other;
            };
            let params = p[..close]
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| match s {
                    "..." => "__VA_ARGS__".to_string(),
                    // GNU named variadic parameter: `args...`.
                    s => s.trim_end_matches("...").trim().to_string(),
                })
                .collect();
            (Some(params), &p[close + 1..])
        }
        None => (None, after),
    };
    Directive::Define {
        name,
        name_at,
        params,
        body: strip_comments(body),
    }
}

/// The text with comments and line continuations removed.
fn strip_comments(text: &str) -> String {
    super::lex::join(&tokenize(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<(&str, bool)> {
        lines(src)
            .iter()
            .map(|l| (l.range.text(src), l.directive))
            .collect()
    }

    #[test]
    fn logical_lines() {
        let src =
            "#define A \\\n  1\nint x; /* a\n#not */ int y;\r\n  # if B\n\"#s\" // c \\\n still\nz";
        assert_eq!(
            texts(src),
            [
                ("#define A \\\n  1", true),
                ("int x; /* a", false),
                ("#not */ int y;", false),
                ("  # if B", true),
                ("\"#s\" // c \\\n still", false),
                ("z", false),
            ]
        );
    }

    #[test]
    fn directives() {
        assert_eq!(
            directive("#  define  F(a, ...) a + __VA_ARGS__ // x"),
            Directive::Define {
                name: "F".into(),
                name_at: Span::new(11, 12),
                params: Some(vec!["a".into(), "__VA_ARGS__".into()]),
                body: "a + __VA_ARGS__".into(),
            }
        );
        assert_eq!(
            directive("#define G (x)"),
            Directive::Define {
                name: "G".into(),
                name_at: Span::new(8, 9),
                params: None,
                body: "(x)".into(),
            }
        );
        assert_eq!(
            directive("#include <cub/cub.cuh>"),
            Directive::Include {
                written: "cub/cub.cuh".into(),
                system: true
            }
        );
        assert_eq!(
            directive("#ifndef GUARD_H"),
            Directive::Ifdef {
                name: "GUARD_H".into(),
                negated: true
            }
        );
        assert_eq!(directive("#pragma once"), Directive::Pragma("once".into()));
        assert_eq!(directive("#endif // X"), Directive::Endif);
        assert_eq!(directive("#"), Directive::Other);
    }
}
