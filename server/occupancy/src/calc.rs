//! Theoretical occupancy, computed the way `cuda_occupancy.h`
//! (`cudaOccMaxActiveBlocksPerMultiprocessor`) and the CUDA runtime do it.
//!
//! Every resource yields "blocks per SM this resource allows"; the smallest
//! wins. Verified against the runtime on an H100: see
//! `tests/ground_truth_sm90.rs` (3,416 / 3,416 configurations agree).
//!
//! All arithmetic is done in `u64` on inputs no larger than `u32`/`u64`
//! limits checked up front, so no input can overflow or panic.

use serde::{Deserialize, Serialize};

use crate::arch::Arch;

/// What is known about one kernel launch. Missing JSON fields default to 0 / false.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OccupancyInput {
    pub threads_per_block: u32,
    pub registers_per_thread: u32,
    /// The register count is a guess (no `ptxas -v` output yet); passed
    /// through to the report untouched.
    pub registers_estimated: bool,
    /// `__shared__` arrays, bytes (`ptxas -v` "bytes smem").
    pub static_smem_bytes: u64,
    /// Third launch-configuration argument, bytes.
    pub dynamic_smem_bytes: u64,
    /// Named barriers per block (`ptxas -v` "used N barriers"); 0 when
    /// unknown. Only limits occupancy on compute capability 9.0+.
    pub barriers_per_block: u32,
    /// The high end of an estimated register range (`registers_per_thread`
    /// is its low end): the report then also gives the occupancy there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registers_high: Option<u32>,
}

impl OccupancyInput {
    pub fn new(threads_per_block: u32, registers_per_thread: u32) -> Self {
        OccupancyInput {
            threads_per_block,
            registers_per_thread,
            ..Self::default()
        }
    }

    pub fn with_static_smem(mut self, bytes: u64) -> Self {
        self.static_smem_bytes = bytes;
        self
    }

    pub fn with_dynamic_smem(mut self, bytes: u64) -> Self {
        self.dynamic_smem_bytes = bytes;
        self
    }

    pub fn with_barriers(mut self, barriers: u32) -> Self {
        self.barriers_per_block = barriers;
        self
    }

    pub fn estimated_registers(mut self) -> Self {
        self.registers_estimated = true;
        self
    }

    /// An estimated register count known only as `registers_per_thread ..=
    /// high`: the report gives the occupancy at both ends.
    pub fn estimated_register_range(mut self, high: u32) -> Self {
        self.registers_estimated = true;
        self.registers_high = (high > self.registers_per_thread).then_some(high);
        self
    }

    /// Static plus dynamic shared memory: what the kernel asks for, before
    /// the driver's reservation and rounding.
    pub fn smem_per_block(&self) -> u64 {
        self.static_smem_bytes
            .saturating_add(self.dynamic_smem_bytes)
    }
}

/// The resource that caps resident blocks per SM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Limiter {
    /// Warp slots per SM: the block size itself.
    #[serde(rename = "warps")]
    Warps,
    /// The hardware cap on resident blocks per SM.
    #[serde(rename = "blocks_per_sm")]
    Blocks,
    #[serde(rename = "registers")]
    Registers,
    #[serde(rename = "shared_memory")]
    SharedMemory,
    /// Named block barriers (compute capability 9.0+ only).
    #[serde(rename = "barriers")]
    Barriers,
}

impl Limiter {
    /// The stable serde name.
    pub fn as_str(self) -> &'static str {
        match self {
            Limiter::Warps => "warps",
            Limiter::Blocks => "blocks_per_sm",
            Limiter::Registers => "registers",
            Limiter::SharedMemory => "shared_memory",
            Limiter::Barriers => "barriers",
        }
    }
}

