//! A benchmark ready to run: the kernel transpiled for the adapter, and the
//! launch, buffers and arguments derived by the heuristics in `mod.rs`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use cudalens_gpu::grid::grid_for_problem;
use cudalens_gpu::{
    AdapterReport, AutotuneResult, Benchmark, BenchmarkResult, BufferSpec, ClampCheck,
    KernelInterface, ParamValue, RuntimeChecks, WgslType,
};
use cudalens_ide::tune::{DEFAULT_SIZE_1D, DEFAULT_SIZE_2D};
use cudalens_syntax::FileModel;
use cudalens_syntax::preprocess::include::FsProvider;
use cudalens_wgsl::TranspileDiagnostic;

use super::wgsl_files::{transpile_guarded, transpile_options};

/// Scalar parameters with these names (case-insensitive) get the problem size.
pub const SIZE_NAMES: &[&str] = &[
    "n",
    "m",
    "k",
    "size",
    "len",
    "length",
    "count",
    "num",
    "numel",
    "num_elements",
    "n_elements",
    "nelems",
    "width",
    "height",
    "w",
    "h",
    "rows",
    "cols",
    "nx",
    "ny",
    "dim",
];

/// What the user asked for (flags of `cudalens bench`; the server uses defaults).
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Problem size: N (1D) or N×N (2D).
    pub size: Option<u32>,
    pub grid: Option<[u32; 3]>,
    pub block: Option<[u32; 3]>,
    pub warmup: u32,
    pub iterations: u32,
    /// `NAME=VALUE` overrides of scalar arguments.
    pub args: Vec<(String, f64)>,
    pub timeout: Duration,
    /// wgpu's runtime checks; by default bounds clamps only (loops run as in
    /// CUDA: wgpu's loop counters halve the speed of unrollable inner loops).
    pub runtime_checks: RuntimeChecks,
    /// Unroll factor for every unrollable loop (`cudalens_wgsl::unrollable_loops`);
    /// `None` follows the source's `#pragma unroll N`.
    pub unroll: Option<u32>,
    /// The kernel's template arguments (`--instantiate`); default: a launch's.
    pub instantiate: Option<Vec<String>>,
    /// Read grid, block and scalar arguments of this launch of the kernel
    /// (0-based, file order: `host_launch::launch_sites`) from the
    /// program's host code where the flags above do not give them
    /// (`cudalens bench`); `None`: the heuristics alone (the editor).
    pub host_launch: Option<usize>,
    /// That launch, already read by the caller (`bench` reads it from a
    /// file that includes the kernel's when the kernel's own has none).
    pub host_given: Option<cudalens_analysis::host_launch::HostLaunch>,
    /// `NAME=ELEMENTS`: the elements of a buffer (by CUDA parameter or
    /// binding name), over what the analysis or the program's allocation
    /// gives (`--buffer`; what the host code sizes at run time).
    pub buffers: Vec<(String, u64)>,
    /// The launch's dynamic shared memory in bytes (`<<<g, b, BYTES>>>`),
    /// over what the launch gives (`--shared-bytes`).
    pub shared_bytes: Option<u32>,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            size: None,
            grid: None,
            block: None,
            warmup: 3,
            iterations: 20,
            args: Vec::new(),
            timeout: Duration::from_secs(30),
            runtime_checks: RuntimeChecks::BoundsOnly,
            unroll: None,
            instantiate: None,
            host_launch: None,
            host_given: None,
            buffers: Vec::new(),
            shared_bytes: None,
        }
    }
}

