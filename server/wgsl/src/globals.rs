//! File-scope `__constant__` and `__device__` variables as storage bindings.
//!
//! A variable a function refers to becomes one module-scope
//! `var<storage, read>` (never written by the kernel, which `__constant__`
//! memory cannot be) or `var<storage, read_write>`, declared once per kernel
//! and bound after the kernel's parameters. Its initialiser, when it has one,
//! travels in the sidecar (`initial`) so the runner fills the buffer with it;
//! without one the sidecar says how many elements it has (`length`) and the
//! runner fills it as the host would have to (`cudaMemcpyToSymbol`): the
//! bench report states what it used. The runner writes the buffer element
//! by element, so WGSL's layout (a `vec3` takes 16 bytes) need not match
//! CUDA's. An uninitialised struct variable (the host copies it in) is
//! bound when WGSL lays the struct out as C does; the runner cannot fill
//! struct buffers yet and refuses them by name. File-scope `__shared__`
//! variables become one `var<workgroup>`.

use cudalens_syntax::ir::{Expr, ExprKind, StmtKind, UnOp, VarDecl};

use crate::context::{AtomicRepr, DeviceGlobal, FnLower, Sym};
use crate::decl::{Decl, Item, Space};
use crate::stmt::storage_type;
use crate::types::{Konst, Scalar, Ty, flat_len};

impl FnLower<'_, '_> {
    /// Declares, in the function's outermost scope, every file-scope
    /// variable its body names (a local or parameter of the same name
    /// shadows it, as in C). Constant scalars stay constants.
    pub fn declare_device_globals(
        &mut self,
        params: &[cudalens_syntax::model::Param],
        body: Option<&cudalens_syntax::ir::Stmt>,
    ) {
        let Some(body) = body else { return };
        let model = self.m.model;
        if model.globals.is_empty() {
            return;
        }
        let mut locals: std::collections::HashSet<String> =
            params.iter().map(|p| p.name.clone()).collect();
        body.walk(&mut |s| {
            if let StmtKind::Decl(ds) = &s.kind {
                for d in ds {
                    locals.insert(d.name.clone());
                }
            }
        });
        let mut named = Vec::new();
        body.walk_exprs(&mut |e| {
            if let ExprKind::Ident(n) = &e.kind
                && !locals.contains(n)
                && !named.contains(n)
            {
                named.push(n.clone());
            }
        });
        for name in named {
            let Some(g) = model.globals.iter().rev().find(|g| g.name == name) else {
                continue;
            };
            if is_constant_scalar(g) || g.ty.base == "dim3" {
                continue;
            }
            if g.shared {
                // File-scope `__shared__`: one workgroup variable.
                let g = g.clone();
                self.shared_decl(&g, true);
                continue;
            }
            if let Some((_, sym, _)) = self.m.module_consts.iter().find(|(n, ..)| *n == name) {
                let sym = sym.clone();
                self.declare(&name, sym);
                continue;
            }
            if let Some(existing) = self.m.device_globals.iter().find(|d| d.name == name) {
                let sym = existing.sym.clone();
                self.declare(&name, sym);
                continue;
            }
            if self.m.failed_globals.contains(&name) {
                continue;
            }
            let bound = if g.ty.base == "texture" && g.ty.pointer == 0 {
                self.texture_reference(g, body)
            } else {
                self.device_global(g)
            };
            match bound {
                Some(sym) => self.declare(&name, sym),
                None => {
                    self.m.failed_globals.insert(name);
                }
            }
        }
    }

