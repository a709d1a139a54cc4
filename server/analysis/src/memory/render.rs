//! Expressions as readable text for messages (from the IR, so macros appear
//! expanded), with the brackets C's precedence needs.

use cudalens_syntax::ir::{Expr, ExprKind};

/// Readable text for an expression (from the IR, so macros appear expanded),
/// with the brackets its operators' precedence needs.
pub(crate) fn render_expr(e: &Expr) -> String {
    render_prec(e, 0)
}

/// C precedence of a binary operator (higher binds tighter).
fn binding(op: cudalens_syntax::ir::BinOp) -> u8 {
    use cudalens_syntax::ir::BinOp::*;
    match op {
        Mul | Div | Rem => 10,
        Add | Sub => 9,
        Shl | Shr => 8,
        Lt | Gt | Le | Ge => 7,
        Eq | Ne => 6,
        BitAnd => 5,
        BitXor => 4,
        BitOr => 3,
        LogAnd => 2,
        LogOr => 1,
    }
}

/// `e` rendered inside an operator of precedence `outer`: bracketed when it
/// binds more loosely.
fn render_prec(e: &Expr, outer: u8) -> String {
    use cudalens_syntax::ir::UnOp;
    const POSTFIX: u8 = 12;
    const PREFIX: u8 = 11;
    let bracket = |text: String, own: u8| {
        if own < outer {
            format!("({text})")
        } else {
            text
        }
    };
    match &e.kind {
        ExprKind::Int {
            value, unsigned, ..
        } => cudalens_syntax::ir::int_literal_value(*value, *unsigned).to_string(),
        ExprKind::Float { value, single } => {
            let mut t = format!("{value:?}");
            if *single {
                t.push('f');
            }
            t
        }
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Builtin(b, a) => format!("{}.{}", b.name(), a.name()),
        ExprKind::WarpSize => "warpSize".into(),
        ExprKind::Binary(op, a, b) => {
            let own = binding(*op);
            // Left-associative: a right operand of the same precedence needs brackets.
            let text = format!(
                "{}{}{}",
                render_prec(a, own),
                op.as_str(),
                render_prec(b, own + 1)
            );
            bracket(text, own)
        }
        ExprKind::Unary(op, a) => {
            let sign = match op {
                UnOp::Neg => "-",
                UnOp::Plus => "+",
                UnOp::Not => "!",
                UnOp::BitNot => "~",
                UnOp::Deref => "*",
                UnOp::AddrOf => "&",
            };
            bracket(format!("{sign}{}", render_prec(a, PREFIX)), PREFIX)
        }
        ExprKind::Ternary(c, a, b) => bracket(
            format!(
                "{} ? {} : {}",
                render_prec(c, 1),
                render_prec(a, 0),
                render_prec(b, 0)
            ),
            0,
        ),
        ExprKind::Index(a, i) => format!("{}[{}]", render_prec(a, POSTFIX), render_prec(i, 0)),
        ExprKind::Member { base, field, arrow } => format!(
            "{}{}{field}",
            render_prec(base, POSTFIX),
            if *arrow { "->" } else { "." }
        ),
        ExprKind::Call(call) => format!(
            "{}({})",
            call.callee,
            call.args
                .iter()
                .map(|a| render_prec(a, 0))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        // The value, not the conversion (`(int)threadIdx.x` reads as `threadIdx.x`).
        ExprKind::Cast { expr, .. } => render_prec(expr, outer),
        _ => "…".into(),
    }
}
