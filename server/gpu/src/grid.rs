//! Folding CUDA grids into WebGPU dispatches.
//!
//! CUDA allows 2^31-1 blocks in x; WebGPU caps every dispatch dimension at
//! `max_compute_workgroups_per_dimension` (65,535 by default). The transpiler
//! makes kernels recompute the linear CUDA block index from the workgroup id
//! and the `__grid_dim` uniform and return early for surplus workgroups, so
//! the host only has to dispatch *at least* `gx*gy*gz` workgroups.

use crate::error::GpuError;

/// Dispatch dimensions for a CUDA grid.
///
/// A grid that already fits is dispatched unchanged (so kernels that use
/// `workgroup_id` directly keep working). Otherwise the total block count is
/// spread over x, then y, then z as evenly as possible, which keeps the
/// surplus below one row (2D) or one slab (3D).
pub fn fold_grid(grid: [u32; 3], max_per_dimension: u32) -> Result<[u32; 3], GpuError> {
    if grid.contains(&0) {
        return Err(GpuError::InvalidBenchmark(format!(
            "grid {grid:?} has a zero dimension"
        )));
    }
    if max_per_dimension == 0 {
        return Err(GpuError::InvalidBenchmark(
            "adapter allows no workgroups".into(),
        ));
    }
    if grid.iter().all(|&d| d <= max_per_dimension) {
        return Ok(grid);
    }
    let total: u64 = grid.iter().map(|&d| u64::from(d)).product();
    let max = u64::from(max_per_dimension);
    if total > max * max * max {
        return Err(GpuError::InvalidBenchmark(format!(
            "grid {grid:?} ({total} blocks) exceeds {max}^3 workgroups"
        )));
    }
    let z = total.div_ceil(max * max);
    let per_slab = total.div_ceil(z);
    let y = per_slab.div_ceil(max);
    let x = per_slab.div_ceil(y);
    // All three are ≤ max by construction; the conversion cannot fail.
    let to_u32 = |v: u64| u32::try_from(v).map_err(|_| GpuError::Internal("fold overflow".into()));
    Ok([to_u32(x)?, to_u32(y)?, to_u32(z)?])
}

/// Ceil-division of a problem size (threads) by a workgroup size: the CUDA
/// grid that covers the problem.
pub fn grid_for_problem(problem: [u32; 3], workgroup: [u32; 3]) -> [u32; 3] {
    [0, 1, 2].map(|i| problem[i].max(1).div_ceil(workgroup[i].max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_covers(grid: [u32; 3], max: u32) -> [u32; 3] {
        let d = fold_grid(grid, max).unwrap();
        let total: u64 = grid.iter().map(|&v| u64::from(v)).product();
        let dispatched: u64 = d.iter().map(|&v| u64::from(v)).product();
        assert!(d.iter().all(|&v| v >= 1 && v <= max), "{grid:?} -> {d:?}");
        assert!(dispatched >= total, "{grid:?} -> {d:?} does not cover");
        // Surplus stays below one x*y slab.
        assert!(
            dispatched - total < u64::from(d[0]) * u64::from(d[1]),
            "{grid:?} -> {d:?}"
        );
        d
    }

    #[test]
    fn fitting_grids_are_unchanged() {
        assert_eq!(fold_grid([100, 20, 3], 65535).unwrap(), [100, 20, 3]);
        assert_eq!(
            fold_grid([65535, 65535, 1], 65535).unwrap(),
            [65535, 65535, 1]
        );
    }

    #[test]
    fn large_1d_grids_fold_into_2d_without_waste() {
        assert_eq!(check_covers([70_000, 1, 1], 65535), [35_000, 2, 1]);
        assert_eq!(check_covers([(1 << 31) - 1, 1, 1], 65535)[2], 1);
        check_covers([65536, 1, 1], 65535);
        check_covers([100_001, 3, 7], 65535);
    }

    #[test]
    fn huge_grids_fold_into_3d() {
        let d = check_covers([1 << 20, 1 << 14, 1], 65535);
        assert!(d[2] > 1);
        check_covers([5, 3, 2], 4);
        check_covers([64, 1, 1], 4);
    }

    #[test]
    fn impossible_grids_are_errors() {
        assert!(fold_grid([0, 1, 1], 65535).is_err());
        assert!(fold_grid([65, 1, 1], 4).is_err());
        assert!(fold_grid([1, 1, 1], 0).is_err());
    }

    #[test]
    fn problem_sizes_round_up() {
        assert_eq!(grid_for_problem([1000, 1, 1], [256, 1, 1]), [4, 1, 1]);
        assert_eq!(grid_for_problem([100, 33, 1], [16, 16, 1]), [7, 3, 1]);
    }
}
