//! Whole-kernel facts the lowering needs before it starts: which pointer
//! parameters and shared arrays are written (storage access mode, storage
//! barriers), which are used atomically (they must be declared `atomic<T>`
//! everywhere), and whether device functions recurse.

use std::collections::{HashMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::Span;
use cudalens_syntax::ir::{BinOp, Expr, ExprKind, StmtKind, UnOp};

/// Memory effects of one function, by the name of the array or pointer
/// parameter they reach (its "root").
#[derive(Clone, Debug, Default)]
pub struct Effects {
    pub written: HashSet<String>,
    pub atomic: HashSet<String>,
    /// Roots used with atomics through a pointer cast (`atomicCAS((unsigned
    /// *)f, …)` of a `float` array, the usual float atomicMax loop): their
    /// words must be integer atomics, never `atomic<f32>`.
    pub bit_atomic: HashSet<String>,
}

/// Memoised effects of the device functions of one file.
pub struct Analysis<'m> {
    model: &'m FileModel,
    memo: HashMap<String, Effects>,
    stack: Vec<String>,
    /// Calls that close a cycle in the call graph.
    pub recursion: Vec<(Span, String)>,
    /// The definition the compiled kernel's name means (one of several
    /// overloads, `TranspileOptions::definition`).
    kernel: Option<&'m cudalens_syntax::model::Function>,
}

impl<'m> Analysis<'m> {
    pub fn new(model: &'m FileModel) -> Self {
        Analysis {
            model,
            memo: HashMap::new(),
            stack: Vec::new(),
            recursion: Vec::new(),
            kernel: None,
        }
    }

    /// Makes `kernel` the definition its name means from now on.
    pub fn pin_kernel(&mut self, kernel: &'m cudalens_syntax::model::Function) {
        self.memo.remove(&kernel.name);
        self.kernel = Some(kernel);
    }

