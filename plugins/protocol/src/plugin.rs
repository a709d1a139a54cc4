//! A small synchronous server loop for plugins written in Rust.
//!
//! Implement [`Plugin`] and call [`serve_stdio`]; the loop handles framing, the lifecycle
//! (`initialize` first, `shutdown`, `exit`), error replies, and `host/benchmark` callbacks.

use std::io::{self, BufRead, Write};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::framing::{FramingError, read_message, write_message};
use crate::jsonrpc::{self, Message, RpcError, error_codes};
use crate::requests::{
    Analyze, Exit, HostBenchmark, Initialize, Log, Notification, Request, Shutdown, Tune,
};
use crate::types::{
    AnalyzeParams, AnalyzeResult, BenchResult, BenchmarkParams, InitializeParams, InitializeResult,
    LogParams, TuneParams, TuneResult, Variant,
};

/// Behaviour of a plugin. Only `initialize` is mandatory.
pub trait Plugin {
    fn initialize(&mut self, params: InitializeParams) -> Result<InitializeResult, RpcError>;

    fn analyze(&mut self, _params: AnalyzeParams) -> Result<AnalyzeResult, RpcError> {
        Ok(AnalyzeResult::default())
    }

    fn tune(
        &mut self,
        _params: TuneParams,
        _host: &mut HostLink<'_>,
    ) -> Result<TuneResult, RpcError> {
        Err(RpcError::new(
            error_codes::METHOD_NOT_FOUND,
            "this plugin does not tune",
        ))
    }
}

/// The plugin's way to call back into the host while handling a request.
pub struct HostLink<'a> {
    reader: &'a mut dyn BufRead,
    writer: &'a mut dyn Write,
    next_id: &'a mut i64,
}

impl HostLink<'_> {
    /// Asks the host to benchmark `variant`. Transport failures and host errors both come
    /// back as a failed [`BenchResult`] so a tuner can simply skip that variant.
    pub fn benchmark(&mut self, variant: &Variant) -> BenchResult {
        let params = BenchmarkParams {
            variant: variant.clone(),
        };
        self.call::<HostBenchmark>(&params)
            .unwrap_or_else(|e| BenchResult::failure(e.message))
    }

    /// Sends a `$/log` notification.
    pub fn log(&mut self, level: &str, message: impl Into<String>) {
        let params = LogParams {
            level: level.into(),
            message: message.into(),
        };
        let note = jsonrpc::notification(Log::METHOD, to_value(&params));
        // Logging is best effort: a broken pipe will surface on the next real call.
        let _ = write_message(self.writer, &note);
    }

    /// Sends a request to the host and waits for its response. Requests the host sends
    /// meanwhile are refused (the host never interleaves them; this is defensive).
    pub fn call<R: Request>(&mut self, params: &R::Params) -> Result<R::Result, RpcError> {
        let id = *self.next_id;
        *self.next_id += 1;
        let request = jsonrpc::request(id, R::METHOD, to_value(params));
        write_message(self.writer, &request).map_err(internal)?;
        loop {
            let raw = read_message(self.reader).map_err(|e| internal(e.to_string()))?;
            match Message::from_value(raw) {
                Ok(Message::Response { id: got, result }) if got == id => {
                    return serde_json::from_value(result?)
                        .map_err(|e| internal(format!("malformed {} result: {e}", R::METHOD)));
                }
                Ok(Message::Request { id: other, .. }) => {
                    let busy = RpcError::new(error_codes::INTERNAL_ERROR, "plugin is busy");
                    write_message(self.writer, &jsonrpc::error_response(other, &busy))
                        .map_err(internal)?;
                }
                Ok(_) | Err(_) => {} // stray responses/notifications: ignore
            }
        }
    }
}

fn internal(e: impl ToString) -> RpcError {
    RpcError::new(error_codes::INTERNAL_ERROR, e.to_string())
}

fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

fn parse_params<T: DeserializeOwned>(params: Value) -> Result<T, RpcError> {
    serde_json::from_value(params)
        .map_err(|e| RpcError::new(error_codes::INVALID_PARAMS, format!("invalid params: {e}")))
}

fn result_value<T: Serialize>(r: Result<T, RpcError>) -> Result<Value, RpcError> {
    r.map(|v| to_value(&v))
}

/// Runs the plugin on stdin/stdout until `exit` or end of input.
pub fn serve_stdio(plugin: &mut impl Plugin) -> io::Result<()> {
    let stdin = io::stdin();
    let stdout = io::stdout();
    serve(plugin, &mut stdin.lock(), &mut stdout.lock())
}

