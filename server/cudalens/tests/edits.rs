//! Property: any sequence of LSP edits (random ranges, multi-byte text,
//! CRLF and lone CR) leaves `Document` with exactly the text a plain String
//! gets from the same edits, and modelling + analysing the result never panics.

use std::collections::HashMap;
use std::path::PathBuf;

use cudalens_analysis::{AnalysisConfig, analyze};
use cudalens_syntax::{BuildOptions, Document, Position, SyntaxTrees, TextChange, build_model};
use proptest::prelude::*;

const START: &str = "// é😀\r\n#define B 256\n__global__ void k(float* a) {\n  __shared__ float t[32][32];\n  t[threadIdx.x][0] = a[threadIdx.x * 2];\n}\r\nvoid h(float* a) { k<<<1, B>>>(a); }\n";

const PIECES: &[&str] = &[
    "",
    "x",
    "é",
    "😀",
    "\r\n",
    "\n",
    "\r",
    " ",
    "}",
    "{",
    "<<<",
    ">>>",
    "__global__ void q() {",
    "[threadIdx.x]",
    "#define T 3\n",
    "#if 1\n",
    "#endif\n",
    "𝕏𝕐",
    "\t",
    "\0",
    "/*",
    "*/",
    "\"",
    "(",
    ")",
];

/// The LSP position of a byte offset: lines end at `\n`, `\r\n` or `\r`; columns are UTF-16.
fn position(text: &str, offset: usize) -> Position {
    let (mut line, mut col, mut after_cr) = (0u32, 0u32, false);
    for (i, c) in text.char_indices() {
        if i >= offset {
            break;
        }
        match c {
            '\r' => (line, col, after_cr) = (line + 1, 0, true),
            '\n' if after_cr => (col, after_cr) = (0, false),
            '\n' => (line, col) = (line + 1, 0),
            _ => (col, after_cr) = (col + c.len_utf16() as u32, false),
        }
    }
    Position::new(line, col)
}

/// The nearest offset at or before `offset` that a client could name:
/// on a char boundary and not between the `\r` and `\n` of a CRLF.
fn valid_offset(text: &str, offset: usize) -> usize {
    let mut o = offset.min(text.len());
    while !text.is_char_boundary(o)
        || (o > 0 && text[..o].ends_with('\r') && text[o..].starts_with('\n'))
    {
        o -= 1;
    }
    o
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn edits_match_a_plain_string(edits in prop::collection::vec((any::<u16>(), 0u16..40, 0..PIECES.len() + 1, any::<u8>()), 1..16)) {
        let mut expected = START.to_string();
        let mut doc = Document::new(START.to_string(), 0);
        let provider: HashMap<PathBuf, String> = HashMap::new();
        let config = AnalysisConfig::default();
        for (version, (at, len, piece, extra)) in edits.into_iter().enumerate() {
            let text = match PIECES.get(piece) {
                Some(p) => p.to_string(),
                None => char::from_u32(0x80 + u32::from(extra) * 37).map(String::from).unwrap_or_default(),
            };
            let change = if extra == 255 {
                expected = text.clone();
                TextChange { range: None, text }
            } else {
                let start = valid_offset(&expected, usize::from(at) % (expected.len() + 1));
                let end = valid_offset(&expected, start + usize::from(len));
                let range = (position(&expected, start), position(&expected, end));
                expected.replace_range(start..end, &text);
                TextChange { range: Some(range), text }
            };
            // Now and then the document hibernates first (tree dropped): the
            // edit must then parse from scratch to the same result.
            if extra % 7 == 0 {
                doc.drop_tree_and_rope();
            }
            doc.apply_changes(&[change], version as i32 + 1);
            prop_assert_eq!(&**doc.text(), expected.as_str());
            // The top-level nodes are in order and inside the text; where the
            // text parses without errors they equal a fresh parse, whether the
            // edit re-parsed one item or the whole file (tree-sitter's error
            // recovery may legitimately differ between incremental and fresh
            // parses of broken text, so broken text is only checked for order).
            let trees = doc.syntax().expect("a tree after the edit");
            let fresh = SyntaxTrees::parse_whole(&mut cudalens_syntax::document::cuda_parser(), &expected)
                .expect("a fresh tree");
            let nodes = trees.top_level();
            prop_assert!(nodes.windows(2).all(|w| w[0].end_byte() <= w[1].start_byte()));
            prop_assert!(nodes.iter().all(|n| n.end_byte() <= expected.len()));
            let clean = !fresh.top_level().iter().any(|n| n.has_error());
            if clean {
                prop_assert_eq!(trees.to_sexp(), fresh.to_sexp());
            }
            // Positions survive the round trip (ASCII fast path or UTF-16).
            let index = doc.line_index();
            for offset in [0, expected.len() / 2, expected.len()] {
                let offset = valid_offset(&expected, offset);
                prop_assert_eq!(index.offset(index.position(offset)), offset);
            }
            let opts = BuildOptions { path: None, flags: Default::default(), provider: &provider, max_include_depth: 4, deadline: None };
            let model = build_model(doc.text(), doc.syntax(), &opts);
            if clean {
                let from_fresh = build_model(doc.text(), Some(&fresh), &opts);
                prop_assert_eq!(&model.functions, &from_fresh.functions);
                prop_assert_eq!(&model.diagnostics, &from_fresh.diagnostics);
            }
            let analysis = analyze(&model, doc.text(), &config);
            for d in &analysis.diagnostics {
                prop_assert!(d.span.start <= d.span.end && d.span.end <= expected.len());
            }
        }
    }
}
