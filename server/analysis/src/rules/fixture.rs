//! Inline-annotated fixture tests, as rust-analyzer's `check_diagnostics`:
//! the source carries what cudalens must report as comments under the line,
//!
//! ```text
//!     out[i] = in[i * 2];
//! //           ^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: …
//! ```
//!
//! The carets sit under the diagnostic's first line, from its start to its end
//! (or the end of that line). The whole file is analysed as written
//! (annotations are comments) and the diagnostics must be exactly the
//! annotated ones: a missing, extra or different one fails with the actual
//! annotations, ready to paste.

use cudalens_syntax::preprocess::include::FsProvider;
use cudalens_syntax::{BuildOptions, LineIndex, analyze_source};

use crate::{AnalysisConfig, FileAnalysis, analyze};

/// One expected or reported diagnostic: 0-based line, character columns.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Annotation {
    line: usize,
    start: usize,
    end: usize,
    text: String,
}

/// Analyses `annotated` with the default settings and asserts that it reports
/// exactly its annotations. Returns the codes reported.
pub fn check_diagnostics(annotated: &str) -> Vec<&'static str> {
    check_diagnostics_with(annotated, &AnalysisConfig::default())
}

/// [`check_diagnostics`] under `config`.
pub fn check_diagnostics_with(annotated: &str, config: &AnalysisConfig) -> Vec<&'static str> {
    let analysis = analyse(annotated, config);
    let expected = annotations(annotated);
    let actual = reported(annotated, &analysis);
    if expected != actual {
        panic!(
            "diagnostics differ from the annotations.\n--- expected\n{}\n--- actual\n{}",
            render(annotated, &expected),
            render(annotated, &actual)
        );
    }
    analysis.diagnostics.iter().map(|d| d.code).collect()
}

pub fn analyse(text: &str, config: &AnalysisConfig) -> FileAnalysis {
    let opts = BuildOptions {
        provider: &FsProvider,
        ..BuildOptions::default()
    };
    let model = analyze_source(text, &opts);
    analyze(&model, text, config)
}

/// Applies the first fix of the first `code` diagnostic of `before` and
/// asserts the result, without annotation lines, is `after`.
pub fn check_fix(before: &str, code: &str, after: &str) {
    let analysis = analyse(before, &AnalysisConfig::default());
    let fix = analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .find_map(|d| d.fixes.first())
        .unwrap_or_else(|| panic!("no `{code}` diagnostic with a fix"));
    let mut edits = fix.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut text = before.to_string();
    for e in edits {
        text.replace_range(e.span.start..e.span.end, &e.new_text);
    }
    let fixed: String = text
        .lines()
        .filter(|l| caret_annotation(l).is_none())
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(fixed.trim(), after.trim(), "after `{}`", fix.title);
}

/// `// ^^^ text` lines, each about the closest line above that is not one.
fn annotations(text: &str) -> Vec<Annotation> {
    let mut out = Vec::new();
    let mut target = None;
    for (i, line) in text.lines().enumerate() {
        match caret_annotation(line) {
            Some((start, end, note)) => {
                let line = target.expect("an annotation before any code line");
                out.push(Annotation {
                    line,
                    start,
                    end,
                    text: note.to_string(),
                });
            }
            None => target = Some(i),
        }
    }
    out.sort();
    out
}

/// `(first caret column, column after the last, text)` of an annotation line.
fn caret_annotation(line: &str) -> Option<(usize, usize, &str)> {
    let rest = line.trim_start().strip_prefix("//")?;
    if !rest.trim_start().starts_with('^') {
        return None;
    }
    let chars: Vec<char> = line.chars().collect();
    let start = chars.iter().position(|&c| c == '^')?;
    let end = start + chars[start..].iter().take_while(|&&c| c == '^').count();
    let byte_end = line.char_indices().nth(end).map_or(line.len(), |(b, _)| b);
    Some((start, end, line[byte_end..].trim()))
}

fn reported(text: &str, analysis: &FileAnalysis) -> Vec<Annotation> {
    let index = LineIndex::new(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<Annotation> = analysis
        .diagnostics
        .iter()
        .map(|d| {
            let line = index.position(d.span.start).line as usize;
            let line_start = text[..d.span.start].rfind('\n').map_or(0, |i| i + 1);
            let line_text = lines.get(line).copied().unwrap_or("");
            let start = text[line_start..d.span.start].chars().count();
            let end_byte = d.span.end.min(line_start + line_text.len());
            let end = if end_byte > d.span.start {
                start + text[d.span.start..end_byte].chars().count()
            } else {
                start + 1
            };
            Annotation {
                line,
                start,
                end,
                text: format!("{}[{}]: {}", d.severity.as_str(), d.code, d.message),
            }
        })
        .collect();
    out.sort();
    out
}

/// The source with `annotations` in place of its own.
fn render(text: &str, annotations: &[Annotation]) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if caret_annotation(line).is_some() {
            // Diagnostics cannot be annotated here: show them so the test fails visibly.
            for a in annotations.iter().filter(|a| a.line == i) {
                out.push_str(&format!("!! on the annotation line above: {}\n", a.text));
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
        for a in annotations.iter().filter(|a| a.line == i) {
            let indent = line.len() - line.trim_start().len();
            let pad = a.start.saturating_sub(indent + 2);
            out.push_str(&format!(
                "{}//{}{} {}\n",
                &line[..indent.min(a.start.saturating_sub(2))],
                " ".repeat(pad),
                "^".repeat(a.end - a.start),
                a.text
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_annotation_names_the_columns_under_it() {
        let line = "    //   ^^^ warning[x]: a message";
        assert_eq!(
            caret_annotation(line),
            Some((9, 12, "warning[x]: a message"))
        );
        assert_eq!(caret_annotation("    // a comment ^"), None);
        assert_eq!(caret_annotation("int x; // ^"), None);
    }

    #[test]
    #[should_panic(expected = "diagnostics differ")]
    fn a_missing_diagnostic_fails() {
        check_diagnostics(
            "__global__ void k(float* out, const float* in) {\n\
             \x20   int i = blockIdx.x * blockDim.x + threadIdx.x;\n\
             \x20   out[i] = in[i * 2];\n\
             }\n",
        );
    }

    #[test]
    fn rendering_puts_carets_under_the_span() {
        let text = "int a;\n    foo(bar);\n";
        let rendered = render(
            text,
            &[Annotation {
                line: 1,
                start: 8,
                end: 11,
                text: "x".into(),
            }],
        );
        assert_eq!(rendered, "int a;\n    foo(bar);\n    //  ^^^ x\n");
        assert_eq!(caret_annotation("    //  ^^^ x"), Some((8, 11, "x")));
    }
}
