//! Inlay hints: occupancy after each launch
//! (`occupancy 50% (32/64 warps) — limited by registers`) and, with
//! `cudalens.inlayHints.accessCost`, the cost of each memory access
//! (`8 sectors/req (ideal 4)`, `32-way`).

use cudalens_analysis::{AccessReport, LaunchReport, MemorySpace};
use cudalens_occupancy::render;
use cudalens_syntax::Span;

use crate::Snapshot;
use crate::settings::Settings;
use crate::text::{BankConflict, bank_conflict, figure, touches};

/// A label shown after the text at `offset`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlayHint {
    pub offset: usize,
    pub label: String,
    pub tooltip: Option<String>,
}

/// The hints within `range`, in text order, under `settings` (the current
/// ones: hints follow a settings change before the re-analysis lands).
pub fn inlay_hints(snapshot: &Snapshot, range: Span, settings: &Settings) -> Vec<InlayHint> {
    if !settings.inlay_hints {
        return Vec::new();
    }
    let analysis = &snapshot.analyzed.analysis;
    let mut hints: Vec<InlayHint> = analysis
        .kernels
        .iter()
        .flat_map(|k| &k.launches)
        .filter_map(|l| Some((l.span?, l)))
        .filter(|(span, _)| touches(*span, range))
        .map(|(span, l)| InlayHint {
            offset: span.end,
            label: launch_label(l),
            tooltip: launch_tooltip(l),
        })
        .collect();
    if settings.inlay_access_cost {
        // One hint an access: a device function's access is judged per
        // kernel and per call, and its distinct costs share the hint.
        let mut labels: Vec<(usize, Vec<String>)> = Vec::new();
        for a in analysis.accesses.iter().filter(|a| touches(a.span, range)) {
            let Some(label) = access_label(a) else {
                continue;
            };
            match labels.iter_mut().find(|(offset, _)| *offset == a.span.end) {
                Some((_, seen)) if seen.contains(&label) => {}
                Some((_, seen)) => seen.push(label),
                None => labels.push((a.span.end, vec![label])),
            }
        }
        hints.extend(labels.into_iter().map(|(offset, labels)| InlayHint {
            offset,
            label: labels.join(" · "),
            tooltip: None,
        }));
    }
    hints.sort_by_key(|h| h.offset);
    hints
}

/// The summary line without the limiter's detail: `… — limited by registers`.
pub(crate) fn launch_label(l: &LaunchReport) -> String {
    match (&l.occupancy, &l.error) {
        (Some(report), _) => {
            let mut summary = render::summary_line(report);
            if l.dynamic_smem_unresolved.is_some() {
                summary = summary.replacen("occupancy ", "occupancy ≤ ", 1);
            }
            match summary.rsplit_once(": ") {
                Some((short, _)) => short.to_string(),
                None => summary,
            }
        }
        (None, Some(_)) => "cannot launch".to_string(),
        (None, None) => "occupancy unknown".to_string(),
    }
}

fn launch_tooltip(l: &LaunchReport) -> Option<String> {
    l.occupancy
        .as_ref()
        .map(render::summary_line)
        .or_else(|| l.error.clone())
}

