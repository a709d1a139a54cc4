//! The kernel model: what later analyses consume. Built from one file's tree
//! (plus the headers it includes) by [`build_model`].

/// `node.child_by_field_name("name")`, with the field's id looked up once per
/// call site: tree-sitter finds a field by name with a linear string search
/// over the grammar's field names on every call, which was a tenth of the
/// model build.
macro_rules! field {
    ($node:expr, $name:literal) => {{
        static ID: std::sync::OnceLock<Option<u16>> = std::sync::OnceLock::new();
        let id = *ID.get_or_init(|| crate::parser::field_id($name));
        id.and_then(|id| $node.child_by_field_id(id))
    }};
}

mod build;
mod builder;
pub mod class_instances;
pub mod header_bodies;
pub mod headers;
mod launch;
mod lower;
mod methods;
mod region;
mod source_map;
mod stmt_shapes;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

pub use build::{ModelCache, build_model, build_model_cached};
pub use builder::BuildOptions;
pub use headers::HeaderStore;
pub use launch::header_launches;

use crate::consteval::ConstEnv;
use crate::ir::{Expr, ExprKind, Stmt, StmtKind, Type, VarDecl};
use crate::preprocess::macros::{MacroDef, MacroTable};
use crate::span::{Span, SyntaxDiagnostic};
use crate::types::TypeTable;

/// How deep calls are followed by [`FileModel::device_functions_called_by`]
/// (a kernel calling `a` calling `b` is depth 2).
pub const CALL_DEPTH: usize = 4;

