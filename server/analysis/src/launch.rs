//! Theoretical occupancy of every kernel at each of its launches, and the
//! launch-configuration diagnostics: `low-occupancy`,
//! `block-size-not-multiple-of-32`, `launch-exceeds-limit`, `grid-too-small`.

use serde::Serialize;

use cudalens_occupancy::{
    Arch, LaunchError, Limiter, OccupancyInput, OccupancyReport, best_block_size, occupancy, render,
};
use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{Builtin, Expr, ExprKind, Stmt, StmtKind, Type, UnOp};
use cudalens_syntax::model::Function;

use crate::AnalysisConfig;
use crate::context::{BlockSource, KernelContext};
use crate::diagnostic::{Diagnostic, Edit, Fix, Span};
use crate::rules;

/// Registers per thread: measured by ptxas, or estimated from the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct RegisterInfo {
    /// The count used for occupancy (the low end of the range when estimated,
    /// so that an estimate never raises a false low-occupancy alarm).
    pub count: u32,
    pub estimated: bool,
    /// The estimated range; equal to `count` when measured.
    pub low: u32,
    pub high: u32,
}

#[derive(Clone, Debug, Serialize)]
pub struct LaunchReport {
    /// The `<<<...>>>` launch expression; `None` for the assumed configuration
    /// of a kernel launched nowhere in the file, and for a launch made in
    /// another file (then `launched_in` says where).
    pub span: Option<Span>,
    /// Where a launch made in another file is (`needle.cu:140`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub launched_in: Option<String>,
    pub block: [u32; 3],
    pub block_source: BlockSource,
    pub grid: Option<[i64; 3]>,
    pub dynamic_smem: Option<u64>,
    /// The launch passes dynamic shared memory whose size is a run-time
    /// value (`` `sram_size` ``, or "its dynamic shared memory"): it is not
    /// counted, so the occupancy is an upper bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dynamic_smem_unresolved: Option<String>,
    pub occupancy: Option<OccupancyReport>,
    /// Why no occupancy could be computed (a hard limit was exceeded).
    pub error: Option<String>,
    /// The limit exceeded is the register count's (so with estimated
    /// registers the error is only a possibility).
    #[serde(skip)]
    pub error_from_registers: bool,
    /// The block size that maximises occupancy for this kernel's resources.
    pub best_block_size: Option<u32>,
    /// Occupancy at the high end of the register estimate, when estimated.
    pub occupancy_at_high_registers: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KernelReport {
    pub name: String,
    pub span: Span,
    pub name_span: Span,
    /// `None`: the kernel is defined in this file. Otherwise the file that
    /// defines it (this file includes it and launches it; its spans are that
    /// file's, and only its launches are reported here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<std::path::PathBuf>,
    /// Block size of the first configuration (null when it is only the default).
    pub block: Option<[u32; 3]>,
    pub block_source: BlockSource,
    pub registers: RegisterInfo,
    /// Bytes of static `__shared__` memory; `None` when a size did not resolve.
    pub static_smem: Option<u64>,
    pub launches: Vec<LaunchReport>,
}

/// What occupancy needs from a kernel's body (computed once per kernel
/// version and cached with its memory analysis).
#[derive(Clone, Debug)]
pub struct KernelResources {
    pub register_estimate: RegisterInfo,
    /// `__launch_bounds__(T, B)`: the registers per thread nvcc allows at
    /// most, so that B blocks of T threads fit on an SM.
    pub register_cap: Option<u32>,
    /// Static shared memory per configuration (`None` when a size does not resolve).
    pub static_smem: Vec<Option<u64>>,
}

impl KernelResources {
    pub fn of(model: &FileModel, kernel: &Function, contexts: &[KernelContext]) -> Self {
        KernelResources {
            register_estimate: estimate_registers(kernel),
            register_cap: launch_bounds_register_cap(model, kernel),
            static_smem: contexts
                .iter()
                .map(|c| static_shared_bytes(model, kernel, c))
                .collect(),
        }
    }
}

pub fn analyze_kernel(
    kernel: &Function,
    contexts: &[KernelContext],
    resources: &KernelResources,
    arch: &Arch,
    config: &AnalysisConfig,
) -> (KernelReport, Vec<Diagnostic>) {
    let registers = match config.registers.get(&kernel.name) {
        Some(&r) => RegisterInfo {
            count: r,
            estimated: false,
            low: r,
            high: r,
        },
        None => {
            let mut estimate = resources.register_estimate;
            if let Some(cap) = resources.register_cap {
                estimate.count = estimate.count.min(cap);
                estimate.low = estimate.low.min(cap);
                estimate.high = estimate.high.min(cap);
            }
            estimate
        }
    };
    let mut diags = Vec::new();
    let mut launches = Vec::new();
    let mut static_smem_first = None;
    for (i, ctx) in contexts.iter().enumerate() {
        let static_smem = resources.static_smem.get(i).copied().flatten();
        if i == 0 {
            static_smem_first = static_smem;
        }
        let report = launch_report(ctx, registers, static_smem.unwrap_or(0), arch);
        diags.extend(launch_diagnostics(
            kernel, ctx, &report, registers, arch, config,
        ));
        launches.push(report);
    }
    let first = &contexts[0];
    let report = KernelReport {
        name: kernel.name.clone(),
        span: kernel.span,
        name_span: kernel.name_span,
        file: kernel.file.clone(),
        block: (first.block_source != BlockSource::Default).then_some(first.block),
        block_source: first.block_source,
        registers,
        static_smem: static_smem_first,
        launches,
    };
    (report, diags)
}

fn launch_report(
    ctx: &KernelContext,
    regs: RegisterInfo,
    static_smem: u64,
    arch: &Arch,
) -> LaunchReport {
    let threads = ctx.threads().min(u32::MAX as u64) as u32;
    let dynamic = ctx
        .launch
        .and_then(|l| l.smem_bytes)
        .and_then(|b| u64::try_from(b).ok())
        .or(ctx.dynamic_smem);
    let dynamic_smem_unresolved = ctx
        .launch
        .filter(|l| l.smem_bytes.is_none() && ctx.dynamic_smem.is_none())
        .and_then(|l| l.smem.as_ref())
        .map(|e| {
            e.as_ident().map_or_else(
                || "its dynamic shared memory".to_string(),
                |name| format!("`{name}`"),
            )
        });
    let input = |r: u32| {
        let mut i = OccupancyInput::new(threads, r)
            .with_static_smem(static_smem)
            .with_dynamic_smem(dynamic.unwrap_or(0));
        if regs.estimated {
            // The range, not its low end alone: the report gives both ends.
            i = i.estimated_register_range(regs.high);
        }
        i
    };
    let result = occupancy(arch, &input(regs.count));
    let at_high = if regs.estimated && regs.high != regs.count {
        occupancy(arch, &input(regs.high)).ok().map(|r| r.occupancy)
    } else {
        None
    };
    let best = best_block_size(arch, regs.count, static_smem, dynamic.unwrap_or(0))
        .ok()
        .map(|b| b.block_size);
    let grid = ctx.launch.and_then(|l| l.grid_dims.resolved());
    match result {
        Ok(r) => LaunchReport {
            span: ctx.launch.filter(|l| l.is_local()).map(|l| l.span),
            launched_in: ctx
                .launch
                .and_then(|l| l.origin.as_ref())
                .map(|o| o.to_string()),
            block: ctx.block,
            block_source: ctx.block_source,
            grid,
            dynamic_smem: dynamic,
            dynamic_smem_unresolved,
            occupancy: Some(r),
            error: None,
            error_from_registers: false,
            best_block_size: best,
            occupancy_at_high_registers: at_high,
        },
        Err(e) => LaunchReport {
            span: ctx.launch.filter(|l| l.is_local()).map(|l| l.span),
            launched_in: ctx
                .launch
                .and_then(|l| l.origin.as_ref())
                .map(|o| o.to_string()),
            block: ctx.block,
            block_source: ctx.block_source,
            grid,
            dynamic_smem: dynamic,
            dynamic_smem_unresolved,
            occupancy: None,
            error: Some(e.to_string()),
            error_from_registers: matches!(
                e,
                LaunchError::TooManyRegisters { .. } | LaunchError::RegisterFileExceeded { .. }
            ),
            best_block_size: best,
            occupancy_at_high_registers: None,
        },
    }
}

fn assumed_note(ctx: &KernelContext) -> &'static str {
    match ctx.block_source {
        // Placed on the kernel's name: no launch is seen at all.
        BlockSource::Default if ctx.launch.is_none() => {
            " (block size assumed: no launch in this file; set it with cudalens.defaultBlockSize, or --block in the CLI)"
        }
        // Placed on the launch, whose block size is a runtime value.
        BlockSource::Default => {
            " (block size assumed: this launch's block size is set at run time; set it with cudalens.defaultBlockSize, or --block in the CLI)"
        }
        BlockSource::LaunchBounds => " (block size taken from __launch_bounds__)",
        _ => "",
    }
}

