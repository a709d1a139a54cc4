//! Integer constant expressions of `#if`/`#elif`: `defined`, the C operators,
//! and the C rule that unknown identifiers are 0.

use super::lex::{TokKind, Token, tokenize};
use super::macros::MacroTable;

/// Evaluates a `#if` condition with the macros defined at that point;
/// `__has_include` is false.
pub fn eval_condition(text: &str, macros: &MacroTable) -> Result<bool, String> {
    eval_condition_with(text, macros, &|_, _| false)
}

/// Evaluates a `#if` condition; `has_include(name, system)` answers
/// `__has_include("name")` / `__has_include(<name>)`.
pub fn eval_condition_with(
    text: &str,
    macros: &MacroTable,
    has_include: &dyn Fn(&str, bool) -> bool,
) -> Result<bool, String> {
    let tokens = resolve_operators(&tokenize(text), macros, has_include);
    let expanded = macros.expand(&tokens).map_err(|e| e.to_string())?;
    let mut p = Parser {
        toks: &expanded,
        pos: 0,
    };
    let v = p.ternary()?;
    if p.pos < p.toks.len() {
        return Err(format!(
            "unexpected `{}` in preprocessor condition",
            p.toks[p.pos].text
        ));
    }
    Ok(v != 0)
}

/// Evaluates an integer constant expression written in code (a template
/// argument such as `2 * KERNEL_RADIUS` or `n_threads_reduction / 2`):
/// macros expanded, every other name through `constant`. Unlike `#if`, a
/// name with no value makes the whole expression unknown (`None`), never 0.
pub fn eval_constant(
    text: &str,
    macros: &MacroTable,
    constant: &dyn Fn(&str) -> Option<i128>,
) -> Option<i128> {
    let expanded = macros.expand(&tokenize(text)).ok()?;
    let mut toks = Vec::with_capacity(expanded.len());
    for t in expanded {
        if t.kind != TokKind::Ident || matches!(t.text.as_str(), "true" | "false") {
            toks.push(t);
            continue;
        }
        let v = constant(&t.text)?;
        let tok = |kind, text: String| Token {
            kind,
            text,
            ..t.clone()
        };
        // A negative value as `(0 - n)`: the parser reads no signed literal.
        if v < 0 {
            toks.push(tok(TokKind::Punct, "(".into()));
            toks.push(tok(TokKind::Number, "0".into()));
            toks.push(tok(TokKind::Punct, "-".into()));
            toks.push(tok(TokKind::Number, v.unsigned_abs().to_string()));
            toks.push(tok(TokKind::Punct, ")".into()));
        } else {
            toks.push(tok(TokKind::Number, v.to_string()));
        }
    }
    let mut p = Parser {
        toks: &toks,
        pos: 0,
    };
    let v = p.ternary().ok()?;
    (p.pos == p.toks.len()).then_some(v)
}

/// Queries about the compiler that `#if` may ask. cudalens models no host
/// compiler's attribute or builtin tables, so they answer 0 (the portable
/// fallback branch), while `defined(__has_attribute)` is 1 as on gcc and clang.
const COMPILER_QUERIES: [&str; 7] = [
    "__has_attribute",
    "__has_cpp_attribute",
    "__has_builtin",
    "__has_feature",
    "__has_extension",
    "__has_declspec_attribute",
    "__has_warning",
];

