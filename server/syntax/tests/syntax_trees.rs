//! A file's syntax trees under edits: an edit inside one item re-parses that
//! item alone, anything else the whole file, and the result always equals a
//! fresh parse (see `src/syntax_trees.rs`).

use cudalens_syntax::document::{Document, cuda_parser, parse};
use cudalens_syntax::{Position, SyntaxTrees, TextChange};

const TEXT: &str = "#define N 4\n__global__ void a(float* x) {\n  x[0] = 1;\n}\n\n// between\ntemplate <int B>\n__global__ void b(float* y) {\n  y[1] = 2;\n}\n";

fn edit(doc: &mut Document, line: u32, from: u32, to: u32, text: &str) {
    let range = Some((Position::new(line, from), Position::new(line, to)));
    let version = doc.version + 1;
    doc.apply_changes(
        &[TextChange {
            range,
            text: text.into(),
        }],
        version,
    );
}

/// The trees after the edits agree with a fresh parse of the text.
fn assert_fresh(doc: &Document) {
    let fresh = SyntaxTrees::from(parse(&mut cuda_parser(), doc.text(), None).unwrap());
    assert_eq!(
        doc.syntax().unwrap().to_sexp(),
        fresh.to_sexp(),
        "{}",
        doc.text()
    );
}

#[test]
fn an_edit_inside_an_item_reparses_that_item_alone() {
    let mut doc = Document::new(TEXT.into(), 1);
    let items = |d: &Document| d.syntax().unwrap().reparsed_items();
    edit(&mut doc, 2, 4, 5, "threadIdx.x");
    assert_eq!(items(&doc), 1);
    assert_fresh(&doc);
    // Again in the same item: its own tree is edited and re-parsed.
    edit(&mut doc, 2, 2, 2, "x[1] = 0; ");
    assert_eq!(items(&doc), 1);
    assert_fresh(&doc);
    // In the template: a second item tree.
    edit(&mut doc, 8, 4, 5, "threadIdx.x");
    assert_eq!(items(&doc), 2);
    assert_fresh(&doc);
    // Inside the comment between them: a third.
    edit(&mut doc, 5, 3, 3, "still ");
    assert_eq!(items(&doc), 3);
    assert_fresh(&doc);
    // Above everything (between items): the item trees shift with it.
    edit(&mut doc, 0, 0, 0, "// top\n");
    assert_eq!(
        items(&doc),
        0,
        "an edit between items parses the whole file"
    );
    assert_fresh(&doc);
}

#[test]
fn an_edit_that_breaks_the_item_parses_the_whole_file() {
    let mut doc = Document::new(TEXT.into(), 1);
    edit(&mut doc, 2, 4, 5, "threadIdx.x");
    assert_eq!(doc.syntax().unwrap().reparsed_items(), 1);
    // An unclosed brace makes the item swallow what follows: only a
    // whole-file parse gives what a fresh parse gives.
    edit(&mut doc, 2, 2, 2, "if (1) { ");
    assert_eq!(doc.syntax().unwrap().reparsed_items(), 0);
    assert_fresh(&doc);
    // A #define line is an item too.
    edit(&mut doc, 0, 10, 11, "8");
    assert_fresh(&doc);
}

#[test]
fn item_trees_move_with_edits_above_them() {
    let mut doc = Document::new(TEXT.into(), 1);
    edit(&mut doc, 8, 4, 5, "threadIdx.x");
    assert_eq!(doc.syntax().unwrap().reparsed_items(), 1);
    // Inside the first function (another item), above the item tree.
    edit(&mut doc, 2, 2, 2, "x[2] = 3;\n  ");
    assert_eq!(doc.syntax().unwrap().reparsed_items(), 2);
    assert_fresh(&doc);
    let top = doc.syntax().unwrap().top_level();
    assert!(top.windows(2).all(|w| w[0].end_byte() <= w[1].start_byte()));
}
