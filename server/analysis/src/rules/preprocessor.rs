//! `preprocessor`: an `#if`/`#elif` condition cudalens cannot evaluate.
//! Reported by `cudalens-syntax`'s preprocessor.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "preprocessor";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "#if/#elif conditions cudalens cannot evaluate",
    default_severity: Severity::Hint,
    category: Category::FrontEnd,
    detects: "An `#if` or `#elif` condition that fails to evaluate (division by zero, a malformed expression).",
    why: "\
cudalens then treats the condition as false, so the code under it is not analysed
and macros defined there are unknown. It is a hint: the condition may depend on a
macro of a header cudalens does not read (a system header), which the compiler knows.",
    measured: "\
By cudalens's preprocessor, which evaluates conditions with nvcc's predefined macros
(the device pass: `__CUDA_ARCH__` is the target's), the macros of the file, its
headers, `compile_commands.json` and `-D` flags; an undefined macro counts as 0, as in
C; `__has_include` finds headers where `#include` would, and the standard library's and
the CUDA toolkit's; `__has_attribute` and the other compiler queries answer 0.",
    example: r#"
  #if 1 / 0
  //  ^^^^^ hint[preprocessor]: division by zero in preprocessor condition
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
