//! Finds every `kernel<<<grid, block, smem, stream>>>(...)` and resolves its
//! configuration as far as the file allows: `dim3` variables, integer locals,
//! macros and file-scope constants.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Dim3, FileModel, Function, LaunchSite};
use crate::consteval::ConstEnv;
use crate::fingerprint::{self, FingerprintMap, Fingerprinter};
use crate::ir::{BinOp, Expr, ExprKind, LaunchExpr, UnOp, VarDecl};

/// The launches found in one caller, kept between builds: (file constants
/// and types they were resolved with, where the caller started, launches).
pub(super) type LaunchCache = FingerprintMap<(u64, usize, Vec<Arc<LaunchSite>>)>;

pub(super) fn resolve_launches(model: &mut FileModel, cache: &mut LaunchCache) {
    let mut launches = Vec::with_capacity(cache.values().map(|(_, _, l)| l.len()).sum());
    let mut fresh = fingerprint::map_with_capacity(cache.len());
    let file_env = model.const_env();
    let env_hash = file_env_hash(model);
    for f in model
        .functions
        .iter()
        .filter(|f| f.in_main_file() && f.has_launches)
    {
        let Some(body) = &f.body else { continue };
        let start = f.span.start;
        // Same caller text, same file constants: the same launches, moved with the caller.
        let cached = cache
            .remove(&f.fingerprint)
            .or_else(|| fresh.get(&f.fingerprint).cloned())
            .filter(|(h, _, _)| *h == env_hash);
        let found = match cached {
            Some((_, old_start, mut found)) => {
                if old_start != start {
                    let delta = start as isize - old_start as isize;
                    // In place: the model built last time no longer holds them.
                    found.iter_mut().for_each(|l| Arc::make_mut(l).shift(delta));
                }
                found
            }
            None => {
                let mut found = Vec::new();
                // The caller's scope is only worth building when it launches something.
                let mut locals = None;
                body.walk_exprs(&mut |e| {
                    if let ExprKind::Launch(launch) = &e.kind {
                        let LaunchExpr {
                            kernel,
                            template_args,
                            config,
                            args,
                        } = &**launch;
                        let scope = locals.get_or_insert_with(|| LocalScope::new(f, &file_env));
                        found.push(Arc::new(scope.launch(
                            e,
                            kernel,
                            template_args,
                            config,
                            args,
                        )));
                    }
                });
                through_pointers(f, found)
            }
        };
        launches.extend_from_slice(&found);
        fresh.insert(f.fingerprint, (env_hash, start, found));
    }
    *cache = fresh;
    model.launches = launches;
}

/// The launches of `kernel` made in the bodies of the headers' functions
/// (tpacf's `histogram_kernel.cu`, included by `compute.cu`, both defines
/// `histoKernel` and launches it from its host function `GPUHistogram`):
/// resolved in their caller as the file's own launches are, then seen as
/// made in that header (`LaunchSite::seen_from_elsewhere`: no span the main
/// file could mistake for its own). `read` gives a header's text, for the
/// line each is shown at. Not part of the model: `bench` asks for them when
/// neither the file nor a file including it launches the kernel.
pub fn header_launches(
    model: &FileModel,
    kernel: &str,
    read: &dyn Fn(&std::path::Path) -> Option<String>,
) -> Vec<LaunchSite> {
    let file_env = model.const_env();
    let mut out = Vec::new();
    for f in model
        .functions
        .iter()
        .filter(|f| !f.in_main_file() && f.has_launches)
    {
        let (Some(body), Some(path)) = (&f.body, &f.file) else {
            continue;
        };
        let mut found = Vec::new();
        let mut locals = None;
        body.walk_exprs(&mut |e| {
            if let ExprKind::Launch(launch) = &e.kind
                && launch.kernel.rsplit("::").next() == Some(kernel)
            {
                let scope = locals.get_or_insert_with(|| LocalScope::new(f, &file_env));
                found.push(scope.launch(
                    e,
                    &launch.kernel,
                    &launch.template_args,
                    &launch.config,
                    &launch.args,
                ));
            }
        });
        if found.is_empty() {
            continue;
        }
        let text = read(path).unwrap_or_default();
        out.extend(found.iter().map(|l| l.seen_from_elsewhere(path, &text)));
    }
    out
}

