//! Drives the real `cudalens-autotune` binary over stdio, playing the host.

use std::io::BufReader;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use cudalens_plugin_protocol::jsonrpc::{self, Message};
use cudalens_plugin_protocol::{BenchResult, BenchmarkParams, read_message, write_message};
use serde_json::{Value, json};

struct Session {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Session {
    fn start() -> Session {
        let mut child = Command::new(env!("CARGO_BIN_EXE_cudalens-autotune"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Session {
            child,
            stdin,
            stdout,
        }
    }

    /// Sends a request; answers benchmark callbacks with `bench` until the response arrives.
    fn call(
        &mut self,
        id: i64,
        method: &str,
        params: Value,
        bench: &dyn Fn([u32; 3], Option<u32>) -> BenchResult,
    ) -> Value {
        write_message(&mut self.stdin, &jsonrpc::request(id, method, params)).unwrap();
        loop {
            match Message::from_value(read_message(&mut self.stdout).unwrap()).unwrap() {
                Message::Response { result, .. } => {
                    return result.unwrap_or_else(|e| json!({"error": e.to_string()}));
                }
                Message::Request { id, params, .. } => {
                    let p: BenchmarkParams = serde_json::from_value(params).unwrap();
                    let r = bench(p.variant.block, p.variant.unroll);
                    write_message(
                        &mut self.stdin,
                        &jsonrpc::response(id, serde_json::to_value(r).unwrap()),
                    )
                    .unwrap();
                }
                Message::Notification { .. } => {}
            }
        }
    }

    fn finish(mut self) {
        let none = |_: [u32; 3], _: Option<u32>| BenchResult::failure("unused");
        assert_eq!(self.call(99, "shutdown", Value::Null, &none), Value::Null);
        write_message(&mut self.stdin, &jsonrpc::notification("exit", Value::Null)).unwrap();
        assert!(self.child.wait().unwrap().success());
    }
}

fn tune_params(block_arg: &str) -> Value {
    json!({
        "kernel": {
            "name": "saxpy", "uri": "file:///w/k.cu",
            "range": {"start": {"line": 2, "character": 0}, "end": {"line": 6, "character": 1}},
            "block": [256, 1, 1],
            "adapter": {"name": "Test GPU", "backend": "vulkan", "limits": {}}
        },
        "declaration_range": {"start": {"line": 2, "character": 0}, "end": {"line": 2, "character": 16}},
        "declaration_text": "__global__ void ",
        "launch": {
            "uri": "file:///w/main.cu",
            "block_arg_range": {"start": {"line": 20, "character": 14}, "end": {"line": 20, "character": 17}},
            "block_arg_text": block_arg,
            "grid_arg_range": {"start": {"line": 20, "character": 2}, "end": {"line": 20, "character": 12}},
            "grid_arg_text": "(n+255)/256"
        },
        "unroll_allowed": true,
        "unroll_loops": [{"range": {"start": {"line": 4, "character": 4}, "end": {"line": 5, "character": 20}},
                          "indent": "    "}]
    })
}

/// 128 threads is fastest; unroll 2 helps a little more.
fn synthetic_timings(block: [u32; 3], unroll: Option<u32>) -> BenchResult {
    let base = match block[0] {
        64 => 1.3,
        128 => 0.8,
        256 => 1.0,
        512 => 1.1,
        _ => return BenchResult::failure("too many resources requested for launch"),
    };
    let factor = match unroll {
        Some(2) => 0.9,
        Some(4) => 0.95,
        _ => 1.0,
    };
    BenchResult::success(base * factor, None)
}

#[test]
fn tunes_through_benchmark_callbacks_and_offers_edits() {
    let mut s = Session::start();
    let none = |_: [u32; 3], _: Option<u32>| BenchResult::failure("unused");
    let init = s.call(
        1,
        "initialize",
        json!({"protocol_version": "1.0", "host": {"name": "test", "version": "0"}}),
        &none,
    );
    assert_eq!(init["capabilities"]["tuning"], true);

    let result = s.call(2, "tune", tune_params("256"), &synthetic_timings);
    assert_eq!(
        result["recommendation"]["block"],
        json!([128, 1, 1]),
        "{result}"
    );
    assert_eq!(result["recommendation"]["unroll"], 2);
    // 5 block sizes + 2 unroll factors; the 1024 failure stays in the table.
    assert_eq!(result["table"].as_array().unwrap().len(), 7);
    let explanation = result["explanation"].as_str().unwrap();
    assert!(
        explanation.contains("Test GPU") && explanation.contains("1.39x"),
        "{explanation}"
    );
    let edits = &result["code_action"]["edits"];
    assert_eq!(edits[0]["new_text"], " __launch_bounds__(128)");
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 2, "character": 10})
    );
    // The grid computed from the block is rewritten with it.
    // The winning unroll factor becomes a pragma above the loop the host unrolled.
    assert_eq!(edits[1]["new_text"], "    #pragma unroll 2\n");
    assert_eq!(
        edits[1]["range"]["start"],
        json!({"line": 4, "character": 0})
    );
    assert_eq!(edits[2]["new_text"], "(n+127)/128");
    assert_eq!(edits[3]["new_text"], "128");
    assert_eq!(edits[3]["uri"], "file:///w/main.cu");

    // The measurement is remembered: analyze now points at the faster block.
    let analysis = s.call(
        3,
        "analyze",
        json!({"kernel": tune_params("256")["kernel"]}),
        &none,
    );
    assert_eq!(
        analysis["diagnostics"][0]["code"], "autotune-better-block",
        "{analysis}"
    );

    // A named block variable is not rewritten (it usually feeds the grid computation too).
    // Only `__launch_bounds__` and the pragma remain.
    let result = s.call(4, "tune", tune_params("threads"), &synthetic_timings);
    assert_eq!(result["code_action"]["edits"].as_array().unwrap().len(), 2);
    assert!(
        result["explanation"]
            .as_str()
            .unwrap()
            .contains("`threads`")
    );

    // Without any successful benchmark the plugin answers with an error, not a guess.
    let failed = s.call(5, "tune", tune_params("256"), &none);
    assert!(
        failed["error"]
            .as_str()
            .unwrap()
            .contains("could be benchmarked"),
        "{failed}"
    );
    s.finish();
}
