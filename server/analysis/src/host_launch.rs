//! The launch a program makes, read from its host code: grid, block and
//! scalar arguments of one `kernel<<<grid, block>>>(args)` evaluated in the
//! launching function and, for its parameters, in the functions that call
//! it (`main` sets `int ni = NI;` and calls `gemmCuda(ni, …)`, which
//! launches). Every value carries where it came from; what cannot be known
//! from the text (a value set at run time, a loop's later iterations) is
//! said, never guessed.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::rc::Rc;

use serde::Serialize;

use cudalens_syntax::FileModel;
use cudalens_syntax::Span;
use cudalens_syntax::consteval::{ConstEnv, fold_binary};
use cudalens_syntax::ir::{BinOp, Expr, ExprKind, Stmt, StmtKind, Type, UnOp, VarDecl};
use cudalens_syntax::model::{ExecSpace, Function, LaunchSite};

/// How deep caller chains and variable definitions are followed.
const MAX_DEPTH: u8 = 12;
/// Most calls of a function whose arguments are compared (see
/// `Evaluator::parameter`).
const MAX_CALLS_COMPARED: usize = 8;

/// A number as C computes it on the host: integer or floating point.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    pub fn as_f64(self) -> f64 {
        match self {
            Num::Int(v) => v as f64,
            Num::Float(v) => v,
        }
    }

    /// C's conversion to an integer type (truncation towards zero).
    pub fn to_int(self) -> Option<i128> {
        match self {
            Num::Int(v) => Some(v),
            Num::Float(v) if v.is_finite() && v.abs() < 1e30 => Some(v.trunc() as i128),
            Num::Float(_) => None,
        }
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Num::Int(v) => write!(f, "{v}"),
            Num::Float(v) => write!(f, "{v}"),
        }
    }
}

/// Where a value of the host code came from: what is written at the
/// launch, how the names in it were bound, why it did not resolve, and what
/// was assumed on the way.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Provenance {
    /// The expressions as written (`DIM_THREAD_BLOCK_X, DIM_THREAD_BLOCK_Y`).
    pub written: String,
    /// How the names in them were bound, in order (`main: int n = N`).
    pub steps: Vec<String>,
    /// Why it did not resolve.
    pub unresolved: Option<String>,
    /// Assumptions made on the way (a loop's first iteration).
    pub assumptions: Vec<String>,
}

impl Provenance {
    /// True when the value rests on nothing unresolved and no assumption.
    pub fn certain(&self) -> bool {
        self.unresolved.is_none() && self.assumptions.is_empty()
    }

    /// `value = written`, each step after `sep`, then what did not resolve
    /// and what was assumed.
    fn describe(&self, value: String, sep: &str) -> String {
        let mut out = value;
        if !self.written.is_empty() {
            out.push_str(&format!(" = {}", self.written));
        }
        for s in &self.steps {
            out.push_str(&format!("{sep}{s}"));
        }
        if let Some(why) = &self.unresolved {
            out.push_str(&format!(" (not resolved: {why})"));
        }
        for a in &self.assumptions {
            out.push_str(&format!(" (assumed: {a})"));
        }
        out
    }
}

/// One launch dimension set (grid or block) and where it came from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostDims {
    /// All three components, when every one resolved to a positive size.
    pub value: Option<[u32; 3]>,
    #[serde(flatten)]
    pub how: Provenance,
}

/// One scalar kernel argument.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostScalar {
    /// The kernel's parameter name.
    pub param: String,
    /// CUDA parameter index.
    pub index: usize,
    /// The value, when the host code gives it.
    pub value: Option<Num>,
    /// The argument as written at the launch, and how it was bound.
    #[serde(flatten)]
    pub how: Provenance,
}

/// What the program allocated for one pointer argument.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostBuffer {
    /// The kernel's parameter name.
    pub param: String,
    /// CUDA parameter index.
    pub index: usize,
    /// Bytes of the allocation the argument points at, when the host code
    /// gives them.
    pub bytes: Option<u64>,
    /// The launch passes `NULL` (`nullptr`, `0`) here.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub null: bool,
    /// The argument as written at the launch, the `cudaMalloc` that sized
    /// it and how the names in its size were bound.
    #[serde(flatten)]
    pub how: Provenance,
}

impl HostBuffer {
    /// `16777216 bytes = symmat_gpu ← cudaMalloc(…) at line 234 ← …`.
    pub fn describe(&self) -> String {
        let value = self
            .bytes
            .map_or_else(|| "? bytes".to_string(), |b| format!("{b} bytes"));
        self.how.describe(value, " ← ")
    }
}

/// The launch of a kernel as its program makes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HostLaunch {
    pub kernel: String,
    /// 1-based line of the launch in the analysed file (or in `origin`).
    pub line: u32,
    /// Set when the launch is made in another file (only its resolved
    /// numbers are known here).
    pub origin: Option<String>,
    /// The function that launches.
    pub caller: String,
    /// Which launch of the kernel (1-based) and how many there are.
    pub chosen: usize,
    pub launches: usize,
    pub grid: HostDims,
    pub block: HostDims,
    pub scalars: Vec<HostScalar>,
    /// The allocations the pointer arguments point at (`cudaMalloc` in
    /// the launching function or its callers).
    pub buffers: Vec<HostBuffer>,
    /// Bytes of dynamic shared memory (`<<<g, b, bytes>>>`), when the host
    /// code gives them without an assumption.
    pub dynamic_smem: Option<u64>,
}

impl HostLaunch {
    /// Everything the launch assumes or could not resolve, one sentence each.
    pub fn assumptions(&self) -> Vec<String> {
        let mut out = self.launch_assumptions();
        for s in &self.scalars {
            if let Some(why) = &s.how.unresolved {
                out.push(format!("{} not resolved: {why}", s.param));
            }
        }
        out
    }

    /// [`Self::assumptions`] but the scalars left unresolved (for callers
    /// that say what they used instead).
    pub fn launch_assumptions(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.launches > 1 {
            out.push(format!(
                "launch {} of {} of `{}` in the file",
                self.chosen, self.launches, self.kernel
            ));
        }
        for (what, d) in [("grid", &self.grid), ("block", &self.block)] {
            out.extend(d.how.assumptions.iter().map(|a| format!("{what}: {a}")));
            if let Some(why) = &d.how.unresolved {
                out.push(format!("{what} not resolved: {why}"));
            }
        }
        for s in &self.scalars {
            out.extend(
                s.how
                    .assumptions
                    .iter()
                    .map(|a| format!("{}: {a}", s.param)),
            );
        }
        out
    }
}

impl HostDims {
    /// The dimensions, when they rest on nothing unresolved and no assumption.
    pub fn certain(&self) -> Option<[u32; 3]> {
        self.value.filter(|_| self.how.certain())
    }

    /// `32×8 = dim3 block(DIM_THREAD_BLOCK_X, DIM_THREAD_BLOCK_Y) at line
    /// 151; how the names in it were bound`.
    pub fn describe(&self) -> String {
        let value = self.value.map_or_else(|| "?".to_string(), dims_text);
        self.how.describe(value, "; ")
    }
}

impl HostScalar {
    /// The integer value, when it rests on nothing unresolved and no assumption.
    pub fn certain_int(&self) -> Option<i128> {
        match self.value {
            Some(Num::Int(v)) if self.how.certain() => Some(v),
            _ => None,
        }
    }

    /// `512 = ni ← gemmCuda's parameter ni = `ni` from main at line 209 ← main: int ni = NI`.
    pub fn describe(&self) -> String {
        let value = self
            .value
            .map_or_else(|| "?".to_string(), |v| v.to_string());
        self.how.describe(value, " ← ")
    }
}

/// `32`, `32×8`, `4×4×2`.
pub fn dims_text(d: [u32; 3]) -> String {
    match d {
        [x, 1, 1] => x.to_string(),
        [x, y, 1] => format!("{x}×{y}"),
        [x, y, z] => format!("{x}×{y}×{z}"),
    }
}

