//! Choosing a block size: a learned ranking once there is enough history, clear heuristics
//! before that.

use std::collections::{HashMap, HashSet};

use crate::features::{AdapterFeatures, KernelFeatures, Record, block_label, candidates, encode};
use crate::mlp::{Mlp, TrainConfig};

/// How much history is needed before the model is trusted over the heuristics.
#[derive(Debug, Clone, Copy)]
pub struct Thresholds {
    pub min_records: usize,
    pub min_kernels: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_records: 30,
            min_kernels: 5,
        }
    }
}

/// Which method produced a prediction.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    Heuristic,
    Model { runs: usize },
}

impl Method {
    pub fn describe(&self) -> String {
        match self {
            Method::Heuristic => "heuristic".into(),
            Method::Model { runs } => format!("model (trained on {runs} runs)"),
        }
    }
}

/// Candidates ranked best first, with the score used (lower is better).
#[derive(Debug, Clone)]
pub struct Prediction {
    pub ranked: Vec<([u32; 3], f64)>,
    pub method: Method,
    pub rationale: String,
}

impl Prediction {
    pub fn best(&self) -> Option<[u32; 3]> {
        self.ranked.first().map(|(b, _)| *b)
    }
}

/// Rule-of-thumb ranking: 256 threads for 1D kernels (128 for register-heavy compute-bound
/// ones), 16x16 for 2D kernels, penalising candidates the occupancy limiter hurts.
pub fn heuristic(kernel: &KernelFeatures, adapter: &AdapterFeatures) -> Prediction {
    let compute_bound = kernel.arithmetic_intensity >= 10.0;
    let (preferred, why): ([u32; 3], &str) = if kernel.is_2d {
        ([16, 16, 1], "16x16 tiles suit 2D kernels")
    } else if compute_bound && kernel.registers > 64 {
        (
            [128, 1, 1],
            "128 threads leave registers for a register-heavy compute-bound kernel",
        )
    } else {
        (
            [256, 1, 1],
            "256 threads hide memory latency well for 1D kernels",
        )
    };
    let options = candidates(kernel.is_2d, adapter.max_invocations);
    let best_occupancy = options
        .iter()
        .map(|&b| kernel.occupancy_for(b))
        .fold(0.0, f64::max);
    let threads = |b: [u32; 3]| f64::from(b[0] * b[1] * b[2]).log2();
    let mut ranked: Vec<([u32; 3], f64)> = options
        .iter()
        .map(|&b| {
            let distance = (threads(b) - threads(preferred)).abs()
                + 0.5 * (f64::from(b[0]).log2() - f64::from(preferred[0]).log2()).abs();
            // A candidate that loses occupancy to the limiter is worse than a size step away.
            let occupancy_loss = 4.0 * (best_occupancy - kernel.occupancy_for(b));
            (b, distance + occupancy_loss)
        })
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut rationale = why.to_owned();
    if let Some((b, _)) = ranked.first()
        && *b != preferred
    {
        rationale = format!(
            "{why}, but occupancy limits {} so {} is preferred",
            block_label(preferred),
            block_label(*b)
        );
    }
    Prediction {
        ranked,
        method: Method::Heuristic,
        rationale,
    }
}

/// A ranking model trained on history, or the heuristics when history is too thin.
pub struct Tuner {
    model: Option<(Mlp, usize)>,
    /// Why there is no model (shown to the user).
    pub status: String,
}

impl Tuner {
    pub fn heuristic_only(status: impl Into<String>) -> Self {
        Tuner {
            model: None,
            status: status.into(),
        }
    }

