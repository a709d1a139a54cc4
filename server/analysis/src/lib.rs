//! Pure analyses of the cudalens kernel model: memory-access cost (coalescing,
//! bank conflicts), theoretical occupancy per launch, and correctness lints.
//! No LSP types and no I/O: the server and the CLI map [`FileAnalysis`] to
//! their outputs.
//!
//! Where each diagnostic is computed:
//! - `uncoalesced-access`, `bank-conflict`: [`memory`]
//! - `low-occupancy`, `block-size-not-multiple-of-32`, `launch-exceeds-limit`,
//!   `grid-too-small`: [`launch`]
//! - `barrier-in-divergent-code`, `missing-syncthreads`: [`lints`] (the
//!   shared-memory race walk: `races`)
//! - front-end diagnostics (syntax, preprocessor): passed through from `cudalens-syntax`
//! - `unused-suppression`, `suppression-without-reason`: [`suppress`], which
//!   also removes the findings that `cudalens-ignore` comments silence
//!
//! [`work_shape`] tells whether a kernel's work depends on its block size
//! (for `bench --autotune`). [`rules`] documents every code; [`memory::verdict`] is the one judgement
//! of whether an access is wasteful.

pub mod context;
pub mod diagnostic;
mod groups;
pub mod host_cache;
pub mod host_launch;
mod index_range;
pub mod launch;
pub mod lints;
pub mod memory;
pub mod parallel;
mod races;
pub mod rules;
pub mod suppress;
pub mod tuning;
pub mod work_shape;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use cudalens_syntax::fingerprint::{self, FingerprintMap, Fingerprinter};
use cudalens_syntax::{FileModel, Span};

pub use context::{BlockSource, KernelContext};
pub use diagnostic::{Diagnostic, Edit, ElsewhereFinding, Entry, Fix, Related};
pub use launch::{KernelReport, LaunchReport, RegisterInfo};
pub use memory::{AccessKind, AccessReport, MemorySpace};
pub use rules::{RULES, rule_exists};

/// Settings that shape the analyses (the LSP settings / CLI flags).
#[derive(Clone, Debug)]
pub struct AnalysisConfig {
    /// Target architecture, e.g. `sm_90`.
    pub arch: String,
    /// Block size assumed when none can be inferred.
    pub default_block: [u32; 3],
    /// Occupancy below this fraction is reported.
    pub occupancy_threshold: f64,
    /// Rules turned off by code.
    pub disabled_rules: HashSet<String>,
    /// Real register counts per kernel name (from nvcc/ptxas), when known.
    pub registers: HashMap<String, u32>,
    /// Threads that analyse a file's kernels side by side (1: this thread
    /// only). The language server uses every core for a file it opens;
    /// `cudalens check` analyses files side by side instead.
    pub threads: usize,
}

impl Default for AnalysisConfig {
    fn default() -> Self {
        AnalysisConfig {
            arch: "sm_90".into(),
            default_block: [256, 1, 1],
            occupancy_threshold: 0.5,
            disabled_rules: HashSet::new(),
            registers: HashMap::new(),
            threads: 1,
        }
    }
}

/// Everything cudalens reports about one file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileAnalysis {
    pub diagnostics: Vec<Diagnostic>,
    pub kernels: Vec<KernelReport>,
    pub accesses: Vec<AccessReport>,
    /// Findings inside functions of included files (headers) that this
    /// file's kernels reach: reported at those files.
    #[serde(skip)]
    pub elsewhere: Vec<ElsewhereFinding>,
}

/// Per-kernel memory and lint results kept between analyses of the same
/// document: an edit re-analyses only the kernels it changed.
#[derive(Default)]
pub struct AnalysisCache {
    kernels: FingerprintMap<CachedKernel>,
    /// What the host code gave each launch (an edit in a kernel body
    /// changes none of it).
    host: host_cache::HostCache,
}

