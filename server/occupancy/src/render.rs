//! Human-readable renderings of an [`OccupancyReport`]: a one-line summary
//! (diagnostics, status bar) and a Markdown table (hover, CLI).

use std::fmt::Write as _;

use crate::calc::{Limiter, OccupancyReport, RegisterRangeEnd};
use crate::digits::group_digits;

/// `occupancy 50% (32/64 warps) — limited by registers: 64/thread`
///
/// With an estimated register range whose ends give different occupancies,
/// both ends: `occupancy 50–100% (32–64/64 warps at 16–40 registers/thread,
/// estimated) — ...` (the limiter is the low end's).
pub fn summary_line(report: &OccupancyReport) -> String {
    match differing_high_end(report) {
        Some(h) => format!(
            "occupancy {}–{} ({}–{}/{} warps at {}–{} registers/thread, estimated) — limited by {}: {}",
            percent(h.occupancy),
            percent(report.occupancy),
            h.active_warps_per_sm,
            report.active_warps_per_sm,
            report.max_warps_per_sm,
            report.registers,
            h.registers,
            limiter_label(report.limiter),
            limiter_detail(report),
        ),
        None => format!(
            "occupancy {} ({}/{} warps) — limited by {}: {}",
            percent(report.occupancy),
            report.active_warps_per_sm,
            report.max_warps_per_sm,
            limiter_label(report.limiter),
            limiter_detail(report),
        ),
    }
}

/// The high end of the estimated register range, when it changes the
/// occupancy.
fn differing_high_end(report: &OccupancyReport) -> Option<&RegisterRangeEnd> {
    report.at_high_registers.as_ref().filter(|h| {
        h.active_blocks_per_sm != report.active_blocks_per_sm
            || h.active_warps_per_sm != report.active_warps_per_sm
    })
}

/// `16` or, for an estimated range, `16–40`.
fn register_count(report: &OccupancyReport) -> String {
    match &report.at_high_registers {
        Some(h) => format!("{}–{}", report.registers, h.registers),
        None => report.registers.to_string(),
    }
}

