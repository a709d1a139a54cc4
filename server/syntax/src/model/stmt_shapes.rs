//! Statement macros invoked over and over with literal arguments, lowered
//! once per macro: ggml's per-architecture config tables are functions of
//! hundreds of `CASE(64, 64, 8, 128, 2, true);` rows, and parsing each row's
//! expansion alone was a third of opening `ggml-cuda.cu` with its headers
//! (1,802 of 1,964 statement expansions).
//!
//! The macro is expanded once with a sentinel for each argument that is one
//! literal (a distinct number) or one plain identifier (a distinct name);
//! the lowered statement is kept, and each later invocation gets a copy
//! whose sentinels are replaced by its own arguments. That is exact because
//! the grammar sees a literal token as any other literal token, and a name
//! as any other name, in every position, and lowering does no arithmetic on
//! literals. Other arguments (a macro name, an expression) are part of the
//! shape's key as written. What would break it is refused and lowered
//! directly: `#`/`##`/`__VA_ARGS__` in the body, a name that is a macro or a
//! type, a sentinel found anywhere but where it can be replaced (in a type
//! or a declared name), a launch or a diagnostic while lowering. Only header
//! code takes this path (the main file's expansions keep their own notes).

use std::sync::Arc;

use super::builder::{Builder, Cx};
use crate::ir::{Expr, ExprKind, Stmt, StmtKind};
use crate::preprocess::lex::{self, TokKind, Token};
use crate::span::Span;

/// Sentinel `i` is `SENTINEL_BASE + i`: an `int` no real table holds.
const SENTINEL_BASE: i64 = 1_999_999_000;
const MAX_ARGS: usize = 64;
/// Shapes kept per build, at most.
const MAX_SHAPES: usize = 1024;

/// How one argument takes part in a shape.
#[derive(Clone)]
enum ArgClass {
    /// One number or `true`/`false`: a sentinel number.
    Literal,
    /// One name that is no macro or type: a sentinel name.
    Name,
    /// Anything else, as written.
    Fixed(String),
}

const SENTINEL_NAME: &str = "__cudalens_shape_arg";

/// Words the grammar does not read as a name, besides C's type keywords.
const KEYWORDS: &[&str] = &[
    "this",
    "nullptr",
    "sizeof",
    "alignof",
    "decltype",
    "typename",
    "template",
    "static",
    "auto",
    "class",
    "union",
    "enum",
    "return",
    "if",
    "else",
    "for",
    "while",
    "do",
    "switch",
    "case",
    "default",
    "break",
    "continue",
    "goto",
    "new",
    "delete",
    "operator",
    "throw",
    "noexcept",
    "constexpr",
    "static_assert",
    "__restrict__",
    "__shared__",
    "__device__",
    "__global__",
    "__host__",
    "__constant__",
    "threadIdx",
    "blockIdx",
    "blockDim",
    "gridDim",
];

