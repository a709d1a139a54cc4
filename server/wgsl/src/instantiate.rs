//! Which template arguments a kernel is compiled with when the caller does
//! not say: those of a launch in the file, read in the launching function's
//! context. A launch inside a host template (`template <typename T> void
//! run() { k<T><<<g, b>>>(...); }`) is followed to the calls of that
//! template (`run<float>()`, or `run(d_x)` with `float* d_x`), and a
//! launch without template arguments deduces type parameters from its
//! arguments' declared types (`k<<<g, b>>>(d_x)` with `float* d_x` and
//! `T* x`). Values are folded with the launching function's constants
//! (`const int threads = 256; k<threads><<<...>>>`). Explicit
//! instantiations (`template void run<float>(float*, int);`,
//! `template __global__ void k<int>(int*);`) count as calls, and so do
//! calls of a class template's member function on an object of known type
//! (`Table<int, float> t; t.insert(n);` for `Table<K, V>::insert`).

use std::collections::HashMap;

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{Expr, ExprKind, StmtKind, Type as CType, UnOp};
use cudalens_syntax::model::{Function, TemplateParamKind};

use crate::SourceTexts;
/// Re-exported where the transpiler's callers used it.
pub use cudalens_syntax::types::split_top_level;
use cudalens_syntax::types::template_instance;

/// How deep host templates are followed (a launch in `run<T>` called from
/// `dispatch<T>` called from `main` is depth 2).
const MAX_DEPTH: usize = 4;

/// The arguments of `kernel`'s template parameters as the first launch
/// that resolves them all gives them, each written as a type or an integer;
/// `None` when no launch resolves (defaults then apply, see `bind_template`).
pub fn from_launches(
    model: &FileModel,
    texts: &SourceTexts<'_>,
    kernel: &Function,
) -> Option<Vec<String>> {
    let resolver = Resolver { model, texts };
    let mut partial: Option<Vec<String>> = None;
    // A launch made in another file names its caller and arguments in that file's text.
    for launch in launches_for(model, kernel).filter(|l| l.is_local()) {
        let caller = model.function(&launch.caller);
        if let Some(args) =
            resolver.launch_arguments(kernel, &launch.template_args, &launch.args, caller)
        {
            return Some(args);
        }
        // Arguments written in terms of the caller's own template
        // parameters (`k<T><<<...>>>` in `run<T>`) say nothing here.
        let names_caller_parameter = |a: &String| {
            caller.is_some_and(|c| c.template_params.iter().any(|p| p.name == a.trim()))
        };
        if partial.is_none()
            && !launch.template_args.is_empty()
            && !launch.template_args.iter().any(names_caller_parameter)
        {
            partial = Some(launch.template_args.clone());
        }
    }
    // Launches in the host functions of the file's headers (the model
    // resolves only the main file's): `dispatch<K>` in `sort.cuh` launching
    // `sort_kernel<<<...>>>(keys)`, called from `main` with `int *keys`.
    for f in model.functions.iter().filter(|f| !f.in_main_file()) {
        let Some(body) = &f.body else { continue };
        let mut found = Vec::new();
        body.walk_exprs(&mut |e| {
            if let ExprKind::Launch(l) = &e.kind
                && l.kernel.rsplit("::").next() == Some(kernel.name.as_str())
                && kernel.accepts_arguments(l.args.len())
            {
                found.push((l.template_args.clone(), l.args.clone()));
            }
        });
        for (template_args, args) in found {
            if let Some(resolved) =
                resolver.launch_arguments(kernel, &template_args, &args, Some(f))
            {
                return Some(resolved);
            }
        }
    }
    explicit_instantiations(texts, &kernel.name)
        .into_iter()
        .find(|args| args.len() >= kernel.template_params.len())
        .or(partial)
        .or_else(|| resolver.named_instance(kernel))
}

/// The launches of `f` in the model: those of its name whose argument
/// count fits it (one overload's launches, not another's).
pub(crate) fn launches_for<'a>(
    model: &'a FileModel,
    f: &'a Function,
) -> impl Iterator<Item = &'a cudalens_syntax::model::LaunchSite> {
    (model.launches_of(&f.name)).filter(|l| f.accepts_arguments(l.args.len()))
}

