//! What analyses report: diagnostics with codes, related locations and fixes.

use serde::Serialize;

pub use cudalens_syntax::{Severity, Span};

/// A text edit on the analysed file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub span: Span,
    pub new_text: String,
}

/// A code action attached to a diagnostic.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fix {
    pub title: String,
    pub edits: Vec<Edit>,
    /// Proven to keep the program's meaning: eligible for `source.fixAll` on save.
    pub safe: bool,
    /// Why the fix is (or is not) safe, shown to the user.
    pub explanation: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Related {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostic {
    pub span: Span,
    pub severity: Severity,
    /// Stable rule code, e.g. `bank-conflict`; rules can be turned off by code.
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
}

/// A finding inside a function of another file (a header) that a kernel of
/// the analysed file reaches: reported once, at that file (in `check`, see
/// `cudalens_ide::pipeline::findings_into_includes`), not here.
#[derive(Clone, Debug, PartialEq)]
pub struct ElsewhereFinding {
    pub file: std::sync::Arc<std::path::Path>,
    /// At the access, in `file`'s text; related information there too.
    pub diagnostic: Diagnostic,
    /// How this file's kernels reach it.
    pub entries: Vec<Entry>,
}

/// How a kernel of the analysed file reaches a function of another file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub kernel: String,
    /// The kernel's first call on the way, in the analysed file's text.
    pub call: Span,
    /// The first function of the other file the calls enter, and its name
    /// there (a span in that file's text).
    pub callee: String,
    pub anchor: Span,
    /// The functions called between the kernel and `callee`.
    pub via: Vec<String>,
}

impl Diagnostic {
    pub fn new(span: Span, severity: Severity, code: &'static str, message: String) -> Self {
        Diagnostic {
            span,
            severity,
            code,
            message,
            related: Vec::new(),
            fixes: Vec::new(),
        }
    }

    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Self {
        self.related.push(Related {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_fix(mut self, fix: Fix) -> Self {
        self.fixes.push(fix);
        self
    }

    /// Rewrites every span (a cached result reused where the code moved).
    pub fn map_spans(&mut self, f: &dyn Fn(Span) -> Span) {
        self.span = f(self.span);
        for r in &mut self.related {
            r.span = f(r.span);
        }
        for fix in &mut self.fixes {
            for e in &mut fix.edits {
                e.span = f(e.span);
            }
        }
    }
}

pub fn shift_span(s: Span, delta: isize) -> Span {
    Span::new(
        s.start.saturating_add_signed(delta),
        s.end.saturating_add_signed(delta),
    )
}
