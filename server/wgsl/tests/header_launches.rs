//! A template kernel in a header launched by a host template in another
//! header (the file's model resolves only the main file's launches): its
//! template arguments are followed from that launch through the host
//! templates' calls to the main file (`run(keys, seg, n)` with `int *keys`).

mod common;

use cudalens_wgsl::TranspileOptions;

const KERNEL: &str = r#"
template <class K, class Offset>
__global__ void shift(K *keys, const Offset *seg, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) keys[i] = keys[i] + (K)seg[0];
}
"#;

const DISPATCH: &str = r#"
#include "kernel.cuh"
template <class K, class Offset>
void dispatch(K *keys_d, const Offset *seg_d, int n) {
    shift<<<(n + 255) / 256, 256>>>(keys_d, seg_d, n);
}
template <class K, class Offset>
int run(K *keys_d, const Offset *seg_d, int n) {
    dispatch(keys_d, seg_d, n);
    return 0;
}
"#;

const MAIN: &str = r#"
#include "dispatch.cuh"
int main() {
    float *keys; unsigned int *seg;
    run(keys, seg, 1000);
}
"#;

#[test]
fn template_arguments_come_from_a_launch_in_a_header() {
    let headers = [("kernel.cuh", KERNEL), ("dispatch.cuh", DISPATCH)];
    let out = common::compile_with_headers(MAIN, &headers, "shift", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("keys: array<f32>"), "{}", out.wgsl);
    assert!(out.wgsl.contains("seg: array<u32>"), "{}", out.wgsl);
}
