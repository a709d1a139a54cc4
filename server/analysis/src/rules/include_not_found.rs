//! `include-not-found`: a quoted `#include` cudalens could not find.
//! Reported by `cudalens-syntax`.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "include-not-found";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a quoted #include that could not be found",
    default_severity: Severity::Hint,
    category: Category::FrontEnd,
    detects: "\
An `#include \"…\"` whose file is neither next to the including file nor in an include
directory (`compile_commands.json`, `-I`, `cudalens.includePaths`). System headers
(`<…>`) are not looked for.",
    why: "\
Macros and constants from the header stay unknown, so block sizes, tile sizes and
strides defined there do not resolve and findings that depend on them are missed.",
    measured: "By looking the file up as the compiler would, in the directories cudalens knows.",
    example: r#"
  #include "does_not_exist.cuh"
  //       ^^^^^^^^^^^^^^^^^^^^ hint[include-not-found]: header "does_not_exist.cuh" not found next to the file or in the include paths; its macros are unknown
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
  #include <cuda_runtime.h>
"#,
    fix: "\
Give cudalens the include directories: a `compile_commands.json` (found as clangd finds
it), `-I DIR` on the command line or `cudalens.includePaths` in the editor.",
};
