//! The kernel model on realistic files: macros from included headers,
//! conditionals, templates, shared arrays, loops and launch sites.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cudalens_syntax::ir::{ExprKind, StmtKind};
use cudalens_syntax::model::{Dim3, ExecSpace, Step};
use cudalens_syntax::preprocess::include::CompileFlags;
use cudalens_syntax::{BuildOptions, FileModel, analyze_source};

fn model_with(files: &[(&str, &str)], main: &str, flags: CompileFlags) -> FileModel {
    let provider: HashMap<PathBuf, String> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.to_string()))
        .collect();
    let src = provider[Path::new(main)].clone();
    let opts = BuildOptions {
        path: Some(Path::new(main)),
        flags,
        provider: &provider,
        max_include_depth: 16,
        deadline: None,
    };
    analyze_source(&src, &opts)
}

const HEADER: &str = r#"
#ifndef GEMM_CUH
#define GEMM_CUH
#define DIM_THREAD_BLOCK_X 32
#define DIM_THREAD_BLOCK_Y 8
#define NI 512
typedef float DATA_TYPE;
#endif
"#;

const MAIN: &str = r#"
#include "polybench.cuh"
#include <cuda_runtime.h>
#define TILE 32
#define IDX(i, j) ((i) * NI + (j))

template <int BS>
__global__ void __launch_bounds__(BS) reduce(const float* __restrict__ in, float* out) {
  __shared__ float sdata[BS];
  unsigned int tid = threadIdx.x;
  sdata[tid] = in[blockIdx.x * BS + tid];
  __syncthreads();
  for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (tid < s) sdata[tid] += sdata[tid + s];
    __syncthreads();
  }
  if (tid == 0) atomicAdd(out, sdata[0]);
}

__global__ void gemm(DATA_TYPE *a, DATA_TYPE *b, DATA_TYPE *c) {
  __shared__ DATA_TYPE tile[TILE][TILE + 1];
  extern __shared__ float dyn[];
  int j = blockIdx.x * blockDim.x + threadIdx.x;
  int i = blockIdx.y * blockDim.y + threadIdx.y;
  for (int k = 0; k < NI; k++) {
    c[IDX(i, j)] += a[IDX(i, k)] * b[IDX(k, j)];
  }
}

void host(float *a, float *b, float *c, int n, cudaStream_t stream) {
  dim3 block(DIM_THREAD_BLOCK_X, DIM_THREAD_BLOCK_Y);
  dim3 grid((size_t)ceil(((float)NI) / ((float)block.x)), NI / DIM_THREAD_BLOCK_Y);
  gemm<<<grid, block, 2 * TILE * sizeof(float), stream>>>(a, b, c);
  const int threads = 256;
  reduce<256><<<n / threads, threads>>>(a, b);
#if TILE > 16
  gemm<<<1, 64>>>(a, b, c);
#else
  gemm<<<1, 16>>>(a, b, c);
#endif
}
"#;

fn gemm_model() -> FileModel {
    model_with(
        &[("/p/src/polybench.cuh", HEADER), ("/p/src/gemm.cu", MAIN)],
        "/p/src/gemm.cu",
        CompileFlags::default(),
    )
}

#[test]
fn functions_params_templates_and_bounds() {
    let m = gemm_model();
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let reduce = m.function("reduce").unwrap();
    assert_eq!(reduce.exec, ExecSpace::Kernel);
    assert_eq!(reduce.template_params[0].name, "BS");
    assert_eq!(reduce.params[0].ty.display(), "const float* __restrict__");
    assert!(reduce.launch_bounds.is_some());
    assert_eq!(reduce.barriers().len(), 2);
    assert_eq!(reduce.atomics().len(), 1);
    let host = m.function("host").unwrap();
    assert_eq!(host.exec, ExecSpace::Host);
    assert_eq!(m.kernels().count(), 2);
}

#[test]
fn shared_arrays_resolve_through_macros_and_typedefs() {
    let m = gemm_model();
    let gemm = m.function("gemm").unwrap();
    let shared = gemm.shared_decls();
    assert_eq!(shared.len(), 2);
    let env = m.const_env();
    let dims: Vec<Option<i128>> = shared[0]
        .dims
        .iter()
        .map(|d| d.as_ref().and_then(|d| env.eval(d)))
        .collect();
    assert_eq!(dims, vec![Some(32), Some(33)]);
    assert_eq!(shared[0].ty.base, "DATA_TYPE");
    assert_eq!(m.types.size_of(&shared[0].ty), Some(4));
    assert!(shared[1].is_extern && shared[1].dims == vec![None]);
    // The macro-expanded index keeps the span of the invocation.
    let mut idx_spans = vec![];
    gemm.body.as_ref().unwrap().walk_exprs(&mut |e| {
        if let ExprKind::Index(_, i) = &e.kind
            && i.from_macro
        {
            idx_spans.push(&MAIN[i.span.start..i.span.end]);
        }
    });
    assert_eq!(idx_spans, vec!["IDX(i, j)", "IDX(i, k)", "IDX(k, j)"]);
}

#[test]
fn loops_and_induction_variables() {
    let m = gemm_model();
    let reduce = m.function("reduce").unwrap();
    let loops = reduce.loops();
    assert_eq!(loops.len(), 1);
    let ind = loops[0].1.as_ref().unwrap();
    assert_eq!(ind.var, "s");
    assert!(matches!(ind.step, Step::Shr(_)));
    let gemm = m.function("gemm").unwrap();
    let ind = gemm.loops()[0].1.clone().unwrap();
    assert_eq!(ind.var, "k");
    assert!(matches!(ind.step, Step::Add(_)));
}

#[test]
fn launch_sites_resolve_dim3_through_header_macros() {
    let m = gemm_model();
    assert_eq!(m.launches.len(), 3, "inactive #else branch is skipped");
    let l = &m.launches[0];
    assert_eq!(l.kernel, "gemm");
    assert_eq!(l.block_dims, Dim3::known(32, 8, 1));
    assert_eq!(l.grid_dims.y, Some(64));
    assert_eq!(l.smem_bytes, Some(256));
    assert!(l.stream.is_some());
    let r = &m.launches[1];
    assert_eq!(
        (r.kernel.as_str(), r.template_args.clone()),
        ("reduce", vec!["256".to_string()])
    );
    assert_eq!(r.block_dims, Dim3::known(256, 1, 1));
    assert_eq!(r.grid_dims.x, None, "n is a runtime value");
    assert_eq!(m.launches[2].block_dims.x, Some(64));
    assert_eq!(m.inactive.len(), 1);
    assert_eq!(m.includes.len(), 2);
    assert!(m.includes[0].resolved.is_some() && m.includes[1].system);
}

