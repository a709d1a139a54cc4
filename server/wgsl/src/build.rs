//! The lowering's function bodies built directly into naga's arenas
//! (issue 19, item 1; the plan is in this crate's README).
//!
//! The module's declarations (overrides, structs, bindings, private
//! variables, the helper functions written as WGSL) are still parsed from
//! text: the *skeleton*, the generated module with the lowered functions'
//! bodies left empty. Each lowered body — statements and expressions as
//! trees ([`WStmt`], [`WExpr`]) — is then built into its function: names
//! resolved to arguments, locals, globals, overrides and constants; loads
//! where a reference is used as a value; every expression typed with
//! naga's typifier; `Emit` ranges around the expressions that need them.
//!
//! A body holding text the lowering has not structured yet
//! ([`WStmt::Line`], [`WExpr::Text`]) is not built: the result says why.
//! Nothing here is on the compile path yet; `transpile` reports for every
//! kernel whether its module could be built this way and whether naga's
//! validator accepts it and prints it as it prints the module parsed from
//! the text ([`crate::emit::Structure`]).

use std::collections::HashMap;

use naga::{
    AddressSpace, ArraySize, BinaryOperator, Block, Expression, Function, Handle, Literal,
    LocalVariable, MathFunction, Module, Scalar, ScalarKind, Span, Statement, SwitchCase,
    SwitchValue, Type, TypeInner, UnaryOperator, VectorSize,
};

use crate::emit::WStmt;
use crate::wexpr::WExpr;

/// A lowered function body: the function's WGSL name, its printed body
/// (as it appears in the module text) and its statement tree.
#[derive(Clone, Debug)]
pub struct LoweredBody {
    pub name: String,
    pub printed: String,
    pub stmts: Vec<WStmt>,
}

/// Builds the module whose text is `wgsl` with the lowered `bodies` built
/// directly: the text with those bodies removed is parsed, then each body
/// is built into its function.
pub fn module(wgsl: &str, bodies: &[LoweredBody]) -> Result<Module, String> {
    for body in bodies {
        let mut structure = crate::emit::Structure::default();
        structure.count(&body.stmts);
        if structure.holds_text() {
            return Err(format!(
                "`{}` holds text ({} statements, {} bytes of expressions)",
                body.name, structure.statements_as_text, structure.expression_text_bytes
            ));
        }
    }
    let mut skeleton = wgsl.to_string();
    for body in bodies {
        let header = format!("fn {}(", body.name);
        let start = skeleton
            .find(&header)
            .ok_or_else(|| format!("function `{}` not in the module", body.name))?;
        let body_start = skeleton[start..]
            .find("{\n")
            .map(|i| start + i + 2)
            .ok_or("a function without a body")?;
        if !skeleton[body_start..].starts_with(&body.printed) {
            return Err(format!(
                "the body of `{}` is not where it was printed",
                body.name
            ));
        }
        skeleton.replace_range(body_start..body_start + body.printed.len(), "");
    }
    let mut module = naga::front::wgsl::parse_str(&skeleton)
        .map_err(|e| format!("skeleton: {}", e.message()))?;
    for body in bodies {
        build_function(&mut module, body)?;
    }
    Ok(module)
}

/// A name in a function's scope.
#[derive(Clone, Copy)]
enum Binding {
    /// A `let` (or `const`): its value (a pointer for a `let` of one).
    Value(Handle<Expression>),
    /// A `var`: a reference to it.
    Local(Handle<Expression>),
}

/// A built expression: a reference (to be loaded where a value is needed)
/// or a value.
#[derive(Clone, Copy)]
struct Built {
    handle: Handle<Expression>,
    reference: bool,
}

struct FunctionBuilder<'m> {
    module: &'m mut Module,
    fun: Function,
    typifier: naga::front::Typifier,
    scopes: Vec<HashMap<String, Binding>>,
    /// The blocks being built, innermost last.
    blocks: Vec<Block>,
    /// Where the expressions not yet covered by an `Emit` start.
    emit_start: usize,
    /// How many loops the statement being built is inside.
    loop_depth: usize,
    /// Values bound by `let`: never constant to what uses them (naga's
    /// front end makes them run-time values).
    lets: std::collections::HashSet<Handle<Expression>>,
}

fn build_function(module: &mut Module, body: &LoweredBody) -> Result<(), String> {
    enum Slot {
        Function(Handle<Function>),
        Entry(usize),
    }
    let slot = if let Some((h, _)) = module
        .functions
        .iter()
        .find(|(_, f)| f.name.as_deref() == Some(&body.name))
    {
        Slot::Function(h)
    } else if let Some(i) = module.entry_points.iter().position(|e| e.name == body.name) {
        Slot::Entry(i)
    } else {
        return Err(format!("no function `{}` in the skeleton", body.name));
    };
    let fun = match slot {
        Slot::Function(h) => std::mem::take(&mut module.functions[h]),
        Slot::Entry(i) => std::mem::take(&mut module.entry_points[i].function),
    };
    let mut fun = Function {
        body: Block::new(),
        ..fun
    };
    fun.named_expressions.clear();
    let emit_start = fun.expressions.len();
    let mut b = FunctionBuilder {
        module,
        fun,
        typifier: naga::front::Typifier::new(),
        scopes: vec![HashMap::new()],
        blocks: vec![Block::new()],
        emit_start,
        loop_depth: 0,
        lets: Default::default(),
    };
    let result = b.stmts(&body.stmts);
    let mut block = b.finish_block();
    naga::proc::ensure_block_returns(&mut block);
    let mut fun = b.fun;
    fun.body = block;
    let module = b.module;
    match slot {
        Slot::Function(h) => module.functions[h] = fun,
        Slot::Entry(i) => module.entry_points[i].function = fun,
    }
    result
}

/// Expressions that are never inside an `Emit` (naga's `needs_pre_emit`
/// and the results of statements).
fn pre_emitted(e: &Expression) -> bool {
    matches!(
        e,
        Expression::Literal(_)
            | Expression::Constant(_)
            | Expression::Override(_)
            | Expression::ZeroValue(_)
            | Expression::FunctionArgument(_)
            | Expression::GlobalVariable(_)
            | Expression::LocalVariable(_)
            | Expression::CallResult(_)
            | Expression::AtomicResult { .. }
            | Expression::SubgroupBallotResult
            | Expression::SubgroupOperationResult { .. }
            | Expression::WorkGroupUniformLoadResult { .. }
    )
}