/// The cost of an access, by the one verdict the diagnostics use
/// (`AccessReport::waste`): the ideal is named only for a wasteful access.
fn access_label(a: &AccessReport) -> Option<String> {
    match a.space {
        MemorySpace::Global => {
            let sectors = a.sectors_per_request?;
            Some(match (a.waste(), a.ideal_sectors) {
                (Some(_), Some(ideal)) => {
                    format!("{} sectors/req (ideal {})", figure(sectors), figure(ideal))
                }
                _ => format!("{} sectors/req", figure(sectors)),
            })
        }
        MemorySpace::Shared => Some(match bank_conflict(a)? {
            BankConflict::Wasteful(ways) => format!("{}-way", figure(ways)),
            BankConflict::Minor(ways) => format!("{}-way, minor", figure(ways)),
            BankConflict::None => "no conflict".to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::fixture;

    const KERNELS: &str = r#"
        __global__ void transpose(float* out, const float* in) {
            __shared__ float tile[32][32];
            tile[threadIdx.x][threadIdx.y] = in[threadIdx.y * 32 + threadIdx.x];
            __syncthreads();
            out[threadIdx.y * 32 + threadIdx.x] = tile[threadIdx.y][threadIdx.x];
        }
        __global__ void heavy(float* y) { y[threadIdx.x * 7] = 0.0f; }
        void run(float* o, const float* i) {
            transpose<<<1, dim3(32, 32)>>>(o, i);
            heavy<<<4, 48>>>(o);
        }
        "#;

    fn check(settings: Settings, expect: Expect) {
        let f = fixture::analyze_with(KERNELS, settings.clone());
        let everything = Span::new(0, f.snapshot.text.len());
        let hints = inlay_hints(&f.snapshot, everything, &settings);
        let labels: Vec<(usize, String)> = hints
            .iter()
            .map(|h| {
                let tooltip = h.tooltip.as_deref().map(|t| format!(" | {t}"));
                (
                    h.offset,
                    format!("{}{}", h.label, tooltip.unwrap_or_default()),
                )
            })
            .collect();
        expect.assert_eq(&fixture::with_labels(&f.snapshot.text, &labels));
    }

    #[test]
    fn occupancy_after_launches() {
        check(
            Settings::default(),
            expect![[r#"
            9:     transpose<<<1, dim3(32, 32)>>>(o, i)⟨occupancy 100% (64/64 warps) — limited by warps | occupancy 100% (64/64 warps) — limited by warps: 1024 threads/block⟩;
            10:     heavy<<<4, 48>>>(o)⟨occupancy 100% (64/64 warps) — limited by warps | occupancy 100% (64/64 warps) — limited by warps: 48 threads/block⟩;
        "#]],
        );
    }

    #[test]
    fn access_costs_when_enabled() {
        let settings = Settings {
            inlay_access_cost: true,
            ..Settings::default()
        };
        check(
            settings,
            expect![[r#"
            3:     tile[threadIdx.x][threadIdx.y]⟨32-way⟩ = in[threadIdx.y * 32 + threadIdx.x]⟨4 sectors/req⟩;
            5:     out[threadIdx.y * 32 + threadIdx.x]⟨4 sectors/req⟩ = tile[threadIdx.y][threadIdx.x]⟨no conflict⟩;
            7: __global__ void heavy(float* y) { y[threadIdx.x * 7]⟨21 sectors/req (ideal 3)⟩ = 0.0f; }
            9:     transpose<<<1, dim3(32, 32)>>>(o, i)⟨occupancy 100% (64/64 warps) — limited by warps | occupancy 100% (64/64 warps) — limited by warps: 1024 threads/block⟩;
            10:     heavy<<<4, 48>>>(o)⟨occupancy 100% (64/64 warps) — limited by warps | occupancy 100% (64/64 warps) — limited by warps: 48 threads/block⟩;
        "#]],
        );
    }

    /// `float4` accesses need 4 wavefronts without any conflict; a
    /// column of a `float4` tile is a real conflict.
    #[test]
    fn wide_shared_accesses_are_judged_against_their_ideal() {
        let text = r#"
            __global__ void k(float4* out) {
                __shared__ float4 row[256];
                __shared__ float4 tile[32][32];
                row[threadIdx.x] = out[threadIdx.x];
                tile[threadIdx.x][0] = out[threadIdx.x];
                __syncthreads();
                out[threadIdx.x] = row[threadIdx.x];
            }
            void run(float4* o) { k<<<1, 256>>>(o); }
            "#;
        expect![[r#"
            4:     row[threadIdx.x]⟨no conflict⟩ = out[threadIdx.x]⟨16 sectors/req⟩;
            5:     tile[threadIdx.x][0]⟨8-way⟩ = out[threadIdx.x]⟨16 sectors/req⟩;
            7:     out[threadIdx.x]⟨16 sectors/req⟩ = row[threadIdx.x]⟨no conflict⟩;
        "#]]
        .assert_eq(&access_hints(text));
    }

    /// A helper called with a `__shared__` tile, a coalesced and a strided
    /// buffer: one hint at its access, with each call's distinct cost.
    #[test]
    fn one_hint_for_a_helper_called_several_ways() {
        let text = r#"
            __device__ void put(float* p, float v) { *p = v; }
            __global__ void k(float* out, float* wide) {
                __shared__ float tile[256];
                put(&tile[threadIdx.x], 1.0f);
                put(out + threadIdx.x, 2.0f);
                put(wide + threadIdx.x * 32, tile[threadIdx.x]);
            }
            void run(float* o, float* w) { k<<<64, 256>>>(o, w); }
            "#;
        expect![[r#"
            1: __device__ void put(float* p, float v) { *p⟨no conflict · 4 sectors/req · 32 sectors/req (ideal 4)⟩ = v; }
            6:     put(wide + threadIdx.x * 32, tile[threadIdx.x]⟨no conflict⟩);
        "#]]
        .assert_eq(&access_hints(text));
    }

    /// `text` with its access-cost hints (the launch hints left out).
    fn access_hints(text: &str) -> String {
        let settings = Settings {
            inlay_access_cost: true,
            ..Settings::default()
        };
        let f = fixture::analyze_with(text, settings.clone());
        let everything = Span::new(0, f.snapshot.text.len());
        let labels: Vec<(usize, String)> = inlay_hints(&f.snapshot, everything, &settings)
            .into_iter()
            .filter(|h| h.tooltip.is_none())
            .map(|h| (h.offset, h.label))
            .collect();
        fixture::with_labels(&f.snapshot.text, &labels)
    }

    #[test]
    fn none_when_disabled() {
        let settings = Settings {
            inlay_hints: false,
            ..Settings::default()
        };
        check(settings, expect![[""]]);
    }

    #[test]
    fn only_within_the_range() {
        let f = fixture::analyze(KERNELS);
        let heavy_launch = f.snapshot.text.find("heavy<<<").expect("launch");
        let range = Span::new(heavy_launch, heavy_launch + 5);
        let hints = inlay_hints(&f.snapshot, range, &Settings::default());
        assert_eq!(hints.len(), 1, "{hints:?}");
    }
}