/// `auto k = align<int, 64>; k<<<2, 128>>>(…)` (HeCBench's moe-align):
/// a launch of that instance, with its template arguments.
#[test]
fn a_variable_holding_a_kernel_instance_launches_it() {
    let text = r#"
template <typename T, int N> __global__ void align(T *o) { o[threadIdx.x] = N; }
void run(int *o) {
    auto k = align<int, 64>;
    k<<<2, 128>>>(o);
}
"#;
    let m = model_with(&[("alias.cu", text)], "alias.cu", CompileFlags::default());
    let launched: Vec<(&str, Vec<String>, Dim3)> = m
        .launches
        .iter()
        .map(|l| (l.kernel.as_str(), l.template_args.clone(), l.block_dims))
        .collect();
    assert_eq!(
        launched,
        [(
            "align",
            vec!["int".to_string(), "64".to_string()],
            Dim3::known(128, 1, 1)
        )]
    );
}

/// A launch through a function-pointer variable is a launch of each kernel
/// assigned to it (the CUDA samples' `transpose.cu` picks its kernel so),
/// and no fix may rewrite its block argument, which all of them share.
#[test]
fn launches_through_a_function_pointer_are_launches_of_each_kernel_assigned() {
    let text = r#"
#define TILE 32
__global__ void copy(float *o, const float *i, int n) { o[threadIdx.x] = i[threadIdx.x]; }
__global__ void naive(float *o, const float *i, int n) { o[threadIdx.x] = i[threadIdx.x]; }
__global__ void other(float *o, const float *i, int n) { o[threadIdx.x] = i[threadIdx.x]; }
void run(float *o, float *i, int n, int which) {
    void (*kernel)(float *, const float *, int);
    dim3 grid(n / TILE, n / TILE), threads(TILE, 8);
    for (int k = 0; k < 2; k++) {
        switch (k) {
        case 0: kernel = &copy; break;
        case 1: kernel = naive; break;
        }
        kernel<<<grid, threads>>>(o, i, n);
    }
    other<<<1, 64>>>(o, i, n);
}
"#;
    let m = model_with(&[("pick.cu", text)], "pick.cu", CompileFlags::default());
    let mut launched: Vec<(&str, Dim3, bool)> = m
        .launches
        .iter()
        .map(|l| (l.kernel.as_str(), l.block_dims, l.block_arg_span.is_some()))
        .collect();
    launched.sort_by_key(|l| l.0);
    assert_eq!(
        launched,
        vec![
            ("copy", Dim3::known(32, 8, 1), false),
            ("naive", Dim3::known(32, 8, 1), false),
            ("other", Dim3::known(64, 1, 1), true),
        ]
    );
}

#[test]
fn defines_from_flags_and_missing_headers() {
    let src = "#include \"nowhere.cuh\"\n#if BLOCK == 128\n__global__ void a() {}\n#else\n__global__ void b() {}\n#endif\n";
    let flags = CompileFlags {
        defines: vec![("BLOCK".into(), "128".into())],
        ..CompileFlags::default()
    };
    let m = model_with(&[("/x/k.cu", src)], "/x/k.cu", flags);
    assert_eq!(
        m.kernels().map(|k| k.name.as_str()).collect::<Vec<_>>(),
        ["a"]
    );
    assert_eq!(m.diagnostics.len(), 1);
    assert_eq!(m.diagnostics[0].code, "include-not-found");
}

#[test]
fn include_cycles_and_recursive_macros_are_cut() {
    let a =
        "#include \"b.cuh\"\n#define A B\n#define B A\n__global__ void k(int* p) { p[A] = 0; }\n";
    let b = "#include \"k.cu\"\n#include \"b.cuh\"\n";
    let m = model_with(
        &[("/c/k.cu", a), ("/c/b.cuh", b)],
        "/c/k.cu",
        CompileFlags::default(),
    );
    assert!(m.function("k").is_some());
    // The cycle is inside the header, so the main file sees no diagnostic for it,
    // and a self-referential macro simply stays unexpanded.
    let k = m.function("k").unwrap();
    let mut found = false;
    k.body.as_ref().unwrap().walk(&mut |s| {
        if let StmtKind::Expr(_) = s.kind {
            found = true;
        }
    });
    assert!(found);
}

#[test]
fn syntax_errors_are_reported_and_the_rest_is_modelled() {
    let src = "__global__ void ok(float* a) { a[threadIdx.x] = 1; }\n__global__ void bad(float* a) { a[ = ; }\n__global__ void after(int n) {}\n";
    let m = model_with(&[("/e/k.cu", src)], "/e/k.cu", CompileFlags::default());
    assert!(m.diagnostics.iter().any(|d| d.code == "syntax"));
    assert!(m.function("ok").is_some());
    assert!(m.function("after").is_some());
}

/// A comment on a `#define` line that `\` continues (HeCBench
/// qtclustering's `COMPUTE_DIAMETER_WITH_POINT`): the grammar ended the
/// macro there and read its other lines as code, so the function after it
/// vanished from the model. Now the macro is whole, its uses expand, and
/// the comments outside macros stay comments.
#[test]
fn comments_inside_continued_macro_lines_keep_the_macro_whole() {
    let src = "#define SKIP_NEGATIVE(_P_) \\\n    if ((_P_) < 0) {\\\n        break;\\\n    }\\\ndo {\\\n    /* if \"_P_\" is odd, skip it */\\\n    if ((_P_) % 2) { /* done */ \\\n        break;\\\n    }\\\n    total += (_P_);\\\n} while (0)\n\n/* a comment */ __device__ int sum(const int *p, int n) {\n    int total = 0;\n    for (int i = 0; i < n; i++) { SKIP_NEGATIVE(p[i]); }\n    return total; // \"/* not a comment */\"\n}\n";
    let m = model_with(&[("/e/k.cu", src)], "/e/k.cu", CompileFlags::default());
    assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
    let f = m.function("sum").expect("sum is modelled");
    let mut breaks = 0;
    f.body.as_ref().expect("body").walk(&mut |s| {
        if let StmtKind::Break = s.kind {
            breaks += 1;
        }
    });
    assert_eq!(breaks, 2, "the macro's `break`s are in the loop");
    let def = m
        .macro_defs
        .iter()
        .find(|d| d.name == "SKIP_NEGATIVE")
        .expect("the macro is defined");
    let body: Vec<&str> = def.body.iter().map(|t| t.text.as_str()).collect();
    assert_eq!(body.last(), Some(&")"), "{body:?}");
    assert!(body.contains(&"while"), "{body:?}");
    assert!(
        body.contains(&"total") && body.contains(&"break"),
        "{body:?}"
    );
}

