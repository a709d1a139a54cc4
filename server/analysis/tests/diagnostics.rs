//! What users see: diagnostics (with fixes) on the corpus and on small kernels
//! for each rule, as insta snapshots plus targeted assertions.

mod common;

use cudalens_analysis::FileAnalysis;
use cudalens_analysis::diagnostic::Severity;

fn render(text: &str, a: &FileAnalysis) -> String {
    let mut out = String::new();
    for d in &a.diagnostics {
        let line = text[..d.span.start].lines().count().max(1);
        let line = if text[..d.span.start].ends_with('\n') {
            line + 1
        } else {
            line
        };
        out.push_str(&format!(
            "{line}: {} [{}] {}\n",
            d.severity.as_str(),
            d.code,
            d.message
        ));
        for r in &d.related {
            out.push_str(&format!(
                "    related: {} `{}`\n",
                r.message,
                r.span.text(text)
            ));
        }
        for f in &d.fixes {
            let edits: Vec<String> = f
                .edits
                .iter()
                .map(|e| format!("`{}` -> `{}`", e.span.text(text), e.new_text))
                .collect();
            out.push_str(&format!(
                "    fix{}: {} [{}]\n",
                if f.safe { " (safe)" } else { "" },
                f.title,
                edits.join(", ")
            ));
        }
    }
    out
}

#[test]
fn corpus_coalescing() {
    let (text, _, a) = common::analyze_file(&common::corpus("memory/coalescing.cu"));
    insta::assert_snapshot!(render(&text, &a));
}

#[test]
fn corpus_shared() {
    let (text, _, a) = common::analyze_file(&common::corpus("memory/shared.cu"));
    insta::assert_snapshot!(render(&text, &a));
}

#[test]
fn corpus_occupancy() {
    let (text, _, a) = common::analyze_file(&common::corpus("occupancy/launches.cu"));
    insta::assert_snapshot!(render(&text, &a));
}

#[test]
fn pad_fix_is_safe_and_removes_the_conflict() {
    let (text, _, a) = common::analyze_file(&common::corpus("memory/shared.cu"));
    let d = a
        .diagnostics
        .iter()
        .find(|d| d.code == "bank-conflict" && d.message.starts_with("32-way"))
        .expect("the naive transpose conflicts");
    let fix = &d.fixes[0];
    assert!(fix.safe, "{fix:?}");
    assert_eq!(fix.edits[0].new_text, " + 1");
    // Apply it and re-analyse: the conflict is gone.
    let mut fixed = text.clone();
    fixed.insert_str(fix.edits[0].span.start, &fix.edits[0].new_text);
    let (_, after) = common::analyze_text(&fixed);
    assert!(
        !after.diagnostics.iter().any(|x| x.code == "bank-conflict"
            && x.message.contains("transpose")
            || x.message.starts_with("32-way")),
        "{:?}",
        after.diagnostics
    );
}

#[test]
fn divergent_barriers_and_early_returns() {
    let src = r#"
__global__ void k(float* a, int n) {
  __shared__ float s[256];
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (threadIdx.x < 128) {
    s[threadIdx.x] = a[i];
    __syncthreads();
  }
  if (i >= n) return;
  __syncthreads();
  a[i] = s[threadIdx.x];
}
__global__ void ok(float* a) {
  __shared__ float s[256];
  for (int k = 0; k < 4; k++) {
    s[threadIdx.x] = a[threadIdx.x + k];
    __syncthreads();
    a[threadIdx.x] = s[255 - threadIdx.x];
    __syncthreads();
  }
  if (blockIdx.x == 0) __syncthreads();
}
void host(float* a) { k<<<4, 256>>>(a, 1024); ok<<<4, 256>>>(a); }
"#;
    let (_, a) = common::analyze_text(src);
    let barrier: Vec<_> = a
        .diagnostics
        .iter()
        .filter(|d| d.code == "barrier-in-divergent-code")
        .collect();
    assert_eq!(barrier.len(), 2, "{barrier:#?}");
    assert!(
        barrier[0]
            .message
            .contains("condition that depends on threadIdx")
    );
    assert!(barrier[1].message.contains("early return"));
    assert!(
        !a.diagnostics
            .iter()
            .any(|d| d.code == "missing-syncthreads"),
        "{:#?}",
        a.diagnostics
    );
}

