//! Expressions: C's implicit conversions made explicit, constant folding of
//! literals, side effects hoisted into statements in evaluation order, and
//! CUDA pointers tracked as (array, offset) views.

use cudalens_syntax::Span;
use cudalens_syntax::ir::{BinOp, Builtin, Expr, ExprKind, Type as CType, UnOp};

use crate::context::{AtomicRepr, FnLower, Place, Prec, PtrVal, Sym, Val};
use crate::emit::WStmt;
use crate::types::{ArrayLen, Konst, Scalar, Ty, common_type, promote, wrap_int};
use crate::wexpr::WExpr;

const UNARY_OK: &[Prec] = &[Prec::Primary, Prec::Unary];
const MUL_OK: &[Prec] = &[Prec::Primary, Prec::Unary, Prec::Mul];
const ADD_OK: &[Prec] = &[Prec::Primary, Prec::Unary, Prec::Mul, Prec::Add];
const REL_OK: &[Prec] = &[
    Prec::Primary,
    Prec::Unary,
    Prec::Mul,
    Prec::Add,
    Prec::Shift,
];

impl FnLower<'_, '_> {
    // ---- conversions --------------------------------------------------------

    /// `v` converted to `to` the way C converts implicitly.
    pub fn convert(&mut self, v: Val, to: &Ty, span: Span) -> Val {
        if v.ty == *to || v.is_error() || *to == Ty::Error {
            return v;
        }
        if let (Some(k), Ty::Scalar(s)) = (v.konst, to) {
            return Val::konst(k, *s);
        }
        match (&v.ty, to) {
            (Ty::Scalar(from), Ty::Scalar(Scalar::Bool)) => {
                let zero = Val::konst(Konst::Int(0), *from);
                Val::new(
                    WExpr::binary(v.operand_expr(REL_OK), "!=", zero.expr),
                    Ty::BOOL,
                    Prec::Rel,
                )
            }
            (Ty::Scalar(_), Ty::Scalar(s)) => {
                Val::atom(WExpr::call(s.wgsl(), vec![v.expr]), to.clone())
            }
            (Ty::Vector(_, a), Ty::Vector(_, b)) if a == b => {
                Val::atom(WExpr::call(to.wgsl(), vec![v.expr]), to.clone())
            }
            (Ty::Scalar(_), Ty::Vector(s, _)) => {
                let inner = self.convert(v, &Ty::Scalar(*s), span);
                Val::atom(WExpr::call(to.wgsl(), vec![inner.expr]), to.clone())
            }
            _ => self.error(
                span,
                format!("cannot convert `{}` to `{}`", v.ty.wgsl(), to.wgsl()),
            ),
        }
    }

    /// `e` as a condition: a kernel pointer parameter tests the override
    /// that says the host passed NULL (`null_test`), anything else is
    /// lowered and compared against zero.
    pub fn condition(&mut self, e: &Expr, out: &mut Vec<WStmt>) -> Val {
        let null = Expr::new(
            ExprKind::Int {
                value: 0,
                unsigned: false,
                long: false,
            },
            e.span,
        );
        if let Some(is_null) = self.null_test(e.without_casts(), &null) {
            return Val::new(
                WExpr::unary("!", WExpr::name(is_null)),
                Ty::BOOL,
                Prec::Unary,
            );
        }
        let v = self.expr(e, out);
        self.as_condition(v, e.span)
    }

    /// A condition: any scalar compared against zero.
    pub fn as_condition(&mut self, v: Val, span: Span) -> Val {
        match &v.ty {
            Ty::Scalar(_) | Ty::Error => self.convert(v, &Ty::BOOL, span),
            Ty::Pointer(_) => {
                self.error(span, "pointer used as a condition: not supported in WGSL")
            }
            other => {
                let t = other.wgsl();
                self.error(span, format!("`{t}` used as a condition"))
            }
        }
    }

    // ---- expressions --------------------------------------------------------

    /// Lowers `e` as a value; side effects go to `out` first.
    pub fn expr(&mut self, e: &Expr, out: &mut Vec<WStmt>) -> Val {
        use ExprKind::*;
        match &e.kind {
            Int {
                value,
                unsigned,
                long,
            } => self.int_literal(
                cudalens_syntax::ir::int_literal_value(*value, *unsigned),
                *unsigned,
                *long,
                e.span,
            ),
            Float { value, single } => {
                let s = if *single || !self.m.opts.enable_f64 {
                    Scalar::F32
                } else {
                    self.m.needs.f64 = true;
                    Scalar::F64
                };
                Val::konst(Konst::Float(*value), s)
            }
            Bool(b) => Val::konst(Konst::Bool(*b), Scalar::Bool),
            Str(_) => self.error(e.span, "string literals are not supported in WGSL"),
            Ident(name) => self.ident(name, e.span),
            Builtin(b, axis) => self.builtin(*b, Some(axis.name()), e.span),
            WarpSize => self.warp_size(),
            Unary(op, a) => self.unary(*op, a, e, out),
            Binary(op, a, b) => self.binary_expr(*op, a, b, e.span, out),
            Assign(op, target, value) => {
                let place = self.assign(*op, target, value, e.span, out);
                match place {
                    Some(p) => self.read_place(&p),
                    None => Val::error(),
                }
            }
            IncDec { increment, prefix, target } => {
                self.incdec(*increment, *prefix, target, e.span, out, true)
            }
            Ternary(c, a, b) => self.ternary(c, a, b, e.span, out),
            Call(call) => {
                let v = match self.method_call(call, e.span, out) {
                    Some(v) => v,
                    None => self.call(&call.callee, &call.template_args, &call.args, e.span, out),
                };
                if v.ptr.is_none() && v.ty != Ty::Void && self.last_call_effectful(&v) {
                    self.materialize(v, "call", out)
                } else {
                    v
                }
            }
            Index(..) | Member { .. } => {
                if let Member { base, field, arrow: false } = &e.kind {
                    // The whole value, then its component (a packed `uchar4`
                    // element is unpacked first).
                    let b = if self.is_place_expr(base) {
                        match self.place(base, out) {
                            // One lane of a `float3` member held as three
                            // scalars: that scalar alone.
                            Some(p) if p.atomic == Some(AtomicRepr::Triple) => {
                                if let (Some(lane), Some(s)) =
                                    ("xyz".find(field.as_str()), p.ty.scalar())
                                {
                                    return Val::atom(format!("{}[{lane}]", p.text()), Ty::Scalar(s));
                                }
                                self.read_place(&p)
                            }
                            Some(p) => self.read_place(&p),
                            None => return Val::error(),
                        }
                    } else {
                        self.expr(base, out)
                    };
                    return self.component(b, field, e.span);
                }
                match self.place(e, out) {
                    // `s.bytes` of `char bytes[64]` whole (passed on, copied):
                    // its elements live in the words of the struct.
                    Some(p)
                        if matches!(p.atomic, Some(AtomicRepr::MemberBytes { .. }))
                            && !p.ty.is_value() =>
                    {
                        self.error(
                            e.span,
                            "an 8- or 16-bit array member of a struct can only be indexed (`s.m[i]`): it cannot be passed or copied whole (its elements share the struct's 32-bit words)",
                        )
                    }
                    Some(p) => self.read_place(&p),
                    None => Val::error(),
                }
            }
            Launch { .. } => self.error(
                e.span,
                "dynamic parallelism (launching a kernel from device code) cannot be expressed in WGSL",
            ),
            Cast { ty, reinterpret, expr } => {
                if ty.pointer > 0
                    && let Some(v) = self.byte_offset_pointer(ty, expr, e.span, out)
                {
                    return v;
                }
                if *reinterpret || ty.pointer > 0 {
                    if ty.pointer == 1 && self.is_pointer_expr(expr) {
                        let diags = self.m.diags.len();
                        let p = self.pointer(expr, out);
                        if p.is_none() && self.m.diags.len() > diags {
                            return Val::error();
                        }
                        let target = ty.pointee();
                        if let Some(p) = &p
                            && let Some(view) = self.packed_word_view(p, &target, e.span)
                        {
                            return view;
                        }
                        let want = self.map_type(&target, e.span);
                        if let Some(p) = p {
                            // An 8/16-bit array holds each element in an `i32`:
                            // `(int *)bytes` is a view of words, not the same type.
                            if p.elem == want && !matches!(p.atomic, Some(AtomicRepr::Narrow(_))) {
                                return Val::pointer(p);
                            }
                            let from = match p.atomic {
                                Some(AtomicRepr::Narrow(k)) => format!("{}-bit", k.bits),
                                _ => p.elem.wgsl(),
                            };
                            if let Some(view) = self.vector_view(p, &want, e.span) {
                                return view;
                            }
                            if want == Ty::Error {
                                return Val::error();
                            }
                            // Name both element types: which views exist is
                            // documented in server/wgsl/README.md.
                            return self.error(
                                e.span,
                                format!(
                                    "pointer cast from `{from}` elements to `{}` elements cannot be expressed in WGSL: storage buffers have one element type, and this pair has no view",
                                    want.wgsl()
                                ),
                            );
                        }
                    }
                    return self.error(
                        e.span,
                        "pointer casts (such as `reinterpret_cast<float4*>`) cannot be expressed in WGSL: storage buffers have one element type",
                    );
                }
                // `(int)divisor` of a struct with `operator int()` (HeCBench
                // idivide's `int_fastdiv`): the conversion operator.
                let conversion = format!("operator{}", ty.display().replace(' ', ""));
                if ty.pointer == 0
                    && (self.m.model.functions.iter())
                        .any(|f| f.name.ends_with(&format!("::{conversion}")))
                {
                    let call = cudalens_syntax::ir::CallExpr {
                        callee: format!("object.{conversion}"),
                        template_args: Vec::new(),
                        args: Vec::new(),
                        receiver: Some(expr.clone()),
                        arrow: false,
                    };
                    if let Some(v) = self.method_call(&call, e.span, out) {
                        return v;
                    }
                }
                let v = self.expr(expr, out);
                // `(unsigned char)x`, `(short)x`: the value C's promotion
                // gives back, an `int` in the narrow type's range.
                let target = self.subst_type(ty);
                if target.pointer == 0
                    && let Some(k) = self.packed_of(&target, false)
                    && !k.boolean
                {
                    if v.is_error() {
                        return v;
                    }
                    return self.narrow(v, k, e.span);
                }
                let to = self.map_type(ty, e.span);
                if to == Ty::Void {
                    return Val::void();
                }
                self.explicit_cast(v, &to, e.span)
            }
            SizeofType(ty) => {
                let ty = self.subst_type(ty);
                match self.m.model.types.size_of(&ty) {
                    Some(n) => Val::konst(Konst::Int(n as i128), Scalar::U32),
                    None => self.error(e.span, format!("unknown size of `{}`", ty.display())),
                }
            }
            SizeofExpr(inner) if let ExprKind::Str(raw) = &inner.kind => {
                match cudalens_syntax::literals::c_string_bytes(raw) {
                    Some(bytes) => Val::konst(Konst::Int(bytes.len() as i128), Scalar::U32),
                    None => self.error(e.span, "cannot compute the `sizeof` of this string literal (only plain C strings are read)"),
                }
            }
            SizeofExpr(inner) => {
                // `sizeof(uint)`: the parser cannot tell a typedef name from
                // a variable; a name that is no variable but a type is one.
                if let ExprKind::Ident(n) = &inner.kind
                    && self.lookup(n).is_none()
                    && let Some(size) = self
                        .m
                        .model
                        .types
                        .size_of(&self.subst_type(&cudalens_syntax::ir::Type::named(n)))
                {
                    return Val::konst(Konst::Int(i128::from(size)), Scalar::U32);
                }
                // `sizeof(c)` of an array variable: the whole array, not the
                // pointer its value decays to (`sizeof(c) / sizeof(c[0])`).
                if let ExprKind::Ident(n) = &inner.kind
                    && let Some(Sym::Array { ty, atomic, .. }) = self.lookup(n)
                    && let Ty::Array(_, crate::types::ArrayLen::Fixed(_)) = ty
                {
                    let size = match atomic {
                        None => sizeof_ty(ty),
                        // 8/16-bit elements held one to an `i32`: C's bytes.
                        Some(AtomicRepr::Narrow(k) | AtomicRepr::Packed(k)) => {
                            let elements = crate::types::flat_len(ty);
                            Some(elements * u64::from(k.bits / 8) * u64::from(k.lanes))
                        }
                        Some(_) => None,
                    };
                    return match size {
                        Some(n) => Val::konst(Konst::Int(i128::from(n)), Scalar::U32),
                        None => self.error(e.span, "cannot compute this `sizeof`"),
                    };
                }
                let mut scratch = Vec::new();
                let v = self.expr(inner, &mut scratch);
                match sizeof_ty(&v.ty) {
                    Some(n) => Val::konst(Konst::Int(n as i128), Scalar::U32),
                    None => self.error(e.span, "cannot compute this `sizeof`"),
                }
            }
            InitList(_) => self.error(e.span, "initializer lists are only supported in declarations"),
            Designated { .. } => self.error(
                e.span,
                "a designated initializer (`.member = value`) is supported only in the initializer list of a struct",
            ),
            Comma(items) => {
                let Some((last, rest)) = items.split_last() else {
                    return self.error(e.span, "empty comma expression");
                };
                for item in rest {
                    self.expr_stmt(item, out);
                }
                self.expr(last, out)
            }
            Unknown(text) => match self.variable_template(text, e.span) {
                // Expanded as specializations are: one that reaches itself
                // (`template <typename A> const A X = X<A>;`) would never end.
                Some(init) => {
                    let key = format!("variable template {}", text.trim());
                    if self.m.in_progress.contains(&key)
                        || self.m.in_progress.len() >= crate::context::MAX_CALL_DEPTH
                    {
                        return self.error(
                            e.span,
                            format!("variable template `{}` is defined through itself", text.trim()),
                        );
                    }
                    self.m.in_progress.insert(key.clone());
                    let v = self.expr(&init, out);
                    self.m.in_progress.remove(&key);
                    v
                }
                None => self.unknown_expr(text, e.span),
            },
        }
    }

    /// `EMPTY<K, V>` of a constant variable template (`template <typename
    /// K, typename V> const K EMPTY = empty_key<K, V>();`): its initializer
    /// with the arguments written for its parameters, which C++ evaluates
    /// to the variable's one value. `None` for anything else.
    fn variable_template(&self, text: &str, span: Span) -> Option<Expr> {
        let model = self.m.model;
        let (name, args) = cudalens_syntax::types::template_instance(text)?;
        let params = model.variable_templates.get(name)?;
        let global = model.globals.iter().rev().find(|g| g.name == name)?;
        if !(global.ty.is_const || global.constexpr)
            || !global.dims.is_empty()
            || args.len() != params.len()
        {
            return None;
        }
        let mut init = global.init.clone()?;
        // The parameters' names replaced word by word in written types.
        let subst = |written: &str| -> String {
            cudalens_syntax::types::replace_words(written, |word| {
                (params.iter().position(|p| p.name == word)).map(|i| args[i].trim().to_string())
            })
        };
        init.walk_mut(&mut |e| {
            e.span = span;
            match &mut e.kind {
                ExprKind::Call(call) => {
                    for a in &mut call.template_args {
                        *a = subst(a);
                    }
                }
                ExprKind::Cast { ty, .. } => ty.base = subst(&ty.base),
                // A value parameter given a literal (`template <int N>
                // const int TWICE = 2 * N;`).
                ExprKind::Ident(n) => {
                    if let Some(i) = params.iter().position(|p| p.name == *n) {
                        match args[i].trim().parse::<i64>() {
                            Ok(value) => {
                                e.kind = ExprKind::Int {
                                    value,
                                    unsigned: false,
                                    long: false,
                                }
                            }
                            Err(_) => *n = args[i].trim().to_string(),
                        }
                    }
                }
                _ => {}
            }
        });
        Some(init)
    }

    fn unknown_expr(&mut self, text: &str, span: Span) -> Val {
        let t = text.trim_start();
        let msg = if t.starts_with("asm") {
            "inline PTX assembly cannot be expressed in WGSL".to_string()
        } else if t.starts_with('[') {
            "lambdas are not supported in WGSL".to_string()
        } else if t.starts_with("new ") {
            "dynamic allocation (`new`) is not supported in WGSL".to_string()
        } else {
            let short: String = t.chars().take(60).collect();
            format!("unsupported expression `{short}`")
        };
        self.error(span, msg)
    }

    fn int_literal(&mut self, value: i128, unsigned: bool, long: bool, span: Span) -> Val {
        let fits_i32 = i32::try_from(value).is_ok();
        let fits_u32 = u32::try_from(value).is_ok();
        let s = if long && self.m.opts.enable_int64 {
            self.m.needs.int64 = true;
            if unsigned { Scalar::U64 } else { Scalar::I64 }
        } else if unsigned && fits_u32 {
            Scalar::U32
        } else if fits_i32 && !unsigned {
            Scalar::I32
        } else if fits_u32 {
            // C would make a decimal literal past INT_MAX `long`; without
            // 64-bit integers the closest WGSL type is u32.
            Scalar::U32
        } else if self.m.opts.enable_int64 {
            self.m.needs.int64 = true;
            if unsigned { Scalar::U64 } else { Scalar::I64 }
        } else {
            return self.error(
                span,
                "integer literal does not fit in 32 bits (enable_int64 is off)",
            );
        };
        Val::konst(Konst::Int(value), s)
    }

