//! Lowering tree-sitter nodes to the IR, expanding macros on the way.

use tree_sitter::Node;

use super::builder::{Builder, Cx, ExpansionKey, MAX_NESTING, ident_expr};
use crate::document::parse;
use crate::ir::{self, Axis, BinOp, CallExpr, Expr, ExprKind, LaunchExpr, Stmt, StmtKind, UnOp};
use crate::preprocess::cexpr::{parse_char_literal, parse_int_literal};
use crate::span::{Severity, Span};

/// Lowered expansions kept per model build (a bound on pathological files).
const MAX_CACHED_EXPANSIONS: usize = 4096;

/// Wrapper used to parse a macro expansion as an expression or statements.
const EXPANSION_PREFIX: &str = "void __cudalens_expansion(){";

impl Builder<'_> {
    // ---- expressions --------------------------------------------------------

    /// Lowers `n`, an expression of its own (not an operand lowered with
    /// its operator): a statement's, an argument, an index, an initialiser.
    pub(super) fn expr(&mut self, cx: &Cx, n: Node) -> Expr {
        match self.disambiguated(cx, n) {
            Some(e) => e,
            None => self.operand(cx, n),
        }
    }

    /// Lowers `n` as part of the expression being lowered.
    fn operand(&mut self, cx: &Cx, n: Node) -> Expr {
        let span = cx.span(n);
        if !self.enter_nesting(cx, span) {
            return Expr::new(ExprKind::Unknown(String::new()), span);
        }
        let kind = self.expr_kind(cx, n);
        self.nesting -= 1;
        match kind {
            Ok(kind) => Expr {
                kind,
                span,
                from_macro: cx.is_from_macro(n),
            },
            Err(e) => *e,
        }
    }

    /// A GNU statement expression made of copies and a value, as C's
    /// `min`/`max` macros write it (`({ __typeof__(a) _a = (a); __typeof__(b)
    /// _b = (b); _a < _b ? _a : _b; })`, HeCBench's chemv and LULESH): the
    /// value with each copy replaced by its initialiser. Only when every
    /// initialiser is free of side effects (then evaluating it at each use
    /// is evaluating it once); `None` otherwise, and for any other statement.
    fn statement_expression(&mut self, cx: &Cx, block: Node) -> Option<Expr> {
        let mut c = block.walk();
        let items: Vec<Node> = block
            .named_children(&mut c)
            .filter(|n| n.kind() != "comment")
            .collect();
        let (last, decls) = items.split_last()?;
        if last.kind() != "expression_statement" {
            return None;
        }
        let mut bindings: Vec<(String, Expr)> = Vec::new();
        for d in decls {
            if d.kind() != "declaration" {
                return None;
            }
            for declarator in super::build::field_children(*d, "declarator") {
                let name = field!(declarator, "declarator").filter(|n| n.kind() == "identifier");
                let (Some(name), Some(value)) = (name, field!(declarator, "value")) else {
                    return None;
                };
                let mut value = self.operand(cx, value);
                substitute_bindings(&mut value, &bindings);
                if !side_effect_free(&value) {
                    return None;
                }
                bindings.push((cx.text(name).to_string(), value));
            }
        }
        let mut value = self.operand(cx, first_named(*last)?);
        substitute_bindings(&mut value, &bindings);
        Some(value)
    }

    fn boxed(&mut self, cx: &Cx, n: Option<Node>) -> Box<Expr> {
        Box::new(match n {
            Some(n) => self.operand(cx, n),
            None => Expr::new(
                ExprKind::Unknown(String::new()),
                cx.origin.unwrap_or_default(),
            ),
        })
    }

    /// The expression's kind, or (`Err`) a whole replacement expression when the
    /// node was a macro invocation that we expanded.
    fn expr_kind(&mut self, cx: &Cx, n: Node) -> Result<ExprKind, Box<Expr>> {
        use ExprKind::*;
        let text = cx.text(n);
        Ok(match n.kind() {
            "number_literal" => number(text),
            "char_literal" => Int {
                value: parse_char_literal(text)
                    .and_then(|v| i64::try_from(v).ok())
                    .unwrap_or(0),
                unsigned: false,
                long: false,
            },
            "string_literal" | "concatenated_string" | "raw_string_literal" => {
                Str(text.to_string())
            }
            "true" => Bool(true),
            "false" => Bool(false),
            "null" | "nullptr" => Int {
                value: 0,
                unsigned: false,
                long: false,
            },
            "identifier" => {
                if cx.is_raw() && self.macros.get(text).is_some_and(|m| m.params.is_none()) {
                    return Err(Box::new(self.expand_expr(cx, text, cx.span(n))));
                }
                match text {
                    "warpSize" => WarpSize,
                    "NULL" => Int {
                        value: 0,
                        unsigned: false,
                        long: false,
                    },
                    _ => Ident(text.to_string()),
                }
            }
            "qualified_identifier" => Ident(text.to_string()),
            "this" => Ident("this".to_string()),
            // `mask<T>[j]` of a variable template (`template <typename T>
            // __constant__ T mask[N];`): the variable itself when its one
            // argument is the type the variable is declared with, so that
            // the function's own `T` instantiates both alike. Any other
            // argument stays unknown (never silently the wrong instance).
            "template_function" => match (field!(n, "name"), field!(n, "arguments")) {
                (Some(name), Some(args))
                    if self.model.globals.iter().any(|g| {
                        g.name == cx.text(name)
                            && g.ty.base
                                == cx
                                    .text(args)
                                    .trim_start_matches('<')
                                    .trim_end_matches('>')
                                    .trim()
                    }) =>
                {
                    Ident(cx.text(name).to_string())
                }
                _ => Unknown(text.to_string()),
            },
            "parenthesized_expression" => match first_named(n) {
                Some(inner) if inner.kind() == "compound_statement" => {
                    match self.statement_expression(cx, inner) {
                        Some(e) => return Err(Box::new(e)),
                        None => Unknown(text.to_string()),
                    }
                }
                Some(inner) => return Err(Box::new(self.operand(cx, inner))),
                None => Unknown(text.to_string()),
            },
            "field_expression" => {
                let arg = field!(n, "argument");
                let field = field!(n, "field")
                    .map(|f| cx.text(f).to_string())
                    .unwrap_or_default();
                if let Some(a) = arg
                    && a.kind() == "identifier"
                    && let Some(b) = ir::Builtin::from_name(cx.text(a))
                    && let Some(axis) = Axis::from_field(&field)
                {
                    Builtin(b, axis)
                } else {
                    let arrow = field!(n, "operator").is_some_and(|o| cx.text(o) == "->");
                    Member {
                        base: self.boxed(cx, arg),
                        field,
                        arrow,
                    }
                }
            }
            "binary_expression" => {
                let op = field!(n, "operator").map(|o| cx.text(o)).unwrap_or("");
                if let Some(cast) = self.cast_read_as_binary(cx, n, op) {
                    return Err(Box::new(cast));
                }
                if let Some(fixed) = comparison_read_as_template(cx, n, op) {
                    return Err(Box::new(self.expand_expr(cx, &fixed, cx.span(n))));
                }
                match BinOp::from_str(op) {
                    Some(op) => Binary(
                        op,
                        self.boxed(cx, field!(n, "left")),
                        self.boxed(cx, field!(n, "right")),
                    ),
                    None => Unknown(text.to_string()),
                }
            }
            "unary_expression" | "pointer_expression" => {
                let op = field!(n, "operator").map(|o| cx.text(o)).unwrap_or("");
                let op = match op {
                    "-" => UnOp::Neg,
                    "+" => UnOp::Plus,
                    "!" | "not" => UnOp::Not,
                    "~" | "compl" => UnOp::BitNot,
                    "*" => UnOp::Deref,
                    "&" => UnOp::AddrOf,
                    _ => return Ok(Unknown(text.to_string())),
                };
                Unary(op, self.boxed(cx, field!(n, "argument")))
            }
            "update_expression" => {
                let op = field!(n, "operator");
                let arg = field!(n, "argument");
                let prefix = match (op, arg) {
                    (Some(o), Some(a)) => o.start_byte() < a.start_byte(),
                    _ => false,
                };
                IncDec {
                    increment: op.is_some_and(|o| cx.text(o) == "++"),
                    prefix,
                    target: self.boxed(cx, arg),
                }
            }
            "assignment_expression" => {
                let op = field!(n, "operator").map(|o| cx.text(o)).unwrap_or("=");
                if let Some(fixed) = comparison_read_as_template(cx, n, op) {
                    return Err(Box::new(self.expand_expr(cx, &fixed, cx.span(n))));
                }
                let compound = if op == "=" {
                    None
                } else {
                    match BinOp::from_str(op.trim_end_matches('=')) {
                        Some(b) => Some(b),
                        None => return Ok(Unknown(text.to_string())),
                    }
                };
                Assign(
                    compound,
                    self.boxed(cx, field!(n, "left")),
                    self.boxed(cx, field!(n, "right")),
                )
            }
            "conditional_expression" => Ternary(
                self.boxed(cx, field!(n, "condition")),
                self.boxed(cx, field!(n, "consequence")),
                self.boxed(cx, field!(n, "alternative")),
            ),
            "comma_expression" => {
                let mut items = Vec::new();
                let mut cur = Some(n);
                while let Some(c) = cur {
                    if c.kind() != "comma_expression" {
                        items.push(self.operand(cx, c));
                        break;
                    }
                    if let Some(l) = field!(c, "left") {
                        items.push(self.operand(cx, l));
                    }
                    cur = field!(c, "right");
                }
                Comma(items)
            }
            "subscript_expression" => {
                let index = field!(n, "indices")
                    .and_then(|i| i.named_child(0))
                    .or_else(|| field!(n, "index"));
                Index(self.boxed(cx, field!(n, "argument")), self.boxed(cx, index))
            }
            "cast_expression" => {
                let ty = field!(n, "type")
                    .map(|t| self.type_descriptor(cx, t))
                    .unwrap_or_default();
                Cast {
                    ty: Box::new(ty),
                    reinterpret: false,
                    expr: self.boxed(cx, field!(n, "value")),
                }
            }
            "sizeof_expression" => {
                if let Some(t) = field!(n, "type") {
                    SizeofType(Box::new(self.type_descriptor(cx, t)))
                } else {
                    SizeofExpr(self.boxed(cx, field!(n, "value")))
                }
            }
            "initializer_list" => {
                let mut c = n.walk();
                let items: Vec<Node> = n
                    .named_children(&mut c)
                    .filter(|i| i.kind() != "comment")
                    .collect();
                InitList(items.into_iter().map(|i| self.expr(cx, i)).collect())
            }
            "initializer_pair" => {
                let designators: Vec<Node> = {
                    let mut c = n.walk();
                    n.children_by_field_name("designator", &mut c).collect()
                };
                match (designators.as_slice(), field!(n, "value")) {
                    ([d], Some(v)) if d.kind() == "field_designator" => {
                        let field = cx.text(*d).trim_start_matches('.').trim().to_string();
                        Designated {
                            field,
                            value: self.boxed(cx, Some(v)),
                        }
                    }
                    _ => Unknown(text.to_string()),
                }
            }
            "compound_literal_expression" => match (field!(n, "type"), field!(n, "value")) {
                // `Max{}`: a value-initialised temporary, as `Max()`.
                (Some(t), Some(v))
                    if t.kind() == "type_identifier" && v.named_child_count() == 0 =>
                {
                    Call(Box::new(CallExpr {
                        callee: cx.text(t).to_string(),
                        template_args: Vec::new(),
                        args: Vec::new(),
                        receiver: None,
                        arrow: false,
                    }))
                }
                (_, Some(v)) => return Err(Box::new(self.expr(cx, v))),
                _ => Unknown(text.to_string()),
            },
            "call_expression" => return self.call(cx, n),
            _ => Unknown(text.to_string()),
        })
    }

    /// `(real)-2.5 * t`, which tree-sitter reads as `real - (2.5 * t)` when
    /// it cannot know `real` names a type (a template parameter, a
    /// typedef): C casts the unary `-2.5`, so the cast of `op` applied to
    /// the leftmost operand of the right side replaces that operand
    /// (`((real)(-2.5)) * t`). `None` unless the left side is one
    /// parenthesised name of a type and `op` can be unary.
    fn cast_read_as_binary(&mut self, cx: &Cx, n: Node, op: &str) -> Option<Expr> {
        let unary = match op {
            "-" => UnOp::Neg,
            "+" => UnOp::Plus,
            "*" => UnOp::Deref,
            "&" => UnOp::AddrOf,
            _ => return None,
        };
        let left = field!(n, "left").filter(|l| l.kind() == "parenthesized_expression")?;
        let name_node = first_named(left).filter(|i| i.kind() == "identifier")?;
        let name = cx.text(name_node);
        if !(self.names_type(name) || template_parameter_in_scope(cx, n, name)) {
            return None;
        }
        let right = self.operand(cx, field!(n, "right")?);
        let start = cx.span(n).start;
        Some(attach_cast(right, name, unary, start))
    }

    /// `n` lowered again after un-parenthesising the variables that
    /// tree-sitter read as cast types: `(a) && (b)`, `(n) - 1`, `(p) * q`
    /// and `(m) & x` parse as a cast of a unary expression (the grammar
    /// cannot know `a` is no type), with the wrong precedence around it
    /// (`(x)>=(lo) && (x)<=(hi)` from a macro). Parentheses around one name
    /// change nothing, so ` a  && (b)` (same length, same offsets: spans
    /// stay right) is parsed instead. `None`: nothing to change, or the
    /// new text does not parse as one expression.
    fn disambiguated(&mut self, cx: &Cx, n: Node) -> Option<Expr> {
        let mut parens = self.variables_taken_for_types(cx, n);
        if parens.is_empty() {
            return None;
        }
        // Parsed as a statement of a function, the expression at its own
        // offsets: `void f(){` ends where the expression starts.
        const WRAP: &str = "void f(){";
        let (start, end) = (n.start_byte(), n.end_byte());
        let mut text = cx.src.get(start..end)?.as_bytes().to_vec();
        let pad = start.checked_sub(WRAP.len())?;
        // A cast read anew in the changed text is changed too; a bound on
        // the rounds for what never settles.
        for _ in 0..MAX_DISAMBIGUATION_ROUNDS {
            for p in &parens {
                text[p - start] = b' ';
            }
            let body = String::from_utf8(text.clone()).ok()?;
            let first = start + (body.len() - body.trim_start().len());
            let last = start + body.trim_end().len();
            let padded = format!("{}{WRAP}{body};}}", " ".repeat(pad));
            let tree = parse(&mut self.expansion_parser, &padded, None)?;
            let node = tree.root_node().descendant_for_byte_range(first, last)?;
            if node.start_byte() != first || node.end_byte() != last || node.has_error() {
                return None;
            }
            let ncx = Cx {
                src: &padded,
                file: cx.file,
                origin: cx.origin,
                map: cx.map,
                skipped: &[],
            };
            parens = self.variables_taken_for_types(&ncx, node);
            if parens.is_empty() {
                let mut e = self.operand(&ncx, node);
                e.span = cx.span(n);
                return Some(e);
            }
        }
        None
    }

    /// The byte offsets of both parentheses of each cast in expression `n`
    /// (not in its arguments, indices or initialisers: those are lowered as
    /// expressions of their own) whose type is one name that names no type
    /// and whose value starts with `-`, `+`, `*` or `&`.
    fn variables_taken_for_types(&self, cx: &Cx, n: Node) -> Vec<usize> {
        const PARTS: &[&str] = &[
            "binary_expression",
            "unary_expression",
            "pointer_expression",
            "cast_expression",
            "conditional_expression",
            "assignment_expression",
            "comma_expression",
            "update_expression",
            "parenthesized_expression",
            "field_expression",
            "subscript_expression",
            "subscript_argument_list",
            "sizeof_expression",
        ];
        let mut out = Vec::new();
        if !PARTS.contains(&n.kind()) {
            return out;
        }
        let mut stack = vec![n];
        while let Some(x) = stack.pop() {
            if x.kind() == "cast_expression"
                && let Some(parens) = self.variable_cast(cx, x)
            {
                out.extend(parens);
            }
            let mut c = x.walk();
            stack.extend(
                x.named_children(&mut c)
                    .filter(|ch| PARTS.contains(&ch.kind())),
            );
        }
        out
    }

    /// The parentheses of cast `n` when its "type" is a variable (see
    /// `variables_taken_for_types`).
    fn variable_cast(&self, cx: &Cx, n: Node) -> Option<[usize; 2]> {
        let ty = field!(n, "type")?;
        let value = field!(n, "value")?;
        // `(a) - b`, or `(a[i]) + b`: C casts to no array type, so an
        // "array type" is always a subscripted variable.
        let subscripted =
            field!(ty, "declarator").is_some_and(|d| d.kind() == "abstract_array_declarator");
        if ty.named_child_count() != 1 && !(subscripted && ty.named_child_count() == 2) {
            return None;
        }
        let name_node = field!(ty, "type").filter(|t| t.kind() == "type_identifier")?;
        let name = cx.text(name_node);
        let op = field!(value, "operator").map(|o| cx.text(o));
        let unary = matches!(value.kind(), "unary_expression" | "pointer_expression")
            && matches!(op, Some("-" | "+" | "*" | "&"));
        if !unary
            || (!subscripted && self.names_type(name))
            || template_parameter_in_scope(cx, n, name)
        {
            return None;
        }
        let open = n.child(0).filter(|p| cx.text(*p) == "(")?;
        let close = n.child(2).filter(|p| cx.text(*p) == ")")?;
        Some([open.start_byte(), close.start_byte()])
    }

    /// `name` is a type this file knows, a type of C or CUDA, or a macro
    /// that expands to one.
    fn names_type(&self, name: &str) -> bool {
        let known = |w: &str| {
            self.model.types.structs.contains_key(w)
                || self.model.types.aliases.contains_key(w)
                || crate::types::builtin_layout(w).is_some()
                || TYPE_WORDS.contains(&w)
                || crate::types::C_TYPE_KEYWORDS.contains(&w)
                // `size_t`, `cudaTextureObject_t`, `curandState_t`, ...
                || w.ends_with("_t")
        };
        if known(name) {
            return true;
        }
        match self.macros.get(name) {
            None => false,
            Some(m) if m.params.is_some() => false,
            Some(_) => match self.macros.expand_text(name) {
                Ok(expanded) => {
                    let words: Vec<&str> = expanded
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .filter(|w| !w.is_empty())
                        .collect();
                    !words.is_empty() && words.iter().all(|w| known(w))
                }
                // What it names is unknown: keep the cast.
                Err(_) => true,
            },
        }
    }

    fn call(&mut self, cx: &Cx, n: Node) -> Result<ExprKind, Box<Expr>> {
        let text = cx.text(n);
        let func = field!(n, "function");
        let (callee, template_args) = match func {
            Some(f) if f.kind() == "template_function" => {
                let name = field!(f, "name")
                    .map(|x| cx.text(x).to_string())
                    .unwrap_or_default();
                let args = field!(f, "arguments")
                    .map(|a| {
                        let mut c = a.walk();
                        a.named_children(&mut c)
                            .map(|x| cx.text(x).trim().to_string())
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                (name, args)
            }
            // `ns::run<float>(x)`: the qualified name, and the arguments of
            // its last part (a class template's `S<T>::f()` keeps them in
            // the name).
            Some(f) if f.kind() == "qualified_identifier" => {
                let mut last = f;
                while let Some(name) =
                    field!(last, "name").filter(|_| last.kind() == "qualified_identifier")
                {
                    last = name;
                }
                match (
                    last.kind() == "template_function",
                    field!(last, "name"),
                    field!(last, "arguments"),
                ) {
                    (true, Some(name), Some(args)) => {
                        let scope = &cx.text(f)[..last.start_byte() - f.start_byte()];
                        let mut c = args.walk();
                        let args = (args.named_children(&mut c))
                            .map(|x| cx.text(x).trim().to_string())
                            .collect::<Vec<_>>();
                        (format!("{}{}", scope.trim(), cx.text(name)), args)
                    }
                    _ => (cx.text(f).to_string(), Vec::new()),
                }
            }
            Some(f) => (cx.text(f).to_string(), Vec::new()),
            None => (String::new(), Vec::new()),
        };
        // A function-like macro, or an object-like one naming a function
        // (`#define SQRT sqrtf` then `SQRT(x)`): the call expands as cpp
        // expands it.
        if cx.is_raw()
            && func.is_some_and(|f| f.kind() == "identifier")
            && self.macros.get(&callee).is_some()
        {
            return Err(Box::new(self.expand_expr(cx, text, cx.span(n))));
        }
        let args: Vec<Node> = field!(n, "arguments")
            .map(|a| {
                let mut c = a.walk();
                a.named_children(&mut c)
                    .filter(|x| x.kind() != "comment")
                    .collect()
            })
            .unwrap_or_default();
        let mut lowered: Vec<Expr> = args.into_iter().map(|a| self.expr(cx, a)).collect();
        // `kernel<<<...>>>(...)`
        let mut c = n.walk();
        if let Some(config) = n
            .children(&mut c)
            .find(|c| c.kind() == "kernel_call_syntax")
        {
            let mut c2 = config.walk();
            let cfg: Vec<Node> = config.named_children(&mut c2).collect();
            let config = cfg.into_iter().map(|x| self.expr(cx, x)).collect();
            self.launches_lowered += 1;
            return Ok(ExprKind::Launch(Box::new(LaunchExpr {
                kernel: callee,
                template_args,
                config,
                args: lowered,
            })));
        }
        let plain = callee.trim_start_matches("::");
        let cast = match plain {
            "static_cast" | "const_cast" => Some(false),
            "reinterpret_cast" => Some(true),
            _ => None,
        };
        if let Some(reinterpret) = cast
            && lowered.len() == 1
        {
            let ty = func
                .and_then(|f| field!(f, "arguments"))
                .and_then(|a| a.named_child(0))
                .map(|t| self.type_descriptor(cx, t))
                .unwrap_or_default();
            return Ok(ExprKind::Cast {
                ty: Box::new(ty),
                reinterpret,
                expr: Box::new(lowered.remove(0)),
            });
        }
        // `obj.m(...)`, `p->m(...)`: the object, for method calls
        // (`build.rs` lowers the methods of structs as `S::m`).
        let (receiver, arrow) = match func {
            Some(f) if f.kind() == "field_expression" => (
                field!(f, "argument").map(|a| Box::new(self.expr(cx, a))),
                field!(f, "operator").is_some_and(|o| cx.text(o) == "->"),
            ),
            _ => (None, false),
        };
        Ok(ExprKind::Call(Box::new(CallExpr {
            callee,
            template_args,
            args: lowered,
            receiver,
            arrow,
        })))
    }

    /// Lowers source `text` that tree-sitter did not parse as an expression
    /// (e.g. a "parameter" of a vexing parse), with every node at `span`.
    pub(super) fn text_expr(&mut self, cx: &Cx, text: &str, span: Span) -> Expr {
        let mut e = self.expand_expr(cx, text, span);
        if !text
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|w| self.macros.is_defined(w))
        {
            e.from_macro = false;
        }
        e
    }

    /// Expands the macro invocation `text` and lowers the result as an expression
    /// whose nodes all point at `span`.
    fn expand_expr(&mut self, cx: &Cx, text: &str, span: Span) -> Expr {
        let unknown = |t: &str| Expr {
            kind: ExprKind::Unknown(t.to_string()),
            span,
            from_macro: true,
        };
        let mut expanded = match self.macros.expand_text(text) {
            Ok(e) => e,
            Err(err) => {
                self.diag(cx, span, Severity::Hint, "macro-recursion", err.to_string());
                return unknown(text);
            }
        };
        // `#define INV_SQRT_2 0.7071f;` (the CUDA samples' dwtHaar1D): code
        // that compiles has such a macro last in its statement, where the
        // `;` only adds an empty statement.
        while let Some(e) = expanded.trim_end().strip_suffix(';') {
            expanded = e.to_string();
        }
        // The same expansion lowers to the same expression (but for its
        // span) while the known types are the same: `TILE`, `IDX(y, x, n)`
        // are used over and over, and parsing each again costs a parser run.
        let key = ExpansionKey {
            text: expanded,
            in_main_file: cx.is_main(),
            types: self.model.types.known_count(),
        };
        if let Some(known) = self.expansions.get(&key) {
            let mut e = known.clone();
            e.set_span_everywhere(span);
            return e;
        }
        let before = (
            self.model.diagnostics.len(),
            self.launches_lowered,
            self.nesting_refusals,
        );
        let e = self.lower_expansion(cx, &key.text, span);
        let after = (
            self.model.diagnostics.len(),
            self.launches_lowered,
            self.nesting_refusals,
        );
        // Only what lowering left no trace of elsewhere can be reused.
        if before == after && self.expansions.len() < MAX_CACHED_EXPANSIONS {
            self.expansions.insert(key, e.clone());
        }
        e
    }

    fn lower_expansion(&mut self, cx: &Cx, expanded: &str, span: Span) -> Expr {
        let unknown = |t: &str| Expr {
            kind: ExprKind::Unknown(t.to_string()),
            span,
            from_macro: true,
        };
        let wrapped = format!("{EXPANSION_PREFIX}({expanded});}}");
        let Some(tree) = parse(&mut self.expansion_parser, &wrapped, None) else {
            return unknown(expanded);
        };
        let inner = expansion_body(tree.root_node())
            .and_then(|b| b.named_child(0))
            .filter(|s| s.kind() == "expression_statement")
            .and_then(|s| s.named_child(0));
        match inner {
            Some(e) if !e.has_error() => {
                let ecx = Cx {
                    src: &wrapped,
                    file: cx.file,
                    origin: Some(span),
                    map: None,
                    skipped: &[],
                };
                self.expr(&ecx, e)
            }
            _ => unknown(expanded),
        }
    }

    /// Expands a statement-level macro invocation into statements.
    fn expand_stmt(&mut self, cx: &Cx, text: &str, span: Span) -> Stmt {
        match self.expand_stmt_by_shape(cx, text, span) {
            Some(stmt) => stmt,
            None => self.expand_stmt_directly(cx, text, span),
        }
    }

    pub(super) fn expand_stmt_directly(&mut self, cx: &Cx, text: &str, span: Span) -> Stmt {
        let expanded = match self.macros.expand_text(text) {
            Ok(e) => e,
            Err(err) => {
                self.diag(cx, span, Severity::Hint, "macro-recursion", err.to_string());
                return Stmt {
                    kind: StmtKind::Unknown(text.to_string()),
                    span,
                };
            }
        };
        let wrapped = format!("{EXPANSION_PREFIX}{expanded}\n;}}");
        let tree = parse(&mut self.expansion_parser, &wrapped, None);
        let body = tree.as_ref().and_then(|t| expansion_body(t.root_node()));
        match body {
            Some(b) if !b.has_error() => {
                let ecx = Cx {
                    src: &wrapped,
                    file: cx.file,
                    origin: Some(span),
                    map: None,
                    skipped: &[],
                };
                let mut stmts = self.stmt_list(&ecx, b);
                stmts.retain(|s| s.kind != StmtKind::Empty);
                if stmts.len() == 1 {
                    stmts.remove(0)
                } else {
                    Stmt {
                        kind: StmtKind::Block(stmts),
                        span,
                    }
                }
            }
            _ => Stmt {
                kind: StmtKind::Unknown(expanded),
                span,
            },
        }
    }

    // ---- statements ---------------------------------------------------------

    pub(super) fn stmt(&mut self, cx: &Cx, n: Node) -> Stmt {
        let span = cx.span(n);
        if !self.enter_nesting(cx, span) {
            return Stmt {
                kind: StmtKind::Unknown(String::new()),
                span,
            };
        }
        let stmt = self.stmt_inner(cx, n, span);
        self.nesting -= 1;
        stmt
    }

    /// Counts one level of nesting; past [`MAX_NESTING`] the construct is
    /// not lowered (with one diagnostic), so no input can exhaust the stack.
    fn enter_nesting(&mut self, cx: &Cx, span: Span) -> bool {
        if self.nesting >= MAX_NESTING {
            self.nesting_refusals += 1;
            if !self.nesting_reported {
                self.nesting_reported = true;
                self.diag(
                    cx,
                    span,
                    Severity::Info,
                    "syntax",
                    format!("code nested more than {MAX_NESTING} levels deep is not analysed"),
                );
            }
            return false;
        }
        self.nesting += 1;
        true
    }

    /// The enumerators of an enum defined in a function body (`enum {
    /// NUM_PARTS = 1024 };` in a host function) as its `const int` locals:
    /// each its written value, else the one before plus one.
    fn local_enumerators(&mut self, cx: &Cx, spec: Node) -> Vec<ir::VarDecl> {
        let Some(body) = field!(spec, "body") else {
            return Vec::new();
        };
        let mut out: Vec<ir::VarDecl> = Vec::new();
        let mut c = body.walk();
        let enumerators: Vec<Node> = (body.named_children(&mut c))
            .filter(|e| e.kind() == "enumerator")
            .collect();
        for e in enumerators {
            let Some(name) = field!(e, "name") else {
                continue;
            };
            let span = cx.span(e);
            let at = |kind| Expr {
                kind,
                span,
                from_macro: false,
            };
            let value = match (field!(e, "value"), out.last()) {
                (Some(v), _) => self.expr(cx, v),
                (None, Some(previous)) => at(ExprKind::Binary(
                    BinOp::Add,
                    Box::new(at(ExprKind::Ident(previous.name.clone()))),
                    Box::new(at(number("1"))),
                )),
                (None, None) => at(number("0")),
            };
            out.push(ir::VarDecl {
                name: cx.text(name).to_string(),
                name_span: cx.span(name),
                span,
                ty: ir::Type {
                    is_const: true,
                    ..ir::Type::named("int")
                },
                dims: Vec::new(),
                init: Some(value),
                ctor_args: None,
                shared: false,
                is_extern: false,
                is_static: false,
                constexpr: true,
            });
        }
        out
    }

    fn stmt_inner(&mut self, cx: &Cx, n: Node, span: Span) -> Stmt {
        let kind = match n.kind() {
            "compound_statement" => StmtKind::Block(self.stmt_list(cx, n)),
            "declaration"
                if field!(n, "type").is_some_and(|t| {
                    t.kind() == "enum_specifier" && field!(t, "body").is_some()
                }) && field!(n, "declarator").is_none() =>
            {
                StmtKind::Decl(self.local_enumerators(cx, field!(n, "type").unwrap_or(n)))
            }
            "declaration" => StmtKind::Decl(self.declaration(cx, n)),
            "expression_statement" => match n.named_child(0) {
                None => StmtKind::Empty,
                Some(e) => {
                    if cx.is_raw() && self.is_macro_invocation(cx, e) {
                        return self.expand_stmt(cx, cx.text(e), span);
                    }
                    StmtKind::Expr(self.expr(cx, e))
                }
            },
            "if_statement" => {
                let cond = self.condition(cx, field!(n, "condition"));
                let then = Box::new(self.opt_stmt(cx, field!(n, "consequence")));
                let els = field!(n, "alternative").map(|a| {
                    let inner = if a.kind() == "else_clause" {
                        a.named_child(0)
                    } else {
                        Some(a)
                    };
                    Box::new(self.opt_stmt(cx, inner))
                });
                StmtKind::If { cond, then, els }
            }
            "for_statement" => {
                let unroll = self.pending_unroll.take();
                let init = match field!(n, "initializer").or_else(|| field!(n, "init")) {
                    Some(i) if i.kind() == "declaration" => vec![Stmt {
                        kind: StmtKind::Decl(self.declaration(cx, i)),
                        span: cx.span(i),
                    }],
                    Some(i) => vec![Stmt {
                        kind: StmtKind::Expr(self.expr(cx, i)),
                        span: cx.span(i),
                    }],
                    None => vec![],
                };
                let cond = field!(n, "condition").map(|c| Box::new(self.expr(cx, c)));
                let step = field!(n, "update").map(|u| Box::new(self.expr(cx, u)));
                let body = Box::new(self.opt_stmt(cx, field!(n, "body")));
                StmtKind::For {
                    init,
                    cond,
                    step,
                    body,
                    unroll,
                }
            }
            // `for (int b : sizes) run(b);`: its header stays unknown (the
            // transpiler refuses it; the analyses know no trip count), its
            // body is read as code (the launches and calls of host code).
            "enum_specifier" if field!(n, "body").is_some() => {
                StmtKind::Decl(self.local_enumerators(cx, n))
            }
            "for_range_loop" => {
                let body = field!(n, "body");
                let header_end = body.map_or(n.end_byte(), |b| b.start_byte());
                let header = cx.src.get(n.start_byte()..header_end).unwrap_or("");
                StmtKind::Block(vec![
                    Stmt {
                        kind: StmtKind::Unknown(header.trim_end().to_string()),
                        span,
                    },
                    self.opt_stmt(cx, body),
                ])
            }
            "while_statement" => StmtKind::While {
                cond: self.condition(cx, field!(n, "condition")),
                body: Box::new(self.opt_stmt(cx, field!(n, "body"))),
            },
            "do_statement" => StmtKind::DoWhile {
                body: Box::new(self.opt_stmt(cx, field!(n, "body"))),
                cond: self.condition(cx, field!(n, "condition")),
            },
            "switch_statement" => StmtKind::Switch {
                cond: self.condition(cx, field!(n, "condition")),
                body: Box::new(self.opt_stmt(cx, field!(n, "body"))),
            },
            "case_statement" => {
                let value_node = field!(n, "value");
                let value = value_node.map(|v| Box::new(self.expr(cx, v)));
                let mut body = Vec::new();
                let mut c = n.walk();
                let children: Vec<Node> = n.named_children(&mut c).collect();
                for ch in children {
                    if Some(ch.id()) == value_node.map(|v| v.id()) || ch.kind() == "comment" {
                        continue;
                    }
                    body.extend(self.stmt_or_preproc(cx, ch));
                }
                StmtKind::Case { value, body }
            }
            "return_statement" => StmtKind::Return(first_named(n).map(|e| self.expr(cx, e))),
            "break_statement" => StmtKind::Break,
            "continue_statement" => StmtKind::Continue,
            "goto_statement" => StmtKind::Goto(
                field!(n, "label")
                    .map(|l| cx.text(l).to_string())
                    .unwrap_or_default(),
            ),
            "labeled_statement" => {
                let label = field!(n, "label")
                    .map(|l| cx.text(l).to_string())
                    .unwrap_or_default();
                let inner = n.named_child(n.named_child_count().saturating_sub(1) as u32);
                StmtKind::Label(label, Box::new(self.opt_stmt(cx, inner)))
            }
            ";" => StmtKind::Empty,
            // `CUDA_KERNEL_LOOP(i, n) { ... }` (Caffe's and HeCBench's
            // grid-stride loop macro): the grammar reads a function-like
            // macro before a block as a nested function definition.
            "function_definition" if cx.is_raw() && self.is_macro_headed_block(cx, n) => {
                return self.expand_stmt(cx, cx.text(n), span);
            }
            _ => StmtKind::Unknown(cx.text(n).to_string()),
        };
        Stmt { kind, span }
    }

    fn opt_stmt(&mut self, cx: &Cx, n: Option<Node>) -> Stmt {
        match n {
            Some(n) => self.stmt(cx, n),
            None => Stmt {
                kind: StmtKind::Empty,
                span: cx.origin.unwrap_or_default(),
            },
        }
    }

    fn condition(&mut self, cx: &Cx, n: Option<Node>) -> Expr {
        let inner = n.and_then(|c| match c.kind() {
            "condition_clause" => field!(c, "value").or_else(|| c.named_child(0)),
            "parenthesized_expression" => first_named(c),
            _ => Some(c),
        });
        match inner {
            Some(e) if e.kind() == "declaration" => ident_expr(cx.text(e), cx.span(e)),
            Some(e) => self.expr(cx, e),
            None => Expr::new(
                ExprKind::Unknown(String::new()),
                cx.origin.unwrap_or_default(),
            ),
        }
    }

    /// The statements of a block, with preprocessor directives applied in place.
    pub(super) fn stmt_list(&mut self, cx: &Cx, block: Node) -> Vec<Stmt> {
        let mut out = Vec::new();
        let mut c = block.walk();
        let children: Vec<Node> = block.named_children(&mut c).collect();
        for ch in children {
            if ch.kind() == "comment" {
                continue;
            }
            out.extend(self.stmt_or_preproc(cx, ch));
        }
        out
    }

    fn stmt_or_preproc(&mut self, cx: &Cx, n: Node) -> Vec<Stmt> {
        if n.kind().starts_with("preproc_") {
            let active = self.preproc(cx, n);
            let mut out = Vec::new();
            for a in active {
                out.extend(self.stmt_or_preproc(cx, a));
            }
            return out;
        }
        vec![self.stmt(cx, n)]
    }

    /// A "function definition" in a body whose declarator is a call of a
    /// function-like macro: `MACRO(args) { ... }` with no type before it.
    fn is_macro_headed_block(&self, cx: &Cx, n: Node) -> bool {
        if field!(n, "type").is_some() {
            return false;
        }
        let Some(d) = field!(n, "declarator").filter(|d| d.kind() == "function_declarator") else {
            return false;
        };
        match field!(d, "declarator") {
            Some(name) if name.kind() == "identifier" => self
                .macros
                .get(cx.text(name))
                .is_some_and(|m| m.params.is_some()),
            _ => false,
        }
    }

    fn is_macro_invocation(&self, cx: &Cx, e: Node) -> bool {
        let name = match e.kind() {
            "identifier" => cx.text(e),
            "call_expression" => match field!(e, "function") {
                Some(f) if f.kind() == "identifier" => cx.text(f),
                _ => return false,
            },
            _ => return false,
        };
        match self.macros.get(name) {
            Some(m) => m.params.is_some() == (e.kind() == "call_expression"),
            None => false,
        }
    }
}

