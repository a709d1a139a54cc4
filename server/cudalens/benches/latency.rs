//! What the editor waits for, on a generated 5,000-line file:
//! - `open`: parse + model + analyse from scratch (didOpen → diagnostics);
//! - `edit`: a one-character edit, incremental reparse + model + analyse
//!   (didChange → diagnostics);
//! - `model_and_analyse`: model + analyse from scratch, without parsing.

mod corpus;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

use cudalens::pipeline::{self, Analyzed, Caches};
use cudalens_analysis::AnalysisConfig;
use cudalens_syntax::preprocess::include::FsProvider;
use cudalens_syntax::{Document, Position, TextChange};

fn analyse(doc: &Document, config: &AnalysisConfig, caches: Option<&mut Caches>) -> Analyzed {
    pipeline::run(pipeline::Request {
        text: doc.text(),
        tree: doc.syntax(),
        path: None,
        flags: Default::default(),
        provider: &FsProvider,
        config,
        caches,
        launches_elsewhere: &[],
    })
}

fn latency(c: &mut Criterion) {
    let text = corpus::generate(5000);
    let config = AnalysisConfig::default();
    let mut group = c.benchmark_group("5000_lines");
    group.sample_size(30);

    group.bench_function("open", |b| {
        b.iter(|| {
            let doc = Document::new(text.clone(), 1);
            black_box(analyse(&doc, &config, None))
        })
    });

    let middle = (text.lines().count() / 2) as u32;
    // The server keeps one document and its caches across edits.
    let mut doc = Document::new(text.clone(), 1);
    let mut caches = Caches::default();
    analyse(&doc, &config, Some(&mut caches));
    let mut version = 1;
    group.bench_function("edit", |b| {
        b.iter(|| {
            // Alternately type and delete a space, as lsp_latency.py does.
            version += 1;
            let end = if version % 2 == 0 { 0 } else { 1 };
            let change = TextChange {
                range: Some((Position::new(middle, 0), Position::new(middle, end))),
                text: if version % 2 == 0 {
                    " ".into()
                } else {
                    String::new()
                },
            };
            doc.apply_changes(&[change], version);
            black_box(analyse(&doc, &config, Some(&mut caches)))
        })
    });

    let doc = Document::new(text.clone(), 1);
    group.bench_function("model_and_analyse", |b| {
        b.iter(|| black_box(analyse(&doc, &config, None)))
    });
    group.finish();
}

criterion_group!(benches, latency);
criterion_main!(benches);