/// Template parameters are lowered only when the function is: a cached
/// template function must still change when only its header does, also
/// when an `#if` stands between the header and the function.
#[test]
fn cached_template_functions_follow_their_header() {
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model, build_model_cached};
    let provider: HashMap<PathBuf, String> = HashMap::new();
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &provider,
        max_include_depth: 4,
        deadline: None,
    };
    let mut text = "template <int B = 64>\n__global__ void k(float* x) { x[threadIdx.x] = B; }\n\
                    template <int C>\n#if 1\n__global__ void h(float* y) { y[0] = C; }\n#endif\n"
        .to_string();
    let mut cache = ModelCache::default();
    for (from, to) in [
        ("", ""),
        ("int B = 64", "int B = 128"),
        ("template <int C>", "template <typename T, int C>"),
        ("int B = 128", "unsigned B = 128"),
    ] {
        text = text.replacen(from, to, 1);
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), &text);
        let cached = build_model_cached(&text, tree.as_ref(), &opts, &mut cache);
        let fresh = build_model(&text, tree.as_ref(), &opts);
        assert_eq!(
            cached.functions, fresh.functions,
            "after {from:?} -> {to:?}"
        );
        let params = |name: &str| {
            let f = fresh.function(name).expect(name);
            f.template_params
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
        };
        assert!(!params("k").is_empty() && !params("h").is_empty(), "{text}");
    }
}

#[test]
fn cached_builds_equal_fresh_builds_after_edits() {
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model, build_model_cached};
    let provider: HashMap<PathBuf, String> =
        [(PathBuf::from("/p/src/polybench.cuh"), HEADER.to_string())]
            .into_iter()
            .collect();
    let opts = BuildOptions {
        path: Some(Path::new("/p/src/gemm.cu")),
        flags: CompileFlags::default(),
        provider: &provider,
        max_include_depth: 16,
        deadline: None,
    };
    let mut cache = ModelCache::default();
    let mut text = MAIN.to_string();
    // Edits inside a kernel, before everything, in a macro, and in host code;
    // then a file constant a launch reads, changed without touching the caller.
    let edits: [(&str, &str); 8] = [
        ("unsigned int tid", "unsigned int  tid"),
        (
            "#include \"polybench.cuh\"",
            "// é\n#include \"polybench.cuh\"",
        ),
        ("#define TILE 32", "#define TILE 16"),
        ("const int threads = 256;", "const int threads = 128;"),
        ("#define TILE 16", "#define TILE 32"),
        ("gemm<<<1, 64>>>", "gemm<<<LAUNCH_N, 64>>>"),
        (
            "#define TILE 32",
            "const int LAUNCH_N = 8;\n#define TILE 32",
        ),
        ("const int LAUNCH_N = 8;", "const int LAUNCH_N = 4;"),
    ];
    for (from, to) in edits {
        text = text.replacen(from, to, 1);
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), &text);
        let cached = build_model_cached(&text, tree.as_ref(), &opts, &mut cache);
        let fresh = build_model(&text, tree.as_ref(), &opts);
        assert_eq!(
            cached.functions, fresh.functions,
            "after {from:?} -> {to:?}"
        );
        assert_eq!(cached.launches, fresh.launches, "after {from:?} -> {to:?}");
    }
    let gemm_grids: Vec<_> = cache_check_grids(&text, &opts);
    assert!(gemm_grids.contains(&Some(4)), "{gemm_grids:?}");
}

/// The grid sizes (x) of `gemm`'s launches in a fresh build of `text`.
fn cache_check_grids(text: &str, opts: &BuildOptions) -> Vec<Option<i64>> {
    use cudalens_syntax::document::cuda_parser;
    let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), text);
    cudalens_syntax::model::build_model(text, tree.as_ref(), opts)
        .launches_of("gemm")
        .map(|l| l.grid_dims.x)
        .collect()
}

#[test]
fn deeply_nested_code_is_cut_off_not_a_stack_overflow() {
    // Runs on a 2 MiB stack, like the server's blocking threads.
    let handle = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            for src in [
                format!(
                    "__global__ void k(int* p){{ p[threadIdx.x] = {}1{}; }}",
                    "(".repeat(20_000),
                    ")".repeat(20_000)
                ),
                format!(
                    "__global__ void k(int* p){{ {} p[0] = 1; {} }}",
                    "{".repeat(20_000),
                    "}".repeat(20_000)
                ),
                format!(
                    "__global__ void k(int* p){{ {}1; }}",
                    "p[threadIdx.x] += ".repeat(20_000)
                ),
            ] {
                let m = model_with(&[("/d/k.cu", &src)], "/d/k.cu", CompileFlags::default());
                assert!(m.function("k").is_some());
                assert!(
                    m.diagnostics
                        .iter()
                        .any(|d| d.message.contains("nested more than")),
                    "{:?}",
                    m.diagnostics
                );
            }
        })
        .expect("thread");
    handle.join().expect("no stack overflow or panic");
}

/// A macro used many times is lowered once and reused: every use still gets
/// its own span (all of an expansion's nodes point at its invocation).
#[test]
fn repeated_macro_expansions_keep_their_own_spans() {
    let src = "#define IDX(i, j, n) ((i) * (n) + (j))\n\
__global__ void k(float* a, int n) {\n\
  a[IDX(threadIdx.y, threadIdx.x, n)] = 1.0f;\n\
  a[IDX(threadIdx.y, threadIdx.x,   n)] = 2.0f;\n\
  a[IDX(threadIdx.y, threadIdx.x, n)] = 3.0f;\n}\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let kernel = model.kernels().next().expect("kernel");
    let mut index_spans = Vec::new();
    kernel.body.as_ref().expect("body").walk_exprs(&mut |e| {
        if let ExprKind::Index(_, index) = &e.kind {
            index_spans.push(index.span.text(src).to_string());
            let mut inner = Vec::new();
            index.walk(&mut |i| inner.push(i.span));
            assert!(inner.iter().all(|s| *s == index.span), "{inner:?}");
        }
    });
    assert_eq!(
        index_spans,
        [
            "IDX(threadIdx.y, threadIdx.x, n)",
            "IDX(threadIdx.y, threadIdx.x,   n)",
            "IDX(threadIdx.y, threadIdx.x, n)"
        ]
    );
}

