//! The front end on the constructs of real projects' code, each pinned by a
//! small file of our own that reproduces what was seen there (the project,
//! file and line are named on each test): macros in declaration position,
//! kernels declared by macros, `__align__`, namespaces opened by macros,
//! `#pragma once` and include-guard diamonds, `<...>` includes through
//! `-I`, nvcc's predefined macros, and what cudalens says about code it
//! cannot parse (never an error).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cudalens_syntax::ir::{ExprKind, StmtKind};
use cudalens_syntax::model::ExecSpace;
use cudalens_syntax::preprocess::include::CompileFlags;
use cudalens_syntax::{BuildOptions, FileModel, Severity, analyze_source};

fn build(files: &[(&str, &str)], main: &str, flags: CompileFlags) -> FileModel {
    let provider: HashMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
    let src = provider[Path::new(main)].clone();
    let opts = BuildOptions {
        path: Some(Path::new(main)),
        flags,
        provider: &provider,
        ..BuildOptions::default()
    };
    analyze_source(&src, &opts)
}

fn main_only(src: &str) -> FileModel {
    build(
        &[("/p/main.cu", src)],
        "/p/main.cu",
        CompileFlags::default(),
    )
}

/// No diagnostic of the model is an error, and none is about syntax.
fn assert_clean(m: &FileModel) {
    for d in &m.diagnostics {
        assert!(d.severity < Severity::Error, "{d:?}");
        assert_ne!(d.code, "syntax", "{d:?}");
    }
}

fn kernel<'m>(m: &'m FileModel, name: &str) -> &'m cudalens_syntax::model::Function {
    m.functions
        .iter()
        .find(|f| f.name == name && f.body.is_some())
        .unwrap_or_else(|| panic!("no `{name}` in {:?}", names(m)))
}

fn names(m: &FileModel) -> Vec<(String, ExecSpace)> {
    m.functions
        .iter()
        .map(|f| (f.name.clone(), f.exec))
        .collect()
}

/// RAFT declares its kernels as `RAFT_KERNEL name(...)` with
/// `#define RAFT_KERNEL static __global__ void` (raft 2141422b,
/// cpp/include/raft/core/detail/macros.hpp:113; e.g.
/// raft/linalg/detail/add.cuh:31). The grammar reads a function returning
/// `RAFT_KERNEL`; the item is lowered from its expansion instead, and every
/// span still points at what was written.
#[test]
fn a_kernel_declared_through_a_macro() {
    let src = "#define MY_KERNEL static __global__ void\n\
               template <typename T>\n\
               MY_KERNEL scale(T* x, int n) {\n  if (threadIdx.x < n) x[threadIdx.x] *= 2;\n}\n";
    let m = main_only(src);
    assert_clean(&m);
    let k = kernel(&m, "scale");
    assert_eq!(k.exec, ExecSpace::Kernel);
    assert_eq!(k.name_span.text(src), "scale");
    assert_eq!(k.params.len(), 2);
    assert_eq!(k.template_params.len(), 1);
    // A span inside the body: the subscript `x[threadIdx.x]`.
    let mut subscript = None;
    k.body.as_ref().unwrap().walk_exprs(&mut |e| {
        if matches!(e.kind, ExprKind::Index { .. }) && subscript.is_none() {
            subscript = Some(e.span);
        }
    });
    assert_eq!(subscript.expect("a subscript").text(src), "x[threadIdx.x]");
}

/// FlashAttention defines its kernels with
/// `DEFINE_FLASH_FORWARD_KERNEL(name, params...) { body }` (flash-attention
/// 0251105a, csrc/flash_attn/src/flash_fwd_launch_template.h:28 and :49),
/// which parses cleanly as a function named after the macro.
#[test]
fn a_kernel_defined_by_a_function_like_macro() {
    let src = "#define DEFINE_KERNEL(name, ...) \\\n  template <typename Traits, __VA_ARGS__> \\\n  __global__ void name(const float* p)\n\
               DEFINE_KERNEL(combine, int kBlockM, bool Even) {\n  static_assert(kBlockM > 0);\n}\n";
    let m = main_only(src);
    assert_clean(&m);
    let k = kernel(&m, "combine");
    assert_eq!(k.exec, ExecSpace::Kernel);
    assert_eq!(k.name_span.text(src), "combine");
    assert_eq!(k.template_params.len(), 3);
    assert!(m.function("DEFINE_KERNEL").is_none(), "{:?}", names(&m));
}

