//! Hand-checked cases for each limiter, the hard limits and the edges.

use cudalens_occupancy::{
    Arch, LaunchError, Limiter, OccupancyInput, best_block_size, blocks_per_full_wave,
    max_threads_per_block_for_registers, occupancy,
};

fn arch(name: &str) -> &'static Arch {
    Arch::parse(name).unwrap()
}

fn h100() -> &'static Arch {
    arch("sm_90")
}

#[test]
fn warps_limit_full_occupancy() {
    // 1024 threads = 32 warps; 64 warp slots -> 2 blocks. Registers (32/thread)
    // also allow exactly 2, but the block shape is reported as the limiter.
    let r = occupancy(h100(), &OccupancyInput::new(1024, 32)).unwrap();
    assert_eq!(r.active_blocks_per_sm, 2);
    assert_eq!(r.active_warps_per_sm, 64);
    assert_eq!(r.occupancy, 1.0);
    assert_eq!(r.limiter, Limiter::Warps);
    assert_eq!(r.limits.warps.blocks_per_sm, 2);
    assert_eq!(r.limits.registers.blocks_per_sm, Some(2));
    let step = r.limits.registers.next_step.as_ref().unwrap();
    assert!(!step.sufficient, "cutting registers alone cannot help here");
}

#[test]
fn blocks_per_sm_limit() {
    let r = occupancy(h100(), &OccupancyInput::new(32, 16)).unwrap();
    assert_eq!(r.active_blocks_per_sm, 32);
    assert_eq!(r.active_warps_per_sm, 32);
    assert_eq!(r.occupancy, 0.5);
    assert_eq!(r.limiter, Limiter::Blocks);
    assert_eq!(r.limits.blocks_per_sm.blocks_per_sm, 32);
    assert_eq!(r.limits.warps.blocks_per_sm, 64);
}

#[test]
fn registers_limit_with_next_step() {
    // 64 regs -> 2048 per warp -> 8 warps per sub-partition -> 32 warps/SM.
    let r = occupancy(h100(), &OccupancyInput::new(256, 64)).unwrap();
    assert_eq!(r.active_blocks_per_sm, 4);
    assert_eq!(r.limiter, Limiter::Registers);
    assert_eq!(r.occupancy, 0.5);
    assert_eq!(r.limits.registers.allocated_per_warp, 2048);
    assert_eq!(r.limits.registers.allocated_per_block, 16384);
    let step = r.limits.registers.next_step.clone().unwrap();
    // 5 blocks = 40 warps = 10 per sub-partition -> <= 1638 regs/warp -> 48/thread.
    assert_eq!(step.blocks_per_sm, 5);
    assert_eq!(step.max_registers_per_thread, 48);
    assert_eq!(step.save_per_thread, 16);
    assert!(step.sufficient);
    let better = occupancy(h100(), &OccupancyInput::new(256, 48)).unwrap();
    assert_eq!(better.active_blocks_per_sm, 5);
    let not_enough = occupancy(h100(), &OccupancyInput::new(256, 49)).unwrap();
    assert_eq!(not_enough.active_blocks_per_sm, 4);
}

#[test]
fn register_allocation_rounds_per_warp_and_per_sub_partition() {
    // 33 regs -> 1056 -> 1280 per warp; 16384 / 1280 = 12 warps per
    // sub-partition -> 48 warps per SM -> one 32-warp block.
    let r = occupancy(h100(), &OccupancyInput::new(1024, 33)).unwrap();
    assert_eq!(r.limits.registers.allocated_per_warp, 1280);
    assert_eq!(r.active_blocks_per_sm, 1);
    // 40 regs with 96-thread blocks: 1280/warp -> 48 warps -> 16 blocks of 3.
    let r = occupancy(h100(), &OccupancyInput::new(96, 40)).unwrap();
    assert_eq!(r.limits.registers.blocks_per_sm, Some(16));
}

#[test]
fn shared_memory_limit_with_next_step_and_carveout() {
    // 48 KB dynamic + 1 KB reserved = 50,176 B -> 4 blocks of 228 KB.
    let input = OccupancyInput::new(128, 32).with_dynamic_smem(48 * 1024);
    let r = occupancy(h100(), &input).unwrap();
    assert_eq!(r.active_blocks_per_sm, 4);
    assert_eq!(r.limiter, Limiter::SharedMemory);
    let smem = &r.limits.shared_memory;
    assert_eq!(smem.allocated_per_block, 50_176);
    assert_eq!(smem.reserved_per_block, 1024);
    assert!(!smem.requires_opt_in, "exactly 48 KB needs no opt-in");
    // 4 x 50,176 = 200,704 = exactly the 196 KB carveout.
    assert_eq!(smem.carveout_bytes, 196 * 1024);
    let step = smem.next_step.clone().unwrap();
    // 233,472 / 5 = 46,694 -> 46,592 (128 B units) - 1,024 reserved = 45,568.
    assert_eq!(step.max_bytes_per_block, 45_568);
    assert_eq!(step.save_bytes, 3_584);
    assert!(step.sufficient);
    let better = occupancy(h100(), &input.with_dynamic_smem(45_568)).unwrap();
    assert_eq!(better.active_blocks_per_sm, 5);
    let worse = occupancy(h100(), &input.with_dynamic_smem(45_569)).unwrap();
    assert_eq!(worse.active_blocks_per_sm, 4);
}