/// A launch the hardware refuses outright (the CUDA runtime fails it with
/// `cudaErrorInvalidConfiguration` / `cudaErrorLaunchOutOfResources`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LaunchError {
    ZeroThreads,
    TooManyThreads {
        threads: u32,
        max: u32,
    },
    TooManyRegisters {
        registers: u32,
        max: u32,
    },
    /// Static + dynamic shared memory exceeds the opt-in per-block maximum.
    TooMuchSharedMemory {
        requested: u64,
        max_optin: u32,
    },
    /// The block's warps, with their registers, do not fit the register file.
    RegisterFileExceeded {
        registers: u32,
        threads: u32,
        /// Registers the hardware check counts for the block.
        required: u64,
        available: u32,
        /// Largest block size (multiple of 32) that fits with these registers.
        max_threads: u32,
    },
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LaunchError::ZeroThreads => f.write_str("a block must have at least one thread"),
            LaunchError::TooManyThreads { threads, max } => write!(
                f,
                "{threads} threads per block exceeds the maximum of {max}"
            ),
            LaunchError::TooManyRegisters { registers, max } => write!(
                f,
                "{registers} registers per thread exceeds the maximum of {max}"
            ),
            LaunchError::TooMuchSharedMemory {
                requested,
                max_optin,
            } => write!(
                f,
                "{} bytes of shared memory per block exceeds the maximum of {} bytes (even with the opt-in attribute)",
                crate::digits::group_digits(*requested),
                crate::digits::group_digits(u64::from(*max_optin))
            ),
            LaunchError::RegisterFileExceeded {
                registers,
                threads,
                required,
                available,
                max_threads,
            } => write!(
                f,
                "too many resources requested for launch: {threads} threads x {registers} registers needs {} registers per block, \
                 the SM has {}; use at most {max_threads} threads per block or fewer registers",
                crate::digits::group_digits(*required),
                crate::digits::group_digits(u64::from(*available))
            ),
        }
    }
}

impl std::error::Error for LaunchError {}

/// Theoretical occupancy of one launch configuration. Serialises to the JSON
/// shape used by the hover and the CLI.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccupancyReport {
    pub arch: &'static str,
    pub block: u32,
    pub registers: u32,
    pub registers_estimated: bool,
    pub static_smem: u64,
    pub dynamic_smem: u64,
    pub active_blocks_per_sm: u32,
    pub active_warps_per_sm: u32,
    pub max_warps_per_sm: u32,
    /// `active_warps_per_sm / max_warps_per_sm`, in 0..=1.
    pub occupancy: f64,
    pub limiter: Limiter,
    pub limits: Limits,
    /// With an estimated register range: the occupancy at its high end
    /// (the fields above are at its low end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_high_registers: Option<RegisterRangeEnd>,
}

/// The occupancy at the high end of an estimated register range.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegisterRangeEnd {
    pub registers: u32,
    /// Blocks/SM the register file allows at this count (0: the block does
    /// not fit at all; `None`: no register limit).
    pub register_blocks_per_sm: Option<u32>,
    /// Registers per warp after rounding up to the allocation unit.
    pub allocated_per_warp: u32,
    pub active_blocks_per_sm: u32,
    pub active_warps_per_sm: u32,
    pub occupancy: f64,
}