    pub fn function(&self, name: &str) -> Option<&'m cudalens_syntax::model::Function> {
        match self.kernel {
            Some(k) if k.name == name => Some(k),
            _ => self.model.function(name),
        }
    }

    /// The effects of the function `name` (empty for unknown functions).
    pub fn effects(&mut self, name: &str) -> Effects {
        if let Some(e) = self.memo.get(name) {
            return e.clone();
        }
        let pinned = self.kernel.filter(|k| k.name == name);
        let Some(f) = pinned.or_else(|| device_function(self.model, name)) else {
            return Effects::default();
        };
        let Some(body) = &f.body else {
            return Effects::default();
        };
        self.stack.push(name.to_string());
        // Local pointers that alias a root: `float* row = a + i * n;`.
        let mut aliases: HashMap<String, String> = HashMap::new();
        body.walk(&mut |s| {
            if let StmtKind::Decl(decls) = &s.kind {
                for d in decls {
                    if (d.ty.pointer > 0 || d.ty.base == "auto" && pointer_like(d.init.as_ref()))
                        && let Some(init) = &d.init
                        && let Some(r) = root_of(init, &aliases)
                    {
                        aliases.insert(d.name.clone(), r);
                    }
                }
            }
        });
        // Pointers declared without a value and bound by an assignment
        // (`float *p; ... p = a + i;`; the lowering keeps one array per
        // pointer). Twice, for a pointer assigned from another.
        let mut unbound: HashSet<String> = HashSet::new();
        body.walk(&mut |s| {
            if let StmtKind::Decl(decls) = &s.kind {
                for d in decls {
                    if d.ty.pointer > 0 && d.dims.is_empty() && !aliases.contains_key(&d.name) {
                        unbound.insert(d.name.clone());
                    }
                }
            }
        });
        for _ in 0..2 {
            body.walk_exprs(&mut |e| {
                if let ExprKind::Assign(None, target, value) = &e.kind
                    && let Some(n) = target.as_ident()
                    && unbound.contains(n)
                    && !aliases.contains_key(n)
                    && let Some(r) = root_of(value, &aliases)
                    && r != n
                {
                    aliases.insert(n.to_string(), r);
                }
            });
        }
        // Aliases made by a pointer cast (`unsigned *u = (unsigned *)f;`).
        let mut cast_aliases: HashSet<String> = HashSet::new();
        body.walk(&mut |s| {
            if let StmtKind::Decl(decls) = &s.kind {
                for d in decls {
                    if aliases.contains_key(&d.name) && d.init.as_ref().is_some_and(has_cast) {
                        cast_aliases.insert(d.name.clone());
                    }
                }
            }
        });
        let mut effects = Effects::default();
        // (span, callee, argument roots, whether the callee is known: a
        // method call's candidates are guesses, see below).
        let mut calls: Vec<(Span, String, Vec<Option<String>>, bool)> = Vec::new();
        body.walk_exprs(&mut |e| match &e.kind {
            // Moving a local pointer (`p = a + k`, `p++`) writes no memory.
            ExprKind::Assign(_, target, _) | ExprKind::IncDec { target, .. }
                if target.as_ident().is_some_and(|n| aliases.contains_key(n)) => {}
            ExprKind::Assign(_, target, _) | ExprKind::IncDec { target, .. } => {
                if let Some(r) = root_of(target, &aliases) {
                    effects.written.insert(r);
                }
            }
            ExprKind::Call(call) => {
                if call.callee.starts_with("atomic") {
                    if let Some(first) = call.args.first()
                        && let Some(r) = root_of(first, &aliases)
                    {
                        let mut through_cast = has_cast(first);
                        first.walk(&mut |x| {
                            if let ExprKind::Ident(n) = &x.kind
                                && cast_aliases.contains(n)
                            {
                                through_cast = true;
                            }
                        });
                        if through_cast {
                            effects.bit_atomic.insert(r.clone());
                        }
                        effects.written.insert(r.clone());
                        effects.atomic.insert(r);
                    }
                    // The file's own `atomicMax(float *, float)` (see
                    // `FnLower::file_atomic`): what it does to its pointer counts.
                    let roots = call.args.iter().map(|a| root_of(a, &aliases)).collect();
                    calls.push((e.span, call.callee.clone(), roots, true));
                } else if matches!(
                    call.callee.trim_start_matches("::"),
                    "__stwb" | "__stcg" | "__stcs" | "__stwt" | "memcpy" | "memset"
                ) {
                    // Stores with a cache hint: `__stcs(p, v)` is `*p = v`;
                    // `memcpy`/`memset` write their destination.
                    if let Some(r) = call.args.first().and_then(|a| root_of(a, &aliases)) {
                        effects.written.insert(r);
                    }
                } else if let Some(out_args) = out_arguments(call.callee.trim_start_matches("::")) {
                    // Builtins writing through their pointer arguments.
                    for a in call.args.iter().skip(out_args) {
                        if let Some(r) = root_of(a, &aliases) {
                            effects.written.insert(r);
                        }
                    }
                } else if let Some(obj) = &call.receiver {
                    // `obj.m(a)`: the member functions `S::m(S *this, a)`
                    // of any struct (the object's type is not known here:
                    // every candidate's effects count).
                    let suffix = format!("::{}", call.method().unwrap_or_default());
                    for f in &self.model.functions {
                        if f.name.ends_with(&suffix)
                            && f.params.first().is_some_and(|p| p.name == "this")
                        {
                            let roots = std::iter::once(root_of(obj, &aliases))
                                .chain(call.args.iter().map(|a| root_of(a, &aliases)))
                                .collect();
                            calls.push((e.span, f.name.clone(), roots, false));
                        }
                    }
                } else {
                    let roots = call.args.iter().map(|a| root_of(a, &aliases)).collect();
                    // `f<N - 1>(..)` in `f<N>` may reach a specialization
                    // that ends it (`template <> f<0>`): the instances
                    // tell, when the transpiler makes them.
                    let known = call.template_args.is_empty();
                    calls.push((e.span, call.callee.clone(), roots, known));
                }
            }
            _ => {}
        });
        for (span, callee, roots, known) in calls {
            let callee = namespaced_callee(
                self.model,
                callee.trim_start_matches("::").trim_start_matches("std::"),
            )
            .to_string();
            let Some(target) = device_function(self.model, &callee) else {
                continue;
            };
            // A builtin of the same name (`make_float2(s, s)` in helper_math's
            // `make_float2(float s)`, `fabs(v.x)` in its `fabs(float2 v)`):
            // the transpiler lowers it itself, not as a call of the file's
            // function.
            if crate::builtin_names::builtin_before_functions(
                callee.trim_start_matches("::").trim_start_matches("std::"),
                roots.len(),
            ) {
                continue;
            }
            if target.body.is_none() || !target.callable_from_device() {
                continue;
            }
            if self.stack.contains(&callee) {
                // A method candidate may be another struct's method of
                // that name: no recursion is claimed on a guess.
                if !known {
                    continue;
                }
                self.recursion.push((
                    span,
                    format!("recursive call to `{callee}`: WGSL does not allow recursion"),
                ));
                continue;
            }
            let callee_effects = self.effects(&callee);
            // File-scope variables the callee writes (not through a parameter).
            let global = |n: &String| {
                !target.params.iter().any(|p| &p.name == n)
                    && self.model.globals.iter().any(|g| &g.name == n)
            };
            effects
                .written
                .extend(callee_effects.written.iter().filter(|n| global(n)).cloned());
            effects
                .atomic
                .extend(callee_effects.atomic.iter().filter(|n| global(n)).cloned());
            effects.bit_atomic.extend(
                callee_effects
                    .bit_atomic
                    .iter()
                    .filter(|n| global(n))
                    .cloned(),
            );
            for (param, root) in target.params.iter().zip(roots) {
                let Some(root) = root else { continue };
                if callee_effects.written.contains(&param.name) {
                    effects.written.insert(root.clone());
                }
                if callee_effects.bit_atomic.contains(&param.name) {
                    effects.bit_atomic.insert(root.clone());
                }
                if callee_effects.atomic.contains(&param.name) {
                    effects.atomic.insert(root);
                }
            }
        }
        self.stack.pop();
        self.memo.insert(name.to_string(), effects.clone());
        effects
    }
}

