//! `Content-Length` framing of a JSON-RPC byte stream (the LSP base
//! protocol): reading one frame, tolerant of header case and line endings
//! and bounded in size, writing one, and the server's shared output stream.
//! Nothing here knows what the messages mean.

use std::pin::Pin;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

/// Largest header block and message accepted.
const MAX_HEADER_BYTES: usize = 8 * 1024;
const MAX_MESSAGE_BYTES: usize = 512 * 1024 * 1024;

/// The server's output stream, shared by tower-lsp-server (whose messages
/// are forwarded whole) and cudalens itself: diagnostics are its largest
/// messages (hundreds of kilobytes on a big file, after every keystroke), and
/// writing them here serialises them once, straight to bytes, instead of to a
/// `serde_json::Value`, then to text, then through the forwarding pipe.
#[derive(Clone)]
pub struct Output(pub(crate) Arc<Mutex<Pin<Box<dyn AsyncWrite + Send>>>>);

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

pub enum Frame {
    Message(Vec<u8>),
    /// A header block without a usable Content-Length, or an oversized body.
    Malformed(String),
    Eof,
}

/// Reads one `Content-Length`-framed message. Header names are
/// case-insensitive and lines may end in `\n` or `\r\n`.
pub async fn read_frame<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> std::io::Result<Frame> {
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

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
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
}