fn launch_diagnostics(
    kernel: &Function,
    ctx: &KernelContext,
    report: &LaunchReport,
    regs: RegisterInfo,
    arch: &Arch,
    config: &AnalysisConfig,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    // A launch made in another file is reported there, at the launch (the
    // file that makes it sees this kernel too): here it only informs.
    if ctx.launch.is_some_and(|l| !l.is_local()) {
        return out;
    }
    // Diagnostics about a launch go on the launch; about an assumed configuration, on the kernel name.
    let at = ctx.launch.map_or(kernel.name_span, |l| l.span);
    let block_at = ctx.launch.and_then(|l| l.block_arg_span).unwrap_or(at);
    if let Some(err) = &report.error {
        // A limit crossed only by estimated registers is a possibility, not
        // a fact: nvcc may well use fewer.
        let estimate =
            (regs.estimated && report.error_from_registers).then_some((regs.low, regs.high));
        out.push(rules::launch_exceeds_limit::diagnostic(
            block_at,
            arch.name,
            arch.reference_gpu,
            err,
            estimate,
        ));
        return out;
    }
    let threads = ctx.threads();
    // A one-thread block is a deliberate serial kernel (a flag, a scalar, a
    // timer), not a block with idle lanes to fill.
    if !threads.is_multiple_of(32)
        && threads > 1
        && ctx.block_source != BlockSource::Default
        && shares_work(kernel)
    {
        let mut from_host: Vec<(String, u32)> = Vec::new();
        for (value, &dim) in ctx.block_values.iter().zip(&ctx.block) {
            if let Some(crate::context::HostValue::Var(name)) = value
                && !from_host.iter().any(|(n, _)| n == name)
            {
                from_host.push((name.clone(), dim));
            }
        }
        out.push(rules::block_size_not_multiple_of_32::diagnostic(
            block_at, threads, &from_host,
        ));
    }
    let Some(occ) = &report.occupancy else {
        return out;
    };
    // Limited by a register count that is only estimated: the estimate is
    // off by up to 2x either way on real kernels (issue 18), so the claim
    // cannot be made; nvcc's count (when on PATH) makes it.
    let unknown_limit = regs.estimated && occ.limiter == Limiter::Registers;
    if occ.occupancy + 1e-9 < config.occupancy_threshold && !unknown_limit {
        let estimated = if regs.estimated {
            format!(
                " (registers estimated {}–{}/thread; the count from nvcc makes this exact)",
                regs.low, regs.high
            )
        } else {
            String::new()
        };
        let mut summary = render::summary_line(occ);
        if let Some(smem) = &report.dynamic_smem_unresolved {
            // Uncounted shared memory can only lower it further.
            summary = format!(
                "{} ({smem}, the dynamic shared memory, is set at run time and not counted)",
                summary.replacen("occupancy ", "occupancy at most ", 1)
            );
        }
        let mut d = rules::low_occupancy::diagnostic(at, summary, assumed_note(ctx), estimated);
        // The kernel's own text is in this file only when it is defined here.
        if let Some(fix) = launch_bounds_fix(kernel, threads).filter(|_| kernel.in_main_file()) {
            d = d.with_fix(fix);
        }
        if let (Some(best), Some(span), Some(launch)) = (
            report.best_block_size,
            ctx.launch.and_then(|l| l.block_arg_span),
            ctx.launch,
        ) && best as u64 != threads
            && ctx.block[1] == 1
            && ctx.block[2] == 1
        {
            let _ = launch;
            d = d.with_fix(Fix {
                title: format!("Use block size {best} (maximises occupancy for this kernel's resources)"),
                edits: vec![Edit { span, new_text: best.to_string() }],
                safe: false,
                explanation: "Changing the block size changes how work is split: check the grid size and any code that assumes the old blockDim.".into(),
            });
        }
        out.push(d);
    }
    if let (Some(grid), Some(launch)) = (report.grid, ctx.launch) {
        let blocks: i64 = grid.iter().product();
        // A grid written as a constant (`<<<1, 1024>>>`, `dim3(2, 1, 1)`, a
        // named count) is the author's choice for a fixed amount of work, and
        // a kernel that never reads blockIdx/gridDim is written for one
        // block: only a grid computed from a problem size is judged.
        let judged = launch.grid.as_ref().is_some_and(grid_is_computed) && uses_grid(kernel);
        if judged && blocks > 0 && (blocks as u64) < arch.reference_sm_count as u64 {
            let grid_at = launch
                .grid
                .as_ref()
                .filter(|g| !g.from_macro)
                .map_or(launch.span, |g| g.span);
            out.push(rules::grid_too_small::diagnostic(
                grid_at,
                blocks,
                arch.reference_sm_count,
                arch.reference_gpu,
            ));
        }
    }
    out
}

