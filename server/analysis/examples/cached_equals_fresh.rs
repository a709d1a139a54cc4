//! Checks on a real file that an edited document's cached analysis is the
//! one a fresh analysis gives (development aid for the analysis caches,
//! `host_cache` among them): `cached_equals_fresh FILE [EDITS] [-I DIR]...`.
//! Each edit changes one digit of the file (taken evenly over it, so host
//! constants, launch arguments and kernel code all change), or inserts a
//! space at a line's start; after each, the analysis with the document's
//! caches is compared with `analyze` on the same model. Prints the edits
//! that differ and exits 1 if any did.
use cudalens_analysis::{AnalysisCache, AnalysisConfig, analyze, analyze_cached};
use cudalens_syntax::model::{ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, FsProvider};
use cudalens_syntax::{BuildOptions, Document, Position, TextChange};

fn main() {
    let path = std::env::args().nth(1).expect("file");
    let edits: usize = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(40);
    let args: Vec<String> = std::env::args().skip(3).collect();
    let file = std::path::absolute(&path).expect("path");
    let text = std::fs::read_to_string(&file).expect("read");
    let opts = BuildOptions {
        path: Some(&file),
        flags: CompileFlags::from_args(&args, &std::env::current_dir().expect("cwd")),
        provider: &FsProvider,
        max_include_depth: 16,
        deadline: None,
    };
    let config = AnalysisConfig::default();
    let mut doc = Document::new(text, 1);
    let (mut mc, mut ac) = (ModelCache::default(), AnalysisCache::default());
    let model = build_model_cached(doc.text(), doc.syntax(), &opts, &mut mc);
    analyze_cached(&model, doc.text(), &config, &mut ac);
    drop(model);
    let mut differ = 0;
    for k in 0..edits {
        let digits: Vec<usize> = doc
            .text()
            .bytes()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_digit())
            .map(|(i, _)| i)
            .collect();
        let lines = doc.line_index().line_count() as u32;
        let (at, new, what) = if k % 3 == 2 || digits.is_empty() {
            let line = (k as u32 * 7919) % lines.max(1);
            (
                Position::new(line, 0),
                None,
                format!("space at line {}", line + 1),
            )
        } else {
            let offset = digits[k * digits.len() / edits];
            let digit = doc.text().as_bytes()[offset];
            let next = if digit == b'9' { b'0' } else { digit + 1 };
            let line = doc.text()[..offset].matches('\n').count() as u32;
            let column = (offset - doc.text()[..offset].rfind('\n').map_or(0, |n| n + 1)) as u32;
            (
                Position::new(line, column),
                Some(next as char),
                format!(
                    "digit {} → {} at line {}",
                    digit as char,
                    next as char,
                    line + 1
                ),
            )
        };
        let end = match new {
            Some(_) => Position::new(at.line, at.character + 1),
            None => at,
        };
        doc.apply_changes(
            &[TextChange {
                range: Some((at, end)),
                text: new.map_or(" ".to_string(), String::from),
            }],
            k as i32 + 2,
        );
        let model = build_model_cached(doc.text(), doc.syntax(), &opts, &mut mc);
        let cached = analyze_cached(&model, doc.text(), &config, &mut ac);
        let fresh = analyze(&model, doc.text(), &config);
        let same = cached.diagnostics == fresh.diagnostics
            && cached.accesses == fresh.accesses
            && format!("{:?}", cached.kernels) == format!("{:?}", fresh.kernels);
        if !same {
            differ += 1;
            println!("DIFFERS after {what}");
        }
    }
    println!("{edits} edits, {differ} differ");
    std::process::exit(i32::from(differ > 0));
}
