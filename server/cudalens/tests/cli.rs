//! The command line: `check` (text and JSON output, exit codes, directory
//! recursion, compile_commands.json) and `occupancy`.

mod support;

use support::cli::{cudalens, stdout};

use serde_json::Value;

const KERNELS: &str = r#"// Ünïcödé 😀
#define TILE 32
__global__ void transpose(float* out, const float* in) {
  __shared__ float tile[TILE][TILE];
  tile[threadIdx.y][threadIdx.x] = in[threadIdx.y * TILE + threadIdx.x];
  __syncthreads();
  out[threadIdx.y * TILE + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}
void host(float* o, float* i) { transpose<<<264, dim3(32, 32)>>>(o, i); }
"#;

const TOO_BIG: &str = "__global__ void k(float* a) { a[threadIdx.x] = 0; }\nvoid h(float* a) { k<<<264, 2048>>>(a); }\n";

/// The report's entry for the file whose path ends with `name`.
fn file_named(report: &Value, name: &str) -> Value {
    report["files"]
        .as_array()
        .and_then(|f| {
            f.iter()
                .find(|f| f["path"].as_str().is_some_and(|p| p.ends_with(name)))
        })
        .cloned()
        .unwrap_or_else(|| panic!("{name} in {report:#}"))
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("src/nested")).expect("dirs");
    std::fs::write(dir.path().join("src/transpose.cu"), KERNELS).expect("write");
    std::fs::write(dir.path().join("src/nested/big.cuh"), TOO_BIG).expect("write");
    std::fs::write(dir.path().join("src/notes.txt"), "not cuda").expect("write");
    std::fs::write(dir.path().join("src/blob.cu"), b"\x7fELF\0\0\x01binary").expect("write");
    dir
}

