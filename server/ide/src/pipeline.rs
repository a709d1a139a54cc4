//! The one path from text to results, shared by the CLI, the language server
//! and the benchmarks: build the model (preprocessor + includes), then run
//! every analysis. Nothing here knows about LSP or terminals.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use cudalens_analysis::host_launch;
use cudalens_analysis::{
    AnalysisCache, AnalysisConfig, Diagnostic, FileAnalysis, Related, analyze_with_findings,
};
use cudalens_syntax::model::{Dim3, LaunchSite, ModelCache, build_model_cached};
use cudalens_syntax::preprocess::include::{CompileFlags, SourceProvider};
use cudalens_syntax::{BuildOptions, FileModel, Severity, Span, SyntaxTrees};

/// How deep `#include` chains are followed.
pub const MAX_INCLUDE_DEPTH: usize = 16;

/// How long building one file's model may take before it stops and says so
/// (real files take milliseconds; this bounds pathological input).
pub const BUILD_TIME_BUDGET: std::time::Duration = std::time::Duration::from_secs(10);

/// One file's model and everything the analyses found in it.
#[derive(Debug, Default)]
pub struct Analyzed {
    pub model: FileModel,
    /// Shared, so a stale snapshot can keep it while its model is replaced
    /// by an outline (see the language server's `Snapshot::stale_outline`).
    pub analysis: Arc<FileAnalysis>,
    /// The model's outline, made once (see [`Analyzed::outline`]).
    outline: std::sync::OnceLock<FileModel>,
}

impl Analyzed {
    /// The model without function bodies (what a document publishes while
    /// it is re-analysed or idle). Made at most once: the language server
    /// makes it after publishing, off the path of the next edit.
    pub fn outline(&self) -> FileModel {
        self.outline.get_or_init(|| self.model.outline()).clone()
    }

    /// What a file over `cudalens.maxFileSizeMB` gets instead of an
    /// analysis: one notice.
    pub fn too_large(limit_mb: u64) -> Self {
        let message = format!(
            "cudalens skipped this file: it is larger than {limit_mb} MB (cudalens.maxFileSizeMB)"
        );
        let notice = Diagnostic::new(Span::new(0, 0), Severity::Info, "file-too-large", message);
        let analysis = FileAnalysis {
            diagnostics: vec![notice],
            ..Default::default()
        };
        Analyzed::new(FileModel::default(), Arc::new(analysis))
    }

    /// A result whose model is `model` and whose analysis is `analysis`.
    pub fn new(model: FileModel, analysis: Arc<FileAnalysis>) -> Self {
        Analyzed {
            model,
            analysis,
            outline: std::sync::OnceLock::new(),
        }
    }
}

/// What the previous analysis of a document can lend the next one: functions
/// and kernels whose text did not change are not lowered or analysed again.
/// The language server keeps one per open document; the CLI uses none.
#[derive(Default)]
pub struct Caches {
    pub model: ModelCache,
    pub analysis: AnalysisCache,
}

/// What to analyse and under which settings.
pub struct Request<'a> {
    pub text: &'a str,
    /// The parsed trees (`None` when the file was too large to parse).
    pub tree: Option<&'a SyntaxTrees>,
    pub path: Option<&'a Path>,
    pub flags: CompileFlags,
    pub provider: &'a dyn SourceProvider,
    pub config: &'a AnalysisConfig,
    /// Results of the previous run on this document, refreshed in place.
    pub caches: Option<&'a mut Caches>,
    /// Launches of this file's kernels made in other files (those that
    /// include it; see [`launches_into_includes`]).
    pub launches_elsewhere: &'a [Arc<LaunchSite>],
}

/// How many launches made in other files one kernel is analysed under at
/// most (each is one more configuration to analyse).
pub const MAX_LAUNCHES_ELSEWHERE: usize = 8;

/// Plans an opened file's headers and starts parsing them while the file
/// itself is parsed (see `ModelCache::plan_ahead`).
pub fn plan_ahead(
    caches: &mut Caches,
    text: &str,
    path: Option<&Path>,
    flags: CompileFlags,
    provider: &dyn SourceProvider,
) {
    let opts = BuildOptions {
        path,
        flags,
        provider,
        max_include_depth: MAX_INCLUDE_DEPTH,
        deadline: None,
    };
    caches.model.plan_ahead(text, &opts);
}

/// Builds the model and analyses it.
pub fn run(req: Request<'_>) -> Analyzed {
    run_with_findings(req, &[])
}

