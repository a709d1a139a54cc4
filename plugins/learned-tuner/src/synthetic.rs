//! Synthetic benchmark history from a documented cost model, and the hold-out evaluation
//! of the tuner on it.
//!
//! The cost model (per kernel, adapter and block size) is a roofline with corrections:
//!
//! ```text
//! time = max(bytes_moved / (bandwidth × pattern_efficiency), flops / peak_flops)
//!        × latency_penalty(occupancy) × tail_effect + scheduling + launch_overhead
//! time_measured = time × exp(0.03 × N(0, 1))            (3% log-normal noise)
//! ```
//!
//! * occupancy: the CUDA occupancy calculation (threads, registers, shared memory and
//!   blocks per SM limits); a block that cannot fit is not measured at all;
//! * latency_penalty = 1 / min(1, occupancy / needed)^0.7, with `needed` 0.5 for
//!   memory-bound and 0.25 for compute-bound kernels (less occupancy hides less latency);
//! * pattern_efficiency: coalesced 0.92, strided 0.30, random 0.12; 2D kernels with rows
//!   narrower than 32 threads lose coalescing (× sqrt(x/32)); stencils pay the halo
//!   `(x+2)(y+2)/(xy)`; tiled kernels move `16/sqrt(threads)` of the naive bytes (bigger
//!   tiles mean more reuse) and pay 4% per doubling above 256 threads for barriers;
//! * tail_effect = ceil(waves) / waves for the number of waves of blocks over all SMs;
//! * scheduling: 0.02 µs per block spread over the SMs; launch overhead 4 µs.
//!
//! It is a plausible model, not a GPU: the evaluation shows the learner can recover such
//! structure from features, not how well it does on real hardware.

use std::collections::BTreeMap;

use crate::features::{
    ACCESS_PATTERNS, AdapterFeatures, KernelFeatures, Record, block_label, candidates,
};
use crate::mlp::TrainConfig;
use crate::rng::Rng;
use crate::tuner::{Thresholds, Tuner, heuristic};

/// A synthetic device.
pub struct Device {
    pub features: AdapterFeatures,
    pub sms: u32,
    pub bandwidth_gbs: f64,
    pub peak_gflops: f64,
    pub registers_per_sm: u32,
    pub shared_per_sm: u64,
    pub threads_per_sm: u32,
    pub blocks_per_sm: u32,
}

// One row of the device table; positional arguments read best next to the rows below.
#[allow(clippy::too_many_arguments)]
fn device(
    name: &str,
    vendor: &str,
    subgroup: u32,
    max_inv: u32,
    sms: u32,
    bw: f64,
    peak: f64,
    regs: u32,
    smem: u64,
    threads: u32,
    blocks: u32,
) -> Device {
    Device {
        features: AdapterFeatures {
            name: name.into(),
            vendor: vendor.into(),
            subgroup_size: subgroup,
            max_invocations: max_inv,
        },
        sms,
        bandwidth_gbs: bw,
        peak_gflops: peak,
        registers_per_sm: regs,
        shared_per_sm: smem,
        threads_per_sm: threads,
        blocks_per_sm: blocks,
    }
}

/// Four devices with different balances of bandwidth, compute and per-SM resources.
pub fn devices() -> Vec<Device> {
    vec![
        device(
            "Synthetic H100-like",
            "nvidia",
            32,
            1024,
            132,
            3350.0,
            60_000.0,
            65536,
            228 * 1024,
            2048,
            32,
        ),
        device(
            "Synthetic RTX 4070-like",
            "nvidia",
            32,
            1024,
            46,
            504.0,
            29_000.0,
            65536,
            100 * 1024,
            1536,
            24,
        ),
        device(
            "Synthetic CDNA-like",
            "amd",
            64,
            1024,
            104,
            1600.0,
            22_600.0,
            131072,
            64 * 1024,
            2048,
            32,
        ),
        device(
            "Synthetic Arc-like",
            "intel",
            16,
            512,
            32,
            512.0,
            17_000.0,
            65536,
            128 * 1024,
            1024,
            16,
        ),
    ]
}

