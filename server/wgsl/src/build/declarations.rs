//! A module's declarations ([`Decl`]) built into naga's arenas as naga's
//! WGSL front end builds them: types with the front end's layout, overrides
//! and constants through naga's constant evaluator (abstract numbers
//! converted to the declared type), variables with their bindings,
//! functions with their arguments, entry points with their workgroup size.

use std::collections::HashMap;

use naga::proc::{Alignment, ConstantEvaluator, ExpressionKindTracker, Layouter};
use naga::{
    AddressSpace, ArraySize, Binding, Constant, EntryPoint, Expression, Function, FunctionArgument,
    FunctionResult, GlobalVariable, Handle, ImageClass, ImageDimension, Module, Override,
    ResourceBinding, ScalarKind, ShaderStage, Span, StorageAccess, StructMember, Type, TypeInner,
};

use super::{binary_op, parse_literal, scalar_named, vector_size};
use crate::decl::{Decl, FunctionHeader, Item, Space};
use crate::wexpr::WExpr;

/// Builds the module-scope state of `module` (the prelude, parsed) from
/// `decls`; functions are declared with empty bodies.
pub(super) struct Declarer<'m> {
    pub module: &'m mut Module,
    pub layouter: Layouter,
    kinds: ExpressionKindTracker,
    /// Structs not declared yet: a struct's member types are declared
    /// before it, as the front end orders declarations by what they use.
    pending_structs: HashMap<String, Decl>,
}

impl<'m> Declarer<'m> {
    pub fn new(module: &'m mut Module, decls: &[Decl]) -> Declarer<'m> {
        let kinds = ExpressionKindTracker::from_arena(&module.global_expressions);
        let pending_structs = (decls.iter())
            .filter(|d| matches!(d.item, Item::Struct { .. }))
            .map(|d| (d.name().to_string(), d.clone()))
            .collect();
        Declarer {
            module,
            layouter: Layouter::default(),
            kinds,
            pending_structs,
        }
    }

    pub fn declare(&mut self, decl: &Decl) -> Result<(), String> {
        match &decl.item {
            Item::Override { name, ty, init } => {
                let ty = self.ty(ty)?;
                let init = self.global_value(&WExpr::literal(init.clone()), ty, true)?;
                self.module.overrides.append(
                    Override {
                        name: Some(name.clone()),
                        id: None,
                        ty,
                        init: Some(init),
                    },
                    Span::UNDEFINED,
                );
            }
            Item::Struct { name, members } => {
                if self.pending_structs.remove(name).is_none() {
                    return Ok(()); // declared already, by a struct holding it
                }
                let mut offset = 0;
                let mut alignment = Alignment::ONE;
                let mut built = Vec::new();
                for m in members {
                    let ty = self.ty(&m.ty)?;
                    self.update_layout()?;
                    let layout = self.layouter[ty];
                    offset = layout.alignment.round_up(offset);
                    alignment = alignment.max(layout.alignment);
                    built.push(StructMember {
                        name: Some(m.name.clone()),
                        ty,
                        binding: None,
                        offset,
                    });
                    offset += layout.size;
                }
                self.module.types.insert(
                    Type {
                        name: Some(name.clone()),
                        inner: TypeInner::Struct {
                            members: built,
                            span: alignment.round_up(offset),
                        },
                    },
                    Span::UNDEFINED,
                );
            }
            Item::Var {
                space,
                binding,
                name,
                ty,
            } => {
                let ty = self.ty(ty)?;
                let space = match space {
                    Space::Storage { write: false } => AddressSpace::Storage {
                        access: StorageAccess::LOAD,
                    },
                    Space::Storage { write: true } => AddressSpace::Storage {
                        access: StorageAccess::LOAD | StorageAccess::STORE,
                    },
                    Space::Uniform => AddressSpace::Uniform,
                    Space::Workgroup => AddressSpace::WorkGroup,
                    Space::Private => AddressSpace::Private,
                    Space::Handle => AddressSpace::Handle,
                };
                self.module.global_variables.append(
                    GlobalVariable {
                        name: Some(name.clone()),
                        space,
                        binding: binding.map(|binding| ResourceBinding { group: 0, binding }),
                        ty,
                        init: None,
                        memory_decorations: Default::default(),
                    },
                    Span::UNDEFINED,
                );
            }
            Item::Const { name, ty, init } => {
                let ty = self.ty(ty)?;
                let init = self.global_value(init, ty, false)?;
                self.module.constants.append(
                    Constant {
                        name: Some(name.clone()),
                        ty,
                        init,
                    },
                    Span::UNDEFINED,
                );
            }
            Item::Function(header) => self.function(header)?,
        }
        Ok(())
    }

    fn function(&mut self, header: &FunctionHeader) -> Result<(), String> {
        let mut function = Function {
            name: Some(header.name.clone()),
            ..Function::default()
        };
        for (i, p) in header.params.iter().enumerate() {
            let ty = self.ty(&p.ty)?;
            // As the front end: each argument's expression first.
            function
                .expressions
                .append(Expression::FunctionArgument(i as u32), Span::UNDEFINED);
            function.arguments.push(FunctionArgument {
                name: Some(p.name.clone()),
                ty,
                binding: p.builtin.map(|b| Binding::BuiltIn(b.naga())),
            });
        }
        if let Some(r) = &header.result {
            function.result = Some(FunctionResult {
                ty: self.ty(r)?,
                binding: None,
            });
        }
        let Some(size) = &header.workgroup_size else {
            self.module.functions.append(function, Span::UNDEFINED);
            return Ok(());
        };
        // An axis given by overrides is an override expression, its fixed
        // size left at 1 (the front end's reading of `@workgroup_size`).
        let mut workgroup_size = [1; 3];
        let mut overrides = [None; 3];
        for (axis, e) in size.iter().enumerate() {
            let h = self.global_expression(e, true)?;
            match self.module.global_expressions[h] {
                Expression::Literal(l) => {
                    workgroup_size[axis] = match l {
                        naga::Literal::U32(v) => v,
                        naga::Literal::I32(v) if v > 0 => v as u32,
                        naga::Literal::AbstractInt(v) if v > 0 => v as u32,
                        other => return Err(format!("workgroup size {other:?}")),
                    }
                }
                _ => overrides[axis] = Some(h),
            }
        }
        self.module.entry_points.push(EntryPoint {
            name: header.name.clone(),
            stage: ShaderStage::Compute,
            early_depth_test: None,
            workgroup_size,
            workgroup_size_overrides: overrides.iter().any(Option::is_some).then_some(overrides),
            function,
            mesh_info: None,
            task_payload: None,
            incoming_ray_payload: None,
        });
        Ok(())
    }

    fn update_layout(&mut self) -> Result<(), String> {
        self.layouter
            .update(self.module.to_ctx())
            .map_err(|e| format!("layout: {e}"))
    }

    fn evaluator(&mut self, in_override: bool) -> Result<ConstantEvaluator<'_>, String> {
        self.update_layout()?;
        Ok(ConstantEvaluator::for_wgsl_module(
            self.module,
            &mut self.kinds,
            &mut self.layouter,
            in_override,
        ))
    }

