//! Per-compute-capability limits that govern theoretical occupancy.
//!
//! Sources (cited per field below):
//! - **PG**: CUDA C++ Programming Guide, "Compute Capabilities" appendix,
//!   table "Technical Specifications per Compute Capability", and the per-family
//!   sections (e.g. "Compute Capability 9.0 / Shared Memory") that list the
//!   configurable shared-memory capacities.
//! - **OCC**: `cuda_occupancy.h` shipped with the toolkit (the header behind the
//!   CUDA Occupancy Calculator and `cudaOccupancyMaxActiveBlocksPerMultiprocessor`):
//!   `cudaOccSMemAllocationGranularity` (256 B on 7.x, 128 B on 8.x/9.x/10.x/12.x),
//!   `cudaOccRegAllocationGranularity` (256 registers per warp),
//!   `cudaOccSubPartitionsPerMultiprocessor` (4), `cudaOccMaxBlocksPerMultiprocessor`,
//!   and `cudaOccAlignUpShmemSizeVoltaPlus` (the carveout steps).
//! - **PROP**: `cudaDeviceProp` as reported by the driver on the named GPU
//!   (`sharedMemPerMultiprocessor`, `sharedMemPerBlockOptin`,
//!   `reservedSharedMemPerBlock`, `maxBlocksPerMultiProcessor`, `multiProcessorCount`).
//!   For sm_90 these are the H100 values recorded in `tests/data/README.md`.
//! - **TUNE**: the Volta / Turing / Ampere / Hopper / Blackwell tuning guides
//!   (carveout capacities, 1 KB per-block system reservation on 8.0+).

use std::fmt;

const KB: u32 = 1024;

/// Limits of one compute capability, plus one representative GPU for
/// grid-size ("is the grid big enough to fill the machine?") checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arch {
    /// Canonical name, e.g. `"sm_90"`.
    pub name: &'static str,
    pub major: u32,
    pub minor: u32,
    /// Marketing family, e.g. `"Hopper"`.
    pub family: &'static str,
    pub warp_size: u32,
    /// Resident warps per SM (= max resident threads per SM / 32). PG.
    pub max_warps_per_sm: u32,
    /// Resident blocks per SM. PG; OCC `cudaOccMaxBlocksPerMultiprocessor`.
    pub max_blocks_per_sm: u32,
    /// Threads per block. PG.
    pub max_threads_per_block: u32,
    /// 32-bit registers per SM. PG.
    pub registers_per_sm: u32,
    /// 32-bit registers per block. PG.
    pub max_registers_per_block: u32,
    /// Registers are allocated per warp in units of this many. OCC.
    pub register_allocation_unit: u32,
    /// Registers per thread the compiler may use. PG.
    pub max_registers_per_thread: u32,
    /// The register file is split into this many sub-partitions (one per
    /// warp scheduler); a warp's registers live in one of them, so the warps
    /// an SM can hold are counted per sub-partition. This is the
    /// spreadsheet's "warp allocation granularity". OCC.
    pub register_sub_partitions: u32,
    /// Largest shared-memory carveout per SM, bytes (includes the per-block
    /// reservations). PG; PROP `sharedMemPerMultiprocessor`.
    pub shared_memory_per_sm: u32,
    /// Per-block shared memory without opting in (static arrays are capped
    /// here too). PG.
    pub max_shared_memory_per_block: u32,
    /// Per-block shared memory after `cudaFuncSetAttribute(...,
    /// cudaFuncAttributeMaxDynamicSharedMemorySize, ...)`. PG; PROP
    /// `sharedMemPerBlockOptin`.
    pub max_shared_memory_per_block_optin: u32,
    /// Shared memory the driver reserves for system use in every block. PROP
    /// `reservedSharedMemPerBlock`; TUNE (Ampere: "1 KB ... reserved").
    pub reserved_shared_memory_per_block: u32,
    /// Shared memory is allocated per block in units of this many bytes. OCC.
    pub shared_memory_allocation_unit: u32,
    /// Shared-memory capacities (KB) the L1/shared carveout can be set to. PG;
    /// OCC `cudaOccAlignUpShmemSizeVoltaPlus`.
    pub shared_memory_carveouts_kb: &'static [u32],
    /// Whether the block-barrier limit of `cuda_occupancy.h` applies
    /// (compute capability 9.0 and later: `2 * max_blocks_per_sm` barriers
    /// per SM shared by resident blocks). OCC `cudaOccMaxBlocksPerSMBlockBarrierLimit`.
    pub limits_block_barriers: bool,
    /// A representative GPU of this compute capability.
    pub reference_gpu: &'static str,
    /// SM count of `reference_gpu` (PROP `multiProcessorCount` / vendor data sheet).
    pub reference_sm_count: u32,
}

