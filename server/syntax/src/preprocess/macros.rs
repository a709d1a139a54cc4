//! Macro definitions and expansion (object-like and function-like, `#`, `##`,
//! `__VA_ARGS__`), with hide sets so recursive macros terminate and a budget so
//! exponential ones are cut off with an error instead of hanging.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::lex::{TokKind, Token, join, tokenize};
use crate::span::Span;

#[derive(Clone, Debug, PartialEq)]
pub struct MacroDef {
    pub name: String,
    /// `None` for object-like macros.
    pub params: Option<Vec<String>>,
    pub body: Vec<Token>,
    /// Where it was defined: the file (None = the main file) and the name's span there.
    pub file: Option<PathBuf>,
    pub name_span: Span,
}

impl MacroDef {
    pub fn object(name: &str, body: &str) -> Self {
        MacroDef {
            name: name.to_string(),
            params: None,
            body: tokenize(body),
            file: None,
            name_span: Span::default(),
        }
    }

    pub fn function(name: &str, params: &[&str], body: &str) -> Self {
        MacroDef {
            params: Some(params.iter().map(|p| p.to_string()).collect()),
            ..MacroDef::object(name, body)
        }
    }

    /// `NAME(a, b)` or `NAME` as the user would write it, for hovers.
    pub fn signature(&self) -> String {
        match &self.params {
            Some(p) => format!(
                "#define {}({}) {}",
                self.name,
                p.join(", "),
                join(&self.body)
            ),
            None => format!("#define {} {}", self.name, join(&self.body)),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExpandError {
    /// Expansion grew past the budget: almost always a runaway or recursive macro.
    LimitExceeded(String),
}

impl std::fmt::Display for ExpandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpandError::LimitExceeded(name) => write!(
                f,
                "macro expansion of `{name}` exceeded the expansion limit (recursive or exponential macro?)"
            ),
        }
    }
}

const MAX_EXPANSIONS: usize = 20_000;
const MAX_TOKENS: usize = 200_000;

/// The macros defined at some point of a translation unit.
#[derive(Clone, Debug, Default)]
pub struct MacroTable {
    defs: HashMap<String, Arc<MacroDef>>,
}

type HideSet = Arc<Vec<String>>;
/// A token on its way through expansion: hide set and where it stands in the source.
type Item = (Token, HideSet, Span);

struct Budget {
    expansions: usize,
    tokens: usize,
    failed: Option<String>,
}

impl MacroTable {
    pub fn define(&mut self, def: MacroDef) {
        self.defs.insert(def.name.clone(), Arc::new(def));
    }

    /// [`MacroTable::define`] for a definition the caller keeps too.
    pub fn define_shared(&mut self, def: Arc<MacroDef>) {
        self.defs.insert(def.name.clone(), def);
    }