/// Where a function runs, from its `__global__`/`__device__`/`__host__` qualifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExecSpace {
    /// `__global__`: a kernel.
    Kernel,
    Device,
    HostDevice,
    Host,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    pub name: String,
    pub name_span: Span,
    pub ty: Type,
    /// Array dimensions written on the name, outermost first
    /// (`float w[6][5][5]`, `double phi[][Y][Z]`): each also counts in
    /// `ty.pointer` (C adjusts the parameter to a pointer); the inner ones
    /// give the pointee's shape.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dims: Vec<Option<Expr>>,
    /// The default argument (`float w = 0.0f`), when the declaration has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum TemplateParamKind {
    Type,
    /// A non-type parameter such as `int BLOCK`.
    Value(Type),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TemplateParam {
    pub name: String,
    pub kind: TemplateParamKind,
    pub default: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LaunchBounds {
    pub span: Span,
    pub max_threads: Option<Expr>,
    pub min_blocks: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Function {
    pub name: String,
    pub name_span: Span,
    /// The whole definition or declaration, template header included.
    pub span: Span,
    /// Where the `__global__`/return type starts (for inserting `__launch_bounds__`).
    pub decl_start: usize,
    /// `None` for the file being analysed; a header's path otherwise.
    pub file: Option<PathBuf>,
    pub exec: ExecSpace,
    pub ret: Type,
    /// `T &f(...)`: the call names the object the body returns, not a copy.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub returns_reference: bool,
    pub template_params: Vec<TemplateParam>,
    pub params: Vec<Param>,
    /// Boxed: most functions have none, and outlines keep thousands of functions.
    pub launch_bounds: Option<Box<LaunchBounds>>,
    /// Boxed: an outline (`FileModel::outline`) keeps thousands of bodiless
    /// functions, and an inline `Stmt` made each 800 bytes.
    pub body: Option<Box<Stmt>>,
    /// Hash of the function's text, the macros in force and its template
    /// header: equal fingerprints mean equal lowering (up to position).
    pub fingerprint: u64,
    /// The body contains a `<<<...>>>` launch (so launch resolution can skip the rest).
    pub has_launches: bool,
    /// Declared `constexpr`: device code may call it even as a host
    /// function (nvcc's `--expt-relaxed-constexpr`).
    pub constexpr: bool,
}

impl Function {
    pub fn is_kernel(&self) -> bool {
        self.exec == ExecSpace::Kernel
    }

    pub fn runs_on_device(&self) -> bool {
        matches!(
            self.exec,
            ExecSpace::Kernel | ExecSpace::Device | ExecSpace::HostDevice
        )
    }

    /// Whether device code can call it: a device function, or a
    /// `constexpr` one (see [`Function::constexpr`]).
    pub fn callable_from_device(&self) -> bool {
        self.runs_on_device() || self.constexpr
    }

    pub fn in_main_file(&self) -> bool {
        self.file.is_none()
    }

    /// Whether a call with `n` arguments can mean this function: at least
    /// its parameters without defaults, at most all of them. Tells apart
    /// overloads of one name (segsort's `gen_copy` of keys and of pairs).
    pub fn accepts_arguments(&self, n: usize) -> bool {
        let required = self.params.iter().filter(|p| p.default.is_none()).count();
        (required..=self.params.len()).contains(&n)
    }

    /// Every variable declaration in the body, in source order.
    pub fn local_decls(&self) -> Vec<&VarDecl> {
        let mut out = Vec::new();
        if let Some(body) = &self.body {
            collect_decls(body, &mut out);
        }
        out
    }

    /// `__shared__` declarations in the body.
    pub fn shared_decls(&self) -> Vec<&VarDecl> {
        self.local_decls()
            .into_iter()
            .filter(|d| d.shared)
            .collect()
    }

    /// Calls to `__syncthreads` and friends.
    pub fn barriers(&self) -> Vec<&Expr> {
        self.calls_matching(is_barrier)
    }

    /// Calls to `atomic*` functions.
    pub fn atomics(&self) -> Vec<&Expr> {
        self.calls_matching(|c| c.starts_with("atomic"))
    }

    /// Every `for` loop with its induction variable when it has a recognisable one.
    pub fn loops(&self) -> Vec<(&Stmt, Option<Induction>)> {
        let mut loops = Vec::new();
        if let Some(body) = &self.body {
            find_loops(body, &mut loops);
        }
        loops.into_iter().map(|s| (s, induction_of(s))).collect()
    }

    /// Variables assigned (or incremented) somewhere after their declaration.
    pub fn reassigned_vars(&self) -> std::collections::HashSet<String> {
        let mut out = std::collections::HashSet::new();
        if let Some(body) = &self.body {
            body.walk_exprs(&mut |e| match &e.kind {
                ExprKind::Assign(_, target, _) | ExprKind::IncDec { target, .. } => {
                    let mut t = &**target;
                    while let ExprKind::Member { base, .. } = &t.kind {
                        t = base;
                    }
                    if let Some(name) = t.as_ident() {
                        out.insert(name.to_string());
                    }
                }
                _ => {}
            });
        }
        out
    }

    /// `parent` extended with this function's locals that are never reassigned
    /// and whose initial value folds to a constant (`const int BS = 256;`,
    /// `int threads = 256;`).
    pub fn const_env<'a>(&self, parent: &'a ConstEnv<'a>) -> ConstEnv<'a> {
        let reassigned = self.reassigned_vars();
        let mut env = parent.child();
        for d in self.local_decls() {
            if d.dims.is_empty()
                && d.ty.pointer == 0
                && !reassigned.contains(&d.name)
                && let Some(init) = &d.init
                && let Some(v) = env.eval(init)
            {
                env.values.insert(d.name.clone(), v);
            }
        }
        env
    }

    fn calls_matching(&self, pred: impl Fn(&str) -> bool) -> Vec<&Expr> {
        let mut out: Vec<&Expr> = Vec::new();
        if let Some(body) = &self.body {
            collect_calls(body, &pred, &mut out);
        }
        out
    }

    /// Moves every span by `delta` bytes.
    pub fn shift(&mut self, delta: isize) {
        let f = |x: usize| x.saturating_add_signed(delta);
        self.span = Span::new(f(self.span.start), f(self.span.end));
        self.name_span = Span::new(f(self.name_span.start), f(self.name_span.end));
        self.decl_start = f(self.decl_start);
        for p in &mut self.params {
            p.name_span = Span::new(f(p.name_span.start), f(p.name_span.end));
            if let Some(d) = &mut p.default {
                d.shift(delta);
            }
        }
        if let Some(b) = &mut self.launch_bounds {
            b.span = Span::new(f(b.span.start), f(b.span.end));
            for e in b.max_threads.iter_mut().chain(b.min_blocks.iter_mut()) {
                e.shift(delta);
            }
        }
        if let Some(body) = &mut self.body {
            body.shift(delta);
        }
    }

    /// A short signature for hovers: `__global__ void k(const float* a, int n)`.
    pub fn signature(&self) -> String {
        let q = match self.exec {
            ExecSpace::Kernel => "__global__ ",
            ExecSpace::Device => "__device__ ",
            ExecSpace::HostDevice => "__host__ __device__ ",
            ExecSpace::Host => "",
        };
        let params: Vec<String> = self
            .params
            .iter()
            .map(|p| format!("{} {}", p.ty.display(), p.name))
            .collect();
        let tpl = if self.template_params.is_empty() {
            String::new()
        } else {
            let ps: Vec<String> = self
                .template_params
                .iter()
                .map(|t| match &t.kind {
                    TemplateParamKind::Type => format!("typename {}", t.name),
                    TemplateParamKind::Value(ty) => format!("{} {}", ty.display(), t.name),
                })
                .collect();
            format!("template <{}> ", ps.join(", "))
        };
        format!(
            "{tpl}{q}{} {}({})",
            self.ret.display(),
            self.name,
            params.join(", ")
        )
    }
}

pub fn is_barrier(callee: &str) -> bool {
    matches!(
        callee,
        "__syncthreads" | "__syncthreads_count" | "__syncthreads_and" | "__syncthreads_or"
    )
}

fn collect_decls<'a>(s: &'a Stmt, out: &mut Vec<&'a VarDecl>) {
    if let StmtKind::Decl(d) = &s.kind {
        out.extend(d.iter());
    }
    for child in s.children() {
        collect_decls(child, out);
    }
}

fn find_loops<'a>(s: &'a Stmt, out: &mut Vec<&'a Stmt>) {
    if matches!(
        s.kind,
        StmtKind::For { .. } | StmtKind::While { .. } | StmtKind::DoWhile { .. }
    ) {
        out.push(s);
    }
    for child in s.children() {
        find_loops(child, out);
    }
}

