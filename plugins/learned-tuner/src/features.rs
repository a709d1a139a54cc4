//! Benchmark history records and their encoding as model inputs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Memory access pattern classes, as cudalens' analysis reports them.
pub const ACCESS_PATTERNS: [&str; 5] = ["coalesced", "strided", "random", "tiled", "stencil"];
const VENDORS: [&str; 3] = ["nvidia", "amd", "intel"];

/// Kernel features that do not depend on the block size (plus per-candidate occupancy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KernelFeatures {
    #[serde(default)]
    pub access_pattern: String,
    /// FLOPs per byte of global memory traffic.
    #[serde(default)]
    pub arithmetic_intensity: f64,
    #[serde(default)]
    pub shared_mem_bytes: u64,
    #[serde(default = "default_registers")]
    pub registers: u32,
    /// Theoretical occupancy (0..1) for each candidate, keyed by block label (`256`, `16x16`).
    #[serde(default)]
    pub occupancy: BTreeMap<String, f64>,
    #[serde(default)]
    pub is_2d: bool,
    /// Number of elements / threads of work.
    #[serde(default = "default_problem_size")]
    pub problem_size: u64,
}

fn default_registers() -> u32 {
    32
}
fn default_problem_size() -> u64 {
    1 << 20
}

/// Features of the device the kernel ran on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdapterFeatures {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default = "default_subgroup")]
    pub subgroup_size: u32,
    #[serde(default = "default_max_invocations")]
    pub max_invocations: u32,
}

fn default_subgroup() -> u32 {
    32
}
fn default_max_invocations() -> u32 {
    1024
}

impl Default for AdapterFeatures {
    fn default() -> Self {
        AdapterFeatures {
            name: String::new(),
            vendor: String::new(),
            subgroup_size: default_subgroup(),
            max_invocations: default_max_invocations(),
        }
    }
}

/// One line of the history file: one benchmarked configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Kernel identity (name, or name plus file), used to group runs and for hold-out splits.
    pub kernel_id: String,
    pub kernel: KernelFeatures,
    #[serde(default)]
    pub adapter: AdapterFeatures,
    pub block: [u32; 3],
    pub median_ms: f64,
}

pub fn block_label(block: [u32; 3]) -> String {
    match block {
        [x, 1, 1] => x.to_string(),
        [x, y, 1] => format!("{x}x{y}"),
        [x, y, z] => format!("{x}x{y}x{z}"),
    }
}

/// The benchmark runner's autotune candidates (`cudalens-gpu`), so predictions can be
/// checked against what the history measured.
const CANDIDATES_1D: [[u32; 3]; 6] = [
    [32, 1, 1],
    [64, 1, 1],
    [128, 1, 1],
    [256, 1, 1],
    [512, 1, 1],
    [1024, 1, 1],
];
const CANDIDATES_2D: [[u32; 3]; 9] = [
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

/// Block sizes the tuner chooses among, within the adapter's invocation limit.
pub fn candidates(is_2d: bool, max_invocations: u32) -> Vec<[u32; 3]> {
    let all: &[[u32; 3]] = if is_2d {
        &CANDIDATES_2D
    } else {
        &CANDIDATES_1D
    };
    all.iter()
        .copied()
        .filter(|b| b[0] * b[1] * b[2] <= max_invocations.max(64))
        .collect()
}

impl KernelFeatures {
    /// Occupancy for a candidate; 1.0 when unknown (no evidence of a limiter).
    pub fn occupancy_for(&self, block: [u32; 3]) -> f64 {
        self.occupancy
            .get(&block_label(block))
            .copied()
            .unwrap_or(1.0)
            .clamp(0.0, 1.0)
    }
}

fn log2(x: f64) -> f64 {
    x.max(1.0).log2()
}

/// Model input for one (kernel, adapter, candidate). Scaled to roughly [0, 1].
pub fn encode(kernel: &KernelFeatures, adapter: &AdapterFeatures, block: [u32; 3]) -> Vec<f32> {
    let mut x = Vec::with_capacity(24);
    let pattern = kernel.access_pattern.to_ascii_lowercase();
    x.extend(
        ACCESS_PATTERNS
            .iter()
            .map(|p| f32::from(u8::from(pattern == *p))),
    );
    x.push((log2(1.0 + kernel.arithmetic_intensity) / 6.0) as f32);
    x.push((kernel.shared_mem_bytes as f64 / 49152.0) as f32);
    x.push((f64::from(kernel.registers) / 128.0) as f32);
    x.push(f32::from(u8::from(kernel.is_2d)));
    x.push((log2(kernel.problem_size as f64) / 30.0) as f32);
    let vendor = adapter.vendor.to_ascii_lowercase();
    x.extend(
        VENDORS
            .iter()
            .map(|v| f32::from(u8::from(vendor.contains(v)))),
    );
    x.push((f64::from(adapter.subgroup_size) / 64.0) as f32);
    x.push((log2(f64::from(adapter.max_invocations)) / 10.0) as f32);
    let threads = f64::from(block[0] * block[1] * block[2]);
    x.push((log2(threads) / 10.0) as f32);
    x.push((log2(f64::from(block[0])) / 10.0) as f32);
    x.push((log2(f64::from(block[1])) / 10.0) as f32);
    x.push(kernel.occupancy_for(block) as f32);
    // Number of blocks launched: small grids suffer from tail effects with big blocks.
    x.push((log2(kernel.problem_size as f64 / threads) / 30.0) as f32);
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_and_encodes_to_a_fixed_width() {
        let line = r#"{"kernel_id":"saxpy","kernel":{"access_pattern":"coalesced","arithmetic_intensity":0.1,
            "occupancy":{"1024":0.5}},"adapter":{"vendor":"nvidia"},"block":[1024,1,1],"median_ms":0.2}"#;
        let r: Record = serde_json::from_str(line).unwrap();
        assert_eq!(r.kernel.registers, 32);
        assert_eq!(r.kernel.occupancy_for([1024, 1, 1]), 0.5);
        assert_eq!(r.kernel.occupancy_for([256, 1, 1]), 1.0);
        let a = encode(&r.kernel, &r.adapter, [256, 1, 1]);
        let b = encode(
            &KernelFeatures::default(),
            &AdapterFeatures::default(),
            [16, 16, 1],
        );
        assert_eq!(a.len(), b.len());
        assert!(a.iter().all(|v| v.is_finite()));
        assert_eq!(candidates(false, 512).len(), 5);
    }
}
