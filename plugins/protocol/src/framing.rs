//! LSP-style message framing: `Content-Length: N\r\n\r\n` followed by N bytes of JSON.
//!
//! The reader is defensive on purpose: the host feeds it whatever a plugin writes, and a
//! plugin may print garbage (debug output on stdout, a crash banner). Every malformed input
//! yields a [`FramingError`], never a panic or an unbounded allocation.

use std::fmt;
use std::io::{self, BufRead, Write};

use serde_json::Value;

/// Upper bound on one message body. Kernel models are a few hundred KiB at most; anything
/// larger means the stream is corrupt, and refusing it avoids allocating attacker-sized buffers.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Upper bound on one header line, so a stream of bytes without newlines cannot grow a buffer forever.
pub const MAX_HEADER_LINE_BYTES: usize = 8 * 1024;

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FramingError {
    /// The stream ended cleanly between two messages (the peer closed its end).
    Eof,
    /// The stream ended in the middle of a message.
    UnexpectedEof,
    /// The underlying read or write failed.
    Io(io::Error),
    /// A header line was not `Name: value`, was too long, or was not UTF-8.
    BadHeader(String),
    /// The header block had no `Content-Length`.
    MissingContentLength,
    /// `Content-Length` exceeded [`MAX_MESSAGE_BYTES`].
    TooLarge(usize),
    /// The body was not valid JSON.
    BadJson(serde_json::Error),
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::Eof => write!(f, "end of stream"),
            FramingError::UnexpectedEof => write!(f, "stream ended in the middle of a message"),
            FramingError::Io(e) => write!(f, "i/o error: {e}"),
            FramingError::BadHeader(h) => write!(f, "malformed header: {h}"),
            FramingError::MissingContentLength => write!(f, "missing Content-Length header"),
            FramingError::TooLarge(n) => {
                write!(
                    f,
                    "message of {n} bytes exceeds the {MAX_MESSAGE_BYTES} byte limit"
                )
            }
            FramingError::BadJson(e) => write!(f, "message body is not valid JSON: {e}"),
        }
    }
}

impl std::error::Error for FramingError {}

impl From<io::Error> for FramingError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            FramingError::UnexpectedEof
        } else {
            FramingError::Io(e)
        }
    }
}

/// What one header line contributed. Shared with the async reader in the host so both
/// sides accept exactly the same grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderLine {
    /// The empty line that ends the header block.
    End,
    /// `Content-Length: N`.
    ContentLength(usize),
    /// Any other well-formed header (e.g. `Content-Type`), ignored like LSP does.
    Other,
}

/// Parses one header line (without its line terminator; a trailing `\r` is tolerated).
pub fn parse_header_line(raw: &[u8]) -> Result<HeaderLine, FramingError> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.is_empty() {
        return Ok(HeaderLine::End);
    }
    let text = std::str::from_utf8(raw)
        .map_err(|_| FramingError::BadHeader(String::from_utf8_lossy(raw).into_owned()))?;
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| FramingError::BadHeader(truncate_for_error(text)))?;
    if name.trim().eq_ignore_ascii_case("content-length") {
        let n: usize = value
            .trim()
            .parse()
            .map_err(|_| FramingError::BadHeader(truncate_for_error(text)))?;
        if n > MAX_MESSAGE_BYTES {
            return Err(FramingError::TooLarge(n));
        }
        Ok(HeaderLine::ContentLength(n))
    } else if name.is_empty() || name.contains(|c: char| c.is_whitespace() || c.is_control()) {
        Err(FramingError::BadHeader(truncate_for_error(text)))
    } else {
        Ok(HeaderLine::Other)
    }
}

