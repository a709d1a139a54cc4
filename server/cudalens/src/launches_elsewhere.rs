//! Launches of a document's kernels made in other files (Rodinia's
//! `needle_kernel.cu`, included and launched by `needle.cu` with a 16-thread
//! block): the language server's side of `pipeline::launches_into_includes`
//! (`cudalens check` finds them among the files it checks).
//!
//! Bounded on purpose: the open documents (their snapshots, read on every
//! analysis: no file is read) and, once per document when it is opened, the
//! files beside it that `#include` it (at most [`MAX_SIBLINGS`] files of at
//! most [`MAX_SIBLING_BYTES`] each are read, at most [`MAX_INCLUDERS`] of
//! them built). Edits never read files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use cudalens_ide::Snapshot;
use cudalens_syntax::model::{LaunchSite, ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, SourceProvider};
use cudalens_syntax::{BuildOptions, SyntaxTrees, document};

use crate::pipeline;

/// Entries of a document's directory looked at for files including it.
pub const MAX_SIBLINGS: usize = 64;
/// Larger files beside a document are not read for its launches.
pub const MAX_SIBLING_BYTES: u64 = 512 * 1024;
/// Files beside a document whose launches are taken, at most.
pub const MAX_INCLUDERS: usize = 4;

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
}

/// The launches of `path`'s kernels that the other open documents make.
pub fn from_open_documents(path: &Path, snapshots: &[Arc<Snapshot>]) -> Vec<Arc<LaunchSite>> {
    let mut out = Vec::new();
    for s in snapshots {
        if s.path.as_deref().is_none_or(|p| p == path) {
            continue;
        }
        for (file, launch) in s.launches_into_includes() {
            if same_file(file, path) {
                out.push(launch.clone());
            }
        }
    }
    out
}

/// The launches of `path`'s kernels made by files in its directory that
/// include it by name (read from disk; bounded, see the module's note).
pub fn from_siblings(
    path: &Path,
    text: &str,
    flags: &CompileFlags,
    provider: &dyn SourceProvider,
) -> Vec<Arc<LaunchSite>> {
    let mut out = Vec::new();
    for (from, text, model) in includers(path, text, flags, provider) {
        for (file, launch) in pipeline::launches_into_includes(&model, &text, &from) {
            if same_file(&file, path) {
                out.push(launch);
            }
        }
    }
    out
}

/// The files beside `path` that include it by name and launch one of its
/// kernels (bounded, see the module's note), each with its text and model.
pub fn includers(
    path: &Path,
    text: &str,
    flags: &CompileFlags,
    provider: &dyn SourceProvider,
) -> Vec<(PathBuf, String, cudalens_syntax::FileModel)> {
    let kernels = kernel_names(text);
    let (Some(dir), Some(name)) = (path.parent(), path.file_name().and_then(|n| n.to_str())) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut includers = 0;
    for entry in entries.flatten().take(MAX_SIBLINGS) {
        let from = entry.path();
        let cuda = matches!(
            from.extension().and_then(|e| e.to_str()),
            Some("cu" | "cuh" | "cpp" | "cc" | "h" | "hpp")
        );
        let small = entry
            .metadata()
            .is_ok_and(|m| m.is_file() && m.len() <= MAX_SIBLING_BYTES);
        if from == path || !cuda || !small || includers >= MAX_INCLUDERS {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&from) else {
            continue;
        };
        let includes_it = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with('#') && l.contains("include") && l.contains(name)
        });
        // Only a file that launches one of the kernels is built (ggml's
        // `ggml-cuda.cu` includes `mmq.cuh` but launches none of its
        // kernels: building it made opening `mmq.cuh` 300 ms slower).
        let launches_one = text.contains("<<<")
            && (kernels.is_empty() || kernels.iter().any(|k| text.contains(k.as_str())));
        if !includes_it || !launches_one {
            continue;
        }
        includers += 1;
        let tree = SyntaxTrees::parse_whole(&mut document::cuda_parser(), &text);
        let opts = BuildOptions {
            path: Some(&from),
            flags: flags.clone(),
            provider,
            max_include_depth: pipeline::MAX_INCLUDE_DEPTH,
            deadline: Some(std::time::Instant::now() + pipeline::BUILD_TIME_BUDGET),
        };
        let model = build_model_cached(&text, tree.as_ref(), &opts, &mut ModelCache::default());
        out.push((from, text, model));
    }
    out
}

