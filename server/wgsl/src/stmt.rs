//! Statements and declarations: C control flow onto WGSL's structured
//! control flow (`loop`/`continuing` where `for`/`while` headers cannot hold
//! the C code), `switch` with fallthrough emulated, locals and shared arrays.

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Expr, ExprKind, Stmt, StmtKind, Type as CType, VarDecl};

use crate::context::{AtomicRepr, FnLower, Prec, Sym, Val};
use crate::emit::{BlockKind, WStmt};
use crate::types::{ArrayLen, Konst, Scalar, Ty, promote};
use crate::wexpr::WExpr;

impl FnLower<'_, '_> {
    /// The text the current function's spans index (`None`: a header whose
    /// text the caller did not give).
    pub(crate) fn function_text(&self) -> Option<&str> {
        let file = self.m.model.function(&self.function)?.file.as_deref();
        self.m.texts.text_of(file)
    }

    /// Lowers the statements of `s` into `out` without opening a WGSL block
    /// (a C block still opens a scope for name resolution).
    pub fn stmt_flat(&mut self, s: &Stmt, out: &mut Vec<WStmt>) {
        match &s.kind {
            StmtKind::Block(items) => {
                self.push_scope();
                for item in items {
                    self.stmt_at_origin(item, out);
                }
                self.pop_scope();
            }
            _ => self.stmt_at_origin(s, out),
        }
    }

    /// Lowers `s` after a [`WStmt::Origin`] naming its source line (for
    /// the sidecar's source map), dropped if `s` lowers to nothing.
    fn stmt_at_origin(&mut self, s: &Stmt, out: &mut Vec<WStmt>) {
        let Some(origin) = self.source_line(s.span) else {
            return self.stmt(s, out);
        };
        let mark = out.len();
        out.push(WStmt::Origin(origin));
        self.stmt(s, out);
        if out.len() == mark + 1 {
            out.pop();
        }
    }

    /// The file (a header's path; `None`: the file transpiled) and line of
    /// `span` in the function being lowered.
    fn source_line(&mut self, span: Span) -> Option<crate::bindings::SourceLine> {
        let path = self.m.model.function(&self.function)?.file.clone();
        let text = self.m.texts.text_of(path.as_deref())?;
        let lines = (self.m.line_tables)
            .entry(path.clone())
            .or_insert_with(|| cudalens_syntax::line_table::LineTable::new(text.into()));
        let line = 1 + lines.line_of(span.start) as u32;
        Some(crate::bindings::SourceLine {
            file: path.map(|p| p.display().to_string()),
            line,
        })
    }

    pub fn stmt(&mut self, s: &Stmt, out: &mut Vec<WStmt>) {
        for e in s.own_exprs() {
            self.check_unsequenced(e);
        }
        match &s.kind {
            StmtKind::Empty => {}
            StmtKind::Decl(decls) => {
                for d in decls {
                    self.decl(d, out);
                }
            }
            StmtKind::Expr(e) => self.expr_stmt(e, out),
            StmtKind::Block(items) => {
                // A macro that expands to several statements is not a C
                // block; one whose body is a braced block is (`#define
                // swap(a, b) {float tmp = a; a = b; b = tmp;}`, used twice).
                let real_block = self.function_text().is_none_or(|text| {
                    let written = s.span.text(text);
                    written.starts_with('{')
                        || self.m.model.macros.expand_text(written).is_ok_and(|e| {
                            let e = e.trim().trim_end_matches(';').trim_end();
                            e.starts_with('{') && e.ends_with('}')
                        })
                });
                if real_block {
                    let mut inner = Vec::new();
                    self.stmt_flat(s, &mut inner);
                    if !inner.is_empty() {
                        out.push(WStmt::Block(BlockKind::Bare, inner));
                    }
                } else {
                    for item in items {
                        self.stmt(item, out);
                    }
                }
            }
            StmtKind::If { cond, then, els } => {
                // `if (p != nullptr)` of a pointer this call passes as null:
                // only the branch taken is lowered (the other may use `p`).
                if let Some(holds) = self.null_param_test(cond) {
                    let taken = if holds { Some(&**then) } else { els.as_deref() };
                    if let Some(branch) = taken {
                        let mut inner = Vec::new();
                        self.stmt_flat(branch, &mut inner);
                        out.push(WStmt::Block(BlockKind::Bare, inner));
                    }
                    return;
                }
                let c = self.condition(cond, out);
                // A condition known while compiling (`if constexpr
                // (std::is_same_v<T, unsigned>)`, a template value): only
                // the branch taken is lowered; the other never runs (and
                // under `if constexpr` need not compile for this instance).
                if let Some(k) = c.konst {
                    let taken = if k.truthy() {
                        Some(&**then)
                    } else {
                        els.as_deref()
                    };
                    if let Some(branch) = taken {
                        let mut inner = Vec::new();
                        self.stmt_flat(branch, &mut inner);
                        out.push(WStmt::Block(BlockKind::Bare, inner));
                    }
                    return;
                }
                let mut then_out = Vec::new();
                self.stmt_flat(then, &mut then_out);
                let mut els_out = Vec::new();
                if let Some(e) = els {
                    self.stmt_flat(e, &mut els_out);
                }
                out.push(WStmt::If {
                    cond: c.expr.clone(),
                    then: then_out,
                    els: els_out,
                });
            }
            StmtKind::For {
                init,
                cond,
                step,
                body,
                unroll,
            } => {
                let parts = ForParts {
                    init,
                    cond: cond.as_deref(),
                    step: step.as_deref(),
                    body,
                    pragma: *unroll,
                    span: s.span,
                };
                self.for_loop(parts, out)
            }
            StmtKind::While { cond, body } => self.while_loop(cond, body, out),
            StmtKind::DoWhile { body, cond } => self.do_while(body, cond, out),
            StmtKind::Switch { cond, body } => self.switch(cond, body, s.span, out),
            StmtKind::Case { .. } => {
                self.m.error(s.span, "`case` label outside a `switch`");
            }
            StmtKind::Return(value) => self.ret(value.as_ref(), s.span, out),
            StmtKind::Break => {
                if self.loop_depth == 0 && self.switch_depth == 0 {
                    self.m.error(s.span, "`break` outside a loop or `switch`");
                } else {
                    out.push(WStmt::Break);
                }
            }
            StmtKind::Continue => {
                if self.loop_depth == 0 {
                    self.m.error(s.span, "`continue` outside a loop");
                } else if self.emulated_switch_depth > 0 {
                    self.m.error(
                        s.span,
                        "`continue` inside a `switch` with fallthrough is not supported (the switch is lowered to a loop)",
                    );
                } else {
                    out.push(WStmt::Continue);
                }
            }
            StmtKind::Goto(_) | StmtKind::Label(..) => {
                self.m.error(
                    s.span,
                    "`goto` and labels cannot be expressed in WGSL (structured control flow only)",
                );
            }
            StmtKind::Unknown(text) => {
                let t = text.trim_start();
                if without_comments(t).trim().is_empty() {
                    // A comment the front end kept as a statement.
                } else if t.starts_with("static_assert") {
                    // Checked by nvcc at compile time: no run-time effect.
                } else if self.block_reduce_alias(t, s.span) {
                    // `typedef cub::BlockReduce<float, 256> BlockReduce;` (cub.rs).
                } else if t.starts_with("namespace ") && t.contains('=') {
                    // `namespace cg = cooperative_groups;`: an alias of a
                    // namespace (the lowering reads `cg::` as cooperative
                    // groups wherever it is written).
                } else if let Some((name, ty)) = local_alias(t) {
                    // `using T_ACC = T;`, `typedef int4 copy_t;`: the rest of
                    // the function names the type.
                    let ty = self.subst_type(&ty);
                    self.template_types.insert(name, ty);
                } else if let Some((name, ty)) = self.templated_alias(t) {
                    // `typedef interval_gpu<T> I;`, `using T2 = typename
                    // TypeConverter<T>::Type;`: with this instance's arguments.
                    self.template_types.insert(name, ty);
                } else if t.starts_with("#pragma") {
                    self.m.warning(s.span, "pragma ignored");
                } else if t.starts_with("asm") {
                    self.m
                        .error(s.span, "inline PTX assembly cannot be expressed in WGSL");
                } else {
                    let short: String = t.chars().take(60).collect();
                    self.m
                        .error(s.span, format!("unsupported statement `{short}`"));
                }
            }
        }
    }

    fn ret(&mut self, value: Option<&Expr>, span: Span, out: &mut Vec<WStmt>) {
        match value {
            None if self.ret == Ty::Void => out.push(WStmt::Return(None)),
            None => {
                self.m.error(
                    span,
                    "`return` without a value in a function that returns one",
                );
            }
            Some(e) if self.ret == Ty::Void => {
                if self.is_kernel {
                    self.m.error(e.span, "a kernel cannot return a value");
                } else {
                    self.expr_stmt(e, out);
                    out.push(WStmt::Return(None));
                }
            }
            // `return (T2){a, b};` (a compound literal, whose braces the
            // front end keeps): a value of the return type.
            Some(e) if matches!(e.kind, ExprKind::InitList(_)) && self.narrow_ret.is_none() => {
                let ret = self.ret.clone();
                if let Some(v) = self.initializer(e, &ret, out) {
                    out.push(WStmt::Return(Some(v.expr)));
                }
            }
            Some(e) => {
                let v = self.expr(e, out);
                let ret = self.ret.clone();
                let mut v = self.convert(v, &ret, e.span);
                if let Some(k) = self.narrow_ret {
                    v = self.narrow(v, k, e.span);
                }
                out.push(WStmt::Return(Some(v.expr)));
            }
        }
    }

    /// A loop body, with `continue` allowed again inside an emulated switch.
    fn loop_body(&mut self, body: &Stmt, out: &mut Vec<WStmt>) {
        let saved = self.emulated_switch_depth;
        self.emulated_switch_depth = 0;
        self.loop_depth += 1;
        self.stmt_flat(body, out);
        self.loop_depth -= 1;
        self.emulated_switch_depth = saved;
    }

