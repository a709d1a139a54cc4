//! An open document: its text as a rope plus its tree-sitter tree, kept in step
//! under LSP incremental edits. Positions on the wire are UTF-16 code units, as
//! LSP specifies; everything inside cudalens works on byte offsets.

use std::sync::Arc;

use ropey::Rope;
use tree_sitter::{InputEdit, Parser, Point};

use crate::line_table::LineTable;
pub use crate::parser::{MAX_PARSE_BYTES, cuda_parser, parse};
pub use crate::position::Position;
use crate::syntax_trees::SyntaxTrees;

/// One content change of `textDocument/didChange`; `range: None` replaces the whole text.
#[derive(Clone, Debug)]
pub struct TextChange {
    pub range: Option<(Position, Position)>,
    pub text: String,
}

/// Maps byte offsets to LSP positions and back. Built from a rope, so it is
/// cheap to keep for every open document and for files read by the CLI; an
/// idle document keeps a [`LineTable`] instead (see [`LineIndex::compacted`]).
#[derive(Clone, Debug)]
pub struct LineIndex {
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Rope(Rope),
    Table(Arc<LineTable>),
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        Self::from_rope(Rope::from_str(text))
    }

    fn from_rope(rope: Rope) -> Self {
        LineIndex {
            repr: Repr::Rope(rope),
        }
    }

    /// The same index as a line table over `text` (which must be the text
    /// it indexes): a tenth of the memory of the rope, for idle documents.
    pub fn compacted(&self, text: &Arc<str>) -> LineIndex {
        match &self.repr {
            Repr::Table(_) => self.clone(),
            Repr::Rope(_) => LineIndex {
                repr: Repr::Table(Arc::new(LineTable::new(text.clone()))),
            },
        }
    }

    /// The rope, rebuilt from `text` when this is a line table.
    fn take_rope(&mut self, text: &str) -> Rope {
        match std::mem::replace(&mut self.repr, Repr::Rope(Rope::new())) {
            Repr::Rope(rope) => rope,
            Repr::Table(_) => Rope::from_str(text),
        }
    }

    /// Every character is one byte (the rope keeps both counts, so this is
    /// O(1)): most CUDA sources, where positions need no UTF-16 conversion.
    fn is_ascii(&self) -> bool {
        match &self.repr {
            Repr::Rope(rope) => rope.len_bytes() == rope.len_chars(),
            Repr::Table(table) => table.is_ascii(),
        }
    }

    /// Byte offset of an LSP position. Out-of-range lines clamp to the end of the
    /// text and out-of-range columns to the end of the line (before its break),
    /// which is what editors expect.
    pub fn offset(&self, pos: Position) -> usize {
        let rope = match &self.repr {
            Repr::Rope(rope) => rope,
            Repr::Table(table) => return table.offset(pos),
        };
        let line = pos.line as usize;
        if line >= rope.len_lines() {
            return rope.len_bytes();
        }
        if self.is_ascii() {
            // Bytes, chars and UTF-16 units coincide: two lookups instead of five.
            let line_slice = rope.line(line);
            let content = line_slice.len_bytes() - line_break_chars(&line_slice);
            return rope.line_to_byte(line) + (pos.character as usize).min(content);
        }
        let line_start_char = rope.line_to_char(line);
        let line_slice = rope.line(line);
        let content_chars = line_slice.len_chars() - line_break_chars(&line_slice);
        let line_start_u16 = rope.char_to_utf16_cu(line_start_char);
        let content_end_u16 = rope.char_to_utf16_cu(line_start_char + content_chars);
        let target_u16 = (line_start_u16 + pos.character as usize).min(content_end_u16);
        // A column inside a surrogate pair rounds down to the character start.
        let ch = rope.utf16_cu_to_char(target_u16);
        rope.char_to_byte(ch)
    }

    /// LSP position of a byte offset (clamped to the text, rounded down to a char boundary).
    pub fn position(&self, offset: usize) -> Position {
        let rope = match &self.repr {
            Repr::Rope(rope) => rope,
            Repr::Table(table) => return table.position(offset),
        };
        let offset = offset.min(rope.len_bytes());
        if self.is_ascii() {
            let line = rope.byte_to_line(offset);
            return Position::new(line as u32, (offset - rope.line_to_byte(line)) as u32);
        }
        let ch = rope.byte_to_char(offset);
        let line = rope.char_to_line(ch);
        let line_start = rope.line_to_char(line);
        let col = rope.char_to_utf16_cu(ch) - rope.char_to_utf16_cu(line_start);
        Position::new(line as u32, col as u32)
    }

    /// Converts many offsets, faster than [`LineIndex::position`] when
    /// consecutive offsets fall on one line (a diagnostic's start and end,
    /// a file's diagnostics in order).
    pub fn cursor(&self) -> PositionCursor<'_> {
        PositionCursor {
            index: self,
            line: 0,
            start: 0,
            end: 0,
        }
    }

    /// The line holding byte `offset` (clamped to the text).
    fn line_of(&self, offset: usize) -> usize {
        match &self.repr {
            Repr::Rope(rope) => rope.byte_to_line(offset.min(rope.len_bytes())),
            Repr::Table(table) => table.line_of(offset),
        }
    }

    /// Byte offset where `line` starts (the text's length past the last line).
    fn line_start(&self, line: usize) -> usize {
        match &self.repr {
            Repr::Rope(rope) if line < rope.len_lines() => rope.line_to_byte(line),
            Repr::Rope(rope) => rope.len_bytes(),
            Repr::Table(table) => table.line_start(line),
        }
    }

    /// Tree-sitter point (row, byte column) of a byte offset.
    pub fn point(&self, offset: usize) -> Point {
        let offset = offset.min(self.len_bytes());
        let line = self.line_of(offset);
        Point::new(line, offset - self.line_start(line))
    }

    pub fn line_count(&self) -> usize {
        match &self.repr {
            Repr::Rope(rope) => rope.len_lines(),
            Repr::Table(table) => table.line_count(),
        }
    }

    /// The text of one line without its line break.
    pub fn line_text(&self, line: usize) -> String {
        let rope = match &self.repr {
            Repr::Rope(rope) => rope,
            Repr::Table(table) => return table.line_content(line).to_string(),
        };
        if line >= rope.len_lines() {
            return String::new();
        }
        let slice = rope.line(line);
        let mut s = slice.to_string();
        while s.ends_with('\n') || s.ends_with('\r') {
            s.pop();
        }
        s
    }

    pub fn len_bytes(&self) -> usize {
        match &self.repr {
            Repr::Rope(rope) => rope.len_bytes(),
            Repr::Table(table) => table.len_bytes(),
        }
    }
}