impl HostLaunch {
    /// Where the launch is, for a file named `file`: `gemm.cu:157 in
    /// gemmCuda (launch 1 of 2)`.
    pub fn location(&self, file: &str) -> String {
        let place = match &self.origin {
            Some(o) => o.clone(),
            None => format!("{file}:{}", self.line),
        };
        let mut out = format!("{place} in {}", self.caller);
        if self.launches > 1 {
            out.push_str(&format!(
                " (launch {} of {}; --launch N picks another)",
                self.chosen, self.launches
            ));
        }
        out
    }
}

/// The launches of `kernel` in the model, in file order (this file's own
/// first, then those made in files that include it).
pub fn launch_sites<'m>(model: &'m FileModel, kernel: &str) -> Vec<&'m LaunchSite> {
    let mut sites: Vec<&LaunchSite> = model
        .launches
        .iter()
        .map(|l| &**l)
        .filter(|l| l.kernel == kernel)
        .collect();
    sites.sort_by_key(|l| (!l.is_local(), l.span.start));
    sites
}

/// Every call made in the file's own functions, by callee (its whole name
/// and its last `::` segment): built once when many launches are resolved
/// (the analysis resolves each launch of the file on every edit, and
/// scanning every body for each caller cost ggml-cuda.cu 8–18 ms an edit).
pub struct CallIndex<'m> {
    by_name: HashMap<&'m str, Vec<CallSite<'m>>>,
    facts: FunctionFacts<'m>,
    /// What the resolutions since [`Self::start_reads`] read.
    reads: RefCell<Option<Reads>>,
}

/// What resolutions read of the file's functions besides the kernel: with
/// the file's environment and the kernel's launch sites, all a resolution
/// depends on (`host_cache` reuses a result while these are unchanged).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reads {
    /// Names of functions looked up by name (a launch's caller, the callee
    /// an out-parameter is passed to): each function of that name counts.
    pub functions: BTreeSet<String>,
    /// Names whose calls were followed (a parameter's value at the first
    /// call): each function calling that name counts.
    pub callers_of: BTreeSet<String>,
}

type CallSite<'m> = (&'m Function, Span, &'m [Expr]);

impl<'m> CallIndex<'m> {
    pub fn of(model: &'m FileModel) -> CallIndex<'m> {
        let mut by_name: HashMap<&'m str, Vec<CallSite<'m>>> = HashMap::new();
        for f in model.functions.iter().map(|f| &**f) {
            if !f.in_main_file() {
                continue;
            }
            let Some(body) = &f.body else { continue };
            walk_stmts(body, &mut |s| {
                for e in s.own_exprs() {
                    walk_expr(e, &mut |e| {
                        if let ExprKind::Call(c) = &e.kind {
                            let site = (f, e.span, &c.args[..]);
                            by_name.entry(c.callee.as_str()).or_default().push(site);
                            if let Some(last) = c.callee.rsplit("::").next()
                                && last != c.callee
                            {
                                by_name.entry(last).or_default().push(site);
                            }
                        }
                    });
                }
            });
        }
        for sites in by_name.values_mut() {
            sites.sort_by_key(|(_, s, _)| s.start);
            sites.dedup_by_key(|(_, s, _)| s.start);
        }
        CallIndex {
            by_name,
            facts: FunctionFacts::default(),
            reads: RefCell::new(None),
        }
    }

    /// Records what resolutions read from now on (see [`Self::take_reads`]).
    pub fn start_reads(&self) {
        *self.reads.borrow_mut() = Some(Reads::default());
    }

    /// What resolutions read since [`Self::start_reads`]; stops recording.
    pub fn take_reads(&self) -> Reads {
        self.reads.borrow_mut().take().unwrap_or_default()
    }

    fn read_function(&self, name: &str) {
        if let Some(r) = self.reads.borrow_mut().as_mut() {
            r.functions.insert(name.to_string());
        }
    }

    fn read_callers_of(&self, name: &str) {
        if let Some(r) = self.reads.borrow_mut().as_mut() {
            r.callers_of.insert(name.to_string());
        }
    }
}

/// [`resolve`] with the file's calls indexed once by the caller.
pub fn resolve_indexed<'m>(
    model: &'m FileModel,
    calls: &CallIndex<'m>,
    kernel: &str,
    which: usize,
) -> Option<HostLaunch> {
    resolve_choice(model, "", kernel, which, None, calls, false).map(|(launch, _)| launch)
}

/// [`resolve_each`] with the file's calls indexed once by the caller.
pub fn resolve_each_indexed<'m>(
    model: &'m FileModel,
    calls: &CallIndex<'m>,
    kernel: &str,
    which: usize,
) -> Vec<HostLaunch> {
    each(model, "", kernel, which, calls, false)
}

/// Reads launch `which` (0-based; see [`launch_sites`]) of `kernel` from
/// the host code. `text` is the analysed file's text. `None` when the
/// kernel has no such launch.
pub fn resolve(model: &FileModel, text: &str, kernel: &str, which: usize) -> Option<HostLaunch> {
    let calls = CallIndex::of(model);
    resolve_choice(model, text, kernel, which, None, &calls, true).map(|(launch, _)| launch)
}

/// Most values a host loop over a constant array is followed through.
const MAX_CHOICES: usize = 16;

/// Launch `which` once for each value of the constant array a host loop
/// runs over (llm.c's `int block_sizes[] = {32, 64, 128, 256, 512}; for (j
/// …) { int block_size = block_sizes[j]; … }`): each value's block and
/// dynamic shared memory without that loop's assumption, the grid and the
/// scalars as [`resolve`] reads them (with the assumption where they depend
/// on the value); [`resolve`]'s one launch when there is no such loop.
pub fn resolve_each(model: &FileModel, text: &str, kernel: &str, which: usize) -> Vec<HostLaunch> {
    each(model, text, kernel, which, &CallIndex::of(model), true)
}

fn each<'m>(
    model: &'m FileModel,
    text: &str,
    kernel: &str,
    which: usize,
    calls: &CallIndex<'m>,
    buffers: bool,
) -> Vec<HostLaunch> {
    let Some((first, choices)) = resolve_choice(model, text, kernel, which, None, calls, buffers)
    else {
        return Vec::new();
    };
    if !(2..=MAX_CHOICES).contains(&choices) {
        return vec![first];
    }
    // Per value, the block and the dynamic shared memory; the grid and the
    // scalars of the first run (a scalar that depends on the value carries
    // the first run's assumption there).
    (0..choices)
        .filter_map(|k| {
            resolve_choice(model, text, kernel, which, Some(k), calls, false).map(|(l, _)| {
                HostLaunch {
                    grid: first.grid.clone(),
                    scalars: first.scalars.clone(),
                    buffers: first.buffers.clone(),
                    ..l
                }
            })
        })
        .collect()
}