impl Arch {
    /// Looks up a compute capability.
    pub fn from_compute_capability(major: u32, minor: u32) -> Option<&'static Arch> {
        ALL.iter().find(|a| a.major == major && a.minor == minor)
    }

    /// Parses `"sm_90"`, `"sm_90a"`, `"sm_100f"`, `"compute_90"`, `"9.0"`, `"90"`,
    /// `"sm_100"`, `"sm_120"` (case-insensitive, surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<&'static Arch, ArchParseError> {
        let (major, minor) =
            parse_compute_capability(text).ok_or_else(|| ArchParseError::Malformed(text.into()))?;
        Arch::from_compute_capability(major, minor).ok_or(ArchParseError::Unsupported {
            input: text.into(),
            major,
            minor,
        })
    }

    /// Every supported compute capability, oldest first.
    pub fn all() -> &'static [Arch] {
        ALL
    }

    /// Maximum resident threads per SM.
    pub fn max_threads_per_sm(&self) -> u32 {
        self.max_warps_per_sm * self.warp_size
    }

    /// Carveout capacities in bytes, ascending.
    pub fn carveouts_bytes(&self) -> impl Iterator<Item = u32> + '_ {
        self.shared_memory_carveouts_kb.iter().map(|kb| kb * KB)
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// Why an architecture name was not accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchParseError {
    /// Not of any recognised shape.
    Malformed(String),
    /// Well-formed, but not in the table.
    Unsupported {
        input: String,
        major: u32,
        minor: u32,
    },
}

impl fmt::Display for ArchParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let supported: Vec<&str> = ALL.iter().map(|a| a.name).collect();
        match self {
            ArchParseError::Malformed(input) => write!(
                f,
                "cannot parse GPU architecture {input:?} (expected e.g. sm_90, compute_90, 9.0 or 90)"
            ),
            ArchParseError::Unsupported {
                input,
                major,
                minor,
            } => write!(
                f,
                "GPU architecture {input:?} (compute capability {major}.{minor}) is not supported; known: {}",
                supported.join(", ")
            ),
        }
    }
}

impl std::error::Error for ArchParseError {}

/// `(major, minor)` from any accepted spelling, without checking the table.
fn parse_compute_capability(text: &str) -> Option<(u32, u32)> {
    let lower = text.trim().to_ascii_lowercase();
    if let Some((major, minor)) = lower.split_once('.') {
        return Some((parse_digits(major)?, parse_digits(minor)?));
    }
    let digits = ["sm_", "compute_", "lto_", "sm", "compute"]
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix))
        .unwrap_or(&lower);
    // Feature suffixes: "a" (arch-specific) and "f" (family-specific) do not
    // change resource limits.
    let digits = digits
        .strip_suffix('a')
        .or_else(|| digits.strip_suffix('f'))
        .unwrap_or(digits);
    if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // The last digit is the minor version: "90" -> 9.0, "120" -> 12.0.
    let (major, minor) = digits.split_at(digits.len() - 1);
    Some((parse_digits(major)?, parse_digits(minor)?))
}