pub(crate) fn truncate_for_error(text: &str) -> String {
    const MAX: usize = 120;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// One step of reading a header line from buffered input: appends the bytes of
/// `available` up to the first `\n` to `line` (enforcing the length cap) and
/// returns how many bytes to consume and whether the line is complete.
/// Shared by the blocking reader here and the host's async reader.
pub fn header_line_step(
    line: &mut Vec<u8>,
    available: &[u8],
) -> Result<(usize, bool), FramingError> {
    let (chunk, found_newline) = match available.iter().position(|&b| b == b'\n') {
        Some(i) => (&available[..i], true),
        None => (available, false),
    };
    if line.len() + chunk.len() > MAX_HEADER_LINE_BYTES {
        return Err(FramingError::BadHeader(format!(
            "header line longer than {MAX_HEADER_LINE_BYTES} bytes"
        )));
    }
    line.extend_from_slice(chunk);
    Ok((chunk.len() + usize::from(found_newline), found_newline))
}

/// What running out of input means while reading a header line.
pub fn header_line_eof(line: &[u8]) -> Result<Option<Vec<u8>>, FramingError> {
    if line.is_empty() {
        Ok(None)
    } else {
        Err(FramingError::UnexpectedEof)
    }
}

/// Reads one line (up to and excluding `\n`) with a length cap. Returns `None` on EOF before any byte.
fn read_header_line<R: BufRead + ?Sized>(reader: &mut R) -> Result<Option<Vec<u8>>, FramingError> {
    let mut line = Vec::new();
    loop {
        let available = reader.fill_buf()?;
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

/// Reads one framed message and parses its body as JSON.
///
/// Returns [`FramingError::Eof`] when the stream ends cleanly before a new message starts.
pub fn read_message<R: BufRead + ?Sized>(reader: &mut R) -> Result<Value, FramingError> {
    let body = read_frame(reader)?;
    serde_json::from_slice(&body).map_err(FramingError::BadJson)
}

/// Reads one framed message and returns its raw body bytes.
pub fn read_frame<R: BufRead + ?Sized>(reader: &mut R) -> Result<Vec<u8>, FramingError> {
    let mut content_length = None;
    let mut first = true;
    loop {
        let line = match read_header_line(reader)? {
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
    reader.read_exact(&mut body)?;
    Ok(body)
}

/// Serializes `message` and writes it with a `Content-Length` header, then flushes.
pub fn write_message<W: Write + ?Sized>(writer: &mut W, message: &Value) -> io::Result<()> {
    let body = serde_json::to_vec(message).map_err(io::Error::other)?;
    write_frame(writer, &body)
}

/// Writes an already-serialized JSON body with its header, then flushes.
pub fn write_frame<W: Write + ?Sized>(writer: &mut W, body: &[u8]) -> io::Result<()> {
    write!(writer, "Content-Length: {}\r\n\r\n", body.len())?;
    writer.write_all(body)?;
    writer.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use std::io::Cursor;

    #[test]
    fn round_trips_several_messages() {
        let mut buf = Vec::new();
        let a = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"x": "é"}});
        let b = json!({"jsonrpc": "2.0", "method": "exit"});
        write_message(&mut buf, &a).unwrap();
        write_message(&mut buf, &b).unwrap();
        let mut cursor = Cursor::new(buf);
        assert_eq!(read_message(&mut cursor).unwrap(), a);
        assert_eq!(read_message(&mut cursor).unwrap(), b);
        assert!(matches!(read_message(&mut cursor), Err(FramingError::Eof)));
    }

    #[test]
    fn accepts_extra_headers_and_bare_newlines() {
        let body = br#"{"a":1}"#;
        let raw = format!(
            "Content-Type: application/vscode-jsonrpc; charset=utf-8\ncontent-length: {}\n\n",
            body.len()
        );
        let mut data = raw.into_bytes();
        data.extend_from_slice(body);
        assert_eq!(
            read_message(&mut Cursor::new(data)).unwrap(),
            json!({"a": 1})
        );
    }

    #[test]
    fn rejects_malformed_inputs() {
        type Check = fn(&FramingError) -> bool;
        let cases: &[(&[u8], Check)] = &[
            (b"hello world\r\n\r\n", |e| {
                matches!(e, FramingError::BadHeader(_))
            }),
            (b"Content-Type: x\r\n\r\n", |e| {
                matches!(e, FramingError::MissingContentLength)
            }),
            (b"Content-Length: 99999999999\r\n\r\n", |e| {
                matches!(e, FramingError::TooLarge(_) | FramingError::BadHeader(_))
            }),
            (b"Content-Length: 10\r\n\r\n{}", |e| {
                matches!(e, FramingError::UnexpectedEof)
            }),
            (b"Content-Length: 3\r\n\r\nabc", |e| {
                matches!(e, FramingError::BadJson(_))
            }),
            (b"Content-Length: 3\r\n", |e| {
                matches!(e, FramingError::UnexpectedEof)
            }),
        ];
        for (input, check) in cases {
            let err = read_message(&mut Cursor::new(input.to_vec())).unwrap_err();
            assert!(
                check(&err),
                "{:?} gave {err:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn caps_header_line_length() {
        let data = vec![b'x'; MAX_HEADER_LINE_BYTES * 3];
        assert!(matches!(
            read_message(&mut Cursor::new(data)),
            Err(FramingError::BadHeader(_))
        ));
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut cursor = Cursor::new(data);
            // Keep reading until an error: each call must terminate without panicking.
            for _ in 0..64 {
                if read_message(&mut cursor).is_err() { break; }
            }
        }

        #[test]
        fn never_panics_on_header_like_noise(
            length in proptest::option::of(0usize..64),
            junk in "[ -~\r\n]{0,64}",
            body in proptest::collection::vec(any::<u8>(), 0..64),
        ) {
            let mut data = Vec::new();
            if let Some(n) = length {
                data.extend_from_slice(format!("Content-Length: {n}\r\n").as_bytes());
            }
            data.extend_from_slice(junk.as_bytes());
            data.extend_from_slice(&body);
            let _ = read_message(&mut Cursor::new(data));
        }

        #[test]
        fn round_trips_arbitrary_strings(s in ".*", n in any::<i64>()) {
            let value = serde_json::json!({"s": s, "n": n});
            let mut buf = Vec::new();
            write_message(&mut buf, &value).unwrap();
            prop_assert_eq!(read_message(&mut Cursor::new(buf)).unwrap(), value);
        }
    }
}
