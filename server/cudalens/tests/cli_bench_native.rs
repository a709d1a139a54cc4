//! `cudalens bench --native`: without nvcc it says so and the bench still
//! succeeds; with an nvcc, the harness it writes is compiled, run in the
//! directory holding the WGSL run's inputs, and its outputs compared with
//! the WGSL outputs. No CUDA here: a stand-in `nvcc` (a shell script) builds
//! a stand-in harness that does what the test's copy kernel does, so the
//! plumbing (inputs, outputs, result line, comparison, exit status) is
//! tested; the real one runs on the device machine. The WGSL side runs on a
//! real adapter (lavapipe in CI), skipped with `CUDALENS_SKIP_GPU_TESTS=1`.

#![cfg(unix)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use support::gpu_available;

const COPY: &str = r#"
__constant__ float c_gain;
__global__ void copy(const float* in, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = in[i] * (c_gain * 0.0f + 1.0f);
}
int main() { copy<<<4, 64>>>(0, 0, 256); return 0; }
"#;

/// A stand-in nvcc: `--version` works; a compile writes, at `-o EXE`, a
/// script that does what `copy` does (`out` = `in`, or `out` = `WRONG` when
/// `wrong`), prints the result line, and records the harness it was given.
fn fake_nvcc(dir: &Path, wrong: bool) -> std::path::PathBuf {
    let copy = if wrong {
        "printf 'WRONGWRONGWRONG!' | head -c 16 > \"$1/out.out\"; tail -c +17 \"$1/in.in\" >> \"$1/out.out\""
    } else {
        "cp \"$1/in.in\" \"$1/out.out\""
    };
    let script = format!(
        r#"#!/bin/sh
if [ "$1" = "--version" ]; then echo "stand-in nvcc"; exit 0; fi
out=""; src=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out="$2"; shift 2;;
    *.cu) src="$1"; shift;;
    *) echo "$1" >> "{log}"; shift;;
  esac
done
cp "$src" "{dir}/seen_harness.cu"
cat > "$out" <<'EOF'
#!/bin/sh
test -f "$1/c_gain.in" || exit 2
{copy}
echo 'CUDALENS_NATIVE {{"median_ms": 0.002000, "min_ms": 0.001500, "samples": 2, "device": "stand-in"}}'
EOF
chmod +x "$out"
"#,
        log = dir.join("nvcc_flags.txt").display(),
        dir = dir.display(),
    );
    let path = dir.join("nvcc");
    std::fs::write(&path, script).expect("write nvcc");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn bench(dir: &Path, extra: &[&str]) -> Output {
    std::fs::write(dir.join("k.cu"), COPY).expect("write");
    Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args([
            "bench",
            "k.cu",
            "--kernel",
            "copy",
            "--iterations",
            "2",
            "--arg",
            "n=256",
            "--native",
        ])
        .args(extra)
        .current_dir(dir)
        .output()
        .expect("run cudalens")
}

#[test]
fn without_nvcc_the_native_run_is_skipped_with_a_message() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    let out = bench(dir.path(), &["--nvcc", "/nonexistent/nvcc"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("native:    skipped: `/nonexistent/nvcc` not found"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("time:"));
}

#[test]
fn the_harness_runs_on_the_wgsl_inputs_and_its_outputs_are_compared() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    let nvcc = fake_nvcc(dir.path(), false);
    let out = bench(dir.path(), &["--nvcc", nvcc.to_str().unwrap(), "--json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let value: Value = serde_json::from_slice(&out.stdout).expect("json");
    let native = &value["native"]["Measured"];
    assert_eq!(native["timing"]["median_ms"], 0.002, "{value:#}");
    assert_eq!(native["outputs"][0]["name"], "out");
    assert_eq!(native["outputs"][0]["elements"], 256);
    assert_eq!(native["outputs"][0]["mismatches"], 0);
    // The harness includes the file and launches what the WGSL run launched.
    let harness = std::fs::read_to_string(dir.path().join("seen_harness.cu")).expect("harness");
    assert!(harness.contains("k.cu\"\n#undef main"), "{harness}");
    assert!(
        harness.contains("const dim3 grid(4, 1, 1), block(64, 1, 1);"),
        "{harness}"
    );
    assert!(harness.contains("int a_2 = (int)(256);"), "{harness}");
    assert!(
        harness
            .contains("cudaMemcpyToSymbol(c_gain, v.data(), std::min<size_t>(4, sizeof(c_gain)))"),
        "{harness}"
    );
    let flags = std::fs::read_to_string(dir.path().join("nvcc_flags.txt")).expect("flags");
    assert!(flags.contains("-arch=native"), "{flags}");
}

#[test]
fn differing_outputs_fail_the_bench() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    let nvcc = fake_nvcc(dir.path(), true);
    let out = bench(dir.path(), &["--nvcc", nvcc.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("ratio:     native/WGSL"), "{stdout}");
    assert!(
        stdout.contains("compare:   out 4 values differ"),
        "{stdout}"
    );
    assert!(
        stderr.contains("--native: 1 output(s) of `copy` differ between WGSL and native CUDA"),
        "{stderr}"
    );
}

/// `copy` launched by a wrapper whose grid and size come from `main`: with
/// no flags, both runs get the program's launch read from the host code.
const COPY_FROM_HOST: &str = r#"
__constant__ float c_gain;
__global__ void copy(const float* in, float* out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = in[i] * (c_gain * 0.0f + 1.0f);
}
#define COUNT 384
void run(const float* in, float* out, int n) {
    dim3 b(128);
    dim3 g((n + b.x - 1) / b.x);
    copy<<<g, b>>>(in, out, n);
}
int main() { int n = COUNT; run(0, 0, n); return 0; }
"#;

#[test]
fn the_native_run_takes_the_program_s_launch_from_the_host_code() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    let nvcc = fake_nvcc(dir.path(), false);
    std::fs::write(dir.path().join("k.cu"), COPY_FROM_HOST).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args(["bench", "k.cu", "--kernel", "copy", "--iterations", "2"])
        .args(["--native", "--nvcc", nvcc.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .expect("run cudalens");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("  n        384 = n ← run's parameter n = `n` from main at line 13 ← main: int n = COUNT"),
        "{stdout}"
    );
    assert!(
        stdout.contains("compare:   out 384 elements equal"),
        "{stdout}"
    );
    let harness = std::fs::read_to_string(dir.path().join("seen_harness.cu")).expect("harness");
    assert!(
        harness.contains("const dim3 grid(3, 1, 1), block(128, 1, 1);"),
        "{harness}"
    );
    assert!(harness.contains("int a_2 = (int)(384);"), "{harness}");
}