/// The compound statement of the wrapper function around an expansion.
/// Rounds of `disambiguated`: each un-parenthesises at least one name.
const MAX_DISAMBIGUATION_ROUNDS: usize = 8;

/// Words that name types (or are part of one) besides `builtin_layout`'s
/// and C's type keywords.
const TYPE_WORDS: &[&str] = &[
    "uint",
    "ushort",
    "uchar",
    "ulong",
    "longlong",
    "ulonglong",
    "ulonglong2",
    "ulonglong3",
    "char4",
    "uchar3",
    "uint3",
    "half",
    "__half",
    "__half2",
    "half2",
    "__nv_bfloat16",
    "__nv_bfloat162",
    "dim3",
    "wchar_t",
];
/// `name` is a type parameter of a template around `n` (in its own tree:
/// a macro expansion has none).
fn template_parameter_in_scope(cx: &Cx, n: Node, name: &str) -> bool {
    let mut cur = n.parent();
    while let Some(p) = cur {
        if p.kind() == "template_declaration"
            && let Some(params) = field!(p, "parameters")
        {
            let mut c = params.walk();
            for param in params.named_children(&mut c) {
                let mut c2 = param.walk();
                let named = param
                    .named_children(&mut c2)
                    .any(|x| x.kind() == "type_identifier" && cx.text(x) == name);
                if named && param.kind().contains("type_parameter") {
                    return true;
                }
            }
        }
        cur = p.parent();
    }
    false
}

