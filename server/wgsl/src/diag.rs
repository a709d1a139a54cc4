//! Diagnostics: what the transpiler reports about a construct, at its span.

use cudalens_syntax::Span;
use serde::Serialize;

pub use cudalens_syntax::Severity;

/// A problem found while transpiling, pointing at the CUDA construct.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TranspileDiagnostic {
    pub span: Span,
    pub message: String,
    pub severity: Severity,
}

impl TranspileDiagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        TranspileDiagnostic {
            span,
            message: message.into(),
            severity: Severity::Error,
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        TranspileDiagnostic {
            span,
            message: message.into(),
            severity: Severity::Warning,
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl std::fmt::Display for TranspileDiagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} (bytes {}..{})",
            self.severity.as_str(),
            self.message,
            self.span.start,
            self.span.end
        )
    }
}
