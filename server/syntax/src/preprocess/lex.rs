//! A small C tokenizer, enough for macro expansion and `#if` arithmetic.

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokKind {
    Ident,
    Number,
    Str,
    Char,
    Punct,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub kind: TokKind,
    pub text: String,
    /// Whitespace preceded this token (kept so re-joined text stays readable).
    pub space_before: bool,
}

impl Token {
    pub fn is(&self, punct: &str) -> bool {
        self.kind == TokKind::Punct && self.text == punct
    }
}

const PUNCTS: [&str; 48] = [
    "<<=", ">>=", "...", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "##", "::", "+", "-", "*", "/", "%", "<", ">", "=",
    "!", "~", "&", "|", "^", "?", ":", ";", ",", ".", "(", ")", "[", "]", "{", "}",
];

/// Splits `src` into tokens, dropping comments and line continuations.
pub fn tokenize(src: &str) -> Vec<Token> {
    tokenize_spans(src).into_iter().map(|(t, _)| t).collect()
}

/// [`tokenize`], with each token's bytes in `src`.
pub fn tokenize_spans(src: &str) -> Vec<(Token, Span)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut space = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' && matches!(b.get(i + 1), Some(b'\n') | Some(b'\r')) {
            i += 1;
            space = true;
            continue;
        }
        if c.is_ascii_whitespace() {
            i += 1;
            space = true;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            space = true;
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i = (i + 2).min(b.len());
            space = true;
            continue;
        }
        let start = i;
        let kind = if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            TokKind::Ident
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            while i < b.len() {
                let d = b[i];
                let exp_sign = (d == b'+' || d == b'-')
                    && i > start
                    && matches!(b[i - 1], b'e' | b'E' | b'p' | b'P')
                    && !src[start..i].starts_with("0x");
                if d.is_ascii_alphanumeric() || d == b'.' || d == b'\'' || exp_sign {
                    i += 1;
                } else {
                    break;
                }
            }
            TokKind::Number
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while i < b.len() && b[i] != c && b[i] != b'\n' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i = (i + 1).min(b.len());
            if c == b'"' {
                TokKind::Str
            } else {
                TokKind::Char
            }
        } else {
            let rest = &src[i..];
            let len = PUNCTS
                .iter()
                .find(|p| rest.starts_with(**p))
                .map(|p| p.len())
                .unwrap_or_else(|| rest.chars().next().map_or(1, char::len_utf8));
            i += len;
            TokKind::Punct
        };
        // Guard against slicing inside a multi-byte char on malformed input.
        while i < b.len() && !src.is_char_boundary(i) {
            i += 1;
        }
        let end = i.min(src.len());
        out.push((
            Token {
                kind,
                text: src[start..end].to_string(),
                space_before: space,
            },
            Span::new(start, end),
        ));
        space = false;
    }
    out
}

/// Joins tokens back into source text.
pub fn join(tokens: &[Token]) -> String {
    let mut s = String::new();
    for (k, t) in tokens.iter().enumerate() {
        if k > 0 && (t.space_before || needs_space(&tokens[k - 1], t)) {
            s.push(' ');
        }
        s.push_str(&t.text);
    }
    s
}

/// Two tokens that would fuse into a different token need a space between them.
pub(crate) fn needs_space(a: &Token, b: &Token) -> bool {
    let word = |t: &Token| matches!(t.kind, TokKind::Ident | TokKind::Number);
    (word(a) && word(b))
        || (a.kind == TokKind::Punct
            && b.kind == TokKind::Punct
            && PUNCTS.contains(&format!("{}{}", a.text, b.text).as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        let t = tokenize("a+=0x1Fu/*c*/ 1.5e-3f >>= \"s\\\"\" 'c' // x\nb");
        let texts: Vec<_> = t.iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "a",
                "+=",
                "0x1Fu",
                "1.5e-3f",
                ">>=",
                "\"s\\\"\"",
                "'c'",
                "b"
            ]
        );
        assert_eq!(join(&tokenize("a - -b")), "a - -b");
        assert_eq!(join(&tokenize("(i)*N")), "(i)*N");
    }
}