    fn ident(&mut self, name: &str, span: Span) -> Val {
        match self.lookup(name).cloned() {
            Some(Sym::Value { wgsl, ty, .. }) => Val::atom(WExpr::ident(wgsl), ty),
            Some(Sym::Const(v)) => v,
            // A `__shared__` scalar or vector: its value.
            Some(Sym::Array {
                wgsl,
                ty,
                mutable,
                atomic,
                ..
            }) if ty.is_value() && ty != Ty::Error => self.read_place(&Place {
                expr: WExpr::ident(wgsl),
                ty,
                atomic,
                mutable,
            }),
            Some(Sym::Array {
                wgsl,
                ty,
                mutable,
                atomic,
                module_scope,
            }) => {
                // An array decays to a pointer to its first element.
                let elem = ty.element().cloned().unwrap_or(Ty::Error);
                Val::pointer(PtrVal {
                    base: wgsl.clone().into(),
                    elem,
                    atomic,
                    offset: None,
                    module_root: module_scope.then_some(wgsl),
                    mutable,
                    scalar_target: false,
                    rows: Vec::new(),
                })
            }
            Some(Sym::Pointer { view, .. }) => Val::pointer(view),
            Some(Sym::UnboundPointer { .. }) => self.error(
                span,
                format!("pointer `{name}` is used before it is assigned (it is declared without a value, and WGSL has no pointer variables)"),
            ),
            Some(Sym::Texture { .. }) => self.error(
                span,
                format!("the texture object `{name}` can only be read through `tex2D`, `tex3D`, `tex2DLayered` or `texCubemap`"),
            ),
            Some(Sym::Tile) => self.error(
                span,
                format!("the tile `{name}` can only be used through its methods (`sync`, `thread_rank`, `size`, `shfl*`, `any`, `all`, `ballot`, `meta_group_rank`)"),
            ),
            Some(Sym::ThreadBlock) => self.error(
                span,
                format!("the cooperative group `{name}` can only be used through its methods (`sync`, `thread_rank`, `size`) and `cg::sync`"),
            ),
            Some(Sym::Coalesced(_)) => self.error(
                span,
                format!("the coalesced group `{name}` can only be used through its methods (`thread_rank`, `size`, `sync`, `shfl` from rank 0) in the function that made it"),
            ),
            Some(Sym::Function(target)) => self.error(
                span,
                format!("`{name}` (the device function `{target}`) can only be called: function pointers cannot be expressed in WGSL"),
            ),
            None => match name {
                "threadIdx" => self.builtin(Builtin::ThreadIdx, None, span),
                "blockIdx" => self.builtin(Builtin::BlockIdx, None, span),
                "blockDim" => self.builtin(Builtin::BlockDim, None, span),
                "gridDim" => self.builtin(Builtin::GridDim, None, span),
                "INFINITY" | "CUDART_INF_F" => Val::konst(Konst::Float(f64::INFINITY), Scalar::F32),
                "NAN" | "CUDART_NAN_F" => Val::konst(Konst::Float(f64::NAN), Scalar::F32),
                // math_constants.h (the CUDA toolkit's; not on every
                // include path cudalens is given).
                "CUDART_PI_F" => Val::konst(Konst::Float(std::f64::consts::PI), Scalar::F32),
                "CUDART_PIO2_F" => {
                    Val::konst(Konst::Float(std::f64::consts::FRAC_PI_2), Scalar::F32)
                }
                "CUDART_PIO4_F" => {
                    Val::konst(Konst::Float(std::f64::consts::FRAC_PI_4), Scalar::F32)
                }
                "CUDART_2_OVER_PI_F" => {
                    Val::konst(Konst::Float(std::f64::consts::FRAC_2_PI), Scalar::F32)
                }
                "CUDART_SQRT_HALF_F" => {
                    Val::konst(Konst::Float(std::f64::consts::FRAC_1_SQRT_2), Scalar::F32)
                }
                "CUDART_SQRT_2_F" => Val::konst(Konst::Float(std::f64::consts::SQRT_2), Scalar::F32),
                "CUDART_L2E_F" => Val::konst(Konst::Float(std::f64::consts::LOG2_E), Scalar::F32),
                "CUDART_LN2_F" => Val::konst(Konst::Float(std::f64::consts::LN_2), Scalar::F32),
                "FLT_MAX" => Val::konst(Konst::Float(f32::MAX as f64), Scalar::F32),
                "FLT_MIN" => Val::konst(Konst::Float(f32::MIN_POSITIVE as f64), Scalar::F32),
                "INT_MAX" => Val::konst(Konst::Int(i32::MAX as i128), Scalar::I32),
                "INT_MIN" => Val::konst(Konst::Int(i32::MIN as i128), Scalar::I32),
                "UINT_MAX" | "UINT32_MAX" => Val::konst(Konst::Int(u32::MAX as i128), Scalar::U32),
                "INT32_MAX" => Val::konst(Konst::Int(i32::MAX as i128), Scalar::I32),
                "INT32_MIN" => Val::konst(Konst::Int(i32::MIN as i128), Scalar::I32),
                "FLT_EPSILON" => Val::konst(Konst::Float(f32::EPSILON as f64), Scalar::F32),
                // limits.h's narrow integers: `int` values, as C promotes them.
                "SHRT_MAX" | "INT16_MAX" => Val::konst(Konst::Int(i128::from(i16::MAX)), Scalar::I32),
                "SHRT_MIN" | "INT16_MIN" => Val::konst(Konst::Int(i128::from(i16::MIN)), Scalar::I32),
                "USHRT_MAX" | "UINT16_MAX" => Val::konst(Konst::Int(i128::from(u16::MAX)), Scalar::I32),
                "CHAR_MAX" | "SCHAR_MAX" | "INT8_MAX" => Val::konst(Konst::Int(127), Scalar::I32),
                "CHAR_MIN" | "SCHAR_MIN" | "INT8_MIN" => Val::konst(Konst::Int(-128), Scalar::I32),
                "UCHAR_MAX" | "UINT8_MAX" => Val::konst(Konst::Int(255), Scalar::I32),
                // float.h's and limits.h's 64-bit values: the 64-bit types
                // they are, or refused without them (never narrowed).
                "DBL_MAX" | "DBL_MIN" | "DBL_EPSILON" => {
                    if !self.m.opts.enable_f64 {
                        return self.error(
                            span,
                            format!("`{name}` is a `double`: it needs 64-bit floats (`--f64`, wgpu's SHADER_F64)"),
                        );
                    }
                    self.m.needs.f64 = true;
                    let v = match name {
                        "DBL_MAX" => f64::MAX,
                        "DBL_MIN" => f64::MIN_POSITIVE,
                        _ => f64::EPSILON,
                    };
                    Val::konst(Konst::Float(v), Scalar::F64)
                }
                // `long` is 64 bits, as on Linux (LP64), where nvcc's host is.
                "LLONG_MAX" | "INT64_MAX" | "LLONG_MIN" | "INT64_MIN" | "ULLONG_MAX"
                | "UINT64_MAX" | "LONG_MAX" | "LONG_MIN" | "ULONG_MAX" => {
                    if !self.m.opts.enable_int64 {
                        return self.error(
                            span,
                            format!("`{name}` is a 64-bit integer: it needs 64-bit integers (`--int64`, wgpu's SHADER_INT64)"),
                        );
                    }
                    self.m.needs.int64 = true;
                    match name {
                        "LLONG_MAX" | "INT64_MAX" | "LONG_MAX" => Val::konst(Konst::Int(i128::from(i64::MAX)), Scalar::I64),
                        "LLONG_MIN" | "INT64_MIN" | "LONG_MIN" => Val::konst(Konst::Int(i128::from(i64::MIN)), Scalar::I64),
                        _ => Val::konst(Konst::Int(i128::from(u64::MAX)), Scalar::U64),
                    }
                }
                // math.h's `double` constants: as an unsuffixed literal
                // (`f32` unless 64-bit floats are enabled).
                _ if let Some(v) = math_h_constant(name) => {
                    let s = if self.m.opts.enable_f64 {
                        self.m.needs.f64 = true;
                        Scalar::F64
                    } else {
                        Scalar::F32
                    };
                    Val::konst(Konst::Float(v), s)
                }
                _ => self.global(name, span),
            },
        }
    }

    /// `std::is_same<A, B>::value` / `std::is_same_v<A, B>` with the
    /// kernel's template arguments bound: whether the two are one C++
    /// type. `None` when `name` is no such trait; an error when a type is
    /// unknown (a guess could pick the wrong branch).
    fn type_trait(&mut self, name: &str, span: Span) -> Option<Val> {
        let bare = name.trim_start_matches("::").trim_start_matches("std::");
        let inner = match bare.strip_prefix("is_same_v<") {
            Some(rest) => rest.strip_suffix('>')?,
            None => bare.strip_prefix("is_same<")?.strip_suffix(">::value")?,
        };
        let args = crate::instantiate::split_top_level(inner);
        let [a, b] = args.as_slice() else {
            return None;
        };
        Some(match (self.canonical_type(a), self.canonical_type(b)) {
            (Some(a), Some(b)) => Val::konst(Konst::Bool(a == b), Scalar::Bool),
            _ => self.error(
                span,
                format!("`{name}`: cannot tell whether these are one type (a type is unknown)"),
            ),
        })
    }

    /// A written type as one spelling per C++ type: template arguments
    /// bound, typedefs resolved, `<stdint.h>`'s names as glibc defines
    /// them on Linux; `None` for a type the model does not know.
    fn canonical_type(&self, written: &str) -> Option<(String, u8)> {
        let written = written.trim();
        let pointer = written.chars().filter(|&c| c == '*').count();
        let base = cudalens_syntax::types::normalize_base(written.trim_end_matches(['*', ' ']));
        let ty = self.subst_type(&CType::named(&base));
        let ty = self.m.model.types.resolve(&ty);
        let base = cudalens_syntax::types::normalize_base(&ty.base);
        let base = match base.as_str() {
            "int32_t" => "int",
            "uint32_t" => "unsigned int",
            "int64_t" => "long",
            "uint64_t" | "size_t" => "unsigned long",
            "int16_t" => "short",
            "uint16_t" => "unsigned short",
            "int8_t" => "signed char",
            "uint8_t" => "unsigned char",
            "half" => "__half",
            other => other,
        }
        .to_string();
        self.m.model.types.size_of(&CType::named(&base))?;
        Some((base, ty.pointer + u8::try_from(pointer).ok()?))
    }

    /// File-scope names: integer constants and `const` scalars.
    fn global(&mut self, name: &str, span: Span) -> Val {
        if let Some(v) = self.type_trait(name, span) {
            return v;
        }
        // `AsianOption<Real>::Put`: an enumerator (or static constant) the
        // class template's own definition gives one value for every
        // instance; a class with specializations may differ: unknown.
        let unqualified = name.rfind(">::").and_then(|end| {
            let (qualifier, member) = (&name[..=end], &name[end + 3..]);
            let (class, _) = cudalens_syntax::types::template_instance(qualifier)?;
            (!self.m.model.specialized_classes.contains(class))
                .then(|| format!("{class}::{member}"))
        });
        if let Some(v) = (self.m.model.consts.get(name))
            .or_else(|| self.m.model.consts.get(unqualified.as_deref()?))
        {
            let s = if i32::try_from(*v).is_ok() {
                Scalar::I32
            } else {
                Scalar::U32
            };
            return Val::konst(Konst::Int(*v), s);
        }
        let model = self.m.model;
        if self.m.failed_globals.contains(name) {
            return Val::error();
        }
        if let Some(g) = model.globals.iter().find(|g| g.name == name) {
            if g.dims.is_empty()
                && g.ty.pointer == 0
                && (g.ty.is_const || g.constexpr)
                && let Some(init) = &g.init
            {
                let mut scratch = Vec::new();
                let v = self.expr(init, &mut scratch);
                // `constexpr auto N = 8;`: the initialiser's type.
                let v = if g.ty.base == "auto" {
                    v
                } else {
                    let ty = self.map_type(&g.ty, g.span);
                    self.convert(v, &ty, g.span)
                };
                if v.konst.is_some() {
                    return v;
                }
            }
            return self.error(
                span,
                format!("file-scope variable `{name}` (`__constant__`/`__device__` memory) cannot be used here: only scalars, vectors and fixed-size arrays of them named in a function body become bindings"),
            );
        }
        if self.m.model.function(name).is_some() {
            return self.error(
                span,
                format!("function pointers (`{name}`) cannot be expressed in WGSL"),
            );
        }
        if self.null_params.contains(name) {
            return self.error(
                span,
                format!("`{name}` is a null pointer in this call (the caller passes `nullptr`): only tests against null can be expressed (`if ({name})`, `{name} != nullptr`)"),
            );
        }
        self.error(span, format!("unknown identifier `{name}`"))
    }

    pub fn builtin(&mut self, b: Builtin, axis: Option<&str>, _span: Span) -> Val {
        let vec3 = Ty::Vector(Scalar::U32, 3);
        let whole = match b {
            Builtin::ThreadIdx => {
                self.m.uses.thread_idx = true;
                "thread_idx".to_string()
            }
            Builtin::BlockIdx => {
                self.m.uses.block_idx = true;
                "block_idx".to_string()
            }
            Builtin::GridDim => {
                self.m.uses.grid_dim = true;
                "grid_dim".to_string()
            }
            Builtin::BlockDim => {
                return match axis {
                    Some(a) => Val::atom(
                        WExpr::name(format!("BLOCK_DIM_{}", a.to_uppercase())),
                        Ty::U32,
                    ),
                    None => Val::atom(
                        WExpr::call(
                            "vec3<u32>",
                            ["X", "Y", "Z"]
                                .map(|a| WExpr::name(format!("BLOCK_DIM_{a}")))
                                .to_vec(),
                        ),
                        vec3,
                    ),
                };
            }
        };
        match axis {
            Some(a) => Val::atom(WExpr::member(WExpr::ident(whole), a), Ty::U32),
            None => Val::atom(WExpr::ident(whole), vec3),
        }
    }

    pub fn warp_size(&mut self) -> Val {
        if self.m.opts.subgroups {
            self.m.uses.warp_size = true;
            Val::atom(WExpr::name("warp_size"), Ty::I32)
        } else {
            Val::konst(Konst::Int(32), Scalar::I32)
        }
    }

    fn component(&mut self, base: Val, field: &str, span: Span) -> Val {
        match (&base.ty, field) {
            // The one lane of a 1-lane vector (`uchar1`, `float1`), which
            // is held as its scalar; C has no other `.x` of a scalar.
            (Ty::Scalar(_), "x") => base,
            (Ty::Vector(s, n), "x" | "y" | "z" | "w") => {
                let idx = "xyzw".find(field).unwrap_or(0) as u8;
                if idx >= *n {
                    return self.error(
                        span,
                        format!("`{}` has no component `{field}`", base.ty.wgsl()),
                    );
                }
                Val::atom(WExpr::member(base.postfix_expr(), field), Ty::Scalar(*s))
            }
            (Ty::Struct(name), _)
                if let Some(place) =
                    self.bitfield_place(&base.postfix_expr(), false, name, field) =>
            {
                self.read_place(&place)
            }
            (Ty::Struct(name), _) if let Some(found) = self.byte_member(name, field, span) => {
                let Ok((run, m)) = found else {
                    return Val::error();
                };
                if m.len != 1 {
                    return self.error(
                        span,
                        format!("the 8- or 16-bit array member `{field}` of a struct value: index it where the struct is a variable"),
                    );
                }
                let place = Place {
                    expr: WExpr::index(WExpr::member(base.postfix_expr(), run), lit(m.first)),
                    ty: m.packed.value_type(),
                    atomic: Some(AtomicRepr::MemberBytes {
                        packed: m.packed,
                        first: 0,
                        private: true,
                    }),
                    mutable: false,
                };
                self.read_place(&place)
            }
            (Ty::Struct(name), _) => match self.struct_field(name, field, span) {
                Some((member, ty)) => {
                    let member = WExpr::member(base.postfix_expr(), member);
                    if let Some(word) = self.union_bits(name)
                        && Ty::Scalar(word) != ty
                    {
                        Val::atom(WExpr::call(format!("bitcast<{}>", ty.wgsl()), vec![member]), ty)
                    } else if self.byte_bool(name, field) {
                        let byte = WExpr::binary(member, "&", WExpr::literal("0xffu"));
                        Val::new(
                            WExpr::binary(WExpr::paren(byte), "!=", WExpr::literal("0u")),
                            Ty::BOOL,
                            Prec::Rel,
                        )
                    } else if let Ty::Array(elem, crate::types::ArrayLen::Fixed(3)) = &ty
                        && self.triple(name, field)
                        && let Some(s) = elem.scalar()
                    {
                        let lane = |k: &str| WExpr::index(member.clone(), WExpr::literal(k));
                        Val::atom(
                            WExpr::call(format!("vec3<{}>", s.wgsl()), vec![lane("0"), lane("1"), lane("2")]),
                            Ty::Vector(s, 3),
                        )
                    } else {
                        Val::atom(member, ty)
                    }
                }
                None => Val::error(),
            },
            (Ty::Error, _) => Val::error(),
            _ => self.error(
                span,
                format!(
                    "member `{field}` of a `{}`: only vector components and struct members can be selected",
                    base.ty.wgsl()
                ),
            ),
        }
    }

    /// Whether `field` of the struct `name` is a 3-component vector held
    /// as three scalars (`types::triple_member`).
    fn triple(&self, name: &str, field: &str) -> bool {
        let types = &self.m.model.types;
        types.structs.get(name).is_some_and(|def| {
            (def.fields.iter())
                .any(|f| f.name == field && crate::types::triple_member(f, types, self.m.opts))
        })
    }

    /// Whether `field` of the struct `name` is a `bool` held in a word
    /// (`types::bool_in_word`).
    fn byte_bool(&self, name: &str, field: &str) -> bool {
        let types = &self.m.model.types;
        types.structs.get(name).is_some_and(|def| {
            (def.fields.iter())
                .any(|f| f.name == field && crate::types::bool_in_word(def, f, types))
        })
    }

    /// The WGSL member and type of `field` in the struct `name`.
    fn struct_field(&mut self, name: &str, field: &str, span: Span) -> Option<(String, Ty)> {
        let fields = match crate::types::struct_members(name, &self.m.model.types, self.m.opts) {
            Ok(f) => f,
            Err(e) => {
                self.m.error(span, e);
                return None;
            }
        };
        // A union's member is its one word, read as the member's type
        // (`union_bits`).
        if self.m.model.types.unions.contains(name) {
            let types = &self.m.model.types;
            let f = types
                .structs
                .get(name)?
                .fields
                .iter()
                .find(|f| f.name == field);
            let Some(f) = f else {
                self.m
                    .error(span, format!("union `{name}` has no member `{field}`"));
                return None;
            };
            let ty = crate::types::map_value_type(&f.ty, types, self.m.opts).ok()?;
            return Some((crate::types::UNION_BITS.to_string(), ty));
        }
        let types = &self.m.model.types;
        let pointer = types.structs.get(name).is_some_and(|def| {
            def.fields
                .iter()
                .any(|f| f.name == field && crate::types::pointer_member(f, types))
        });
        if pointer {
            self.m.error(
                span,
                format!("member `{field}` of struct `{name}` is a pointer: WGSL cannot follow pointers held in memory"),
            );
            return None;
        }
        match fields.into_iter().find(|(f, _)| f == field) {
            Some((f, ty)) => Some((crate::names::wgsl_ident(&f), ty)),
            None => {
                self.m
                    .error(span, format!("struct `{name}` has no member `{field}`"));
                None
            }
        }
    }

    /// `obj.m(args)` / `p->m(args)` where the object is a struct `S` whose
    /// member function `S::m` the file defines (the front end lowers it
    /// with a first parameter `S *this`, `syntax::model::methods`): the
    /// call `S::m(&obj, args)` (`S::m(args)` for a static one). `None`
    /// for any other call (cooperative groups' `cta.sync()`, ...).
    pub(crate) fn method_call(
        &mut self,
        call: &cudalens_syntax::ir::CallExpr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        // `payoff(s)` of a struct variable: its `operator()`.
        if call.receiver.is_none() {
            let name = call.callee.as_str();
            let ty = match self.lookup(name) {
                Some(Sym::Value { ty, .. }) => ty.clone(),
                // A struct parameter of the kernel (a read-only binding).
                Some(Sym::Array { ty, .. }) if ty.is_value() => ty.clone(),
                _ => return None,
            };
            let Ty::Struct(s) = ty else { return None };
            let qualified = format!("{s}::operator()");
            crate::analysis::device_function(self.m.model, &qualified)?;
            let obj = Expr::new(ExprKind::Ident(name.to_string()), span);
            let this = Expr::new(ExprKind::Unary(UnOp::AddrOf, Box::new(obj)), span);
            let args: Vec<Expr> = std::iter::once(this)
                .chain(call.args.iter().cloned())
                .collect();
            return Some(self.call(&qualified, &[], &args, span, out));
        }
        let obj = call.receiver.as_deref()?;
        let method = call.method()?;
        // `smem.getPointer()` of a `SharedMemory<T> smem`: the block's
        // dynamic shared memory it is bound to.
        if let ExprKind::Ident(name) = &obj.kind
            && call.args.is_empty()
            && self.shared_accessors.contains(name)
            && matches!(self.lookup(name), Some(Sym::Pointer { .. }))
        {
            return Some(self.ident(name, span));
        }
        // The object's struct, lowered on trial (its statements and
        // messages dropped; the call lowers it again).
        let diags = self.m.diags.len();
        let mut scratch = Vec::new();
        let ty = if call.arrow {
            self.pointer(obj, &mut scratch).map(|p| p.elem)
        } else {
            Some(self.expr(obj, &mut scratch).ty)
        };
        self.m.diags.truncate(diags);
        let Some(Ty::Struct(name)) = ty else {
            return None;
        };
        let qualified = format!("{name}::{method}");
        let f = crate::analysis::device_function(self.m.model, &qualified)?;
        let this_arg = match f.params.first() {
            Some(p) if p.name == "this" => Some(match call.arrow {
                true => obj.clone(),
                // `(a * b).real()`: the temporary a C++ compiler makes for
                // the call, a variable of its own.
                false if is_temporary(obj) && !self.returns_mutable_reference(obj) => {
                    let v = self.expr(obj, out);
                    if v.is_error() {
                        return Some(v);
                    }
                    let tmp = self.named_temporary(None, Some(v.expr), v.ty, true, obj.span, out);
                    Expr::new(ExprKind::Unary(UnOp::AddrOf, Box::new(tmp.0)), obj.span)
                }
                false => Expr {
                    kind: ExprKind::Unary(UnOp::AddrOf, Box::new(obj.clone())),
                    span: obj.span,
                    from_macro: obj.from_macro,
                },
            }),
            _ => None,
        };
        let args: Vec<Expr> = this_arg
            .into_iter()
            .chain(call.args.iter().cloned())
            .collect();
        Some(self.call(&qualified, &call.template_args, &args, span, out))
    }

    /// Whether `e` calls a device function declared to return a non-const
    /// reference (`S &pick(...)`): what it names is an object, not a
    /// temporary a method may change unseen.
    fn returns_mutable_reference(&self, e: &Expr) -> bool {
        let ExprKind::Call(call) = &e.kind else {
            return false;
        };
        // By the name alone (`a.get()`, `ns::get()`): any such function of
        // that name keeps the call refused.
        let name = call
            .callee
            .rsplit([':', '.', '>'])
            .next()
            .unwrap_or("")
            .trim();
        (self.m.model.functions.iter())
            .any(|f| f.returns_reference && !f.ret.is_const && f.name == name)
    }

    /// The constructor `S::S` of the struct `name` the file defines for
    /// `arity` arguments (`syntax::model::methods`).
    pub(crate) fn constructor_of(&self, name: &str, arity: usize) -> Option<String> {
        let qualified = format!("{name}::{name}");
        let found = self.m.model.functions.iter().any(|f| {
            f.name == qualified
                && f.body.is_some()
                && f.callable_from_device()
                && f.accepts_arguments(arity + 1)
        });
        found.then_some(qualified)
    }

    /// `S(a, b)` of a struct whose constructor the file defines (a local
    /// `S s(a, b);`, a temporary, `S s = {a, b};`): a new variable, zero,
    /// then `S::S(&tmp, a, b)`; its value. `None` when `S` has no such
    /// constructor.
    pub(crate) fn construct(
        &mut self,
        name: &str,
        args: &[Expr],
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let ctor = self.constructor_of(name, args.len())?;
        let ty = Ty::Struct(name.to_string());
        self.note_type(&ty);
        let (object, tmp) =
            self.named_temporary(Some(ty.wgsl()), None, ty.clone(), true, span, out);
        let this = Expr::new(ExprKind::Unary(UnOp::AddrOf, Box::new(object)), span);
        let args: Vec<Expr> = std::iter::once(this).chain(args.iter().cloned()).collect();
        let v = self.call(&ctor, &[], &args, span, out);
        if v.is_error() {
            return Some(v);
        }
        if !v.text().is_empty() {
            out.push(WStmt::Eval(v.expr));
        }
        Some(Val::atom(tmp, ty))
    }

