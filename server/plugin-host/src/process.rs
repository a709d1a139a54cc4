//! One running plugin process: spawning, the request/response loop, stderr capture.

use std::collections::VecDeque;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cudalens_plugin_protocol::jsonrpc::{self, Message, RpcError, error_codes};
use cudalens_plugin_protocol::requests::{
    Exit, HostBenchmark, Log, Notification, Request, Shutdown,
};
use cudalens_plugin_protocol::{FramingError, TuneParams};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::benchmark::{BenchmarkRequest, BenchmarkService};
use crate::config::PluginSpec;
use crate::transport::{read_message, write_message};

/// Longest stderr line kept; the rest of the line is dropped.
const MAX_LOG_LINE: usize = 1000;

/// The last lines a plugin wrote to stderr or logged via `$/log`, bounded.
#[derive(Debug)]
pub(crate) struct PluginLog {
    lines: VecDeque<String>,
    capacity: usize,
}

pub(crate) type SharedLog = Arc<Mutex<PluginLog>>;

impl PluginLog {
    pub(crate) fn shared(capacity: usize) -> SharedLog {
        Arc::new(Mutex::new(PluginLog {
            lines: VecDeque::new(),
            capacity: capacity.max(1),
        }))
    }

    pub(crate) fn push(log: &SharedLog, line: String) {
        let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
        if log.lines.len() == log.capacity {
            log.lines.pop_front();
        }
        log.lines.push_back(line);
    }

    pub(crate) fn tail(log: &SharedLog, n: usize) -> Vec<String> {
        let log = log.lock().unwrap_or_else(|e| e.into_inner());
        log.lines
            .iter()
            .skip(log.lines.len().saturating_sub(n))
            .cloned()
            .collect()
    }
}

/// Copies a stream into the log line by line, never buffering more than one capped line.
async fn capture_lines(mut stream: impl AsyncRead + Unpin, log: SharedLog, prefix: &'static str) {
    let mut buf = [0u8; 4096];
    let mut line = Vec::new();
    let mut truncated = false;
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b == b'\n' {
                let text = String::from_utf8_lossy(&line).trim_end().to_owned();
                PluginLog::push(
                    &log,
                    format!("{prefix}{text}{}", if truncated { "…" } else { "" }),
                );
                line.clear();
                truncated = false;
            } else if line.len() < MAX_LOG_LINE {
                line.push(b);
            } else {
                truncated = true;
            }
        }
    }
    if !line.is_empty() {
        PluginLog::push(
            &log,
            format!("{prefix}{}", String::from_utf8_lossy(&line).trim_end()),
        );
    }
}

/// How a call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// The plugin answered with a JSON-RPC error; it is healthy.
    Rpc(RpcError),
    /// The process crashed, closed its output or broke the protocol: it must be restarted.
    Fault(String),
}

/// Benchmark context available while serving a `tune` call.
pub(crate) struct BenchContext {
    pub service: Arc<dyn BenchmarkService>,
    pub tune: Arc<TuneParams>,
}

pub(crate) struct PluginProcess {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    log: SharedLog,
    plugin: String,
}

impl PluginProcess {
    /// Starts the executable with piped stdio; stderr is captured into `log`.
    pub(crate) fn spawn(spec: &PluginSpec, log: SharedLog) -> std::io::Result<Self> {
        let mut command = Command::new(&spec.command);
        command
            .args(&spec.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // The host must never leak plugin processes, even if it is dropped mid-call.
            .kill_on_drop(true);
        if let Some(cwd) = &spec.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn()?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.start_kill();
            return Err(std::io::Error::other("plugin stdio was not piped"));
        };
        tokio::spawn(capture_lines(stderr, log.clone(), ""));
        Ok(PluginProcess {
            child,
            stdin,
            stdout: BufReader::new(stdout),
            next_id: 1,
            log,
            plugin: spec.name.clone(),
        })
    }

    /// Sends a notification; errors are faults.
    pub(crate) async fn notify(&mut self, method: &str, params: Value) -> Result<(), CallError> {
        let note = jsonrpc::notification(method, params);
        write_message(&mut self.stdin, &note)
            .await
            .map_err(|e| self.io_fault(e))
    }

