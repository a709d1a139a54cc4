//! What one warp request costs the hardware.
//!
//! Global memory: the number of distinct 32-byte sectors the active lanes
//! touch. Shared memory: 32 banks of 4 bytes; lanes reading the same 4-byte
//! word are served together (broadcast); 8-byte accesses are processed per
//! half-warp and 16-byte accesses per quarter-warp, as the hardware does, and
//! each phase costs as many wavefronts as the most-loaded bank has distinct words.

use std::collections::HashSet;

use super::lanes::Poly;

/// A cost figure in a message: `4`, `3.5`.
pub(crate) fn fmt_num(x: f64) -> String {
    if (x - x.round()).abs() < 0.005 {
        format!("{}", x.round() as i64)
    } else {
        format!("{x:.1}")
    }
}

pub const SECTOR_BYTES: i64 = 32;
pub const BANKS: i64 = 32;

/// The cost of one warp's request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WarpCost {
    Global {
        /// Counted with every runtime (symbolic) part of the address a
        /// multiple of 32 bytes: see [`global_cost_with_gcd`].
        sectors: f64,
        ideal: u32,
        /// Depends on the (unknown) alignment of a uniform offset.
        alignment_dependent: bool,
        /// The average over the alignments that offset could take (equal to
        /// `sectors` unless `alignment_dependent`).
        sectors_any_alignment: f64,
        /// The stride between lanes is symbolic (assumed ≥ one sector).
        symbolic_stride: bool,
    },
    Shared {
        /// Highest number of distinct words on one bank in any phase.
        ways: u32,
        wavefronts: u32,
        ideal_wavefronts: u32,
        /// The most-loaded bank, and whether every active lane hit it.
        bank: u32,
        all_lanes_one_bank: bool,
    },
}

/// Lanes of warp `w` that are active.
pub fn warp_lanes(w: usize, active: &[bool]) -> Vec<usize> {
    let mut lanes = Vec::with_capacity(32);
    fill_warp_lanes(w, active, &mut lanes);
    lanes
}

/// [`warp_lanes`] into a buffer reused across warps.
pub fn fill_warp_lanes(w: usize, active: &[bool], lanes: &mut Vec<usize>) {
    lanes.clear();
    lanes.extend((w * 32..((w + 1) * 32).min(active.len())).filter(|&t| active[t]));
}

/// Sectors one global request touches, or `None` when the addresses are not
/// determined well enough to say.
pub fn global_cost(addr: &Poly, lanes: &[usize], bytes: u32) -> Option<WarpCost> {
    global_cost_with_gcd(addr, lanes, bytes, addr.symbolic_gcd())
}

