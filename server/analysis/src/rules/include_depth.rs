//! `include-depth`: headers nested deeper than cudalens follows. Reported by
//! `cudalens-syntax`.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "include-depth";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "#include nesting too deep",
    default_severity: Severity::Hint,
    category: Category::FrontEnd,
    detects: "An `#include` more than 16 headers deep.",
    why: "cudalens does not expand it, so its macros are unknown to the code after it.",
    measured: "By the include stack of cudalens's preprocessor (the limit keeps every file's analysis bounded).",
    example: r#"
// h16.cuh, included through h1.cuh … h15.cuh
#include "h17.cuh"
"#,
    example_kind: ExampleKind::Illustrative,
    fixed: r#"
// kernel.cu: include what it needs directly
#include "h17.cuh"
"#,
    fix: "Flatten the include chain, or include the needed header closer to the file.",
};
