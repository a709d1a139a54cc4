//! End-to-end tests of the language server: the real binary over stdio.

mod support;

use serde_json::{Value, json};
use support::{LspClient, position_of, uri_of};

const HEADER: &str = "#pragma once\n#define SCALE 2.0f\n";

/// Non-ASCII text before and on diagnosed lines checks UTF-16 columns.
const SOURCE: &str = r#"// Ünïcödé comment 😀 before the code
#include "config.cuh"
#define TILE 32

__global__ void transpose(float* out, const float* in) {
  __shared__ float tile[TILE][TILE];
  tile[threadIdx.y][threadIdx.x] = in[threadIdx.y * TILE + threadIdx.x];
  __syncthreads();
  out[threadIdx.y * TILE + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}

__global__ void scale(float* a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) a[i] *= SCALE;
}

void host(float* o, float* i, int n) {
  transpose<<<264, dim3(32, 32)>>>(o, i);
  /* é😀 */ scale<<<(n + 999) / 1000, 1000>>>(o, n);
}
"#;

struct Fixture {
    /// Bind it (`_dir`) in tests: dropping it deletes the files.
    _dir: tempfile::TempDir,
    client: LspClient,
    uri: String,
    header_uri: String,
}

fn start(options: Value) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical temp dir");
    std::fs::write(root.join("config.cuh"), HEADER).expect("write header");
    let main = root.join("kernels.cu");
    std::fs::write(&main, SOURCE).expect("write source");
    let mut client = LspClient::start();
    let caps = json!({"textDocument": {"publishDiagnostics": {"relatedInformation": true}}});
    let init = client.initialize(&root, caps, options);
    assert_eq!(
        init["capabilities"]["textDocumentSync"]["change"], 2,
        "incremental sync"
    );
    let uri = uri_of(&main);
    Fixture {
        header_uri: uri_of(&root.join("config.cuh")),
        _dir: dir,
        client,
        uri,
    }
}

fn codes(diagnostics: &[Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect()
}

fn find<'a>(diagnostics: &'a [Value], code: &str) -> &'a Value {
    diagnostics
        .iter()
        .find(|d| d["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {diagnostics:#?}"))
}

fn range_of(text: &str, needle: &str) -> Value {
    let start = position_of(text, needle);
    let end_char =
        start["character"].as_u64().unwrap_or(0) as usize + needle.encode_utf16().count();
    json!({"start": start, "end": {"line": start["line"], "character": end_char}})
}

