//! `check --format github`: GitHub Actions workflow commands, which the
//! runner turns into annotations on the pull request's diff:
//!
//! ```text
//! ::warning file=src/k.cu,line=7,col=43,endLine=7,endColumn=73,title=cudalens bank-conflict::32-way shared-memory bank conflict …
//! ```
//!
//! Errors become `::error`, warnings `::warning`, notes and hints
//! `::notice`. Paths are relative to the repository root (as the runner
//! expects). Values are escaped as the runner's toolkit does
//! (`%`, CR, LF everywhere; `:` and `,` in properties too).

use std::fmt::Write as _;

use cudalens_syntax::Severity;

use super::findings::Finding;

/// One line per finding.
pub fn render(findings: &[&Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Hint => "notice",
        };
        let r = f.region;
        let mut message = f.message.clone();
        for fix in f.fixes.iter().take(1) {
            let _ = write!(message, "\nhelp: {}", fix.title);
        }
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            property(&f.path),
            r.start_line,
            r.start_column,
            r.end_line,
            r.end_column,
            property(&format!("cudalens {}", f.code)),
            data(&message),
        );
    }
    out
}

/// `escapeData` of the Actions toolkit.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `escapeProperty` of the Actions toolkit.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