    /// A new WGSL variable (`var`, or `let` where not `mutable`) of the
    /// WGSL type `wgsl_ty` or set to `init`, and a C expression naming
    /// it, for a temporary C++ makes (an object under construction, the
    /// receiver of a method called on a value); with its WGSL name.
    fn named_temporary(
        &mut self,
        wgsl_ty: Option<String>,
        init: Option<WExpr>,
        ty: Ty,
        mutable: bool,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> (Expr, String) {
        let tmp = self.fresh(if mutable { "object" } else { "value" });
        let keyword = if mutable { "var" } else { "let" };
        out.push(WStmt::decl(keyword, tmp.clone(), wgsl_ty, init));
        // `@` keeps the C name apart from anything the source can spell.
        let c_name = format!("{tmp}@temporary");
        self.declare(
            &c_name,
            Sym::Value {
                wgsl: tmp.clone(),
                ty,
                mutable,
            },
        );
        (Expr::new(ExprKind::Ident(c_name), span), tmp)
    }

    /// `s = 0.0f` of a struct `S` whose one-argument constructor takes the
    /// value (C++'s converting constructor): `S(v)`, built as `construct`
    /// builds it. `None` where `v` is already an `S` or `S` has no such
    /// constructor.
    pub(crate) fn convert_by_constructor(
        &mut self,
        v: &Val,
        to: &Ty,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let Ty::Struct(name) = to else {
            return None;
        };
        if v.ty == *to || v.is_error() || v.ptr.is_some() {
            return None;
        }
        self.constructor_of(name, 1)?;
        let (arg, _) =
            self.named_temporary(None, Some(v.expr.clone()), v.ty.clone(), false, span, out);
        self.construct(&name.clone(), &[arg], span, out)
    }

    /// Whether a store to `place` can be expressed: an 8- or 16-bit struct
    /// member only where the struct is the thread's own variable (storing
    /// rewrites its whole word, which in shared memory would overwrite a
    /// neighbouring member another thread is writing).
    pub(crate) fn can_store(&mut self, place: &Place, span: Span) -> bool {
        if let Some(AtomicRepr::MemberBytes { private: false, .. }) = place.atomic {
            self.m.error(
                span,
                "a store to an 8- or 16-bit member of a struct in a buffer or `__shared__` memory is not supported: WGSL stores whole 32-bit words, and another thread may be writing a neighbouring member of the same word (copy the struct to a local variable, or store the whole struct)",
            );
            return false;
        }
        true
    }

    /// Whether the struct `e` names is this thread's own variable (a
    /// local, or an element of a local array), not memory other threads
    /// reach.
    fn is_private_root(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Ident(name) => match self.lookup(name) {
                Some(Sym::Value { .. }) => true,
                Some(Sym::Array { module_scope, .. }) => !module_scope,
                _ => false,
            },
            ExprKind::Member {
                base, arrow: false, ..
            }
            | ExprKind::Index(base, _) => self.is_private_root(base),
            _ => false,
        }
    }

    /// The WGSL field holding `field` of the struct `name` and where in it,
    /// when `field` is an 8- or 16-bit member (`types::byte_runs`); an
    /// error when the struct cannot be expressed.
    fn byte_member(
        &mut self,
        name: &str,
        field: &str,
        span: Span,
    ) -> Option<Result<(String, crate::types::ByteMember), ()>> {
        let types = &self.m.model.types;
        let runs = crate::types::byte_runs(types.structs.get(name)?, types).ok()?;
        let m = *runs.member(field)?;
        if let Err(e) = crate::types::struct_members(name, types, self.m.opts) {
            self.m.error(span, e);
            return Some(Err(()));
        }
        Some(Ok((crate::names::wgsl_ident(&runs.runs[m.run].field), m)))
    }

    /// Member `field` of `base`, a place holding a struct `name` (`s.f`,
    /// `p->f`): assignable where the struct is. `private`: the struct is
    /// this thread's own variable (see `AtomicRepr::MemberBytes`).
    fn member_place(
        &mut self,
        base: &Place,
        name: &str,
        field: &str,
        private: bool,
        span: Span,
    ) -> Option<Place> {
        if let Some(AtomicRepr::Members { .. }) = base.atomic {
            // `table[slot].key` of atomically updated elements.
            let members = self.members_of(&base.ty);
            let Some(k) = members
                .iter()
                .position(|(m, _)| *m == crate::names::wgsl_ident(field))
            else {
                self.m
                    .error(span, format!("struct `{name}` has no member `{field}`"));
                return None;
            };
            return Some(self.member_lane(base, k));
        }
        if let Some(place) = self.bitfield_place(&base.expr, base.mutable, name, field) {
            return Some(place);
        }
        if let Some(found) = self.byte_member(name, field, span) {
            let (run, m) = found.ok()?;
            let packed = m.packed;
            let run = WExpr::member(base.expr.clone(), run);
            let (expr, ty, first) = if m.len == 1 {
                (WExpr::index(run, lit(m.first)), packed.value_type(), 0)
            } else {
                let len = u32::try_from(m.len).unwrap_or(u32::MAX);
                let ty = Ty::Array(
                    Box::new(packed.value_type()),
                    crate::types::ArrayLen::Fixed(len),
                );
                (run, ty, m.first)
            };
            return Some(Place {
                expr,
                ty,
                atomic: Some(AtomicRepr::MemberBytes {
                    packed,
                    first,
                    private,
                }),
                mutable: base.mutable,
            });
        }
        let (member, ty) = self.struct_field(name, field, span)?;
        if let Ty::Array(elem, crate::types::ArrayLen::Fixed(3)) = &ty
            && self.triple(name, field)
            && let Some(s) = elem.scalar()
        {
            return Some(Place {
                expr: WExpr::member(base.expr.clone(), member),
                ty: Ty::Vector(s, 3),
                atomic: Some(AtomicRepr::Triple),
                mutable: base.mutable,
            });
        }
        if let Some(word) = self.union_bits(name) {
            // A union member: the union's word, its bits `bitcast` on
            // every read and write.
            return Some(Place {
                expr: WExpr::member(base.expr.clone(), member),
                atomic: (Ty::Scalar(word) != ty).then_some(AtomicRepr::Bits(word)),
                ty,
                mutable: base.mutable,
            });
        }
        let byte_bool = self.byte_bool(name, field);
        Some(Place {
            expr: WExpr::member(base.expr.clone(), member),
            ty: if byte_bool { Ty::BOOL } else { ty },
            atomic: byte_bool.then_some(AtomicRepr::ByteBool),
            mutable: base.mutable,
        })
    }

    /// The place of member `field` of struct `name` at `base` (its text)
    /// when the member is held in bits of a word (`AtomicRepr::BitField`).
    fn bitfield_place(
        &self,
        base: &WExpr,
        mutable: bool,
        name: &str,
        field: &str,
    ) -> Option<Place> {
        let types = &self.m.model.types;
        let b = types.bitfield(name, field)?;
        // A union is held in its one word.
        let unit = match types.unions.contains(name) {
            true => crate::types::UNION_BITS.to_string(),
            false => crate::names::wgsl_ident(&b.unit),
        };
        Some(Place {
            expr: WExpr::member(base.clone(), unit),
            ty: if b.signed || b.width < 32 {
                Ty::I32
            } else {
                Ty::U32
            },
            atomic: Some(AtomicRepr::BitField {
                offset: u8::try_from(b.offset).ok()?,
                width: u8::try_from(b.width).ok()?,
                signed: b.signed,
            }),
            mutable,
        })
    }

    /// The word the union `name` is held in; `None` for a struct.
    pub(crate) fn union_bits(&self, name: &str) -> Option<Scalar> {
        let types = &self.m.model.types;
        if !types.unions.contains(name) {
            return None;
        }
        crate::types::union_word(types.structs.get(name)?, types, self.m.opts).ok()
    }

    pub(crate) fn explicit_cast(&mut self, v: Val, to: &Ty, span: Span) -> Val {
        if v.ty == *to || v.is_error() {
            return v;
        }
        match (&v.ty, to) {
            (Ty::Scalar(_), Ty::Scalar(_)) | (Ty::Vector(..), Ty::Vector(..)) => {
                self.convert(v, to, span)
            }
            _ => self.error(
                span,
                format!("cannot cast `{}` to `{}`", v.ty.wgsl(), to.wgsl()),
            ),
        }
    }

    // ---- operators ------------------------------------------------------------

    /// `*reinterpret_cast<unsigned int *>(&i)` of a local scalar `i`: its
    /// bits read as another scalar type of the same width (`bitcast`).
    /// `None` for any other dereference.
    fn local_bits_view(&mut self, a: &Expr, out: &mut Vec<WStmt>) -> Option<Val> {
        let ExprKind::Cast { ty, expr, .. } = &a.kind else {
            return None;
        };
        let ExprKind::Unary(UnOp::AddrOf, target) = &expr.kind else {
            return None;
        };
        let name = target.as_ident()?;
        if ty.pointer != 1 || !matches!(self.lookup(name), Some(Sym::Value { .. })) {
            return None;
        }
        let diags = self.m.diags.len();
        let to = self.map_type(&ty.pointee(), a.span);
        let v = self.expr(target, out);
        self.m.diags.truncate(diags);
        match (&v.ty, &to) {
            (Ty::Scalar(from), Ty::Scalar(want))
                if from.bits() == want.bits() && *from != Scalar::Bool && *want != Scalar::Bool =>
            {
                Some(Val::atom(
                    WExpr::call(format!("bitcast<{}>", want.wgsl()), vec![v.expr.clone()]),
                    to.clone(),
                ))
            }
            _ => None,
        }
    }

    fn unary(&mut self, op: UnOp, a: &Expr, e: &Expr, out: &mut Vec<WStmt>) -> Val {
        let symbol = match op {
            UnOp::Neg => Some("-"),
            UnOp::BitNot => Some("~"),
            UnOp::Not => Some("!"),
            _ => None,
        };
        if let Some(symbol) = symbol
            && let Some(v) = self.user_operator(symbol, &[a], e.span, out)
        {
            return v;
        }
        match op {
            UnOp::Deref if let Some(v) = self.local_bits_view(a, out) => v,
            UnOp::Deref => match self.place(e, out) {
                Some(p) => self.read_place(&p),
                None => Val::error(),
            },
            UnOp::AddrOf => match self.pointer(e, out) {
                Some(p) => Val::pointer(p),
                None => Val::error(),
            },
            UnOp::Plus => {
                let v = self.expr(a, out);
                let t = promote(&v.ty);
                self.convert(v, &t, e.span)
            }
            UnOp::Not => {
                let b = self.condition(a, out);
                if let Some(k) = b.konst {
                    return Val::konst(Konst::Bool(!k.truthy()), Scalar::Bool);
                }
                Val::new(
                    WExpr::unary("!", b.operand_expr(UNARY_OK)),
                    Ty::BOOL,
                    Prec::Unary,
                )
            }
            UnOp::Neg | UnOp::BitNot => {
                let v = self.expr(a, out);
                let t = promote(&v.ty);
                let v = self.convert(v, &t, e.span);
                let Some(s) = t.scalar() else {
                    return if v.is_error() {
                        v
                    } else {
                        self.error(e.span, "operand is not a number")
                    };
                };
                if op == UnOp::BitNot && !s.is_int() {
                    return self.error(e.span, "`~` needs an integer operand");
                }
                if let Some(k) = v.konst {
                    let folded = match (op, k) {
                        (UnOp::Neg, Konst::Float(f)) => Konst::Float(-f),
                        (UnOp::Neg, k) => Konst::Int(wrap_int(k.as_int().wrapping_neg(), s)),
                        (_, k) => Konst::Int(wrap_int(!k.as_int(), s)),
                    };
                    return Val::konst(folded, s);
                }
                if op == UnOp::Neg && matches!(s, Scalar::U32 | Scalar::U64) {
                    // WGSL has no unary minus on unsigned integers; C wraps.
                    let zero = Val::konst(Konst::Int(0), s);
                    return Val::atom(
                        WExpr::paren(WExpr::binary(zero.expr, "-", v.operand_expr(MUL_OK))),
                        t,
                    );
                }
                let sym = if op == UnOp::Neg { "-" } else { "~" };
                Val::new(WExpr::unary(sym, v.operand_expr(UNARY_OK)), t, Prec::Unary)
            }
        }
    }

    fn binary_expr(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        if matches!(op, BinOp::LogAnd | BinOp::LogOr) {
            return self.short_circuit(op, a, b, span, out);
        }
        if matches!(op, BinOp::Eq | BinOp::Ne)
            && let Some(is_null) = self.null_test(a, b).or_else(|| self.null_test(b, a))
        {
            return if op == BinOp::Eq {
                Val::atom(is_null, Ty::BOOL)
            } else {
                Val::new(
                    WExpr::unary("!", WExpr::name(is_null)),
                    Ty::BOOL,
                    Prec::Unary,
                )
            };
        }
        if matches!(op, BinOp::Add | BinOp::Sub) && self.is_pointer_expr(a) {
            return match self.pointer_arith(op, a, b, span, out) {
                Some(p) => Val::pointer(p),
                None => Val::error(),
            };
        }
        if let Some(v) = self.address_residue(op, a, b, span, out) {
            return v;
        }
        if let Some(v) = self.user_operator(op.as_str(), &[a, b], span, out) {
            return v;
        }
        let l = self.expr(a, out);
        let r = self.expr(b, out);
        self.binary(op, l, r, span)
    }

    /// `reinterpret_cast<uintptr_t>(p) % 16` or `(size_t)p & 15` (HeCBench
    /// fma's test before a `float4` access): the residue of the address,
    /// from `p`'s byte offset in its array. The array's first element is
    /// taken to sit at a multiple of 256, what `cudaMalloc` gives (and one
    /// placement of a `__shared__` or local array the program must work
    /// with: a test of alignment exists because any may occur). Only a
    /// power-of-two modulus up to 256; any other use of an address as a
    /// number stays refused.
    fn address_residue(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let ExprKind::Cast { ty, expr, .. } = &a.kind else {
            return None;
        };
        if ty.pointer > 0 || !self.is_pointer_expr(expr) {
            return None;
        }
        let ExprKind::Int { value, .. } = b.kind else {
            return None;
        };
        let modulus = match op {
            BinOp::Rem => value,
            BinOp::BitAnd => value.checked_add(1)?,
            _ => return None,
        };
        if !(2..=256).contains(&modulus) || modulus.count_ones() != 1 {
            return None;
        }
        let to = self.map_type(ty, a.span);
        if !to.scalar().is_some_and(|s| s.is_int()) {
            return None;
        }
        let p = self.pointer(expr, out)?;
        // The offset counts elements of the pointer's own type (a view's).
        let size = match (&p.elem, p.atomic) {
            (Ty::Scalar(s), None | Some(AtomicRepr::Bits(_))) => s.size(),
            (
                Ty::Vector(s, n @ (2 | 4)),
                None | Some(AtomicRepr::Lanes(_) | AtomicRepr::LanesBits(..)),
            ) => s.size() * u64::from(*n),
            _ => return None,
        };
        if !p.rows.is_empty() {
            return None;
        }
        let offset = match p.offset {
            Some(o) => self.convert(*o, &Ty::U32, span),
            None => Val::konst(Konst::Int(0), Scalar::U32),
        };
        let bytes = Val::konst(Konst::Int(i128::from(size)), Scalar::U32);
        let bytes = self.binary(BinOp::Mul, offset, bytes, span);
        let m = Val::konst(Konst::Int(i128::from(modulus)), Scalar::U32);
        let residue = self.binary(BinOp::Rem, bytes, m, span);
        Some(self.convert(residue, &to, span))
    }

    /// `p == NULL` of a kernel pointer parameter `p` the kernel never
    /// reassigns (llm.c's `bias != NULL`, `mean != nullptr`): the override
    /// that says whether the host passed `NULL` (the WGSL buffer always
    /// exists), stated in a warning. `None`: not such a test.
    fn null_test(&mut self, pointer: &Expr, null: &Expr) -> Option<String> {
        let name = pointer.as_ident()?;
        // A parameter this specialization received as null (`Arg::Null`).
        if self.null_params.contains(name)
            && crate::analysis::is_null_literal(null)
            && self.lookup(name).is_none()
        {
            return Some("true".to_string());
        }
        if !self.is_kernel
            || !crate::analysis::is_null_literal(null)
            || self.assigned.contains(name)
        {
            return None;
        }
        let f = self.m.model.function(&self.function)?;
        if !f.params.iter().any(|p| p.name == name && p.ty.pointer > 0) {
            return None;
        }
        if let Some(o) = self.m.null_overrides.get(name) {
            return Some(o.clone());
        }
        let o = self
            .m
            .module_name(&format!("{}_IS_NULL", crate::names::wgsl_ident(name)));
        self.m.null_overrides.insert(name.to_string(), o.clone());
        self.m.warning(
            pointer.span,
            format!("`{name}` compared with NULL: the override `{o}` says whether the host passed NULL (false unless the runner sets it: it binds a buffer for every pointer parameter)"),
        );
        Some(o)
    }

    /// `l op r` with C's conversions (no side effects involved).
    pub fn binary(&mut self, op: BinOp, l: Val, r: Val, span: Span) -> Val {
        if l.is_error() || r.is_error() {
            return Val::error();
        }
        if l.ptr.is_some() || r.ptr.is_some() {
            return self.error(
                span,
                "pointer comparison or arithmetic here cannot be expressed in WGSL",
            );
        }
        if !l.ty.is_value() || !r.ty.is_value() {
            return self.error(span, "operands must be numbers");
        }
        // C++ calls an operator the file defines for a struct
        // (`user_operator`); none was found for these operands.
        if let Some(Ty::Struct(s)) = [&l.ty, &r.ty]
            .into_iter()
            .find(|t| matches!(t, Ty::Struct(_)))
        {
            return self.error(
                span,
                format!(
                    "`{}` on a `{s}`: no `operator{}` of the file takes these operands",
                    op.as_str(),
                    op.as_str()
                ),
            );
        }
        use BinOp::*;
        match op {
            Shl | Shr => {
                let t = promote(&l.ty);
                let l = self.convert(l, &t, span);
                let Some(s) = t.scalar().filter(|s| s.is_int()) else {
                    return self.error(span, "shift of a non-integer");
                };
                let amount_ty = t.with_scalar(Scalar::U32);
                let r = self.convert(r, &amount_ty, span);
                if let (Some(a), Some(b)) = (l.konst, r.konst) {
                    let (a, b) = (a.as_int(), b.as_int() as u32 % s.bits());
                    let v = if op == Shl {
                        a.wrapping_shl(b)
                    } else if s.is_signed_int() {
                        a >> b
                    } else {
                        wrap_int(a, s) >> b
                    };
                    return Val::konst(Konst::Int(wrap_int(v, s)), s);
                }
                let sym = op.as_str();
                Val::new(
                    WExpr::binary(l.operand_expr(UNARY_OK), sym, r.operand_expr(UNARY_OK)),
                    t,
                    Prec::Shift,
                )
            }
            Eq | Ne | Lt | Gt | Le | Ge => {
                let t = common_type(&l.ty, &r.ty);
                let l = self.convert(l, &t, span);
                let r = self.convert(r, &t, span);
                if let (Some(a), Some(b)) = (l.konst, r.konst) {
                    let ord = if t.scalar().is_some_and(|s| s.is_float()) {
                        a.as_float().partial_cmp(&b.as_float())
                    } else {
                        Some(a.as_int().cmp(&b.as_int()))
                    };
                    if let Some(ord) = ord {
                        use std::cmp::Ordering::*;
                        let v = match op {
                            Eq => ord == Equal,
                            Ne => ord != Equal,
                            Lt => ord == Less,
                            Gt => ord == Greater,
                            Le => ord != Greater,
                            _ => ord != Less,
                        };
                        return Val::konst(Konst::Bool(v), Scalar::Bool);
                    }
                }
                if matches!(t, Ty::Vector(..)) {
                    return self.error(span, "comparison of vectors");
                }
                // `j < n >> 3u` is a template `j<n>` to WGSL's parser (as
                // `iter < n >> 3` was to tree-sitter's): the right side
                // in parentheses.
                let mut right = r.operand_expr(REL_OK);
                if matches!(op, Lt | Le) && right.to_string().contains('>') {
                    right = WExpr::paren(right);
                }
                Val::new(
                    WExpr::binary(l.operand_expr(REL_OK), op.as_str(), right),
                    Ty::BOOL,
                    Prec::Rel,
                )
            }
            _ => {
                let t = common_type(&l.ty, &r.ty);
                let l = self.convert(l, &t, span);
                let r = self.convert(r, &t, span);
                let Some(s) = t.scalar() else {
                    return Val::error();
                };
                let bitwise = matches!(op, BitAnd | BitOr | BitXor);
                if bitwise && !s.is_int() {
                    return self.error(span, format!("`{}` needs integer operands", op.as_str()));
                }
                if matches!(op, Div | Rem) && s.is_int() && r.konst.is_some_and(|k| k.as_int() == 0)
                {
                    // WGSL rejects a constant zero divisor at shader creation; C leaves it undefined.
                    return self.error(span, "integer division by a constant zero");
                }
                if let (Some(a), Some(b)) = (l.konst, r.konst)
                    && let Some(k) = fold_arith(op, a, b, s)
                {
                    return Val::konst(k, s);
                }
                let sym = op.as_str();
                let (expr, prec) = match op {
                    Mul | Div | Rem => (
                        WExpr::binary(l.operand_expr(MUL_OK), sym, r.operand_expr(UNARY_OK)),
                        Prec::Mul,
                    ),
                    Add | Sub => (
                        WExpr::binary(l.operand_expr(ADD_OK), sym, r.operand_expr(MUL_OK)),
                        Prec::Add,
                    ),
                    _ => {
                        let prec = match op {
                            BitAnd => Prec::BitAnd,
                            BitOr => Prec::BitOr,
                            _ => Prec::BitXor,
                        };
                        let left = l.operand_expr(&[Prec::Primary, Prec::Unary, prec]);
                        (WExpr::binary(left, sym, r.operand_expr(UNARY_OK)), prec)
                    }
                };
                Val::new(expr, t, prec)
            }
        }
    }

