//! Aggregates access events into per-access costs, writes the
//! `uncoalesced-access` and `bank-conflict` diagnostics, and proposes fixes:
//!
//! * pad a 2D shared tile by one column ([`pad_fix`], on bank conflicts) —
//!   safe (applied by `source.fixAll`) when every use indexes the tile fully;
//! * swap a transposed thread mapping ([`swap_mapping_fix`], on uncoalesced
//!   accesses) — a suggestion: the launch's grid must change with it;
//! * interleave a pure-map loop across threads, `t*K + k` →
//!   `k * (gridDim.x * blockDim.x) + t` ([`super::pure_map::fix`], on the
//!   uncoalesced accesses of a loop where each thread walks its own chunk) —
//!   a suggestion: it assumes every thread runs the loop, each element's
//!   result depends only on that element and the arrays do not overlap.
//!
//! The pad and the interleave are offered only when re-running the
//! interpreter on the changed kernel shows that they remove the cost.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use cudalens_syntax::fingerprint::FastHashMap;

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{Axis, Builtin, Expr, ExprKind};
use cudalens_syntax::model::Function;

use super::cost::{
    WarpCost, fill_warp_lanes, fmt_num, global_cost_with_gcd, shared_cost, shared_cost_with_gcd,
    warp_lanes,
};
use super::eval::{AccessEvent, Interp};
use super::lanes::Symbols;
use super::probe;
use super::render::render_expr;
use super::verdict::{global_severity, shared_severity, waste};
use super::{AccessKind, AccessReport, MemorySpace};
use crate::context::KernelContext;
use crate::diagnostic::{Diagnostic, Edit, Fix, Span};
use crate::rules::bank_conflict::CODE as BANK_CONFLICT;
use crate::rules::uncoalesced_access::CODE as UNCOALESCED_ACCESS;
use cudalens_syntax::divergence::ThreadDependence;

#[derive(Default)]
struct Stats {
    root: String,
    bytes: u32,
    requests: f64,
    requests_exact: bool,
    /// See `AccessEvent::first_iteration_only`.
    first_iteration_only: bool,
    sectors: f64,
    /// `sectors` averaged over the alignments a runtime offset could take.
    sectors_any_alignment: f64,
    ideal_sectors: f64,
    worst_sectors: f64,
    ways: f64,
    worst_ways: u32,
    worst_wavefronts: u32,
    worst_bank: u32,
    worst_all_one_bank: bool,
    wavefronts: f64,
    ideal_wavefronts: f64,
    alignment_dependent: bool,
    symbolic_stride: bool,
    /// Adjacent lanes are apart by a name cudalens could not resolve that is
    /// not a runtime value (`x128::size`, an uninstantiated template
    /// parameter, an unknown macro): the stride is unknown, so no verdict.
    unknown_stride: bool,
    /// The address has a runtime element offset (`a[x + t]`, `t` a
    /// parameter or a loaded value): where it puts the warp's data in its
    /// sector is unknowable, so a contiguous access's misalignment is too.
    runtime_offset: bool,
    /// A launch passes the buffer as an address past the start of its
    /// allocation (`buf + padding`): where the warp's data starts within a
    /// sector is unknown, so a contiguous access's misalignment is too.
    base_offset_unknown: bool,
    /// The count is the average over the alignments a block index (or a
    /// loop's iteration) shifts the warp's data through.
    averaged_over_blocks: bool,
    /// The device functions inlined to reach the access (see `AccessEvent::chain`).
    chain: Vec<(String, Span)>,
    /// See `AccessEvent::chain_in_file`.
    chain_in_file: Vec<bool>,
    /// See `AccessEvent::text`.
    text: Option<String>,
    /// A field of a struct element (see `PtrVal::record`).
    record_field: bool,
    block: [u32; 3],
    block_assumed: bool,
    /// Why the block size is assumed (see `KernelContext::unresolved_block_reason`).
    block_reason: Option<String>,
    index: Option<Expr>,
    /// How far apart adjacent lanes are, rendered (`NY floats`, `33 floats`).
    lane_stride: Option<String>,
    /// How far apart the rows of a warp are when the block is narrower than 32.
    row_stride: Option<String>,
    /// Adjacent lanes are exactly one element apart.
    unit_stride: bool,
    /// Byte offset of the first active lane within its 32-byte sector.
    misalignment: Option<i64>,
    /// Active lanes of the first warp (fewer than 32 under a condition).
    min_active_lanes: usize,
    /// Times the access was evaluated (loop iterations), for messages.
    evaluations: u64,
}

/// An access, and the calls that reach it from the kernel (empty in the
/// kernel itself): a device function called from several places is judged
/// once per call, each with its own arguments (llm.c's `st_vec` stores to
/// `__shared__` tiles at two calls and to the output at a third; merged,
/// the three read as one global store, its note at a shared call).
type Key = (Span, AccessKind, Vec<Span>);

fn key_of(ev: &AccessEvent) -> Key {
    let calls = ev.chain.iter().map(|(_, at)| *at).collect();
    (ev.span, ev.kind, calls)
}

/// Per-access statistics of one file's accesses, and which record loads
/// are read whole (see [`records_read_whole`]).
#[derive(Default)]
struct Tally {
    stats: BTreeMap<Key, Stats>,
    records_whole: BTreeMap<Key, bool>,
}

impl Tally {
    fn add(
        &mut self,
        events: &[AccessEvent],
        syms: &Symbols,
        ctx: &KernelContext,
        reason: &dyn Fn(&KernelContext) -> String,
        runtime: &dyn Fn(&str) -> bool,
        offset_base: &dyn Fn(&str) -> bool,
    ) {
        for (ev, whole) in events.iter().zip(records_read_whole(events)) {
            if let Some(whole) = whole {
                *self.records_whole.entry(key_of(ev)).or_insert(true) &= whole;
            }
            accumulate(&mut self.stats, ev, syms, ctx, reason);
            if let Some(s) = self.stats.get_mut(&key_of(ev)) {
                s.unknown_stride |= unknown_stride(ev, syms, runtime);
                s.runtime_offset |= runtime_offset(ev, syms);
                s.base_offset_unknown |= offset_base(&ev.root);
            }
        }
    }
}

/// The accesses' reports, and their diagnostics; plus the findings inside
/// functions of other files (headers) that the kernel reaches.
pub type Analysis = (
    Vec<AccessReport>,
    Vec<Diagnostic>,
    Vec<crate::diagnostic::ElsewhereFinding>,
);

