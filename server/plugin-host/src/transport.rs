//! Async counterpart of the protocol crate's framing, over tokio streams.

use cudalens_plugin_protocol::framing::{
    FramingError, HeaderLine, header_line_eof, header_line_step, parse_header_line,
};
use serde_json::Value;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Reads one header line with a length cap; `None` on EOF before any byte.
async fn read_header_line<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Result<Option<Vec<u8>>, FramingError> {
    let mut line = Vec::new();
    loop {
        let available = reader.fill_buf().await?;
        if available.is_empty() {
            return header_line_eof(&line);
        }
        let (consumed, done) = header_line_step(&mut line, available)?;
        reader.consume(consumed);
        if done {
            return Ok(Some(line));
        }
    }
}

/// Reads one framed JSON message (same grammar as `cudalens_plugin_protocol::read_message`).
pub async fn read_message<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Value, FramingError> {
    let mut content_length = None;
    let mut first = true;
    loop {
        let line = match read_header_line(reader).await? {
            Some(line) => line,
            None if first => return Err(FramingError::Eof),
            None => return Err(FramingError::UnexpectedEof),
        };
        first = false;
        match parse_header_line(&line)? {
            HeaderLine::End => break,
            HeaderLine::ContentLength(n) => content_length = Some(n),
            HeaderLine::Other => {}
        }
    }
    let len = content_length.ok_or(FramingError::MissingContentLength)?;
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).await?;
    serde_json::from_slice(&body).map_err(FramingError::BadJson)
}

/// Writes one framed JSON message and flushes.
pub async fn write_message<W: AsyncWrite + Unpin>(
    writer: &mut W,
    message: &Value,
) -> std::io::Result<()> {
    let body = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    frame.extend_from_slice(&body);
    writer.write_all(&frame).await?;
    writer.flush().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn agrees_with_the_sync_framing() {
        let mut buf = Vec::new();
        write_message(&mut buf, &json!({"a": [1, "é"]}))
            .await
            .unwrap();
        let mut sync_reader = buf.as_slice();
        assert_eq!(
            cudalens_plugin_protocol::read_message(&mut sync_reader).unwrap(),
            json!({"a": [1, "é"]})
        );
        let mut garbage: &[u8] = b"\x00\xffnot a header\r\n\r\n";
        assert!(read_message(&mut garbage).await.is_err());
        let mut empty: &[u8] = b"";
        assert!(matches!(
            read_message(&mut empty).await,
            Err(FramingError::Eof)
        ));
    }
}
