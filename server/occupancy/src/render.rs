//! Human-readable renderings of an [`OccupancyReport`]: a one-line summary
//! (diagnostics, status bar) and a Markdown table (hover, CLI).

use std::fmt::Write as _;

use crate::calc::{Limiter, OccupancyReport};
use crate::digits::group_digits;

/// `occupancy 50% (32/64 warps) — limited by registers: 64/thread`
pub fn summary_line(report: &OccupancyReport) -> String {
    format!(
        "occupancy {} ({}/{} warps) — limited by {}: {}",
        percent(report.occupancy),
        report.active_warps_per_sm,
        report.max_warps_per_sm,
        limiter_label(report.limiter),
        limiter_detail(report),
    )
}

/// A Markdown table with one row per resource: blocks per SM it allows, and
/// what to change to fit one more block where that resource is binding.
pub fn markdown_table(report: &OccupancyReport) -> String {
    let limits = &report.limits;
    let mut out = String::new();
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
    out.push_str("| Limit | Blocks/SM | Notes |\n|---|---:|---|\n");

    let mut row = |limiter: Limiter, label: String, blocks: Option<u32>, notes: String| {
        let blocks = match blocks {
            Some(b) if limiter == report.limiter => format!("**{b}**"),
            Some(b) => b.to_string(),
            None => "—".to_string(),
        };
        let _ = writeln!(out, "| {label} | {blocks} | {notes} |");
    };

    row(
        Limiter::Warps,
        format!("Warps ({}/block)", limits.warps.warps_per_block),
        Some(limits.warps.blocks_per_sm),
        format!("{} warp slots per SM", report.max_warps_per_sm),
    );
    row(
        Limiter::Blocks,
        "Blocks per SM".to_string(),
        Some(limits.blocks_per_sm.blocks_per_sm),
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
        Some(step) => format!(
            "use ≤ {} registers/thread (save {}) to get {} blocks/SM{}",
            step.max_registers_per_thread,
            step.save_per_thread,
            step.blocks_per_sm,
            not_enough_alone(step.sufficient)
        ),
        None if regs.blocks_per_sm.is_none() => "no registers used".to_string(),
        None => format!(
            "{} per warp allocated",
            group_digits(regs.allocated_per_warp.into())
        ),
    };
    row(
        Limiter::Registers,
        format!("Registers ({}/thread{estimated})", report.registers),
        regs.blocks_per_sm,
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
            format!("~{}/thread (estimated)", report.registers)
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
