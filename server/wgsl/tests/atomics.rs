//! Float atomics: a discarded `atomicAdd` on an address every thread shares
//! is summed per subgroup first; every other float atomic stays a
//! compare-exchange loop per thread.

mod common;

use cudalens_wgsl::TranspileOptions;

fn wgsl(body: &str, subgroups: bool) -> String {
    let source = format!(
        "__global__ void k(const float* in, float* out, float* per_block, int n) {{\n\
         int i = blockIdx.x * blockDim.x + threadIdx.x;\n{body}\n}}\n"
    );
    let opts = TranspileOptions {
        subgroups,
        ..TranspileOptions::default()
    };
    common::compile(&source, "k", &opts)
        .unwrap_or_else(|d| panic!("{d:#?}"))
        .wgsl
}

const AGGREGATED: &str = "subgroupAdd(";

#[test]
fn shared_address_is_summed_per_subgroup() {
    for body in [
        "atomicAdd(out, in[i]);",
        "atomicAdd(&out[0], in[i]);",
        "if (i < n) atomicAdd(&per_block[blockIdx.x], in[i]);",
        "atomicSub(&out[n - 1], in[i]);",
    ] {
        let text = wgsl(body, true);
        assert!(text.contains(AGGREGATED), "{body}:\n{text}");
        assert!(
            text.contains("subgroupBroadcastFirst(lane_id) == lane_id"),
            "{body}:\n{text}"
        );
    }
}

#[test]
fn per_thread_addresses_used_results_and_no_subgroups_keep_the_loop() {
    for body in [
        "atomicAdd(&out[i], in[i]);",
        "atomicAdd(&out[threadIdx.x % 4], in[i]);",
        "float old = atomicAdd(out, in[i]); per_block[i] = old;",
        "int j = i / 32; atomicAdd(&out[j], in[i]);",
    ] {
        let text = wgsl(body, true);
        assert!(!text.contains(AGGREGATED), "{body}:\n{text}");
        assert!(
            text.contains("atomicCompareExchangeWeak"),
            "{body}:\n{text}"
        );
    }
    let text = wgsl("atomicAdd(out, in[i]);", false);
    assert!(!text.contains(AGGREGATED), "{text}");
}
