//! Workgroup-size sweeps: benchmark one kernel at several block sizes over
//! the same problem and pick the fastest. Every candidate gets the same
//! problem (grid = ceil(problem / block)), the same buffer specs (sizes and
//! seeds: the same input bytes) and the same arguments; only the block and
//! the grid change. Whether that is the same *work* depends on the kernel:
//! [`AutotuneResult::rank_nothing`] is for kernels whose block is a tile.

use serde::{Deserialize, Serialize};

use crate::adapter::AdapterLimits;
use crate::bench::{Benchmark, BenchmarkResult, Runner, TimingMethod};
use crate::error::GpuError;
use crate::grid::grid_for_problem;
use crate::stats::TimingStats;

/// Candidate sizes for 1D kernels.
pub const CANDIDATES_1D: [[u32; 3]; 6] = [
    [32, 1, 1],
    [64, 1, 1],
    [128, 1, 1],
    [256, 1, 1],
    [512, 1, 1],
    [1024, 1, 1],
];

/// Candidate sizes for 2D kernels.
pub const CANDIDATES_2D: [[u32; 3]; 9] = [
    [8, 8, 1],
    [16, 8, 1],
    [8, 16, 1],
    [16, 16, 1],
    [32, 4, 1],
    [32, 8, 1],
    [32, 16, 1],
    [64, 4, 1],
    [32, 32, 1],
];

/// The default candidates for a problem shape, filtered by the adapter's limits.
/// A problem with more than one row (`problem[1] > 1`) is treated as 2D.
pub fn candidate_workgroup_sizes(problem: [u32; 3], limits: &AdapterLimits) -> Vec<[u32; 3]> {
    let all: &[[u32; 3]] = if problem[1] > 1 {
        &CANDIDATES_2D
    } else {
        &CANDIDATES_1D
    };
    all.iter()
        .copied()
        .filter(|&wg| limits.allows_workgroup(wg))
        .collect()
}

/// What happened to one candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CandidateOutcome {
    Measured {
        timing: TimingStats,
        gb_per_s: f64,
        gflop_per_s: Option<f64>,
        /// How the samples were taken (older sweeps: one per pass).
        #[serde(default)]
        timing_method: TimingMethod,
    },
    /// Failed validation, compilation, a limit or the timeout.
    Skipped { reason: String },
}

/// One row of the sweep table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutotuneEntry {
    pub workgroup_size: [u32; 3],
    pub grid: [u32; 3],
    pub outcome: CandidateOutcome,
}

impl AutotuneEntry {
    pub fn median_ms(&self) -> Option<f64> {
        match &self.outcome {
            CandidateOutcome::Measured { timing, .. } => Some(timing.median_ms),
            CandidateOutcome::Skipped { .. } => None,
        }
    }
}

/// The sweep table and its winner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutotuneResult {
    pub kernel: String,
    pub adapter: String,
    pub problem_size: [u32; 3],
    pub entries: Vec<AutotuneEntry>,
    /// Index into `entries` of the lowest median, if any candidate ran.
    pub best: Option<usize>,
    /// Full result of the best candidate (outputs included).
    #[serde(skip)]
    pub best_result: Option<BenchmarkResult>,
    /// Why the kernel's work depends on its block size, when it does (the
    /// caller knows the CUDA; see [`AutotuneResult::rank_nothing`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_depends_on_launch: Option<String>,
}

impl AutotuneResult {
    /// Every candidate ran the same problem with the same buffers, but a
    /// kernel whose work depends on its block (a tile fixed in the code)
    /// computed something else at each: the times stay, there is no best.
    pub fn rank_nothing(&mut self, reason: &str) {
        self.work_depends_on_launch = Some(reason.to_string());
        self.best = None;
        self.best_result = None;
    }

    pub fn best_entry(&self) -> Option<&AutotuneEntry> {
        self.best.and_then(|i| self.entries.get(i))
    }
}

/// Benchmarks `base` at each candidate workgroup size (default candidates
/// when `candidates` is `None`), recomputing the grid as ceil(problem / wg).
///
/// Per-candidate failures (validation, compile, out-of-memory, timeout) are
/// recorded as skipped; failures that make further candidates pointless
/// (no adapter, device cannot be opened, invalid interface) abort the sweep.
pub fn autotune(
    runner: &mut Runner,
    base: &Benchmark,
    problem_size: [u32; 3],
    candidates: Option<&[[u32; 3]]>,
) -> Result<AutotuneResult, GpuError> {
    if !base.interface.has_workgroup_overrides() {
        return Err(GpuError::InvalidInterface(
            "kernel has a fixed workgroup size (no workgroup_size_overrides); nothing to tune"
                .into(),
        ));
    }
    base.interface.validate()?;
    let adapter = runner.adapter()?;
    let candidates = match candidates {
        Some(c) => c.to_vec(),
        None => candidate_workgroup_sizes(problem_size, &adapter.limits),
    };
    let mut entries = Vec::with_capacity(candidates.len());
    let mut best: Option<(usize, BenchmarkResult)> = None;
    for wg in candidates {
        let grid = grid_for_problem(problem_size, wg);
        let outcome = if adapter.limits.allows_workgroup(wg) {
            let mut bench = base.clone();
            bench.launch.block = wg;
            bench.launch.grid = grid;
            // Each candidate as the CUDA launch would run it: a 64-thread
            // block merged into a 256-thread workgroup would measure like 256.
            bench.merge_small_blocks = false;
            match runner.run(&bench) {
                Ok(result) => {
                    let outcome = CandidateOutcome::Measured {
                        timing: result.timing,
                        gb_per_s: result.gb_per_s,
                        gflop_per_s: result.gflop_per_s,
                        timing_method: result.timing_method,
                    };
                    let better = best
                        .as_ref()
                        .is_none_or(|(_, b)| result.timing.median_ms < b.timing.median_ms);
                    if better {
                        best = Some((entries.len(), result));
                    }
                    outcome
                }
                Err(
                    e @ (GpuError::NoAdapter(_)
                    | GpuError::AdapterNotFound { .. }
                    | GpuError::RequestDevice(_)),
                ) => {
                    return Err(e);
                }
                Err(e) => CandidateOutcome::Skipped {
                    reason: e.to_string(),
                },
            }
        } else {
            CandidateOutcome::Skipped {
                reason: "exceeds the adapter's workgroup limits".into(),
            }
        };
        entries.push(AutotuneEntry {
            workgroup_size: wg,
            grid,
            outcome,
        });
    }
    let (best, best_result) = match best {
        Some((i, r)) => (Some(i), Some(r)),
        None => (None, None),
    };
    Ok(AutotuneResult {
        kernel: base.interface.source_kernel.clone(),
        adapter: adapter.name,
        problem_size,
        entries,
        best,
        best_result,
        work_depends_on_launch: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::tests::fake_adapter;

    #[test]
    fn candidates_respect_limits_and_dimensionality() {
        let mut limits = fake_adapter("x", "Cpu").limits;
        assert_eq!(candidate_workgroup_sizes([1 << 20, 1, 1], &limits).len(), 6);
        limits.max_compute_invocations_per_workgroup = 256;
        let one_d = candidate_workgroup_sizes([1 << 20, 1, 1], &limits);
        assert_eq!(one_d.last(), Some(&[256, 1, 1]));
        let two_d = candidate_workgroup_sizes([512, 512, 1], &limits);
        assert!(two_d.contains(&[16, 16, 1]));
        assert!(!two_d.contains(&[32, 16, 1]));
        assert!(two_d.iter().all(|wg| wg[1] > 1));
    }
}
