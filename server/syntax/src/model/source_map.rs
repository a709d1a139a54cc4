//! Where each token of an expanded text came from: how spans in an item's
//! preprocessed text (see `region.rs`) go back to what the user wrote.

use crate::preprocess::lex::{Token, needs_space};
use crate::span::Span;

/// Where each token of an expanded text came from.
#[derive(Debug, Default)]
pub struct SourceMap {
    /// A fingerprint of the source text the map points into (part of the
    /// cache key of what is lowered through it).
    pub(super) key: u64,
    /// In output order: the token's bytes in the expanded text, and its
    /// span in the source (for a token a macro's replacement list produced,
    /// the invocation's span).
    tokens: Vec<(u32, u32, Span)>,
    /// Per token: its source span holds exactly its text (not produced by a macro).
    verbatim: Vec<bool>,
}

impl SourceMap {
    /// The same map for a source moved by `delta` bytes.
    pub(super) fn shifted(&self, delta: isize) -> SourceMap {
        let f = |x: usize| x.saturating_add_signed(delta);
        SourceMap {
            key: self.key,
            tokens: self
                .tokens
                .iter()
                .map(|&(a, b, s)| (a, b, Span::new(f(s.start), f(s.end))))
                .collect(),
            verbatim: self.verbatim.clone(),
        }
    }

    /// The source span of the expanded bytes `range`: from the first token
    /// it touches to the last.
    pub fn span(&self, range: std::ops::Range<usize>) -> Span {
        let Some((first, last)) = self.token_range(range) else {
            return Span::default();
        };
        let (a, b) = (self.tokens[first].2, self.tokens[last].2);
        Span::new(a.start.min(b.start), a.end.max(b.end))
    }

    /// The expanded bytes `range` are all tokens the user wrote as they
    /// stand (no macro produced any of them).
    pub fn verbatim(&self, range: std::ops::Range<usize>) -> bool {
        self.token_range(range)
            .is_some_and(|(first, last)| self.verbatim[first..=last].iter().all(|v| *v))
    }

    fn token_range(&self, range: std::ops::Range<usize>) -> Option<(usize, usize)> {
        let first = self
            .tokens
            .partition_point(|t| (t.1 as usize) <= range.start);
        let end = self
            .tokens
            .partition_point(|t| (t.0 as usize) < range.end.max(range.start + 1));
        (first < end).then(|| (first, end - 1))
    }

    pub(super) fn push(
        &mut self,
        out: &mut String,
        prev: Option<&Token>,
        token: &Token,
        span: Span,
        src: &str,
    ) {
        let apart = prev.is_some_and(|p| token.space_before || needs_space(p, token));
        if apart && !out.ends_with('\n') {
            out.push(' ');
        }
        let start = out.len() as u32;
        out.push_str(&token.text);
        self.tokens.push((start, out.len() as u32, span));
        self.verbatim.push(span.text(src) == token.text);
    }
}