#[test]
fn missing_syncthreads_between_write_and_read() {
    let src = r#"
#define TILE 16
__global__ void matmul(const float* A, const float* B, float* C, int n) {
  __shared__ float As[TILE][TILE];
  __shared__ float Bs[TILE][TILE];
  int row = blockIdx.y * TILE + threadIdx.y, col = blockIdx.x * TILE + threadIdx.x;
  float acc = 0.0f;
  for (int t = 0; t < n / TILE; ++t) {
    As[threadIdx.y][threadIdx.x] = A[row * n + t * TILE + threadIdx.x];
    Bs[threadIdx.y][threadIdx.x] = B[(t * TILE + threadIdx.y) * n + col];
    __syncthreads();
    for (int k = 0; k < TILE; ++k) acc += As[threadIdx.y][k] * Bs[k][threadIdx.x];
  }
  C[row * n + col] = acc;
}
__global__ void race(float* out) {
  __shared__ float s[256];
  s[threadIdx.x] = threadIdx.x;
  out[threadIdx.x] = s[(threadIdx.x + 1) % 256];
}
void host(float* a) { dim3 b(TILE, TILE); matmul<<<dim3(64, 64), b>>>(a, a, a, 1024); race<<<1, 256>>>(a); }
"#;
    let (_, a) = common::analyze_text(src);
    let races: Vec<_> = a
        .diagnostics
        .iter()
        .filter(|d| d.code == "missing-syncthreads")
        .collect();
    // The tiled matmul lacks the second barrier: the next iteration's writes race
    // with this iteration's reads; `race` reads a neighbour's element unsynchronised.
    assert!(
        races
            .iter()
            .any(|d| d.message.contains("`As`") || d.message.contains("`Bs`")),
        "{races:#?}"
    );
    assert!(
        races.iter().any(|d| d.message.contains("`s`")),
        "{races:#?}"
    );
    // The tile reads themselves are conflict-free broadcasts/rows.
    assert!(
        !a.diagnostics.iter().any(|d| d.code == "bank-conflict"),
        "{:#?}",
        a.diagnostics
    );
}

#[test]
fn templates_device_functions_and_assumed_blocks() {
    let src = r#"
template <int STRIDE>
__global__ void strided(const float* in, float* out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i * STRIDE];
}
__device__ float get(const float* p, int i) { return p[i * 4]; }
__global__ void via_device(const float* in, float* out) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = get(in, i);
}
__global__ void unlaunched(const float* in, float* out, int ny) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i * ny];
}
void host(float* a) { strided<8><<<64, 128>>>(a, a); strided<1><<<64, 128>>>(a, a); via_device<<<64, 128>>>(a, a); }
"#;
    let (_, a) = common::analyze_text(src);
    let msgs: Vec<&str> = a.diagnostics.iter().map(|d| d.message.as_str()).collect();
    // strided<8>: 8 floats apart = 32 sectors; strided<1> is coalesced; both
    // instantiations are analysed and averaged into the same access.
    assert!(
        msgs.iter()
            .any(|m| m.contains("sectors per warp request") && m.contains("8 floats")),
        "{msgs:#?}"
    );
    // An access inside a device function is analysed through the call.
    assert!(
        msgs.iter()
            .any(|m| m.contains("16 sectors") || m.contains("4 floats apart")),
        "{msgs:#?}"
    );
    // A symbolic stride from a parameter, with the block size assumed.
    let un = msgs
        .iter()
        .find(|m| m.contains("ny"))
        .expect("symbolic stride reported");
    assert!(
        un.contains("up to 32 sectors") && un.contains("assumed"),
        "{un}"
    );
}

#[test]
fn cached_analysis_equals_fresh_analysis_after_edits() {
    use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze, analyze_cached};
    use cudalens_syntax::BuildOptions;
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model_cached};
    use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
    let mut text = std::fs::read_to_string(common::corpus("memory/shared.cu")).unwrap();
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let config = AnalysisConfig::default();
    let (mut mcache, mut acache) = (ModelCache::default(), AnalysisCache::default());
    for (from, to) in [
        (
            "unsigned int tid = threadIdx.x;\n  sdata[tid] = in[blockIdx.x * blockDim.x + tid];",
            "unsigned int tid = threadIdx.x;\n  sdata[tid] = in[blockIdx.x * blockDim.x + tid]; // edited",
        ),
        ("#define TILE 32", "#define TILE 16"),
        ("#define TILE 16", "#define TILE 32"),
        (
            "column_16x16<<<BLOCKS, sq>>>(a, b);",
            "column_16x16<<<BLOCKS, sq>>>(a, b);\n  // launch edited",
        ),
        (
            "__global__ void shared_char",
            "// comment above\n__global__ void shared_char",
        ),
    ] {
        text = text.replacen(from, to, 1);
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), &text);
        let model = build_model_cached(&text, tree.as_ref(), &opts, &mut mcache);
        let cached = analyze_cached(&model, &text, &config, &mut acache);
        let fresh = analyze(&model, &text, &config);
        assert_eq!(cached.diagnostics, fresh.diagnostics, "after {from:?}");
        assert_eq!(cached.accesses, fresh.accesses, "after {from:?}");
    }
}

