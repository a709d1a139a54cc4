//! `cudalens transpile`'s front door, as a project's build lays it out: an
//! angle-bracket include found through `-I` or `compile_commands.json`,
//! macros from `-D`, directories, kernels of included files compiled in
//! their includer's context, `--format json` and `--instantiate`. The
//! layout is PolyBench-ACC's (a kernel using a helper header's macros,
//! `#include <bench_util.h>`), with kernels written here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn cudalens(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cudalens")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(o: &Output) -> Vec<Value> {
    serde_json::from_slice::<Value>(&o.stdout)
        .unwrap_or_else(|e| panic!("json: {e}: {}", String::from_utf8_lossy(&o.stdout)))
        .as_array()
        .expect("an array of records")
        .clone()
}

/// `utilities/bench_util.h` holds loop-bound macros; `kernels/atax/atax.cu`
/// includes it with angle brackets and needs `-DNX=...` or its default.
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    std::fs::create_dir_all(root.join("utilities")).unwrap();
    std::fs::create_dir_all(root.join("kernels/atax")).unwrap();
    std::fs::write(
        root.join("utilities/bench_util.h"),
        "#pragma once\n#define LOOP_BOUND(x, y) (x)\n#define PB_NX LOOP_BOUND(NX, nx)\n#define DATA_TYPE float\n",
    )
    .unwrap();
    std::fs::write(
        root.join("kernels/atax/atax.cu"),
        r#"#include <stdio.h>
#include <bench_util.h>
#ifndef NX
#define NX 4096
#endif
__global__ void row_sums(DATA_TYPE* a, DATA_TYPE* out, int nx) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < PB_NX) {
        DATA_TYPE s = 0;
        for (int j = 0; j < PB_NX; j++) s += a[i * NX + j];
        out[i] = s;
    }
}
"#,
    )
    .unwrap();
    (dir, root)
}

#[test]
fn angle_includes_need_their_directory_as_the_build_gives_it() {
    let (_dir, root) = project();
    let kernel_dir = root.join("kernels/atax");
    // As shipped, without the build's -I: the header's macros are unknown.
    let bare = cudalens(&["transpile", "atax.cu", "--check"], &kernel_dir);
    assert_eq!(bare.status.code(), Some(1), "{}", stderr(&bare));
    assert!(stderr(&bare).contains("DATA_TYPE"), "{}", stderr(&bare));
    assert!(
        stderr(&bare)
            .contains("`#include <bench_util.h>` was not found: give its directory with -I"),
        "{}",
        stderr(&bare)
    );

    // With -I as the Makefile passes it.
    let with_i = cudalens(
        &[
            "transpile",
            "atax.cu",
            "-I",
            "../../utilities",
            "--check",
            "--format",
            "json",
        ],
        &kernel_dir,
    );
    assert_eq!(with_i.status.code(), Some(0), "{}", stderr(&with_i));
    let records = json(&with_i);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["kernel"], "row_sums");
    assert_eq!(records[0]["ok"], true);
    assert_eq!(records[0]["line"], 6);

    // Through compile_commands.json, as clangd and `check` read it.
    let db = serde_json::json!([{
        "directory": kernel_dir,
        "file": "atax.cu",
        "command": "nvcc -O3 atax.cu -I../../utilities -DNX=512 -o atax.exe",
    }]);
    std::fs::write(kernel_dir.join("compile_commands.json"), db.to_string()).unwrap();
    let out = cudalens(&["transpile", "atax.cu"], &kernel_dir);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let wgsl = std::fs::read_to_string(kernel_dir.join("atax.cu.row_sums.wgsl")).unwrap();
    // NX came from the database's -D.
    assert!(wgsl.contains("* 512"), "{wgsl}");
}

