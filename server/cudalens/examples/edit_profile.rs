//! Breaks down the time of one edit on a large file (development aid):
//! `edit_profile FILE.cu [EDITS] [-I DIR]...` (include paths as a project's
//! build gives them: real files read hundreds of KB of headers).
use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze_cached};
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{BuildOptions, FileModel, Position, TextChange, document};
use std::time::{Duration, Instant};

fn main() {
    let path = std::env::args().nth(1).expect("file");
    // Optional second argument: how many edits (default 10; more for `perf record`).
    let edits: i32 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    // The allocator the `cudalens` binary runs with (see `cudalens::allocator`).
    cudalens::allocator::install();
    let text = std::fs::read_to_string(&path).expect("read");
    let args: Vec<String> = std::env::args().skip(3).collect();
    let file = std::path::absolute(&path).expect("path");
    let opts = BuildOptions {
        path: Some(&file),
        flags: CompileFlags::from_args(&args, &std::env::current_dir().expect("cwd")),
        provider: &FsProvider,
        ..BuildOptions::default()
    };
    let config = AnalysisConfig::default();
    // The open: parse, first model build (every header cold), first analysis.
    let t0 = Instant::now();
    let mut doc = document::Document::new(text, 1);
    let t1 = Instant::now();
    // Headers parsed ahead on other threads, as the language server does
    // (`EDIT_PROFILE_STORE=check`: as `check` does, each parsed whole by
    // the build).
    let store = if std::env::var("EDIT_PROFILE_STORE").as_deref() == Ok("check") {
        cudalens_syntax::model::headers::HeaderStore::new()
    } else {
        cudalens_syntax::model::headers::HeaderStore::for_editor()
    };
    let mut caches = (ModelCache::sharing(store), AnalysisCache::default());
    let mut prev = build_model_cached(doc.text(), doc.syntax(), &opts, &mut caches.0);
    let t2 = Instant::now();
    analyze_cached(&prev, doc.text(), &config, &mut caches.1);
    let t3 = Instant::now();
    println!(
        "open, ms: parse {:.2}, model {:.2}, analysis {:.2}",
        (t1 - t0).as_secs_f64() * 1e3,
        (t2 - t1).as_secs_f64() * 1e3,
        (t3 - t2).as_secs_f64() * 1e3
    );
    let (bodies, bytes) = caches.0.header_bodies_left_out();
    println!("header function bodies left out of the parse: {bodies} ({bytes} bytes)");
    let mid = doc.line_index().line_count() as u32 / 2;
    let mut times: [Vec<f64>; 4] = Default::default();
    for v in 2..2 + edits {
        let (stages, diagnostics) =
            edit_once(&mut doc, mid, v, &mut prev, &mut caches, &opts, &config);
        for (i, t) in stages.iter().enumerate() {
            times[i].push(t.as_secs_f64() * 1e3);
        }
        if edits > 20 && v % (edits / 10) != 0 {
            continue;
        }
        println!(
            "apply+reparse {:?} release old model {:?} model {:?} analysis {:?} ({} diags)",
            stages[0], stages[1], stages[2], stages[3], diagnostics
        );
    }
    let stat = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[(v.len() - 1) * 95 / 100])
    };
    let [r, d, m, a] = times.map(|mut v| stat(&mut v));
    println!(
        "median (p95) over {edits} edits, ms: apply+reparse {:.2} ({:.2}), release old model {:.2} ({:.2}), \
         model {:.2} ({:.2}), analysis {:.2} ({:.2})",
        r.0, r.1, d.0, d.1, m.0, m.1, a.0, a.1
    );
    drop(prev);
}

/// One edit and the analysis of its result, stage by stage. Not inlined, so
/// `valgrind --tool=callgrind --toggle-collect='*edit_once*'` counts the
/// instructions of edits alone.
#[inline(never)]
fn edit_once(
    doc: &mut document::Document,
    line: u32,
    version: i32,
    prev: &mut FileModel,
    (model_cache, analysis_cache): &mut (ModelCache, AnalysisCache),
    opts: &BuildOptions,
    config: &AnalysisConfig,
) -> ([Duration; 4], usize) {
    let t0 = Instant::now();
    doc.apply_changes(
        &[TextChange {
            range: Some((Position::new(line, 0), Position::new(line, 0))),
            text: " ".into(),
        }],
        version,
    );
    let t1 = Instant::now();
    // Like the language server: the published model is released before
    // the build, so functions that moved are shifted in place, not copied.
    drop(std::mem::take(prev));
    let t2 = Instant::now();
    *prev = build_model_cached(doc.text(), doc.syntax(), opts, model_cache);
    let t3 = Instant::now();
    let analysis = analyze_cached(prev, doc.text(), config, analysis_cache);
    let t4 = Instant::now();
    (
        [t1 - t0, t2 - t1, t3 - t2, t4 - t3],
        analysis.diagnostics.len(),
    )
}
