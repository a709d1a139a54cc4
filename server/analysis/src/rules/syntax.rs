//! `syntax`: code the tree-sitter CUDA grammar cannot parse. Reported by
//! `cudalens-syntax` (model building and lowering).

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "syntax";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "CUDA syntax errors",
    default_severity: Severity::Error,
    category: Category::FrontEnd,
    detects: "\
Text the CUDA grammar (tree-sitter-cuda, after cudalens's light preprocessing) cannot
parse, at most a few per file; and code nested too deeply to analyse (a warning).",
    why: "\
cudalens cannot analyse what it cannot parse: kernels around a syntax error may be
analysed partly or not at all, so their findings may be missing.",
    measured: "\
By the tree-sitter CUDA grammar, which covers CUDA C++ as nvcc accepts it for the
common cases but not every C++ construct; a construct nvcc accepts and the grammar
does not is a cudalens bug (issue 18 counts 5 such reports on real projects), and
`disabledRules` or a suppression silences it meanwhile.",
    example: r#"
__global__ void broken(float* out) {
    out[threadIdx.x] = (1.0f + ;
    //               ^^^^^^^^^ error[syntax]: syntax error: unexpected `= (1.0f +`
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