#[test]
fn diagnostics_have_utf16_ranges_and_follow_incremental_edits() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(Value::Null);
    client.open(&uri, SOURCE, 1);
    let diags = client.diagnostics(&uri, 1);
    let partial_warp = find(&diags, "block-size-not-multiple-of-32");
    assert_eq!(
        partial_warp["range"],
        range_of(SOURCE, "1000>>>")["start"].clone().pipe_range(4)
    );
    assert_eq!(partial_warp["source"], "cudalens");
    assert_eq!(partial_warp["severity"], 2);
    let conflict = find(&diags, "bank-conflict");
    assert_eq!(
        conflict["range"],
        range_of(SOURCE, "tile[threadIdx.x][threadIdx.y]")
    );

    // Replace `1000` (the block argument) with `1024`: the warning goes away.
    let edit_range = range_of(SOURCE, "1000>>>")["start"].clone().pipe_range(4);
    client.change(&uri, 2, json!([{"range": edit_range, "text": "1024"}]));
    let diags = client.diagnostics(&uri, 2);
    assert!(
        !codes(&diags).contains(&"block-size-not-multiple-of-32"),
        "{diags:#?}"
    );

    // Insert a line with astral characters at the top: ranges move down one line.
    client.change(&uri, 3, json!([{"range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}, "text": "// 😀😀\r\n"}]));
    let diags = client.diagnostics(&uri, 3);
    let moved = find(&diags, "bank-conflict");
    let mut expected = range_of(SOURCE, "tile[threadIdx.x][threadIdx.y]");
    expected["start"]["line"] = json!(9);
    expected["end"]["line"] = json!(9);
    assert_eq!(moved["range"], expected);
    assert!(client.shutdown_and_exit().success());
}

trait PipeRange {
    fn pipe_range(self, len: u64) -> Value;
}

impl PipeRange for Value {
    /// A one-line range of `len` UTF-16 units starting at this position.
    fn pipe_range(self, len: u64) -> Value {
        let end = json!({"line": self["line"], "character": self["character"].as_u64().unwrap_or(0) + len});
        json!({"start": self, "end": end})
    }
}

#[test]
fn hover_symbols_and_definition() {
    let Fixture {
        mut client,
        uri,
        header_uri,
        _dir,
    } = start(Value::Null);
    client.open(&uri, SOURCE, 1);
    let diags = client.diagnostics(&uri, 1);
    assert!(!codes(&diags).contains(&"include-not-found"), "{diags:#?}");
    let at = |needle: &str, shift: u64| {
        let mut p = position_of(SOURCE, needle);
        p["character"] = json!(p["character"].as_u64().unwrap_or(0) + shift);
        json!({"textDocument": {"uri": uri}, "position": p})
    };
    let hover_text = |client: &mut LspClient, params: Value| -> String {
        let h = client.request("textDocument/hover", params);
        h["contents"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    let kernel = hover_text(&mut client, at("transpose(float", 2));
    assert!(
        kernel.contains("__global__ void transpose(float* out, const float* in)"),
        "{kernel}"
    );
    assert!(kernel.contains("| Limit | Blocks/SM | Notes |"), "{kernel}");

    let launch = hover_text(&mut client, at("<<<264", 1));
    assert!(launch.contains("grid 264×1×1 · block 32×32×1"), "{launch}");

    let shared = hover_text(&mut client, at("tile[TILE][TILE]", 1));
    assert!(shared.contains("4,096 bytes per block"), "{shared}");

    let access = hover_text(&mut client, at("tile[threadIdx.x][threadIdx.y]", 3));
    assert!(access.contains("32-way bank conflict"), "{access}");

    let mac = hover_text(&mut client, at("SCALE;", 1));
    assert!(mac.contains("#define SCALE 2.0f"), "{mac}");

    // Macro defined in the header next to the file.
    let def = client.request("textDocument/definition", at("SCALE;", 0));
    assert_eq!(def["uri"], header_uri.as_str());
    assert_eq!(def["range"]["start"], json!({"line": 1, "character": 8}));
    // Kernel from its launch.
    let def = client.request("textDocument/definition", at("scale<<<", 0));
    assert_eq!(def["range"]["start"], position_of(SOURCE, "scale(float"));

    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let names: Vec<&str> = symbols
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["transpose", "scale", "host"]);
    let transpose_children = &symbols[0]["children"];
    assert_eq!(transpose_children[0]["name"], "tile");
    let host_children: Vec<&str> = symbols[2]["children"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(host_children, ["transpose<<<…>>>", "scale<<<…>>>"]);
}

/// With `keepAnalyzedDocuments: 1`, analysing a second document hibernates
/// the first; a settings change then analyses the sleeping one in full (not
/// as a file without a tree), and a request still wakes it.
#[test]
fn only_the_most_recently_analysed_documents_stay_analysed() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(json!({"cudalens": {"keepAnalyzedDocuments": 1, "hibernateAfterSeconds": 0}}));
    client.open(&uri, SOURCE, 1);
    let first = client.diagnostics(&uri, 1);
    assert!(codes(&first).contains(&"bank-conflict"), "{first:?}");

    let other_path = _dir.path().canonicalize().expect("dir").join("other.cu");
    let other_text = "__global__ void copy(float* a, const float* b) {\n  a[threadIdx.x] = b[threadIdx.x * 2];\n}\n";
    std::fs::write(&other_path, other_text).expect("write other.cu");
    let other_uri = uri_of(&other_path);
    client.open(&other_uri, other_text, 1);
    client.diagnostics(&other_uri, 1);
    let evicted = |m: &Value| {
        m["method"] == "window/logMessage"
            && m["params"]["message"].as_str().is_some_and(|t| {
                t.contains(uri.as_str()) && t.contains("cudalens.keepAnalyzedDocuments")
            })
    };
    client
        .try_wait_for(&evicted, std::time::Duration::from_secs(10))
        .expect("the first document hibernates once the second is analysed");

    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"cudalens": {"keepAnalyzedDocuments": 1, "hibernateAfterSeconds": 0, "disabledRules": ["bank-conflict"]}}}),
    );
    let again = client.diagnostics_until(&uri, |d| !d.iter().any(|d| d["code"] == "bank-conflict"));
    let expected: Vec<&str> = codes(&first)
        .into_iter()
        .filter(|c| *c != "bank-conflict")
        .collect();
    assert_eq!(codes(&again), expected, "{again:?}");

    let at =
        json!({"textDocument": {"uri": uri}, "position": position_of(SOURCE, "tile[TILE][TILE]")});
    let hover = client.request("textDocument/hover", at);
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.contains("4,096 bytes per block"), "{hover}");
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn idle_documents_hibernate_and_wake_for_requests_and_edits() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(json!({"cudalens": {"hibernateAfterSeconds": 1}}));
    client.open(&uri, SOURCE, 1);
    let before = client.diagnostics(&uri, 1);
    let freed = |m: &Value| {
        m["method"] == "window/logMessage"
            && m["params"]["message"]
                .as_str()
                .is_some_and(|t| t.contains("idle: syntax tree and analysis caches freed"))
    };
    client
        .try_wait_for(&freed, std::time::Duration::from_secs(10))
        .expect("the idle document hibernates");

    // A request needs the function bodies: the document wakes for it.
    let at = |needle: &str| json!({"textDocument": {"uri": uri}, "position": position_of(SOURCE, needle)});
    let hover = client.request("textDocument/hover", at("tile[TILE][TILE]"));
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(text.contains("4,096 bytes per block"), "{hover}");

    // Asleep again, an edit parses from scratch and analyses as usual.
    client
        .try_wait_for(&freed, std::time::Duration::from_secs(10))
        .expect("hibernates again");
    let line = position_of(SOURCE, "if (i < n)")["line"]
        .as_u64()
        .unwrap_or(0);
    client.change(&uri, 2, json!([{
        "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
        "text": "  // edited while asleep\n"
    }]));
    let after = client.diagnostics(&uri, 2);
    assert_eq!(codes(&after), codes(&before));

    // Asleep once more, its kernels are still found from another file.
    client
        .try_wait_for(&freed, std::time::Duration::from_secs(10))
        .expect("hibernates a third time");
    let main_path = _dir.path().canonicalize().expect("dir").join("main.cu");
    let main_text = "void run(float* a, int n) {\n    scale<<<1, 32>>>(a, n);\n}\n";
    std::fs::write(&main_path, main_text).expect("write main.cu");
    let main_uri = uri_of(&main_path);
    client.open(&main_uri, main_text, 1);
    client.diagnostics(&main_uri, 1);
    let def = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": main_uri}, "position": {"line": 1, "character": 5}}),
    );
    assert_eq!(def["uri"], uri.as_str(), "{def}");
    let edited = {
        let mut lines: Vec<&str> = SOURCE.lines().collect();
        lines.insert(line as usize, "  // edited while asleep");
        lines.join("\n")
    };
    assert_eq!(def["range"]["start"], position_of(&edited, "scale(float"));
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn code_actions_quick_fix_and_fix_all() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(Value::Null);
    client.open(&uri, SOURCE, 1);
    let diags = client.diagnostics(&uri, 1);
    let conflict = find(&diags, "bank-conflict").clone();
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": conflict["range"], "context": {"diagnostics": [conflict]}}),
    );
    let pad = actions
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Pad `tile`"))
        })
        .unwrap_or_else(|| panic!("no padding fix in {actions:#}"));
    assert_eq!(pad["kind"], "quickfix");
    assert_eq!(pad["isPreferred"], true);
    let edits = &pad["edit"]["changes"][uri.as_str()];
    assert_eq!(edits[0]["newText"], " + 1");
    assert_eq!(
        edits[0]["range"]["start"],
        position_of(SOURCE, "][TILE]").pipe_range(0)["start"]
            .clone()
            .shift(6)
    );

    // fixAll applies only safe fixes: here exactly the padding.
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 30, "character": 0}});
    let fix_all = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    let fix_all = fix_all.as_array().cloned().unwrap_or_default();
    assert_eq!(fix_all.len(), 1, "{fix_all:#?}");
    assert_eq!(fix_all[0]["kind"], "source.fixAll.cudalens");
    assert_eq!(fix_all[0]["edit"]["changes"][uri.as_str()], *edits);
}

