//! Replays the CUDA runtime's own answers (H100, sm_90; see
//! `tests/data/README.md`) through the calculator. Result: 3,416 of 3,416
//! rows agree exactly on `max_blocks_per_sm`.

use cudalens_occupancy::{Arch, LaunchError, OccupancyInput, best_block_size, occupancy};

const CSV: &str = include_str!("data/occupancy-sm90-h100.csv");

struct Row {
    kernel: String,
    regs: u32,
    static_smem: u64,
    block: u32,
    dyn_smem: u64,
    max_blocks_per_sm: i64,
    status: String,
}

fn rows() -> Vec<Row> {
    let mut lines = CSV.lines();
    assert_eq!(
        lines.next(),
        Some("kernel,regs,static_smem,block,dyn_smem,max_blocks_per_sm,status")
    );
    lines
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 7, "malformed row {line:?}");
            Row {
                kernel: f[0].to_string(),
                regs: f[1].parse().unwrap(),
                static_smem: f[2].parse().unwrap(),
                block: f[3].parse().unwrap(),
                dyn_smem: f[4].parse().unwrap(),
                max_blocks_per_sm: f[5].parse().unwrap(),
                status: f[6].to_string(),
            }
        })
        .collect()
}

/// The calculator's answer in the CSV's terms: blocks per SM, with a refused
/// launch counting as 0 (the runtime reports 0 for those).
fn predicted_blocks(arch: &Arch, row: &Row) -> Result<i64, LaunchError> {
    let input = OccupancyInput::new(row.block, row.regs)
        .with_static_smem(row.static_smem)
        .with_dynamic_smem(row.dyn_smem);
    match occupancy(arch, &input) {
        Ok(report) => Ok(i64::from(report.active_blocks_per_sm)),
        Err(LaunchError::TooMuchSharedMemory { .. }) => Ok(0),
        Err(other) => Err(other),
    }
}

#[test]
fn every_row_matches_the_cuda_runtime() {
    let h100 = Arch::parse("sm_90").unwrap();
    let rows = rows();
    assert_eq!(rows.len(), 3416);
    let mut mismatches = Vec::new();
    for row in &rows {
        let expected = if row.status == "ok" {
            row.max_blocks_per_sm
        } else {
            0
        };
        match predicted_blocks(h100, row) {
            Ok(got) if got == expected => {}
            got => mismatches.push(format!(
                "{} regs={} static={} block={} dyn={}: runtime {expected}, calculator {got:?}",
                row.kernel, row.regs, row.static_smem, row.block, row.dyn_smem
            )),
        }
    }
    let agreed = rows.len() - mismatches.len();
    eprintln!("ground truth sm_90: {agreed}/{} rows agree", rows.len());
    assert!(
        mismatches.is_empty(),
        "{} of {} rows disagree:\n{}",
        mismatches.len(),
        rows.len(),
        mismatches.join("\n")
    );
}

/// The only refused launches in the sweep are over the opt-in maximum.
#[test]
fn zero_block_rows_are_shared_memory_refusals() {
    let h100 = Arch::parse("sm_90").unwrap();
    let zero_rows: Vec<Row> = rows()
        .into_iter()
        .filter(|r| r.max_blocks_per_sm == 0)
        .collect();
    assert_eq!(zero_rows.len(), 12);
    for row in &zero_rows {
        let input = OccupancyInput::new(row.block, row.regs)
            .with_static_smem(row.static_smem)
            .with_dynamic_smem(row.dyn_smem);
        assert!(matches!(
            occupancy(h100, &input),
            Err(LaunchError::TooMuchSharedMemory { .. })
        ));
    }
}

/// The sweep covers each kernel up to the `maxThreadsPerBlock` that
/// `cudaFuncGetAttributes` reported, which the register file dictates.
#[test]
fn kernel_block_size_limits_match_the_runtime() {
    let h100 = Arch::parse("sm_90").unwrap();
    let mut max_block: std::collections::BTreeMap<(String, u32), u32> = Default::default();
    for row in rows() {
        let entry = max_block.entry((row.kernel, row.regs)).or_default();
        *entry = (*entry).max(row.block);
    }
    for ((kernel, regs), block) in max_block {
        assert_eq!(
            cudalens_occupancy::max_threads_per_block_for_registers(h100, regs),
            block,
            "{kernel} ({regs} registers)"
        );
    }
}

/// `cudaOccupancyMaxPotentialBlockSize` semantics, replayed from the table:
/// scanning the runtime's own answers from the largest block down and keeping
/// the first strictly better thread count must give our suggestion.
#[test]
fn best_block_size_agrees_with_the_table() {
    let h100 = Arch::parse("sm_90").unwrap();
    let rows = rows();
    let mut configs: Vec<(u32, u64, u64)> = rows
        .iter()
        .map(|r| (r.regs, r.static_smem, r.dyn_smem))
        .collect();
    configs.sort();
    configs.dedup();
    for (regs, static_smem, dyn_smem) in configs {
        let mut candidates: Vec<&Row> = rows
            .iter()
            .filter(|r| r.regs == regs && r.static_smem == static_smem && r.dyn_smem == dyn_smem)
            .collect();
        candidates.sort_by_key(|r| std::cmp::Reverse(r.block));
        let mut best: Option<(u32, i64)> = None;
        for row in candidates {
            let threads = row.max_blocks_per_sm * i64::from(row.block);
            if threads > best.map_or(0, |(block, blocks)| blocks * i64::from(block)) {
                best = Some((row.block, row.max_blocks_per_sm));
            }
            if threads == 2048 {
                break;
            }
        }
        let suggestion = best_block_size(h100, regs, static_smem, dyn_smem);
        match best {
            Some((block, blocks)) => {
                let s = suggestion.unwrap();
                assert_eq!(
                    (s.block_size, i64::from(s.active_blocks_per_sm)),
                    (block, blocks),
                    "regs={regs} static={static_smem} dyn={dyn_smem}"
                );
                assert_eq!(s.min_grid_size, blocks as u64 * 132);
            }
            None => assert!(matches!(
                suggestion,
                Err(LaunchError::TooMuchSharedMemory { .. })
            )),
        }
    }
}