/// A program whose host code fixes its kernel's stride and block sizes, as
/// llm.c's do (`main` sets them and passes them down through `run`).
const HOST_FIXED: &str = r#"__global__ void gather(float* out, const float* in, int stride) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = in[i * stride];
}

void run(float* out, const float* in, int stride, int block_size) {
    gather<<<64, block_size>>>(out, in, stride);
}

int main() {
    int stride = 8;
    int block_sizes[] = {32, 48};
    for (int j = 0; j < 2; j++) {
        int block_size = block_sizes[j];
        run(0, 0, stride, block_size);
    }
    return 0;
}
"#;

/// `text` analysed after `edits` (each `(from, to)`, applied in order) with
/// one model and analysis cache, as the editor does; after each edit the
/// cached analysis is compared with a fresh analysis of a fresh model (a
/// file opened with that text). Returns the diagnostics after each edit.
fn edited_as_in_the_editor(text: &str, edits: &[(&str, &str)]) -> Vec<Vec<String>> {
    use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze, analyze_cached};
    use cudalens_syntax::BuildOptions;
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model_cached};
    use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let config = AnalysisConfig::default();
    let (mut mcache, mut acache) = (ModelCache::default(), AnalysisCache::default());
    let mut text = text.to_string();
    let mut out = Vec::new();
    for (i, (from, to)) in std::iter::once(&("", "")).chain(edits).enumerate() {
        if i > 0 {
            assert!(text.contains(from), "{from:?}");
            text = text.replacen(from, to, 1);
        }
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), &text);
        let model = build_model_cached(&text, tree.as_ref(), &opts, &mut mcache);
        let cached = analyze_cached(&model, &text, &config, &mut acache);
        let (_, opened) = common::analyze_text(&text);
        let fresh = analyze(&model, &text, &config);
        assert_eq!(cached.diagnostics, fresh.diagnostics, "after {from:?}");
        assert_eq!(cached.diagnostics, opened.diagnostics, "after {from:?}");
        assert_eq!(cached.accesses, opened.accesses, "after {from:?}");
        assert_eq!(
            serde_json::to_string(&cached.kernels).unwrap(),
            serde_json::to_string(&opened.kernels).unwrap(),
            "after {from:?}"
        );
        out.push(
            cached
                .diagnostics
                .iter()
                .map(|d| format!("{}: {}", d.code, d.message))
                .collect(),
        );
    }
    out
}

#[test]
fn edits_inside_a_kernel_keep_the_host_values_a_fresh_open_gives() {
    let runs = edited_as_in_the_editor(
        HOST_FIXED,
        &[
            // Inside the kernel body: the host values are reused.
            (
                "out[i] = in[i * stride];",
                "out[i] = in[i * stride] + 1.0f;",
            ),
            // Lines added in the kernel move the host functions down.
            (
                "int i = blockIdx.x * blockDim.x + threadIdx.x;",
                "int i = blockIdx.x * blockDim.x + threadIdx.x;\n    // a note\n    float unused = 0.0f;",
            ),
            ("+ 1.0f;", ";"),
        ],
    );
    let strided = |d: &Vec<String>| {
        d.iter()
            .any(|m| m.starts_with("uncoalesced-access") && m.contains("8 floats"))
    };
    let odd_block = |d: &Vec<String>| {
        d.iter()
            .any(|m| m.starts_with("block-size-not-multiple-of-32") && m.contains("48"))
    };
    for d in &runs {
        // `stride` = 8 and the block of 48 threads come from main.
        assert!(strided(d) && odd_block(d), "{d:#?}");
    }
    assert!(runs.windows(2).all(|w| w[0] == w[1]), "{runs:#?}");
}

#[test]
fn an_edit_of_a_host_value_changes_the_findings() {
    let runs = edited_as_in_the_editor(
        HOST_FIXED,
        &[
            ("int stride = 8;", "int stride = 1;"),
            ("{32, 48}", "{32, 64}"),
            ("int stride = 1;", "int stride = 8;"),
        ],
    );
    let strided = |d: &Vec<String>| {
        d.iter()
            .any(|m| m.starts_with("uncoalesced-access") && m.contains("8 floats"))
    };
    let odd_block = |d: &Vec<String>| {
        d.iter()
            .any(|m| m.starts_with("block-size-not-multiple-of-32"))
    };
    let seen: Vec<(bool, bool)> = runs.iter().map(|d| (strided(d), odd_block(d))).collect();
    assert_eq!(
        seen,
        [(true, true), (false, true), (false, false), (true, false)],
        "{runs:#?}"
    );
}

