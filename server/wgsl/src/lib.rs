//! cudalens-wgsl: compiles CUDA kernels (from the `cudalens-syntax` kernel
//! model) to WGSL compute shaders, validated by naga, with a JSON sidecar
//! that tells a WebGPU runner how to bind the kernel's parameters.
//!
//! * [`types`] — WGSL types, CUDA type mapping, C conversions.
//! * [`analysis`] — written/atomic buffers and recursion, before lowering.
//! * `builtin_names` — the builtins the lowering handles itself.
//! * `expr`, `stmt`, `intrinsics`, `functions` — the lowering.
//! * [`bindings`] — storage/uniform bindings and the [`Sidecar`].
//! * [`emit`] — the statement tree and its printer.
//! * [`validate`] — naga parsing and validation.
//! * `unroll` — which `for` loops can be unrolled ([`TranspileOptions::unroll`]).
//! * `uniformity` — refuses barriers only some threads reach (WGSL's uniform
//!   control flow rule, which naga does not check).
//!
//! See `README.md` for the CUDA → WGSL mapping and the semantic differences.

pub mod analysis;
pub mod bindings;
pub mod build;
mod builtin_names;
mod clamps;
mod context;
mod conversions;
mod cub;
mod cucomplex;
pub mod decl;
pub mod diag;
mod early_exit;
pub mod element_layout;
pub mod emit;
mod expr;
mod f64_math;
mod functions;
mod globals;
mod groups;
mod instantiate;
mod intrinsics;
mod kernel;
mod member_buffers;
mod memory_calls;
pub mod names;
mod operators;
mod pointer_choice;
mod pointer_rebinding;
mod source_facts;
mod stmt;
mod textures;
pub mod types;
mod uniformity;
mod unroll;
pub mod validate;
pub mod wexpr;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cudalens_syntax::FileModel;

pub use bindings::{BindingKind, Sidecar, SidecarBinding, UniformField};
pub use clamps::{CLAMP_COUNTER, ClampCounting, clamp_counting_variant};
pub use diag::{Severity, TranspileDiagnostic};
pub use instantiate::split_top_level;

/// What the target adapter supports, and how to instantiate the kernel.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TranspileOptions {
    /// Allow `half` (WGSL `f16`, `enable f16;`).
    pub enable_f16: bool,
    /// Allow `double` (WGSL `f64`, device feature SHADER_F64).
    pub enable_f64: bool,
    /// Allow 64-bit integers (`long long`, `size_t`; device feature SHADER_INT64).
    pub enable_int64: bool,
    /// The adapter supports subgroups: warp intrinsics become subgroup builtins.
    pub subgroups: bool,
    /// The adapter has native 32-bit float atomics on storage buffers (wgpu's
    /// SHADER_FLOAT32_ATOMIC): `atomicAdd/Sub/Exch(float*)` on a kernel's
    /// buffers become `atomic<f32>` operations instead of compare-exchange loops.
    pub float_atomics: bool,
    /// The adapter has 64-bit integer atomics on storage and workgroup
    /// memory (wgpu's SHADER_INT64_ATOMIC_ALL_OPS): atomics on `long long`
    /// become `atomic<i64>`/`atomic<u64>` operations, and those on `double`
    /// compare-exchange loops on its bits in an `atomic<u64>`.
    pub int64_atomics: bool,
    /// The adapter's subgroup size when it has exactly one (min = max):
    /// `warpSize` becomes a constant, so loops over it can be unrolled.
    pub subgroup_size: Option<u32>,
    /// Template arguments for the kernel, as written (`["float", "256"]`);
    /// default: those of the kernel's first launch in the file.
    pub instantiation: Option<Vec<String>>,
    /// Block size; default: the first launch, `__launch_bounds__`, or 256×1×1.
    pub block_override: Option<[u32; 3]>,
    /// The file name shown in the generated header comment.
    pub source_name: Option<String>,
    /// Unroll every unrollable `for` loop by this factor (clamped to 64).
    /// `None` honours `#pragma unroll N` written before a loop; `Some(0)`
    /// and `Some(1)` unroll nothing, not even loops with a pragma.
    ///
    /// A loop is unrollable when it counts an integer variable up to a
    /// loop-invariant bound (`i < b`, `i <= b`, `b > i`, `b >= i`; step `i++`
    /// or `i += c`, `c` a positive constant) and its body does not change `i`,
    /// leave the loop (`break`, `continue`, `return`), or synchronize
    /// (barriers, fences, warp intrinsics). The unrolled code runs the same
    /// iterations in the same order: a main loop runs `factor` copies of the
    /// body while that many iterations remain, then the original loop runs
    /// the rest. See `README.md` and [`unrollable_loops`].
    pub unroll: Option<u32>,
    /// Which definition of the kernel's name to compile when there are
    /// several (C++ overloads, or kernels of one name in two headers);
    /// default: the first with a body. See [`kernel_definitions`].
    pub definition: Option<KernelDefinition>,
}

