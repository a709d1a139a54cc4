//! `textDocument/inlayHint`: occupancy after each launch
//! (`occupancy 50% (32/64 warps) — limited by registers`) and, with
//! `cudalens.inlayHints.accessCost`, the cost of each memory access
//! (`8 sectors/req (ideal 4)`, `32-way`).

use tower_lsp_server::ls_types as lsp;

use cudalens_analysis::{AccessReport, LaunchReport, MemorySpace};
use cudalens_occupancy::render;
use cudalens_syntax::Span;

use super::{figure, touches};
use crate::lsp::config::Settings;
use crate::lsp::convert;
use crate::lsp::state::Snapshot;

pub fn inlay_hints(snapshot: &Snapshot, range: Span, settings: &Settings) -> Vec<lsp::InlayHint> {
    if !settings.inlay_hints {
        return Vec::new();
    }
    let analysis = &snapshot.analyzed.analysis;
    let mut hints: Vec<lsp::InlayHint> = analysis
        .kernels
        .iter()
        .flat_map(|k| &k.launches)
        .filter_map(|l| Some((l.span?, l)))
        .filter(|(span, _)| touches(*span, range))
        .map(|(span, l)| hint(snapshot, span.end, launch_label(l), launch_tooltip(l)))
        .collect();
    if settings.inlay_access_cost {
        hints.extend(
            analysis
                .accesses
                .iter()
                .filter(|a| touches(a.span, range))
                .filter_map(|a| Some(hint(snapshot, a.span.end, access_label(a)?, None))),
        );
    }
    hints.sort_by_key(|h| (h.position.line, h.position.character));
    hints
}

fn hint(
    snapshot: &Snapshot,
    offset: usize,
    label: String,
    tooltip: Option<String>,
) -> lsp::InlayHint {
    lsp::InlayHint {
        position: convert::position(&snapshot.index, offset),
        label: lsp::InlayHintLabel::String(label),
        kind: None,
        text_edits: None,
        tooltip: tooltip.map(lsp::InlayHintTooltip::String),
        padding_left: Some(true),
        padding_right: None,
        data: None,
    }
}

/// The summary line without the limiter's detail: `… — limited by registers`.
pub fn launch_label(l: &LaunchReport) -> String {
    match (&l.occupancy, &l.error) {
        (Some(report), _) => {
            let summary = render::summary_line(report);
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

pub fn access_label(a: &AccessReport) -> Option<String> {
    match a.space {
        MemorySpace::Global => {
            let sectors = a.sectors_per_request?;
            Some(match a.ideal_sectors {
                Some(ideal) if sectors > ideal + 0.05 => {
                    format!("{} sectors/req (ideal {})", figure(sectors), figure(ideal))
                }
                _ => format!("{} sectors/req", figure(sectors)),
            })
        }
        MemorySpace::Shared => {
            let ways = a.bank_conflict_ways?;
            Some(if ways > 1.05 {
                format!("{}-way", figure(ways))
            } else {
                "no conflict".to_string()
            })
        }
    }
}
