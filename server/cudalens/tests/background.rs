//! Background work of the language server: register counts from nvcc (a
//! fake `nvcc` script first on PATH, since CI has no CUDA toolkit) and
//! optimizer plugins (the Python example plugin), including workspace trust.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use support::{LspClient, position_of, uri_of};

const SCALE: &str = "__global__ void scale(float* a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) a[i] *= (double)2;
}
void host(float* a, int n) { scale<<<264, 256>>>(a, n); }
";

/// Prints what ptxas prints for `scale` compiled to use 128 registers.
const FAKE_NVCC: &str = r##"#!/bin/sh
echo "$@" > "$(dirname "$0")/nvcc-args.txt"
cat >&2 <<'PTXAS'
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function '_Z5scalePfi' for 'sm_90'
ptxas info    : Function properties for _Z5scalePfi
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 128 registers, used 0 barriers, 368 bytes cmem[0]
ptxas info    : Compile time = 3.101 ms
PTXAS
exit 0
"##;

fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str().map(String::from))
        .collect()
}

#[test]
fn nvcc_register_counts_replace_the_estimate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin dir");
    let nvcc = bin.join("nvcc");
    std::fs::write(&nvcc, FAKE_NVCC).expect("write fake nvcc");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&nvcc, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut client = LspClient::start_with_env(&[("PATH", path)]);
    client.initialize(
        dir.path(),
        json!({}),
        json!({"cudalens": {"defines": ["FAST=1"]}}),
    );
    let uri = uri_of(&dir.path().join("scale.cu"));
    client.open(&uri, SCALE, 1);
    // First the estimate (~16 registers: full occupancy), published at once.
    let first = client.diagnostics(&uri, 1);
    assert!(
        !codes(&first).contains(&"low-occupancy".to_string()),
        "{first:#?}"
    );
    // Then nvcc's 128 registers: 2 blocks of 256 threads per SM, 25%.
    let measured =
        client.diagnostics_until(&uri, |d| d.iter().any(|d| d["code"] == "low-occupancy"));
    let low = measured
        .iter()
        .find(|d| d["code"] == "low-occupancy")
        .cloned()
        .unwrap_or_default();
    let message = low["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("occupancy 25% (16/64 warps) — limited by registers: 128/thread"),
        "{message}"
    );
    let hover = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(SCALE, "scale(float")}),
    );
    let hover = hover["contents"]["value"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        hover.contains("Registers: 128/thread (from nvcc)"),
        "{hover}"
    );
    let args = std::fs::read_to_string(bin.join("nvcc-args.txt")).expect("nvcc ran");
    assert!(
        args.contains("--resource-usage")
            && args.contains("-arch=sm_90")
            && args.contains("-DFAST=1"),
        "{args}"
    );
    assert!(client.shutdown_and_exit().success());
}

fn example_plugin() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/example-python/cudalens_example_plugin.py")
}

fn python_available() -> bool {
    std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn plugin_diagnostics(client: &mut LspClient, uri: &str) -> Vec<Value> {
    client.diagnostics_until(uri, |d| d.iter().any(|d| d["source"] == "example"))
}

#[test]
fn user_plugins_add_diagnostics_with_their_name_as_source() {
    if !python_available() {
        eprintln!("skipped: no python3");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut client = LspClient::start();
    let plugins = json!([{"name": "example", "command": "python3", "args": [example_plugin()]}]);
    client.initialize(
        dir.path(),
        json!({}),
        json!({"cudalens": {"plugins": plugins, "nvcc": {"path": ""}}}),
    );
    let uri = uri_of(&dir.path().join("scale.cu"));
    client.open(&uri, SCALE, 1);
    let diags = plugin_diagnostics(&mut client, &uri);
    let from_plugin = diags
        .iter()
        .find(|d| d["source"] == "example")
        .cloned()
        .unwrap_or_default();
    assert_eq!(from_plugin["code"], "example-double-precision");
    assert_eq!(from_plugin["range"]["start"], position_of(SCALE, "double"));

    // Turning the plugin off removes its diagnostics.
    client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"cudalens": {"plugins": plugins, "disabledPlugins": ["example"], "nvcc": {"path": ""}}}}),
    );
    client.diagnostics_until(&uri, |d| !d.iter().any(|d| d["source"] == "example"));
    assert!(client.shutdown_and_exit().success());
}

fn workspace_with_plugin() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let toml = format!(
        "[[plugins]]\nname = \"example\"\ncommand = \"python3\"\nargs = [\"{}\"]\n",
        example_plugin().display()
    );
    std::fs::write(dir.path().join("cudalens.toml"), toml).expect("write cudalens.toml");
    dir
}

#[test]
fn workspace_plugins_start_only_once_trusted() {
    if !python_available() {
        eprintln!("skipped: no python3");
        return;
    }
    // The user trusts the workspace when asked.
    let dir = workspace_with_plugin();
    let mut client = LspClient::start();
    client.message_request_answer = Some("Trust".to_string());
    client.initialize(dir.path(), json!({}), json!({"nvcc": {"path": ""}}));
    let uri = uri_of(&dir.path().join("scale.cu"));
    client.open(&uri, SCALE, 1);
    plugin_diagnostics(&mut client, &uri);
    assert_eq!(client.message_requests.len(), 1);
    let question = client.message_requests[0]["params"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        question.contains("Trust this workspace and start its plugins?"),
        "{question}"
    );

    // The user declines: no plugin runs, and a notice says why.
    let dir = workspace_with_plugin();
    let mut client = LspClient::start();
    client.message_request_answer = Some("Don't trust".to_string());
    client.initialize(dir.path(), json!({}), json!({"nvcc": {"path": ""}}));
    let notice = client.wait_for(|m| m["method"] == "window/showMessage");
    assert!(
        notice["params"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("not trusted")),
        "{notice}"
    );
    let uri = uri_of(&dir.path().join("scale.cu"));
    client.open(&uri, SCALE, 1);
    client.diagnostics(&uri, 1);
    let late = client.try_wait_for(
        &|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m.to_string().contains("\"example\"")
        },
        std::time::Duration::from_secs(2),
    );
    assert!(late.is_none(), "{late:?}");

    // `cudalens.trustWorkspace` answers without asking.
    let dir = workspace_with_plugin();
    let mut client = LspClient::start();
    client.initialize(
        dir.path(),
        json!({}),
        json!({"trustWorkspace": true, "nvcc": {"path": ""}}),
    );
    let uri = uri_of(&dir.path().join("scale.cu"));
    client.open(&uri, SCALE, 1);
    plugin_diagnostics(&mut client, &uri);
    assert!(client.message_requests.is_empty());
}