/// llm.c: `struct __align__(8) SumMax` (llm.c f1e2ace6,
/// dev/cuda/common.h) was a "syntax error"; `__align__` is CUDA's
/// (crt/host_defines.h), predefined here.
#[test]
fn align_is_known() {
    let m = main_only(
        "struct __align__(8) SumMax {\n  float maxval;\n  float sum;\n};\n\
         __global__ void k(SumMax* out) { out[threadIdx.x].sum = 0.0f; }\n",
    );
    assert_clean(&m);
    assert_eq!(
        m.types.size_of(&cudalens_syntax::ir::Type::named("SumMax")),
        Some(8)
    );
    kernel(&m, "k");
}

/// CUB opens its namespaces with macros (`CUB_NAMESPACE_BEGIN` expands to
/// `namespace cub { inline namespace ... {`, cccl 571f2fc3,
/// cub/cub/util_namespace.cuh) and RAFT puts an attribute on a namespace
/// through `RAFT_EXPORT`; the kernel between them is found.
#[test]
fn namespaces_opened_by_macros() {
    let src = "#define NS_BEGIN namespace lib { inline namespace v2 {\n\
               #define NS_END } }\n\
               #define EXPORT __attribute__((visibility(\"default\")))\n\
               NS_BEGIN\n\
               template <int N>\n__global__ void fill(float* x) { x[threadIdx.x] = N; }\n\
               NS_END\n\
               namespace EXPORT other {\n__global__ void zero(float* x) { x[0] = 0; }\n}\n";
    let m = main_only(src);
    assert_clean(&m);
    assert_eq!(kernel(&m, "fill").name_span.text(src), "fill");
    assert_eq!(kernel(&m, "zero").name_span.text(src), "zero");
}

/// CUTLASS writes `template <...> CUTLASS_GLOBAL` and then an `#ifdef`
/// holding `__launch_bounds__` before `void device_kernel(...)` (cutlass
/// 7107b055, include/cutlass/device_kernel.h:112-118): one declaration
/// across three items of the tree.
#[test]
fn a_declaration_split_by_a_conditional() {
    let src = "#define GLOBAL __global__ static\n\
               template <typename Op>\nGLOBAL\n#ifdef __CUDACC__\n__launch_bounds__(Op::MaxThreads)\n#endif\n\
               void device_kernel(typename Op::Params const params) {}\n\
               #if FAST\n__global__ void pick(float* a)\n#else\n__global__ void pick(double* a)\n#endif\n\
               { a[threadIdx.x] = 0; }\n";
    let m = main_only(src);
    assert_clean(&m);
    let k = kernel(&m, "device_kernel");
    assert!(k.launch_bounds.is_some());
    let pick = kernel(&m, "pick");
    assert_eq!(pick.params[0].ty.base, "double");
    // The inactive `#if FAST` branch is recorded as such.
    assert!(
        m.inactive.iter().any(|s| s.text(src).contains("float* a")),
        "{:?}",
        m.inactive
    );
}