#[test]
fn carveout_is_the_smallest_that_holds_the_resident_blocks() {
    // 32 blocks x 1 KB reservation = 32 KB.
    let r = occupancy(h100(), &OccupancyInput::new(64, 16)).unwrap();
    assert_eq!(r.active_blocks_per_sm, 32);
    assert_eq!(r.limits.shared_memory.carveout_bytes, 32 * 1024);
    // Volta has no reservation: a kernel without shared memory gets carveout 0.
    let r = occupancy(arch("sm_70"), &OccupancyInput::new(64, 16)).unwrap();
    assert_eq!(r.limits.shared_memory.blocks_per_sm, None);
    assert_eq!(r.limits.shared_memory.carveout_bytes, 0);
    // Turing's smallest carveout is 32 KB.
    let r = occupancy(arch("sm_75"), &OccupancyInput::new(64, 16)).unwrap();
    assert_eq!(r.limits.shared_memory.carveout_bytes, 32 * 1024);
}

#[test]
fn barriers_limit_on_hopper_only() {
    let input = OccupancyInput::new(64, 16).with_barriers(16);
    let r = occupancy(h100(), &input).unwrap();
    assert_eq!(r.active_blocks_per_sm, 4);
    assert_eq!(r.limiter, Limiter::Barriers);
    assert_eq!(r.limits.barriers.as_ref().unwrap().blocks_per_sm, 4);
    let r = occupancy(arch("sm_80"), &input).unwrap();
    assert!(r.limits.barriers.is_none());
    assert_eq!(r.active_blocks_per_sm, 32);
    // One barrier (__syncthreads) never limits: 64 available.
    let r = occupancy(h100(), &OccupancyInput::new(64, 16).with_barriers(1)).unwrap();
    assert_eq!(r.limiter, Limiter::Warps);
}

#[test]
fn single_thread_block() {
    let r = occupancy(h100(), &OccupancyInput::new(1, 1)).unwrap();
    assert_eq!(r.limits.warps.warps_per_block, 1);
    assert_eq!(r.active_blocks_per_sm, 32);
    assert_eq!(r.active_warps_per_sm, 32);
}

#[test]
fn partial_warps_round_up() {
    let r = occupancy(h100(), &OccupancyInput::new(33, 32)).unwrap();
    assert_eq!(r.limits.warps.warps_per_block, 2);
    assert_eq!(r.limits.warps.blocks_per_sm, 32);
    assert_eq!(r.active_warps_per_sm, 64);
    let r = occupancy(arch("sm_86"), &OccupancyInput::new(100, 32)).unwrap();
    assert_eq!(r.limits.warps.warps_per_block, 4);
    assert_eq!(r.limits.warps.blocks_per_sm, 12);
}

#[test]
fn max_registers_per_thread() {
    // 255 regs -> 8192 per warp -> 2 warps per sub-partition -> 8 warps/SM.
    let r = occupancy(h100(), &OccupancyInput::new(256, 255)).unwrap();
    assert_eq!(r.active_blocks_per_sm, 1);
    assert_eq!(r.active_warps_per_sm, 8);
    assert_eq!(max_threads_per_block_for_registers(h100(), 255), 256);
    let err = occupancy(h100(), &OccupancyInput::new(288, 255)).unwrap_err();
    assert!(matches!(
        err,
        LaunchError::RegisterFileExceeded {
            max_threads: 256,
            required: 98_304,
            ..
        }
    ));
    assert!(err.to_string().contains("at most 256 threads"), "{err}");
    let err = occupancy(h100(), &OccupancyInput::new(32, 256)).unwrap_err();
    assert_eq!(
        err,
        LaunchError::TooManyRegisters {
            registers: 256,
            max: 255
        }
    );
    assert_eq!(
        err.to_string(),
        "256 registers per thread exceeds the maximum of 255"
    );
}

#[test]
fn register_free_kernel_has_no_register_limit() {
    let r = occupancy(h100(), &OccupancyInput::new(128, 0)).unwrap();
    assert_eq!(r.limits.registers.blocks_per_sm, None);
    assert_eq!(r.active_blocks_per_sm, 16);
}

