//! `unused-suppression`: a `cudalens-ignore` comment that silences nothing.
//! Reported by [`crate::suppress`].

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::{Diagnostic, Edit, Severity, Span};

pub const CODE: &str = "unused-suppression";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a cudalens-ignore comment that suppresses nothing",
    default_severity: Severity::Warning,
    category: Category::Suppression,
    detects: "\
A `// cudalens-ignore[code]` or `// cudalens-ignore-file[code]` comment one of whose
codes silences no finding: the finding was fixed, moved to another line, the code is
misspelt or not a rule, the rule is disabled, or the brackets are missing.",
    why: "\
A stale suppression hides the next real finding of that rule on its line. Reporting
it keeps suppressions honest, as ruff's `RUF100` does for `noqa`.",
    measured: "\
Exactly: after the analyses ran, each code of each suppression is checked against
the findings it silenced. Only files that were analysed are checked.",
    example: r#"
__global__ void add(float* c, const float* a, const float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    // cudalens-ignore[bank-conflict]: the tile is padded
    //                 ^^^^^^^^^^^^^ warning[unused-suppression]: unused suppression: no `bank-conflict` finding on the next line
    c[i] = a[i] + b[i];
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void add(float* c, const float* a, const float* b) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    c[i] = a[i] + b[i];
}
"#,
    fix: "\
Remove the code from the comment (or the comment). cudalens offers this as a quick
fix, never applied on save: while a file does not parse, its analysis is partial and
a suppression can look unused without being so.",
};

pub(crate) fn diagnostic(at: Span, why: String, removal: Option<Edit>) -> Diagnostic {
    let d = Diagnostic::new(
        at,
        Severity::Warning,
        CODE,
        format!("unused suppression: {why}"),
    );
    match removal {
        Some(edit) => d.with_fix(crate::suppress::removal_fix(edit)),
        None => d,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{check_diagnostics, check_fix};

    #[test]
    fn the_offered_removal_is_the_documented_fix() {
        check_fix(super::RULE.example, super::CODE, super::RULE.fixed);
    }

    #[test]
    fn a_used_suppression_is_silent() {
        check_diagnostics(
            r#"
__global__ void copy_strided(float* out, const float* in) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = in[i * 2]; // cudalens-ignore[uncoalesced-access]: only every second float is needed
}

void launch(float* out, const float* in) {
    copy_strided<<<1024, 256>>>(out, in);
}
"#,
        );
    }
}
