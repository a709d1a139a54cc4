//! `cargo run --release --example profile_stages -- FILE`: time of each stage
//! (parse, model, analyse) on one file, to find where latency goes.

use std::time::Instant;

use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze_cached};
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::FsProvider;
use cudalens_syntax::{BuildOptions, Document, Position, TextChange};

fn main() {
    cudalens::allocator::install();
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: profile_stages FILE");
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let config = AnalysisConfig::default();
    let mut doc = Document::new(text.clone(), 1);
    let (mut model_cache, mut analysis_cache) = (ModelCache::default(), AnalysisCache::default());
    let middle = (text.lines().count() / 2) as u32;
    // Run 0 is the open; later runs are one-character edits in the middle, with the caches.
    for run in 0..6 {
        let t = Instant::now();
        if run > 0 {
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
        }
        let parse = t.elapsed();
        let t = Instant::now();
        let opts = BuildOptions {
            path: Some(std::path::Path::new(&path)),
            flags: Default::default(),
            provider: &FsProvider,
            max_include_depth: 16,
        };
        let model = build_model_cached(doc.text(), doc.syntax(), &opts, &mut model_cache);
        let build = t.elapsed();
        let t = Instant::now();
        let analysis = analyze_cached(&model, doc.text(), &config, &mut analysis_cache);
        let analyse = t.elapsed();
        println!(
            "parse {parse:?}  model {build:?}  analyse {analyse:?}  ({} functions, {} diagnostics)",
            model.functions.len(),
            analysis.diagnostics.len()
        );
    }
}