/// Runs the plugin on the given streams until `exit` or end of input.
pub fn serve(
    plugin: &mut impl Plugin,
    reader: &mut dyn BufRead,
    writer: &mut dyn Write,
) -> io::Result<()> {
    let mut initialized = false;
    let mut shut_down = false;
    let mut next_id = 1i64;
    loop {
        let raw = match read_message(reader) {
            Ok(raw) => raw,
            Err(FramingError::Eof) => return Ok(()),
            Err(FramingError::BadJson(e)) => {
                // The frame was consumed, so the stream is still in sync: report and go on.
                let err = RpcError::new(error_codes::PARSE_ERROR, e.to_string());
                write_message(writer, &jsonrpc::error_response(Value::Null, &err))?;
                continue;
            }
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
        };
        let (id, method, params) = match Message::from_value(raw) {
            Ok(Message::Request { id, method, params }) => (Some(id), method, params),
            Ok(Message::Notification { method, params }) => (None, method, params),
            Ok(Message::Response { .. }) => continue,
            Err(e) => {
                let err = RpcError::new(error_codes::INVALID_REQUEST, e);
                write_message(writer, &jsonrpc::error_response(Value::Null, &err))?;
                continue;
            }
        };
        if method == Exit::METHOD {
            return Ok(());
        }
        let Some(id) = id else { continue }; // other notifications carry nothing we need
        let outcome = match method.as_str() {
            Initialize::METHOD => {
                let r = parse_params(params).and_then(|p| plugin.initialize(p));
                initialized |= r.is_ok();
                result_value(r)
            }
            _ if !initialized || shut_down => Err(RpcError::new(
                error_codes::NOT_INITIALIZED,
                if shut_down {
                    "plugin is shutting down"
                } else {
                    "initialize was not called"
                },
            )),
            Analyze::METHOD => result_value(parse_params(params).and_then(|p| plugin.analyze(p))),
            Tune::METHOD => {
                let mut host = HostLink {
                    reader: &mut *reader,
                    writer: &mut *writer,
                    next_id: &mut next_id,
                };
                result_value(parse_params(params).and_then(|p| plugin.tune(p, &mut host)))
            }
            Shutdown::METHOD => {
                shut_down = true;
                Ok(Value::Null)
            }
            other => Err(RpcError::new(
                error_codes::METHOD_NOT_FOUND,
                format!("unknown method {other}"),
            )),
        };
        let reply = match outcome {
            Ok(result) => jsonrpc::response(id, result),
            Err(error) => jsonrpc::error_response(id, &error),
        };
        write_message(writer, &reply)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Capabilities, PROTOCOL_VERSION};
    use serde_json::json;
    use std::io::Cursor;

    struct Echo;

    impl Plugin for Echo {
        fn initialize(&mut self, _: InitializeParams) -> Result<InitializeResult, RpcError> {
            Ok(InitializeResult {
                name: "echo".into(),
                version: "0".into(),
                protocol_version: PROTOCOL_VERSION.into(),
                capabilities: Capabilities {
                    tuning: true,
                    ..Capabilities::default()
                },
            })
        }

        fn tune(&mut self, p: TuneParams, host: &mut HostLink<'_>) -> Result<TuneResult, RpcError> {
            let variant = Variant::with_block([64, 1, 1]);
            let result = host.benchmark(&variant);
            Ok(TuneResult {
                recommendation: variant.clone(),
                table: vec![crate::types::TuneRow { variant, result }],
                explanation: p.kernel.name,
                code_action: None,
            })
        }
    }

    fn frames(messages: &[Value]) -> Vec<u8> {
        let mut buf = Vec::new();
        for m in messages {
            write_message(&mut buf, m).unwrap();
        }
        buf
    }

    fn replies(mut out: &[u8]) -> Vec<Value> {
        let mut v = Vec::new();
        while let Ok(m) = read_message(&mut out) {
            v.push(m);
        }
        v
    }

    #[test]
    fn lifecycle_and_callbacks() {
        let input = frames(&[
            jsonrpc::request(0, "analyze", json!({})),
            jsonrpc::request(
                1,
                "initialize",
                json!({"protocol_version": "1.0", "host": {"name": "t", "version": "0"}}),
            ),
            jsonrpc::request(
                2,
                "tune",
                json!({"kernel": {"name": "k", "uri": "u"}, "declaration_range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}}),
            ),
            jsonrpc::response(json!(1), json!({"ok": true, "median_ms": 0.5})),
            jsonrpc::request(3, "bogus", json!(null)),
            jsonrpc::request(4, "shutdown", json!(null)),
            jsonrpc::notification("exit", json!(null)),
        ]);
        let mut out = Vec::new();
        serve(&mut Echo, &mut Cursor::new(input), &mut out).unwrap();
        let out = replies(&out);
        assert_eq!(out[0]["error"]["code"], error_codes::NOT_INITIALIZED);
        assert_eq!(out[1]["result"]["name"], "echo");
        assert_eq!(out[2]["method"], "host/benchmark");
        assert_eq!(out[3]["result"]["table"][0]["result"]["median_ms"], 0.5);
        assert_eq!(out[4]["error"]["code"], error_codes::METHOD_NOT_FOUND);
        assert_eq!(out[5]["result"], Value::Null);
    }
}