    /// The condition of a loop: the statements it needs and its value.
    fn loop_cond(&mut self, cond: &Expr) -> (Vec<WStmt>, Val) {
        let mut pre = Vec::new();
        let v = self.condition(cond, &mut pre);
        (pre, v)
    }

    fn for_loop(&mut self, f: ForParts, out: &mut Vec<WStmt>) {
        self.push_scope();
        let mut init_out = Vec::new();
        for s in f.init {
            self.stmt(s, &mut init_out);
        }
        let (cond_pre, cond_val) = match f.cond {
            Some(c) => {
                let (p, v) = self.loop_cond(c);
                (p, Some(v))
            }
            None => (Vec::new(), None),
        };
        let mut step_out = Vec::new();
        if let Some(st) = f.step {
            self.expr_stmt(st, &mut step_out);
        }
        let factor = crate::unroll::factor(self.m.opts.unroll, f.pragma);
        let guard = match &cond_val {
            Some(c) if factor > 1 && cond_pre.is_empty() => self.unroll_guard(&f, c, factor),
            _ => None,
        };
        let mut body_out = Vec::new();
        self.loop_body(f.body, &mut body_out);
        let shaped = match f.pragma {
            Some(Some(1)) => None,
            _ if cond_pre.is_empty() && guard.is_none() => self.block_shaped_loop(&f),
            _ => None,
        };
        self.pop_scope();

        if let Some((name, scalar, shaped)) = shaped {
            out.push(block_specialized(
                &name,
                scalar,
                &shaped,
                self.m.block,
                body_out.clone(),
                for_statement(init_out, cond_pre, cond_val, step_out, body_out),
            ));
            return;
        }
        let Some(guard) = guard else {
            let lp = for_statement(init_out, cond_pre, cond_val, step_out, body_out);
            out.push(lp);
            return;
        };
        self.record_unrolled(f.span);
        // Main loop: `factor` iterations per pass while that many remain;
        // then the original loop runs what is left.
        let mut main = Vec::new();
        let step_in_header = header_piece(&step_out, false).is_some();
        for copy in 0..factor {
            if !body_out.is_empty() {
                main.push(WStmt::Block(BlockKind::Bare, body_out.clone()));
            }
            if copy + 1 < factor || !step_in_header {
                main.extend(step_out.iter().cloned());
            }
        }
        let main_loop = if step_in_header {
            WStmt::For {
                init: None,
                cond: Some(guard),
                step: step_out.first().cloned().map(Box::new),
                body: main,
            }
        } else {
            WStmt::While {
                cond: guard,
                body: main,
            }
        };
        let remainder = for_statement(Vec::new(), cond_pre, cond_val, step_out, body_out);
        let mut stmts = Vec::new();
        let wrap = !init_out.is_empty();
        stmts.extend(init_out);
        stmts.push(WStmt::Comment(format!(
            "unrolled by {factor}; the second loop runs the remaining iterations"
        )));
        stmts.push(main_loop);
        stmts.push(remainder);
        if wrap {
            out.push(WStmt::Block(BlockKind::Bare, stmts));
        } else {
            out.extend(stmts);
        }
    }