    /// Trains when `records` clears `thresholds`. The target is each run's log-time relative
    /// to the mean of its (kernel, adapter) group, so the network learns which block sizes
    /// are faster for a kind of kernel rather than how big the kernels were.
    pub fn train(records: &[Record], thresholds: Thresholds, config: &TrainConfig) -> Tuner {
        let valid: Vec<&Record> = records
            .iter()
            .filter(|r| r.median_ms.is_finite() && r.median_ms > 0.0)
            .collect();
        let kernels: HashSet<&str> = valid.iter().map(|r| r.kernel_id.as_str()).collect();
        if valid.len() < thresholds.min_records || kernels.len() < thresholds.min_kernels {
            return Tuner::heuristic_only(format!(
                "{} runs across {} kernels; the model needs at least {} runs across {} kernels",
                valid.len(),
                kernels.len(),
                thresholds.min_records,
                thresholds.min_kernels
            ));
        }
        let mut groups: HashMap<(&str, &str), Vec<&Record>> = HashMap::new();
        for r in &valid {
            groups
                .entry((r.kernel_id.as_str(), r.adapter.name.as_str()))
                .or_default()
                .push(r);
        }
        let mut keys: Vec<_> = groups.keys().copied().collect();
        keys.sort(); // HashMap order is random; training must be deterministic
        let (mut inputs, mut targets) = (Vec::new(), Vec::new());
        for key in keys {
            let group = &groups[&key];
            if group.len() < 2 {
                continue; // a lone run says nothing about relative speed
            }
            let mean = group.iter().map(|r| r.median_ms.ln()).sum::<f64>() / group.len() as f64;
            for r in group {
                inputs.push(encode(&r.kernel, &r.adapter, r.block));
                targets.push((r.median_ms.ln() - mean) as f32);
            }
        }
        if inputs.len() < thresholds.min_records {
            return Tuner::heuristic_only(
                "too few kernels were measured with more than one block size",
            );
        }
        let runs = inputs.len();
        let (net, _) = Mlp::train(&inputs, &targets, config);
        Tuner {
            model: Some((net, runs)),
            status: format!("model trained on {runs} runs"),
        }
    }

    pub fn predict(&self, kernel: &KernelFeatures, adapter: &AdapterFeatures) -> Prediction {
        let Some((net, runs)) = &self.model else {
            return heuristic(kernel, adapter);
        };
        let mut ranked: Vec<([u32; 3], f64)> = candidates(kernel.is_2d, adapter.max_invocations)
            .into_iter()
            .filter(|&b| kernel.occupancy_for(b) > 0.0) // cannot launch at all
            .map(|b| (b, f64::from(net.predict(&encode(kernel, adapter, b)))))
            .collect();
        ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
        let rationale = match ranked.as_slice() {
            [(best, s1), (second, s2), ..] => format!(
                "predicted {} to be {:.0}% faster than the runner-up {}",
                block_label(*best),
                ((s2 - s1).exp() - 1.0) * 100.0,
                block_label(*second)
            ),
            _ => "only one candidate fits".into(),
        };
        if ranked.is_empty() {
            return heuristic(kernel, adapter);
        }
        Prediction {
            ranked,
            method: Method::Model { runs: *runs },
            rationale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heuristics_follow_the_rules() {
        let adapter = AdapterFeatures::default();
        let mut k = KernelFeatures {
            access_pattern: "coalesced".into(),
            arithmetic_intensity: 0.2,
            ..Default::default()
        };
        assert_eq!(heuristic(&k, &adapter).best(), Some([256, 1, 1]));
        k.is_2d = true;
        assert_eq!(heuristic(&k, &adapter).best(), Some([16, 16, 1]));
        // Occupancy limiter: 256 threads only reach half the occupancy of 128.
        k.is_2d = false;
        k.occupancy = [
            ("64", 0.5),
            ("128", 1.0),
            ("256", 0.5),
            ("512", 0.5),
            ("1024", 0.0),
        ]
        .iter()
        .map(|(l, o)| (l.to_string(), *o))
        .collect();
        let p = heuristic(&k, &adapter);
        assert_eq!(p.best(), Some([128, 1, 1]));
        assert!(p.rationale.contains("occupancy"), "{}", p.rationale);
    }

    #[test]
    fn too_little_history_means_heuristics() {
        let tuner = Tuner::train(&[], Thresholds::default(), &TrainConfig::default());
        let p = tuner.predict(&KernelFeatures::default(), &AdapterFeatures::default());
        assert_eq!(p.method, Method::Heuristic);
        assert!(tuner.status.contains("0 runs across 0 kernels"));
    }
}
