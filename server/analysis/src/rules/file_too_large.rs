//! `file-too-large`: a file over the size cudalens analyses. Reported by
//! `cudalens-syntax` and the language server.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "file-too-large";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a file too large to analyse",
    default_severity: Severity::Info,
    category: Category::FrontEnd,
    detects: "\
A file larger than the editor's `cudalens.maxFileSizeMB` (default 8) or the parser's
own limit. `cudalens check` skips files over `--max-file-size-mb` with a note instead.",
    why: "Nothing in the file is analysed; generated files this large rarely need it.",
    measured: "By the file's size in bytes.",
    example: r#"
// generated_tables.cu: 40 MB of constant data
"#,
    example_kind: ExampleKind::Illustrative,
    fixed: r#"
// Split the data out of the kernel source, or raise the limit:
//   cudalens check --max-file-size-mb 64 src/
"#,
    fix: "Raise the limit (`--max-file-size-mb`, `cudalens.maxFileSizeMB`) or split the file.",
};
