//! `cudalens.pluginTune` end to end: the first-party `cudalens-autotune`
//! plugin, configured as a user plugin, asks the server to benchmark block
//! sizes of `vector_add` on the real adapter (lavapipe in CI) through
//! `host/benchmark`; the server shows the measured table, asks before
//! applying the recommendation, and sends `workspace/applyEdit`.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::{LspClient, gpu_available, position_of, uri_of};

const VECTOR_ADD: &str = include_str!("../../wgsl/tests/kernels/vector_add.cu");

/// `vector_add` launched with literals, so the plugin can rewrite the launch.
fn literal_launch() -> String {
    VECTOR_ADD.replace(
        "vector_add<<<(n + BLOCK - 1) / BLOCK, BLOCK>>>",
        "vector_add<<<(n + 127) / 128, 128>>>",
    )
}
/// Long enough for five variants on lavapipe, with room for a cold GPU start.
const TUNE_TIMEOUT: Duration = Duration::from_secs(180);

/// The `cudalens-autotune` binary of this target directory (target/<profile>),
/// built with cargo when it is not there yet.
fn autotune_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    // target/<profile>/deps/plugins_tune-… → target/<profile>
    let profile_dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("profile directory");
    let binary = profile_dir.join(format!("cudalens-autotune{}", std::env::consts::EXE_SUFFIX));
    if binary.exists() {
        return binary;
    }
    let target_dir = profile_dir.parent().expect("target directory");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "-p", "cudalens-autotune", "--target-dir"])
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build -p cudalens-autotune");
    assert!(status.success(), "cargo build -p cudalens-autotune failed");
    assert!(binary.exists(), "{} not built", binary.display());
    binary
}

/// Waits until the server has sent a request with `method` (requests are
/// answered by the client as they come, so they never reach `wait_for`).
fn wait_for_server_request(client: &mut LspClient, method: &str, timeout: Duration) -> Value {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(r) = client
            .server_requests
            .iter()
            .find(|r| r["method"] == method)
        {
            return r.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {method} within {timeout:?}; messages: {:#?}",
            client.try_wait_for(&|_| false, Duration::from_millis(1))
        );
        client.try_wait_for(&|_| false, Duration::from_millis(200));
    }
}

/// A server with the autotune plugin, `source` open as `name` in a fresh
/// workspace, after `cudalens.pluginTune` at `at`: the client (which answers
/// "Apply"), the workspace, the document URI, the shown table and its times.
struct Tuned {
    client: LspClient,
    _dir: tempfile::TempDir,
    root: PathBuf,
    uri: String,
    table: String,
    times: Vec<f64>,
}

