//! A tuning plugin's variants (`host/benchmark`): the kernel transpiled with
//! the variant's block and unroll factor, timed over a fixed problem.

use std::path::Path;
use std::time::Duration;

use cudalens_gpu::{History, Runner};
use cudalens_ide::tune::block_limits;
use cudalens_plugin_host::protocol::{BenchResult, Variant};
use cudalens_syntax::FileModel;

use super::history::record;
use super::launch::{BenchOptions, prepare};

/// The kernel whose variants [`benchmark_variant`] times, and how.
pub struct VariantTarget<'a> {
    pub model: &'a FileModel,
    pub text: &'a str,
    pub source: &'a Path,
    pub kernel: &'a str,
    /// N, or the side N of an N×N problem for 2D kernels.
    pub size: u32,
    pub warmup: u32,
    pub iterations: u32,
    /// Bound on the GPU work of the run.
    pub timeout: Duration,
    /// Where to record successful runs, so tuning sessions grow the
    /// workspace's history (training data for the learned tuner).
    pub history: Option<HistoryTarget<'a>>,
}

/// A workspace history to append runs to, and what to store with them.
pub struct HistoryTarget<'a> {
    pub root: &'a Path,
    /// The file label stored with each run (workspace-relative).
    pub file: &'a str,
    pub tuning: Option<serde_json::Value>,
}

/// Benchmarks one variant of `kernel` (a plugin's `host/benchmark`): the
/// kernel transpiled with `variant.block` as its workgroup size and its
/// loops unrolled by `variant.unroll`, over a problem of `target.size`.
/// Every failure, including variants this host cannot build (`defines`),
/// is `ok: false` with the reason. Blocking: call it on a blocking thread.
pub fn benchmark_variant(
    runner: &mut Runner,
    target: &VariantTarget<'_>,
    variant: &Variant,
) -> BenchResult {
    if !variant.defines.is_empty() {
        return BenchResult::failure("this host cannot apply `defines` to a variant");
    }
    if variant.block.contains(&0) {
        return BenchResult::failure("block dimensions must be positive");
    }
    let adapter = match runner.adapter() {
        Ok(a) => a,
        Err(e) => return BenchResult::failure(e.to_string()),
    };
    let limits = block_limits(&adapter);
    if variant.threads() > u64::from(limits.max_threads_per_block)
        || (0..3).any(|i| variant.block[i] > limits.max_block_dims[i])
    {
        return BenchResult::failure(format!(
            "block {} exceeds the adapter's limits ({} threads, {:?})",
            variant.label(),
            limits.max_threads_per_block,
            limits.max_block_dims
        ));
    }
    let opts = BenchOptions {
        size: Some(target.size),
        block: Some(variant.block),
        warmup: target.warmup,
        iterations: target.iterations,
        timeout: target.timeout,
        unroll: variant.unroll,
        ..BenchOptions::default()
    };
    let t = target;
    let mut prepared = match prepare(t.model, t.text, t.source, t.kernel, &opts, &adapter) {
        Ok(p) => p,
        Err(e) => return BenchResult::failure(e.to_string()),
    };
    // A tuning candidate is measured as the CUDA launch would run it.
    prepared.bench.merge_small_blocks = false;
    match runner.run(&prepared.bench) {
        Ok(r) => {
            // Runs with an unroll factor are not comparable block-size data.
            if let Some(h) = &t.history
                && variant.unroll.unwrap_or(1) <= 1
            {
                prepared.tuning = h.tuning.clone();
                // Append only (no read-back of recent runs: nobody shows them here).
                // Best effort: a history that cannot be written must not fail the tuning.
                let _ = History::open(h.root)
                    .and_then(|history| history.append(&record(&prepared, h.file, &r, &adapter)));
            }
            BenchResult::success(r.timing.median_ms, Some(r.gb_per_s))
        }
        Err(e) => BenchResult::failure(e.to_string()),
    }
}
