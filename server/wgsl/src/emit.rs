//! The statement tree the lowering produces and its pretty-printer: one
//! statement per line, four-space indentation, braces on the header line.

use crate::bindings::SourceLine;
use crate::wexpr::WExpr;

/// A WGSL statement. Its expressions are trees ([`WExpr`]).
#[derive(Clone, Debug, PartialEq)]
pub enum WStmt {
    /// `keyword name[: ty][ = init];`, the keyword `let`, `var` or `const`.
    Decl {
        keyword: &'static str,
        name: String,
        ty: Option<String>,
        init: Option<WExpr>,
    },
    /// `target op value;`, `op` being `=` or a compound assignment (`+=`).
    Assign {
        target: WExpr,
        op: &'static str,
        value: WExpr,
    },
    /// A call whose result is not used: `f(x);`.
    Eval(WExpr),
    /// `_ = value;`: a value evaluated and dropped.
    Phony(WExpr),
    /// `return[ value];`
    Return(Option<WExpr>),
    Break,
    Continue,
    /// `break if cond;` (the last statement of a `continuing` block).
    BreakIf(WExpr),
    /// `target++;` or `target--;`.
    Increment {
        target: WExpr,
        op: &'static str,
    },
    /// `for (init; cond; step) { body }`, each header piece optional.
    For {
        init: Option<Box<WStmt>>,
        cond: Option<WExpr>,
        step: Option<Box<WStmt>>,
        body: Vec<WStmt>,
    },
    /// `while (cond) { body }`.
    While {
        cond: WExpr,
        body: Vec<WStmt>,
    },
    /// `// text`
    Comment(String),
    /// A simple statement with a note after it on its line:
    /// `var c: i32 = 0; // 8-bit signed`.
    Noted(Box<WStmt>, String),
    /// `{ body }`, `loop { body }` or `continuing { body }` (the last
    /// statement of a `loop`).
    Block(BlockKind, Vec<WStmt>),
    If {
        cond: WExpr,
        then: Vec<WStmt>,
        els: Vec<WStmt>,
    },
    /// `switch (selector) { case ...: { } }`; each arm: (selectors text, body).
    Switch {
        selector: WExpr,
        arms: Vec<(String, Vec<WStmt>)>,
    },
    /// Where the statements after it come from in the CUDA source: prints
    /// and builds nothing; the printer records it for the sidecar's source
    /// map.
    Origin(SourceLine),
}

/// Which braced block a [`WStmt::Block`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    Bare,
    Loop,
    Continuing,
}

impl BlockKind {
    /// The keyword before its brace.
    fn keyword(self) -> &'static str {
        match self {
            BlockKind::Bare => "",
            BlockKind::Loop => "loop",
            BlockKind::Continuing => "continuing",
        }
    }
}

impl WStmt {
    /// This statement with `note` after it on its line.
    pub fn noted(self, note: impl Into<String>) -> WStmt {
        WStmt::Noted(Box::new(self), note.into())
    }

    /// A simple statement's text without its `;` (for a `for` header),
    /// `None` for compound statements and comments.
    pub fn simple_text(&self) -> Option<String> {
        let mut text = String::new();
        match self {
            // Its note would comment out the rest of a `for` header.
            WStmt::Noted(..) => return None,
            WStmt::Block(..)
            | WStmt::If { .. }
            | WStmt::Switch { .. }
            | WStmt::For { .. }
            | WStmt::While { .. }
            | WStmt::Comment(_)
            | WStmt::Origin(_) => {
                return None;
            }
            _ => {
                print_block(&mut text, std::slice::from_ref(self), 0);
            }
        }
        Some(text.trim_end().trim_end_matches(';').to_string())
    }

    /// Whether this declares a name (`let`, `var`, `const`).
    pub fn declares(&self) -> bool {
        match self {
            WStmt::Decl { .. } => true,
            WStmt::Noted(s, _) => s.declares(),
            _ => false,
        }
    }

