//! `__device__` functions become WGSL functions, specialized per call shape:
//! template arguments are substituted, and each pointer parameter is bound to
//! the module-scope array it points into (WGSL cannot pass storage pointers
//! generically), leaving only its element offset as a runtime parameter.

use std::collections::BTreeMap;

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Expr, ExprKind, Stmt, StmtKind, Type as CType, UnOp};
use cudalens_syntax::model::{Function, TemplateParamKind, is_barrier};
use cudalens_syntax::types::normalize_base;

use crate::context::{
    AtomicRepr, FnLower, MAX_CALL_DEPTH, Place, PtrVal, Specialization, Sym, Val,
};
use crate::decl::{Decl, FunctionHeader, Item, Param};
use crate::emit::WStmt;
use crate::names::wgsl_ident;
use crate::types::{ArrayLen, Konst, Scalar, Ty};
use crate::wexpr::WExpr;

/// How one argument is passed to a specialization.
enum Arg {
    /// A value; when it is one of the kernel's struct arguments passed on
    /// whole, the kernel's name and that parameter's (`member_buffers.rs`).
    Value(Val, Option<(String, String)>),
    Pointer(PtrVal),
    /// A cooperative-groups `thread_block`: no WGSL argument.
    ThreadBlock,
    /// A 32-thread tile of the block (`Sym::Tile`): no WGSL argument.
    Tile,
    /// A reference parameter the callee writes: `&local` (its type).
    Ref(Val),
    /// A reference parameter the callee writes, bound to a module-scope
    /// scalar (`__shared__ unsigned int converged;`): fixed by the
    /// specialization (its WGSL name and type); no WGSL argument.
    RefGlobal(String, Ty, Option<AtomicRepr>),
    /// The address of a local variable (`&tnear`) for a pointer parameter:
    /// a `ptr<function, T>` argument (its WGSL text and the pointee type).
    LocalPtr(Val),
    /// A texture object the kernel samples (`Sym::Texture`): the
    /// specialization reads the kernel's texture and sampler bindings; no
    /// WGSL argument.
    Texture(Sym),
    /// A reference parameter the callee writes, bound to an element of a
    /// module-scope (`__shared__` or buffer) array: the array is fixed by
    /// the specialization, the element offset is the runtime argument.
    RefElement(PtrVal),
    /// A pointer into a local array of the caller (`DCT8(D)` with `float
    /// D[8]`): a `ptr<function, array<T, N>>` argument (the array's type),
    /// and the element offset when there is one.
    /// A pointer into a local array (the array's type), or into a row
    /// of one (`B[1]`: the whole array is passed, and the row's index).
    LocalArray(PtrVal, Ty, Option<crate::context::LocalRow>),
    /// `nullptr`, `NULL` or `0` for a pointer parameter: fixed by the
    /// specialization, whose tests of the parameter against null fold
    /// (`FnLower::null_params`); no WGSL argument.
    Null,
}