    /// The loop `f` as a block-shaped loop (see [`crate::unroll::block_shaped`])
    /// with its induction variable's WGSL name and type (32-bit integers only).
    /// Must run in the loop's scope.
    fn block_shaped_loop<'f>(
        &self,
        f: &ForParts<'f>,
    ) -> Option<(String, Scalar, crate::unroll::BlockShaped<'f>)> {
        let konst = |n: &str| match self.lookup(n) {
            Some(Sym::Const(v)) => match v.konst {
                Some(Konst::Int(k)) => Some(k),
                _ => None,
            },
            _ => None,
        };
        let shaped =
            crate::unroll::block_shaped(f.init, f.cond, f.step, f.body, self.m.block, &konst)?;
        match self.lookup(shaped.var) {
            Some(Sym::Value {
                wgsl,
                ty: Ty::Scalar(s @ (Scalar::I32 | Scalar::U32)),
                ..
            }) => Some((wgsl.clone(), *s, shaped)),
            _ => None,
        }
    }

    /// The main loop's condition when the loop `f` can be unrolled by
    /// `factor` (see [`crate::unroll`]): the original condition `cond` and
    /// "at least `factor` iterations remain", as `b - i > (factor-1)*step`
    /// (`>=` for `<=` loops). `cond` is checked first, so `b - i` is
    /// positive and cannot wrap for unsigned types; where it wraps negative
    /// for signed ones the guard fails and the remainder loop does the work.
    /// Must run in the loop's scope, after its init.
    fn unroll_guard(&mut self, f: &ForParts, cond: &Val, factor: u32) -> Option<WExpr> {
        let diags = self.m.diags.len();
        let guard = self.unroll_guard_inner(f, cond, factor);
        // Whatever was reported while lowering the guard was reported for
        // the original condition and step already.
        self.m.diags.truncate(diags);
        guard
    }

    fn unroll_guard_inner(&mut self, f: &ForParts, cond: &Val, factor: u32) -> Option<WExpr> {
        use cudalens_syntax::ir::BinOp;
        let c = crate::unroll::candidate(self.m.model, f.cond, f.step, f.body)?;
        match self.lookup(c.var) {
            Some(Sym::Value {
                ty: Ty::Scalar(s), ..
            }) if s.is_int() => {}
            _ => return None,
        }
        for name in crate::unroll::names(c.bound) {
            if c.body_writes.contains(name) || self.addr_taken.contains(name) {
                return None;
            }
            match self.lookup(name) {
                Some(Sym::Value { .. } | Sym::Const(_)) => {}
                Some(_) => return None,
                None if matches!(name, "threadIdx" | "blockIdx" | "blockDim" | "gridDim") => {}
                None => return None,
            }
        }
        let mut scratch = Vec::new();
        let step = match c.step {
            crate::unroll::StepBy::One => 1,
            crate::unroll::StepBy::Const(e) => match self.expr(e, &mut scratch).konst {
                Some(Konst::Int(k)) => k,
                _ => return None,
            },
        };
        let span = f.cond.map(|e| e.span).unwrap_or(f.span);
        let ahead = step.checked_mul(i128::from(factor - 1))?;
        if step <= 0 || ahead > i128::from(i32::MAX) {
            return None;
        }
        let bound = self.expr(c.bound, &mut scratch);
        let var = Expr::new(ExprKind::Ident(c.var.to_string()), span);
        let var = self.expr(&var, &mut scratch);
        if !scratch.is_empty()
            || bound.ptr.is_some()
            || !bound.ty.scalar().is_some_and(|s| s.is_int())
        {
            return None;
        }
        let left = self.binary(BinOp::Sub, bound, var, span);
        let op = if c.inclusive { BinOp::Ge } else { BinOp::Gt };
        let enough = self.binary(op, left, Val::konst(Konst::Int(ahead), Scalar::I32), span);
        if enough.is_error() || enough.konst.is_some() || cond.is_error() {
            return None;
        }
        let rel = [
            Prec::Primary,
            Prec::Unary,
            Prec::Mul,
            Prec::Add,
            Prec::Shift,
            Prec::Rel,
        ];
        let mut first = rel.to_vec();
        first.push(Prec::LogAnd);
        Some(WExpr::binary(
            cond.operand_expr(&first),
            "&&",
            enough.operand_expr(&rel),
        ))
    }

    /// Notes an unrolled loop for [`crate::unrollable_loops`]: loops written
    /// in the main file (not produced by a macro), each once.
    fn record_unrolled(&mut self, span: Span) {
        let in_main_file = self
            .m
            .model
            .function(&self.function)
            .is_some_and(|f| f.in_main_file());
        if in_main_file
            && span.text(self.m.texts.main).starts_with("for")
            && !self.m.unrolled_loops.contains(&span)
        {
            self.m.unrolled_loops.push(span);
        }
    }

    fn while_loop(&mut self, cond: &Expr, body: &Stmt, out: &mut Vec<WStmt>) {
        let (pre, c) = self.loop_cond(cond);
        let mut body_out = Vec::new();
        self.loop_body(body, &mut body_out);
        if pre.is_empty() {
            out.push(WStmt::While {
                cond: c.expr,
                body: body_out,
            });
            return;
        }
        let mut lp = pre;
        lp.push(break_unless(&c));
        lp.extend(body_out);
        out.push(WStmt::Block(BlockKind::Loop, lp));
    }

    /// `do { body } while (cond);` → `loop { body continuing { break if !cond; } }`:
    /// `continue` in the body reaches the condition, as in C.
    fn do_while(&mut self, body: &Stmt, cond: &Expr, out: &mut Vec<WStmt>) {
        let mut body_out = Vec::new();
        self.loop_body(body, &mut body_out);
        let (mut pre, c) = self.loop_cond(cond);
        let negated = negate(&c);
        pre.push(WStmt::BreakIf(negated));
        // Keep the body's declarations out of the condition's scope.
        let declares = body_out.iter().any(WStmt::declares);
        let mut lp = if declares {
            vec![WStmt::Block(BlockKind::Bare, body_out)]
        } else {
            body_out
        };
        lp.push(WStmt::Block(BlockKind::Continuing, pre));
        out.push(WStmt::Block(BlockKind::Loop, lp));
    }

    // ---- switch -----------------------------------------------------------------

    fn switch(&mut self, cond: &Expr, body: &Stmt, span: Span, out: &mut Vec<WStmt>) {
        let sel = self.expr(cond, out);
        let sel_ty = promote(&sel.ty);
        if !matches!(sel_ty, Ty::Scalar(Scalar::I32 | Scalar::U32)) {
            if !sel.is_error() {
                self.m
                    .error(cond.span, "`switch` on a non-32-bit-integer value");
            }
            return;
        }
        let sel = self.convert(sel, &sel_ty, cond.span);
        self.switch_depth += 1;
        self.switch_body(sel, &sel_ty, body, span, out);
        self.switch_depth -= 1;
    }

    fn switch_body(
        &mut self,
        sel: Val,
        sel_ty: &Ty,
        body: &Stmt,
        span: Span,
        out: &mut Vec<WStmt>,
    ) {
        let items: Vec<&Stmt> = match &body.kind {
            StmtKind::Block(items) => items.iter().collect(),
            _ => vec![body],
        };
        // (label value or None for default, label span, statements)
        let mut cases: Vec<(Option<Val>, Span, Vec<&Stmt>)> = Vec::new();
        for item in items {
            match &item.kind {
                StmtKind::Case { value, body } => {
                    let v = value.as_ref().map(|v| {
                        let mut scratch = Vec::new();
                        let lowered = self.expr(v, &mut scratch);
                        if lowered.konst.is_none() && !lowered.is_error() {
                            self.m
                                .error(v.span, "`case` label must be a compile-time constant");
                        }
                        self.convert(lowered, sel_ty, v.span)
                    });
                    let duplicate = cases.iter().any(|(other, _, _)| match (other, &v) {
                        (Some(a), Some(b)) => a.konst.is_some() && a.konst == b.konst,
                        (None, None) => true,
                        _ => false,
                    });
                    if duplicate {
                        self.m.error(item.span, "duplicate `case` label");
                        continue;
                    }
                    cases.push((v, item.span, body.iter().collect()));
                }
                StmtKind::Empty => {}
                _ => match cases.last_mut() {
                    Some(last) => last.2.push(item),
                    None => {
                        self.m.error(
                            item.span,
                            "statement before the first `case` is unreachable",
                        );
                    }
                },
            }
        }
        let terminates = |body: &[&Stmt]| {
            matches!(
                body.last().map(|s| &s.kind),
                Some(StmtKind::Break | StmtKind::Return(_) | StmtKind::Continue)
            )
        };
        let n = cases.len();
        let falls_through = cases
            .iter()
            .enumerate()
            .any(|(i, (_, _, b))| !b.is_empty() && !terminates(b) && i + 1 < n);
        if falls_through {
            self.switch_with_fallthrough(sel, &cases, span, out);
            return;
        }
        let mut arms: Vec<(String, Vec<WStmt>)> = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        let mut has_default = false;
        for (value, _, body) in &cases {
            labels.push(match value {
                Some(v) => v.text(),
                None => {
                    has_default = true;
                    "default".into()
                }
            });
            if body.is_empty() && labels.len() < n {
                continue;
            }
            let mut stmts = Vec::new();
            self.push_scope();
            let trimmed: &[&Stmt] = match body.last().map(|s| &s.kind) {
                Some(StmtKind::Break) => &body[..body.len() - 1],
                _ => body,
            };
            for s in trimmed {
                self.stmt(s, &mut stmts);
            }
            self.pop_scope();
            let head = if labels == ["default"] {
                "default".to_string()
            } else {
                format!("case {}", labels.join(", "))
            };
            arms.push((head, stmts));
            labels.clear();
        }
        if !has_default {
            arms.push(("default".into(), vec![]));
        }
        out.push(WStmt::Switch {
            selector: sel.expr.clone(),
            arms,
        });
    }

    /// C fallthrough: a one-iteration `loop` where each case runs when it
    /// matches or an earlier case fell into it; `break` leaves the loop.
    fn switch_with_fallthrough(
        &mut self,
        sel: Val,
        cases: &[(Option<Val>, Span, Vec<&Stmt>)],
        _span: Span,
        out: &mut Vec<WStmt>,
    ) {
        let sel = self.materialize(sel, "selector", out);
        let fall = self.fresh("fallthrough");
        let equals = |v: &Val| WExpr::binary(sel.expr.clone(), "==", v.expr.clone());
        let values: Vec<WExpr> = cases
            .iter()
            .filter_map(|(v, _, _)| v.as_ref().map(equals))
            .collect();
        let mut body = vec![
            WStmt::Comment("`switch` with fallthrough".into()),
            WStmt::decl("var", fall.clone(), None, Some(WExpr::literal("false"))),
        ];
        self.emulated_switch_depth += 1;
        for (value, _, stmts) in cases {
            let matches = match value {
                Some(v) => equals(v),
                None => match values
                    .iter()
                    .cloned()
                    .reduce(|a, b| WExpr::binary(a, "||", b))
                {
                    None => WExpr::literal("true"),
                    Some(any) => WExpr::unary("!", WExpr::paren(any)),
                },
            };
            let mut inner = vec![WStmt::assign(
                WExpr::name(fall.clone()),
                WExpr::literal("true"),
            )];
            self.push_scope();
            for s in stmts {
                self.stmt(s, &mut inner);
            }
            self.pop_scope();
            body.push(WStmt::If {
                cond: WExpr::binary(WExpr::name(fall.clone()), "||", matches),
                then: inner,
                els: vec![],
            });
        }
        self.emulated_switch_depth -= 1;
        body.push(WStmt::Break);
        out.push(WStmt::Block(BlockKind::Loop, body));
    }

    // ---- declarations -------------------------------------------------------------

    pub fn decl(&mut self, d: &VarDecl, out: &mut Vec<WStmt>) {
        if self.scopes.last().is_some_and(|s| s.contains_key(&d.name)) {
            self.m.error(
                d.span,
                format!("redeclaration of `{}` in the same scope", d.name),
            );
            return;
        }
        // `REAL_T row = values + k;` where the template's `REAL_T` is a
        // pointer type: a pointer variable.
        let bound = self.subst_type(&d.ty);
        if bound.pointer > d.ty.pointer {
            let d = VarDecl {
                ty: bound,
                ..d.clone()
            };
            return self.decl(&d, out);
        }
        if d.ty.pointer == 0 && self.block_reduce_storage(&d.ty, &d.name, !d.dims.is_empty()) {
            return;
        }
        if d.shared {
            self.shared_decl(d, false);
            return;
        }
        // `SharedMemory<T> smem;`: a pointer to the block's dynamic shared
        // memory, as `T *smem = SharedMemory<T>();` would be.
        if d.ty.pointer == 0
            && d.dims.is_empty()
            && d.init.is_none()
            && d.ctor_args.is_none()
            && let [element] = d.ty.template_args.as_slice()
            && crate::source_facts::is_shared_memory_object(self.m.texts, &d.ty.base)
        {
            let element = CType::named(&cudalens_syntax::types::normalize_base(element));
            let array = self.dynamic_shared_of(&d.ty.base, element.clone(), d, d.span);
            let pointer = VarDecl {
                ty: CType {
                    pointer: 1,
                    ..element
                },
                init: Some(array),
                ..d.clone()
            };
            self.shared_accessors.insert(d.name.clone());
            self.pointer_decl(&pointer, out);
            return;
        }
        if d.ty.pointer == 0 && d.dims.is_empty() && self.is_tile_decl(&d.ty.base, d.init.as_ref())
        {
            let size =
                d.ty.template_args
                    .first()
                    .and_then(|a| a.trim().parse().ok());
            match &d.init {
                Some(init) => self.tile_decl(&d.name, size, init, d.span),
                None => {
                    self.m.error(
                        d.span,
                        "a `thread_block_tile` must be initialised with `tiled_partition<32>(block)`",
                    );
                }
            }
            return;
        }
        // `auto g = cg::coalesced_threads();`
        if d.ty.pointer == 0
            && d.dims.is_empty()
            && matches!(
                crate::source_facts::strip_cg(&d.ty.base),
                "auto" | "coalesced_group"
            )
            && let Some(ExprKind::Call(call)) = d.init.as_ref().map(|e| &e.kind)
            && crate::source_facts::strip_cg(&call.callee) == "coalesced_threads"
        {
            self.coalesced_decl(&d.name, d.span, out);
            return;
        }
        // `auto block = cg::this_thread_block();` declares the block too.
        let auto_block = d.ty.base == "auto"
            && matches!(d.init.as_ref().map(|e| &e.kind),
                Some(ExprKind::Call(call)) if crate::source_facts::is_this_thread_block(&call.callee));
        if (crate::source_facts::is_thread_block_type(&d.ty.base) || auto_block)
            && d.ty.pointer == 0
            && d.dims.is_empty()
        {
            let from_block = match d.init.as_ref().map(|e| &e.kind) {
                Some(ExprKind::Call(call)) => {
                    crate::source_facts::is_this_thread_block(&call.callee)
                }
                Some(ExprKind::Ident(other)) => {
                    matches!(self.lookup(other), Some(Sym::ThreadBlock))
                }
                _ => false,
            };
            if from_block {
                self.declare(&d.name, Sym::ThreadBlock);
            } else {
                self.m.error(
                    d.span,
                    "a `thread_block` must be initialised with `this_thread_block()`",
                );
            }
            return;
        }
        // `static constexpr auto i8_min = ...;` (vLLM's quantization
        // helpers), `static double const c[] = {...};` (HeCBench fresnel's
        // Chebyshev coefficients): CUDA lets a device function's static
        // local only be initialised with constants, so a read-only one is
        // those constants in every thread.
        if d.is_static
            && !d.is_extern
            && (d.constexpr || d.ty.is_const)
            && d.ty.pointer == 0
            && d.init.is_some()
        {
            let d = VarDecl {
                is_static: false,
                ..d.clone()
            };
            return self.decl(&d, out);
        }
        if d.is_static || d.is_extern {
            self.m.error(
                d.span,
                "static/extern local variables are not supported in WGSL",
            );
            return;
        }
        if d.ty.pointer > 0 && d.dims.is_empty() {
            self.pointer_decl(d, out);
            return;
        }
        // `auto p = buf + off;`: a pointer declared by its initializer (a
        // `const auto` pointer is itself const: what it points at is not).
        let pointer_init = d.init.as_ref().is_some_and(|i| match &i.kind {
            // A named array or pointer (not a struct held as one).
            ExprKind::Ident(n) => matches!(
                self.lookup(n),
                Some(
                    Sym::Pointer { .. }
                        | Sym::Array {
                            ty: Ty::Array(..) | Ty::RuntimeArray(..),
                            ..
                        }
                )
            ),
            _ => self.is_pointer_expr(i),
        });
        if d.ty.base == "auto" && d.dims.is_empty() && pointer_init {
            let mut pointer = d.clone();
            pointer.ty.pointer = 1;
            pointer.ty.is_const = false;
            self.pointer_decl(&pointer, out);
            return;
        }
        if d.ty.pointer > 0 {
            self.m
                .error(d.span, "arrays of pointers cannot be expressed in WGSL");
            return;
        }
        // An 8- or 16-bit scalar local: an `i32` every store narrows.
        if d.dims.is_empty() && d.ctor_args.is_none() {
            let t = self.subst_type(&d.ty);
            if let Some(k) = self.packed_of(&t, false)
                && !k.boolean
            {
                let init = match &d.init {
                    Some(init) => {
                        let v = self.expr(init, out);
                        if v.is_error() {
                            Val::error()
                        } else {
                            self.narrow(v, k, d.span)
                        }
                    }
                    None => zero_value(&k.value_type()),
                };
                let name = self.local_name(&d.name);
                // `short b = blockDim.x;`: naga 30 keeps an initializer made of
                // overrides alone for the pipeline to fold, cannot fold the
                // narrowing's `extractBits`, and its SPIR-V backend then
                // panics; the value is stored after the declaration instead.
                let ty = k.value_type().wgsl();
                let what = k.describe();
                if init.is_error() {
                    // Reported where the initializer was lowered.
                } else if init.text().contains("BLOCK_DIM_") {
                    out.push(WStmt::decl("var", name.clone(), Some(ty), None).noted(what));
                    out.push(WStmt::assign(WExpr::from(name.clone()), init.expr.clone()));
                } else {
                    let decl = WStmt::decl("var", name.clone(), Some(ty), Some(init.expr.clone()));
                    out.push(decl.noted(what));
                }
                self.declare(
                    &d.name,
                    Sym::Array {
                        wgsl: name,
                        ty: k.value_type(),
                        mutable: !(d.ty.is_const || d.constexpr),
                        atomic: Some(AtomicRepr::Narrow(k)),
                        module_scope: false,
                    },
                );
                return;
            }
        }
        // An 8- or 16-bit local array: `i32` elements (`vec4<i32>` for
        // `uchar4`) that every store narrows, as `__shared__` ones.
        if !d.dims.is_empty() && d.ctor_args.is_none() {
            let t = self.subst_type(&d.ty);
            if let Some(k) = self.packed_of(&t, false)
                && !k.boolean
            {
                self.narrow_local_array(d, k, out);
                return;
            }
        }
        let auto = d.ty.base == "auto";
        let mut init_val: Option<Val> = None;
        let elem = if auto {
            let Some(init) = &d.init else {
                self.m.error(d.span, "`auto` without an initializer");
                return;
            };
            let v = self.expr(init, out);
            let t = v.ty.clone();
            if v.ptr.is_some() {
                self.m.error(
                    d.span,
                    "`auto` pointers are not supported: write the pointer type",
                );
                return;
            }
            init_val = Some(v);
            t
        } else {
            self.map_type(&d.ty, d.span)
        };
        if elem == Ty::Error {
            self.declare_failed(&d.name);
            return;
        }
        if elem == Ty::Void {
            self.m.error(d.span, "variable of type `void`");
            return;
        }
        let Some(ty) = self.array_type(d, elem.clone(), None) else {
            return;
        };
        let name = self.local_name(&d.name);
        let is_array = !ty.is_value();
        let init_text = if let Some(v) = init_val {
            Some(self.convert(v, &ty, d.span))
        } else if let Some(init) = &d.init {
            self.initializer(init, &ty, out)
        } else if let Some(args) = &d.ctor_args {
            self.constructor(args, &ty, d.span, out)
        } else if let Ty::Struct(s) = &ty
            && self.constructor_of(s, 0).is_some()
        {
            // `S s;` runs `S`'s default constructor.
            self.construct(&s.clone(), &[], d.span, out)
        } else {
            None
        };
        let is_const = d.ty.is_const || d.constexpr;
        if let Some(v) = &init_text
            && is_const
            && !is_array
            && let (Some(k), Ty::Scalar(s)) = (v.konst, &ty)
        {
            out.push(WStmt::decl(
                "const",
                name.clone(),
                Some(ty.wgsl()),
                Some(v.expr.clone()),
            ));
            let mut c = Val::konst(k, *s);
            c.expr = crate::wexpr::WExpr::Name(name);
            c.prec = Prec::Primary;
            self.declare(&d.name, Sym::Const(c));
            return;
        }
        let mutable = is_array || self.assigned.contains(&d.name) || init_text.is_none();
        let keyword = if mutable { "var" } else { "let" };
        match &init_text {
            Some(v) if !v.is_error() => out.push(WStmt::decl(
                keyword,
                name.clone(),
                Some(ty.wgsl()),
                Some(v.expr.clone()),
            )),
            _ => out.push(WStmt::decl("var", name.clone(), Some(ty.wgsl()), None)),
        }
        let sym = if is_array {
            Sym::Array {
                wgsl: name,
                ty,
                mutable: true,
                atomic: None,
                module_scope: false,
            }
        } else {
            Sym::Value {
                wgsl: name,
                ty,
                mutable: mutable && !d.ty.is_const,
            }
        };
        self.declare(&d.name, sym);
    }

    /// `char key[8] = {…}`, `unsigned char s[] = "…"`: an array of the
    /// promoted type whose initial values are narrowed as C stores them.
    fn narrow_local_array(&mut self, d: &VarDecl, k: crate::types::Packed, out: &mut Vec<WStmt>) {
        if !self.try_narrow_local_array(d, k, out) {
            self.declare_failed(&d.name);
        }
    }

    /// A local whose declaration failed (with its diagnostic), declared
    /// anyway so that later uses do not cascade into more errors.
    fn declare_failed(&mut self, name: &str) {
        self.declare(
            name,
            Sym::Value {
                wgsl: name.to_string(),
                ty: Ty::Error,
                mutable: true,
            },
        );
    }

    fn try_narrow_local_array(
        &mut self,
        d: &VarDecl,
        k: crate::types::Packed,
        out: &mut Vec<WStmt>,
    ) -> bool {
        // `char s[] = "abc"` takes its length from the string, NUL included.
        let string = match d.init.as_ref().map(|e| &e.kind) {
            Some(ExprKind::Str(raw)) => match cudalens_syntax::literals::c_string_bytes(raw) {
                Some(bytes) => Some(bytes),
                None => {
                    self.m.error(
                        d.span,
                        "only plain string literals with C's escapes (no prefix, raw string or universal character name) can initialise a `char` array",
                    );
                    return false;
                }
            },
            _ => None,
        };
        let mut sized = d.clone();
        if let (Some(bytes), Some(None)) = (&string, sized.dims.first()) {
            sized.dims[0] = Some(Expr {
                kind: ExprKind::Int {
                    value: bytes.len() as i64,
                    unsigned: false,
                    long: false,
                },
                span: d.span,
                from_macro: false,
            });
        }
        let Some(ty) = self.array_type(&sized, k.value_type(), None) else {
            return false;
        };
        let init = match (&d.init, string) {
            (None, _) => None,
            (Some(_), Some(bytes)) => {
                let Ty::Array(_, ArrayLen::Fixed(n)) = &ty else {
                    self.m.error(
                        d.span,
                        "a string literal initialises a one-dimensional array",
                    );
                    return false;
                };
                if bytes.len() > *n as usize + 1 {
                    self.m.error(d.span, "the string is longer than the array");
                    return false;
                }
                let items: Vec<WExpr> = (0..*n as usize)
                    .map(|i| {
                        let b = bytes.get(i).copied().unwrap_or(0);
                        let v = if k.signed {
                            i64::from(b as i8)
                        } else {
                            i64::from(b)
                        };
                        WExpr::literal(v.to_string())
                    })
                    .collect();
                Some(WExpr::call(ty.wgsl(), items))
            }
            (Some(init), None) => match self.narrow_initializer(init, &ty, k, out) {
                Some(v) => Some(v),
                None => return false,
            },
        };
        let name = self.local_name(&d.name);
        let decl = WStmt::decl("var", name.clone(), Some(ty.wgsl()), init);
        out.push(decl.noted(k.describe()));
        self.declare(
            &d.name,
            Sym::Array {
                wgsl: name,
                ty,
                // Like every local array, a `var` (passed on by pointer).
                mutable: true,
                atomic: Some(AtomicRepr::Narrow(k)),
                module_scope: false,
            },
        );
        true
    }

    /// The WGSL text of an initializer list for an array of narrowed
    /// elements; `None` after an error.
    fn narrow_initializer(
        &mut self,
        init: &Expr,
        ty: &Ty,
        k: crate::types::Packed,
        out: &mut Vec<WStmt>,
    ) -> Option<WExpr> {
        match (&init.kind, ty) {
            (ExprKind::InitList(items), Ty::Array(elem, ArrayLen::Fixed(n))) => {
                if items.len() > *n as usize {
                    self.m.error(init.span, "too many initializers");
                    return None;
                }
                let mut parts = Vec::new();
                for i in 0..*n as usize {
                    match items.get(i) {
                        Some(item) => parts.push(self.narrow_initializer(item, elem, k, out)?),
                        None => parts.push(zero_value(elem).expr),
                    }
                }
                Some(WExpr::call(ty.wgsl(), parts))
            }
            (ExprKind::InitList(_), _) => {
                self.m.error(
                    init.span,
                    "unsupported initializer list for an 8- or 16-bit array",
                );
                None
            }
            _ if ty.is_value() => {
                let v = self.expr(init, out);
                if v.is_error() {
                    return None;
                }
                let v = self.narrow(v, k, init.span);
                (!v.is_error()).then_some(v.expr)
            }
            _ => {
                self.m
                    .error(init.span, "an array must be initialised with a braced list");
                None
            }
        }
    }

    /// The inner dimensions of an array parameter (`5, 5` of `float
    /// w[6][5][5]`: the shape of what it points at), each a compile-time
    /// constant; empty for any other parameter. `None` after an error.
    pub(crate) fn param_rows(&mut self, p: &cudalens_syntax::model::Param) -> Option<Vec<u32>> {
        let mut rows = Vec::new();
        for dim in p.dims.iter().skip(1) {
            let Some(e) = dim else {
                self.m
                    .error(p.name_span, "only the first array dimension may be omitted");
                return None;
            };
            rows.push(self.array_size(e)?);
        }
        Some(rows)
    }

    /// An array dimension: a positive compile-time constant, else `None`
    /// after an error.
    fn array_size(&mut self, e: &Expr) -> Option<u32> {
        let v = self.expr(e, &mut Vec::new());
        match v.konst.map(|k| k.as_int()) {
            Some(n) if n > 0 && n <= i128::from(u32::MAX) => Some(n as u32),
            Some(_) => {
                self.m.error(e.span, "array size must be positive");
                None
            }
            None => {
                if !v.is_error() {
                    self.m
                        .error(e.span, "array size must be a compile-time constant");
                }
                None
            }
        }
    }

    /// The declared type with its array dimensions; `[]` takes the
    /// initializer's length or, for `extern __shared__`, `open_len`.
    pub(crate) fn array_type(
        &mut self,
        d: &VarDecl,
        elem: Ty,
        open_len: Option<ArrayLen>,
    ) -> Option<Ty> {
        let mut lens = Vec::new();
        for (i, dim) in d.dims.iter().enumerate() {
            match dim {
                Some(e) => lens.push(ArrayLen::Fixed(self.array_size(e)?)),
                None if i == 0 => {
                    if let Some(len) = open_len.clone() {
                        lens.push(len);
                    } else if let Some(Expr {
                        kind: ExprKind::InitList(items),
                        ..
                    }) = &d.init
                    {
                        lens.push(ArrayLen::Fixed(items.len().max(1) as u32));
                    } else {
                        self.m.error(d.span, "array without a size");
                        return None;
                    }
                }
                None => {
                    self.m
                        .error(d.span, "only the first array dimension may be omitted");
                    return None;
                }
            }
        }
        let mut ty = elem;
        for len in lens.into_iter().rev() {
            ty = Ty::Array(Box::new(ty), len);
        }
        Some(ty)
    }

    /// `{a, b, c}` for a struct with 8- or 16-bit members: the members in
    /// C's order, each narrow one packed into its run's words
    /// (`types::ByteRuns`), the missing ones zero.
    #[allow(clippy::too_many_arguments)]
    fn byte_struct_initializer(
        &mut self,
        init: &Expr,
        slots: &[Option<&Expr>],
        ty: &Ty,
        def: &cudalens_syntax::types::StructDef,
        runs: &crate::types::ByteRuns,
        fields: &[(String, Ty)],
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        if def
            .fields
            .iter()
            .any(|f| crate::types::pointer_member(f, &self.m.model.types))
        {
            self.m.error(
                init.span,
                format!(
                    "unsupported initializer list for struct `{}` (a pointer member)",
                    def.name
                ),
            );
            return None;
        }
        // The terms OR-ed into each word of each run.
        let mut words: Vec<Vec<Vec<String>>> = (runs.runs.iter())
            .map(|r| vec![Vec::new(); r.words as usize])
            .collect();
        let mut values: std::collections::HashMap<String, String> = Default::default();
        for (f, item) in def.fields.iter().zip(slots) {
            let Some(item) = *item else { continue };
            let Some(m) = runs.member(&f.name) else {
                let fty = fields
                    .iter()
                    .find(|(n, _)| *n == f.name)
                    .map(|(_, t)| t.clone())?;
                let v = self.initializer(item, &fty, out)?;
                values.insert(f.name.clone(), v.text());
                continue;
            };
            let k = m.packed;
            let elements: Vec<&Expr> = match (&item.kind, m.len) {
                (_, 1) => vec![item],
                (ExprKind::InitList(list), n) if list.len() as u64 <= n => list.iter().collect(),
                _ => {
                    self.m.error(
                        item.span,
                        format!(
                            "unsupported initializer for the 8- or 16-bit array member `{}`",
                            f.name
                        ),
                    );
                    return None;
                }
            };
            let unit = u32::from(k.bits / 8) * u32::from(k.lanes);
            for (j, e) in elements.into_iter().enumerate() {
                let v = self.expr(e, out);
                let bits = if k.boolean {
                    let b = self.as_condition(v, e.span);
                    format!("select(0u, 1u, {})", b.text())
                } else {
                    let v = self.narrow(v, k, e.span);
                    if v.is_error() {
                        return None;
                    }
                    match (k.lanes, k.signed) {
                        (4, true) => format!("pack4xI8({})", v.text()),
                        (4, false) => format!("pack4xU8(vec4<u32>({}))", v.text()),
                        _ => format!("(bitcast<u32>({}) & {}u)", v.text(), (1u32 << k.bits) - 1),
                    }
                };
                let byte = (m.first + j as u32) * unit;
                let shift = (byte % 4) * 8;
                let term = if shift == 0 {
                    bits
                } else {
                    format!("({bits} << {shift}u)")
                };
                words[m.run][(byte / 4) as usize].push(term);
            }
        }
        let mut parts = Vec::new();
        for (fname, fty) in fields {
            if let Some(r) = runs.runs.iter().position(|r| r.field == *fname) {
                let ws: Vec<String> = (words[r].iter())
                    .map(|terms| match terms.is_empty() {
                        true => "0u".to_string(),
                        false => terms.join(" | "),
                    })
                    .collect();
                parts.push(format!("{}({})", fty.wgsl(), ws.join(", ")));
            } else {
                parts.push(
                    values
                        .remove(fname)
                        .unwrap_or_else(|| zero_value(fty).text()),
                );
            }
        }
        self.note_type(ty);
        Some(Val::atom(
            format!("{}({})", ty.wgsl(), parts.join(", ")),
            ty.clone(),
        ))
    }

    pub(crate) fn initializer(
        &mut self,
        init: &Expr,
        ty: &Ty,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        match (&init.kind, ty) {
            // Members in order would not be the struct's bit-fields (held in
            // words of their own) nor a union's anonymous struct.
            (ExprKind::InitList(items), Ty::Struct(name))
                if self.m.model.types.bitfields.contains_key(name)
                    && self.constructor_of(name, items.len()).is_none() =>
            {
                self.m.error(
                    init.span,
                    format!("an initializer list of `{name}`, whose members are held in bits of words (bit-fields), is not supported: assign the members"),
                );
                None
            }
            // `S s = {a, b};` of a struct with a constructor: the constructor.
            (ExprKind::InitList(items), Ty::Struct(name))
                if self.constructor_of(name, items.len()).is_some() =>
            {
                self.construct(&name.clone(), items, init.span, out)
            }
            // `un u = {1.0f};`: a union's first member (C's rule).
            (ExprKind::InitList(items), Ty::Struct(name))
                if self.m.model.types.unions.contains(name) =>
            {
                let word = self.union_bits(name);
                let first = (self.m.model.types.structs.get(name))
                    .and_then(|d| d.fields.first())
                    .map(|f| f.ty.clone());
                let (Some(word), Some(first), [item, ..]) = (word, first, items.as_slice()) else {
                    self.m.error(
                        init.span,
                        format!("unsupported initializer list for union `{name}`"),
                    );
                    return None;
                };
                if items.len() > 1 || matches!(item.kind, ExprKind::Designated { .. }) {
                    self.m.error(
                        init.span,
                        format!("a union's initializer list sets its first member only (`{name}`)"),
                    );
                    return None;
                }
                let fty = self.map_type(&first, init.span);
                let v = self.initializer(item, &fty, out)?;
                let bits = match fty == Ty::Scalar(word) {
                    true => v.expr,
                    false => WExpr::call(format!("bitcast<{}>", word.wgsl()), vec![v.expr]),
                };
                self.note_type(ty);
                Some(Val::atom(WExpr::call(ty.wgsl(), vec![bits]), ty.clone()))
            }
            (ExprKind::InitList(items), Ty::Struct(name)) => {
                // Aggregate initialization: members in order (or as
                // designated), the missing ones zero (C++ value-initializes
                // them).
                let fields =
                    match crate::types::struct_members(name, &self.m.model.types, self.m.opts) {
                        Ok(f) => f,
                        Err(e) => {
                            self.m.error(init.span, e);
                            return None;
                        }
                    };
                let types = &self.m.model.types;
                let def = types.structs.get(name)?.clone();
                let slots = match member_items(items, &def) {
                    Ok(slots) => slots,
                    Err(e) => {
                        self.m.error(init.span, e);
                        return None;
                    }
                };
                if let Ok(runs) = crate::types::byte_runs(&def, types)
                    && !runs.members.is_empty()
                {
                    return self
                        .byte_struct_initializer(init, &slots, ty, &def, &runs, &fields, out);
                }
                let pointer = def
                    .fields
                    .iter()
                    .any(|f| crate::types::pointer_member(f, types));
                // An over-aligned struct's padding words (`fields_of`) are
                // no member of C's: zero.
                let padding = fields.len() == slots.len() + 1
                    && fields
                        .last()
                        .is_some_and(|(n, _)| !def.fields.iter().any(|f| f.name == *n));
                if pointer || (slots.len() != fields.len() && !padding) {
                    self.m.error(
                        init.span,
                        format!(
                            "unsupported initializer list for struct `{name}` (a pointer member)"
                        ),
                    );
                    return None;
                }
                let mut parts = Vec::new();
                let items = slots.iter().map(Some).chain(std::iter::repeat(None));
                for ((_, fty), item) in fields.iter().zip(items) {
                    let v = match item {
                        Some(Some(item)) => self.initializer(item, fty, out)?,
                        _ => zero_value(fty),
                    };
                    parts.push(v.expr);
                }
                self.note_type(ty);
                Some(Val::atom(WExpr::call(ty.wgsl(), parts), ty.clone()))
            }
            (ExprKind::InitList(items), Ty::Array(elem, ArrayLen::Fixed(n))) => {
                if items.len() > *n as usize {
                    self.m.error(init.span, "too many initializers");
                    return None;
                }
                let mut parts = Vec::new();
                for i in 0..*n as usize {
                    let v = match items.get(i) {
                        Some(item) => self.initializer(item, elem, out)?,
                        None => zero_value(elem),
                    };
                    parts.push(v.expr);
                }
                Some(Val::atom(WExpr::call(ty.wgsl(), parts), ty.clone()))
            }
            (ExprKind::InitList(items), Ty::Vector(s, n)) => {
                let mut parts = Vec::new();
                for i in 0..*n as usize {
                    let v = match items.get(i) {
                        Some(item) => {
                            let v = self.expr(item, out);
                            self.convert(v, &Ty::Scalar(*s), item.span)
                        }
                        None => Val::konst(Konst::Int(0), *s),
                    };
                    parts.push(v.expr);
                }
                Some(Val::atom(WExpr::call(ty.wgsl(), parts), ty.clone()))
            }
            (ExprKind::InitList(items), Ty::Scalar(_)) if items.len() <= 1 => match items.first() {
                Some(item) => self.initializer(item, ty, out),
                None => Some(zero_value(ty)),
            },
            (ExprKind::InitList(_), _) => {
                self.m.error(init.span, "unsupported initializer list");
                None
            }
            // A `float3` value for a member held as three scalars
            // (`types::triple_member`).
            (_, Ty::Array(elem, ArrayLen::Fixed(3))) if matches!(**elem, Ty::Scalar(_)) => {
                let v = self.expr(init, out);
                if v.is_error() {
                    return None;
                }
                if v.ty != Ty::Vector(elem.scalar()?, 3) {
                    self.m
                        .error(init.span, "array initializer must be a braced list");
                    return None;
                }
                // Read from a `var`: a `let` of a constant vector is a
                // constant when wgpu specializes the module, and naga 30's
                // `process_overrides` then rejects the lanes read from it in
                // an initializer ("can't be introduced - it's already in scope").
                let lanes = if v.is_simple() {
                    v.text()
                } else {
                    let name = self.fresh("lanes");
                    out.push(WStmt::decl("var", name.clone(), None, Some(v.expr.clone())));
                    name
                };
                Some(Val::atom(
                    format!("{}({1}.x, {1}.y, {1}.z)", ty.wgsl(), lanes),
                    ty.clone(),
                ))
            }
            (_, Ty::Array(..)) => {
                self.m
                    .error(init.span, "array initializer must be a braced list");
                None
            }
            _ => {
                let v = self.expr(init, out);
                if v.ptr.is_some() {
                    self.m
                        .error(init.span, "a pointer cannot initialize a value");
                    return None;
                }
                if let Some(v) = self.convert_by_constructor(&v, ty, init.span, out) {
                    return Some(v);
                }
                Some(self.convert(v, ty, init.span))
            }
        }
    }

    /// `dim3 b(16, 16)`, `float2 v(a, b)`, `int x(3)`.
    fn constructor(
        &mut self,
        args: &[Expr],
        ty: &Ty,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        match ty {
            Ty::Vector(s, n) => {
                let mut parts = Vec::new();
                for i in 0..*n as usize {
                    let v = match args.get(i) {
                        Some(a) => {
                            let v = self.expr(a, out);
                            self.convert(v, &Ty::Scalar(*s), a.span)
                        }
                        // dim3's missing components are 1.
                        None => Val::konst(Konst::Int(1), *s),
                    };
                    parts.push(v.expr);
                }
                Some(Val::atom(WExpr::call(ty.wgsl(), parts), ty.clone()))
            }
            Ty::Scalar(_) if args.len() == 1 => {
                let v = self.expr(&args[0], out);
                Some(self.convert(v, ty, span))
            }
            // `Local l(p);` of a struct whose constructor the file defines.
            Ty::Struct(name) if let Some(v) = self.construct(&name.clone(), args, span, out) => {
                Some(v)
            }
            // `S copy(other);`: the implicit copy constructor.
            Ty::Struct(_) if args.len() == 1 => {
                let v = self.expr(&args[0], out);
                if v.is_error() {
                    return None;
                }
                if v.ty != *ty {
                    self.m.error(
                        span,
                        format!(
                            "a `{}` initialised from a `{}`: no constructor of the file takes it",
                            ty.wgsl(),
                            v.ty.wgsl()
                        ),
                    );
                    return None;
                }
                Some(v)
            }
            Ty::Struct(name) => {
                self.m.error(
                    span,
                    format!("struct `{name}` has no constructor for {} arguments in this file (a device constructor is needed)", args.len()),
                );
                None
            }
            _ => {
                self.m.error(span, "unsupported constructor");
                None
            }
        }
    }

    /// The block's dynamic shared memory as the CUDA samples'
    /// `SharedMemory<T>` (struct `accessor`) hands it out for the
    /// declaration `d`: the kernel's `extern __shared__` array of
    /// `element`, declared once as `{accessor}_smem`; an expression naming
    /// it (at `span`).
    fn dynamic_shared_of(
        &mut self,
        accessor: &str,
        element: CType,
        d: &VarDecl,
        span: Span,
    ) -> Expr {
        let name = format!("{accessor}_smem");
        let shared = VarDecl {
            name: name.clone(),
            name_span: d.name_span,
            span: d.span,
            ty: element,
            dims: vec![None],
            init: None,
            ctor_args: None,
            shared: true,
            is_extern: true,
            is_static: false,
            constexpr: false,
        };
        self.shared_decl(&shared, true);
        Expr::new(ExprKind::Ident(name), span)
    }

    /// `T* p = base + offset;` is tracked as a view of `base`; when `p`
    /// moves later it becomes a variable holding the offset.
    fn pointer_decl(&mut self, d: &VarDecl, out: &mut Vec<WStmt>) {
        if d.ty.pointer > 1 {
            self.m
                .error(d.span, "pointers to pointers cannot be expressed in WGSL");
            return;
        }
        let null = |e: &Expr| matches!(e.kind, ExprKind::Int { value: 0, .. });
        let Some(init) = d.init.as_ref().filter(|i| !null(i)) else {
            // `float *p;` (or `= NULL`): bound by its first assignment.
            if d.dims.is_empty() && self.assigned.contains(&d.name) {
                let name = self.local_name(&d.name);
                out.push(WStmt::decl(
                    "var",
                    name.clone(),
                    Some("i32".to_string()),
                    Some(WExpr::literal("0")),
                ));
                self.declare(
                    &d.name,
                    Sym::UnboundPointer {
                        ty: d.ty.clone(),
                        offset_var: name,
                    },
                );
                return;
            }
            self.m.error(d.span, "a pointer must be initialized where it is declared (WGSL has no pointer variables)");
            return;
        };
        // `T *s = SharedMemory<T>();`: the block's dynamic shared memory.
        let accessor;
        let init = match &init.kind {
            ExprKind::Call(call)
                if call.args.is_empty()
                    && crate::source_facts::is_shared_memory_accessor(
                        self.m.texts,
                        call.callee.trim_start_matches("::"),
                    ) =>
            {
                let mut element = d.ty.pointee();
                element.is_const = false;
                let callee = call.callee.trim_start_matches("::");
                accessor = Expr {
                    from_macro: init.from_macro,
                    ..self.dynamic_shared_of(callee, element, d, init.span)
                };
                &accessor
            }
            // `T *sdata = smem.getPointer();` of a `SharedMemory<T> smem`.
            ExprKind::Call(call)
                if call.args.is_empty()
                    && let Some(ExprKind::Ident(object)) =
                        call.receiver.as_deref().map(|r| &r.kind)
                    && self.shared_accessors.contains(object) =>
            {
                call.receiver.as_deref().unwrap_or(init)
            }
            _ => init,
        };
        // `T *p = c ? q + k : nullptr;` (HeCBench kalman's optional
        // outputs) of a pointer only ever dereferenced: where it is null,
        // CUDA never reaches a use (that would be undefined), so `p` is a
        // view of `q` wherever it is used.
        let init = match &init.kind {
            ExprKind::Ternary(c, a, b)
                if crate::analysis::is_null_literal(a) != crate::analysis::is_null_literal(b)
                    && !self.pointer_values.contains(&d.name)
                    && !crate::analysis::has_side_effect(c) =>
            {
                if crate::analysis::is_null_literal(a) {
                    &**b
                } else {
                    &**a
                }
            }
            _ => init,
        };
        let Some(mut view) = self.pointer(init, out) else {
            return;
        };
        if !self.view_fits(&d.ty, &view, d.span) {
            return;
        }
        if d.ty.is_const {
            view.mutable = false;
        }
        let name = self.local_name(&d.name);
        if self.assigned.contains(&d.name) {
            if view.scalar_target {
                self.m.error(d.span, "a pointer to a scalar cannot move");
                return;
            }
            // Still the module-scope array it started in (when it is one):
            // device functions can be handed it with its offset.
            let start = self.offset_start(&mut view, &name, d.span);
            out.push(WStmt::decl(
                "var",
                name.clone(),
                Some("i32".to_string()),
                Some(start),
            ));
            self.declare(
                &d.name,
                Sym::Pointer {
                    view,
                    offset_var: Some(name),
                },
            );
            return;
        }
        // An offset naming a variable assigned in the function is read
        // here, once: `float *dst = out + idx; idx /= 2;` still writes
        // `out[idx]` of the `idx` before (HeCBench concat).
        let mut reads_variable = false;
        init.walk(&mut |e| {
            reads_variable |= matches!(&e.kind, ExprKind::Ident(n) if self.assigned.contains(n));
        });
        if let Some(o) = view.offset.take() {
            let o = if o.is_simple() && (o.konst.is_some() || !reads_variable) {
                *o
            } else {
                out.push(WStmt::Comment(format!(
                    "`{}` points into `{}` at this element offset",
                    d.name, view.base
                )));
                out.push(WStmt::decl("let", name.clone(), None, Some(o.expr.clone())));
                Val::atom(name, o.ty.clone())
            };
            view.offset = Some(Box::new(o));
        }
        self.declare(
            &d.name,
            Sym::Pointer {
                view,
                offset_var: None,
            },
        );
    }

    /// The one pointee type every use of array `name` in the function being
    /// lowered casts it to (`reinterpret_cast<T*>(name)`, `(T*)name`), with
    /// the template parameters bound; `None` when it is used any other way.
    fn only_cast_to(&self, name: &str) -> Option<CType> {
        let body = self.m.model.function(&self.function)?.body.as_deref()?;
        let (mut uses, mut casts) = (0usize, Vec::new());
        body.walk_exprs(&mut |e| match &e.kind {
            ExprKind::Ident(n) if n == name => uses += 1,
            ExprKind::Cast { ty, expr, .. } if ty.pointer == 1 && expr.as_ident() == Some(name) => {
                casts.push(self.subst_type(&ty.pointee()));
            }
            _ => {}
        });
        let first = casts.first()?.clone();
        (uses == casts.len() && casts.iter().all(|t| *t == first)).then_some(first)
    }

    /// `__shared__` → a module-scope `var<workgroup>`. A file-scope one
    /// (`file_scope`) is declared once for every function that names it.
    pub(crate) fn shared_decl(&mut self, d: &VarDecl, file_scope: bool) {
        if d.init.is_some() {
            self.m
                .error(d.span, "`__shared__` variables cannot have initializers");
            return;
        }
        if d.ty.pointer > 0 {
            self.m
                .error(d.span, "`__shared__` pointers are not supported");
            return;
        }
        // `extern __shared__ char smem[]; T *tile = reinterpret_cast<T*>(smem);`
        // (HeCBench's convolution1D, fma, sosfil): raw dynamic memory only
        // ever used as one other type is declared as that type.
        let recast = if d.is_extern && !file_scope {
            self.only_cast_to(&d.name)
        } else {
            None
        };
        let declared = recast.as_ref().unwrap_or(&d.ty);
        // 8/16-bit (and `uchar4`) elements: one `i32` (`vec4<i32>`) each,
        // narrowed on every store as C converts (four times the memory;
        // nothing reads their bytes any other way: pointer casts are refused).
        let narrow = self.packed_of(declared, false).filter(|k| !k.boolean);
        let elem = match narrow {
            Some(k) => k.value_type(),
            None => self.map_type(declared, d.span),
        };
        if elem == Ty::Error {
            return;
        }
        if let Some(t) = &recast {
            self.m.warning(
                d.span,
                format!(
                    "`{}` is declared as `{}` elements: it is only ever used through `{}*` casts",
                    d.name,
                    elem.wgsl(),
                    t.display()
                ),
            );
        }
        let open_len = if d.is_extern {
            let name = "DYNAMIC_SHARED_ELEMENTS".to_string();
            if self.m.dynamic_shared.is_some() {
                // `extern __shared__ float smem[];` beside another function's
                // `extern __shared__ float sdata[];` (the samples'
                // threadFenceReduction): the same memory, as the same array.
                if let Some(sym) = self.m.dynamic_shared_array.clone()
                    && let Sym::Array {
                        ty, atomic: None, ..
                    } = &sym
                    && ty.element() == Some(&elem)
                    && narrow.is_none()
                    && !d.ty.is_const
                {
                    let function = self.function.clone();
                    if !self.m.analysis.effects(&function).atomic.contains(&d.name) {
                        self.declare(&d.name, sym);
                        return;
                    }
                }
                self.m.error(
                    d.span,
                    "only one `extern __shared__` array per kernel is supported (it would alias)",
                );
                return;
            }
            let bytes = self.m.dynamic_shared_default_bytes;
            // The element count is the launch's bytes over C's element size.
            let size = match narrow {
                Some(k) => u64::from(k.bits / 8) * u64::from(k.lanes),
                None => elem.host_layout().map(|l| l.0).unwrap_or(4).max(1),
            };
            let default = (bytes / size).max(1) as u32;
            self.m.dynamic_shared = Some((name.clone(), default, size as u32));
            Some(ArrayLen::Override(name))
        } else {
            None
        };
        let Some(ty) = self.array_type(d, elem.clone(), open_len) else {
            return;
        };
        let scope = if file_scope {
            ""
        } else {
            self.function.as_str()
        };
        let key = format!("{scope}::{}", d.name);
        if let Some(sym) = self.m.shared_vars.get(&key).cloned() {
            self.declare(&d.name, sym);
            return;
        }
        let atomic_use = if file_scope {
            self.m.kernel_effects.atomic.contains(&d.name)
        } else {
            let function = self.function.clone();
            self.m.analysis.effects(&function).atomic.contains(&d.name)
        };
        let atomic = if let Some(k) = narrow {
            if atomic_use {
                self.m.error(
                    d.span,
                    "atomics on 8- or 16-bit `__shared__` arrays are not supported",
                );
                return;
            }
            Some(AtomicRepr::Narrow(k))
        } else if atomic_use {
            match self.m.atomic_repr(&elem, false) {
                Ok(repr) => Some(repr),
                Err(why) => {
                    self.m.error(d.span, why);
                    None
                }
            }
        } else {
            None
        };
        let wgsl = self.m.module_name(&d.name);
        let stored = storage_type(&ty, atomic);
        self.m.workgroup_vars.push(crate::decl::Decl::var(
            crate::decl::Space::Workgroup,
            wgsl.clone(),
            stored,
        ));
        let sym = Sym::Array {
            wgsl,
            ty,
            mutable: true,
            atomic,
            module_scope: true,
        };
        self.m.shared_vars.insert(key, sym.clone());
        if d.is_extern && !file_scope {
            self.m.dynamic_shared_array = Some(sym.clone());
        }
        self.declare(&d.name, sym);
    }
}

