//! `headers-macros-only`: headers read for their macros alone. Reported by
//! `cudalens-syntax` (`model/headers.rs`).

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "headers-macros-only";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "headers beyond the per-file budget were read for their macros only",
    default_severity: Severity::Hint,
    category: Category::FrontEnd,
    detects: "\
A file whose headers add up to more than 2 MB (a template library such as CUTLASS,
CUB or libcu++ includes 5 to 30 MB): the headers past the budget are read for their
directives alone (conditionals, `#define`, `#include`), and one hint on the include
that led to them says how many and how much.",
    why: "\
Reading every function of 20 MB of templates for each file would take seconds and
hundreds of megabytes, for kernels that mostly live elsewhere. Macros are always
known; functions, types and constants declared in those headers are not, so calls
into them from a kernel are not followed by the memory analysis.",
    measured: "\
By the bytes of header text read fully, in include order, per file. A header's tree
and directives are made once per content for a whole `check` run and shared by every
file that includes it.",
    example: r#"
#include <cutlass/gemm/device/gemm.h>
//       ^ hint[headers-macros-only]: 240 headers (3.4 MB) reached through this include were read for their macros only ...
"#,
    example_kind: ExampleKind::Illustrative,
    fixed: r#"
// nothing to fix: the hint says what cudalens did not read
"#,
    fix: "\
Nothing needs fixing. To have a library's own kernels analysed, check the library's
headers themselves (they are analysed as files of their own, with the same include
paths).",
};
