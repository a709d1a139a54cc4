//! The configurations a kernel is analysed under: one per distinct launch
//! (block size and template arguments), or one assumed configuration when the
//! file has no launch.

use std::collections::HashMap;

use serde::Serialize;

use cudalens_syntax::FileModel;
use cudalens_syntax::Span;
use cudalens_syntax::consteval::ConstEnv;
use cudalens_syntax::ir::{Expr, ExprKind, Stmt, StmtKind};
use cudalens_syntax::model::{Function, LaunchSite, TemplateParamKind};
use cudalens_syntax::preprocess::cexpr::parse_int_literal;

use crate::AnalysisConfig;
use crate::host_cache::HostValues;
use crate::host_launch::{self, HostLaunch};

/// Where a kernel's block size came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockSource {
    /// The launch site's `<<<grid, block>>>`.
    Launch,
    /// `__launch_bounds__(N)`: N threads, 1D.
    LaunchBounds,
    /// A template argument of the launch (e.g. `reduce<256>`).
    Template,
    /// The configured default.
    Default,
}

impl BlockSource {
    /// True when the block size is an assumption rather than what the code says.
    pub fn assumed(self) -> bool {
        matches!(self, BlockSource::LaunchBounds | BlockSource::Default)
    }
}

/// One configuration a kernel is analysed under.
#[derive(Clone, Debug)]
pub struct KernelContext<'m> {
    pub block: [u32; 3],
    pub block_source: BlockSource,
    pub launch: Option<&'m LaunchSite>,
    /// Values of non-type template parameters.
    pub template_values: HashMap<String, i128>,
    /// Type template parameters bound to concrete type names.
    pub template_types: HashMap<String, String>,
    /// Scalar kernel parameters whose launch argument is a constant
    /// (`k<<<g, b>>>(a, 1024)` binds the int parameter to 1024).
    pub param_values: HashMap<String, i128>,
    /// The launch's block dimensions in the caller's terms (`dim3
    /// threads(32, k)`: `[32, k, 1]`), where known.
    pub block_values: [Option<HostValue>; 3],
    /// Scalar parameters bound to a launch argument, in the caller's terms.
    pub param_hosts: HashMap<String, HostValue>,
    /// Dynamic shared memory the host code gives where the launch's own
    /// argument does not fold (`block_size * sizeof(float)` with the
    /// block from the callers).
    pub dynamic_smem: Option<u64>,
}

/// A value in the launching function: a constant (also a variable inside
/// `case N:` of a `switch` on it), or a variable the caller never
/// reassigns, so that two mentions of it in one launch are one value.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum HostValue {
    Const(i128),
    Var(String),
}

impl KernelContext<'_> {
    /// Why no launch gives the block size, for messages about an assumed
    /// one: "no launch resolves it", or the launch that sets it at run time
    /// ("the launch at line 42 sets it at run time"; `source` is this file's
    /// text, for the line of a launch made here).
    pub fn unresolved_block_reason(&self, source: &str) -> String {
        match self.launch {
            None => "no launch resolves it".into(),
            Some(l) => match &l.origin {
                Some(origin) => format!("the launch at {origin} sets it at run time"),
                None => {
                    let line = source
                        .get(..l.span.start)
                        .map_or(0, |t| t.matches('\n').count())
                        + 1;
                    format!("the launch at line {line} sets it at run time")
                }
            },
        }
    }

    pub fn threads(&self) -> u64 {
        self.block.iter().map(|&d| d as u64).product()
    }

    /// Constants visible in the kernel body under this configuration.
    pub fn env<'a>(&self, file: &'a ConstEnv<'a>) -> ConstEnv<'a> {
        let mut env = file.child();
        env.values
            .extend(self.template_values.iter().map(|(k, v)| (k.clone(), *v)));
        env
    }

    /// A type name with template type parameters substituted.
    pub fn concrete_type<'a>(&'a self, name: &'a str) -> &'a str {
        self.template_types.get(name).map_or(name, String::as_str)
    }
}

/// The configurations to analyse `kernel` under.
pub fn contexts_for<'m>(
    model: &'m FileModel,
    launches: &[&'m LaunchSite],
    kernel: &Function,
    config: &AnalysisConfig,
) -> Vec<KernelContext<'m>> {
    contexts_with_host(
        model,
        launches,
        kernel,
        config,
        &HostValues::uncached(model),
    )
}