/// Whether a grid argument is computed (`(n + 255) / 256`, `ceil(N / 32.0)`)
/// rather than written as a constant or a named count.
fn grid_is_computed(e: &Expr) -> bool {
    let mut computed = false;
    e.walk(&mut |x| match &x.kind {
        ExprKind::Binary(..) => computed = true,
        ExprKind::Call(c) => {
            let callee = c.callee.to_ascii_lowercase();
            if callee.contains("ceil") || callee.contains("div") || callee.contains("round") {
                computed = true;
            }
        }
        _ => {}
    });
    computed
}

/// Whether the kernel reads its block's place in the grid (in its own body:
/// a kernel that does so only through a helper is not judged).
fn uses_grid(kernel: &Function) -> bool {
    let Some(body) = &kernel.body else {
        return false;
    };
    let mut uses = false;
    body.walk_exprs(&mut |x| match &x.kind {
        ExprKind::Builtin(Builtin::BlockIdx | Builtin::GridDim, _) => uses = true,
        ExprKind::Call(c) if c.callee.contains("this_grid") || c.callee.contains("group_index") => {
            uses = true
        }
        _ => {}
    });
    uses
}

/// Calls that only report (each thread prints or checks its own values):
/// a thread-dependent argument to them is no share of the block's work.
const REPORT_CALLS: &[&str] = &["printf", "assert", "__assertfail"];

