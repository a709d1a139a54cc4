//! `analysis-budget`: a file whose model took longer than its time budget.
//! Reported by `cudalens-syntax` (the build's deadline,
//! `BuildOptions::deadline`; `pipeline::BUILD_TIME_BUDGET`).

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "analysis-budget";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a file cudalens stopped reading at its time budget",
    default_severity: Severity::Info,
    category: Category::FrontEnd,
    detects: "\
A file whose model (preprocessing, headers, lowering) was still being built when its
time budget (10 s) ran out: the note stands where reading stopped.",
    why: "\
No file may hold the editor or `cudalens check` hostage: what follows the note (and
any header still being read) is not analysed, so findings there are missing.",
    measured: "\
By the clock, checked before each top-level declaration and each `#include`. Real
files take milliseconds (the slowest of six public projects, BENCHMARKS.md, well under
the 2 s per file the front end is held to); the budget bounds pathological input.",
    example: r#"
// a generated file of several megabytes of macro-heavy declarations
"#,
    example_kind: ExampleKind::Illustrative,
    fixed: r#"
// split the generated file, or exclude it from analysis
"#,
    fix: "\
Split the file, or leave generated code out of `cudalens check` (name the directories
to check). `disabledRules` silences the note.",
};
