//! An autotune sweep run one candidate at a time, so it can be cancelled
//! and report progress between candidates.

use cudalens_gpu::autotune::candidate_workgroup_sizes;
use cudalens_gpu::{AutotuneResult, GpuError, Runner, autotune};

use super::launch::Prepared;

/// Outcome of a sweep that may have been cancelled part-way.
pub struct Sweep {
    pub result: AutotuneResult,
    pub cancelled: bool,
}

/// [`autotune()`] one candidate at a time, so `keep_going(i, n, wg)` can stop
/// the sweep between candidates (cancellation, progress reports).
pub fn autotune_stepwise(
    runner: &mut Runner,
    prepared: &Prepared,
    mut keep_going: impl FnMut(usize, usize, [u32; 3]) -> bool,
) -> Result<Sweep, GpuError> {
    let adapter = runner.adapter()?;
    let problem = prepared.launch.problem_size;
    let candidates = candidate_workgroup_sizes(problem, &adapter.limits);
    let mut merged = AutotuneResult {
        kernel: prepared.kernel.clone(),
        adapter: adapter.name.clone(),
        problem_size: problem,
        entries: Vec::new(),
        best: None,
        best_result: None,
        work_depends_on_launch: None,
    };
    let mut cancelled = false;
    for (i, wg) in candidates.iter().enumerate() {
        if !keep_going(i, candidates.len(), *wg) {
            cancelled = true;
            break;
        }
        let one = autotune(runner, &prepared.bench, problem, Some(&[*wg]))?;
        for entry in one.entries {
            let faster = entry.median_ms().is_some_and(|m| {
                merged
                    .best_entry()
                    .and_then(|b| b.median_ms())
                    .is_none_or(|best| m < best)
            });
            merged.entries.push(entry);
            if faster {
                merged.best = Some(merged.entries.len() - 1);
                merged.best_result.clone_from(&one.best_result);
            }
        }
    }
    if let Some(reason) = &prepared.launch_dependent_work {
        merged.rank_nothing(reason);
    }
    Ok(Sweep {
        result: merged,
        cancelled,
    })
}