/// The names written after `__global__ ... ` up to their `(`: a cheap
/// look at which kernels a text defines (empty when none reads plainly,
/// e.g. kernels declared through macros: then every includer that
/// launches anything is built).
fn kernel_names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("__global__") {
        // In a macro the name is a parameter: the kernels are unknown here.
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let continued = text[..line_start].trim_end_matches('\n').ends_with('\\');
        if text[line_start..at].contains("#define") || continued {
            return Vec::new();
        }
        let mut head = &text[at..];
        // `__global__ void __launch_bounds__(256) k(`: the name follows the bounds.
        if let Some(bounds) = head.find("__launch_bounds__")
            && head.find('(').is_some_and(|open| open > bounds)
            && let Some(close) = head[bounds..].find(')')
        {
            head = &head[bounds + close + 1..];
        }
        let Some(open) = head.find('(') else { continue };
        let name = head[..open]
            .trim_end()
            .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
            .next()
            .unwrap_or("");
        if name.len() > 1 && !out.iter().any(|n| n == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// The files whose open documents must be analysed again after `now` was
/// published over `before`: those it launches kernels of, when its launches
/// of them changed (none when they did not: an edit elsewhere costs nothing).
pub fn changed(now: &Snapshot, before: Option<&Snapshot>) -> Vec<PathBuf> {
    if now.path.is_none() {
        return Vec::new();
    }
    let launches = now.launches_into_includes();
    match before.filter(|b| b.path.is_some()) {
        Some(b) if b.launches_into_includes() == launches => Vec::new(),
        _ => launches.iter().map(|(file, _)| file.clone()).collect(),
    }
}

/// What a document task keeps: the launches by the files beside it, found
/// on its first analysis (only for a document that defines kernels).
#[derive(Clone, Default)]
pub struct Siblings(Arc<OnceLock<Vec<Arc<LaunchSite>>>>);

impl Siblings {
    /// The launches of the kernels `text` (at `path`) defines, made by the
    /// open documents and by the files beside it that are not open.
    /// Reads the files beside `path` once, ahead of the first analysis
    /// (the open reads them while the document itself is parsed).
    pub fn prepare(
        &self,
        path: Option<&Path>,
        text: &str,
        flags: &CompileFlags,
        provider: &dyn SourceProvider,
    ) {
        if let Some(path) = path.filter(|_| text.contains("__global__")) {
            self.0
                .get_or_init(|| from_siblings(path, text, flags, provider));
        }
    }

    pub fn launches(
        &self,
        path: Option<&Path>,
        text: &str,
        flags: &CompileFlags,
        provider: &dyn SourceProvider,
        open: &[Arc<Snapshot>],
    ) -> Vec<Arc<LaunchSite>> {
        let Some(path) = path.filter(|_| text.contains("__global__")) else {
            return Vec::new();
        };
        let mut out = from_open_documents(path, open);
        let siblings = self
            .0
            .get_or_init(|| from_siblings(path, text, flags, provider));
        let is_open = |file: &Path| open.iter().any(|s| s.path.as_deref() == Some(file));
        out.extend(
            siblings
                .iter()
                .filter(|l| l.origin.as_ref().is_some_and(|o| !is_open(&o.file)))
                .cloned(),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::kernel_names;

    #[test]
    fn kernel_names_read_plainly() {
        let text = "template <int N> __global__ void __launch_bounds__(256, 2) tiled(float* a) {}\n\
                    static __global__ void plain (int n) {}\n\
                    __device__ void helper() {}\n\
                    #define K(name) __global__ void name(float* x)\n";
        assert_eq!(
            kernel_names(&text[..text.find("#define").unwrap()]),
            ["tiled", "plain"]
        );
        // A kernel a macro declares: unknown, so every launching includer counts.
        assert!(kernel_names(text).is_empty());
    }
}
