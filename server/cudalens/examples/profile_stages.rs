//! `cargo run --release --example profile_stages -- FILE [OPENS] [-IDIR...]`: time of
//! each stage (parse, model, analyse) of opening one file, then of a few
//! one-character edits, to find where latency goes. `open_once` is not
//! inlined, so `valgrind --tool=callgrind --toggle-collect='*open_once*'`
//! counts the instructions of opens alone.

use std::time::{Duration, Instant};

use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze_cached};
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::FsProvider;
use cudalens_syntax::{BuildOptions, Document, Position, TextChange};

fn main() {
    cudalens::allocator::install();
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: profile_stages FILE [OPENS]");
        return;
    };
    let opens: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let config = AnalysisConfig::default();
    // `-IDIR` arguments after OPENS: the include paths a build gives.
    let flags = cudalens_syntax::preprocess::include::CompileFlags {
        include_dirs: args
            .filter_map(|a| a.strip_prefix("-I").map(std::path::PathBuf::from))
            .collect(),
        ..Default::default()
    };
    let opts = BuildOptions {
        path: Some(std::path::Path::new(&path)),
        flags,
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let mut open = None;
    for _ in 0..opens {
        let (doc, caches, [parse, model, analyse], diagnostics) = open_once(&text, &opts, &config);
        println!(
            "open: parse {parse:?}  model {model:?}  analyse {analyse:?}  ({diagnostics} diagnostics)"
        );
        open = Some((doc, caches));
    }
    let Some((mut doc, (mut model_cache, mut analysis_cache))) = open else {
        return;
    };
    let middle = (text.lines().count() / 2) as u32;
    // One-character edits in the middle, with the caches.
    for run in 1..6 {
        let t = Instant::now();
        let change = TextChange {
            range: Some((
                Position::new(middle, 0),
                Position::new(middle, u32::from(run % 2 == 0)),
            )),
            text: if run % 2 == 1 {
                " ".into()
            } else {
                String::new()
            },
        };
        doc.apply_changes(&[change], run + 1);
        let parse = t.elapsed();
        let t = Instant::now();
        let model = build_model_cached(doc.text(), doc.syntax(), &opts, &mut model_cache);
        let build = t.elapsed();
        let t = Instant::now();
        let analysis = analyze_cached(&model, doc.text(), &config, &mut analysis_cache);
        let analyse = t.elapsed();
        println!(
            "edit: parse {parse:?}  model {build:?}  analyse {analyse:?}  ({} functions, {} diagnostics)",
            model.functions.len(),
            analysis.diagnostics.len()
        );
    }
}

/// Opens `text` as the server does on didOpen: parse, model and analysis
/// with empty caches.
#[inline(never)]
fn open_once(
    text: &str,
    opts: &BuildOptions,
    config: &AnalysisConfig,
) -> (Document, (ModelCache, AnalysisCache), [Duration; 3], usize) {
    let t = Instant::now();
    let doc = Document::new(text.to_owned(), 1);
    let parse = t.elapsed();
    let (mut model_cache, mut analysis_cache) = (ModelCache::default(), AnalysisCache::default());
    let t = Instant::now();
    let model = build_model_cached(doc.text(), doc.syntax(), opts, &mut model_cache);
    let build = t.elapsed();
    let t = Instant::now();
    let analysis = analyze_cached(&model, doc.text(), config, &mut analysis_cache);
    let analyse = t.elapsed();
    let diagnostics = analysis.diagnostics.len();
    (
        doc,
        (model_cache, analysis_cache),
        [parse, build, analyse],
        diagnostics,
    )
}
