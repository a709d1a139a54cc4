//! The editor's builds leave out the header function bodies a file never
//! reaches (`model/header_bodies.rs`): the file's model must be the one a
//! whole parse gives, what it reaches must keep its body, and an edit that
//! comes to name a left-out function must bring its body back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cudalens_syntax::ir::StmtKind;
use cudalens_syntax::model::headers::HeaderStore;
use cudalens_syntax::model::{Function, ModelCache, build_model_cached};
use cudalens_syntax::{BuildOptions, FileModel, SyntaxTrees, document::cuda_parser};

const HEADER: &str = r#"#pragma once
#define SCALE(x) scaled(x)
#define LAUNCH_NAMED(n) n##_kernel<<<1, 32>>>
__device__ float leaf(float x) { return x * 2.0f; }
__device__ float helper(float x) { return leaf(x) + 1.0f; }
__device__ float scaled(float x) { return x * 3.0f; }
__device__ float unused_helper(float x) { return x - 1.0f; }
template <typename T> __device__ T twice(T x) { return x + x; }
struct Acc {
    __device__ float add(float x) { return from_member(x); }
};
__device__ float from_member(float x) { return x; }
__global__ void scale_kernel(float* p) { p[threadIdx.x] = twice(p[threadIdx.x]); }
__global__ void unused_entry(float* p) {
    __shared__ float tile[32];
    tile[threadIdx.x] = unused_helper(p[threadIdx.x]);
    __syncthreads();
    p[threadIdx.x] = tile[31 - threadIdx.x];
}
"#;

const MAIN: &str = r#"#include "lib.cuh"
__global__ void k(float* p) {
    Acc acc;
    p[threadIdx.x] = helper(p[threadIdx.x]) + SCALE(p[0]) + acc.add(1.0f);
}
void host(float* p) {
    k<<<1, 32>>>(p);
    LAUNCH_NAMED(scale)(p);
}
"#;

fn files(main: &str) -> HashMap<PathBuf, String> {
    HashMap::from([
        (PathBuf::from("/p/lib.cuh"), HEADER.to_string()),
        (PathBuf::from("/p/main.cu"), main.to_string()),
    ])
}

fn build(main: &str, cache: &mut ModelCache) -> FileModel {
    build_among(files(main), main, cache)
}

/// The model of `/p/main.cu`, whose text is `main`, among `files`.
fn build_among(files: HashMap<PathBuf, String>, main: &str, cache: &mut ModelCache) -> FileModel {
    let opts = BuildOptions {
        path: Some(Path::new("/p/main.cu")),
        provider: &files,
        ..BuildOptions::default()
    };
    let trees = SyntaxTrees::parse_whole(&mut cuda_parser(), main);
    build_model_cached(main, trees.as_ref(), &opts, cache)
}

fn function<'m>(model: &'m FileModel, name: &str) -> &'m Arc<Function> {
    model
        .functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("{name} modelled"))
}

#[test]
fn a_file_reaches_the_same_model_with_unreached_header_bodies_left_out() {
    let whole = build(MAIN, &mut ModelCache::sharing(HeaderStore::new()));
    let planned = build(MAIN, &mut ModelCache::sharing(HeaderStore::for_editor()));
    // Everything the file reaches, directly, through a macro, a struct
    // member, a template or token pasting, is lowered as a whole parse
    // lowers it (a `_kernel` that `##` could build is kept too).
    for name in [
        "k",
        "host",
        "helper",
        "leaf",
        "scaled",
        "twice",
        "from_member",
        "scale_kernel",
    ] {
        let f = function(&planned, name);
        assert!(f.body.is_some(), "{name} keeps its body");
        assert_eq!(f, function(&whole, name), "{name}");
    }
    assert_eq!(planned.launches, whole.launches);
    assert_eq!(planned.diagnostics, whole.diagnostics);
    // What it never reaches is a declaration.
    for name in ["unused_entry", "unused_helper"] {
        assert!(function(&planned, name).body.is_none(), "{name} left out");
        assert!(function(&whole, name).body.is_some());
    }
}

#[test]
fn an_edit_that_names_a_left_out_function_brings_its_body_back() {
    let mut cache = ModelCache::sharing(HeaderStore::for_editor());
    let first = build(MAIN, &mut cache);
    assert!(function(&first, "unused_entry").body.is_none());
    // Below the include: the preamble would be reused, but the plan no
    // longer holds.
    let edited = format!("{MAIN}void more(float* p) {{ unused_entry<<<1, 32>>>(p); }}\n");
    let second = build(&edited, &mut cache);
    let whole = build(&edited, &mut ModelCache::sharing(HeaderStore::new()));
    for name in ["unused_entry", "unused_helper", "k"] {
        assert!(
            function(&second, name).body.is_some(),
            "{name} parsed again"
        );
        assert_eq!(function(&second, name), function(&whole, name), "{name}");
    }
}