/// One definition of a kernel: the file it is in (`None`: the main file)
/// and where its name starts there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KernelDefinition {
    pub file: Option<PathBuf>,
    pub name_start: usize,
}

impl KernelDefinition {
    pub fn of(f: &cudalens_syntax::model::Function) -> Self {
        KernelDefinition {
            file: f.file.clone(),
            name_start: f.name_span.start,
        }
    }

    pub fn is(&self, f: &cudalens_syntax::model::Function) -> bool {
        f.file == self.file && f.name_span.start == self.name_start
    }
}

/// The kernels named `name` that have a body, in the model's order: more
/// than one when the name is overloaded (segsort's `gen_copy<K, T, Offset>`
/// for pairs and `gen_copy<K, Offset>` for keys).
pub fn kernel_definitions<'m>(
    model: &'m FileModel,
    name: &str,
) -> Vec<&'m cudalens_syntax::model::Function> {
    (model.functions.iter())
        .map(|f| &**f)
        .filter(|f| f.name == name && f.is_kernel() && f.body.is_some())
        .collect()
}

/// A compiled kernel.
#[derive(Clone, Debug, PartialEq)]
pub struct TranspileOutput {
    /// Validated WGSL.
    pub wgsl: String,
    /// Binding description for the runner.
    pub sidecar: Sidecar,
    /// Non-fatal diagnostics (semantic differences worth knowing).
    pub warnings: Vec<TranspileDiagnostic>,
    /// The validated `naga::Module` the runner compiles: built directly
    /// from the lowering's trees (`build.rs`) where it prints exactly as
    /// `wgsl` does, else the module naga parsed from `wgsl`.
    pub module: ShaderModule,
    /// How the module was built (directly, or parsed from the text as a
    /// fallback, and why); `transpile --format json` reports it.
    pub structure: emit::Structure,
    /// The lowered function bodies `wgsl` prints, for passes over them
    /// ([`clamp_counting_variant`]).
    pub(crate) bodies: Vec<build::LoweredBody>,
    /// The module's declarations `wgsl` prints, for the same passes.
    pub(crate) decls: build::ModuleDecls,
}

/// A validated `naga::Module`, shared (a module is cloned only where a
/// consumer needs its own copy).
#[derive(Clone, Debug)]
pub struct ShaderModule(pub std::sync::Arc<naga::Module>);

impl PartialEq for ShaderModule {
    /// Two modules are equal when naga's `Debug` form of them is: the same
    /// arenas in the same order (naga's module has no `PartialEq`).
    fn eq(&self, other: &ShaderModule) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
            || format!("{:?}", self.0) == format!("{:?}", other.0)
    }
}

/// The texts the spans of a model index: the file's own, and those of the
/// headers whose functions it compiles (a function's spans index the text
/// of the file it is defined in, `Function::file`). The transpiler reads
/// them to tell a written `{ ... }` block from a macro that expands to
/// several statements; without a header's text, its blocks are taken as
/// written.
#[derive(Clone, Debug, Default)]
pub struct SourceTexts<'a> {
    pub main: &'a str,
    pub headers: HashMap<PathBuf, Arc<str>>,
}