/// [`global_cost`] with `addr.symbolic_gcd()` already known (it spans the
/// whole block, so callers costing every warp compute it once).
pub fn global_cost_with_gcd(addr: &Poly, lanes: &[usize], bytes: u32, g: i64) -> Option<WarpCost> {
    if lanes.is_empty() || bytes == 0 {
        return None;
    }
    let bytes = bytes as i64;
    let ideal = ((lanes.len() as i64 * bytes + SECTOR_BYTES - 1) / SECTOR_BYTES).max(1) as u32;
    let concrete = |t: usize| addr.concrete().map_or(0, |l| l.get(t));
    // Symbolic coefficients that differ between these lanes: a symbolic stride.
    let varying: Vec<_> = addr
        .terms
        .iter()
        .filter(|(m, l)| !m.is_empty() && lanes.iter().any(|&t| l.get(t) != l.get(lanes[0])))
        .collect();
    if !varying.is_empty() {
        // Assume the symbolic stride is at least a sector (e.g. a row pitch):
        // lanes with different symbolic coefficients never share a sector.
        let mut set = HashSet::new();
        for &t in lanes {
            let key: Vec<i64> = varying.iter().map(|(_, l)| l.get(t)).collect();
            let c = concrete(t);
            for s in c.div_euclid(SECTOR_BYTES)..=(c + bytes - 1).div_euclid(SECTOR_BYTES) {
                set.insert((key.clone(), s));
            }
        }
        return Some(WarpCost::Global {
            sectors: set.len() as f64,
            ideal,
            alignment_dependent: false,
            sectors_any_alignment: set.len() as f64,
            symbolic_stride: true,
        });
    }
    // Byte offsets in increasing order: shifting them all by one amount keeps
    // the order, so each shift's sectors are counted in one pass.
    let mut offsets: Vec<i64> = lanes.iter().map(|&t| concrete(t)).collect();
    offsets.sort_unstable();
    let count = |shift: i64| -> usize {
        let mut counted = 0i64;
        let mut last: Option<i64> = None;
        for &c in &offsets {
            let first = (c + shift).div_euclid(SECTOR_BYTES);
            let end = (c + shift + bytes - 1).div_euclid(SECTOR_BYTES);
            let from = last.map_or(first, |l| first.max(l + 1));
            if end >= from {
                counted += end - from + 1;
                last = Some(end);
            }
        }
        counted as usize
    };
    let aligned = count(0) as f64;
    if g == 0 || g % SECTOR_BYTES == 0 {
        return Some(WarpCost::Global {
            sectors: aligned,
            ideal,
            alignment_dependent: false,
            sectors_any_alignment: aligned,
            symbolic_stride: false,
        });
    }
    // The uniform part moves addresses by multiples of `g` only, so its
    // alignment within a sector is unknown. Count as if it were a whole number
    // of sectors, which is what the hardware sees in practice (allocations are
    // 256-byte aligned, row pitches are multiples of 32 bytes), and keep the
    // average over the alignments it could take otherwise.
    let step = super::lanes::gcd(g, SECTOR_BYTES);
    let per_shift: Vec<usize> = (0..SECTOR_BYTES)
        .step_by(step as usize)
        .map(count)
        .collect();
    let total: usize = per_shift.iter().sum();
    Some(WarpCost::Global {
        sectors: aligned,
        ideal,
        alignment_dependent: per_shift.iter().any(|&c| c as f64 != aligned),
        sectors_any_alignment: total as f64 / per_shift.len() as f64,
        symbolic_stride: false,
    })
}

/// Bank conflicts of one shared-memory request.
pub fn shared_cost(addr: &Poly, lanes: &[usize], bytes: u32) -> Option<WarpCost> {
    shared_cost_with_gcd(addr, lanes, bytes, addr.symbolic_gcd())
}