/// How the launch was derived, for the output.
#[derive(Debug, Clone, Serialize)]
pub struct LaunchInfo {
    pub grid: [u32; 3],
    pub block: [u32; 3],
    pub problem_size: [u32; 3],
    /// `flags`, `host` (the program's host code), `host-reblocked` (its
    /// grid × block re-divided by `--block`), `launch` (the file's
    /// `<<<>>>`), `size` or `default`.
    pub source: &'static str,
    /// Elements per storage buffer.
    pub buffer_elements: u64,
    /// Scalar arguments by name.
    pub args: Vec<(String, f64)>,
    /// Where each of `args` came from: `--arg`, `host`, or `assumed: …`
    /// (bench's default, with why the host code did not give it).
    pub arg_origins: Vec<String>,
    /// The launch as the program's host code makes it, when read.
    pub host: Option<cudalens_analysis::host_launch::HostLaunch>,
    /// Per storage buffer (WGSL binding name) the elements the kernel can
    /// index for this launch and these arguments, where the analysis knows
    /// it (`None`: it does not, the buffer has `buffer_elements`).
    pub extents: Vec<(String, Option<u64>)>,
    /// Per storage buffer (WGSL binding name) the elements of the
    /// allocation the program's host code passes at the launch
    /// (`cudaMalloc`), where it gives them; the buffer has at least these.
    pub allocations: Vec<(String, u64)>,
    /// Per storage buffer (WGSL binding name) the elements `--buffer` gave:
    /// the buffer has exactly these.
    pub given: Vec<(String, u64)>,
    /// Why clamped accesses are not counted (`None`: they are).
    pub clamps_not_counted: Option<String>,
    /// The kernel's `extern __shared__` bytes and where they came from
    /// (`None`: it has none).
    pub dynamic_shared: Option<(u32, String)>,
    /// File-scope `__constant__`/`__device__` variables: binding name,
    /// elements, and what they were filled with.
    pub globals: Vec<(String, u64, &'static str)>,
}

/// A benchmark ready to run.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub kernel: String,
    pub bench: Benchmark,
    pub launch: LaunchInfo,
    pub warnings: Vec<TranspileDiagnostic>,
    /// The kernel's template arguments as compiled (empty: no template).
    pub instantiation: Vec<String>,
    /// Tuner features stored with the runs (see `tuning_data::tuning_record`); set by
    /// callers that have the kernel's analysis.
    pub tuning: Option<serde_json::Value>,
    /// Why the kernel's work depends on its block size (a fixed tile, a
    /// block index scaled by a constant), with the line; an autotune sweep
    /// then compares different workloads and ranks nothing.
    pub launch_dependent_work: Option<String>,
}

/// Why a benchmark could not be prepared.
#[derive(Debug)]
pub enum PrepareError {
    /// The kernel cannot be expressed in WGSL: diagnostics at the constructs.
    Transpile(Vec<TranspileDiagnostic>),
    Other(String),
}

impl std::fmt::Display for PrepareError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrepareError::Transpile(d) => write!(
                f,
                "the kernel cannot be transpiled to WGSL: {}",
                d.iter()
                    .filter(|d| d.is_error())
                    .map(|d| d.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            PrepareError::Other(e) => f.write_str(e),
        }
    }
}

fn to_u32_dims(dims: Option<[i64; 3]>) -> Option<[u32; 3]> {
    let [x, y, z] = dims?;
    let c = |v: i64| u32::try_from(v).ok().filter(|&v| v > 0);
    Some([c(x)?, c(y)?, c(z)?])
}

fn product(d: [u32; 3]) -> u64 {
    d.iter().map(|&v| u64::from(v)).product()
}

/// The error a run whose accesses were clamped is reported with.
pub fn clamp_error(
    prepared: &Prepared,
    bench: Option<&BenchmarkResult>,
    sweep: Option<&AutotuneResult>,
) -> Option<String> {
    let count = bench
        .and_then(|b| b.clamped_accesses)
        .or_else(|| sweep.and_then(|s| s.best_result.as_ref()?.clamped_accesses))
        .filter(|&n| n > 0)?;
    let unbounded: Vec<&str> = prepared
        .launch
        .extents
        .iter()
        .filter(|(n, e)| e.is_none() && !prepared.launch.allocations.iter().any(|(a, _)| a == n))
        .map(|(n, _)| n.as_str())
        .collect();
    let sized = if unbounded.is_empty() {
        String::new()
    } else {
        format!(
            "; the analysis could not bound what the kernel indexes in {}, sized {} elements",
            unbounded.join(", "),
            prepared.launch.buffer_elements
        )
    };
    Some(format!(
        "{count} accesses of one launch were outside their buffers (or the launch's dynamic shared memory) and clamped into them: the time measures a different workload than the kernel's{sized} (give the program's sizes: --arg NAME=VALUE, --grid/--block, --size, --buffer NAME=ELEMENTS, --shared-bytes BYTES)"
    ))
}