/// Whether the block's threads share out work: some memory access or call
/// argument depends on the thread (`a[threadIdx.x]`, `*(p + tid)`, `f(p, tid)`).
/// A kernel whose threads only print (a `printf` demo) has no lanes worth
/// filling, whatever its block size.
fn shares_work(kernel: &Function) -> bool {
    let Some(body) = &kernel.body else {
        return false;
    };
    let td = cudalens_syntax::divergence::ThreadDependence::of(kernel);
    let mut shares = false;
    body.walk_exprs(&mut |x| match &x.kind {
        ExprKind::Index(_, i) if td.varies(i) => shares = true,
        ExprKind::Unary(UnOp::Deref, p) if td.varies(p) => shares = true,
        ExprKind::Call(c)
            if !REPORT_CALLS.contains(&c.callee.as_str())
                && c.args.iter().any(|a| td.varies(a)) =>
        {
            shares = true
        }
        _ => {}
    });
    shares
}

/// Adds `__launch_bounds__(threads)` (or raises an existing smaller bound).
/// Not applied on save: a launch elsewhere with a larger block would then fail.
pub fn launch_bounds_fix(kernel: &Function, threads: u64) -> Option<Fix> {
    if threads == 0 || threads > 1024 {
        return None;
    }
    let text = format!("__launch_bounds__({threads})");
    let edit = match &kernel.launch_bounds {
        Some(b) => Edit {
            span: b.span,
            new_text: text.clone(),
        },
        None => Edit {
            span: Span::new(kernel.name_span.start, kernel.name_span.start),
            new_text: format!("{text} "),
        },
    };
    Some(Fix {
        title: format!("Add {text} so the compiler budgets registers for {threads} threads"),
        edits: vec![edit],
        safe: false,
        explanation: "Only valid if no launch of this kernel uses more threads per block.".into(),
    })
}

