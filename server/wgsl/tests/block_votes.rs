//! `__syncthreads_count/and/or`: a barrier with a block-wide vote, through
//! a workgroup counter; called twice in a row (the counter is reused) and
//! run on a real adapter (lavapipe here) against Rust.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface};

const VOTES: &str = r#"
__global__ void votes(const int *in, int *out) {
    int v = in[blockIdx.x * blockDim.x + threadIdx.x];
    int positive = __syncthreads_count(v > 0);
    int all_small = __syncthreads_and(v < 100);
    int any_zero = __syncthreads_or(v == 0);
    int even = __syncthreads_count((v & 1) == 0);
    if (threadIdx.x == 0) {
        out[4 * blockIdx.x] = positive;
        out[4 * blockIdx.x + 1] = all_small;
        out[4 * blockIdx.x + 2] = any_zero;
        out[4 * blockIdx.x + 3] = even;
    }
}
int main() { votes<<<3, 64>>>(0, 0); }
"#;

#[test]
fn block_votes_match_c_on_the_adapter() {
    let out = common::compile_as("votes.cu", VOTES, "votes").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("var<workgroup> cuda_sync_reduction: atomic<u32>;"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<i32> = (0..192i32)
        .map(|i| match i / 64 {
            0 => i % 7 - 2,
            1 => i * 3,
            _ => 1 + 2 * (i % 10),
        })
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [3, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(192, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(12));
    let result = runner.run(&bench).expect("run");
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let mut want = Vec::new();
    for block in input.chunks(64) {
        want.push(block.iter().filter(|&&v| v > 0).count() as i32);
        want.push(i32::from(block.iter().all(|&v| v < 100)));
        want.push(i32::from(block.contains(&0)));
        want.push(block.iter().filter(|&&v| v & 1 == 0).count() as i32);
    }
    assert_eq!(got, want);
}