impl FunctionBuilder<'_> {
    // ---- blocks and emission ----------------------------------------------

    /// Closes the pending `Emit` range into the current block.
    fn flush(&mut self) {
        let len = self.fun.expressions.len();
        if self.emit_start < len {
            let range = self.fun.expressions.range_from(self.emit_start);
            self.blocks
                .last_mut()
                .expect("a block is open")
                .push(Statement::Emit(range), Span::UNDEFINED);
        }
        self.emit_start = len;
    }

    fn push(&mut self, s: Statement) {
        self.flush();
        self.blocks
            .last_mut()
            .expect("a block is open")
            .push(s, Span::UNDEFINED);
    }

    fn open_block(&mut self) {
        self.flush();
        self.blocks.push(Block::new());
        self.scopes.push(HashMap::new());
    }

    fn finish_block(&mut self) -> Block {
        self.flush();
        self.scopes.pop();
        self.blocks.pop().unwrap_or_default()
    }

    fn append(&mut self, e: Expression) -> Handle<Expression> {
        if pre_emitted(&e) {
            self.flush();
            let h = self.fun.expressions.append(e, Span::UNDEFINED);
            self.emit_start = self.fun.expressions.len();
            h
        } else {
            self.fun.expressions.append(e, Span::UNDEFINED)
        }
    }

    fn inner(&mut self, h: Handle<Expression>) -> Result<TypeInner, String> {
        let ctx = naga::proc::ResolveContext::with_locals(
            self.module,
            &self.fun.local_variables,
            &self.fun.arguments,
        );
        self.typifier
            .grow(h, &self.fun.expressions, &ctx)
            .map_err(|e| format!("type: {e}"))?;
        Ok(self.typifier.get(h, &self.module.types).clone())
    }

    fn type_handle(&mut self, inner: TypeInner) -> Handle<Type> {
        self.module
            .types
            .insert(Type { name: None, inner }, Span::UNDEFINED)
    }

    // ---- statements -------------------------------------------------------

    fn stmts(&mut self, stmts: &[WStmt]) -> Result<(), String> {
        for s in stmts {
            self.stmt(s)?;
        }
        Ok(())
    }

    fn block_of(&mut self, stmts: &[WStmt]) -> Result<Block, String> {
        self.open_block();
        let r = self.stmts(stmts);
        let block = self.finish_block();
        r.map(|_| block)
    }

    fn stmt(&mut self, s: &WStmt) -> Result<(), String> {
        match s {
            WStmt::Comment(_) => Ok(()),
            WStmt::Line(l) => Err(format!("text statement `{l}`")),
            WStmt::Decl {
                keyword,
                name,
                ty,
                init,
            } => {
                if *keyword == "var" {
                    let init = init.as_ref().map(|e| self.value(e)).transpose()?;
                    let ty = match (ty, init) {
                        (Some(t), _) => self.parse_type(t)?,
                        (None, Some(v)) => {
                            let inner = self.inner(v)?;
                            self.type_handle(inner)
                        }
                        (None, None) => return Err(format!("`var {name}` without a type")),
                    };
                    let var = self.fun.local_variables.append(
                        LocalVariable {
                            name: Some(name.clone()),
                            ty,
                            init: None,
                        },
                        Span::UNDEFINED,
                    );
                    // A constant (or override-made) value initializes the
                    // variable, as naga's front end does; another is stored.
                    // As naga's front end: a constant initializer outside
                    // loops initializes the variable; another value, or any
                    // inside a loop (run at every iteration, a variable
                    // without one zeroed), is stored where it is declared.
                    let init = match init {
                        None if self.loop_depth > 0 => Some(self.append(Expression::ZeroValue(ty))),
                        other => other,
                    };
                    let pointer = match init {
                        Some(v) if self.loop_depth == 0 && self.is_constant(v) => {
                            self.fun.local_variables[var].init = Some(v);
                            self.append(Expression::LocalVariable(var))
                        }
                        Some(v) => {
                            let pointer = self.append(Expression::LocalVariable(var));
                            self.push(Statement::Store { pointer, value: v });
                            pointer
                        }
                        None => self.append(Expression::LocalVariable(var)),
                    };
                    self.bind(name, Binding::Local(pointer));
                } else {
                    let init = init.as_ref().ok_or("`let` without a value")?;
                    let v = self.value(init)?;
                    let v = match ty {
                        Some(t) => {
                            let want = self.parse_type(t)?;
                            self.convert_to(v, want)?
                        }
                        None => v,
                    };
                    self.flush();
                    self.lets.insert(v);
                    self.fun.named_expressions.insert(v, name.clone());
                    self.bind(name, Binding::Value(v));
                }
                Ok(())
            }
            WStmt::Assign { target, op, value } => {
                let pointer = self.reference(target)?;
                let value = if *op == "=" {
                    self.value(value)?
                } else {
                    let old = self.append(Expression::Load { pointer });
                    let right = self.value(value)?;
                    let op = binary_op(op.trim_end_matches('='))?;
                    self.binary(op, old, right)?
                };
                self.push(Statement::Store { pointer, value });
                Ok(())
            }
            WStmt::Increment { target, op } => {
                let pointer = self.reference(target)?;
                let old = self.append(Expression::Load { pointer });
                let one = match self.inner(old)? {
                    TypeInner::Scalar(s) => self.append(Expression::Literal(one_of(s)?)),
                    _ => return Err("`++` of a non-scalar".into()),
                };
                let op = if *op == "++" {
                    BinaryOperator::Add
                } else {
                    BinaryOperator::Subtract
                };
                let value = self.append(Expression::Binary {
                    op,
                    left: old,
                    right: one,
                });
                self.push(Statement::Store { pointer, value });
                Ok(())
            }
            WStmt::Eval(e) => {
                let WExpr::Call(callee, args) = e else {
                    return Err("an evaluated expression that is not a call".into());
                };
                self.call(callee, args, true)?;
                self.flush();
                Ok(())
            }
            WStmt::Phony(e) => {
                // Named `phony`, as naga's front end keeps the value.
                let v = self.value(e)?;
                self.flush();
                self.fun.named_expressions.insert(v, "phony".into());
                Ok(())
            }
            WStmt::Return(v) => {
                let value = v.as_ref().map(|e| self.value(e)).transpose()?;
                self.push(Statement::Return { value });
                Ok(())
            }
            WStmt::Break => {
                self.push(Statement::Break);
                Ok(())
            }
            WStmt::Continue => {
                self.push(Statement::Continue);
                Ok(())
            }
            WStmt::BreakIf(_) => Err("`break if` outside a `continuing` block".into()),
            WStmt::If { cond, then, els } => {
                let condition = self.value(cond)?;
                let accept = self.block_of(then)?;
                let reject = self.block_of(els)?;
                self.push(Statement::If {
                    condition,
                    accept,
                    reject,
                });
                Ok(())
            }
            // As naga's WGSL front end lowers them: `while` is `loop { if
            // cond {} else { break; } { body } }`; `for` puts its init in
            // the enclosing block and its step in `continuing`.
            WStmt::While { cond, body } => {
                let body = self.loop_body(Some(cond), body)?;
                self.push(Statement::Loop {
                    body,
                    continuing: Block::new(),
                    break_if: None,
                });
                Ok(())
            }
            WStmt::For {
                init,
                cond,
                step,
                body,
            } => {
                self.scopes.push(HashMap::new());
                let result = (|| {
                    if let Some(i) = init {
                        self.stmt(i)?;
                    }
                    let body = self.loop_body(cond.as_ref(), body)?;
                    self.loop_depth += 1;
                    let continuing = match step {
                        Some(s) => self.block_of(std::slice::from_ref(&**s)),
                        None => Ok(Block::new()),
                    };
                    self.loop_depth -= 1;
                    let continuing = continuing?;
                    self.push(Statement::Loop {
                        body,
                        continuing,
                        break_if: None,
                    });
                    Ok(())
                })();
                self.scopes.pop();
                result
            }
            WStmt::Block(header, body) => match header.as_str() {
                "" => {
                    let b = self.block_of(body)?;
                    self.push(Statement::Block(b));
                    Ok(())
                }
                "loop" => {
                    let (body, continuing) = match body.split_last() {
                        Some((WStmt::Block(h, c), rest)) if h == "continuing" => {
                            (rest, c.as_slice())
                        }
                        _ => (body.as_slice(), &[][..]),
                    };
                    // The continuing block sees the body's names: both are
                    // built in one scope.
                    self.loop_depth += 1;
                    self.open_block();
                    self.stmts(body)?;
                    self.flush();
                    let body_block = std::mem::take(self.blocks.last_mut().expect("open"));
                    let (cont, break_if) = match continuing.split_last() {
                        Some((WStmt::BreakIf(c), rest)) => (rest, Some(c)),
                        _ => (continuing, None),
                    };
                    self.stmts(cont)?;
                    let break_if = break_if.map(|c| self.value(c)).transpose()?;
                    let continuing = self.finish_block();
                    self.loop_depth -= 1;
                    self.push(Statement::Loop {
                        body: body_block,
                        continuing,
                        break_if,
                    });
                    Ok(())
                }
                other => Err(format!("block `{other}`")),
            },
            WStmt::Switch { selector, arms } => {
                let selector = self.value(selector)?;
                let unsigned = matches!(
                    self.inner(selector)?,
                    TypeInner::Scalar(Scalar {
                        kind: ScalarKind::Uint,
                        ..
                    })
                );
                let mut cases = Vec::new();
                for (labels, body) in arms {
                    let body = self.block_of(body)?;
                    let values = switch_values(labels, unsigned)?;
                    let last = values.len() - 1;
                    for (i, value) in values.into_iter().enumerate() {
                        cases.push(SwitchCase {
                            value,
                            body: if i == last {
                                body.clone()
                            } else {
                                Block::new()
                            },
                            fall_through: i != last,
                        });
                    }
                }
                self.push(Statement::Switch { selector, cases });
                Ok(())
            }
        }
    }

    /// A `for`/`while` loop's body: `if cond {} else { break; }` then the
    /// body as a block.
    fn loop_body(&mut self, cond: Option<&WExpr>, body: &[WStmt]) -> Result<Block, String> {
        self.loop_depth += 1;
        self.open_block();
        let result = (|| {
            if let Some(c) = cond {
                let condition = self.value(c)?;
                self.push(Statement::If {
                    condition,
                    accept: Block::new(),
                    reject: Block::from_vec(vec![Statement::Break]),
                });
            }
            let inner = self.block_of(body)?;
            self.push(Statement::Block(inner));
            Ok(())
        })();
        let block = self.finish_block();
        self.loop_depth -= 1;
        result.map(|_| block)
    }

    /// `a && b`, `a || b`, short-circuiting as naga's front end lowers
    /// them: `var r: bool; if a { r = b; } else { r = false; }`.
    fn logical(&mut self, and: bool, l: &WExpr, r: &WExpr) -> Result<Built, String> {
        let left = self.value(l)?;
        let condition = match (and, &self.fun.expressions[left]) {
            (true, _) => left,
            // Folded, as naga's front end evaluates `!true`.
            (false, Expression::Literal(Literal::Bool(b))) => {
                let folded = Literal::Bool(!b);
                self.append(Expression::Literal(folded))
            }
            (false, _) => self.append(Expression::Unary {
                op: UnaryOperator::LogicalNot,
                expr: left,
            }),
        };
        let else_val = self.append(Expression::Literal(Literal::Bool(!and)));
        let ty = self.type_handle(TypeInner::Scalar(Scalar::BOOL));
        let var = self.fun.local_variables.append(
            LocalVariable {
                name: None,
                ty,
                init: None,
            },
            Span::UNDEFINED,
        );
        let pointer = self.append(Expression::LocalVariable(var));
        self.open_block();
        let right = self.value(r);
        if let Ok(value) = right {
            self.push(Statement::Store { pointer, value });
        }
        let accept = self.finish_block();
        right?;
        let mut reject = Block::new();
        reject.push(
            Statement::Store {
                pointer,
                value: else_val,
            },
            Span::UNDEFINED,
        );
        self.push(Statement::If {
            condition,
            accept,
            reject,
        });
        Ok(Built {
            handle: self.append(Expression::LocalVariable(var)),
            reference: true,
        })
    }

    /// Whether `h` is made of literals, constants and overrides alone.
    fn is_constant(&self, h: Handle<Expression>) -> bool {
        if self.lets.contains(&h) {
            return false;
        }
        match &self.fun.expressions[h] {
            Expression::Literal(_)
            | Expression::Constant(_)
            | Expression::Override(_)
            | Expression::ZeroValue(_) => true,
            Expression::Unary { expr, .. } | Expression::As { expr, .. } => self.is_constant(*expr),
            Expression::Splat { value, .. } => self.is_constant(*value),
            Expression::Binary { left, right, .. } => {
                self.is_constant(*left) && self.is_constant(*right)
            }
            Expression::Compose { components, .. } => {
                components.iter().all(|c| self.is_constant(*c))
            }
            _ => false,
        }
    }

    fn bind(&mut self, name: &str, b: Binding) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), b);
        }
    }

    // ---- expressions ------------------------------------------------------

    /// `e` as a value (a reference loaded).
    fn value(&mut self, e: &WExpr) -> Result<Handle<Expression>, String> {
        let b = self.expr(e)?;
        Ok(if b.reference {
            self.append(Expression::Load { pointer: b.handle })
        } else {
            b.handle
        })
    }

    /// `e` as a reference (what is assigned).
    fn reference(&mut self, e: &WExpr) -> Result<Handle<Expression>, String> {
        let b = self.expr(e)?;
        if b.reference {
            Ok(b.handle)
        } else {
            Err(format!("`{e}` is not assignable"))
        }
    }

    fn expr(&mut self, e: &WExpr) -> Result<Built, String> {
        let value = |handle| Built {
            handle,
            reference: false,
        };
        match e {
            WExpr::Text(t) => Err(format!("text `{t}`")),
            WExpr::Paren(inner) => self.expr(inner),
            WExpr::Name(n) => self.name(n),
            WExpr::Literal(t) => {
                let lit = parse_literal(t)?;
                Ok(value(self.append(Expression::Literal(lit))))
            }
            WExpr::Unary("&", inner) => {
                let r = self.reference(inner)?;
                Ok(value(r))
            }
            WExpr::Unary("*", inner) => {
                let p = self.value(inner)?;
                Ok(Built {
                    handle: p,
                    reference: true,
                })
            }
            WExpr::Unary(op, inner) => {
                let v = self.value(inner)?;
                let op = match *op {
                    "-" => UnaryOperator::Negate,
                    "!" => UnaryOperator::LogicalNot,
                    "~" => UnaryOperator::BitwiseNot,
                    other => return Err(format!("unary `{other}`")),
                };
                // naga's front end folds `!true` (constant evaluation).
                if let (UnaryOperator::LogicalNot, Expression::Literal(Literal::Bool(b))) =
                    (op, &self.fun.expressions[v])
                {
                    let folded = Literal::Bool(!b);
                    return Ok(value(self.append(Expression::Literal(folded))));
                }
                Ok(value(self.append(Expression::Unary { op, expr: v })))
            }
            WExpr::Binary(l, op @ ("&&" | "||"), r) => self.logical(*op == "&&", l, r),
            WExpr::Binary(l, op, r) => {
                let left = self.value(l)?;
                let right = self.value(r)?;
                let op = binary_op(op)?;
                Ok(value(self.binary(op, left, right)?))
            }
            WExpr::Index(base, index) => {
                let b = self.expr(base)?;
                // A constant index selects, as naga's front end reads it.
                if let WExpr::Literal(t) = &**index
                    && let Ok(Literal::I32(k)) = parse_literal(t)
                    && let Ok(k) = u32::try_from(k)
                {
                    let handle = self.append(Expression::AccessIndex {
                        base: b.handle,
                        index: k,
                    });
                    return Ok(Built {
                        handle,
                        reference: b.reference,
                    });
                }
                let index = self.value(index)?;
                let handle = self.append(Expression::Access {
                    base: b.handle,
                    index,
                });
                Ok(Built {
                    handle,
                    reference: b.reference,
                })
            }
            WExpr::Member(base, member) => self.member(base, member),
            WExpr::Call(callee, args) => {
                let h = self.call(callee, args, false)?;
                h.map(value)
                    .ok_or_else(|| format!("`{callee}` has no value"))
            }
        }
    }

    fn name(&mut self, n: &str) -> Result<Built, String> {
        for scope in self.scopes.iter().rev() {
            match scope.get(n) {
                Some(Binding::Value(h)) => {
                    return Ok(Built {
                        handle: *h,
                        reference: false,
                    });
                }
                Some(Binding::Local(h)) => {
                    return Ok(Built {
                        handle: *h,
                        reference: true,
                    });
                }
                None => {}
            }
        }
        if let Some(i) = self
            .fun
            .arguments
            .iter()
            .position(|a| a.name.as_deref() == Some(n))
        {
            let h = self.append(Expression::FunctionArgument(i as u32));
            return Ok(Built {
                handle: h,
                reference: false,
            });
        }
        let global = (self.module.global_variables.iter())
            .find(|(_, g)| g.name.as_deref() == Some(n))
            .map(|(h, g)| (h, g.space != AddressSpace::Handle));
        if let Some((h, reference)) = global {
            let h = self.append(Expression::GlobalVariable(h));
            return Ok(Built {
                handle: h,
                reference,
            });
        }
        let constant = (self.module.overrides.iter())
            .find(|(_, o)| o.name.as_deref() == Some(n))
            .map(|(h, _)| Expression::Override(h))
            .or_else(|| {
                (self.module.constants.iter())
                    .find(|(_, c)| c.name.as_deref() == Some(n))
                    .map(|(h, _)| Expression::Constant(h))
            });
        if let Some(e) = constant {
            let h = self.append(e);
            return Ok(Built {
                handle: h,
                reference: false,
            });
        }
        Err(format!("unknown name `{n}`"))
    }

    fn member(&mut self, base: &WExpr, member: &str) -> Result<Built, String> {
        let b = self.expr(base)?;
        let inner = self.inner(b.handle)?;
        let pointee = match &inner {
            TypeInner::Pointer { base, .. } => self.module.types[*base].inner.clone(),
            TypeInner::ValuePointer {
                size: Some(size),
                scalar,
                ..
            } => TypeInner::Vector {
                size: *size,
                scalar: *scalar,
            },
            other => other.clone(),
        };
        match pointee {
            TypeInner::Struct { members, .. } => {
                let index = members
                    .iter()
                    .position(|m| m.name.as_deref() == Some(member))
                    .ok_or_else(|| format!("no member `{member}`"))?
                    as u32;
                let h = self.append(Expression::AccessIndex {
                    base: b.handle,
                    index,
                });
                Ok(Built {
                    handle: h,
                    reference: b.reference,
                })
            }
            TypeInner::Vector { .. } => {
                let lanes: Vec<u32> = member
                    .chars()
                    .map(|c| match c {
                        'x' | 'r' => Ok(0),
                        'y' | 'g' => Ok(1),
                        'z' | 'b' => Ok(2),
                        'w' | 'a' => Ok(3),
                        _ => Err(format!("component `{member}`")),
                    })
                    .collect::<Result<_, _>>()?;
                if let [index] = lanes[..] {
                    let h = self.append(Expression::AccessIndex {
                        base: b.handle,
                        index,
                    });
                    return Ok(Built {
                        handle: h,
                        reference: b.reference,
                    });
                }
                let vector = if b.reference {
                    self.append(Expression::Load { pointer: b.handle })
                } else {
                    b.handle
                };
                let size = vector_size(lanes.len())?;
                let mut pattern = [naga::SwizzleComponent::X; 4];
                for (i, l) in lanes.iter().enumerate() {
                    pattern[i] = naga::SwizzleComponent::XYZW[*l as usize];
                }
                let h = self.append(Expression::Swizzle {
                    size,
                    vector,
                    pattern,
                });
                Ok(Built {
                    handle: h,
                    reference: false,
                })
            }
            _ => Err(format!("member `{member}` of a non-struct")),
        }
    }

    /// `left op right`, a scalar operand splatted against a vector where
    /// WGSL allows mixing them (naga's IR does only for `*`).
    fn binary(
        &mut self,
        op: BinaryOperator,
        left: Handle<Expression>,
        right: Handle<Expression>,
    ) -> Result<Handle<Expression>, String> {
        let (lt, rt) = (self.inner(left)?, self.inner(right)?);
        let (mut left, mut right) = (left, right);
        let shift = matches!(op, BinaryOperator::ShiftLeft | BinaryOperator::ShiftRight);
        if op != BinaryOperator::Multiply && !shift {
            match (&lt, &rt) {
                (TypeInner::Vector { size, .. }, TypeInner::Scalar(_)) => {
                    right = self.append(Expression::Splat {
                        size: *size,
                        value: right,
                    });
                }
                (TypeInner::Scalar(_), TypeInner::Vector { size, .. }) => {
                    left = self.append(Expression::Splat {
                        size: *size,
                        value: left,
                    });
                }
                _ => {}
            }
        }
        Ok(self.append(Expression::Binary { op, left, right }))
    }

    fn convert_to(
        &mut self,
        v: Handle<Expression>,
        want: Handle<Type>,
    ) -> Result<Handle<Expression>, String> {
        let have = self.inner(v)?;
        if have == self.module.types[want].inner {
            return Ok(v);
        }
        Err("a `let` whose value is not of its declared type".into())
    }

    /// A call; `Ok(None)` for one without a value.
    fn call(
        &mut self,
        callee: &str,
        args: &[WExpr],
        statement: bool,
    ) -> Result<Option<Handle<Expression>>, String> {
        // Calls whose arguments are references: `&x` passed on.
        match callee {
            "arrayLength" => {
                let [a] = args else {
                    return Err("arrayLength arity".into());
                };
                let p = self.value(a)?;
                return Ok(Some(self.append(Expression::ArrayLength(p))));
            }
            "atomicLoad" => {
                let [a] = args else {
                    return Err("atomicLoad arity".into());
                };
                let pointer = self.value(a)?;
                return Ok(Some(self.append(Expression::Load { pointer })));
            }
            "atomicStore" => {
                let [a, v] = args else {
                    return Err("atomicStore arity".into());
                };
                let pointer = self.value(a)?;
                let value = self.value(v)?;
                self.push(Statement::Store { pointer, value });
                return Ok(None);
            }
            _ => {}
        }
        if let Some(fun) = atomic_function(callee) {
            let [a, v] = args else {
                return Err(format!("{callee} arity"));
            };
            let pointer = self.value(a)?;
            let value = self.value(v)?;
            let scalar = match self.inner(pointer)? {
                TypeInner::Pointer { base, .. } => match self.module.types[base].inner {
                    TypeInner::Atomic(s) => s,
                    _ => return Err("atomic of a non-atomic".into()),
                },
                _ => return Err("atomic through a non-pointer".into()),
            };
            let ty = self.type_handle(TypeInner::Scalar(scalar));
            // naga's front end gives every atomic call a result, used or
            // not, but a 64-bit min or max called as a statement (which
            // then needs only SHADER_INT64_ATOMIC_MIN_MAX).
            let min_max = matches!(fun, naga::AtomicFunction::Min | naga::AtomicFunction::Max);
            let result = if min_max && scalar.width == 8 && statement {
                self.flush();
                None
            } else {
                Some(self.append(Expression::AtomicResult {
                    ty,
                    comparison: false,
                }))
            };
            self.push(Statement::Atomic {
                pointer,
                fun,
                value,
                result,
            });
            return Ok(result);
        }
        let barrier = match callee {
            "workgroupBarrier" => Some(naga::Barrier::WORK_GROUP),
            "storageBarrier" => Some(naga::Barrier::STORAGE),
            "subgroupBarrier" => Some(naga::Barrier::SUB_GROUP),
            _ => None,
        };
        if let Some(b) = barrier {
            self.push(Statement::ControlBarrier(b));
            return Ok(None);
        }
        let values = args
            .iter()
            .map(|a| self.value(a))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(h) = self.subgroup(callee, &values)? {
            return Ok(Some(h));
        }
        if let Some(ty) = callee
            .strip_prefix("bitcast<")
            .and_then(|t| t.strip_suffix('>'))
        {
            let [v] = values[..] else {
                return Err("bitcast arity".into());
            };
            let ty = self.parse_type(ty)?;
            let scalar = self.module.types[ty]
                .inner
                .scalar()
                .ok_or("bitcast to a non-scalar")?;
            return Ok(Some(self.append(Expression::As {
                expr: v,
                kind: scalar.kind,
                convert: None,
            })));
        }
        if callee == "select" {
            let [reject, accept, condition] = values[..] else {
                return Err("select arity".into());
            };
            return Ok(Some(self.append(Expression::Select {
                condition,
                accept,
                reject,
            })));
        }
        if let Some(fun) = relational(callee) {
            let [argument] = values[..] else {
                return Err(format!("{callee} arity"));
            };
            return Ok(Some(self.append(Expression::Relational { fun, argument })));
        }
        if let Some(fun) = math_function(callee) {
            let arg = *values.first().ok_or("math without arguments")?;
            return Ok(Some(self.append(Expression::Math {
                fun,
                arg,
                arg1: values.get(1).copied(),
                arg2: values.get(2).copied(),
                arg3: values.get(3).copied(),
            })));
        }
        if let Ok(ty) = self.parse_type(callee) {
            return self.construct(ty, &values).map(Some);
        }
        let Some((function, f)) = self
            .module
            .functions
            .iter()
            .find(|(_, f)| f.name.as_deref() == Some(callee))
        else {
            return Err(format!("unknown function `{callee}`"));
        };
        let has_result = f.result.is_some();
        let result = has_result.then(|| self.append(Expression::CallResult(function)));
        self.push(Statement::Call {
            function,
            arguments: values,
            result,
        });
        Ok(result)
    }

    /// A type's constructor: a conversion, a splat, a composite or zero.
    fn construct(
        &mut self,
        ty: Handle<Type>,
        values: &[Handle<Expression>],
    ) -> Result<Handle<Expression>, String> {
        let target = self.module.types[ty].inner.clone();
        if values.is_empty() {
            return Ok(self.append(Expression::ZeroValue(ty)));
        }
        if let [v] = values {
            let have = self.inner(*v)?;
            if have == target {
                return Ok(*v);
            }
            match (&target, &have) {
                (TypeInner::Scalar(s), TypeInner::Scalar(_))
                | (TypeInner::Vector { scalar: s, .. }, TypeInner::Vector { .. }) => {
                    return Ok(self.append(Expression::As {
                        expr: *v,
                        kind: s.kind,
                        convert: Some(s.width),
                    }));
                }
                (TypeInner::Vector { size, scalar }, TypeInner::Scalar(from)) => {
                    let value = if from == scalar {
                        *v
                    } else {
                        self.append(Expression::As {
                            expr: *v,
                            kind: scalar.kind,
                            convert: Some(scalar.width),
                        })
                    };
                    return Ok(self.append(Expression::Splat { size: *size, value }));
                }
                _ => {}
            }
        }
        Ok(self.append(Expression::Compose {
            ty,
            components: values.to_vec(),
        }))
    }

    fn subgroup(
        &mut self,
        callee: &str,
        values: &[Handle<Expression>],
    ) -> Result<Option<Handle<Expression>>, String> {
        use naga::{CollectiveOperation as C, GatherMode as G, SubgroupOperation as O};
        let collective = match callee {
            "subgroupAdd" => Some((O::Add, C::Reduce)),
            "subgroupMul" => Some((O::Mul, C::Reduce)),
            "subgroupMin" => Some((O::Min, C::Reduce)),
            "subgroupMax" => Some((O::Max, C::Reduce)),
            "subgroupAnd" => Some((O::And, C::Reduce)),
            "subgroupOr" => Some((O::Or, C::Reduce)),
            "subgroupXor" => Some((O::Xor, C::Reduce)),
            "subgroupAny" => Some((O::Any, C::Reduce)),
            "subgroupAll" => Some((O::All, C::Reduce)),
            "subgroupExclusiveAdd" => Some((O::Add, C::ExclusiveScan)),
            "subgroupInclusiveAdd" => Some((O::Add, C::InclusiveScan)),
            "subgroupExclusiveMul" => Some((O::Mul, C::ExclusiveScan)),
            "subgroupInclusiveMul" => Some((O::Mul, C::InclusiveScan)),
            _ => None,
        };
        if let Some((op, collective_op)) = collective {
            let [argument] = values[..] else {
                return Err(format!("{callee} arity"));
            };
            let inner = self.inner(argument)?;
            let ty = self.type_handle(inner);
            let result = self.append(Expression::SubgroupOperationResult { ty });
            self.push(Statement::SubgroupCollectiveOperation {
                op,
                collective_op,
                argument,
                result,
            });
            return Ok(Some(result));
        }
        if callee == "subgroupBallot" {
            let result = self.append(Expression::SubgroupBallotResult);
            self.push(Statement::SubgroupBallot {
                result,
                predicate: values.first().copied(),
            });
            return Ok(Some(result));
        }
        let gather = |index: Option<Handle<Expression>>| -> Result<G, String> {
            let i = || index.ok_or(format!("{callee} arity"));
            Ok(match callee {
                "subgroupBroadcastFirst" => G::BroadcastFirst,
                "subgroupBroadcast" => G::Broadcast(i()?),
                "subgroupShuffle" => G::Shuffle(i()?),
                "subgroupShuffleDown" => G::ShuffleDown(i()?),
                "subgroupShuffleUp" => G::ShuffleUp(i()?),
                "subgroupShuffleXor" => G::ShuffleXor(i()?),
                _ => return Err(String::new()),
            })
        };
        let Ok(mode) = gather(values.get(1).copied()) else {
            return Ok(None);
        };
        let argument = *values.first().ok_or("gather without a value")?;
        let inner = self.inner(argument)?;
        let ty = self.type_handle(inner);
        let result = self.append(Expression::SubgroupOperationResult { ty });
        self.push(Statement::SubgroupGather {
            mode,
            argument,
            result,
        });
        Ok(Some(result))
    }

    // ---- types ------------------------------------------------------------

    /// A type as the lowering spells it: scalars, `vecN<T>`, `array<T, N>`,
    /// the module's named types.
    fn parse_type(&mut self, t: &str) -> Result<Handle<Type>, String> {
        let t = t.trim();
        if let Some(s) = scalar_named(t) {
            return Ok(self.type_handle(TypeInner::Scalar(s)));
        }
        if let Some(rest) = t.strip_prefix("vec")
            && let Some((n, inner)) = rest.split_once('<')
            && let Some(inner) = inner.strip_suffix('>')
        {
            let size = vector_size(n.parse::<usize>().map_err(|_| format!("type `{t}`"))?)?;
            let scalar = scalar_named(inner.trim()).ok_or_else(|| format!("type `{t}`"))?;
            return Ok(self.type_handle(TypeInner::Vector { size, scalar }));
        }
        if let Some(inner) = t.strip_prefix("array<").and_then(|r| r.strip_suffix('>')) {
            let (elem, len) = inner
                .rsplit_once(',')
                .ok_or_else(|| format!("type `{t}`"))?;
            let base = self.parse_type(elem)?;
            let len: u32 = len
                .trim()
                .parse()
                .map_err(|_| format!("array length in `{t}`"))?;
            let stride = {
                let mut layouter = naga::proc::Layouter::default();
                layouter
                    .update(self.module.to_ctx())
                    .map_err(|e| format!("layout: {e}"))?;
                layouter[base].to_stride()
            };
            let size = ArraySize::Constant(std::num::NonZeroU32::new(len).ok_or("empty array")?);
            return Ok(self.type_handle(TypeInner::Array { base, size, stride }));
        }
        self.module
            .types
            .iter()
            .find(|(_, ty)| ty.name.as_deref() == Some(t))
            .map(|(h, _)| h)
            .ok_or_else(|| format!("type `{t}`"))
    }
}