pub fn analyze(
    model: &FileModel,
    source: &str,
    kernel: &Function,
    contexts: &[KernelContext],
) -> Analysis {
    let mut here = Tally::default();
    let mut elsewhere: BTreeMap<Arc<Path>, Tally> = BTreeMap::new();
    let file_env = model.const_env();
    // Asked once per access; the line of a launch is counted once.
    let reasons: std::cell::RefCell<HashMap<usize, String>> = Default::default();
    let here_reason = |ctx: &KernelContext| {
        let launch = ctx.launch.map_or(0, |l| std::ptr::from_ref(l) as usize);
        reasons
            .borrow_mut()
            .entry(launch)
            .or_insert_with(|| ctx.unresolved_block_reason(source))
            .clone()
    };
    // A header's finding cannot name this file's lines: it names the kernel.
    let elsewhere_reason = |ctx: &KernelContext| match ctx.launch {
        Some(_) => format!("kernel `{}`'s launch sets it at run time", kernel.name),
        None => format!("no launch of kernel `{}` resolves it", kernel.name),
    };
    // Shared accesses whose index a run-time value decides, and the first
    // configuration that met them (see `probe`).
    let mut unknown_shared: HashSet<Span> = HashSet::new();
    let mut probed_ctx: Option<&KernelContext> = None;
    for ctx in contexts {
        let tenv = ctx.env(&file_env);
        let env = kernel.const_env(&tenv);
        let mut interp = Interp::new(model, env, ctx);
        interp.run(kernel);
        if !interp.unknown_shared.is_empty() && !interp.exhausted() {
            unknown_shared.extend(interp.unknown_shared.drain(..));
            probed_ctx.get_or_insert(ctx);
        }
        let events = std::mem::take(&mut interp.events);
        let runtime = |name: &str| is_runtime_value(kernel, name);
        let offset_base = |root: &str| passed_at_offset(kernel, ctx, root);
        here.add(
            &events,
            &interp.syms,
            ctx,
            &here_reason,
            &runtime,
            &offset_base,
        );
        let mut by_file: BTreeMap<Arc<Path>, Vec<AccessEvent>> = BTreeMap::new();
        for ev in std::mem::take(&mut interp.foreign_events) {
            if let Some(file) = ev.file.clone() {
                by_file.entry(file).or_default().push(ev);
            }
        }
        for (file, events) in by_file {
            let tally = elsewhere.entry(file).or_default();
            tally.add(
                &events,
                &interp.syms,
                ctx,
                &elsewhere_reason,
                &runtime,
                &offset_base,
            );
        }
    }
    let td = ThreadDependence::of(kernel);
    let judge = Judge {
        model,
        source,
        kernel,
        contexts,
        td: &td,
    };
    let (reports, diags) = judge.findings(&here, None);
    let mut diags: Vec<Diagnostic> = diags.into_iter().map(|(d, _)| d).collect();
    if let Some(ctx) = probed_ctx {
        diags.extend(conflicts_by_parameter(
            model,
            source,
            kernel,
            ctx,
            &unknown_shared,
        ));
    }
    let mut found_elsewhere = Vec::new();
    for (file, tally) in &elsewhere {
        let (_, diags) = judge.findings(tally, Some(file));
        found_elsewhere.extend(diags.into_iter().map(|(diagnostic, entry)| {
            crate::diagnostic::ElsewhereFinding {
                file: file.clone(),
                diagnostic,
                entries: entry.into_iter().collect(),
            }
        }));
    }
    (reports, diags, found_elsewhere)
}

/// Whether a symbol of the interpreter stands for a value set at run time:
/// a kernel parameter, `blockIdx`/`gridDim`, or a runtime byte count in
/// elements (`Interp::bytes_to_elements`).
fn is_runtime_value(kernel: &Function, name: &str) -> bool {
    let name = name
        .split_once(" / sizeof(")
        .map_or(name, |(bytes, _)| bytes);
    name.starts_with("blockIdx.")
        || name.starts_with("gridDim.")
        || kernel.params.iter().any(|p| p.name == name)
}

/// Whether `ctx`'s launch passes the buffer `root` at an offset into its
/// allocation.
fn passed_at_offset(kernel: &Function, ctx: &KernelContext, root: &str) -> bool {
    ctx.launch.is_some_and(|l| {
        kernel
            .params
            .iter()
            .zip(&l.offset_args)
            .any(|(p, &offset)| offset && p.ty.pointer > 0 && p.name == root)
    })
}

/// Notes for the shared accesses of `unknown` (whose index did not
/// evaluate under `ctx`) that conflict for some values of one unknown
/// integer argument (see `probe.rs`).
fn conflicts_by_parameter(
    model: &FileModel,
    source: &str,
    kernel: &Function,
    ctx: &KernelContext,
    unknown: &HashSet<Span>,
) -> Vec<Diagnostic> {
    let file_env = model.const_env();
    let td = ThreadDependence::of(kernel);
    let mut out = Vec::new();
    // All the runs together get two runs' budget: an edit of a costly
    // kernel must not pay 22 of them.
    let mut spent = 0.0;
    for param in probe::candidates(kernel, ctx) {
        // Per access: the finding at each value that conflicts, and the
        // values it was evaluated at.
        let mut flagged: BTreeMap<Span, Vec<(i128, Diagnostic)>> = BTreeMap::new();
        let mut evaluated: BTreeMap<Span, Vec<i128>> = BTreeMap::new();
        for (value, probe) in probe::configurations(ctx, param) {
            let tenv = probe.env(&file_env);
            let env = kernel.const_env(&tenv);
            let mut interp = Interp::new(model, env, &probe);
            interp.run(kernel);
            spent += interp.work_share();
            if interp.exhausted() || spent > probe::WORK_SHARE {
                // This argument's values are not all tried: none is told.
                return out;
            }
            let events: Vec<_> = std::mem::take(&mut interp.events)
                .into_iter()
                .filter(|e| e.space == MemorySpace::Shared && unknown.contains(&e.span))
                .collect();
            let mut tally = Tally::default();
            tally.add(
                &events,
                &interp.syms,
                &probe,
                &|c| c.unresolved_block_reason(source),
                &|name| is_runtime_value(kernel, name),
                &|root| passed_at_offset(kernel, &probe, root),
            );
            let contexts = [probe];
            let judge = Judge {
                model,
                source,
                kernel,
                contexts: &contexts,
                td: &td,
            };
            let (reports, diags) = judge.findings(&tally, None);
            for r in &reports {
                evaluated.entry(r.span).or_default().push(value);
            }
            for (d, _) in diags {
                if d.code == BANK_CONFLICT {
                    flagged.entry(d.span).or_default().push((value, d));
                }
            }
        }
        for (span, hits) in flagged {
            let values: Vec<i128> = hits.iter().map(|(v, _)| *v).collect();
            let clean: Vec<i128> = (evaluated.get(&span).into_iter().flatten())
                .copied()
                .filter(|v| !values.contains(v))
                .collect();
            if let Some((first, d)) = hits.into_iter().next() {
                out.push(probe::conditional_note(d, param, first, &values, &clean));
            }
        }
        if !out.is_empty() {
            // One argument explains them; a second would repeat them.
            break;
        }
    }
    out
}