impl<'a> SourceTexts<'a> {
    pub fn main(text: &'a str) -> Self {
        SourceTexts {
            main: text,
            headers: HashMap::new(),
        }
    }

    /// The text of `file` (`None`: the main file); `None` when not given.
    pub fn text_of(&self, file: Option<&Path>) -> Option<&str> {
        match file {
            None => Some(self.main),
            Some(path) => self.headers.get(path).map(|t| &**t),
        }
    }
}

/// Compiles the kernel `kernel` of the file `model` was built from (`source`
/// is that file's text; spans index into it). Errors are diagnostics at the
/// CUDA constructs that cannot be expressed; WGSL is only returned when naga
/// validates it.
pub fn transpile(
    model: &FileModel,
    source: &str,
    kernel: &str,
    opts: &TranspileOptions,
) -> Result<TranspileOutput, Vec<TranspileDiagnostic>> {
    transpile_in(model, &SourceTexts::main(source), kernel, opts)
}

/// [`transpile`] for a kernel that may be defined in a header the file
/// includes (its diagnostics' spans then index that header's text).
pub fn transpile_in(
    model: &FileModel,
    texts: &SourceTexts<'_>,
    kernel: &str,
    opts: &TranspileOptions,
) -> Result<TranspileOutput, Vec<TranspileDiagnostic>> {
    kernel::compile_kernel(model, texts, kernel, opts)
}

/// Compiles every kernel (with a body) of the file, in source order.
pub fn transpile_all(
    model: &FileModel,
    source: &str,
    opts: &TranspileOptions,
) -> Vec<(String, Result<TranspileOutput, Vec<TranspileDiagnostic>>)> {
    let mut seen = std::collections::HashSet::new();
    model
        .kernels()
        .filter(|k| k.body.is_some() && k.in_main_file())
        .filter(|k| seen.insert(k.name.clone()))
        .map(|k| (k.name.clone(), transpile(model, source, &k.name, opts)))
        .collect()
}

/// The `for` statements of `kernel` (and of the device functions of this
/// file it calls) that [`transpile`] unrolls when [`TranspileOptions::unroll`]
/// asks for it, as spans of the whole statement in `source`, in source
/// order. Empty when the kernel has no unrollable loop. An
/// autotuner can benchmark unroll factors when this is not empty, and put
/// `#pragma unroll N` on the line before each span's start in the CUDA source.
///
/// Compiles the kernel with every optional feature allowed (`f16`, `f64`,
/// 64-bit integers, subgroups), so that a kernel that needs one is still
/// inspected; use [`unrollable_loops_with`] to inspect exactly one set of
/// options. Loops are found even when the kernel has errors elsewhere.
/// Loops that come out of a macro expansion are unrolled but not listed.
pub fn unrollable_loops(
    model: &FileModel,
    source: &str,
    kernel: &str,
) -> Vec<cudalens_syntax::Span> {
    let opts = TranspileOptions {
        enable_f16: true,
        enable_f64: true,
        enable_int64: true,
        subgroups: true,
        ..TranspileOptions::default()
    };
    unrollable_loops_with(model, source, kernel, &opts)
}

/// [`unrollable_loops`] under `opts` (its `unroll` field is ignored).
pub fn unrollable_loops_with(
    model: &FileModel,
    source: &str,
    kernel: &str,
    opts: &TranspileOptions,
) -> Vec<cudalens_syntax::Span> {
    let opts = TranspileOptions {
        unroll: Some(2),
        ..opts.clone()
    };
    let mut loops = Vec::new();
    let texts = SourceTexts::main(source);
    let _ = kernel::compile_kernel_recording(model, &texts, kernel, &opts, &mut loops);
    loops.sort_by_key(|s| (s.start, s.end));
    loops
}