fn scalar_named(t: &str) -> Option<Scalar> {
    Some(match t {
        "i32" => Scalar::I32,
        "u32" => Scalar::U32,
        "f32" => Scalar::F32,
        "f16" => Scalar::F16,
        "f64" => Scalar::F64,
        "i64" => Scalar::I64,
        "u64" => Scalar::U64,
        "bool" => Scalar::BOOL,
        _ => return None,
    })
}

fn vector_size(n: usize) -> Result<VectorSize, String> {
    Ok(match n {
        2 => VectorSize::Bi,
        3 => VectorSize::Tri,
        4 => VectorSize::Quad,
        _ => return Err(format!("vector of {n}")),
    })
}

fn one_of(s: Scalar) -> Result<Literal, String> {
    Ok(match (s.kind, s.width) {
        (ScalarKind::Sint, 4) => Literal::I32(1),
        (ScalarKind::Uint, 4) => Literal::U32(1),
        (ScalarKind::Sint, 8) => Literal::I64(1),
        (ScalarKind::Uint, 8) => Literal::U64(1),
        _ => return Err("`++` of a non-integer".into()),
    })
}

/// A literal as the lowering prints it (`types::literal`): `1`, `1u`,
/// `1li`, `1lu`, `2.5f`, `2.5lf`, `true`.
fn parse_literal(t: &str) -> Result<Literal, String> {
    let bad = || format!("literal `{t}`");
    match t {
        "true" => return Ok(Literal::Bool(true)),
        "false" => return Ok(Literal::Bool(false)),
        _ => {}
    }
    let int = |digits: &str| -> Result<i128, String> {
        match digits.strip_prefix("0x") {
            Some(hex) => i128::from_str_radix(hex, 16).map_err(|_| bad()),
            None => digits.parse::<i128>().map_err(|_| bad()),
        }
    };
    let is_hex = t.starts_with("0x");
    if let Some(d) = t.strip_suffix("lu") {
        return u64::try_from(int(d)?).map(Literal::U64).map_err(|_| bad());
    }
    if let Some(d) = t.strip_suffix("li") {
        return i64::try_from(int(d)?).map(Literal::I64).map_err(|_| bad());
    }
    if let Some(d) = t.strip_suffix("lf") {
        return d.parse::<f64>().map(Literal::F64).map_err(|_| bad());
    }
    if !is_hex && let Some(d) = t.strip_suffix('f') {
        return d.parse::<f32>().map(Literal::F32).map_err(|_| bad());
    }
    if let Some(d) = t.strip_suffix('u') {
        return u32::try_from(int(d)?).map(Literal::U32).map_err(|_| bad());
    }
    if let Some(d) = t.strip_suffix('i') {
        return i32::try_from(int(d)?).map(Literal::I32).map_err(|_| bad());
    }
    i32::try_from(int(t)?).map(Literal::I32).map_err(|_| bad())
}