fn collect_calls<'a>(s: &'a Stmt, pred: &dyn Fn(&str) -> bool, out: &mut Vec<&'a Expr>) {
    fn in_expr<'a>(e: &'a Expr, pred: &dyn Fn(&str) -> bool, out: &mut Vec<&'a Expr>) {
        if let ExprKind::Call(call) = &e.kind
            && pred(&call.callee)
        {
            out.push(e);
        }
        for child in e.children() {
            in_expr(child, pred, out);
        }
    }
    for e in s.own_exprs() {
        in_expr(e, pred, out);
    }
    for child in s.children() {
        collect_calls(child, pred, out);
    }
}

/// How a loop's induction variable evolves: `for (v = init; v OP bound; step)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Induction {
    pub var: String,
    pub init: Expr,
    /// The loop condition, e.g. `i < n`.
    pub cond: Option<Expr>,
    pub step: Step,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Step {
    /// `v += e` (`v++` is `Add(1)`; `v -= e` is `Add(-e)` when constant).
    Add(Expr),
    Sub(Expr),
    Mul(Expr),
    Div(Expr),
    Shl(Expr),
    Shr(Expr),
}

impl Step {
    /// The step `v = v OP by` (or `v OP= by`), for the operators a loop counter uses.
    fn of(op: crate::ir::BinOp, by: Expr) -> Option<Step> {
        use crate::ir::BinOp;
        Some(match op {
            BinOp::Add => Step::Add(by),
            BinOp::Sub => Step::Sub(by),
            BinOp::Mul => Step::Mul(by),
            BinOp::Div => Step::Div(by),
            BinOp::Shl => Step::Shl(by),
            BinOp::Shr => Step::Shr(by),
            _ => return None,
        })
    }
}

