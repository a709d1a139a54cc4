//! The one answer to "is this access wasteful?", shared by the diagnostics,
//! hover, inlay hints, tuning features and plugins so that they never
//! disagree about the same access.
//!
//! An access is wasteful when the excess share of what it moves,
//! (actual − ideal) / actual, is above [`WASTE_THRESHOLD`]: 32-byte sectors
//! for global memory, shared-memory wavefronts for shared memory. This is
//! Nsight Compute's own rule for its "uncoalesced global accesses" and
//! "shared bank conflicts" hints, and on the committed ground truth
//! (`tests/ground-truth`) cudalens flags an access iff ncu shows more than
//! 15 % excess.
//!
//! ```
//! use cudalens_analysis::memory::verdict::{Waste, waste};
//! // 8 sectors where 4 would do: half the traffic is excess.
//! let w = waste(8.0, 4.0).expect("wasteful");
//! assert_eq!(w.ratio(), 2.0);
//! assert_eq!(w.excess_share(), 0.5);
//! // 4.5 sectors where 4 would do (11 % excess) is not reported.
//! assert_eq!(waste(4.5, 4.0), None);
//! ```

use super::{AccessReport, MemorySpace};
use crate::diagnostic::Severity;

/// Excess share above which an access is wasteful (ncu's "excessive" share).
pub const WASTE_THRESHOLD: f64 = 0.15;

/// How much more an access moves than a perfect access of the same lanes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Waste {
    /// Sectors (global) or wavefronts (shared) per warp request.
    pub actual: f64,
    /// What a coalesced / conflict-free request of the same lanes needs.
    pub ideal: f64,
}

impl Waste {
    /// `actual / ideal`: 2.0 means twice the memory traffic.
    pub fn ratio(&self) -> f64 {
        self.actual / self.ideal
    }

    /// The fraction of what the access moves that a perfect access would not.
    pub fn excess_share(&self) -> f64 {
        (self.actual - self.ideal) / self.actual
    }
}

/// `Some` when `actual` exceeds `ideal` by more than [`WASTE_THRESHOLD`] of
/// `actual`; `None` when the access is efficient or a count is unusable.
pub fn waste(actual: f64, ideal: f64) -> Option<Waste> {
    let w = Waste { actual, ideal };
    (actual > 0.0 && ideal > 0.0 && w.excess_share() > WASTE_THRESHOLD).then_some(w)
}

impl AccessReport {
    /// The access's waste, when it is wasteful (see the module docs).
    pub fn waste(&self) -> Option<Waste> {
        match self.space {
            MemorySpace::Global => waste(self.sectors_per_request?, self.ideal_sectors?),
            MemorySpace::Shared => waste(self.bank_conflict_ways?, self.ideal_wavefronts?),
        }
    }

    /// Whether the access is wasteful: [`AccessReport::waste`] is `Some`.
    pub fn is_wasteful(&self) -> bool {
        self.waste().is_some()
    }
}

/// The severity of an uncoalesced global access: a warning from twice the
/// ideal traffic, a note below.
pub fn global_severity(w: &Waste) -> Severity {
    if w.actual >= 2.0 * w.ideal {
        Severity::Warning
    } else {
        Severity::Info
    }
}

/// The severity of a bank conflict, from the average N-way (distinct words
/// on the busiest bank): a warning from 4-way, a note below.
pub fn shared_severity(average_ways: f64) -> Severity {
    if average_ways >= 4.0 {
        Severity::Warning
    } else {
        Severity::Info
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(space: MemorySpace, actual: f64, ideal: f64) -> AccessReport {
        let global = space == MemorySpace::Global;
        AccessReport {
            kernel: "k".into(),
            span: crate::diagnostic::Span::new(0, 1),
            space,
            kind: super::super::AccessKind::Load,
            array: "a".into(),
            element_bytes: 4,
            sectors_per_request: global.then_some(actual),
            ideal_sectors: global.then_some(ideal),
            bank_conflict_ways: (!global).then_some(actual),
            worst_bank_conflict_ways: None,
            ideal_wavefronts: (!global).then_some(ideal),
            requests_per_block: 8.0,
            requests_exact: true,
            block: [256, 1, 1],
            block_assumed: false,
            symbolic_stride: false,
            alignment_dependent: false,
        }
    }

    #[test]
    fn the_threshold_is_an_excess_share_of_fifteen_percent() {
        // 4 / 0.85 = 4.705…: just above is wasteful, just below is not.
        assert!(waste(4.71, 4.0).is_some());
        assert!(waste(4.70, 4.0).is_none());
        assert!(waste(4.0, 4.0).is_none());
        assert!(waste(0.0, 4.0).is_none());
        assert!(waste(4.0, 0.0).is_none());
    }

    #[test]
    fn wide_shared_accesses_are_judged_against_their_ideal_wavefronts() {
        // A conflict-free float4 access needs 4 wavefronts: not a conflict.
        assert!(!access(MemorySpace::Shared, 4.0, 4.0).is_wasteful());
        assert!(access(MemorySpace::Shared, 8.0, 4.0).is_wasteful());
        assert!(access(MemorySpace::Global, 8.0, 4.0).is_wasteful());
        assert!(!access(MemorySpace::Global, 4.0, 4.0).is_wasteful());
    }

    #[test]
    fn severities() {
        assert_eq!(
            global_severity(&Waste {
                actual: 8.0,
                ideal: 4.0
            }),
            Severity::Warning
        );
        assert_eq!(
            global_severity(&Waste {
                actual: 5.0,
                ideal: 4.0
            }),
            Severity::Info
        );
        assert_eq!(shared_severity(4.0), Severity::Warning);
        assert_eq!(shared_severity(2.0), Severity::Info);
    }
}