/// Whether `e` contains a pointer cast.
fn has_cast(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| {
        if let ExprKind::Cast { ty, .. } = &x.kind
            && ty.pointer > 0
        {
            found = true;
        }
    });
    found
}

/// The array or pointer variable an lvalue/pointer expression reaches.
/// An `auto` variable's initialiser that may be a pointer (`a + i * n`,
/// `&a[i]`, `(T*)a`, `a`), not an element read (`a[i]`, `p->x`, `*p`): an
/// over-approximation, as aliasing a value only makes its root count as
/// written.
fn pointer_like(init: Option<&Expr>) -> bool {
    match init.map(|e| &e.kind) {
        Some(ExprKind::Ident(_) | ExprKind::Unary(UnOp::AddrOf, _)) => true,
        Some(ExprKind::Binary(op, a, _)) => {
            matches!(op, BinOp::Add | BinOp::Sub) && pointer_like(Some(a))
        }
        Some(ExprKind::Cast { ty, expr, .. }) => ty.pointer > 0 || pointer_like(Some(expr)),
        _ => false,
    }
}

pub fn root_of(e: &Expr, aliases: &HashMap<String, String>) -> Option<String> {
    match &e.kind {
        ExprKind::Ident(n) => Some(aliases.get(n).cloned().unwrap_or_else(|| n.clone())),
        ExprKind::Index(a, _) => root_of(a, aliases),
        ExprKind::Binary(_, a, _) => root_of(a, aliases),
        ExprKind::Unary(UnOp::AddrOf | UnOp::Deref, a) => root_of(a, aliases),
        ExprKind::Cast { expr, .. } => root_of(expr, aliases),
        ExprKind::Member { base, .. } => root_of(base, aliases),
        // `c ? q + k : nullptr`: only `q` can be reached through it.
        ExprKind::Ternary(_, a, b) if is_null_literal(b) => root_of(a, aliases),
        ExprKind::Ternary(_, a, b) if is_null_literal(a) => root_of(b, aliases),
        _ => None,
    }
}

/// `dUtils::AigNodeID` → `AigNodeID`: a function of a namespace (the model
/// keeps bare names) when no function has the qualified name, exactly one
/// device definition has the bare one, and the qualifier is no struct or template
/// (whose static members are not modelled). Otherwise `name` itself.
pub(crate) fn namespaced_callee<'a>(model: &FileModel, name: &'a str) -> &'a str {
    let Some((qualifier, bare)) = name.rsplit_once("::") else {
        return name;
    };
    let last = qualifier.rsplit("::").next().unwrap_or(qualifier);
    // Device code can only call a definition that runs on the device.
    let unique = || {
        model
            .functions
            .iter()
            .filter(|f| f.name == bare && f.body.is_some() && f.callable_from_device())
            .count()
            == 1
    };
    if model.function(name).is_none()
        && !qualifier.contains(['<', '>', '(', ' ', '.'])
        && !model.types.structs.contains_key(qualifier)
        && !model.types.structs.contains_key(last)
        && unique()
    {
        bare
    } else {
        name
    }
}