/// The variable a `for` loop's init sets and the value it starts from:
/// `int i = e` (one declarator) or `i = e`.
pub fn loop_start(init: &[Stmt]) -> Option<(&str, &Expr)> {
    init.iter().find_map(|s| match &s.kind {
        StmtKind::Decl(d) if d.len() == 1 => d[0].init.as_ref().map(|i| (d[0].name.as_str(), i)),
        StmtKind::Expr(e) => match &e.kind {
            ExprKind::Assign(None, t, v) => t.as_ident().map(|n| (n, &**v)),
            _ => None,
        },
        _ => None,
    })
}

/// The induction variable of a `for` loop, when the update is one of the
/// usual forms (`i++`, `i += s`, `s >>= 1`, `s /= 2`, `s *= 2`, `i = i + s`).
pub fn induction_of(s: &Stmt) -> Option<Induction> {
    let StmtKind::For {
        init, cond, step, ..
    } = &s.kind
    else {
        return None;
    };
    let step_expr = step.as_ref()?;
    let one = |span| {
        Expr::new(
            ExprKind::Int {
                value: 1,
                unsigned: false,
                long: false,
            },
            span,
        )
    };
    let (var, step) = match &step_expr.kind {
        ExprKind::IncDec {
            increment, target, ..
        } => {
            let v = target.as_ident()?.to_string();
            let o = one(step_expr.span);
            (
                v,
                if *increment {
                    Step::Add(o)
                } else {
                    Step::Sub(o)
                },
            )
        }
        ExprKind::Assign(Some(op), target, by) => {
            let v = target.as_ident()?.to_string();
            (v, Step::of(*op, (**by).clone())?)
        }
        ExprKind::Assign(None, target, value) => {
            let v = target.as_ident()?.to_string();
            let ExprKind::Binary(op, a, b) = &value.kind else {
                return None;
            };
            if a.as_ident() != Some(v.as_str()) {
                return None;
            }
            (v, Step::of(*op, (**b).clone())?)
        }
        _ => return None,
    };
    let init_expr = init.iter().find_map(|st| match &st.kind {
        StmtKind::Decl(ds) => ds
            .iter()
            .find(|d| d.name == var)
            .and_then(|d| d.init.clone()),
        StmtKind::Expr(Expr {
            kind: ExprKind::Assign(None, t, v),
            ..
        }) if t.as_ident() == Some(var.as_str()) => Some((**v).clone()),
        _ => None,
    })?;
    Some(Induction {
        var,
        init: init_expr,
        cond: cond.as_deref().cloned(),
        step,
    })
}

/// A resolved `dim3`: each component when it folds to a constant.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Dim3 {
    pub x: Option<i64>,
    pub y: Option<i64>,
    pub z: Option<i64>,
}

impl Dim3 {
    pub fn known(x: i64, y: i64, z: i64) -> Dim3 {
        Dim3 {
            x: Some(x),
            y: Some(y),
            z: Some(z),
        }
    }

    /// All three components, when every one resolved.
    pub fn resolved(&self) -> Option<[i64; 3]> {
        Some([self.x?, self.y?, self.z?])
    }

    pub fn total(&self) -> Option<i64> {
        let [x, y, z] = self.resolved()?;
        x.checked_mul(y)?.checked_mul(z)
    }
}

impl std::fmt::Display for Dim3 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = |v: Option<i64>| v.map_or("?".to_string(), |v| v.to_string());
        match (self.y, self.z) {
            (Some(1), Some(1)) => write!(f, "{}", c(self.x)),
            (_, Some(1)) => write!(f, "{}×{}", c(self.x), c(self.y)),
            _ => write!(f, "{}×{}×{}", c(self.x), c(self.y), c(self.z)),
        }
    }
}