/// The items of an initializer list of the struct `def`, member by member
/// in C's order (`None`: not given, so zero): positional items fill the
/// members in turn, `.m = v` sets `m` and the positional items after it
/// continue from there, as C's designated initializers do.
pub(crate) fn member_items<'e>(
    items: &'e [Expr],
    def: &cudalens_syntax::types::StructDef,
) -> Result<Vec<Option<&'e Expr>>, String> {
    let mut slots: Vec<Option<&Expr>> = vec![None; def.fields.len()];
    let mut next = 0;
    for item in items {
        let (at, value) = match &item.kind {
            ExprKind::Designated { field, value } => {
                let at = (def.fields.iter())
                    .position(|f| f.name == *field)
                    .ok_or_else(|| format!("struct `{}` has no member `{field}`", def.name))?;
                (at, &**value)
            }
            _ => (next, item),
        };
        let slot = slots
            .get_mut(at)
            .ok_or_else(|| format!("more initializers than struct `{}` has members", def.name))?;
        if slot.is_some() {
            return Err(format!(
                "member `{}` of struct `{}` is initialized twice",
                def.fields[at].name, def.name
            ));
        }
        *slot = Some(value);
        next = at + 1;
    }
    Ok(slots)
}

/// The declared WGSL type of memory that may hold atomics.
pub fn storage_type(ty: &Ty, atomic: Option<AtomicRepr>) -> String {
    match (ty, atomic) {
        (Ty::Array(e, ArrayLen::Fixed(n)), _) => format!("array<{}, {n}>", storage_type(e, atomic)),
        (Ty::Array(e, ArrayLen::Override(n)), _) => {
            format!("array<{}, {n}>", storage_type(e, atomic))
        }
        (Ty::RuntimeArray(e), _) => format!("array<{}>", storage_type(e, atomic)),
        (_, Some(repr @ AtomicRepr::Members { count, .. })) => {
            format!("array<{}, {count}>", storage_type(&Ty::Void, repr.member()))
        }
        (_, Some(AtomicRepr::Native(s))) => format!("atomic<{}>", s.wgsl()),
        (_, Some(AtomicRepr::F32Bits)) => "atomic<u32>".into(),
        (_, Some(AtomicRepr::F64Bits)) => "atomic<u64>".into(),
        (_, Some(AtomicRepr::Packed(p))) if p.written => "atomic<u32>".into(),
        (_, Some(AtomicRepr::Packed(_))) => "u32".into(),
        // The value type: `i32`, or `vec4<i32>` for `uchar4`.
        (t, Some(AtomicRepr::Narrow(_))) => t.wgsl(),
        // Views exist only on pointers, never on declared memory.
        (
            t,
            Some(
                AtomicRepr::Lanes(_)
                | AtomicRepr::LanesBits(..)
                | AtomicRepr::IntBits
                | AtomicRepr::HalfPairs(_)
                | AtomicRepr::WordPairs(_)
                | AtomicRepr::HalfOfWord(_)
                | AtomicRepr::BitsLane { .. }
                | AtomicRepr::Spread(_)
                | AtomicRepr::SpreadBits(..)
                | AtomicRepr::Bits(_)
                | AtomicRepr::Pairs
                | AtomicRepr::Words(_),
            ),
        ) => t.wgsl(),
        // Only struct members are held so; their struct declares the word.
        (_, Some(AtomicRepr::ByteBool | AtomicRepr::BitField { .. })) => "u32".into(),
        (_, Some(AtomicRepr::MemberBytes { .. })) => "u32".into(),
        (t, Some(AtomicRepr::Triple)) => match t {
            Ty::Vector(s, 3) => format!("array<{}, 3>", s.wgsl()),
            t => t.wgsl(),
        },
        (t, None) => t.wgsl(),
    }
}

