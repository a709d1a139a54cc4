//! Lists the ERROR and MISSING nodes tree-sitter leaves in a file (development
//! aid: why a real header's root is an ERROR): `parse_errors FILE`.
fn main() {
    let path = std::env::args().nth(1).expect("file");
    let src = std::fs::read_to_string(&path).expect("read");
    let mut p = cudalens_syntax::document::cuda_parser();
    let Some(t) = cudalens_syntax::document::parse(&mut p, &src, None) else {
        return;
    };
    let root = t.root_node();
    println!("root: {} (has_error {})", root.kind(), root.has_error());
    if root.is_error() {
        // An ERROR root: its children say where the file stopped fitting.
        let mut c = root.walk();
        for ch in root.children(&mut c) {
            let (a, b) = (ch.start_position(), ch.end_position());
            println!(
                "  child {} {}..{} err={}",
                ch.kind(),
                a.row + 1,
                b.row + 1,
                ch.has_error()
            );
        }
    }
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        if n.is_error() || n.is_missing() {
            let s = n.start_position();
            let text = &src[n.start_byte()..n.end_byte().min(n.start_byte() + 80)];
            println!("{}:{}: {} {:?}", s.row + 1, s.column + 1, n.kind(), text);
            if n.is_error() && n.byte_range().len() > 2000 {
                // Descend: the interesting error is inside.
            } else {
                continue;
            }
        }
        let mut c = n.walk();
        stack.extend(n.children(&mut c));
    }
}
