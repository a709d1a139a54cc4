//! `cudalens bench` sizes buffers from what the kernel can index and never
//! reports a time for a run whose accesses were clamped without saying so.
//! The kernels are PolyBench's atax pattern (written here): a 1-D grid of
//! `nx` threads, each walking its row of an `nx × ny` matrix. Runs on a
//! real adapter (lavapipe in CI), skipped with `CUDALENS_SKIP_GPU_TESTS=1`.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::gpu_available;

/// The loop bound is a scalar the analysis knows from `--arg`.
const ROWS_FOR: &str = r#"
__global__ void row_dot(const float* A, const float* x, float* tmp, int nx, int ny) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < nx) {
        float s = 0.0f;
        for (int j = 0; j < ny; j++) s += A[i * ny + j] * x[j];
        tmp[i] = s;
    }
}
"#;

/// The same walk as a `while` loop, which the analysis does not bound.
const ROWS_WHILE: &str = r#"
__global__ void row_dot(const float* A, const float* x, float* tmp, int nx, int ny) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < nx) {
        float s = 0.0f;
        int j = 0;
        while (j < ny) {
            s += A[i * ny + j] * x[j];
            j++;
        }
        tmp[i] = s;
    }
}
"#;

const LAUNCH: [&str; 15] = [
    "bench",
    "k.cu",
    "--kernel",
    "row_dot",
    "--grid",
    "2",
    "--block",
    "64",
    "--arg",
    "nx=128",
    "--arg",
    "ny=256",
    "--iterations",
    "2",
    "--json",
];

fn bench(source: &str, dir: &Path) -> (Output, Value) {
    std::fs::write(dir.join("k.cu"), source).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args(LAUNCH)
        .current_dir(dir)
        .output()
        .expect("run cudalens");
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out, value)
}

#[test]
fn buffers_cover_every_row_the_grid_walks() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    let (out, result) = bench(ROWS_FOR, dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 128 rows of 256, not grid × block = 128 elements.
    assert_eq!(
        result["launch"]["extents"],
        json!([["A", 32768], ["x", 256], ["tmp", 128]])
    );
    assert_eq!(result["clamps_counted"], true);
    assert_eq!(result["clamped_accesses"], 0);
    assert_eq!(result["errors"], json!([]));
    assert!(result["timing"]["median_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn clamped_accesses_are_an_error_not_a_speed_up() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    let (out, result) = bench(ROWS_WHILE, dir.path());
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Unbounded, every buffer has grid × block = 128 elements: of A's
    // 128 × 256 reads only thread 0's first 128 are inside, of x's the
    // first 128 of each thread.
    assert_eq!(
        result["launch"]["extents"],
        json!([["A", null], ["x", null], ["tmp", null]])
    );
    assert_eq!(result["clamped_accesses"], 128 * 256 - 128 + 128 * 128);
    let errors = result["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{result:#}");
    assert_eq!(errors[0]["code"], "clamped-accesses");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("could not bound what the kernel indexes in A, x, tmp"),
        "{errors:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: 49024 accesses of one launch were outside their buffers"),
        "{stderr}"
    );
    // Not recorded as a run of the kernel.
    assert!(
        result["history"]["error"]
            .as_str()
            .unwrap()
            .contains("clamped"),
        "{result:#}"
    );

    // The text output says it next to the time.
    let text = Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args(&LAUNCH[..LAUNCH.len() - 1])
        .current_dir(dir.path())
        .output()
        .expect("run cudalens");
    assert_eq!(text.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("clamps:    49024 accesses out of bounds and clamped: THE TIME ABOVE IS NOT THE KERNEL'S WORKLOAD"),
        "{stdout}"
    );
}

/// Two floats a thread in `extern __shared__` memory (HeCBench's reaction
/// keeps a halo there): without the launch's dynamic shared bytes, `bench`
/// assumes one element a thread, and the indices past it are clamped by
/// the bounds checks, now counted like a buffer's; with `--shared-bytes`
/// none are. (On the H100 the native harness hit an illegal address on
/// reaction's `derivative_*_pbc` at `bench`'s launch while the WGSL run
/// gave a time.)
#[test]
fn dynamic_shared_memory_past_the_assumed_size_is_counted() {
    if !gpu_available() {
        return;
    }
    let source = r#"
__global__ void pairs(const float* in, float* out) {
    extern __shared__ float s[];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    s[2 * t] = in[i];
    s[2 * t + 1] = 2.0f * in[i];
    __syncthreads();
    out[i] = s[2 * t + 1];
}
"#;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    std::fs::write(dir.path().join("k.cu"), source).expect("write");
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_cudalens"))
            .args([
                "bench",
                "k.cu",
                "--kernel",
                "pairs",
                "--grid",
                "2",
                "--block",
                "64",
                "--iterations",
                "2",
                "--json",
            ])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .expect("run cudalens");
        let value: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        (out, value)
    };
    // 64 floats a block: threads 32..63 write two past it and read one.
    let (out, result) = run(&[]);
    assert_eq!(out.status.code(), Some(1), "{result:#}");
    assert_eq!(result["clamped_accesses"], 2 * 32 * 3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--shared-bytes BYTES"), "{stderr}");
    // The program's 128 floats a block: nothing clamped, a time.
    let (out, result) = run(&["--shared-bytes", "512"]);
    assert!(out.status.success(), "{result:#}");
    assert_eq!(result["clamped_accesses"], 0);
    assert!(result["timing"]["median_ms"].as_f64().unwrap() > 0.0);
}

