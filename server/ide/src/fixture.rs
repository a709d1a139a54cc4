//! Test fixtures, as rust-analyzer writes them: CUDA text where `$0` marks
//! the cursor, a comment line with `^^^` marks the same columns (as
//! written, `$0` included) of the line above, and `//- /path` starts another file (the first is the
//! document under test, the others are headers it may include).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use cudalens_syntax::{LineIndex, Span, SyntaxTrees};

use crate::pipeline;
use crate::{Settings, Snapshot};

pub const URI: &str = "file:///fixture/main.cu";

/// A transpose through a shared tile: a 32-way bank conflict on the store
/// (marked `^^^^`), conflict-free loads, one launch.
pub const TRANSPOSE: &str = r#"
    __global__ void transpose(float* out, const float* in) {
        __shared__ float tile[32][32];
        tile[threadIdx.x][threadIdx.y] = in[threadIdx.y * 32 + threadIdx.x];
    //  ^^^^
        __syncthreads();
        out[threadIdx.y * 32 + threadIdx.x] = tile[threadIdx.y][threadIdx.x];
    }
    void run(float* o, const float* i) { transpose<<<1, dim3(32, 32)>>>(o, i); }
    "#;
pub const MAIN: &str = "/fixture/main.cu";

pub struct Fixture {
    pub snapshot: Snapshot,
    /// Where `$0` was (removed from the text).
    pub cursor: Option<usize>,
    /// The `^^^` ranges, in order.
    pub ranges: Vec<Span>,
    /// Every file of the fixture (headers are read from here).
    pub files: HashMap<PathBuf, String>,
}

/// Analyses the fixture's first file with default settings.
pub fn analyze(fixture: &str) -> Fixture {
    analyze_with(fixture, Settings::default())
}

pub fn analyze_with(fixture: &str, settings: Settings) -> Fixture {
    let mut files = split_files(fixture);
    let (main_path, main) = files.remove(0);
    let (text, cursor) = take_cursor(&main);
    // Columns as written: a `$0` before a range on its line does not shift it.
    let shift = |at: usize| match cursor {
        Some(c) if at > c => at - 2,
        _ => at,
    };
    let ranges = annotations(&main)
        .into_iter()
        .map(|s| Span::new(shift(s.start), shift(s.end)))
        .collect();
    let headers: HashMap<PathBuf, String> = files.into_iter().collect();
    let config = settings.analysis_config(Default::default());
    let tree = SyntaxTrees::parse_whole(&mut cudalens_syntax::document::cuda_parser(), &text);
    let analyzed = pipeline::run(pipeline::Request {
        text: &text,
        tree: tree.as_ref(),
        path: Some(&main_path),
        flags: Default::default(),
        provider: &headers,
        config: &config,
        caches: None,
        launches_elsewhere: &[],
    });
    let text: Arc<str> = text.into();
    let snapshot = Snapshot::new(
        URI.to_string(),
        Some(main_path.clone()),
        1,
        text.clone(),
        LineIndex::new(&text),
        analyzed,
        Arc::new(settings),
    );
    let mut all = headers;
    all.insert(main_path, text.to_string());
    Fixture {
        snapshot,
        cursor,
        ranges,
        files: all,
    }
}

impl Fixture {
    pub fn cursor(&self) -> usize {
        self.cursor.expect("the fixture has no $0")
    }

    /// The text of `span` in the document.
    pub fn text_of(&self, span: Span) -> &str {
        span.text(&self.snapshot.text)
    }
}

fn split_files(fixture: &str) -> Vec<(PathBuf, String)> {
    let fixture = trim_indent(fixture);
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for line in fixture.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("//- ") {
            files.push((PathBuf::from(path.trim()), String::new()));
            continue;
        }
        if files.is_empty() {
            files.push((PathBuf::from(MAIN), String::new()));
        }
        if let Some((_, text)) = files.last_mut() {
            text.push_str(line);
        }
    }
    files
}

/// Removes the indentation common to every non-blank line (fixtures are
/// written indented inside `r#"..."#`) and a leading newline.
fn trim_indent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.split_inclusive('\n')
        .map(|l| l.get(indent..).unwrap_or(l.trim_start()))
        .collect()
}

fn take_cursor(text: &str) -> (String, Option<usize>) {
    match text.find("$0") {
        Some(at) => (format!("{}{}", &text[..at], &text[at + 2..]), Some(at)),
        None => (text.to_string(), None),
    }
}

/// `// ^^^` lines: each run of `^` marks the same columns of the line above.
fn annotations(text: &str) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut previous_start = None;
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end();
        let is_annotation = body.trim_start().starts_with("//") && body.contains('^');
        match (is_annotation, previous_start) {
            (true, Some(prev)) => {
                let bytes = body.as_bytes();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'^' {
                        let first = i;
                        while i < bytes.len() && bytes[i] == b'^' {
                            i += 1;
                        }
                        spans.push(Span::new(prev + first, prev + i));
                    } else {
                        i += 1;
                    }
                }
            }
            _ => previous_start = Some(start),
        }
        start += line.len();
    }
    spans
}

/// `text` with `labels` inserted at their offsets as `⟨label⟩`, only the
/// lines that got one, each prefixed with its 1-based number.
pub fn with_labels(text: &str, labels: &[(usize, String)]) -> String {
    let mut out = String::new();
    let mut start = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let end = start + line.len();
        let mut here: Vec<&(usize, String)> = labels
            .iter()
            .filter(|(at, _)| *at >= start && (*at < end || (*at == end && end == text.len())))
            .collect();
        if !here.is_empty() {
            here.sort_by_key(|(at, _)| *at);
            let mut shown = String::new();
            let mut from = start;
            for (at, label) in here {
                shown.push_str(&text[from..*at]);
                shown.push_str(&format!("⟨{label}⟩"));
                from = *at;
            }
            shown.push_str(&text[from..end]);
            out.push_str(&format!("{}: {}\n", n + 1, shown.trim_end()));
        }
        start = end;
    }
    out
}