/// A one-line host helper defined in a header gives the launch its block;
/// editing only the header changes the block in the document's cached
/// analysis, as in a fresh one (the host values' cache hashes the header's
/// functions of the names a resolution looked up, not only the file's).
#[test]
fn an_edit_of_a_helper_in_a_header_changes_the_cached_host_values() {
    use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze, analyze_cached};
    use cudalens_syntax::BuildOptions;
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model_cached};
    use cudalens_syntax::preprocess::include::CompileFlags;
    use std::collections::HashMap;
    use std::path::PathBuf;
    let text = "#include \"sizes.h\"\n\
                __global__ void k(float* p) { p[blockIdx.x * blockDim.x + threadIdx.x] = 0.0f; }\n\
                void host(float* p) { k<<<4, threads_for(192)>>>(p); }\n";
    let main = PathBuf::from("/virtual/main.cu");
    let config = AnalysisConfig::default();
    let (mut mcache, mut acache) = (ModelCache::default(), AnalysisCache::default());
    let mut blocks = Vec::new();
    for divisor in [4, 6] {
        let mut files = HashMap::new();
        files.insert(
            PathBuf::from("/virtual/sizes.h"),
            format!("static int threads_for(int n) {{ return n / {divisor}; }}\n"),
        );
        let opts = BuildOptions {
            path: Some(&main),
            flags: CompileFlags::default(),
            provider: &files,
            max_include_depth: 16,
            deadline: None,
        };
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), text);
        let model = build_model_cached(text, tree.as_ref(), &opts, &mut mcache);
        let cached = analyze_cached(&model, text, &config, &mut acache);
        let fresh = analyze(&model, text, &config);
        assert_eq!(
            serde_json::to_string(&cached.kernels).unwrap(),
            serde_json::to_string(&fresh.kernels).unwrap(),
            "n / {divisor}"
        );
        blocks.push(cached.kernels[0].launches[0].block);
    }
    assert_eq!(blocks, [[48, 1, 1], [32, 1, 1]]);
}

#[test]
fn cached_results_inside_device_functions_move_with_them() {
    use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze, analyze_cached};
    use cudalens_syntax::BuildOptions;
    use cudalens_syntax::document::cuda_parser;
    use cudalens_syntax::model::{ModelCache, build_model_cached};
    use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
    let mut text = String::from(
        "__device__ float get(const float* p, int i) { return p[i * 8]; }\n\
         __global__ void k(const float* in, float* out) {\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  out[i] = get(in, i);\n}\n\
         void host(float* a) { k<<<64, 128>>>(a, a); }\n",
    );
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let config = AnalysisConfig::default();
    let (mut mcache, mut acache) = (ModelCache::default(), AnalysisCache::default());
    for edit in ["// above everything\n", "// again\n"] {
        text.insert_str(0, edit);
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut cuda_parser(), &text);
        let model = build_model_cached(&text, tree.as_ref(), &opts, &mut mcache);
        let cached = analyze_cached(&model, &text, &config, &mut acache);
        let fresh = analyze(&model, &text, &config);
        assert_eq!(cached.diagnostics, fresh.diagnostics);
        let d = cached
            .diagnostics
            .iter()
            .find(|d| d.code == "uncoalesced-access")
            .expect("reported in get()");
        assert_eq!(d.span.text(&text), "p[i * 8]");
    }
}

#[test]
fn deeply_nested_code_is_analysed_on_a_small_stack() {
    // The server analyses on blocking threads with 2 MiB stacks.
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            for src in [
                format!("__global__ void k(int* p){{ p[threadIdx.x] = {}1{}; }}\nvoid h(int* p) {{ k<<<1, 64>>>(p); }}", "(".repeat(5_000), ")".repeat(5_000)),
                format!("__global__ void k(int* p){{ {} p[threadIdx.x * 2] = 1; {} }}\nvoid h(int* p) {{ k<<<1, 64>>>(p); }}", "{".repeat(5_000), "}".repeat(5_000)),
                format!("__global__ void k(int* p){{ {}1; }}\nvoid h(int* p) {{ k<<<1, 64>>>(p); }}", "p[threadIdx.x] += ".repeat(5_000)),
            ] {
                let (_, a) = common::analyze_text(&src);
                assert!(a.diagnostics.iter().any(|d| d.message.contains("nested more than")));
            }
        })
        .expect("thread")
        .join()
        .expect("no stack overflow or panic");
}