/// A function below an edit is moved in place when the cache owns it alone
/// (the language server drops its published model first): same allocation,
/// spans shifted by the edit.
#[test]
fn functions_below_an_edit_move_in_place_when_unshared() {
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model_cached};
    use cudalens_syntax::preprocess::include::FsProvider;
    let text = "__global__ void a(float* x) { x[threadIdx.x] = 1.0f; }\n\
__global__ void b(float* y) { y[threadIdx.x] = 2.0f; }\n";
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let mut cache = ModelCache::default();
    let mut parser = cuda_parser();
    let model = build_model_cached(
        text,
        cudalens_syntax::SyntaxTrees::parse_whole(&mut parser, text).as_ref(),
        &opts,
        &mut cache,
    );
    let b_before = model.functions[1].clone();
    let (b_ptr, b_start) = (std::sync::Arc::as_ptr(&b_before), b_before.span.start);
    drop(b_before);
    drop(model);

    let edited = format!("// note\n{text}");
    let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut parser, &edited);
    let model = build_model_cached(&edited, tree.as_ref(), &opts, &mut cache);
    let b = &model.functions[1];
    assert_eq!(b.name, "b");
    assert_eq!(b.span.start, b_start + "// note\n".len());
    assert_eq!(b.span.text(&edited), text.lines().nth(1).unwrap());
    assert!(
        std::ptr::eq(std::sync::Arc::as_ptr(b), b_ptr),
        "moved in place"
    );
}

/// The preamble (state after the leading includes) and the expanded regions
/// of macro-declared kernels are reused between builds of a document: a
/// cached build must still equal a fresh one when the header behind the
/// preamble changes on disk, when a macro a region expands changes, and
/// when an edit elsewhere moves a region.
#[test]
fn cached_preamble_and_regions_follow_headers_and_macros() {
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model, build_model_cached};
    let header =
        "#pragma once\n#define KERNEL(name) __global__ void name(float* x)\n#define WIDTH 32\n";
    let mut provider: HashMap<PathBuf, String> =
        [(PathBuf::from("/p/defs.cuh"), header.to_string())]
            .into_iter()
            .collect();
    let mut text = "#include \"defs.cuh\"\n\
                    KERNEL(scale) {\n#if WIDTH > 8\n x[threadIdx.x * WIDTH] *= 2.0f;\n#else\n x[threadIdx.x] = 0.0f;\n#endif\n}\n\
                    __global__ void plain(float* y) { y[threadIdx.x] = 1.0f; }\n"
        .to_string();
    let mut cache = ModelCache::default();
    // (edit of the main file, new text of the header)
    let steps: [(&str, &str, Option<&str>); 5] = [
        ("", "", None),
        ("y[threadIdx.x] = 1.0f;", "y[threadIdx.x] = 2.0f;", None),
        ("", "", Some("#define WIDTH 1\n")),
        (
            "#include \"defs.cuh\"\n",
            "#include \"defs.cuh\"\n// moved\n",
            None,
        ),
        (
            "",
            "",
            Some("#define KERNEL(name) __global__ void name##_v2(float* x)\n"),
        ),
    ];
    for (from, to, header_change) in steps {
        text = text.replacen(from, to, 1);
        if let Some(line) = header_change {
            let kept: String = provider[Path::new("/p/defs.cuh")]
                .lines()
                .filter(|l| macro_name(l) != macro_name(line))
                .map(|l| format!("{l}\n"))
                .collect();
            provider.insert(PathBuf::from("/p/defs.cuh"), kept + line);
        }
        let opts = BuildOptions {
            path: Some(Path::new("/p/main.cu")),
            flags: CompileFlags::default(),
            provider: &provider,
            max_include_depth: 16,
            deadline: None,
        };
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), &text);
        let cached = build_model_cached(&text, tree.as_ref(), &opts, &mut cache);
        let fresh = build_model(&text, tree.as_ref(), &opts);
        let step = format!("after {from:?} -> {to:?}, header {header_change:?}");
        assert_eq!(cached.functions, fresh.functions, "{step}");
        assert_eq!(cached.diagnostics, fresh.diagnostics, "{step}");
        assert_eq!(cached.inactive, fresh.inactive, "{step}");
        assert!(
            !fresh.inactive.is_empty(),
            "{step}: the region's #if decided nothing"
        );
        let kernel = if header_change.is_some_and(|h| h.contains("_v2")) {
            "scale_v2"
        } else {
            "scale"
        };
        assert!(cached.function(kernel).is_some(), "{step}: no `{kernel}`");
    }
}

/// `NAME` of a `#define NAME...` line.
fn macro_name(line: &str) -> &str {
    let rest = line.trim_start_matches("#define ");
    let end = rest.find(['(', ' ', '\n']).unwrap_or(rest.len());
    &rest[..end]
}

/// Include paths decide which header an `#include <...>` finds: a cached
/// preamble built with one set must not serve a build with another.
#[test]
fn cached_preamble_follows_the_include_paths() {
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model, build_model_cached};
    let provider: HashMap<PathBuf, String> = [
        (
            "/a/defs.cuh",
            "#define KERNEL(n) __global__ void n##_first(float* x)\n",
        ),
        (
            "/b/defs.cuh",
            "#define KERNEL(n) __global__ void n##_second(float* x)\n",
        ),
    ]
    .into_iter()
    .map(|(p, t)| (PathBuf::from(p), t.to_string()))
    .collect();
    let text = "#include <defs.cuh>\nKERNEL(k) { x[threadIdx.x] = 0; }\n";
    let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), text);
    let mut cache = ModelCache::default();
    for (dir, kernel) in [("/a", "k_first"), ("/b", "k_second")] {
        let opts = BuildOptions {
            path: Some(Path::new("/p/main.cu")),
            flags: CompileFlags {
                include_dirs: vec![PathBuf::from(dir)],
                ..CompileFlags::default()
            },
            provider: &provider,
            max_include_depth: 16,
            deadline: None,
        };
        let cached = build_model_cached(text, tree.as_ref(), &opts, &mut cache);
        assert_eq!(
            cached.functions,
            build_model(text, tree.as_ref(), &opts).functions
        );
        assert!(cached.function(kernel).is_some(), "-I {dir}: no `{kernel}`");
    }
}

