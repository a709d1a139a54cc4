//! `preprocessor`: an `#if`/`#elif` condition cudalens cannot evaluate.
//! Reported by `cudalens-syntax`'s preprocessor.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "preprocessor";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "errors in #if/#elif conditions",
    default_severity: Severity::Warning,
    category: Category::FrontEnd,
    detects: "An `#if` or `#elif` condition that fails to evaluate (division by zero, a malformed expression).",
    why: "\
cudalens then treats the condition as false, so the code under it is not analysed
and macros defined there are unknown; the compiler would reject the file.",
    measured: "\
By cudalens's preprocessor, which evaluates conditions with the macros of the file,
its headers, `compile_commands.json` and `-D` flags; an undefined macro counts as 0, as
in C.",
    example: r#"
  #if 1 / 0
  //  ^^^^^ warning[preprocessor]: division by zero in preprocessor condition
  #define TILE 32
  #endif
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
  #if 1
  #define TILE 32
  #endif
"#,
    fix: "Correct the condition.",
};