    /// The binding for `g`, or an error naming what WGSL cannot hold.
    fn device_global(&mut self, g: &VarDecl) -> Option<Sym> {
        let name = &g.name;
        if g.ty.pointer > 0 {
            self.m.error(
                g.name_span,
                format!("file-scope pointer variable `{name}` (`__device__ T*`): WGSL bindings cannot hold pointers; pass the buffer as a kernel parameter"),
            );
            return None;
        }
        // An initialised, read-only 8/16-bit variable (`__constant__ short
        // Q[64] = {...}`): one `i32` per element holding the value C's
        // promotion gives, so reads need no unpacking.
        let narrow = self
            .packed_of(&g.ty, false)
            .filter(|k| !k.boolean && k.lanes == 1);
        if narrow.is_some() {
            let effects = &self.m.kernel_effects;
            if effects.written.contains(name) || effects.atomic.contains(name) {
                self.m.error(
                    g.name_span,
                    format!("file-scope 8/16-bit variable `{name}`: only read-only ones (`__constant__ short q[64]`) are supported"),
                );
                return None;
            }
        }
        if let Some(k) = narrow
            && g.init.is_none()
        {
            return self.host_filled_narrow(g, k);
        }
        let elem = if narrow.is_some() {
            Ty::I32
        } else {
            self.map_type(&g.ty, g.span)
        };
        // A `__device__ bool` flag (HeCBench's hungarian `repeat_kernel`):
        // a word whose low byte is C's byte, read `!= 0`, written 0 or 1.
        let byte_bool = matches!(elem, Ty::Scalar(Scalar::Bool)) && g.dims.is_empty();
        match &elem {
            Ty::Error => return None,
            Ty::Scalar(Scalar::Bool)
                if byte_bool && !self.m.kernel_effects.atomic.contains(name) => {}
            Ty::Scalar(Scalar::Bool) => {
                self.m.error(
                    g.name_span,
                    format!("file-scope variable `{name}`: a `bool` array or atomic is not host-shareable in WGSL (C packs four to a word; use int)"),
                );
                return None;
            }
            Ty::Scalar(_) | Ty::Vector(..) => {}
            // A struct the host fills (`cudaMemcpyToSymbol`): its buffer
            // must hold C's bytes.
            Ty::Struct(_) if g.init.is_none() => {
                if let Err(e) =
                    crate::types::host_shareable(&elem, &self.m.model.types, self.m.opts)
                {
                    self.m
                        .error(g.name_span, format!("file-scope variable `{name}`: {e}"));
                    return None;
                }
            }
            Ty::Struct(_) => return self.constant_struct(g, &elem),
            _ => {
                self.m.error(
                    g.name_span,
                    format!("file-scope variable `{name}` of type `{}` is not supported (only scalars, vectors and arrays of them)", g.ty.display()),
                );
                return None;
            }
        }
        let effects = &self.m.kernel_effects;
        let written = effects.written.contains(name);
        let atomic_use = effects.atomic.contains(name);
        let bit_atomic = effects.bit_atomic.contains(name);
        let ty = if g.dims.is_empty() {
            elem.clone()
        } else {
            self.array_type(g, elem.clone(), None)?
        };
        let atomic = if byte_bool {
            Some(AtomicRepr::ByteBool)
        } else if atomic_use {
            // Integer atomics through a cast need the float's bits in `u32`s.
            match self.m.atomic_repr(&elem, !bit_atomic) {
                Ok(repr) => Some(repr),
                Err(why) => {
                    self.m.error(g.name_span, why);
                    return None;
                }
            }
        } else {
            None
        };
        let length = flat_len(&ty);
        let initial = match &g.init {
            None => None,
            Some(init) => {
                let mut values = Vec::new();
                let lanes = match elem {
                    Ty::Vector(_, n) => usize::from(n),
                    _ => 1,
                };
                if !self.constant_leaves(init, &elem, &mut values) {
                    self.m.error(
                        init.span,
                        format!("the initialiser of the file-scope variable `{name}` is not a list of compile-time constants"),
                    );
                    return None;
                }
                if values.len() > (length as usize).saturating_mul(lanes) {
                    self.m.error(
                        init.span,
                        format!("the initialiser of `{name}` has more values than the variable has elements"),
                    );
                    return None;
                }
                if let Some(k) = narrow {
                    // The initialiser converted to the narrow type, as C does.
                    let bits = u32::from(k.bits);
                    for v in &mut values {
                        let wrapped = (*v as i64) & ((1i64 << bits) - 1);
                        let signed_max = 1i64 << (bits - 1);
                        *v = if k.signed && wrapped >= signed_max {
                            (wrapped - (1i64 << bits)) as f64
                        } else {
                            wrapped as f64
                        };
                    }
                }
                Some(values)
            }
        };
        if atomic.is_some() && initial.is_some() {
            // An atomic buffer holds float bits for F32Bits: the runner would
            // write floats. Refuse rather than fill it wrongly.
            if atomic.and_then(AtomicRepr::float_bits).is_some() {
                self.m.error(
                    g.name_span,
                    format!("an initialised float file-scope variable (`{name}`) used with atomics is not supported"),
                );
                return None;
            }
        }
        let wgsl = self.m.module_name(name);
        self.names.reserve(&wgsl);
        let mut decl = Decl::var(
            Space::Storage { write: written },
            wgsl.clone(),
            storage_type(&ty, atomic),
        );
        if let Some(k) = narrow {
            decl = decl.noted(format!("{} values, one to an i32", k.describe()));
        }
        if byte_bool {
            decl = decl.noted("C `bool`: its byte is the word's low byte");
        }
        // A scalar is a value-typed `Array` symbol, as a `__shared__` scalar:
        // read where named, assignable, and atomic when used so.
        let sym = Sym::Array {
            wgsl: wgsl.clone(),
            ty,
            mutable: written,
            atomic,
            module_scope: true,
        };
        let element = storage_type(&elem, atomic);
        self.m.device_globals.push(DeviceGlobal::storage(
            name,
            wgsl,
            sym.clone(),
            decl,
            element,
            Some(length),
            initial,
        ));
        Some(sym)
    }