/// Transpiles `kernel` for `adapter` and derives launch, buffers and arguments.
pub fn prepare(
    model: &FileModel,
    text: &str,
    source: &Path,
    kernel: &str,
    opts: &BenchOptions,
    adapter: &AdapterReport,
) -> Result<Prepared, PrepareError> {
    let host = opts.host_given.clone().or_else(|| {
        opts.host_launch
            .and_then(|i| cudalens_analysis::host_launch::resolve(model, text, kernel, i))
    });
    let host_block = host.as_ref().and_then(|h| h.block.value);
    let host_grid = host.as_ref().and_then(|h| h.grid.value);
    // The transpiler sizes the workgroup from the first launch whose block
    // resolves: another block is an override.
    let transpiler_block = model
        .launches_of(kernel)
        .find_map(|l| to_u32_dims(l.block_dims.resolved()));
    let mut topts = transpile_options(
        source,
        adapter.features.subgroup,
        adapter.features.shader_f16,
    );
    topts.block_override = opts
        .block
        .or(host_block.filter(|b| Some(*b) != transpiler_block));
    topts.float_atomics = adapter.features.shader_float32_atomic;
    topts.int64_atomics = adapter.features.shader_int64_atomics;
    topts.enable_f64 = adapter.features.shader_f64;
    topts.enable_int64 = adapter.features.shader_int64;
    topts.subgroup_size = adapter.fixed_subgroup_size();
    topts.unroll = opts.unroll;
    topts.instantiation = opts.instantiate.clone();
    let out = transpile_guarded(model, text, &FsProvider, kernel, &topts)
        .map_err(PrepareError::Transpile)?;
    let interface = KernelInterface::from_json(&out.sidecar.to_json())
        .map_err(|e| PrepareError::Other(e.to_string()))?;

    let site = match opts.host_launch {
        Some(i) => cudalens_analysis::host_launch::launch_sites(model, kernel)
            .get(i)
            .copied(),
        None => model.launches_of(kernel).next(),
    };
    let site_block = site.and_then(|l| to_u32_dims(l.block_dims.resolved()));
    let site_grid = site.and_then(|l| to_u32_dims(l.grid_dims.resolved()));
    let block = opts
        .block
        .or(host_block)
        .or(site_block)
        .unwrap_or(interface.workgroup_size);
    let is_2d = block[1] > 1
        || opts
            .grid
            .or(host_grid)
            .or(site_grid)
            .is_some_and(|g| g[1] > 1)
        || interface.workgroup_size[1] > 1
        || model
            .function(kernel)
            .is_some_and(cudalens_analysis::tuning::uses_second_axis);
    let from_size = |n: u32| if is_2d { [n, n, 1] } else { [n, 1, 1] };
    let (grid, problem, source_kind) = if let Some(grid) = opts.grid {
        (grid, grid_times_block(grid, block), "flags")
    } else if let Some(n) = opts.size {
        let problem = from_size(n);
        (grid_for_problem(problem, block), problem, "size")
    } else if let (Some(grid), Some(hb)) = (host_grid, host_block) {
        if hb == block {
            (grid, grid_times_block(grid, block), "host")
        } else {
            // `--block` without `--grid`: the program's threads, re-divided.
            let problem = grid_times_block(grid, hb);
            (grid_for_problem(problem, block), problem, "host-reblocked")
        }
    } else if let Some(grid) = site_grid {
        (grid, grid_times_block(grid, block), "launch")
    } else {
        let problem = from_size(if is_2d {
            DEFAULT_SIZE_2D
        } else {
            DEFAULT_SIZE_1D
        });
        (grid_for_problem(problem, block), problem, "default")
    };
    let elements = product(problem).max(product(grid) * product(block));
    // `--grid`/`--size` set another problem: the program's scalars (its
    // sizes) would not fit it, the heuristics below do.
    let problem_from_flags = opts.grid.is_some() || opts.size.is_some();
    let host_scalars = host.as_ref().filter(|_| !problem_from_flags);
    let host_values: Vec<(String, f64, String)> = host_scalars
        .iter()
        .flat_map(|h| &h.scalars)
        .filter_map(|s| Some((s.param.clone(), s.value?.as_f64(), s.describe())))
        .collect();
    let unresolved: Vec<(String, String)> = host_scalars
        .iter()
        .flat_map(|h| &h.scalars)
        .filter_map(|s| Some((s.param.clone(), s.how.unresolved.clone()?)))
        .collect();
    let (args, arg_origins) = scalar_args(
        &interface,
        problem[0],
        &opts.args,
        &host_values,
        &unresolved,
    )?;
    let extents = index_extents(model, kernel, block, grid, &args);
    // The program's own allocations, for its own launch only.
    let allocated: HashMap<usize, u64> = host_scalars
        .iter()
        .flat_map(|h| &h.buffers)
        .filter_map(|b| Some((b.index, b.bytes?)))
        .collect();

    let mut buffer_extents = Vec::new();
    let mut allocations = Vec::new();
    let mut given = Vec::new();
    // `--buffer` names a kernel parameter (or its binding): each must exist.
    let params: Vec<String> = model
        .function(kernel)
        .map(|f| f.params.iter().map(|p| p.name.clone()).collect())
        .unwrap_or_default();
    let param_name =
        |b: &cudalens_gpu::interface::Binding| b.param_index.and_then(|i| params.get(i)).cloned();
    for (name, _) in &opts.buffers {
        let known = interface
            .storage_bindings()
            .any(|b| &b.name == name || param_name(b).as_ref() == Some(name));
        if !known {
            let names: Vec<String> = interface
                .storage_bindings()
                .filter(|b| b.param_index.is_some())
                .filter_map(param_name)
                .collect();
            return Err(PrepareError::Other(format!(
                "--buffer {name}: the kernel has no buffer of that name (its buffers: {})",
                names.join(", ")
            )));
        }
    }
    let mut globals = Vec::new();
    let mut bench = Benchmark::new(out.wgsl.clone(), interface.clone(), grid, block)
        .with_iterations(opts.warmup, opts.iterations)
        .with_timeout(opts.timeout);
    bench.runtime_checks = opts.runtime_checks;
    // The pipeline is made from the transpiler's validated module (the one
    // built directly from its trees), not from the text parsed again.
    bench.module = Some(cudalens_gpu::NagaModule(out.module.0.clone()));
    // Where the program passes NULL, the kernel's NULL tests say so (a
    // buffer is still bound: WGSL has no null binding).
    bench.null_pointers = host_scalars
        .iter()
        .flat_map(|h| &h.buffers)
        .filter(|b| b.null && interface.null_pointer_overrides.contains_key(&b.param))
        .map(|b| b.param.clone())
        .collect();
    let clamps_not_counted = match cudalens_wgsl::clamp_counting_variant(&out) {
        Ok(c) => {
            bench.clamp_check = Some(ClampCheck {
                wgsl: c.wgsl,
                group: c.group,
                binding: c.binding,
                module: Some(cudalens_gpu::NagaModule(c.module.0)),
            });
            None
        }
        Err(e) => Some(e),
    };
    for binding in interface.storage_bindings() {
        if binding.param_index.is_none()
            && let Some(length) = binding.length
        {
            // A file-scope variable: its own size; its initialiser, else what
            // the host would have to put there.
            let length = length.max(1);
            let (spec, fill) = match &binding.initial {
                Some(values) => (
                    BufferSpec::values(length, values.clone()),
                    "its initialiser",
                ),
                None if binding.kind == cudalens_gpu::BindingKind::StorageRead => (
                    BufferSpec::random(length),
                    "random values (no initialiser: the host fills it, e.g. cudaMemcpyToSymbol, which cudalens does not follow)",
                ),
                None => (BufferSpec::zeros(length), "zeros (no initialiser)"),
            };
            globals.push((binding.name.clone(), length, fill));
            bench = bench.with_buffer(&binding.name, spec);
            continue;
        }
        let stride = binding.element_type().map_or(4, |t| t.array_stride());
        // What the kernel can index, where the analysis bounds it; else the
        // problem size.
        let extent = binding
            .param_index
            .and_then(|i| extents.get(&i).copied().flatten());
        let mut elements = extent.map_or(elements, |bytes| bytes.div_ceil(stride).max(1));
        let mut sized_by = "";
        buffer_extents.push((binding.name.clone(), extent.map(|b| b.div_ceil(stride))));
        // The program's allocation, where larger: what it runs on (and what
        // a kernel the analysis cannot bound may index).
        if let Some(bytes) = binding.param_index.and_then(|i| allocated.get(&i)) {
            let program = bytes.div_ceil(stride).max(1);
            allocations.push((binding.name.clone(), program));
            if extent.is_none() || program > elements {
                elements = program;
                sized_by = " (the program's allocation at its launch)";
            }
        }
        if let Some((_, n)) = opts
            .buffers
            .iter()
            .find(|(n, _)| n == &binding.name || param_name(binding).as_ref() == Some(n))
        {
            elements = (*n).max(1);
            sized_by = " (given with --buffer)";
            given.push((binding.name.clone(), elements));
        }
        let bytes = elements.saturating_mul(stride);
        let limit = adapter.limits.max_storage_buffer_binding_size;
        if bytes > limit {
            return Err(PrepareError::Other(format!(
                "buffer `{}` would need {bytes} bytes{sized_by}, over the adapter's limit of {limit}; give a smaller problem (--size, or --grid/--block with --arg, and --buffer NAME=ELEMENTS)",
                binding.name
            )));
        }
        bench = bench.with_buffer(&binding.name, BufferSpec::random(elements));
    }
    let mut dynamic_shared = None;
    if interface.dynamic_shared_override.is_some() {
        let per_element = interface.dynamic_shared_element_bytes.unwrap_or(4);
        let threads = u32::try_from(product(block)).unwrap_or(u32::MAX);
        let from_site = site
            .and_then(|l| l.smem_bytes)
            .and_then(|b| u32::try_from(b).ok())
            .filter(|&b| b > 0);
        let (bytes, origin) = match (opts.shared_bytes, from_site) {
            (Some(b), _) => (b, "--shared-bytes".to_string()),
            (None, Some(b)) => (b, "the launch".to_string()),
            (None, None) => (
                threads.saturating_mul(per_element),
                format!(
                    "assumed: one {per_element}-byte element per thread, as no launch gives it (--shared-bytes)"
                ),
            ),
        };
        bench.launch.dynamic_shared_bytes = bytes;
        dynamic_shared = Some((bytes, origin));
    }
    for (index, _, value) in &args {
        bench = bench.with_arg(*index, value.clone());
    }
    let launch_dependent_work = model
        .function(kernel)
        .filter(|f| f.is_kernel())
        .and_then(|f| {
            let work = cudalens_analysis::work_shape::launch_dependent_work(f)?;
            let at = match (f.in_main_file(), text.get(..work.span.start)) {
                (true, Some(before)) => format!(
                    "line {}, `{}`",
                    before.matches('\n').count() + 1,
                    work.span.text(text)
                ),
                _ => format!("`{}`", f.name),
            };
            Some(format!("{at}: {}", work.reason))
        });
    Ok(Prepared {
        kernel: kernel.to_string(),
        bench,
        launch_dependent_work,
        launch: LaunchInfo {
            grid,
            block,
            problem_size: problem,
            source: source_kind,
            buffer_elements: elements,
            extents: buffer_extents,
            allocations,
            given,
            clamps_not_counted,
            dynamic_shared,
            globals,
            arg_origins,
            host,
            args: args
                .iter()
                .map(|(_, name, v)| {
                    let first = match v {
                        ParamValue::Scalar(s) => *s,
                        ParamValue::Vector(v) => v.first().copied().unwrap_or(0.0),
                    };
                    (name.clone(), first)
                })
                .collect(),
        },
        warnings: out.warnings,
        instantiation: out.sidecar.instantiation.clone(),
        tuning: None,
    })
}

