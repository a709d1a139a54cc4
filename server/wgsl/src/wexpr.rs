//! The lowering's expressions as a tree of WGSL syntax, printed to the
//! text the module is made of.
//!
//! This is the first step of building a `naga::Module` directly (issue 19,
//! item 1; the plan is in this crate's README): values carry a tree
//! instead of text, so that later passes (a builder to naga's arenas, the
//! clamp-counting pass) read structure rather than parse strings back.
//! Constructs not yet structured are [`WExpr::Text`]; the printed text is
//! byte-identical to what the lowering wrote before, which the suites'
//! 1,956 modules check (`tests/transpile-suites/wgsl_snapshot.py`).

use std::fmt;

/// A WGSL expression.
#[derive(Clone, Debug, PartialEq)]
pub enum WExpr {
    /// WGSL text the lowering has not structured yet.
    Text(String),
    /// A name: a variable, constant, override or parameter.
    Name(String),
    /// A literal as WGSL spells it (`1u`, `2.5f`, `true`).
    Literal(String),
    /// `op operand`: `-x`, `!c`, `~b`, `&v`, `*p`.
    Unary(&'static str, Box<WExpr>),
    /// `left op right`.
    Binary(Box<WExpr>, &'static str, Box<WExpr>),
    /// `callee(args)`: a function, builtin, constructor, conversion or
    /// `bitcast<T>`.
    Call(String, Vec<WExpr>),
    /// `base[index]`.
    Index(Box<WExpr>, Box<WExpr>),
    /// `base.member`: a struct member or a swizzle.
    Member(Box<WExpr>, String),
    /// `(inner)`: parentheses where WGSL's precedence needs them.
    Paren(Box<WExpr>),
}

impl WExpr {
    pub fn name(name: impl Into<String>) -> WExpr {
        WExpr::Name(name.into())
    }

    /// A name when `text` is an identifier, a place when it is a path of
    /// one (`(*p)`, `a.b[0]`, `rows[i].v[2]`: members and indices that are
    /// names or numbers), else unstructured text (some symbols still hold
    /// an expression's text).
    pub fn ident(text: impl Into<String>) -> WExpr {
        let text = text.into();
        match place_path(&text) {
            Some(place) => place,
            None => WExpr::Text(text),
        }
    }

    /// `(*name)`: what a pointer parameter points at.
    pub fn deref(name: impl Into<String>) -> WExpr {
        WExpr::paren(WExpr::unary("*", WExpr::ident(name)))
    }

    pub fn literal(text: impl Into<String>) -> WExpr {
        WExpr::Literal(text.into())
    }

    pub fn call(callee: impl Into<String>, args: Vec<WExpr>) -> WExpr {
        WExpr::Call(callee.into(), args)
    }

    pub fn unary(op: &'static str, operand: WExpr) -> WExpr {
        WExpr::Unary(op, Box::new(operand))
    }

    pub fn binary(left: WExpr, op: &'static str, right: WExpr) -> WExpr {
        WExpr::Binary(Box::new(left), op, Box::new(right))
    }

    pub fn index(base: WExpr, index: WExpr) -> WExpr {
        WExpr::Index(Box::new(base), Box::new(index))
    }

    pub fn member(base: WExpr, member: impl Into<String>) -> WExpr {
        WExpr::Member(Box::new(base), member.into())
    }

    pub fn paren(inner: WExpr) -> WExpr {
        WExpr::Paren(Box::new(inner))
    }

    /// The length of the printed expression, and how much of it is
    /// unstructured text: the measure of how far the lowering has come
    /// (`emit::Structure`).
    pub fn text_share(&self) -> (usize, usize) {
        let mut text = 0;
        self.visit(&mut |e| {
            if let WExpr::Text(t) = e {
                text += t.len();
            }
        });
        (self.to_string().len(), text)
    }

    /// Calls `f` on this node and every node below it, parents first.
    pub fn visit(&self, f: &mut impl FnMut(&WExpr)) {
        f(self);
        match self {
            WExpr::Text(_) | WExpr::Name(_) | WExpr::Literal(_) => {}
            WExpr::Unary(_, e) | WExpr::Member(e, _) | WExpr::Paren(e) => e.visit(f),
            WExpr::Binary(l, _, r) | WExpr::Index(l, r) => {
                l.visit(f);
                r.visit(f);
            }
            WExpr::Call(_, args) => args.iter().for_each(|a| a.visit(f)),
        }
    }
}

/// Text from a site not yet structured: a name or `true`/`false` when it
/// is one, else [`WExpr::Text`].
impl From<String> for WExpr {
    fn from(text: String) -> WExpr {
        match text.as_str() {
            "true" | "false" => WExpr::Literal(text),
            t if is_number(t) => WExpr::Literal(text),
            _ => WExpr::ident(text),
        }
    }
}

/// `text` read as a place: a name or `(*name)`, then `.member` and
/// `[index]` (an index a name or a number); `None` for anything else.
fn place_path(text: &str) -> Option<WExpr> {
    fn name_at(t: &str) -> Option<(&str, &str)> {
        let end = t
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(t.len());
        let name = &t[..end];
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            .then_some((name, &t[end..]))
    }
    let (mut place, mut rest) = match text.strip_prefix("(*") {
        Some(t) => {
            let (name, rest) = name_at(t)?;
            (WExpr::deref(name), rest.strip_prefix(')')?)
        }
        None => {
            let (name, rest) = name_at(text)?;
            (WExpr::name(name), rest)
        }
    };
    while !rest.is_empty() {
        if let Some(t) = rest.strip_prefix('.') {
            let (member, after) = name_at(t)?;
            place = WExpr::member(place, member);
            rest = after;
        } else {
            let (index, after) = rest.strip_prefix('[')?.split_once(']')?;
            let index = if is_number(index) {
                WExpr::literal(index)
            } else {
                let (name, tail) = name_at(index)?;
                if !tail.is_empty() {
                    return None;
                }
                WExpr::name(name)
            };
            place = WExpr::index(place, index);
            rest = after;
        }
    }
    Some(place)
}

/// Whether `t` is a number as WGSL spells one: `3`, `-1`, `0xffu`,
/// `2.5f`, `1e-3`, `0.5h`.
fn is_number(t: &str) -> bool {
    let digits = t.strip_prefix('-').unwrap_or(t);
    let hex = digits.starts_with("0x");
    let mut previous = ' ';
    digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| {
            let ok = c.is_ascii_alphanumeric()
                || c == '.'
                || (matches!(c, '-' | '+') && !hex && matches!(previous, 'e' | 'E'));
            previous = c;
            ok
        })
}

impl From<&str> for WExpr {
    fn from(text: &str) -> WExpr {
        WExpr::from(text.to_string())
    }
}

impl fmt::Display for WExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WExpr::Text(t) | WExpr::Name(t) | WExpr::Literal(t) => f.write_str(t),
            WExpr::Unary(op, e) => write!(f, "{op}{e}"),
            WExpr::Binary(l, op, r) => write!(f, "{l} {op} {r}"),
            WExpr::Call(callee, args) => {
                write!(f, "{callee}(")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
            WExpr::Index(b, i) => write!(f, "{b}[{i}]"),
            WExpr::Member(b, m) => write!(f, "{b}.{m}"),
            WExpr::Paren(e) => write!(f, "({e})"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn symbols_as_trees() {
        assert_eq!(WExpr::ident("x"), WExpr::name("x"));
        assert_eq!(WExpr::ident("(*p)"), WExpr::deref("p"));
        assert_eq!(
            WExpr::ident("s_key[key_at_1]"),
            WExpr::index(WExpr::name("s_key"), WExpr::name("key_at_1"))
        );
        assert_eq!(
            WExpr::ident("rows[i].v[2]"),
            WExpr::index(
                WExpr::member(WExpr::index(WExpr::name("rows"), WExpr::name("i")), "v"),
                WExpr::literal("2")
            )
        );
        assert_eq!(
            WExpr::ident("(*p)[i]"),
            WExpr::index(WExpr::deref("p"), WExpr::name("i"))
        );
        for t in ["a[b][c]", "a.b[c]", "(*p)[i]", "rows[i].v[2]", "s.x"] {
            let place = WExpr::ident(t);
            assert!(!matches!(place, WExpr::Text(_)), "{t}");
            assert_eq!(place.to_string(), t);
        }
        // What is not a path stays text.
        for t in ["a[b + 1]", "f(x)", "a.", "(*p", "a[]", "1a.b"] {
            assert_eq!(WExpr::ident(t), WExpr::Text(t.into()), "{t}");
        }
    }

    #[test]
    fn numbers_from_text_are_literals() {
        for n in ["0", "-1", "0xffu", "2.5f", "1e-3", "0.5h", "7lu"] {
            assert_eq!(WExpr::from(n), WExpr::Literal(n.into()), "{n}");
        }
        for t in ["a1", "1 + 2", "x-1", "0x1-2", "(1)"] {
            assert!(!matches!(WExpr::from(t), WExpr::Literal(_)), "{t}");
        }
    }

    use super::*;

    #[test]
    fn prints_as_wgsl() {
        let i = WExpr::binary(
            WExpr::paren(WExpr::binary(
                WExpr::name("a"),
                "+",
                WExpr::Literal("1".into()),
            )),
            "*",
            WExpr::call("u32", vec![WExpr::member(WExpr::name("thread_idx"), "x")]),
        );
        let e = WExpr::index(WExpr::name("buf"), i);
        assert_eq!(e.to_string(), "buf[(a + 1) * u32(thread_idx.x)]");
        assert_eq!(e.text_share(), (32, 0));
        assert_eq!(WExpr::unary("-", "f(x)".into()).text_share(), (5, 4));
    }
}