/// A loop where each thread walks its own chunk: the "interleave" fix is a
/// quick fix with its conditions in the title, never preferred or applied by
/// `source.fixAll`.
const CHUNKS: &str = r#"__global__ void scale_chunks(const float* in, float* out, int per_thread) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  for (int k = 0; k < per_thread; ++k)
    out[t * per_thread + k] = 2.0f * in[t * per_thread + k];
}
void host(const float* in, float* out, int n) { scale_chunks<<<64, 256>>>(in, out, n); }
"#;

#[test]
fn code_actions_offer_the_pure_map_interleave_as_a_suggestion() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(Value::Null);
    let uri = uri.replace("kernels.cu", "chunks.cu");
    client.open(&uri, CHUNKS, 1);
    let diags = client.diagnostics(&uri, 1);
    let store = diags
        .iter()
        .find(|d| {
            d["code"] == "uncoalesced-access"
                && d["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("uncoalesced global store"))
        })
        .unwrap_or_else(|| panic!("no uncoalesced store in {diags:#?}"))
        .clone();
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": store["range"], "context": {"diagnostics": [store]}}),
    );
    let interleave = actions
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| {
            a["title"].as_str().is_some_and(|t| {
                t.starts_with("Interleave the `k` loop across threads: index `t * per_thread + k` → `k * (gridDim.x * blockDim.x) + t` (up to 32 → 4 sectors per request) — Assumes every thread of the grid")
            })
        })
        .unwrap_or_else(|| panic!("no interleave fix in {actions:#}"));
    assert_eq!(interleave["kind"], "quickfix");
    assert_eq!(interleave["isPreferred"], false);
    let edits = interleave["edit"]["changes"][uri.as_str()]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(edits.len(), 2, "{interleave:#}");
    for (edit, at) in edits.iter().zip(["out[", "in["]) {
        assert_eq!(edit["newText"], "k * (gridDim.x * blockDim.x) + t");
        let start = position_of(CHUNKS, &format!("{at}t * per_thread")).shift(at.len() as u64);
        assert_eq!(edit["range"]["start"], start, "{edit}");
    }

    // A suggestion: source.fixAll leaves it out.
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 10, "character": 0}});
    let fix_all = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    assert!(
        fix_all.as_array().is_none_or(|a| a.is_empty()),
        "{fix_all:#}"
    );
}

