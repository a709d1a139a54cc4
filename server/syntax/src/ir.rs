//! The statement and expression tree of function bodies, lowered from
//! tree-sitter with macros expanded. Every node keeps the span of what the user
//! wrote: nodes that came out of a macro expansion carry the span of the
//! macro's invocation and `from_macro = true`.

use serde::Serialize;

use crate::span::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Axis {
    X,
    Y,
    Z,
}

impl Axis {
    pub fn from_field(f: &str) -> Option<Axis> {
        match f {
            "x" => Some(Axis::X),
            "y" => Some(Axis::Y),
            "z" => Some(Axis::Z),
            _ => None,
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        ["x", "y", "z"][self as usize]
    }
}

/// CUDA's built-in index variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Builtin {
    ThreadIdx,
    BlockIdx,
    BlockDim,
    GridDim,
}

impl Builtin {
    pub fn from_name(s: &str) -> Option<Builtin> {
        match s {
            "threadIdx" => Some(Builtin::ThreadIdx),
            "blockIdx" => Some(Builtin::BlockIdx),
            "blockDim" => Some(Builtin::BlockDim),
            "gridDim" => Some(Builtin::GridDim),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Builtin::ThreadIdx => "threadIdx",
            Builtin::BlockIdx => "blockIdx",
            Builtin::BlockDim => "blockDim",
            Builtin::GridDim => "gridDim",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Shl,
    Shr,
    BitAnd,
    BitOr,
    BitXor,
    LogAnd,
    LogOr,
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl BinOp {
    #[allow(clippy::should_implement_trait)] // Option, not Result: not a FromStr
    pub fn from_str(s: &str) -> Option<BinOp> {
        use BinOp::*;
        Some(match s {
            "+" => Add,
            "-" => Sub,
            "*" => Mul,
            "/" => Div,
            "%" => Rem,
            "<<" => Shl,
            ">>" => Shr,
            // C++'s alternative tokens ([lex.digraph]) spell the same operators.
            "&" | "bitand" => BitAnd,
            "|" | "bitor" => BitOr,
            "^" | "xor" => BitXor,
            "&&" | "and" => LogAnd,
            "||" | "or" => LogOr,
            "==" => Eq,
            "!=" | "not_eq" => Ne,
            "<" => Lt,
            ">" => Gt,
            "<=" => Le,
            ">=" => Ge,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        use BinOp::*;
        match self {
            Add => "+",
            Sub => "-",
            Mul => "*",
            Div => "/",
            Rem => "%",
            Shl => "<<",
            Shr => ">>",
            BitAnd => "&",
            BitOr => "|",
            BitXor => "^",
            LogAnd => "&&",
            LogOr => "||",
            Eq => "==",
            Ne => "!=",
            Lt => "<",
            Gt => ">",
            Le => "<=",
            Ge => ">=",
        }
    }

    pub fn is_comparison(self) -> bool {
        use BinOp::*;
        matches!(self, Eq | Ne | Lt | Gt | Le | Ge | LogAnd | LogOr)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
    BitNot,
    /// `*p`
    Deref,
    /// `&x`
    AddrOf,
}

/// A C type as written, normalised: `const float* __restrict__` →
/// base "float", pointer 1, is_const, restrict.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Type {
    pub base: String,
    pub pointer: u8,
    pub is_const: bool,
    pub restrict: bool,
    /// Template arguments written after the base name, e.g. `Vec<float, 4>`.
    pub template_args: Vec<String>,
}

impl Type {
    pub fn named(base: &str) -> Type {
        Type {
            base: base.to_string(),
            ..Type::default()
        }
    }

    pub fn pointee(&self) -> Type {
        Type {
            pointer: self.pointer.saturating_sub(1),
            ..self.clone()
        }
    }

    pub fn display(&self) -> String {
        let mut s = String::new();
        if self.is_const {
            s.push_str("const ");
        }
        s.push_str(&self.base);
        for _ in 0..self.pointer {
            s.push('*');
        }
        if self.restrict {
            s.push_str(" __restrict__");
        }
        s
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// The node came from a macro expansion; `span` is the invocation.
    pub from_macro: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ExprKind {
    Int {
        /// The literal's value in 64 bits (an `i128` would double the size
        /// of every `Expr`); read it with [`int_literal_value`].
        value: i64,
        unsigned: bool,
        long: bool,
    },
    Float {
        value: f64,
        single: bool,
    },
    Bool(bool),
    Str(String),
    Ident(String),
    /// `threadIdx.x` etc.
    Builtin(Builtin, Axis),
    /// `warpSize`
    WarpSize,
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `a = b`, `a += b` (op is the compound operator).
    Assign(Option<BinOp>, Box<Expr>, Box<Expr>),
    /// `++a`, `a--`
    IncDec {
        increment: bool,
        prefix: bool,
        target: Box<Expr>,
    },
    Ternary(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Boxed, like the other large rare variants, so every `Expr` stays
    /// small: a 5,000-line file's bodies hold tens of thousands of them.
    Call(Box<CallExpr>),
    Index(Box<Expr>, Box<Expr>),
    /// `kernel<<<config...>>>(args...)`
    Launch(Box<LaunchExpr>),
    Member {
        base: Box<Expr>,
        field: String,
        arrow: bool,
    },
    /// C casts and `static_cast`/`reinterpret_cast`.
    Cast {
        ty: Box<Type>,
        reinterpret: bool,
        expr: Box<Expr>,
    },
    SizeofType(Box<Type>),
    SizeofExpr(Box<Expr>),
    InitList(Vec<Expr>),
    /// `.r = 0` in an initializer list (a C99/C++20 designated
    /// initializer): the member it sets. Other designators (`[3] = x`,
    /// `.a.b = x`) stay `Unknown`.
    Designated {
        field: String,
        value: Box<Expr>,
    },
    Comma(Vec<Expr>),
    /// Something we keep as text only (lambdas, `new`, ...). Analyses treat it as opaque.
    Unknown(String),
}

/// An integer literal's exact value. Literals above `i64::MAX` are
/// `unsigned long long` in C; they are stored as their 64 bits with
/// `unsigned` set.
pub fn int_literal_value(value: i64, unsigned: bool) -> i128 {
    if unsigned && value < 0 {
        i128::from(value as u64)
    } else {
        i128::from(value)
    }
}

/// An integer literal as stored in [`ExprKind::Int`] (see
/// [`int_literal_value`]); `None` beyond `unsigned long long`.
pub fn int_literal_bits(value: i128) -> Option<(i64, bool)> {
    match i64::try_from(value) {
        Ok(v) => Some((v, false)),
        Err(_) => u64::try_from(value).ok().map(|v| (v as i64, true)),
    }
}

/// `callee<template_args>(args)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallExpr {
    pub callee: String,
    pub template_args: Vec<String>,
    pub args: Vec<Expr>,
    /// `obj.m(...)` / `p->m(...)`: the object, as written (`callee` keeps
    /// the whole text, `obj.m`); whether it was reached through `->`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receiver: Option<Box<Expr>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub arrow: bool,
}

impl CallExpr {
    /// The member function `obj.m(...)`/`p->m(...)` names (`m`); `None`
    /// without an object.
    pub fn method(&self) -> Option<&str> {
        self.receiver.as_ref()?;
        self.callee.rsplit(['.', '>']).next().map(str::trim)
    }
}

/// `kernel<template_args><<<config...>>>(args...)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LaunchExpr {
    pub kernel: String,
    pub template_args: Vec<String>,
    pub config: Vec<Expr>,
    pub args: Vec<Expr>,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr {
            kind,
            span,
            from_macro: false,
        }
    }

    /// Calls `f` on this expression and every sub-expression, parents first.
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        self.for_each_child(&mut |c| c.walk(f));
    }

    /// Calls `f` on every sub-expression and then on this expression
    /// (children first, so `f` may replace the node it is given).
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        self.for_each_child_mut(&mut |c| c.walk_mut(f));
        f(self);
    }

    /// The variable name of a plain identifier.
    pub fn as_ident(&self) -> Option<&str> {
        match &self.kind {
            ExprKind::Ident(s) => Some(s),
            _ => None,
        }
    }

    /// The expression inside any casts (`(void **)&p` → `&p`).
    pub fn without_casts(&self) -> &Expr {
        let mut e = self;
        while let ExprKind::Cast { expr, .. } = &e.kind {
            e = expr;
        }
        e
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VarDecl {
    pub name: String,
    pub name_span: Span,
    pub span: Span,
    pub ty: Type,
    /// Array dimensions, outermost first; `None` for `[]`.
    pub dims: Vec<Option<Expr>>,
    pub init: Option<Expr>,
    /// `dim3 block(16, 16)`: constructor arguments.
    pub ctor_args: Option<Vec<Expr>>,
    pub shared: bool,
    pub is_extern: bool,
    pub is_static: bool,
    pub constexpr: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum StmtKind {
    Decl(Vec<VarDecl>),
    Expr(Expr),
    Block(Vec<Stmt>),
    If {
        cond: Expr,
        then: Box<Stmt>,
        els: Option<Box<Stmt>>,
    },
    For {
        init: Vec<Stmt>,
        /// Boxed (as `Case`'s value) so a `Stmt` stays small.
        cond: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
        body: Box<Stmt>,
        /// From a preceding `#pragma unroll [N]`.
        unroll: Option<Option<i64>>,
    },
    While {
        cond: Expr,
        body: Box<Stmt>,
    },
    DoWhile {
        body: Box<Stmt>,
        cond: Expr,
    },
    Switch {
        cond: Expr,
        body: Box<Stmt>,
    },
    /// `case v:` (value) or `default:` (None), followed by its statements.
    Case {
        value: Option<Box<Expr>>,
        body: Vec<Stmt>,
    },
    Return(Option<Expr>),
    Break,
    Continue,
    Goto(String),
    Label(String, Box<Stmt>),
    /// Inline assembly, `#pragma`s other than unroll, and anything we could not lower.
    Unknown(String),
    Empty,
}

impl Stmt {
    /// Calls `f` on this statement and every nested statement, parents first.
    pub fn walk(&self, f: &mut dyn FnMut(&Stmt)) {
        f(self);
        for c in self.children() {
            c.walk(f);
        }
    }

    /// Calls `f` on every expression (and sub-expression) in this statement tree.
    pub fn walk_exprs(&self, f: &mut dyn FnMut(&Expr)) {
        self.walk(&mut |s| {
            for e in s.own_exprs() {
                e.walk(f);
            }
        });
    }
}

/// One direct part of a statement, for in-place walks.
enum PartMut<'a> {
    Expr(&'a mut Expr),
    Stmt(&'a mut Stmt),
}

impl Stmt {
    /// Calls `f` on every expression (and sub-expression, children first) in
    /// this statement tree, mutably: declarations' dimensions, initialisers
    /// and constructor arguments included.
    pub fn walk_exprs_mut(&mut self, f: &mut dyn FnMut(&mut Expr)) {
        self.for_each_part_mut(&mut |part| match part {
            PartMut::Expr(e) => e.walk_mut(f),
            PartMut::Stmt(s) => s.walk_exprs_mut(f),
        });
    }

    /// Calls `f` on this statement's own expressions and its direct child
    /// statements, in source order: the one place that knows each statement
    /// kind's shape for mutable walks ([`Stmt::shift`], [`Stmt::walk_exprs_mut`]).
    fn for_each_part_mut(&mut self, f: &mut (impl FnMut(PartMut<'_>) + ?Sized)) {
        match &mut self.kind {
            StmtKind::Decl(decls) => {
                for d in decls {
                    for e in d
                        .dims
                        .iter_mut()
                        .flatten()
                        .chain(d.init.iter_mut())
                        .chain(d.ctor_args.iter_mut().flatten())
                    {
                        f(PartMut::Expr(e));
                    }
                }
            }
            StmtKind::Expr(e) | StmtKind::Return(Some(e)) => f(PartMut::Expr(e)),
            StmtKind::Block(v) => v.iter_mut().for_each(|s| f(PartMut::Stmt(s))),
            StmtKind::Case { value, body } => {
                if let Some(v) = value {
                    f(PartMut::Expr(v));
                }
                body.iter_mut().for_each(|s| f(PartMut::Stmt(s)));
            }
            StmtKind::If { cond, then, els } => {
                f(PartMut::Expr(cond));
                f(PartMut::Stmt(then));
                if let Some(e) = els {
                    f(PartMut::Stmt(e));
                }
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
                ..
            } => {
                init.iter_mut().for_each(|s| f(PartMut::Stmt(s)));
                cond.iter_mut()
                    .chain(step.iter_mut())
                    .for_each(|e| f(PartMut::Expr(e)));
                f(PartMut::Stmt(body));
            }
            StmtKind::While { cond, body }
            | StmtKind::DoWhile { body, cond }
            | StmtKind::Switch { cond, body } => {
                f(PartMut::Expr(cond));
                f(PartMut::Stmt(body));
            }
            StmtKind::Label(_, body) => f(PartMut::Stmt(body)),
            _ => {}
        }
    }
}

impl Span {
    fn shifted(self, delta: isize) -> Span {
        let f = |x: usize| x.saturating_add_signed(delta);
        Span::new(f(self.start), f(self.end))
    }
}

impl Expr {
    /// Moves every span by `delta` bytes (a cached function reused at a new offset).
    pub fn shift(&mut self, delta: isize) {
        self.span = self.span.shifted(delta);
        if let ExprKind::Call(call) = &mut self.kind
            && let Some(r) = &mut call.receiver
        {
            r.shift(delta);
        }
        self.for_each_child_mut(&mut |c| c.shift(delta));
    }

    /// Puts this expression and every sub-expression at `span` (a macro
    /// expansion's nodes all point at the invocation).
    pub fn set_span_everywhere(&mut self, span: Span) {
        self.span = span;
        if let ExprKind::Call(call) = &mut self.kind
            && let Some(r) = &mut call.receiver
        {
            r.set_span_everywhere(span);
        }
        self.for_each_child_mut(&mut |c| c.set_span_everywhere(span));
    }

    /// Calls `f` on each direct sub-expression, in order (what [`Expr::children`]
    /// lists, without collecting them: walks over whole files use this).
    pub fn for_each_child<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        use ExprKind::*;
        match &self.kind {
            Unary(_, e)
            | SizeofExpr(e)
            | Cast { expr: e, .. }
            | Member { base: e, .. }
            | Designated { value: e, .. }
            | IncDec { target: e, .. } => f(e),
            Binary(_, a, b) | Assign(_, a, b) | Index(a, b) => {
                f(a);
                f(b);
            }
            Ternary(a, b, c) => {
                f(a);
                f(b);
                f(c);
            }
            // Not the receiver of `obj.m(...)`: analyses see a method call's
            // arguments, as before methods were lowered (see `CallExpr`).
            Call(call) => call.args.iter().for_each(f),
            InitList(args) | Comma(args) => args.iter().for_each(f),
            Launch(launch) => launch.config.iter().chain(&launch.args).for_each(f),
            _ => {}
        }
    }

    fn for_each_child_mut(&mut self, f: &mut (impl FnMut(&mut Expr) + ?Sized)) {
        use ExprKind::*;
        match &mut self.kind {
            Unary(_, e)
            | SizeofExpr(e)
            | Cast { expr: e, .. }
            | Member { base: e, .. }
            | Designated { value: e, .. }
            | IncDec { target: e, .. } => f(e),
            Binary(_, a, b) | Assign(_, a, b) | Index(a, b) => {
                f(a);
                f(b);
            }
            Ternary(a, b, c) => {
                f(a);
                f(b);
                f(c);
            }
            Call(call) => call.args.iter_mut().for_each(f),
            InitList(args) | Comma(args) => args.iter_mut().for_each(f),
            Launch(launch) => {
                let LaunchExpr { config, args, .. } = &mut **launch;
                config.iter_mut().chain(args.iter_mut()).for_each(f)
            }
            _ => {}
        }
    }

    /// Direct sub-expressions.
    pub fn children(&self) -> Vec<&Expr> {
        let mut children = Vec::new();
        self.for_each_child(&mut |c| children.push(c));
        children
    }
}

impl Stmt {
    /// Calls `f` on this statement and every nested statement, mutably,
    /// parents first.
    pub fn walk_mut(&mut self, f: &mut dyn FnMut(&mut Stmt)) {
        f(self);
        self.for_each_part_mut(&mut |part| {
            if let PartMut::Stmt(s) = part {
                s.walk_mut(f);
            }
        });
    }

    /// Gives every span in this statement tree the value `span` (a macro
    /// expansion's statements all stand at the invocation).
    pub fn set_span_everywhere(&mut self, span: Span) {
        self.span = span;
        if let StmtKind::Decl(decls) = &mut self.kind {
            for d in decls {
                d.span = span;
                d.name_span = span;
            }
        }
        self.for_each_part_mut(&mut |part| match part {
            PartMut::Expr(e) => e.set_span_everywhere(span),
            PartMut::Stmt(s) => s.set_span_everywhere(span),
        });
    }

    /// Moves every span in this statement tree by `delta` bytes.
    pub fn shift(&mut self, delta: isize) {
        self.span = self.span.shifted(delta);
        if let StmtKind::Decl(decls) = &mut self.kind {
            for d in decls {
                d.span = d.span.shifted(delta);
                d.name_span = d.name_span.shifted(delta);
            }
        }
        self.for_each_part_mut(&mut |part| match part {
            PartMut::Expr(e) => e.shift(delta),
            PartMut::Stmt(s) => s.shift(delta),
        });
    }

    /// Expressions owned directly by this statement (not by nested statements).
    pub fn own_exprs(&self) -> Vec<&Expr> {
        match &self.kind {
            StmtKind::Decl(decls) => decls
                .iter()
                .flat_map(|d| {
                    d.dims
                        .iter()
                        .flatten()
                        .chain(d.init.iter())
                        .chain(d.ctor_args.iter().flatten())
                })
                .collect(),
            StmtKind::Expr(e) | StmtKind::Return(Some(e)) => vec![e],
            StmtKind::If { cond, .. }
            | StmtKind::While { cond, .. }
            | StmtKind::DoWhile { cond, .. }
            | StmtKind::Switch { cond, .. } => vec![cond],
            StmtKind::For { cond, step, .. } => cond.iter().chain(step).map(|e| &**e).collect(),
            StmtKind::Case { value: Some(v), .. } => vec![v],
            _ => vec![],
        }
    }

    /// Directly nested statements.
    pub fn children(&self) -> Vec<&Stmt> {
        match &self.kind {
            StmtKind::Block(v) | StmtKind::Case { body: v, .. } => v.iter().collect(),
            StmtKind::If { then, els, .. } => {
                let mut v = vec![&**then];
                if let Some(e) = els {
                    v.push(e);
                }
                v
            }
            StmtKind::For { init, body, .. } => {
                init.iter().chain(std::iter::once(&**body)).collect()
            }
            StmtKind::While { body, .. }
            | StmtKind::DoWhile { body, .. }
            | StmtKind::Switch { body, .. }
            | StmtKind::Label(_, body) => vec![body],
            _ => vec![],
        }
    }
}

/// A canonical text for an expression, ignoring spans (used to compare indices).
pub fn expr_key(e: &Expr) -> String {
    use ExprKind::*;
    match &e.kind {
        Int {
            value, unsigned, ..
        } => int_literal_value(*value, *unsigned).to_string(),
        Float { value, .. } => format!("{value:?}"),
        Bool(b) => b.to_string(),
        Ident(n) => n.clone(),
        Builtin(b, a) => format!("{}.{}", b.name(), a.name()),
        WarpSize => "warpSize".into(),
        Unary(op, x) => format!("{op:?}({})", expr_key(x)),
        Binary(op, a, b) => format!("({} {} {})", expr_key(a), op.as_str(), expr_key(b)),
        Ternary(c, a, b) => format!("({} ? {} : {})", expr_key(c), expr_key(a), expr_key(b)),
        Index(a, i) => format!("{}[{}]", expr_key(a), expr_key(i)),
        Member { base, field, .. } => format!("{}.{field}", expr_key(base)),
        Cast { ty, expr, .. } => format!("({}){}", ty.display(), expr_key(expr)),
        Call(call) => format!(
            "{}({})",
            call.callee,
            call.args
                .iter()
                .map(expr_key)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 5,000-line file's bodies hold tens of thousands of these, kept by
    /// every analysed document: a variant that makes them larger belongs in a
    /// box (as `ExprKind::Call`). 128 / 320 bytes before they were boxed.
    #[test]
    fn ir_nodes_stay_small() {
        assert!(size_of::<Expr>() <= 64, "Expr: {}", size_of::<Expr>());
        assert!(size_of::<Stmt>() <= 96, "Stmt: {}", size_of::<Stmt>());
    }

    #[test]
    fn integer_literals_keep_their_value_in_64_bits() {
        for v in [0, 1, -4, i128::from(i64::MAX), i128::from(u64::MAX)] {
            let (bits, unsigned) = int_literal_bits(v).unwrap();
            assert_eq!(int_literal_value(bits, unsigned), v);
        }
        assert_eq!(int_literal_bits(i128::from(u64::MAX) + 1), None);
    }
}