struct CachedKernel {
    start: usize,
    end: usize,
    /// Where the file's device functions were when this was computed: results
    /// inside an inlined device function move with that function.
    anchors: Arc<Anchors>,
    accesses: Vec<AccessReport>,
    diagnostics: Vec<Diagnostic>,
    elsewhere: Vec<ElsewhereFinding>,
    resources: launch::KernelResources,
}

/// Runs every analysis on a model built from `source`.
pub fn analyze(model: &FileModel, source: &str, config: &AnalysisConfig) -> FileAnalysis {
    analyze_cached(model, source, config, &mut AnalysisCache::default())
}

/// What a kernel's memory and lint results depend on besides its own text.
fn file_fingerprint(model: &FileModel) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = Fingerprinter::new();
    model.hash_environment(&mut h);
    // Device functions are inlined into kernels: their text matters (their
    // positions do not: results inside them are relocated, see `relocate`).
    for f in model
        .functions
        .iter()
        .filter(|f| f.runs_on_device() && !f.is_kernel())
    {
        f.fingerprint.hash(&mut h);
    }
    h.finish()
}

fn kernel_key(
    file: u64,
    kernel: &cudalens_syntax::model::Function,
    contexts: &[KernelContext],
) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = Fingerprinter::new();
    (file, kernel.fingerprint).hash(&mut h);
    for c in contexts {
        c.block.hash(&mut h);
        c.block_source.hash(&mut h);
        let mut tv: Vec<_> = c.template_values.iter().collect();
        tv.sort();
        tv.hash(&mut h);
        let mut tt: Vec<_> = c.template_types.iter().collect();
        tt.sort();
        tt.hash(&mut h);
        let mut pv: Vec<_> = c.param_values.iter().collect();
        pv.sort();
        pv.hash(&mut h);
        c.launch
            .map(|l| (l.smem_bytes, l.grid_dims.resolved()))
            .hash(&mut h);
        c.block_values.hash(&mut h);
        let mut ph: Vec<_> = c.param_hosts.iter().collect();
        ph.sort_by(|a, b| a.0.cmp(b.0));
        ph.hash(&mut h);
    }
    h.finish()
}

/// Device functions by name with their spans (results inside them are relocated with them).
fn device_anchors(model: &FileModel) -> Arc<Anchors> {
    Arc::new(
        model
            .functions
            .iter()
            .filter(|f| f.runs_on_device() && !f.is_kernel() && f.in_main_file())
            .map(|f| (f.name.clone(), f.span))
            .collect(),
    )
}

/// Device functions by name and where they were.
type Anchors = Vec<(String, Span)>;

/// How device functions moved: (old span, delta).
type Moves = Vec<(Span, isize)>;

/// How each device function of `old` moved to reach `now`.
fn anchor_moves(old: &Anchors, now: &Anchors) -> Moves {
    old.iter()
        .enumerate()
        .filter_map(|(i, (name, old))| {
            let same = |(n, s): &&(String, Span)| n == name && s.len() == old.len();
            // Usually the same functions in the same order: try the same index first.
            let now = now.get(i).filter(same).or_else(|| now.iter().find(same))?;
            Some((*old, now.1.start as isize - old.start as isize))
        })
        .collect()
}

/// [`anchor_moves`] from each distinct previous anchor set to the current
/// one, computed once per analysis: after an edit every kernel below it is
/// relocated, and they all share the previous run's anchors.
struct AnchorMoves {
    now: Arc<Anchors>,
    /// `None`: no device function moved.
    known: Vec<(Arc<Anchors>, Option<Arc<Moves>>)>,
}

impl AnchorMoves {
    fn from(&mut self, old: &Arc<Anchors>) -> Option<Arc<Moves>> {
        if Arc::ptr_eq(old, &self.now) {
            return None;
        }
        if let Some((_, moves)) = self.known.iter().find(|(o, _)| Arc::ptr_eq(o, old)) {
            return moves.clone();
        }
        let moves = (**old != *self.now).then(|| Arc::new(anchor_moves(old, &self.now)));
        self.known.push((old.clone(), moves.clone()));
        moves
    }
}