/// [`contexts_for`] for one of many kernels of the file: `host` indexes
/// the file's calls once, on first need, for every launch's host values,
/// and reuses those an earlier analysis of the document resolved.
pub fn contexts_with_host<'m>(
    model: &'m FileModel,
    launches: &[&'m LaunchSite],
    kernel: &Function,
    config: &AnalysisConfig,
    host: &HostValues<'m>,
) -> Vec<KernelContext<'m>> {
    let file_env = model.const_env();
    let bounds = kernel
        .launch_bounds
        .as_ref()
        .and_then(|b| b.max_threads.as_ref());
    // Without a resolved launch block: `__launch_bounds__` (with the template
    // arguments in scope), else the configured default.
    let assumed_block = |template_values: &HashMap<String, i128>| {
        let mut env = file_env.child();
        env.values.extend(template_values.clone());
        match bounds.and_then(|b| env.eval(b)) {
            Some(n) if n > 0 => ([clamp_u32(n as i64), 1, 1], BlockSource::LaunchBounds),
            _ => (config.default_block, BlockSource::Default),
        }
    };
    let mut out: Vec<KernelContext> = Vec::new();
    for &launch in launches {
        let (template_values, template_types) =
            bind_templates(kernel, &launch.template_args, &file_env);
        let resolved = launch
            .block_dims
            .resolved()
            .filter(|&[x, y, z]| x > 0 && y > 0 && z > 0);
        let (block, source) = match resolved {
            Some([x, y, z]) => (
                [clamp_u32(x), clamp_u32(y), clamp_u32(z)],
                if launch.block.as_ref().is_some_and(|b| {
                    b.as_ident()
                        .is_some_and(|n| template_values.contains_key(n))
                }) {
                    BlockSource::Template
                } else {
                    BlockSource::Launch
                },
            ),
            _ => assumed_block(&template_values),
        };
        // A launch made in another file is in terms of a caller this model
        // does not have: only its resolved numbers hold here.
        let (block_values, param_hosts) = if launch.is_local() {
            host_facts(model, kernel, launch, &file_env)
        } else {
            HostFacts::default()
        };
        let ctx = KernelContext {
            block,
            block_source: source,
            launch: Some(launch),
            template_values,
            template_types,
            param_values: constant_arguments(kernel, launch),
            block_values,
            param_hosts,
            dynamic_smem: None,
        };
        out.extend(with_host_values(
            model,
            kernel,
            launch,
            ctx,
            resolved.is_none(),
            host,
        ));
    }
    if out.is_empty() {
        let (template_values, template_types) = bind_templates(kernel, &[], &file_env);
        let (block, block_source) = assumed_block(&template_values);
        out.push(KernelContext {
            block,
            block_source,
            launch: None,
            template_values,
            template_types,
            param_values: HashMap::new(),
            block_values: [None, None, None],
            param_hosts: HashMap::new(),
            dynamic_smem: None,
        });
    }
    out
}

type HostFacts = ([Option<HostValue>; 3], HashMap<String, HostValue>);

/// The launch's block dimensions and scalar arguments as [`HostValue`]s.
fn host_facts(
    model: &FileModel,
    kernel: &Function,
    launch: &LaunchSite,
    file_env: &ConstEnv,
) -> HostFacts {
    let mut facts: HostFacts = ([None, None, None], HashMap::new());
    let Some(caller) = model.function(&launch.caller) else {
        return facts;
    };
    let Some(body) = &caller.body else {
        return facts;
    };
    let reassigned = caller.reassigned_vars();
    let env = caller.const_env(file_env);
    let value = |e: &Expr| -> Option<HostValue> {
        if let Some(v) = env.eval(e) {
            return Some(HostValue::Const(v));
        }
        let name = e.as_ident()?;
        if reassigned.contains(name) {
            return None;
        }
        Some(match case_value(body, name, launch.span, &env) {
            Some(v) => HostValue::Const(v),
            None => HostValue::Var(name.to_string()),
        })
    };
    let dims: Option<Vec<&Expr>> = launch.block.as_ref().and_then(|b| match &b.kind {
        ExprKind::Ident(n) if !reassigned.contains(n) => {
            let decls: Vec<_> = caller
                .local_decls()
                .into_iter()
                .filter(|d| d.name == *n)
                .collect();
            match decls.as_slice() {
                [d] if d.ty.base.ends_with("dim3") => match (&d.ctor_args, &d.init) {
                    (Some(args), _) => Some(args.iter().collect()),
                    (None, Some(init)) => dim3_args(init),
                    _ => None,
                },
                [d] if d.ty.pointer == 0 && d.dims.is_empty() => Some(vec![b]),
                _ => None,
            }
        }
        ExprKind::Call(_) => dim3_args(b),
        _ => Some(vec![b]),
    });
    if let Some(dims) = dims.filter(|d| d.len() <= 3) {
        for (i, slot) in facts.0.iter_mut().enumerate() {
            *slot = match dims.get(i) {
                Some(e) => value(e),
                None => Some(HostValue::Const(1)),
            };
        }
    }
    for (p, arg) in kernel.params.iter().zip(&launch.args) {
        if p.ty.pointer == 0
            && let Some(v) = value(arg)
        {
            facts.1.insert(p.name.clone(), v);
        }
    }
    facts
}

/// `dim3(a, b)` → `[a, b]`.
fn dim3_args(e: &Expr) -> Option<Vec<&Expr>> {
    match &e.kind {
        ExprKind::Call(c) if c.callee.ends_with("dim3") => Some(c.args.iter().collect()),
        _ => None,
    }
}