    /// A read-only 8/16-bit array the host fills (`__constant__ char
    /// dirs[81];` and `cudaMemcpyToSymbol`, HeCBench d3q19-bgk): bound as
    /// C's bytes, packed into `u32` words, so the host's bytes are the
    /// buffer's; each element read from its word as a packed buffer's.
    fn host_filled_narrow(&mut self, g: &VarDecl, k: crate::types::Packed) -> Option<Sym> {
        let name = &g.name;
        if g.dims.len() != 1 {
            self.m.error(
                g.name_span,
                format!("file-scope 8/16-bit variable `{name}` without an initialiser: only one-dimensional arrays are supported (the host's bytes are bound packed into words)"),
            );
            return None;
        }
        let ty = self.array_type(g, Ty::I32, None)?;
        let elements = flat_len(&ty);
        let words = (elements * u64::from(k.bits)).div_ceil(32).max(1);
        let k = crate::types::Packed {
            written: false,
            ..k
        };
        let wgsl = self.m.module_name(name);
        self.names.reserve(&wgsl);
        let decl = Decl::var(
            Space::Storage { write: false },
            wgsl.clone(),
            format!("array<u32, {words}>"),
        )
        .noted(format!(
            "{elements} {} values as C's bytes, packed into words",
            k.describe()
        ));
        let sym = Sym::Array {
            wgsl: wgsl.clone(),
            ty,
            mutable: false,
            atomic: Some(AtomicRepr::Packed(k)),
            module_scope: true,
        };
        self.m.device_globals.push(DeviceGlobal::storage(
            name,
            wgsl,
            sym.clone(),
            decl,
            "u32".into(),
            Some(words),
            None,
        ));
        Some(sym)
    }