/// A brace opened in both arms of an `#if`, in two functions in a row (as
/// ggml's `mmq-load-tiles.cuh` does), leaves tree-sitter with an ERROR root
/// for the whole file: every function is still found and lowered, the
/// inactive arm left out, with no syntax note, and edits in the broken and
/// the whole functions keep cached builds equal to fresh ones.
#[test]
fn functions_around_a_brace_split_by_an_if_are_all_modelled() {
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model, build_model_cached};
    let provider: HashMap<PathBuf, String> =
        [(PathBuf::from("/p/defs.cuh"), "#define N 64\n".to_string())]
            .into_iter()
            .collect();
    let broken = "template <int W> __global__ void NAME(float* x, int n) {\n\
                  \x20   int i = threadIdx.x;\n\
                  #if defined(WIDE)\n    if (i < n) {\n#else\n    {\n#endif\n\
                  \x20       x[i * N] = 1.0f;\n    }\n}\n\n";
    let mut text = format!(
        "#include \"defs.cuh\"\n__device__ int twice(int a) {{ return a * 2; }}\n\n{}{}\
         __global__ void after(float* y) {{ y[threadIdx.x] = twice(1); }}\n",
        broken.replace("NAME", "split"),
        broken.replace("NAME", "split_again"),
    );
    let opts = BuildOptions {
        path: Some(Path::new("/p/main.cu")),
        flags: CompileFlags::default(),
        provider: &provider,
        max_include_depth: 16,
        deadline: None,
    };
    let mut cache = ModelCache::default();
    let edits = [
        ("", ""),
        ("twice(1)", "twice(2)"),
        ("x[i * N] = 1.0f", "x[i * N] = 3.0f"),
        ("return a * 2", "return a * 4"),
    ];
    for (from, to) in edits {
        text = text.replacen(from, to, 1);
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), &text);
        assert!(tree.as_ref().unwrap().root_is_broken());
        let cached = build_model_cached(&text, tree.as_ref(), &opts, &mut cache);
        let fresh = build_model(&text, tree.as_ref(), &opts);
        let step = format!("after {from:?} -> {to:?}");
        assert_eq!(cached.functions, fresh.functions, "{step}");
        assert_eq!(cached.diagnostics, fresh.diagnostics, "{step}");
        assert!(
            fresh.diagnostics.is_empty(),
            "{step}: {:?}",
            fresh.diagnostics
        );
        let names: Vec<&str> = fresh.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["twice", "split", "split_again", "after"], "{step}");
        let split = format!("{:?}", fresh.function("split").unwrap().body);
        assert!(
            !split.contains("If {"),
            "{step}: the inactive arm's `if` was kept"
        );
        assert!(
            split.contains("value: 64"),
            "{step}: `N` from the header was not expanded"
        );
    }
}

/// A header the file includes but that did not exist when the preamble was
/// built (the user is about to write it) is found on the next build: the
/// cached preamble is not used past its appearance.
#[test]
fn cached_preamble_follows_a_header_that_appears() {
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model, build_model_cached};
    let text =
        "#include \"defs.cuh\"\n#include <tile.cuh>\nKERNEL(k) { x[threadIdx.x * TILE] = 0; }\n";
    let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), text);
    let mut provider: HashMap<PathBuf, String> = HashMap::new();
    let mut cache = ModelCache::default();
    let headers = [
        (
            "/p/defs.cuh",
            "#define KERNEL(n) __global__ void n(float* x)\n",
        ),
        ("/inc/tile.cuh", "#define TILE 32\n"),
    ];
    for step in 0..=headers.len() {
        if step > 0 {
            let (path, header) = headers[step - 1];
            provider.insert(PathBuf::from(path), header.to_string());
        }
        let opts = BuildOptions {
            path: Some(Path::new("/p/main.cu")),
            flags: CompileFlags {
                include_dirs: vec![PathBuf::from("/inc")],
                ..CompileFlags::default()
            },
            provider: &provider,
            max_include_depth: 16,
            deadline: None,
        };
        let cached = build_model_cached(text, tree.as_ref(), &opts, &mut cache);
        let fresh = build_model(text, tree.as_ref(), &opts);
        assert_eq!(
            cached.functions, fresh.functions,
            "after {step} headers appeared"
        );
        assert_eq!(
            cached.diagnostics, fresh.diagnostics,
            "after {step} headers appeared"
        );
        assert_eq!(
            cached.function("k").is_some(),
            step >= 1,
            "after {step} headers appeared"
        );
    }
}

#[test]
fn macros_defined_in_a_cached_body_reach_the_functions_after_it() {
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model, build_model_cached};
    // `f` is reused from the cache on the second build; the `#define` deep
    // in its body (inside an `#if`, after `#if defined(...)` lines that
    // are not definitions) must still reach `k`, which is lowered again.
    let first = "__device__ int f(int x) {\n\
                 #if defined(FAST)\n    return x;\n#else\n\
                 \x20   if (x > 0) {\n#define SCALE 4\n        x *= SCALE;\n    }\n\
                 \x20   return x;\n#endif\n}\n\
                 __global__ void k(float* p) {\n    __shared__ float s[SCALE * 32];\n\
                 \x20   p[threadIdx.x] = s[threadIdx.x];\n}\n";
    let second = first.replace("p[threadIdx.x] =", "p[threadIdx.x]  =");
    let provider: HashMap<PathBuf, String> = HashMap::new();
    let opts = BuildOptions {
        path: Some(Path::new("/p/k.cu")),
        flags: CompileFlags::default(),
        provider: &provider,
        max_include_depth: 16,
        deadline: None,
    };
    let mut cache = ModelCache::default();
    for text in [first, second.as_str()] {
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), text);
        let cached = build_model_cached(text, tree.as_ref(), &opts, &mut cache);
        let fresh = build_model(text, tree.as_ref(), &opts);
        assert_eq!(cached.functions, fresh.functions);
        let k = cached.functions.iter().find(|f| f.name == "k").unwrap();
        let body = format!("{:?}", k.body);
        assert!(
            body.contains("Int { value: 4,") && !body.contains("\"SCALE\""),
            "SCALE not expanded: {body}"
        );
    }
}