/// Active blocks per SM for `threads` threads per block (0: cannot launch).
fn blocks_per_sm(kernel: &KernelFeatures, dev: &Device, threads: u32) -> u32 {
    let by_threads = dev.threads_per_sm / threads;
    let by_regs = dev.registers_per_sm / (kernel.registers.div_ceil(8) * 8 * threads).max(1);
    let by_smem = dev
        .shared_per_sm
        .checked_div(kernel.shared_mem_bytes)
        .map_or(u32::MAX, |b| b.min(u64::from(u32::MAX)) as u32);
    by_threads.min(by_regs).min(by_smem).min(dev.blocks_per_sm)
}

pub fn occupancy(kernel: &KernelFeatures, dev: &Device, block: [u32; 3]) -> f64 {
    let threads = block[0] * block[1] * block[2];
    f64::from(blocks_per_sm(kernel, dev, threads) * threads) / f64::from(dev.threads_per_sm)
}

/// Noise-free time in ms, or `None` when the block cannot launch.
pub fn model_time_ms(
    kernel: &KernelFeatures,
    bytes_per_item: f64,
    dev: &Device,
    block: [u32; 3],
) -> Option<f64> {
    let [x, y, _] = block;
    let threads = x * y * block[2];
    let active = blocks_per_sm(kernel, dev, threads);
    if active == 0 || threads > dev.features.max_invocations {
        return None;
    }
    let (xf, yf, tf) = (f64::from(x), f64::from(y), f64::from(threads));
    let bytes = kernel.problem_size as f64 * bytes_per_item;
    let flops = bytes * kernel.arithmetic_intensity;
    let narrow_rows = if kernel.is_2d {
        (xf / 32.0).min(1.0).sqrt()
    } else {
        1.0
    };
    let (efficiency, traffic, barrier) = match kernel.access_pattern.as_str() {
        "coalesced" => (0.92 * narrow_rows, 1.0, 1.0),
        "strided" => (0.30 * narrow_rows, 1.0, 1.0),
        "random" => (0.12, 1.0, 1.0),
        "tiled" => (0.85 * narrow_rows, 16.0 / tf.sqrt(), 1.0 + 0.04 * (tf / 256.0).log2().max(0.0)),
        _ /* stencil */ => {
            let halo = if kernel.is_2d { (xf + 2.0) * (yf + 2.0) / (xf * yf) } else { (xf + 2.0) / xf };
            (0.85 * narrow_rows, halo, 1.0 + 0.04 * (tf / 256.0).log2().max(0.0))
        }
    };
    let t_mem = bytes * traffic / (dev.bandwidth_gbs * 1e9 * efficiency) * 1e3;
    let t_comp = flops / (dev.peak_gflops * 1e9) * 1e3;
    let needed = if t_comp > t_mem { 0.25 } else { 0.5 };
    let occ = occupancy(kernel, dev, block);
    let latency_penalty = 1.0 / (occ / needed).min(1.0).powf(0.7);
    let total_blocks = (kernel.problem_size as f64 / tf).ceil();
    let waves = total_blocks / f64::from(active * dev.sms);
    let tail = waves.ceil() / waves;
    let scheduling = total_blocks * 2e-5 / f64::from(dev.sms); // 0.02 µs per block, in ms
    Some(t_mem.max(t_comp) * latency_penalty * tail * barrier + scheduling + 0.004)
}

/// A generated kernel: its features plus the hidden bytes-per-item the model uses.
pub struct SyntheticKernel {
    pub id: String,
    pub features: KernelFeatures,
    pub bytes_per_item: f64,
    pub device: usize,
}

