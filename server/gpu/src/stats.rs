//! Summary statistics over per-dispatch times.

use serde::{Deserialize, Serialize};

/// Per-dispatch times in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TimingStats {
    pub samples: usize,
    pub min_ms: f64,
    pub median_ms: f64,
    /// Nearest-rank 95th percentile.
    pub p95_ms: f64,
    pub mean_ms: f64,
}

impl TimingStats {
    /// `None` for an empty sample set.
    pub fn from_samples(samples_ms: &[f64]) -> Option<Self> {
        if samples_ms.is_empty() {
            return None;
        }
        let mut s = samples_ms.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        // Nearest rank: the smallest sample with at least 95% of samples ≤ it.
        let p95_rank = (0.95 * n as f64).ceil() as usize;
        Some(TimingStats {
            samples: n,
            min_ms: s[0],
            median_ms: median,
            p95_ms: s[p95_rank.clamp(1, n) - 1],
            mean_ms: s.iter().sum::<f64>() / n as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_samples() {
        let samples: Vec<f64> = (1..=20).rev().map(f64::from).collect();
        let s = TimingStats::from_samples(&samples).unwrap();
        assert_eq!(
            (s.min_ms, s.median_ms, s.p95_ms, s.mean_ms),
            (1.0, 10.5, 19.0, 10.5)
        );
        let one = TimingStats::from_samples(&[2.0]).unwrap();
        assert_eq!((one.min_ms, one.median_ms, one.p95_ms), (2.0, 2.0, 2.0));
        let two = TimingStats::from_samples(&[1.0, 3.0]).unwrap();
        assert!(two.min_ms <= two.median_ms && two.median_ms <= two.p95_ms);
        assert!(TimingStats::from_samples(&[]).is_none());
    }
}