/// See [`LineIndex::cursor`]: remembers the byte range of the last line.
pub struct PositionCursor<'a> {
    index: &'a LineIndex,
    line: usize,
    start: usize,
    /// One past the last offset that belongs to `line`.
    end: usize,
}

impl PositionCursor<'_> {
    /// Same as [`LineIndex::position`].
    pub fn position(&mut self, offset: usize) -> Position {
        let index = self.index;
        if !index.is_ascii() {
            return index.position(offset);
        }
        let offset = offset.min(index.len_bytes());
        if !(self.start..self.end).contains(&offset) {
            self.line = index.line_of(offset);
            self.start = index.line_start(self.line);
            self.end = if self.line + 1 < index.line_count() {
                index.line_start(self.line + 1)
            } else {
                index.len_bytes() + 1
            };
        }
        Position::new(self.line as u32, (offset - self.start) as u32)
    }
}

fn line_break_chars(line: &ropey::RopeSlice) -> usize {
    let n = line.len_chars();
    if n == 0 {
        return 0;
    }
    match line.char(n - 1) {
        '\n' if n >= 2 && line.char(n - 2) == '\r' => 2,
        '\n' | '\r' => 1,
        _ => 0,
    }
}

/// A document open in the editor.
pub struct Document {
    pub version: i32,
    index: LineIndex,
    text: Arc<str>,
    syntax: Option<SyntaxTrees>,
    parser: Parser,
}

impl Document {
    pub fn new(text: String, version: i32) -> Self {
        let mut doc = Document {
            version,
            index: LineIndex::new(&text),
            text: Arc::from(text),
            syntax: None,
            parser: cuda_parser(),
        };
        doc.reparse_from_scratch();
        doc
    }

    pub fn text(&self) -> &Arc<str> {
        &self.text
    }

    /// The syntax trees (`None` when the file is too large to parse, or
    /// after [`Document::drop_tree`]).
    pub fn syntax(&self) -> Option<&SyntaxTrees> {
        self.syntax.as_ref()
    }

    pub fn line_index(&self) -> &LineIndex {
        &self.index
    }

    /// Frees the syntax trees. The next edit, or
    /// [`Document::ensure_parsed`], parses the text from scratch. Returns
    /// the trees, for callers that free them elsewhere (freeing a large
    /// file's tree takes a millisecond or two).
    pub fn drop_tree(&mut self) -> Option<SyntaxTrees> {
        // A parser keeps its working buffers (megabytes after a large file):
        // a fresh one holds none.
        self.parser = cuda_parser();
        self.syntax.take()
    }

    /// [`Document::drop_tree`], and the rope too: most of an idle document's
    /// memory (positions are then converted through a line table; the next
    /// edit rebuilds the rope).
    pub fn drop_tree_and_rope(&mut self) -> Option<SyntaxTrees> {
        self.index = self.index.compacted(&self.text);
        self.drop_tree()
    }