pub(crate) fn zero_value(t: &Ty) -> Val {
    match t {
        Ty::Scalar(s) => Val::konst(Konst::Int(0), *s),
        other => Val::atom(WExpr::call(other.wgsl(), Vec::new()), other.clone()),
    }
}

fn negate(c: &Val) -> WExpr {
    if c.prec == Prec::Unary {
        match &c.expr {
            WExpr::Unary("!", inner) => return (**inner).clone(),
            WExpr::Text(t) if t.starts_with('!') => return WExpr::Text(t[1..].to_string()),
            _ => {}
        }
    }
    WExpr::unary("!", c.operand_expr(&[Prec::Primary]))
}

fn break_unless(c: &Val) -> WStmt {
    WStmt::If {
        cond: negate(c),
        then: vec![WStmt::Break],
        els: vec![],
    }
}

/// The parts of a C `for` statement.
pub struct ForParts<'s> {
    pub init: &'s [Stmt],
    pub cond: Option<&'s Expr>,
    pub step: Option<&'s Expr>,
    pub body: &'s Stmt,
    /// `#pragma unroll [N]` before the loop.
    pub pragma: Option<Option<i64>>,
    pub span: Span,
}

/// A block-shaped loop written out for the launch's block size: drivers do
/// not unroll a loop with barriers even when the override makes its trip
/// count constant, and on an H100 the written-out tree reductions and scan
/// ran 6–16 % faster (tests/gpu-bench, run 7). The `if` on the overrides is
/// uniform and folds away when the pipeline is built; other block sizes run
/// the original loop.
fn block_specialized(
    name: &str,
    scalar: Scalar,
    shaped: &crate::unroll::BlockShaped,
    block: [u32; 3],
    body: Vec<WStmt>,
    original: WStmt,
) -> WStmt {
    let cond = ["X", "Y", "Z"]
        .iter()
        .zip(block)
        .zip(shaped.axes)
        .filter(|(_, used)| *used)
        .map(|((axis, dim), _)| {
            let axis = WExpr::name(format!("BLOCK_DIM_{axis}"));
            WExpr::binary(axis, "==", WExpr::literal(format!("{dim}u")))
        })
        .reduce(|all, c| WExpr::binary(all, "&&", c));
    let suffix = if scalar == Scalar::U32 { "u" } else { "i" };
    let mut copies = vec![WStmt::Comment(format!(
        "`{}` takes {} values for this block size: one copy of the body each.",
        shaped.var,
        shaped.values.len()
    ))];
    for v in &shaped.values {
        let mut copy = vec![WStmt::decl(
            "let",
            name,
            Some(Ty::Scalar(scalar).wgsl()),
            Some(WExpr::literal(format!("{v}{suffix}"))),
        )];
        copy.extend(body.iter().cloned());
        copies.push(WStmt::Block(BlockKind::Bare, copy));
    }
    WStmt::If {
        // Some axis is always used (`BlockShaped` is built from one).
        cond: cond.unwrap_or_else(|| WExpr::Text(String::new())),
        then: copies,
        els: vec![original],
    }
}