/// A launch through a function-pointer variable (`kernel = &copy; …
/// kernel<<<grid, threads>>>(…)`, as in the CUDA samples' `transpose.cu`)
/// is a launch of every kernel the caller assigns to that variable. Its
/// block argument is shared by all of them, so no fix may rewrite it. A
/// variable initialised with a kernel template's instance (`auto k =
/// align_kernel<int>; k<<<g, b>>>(…)`, HeCBench's moe-align) launches that
/// instance: its template arguments are the launch's.
fn through_pointers(caller: &Function, found: Vec<Arc<LaunchSite>>) -> Vec<Arc<LaunchSite>> {
    let Some(body) = &caller.body else {
        return found;
    };
    let mut instances: Vec<(String, String, Vec<String>)> = Vec::new();
    body.walk(&mut |s| {
        if let crate::ir::StmtKind::Decl(ds) = &s.kind {
            for d in ds {
                if found.iter().any(|l| l.kernel == d.name)
                    && let Some(init) = &d.init
                    && let Some((kernel, args)) = kernel_instance(init)
                {
                    instances.push((d.name.clone(), kernel, args));
                }
            }
        }
    });
    let found: Vec<Arc<LaunchSite>> = found
        .into_iter()
        .map(
            |launch| match instances.iter().find(|(var, ..)| *var == launch.kernel) {
                Some((_, kernel, args)) if launch.template_args.is_empty() => {
                    let mut each = (*launch).clone();
                    each.kernel = kernel.clone();
                    each.template_args = args.clone();
                    Arc::new(each)
                }
                _ => launch,
            },
        )
        .collect();
    let mut targets: Vec<(String, String)> = Vec::new();
    body.walk_exprs(&mut |e| {
        if let ExprKind::Assign(None, target, value) = &e.kind
            && let Some(var) = target.as_ident()
            && found.iter().any(|l| l.kernel == var)
        {
            let named = match &value.kind {
                ExprKind::Unary(UnOp::AddrOf, inner) => inner.as_ident(),
                _ => value.as_ident(),
            };
            if let Some(name) = named {
                let name = name.rsplit("::").next().unwrap_or(name).to_string();
                if !targets.contains(&(var.to_string(), name.clone())) {
                    targets.push((var.to_string(), name));
                }
            }
        }
    });
    if targets.is_empty() {
        return found;
    }
    let mut out = Vec::with_capacity(found.len() + targets.len());
    for launch in found {
        let pointed: Vec<&String> = targets
            .iter()
            .filter(|(var, _)| *var == launch.kernel)
            .map(|(_, kernel)| kernel)
            .collect();
        if pointed.is_empty() {
            out.push(launch);
            continue;
        }
        for kernel in pointed {
            let mut each = (*launch).clone();
            each.kernel = kernel.clone();
            each.block_arg_span = None;
            out.push(Arc::new(each));
        }
    }
    out
}

/// `name<a, b>` (or `&name<a, b>`, `name`) written as an initialiser: the
/// name and its template arguments (`types::split_top_level`).
fn kernel_instance(init: &Expr) -> Option<(String, Vec<String>)> {
    let text = match &init.kind {
        ExprKind::Unknown(t) => t.trim(),
        ExprKind::Ident(n) => return Some((n.clone(), Vec::new())),
        ExprKind::Unary(UnOp::AddrOf, inner) => return kernel_instance(inner),
        _ => return None,
    };
    let text = text.trim_start_matches('&').trim();
    let (name, args) = crate::types::template_instance(text)?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ':')
    {
        return None;
    }
    let name = name.rsplit("::").next().unwrap_or(name).to_string();
    Some((name, args))
}

/// What launch resolution reads besides the caller: file constants, type sizes and aliases.
fn file_env_hash(model: &FileModel) -> u64 {
    use std::hash::Hasher;
    let mut h = Fingerprinter::new();
    model.hash_environment(&mut h);
    h.finish()
}

/// The caller's local variables, for resolving `block`/`grid` names.
struct LocalScope<'a> {
    function: &'a Function,
    decls: Vec<&'a VarDecl>,
    /// Locals that are assigned after their declaration: their initial value may not hold.
    reassigned: HashSet<String>,
    env: ConstEnv<'a>,
}

impl<'a> LocalScope<'a> {
    fn new(function: &'a Function, file_env: &'a ConstEnv<'a>) -> Self {
        LocalScope {
            function,
            decls: function.local_decls(),
            reassigned: function.reassigned_vars(),
            env: function.const_env(file_env),
        }
    }

