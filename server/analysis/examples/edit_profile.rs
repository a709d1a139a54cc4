//! Breaks down the time of one edit on a large file (development aid):
//! `edit_profile FILE.cu [EDITS]`.
use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze_cached};
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{BuildOptions, Position, TextChange, document};
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("file");
    // Optional second argument: how many edits (default 10; more for `perf record`).
    let edits: i32 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
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
    let mut prev = build_model_cached(doc.text(), doc.tree(), &opts, &mut mc);
    analyze_cached(&prev, doc.text(), &config, &mut ac);
    let mid = doc.line_index().line_count() as u32 / 2;
    let mut times: [Vec<f64>; 4] = Default::default();
    for v in 2..2 + edits {
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
        // The server drops the previous version's model when it publishes the new one.
        prev = m;
        let t4 = Instant::now();
        for (i, t) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3].iter().enumerate() {
            times[i].push(t.as_secs_f64() * 1e3);
        }
        if edits > 20 && v % (edits / 10) != 0 {
            continue;
        }
        println!(
            "apply+reparse {:?} model {:?} analysis {:?} drop old model {:?} ({} diags)",
            t1 - t0,
            t2 - t1,
            t3 - t2,
            t4 - t3,
            a.diagnostics.len()
        );
    }
    let stat = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[(v.len() - 1) * 95 / 100])
    };
    let [r, m, a, d] = times.map(|mut v| stat(&mut v));
    println!(
        "median (p95) over {edits} edits, ms: apply+reparse {:.2} ({:.2}), model {:.2} ({:.2}), \
         analysis {:.2} ({:.2}), drop old model {:.2} ({:.2})",
        r.0, r.1, m.0, m.1, a.0, a.1, d.0, d.1
    );
    drop(prev);
}