fn binary_op(op: &str) -> Result<BinaryOperator, String> {
    use BinaryOperator as B;
    Ok(match op {
        "+" => B::Add,
        "-" => B::Subtract,
        "*" => B::Multiply,
        "/" => B::Divide,
        "%" => B::Modulo,
        "==" => B::Equal,
        "!=" => B::NotEqual,
        "<" => B::Less,
        "<=" => B::LessEqual,
        ">" => B::Greater,
        ">=" => B::GreaterEqual,
        "&" => B::And,
        "|" => B::InclusiveOr,
        "^" => B::ExclusiveOr,
        "&&" => B::LogicalAnd,
        "||" => B::LogicalOr,
        "<<" => B::ShiftLeft,
        ">>" => B::ShiftRight,
        other => return Err(format!("operator `{other}`")),
    })
}

fn atomic_function(name: &str) -> Option<naga::AtomicFunction> {
    use naga::AtomicFunction as A;
    Some(match name {
        "atomicAdd" => A::Add,
        "atomicSub" => A::Subtract,
        "atomicAnd" => A::And,
        "atomicOr" => A::InclusiveOr,
        "atomicXor" => A::ExclusiveOr,
        "atomicMin" => A::Min,
        "atomicMax" => A::Max,
        "atomicExchange" => A::Exchange { compare: None },
        _ => return None,
    })
}