    fn launch(
        &self,
        e: &Expr,
        kernel: &str,
        template_args: &[String],
        config: &[Expr],
        args: &[Expr],
    ) -> LaunchSite {
        let block = config.get(1);
        LaunchSite {
            kernel: kernel.rsplit("::").next().unwrap_or(kernel).to_string(),
            template_args: template_args.to_vec(),
            span: e.span,
            name_span: e.span,
            caller: self.function.name.clone(),
            grid: config.first().cloned(),
            block: block.cloned(),
            smem: config.get(2).cloned(),
            stream: config.get(3).cloned(),
            args: args.to_vec(),
            grid_dims: config.first().map(|g| self.dim3(g, 0)).unwrap_or_default(),
            block_dims: block.map(|b| self.dim3(b, 0)).unwrap_or_default(),
            smem_bytes: config
                .get(2)
                .and_then(|s| self.env.eval(s))
                .and_then(|v| i64::try_from(v).ok()),
            block_arg_span: block.filter(|b| !b.from_macro).map(|b| b.span),
            arg_values: args.iter().map(|a| self.env.eval(a)).collect(),
            offset_args: args.iter().map(|a| self.offset_address(a, 0)).collect(),
            origin: None,
        }
    }

    /// Whether `e` is an address past the start of an allocation: pointer
    /// arithmetic, `&a[i]`, or a variable of the caller initialised or
    /// assigned so (see `LaunchSite::offset_args`). Integer arguments match
    /// too; only pointer parameters read the answer.
    fn offset_address(&self, e: &Expr, depth: u8) -> bool {
        if depth > 4 {
            return false;
        }
        match &e.kind {
            ExprKind::Binary(BinOp::Add | BinOp::Sub, ..) => true,
            // `&a[i]`, `&s.field`; `&x` of a whole variable is its start.
            ExprKind::Unary(UnOp::AddrOf, inner) => inner.as_ident().is_none(),
            ExprKind::Cast { expr, .. } => self.offset_address(expr, depth + 1),
            ExprKind::Ident(name) => {
                let init = self
                    .decl_of(name, e.span.start)
                    .and_then(|d| d.init.as_ref())
                    .is_some_and(|init| self.offset_address(init, depth + 1));
                init || (self.reassigned.contains(name.as_str())
                    && self.assigned_offset(name, depth))
            }
            _ => false,
        }
    }

    /// Whether the caller assigns `name` an offset address or moves it (`p += n`, `p++`).
    fn assigned_offset(&self, name: &str, depth: u8) -> bool {
        let Some(body) = &self.function.body else {
            return false;
        };
        let mut found = false;
        body.walk_exprs(&mut |e| match &e.kind {
            ExprKind::Assign(op, target, value) if target.as_ident() == Some(name) => {
                found |= op.is_some() || self.offset_address(value, depth + 1);
            }
            ExprKind::IncDec { target, .. } if target.as_ident() == Some(name) => found = true,
            _ => {}
        });
        found
    }

    fn int(&self, e: &Expr) -> Option<i64> {
        self.env.eval(e).and_then(|v| i64::try_from(v).ok())
    }

    fn components(&self, args: &[Expr]) -> Dim3 {
        let c = |k: usize| match args.get(k) {
            Some(a) => self.int(a),
            None => Some(1),
        };
        Dim3 {
            x: c(0),
            y: c(1),
            z: c(2),
        }
    }

    fn dim3(&self, e: &Expr, depth: u8) -> Dim3 {
        if depth > 8 {
            return Dim3::default();
        }
        match &e.kind {
            ExprKind::Call(call) if call.callee == "dim3" => self.components(&call.args),
            ExprKind::InitList(args) => self.components(args),
            ExprKind::Ident(name) => match self.decl_of(name, e.span.start) {
                Some(d) if d.ty.base == "dim3" => {
                    if self.reassigned.contains(name) {
                        return Dim3::default();
                    }
                    match (&d.ctor_args, &d.init) {
                        (Some(args), _) => self.components(args),
                        (None, Some(init)) => self.dim3(init, depth + 1),
                        (None, None) => Dim3::known(1, 1, 1),
                    }
                }
                _ => self.scalar(e),
            },
            _ => self.scalar(e),
        }
    }

    fn scalar(&self, e: &Expr) -> Dim3 {
        Dim3 {
            x: self.int(e),
            y: Some(1),
            z: Some(1),
        }
    }

    /// The last declaration of `name` before `offset`.
    fn decl_of(&self, name: &str, offset: usize) -> Option<&VarDecl> {
        self.decls
            .iter()
            .filter(|d| d.name == name && d.span.start <= offset)
            .max_by_key(|d| d.span.start)
            .copied()
    }
}