fn tune(name: &str, source: &str, at: &str, size: u32) -> Tuned {
    let autotune = autotune_binary();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical");
    std::fs::create_dir(root.join(".git")).expect(".git");
    let file = root.join(name);
    std::fs::write(&file, source).expect("write");

    let mut client = LspClient::start();
    let settings = json!({
        "plugins": [{"name": "autotune", "command": autotune}],
        "nvcc": {"path": ""},
    });
    client.configuration = settings.clone();
    client.message_request_answer = Some("Apply".into());
    let caps = json!({"window": {"showMessage": {}}, "workspace": {"applyEdit": true}});
    let init = client.initialize(&root, caps, json!({ "cudalens": settings }));
    let commands = &init["capabilities"]["executeCommandProvider"]["commands"];
    assert!(
        commands
            .as_array()
            .is_some_and(|c| c.contains(&json!("cudalens.pluginTune"))),
        "{commands}"
    );
    let uri = uri_of(&file);
    client.open(&uri, source, 1);
    client.diagnostics(&uri, 1);

    let result = client.request(
        "workspace/executeCommand",
        json!({"command": "cudalens.pluginTune", "arguments": [
            uri, null, position_of(source, at), {"size": size}
        ]}),
    );
    assert_eq!(result, Value::Null);

    let kernel_table = |m: &Value| {
        m["method"] == "window/showMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|t| t.contains(" (autotune): "))
    };
    let shown = client
        .try_wait_for(&kernel_table, TUNE_TIMEOUT)
        .unwrap_or_else(|| panic!("no tuning table; requests: {:#?}", client.server_requests));
    let table = shown["params"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Every candidate ran on the adapter and took a positive time.
    let times: Vec<f64> = table
        .lines()
        .filter(|l| l.trim_start_matches('*').trim_start().starts_with("block "))
        .map(|l| {
            let ms = l
                .split(": ")
                .nth(1)
                .and_then(|t| t.split(" ms").next())
                .and_then(|t| t.trim().parse::<f64>().ok());
            ms.unwrap_or_else(|| panic!("no time in `{l}` of:\n{table}"))
        })
        .collect();
    eprintln!("{table}");
    assert!(times.len() >= 3, "{table}");
    assert!(times.iter().all(|&t| t > 0.0), "{table}");
    assert!(
        table.contains("* block "),
        "recommendation not marked:\n{table}"
    );
    Tuned {
        client,
        _dir: dir,
        root,
        uri,
        table,
        times,
    }
}

/// The edits of the `workspace/applyEdit` the server sent after "Apply".
fn applied_edits(client: &mut LspClient, uri: &str) -> Vec<Value> {
    let question = wait_for_server_request(client, "window/showMessageRequest", TUNE_TIMEOUT);
    let actions: Vec<&str> = question["params"]["actions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["title"].as_str())
        .collect();
    assert_eq!(actions, ["Apply", "Cancel"], "{question:#}");
    let apply = wait_for_server_request(client, "workspace/applyEdit", TUNE_TIMEOUT);
    apply["params"]["edit"]["changes"][uri]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no edits for {uri}: {apply:#}"))
}

#[test]
fn plugin_tune_benchmarks_variants_and_applies_the_recommendation() {
    if !gpu_available() {
        return;
    }
    let source = literal_launch();
    // A small problem (64 Ki elements) keeps five variants to seconds on lavapipe.
    // `_dir` keeps the workspace alive until the end of the test.
    let Tuned {
        mut client,
        _dir,
        root,
        uri,
        times,
        ..
    } = tune("vector_add.cu", &source, "c[i] = a[i]", 65536);
    // vector_add has no loop: no unroll variants.
    assert_eq!(times.len(), 5);
    let edits = applied_edits(&mut client, &uri);
    // `__launch_bounds__` goes after `__global__` on the declaration (line 2);
    // the launch's literal block and the grid computed from it change together.
    let bounds = edits
        .iter()
        .find(|e| {
            e["newText"]
                .as_str()
                .is_some_and(|t| t.contains("__launch_bounds__("))
        })
        .unwrap_or_else(|| panic!("no __launch_bounds__ edit: {edits:#?}"));
    assert_eq!(bounds["range"]["start"]["line"], 2, "{bounds}");
    let threads: u32 = bounds["newText"]
        .as_str()
        .and_then(|t| t.split('(').nth(1))
        .and_then(|t| t.trim_end_matches(')').parse().ok())
        .unwrap_or_else(|| panic!("{bounds}"));
    let launch_line = position_of(&source, "vector_add<<<")["line"].clone();
    let at_launch: Vec<&str> = edits
        .iter()
        .filter(|e| e["range"]["start"]["line"] == launch_line)
        .filter_map(|e| e["newText"].as_str())
        .collect();
    assert_eq!(
        at_launch,
        [
            format!("(n + {}) / {threads}", threads - 1),
            threads.to_string()
        ],
        "{edits:#?}"
    );
    assert_eq!(edits.len(), 3, "{edits:#?}");

    // Every measured variant went into the workspace's history with its
    // features: training data for the learned tuner.
    let export = Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args(["history", "--export", "-", "--workspace"])
        .arg(&root)
        .output()
        .expect("run cudalens history");
    assert!(export.status.success(), "{export:?}");
    let runs: Vec<Value> = String::from_utf8_lossy(&export.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(runs.len(), times.len(), "{runs:#?}");
    for run in &runs {
        assert_eq!(run["kernel_id"], "vector_add.cu::vector_add", "{run}");
        assert_eq!(run["kernel"]["access_pattern"], "coalesced", "{run}");
        assert_eq!(run["kernel"]["problem_size"], 65536, "{run}");
        assert!(run["median_ms"].as_f64().is_some_and(|t| t > 0.0), "{run}");
    }
    // The edit was applied: no error message about it.
    let complaint = client.try_wait_for(
        &|m| {
            m["method"] == "window/showMessage"
                && m["params"]["message"]
                    .as_str()
                    .is_some_and(|t| t.contains("edits"))
        },
        Duration::from_millis(500),
    );
    assert!(complaint.is_none(), "{complaint:?}");
    let status = client.shutdown_and_exit();
    assert!(status.success(), "{status:?}");
}

/// A kernel with a per-thread loop: the plugin also measures unroll factors
/// (the server transpiles the loop unrolled), and a winning factor comes back
/// as `#pragma unroll N` above the loop.
const ROW_SUMS: &str = r#"__global__ void row_sums(const float* a, float* sums, int n) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r < n) {
        float s = 0.0f;
        for (int c = 0; c < 64; ++c) s += a[(r * 64 + c) & (n - 1)];
        sums[r] = s;
    }
}
"#;

#[test]
fn plugin_tune_measures_unroll_factors_of_a_loop() {
    if !gpu_available() {
        return;
    }
    let Tuned {
        mut client,
        _dir,
        table,
        uri,
        ..
    } = tune("row_sums.cu", ROW_SUMS, "s += a", 16384);
    assert!(
        table.contains(" unroll 2: ") && table.contains(" unroll 4: "),
        "{table}"
    );
    let edits = applied_edits(&mut client, &uri);
    let pragma: Vec<&Value> = edits
        .iter()
        .filter(|e| {
            e["newText"]
                .as_str()
                .is_some_and(|t| t.contains("#pragma unroll"))
        })
        .collect();
    let recommended = table
        .lines()
        .find(|l| l.starts_with("* block "))
        .unwrap_or_default();
    if let Some(factor) = recommended
        .split(" unroll ")
        .nth(1)
        .and_then(|t| t.split(':').next())
    {
        let loop_line = position_of(ROW_SUMS, "for (int c")["line"].clone();
        assert_eq!(pragma.len(), 1, "{edits:#?}");
        assert_eq!(pragma[0]["range"]["start"]["line"], loop_line);
        assert_eq!(
            pragma[0]["newText"],
            format!("        #pragma unroll {factor}\n")
        );
    } else {
        assert!(pragma.is_empty(), "{edits:#?}");
    }
    let status = client.shutdown_and_exit();
    assert!(status.success(), "{status:?}");
}