/// Statement macros in headers reuse one lowering per macro (see
/// `stmt_shapes.rs`): each row must lower exactly as it would alone. The
/// same rows in the main file (lowered directly) are the reference.
#[test]
fn header_statement_macros_lower_as_each_row_would_alone() {
    use cudalens_syntax::span::Span;
    let rows = "#define ITER 256\n\
        #define CASE(type_, n_, occ_, layout_, k_, flag_) \\\n\
        \x20   if (type == (type_) && n == (n_) && flag == (flag_)) { \\\n\
        \x20       static_assert((n_) % 32 == 0 && (k_) % 256 == 0, \"bad\"); \\\n\
        \x20       return cfg((type_), (n_), (occ_), (layout_), (k_), -(n_), (flag_)); \\\n\
        \x20   }\n\
        #define NAMED(x) x = x + 1\n\
        __device__ int table(int type, int n, bool flag) {\n\
        \x20   CASE(TYPE_A, 256, 2, LAYOUT_A, ITER, true);\n\
        \x20   CASE(TYPE_B, 128, 1, LAYOUT_B, ITER, false);\n\
        \x20   CASE(TYPE_A, 0x40, 4, LAYOUT_A, 2 * ITER, true);\n\
        \x20   CASE(7, 64u, 1.5f, LAYOUT_B, ITER, false);\n\
        \x20   NAMED(n);\n\
        \x20   NAMED(type);\n\
        \x20   return 0;\n\
        }\n";
    let body_of = |files: &[(&str, &str)]| {
        let model = model_with(files, "/p/main.cu", CompileFlags::default());
        let f = model
            .functions
            .iter()
            .find(|f| f.name == "table")
            .expect("table modelled");
        let mut body = f.body.as_deref().expect("a body").clone();
        body.set_span_everywhere(Span::default());
        format!("{body:?}")
    };
    let direct = body_of(&[("/p/main.cu", rows)]);
    let through_header = body_of(&[
        ("/p/rows.cuh", rows),
        // Named here: a header body the file never reaches is not parsed.
        (
            "/p/main.cu",
            "#include \"rows.cuh\"\nint first = table(0, 0, false);\n",
        ),
    ]);
    assert_eq!(through_header, direct);
    // The rows' own values are there, not a sentinel's.
    for value in [
        "TYPE_B",
        "LAYOUT_B",
        "value: 128",
        "value: 64",
        "Bool(false)",
        "1.5",
    ] {
        assert!(direct.contains(value), "{value} missing: {direct}");
    }
    assert!(!direct.contains("__cudalens_shape_arg") && !direct.contains("1999999"));
}

/// An expression as an S-expression of operators, casts and names.
fn sexp(e: &cudalens_syntax::ir::Expr) -> String {
    match &e.kind {
        ExprKind::Ident(n) => n.clone(),
        ExprKind::Int { value, .. } => value.to_string(),
        ExprKind::Binary(op, a, b) => format!("({op:?} {} {})", sexp(a), sexp(b)),
        ExprKind::Unary(op, a) => format!("({op:?} {})", sexp(a)),
        ExprKind::Cast { ty, expr, .. } => format!("(cast {} {})", ty.display(), sexp(expr)),
        ExprKind::Index(a, i) => format!("(index {} {})", sexp(a), sexp(i)),
        ExprKind::Ternary(c, a, b) => format!("(? {} {} {})", sexp(c), sexp(a), sexp(b)),
        ExprKind::Call(c) => {
            let args: Vec<String> = c.args.iter().map(sexp).collect();
            format!("({} {})", c.callee, args.join(" "))
        }
        ExprKind::Member { base, field, arrow } => {
            format!(
                "({} {} {field})",
                if *arrow { "->" } else { "." },
                sexp(base)
            )
        }
        ExprKind::Assign(op, a, b) => match op {
            Some(op) => format!("({op:?}= {} {})", sexp(a), sexp(b)),
            None => format!("(= {} {})", sexp(a), sexp(b)),
        },
        other => format!("{other:?}"),
    }
}

/// `(x)>=(lo) && (x)<=(hi)` (Rodinia's `IN_RANGE` macro): tree-sitter
/// reads `(lo) && (x)` as a cast of `&&(x)` to a type `lo`, which also
/// breaks the precedence around it. When the parenthesised name is no type
/// (no typedef, struct, type macro or template parameter) the model reads
/// the expression as C does.
#[test]
fn parenthesised_variables_before_unary_operators_are_not_casts() {
    let src = "#define IN_RANGE(x, min, max) ((x)>=(min) && (x)<=(max))\n\
__global__ void k(float* out, int* m, int n, int lo, int hi, float x) {\n\
  bool v = IN_RANGE(threadIdx.x, lo, hi);\n\
  bool w = n>=(lo) && (hi)<=(n);\n\
  int a = m[n>=(lo) && (hi)];\n\
  f(g(n>=(lo) && (hi)), n>=(lo) && (hi) ? 1 : 2);\n\
}\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let kernel = model.functions.iter().find(|f| f.name == "k").expect("k");
    let mut inits = Vec::new();
    let mut calls = Vec::new();
    kernel
        .body
        .as_ref()
        .expect("body")
        .walk(&mut |s| match &s.kind {
            StmtKind::Decl(decls) => {
                for d in decls {
                    let init = d.init.as_ref().expect("init");
                    inits.push(format!("{} = {}", d.name, sexp(init)));
                    // The whole initialiser keeps its span.
                    if d.name == "w" {
                        assert_eq!(init.span.text(src), "n>=(lo) && (hi)<=(n)");
                    }
                }
            }
            StmtKind::Expr(e) => calls.push(sexp(e)),
            _ => {}
        });
    assert_eq!(
        inits,
        [
            "v = (LogAnd (Ge Builtin(ThreadIdx, X) lo) (Le Builtin(ThreadIdx, X) hi))",
            "w = (LogAnd (Ge n lo) (Le hi n))",
            "a = (index m (LogAnd (Ge n lo) hi))",
        ]
    );
    assert_eq!(
        calls,
        ["(f (g (LogAnd (Ge n lo) hi)) (? (LogAnd (Ge n lo) hi) 1 2))"]
    );
}

/// `(a - x) * (src[n]) + x * (src[n + 1])` (HeCBench affine's bilinear
/// interpolation): tree-sitter reads `(src[n]) + x` as a cast of `+x` to
/// an array type `src[n]`. C has no casts to array types, so a
/// parenthesised subscript before a unary operator is always an operand.
#[test]
fn parenthesised_subscripts_before_unary_operators_are_not_casts() {
    let src = "__global__ void k(float* o, const float* src, int n, float x) {\n\
  float g = (1.0f - x) * ((1.0f - x) * (src[n]) + x * (src[n + 1]));\n\
  float h = (src[n]) - (o[n][0]) * x;\n\
}\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let kernel = model.functions.iter().find(|f| f.name == "k").expect("k");
    let mut inits = Vec::new();
    kernel.body.as_ref().expect("body").walk(&mut |s| {
        if let StmtKind::Decl(decls) = &s.kind {
            for d in decls {
                inits.push(format!(
                    "{} = {}",
                    d.name,
                    sexp(d.init.as_ref().expect("init"))
                ));
            }
        }
    });
    let inits: Vec<String> = inits
        .into_iter()
        .map(|i| i.replace("Float { value: 1.0, single: true }", "1.0f"))
        .collect();
    assert_eq!(
        inits,
        [
            "g = (Mul (Sub 1.0f x) (Add (Mul (Sub 1.0f x) (index src n)) (Mul x (index src (Add n 1)))))",
            "h = (Sub (index src n) (Mul (index (index o n) 0) x))",
        ]
    );
}

