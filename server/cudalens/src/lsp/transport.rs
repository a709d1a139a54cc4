//! A guard in front of tower-lsp-server's stdio transport.
//!
//! Why: tower-lsp-server 0.23 answers a malformed message (invalid JSON, or
//! JSON that is not a JSON-RPC message) with an error response, but its
//! framed reader then ends the input stream (tokio-util's `FramedRead` stops
//! after a decoder error), so the server shuts down. An editor sending one
//! bad message must not lose its language server, so this layer reads the
//! frames itself, answers malformed ones with the JSON-RPC error (`-32700`
//! parse error, `-32600` invalid request; id `null` when unknown), and
//! passes only well-formed messages on. Output frames from the server, these
//! error responses and the messages cudalens writes itself ([`Output`]) are
//! interleaved whole, under one lock.

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::{ClientSocket, LanguageServer, LspService, Server};

pub use crate::framing::Output;
use crate::framing::{Frame, frame, read_frame};

const PIPE_BYTES: usize = 256 * 1024;

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// Serves `service` over `input`/`output` until `exit` or end of input.
pub async fn serve<S, I>(input: I, output: Output, service: LspService<S>, socket: ClientSocket)
where
    S: LanguageServer,
    I: AsyncRead + Unpin + Send + 'static,
{
    let (to_server, server_input) = tokio::io::duplex(PIPE_BYTES);
    let (server_output, from_server) = tokio::io::duplex(PIPE_BYTES);
    let filter = tokio::spawn(filter_input(input, to_server, output.clone()));
    let forward = tokio::spawn(forward_output(from_server, output.clone()));
    Server::new(server_input, server_output, socket)
        .serve(service)
        .await;
    // The server dropped its end: forward what it wrote, then stop reading.
    let _ = forward.await;
    filter.abort();
    let _ = output.0.lock().await.flush().await;
}

/// Why a message cannot go to the server, as (code, message, id).
fn check_message(body: &[u8]) -> Result<(), (i64, String, Value)> {
    // The same types tower-lsp-server decodes into, so "passes here" means "decodes there".
    if serde_json::from_slice::<Request>(body).is_ok()
        || serde_json::from_slice::<Response>(body).is_ok()
    {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(body) {
        Err(e) => Err((PARSE_ERROR, format!("parse error: {e}"), Value::Null)),
        Ok(value) => {
            let id = value
                .get("id")
                .filter(|id| id.is_number() || id.is_string())
                .cloned()
                .unwrap_or(Value::Null);
            Err((
                INVALID_REQUEST,
                "invalid request: not a JSON-RPC 2.0 message".into(),
                id,
            ))
        }
    }
}

async fn write_error(output: &Output, code: i64, message: String, id: Value) {
    let response = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    let _ = output.send(response.to_string().as_bytes()).await;
}

async fn filter_input<I, W>(input: I, mut to_server: W, output: Output)
where
    I: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    loop {
        match read_frame(&mut reader).await {
            Ok(Frame::Message(body)) => match check_message(&body) {
                Ok(()) => {
                    if to_server.write_all(&frame(&body)).await.is_err() {
                        return; // the server has stopped
                    }
                }
                Err((code, message, id)) => write_error(&output, code, message, id).await,
            },
            Ok(Frame::Malformed(reason)) => {
                write_error(&output, PARSE_ERROR, reason, Value::Null).await
            }
            Ok(Frame::Eof) | Err(_) => break,
        }
    }
    // End of input: closing the pipe lets the server wind down.
    let _ = to_server.shutdown().await;
}

async fn forward_output<R>(from_server: R, output: Output)
where
    R: AsyncRead + Unpin,
{
    let mut reader = BufReader::with_capacity(64 * 1024, from_server);
    while let Ok(Frame::Message(body)) = read_frame(&mut reader).await {
        if output.send(&body).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_checks() {
        assert!(check_message(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#).is_ok());
        assert!(check_message(br#"{"jsonrpc":"2.0","method":"x","params":{}}"#).is_ok());
        assert!(check_message(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_ok());
        assert_eq!(check_message(b"{oops").map_err(|e| e.0), Err(PARSE_ERROR));
        assert_eq!(
            check_message(&[0xff, 0xfe]).map_err(|e| e.0),
            Err(PARSE_ERROR)
        );
        let err =
            check_message(br#"{"jsonrpc":"1.0","id":7,"method":"x"}"#).map_err(|e| (e.0, e.2));
        assert_eq!(err, Err((INVALID_REQUEST, json!(7))));
        assert_eq!(
            check_message(b"[1,2]").map_err(|e| e.0),
            Err(INVALID_REQUEST)
        );
    }
}