/// [`run`], with the findings other files' analyses made in this file's
/// functions (see [`findings_into_includes`]) reported among its own.
pub fn run_with_findings(req: Request<'_>, from_elsewhere: &[Diagnostic]) -> Analyzed {
    let mut flags = req.flags;
    // `__CUDA_ARCH__` is the configured target unless the file's own
    // compile command names one.
    if flags.cuda_arch.is_none() {
        flags.cuda_arch = cuda_arch_value(&req.config.arch);
    }
    let opts = BuildOptions {
        path: req.path,
        flags,
        provider: req.provider,
        max_include_depth: MAX_INCLUDE_DEPTH,
        deadline: Some(std::time::Instant::now() + BUILD_TIME_BUDGET),
    };
    let mut scratch = Caches::default();
    let caches = req.caches.unwrap_or(&mut scratch);
    let mut model = build_model_cached(req.text, req.tree, &opts, &mut caches.model);
    add_launches_elsewhere(&mut model, req.launches_elsewhere);
    let analysis = analyze_with_findings(
        &model,
        req.text,
        req.config,
        &mut caches.analysis,
        from_elsewhere,
    );
    Analyzed::new(model, Arc::new(analysis))
}

/// The launches made elsewhere of kernels this file defines, each distinct
/// configuration once, at most [`MAX_LAUNCHES_ELSEWHERE`] per kernel: they
/// join the file's own launches, so every analysis sees them the same way.
fn add_launches_elsewhere(model: &mut FileModel, elsewhere: &[Arc<LaunchSite>]) {
    let defined_here = |name: &str| {
        model
            .functions
            .iter()
            .any(|f| f.name == name && f.is_kernel() && f.in_main_file() && f.body.is_some())
    };
    let mut added: Vec<Arc<LaunchSite>> = Vec::new();
    for l in elsewhere {
        if l.is_local() || !defined_here(&l.kernel) {
            continue;
        }
        let same = |a: &LaunchSite| {
            a.kernel == l.kernel
                && a.block_dims == l.block_dims
                && a.grid_dims == l.grid_dims
                && a.template_args == l.template_args
                && a.arg_values == l.arg_values
                && a.smem_bytes == l.smem_bytes
        };
        let of_kernel = added.iter().filter(|a| a.kernel == l.kernel).count();
        if of_kernel < MAX_LAUNCHES_ELSEWHERE && !added.iter().any(|a| same(a)) {
            added.push(l.clone());
        }
    }
    model.launches.extend(added);
}

/// This file's launches of kernels defined in files it includes, as those
/// files see them (keyed by the defining file): where each launch is, and
/// its block, grid, template and scalar arguments resolved here, with
/// template arguments that are this file's constants replaced by their values.
pub fn launches_into_includes(
    model: &FileModel,
    text: &str,
    path: &Path,
) -> Vec<(std::path::PathBuf, Arc<LaunchSite>)> {
    let env = model.const_env();
    // The host code is read only for launches whose numbers the launch
    // itself does not give (`blockSize = iDivUp(w, 16)` in the caller).
    let calls = std::cell::OnceCell::new();
    let mut out = Vec::new();
    for l in model.launches.iter().filter(|l| l.is_local()) {
        // The definition (an outline keeps no bodies: then any kernel of the name).
        let Some(kernel) = model
            .functions
            .iter()
            .filter(|f| f.name == l.kernel && f.is_kernel())
            .max_by_key(|f| f.body.is_some())
        else {
            continue;
        };
        let Some(file) = kernel.file.clone() else {
            continue;
        };
        let mut seen = l.seen_from_elsewhere(path, text);
        for arg in &mut seen.template_args {
            if let Some(v) = env.lookup(arg.trim()) {
                *arg = v.to_string();
            }
        }
        if seen.block_dims.resolved().is_none()
            || seen.grid_dims.resolved().is_none()
            || (kernel.params.iter().zip(&seen.arg_values))
                .any(|(p, v)| p.ty.pointer == 0 && v.is_none())
        {
            let calls = calls.get_or_init(|| host_launch::CallIndex::of(model));
            resolve_from_host_code(model, calls, l, &mut seen);
        }
        out.push((file, Arc::new(seen)));
    }
    out
}

/// What the host code of the launching file gives of `launch` without an
/// assumption (its block, grid, dynamic shared memory and scalar
/// arguments), written into `seen`, its copy for the file that defines the
/// kernel: there only resolved numbers hold.
fn resolve_from_host_code<'m>(
    model: &'m FileModel,
    calls: &host_launch::CallIndex<'m>,
    launch: &LaunchSite,
    seen: &mut LaunchSite,
) {
    let sites = host_launch::launch_sites(model, &launch.kernel);
    let Some(which) = sites.iter().position(|s| std::ptr::eq(*s, launch)) else {
        return;
    };
    let Some(host) = host_launch::resolve_indexed(model, calls, &launch.kernel, which) else {
        return;
    };
    let known = |d: &host_launch::HostDims| {
        d.certain()
            .map(|[x, y, z]| Dim3::known(x.into(), y.into(), z.into()))
    };
    if seen.block_dims.resolved().is_none()
        && let Some(b) = known(&host.block)
    {
        seen.block_dims = b;
    }
    if seen.grid_dims.resolved().is_none()
        && let Some(g) = known(&host.grid)
    {
        seen.grid_dims = g;
    }
    if launch.smem.is_some() && seen.smem_bytes.is_none() {
        seen.smem_bytes = host.dynamic_smem.and_then(|b| i64::try_from(b).ok());
    }
    for s in &host.scalars {
        if let (Some(v), Some(slot)) = (s.certain_int(), seen.arg_values.get_mut(s.index))
            && slot.is_none()
        {
            *slot = Some(v);
        }
    }
}

