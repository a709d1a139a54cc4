//! Shared helpers for the analysis tests: run the whole pipeline on a corpus file.

use std::path::{Path, PathBuf};

use cudalens_analysis::{AnalysisConfig, FileAnalysis, analyze};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{BuildOptions, FileModel, analyze_source};

#[allow(dead_code)]
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[allow(dead_code)]
pub fn corpus(rel: &str) -> PathBuf {
    repo_root().join("tests/corpus").join(rel)
}

#[allow(dead_code)]
pub fn analyze_file(path: &Path) -> (String, FileModel, FileAnalysis) {
    let text = std::fs::read_to_string(path).expect("corpus file");
    let opts = BuildOptions {
        path: Some(path),
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let model = analyze_source(&text, &opts);
    let analysis = analyze(&model, &text, &AnalysisConfig::default());
    (text, model, analysis)
}

#[allow(dead_code)]
pub fn analyze_text(text: &str) -> (FileModel, FileAnalysis) {
    let opts = BuildOptions {
        path: None,
        flags: CompileFlags::default(),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let model = analyze_source(text, &opts);
    let analysis = analyze(&model, text, &AnalysisConfig::default());
    (model, analysis)
}