fn parse_digits(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

// Carveout steps, OCC `cudaOccAlignUpShmemSizeVoltaPlus`; PG per-family
// "Shared Memory" sections; TUNE.
const CARVEOUTS_VOLTA: &[u32] = &[0, 8, 16, 32, 64, 96];
const CARVEOUTS_TURING: &[u32] = &[32, 64];
const CARVEOUTS_100K: &[u32] = &[0, 8, 16, 32, 64, 100];
const CARVEOUTS_164K: &[u32] = &[0, 8, 16, 32, 64, 100, 132, 164];
const CARVEOUTS_228K: &[u32] = &[0, 8, 16, 32, 64, 100, 132, 164, 196, 228];

/// Fields common to every supported architecture (PG: 64 K registers per SM
/// and per block, 255 registers per thread, 1024 threads per block, 48 KB
/// default per-block shared memory; OCC: 256-register warp allocation unit,
/// 4 register sub-partitions).
const BASE: Arch = Arch {
    name: "",
    major: 0,
    minor: 0,
    family: "",
    warp_size: 32,
    max_warps_per_sm: 64,
    max_blocks_per_sm: 32,
    max_threads_per_block: 1024,
    registers_per_sm: 64 * KB,
    max_registers_per_block: 64 * KB,
    register_allocation_unit: 256,
    max_registers_per_thread: 255,
    register_sub_partitions: 4,
    shared_memory_per_sm: 0,
    max_shared_memory_per_block: 48 * KB,
    max_shared_memory_per_block_optin: 0,
    reserved_shared_memory_per_block: 1024,
    shared_memory_allocation_unit: 128,
    shared_memory_carveouts_kb: &[],
    limits_block_barriers: false,
    reference_gpu: "",
    reference_sm_count: 0,
};

static ALL: &[Arch] = &[
    // Volta. PG: 64 warps, 32 blocks, 96 KB shared/SM and per block (opt-in).
    // PROP (V100): reservedSharedMemPerBlock = 0. OCC: 256-byte smem unit.
    Arch {
        name: "sm_70",
        major: 7,
        minor: 0,
        family: "Volta",
        shared_memory_per_sm: 96 * KB,
        max_shared_memory_per_block_optin: 96 * KB,
        reserved_shared_memory_per_block: 0,
        shared_memory_allocation_unit: 256,
        shared_memory_carveouts_kb: CARVEOUTS_VOLTA,
        reference_gpu: "Tesla V100-SXM2",
        reference_sm_count: 80,
        ..BASE
    },
    // Turing. PG: 32 warps (1024 threads/SM), 16 blocks, 64 KB shared/SM and
    // per block (opt-in), carveout 32 or 64 KB. OCC: 16 blocks ("isTuring").
    Arch {
        name: "sm_75",
        major: 7,
        minor: 5,
        family: "Turing",
        max_warps_per_sm: 32,
        max_blocks_per_sm: 16,
        shared_memory_per_sm: 64 * KB,
        max_shared_memory_per_block_optin: 64 * KB,
        reserved_shared_memory_per_block: 0,
        shared_memory_allocation_unit: 256,
        shared_memory_carveouts_kb: CARVEOUTS_TURING,
        reference_gpu: "Tesla T4",
        reference_sm_count: 40,
        ..BASE
    },
    // Ampere GA100. PG: 64 warps, 32 blocks, 164 KB shared/SM, 163 KB per
    // block opt-in. PROP (A100-SXM4): 167,936 / 166,912 / reserved 1,024.
    Arch {
        name: "sm_80",
        major: 8,
        minor: 0,
        family: "Ampere",
        shared_memory_per_sm: 164 * KB,
        max_shared_memory_per_block_optin: 163 * KB,
        shared_memory_carveouts_kb: CARVEOUTS_164K,
        reference_gpu: "A100-SXM4",
        reference_sm_count: 108,
        ..BASE
    },
    // Ampere GA10x. PG: 48 warps (1536 threads/SM), 16 blocks, 100 KB
    // shared/SM, 99 KB per block opt-in.
    Arch {
        name: "sm_86",
        major: 8,
        minor: 6,
        family: "Ampere",
        max_warps_per_sm: 48,
        max_blocks_per_sm: 16,
        shared_memory_per_sm: 100 * KB,
        max_shared_memory_per_block_optin: 99 * KB,
        shared_memory_carveouts_kb: CARVEOUTS_100K,
        reference_gpu: "GeForce RTX 3090",
        reference_sm_count: 82,
        ..BASE
    },
    // Ampere GA10B (Jetson Orin). PG: 48 warps, 16 blocks, 164 KB shared/SM,
    // 163 KB per block opt-in; OCC groups 8.7 with 8.0 for carveouts.
    Arch {
        name: "sm_87",
        major: 8,
        minor: 7,
        family: "Ampere",
        max_warps_per_sm: 48,
        max_blocks_per_sm: 16,
        shared_memory_per_sm: 164 * KB,
        max_shared_memory_per_block_optin: 163 * KB,
        shared_memory_carveouts_kb: CARVEOUTS_164K,
        reference_gpu: "Jetson AGX Orin 64GB",
        reference_sm_count: 16,
        ..BASE
    },
    // Ada. PG: 48 warps, 24 blocks (OCC: "computeMinor == 9 -> 24"), 100 KB
    // shared/SM, 99 KB per block opt-in.
    Arch {
        name: "sm_89",
        major: 8,
        minor: 9,
        family: "Ada",
        max_warps_per_sm: 48,
        max_blocks_per_sm: 24,
        shared_memory_per_sm: 100 * KB,
        max_shared_memory_per_block_optin: 99 * KB,
        shared_memory_carveouts_kb: CARVEOUTS_100K,
        reference_gpu: "GeForce RTX 4090",
        reference_sm_count: 128,
        ..BASE
    },
    // Hopper. PG: 64 warps, 32 blocks, 228 KB shared/SM, 227 KB per block
    // opt-in. PROP (H100 80GB HBM3, tests/data): 233,472 / 232,448 / 1,024.
    Arch {
        name: "sm_90",
        major: 9,
        minor: 0,
        family: "Hopper",
        shared_memory_per_sm: 228 * KB,
        max_shared_memory_per_block_optin: 227 * KB,
        shared_memory_carveouts_kb: CARVEOUTS_228K,
        limits_block_barriers: true,
        reference_gpu: "H100 SXM5",
        reference_sm_count: 132,
        ..BASE
    },
    // Blackwell data centre. PG: same SM resource limits as 9.0 (64 warps,
    // 32 blocks, 228 KB / 227 KB).
    Arch {
        name: "sm_100",
        major: 10,
        minor: 0,
        family: "Blackwell",
        shared_memory_per_sm: 228 * KB,
        max_shared_memory_per_block_optin: 227 * KB,
        shared_memory_carveouts_kb: CARVEOUTS_228K,
        limits_block_barriers: true,
        reference_gpu: "B200",
        reference_sm_count: 148,
        ..BASE
    },
    // Blackwell consumer. PG: 48 warps (1536 threads/SM), 100 KB shared/SM,
    // 99 KB per block opt-in. PROP (GeForce RTX 5090): sharedMemPerMultiprocessor
    // 102,400, maxBlocksPerMultiProcessor 24.
    Arch {
        name: "sm_120",
        major: 12,
        minor: 0,
        family: "Blackwell",
        max_warps_per_sm: 48,
        max_blocks_per_sm: 24,
        shared_memory_per_sm: 100 * KB,
        max_shared_memory_per_block_optin: 99 * KB,
        shared_memory_carveouts_kb: CARVEOUTS_100K,
        limits_block_barriers: true,
        reference_gpu: "GeForce RTX 5090",
        reference_sm_count: 170,
        ..BASE
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        for text in [
            "sm_90",
            "sm_90a",
            "SM_90",
            "compute_90",
            "9.0",
            "90",
            " sm90 ",
            "lto_90",
        ] {
            assert_eq!(Arch::parse(text).unwrap().name, "sm_90", "{text}");
        }
        assert_eq!(Arch::parse("sm_100").unwrap().major, 10);
        assert_eq!(Arch::parse("sm_100a").unwrap().major, 10);
        assert_eq!(Arch::parse("sm_100f").unwrap().major, 10);
        assert_eq!(Arch::parse("sm_120").unwrap().major, 12);
        assert_eq!(Arch::parse("12.0").unwrap().name, "sm_120");
        assert_eq!(Arch::parse("8.6").unwrap().name, "sm_86");
        assert_eq!(Arch::parse("75").unwrap().name, "sm_75");
    }

    #[test]
    fn rejects_bad_or_unknown_names() {
        for text in [
            "",
            "sm_",
            "sm_9é",
            "é9",
            "sm_é0",
            "sm_9",
            "9.",
            ".0",
            "sm_9x",
            "gfx90a",
            "9.0.1",
            "sm_99999999",
        ] {
            assert!(
                matches!(Arch::parse(text), Err(ArchParseError::Malformed(_))),
                "{text}"
            );
        }
        let err = Arch::parse("sm_61").unwrap_err();
        assert!(matches!(
            err,
            ArchParseError::Unsupported {
                major: 6,
                minor: 1,
                ..
            }
        ));
        assert!(err.to_string().contains("sm_90"));
    }

    #[test]
    fn table_is_consistent() {
        for arch in Arch::all() {
            let canonical = format!("sm_{}{}", arch.major, arch.minor);
            assert_eq!(arch.name, canonical);
            assert_eq!(Arch::parse(arch.name).unwrap(), arch);
            // The largest carveout is the whole per-SM capacity.
            assert_eq!(
                arch.carveouts_bytes().last(),
                Some(arch.shared_memory_per_sm)
            );
            assert!(arch.carveouts_bytes().is_sorted());
            // A block may use everything but its own reservation.
            assert!(
                arch.max_shared_memory_per_block_optin + arch.reserved_shared_memory_per_block
                    <= arch.shared_memory_per_sm
            );
            assert!(arch.max_shared_memory_per_block <= arch.max_shared_memory_per_block_optin);
            assert!(arch.max_threads_per_block <= arch.max_threads_per_sm());
            assert!(arch.reference_sm_count > 0 && !arch.reference_gpu.is_empty());
        }
    }

    #[test]
    fn h100_matches_device_properties() {
        // Values reported by cudaGetDeviceProperties on the H100 that produced
        // tests/data/occupancy-sm90-h100.csv.
        let h100 = Arch::parse("sm_90").unwrap();
        assert_eq!(h100.shared_memory_per_sm, 233_472);
        assert_eq!(h100.max_shared_memory_per_block_optin, 232_448);
        assert_eq!(h100.registers_per_sm, 65_536);
        assert_eq!(h100.max_threads_per_sm(), 2048);
    }
}
