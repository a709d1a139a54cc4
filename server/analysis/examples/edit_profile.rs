//! Breaks down the time of one edit on a large file (development aid).
use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze_cached};
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{BuildOptions, Position, TextChange, document};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("file");
    let text = std::fs::read_to_string(path).expect("read");
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
    };
    let config = AnalysisConfig::default();
    let mut doc = document::Document::new(text, 1);
    let (mut mc, mut ac) = (ModelCache::default(), AnalysisCache::default());
    let m = build_model_cached(doc.text(), doc.tree(), &opts, &mut mc);
    analyze_cached(&m, doc.text(), &config, &mut ac);
    let mid = doc.line_index().line_count() as u32 / 2;
    for v in 2..12 {
        let t0 = Instant::now();
        doc.apply_changes(
            &[TextChange {
                range: Some((Position::new(mid, 0), Position::new(mid, 0))),
                text: " ".into(),
            }],
            v,
        );
        let t1 = Instant::now();
        let m = build_model_cached(doc.text(), doc.tree(), &opts, &mut mc);
        let t2 = Instant::now();
        let a = analyze_cached(&m, doc.text(), &config, &mut ac);
        let t3 = Instant::now();
        println!(
            "apply+reparse {:?} model {:?} analysis {:?} ({} diags)",
            t1 - t0,
            t2 - t1,
            t3 - t2,
            a.diagnostics.len()
        );
    }
}
