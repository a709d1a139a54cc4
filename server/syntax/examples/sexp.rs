//! Prints the tree-sitter S-expression of a CUDA snippet (to write grammar tests).
fn main() {
    let src = std::env::args().nth(1).unwrap_or_default();
    let mut p = cudalens_syntax::document::cuda_parser();
    if let Some(t) = cudalens_syntax::document::parse(&mut p, &src, None) {
        println!("{}", t.root_node().to_sexp());
    }
}