struct Resolver<'m> {
    model: &'m FileModel,
    texts: &'m SourceTexts<'m>,
}

impl<'m> Resolver<'m> {
    /// `launch(compute_ssim<win_size>, ...)`: the kernel's instance named
    /// as a value, passed to a host function that launches it through a
    /// parameter; its arguments read where it is named.
    fn named_instance(&self, kernel: &Function) -> Option<Vec<String>> {
        for f in self.model.functions.iter().filter(|f| f.body.is_some()) {
            for written in named_instances(f, &kernel.name) {
                let args = self.launch_arguments(kernel, &written, &[], Some(f));
                if args.is_some() {
                    return args;
                }
            }
        }
        None
    }

    /// Every template argument of `kernel` at one launch in `caller`
    /// (written, deduced from the arguments, or defaulted); `None` unless
    /// all resolve.
    fn launch_arguments(
        &self,
        kernel: &Function,
        template_args: &[String],
        args: &[Expr],
        caller: Option<&'m Function>,
    ) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for (i, tp) in kernel.template_params.iter().enumerate() {
            let resolved = match template_args.get(i) {
                Some(written) => self.resolve(written, &tp.kind, caller, 0),
                None => match tp.kind {
                    TemplateParamKind::Type => self.deduce(kernel, &tp.name, args, caller, 0),
                    TemplateParamKind::Value(_) => None,
                },
            };
            out.push(resolved.or_else(|| tp.default.clone())?);
        }
        Some(out)
    }

    /// `written` (an argument in `caller`) as a concrete type or integer.
    fn resolve(
        &self,
        written: &str,
        kind: &TemplateParamKind,
        caller: Option<&'m Function>,
        depth: usize,
    ) -> Option<String> {
        let written = written.trim();
        if let Some(caller) = caller
            && let Some(index) = caller
                .template_params
                .iter()
                .position(|p| p.name == written)
        {
            return self.caller_argument(caller, index, depth);
        }
        match kind {
            TemplateParamKind::Type => {
                // A type that names a template parameter of an enclosing
                // template cannot be known here.
                let base = written.trim_start_matches("typename ").trim();
                if let Some(alias) = caller.and_then(|c| local_alias_of(c, base)) {
                    return Some(alias);
                }
                // `typedef typename V::ScalarType Scalar;` in `dot<V>`: the
                // member type of `V`'s argument. A local alias that cannot be
                // read hides any file-scope type of that name: unknown.
                if let Some(caller) = caller
                    && let Some(aliased) = local_alias_text(caller, base)
                {
                    let (qualifier, member) =
                        aliased.trim_start_matches("typename ").rsplit_once("::")?;
                    let index = caller
                        .template_params
                        .iter()
                        .position(|p| p.name == qualifier.trim())?;
                    let instance = self.caller_argument(caller, index, depth)?;
                    let (class, args) = match instance.contains('<') {
                        true => template_instance(&instance)?,
                        false => (instance.trim(), Vec::new()),
                    };
                    let t = self.model.types.member_type(class, &args, member.trim())?;
                    return (t.pointer == 0).then_some(t.base);
                }
                // `k<Pair<T, int>>` in `run<T>`: the caller's arguments inside.
                if let Some((class, args)) = template_instance(base)
                    && caller.is_some_and(|c| !c.template_params.is_empty())
                {
                    let mut resolved = Vec::new();
                    for a in &args {
                        let a = a.trim();
                        // A number or the caller's value parameter; else a type.
                        let value = a.parse::<i128>().is_ok()
                            || caller.is_some_and(|c| {
                                c.template_params.iter().any(|p| {
                                    p.name == a && matches!(p.kind, TemplateParamKind::Value(_))
                                })
                            });
                        let kind = match value {
                            true => TemplateParamKind::Value(CType::named("int")),
                            false => TemplateParamKind::Type,
                        };
                        resolved.push(self.resolve(a, &kind, caller, depth + 1)?);
                    }
                    return Some(format!("{class}<{}>", resolved.join(", ")));
                }
                // `driver<MINIFE_SCALAR>()` with `-DMINIFE_SCALAR=double`.
                let is_macro = self
                    .model
                    .macros
                    .get(base)
                    .is_some_and(|m| m.params.is_none());
                match is_macro
                    .then(|| self.model.macros.expand_text(base).ok())
                    .flatten()
                {
                    Some(expanded) => Some(expanded.trim().to_string()),
                    None => Some(base.to_string()),
                }
            }
            TemplateParamKind::Value(_) => {
                self.value(written, caller, depth).map(|v| v.to_string())
            }
        }
    }

    /// An integer argument: a literal, a constant of the file, a constant
    /// local of the launching function, or a macro expanding to one. The
    /// launching function's constants see its own template arguments
    /// (`const int rows = sizeof(T) == 8 ? 32 : 96;` in `run<T>`).
    fn value(&self, written: &str, caller: Option<&'m Function>, depth: usize) -> Option<i128> {
        let file = self.model.const_env();
        let mut bound = file.child();
        if let Some(caller) = caller {
            let used = match caller.template_params.is_empty() {
                true => Default::default(),
                false => names_used(caller),
            };
            for (index, tp) in caller.template_params.iter().enumerate() {
                if !written.contains(tp.name.as_str()) && !used.contains(&tp.name) {
                    continue;
                }
                let Some(arg) = self.caller_argument(caller, index, depth) else {
                    continue;
                };
                match &tp.kind {
                    TemplateParamKind::Type => {
                        let ty = CType::named(&cudalens_syntax::types::normalize_base(&arg));
                        bound.type_names.insert(tp.name.clone(), ty);
                    }
                    TemplateParamKind::Value(_) => {
                        if let Ok(v) = arg.trim().parse::<i128>() {
                            bound.values.insert(tp.name.clone(), v);
                        }
                    }
                }
            }
        }
        let local = caller.map(|c| c.const_env(&bound));
        let env = local.as_ref().unwrap_or(&bound);
        let literal = |t: &str| -> Option<i128> {
            let t = t.trim().trim_end_matches(['u', 'U', 'l', 'L']);
            match t {
                "true" => Some(1),
                "false" => Some(0),
                _ => t.parse::<i128>().ok().or_else(|| {
                    let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
                    i128::from_str_radix(hex, 16).ok()
                }),
            }
        };
        literal(written)
            .or_else(|| env.lookup(written))
            .or_else(|| {
                let expanded = self.model.macros.expand_text(written).ok()?;
                let inner = expanded.trim_matches(|c| c == '(' || c == ')' || c == ' ');
                literal(inner).or_else(|| env.lookup(inner))
            })
            // `BLOCK_Y + UNROLL`, `2 * RADIUS`: every name a constant here.
            .or_else(|| {
                cudalens_syntax::preprocess::cexpr::eval_constant(
                    written,
                    &self.model.macros,
                    &|name: &str| env.lookup(name),
                )
            })
    }

    /// The argument of `host`'s template parameter `index` at its first
    /// call that gives one (explicitly or by deduction).
    fn caller_argument(&self, host: &'m Function, index: usize, depth: usize) -> Option<String> {
        if depth >= MAX_DEPTH {
            return None;
        }
        let tp = host.template_params.get(index)?;
        let class = self.class_template_of(host);
        for f in &self.model.functions {
            let Some(body) = &f.body else { continue };
            let mut calls = Vec::new();
            let declared = declared_types(f);
            // `RunTest(..., run_smem<CHANNELS, BINS, T>)`: an instance
            // named (passed on to be called), its arguments written.
            calls.extend(
                named_instances(f, &host.name)
                    .into_iter()
                    .map(|w| (w, Vec::new())),
            );
            body.walk_exprs(&mut |e| {
                let ExprKind::Call(call) = &e.kind else {
                    return;
                };
                if !host.accepts_arguments(call.args.len()) {
                    return;
                }
                // `run(...)`, `::run(...)`, `ns::run(...)`.
                let callee = call.callee.trim_start_matches("::");
                let named = callee == host.name
                    || callee
                        .strip_suffix(host.name.as_str())
                        .is_some_and(|q| q.ends_with("::") && !q.contains(['<', '>']));
                if call.receiver.is_none() && named {
                    calls.push((call.template_args.clone(), call.args.clone()));
                }
                // `table.insert(keys, n)` of a `HashTable<uint64, uint32>
                // table` calls `HashTable<K, V>::insert` with the object's
                // arguments.
                if let Some(class) = &class
                    && call.method() == Some(host.name.as_str())
                    && let Some(ExprKind::Ident(object)) = call.receiver.as_deref().map(|r| &r.kind)
                    && let Some(ty) = declared.get(object.as_str())
                    && ty.base == *class
                    && ty.template_args.len() == host.template_params.len()
                {
                    calls.push((ty.template_args.clone(), call.args.clone()));
                }
            });
            for (template_args, args) in calls {
                let found = match template_args.get(index) {
                    Some(written) => self.resolve(written, &tp.kind, Some(f), depth + 1),
                    None if matches!(tp.kind, TemplateParamKind::Type) => {
                        self.deduce(host, &tp.name, &args, Some(f), depth + 1)
                    }
                    None => None,
                };
                if found.is_some() {
                    return found;
                }
            }
        }
        explicit_instantiations(self.texts, &host.name)
            .into_iter()
            .find_map(|args| args.get(index).cloned())
            // `template class PiEstimator<float>;` instantiates every
            // member of the class, `PiEstimator<Real>::operator()` too.
            .or_else(|| {
                let class = class.as_deref()?;
                explicit_class_instantiations(self.texts, class)
                    .into_iter()
                    .find_map(|args| args.get(index).cloned())
            })
            .or_else(|| {
                // `template vector<float> run(const csr<float> &m, int k);`:
                // deduced from the parameter types it spells.
                let TemplateParamKind::Type = tp.kind else {
                    return None;
                };
                explicit_signatures(self.texts, &host.name)
                    .iter()
                    .filter(|written| written.len() == host.params.len())
                    .find_map(|written| {
                        (host.params.iter().zip(written))
                            .find_map(|(p, w)| deduce_from_written(&p.ty, &tp.name, w))
                    })
            })
            .or_else(|| tp.default.clone())
    }

    /// `HashTable` when `host` is a member function of that class template
    /// defined outside it with the class's parameters as its own
    /// (`template <typename K, typename V> void HashTable<K, V>::insert(...)`;
    /// the model names it `insert`).
    fn class_template_of(&self, host: &Function) -> Option<String> {
        let text = self.texts.text_of(host.file.as_deref())?;
        let written = text.get(host.name_span.start..host.name_span.end)?;
        let (qualifier, _) = written.rsplit_once("::")?;
        let (class, args) = template_instance(qualifier)?;
        let own = host.template_params.iter().map(|p| p.name.as_str());
        (args.iter().map(|a| a.trim()).eq(own)).then(|| class.to_string())
    }

    /// Deduces type parameter `name` of `callee` from the arguments of a
    /// call in `caller`: a parameter declared `T`, `T*` or `const T*` whose
    /// argument is a variable of known type.
    fn deduce(
        &self,
        callee: &Function,
        name: &str,
        args: &[Expr],
        caller: Option<&'m Function>,
        depth: usize,
    ) -> Option<String> {
        let caller = caller?;
        let declared = declared_types(caller);
        for (param, arg) in callee.params.iter().zip(args) {
            let direct = param.ty.base == name;
            if !direct && !param.ty.template_args.iter().any(|a| a.trim() == name) {
                continue;
            }
            // A literal has its own type (`1` an `int`, `1.0f` a `float`),
            // as C++ deduces from it.
            if direct
                && param.ty.pointer == 0
                && let Some(literal) = literal_type(arg)
            {
                return Some(literal.to_string());
            }
            // `run(PayoffPut(k))`: a temporary of a struct is that struct.
            let temporary;
            let ty = match &arg.kind {
                ExprKind::Cast { ty, .. } => &**ty,
                ExprKind::Ident(var) => match declared.get(var.as_str()) {
                    Some(ty) => *ty,
                    None => continue,
                },
                ExprKind::Call(call)
                    if call.receiver.is_none()
                        && self.model.types.structs.contains_key(&call.callee) =>
                {
                    temporary = CType {
                        base: call.callee.clone(),
                        ..CType::default()
                    };
                    &temporary
                }
                // `run(Avg<float>())`: a temporary of a class template's instance.
                ExprKind::Call(call)
                    if call.receiver.is_none()
                        && !call.template_args.is_empty()
                        && self.model.class_templates.contains_key(&call.callee) =>
                {
                    temporary = CType {
                        base: call.callee.clone(),
                        template_args: call.template_args.clone(),
                        ..CType::default()
                    };
                    &temporary
                }
                _ => continue,
            };
            if ty.pointer < param.ty.pointer {
                continue;
            }
            // `const csr<T> &m` given a `csr<float>` (or the caller's `csr<U>`).
            let found = match direct {
                // `const V &b` given a `Vector<Scalar, int> b`: the
                // instance, its arguments read in the caller.
                true if !ty.template_args.is_empty() => {
                    let mut args = Vec::new();
                    for a in &ty.template_args {
                        let kind = TemplateParamKind::Type;
                        let resolved = match a.trim().parse::<i128>() {
                            Ok(_) => a.trim().to_string(),
                            Err(_) => self.resolve(a, &kind, Some(caller), depth + 1)?,
                        };
                        args.push(resolved);
                    }
                    return Some(format!("{}<{}>", ty.base, args.join(", ")));
                }
                true => ty.base.clone(),
                false => match template_argument_at(&param.ty, ty, name) {
                    Some(found) => found,
                    None => continue,
                },
            };
            if let Some(index) = caller.template_params.iter().position(|p| p.name == found) {
                if let Some(found) = self.caller_argument(caller, index, depth) {
                    return Some(found);
                }
                continue;
            }
            // `using scalar_t = float; scalar_t *d_x; run(d_x);`
            return Some(local_alias_of(caller, &found).unwrap_or(found));
        }
        None
    }
}

