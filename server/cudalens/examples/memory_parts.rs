//! `cargo run --release --example memory_parts -- FILE N`: resident memory of
//! what the server keeps per open document, part by part, for N copies of FILE.

use cudalens::pipeline::{self, Caches};
use cudalens_analysis::AnalysisConfig;
use cudalens_syntax::Document;
use cudalens_syntax::preprocess::include::FsProvider;

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    cudalens::allocator::install();
    let mut args = std::env::args().skip(1);
    let (Some(path), n) = (
        args.next(),
        args.next().and_then(|n| n.parse().ok()).unwrap_or(10),
    ) else {
        eprintln!("usage: memory_parts FILE N");
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let config = AnalysisConfig::default();
    let base = rss_mb();
    let docs: Vec<Document> = (0..n).map(|i| Document::new(text.clone(), i)).collect();
    let after_docs = rss_mb();
    let mut caches: Vec<Caches> = (0..n).map(|_| Caches::default()).collect();
    let analyzed: Vec<_> = docs
        .iter()
        .zip(caches.iter_mut())
        .map(|(d, c)| {
            pipeline::run(pipeline::Request {
                text: d.text(),
                tree: d.syntax(),
                path: None,
                flags: Default::default(),
                provider: &FsProvider,
                config: &config,
                caches: Some(c),
                launches_elsewhere: &[],
            })
        })
        .collect();
    let after_analysis = rss_mb();
    drop(caches);
    let after_dropping_caches = rss_mb();
    let per = |mb: f64| mb / n as f64;
    // What a hibernating document keeps: the model's outline and the diagnostics.
    let outlines: Vec<_> = analyzed
        .iter()
        .map(|a| (a.model.outline(), a.analysis.diagnostics.clone()))
        .collect();
    let with_outlines = rss_mb();
    let models: usize = analyzed.iter().map(|a| a.model.functions.len()).sum();
    drop(analyzed);
    trim();
    let outlines_only = rss_mb();
    println!(
        "per document: outline + diagnostics {:.2} MB (measured as allocated: {:.2} MB; after dropping the full analyses: {:.1} MB total for {n})",
        per(with_outlines - after_dropping_caches),
        per(with_outlines - after_dropping_caches),
        outlines_only - base,
    );
    drop(outlines);
    drop(docs);
    println!(
        "per document: Document (rope + tree) {:.1} MB, model + analysis + caches {:.1} MB, of which caches {:.1} MB ({models} functions)",
        per(after_docs - base),
        per(after_analysis - after_docs),
        per(after_analysis - after_dropping_caches),
    );
}

fn trim() {
    cudalens::allocator::release_freed_memory();
}
