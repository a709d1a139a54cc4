//! `suppression-without-reason`: a `cudalens-ignore` comment with no reason
//! after the colon. Reported by [`crate::suppress`].

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::{Diagnostic, Severity, Span};

pub const CODE: &str = "suppression-without-reason";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a cudalens-ignore comment that does not say why",
    default_severity: Severity::Warning,
    category: Category::Suppression,
    detects: "\
A `// cudalens-ignore[code]` or `// cudalens-ignore-file[code]` comment with nothing
after `:`. The suppression still applies.",
    why: "\
A suppression is a reviewed decision that the finding does not matter here; without
the reason the next reader cannot tell whether it still holds.",
    measured: "Exactly, from the comment's text.",
    example: r#"
__global__ void copy_strided(float* out, const float* in) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = in[i * 2]; // cudalens-ignore[uncoalesced-access]
    //                  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ warning[suppression-without-reason]: suppression without a reason: say why after the colon (`cudalens-ignore[rule-code]: reason`)
}

void launch(float* out, const float* in) {
    copy_strided<<<1024, 256>>>(out, in);
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void copy_strided(float* out, const float* in) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = in[i * 2]; // cudalens-ignore[uncoalesced-access]: only every second float is needed
}

void launch(float* out, const float* in) {
    copy_strided<<<1024, 256>>>(out, in);
}
"#,
    fix: "Write the reason after the colon: `// cudalens-ignore[code]: why this is fine here`.",
};

pub(crate) fn diagnostic(comment: Span) -> Diagnostic {
    Diagnostic::new(
        comment,
        Severity::Warning,
        CODE,
        "suppression without a reason: say why after the colon (`cudalens-ignore[rule-code]: reason`)".to_string(),
    )
}