/// The findings this file's kernels made inside functions of the files it
/// includes, keyed by that file, as that file reports them: at the access,
/// with how each kernel of this file (`path`, whose text is `text`) reaches
/// the function as related information at that function's name.
pub fn findings_into_includes(
    analysis: &FileAnalysis,
    text: &str,
    path: &Path,
) -> Vec<(std::path::PathBuf, Diagnostic)> {
    let line = |at: usize| {
        text.get(..at)
            .map_or(0, |t| t.bytes().filter(|&b| b == b'\n').count())
            + 1
    };
    let mut out = Vec::new();
    for f in &analysis.elsewhere {
        let mut d = f.diagnostic.clone();
        let notes = f.entries.iter().map(|e| {
            let at = format!("{}:{}", path.display(), line(e.call.start));
            let message = match e.via.as_slice() {
                [] => format!("kernel `{}` calls `{}` at {at}", e.kernel, e.callee),
                via => format!(
                    "kernel `{}` reaches `{}` through `{}` (call at {at})",
                    e.kernel,
                    e.callee,
                    via.join("` → `")
                ),
            };
            Related {
                span: e.anchor,
                message,
            }
        });
        // The way in first, then the calls made in the header.
        let inside = std::mem::take(&mut d.related);
        d.related = notes.chain(inside).collect();
        out.push((f.file.to_path_buf(), d));
    }
    out
}

/// `sm_90` → 900, `sm_120` → 1200: the value `__CUDA_ARCH__` has.
fn cuda_arch_value(arch: &str) -> Option<u32> {
    let digits: String = arch.chars().filter(char::is_ascii_digit).collect();
    digits.parse::<u32>().ok().map(|v| v * 10)
}

/// [`run`], with a panic in a lower crate turned into an error message instead
/// of taking the process (the editor's server, or a whole `check` run) down.
/// After a panic the caches may be half-updated, so callers drop them.
pub fn run_guarded(req: Request<'_>) -> Result<Analyzed, String> {
    run_guarded_with_findings(req, &[])
}

/// [`run_with_findings`], guarded as [`run_guarded`] is.
pub fn run_guarded_with_findings(
    req: Request<'_>,
    from_elsewhere: &[Diagnostic],
) -> Result<Analyzed, String> {
    catch_unwind(AssertUnwindSafe(|| run_with_findings(req, from_elsewhere)))
        .map_err(|payload| panic_message(&*payload))
}

/// The message of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Parses a block size as written on the command line or in settings:
/// `256`, `16x16`, `8x8x4` (also `×` and `,` as separators).
pub fn parse_block(text: &str) -> Option<[u32; 3]> {
    let parts: Vec<&str> = text.split(['x', 'X', '×', ',']).map(str::trim).collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut dims = [1u32; 3];
    for (slot, part) in dims.iter_mut().zip(&parts) {
        *slot = part.parse().ok().filter(|&v| v > 0)?;
    }
    Some(dims)
}

/// Parses `NAME` or `NAME=VALUE` (a `-D` flag or a `cudalens.defines` entry).
pub fn parse_define(text: &str) -> Option<(String, String)> {
    let (name, value) = match text.split_once('=') {
        Some((n, v)) => (n.trim(), v.to_string()),
        None => (text.trim(), "1".to_string()),
    };
    let valid = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    valid.then(|| (name.to_string(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_sizes() {
        assert_eq!(parse_block("256"), Some([256, 1, 1]));
        assert_eq!(parse_block("16x16"), Some([16, 16, 1]));
        assert_eq!(parse_block("8×8×4"), Some([8, 8, 4]));
        assert_eq!(parse_block("0"), None);
        assert_eq!(parse_block("1x2x3x4"), None);
        assert_eq!(parse_block("abc"), None);
    }

    #[test]
    fn defines() {
        assert_eq!(parse_define("N"), Some(("N".into(), "1".into())));
        assert_eq!(parse_define("N=2=3"), Some(("N".into(), "2=3".into())));
        assert_eq!(parse_define("1N"), None);
        assert_eq!(parse_define("=3"), None);
    }
}