fn relational(name: &str) -> Option<naga::RelationalFunction> {
    Some(match name {
        "all" => naga::RelationalFunction::All,
        "any" => naga::RelationalFunction::Any,
        _ => return None,
    })
}

/// WGSL's built-in math functions, by their WGSL names.
fn math_function(name: &str) -> Option<MathFunction> {
    use MathFunction as M;
    Some(match name {
        "abs" => M::Abs,
        "min" => M::Min,
        "max" => M::Max,
        "clamp" => M::Clamp,
        "saturate" => M::Saturate,
        "cos" => M::Cos,
        "cosh" => M::Cosh,
        "sin" => M::Sin,
        "sinh" => M::Sinh,
        "tan" => M::Tan,
        "tanh" => M::Tanh,
        "acos" => M::Acos,
        "asin" => M::Asin,
        "atan" => M::Atan,
        "atan2" => M::Atan2,
        "asinh" => M::Asinh,
        "acosh" => M::Acosh,
        "atanh" => M::Atanh,
        "radians" => M::Radians,
        "degrees" => M::Degrees,
        "ceil" => M::Ceil,
        "floor" => M::Floor,
        "round" => M::Round,
        "fract" => M::Fract,
        "trunc" => M::Trunc,
        "ldexp" => M::Ldexp,
        "exp" => M::Exp,
        "exp2" => M::Exp2,
        "log" => M::Log,
        "log2" => M::Log2,
        "pow" => M::Pow,
        "dot" => M::Dot,
        "cross" => M::Cross,
        "distance" => M::Distance,
        "length" => M::Length,
        "normalize" => M::Normalize,
        "sign" => M::Sign,
        "fma" => M::Fma,
        "mix" => M::Mix,
        "step" => M::Step,
        "smoothstep" => M::SmoothStep,
        "sqrt" => M::Sqrt,
        "inverseSqrt" => M::InverseSqrt,
        "countTrailingZeros" => M::CountTrailingZeros,
        "countLeadingZeros" => M::CountLeadingZeros,
        "countOneBits" => M::CountOneBits,
        "reverseBits" => M::ReverseBits,
        "extractBits" => M::ExtractBits,
        "insertBits" => M::InsertBits,
        "firstTrailingBit" => M::FirstTrailingBit,
        "firstLeadingBit" => M::FirstLeadingBit,
        "pack4x8snorm" => M::Pack4x8snorm,
        "pack4x8unorm" => M::Pack4x8unorm,
        "pack2x16float" => M::Pack2x16float,
        "unpack2x16float" => M::Unpack2x16float,
        "pack4xI8" => M::Pack4xI8,
        "pack4xU8" => M::Pack4xU8,
        "unpack4xI8" => M::Unpack4xI8,
        "unpack4xU8" => M::Unpack4xU8,
        _ => return None,
    })
}