trait Shift {
    fn shift(self, by: u64) -> Value;
}

impl Shift for Value {
    fn shift(mut self, by: u64) -> Value {
        self["character"] = json!(self["character"].as_u64().unwrap_or(0) + by);
        self
    }
}

#[test]
fn inlay_hints_code_lens_and_occupancy_command() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(Value::Null);
    client.open(&uri, SOURCE, 1);
    client.diagnostics(&uri, 1);
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 30, "character": 0}});
    let hints = client.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": whole}),
    );
    let labels: Vec<&str> = hints
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["label"].as_str())
        .collect();
    assert_eq!(labels.len(), 2, "{hints:#}");
    assert!(
        labels
            .iter()
            .all(|l| l.starts_with("occupancy ") && l.contains(" warps) — limited by ")),
        "{labels:?}"
    );
    // After the launch's closing parenthesis.
    assert_eq!(
        hints[0]["position"],
        position_of(SOURCE, ";\n  /* é😀").shift(0)
    );

    let lenses = client.request(
        "textDocument/codeLens",
        json!({"textDocument": {"uri": uri}}),
    );
    // The occupancy lenses (the GPU lenses are tested in lsp_gpu.rs).
    let lenses: Vec<Value> = lenses
        .as_array()
        .into_iter()
        .flatten()
        .filter(|l| l["command"]["command"] == "cudalens.showOccupancyTable")
        .cloned()
        .collect();
    assert_eq!(lenses.len(), 2);
    assert_eq!(
        lenses[0]["range"]["start"],
        position_of(SOURCE, "transpose(float")
    );
    let command = &lenses[0]["command"];
    assert_eq!(command["command"], "cudalens.showOccupancyTable");
    assert!(
        command["title"]
            .as_str()
            .is_some_and(|t| t.starts_with("occupancy ")),
        "{command}"
    );
    let table = client.request(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    );
    let table = table.as_str().unwrap_or_default();
    assert!(
        table.contains("### `transpose`") && table.contains("| Limit | Blocks/SM | Notes |"),
        "{table}"
    );
}

#[test]
fn configuration_changes_reanalyse_open_documents() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(json!({"inlayHints": {"accessCost": false}}));
    client.open(&uri, SOURCE, 1);
    assert!(codes(&client.diagnostics(&uri, 1)).contains(&"bank-conflict"));
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"cudalens": {"disabledRules": ["bank-conflict"], "inlayHints": {"accessCost": true}}}}),
    );
    let diags = client.diagnostics_until(&uri, |d| !d.iter().any(|d| d["code"] == "bank-conflict"));
    assert!(codes(&diags).contains(&"block-size-not-multiple-of-32"));
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 30, "character": 0}});
    let hints = client.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": uri}, "range": whole}),
    );
    let labels: Vec<&str> = hints
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["label"].as_str())
        .collect();
    assert!(labels.contains(&"32-way"), "{labels:?}");
    assert!(labels.contains(&"4 sectors/req"), "{labels:?}");
}

