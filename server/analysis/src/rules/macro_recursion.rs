//! `macro-recursion`: a macro expansion over cudalens's limits. Reported by
//! `cudalens-syntax`.

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "macro-recursion";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a macro expansion that exceeded the expansion limit",
    default_severity: Severity::Hint,
    category: Category::FrontEnd,
    detects: "A macro whose expansion needs more than 20,000 expansions or 200,000 tokens (recursive or exponential macros).",
    why: "cudalens stops expanding and treats the expression as unknown, so accesses and launches that use it are not analysed.",
    measured: "By counting expansions and tokens while expanding, which bounds the time any file can take.",
    example: r#"
  #define D0 1 +
  #define D1 D0 D0
  #define D2 D1 D1
  #define D3 D2 D2
  #define D4 D3 D3
  #define D5 D4 D4
  #define D6 D5 D5
  #define D7 D6 D6
  #define D8 D7 D7
  #define D9 D8 D8
  #define D10 D9 D9
  #define D11 D10 D10
  #define D12 D11 D11
  #define D13 D12 D12
  #define D14 D13 D13
  #define D15 D14 D14
  #define D16 D15 D15
  #define D17 D16 D16
  #define D18 D17 D17
__global__ void k(int* o) {
    o[threadIdx.x] = D18 0;
    //               ^^^ hint[macro-recursion]: macro expansion of `D0` exceeded the expansion limit (recursive or exponential macro?)
    //                   ^ info[syntax]: cudalens cannot parse this code at `0`, even with its macros expanded; what it declares is analysed only as far as it parsed
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void k(int* o) {
    o[threadIdx.x] = 262144;
}
"#,
    fix: "Compute the value another way (a `constexpr` function, a constant).",
};
