//! Drives the real `cudalens-learned-tuner` binary over stdio.

use std::io::BufReader;
use std::process::{Command, Stdio};

use cudalens_plugin_protocol::jsonrpc::{self, Message};
use cudalens_plugin_protocol::{BenchResult, BenchmarkParams, read_message, write_message};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_cudalens-learned-tuner");

/// Runs one session: initialize with `options`, then `requests`; benchmarks report 1 ms
/// for every block except 128 threads (0.5 ms). Returns the results in order.
fn session(options: Value, requests: &[(&str, Value)]) -> Vec<Value> {
    let mut child = Command::new(BIN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let init = json!({"protocol_version": "1.0", "host": {"name": "t", "version": "0"}, "options": options});
    let mut all = vec![("initialize", init)];
    all.extend(requests.iter().cloned());
    all.push(("shutdown", Value::Null));
    let mut results = Vec::new();
    for (id, (method, params)) in all.into_iter().enumerate() {
        write_message(&mut stdin, &jsonrpc::request(id as i64, method, params)).unwrap();
        loop {
            match Message::from_value(read_message(&mut stdout).unwrap()).unwrap() {
                Message::Response { result, .. } => {
                    results.push(result.unwrap());
                    break;
                }
                Message::Request { id, params, .. } => {
                    let p: BenchmarkParams = serde_json::from_value(params).unwrap();
                    let ms = if p.variant.threads() == 128 { 0.5 } else { 1.0 };
                    let r = serde_json::to_value(BenchResult::success(ms, None)).unwrap();
                    write_message(&mut stdin, &jsonrpc::response(id, r)).unwrap();
                }
                Message::Notification { .. } => {}
            }
        }
    }
    write_message(&mut stdin, &jsonrpc::notification("exit", Value::Null)).unwrap();
    assert!(child.wait().unwrap().success());
    results
}

fn tune_params() -> Value {
    json!({
        "kernel": {
            "name": "saxpy", "uri": "file:///k.cu", "block": [256, 1, 1],
            "features": {"access_pattern": "coalesced", "arithmetic_intensity": 0.2, "registers": 32,
                         "problem_size": 16777216, "is_2d": false}
        },
        "declaration_range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 16}}
    })
}

#[test]
fn uses_heuristics_without_history_and_the_model_with_it() {
    let results = session(Value::Null, &[("tune", tune_params())]);
    let explanation = results[1]["explanation"].as_str().unwrap();
    assert!(explanation.contains("heuristic"), "{explanation}");
    assert_eq!(results[1]["recommendation"]["block"], json!([128, 1, 1]));
    // Top 3 by heuristic ranking plus nothing extra (256 is among them).
    assert_eq!(results[1]["table"].as_array().unwrap().len(), 3);

    let dir = std::env::temp_dir().join(format!("learned-tuner-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let history = dir.join("history.jsonl");
    let status = Command::new(BIN)
        .arg("--synthetic-history")
        .arg(&history)
        .arg("40")
        .status()
        .unwrap();
    assert!(status.success());
    let options = json!({"history": history});
    let kernel = tune_params()["kernel"].clone();
    let results = session(
        options,
        &[
            ("tune", tune_params()),
            ("analyze", json!({"kernel": kernel})),
        ],
    );
    let explanation = results[1]["explanation"].as_str().unwrap();
    assert!(explanation.contains("model (trained on"), "{explanation}");
    assert!(results[2]["diagnostics"].is_array());

    // A missing history file is not fatal: heuristics, with the reason on stderr.
    let results = session(
        json!({"history": dir.join("missing.jsonl")}),
        &[("tune", tune_params())],
    );
    assert!(
        results[1]["explanation"]
            .as_str()
            .unwrap()
            .contains("heuristic")
    );
}
