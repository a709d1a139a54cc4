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

use std::pin::Pin;
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;
use tower_lsp_server::jsonrpc::{Request, Response};
use tower_lsp_server::{ClientSocket, LanguageServer, LspService, Server};

/// Largest header block and message accepted.
const MAX_HEADER_BYTES: usize = 8 * 1024;
const MAX_MESSAGE_BYTES: usize = 512 * 1024 * 1024;
const PIPE_BYTES: usize = 256 * 1024;

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// The server's output stream, shared by tower-lsp-server (whose messages
/// are forwarded whole) and cudalens itself: diagnostics are its largest
/// messages (hundreds of kilobytes on a big file, after every keystroke), and
/// writing them here serialises them once, straight to bytes, instead of to a
/// `serde_json::Value`, then to text, then through the forwarding pipe.
#[derive(Clone)]
pub struct Output(Arc<Mutex<Pin<Box<dyn AsyncWrite + Send>>>>);

impl Output {
    pub fn new(writer: impl AsyncWrite + Send + 'static) -> Self {
        Output(Arc::new(Mutex::new(Box::pin(writer))))
    }

    /// Writes one message (a JSON-RPC body) with its header and flushes.
    pub async fn send(&self, body: &[u8]) -> std::io::Result<()> {
        let bytes = frame(body);
        let mut out = self.0.lock().await;
        out.write_all(&bytes).await?;
        out.flush().await
    }
}

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

enum Frame {
    Message(Vec<u8>),
    /// A header block without a usable Content-Length, or an oversized body.
    Malformed(String),
    Eof,
}

/// Reads one `Content-Length`-framed message. Header names are
/// case-insensitive and lines may end in `\n` or `\r\n`.
async fn read_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Frame> {
    let mut length: Option<Result<usize, String>> = None;
    let mut header_bytes = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader
            .take((MAX_HEADER_BYTES + 1) as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if n == 0 {
            return Ok(Frame::Eof);
        }
        header_bytes += n;
        if header_bytes > MAX_HEADER_BYTES {
            return Ok(Frame::Malformed("header block too long".into()));
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if header_bytes <= 2 {
                continue; // stray blank line between messages
            }
            break;
        }
        if let Some((name, value)) = text.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("invalid Content-Length `{}`", value.trim())),
            );
        }
    }
    let length = match length {
        None => return Ok(Frame::Malformed("missing Content-Length header".into())),
        Some(Err(e)) => return Ok(Frame::Malformed(e)),
        Some(Ok(n)) => n,
    };
    if length > MAX_MESSAGE_BYTES {
        let skipped =
            tokio::io::copy(&mut reader.take(length as u64), &mut tokio::io::sink()).await?;
        if skipped < length as u64 {
            return Ok(Frame::Eof);
        }
        return Ok(Frame::Malformed(format!(
            "message of {length} bytes is too large"
        )));
    }
    let mut body = vec![0; length];
    match reader.read_exact(&mut body).await {
        Ok(_) => Ok(Frame::Message(body)),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(Frame::Eof),
        Err(e) => Err(e),
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
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

    async fn frames(input: &[u8]) -> Vec<String> {
        let mut reader = BufReader::new(input);
        let mut out = Vec::new();
        loop {
            match read_frame(&mut reader).await {
                Ok(Frame::Message(b)) => out.push(String::from_utf8_lossy(&b).into_owned()),
                Ok(Frame::Malformed(r)) => out.push(format!("malformed: {r}")),
                Ok(Frame::Eof) | Err(_) => return out,
            }
        }
    }

    #[tokio::test]
    async fn frames_with_any_header_case_and_line_ending() {
        let input = b"Content-Length: 2\r\n\r\n{}content-length: 3\nContent-Type: x\n\n[1]";
        assert_eq!(frames(input).await, vec!["{}", "[1]"]);
    }

    #[tokio::test]
    async fn malformed_headers_then_recovery() {
        let input = b"Content-Length: x\r\n\r\nhello\r\n\r\nContent-Length: 2\r\n\r\n{}";
        let got = frames(input).await;
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("malformed"));
        assert_eq!(got[2], "{}");
    }

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