/// The names `f`'s body uses (`sizeof(T)` included, however the grammar
/// read it): a template parameter its constants could need.
fn names_used(f: &Function) -> std::collections::HashSet<String> {
    let mut used = std::collections::HashSet::new();
    if let Some(body) = &f.body {
        body.walk_exprs(&mut |e| match &e.kind {
            ExprKind::SizeofType(t) => {
                used.insert(t.base.clone());
            }
            ExprKind::Ident(n) => {
                used.insert(n.clone());
            }
            _ => {}
        });
    }
    used
}

/// The arguments of each instance of `name` that `f`'s body names as a
/// value rather than calls (`Run(run_smem<4, T>)`, `launch(k<8>, x)`).
fn named_instances(f: &Function, name: &str) -> Vec<Vec<String>> {
    let mut named = Vec::new();
    if let Some(body) = &f.body {
        body.walk_exprs(&mut |e| {
            if let ExprKind::Unknown(text) = &e.kind
                && let Some((callee, written)) = template_instance(text)
                && callee.trim().trim_start_matches("::").rsplit("::").next() == Some(name)
            {
                named.push(written);
            }
        });
    }
    named
}

/// What a type alias local to `f` names (`using scalar_t = float;`,
/// `typedef unsigned int u32;` in its body), when it is a plain,
/// non-pointer type that names none of `f`'s template parameters.
fn local_alias_of(f: &Function, name: &str) -> Option<String> {
    let mut found = None;
    f.body.as_ref()?.walk(&mut |s| {
        if found.is_none()
            && let StmtKind::Unknown(text) = &s.kind
            && let Some((alias, ty)) = crate::stmt::local_alias(text)
            && alias == name
            && ty.pointer == 0
            && !f.template_params.iter().any(|p| p.name == ty.base)
        {
            found = Some(ty.base);
        }
    });
    found
}