#[test]
fn editing_an_open_header_reanalyses_the_documents_that_include_it() {
    let Fixture {
        mut client,
        uri,
        header_uri,
        _dir,
    } = start(Value::Null);
    // The block size comes from the header: 1000 is not a multiple of 32.
    let source = SOURCE.replace("1000>>>", "BLOCK>>>");
    let header = format!("{HEADER}#define BLOCK 1000\n");
    client.open(&header_uri, &header, 1);
    client.open(&uri, &source, 1);
    assert!(codes(&client.diagnostics(&uri, 1)).contains(&"block-size-not-multiple-of-32"));
    // Each header edit re-analyses the includer, whose own text (version 1)
    // did not change: twice, so the second goes through the kept tree.
    let block = position_of(&header, "1000");
    let digits = block.clone().pipe_range(4);
    client.change(&header_uri, 2, json!([{"range": digits, "text": "1024"}]));
    client.diagnostics_until(&uri, |d| {
        !d.iter()
            .any(|d| d["code"] == "block-size-not-multiple-of-32")
    });
    client.change(
        &header_uri,
        3,
        json!([{"range": block.pipe_range(4), "text": "1000"}]),
    );
    client.diagnostics_until(&uri, |d| {
        d.iter()
            .any(|d| d["code"] == "block-size-not-multiple-of-32")
    });
    // The includer's own first edit still gives a fresh, correct result.
    let at = range_of(&source, "(n + 999)")["start"]
        .clone()
        .pipe_range(0);
    client.change(&uri, 2, json!([{"range": at, "text": " "}]));
    assert!(codes(&client.diagnostics(&uri, 2)).contains(&"block-size-not-multiple-of-32"));
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn pulls_configuration_when_the_client_supports_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut client = LspClient::start();
    client.configuration =
        json!({"disabledRules": ["bank-conflict", "block-size-not-multiple-of-32"]});
    client.initialize(
        dir.path(),
        json!({"workspace": {"configuration": true}}),
        Value::Null,
    );
    let uri = uri_of(&dir.path().join("k.cu"));
    client.open(&uri, SOURCE, 1);
    // Without the pulled settings no publish would lack both.
    let diags = client.diagnostics_until(&uri, |d| {
        !d.is_empty() && !d.iter().any(|d| d["code"] == "bank-conflict")
    });
    assert!(
        !codes(&diags).contains(&"block-size-not-multiple-of-32"),
        "{diags:#?}"
    );
}

#[test]
fn malformed_messages_get_errors_and_the_server_keeps_serving() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(Value::Null);
    client.send_raw(b"Content-Length: 9\r\n\r\n{not json");
    let parse_error = client.wait_for(|m| m["error"]["code"] == -32700);
    assert_eq!(parse_error["id"], Value::Null);
    // Not JSON-RPC 2.0: answered with its id.
    client.send(&json!({"jsonrpc": "1.0", "id": 99, "method": "initialize"}));
    let invalid = client.wait_for(|m| m["error"]["code"] == -32600);
    assert_eq!(invalid["id"], 99);
    // No method: tower-lsp-server reads it as method "" (not found), also fine.
    client.send(&json!({"jsonrpc": "2.0", "id": 100}));
    let no_method = client.wait_for(|m| m["id"] == 100);
    assert_eq!(no_method["error"]["code"], -32601);
    client.send_raw(b"Content-Length: 2\r\n\r\n\xff\xfe");
    client.wait_for(|m| m["error"]["code"] == -32700);
    client.send_raw(b"garbage without headers\r\n\r\n");
    client.wait_for(|m| m["error"]["code"] == -32700);

    let bad_params = client.request_full("textDocument/hover", json!({"textDocument": 5}));
    assert_eq!(bad_params["error"]["code"], -32602, "{bad_params}");
    let unknown = client.request_full("cudalens/noSuchMethod", json!({}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    client.open(&uri, SOURCE, 1);
    assert!(!client.diagnostics(&uri, 1).is_empty());
    let status = client.shutdown_and_exit();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let mut client = LspClient::start();
    client.initialize(std::path::Path::new("/tmp"), json!({}), Value::Null);
    client.notify("exit", Value::Null);
    assert_eq!(client.wait_exit().code(), Some(1));
}

#[test]
fn a_burst_of_edits_never_publishes_stale_results() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(Value::Null);
    client.open(&uri, SOURCE, 1);
    client.diagnostics(&uri, 1);
    let mut text = SOURCE.to_string();
    for version in 2..=30 {
        // Type `é` at the start of the comment on line 0.
        client.change(&uri, version, json!([{"range": {"start": {"line": 0, "character": 3}, "end": {"line": 0, "character": 3}}, "text": "é"}]));
        text.insert(3, 'é');
    }
    let mut versions = Vec::new();
    let last = loop {
        let m = client.wait_for(|m| m["method"] == "textDocument/publishDiagnostics");
        let v = m["params"]["version"].as_i64().unwrap_or(-1);
        versions.push(v);
        if v == 30 {
            break m;
        }
    };
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
    let diags = last["params"]["diagnostics"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        find(&diags, "bank-conflict")["range"],
        range_of(&text, "tile[threadIdx.x][threadIdx.y]")
    );
}

#[test]
fn huge_and_binary_documents_are_handled() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut client = LspClient::start();
    client.initialize(
        dir.path(),
        json!({}),
        json!({"cudalens": {"maxFileSizeMB": 1}}),
    );
    let huge_uri = uri_of(&dir.path().join("huge.cu"));
    let huge = "int x;\n".repeat(200_000);
    client.open(&huge_uri, &huge, 1);
    let diags = client.diagnostics(&huge_uri, 1);
    assert_eq!(codes(&diags), ["file-too-large"]);

    let binary_uri = uri_of(&dir.path().join("binary.cu"));
    client.open(
        &binary_uri,
        "\0\u{1}\u{7f}ELF\0__global__ void k() {\0}\u{fffd}",
        1,
    );
    client.diagnostics(&binary_uri, 1);
    let hover = client.request_full(
        "textDocument/hover",
        json!({"textDocument": {"uri": binary_uri}, "position": {"line": 0, "character": 20}}),
    );
    assert!(hover.get("error").is_none());
    assert!(client.shutdown_and_exit().success());
}