/// [`resolve`] with element `choice` of a loop over a constant array (the
/// first, as an assumption, when `None`), and how many elements it has.
/// `buffers`: read the pointer arguments' allocations too (what `bench`
/// sizes buffers from; the analyses do not need them, and reading them
/// walks the launching function once per pointer).
fn resolve_choice<'m>(
    model: &'m FileModel,
    text: &str,
    kernel: &str,
    which: usize,
    choice: Option<usize>,
    calls: &CallIndex<'m>,
    buffers: bool,
) -> Option<(HostLaunch, usize)> {
    let sites = launch_sites(model, kernel);
    let site = *sites.get(which)?;
    let k = model.function(kernel);
    let file_env = model.const_env();
    let ev = Evaluator {
        model,
        text,
        env: &file_env,
        choice,
        choices: std::cell::Cell::new(0),
        calls,
        bound: RefCell::new(Vec::new()),
    };
    let line = line_of(text, site.span.start);
    let mut launch = HostLaunch {
        kernel: kernel.to_string(),
        line: site.origin.as_ref().map_or(line, |o| o.line),
        origin: site.origin.as_ref().map(|o| o.to_string()),
        caller: site.caller.clone(),
        chosen: which + 1,
        launches: sites.len(),
        grid: HostDims::unresolved("no grid at the launch"),
        block: HostDims::unresolved("no block at the launch"),
        scalars: Vec::new(),
        buffers: Vec::new(),
        dynamic_smem: None,
    };
    let params = k.map_or(&[][..], |k| &k.params[..]);
    let scalar_params = params.iter().enumerate().filter(|(_, p)| p.ty.pointer == 0);
    if !site.is_local() {
        // Made in another file: its own resolution is all that holds here.
        let elsewhere = format!("resolved in {}", launch.origin.as_deref().unwrap_or("?"));
        launch.grid = HostDims::from_resolved(site.grid_dims.resolved(), &elsewhere);
        launch.block = HostDims::from_resolved(site.block_dims.resolved(), &elsewhere);
        for (i, p) in scalar_params {
            let value = site.arg_values.get(i).copied().flatten();
            launch.scalars.push(HostScalar {
                param: p.name.clone(),
                index: i,
                value: value.map(Num::Int),
                how: Provenance {
                    written: String::new(),
                    steps: vec![elsewhere.clone()],
                    unresolved: value.is_none().then(|| {
                        format!(
                            "not a constant at the launch in {}",
                            launch.origin.as_deref().unwrap_or("?")
                        )
                    }),
                    assumptions: Vec::new(),
                },
            });
        }
        return Some((launch, ev.choices.get()));
    }
    calls.read_function(&site.caller);
    let Some(caller) = model.functions.iter().map(|f| &**f).find(|f| {
        f.name == site.caller
            && f.in_main_file()
            && f.body
                .as_ref()
                .is_some_and(|b| b.span.start <= site.span.start && site.span.end <= b.span.end)
    }) else {
        let why = format!("the body of {} is not in this file", site.caller);
        launch.grid = HostDims::unresolved(&why);
        launch.block = HostDims::unresolved(&why);
        return Some((launch, ev.choices.get()));
    };
    let at = Place {
        function: caller,
        at: site.span.start,
    };
    // A run for one value of a loop over a constant array (see
    // [`resolve_each`]) reads only what the analysis takes per value.
    let per_value = choice.is_some();
    if let Some(g) = site.grid.as_ref().filter(|_| !per_value) {
        launch.grid = ev.dims(g, at);
    }
    if let Some(b) = &site.block {
        launch.block = ev.dims(b, at);
    }
    if let Some(smem) = &site.smem {
        let mut trace = Trace::default();
        launch.dynamic_smem = ev
            .eval(smem, at, &mut trace, 0)
            .ok()
            .filter(|_| trace.assumptions.is_empty())
            .and_then(Num::to_int)
            .and_then(|b| u64::try_from(b).ok());
    }
    for (i, p) in scalar_params.filter(|_| !per_value) {
        let Some(arg) = site.args.get(i) else {
            continue;
        };
        let mut trace = Trace::default();
        let result = ev.eval(arg, at, &mut trace, 0);
        let value = result.as_ref().ok().map(|v| convert(*v, &p.ty));
        launch.scalars.push(HostScalar {
            param: p.name.clone(),
            index: i,
            value: value.flatten(),
            how: Provenance {
                written: ev.written(arg),
                steps: trace.steps,
                unresolved: match (result, value) {
                    (Err(why), _) => Some(why),
                    (Ok(_), Some(None)) => Some(format!("`{}` is not a number", ev.written(arg))),
                    _ => None,
                },
                assumptions: trace.assumptions,
            },
        });
    }
    for (i, p) in (params.iter().enumerate()).filter(|(_, p)| buffers && p.ty.pointer > 0) {
        let Some(arg) = site.args.get(i).filter(|_| !per_value) else {
            continue;
        };
        let mut trace = Trace::default();
        let null = matches!(&arg.without_casts().kind, ExprKind::Int { value: 0, .. })
            || matches!(
                arg.without_casts().as_ident(),
                Some("NULL" | "nullptr" | "__null")
            );
        let result = ev.allocation(arg, at, &mut trace, 0);
        launch.buffers.push(HostBuffer {
            param: p.name.clone(),
            index: i,
            bytes: result.as_ref().ok().copied(),
            null,
            how: Provenance {
                written: ev.written(arg),
                steps: trace.steps,
                unresolved: result.err(),
                assumptions: trace.assumptions,
            },
        });
    }
    Some((launch, ev.choices.get()))
}

/// The functions that allocate device memory whose first argument is the
/// address of the pointer they set and whose second is its size in bytes.
const ALLOCATORS: [&str; 3] = ["cudaMalloc", "cudaMallocManaged", "cudaMallocAsync"];

/// A value converted to a variable's or parameter's type (an integer one
/// takes the truncated value); a type this does not know keeps the value;
/// `None` when it does not convert.
fn convert(v: Num, ty: &Type) -> Option<Num> {
    if is_float_type(&ty.base) {
        Some(Num::Float(v.as_f64()))
    } else if is_int_type(&ty.base) {
        v.to_int().map(Num::Int)
    } else {
        Some(v)
    }
}

fn is_float_type(base: &str) -> bool {
    matches!(
        base,
        "float" | "double" | "half" | "__half" | "__nv_bfloat16" | "long double"
    )
}

/// Integer type names a cast may name (C's and the fixed-width ones).
pub(crate) fn is_int_type(base: &str) -> bool {
    let words: Vec<&str> = base.split_whitespace().collect();
    !words.is_empty()
        && words.iter().all(|w| {
            matches!(
                *w,
                "int"
                    | "unsigned"
                    | "signed"
                    | "long"
                    | "short"
                    | "char"
                    | "size_t"
                    | "ptrdiff_t"
                    | "int8_t"
                    | "int16_t"
                    | "int32_t"
                    | "int64_t"
                    | "uint8_t"
                    | "uint16_t"
                    | "uint32_t"
                    | "uint64_t"
                    | "uint"
                    | "ulong"
                    | "bool"
                    | "std::size_t"
            )
        })
}

impl HostDims {
    fn unresolved(why: &str) -> HostDims {
        HostDims {
            value: None,
            how: Provenance {
                unresolved: Some(why.to_string()),
                ..Provenance::default()
            },
        }
    }

    fn from_resolved(dims: Option<[i64; 3]>, how: &str) -> HostDims {
        let value = dims.and_then(|d| {
            let c = |v: i64| u32::try_from(v).ok().filter(|&v| v > 0);
            Some([c(d[0])?, c(d[1])?, c(d[2])?])
        });
        HostDims {
            value,
            how: Provenance {
                written: String::new(),
                steps: vec![how.to_string()],
                unresolved: value.is_none().then(|| format!("not constant ({how})")),
                assumptions: Vec::new(),
            },
        }
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u32 {
    let line = text
        .get(..offset)
        .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count())
        + 1;
    u32::try_from(line).unwrap_or(u32::MAX)
}

/// A dim3 value's components, each with where it is evaluated (`None`:
/// 1), and how it is written.
struct Dim3Parts<'m> {
    components: [Option<(&'m Expr, Place<'m>)>; 3],
    written: String,
}

/// A point in a function of the analysed file.
#[derive(Clone, Copy)]
struct Place<'m> {
    function: &'m Function,
    at: usize,
}

/// How names were bound while evaluating one value.
#[derive(Default)]
struct Trace {
    steps: Vec<String>,
    assumptions: Vec<String>,
}

impl Trace {
    fn step(&mut self, s: String) {
        if !self.steps.contains(&s) {
            self.steps.push(s);
        }
    }

    fn assume(&mut self, s: String) {
        if !self.assumptions.contains(&s) {
            self.assumptions.push(s);
        }
    }
}

type Eval<T> = Result<T, String>;

/// A helper being evaluated: its function's address and its parameters' values.
type Bound = (usize, Vec<(String, Num)>);