/// Static `__shared__` bytes under `ctx`; `None` when a size does not resolve.
pub fn static_shared_bytes(
    model: &FileModel,
    kernel: &Function,
    ctx: &KernelContext,
) -> Option<u64> {
    let file_env = model.const_env();
    let tenv = ctx.env(&file_env);
    let env = kernel.const_env(&tenv);
    let mut total = 0u64;
    for d in kernel.shared_decls() {
        if d.is_extern {
            continue;
        }
        let ty = Type::named(ctx.concrete_type(&d.ty.base));
        let ty = Type {
            pointer: d.ty.pointer,
            ..ty
        };
        let mut bytes = model.types.size_of(&ty)?;
        for dim in &d.dims {
            let n = env.eval(dim.as_ref()?)?;
            bytes = bytes.checked_mul(u64::try_from(n).ok()?)?;
        }
        total = total.checked_add(bytes)?;
    }
    Some(total)
}

/// A rough register estimate from the kernel's size, shown as a range.
/// The register limit nvcc derives from `__launch_bounds__(T, B)` (B
/// defaults to 1): B blocks of T threads must fit in the register file, at
/// a whole allocation unit per warp (CUDA C++ Programming Guide, "Launch
/// Bounds"; the register file and unit are those of sm_90, which every
/// supported architecture shares: 64K registers, 256 per warp).
fn launch_bounds_register_cap(model: &FileModel, kernel: &Function) -> Option<u32> {
    const REGISTERS_PER_SM: u64 = 65_536;
    const WARP_ALLOCATION_UNIT: u64 = 256;
    const MAX_PER_THREAD: u64 = 255;
    let bounds = kernel.launch_bounds.as_ref()?;
    let env = model.const_env();
    let threads = u64::try_from(env.eval(bounds.max_threads.as_ref()?)?).ok()?;
    let blocks = match &bounds.min_blocks {
        Some(b) => u64::try_from(env.eval(b)?).ok()?.max(1),
        None => 1,
    };
    let warps = threads.div_ceil(32).max(1) * blocks;
    let per_warp = (REGISTERS_PER_SM / warps) / WARP_ALLOCATION_UNIT * WARP_ALLOCATION_UNIT;
    Some((per_warp / 32).min(MAX_PER_THREAD) as u32)
}