/// What a local `typedef ... name;` or `using name = ...;` of `f` names,
/// as written (`typename V::ScalarType`).
fn local_alias_text(f: &Function, name: &str) -> Option<String> {
    let mut found = None;
    f.body.as_ref()?.walk(&mut |s| {
        let StmtKind::Unknown(text) = &s.kind else {
            return;
        };
        let t = text.trim().trim_end_matches(';').trim();
        let aliased = if let Some(rest) = t.strip_prefix("using ") {
            rest.split_once('=')
                .filter(|(n, _)| n.trim() == name)
                .map(|(_, ty)| ty.trim())
        } else {
            t.strip_prefix("typedef ")
                .and_then(|rest| rest.trim_end().strip_suffix(name))
                .filter(|ty| ty.ends_with(char::is_whitespace))
                .map(str::trim)
        };
        if found.is_none() {
            found = aliased.map(str::to_string);
        }
    });
    found
}

/// The argument `actual` gives where `pattern` has `name` among its
/// template arguments (`csr<T>` against `csr<float>` → `float`).
fn template_argument_at(pattern: &CType, actual: &CType, name: &str) -> Option<String> {
    if pattern.base != actual.base || pattern.template_args.len() != actual.template_args.len() {
        return None;
    }
    let at = pattern
        .template_args
        .iter()
        .position(|a| a.trim() == name)?;
    Some(actual.template_args[at].trim().to_string())
}