    /// `a && b` / `a || b`; a side-effecting right operand runs only when
    /// C would run it.
    fn short_circuit(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Val {
        let l = self.condition(a, out);
        let mut rhs_stmts = Vec::new();
        let r = self.condition(b, &mut rhs_stmts);
        let (prec, sym) = if op == BinOp::LogAnd {
            (Prec::LogAnd, "&&")
        } else {
            (Prec::LogOr, "||")
        };
        if rhs_stmts.is_empty() {
            if let (Some(x), Some(y)) = (l.konst, r.konst) {
                let v = if op == BinOp::LogAnd {
                    x.truthy() && y.truthy()
                } else {
                    x.truthy() || y.truthy()
                };
                return Val::konst(Konst::Bool(v), Scalar::Bool);
            }
            let rel: Vec<Prec> = vec![
                Prec::Primary,
                Prec::Unary,
                Prec::Mul,
                Prec::Add,
                Prec::Shift,
                Prec::Rel,
            ];
            let mut left_ok = rel.clone();
            left_ok.push(prec);
            return Val::new(
                WExpr::binary(l.operand_expr(&left_ok), sym, r.operand_expr(&rel)),
                Ty::BOOL,
                prec,
            );
        }
        let _ = span;
        let t = self.fresh("cond");
        out.push(WStmt::decl(
            "var",
            t.clone(),
            Some("bool".to_string()),
            Some(l.expr.clone()),
        ));
        rhs_stmts.push(WStmt::assign(WExpr::from(t.clone()), r.expr.clone()));
        let guard = if op == BinOp::LogAnd {
            WExpr::name(&t)
        } else {
            WExpr::unary("!", WExpr::name(&t))
        };
        out.push(WStmt::If {
            cond: guard,
            then: rhs_stmts,
            els: vec![],
        });
        Val::atom(t, Ty::BOOL)
    }

    /// Whether `cond` holds when it only tests a pointer parameter this
    /// call received as null (`p`, `!p`, `p == nullptr`, `p != NULL`):
    /// `Some(false)` for `p` and `p != nullptr`, `Some(true)` for their
    /// negations; `None` for any other condition.
    pub(crate) fn null_param_test(&self, cond: &Expr) -> Option<bool> {
        let is_null_param = |e: &Expr| {
            e.without_casts()
                .as_ident()
                .is_some_and(|n| self.null_params.contains(n) && self.lookup(n).is_none())
        };
        match &cond.without_casts().kind {
            _ if is_null_param(cond) => Some(false),
            ExprKind::Unary(UnOp::Not, inner) => self.null_param_test(inner).map(|b| !b),
            ExprKind::Binary(op @ (BinOp::Eq | BinOp::Ne), a, b)
                if (is_null_param(a) && crate::analysis::is_null_literal(b))
                    || (is_null_param(b) && crate::analysis::is_null_literal(a)) =>
            {
                Some(*op == BinOp::Eq)
            }
            _ => None,
        }
    }

    fn ternary(&mut self, c: &Expr, a: &Expr, b: &Expr, span: Span, out: &mut Vec<WStmt>) -> Val {
        if let Some(holds) = self.null_param_test(c) {
            return self.expr(if holds { a } else { b }, out);
        }
        let cond = self.condition(c, out);
        let mut sa = Vec::new();
        let mut sb = Vec::new();
        let va = self.expr(a, &mut sa);
        let vb = self.expr(b, &mut sb);
        if va.is_error() || vb.is_error() || cond.is_error() {
            return Val::error();
        }
        if va.ptr.is_some() || vb.ptr.is_some() {
            return self.error(
                span,
                "choosing between pointers cannot be expressed in WGSL",
            );
        }
        let t = common_type(&va.ty, &vb.ty);
        let va = self.convert(va, &t, a.span);
        let vb = self.convert(vb, &t, b.span);
        // `select` takes scalars and vectors only: a struct or array is
        // chosen by a branch.
        let selectable = matches!(t, Ty::Scalar(_) | Ty::Vector(..));
        if sa.is_empty() && sb.is_empty() && (selectable || cond.konst.is_some()) {
            if let Some(k) = cond.konst {
                return if k.truthy() { va } else { vb };
            }
            // Both sides are free of side effects: evaluating both is unobservable.
            return Val::atom(
                WExpr::call(
                    "select",
                    vec![vb.expr.clone(), va.expr.clone(), cond.expr.clone()],
                ),
                t,
            );
        }
        let tmp = self.fresh("pick");
        out.push(WStmt::decl("var", tmp.clone(), Some(t.wgsl()), None));
        sa.push(WStmt::assign(WExpr::from(tmp.clone()), va.expr.clone()));
        sb.push(WStmt::assign(WExpr::from(tmp.clone()), vb.expr.clone()));
        out.push(WStmt::If {
            cond: cond.expr.clone(),
            then: sa,
            els: sb,
        });
        Val::atom(tmp, t)
    }

    // ---- side effects -----------------------------------------------------------

    /// A statement-level expression: assignments and calls become statements.
    pub fn expr_stmt(&mut self, e: &Expr, out: &mut Vec<WStmt>) {
        if self.misparsed_tile_decl(e) {
            return;
        }
        match &e.kind {
            ExprKind::Assign(op, target, value) => {
                self.assign(*op, target, value, e.span, out);
            }
            ExprKind::IncDec {
                increment, target, ..
            } => {
                self.incdec(*increment, true, target, e.span, out, false);
            }
            ExprKind::Comma(items) => {
                for item in items {
                    self.expr_stmt(item, out);
                }
            }
            ExprKind::Call(call) => {
                self.result_discarded = true;
                let v = match self.method_call(call, e.span, out) {
                    Some(v) => v,
                    None => self.call(&call.callee, &call.template_args, &call.args, e.span, out),
                };
                self.result_discarded = false;
                if v.is_error() || v.text().is_empty() {
                    return;
                }
                // A discarded result without side effects (a pure call, or an
                // emulated atomic already emitted above) needs no statement.
                if v.ty == Ty::Void || self.last_call_effectful(&v) {
                    out.push(WStmt::Eval(v.expr));
                }
            }
            ExprKind::Cast { ty, expr, .. } if ty.base == "void" && ty.pointer == 0 => {
                self.expr_stmt(expr, out);
            }
            _ => {
                let v = self.expr(e, out);
                if !v.is_error() && v.ty != Ty::Void && v.ptr.is_none() && !v.is_simple() {
                    out.push(WStmt::Phony(v.expr));
                }
            }
        }
    }

    /// Performs `target op= value`; returns the place for re-reading.
    pub fn assign(
        &mut self,
        op: Option<BinOp>,
        target: &Expr,
        value: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Place> {
        if let Some(name) = target.as_ident()
            && let Some(Sym::Pointer { view, offset_var }) = self.lookup(name).cloned()
        {
            self.assign_pointer(name, view, offset_var, op, value, span, out);
            return None;
        }
        if let Some(name) = target.as_ident()
            && let Some(Sym::UnboundPointer { ty, offset_var }) = self.lookup(name).cloned()
        {
            if op.is_some() {
                self.m.error(
                    span,
                    format!("pointer `{name}` is moved before it is assigned"),
                );
                return None;
            }
            self.bind_pointer(name, &ty, offset_var, value, span, out);
            return None;
        }
        if let Some(op) = op
            && let Some(done) = self.user_compound_operator(op.as_str(), target, value, span, out)
        {
            return done;
        }
        let place = self.place(target, out)?;
        if !place.mutable {
            self.m
                .error(target.span, "assignment to a read-only location");
            return None;
        }
        if !self.can_store(&place, target.span) {
            return None;
        }
        if !place.ty.is_value() {
            self.m
                .error(target.span, "assignment to a whole array is not supported");
            return None;
        }
        if op.is_none() && matches!(value.kind, ExprKind::InitList(_)) {
            // `v = {a, b}`: a value of the place's type built from the list,
            // as a declaration's initializer is.
            let v = self.initializer(value, &place.ty, out)?;
            self.write_place(&place, v, out);
            return Some(place);
        }
        let rhs = self.expr(value, out);
        if rhs.is_error() {
            return None;
        }
        match op {
            None => {
                // A float into an 8/16-bit place converts as the GPU does
                // (saturated: `narrow`), not through a wrapping `i32`.
                let v = match (place.atomic, rhs.ty.scalar()) {
                    (
                        Some(
                            AtomicRepr::Packed(k)
                            | AtomicRepr::Narrow(k)
                            | AtomicRepr::MemberBytes { packed: k, .. },
                        ),
                        Some(Scalar::F16 | Scalar::F32 | Scalar::F64),
                    ) if !k.boolean && k.lanes == 1 && matches!(rhs.ty, Ty::Scalar(_)) => {
                        self.narrow(rhs, k, span)
                    }
                    _ => match self.convert_by_constructor(&rhs, &place.ty, span, out) {
                        Some(v) => v,
                        None => self.convert(rhs, &place.ty, span),
                    },
                };
                self.write_place(&place, v, out);
            }
            Some(op) => {
                if let Some(repr) = place.atomic
                    && !repr.is_part_of_word()
                    && !repr.is_view()
                {
                    let name = match op {
                        BinOp::Add => "atomicAdd",
                        BinOp::Sub => "atomicSub",
                        BinOp::BitAnd => "atomicAnd",
                        BinOp::BitOr => "atomicOr",
                        BinOp::BitXor => "atomicXor",
                        _ => "",
                    };
                    if !name.is_empty() {
                        self.atomic_rmw(name, &place, repr, rhs, span, out, false);
                        return Some(place);
                    }
                }
                let is_shift = matches!(op, BinOp::Shl | BinOp::Shr);
                let rhs_for_compound = if is_shift {
                    self.convert(rhs.clone(), &place.ty.with_scalar(Scalar::U32), span)
                } else {
                    self.convert(rhs.clone(), &place.ty, span)
                };
                let same_type = is_shift
                    || common_type(&place.ty, &rhs.ty) == place.ty
                    || rhs.konst.is_some() && place.ty.is_numeric_scalar();
                let integer_only = matches!(
                    op,
                    BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Rem
                );
                let is_int = place.ty.scalar().is_some_and(|s| s.is_int());
                let compound_ok = place.atomic.is_none()
                    && same_type
                    && place.ty == promote(&place.ty)
                    && (is_int || !integer_only);
                if matches!(op, BinOp::Div | BinOp::Rem)
                    && place.ty.scalar().is_some_and(|s| s.is_int())
                    && rhs_for_compound.konst.is_some_and(|k| k.as_int() == 0)
                {
                    self.m.error(span, "integer division by a constant zero");
                    return None;
                }
                if compound_ok && !rhs_for_compound.is_error() {
                    out.push(WStmt::Assign {
                        target: place.expr.clone(),
                        op: compound_assignment(op),
                        value: rhs_for_compound.expr,
                    });
                } else {
                    let cur = self.read_place(&place);
                    let r = self.binary(op, cur, rhs, span);
                    let v = self.convert(r, &place.ty, span);
                    self.write_place(&place, v, out);
                }
            }
        }
        Some(place)
    }

    /// Stores an already lowered `value` at `target` (an out-parameter of a
    /// builtin such as `sincosf`), converted to the place's type.
    pub fn store_value(&mut self, target: &Expr, value: Val, span: Span, out: &mut Vec<WStmt>) {
        let Some(place) = self.place(target, out) else {
            return;
        };
        if !place.mutable || !place.ty.is_value() {
            self.m.error(
                span,
                "the result cannot be stored there (a read-only location or a whole array)",
            );
            return;
        }
        let v = self.convert(value, &place.ty, span);
        self.write_place(&place, v, out);
    }

    /// `p = base + k;`, the first assignment of a pointer declared without
    /// a value: `p` becomes a view of `base` whose offset variable (declared
    /// with `p`) is set here; later assignments move it within `base`. The
    /// array must be one named variable (a view of `tile[r]` would read
    /// `r` anew at every use).
    fn bind_pointer(
        &mut self,
        name: &str,
        ty: &CType,
        offset_var: String,
        value: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) {
        let Some(mut view) = self.pointer(value, out) else {
            return;
        };
        if !is_named_array(&view) {
            self.m.error(
                span,
                format!("pointer `{name}` is declared without a value and then pointed into `{}`: only a named array can be bound later", view.base),
            );
            return;
        }
        if view.scalar_target {
            self.m.error(span, "a pointer to a scalar cannot move");
            return;
        }
        if !self.view_fits(ty, &view, span) {
            return;
        }
        if ty.is_const {
            view.mutable = false;
        }
        self.point_at(name, view, offset_var, span, out);
    }

    /// `name` becomes the movable view `view`, its offset variable
    /// `offset_var` set here to the view's offset.
    pub(crate) fn point_at(
        &mut self,
        name: &str,
        mut view: PtrVal,
        offset_var: String,
        span: Span,
        out: &mut Vec<WStmt>,
    ) {
        let start = self.offset_start(&mut view, &offset_var, span);
        out.push(WStmt::assign(WExpr::from(offset_var.clone()), start));
        self.redeclare(
            name,
            Sym::Pointer {
                view,
                offset_var: Some(offset_var),
            },
        );
    }

    /// The offset `view` starts at (an `i32`), handed to the offset
    /// variable `var`: the view reads `var` from now on.
    pub(crate) fn offset_start(&mut self, view: &mut PtrVal, var: &str, span: Span) -> WExpr {
        let start = view
            .offset
            .take()
            .map(|o| *o)
            .unwrap_or_else(|| Val::konst(Konst::Int(0), Scalar::I32));
        let start = self.convert(start, &Ty::I32, span);
        view.offset = Some(Box::new(Val::atom(var.to_string(), Ty::I32)));
        start.expr
    }

    /// Whether a pointer declared `ty` can be `view` (same element type, or
    /// an 8/16-bit view of an array of that type); else the error is
    /// reported.
    pub(crate) fn view_fits(&mut self, ty: &CType, view: &PtrVal, span: Span) -> bool {
        // `short *p = block + off` into an 8/16-bit array of the same type:
        // the view already narrows (or packs) its stores.
        let narrow_view = self
            .packed_of(&ty.pointee(), false)
            .filter(|k| !k.boolean)
            .is_some_and(|k| match view.atomic {
                Some(AtomicRepr::Narrow(v) | AtomicRepr::Packed(v)) => {
                    (v.bits, v.signed, v.lanes) == (k.bits, k.signed, k.lanes)
                }
                _ => false,
            });
        if ty.base != "auto" && ty.base != "void" && !narrow_view {
            let want = self.map_type(&ty.pointee(), span);
            if want != Ty::Error && want != view.elem {
                self.m.error(span, "pointer casts cannot be expressed in WGSL: storage buffers have one element type");
                return false;
            }
        }
        true
    }

    /// `p = q + n`, `p += n`, `p++` on a pointer variable: moves its offset.
    #[allow(clippy::too_many_arguments)]
    fn assign_pointer(
        &mut self,
        name: &str,
        view: PtrVal,
        offset_var: Option<String>,
        op: Option<BinOp>,
        value: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) {
        let Some(var) = offset_var else {
            self.m
                .error(span, format!("pointer `{name}` cannot be reassigned here"));
            return;
        };
        let new_offset = match op {
            None => {
                let Some(p) = self.pointer(value, out) else {
                    return;
                };
                if p.base != view.base {
                    if self.can_rebind(&view, &p, span) {
                        self.point_at(name, p, var, span, out);
                        return;
                    }
                    self.m.error(
                        span,
                        format!("pointer `{name}` would change arrays: only offsets within one array can be expressed in WGSL"),
                    );
                    return;
                }
                p.offset
                    .map(|o| *o)
                    .unwrap_or_else(|| Val::konst(Konst::Int(0), Scalar::I32))
            }
            Some(op @ (BinOp::Add | BinOp::Sub)) => {
                let by = self.expr(value, out);
                let cur = Val::atom(var.clone(), Ty::I32);
                self.binary(op, cur, by, span)
            }
            Some(_) => {
                self.m.error(span, "unsupported pointer arithmetic");
                return;
            }
        };
        let v = self.convert(new_offset, &Ty::I32, span);
        out.push(WStmt::assign(WExpr::from(var.clone()), v.expr.clone()));
    }

    /// `++x`, `x--`, ...; in an expression the value is hoisted to a `let`.
    pub fn incdec(
        &mut self,
        increment: bool,
        prefix: bool,
        target: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
        want_value: bool,
    ) -> Val {
        let op = if increment { BinOp::Add } else { BinOp::Sub };
        if let Some(name) = target.as_ident()
            && matches!(self.lookup(name), Some(Sym::Pointer { .. }))
        {
            let one = Expr::new(
                ExprKind::Int {
                    value: 1,
                    unsigned: false,
                    long: false,
                },
                span,
            );
            if want_value {
                return self.error(
                    span,
                    "pointer increments inside expressions are not supported",
                );
            }
            self.assign(Some(op), target, &one, span, out);
            return Val::void();
        }
        let Some(place) = self.place(target, out) else {
            return Val::error();
        };
        if !place.mutable {
            return self.error(target.span, "increment of a read-only location");
        }
        if !self.can_store(&place, target.span) {
            return Val::error();
        }
        let Some(s) = place
            .ty
            .scalar()
            .filter(|_| matches!(place.ty, Ty::Scalar(_)))
        else {
            return self.error(target.span, "increment of a non-scalar");
        };
        let one = Val::konst(
            Konst::Int(1),
            if s == Scalar::Bool { Scalar::I32 } else { s },
        );
        if let Some(repr) = place.atomic
            && !repr.is_part_of_word()
            && !repr.is_view()
        {
            let name = if increment { "atomicAdd" } else { "atomicSub" };
            let old = self.atomic_rmw(name, &place, repr, one.clone(), span, out, want_value);
            if !want_value {
                return Val::void();
            }
            return if prefix {
                self.binary(op, old, one, span)
            } else {
                old
            };
        }
        let old = if want_value && !prefix {
            let cur = self.read_place(&place);
            let name = self.fresh("old");
            out.push(WStmt::decl(
                "let",
                name.clone(),
                None,
                Some(cur.expr.clone()),
            ));
            Some(Val::atom(name, place.ty.clone()))
        } else {
            None
        };
        if s.is_int() && place.atomic.is_none() {
            out.push(WStmt::Increment {
                target: place.expr.clone(),
                op: if increment { "++" } else { "--" },
            });
        } else {
            let cur = self.read_place(&place);
            let v = self.binary(op, cur, one, span);
            let v = self.convert(v, &place.ty, span);
            self.write_place(&place, v, out);
        }
        match old {
            Some(v) => v,
            None if want_value => self.read_place(&place),
            None => Val::void(),
        }
    }

    /// C leaves `a[i] = i++` undefined; rather than pick an order, refuse.
    /// A nested modification of `v` may not share the expression with any
    /// other use of `v` (its own operands excepted: `s = s + 1` is fine).
    pub fn check_unsequenced(&mut self, e: &Expr) {
        let mut modifications: Vec<(&Expr, String)> = Vec::new();
        collect_modifications(e, e, &mut modifications);
        for (m, name) in modifications {
            if count_uses_outside(e, m, &name) > 0 {
                self.m.error(
                    e.span,
                    format!("`{name}` is modified and used again in the same expression (unsequenced in C); split the statement"),
                );
                return;
            }
        }
    }

    // ---- places and pointers --------------------------------------------------------

    fn is_place_expr(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Ident(n) => matches!(self.lookup(n), Some(Sym::Value { .. })),
            ExprKind::Index(..) => true,
            ExprKind::Unary(UnOp::Deref, _) => true,
            ExprKind::Member { base, .. } => self.is_place_expr(base),
            _ => false,
        }
    }

    /// Whether `e` denotes a pointer (syntactically, from the declarations in scope).
    pub fn is_pointer_expr(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Ident(n) => match self.lookup(n) {
                Some(Sym::Pointer { .. }) => true,
                Some(Sym::Array { ty, .. }) => !matches!(ty, Ty::Scalar(_) | Ty::Vector(..)),
                _ => false,
            },
            ExprKind::Unary(UnOp::AddrOf, _) => true,
            ExprKind::Index(base, _) | ExprKind::Unary(UnOp::Deref, base) => {
                self.row_depth(base) > 0
            }
            ExprKind::Member { base, field, arrow } => self.is_member_buffer(base, field, *arrow),
            ExprKind::Binary(BinOp::Add | BinOp::Sub, a, _) => self.is_pointer_expr(a),
            ExprKind::Cast { ty, .. } => ty.pointer > 0,
            _ => false,
        }
    }