/// What judging an access needs besides its statistics.
struct Judge<'a> {
    model: &'a FileModel,
    source: &'a str,
    kernel: &'a Function,
    contexts: &'a [KernelContext<'a>],
    td: &'a ThreadDependence,
}

impl Judge<'_> {
    /// The reports of a file's accesses and the diagnostics of the wasteful
    /// ones (`elsewhere`: the accesses are in that file, a header).
    fn findings(
        &self,
        tally: &Tally,
        elsewhere: Option<&Arc<Path>>,
    ) -> (
        Vec<AccessReport>,
        Vec<(Diagnostic, Option<crate::diagnostic::Entry>)>,
    ) {
        let kernel = self.kernel;
        let made: Vec<(AccessReport, &Stats, &Key)> = (tally.stats.iter())
            .filter(|(_, s)| s.requests > 0.0)
            .map(|(key, s)| (to_report(kernel, key.0, key.1, s), s, key))
            .collect();
        // Arrays the kernel also reads or writes contiguously at a sector
        // boundary: a neighbour of such an access (a stencil's `j - 1`) touches
        // the same sectors plus one the next access needs anyway, served by L1.
        let aligned: HashSet<&str> = made
            .iter()
            .filter(|(r, s, _)| {
                r.space == MemorySpace::Global
                    && s.unit_stride
                    && s.misalignment == Some(0)
                    && s.min_active_lanes >= 32
            })
            .map(|(_, s, _)| s.root.as_str())
            .collect();
        let mut diags = Vec::new();
        for (report, s, key) in &made {
            let neighbour = report.space == MemorySpace::Global
                && s.unit_stride
                && s.min_active_lanes >= 32
                && s.misalignment.is_some_and(|m| m != 0)
                && aligned.contains(s.root.as_str());
            let whole_records = (tally.records_whole.get(*key)).copied().unwrap_or(false);
            if neighbour || whole_records {
                continue;
            }
            if elsewhere.is_some() && !judged_in_a_header(s) {
                continue;
            }
            let made = diagnostic(self, report, s, elsewhere.is_some());
            if let Some(d) = made {
                diags.push(match elsewhere {
                    None => (with_call_chain(d, kernel, &s.chain), None),
                    Some(file) => {
                        // Unless the way in is known, the finding is not made.
                        let Some(entry) = entry_of(self.model, kernel, file, s) else {
                            continue;
                        };
                        (with_call_chain_in_file(d, kernel, s), Some(entry))
                    }
                });
            }
        }
        (made.into_iter().map(|(r, _, _)| r).collect(), diags)
    }
}

/// For each event: `None` unless it is a global load of a field of a struct
/// element (`x->d`, `q[l]` with `q = x->qs + 4 * il`); then whether, in every
/// warp, lanes share records and the loads of the same array's structs in
/// this run use at least 85 % (the waste threshold) of the bytes of every
/// sector this load touches.
/// The sectors are then fetched once and the warp's other loads of each
/// struct hit them in L1: an array of small fixed-format records read whole
/// (ggml's 18-byte quantised blocks) moves no byte it does not use, however
/// many sectors each single field load spans.
fn records_read_whole(events: &[AccessEvent]) -> Vec<Option<bool>> {
    use super::cost::SECTOR_BYTES;
    use super::verdict::WASTE_THRESHOLD;
    /// Lane-bytes visited at most per kernel run (the rest is judged "no").
    const BUDGET: usize = 2_000_000;
    let is_record_load = |e: &AccessEvent| {
        e.record > 0 && e.space == MemorySpace::Global && e.kind == AccessKind::Load
    };
    let mut budget = BUDGET;
    let mut out = vec![None; events.len()];
    let mut lanes = Vec::with_capacity(32);
    for (i, e) in events.iter().enumerate() {
        if !is_record_load(e) {
            continue;
        }
        out[i] = Some(false);
        if !e.address.lane_varying_symbols().is_empty() || e.element_bytes == 0 {
            continue;
        }
        // The loads of the same structs, at a known distance from this one in every thread.
        let peers: Vec<(&AccessEvent, super::lanes::Poly)> = events
            .iter()
            .filter(|f| is_record_load(f) && f.root == e.root && f.record == e.record)
            .filter_map(|f| {
                let d = f.address.sub(&e.address)?;
                d.is_concrete().then_some((f, d))
            })
            .collect();
        let at = |t: usize| e.address.concrete().map_or(0, |l| l.get(t));
        let n = e.active.len();
        let bytes = i64::from(e.element_bytes);
        let mut whole = true;
        for w in 0..n.div_ceil(32) {
            fill_warp_lanes(w, &e.active, &mut lanes);
            if lanes.is_empty() {
                continue;
            }
            // The lanes share records (two of them less than a record apart):
            // the thread mapping already spreads each record over the warp.
            // One record per thread, each read whole field by field, is the
            // array-of-structs pattern a vector load or SoA fixes: reported.
            let mut starts: Vec<i64> = lanes.iter().map(|&t| at(t)).collect();
            starts.sort_unstable();
            let record = i64::try_from(e.record).unwrap_or(i64::MAX);
            if !starts.windows(2).any(|w| w[1] - w[0] < record) {
                whole = false;
                break;
            }
            // Each sector this load touches, with the bytes the warp uses of it.
            let mut used: FastHashMap<i64, u32> = FastHashMap::default();
            for &t in &lanes {
                let c = at(t);
                for sector in c.div_euclid(SECTOR_BYTES)..=(c + bytes - 1).div_euclid(SECTOR_BYTES)
                {
                    used.insert(sector, 0);
                }
            }
            for (f, d) in &peers {
                let fbytes = i64::from(f.element_bytes);
                for t in w * 32..((w + 1) * 32).min(n) {
                    if !f.active.get(t).copied().unwrap_or(false) {
                        continue;
                    }
                    budget = budget.saturating_sub(fbytes as usize);
                    let start = at(t) + d.value(t).unwrap_or(0);
                    for p in start..start + fbytes {
                        if let Some(m) = used.get_mut(&p.div_euclid(SECTOR_BYTES)) {
                            *m |= 1 << p.rem_euclid(SECTOR_BYTES);
                        }
                    }
                }
            }
            let used_bytes: u32 = used.values().map(|m| m.count_ones()).sum();
            let fetched = used.len() as f64 * SECTOR_BYTES as f64;
            if budget == 0 || f64::from(used_bytes) < (1.0 - WASTE_THRESHOLD) * fetched {
                whole = false;
                break;
            }
        }
        out[i] = Some(whole);
    }
    out
}

