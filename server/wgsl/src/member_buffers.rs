//! Pointer members of a kernel's struct arguments as buffers of their own.
//!
//! CUDA programs pass device arrays inside structs: a graph by value
//! (`ECLgraph g` with `int *nindex, *nlist`), or a struct in device memory
//! holding device pointers (`clusters_t *clusters` with `float *means`).
//! WGSL cannot follow a pointer held in memory, but within one launch such
//! a member points at the same buffer for every thread: `g.nindex[i]` and
//! `clusters->means[i]` read one buffer each, bound as a `var<storage>`
//! beside the kernel's parameters (sidecar `member_of` names the argument
//! and member the host fills it from).
//!
//! Members of structs the argument holds by value count too
//! (`d_vars.u_star.u0`), and 8/16-bit elements are packed into words as a
//! pointer parameter's are. Refused, with the reason: a member the kernel
//! itself changes (`g.nlist = ...`), structs reached other than as the
//! argument itself (`clusters[i]` with `i` not 0), and atomics on such a
//! buffer.
//! Device functions that receive the whole struct still cannot follow its
//! pointers; the kernel can hand them the member (`f(g.nindex)`).

use cudalens_syntax::ir::{Expr, ExprKind, UnOp};

use crate::bindings::MemberOf;
use crate::context::{AtomicRepr, DeviceGlobal, FnLower, PtrVal, Sym};
use crate::stmt::storage_type;
use crate::types::Ty;

/// A pointer member of one kernel parameter: the parameter's index and
/// name, and the member's name.
struct MemberPointer {
    index: usize,
    param: String,
    member: String,
    pointee: cudalens_syntax::ir::Type,
    /// The kernel the argument belongs to.
    kernel: String,
    /// The name the current function holds the struct (or pointer) by.
    local: String,
    /// Reached through a pointer to the struct (`c->m`).
    through_pointer: bool,
}

impl FnLower<'_, '_> {
    /// Whether `base.field` (`base->field` when `arrow`) is a pointer
    /// member of one of the kernel's struct arguments.
    pub(crate) fn is_member_buffer(&self, base: &Expr, field: &str, arrow: bool) -> bool {
        self.member_pointer(base, field, arrow).is_some()
    }

    /// `name` holds one of the kernel's struct arguments, whole: the
    /// kernel's name and the parameter's (for a device function it is
    /// handed to, whose `name.member` then reads the same buffers).
    pub(crate) fn kernel_struct_arg(&self, name: &str) -> Option<(String, String)> {
        if !self.is_kernel {
            return self.struct_args.get(name).cloned();
        }
        let param =
            (self.m.model.function(&self.function)?.params.iter()).find(|p| p.name == name)?;
        let ty = self.m.model.types.resolve(&self.subst_type(&param.ty));
        let by_value = ty.pointer == 0
            && param.dims.is_empty()
            && self.m.model.types.structs.contains_key(&ty.base)
            && matches!(
                self.lookup(name),
                Some(Sym::Array { .. } | Sym::Value { .. })
            );
        by_value.then(|| (self.function.clone(), name.to_string()))
    }

    /// The buffer `base.field` points at, bound on first use; `None` when
    /// it is no such member (or after an error naming why not).
    pub(crate) fn member_buffer(
        &mut self,
        base: &Expr,
        field: &str,
        arrow: bool,
        span: cudalens_syntax::Span,
    ) -> Option<PtrVal> {
        let mp = self.member_pointer(base, field, arrow)?;
        let key = format!("{}.{}", mp.param, mp.member);
        // Checked at every use, before the buffer is reused: a device
        // function's copy of the struct may change its member.
        let kernel_body = self
            .m
            .model
            .function(&mp.kernel)
            .and_then(|f| f.body.as_deref());
        if mp.through_pointer && kernel_body.is_some_and(|b| changed_in(b, &mp.param, None)) {
            self.m.error(
                span,
                format!(
                    "the kernel moves `{}`: a struct's pointer members are followed only through the argument itself",
                    mp.param
                ),
            );
            return None;
        }
        let last = mp.member.rsplit('.').next().unwrap_or(&mp.member);
        let own_body = self
            .m
            .model
            .function(&self.function)
            .and_then(|f| f.body.as_deref());
        let changed = kernel_body.is_some_and(|b| changed_in(b, &mp.param, Some(last)))
            || (!self.is_kernel && own_body.is_some_and(|b| changed_in(b, &mp.local, Some(last))));
        if changed {
            self.m.error(
                span,
                format!(
                    "the pointer member `{key}` is assigned (by the kernel, or in a device function's copy of the struct): a buffer reached through a struct's member must stay the same for the whole launch"
                ),
            );
            return None;
        }
        if let Some(existing) = self.m.device_globals.iter().find(|g| g.name == key) {
            return match &existing.sym {
                Sym::Pointer { view, .. } => Some(view.clone()),
                _ => None,
            };
        }
        let effects = &self.m.kernel_effects;
        if effects.atomic.contains(&mp.param) {
            self.m.error(
                span,
                format!(
                    "atomic operations through `{}`'s pointer members are not supported",
                    mp.param
                ),
            );
            return None;
        }
        let written = effects.written.contains(&mp.param);
        // 8- and 16-bit integers and `bool`: packed into `u32` words, as a
        // pointer parameter's are.
        let packed = self.packed_of(&mp.pointee, written);
        let elem = match packed {
            Some(k) => k.value_type(),
            None => self.map_type(&mp.pointee, span),
        };
        if elem == Ty::Error {
            return None;
        }
        if packed.is_none()
            && let Err(e) = crate::types::host_shareable(&elem, &self.m.model.types, self.m.opts)
        {
            self.m.error(span, format!("`{key}`: {e}"));
            return None;
        }
        if matches!(elem, Ty::Vector(_, 3) | Ty::Void) {
            self.m.error(
                span,
                format!("`{key}` points at `{}` elements, which a buffer reached through a struct's member cannot hold yet", elem.wgsl()),
            );
            return None;
        }
        let wgsl = self
            .m
            .module_name(&format!("{}_{}", mp.param, mp.member.replace('.', "_")));
        self.names.reserve(&wgsl);
        let atomic = packed.map(AtomicRepr::Packed);
        let stored = storage_type(&elem, atomic);
        let decl = crate::decl::Decl::var(
            crate::decl::Space::Storage { write: written },
            wgsl.clone(),
            format!("array<{stored}>"),
        )
        .noted(format!("what `{key}` points at"));
        let view = PtrVal::module_array(wgsl.clone(), elem.clone(), atomic, written);
        let mut global = DeviceGlobal::storage(
            &key,
            wgsl,
            Sym::Pointer {
                view: view.clone(),
                offset_var: None,
            },
            decl,
            stored,
            None,
            None,
        );
        if written {
            global.binding.kind = crate::bindings::BindingKind::StorageReadWrite;
        }
        global.binding.member_of = Some(MemberOf {
            param_index: mp.index,
            member: mp.member,
        });
        self.m.device_globals.push(global);
        Some(view)
    }

