fn main() {
    let path = std::env::args().nth(1).unwrap();
    let text = std::fs::read_to_string(path).unwrap();
    let mut p = cudalens_syntax::document::cuda_parser();
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let tree = p.parse(&text, None).unwrap();
        println!(
            "plain parse {:?} err={}",
            t.elapsed(),
            tree.root_node().has_error()
        );
        let t = std::time::Instant::now();
        let _ = cudalens_syntax::document::parse(&mut p, &text, None).unwrap();
        println!("with callback {:?}", t.elapsed());
    }
}
