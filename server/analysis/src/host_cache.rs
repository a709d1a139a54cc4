//! What the host code gives each launch ([`crate::host_launch`]), kept
//! across the analyses of one document. Contexts are computed on every
//! edit, and resolving a file's launches through their callers cost up to
//! 3 ms an edit on llm.c's and ggml's files; most edits change nothing a
//! launch's resolution reads, so its result is reused while that holds.
//!
//! A resolution records what it read ([`Reads`]: the functions it looked
//! up by name, the names whose calls it followed). Its result is kept with
//! a hash of those functions as they were, and reused while the hash is
//! the same, with the same launch sites of the kernel, kernel parameters,
//! file constants, type sizes and aliases, and file-scope variables.
//! Positions are not hashed: a resolution compares offsets only within one
//! function (a declaration before a launch, a call before a use), and a
//! function whose fingerprint is unchanged moved as a whole. Results carry
//! no position either (the analysis resolves without the file's text, so
//! every line it would name is 1).

use std::cell::{OnceCell, RefCell};
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use cudalens_syntax::FileModel;
use cudalens_syntax::fingerprint::{FingerprintMap, Fingerprinter};
use cudalens_syntax::ir::ExprKind;
use cudalens_syntax::model::{Function, LaunchSite};

use crate::host_launch::{CallIndex, HostLaunch, Reads};

/// Kept in [`crate::AnalysisCache`] from one analysis of a document to the next.
#[derive(Default)]
pub struct HostCache {
    /// The names each function body calls (hashed), by the function's fingerprint.
    calls: FingerprintMap<Arc<Vec<u64>>>,
    /// Resolved launches by [`launch_key`].
    launches: FingerprintMap<Resolved>,
}

/// One launch's resolution, what it read, and the hash of what it read then.
#[derive(Clone)]
struct Resolved {
    reads: Arc<Reads>,
    read_hash: u64,
    hosts: Arc<Vec<HostLaunch>>,
}

/// Every callee of `f`'s body, whole and by its last `::` segment (the
/// names [`CallIndex`] files calls under), hashed ([`name_hash`]).
fn callees(f: &Function) -> Vec<u64> {
    let mut out = HashSet::new();
    if let Some(body) = &f.body {
        body.walk_exprs(&mut |e| {
            if let ExprKind::Call(c) = &e.kind {
                if let Some(last) = c.callee.rsplit("::").next() {
                    out.insert(name_hash(last));
                }
                out.insert(name_hash(&c.callee));
            }
        });
    }
    out.into_iter().collect()
}

/// A callee's name as [`Functions::calling`] files it. Two names of one
/// hash share a list, which only makes a reuse rarer.
fn name_hash(name: &str) -> u64 {
    let mut h = Fingerprinter::new();
    name.hash(&mut h);
    h.finish()
}

/// The host values of one analysis: the file's call index, built on first
/// need, and with a document's [`HostCache`], the launches resolved before.
pub struct HostValues<'m> {
    model: &'m FileModel,
    index: OnceCell<CallIndex<'m>>,
    run: Option<RefCell<Run<'m>>>,
}

/// One analysis's use of the cache.
struct Run<'m> {
    before: HostCache,
    /// The calls of this model's functions (`None` until first needed).
    calls: Option<FingerprintMap<Arc<Vec<u64>>>>,
    launches: FingerprintMap<Resolved>,
    /// This model's functions as reads see them (made on first need).
    functions: Option<Functions<'m>>,
    /// The file's constants, types and file-scope variables, hashed.
    environment: Option<u64>,
}

/// The file's functions with bodies, by name and by the names they call,
/// each list in file order; the hash of each list once made.
struct Functions<'m> {
    named: HashMap<&'m str, Vec<&'m Function>>,
    /// By [`name_hash`] of the callee.
    calling: FingerprintMap<Vec<&'m Function>>,
    /// By (name, calling).
    hashes: HashMap<(String, bool), u64>,
}

