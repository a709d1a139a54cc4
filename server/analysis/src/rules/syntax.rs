//! `syntax`: code cudalens cannot parse, even with its macros expanded.
//! Reported by `cudalens-syntax` (model building, `model/region.rs`).

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "syntax";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "code cudalens cannot parse (a note, never an error)",
    default_severity: Severity::Info,
    category: Category::FrontEnd,
    detects: "\
A declaration the CUDA grammar (tree-sitter-cuda) cannot parse as written nor after
cudalens has preprocessed it (conditionals decided, macros expanded, namespaces opened
by macros balanced): one note per declaration, at most 50 per file; and code nested too
deeply to analyse.",
    why: "\
cudalens cannot analyse what it cannot parse: kernels in such a declaration are
analysed only as far as the grammar recovered, so their findings may be missing.
cudalens is not the compiler: code nvcc accepts never gets an error from it, and
code nvcc rejects is the compiler's to report.",
    measured: "\
By the tree-sitter CUDA grammar on the preprocessed declaration. On six public
projects checked with their include paths (tests/realworld, BENCHMARKS.md) the notes
that remain point at C++ the grammar does not cover; each is a cudalens limitation,
which `disabledRules` or a suppression silences meanwhile.",
    example: r#"
__global__ void broken(float* out) {
    out[threadIdx.x] = (1.0f + ;
    //               ^^^^^^^^^ info[syntax]: cudalens cannot parse this code at `= (1.0f +`, even with its macros expanded; what it declares is analysed only as far as it parsed
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void broken(float* out) {
    out[threadIdx.x] = (1.0f + 2.0f);
}
"#,
    fix: "Fix the code as the compiler would ask; if nvcc accepts it, report the construct.",
};