/// The function device code calls by `name`: the first definition that
/// runs on the device, else what the model finds (a host function or a
/// declaration, which the caller reports).
pub(crate) fn device_function<'a>(
    model: &'a FileModel,
    name: &str,
) -> Option<&'a cudalens_syntax::model::Function> {
    model
        .functions
        .iter()
        .map(|f| &**f)
        .find(|f| f.name == name && f.body.is_some() && f.callable_from_device())
        .or_else(|| model.function(name))
}

/// Whether a call of the device function `name` only computes its result:
/// its body (and those of the functions it calls, `depth` deep) assigns
/// nothing but its own locals and by-value parameters, and calls only
/// CUDA's pure math and conversions (`AigIsNode(id, n) { return id > n; }`
/// inside an `assert`). Anything unsure is an effect.
pub(crate) fn computes_only(model: &FileModel, name: &str, depth: usize) -> bool {
    let name = namespaced_callee(model, name);
    let Some(f) = device_function(model, name) else {
        return false;
    };
    let Some(body) = f.body.as_deref() else {
        return false;
    };
    if depth == 0 || f.params.iter().any(|p| p.ty.base.contains('&')) {
        return false;
    }
    let mut locals: HashSet<String> = f
        .params
        .iter()
        .filter(|p| p.ty.pointer == 0 && p.dims.is_empty())
        .map(|p| p.name.clone())
        .collect();
    let mut declares_static = false;
    body.walk(&mut |s| {
        if let StmtKind::Decl(ds) = &s.kind {
            for d in ds {
                declares_static |= d.is_static || d.shared || d.ty.base.contains('&');
                if d.ty.pointer == 0 {
                    locals.insert(d.name.clone());
                }
            }
        }
        declares_static |= matches!(s.kind, StmtKind::Goto(_));
    });
    if declares_static {
        return false;
    }
    let mut pure = true;
    body.walk_exprs(&mut |e| {
        pure &= match &e.kind {
            ExprKind::Assign(_, target, _) | ExprKind::IncDec { target, .. } => {
                matches!(&target.kind, ExprKind::Ident(n) if locals.contains(n))
            }
            ExprKind::Call(c) => {
                c.receiver.is_none()
                    && (crate::builtin_names::pure_builtin(&c.callee, c.args.len())
                        || computes_only(model, &c.callee, depth - 1))
            }
            ExprKind::Launch(_) | ExprKind::Unknown(_) => false,
            _ => true,
        };
    });
    pure
}

/// An assignment, increment or call other than pure math anywhere in `e`.
pub(crate) fn has_side_effect(e: &Expr) -> bool {
    let mut effect = false;
    e.walk(&mut |x| {
        effect |= match &x.kind {
            ExprKind::Assign(..) | ExprKind::IncDec { .. } => true,
            ExprKind::Call(c) => !crate::builtin_names::pure_builtin(&c.callee, c.args.len()),
            _ => false,
        };
    });
    effect
}

/// `nullptr`, `NULL`, `__null` or `0`, cast or not: a null pointer.
pub(crate) fn is_null_literal(e: &Expr) -> bool {
    match &e.without_casts().kind {
        ExprKind::Int { value: 0, .. } => true,
        ExprKind::Ident(n) => matches!(n.as_str(), "NULL" | "nullptr" | "__null"),
        _ => false,
    }
}

/// Where the math builtins that write through pointers take them: the
/// arguments from this index on (`sincosf(x, &s, &c)`, `frexpf(x, &e)`,
/// `modff(x, &i)`, `remquof(x, y, &q)`).
fn out_arguments(callee: &str) -> Option<usize> {
    Some(match callee {
        "sincosf" | "__sincosf" | "sincos" | "sincospif" | "sincospi" => 1,
        "frexpf" | "frexp" | "modff" | "modf" => 1,
        "remquof" | "remquo" => 2,
        _ => return None,
    })
}