/// C's `min`/`max` macros written as GNU statement expressions (`({
/// __typeof__(a) _a = (a); …; _a < _b ? _a : _b; })`, HeCBench's chemv and
/// LULESH) are their value with the copies replaced by what they copy,
/// when nothing copied has a side effect; a copy of `i++` stays unknown.
#[test]
fn statement_expressions_of_pure_copies_are_their_value() {
    let src = "#define MIN(a, b) ({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); _a < _b ? _a : _b; })\n\
__global__ void k(int* o, int n, int i) {\n\
  int a = MIN(n * 2, o[i]);\n\
  int b = MIN(i++, n);\n\
}\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let kernel = model.functions.iter().find(|f| f.name == "k").expect("k");
    let mut inits = Vec::new();
    kernel.body.as_ref().expect("body").walk(&mut |s| {
        if let StmtKind::Decl(decls) = &s.kind {
            for d in decls {
                let init = d.init.as_ref().expect("init");
                let shown = match &init.kind {
                    ExprKind::Unknown(_) => "unknown".to_string(),
                    _ => sexp(init),
                };
                inits.push(format!("{} = {shown}", d.name));
            }
        }
    });
    assert_eq!(
        inits,
        [
            "a = (? (Lt (Mul n 2) (index o i)) (Mul n 2) (index o i))",
            "b = unknown",
        ]
    );
}

/// Constants and enumerators in namespaces are found by their qualified
/// names (logic-rewrite's `dUtils::AigConst0`), each namespace's own when
/// two share a name; enumerators also by their enum's name.
#[test]
fn namespaced_constants_answer_to_their_qualified_names() {
    let src = "namespace a { const int X = 1; enum Kind { P = 3, Q }; }\n\
namespace b { const int X = 2; namespace c { constexpr int Depth = 7; } }\n\
namespace b::d { const unsigned Y = 9u; }\n\
enum class Mode { Fast = 2, Slow };\n\
namespace { const int Hidden = 5; }\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let get = |name: &str| model.consts.get(name).copied();
    assert_eq!(get("a::X"), Some(1));
    assert_eq!(get("b::X"), Some(2));
    assert_eq!(get("b::c::Depth"), Some(7));
    assert_eq!(get("c::Depth"), Some(7));
    assert_eq!(get("b::d::Y"), Some(9));
    assert_eq!(get("a::Q"), Some(4));
    assert_eq!(get("a::Kind::Q"), Some(4));
    assert_eq!(get("Kind::P"), Some(3));
    assert_eq!(get("Mode::Slow"), Some(3));
    assert_eq!(get("Hidden"), Some(5));
    assert_eq!(get("c::X"), None);
}

/// Locals initialised with parentheses whose value tree-sitter reads as
/// a prototype's parameter (marchingCubes' `constexpr unsigned int
/// threadNum(voxelX * voxelY);`, `unsigned int b(idx[blockIdx.x]);`) are
/// variables with that value when the parameter's "type" is no type; a
/// real prototype stays one.
#[test]
fn direct_initialised_locals_are_not_prototypes() {
    let src = "typedef float real;\n\
__global__ void k(const unsigned *idx, unsigned *o, unsigned w, unsigned h) {\n\
  constexpr unsigned int n(w * h);\n\
  unsigned int b(idx[blockIdx.x]);\n\
  unsigned int m(idx[0] & h);\n\
  unsigned int c(min(w, h));\n\
  float proto(real *p);\n\
}\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let kernel = model.functions.iter().find(|f| f.name == "k").expect("k");
    let decls: Vec<String> = kernel
        .local_decls()
        .iter()
        .map(|d| {
            let args: Vec<String> = d.ctor_args.iter().flatten().map(sexp).collect();
            format!(
                "{}{} ({})",
                if d.constexpr { "constexpr " } else { "" },
                d.name,
                args.join(", ")
            )
        })
        .collect();
    assert_eq!(
        decls,
        [
            "constexpr n ((Mul w h))",
            "b ((index idx Builtin(BlockIdx, X)))",
            "m ((BitAnd (index idx 0) h))",
            "c ((min w h))",
        ]
    );
}

/// Member functions defined in a struct are functions `S::m` whose first
/// parameter is `S *this` (none for a `static` one; the constructor is
/// `S::S`, its member initialisers first); the members their bodies name
/// bare go through it, a local of the same name keeps its own; a call
/// `obj.m(a)` keeps its object (`CallExpr::receiver`).
#[test]
fn member_functions_take_their_object_as_this() {
    let src = "struct P {\n\
  float x, v;\n\
  P(float a) : x(a), v(0) {}\n\
  __device__ void step(float dt) { x += v * dt; clamp(); }\n\
  __device__ void clamp() { float v = 1.0f; if (x > v) x = v; }\n\
  __device__ static float half(float a) { return a / 2; }\n\
};\n\
__global__ void k(P *p) { p[0].step(P::half(1.0f)); }\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let names: Vec<&str> = model.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["P::P", "P::step", "P::clamp", "P::half", "k"]);
    let f = |n: &str| model.functions.iter().find(|f| f.name == n).expect(n);
    let params = |n: &str| -> Vec<String> {
        f(n).params
            .iter()
            .map(|p| {
                format!(
                    "{} {}{}",
                    p.ty.base,
                    "*".repeat(p.ty.pointer.into()),
                    p.name
                )
            })
            .collect()
    };
    assert_eq!(params("P::step"), ["P *this", "float dt"]);
    assert_eq!(params("P::half"), ["float a"]);
    assert_eq!(params("P::P"), ["P *this", "float a"]);
    let body = |n: &str| -> Vec<String> {
        let mut out = Vec::new();
        f(n).body.as_ref().expect("body").walk(&mut |s| {
            if let StmtKind::Expr(e) = &s.kind {
                out.push(sexp(e));
            }
        });
        out
    };
    assert_eq!(
        body("P::step"),
        ["(Add= (-> this x) (Mul (-> this v) dt))", "(P::clamp this)"]
    );
    // The constructor's member initialisers come first.
    assert_eq!(body("P::P"), ["(= (-> this x) a)", "(= (-> this v) 0)"]);
    // `v` is clamp's own local there, `x` the member.
    assert!(
        format!("{:?}", body("P::clamp")).contains("(= (-> this x) v)"),
        "{:?}",
        body("P::clamp")
    );
    let mut receivers = Vec::new();
    f("k").body.as_ref().expect("body").walk_exprs(&mut |e| {
        if let ExprKind::Call(c) = &e.kind
            && let Some(r) = &c.receiver
        {
            receivers.push((c.callee.clone(), sexp(r), c.arrow));
        }
    });
    assert_eq!(
        receivers,
        [("p[0].step".to_string(), "(index p 0)".to_string(), false)]
    );
}

