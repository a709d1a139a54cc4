//! The generated module built directly into naga's arenas (issue 19,
//! item 1; the plan and its measurements are in this crate's README).
//!
//! The module's declarations are data ([`crate::decl::Decl`]: overrides,
//! structs, bindings, workgroup and private variables, constants, function
//! headers, the entry point), built by `declarations.rs` as naga's WGSL
//! front end builds them. The helper functions written as WGSL
//! (`cuda_roundf`, which name nothing else of the module) are the one
//! piece parsed: the *prelude*, the module the rest is built into. Each
//! lowered body — statements and expressions as trees ([`WStmt`],
//! [`WExpr`]) — is then built into its function: names resolved to
//! arguments, locals, globals, overrides and constants; loads where a
//! reference is used as a value; every expression typed with naga's
//! typifier; `Emit` ranges around the expressions that need them.
//! Expressions are appended as naga's WGSL front end appends them: through
//! naga's own constant evaluator (`ConstantEvaluator`, which folds
//! constant operands), with WGSL's abstract numbers (an unsuffixed `2`)
//! converted by the front end's rules (operands to their consensus, values
//! to their destination's type, else `i32`/`f32`), and the module
//! compacted at the end as the front end compacts it. Rebuilding these
//! rules rather than approximating them is what makes the built module
//! print exactly as the one naga parses from the module's text.
//!
//! A body holding text (a [`WExpr::Text`] a symbol carried) is not
//! built: the result says why. The kernel compiler ([`built_as_text`])
//! ships the built module when naga's validator accepts it, it needs the
//! device features the parsed module needs, and it has the parsed
//! module's declarations, each printed the same by naga, and its
//! workgroup sizes; otherwise the parsed module, the reason counted in
//! [`crate::emit::Structure`].

use std::collections::HashMap;

use naga::proc::{ConstantEvaluator, Emitter, ExpressionKindTracker, Layouter};
use naga::{
    AddressSpace, BinaryOperator, Block, Expression, Function, Handle, Literal, LocalVariable,
    MathFunction, Module, Scalar, ScalarKind, Span, Statement, SwitchCase, SwitchValue, Type,
    TypeInner, UnaryOperator, VectorSize,
};

use crate::emit::{BlockKind, WStmt};
use crate::wexpr::WExpr;

mod declarations;

pub use crate::decl::LoweredBody;

/// A module's declarations and the helper functions written as WGSL (the
/// prelude): what [`module`] builds the function bodies into.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModuleDecls {
    pub prelude: String,
    pub decls: Vec<crate::decl::Decl>,
}