    /// An initialised file-scope struct (`__constant__ pixel BORDER =
    /// {.r = 0, .g = 0, .b = 0};`) as a WGSL `const`: what no kernel
    /// writes and the host never copies into (`cudaMemcpyToSymbol`), whose
    /// initialiser is made of compile-time constants.
    fn constant_struct(&mut self, g: &VarDecl, ty: &Ty) -> Option<Sym> {
        let name = &g.name;
        let refuse = |this: &mut Self, why: &str| {
            this.m.error(
                g.name_span,
                format!(
                    "file-scope variable `{name}` of type `{}`: {why}",
                    g.ty.display()
                ),
            );
            None
        };
        let effects = &self.m.kernel_effects;
        if effects.written.contains(name) || effects.atomic.contains(name) {
            return refuse(
                self,
                "an initialised struct the kernel writes is not supported",
            );
        }
        if !g.dims.is_empty() {
            return refuse(self, "initialised arrays of structs are not supported");
        }
        let texts = self.m.texts;
        let host_copies = std::iter::once(texts.main)
            .chain(texts.headers.values().map(|t| &**t))
            .any(|t| host_copies_into(t, name));
        if host_copies {
            return refuse(
                self,
                "the host copies into this initialised struct (`cudaMemcpyToSymbol`), so its initialiser is not what kernels read",
            );
        }
        let init = g.init.as_ref()?;
        let mut scratch = Vec::new();
        let value = self.initializer(init, ty, &mut scratch)?;
        if !scratch.is_empty() || !value_is_constant(init) {
            return refuse(
                self,
                "its initialiser is not made of compile-time constants",
            );
        }
        let wgsl = self.m.module_name(name);
        self.names.reserve(&wgsl);
        let decl = Decl::new(Item::Const {
            name: wgsl.clone(),
            ty: ty.wgsl(),
            init: value.expr.clone(),
        })
        .documented(&format!(
            "CUDA `{name}` (initialised, never written): a constant."
        ));
        let sym = Sym::Value {
            wgsl,
            ty: ty.clone(),
            mutable: false,
        };
        self.m.module_consts.push((name.clone(), sym.clone(), decl));
        Some(sym)
    }

    /// The values of an initialiser, flattened in memory order (nested
    /// braces, vector constructors `make_float2(1, 2)`); false when a leaf
    /// is not a compile-time constant.
    fn constant_leaves(&mut self, e: &Expr, elem: &Ty, out: &mut Vec<f64>) -> bool {
        match &e.kind {
            ExprKind::InitList(items) => items.iter().all(|i| self.constant_leaves(i, elem, out)),
            ExprKind::Call(call)
                if matches!(elem, Ty::Vector(..)) && call.callee.starts_with("make_") =>
            {
                call.args.iter().all(|a| {
                    self.constant_leaves(a, &Ty::Scalar(elem.scalar().unwrap_or(Scalar::F32)), out)
                })
            }
            ExprKind::Unary(UnOp::Neg, inner) if matches!(inner.kind, ExprKind::Float { .. }) => {
                let mut v = Vec::new();
                if !self.constant_leaves(inner, elem, &mut v) {
                    return false;
                }
                out.extend(v.into_iter().map(|x| -x));
                true
            }
            _ => {
                let scalar = elem.scalar().unwrap_or(Scalar::F32);
                let mut scratch = Vec::new();
                let v = self.expr(e, &mut scratch);
                let v = self.convert(v, &Ty::Scalar(scalar), e.span);
                match v.konst {
                    Some(Konst::Bool(b)) => {
                        out.push(f64::from(u8::from(b)));
                        true
                    }
                    Some(k) => {
                        out.push(k.as_float());
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

/// Whether `text` passes the symbol `name` to a call that copies into it
/// (`cudaMemcpyToSymbol(name, ...)`, its `Async` form) or takes its address
/// (`cudaGetSymbolAddress(&p, name)`).
fn host_copies_into(text: &str, name: &str) -> bool {
    ["cudaMemcpyToSymbol", "cudaGetSymbolAddress"]
        .iter()
        .any(|call| {
            text.match_indices(call).any(|(at, _)| {
                let args = &text[at..];
                let Some(open) = args.find('(') else {
                    return false;
                };
                let end = args[open..].find(';').map_or(args.len(), |e| open + e);
                args[open..end]
                    .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|word| word == name)
            })
        })
}

/// Whether an initialiser is made of literals (and lists, designators,
/// casts and signs of them): what a WGSL `const` may hold.
fn value_is_constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int { .. } | ExprKind::Float { .. } | ExprKind::Bool(_) => true,
        ExprKind::InitList(items) => items.iter().all(value_is_constant),
        ExprKind::Designated { value, .. } => value_is_constant(value),
        ExprKind::Cast { expr, .. } | ExprKind::Unary(UnOp::Neg | UnOp::Plus, expr) => {
            value_is_constant(expr)
        }
        _ => false,
    }
}

/// A `const`/`constexpr` scalar with an initialiser: a WGSL constant.
fn is_constant_scalar(g: &VarDecl) -> bool {
    g.dims.is_empty() && g.ty.pointer == 0 && (g.ty.is_const || g.constexpr) && g.init.is_some()
}