/// Elements each pointer parameter (by name, in parameter order) can reach
/// for this launch and these scalar values (by CUDA parameter index), in
/// the CUDA element type; `None` where the analysis cannot bound it. No
/// transpiling: `bench --print-launch`.
pub fn cuda_buffer_elements(
    model: &FileModel,
    kernel: &str,
    block: [u32; 3],
    grid: [u32; 3],
    scalars: &[(usize, f64)],
) -> Vec<(String, Option<u64>)> {
    let Some(f) = model.function(kernel) else {
        return Vec::new();
    };
    let args: Vec<_> = scalars
        .iter()
        .map(|(i, v)| (*i, String::new(), ParamValue::Scalar(*v)))
        .collect();
    let bytes = index_extents(model, kernel, block, grid, &args);
    let env = model.const_env();
    f.params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.ty.pointer > 0)
        .map(|(i, p)| {
            let size = env.size_of(&p.ty.pointee()).filter(|&s| s > 0);
            let elements = bytes
                .get(&i)
                .copied()
                .flatten()
                .zip(size)
                .map(|(b, s)| b.div_ceil(s));
            (p.name.clone(), elements)
        })
        .collect()
}

/// Bytes each pointer parameter (by CUDA parameter index) can reach for
/// this launch and these scalar values (`cudalens_analysis`'s extents).
fn index_extents(
    model: &FileModel,
    kernel: &str,
    block: [u32; 3],
    grid: [u32; 3],
    args: &[(usize, String, ParamValue)],
) -> std::collections::HashMap<usize, Option<u64>> {
    let Some(f) = model.function(kernel) else {
        return Default::default();
    };
    let launches: Vec<_> = model.launches_of(kernel).collect();
    let config = cudalens_analysis::AnalysisConfig::default();
    let Some(mut ctx) = cudalens_analysis::context::contexts_for(model, &launches, f, &config)
        .into_iter()
        .next()
    else {
        return Default::default();
    };
    ctx.block = block;
    ctx.param_values.clear();
    for (index, _, value) in args {
        if let (Some(p), ParamValue::Scalar(v)) = (f.params.get(*index), value)
            && p.ty.pointer == 0
            && !matches!(
                ctx.concrete_type(&p.ty.base),
                "float" | "double" | "half" | "__half" | "__nv_bfloat16"
            )
            && v.fract() == 0.0
            && v.abs() < 1e15
        {
            ctx.param_values.insert(p.name.clone(), *v as i128);
        }
    }
    let by_name = cudalens_analysis::memory::extent::buffer_extents(model, f, &ctx, grid);
    f.params
        .iter()
        .enumerate()
        .filter_map(|(i, p)| Some((i, *by_name.get(&p.name)?)))
        .collect()
}