/// `(T)` with unary `op` applied to the leftmost operand of `e` (see
/// `cast_read_as_binary`); spans of the rebuilt nodes start at `start`.
fn attach_cast(e: Expr, ty: &str, op: UnOp, start: usize) -> Expr {
    let span = Span::new(start, e.span.end);
    let from_macro = e.from_macro;
    let kind = match e.kind {
        ExprKind::Binary(b, l, r) => {
            ExprKind::Binary(b, Box::new(attach_cast(*l, ty, op, start)), r)
        }
        other => {
            let inner = Expr {
                kind: other,
                span: e.span,
                from_macro,
            };
            ExprKind::Cast {
                ty: Box::new(ir::Type::named(ty)),
                reinterpret: false,
                expr: Box::new(Expr {
                    kind: ExprKind::Unary(op, Box::new(inner)),
                    span,
                    from_macro,
                }),
            }
        }
    };
    Expr {
        kind,
        span,
        from_macro,
    }
}

/// The first named child of `n` that is no comment (`( // note` puts the
/// comment first).
/// Whether evaluating `e` twice is evaluating it once: no assignment,
/// increment, call or launch in it.
fn side_effect_free(e: &Expr) -> bool {
    let mut pure = true;
    e.walk(&mut |x| {
        if matches!(
            x.kind,
            ExprKind::Assign(..)
                | ExprKind::IncDec { .. }
                | ExprKind::Call(_)
                | ExprKind::Launch(_)
                | ExprKind::Unknown(_)
        ) {
            pure = false;
        }
    });
    pure
}