    /// How many array dimensions the pointer `e` still has to step
    /// through (`PtrVal::rows`): 2 for `w`, 1 for `w[i]` of `float
    /// w[][5][5]`; 0 for anything else.
    fn row_depth(&self, e: &Expr) -> usize {
        match &e.kind {
            ExprKind::Ident(n) => match self.lookup(n) {
                Some(Sym::Pointer { view, .. }) => view.rows.len(),
                _ => 0,
            },
            ExprKind::Index(base, _) | ExprKind::Unary(UnOp::Deref, base) => {
                self.row_depth(base).saturating_sub(1)
            }
            ExprKind::Binary(BinOp::Add | BinOp::Sub, a, _) => self.row_depth(a),
            _ => 0,
        }
    }

    /// Lowers an lvalue.
    pub fn place(&mut self, e: &Expr, out: &mut Vec<WStmt>) -> Option<Place> {
        match &e.kind {
            ExprKind::Ident(name) => match self.lookup(name).cloned() {
                Some(Sym::Value { wgsl, ty, mutable }) => Some(Place {
                    expr: WExpr::ident(wgsl),
                    ty,
                    atomic: None,
                    mutable,
                }),
                Some(Sym::Array {
                    wgsl,
                    ty,
                    mutable,
                    atomic,
                    ..
                }) if ty.is_value() => Some(Place {
                    expr: WExpr::ident(wgsl),
                    ty,
                    atomic,
                    mutable,
                }),
                Some(_) => {
                    self.m
                        .error(e.span, format!("`{name}` is not assignable here"));
                    None
                }
                None => {
                    let v = self.ident(name, e.span);
                    if !v.is_error() {
                        self.m.error(e.span, format!("`{name}` is not assignable"));
                    }
                    None
                }
            },
            ExprKind::Index(base, index) => {
                let idx = self.expr(index, out);
                let idx = self.index_value(idx, index.span);
                if let Some(bp) = self.array_place(base, out) {
                    // WGSL rejects constant out-of-bounds indices at shader creation.
                    if let (Some(k), Ty::Array(_, crate::types::ArrayLen::Fixed(len))) =
                        (idx.konst, &bp.ty)
                        && !(0..i128::from(*len)).contains(&k.as_int())
                    {
                        self.m.error(
                            index.span,
                            format!(
                                "constant index {} is out of bounds (array of {len})",
                                k.as_int()
                            ),
                        );
                        return None;
                    }
                    // `w5[-1]` on a kernel buffer (HeCBench's prna, whose
                    // host passes `w5 = base + 1`): a WGSL buffer starts at
                    // its binding, and naga rejects a negative constant.
                    if let (Some(k), Ty::RuntimeArray(_)) = (idx.konst, &bp.ty)
                        && k.as_int() < 0
                    {
                        self.m.error(
                            index.span,
                            format!(
                                "constant index {} is before the start of the buffer: a WGSL buffer begins at its binding (an argument pointing into an allocation cannot be expressed)",
                                k.as_int()
                            ),
                        );
                        return None;
                    }
                    let elem = bp.ty.element().cloned().unwrap_or(Ty::Error);
                    // An 8- or 16-bit array member: its elements start
                    // `first` elements into the struct's byte run.
                    if let Some(AtomicRepr::MemberBytes {
                        packed,
                        first,
                        private,
                    }) = bp.atomic
                    {
                        let index = match first {
                            0 => idx.expr,
                            _ => WExpr::binary(
                                WExpr::literal(first.to_string()),
                                "+",
                                idx.operand_expr(&[Prec::Primary, Prec::Unary, Prec::Mul]),
                            ),
                        };
                        return Some(Place {
                            expr: WExpr::index(bp.expr, index),
                            ty: elem,
                            atomic: Some(AtomicRepr::MemberBytes {
                                packed,
                                first: 0,
                                private,
                            }),
                            mutable: bp.mutable,
                        });
                    }
                    return Some(Place {
                        expr: WExpr::index(bp.expr, idx.expr),
                        ty: elem,
                        atomic: bp.atomic,
                        mutable: bp.mutable,
                    });
                }
                let p = self.pointer(base, out)?;
                Some(self.deref(p, Some(idx), e.span))
            }
            ExprKind::Unary(UnOp::Deref, inner) => {
                let p = self.pointer(inner, out)?;
                Some(self.deref(p, None, e.span))
            }
            ExprKind::Member {
                base,
                field,
                arrow: false,
            } => {
                let bp = self.place(base, out)?;
                let private = self.is_private_root(base);
                self.select_member(bp, field, private, e.span)
            }
            ExprKind::Member {
                base,
                field,
                arrow: true,
            } => {
                // `p->f`: the member of the element `p` points at.
                let p = self.pointer(base, out)?;
                // `&local`, a method's `this` on a local: a whole variable
                // of the thread's own (a row of a `__shared__` array also
                // has no module root, but is no scalar target).
                let private = p.module_root.is_none() && p.scalar_target;
                let bp = self.deref(p, None, e.span);
                // `s->x` on a pointer to a vector (`float4 *s = ss + j;`).
                if let Ty::Vector(..) = bp.ty {
                    return self.select_member(bp, field, private, e.span);
                }
                let Ty::Struct(name) = &bp.ty else {
                    if bp.ty != Ty::Error {
                        self.m.error(
                            e.span,
                            format!(
                                "`->{field}` on a pointer to `{}`, not to a struct",
                                bp.ty.wgsl()
                            ),
                        );
                    }
                    return None;
                };
                let name = name.clone();
                self.member_place(&bp, &name, field, private, e.span)
            }
            _ => {
                let v = self.expr(e, out);
                if !v.is_error() {
                    self.m.error(e.span, "expression is not assignable");
                }
                None
            }
        }
    }

    /// The place of an array (not decayed) for indexing: `tile`, `tile[r]`.
    fn array_place(&mut self, e: &Expr, out: &mut Vec<WStmt>) -> Option<Place> {
        match &e.kind {
            ExprKind::Ident(n) => match self.lookup(n).cloned() {
                Some(Sym::Array {
                    wgsl,
                    ty,
                    mutable,
                    atomic,
                    ..
                }) if ty.element().is_some() => Some(Place {
                    expr: WExpr::ident(wgsl),
                    ty,
                    atomic,
                    mutable,
                }),
                _ => None,
            },
            ExprKind::Index(inner, _) if self.is_array_valued(inner) => {
                let p = self.place(e, out)?;
                p.ty.element().is_some().then_some(p)
            }
            // An array member of a struct (`view.m[i]`, `p->m[i]`, a row
            // `p->e[i]` of `e[3][3]`), when the struct is a place;
            // otherwise no array (the caller says why).
            ExprKind::Member { .. } | ExprKind::Index(..) => {
                let diags = self.m.diags.len();
                let mut scratch = Vec::new();
                match self.place(e, &mut scratch) {
                    Some(p) if matches!(p.ty, Ty::Array(..)) => {
                        out.extend(scratch);
                        Some(p)
                    }
                    _ => {
                        self.m.diags.truncate(diags);
                        None
                    }
                }
            }
            _ => None,
        }
    }