/// The values of a switch arm's labels (`case 1, 2`, `default`,
/// `case 3, default`).
fn switch_values(labels: &str, unsigned: bool) -> Result<Vec<SwitchValue>, String> {
    let list = labels.strip_prefix("case ").unwrap_or(labels);
    list.split(',')
        .map(|l| {
            let l = l.trim();
            if l == "default" {
                return Ok(SwitchValue::Default);
            }
            match parse_literal(l)? {
                Literal::I32(v) if unsigned => Ok(SwitchValue::U32(v as u32)),
                Literal::I32(v) => Ok(SwitchValue::I32(v)),
                Literal::U32(v) => Ok(SwitchValue::U32(v)),
                _ => Err(format!("case `{l}`")),
            }
        })
        .collect()
}

/// How a kernel's module built directly compares with the module naga
/// parses from its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Comparison {
    /// Not built: text left in a body, or a construct the builder lacks.
    NotBuilt(String),
    /// Built, but naga's validator refuses it.
    Invalid(String),
    /// Valid, but naga's WGSL backend prints it differently.
    Differs,
    /// Valid and printed exactly as the parsed module.
    Same,
}

/// Builds the module of `wgsl` directly and compares it with `parsed`,
/// the module naga read from that text and validated.
pub fn compare_with_text(
    wgsl: &str,
    parsed: &crate::validate::Checked,
    bodies: &[LoweredBody],
) -> Comparison {
    let built = match std::panic::catch_unwind(|| module(wgsl, bodies)) {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return Comparison::NotBuilt(e),
        Err(_) => return Comparison::NotBuilt("the builder panicked".into()),
    };
    let print = |m: &Module, info: &naga::valid::ModuleInfo| {
        naga::back::wgsl::write_string(m, info, naga::back::wgsl::WriterFlags::empty())
            .map_err(|e| e.to_string())
    };
    let built_text = match std::panic::catch_unwind(|| {
        let info = crate::validate::validator_for_everything()
            .validate(&built)
            .map_err(|e| format!("{:?}", e.into_inner()))?;
        print(&built, &info)
    }) {
        Ok(Ok(t)) => renumbered(&t),
        Ok(Err(e)) => return Comparison::Invalid(e),
        Err(_) => return Comparison::Invalid("naga panicked".into()),
    };
    match std::panic::catch_unwind(|| print(&parsed.module, &parsed.info)) {
        Ok(Ok(t)) if renumbered(&t) == built_text => Comparison::Same,
        _ => Comparison::Differs,
    }
}

