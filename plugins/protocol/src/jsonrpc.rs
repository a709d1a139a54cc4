//! JSON-RPC 2.0 envelopes and error codes.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Standard JSON-RPC and protocol-specific error codes (documented in `PROTOCOL.md`).
pub mod error_codes {
    pub const PARSE_ERROR: i64 = -32700;
    pub const INVALID_REQUEST: i64 = -32600;
    pub const METHOD_NOT_FOUND: i64 = -32601;
    pub const INVALID_PARAMS: i64 = -32602;
    pub const INTERNAL_ERROR: i64 = -32603;
    /// The peer's protocol version is not supported.
    pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32001;
    /// `host/benchmark` could not run (no device, compile failure, ...).
    pub const BENCHMARK_UNAVAILABLE: i64 = -32002;
    /// A request arrived before `initialize` or after `shutdown`.
    pub const NOT_INITIALIZED: i64 = -32003;
}

/// A JSON-RPC error object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            data: None,
        }
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for RpcError {}

/// A classified incoming message. Built from a raw [`Value`] so that a peer sending an
/// unexpected shape produces a descriptive error instead of a deserialization panic.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    Response {
        id: Value,
        result: Result<Value, RpcError>,
    },
}

impl Message {
    /// Classifies a JSON value as request, notification or response.
    pub fn from_value(value: Value) -> Result<Message, String> {
        let Value::Object(mut map) = value else {
            return Err("message is not a JSON object".into());
        };
        if map.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
            return Err("missing or wrong \"jsonrpc\": \"2.0\"".into());
        }
        let id = map.remove("id");
        if let Some(method) = map.remove("method") {
            let Value::String(method) = method else {
                return Err("\"method\" is not a string".into());
            };
            let params = map.remove("params").unwrap_or(Value::Null);
            return Ok(match id {
                Some(id) => Message::Request { id, method, params },
                None => Message::Notification { method, params },
            });
        }
        let id = id.ok_or("response without \"id\"")?;
        if let Some(error) = map.remove("error") {
            let error: RpcError = serde_json::from_value(error)
                .map_err(|e| format!("malformed error object: {e}"))?;
            return Ok(Message::Response {
                id,
                result: Err(error),
            });
        }
        match map.remove("result") {
            Some(result) => Ok(Message::Response {
                id,
                result: Ok(result),
            }),
            None => Err("response has neither \"result\" nor \"error\"".into()),
        }
    }

    /// Serializes into the JSON-RPC wire shape.
    pub fn to_value(&self) -> Value {
        match self {
            Message::Request { id, method, params } => request(id.clone(), method, params.clone()),
            Message::Notification { method, params } => notification(method, params.clone()),
            Message::Response {
                id,
                result: Ok(result),
            } => response(id.clone(), result.clone()),
            Message::Response {
                id,
                result: Err(error),
            } => error_response(id.clone(), error),
        }
    }
}

/// Builds a request envelope.
pub fn request(id: impl Into<Value>, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id.into(), "method": method, "params": params})
}

/// Builds a notification envelope (no id, no answer expected).
pub fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

/// Builds a success response.
pub fn response(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// Builds an error response.
pub fn error_response(id: Value, error: &RpcError) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_messages() {
        let req = Message::from_value(request(1, "analyze", json!({}))).unwrap();
        assert!(matches!(req, Message::Request { ref method, .. } if method == "analyze"));
        let note = Message::from_value(notification("exit", Value::Null)).unwrap();
        assert!(matches!(note, Message::Notification { .. }));
        let ok = Message::from_value(response(json!(3), json!(null))).unwrap();
        assert_eq!(
            ok,
            Message::Response {
                id: json!(3),
                result: Ok(Value::Null)
            }
        );
        let err = RpcError::new(error_codes::METHOD_NOT_FOUND, "nope");
        let parsed = Message::from_value(error_response(json!(4), &err)).unwrap();
        assert_eq!(
            parsed,
            Message::Response {
                id: json!(4),
                result: Err(err)
            }
        );
    }

    #[test]
    fn rejects_non_rpc_shapes() {
        for bad in [
            json!([1, 2]),
            json!({"id": 1}),
            json!({"jsonrpc": "2.0", "id": 1}),
            json!({"jsonrpc": "2.0", "method": 5}),
            json!({"jsonrpc": "2.0", "id": 1, "error": "x"}),
        ] {
            assert!(Message::from_value(bad).is_err());
        }
    }
}