    fn is_array_valued(&self, e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Ident(n) => {
                matches!(self.lookup(n), Some(Sym::Array { ty, .. }) if ty.element().is_some())
            }
            ExprKind::Index(inner, _) => self.is_array_valued(inner),
            _ => false,
        }
    }

    fn index_value(&mut self, idx: Val, span: Span) -> Val {
        match idx.ty {
            Ty::Scalar(Scalar::I32 | Scalar::U32) | Ty::Error => idx,
            Ty::Scalar(Scalar::Bool) => self.convert(idx, &Ty::I32, span),
            // WGSL indexes with 32-bit integers, and no WGSL array has 2^32
            // elements: every in-bounds 64-bit index fits a u32 exactly (a
            // negative one wraps to a large u32 and stays out of bounds,
            // where the bounds clamps catch it; one of 2^32 or more, beyond
            // any WGSL buffer, would wrap). i32 would turn 2^31..2^32 into
            // negative indices.
            Ty::Scalar(Scalar::I64 | Scalar::U64) => {
                Val::atom(WExpr::call("u32", vec![idx.expr.clone()]), Ty::U32)
            }
            _ => self.error(span, "array index must be an integer"),
        }
    }

    /// The member `field` of the place `bp` (`v.x`, `s.f`, `p->x`): a vector
    /// component or a struct member, in whatever representation the place
    /// has (packed bytes, spread lanes, ...). `private`: `bp` is a whole
    /// variable of the thread's own.
    fn select_member(
        &mut self,
        bp: Place,
        field: &str,
        private: bool,
        span: Span,
    ) -> Option<Place> {
        match (&bp.ty, field) {
            // The one lane of a 1-lane vector (`uchar1`): the scalar itself.
            (Ty::Scalar(_), "x") => Some(bp),
            // A component of a packed `uchar4` buffer element is the
            // byte 4 * i + lane of the buffer (C's layout, and
            // `pack4xU8`'s): an 8-bit packed element of the same
            // words, stored without disturbing the other lanes.
            (Ty::Vector(_, n), "x" | "y" | "z" | "w")
                if let Some(AtomicRepr::Packed(k)) = bp.atomic
                    && ("xyzw".find(field).unwrap_or(0) as u8) < *n =>
            {
                let lane = "xyzw".find(field).unwrap_or(0);
                let Some((base, index)) = element_parts(&bp.expr) else {
                    self.m.error(
                                span,
                                "a component of a packed vector element that is not a buffer element is not supported",
                            );
                    return None;
                };
                Some(Place {
                    expr: WExpr::index(
                        base,
                        WExpr::binary(
                            WExpr::binary(
                                WExpr::call("u32", vec![index]),
                                "*",
                                lit(format!("{n}u")),
                            ),
                            "+",
                            lit(format!("{lane}u")),
                        ),
                    ),
                    ty: Ty::I32,
                    atomic: Some(AtomicRepr::Packed(k.lane())),
                    mutable: bp.mutable,
                })
            }
            (Ty::Vector(s, 3), "x" | "y" | "z") if bp.atomic == Some(AtomicRepr::Triple) => {
                let lane = "xyz".find(field).unwrap_or(0);
                Some(Place {
                    expr: WExpr::index(bp.expr.clone(), lit(lane)),
                    ty: Ty::Scalar(*s),
                    atomic: None,
                    mutable: bp.mutable,
                })
            }
            (Ty::Vector(s, 4), "x" | "y" | "z" | "w") if bp.atomic == Some(AtomicRepr::Pairs) => {
                let lane = "xyzw".find(field).unwrap_or(0);
                let (base, index) = self.view_parts(&bp.expr, span)?;
                Some(Place {
                    expr: WExpr::index(lane_of(&base, 2, &index, lane / 2), lit(lane % 2)),
                    ty: Ty::Scalar(*s),
                    atomic: None,
                    mutable: bp.mutable,
                })
            }
            (Ty::Vector(s, n), "x" | "y" | "z" | "w")
                if let Some(AtomicRepr::Lanes(lanes) | AtomicRepr::LanesBits(lanes, _)) =
                    bp.atomic
                    && ("xyzw".find(field).unwrap_or(0) as u8) < *n =>
            {
                let lane = "xyzw".find(field).unwrap_or(0);
                let (base, index) = self.view_parts(&bp.expr, span)?;
                Some(Place {
                    expr: lane_of(&base, lanes, &index, lane),
                    ty: Ty::Scalar(*s),
                    // The lane's bits, in the array's own scalar type.
                    atomic: match bp.atomic {
                        Some(AtomicRepr::LanesBits(_, stored)) => Some(AtomicRepr::Bits(stored)),
                        _ => None,
                    },
                    mutable: bp.mutable,
                })
            }
            // A component of a vector held as another scalar's bits.
            (Ty::Vector(s, n), "x" | "y" | "z" | "w")
                if let Some(AtomicRepr::Bits(stored)) = bp.atomic
                    && ("xyzw".find(field).unwrap_or(0) as u8) < *n =>
            {
                Some(Place {
                    expr: bp.expr.clone(),
                    ty: Ty::Scalar(*s),
                    atomic: Some(AtomicRepr::BitsLane {
                        stored,
                        lanes: *n,
                        lane: "xyzw".find(field).unwrap_or(0) as u8,
                    }),
                    mutable: bp.mutable,
                })
            }
            (Ty::Vector(_, _), "x" | "y" | "z" | "w") if bp.atomic.is_some_and(|r| r.is_view()) => {
                self.m.error(
                    span,
                    "a component of a vector read through a pointer cast is not supported here: read the vector whole first",
                );
                None
            }
            (Ty::Vector(s, n), "x" | "y" | "z" | "w")
                if ("xyzw".find(field).unwrap_or(0) as u8) < *n =>
            {
                Some(Place {
                    expr: WExpr::member(bp.expr.clone(), field),
                    ty: Ty::Scalar(*s),
                    // A component of a narrow vector narrows too.
                    atomic: match bp.atomic {
                        Some(AtomicRepr::Narrow(k)) => Some(AtomicRepr::Narrow(k.lane())),
                        _ => None,
                    },
                    mutable: bp.mutable,
                })
            }
            (Ty::Struct(name), _) => {
                let name = name.clone();
                self.member_place(&bp, &name, field, private, span)
            }
            (Ty::Error, _) => None,
            _ => {
                self.m.error(
                            span,
                            format!(
                                "member `{field}` of a `{}`: only vector components and struct members can be selected",
                                bp.ty.wgsl()
                            ),
                        );
                None
            }
        }
    }

    /// The members of the struct `ty` as WGSL names them, with their types.
    fn members_of(&self, ty: &Ty) -> Vec<(String, Ty)> {
        let Ty::Struct(name) = ty else {
            return Vec::new();
        };
        crate::types::struct_fields(name, &self.m.model.types, self.m.opts, 0)
            .map(|f| {
                f.into_iter()
                    .map(|(m, t)| (crate::names::wgsl_ident(&m), t))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Member `k` of an element held as `AtomicRepr::Members`: its atomic.
    fn member_lane(&self, p: &Place, k: usize) -> Place {
        let ty = (self.members_of(&p.ty).get(k))
            .map(|(_, t)| t.clone())
            .unwrap_or(Ty::Error);
        Place {
            expr: WExpr::index(p.expr.clone(), WExpr::literal(k.to_string())),
            ty,
            atomic: p.atomic.and_then(AtomicRepr::member),
            mutable: p.mutable,
        }
    }

    /// The element `p[index]` (or `*p`).
    pub(crate) fn deref(&mut self, p: PtrVal, index: Option<Val>, span: Span) -> Place {
        if !p.rows.is_empty() {
            self.m.error(
                span,
                "a whole row of a multidimensional array is used as a value: only its elements can be read or written",
            );
            return Place {
                expr: lit(0),
                ty: Ty::Error,
                atomic: None,
                mutable: false,
            };
        }
        if p.scalar_target {
            if index
                .as_ref()
                .is_some_and(|i| i.konst.map(|k| k.as_int()) != Some(0))
                || p.offset.is_some()
            {
                self.m.error(
                    span,
                    "indexing through the address of a scalar is not supported",
                );
            }
            return Place {
                expr: p.base,
                ty: p.elem,
                atomic: p.atomic,
                mutable: p.mutable,
            };
        }
        if let Some(k) = index
            .as_ref()
            .and_then(|i| i.konst)
            .filter(|k| k.as_int() < 0)
            && p.offset.is_none()
        {
            self.m
                .error(span, format!("negative constant index {}", k.as_int()));
        }
        let idx = match (p.offset, index) {
            (None, None) => Val::konst(Konst::Int(0), Scalar::I32),
            (Some(o), None) => *o,
            (None, Some(i)) => i,
            (Some(o), Some(i)) => {
                let sum = self.binary(BinOp::Add, *o, i, span);
                self.index_value(sum, span)
            }
        };
        if let Some(AtomicRepr::Spread(n) | AtomicRepr::SpreadBits(n, _)) = p.atomic {
            // Lane `i % n` of vector `i / n` (an index into valid memory
            // is not negative, so both are C's), its bits for `SpreadBits`.
            let i = idx.operand_expr(&[Prec::Primary]);
            let bits = match p.atomic {
                Some(AtomicRepr::SpreadBits(_, stored)) => Some(AtomicRepr::Bits(stored)),
                _ => None,
            };
            let vector = WExpr::index(p.base, WExpr::binary(i.clone(), "/", lit(n)));
            return Place {
                expr: WExpr::index(vector, WExpr::binary(i, "%", lit(n))),
                ty: p.elem,
                atomic: bits,
                mutable: p.mutable,
            };
        }
        Place {
            expr: WExpr::index(p.base, idx.expr),
            ty: p.elem,
            atomic: p.atomic,
            mutable: p.mutable,
        }
    }

    /// Lowers an expression that denotes a pointer.
    pub fn pointer(&mut self, e: &Expr, out: &mut Vec<WStmt>) -> Option<PtrVal> {
        match &e.kind {
            ExprKind::Ident(_) => {
                let v = self.expr(e, out);
                if v.is_error() {
                    return None;
                }
                match v.ptr {
                    Some(p) => Some(*p),
                    None => {
                        self.m.error(e.span, "expected a pointer or an array");
                        None
                    }
                }
            }
            ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), a, b) if self.is_pointer_expr(a) => {
                self.pointer_arith(*op, a, b, e.span, out)
            }
            // `w[i]` of a `float w[][5][5]`: the row, a pointer again.
            ExprKind::Index(base, index) if self.row_depth(base) > 0 => {
                let p = self.pointer(base, out)?;
                let idx = self.expr(index, out);
                let mut row = self.offset_pointer(p, BinOp::Add, idx, e.span);
                row.rows.remove(0);
                Some(row)
            }
            // `*w`: its first row.
            ExprKind::Unary(UnOp::Deref, inner) if self.row_depth(inner) > 0 => {
                let mut row = self.pointer(inner, out)?;
                row.rows.remove(0);
                Some(row)
            }
            ExprKind::Unary(UnOp::AddrOf, inner) => match &inner.kind {
                ExprKind::Index(base, index) => {
                    if let Some(bp) = self.array_place(base, out) {
                        if let Some(AtomicRepr::MemberBytes { .. }) = bp.atomic {
                            self.m.error(
                                e.span,
                                "a pointer into an 8- or 16-bit array member of a struct is not supported (its elements share the struct's 32-bit words)",
                            );
                            return None;
                        }
                        let idx = self.expr(index, out);
                        let idx = self.index_value(idx, index.span);
                        let elem = bp.ty.element().cloned().unwrap_or(Ty::Error);
                        let module_root = match self.lookup_root(base) {
                            Some((name, true)) => Some(name),
                            _ => None,
                        };
                        return Some(PtrVal {
                            base: bp.expr.clone(),
                            elem,
                            atomic: bp.atomic,
                            offset: Some(Box::new(idx)),
                            module_root,
                            mutable: bp.mutable,
                            scalar_target: false,
                            rows: Vec::new(),
                        });
                    }
                    let p = self.pointer(base, out)?;
                    let idx = self.expr(index, out);
                    Some(self.offset_pointer(p, BinOp::Add, idx, e.span))
                }
                ExprKind::Unary(UnOp::Deref, p) => self.pointer(p, out),
                ExprKind::Ident(n) => match self.lookup(n).cloned() {
                    Some(Sym::Array {
                        wgsl,
                        ty,
                        mutable,
                        atomic,
                        module_scope,
                    }) if ty.is_value() => Some(PtrVal {
                        base: wgsl.clone().into(),
                        elem: ty,
                        atomic,
                        offset: None,
                        module_root: module_scope.then_some(wgsl),
                        mutable,
                        scalar_target: true,
                        rows: Vec::new(),
                    }),
                    Some(Sym::Array { .. }) => self.pointer(inner, out),
                    // `&t` of a local `var` (`intersectBox(..., &tnear)`):
                    // read and written through `*p`, or passed to a device
                    // function as a `ptr<function, T>`.
                    Some(Sym::Value {
                        wgsl,
                        ty,
                        mutable: true,
                    }) if ty.is_value() => Some(PtrVal {
                        base: wgsl.into(),
                        elem: ty,
                        atomic: None,
                        offset: None,
                        module_root: None,
                        mutable: true,
                        scalar_target: true,
                        rows: Vec::new(),
                    }),
                    _ => {
                        self.m.error(
                            e.span,
                            format!("taking the address of local variable `{n}` is not supported in WGSL"),
                        );
                        None
                    }
                },
                // `&table[slot].key` of atomically updated elements: the
                // member's atomic, for `atomicCAS` and the others.
                ExprKind::Member { base, .. } => {
                    let diags = self.m.diags.len();
                    // Whether the element is held as `Members`: a probe,
                    // its statements and messages dropped (the member's
                    // place below lowers the element once more, for real:
                    // `&t[i++].key` must move `i` once).
                    let of_members = match base.kind {
                        ExprKind::Index(..) | ExprKind::Unary(UnOp::Deref, _) => self
                            .place(base, &mut Vec::new())
                            .is_some_and(|b| matches!(b.atomic, Some(AtomicRepr::Members { .. }))),
                        _ => false,
                    };
                    self.m.diags.truncate(diags);
                    let mut scratch = Vec::new();
                    // `&a8.x` of a thread's own vector or struct (a local
                    // variable's part): read and written through `*p`; a
                    // call that takes it copies the part (`part_of_variable`).
                    let own_part = !of_members && self.is_private_root(base);
                    let place = (of_members || own_part)
                        .then(|| self.place(inner, &mut scratch))
                        .flatten()
                        .filter(|p| !own_part || p.atomic.is_none());
                    match place {
                        Some(p) if p.ty.is_value() => {
                            out.extend(scratch);
                            Some(PtrVal {
                                base: p.expr.clone(),
                                elem: p.ty,
                                atomic: p.atomic,
                                offset: None,
                                module_root: None,
                                mutable: p.mutable,
                                scalar_target: true,
                                rows: Vec::new(),
                            })
                        }
                        _ => {
                            self.m.diags.truncate(diags);
                            self.m
                                .error(e.span, "taking this address is not supported in WGSL");
                            None
                        }
                    }
                }
                _ => {
                    self.m
                        .error(e.span, "taking this address is not supported in WGSL");
                    None
                }
            },
            ExprKind::Cast { .. } => {
                let v = self.expr(e, out);
                v.ptr.map(|p| *p)
            }
            // `*k++` (HeCBench's jenkins-hash walking its keys): the
            // pointer as it was, then moved; `*++k` moved first.
            ExprKind::IncDec {
                target,
                increment,
                prefix,
            } if target
                .as_ident()
                .is_some_and(|n| matches!(self.lookup(n), Some(Sym::Pointer { .. }))) =>
            {
                if *prefix {
                    self.incdec(*increment, true, target, e.span, out, false);
                    return self.pointer(target, out);
                }
                let mut before = self.pointer(target, out)?;
                if let Some(offset) = before.offset.take() {
                    let name = self.fresh("before");
                    out.push(WStmt::decl(
                        "let",
                        name.clone(),
                        None,
                        Some(offset.expr.clone()),
                    ));
                    before.offset = Some(Box::new(Val::atom(name, offset.ty.clone())));
                }
                self.incdec(*increment, false, target, e.span, out, false);
                Some(before)
            }
            ExprKind::Member { base, field, arrow }
                if self.is_member_buffer(base, field, *arrow) =>
            {
                self.member_buffer(base, field, *arrow, e.span)
            }
            // `B[0]` of a local `double B[3][8]`, or of the rows a function
            // received (LULESH's `CalcElemNodeNormals(B[0], ...)`, `const
            // Real_t *pfx = b[0]`): the row, a pointer to its first element.
            ExprKind::Index(rows, index) if self.is_local_rows(rows) => {
                // The whole array and the row's index (kept in a `let`: the
                // row's text is used again where the pointer is).
                let (array, array_ty, first) =
                    match rows.as_ident().and_then(|n| self.lookup(n)).cloned() {
                        Some(Sym::Array { wgsl, ty, .. }) => (wgsl, ty, None),
                        Some(Sym::Pointer { view, .. }) => {
                            let ty = self
                                .local_array_params
                                .get(&view.base.to_string())
                                .cloned()?;
                            (view.base.to_string(), ty, view.offset.map(|o| *o))
                        }
                        _ => return None,
                    };
                let Ty::Array(row_ty, ArrayLen::Fixed(_)) = &array_ty else {
                    return None;
                };
                let Ty::Array(elem, ArrayLen::Fixed(_)) = &**row_ty else {
                    return None;
                };
                let (row_ty, elem) = ((**row_ty).clone(), (**elem).clone());
                let idx = self.expr(index, out);
                let idx = match first {
                    Some(o) => self.binary(BinOp::Add, o, idx, e.span),
                    None => idx,
                };
                let idx = self.convert(idx, &Ty::I32, index.span);
                let idx = self.materialize(idx, "row", out);
                let text = format!("{array}[{}]", idx.text());
                self.local_rows.insert(
                    text.clone(),
                    crate::context::LocalRow {
                        array,
                        array_ty,
                        index: idx.text(),
                    },
                );
                // Passed on, it points into a local array (a row).
                self.local_array_params.insert(text.clone(), row_ty);
                let mutable = !matches!(rows.as_ident().and_then(|n| self.lookup(n)), Some(Sym::Pointer { view, .. }) if !view.mutable);
                Some(PtrVal {
                    base: text.into(),
                    elem,
                    atomic: None,
                    offset: None,
                    module_root: None,
                    mutable,
                    scalar_target: false,
                    rows: Vec::new(),
                })
            }
            _ => {
                let v = self.expr(e, out);
                if !v.is_error() {
                    self.m.error(
                        e.span,
                        "arbitrary pointer arithmetic cannot be expressed in WGSL",
                    );
                }
                None
            }
        }
    }

    /// `(T *)((char *)p + bytes)`: a byte offset from a `T` buffer (the
    /// rows of a pitched allocation) is an element offset of
    /// `bytes / sizeof(T)`. Exact whenever the access is valid CUDA (a `T`
    /// access must be aligned to `T`, so the offset is a multiple of its
    /// size); a constant offset that is not is refused. `None` when `e` has
    /// another shape or `p` is no `T` buffer.
    fn byte_offset_pointer(
        &mut self,
        ty: &cudalens_syntax::ir::Type,
        e: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<Val> {
        let ExprKind::Binary(op @ (BinOp::Add | BinOp::Sub), lhs, bytes) = &e.kind else {
            return None;
        };
        let ExprKind::Cast {
            ty: byte_ty,
            expr: inner,
            ..
        } = &lhs.kind
        else {
            return None;
        };
        // `char *`, also behind a typedef (`uchar`).
        let byte = self
            .packed_of(&byte_ty.pointee(), false)
            .is_some_and(|k| k.bits == 8 && k.lanes == 1 && !k.boolean);
        if !byte || byte_ty.pointer != 1 || !self.is_pointer_expr(inner) {
            return None;
        }
        let target = self.subst_type(&ty.pointee());
        let want = cudalens_syntax::types::normalize_base(&target.base);
        if target.pointer > 0 || crate::types::Packed::of(&want, false).is_some() {
            return None;
        }
        let want = crate::types::map_value_type(&target, &self.m.model.types, self.m.opts).ok()?;
        let size = want.host_layout()?.0;
        let p = self.pointer(inner, out)?;
        if p.elem != want {
            self.m.error(
                span,
                format!(
                    "pointer cast from `{}` elements, moved by a byte offset, to `{}` elements cannot be expressed in WGSL: storage buffers have one element type",
                    p.elem.wgsl(),
                    want.wgsl()
                ),
            );
            return Some(Val::error());
        }
        let by = self.expr(bytes, out);
        if by.is_error() {
            return Some(by);
        }
        if let Some(k) = by.konst
            && k.as_int() % i128::from(size) != 0
        {
            self.m.error(
                span,
                format!(
                    "a byte offset of {} is not a multiple of the {size}-byte element",
                    k.as_int()
                ),
            );
            return Some(Val::error());
        }
        // Divided in the offset's own type (a `size_t` pitch stays 64-bit
        // until the element index is taken).
        let size = Val::konst(Konst::Int(i128::from(size)), Scalar::I32);
        let elements = self.binary(BinOp::Div, by, size, span);
        Some(Val::pointer(self.offset_pointer(p, *op, elements, span)))
    }

    /// The module-scope variable an array expression names, if any.
    /// Whether `e` names a function-local array of rows (`double B[3][8]`)
    /// or the rows of one a device function received (`double b[][8]`).
    fn is_local_rows(&self, e: &Expr) -> bool {
        let is_rows = |t: &Ty| matches!(t, Ty::Array(inner, _) if matches!(**inner, Ty::Array(..)));
        match &e.kind {
            ExprKind::Ident(n) => match self.lookup(n) {
                Some(Sym::Array {
                    ty,
                    module_scope: false,
                    atomic: None,
                    ..
                }) => is_rows(ty),
                Some(Sym::Pointer { view, .. }) => {
                    matches!(view.elem, Ty::Array(..))
                        && self.local_array_params.contains_key(&view.base.to_string())
                }
                _ => false,
            },
            _ => false,
        }
    }

    fn lookup_root(&self, e: &Expr) -> Option<(String, bool)> {
        match &e.kind {
            ExprKind::Ident(n) => match self.lookup(n) {
                Some(Sym::Array {
                    wgsl, module_scope, ..
                }) => Some((wgsl.clone(), *module_scope)),
                _ => None,
            },
            _ => None,
        }
    }

    fn pointer_arith(
        &mut self,
        op: BinOp,
        a: &Expr,
        b: &Expr,
        span: Span,
        out: &mut Vec<WStmt>,
    ) -> Option<PtrVal> {
        let p = self.pointer(a, out)?;
        if self.is_pointer_expr(b) {
            self.m
                .error(span, "pointer difference cannot be expressed in WGSL");
            return None;
        }
        let by = self.expr(b, out);
        Some(self.offset_pointer(p, op, by, span))
    }

    /// A view of 32-bit words over a buffer of 8/16-bit elements packed
    /// into them (`(unsigned int *)bytes`, `(float *)d_src`, `*(char4
    /// *)(data + i)` of a `char *` buffer): word `w[i]` is elements `n·i
    /// ..` (`n` = 4 or 2), which is the buffer's own word `i`. `None` when
    /// `p` is no such buffer or `target` no 32-bit type; an error value
    /// when the view starts inside a word.
    fn packed_word_view(&mut self, p: &PtrVal, target: &CType, span: Span) -> Option<Val> {
        // `(uchar4 *)rgba` of an `unsigned int *` buffer: each word is one
        // `uchar4`, its bytes in C's order (`unpack4xU8`), read and stored
        // whole.
        if p.atomic.is_none()
            && p.elem == Ty::U32
            && !p.scalar_target
            && p.rows.is_empty()
            && let Some(q) = self.packed_of(target, false).filter(|q| q.is_word())
        {
            let mut view = p.clone();
            view.elem = q.value_type();
            view.atomic = Some(AtomicRepr::Packed(q));
            return Some(Val::pointer(view));
        }
        // `(const uint8_t *)&a[k]` of an `int` or `unsigned int` buffer
        // (HeCBench dp4a): a read-only view of its bytes (or 16-bit halves) in C's
        // order, element `j` the word's bits `8·(j % 4)..`.
        if p.atomic.is_none()
            && matches!(p.elem, Ty::Scalar(Scalar::U32 | Scalar::I32))
            && !p.scalar_target
            && p.rows.is_empty()
            && target.is_const
            && let Some(q) = self
                .packed_of(target, false)
                .filter(|q| q.lanes == 1 && !q.boolean && !q.is_word())
            // The words of an `int` buffer are `i32`s: read as signed bits
            // only (`extractBits` of an `i32` extends the sign).
            && (q.signed || p.elem == Ty::U32)
        {
            let mut view = p.clone();
            if let Some(o) = view.offset.take() {
                let per = Val::konst(Konst::Int(i128::from(32 / q.bits)), Scalar::I32);
                view.offset = Some(Box::new(self.binary(BinOp::Mul, *o, per, span)));
            }
            view.elem = q.value_type();
            view.atomic = Some(AtomicRepr::Packed(crate::types::Packed {
                written: false,
                ..q
            }));
            view.mutable = false;
            return Some(Val::pointer(view));
        }
        let Some(AtomicRepr::Packed(k)) = p.atomic else {
            return None;
        };
        if k.lanes != 1 || k.boolean || p.scalar_target || !p.rows.is_empty() {
            return None;
        }
        let mut per = i128::from(32 / k.bits);
        let (elem, repr) = if let Some(q) = self.packed_of(target, false) {
            // `char4`/`uchar4` over bytes: the packed word, read as lanes;
            // `uchar3`, `short2` over their scalars: each element its lanes,
            // scalars `n·i ..` of the same buffer (`lane_places`).
            if q.bits != k.bits || q.lanes < 2 || (k.bits != 8 && q.is_word()) {
                return None;
            }
            if !q.is_word() {
                per = i128::from(q.lanes);
            }
            let q = crate::types::Packed {
                written: k.written,
                ..q
            };
            (q.value_type(), AtomicRepr::Packed(q))
        } else {
            let target = self.subst_type(target);
            let want =
                crate::types::map_value_type(&target, &self.m.model.types, self.m.opts).ok()?;
            // A written buffer's words are `atomic<u32>`: read and written
            // whole with atomicLoad/atomicStore, as its elements' stores are.
            let repr = match (&want, k.written) {
                (Ty::Scalar(Scalar::U32 | Scalar::I32 | Scalar::F32), false) => {
                    AtomicRepr::Bits(Scalar::U32)
                }
                (Ty::Scalar(Scalar::U32), true) => AtomicRepr::Native(Scalar::U32),
                (Ty::Scalar(Scalar::F32), true) => AtomicRepr::F32Bits,
                _ => return None,
            };
            (want, repr)
        };
        let mut view = p.clone();
        if let Some(o) = view.offset.take() {
            if let Some(c) = o.konst
                && c.as_int() % per != 0
            {
                self.m.error(
                    span,
                    format!(
                        "a `{}` view starting {} elements in is not aligned to its {per} elements",
                        target.display(),
                        c.as_int()
                    ),
                );
                return Some(Val::error());
            }
            // C requires the view to be aligned; an offset that is not is
            // undefined behaviour there, so division is exact.
            let k = Val::konst(Konst::Int(per), Scalar::I32);
            view.offset = Some(Box::new(self.binary(BinOp::Div, *o, k, span)));
        }
        view.elem = elem;
        view.atomic = Some(repr);
        Some(Val::pointer(view))
    }

    /// A pointer cast between a scalar and the vectors of that scalar
    /// (`reinterpret_cast<const float4*>(x)` of a `float*` buffer, `(float
    /// *)v` of a `float2*` one, and back): a view of the same memory, as C
    /// lays it out (a vector is its lanes in order). The offset changes
    /// units: a scalar offset into a vector view must be a multiple of the
    /// lanes, as CUDA's alignment rules require of a valid vector access (a
    /// constant one that is not is refused). `None` for other casts.
    fn vector_view(&mut self, mut p: PtrVal, want: &Ty, span: Span) -> Option<Val> {
        // `(const float *)&pack` of a local `uint4 pack` (a thread's own
        // vector read lane by lane): the vector variable indexed, each lane
        // its bits when the scalar types differ.
        // Either as another type of the same size (`*(__half2 *)&a8.x` of a
        // `float` lane: its bits as two halves).
        if p.scalar_target {
            if p.atomic.is_some() || !bitcast_compatible(want) {
                return None;
            }
            match &p.elem {
                // `(__half *)&a_vec` of a `uint4`: two halves a lane.
                Ty::Vector(s, n)
                    if *n != 3 && s.size() == 4 && *want == Ty::Scalar(Scalar::F16) =>
                {
                    p.atomic = Some(AtomicRepr::HalfOfWord(*s));
                    p.scalar_target = false;
                }
                Ty::Vector(s, n) if *n != 3 && bitcast_compatible(&Ty::Scalar(*s)) => {
                    if byte_size(want) != Some(s.size()) {
                        return None;
                    }
                    p.atomic = (Ty::Scalar(*s) != *want).then_some(AtomicRepr::Bits(*s));
                    p.scalar_target = false;
                }
                Ty::Scalar(s) if bitcast_compatible(&p.elem) => {
                    if byte_size(want) != Some(s.size()) || p.elem == *want {
                        return None;
                    }
                    p.atomic = Some(AtomicRepr::Bits(*s));
                }
                _ => return None,
            }
            p.elem = want.clone();
            return Some(Val::pointer(p));
        }
        let lanes_of = |t: &Ty| match t {
            Ty::Vector(_, n) => *n,
            _ => 1,
        };
        // `unsigned int*` over an 8/16-bit array held one element to an
        // `i32`: words of 4 (or 2) elements.
        if let Some(AtomicRepr::Narrow(k)) = p.atomic
            && k.lanes == 1
            && !k.boolean
            && matches!(want, Ty::Scalar(Scalar::U32 | Scalar::I32 | Scalar::F32))
        {
            let per = i128::from(32 / k.bits);
            if let Some(o) = p.offset.take() {
                if let Some(c) = o.konst
                    && c.as_int() % per != 0
                {
                    self.m.error(
                        span,
                        format!("a 32-bit view starting {} elements in is not aligned to its {per} elements", c.as_int()),
                    );
                    return Some(Val::error());
                }
                let k = Val::konst(Konst::Int(per), Scalar::I32);
                p.offset = Some(Box::new(self.binary(BinOp::Div, *o, k, span)));
            }
            p.elem = want.clone();
            p.atomic = Some(AtomicRepr::Words(k));
            return Some(Val::pointer(p));
        }
        // `(unsigned *)f` of a float array held as its bits in atomic words
        // (the kernel uses it with atomics): those words, as the integer
        // atomics they are (the programs' own compare-and-swap loops).
        let words = match (p.atomic, want) {
            (Some(AtomicRepr::F32Bits), Ty::Scalar(Scalar::U32)) => Some(Scalar::U32),
            (Some(AtomicRepr::F64Bits), Ty::Scalar(Scalar::U64)) => Some(Scalar::U64),
            _ => None,
        };
        if let Some(s) = words {
            p.elem = want.clone();
            p.atomic = Some(AtomicRepr::Native(s));
            return Some(Val::pointer(p));
        }
        if p.atomic == Some(AtomicRepr::F32Bits) && *want == Ty::I32 {
            p.elem = want.clone();
            p.atomic = Some(AtomicRepr::IntBits);
            return Some(Val::pointer(p));
        }
        // The storage's element type, and scalars per unit of the offset.
        let (storage, per_old) = match p.atomic {
            None => (p.elem.clone(), lanes_of(&p.elem)),
            Some(AtomicRepr::Lanes(n)) => (Ty::Scalar(p.elem.scalar()?), n),
            Some(AtomicRepr::Spread(n)) => (Ty::Vector(p.elem.scalar()?, n), 1),
            Some(_) => return None,
        };
        let (repr, per_new) = match (&storage, want) {
            (a, b) if a == b => (None, lanes_of(a)),
            // `float4*` over `float` storage.
            (Ty::Scalar(s), Ty::Vector(t, n)) if s == t && *s != Scalar::Bool => {
                (Some(AtomicRepr::Lanes(*n)), *n)
            }
            // `float4*`, `uint4*`, `float*` over `__half` storage: each
            // 32-bit lane two halves.
            (Ty::Scalar(Scalar::F16), t)
                if p.atomic.is_none()
                    && matches!(t, Ty::Scalar(_) | Ty::Vector(_, 2 | 4))
                    && t.scalar()
                        .is_some_and(|s| s.size() == 4 && s != Scalar::Bool) =>
            {
                let n = match t {
                    Ty::Vector(_, n) => *n,
                    _ => 1,
                };
                (Some(AtomicRepr::HalfPairs(n)), 2 * n)
            }
            // `uint64*` over `uint32` storage: two words each.
            (Ty::Scalar(s), Ty::Scalar(t))
                if p.atomic.is_none() && s.size() == 4 && t.size() == 8 && *s != Scalar::Bool =>
            {
                (Some(AtomicRepr::WordPairs(*s)), 2)
            }
            // `uint4*` over `float` storage: the same bits, four at a time.
            (Ty::Scalar(s), Ty::Vector(t, n))
                if p.atomic.is_none()
                    && s.bits() == t.bits()
                    && ![*s, *t].contains(&Scalar::Bool) =>
            {
                (Some(AtomicRepr::LanesBits(*n, *s)), *n)
            }
            // `float*` over `float2`/`float4` storage.
            (Ty::Vector(s, n), Ty::Scalar(t)) if s == t && *s != Scalar::Bool && *n != 3 => {
                (Some(AtomicRepr::Spread(*n)), 1)
            }
            // `float4*` over `float2` storage: two elements each.
            (Ty::Vector(s, 2), Ty::Vector(t, 4)) if s == t && *s != Scalar::Bool => {
                (Some(AtomicRepr::Pairs), 4)
            }
            // `int*` over the `float` lanes of `float4` storage.
            (Ty::Vector(s, n), Ty::Scalar(t))
                if matches!(p.atomic, Some(AtomicRepr::Spread(_)))
                    && s.bits() == t.bits()
                    && *n != 3
                    && ![*s, *t].contains(&Scalar::Bool) =>
            {
                (Some(AtomicRepr::SpreadBits(*n, *s)), 1)
            }
            // `int*` over `float` storage: the same bits.
            (Ty::Scalar(s), Ty::Scalar(t))
                if p.atomic.is_none()
                    && s.bits() == t.bits()
                    && ![*s, *t].contains(&Scalar::Bool) =>
            {
                (Some(AtomicRepr::Bits(*s)), 1)
            }
            _ => return None,
        };
        if let Some(o) = p.offset.take() {
            let mut o = *o;
            if per_old > 1 {
                let k = Val::konst(Konst::Int(i128::from(per_old)), Scalar::I32);
                o = self.binary(BinOp::Mul, o, k, span);
            }
            if per_new > 1 {
                if let Some(k) = o.konst
                    && k.as_int() % i128::from(per_new) != 0
                {
                    self.m.error(
                        span,
                        format!(
                            "a `{}` view starting {} scalars in is not aligned to its {per_new} lanes",
                            want.wgsl(),
                            k.as_int()
                        ),
                    );
                    return Some(Val::error());
                }
                let k = Val::konst(Konst::Int(i128::from(per_new)), Scalar::I32);
                o = self.binary(BinOp::Div, o, k, span);
            }
            p.offset = Some(Box::new(o));
        }
        p.elem = want.clone();
        p.atomic = repr;
        Some(Val::pointer(p))
    }

    fn offset_pointer(&mut self, mut p: PtrVal, op: BinOp, by: Val, span: Span) -> PtrVal {
        if p.scalar_target {
            self.m.error(
                span,
                "arithmetic on the address of a scalar is not supported",
            );
            return p;
        }
        let mut by = self.index_value(by, span);
        // A pointer to rows moves by whole rows.
        let row_len: u64 = p.rows.iter().map(|&r| u64::from(r)).product();
        if row_len > 1 {
            let k = Val::konst(Konst::Int(i128::from(row_len)), Scalar::I32);
            by = self.binary(BinOp::Mul, by, k, span);
        }
        let new = match p.offset.take() {
            None if op == BinOp::Add => by,
            None => {
                let zero = Val::konst(Konst::Int(0), Scalar::I32);
                self.binary(op, zero, by, span)
            }
            Some(o) => self.binary(op, *o, by, span),
        };
        p.offset = Some(Box::new(new));
        p.module_root = p.module_root.filter(|r| *r == p.base.to_string());
        p
    }

    /// `v` converted to the 8- or 16-bit type `k` (as C converts on a cast
    /// or a store), as the `int` C's promotion gives back: the low bits,
    /// masked (unsigned) or sign-extended (signed).
    pub fn narrow(&mut self, v: Val, k: crate::types::Packed, span: Span) -> Val {
        let ty = k.value_type();
        // A float converts as the GPU's `cvt.rzi` does (C leaves it
        // undefined out of range): toward zero, saturated to the narrow
        // type's range, NaN 0 (`__half` to `short` in HeCBench flame
        // differed from the H100 while the value wrapped).
        if k.lanes == 1
            && !k.boolean
            && let Some(s @ (Scalar::F16 | Scalar::F32 | Scalar::F64)) = v.ty.scalar()
            && v.ty.is_value()
            && matches!(v.ty, Ty::Scalar(_))
        {
            let (lo, hi) = match k.signed {
                true => (-(1i64 << (k.bits - 1)), (1i64 << (k.bits - 1)) - 1),
                false => (0, (1i64 << k.bits) - 1),
            };
            let (helper, x) = match s {
                Scalar::F64 => (HELPER_F64_TO_NARROW, v.expr),
                Scalar::F16 => (HELPER_F32_TO_NARROW, WExpr::call("f32", vec![v.expr])),
                _ => (HELPER_F32_TO_NARROW, v.expr),
            };
            self.m.helpers.insert(helper);
            return Val::atom(WExpr::call(helper.0, vec![x, lit(lo), lit(hi)]), ty);
        }
        let wide = self.explicit_cast(v, &ty, span);
        if wide.is_error() {
            return wide;
        }
        let mask = lit((1u32 << k.bits) - 1);
        let expr = if k.signed {
            WExpr::call(
                "extractBits",
                vec![wide.expr, lit("0u"), lit(format!("{}u", k.bits))],
            )
        } else {
            let operand = wide.operand_expr(&[Prec::Primary, Prec::Unary]);
            let mask = match k.lanes > 1 {
                true => WExpr::call(ty.wgsl(), vec![mask]),
                false => mask,
            };
            WExpr::paren(WExpr::binary(operand, "&", mask))
        };
        Val::atom(expr, ty)
    }

    // ---- memory access ------------------------------------------------------------

    pub fn read_place(&mut self, p: &Place) -> Val {
        match p.atomic {
            Some(AtomicRepr::Members { count, .. }) => {
                // A whole element: its members loaded, in order.
                let parts: Vec<WExpr> = (0..usize::from(count))
                    .map(|k| {
                        let lane = self.member_lane(p, k);
                        self.read_place(&lane).expr
                    })
                    .collect();
                Val::atom(WExpr::call(p.ty.wgsl(), parts), p.ty.clone())
            }
            Some(AtomicRepr::Native(_)) if p.ty.is_value() => {
                Val::atom(atomic_load(p), p.ty.clone())
            }
            Some(AtomicRepr::IntBits) => Val::atom(
                WExpr::call("bitcast<i32>", vec![atomic_load(p)]),
                p.ty.clone(),
            ),
            Some(repr @ (AtomicRepr::F32Bits | AtomicRepr::F64Bits)) if p.ty.is_value() => {
                let (float, _) = repr.float_bits().unwrap_or(("f32", "u32"));
                Val::atom(
                    WExpr::call(format!("bitcast<{float}>"), vec![atomic_load(p)]),
                    p.ty.clone(),
                )
            }
            Some(AtomicRepr::Packed(k)) if k.lanes > 1 && !k.is_word() => {
                // `uchar3`, `short2`: each lane a packed scalar.
                let Some(lanes) = lane_places(p, k) else {
                    return self.error(
                        Span::new(0, 0),
                        "internal error: a packed element without an index",
                    );
                };
                let parts: Vec<WExpr> = lanes.iter().map(|l| self.read_place(l).expr).collect();
                Val::atom(WExpr::call(p.ty.wgsl(), parts), p.ty.clone())
            }
            Some(AtomicRepr::Packed(k) | AtomicRepr::MemberBytes { packed: k, .. }) => {
                let Some((word, offset)) = packed_word(&p.expr, k) else {
                    return self.error(
                        Span::new(0, 0),
                        "internal error: a packed element without an index",
                    );
                };
                let word = if k.written && matches!(p.atomic, Some(AtomicRepr::Packed(_))) {
                    WExpr::call("atomicLoad", vec![WExpr::unary("&", word)])
                } else {
                    word
                };
                if k.is_word() {
                    return if k.signed {
                        Val::atom(WExpr::call("unpack4xI8", vec![word]), k.value_type())
                    } else {
                        let unpacked = WExpr::call("unpack4xU8", vec![word]);
                        Val::atom(WExpr::call("vec4<i32>", vec![unpacked]), k.value_type())
                    };
                }
                let width = lit(format!("{}u", k.bits));
                if k.boolean {
                    let bits = WExpr::call("extractBits", vec![word, offset, width]);
                    Val::new(WExpr::binary(bits, "!=", lit("0u")), Ty::BOOL, Prec::Rel)
                } else if k.signed {
                    let word = WExpr::call("bitcast<i32>", vec![word]);
                    Val::atom(
                        WExpr::call("extractBits", vec![word, offset, width]),
                        Ty::I32,
                    )
                } else {
                    let bits = WExpr::call("extractBits", vec![word, offset, width]);
                    Val::atom(WExpr::call("i32", vec![bits]), Ty::I32)
                }
            }
            Some(AtomicRepr::Lanes(n)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return Val::error();
                };
                let lanes = (0..n).map(|l| lane_of(&base, n, &index, l)).collect();
                Val::atom(WExpr::call(p.ty.wgsl(), lanes), p.ty.clone())
            }
            Some(AtomicRepr::BitsLane {
                stored,
                lanes,
                lane,
            }) => {
                let Some(s) = p.ty.scalar() else {
                    return Val::error();
                };
                let vector = bits_as(p.expr.clone(), &Ty::Scalar(stored), &Ty::Vector(s, lanes));
                let c = &"xyzw"[usize::from(lane)..=usize::from(lane)];
                Val::atom(WExpr::member(vector, c), p.ty.clone())
            }
            Some(AtomicRepr::HalfOfWord(stored)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return Val::error();
                };
                let lane = WExpr::index(base, half_of(&index, "/"));
                let pair = bits_as(lane, &Ty::Scalar(stored), &Ty::Vector(Scalar::F16, 2));
                Val::atom(WExpr::index(pair, half_of(&index, "%")), p.ty.clone())
            }
            Some(AtomicRepr::WordPairs(stored)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return Val::error();
                };
                let word = |k: u8| {
                    let w = lane_of(&base, 2, &index, k);
                    match stored {
                        Scalar::U32 => WExpr::call("u64", vec![w]),
                        _ => WExpr::call("u64", vec![WExpr::call("bitcast<u32>", vec![w])]),
                    }
                };
                let high = WExpr::paren(WExpr::binary(word(1), "<<", lit("32u")));
                let joined = WExpr::paren(WExpr::binary(word(0), "|", high));
                Val::atom(
                    bits_as(joined, &Ty::Scalar(Scalar::U64), &p.ty),
                    p.ty.clone(),
                )
            }
            Some(AtomicRepr::HalfPairs(n)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return Val::error();
                };
                let Some(lane) = p.ty.scalar() else {
                    return Val::error();
                };
                let mut lanes: Vec<WExpr> = (0..n)
                    .map(|l| {
                        let first = lane_of(&base, 2 * n, &index, 2 * l);
                        let second = next_element(&first);
                        let pair = WExpr::call("vec2<f16>", vec![first, second]);
                        bits_as(pair, &Ty::Vector(Scalar::F16, 2), &Ty::Scalar(lane))
                    })
                    .collect();
                match n {
                    1 => Val::atom(lanes.remove(0), p.ty.clone()),
                    _ => Val::atom(WExpr::call(p.ty.wgsl(), lanes), p.ty.clone()),
                }
            }
            Some(AtomicRepr::LanesBits(n, stored)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return Val::error();
                };
                let lanes = (0..n).map(|l| lane_of(&base, n, &index, l)).collect();
                let stored = WExpr::call(Ty::Vector(stored, n).wgsl(), lanes);
                Val::atom(
                    WExpr::call(format!("bitcast<{}>", p.ty.wgsl()), vec![stored]),
                    p.ty.clone(),
                )
            }
            Some(AtomicRepr::ByteBool) => {
                let byte = WExpr::paren(WExpr::binary(p.expr.clone(), "&", lit("0xffu")));
                Val::new(WExpr::binary(byte, "!=", lit("0u")), Ty::BOOL, Prec::Rel)
            }
            Some(AtomicRepr::BitField {
                offset,
                width,
                signed,
            }) => {
                let bits = |word: WExpr| {
                    let (offset, width) = (lit(format!("{offset}u")), lit(format!("{width}u")));
                    WExpr::call("extractBits", vec![word, offset, width])
                };
                match (signed, p.ty == Ty::U32) {
                    (true, _) => Val::atom(
                        bits(WExpr::call("bitcast<i32>", vec![p.expr.clone()])),
                        Ty::I32,
                    ),
                    (false, true) => Val::atom(p.expr.clone(), Ty::U32),
                    (false, false) => {
                        Val::atom(WExpr::call("i32", vec![bits(p.expr.clone())]), Ty::I32)
                    }
                }
            }
            Some(AtomicRepr::Triple) => {
                let lanes = (0..3)
                    .map(|l| WExpr::index(p.expr.clone(), lit(l)))
                    .collect();
                Val::atom(WExpr::call(p.ty.wgsl(), lanes), p.ty.clone())
            }
            Some(AtomicRepr::Bits(stored)) => Val::atom(
                bits_as(p.expr.clone(), &Ty::Scalar(stored), &p.ty),
                p.ty.clone(),
            ),
            Some(AtomicRepr::Words(k)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return Val::error();
                };
                let per = 32 / k.bits;
                let mask = lit(format!("{}u", (1u32 << k.bits) - 1));
                let word = (0..per)
                    .map(|j| {
                        let element = WExpr::call("u32", vec![lane_of(&base, per, &index, j)]);
                        let low = WExpr::paren(WExpr::binary(element, "&", mask.clone()));
                        let shift = lit(format!("{}u", u32::from(j) * u32::from(k.bits)));
                        WExpr::paren(WExpr::binary(low, "<<", shift))
                    })
                    .reduce(|all, part| WExpr::binary(all, "|", part))
                    .unwrap_or_else(|| lit("0u"));
                let word = match p.ty {
                    Ty::Scalar(s @ (Scalar::I32 | Scalar::F32)) => {
                        WExpr::call(format!("bitcast<{}>", s.wgsl()), vec![word])
                    }
                    _ => WExpr::paren(word),
                };
                Val::atom(word, p.ty.clone())
            }
            Some(AtomicRepr::Pairs) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return Val::error();
                };
                let first = WExpr::index(base, scaled(2, &index));
                let second = next_element(&first);
                Val::atom(WExpr::call(p.ty.wgsl(), vec![first, second]), p.ty.clone())
            }
            _ => Val::atom(p.expr.clone(), p.ty.clone()),
        }
    }

    /// The array and the index of a view's element place (`base[index]`),
    /// which every view's place has; an internal error otherwise.
    fn view_parts(&mut self, element: &WExpr, span: Span) -> Option<(WExpr, WExpr)> {
        let parts = element_parts(element);
        if parts.is_none() {
            self.m.error(
                span,
                "internal error: a view of other-typed memory without an index",
            );
        }
        parts
    }

    /// Stores `v` into one lane of a vector held as the bits of a scalar
    /// (`BitsLane`, `HalfOfWord`): the scalar read as the vector, the lane
    /// replaced, the vector written back as bits (the value first: it may
    /// read the scalar being rewritten).
    fn store_lane_of_bits(&mut self, lane: LaneOfBits, v: &Val, out: &mut Vec<WStmt>) {
        let value = self.fresh("lane");
        out.push(WStmt::decl(
            "let",
            value.clone(),
            None,
            Some(v.expr.clone()),
        ));
        let whole = self.fresh("bits");
        let read = bits_as(lane.word.clone(), &Ty::Scalar(lane.stored), &lane.vector);
        out.push(WStmt::decl("var", whole.clone(), None, Some(read)));
        let component = match lane.component {
            LaneSelector::Member(c) => WExpr::member(WExpr::name(&whole), c),
            LaneSelector::Index(i) => WExpr::index(WExpr::name(&whole), i),
        };
        out.push(WStmt::assign(component, WExpr::name(value)));
        let back = bits_as(WExpr::name(whole), &lane.vector, &Ty::Scalar(lane.stored));
        out.push(WStmt::assign(lane.word, back));
    }

    /// Stores the lanes of vector `v` to `targets` (lane `x` to the
    /// first), the value first: it may read the lanes being replaced.
    fn store_lanes(&mut self, targets: Vec<WExpr>, v: &Val, out: &mut Vec<WStmt>) {
        let value = self.fresh("lanes");
        out.push(WStmt::decl(
            "let",
            value.clone(),
            None,
            Some(v.expr.clone()),
        ));
        for (target, c) in targets.into_iter().zip("xyzw".chars()) {
            out.push(WStmt::assign(
                target,
                WExpr::member(WExpr::name(&value), c.to_string()),
            ));
        }
    }

    pub fn write_place(&mut self, p: &Place, v: Val, out: &mut Vec<WStmt>) {
        if v.is_error() {
            return;
        }
        let line = match p.atomic {
            Some(AtomicRepr::Members { count, .. }) => {
                // A whole element: each member stored (the value first).
                let value = self.fresh("element");
                out.push(WStmt::decl(
                    "let",
                    value.clone(),
                    None,
                    Some(v.expr.clone()),
                ));
                for (k, (member, ty)) in self
                    .members_of(&p.ty)
                    .into_iter()
                    .enumerate()
                    .take(usize::from(count))
                {
                    let lane = self.member_lane(p, k);
                    let member = WExpr::member(WExpr::name(&value), member);
                    self.write_place(&lane, Val::atom(member, ty), out);
                }
                return;
            }
            Some(AtomicRepr::Native(_)) => {
                let target = WExpr::unary("&", p.expr.clone());
                out.push(WStmt::Eval(WExpr::call(
                    "atomicStore",
                    vec![target, v.expr],
                )));
                return;
            }
            Some(repr @ (AtomicRepr::IntBits | AtomicRepr::F32Bits | AtomicRepr::F64Bits)) => {
                let (_, bits) = repr.float_bits().unwrap_or(("f32", "u32"));
                let bits = WExpr::call(format!("bitcast<{bits}>"), vec![v.expr]);
                let target = WExpr::unary("&", p.expr.clone());
                out.push(WStmt::Eval(WExpr::call("atomicStore", vec![target, bits])));
                return;
            }
            Some(AtomicRepr::Narrow(k)) => {
                let v = self.narrow(v, k, Span::new(0, 0));
                out.push(WStmt::assign(p.expr.clone(), v.expr));
                return;
            }
            Some(AtomicRepr::Lanes(n)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return;
                };
                let lanes = (0..n).map(|l| lane_of(&base, n, &index, l));
                self.store_lanes(lanes.collect(), &v, out);
                return;
            }
            Some(AtomicRepr::BitsLane {
                stored,
                lanes,
                lane,
            }) => {
                let Some(s) = p.ty.scalar() else { return };
                let c = &"xyzw"[usize::from(lane)..=usize::from(lane)];
                let lane = LaneOfBits {
                    word: p.expr.clone(),
                    stored,
                    vector: Ty::Vector(s, lanes),
                    component: LaneSelector::Member(c.to_string()),
                };
                self.store_lane_of_bits(lane, &v, out);
                return;
            }
            Some(AtomicRepr::HalfOfWord(stored)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return;
                };
                let lane = LaneOfBits {
                    word: WExpr::index(base, half_of(&index, "/")),
                    stored,
                    vector: Ty::Vector(Scalar::F16, 2),
                    component: LaneSelector::Index(half_of(&index, "%")),
                };
                self.store_lane_of_bits(lane, &v, out);
                return;
            }
            Some(AtomicRepr::WordPairs(stored)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return;
                };
                // The value first: it may read the words being replaced.
                let value = self.fresh("wide");
                let bits = bits_as(v.expr, &v.ty, &Ty::Scalar(Scalar::U64));
                out.push(WStmt::decl("let", value.clone(), None, Some(bits)));
                for k in 0..2u8 {
                    let wide = match k {
                        0 => WExpr::name(&value),
                        _ => WExpr::binary(WExpr::name(&value), ">>", lit("32u")),
                    };
                    let half = WExpr::call("u32", vec![wide]);
                    let word = bits_as(half, &Ty::U32, &Ty::Scalar(stored));
                    out.push(WStmt::assign(lane_of(&base, 2, &index, k), word));
                }
                return;
            }
            Some(AtomicRepr::HalfPairs(n)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return;
                };
                // The value first: it may read the halves being replaced.
                let value = self.fresh("halves");
                out.push(WStmt::decl(
                    "let",
                    value.clone(),
                    None,
                    Some(v.expr.clone()),
                ));
                for l in 0..n {
                    let lane = match n {
                        1 => WExpr::name(&value),
                        _ => WExpr::member(WExpr::name(&value), &"xyzw"[l as usize..=l as usize]),
                    };
                    let first = lane_of(&base, 2 * n, &index, 2 * l);
                    let pair = self.fresh("pair");
                    let Some(s) = v.ty.scalar() else { return };
                    let halves = bits_as(lane, &Ty::Scalar(s), &Ty::Vector(Scalar::F16, 2));
                    out.push(WStmt::decl("let", pair.clone(), None, Some(halves)));
                    let second = next_element(&first);
                    out.push(WStmt::assign(first, WExpr::member(WExpr::name(&pair), "x")));
                    out.push(WStmt::assign(
                        second,
                        WExpr::member(WExpr::name(&pair), "y"),
                    ));
                }
                return;
            }
            Some(AtomicRepr::LanesBits(n, stored)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return;
                };
                let lanes = (0..n).map(|l| lane_of(&base, n, &index, l));
                let stored = Ty::Vector(stored, n);
                let bits = Val::atom(
                    WExpr::call(format!("bitcast<{}>", stored.wgsl()), vec![v.expr.clone()]),
                    stored,
                );
                self.store_lanes(lanes.collect(), &bits, out);
                return;
            }
            Some(AtomicRepr::Spread(_) | AtomicRepr::SpreadBits(..)) => {
                self.m.error(
                    Span::new(0, 0),
                    "internal error: a store through a scalar view that was not resolved",
                );
                return;
            }
            Some(AtomicRepr::Triple) => {
                let lanes = (0..3).map(|l| WExpr::index(p.expr.clone(), lit(l)));
                self.store_lanes(lanes.collect(), &v, out);
                return;
            }
            Some(AtomicRepr::ByteBool) => {
                let b = self.as_condition(v, Span::new(0, 0));
                WStmt::assign(p.expr.clone(), select_bit(b.expr))
            }
            Some(AtomicRepr::BitField { offset, width, .. }) => {
                // The value's low `width` bits, as C's store keeps them.
                let v = self.convert(v, &p.ty, Span::new(0, 0));
                let bits = match p.ty {
                    Ty::U32 => v.expr,
                    _ => WExpr::call("bitcast<u32>", vec![v.expr]),
                };
                let (offset, width) = (lit(format!("{offset}u")), lit(format!("{width}u")));
                WStmt::assign(
                    p.expr.clone(),
                    WExpr::call("insertBits", vec![p.expr.clone(), bits, offset, width]),
                )
            }
            Some(AtomicRepr::Bits(stored)) => {
                WStmt::assign(p.expr.clone(), bits_as(v.expr, &v.ty, &Ty::Scalar(stored)))
            }
            Some(AtomicRepr::Words(k)) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return;
                };
                // The value first: it may read the elements being replaced.
                let value = self.fresh("word");
                out.push(WStmt::let_(
                    value.clone(),
                    WExpr::call("bitcast<u32>", vec![v.expr]),
                ));
                let per = 32 / k.bits;
                for j in 0..per {
                    let offset = lit(format!("{}u", u32::from(j) * u32::from(k.bits)));
                    let width = lit(format!("{}u", k.bits));
                    let element = if k.signed {
                        let word = WExpr::call("bitcast<i32>", vec![WExpr::name(&value)]);
                        WExpr::call("extractBits", vec![word, offset, width])
                    } else {
                        let bits =
                            WExpr::call("extractBits", vec![WExpr::name(&value), offset, width]);
                        WExpr::call("i32", vec![bits])
                    };
                    out.push(WStmt::assign(lane_of(&base, per, &index, j), element));
                }
                return;
            }
            Some(AtomicRepr::Pairs) => {
                let Some((base, index)) = self.view_parts(&p.expr, Span::new(0, 0)) else {
                    return;
                };
                // The value first: it may read the pair being replaced.
                let value = self.fresh("pair");
                out.push(WStmt::let_(value.clone(), v.expr.clone()));
                let first = WExpr::index(base, scaled(2, &index));
                let second = next_element(&first);
                out.push(WStmt::assign(
                    first,
                    WExpr::member(WExpr::name(&value), "xy"),
                ));
                out.push(WStmt::assign(
                    second,
                    WExpr::member(WExpr::name(&value), "zw"),
                ));
                return;
            }
            Some(AtomicRepr::MemberBytes { packed: k, .. }) => {
                // The struct is this thread's (`is_private_root`, checked
                // where the store is made): the word is rewritten whole.
                let Some((word, offset)) = packed_word(&p.expr, k) else {
                    self.m.error(
                        Span::new(0, 0),
                        "internal error: a packed element without an index",
                    );
                    return;
                };
                if k.is_word() {
                    // Packing keeps each lane's low 8 bits, as C's store does.
                    WStmt::assign(word, pack_word(k, v.expr))
                } else {
                    let bits = if k.boolean {
                        let b = self.as_condition(v, Span::new(0, 0));
                        select_bit(b.expr)
                    } else {
                        let v = self.narrow(v, k, Span::new(0, 0));
                        WExpr::call("bitcast<u32>", vec![v.expr])
                    };
                    let mask = || lit(format!("{}u", (1u32 << k.bits) - 1));
                    let shift = self.fresh("shift");
                    out.push(WStmt::let_(shift.clone(), offset));
                    let shifted = |e: WExpr| WExpr::binary(e, "<<", WExpr::name(&shift));
                    let kept = WExpr::unary("~", WExpr::paren(shifted(mask())));
                    let kept = WExpr::paren(WExpr::binary(word.clone(), "&", kept));
                    let new = shifted(WExpr::paren(WExpr::binary(bits, "&", mask())));
                    WStmt::assign(word, WExpr::binary(kept, "|", WExpr::paren(new)))
                }
            }
            Some(AtomicRepr::Packed(k)) if k.lanes > 1 && !k.is_word() => {
                let Some(lanes) = lane_places(p, k) else {
                    self.m.error(
                        Span::new(0, 0),
                        "internal error: a packed element without an index",
                    );
                    return;
                };
                // The value first: it may read the lanes being replaced.
                let value = self.fresh("lanes");
                out.push(WStmt::decl(
                    "let",
                    value.clone(),
                    None,
                    Some(v.expr.clone()),
                ));
                for (lane, c) in lanes.iter().zip("xyzw".chars()) {
                    let v = Val::atom(WExpr::member(WExpr::name(&value), c.to_string()), Ty::I32);
                    self.write_place(lane, v, out);
                }
                return;
            }
            Some(AtomicRepr::Packed(k)) => {
                let Some((word, offset)) = packed_word(&p.expr, k) else {
                    self.m.error(
                        Span::new(0, 0),
                        "internal error: a packed element without an index",
                    );
                    return;
                };
                if !k.written && k.is_word() {
                    // A `uchar4` view of plain words (`packed_word_view`):
                    // the word is the element, stored whole.
                    out.push(WStmt::assign(word, pack_word(k, v.expr)));
                    return;
                }
                if !k.written {
                    self.m.error(
                        Span::new(0, 0),
                        "internal error: a store to a read-only packed buffer",
                    );
                    return;
                }
                if k.is_word() {
                    // The element is the word: packing truncates each lane to
                    // its low 8 bits, as C converts on the store.
                    let packed = pack_word(k, v.expr);
                    let target = WExpr::unary("&", word);
                    out.push(WStmt::Eval(WExpr::call(
                        "atomicStore",
                        vec![target, packed],
                    )));
                    return;
                }
                // A float stored converts as the GPU converts it
                // (saturated: `narrow`).
                let v = match v.ty {
                    Ty::Scalar(Scalar::F16 | Scalar::F32 | Scalar::F64) if !k.boolean => {
                        self.narrow(v, k, Span::new(0, 0))
                    }
                    _ => v,
                };
                // Clear the element's bits, then set them: each thread only
                // touches its own element's bits, so writes to neighbours
                // sharing the word are not lost.
                let value = if k.boolean {
                    select_bit(v.expr)
                } else if v.ty == Ty::I32 && v.konst.is_some() {
                    // The two's-complement bits (`u32(-1)` of a constant is
                    // an error in WGSL; of a run-time `i32` it is the same
                    // bitcast): masked to the element below.
                    WExpr::call("bitcast<u32>", vec![WExpr::call("i32", vec![v.expr])])
                } else {
                    WExpr::call("u32", vec![v.expr])
                };
                // The value first: it may read the element being replaced.
                let offset_var = self.fresh("shift");
                let bits_var = self.fresh("bits");
                let mask = || lit(format!("{}u", (1u32 << k.bits) - 1));
                out.push(WStmt::let_(offset_var.clone(), offset));
                let shifted = |e: WExpr| WExpr::binary(e, "<<", WExpr::name(&offset_var));
                let masked = WExpr::paren(WExpr::binary(value, "&", mask()));
                out.push(WStmt::let_(bits_var.clone(), shifted(masked)));
                let address = WExpr::unary("&", word);
                let clear = WExpr::unary("~", WExpr::paren(shifted(mask())));
                out.push(WStmt::Eval(WExpr::call(
                    "atomicAnd",
                    vec![address.clone(), clear],
                )));
                out.push(WStmt::Eval(WExpr::call(
                    "atomicOr",
                    vec![address, WExpr::name(bits_var)],
                )));
                return;
            }
            None => {
                out.push(WStmt::assign(p.expr.clone(), v.expr));
                return;
            }
        };
        out.push(line);
    }
}