    fn member_pointer(&self, base: &Expr, field: &str, arrow: bool) -> Option<MemberPointer> {
        let (local, through_pointer, mut path) = member_root(base, arrow)?;
        // In a device function, a parameter that holds the kernel's struct
        // argument whole.
        let (kernel, name) = if self.is_kernel {
            (self.function.as_str(), local)
        } else {
            let (kernel, name) = self.struct_args.get(local)?;
            if through_pointer || !matches!(self.lookup(local), Some(Sym::Value { .. })) {
                return None;
            }
            (kernel.as_str(), name.as_str())
        };
        let kernel = self.m.analysis.function(kernel)?;
        let (index, param) = kernel
            .params
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == name)?;
        // The parameter itself, not a local of the same name (a pointer
        // to the struct is a `Sym::Pointer` when a write reaches through
        // a member: the lowering tracks an offset for it; `member_buffer`
        // refuses one the kernel really moves).
        if self.is_kernel {
            match self.lookup(name) {
                Some(Sym::Array { .. } | Sym::Value { .. }) => {}
                Some(Sym::Pointer { .. }) if through_pointer => {}
                _ => return None,
            }
        }
        let types = &self.m.model.types;
        let mut ty = types.resolve(&self.subst_type(&param.ty));
        if ty.pointer != u8::from(through_pointer) || !param.dims.is_empty() {
            return None;
        }
        // Down the struct members held by value (`d_vars.u_star.u0`).
        for step in &path {
            let f = types
                .structs
                .get(&ty.base)?
                .fields
                .iter()
                .find(|f| &f.name == step)?;
            ty = types.resolve(&f.ty);
            if ty.pointer != 0 || f.array_len > 1 {
                return None;
            }
        }
        let f = (types.structs.get(&ty.base)?.fields.iter()).find(|f| f.name == field)?;
        let member_ty = types.resolve(&f.ty);
        if member_ty.pointer != 1 || f.array_len > 1 {
            return None;
        }
        path.push(field.to_string());
        Some(MemberPointer {
            index,
            param: name.to_string(),
            member: path.join("."),
            pointee: member_ty.pointee(),
            kernel: kernel.name.clone(),
            local: local.to_string(),
            through_pointer,
        })
    }
}

/// Whether `body` assigns `param` itself (`member` `None`: `c = ...`,
/// `c++`) or its member (`g.nlist = ...`).
fn changed_in(body: &cudalens_syntax::ir::Stmt, param: &str, member: Option<&str>) -> bool {
    let mut changed = false;
    body.walk_exprs(&mut |e| {
        let target = match &e.kind {
            ExprKind::Assign(_, t, _) | ExprKind::IncDec { target: t, .. } => t,
            _ => return,
        };
        changed |= match (&target.kind, member) {
            (ExprKind::Ident(n), None) => n == param,
            (ExprKind::Member { base, field, .. }, Some(m)) => {
                field == m && root_name(base) == Some(param)
            }
            _ => false,
        };
    });
    changed
}

/// The parameter `base` starts from, whether it is reached through a
/// pointer (`s->m`, `(*s).m`, `s[0].m`), and the struct members held by
/// value on the way (`u_star` of `d_vars.u_star.u0`).
fn member_root(base: &Expr, arrow: bool) -> Option<(&str, bool, Vec<String>)> {
    match &base.kind {
        ExprKind::Ident(n) => Some((n.as_str(), arrow, Vec::new())),
        _ if arrow => None,
        ExprKind::Unary(UnOp::Deref, inner) => Some((inner.as_ident()?, true, Vec::new())),
        ExprKind::Index(inner, i) => {
            let ExprKind::Int { value: 0, .. } = i.kind else {
                return None;
            };
            Some((inner.as_ident()?, true, Vec::new()))
        }
        ExprKind::Member {
            base,
            field,
            arrow: inner_arrow,
        } => {
            let (name, through_pointer, mut path) = member_root(base, *inner_arrow)?;
            path.push(field.clone());
            Some((name, through_pointer, path))
        }
        _ => None,
    }
}

fn root_name(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Ident(n) => Some(n),
        ExprKind::Index(b, _)
        | ExprKind::Unary(UnOp::Deref, b)
        | ExprKind::Member { base: b, .. } => root_name(b),
        _ => None,
    }
}