struct Evaluator<'m, 'e> {
    model: &'m FileModel,
    text: &'e str,
    env: &'e ConstEnv<'e>,
    /// Which element of a loop over a constant array to follow (`None`:
    /// the first, as an assumption).
    choice: Option<usize>,
    /// How many elements such an array had (0: none was met).
    choices: std::cell::Cell<usize>,
    /// The file's calls, indexed once, with the facts read once per
    /// function (per analysis, or per resolution for `bench`).
    calls: &'e CallIndex<'m>,
    /// The parameters of the one-line helpers being evaluated
    /// ([`Self::helper_call`]), innermost last: the function's address and
    /// each parameter's value.
    bound: RefCell<Vec<Bound>>,
}

/// Each function's declarations and reassigned names, read once (keyed by
/// the function's address) for every launch a resolution or an analysis
/// follows through it.
#[derive(Default)]
struct FunctionFacts<'m> {
    decls: RefCell<HashMap<usize, Rc<Vec<&'m VarDecl>>>>,
    reassigned: RefCell<HashMap<usize, Rc<HashSet<String>>>>,
}

impl<'m, 'e> Evaluator<'m, 'e> {
    /// The expression as written in the file, whitespace collapsed.
    fn written(&self, e: &Expr) -> String {
        let raw = self
            .text
            .get(e.span.start..e.span.end)
            .unwrap_or("?")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        raw.replace("( ", "(").replace(" )", ")")
    }

    fn line(&self, offset: usize) -> u32 {
        line_of(self.text, offset)
    }

    /// A grid or block argument: a `dim3` variable, `dim3(…)`, `{…}` or a number.
    fn dims(&self, e: &'m Expr, at: Place<'m>) -> HostDims {
        let mut trace = Trace::default();
        let mut out = HostDims {
            value: None,
            how: Provenance::default(),
        };
        match self.dim3_parts(e, at, &mut trace, 0) {
            Ok(parts) => {
                let mut value = [1u32; 3];
                for (i, part) in parts.components.iter().enumerate() {
                    let Some((c, place)) = part else { continue };
                    match self.eval(c, *place, &mut trace, 0).and_then(|v| {
                        v.to_int()
                            .and_then(|v| u32::try_from(v).ok())
                            .filter(|&v| v > 0)
                            .ok_or_else(|| {
                                format!("`{}` = {v} is not a positive size", self.written(c))
                            })
                    }) {
                        Ok(v) => value[i] = v,
                        Err(why) => {
                            out.how.unresolved = Some(why);
                            break;
                        }
                    }
                }
                out.how.written = parts.written;
                if out.how.unresolved.is_none() {
                    out.value = Some(value);
                }
            }
            Err(why) => {
                out.how.written = self.written(e);
                out.how.unresolved = Some(why);
            }
        }
        out.how.steps = trace.steps;
        out.how.assumptions = trace.assumptions;
        out
    }

    /// The component expressions of a dim3 value, each with where it is
    /// evaluated (`None`: 1).
    fn dim3_parts(
        &self,
        e: &'m Expr,
        at: Place<'m>,
        trace: &mut Trace,
        depth: u8,
    ) -> Eval<Dim3Parts<'m>> {
        if depth > MAX_DEPTH {
            return Err("too deep".into());
        }
        let listed = |items: &'m [Expr], place: Place<'m>| -> Eval<Dim3Parts<'m>> {
            if items.len() > 3 {
                return Err("more than three components".into());
            }
            let mut components = [None; 3];
            for (slot, item) in components.iter_mut().zip(items) {
                *slot = Some((item, place));
            }
            Ok(Dim3Parts {
                components,
                written: items
                    .iter()
                    .map(|i| self.written(i))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        };
        match &e.kind {
            ExprKind::Call(c) if c.callee.ends_with("dim3") => listed(&c.args, at),
            ExprKind::InitList(items) => listed(items, at),
            ExprKind::Cast { expr, .. } => self.dim3_parts(expr, at, trace, depth + 1),
            ExprKind::Ident(name) => match self.decl_before(at.function, name, at.at) {
                Some(d) if d.ty.base.ends_with("dim3") && d.ty.pointer == 0 => {
                    let f = at.function;
                    let place = Place {
                        function: f,
                        at: d.span.start,
                    };
                    let mut parts = match (&d.ctor_args, &d.init) {
                        (Some(args), _) => listed(args, place)?,
                        (None, Some(init)) => self.dim3_parts(init, place, trace, depth + 1)?,
                        // `dim3 b;` is 1×1×1.
                        (None, None) => listed(&[], place)?,
                    };
                    let line = self.line(d.span.start);
                    parts.written = format!("dim3 {name}({}) at line {line}", parts.written);
                    if depth > 0 {
                        trace.step(format!("{}: {}", f.name, parts.written));
                    }
                    // `grid.x = …;` before the launch, on every path to it.
                    for (axis, value, pos) in self.assignments_before(f, name, at.at)? {
                        let place = Place {
                            function: f,
                            at: pos,
                        };
                        match axis {
                            Some(axis) => parts.components[axis] = Some((value, place)),
                            None => {
                                parts.components =
                                    self.dim3_parts(value, place, trace, depth + 1)?.components
                            }
                        }
                        let member =
                            axis.map_or(String::new(), |a| format!(".{}", ["x", "y", "z"][a]));
                        trace.step(format!(
                            "{}: {name}{member} = {} at line {}",
                            f.name,
                            self.written(value),
                            self.line(pos)
                        ));
                    }
                    Ok(parts)
                }
                Some(d) if d.ty.pointer == 0 && d.dims.is_empty() => {
                    listed(std::slice::from_ref(e), at)
                }
                Some(_) => Err(format!("`{name}` is not a number or a dim3")),
                None => listed(std::slice::from_ref(e), at),
            },
            _ => listed(std::slice::from_ref(e), at),
        }
    }