/// One lowered statement as a piece of a `for (init; cond; step)` header,
/// if it fits there.
fn header_piece(v: &[WStmt], allow_decl: bool) -> Option<String> {
    match v {
        [] => Some(String::new()),
        [
            WStmt::Decl {
                keyword: "const", ..
            },
        ] => None,
        [s] if allow_decl || !s.declares() => {
            let text = s.simple_text()?;
            (!text.starts_with("const ")).then_some(text)
        }
        _ => None,
    }
}

/// A lowered C `for`: a WGSL `for` when init, condition and step fit in its
/// header, otherwise `loop { if !cond { break; } body continuing { step } }`.
fn for_statement(
    init_out: Vec<WStmt>,
    cond_pre: Vec<WStmt>,
    cond_val: Option<Val>,
    step_out: Vec<WStmt>,
    body_out: Vec<WStmt>,
) -> WStmt {
    if cond_pre.is_empty()
        && let (Some(i), Some(st)) = (
            header_piece(&init_out, true),
            header_piece(&step_out, false),
        )
    {
        let _ = (i, st);
        return WStmt::For {
            init: init_out.into_iter().next().map(Box::new),
            cond: cond_val.map(|c| c.expr),
            step: step_out.into_iter().next().map(Box::new),
            body: body_out,
        };
    }
    let mut loop_body = cond_pre;
    if let Some(c) = cond_val {
        loop_body.push(break_unless(&c));
    }
    loop_body.extend(body_out);
    if !step_out.is_empty() {
        loop_body.push(WStmt::Block(BlockKind::Continuing, step_out));
    }
    let lp = WStmt::Block(BlockKind::Loop, loop_body);
    if init_out.is_empty() {
        lp
    } else {
        let mut block = init_out;
        block.push(lp);
        WStmt::Block(BlockKind::Bare, block)
    }
}

