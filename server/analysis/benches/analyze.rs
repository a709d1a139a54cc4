//! Time to model and analyse a large CUDA file (`cargo bench -p cudalens-analysis`).
//! The file is the memory corpus repeated with renamed kernels (about 5,000 lines).

use criterion::{Criterion, criterion_group, criterion_main};

use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze, analyze_cached};
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{BuildOptions, Position, TextChange, analyze_source, build_model, document};

/// The corpus kernels, renamed `_<k>` per copy, until the text has `lines` lines.
pub fn large_file(lines: usize) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/corpus/memory/");
    let parts: Vec<String> = ["shared.cu", "coalescing.cu"]
        .iter()
        .map(|f| std::fs::read_to_string(format!("{root}{f}")).expect("corpus"))
        .collect();
    let mut out = String::new();
    let mut k = 0;
    while out.lines().count() < lines {
        for p in &parts {
            let renamed = p
                .replace("__global__ void ", &format!("__global__ void k{k}_"))
                .replace("int main()", &format!("int main_{k}()"));
            let renamed = rename_launches(&renamed, k);
            out.push_str(&renamed);
            out.push('\n');
        }
        k += 1;
    }
    out
}

fn rename_launches(src: &str, k: usize) -> String {
    src.lines()
        .map(|l| {
            let t = l.trim_start();
            if t.contains("<<<") && !t.starts_with("//") {
                let indent = &l[..l.len() - t.len()];
                format!("{indent}k{k}_{t}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn bench(c: &mut Criterion) {
    let text = large_file(5000);
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let config = AnalysisConfig::default();
    let tree = cudalens_syntax::SyntaxTrees::parse_whole(&mut document::cuda_parser(), &text)
        .expect("parse");
    c.bench_function("parse 5k lines", |b| {
        b.iter(|| document::parse(&mut document::cuda_parser(), &text, None))
    });
    c.bench_function("model 5k lines", |b| {
        b.iter(|| build_model(&text, Some(&tree), &opts))
    });
    let model = analyze_source(&text, &opts);
    c.bench_function("analyze 5k lines", |b| {
        b.iter(|| analyze(&model, &text, &config))
    });

    // A one-character edit in the middle of the file, as while typing: incremental
    // reparse, cached model build and cached analysis.
    let mut doc = document::Document::new(text.clone(), 1);
    let (mut mcache, mut acache) = (ModelCache::default(), AnalysisCache::default());
    let m = build_model_cached(doc.text(), doc.syntax(), &opts, &mut mcache);
    analyze_cached(&m, doc.text(), &config, &mut acache);
    let mid = doc.line_index().line_count() as u32 / 2;
    let mut version = 1;
    c.bench_function("edit 5k lines (reparse + model + analysis, cached)", |b| {
        b.iter(|| {
            version += 1;
            let change = if version % 2 == 0 {
                TextChange {
                    range: Some((Position::new(mid, 0), Position::new(mid, 0))),
                    text: " ".into(),
                }
            } else {
                TextChange {
                    range: Some((Position::new(mid, 0), Position::new(mid, 1))),
                    text: String::new(),
                }
            };
            doc.apply_changes(&[change], version);
            let m = build_model_cached(doc.text(), doc.syntax(), &opts, &mut mcache);
            analyze_cached(&m, doc.text(), &config, &mut acache)
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