/// A kernel defined in a file the benchmarked file includes (Rodinia keeps
/// its kernels in `*_kernel.cu` files that the program's `.cu` includes) is
/// found and run, buffers sized as for a kernel of the file itself.
#[test]
fn a_kernel_from_an_included_file_is_benchmarked() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    std::fs::write(dir.path().join("row_dot_kernel.cu"), ROWS_FOR).expect("write");
    let (out, result) = bench(
        "#include \"row_dot_kernel.cu\"\nint main() { return 0; }\n",
        dir.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        result["launch"]["extents"],
        json!([["A", 32768], ["x", 256], ["tmp", 128]])
    );
    assert_eq!(result["clamped_accesses"], 0);
    assert!(result["timing"]["median_ms"].as_f64().unwrap() > 0.0);
}

/// Where the analysis cannot bound what the kernel indexes, the program's
/// own `cudaMalloc` sizes the buffers: the `while` walk above, launched by
/// host code that allocates the matrix, runs with no access clamped and a
/// time (PolyBench's correlation and covariance kernels had none before).
#[test]
fn the_programs_allocations_size_what_the_analysis_cannot_bound() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    let program = format!(
        "{ROWS_WHILE}{}",
        r#"
#define NX 128
#define NY 256
void run(int nx, int ny) {
    float *A, *x, *tmp;
    cudaMalloc((void **)&A, sizeof(float) * NX * NY);
    cudaMalloc((void **)&x, sizeof(float) * NY);
    cudaMalloc((void **)&tmp, sizeof(float) * NX);
    row_dot<<<NX / 64, 64>>>(A, x, tmp, nx, ny);
}
int main() { run(NX, NY); return 0; }
"#
    );
    std::fs::write(dir.path().join("k.cu"), program).expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args([
            "bench",
            "k.cu",
            "--kernel",
            "row_dot",
            "--iterations",
            "2",
            "--json",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run cudalens");
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(out.status.success(), "{result:#}");
    assert_eq!(result["launch"]["source"], "host");
    assert_eq!(
        result["launch"]["extents"],
        json!([["A", null], ["x", null], ["tmp", null]])
    );
    assert_eq!(
        result["launch"]["allocations"],
        json!([["A", 32768], ["x", 256], ["tmp", 128]])
    );
    assert_eq!(result["clamped_accesses"], 0);
    assert_eq!(result["errors"], json!([]));
    assert!(result["timing"]["median_ms"].as_f64().unwrap() > 0.0);
}

/// A buffer the analysis cannot bound (the `while` walk) is sized with
/// `--buffer NAME=ELEMENTS`: at the sizes the program would allocate the
/// run clamps nothing and is timed; the output says which sizes were
/// given. A name that is no buffer of the kernel is an error naming them.
#[test]
fn buffers_the_analysis_cannot_bound_are_sized_with_buffer() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    std::fs::write(dir.path().join("k.cu"), ROWS_WHILE).expect("write");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cudalens"))
            .args(LAUNCH)
            .args(extra)
            .current_dir(dir.path())
            .output()
            .expect("run cudalens")
    };
    let out = run(&[
        "--buffer", "A=32768", "--buffer", "x=256", "--buffer", "tmp=128",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        result["launch"]["given"],
        json!([["A", 32768], ["x", 256], ["tmp", 128]])
    );
    assert_eq!(result["clamped_accesses"], 0);
    assert_eq!(result["errors"], json!([]));

    let out = run(&["--buffer", "B=4"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("--buffer B: the kernel has no buffer of that name (its buffers: A, x, tmp)"),
        "{stderr}"
    );
}

/// A tile with a halo in `extern __shared__` memory (HeCBench's ced: the
/// launch, in a lambda bench does not read, passes `(b + 2)²` ints): with
/// no size given, bench assumes one element per thread, the constant
/// index of the halo's last corner leaves the array and wgpu rejects the
/// pipeline; the error says which assumption and how to give the size,
/// and `--shared-bytes` runs it.
#[test]
fn dynamic_shared_sizes_bench_assumed_are_named_and_can_be_given() {
    if !gpu_available() {
        return;
    }
    const HALO: &str = r#"
__global__ void halo(const int* in, int* out) {
    extern __shared__ int tile[];
    const int L = blockDim.x;
    int t = threadIdx.x;
    tile[t + 1] = in[t];
    if (t == 0) { tile[0] = 0; tile[L + 1] = 0; }
    __syncthreads();
    out[t] = tile[t] + tile[t + 1] + tile[t + 2];
}
"#;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    std::fs::write(dir.path().join("k.cu"), HALO).expect("write");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cudalens"))
            .args([
                "bench", "k.cu", "--kernel", "halo", "--grid", "1", "--block", "64",
            ])
            .args(["--iterations", "2"])
            .args(extra)
            .current_dir(dir.path())
            .output()
            .expect("run cudalens")
    };
    let assumed = run(&[]);
    let text = String::from_utf8_lossy(&assumed.stdout).to_string()
        + &String::from_utf8_lossy(&assumed.stderr);
    // `L + 1` is an override expression: a constant index once the block
    // size is set.
    assert!(!assumed.status.success(), "{text}");
    assert!(
        text.contains("has 256 bytes, an assumption")
            && text.contains("give the launch's size with --shared-bytes"),
        "{text}"
    );
    let given = run(&["--shared-bytes", "264"]);
    let text = String::from_utf8_lossy(&given.stdout);
    assert!(
        given.status.success()
            && text.contains("shared:    264 bytes of `extern __shared__` (--shared-bytes)"),
        "{text}\n{}",
        String::from_utf8_lossy(&given.stderr)
    );
    assert!(text.contains("no access was out of bounds"), "{text}");
}