/// `#pragma once` and include guards: a header included twice (a diamond)
/// is read once, as the compiler does; CUTLASS with its include paths took
/// minutes and gigabytes when every inclusion was read again.
#[test]
fn headers_are_read_once() {
    let common_once =
        "#pragma once\n#define WARPS 4\n__device__ float helper(float x) { return x; }\n";
    let common_guard = "#ifndef COMMON_H\n#define COMMON_H\n#define LANES 32\n__device__ float other(float x) { return x; }\n#endif\n";
    let files = [
        ("/p/once.cuh", common_once),
        ("/p/guard.cuh", common_guard),
        (
            "/p/a.cuh",
            "#include \"once.cuh\"\n#include \"guard.cuh\"\n",
        ),
        (
            "/p/b.cuh",
            "#include \"once.cuh\"\n#include \"guard.cuh\"\n",
        ),
        (
            "/p/main.cu",
            "#include \"a.cuh\"\n#include \"b.cuh\"\n__global__ void k(float* x) { x[threadIdx.x] = helper(WARPS * LANES); }\n",
        ),
    ];
    let m = build(&files, "/p/main.cu", CompileFlags::default());
    assert_clean(&m);
    let count = |name: &str| m.functions.iter().filter(|f| f.name == name).count();
    assert_eq!((count("helper"), count("other")), (1, 1));
    let defs = |name: &str| m.macro_defs.iter().filter(|d| d.name == name).count();
    assert_eq!((defs("WARPS"), defs("LANES"), defs("COMMON_H")), (1, 1, 1));
}

/// `#include <raft/...>` is found through `-I` like a quoted include (RAFT
/// and CUB include themselves with angle brackets); headers of the toolkit
/// and the standard library, which cudalens does not read, raise no hint.
#[test]
fn angle_includes_go_through_include_paths() {
    let flags = CompileFlags {
        include_dirs: vec![PathBuf::from("/inc")],
        ..CompileFlags::default()
    };
    let files = [
        (
            "/inc/lib/defs.hpp",
            "#pragma once\n#define LIB_KERNEL __global__ void\n",
        ),
        (
            "/p/main.cu",
            "#include <lib/defs.hpp>\n#include <cuda_fp16.h>\n#include <vector>\nLIB_KERNEL k(float* x) { x[0] = 1; }\n",
        ),
    ];
    let m = build(&files, "/p/main.cu", flags);
    assert_clean(&m);
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    kernel(&m, "k");
    assert_eq!(
        m.includes[0].resolved.as_deref(),
        Some(Path::new("/inc/lib/defs.hpp"))
    );
}