    /// This statement with `f` applied to each of its expressions (the
    /// outermost ones: `f` recurses into them itself), in nested
    /// statements too.
    pub fn map_exprs(&self, f: &mut impl FnMut(&WExpr) -> WExpr) -> WStmt {
        let block = |b: &[WStmt], f: &mut _| b.iter().map(|s| s.map_exprs(f)).collect();
        match self {
            WStmt::Decl {
                keyword,
                name,
                ty,
                init,
            } => WStmt::Decl {
                keyword,
                name: name.clone(),
                ty: ty.clone(),
                init: init.as_ref().map(&mut *f),
            },
            WStmt::Assign { target, op, value } => WStmt::Assign {
                target: f(target),
                op,
                value: f(value),
            },
            WStmt::Eval(e) => WStmt::Eval(f(e)),
            WStmt::Phony(e) => WStmt::Phony(f(e)),
            WStmt::Return(e) => WStmt::Return(e.as_ref().map(&mut *f)),
            WStmt::BreakIf(e) => WStmt::BreakIf(f(e)),
            WStmt::Increment { target, op } => WStmt::Increment {
                target: f(target),
                op,
            },
            WStmt::Break | WStmt::Continue | WStmt::Comment(_) | WStmt::Origin(_) => self.clone(),
            WStmt::For {
                init,
                cond,
                step,
                body,
            } => WStmt::For {
                init: init.as_ref().map(|s| Box::new(s.map_exprs(f))),
                cond: cond.as_ref().map(&mut *f),
                step: step.as_ref().map(|s| Box::new(s.map_exprs(f))),
                body: block(body, f),
            },
            WStmt::While { cond, body } => WStmt::While {
                cond: f(cond),
                body: block(body, f),
            },
            WStmt::Noted(s, note) => WStmt::Noted(Box::new(s.map_exprs(f)), note.clone()),
            WStmt::Block(kind, body) => WStmt::Block(*kind, block(body, f)),
            WStmt::If { cond, then, els } => WStmt::If {
                cond: f(cond),
                then: block(then, f),
                els: block(els, f),
            },
            WStmt::Switch { selector, arms } => WStmt::Switch {
                selector: f(selector),
                arms: arms
                    .iter()
                    .map(|(labels, body)| (labels.clone(), block(body, f)))
                    .collect(),
            },
        }
    }

    /// `let name = value;`
    pub fn let_(name: impl Into<String>, value: WExpr) -> WStmt {
        WStmt::decl("let", name, None, Some(value))
    }

    pub fn decl(
        keyword: &'static str,
        name: impl Into<String>,
        ty: Option<String>,
        init: Option<WExpr>,
    ) -> WStmt {
        WStmt::Decl {
            keyword,
            name: name.into(),
            ty,
            init,
        }
    }

    pub fn assign(target: WExpr, value: WExpr) -> WStmt {
        WStmt::Assign {
            target,
            op: "=",
            value,
        }
    }
}

/// How much of the lowering's expressions are trees rather than text, over
/// the function bodies of one module (every statement is a tree; an
/// expression may still hold text a symbol carries, which the direct
/// build refuses), and how the module built directly compared.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Structure {
    pub statements: usize,
    /// Bytes of the structured statements' expressions, printed, and how
    /// many of them come from unstructured text inside those trees.
    pub expression_bytes: usize,
    pub expression_text_bytes: usize,
    /// Kernels (0 or 1 each here) whose module built directly
    /// (`build.rs`) prints exactly as the module parsed from their text,
    /// prints differently, is refused by naga's validator, or could not
    /// be built.
    pub built_same: usize,
    pub built_differs: usize,
    pub built_invalid: usize,
    pub not_built: usize,
}