fn grid_times_block(grid: [u32; 3], block: [u32; 3]) -> [u32; 3] {
    [0, 1, 2].map(|i| grid[i].saturating_mul(block[i]))
}

/// A scalar argument: CUDA parameter index, WGSL name, value.
type ScalarArg = (usize, String, ParamValue);

/// Values of the scalar parameters: overrides, else the host code's
/// (`host`: name, value, how), else the size heuristic, else 1; with where
/// each came from (`unresolved`: why the host code did not give one).
fn scalar_args(
    interface: &KernelInterface,
    size: u32,
    overrides: &[(String, f64)],
    host: &[(String, f64, String)],
    unresolved: &[(String, String)],
) -> Result<(Vec<ScalarArg>, Vec<String>), PrepareError> {
    let fields: Vec<_> = interface
        .bindings
        .iter()
        .flat_map(|b| &b.fields)
        .filter_map(|f| Some((f.param_index?, f)))
        .collect();
    // WGSL-renamed parameters (`loop` → `loop_`) still match their CUDA name.
    let matches =
        |field: &str, wanted: &str| field == wanted || field.trim_end_matches('_') == wanted;
    for (name, _) in overrides {
        if !fields.iter().any(|(_, f)| matches(&f.name, name)) {
            let known: Vec<&str> = fields.iter().map(|(_, f)| f.name.as_str()).collect();
            return Err(PrepareError::Other(format!(
                "--arg {name}: the kernel has no scalar parameter `{name}` (scalars: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
    }
    let mut out = Vec::new();
    let mut origins = Vec::new();
    for (index, field) in fields {
        let ty = WgslType::parse(&field.ty).ok();
        let is_int = field.ty.contains("i32") || field.ty.contains("u32");
        let from_host = host.iter().find(|(n, _, _)| matches(&field.name, n));
        let why_not = unresolved
            .iter()
            .find(|(n, _)| matches(&field.name, n))
            .map_or(String::new(), |(_, why)| {
                format!("; not from the host code: {why}")
            });
        let (value, origin) = if let Some((_, v)) =
            overrides.iter().find(|(n, _)| matches(&field.name, n))
        {
            (*v, "--arg".to_string())
        } else if let Some((_, v, _)) = from_host {
            (*v, "host".to_string())
        } else {
            let lower = field.name.trim_end_matches('_').to_ascii_lowercase();
            if is_int && SIZE_NAMES.contains(&lower.as_str()) {
                (
                    f64::from(size),
                    format!(
                        "assumed: bench's default for a size-like name, the problem's side{why_not}"
                    ),
                )
            } else {
                (1.0, format!("assumed: bench's default 1{why_not}"))
            }
        };
        origins.push(origin);
        let lanes = ty.map_or(1, |t| t.lanes);
        let param = if lanes > 1 {
            ParamValue::Vector(vec![value; lanes as usize])
        } else {
            ParamValue::Scalar(value)
        };
        out.push((index, field.name.clone(), param));
    }
    Ok((out, origins))
}
