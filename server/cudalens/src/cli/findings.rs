//! `check`'s diagnostics in the shape CI formats need (SARIF, GitHub
//! annotations, baselines): repository-relative paths, 1-based positions, and
//! fingerprints that survive edits elsewhere in the file.
//!
//! A fingerprint hashes the rule code, the repository-relative path, the
//! flagged text and its line's text (whitespace collapsed), and counts
//! repeats of the same hash in the file. It has no line number, so inserting
//! or removing lines above a finding keeps it; editing the finding's own line
//! changes it, as GitHub's own `primaryLocationLineHash` does.

use std::hash::Hasher as _;
use std::path::{Path, PathBuf};

use cudalens_analysis::Diagnostic;
use cudalens_syntax::{LineIndex, Severity, Span};

/// The key of our fingerprint in SARIF's `partialFingerprints` (versioned:
/// a different recipe gets a new key).
pub const FINGERPRINT_KEY: &str = "cudalens/v1";

/// Where relative paths are taken from: the nearest ancestor of the current
/// directory holding `.git` (the repository), else the current directory.
#[derive(Debug, Clone)]
pub struct ProjectRoot {
    pub dir: PathBuf,
}

impl ProjectRoot {
    pub fn discover() -> ProjectRoot {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let dir = cwd
            .ancestors()
            .find(|d| d.join(".git").exists())
            .map_or_else(|| cwd.clone(), Path::to_path_buf);
        ProjectRoot { dir }
    }

    /// `path` relative to the root with `/` separators, or `None` when it is
    /// outside the root.
    pub fn relative(&self, path: &Path) -> Option<String> {
        let absolute = std::path::absolute(path).ok()?;
        let relative = absolute.strip_prefix(&self.dir).ok()?;
        let parts: Vec<String> = relative
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(parts.join("/"))
    }

    /// The path a finding is known by: relative to the root when inside it,
    /// else absolute.
    pub fn key(&self, path: &Path) -> String {
        self.relative(path).unwrap_or_else(|| {
            std::path::absolute(path)
                .unwrap_or_else(|_| path.to_path_buf())
                .display()
                .to_string()
        })
    }
}

/// A 1-based line and column range (columns in UTF-16 code units, as SARIF's
/// default and LSP count them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
}

impl Region {
    pub fn of(index: &LineIndex, span: Span) -> Region {
        let (start, end) = (index.position(span.start), index.position(span.end));
        Region {
            start_line: start.line + 1,
            start_column: start.character + 1,
            end_line: end.line + 1,
            end_column: end.character + 1,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Related {
    pub region: Region,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Replacement {
    pub region: Region,
    pub new_text: String,
}

#[derive(Debug, Clone)]
pub struct FixOut {
    pub title: String,
    pub replacements: Vec<Replacement>,
}

/// One diagnostic, ready for the CI formats.
#[derive(Debug, Clone)]
pub struct Finding {
    /// [`ProjectRoot::key`] of the file.
    pub path: String,
    /// Whether `path` is relative to the project root.
    pub in_root: bool,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub region: Region,
    pub related: Vec<Related>,
    pub fixes: Vec<FixOut>,
    pub fingerprint: String,
    /// Recorded in the baseline given with `--baseline`.
    pub baselined: bool,
}

/// The findings of one file, in the diagnostics' order.
pub fn of_file(
    path: String,
    in_root: bool,
    text: &str,
    index: &LineIndex,
    diagnostics: &[Diagnostic],
) -> Vec<Finding> {
    let prints = fingerprints(&path, text, index, diagnostics);
    diagnostics
        .iter()
        .zip(prints)
        .map(|(d, fingerprint)| Finding {
            path: path.clone(),
            in_root,
            code: d.code,
            severity: d.severity,
            message: d.message.clone(),
            region: Region::of(index, d.span),
            related: d
                .related
                .iter()
                .map(|r| Related {
                    region: Region::of(index, r.span),
                    message: r.message.clone(),
                })
                .collect(),
            fixes: d
                .fixes
                .iter()
                .map(|f| FixOut {
                    title: f.title.clone(),
                    replacements: f
                        .edits
                        .iter()
                        .map(|e| Replacement {
                            region: Region::of(index, e.span),
                            new_text: e.new_text.clone(),
                        })
                        .collect(),
                })
                .collect(),
            fingerprint,
            baselined: false,
        })
        .collect()
}

/// The fingerprint of each diagnostic (see the module docs).
pub fn fingerprints(
    path: &str,
    text: &str,
    index: &LineIndex,
    diagnostics: &[Diagnostic],
) -> Vec<String> {
    let mut seen: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    diagnostics
        .iter()
        .map(|d| {
            let line = index.position(d.span.start.min(text.len())).line as usize;
            let mut h = xxhash_rust::xxh3::Xxh3::new();
            for part in [
                d.code,
                path,
                &collapse(&index.line_text(line)),
                &collapse(d.span.text(text)),
            ] {
                h.write(part.as_bytes());
                h.write_u8(0);
            }
            let base = h.finish();
            let repeat = seen.entry(base).or_default();
            *repeat += 1;
            format!("{base:016x}:{repeat}")
        })
        .collect()
}

/// Whitespace runs as one space, trimmed: re-indenting keeps fingerprints.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prints(text: &str, needles: &[&str]) -> Vec<String> {
        let spans: Vec<Span> = needles
            .iter()
            .map(|n| {
                let at = text.find(n).expect("needle");
                Span::new(at, at + n.len())
            })
            .collect();
        prints_at(text, &spans)
    }

    fn prints_at(text: &str, spans: &[Span]) -> Vec<String> {
        let index = LineIndex::new(text);
        let ds: Vec<Diagnostic> = spans
            .iter()
            .map(|&span| Diagnostic::new(span, Severity::Warning, "bank-conflict", "m".into()))
            .collect();
        fingerprints("src/k.cu", text, &index, &ds)
    }

    #[test]
    fn lines_inserted_above_and_reindenting_keep_fingerprints() {
        let before = prints("a;\n  x = t[i];\n", &["t[i]"]);
        let after = prints("a;\n// new\n\nb;\n      x   =  t[i];\n", &["t[i]"]);
        assert_eq!(before, after);
        let edited = prints("a;\n  x = t[j] + t[i];\n", &["t[i]"]);
        assert_ne!(before, edited);
    }

    #[test]
    fn repeated_lines_are_told_apart() {
        let p = prints_at(
            "x = t[i];\nx = t[i];\n",
            &[Span::new(4, 8), Span::new(14, 18)],
        );
        assert_ne!(p[0], p[1]);
        assert_eq!(p[0].split(':').next(), p[1].split(':').next());
    }
}
