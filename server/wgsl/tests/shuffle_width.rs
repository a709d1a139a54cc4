//! Shuffles with a `width` below the warp size: lanes shuffle within
//! aligned segments of `width` lanes (`__shfl_sync` reads lane `src % width`
//! of the caller's segment, up/down keep the caller's value past the
//! segment's ends, xor keeps it where the partner is in a later segment).
//! Our own kernel; the WGSL, the refusal of a width that is no power of
//! two, and a run on a real adapter (lavapipe here) when it has subgroups
//! of at least 8 lanes, against a Rust model of CUDA's rules. The same
//! shuffles in a block of several rows, where naga refuses the lane
//! builtin and the lane is the thread's rank in its subgroup.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface};
use cudalens_wgsl::TranspileOptions;

const SOURCE: &str = r#"
__global__ void segments(const int *x, int *o) {
    int i = threadIdx.x;
    int v = x[i];
    int a = __shfl_sync(0xffffffff, v, 5, 4);
    int b = __shfl_down_sync(0xffffffff, v, 1, 4);
    int c = __shfl_up_sync(0xffffffff, v, 2, 4);
    int d = __shfl_xor_sync(0xffffffff, v, 6, 8);
    o[4 * i] = a;
    o[4 * i + 1] = b;
    o[4 * i + 2] = c;
    o[4 * i + 3] = d;
}
"#;

fn options() -> TranspileOptions {
    TranspileOptions {
        subgroups: true,
        source_name: Some("segments.cu".into()),
        ..TranspileOptions::default()
    }
}

#[test]
fn shuffles_stay_within_their_segment() {
    let out = common::compile(SOURCE, "segments", &options()).unwrap_or_else(|d| panic!("{d:#?}"));
    for want in [
        "subgroupShuffle(v, (lane_id & ~(4u - 1u)) | (5u & (4u - 1u)))",
        "select(v, subgroupShuffleDown(v, 1u), (lane_id & (4u - 1u)) + 1u < 4u)",
        "select(v, subgroupShuffleUp(v, 2u), (lane_id & (4u - 1u)) >= 2u)",
        "select(v, subgroupShuffleXor(v, 6u), (lane_id ^ 6u) < (lane_id | (8u - 1u)) + 1u)",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let bad = SOURCE.replace("v, 1, 4)", "v, 1, 6)");
    let err = common::compile(&bad, "segments", &options()).expect_err("refused");
    assert!(
        err.iter().any(|d| d
            .message
            .contains("must be a power of two up to the warp size")),
        "{err:#?}"
    );
}

#[test]
fn segmented_shuffles_match_cuda_on_the_adapter() {
    let out = common::compile(SOURCE, "segments", &options()).unwrap_or_else(|d| panic!("{d:#?}"));
    run_segments(&out, [64, 1, 1]);
}

/// HeCBench's welford_kernel, jacobi_step and the samples' shfl_scan
/// `shfl_vertical_shfl` use lanes in blocks of several rows: with the
/// `subgroup_invocation_id` builtin naga validated the module, then
/// refused it once the pipeline set the block size (wgpu's "Pipeline
/// constant error" on the H100 at stop 31).
#[test]
fn lanes_in_a_block_of_rows_are_ranks_in_the_subgroup() {
    let rows = SOURCE.replace(
        "int i = threadIdx.x;",
        "int i = threadIdx.y * blockDim.x + threadIdx.x;",
    );
    let opts = TranspileOptions {
        block_override: Some([16, 4, 1]),
        ..options()
    };
    let out = common::compile(&rows, "segments", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("lane_id = subgroupExclusiveAdd(1u);"),
        "{}",
        out.wgsl
    );
    assert!(!out.wgsl.contains("subgroup_invocation_id"), "{}", out.wgsl);
    // One row: the builtin, as before.
    let out_1d = common::compile(SOURCE, "segments", &options()).unwrap();
    assert!(out_1d.wgsl.contains("@builtin(subgroup_invocation_id)"));
    run_segments(&out, [16, 4, 1]);
}

fn run_segments(out: &cudalens_wgsl::TranspileOutput, block: [u32; 3]) {
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let runner = guard.as_mut().unwrap();
    let report = runner.adapter().expect("adapter report");
    // Segments of 8 lanes must fit one subgroup.
    if !report.features.subgroup || report.subgroup_min_size < 8 {
        eprintln!(
            "adapter {}: no subgroups of 8 lanes, not executed",
            report.name
        );
        return;
    }
    let n = block.iter().product::<u32>() as usize;
    let x: Vec<i32> = (0..n as i32).map(|i| i * 10 + 3).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], block)
        .with_iterations(0, 1)
        .with_buffer(
            "x",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer("o", BufferSpec::zeros(4 * n as u64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("o").expect("o").bytes);
    for i in 0..n {
        let seg4 = i & !3;
        let a = x[seg4 + (5 & 3)];
        let b = if (i & 3) + 1 < 4 { x[i + 1] } else { x[i] };
        let c = if (i & 3) >= 2 { x[i - 2] } else { x[i] };
        let partner = i ^ 6;
        let d = if partner < (i | 7) + 1 {
            x[partner]
        } else {
            x[i]
        };
        assert_eq!(&got[4 * i..4 * i + 4], &[a, b, c, d], "lane {i}");
    }
}
