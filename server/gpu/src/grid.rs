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

/// How a CUDA grid is laid over the dispatch; the transpiled kernel receives
/// it as the `GRID_LAYOUT` override, so the driver compiles only its branch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GridLayout {
    /// The dispatch is the CUDA grid: block = workgroup id.
    Exact = 0,
    /// A 1D grid spread block after block over a folded or merged dispatch.
    Linear1d = 1,
    /// Any grid folded into a 2D/3D dispatch.
    Folded = 2,
}

/// The dispatch for a CUDA launch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DispatchPlan {
    pub dispatch: [u32; 3],
    pub layout: GridLayout,
    /// CUDA blocks per workgroup (1 unless merged).
    pub blocks_per_workgroup: u32,
}

/// Threads per workgroup that merging small blocks aims for: measured on an
/// H100 (Vulkan), 128-thread workgroups streamed 28% slower than 256-thread
/// ones while native CUDA lost 7% (tests/gpu-bench/README.md, run 7).
pub const MERGE_TARGET_THREADS: u32 = 256;

/// Plans the dispatch of `grid` blocks of `block` threads. When `mergeable`
/// (the kernel cannot observe which blocks share a workgroup) a 1D launch of
/// blocks smaller than [`MERGE_TARGET_THREADS`] runs several blocks per
/// workgroup, within `max_workgroup_x` threads.
pub fn plan_dispatch(
    grid: [u32; 3],
    block: [u32; 3],
    max_per_dimension: u32,
    mergeable: bool,
    max_workgroup_x: u32,
) -> Result<DispatchPlan, GpuError> {
    let one_d = grid[1] == 1 && grid[2] == 1;
    let mut blocks_per_workgroup = 1;
    if mergeable && one_d && block[1] == 1 && block[2] == 1 && block[0] < MERGE_TARGET_THREADS {
        let wanted = MERGE_TARGET_THREADS.div_ceil(block[0].max(1));
        let fits = (max_workgroup_x / block[0].max(1)).max(1);
        blocks_per_workgroup = wanted.min(fits).min(grid[0]).max(1);
    }
    let workgroups = [grid[0].div_ceil(blocks_per_workgroup), grid[1], grid[2]];
    let dispatch = fold_grid(workgroups, max_per_dimension)?;
    let layout = if blocks_per_workgroup == 1 && dispatch == grid {
        GridLayout::Exact
    } else if one_d {
        GridLayout::Linear1d
    } else {
        GridLayout::Folded
    };
    Ok(DispatchPlan {
        dispatch,
        layout,
        blocks_per_workgroup,
    })
}

/// Ceil-division of a problem size (threads) by a workgroup size: the CUDA
/// grid that covers the problem.
pub fn grid_for_problem(problem: [u32; 3], workgroup: [u32; 3]) -> [u32; 3] {
    [0, 1, 2].map(|i| problem[i].max(1).div_ceil(workgroup[i].max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_layouts_and_merges_small_1d_blocks() {
        let plan = |g, b, m| plan_dispatch(g, b, 65535, m, 1024).unwrap();
        let p = plan([1000, 1, 1], [256, 1, 1], true);
        assert_eq!(
            (p.dispatch, p.layout, p.blocks_per_workgroup),
            ([1000, 1, 1], GridLayout::Exact, 1)
        );
        let p = plan([131072, 1, 1], [128, 1, 1], false);
        assert_eq!(
            (p.layout, p.blocks_per_workgroup),
            (GridLayout::Linear1d, 1)
        );
        assert!(u64::from(p.dispatch[0]) * u64::from(p.dispatch[1]) >= 131072);
        // Merged: two 128-thread blocks per workgroup, an odd grid rounds up.
        let p = plan([1001, 1, 1], [128, 1, 1], true);
        assert_eq!(
            (p.dispatch, p.layout, p.blocks_per_workgroup),
            ([501, 1, 1], GridLayout::Linear1d, 2)
        );
        assert_eq!(plan([64, 1, 1], [32, 1, 1], true).blocks_per_workgroup, 8);
        assert_eq!(plan([3, 1, 1], [32, 1, 1], true).blocks_per_workgroup, 3);
        // 2D grids or blocks are never merged; a folded 2D grid is general.
        assert_eq!(plan([100, 2, 1], [64, 1, 1], true).blocks_per_workgroup, 1);
        assert_eq!(plan([100, 1, 1], [8, 8, 1], true).blocks_per_workgroup, 1);
        assert_eq!(
            plan([70000, 2, 1], [256, 1, 1], true).layout,
            GridLayout::Folded
        );
        // Within the adapter's workgroup width.
        assert_eq!(
            plan_dispatch([100, 1, 1], [96, 1, 1], 65535, true, 128)
                .unwrap()
                .blocks_per_workgroup,
            1
        );
    }

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