/// What each resource allows, keyed like [`Limiter`]'s serde names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limits {
    pub warps: WarpLimit,
    pub blocks_per_sm: BlockSlotLimit,
    pub registers: RegisterLimit,
    pub shared_memory: SharedMemoryLimit,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub barriers: Option<BarrierLimit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarpLimit {
    pub blocks_per_sm: u32,
    /// `ceil(threads / 32)`: a partial warp occupies a whole warp slot.
    pub warps_per_block: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockSlotLimit {
    pub blocks_per_sm: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterLimit {
    /// `None` when the kernel uses no registers (no limit).
    pub blocks_per_sm: Option<u32>,
    /// Registers per warp after rounding up to the allocation unit.
    pub allocated_per_warp: u32,
    pub allocated_per_block: u64,
    /// Present when registers are (one of) the binding limits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<RegisterStep>,
}

/// "Use at most `max_registers_per_thread` to fit `blocks_per_sm` blocks."
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterStep {
    pub blocks_per_sm: u32,
    pub max_registers_per_thread: u32,
    pub save_per_thread: u32,
    /// Whether this saving alone raises occupancy (no other limit is hit first).
    pub sufficient: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedMemoryLimit {
    /// `None` when a block allocates no shared memory at all (no limit).
    pub blocks_per_sm: Option<u32>,
    /// Static + dynamic + the driver's reservation, rounded up to the
    /// allocation unit.
    pub allocated_per_block: u64,
    pub reserved_per_block: u32,
    /// Needs `cudaFuncAttributeMaxDynamicSharedMemorySize` (above 48 KB).
    pub requires_opt_in: bool,
    /// Smallest L1/shared carveout that holds the resident blocks: what the
    /// driver configures when no carveout preference is set.
    pub carveout_bytes: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_step: Option<SharedMemoryStep>,
}

/// "Use at most `max_bytes_per_block` (static + dynamic) to fit `blocks_per_sm`."
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SharedMemoryStep {
    pub blocks_per_sm: u32,
    pub max_bytes_per_block: u64,
    pub save_bytes: u64,
    pub sufficient: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BarrierLimit {
    pub blocks_per_sm: u32,
    pub barriers_per_block: u32,
}

/// Theoretical occupancy of `input` on `arch`, as
/// `cudaOccupancyMaxActiveBlocksPerMultiprocessor` computes it with no
/// carveout preference and the dynamic shared-memory opt-in set to the maximum.
pub fn occupancy(arch: &Arch, input: &OccupancyInput) -> Result<OccupancyReport, LaunchError> {
    let mut report = occupancy_at(arch, input)?;
    if let Some(high) = input
        .registers_high
        .filter(|h| *h > input.registers_per_thread)
    {
        let at_high = OccupancyInput {
            registers_per_thread: high,
            registers_high: None,
            ..*input
        };
        report.at_high_registers = Some(match occupancy_at(arch, &at_high) {
            Ok(r) => RegisterRangeEnd {
                registers: high,
                register_blocks_per_sm: r.limits.registers.blocks_per_sm,
                allocated_per_warp: r.limits.registers.allocated_per_warp,
                active_blocks_per_sm: r.active_blocks_per_sm,
                active_warps_per_sm: r.active_warps_per_sm,
                occupancy: r.occupancy,
            },
            // At the high end the block does not fit on an SM at all.
            Err(_) => RegisterRangeEnd {
                registers: high,
                register_blocks_per_sm: Some(0),
                allocated_per_warp: registers_per_warp(arch, high),
                active_blocks_per_sm: 0,
                active_warps_per_sm: 0,
                occupancy: 0.0,
            },
        });
    }
    Ok(report)
}

fn occupancy_at(arch: &Arch, input: &OccupancyInput) -> Result<OccupancyReport, LaunchError> {
    validate(arch, input)?;
    let warps_per_block = warps_per_block(arch, input.threads_per_block);

    let warps = WarpLimit {
        blocks_per_sm: arch.max_warps_per_sm / warps_per_block,
        warps_per_block,
    };
    let blocks_per_sm = BlockSlotLimit {
        blocks_per_sm: arch.max_blocks_per_sm,
    };
    let registers_allowed = register_limit(arch, input.registers_per_thread, warps_per_block);
    let smem_allocated = smem_allocated_per_block(arch, input.smem_per_block());
    let smem_allowed = smem_limit(arch, smem_allocated);
    let barriers = barrier_limit(arch, input.barriers_per_block);

    // Ties go to the resource listed first: the block-shape limits, then the
    // ones a kernel author can shrink. Registers tied with warps are not
    // worth cutting, because cutting them alone gains nothing.
    let candidates = [
        (Limiter::Warps, Some(warps.blocks_per_sm)),
        (Limiter::Blocks, Some(blocks_per_sm.blocks_per_sm)),
        (
            Limiter::Barriers,
            barriers.as_ref().map(|b| b.blocks_per_sm),
        ),
        (Limiter::Registers, registers_allowed),
        (Limiter::SharedMemory, smem_allowed),
    ];
    let (limiter, active_blocks) = candidates
        .iter()
        .filter_map(|&(limiter, blocks)| blocks.map(|b| (limiter, b)))
        .fold((Limiter::Warps, u32::MAX), |best, next| {
            if next.1 < best.1 { next } else { best }
        });

    let other_limits_allow = |target: u32, except: Limiter| {
        candidates
            .iter()
            .filter(|(limiter, _)| *limiter != except)
            .all(|(_, blocks)| blocks.is_none_or(|b| b >= target))
    };

    let registers_next = registers_allowed
        .filter(|&allowed| allowed <= active_blocks)
        .and_then(|_| {
            register_step(
                arch,
                input,
                warps_per_block,
                active_blocks.saturating_add(1),
            )
        })
        .map(|mut step| {
            step.sufficient = other_limits_allow(step.blocks_per_sm, Limiter::Registers);
            step
        });
    let smem_next = smem_allowed
        .filter(|&allowed| allowed <= active_blocks)
        .and_then(|_| {
            smem_step(
                arch,
                input.smem_per_block(),
                active_blocks.saturating_add(1),
            )
        })
        .map(|mut step| {
            step.sufficient = other_limits_allow(step.blocks_per_sm, Limiter::SharedMemory);
            step
        });

    let allocated_per_warp = registers_per_warp(arch, input.registers_per_thread);
    let active_warps = active_blocks.saturating_mul(warps_per_block);
    Ok(OccupancyReport {
        arch: arch.name,
        block: input.threads_per_block,
        registers: input.registers_per_thread,
        registers_estimated: input.registers_estimated,
        static_smem: input.static_smem_bytes,
        dynamic_smem: input.dynamic_smem_bytes,
        active_blocks_per_sm: active_blocks,
        active_warps_per_sm: active_warps,
        max_warps_per_sm: arch.max_warps_per_sm,
        occupancy: f64::from(active_warps) / f64::from(arch.max_warps_per_sm),
        limiter,
        limits: Limits {
            warps,
            blocks_per_sm,
            registers: RegisterLimit {
                blocks_per_sm: registers_allowed,
                allocated_per_warp,
                allocated_per_block: u64::from(allocated_per_warp) * u64::from(warps_per_block),
                next_step: registers_next,
            },
            shared_memory: SharedMemoryLimit {
                blocks_per_sm: smem_allowed,
                allocated_per_block: smem_allocated,
                reserved_per_block: arch.reserved_shared_memory_per_block,
                requires_opt_in: input.smem_per_block()
                    > u64::from(arch.max_shared_memory_per_block),
                carveout_bytes: chosen_carveout(arch, smem_allocated, active_blocks),
                next_step: smem_next,
            },
            barriers,
        },
        at_high_registers: None,
    })
}

/// Hard limits first, in the order a launch would trip over them.
fn validate(arch: &Arch, input: &OccupancyInput) -> Result<(), LaunchError> {
    let threads = input.threads_per_block;
    if threads == 0 {
        return Err(LaunchError::ZeroThreads);
    }
    if threads > arch.max_threads_per_block {
        return Err(LaunchError::TooManyThreads {
            threads,
            max: arch.max_threads_per_block,
        });
    }
    if input.registers_per_thread > arch.max_registers_per_thread {
        return Err(LaunchError::TooManyRegisters {
            registers: input.registers_per_thread,
            max: arch.max_registers_per_thread,
        });
    }
    if input.smem_per_block() > u64::from(arch.max_shared_memory_per_block_optin) {
        return Err(LaunchError::TooMuchSharedMemory {
            requested: input.smem_per_block(),
            max_optin: arch.max_shared_memory_per_block_optin,
        });
    }
    let warps = warps_per_block(arch, threads);
    let required = registers_checked_per_block(arch, input.registers_per_thread, warps);
    if required > u64::from(arch.max_registers_per_block) {
        return Err(LaunchError::RegisterFileExceeded {
            registers: input.registers_per_thread,
            threads,
            required,
            available: arch.max_registers_per_block,
            max_threads: max_threads_per_block_for_registers(arch, input.registers_per_thread),
        });
    }
    Ok(())
}

fn warps_per_block(arch: &Arch, threads: u32) -> u32 {
    threads.div_ceil(arch.warp_size)
}

fn round_up(value: u64, unit: u64) -> u64 {
    value.div_ceil(unit).saturating_mul(unit)
}

/// Registers a warp is given: `regs * 32` rounded up to the allocation unit.
fn registers_per_warp(arch: &Arch, registers_per_thread: u32) -> u32 {
    let per_warp = u64::from(registers_per_thread) * u64::from(arch.warp_size);
    // registers_per_thread is validated (<= 255) before any caller needs a
    // meaningful value; clamp anyway so an unvalidated value cannot wrap.
    u32::try_from(round_up(per_warp, u64::from(arch.register_allocation_unit))).unwrap_or(u32::MAX)
}

/// The hardware's per-block check counts warps rounded up to a multiple of
/// the register sub-partitions (`regsAssumedPerCTA` in `cuda_occupancy.h`).
fn registers_checked_per_block(arch: &Arch, registers_per_thread: u32, warps: u32) -> u64 {
    let warps = round_up(u64::from(warps), u64::from(arch.register_sub_partitions));
    u64::from(registers_per_warp(arch, registers_per_thread)) * warps
}

/// Largest block size (a multiple of 32, at most the architecture's maximum)
/// whose registers fit the register file: what `cudaFuncGetAttributes`
/// reports as the kernel's `maxThreadsPerBlock`.
pub fn max_threads_per_block_for_registers(arch: &Arch, registers_per_thread: u32) -> u32 {
    let max_warps = arch.max_threads_per_block / arch.warp_size;
    (1..=max_warps)
        .rev()
        .find(|&warps| {
            registers_checked_per_block(arch, registers_per_thread, warps)
                <= u64::from(arch.max_registers_per_block)
        })
        .map_or(0, |warps| warps * arch.warp_size)
}

/// Blocks per SM the register file allows; `None` for a register-free kernel.
/// Registers are allocated per sub-partition, so whole warps are counted per
/// sub-partition and then multiplied back up.
fn register_limit(arch: &Arch, registers_per_thread: u32, warps_per_block: u32) -> Option<u32> {
    let per_warp = registers_per_warp(arch, registers_per_thread);
    if per_warp == 0 {
        return None;
    }
    let per_sub_partition = arch.registers_per_sm / arch.register_sub_partitions;
    let warps_per_sm = (per_sub_partition / per_warp) * arch.register_sub_partitions;
    Some(warps_per_sm / warps_per_block)
}

/// Bytes of shared memory one block occupies: the request plus the driver's
/// reservation, rounded up to the allocation unit.
fn smem_allocated_per_block(arch: &Arch, requested: u64) -> u64 {
    let with_reserve = requested.saturating_add(u64::from(arch.reserved_shared_memory_per_block));
    round_up(with_reserve, u64::from(arch.shared_memory_allocation_unit))
}

/// Blocks per SM the shared memory allows, with the full carveout available
/// (the runtime's answer when no carveout preference is set); `None` when a
/// block allocates nothing.
fn smem_limit(arch: &Arch, allocated_per_block: u64) -> Option<u32> {
    if allocated_per_block == 0 {
        return None;
    }
    let blocks = u64::from(arch.shared_memory_per_sm) / allocated_per_block;
    Some(u32::try_from(blocks).unwrap_or(u32::MAX))
}

/// On 9.0+ the SM has `2 * max_blocks_per_sm` block barriers to share.
fn barrier_limit(arch: &Arch, barriers_per_block: u32) -> Option<BarrierLimit> {
    if !arch.limits_block_barriers || barriers_per_block == 0 {
        return None;
    }
    Some(BarrierLimit {
        blocks_per_sm: arch.max_blocks_per_sm.saturating_mul(2) / barriers_per_block,
        barriers_per_block,
    })
}

/// The smallest carveout holding `blocks` blocks. The driver sizes the
/// carveout per kernel to avoid a shared-memory bottleneck while leaving the
/// rest to L1 (PG: "the driver automatically configures the shared memory
/// capacity for each kernel").
fn chosen_carveout(arch: &Arch, allocated_per_block: u64, blocks: u32) -> u32 {
    let needed = allocated_per_block.saturating_mul(u64::from(blocks.max(1)));
    arch.carveouts_bytes()
        .find(|&capacity| u64::from(capacity) >= needed)
        .unwrap_or(arch.shared_memory_per_sm)
}

/// The most registers per thread that still fit `target` blocks, if any.
fn register_step(
    arch: &Arch,
    input: &OccupancyInput,
    warps_per_block: u32,
    target: u32,
) -> Option<RegisterStep> {
    let current = input.registers_per_thread;
    (1..current)
        .rev()
        .find(|&regs| register_limit(arch, regs, warps_per_block).is_some_and(|b| b >= target))
        .map(|regs| RegisterStep {
            blocks_per_sm: target,
            max_registers_per_thread: regs,
            save_per_thread: current - regs,
            sufficient: false,
        })
}

/// The most static + dynamic shared memory per block that still fits
/// `target` blocks, if any.
fn smem_step(arch: &Arch, requested: u64, target: u32) -> Option<SharedMemoryStep> {
    let unit = u64::from(arch.shared_memory_allocation_unit);
    let per_block = u64::from(arch.shared_memory_per_sm) / u64::from(target.max(1));
    let max_allocated = per_block / unit * unit;
    let max_bytes = max_allocated.checked_sub(u64::from(arch.reserved_shared_memory_per_block))?;
    let save_bytes = requested.checked_sub(max_bytes).filter(|&s| s > 0)?;
    Some(SharedMemoryStep {
        blocks_per_sm: target,
        max_bytes_per_block: max_bytes,
        save_bytes,
        sufficient: false,
    })
}

/// The block size `cudaOccupancyMaxPotentialBlockSize` would pick.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockSizeSuggestion {
    pub block_size: u32,
    pub active_blocks_per_sm: u32,
    pub occupancy: f64,
    /// Blocks needed to give every SM of the reference GPU its full share
    /// (`active_blocks_per_sm * SM count`): `minGridSize` of the runtime call.
    pub min_grid_size: u64,
}

/// The block size maximising occupancy, matching
/// `cudaOccupancyMaxPotentialBlockSize`: block sizes are tried from the
/// largest allowed (by the architecture and by the register file) down in
/// steps of 32, and the first one reaching the most resident *threads* wins,
/// so ties go to the larger block. The search stops early at full occupancy.
pub fn best_block_size(
    arch: &Arch,
    registers_per_thread: u32,
    static_smem_bytes: u64,
    dynamic_smem_per_block: u64,
) -> Result<BlockSizeSuggestion, LaunchError> {
    if registers_per_thread > arch.max_registers_per_thread {
        return Err(LaunchError::TooManyRegisters {
            registers: registers_per_thread,
            max: arch.max_registers_per_thread,
        });
    }
    let mut best: Option<(u32, OccupancyReport)> = None;
    let mut best_threads = 0u32;
    let mut size = max_threads_per_block_for_registers(arch, registers_per_thread);
    while size > 0 {
        let input = OccupancyInput::new(size, registers_per_thread)
            .with_static_smem(static_smem_bytes)
            .with_dynamic_smem(dynamic_smem_per_block);
        let report = occupancy(arch, &input)?;
        let threads = report.active_blocks_per_sm.saturating_mul(size);
        if threads > best_threads {
            best_threads = threads;
            best = Some((size, report));
        }
        if best_threads >= arch.max_threads_per_sm() {
            break;
        }
        size = size.saturating_sub(arch.warp_size);
    }
    // With <= 255 registers one warp always fits, and a valid launch always
    // has at least one resident block, so `best` is set; stay total anyway.
    let (block_size, report) = best.ok_or(LaunchError::TooManyRegisters {
        registers: registers_per_thread,
        max: arch.max_registers_per_thread,
    })?;
    Ok(BlockSizeSuggestion {
        block_size,
        active_blocks_per_sm: report.active_blocks_per_sm,
        occupancy: report.occupancy,
        min_grid_size: blocks_per_full_wave(arch, report.active_blocks_per_sm),
    })
}

/// Blocks that fill every SM of the reference GPU once ("one wave").
pub fn blocks_per_full_wave(arch: &Arch, active_blocks_per_sm: u32) -> u64 {
    u64::from(active_blocks_per_sm) * u64::from(arch.reference_sm_count)
}