/// `kernel<<<grid, block, smem, stream>>>(args)`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LaunchSite {
    pub kernel: String,
    pub template_args: Vec<String>,
    /// The whole launch expression.
    pub span: Span,
    /// The kernel name as written.
    pub name_span: Span,
    /// The name of the function containing the launch.
    pub caller: String,
    pub grid: Option<Expr>,
    pub block: Option<Expr>,
    pub smem: Option<Expr>,
    pub stream: Option<Expr>,
    pub args: Vec<Expr>,
    pub grid_dims: Dim3,
    pub block_dims: Dim3,
    pub smem_bytes: Option<i64>,
    /// The span to rewrite to change the block size (the block argument).
    pub block_arg_span: Option<Span>,
    /// Each argument's value where it folds to a constant in the caller (its
    /// constant locals, macros, file constants).
    pub arg_values: Vec<Option<i128>>,
    /// Each argument that is an address past the start of an allocation
    /// (`buf + padding`, `&buf[i]`, or a caller's variable set so): where a
    /// pointer parameter's data starts within a 32-byte sector is then not
    /// the allocation's 256-byte alignment.
    pub offset_args: Vec<bool>,
    /// `None`: the launch is in this file. Otherwise it was made in another
    /// file (one that includes this one) and its spans and expressions are
    /// that file's: only its resolved facts (block, grid, template and
    /// scalar arguments) hold here.
    pub origin: Option<Arc<LaunchOrigin>>,
}

/// Where a launch made in another file is: shown to the user, never used as a span.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct LaunchOrigin {
    pub file: PathBuf,
    /// 1-based.
    pub line: u32,
}

impl std::fmt::Display for LaunchOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = self.file.file_name().map_or_else(
            || self.file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        write!(f, "{name}:{}", self.line)
    }
}

impl LaunchSite {
    /// The launch is in this file (its spans are this file's).
    pub fn is_local(&self) -> bool {
        self.origin.is_none()
    }