impl Structure {
    /// Adds the statements of `stmts` and everything they contain.
    pub fn count(&mut self, stmts: &[WStmt]) {
        for s in stmts {
            if matches!(s, WStmt::Comment(_) | WStmt::Origin(_)) {
                continue;
            }
            if let WStmt::Noted(inner, _) = s {
                self.count(std::slice::from_ref(&**inner));
                continue;
            }
            self.statements += 1;
            let mut expr = |e: &WExpr| {
                let (bytes, text) = e.text_share();
                self.expression_bytes += bytes;
                self.expression_text_bytes += text;
            };
            match s {
                WStmt::Comment(_) | WStmt::Noted(..) | WStmt::Origin(_) => {} // skipped above
                WStmt::Eval(e)
                | WStmt::Phony(e)
                | WStmt::BreakIf(e)
                | WStmt::Increment { target: e, .. }
                | WStmt::Decl { init: Some(e), .. }
                | WStmt::Return(Some(e)) => expr(e),
                WStmt::Decl { init: None, .. }
                | WStmt::Return(None)
                | WStmt::Break
                | WStmt::Continue => {}
                WStmt::Assign { target, value, .. } => {
                    expr(target);
                    expr(value);
                }
                WStmt::Block(_, body) => self.count(body),
                WStmt::If { cond, then, els } => {
                    expr(cond);
                    self.count(then);
                    self.count(els);
                }
                WStmt::For {
                    init,
                    cond,
                    step,
                    body,
                } => {
                    if let Some(c) = cond {
                        expr(c);
                    }
                    // The header's statements are counted as statements.
                    for piece in [init, step].into_iter().flatten() {
                        self.count(std::slice::from_ref(&**piece));
                    }
                    self.count(body);
                }
                WStmt::While { cond, body } => {
                    expr(cond);
                    self.count(body);
                }
                WStmt::Switch { selector, arms } => {
                    expr(selector);
                    arms.iter().for_each(|(_, body)| self.count(body));
                }
            }
        }
    }

    /// Whether any statement or expression counted is still text.
    pub fn holds_text(&self) -> bool {
        self.expression_text_bytes > 0
    }
}

/// Appends `stmts` at `depth` levels of indentation.
pub fn print_block(out: &mut String, stmts: &[WStmt], depth: usize) {
    print_block_mapped(out, stmts, depth);
}

/// Appends `stmts` as [`print_block`] does; returns the [`WStmt::Origin`]s
/// met, each at the byte of `out` where the code it describes starts.
pub fn print_block_mapped(
    out: &mut String,
    stmts: &[WStmt],
    depth: usize,
) -> Vec<(usize, SourceLine)> {
    let mut p = Printer {
        out,
        origins: Vec::new(),
    };
    p.block(stmts, depth);
    p.origins
}

struct Printer<'a> {
    out: &'a mut String,
    origins: Vec<(usize, SourceLine)>,
}

