//! Leave-one-kernel-out evaluation on a real benchmark history (the JSON
//! lines `cudalens history export` writes): for each kernel, train on every
//! other kernel's runs, rank the block sizes that were measured for the
//! held-out kernel, and check the measured time of the top pick.

use std::collections::{BTreeMap, BTreeSet};

use crate::features::Record;
use crate::mlp::TrainConfig;
use crate::synthetic::Evaluation;
use crate::tuner::{Prediction, Thresholds, Tuner, heuristic};

/// A kernel needs this many measured block sizes to be scored (fewer make
/// "within 10% of the best" trivially true).
const MIN_MEASURED_BLOCKS: usize = 3;

/// One kernel's runs on one adapter: the fastest median per block.
struct Measured<'a> {
    example: &'a Record,
    best_per_block: BTreeMap<[u32; 3], f64>,
}

impl Measured<'_> {
    fn best(&self) -> f64 {
        self.best_per_block
            .values()
            .copied()
            .fold(f64::INFINITY, f64::min)
    }

    /// Time of the highest-ranked block that was measured.
    fn time_of_pick(&self, prediction: &Prediction) -> f64 {
        prediction
            .ranked
            .iter()
            .find_map(|(block, _)| self.best_per_block.get(block).copied())
            .unwrap_or(f64::INFINITY)
    }
}

fn group(records: &[Record]) -> BTreeMap<(String, String), Measured<'_>> {
    let mut groups: BTreeMap<(String, String), Measured<'_>> = BTreeMap::new();
    for r in records
        .iter()
        .filter(|r| r.median_ms.is_finite() && r.median_ms > 0.0)
    {
        let entry = groups
            .entry((r.kernel_id.clone(), r.adapter.name.clone()))
            .or_insert_with(|| Measured {
                example: r,
                best_per_block: BTreeMap::new(),
            });
        let t = entry.best_per_block.entry(r.block).or_insert(f64::INFINITY);
        *t = t.min(r.median_ms);
    }
    groups
}

/// Scores the model (retrained without each kernel), the heuristics and the
/// fixed 256 / 16x16 choice on every kernel with enough measured blocks.
pub fn leave_one_kernel_out(records: &[Record], config: &TrainConfig) -> Evaluation {
    let groups = group(records);
    let kernels: BTreeSet<&str> = groups.keys().map(|(k, _)| k.as_str()).collect();
    let (mut model_hits, mut heuristic_hits, mut fixed_hits, mut scored) = (0, 0, 0, 0);
    let (mut model_log_slow, mut heuristic_log_slow) = (0.0, 0.0);
    let mut train_runs = 0;
    for held_out in &kernels {
        let train: Vec<Record> = records
            .iter()
            .filter(|r| r.kernel_id != *held_out)
            .cloned()
            .collect();
        let tuner = Tuner::train(&train, Thresholds::default(), config);
        for ((kernel, _), measured) in &groups {
            if kernel != held_out || measured.best_per_block.len() < MIN_MEASURED_BLOCKS {
                continue;
            }
            let (features, adapter) = (&measured.example.kernel, &measured.example.adapter);
            let best = measured.best();
            let model_t = measured.time_of_pick(&tuner.predict(features, adapter));
            let heuristic_t = measured.time_of_pick(&heuristic(features, adapter));
            let fixed = if features.is_2d {
                [16, 16, 1]
            } else {
                [256, 1, 1]
            };
            let fixed_t = measured
                .best_per_block
                .get(&fixed)
                .copied()
                .unwrap_or(f64::INFINITY);
            model_hits += usize::from(model_t <= best * 1.10);
            heuristic_hits += usize::from(heuristic_t <= best * 1.10);
            fixed_hits += usize::from(fixed_t <= best * 1.10);
            model_log_slow += (model_t / best).min(2.0).ln();
            heuristic_log_slow += (heuristic_t / best).min(2.0).ln();
            scored += 1;
            train_runs += train.len();
        }
    }
    let n = scored.max(1) as f64;
    Evaluation {
        train_kernels: kernels.len().saturating_sub(1),
        train_runs: train_runs / scored.max(1),
        held_out_kernels: scored,
        model_within_10pct: model_hits as f64 / n,
        heuristic_within_10pct: heuristic_hits as f64 / n,
        fixed_within_10pct: fixed_hits as f64 / n,
        model_mean_slowdown: (model_log_slow / n).exp(),
        heuristic_mean_slowdown: (heuristic_log_slow / n).exp(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{AdapterFeatures, KernelFeatures};

    /// Kernels whose best block follows their shared memory use: a learnable
    /// rule the heuristics do not know.
    fn history() -> Vec<Record> {
        let mut out = Vec::new();
        for k in 0..12u32 {
            let big = k % 2 == 0;
            let kernel = KernelFeatures {
                access_pattern: "coalesced".into(),
                shared_mem_bytes: if big { 32768 } else { 0 },
                ..KernelFeatures::default()
            };
            for (i, block) in [64u32, 128, 256, 512, 1024].into_iter().enumerate() {
                let fast = if big { 0 } else { 4 };
                let ms = 1.0 + (i as f64 - fast as f64).abs() * 0.5 + f64::from(k) * 0.01;
                out.push(Record {
                    kernel_id: format!("k{k}"),
                    kernel: kernel.clone(),
                    adapter: AdapterFeatures::default(),
                    block: [block, 1, 1],
                    median_ms: ms,
                });
            }
        }
        out
    }

    #[test]
    fn learns_a_rule_from_other_kernels() {
        let eval = leave_one_kernel_out(&history(), &TrainConfig::default());
        assert_eq!(eval.held_out_kernels, 12);
        assert_eq!(eval.train_kernels, 11);
        assert!(eval.model_within_10pct >= 0.9, "{eval}");
        // 256 is never within 10% of the best here.
        assert_eq!(eval.fixed_within_10pct, 0.0);
    }
}