    /// The plain assignments `name = v;` / `name.x = v;` made in `f` before
    /// `at`, in order (axis, value, where), when each is a statement of a
    /// block that holds `at` (so it runs before the launch on every path);
    /// any other change of `name` before `at` is an error.
    fn assignments_before(
        &self,
        f: &'m Function,
        name: &str,
        at: usize,
    ) -> Eval<Vec<(Option<usize>, &'m Expr, usize)>> {
        let Some(body) = &f.body else {
            return Ok(Vec::new());
        };
        let target_axis = |t: &Expr| -> Option<Option<usize>> {
            match &t.kind {
                ExprKind::Ident(n) if n == name => Some(None),
                ExprKind::Member {
                    base,
                    field,
                    arrow: false,
                } if base.as_ident() == Some(name) => match field.as_str() {
                    "x" => Some(Some(0)),
                    "y" => Some(Some(1)),
                    "z" => Some(Some(2)),
                    _ => None,
                },
                _ => None,
            }
        };
        // Every change of `name` before `at`.
        let mut changes: Vec<usize> = Vec::new();
        body.walk_exprs(&mut |e| {
            if e.span.start >= at {
                return;
            }
            let target = match &e.kind {
                ExprKind::Assign(_, t, _) | ExprKind::IncDec { target: t, .. } => t,
                _ => return,
            };
            let mut base = &**target;
            while let ExprKind::Member { base: b, .. } | ExprKind::Index(b, _) = &base.kind {
                base = b;
            }
            if base.as_ident() == Some(name) {
                changes.push(e.span.start);
            }
        });
        // Those that are plain statements of a block holding `at`.
        let mut plain: Vec<(Option<usize>, &'m Expr, usize)> = Vec::new();
        walk_stmts(body, &mut |s| {
            let StmtKind::Block(items) = &s.kind else {
                return;
            };
            if !(s.span.start <= at && at < s.span.end) {
                return;
            }
            for item in items {
                if let StmtKind::Expr(e) = &item.kind
                    && e.span.start < at
                    && let ExprKind::Assign(None, t, v) = &e.kind
                    && let Some(axis) = target_axis(t)
                {
                    plain.push((axis, &**v, e.span.start));
                }
            }
        });
        if let Some(&other) = changes
            .iter()
            .find(|c| !plain.iter().any(|(_, _, p)| p == *c))
        {
            return Err(format!(
                "`{name}` is changed at line {}, where it may not run before the launch (under a condition or inside an expression)",
                self.line(other)
            ));
        }
        plain.sort_by_key(|(_, _, p)| *p);
        Ok(plain)
    }

    /// The last declaration of `name` in `f` before `offset`.
    fn decl_before<'f>(&self, f: &'f Function, name: &str, offset: usize) -> Option<&'f VarDecl> {
        f.local_decls()
            .into_iter()
            .filter(|d| d.name == name && d.span.start <= offset)
            .max_by_key(|d| d.span.start)
    }

    /// [`Self::decl_before`] with `f`'s declarations read once.
    fn decl_before_cached(
        &self,
        f: &'m Function,
        name: &str,
        offset: usize,
    ) -> Option<&'m VarDecl> {
        self.decls_of(f)
            .iter()
            .copied()
            .filter(|d| d.name == name && d.span.start <= offset)
            .max_by_key(|d| d.span.start)
    }

    /// `f.local_decls()`, read once per function.
    fn decls_of(&self, f: &'m Function) -> Rc<Vec<&'m VarDecl>> {
        let key = f as *const Function as usize;
        if let Some(d) = self.calls.facts.decls.borrow().get(&key) {
            return d.clone();
        }
        let d = Rc::new(f.local_decls());
        self.calls.facts.decls.borrow_mut().insert(key, d.clone());
        d
    }

    /// `f.reassigned_vars()`, read once per function.
    fn reassigned(&self, f: &'m Function) -> Rc<HashSet<String>> {
        let key = f as *const Function as usize;
        if let Some(r) = self.calls.facts.reassigned.borrow().get(&key) {
            return r.clone();
        }
        let r = Rc::new(f.reassigned_vars());
        self.calls
            .facts
            .reassigned
            .borrow_mut()
            .insert(key, r.clone());
        r
    }

    fn eval(&self, e: &'m Expr, at: Place<'m>, trace: &mut Trace, depth: u8) -> Eval<Num> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "`{}` is defined too deep to follow",
                self.written(e)
            ));
        }
        let d = depth + 1;
        use ExprKind::*;
        match &e.kind {
            Int {
                value, unsigned, ..
            } => Ok(Num::Int(cudalens_syntax::ir::int_literal_value(
                *value, *unsigned,
            ))),
            Float { value, .. } => Ok(Num::Float(*value)),
            Bool(b) => Ok(Num::Int(i128::from(*b))),
            WarpSize => Ok(Num::Int(32)),
            Ident(name) => self.ident(name, e, at, trace, depth),
            Unary(op, a) => {
                let v = self.eval(a, at, trace, d)?;
                match (op, v) {
                    (UnOp::Plus, v) => Ok(v),
                    (UnOp::Neg, Num::Int(v)) => Ok(Num::Int(v.wrapping_neg())),
                    (UnOp::Neg, Num::Float(v)) => Ok(Num::Float(-v)),
                    (UnOp::Not, v) => Ok(Num::Int(i128::from(v.as_f64() == 0.0))),
                    (UnOp::BitNot, Num::Int(v)) => Ok(Num::Int(!v)),
                    _ => Err(format!(
                        "`{}` is not evaluated on the host",
                        self.written(e)
                    )),
                }
            }
            Binary(op, a, b) => {
                let x = self.eval(a, at, trace, d)?;
                let y = self.eval(b, at, trace, d)?;
                binary(*op, x, y).ok_or_else(|| format!("`{}` does not fold", self.written(e)))
            }
            Ternary(c, a, b) => {
                if self.eval(c, at, trace, d)?.as_f64() != 0.0 {
                    self.eval(a, at, trace, d)
                } else {
                    self.eval(b, at, trace, d)
                }
            }
            Cast { ty, expr, .. } if ty.pointer == 0 => {
                let v = self.eval(expr, at, trace, d)?;
                if is_float_type(&ty.base) {
                    Ok(Num::Float(v.as_f64()))
                } else if is_int_type(&ty.base) {
                    let i = v
                        .to_int()
                        .ok_or_else(|| format!("`{}` does not fit an integer", self.written(e)))?;
                    Ok(Num::Int(match ty.base.as_str() {
                        "int" | "int32_t" => i as i32 as i128,
                        "unsigned int" | "unsigned" | "uint32_t" | "uint" => i as u32 as i128,
                        _ => i,
                    }))
                } else {
                    Err(format!("cast to `{}`", ty.base))
                }
            }
            SizeofType(ty) => self
                .env
                .size_of(ty)
                .map(|s| Num::Int(i128::from(s)))
                .ok_or_else(|| format!("sizeof({}) is not known", ty.base)),
            // `sizeof(DATA_TYPE)` parses as an expression when the grammar
            // cannot tell the name is a type (a macro or a typedef).
            SizeofExpr(inner) => self
                .operand_type(inner, at)
                .and_then(|ty| self.env.size_of(&ty))
                .map(|s| Num::Int(i128::from(s)))
                .ok_or_else(|| format!("`{}` is not known", self.written(e))),
            Member { base, field, arrow } if !arrow => {
                let axis = match field.as_str() {
                    "x" => 0,
                    "y" => 1,
                    "z" => 2,
                    _ => return Err(format!("`{}` is not a dim3 component", self.written(e))),
                };
                let is_dim3 = match &base.kind {
                    ExprKind::Ident(n) => self
                        .decl_before(at.function, n, at.at)
                        .is_some_and(|d| d.ty.base.ends_with("dim3") && d.ty.pointer == 0),
                    ExprKind::Call(c) => c.callee.ends_with("dim3"),
                    _ => false,
                };
                if !is_dim3 {
                    return Err(format!(
                        "`{}` is not a dim3 of the host code",
                        self.written(base)
                    ));
                }
                match self.dim3_parts(base, at, trace, d)?.components[axis] {
                    Some((c, place)) => self.eval(c, place, trace, d),
                    None => Ok(Num::Int(1)),
                }
            }
            Call(c) => {
                let name = c.callee.trim_start_matches("std::");
                let args = c
                    .args
                    .iter()
                    .map(|a| self.eval(a, at, trace, d))
                    .collect::<Eval<Vec<_>>>()?;
                match call(name, &args) {
                    Some(v) => Ok(v),
                    None => self.helper_call(&c.callee, &args, e, trace, d),
                }
            }
            Comma(v) => match v.last() {
                Some(last) => self.eval(last, at, trace, d),
                None => Err("empty expression".into()),
            },
            Index(base, index) => self.array_element(e, base, index, at, trace, d),
            _ => Err(format!(
                "`{}` is not evaluated on the host",
                self.written(e)
            )),
        }
    }

    /// The type `sizeof(operand)` measures: a type name the grammar took
    /// for an expression, a variable (not an array), or an element of a
    /// pointer variable (`*p`, `p[0]`).
    fn operand_type(&self, operand: &Expr, at: Place<'m>) -> Option<Type> {
        let declared = |name: &str| -> Option<Type> {
            match self.decl_before(at.function, name, at.at) {
                Some(d) if d.dims.is_empty() => Some(d.ty.clone()),
                Some(_) => None,
                None => match at.function.params.iter().find(|p| p.name == name) {
                    Some(p) => Some(p.ty.clone()),
                    None => Some(Type::named(name)),
                },
            }
        };
        match &operand.kind {
            ExprKind::Ident(name) => declared(name),
            ExprKind::Unknown(text)
                if text
                    .split_whitespace()
                    .all(|w| w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')) =>
            {
                Some(Type::named(
                    &text.split_whitespace().collect::<Vec<_>>().join(" "),
                ))
            }
            ExprKind::Unary(UnOp::Deref, p) | ExprKind::Index(p, _) => {
                let ty = declared(p.as_ident()?)?;
                (ty.pointer > 0).then(|| ty.pointee())
            }
            _ => None,
        }
    }

    /// `sizes[j]` of a local array with a constant initialiser: at a
    /// constant index, that element; at the induction variable of a loop
    /// from 0 around `at`, the element [`Self::choice`] picks (each run of
    /// [`resolve_each`] one), else the first, as an assumption.
    fn array_element(
        &self,
        e: &Expr,
        base: &Expr,
        index: &'m Expr,
        at: Place<'m>,
        trace: &mut Trace,
        d: u8,
    ) -> Eval<Num> {
        let not = || format!("`{}` is not evaluated on the host", self.written(e));
        let name = base.as_ident().ok_or_else(not)?;
        let decl = self
            .decl_before(at.function, name, at.at)
            .filter(|decl| decl.dims.len() == 1 && decl.ty.pointer == 0)
            .ok_or_else(not)?;
        let Some(Expr {
            kind: ExprKind::InitList(items),
            ..
        }) = &decl.init
        else {
            return Err(not());
        };
        if self.reassigned(at.function).contains(name) {
            return Err(format!("`{name}` is written after its initialiser"));
        }
        let loop_index = index.as_ident().and_then(|j| {
            let (first, line) = self.loop_start(at.function, j, at.at)?;
            let start = self.eval(first, at, &mut Trace::default(), d).ok()?;
            (start == Num::Int(0)).then_some((j, line))
        });
        let k = match loop_index {
            Some((j, line)) => {
                self.choices.set(self.choices.get().max(items.len()));
                let k = self.choice.unwrap_or(0);
                let item = items.get(k).ok_or_else(not)?;
                let v = self.eval(item, at, trace, d)?;
                match self.choice {
                    Some(_) => trace.step(format!(
                        "{name}[{j}] = {v}: value {} of the {} the loop at line {line} runs over",
                        k + 1,
                        items.len()
                    )),
                    None => trace.assume(format!(
                        "`{name}[{j}]` runs over the {} values of `{name}` in the loop at line {line}: the first, {v}, is used",
                        items.len()
                    )),
                }
                return Ok(v);
            }
            None => self.eval(index, at, trace, d)?.to_int().ok_or_else(not)?,
        };
        let item = usize::try_from(k)
            .ok()
            .and_then(|k| items.get(k))
            .ok_or_else(not)?;
        self.eval(item, at, trace, d)
    }

    fn ident(
        &self,
        name: &str,
        e: &Expr,
        at: Place<'m>,
        trace: &mut Trace,
        depth: u8,
    ) -> Eval<Num> {
        let f = at.function;
        let d = depth + 1;
        if let Some((_, values)) = self
            .bound
            .borrow()
            .last()
            .filter(|(func, _)| *func == f as *const Function as usize)
            && let Some((_, v)) = values.iter().find(|(n, _)| n == name)
        {
            return Ok(*v);
        }
        if let Some(decl) = self.decl_before_cached(f, name, at.at) {
            if decl.ty.pointer > 0 || !decl.dims.is_empty() {
                return Err(format!("`{name}` is not a scalar"));
            }
            if let Some((first, line)) = self.loop_start(f, name, at.at) {
                let v = self.eval(
                    first,
                    Place {
                        function: f,
                        at: first.span.start,
                    },
                    trace,
                    d,
                )?;
                let written = self.written(first);
                let shown = if written == v.to_string() {
                    written
                } else {
                    format!("{written} = {v}")
                };
                trace.assume(format!(
                    "`{name}` is the induction variable of the loop at line {line}: its first value, {name} = {shown}, is used"
                ));
                return Ok(v);
            }
            if let Some(callee) = address_taken(f, name) {
                return self.out_parameter(f, name, at.at, trace, d).map_err(|why| {
                    format!(
                        "set at run time: {}() receives &{name} in {}{why}",
                        callee, f.name
                    )
                });
            }
            if self.reassigned(f).contains(name)
                && let Some(v) = self.last_assignment(f, name, at.at, &decl.ty, trace, d)?
            {
                return Ok(v);
            }
            if self.reassigned(f).contains(name) {
                trace.assume(format!(
                    "`{name}` changes after the launch in {}: its value at the first launch is used",
                    f.name
                ));
            }
            let init = match (&decl.init, &decl.ctor_args) {
                (Some(init), _) => init,
                (None, Some(args)) if args.len() == 1 => &args[0],
                _ => {
                    return Err(format!(
                        "`{name}` has no value at its declaration in {}",
                        f.name
                    ));
                }
            };
            trace.step(format!(
                "{}: {} {name} = {}",
                f.name,
                decl.ty.base,
                self.written(init)
            ));
            let v = self.eval(
                init,
                Place {
                    function: f,
                    at: decl.span.start,
                },
                trace,
                d,
            )?;
            return Ok(convert(v, &decl.ty).unwrap_or(v));
        }
        if let Some(index) = f.params.iter().position(|p| p.name == name) {
            if address_taken(f, name).is_some() {
                return Err(format!("parameter `{name}` is changed in {}", f.name));
            }
            if self.reassigned(f).contains(name) {
                // `block_size = 32;` before the launch (llm.c's
                // softmax_forward3): the last such statement gives it.
                let ty = &f.params[index].ty;
                if let Some(v) = self.last_assignment(f, name, at.at, ty, trace, d)? {
                    return Ok(v);
                }
                trace.assume(format!(
                    "`{name}` changes after the launch in {}: its value at the first launch is used",
                    f.name
                ));
            }
            return self.parameter(f, index, trace, depth);
        }
        if let Some(v) = self.env.lookup(name) {
            return Ok(Num::Int(v));
        }
        // A file-scope constant that is not an integer (`const float RATE = 0.02f;`).
        if let Some(g) = self.model.globals.iter().find(|g| g.name == name) {
            return match &g.init {
                Some(init)
                    if (g.ty.is_const || g.constexpr) && g.ty.pointer == 0 && g.dims.is_empty() =>
                {
                    trace.step(format!(
                        "const {} {name} = {}",
                        g.ty.base,
                        self.written(init)
                    ));
                    let v = self.eval(init, at, trace, d)?;
                    Ok(convert(v, &g.ty).unwrap_or(v))
                }
                _ => Err(format!(
                    "`{name}` is a file-scope variable, which may change at run time"
                )),
            };
        }
        Err(format!("`{}` is not known in {}", self.written(e), f.name))
    }

    /// The value of the last plain `name = value;` of `f` before `at`
    /// (`None`: there is none; `Err`: one may not run).
    fn last_assignment(
        &self,
        f: &'m Function,
        name: &str,
        at: usize,
        ty: &Type,
        trace: &mut Trace,
        depth: u8,
    ) -> Eval<Option<Num>> {
        let Some((_, value, pos)) = self
            .assignments_before(f, name, at)?
            .into_iter()
            .rfind(|(axis, _, _)| axis.is_none())
        else {
            return Ok(None);
        };
        trace.step(format!(
            "{}: {name} = {} at line {}",
            f.name,
            self.written(value),
            self.line(pos)
        ));
        let v = self.eval(
            value,
            Place {
                function: f,
                at: pos,
            },
            trace,
            depth,
        )?;
        Ok(Some(convert(v, ty).unwrap_or(v)))
    }

    /// A host function of the file or its headers whose body is one
    /// `return` (`iDivUp(w, 16)`, `ceil_div(n, block)`): its value at these
    /// arguments. Overloads, templates and anything longer are not followed.
    fn helper_call(
        &self,
        callee: &str,
        args: &[Num],
        e: &Expr,
        trace: &mut Trace,
        depth: u8,
    ) -> Eval<Num> {
        let not_evaluated = || format!("the call `{}` is not evaluated", self.written(e));
        self.calls.read_function(callee);
        let mut defined = self
            .model
            .functions
            .iter()
            .map(|f| &**f)
            .filter(|f| f.name == callee && f.body.is_some());
        let (Some(f), None) = (defined.next(), defined.next()) else {
            return Err(not_evaluated());
        };
        let scalar = |t: &Type| t.pointer == 0 && (is_int_type(&t.base) || is_float_type(&t.base));
        if !matches!(f.exec, ExecSpace::Host | ExecSpace::HostDevice)
            || !f.template_params.is_empty()
            || f.params.len() != args.len()
            || !f.params.iter().all(|p| scalar(&p.ty))
            || !scalar(&f.ret)
        {
            return Err(not_evaluated());
        }
        let Some(StmtKind::Block(items)) = f.body.as_deref().map(|b| &b.kind) else {
            return Err(not_evaluated());
        };
        let [
            Stmt {
                kind: StmtKind::Return(Some(result)),
                ..
            },
        ] = &items[..]
        else {
            return Err(not_evaluated());
        };
        let key = f as *const Function as usize;
        if self.bound.borrow().iter().any(|(k, _)| *k == key) {
            return Err(format!(
                "`{callee}` calls itself: its value is not followed"
            ));
        }
        let values = f
            .params
            .iter()
            .zip(args)
            .map(|(p, &a)| (p.name.clone(), convert(a, &p.ty).unwrap_or(a)))
            .collect::<Vec<_>>();
        trace.step(format!("{} = {}", self.written(e), self.written(result)));
        self.bound.borrow_mut().push((key, values));
        let v = self.eval(
            result,
            Place {
                function: f,
                at: result.span.start,
            },
            trace,
            depth,
        );
        self.bound.borrow_mut().pop();
        let v = v?;
        Ok(convert(v, &f.ret).unwrap_or(v))
    }

    /// Parameter `index` of `f`: its argument at the first call of `f` in the file.
    fn parameter(&self, f: &'m Function, index: usize, trace: &mut Trace, depth: u8) -> Eval<Num> {
        let name = &f.params[index].name;
        let calls = self.calls_of(&f.name);
        let Some(&(caller, call_span, args)) = calls.first() else {
            if f.name == "main" {
                return Err(format!(
                    "`{name}` is a parameter of main: the command line sets it at run time"
                ));
            }
            return Err(format!(
                "`{name}` is a parameter of {}, which nothing in the file calls",
                f.name
            ));
        };
        let Some(arg) = args.get(index) else {
            return Err(format!(
                "the call of {} at line {} has no argument for `{name}`",
                f.name,
                self.line(call_span.start)
            ));
        };
        trace.step(format!(
            "{}'s parameter {name} = `{}` from {} at line {}",
            f.name,
            self.written(arg),
            caller.name,
            self.line(call_span.start)
        ));
        let at_call = |(caller, span, _): &CallSite<'m>| Place {
            function: caller,
            at: span.start,
        };
        let v = self.eval(arg, at_call(&calls[0]), trace, depth + 1)?;
        // Other calls passing the same value (llm.c's `case 5:` and `case
        // 6:` both pass `block_size`) make the first call no assumption.
        let same_everywhere = calls.len() <= MAX_CALLS_COMPARED
            && calls[1..].iter().all(|c| {
                c.2.get(index).is_some_and(|a| {
                    let mut other = Trace::default();
                    let o = self.eval(a, at_call(c), &mut other, depth + 1);
                    // Equal, and assuming nothing the first did not.
                    o.is_ok_and(|o| o.to_string() == v.to_string())
                        && other
                            .assumptions
                            .iter()
                            .all(|x| trace.assumptions.contains(x))
                })
            });
        if !same_everywhere {
            trace.assume(format!(
                "{} is called {} times: the first call (line {}) is followed",
                f.name,
                calls.len(),
                self.line(call_span.start)
            ));
        }
        Ok(convert(v, &f.params[index].ty).unwrap_or(v))
    }

    /// The value `f` gives `name` by passing `&name` to a function of this
    /// file (`init(&alpha)` whose body says `*alpha = 32412;`): only when
    /// that is the one call taking `&name`, it always runs before `at`, and
    /// the callee's only write through the pointer is a plain statement
    /// of its body's outer block, the pointer going nowhere else. `Err`
    /// holds why not (after `; `), for the caller's message.
    fn out_parameter(
        &self,
        f: &'m Function,
        name: &str,
        at: usize,
        trace: &mut Trace,
        depth: u8,
    ) -> Eval<Num> {
        let body = f.body.as_ref().ok_or_else(String::new)?;
        let takes_address = |a: &Expr| matches!(&a.kind, ExprKind::Unary(UnOp::AddrOf, inner) if inner.as_ident() == Some(name));
        let mut calls: Vec<(&'m str, usize, Span)> = Vec::new();
        walk_stmts(body, &mut |st| {
            for e in st.own_exprs() {
                walk_expr(e, &mut |e| {
                    if let ExprKind::Call(c) = &e.kind
                        && let Some(i) = c.args.iter().position(takes_address)
                    {
                        calls.push((c.callee.as_str(), i, e.span));
                    }
                });
            }
        });
        let [(callee, index, span)] = calls[..] else {
            return Err(format!("; &{name} is passed {} times", calls.len()));
        };
        if span.start >= at {
            return Err(String::new());
        }
        // A statement of a block that holds `at`: it runs before the launch.
        let mut always = false;
        walk_stmts(body, &mut |st| {
            if let StmtKind::Block(items) = &st.kind
                && st.span.start <= at
                && at < st.span.end
                && items
                    .iter()
                    .any(|i| matches!(&i.kind, StmtKind::Expr(e) if e.span == span))
            {
                always = true;
            }
        });
        if !always {
            return Err(format!(
                "; the call at line {} may not run",
                self.line(span.start)
            ));
        }
        self.calls.read_function(callee);
        let Some(g) = self
            .model
            .functions
            .iter()
            .map(|g| &**g)
            .find(|g| g.name == callee && g.in_main_file() && g.body.is_some())
        else {
            return Err(String::new());
        };
        let Some(p) = g.params.get(index).map(|p| p.name.as_str()) else {
            return Err(String::new());
        };
        let Some(StmtKind::Block(items)) = g.body.as_ref().map(|b| &b.kind) else {
            return Err(String::new());
        };
        let deref_of_p = |t: &Expr| match &t.kind {
            ExprKind::Unary(UnOp::Deref, inner) => inner.as_ident() == Some(p),
            ExprKind::Index(base, i) => {
                base.as_ident() == Some(p) && matches!(i.kind, ExprKind::Int { value: 0, .. })
            }
            _ => false,
        };
        // The write: `*p = v;` in the outer block, the last one.
        let write = items.iter().rev().find_map(|i| match &i.kind {
            StmtKind::Expr(e) => match &e.kind {
                ExprKind::Assign(None, t, v) if deref_of_p(t) => Some((e.span, &**v)),
                _ => None,
            },
            _ => None,
        });
        let Some((write_span, value)) = write else {
            return Err(String::new());
        };
        // Nothing else writes through `p` or hands it on.
        let mut other = false;
        if let Some(b) = &g.body {
            b.walk_exprs(&mut |e| match &e.kind {
                ExprKind::Assign(_, t, _) | ExprKind::IncDec { target: t, .. }
                    if e.span != write_span =>
                {
                    let mut base = &**t;
                    while let ExprKind::Member { base: b, .. }
                    | ExprKind::Index(b, _)
                    | ExprKind::Unary(UnOp::Deref, b) = &base.kind
                    {
                        base = b;
                    }
                    other |= base.as_ident() == Some(p);
                }
                ExprKind::Call(c) => other |= c.args.iter().any(|a| a.as_ident() == Some(p)),
                _ => {}
            });
        }
        if other {
            return Err(format!("; {callee}() writes *{p} in more than one place"));
        }
        trace.step(format!(
            "{}: {callee}(…&{name}…) at line {} sets *{p} = {} (line {})",
            f.name,
            self.line(span.start),
            self.written(value),
            self.line(write_span.start)
        ));
        self.eval(
            value,
            Place {
                function: g,
                at: write_span.start,
            },
            trace,
            depth + 1,
        )
    }

    /// Bytes of the allocation a pointer argument `arg` points at, read at
    /// `at`: the last `cudaMalloc(&name, bytes)` (through casts and error
    /// checking wrappers) before `at` in its function, or, for a parameter
    /// of that function, the allocation its callers pass (all of them the
    /// same size, else the first is an assumption).
    fn allocation(&self, arg: &'m Expr, at: Place<'m>, trace: &mut Trace, depth: u8) -> Eval<u64> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "`{}` is passed on too deep to follow",
                self.written(arg)
            ));
        }
        let Some(name) = arg.without_casts().as_ident() else {
            return Err(format!(
                "`{}` is not a pointer variable (an offset or an expression)",
                self.written(arg)
            ));
        };
        let f = at.function;
        self.calls.read_function(&f.name);
        let body = f
            .body
            .as_ref()
            .ok_or_else(|| format!("{} has no body", f.name))?;
        let mut last: Option<(&'m Expr, &'m Expr)> = None;
        let mut visit = |e: &'m Expr| {
            if e.span.start >= at.at {
                return;
            }
            if let ExprKind::Call(c) = &e.kind
                && ALLOCATORS.contains(&c.callee.as_str())
                && let [target, size, ..] = &c.args[..]
                && let ExprKind::Unary(UnOp::AddrOf, inner) = &target.without_casts().kind
                && inner.as_ident() == Some(name)
                && last.is_none_or(|(_, call)| call.span.start < e.span.start)
            {
                last = Some((size, e));
            }
        };
        walk_stmts(body, &mut |st| {
            for e in st.own_exprs() {
                walk_expr(e, &mut visit);
            }
        });
        if let Some((size, call)) = last {
            // The call as written (inside a macro: the macro's invocation).
            let written = self.written(call);
            trace.step(format!(
                "{}: {} at line {}",
                f.name,
                written.trim_end_matches(';'),
                self.line(call.span.start)
            ));
            let place = Place {
                function: f,
                at: call.span.start,
            };
            let bytes = self.eval(size, place, trace, depth + 1)?;
            return bytes
                .to_int()
                .and_then(|b| u64::try_from(b).ok())
                .ok_or_else(|| format!("`{}` is not a size", self.written(size)));
        }
        let Some(index) = f.params.iter().position(|p| p.name == name) else {
            return Err(format!(
                "no cudaMalloc of `{name}` in {} before the launch",
                f.name
            ));
        };
        let calls = self.calls_of(&f.name);
        let Some(first) = calls.first() else {
            return Err(format!(
                "`{name}` is a parameter of {}, which nothing in the file calls",
                f.name
            ));
        };
        let at_call = |(caller, span, _): &CallSite<'m>| Place {
            function: caller,
            at: span.start,
        };
        let Some(passed) = first.2.get(index) else {
            return Err(format!(
                "the call of {} at line {} has no argument for `{name}`",
                f.name,
                self.line(first.1.start)
            ));
        };
        trace.step(format!(
            "{}'s parameter {name} = `{}` from {} at line {}",
            f.name,
            self.written(passed),
            first.0.name,
            self.line(first.1.start)
        ));
        let bytes = self.allocation(passed, at_call(first), trace, depth + 1)?;
        let same_everywhere = calls.len() <= MAX_CALLS_COMPARED
            && calls[1..].iter().all(|c| {
                c.2.get(index).is_some_and(|a| {
                    let mut other = Trace::default();
                    self.allocation(a, at_call(c), &mut other, depth + 1) == Ok(bytes)
                })
            });
        if !same_everywhere {
            trace.assume(format!(
                "{} is called {} times: the first call's buffer (line {}) is followed",
                f.name,
                calls.len(),
                self.line(first.1.start)
            ));
        }
        Ok(bytes)
    }

    /// Calls of `name` in the file's own functions, in file order.
    fn calls_of(&self, name: &str) -> &'e [CallSite<'m>] {
        self.calls.read_callers_of(name);
        self.calls.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// When `at` is inside a `for` loop whose induction variable is `name`
    /// (declared or assigned in its init), the first value and the loop's line.
    fn loop_start(&self, f: &'m Function, name: &str, at: usize) -> Option<(&'m Expr, u32)> {
        let body = f.body.as_ref()?;
        let mut found: Option<(&'m Expr, usize)> = None;
        walk_stmts(body, &mut |s| {
            let StmtKind::For { init, body, .. } = &s.kind else {
                return;
            };
            if !(body.span.start <= at && at < body.span.end) {
                return;
            }
            for i in init {
                let first = match &i.kind {
                    StmtKind::Decl(decls) => decls
                        .iter()
                        .find(|d| d.name == name)
                        .and_then(|d| d.init.as_ref()),
                    StmtKind::Expr(Expr {
                        kind: ExprKind::Assign(None, target, value),
                        ..
                    }) if target.as_ident() == Some(name) => Some(&**value),
                    _ => None,
                };
                // The innermost loop wins (walked parents first).
                if let Some(first) = first {
                    found = Some((first, s.span.start));
                }
            }
        });
        found.map(|(e, start)| (e, self.line(start)))
    }
}

/// `f(stmt)` on every statement, parents first, with the tree's lifetime.
fn walk_stmts<'a>(s: &'a Stmt, f: &mut dyn FnMut(&'a Stmt)) {
    f(s);
    for c in s.children() {
        walk_stmts(c, f);
    }
}

/// `f(expr)` on every sub-expression, parents first, with the tree's lifetime.
fn walk_expr<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    f(e);
    for c in e.children() {
        walk_expr(c, f);
    }
}