impl<'m> FnLower<'_, 'm> {
    /// The type of the caller's local array `a` points into (`D`, `D + k`,
    /// `&D[k]`), when `base` is that array's WGSL name, or the base of a
    /// local array the caller itself received (`&dvdx[3]` in LULESH's
    /// `CalcElemVolumeDerivative`, passed on to `VoluDer`).
    fn local_array_of(&self, a: &Expr, base: &str) -> Option<Ty> {
        // A row of a local array of rows (`B[0]`): `pointer` recorded it.
        if let ExprKind::Index(..) = &a.kind {
            return self.local_array_params.get(base).cloned();
        }
        let mut e = a;
        let root = loop {
            match &e.kind {
                ExprKind::Ident(n) => break n,
                ExprKind::Binary(
                    cudalens_syntax::ir::BinOp::Add | cudalens_syntax::ir::BinOp::Sub,
                    x,
                    _,
                ) => e = x,
                ExprKind::Unary(cudalens_syntax::ir::UnOp::AddrOf, inner) => match &inner.kind {
                    ExprKind::Index(x, _) => e = x,
                    _ => return None,
                },
                _ => return None,
            }
        };
        match self.lookup(root) {
            Some(Sym::Array {
                wgsl,
                ty: ty @ Ty::Array(..),
                mutable: true,
                atomic: None | Some(AtomicRepr::Narrow(_)),
                module_scope: false,
            }) if wgsl == base && is_plain_name(wgsl) => Some(ty.clone()),
            Some(Sym::Pointer { view, .. }) if view.base.to_string() == base => {
                self.local_array_params.get(base).cloned().or_else(|| {
                    // `float *L_b = L;` of a local `float L[NN]` (HeCBench
                    // libor): the array the pointer views.
                    self.scopes
                        .iter()
                        .rev()
                        .flat_map(|s| s.values())
                        .find_map(|sym| match sym {
                            Sym::Array {
                                wgsl,
                                ty: ty @ Ty::Array(..),
                                mutable: true,
                                atomic: None | Some(AtomicRepr::Narrow(_)),
                                module_scope: false,
                            } if wgsl == base && is_plain_name(wgsl) => Some(ty.clone()),
                            _ => None,
                        })
                })
            }
            _ => None,
        }
    }

    pub fn call_device(
        &mut self,
        f: &Function,
        template_args: &[String],
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        self.call_device_bound(f, template_args, BTreeMap::new(), args, span, out)
    }

    /// [`Self::call_device`] with some type parameters already bound
    /// (`pointer_type_arguments`).
    fn call_device_bound(
        &mut self,
        f: &Function,
        template_args: &[String],
        bound: BTreeMap<String, CType>,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        // Missing trailing arguments take their defaults (`float w = 0.0f`).
        let with_defaults;
        let args = if args.len() < f.params.len() {
            match self.default_arguments(f, args.len()) {
                Ok(defaults) => {
                    with_defaults = args.iter().cloned().chain(defaults).collect::<Vec<_>>();
                    with_defaults.as_slice()
                }
                Err(why) => {
                    return self.error(
                        span,
                        format!(
                            "`{}` expects {} argument(s), got {}: {why}",
                            f.name,
                            f.params.len(),
                            args.len()
                        ),
                    );
                }
            }
        } else {
            args
        };
        if args.len() != f.params.len() {
            return self.error(
                span,
                format!(
                    "`{}` expects {} argument(s), got {}",
                    f.name,
                    f.params.len(),
                    args.len()
                ),
            );
        }
        if let Some(v) = self.pointer_swap(f, args, out) {
            return v;
        }
        if bound.is_empty()
            && let Some((g, bound)) = self.pointer_type_arguments(f, template_args, args)
        {
            return self.call_device_bound(&g, template_args, bound, args, span, out);
        }
        // Template arguments: explicit ones first, then deduced from the arguments.
        let mut types: BTreeMap<String, CType> = bound;
        let mut values: BTreeMap<String, i128> = BTreeMap::new();
        let mut functions: BTreeMap<String, String> = BTreeMap::new();
        for (tp, written) in f.template_params.iter().zip(template_args) {
            // A device function as the argument of a function-pointer
            // parameter (not of a number's type): known where the call is,
            // so called directly.
            let function = match &tp.kind {
                TemplateParamKind::Value(ty) if !self.is_number_type(ty) => {
                    self.device_function_named(written)
                }
                _ => None,
            };
            if let Some(target) = function {
                functions.insert(tp.name.clone(), target);
                continue;
            }
            match &tp.kind {
                TemplateParamKind::Type => {
                    types.insert(tp.name.clone(), self.subst_type(&parse_ctype(written)));
                }
                TemplateParamKind::Value(_) => match self.template_value(written) {
                    Some(v) => {
                        values.insert(tp.name.clone(), v);
                    }
                    None => {
                        return self.error(
                            span,
                            format!("template argument `{written}` is not a constant"),
                        );
                    }
                },
            }
        }
        let mut lowered = Vec::new();
        // Parts of variables passed by pointer, copied into locals (`&ray.dir`):
        // written back after the call.
        let mut write_back: Vec<(Place, String)> = Vec::new();
        for (p, a) in f.params.iter().zip(args) {
            // A group handed on (`cg_reduce_n(v, tile)` taking a `Group
            // &threads`): the callee uses it through its methods.
            let group = a.as_ident().and_then(|n| match self.lookup(n) {
                Some(Sym::Tile) => Some((Arg::Tile, "cg::thread_block_tile")),
                Some(Sym::ThreadBlock) => Some((Arg::ThreadBlock, "cg::thread_block")),
                _ => None,
            });
            if let Some((arg, type_name)) = group
                && p.ty.pointer == 0
                && (is_type_param(f, &p.ty.base)
                    || matches!(arg, Arg::Tile)
                    || crate::source_facts::is_thread_block_type(&p.ty.base))
            {
                if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                    types.insert(p.ty.base.clone(), CType::named(type_name));
                }
                lowered.push(arg);
                continue;
            }
            if crate::source_facts::is_thread_block_type(&p.ty.base) && p.ty.pointer == 0 {
                let is_block = a
                    .as_ident()
                    .is_some_and(|n| matches!(self.lookup(n), Some(Sym::ThreadBlock)))
                    || matches!(&a.kind, ExprKind::Call(c) if crate::source_facts::is_this_thread_block(&c.callee));
                if !is_block {
                    return self.error(
                        a.span,
                        "only the thread block (`this_thread_block()`) can be passed as a `thread_block`",
                    );
                }
                lowered.push(Arg::ThreadBlock);
                continue;
            }
            if crate::types::is_texture_object(&p.ty) {
                // A texture object of the kernel: sampled ones fix the
                // specialization, fetched ones are their linear memory.
                match a.as_ident().and_then(|n| self.lookup(n)).cloned() {
                    Some(sym @ Sym::Texture { .. }) => lowered.push(Arg::Texture(sym)),
                    Some(Sym::Array { .. } | Sym::Pointer { .. }) => {
                        let Some(ptr) = self.pointer(a, out) else {
                            return Val::error();
                        };
                        lowered.push(Arg::Pointer(ptr));
                    }
                    _ => {
                        return self.error(
                            a.span,
                            format!(
                                "only a texture object the kernel receives can be passed as `{}` of `{}`",
                                p.name, f.name
                            ),
                        );
                    }
                }
                continue;
            }
            if p.ty.pointer == 0 && crate::source_facts::writes_reference(self.m.texts, f, p) {
                // `float3& v` written by the callee: a `ptr<function, T>`
                // to the caller's local variable.
                let narrow = self.narrow_param(p);
                let local = a.as_ident().and_then(|n| match self.lookup(n) {
                    Some(Sym::Value {
                        wgsl,
                        ty,
                        mutable: true,
                    }) if narrow.is_none() => Some((wgsl.clone(), ty.clone())),
                    // `uchar3 temp; sample(.., temp)`: a narrow local of the
                    // parameter's own kind (the callee narrows its stores).
                    Some(Sym::Array {
                        wgsl,
                        ty,
                        mutable: true,
                        atomic: Some(AtomicRepr::Narrow(k)),
                        module_scope: false,
                    }) if narrow == Some(*k) => Some((wgsl.clone(), ty.clone())),
                    _ => None,
                });
                let element_of_array = matches!(&a.kind, ExprKind::Index(base, _)
                if base.as_ident().is_some_and(|n| matches!(
                    self.lookup(n),
                    Some(Sym::Array { module_scope: true, .. } | Sym::Pointer { .. })
                )));
                // A `__shared__` (or `__device__`) scalar: the callee names it.
                let module_scalar = a.as_ident().and_then(|n| match self.lookup(n) {
                    // Atomic too (a flag the callee sets with `atomicExch`).
                    Some(Sym::Array {
                        wgsl,
                        ty,
                        mutable: true,
                        atomic:
                            atomic @ (None
                            | Some(
                                AtomicRepr::Native(_) | AtomicRepr::F32Bits | AtomicRepr::F64Bits,
                            )),
                        module_scope: true,
                    }) if ty.is_value() => Some((wgsl.clone(), ty.clone(), *atomic)),
                    _ => None,
                });
                if let Some((wgsl, ty, atomic)) = module_scalar {
                    if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                        types.insert(p.ty.base.clone(), ctype_of(&ty));
                    }
                    lowered.push(Arg::RefGlobal(wgsl, ty, atomic));
                    continue;
                }
                if local.is_none() && element_of_array {
                    // `Comparator(s_key[i], ...)`: point at the element.
                    let address = Expr {
                        kind: ExprKind::Unary(
                            cudalens_syntax::ir::UnOp::AddrOf,
                            Box::new(a.clone()),
                        ),
                        span: a.span,
                        from_macro: a.from_macro,
                    };
                    let Some(ptr) = self.pointer(&address, out) else {
                        return Val::error();
                    };
                    if ptr.module_root.as_deref() != Some(&*ptr.base.to_string())
                        || ptr.atomic.is_some()
                        || ptr.scalar_target
                        || !ptr.mutable
                    {
                        return self.error(
                            a.span,
                            format!(
                                "`{}` is a reference parameter `{}` writes: its argument must be a local variable or an element of a writable `__shared__` or buffer array (not atomic, packed or read-only)",
                                p.name, f.name
                            ),
                        );
                    }
                    if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                        types.insert(p.ty.base.clone(), ctype_of(&ptr.elem));
                    }
                    lowered.push(Arg::RefElement(ptr));
                    continue;
                }
                if local.is_none()
                    && narrow.is_none()
                    && let Some((tmp, place)) = self.part_of_local(a, args, out)
                {
                    // `trotter(cell_r[part])`: an element (or member) of a
                    // local, copied in and written back after the call.
                    if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                        types.insert(p.ty.base.clone(), ctype_of(&place.ty));
                    }
                    lowered.push(Arg::Ref(Val::atom(
                        WExpr::unary("&", WExpr::ident(tmp.clone())),
                        place.ty.clone(),
                    )));
                    write_back.push((place, tmp));
                    continue;
                }
                let Some((wgsl, ty)) = local else {
                    return self.error(
                        a.span,
                        format!(
                            "`{}` is a reference parameter `{}` writes: pass a local variable (WGSL can only point at function-local variables here)",
                            p.name, f.name
                        ),
                    );
                };
                if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                    types.insert(p.ty.base.clone(), ctype_of(&ty));
                }
                let address = match wgsl.strip_prefix("(*").and_then(|w| w.strip_suffix(')')) {
                    // Already a reference parameter of the caller: pass its pointer on.
                    Some(ptr) => WExpr::ident(ptr),
                    None => WExpr::unary("&", WExpr::ident(wgsl)),
                };
                lowered.push(Arg::Ref(Val::atom(address, ty)));
                continue;
            }
            if p.ty.pointer > 0 && crate::analysis::is_null_literal(a) {
                lowered.push(Arg::Null);
                continue;
            }
            if p.ty.pointer > 0
                && let Some((tmp, place, offset)) = self.part_of_variable(a, args, out)
            {
                match offset {
                    // An element of an array that is part of a variable: the
                    // copied array, at the element.
                    Some(offset) => {
                        let elem = place.ty.element().cloned().unwrap_or(Ty::Error);
                        if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                            types.insert(p.ty.base.clone(), ctype_of(&elem));
                        }
                        let ptr = PtrVal {
                            base: tmp.clone().into(),
                            elem,
                            atomic: None,
                            offset: Some(Box::new(offset)),
                            module_root: None,
                            mutable: true,
                            scalar_target: false,
                            rows: Vec::new(),
                        };
                        lowered.push(Arg::LocalArray(ptr, place.ty.clone(), None));
                    }
                    None => {
                        if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                            types.insert(p.ty.base.clone(), ctype_of(&place.ty));
                        }
                        lowered.push(Arg::LocalPtr(Val::atom(
                            WExpr::unary("&", WExpr::ident(tmp.clone())),
                            place.ty.clone(),
                        )));
                    }
                }
                if place.mutable && !p.ty.is_const {
                    write_back.push((place, tmp));
                }
                continue;
            }
            if p.ty.pointer > 0 {
                let Some(ptr) = self.pointer(a, out) else {
                    return Val::error();
                };
                if ptr.scalar_target && ptr.module_root.is_none() {
                    // The address of a whole local variable, or a pointer
                    // parameter holding one: WGSL passes `&x` or `p` on.
                    let base = ptr.base.to_string();
                    let passed_on = base
                        .strip_prefix("(*")
                        .and_then(|b| b.strip_suffix(')'))
                        .filter(|b| is_plain_name(b));
                    let address = match passed_on {
                        Some(b) => Some(WExpr::ident(b)),
                        None if is_plain_name(&base) => Some(WExpr::unary("&", WExpr::ident(base))),
                        None => None,
                    };
                    let Some(address) =
                        address.filter(|_| ptr.atomic.is_none() && ptr.offset.is_none())
                    else {
                        return self.error(
                            a.span,
                            "only pointers into kernel buffers or `__shared__` arrays, or the address of a whole local variable, can be passed to device functions",
                        );
                    };
                    if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                        types.insert(p.ty.base.clone(), ctype_of(&ptr.elem));
                    }
                    lowered.push(Arg::LocalPtr(Val::atom(address, ptr.elem)));
                    continue;
                }
                if ptr.module_root.is_none()
                    && !ptr.scalar_target
                    && matches!(ptr.atomic, None | Some(AtomicRepr::Narrow(_)))
                    && let Some(array) = self.local_array_of(a, &ptr.base.to_string())
                {
                    if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                        types.insert(p.ty.base.clone(), ctype_of(&ptr.elem));
                    }
                    // `unsigned (&bins)[N]` given `unsigned bins[4]`: `N` is 4.
                    if let Some(Some(dim)) = p.dims.first()
                        && let Some(n) = dim.as_ident()
                        && !values.contains_key(n)
                        && (f.template_params.iter()).any(|tp| {
                            tp.name == n && matches!(tp.kind, TemplateParamKind::Value(_))
                        })
                        && let Ty::Array(_, crate::types::ArrayLen::Fixed(len)) = &array
                        && ptr.offset.is_none()
                    {
                        values.insert(n.to_string(), i128::from(*len));
                    }
                    match self.local_rows.get(&ptr.base.to_string()).cloned() {
                        Some(row) => {
                            let array = row.array_ty.clone();
                            lowered.push(Arg::LocalArray(ptr, array, Some(row)));
                        }
                        None => lowered.push(Arg::LocalArray(ptr, array, None)),
                    }
                    continue;
                }
                if ptr.module_root.as_deref() != Some(&*ptr.base.to_string()) {
                    return self.error(
                        a.span,
                        "only pointers into kernel buffers, `__shared__` arrays or the caller's local arrays can be passed to device functions",
                    );
                }
                if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                    types.insert(p.ty.base.clone(), ctype_of(&ptr.elem));
                }
                lowered.push(Arg::Pointer(ptr));
            } else {
                // `(T2){0, 1}` (a compound literal, whose braces the front
                // end keeps) for a parameter of a known type: that value.
                let v = match &a.kind {
                    ExprKind::InitList(_) if !is_type_param(f, &p.ty.base) => {
                        let ty = self.param_type(p, &types);
                        match self.initializer(a, &ty, out) {
                            Some(v) => v,
                            None => return Val::error(),
                        }
                    }
                    _ => self.expr(a, out),
                };
                if v.is_error() {
                    return v;
                }
                if v.ptr.is_some() {
                    return self.error(a.span, "pointer passed where a value is expected");
                }
                if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                    types.insert(p.ty.base.clone(), ctype_of(&v.ty));
                }
                // `const Pair<K, V> &p` given a `Pair<int, bool>`: `K`, `V`.
                for (name, arg) in self.instance_arguments(&p.ty, &v.ty) {
                    match f
                        .template_params
                        .iter()
                        .find(|t| t.name == name)
                        .map(|t| &t.kind)
                    {
                        Some(TemplateParamKind::Type) if !types.contains_key(&name) => {
                            types.insert(name, parse_ctype(&arg));
                        }
                        Some(TemplateParamKind::Value(_)) if !values.contains_key(&name) => {
                            if let Some(n) = self.template_value(&arg) {
                                values.insert(name, n);
                            }
                        }
                        _ => {}
                    }
                }
                // The kernel's struct argument itself: the callee follows
                // its pointer members to the same buffers.
                let struct_arg = a.as_ident().and_then(|n| self.kernel_struct_arg(n));
                lowered.push(Arg::Value(v, struct_arg));
            }
        }
        for tp in &f.template_params {
            let bound = types.contains_key(&tp.name)
                || values.contains_key(&tp.name)
                || functions.contains_key(&tp.name);
            if bound {
                continue;
            }
            match (&tp.kind, &tp.default) {
                (TemplateParamKind::Type, Some(d)) => {
                    types.insert(tp.name.clone(), parse_ctype(d));
                }
                (TemplateParamKind::Value(_), Some(d)) if self.template_value(d).is_some() => {
                    values.insert(tp.name.clone(), self.template_value(d).unwrap_or(0));
                }
                _ => {
                    return self.error(
                        span,
                        format!(
                            "cannot deduce template parameter `{}` of `{}`",
                            tp.name, f.name
                        ),
                    );
                }
            }
        }

        // The call shape: template bindings and where each pointer points.
        // Overloads share a name: the parameter types tell them apart.
        let signature: Vec<String> = f.params.iter().map(|p| p.ty.display()).collect();
        let mut key_parts = vec![format!("{}({})", f.name, signature.join(","))];
        let mut suffix = Vec::new();
        for (name, t) in &types {
            key_parts.push(format!("{name}={}", t.display()));
            suffix.push(wgsl_ident(&t.display().replace(' ', "_")));
        }
        for (name, v) in &values {
            key_parts.push(format!("{name}={v}"));
            suffix.push(v.to_string().replace('-', "m"));
        }
        for (name, target) in &functions {
            key_parts.push(format!("{name}=fn {target}"));
            suffix.push(wgsl_ident(target));
        }
        for a in &lowered {
            match a {
                Arg::Pointer(p) => {
                    let offset_ty = p.offset.as_ref().map(|o| o.ty.wgsl()).unwrap_or_default();
                    // A view of other-typed memory specializes apart.
                    let view = match p.atomic {
                        Some(r) if r.is_view() => format!(" as {} {r:?}", p.elem.wgsl()),
                        _ => String::new(),
                    };
                    let rows = if p.rows.is_empty() {
                        String::new()
                    } else {
                        format!(" rows {:?}", p.rows)
                    };
                    key_parts.push(format!("{}+{offset_ty}{view}{rows}", p.base));
                    suffix.push(p.base.to_string());
                }
                Arg::Value(_, Some(kernel_param)) => {
                    key_parts.push(format!("struct argument {kernel_param:?}"));
                }
                Arg::RefElement(p) => {
                    key_parts.push(format!("&{}[i32]", p.base));
                    suffix.push(p.base.to_string());
                }
                Arg::LocalPtr(v) => key_parts.push(format!("&local {}", v.ty.wgsl())),
                Arg::LocalArray(p, array, row) => {
                    let offset_ty = p.offset.as_ref().map(|o| o.ty.wgsl()).unwrap_or_default();
                    let row = if row.is_some() { "row of " } else { "" };
                    key_parts.push(format!("&local {row}{}+{offset_ty}", array.wgsl()));
                }
                Arg::RefGlobal(wgsl, _, _) => {
                    key_parts.push(format!("&{wgsl}"));
                    suffix.push(wgsl.clone());
                }
                Arg::Texture(Sym::Texture { wgsl, .. }) => {
                    key_parts.push(format!("texture {wgsl}"));
                    suffix.push(wgsl.clone());
                }
                Arg::Null => {
                    key_parts.push("null".into());
                    suffix.push("null".into());
                }
                _ => {}
            }
        }
        let key = key_parts.join(";");
        let spec = match self.m.specializations.get(&key) {
            Some(s) => {
                let s = s.clone();
                if let Some(errors) = self.m.specialization_errors.get(&key) {
                    let missing: Vec<_> = (errors.iter())
                        .filter(|e| !self.m.diags.contains(e))
                        .cloned()
                        .collect();
                    self.m.diags.extend(missing);
                }
                s
            }
            None => {
                if self.m.in_progress.contains(&key) {
                    return self.error(
                        span,
                        format!(
                            "recursive call to `{}`: WGSL does not allow recursion",
                            f.name
                        ),
                    );
                }
                // A template recursing on its arguments (`f<N - 1>` in
                // `f<N>`) with no specialization ending it here: each
                // instance is new, so depth is the only bound.
                if self.m.in_progress.len() >= MAX_CALL_DEPTH {
                    return self.error(
                        span,
                        format!(
                            "calls nested more than {MAX_CALL_DEPTH} deep at `{}` (a recursion through template arguments?): WGSL does not allow recursion",
                            f.name
                        ),
                    );
                }
                let name = crate::operators::spelled_name(&f.name);
                let base = if suffix.is_empty() {
                    name
                } else {
                    format!("{name}_{}", suffix.join("_"))
                };
                let wgsl_name = self.m.module_name(&base);
                self.m.in_progress.insert(key.clone());
                // The callee's diagnostics point into its own file.
                let caller_file = std::mem::replace(&mut self.m.current_file, f.file.clone());
                let before = self.m.diags.len();
                let spec = self.specialize(f, &wgsl_name, &types, (&values, &functions), &lowered);
                let errors: Vec<_> = (self.m.diags[before..].iter())
                    .filter(|d| d.severity == crate::diag::Severity::Error)
                    .cloned()
                    .collect();
                if !errors.is_empty() {
                    self.m.specialization_errors.insert(key.clone(), errors);
                }
                self.m.current_file = caller_file;
                self.m.in_progress.remove(&key);
                self.m.specializations.insert(key, spec.clone());
                spec
            }
        };
        // A write through a reference parameter is an effect of the call.
        let writes_reference = lowered.iter().any(|a| {
            matches!(
                a,
                Arg::Ref(_)
                    | Arg::RefElement(_)
                    | Arg::RefGlobal(..)
                    | Arg::LocalPtr(_)
                    | Arg::LocalArray(..)
            )
        });
        let mut call_args = Vec::new();
        for (p, a) in f.params.iter().zip(lowered) {
            match a {
                Arg::Value(v, _) => {
                    let ty = self.param_type(p, &types);
                    call_args.push(self.convert(v, &ty, span).expr);
                }
                Arg::Pointer(ptr) => {
                    if let Some(o) = ptr.offset {
                        call_args.push(o.expr.clone());
                    }
                }
                Arg::ThreadBlock | Arg::Tile | Arg::Texture(_) | Arg::Null => {}
                Arg::RefElement(ptr) => {
                    let ty = self.param_type(p, &types);
                    if ty != ptr.elem {
                        return self.reference_mismatch(span, &p.name, &ptr.elem, &ty);
                    }
                    let offset = match ptr.offset {
                        Some(o) => self.convert(*o, &Ty::I32, span).expr,
                        None => WExpr::literal("0"),
                    };
                    call_args.push(offset);
                }
                Arg::RefGlobal(_, ty, _) => {
                    let want = self.param_type(p, &types);
                    if want != ty {
                        return self.reference_mismatch(span, &p.name, &ty, &want);
                    }
                }
                Arg::LocalArray(ptr, _, row) => {
                    // An 8/16-bit array is held as `i32`s: the parameter must
                    // name the same narrow type (`unsigned char *` for a
                    // `uint8_t` array), whose values it narrows alike.
                    let pointee = self.subst_type(&p.ty.pointee());
                    let fits = match ptr.atomic {
                        Some(AtomicRepr::Narrow(k)) => {
                            self.packed_of(&pointee, false).is_some_and(|q| {
                                (q.bits, q.signed, q.lanes) == (k.bits, k.signed, k.lanes)
                            })
                        }
                        _ => {
                            let want = self.type_under(&p.ty.pointee(), p.name_span, &types);
                            // `double G[][8]` given a local `double G[8][8]`:
                            // rows of the parameter's shape.
                            let (dims, inner) = row_shape(&ptr.elem);
                            want == ptr.elem
                                || (!dims.is_empty()
                                    && *inner == want
                                    && self.param_rows(p).as_deref() == Some(&dims[..]))
                        }
                    };
                    if !fits {
                        let ty = self.type_under(&p.ty.pointee(), p.name_span, &types);
                        return self.error(
                            span,
                            format!(
                                "`{}` of `{}` points at a `{}`, but the argument points into an array of `{}`",
                                p.name,
                                f.name,
                                ty.wgsl(),
                                ptr.elem.wgsl()
                            ),
                        );
                    }
                    match row {
                        Some(row) => {
                            call_args.push(WExpr::unary("&", WExpr::ident(row.array)));
                            call_args.push(WExpr::from(row.index));
                        }
                        None => call_args.push(WExpr::unary("&", ptr.base)),
                    }
                    if let Some(o) = ptr.offset {
                        call_args.push(o.expr.clone());
                    }
                }
                Arg::LocalPtr(v) => {
                    let ty = self.type_under(&p.ty.pointee(), p.name_span, &types);
                    if ty != v.ty {
                        return self.error(
                            span,
                            format!(
                                "`{}` of `{}` points at a `{}`, but the argument is the address of a `{}`",
                                p.name,
                                f.name,
                                ty.wgsl(),
                                v.ty.wgsl()
                            ),
                        );
                    }
                    call_args.push(v.expr);
                }
                Arg::Ref(v) => {
                    let ty = self.param_type(p, &types);
                    if ty != v.ty {
                        return self.reference_mismatch(span, &p.name, &v.ty, &ty);
                    }
                    call_args.push(v.expr);
                }
            }
        }
        self.last_effectful = spec.effectful || writes_reference;
        let call = WExpr::call(spec.wgsl_name.clone(), call_args);
        if write_back.is_empty() {
            return Val::atom(call, spec.ret);
        }
        // The call runs here, then the copies go back to the parts.
        let result = if spec.ret == Ty::Void {
            out.push(WStmt::Eval(call));
            Val::void()
        } else {
            let r = self.fresh("call");
            out.push(WStmt::let_(r.clone(), call));
            Val::atom(WExpr::Name(r), spec.ret)
        };
        for (place, tmp) in write_back {
            let v = Val::atom(tmp, place.ty.clone());
            self.write_place(&place, v, out);
        }
        self.last_effectful = false;
        result
    }

    /// Whether values of `ty` hold an array (directly or in a struct
    /// member, `depth` structs deep).
    fn holds_arrays(&self, ty: &Ty, depth: u32) -> bool {
        match ty {
            Ty::Array(..) => true,
            Ty::Struct(name) if depth < 8 => {
                crate::types::struct_members(name, &self.m.model.types, self.m.opts)
                    .is_ok_and(|fields| fields.iter().any(|(_, t)| self.holds_arrays(t, depth + 1)))
            }
            _ => false,
        }
    }

    /// `cell_r[part]` or `s.x` (an element or member of a local variable,
    /// not the whole variable) passed to a reference parameter: copied
    /// into a new local, whose name is returned with the part to write it
    /// back to. `None` unless the part is a plain value of a mutable
    /// function-local variable that no other argument names.
    fn part_of_local(
        &mut self,
        a: &Expr,
        args: &[Expr],
        out: &mut Vec<WStmt>,
    ) -> Option<(String, Place)> {
        if !matches!(a.kind, ExprKind::Index(..) | ExprKind::Member { .. }) {
            return None;
        }
        let mut root = a;
        // `reinterpret_cast<float *>(&pack)[i]` of a local `uint4 pack` (a
        // lane's bits, `vector_view`) is a part of `pack` too.
        while let ExprKind::Member {
            base, arrow: false, ..
        }
        | ExprKind::Index(base, _)
        | ExprKind::Cast { expr: base, .. }
        | ExprKind::Unary(cudalens_syntax::ir::UnOp::AddrOf, base) = &root.kind
        {
            root = base;
        }
        let name = root.as_ident()?;
        let local = matches!(
            self.lookup(name),
            Some(Sym::Value { mutable: true, .. })
                | Some(Sym::Array {
                    mutable: true,
                    module_scope: false,
                    atomic: None,
                    ..
                })
        );
        let mut named = 0;
        for other in args {
            other.walk(&mut |e| named += usize::from(e.as_ident() == Some(name)));
        }
        if !local || named != 1 {
            return None;
        }
        let diags = self.m.diags.len();
        let mut scratch = Vec::new();
        let place = self.place(a, &mut scratch);
        self.m.diags.truncate(diags);
        let place = place.filter(|p| {
            p.mutable
                && matches!(p.atomic, None | Some(AtomicRepr::Bits(_)))
                && p.ty.is_value()
                && p.ty != Ty::Error
        })?;
        let tmp = self.copy_of_place(&place, scratch, out);
        Some((tmp, place))
    }

    /// A new local holding `place`'s value (after `scratch`, the statements
    /// its address needed): the copy a part of a variable is passed as.
    fn copy_of_place(
        &mut self,
        place: &Place,
        scratch: Vec<WStmt>,
        out: &mut Vec<WStmt>,
    ) -> String {
        out.extend(scratch);
        let tmp = self.fresh("part");
        let v = self.read_place(place);
        out.push(WStmt::decl(
            "var",
            tmp.clone(),
            Some(place.ty.wgsl()),
            Some(v.expr.clone()),
        ));
        tmp
    }

    /// `&ray.dir` (a member of a variable, not the whole variable) passed
    /// to a pointer parameter: WGSL passes only whole variables by pointer,
    /// so the part is copied into a local whose address is passed (the
    /// caller writes it back). `None` for any other argument, and when
    /// another argument names the same variable (the callee could see the
    /// part through it, not the copy).
    fn part_of_variable(
        &mut self,
        a: &Expr,
        args: &[Expr],
        out: &mut Vec<WStmt>,
    ) -> Option<(String, Place, Option<Val>)> {
        let ExprKind::Unary(cudalens_syntax::ir::UnOp::AddrOf, inner) = &a.without_casts().kind
        else {
            return None;
        };
        let mut root = &**inner;
        while let ExprKind::Member { base, .. } | ExprKind::Index(base, _) = &root.kind {
            root = base;
        }
        // `&params.rows[idx][0]`: an element of an array inside a
        // variable (not the variable itself): the array is the part.
        let (part, element) = match &inner.kind {
            ExprKind::Member { .. } => (&**inner, None),
            ExprKind::Index(array, index) if !matches!(array.kind, ExprKind::Ident(_)) => {
                (&**array, Some(&**index))
            }
            _ => return None,
        };
        let mut within = part;
        while let ExprKind::Index(base, _) = &within.kind {
            within = base;
        }
        if !matches!(within.kind, ExprKind::Member { .. }) {
            return None;
        }
        let name = root.as_ident()?;
        let mut shared = 0;
        for other in args {
            other.walk(&mut |e| {
                if e.as_ident() == Some(name) {
                    shared += 1;
                }
            });
        }
        if shared != 1 {
            return None;
        }
        let diags = self.m.diags.len();
        let mut scratch = Vec::new();
        let place = self.place(part, &mut scratch);
        let offset = element.map(|i| self.expr(i, &mut scratch));
        self.m.diags.truncate(diags);
        if offset
            .as_ref()
            .is_some_and(|o| o.is_error() || !o.ty.scalar().is_some_and(|s| s.is_int()))
        {
            return None;
        }
        // Values read and written whole (a `float3` member held as three
        // scalars too); never an atomic.
        let place = place.filter(|p| {
            let value = match (&p.ty, &offset) {
                (Ty::Array(e, crate::types::ArrayLen::Fixed(_)), Some(_)) => e.is_value(),
                (_, Some(_)) => false,
                (t, None) => t.is_value(),
            };
            value
                && p.ty != Ty::Error
                && matches!(
                    p.atomic,
                    None | Some(AtomicRepr::Triple | AtomicRepr::Narrow(_))
                )
        })?;
        let tmp = self.copy_of_place(&place, scratch, out);
        Some((tmp, place, offset))
    }

    /// The default arguments of `f`'s parameters from `given` on. C++
    /// evaluates a default where the function is declared; one that names
    /// only literals and the file's constants means the same at the call,
    /// anything else (a call, a variable the caller could shadow) is
    /// refused.
    fn default_arguments(&self, f: &Function, given: usize) -> Result<Vec<Expr>, String> {
        let mut out = Vec::new();
        for p in &f.params[given..] {
            let Some(d) = &p.default else {
                return Err(format!("parameter `{}` has no default argument", p.name));
            };
            let mut problem = None;
            d.walk(&mut |e| match &e.kind {
                ExprKind::Int { .. }
                | ExprKind::Float { .. }
                | ExprKind::Bool(_)
                | ExprKind::Unary(..)
                | ExprKind::Binary(..)
                | ExprKind::Ternary(..)
                | ExprKind::Cast { .. }
                | ExprKind::SizeofType(_) => {}
                ExprKind::Ident(n)
                    if self.m.model.consts.contains_key(n)
                        && matches!(self.lookup(n), None | Some(Sym::Const(_))) => {}
                // `T()` of a class template's instance (`float()`): zero.
                ExprKind::Call(c)
                    if c.args.is_empty()
                        && c.receiver.is_none()
                        && matches!(
                            crate::types::map_value_type(
                                &cudalens_syntax::ir::Type::named(&c.callee),
                                &self.m.model.types,
                                self.m.opts,
                            ),
                            Ok(Ty::Scalar(_))
                        ) => {}
                _ => {
                    problem.get_or_insert_with(|| {
                        format!(
                            "the default argument of `{}` is not a constant expression (only literals and the file's constants are supported)",
                            p.name
                        )
                    });
                }
            });
            if let Some(why) = problem {
                return Err(why);
            }
            out.push(d.clone());
        }
        Ok(out)
    }

    fn param_type(
        &mut self,
        p: &cudalens_syntax::model::Param,
        types: &BTreeMap<String, CType>,
    ) -> Ty {
        // Whether the parameter is narrow depends on the callee's bindings
        // too: `T c` is an 8-bit `uchar` in a caller where `T` is `uchar`
        // but a `float` in `cubicFilter<float>`.
        self.under_bindings(types, |this| match this.narrow_param(p) {
            Some(k) => k.value_type(),
            None => this.map_type(&p.ty, p.name_span),
        })
    }

    /// `ty` mapped to WGSL with the template parameters bound to `types`
    /// (a specialization's).
    fn type_under(&mut self, ty: &CType, span: Span, types: &BTreeMap<String, CType>) -> Ty {
        self.under_bindings(types, |this| this.map_type(ty, span))
    }

    /// `f` run with the template parameters bound to `types`, the enclosing
    /// binding restored after.
    fn under_bindings<T>(
        &mut self,
        types: &BTreeMap<String, CType>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let saved = std::mem::take(&mut self.template_types);
        self.template_types = types.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let t = f(self);
        self.template_types = saved;
        t
    }

    /// The error for a reference parameter given an argument of another type.
    fn reference_mismatch(&mut self, span: Span, param: &str, given: &Ty, wanted: &Ty) -> Val {
        self.error(
            span,
            format!(
                "the argument of reference parameter `{param}` is a `{}`, not a `{}`",
                given.wgsl(),
                wanted.wgsl()
            ),
        )
    }

    /// The 8/16-bit kind of value parameter `p` (`unsigned char c`,
    /// `const uchar4 a`): it is passed as C promotes it (`i32`,
    /// `vec4<i32>`) and narrowed on entry and on every store.
    fn narrow_param(&self, p: &cudalens_syntax::model::Param) -> Option<crate::types::Packed> {
        if p.ty.pointer > 0 {
            return None;
        }
        self.packed_of(&p.ty, false).filter(|k| !k.boolean)
    }

    /// The file's function `name` (an overload of a builtin, such as
    /// helper_math.h's `make_float4(float3 a, float w)`) whose parameter
    /// types are the argument types: the arguments are lowered on trial
    /// (their statements and messages dropped). `None`: none or several.
    pub fn overload_for(&mut self, name: &str, args: &[Expr]) -> Option<&'m Function> {
        let candidates = self.plain_device_functions(name, args.len());
        if candidates.is_empty() {
            return None;
        }
        let diags = self.m.diags.len();
        let mut scratch = Vec::new();
        let arg_types: Vec<Ty> = args.iter().map(|a| self.expr(a, &mut scratch).ty).collect();
        let mut matching = Vec::new();
        for f in candidates {
            let fits = f
                .params
                .iter()
                .zip(&arg_types)
                .all(|(p, t)| p.ty.pointer == 0 && self.map_type(&p.ty, p.name_span) == *t);
            if fits {
                matching.push(f);
            }
        }
        self.m.diags.truncate(diags);
        match matching.as_slice() {
            [f] => Some(*f),
            _ => None,
        }
    }

    /// `MIN(a, b)` where `MIN` is a function template (`template <class T>
    /// T MIN(T, T);`, with or without a body) that has explicit
    /// specializations (`template <> float MIN<float>(float, float)`): the
    /// specialization for the template arguments deduced from the argument
    /// types, which C++ calls. A type parameter is deduced only from
    /// parameters declared as it (`T x`, `const T x`); `None` (the caller
    /// goes on as before) unless every template parameter is deduced, the
    /// deductions agree, and exactly one specialization has those
    /// arguments. Arguments whose WGSL type is not their C type are not
    /// deduced from: 8/16-bit values (held as `i32`) and, without `f64`,
    /// expressions with an unsuffixed (`double`) floating literal.
    pub fn deduced_specialization(&mut self, name: &str, args: &[Expr]) -> Option<&'m Function> {
        let model = self.m.model;
        let prefix = format!("{name}<");
        let specializations: Vec<&Function> = model
            .functions
            .iter()
            .map(|f| &**f)
            .filter(|f| {
                f.body.is_some()
                    && f.callable_from_device()
                    && f.name.starts_with(&prefix)
                    && f.name.ends_with('>')
                    && f.params.len() == args.len()
            })
            .collect();
        if specializations.is_empty() {
            return None;
        }
        let primary = model.functions.iter().map(|f| &**f).find(|f| {
            f.name == name
                && f.callable_from_device()
                && !f.template_params.is_empty()
                && f.params.len() == args.len()
        })?;
        if primary
            .template_params
            .iter()
            .any(|t| t.kind != TemplateParamKind::Type)
        {
            return None;
        }
        let deduced = self
            .deduce_from_values(primary, args)?
            .into_iter()
            .collect::<Option<Vec<Ty>>>()?;
        let diags = self.m.diags.len();
        let mut matching = Vec::new();
        for f in specializations {
            let written =
                crate::instantiate::split_top_level(&f.name[prefix.len()..f.name.len() - 1]);
            if written.len() != deduced.len() {
                continue;
            }
            let fits = written.iter().zip(&deduced).all(|(w, t)| {
                let c = self.subst_type(&parse_ctype(w));
                c.pointer == 0 && self.map_type(&c, f.name_span) == *t
            });
            if fits {
                matching.push(f);
            }
        }
        self.m.diags.truncate(diags);
        match matching.as_slice() {
            [f] => Some(*f),
            _ => None,
        }
    }

    /// Whether the WGSL type of `arg` is its C type (see
    /// [`Self::deduced_specialization`]). A cast gives its type, whatever
    /// it converts.
    fn deducible(&self, arg: &Expr) -> bool {
        let narrow = |a: &Option<AtomicRepr>| {
            matches!(a, Some(AtomicRepr::Packed(_) | AtomicRepr::Narrow(_)))
        };
        match &arg.kind {
            ExprKind::Cast { ty, .. } => self.packed_of(ty, false).is_none(),
            ExprKind::Float { single: false, .. } => self.m.opts.enable_f64,
            ExprKind::Ident(n) => match self.lookup(n) {
                Some(Sym::Array { atomic, .. }) => !narrow(atomic),
                Some(Sym::Pointer { view, .. }) => !narrow(&view.atomic),
                _ => true,
            },
            _ => arg.children().into_iter().all(|c| self.deducible(c)),
        }
    }

    /// The file's non-template device function `name` whose parameter
    /// types are the argument types, when some argument is a vector (CUDA's
    /// math builtins take scalars) and the builtin of that name would give
    /// another type than the function returns. `None` otherwise (the
    /// builtin is lowered: helper_math.h's per-component overloads).
    pub fn overload_with_other_result(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
    ) -> Option<&'m Function> {
        let model = self.m.model;
        if !model
            .functions
            .iter()
            .any(|f| f.name == name && f.body.is_some() && f.callable_from_device())
        {
            return None;
        }
        let diags = self.m.diags.len();
        let mut scratch = Vec::new();
        let vector_arg = args
            .iter()
            .any(|a| matches!(self.expr(a, &mut scratch).ty, Ty::Vector(..)));
        let found = vector_arg
            .then(|| self.overload_for(name, args))
            .flatten()
            .filter(|f| {
                let ret = self.map_type(&f.ret, f.name_span);
                let builtin = self.intrinsic(name, args, span, &mut scratch);
                builtin.is_some_and(|b| b.ty != ret && ret != Ty::Error)
            });
        self.m.diags.truncate(diags);
        found
    }

    /// The file's device functions called `name` that are no templates and
    /// take `arity` parameters (the overloads C++ picks among by type).
    fn plain_device_functions(&self, name: &str, arity: usize) -> Vec<&'m Function> {
        (self.m.model.functions.iter())
            .map(|f| &**f)
            .filter(|f| {
                f.name == name
                    && f.body.is_some()
                    && f.callable_from_device()
                    && f.template_params.is_empty()
                    && f.params.len() == arity
            })
            .collect()
    }

    /// `atomicMax(float *, float)`, `atomicMin(double *, double)`: CUDA has
    /// no such atomics, so programs (HeCBench's lebesgue, michalewicz)
    /// define them as compare-and-swap loops; C++ calls the file's function
    /// whose first parameter points at the argument's element type. `None`
    /// when the file defines none for it (the builtin applies).
    pub fn file_atomic(&mut self, name: &str, args: &[Expr]) -> Option<&'m Function> {
        if !name.starts_with("atomic") || args.is_empty() {
            return None;
        }
        let mut candidates = self.plain_device_functions(name, args.len());
        candidates.retain(|f| f.params[0].ty.pointer == 1);
        if candidates.is_empty() {
            return None;
        }
        let diags = self.m.diags.len();
        let arg = self.expr(&args[0], &mut Vec::new());
        let found = match arg.ty {
            Ty::Pointer(elem) => candidates.into_iter().find(|f| {
                let p = &f.params[0];
                self.map_type(&p.ty.pointee(), p.name_span) == *elem
            }),
            _ => None,
        };
        self.m.diags.truncate(diags);
        found
    }

    /// Among several device functions named `name` (`mul(float3x4, float3)`
    /// and `mul(float3x4, float4)`), the one whose parameter types are the
    /// argument types, else the only one taking that many arguments;
    /// `None` when the name has one definition (or none fits: the first
    /// definition is tried, as before).
    pub fn overload_of(
        &mut self,
        name: &str,
        template_args: &[String],
        args: &[Expr],
    ) -> Option<&'m Function> {
        let model = self.m.model;
        let defined: Vec<&Function> = model
            .functions
            .iter()
            .map(|f| &**f)
            .filter(|f| f.name == name && f.body.is_some() && f.callable_from_device())
            .collect();
        if defined.len() < 2 {
            return None;
        }
        if let Some(f) = self.overload_for(name, args) {
            return Some(f);
        }
        let takes = |f: &&Function| f.accepts_arguments(args.len());
        let mut taking: Vec<&Function> = defined.into_iter().filter(takes).collect();
        // `BlockReduce<T>(a, b)` beside `template <typename T, int X, int
        // Y> BlockReduce`: only the templates whose parameters after the
        // explicit arguments are defaulted or spelled by a parameter's type
        // can be called so (HeCBench channelSum).
        if !template_args.is_empty() {
            let viable = |f: &&Function| {
                f.template_params.len() >= template_args.len()
                    && f.template_params[template_args.len()..].iter().all(|tp| {
                        tp.default.is_some()
                            || f.params.iter().any(|p| {
                                p.ty.base == tp.name
                                    || p.ty.template_args.iter().any(|a| a.trim() == tp.name)
                            })
                    })
            };
            if taking.iter().any(viable) {
                taking.retain(viable);
            }
        }
        if let [f] = taking.as_slice() {
            return Some(*f);
        }
        // Templates overloaded on a parameter no template parameter spells
        // (HeCBench histogram's `DecodePixel(uchar1, ...)` beside
        // `DecodePixel(uchar4, ...)` and `DecodePixel(float4 &, ...)`):
        // those whose such parameters take the arguments' types exactly.
        let taking = self.overloads_by_declared_types(taking, args);
        if let [f] = taking.as_slice() {
            return Some(*f);
        }
        // No non-template overload takes these argument types exactly:
        // C++ calls the one template that deduces them without conflict
        // (`add(T a, T b, T c)` beside `float2 add(float2, float2, float2)`
        // for three floats).
        let deducing: Vec<&Function> = (taking.into_iter())
            .filter(|f| !f.template_params.is_empty())
            .filter(|f| self.deduces_consistently(f, args))
            .collect();
        match deducing.as_slice() {
            [f] => Some(*f),
            // C++'s partial ordering: `shfl_xor(const Pair<K, V> &p, ...)`
            // beside `shfl_xor(const T val, ...)` for a `Pair` (HeCBench
            // collision) is the more specialized, and called.
            [_, _, ..] => {
                let most: Vec<&Function> = (deducing.iter().copied())
                    .filter(|f| {
                        (deducing.iter()).all(|g| std::ptr::eq(*f, *g) || more_specialized(f, g))
                    })
                    .collect();
                match most.as_slice() {
                    [f] => Some(*f),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `pointer_swap((void **)&a, (void **)&b)` of a device function whose
    /// body only swaps what its two pointer-to-pointer parameters point at
    /// (`tmp = *p1; *p1 = *p2; *p2 = tmp;`, HeCBench seam-carving's
    /// double-buffered `__shared__` rows), given the addresses of two
    /// pointer variables into one array: their offsets swapped, as the
    /// call swaps the pointers. `None` for any other call.
    fn pointer_swap(&mut self, f: &Function, args: &[Expr], out: &mut Vec<WStmt>) -> Option<Val> {
        let [p1, p2] = f.params.as_slice() else {
            return None;
        };
        if p1.ty.pointer != 2 || p2.ty.pointer != 2 || !swaps_through(f, &p1.name, &p2.name) {
            return None;
        }
        let mut offsets = Vec::new();
        let mut bases = Vec::new();
        for a in args {
            let mut e = a;
            while let ExprKind::Cast { expr, .. } = &e.kind {
                e = expr;
            }
            let ExprKind::Unary(UnOp::AddrOf, inner) = &e.kind else {
                return None;
            };
            let Some(Sym::Pointer {
                view,
                offset_var: Some(offset),
            }) = self.lookup(inner.as_ident()?)
            else {
                return None;
            };
            bases.push((view.base.clone(), view.elem.clone(), view.atomic));
            offsets.push(offset.clone());
        }
        if bases[0] != bases[1] {
            return None;
        }
        let tmp = self.fresh("swapped");
        let [a, b] = [&offsets[0], &offsets[1]].map(WExpr::name);
        out.push(WStmt::let_(tmp.clone(), a.clone()));
        out.push(WStmt::assign(a, b.clone()));
        out.push(WStmt::assign(b, WExpr::name(tmp)));
        Some(Val::void())
    }

    /// The names a parameter type spells after its class template
    /// (`K`, `V` of `const Pair<K, V> &p`), each with the argument of the
    /// instance `ty` is (`int`, `bool` of a `Pair<int, bool>`); empty
    /// unless `ty` is an instance of that class template.
    fn instance_arguments(&self, param: &CType, ty: &Ty) -> Vec<(String, String)> {
        let Ty::Struct(instance) = ty else {
            return Vec::new();
        };
        match self.m.model.class_instances.get(instance) {
            Some((class, written))
                if *class == param.base && written.len() == param.template_args.len() =>
            {
                (param.template_args.iter())
                    .map(|name| name.trim().to_string())
                    .zip(written.iter().cloned())
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The overloads in `candidates` whose parameters of a written type (no
    /// template parameter in it; values, not pointers or arrays) have the
    /// arguments' types; all of them when none has.
    fn overloads_by_declared_types(
        &mut self,
        candidates: Vec<&'m Function>,
        args: &[Expr],
    ) -> Vec<&'m Function> {
        let diags = self.m.diags.len();
        let mut scratch = Vec::new();
        let arg_types: Vec<Ty> = args.iter().map(|a| self.expr(a, &mut scratch).ty).collect();
        let mut fitting = Vec::new();
        for &f in &candidates {
            let fits = f.params.iter().zip(&arg_types).all(|(p, t)| {
                let generic = is_type_param(f, &p.ty.base) || !p.ty.template_args.is_empty();
                if generic || p.ty.pointer > 0 || !p.dims.is_empty() {
                    return true;
                }
                // An 8/16-bit value (`uchar1`, `char`) is held as its promoted type.
                let declared = match self.packed_of(&p.ty, false) {
                    Some(k) => k.value_type(),
                    None => self.map_type(&p.ty, p.name_span),
                };
                declared != Ty::Error && declared == *t
            });
            if fits {
                fitting.push(f);
            }
        }
        self.m.diags.truncate(diags);
        match fitting.is_empty() {
            true => candidates,
            false => fitting,
        }
    }

    /// `f` with each by-value parameter of a template type whose argument
    /// is a pointer (`INT_T num_nucs` given a `const int *`, as in
    /// HeCBench's rsbench and xsbench) declared as that pointer, and the
    /// type parameter bound to it in the body; `None` when no parameter
    /// is one. Only plain buffer pointers (no packed or reinterpreted
    /// view), whose element's C type the WGSL type names exactly.
    fn pointer_type_arguments(
        &mut self,
        f: &Function,
        template_args: &[String],
        args: &[Expr],
    ) -> Option<(Function, BTreeMap<String, CType>)> {
        let explicit =
            |name: &str| (f.template_params.iter().zip(template_args)).any(|(t, _)| t.name == name);
        let candidates: Vec<usize> = (f.params.iter().enumerate())
            .filter(|(_, p)| {
                p.ty.pointer == 0
                    && p.ty.template_args.is_empty()
                    && is_type_param(f, &p.ty.base)
                    && !explicit(&p.ty.base)
            })
            .map(|(i, _)| i)
            .collect();
        if candidates.is_empty() {
            return None;
        }
        let mut bound: BTreeMap<String, CType> = BTreeMap::new();
        for i in candidates {
            let Some(a) = args.get(i) else { continue };
            let diags = self.m.diags.len();
            let mut scratch = Vec::new();
            let value = self.expr(a, &mut scratch);
            let ptr = match value.ptr.is_some() {
                true => self.pointer(a, &mut scratch),
                false => None,
            };
            self.m.diags.truncate(diags);
            let Some(ptr) = ptr.filter(|p| {
                p.atomic.is_none()
                    && !p.scalar_target
                    && matches!(p.elem, Ty::Scalar(_) | Ty::Vector(..) | Ty::Struct(_))
            }) else {
                continue;
            };
            let declared = CType {
                is_const: !ptr.mutable,
                pointer: 1,
                ..ctype_of(&ptr.elem)
            };
            let param = &f.params[i].ty.base;
            match bound.get(param) {
                Some(d) if *d != declared => return None,
                _ => {
                    bound.insert(param.clone(), declared);
                }
            }
        }
        if bound.is_empty() {
            return None;
        }
        // Its parameters declared as the pointers; uses in the body take
        // the binding.
        let mut g = f.clone();
        for p in &mut g.params {
            if let Some(d) = bound.get(&p.ty.base) {
                p.ty = CType {
                    pointer: p.ty.pointer + d.pointer,
                    restrict: p.ty.restrict,
                    ..d.clone()
                };
            }
        }
        Some((g, bound))
    }

    /// Whether template `f` deduces its type parameters from `args`
    /// without conflict (each deduced, or defaulted). A template with a
    /// parameter declared `T *` is not matched against its arguments here:
    /// such a template is not chosen.
    fn deduces_consistently(&mut self, f: &Function, args: &[Expr]) -> bool {
        let is_param = |base: &str| f.template_params.iter().any(|t| t.name == base);
        if f.params
            .iter()
            .any(|p| p.ty.pointer != 0 && is_param(&p.ty.base))
        {
            return false;
        }
        let Some(deduced) = self.deduce_from_values(f, args) else {
            return false;
        };
        (f.template_params.iter().zip(&deduced)).all(|(t, d)| {
            d.is_some()
                || t.default.is_some()
                || !matches!(t.kind, cudalens_syntax::model::TemplateParamKind::Type)
        })
    }

    /// The template parameters of `f` (in order) that its by-value
    /// parameters declared as one (`T x`) deduce from `args`, `None` where
    /// none does; `None` in all when two arguments disagree, or one's WGSL
    /// type is not its C type ([`Self::deducible`]). Leaves no diagnostics.
    fn deduce_from_values(&mut self, f: &Function, args: &[Expr]) -> Option<Vec<Option<Ty>>> {
        let diags = self.m.diags.len();
        let mut scratch = Vec::new();
        let mut deduced: Vec<Option<Ty>> = vec![None; f.template_params.len()];
        let mut consistent = true;
        for (p, arg) in f.params.iter().zip(args) {
            if p.ty.pointer != 0 {
                continue;
            }
            // `const Pair<K, V> &p` given a `Pair<int, bool>`: `K` and `V`
            // from the instance's arguments.
            if !p.ty.template_args.is_empty() {
                let t = match self.deducible(arg) {
                    true => self.expr(arg, &mut scratch).ty,
                    false => continue,
                };
                for (name, arg) in self.instance_arguments(&p.ty, &t) {
                    let Some(i) = f.template_params.iter().position(|t| t.name == name) else {
                        continue;
                    };
                    if !matches!(f.template_params[i].kind, TemplateParamKind::Type) {
                        continue;
                    }
                    let ty = self.map_type(&parse_ctype(&arg), p.name_span);
                    if ty == Ty::Error || deduced[i].as_ref().is_some_and(|d| *d != ty) {
                        consistent = false;
                        break;
                    }
                    deduced[i] = Some(ty);
                }
                continue;
            }
            let Some(i) = f.template_params.iter().position(|t| t.name == p.ty.base) else {
                continue;
            };
            let t = match self.deducible(arg) {
                true => self.expr(arg, &mut scratch).ty,
                false => Ty::Error,
            };
            if matches!(t, Ty::Error | Ty::Void) || deduced[i].as_ref().is_some_and(|d| *d != t) {
                consistent = false;
                break;
            }
            deduced[i] = Some(t);
        }
        self.m.diags.truncate(diags);
        consistent.then_some(deduced)
    }

    /// The value of a non-type template argument as written.
    pub fn template_value(&mut self, written: &str) -> Option<i128> {
        let t = written.trim().trim_end_matches(['u', 'U', 'l', 'L']);
        if let Ok(v) = t.parse::<i128>() {
            return Some(v);
        }
        if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            return i128::from_str_radix(hex, 16).ok();
        }
        match written {
            "true" => return Some(1),
            "false" => return Some(0),
            _ => {}
        }
        if let Some(Sym::Const(v)) = self.lookup(written.trim()) {
            return v.konst.map(|k| k.as_int());
        }
        if let Some(v) = self.m.model.consts.get(written.trim()) {
            return Some(*v);
        }
        // `2 * KERNEL_RADIUS`, `n_threads_reduction / 2`: an expression of
        // macros and constants (every name known, or no value).
        let constant = |name: &str| match self.lookup(name) {
            Some(Sym::Const(v)) => v.konst.map(|k| k.as_int()),
            _ => self.m.model.consts.get(name).copied(),
        };
        cudalens_syntax::preprocess::cexpr::eval_constant(written, &self.m.model.macros, &constant)
    }

    /// Whether `ty` is a number's type (`uint32_t`, a `using` of one), not
    /// a pointer's (`using unary_t = float (*)(float);` resolves to one).
    fn is_number_type(&self, ty: &CType) -> bool {
        let types = &self.m.model.types;
        types.resolve(ty).pointer == 0
            && crate::types::map_value_type(ty, types, self.m.opts).is_ok()
    }

    /// The device function a template argument names (`warpReduceSum`,
    /// `&warpReduceSum`, or a function parameter bound to one), if any.
    fn device_function_named(&self, written: &str) -> Option<String> {
        let name = written.trim().trim_start_matches('&').trim();
        let name = name.trim_start_matches("::");
        if let Some(Sym::Function(target)) = self.lookup(name) {
            return Some(target.clone());
        }
        let f = crate::analysis::device_function(self.m.model, name)?;
        (f.body.is_some() && f.callable_from_device()).then(|| name.to_string())
    }

    fn specialize(
        &mut self,
        f: &Function,
        wgsl_name: &str,
        types: &BTreeMap<String, CType>,
        (values, functions): (&BTreeMap<String, i128>, &BTreeMap<String, String>),
        args: &[Arg],
    ) -> Specialization {
        let body = f.body.as_deref();
        let mut sub = FnLower::new(&mut *self.m, &f.name, body, false);
        sub.declare_device_globals(&f.params, body);
        sub.template_types = types.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (name, v) in values {
            sub.declare(name, Sym::Const(Val::konst(Konst::Int(*v), Scalar::I32)));
        }
        for (name, target) in functions {
            sub.declare(name, Sym::Function(target.clone()));
        }
        // `short unfixh(int x)`: returned as C promotes it, narrowed.
        let narrow_ret = (f.ret.pointer == 0)
            .then(|| sub.packed_of(&f.ret, false))
            .flatten()
            .filter(|k| !k.boolean);
        let ret = match narrow_ret {
            Some(k) => k.value_type(),
            None => sub.map_type(&f.ret, f.name_span),
        };
        sub.ret = ret.clone();
        sub.narrow_ret = narrow_ret;
        let mut params = Vec::new();
        let mut prologue = Vec::new();
        for (p, a) in f.params.iter().zip(args) {
            let name = sub.local_name(&p.name);
            let assigned = sub.assigned.contains(&p.name);
            let param_name = if assigned {
                format!("{name}_in")
            } else {
                name.clone()
            };
            match a {
                Arg::ThreadBlock => sub.declare(&p.name, Sym::ThreadBlock),
                Arg::Null => {
                    sub.null_params.insert(p.name.clone());
                }
                Arg::Tile => sub.declare(&p.name, Sym::Tile),
                Arg::Texture(sym) => sub.declare(&p.name, sym.clone()),
                Arg::RefGlobal(wgsl, ty, atomic) => sub.declare(
                    &p.name,
                    Sym::Array {
                        wgsl: wgsl.clone(),
                        ty: ty.clone(),
                        mutable: true,
                        atomic: *atomic,
                        module_scope: true,
                    },
                ),
                Arg::LocalPtr(_) => {
                    let ty = sub.map_type(&p.ty.pointee(), p.name_span);
                    if assigned {
                        sub.m.error(
                            p.name_span,
                            format!("pointer parameter `{}` is moved, but it holds the address of a local variable: only `*{}` can be used", p.name, p.name),
                        );
                    }
                    params.push(Param::new(
                        name.clone(),
                        format!("ptr<function, {}>", ty.wgsl()),
                    ));
                    sub.declare(
                        &p.name,
                        Sym::Pointer {
                            view: PtrVal {
                                base: WExpr::deref(name.clone()),
                                elem: ty,
                                atomic: None,
                                offset: None,
                                module_root: None,
                                mutable: !p.ty.is_const,
                                scalar_target: true,
                                rows: Vec::new(),
                            },
                            offset_var: None,
                        },
                    );
                }
                Arg::Ref(_) => {
                    if let Some(k) = sub.narrow_param(p) {
                        // The caller's narrow local: stores narrow here too.
                        let ty = k.value_type();
                        params.push(Param::new(
                            name.clone(),
                            format!("ptr<function, {}>", ty.wgsl()),
                        ));
                        sub.declare(
                            &p.name,
                            Sym::Array {
                                wgsl: format!("(*{name})"),
                                ty,
                                mutable: true,
                                atomic: Some(AtomicRepr::Narrow(k)),
                                module_scope: false,
                            },
                        );
                    } else {
                        let ty = sub.map_type(&p.ty, p.name_span);
                        params.push(Param::new(
                            name.clone(),
                            format!("ptr<function, {}>", ty.wgsl()),
                        ));
                        sub.declare(
                            &p.name,
                            Sym::Value {
                                wgsl: format!("(*{name})"),
                                ty,
                                mutable: true,
                            },
                        );
                    }
                }
                Arg::RefElement(ptr) => {
                    // The element `base[offset]`, read and written in place.
                    let at = sub.fresh(&format!("{name}_at"));
                    params.push(Param::new(at.clone(), "i32"));
                    sub.declare(
                        &p.name,
                        Sym::Array {
                            wgsl: format!("{}[{at}]", ptr.base),
                            ty: ptr.elem.clone(),
                            mutable: true,
                            atomic: None,
                            module_scope: false,
                        },
                    );
                }
                Arg::Value(..) if sub.narrow_param(p).is_some() => {
                    let Some(k) = sub.narrow_param(p) else {
                        continue;
                    };
                    let ty = k.value_type();
                    let entry = format!("{name}_in");
                    params.push(Param::new(entry.clone(), ty.wgsl()));
                    let load = sub.narrow(Val::atom(entry, ty.clone()), k, p.name_span);
                    let decl = WStmt::decl("var", name.clone(), Some(ty.wgsl()), Some(load.expr));
                    prologue.push(decl.noted(k.describe()));
                    sub.declare(
                        &p.name,
                        Sym::Array {
                            wgsl: name,
                            ty,
                            mutable: true,
                            atomic: Some(AtomicRepr::Narrow(k)),
                            module_scope: false,
                        },
                    );
                }
                Arg::Value(_, struct_arg) => {
                    if let Some(kernel_param) = struct_arg {
                        sub.struct_args.insert(p.name.clone(), kernel_param.clone());
                    }
                    let ty = sub.map_type(&p.ty, p.name_span);
                    // A value holding arrays (a struct of tables passed by
                    // value, HeCBench flame's `ConstMemParams`) is copied
                    // into a variable once: indexing the parameter itself
                    // with a run-time index made lavapipe and NVIDIA's
                    // driver hang (naga copies the whole value per access).
                    let holds_arrays = sub.holds_arrays(&ty, 0);
                    let param_name = if holds_arrays && !assigned {
                        format!("{name}_in")
                    } else {
                        param_name
                    };
                    params.push(Param::new(param_name.clone(), ty.wgsl()));
                    if assigned || holds_arrays {
                        prologue.push(WStmt::decl(
                            "var",
                            name.clone(),
                            Some(ty.wgsl()),
                            Some(WExpr::ident(param_name.clone())),
                        ));
                    }
                    sub.declare(
                        &p.name,
                        Sym::Value {
                            wgsl: name,
                            ty,
                            mutable: assigned,
                        },
                    );
                }
                Arg::Pointer(_) | Arg::LocalArray(..) => {
                    let (ptr, array, row) = match a {
                        Arg::LocalArray(ptr, array, row) => (ptr, Some(array), row.is_some()),
                        Arg::Pointer(ptr) => (ptr, None, false),
                        _ => unreachable!(),
                    };
                    let mut view = ptr.clone();
                    // `double phi[][Y][Z]` takes rows of exactly that shape.
                    // A local array of rows (`double B[3][8]`) keeps its
                    // nested shape: `b[i][j]` indexes the rows themselves.
                    // So does a `__shared__` array of rows passed whole.
                    let local_rows = !row_shape(&view.elem).0.is_empty();
                    if let Some(rows) = sub.param_rows(p)
                        && rows != view.rows
                        && !(local_rows && row_shape(&view.elem).0 == rows)
                    {
                        sub.m.error(
                            p.name_span,
                            format!(
                                "parameter `{}` points at rows of {rows:?} elements, its argument at {:?}",
                                p.name, view.rows
                            ),
                        );
                    }
                    if let Some(array) = array {
                        let arg = sub.fresh(&format!("{name}_array"));
                        params.push(Param::new(
                            arg.clone(),
                            format!("ptr<function, {}>", array.wgsl()),
                        ));
                        view.base = WExpr::deref(arg.clone());
                        if row {
                            // The row `(*b_array)[b_row]` of the array passed.
                            let index = sub.fresh(&format!("{name}_row"));
                            params.push(Param::new(index.clone(), "i32"));
                            let whole = std::mem::replace(
                                &mut view.base,
                                WExpr::index(WExpr::deref(arg.clone()), WExpr::name(index.clone())),
                            );
                            let row_ty = array.element().cloned().unwrap_or(Ty::Error);
                            sub.local_rows.insert(
                                view.base.to_string(),
                                crate::context::LocalRow {
                                    array: whole.to_string(),
                                    array_ty: array.clone(),
                                    index,
                                },
                            );
                            sub.local_array_params.insert(view.base.to_string(), row_ty);
                        } else {
                            sub.local_array_params
                                .insert(view.base.to_string(), array.clone());
                        }
                    }
                    if p.ty.is_const {
                        view.mutable = false;
                    }
                    let offset_var = match &ptr.offset {
                        Some(o) => {
                            params.push(Param::new(param_name.clone(), o.ty.wgsl()));
                            if assigned {
                                prologue.push(WStmt::decl(
                                    "var",
                                    name.clone(),
                                    Some("i32".into()),
                                    Some(WExpr::call("i32", vec![WExpr::name(&param_name)])),
                                ));
                                view.offset = Some(Box::new(Val::atom(name.clone(), Ty::I32)));
                                Some(name.clone())
                            } else {
                                view.offset = Some(Box::new(Val::atom(name.clone(), o.ty.clone())));
                                None
                            }
                        }
                        None if assigned => {
                            prologue.push(WStmt::decl(
                                "var",
                                name.clone(),
                                Some("i32".to_string()),
                                Some(WExpr::literal("0")),
                            ));
                            view.offset = Some(Box::new(Val::atom(name.clone(), Ty::I32)));
                            Some(name.clone())
                        }
                        None => None,
                    };
                    sub.declare(&p.name, Sym::Pointer { view, offset_var });
                }
            }
        }
        let mut stmts = prologue;
        if let Some(b) = body
            && !sub.m.refuse_unparsed(f)
        {
            sub.stmt_flat(b, &mut stmts);
        }
        // Falling off the end of a value function is undefined in C; WGSL
        // needs a return on every path.
        let returns = matches!(stmts.last(), Some(WStmt::Return(_)));
        if !returns && ret.is_value() && ret != Ty::Error {
            let zero = match &ret {
                Ty::Scalar(s) => Val::konst(Konst::Int(0), *s).expr,
                other => WExpr::call(other.wgsl(), Vec::new()),
            };
            stmts.push(WStmt::Return(Some(zero)));
        }
        let header = Decl::new(Item::Function(FunctionHeader {
            name: wgsl_name.to_string(),
            params,
            result: (ret != Ty::Void && ret != Ty::Error).then(|| ret.wgsl()),
            workgroup_size: None,
        }))
        .documented(&format!("__device__ {}", f.name));
        self.m.structure.count(&stmts);
        let (function, body) = crate::decl::print_function(header, stmts);
        self.m.bodies.push(body);
        self.m.functions.push(function);
        Specialization {
            wgsl_name: wgsl_name.to_string(),
            ret,
            effectful: has_effects(f, &mut self.m.analysis, 0),
        }
    }
}

/// Whether calling `f` writes memory or synchronizes (its call must stay a
/// statement, in order).
fn has_effects(f: &Function, analysis: &mut crate::analysis::Analysis, depth: usize) -> bool {
    let effects = analysis.effects(&f.name);
    let shared: Vec<String> = f.shared_decls().iter().map(|d| d.name.clone()).collect();
    let writes_memory = f
        .params
        .iter()
        .filter(|p| p.ty.pointer > 0)
        .any(|p| effects.written.contains(&p.name))
        || shared.iter().any(|s| effects.written.contains(s));
    if writes_memory {
        return true;
    }
    let mut callees = Vec::new();
    let mut synchronizes = false;
    if let Some(body) = &f.body {
        body.walk_exprs(&mut |e| {
            if let ExprKind::Call(call) = &e.kind {
                let callee = &call.callee;
                if is_barrier(callee)
                    || crate::source_facts::is_group_sync(callee)
                    || callee.starts_with("atomic")
                    || callee.starts_with("__threadfence")
                    || callee == "__syncwarp"
                {
                    synchronizes = true;
                } else {
                    callees.push(callee.clone());
                }
            }
        });
    }
    synchronizes
        || (depth < 8
            && callees.iter().any(|c| {
                analysis.function(c).is_some_and(|g| {
                    g.body.is_some()
                        && g.callable_from_device()
                        && g.name != f.name
                        && has_effects(g, analysis, depth + 1)
                })
            }))
}

/// A WGSL identifier alone (a variable one can take `&` of).
fn is_plain_name(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_type_param(f: &Function, name: &str) -> bool {
    f.template_params
        .iter()
        .any(|t| t.name == name && t.kind == TemplateParamKind::Type)
}

/// A C type from template-argument text: `const float`, `unsigned int*`.
pub(crate) fn parse_ctype(written: &str) -> CType {
    let pointer = written.matches('*').count() as u8;
    let is_const = written.split_whitespace().any(|w| w == "const");
    let base = normalize_base(&written.replace('*', " "));
    CType {
        base,
        pointer,
        is_const,
        ..CType::default()
    }
}

/// The CUDA spelling of a WGSL value type (for template deduction).
fn ctype_of(t: &Ty) -> CType {
    let name = match t {
        Ty::Scalar(s) => scalar_c_name(*s).to_string(),
        Ty::Vector(s, n) => {
            let base = match s {
                Scalar::F32 => "float",
                Scalar::I32 => "int",
                Scalar::U32 => "uint",
                Scalar::F64 => "double",
                Scalar::F16 => "half",
                _ => "int",
            };
            format!("{base}{n}")
        }
        Ty::Struct(name) => name.clone(),
        _ => "int".to_string(),
    };
    CType::named(&name)
}

fn scalar_c_name(s: Scalar) -> &'static str {
    match s {
        Scalar::Bool => "bool",
        Scalar::I32 => "int",
        Scalar::U32 => "unsigned int",
        Scalar::I64 => "long long",
        Scalar::U64 => "unsigned long long",
        Scalar::F16 => "half",
        Scalar::F32 => "float",
        Scalar::F64 => "double",
    }
}

/// The row lengths of a local array's element and its innermost element
/// (`array<array<f64, 8>, 2>` → `([2, 8], f64)`); no rows for a scalar.
fn row_shape(ty: &Ty) -> (Vec<u32>, &Ty) {
    let mut dims = Vec::new();
    let mut t = ty;
    while let Ty::Array(inner, ArrayLen::Fixed(n)) = t {
        dims.push(*n);
        t = inner;
    }
    (dims, t)
}

/// Whether template `f` is more specialized than template `g` in C++'s
/// partial ordering, read from their parameter types alone: wherever `f`
/// takes a bare type parameter (`T val`), so does `g`, and somewhere `g`
/// takes a bare one where `f` spells more (`const Pair<K, V> &p`).
fn more_specialized(f: &Function, g: &Function) -> bool {
    let bare = |h: &Function, p: &cudalens_syntax::model::Param| {
        is_type_param(h, &p.ty.base) && p.ty.template_args.is_empty() && p.ty.pointer == 0
    };
    let mut stricter = false;
    for (pf, pg) in f.params.iter().zip(&g.params) {
        match (bare(f, pf), bare(g, pg)) {
            (true, false) => return false,
            (false, true) => stricter = true,
            _ => {}
        }
    }
    stricter
}

/// Whether `f`'s body is exactly a swap of `*p1` and `*p2` through one
/// temporary (`T tmp = *p1; *p1 = *p2; *p2 = tmp;`, or `tmp` declared
/// first and assigned).
fn swaps_through(f: &Function, p1: &str, p2: &str) -> bool {
    let Some(body) = f.body.as_deref() else {
        return false;
    };
    let StmtKind::Block(stmts) = &body.kind else {
        return false;
    };
    let deref_of = |e: &Expr, name: &str| matches!(&e.kind, ExprKind::Unary(UnOp::Deref, inner) if inner.as_ident() == Some(name));
    fn assign(s: &Stmt) -> Option<(&Expr, &Expr)> {
        match &s.kind {
            StmtKind::Expr(e) => match &e.kind {
                ExprKind::Assign(None, target, value) => Some((&**target, &**value)),
                _ => None,
            },
            _ => None,
        }
    }
    let (tmp, rest) = match stmts.as_slice() {
        [first, rest @ ..] => match &first.kind {
            StmtKind::Decl(ds) if ds.len() == 1 && ds[0].dims.is_empty() => {
                let d = &ds[0];
                match &d.init {
                    Some(init) if deref_of(init, p1) => (d.name.clone(), rest),
                    Some(_) => return false,
                    None => match rest {
                        [set, rest @ ..]
                            if assign(set).is_some_and(|(t, v)| {
                                t.as_ident() == Some(d.name.as_str()) && deref_of(v, p1)
                            }) =>
                        {
                            (d.name.clone(), rest)
                        }
                        _ => return false,
                    },
                }
            }
            _ => return false,
        },
        _ => return false,
    };
    let [first, second] = rest else {
        return false;
    };
    assign(first).is_some_and(|(t, v)| deref_of(t, p1) && deref_of(v, p2))
        && assign(second)
            .is_some_and(|(t, v)| deref_of(t, p2) && v.as_ident() == Some(tmp.as_str()))
}