#[test]
fn deeply_nested_loops_cost_work_linear_in_their_depth() {
    // Two walks that doubled with each level of nesting: the barrier lint
    // walked each loop three times plus once to report (4^depth), and the
    // memory interpreter, abandoning the unrolling of a costly loop, gave
    // its steps back and met the loops inside again (2^depth). ggml's
    // fattn kernels nest 5 loops; 20 took minutes. Both findings of the
    // innermost body are still made.
    let depth = 20;
    let mut body = String::new();
    for d in 0..depth {
        body.push_str(&format!(
            "for (int i{d} = 0; i{d} < 2; ++i{d}) {{ acc += i{d}; "
        ));
    }
    body.push_str("if (threadIdx.x < 16) { __syncthreads(); } p[threadIdx.x * 2] = acc; ");
    body.push_str(&"}".repeat(depth));
    let src = format!(
        "__global__ void k(int* p) {{ int acc = threadIdx.x; {body} }}\nvoid h(int* p) {{ k<<<1, 64>>>(p); }}"
    );
    let (_, a) = common::analyze_text(&src);
    let found = |code: &str| -> Vec<&str> {
        a.diagnostics
            .iter()
            .filter(|d| d.code == code)
            .map(|d| d.span.text(&src))
            .collect()
    };
    assert_eq!(found("barrier-in-divergent-code"), ["__syncthreads()"]);
    assert_eq!(found("uncoalesced-access"), ["p[threadIdx.x * 2]"]);
}

#[test]
fn constant_launch_arguments_bind_scalar_parameters() {
    let src = r#"
__global__ void strided(const float* in, float* out, int stride) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i * stride];
}
#define STRIDE 2
void host(float* a, int runtime) {
  strided<<<64, 128>>>(a, a, STRIDE);
}
__global__ void strided_rt(const float* in, float* out, int stride) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = in[i * stride];
}
void host2(float* a, int runtime) { strided_rt<<<64, 128>>>(a, a, runtime); }
"#;
    let (_, a) = common::analyze_text(src);
    let msgs: Vec<&str> = a.diagnostics.iter().map(|d| d.message.as_str()).collect();
    // STRIDE resolves through the macro: exactly 8 sectors (2 floats apart).
    assert!(
        msgs.iter()
            .any(|m| m.contains(": 8 sectors per warp request") && m.contains("2 floats apart")),
        "{msgs:#?}"
    );
    // A runtime value stays symbolic: reported as an upper bound with its name.
    assert!(
        msgs.iter()
            .any(|m| m.contains("up to 32 sectors") && m.contains("stride")),
        "{msgs:#?}"
    );
}

// ---- the pure-map loop fix (thread-contiguous layout) ----------------------

/// The issue's example: each thread walks its own chunk of `per_thread` elements.
const SCALE_CHUNKS: &str = r#"__global__ void scale_chunks(const float* in, float* out, int per_thread) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  for (int k = 0; k < per_thread; ++k)
    out[t * per_thread + k] = 2.0f * in[t * per_thread + k];
}
void host(const float* in, float* out, int per_thread) {
  scale_chunks<<<64, 256>>>(in, out, per_thread);
}
"#;

/// The pure-map fixes offered on `src`'s uncoalesced accesses.
fn pure_map_fixes(src: &str) -> Vec<cudalens_analysis::Fix> {
    let (_, a) = common::analyze_text(src);
    a.diagnostics
        .iter()
        .filter(|d| d.code == "uncoalesced-access")
        .flat_map(|d| d.fixes.iter())
        .filter(|f| f.title.starts_with("Interleave the"))
        .cloned()
        .collect()
}

/// `src` with `fix`'s edits applied.
fn apply(src: &str, fix: &cudalens_analysis::Fix) -> String {
    let mut edits = fix.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = src.to_string();
    for e in edits {
        out.replace_range(e.span.start..e.span.end, &e.new_text);
    }
    out
}

/// Every uncoalesced access of `src` carries the fix; returns it (they are all
/// the same fix: one edit per index expression of the loop).
fn the_pure_map_fix(src: &str) -> cudalens_analysis::Fix {
    let (_, a) = common::analyze_text(src);
    let uncoalesced: Vec<_> = a
        .diagnostics
        .iter()
        .filter(|d| d.code == "uncoalesced-access")
        .collect();
    assert!(!uncoalesced.is_empty(), "{:#?}", a.diagnostics);
    let fixes = pure_map_fixes(src);
    assert_eq!(fixes.len(), uncoalesced.len(), "{uncoalesced:#?}");
    assert!(fixes.iter().all(|f| *f == fixes[0]));
    fixes[0].clone()
}

/// After the fix: re-analysed from the edited text, nothing is uncoalesced.
fn assert_coalesced_after(src: &str, fix: &cudalens_analysis::Fix) -> String {
    let fixed = apply(src, fix);
    let (_, after) = common::analyze_text(&fixed);
    assert!(
        !after
            .diagnostics
            .iter()
            .any(|d| d.code == "uncoalesced-access"),
        "{fixed}\n{:#?}",
        after.diagnostics
    );
    let loads: Vec<_> = after
        .accesses
        .iter()
        .filter(|a| a.space == cudalens_analysis::MemorySpace::Global)
        .collect();
    assert!(!loads.is_empty());
    for a in loads {
        assert_eq!(a.sectors_per_request, Some(4.0), "{a:?}");
    }
    fixed
}