pub fn generate_kernel(index: usize, rng: &mut Rng, devices: &[Device]) -> SyntheticKernel {
    let pattern = ACCESS_PATTERNS[rng.below(ACCESS_PATTERNS.len())];
    let is_2d = matches!(pattern, "tiled" | "stencil") || rng.uniform() < 0.3;
    let arithmetic_intensity = match pattern {
        "tiled" => 4.0 * 16f64.powf(rng.uniform()), // 4..64
        "stencil" => 0.5 + 1.5 * rng.uniform(),     // 0.5..2
        _ if rng.uniform() < 0.2 => 5.0 * 10f64.powf(rng.uniform()), // compute-heavy 5..50
        _ => 0.08 + 0.5 * rng.uniform(),
    };
    let shared_mem_bytes = match pattern {
        "tiled" => [8192, 16384, 32768, 49152][rng.below(4)],
        "stencil" => [2048, 4096, 8192][rng.below(3)],
        _ => 0,
    };
    let registers = 16 + 8 * rng.below(15) as u32; // 16..128
    let problem_size = 1u64 << (14 + rng.below(13)); // 16K..64M items
    let device = rng.below(devices.len());
    let mut features = KernelFeatures {
        access_pattern: pattern.into(),
        arithmetic_intensity,
        shared_mem_bytes,
        registers,
        occupancy: BTreeMap::new(),
        is_2d,
        problem_size,
    };
    let dev = &devices[device];
    for block in candidates(is_2d, dev.features.max_invocations) {
        features
            .occupancy
            .insert(block_label(block), occupancy(&features, dev, block));
    }
    SyntheticKernel {
        id: format!("k{index}-{pattern}"),
        features,
        bytes_per_item: 4.0 + 4.0 * rng.below(4) as f64,
        device,
    }
}

/// Measures every launchable candidate of `kernel` with noise.
pub fn measure(kernel: &SyntheticKernel, devices: &[Device], rng: &mut Rng) -> Vec<Record> {
    let dev = &devices[kernel.device];
    candidates(kernel.features.is_2d, dev.features.max_invocations)
        .into_iter()
        .filter_map(|block| {
            let t = model_time_ms(&kernel.features, kernel.bytes_per_item, dev, block)?;
            Some(Record {
                kernel_id: kernel.id.clone(),
                kernel: kernel.features.clone(),
                adapter: dev.features.clone(),
                block,
                median_ms: t * (0.03 * rng.normal()).exp(),
            })
        })
        .collect()
}

/// Generates a full synthetic history (every candidate of every kernel measured).
pub fn history(kernels: usize, seed: u64) -> Vec<Record> {
    let devs = devices();
    let mut rng = Rng::new(seed);
    (0..kernels)
        .flat_map(|i| {
            let k = generate_kernel(i, &mut rng, &devs);
            measure(&k, &devs, &mut rng)
        })
        .collect()
}

/// Results of a hold-out evaluation.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub train_kernels: usize,
    pub train_runs: usize,
    pub held_out_kernels: usize,
    /// Share of held-out kernels whose predicted block measured within 10% of their best.
    pub model_within_10pct: f64,
    pub heuristic_within_10pct: f64,
    /// Always 256 (1D) / 16x16 (2D).
    pub fixed_within_10pct: f64,
    /// Geometric-mean slowdown of the model's pick versus the best measured block.
    pub model_mean_slowdown: f64,
    pub heuristic_mean_slowdown: f64,
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "trained on {} runs of {} kernels; {} held-out kernels",
            self.train_runs, self.train_kernels, self.held_out_kernels
        )?;
        writeln!(
            f,
            "within 10% of best: model {:.1}%, heuristic {:.1}%, fixed 256/16x16 {:.1}%",
            self.model_within_10pct * 100.0,
            self.heuristic_within_10pct * 100.0,
            self.fixed_within_10pct * 100.0
        )?;
        write!(
            f,
            "mean slowdown vs best: model {:.3}x, heuristic {:.3}x",
            self.model_mean_slowdown, self.heuristic_mean_slowdown
        )
    }
}