/// `name` deduced from one parameter of an explicit instantiation, as
/// written (`const csr_matrix<float> &matrix`), against the template's
/// declared parameter type (`const csr_matrix<T> &`).
fn deduce_from_written(declared: &CType, name: &str, written: &str) -> Option<String> {
    // The written type without its parameter name, qualifiers and declarators.
    let mut ty = written.trim();
    if let Some(end) = ty.rfind(|c: char| !(c.is_alphanumeric() || c == '_'))
        && ty[end + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
        && !ty[..=end].trim().is_empty()
    {
        ty = &ty[..=end];
    }
    let ty = ty.replace("const ", "").replace(['&', '*'], "");
    let ty = ty.trim();
    if declared.base == name && declared.template_args.is_empty() {
        return (!ty.is_empty()).then(|| ty.to_string());
    }
    let (base, args) = template_instance(ty)?;
    let actual = CType {
        base: base.to_string(),
        template_args: args,
        ..CType::default()
    };
    template_argument_at(declared, &actual, name)
}

/// The parameter lists of the explicit instantiations of `name` written
/// without template arguments (`template vector<float> run(const
/// csr<float> &m, int k);`), one declaration per entry, as written.
fn explicit_signatures(texts: &SourceTexts<'_>, name: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for statement in explicit_instantiation_statements(texts) {
        let Some(after) = after_name(statement, name).find(|a| a.starts_with('(')) else {
            continue;
        };
        let Some(close) = after.rfind(')') else {
            continue;
        };
        out.push(match after[1..close].trim() {
            "" | "void" => Vec::new(),
            inside => split_top_level(inside),
        });
    }
    out
}