    /// Sends a request and waits for its response, serving `host/benchmark` callbacks and
    /// `$/log` notifications in between. Cancel-safe only in the sense that the caller must
    /// discard the process if the future is dropped (the stream may be mid-message).
    pub(crate) async fn call(
        &mut self,
        method: &str,
        params: Value,
        bench: Option<&BenchContext>,
    ) -> Result<Value, CallError> {
        let id = self.next_id;
        self.next_id += 1;
        let request = jsonrpc::request(id, method, params);
        write_message(&mut self.stdin, &request)
            .await
            .map_err(|e| self.io_fault(e))?;
        loop {
            let raw = match read_message(&mut self.stdout).await {
                Ok(raw) => raw,
                Err(FramingError::Eof | FramingError::UnexpectedEof) => {
                    return Err(CallError::Fault(self.exit_description().await));
                }
                Err(e) => return Err(CallError::Fault(format!("sent a malformed message: {e}"))),
            };
            let message = Message::from_value(raw)
                .map_err(|e| CallError::Fault(format!("sent an invalid JSON-RPC message: {e}")))?;
            match message {
                Message::Response { id: got, result } if got == id => {
                    return result.map_err(CallError::Rpc);
                }
                Message::Response { id: got, .. } => {
                    return Err(CallError::Fault(format!(
                        "answered request {id} with a response for id {got}"
                    )));
                }
                Message::Notification { method, params } => self.on_notification(&method, params),
                Message::Request {
                    id: req_id,
                    method,
                    params,
                } => {
                    let reply = match self.on_request(&method, params, bench).await {
                        Ok(result) => jsonrpc::response(req_id, result),
                        Err(error) => jsonrpc::error_response(req_id, &error),
                    };
                    write_message(&mut self.stdin, &reply)
                        .await
                        .map_err(|e| self.io_fault(e))?;
                }
            }
        }
    }

    fn on_notification(&self, method: &str, params: Value) {
        if method == Log::METHOD
            && let Ok(p) = serde_json::from_value::<<Log as Notification>::Params>(params)
        {
            // Cap by characters: byte truncation could split a UTF-8 sequence and panic.
            let message: String = p.message.chars().take(MAX_LOG_LINE).collect();
            PluginLog::push(&self.log, format!("[{}] {message}", p.level));
        }
    }

    async fn on_request(
        &self,
        method: &str,
        params: Value,
        bench: Option<&BenchContext>,
    ) -> Result<Value, RpcError> {
        if method != HostBenchmark::METHOD {
            return Err(RpcError::new(
                error_codes::METHOD_NOT_FOUND,
                format!("the host has no method {method}"),
            ));
        }
        let Some(ctx) = bench else {
            return Err(RpcError::new(
                error_codes::BENCHMARK_UNAVAILABLE,
                "host/benchmark is only available while serving tune",
            ));
        };
        let params: <HostBenchmark as Request>::Params =
            serde_json::from_value(params).map_err(|e| {
                RpcError::new(
                    error_codes::INVALID_PARAMS,
                    format!("invalid benchmark params: {e}"),
                )
            })?;
        let request = BenchmarkRequest {
            plugin: self.plugin.clone(),
            tune: ctx.tune.clone(),
            variant: params.variant,
        };
        let result = ctx.service.benchmark(request).await;
        serde_json::to_value(result)
            .map_err(|e| RpcError::new(error_codes::INTERNAL_ERROR, e.to_string()))
    }

    fn io_fault(&self, e: std::io::Error) -> CallError {
        CallError::Fault(format!(
            "could not write to the plugin (it probably exited): {e}"
        ))
    }

    /// Describes why stdout closed: exit status when known, plus the last stderr lines.
    async fn exit_description(&mut self) -> String {
        let status = tokio::time::timeout(Duration::from_millis(500), self.child.wait()).await;
        let mut text = match status {
            Ok(Ok(status)) => format!("exited ({status})"),
            _ => "closed its output".to_owned(),
        };
        // Give the stderr reader a moment to drain the crash message.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let tail = PluginLog::tail(&self.log, 3);
        if !tail.is_empty() {
            text.push_str(&format!("; stderr: {}", tail.join(" | ")));
        }
        text
    }

    /// Asks the process to exit politely, then kills it when it does not within `grace`.
    pub(crate) async fn shutdown(mut self, grace: Duration) {
        let polite = async {
            let _ = self.call(Shutdown::METHOD, Value::Null, None).await;
            let _ = self.notify(Exit::METHOD, Value::Null).await;
            let _ = self.child.wait().await;
        };
        if tokio::time::timeout(grace, polite).await.is_err() {
            self.kill();
        }
    }

    pub(crate) fn kill(&mut self) {
        // start_kill is non-blocking; tokio reaps the child in the background once dropped.
        let _ = self.child.start_kill();
    }
}