/// A header as ggml writes its own: `extern "C"` opened under `#ifdef
/// __cplusplus`, macros before declarations and a definition (which the
/// grammar cannot parse, so those items are read from their preprocessed
/// text), and a lookup table between the macros that open and close it.
fn c_api_header() -> String {
    let values: Vec<String> = (0..400).map(|i| (i * 7 % 256).to_string()).collect();
    format!(
        "#pragma once\n\
         #ifdef __cplusplus\nextern \"C\" {{\n#endif\n\
         #define API\n\
         #define DEVICE static __device__\n\
         #define TABLE_BEGIN(t, n, s) static const __device__ t n[s] = {{\n\
         #define TABLE_END() }};\n\
         API int api_used(int x);\n\
         API int api_unused(struct context * ctx, int x);\n\
         TABLE_BEGIN(int, lut, 400)\n{},\nTABLE_END()\n\
         static __device__ int from_table(int i) {{ return lut[i & 255] + api_used(i); }}\n\
         DEVICE int unreached_body(int i) {{ return lut[i] * 2; }}\n\
         #ifdef __cplusplus\n}}\n#endif\n",
        values.join(", ")
    )
}

const C_API_MAIN: &str = r#"#include "api.h"
__global__ void k(int* p) { p[threadIdx.x] = from_table(p[threadIdx.x]); }
"#;

fn build_c_api(cache: &mut ModelCache) -> FileModel {
    let files = HashMap::from([
        (PathBuf::from("/p/api.h"), c_api_header()),
        (PathBuf::from("/p/main.cu"), C_API_MAIN.to_string()),
    ]);
    build_among(files, C_API_MAIN, cache)
}

#[test]
fn declarations_and_table_values_the_file_never_reaches_are_left_out_too() {
    // The path this test is about: items that do not parse as written.
    let header = c_api_header();
    let tree = cuda_parser().parse(&header, None).expect("parsed");
    assert!(tree.root_node().has_error());

    let whole = build_c_api(&mut ModelCache::sharing(HeaderStore::new()));
    let mut cache = ModelCache::sharing(HeaderStore::for_editor());
    let planned = build_c_api(&mut cache);
    // The table's values and the unreached declaration are not parsed.
    let (_, bytes) = cache.header_bodies_left_out();
    assert!(bytes > 1500, "left out {bytes} bytes");
    // (A declaration read from preprocessed text is fingerprinted by that
    // text, which differs by what was left out.)
    let unprinted = |f: &Arc<Function>| Function {
        fingerprint: 0,
        ..(**f).clone()
    };
    for name in ["k", "api_used"] {
        assert_eq!(
            unprinted(function(&planned, name)),
            unprinted(function(&whole, name)),
            "{name}"
        );
    }
    // What the analyses read of `from_table` is the same. (Its span is
    // not: the whole parse groups the table's broken region with the
    // function and leaves its closing brace out; without the values the
    // grouping ends at the brace.)
    let (p, w) = (
        function(&planned, "from_table"),
        function(&whole, "from_table"),
    );
    let statements = |f: &Function| match f.body.as_ref().map(|b| &b.kind) {
        Some(StmtKind::Block(stmts)) => stmts.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(statements(p), statements(w));
    assert_eq!(
        (&p.params, p.exec, p.name_span),
        (&w.params, w.exec, w.name_span)
    );
    assert_eq!(
        &header[p.span.start..p.span.end],
        "static __device__ int from_table(int i) { return lut[i & 255] + api_used(i); }"
    );
    assert!(function(&whole, "unreached_body").body.is_some());
    assert!(function(&planned, "unreached_body").body.is_none());
    assert!(planned.functions.iter().all(|f| f.name != "api_unused"));
    assert!(whole.functions.iter().any(|f| f.name == "api_unused"));
    // The table is declared either way (its type, size and memory space
    // are what the diagnostics read); only the editor's build skips its values.
    let lut = |m: &FileModel| {
        let g = m
            .globals
            .iter()
            .find(|g| g.name == "lut")
            .expect("lut declared");
        (g.ty.clone(), g.dims.clone(), g.span)
    };
    assert_eq!(lut(&planned), lut(&whole));
    assert_eq!(planned.diagnostics, whole.diagnostics);
}