/// Bit-fields (`unsigned value : 11;`, HeCBench's logic-rewrite `Cut`)
/// share hidden 32-bit words laid out as nvcc's ABI does; a struct whose
/// bit-fields a word of their own would misplace (one after a `char`, in
/// the word that holds it; narrow declared types) stays unknown, so
/// nothing reads its members at wrong offsets.
#[test]
fn bit_fields_share_words_where_the_layout_is_nvccs() {
    let src = "struct Cut { int sign; unsigned t : 16; unsigned v : 11; unsigned n : 4; bool used; };\n\
struct Split { unsigned a : 30; unsigned b : 4; int c; };\n\
struct AfterChar { char c; unsigned a : 4; };\n\
struct Narrow { unsigned char a : 3; };\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let cut = &model.types.structs["Cut"];
    assert_eq!((cut.size, cut.align), (12, 4));
    let offsets: Vec<(&str, u64)> = (cut.fields.iter())
        .map(|f| (f.name.as_str(), f.offset))
        .collect();
    assert_eq!(offsets, [("sign", 0), ("cudalens_bits0", 4), ("used", 8)]);
    let bits: Vec<(&str, u32, u32)> = (model.types.bitfields["Cut"].iter())
        .map(|b| (b.name.as_str(), b.offset, b.width))
        .collect();
    assert_eq!(bits, [("t", 0, 16), ("v", 16, 11), ("n", 27, 4)]);
    // `b` does not fit the 2 bits left: a second word.
    let split = &model.types.structs["Split"];
    assert_eq!(split.size, 12);
    assert_eq!(
        model
            .types
            .bitfield("Split", "b")
            .map(|b| (b.unit.as_str(), b.offset)),
        Some(("cudalens_bits1", 0))
    );
    assert!(!model.types.structs.contains_key("AfterChar"));
    assert!(!model.types.structs.contains_key("Narrow"));
}

/// A union whose anonymous struct carries a macro attribute (the samples'
/// dct8x8 `PackedShorts`: `struct __align__(8) { short hShort1, hShort2; }`
/// beside `unsigned int hInt`): the grammar ends the union at the inner
/// struct and reads `hInt` as a file-scope variable; the region taken up
/// to the brace that closes the union parses whole once expanded.
#[test]
fn a_union_split_at_an_attributed_struct_is_read_whole() {
    let src = "union PackedShorts\n{\n    struct __align__(8)\n    {\n        short hShort1;\n        short hShort2;\n    };\n    unsigned int hInt;\n};\n\
__global__ void k(unsigned int *v) { PackedShorts sh; sh.hInt = v[0]; v[1] = sh.hShort2; }\n";
    let model = model_with(&[("k.cu", src)], "k.cu", CompileFlags::default());
    let union = &model.types.structs["PackedShorts"];
    assert_eq!((union.size, union.align), (8, 8));
    assert!(model.globals.iter().all(|g| g.name != "hInt"));
    let halves: Vec<(&str, u32)> = (model.types.bitfields["PackedShorts"].iter())
        .map(|b| (b.name.as_str(), b.offset))
        .collect();
    assert_eq!(halves, [("hShort1", 0), ("hShort2", 16)]);
    assert!(model.functions.iter().any(|f| f.name == "k"));
}

/// `__host__ __device__ friend ...` (HeCBench gpp's `CustomComplex`): the
/// grammar takes no `friend` after CUDA's attributes; the file parses
/// (no syntax note), the struct is laid out, and the friend is a free
/// function, not a method. A member function only declared in the body
/// is no member of the layout. A class template is kept as written,
/// and its instance is built on demand with its friends.
#[test]
fn friends_after_attributes_and_declared_methods_keep_the_struct() {
    let src = r#"
struct C {
  double x, y;
  void print() const;
  __host__ __device__ friend inline C operator*(const C &a, const C &b) {
    C r; r.x = a.x * b.x - a.y * b.y; r.y = a.x * b.y + a.y * b.x; return r;
  }
};
template <class T>
struct P {
  T a; T b;
  __host__ __device__ friend P<T> swap(const P<T> &p) { P<T> q; q.a = p.b; q.b = p.a; return q; }
};
"#;
    let m = model_with(&[("c.cu", src)], "c.cu", CompileFlags::default());
    assert!(
        m.diagnostics.iter().all(|d| d.code != "syntax"),
        "{:?}",
        m.diagnostics
    );
    let c = &m.types.structs["C"];
    assert_eq!((c.size, c.fields.len()), (16, 2));
    let product = m.function("operator*").expect("a free operator");
    assert_eq!(product.params.len(), 2);
    assert!(m.function("C::operator*").is_none());
    // The template's friend waits for an instance: `T` is no type yet.
    assert!(m.function("swap").is_none());
    assert!(m.class_templates.contains_key("P"));
    let with = m.with_class_instances(&[("P".to_string(), vec!["float".to_string()])]);
    let instance = &with.types.structs["P__float"];
    assert_eq!(instance.size, 8);
    let swap = with.function("swap").expect("the instance's friend");
    assert_eq!(swap.params[0].ty.base, "P");
    assert_eq!(swap.params[0].ty.template_args, vec!["float".to_string()]);
}

/// `#ifdef _GPU_COMPILER_ \n __device__ \n #endif \n inline P create(...)`
/// (HeCBench pad's and sc's `partitioner_create`): the qualifier the branch
/// leaves alone belongs to the function that follows; a declaration in
/// between takes it back.
#[test]
fn qualifiers_in_a_preprocessor_branch_belong_to_the_next_function() {
    let src = r#"
#define GPU
#ifdef GPU
__device__
#endif
inline int twice(int a
#ifndef GPU
  , int b
#endif
) { return a * 2; }
#ifdef GPU
__device__
#endif
int between;
int host_only(int a) { return a; }
"#;
    let m = model_with(&[("p.cu", src)], "p.cu", CompileFlags::default());
    assert_eq!(m.function("twice").expect("twice").exec, ExecSpace::Device);
    assert_eq!(
        m.function("host_only").expect("host_only").exec,
        ExecSpace::Host
    );
}
