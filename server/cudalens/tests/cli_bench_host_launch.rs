//! `cudalens bench` takes grid, block and scalar arguments from the
//! program's host code when the flags do not give them, and says where each
//! number came from (`--print-launch` stops there). The benchmark runs on a
//! real adapter (lavapipe in CI), skipped with `CUDALENS_SKIP_GPU_TESTS=1`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use support::gpu_available;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/host_launch")
}

fn cudalens(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cudalens")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn print_launch_says_where_every_number_came_from() {
    let out = cudalens(
        &[
            "bench",
            "scale_rows.cu",
            "--kernel",
            "scale_rows",
            "--print-launch",
        ],
        &corpus(),
    );
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn print_launch_with_flags_re_divides_the_program_s_threads() {
    let out = cudalens(
        &[
            "bench",
            "scale_rows.cu",
            "--kernel",
            "scale_rows",
            "--print-launch",
            "--block",
            "16,16",
            "--arg",
            "factor=2",
            "--json",
        ],
        &corpus(),
    );
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    // The program's 320 × 600 threads in 16×16 blocks.
    assert_eq!(v["grid"], json!([20, 38, 1]));
    assert_eq!(v["block"], json!([16, 16, 1]));
    assert_eq!(
        v["scalars"],
        json!([
            {"name": "rows", "value": 600.0, "origin": "host"},
            {"name": "cols", "value": 300.0, "origin": "host"},
            {"name": "factor", "value": 2.0, "origin": "--arg"},
        ])
    );
    assert_eq!(
        v["assumptions"],
        json!(["grid: the host code's 320×600 threads re-divided by --block 16×16"])
    );
}

#[test]
fn another_problem_from_grid_leaves_the_program_s_sizes_out() {
    let out = cudalens(
        &[
            "bench",
            "scale_rows.cu",
            "--kernel",
            "scale_rows",
            "--print-launch",
            "--grid",
            "4,4",
            "--block",
            "8,8",
            "--json",
        ],
        &corpus(),
    );
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(v["grid"], json!([4, 4, 1]));
    // 32×32 threads: the size-like scalars get the side, not 600 and 300.
    assert_eq!(v["scalars"][0]["value"], 32.0);
    assert_eq!(v["scalars"][1]["value"], 32.0);
    assert!(
        v["scalars"][0]["origin"]
            .as_str()
            .unwrap()
            .starts_with("assumed: bench's default")
    );
}

#[test]
fn print_launch_follows_the_dataset_chosen_with_d() {
    let out = cudalens(
        &[
            "bench",
            "scale_rows.cu",
            "--kernel",
            "scale_rows",
            "--print-launch",
            "--json",
            "-D",
            "TINY_SET",
        ],
        &corpus(),
    );
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    // 48 columns, 64 rows in 32×8 blocks.
    assert_eq!(v["grid"], json!([2, 8, 1]));
    assert_eq!(
        v["scalars"][0],
        json!({"name": "rows", "value": 64.0, "origin": "host"})
    );
    // Row 63, column 63: the extent analysis bounds the column by the 64
    // threads of x, not by the `c < cols` guard, so 16 elements more than
    // the program's 64 × 48 (never fewer), which its `cudaMalloc`s give.
    assert_eq!(
        v["buffers"],
        json!([
            {"name": "in", "elements": 3088, "allocated": 3072},
            {"name": "out", "elements": 3088, "allocated": 3072}
        ])
    );
}

/// The kernel's file has no launch; the file beside it that includes it
/// does, and its host code gives the launch.
#[test]
fn a_kernel_file_takes_the_launch_of_the_file_including_it() {
    let out = cudalens(
        &[
            "bench",
            "halve_kernel.cu",
            "--kernel",
            "halve",
            "--print-launch",
        ],
        &corpus().join("included"),
    );
    insta::assert_snapshot!(stdout(&out));
}

#[test]
fn a_second_launch_is_picked_with_launch_n() {
    let out = cudalens(
        &[
            "bench",
            "forms.cu",
            "--kernel",
            "fill",
            "--print-launch",
            "--launch",
            "2",
        ],
        &corpus(),
    );
    insta::assert_snapshot!(stdout(&out));
    let out = cudalens(
        &[
            "bench",
            "forms.cu",
            "--kernel",
            "fill",
            "--print-launch",
            "--launch",
            "3",
        ],
        &corpus(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("--launch 3: the file launches `fill` 2 time(s)")
    );
}

/// A row walk (each thread sums its row, PolyBench's atax pattern, written
/// here) launched by a wrapper with the sizes main sets: bench runs the
/// program's launch, sizes the matrix for it, and no access is clamped.
const PROGRAM: &str = r#"
#define ROWS 96
#define COLS 200
#define THREADS 32

__global__ void row_sum(const float *m, float *out, int rows, int cols, float scale)
{
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r < rows) {
        float s = 0.0f;
        for (int c = 0; c < cols; c++) s += m[r * cols + c];
        out[r] = scale * s;
    }
}

void run(const float *m, float *out, int rows, int cols, float scale)
{
    dim3 block(THREADS);
    dim3 grid((rows + block.x - 1) / block.x);
    row_sum<<<grid, block>>>(m, out, rows, cols, scale);
}

void setup(float *scale, int verbose)
{
    if (verbose) *scale = 0.5f;
    else *scale = 2.0f;
}

int main()
{
    int rows = ROWS, cols = COLS;
    float scale;
    setup(&scale, 0);
    float *m, *out;
    run(m, out, rows, cols, scale);
    return 0;
}
"#;

#[test]
fn bench_runs_the_program_s_launch() {
    if !gpu_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join(".git")).expect(".git");
    std::fs::write(dir.path().join("rows.cu"), PROGRAM).expect("write");
    let args = [
        "bench",
        "rows.cu",
        "--kernel",
        "row_sum",
        "--iterations",
        "2",
    ];
    let out = cudalens(&[&args[..], &["--json"]].concat(), dir.path());
    let v: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let launch = &v["launch"];
    assert_eq!(launch["source"], "host");
    assert_eq!(launch["grid"], json!([3, 1, 1]));
    assert_eq!(launch["block"], json!([32, 1, 1]));
    assert_eq!(
        launch["args"],
        json!([["rows", 96.0], ["cols", 200.0], ["scale", 1.0]])
    );
    assert_eq!(launch["arg_origins"][0], "host");
    assert!(
        launch["arg_origins"][2]
            .as_str()
            .unwrap()
            .starts_with("assumed: bench's default 1; not from the host code: set at run time: setup() receives &scale in main"),
        "{launch:#}"
    );
    // 96 rows of 200, not grid × block = 96 elements.
    assert_eq!(launch["extents"], json!([["m", 19200], ["out", 96]]));
    assert_eq!(v["clamped_accesses"], 0);
    assert_eq!(v["errors"], json!([]));

    // The text output says where each number came from, before the time.
    // (In a fresh workspace: the history of the run above is not printed.)
    let fresh = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(fresh.path().join(".git")).expect(".git");
    std::fs::write(fresh.path().join("rows.cu"), PROGRAM).expect("write");
    let text = stdout(&cudalens(&args, fresh.path()));
    let host = text.find("host:").expect(&text);
    let time = text.find("time:").expect(&text);
    assert!(host < time, "{text}");
    // What depends on the machine and the run left out.
    let stable: String = text
        .lines()
        .filter(|l| {
            ![
                "adapter:",
                "time:",
                "bandwidth:",
                "transfers:",
                "history:",
                "dispatch:",
            ]
            .iter()
            .any(|p| l.starts_with(p))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    insta::assert_snapshot!(stable);
}

/// The kernel and the host function launching it are both in a header the
/// benchmarked file includes: that launch is found and read with what its
/// caller resolves (here the block; the grid depends on a parameter), and
/// `--launch 2` picks the header's second launch, all constant.
#[test]
fn a_launch_in_an_included_header_is_read() {
    let dir = corpus().join("launched_in_header");
    let first = cudalens(
        &[
            "bench",
            "program.cu",
            "--kernel",
            "count_bins",
            "--print-launch",
        ],
        &dir,
    );
    insta::assert_snapshot!("launch_in_header_first", stdout(&first));
    let second = cudalens(
        &[
            "bench",
            "program.cu",
            "--kernel",
            "count_bins",
            "--print-launch",
            "--launch",
            "2",
        ],
        &dir,
    );
    insta::assert_snapshot!("launch_in_header_second", stdout(&second));
}
