//! [`Snapshot`]: one document's text at one version with everything the
//! analyses found in it. Immutable and cheap to clone (shared parts sit
//! behind `Arc`s); every feature of this crate is a function of one.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use cudalens_analysis::FileAnalysis;
use cudalens_plugin_host::PluginAnalysis;
use cudalens_syntax::model::LaunchSite;
use cudalens_syntax::{LineIndex, Span};

use crate::pipeline::Analyzed;
use crate::settings::Settings;

/// One plugin's answer for one kernel.
#[derive(Debug, Clone)]
pub struct PluginFindings {
    pub kernel_span: Span,
    pub analysis: PluginAnalysis,
}

/// A document's text at one version, with its analysis.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The document's URI as the client spelled it (opaque here: features
    /// only copy it into the plain data they return).
    pub uri: String,
    pub path: Option<PathBuf>,
    pub version: i32,
    pub text: Arc<str>,
    pub index: LineIndex,
    pub analyzed: Arc<Analyzed>,
    /// Results of the plugins for this version (empty until they answer).
    pub plugin_results: Vec<PluginFindings>,
    /// The settings the analysis ran with.
    pub settings: Arc<Settings>,
    /// The document is idle and its model is only an outline (no function
    /// bodies): the server wakes it for a full one before answering requests.
    pub hibernated: bool,
    /// [`Self::launches_into_includes`], computed on first use: the server
    /// asks for it after each publish and for every open document that
    /// another one's kernels may be launched from.
    pub(crate) launches_out: Arc<OnceLock<LaunchesOut>>,
}

/// Launches of kernels defined in other files, with the file of each.
pub type LaunchesOut = Vec<(PathBuf, Arc<LaunchSite>)>;

impl Snapshot {
    /// A snapshot of `text` analysed under `settings`, without plugin results.
    pub fn new(
        uri: String,
        path: Option<PathBuf>,
        version: i32,
        text: Arc<str>,
        index: LineIndex,
        analyzed: Analyzed,
        settings: Arc<Settings>,
    ) -> Snapshot {
        Snapshot {
            uri,
            path,
            version,
            text,
            index,
            analyzed: Arc::new(analyzed),
            plugin_results: Vec::new(),
            settings,
            hibernated: false,
            launches_out: Arc::default(),
        }
    }

    /// The launches this document makes of kernels that files it includes
    /// define (`pipeline::launches_into_includes`), once per snapshot.
    pub fn launches_into_includes(&self) -> &[(PathBuf, Arc<LaunchSite>)] {
        self.launches_out.get_or_init(|| match &self.path {
            Some(path) => {
                crate::pipeline::launches_into_includes(&self.analyzed.model, &self.text, path)
            }
            None => Vec::new(),
        })
    }

    /// A C/C++ header (by its name) that defines no device code and launches
    /// nothing: the editor attaches to headers because kernels live in them,
    /// but says nothing about the plain C++ ones.
    pub fn is_header_without_cuda(&self) -> bool {
        use cudalens_syntax::file_kind::FileKind;
        self.path
            .as_deref()
            .is_some_and(|p| FileKind::of(p) == FileKind::CppHeader)
            && !self.analyzed.model.has_cuda_code()
    }

    /// This snapshot with the plugins' answers for its version.
    pub fn with_plugin_results(&self, plugin_results: Vec<PluginFindings>) -> Snapshot {
        Snapshot {
            plugin_results,
            ..self.clone()
        }
    }

    /// This snapshot as kept while its document hibernates: text, line
    /// index, diagnostics and the model's outline (for go-to-definition from
    /// other files and include tracking). Function bodies, per-kernel reports
    /// and per-access costs go; requests that need them wake the document.
    /// `index` is the document's own line table when it has one for this
    /// text (shared rather than built twice).
    pub fn hibernated(&self, index: Option<LineIndex>) -> Snapshot {
        let mut outline = self.with_outline(Arc::new(FileAnalysis {
            diagnostics: self.analyzed.analysis.diagnostics.clone(),
            ..FileAnalysis::default()
        }));
        // A line table instead of the rope (the document drops its rope too).
        outline.index = index.unwrap_or_else(|| self.index.compacted(&self.text));
        outline
    }

    /// This snapshot with its model reduced to the outline, the analysis
    /// kept (shared). Published while the next version is analysed, so the
    /// model cache holds the only reference to each function and can move
    /// the functions below an edit in place instead of copying them.
    /// Marked hibernated: requests wait for the next version anyway, and
    /// go-to-definition from other files reads outlines.
    pub fn stale_outline(&self) -> Snapshot {
        self.with_outline(self.analyzed.analysis.clone())
    }

    /// This snapshot, marked hibernated, with the model's outline and `analysis`.
    fn with_outline(&self, analysis: Arc<FileAnalysis>) -> Snapshot {
        Snapshot {
            analyzed: Arc::new(Analyzed::new(self.analyzed.outline(), analysis)),
            hibernated: true,
            // Another model: its launches are read again.
            launches_out: Arc::default(),
            ..self.clone()
        }
    }
}