#[test]
fn pure_map_fix_interleaves_a_chunked_loop() {
    let fix = the_pure_map_fix(SCALE_CHUNKS);
    assert!(!fix.safe, "a suggestion, never applied on save");
    assert_eq!(
        fix.title,
        "Interleave the `k` loop across threads: index `t * per_thread + k` → `k * (gridDim.x * blockDim.x) + t` (up to 32 → 4 sectors per request)"
    );
    assert!(
        fix.explanation
            .contains("every thread of the grid (gridDim.x * blockDim.x) runs the loop")
            && fix
                .explanation
                .contains("each element's result depends only on that element")
            && fix
                .explanation
                .contains("`in` and `out` do not overlap except at identical indices"),
        "{}",
        fix.explanation
    );
    let fixed = assert_coalesced_after(SCALE_CHUNKS, &fix);
    assert_eq!(
        fixed,
        SCALE_CHUNKS.replace(
            "out[t * per_thread + k] = 2.0f * in[t * per_thread + k];",
            "out[k * (gridDim.x * blockDim.x) + t] = 2.0f * in[k * (gridDim.x * blockDim.x) + t];"
        )
    );
}

#[test]
fn pure_map_fix_rewrites_an_index_local_and_other_operand_orders() {
    let src = r#"#define CHUNK 8
__global__ void axpb(const float* x, float* y, float a, float b) {
  const int gid = threadIdx.x + blockDim.x * blockIdx.x;
  for (int j = 0; j < CHUNK; j++) {
    int idx = j + CHUNK * gid;
    float v = x[idx];
    y[idx] = fmaxf(a * v + b, 0.0f);
  }
}
void host(const float* x, float* y) { axpb<<<128, 128>>>(x, y, 2.0f, 1.0f); }
"#;
    let fix = the_pure_map_fix(src);
    assert_eq!(fix.edits.len(), 1, "the local's initialiser only: {fix:?}");
    assert!(
        fix.title.contains("(32 → 4 sectors per request)"),
        "{}",
        fix.title
    );
    assert!(
        fix.explanation.contains("`x` and `y` do not overlap"),
        "{}",
        fix.explanation
    );
    let fixed = assert_coalesced_after(src, &fix);
    assert_eq!(
        fixed,
        src.replace(
            "int idx = j + CHUNK * gid;",
            "int idx = j * (gridDim.x * blockDim.x) + gid;"
        )
    );

    // The id written inline, `K*t + k`, a compound store to the same element.
    let src = r#"__global__ void bump(float* data, int n_per) {
  for (int k = 0; k < n_per; k += 1)
    data[n_per * (blockIdx.x * blockDim.x + threadIdx.x) + k] += 1.0f;
}
void host(float* d, int n) { bump<<<32, 256>>>(d, n); }
"#;
    let fix = the_pure_map_fix(src);
    let fixed = assert_coalesced_after(src, &fix);
    assert!(
        fixed.contains(
            "data[k * (gridDim.x * blockDim.x) + (blockIdx.x * blockDim.x + threadIdx.x)] += 1.0f;"
        ),
        "{fixed}"
    );
    assert!(
        fix.explanation
            .contains("`data` is not also reached through another pointer"),
        "{}",
        fix.explanation
    );
}