/// The device pass as nvcc runs it: `__CUDA_ARCH__` is the target's
/// (`-arch=sm_80` in the compile command, else the configured one),
/// `__CUDACC__` and `CUDART_VERSION` are defined, `__has_include` finds
/// toolkit headers and `__has_attribute` answers 0.
#[test]
fn nvcc_predefined_macros() {
    let src = "#if __CUDA_ARCH__ >= 900\n__global__ void hopper(float* x) {}\n#else\n__global__ void older(float* x) {}\n#endif\n\
               #if defined(__CUDACC__) && CUDART_VERSION >= 12000 && __has_include(<cuda_fp16.h>) && !__has_attribute(foo)\n__global__ void recent(float* x) {}\n#endif\n";
    let m = main_only(src);
    assert!(m.function("hopper").is_some() && m.function("older").is_none());
    assert!(m.function("recent").is_some());
    let files = [("/p/main.cu", src)];
    let args: Vec<String> = ["nvcc", "-arch=sm_80", "-c", "main.cu"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let m = build(
        &files,
        "/p/main.cu",
        CompileFlags::from_args(&args, Path::new("/p")),
    );
    assert!(m.function("older").is_some() && m.function("hopper").is_none());
}

/// Code the grammar cannot parse even after expansion gets one note, of
/// low severity, naming what happened; never an error.
#[test]
fn unparsable_code_gets_one_note_not_an_error() {
    let m = main_only(
        "__global__ void ok(float* x) { x[0] = 1; }\n\
         int broken( { ] ;\n\
         __global__ void after(float* x) { x[0] = 2; }\n",
    );
    let notes: Vec<_> = m
        .diagnostics
        .iter()
        .filter(|d| d.code == "syntax")
        .collect();
    assert_eq!(notes.len(), 1, "{:?}", m.diagnostics);
    assert_eq!(notes[0].severity, Severity::Info);
    assert!(
        notes[0].message.contains("cannot parse"),
        "{}",
        notes[0].message
    );
    kernel(&m, "ok");
    kernel(&m, "after");
}

/// A build past its deadline stops with a notice instead of running on.
#[test]
fn a_build_out_of_time_says_so() {
    let provider: HashMap<PathBuf, String> = HashMap::new();
    let src = "__global__ void k(float* x) { x[0] = 1; }\n";
    let opts = BuildOptions {
        provider: &provider,
        deadline: Some(std::time::Instant::now()),
        ..BuildOptions::default()
    };
    let m = analyze_source(src, &opts);
    let notice = m
        .diagnostics
        .iter()
        .find(|d| d.code == "analysis-budget")
        .expect("a notice");
    assert_eq!(notice.severity, Severity::Info);
    assert!(m.function("k").is_none());
}

/// Past the budget of fully read headers (a template library), headers are
/// read for their macros alone, and the file says so once.
#[test]
fn large_header_closures_are_read_for_macros_only() {
    let filler: String = (0..45_000)
        .map(|i| format!("__device__ inline int f{i}(int x) {{ return x + {i}; }}\n"))
        .collect();
    assert!(filler.len() > 2 * 1024 * 1024);
    let files = [
        ("/p/big.cuh", filler.as_str()),
        (
            "/p/late.cuh",
            "#pragma once\n#define LATE 7\n__device__ int late_fn() { return 1; }\n",
        ),
        (
            "/p/main.cu",
            "#include \"big.cuh\"\n#include \"late.cuh\"\n__global__ void k(int* x) { x[0] = LATE; }\n",
        ),
    ];
    let m = build(&files, "/p/main.cu", CompileFlags::default());
    // The header over the budget is read for its macros; a small one after
    // it still fits.
    let body = kernel(&m, "k").body.as_ref().unwrap();
    let StmtKind::Block(stmts) = &body.kind else {
        panic!("{body:?}")
    };
    let StmtKind::Expr(e) = &stmts[0].kind else {
        panic!("{stmts:?}")
    };
    let ExprKind::Assign(_, _, value) = &e.kind else {
        panic!("{e:?}")
    };
    assert!(
        matches!(value.kind, ExprKind::Int { value: 7, .. }),
        "{value:?}"
    );
    assert!(m.function("f0").is_none());
    assert!(m.function("late_fn").is_some());
    let hints: Vec<_> = m
        .diagnostics
        .iter()
        .filter(|d| d.code == "headers-macros-only")
        .collect();
    assert_eq!(hints.len(), 1, "{:?}", m.diagnostics);
    assert_eq!(hints[0].severity, Severity::Hint);
}

/// CUDA's extended lambdas (`[=] __device__ (auto idx)`, RAFT 2141422b,
/// e.g. cpp/include/raft/linalg/detail/map.cuh) and `extern template`
/// (ggml d99724f2, src/ggml-cuda/fattn-mma-f16.cuh) are CUDA and C++ the
/// grammar does not know; they parse once normalised.
#[test]
fn extended_lambdas_and_extern_templates() {
    let src = "template <typename F> __global__ void apply(F f, float* x) { x[threadIdx.x] = f(threadIdx.x); }\n\
               void host(float* x) {\n  auto f = [=] __host__ __device__ (int i) { return 2.0f * i; };\n  apply<<<1, 32>>>(f, x);\n}\n\
               template <int N> void run(int* p) {}\n\
               extern template void run<4>(int* p);\n\
               __global__ void after(float* x) { x[0] = 1; }\n";
    let m = main_only(src);
    assert_clean(&m);
    kernel(&m, "after");
    assert!(
        m.launches.iter().any(|l| l.kernel == "apply"),
        "{:?}",
        m.launches
    );
}

/// CUTLASS defines `CUTLASS_PRAGMA_UNROLL` as `#pragma unroll` under nvcc
/// (cutlass 7107b055, include/cutlass/detail/helper_macros.hpp:169) and puts
/// it before loops, e.g. the kernel `GemmComplex` of
/// tools/util/include/cutlass/util/reference/device/gemm_complex.h:121:
/// the expansion is the pragma, the kernel parses, and the loops carry it.
#[test]
fn a_macro_whose_body_is_pragma_unroll() {
    let m = main_only(
        "#define UNROLL #pragma unroll\n#define UNROLL_ONCE #pragma unroll 1\n\
         template <int N = 4>\n__global__ void k(float* a) {\n  UNROLL\n  for (int i = 0; i < N; i++) {\n\
         \x20   UNROLL_ONCE\n    for (int j = 0; j < N; j++) a[i * N + j] = 0;\n  }\n}\n",
    );
    assert_clean(&m);
    let body = kernel(&m, "k").body.as_ref().expect("body");
    let mut unrolls = Vec::new();
    body.walk(&mut |s| {
        if let StmtKind::For { unroll, .. } = &s.kind {
            unrolls.push(*unroll);
        }
    });
    assert_eq!(unrolls, [Some(None), Some(Some(1))]);
}

/// HeCBench's convolutionDeformable (`src/cuda/dcn_v2_im2col_cuda.cu`,
/// after Caffe): `CUDA_KERNEL_LOOP(index, n) { ... }`, a function-like
/// macro expanding to a `for` header with the block after it as the body.
/// The grammar reads it as a nested function definition; the model has the
/// loop, with the block's statements inside it.
#[test]
fn a_macro_heading_a_block_is_a_loop() {
    let m = main_only(
        "#define CUDA_KERNEL_LOOP(i, n) \\\n  for (int i = blockIdx.x * blockDim.x + threadIdx.x; \\\n       i < (n); i += blockDim.x * gridDim.x)\n\
         __global__ void k(const int n, float *x) {\n  CUDA_KERNEL_LOOP(index, n)\n  {\n    x[index] = 2.0f * x[index];\n  }\n}\n",
    );
    assert_clean(&m);
    let body = kernel(&m, "k").body.as_ref().expect("body");
    let mut loops = 0;
    let mut unknown = Vec::new();
    body.walk(&mut |s| match &s.kind {
        StmtKind::For { body, .. } => {
            loops += 1;
            let mut stores = 0;
            body.walk(&mut |t| stores += usize::from(matches!(t.kind, StmtKind::Expr(_))));
            assert_eq!(stores, 1, "{body:?}");
        }
        StmtKind::Unknown(t) => unknown.push(t.clone()),
        _ => {}
    });
    assert_eq!((loops, unknown), (1, Vec::<String>::new()));
}

/// HeCBench's mis (`src/mis-cuda/main.cu`, lines 63 and 109, at the
/// commit in tests/transpile-suites/suites.toml): `const int* const
/// __restrict nidx` — GCC's `__restrict` after `const`, which the grammar
/// reads as the parameter's name — drew a false "cannot parse" note.
#[test]
fn gcc_restrict_after_const() {
    let m = main_only(
        "__global__ void init(const int* const __restrict nidx, int* const __restrict out, int n) {\n    int i = threadIdx.x; if (i < n) out[i] = nidx[i];\n}\n",
    );
    assert_clean(&m);
    assert!(m.unparsed.is_empty(), "{:?}", m.unparsed);
    let k = kernel(&m, "init");
    let params: Vec<(&str, bool)> = k
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.ty.restrict))
        .collect();
    assert_eq!(params, [("nidx", true), ("out", true), ("n", false)]);
}

/// Code that does not parse even with its macros expanded is recorded
/// where it breaks, one place per function: a transpiler must not lower
/// what the parser recovered (`o[0] = 1.0f +;` read as `o[0] = 1.0f`).
#[test]
fn where_the_code_does_not_parse_is_recorded_per_function() {
    let src = "__global__ void a(float* o) {\n    o[0] = (;\n}\n__global__ void b(float* o) {\n    o[0] = 1.0f +;\n}\n__global__ void c(float* o) { o[0] = 2.0f; }\n";
    let m = main_only(src);
    let at: Vec<&str> = m.unparsed.iter().map(|s| s.text(src)).collect();
    assert_eq!(at.len(), 2, "{at:?}");
    for name in ["a", "b"] {
        let f = kernel(&m, name);
        assert!(
            m.unparsed
                .iter()
                .any(|u| f.span.start <= u.start && u.end <= f.span.end),
            "{name}: {at:?}"
        );
    }
    let c = kernel(&m, "c");
    assert!(
        !m.unparsed
            .iter()
            .any(|u| c.span.start <= u.start && u.end <= c.span.end)
    );
}