/// Trains on `kernels - held_out` synthetic kernels and scores predictions on the rest.
pub fn evaluate(kernels: usize, held_out: usize, seed: u64, config: &TrainConfig) -> Evaluation {
    let devs = devices();
    let mut rng = Rng::new(seed);
    let generated: Vec<(SyntheticKernel, Vec<Record>)> = (0..kernels)
        .map(|i| {
            let k = generate_kernel(i, &mut rng, &devs);
            let runs = measure(&k, &devs, &mut rng);
            (k, runs)
        })
        .collect();
    let (test, train) = generated.split_at(held_out.min(kernels));
    let train_records: Vec<Record> = train.iter().flat_map(|(_, r)| r.iter().cloned()).collect();
    let tuner = Tuner::train(&train_records, Thresholds::default(), config);
    let (mut model_hits, mut heuristic_hits, mut fixed_hits) = (0, 0, 0);
    let (mut model_log_slow, mut heuristic_log_slow) = (0.0, 0.0);
    for (kernel, runs) in test {
        let Some(best) = runs.iter().map(|r| r.median_ms).min_by(f64::total_cmp) else {
            continue;
        };
        let measured = |block: Option<[u32; 3]>| {
            block
                .and_then(|b| runs.iter().find(|r| r.block == b))
                .map_or(f64::INFINITY, |r| r.median_ms)
        };
        let adapter = &devs[kernel.device].features;
        let model_t = measured(tuner.predict(&kernel.features, adapter).best());
        let heuristic_t = measured(heuristic(&kernel.features, adapter).best());
        let fixed_t = measured(Some(if kernel.features.is_2d {
            [16, 16, 1]
        } else {
            [256, 1, 1]
        }));
        model_hits += usize::from(model_t <= best * 1.10);
        heuristic_hits += usize::from(heuristic_t <= best * 1.10);
        fixed_hits += usize::from(fixed_t <= best * 1.10);
        // Unlaunchable picks count as a 2x slowdown so one miss cannot dominate the mean.
        model_log_slow += (model_t / best).min(2.0).ln();
        heuristic_log_slow += (heuristic_t / best).min(2.0).ln();
    }
    let n = test.len().max(1) as f64;
    Evaluation {
        train_kernels: train.len(),
        train_runs: train_records.len(),
        held_out_kernels: test.len(),
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

    #[test]
    fn cost_model_behaves_like_a_gpu() {
        let devs = devices();
        let kernel = KernelFeatures {
            access_pattern: "coalesced".into(),
            arithmetic_intensity: 0.2,
            registers: 32,
            problem_size: 1 << 24,
            ..KernelFeatures::default()
        };
        let t = |b| model_time_ms(&kernel, 8.0, &devs[0], b).unwrap();
        // A bandwidth-bound kernel moving 128 MiB at 3.35 TB/s takes ~44 µs at best.
        assert!((0.03..0.08).contains(&t([256, 1, 1])), "{}", t([256, 1, 1]));
        // 64-thread blocks hit the blocks-per-SM limit: half occupancy, slower.
        assert!(t([64, 1, 1]) > t([256, 1, 1]));
        let heavy = KernelFeatures {
            registers: 128,
            ..kernel.clone()
        };
        assert!(
            model_time_ms(&heavy, 8.0, &devs[0], [1024, 1, 1]).is_none(),
            "128 regs x 1024 threads cannot launch"
        );
    }

    #[test]
    fn model_beats_heuristics_on_held_out_kernels() {
        // Smaller than the README run (300 kernels, 120 epochs) to keep debug tests fast.
        let config = TrainConfig {
            epochs: 60,
            ..TrainConfig::default()
        };
        let eval = evaluate(160, 40, 11, &config);
        assert!(eval.model_within_10pct >= 0.75, "{eval}");
        assert!(
            eval.model_within_10pct > eval.heuristic_within_10pct,
            "{eval}"
        );
        assert!(eval.model_mean_slowdown < 1.1, "{eval}");
    }
}