#[test]
fn shared_memory_exactly_at_the_limit() {
    let max = u64::from(h100().max_shared_memory_per_block_optin);
    let at_limit = OccupancyInput::new(128, 32)
        .with_static_smem(1024)
        .with_dynamic_smem(max - 1024);
    let r = occupancy(h100(), &at_limit).unwrap();
    assert_eq!(r.active_blocks_per_sm, 1);
    assert!(r.limits.shared_memory.requires_opt_in);
    assert_eq!(r.limits.shared_memory.allocated_per_block, 233_472);
    assert_eq!(r.limits.shared_memory.carveout_bytes, 228 * 1024);
    let err = occupancy(h100(), &at_limit.with_dynamic_smem(max - 1023)).unwrap_err();
    assert_eq!(
        err,
        LaunchError::TooMuchSharedMemory {
            requested: 232_449,
            max_optin: 232_448
        }
    );
    assert_eq!(
        err.to_string(),
        "232,449 bytes of shared memory per block exceeds the maximum of 232,448 bytes (even with the opt-in attribute)"
    );
}

#[test]
fn thread_count_limits() {
    let r = occupancy(h100(), &OccupancyInput::new(1024, 16)).unwrap();
    assert_eq!(r.active_blocks_per_sm, 2);
    assert_eq!(
        occupancy(h100(), &OccupancyInput::new(1025, 16)).unwrap_err(),
        LaunchError::TooManyThreads {
            threads: 1025,
            max: 1024
        }
    );
    assert_eq!(
        occupancy(h100(), &OccupancyInput::new(0, 16)).unwrap_err(),
        LaunchError::ZeroThreads
    );
    assert!(occupancy(h100(), &OccupancyInput::new(u32::MAX, u32::MAX)).is_err());
}

#[test]
fn extreme_shared_memory_is_an_error_not_a_panic() {
    let input = OccupancyInput::new(32, 32)
        .with_static_smem(u64::MAX)
        .with_dynamic_smem(u64::MAX);
    assert!(matches!(
        occupancy(h100(), &input),
        Err(LaunchError::TooMuchSharedMemory {
            requested: u64::MAX,
            ..
        })
    ));
}

#[test]
fn turing_and_ampere_consumer_limits() {
    // Turing: 32 warp slots, so a 1024-thread block is already 100%.
    let r = occupancy(arch("sm_75"), &OccupancyInput::new(1024, 32)).unwrap();
    assert_eq!((r.active_blocks_per_sm, r.occupancy), (1, 1.0));
    // sm_86: 48 warps, 16 blocks; 64-thread blocks are capped by blocks.
    let r = occupancy(arch("sm_86"), &OccupancyInput::new(64, 32)).unwrap();
    assert_eq!(r.active_blocks_per_sm, 16);
    assert_eq!(r.limiter, Limiter::Blocks);
    assert!((r.occupancy - 32.0 / 48.0).abs() < 1e-12);
    // sm_89 allows 24 blocks.
    let r = occupancy(arch("sm_89"), &OccupancyInput::new(64, 32)).unwrap();
    assert_eq!((r.active_blocks_per_sm, r.limiter), (24, Limiter::Warps));
    // sm_80: 100 KB of shared memory per block needs the opt-in; 1 block fits.
    let input = OccupancyInput::new(128, 32).with_dynamic_smem(100 * 1024);
    let r = occupancy(arch("sm_80"), &input).unwrap();
    assert_eq!(r.active_blocks_per_sm, 1);
    assert!(occupancy(arch("sm_86"), &input).is_err());
}

#[test]
fn best_block_size_prefers_the_largest_of_equals() {
    // 32 regs: 1024 already reaches 2048 resident threads.
    let s = best_block_size(h100(), 32, 0, 0).unwrap();
    assert_eq!(
        (s.block_size, s.active_blocks_per_sm, s.occupancy),
        (1024, 2, 1.0)
    );
    assert_eq!(s.min_grid_size, 2 * 132);
    // 64 regs: 1024 threads resident at best; 1024 is the first to get there.
    let s = best_block_size(h100(), 64, 0, 0).unwrap();
    assert_eq!((s.block_size, s.occupancy), (1024, 0.5));
    // 168 regs: the register file caps blocks at 384 threads.
    let s = best_block_size(h100(), 168, 32768, 0).unwrap();
    assert_eq!(s.block_size, 384);
    // Too much shared memory fails for every block size.
    assert!(matches!(
        best_block_size(h100(), 32, 0, 300_000),
        Err(LaunchError::TooMuchSharedMemory { .. })
    ));
    assert!(matches!(
        best_block_size(h100(), 300, 0, 0),
        Err(LaunchError::TooManyRegisters { .. })
    ));
}

#[test]
fn full_wave_uses_the_reference_gpu() {
    assert_eq!(blocks_per_full_wave(h100(), 4), 528);
    assert_eq!(blocks_per_full_wave(arch("sm_100"), 1), 148);
}