/// `e` with each variable of `bindings` replaced by its value.
fn substitute_bindings(e: &mut Expr, bindings: &[(String, Expr)]) {
    e.walk_mut(&mut |x| {
        if let ExprKind::Ident(n) = &x.kind
            && let Some((_, value)) = bindings.iter().find(|(b, _)| b == n)
        {
            *x = value.clone();
        }
    });
}

/// `s < n && a[s] >= m` as tree-sitter reads it: `s<n && a[s]>` a
/// template's name and arguments, then `= m` assigning to it; `iter <
/// num_per_thread >> 3` (HeCBench gemv): `iter<num_per_thread>` then `>
/// 3`. No code assigns to a template function written flush against its
/// `>`, or compares one with `>` so, so such an expression is the
/// comparison it spells: its text again, the name parenthesised so that
/// no parser reads a template there.
fn comparison_read_as_template(cx: &Cx, n: Node, op: &str) -> Option<String> {
    let left = field!(n, "left").filter(|l| l.kind() == "template_function")?;
    let name = field!(left, "name").filter(|l| l.kind() == "identifier")?;
    let operator = field!(n, "operator")?;
    if !matches!(op, "=" | ">" | ">=") || left.end_byte() != operator.start_byte() {
        return None;
    }
    let text = cx.text(n);
    let after_name = name.end_byte().checked_sub(n.start_byte())?;
    Some(format!("({}){}", cx.text(name), text.get(after_name..)?))
}