/// A register estimate from the kernel's shape, as a range meant to hold
/// nvcc's count for nine kernels in ten.
///
/// The centre is a log-linear fit of nvcc 13's counts (sm_90, `-O3`) to five
/// features — pointer and scalar parameters, calls (intrinsics included),
/// loops, and 64-bit or vector locals — on the 245 kernels of the CUDA
/// samples (commit c94ff36) that nvcc compiled; the range is the fit's 4th
/// to 96th percentile residual (×0.47 to ×2.13). `tests/realworld/register_fit.py`
/// regenerates the features and makes the fit. Measured on kernels not
/// used for the fit: nvcc's count lies inside for 115 of 119 llm.c kernels
/// and 14 of 18 Rodinia kernels (`tests/realworld/occupancy_truth.py` on
/// the device's `ncu_realworld.sh registers` output; BENCHMARKS.md). The
/// earlier rule (8 + 2 per pointer + 1 per scalar or local) held nvcc's
/// count for a third of them, mostly above it.
fn estimate_registers(kernel: &Function) -> RegisterInfo {
    let (low, high) = RegisterFeatures::of(kernel).estimate();
    RegisterInfo {
        count: low,
        estimated: true,
        low,
        high,
    }
}

/// What [`estimate_registers`] reads of a kernel.
#[derive(Debug, Default, PartialEq)]
pub struct RegisterFeatures {
    pub pointers: usize,
    pub scalars: usize,
    /// Calls in the body, intrinsics and `__syncthreads()` included, each
    /// counted once however deeply it is nested in other expressions.
    pub calls: usize,
    /// `for`, `while` and `do` loops.
    pub loops: usize,
    /// Locals of a 64-bit or vector type (`double`, `size_t`, `float4`...).
    pub wide_locals: usize,
}

impl RegisterFeatures {
    /// The estimated range `(low, high)` (see [`estimate_registers`]).
    pub fn estimate(&self) -> (u32, u32) {
        const INTERCEPT: f64 = 2.315;
        const PER_POINTER: f64 = 0.094;
        const PER_SCALAR: f64 = 0.222;
        const PER_CALL: f64 = 0.176;
        const PER_LOOP: f64 = 0.271;
        const PER_WIDE_LOCAL: f64 = 0.203;
        const LOW: f64 = 0.474;
        const HIGH: f64 = 2.132;
        let term = |w: f64, n: usize| w * (n as f64).ln_1p();
        let centre = (INTERCEPT
            + term(PER_POINTER, self.pointers)
            + term(PER_SCALAR, self.scalars)
            + term(PER_CALL, self.calls)
            + term(PER_LOOP, self.loops)
            + term(PER_WIDE_LOCAL, self.wide_locals))
        .exp();
        let low = ((centre * LOW).floor() as u32).clamp(1, 255);
        let high = ((centre * HIGH).ceil() as u32).clamp(low, 255);
        (low, high)
    }

    pub fn of(kernel: &Function) -> Self {
        let pointers = kernel.params.iter().filter(|p| p.ty.pointer > 0).count();
        let mut f = RegisterFeatures {
            pointers,
            scalars: kernel.params.len() - pointers,
            ..Default::default()
        };
        let Some(body) = &kernel.body else {
            return f;
        };
        body.walk(&mut |s: &Stmt| match &s.kind {
            StmtKind::For { .. } | StmtKind::While { .. } | StmtKind::DoWhile { .. } => {
                f.loops += 1
            }
            StmtKind::Decl(decls) => {
                f.wide_locals += decls
                    .iter()
                    .filter(|d| {
                        matches!(
                            d.ty.base.as_str(),
                            "double"
                                | "long"
                                | "size_t"
                                | "int64_t"
                                | "uint64_t"
                                | "long long"
                                | "float4"
                                | "double2"
                        )
                    })
                    .count()
            }
            _ => {}
        });
        // `walk_exprs` already visits every sub-expression: each call once.
        body.walk_exprs(&mut |e: &Expr| {
            if matches!(e.kind, ExprKind::Call(_)) {
                f.calls += 1;
            }
        });
        f
    }
}
