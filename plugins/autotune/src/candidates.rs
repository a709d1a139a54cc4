//! Which variants to benchmark.

use cudalens_plugin_protocol::{BlockLimits, Variant};

const BLOCKS_1D: [u32; 5] = [64, 128, 256, 512, 1024];
const BLOCKS_2D: [(u32, u32); 7] = [
    (8, 8),
    (16, 8),
    (16, 16),
    (32, 8),
    (32, 16),
    (32, 32),
    (64, 4),
];
pub const UNROLL_FACTORS: [u32; 2] = [2, 4];

/// Block shapes worth timing, within the device limits. Shapes that are not a multiple of
/// the warp size are skipped: their last warp idles by construction.
pub fn block_candidates(is_2d: bool, limits: &BlockLimits) -> Vec<Variant> {
    let fits = |x: u32, y: u32| {
        x * y <= limits.max_threads_per_block
            && x <= limits.max_block_dims[0]
            && y <= limits.max_block_dims[1]
            && (x * y).is_multiple_of(limits.warp_size.max(1))
    };
    let shapes: Vec<(u32, u32)> = if is_2d {
        BLOCKS_2D
            .iter()
            .copied()
            .filter(|&(x, y)| fits(x, y))
            .collect()
    } else {
        BLOCKS_1D
            .iter()
            .map(|&x| (x, 1))
            .filter(|&(x, y)| fits(x, y))
            .collect()
    };
    shapes
        .into_iter()
        .map(|(x, y)| Variant::with_block([x, y, 1]))
        .collect()
}

/// Unrolled versions of `base` (unroll 1 is `base` itself).
pub fn unroll_candidates(base: &Variant) -> Vec<Variant> {
    UNROLL_FACTORS
        .iter()
        .map(|&u| Variant {
            unroll: Some(u),
            ..base.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn respects_limits() {
        let small = BlockLimits {
            max_threads_per_block: 256,
            ..BlockLimits::default()
        };
        let labels: Vec<String> = block_candidates(false, &small)
            .iter()
            .map(Variant::label)
            .collect();
        assert_eq!(labels, ["64", "128", "256"]);
        let labels: Vec<String> = block_candidates(true, &small)
            .iter()
            .map(Variant::label)
            .collect();
        assert_eq!(labels, ["8x8", "16x8", "16x16", "32x8", "64x4"]);
        assert_eq!(block_candidates(false, &BlockLimits::default()).len(), 5);
    }
}