#[test]
fn defines_on_the_command_line_reach_the_kernel() {
    let (_dir, root) = project();
    let out = cudalens(
        &[
            "transpile",
            "kernels/atax/atax.cu",
            "-I",
            "utilities",
            "-D",
            "NX=100",
            "-o",
            "out.wgsl",
        ],
        &root,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let wgsl = std::fs::read_to_string(root.join("out.wgsl")).unwrap();
    assert!(wgsl.contains("* 100"), "{wgsl}");
}

#[test]
fn directories_compile_kernels_of_included_files_in_their_includers_context() {
    let (_dir, root) = project();
    // A kernel in a file that only compiles as part of its includer (it uses
    // the includer's typedef), as Rodinia lays out several programs.
    std::fs::create_dir_all(root.join("prog")).unwrap();
    std::fs::write(
        root.join("prog/kernel.cu"),
        "__global__ void scale(real* x, real a) { x[threadIdx.x] *= a; }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("prog/main.cu"),
        "typedef float real;\n#include \"kernel.cu\"\nint main() { return 0; }\n",
    )
    .unwrap();
    let out = cudalens(
        &[
            "transpile",
            "prog",
            "--check",
            "--included",
            "--format",
            "json",
        ],
        &root,
    );
    let records = json(&out);
    let in_context: Vec<&Value> = records
        .iter()
        .filter(|r| r["file"].as_str().unwrap().ends_with("main.cu"))
        .collect();
    assert_eq!(in_context.len(), 1, "{records:?}");
    assert_eq!(in_context[0]["kernel"], "scale");
    assert!(
        in_context[0]["defined_in"]
            .as_str()
            .unwrap()
            .ends_with("prog/kernel.cu")
    );
    assert_eq!(in_context[0]["ok"], true, "{records:?}");
    // Alone, the same file does not know `real`: a failure, at its line.
    let alone = records
        .iter()
        .find(|r| r["file"].as_str().unwrap().ends_with("kernel.cu"))
        .expect("the file on its own");
    assert_eq!(alone["ok"], false);
    assert!(
        alone["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("real")
    );
    assert_eq!(alone["errors"][0]["line"], 1);
}

/// HeCBench's miniFE builds `main.cpp` with `nvcc -x cu` (leukocyte its
/// `.c` files): the kernels of
/// the headers it includes compile in its context (a header alone does not
/// know its includer's `-D` types); a C++ source that includes no kernel
/// is no record.
#[test]
fn directories_compile_kernels_that_cpp_sources_include() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("src/ops.hpp"),
        "template <typename T>\n__global__ void scale(T* x, T a) { x[threadIdx.x] *= a; }\n\
         template <typename T>\nvoid run(T* x) { scale<T><<<1, 64>>>(x, (T)2); }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/main.cpp"),
        "#include \"ops.hpp\"\nint main() { SCALAR *x; run(x); return 0; }\n",
    )
    .unwrap();
    // A C source built `--x cu` includes a header kernel too (HeCBench's
    // leukocyte: `detect_main.c` includes `kernel_GICOV.h`).
    std::fs::write(
        root.join("src/track.h"),
        "__global__ void track(float* x) { x[threadIdx.x] += RADIUS; }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/detect.c"),
        "#define RADIUS 3.0f\n#include \"track.h\"\nint detect() { return 0; }\n",
    )
    .unwrap();
    std::fs::write(
        root.join("src/util.cpp"),
        "#include <cstdio>\nint util() { return 1; }\n",
    )
    .unwrap();
    let out = cudalens(
        &[
            "transpile",
            "src",
            "--check",
            "--included",
            "--format",
            "json",
            "-D",
            "SCALAR=float",
        ],
        &root,
    );
    let records = json(&out);
    let from_main: Vec<&Value> = records
        .iter()
        .filter(|r| r["file"].as_str().unwrap().ends_with("main.cpp"))
        .collect();
    assert_eq!(from_main.len(), 1, "{records:?}");
    assert_eq!(from_main[0]["kernel"], "scale");
    assert_eq!(from_main[0]["ok"], true, "{records:?}");
    let from_detect: Vec<&Value> = records
        .iter()
        .filter(|r| r["file"].as_str().unwrap().ends_with("detect.c"))
        .collect();
    assert_eq!(from_detect.len(), 1, "{records:?}");
    assert_eq!(from_detect[0]["kernel"], "track");
    assert_eq!(from_detect[0]["ok"], true, "{records:?}");
    assert!(
        !records
            .iter()
            .any(|r| r["file"].as_str().unwrap().ends_with("util.cpp")),
        "{records:?}"
    );
}

/// `nvcc -rdc` programs (HeCBench's fresnel, logan) declare device
/// functions that another `.cu` of the directory defines: the definition
/// is read from that file (with the helpers of its own it calls). Two
/// files' `static` helpers of one name would be one function here: such a
/// definition is left out and the call refused.
#[test]
fn device_functions_defined_in_another_file_of_the_program_are_linked() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    write(
        "main.cu",
        "__device__ float scaled(float x);\n__device__ float shifted(float x);\n\
         __global__ void k(float *y) { y[threadIdx.x] = scaled(y[threadIdx.x]); }\n\
         __global__ void g(float *y) { y[threadIdx.x] = scaled(shifted(y[threadIdx.x])); }\n\
         int main() { k<<<1, 32>>>(0); g<<<1, 32>>>(0); }\n",
    );
    write(
        "scale.cu",
        "static __device__ float helper(float x) { return 2.0f * x; }\n\
         __device__ float scaled(float x) { return helper(x) + 1.0f; }\n",
    );
    write(
        "shift.cu",
        "static __device__ float helper(float x) { return x - 3.0f; }\n\
         __device__ float shifted(float x) { return helper(x); }\n",
    );
    let out = cudalens(
        &["transpile", "main.cu", "--kernel", "k", "-o", "k.wgsl"],
        &root,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let wgsl = std::fs::read_to_string(root.join("k.wgsl")).unwrap();
    assert!(
        wgsl.contains("fn scaled(") && wgsl.contains("2.0f * x"),
        "{wgsl}"
    );
    let out = cudalens(
        &["transpile", "main.cu", "--kernel", "g", "-o", "g.wgsl"],
        &root,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("`shifted` has no definition in this file"),
        "{}",
        stderr(&out)
    );
}