    /// This launch as another file sees it: made in `file` (whose text is
    /// `text`), with no span that file could mistake for its own.
    pub fn seen_from_elsewhere(&self, file: &std::path::Path, text: &str) -> LaunchSite {
        let line = text
            .get(..self.span.start)
            .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count())
            + 1;
        LaunchSite {
            block_arg_span: None,
            origin: Some(Arc::new(LaunchOrigin {
                file: file.to_path_buf(),
                line: u32::try_from(line).unwrap_or(u32::MAX),
            })),
            ..self.clone()
        }
    }

    /// Moves every span by `delta` bytes (its caller moved).
    pub fn shift(&mut self, delta: isize) {
        let f = |s: Span| {
            Span::new(
                s.start.saturating_add_signed(delta),
                s.end.saturating_add_signed(delta),
            )
        };
        self.span = f(self.span);
        self.name_span = f(self.name_span);
        self.block_arg_span = self.block_arg_span.map(f);
        for e in [
            &mut self.grid,
            &mut self.block,
            &mut self.smem,
            &mut self.stream,
        ]
        .into_iter()
        .flatten()
        .chain(self.args.iter_mut())
        {
            e.shift(delta);
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Include {
    pub span: Span,
    pub written: String,
    pub system: bool,
    pub resolved: Option<PathBuf>,
}

/// Where each name's definition stands in [`FileModel::functions`].
#[derive(Clone, Debug, Default)]
struct FunctionIndex {
    /// How many functions the model had when it was made (a model never
    /// indexed reads 0: it is scanned unless it has no function at all).
    len: usize,
    by_name: HashMap<Box<str>, usize>,
}

/// Everything the front end knows about one file.
#[derive(Clone, Debug, Default)]
pub struct FileModel {
    /// Shared with the model cache and the previous build: a function whose
    /// text and position did not change is the same allocation, never a copy.
    pub functions: Vec<Arc<Function>>,
    /// [`FileModel::function`]'s answers, made when the build ends (a model
    /// of ggml's `mmq.cuh` holds thousands of functions, and the analyses ask
    /// for one per call they follow: the scan was a tenth of an edit).
    function_index: FunctionIndex,
    /// Shared with the launch cache: an edit elsewhere shifts them in place.
    pub launches: Vec<Arc<LaunchSite>>,
    /// File-scope variables (`__constant__`, `__device__`, `const int N = ...`).
    pub globals: Vec<VarDecl>,
    /// File-scope integer constants: `const`/`constexpr` globals, enum values.
    pub consts: HashMap<String, i128>,
    /// The template parameters of file-scope variable templates
    /// (`template <typename K, typename V> const K EMPTY = empty<K, V>();`),
    /// by name; the variable itself is in `globals`.
    pub variable_templates: HashMap<String, Vec<TemplateParam>>,
    /// Class templates by name, as written (`class_instances.rs` makes
    /// their instances on demand).
    pub class_templates: HashMap<String, Arc<class_instances::ClassTemplate>>,
    /// Class templates the file specialises (`template <typename T>
    /// struct vec_t<T, 3> {...}`, `template <> struct S<int>`): their
    /// instances are not built (which definition applies is not decided here).
    pub specialized_classes: std::collections::HashSet<String>,
    /// The class template and arguments of each instance built
    /// (`Pair__int__bool` → `Pair`, `[int, bool]`).
    pub class_instances: HashMap<String, (String, Vec<String>)>,
    pub types: TypeTable,
    /// Macros defined at the end of the file.
    pub macros: MacroTable,
    /// Every macro definition seen, in order (headers included), for go-to-definition.
    pub macro_defs: Vec<Arc<MacroDef>>,
    pub includes: Vec<Include>,
    /// Regions excluded by `#if`/`#ifdef`.
    pub inactive: Vec<Span>,
    pub diagnostics: Vec<SyntaxDiagnostic>,
    /// Where the main file does not parse, even with its macros expanded:
    /// each run's first error. A function containing one was lowered from
    /// what the parser recovered, not from what is written (the
    /// transpiler refuses it).
    pub unparsed: Vec<Span>,
}

impl FileModel {
    /// Feeds what resolving a function reads besides its own text into `h`:
    /// the file's constants, type sizes and aliases (in a stable order).
    pub fn hash_environment<H: std::hash::Hasher>(&self, h: &mut H) {
        use std::hash::Hash;
        let mut consts: Vec<_> = self.consts.iter().collect();
        consts.sort();
        consts.hash(h);
        let mut structs: Vec<_> = self
            .types
            .structs
            .iter()
            .map(|(k, v)| (k, v.size))
            .collect();
        structs.sort();
        structs.hash(h);
        let mut aliases: Vec<_> = self
            .types
            .aliases
            .iter()
            .map(|(k, v)| (k, v.display()))
            .collect();
        aliases.sort();
        aliases.hash(h);
        let mut arrays: Vec<_> = (self.types.array_aliases.iter())
            .map(|(k, v)| (k, v.element.display(), &v.dims))
            .collect();
        arrays.sort();
        arrays.hash(h);
        let mut unions: Vec<_> = self.types.unions.iter().collect();
        unions.sort();
        unions.hash(h);
    }

    /// What an idle document keeps of its model: the functions it defines
    /// (name, spans, kind; no parameters or bodies) and its includes — what
    /// go-to-definition from other files and include tracking read. Requests
    /// on the document itself wake it and get the full model back. Launches,
    /// macros, constants and types go: with them, an outline of a 5,000-line
    /// file held 1.1 MB (heaptrack, stop 11); without, well under 0.1 MB.
    /// Launches of kernels defined in included files stay (they are what
    /// those files are analysed with).
    pub fn outline(&self) -> FileModel {
        FileModel {
            functions: self
                .functions
                .iter()
                .filter(|f| f.body.is_some())
                .map(|f| {
                    Arc::new(Function {
                        name: f.name.clone(),
                        name_span: f.name_span,
                        span: f.span,
                        decl_start: f.decl_start,
                        file: f.file.clone(),
                        exec: f.exec,
                        ret: f.ret.clone(),
                        returns_reference: f.returns_reference,
                        template_params: Vec::new(),
                        params: Vec::new(),
                        launch_bounds: f.launch_bounds.clone(),
                        body: None,
                        fingerprint: f.fingerprint,
                        has_launches: f.has_launches,
                        constexpr: f.constexpr,
                    })
                })
                .collect(),
            includes: self.includes.clone(),
            // Its launches of kernels defined in included files: what the
            // files it includes are analysed with (a few, and small).
            launches: self
                .launches
                .iter()
                .filter(|l| {
                    l.is_local()
                        && self.functions.iter().any(|f| {
                            f.name == l.kernel
                                && f.is_kernel()
                                && f.body.is_some()
                                && !f.in_main_file()
                        })
                })
                .cloned()
                .collect(),
            ..FileModel::default()
        }
    }

    /// The file itself (not its headers) defines device code or launches kernels.
    pub fn has_cuda_code(&self) -> bool {
        self.functions
            .iter()
            .any(|f| f.in_main_file() && f.runs_on_device())
            || !self.launches.is_empty()
    }

    pub fn kernels(&self) -> impl Iterator<Item = &Function> {
        self.functions
            .iter()
            .map(|f| &**f)
            .filter(|f| f.is_kernel())
    }

    /// The device functions with a body that `body` calls, directly or
    /// through each other (up to [`CALL_DEPTH`] calls deep), each once, in
    /// the order first called: what the divergent-barrier lint and the
    /// transpiler's uniformity rule look into.
    pub fn device_functions_called_by(&self, body: &Stmt) -> Vec<&Function> {
        let mut found: Vec<&Function> = Vec::new();
        let mut todo: Vec<(String, usize)> = Vec::new();
        let push_calls = |s: &Stmt, depth: usize, todo: &mut Vec<(String, usize)>| {
            s.walk_exprs(&mut |e| {
                if let ExprKind::Call(c) = &e.kind {
                    todo.push((c.callee.clone(), depth));
                }
            });
        };
        push_calls(body, 0, &mut todo);
        let mut next = 0;
        while let Some((callee, depth)) = todo.get(next).cloned() {
            next += 1;
            let Some(f) = self
                .function(&callee)
                .filter(|f| f.runs_on_device() && !f.is_kernel() && f.body.is_some())
            else {
                continue;
            };
            if found.iter().any(|g| std::ptr::eq(*g, f)) {
                continue;
            }
            found.push(f);
            if depth + 1 < CALL_DEPTH
                && let Some(b) = &f.body
            {
                push_calls(b, depth + 1, &mut todo);
            }
        }
        found
    }

    /// The definition of a function (preferring one with a body).
    pub fn function(&self, name: &str) -> Option<&Function> {
        if self.function_index.len == self.functions.len() {
            return self
                .function_index
                .by_name
                .get(name)
                .and_then(|&i| self.functions.get(i))
                .map(|f| &**f);
        }
        self.function_scan(name)
    }

    /// Indexes [`FileModel::function`]'s answers; a model whose functions
    /// change afterwards (in number) is scanned again.
    pub fn index_functions(&mut self) {
        let mut by_name: HashMap<Box<str>, usize> = HashMap::with_capacity(self.functions.len());
        for (i, f) in self.functions.iter().enumerate() {
            match by_name.get(f.name.as_str()) {
                Some(&j) if self.functions[j].body.is_some() || f.body.is_none() => {}
                _ => {
                    by_name.insert(f.name.as_str().into(), i);
                }
            }
        }
        self.function_index = FunctionIndex {
            len: self.functions.len(),
            by_name,
        };
    }

    /// The definition of `name` (preferring one with a body), by a scan.
    fn function_scan(&self, name: &str) -> Option<&Function> {
        let mut best = None;
        for f in self
            .functions
            .iter()
            .map(|f| &**f)
            .filter(|f| f.name == name)
        {
            if f.body.is_some() {
                return Some(f);
            }
            best.get_or_insert(f);
        }
        best
    }

    /// The launches of one kernel.
    pub fn launches_of<'a>(&'a self, kernel: &'a str) -> impl Iterator<Item = &'a LaunchSite> {
        self.launches
            .iter()
            .map(|l| &**l)
            .filter(move |l| l.kernel == kernel)
    }

    /// File-scope constants as an evaluation environment.
    pub fn const_env(&self) -> ConstEnv<'_> {
        ConstEnv {
            values: HashMap::new(),
            base: Some(&self.consts),
            parent: None,
            types: Some(&self.types),
            type_names: HashMap::new(),
        }
    }
}
