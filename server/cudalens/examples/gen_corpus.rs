//! `cargo run --example gen_corpus -- LINES > file.cu`: the benchmark corpus.

#[path = "../benches/corpus.rs"]
mod corpus;

fn main() {
    let lines = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    print!("{}", corpus::generate(lines));
}