    /// Parses again after [`Document::drop_tree`] (no-op when parsed).
    pub fn ensure_parsed(&mut self) {
        if self.syntax.is_none() {
            self.reparse_from_scratch();
        }
    }

    /// True when the file is too large to parse (see [`MAX_PARSE_BYTES`]).
    pub fn too_large(&self) -> bool {
        self.text.len() > MAX_PARSE_BYTES
    }

    /// Applies LSP content changes in order, editing the trees in step, then
    /// reparses once: only the enclosing top-level item when there is one
    /// change strictly inside one (see [`SyntaxTrees`]), else incrementally.
    pub fn apply_changes(&mut self, changes: &[TextChange], version: i32) {
        let mut text = String::from(&*self.text);
        let mut incremental = self.syntax.is_some();
        // The trees' edits, in order (given to them once the text is done).
        let mut edits = Vec::new();
        for change in changes {
            match change.range {
                None => {
                    text = change.text.clone();
                    self.index = LineIndex::new(&text);
                    incremental = false;
                    edits.clear();
                }
                Some((start, end)) => {
                    let start_byte = self.index.offset(start);
                    let end_byte = self.index.offset(end).max(start_byte);
                    let start_point = self.index.point(start_byte);
                    let old_end_point = self.index.point(end_byte);
                    // A document woken from idleness gets its rope back here.
                    let mut rope = self.index.take_rope(&text);
                    text.replace_range(start_byte..end_byte, &change.text);
                    let start_char = rope.byte_to_char(start_byte);
                    let end_char = rope.byte_to_char(end_byte);
                    rope.remove(start_char..end_char);
                    rope.insert(start_char, &change.text);
                    self.index = LineIndex::from_rope(rope);
                    let new_end_byte = start_byte + change.text.len();
                    edits.push(InputEdit {
                        start_byte,
                        old_end_byte: end_byte,
                        new_end_byte,
                        start_position: start_point,
                        old_end_position: old_end_point,
                        new_end_position: self.index.point(new_end_byte),
                    });
                }
            }
        }
        self.text = Arc::from(text);
        self.version = version;
        if self.too_large() {
            self.syntax = None;
            return;
        }
        let Some(syntax) = self.syntax.as_mut().filter(|_| incremental) else {
            self.reparse_from_scratch();
            return;
        };
        let parsed = match edits.as_slice() {
            [edit] => {
                let index = &self.index;
                syntax.edit_and_reparse(&mut self.parser, &self.text, edit, |offset| {
                    index.point(offset)
                })
            }
            edits => {
                edits.iter().for_each(|edit| syntax.edit(edit));
                syntax.reparse_whole(&mut self.parser, &self.text)
            }
        };
        if !parsed {
            self.syntax = None;
        }
    }