#[test]
fn pure_map_fix_is_not_offered_when_the_loop_is_not_a_pure_map() {
    let kernel = |body: &str, before: &str, block: &str| {
        format!(
            "__global__ void k(const float* in, float* out, int K, int n) {{\n  int t = blockIdx.x * blockDim.x + threadIdx.x;\n  __shared__ float s[256];\n  float sum = 0.0f;\n{before}  for (int k = 0; k < K; ++k) {{\n{body}\n  }}\n}}\nvoid host(const float* i, float* o, int K) {{ k<<<64, {block}>>>(i, o, K, 1 << 20); }}\n"
        )
    };
    let map = "    out[t * K + k] = 2.0f * in[t * K + k];";
    // Sanity: the plain form is offered.
    assert_eq!(pure_map_fixes(&kernel(map, "", "256")).len(), 2);
    let cases = [
        (
            "an accumulator carried across iterations",
            kernel("    sum += in[t * K + k];", "", "256"),
        ),
        (
            "an accumulator declared outside the body",
            kernel(
                "    sum = in[t * K + k];\n    out[t * K + k] = sum;",
                "",
                "256",
            ),
        ),
        (
            "a guard that only some threads pass",
            "__global__ void k(const float* in, float* out, int K, int n) {\n  int t = blockIdx.x * blockDim.x + threadIdx.x;\n  if (t < n) {\n    for (int k = 0; k < K; ++k)\n      out[t * K + k] = 2.0f * in[t * K + k];\n  }\n}\nvoid host(const float* i, float* o, int K) { k<<<64, 256>>>(i, o, K, 1 << 20); }\n"
                .to_string(),
        ),
        (
            "an early return before the loop",
            kernel(map, "  if (t >= n) return;\n", "256"),
        ),
        (
            "a barrier",
            kernel(&format!("{map}\n    __syncthreads();"), "", "256"),
        ),
        (
            "a shared-memory access",
            kernel(
                "    s[threadIdx.x] = in[t * K + k];\n    out[t * K + k] = s[threadIdx.x];",
                "",
                "256",
            ),
        ),
        (
            "a second access with a different index",
            kernel(
                "    out[t * K + k] = in[t * K + k] + in[t * K + k + 1];",
                "",
                "256",
            ),
        ),
        (
            "an array also used outside the loop",
            kernel(map, "  out[t] = 0.0f;\n", "256"),
        ),
        (
            "the counter used outside the index",
            kernel("    out[t * K + k] = in[t * K + k] * k;", "", "256"),
        ),
        ("a 2D block", kernel(map, "", "dim3(32, 8)")),
        (
            "threadIdx.y",
            kernel(
                &format!("{map}\n    out[t * K + k] += threadIdx.y;"),
                "",
                "256",
            ),
        ),
        (
            "an atomic",
            kernel("    atomicAdd(&out[t * K + k], in[t * K + k]);", "", "256"),
        ),
        (
            "a warp shuffle",
            kernel(
                "    out[t * K + k] = __shfl_down_sync(0xffffffffu, in[t * K + k], 1);",
                "",
                "256",
            ),
        ),
        (
            "a break",
            kernel(
                &format!("{map}\n    if (in[t * K + k] < 0.0f) break;"),
                "",
                "256",
            ),
        ),
        (
            "a bound that is not the stride",
            kernel("    out[t * n + k] = 2.0f * in[t * n + k];", "", "256"),
        ),
    ];
    for (what, src) in cases {
        let (_, a) = common::analyze_text(&src);
        assert!(
            a.diagnostics.iter().any(|d| d.code == "uncoalesced-access"),
            "{what}: the access is still reported\n{src}\n{:#?}",
            a.diagnostics
        );
        assert!(
            pure_map_fixes(&src).is_empty(),
            "{what}: offered\n{src}\n{:#?}",
            pure_map_fixes(&src)
        );
    }
}

/// Row-major accesses through a runtime pitch (`in[y * width + x]`) are
/// coalesced whenever rows are 32-byte aligned, as they are in practice and
/// in what ncu measures: no diagnostic. A real misalignment on top of the
/// pitch (`+ 1`) still is one, and the message says what was assumed.
#[test]
fn runtime_row_pitch_counts_as_aligned() {
    let src = r#"
__global__ void rows(float* out, const float* in, int width) {
  int x = blockIdx.x * 32 + threadIdx.x;
  int y = blockIdx.y * 8 + threadIdx.y;
  out[y * width + x] = in[y * width + x];
}
__global__ void shifted(float* out, const float* in, int width) {
  int x = blockIdx.x * 32 + threadIdx.x;
  int y = blockIdx.y * 8 + threadIdx.y;
  out[y * width + x] = in[y * width + x + 1];
}
void launch(float* a, float* b, int w) {
  rows<<<dim3(w / 32, w / 8), dim3(32, 8)>>>(a, b, w);
  shifted<<<dim3(w / 32, w / 8), dim3(32, 8)>>>(a, b, w);
}
"#;
    let (_, a) = common::analyze_text(src);
    let sectors = |kernel: &str, kind: &str| {
        a.accesses
            .iter()
            .find(|r| &*r.kernel == kernel && format!("{:?}", r.kind) == kind)
            .and_then(|r| r.sectors_per_request)
    };
    assert_eq!(sectors("rows", "Load"), Some(4.0));
    assert_eq!(sectors("rows", "Store"), Some(4.0));
    assert_eq!(sectors("shifted", "Load"), Some(5.0));
    let uncoalesced: Vec<_> = a
        .diagnostics
        .iter()
        .filter(|d| d.code == "uncoalesced-access")
        .collect();
    assert_eq!(uncoalesced.len(), 1, "{uncoalesced:#?}");
    let message = &uncoalesced[0].message;
    assert!(
        message.contains("5 sectors per warp request (ideal 4)"),
        "{message}"
    );
    assert!(
        message.contains("4 bytes into a 32-byte sector"),
        "{message}"
    );
}