/// HeCBench merkle: `merge` and `apply_rounds`, both declared in a header
/// and defined in `rounds.cu`, share helpers (what linking `apply_rounds`
/// brought is there when `merge` is linked), the helpers use the file's
/// own operators on vectors (`operator<` giving masks, called), and
/// `operator-` is overloaded there.
#[test]
fn linked_definitions_bring_their_files_operators_and_share_helpers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();
    write(
        "rounds.h",
        "__device__ uint2 merge(uint2 a, uint2 b);
__device__ uint2 apply_rounds(uint2 a);
",
    );
    write(
        "main.cu",
        "#include \"rounds.h\"\n\
         __global__ void k(uint2 *y) { int i = threadIdx.x; y[i] = merge(apply_rounds(y[i]), y[i + 1]); }\n\
         int main() { k<<<1, 32>>>(0); }\n",
    );
    write(
        "rounds.cu",
        "#include \"rounds.h\"\n\
         inline __device__ uint2 operator<(uint2 a, uint2 b) { return make_uint2(a.x < b.x ? 0xffffffffu : 0u, a.y < b.y ? 0xffffffffu : 0u); }\n\
         inline __device__ uint2 operator-(uint2 a, uint2 b) { return make_uint2(a.x - b.x, a.y - b.y); }\n\
         inline __device__ uint2 operator-(unsigned int a, uint2 b) { return make_uint2(a - b.x, a - b.y); }\n\
         __device__ uint2 step(uint2 a) { return (a < make_uint2(7u, 9u)) - a; }\n\
         __device__ uint2 apply_rounds(uint2 a) { return step(step(a)); }\n\
         __device__ uint2 merge(uint2 a, uint2 b) { return step(a) - (5u - b); }\n",
    );
    let out = cudalens(
        &["transpile", "main.cu", "--kernel", "k", "-o", "k.wgsl"],
        &root,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let wgsl = std::fs::read_to_string(root.join("k.wgsl")).unwrap();
    assert!(
        wgsl.contains("fn merge(")
            && wgsl.contains("fn apply_rounds(")
            && wgsl.contains("operator_lt("),
        "{wgsl}"
    );
}

#[test]
fn templates_follow_host_templates_explicit_instantiations_and_flags() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(
        root.join("t.cu"),
        r#"template <typename T, int BLOCK>
__global__ void fill(T* out, T v) { out[blockIdx.x * BLOCK + threadIdx.x] = v; }

template <typename T>
void run(T* d_out, int n) {
    const int threads = 128;
    fill<T, threads><<<n / threads, threads>>>(d_out, T(1));
}

template void run<double>(double* d_out, int n);

template <typename T>
__global__ void orphan(T* out) { out[threadIdx.x] = T(); }
"#,
    )
    .unwrap();
    let out = cudalens(
        &["transpile", "t.cu", "--check", "--format", "json", "--f64"],
        root,
    );
    let records = json(&out);
    let fill = records.iter().find(|r| r["kernel"] == "fill").unwrap();
    assert_eq!(fill["ok"], true, "{records:?}");
    let orphan = records.iter().find(|r| r["kernel"] == "orphan").unwrap();
    assert_eq!(orphan["ok"], false);
    assert!(
        orphan["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("--instantiate"),
        "{orphan:?}"
    );
    let picked = cudalens(
        &[
            "transpile",
            "t.cu",
            "--kernel",
            "orphan",
            "--instantiate",
            "int",
            "-o",
            "o.wgsl",
        ],
        root,
    );
    assert_eq!(picked.status.code(), Some(0), "{}", stderr(&picked));
    let wgsl = std::fs::read_to_string(root.join("o.wgsl")).unwrap();
    assert!(wgsl.contains("array<i32>"), "{wgsl}");
    assert!(
        wgsl.contains("Template instantiation: orphan<int>"),
        "{wgsl}"
    );
    // The host template's explicit instantiation gave `fill` its type.
    let fill_out = cudalens(
        &[
            "transpile",
            "t.cu",
            "--kernel",
            "fill",
            "--f64",
            "-o",
            "f.wgsl",
        ],
        root,
    );
    assert_eq!(fill_out.status.code(), Some(0), "{}", stderr(&fill_out));
    let wgsl = std::fs::read_to_string(root.join("f.wgsl")).unwrap();
    assert!(wgsl.contains("fill<double, 128>"), "{wgsl}");
}