/// [`shared_cost`] with `addr.symbolic_gcd()` already known.
pub fn shared_cost_with_gcd(addr: &Poly, lanes: &[usize], bytes: u32, g: i64) -> Option<WarpCost> {
    if lanes.is_empty() || bytes == 0 {
        return None;
    }
    // A symbolic part that differs between lanes leaves banks unknown.
    if addr
        .terms
        .iter()
        .any(|(m, l)| !m.is_empty() && lanes.iter().any(|&t| l.get(t) != l.get(lanes[0])))
    {
        return None;
    }
    // A uniform shift that is a multiple of 4 bytes rotates banks and changes
    // no conflict; anything else leaves word boundaries unknown.
    if g != 0 && g % 4 != 0 {
        return None;
    }
    let concrete = |t: usize| addr.concrete().map_or(0, |l| l.get(t));
    let lanes_per_phase = match bytes {
        0..=4 => 32,
        5..=8 => 16,
        _ => 8,
    };
    let mut wavefronts = 0;
    let mut phases = 0;
    let mut worst = (0u32, 0u32, false);
    for phase in 0..(32 / lanes_per_phase) {
        let in_phase: Vec<usize> = lanes
            .iter()
            .copied()
            .filter(|t| (t % 32) / lanes_per_phase == phase)
            .collect();
        if in_phase.is_empty() {
            continue;
        }
        phases += 1;
        // (bank, word) pairs, deduplicated: lanes reading one word are one access.
        let mut pairs: Vec<(i64, i64)> = Vec::with_capacity(in_phase.len() * 4);
        let mut lanes_on_bank = [0usize; BANKS as usize];
        let words = ((bytes as i64) + 3) / 4;
        for &t in &in_phase {
            let start = concrete(t);
            for w in 0..words {
                let word = (start + 4 * w).div_euclid(4);
                let bank = word.rem_euclid(BANKS);
                pairs.push((bank, word));
                if w == 0 {
                    lanes_on_bank[bank as usize] += 1;
                }
            }
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut per_bank = [0usize; BANKS as usize];
        for (bank, _) in &pairs {
            per_bank[*bank as usize] += 1;
        }
        // The busiest bank (lowest index on ties).
        let (bank, words) = per_bank
            .iter()
            .enumerate()
            .fold(
                (0usize, 0usize),
                |best, (b, &n)| if n > best.1 { (b, n) } else { best },
            );
        let words = words.max(1);
        wavefronts += words as u32;
        if words as u32 > worst.0 {
            let all = lanes_on_bank[bank] == in_phase.len() && in_phase.len() > 1;
            worst = (words as u32, bank as u32, all);
        }
    }
    Some(WarpCost::Shared {
        ways: worst.0.max(1),
        wavefronts: wavefronts.max(1),
        ideal_wavefronts: phases.max(1),
        bank: worst.1,
        all_lanes_one_bank: worst.2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lanes32() -> Vec<usize> {
        (0..32).collect()
    }

    #[test]
    fn coalesced_and_strided_floats() {
        let a = Poly::per_thread((0..32).map(|t| t * 4).collect());
        assert_eq!(
            global_cost(&a, &lanes32(), 4),
            Some(WarpCost::Global {
                sectors: 4.0,
                ideal: 4,
                alignment_dependent: false,
                sectors_any_alignment: 4.0,
                symbolic_stride: false
            })
        );
        let strided = Poly::per_thread((0..32).map(|t| t * 4 * 33).collect());
        assert!(
            matches!(global_cost(&strided, &lanes32(), 4), Some(WarpCost::Global { sectors, .. }) if sectors == 32.0)
        );
        let float4 = Poly::per_thread((0..32).map(|t| t * 16).collect());
        assert!(
            matches!(global_cost(&float4, &lanes32(), 16), Some(WarpCost::Global { sectors, ideal: 16, .. }) if sectors == 16.0)
        );
    }

    #[test]
    fn bank_conflicts() {
        let column = Poly::per_thread((0..32).map(|t| t * 32 * 4).collect());
        assert!(matches!(
            shared_cost(&column, &lanes32(), 4),
            Some(WarpCost::Shared {
                ways: 32,
                all_lanes_one_bank: true,
                bank: 0,
                ..
            })
        ));
        let padded = Poly::per_thread((0..32).map(|t| t * 33 * 4).collect());
        assert!(matches!(
            shared_cost(&padded, &lanes32(), 4),
            Some(WarpCost::Shared { ways: 1, .. })
        ));
        let broadcast = Poly::per_thread(vec![8; 32]);
        assert!(matches!(
            shared_cost(&broadcast, &lanes32(), 4),
            Some(WarpCost::Shared { ways: 1, .. })
        ));
        let stride2 = Poly::per_thread((0..32).map(|t| t * 8).collect());
        assert!(matches!(
            shared_cost(&stride2, &lanes32(), 4),
            Some(WarpCost::Shared { ways: 2, .. })
        ));
        let doubles = Poly::per_thread((0..32).map(|t| t * 8).collect());
        assert!(matches!(
            shared_cost(&doubles, &lanes32(), 8),
            Some(WarpCost::Shared {
                ways: 1,
                wavefronts: 2,
                ideal_wavefronts: 2,
                ..
            })
        ));
        let float4 = Poly::per_thread((0..32).map(|t| t * 16).collect());
        assert!(matches!(
            shared_cost(&float4, &lanes32(), 16),
            Some(WarpCost::Shared {
                ways: 1,
                wavefronts: 4,
                ..
            })
        ));
    }
}
