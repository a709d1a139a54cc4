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
    /// The header `span` indexes (a device function or kernel defined
    /// there); `None`: the file compiled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<std::path::PathBuf>,
}

impl TranspileDiagnostic {
    pub fn error(span: Span, message: impl Into<String>) -> Self {
        TranspileDiagnostic {
            span,
            message: message.into(),
            severity: Severity::Error,
            file: None,
        }
    }

    pub fn warning(span: Span, message: impl Into<String>) -> Self {
        TranspileDiagnostic {
            span,
            message: message.into(),
            severity: Severity::Warning,
            file: None,
        }
    }

    /// The same diagnostic, in the header `file` (`None`: the file compiled).
    pub fn in_file(self, file: Option<std::path::PathBuf>) -> Self {
        TranspileDiagnostic { file, ..self }
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