/// naga's names for its temporaries (`_e91`) renumbered in order of first
/// appearance: they count the expressions of the arena, which a module
/// built directly holds in another number.
fn renumbered(text: &str) -> String {
    let mut names: HashMap<&str, usize> = HashMap::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("_e") {
        // Each function numbers its own expressions.
        if rest[..at].contains("\nfn ") {
            names.clear();
        }
        let before_ok = rest[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        let digits = rest[at + 2..]
            .chars()
            .take_while(char::is_ascii_digit)
            .count();
        let after = at + 2 + digits;
        let after_ok = rest[after..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
        out.push_str(&rest[..at]);
        if before_ok && digits > 0 && after_ok {
            let next = names.len();
            let n = *names.entry(&rest[at..after]).or_insert(next);
            out.push_str(&format!("_t{n}"));
            rest = &rest[after..];
        } else {
            out.push_str("_e");
            rest = &rest[at + 2..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_as_the_lowering_prints_them() {
        assert_eq!(parse_literal("12"), Ok(Literal::I32(12)));
        assert_eq!(parse_literal("-3"), Ok(Literal::I32(-3)));
        assert_eq!(parse_literal("0xffu"), Ok(Literal::U32(255)));
        assert_eq!(parse_literal("7lu"), Ok(Literal::U64(7)));
        assert_eq!(parse_literal("-7li"), Ok(Literal::I64(-7)));
        assert_eq!(parse_literal("2.5f"), Ok(Literal::F32(2.5)));
        assert_eq!(parse_literal("0.25lf"), Ok(Literal::F64(0.25)));
        assert_eq!(parse_literal("false"), Ok(Literal::Bool(false)));
        assert!(parse_literal("i32(-2147483648)").is_err());
        assert!(parse_literal("4294967296u").is_err());
    }

    #[test]
    fn temporaries_renumbered_per_function() {
        let a =
            "fn f() {\n    let _e12 = x;\n    y = _e12 + _e3;\n}\nfn g() {\n    let _e40 = z;\n}\n";
        let b =
            "fn f() {\n    let _e7 = x;\n    y = _e7 + _e1;\n}\nfn g() {\n    let _e2 = z;\n}\n";
        assert_eq!(renumbered(a), renumbered(b));
        assert_ne!(renumbered(a), renumbered(&a.replace("_e3", "_e12")));
        // Names that merely contain `_e` are left alone.
        assert_eq!(renumbered("let max_e1 = a_e;"), "let max_e1 = a_e;");
    }

    #[test]
    fn switch_labels() {
        assert_eq!(
            switch_values("case 1, 2", false),
            Ok(vec![SwitchValue::I32(1), SwitchValue::I32(2)])
        );
        assert_eq!(
            switch_values("case 3u, default", true),
            Ok(vec![SwitchValue::U32(3), SwitchValue::Default])
        );
        assert_eq!(
            switch_values("default", false),
            Ok(vec![SwitchValue::Default])
        );
    }
}