/// The text after each whole-word occurrence of `name` in `statement`,
/// leading blanks removed.
fn after_name<'s>(statement: &'s str, name: &'s str) -> impl Iterator<Item = &'s str> {
    statement.match_indices(name).filter_map(move |(start, _)| {
        let before_ok = statement[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after = &statement[start + name.len()..];
        let after_ok = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        (before_ok && after_ok).then(|| after.trim_start())
    })
}

/// The type C++ gives a literal argument (`-1` too): `int`, `unsigned int`,
/// `long`, `unsigned long`, `float`, `double`, `bool`.
fn literal_type(e: &Expr) -> Option<&'static str> {
    match &e.kind {
        ExprKind::Int { unsigned, long, .. } => Some(match (*unsigned, *long) {
            (false, false) => "int",
            (true, false) => "unsigned int",
            (false, true) => "long",
            (true, true) => "unsigned long",
        }),
        ExprKind::Float { single: true, .. } => Some("float"),
        ExprKind::Float { single: false, .. } => Some("double"),
        ExprKind::Bool(_) => Some("bool"),
        ExprKind::Unary(UnOp::Neg, inner) => literal_type(inner),
        _ => None,
    }
}

/// The declared types of `f`'s parameters and locals, by name.
fn declared_types(f: &Function) -> HashMap<&str, &CType> {
    let mut out: HashMap<&str, &CType> =
        f.params.iter().map(|p| (p.name.as_str(), &p.ty)).collect();
    for d in f.local_decls() {
        out.entry(d.name.as_str()).or_insert(&d.ty);
    }
    out
}