fn accumulate(
    stats: &mut BTreeMap<Key, Stats>,
    ev: &AccessEvent,
    syms: &Symbols,
    ctx: &KernelContext,
    reason: &dyn Fn(&KernelContext) -> String,
) {
    let n = ev.active.len();
    let s = stats.entry(key_of(ev)).or_insert_with(|| Stats {
        requests_exact: true,
        ..Stats::default()
    });
    s.requests_exact &= ev.weight_exact;
    s.first_iteration_only |= ev.first_iteration_only;
    s.root = ev.root.clone();
    s.bytes = ev.element_bytes;
    s.block = ctx.block;
    s.block_assumed |= ctx.block_source.assumed();
    if ctx.block_source.assumed() && s.block_reason.is_none() {
        s.block_reason = Some(reason(ctx));
    }
    s.evaluations += 1;
    if s.index.is_none() {
        s.index = ev.index.clone();
    }
    if s.text.is_none() {
        s.text = ev.text.clone();
    }
    s.record_field |= ev.record > 0;
    if s.chain.is_empty() {
        s.chain_in_file = ev.chain_in_file.clone();
        s.chain = ev.chain.clone();
    }
    // How uniform values can shift the addresses (spans the whole block).
    let g = ev.address.symbolic_gcd();
    let shift_averages = shifts_only_by_block_and_iteration(ev, syms);
    if s.lane_stride.is_none() {
        s.lane_stride = lane_stride(ev, syms, ctx.block[0]);
        s.row_stride = row_stride(ev, syms, ctx.block[0]);
        s.unit_stride = unit_stride(ev, ctx.block[0]);
        let first = ev.active.iter().position(|a| *a);
        // Runtime parts of the address count as sector-aligned (see `global_cost_with_gcd`).
        s.misalignment =
            first.map(|t| ev.address.concrete().map_or(0, |l| l.get(t)).rem_euclid(32));
        s.min_active_lanes = 32;
    }
    let mut by_pattern = WarpPatterns::new(ev);
    let mut lanes = Vec::with_capacity(32);
    for w in 0..n.div_ceil(32) {
        fill_warp_lanes(w, &ev.active, &mut lanes);
        if !lanes.is_empty() {
            s.min_active_lanes = s.min_active_lanes.min(lanes.len());
        }
        let cost = by_pattern.cost(&lanes, |lanes| match ev.space {
            MemorySpace::Global => global_cost_with_gcd(&ev.address, lanes, ev.element_bytes, g),
            MemorySpace::Shared => shared_cost_with_gcd(&ev.address, lanes, ev.element_bytes, g),
        });
        let Some(cost) = cost else { continue };
        let w = ev.weight;
        s.requests += w;
        match cost {
            WarpCost::Global {
                sectors,
                ideal,
                alignment_dependent,
                sectors_any_alignment,
                symbolic_stride,
            } => {
                // A shift only by block indices and loop iterations with
                // known coefficients takes every alignment in turn (llm.c's
                // softmax rows of V = 50,257 floats: 18% of the sectors
                // excessive by ncu): the average is what the grid costs.
                let sectors = if shift_averages {
                    sectors_any_alignment
                } else {
                    sectors
                };
                s.sectors += w * sectors;
                s.sectors_any_alignment += w * sectors_any_alignment;
                s.ideal_sectors += w * ideal as f64;
                s.worst_sectors = s.worst_sectors.max(sectors);
                s.alignment_dependent |= alignment_dependent && !shift_averages;
                s.averaged_over_blocks |= alignment_dependent && shift_averages;
                s.symbolic_stride |= symbolic_stride;
            }
            WarpCost::Shared {
                ways,
                wavefronts,
                ideal_wavefronts,
                bank,
                all_lanes_one_bank,
            } => {
                s.ways += w * ways as f64;
                s.wavefronts += w * wavefronts as f64;
                s.ideal_wavefronts += w * ideal_wavefronts as f64;
                s.worst_wavefronts = s.worst_wavefronts.max(wavefronts);
                if ways > s.worst_ways {
                    s.worst_ways = ways;
                    s.worst_bank = bank;
                    s.worst_all_one_bank = all_lanes_one_bank;
                }
            }
        }
    }
}

/// Costs of one access's warps, computed once per distinct pattern: warps
/// whose lanes' addresses differ only by a translation that cannot change the
/// cost (a multiple of a sector for global memory, of all 32 banks for shared
/// memory, so the reported bank is the same too) cost the same. A 1024-thread
/// block of `a[blockIdx.x * blockDim.x + threadIdx.x]` is one pattern, not 32.
struct WarpPatterns<'e> {
    ev: &'e AccessEvent,
    /// Only addresses whose symbolic part is uniform: then the concrete part
    /// alone decides the cost.
    enabled: bool,
    unit: i64,
    seen: FastHashMap<(Vec<i64>, Vec<u8>), Option<WarpCost>>,
}

impl<'e> WarpPatterns<'e> {
    fn new(ev: &'e AccessEvent) -> Self {
        WarpPatterns {
            ev,
            enabled: ev.address.lane_varying_symbols().is_empty(),
            unit: match ev.space {
                MemorySpace::Global => super::cost::SECTOR_BYTES,
                MemorySpace::Shared => 4 * super::cost::BANKS,
            },
            seen: FastHashMap::default(),
        }
    }

    fn cost(
        &mut self,
        lanes: &[usize],
        compute: impl Fn(&[usize]) -> Option<WarpCost>,
    ) -> Option<WarpCost> {
        let Some(&first) = lanes.first() else {
            return compute(lanes);
        };
        if !self.enabled {
            return compute(lanes);
        }
        let concrete = self.ev.address.concrete();
        let at = |t: usize| concrete.map_or(0, |l| l.get(t));
        let base = at(first).div_euclid(self.unit) * self.unit;
        let key = (
            lanes.iter().map(|&t| at(t) - base).collect(),
            lanes.iter().map(|&t| (t % 32) as u8).collect(),
        );
        *self.seen.entry(key).or_insert_with(|| compute(lanes))
    }
}

/// Whether adjacent lanes access adjacent elements.
fn unit_stride(ev: &AccessEvent, block_x: u32) -> bool {
    let Some(t0) = ev.active.iter().position(|a| *a) else {
        return false;
    };
    let t1 = t0 + 1;
    if block_x < 2 || t1 >= ev.active.len() {
        return false;
    }
    ev.address.terms.iter().all(|(m, l)| {
        let d = l.get(t1) - l.get(t0);
        if m.is_empty() {
            d == ev.element_bytes as i64
        } else {
            d == 0
        }
    })
}