impl Printer<'_> {
    fn block(&mut self, stmts: &[WStmt], depth: usize) {
        for s in stmts {
            print_stmt(self, s, depth);
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

fn print_stmt(p: &mut Printer, s: &WStmt, depth: usize) {
    match s {
        WStmt::Noted(inner, note) => {
            print_stmt(p, inner, depth);
            if p.out.ends_with('\n') {
                p.out.pop();
            }
            p.out.push_str(&format!(" // {note}\n"));
        }
        WStmt::Origin(at) => p.origins.push((p.out.len(), at.clone())),
        WStmt::Block(kind, body) => print_braced(p, kind.keyword(), body, depth),
        WStmt::For {
            init,
            cond,
            step,
            body,
        } => {
            let piece = |s: &Option<Box<WStmt>>| {
                s.as_deref()
                    .and_then(WStmt::simple_text)
                    .unwrap_or_default()
            };
            let cond = cond.as_ref().map(WExpr::to_string).unwrap_or_default();
            let header = format!("for ({}; {cond}; {})", piece(init), piece(step));
            print_braced(p, &header, body, depth);
        }
        WStmt::While { cond, body } => {
            let header = format!("while {}", paren(&cond.to_string()));
            print_braced(p, &header, body, depth);
        }
        WStmt::If { cond, then, els } => {
            indent(p.out, depth);
            p.out
                .push_str(&format!("if {} {{\n", paren(&cond.to_string())));
            p.block(then, depth + 1);
            let mut els = els.as_slice();
            // `else if` chains stay flat (the inner `if`'s origin, if it
            // has one, at its `else if` line).
            loop {
                let origins = els
                    .iter()
                    .take_while(|s| matches!(s, WStmt::Origin(_)))
                    .count();
                let [
                    WStmt::If {
                        cond,
                        then,
                        els: next,
                    },
                ] = &els[origins..]
                else {
                    break;
                };
                indent(p.out, depth);
                p.block(&els[..origins], depth);
                p.out
                    .push_str(&format!("}} else if {} {{\n", paren(&cond.to_string())));
                p.block(then, depth + 1);
                els = next.as_slice();
            }
            if !els.is_empty() {
                indent(p.out, depth);
                p.out.push_str("} else {\n");
                p.block(els, depth + 1);
            }
            indent(p.out, depth);
            p.out.push_str("}\n");
        }
        WStmt::Switch { selector, arms } => {
            indent(p.out, depth);
            p.out
                .push_str(&format!("switch {} {{\n", paren(&selector.to_string())));
            for (labels, body) in arms {
                indent(p.out, depth + 1);
                p.out.push_str(&format!("{labels}: {{\n"));
                p.block(body, depth + 2);
                indent(p.out, depth + 1);
                p.out.push_str("}\n");
            }
            indent(p.out, depth);
            p.out.push_str("}\n");
        }
        WStmt::Decl {
            keyword,
            name,
            ty,
            init,
        } => {
            indent(p.out, depth);
            p.out.push_str(&format!("{keyword} {name}"));
            if let Some(ty) = ty {
                p.out.push_str(&format!(": {ty}"));
            }
            if let Some(init) = init {
                p.out.push_str(&format!(" = {init}"));
            }
            p.out.push_str(";\n");
        }
        WStmt::Assign { target, op, value } => {
            indent(p.out, depth);
            p.out.push_str(&format!("{target} {op} {value};\n"));
        }
        WStmt::Eval(e) => {
            indent(p.out, depth);
            p.out.push_str(&format!("{e};\n"));
        }
        WStmt::Phony(e) => {
            indent(p.out, depth);
            p.out.push_str(&format!("_ = {e};\n"));
        }
        WStmt::BreakIf(cond) => {
            indent(p.out, depth);
            p.out.push_str(&format!("break if {cond};\n"));
        }
        WStmt::Increment { target, op } => {
            indent(p.out, depth);
            p.out.push_str(&format!("{target}{op};\n"));
        }
        WStmt::Break => {
            indent(p.out, depth);
            p.out.push_str("break;\n");
        }
        WStmt::Continue => {
            indent(p.out, depth);
            p.out.push_str("continue;\n");
        }
        WStmt::Return(value) => {
            indent(p.out, depth);
            match value {
                Some(v) => p.out.push_str(&format!("return {v};\n")),
                None => p.out.push_str("return;\n"),
            }
        }
        WStmt::Comment(text) => {
            for line in text.lines() {
                indent(p.out, depth);
                p.out.push_str("// ");
                p.out.push_str(line);
                p.out.push('\n');
            }
        }
    }
}

/// `header { body }` (a bare block when `header` is empty).
fn print_braced(p: &mut Printer, header: &str, body: &[WStmt], depth: usize) {
    indent(p.out, depth);
    if !header.is_empty() {
        p.out.push_str(header);
        p.out.push(' ');
    }
    p.out.push_str("{\n");
    p.block(body, depth + 1);
    indent(p.out, depth);
    p.out.push_str("}\n");
}

/// `(cond)`, without doubling parentheses the expression already has.
pub fn paren(cond: &str) -> String {
    if is_wrapped(cond) {
        cond.to_string()
    } else {
        format!("({cond})")
    }
}

fn is_wrapped(s: &str) -> bool {
    if !s.starts_with('(') || !s.ends_with(')') {
        return false;
    }
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 && i != s.len() - 1 {
                    return false;
                }
            }
            _ => {}
        }
    }
    true
}
