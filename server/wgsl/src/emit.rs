//! The statement tree the lowering produces and its pretty-printer: one
//! statement per line, four-space indentation, braces on the header line.

/// A WGSL statement. Expressions are already text.
#[derive(Clone, Debug, PartialEq)]
pub enum WStmt {
    /// One simple statement, with its `;`.
    Line(String),
    /// `// text`
    Comment(String),
    /// `header { body }`, e.g. `loop`, `continuing`, `for (...)`, `{` (bare block: empty header).
    Block(String, Vec<WStmt>),
    If {
        cond: String,
        then: Vec<WStmt>,
        els: Vec<WStmt>,
    },
    /// `switch (selector) { case ...: { } }`; each arm: (selectors text, body).
    Switch {
        selector: String,
        arms: Vec<(String, Vec<WStmt>)>,
    },
}

impl WStmt {
    pub fn line(s: impl Into<String>) -> WStmt {
        WStmt::Line(s.into())
    }
}

/// Appends `stmts` at `depth` levels of indentation.
pub fn print_block(out: &mut String, stmts: &[WStmt], depth: usize) {
    for s in stmts {
        print_stmt(out, s, depth);
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

fn print_stmt(out: &mut String, s: &WStmt, depth: usize) {
    match s {
        WStmt::Line(text) => {
            indent(out, depth);
            out.push_str(text);
            out.push('\n');
        }
        WStmt::Comment(text) => {
            for line in text.lines() {
                indent(out, depth);
                out.push_str("// ");
                out.push_str(line);
                out.push('\n');
            }
        }
        WStmt::Block(header, body) => {
            indent(out, depth);
            if !header.is_empty() {
                out.push_str(header);
                out.push(' ');
            }
            out.push_str("{\n");
            print_block(out, body, depth + 1);
            indent(out, depth);
            out.push_str("}\n");
        }
        WStmt::If { cond, then, els } => {
            indent(out, depth);
            out.push_str(&format!("if {} {{\n", paren(cond)));
            print_block(out, then, depth + 1);
            let mut els = els.as_slice();
            // `else if` chains stay flat.
            while let [
                WStmt::If {
                    cond,
                    then,
                    els: next,
                },
            ] = els
            {
                indent(out, depth);
                out.push_str(&format!("}} else if {} {{\n", paren(cond)));
                print_block(out, then, depth + 1);
                els = next.as_slice();
            }
            if !els.is_empty() {
                indent(out, depth);
                out.push_str("} else {\n");
                print_block(out, els, depth + 1);
            }
            indent(out, depth);
            out.push_str("}\n");
        }
        WStmt::Switch { selector, arms } => {
            indent(out, depth);
            out.push_str(&format!("switch {} {{\n", paren(selector)));
            for (labels, body) in arms {
                indent(out, depth + 1);
                out.push_str(&format!("{labels}: {{\n"));
                print_block(out, body, depth + 2);
                indent(out, depth + 1);
                out.push_str("}\n");
            }
            indent(out, depth);
            out.push_str("}\n");
        }
    }
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