impl<'m> HostValues<'m> {
    /// Resolves every launch afresh (one analysis, `bench`).
    pub fn uncached(model: &'m FileModel) -> HostValues<'m> {
        HostValues {
            model,
            index: OnceCell::new(),
            run: None,
        }
    }

    /// Reuses what `cache` resolved for an earlier model of the document;
    /// [`Self::finish`] puts back what this analysis used.
    pub fn cached(model: &'m FileModel, cache: &mut HostCache) -> HostValues<'m> {
        HostValues {
            model,
            index: OnceCell::new(),
            run: Some(RefCell::new(Run {
                before: std::mem::take(cache),
                calls: None,
                launches: FingerprintMap::default(),
                functions: None,
                environment: None,
            })),
        }
    }

    /// Keeps in `cache` what this analysis resolved or reused (and, when it
    /// needed none, what the cache held).
    pub fn finish(self, cache: &mut HostCache) {
        let Some(run) = self.run else { return };
        let run = run.into_inner();
        *cache = match run.calls {
            Some(calls) => HostCache {
                calls,
                launches: run.launches,
            },
            None => run.before,
        };
    }

    /// The file's calls, indexed once.
    pub fn index(&self) -> &CallIndex<'m> {
        self.index.get_or_init(|| CallIndex::of(self.model))
    }

    /// What `resolve` gives launch `which` of `kernel` (its launches:
    /// `sites`), reused from an earlier analysis when nothing it read
    /// changed. `resolve` must read the model only through the index it is
    /// given (which records what it reads) and depend on nothing else but
    /// these arguments.
    pub fn launches(
        &self,
        kernel: &str,
        which: usize,
        sites: &[&LaunchSite],
        block_unresolved: bool,
        resolve: impl FnOnce(&CallIndex<'m>) -> Vec<HostLaunch>,
    ) -> Arc<Vec<HostLaunch>> {
        let Some(run) = &self.run else {
            return Arc::new(resolve(self.index()));
        };
        let mut guard = run.borrow_mut();
        let r = &mut *guard;
        let environment = *r
            .environment
            .get_or_insert_with(|| environment_hash(self.model));
        let key = launch_key(
            self.model,
            environment,
            kernel,
            which,
            sites,
            block_unresolved,
        );
        let known = r
            .launches
            .get(&key)
            .or_else(|| r.before.launches.get(&key))
            .cloned();
        if let Some(known) = known {
            let now = self.read_hash(r, &known.reads);
            if now == known.read_hash {
                r.launches.insert(key, known.clone());
                return known.hosts;
            }
        }
        drop(guard);
        let index = self.index();
        index.start_reads();
        let hosts = Arc::new(resolve(index));
        let reads = Arc::new(index.take_reads());
        let r = &mut *run.borrow_mut();
        let read_hash = self.read_hash(r, &reads);
        r.launches.insert(
            key,
            Resolved {
                reads,
                read_hash,
                hosts: hosts.clone(),
            },
        );
        hosts
    }

    /// The hash of what `reads` names in this model: the functions of each
    /// name read, and those calling each name whose calls were followed
    /// (name and fingerprint, in file order).
    fn read_hash(&self, run: &mut Run<'m>, reads: &Reads) -> u64 {
        if run.functions.is_none() {
            let calls = run.calls.get_or_insert_with(FingerprintMap::default);
            run.functions = Some(functions(self.model, &run.before.calls, calls));
        }
        let Some(functions) = run.functions.as_mut() else {
            return 0;
        };
        let mut h = Fingerprinter::new();
        for (calling, names) in [(false, &reads.functions), (true, &reads.callers_of)] {
            for name in names {
                functions.hash_of(calling, name).hash(&mut h);
            }
        }
        h.finish()
    }
}

impl<'m> Functions<'m> {
    /// The hash of the functions named `name` (`calling`: calling `name`).
    fn hash_of(&mut self, calling: bool, name: &str) -> u64 {
        let key = (name.to_string(), calling);
        if let Some(&h) = self.hashes.get(&key) {
            return h;
        }
        let list = if calling {
            self.calling.get(&name_hash(name))
        } else {
            self.named.get(name)
        };
        let mut h = Fingerprinter::new();
        for f in list.map_or(&[][..], Vec::as_slice) {
            (&f.name, f.fingerprint).hash(&mut h);
        }
        let h = h.finish();
        self.hashes.insert(key, h);
        h
    }
}

/// This model's functions with bodies, by name (headers' too: a one-line
/// helper a resolution evaluates may be defined in one) and, for this
/// file's, by callee (calls are followed in this file only), this file's
/// in file order; `calls` receives each one's callees (from `before` when known).
fn functions<'m>(
    model: &'m FileModel,
    before: &FingerprintMap<Arc<Vec<u64>>>,
    calls: &mut FingerprintMap<Arc<Vec<u64>>>,
) -> Functions<'m> {
    let mut list: Vec<&Function> = model
        .functions
        .iter()
        .map(|f| &**f)
        .filter(|f| f.body.is_some())
        .collect();
    // This file's in file order, then the headers' (stable: model order).
    list.sort_by_key(|f| (!f.in_main_file(), f.span.start));
    let mut named: HashMap<&str, Vec<&Function>> = HashMap::new();
    let mut calling: FingerprintMap<Vec<&Function>> = FingerprintMap::default();
    for f in list {
        named.entry(f.name.as_str()).or_default().push(f);
        if !f.in_main_file() {
            continue;
        }
        let c = calls
            .get(&f.fingerprint)
            .or_else(|| before.get(&f.fingerprint))
            .cloned()
            .unwrap_or_else(|| Arc::new(callees(f)));
        calls.insert(f.fingerprint, c.clone());
        for &name in c.iter() {
            calling.entry(name).or_default().push(f);
        }
    }
    Functions {
        named,
        calling,
        hashes: HashMap::new(),
    }
}

/// What every resolution may read besides functions: the file's constants,
/// type sizes and aliases, and its file-scope variables (a constant one's
/// value too).
fn environment_hash(model: &FileModel) -> u64 {
    let mut h = Fingerprinter::new();
    model.hash_environment(&mut h);
    for g in &model.globals {
        let valued = (g.ty.is_const || g.constexpr) && g.ty.pointer == 0 && g.dims.is_empty();
        (&g.name, &g.ty, g.constexpr, g.dims.len(), valued).hash(&mut h);
        if let Some(init) = g.init.as_ref().filter(|_| valued) {
            // Its value wherever it is (an `Expr` holds floats: no `Hash`).
            let mut init = init.clone();
            init.shift(-(init.span.start as isize));
            format!("{init:?}").hash(&mut h);
        }
    }
    h.finish()
}

/// Launch `which` of `kernel` with what its resolution reads besides
/// functions: the file's environment, the kernel's parameters and the
/// kernel's launch sites (a local one's text is its function's).
fn launch_key(
    model: &FileModel,
    environment: u64,
    kernel: &str,
    which: usize,
    sites: &[&LaunchSite],
    block_unresolved: bool,
) -> u64 {
    let mut h = Fingerprinter::new();
    (environment, kernel, which, block_unresolved).hash(&mut h);
    if let Some(k) = model.function(kernel) {
        for p in &k.params {
            (&p.name, &p.ty).hash(&mut h);
        }
    }
    for s in sites {
        (
            &s.kernel,
            &s.caller,
            &s.template_args,
            &s.origin,
            s.grid_dims.resolved(),
            s.block_dims.resolved(),
            &s.arg_values,
            s.smem_bytes,
        )
            .hash(&mut h);
    }
    h.finish()
}