/// Whether lanes of the access are apart by a symbol that is not a runtime
/// value (a kernel parameter, `blockIdx`, `gridDim`): one cudalens failed to
/// resolve, whose size is unknown.
fn unknown_stride(ev: &AccessEvent, syms: &Symbols, runtime: &dyn Fn(&str) -> bool) -> bool {
    let first = ev.active.iter().position(|a| *a);
    let Some(t0) = first else { return false };
    ev.address.terms.iter().any(|(m, l)| {
        !m.is_empty()
            && (t0..ev.active.len()).any(|t| ev.active[t] && l.get(t) != l.get(t0))
            && m.iter().any(|s| !runtime(syms.name(*s)))
    })
}

/// Whether the address adds a runtime value times a constant that is not a
/// whole number of sectors (`a[x + 1 + t]`: 4 bytes times `t`), other than a
/// block index (whose shift averages over the grid's blocks) or a loop's
/// iteration: see `Stats::runtime_offset`. A row pitch (`y * width`, the
/// coefficient varies with the thread or multiplies another symbol) is
/// counted as sector-aligned instead (`global_cost_with_gcd`).
fn runtime_offset(ev: &AccessEvent, syms: &Symbols) -> bool {
    // Symbols that also scale a row (`cols * by`, `width * threadIdx.y`) are
    // pitches, counted as aligned, even where they are also added alone
    // (`a[cols * (by + 1) + x + 1]`: one row down, then one element late).
    let pitches: Vec<super::lanes::Sym> = ev
        .address
        .terms
        .iter()
        .filter(|(m, l)| m.len() > 1 || (m.len() == 1 && !l.is_uniform()))
        .flat_map(|(m, _)| m.iter().copied())
        .collect();
    ev.address.terms.iter().any(|(m, l)| {
        m.len() == 1
            && !pitches.contains(&m[0])
            && matches!(l, super::lanes::Lanes::Same(c) if c % super::cost::SECTOR_BYTES != 0)
            && !syms.is_counter(m[0])
    })
}

/// Whether every uniform part of the address is a block index, a grid size
/// or a loop's iteration times a known number of bytes: each takes every
/// value in turn, so the alignments the shift gives are known and the
/// average over them is the cost (not an assumption). A part that moves
/// the address by whole sectors only (a grid-stride loop's `i += gridDim.x *
/// blockDim.x` over floats) cannot change an alignment and is left aside.
fn shifts_only_by_block_and_iteration(ev: &AccessEvent, syms: &Symbols) -> bool {
    let whole_sectors = |l: &super::lanes::Lanes| matches!(l, super::lanes::Lanes::Same(c) if c % super::cost::SECTOR_BYTES == 0);
    ev.address.terms.iter().all(|(m, l)| {
        m.is_empty()
            || whole_sectors(l)
            || (m.len() == 1 && l.is_uniform() && syms.is_counter(m[0]))
    })
}

/// How far apart adjacent lanes of the first active warp are, as a phrase
/// ("adjacent threads are 33 floats apart").
fn lane_stride(ev: &AccessEvent, syms: &Symbols, block_x: u32) -> Option<String> {
    let (t0, t1) = lane_pair(ev, block_x)?;
    let who = if t1 > t0 + 1 {
        "adjacent active threads"
    } else {
        "adjacent threads"
    };
    Some(match render_stride(ev, syms, t0, t1) {
        Some(stride) => format!("{who} are {stride} apart"),
        None => format!("{who} use the same address"),
    })
}

/// The first active thread and the next active one of its warp in the same
/// row (equal `threadIdx.y` and `z`): two lanes only `threadIdx.x` separates.
fn lane_pair(ev: &AccessEvent, block_x: u32) -> Option<(usize, usize)> {
    if block_x < 2 {
        return None;
    }
    let bx = block_x as usize;
    let t0 = ev.active.iter().position(|a| *a)?;
    let warp_end = ((t0 / 32 + 1) * 32).min(ev.active.len());
    let row_end = ((t0 / bx + 1) * bx).min(warp_end);
    let t1 = (t0 + 1..row_end).find(|&t| ev.active[t])?;
    Some((t0, t1))
}

/// How far apart the rows of `threadIdx.x` one warp covers are, when the
/// block is narrower than a warp and the first two rows are active.
fn row_stride(ev: &AccessEvent, syms: &Symbols, block_x: u32) -> Option<String> {
    let bx = block_x as usize;
    if !(1..32).contains(&bx) {
        return None;
    }
    let t0 = ev.active.iter().position(|a| *a)?;
    let t1 = t0 + bx;
    if t1 / 32 != t0 / 32 || !ev.active.get(t1).copied().unwrap_or(false) {
        return None;
    }
    render_stride(ev, syms, t0, t1)
}

/// The address difference between threads `t0` and `t1`, in elements where
/// it divides (`NY floats`, `1 short`, `2*N + 1 floats`); `None` when equal.
fn render_stride(ev: &AccessEvent, syms: &Symbols, t0: usize, t1: usize) -> Option<String> {
    let bytes = ev.element_bytes.max(1) as i64;
    let mut parts = Vec::new();
    for (m, l) in &ev.address.terms {
        let d = l.get(t1) - l.get(t0);
        if d == 0 {
            continue;
        }
        let names: Vec<&str> = m.iter().map(|s| syms.name(*s)).collect();
        parts.push((d, names.join("*")));
    }
    if parts.is_empty() {
        return None;
    }
    let divisible = parts.iter().all(|(d, _)| d % bytes == 0);
    let rendered: Vec<String> = parts
        .iter()
        .map(|(d, name)| {
            let d = if divisible { d / bytes } else { *d };
            match (d, name.is_empty()) {
                (_, true) => d.to_string(),
                (1, false) => name.clone(),
                _ => format!("{d}*{name}"),
            }
        })
        .collect();
    let one = rendered.len() == 1 && rendered[0] == "1";
    let unit = match (divisible, one) {
        (true, false) => plural(&ev.element_type),
        (true, true) => singular(&ev.element_type),
        (false, false) => "bytes".to_string(),
        (false, true) => "byte".to_string(),
    };
    Some(format!("{} {unit}", rendered.join(" + ")))
}