fn first_named(n: Node) -> Option<Node> {
    let mut c = n.walk();
    n.named_children(&mut c).find(|ch| ch.kind() != "comment")
}

fn expansion_body(root: Node) -> Option<Node> {
    let f = root.named_child(0)?;
    if f.kind() != "function_definition" {
        return None;
    }
    field!(f, "body")
}

/// A C numeric literal.
/// A C99 hexadecimal floating literal without its suffix (`0x1.0p-24`,
/// `0x1.8p3`): hex digits, an optional point, a binary exponent.
fn hex_float(lower: &str) -> Option<f64> {
    let body = lower.strip_prefix("0x")?;
    let (mantissa, exponent) = body.split_once('p')?;
    let exponent: i32 = exponent.parse().ok()?;
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{whole}{fraction}");
    if digits.is_empty() || digits.len() > 30 {
        return None;
    }
    let m = u128::from_str_radix(&digits, 16).ok()?;
    let scale = exponent.checked_sub(4 * fraction.len() as i32)?;
    Some(m as f64 * 2f64.powi(scale))
}

pub(super) fn number(text: &str) -> ExprKind {
    // The grammar takes a sign into the literal in places (`float(-0x1p-4)`):
    // a negated float is exact.
    if let Some(rest) = text.strip_prefix('-')
        && let ExprKind::Float { value, single } = number(rest.trim_start())
    {
        return ExprKind::Float {
            value: -value,
            single,
        };
    }
    let lower = text.to_ascii_lowercase();
    let hex = lower.starts_with("0x");
    let is_float = if hex {
        lower.contains('p')
    } else {
        lower.contains('.') || lower.contains('e') || lower.ends_with('f')
    };
    if is_float {
        let single = lower.ends_with('f');
        let digits: String = lower
            .trim_end_matches(['f', 'l'])
            .chars()
            .filter(|&c| c != '\'')
            .collect();
        let value = match hex {
            true => hex_float(&digits),
            false => digits.parse::<f64>().ok(),
        };
        match value {
            Some(value) => ExprKind::Float { value, single },
            // Never a made-up value: the literal stays unknown (refused).
            None => ExprKind::Unknown(text.to_string()),
        }
    } else {
        let suffix = lower.trim_start_matches(|c: char| {
            c.is_ascii_hexdigit() || c == 'x' || c == '\'' || c == 'b'
        });
        match parse_int_literal(text).and_then(ir::int_literal_bits) {
            Some((value, too_big_for_signed)) => ExprKind::Int {
                value,
                unsigned: suffix.contains('u') || too_big_for_signed,
                long: suffix.contains('l'),
            },
            None => ExprKind::Unknown(text.to_string()),
        }
    }
}

#[cfg(test)]
mod literal_tests {
    use super::number;
    use crate::ir::ExprKind;

    /// Hexadecimal floats (vLLM-style `(x >> 8) * 0x1.0p-24f`, HeCBench's
    /// attention-paged) are their values; they were NaN, silently.
    #[test]
    fn hexadecimal_floats_are_their_values() {
        for (text, want, single) in [
            ("0x1.0p-24f", 2f64.powi(-24), true),
            ("0x1.8p3", 12.0, false),
            ("0X.8P1", 1.0, false),
            ("0x10p-4", 1.0, false),
            ("-0xf.8p-4", -0.96875, false),
        ] {
            assert_eq!(
                number(text),
                ExprKind::Float {
                    value: want,
                    single
                },
                "{text}"
            );
        }
        // What cannot be read is unknown, never a made-up number.
        assert!(matches!(number("0x1.0q5"), ExprKind::Unknown(_)));
    }
}
