//! `cudalens report`: the benchmark dashboard from a history that real
//! `cudalens bench` runs wrote (on a real adapter: lavapipe in CI; skipped
//! only with `CUDALENS_SKIP_GPU_TESTS=1`), and from missing, locked, empty
//! and corrupt histories.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cudalens_gpu::History;
use serde_json::Value;
use support::cli::{cudalens, stderr, stdout};
use support::gpu_available;

const KERNELS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../wgsl/tests/kernels");

/// A workspace (it has `.git`) with the suite's vector_add.
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    std::fs::create_dir(root.join(".git")).expect(".git");
    std::fs::copy(
        Path::new(KERNELS_DIR).join("vector_add.cu"),
        root.join("vector_add.cu"),
    )
    .expect("copy kernel");
    (dir, root)
}

fn bench(root: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "bench",
        "vector_add.cu",
        "--kernel",
        "vector_add",
        "--iterations",
        "3",
        "--warmup",
        "1",
        "--json",
    ];
    args.extend(extra);
    let out = cudalens(&args, root);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

/// The value of `attr="..."` on the first element that has `class="chart chart-KIND"`.
fn chart_attr(html: &str, kind: &str, attr: &str) -> usize {
    let start = html
        .find(&format!("class=\"chart chart-{kind}\""))
        .unwrap_or_else(|| panic!("no {kind} chart"));
    let rest = &html[start..];
    let at = rest.find(&format!("{attr}=\"")).expect("attribute") + attr.len() + 2;
    rest[at..at + rest[at..].find('"').unwrap()]
        .parse()
        .expect("a count")
}

#[test]
fn report_shows_the_runs_bench_recorded() {
    if !gpu_available() {
        return;
    }
    let (_dir, root) = workspace();
    bench(&root, &["--size", "4096"]);
    bench(&root, &["--size", "4096"]);
    let sweep = bench(&root, &["--size", "8192", "--autotune"]);
    let measured = sweep["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["outcome"]["status"] == "measured")
        .count();
    assert!(measured >= 2, "{sweep:#}");

    let out = cudalens(&["report"], &root);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = root.join(".cudalens/report.html");
    assert!(stderr(&out).contains("report.html"), "{}", stderr(&out));
    let html = std::fs::read_to_string(&page).expect("the page is written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<code>vector_add</code>"));
    assert!(html.contains(&format!("{} runs of 1 kernel", 2 + measured)));
    // Two benchmarks and the sweep's best on the time line; the whole sweep in bars.
    assert_eq!(chart_attr(&html, "time", "data-points"), 3);
    assert_eq!(chart_attr(&html, "bandwidth", "data-points"), 3);
    assert_eq!(chart_attr(&html, "sweep", "data-bars"), measured);
    assert!(html.contains("★ best"));
    // The adapter of each run, with its backend and driver.
    let adapter = sweep["adapter"].as_str().unwrap();
    assert!(html.contains(adapter), "{adapter}");
    assert!(html.contains(" · Vulkan · "), "backend recorded");
    // Nothing to fetch.
    let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    assert!(!without_ns.contains("http://") && !without_ns.contains("https://"));

    // From a directory inside the workspace, its history is found.
    std::fs::create_dir(root.join("src")).unwrap();
    let inside = cudalens(&["report", "-o", "-"], &root.join("src"));
    assert!(inside.status.success(), "{}", stderr(&inside));
    assert!(stdout(&inside).contains("<code>vector_add</code>"));

    // `-` prints the same page; another path is created with its directory.
    let printed = cudalens(&["report", "--output", "-"], &root);
    assert!(printed.status.success(), "{}", stderr(&printed));
    assert!(stdout(&printed).contains("class=\"chart chart-time\" data-points=\"3\""));
    let elsewhere = root.join("out/dash.html");
    let written = cudalens(
        &[
            "report",
            "--workspace",
            root.to_str().unwrap(),
            "-o",
            elsewhere.to_str().unwrap(),
        ],
        Path::new("/"),
    );
    assert!(written.status.success(), "{}", stderr(&written));
    assert!(
        std::fs::read_to_string(elsewhere)
            .unwrap()
            .contains("vector_add")
    );
}

#[test]
fn a_missing_history_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    // (`--workspace .`: no directory above the temporary one is looked at.)
    let out = cudalens(&["report", "--workspace", "."], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no benchmark history at") && stderr(&out).contains("cudalens bench"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join(".cudalens").exists(), "nothing created");
    let open_stdout = cudalens(&["report", "-o", "-", "--open"], dir.path());
    assert_eq!(open_stdout.status.code(), Some(2));
}

#[test]
fn an_empty_history_gives_a_page_that_says_so() {
    let dir = tempfile::tempdir().unwrap();
    drop(History::open(dir.path()).unwrap());
    let out = cudalens(&["report", "-o", "-"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("No benchmark runs recorded yet"));
}

#[test]
fn a_corrupt_history_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".cudalens")).unwrap();
    std::fs::write(
        dir.path().join(".cudalens/history.redb"),
        b"not a database, just some bytes".repeat(100),
    )
    .unwrap();
    let out = cudalens(&["report"], dir.path());
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("cannot read the benchmark history"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn a_history_held_open_by_another_process_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::open(dir.path()).unwrap();
    history
        .append(&cudalens_gpu::HistoryRecord {
            kernel: "held".into(),
            median_ms: 1.0,
            ..Default::default()
        })
        .unwrap();
    let bin = env!("CARGO_BIN_EXE_cudalens");
    let child = std::process::Command::new(bin)
        .args(["report", "-o", "-"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // As `bench` does while recording: hold it a moment, then let go.
    std::thread::sleep(Duration::from_millis(500));
    drop(history);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("<code>held</code>"));
}