/// Replaces `defined X`, `defined(X)`, `__has_include(...)` and the compiler
/// queries by numbers before expansion, as the standard says for `defined`
/// (an argument such as `<cuda_fp16.h>` must not be macro-expanded).
fn resolve_operators(
    toks: &[Token],
    macros: &MacroTable,
    has_include: &dyn Fn(&str, bool) -> bool,
) -> Vec<Token> {
    let number = |v: bool| Token {
        kind: TokKind::Number,
        text: if v { "1" } else { "0" }.into(),
        space_before: true,
    };
    let is_operator = |name: &str| {
        matches!(name, "__has_include" | "__has_include_next") || COMPILER_QUERIES.contains(&name)
    };
    let mut out = Vec::with_capacity(toks.len());
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t.kind == TokKind::Ident && t.text == "defined" {
            let (name, skip) = if toks.get(i + 1).is_some_and(|t| t.is("(")) {
                (toks.get(i + 2), 4)
            } else {
                (toks.get(i + 1), 2)
            };
            if let Some(name) = name {
                out.push(number(
                    macros.is_defined(&name.text) || is_operator(&name.text),
                ));
                i += skip;
                continue;
            }
        }
        if t.kind == TokKind::Ident
            && is_operator(&t.text)
            && toks.get(i + 1).is_some_and(|t| t.is("("))
        {
            // The argument runs to the matching `)`.
            let mut depth = 0;
            let mut end = i + 1;
            while end < toks.len() {
                if toks[end].is("(") {
                    depth += 1;
                } else if toks[end].is(")") {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                end += 1;
            }
            let arg = &toks[(i + 2).min(end)..end.min(toks.len())];
            let value = if t.text.starts_with("__has_include") {
                match arg {
                    [s] if s.kind == TokKind::Str => has_include(s.text.trim_matches('"'), false),
                    [open, inner @ .., close] if open.is("<") && close.is(">") => {
                        let name: String = inner.iter().map(|t| t.text.as_str()).collect();
                        has_include(&name, true)
                    }
                    _ => false,
                }
            } else {
                false
            };
            out.push(number(value));
            i = end + 1;
            continue;
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

/// Parses a C integer literal (decimal, hex, octal, binary, digit separators, suffixes).
pub fn parse_int_literal(text: &str) -> Option<i128> {
    let t: String = text.chars().filter(|&c| c != '\'').collect();
    let t = t.trim_end_matches(['u', 'U', 'l', 'L', 'z', 'Z']);
    let (digits, radix) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (h, 16)
    } else if let Some(b) = t.strip_prefix("0b").or_else(|| t.strip_prefix("0B")) {
        (b, 2)
    } else if t.len() > 1 && t.starts_with('0') {
        (&t[1..], 8)
    } else {
        (t, 10)
    };
    if digits.is_empty() {
        return if radix == 8 { Some(0) } else { None };
    }
    i128::from_str_radix(digits, radix).ok()
}

/// The value of a character literal such as `'a'` or `'\n'`.
pub fn parse_char_literal(text: &str) -> Option<i128> {
    let inner = text
        .trim_start_matches(['L', 'u', 'U', '8'])
        .strip_prefix('\'')?
        .strip_suffix('\'')?;
    let mut chars = inner.chars();
    let c = chars.next()?;
    if c != '\\' {
        return Some(c as i128);
    }
    let e = chars.next()?;
    Some(match e {
        'n' => 10,
        't' => 9,
        'r' => 13,
        '0' => 0,
        'a' => 7,
        'b' => 8,
        'f' => 12,
        'v' => 11,
        'x' => i128::from_str_radix(chars.as_str(), 16).ok()?,
        other => other as i128,
    })
}

struct Parser<'a> {
    toks: &'a [Token],
    pos: usize,
}

fn binary_prec(op: &str) -> Option<u8> {
    Some(match op {
        "||" => 1,
        "&&" => 2,
        "|" => 3,
        "^" => 4,
        "&" => 5,
        "==" | "!=" => 6,
        "<" | ">" | "<=" | ">=" => 7,
        "<<" | ">>" => 8,
        "+" | "-" => 9,
        "*" | "/" | "%" => 10,
        _ => return None,
    })
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn ternary(&mut self) -> Result<i128, String> {
        let c = self.binary(1)?;
        if self.peek().is_some_and(|t| t.is("?")) {
            self.pos += 1;
            let a = self.ternary()?;
            if !self.peek().is_some_and(|t| t.is(":")) {
                return Err("expected `:` in conditional expression".into());
            }
            self.pos += 1;
            let b = self.ternary()?;
            return Ok(if c != 0 { a } else { b });
        }
        Ok(c)
    }

    fn binary(&mut self, min_prec: u8) -> Result<i128, String> {
        let mut lhs = self.unary()?;
        while let Some(t) = self.peek() {
            let Some(prec) = (t.kind == TokKind::Punct)
                .then(|| binary_prec(&t.text))
                .flatten()
            else {
                break;
            };
            if prec < min_prec {
                break;
            }
            let op = t.text.clone();
            self.pos += 1;
            let rhs = self.binary(prec + 1)?;
            lhs = apply_binary(&op, lhs, rhs)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<i128, String> {
        let Some(t) = self.peek().cloned() else {
            return Err("unexpected end of preprocessor condition".into());
        };
        self.pos += 1;
        match (t.kind, t.text.as_str()) {
            (TokKind::Punct, "!") => Ok((self.unary()? == 0) as i128),
            (TokKind::Punct, "~") => Ok(!self.unary()?),
            (TokKind::Punct, "-") => Ok(self.unary()?.wrapping_neg()),
            (TokKind::Punct, "+") => self.unary(),
            (TokKind::Punct, "(") => {
                let v = self.ternary()?;
                if !self.peek().is_some_and(|t| t.is(")")) {
                    return Err("expected `)` in preprocessor condition".into());
                }
                self.pos += 1;
                Ok(v)
            }
            (TokKind::Number, s) => {
                parse_int_literal(s).ok_or_else(|| format!("`{s}` is not an integer constant"))
            }
            (TokKind::Char, s) => {
                parse_char_literal(s).ok_or_else(|| format!("bad character literal {s}"))
            }
            (TokKind::Ident, "true") => Ok(1),
            // C: identifiers left after expansion are 0; a call of an unknown
            // function-like macro (e.g. __has_include) is 0 too.
            (TokKind::Ident, _) => {
                if self.peek().is_some_and(|t| t.is("(")) {
                    let mut depth = 0;
                    while let Some(t) = self.peek().cloned() {
                        self.pos += 1;
                        if t.is("(") {
                            depth += 1;
                        } else if t.is(")") {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                    }
                }
                Ok(0)
            }
            _ => Err(format!("unexpected `{}` in preprocessor condition", t.text)),
        }
    }
}

fn apply_binary(op: &str, a: i128, b: i128) -> Result<i128, String> {
    Ok(match op {
        "||" => (a != 0 || b != 0) as i128,
        "&&" => (a != 0 && b != 0) as i128,
        "|" => a | b,
        "^" => a ^ b,
        "&" => a & b,
        "==" => (a == b) as i128,
        "!=" => (a != b) as i128,
        "<" => (a < b) as i128,
        ">" => (a > b) as i128,
        "<=" => (a <= b) as i128,
        ">=" => (a >= b) as i128,
        "<<" => a.checked_shl(b.clamp(0, 127) as u32).unwrap_or(0),
        ">>" => a >> b.clamp(0, 127),
        "+" => a.wrapping_add(b),
        "-" => a.wrapping_sub(b),
        "*" => a.wrapping_mul(b),
        "/" | "%" if b == 0 => return Err("division by zero in preprocessor condition".into()),
        "/" => a.wrapping_div(b),
        "%" => a.wrapping_rem(b),
        _ => return Err(format!("unknown operator `{op}`")),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn constant_expressions_of_code_know_every_name_or_nothing() {
        let mut m = MacroTable::default();
        m.define(crate::preprocess::macros::MacroDef::object(
            "KERNEL_RADIUS",
            "8",
        ));
        let consts = |n: &str| (n == "n_threads").then_some(-256);
        assert_eq!(
            eval_constant("2 * KERNEL_RADIUS + 1", &m, &consts),
            Some(17)
        );
        assert_eq!(eval_constant("n_threads / 2", &m, &consts), Some(-128));
        assert_eq!(eval_constant("unknown_name / 2", &m, &consts), None);
    }

    use super::*;
    use crate::preprocess::macros::MacroDef;

    #[test]
    fn conditions() {
        let mut m = MacroTable::default();
        m.define(MacroDef::object("BAR", "3"));
        m.define(MacroDef::object("FOO", ""));
        let ev = |s: &str| eval_condition(s, &m);
        assert_eq!(ev("defined(FOO) && BAR > 2"), Ok(true));
        assert_eq!(ev("defined BAZ || BAR == 4"), Ok(false));
        assert_eq!(ev("(1 << 4) + 0x10 - 010 == 24 ? 1 : 0"), Ok(true));
        assert_eq!(ev("UNKNOWN"), Ok(false));
        assert_eq!(ev("__has_include(<x.h>)"), Ok(false));
        assert_eq!(
            ev("defined(__has_include) && !__has_attribute(noinline)"),
            Ok(true)
        );
        let found = |name: &str, system: bool| name == "cuda/std/cstdint" && system;
        let ev_with = |s: &str| eval_condition_with(s, &m, &found);
        assert_eq!(ev_with("__has_include(<cuda/std/cstdint>)"), Ok(true));
        assert_eq!(ev_with("__has_include(\"cuda/std/cstdint\")"), Ok(false));
        assert_eq!(ev("'a' == 97 && 100000000000ULL > 1"), Ok(true));
        assert!(ev("1 / 0").is_err());
        assert!(ev("1 +").is_err());
        assert!(ev("(1").is_err());
    }
}