/// The template arguments of every explicit instantiation of `name` in the
/// texts (`template void name<A, B>(...);`), as written. The model does not
/// keep explicit instantiations, so they are read from the text: a
/// `template` keyword not followed by `<`, up to the next `;`.
fn explicit_instantiations(texts: &SourceTexts<'_>, name: &str) -> Vec<Vec<String>> {
    (explicit_instantiation_statements(texts).into_iter())
        .filter_map(|statement| instantiation_in(statement, name))
        .collect()
}

/// The arguments of each explicit instantiation of class template
/// `class` (`template class C<float>;`, `template struct C<int, 4>;`).
fn explicit_class_instantiations(texts: &SourceTexts<'_>, class: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for statement in explicit_instantiation_statements(texts) {
        let statement = statement.trim();
        let Some(rest) =
            (statement.strip_prefix("class ")).or_else(|| statement.strip_prefix("struct "))
        else {
            continue;
        };
        // `ns::C<float>` names `C` too (the model names a class by its last part).
        if let Some((written, args)) = template_instance(rest.trim())
            && written.trim().rsplit("::").next() == Some(class)
        {
            found.push(args);
        }
    }
    found
}

/// The text after each `template` keyword not followed by `<` (an
/// explicit instantiation), up to the next `;` or `{`, in every text.
fn explicit_instantiation_statements<'t>(texts: &'t SourceTexts<'_>) -> Vec<&'t str> {
    let mut out = Vec::new();
    let all = std::iter::once(texts.main).chain(texts.headers.values().map(|t| &**t));
    for text in all {
        let mut from = 0;
        while let Some(found) = text[from..].find("template") {
            let start = from + found;
            from = start + "template".len();
            let before_ok = text[..start]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let after = &text[from..];
            let line_start = text[..start].rfind('\n').map_or(0, |n| n + 1);
            let in_comment = text[line_start..start].contains("//");
            if !before_ok
                || in_comment
                || !after.starts_with(char::is_whitespace)
                || after.trim_start().starts_with('<')
            {
                continue;
            }
            out.push(&text[from..from + text[from..].find([';', '{']).unwrap_or(0)]);
        }
    }
    out
}

/// `... name<A, B>(...)` in `statement` → `["A", "B"]`.
fn instantiation_in(statement: &str, name: &str) -> Option<Vec<String>> {
    for after in after_name(statement, name).filter(|a| a.starts_with('<')) {
        let mut depth = 0i32;
        let mut end = None;
        for (i, c) in after.char_indices() {
            match c {
                '<' | '(' => depth += 1,
                '>' | ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let end = end?;
        if !after[end + 1..].trim_start().starts_with('(') {
            continue;
        }
        return Some(split_top_level(&after[1..end]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_instantiations_are_read_from_the_text() {
        let text = "template <typename T> void run(T* x);\n\
                    template void run<float>(float* x);\n\
                    template __global__ void k<Vec<int, 2>, 64>(int*);\n\
                    // template is a word in comments too\n\
                    // template void run<int>(int* x);\n";
        let texts = SourceTexts::main(text);
        assert_eq!(
            explicit_instantiations(&texts, "run"),
            vec![vec!["float".to_string()]]
        );
        assert_eq!(
            explicit_instantiations(&texts, "k"),
            vec![vec!["Vec<int, 2>".to_string(), "64".to_string()]]
        );
        assert!(explicit_instantiations(&texts, "rerun").is_empty());
    }

    #[test]
    fn explicit_class_instantiations_are_read_from_the_text() {
        let text = "template class PiEstimator<float>;\n\
                    template struct mc::Engine<double, 4>;\n\
                    template void run<int>(int* x);\n";
        let texts = SourceTexts::main(text);
        assert_eq!(
            explicit_class_instantiations(&texts, "PiEstimator"),
            vec![vec!["float".to_string()]]
        );
        assert_eq!(
            explicit_class_instantiations(&texts, "Engine"),
            vec![vec!["double".to_string(), "4".to_string()]]
        );
        assert!(explicit_class_instantiations(&texts, "run").is_empty());
    }
}