impl Builder<'_> {
    /// The invocation `text` lowered through its macro's cached shape, or
    /// `None` when it must be lowered directly (see the module documentation).
    pub(super) fn expand_stmt_by_shape(&mut self, cx: &Cx, text: &str, span: Span) -> Option<Stmt> {
        if cx.is_main() || cx.origin.is_some() {
            return None;
        }
        let tokens = lex::tokenize(text);
        let (name, args) = invocation(&tokens)?;
        let def = self.macros.get(name)?.clone();
        let params = def.params.as_ref()?;
        if params.len() != args.len()
            || def
                .body
                .iter()
                .any(|t| t.is("#") || t.is("##") || t.text == "__VA_ARGS__")
        {
            return None;
        }
        let classes: Vec<ArgClass> = args
            .iter()
            .map(|a| self.arg_class(&tokens[a.clone()]))
            .collect();
        if classes.iter().all(|c| matches!(c, ArgClass::Fixed(_))) {
            return None;
        }
        // What the shape's lowering depends on besides the arguments: the
        // definition (by identity: a redefinition is a new shape), the
        // macros in force (the body may use others), the types declared so
        // far (casts and `sizeof` consult them) and how each argument takes
        // part (as a string, a line per argument: the builder's table holds no
        // type of this room).
        let mut key = format!(
            "{:x}|{:x}|{}",
            Arc::as_ptr(&def) as usize,
            self.macro_hash,
            self.model.types.known_count()
        );
        for class in &classes {
            match class {
                ArgClass::Literal => key.push_str("\nL"),
                ArgClass::Name => key.push_str("\nN"),
                ArgClass::Fixed(text) => {
                    key.push_str("\nF:");
                    key.push_str(text);
                }
            }
        }
        let shape = match self.stmt_shapes.get(&key) {
            Some(known) => known.clone()?,
            None => {
                let shape = self.lower_shape(cx, &tokens, &args, &classes, span);
                if self.stmt_shapes.len() < MAX_SHAPES {
                    self.stmt_shapes.insert(key, shape.clone());
                }
                shape?
            }
        };
        let values: Vec<Option<(String, Expr)>> = args
            .iter()
            .zip(&classes)
            .map(|(a, class)| {
                let text = tokens[a.start].text.clone();
                let kind = match class {
                    ArgClass::Fixed(_) => return None,
                    ArgClass::Name => ExprKind::Ident(text.clone()),
                    ArgClass::Literal => match text.as_str() {
                        "true" => ExprKind::Bool(true),
                        "false" => ExprKind::Bool(false),
                        _ => super::lower::number(&text),
                    },
                };
                let mut e = Expr::new(kind, span);
                e.from_macro = true;
                Some((text, e))
            })
            .collect();
        let mut stmt = shape;
        stmt.set_span_everywhere(span);
        substitute(&mut stmt, &values);
        Some(stmt)
    }

    fn arg_class(&self, arg: &[Token]) -> ArgClass {
        if let [t] = arg {
            let literal = t.kind == TokKind::Number
                || t.kind == TokKind::Ident && matches!(t.text.as_str(), "true" | "false");
            if literal {
                return ArgClass::Literal;
            }
            let plain_name = t.kind == TokKind::Ident
                && !t.text.starts_with(SENTINEL_NAME)
                && !self.macros.is_defined(&t.text)
                && !self.model.types.structs.contains_key(&t.text)
                && !self.model.types.aliases.contains_key(&t.text)
                && crate::types::builtin_layout(&t.text).is_none()
                && !KEYWORDS.contains(&t.text.as_str())
                && !crate::types::C_TYPE_KEYWORDS.contains(&t.text.as_str());
            if plain_name {
                return ArgClass::Name;
            }
        }
        ArgClass::Fixed(joined(arg))
    }

    /// The statement with sentinels for arguments, if it is reusable.
    fn lower_shape(
        &mut self,
        cx: &Cx,
        tokens: &[Token],
        args: &[std::ops::Range<usize>],
        classes: &[ArgClass],
        span: Span,
    ) -> Option<Stmt> {
        let mut sentinel_tokens = tokens.to_vec();
        for (i, (a, class)) in args.iter().zip(classes).enumerate() {
            let t = &mut sentinel_tokens[a.start];
            match class {
                ArgClass::Literal => {
                    t.text = sentinel_number(i).to_string();
                    t.kind = TokKind::Number;
                }
                ArgClass::Name => t.text = format!("{SENTINEL_NAME}{i}"),
                ArgClass::Fixed(_) => {}
            }
        }
        let text = joined(&sentinel_tokens);
        let before = (
            self.model.diagnostics.len(),
            self.launches_lowered,
            self.nesting_refusals,
        );
        let stmt = self.expand_stmt_directly(cx, &text, span);
        let after = (
            self.model.diagnostics.len(),
            self.launches_lowered,
            self.nesting_refusals,
        );
        (before == after && sentinels_replaceable(&stmt, classes)).then_some(stmt)
    }
}

fn sentinel_number(i: usize) -> i64 {
    SENTINEL_BASE + i as i64
}

/// `NAME ( arg , arg ... )`: the name and each argument's token range.
fn invocation(tokens: &[Token]) -> Option<(&str, Vec<std::ops::Range<usize>>)> {
    let (first, rest) = tokens.split_first()?;
    if first.kind != TokKind::Ident || !rest.first()?.is("(") || !tokens.last()?.is(")") {
        return None;
    }
    let mut args = Vec::new();
    let (mut depth, mut start) = (0usize, 2usize);
    for (i, t) in tokens.iter().enumerate().take(tokens.len() - 1).skip(2) {
        if t.is("(") || t.is("[") || t.is("{") {
            depth += 1;
        } else if t.is(")") || t.is("]") || t.is("}") {
            depth = depth.checked_sub(1)?;
        } else if t.is(",") && depth == 0 {
            args.push(start..i);
            start = i + 1;
        }
    }
    args.push(start..tokens.len() - 1);
    if depth != 0 || args.len() > MAX_ARGS || args.iter().any(|a| a.is_empty()) {
        return None;
    }
    Some((first.text.as_str(), args))
}

/// Tokens back to text, one space where the source had whitespace.
fn joined(tokens: &[Token]) -> String {
    let mut out = String::new();
    for t in tokens {
        if t.space_before && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&t.text);
    }
    out
}