/// Kernels analysed on several threads give exactly what one thread gives.
#[test]
fn parallel_analysis_equals_sequential() {
    use cudalens_analysis::{AnalysisConfig, analyze};
    for file in [
        "memory/shared.cu",
        "memory/coalescing.cu",
        "memory/pitch.cu",
        "occupancy/launches.cu",
    ] {
        let (text, model, _) = common::analyze_file(&common::corpus(file));
        let one = analyze(&model, &text, &AnalysisConfig::default());
        let four = analyze(
            &model,
            &text,
            &AnalysisConfig {
                threads: 4,
                ..AnalysisConfig::default()
            },
        );
        assert!(!one.kernels.is_empty());
        assert_eq!(
            serde_json::to_string(&one).unwrap(),
            serde_json::to_string(&four).unwrap(),
            "{file}"
        );
    }
}

/// llm.c's `layernorm_backward_kernel8` launched with 1024 threads (llm.c
/// f1e2ace6, dev/cuda/layernorm_backward.cu:1350) was an *error* ("too
/// many resources requested") built on an estimated 81 registers. A limit
/// crossed only by an estimate is a warning that says so; a kernel whose
/// `__launch_bounds__(1024)` makes nvcc cap it at 64 registers gets none;
/// a hard limit (2048 threads) stays an error.
#[test]
fn register_limits_from_estimates_are_warnings() {
    // A kernel whose whole estimated range (about 138-255 registers: 150
    // loops of two calls, 60 `double` locals) is past the 64 that 1024
    // threads leave.
    let locals: String = (0..150)
        .map(|i| format!("  for (int j{i} = 0; j{i} < n; ++j{i}) x[j{i}] += __expf(y[j{i}]) * sinf(z[j{i}]);\n"))
        .chain((0..60).map(|i| format!("  double d{i} = y[{i}]; z[{i}] = (float)d{i};\n")))
        .collect();
    let kernel = |name: &str, bounds: &str| {
        format!(
            "__global__ void {bounds} {name}(float* x, float* y, float* z, int n) {{\n{locals}}}\n"
        )
    };
    let text = format!(
        "{}{}{}void host(float* x) {{\n  plain<<<132, 1024>>>(x, x, x, 1);\n  bounded<<<132, 1024>>>(x, x, x, 1);\n  wide<<<132, 2048>>>(x, x, x, 1);\n}}\n",
        kernel("plain", ""),
        kernel("bounded", "__launch_bounds__(1024)"),
        kernel("wide", ""),
    );
    let (_, analysis) = common::analyze_text(&text);
    let limits: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == "launch-exceeds-limit")
        .map(|d| {
            (
                d.span.text(&text).to_string(),
                d.severity,
                d.message.clone(),
            )
        })
        .collect();
    assert_eq!(limits.len(), 2, "{limits:#?}");
    let plain = &limits[0];
    assert_eq!(plain.1, Severity::Warning, "{plain:?}");
    assert!(
        plain.2.contains("may not run") && plain.2.contains("registers estimated"),
        "{plain:?}"
    );
    let wide = &limits[1];
    assert_eq!(wide.1, Severity::Error, "{wide:?}");
    assert!(wide.2.contains("2048 threads"), "{wide:?}");
}

/// llm.c f1e2ace6 dev/cuda/attention_backward.cu:347 (`att_bth[t2]`, with
/// `att_bth` a row pointer moved by the thread's `t`): adjacent threads are
/// a row apart, but the message named the inner counter, "through t2 = 0",
/// and "t2 = 0 varies with threadIdx". The counter starts at 0 for every
/// thread; only a variable whose initial value varies is named.
#[test]
fn a_counter_starting_at_zero_is_not_named_as_what_varies() {
    let text = "__global__ void k(float* out, const float* att, int T) {
  int t3 = blockIdx.x * blockDim.x + threadIdx.x;
  for (int t = t3; t < T; t++) {
    const float* row = att + t * T;
    float acc = 0.0f;
    for (int t2 = 0; t2 <= t; t2++) acc += row[t2];
    out[t * T + t3] = acc;
  }
}
";
    let (_, analysis) = common::analyze_text(text);
    let uncoalesced: Vec<_> = analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == "uncoalesced-access")
        .collect();
    let row = uncoalesced
        .iter()
        .find(|d| d.span.text(text) == "row[t2]")
        .unwrap_or_else(|| panic!("row[t2] is a row apart per thread: {uncoalesced:#?}"));
    assert!(
        row.message.contains("adjacent threads are T floats apart"),
        "{}",
        row.message
    );
    for d in &uncoalesced {
        let related: Vec<&str> = d.related.iter().map(|r| r.message.as_str()).collect();
        assert!(
            !d.message.contains("t2 = 0") && related.iter().all(|r| !r.contains("t2 = 0")),
            "{} {related:?}",
            d.message
        );
    }
    // The store's index does start from the thread: it is still named.
    let store = uncoalesced
        .iter()
        .find(|d| d.span.text(text) == "out[t * T + t3]")
        .expect("the store is a row apart per thread too");
    assert!(
        store.message.contains("(through t = t3)"),
        "{}",
        store.message
    );
}