/// Every diagnostic with a registry rule links its page (`codeDescription`),
/// in what is published and in what code actions say they fix.
#[test]
fn diagnostics_link_their_rule_page() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(Value::Null);
    client.open(&uri, SOURCE, 1);
    let diags = client.diagnostics(&uri, 1);
    assert!(diags.len() >= 2, "{diags:#?}");
    for d in &diags {
        let code = d["code"].as_str().expect("a code");
        let rule = cudalens_analysis::rules::find(code).expect("a registry rule");
        assert_eq!(d["codeDescription"]["href"], rule.docs_url(), "{d:#}");
    }
    let conflict = find(&diags, "bank-conflict").clone();
    assert_eq!(
        conflict["codeDescription"]["href"],
        "https://example.invalid/cudalens/blob/main/docs/rules/bank-conflict.md"
    );
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": conflict["range"], "context": {"diagnostics": [conflict]}}),
    );
    for action in actions.as_array().into_iter().flatten() {
        for fixed in action["diagnostics"].as_array().into_iter().flatten() {
            assert_eq!(fixed, &conflict, "{action:#}");
        }
    }
    assert!(client.shutdown_and_exit().success());
}

/// "Ignore this finding here" writes the suppression comment above the
/// finding, which the next analysis honours.
#[test]
fn ignore_this_finding_here() {
    let Fixture {
        mut client,
        uri,
        _dir,
        ..
    } = start(Value::Null);
    client.open(&uri, SOURCE, 1);
    let diags = client.diagnostics(&uri, 1);
    let conflict = find(&diags, "bank-conflict").clone();
    let actions = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": conflict["range"], "context": {"diagnostics": [conflict]}}),
    );
    let titles: Vec<&str> = actions
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["title"].as_str())
        .collect();
    let ignore = actions
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["title"] == "Ignore this finding here (bank-conflict)")
        .unwrap_or_else(|| panic!("no ignore action in {titles:?}"));
    assert_eq!(ignore["kind"], "quickfix");
    assert_eq!(ignore["isPreferred"], false);
    assert_eq!(ignore["diagnostics"][0], conflict);
    let line = conflict["range"]["start"]["line"].clone();
    let line_start = json!({"line": line, "character": 0});
    assert_eq!(
        ignore["edit"]["changes"][uri.as_str()],
        json!([{"range": {"start": line_start, "end": line_start}, "newText": "  // cudalens-ignore[bank-conflict]: \n"}])
    );
    // Never part of fix-all: silencing is the user's decision.
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 30, "character": 0}});
    let fix_all = client.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": uri}, "range": whole, "context": {"diagnostics": [], "only": ["source.fixAll"]}}),
    );
    assert!(
        !fix_all.to_string().contains("cudalens-ignore"),
        "{fix_all:#}"
    );

    let edits = ignore["edit"]["changes"][uri.as_str()]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let changes: Vec<Value> = edits
        .iter()
        .map(|e| json!({"range": e["range"], "text": e["newText"]}))
        .collect();
    client.change(&uri, 2, Value::Array(changes));
    let diags = client.diagnostics(&uri, 2);
    let codes = codes(&diags);
    assert!(!codes.contains(&"bank-conflict"), "{diags:#?}");
    let reason = find(&diags, "suppression-without-reason");
    assert_eq!(reason["range"]["start"]["line"], line);
    assert!(client.shutdown_and_exit().success());
}