/// `float`, `unsigned int`, `pointer`, `` `Point` element``.
fn singular(ty: &str) -> String {
    match ty {
        "float" | "double" | "int" | "char" | "short" | "half" | "float2" | "float4" | "int2"
        | "int4" | "double2" | "unsigned int" => ty.to_string(),
        "" => "element".into(),
        pointer if pointer.ends_with('*') => "pointer".into(),
        other => format!("`{other}` element"),
    }
}

/// `floats`, `doubles`, `Point elements`.
fn plural(ty: &str) -> String {
    match ty {
        "float" | "double" | "int" | "char" | "short" | "half" | "float2" | "float4" | "int2"
        | "int4" | "double2" => format!("{ty}s"),
        "unsigned int" => "unsigned ints".into(),
        "" => "elements".into(),
        pointer if pointer.ends_with('*') => "pointers".into(),
        other => format!("`{other}` elements"),
    }
}

fn to_report(kernel: &Function, span: Span, kind: AccessKind, s: &Stats) -> AccessReport {
    let r = s.requests;
    let global = s.ideal_sectors > 0.0;
    AccessReport {
        kernel: kernel.name.as_str().into(),
        span,
        space: if global {
            MemorySpace::Global
        } else {
            MemorySpace::Shared
        },
        kind,
        array: s.root.as_str().into(),
        element_bytes: s.bytes,
        sectors_per_request: global.then(|| s.sectors / r),
        ideal_sectors: global.then(|| s.ideal_sectors / r),
        bank_conflict_ways: (!global).then(|| s.wavefronts / r),
        worst_bank_conflict_ways: (!global).then_some(s.worst_wavefronts),
        ideal_wavefronts: (!global).then(|| s.ideal_wavefronts / r),
        requests_per_block: s.requests,
        requests_exact: s.requests_exact,
        block: s.block,
        block_assumed: s.block_assumed,
        symbolic_stride: s.symbolic_stride,
        alignment_dependent: s.alignment_dependent,
    }
}

fn kind_word(kind: AccessKind) -> &'static str {
    match kind {
        AccessKind::Load => "load",
        AccessKind::Store => "store",
        AccessKind::Atomic => "atomic",
    }
}

fn block_note(s: &Stats) -> String {
    if s.block_assumed {
        let [x, y, z] = s.block;
        let reason = s.block_reason.as_deref().unwrap_or("no launch resolves it");
        format!(" (block size assumed {x}×{y}×{z}: {reason})")
    } else {
        String::new()
    }
}

/// Says that a count stands for a loop's first iteration only.
fn first_iteration_note(s: &Stats) -> &'static str {
    match s.first_iteration_only {
        true => {
            "; judged in the first iteration of a loop whose bound is a run-time value (later iterations are not judged)"
        }
        false => "",
    }
}

fn diagnostic(j: &Judge, r: &AccessReport, s: &Stats, elsewhere: bool) -> Option<Diagnostic> {
    let (model, source, kernel, contexts, td) = (j.model, j.source, j.kernel, j.contexts, j.td);
    // An access in another file: its text is not in `source`; fixes and
    // the kernel's variables would be edits and spans in the wrong file.
    let access_text = match elsewhere {
        false => r.span.text(source),
        true => s.text.as_deref().unwrap_or("this access"),
    };
    if s.unknown_stride {
        // What cannot be known is not claimed (hover still shows the count).
        return None;
    }
    if s.unit_stride && s.alignment_dependent && s.runtime_offset {
        // A contiguous access whose only excess is the alignment of a
        // runtime offset: unknowable, not claimed.
        return None;
    }
    if s.unit_stride && s.base_offset_unknown && !s.averaged_over_blocks {
        // Its misalignment is set by the offset the host adds to the
        // buffer (the CUDA samples' FDTD3d pads it so that the reads align).
        return None;
    }
    match r.space {
        MemorySpace::Global => {
            let (sectors, ideal) = (r.sectors_per_request?, r.ideal_sectors?);
            let severity = global_severity(&waste(sectors, ideal)?);
            let mut msg = format!(
                "uncoalesced global {}: {}{} sectors per warp request (ideal {})",
                kind_word(r.kind),
                if s.symbolic_stride { "up to " } else { "" },
                fmt_num(sectors),
                fmt_num(ideal)
            );
            if s.unit_stride && s.min_active_lanes < 32 {
                msg.push_str(&format!(
                    " — only {} of 32 lanes are active under a thread-dependent condition, so fetched sectors are partly unused",
                    s.min_active_lanes
                ));
            } else if s.unit_stride && s.averaged_over_blocks {
                msg.push_str(
                    " — threads are contiguous, but where a block's data starts moves by a number of bytes that is not a multiple of 32 from block to block, so most warps straddle one more sector (averaged over the blocks)",
                );
            } else if s.unit_stride && s.misalignment.is_some_and(|m| m != 0) {
                msg.push_str(&format!(
                    " — threads are contiguous but the warp's data starts {} bytes into a 32-byte sector (misaligned)",
                    s.misalignment.unwrap_or(0)
                ));
            } else if s.unit_stride
                && let Some(rows) = &s.row_stride
            {
                let [x, y, z] = s.block;
                let n = (32 / x.max(1)).min(y.saturating_mul(z)).max(2);
                msg.push_str(&format!(
                    " — threads are contiguous along x, but each warp spans {n} rows of {x} threads, {rows} apart"
                ));
            } else if let Some(phrase) = &s.lane_stride {
                msg.push_str(&format!(" — {phrase}"));
            } else if s.min_active_lanes < 32 {
                msg.push_str(&format!(
                    " — only {} of 32 lanes are active under a thread-dependent condition",
                    s.min_active_lanes
                ));
            }
            let carriers = match elsewhere {
                false => index_carriers(kernel, td, s.index.as_ref()),
                true => Vec::new(),
            };
            if let Some((_, text)) = carriers.first() {
                msg.push_str(&format!(" (through {text})"));
            }
            if s.alignment_dependent {
                msg.push_str(&format!(
                    "; counted with the runtime part of the address 32-byte aligned ({} on average if it is not)",
                    fmt_num(s.sectors_any_alignment / s.requests)
                ));
            }
            msg.push_str(first_iteration_note(s));
            msg.push_str(&block_note(s));
            let mut d = Diagnostic::new(r.span, severity, UNCOALESCED_ACCESS, msg);
            for (span, text) in carriers {
                d = d.with_related(span, format!("{text} varies with threadIdx"));
            }
            if elsewhere {
                return Some(d);
            }
            if let Some(fix) = swap_mapping_fix(kernel, source, s.index.as_ref()) {
                d = d.with_fix(fix);
            }
            let before = format!(
                "{}{}",
                if s.symbolic_stride { "up to " } else { "" },
                fmt_num(sectors)
            );
            if let Some(fix) =
                super::pure_map::fix(model, source, kernel, contexts, r.span, &before)
            {
                d = d.with_fix(fix);
            }
            Some(d)
        }
        MemorySpace::Shared => {
            let (wf, ideal) = (r.bank_conflict_ways?, r.ideal_wavefronts?);
            waste(wf, ideal)?;
            // "N-way" as a programmer means it: distinct words on the busiest bank.
            let ways = s.ways / s.requests;
            let worst = s.worst_ways;
            let severity = shared_severity(ways);
            let head = if (ways - worst as f64).abs() < 0.01 {
                format!("{worst}-way shared-memory bank conflict")
            } else if s.first_iteration_only {
                format!(
                    "shared-memory bank conflict: worst {worst}-way, {}-way on average",
                    fmt_num(ways)
                )
            } else {
                format!(
                    "shared-memory bank conflict: worst {worst}-way, {}-way on average over the loop's {} requests",
                    fmt_num(ways),
                    fmt_num(s.requests)
                )
            };
            let detail = if s.worst_all_one_bank {
                format!("every lane of the warp hits bank {}", s.worst_bank)
            } else {
                format!("bank {} serves {worst} different words", s.worst_bank)
            };
            let msg = format!(
                "{head} on {} of {access_text}: {detail} ({} wavefronts per request, ideal {}){}{}",
                kind_word(r.kind),
                fmt_num(wf),
                fmt_num(ideal),
                first_iteration_note(s),
                block_note(s)
            );
            let mut d = Diagnostic::new(r.span, severity, BANK_CONFLICT, msg);
            if elsewhere {
                return Some(d);
            }
            if let Some(fix) = pad_fix(model, kernel, contexts, s) {
                d = d.with_fix(fix);
            }
            Some(d)
        }
    }
}