#[test]
fn text_output_looks_like_rustc() {
    let dir = project();
    let out = cudalens(&["check", "src/transpose.cu"], dir.path());
    let text = stdout(&out);
    let expected = "\
warning[bank-conflict]: 32-way shared-memory bank conflict";
    assert!(text.starts_with(expected), "{text}");
    assert!(text.contains("\n --> src/transpose.cu:7:43\n  |\n7 |   out[threadIdx.y * TILE + threadIdx.x] = tile[threadIdx.x][threadIdx.y];\n  |                                           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"), "{text}");
    assert!(text.contains("= help: Pad `tile` by one column"), "{text}");
    // Warnings only: the default --deny error passes.
    assert_eq!(out.status.code(), Some(0), "{text}");
    let out = cudalens(
        &["check", "--deny", "warning", "src/transpose.cu"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn directories_are_searched_and_binary_files_skipped() {
    let dir = project();
    let out = cudalens(&["check", "src"], dir.path());
    let text = stdout(&out);
    assert!(text.contains("error[launch-exceeds-limit]"), "{text}");
    assert!(text.contains("--> src/nested/big.cuh:2:"), "{text}");
    assert!(text.contains("--> src/transpose.cu:7:43"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("src/blob.cu: skipped: binary file"),
        "{stderr}"
    );
    assert!(stderr.contains("2 files checked"), "{stderr}");
    assert_eq!(out.status.code(), Some(1), "an error is denied by default");
}

/// Kernels live in headers in most libraries (RAFT: 0 of 167 kernels were
/// found while `check` read `.cu`/`.cuh` only): a directory's C++ headers
/// are analysed, and reported when they hold CUDA code.
#[test]
fn headers_with_cuda_code_are_checked() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir_all(dir.path().join("include/lib")).expect("dirs");
    std::fs::write(
        dir.path().join("include/lib/macros.hpp"),
        "#pragma once\n#define LIB_KERNEL static __global__ void\nint host_only();\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("include/lib/transpose.h"),
        KERNELS.replace(
            "__global__ void transpose",
            "#include <lib/macros.hpp>\nLIB_KERNEL transpose",
        ),
    )
    .expect("write");
    let out = cudalens(&["check", "include", "-I", "include"], dir.path());
    let text = stdout(&out);
    assert!(
        text.contains("warning[bank-conflict]") && text.contains("--> include/lib/transpose.h:"),
        "{text}"
    );
    assert!(!text.contains("macros.hpp"), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 file checked (1 C++ header without CUDA code left out)"),
        "{stderr}"
    );
}

#[test]
fn json_report_has_the_stable_keys() {
    let dir = project();
    let out = cudalens(&["check", "--format", "json", "src"], dir.path());
    let report: Value = serde_json::from_slice(&out.stdout).expect("valid JSON");
    assert_eq!(report["version"], 1);
    let files = report["files"].as_array().expect("files");
    assert_eq!(files.len(), 2);
    let file = files
        .iter()
        .find(|f| f["path"] == "src/transpose.cu")
        .expect("transpose.cu");
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    };
    assert_eq!(keys(file), ["accesses", "diagnostics", "kernels", "path"]);
    let kernel = &file["kernels"][0];
    assert_eq!(
        keys(kernel),
        [
            "block",
            "block_source",
            "launches",
            "name",
            "range",
            "registers",
            "registers_estimated",
            "registers_range",
            "static_smem"
        ]
    );
    assert_eq!(kernel["block"], serde_json::json!([32, 32, 1]));
    assert_eq!(kernel["static_smem"], 4096);
    let launch = &kernel["launches"][0];
    assert_eq!(
        keys(launch),
        [
            "active_blocks_per_sm",
            "block",
            "dynamic_smem",
            "error",
            "grid",
            "limiter",
            "occupancy",
            "occupancy_range",
            "range"
        ]
    );
    assert_eq!(launch["occupancy"], 1.0);
    // The estimate's range and the occupancy at both of its ends.
    let regs = &kernel["registers_range"];
    assert!(
        regs[0].as_u64() <= regs[1].as_u64() && regs[0] == kernel["registers"],
        "{kernel}"
    );
    assert_eq!(launch["occupancy_range"][1], 1.0);
    let access = &file["accesses"][0];
    for key in [
        "kernel",
        "range",
        "space",
        "kind",
        "element_bytes",
        "sectors_per_request",
        "ideal_sectors",
        "bank_conflict_ways",
        "ideal_wavefronts",
        "block_assumed",
    ] {
        assert!(access.get(key).is_some(), "access lacks {key}: {access}");
    }
    let diag = &file["diagnostics"][0];
    assert_eq!(diag["code"], "bank-conflict");
    assert_eq!(diag["severity"], "warning");
    // UTF-16 LSP range, 0-based.
    assert_eq!(
        diag["range"]["start"],
        serde_json::json!({"line": 6, "character": 42})
    );
    assert_eq!(report["skipped"][0]["path"], "src/blob.cu");
}

#[test]
fn flags_and_usage_errors() {
    let dir = project();
    // Disabling the rule removes the only warning.
    let out = cudalens(
        &[
            "check",
            "--deny",
            "warning",
            "--disable",
            "bank-conflict",
            "src/transpose.cu",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    // -D feeds the preprocessor: TILE 33 makes the conflict disappear.
    std::fs::write(
        dir.path().join("t2.cu"),
        KERNELS.replace(
            "#define TILE 32\n",
            "#ifndef TILE\n#define TILE 32\n#endif\n",
        ),
    )
    .expect("write");
    let out = cudalens(
        &["check", "--deny", "warning", "-D", "TILE=33", "t2.cu"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    for bad in [
        vec!["check", "--disable", "no-such-rule", "src"],
        vec!["check", "--arch", "sm_1", "src"],
        vec!["check", "--block", "0", "src"],
        vec!["check", "missing.cu"],
        vec!["check"],
        vec!["frobnicate"],
    ] {
        let out = cudalens(&bad, dir.path());
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bad:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = cudalens(&["--version"], dir.path());
    assert!(stdout(&out).starts_with("cudalens "));
}

#[test]
fn compile_commands_json_supplies_defines() {
    let dir = project();
    let src = KERNELS.replace("#define TILE 32\n", "");
    std::fs::write(dir.path().join("cc.cu"), src).expect("write");
    let db = format!(
        r#"[{{"directory": "{}", "file": "cc.cu", "command": "nvcc -DTILE=32 -c cc.cu"}}]"#,
        dir.path().display()
    );
    std::fs::write(dir.path().join("compile_commands.json"), db).expect("write");
    let out = cudalens(&["check", "cc.cu"], dir.path());
    assert!(
        stdout(&out).contains("warning[bank-conflict]"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn occupancy_table_and_json() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = cudalens(
        &[
            "occupancy",
            "--arch",
            "sm_90",
            "--block",
            "256",
            "--regs",
            "64",
        ],
        dir.path(),
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("occupancy 50% (32/64 warps) — limited by registers: 64/thread"),
        "{text}"
    );
    assert!(text.contains("| Registers (64/thread) | **4** |"), "{text}");
    let out = cudalens(
        &[
            "occupancy",
            "--block",
            "16x16",
            "--regs",
            "32",
            "--smem-static",
            "49152",
            "--json",
        ],
        dir.path(),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["block"], 256);
    assert_eq!(report["limiter"], "shared_memory");
    assert!(report["active_blocks_per_sm"].as_u64().is_some());
    let out = cudalens(
        &["occupancy", "--block", "2048", "--regs", "32"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("2048 threads per block exceeds the maximum of 1024"));
}

/// A header made only of device functions (no kernel of its own), included
/// by two files whose kernels call its helper.
const HELPER_HEADER: &str = "#pragma once
// a helper that reads a column: adjacent threads 32 floats apart
__device__ float column(const float* m, int i) {
  return m[i * 32];
}
__device__ float row(const float* m, int i) { return m[i]; }
";
const CALLER_A: &str = "#include \"helpers.cuh\"
__global__ void first(float* out, const float* m) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = column(m, i) + row(m, i);
}
void run_a(float* o, const float* m) { first<<<64, 256>>>(o, m); }
";
const CALLER_B: &str = "#include \"helpers.cuh\"
__device__ float twice_column(const float* m, int i) { return 2.0f * column(m, i); }
__global__ void second(float* out, const float* m) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  out[i] = twice_column(m, i);
}
void run_b(float* o, const float* m) { second<<<64, 256>>>(o, m); }
";

#[test]
fn a_finding_in_a_header_of_device_functions_is_reported_once_at_the_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("helpers.cuh"), HELPER_HEADER).expect("write");
    std::fs::write(dir.path().join("a.cu"), CALLER_A).expect("write");
    std::fs::write(dir.path().join("b.cu"), CALLER_B).expect("write");
    let out = cudalens(&["check", ".", "--format", "json"], dir.path());
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let file = |name: &str| file_named(&report, name);
    let diagnostics =
        |f: &Value| -> Vec<Value> { f["diagnostics"].as_array().cloned().unwrap_or_default() };
    // The including files: nothing of the header's on their lines.
    assert_eq!(diagnostics(&file("a.cu")), Vec::<Value>::new());
    assert_eq!(diagnostics(&file("b.cu")), Vec::<Value>::new());
    // The header: one finding, at the column read, with both ways in.
    let header = diagnostics(&file("helpers.cuh"));
    assert_eq!(header.len(), 1, "{header:#?}");
    let d = &header[0];
    assert_eq!(d["code"], "uncoalesced-access");
    assert_eq!(d["range"]["start"]["line"], 3, "{d:#}");
    let message = d["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("32 sectors per warp request (ideal 4)"),
        "{message}"
    );
    let related: Vec<(u64, &str)> = d["related"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                r["range"]["start"]["line"].as_u64()?,
                r["message"].as_str()?,
            ))
        })
        .collect();
    assert_eq!(
        related,
        [
            (2, "kernel `first` calls `column` at ./a.cu:4"),
            (
                2,
                "kernel `second` reaches `column` through `twice_column` (call at ./b.cu:5)"
            ),
        ],
        "{d:#}"
    );
    // The header's own suppression comments apply to them (and are used).
    let suppressed = HELPER_HEADER.replace(
        "  return m[i * 32];",
        "  // cudalens-ignore[uncoalesced-access]: a column read, once per call\n  return m[i * 32];",
    );
    std::fs::write(dir.path().join("helpers.cuh"), suppressed).expect("write");
    let out = cudalens(&["check", ".", "--format", "json"], dir.path());
    let quiet: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let quiet_header = quiet["files"]
        .as_array()
        .and_then(|f| {
            f.iter().find(|f| {
                f["path"]
                    .as_str()
                    .is_some_and(|p| p.ends_with("helpers.cuh"))
            })
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(diagnostics(&quiet_header), Vec::<Value>::new(), "{quiet:#}");
    std::fs::write(dir.path().join("helpers.cuh"), HELPER_HEADER).expect("write");
    // Checked alone, the header has no kernel to reach it: silent, as before.
    let out = cudalens(&["check", "helpers.cuh", "--format", "json"], dir.path());
    let alone: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(
        diagnostics(&alone["files"][0]),
        Vec::<Value>::new(),
        "{alone:#}"
    );
}

/// A kernel file included and launched by another file (Rodinia keeps its
/// kernels in `*_kernel.cu` files this way).
const KERNEL_FILE: &str = "__global__ void twice(float* out, const float* in, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = 2.0f * in[i];
}
";
const HOST_FILE: &str = "#include \"twice_kernel.cu\"
#define BLOCK_SIZE 16
void run(float* o, const float* i, int n) {
  twice<<<(n + BLOCK_SIZE - 1) / BLOCK_SIZE, BLOCK_SIZE>>>(o, i, n);
}
";

/// The including file's launch passes a block its host code computes
/// (the CUDA samples' shfl_scan: `int blockSize = iDivUp(w, 16);`, 120
/// threads, ncu's block): the kernel file takes the block the host code
/// gives, not the default.
const COMPUTED_HOST_FILE: &str = "#include \"twice_kernel.cu\"
static int div_up(int a, int b) { return (a + b - 1) / b; }
void run(float* o, const float* i, int n) {
  int threads = div_up(1920, 16);
  twice<<<div_up(n, threads), threads>>>(o, i, n);
}
int main() { run(0, 0, 1 << 20); }
";

#[test]
fn a_kernel_file_takes_the_block_the_including_file_computes() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("twice_kernel.cu"), KERNEL_FILE).expect("write");
    std::fs::write(dir.path().join("twice.cu"), COMPUTED_HOST_FILE).expect("write");
    let out = cudalens(&["check", ".", "--format", "json"], dir.path());
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let kernel_file = file_named(&report, "twice_kernel.cu");
    let kernel = &kernel_file["kernels"][0];
    assert_eq!(kernel["block_source"], "launch", "{kernel_file:#}");
    let launch = &kernel["launches"][0];
    assert_eq!(launch["block"], serde_json::json!([120, 1, 1]));
    // ceil(2^20 / 120).
    assert_eq!(launch["grid"], serde_json::json!([8739, 1, 1]));
    assert_eq!(launch["launched_in"], "twice.cu:5");
}

#[test]
fn a_kernel_launched_from_the_file_including_it_takes_that_launch() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("twice_kernel.cu"), KERNEL_FILE).expect("write");
    std::fs::write(dir.path().join("twice.cu"), HOST_FILE).expect("write");
    let out = cudalens(&["check", ".", "--format", "json"], dir.path());
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let file = |name: &str| file_named(&report, name);
    // (b) The kernel file: analysed under the includer's launch, not the
    // default 256: a 16-thread block, 50% occupancy (ncu's figure for
    // Rodinia's nw at BLOCK_SIZE 16), the launch named.
    let kernel_file = file("twice_kernel.cu");
    let launch = &kernel_file["kernels"][0]["launches"][0];
    assert_eq!(
        launch["block"],
        serde_json::json!([16, 1, 1]),
        "{kernel_file:#}"
    );
    assert_eq!(launch["launched_in"], "twice.cu:4");
    assert_eq!(launch["range"], Value::Null);
    assert_eq!(launch["occupancy"], 0.5);
    assert_eq!(kernel_file["kernels"][0]["block_source"], "launch");
    // The launch's own finding is reported once, at the launch.
    let codes = |f: &Value| -> Vec<String> {
        f["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["code"].as_str().map(str::to_string))
            .collect()
    };
    assert!(!codes(&kernel_file).contains(&"block-size-not-multiple-of-32".to_string()));
    // (a) The including file: the kernel of its include, under its launch,
    // with the launch's findings on the launch.
    let host = file("twice.cu");
    let k = &host["kernels"][0];
    assert_eq!(k["name"], "twice");
    assert_eq!(
        k["file"].as_str().map(|f| f.ends_with("twice_kernel.cu")),
        Some(true),
        "{k:#}"
    );
    assert_eq!(k["range"], Value::Null);
    assert_eq!(k["launches"][0]["block"], serde_json::json!([16, 1, 1]));
    assert_eq!(k["launches"][0]["range"]["start"]["line"], 3);
    assert_eq!(k["launches"][0]["occupancy"], 0.5);
    assert_eq!(codes(&host), ["block-size-not-multiple-of-32"]);
    // Only the memory findings of the kernel's own file mention its body.
    assert_eq!(host["accesses"].as_array().map(Vec::len), Some(0));

    // The kernel file alone: no launch known, the assumed block, said so.
    let out = cudalens(
        &["check", "twice_kernel.cu", "--format", "json"],
        dir.path(),
    );
    let alone: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(alone["files"][0]["kernels"][0]["block_source"], "default");
}

/// Dynamic shared memory of a run-time size (llm.c's flash-attention
/// `attention_forward_kernel2<<<grid, block, sram_size>>>`, whose 10.9%
/// on the H200 we reported as 50%): not counted, so the occupancy stated is
/// an upper bound and the range reaches down to one block per SM.
#[test]
fn run_time_dynamic_shared_memory_makes_occupancy_an_upper_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = "__global__ void tiles(float* out, const float* in, int d) {
  extern __shared__ float sram[];
  sram[threadIdx.x] = in[blockIdx.x * d + threadIdx.x];
  __syncthreads();
  out[blockIdx.x * d + threadIdx.x] = sram[(threadIdx.x + 1) % d];
}
void run(float* o, const float* i, int d) {
  const int sram_size = 3 * d * sizeof(float);
  tiles<<<1024, 128, sram_size>>>(o, i, d);
  tiles<<<1024, 128, 512>>>(o, i, d);
}
";
    std::fs::write(dir.path().join("tiles.cu"), src).expect("write");
    let out = cudalens(
        &["check", "--format", "json", "--nvcc", "off", "tiles.cu"],
        dir.path(),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let launches = &report["files"][0]["kernels"][0]["launches"];
    let (unknown, known) = (&launches[0], &launches[1]);
    assert_eq!(unknown["dynamic_smem"], Value::Null, "{unknown}");
    assert_eq!(unknown["dynamic_smem_unresolved"], true, "{unknown}");
    // 128 threads: one block is 4 of the SM's 64 warps.
    assert_eq!(unknown["occupancy_range"][0], 4.0 / 64.0, "{unknown}");
    assert_eq!(known["dynamic_smem"], 512, "{known}");
    assert!(known.get("dynamic_smem_unresolved").is_none(), "{known}");
    assert!(
        known["occupancy_range"][0].as_f64() > Some(4.0 / 64.0),
        "{known}"
    );
}

/// llm.c's dev programs launch each kernel in a loop over a constant array
/// of block sizes: the kernel is analysed at each of them, as ncu measures
/// it, instead of at an assumed block.
#[test]
fn a_kernel_launched_in_a_loop_over_block_sizes_gets_each_block() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/corpus/host_launch/block_sweep.cu"),
    )
    .expect("corpus file");
    std::fs::write(dir.path().join("sweep.cu"), src).expect("write");
    let out = cudalens(
        &["check", "--format", "json", "--nvcc", "off", "sweep.cu"],
        dir.path(),
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("json");
    let kernel = &report["files"][0]["kernels"][0];
    assert_eq!(kernel["block_source"], "launch", "{kernel}");
    let blocks: Vec<&Value> = kernel["launches"]
        .as_array()
        .expect("launches")
        .iter()
        .map(|l| &l["block"])
        .collect();
    assert_eq!(
        blocks,
        [
            &serde_json::json!([32, 1, 1]),
            &serde_json::json!([128, 1, 1]),
            &serde_json::json!([512, 1, 1])
        ]
    );
}
