//! `__match_any_sync`: the lanes holding the caller's value, each lane's
//! value read by a subgroup shuffle. A warp-aggregated increment of our
//! own (as HeCBench atomicAggregate's `atomicAggInc`, matching pointers
//! cast to integers on their offsets): the WGSL, the refusal on narrower
//! subgroups, and a run where the adapter's subgroups are the 32-lane warp
//! (NVIDIA's; lavapipe's are narrower, and only the WGSL is checked there).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

const SOURCE: &str = r#"
__device__ int aggregated_increment(int *ptr) {
    int mask = __match_any_sync(0xffffffff, (unsigned long long)ptr);
    int leader = __ffs(mask) - 1;
    int lane = threadIdx.x % 32;
    int res = 0;
    if (lane == leader) res = atomicAdd(ptr, __popc(mask));
    res = __shfl_sync(mask, res, leader);
    return res + __popc(mask & ((1 << lane) - 1));
}
__global__ void count(int *buckets, int *tickets, int s) {
    int *ptr = buckets + threadIdx.x % s;
    tickets[threadIdx.x] = aggregated_increment(ptr);
}
"#;

fn options() -> TranspileOptions {
    TranspileOptions {
        subgroups: true,
        source_name: Some("aggregate.cu".into()),
        ..TranspileOptions::default()
    }
}

#[test]
fn match_any_groups_lanes_by_value() {
    let out = common::compile(SOURCE, "count", &options()).unwrap_or_else(|d| panic!("{d:#?}"));
    // Pointers into one array match on their offsets.
    for want in [
        "let match_key_1 = i32(ptr_);",
        "subgroupShuffle(match_key_1, lane_3) == match_key_1",
        "& subgroupBallot(true).x",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let narrow = TranspileOptions {
        subgroup_size: Some(16),
        ..options()
    };
    let err = common::compile(SOURCE, "count", &narrow).expect_err("16 lanes");
    assert!(
        err.iter()
            .any(|d| d.message.contains("needs 32-lane subgroups")),
        "{err:#?}"
    );
    let Some(mut guard) = common::warp_runner("__match_any_sync") else {
        return;
    };
    let runner = guard.as_mut().unwrap();
    let (threads, s) = (128usize, 5usize);
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [threads as u32, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(s as f64))
        .with_buffer("buckets", BufferSpec::zeros(s as u64))
        .with_buffer("tickets", BufferSpec::zeros(threads as u64));
    let result = runner.run(&bench).expect("run");
    let buckets: Vec<i32> =
        bytemuck::pod_collect_to_vec(&result.output("buckets").expect("buckets").bytes);
    let tickets: Vec<i32> =
        bytemuck::pod_collect_to_vec(&result.output("tickets").expect("tickets").bytes);
    for (b, &count) in buckets.iter().enumerate() {
        let mut got: Vec<i32> = (0..threads)
            .filter(|t| t % s == b)
            .map(|t| tickets[t])
            .collect();
        got.sort_unstable();
        let want: Vec<i32> = (0..got.len() as i32).collect();
        assert_eq!(got, want, "bucket {b}: each thread one ticket");
        assert_eq!(count, got.len() as i32, "bucket {b}");
    }
}