/// The function a call passes `&name` to, when `f` does so anywhere.
fn address_taken(f: &Function, name: &str) -> Option<String> {
    let body = f.body.as_ref()?;
    let mut seen: HashSet<String> = HashSet::new();
    let mut first = None;
    body.walk_exprs(&mut |e| {
        if let ExprKind::Call(c) = &e.kind {
            for a in &c.args {
                if let ExprKind::Unary(UnOp::AddrOf, inner) = &a.kind
                    && inner.as_ident() == Some(name)
                    && seen.insert(c.callee.clone())
                    && first.is_none()
                {
                    first = Some(c.callee.clone());
                }
            }
        }
    });
    first
}

fn binary(op: BinOp, x: Num, y: Num) -> Option<Num> {
    use BinOp::*;
    match (x, y) {
        (Num::Int(a), Num::Int(b)) => fold_binary(op, a, b).map(Num::Int),
        _ => {
            let (a, b) = (x.as_f64(), y.as_f64());
            let bool_ = |v: bool| Some(Num::Int(i128::from(v)));
            match op {
                Add => Some(Num::Float(a + b)),
                Sub => Some(Num::Float(a - b)),
                Mul => Some(Num::Float(a * b)),
                Div if b != 0.0 => Some(Num::Float(a / b)),
                Eq => bool_(a == b),
                Ne => bool_(a != b),
                Lt => bool_(a < b),
                Gt => bool_(a > b),
                Le => bool_(a <= b),
                Ge => bool_(a >= b),
                LogAnd => bool_(a != 0.0 && b != 0.0),
                LogOr => bool_(a != 0.0 || b != 0.0),
                _ => None,
            }
        }
    }
}

/// The math the host code of launches uses.
fn call(name: &str, args: &[Num]) -> Option<Num> {
    let float = |v: f64| Some(Num::Float(v));
    match (name, args) {
        ("ceil" | "ceilf", [v]) => float(v.as_f64().ceil()),
        ("floor" | "floorf", [v]) => float(v.as_f64().floor()),
        ("sqrt" | "sqrtf", [v]) if v.as_f64() >= 0.0 => float(v.as_f64().sqrt()),
        ("abs" | "fabs" | "fabsf", [Num::Int(v)]) => Some(Num::Int(v.abs())),
        ("abs" | "fabs" | "fabsf", [v]) => float(v.as_f64().abs()),
        ("min" | "fmin" | "fminf" | "umin", [a, b]) => Some(pick(*a, *b, true)),
        ("max" | "fmax" | "fmaxf" | "umax", [a, b]) => Some(pick(*a, *b, false)),
        _ => None,
    }
}

fn pick(a: Num, b: Num, min: bool) -> Num {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Num::Int(if min { x.min(y) } else { x.max(y) }),
        _ => {
            let (x, y) = (a.as_f64(), b.as_f64());
            Num::Float(if min { x.min(y) } else { x.max(y) })
        }
    }
}