/// A Markdown table with one row per resource: blocks per SM it allows, and
/// what to change to fit one more block where that resource is binding.
pub fn markdown_table(report: &OccupancyReport) -> String {
    let limits = &report.limits;
    let mut out = String::new();
    match differing_high_end(report) {
        Some(h) => {
            let _ = writeln!(
                out,
                "**{}–{}** on `{}` (registers estimated {}–{}/thread): {}–{} blocks/SM × {} threads = {}–{}/{} warps\n",
                percent(h.occupancy),
                percent(report.occupancy),
                report.arch,
                report.registers,
                h.registers,
                h.active_blocks_per_sm,
                report.active_blocks_per_sm,
                report.block,
                h.active_warps_per_sm,
                report.active_warps_per_sm,
                report.max_warps_per_sm,
            );
        }
        None => {
            let _ = writeln!(
                out,
                "**{}** on `{}`: {} blocks/SM × {} threads = {}/{} warps\n",
                percent(report.occupancy),
                report.arch,
                report.active_blocks_per_sm,
                report.block,
                report.active_warps_per_sm,
                report.max_warps_per_sm,
            );
        }
    }
    out.push_str("| Limit | Blocks/SM | Notes |\n|---|---:|---|\n");

    // `blocks` is what the resource allows; `low` (registers with an
    // estimated range) what it allows at the range's high end.
    let mut row = |limiter: Limiter,
                   label: String,
                   blocks: Option<u32>,
                   low: Option<Option<u32>>,
                   notes: String| {
        let show = |b: Option<u32>| b.map_or_else(|| "—".to_string(), |b| b.to_string());
        let text = match low {
            Some(l) if l != blocks => format!("{}–{}", show(l), show(blocks)),
            _ => show(blocks),
        };
        let blocks = if limiter == report.limiter && blocks.is_some() {
            format!("**{text}**")
        } else {
            text
        };
        let _ = writeln!(out, "| {label} | {blocks} | {notes} |");
    };

    row(
        Limiter::Warps,
        format!("Warps ({}/block)", limits.warps.warps_per_block),
        Some(limits.warps.blocks_per_sm),
        None,
        format!("{} warp slots per SM", report.max_warps_per_sm),
    );
    row(
        Limiter::Blocks,
        "Blocks per SM".to_string(),
        Some(limits.blocks_per_sm.blocks_per_sm),
        None,
        if report.limiter == Limiter::Blocks {
            "hardware cap; larger blocks raise occupancy".to_string()
        } else {
            "hardware cap".to_string()
        },
    );
    if let Some(barriers) = &limits.barriers {
        row(
            Limiter::Barriers,
            format!("Barriers ({}/block)", barriers.barriers_per_block),
            Some(barriers.blocks_per_sm),
            None,
            String::new(),
        );
    }

    let regs = &limits.registers;
    let estimated = if report.registers_estimated {
        ", estimated"
    } else {
        ""
    };
    let reg_notes = match &regs.next_step {
        // The saving is counted from the low end of an estimate: only the
        // target is sure.
        Some(step) if report.at_high_registers.is_some() => format!(
            "use ≤ {} registers/thread to get {} blocks/SM{}",
            step.max_registers_per_thread,
            step.blocks_per_sm,
            not_enough_alone(step.sufficient)
        ),
        Some(step) => format!(
            "use ≤ {} registers/thread (save {}) to get {} blocks/SM{}",
            step.max_registers_per_thread,
            step.save_per_thread,
            step.blocks_per_sm,
            not_enough_alone(step.sufficient)
        ),
        None if regs.blocks_per_sm.is_none() => "no registers used".to_string(),
        None => match &report.at_high_registers {
            Some(h) if h.allocated_per_warp != regs.allocated_per_warp => format!(
                "{}–{} per warp allocated",
                group_digits(regs.allocated_per_warp.into()),
                group_digits(h.allocated_per_warp.into())
            ),
            _ => format!(
                "{} per warp allocated",
                group_digits(regs.allocated_per_warp.into())
            ),
        },
    };
    row(
        Limiter::Registers,
        format!("Registers ({}/thread{estimated})", register_count(report)),
        regs.blocks_per_sm,
        report
            .at_high_registers
            .as_ref()
            .map(|h| h.register_blocks_per_sm),
        reg_notes,
    );

    let smem = &limits.shared_memory;
    let mut smem_notes = match &smem.next_step {
        Some(step) => format!(
            "save {} bytes of shared memory per block (≤ {}) to get {} blocks/SM{}",
            group_digits(step.save_bytes),
            group_digits(step.max_bytes_per_block),
            step.blocks_per_sm,
            not_enough_alone(step.sufficient)
        ),
        None => format!("carveout {} KB", smem.carveout_bytes / 1024),
    };
    if smem.requires_opt_in {
        smem_notes.push_str("; needs the dynamic shared memory opt-in");
    }
    row(
        Limiter::SharedMemory,
        format!(
            "Shared memory ({} B/block allocated)",
            group_digits(smem.allocated_per_block)
        ),
        smem.blocks_per_sm,
        None,
        smem_notes,
    );
    out
}

fn not_enough_alone(sufficient: bool) -> &'static str {
    if sufficient {
        ""
    } else {
        " (not enough alone)"
    }
}

fn limiter_label(limiter: Limiter) -> &'static str {
    match limiter {
        Limiter::Warps => "warps",
        Limiter::Blocks => "blocks per SM",
        Limiter::Registers => "registers",
        Limiter::SharedMemory => "shared memory",
        Limiter::Barriers => "barriers",
    }
}

fn limiter_detail(report: &OccupancyReport) -> String {
    let limits = &report.limits;
    match report.limiter {
        Limiter::Warps => format!("{} threads/block", report.block),
        Limiter::Blocks => format!("{} max", limits.blocks_per_sm.blocks_per_sm),
        Limiter::Registers if report.registers_estimated => {
            format!("~{}/thread (estimated)", register_count(report))
        }
        Limiter::Registers => format!("{}/thread", report.registers),
        Limiter::SharedMemory => format!(
            "{} B/block",
            group_digits(report.static_smem.saturating_add(report.dynamic_smem))
        ),
        Limiter::Barriers => format!(
            "{}/block",
            limits.barriers.as_ref().map_or(0, |b| b.barriers_per_block)
        ),
    }
}

/// `0.5` -> `"50%"`, `1/3` -> `"33.3%"`: one decimal unless rounding to
/// a whole percent loses nothing (`0.984375` -> `"98.4%"`).
pub fn percent(fraction: f64) -> String {
    let pct = fraction * 100.0;
    if (pct - pct.round()).abs() < 0.05 {
        format!("{pct:.0}%")
    } else {
        format!("{pct:.1}%")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_percentages() {
        assert_eq!(percent(0.5), "50%");
        assert_eq!(percent(1.0), "100%");
        assert_eq!(percent(0.0), "0%");
        assert_eq!(percent(0.984375), "98.4%");
        assert_eq!(percent(1.0 / 3.0), "33.3%");
    }
}