/// A finding inside a device function stays at the access, in that
/// function; how the kernel reaches it goes with it as related
/// information, one call at a time (`k` calls `load` here, `load` calls
/// `at` here). Findings of several kernels at one access with one message
/// are merged into one, with every kernel's calls (`crate::analyze_cached`).
fn with_call_chain(mut d: Diagnostic, kernel: &Function, chain: &[(String, Span)]) -> Diagnostic {
    let mut caller = kernel.name.as_str();
    for (callee, at) in chain {
        let note = match caller == kernel.name {
            true => format!("kernel `{caller}` calls `{callee}` here"),
            false => format!(
                "`{caller}` calls `{callee}` here (from kernel `{}`)",
                kernel.name
            ),
        };
        d = d.with_related(*at, note);
        caller = callee;
    }
    d
}

/// Whether an access in a function of another file (a header's helper,
/// shared by every file that includes it) is judged there. Only a waste the
/// helper's own indexing makes is: not one made under an assumed block (the
/// caller's launch decides the warps), not a contiguous access's
/// misalignment or idle lanes (the caller's pointer and condition decide
/// them: cuda-samples' `bisect_util.cu` reads `g_s[tid - 1]` from a pointer
/// the host shifted by one element), not a field of a fixed-format record
/// (ggml's quantised blocks, read whole by the block).
fn judged_in_a_header(s: &Stats) -> bool {
    !s.block_assumed && !s.unit_stride && !s.record_field
}

/// [`with_call_chain`] for a finding in another file: only the calls made
/// in that file are related information there (the calls into it are the
/// finding's entries, see [`split_entry`]).
fn with_call_chain_in_file(mut d: Diagnostic, kernel: &Function, s: &Stats) -> Diagnostic {
    let calls = s.chain.iter().zip(&s.chain_in_file);
    let mut caller: Option<&str> = None;
    for ((callee, at), &callee_in_file) in calls {
        if let Some(caller) = caller {
            d = d.with_related(
                *at,
                format!(
                    "`{caller}` calls `{callee}` here (from kernel `{}`)",
                    kernel.name
                ),
            );
        }
        caller = callee_in_file.then_some(callee.as_str());
    }
    d
}

/// How `kernel` reaches an access in `file`: its first call on the way (in
/// this file), the first function of `file` it enters (and that function's
/// name in `file`), and the functions between.
fn entry_of(
    model: &FileModel,
    kernel: &Function,
    file: &Path,
    s: &Stats,
) -> Option<crate::diagnostic::Entry> {
    let (_, call) = s.chain.first()?;
    let i = s.chain_in_file.iter().position(|&b| b)?;
    let (callee, _) = s.chain.get(i)?;
    let anchor = (model.functions.iter())
        .find(|f| f.name == *callee && f.body.is_some() && f.file.as_deref() == Some(file))?
        .name_span;
    Some(crate::diagnostic::Entry {
        kernel: kernel.name.clone(),
        call: *call,
        callee: callee.clone(),
        anchor,
        via: s.chain[..i].iter().map(|(n, _)| n.clone()).collect(),
    })
}

/// Thread-dependent variables used in an index, with their declarations.
fn index_carriers(
    kernel: &Function,
    td: &ThreadDependence,
    index: Option<&Expr>,
) -> Vec<(Span, String)> {
    let Some(index) = index else {
        return Vec::new();
    };
    let mut names = Vec::new();
    index.walk(&mut |e| {
        if let ExprKind::Ident(n) = &e.kind
            && td.var_varies(n)
            && !names.contains(n)
        {
            names.push(n.clone());
        }
    });
    let decls = kernel.local_decls();
    // A variable is named as the carrier only when its initial value is
    // what varies: a loop counter that starts at 0 and varies only through
    // a thread-dependent bound or base pointer is not (llm.c
    // attention_backward.cu:347 read "through t2 = 0").
    let varies = |init: &Expr| {
        let mut found = false;
        init.walk(&mut |e| match &e.kind {
            ExprKind::Builtin(Builtin::ThreadIdx, _) => found = true,
            ExprKind::Ident(m) if td.var_varies(m) => found = true,
            _ => {}
        });
        found
    };
    let mut carriers: Vec<(bool, Span, String)> = names
        .into_iter()
        .filter_map(|n| {
            let d = decls.iter().find(|d| d.name == n)?;
            let init = d.init.as_ref().filter(|i| varies(i))?;
            let along_x = follows_thread_x(init, &decls, 4);
            Some((along_x, d.span, format!("{n} = {}", render_expr(init))))
        })
        .collect();
    // "Adjacent threads" are adjacent in threadIdx.x: when some carrier
    // follows threadIdx.x, the others (a `threadIdx.y` row) are not named.
    if carriers.iter().any(|c| c.0) {
        carriers.retain(|c| c.0);
    }
    carriers
        .into_iter()
        .take(2)
        .map(|(_, span, text)| (span, text))
        .collect()
}

