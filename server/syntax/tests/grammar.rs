//! The grammar tests in `grammars/`: the CUDA trees the model depends on, and
//! the query file compiling against the grammar.

use std::path::Path;

use cudalens_syntax::document::{cuda_parser, parse};

fn grammars() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../grammars")
}

/// (name, source, expected S-expression) from tree-sitter's corpus format.
fn corpus_cases(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let blocks: Vec<&str> = text
        .split("================================================================================")
        .collect();
    // Blocks alternate: "" / name / body / name / body ...
    let mut i = 1;
    while i + 1 < blocks.len() {
        let name = blocks[i].trim().to_string();
        let body = blocks[i + 1];
        if let Some((src, sexp)) = body.split_once(
            "--------------------------------------------------------------------------------",
        ) {
            out.push((
                name,
                src.trim().to_string(),
                sexp.split_whitespace().collect::<Vec<_>>().join(" "),
            ));
        }
        i += 2;
    }
    out
}

#[test]
fn corpus_trees_match() {
    let text = std::fs::read_to_string(grammars().join("corpus/cuda.txt")).expect("corpus");
    let cases = corpus_cases(&text);
    assert!(cases.len() >= 6, "parsed {} cases", cases.len());
    for (name, src, expected) in cases {
        let tree = parse(&mut cuda_parser(), &src, None).expect("parses");
        let got = tree.root_node().to_sexp();
        assert_eq!(
            got.split_whitespace().collect::<Vec<_>>().join(" "),
            expected,
            "case `{name}`"
        );
    }
}

#[test]
fn kernel_query_compiles_and_captures() {
    use tree_sitter::StreamingIterator;
    let query_src =
        std::fs::read_to_string(grammars().join("queries/cuda/kernels.scm")).expect("query");
    let language: tree_sitter::Language = tree_sitter_cuda::LANGUAGE.into();
    let query = tree_sitter::Query::new(&language, &query_src)
        .expect("query compiles against tree-sitter-cuda");
    let src = "__global__ void __launch_bounds__(128) k(float* a) { a[threadIdx.x] = 0; __syncthreads(); }\nvoid h(float* a) { k<<<1, 128>>>(a); }\n";
    let tree = parse(&mut cuda_parser(), src, None).expect("parses");
    let mut cursor = tree_sitter::QueryCursor::new();
    let mut names = std::collections::BTreeSet::new();
    let mut matches = cursor.matches(&query, tree.root_node(), src.as_bytes());
    while let Some(m) = matches.next() {
        for c in m.captures() {
            names.insert(query.capture_names()[c.index as usize].to_string());
        }
    }
    for expected in [
        "function.kernel",
        "function.launch",
        "launch.configuration",
        "attribute.launch_bounds",
        "variable.builtin",
        "function.barrier",
    ] {
        assert!(
            names.contains(expected),
            "missing capture {expected}: {names:?}"
        );
    }
}
