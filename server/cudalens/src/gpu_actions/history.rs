//! The workspace's benchmark history and the Markdown report.

use std::path::{Path, PathBuf};

use serde::Serialize;

use cudalens_gpu::{
    AdapterReport, AutotuneResult, BenchmarkResult, GpuError, History, HistoryRecord, Regression,
    ReportInput, RunWithFlag,
};

use super::launch::Prepared;

/// What the history says after appending a run.
#[derive(Debug, Clone, Serialize)]
pub struct HistoryOutcome {
    pub path: PathBuf,
    /// Newest first, including the run just appended.
    pub runs: Vec<RunWithFlag>,
    pub regression: Option<Regression>,
}

/// A history record for one run of `prepared` (problem size as asked, so
/// runs at different block sizes over the same problem compare).
pub(super) fn record(
    prepared: &Prepared,
    file: &str,
    result: &BenchmarkResult,
    adapter: &AdapterReport,
) -> HistoryRecord {
    let mut r = HistoryRecord::from_result(result, file, &prepared.bench.wgsl);
    r.problem_size = prepared.launch.problem_size.map(u64::from);
    r.tuning = prepared.tuning.clone();
    r.adapter_info = Some(adapter.into());
    r
}

/// What was measured, to be recorded: a benchmark (with its native CUDA
/// median when `--native` ran) or a sweep.
#[derive(Clone, Copy)]
pub struct Measurements<'a> {
    pub adapter: &'a AdapterReport,
    pub bench: Option<&'a BenchmarkResult>,
    pub native_ms: Option<f64>,
    pub sweep: Option<&'a AutotuneResult>,
}

/// Appends the benchmark (or every measured candidate of a sweep, the best
/// last) to `<root>/.cudalens/history.redb` and reads back the recent runs.
pub fn record_history(
    root: &Path,
    file: &str,
    prepared: &Prepared,
    measured: Measurements<'_>,
) -> Result<HistoryOutcome, GpuError> {
    let Measurements {
        adapter,
        bench,
        native_ms,
        sweep,
    } = measured;
    let history = History::open(root)?;
    let mut newest = None;
    // One value for all candidates: the dashboard shows them as one sweep.
    let sweep_id = cudalens_gpu::history::now_ms();
    if let Some(sweep) = sweep {
        for (i, entry) in sweep.entries.iter().enumerate() {
            if Some(i) == sweep.best {
                continue;
            }
            let cudalens_gpu::CandidateOutcome::Measured {
                timing,
                gb_per_s,
                timing_method,
                ..
            } = &entry.outcome
            else {
                continue;
            };
            let mut r = HistoryRecord {
                timestamp_ms: cudalens_gpu::history::now_ms(),
                file: file.to_string(),
                kernel: sweep.kernel.clone(),
                adapter: sweep.adapter.clone(),
                workgroup_size: entry.workgroup_size,
                problem_size: [0; 3],
                median_ms: timing.median_ms,
                gb_per_s: *gb_per_s,
                wgsl_hash: cudalens_gpu::history::content_hash(&prepared.bench.wgsl),
                tuning: prepared.tuning.clone(),
                min_ms: Some(timing.min_ms),
                p95_ms: Some(timing.p95_ms),
                native_ms: None,
                sweep: Some(sweep_id),
                adapter_info: Some(adapter.into()),
                timing_method: *timing_method,
            };
            r.problem_size = prepared.launch.problem_size.map(u64::from);
            history.append(&r)?;
        }
        if let Some(best) = &sweep.best_result {
            let mut r = record(prepared, file, best, adapter);
            r.sweep = Some(sweep_id);
            history.append(&r)?;
            newest = Some(best);
        }
    }
    if let Some(result) = bench {
        let mut r = record(prepared, file, result, adapter);
        r.native_ms = native_ms;
        history.append(&r)?;
        newest = Some(result);
    }
    let (runs, regression) = match newest {
        Some(r) => (
            history.last_runs(&r.kernel, &r.adapter, 10)?,
            history.latest_regression(&r.kernel, &r.adapter)?,
        ),
        None => (Vec::new(), None),
    };
    Ok(HistoryOutcome {
        path: history.path().to_path_buf(),
        runs,
        regression,
    })
}

/// The regression warning line, if any.
pub fn regression_warning(kernel: &str, regression: &Regression) -> String {
    format!(
        "`{kernel}` regressed: median {:.4} ms is {:.0}% slower than the best previous run ({:.4} ms)",
        regression.median_ms,
        regression.slowdown * 100.0,
        regression.best_previous_ms
    )
}

/// The full Markdown report, with the workload it measured: the launch,
/// scalars and buffers, and where each came from (`file`: the kernel's
/// file name, for the host code's location).
pub fn report_markdown(
    adapter: &AdapterReport,
    prepared: &Prepared,
    file: &str,
    bench: Option<&BenchmarkResult>,
    sweep: Option<&AutotuneResult>,
    history: &[RunWithFlag],
) -> String {
    let mut md = cudalens_gpu::render_markdown(&ReportInput {
        hardware: Some(adapter),
        benchmark: bench.or(sweep.and_then(|s| s.best_result.as_ref())),
        autotune: sweep,
        history,
    });
    md.push_str("\n## Workload\n\n```text\n");
    for line in super::format::launch_lines(&prepared.launch, file) {
        md.push_str(&line);
        md.push('\n');
    }
    md.push_str("```\n");
    md
}

/// Writes a report, creating its directory.
pub fn write_report(path: &Path, markdown: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, markdown).map_err(|e| format!("{}: {e}", path.display()))
}
