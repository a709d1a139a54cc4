//! Converting LSP positions (UTF-16 columns) into byte offsets of a text snippet.
//!
//! Plugins receive the kernel's source starting at `kernel.range.start`, so they need to map
//! document positions into that snippet before reading text under a range.

use crate::types::{Position, Range};

/// Byte offset in `text` of `pos`, where `text` itself begins at document position `origin`.
/// Returns `None` when `pos` lies before `origin` or past the end of `text`.
pub fn byte_offset(text: &str, origin: Position, pos: Position) -> Option<usize> {
    if pos < origin {
        return None;
    }
    let mut line = origin.line;
    let mut line_start = 0usize;
    let mut start_col = origin.character;
    while line < pos.line {
        let newline = text[line_start..].find('\n')?;
        line_start += newline + 1;
        line += 1;
        start_col = 0;
    }
    let wanted = pos.character.checked_sub(start_col)?;
    let mut units = 0u32;
    for (i, ch) in text[line_start..].char_indices() {
        if units >= wanted {
            return Some(line_start + i);
        }
        if ch == '\n' {
            return None;
        }
        units += ch.len_utf16() as u32;
    }
    (units >= wanted).then_some(text.len())
}

/// The text under `range` in a snippet that begins at `origin`.
pub fn text_in_range(text: &str, origin: Position, range: Range) -> Option<&str> {
    let start = byte_offset(text, origin, range.start)?;
    let end = byte_offset(text, origin, range.end)?;
    text.get(start..end)
}

/// The document position just after `prefix`, when `prefix` starts at `start`.
pub fn advance(start: Position, prefix: &str) -> Position {
    match prefix.rfind('\n') {
        Some(i) => Position::new(
            start.line + prefix.matches('\n').count() as u32,
            prefix[i + 1..].encode_utf16().count() as u32,
        ),
        None => Position::new(
            start.line,
            start.character + prefix.encode_utf16().count() as u32,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_positions_across_lines_and_utf16() {
        let text = "__global__ void k(float* a) {\n  // é𝄞x\n  a[0] = 1;\n}";
        let origin = Position::new(10, 4);
        assert_eq!(byte_offset(text, origin, Position::new(10, 4)), Some(0));
        assert_eq!(byte_offset(text, origin, Position::new(10, 15)), Some(11));
        assert_eq!(byte_offset(text, origin, Position::new(9, 0)), None);
        // `𝄞` is two UTF-16 units: "  // é" is 6 units, so x starts at column 8.
        let x = byte_offset(text, origin, Position::new(11, 8)).unwrap();
        assert_eq!(&text[x..x + 1], "x");
        let r = Range::new(Position::new(10, 4), Position::new(10, 14));
        assert_eq!(text_in_range(text, origin, r), Some("__global__"));
        assert_eq!(byte_offset(text, origin, Position::new(99, 0)), None);
    }

    #[test]
    fn advance_tracks_lines_and_columns() {
        assert_eq!(advance(Position::new(3, 2), "ab"), Position::new(3, 4));
        assert_eq!(advance(Position::new(3, 2), "ab\ncd"), Position::new(4, 2));
    }
}