/// A view of one named variable (not of `tile[r]`, which would read `r`
/// anew at every use): what a pointer bound or re-pointed later can hold.
pub(crate) fn is_named_array(view: &PtrVal) -> bool {
    matches!(view.base, WExpr::Name(_))
        || matches!(&view.base, WExpr::Text(t) if t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// The value of one of math.h's `M_*` constants.
fn math_h_constant(name: &str) -> Option<f64> {
    use std::f64::consts as c;
    Some(match name {
        "M_PI" => c::PI,
        "M_PI_2" => c::FRAC_PI_2,
        "M_PI_4" => c::FRAC_PI_4,
        "M_1_PI" => c::FRAC_1_PI,
        "M_2_PI" => c::FRAC_2_PI,
        "M_2_SQRTPI" => c::FRAC_2_SQRT_PI,
        "M_E" => c::E,
        "M_LOG2E" => c::LOG2_E,
        "M_LOG10E" => c::LOG10_E,
        "M_LN2" => c::LN_2,
        "M_LN10" => c::LN_10,
        "M_SQRT2" => c::SQRT_2,
        "M_SQRT1_2" => c::FRAC_1_SQRT_2,
        _ => return None,
    })
}

/// `base[index]` → (`base`, `index`), at the brackets that close the text.
fn split_element(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_suffix(']')?;
    let mut depth = 0usize;
    for (i, c) in inner.char_indices().rev() {
        match c {
            ']' => depth += 1,
            '[' if depth == 0 => return Some((&text[..i], &inner[i + 1..])),
            '[' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The array and the index of the element place `element` (`base[index]`).
fn element_parts(element: &WExpr) -> Option<(WExpr, WExpr)> {
    match element {
        WExpr::Index(base, index) => Some(((**base).clone(), (**index).clone())),
        WExpr::Text(t) => {
            split_element(t).map(|(b, i)| (WExpr::from(b.to_string()), WExpr::from(i.to_string())))
        }
        _ => None,
    }
}

/// A literal as WGSL spells it (`3`, `8u`, `0xffu`).
fn lit(v: impl std::fmt::Display) -> WExpr {
    WExpr::literal(v.to_string())
}

/// `n * (index)`: the first of the `n` array elements element `index` of a
/// view spans.
fn scaled(n: impl std::fmt::Display, index: &WExpr) -> WExpr {
    WExpr::binary(lit(n), "*", WExpr::paren(index.clone()))
}

/// `base[n * (index) + lane]`: lane `lane` of element `index` of a view
/// whose elements span `n` elements of the array `base`.
fn lane_of(
    base: &WExpr,
    n: impl std::fmt::Display,
    index: &WExpr,
    lane: impl std::fmt::Display,
) -> WExpr {
    WExpr::index(
        base.clone(),
        WExpr::binary(scaled(n, index), "+", lit(lane)),
    )
}

/// The array element after `element` (`base[i + 1]` of `base[i]`).
fn next_element(element: &WExpr) -> WExpr {
    match element {
        WExpr::Index(base, index) => WExpr::index(
            (**base).clone(),
            WExpr::binary((**index).clone(), "+", lit(1)),
        ),
        // Every element this is asked of is built as an index above.
        other => other.clone(),
    }
}

/// `(index) / 2` or `(index) % 2`: the word, or the half of it, holding
/// element `index` of a view of halves.
fn half_of(index: &WExpr, op: &'static str) -> WExpr {
    WExpr::binary(WExpr::paren(index.clone()), op, lit(2))
}

/// `select(0u, 1u, b)`: a condition as the bit C stores for it.
fn select_bit(condition: WExpr) -> WExpr {
    WExpr::call("select", vec![lit("0u"), lit("1u"), condition])
}

/// A `uchar4`/`char4` value packed into its word: each lane's low 8 bits,
/// as C's store keeps them.
fn pack_word(k: crate::types::Packed, v: WExpr) -> WExpr {
    if k.signed {
        WExpr::call("pack4xI8", vec![v])
    } else {
        WExpr::call("pack4xU8", vec![WExpr::call("vec4<u32>", vec![v])])
    }
}

/// `atomicLoad(&p)`.
fn atomic_load(p: &Place) -> WExpr {
    WExpr::call("atomicLoad", vec![WExpr::unary("&", p.expr.clone())])
}

/// The compound assignment operator of `op` (`+=` of `+`).
fn compound_assignment(op: BinOp) -> &'static str {
    use BinOp::*;
    match op {
        Add => "+=",
        Sub => "-=",
        Mul => "*=",
        Div => "/=",
        Rem => "%=",
        BitAnd => "&=",
        BitOr => "|=",
        BitXor => "^=",
        Shl => "<<=",
        Shr => ">>=",
        // Not a compound assignment in C; never asked for.
        _ => "=",
    }
}

/// The places of the lanes of the packed vector element `p` (`buf[i]` of
/// a `uchar3` buffer): lane `k` is the packed scalar `buf[n * i + k]`.
fn lane_places(p: &Place, k: crate::types::Packed) -> Option<Vec<Place>> {
    let (base, index) = element_parts(&p.expr)?;
    let n = k.lanes;
    Some(
        (0..n)
            .map(|lane| Place {
                expr: lane_of(&base, n, &index, lane),
                ty: Ty::I32,
                atomic: Some(AtomicRepr::Packed(k.lane())),
                mutable: p.mutable,
            })
            .collect(),
    )
}

/// The word (`buf[w]`) and bit offset of the packed element `buf[i]`.
/// A float to an 8- or 16-bit integer as `cvt.rzi` does: toward zero,
/// saturated to `lo..=hi`, NaN 0.
const HELPER_F32_TO_NARROW: (&str, &str) = (
    "cuda_f32_to_narrow",
    "// CUDA's float to char/short: toward zero, saturated, NaN 0.
fn cuda_f32_to_narrow(x: f32, lo: i32, hi: i32) -> i32 {
    // NaN by its bits: WGSL may assume `x != x` is false.
    if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return 0; }
    return clamp(i32(clamp(x, f32(lo), f32(hi))), lo, hi);
}",
);
const HELPER_F64_TO_NARROW: (&str, &str) = (
    "cuda_f64_to_narrow",
    "// CUDA's double to char/short: toward zero, saturated, NaN 0.
fn cuda_f64_to_narrow(x: f64, lo: i32, hi: i32) -> i32 {
    if ((bitcast<u64>(x) & 0x7fffffffffffffflu) > 0x7ff0000000000000lu) { return 0; }
    return clamp(i32(clamp(x, f64(lo), f64(hi))), lo, hi);
}",
);

fn packed_word(element: &WExpr, k: crate::types::Packed) -> Option<(WExpr, WExpr)> {
    let (base, index) = element_parts(element)?;
    // A constant element (a struct member's): its word and bits folded.
    if let Ok(i) = index.to_string().trim().parse::<u32>() {
        let word = |w: u32| WExpr::index(base.clone(), lit(w));
        return Some(match (k.is_word(), k.bits) {
            (true, _) => (word(i), lit("0u")),
            (_, 8) => (word(i / 4), lit(format!("{}u", (i % 4) * 8))),
            _ => (word(i / 2), lit(format!("{}u", (i % 2) * 16))),
        });
    }
    if k.lanes > 1 && !k.is_word() {
        // Lane by lane (`lane_places`).
        return None;
    }
    let as_u32 = WExpr::call("u32", vec![index]);
    if k.is_word() {
        // One element per word.
        return Some((WExpr::index(base, as_u32), lit("0u")));
    }
    let (per_word_log2, lane_mask) = if k.bits == 8 { (2, 3) } else { (1, 1) };
    let word = WExpr::binary(as_u32.clone(), ">>", lit(format!("{per_word_log2}u")));
    let lane = WExpr::paren(WExpr::binary(as_u32, "&", lit(format!("{lane_mask}u"))));
    Some((
        WExpr::index(base, word),
        WExpr::binary(lane, "*", lit(format!("{}u", k.bits))),
    ))
}

fn fold_arith(op: BinOp, a: Konst, b: Konst, s: Scalar) -> Option<Konst> {
    use BinOp::*;
    if s.is_float() {
        let (x, y) = (a.as_float(), b.as_float());
        let v = match op {
            Add => x + y,
            Sub => x - y,
            Mul => x * y,
            Div if y != 0.0 => x / y,
            _ => return None,
        };
        let v = if s == Scalar::F32 { v as f32 as f64 } else { v };
        return v.is_finite().then_some(Konst::Float(v));
    }
    let (x, y) = (wrap_int(a.as_int(), s), wrap_int(b.as_int(), s));
    let v = match op {
        Add => x.wrapping_add(y),
        Sub => x.wrapping_sub(y),
        Mul => x.wrapping_mul(y),
        Div if y != 0 => x / y,
        Rem if y != 0 => x % y,
        BitAnd => x & y,
        BitOr => x | y,
        BitXor => x ^ y,
        _ => return None,
    };
    Some(Konst::Int(wrap_int(v, s)))
}

/// C `sizeof` of a lowered type.
fn sizeof_ty(t: &Ty) -> Option<u64> {
    match t {
        Ty::Scalar(Scalar::Bool) => Some(1),
        Ty::Scalar(s) => Some(s.size()),
        Ty::Vector(s, n) => Some(s.size() * u64::from(*n)),
        Ty::Array(e, crate::types::ArrayLen::Fixed(n)) => Some(sizeof_ty(e)? * u64::from(*n)),
        Ty::Pointer(_) => Some(8),
        _ => None,
    }
}

/// Nested assignments and increments of plain variables (the top-level
/// assignment itself excluded).
fn collect_modifications<'e>(top: &Expr, e: &'e Expr, out: &mut Vec<(&'e Expr, String)>) {
    match &e.kind {
        ExprKind::IncDec { target, .. } => {
            if let Some(n) = target.as_ident() {
                out.push((e, n.to_string()));
            }
        }
        ExprKind::Assign(_, target, _) if !std::ptr::eq(top, e) => {
            if let Some(n) = target.as_ident() {
                out.push((e, n.to_string()));
            }
        }
        // `&&`, `||`, `?:` and `,` are sequence points.
        ExprKind::Binary(BinOp::LogAnd | BinOp::LogOr, ..)
        | ExprKind::Ternary(..)
        | ExprKind::Comma(_) => return,
        _ => {}
    }
    for c in e.children() {
        collect_modifications(top, c, out);
    }
}

fn count_uses_outside(e: &Expr, skip: &Expr, name: &str) -> usize {
    if std::ptr::eq(e, skip) {
        return 0;
    }
    let own = usize::from(e.as_ident() == Some(name));
    own + e
        .children()
        .into_iter()
        .map(|c| count_uses_outside(c, skip, name))
        .sum::<usize>()
}

/// Whether `e` is a value no variable holds (a call's result, an
/// arithmetic result, a cast): a method called on it works on a copy.
fn is_temporary(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Call(_)
            | ExprKind::Binary(..)
            | ExprKind::Ternary(..)
            | ExprKind::Cast { .. }
            | ExprKind::Unary(UnOp::Neg | UnOp::Not | UnOp::BitNot, _)
    )
}

/// Whether WGSL's `bitcast` takes values of `ty`: numeric scalars and
/// vectors (not `bool`, not three `f16`s).
fn bitcast_compatible(ty: &Ty) -> bool {
    match ty {
        Ty::Scalar(s) => *s != Scalar::Bool,
        Ty::Vector(s, n) => *s != Scalar::Bool && (*n != 3 || *s != Scalar::F16),
        _ => false,
    }
}

/// C's size of a scalar or a 2- or 4-lane vector (`None` for others).
fn byte_size(ty: &Ty) -> Option<u64> {
    match ty {
        Ty::Scalar(s) => Some(s.size()),
        Ty::Vector(s, n @ (2 | 4)) => Some(s.size() * u64::from(*n)),
        _ => None,
    }
}

/// `text`, a value of type `from`, as the value of type `to` with the same
/// bits (WGSL's `bitcast`). Two halves and a 32-bit scalar go through
/// `pack2x16float`/`unpack2x16float` (naga takes no `bitcast` to or from
/// `vec2<f16>`): exact for every half but a NaN's payload.
fn bits_as(value: WExpr, from: &Ty, to: &Ty) -> WExpr {
    let halves = Ty::Vector(Scalar::F16, 2);
    if from == to {
        value
    } else if *to == halves {
        let word = WExpr::call("bitcast<u32>", vec![value]);
        WExpr::call(
            "vec2<f16>",
            vec![WExpr::call("unpack2x16float", vec![word])],
        )
    } else if *from == halves {
        let pair = WExpr::call("vec2<f32>", vec![value]);
        let word = WExpr::call("pack2x16float", vec![pair]);
        WExpr::call(format!("bitcast<{}>", to.wgsl()), vec![word])
    } else {
        WExpr::call(format!("bitcast<{}>", to.wgsl()), vec![value])
    }
}

/// One lane of a vector held as the bits of a scalar: the scalar's place
/// (`word`), its type, the vector's type and the lane's selector (`.y`,
/// `[(j) % 2]`).
struct LaneOfBits {
    word: WExpr,
    stored: Scalar,
    vector: Ty,
    component: LaneSelector,
}

/// How a lane of a vector is selected: `.y`, or `[(j) % 2]`.
enum LaneSelector {
    Member(String),
    Index(WExpr),
}
