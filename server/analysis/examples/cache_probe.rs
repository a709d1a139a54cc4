//! Which function fingerprints change across a one-character edit — development aid.
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{BuildOptions, Document, Position, TextChange};
fn main() {
    let text = std::fs::read_to_string(std::env::args().nth(1).expect("file")).expect("read");
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let mut doc = Document::new(text, 1);
    let mut mc = ModelCache::default();
    let a = build_model_cached(doc.text(), doc.syntax(), &opts, &mut mc);
    let mid = doc.line_index().line_count() as u32 / 2;
    doc.apply_changes(
        &[TextChange {
            range: Some((Position::new(mid, 0), Position::new(mid, 0))),
            text: " ".into(),
        }],
        2,
    );
    let b = build_model_cached(doc.text(), doc.syntax(), &opts, &mut mc);
    let mut changed = 0;
    for (x, y) in a.functions.iter().zip(&b.functions) {
        if x.fingerprint != y.fingerprint {
            changed += 1;
            if changed < 5 {
                println!("changed: {} ", x.name);
            }
        }
    }
    println!(
        "{} of {} functions changed; consts equal: {}",
        changed,
        a.functions.len(),
        a.consts == b.consts
    );
    let config = cudalens_analysis::AnalysisConfig::default();
    let mut ac = cudalens_analysis::AnalysisCache::default();
    let t = std::time::Instant::now();
    let ra = cudalens_analysis::analyze_cached(&a, doc.text(), &config, &mut ac);
    println!("a: {:?}", t.elapsed());
    for _ in 0..10 {
        let t = std::time::Instant::now();
        let rb = cudalens_analysis::analyze_cached(&b, doc.text(), &config, &mut ac);
        println!(
            "b after edit: {:?} ({} vs {} kernels)",
            t.elapsed(),
            ra.kernels.len(),
            rb.kernels.len()
        );
    }
}
