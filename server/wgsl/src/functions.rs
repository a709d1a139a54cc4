//! `__device__` functions become WGSL functions, specialized per call shape:
//! template arguments are substituted, and each pointer parameter is bound to
//! the module-scope array it points into (WGSL cannot pass storage pointers
//! generically), leaving only its element offset as a runtime parameter.

use std::collections::BTreeMap;

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Expr, ExprKind, Type as CType};
use cudalens_syntax::model::{Function, TemplateParamKind, is_barrier};
use cudalens_syntax::types::normalize_base;

use crate::context::{AtomicRepr, FnLower, PtrVal, Specialization, Sym, Val};
use crate::emit::{WStmt, print_block};
use crate::names::wgsl_ident;
use crate::types::{Konst, Scalar, Ty};

/// How one argument is passed to a specialization.
enum Arg {
    Value(Val),
    Pointer(PtrVal),
    /// A cooperative-groups `thread_block`: no WGSL argument.
    ThreadBlock,
    /// A reference parameter the callee writes: `&local` (its type).
    Ref(Val),
    /// A reference parameter the callee writes, bound to an element of a
    /// module-scope (`__shared__` or buffer) array: the array is fixed by
    /// the specialization, the element offset is the runtime argument.
    RefElement(PtrVal),
}

impl<'m> FnLower<'_, 'm> {
    pub fn call_device(
        &mut self,
        f: &Function,
        template_args: &[String],
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        if args.len() != f.params.len() {
            return self.error(
                span,
                format!(
                    "`{}` expects {} argument(s), got {} (default arguments are not supported)",
                    f.name,
                    f.params.len(),
                    args.len()
                ),
            );
        }
        // Template arguments: explicit ones first, then deduced from the arguments.
        let mut types: BTreeMap<String, CType> = BTreeMap::new();
        let mut values: BTreeMap<String, i128> = BTreeMap::new();
        for (tp, written) in f.template_params.iter().zip(template_args) {
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
        for (p, a) in f.params.iter().zip(args) {
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
            if p.ty.pointer == 0 && crate::source_facts::writes_reference(self.m.texts, f, p) {
                // `float3& v` written by the callee: a `ptr<function, T>`
                // to the caller's local variable.
                let local = a.as_ident().and_then(|n| match self.lookup(n) {
                    Some(Sym::Value {
                        wgsl,
                        ty,
                        mutable: true,
                    }) => Some((wgsl.clone(), ty.clone())),
                    _ => None,
                });
                let element_of_array = matches!(&a.kind, ExprKind::Index(base, _)
                if base.as_ident().is_some_and(|n| matches!(
                    self.lookup(n),
                    Some(Sym::Array { module_scope: true, .. } | Sym::Pointer { .. })
                )));
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
                    if ptr.module_root.as_deref() != Some(ptr.base.as_str())
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
                    Some(ptr) => ptr.to_string(),
                    None => format!("&{wgsl}"),
                };
                lowered.push(Arg::Ref(Val::atom(address, ty)));
                continue;
            }
            if p.ty.pointer > 0 {
                let Some(ptr) = self.pointer(a, out) else {
                    return Val::error();
                };
                if ptr.module_root.as_deref() != Some(ptr.base.as_str()) {
                    return self.error(
                        a.span,
                        "only pointers into kernel buffers or `__shared__` arrays can be passed to device functions",
                    );
                }
                if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                    types.insert(p.ty.base.clone(), ctype_of(&ptr.elem));
                }
                lowered.push(Arg::Pointer(ptr));
            } else {
                let v = self.expr(a, out);
                if v.is_error() {
                    return v;
                }
                if v.ptr.is_some() {
                    return self.error(a.span, "pointer passed where a value is expected");
                }
                if is_type_param(f, &p.ty.base) && !types.contains_key(&p.ty.base) {
                    types.insert(p.ty.base.clone(), ctype_of(&v.ty));
                }
                lowered.push(Arg::Value(v));
            }
        }
        for tp in &f.template_params {
            let bound = types.contains_key(&tp.name) || values.contains_key(&tp.name);
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
        for a in &lowered {
            match a {
                Arg::Pointer(p) => {
                    let offset_ty = p.offset.as_ref().map(|o| o.ty.wgsl()).unwrap_or_default();
                    key_parts.push(format!("{}+{offset_ty}", p.base));
                    suffix.push(p.base.clone());
                }
                Arg::RefElement(p) => {
                    key_parts.push(format!("&{}[i32]", p.base));
                    suffix.push(p.base.clone());
                }
                _ => {}
            }
        }
        let key = key_parts.join(";");
        let spec = match self.m.specializations.get(&key) {
            Some(s) => s.clone(),
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
                let base = if suffix.is_empty() {
                    f.name.clone()
                } else {
                    format!("{}_{}", f.name, suffix.join("_"))
                };
                let wgsl_name = self.m.module_name(&base);
                self.m.in_progress.insert(key.clone());
                let spec = self.specialize(f, &wgsl_name, &types, &values, &lowered);
                self.m.in_progress.remove(&key);
                self.m.specializations.insert(key, spec.clone());
                spec
            }
        };
        // A write through a reference parameter is an effect of the call.
        let writes_reference = lowered
            .iter()
            .any(|a| matches!(a, Arg::Ref(_) | Arg::RefElement(_)));
        let mut call_args = Vec::new();
        for (p, a) in f.params.iter().zip(lowered) {
            match a {
                Arg::Value(v) => {
                    let ty = self.param_type(p, &types);
                    call_args.push(self.convert(v, &ty, span).text);
                }
                Arg::Pointer(ptr) => {
                    if let Some(o) = ptr.offset {
                        call_args.push(o.text);
                    }
                }
                Arg::ThreadBlock => {}
                Arg::RefElement(ptr) => {
                    let ty = self.param_type(p, &types);
                    if ty != ptr.elem {
                        return self.error(
                            span,
                            format!(
                                "the argument of reference parameter `{}` is a `{}`, not a `{}`",
                                p.name,
                                ptr.elem.wgsl(),
                                ty.wgsl()
                            ),
                        );
                    }
                    let offset = match ptr.offset {
                        Some(o) => self.convert(*o, &Ty::I32, span).text,
                        None => "0".to_string(),
                    };
                    call_args.push(offset);
                }
                Arg::Ref(v) => {
                    let ty = self.param_type(p, &types);
                    if ty != v.ty {
                        return self.error(
                            span,
                            format!(
                                "the argument of reference parameter `{}` is a `{}`, not a `{}`",
                                p.name,
                                v.ty.wgsl(),
                                ty.wgsl()
                            ),
                        );
                    }
                    call_args.push(v.text);
                }
            }
        }
        self.last_effectful = spec.effectful || writes_reference;
        let text = format!("{}({})", spec.wgsl_name, call_args.join(", "));
        Val::atom(text, spec.ret)
    }

    fn param_type(
        &mut self,
        p: &cudalens_syntax::model::Param,
        types: &BTreeMap<String, CType>,
    ) -> Ty {
        let saved = std::mem::take(&mut self.template_types);
        self.template_types = types.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        let t = match self.narrow_param(p) {
            Some(k) => k.value_type(),
            None => self.map_type(&p.ty, p.name_span),
        };
        self.template_types = saved;
        t
    }

    /// The 8/16-bit kind of value parameter `p` (`unsigned char c`,
    /// `const uchar4 a`): it is passed as C promotes it (`i32`,
    /// `vec4<i32>`) and narrowed on entry and on every store.
    fn narrow_param(&self, p: &cudalens_syntax::model::Param) -> Option<crate::context::Packed> {
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
        let model = self.m.model;
        let candidates: Vec<&Function> = model
            .functions
            .iter()
            .map(|f| &**f)
            .filter(|f| {
                f.name == name
                    && f.body.is_some()
                    && f.runs_on_device()
                    && f.template_params.is_empty()
                    && f.params.len() == args.len()
            })
            .collect();
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
        self.m.model.consts.get(written.trim()).copied()
    }

    fn specialize(
        &mut self,
        f: &Function,
        wgsl_name: &str,
        types: &BTreeMap<String, CType>,
        values: &BTreeMap<String, i128>,
        args: &[Arg],
    ) -> Specialization {
        let body = f.body.as_deref();
        let mut sub = FnLower::new(&mut *self.m, &f.name, body, false);
        sub.declare_device_globals(&f.params, body);
        sub.template_types = types.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (name, v) in values {
            sub.declare(name, Sym::Const(Val::konst(Konst::Int(*v), Scalar::I32)));
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
                Arg::Ref(_) => {
                    let ty = sub.map_type(&p.ty, p.name_span);
                    params.push(format!("{name}: ptr<function, {}>", ty.wgsl()));
                    sub.declare(
                        &p.name,
                        Sym::Value {
                            wgsl: format!("(*{name})"),
                            ty,
                            mutable: true,
                        },
                    );
                }
                Arg::RefElement(ptr) => {
                    // The element `base[offset]`, read and written in place.
                    let at = sub.fresh(&format!("{name}_at"));
                    params.push(format!("{at}: i32"));
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
                Arg::Value(_) if sub.narrow_param(p).is_some() => {
                    let Some(k) = sub.narrow_param(p) else {
                        continue;
                    };
                    let ty = k.value_type();
                    let entry = format!("{name}_in");
                    params.push(format!("{entry}: {}", ty.wgsl()));
                    let load = sub.narrow(Val::atom(entry, ty.clone()), k, p.name_span);
                    prologue.push(WStmt::line(format!(
                        "var {name}: {} = {}; // {}",
                        ty.wgsl(),
                        load.text,
                        k.describe()
                    )));
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
                Arg::Value(_) => {
                    let ty = sub.map_type(&p.ty, p.name_span);
                    params.push(format!("{param_name}: {}", ty.wgsl()));
                    if assigned {
                        prologue.push(WStmt::line(format!(
                            "var {name}: {} = {param_name};",
                            ty.wgsl()
                        )));
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
                Arg::Pointer(ptr) => {
                    let mut view = ptr.clone();
                    if p.ty.is_const {
                        view.mutable = false;
                    }
                    let offset_var = match &ptr.offset {
                        Some(o) => {
                            params.push(format!("{param_name}: {}", o.ty.wgsl()));
                            if assigned {
                                prologue.push(WStmt::line(format!(
                                    "var {name}: i32 = i32({param_name});"
                                )));
                                view.offset = Some(Box::new(Val::atom(name.clone(), Ty::I32)));
                                Some(name.clone())
                            } else {
                                view.offset = Some(Box::new(Val::atom(name.clone(), o.ty.clone())));
                                None
                            }
                        }
                        None if assigned => {
                            prologue.push(WStmt::line(format!("var {name}: i32 = 0;")));
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
        if let Some(b) = body {
            sub.stmt_flat(b, &mut stmts);
        }
        // Falling off the end of a value function is undefined in C; WGSL
        // needs a return on every path.
        let returns = matches!(stmts.last(), Some(WStmt::Line(l)) if l.starts_with("return"));
        if !returns && ret.is_value() && ret != Ty::Error {
            let zero = match &ret {
                Ty::Scalar(s) => Val::konst(Konst::Int(0), *s).text,
                other => format!("{}()", other.wgsl()),
            };
            stmts.push(WStmt::line(format!("return {zero};")));
        }
        let mut text = String::new();
        let ret_text = if ret == Ty::Void || ret == Ty::Error {
            String::new()
        } else {
            format!(" -> {}", ret.wgsl())
        };
        text.push_str(&format!("// __device__ {}\n", f.name));
        text.push_str(&format!(
            "fn {wgsl_name}({}){ret_text} {{\n",
            params.join(", ")
        ));
        print_block(&mut text, &stmts, 1);
        text.push_str("}\n");
        self.m.functions.push(text);
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
                        && g.runs_on_device()
                        && g.name != f.name
                        && has_effects(g, analysis, depth + 1)
                })
            }))
}

fn is_type_param(f: &Function, name: &str) -> bool {
    f.template_params
        .iter()
        .any(|t| t.name == name && t.kind == TemplateParamKind::Type)
}

/// A C type from template-argument text: `const float`, `unsigned int*`.
fn parse_ctype(written: &str) -> CType {
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