    fn append(&mut self, e: Expression, in_override: bool) -> Result<Handle<Expression>, String> {
        self.evaluator(in_override)?
            .try_eval_and_append(e, Span::UNDEFINED)
            .map_err(|e| format!("constant evaluation: {e}"))
    }

    /// `e` as a value of type `ty`: an abstract number converted to it.
    fn global_value(
        &mut self,
        e: &WExpr,
        ty: Handle<Type>,
        in_override: bool,
    ) -> Result<Handle<Expression>, String> {
        let h = self.global_expression(e, in_override)?;
        self.converted(h, ty)
    }

    fn converted(
        &mut self,
        h: Handle<Expression>,
        ty: Handle<Type>,
    ) -> Result<Handle<Expression>, String> {
        let Some(goal) = self.module.types[ty].inner.scalar() else {
            return Ok(h);
        };
        let abstract_ = match &self.module.global_expressions[h] {
            Expression::Literal(l) => matches!(
                l.scalar_kind(),
                ScalarKind::AbstractInt | ScalarKind::AbstractFloat
            ),
            _ => false,
        };
        if !abstract_ {
            return Ok(h);
        }
        self.evaluator(false)?
            .cast_array(h, goal, Span::UNDEFINED)
            .map_err(|e| format!("conversion: {e}"))
    }

    /// A module-scope expression: literals, names of overrides and
    /// constants, operators, constructors.
    fn global_expression(
        &mut self,
        e: &WExpr,
        in_override: bool,
    ) -> Result<Handle<Expression>, String> {
        let expr = match e {
            WExpr::Literal(t) => Expression::Literal(parse_literal(t)?),
            WExpr::Paren(inner) => return self.global_expression(inner, in_override),
            WExpr::Name(n) => {
                let o = (self.module.overrides.iter()).find(|(_, o)| o.name.as_deref() == Some(n));
                let c = (self.module.constants.iter()).find(|(_, c)| c.name.as_deref() == Some(n));
                match (o, c) {
                    (Some((h, _)), _) => Expression::Override(h),
                    (None, Some((h, _))) => Expression::Constant(h),
                    (None, None) => return Err(format!("unknown module-scope name `{n}`")),
                }
            }
            WExpr::Unary("-", operand) => Expression::Unary {
                op: naga::UnaryOperator::Negate,
                expr: self.global_expression(operand, in_override)?,
            },
            WExpr::Binary(l, op, r) => Expression::Binary {
                op: binary_op(op)?,
                left: self.global_expression(l, in_override)?,
                right: self.global_expression(r, in_override)?,
            },
            WExpr::Call(callee, args) => {
                let ty = self.ty(callee)?;
                let inner = self.module.types[ty].inner.clone();
                let mut components = Vec::new();
                for (i, a) in args.iter().enumerate() {
                    let h = self.global_expression(a, in_override)?;
                    let goal = match &inner {
                        TypeInner::Struct { members, .. } => members.get(i).map(|m| m.ty),
                        TypeInner::Array { base, .. } => Some(*base),
                        TypeInner::Vector { scalar, .. } | TypeInner::Scalar(scalar) => {
                            Some(self.module.types.insert(
                                Type {
                                    name: None,
                                    inner: TypeInner::Scalar(*scalar),
                                },
                                Span::UNDEFINED,
                            ))
                        }
                        _ => None,
                    };
                    components.push(match goal {
                        Some(goal) => self.converted(h, goal)?,
                        None => h,
                    });
                }
                match (&inner, components.as_slice()) {
                    (TypeInner::Scalar(s), [value]) => Expression::As {
                        expr: *value,
                        kind: s.kind,
                        convert: Some(s.width),
                    },
                    (TypeInner::Vector { size, .. }, [value]) => Expression::Splat {
                        size: *size,
                        value: *value,
                    },
                    _ => Expression::Compose { ty, components },
                }
            }
            other => return Err(format!("module-scope expression `{other}`")),
        };
        self.append(expr, in_override)
    }