/// The value `var` has at `at` when `at` lies in `case N:` of a `switch
/// (var)` that the case before does not fall into.
fn case_value(body: &Stmt, var: &str, at: Span, env: &ConstEnv) -> Option<i128> {
    let mut found = None;
    body.walk(&mut |s| {
        let StmtKind::Switch { cond, body } = &s.kind else {
            return;
        };
        if cond.as_ident() != Some(var) || found.is_some() {
            return;
        }
        let StmtKind::Block(items) = &body.kind else {
            return;
        };
        for (i, item) in items.iter().enumerate() {
            let StmtKind::Case { value, body } = &item.kind else {
                continue;
            };
            let inside = body
                .iter()
                .any(|b| b.span.start <= at.start && at.end <= b.span.end);
            if !inside {
                continue;
            }
            let entered_alone = i == 0
                || matches!(
                    &items[i - 1].kind,
                    StmtKind::Case { body, .. }
                        if body.last().is_some_and(|l| matches!(l.kind, StmtKind::Break | StmtKind::Return(_)))
                );
            if entered_alone {
                found = value.as_ref().and_then(|v| env.eval(v));
            }
            return;
        }
    });
    found
}

/// Scalar (non-pointer) parameters bound to launch arguments that fold to
/// constants in the caller (macros, file constants, the caller's constant
/// locals: folded once per caller by launch resolution).
fn constant_arguments(kernel: &Function, launch: &LaunchSite) -> HashMap<String, i128> {
    kernel
        .params
        .iter()
        .zip(&launch.arg_values)
        .filter(|(p, _)| p.ty.pointer == 0)
        .filter_map(|(p, value)| Some((p.name.clone(), (*value)?)))
        .collect()
}

/// `ctx` with what the host code fixes through the launching function's
/// callers (llm.c's `main` sets `int T = 1024;` and passes it down): scalar
/// arguments, and, when the launch's block is not a constant here, the
/// block — one configuration per value when the program launches in a loop
/// over a constant array (`block_sizes[j]`: llm.c's dev programs run every
/// kernel at 32, 64, … threads). Only values that rest on no assumption (a
/// loop's first iteration, the first of several calls) are used.
fn with_host_values<'m>(
    model: &'m FileModel,
    kernel: &Function,
    launch: &'m LaunchSite,
    ctx: KernelContext<'m>,
    block_unresolved: bool,
    host: &HostValues<'m>,
) -> Vec<KernelContext<'m>> {
    let scalars_unresolved = kernel
        .params
        .iter()
        .any(|p| p.ty.pointer == 0 && !ctx.param_values.contains_key(&p.name));
    let smem_unresolved = launch.smem.is_some() && launch.smem_bytes.is_none();
    if !launch.is_local() || !(scalars_unresolved || block_unresolved || smem_unresolved) {
        return vec![ctx];
    }
    let sites = host_launch::launch_sites(model, &kernel.name);
    let Some(which) = sites.iter().position(|l| std::ptr::eq(*l, launch)) else {
        return vec![ctx];
    };
    let hosts = host.launches(&kernel.name, which, &sites, block_unresolved, |calls| {
        let single = || -> Vec<HostLaunch> {
            host_launch::resolve_indexed(model, calls, &kernel.name, which)
                .into_iter()
                .collect()
        };
        // One configuration per value of a loop over a constant array only
        // when each value gives the launch its block; otherwise the loop's
        // values are an assumption.
        let block_known = |h: &HostLaunch| h.block.certain().is_some();
        let hosts = if block_unresolved {
            host_launch::resolve_each_indexed(model, calls, &kernel.name, which)
        } else {
            single()
        };
        if hosts.len() > 1 && !hosts.iter().all(block_known) {
            single()
        } else {
            hosts
        }
    });
    let mut out = Vec::new();
    for host in hosts.iter() {
        let mut c = ctx.clone();
        for s in &host.scalars {
            if let Some(v) = s.certain_int() {
                c.param_values.entry(s.param.clone()).or_insert(v);
            }
        }
        if launch.smem_bytes.is_none() {
            c.dynamic_smem = host.dynamic_smem;
        }
        if block_unresolved && let Some(b) = host.block.certain() {
            c.block = b;
            c.block_source = BlockSource::Launch;
        }
        out.push(c);
    }
    if out.is_empty() {
        out.push(ctx);
    }
    out
}

fn clamp_u32(v: i64) -> u32 {
    v.clamp(0, u32::MAX as i64) as u32
}

/// Binds template parameters to the launch's arguments (or their defaults).
fn bind_templates(
    kernel: &Function,
    args: &[String],
    env: &ConstEnv,
) -> (HashMap<String, i128>, HashMap<String, String>) {
    let mut values = HashMap::new();
    let mut types = HashMap::new();
    for (i, p) in kernel.template_params.iter().enumerate() {
        let arg = args.get(i).or(p.default.as_ref());
        let Some(arg) = arg else { continue };
        match &p.kind {
            TemplateParamKind::Type => {
                types.insert(p.name.clone(), arg.trim().to_string());
            }
            TemplateParamKind::Value(_) => {
                let v = parse_int_literal(arg.trim()).or_else(|| env.lookup(arg.trim()));
                if let Some(v) = v {
                    values.insert(p.name.clone(), v);
                }
            }
        }
    }
    (values, types)
}