/// Builds the module directly: the prelude parsed (helper functions written
/// as WGSL, which name nothing else of the module), then every declaration
/// and every lowered body built into its arenas.
pub fn module(decls: &ModuleDecls, bodies: &[LoweredBody]) -> Result<Module, String> {
    for body in bodies {
        let mut structure = crate::emit::Structure::default();
        structure.count(&body.stmts);
        if structure.holds_text() {
            return Err(format!(
                "`{}` holds text ({} bytes of expressions)",
                body.name, structure.expression_text_bytes
            ));
        }
    }
    let mut module = if decls.prelude.trim().is_empty() {
        Module::default()
    } else {
        naga::front::wgsl::parse_str(&decls.prelude)
            .map_err(|e| format!("prelude: {}", e.message()))?
    };
    let mut declarer = declarations::Declarer::new(&mut module, &decls.decls);
    for d in &decls.decls {
        declarer
            .declare(d)
            .map_err(|e| format!("declaring `{}`: {e}", d.name()))?;
    }
    for body in bodies {
        build_function(&mut module, body)?;
    }
    // As naga's front end: the abstract numbers folded into others are
    // left unused in the arenas, where the validator would refuse them.
    naga::compact::compact(&mut module, naga::compact::KeepUnused::Yes);
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
    /// The expressions not yet covered by an `Emit`: always running
    /// between appends, finished where a statement is pushed.
    emitter: Emitter,
    /// Which expressions are constant, for naga's constant evaluator
    /// (which folds them, as naga's front end does).
    kinds: ExpressionKindTracker,
    layouter: Layouter,
    /// How many loops the statement being built is inside.
    loop_depth: usize,
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
        return Err(format!("no function `{}` declared", body.name));
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
    let mut emitter = Emitter::default();
    emitter.start(&fun.expressions);
    let kinds = ExpressionKindTracker::from_arena(&fun.expressions);
    let mut b = FunctionBuilder {
        module,
        fun,
        typifier: naga::front::Typifier::new(),
        scopes: vec![HashMap::new()],
        blocks: vec![Block::new()],
        emitter,
        kinds,
        layouter: Layouter::default(),
        loop_depth: 0,
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

/// The results of statements: appended outside any `Emit`, as naga's
/// front end appends them (`interrupt_emitter`).
fn is_statement_result(e: &Expression) -> bool {
    matches!(
        e,
        Expression::CallResult(_)
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
        let block = self.blocks.last_mut().expect("a block is open");
        block.extend(self.emitter.finish(&self.fun.expressions));
        self.emitter.start(&self.fun.expressions);
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

    /// Appends `e` as naga's front end does: through naga's constant
    /// evaluator, which folds an expression of constants into its value;
    /// the result of a statement outside any `Emit`.
    fn append(&mut self, e: Expression) -> Result<Handle<Expression>, String> {
        let result = is_statement_result(&e);
        if result {
            let block = self.blocks.last_mut().expect("a block is open");
            block.extend(self.emitter.finish(&self.fun.expressions));
        }
        let h = self.evaluator().and_then(|mut eval| {
            eval.try_eval_and_append(e, Span::UNDEFINED)
                .map_err(|e| format!("constant evaluation: {e}"))
        });
        if result {
            self.emitter.start(&self.fun.expressions);
        }
        h
    }

    fn evaluator(&mut self) -> Result<ConstantEvaluator<'_>, String> {
        // Incremental: only the types added since the last call are laid out.
        self.layouter
            .update(self.module.to_ctx())
            .map_err(|e| format!("layout: {e}"))?;
        Ok(ConstantEvaluator::for_wgsl_function(
            self.module,
            &mut self.fun.expressions,
            &mut self.kinds,
            &mut self.layouter,
            &mut self.emitter,
            self.blocks.last_mut().expect("a block is open"),
            false,
        ))
    }

    // ---- WGSL's abstract numbers and automatic conversions -----------------

    /// `h` as a concrete value: an abstract integer made `i32` (else `u32`,
    /// else `f32`, as the value fits), an abstract float `f32`.
    fn concretize(&mut self, h: Handle<Expression>) -> Result<Handle<Expression>, String> {
        let preferences: &[Scalar] = match self.inner(h)?.scalar().map(|s| s.kind) {
            Some(ScalarKind::AbstractInt) => &[Scalar::I32, Scalar::U32, Scalar::F32],
            Some(ScalarKind::AbstractFloat) => &[Scalar::F32],
            _ => return Ok(h),
        };
        let mut last = String::new();
        for &scalar in preferences {
            match self.evaluator()?.cast_array(h, scalar, Span::UNDEFINED) {
                Ok(c) => return Ok(c),
                Err(e) => last = e.to_string(),
            }
        }
        Err(format!("concretization: {last}"))
    }

    /// `h` converted to the leaf scalar `goal` where WGSL converts it
    /// automatically (an abstract number); any other value is left as it
    /// is, for the validator to judge.
    fn convert_leaf(
        &mut self,
        h: Handle<Expression>,
        goal: Scalar,
    ) -> Result<Handle<Expression>, String> {
        match self.inner(h)?.scalar() {
            Some(s) if s != goal && s.automatically_converts_to(goal) => {
                self.append(Expression::As {
                    expr: h,
                    kind: goal.kind,
                    convert: Some(goal.width),
                })
            }
            _ => Ok(h),
        }
    }

    /// `h` converted to the type `goal` where WGSL converts it
    /// automatically.
    fn convert_to_type(
        &mut self,
        h: Handle<Expression>,
        goal: Handle<Type>,
    ) -> Result<Handle<Expression>, String> {
        match self.module.types[goal].inner.scalar() {
            Some(s) => self.convert_leaf(h, s),
            None => Ok(h),
        }
    }

    /// The values converted to the one leaf scalar they all convert to
    /// (WGSL's automatic conversion consensus), where there is one.
    fn reconcile(&mut self, values: &mut [Handle<Expression>]) -> Result<(), String> {
        let mut best: Option<Scalar> = None;
        for &v in values.iter() {
            let Some(s) = self.inner(v)?.scalar() else {
                return Ok(());
            };
            best = match best {
                None => Some(s),
                Some(b) => match b.automatic_conversion_combine(s) {
                    Some(c) => Some(c),
                    None => return Ok(()),
                },
            };
        }
        if let Some(goal) = best {
            for v in values.iter_mut() {
                *v = self.convert_leaf(*v, goal)?;
            }
        }
        Ok(())
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

    /// The type of `h`: the module's own handle where the typifier has one
    /// (a named struct stays that struct), else the type it resolves to.
    fn type_of(&mut self, h: Handle<Expression>) -> Result<Handle<Type>, String> {
        let inner = self.inner(h)?;
        Ok(match self.typifier[h] {
            naga::proc::TypeResolution::Handle(t) => t,
            naga::proc::TypeResolution::Value(_) => self.type_handle(inner),
        })
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
            WStmt::Comment(_) | WStmt::Origin(_) => Ok(()),
            WStmt::Noted(s, _) => self.stmt(s),
            WStmt::Decl {
                keyword,
                name,
                ty,
                init,
            } => {
                if *keyword == "var" {
                    let explicit = ty.as_ref().map(|t| self.parse_type(t)).transpose()?;
                    let init = init.as_ref().map(|e| self.value_abstract(e)).transpose()?;
                    let init = match (explicit, init) {
                        (Some(t), Some(v)) => Some(self.convert_to_type(v, t)?),
                        (None, Some(v)) => Some(self.concretize(v)?),
                        (_, None) => None,
                    };
                    let ty = match (explicit, init) {
                        (Some(t), _) => t,
                        (None, Some(v)) => self.type_of(v)?,
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
                    let constant = init
                        .filter(|&v| self.loop_depth == 0 && self.kinds.is_const_or_override(v));
                    self.fun.local_variables[var].init = constant;
                    let pointer = self.append(Expression::LocalVariable(var))?;
                    let store = match init {
                        _ if constant.is_some() => None,
                        None if self.loop_depth > 0 => {
                            Some(self.append(Expression::ZeroValue(ty))?)
                        }
                        other => other,
                    };
                    if let Some(value) = store {
                        self.push(Statement::Store { pointer, value });
                    }
                    self.bind(name, Binding::Local(pointer));
                } else {
                    let init = init.as_ref().ok_or("`let` without a value")?;
                    let v = match ty {
                        Some(t) => {
                            let want = self.parse_type(t)?;
                            let v = self.value_abstract(init)?;
                            let v = self.convert_to_type(v, want)?;
                            self.check_type(v, want)?
                        }
                        // A `const` may stay an abstract number.
                        None if *keyword == "const" => self.value_abstract(init)?,
                        None => self.value(init)?,
                    };
                    self.flush();
                    // A `const` names its value where it is used (folded
                    // there); a `let` is a run-time value, never constant.
                    if *keyword != "const" {
                        self.kinds.force_non_const(v);
                        self.fun.named_expressions.insert(v, name.clone());
                    }
                    self.bind(name, Binding::Value(v));
                }
                Ok(())
            }
            WStmt::Assign { target, op, value } => {
                // As naga's front end: the value converted to the target's
                // scalar (a shift's to `u32`), the target read first.
                let pointer = self.reference(target)?;
                let op = match *op {
                    "=" => None,
                    compound => Some(binary_op(compound.trim_end_matches('='))?),
                };
                let goal = match op {
                    Some(BinaryOperator::ShiftLeft | BinaryOperator::ShiftRight) => {
                        Some(Scalar::U32)
                    }
                    _ => match self.inner(pointer)? {
                        TypeInner::Pointer { base, .. } => self.module.types[base].inner.scalar(),
                        TypeInner::ValuePointer { scalar, .. } => Some(scalar),
                        _ => None,
                    },
                };
                let old = match op {
                    Some(_) => Some(self.append(Expression::Load { pointer })?),
                    None => None,
                };
                let mut right = self.value_abstract(value)?;
                if let Some(goal) = goal {
                    right = self.convert_leaf(right, goal)?;
                }
                let value = match (op, old) {
                    (Some(op), Some(mut left)) => {
                        self.splat_operands(op, &mut left, &mut right)?;
                        self.append(Expression::Binary { op, left, right })?
                    }
                    _ => right,
                };
                self.push(Statement::Store { pointer, value });
                Ok(())
            }
            WStmt::Increment { target, op } => {
                let pointer = self.reference(target)?;
                let old = self.append(Expression::Load { pointer })?;
                let one = match self.inner(old)? {
                    TypeInner::Scalar(s) => self.append(Expression::Literal(one_of(s)?))?,
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
                })?;
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
                let value = match (v, self.fun.result.as_ref().map(|r| r.ty)) {
                    (Some(e), Some(ty)) => {
                        let v = self.value_abstract(e)?;
                        let v = self.convert_to_type(v, ty)?;
                        Some(self.concretize(v)?)
                    }
                    (Some(e), None) => Some(self.value(e)?),
                    (None, _) => None,
                };
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
            WStmt::Block(kind, body) => match kind {
                BlockKind::Bare => {
                    let b = self.block_of(body)?;
                    self.push(Statement::Block(b));
                    Ok(())
                }
                BlockKind::Loop => {
                    let (body, continuing) = match body.split_last() {
                        Some((WStmt::Block(BlockKind::Continuing, c), rest)) => {
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
                BlockKind::Continuing => Err("a `continuing` block outside a loop's end".into()),
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
        let left = self.value_abstract(l)?;
        let condition = match and {
            true => left,
            false => self.append(Expression::Unary {
                op: UnaryOperator::LogicalNot,
                expr: left,
            })?,
        };
        let else_val = self.append(Expression::Literal(Literal::Bool(!and)))?;
        let ty = self.type_handle(TypeInner::Scalar(Scalar::BOOL));
        let var = self.fun.local_variables.append(
            LocalVariable {
                name: None,
                ty,
                init: None,
            },
            Span::UNDEFINED,
        );
        let pointer = self.append(Expression::LocalVariable(var))?;
        self.open_block();
        let right = self.value_abstract(r);
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
            handle: self.append(Expression::LocalVariable(var))?,
            reference: true,
        })
    }

    /// The value of the constant index `h` (evaluated by now into a
    /// literal), as naga's front end takes it for an `AccessIndex`.
    fn constant_index(&self, h: Handle<Expression>) -> Option<u32> {
        if !self.kinds.is_const(h) {
            return None;
        }
        match self.fun.expressions[h] {
            Expression::Literal(l) => u32::try_from(l).ok(),
            Expression::ZeroValue(ty) => match self.module.types[ty].inner {
                TypeInner::Scalar(s) if matches!(s.kind, ScalarKind::Sint | ScalarKind::Uint) => {
                    Some(0)
                }
                _ => None,
            },
            _ => None,
        }
    }

    fn bind(&mut self, name: &str, b: Binding) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), b);
        }
    }

    // ---- expressions ------------------------------------------------------

    /// `e` as a concrete value (a reference loaded, an abstract number
    /// concretized), as naga's front end reads most expressions.
    fn value(&mut self, e: &WExpr) -> Result<Handle<Expression>, String> {
        let v = self.value_abstract(e)?;
        self.concretize(v)
    }

    /// `e` as a value that may stay an abstract number: an operand, a
    /// constructor's component, a value converted to its destination.
    fn value_abstract(&mut self, e: &WExpr) -> Result<Handle<Expression>, String> {
        let b = self.expr(e)?;
        if b.reference {
            self.append(Expression::Load { pointer: b.handle })
        } else {
            Ok(b.handle)
        }
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
            WExpr::Literal(t) => match parse_literal(t) {
                Ok(lit) => Ok(value(self.append(Expression::Literal(lit))?)),
                // A constant spelled as a conversion of one
                // (`bitcast<f32>(0x7f800000u)`, `i32(-2147483648)`): built
                // as the call it is written as.
                Err(e) => match t.strip_suffix(')').and_then(|t| t.split_once('(')) {
                    Some((callee, arg)) if parse_literal(arg).is_ok() => {
                        self.expr(&WExpr::call(callee, vec![WExpr::literal(arg)]))
                    }
                    _ => Err(e),
                },
            },
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
                let v = self.value_abstract(inner)?;
                let op = match *op {
                    "-" => UnaryOperator::Negate,
                    "!" => UnaryOperator::LogicalNot,
                    "~" => UnaryOperator::BitwiseNot,
                    other => return Err(format!("unary `{other}`")),
                };
                Ok(value(self.append(Expression::Unary { op, expr: v })?))
            }
            WExpr::Binary(l, op @ ("&&" | "||"), r) => self.logical(*op == "&&", l, r),
            WExpr::Binary(l, op, r) => {
                let left = self.value_abstract(l)?;
                let right = self.value_abstract(r)?;
                let op = binary_op(op)?;
                Ok(value(self.binary(op, left, right)?))
            }
            WExpr::Index(base, index) => {
                let b = self.expr(base)?;
                let index = self.value(index)?;
                // A constant index selects, as naga's front end reads it.
                if let Some(k) = self.constant_index(index) {
                    let handle = self.append(Expression::AccessIndex {
                        base: b.handle,
                        index: k,
                    })?;
                    return Ok(Built {
                        handle,
                        reference: b.reference,
                    });
                }
                let handle = self.append(Expression::Access {
                    base: b.handle,
                    index,
                })?;
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
            let h = self.append(Expression::FunctionArgument(i as u32))?;
            return Ok(Built {
                handle: h,
                reference: false,
            });
        }
        let global = (self.module.global_variables.iter())
            .find(|(_, g)| g.name.as_deref() == Some(n))
            .map(|(h, g)| (h, g.space != AddressSpace::Handle));
        if let Some((h, reference)) = global {
            let h = self.append(Expression::GlobalVariable(h))?;
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
            let h = self.append(e)?;
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
                })?;
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
                    })?;
                    return Ok(Built {
                        handle: h,
                        reference: b.reference,
                    });
                }
                let vector = if b.reference {
                    self.append(Expression::Load { pointer: b.handle })?
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
                })?;
                Ok(Built {
                    handle: h,
                    reference: false,
                })
            }
            _ => Err(format!("member `{member}` of a non-struct")),
        }
    }

    /// `left op right` as naga's front end lowers it: a scalar operand
    /// of `+ - / %` splatted against a vector, then abstract operands
    /// converted (a shift's right operand to `u32`, its left concretized
    /// unless the right is constant; the other operators' to their
    /// consensus).
    fn binary(
        &mut self,
        op: BinaryOperator,
        left: Handle<Expression>,
        right: Handle<Expression>,
    ) -> Result<Handle<Expression>, String> {
        let (mut left, mut right) = (left, right);
        self.splat_operands(op, &mut left, &mut right)?;
        if matches!(op, BinaryOperator::ShiftLeft | BinaryOperator::ShiftRight) {
            right = self.convert_leaf(right, Scalar::U32)?;
            if !self.kinds.is_const(right) {
                left = self.concretize(left)?;
            }
        } else {
            let mut both = [left, right];
            self.reconcile(&mut both)?;
            [left, right] = both;
        }
        self.append(Expression::Binary { op, left, right })
    }

    /// A scalar operand of `+`, `-`, `/` or `%` against a vector,
    /// splatted (naga's IR mixes them only for `*`).
    fn splat_operands(
        &mut self,
        op: BinaryOperator,
        left: &mut Handle<Expression>,
        right: &mut Handle<Expression>,
    ) -> Result<(), String> {
        use BinaryOperator as B;
        if !matches!(op, B::Add | B::Subtract | B::Divide | B::Modulo) {
            return Ok(());
        }
        match (self.inner(*left)?, self.inner(*right)?) {
            (TypeInner::Vector { size, .. }, TypeInner::Scalar(_)) => {
                *right = self.append(Expression::Splat {
                    size,
                    value: *right,
                })?;
            }
            (TypeInner::Scalar(_), TypeInner::Vector { size, .. }) => {
                *left = self.append(Expression::Splat { size, value: *left })?;
            }
            _ => {}
        }
        Ok(())
    }

    /// `v`, checked to be of the declared type `want`.
    fn check_type(
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

    /// The scalar of the atomic `pointer` points at.
    fn atomic_scalar(&mut self, pointer: Handle<Expression>) -> Result<naga::Scalar, String> {
        match self.inner(pointer)? {
            TypeInner::Pointer { base, .. } => match self.module.types[base].inner {
                TypeInner::Atomic(s) => Ok(s),
                _ => Err("atomic of a non-atomic".into()),
            },
            _ => Err("atomic through a non-pointer".into()),
        }
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
                return Ok(Some(self.append(Expression::ArrayLength(p))?));
            }
            "atomicLoad" => {
                let [a] = args else {
                    return Err("atomicLoad arity".into());
                };
                let pointer = self.value(a)?;
                return Ok(Some(self.append(Expression::Load { pointer })?));
            }
            "atomicStore" => {
                let [a, v] = args else {
                    return Err("atomicStore arity".into());
                };
                let pointer = self.value(a)?;
                let scalar = self.atomic_scalar(pointer)?;
                let value = self.value_as(v, scalar)?;
                self.push(Statement::Store { pointer, value });
                return Ok(None);
            }
            "atomicCompareExchangeWeak" => {
                let [a, c, v] = args else {
                    return Err("atomicCompareExchangeWeak arity".into());
                };
                let pointer = self.value(a)?;
                let scalar = self.atomic_scalar(pointer)?;
                let compare = self.value_as(c, scalar)?;
                let value = self.value_as(v, scalar)?;
                let ty = self.module.generate_predeclared_type(
                    naga::PredeclaredType::AtomicCompareExchangeWeakResult(scalar),
                );
                let result = self.append(Expression::AtomicResult {
                    ty,
                    comparison: true,
                })?;
                self.push(Statement::Atomic {
                    pointer,
                    fun: naga::AtomicFunction::Exchange {
                        compare: Some(compare),
                    },
                    value,
                    result: Some(result),
                });
                return Ok(Some(result));
            }
            _ => {}
        }
        if let Some(fun) = atomic_function(callee) {
            let [a, v] = args else {
                return Err(format!("{callee} arity"));
            };
            let pointer = self.value(a)?;
            let scalar = self.atomic_scalar(pointer)?;
            let value = self.value_as(v, scalar)?;
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
                })?)
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
        let mut values = args
            .iter()
            .map(|a| self.value_abstract(a))
            .collect::<Result<Vec<_>, _>>()?;
        if let Ok(ty) = self.parse_type(callee) {
            return self.construct(ty, &values).map(Some);
        }
        // The module's functions first: they shadow WGSL's builtins (a
        // CUDA `normalize` helper), as in naga's front end.
        let function = (self.module.functions.iter())
            .find(|(_, f)| f.name.as_deref() == Some(callee))
            .map(|(h, f)| {
                (
                    h,
                    f.arguments.iter().map(|a| a.ty).collect::<Vec<_>>(),
                    f.result.is_some(),
                )
            });
        if let Some((function, params, has_result)) = function {
            // Each argument converted to its parameter's type.
            for (v, ty) in values.iter_mut().zip(params) {
                let converted = self.convert_to_type(*v, ty)?;
                *v = self.concretize(converted)?;
            }
            let result = match has_result {
                true => Some(self.append(Expression::CallResult(function))?),
                false => None,
            };
            self.push(Statement::Call {
                function,
                arguments: values,
                result,
            });
            return Ok(result);
        }
        if callee == "select" {
            // As naga's front end: the two values reconciled, and made
            // concrete unless the condition is constant.
            let [reject, accept, condition] = values[..] else {
                return Err("select arity".into());
            };
            let condition = self.concretize(condition)?;
            let mut pair = [reject, accept];
            self.reconcile(&mut pair)?;
            if !self.kinds.is_const(condition) {
                for v in pair.iter_mut() {
                    *v = self.concretize(*v)?;
                }
            }
            let [reject, accept] = pair;
            return Ok(Some(self.append(Expression::Select {
                condition,
                accept,
                reject,
            })?));
        }
        if let Some(fun) = math_function(callee) {
            self.math_arguments(fun, &mut values)?;
            let arg = *values.first().ok_or("math without arguments")?;
            return Ok(Some(self.append(Expression::Math {
                fun,
                arg,
                arg1: values.get(1).copied(),
                arg2: values.get(2).copied(),
                arg3: values.get(3).copied(),
            })?));
        }
        for v in values.iter_mut() {
            *v = self.concretize(*v)?;
        }
        if let Some(h) = self.subgroup(callee, &values)? {
            return Ok(Some(h));
        }
        if let Some(e) = texture_call(callee, &values)? {
            return Ok(Some(self.append(e)?));
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
            })?));
        }
        if let Some(fun) = relational(callee) {
            let [argument] = values[..] else {
                return Err(format!("{callee} arity"));
            };
            return Ok(Some(self.append(Expression::Relational { fun, argument })?));
        }
        Err(format!("unknown function `{callee}`"))
    }

    /// A type's constructor, as naga's front end lowers it: a conversion
    /// (`As`, even to the value's own type), a splat, a composite of
    /// components converted to the type's, or the zero value.
    fn construct(
        &mut self,
        ty: Handle<Type>,
        values: &[Handle<Expression>],
    ) -> Result<Handle<Expression>, String> {
        let target = self.module.types[ty].inner.clone();
        if values.is_empty() {
            return self.append(Expression::ZeroValue(ty));
        }
        if let [v] = values {
            match (&target, self.inner(*v)?) {
                (TypeInner::Scalar(s), TypeInner::Scalar(_))
                | (TypeInner::Vector { scalar: s, .. }, TypeInner::Vector { .. }) => {
                    return self.append(Expression::As {
                        expr: *v,
                        kind: s.kind,
                        convert: Some(s.width),
                    });
                }
                (TypeInner::Vector { size, scalar }, TypeInner::Scalar(_)) => {
                    let value = self.convert_leaf(*v, *scalar)?;
                    return self.append(Expression::Splat { size: *size, value });
                }
                _ => {}
            }
        }
        let mut components = values.to_vec();
        match &target {
            TypeInner::Vector { scalar, .. } => {
                for c in components.iter_mut() {
                    *c = self.convert_leaf(*c, *scalar)?;
                }
            }
            TypeInner::Struct { members, .. } => {
                for (c, m) in components.iter_mut().zip(members) {
                    *c = self.convert_to_type(*c, m.ty)?;
                }
            }
            TypeInner::Array { base, .. } => {
                for c in components.iter_mut() {
                    *c = self.convert_to_type(*c, *base)?;
                }
            }
            _ => {}
        }
        self.append(Expression::Compose { ty, components })
    }

    /// A math function's arguments converted as naga's overload resolution
    /// converts them: the arguments of the generic type `T` to their
    /// consensus (`extractBits`' value alone, `insertBits`' two,
    /// `ldexp`'s first), the fixed `u32` offsets and counts to `u32`; made
    /// concrete unless every argument is constant.
    fn math_arguments(
        &mut self,
        fun: MathFunction,
        values: &mut [Handle<Expression>],
    ) -> Result<(), String> {
        let generic = match fun {
            MathFunction::ExtractBits | MathFunction::Ldexp => 1,
            MathFunction::InsertBits => 2,
            _ => values.len(),
        }
        .min(values.len());
        self.reconcile(&mut values[..generic])?;
        if matches!(fun, MathFunction::ExtractBits | MathFunction::InsertBits) {
            for v in values[generic..].iter_mut() {
                *v = self.convert_leaf(*v, Scalar::U32)?;
            }
        }
        // WGSL's bit functions have no abstract overloads; the others take
        // abstract numbers where every argument is constant.
        use MathFunction as M;
        let bits = matches!(
            fun,
            M::CountTrailingZeros
                | M::CountLeadingZeros
                | M::CountOneBits
                | M::ReverseBits
                | M::ExtractBits
                | M::InsertBits
                | M::FirstTrailingBit
                | M::FirstLeadingBit
        );
        if bits || !values.iter().all(|&v| self.kinds.is_const(v)) {
            for v in values.iter_mut() {
                *v = self.concretize(*v)?;
            }
        }
        Ok(())
    }

    /// `e` as a value of the scalar `scalar` (an abstract number
    /// converted), as an atomic's operand is read.
    fn value_as(&mut self, e: &WExpr, scalar: Scalar) -> Result<Handle<Expression>, String> {
        let v = self.value_abstract(e)?;
        let v = self.convert_leaf(v, scalar)?;
        self.concretize(v)
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
            let result = self.append(Expression::SubgroupOperationResult { ty })?;
            self.push(Statement::SubgroupCollectiveOperation {
                op,
                collective_op,
                argument,
                result,
            });
            return Ok(Some(result));
        }
        if callee == "subgroupBallot" {
            let result = self.append(Expression::SubgroupBallotResult)?;
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
        let result = self.append(Expression::SubgroupOperationResult { ty })?;
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
        declarations::parse_type(self.module, &mut self.layouter, t)
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
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let int = |d: &str| -> Result<i128, String> {
        let v = match d.strip_prefix("0x") {
            Some(hex) => i128::from_str_radix(hex, 16).map_err(|_| bad())?,
            None => d.parse::<i128>().map_err(|_| bad())?,
        };
        Ok(if negative { -v } else { v })
    };
    let float = |d: &str| -> Result<f64, String> {
        let v = d.parse::<f64>().map_err(|_| bad())?;
        Ok(if negative { -v } else { v })
    };
    let is_hex = digits.starts_with("0x");
    if let Some(d) = digits.strip_suffix("lu") {
        return u64::try_from(int(d)?).map(Literal::U64).map_err(|_| bad());
    }
    if let Some(d) = digits.strip_suffix("li") {
        return i64::try_from(int(d)?).map(Literal::I64).map_err(|_| bad());
    }
    if let Some(d) = digits.strip_suffix("lf") {
        return float(d).map(Literal::F64);
    }
    if !is_hex && let Some(d) = digits.strip_suffix('f') {
        return float(d).map(|v| Literal::F32(v as f32));
    }
    if !is_hex && let Some(d) = digits.strip_suffix('h') {
        return float(d).map(|v| Literal::F16(half::f16::from_f64(v)));
    }
    if let Some(d) = digits.strip_suffix('u') {
        return u32::try_from(int(d)?).map(Literal::U32).map_err(|_| bad());
    }
    if let Some(d) = digits.strip_suffix('i') {
        return i32::try_from(int(d)?).map(Literal::I32).map_err(|_| bad());
    }
    // No suffix: WGSL's abstract numbers, made concrete where used.
    if !is_hex && digits.contains(['.', 'e', 'E']) {
        return float(digits).map(Literal::AbstractFloat);
    }
    i64::try_from(int(digits)?)
        .map(Literal::AbstractInt)
        .map_err(|_| bad())
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

/// The texture builtins the lowering calls: sampling a float texture at
/// a level, and its size.
fn texture_call(callee: &str, values: &[Handle<Expression>]) -> Result<Option<Expression>, String> {
    Ok(Some(match (callee, values) {
        ("textureSampleLevel", &[image, sampler, coordinate, ref rest @ ..]) => {
            let (array_index, level) = match *rest {
                [level] => (None, level),
                [index, level] => (Some(index), level),
                _ => return Err("textureSampleLevel arity".into()),
            };
            Expression::ImageSample {
                image,
                sampler,
                gather: None,
                coordinate,
                array_index,
                offset: None,
                level: naga::SampleLevel::Exact(level),
                depth_ref: None,
                clamp_to_edge: false,
            }
        }
        ("textureDimensions", &[image, ref level @ ..]) => Expression::ImageQuery {
            image,
            query: naga::ImageQuery::Size {
                level: level.first().copied(),
            },
        },
        _ => return Ok(None),
    }))
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
                Literal::AbstractInt(v) if unsigned => u32::try_from(v)
                    .map(SwitchValue::U32)
                    .map_err(|_| format!("case `{l}`")),
                Literal::AbstractInt(v) => i32::try_from(v)
                    .map(SwitchValue::I32)
                    .map_err(|_| format!("case `{l}`")),
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
/// the module naga read from that text and validated: the built module
/// when it is valid, needs what the parsed one needs and prints exactly as
/// it does.
pub fn built_as_text(
    decls: &ModuleDecls,
    parsed: &crate::validate::Checked,
    bodies: &[LoweredBody],
) -> (Comparison, Option<Module>) {
    let built = match std::panic::catch_unwind(|| module(decls, bodies)) {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return (Comparison::NotBuilt(e), None),
        Err(_) => return (Comparison::NotBuilt("the builder panicked".into()), None),
    };
    match compare(&built, parsed) {
        Comparison::Same => match crate::validate::validate_built(&built) {
            Ok(needs) if needs == parsed.needs => (Comparison::Same, Some(built)),
            Ok(needs) => (
                Comparison::Invalid(format!(
                    "needs {:?}, the parsed module {:?}",
                    needs.feature_names(),
                    parsed.needs.feature_names()
                )),
                None,
            ),
            Err(e) => (Comparison::Invalid(e), None),
        },
        other => (other, None),
    }
}

/// How `built` compares with `parsed` as naga's WGSL backend prints them:
/// the same declarations, each printed the same (the order of a module's
/// declarations means nothing in WGSL; the builder declares the prelude's
/// helpers first, the front end in the text's order), and the same
/// workgroup sizes (which the backend prints as numbers, overrides lost).
fn compare(built: &Module, parsed: &crate::validate::Checked) -> Comparison {
    let print = |m: &Module, info: &naga::valid::ModuleInfo| {
        naga::back::wgsl::write_string(m, info, naga::back::wgsl::WriterFlags::empty())
            .map_err(|e| e.to_string())
    };
    let built_text = match std::panic::catch_unwind(|| {
        let info = crate::validate::validator_for_everything()
            .validate(built)
            .map_err(|e| format!("{:?}", e.into_inner()))?;
        print(built, &info)
    }) {
        Ok(Ok(t)) => declarations_of(&t),
        Ok(Err(e)) => return Comparison::Invalid(e),
        Err(_) => return Comparison::Invalid("naga panicked".into()),
    };
    let same_text = match std::panic::catch_unwind(|| print(&parsed.module, &parsed.info)) {
        Ok(Ok(t)) => declarations_of(&t) == built_text,
        _ => false,
    };
    if same_text && workgroup_sizes(built) == workgroup_sizes(&parsed.module) {
        Comparison::Same
    } else {
        Comparison::Differs
    }
}

/// The module-scope declarations of naga's printed `text`, each with its
/// temporaries renumbered, sorted.
fn declarations_of(text: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut attributes_only = false;
    for line in text.lines() {
        let starts_item =
            !line.is_empty() && !line.starts_with([' ', '}', ')']) && !attributes_only;
        if starts_item && !current.trim().is_empty() {
            items.push(renumbered(current.trim()));
            current.clear();
        }
        // `@compute @workgroup_size(…)` on a line of its own belongs to
        // the function below it.
        attributes_only = line.starts_with('@') && !line.contains(" var") && !line.contains("fn ");
        current.push_str(line);
        current.push('\n');
    }
    if !current.trim().is_empty() {
        items.push(renumbered(current.trim()));
    }
    items.sort();
    items
}

/// Each entry point's workgroup size: fixed numbers, and the override
/// expressions of the axes that have them.
fn workgroup_sizes(m: &Module) -> Vec<String> {
    fn expr(m: &Module, h: Handle<Expression>) -> String {
        match &m.global_expressions[h] {
            Expression::Override(o) => m.overrides[*o].name.clone().unwrap_or_default(),
            Expression::Constant(c) => m.constants[*c].name.clone().unwrap_or_default(),
            Expression::Binary { op, left, right } => {
                format!("({} {op:?} {})", expr(m, *left), expr(m, *right))
            }
            other => format!("{other:?}"),
        }
    }
    (m.entry_points.iter())
        .map(|ep| {
            let overrides = ep
                .workgroup_size_overrides
                .map(|axes| axes.map(|axis| axis.map(|h| expr(m, h))));
            format!("{}: {:?} {:?}", ep.name, ep.workgroup_size, overrides)
        })
        .collect()
}

/// naga's names for its temporaries (`_e91`) renumbered in order of first
/// appearance: they count the expressions of the arena, which a module
/// built directly holds in another number.
pub fn renumbered(text: &str) -> String {
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
        // Without a suffix, WGSL's abstract numbers.
        assert_eq!(parse_literal("12"), Ok(Literal::AbstractInt(12)));
        assert_eq!(parse_literal("-3"), Ok(Literal::AbstractInt(-3)));
        assert_eq!(parse_literal("0.5"), Ok(Literal::AbstractFloat(0.5)));
        assert_eq!(parse_literal("7i"), Ok(Literal::I32(7)));
        assert_eq!(parse_literal("-0x10u"), Err("literal `-0x10u`".into()));
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
    fn a_body_holding_text_is_not_built() {
        let body = LoweredBody {
            name: "k".into(),
            printed: "    let x = a[b + 1];\n".into(),
            stmts: vec![WStmt::let_("x", WExpr::ident("a[b + 1]"))],
        };
        let err = module(&ModuleDecls::default(), &[body]).unwrap_err();
        assert_eq!(err, "`k` holds text (8 bytes of expressions)");
    }

    #[test]
    fn declarations_compare_in_any_order_but_workgroup_sizes_must_match() {
        use crate::decl::{Decl, FunctionHeader, Item, Member};
        // The prelude's struct and helper are the built module's first
        // declarations, the text's last: the same module all the same.
        let prelude = "struct H {\n    b: f32,\n}\nfn helper(h: H) -> f32 {\n    return h.b;\n}\n";
        let text = format!(
            "override BLOCK_DIM_X: u32 = 64u;\noverride BLOCKS_PER_WORKGROUP: u32 = 1u;\nstruct P {{\n    a: f32,\n}}\n{prelude}@compute @workgroup_size(BLOCK_DIM_X * BLOCKS_PER_WORKGROUP, 1, 1)\nfn k() {{\n}}\n"
        );
        let parsed = crate::validate::check(&text).unwrap();
        let decls = |x: WExpr| ModuleDecls {
            prelude: prelude.into(),
            decls: vec![
                Decl::override_("BLOCK_DIM_X", "u32", "64u"),
                Decl::override_("BLOCKS_PER_WORKGROUP", "u32", "1u"),
                Decl::new(Item::Struct {
                    name: "P".into(),
                    members: vec![Member {
                        name: "a".into(),
                        ty: "f32".into(),
                        note: None,
                    }],
                }),
                Decl::new(Item::Function(FunctionHeader {
                    name: "k".into(),
                    params: Vec::new(),
                    result: None,
                    workgroup_size: Some([x, WExpr::literal("1"), WExpr::literal("1")]),
                })),
            ],
        };
        let body = LoweredBody {
            name: "k".into(),
            printed: String::new(),
            stmts: Vec::new(),
        };
        let blocks = WExpr::binary(
            WExpr::name("BLOCK_DIM_X"),
            "*",
            WExpr::name("BLOCKS_PER_WORKGROUP"),
        );
        let (same, built) = built_as_text(&decls(blocks), &parsed, std::slice::from_ref(&body));
        assert_eq!(same, Comparison::Same);
        let built = built.unwrap();
        assert_eq!(
            built
                .types
                .iter()
                .find_map(|(_, t)| t.name.clone())
                .as_deref(),
            Some("H")
        );
        // naga's backend prints both sizes as `64, 1, 1`: the comparison
        // reads the override expressions themselves.
        let (other, _) = built_as_text(&decls(WExpr::name("BLOCK_DIM_X")), &parsed, &[body]);
        assert_eq!(other, Comparison::Differs);
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