    pub fn ty(&mut self, t: &str) -> Result<Handle<Type>, String> {
        let named: Vec<Decl> = (t.split(|c: char| !(c.is_alphanumeric() || c == '_')))
            .filter_map(|word| self.pending_structs.get(word).cloned())
            .collect();
        for d in named {
            self.declare(&d)?;
        }
        parse_type(self.module, &mut self.layouter, t)
    }
}

/// The type WGSL spells `t`, added to `module`'s types where new.
pub(super) fn parse_type(
    module: &mut Module,
    layouter: &mut Layouter,
    t: &str,
) -> Result<Handle<Type>, String> {
    let t = t.trim();
    let insert = |module: &mut Module, inner: TypeInner| {
        module
            .types
            .insert(Type { name: None, inner }, Span::UNDEFINED)
    };
    if let Some(s) = scalar_named(t) {
        return Ok(insert(module, TypeInner::Scalar(s)));
    }
    if t == "sampler" {
        return Ok(insert(module, TypeInner::Sampler { comparison: false }));
    }
    let Some((head, args)) = t.split_once('<') else {
        return (module.types.iter())
            .find(|(_, ty)| ty.name.as_deref() == Some(t))
            .map(|(h, _)| h)
            .ok_or_else(|| format!("type `{t}`"));
    };
    let args = args
        .strip_suffix('>')
        .ok_or_else(|| format!("type `{t}`"))?;
    let (first, rest) = split_type_arguments(args);
    let inner = if let Some(n) = head.strip_prefix("vec") {
        let size = vector_size(n.parse::<usize>().map_err(|_| format!("type `{t}`"))?)?;
        let scalar = scalar_named(first).ok_or_else(|| format!("type `{t}`"))?;
        TypeInner::Vector { size, scalar }
    } else if head == "atomic" {
        TypeInner::Atomic(scalar_named(first).ok_or_else(|| format!("type `{t}`"))?)
    } else if head == "array" {
        let base = parse_type(module, layouter, first)?;
        layouter
            .update(module.to_ctx())
            .map_err(|e| format!("layout: {e}"))?;
        let stride = layouter[base].to_stride();
        let size = match rest.map(str::trim) {
            None => ArraySize::Dynamic,
            Some(len) => match len.parse::<u32>() {
                Ok(n) => ArraySize::Constant(
                    std::num::NonZeroU32::new(n).ok_or("an array of no elements")?,
                ),
                Err(_) => {
                    let o = (module.overrides.iter())
                        .find(|(_, o)| o.name.as_deref() == Some(len))
                        .map(|(h, _)| h)
                        .ok_or_else(|| format!("array length in `{t}`"))?;
                    ArraySize::Pending(o)
                }
            },
        };
        TypeInner::Array { base, size, stride }
    } else if head == "ptr" {
        let space = match first {
            "function" => AddressSpace::Function,
            "workgroup" => AddressSpace::WorkGroup,
            "private" => AddressSpace::Private,
            other => return Err(format!("pointer to `{other}`")),
        };
        let base = parse_type(module, layouter, rest.ok_or_else(|| format!("type `{t}`"))?)?;
        TypeInner::Pointer { base, space }
    } else if let Some(dim) = head.strip_prefix("texture_") {
        let (dim, arrayed) = match dim {
            "1d" => (ImageDimension::D1, false),
            "2d" => (ImageDimension::D2, false),
            "2d_array" => (ImageDimension::D2, true),
            "3d" => (ImageDimension::D3, false),
            "cube" => (ImageDimension::Cube, false),
            _ => return Err(format!("type `{t}`")),
        };
        let kind = scalar_named(first)
            .ok_or_else(|| format!("type `{t}`"))?
            .kind;
        TypeInner::Image {
            dim,
            arrayed,
            class: ImageClass::Sampled { kind, multi: false },
        }
    } else {
        return Err(format!("type `{t}`"));
    };
    Ok(insert(module, inner))
}

/// `T, N` → (`T`, `N`), splitting at the first comma outside `<>`.
fn split_type_arguments(args: &str) -> (&str, Option<&str>) {
    let mut depth = 0;
    for (i, c) in args.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => return (args[..i].trim(), Some(args[i + 1..].trim())),
            _ => {}
        }
    }
    (args.trim(), None)
}
