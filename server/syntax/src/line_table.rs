//! A compact line index over a document's text, for documents that are open
//! but idle: where a rope costs about the text's size again, this is one
//! offset per line and shares the text itself.

use std::sync::Arc;

use crate::position::Position;

/// Line starts of a text, with the same line breaks as the rope (`\n`,
/// `\r\n`, lone `\r`) and the same answers as [`crate::LineIndex`].
#[derive(Debug)]
pub struct LineTable {
    text: Arc<str>,
    /// Byte offset where each line starts; the first is 0.
    starts: Vec<usize>,
    ascii: bool,
}

impl LineTable {
    pub fn new(text: Arc<str>) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'\n' => starts.push(i + 1),
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                    starts.push(i + 2);
                    i += 1;
                }
                b'\r' => starts.push(i + 1),
                _ => {}
            }
            i += 1;
        }
        let ascii = text.is_ascii();
        LineTable {
            text,
            starts,
            ascii,
        }
    }

    pub fn is_ascii(&self) -> bool {
        self.ascii
    }

    pub fn len_bytes(&self) -> usize {
        self.text.len()
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The line holding byte `offset` (clamped to the text).
    pub fn line_of(&self, offset: usize) -> usize {
        let offset = offset.min(self.text.len());
        self.starts.partition_point(|&s| s <= offset) - 1
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts.get(line).copied().unwrap_or(self.text.len())
    }

    /// The line's text without its line break (empty past the last line).
    pub fn line_content(&self, line: usize) -> &str {
        let start = self.line_start(line);
        let end = self.line_start(line + 1);
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// See `LineIndex::offset`.
    pub fn offset(&self, pos: Position) -> usize {
        let line = pos.line as usize;
        if line >= self.starts.len() {
            return self.text.len();
        }
        let start = self.line_start(line);
        let content = self.line_content(line);
        let mut units = 0usize;
        for (i, c) in content.char_indices() {
            let next = units + c.len_utf16();
            // A column inside a surrogate pair rounds down to the character start.
            if next > pos.character as usize {
                return start + i;
            }
            units = next;
        }
        start + content.len()
    }

    /// See `LineIndex::position`.
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let col = if self.ascii {
            offset - start
        } else {
            self.text[start..offset].encode_utf16().count()
        };
        Position::new(line as u32, col as u32)
    }
}
