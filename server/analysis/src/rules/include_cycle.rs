//! `include-cycle`: an `#include` that includes itself again. Reported by
//! `cudalens-syntax`.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "include-cycle";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "an #include cycle",
    default_severity: Severity::Warning,
    category: Category::FrontEnd,
    detects: "An `#include` of a file that is already being included (directly or through other headers).",
    why: "Without include guards the compiler would recurse until it gives up; cudalens stops and does not expand the header again.",
    measured: "By the include stack of cudalens's preprocessor.",
    example: r#"
// a.cuh
#include "b.cuh"
// b.cuh
#include "a.cuh"
"#,
    example_kind: ExampleKind::Illustrative,
    fixed: r#"
// a.cuh
#pragma once
#include "b.cuh"
// b.cuh
#pragma once
"#,
    fix: "Break the cycle, or guard the headers with `#pragma once` or include guards (cudalens honours both).",
};