/// `text` without its `//` and `/* */` comments.
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    loop {
        let line = rest.find("//");
        let block = rest.find("/*");
        match (line, block) {
            (Some(l), b) if b.is_none_or(|b| l < b) => {
                out.push_str(&rest[..l]);
                match rest[l..].find('\n') {
                    Some(end) => rest = &rest[l + end..],
                    None => return out,
                }
            }
            (_, Some(b)) => {
                out.push_str(&rest[..b]);
                match rest[b + 2..].find("*/") {
                    Some(end) => rest = &rest[b + 2 + end + 2..],
                    None => return out,
                }
            }
            _ => {
                out.push_str(rest);
                return out;
            }
        }
    }
}

/// A local type alias of a plain type: `using NAME = TYPE;` or `typedef
/// TYPE NAME;` (qualifiers and `*` allowed; no templates, arrays or
/// function types).
impl FnLower<'_, '_> {
    /// A local alias of a class template instance or of a member type
    /// (`typedef interval_gpu<T> I;`, `using T2 = typename
    /// TypeConverter<T>::Type;`, `typedef TxN_t<data_t, veclen_> VecType;`),
    /// its template parameters replaced by this instance's arguments and
    /// member types resolved. `None` for another statement.
    fn templated_alias(&self, text: &str) -> Option<(String, cudalens_syntax::ir::Type)> {
        let (name, written) = split_alias(text)?;
        if !written.contains(['<', ':']) || written.contains(['(', '[', '=']) {
            return None;
        }
        // The parameters' names replaced word by word with what they are bound to.
        let out = cudalens_syntax::types::replace_words(written, |word| {
            self.template_types.get(word).map(c_spelling)
        });
        let is_const = out.split_whitespace().any(|w| w == "const");
        let written = out.trim_end();
        let stripped = written.trim_end_matches(['*', ' ']);
        let pointer = written[stripped.len()..].matches('*').count();
        let body: String = (stripped.split_whitespace())
            .filter(|w| !matches!(*w, "typename" | "const"))
            .collect::<Vec<_>>()
            .join(" ");
        let ty = match cudalens_syntax::types::template_instance(&body) {
            Some((class, args)) if body.ends_with('>') && !class.contains("::") => {
                cudalens_syntax::ir::Type {
                    base: class.to_string(),
                    template_args: args,
                    ..Default::default()
                }
            }
            _ => cudalens_syntax::ir::Type::named(&body),
        };
        let ty = cudalens_syntax::ir::Type {
            pointer: u8::try_from(pointer).ok()?,
            is_const,
            ..ty
        };
        Some((name.to_string(), self.subst_type(&ty)))
    }
}

