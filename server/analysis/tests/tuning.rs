//! Tuning features: what the learned tuner plugin trains on.

mod common;

use cudalens_analysis::tuning::{CANDIDATE_BLOCKS, TuningFeatures, kernel_features};

fn features(src: &str, kernel: &str) -> TuningFeatures {
    let (model, analysis) = common::analyze_text(src);
    kernel_features(&model, &analysis, kernel, "sm_90").expect("analysed kernel")
}

#[test]
fn classifies_access_patterns() {
    let src = r#"
__global__ void copy(const float* a, float* b, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) b[i] = a[i] * 2.0f + 1.0f;
}
__global__ void strided(const float* a, float* b) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  b[i] = a[i * 32];
}
__global__ void stencil(const float* a, float* b) {
  int i = blockIdx.x * blockDim.x + threadIdx.x + 1;
  b[i] = a[i - 1] + a[i] + a[i + 1];
}
__global__ void tiled(const float* a, float* b) {
  __shared__ float t[32][33];
  t[threadIdx.y][threadIdx.x] = a[threadIdx.y * 32 + threadIdx.x];
  __syncthreads();
  b[threadIdx.x * 32 + threadIdx.y] = t[threadIdx.x][threadIdx.y];
}
"#;
    let copy = features(src, "copy");
    assert_eq!(copy.access_pattern, "coalesced");
    // `* 2.0f + 1.0f`: two operations over the 8 bytes the two accesses move.
    assert!((copy.arithmetic_intensity - 0.25).abs() < 1e-9, "{copy:?}");
    assert!(!copy.is_2d);
    let strided = features(src, "strided");
    assert_eq!(strided.access_pattern, "strided", "{strided:?}");
    assert_eq!(features(src, "stencil").access_pattern, "stencil");
    let tiled = features(src, "tiled");
    assert_eq!(tiled.access_pattern, "tiled");
    assert_eq!(tiled.shared_mem_bytes, 32 * 33 * 4);
    assert!(tiled.is_2d);
}

#[test]
fn occupancy_per_candidate_follows_the_calculator() {
    let f = features(
        "__global__ void k(float* a) { a[threadIdx.x] = 1.0f; }",
        "k",
    );
    assert_eq!(f.occupancy.len(), CANDIDATE_BLOCKS.len());
    // 32-thread blocks hit the 32 blocks/SM slot limit on sm_90: 32 of 64 warps.
    assert_eq!(f.occupancy["32"], 0.5);
    assert_eq!(f.occupancy["256"], 1.0);
    assert!(features("__global__ void k(float* a) {}", "k").arithmetic_intensity == 0.0);
}