    fn reparse_from_scratch(&mut self) {
        self.syntax = SyntaxTrees::parse_whole(&mut self.parser, &self.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_agrees_with_position_everywhere() {
        for text in [
            "int a;\r\nint b;\n\n  x\ry\n",
            "__global__ void k() {}\n",
            "",
            "\n\n",
            "// é 😀\nint x;\r\n",
        ] {
            let index = LineIndex::new(text);
            let mut cursor = index.cursor();
            let offsets: Vec<usize> = (0..=text.len() + 2)
                .chain((0..=text.len()).rev())
                .chain([3, 0, text.len(), 1])
                .collect();
            for offset in offsets {
                assert_eq!(
                    cursor.position(offset),
                    index.position(offset),
                    "{text:?} at {offset}"
                );
            }
        }
    }

    fn change(l0: u32, c0: u32, l1: u32, c1: u32, text: &str) -> TextChange {
        TextChange {
            range: Some((Position::new(l0, c0), Position::new(l1, c1))),
            text: text.to_string(),
        }
    }

    #[test]
    fn a_dropped_tree_is_rebuilt_by_the_next_edit_or_on_demand() {
        let mut doc = Document::new("__global__ void k() {}\n".into(), 1);
        doc.drop_tree();
        assert!(doc.syntax().is_none());
        doc.apply_changes(&[change(0, 16, 0, 17, "g")], 2);
        let fresh = parse(&mut cuda_parser(), doc.text(), None).unwrap();
        assert_eq!(
            doc.syntax().unwrap().to_sexp(),
            SyntaxTrees::from(fresh.clone()).to_sexp()
        );
        doc.drop_tree();
        doc.ensure_parsed();
        assert_eq!(
            doc.syntax().unwrap().to_sexp(),
            SyntaxTrees::from(fresh).to_sexp()
        );
    }

    #[test]
    fn line_table_agrees_with_the_rope() {
        for text in [
            "int a;\r\nint b;\n\n  x\ry\n",
            "__global__ void k() {}\n",
            "",
            "\n\n",
            "\r\r\n\n\r",
            "// é 😀\nint x;\r\n😀😀",
            "a😀b\r\nçx\n",
        ] {
            let shared: Arc<str> = Arc::from(text);
            let rope = LineIndex::new(text);
            let table = rope.compacted(&shared);
            assert_eq!(table.line_count(), rope.line_count(), "{text:?}");
            assert_eq!(table.len_bytes(), rope.len_bytes());
            let (mut rope_cursor, mut table_cursor) = (rope.cursor(), table.cursor());
            for offset in (0..=text.len() + 2).chain((0..=text.len()).rev()) {
                assert_eq!(
                    table.position(offset),
                    rope.position(offset),
                    "{text:?} {offset}"
                );
                assert_eq!(table_cursor.position(offset), rope_cursor.position(offset));
                if text.is_char_boundary(offset.min(text.len())) {
                    assert_eq!(table.point(offset), rope.point(offset), "{text:?} {offset}");
                }
            }
            for line in 0..rope.line_count() as u32 + 2 {
                assert_eq!(
                    table.line_text(line as usize),
                    rope.line_text(line as usize)
                );
                for character in 0..12 {
                    let p = Position::new(line, character);
                    assert_eq!(table.offset(p), rope.offset(p), "{text:?} {p:?}");
                }
            }
        }
    }

    #[test]
    fn an_idle_document_edits_like_any_other() {
        let text = "__global__ void k(float* a) {\r\n  a[0] = 1; // é\n}\n";
        let mut idle = Document::new(text.into(), 1);
        let mut busy = Document::new(text.into(), 1);
        idle.drop_tree_and_rope();
        let edit = [change(1, 4, 1, 5, "threadIdx.x")];
        idle.apply_changes(&edit, 2);
        busy.apply_changes(&edit, 2);
        assert_eq!(idle.text(), busy.text());
        assert_eq!(
            idle.syntax().unwrap().to_sexp(),
            busy.syntax().unwrap().to_sexp()
        );
        assert_eq!(
            idle.line_index().position(40),
            busy.line_index().position(40)
        );
    }

    #[test]
    fn ascii_fast_path_agrees_with_the_general_conversion() {
        let text = "__global__ void k() {\r\n  int a;\n\n}\r\nx";
        let ascii = LineIndex::new(text);
        // The same text plus one non-ASCII character at the very end takes the general path.
        let general = LineIndex::new(&format!("{text}é"));
        for offset in 0..=text.len() {
            assert_eq!(ascii.position(offset), general.position(offset), "{offset}");
        }
        for line in 0..6 {
            for character in 0..30 {
                let p = Position::new(line, character);
                let general_offset = general.offset(p).min(text.len());
                assert_eq!(ascii.offset(p), general_offset, "{p:?}");
            }
        }
    }

    #[test]
    fn utf16_positions_with_non_ascii_and_crlf() {
        let text = "a😀b\r\nçx\n";
        let idx = LineIndex::new(text);
        // 😀 is two UTF-16 code units and four bytes.
        assert_eq!(idx.offset(Position::new(0, 3)), 5);
        assert_eq!(idx.position(5), Position::new(0, 3));
        // Column past the end of a CRLF line clamps before the \r.
        assert_eq!(idx.offset(Position::new(0, 99)), 6);
        assert_eq!(idx.offset(Position::new(1, 1)), 10);
        assert_eq!(idx.position(10), Position::new(1, 1));
        // A line past the end clamps to the end of the text.
        assert_eq!(idx.offset(Position::new(9, 0)), text.len());
        // Inside a surrogate pair rounds down.
        assert_eq!(idx.offset(Position::new(0, 2)), 1);
    }

    #[test]
    fn incremental_edits_match_a_fresh_parse() {
        let mut doc = Document::new("__global__ void k(float* a) {\n  a[0] = 1;\n}\n".into(), 1);
        doc.apply_changes(&[change(1, 4, 1, 5, "threadIdx.x")], 2);
        doc.apply_changes(&[change(0, 0, 0, 0, "// é😀\r\n")], 3);
        assert_eq!(
            &**doc.text(),
            "// é😀\r\n__global__ void k(float* a) {\n  a[threadIdx.x] = 1;\n}\n"
        );
        let fresh = parse(&mut cuda_parser(), doc.text(), None).unwrap();
        assert_eq!(
            doc.syntax().unwrap().to_sexp(),
            SyntaxTrees::from(fresh).to_sexp()
        );
        assert_eq!(doc.version, 3);
    }

    #[test]
    fn full_replacement() {
        let mut doc = Document::new("x".into(), 1);
        doc.apply_changes(
            &[TextChange {
                range: None,
                text: "int y;".into(),
            }],
            2,
        );
        assert_eq!(&**doc.text(), "int y;");
        assert!(!doc.syntax().unwrap().top_level()[0].has_error());
    }
}
