//! Finds every `kernel<<<grid, block, smem, stream>>>(...)` and resolves its
//! configuration as far as the file allows: `dim3` variables, integer locals,
//! macros and file-scope constants.

use std::collections::HashSet;
use std::sync::Arc;

use super::{Dim3, FileModel, Function, LaunchSite};
use crate::consteval::ConstEnv;
use crate::fingerprint::{self, FingerprintMap, Fingerprinter};
use crate::ir::{Expr, ExprKind, LaunchExpr, VarDecl};

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
                found
            }
        };
        launches.extend_from_slice(&found);
        fresh.insert(f.fingerprint, (env_hash, start, found));
    }
    *cache = fresh;
    model.launches = launches;
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
            origin: None,
        }
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
