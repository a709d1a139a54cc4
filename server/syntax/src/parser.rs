//! The CUDA grammar: a parser for it, a bounded parse, its field ids.

use tree_sitter::{Parser, Point, Tree};

/// Files larger than this are not parsed (the user gets a notice instead).
pub const MAX_PARSE_BYTES: usize = 8 * 1024 * 1024;

/// The id of one of the CUDA grammar's field names.
pub(crate) fn field_id(name: &str) -> Option<u16> {
    let language: tree_sitter::Language = tree_sitter_cuda::LANGUAGE.into();
    language.field_id_for_name(name).map(|id| id.get())
}

/// Creates a parser for CUDA.
pub fn cuda_parser() -> Parser {
    let mut parser = Parser::new();
    // The grammar is compiled into this binary; a version mismatch would be a
    // build-time bug, so failing loudly in tests is right, but we never panic at
    // run time: an unset language makes `parse` return None, handled below.
    let _ = parser.set_language(&tree_sitter_cuda::LANGUAGE.into());
    parser
}

/// Parses `text` (reusing `old` when its edits were applied), giving up after
/// a generous deadline so no input can hang the caller.
pub fn parse(parser: &mut Parser, text: &str, old: Option<&Tree>) -> Option<Tree> {
    // Whether a `friend` is read as spaces can change outside an edit
    // (`__device__` typed before it): such a file is parsed afresh.
    let old = old.filter(|_| !text.contains("friend"));
    let normalized = friends_after_attributes(text);
    let text = normalized.as_deref().unwrap_or(text);
    // Which comments are read as spaces can change outside an edit (a `\`
    // typed at the end of a `#define`'s line): such a file is parsed afresh.
    let blanked = comments_inside_macro_lines(text);
    let old = old.filter(|_| blanked.is_none());
    let text = blanked.as_deref().unwrap_or(text);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut check = |_: &tree_sitter::ParseState| {
        if std::time::Instant::now() > deadline {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    };
    let bytes = text.as_bytes();
    let mut read = |offset: usize, _: Point| bytes.get(offset..).unwrap_or(&[]);
    let options = tree_sitter::ParseOptions::new().progress_callback(&mut check);
    let tree = parser.parse_with_options(&mut read, old, Some(options));
    parser.reset();
    tree
}

/// `__host__ __device__ friend inline C operator*(...)`: the grammar takes
/// no `friend` after CUDA's attributes, so the keyword is read as spaces
/// (every offset stays; the builder tells a friend by its text). `None`
/// when the text has no such `friend`.
fn friends_after_attributes(text: &str) -> Option<String> {
    const ATTRIBUTES: [&str; 4] = ["__host__", "__device__", "__forceinline__", "__inline__"];
    if !text.contains("friend") {
        return None;
    }
    let bytes = text.as_bytes();
    let is_ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut blanked: Option<Vec<u8>> = None;
    let mut from = 0;
    while let Some(i) = text[from..].find("friend") {
        let at = from + i;
        from = at + "friend".len();
        let whole_word =
            (at == 0 || !is_ident(bytes[at - 1])) && bytes.get(from).is_none_or(|b| !is_ident(*b));
        let before = text[..at].trim_end();
        if whole_word && ATTRIBUTES.iter().any(|a| before.ends_with(a)) {
            let out = blanked.get_or_insert_with(|| bytes.to_vec());
            out[at..from].fill(b' ');
        }
    }
    blanked.and_then(|b| String::from_utf8(b).ok())
}

/// `/* ... */` on a line of a `#define` that the next line continues
/// (`\` at its end): the grammar ends the macro at such a comment and reads
/// the rest of its lines as code (HeCBench qtclustering's
/// `COMPUTE_DIAMETER_WITH_POINT`, whose function then vanished), so the
/// comment is read as spaces. Every offset and line stays; the macro's own
/// tokenizer drops comments anyway. `None` when there is none.
fn comments_inside_macro_lines(text: &str) -> Option<String> {
    if !text.contains("/*") || !text.contains('#') {
        return None;
    }
    let bytes = text.as_bytes();
    let mut blanked: Option<Vec<u8>> = None;
    let mut in_directive = false;
    let mut line_start = 0;
    while line_start < bytes.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(bytes.len(), |i| line_start + i);
        let line = &bytes[line_start..line_end];
        if !in_directive {
            in_directive = line
                .iter()
                .find(|b| !matches!(b, b' ' | b'\t'))
                .is_some_and(|b| *b == b'#');
        }
        let continued = line.strip_suffix(b"\r").unwrap_or(line).ends_with(b"\\");
        if in_directive && continued {
            for (from, to) in block_comments_in_line(line) {
                let out = blanked.get_or_insert_with(|| bytes.to_vec());
                out[line_start + from..line_start + to].fill(b' ');
            }
        }
        in_directive = in_directive && continued;
        line_start = line_end + 1;
    }
    blanked.and_then(|b| String::from_utf8(b).ok())
}

/// The byte ranges of the `/* ... */` comments that open and close on
/// `line`, outside string and character literals; a `//` ends the search.
fn block_comments_in_line(line: &[u8]) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < line.len() {
        match line[i] {
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < line.len() && line[i] != quote {
                    i += if line[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'/' if line.get(i + 1) == Some(&b'/') => break,
            b'/' if line.get(i + 1) == Some(&b'*') => {
                let Some(close) = line[i + 2..].windows(2).position(|w| w == b"*/") else {
                    break;
                };
                let end = i + 2 + close + 2;
                found.push((i, end));
                i = end;
            }
            _ => i += 1,
        }
    }
    found
}