/// A C type as written (`const Vec<float, 4>*`), for substitution into
/// other written types.
fn c_spelling(t: &cudalens_syntax::ir::Type) -> String {
    let mut s = String::new();
    if t.is_const {
        s.push_str("const ");
    }
    s.push_str(&t.base);
    if !t.template_args.is_empty() {
        s.push('<');
        s.push_str(&t.template_args.join(", "));
        s.push('>');
    }
    s.push_str(&"*".repeat(usize::from(t.pointer)));
    s
}

/// The name and the written type of `using name = type;` or `typedef
/// type name;`; `None` unless the name is a C identifier.
fn split_alias(text: &str) -> Option<(&str, &str)> {
    let t = text.trim().strip_suffix(';')?.trim();
    let (name, ty) = if let Some(rest) = t.strip_prefix("using ") {
        let (name, ty) = rest.split_once('=')?;
        (name.trim(), ty.trim())
    } else {
        let rest = t.strip_prefix("typedef ")?.trim();
        let at = rest.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
        (rest[at + 1..].trim(), rest[..=at].trim())
    };
    is_identifier(name).then_some((name, ty))
}

fn is_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

pub(crate) fn local_alias(text: &str) -> Option<(String, cudalens_syntax::ir::Type)> {
    let (name, ty) = split_alias(text)?;
    if ty.contains(['<', '>', '[', '(', ':', '=']) {
        return None;
    }
    let pointer = ty.matches('*').count();
    let words: Vec<&str> = ty
        .trim_end_matches(|c: char| c == '*' || c.is_whitespace())
        .split_whitespace()
        .filter(|w| !matches!(*w, "typename" | "volatile" | "__restrict__"))
        .collect();
    let is_const = words.contains(&"const");
    let base: Vec<&str> = words.into_iter().filter(|w| *w != "const").collect();
    if base.is_empty()
        || ty.trim_end_matches(['*', ' ']).contains('*')
        || !base.iter().all(|w| is_identifier(w))
    {
        return None;
    }
    Some((
        name.to_string(),
        cudalens_syntax::ir::Type {
            base: cudalens_syntax::types::normalize_base(&base.join(" ")),
            pointer: u8::try_from(pointer).ok()?,
            is_const,
            ..Default::default()
        },
    ))
}