/// `cudalens.toml` turns rules off per path in the editor too, and a change
/// to it (reported by the client's file watcher) re-analyses open documents.
#[test]
fn cudalens_toml_turns_rules_off_per_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical temp dir");
    let toml = root.join("cudalens.toml");
    std::fs::write(
        &toml,
        "[disabledRulesPerPath]\n\"vendor/**\" = [\"bank-conflict\"]\n",
    )
    .expect("write config");
    std::fs::create_dir_all(root.join("vendor")).expect("dir");
    for dir in [root.clone(), root.join("vendor")] {
        std::fs::write(dir.join("config.cuh"), HEADER).expect("write header");
    }
    let mut client = LspClient::start();
    let caps = json!({"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}});
    client.initialize(&root, caps, Value::Null);
    let ours = uri_of(&root.join("kernels.cu"));
    let vendored = uri_of(&root.join("vendor/kernels.cu"));
    client.open(&ours, SOURCE, 1);
    client.open(&vendored, SOURCE, 1);
    assert!(codes(&client.diagnostics(&ours, 1)).contains(&"bank-conflict"));
    let vendored_codes = codes(&client.diagnostics(&vendored, 1))
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    assert!(
        !vendored_codes.iter().any(|c| c == "bank-conflict"),
        "{vendored_codes:?}"
    );
    assert!(
        vendored_codes
            .iter()
            .any(|c| c == "block-size-not-multiple-of-32")
    );
    // The server asked to hear about the file.
    let registration = client
        .server_requests
        .iter()
        .find(|r| r["method"] == "client/registerCapability")
        .unwrap_or_else(|| panic!("no registration in {:#?}", client.server_requests));
    let registration = &registration["params"]["registrations"][0];
    assert_eq!(registration["method"], "workspace/didChangeWatchedFiles");
    assert_eq!(
        registration["registerOptions"]["watchers"][0]["globPattern"],
        "**/cudalens.toml"
    );

    // Changed on disk: both documents are analysed again without an edit.
    std::fs::write(
        &toml,
        "disabledRules = [\"block-size-not-multiple-of-32\"]\n",
    )
    .expect("write config");
    let changed = json!({"changes": [{"uri": uri_of(&toml), "type": 2}]});
    client.notify("workspace/didChangeWatchedFiles", changed.clone());
    for uri in [&ours, &vendored] {
        client.diagnostics_until(uri, |d| {
            let codes = codes(d);
            codes.contains(&"bank-conflict") && !codes.contains(&"block-size-not-multiple-of-32")
        });
    }

    // A broken file is reported once and turns nothing off.
    std::fs::write(&toml, "disabledRules = [\"bank-conflicts\"]\n").expect("write config");
    client.notify("workspace/didChangeWatchedFiles", changed);
    let warning = client.wait_for(|m| m["method"] == "window/showMessage");
    assert_eq!(warning["params"]["type"], 2, "{warning:#}");
    let message = warning["params"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("unknown rule `bank-conflicts`"),
        "{message}"
    );
    for uri in [&ours, &vendored] {
        client.diagnostics_until(uri, |d| codes(d).contains(&"block-size-not-multiple-of-32"));
    }
    assert!(
        client
            .try_wait_for(
                &|m| m["method"] == "window/showMessage",
                std::time::Duration::from_millis(300)
            )
            .is_none(),
        "reported once"
    );
    assert!(client.shutdown_and_exit().success());
}

/// The includer is opened (and being analysed) when the header it includes
/// is opened with other text: its diagnostics end up following the open
/// header, whichever finishes first.
#[test]
fn a_header_opened_while_its_includer_is_analysed_is_taken_into_account() {
    let Fixture {
        mut client,
        uri,
        header_uri,
        _dir,
    } = start(Value::Null);
    let source = SOURCE.replace("1000>>>", "BLOCK>>>");
    let header = format!("{HEADER}#define BLOCK 1000\n");
    client.open(&uri, &source, 1);
    client.open(&header_uri, &header, 1);
    client.diagnostics_until(&uri, |d| {
        d.iter()
            .any(|d| d["code"] == "block-size-not-multiple-of-32")
    });
    assert!(client.shutdown_and_exit().success());
}

/// The editors attach to C/C++ headers too, because kernels live in them:
/// a `.hpp` holding kernels is analysed and reported like a `.cu`, while a
/// plain C++ header gets no diagnostic at all, not even what the same text
/// would get as CUDA source.
#[test]
fn headers_are_reported_only_when_they_hold_cuda_code() {
    let Fixture {
        mut client, _dir, ..
    } = start(Value::Null);
    let root = _dir.path().canonicalize().expect("canonical temp dir");
    let plain = "#include \"nowhere.h\"\nint add(int a, int b) { return a + b; }\n";
    let as_cuda = uri_of(&root.join("plain.cu"));
    client.open(&as_cuda, plain, 1);
    assert!(codes(&client.diagnostics(&as_cuda, 1)).contains(&"include-not-found"));
    let as_header = uri_of(&root.join("plain.h"));
    client.open(&as_header, plain, 1);
    assert_eq!(client.diagnostics(&as_header, 1), Vec::<Value>::new());
    let kernels = uri_of(&root.join("kernels.hpp"));
    client.open(&kernels, SOURCE, 1);
    assert!(codes(&client.diagnostics(&kernels, 1)).contains(&"bank-conflict"));
    assert!(client.shutdown_and_exit().success());
}

/// The title of the occupancy lens of `uri`'s first kernel, once it contains `want`.
fn lens_title_with(client: &mut LspClient, uri: &str, want: &str) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        let lenses = client.request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        );
        last = lenses
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| l["command"]["command"] == "cudalens.showOccupancyTable")
            .filter_map(|l| l["command"]["title"].as_str())
            .collect::<Vec<_>>()
            .join(" | ");
        if last.contains(want) {
            return last;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("no lens with {want:?}: {last:?}");
}