fn sentinel_index(value: i64, args: usize) -> Option<usize> {
    let i = value.checked_sub(SENTINEL_BASE)?;
    usize::try_from(i).ok().filter(|&i| i < args)
}

fn sentinel_name_index(name: &str, args: usize) -> Option<usize> {
    name.strip_prefix(SENTINEL_NAME)?
        .parse::<usize>()
        .ok()
        .filter(|&i| i < args)
}

/// Every sentinel in the statement stands where [`substitute`] replaces it:
/// as a whole number or name expression, or in the text of what was not
/// lowered. Counted in the statement's debug text, which shows every place
/// a sentinel could hide (a type's name, a declared name, a member).
fn sentinels_replaceable(stmt: &Stmt, classes: &[ArgClass]) -> bool {
    let (mut replaceable, mut large) = (0usize, true);
    stmt.walk_exprs(&mut |e| match &e.kind {
        ExprKind::Int { value, .. } => {
            if sentinel_index(*value, classes.len()).is_some() {
                replaceable += 1;
            } else if value.unsigned_abs() >= SENTINEL_BASE as u64 / 2 {
                large = false;
            }
        }
        ExprKind::Ident(n) if sentinel_name_index(n, classes.len()).is_some() => replaceable += 1,
        // `(type_) && J` reads as a cast for any name: the same for each.
        ExprKind::Cast { ty, .. } if sentinel_name_index(&ty.base, classes.len()).is_some() => {
            replaceable += 1
        }
        ExprKind::Unknown(text) => replaceable += sentinel_mentions(text),
        _ => {}
    });
    stmt.walk(&mut |s| {
        if let StmtKind::Unknown(text) = &s.kind {
            replaceable += sentinel_mentions(text);
        }
    });
    large && sentinel_mentions(&format!("{stmt:?}")) == replaceable
}

/// Sentinel numbers and names in `text`.
fn sentinel_mentions(text: &str) -> usize {
    text.matches(&SENTINEL_BASE.to_string()[..7]).count() + text.matches(SENTINEL_NAME).count()
}

/// `text` with each sentinel (a whole number or name) replaced by its
/// argument's text, in one pass; `None` when it holds none. (A pass per
/// argument, on every row of ggml's 1,802 config rows, was a tenth of an
/// open.)
fn replace_sentinels(text: &str, args: &[Option<(String, Expr)>]) -> Option<String> {
    let b = text.as_bytes();
    let word = |i: usize| {
        b.get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        let starts_word = i == 0 || !word(i - 1);
        let name = starts_word && text[i..].starts_with(SENTINEL_NAME);
        let number = starts_word && b[i].is_ascii_digit();
        if !(name || number) {
            i += 1;
            continue;
        }
        let digits_from = if name { i + SENTINEL_NAME.len() } else { i };
        let mut end = digits_from;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        let index = if word(end) || end == digits_from {
            None
        } else if name {
            text[digits_from..end]
                .parse::<usize>()
                .ok()
                .filter(|&k| k < args.len())
        } else {
            text[i..end]
                .parse::<i64>()
                .ok()
                .and_then(|v| sentinel_index(v, args.len()))
        };
        if let Some(Some((written, _))) = index.map(|k| &args[k]) {
            out.push_str(&text[copied..i]);
            out.push_str(written);
            copied = end;
        }
        i = end.max(i + 1);
    }
    (copied > 0).then(|| {
        out.push_str(&text[copied..]);
        out
    })
}

/// Puts each argument where its sentinel stands, in expressions and in the
/// text of what was not lowered (`static_assert`, kept as written).
fn substitute(stmt: &mut Stmt, args: &[Option<(String, Expr)>]) {
    let replace_text = |text: &mut String| {
        if let Some(replaced) = replace_sentinels(text, args) {
            *text = replaced;
        }
    };
    stmt.walk_mut(&mut |s| {
        if let StmtKind::Unknown(text) = &mut s.kind {
            replace_text(text);
        }
    });
    stmt.walk_exprs_mut(&mut |e| {
        let index = match &mut e.kind {
            ExprKind::Int { value, .. } => sentinel_index(*value, args.len()),
            ExprKind::Ident(n) => sentinel_name_index(n, args.len()),
            ExprKind::Cast { ty, .. } => {
                if let Some(Some((written, _))) =
                    sentinel_name_index(&ty.base, args.len()).map(|i| &args[i])
                {
                    ty.base = written.clone();
                }
                None
            }
            ExprKind::Unknown(text) => {
                replace_text(text);
                None
            }
            _ => None,
        };
        if let Some(Some((_, value))) = index.map(|i| &args[i]) {
            *e = value.clone();
        }
    });
}