/// Moves a cached kernel's results to where its code is now: spans inside the
/// kernel follow the kernel, spans inside a device function follow that function.
fn relocate(c: &mut CachedKernel, start: usize, end: usize, anchors: &mut AnchorMoves) {
    let kernel_delta = start as isize - c.start as isize;
    let moves = anchors.from(&c.anchors);
    c.anchors = anchors.now.clone();
    if kernel_delta == 0 && moves.is_none() {
        return;
    }
    let moves = moves.unwrap_or_default();
    let (old_start, old_end) = (c.start, c.end);
    let map = move |s: Span| {
        let delta = if s.start >= old_start && s.end <= old_end {
            kernel_delta
        } else {
            moves
                .iter()
                .find(|(old, _)| s.start >= old.start && s.end <= old.end)
                .map_or(0, |(_, d)| *d)
        };
        diagnostic::shift_span(s, delta)
    };
    c.accesses.iter_mut().for_each(|a| a.map_spans(&map));
    c.diagnostics.iter_mut().for_each(|d| d.map_spans(&map));
    // Only the kernel's calls are in this file's text.
    for e in c.elsewhere.iter_mut().flat_map(|f| f.entries.iter_mut()) {
        e.call = map(e.call);
    }
    c.start = start;
    c.end = end;
}

/// Like [`analyze`], reusing (and refreshing) `cache` from the previous run.
pub fn analyze_cached(
    model: &FileModel,
    source: &str,
    config: &AnalysisConfig,
    cache: &mut AnalysisCache,
) -> FileAnalysis {
    analyze_with_findings(model, source, config, cache, &[])
}