#[test]
fn a_kernel_file_takes_its_launches_from_the_files_that_include_it() {
    let kernel = "__global__ void twice(float* out, const float* in, int n) {\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) out[i] = 2.0f * in[i];\n}\n";
    let host = "#include \"twice_kernel.cu\"\n#define BLOCK_SIZE 16\nvoid run(float* o, const float* i, int n) {\n  twice<<<(n + BLOCK_SIZE - 1) / BLOCK_SIZE, BLOCK_SIZE>>>(o, i, n);\n}\n";
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().canonicalize().expect("canonical temp dir");
    std::fs::write(root.join("twice_kernel.cu"), kernel).expect("write");
    std::fs::write(root.join("twice.cu"), host).expect("write");
    let mut client = LspClient::start();
    client.initialize(&root, json!({}), Value::Null);
    // Only the kernel file open: the launch comes from the file beside it
    // that includes it (read from disk once, when it is opened).
    let kernel_uri = uri_of(&root.join("twice_kernel.cu"));
    client.open(&kernel_uri, kernel, 1);
    client.diagnostics(&kernel_uri, 1);
    let title = lens_title_with(&mut client, &kernel_uri, "(launch in twice.cu:4)");
    assert!(title.starts_with("occupancy 50%"), "{title}");
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": kernel_uri}, "position": position_of(kernel, "twice(")}),
    );
    let text = hover["contents"]["value"].as_str().unwrap_or_default();
    assert!(
        text.contains("**Launch in `twice.cu:4`**: block 16×1×1 (from the launch)"),
        "{text}"
    );
    // (a) The includer open: its launch of the included kernel has the
    // occupancy inlay hint and the launch's finding.
    let host_uri = uri_of(&root.join("twice.cu"));
    let edited = host.replace("BLOCK_SIZE 16", "BLOCK_SIZE 48");
    client.open(&host_uri, &edited, 1);
    assert!(codes(&client.diagnostics(&host_uri, 1)).contains(&"block-size-not-multiple-of-32"));
    let whole = json!({"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}});
    let hints = client.request(
        "textDocument/inlayHint",
        json!({"textDocument": {"uri": host_uri}, "range": whole}),
    );
    assert!(
        hints[0]["label"]
            .as_str()
            .is_some_and(|l| l.starts_with("occupancy 100%")),
        "{hints:#}"
    );
    // (b) Its unsaved text, not the disk's, now decides the kernel file's
    // launch, and its edits re-analyse the kernel file.
    lens_title_with(&mut client, &kernel_uri, "occupancy 100%");
    let size = position_of(&edited, "48").pipe_range(2);
    client.change(&host_uri, 2, json!([{"range": size, "text": "20"}]));
    let title = lens_title_with(&mut client, &kernel_uri, "occupancy 50%");
    assert!(title.contains("(launch in twice.cu:4)"), "{title}");
    drop(dir);
    assert!(client.shutdown_and_exit().success());
}

#[test]
fn a_device_function_finding_carries_each_kernels_calls() {
    let Fixture {
        mut client, _dir, ..
    } = start(Value::Null);
    let root = _dir.path().canonicalize().expect("canonical temp dir");
    let text = "__device__ float at(const float* in, int i) { return in[i * 16]; }\n__global__ void k1(float* out, const float* in) {\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  out[i] = at(in, i);\n}\n__global__ void k2(float* out, const float* in) {\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  out[i] = 2.0f * at(in, i);\n}\nvoid run(float* o, const float* i) { k1<<<264, 256>>>(o, i); k2<<<264, 256>>>(o, i); }\n";
    let uri = uri_of(&root.join("device_fn.cu"));
    client.open(&uri, text, 1);
    let diags = client.diagnostics(&uri, 1);
    let found: Vec<&Value> = diags
        .iter()
        .filter(|d| d["code"] == "uncoalesced-access")
        .collect();
    assert_eq!(found.len(), 1, "{diags:#?}");
    assert_eq!(found[0]["range"]["start"], position_of(text, "in[i * 16]"));
    let calls: Vec<(Value, &str)> = found[0]["relatedInformation"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                r["location"]["range"]["start"].clone(),
                r["message"].as_str()?,
            ))
        })
        .filter(|(_, m)| m.contains(" calls "))
        .collect();
    assert_eq!(
        calls,
        [
            (
                position_of(text, "at(in, i);\n}\n__global__ void k2"),
                "kernel `k1` calls `at` here"
            ),
            (
                position_of(text, "at(in, i);\n}\nvoid"),
                "kernel `k2` calls `at` here"
            ),
        ]
    );
    assert!(client.shutdown_and_exit().success());
}
