//! Properties over arbitrary inputs on every architecture: no panics, and
//! the report is internally consistent.

use cudalens_occupancy::{Arch, OccupancyInput, best_block_size, occupancy};
use proptest::prelude::*;

fn any_arch() -> impl Strategy<Value = &'static Arch> {
    (0..Arch::all().len()).prop_map(|i| &Arch::all()[i])
}

fn plausible_input() -> impl Strategy<Value = OccupancyInput> {
    (
        1u32..=1024,
        0u32..=255,
        0u64..=64 * 1024,
        0u64..=240 * 1024,
        0u32..=16,
    )
        .prop_map(|(threads, regs, static_smem, dyn_smem, barriers)| {
            OccupancyInput::new(threads, regs)
                .with_static_smem(static_smem)
                .with_dynamic_smem(dyn_smem)
                .with_barriers(barriers)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_any_input(
        arch in any_arch(),
        threads in any::<u32>(),
        regs in any::<u32>(),
        static_smem in any::<u64>(),
        dyn_smem in any::<u64>(),
        barriers in any::<u32>(),
    ) {
        let input = OccupancyInput::new(threads, regs)
            .with_static_smem(static_smem)
            .with_dynamic_smem(dyn_smem)
            .with_barriers(barriers);
        if let Ok(report) = occupancy(arch, &input) {
            prop_assert!(report.occupancy <= 1.0);
            let _ = cudalens_occupancy::render::markdown_table(&report);
            let _ = cudalens_occupancy::render::summary_line(&report);
        }
        let _ = best_block_size(arch, regs, static_smem, dyn_smem);
    }

    #[test]
    fn arch_parse_never_panics(text in any::<String>()) {
        let _ = Arch::parse(&text);
        let _ = cudalens_occupancy::parse_ptxas_output(&text);
        let _ = cudalens_occupancy::demangle_base_name(&text);
    }

    #[test]
    fn report_is_consistent(arch in any_arch(), input in plausible_input()) {
        let Ok(report) = occupancy(arch, &input) else { return Ok(()); };
        let limits = &report.limits;
        let allowed = [
            Some(limits.warps.blocks_per_sm),
            Some(limits.blocks_per_sm.blocks_per_sm),
            limits.registers.blocks_per_sm,
            limits.shared_memory.blocks_per_sm,
            limits.barriers.as_ref().map(|b| b.blocks_per_sm),
        ];
        let min = allowed.iter().flatten().copied().min().unwrap();
        prop_assert_eq!(report.active_blocks_per_sm, min);
        if input.barriers_per_block == 0 {
            prop_assert!(report.active_blocks_per_sm >= 1, "a valid launch fits once");
        }
        prop_assert!(report.active_warps_per_sm <= report.max_warps_per_sm);
        prop_assert_eq!(
            report.active_warps_per_sm,
            report.active_blocks_per_sm * input.threads_per_block.div_ceil(32)
        );
        prop_assert!((0.0..=1.0).contains(&report.occupancy));
        let smem = &limits.shared_memory;
        prop_assert!(
            u64::from(smem.carveout_bytes)
                >= smem.allocated_per_block * u64::from(report.active_blocks_per_sm)
        );
        prop_assert!(
            arch.carveouts_bytes().any(|c| c == smem.carveout_bytes),
            "carveout must be one the hardware supports"
        );
    }

    #[test]
    fn suggested_savings_reach_their_target(arch in any_arch(), input in plausible_input()) {
        let Ok(report) = occupancy(arch, &input) else { return Ok(()); };
        if let Some(step) = &report.limits.registers.next_step {
            let fewer = OccupancyInput { registers_per_thread: step.max_registers_per_thread, ..input };
            let after = occupancy(arch, &fewer).unwrap();
            prop_assert!(after.limits.registers.blocks_per_sm.unwrap_or(u32::MAX) >= step.blocks_per_sm);
            let one_more = OccupancyInput { registers_per_thread: step.max_registers_per_thread + 1, ..input };
            let short = occupancy(arch, &one_more).unwrap();
            prop_assert!(short.limits.registers.blocks_per_sm.unwrap() < step.blocks_per_sm);
            if step.sufficient {
                prop_assert!(after.active_blocks_per_sm >= step.blocks_per_sm);
            }
        }
        if let Some(step) = &report.limits.shared_memory.next_step {
            // Trim the dynamic part first, then the static part.
            let total = step.max_bytes_per_block;
            let static_smem = input.static_smem_bytes.min(total);
            let smaller = input.with_static_smem(static_smem).with_dynamic_smem(total - static_smem);
            let after = occupancy(arch, &smaller).unwrap();
            prop_assert!(after.limits.shared_memory.blocks_per_sm.unwrap() >= step.blocks_per_sm);
            let bigger = smaller.with_dynamic_smem(total - static_smem + 1);
            if let Ok(short) = occupancy(arch, &bigger) {
                prop_assert!(short.limits.shared_memory.blocks_per_sm.unwrap() < step.blocks_per_sm);
            }
            if step.sufficient {
                prop_assert!(after.active_blocks_per_sm >= step.blocks_per_sm);
            }
        }
    }

    #[test]
    fn more_resources_never_raise_occupancy(arch in any_arch(), input in plausible_input()) {
        let Ok(base) = occupancy(arch, &input) else { return Ok(()); };
        let more_regs = OccupancyInput { registers_per_thread: (input.registers_per_thread + 8).min(255), ..input };
        if let Ok(r) = occupancy(arch, &more_regs) {
            prop_assert!(r.active_blocks_per_sm <= base.active_blocks_per_sm);
        }
        let more_smem = input.with_dynamic_smem(input.dynamic_smem_bytes + 1000);
        if let Ok(r) = occupancy(arch, &more_smem) {
            prop_assert!(r.active_blocks_per_sm <= base.active_blocks_per_sm);
        }
    }
}

/// Exhaustive over the whole (block size, registers) plane on every
/// architecture: best_block_size is never beaten by any other block size.
#[test]
fn best_block_size_is_optimal_everywhere() {
    for arch in Arch::all() {
        for regs in (0..=255).step_by(7) {
            for dyn_smem in [0u64, 4096, 40_000] {
                let best = best_block_size(arch, regs, 0, dyn_smem).unwrap();
                let best_threads = best.active_blocks_per_sm * best.block_size;
                for block in (32..=1024).step_by(32) {
                    let input = OccupancyInput::new(block, regs).with_dynamic_smem(dyn_smem);
                    if let Ok(r) = occupancy(arch, &input) {
                        let threads = r.active_blocks_per_sm * block;
                        assert!(threads <= best_threads, "{arch} regs={regs} block={block}");
                        if threads == best_threads {
                            assert!(block <= best.block_size, "ties go to the larger block");
                        }
                    }
                }
            }
        }
    }
}