#[test]
fn overloaded_kernels_are_each_compiled_at_their_own_line() {
    let (_dir, root) = project();
    std::fs::create_dir_all(root.join("sort")).unwrap();
    // Overloads of one name in two headers, as segsort's keys and pairs
    // headers hold them; the first header's comment is Latin-1 (`©`), which
    // the line numbers must survive.
    let mut pairs = b"/* Copyright \xa9 2013 */\n".to_vec();
    pairs.extend_from_slice(
        b"template <typename K, typename T>\n__global__ void copy(const K *k, const T *v, K *kb, T *vb, int n) {\n    int i = threadIdx.x; if (i < n) { kb[i] = k[i]; vb[i] = v[i]; }\n}\n",
    );
    std::fs::write(root.join("sort/pairs.cuh"), pairs).unwrap();
    std::fs::write(
        root.join("sort/keys.cuh"),
        "\n\ntemplate <typename K>\n__global__ void copy(const K *k, K *kb, int n) {\n    int i = threadIdx.x; if (i < n) kb[i] = k[i];\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("sort/main.cu"),
        "#include \"pairs.cuh\"\n#include \"keys.cuh\"\nint main() {\n    int *k, *kb; float *v, *vb;\n    copy<<<1, 32>>>(k, v, kb, vb, 32);\n    copy<<<1, 64>>>(k, kb, 32);\n}\n",
    )
    .unwrap();
    let out = cudalens(
        &[
            "transpile",
            "sort/main.cu",
            "--check",
            "--included",
            "--format",
            "json",
        ],
        &root,
    );
    let records = json(&out);
    let found: Vec<(String, u64, bool)> = records
        .iter()
        .map(|r| {
            let file = r["defined_in"].as_str().unwrap();
            let file = file.rsplit('/').next().unwrap().to_string();
            (file, r["line"].as_u64().unwrap(), r["ok"] == true)
        })
        .collect();
    assert_eq!(
        found,
        vec![("pairs.cuh".into(), 3, true), ("keys.cuh".into(), 4, true)],
        "{records:?}"
    );
    // Written out, the second overload gets a file of its own.
    let out = cudalens(&["transpile", "sort/main.cu", "--included"], &root);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let first = std::fs::read_to_string(root.join("sort/main.cu.copy.wgsl")).expect("first");
    let second = std::fs::read_to_string(root.join("sort/main.cu.copy-2.wgsl")).expect("second");
    assert!(first.contains("vb"), "{first}");
    assert!(!second.contains("vb"), "{second}");
    // `-o` names one file: refused for two definitions.
    let out = cudalens(
        &[
            "transpile",
            "sort/main.cu",
            "--included",
            "--kernel",
            "copy",
            "-o",
            "x.wgsl",
        ],
        &root,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("2 definitions"), "{}", stderr(&out));
    // `bench` measures one definition, and says which.
    let out = cudalens(
        &[
            "bench",
            "sort/main.cu",
            "--kernel",
            "copy",
            "--print-launch",
        ],
        &root,
    );
    assert!(
        stderr(&out).contains(
            "`copy` has 2 definitions (overloads): `bench` measures the first, at line 3"
        ),
        "{}",
        stderr(&out)
    );
}

/// An error inside a device function a header defines points at the
/// header's line (text and JSON), not at a line of the file compiled;
/// one in the kernel's own file stays there.
#[test]
fn errors_in_header_device_functions_point_into_the_header() {
    let (_dir, root) = project();
    std::fs::write(
        root.join("helpers.cuh"),
        "// helpers\n\n__device__ float f(float *p) {\n    return p[0] + printf(\"%d\", 1);\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("main.cu"),
        "#include \"helpers.cuh\"\n__global__ void k(float *a) {\n    a[0] = f(a) + printf(\"%d\", 2);\n}\n",
    )
    .unwrap();
    let out = cudalens(&["transpile", "main.cu", "--check"], &root);
    let err = stderr(&out);
    assert!(err.contains("--> helpers.cuh:4:"), "{err}");
    assert!(err.contains("--> main.cu:3:"), "{err}");
    let out = cudalens(
        &["transpile", "main.cu", "--check", "--format", "json"],
        &root,
    );
    let records = json(&out);
    let errors: Vec<(Option<String>, u64)> = records[0]["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            let file = e["file"]
                .as_str()
                .map(|f| f.rsplit('/').next().unwrap_or(f).to_string());
            (file, e["line"].as_u64().unwrap())
        })
        .collect();
    assert!(
        errors.contains(&(Some("helpers.cuh".to_string()), 4)),
        "{errors:?}"
    );
    assert!(errors.contains(&(None, 3)), "{errors:?}");
}
