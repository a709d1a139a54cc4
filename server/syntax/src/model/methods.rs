//! Member functions of structs and classes (`struct Pixel { __device__ void
//! set(int v) { r = v; } };`) as ordinary functions: `Pixel::set` with a
//! first parameter `Pixel *this` (none for a `static` one), and the
//! members a body names bare (`r`, `set2(v)`) reached through it
//! (`this->r`, `Pixel::set2(this, v)`). Calls `obj.set(v)` keep their
//! object (`CallExpr::receiver`); the transpiler resolves them by the
//! object's type. Constructors are `Pixel::Pixel` (member initialisers
//! first), the call operator `Pixel::operator()`; destructors and other
//! operators are not lowered.

use std::collections::HashSet;

use crate::ir::{CallExpr, Expr, ExprKind, StmtKind, Type};

use super::{Function, Param};

/// The struct whose methods are being lowered.
#[derive(Clone, Debug)]
pub(super) struct Receiver {
    pub name: String,
    /// A class template's parameters (`template <typename K> struct S`),
    /// which its static methods take first (`S<int>::empty()` calls
    /// `S::empty` with `K = int`), and their written text.
    pub class_params: Vec<super::TemplateParam>,
    pub class_header: String,
    pub fields: Vec<String>,
    /// Each method's name and whether it is `static`.
    pub methods: Vec<(String, bool)>,
}

impl Receiver {
    fn method(&self, name: &str) -> Option<bool> {
        self.methods
            .iter()
            .find(|(m, _)| m == name)
            .map(|(_, is_static)| *is_static)
    }
}

/// Makes `f`, lowered from a method of `r` (`is_static` if declared so),
/// the function `R::m`: a constructor is `R::R` (its member initialisers
/// already first in its body), an operator `R::operator+=` (the
/// transpiler calls it for `a += b` where `a` is an `R`); `None` for a
/// destructor (not lowered).
pub(super) fn as_method(mut f: Function, r: &Receiver, is_static: bool) -> Option<Function> {
    let name = f.name.split_whitespace().collect::<String>();
    if name.starts_with('~') {
        return None;
    }
    if name == r.name {
        // A constructor returns nothing (its object is `this`).
        f.ret = Type {
            base: "void".into(),
            ..Type::default()
        };
    }
    f.name = format!("{}::{name}", r.name);
    if is_static && !r.class_params.is_empty() {
        f.template_params
            .splice(0..0, r.class_params.iter().cloned());
    }
    let mut declared: HashSet<String> = f.params.iter().map(|p| p.name.clone()).collect();
    if let Some(body) = &f.body {
        body.walk(&mut |s| {
            if let StmtKind::Decl(ds) = &s.kind {
                declared.extend(ds.iter().map(|d| d.name.clone()));
            }
        });
    }
    if !is_static {
        f.params.insert(
            0,
            Param {
                name: "this".into(),
                name_span: f.name_span,
                ty: Type {
                    base: r.name.clone(),
                    pointer: 1,
                    ..Type::default()
                },
                dims: Vec::new(),
                default: None,
            },
        );
    }
    if let Some(body) = &mut f.body {
        // A local that shadows a member anywhere in the body keeps every
        // use of that name as written (scopes are not tracked here).
        body.walk_exprs_mut(&mut |e| bind_members(e, r, &declared, is_static));
    }
    Some(f)
}

/// Rewrites a member `e` names bare: `x` → `this->x`, `m(a)` →
/// `R::m(this, a)` (`R::m(a)` for a static `m`). A static method reaches
/// no instance, so its bare member names stay as written. Called on every
/// expression, children first; a call's object is walked here (it is no
/// child, see `CallExpr::receiver`).
fn bind_members(e: &mut Expr, r: &Receiver, declared: &HashSet<String>, in_static: bool) {
    let this = |span| Expr {
        kind: ExprKind::Ident("this".into()),
        span,
        from_macro: false,
    };
    match &mut e.kind {
        ExprKind::Ident(n) if !in_static && r.fields.contains(n) && !declared.contains(n) => {
            let field = std::mem::take(n);
            e.kind = ExprKind::Member {
                base: Box::new(this(e.span)),
                field,
                arrow: true,
            };
        }
        ExprKind::Call(call) => {
            let CallExpr {
                callee,
                args,
                receiver,
                ..
            } = &mut **call;
            if let Some(obj) = receiver {
                obj.walk_mut(&mut |x| bind_members(x, r, declared, in_static));
            } else if !declared.contains(callee.as_str())
                && let Some(is_static) = r.method(callee)
                && (is_static || !in_static)
            {
                *callee = format!("{}::{callee}", r.name);
                if !is_static {
                    args.insert(0, this(e.span));
                }
            }
        }
        _ => {}
    }
}
