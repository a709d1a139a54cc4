//! rustc-style text output:
//!
//! ```text
//! warning[low-occupancy]: occupancy 25% (16/64 warps) — limited by registers: 128/thread
//!   --> src/k.cu:12:5
//!    |
//! 12 |     k<<<grid, 1024>>>(a);
//!    |     ^^^^^^^^^^^^^^^^^
//!    = help: Add __launch_bounds__(1024) ...
//! ```

use std::fmt::Write as _;

use cudalens_analysis::Diagnostic;
use cudalens_syntax::LineIndex;
use cudalens_syntax::Span;

const TAB: &str = "    ";

/// One file's diagnostics, rendered.
pub fn render(path: &str, text: &str, index: &LineIndex, diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = writeln!(out, "{}[{}]: {}", d.severity.as_str(), d.code, d.message);
        let gutter = snippet(&mut out, path, text, index, d.span, '^');
        for fix in &d.fixes {
            let safety = if fix.safe {
                ""
            } else {
                " (review before applying)"
            };
            let _ = writeln!(out, "{gutter} = help: {}{safety}", fix.title);
        }
        for related in &d.related {
            let _ = writeln!(out, "note: {}", related.message);
            snippet(&mut out, path, text, index, related.span, '-');
        }
        out.push('\n');
    }
    out
}

/// ` --> file:line:col`, the line, and the span underlined with `mark`.
/// Returns the gutter (spaces as wide as the line number) for follow-up lines.
fn snippet(
    out: &mut String,
    path: &str,
    text: &str,
    index: &LineIndex,
    span: Span,
    mark: char,
) -> String {
    let start = index.position(span.start);
    let line_no = start.line as usize + 1;
    let line = index.line_text(start.line as usize);
    let line_start = span.start - column_bytes(text, span.start);
    // Columns are counted in characters, 1-based, as rustc does.
    let prefix = text.get(line_start..span.start).unwrap_or("");
    let col = prefix.chars().count() + 1;
    let gutter = " ".repeat(line_no.to_string().len());
    let _ = writeln!(out, "{gutter}--> {path}:{line_no}:{col}");
    let _ = writeln!(out, "{gutter} |");
    let _ = writeln!(out, "{line_no} | {}", line.replace('\t', TAB));
    // Underline to the span's end or the end of its first line.
    let end = span.end.max(span.start + 1).min(line_start + line.len());
    let marked = text.get(span.start..end).unwrap_or("");
    let width = display_width(marked).max(1);
    let _ = writeln!(
        out,
        "{gutter} | {}{}",
        " ".repeat(display_width(prefix)),
        mark.to_string().repeat(width),
    );
    gutter
}

/// Bytes between the start of the line holding `offset` and `offset`.
fn column_bytes(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    offset - before.rfind('\n').map_or(0, |i| i + 1)
}

fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if c == '\t' { TAB.len() } else { 1 })
        .sum()
}