    pub fn undef(&mut self, name: &str) {
        self.defs.remove(name);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<MacroDef>> {
        self.defs.get(name)
    }

    pub fn is_defined(&self, name: &str) -> bool {
        self.defs.contains_key(name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<MacroDef>> {
        self.defs.values()
    }

    pub fn len(&self) -> usize {
        self.defs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.defs.is_empty()
    }

    /// Fully macro-expands a token sequence.
    pub fn expand(&self, tokens: &[Token]) -> Result<Vec<Token>, ExpandError> {
        let input: Vec<(Token, Span)> = tokens
            .iter()
            .map(|t| (t.clone(), Span::default()))
            .collect();
        Ok(self
            .expand_mapped(input)?
            .into_iter()
            .map(|(t, _)| t)
            .collect())
    }

    /// Fully macro-expands tokens that carry where they were written. Each
    /// output token keeps its own span when it is an input token (also one
    /// passed through a macro argument), and takes the span of the
    /// outermost invocation (name to closing parenthesis) when a macro's
    /// replacement list produced it.
    pub fn expand_mapped(
        &self,
        tokens: Vec<(Token, Span)>,
    ) -> Result<Vec<(Token, Span)>, ExpandError> {
        let mut budget = Budget {
            expansions: 0,
            tokens: 0,
            failed: None,
        };
        let empty: HideSet = Arc::new(Vec::new());
        let input: Vec<Item> = tokens
            .into_iter()
            .map(|(t, s)| (t, empty.clone(), s))
            .collect();
        let out = self.expand_list(input, &mut budget);
        match budget.failed {
            Some(name) => Err(ExpandError::LimitExceeded(name)),
            None => Ok(out),
        }
    }

    /// Expands source text, returning the expanded text.
    pub fn expand_text(&self, text: &str) -> Result<String, ExpandError> {
        Ok(join(&self.expand(&tokenize(text))?))
    }

    fn expand_list(&self, input: Vec<Item>, budget: &mut Budget) -> Vec<(Token, Span)> {
        let mut work: std::collections::VecDeque<Item> = input.into();
        let mut out = Vec::new();
        while let Some((tok, hide, origin)) = work.pop_front() {
            if budget.failed.is_some() {
                return out;
            }
            let def = match tok.kind {
                TokKind::Ident if !hide.contains(&tok.text) => self.defs.get(&tok.text),
                _ => None,
            };
            let Some(def) = def else {
                out.push((tok, origin));
                continue;
            };
            budget.expansions += 1;
            if budget.expansions > MAX_EXPANSIONS || budget.tokens > MAX_TOKENS {
                budget.failed = Some(def.name.clone());
                return out;
            }
            let mut new_hide = (*hide).clone();
            new_hide.push(def.name.clone());
            let new_hide: HideSet = Arc::new(new_hide);
            let replacement = match &def.params {
                None => body_at(&def.body, origin),
                Some(params) => {
                    if !work.front().is_some_and(|(t, _, _)| t.is("(")) {
                        out.push((tok, origin));
                        continue;
                    }
                    let Some((args, close)) = take_args(&mut work) else {
                        // Unterminated invocation: leave the name as written.
                        out.push((tok, origin));
                        continue;
                    };
                    let invocation = Span::new(origin.start, close.end.max(origin.end));
                    self.substitute(def, params, &args, invocation, budget)
                }
            };
            budget.tokens += replacement.len();
            for (t, s) in replacement.into_iter().rev() {
                work.push_front((t, new_hide.clone(), s));
            }
            if let Some((t, _, _)) = work.front_mut() {
                t.space_before = tok.space_before;
            }
        }
        out
    }

    fn substitute(
        &self,
        def: &MacroDef,
        params: &[String],
        args: &[Vec<Item>],
        invocation: Span,
        budget: &mut Budget,
    ) -> Vec<(Token, Span)> {
        let arg_index = |name: &str| params.iter().position(|p| p == name);
        let raw_arg = |k: usize| -> Vec<(Token, Span)> {
            if params.get(k).is_some_and(|p| p == "__VA_ARGS__") {
                // The variadic parameter takes every remaining argument, commas included.
                let mut v = Vec::new();
                for (n, a) in args.iter().enumerate().skip(k) {
                    if n > k {
                        v.push((
                            Token {
                                kind: TokKind::Punct,
                                text: ",".into(),
                                space_before: false,
                            },
                            invocation,
                        ));
                    }
                    v.extend(a.iter().map(|(t, _, s)| (t.clone(), *s)));
                }
                v
            } else {
                args.get(k)
                    .map(|a| a.iter().map(|(t, _, s)| (t.clone(), *s)).collect())
                    .unwrap_or_default()
            }
        };
        let body = &def.body;
        let mut out: Vec<(Token, Span)> = Vec::new();
        let mut i = 0;
        while i < body.len() {
            let t = &body[i];
            if t.is("#")
                && let Some(k) = body.get(i + 1).and_then(|n| arg_index(&n.text))
            {
                let raw: Vec<Token> = raw_arg(k).into_iter().map(|(t, _)| t).collect();
                let s = join(&raw).replace('\\', "\\\\").replace('"', "\\\"");
                out.push((
                    Token {
                        kind: TokKind::Str,
                        text: format!("\"{s}\""),
                        space_before: t.space_before,
                    },
                    invocation,
                ));
                i += 2;
                continue;
            }
            let next_is_paste = body.get(i + 1).is_some_and(|n| n.is("##"));
            let prev_is_paste = i > 0 && body[i - 1].is("##");
            if t.is("##") {
                i += 1;
                continue;
            }
            let piece: Vec<(Token, Span)> = match arg_index(&t.text) {
                Some(k) if t.kind == TokKind::Ident => {
                    let raw = raw_arg(k);
                    if next_is_paste || prev_is_paste {
                        raw
                    } else {
                        let hs: HideSet = Arc::new(Vec::new());
                        self.expand_list(
                            raw.into_iter().map(|(t, s)| (t, hs.clone(), s)).collect(),
                            budget,
                        )
                    }
                }
                _ => vec![(t.clone(), invocation)],
            };
            if prev_is_paste && !out.is_empty() && !piece.is_empty() {
                let (left, _) = out.pop().unwrap_or_else(|| piece[0].clone());
                let glued = format!("{}{}", left.text, piece[0].0.text);
                let mut retok: Vec<(Token, Span)> = tokenize(&glued)
                    .into_iter()
                    .map(|t| (t, invocation))
                    .collect();
                if let Some((f, _)) = retok.first_mut() {
                    f.space_before = left.space_before;
                }
                out.extend(retok);
                out.extend(piece.into_iter().skip(1));
            } else {
                let mut piece = piece;
                if let Some((f, _)) = piece.first_mut() {
                    f.space_before = t.space_before;
                }
                out.extend(piece);
            }
            i += 1;
        }
        out
    }
}

/// A macro body's tokens, all placed at `at` (the invocation).
fn body_at(body: &[Token], at: Span) -> Vec<(Token, Span)> {
    body.iter().map(|t| (t.clone(), at)).collect()
}

/// Takes `( a, b, ... )` off the front of `work`, splitting at top-level
/// commas; also returns the closing parenthesis's span.
fn take_args(work: &mut std::collections::VecDeque<Item>) -> Option<(Vec<Vec<Item>>, Span)> {
    // Check it is terminated before consuming anything.
    let mut depth = 0usize;
    let mut end = None;
    for (k, (t, _, _)) in work.iter().enumerate() {
        if t.is("(") {
            depth += 1;
        } else if t.is(")") {
            depth -= 1;
            if depth == 0 {
                end = Some(k);
                break;
            }
        }
    }
    let end = end?;
    let mut taken: Vec<Item> = work.drain(..=end).collect();
    taken.remove(0);
    let close = taken.pop().map(|(_, _, s)| s).unwrap_or_default();
    let mut args = vec![Vec::new()];
    let mut depth = 0usize;
    for item in taken {
        if item.0.is("(") {
            depth += 1;
        } else if item.0.is(")") {
            depth = depth.saturating_sub(1);
        } else if item.0.is(",") && depth == 0 {
            args.push(Vec::new());
            continue;
        }
        if let Some(last) = args.last_mut() {
            last.push(item);
        }
    }
    if args.len() == 1 && args[0].is_empty() {
        args.clear();
    }
    Some((args, close))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(defs: &[(&str, Option<&[&str]>, &str)]) -> MacroTable {
        let mut t = MacroTable::default();
        for (name, params, body) in defs {
            t.define(MacroDef {
                name: name.to_string(),
                params: params.map(|p| p.iter().map(|s| s.to_string()).collect()),
                body: tokenize(body),
                file: None,
                name_span: Span::default(),
            });
        }
        t
    }

    #[test]
    fn object_and_function_like() {
        let t = table(&[
            ("N", None, "32"),
            ("IDX", Some(&["i", "j"]), "((i)*N+(j))"),
            ("F", None, "IDX"),
        ]);
        assert_eq!(t.expand_text("IDX(a+1, b)").unwrap(), "((a+1)*32+(b))");
        assert_eq!(t.expand_text("F(1,2)").unwrap(), "((1)*32+(2))");
        assert_eq!(t.expand_text("IDX").unwrap(), "IDX");
    }

    #[test]
    fn stringify_paste_and_variadic() {
        let t = table(&[
            ("S", Some(&["x"]), "#x"),
            ("CAT", Some(&["a", "b"]), "a##b"),
            ("V", Some(&["f", "__VA_ARGS__"]), "f(__VA_ARGS__)"),
        ]);
        assert_eq!(t.expand_text("S(a + b)").unwrap(), "\"a + b\"");
        assert_eq!(t.expand_text("CAT(tile, 32)").unwrap(), "tile32");
        assert_eq!(t.expand_text("V(g, 1, 2)").unwrap(), "g(1, 2)");
    }

    #[test]
    fn recursion_terminates() {
        let t = table(&[("A", None, "B + 1"), ("B", None, "A * 2")]);
        assert_eq!(t.expand_text("A").unwrap(), "A * 2 + 1");
        // Exponential growth is cut off with an error.
        let mut defs = vec![];
        let names: Vec<String> = (0..40).map(|k| format!("M{k}")).collect();
        let bodies: Vec<String> = (0..40).map(|k| format!("M{} M{}", k + 1, k + 1)).collect();
        for k in 0..40 {
            defs.push((names[k].as_str(), None, bodies[k].as_str()));
        }
        let t = table(&defs);
        assert!(t.expand_text("M0").is_err());
    }
}
