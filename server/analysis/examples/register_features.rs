//! The features of each kernel the register estimate could use, as TSV on
//! stdout — development aid for calibrating `launch::estimate_registers`
//! against nvcc's counts (tests/realworld/occupancy_truth.py).
//!
//!     register_features FILE... [-I DIR]...
use std::path::{Path, PathBuf};

use cudalens_analysis::launch::RegisterFeatures;
use cudalens_syntax::model::{BuildOptions, build_model};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{SyntaxTrees, document};

fn main() {
    let mut files = Vec::new();
    let mut flags = CompileFlags::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "-I" {
            flags
                .include_dirs
                .push(PathBuf::from(args.next().expect("dir")));
        } else if let Some(d) = a.strip_prefix("-I") {
            flags.include_dirs.push(PathBuf::from(d));
        } else {
            files.push(a);
        }
    }
    println!("file\tkernel\tline\tpointers\tscalars\tcalls\tloops\twide");
    for file in files {
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let tree = SyntaxTrees::parse_whole(&mut document::cuda_parser(), &text);
        let opts = BuildOptions {
            path: Some(Path::new(&file)),
            flags: flags.clone(),
            provider: &FsProvider,
            max_include_depth: 16,
            deadline: None,
        };
        let model = build_model(&text, tree.as_ref(), &opts);
        for k in model
            .functions
            .iter()
            .filter(|f| f.is_kernel() && f.in_main_file())
        {
            let f = RegisterFeatures::of(k);
            let line = text[..k.name_span.start.min(text.len())]
                .matches('\n')
                .count();
            println!(
                "{file}\t{}\t{line}\t{}\t{}\t{}\t{}\t{}",
                k.name, f.pointers, f.scalars, f.calls, f.loops, f.wide_locals
            );
        }
    }
}