/// [`analyze_cached`], with the findings other files' analyses made in this
/// file's functions (see [`FileAnalysis::elsewhere`]) reported among this
/// file's own: one per access and rule, the related information of all
/// merged, and this file's suppressions applied to them.
pub fn analyze_with_findings(
    model: &FileModel,
    source: &str,
    config: &AnalysisConfig,
    cache: &mut AnalysisCache,
    from_elsewhere: &[Diagnostic],
) -> FileAnalysis {
    let mut out = FileAnalysis::default();
    let mut fresh = fingerprint::map_with_capacity(cache.kernels.len());
    let file = file_fingerprint(model);
    let anchors = device_anchors(model);
    let mut moves = AnchorMoves {
        now: anchors.clone(),
        known: Vec::new(),
    };
    for d in &model.diagnostics {
        out.diagnostics.push(Diagnostic::new(
            d.span,
            d.severity,
            d.code,
            d.message.clone(),
        ));
    }
    let arch = cudalens_occupancy::Arch::parse(&config.arch)
        .unwrap_or_else(|_| cudalens_occupancy::Arch::parse("sm_90").expect("sm_90 is built in"));
    let mut launches_by_kernel: HashMap<&str, Vec<&cudalens_syntax::model::LaunchSite>> =
        HashMap::with_capacity(model.launches.len());
    for l in &model.launches {
        launches_by_kernel
            .entry(l.kernel.as_str())
            .or_default()
            .push(l);
    }
    // Contexts, keys and what the cache already knows, in file order: this
    // file's kernels under every launch (its own and those other files make
    // of them), and the kernels of included files under this file's launches
    // of them (their launches are reported here; their bodies in their file).
    let mut slots = Vec::new();
    let host = host_cache::HostValues::cached(model, &mut cache.host);
    for kernel in model.kernels().filter(|k| k.body.is_some()) {
        let all = launches_by_kernel
            .get(kernel.name.as_str())
            .map_or(&[][..], Vec::as_slice);
        let local: Vec<_>;
        let launches = if kernel.in_main_file() {
            all
        } else {
            local = all.iter().copied().filter(|l| l.is_local()).collect();
            if local.is_empty() {
                continue;
            }
            &local[..]
        };
        let contexts = context::contexts_with_host(model, launches, kernel, config, &host);
        let key = kernel_key(file, kernel, &contexts);
        let cached = cache.kernels.remove(&key).map(|mut c| {
            relocate(&mut c, kernel.span.start, kernel.span.end, &mut moves);
            c
        });
        slots.push((kernel, contexts, key, cached));
    }
    host.finish(&mut cache.host);
    // The kernels the cache did not know, analysed side by side.
    let misses: Vec<usize> = (0..slots.len()).filter(|&i| slots[i].3.is_none()).collect();
    let computed = parallel::map_in_order(misses.len(), config.threads, |m| {
        let (kernel, contexts, _, _) = &slots[misses[m]];
        let (accesses, diagnostics, elsewhere) = if kernel.in_main_file() {
            let (accesses, mut diagnostics, elsewhere) =
                memory::analyze_kernel(model, source, kernel, contexts);
            diagnostics.extend(lints::analyze_kernel(model, kernel, contexts));
            (accesses, diagnostics, elsewhere)
        } else {
            (Vec::new(), Vec::new(), Vec::new())
        };
        CachedKernel {
            start: kernel.span.start,
            end: kernel.span.end,
            anchors: anchors.clone(),
            accesses,
            diagnostics,
            elsewhere,
            resources: launch::KernelResources::of(model, kernel, contexts),
        }
    });
    for (i, entry) in misses.into_iter().zip(computed) {
        slots[i].3 = Some(entry);
    }
    let entries = || slots.iter().filter_map(|s| s.3.as_ref());
    out.accesses
        .reserve(entries().map(|e| e.accesses.len()).sum());
    out.diagnostics
        .reserve(entries().map(|e| e.diagnostics.len() + 1).sum());
    for (kernel, contexts, key, entry) in slots {
        let Some(entry) = entry else { continue };
        let (report, mut diags) =
            launch::analyze_kernel(kernel, &contexts, &entry.resources, arch, config);
        out.kernels.push(report);
        out.diagnostics.append(&mut diags);
        out.accesses.extend(entry.accesses.iter().cloned());
        out.diagnostics.extend(entry.diagnostics.iter().cloned());
        out.elsewhere.extend(entry.elsewhere.iter().cloned());
        fresh.insert(key, entry);
    }
    cache.kernels = fresh;
    out.elsewhere
        .retain(|f| !config.disabled_rules.contains(f.diagnostic.code));
    merge_findings_from_elsewhere(&mut out.diagnostics, from_elsewhere);
    out.diagnostics
        .retain(|d| !config.disabled_rules.contains(d.code));
    out.diagnostics
        .sort_by_key(|d| (d.span.start, d.span.end, d.code));
    // One finding per access and message: several kernels reaching one
    // device function's access keep one diagnostic with each one's calls.
    out.diagnostics.dedup_by(|later, kept| {
        // A conflict a run-time argument decides is worded with each
        // kernel's own argument: one note per access, the first kernel's.
        let conditional = |d: &Diagnostic| d.message.contains(memory::RUNTIME_ARGUMENT_NOTE);
        let same = later.span == kept.span
            && later.code == kept.code
            && (later.message == kept.message || (conditional(later) && conditional(kept)));
        if same {
            for r in later.related.drain(..) {
                if !kept.related.contains(&r) {
                    kept.related.push(r);
                }
            }
        }
        same
    });
    suppress::apply(source, &mut out.diagnostics, &config.disabled_rules);
    out
}

/// Adds the findings other files' analyses made here (the same header
/// function reached from several files, or under several launches), one
/// per access and rule: a finding this file made itself there, or else the
/// first given, keeps its message and gains the others' related information.
fn merge_findings_from_elsewhere(diagnostics: &mut Vec<Diagnostic>, from: &[Diagnostic]) {
    for d in from {
        let same = |k: &&mut Diagnostic| k.span == d.span && k.code == d.code;
        match diagnostics.iter_mut().find(same) {
            Some(kept) => {
                for r in &d.related {
                    if !kept.related.contains(r) {
                        kept.related.push(r.clone());
                    }
                }
            }
            None => diagnostics.push(d.clone()),
        }
    }
}