/// Whether `e` reads `threadIdx.x`, directly or through the initial values
/// of the locals it names (`depth` levels deep).
fn follows_thread_x(e: &Expr, decls: &[&cudalens_syntax::ir::VarDecl], depth: u8) -> bool {
    let mut found = false;
    e.walk(&mut |x| match &x.kind {
        ExprKind::Builtin(Builtin::ThreadIdx, Axis::X) => found = true,
        ExprKind::Ident(n) if depth > 0 && !found => {
            if let Some(init) = decls
                .iter()
                .find(|d| &d.name == n)
                .and_then(|d| d.init.as_ref())
            {
                found |= follows_thread_x(init, decls, depth - 1);
            }
        }
        _ => {}
    });
    found
}

/// Padding the innermost dimension of a 2D shared tile by one element moves
/// each row to a different bank. Offered only when it removes the conflict
/// (re-analysed with the padding) and is marked safe (for fix-all on save)
/// only when every use of the array indexes all its dimensions, so its layout
/// is not observable.
fn pad_fix(
    model: &FileModel,
    kernel: &Function,
    contexts: &[KernelContext],
    s: &Stats,
) -> Option<Fix> {
    let decl = kernel
        .shared_decls()
        .into_iter()
        .find(|d| d.name == s.root && !d.is_extern)?;
    if decl.dims.len() < 2 {
        return None;
    }
    let last = decl.dims.last()?.as_ref()?;
    let file_env = model.const_env();
    let ctx = contexts.first()?;
    let tenv = ctx.env(&file_env);
    let env = kernel.const_env(&tenv);
    let inner = env.eval(last)?;
    let padded = padded_conflict(model, kernel, ctx, &s.root, s)?;
    if padded >= s.worst_ways {
        return None;
    }
    let edit = if last.from_macro {
        Edit {
            span: Span::new(last.span.end, last.span.end),
            new_text: " + 1".into(),
        }
    } else if matches!(last.kind, ExprKind::Int { .. }) {
        Edit {
            span: last.span,
            new_text: (inner + 1).to_string(),
        }
    } else {
        Edit {
            span: Span::new(last.span.end, last.span.end),
            new_text: " + 1".into(),
        }
    };
    let layout_hidden = uses_are_fully_indexed(kernel, &s.root, decl.dims.len());
    Some(Fix {
        title: format!(
            "Pad `{}` by one column ({}→{}) to spread rows across banks ({}-way → {}-way)",
            s.root,
            inner,
            inner + 1,
            s.worst_ways,
            padded.max(1)
        ),
        edits: vec![edit],
        safe: layout_hidden,
        explanation: if layout_hidden {
            "Every access indexes the tile element by element, so the extra column is never read: the program's results are unchanged.".into()
        } else {
            "The array is also used as a pointer or flat buffer; check those uses before padding."
                .into()
        },
    })
}

/// The worst N-way conflict of the same access with the array padded.
fn padded_conflict(
    model: &FileModel,
    kernel: &Function,
    ctx: &KernelContext,
    root: &str,
    s: &Stats,
) -> Option<u32> {
    let file_env = model.const_env();
    let tenv = ctx.env(&file_env);
    let env = kernel.const_env(&tenv);
    let mut interp = Interp::new(model, env, ctx);
    interp.pad_array(root);
    interp.run(kernel);
    let _ = s;
    let mut worst = 0;
    let mut found = false;
    for ev in &interp.events {
        if ev.root != root || ev.space != MemorySpace::Shared {
            continue;
        }
        for w in 0..ev.active.len().div_ceil(32) {
            let lanes = warp_lanes(w, &ev.active);
            if let Some(WarpCost::Shared { ways, .. }) =
                shared_cost(&ev.address, &lanes, ev.element_bytes)
            {
                worst = worst.max(ways);
                found = true;
            }
        }
    }
    found.then_some(worst)
}

fn uses_are_fully_indexed(kernel: &Function, root: &str, depth: usize) -> bool {
    let Some(body) = &kernel.body else {
        return false;
    };
    let mut idents = 0usize;
    let mut full = 0usize;
    body.walk_exprs(&mut |e| match &e.kind {
        ExprKind::Ident(n) if n == root => idents += 1,
        ExprKind::Index(..) => {
            let mut d = 0;
            let mut cur = e;
            while let ExprKind::Index(b, _) = &cur.kind {
                d += 1;
                cur = b;
            }
            if cur.as_ident() == Some(root) && d == depth {
                full += 1;
            }
        }
        ExprKind::SizeofExpr(_) => idents += 1000,
        _ => {}
    });
    idents == full
}

/// For `A[i * W + j]` where `i` comes from threadIdx.x and `j` from threadIdx.y,
/// suggest swapping the two mappings so that threadIdx.x walks the contiguous
/// dimension. Never applied on save: the grid shape must change with it.
fn swap_mapping_fix(kernel: &Function, source: &str, index: Option<&Expr>) -> Option<Fix> {
    let index = index?;
    let decls = kernel.local_decls();
    let axis_of = |name: &str| -> Option<(Axis, Span)> {
        let d = decls.iter().find(|d| d.name == name)?;
        let init = d.init.as_ref()?;
        let mut axis = None;
        init.walk(&mut |e| {
            if let ExprKind::Builtin(Builtin::ThreadIdx, a) = e.kind {
                axis = Some(a);
            }
        });
        Some((axis?, init.span))
    };
    let ExprKind::Binary(cudalens_syntax::ir::BinOp::Add, a, b) = &index.kind else {
        return None;
    };
    let (ExprKind::Binary(cudalens_syntax::ir::BinOp::Mul, row, _), col) = (&a.kind, &**b) else {
        return None;
    };
    let (row_name, col_name) = (row.as_ident()?, col.as_ident()?);
    let (row_axis, row_init) = axis_of(row_name)?;
    let (col_axis, col_init) = axis_of(col_name)?;
    if row_axis != Axis::X || col_axis != Axis::Y || row_init.is_empty() || col_init.is_empty() {
        return None;
    }
    let row_text = row_init.text(source);
    let col_text = col_init.text(source);
    if row_text.is_empty() || col_text.is_empty() {
        return None;
    }
    Some(Fix {
        title: format!("Swap the thread mapping of `{row_name}` and `{col_name}` so threadIdx.x walks contiguous memory"),
        edits: vec![
            Edit { span: row_init, new_text: col_text.to_string() },
            Edit { span: col_init, new_text: row_text.to_string() },
        ],
        safe: false,
        explanation: "Each thread still computes one element, but which thread does which changes: swap the grid's x and y sizes at the launch too, and check nothing else depends on the old mapping.".into(),
    })
}
