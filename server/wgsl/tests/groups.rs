//! Cooperative groups' warp tiles (`thread_block_tile<32>` from
//! `tiled_partition<32>(block)`, declared with its type — which the parser
//! reads as a comparison — or `auto`): methods lower to the warp
//! intrinsics; other tile sizes are refused with the reason. The output is
//! validated by naga (with subgroups) as every transpile is.

mod common;

use cudalens_wgsl::TranspileOptions;

const TILE_REDUCE: &str = r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;

__global__ void warp_sums(const float *in, float *out, int *any_negative) {
    cg::thread_block cta = cg::this_thread_block();
    cg::thread_block_tile<32> tile32 = cg::tiled_partition<32>(cta);
    auto same = cg::tiled_partition<32>(cta);
    float v = in[blockIdx.x * blockDim.x + threadIdx.x];
    for (int offset = tile32.size() / 2; offset > 0; offset /= 2) {
        v += tile32.shfl_down(v, offset);
    }
    cg::sync(tile32);
    bool neg = same.any(v < 0.0f);
    if (tile32.thread_rank() == 0) {
        out[blockIdx.x * (blockDim.x / 32) + tile32.meta_group_rank()] = v;
        any_negative[blockIdx.x] = neg;
    }
}
int main() { warp_sums<<<4, 128>>>(0, 0, 0); }
"#;

fn compile(source: &str) -> Result<String, String> {
    let opts = TranspileOptions {
        subgroups: true,
        source_name: Some("groups.cu".into()),
        ..TranspileOptions::default()
    };
    common::compile(source, "warp_sums", &opts)
        .map(|o| o.wgsl)
        .map_err(|d| {
            d.iter()
                .map(|d| d.message.clone())
                .collect::<Vec<_>>()
                .join("\n")
        })
}

#[test]
fn a_warp_tile_lowers_to_the_warp_intrinsics() {
    let wgsl = compile(TILE_REDUCE).unwrap_or_else(|e| panic!("{e}"));
    let body = &wgsl[wgsl.find("var v: f32").expect("body")..];
    insta::assert_snapshot!("warp_sums_body", body);
}

#[test]
fn a_tile_counts_the_blocks_warps() {
    let source = TILE_REDUCE.replace(
        "any_negative[blockIdx.x] = neg;",
        "any_negative[blockIdx.x] = neg + tile32.meta_group_size();",
    );
    let wgsl = compile(&source).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        wgsl.contains("(BLOCK_DIM_X * BLOCK_DIM_Y * BLOCK_DIM_Z + 31u) / 32u"),
        "{wgsl}"
    );
}

#[test]
fn tiles_other_than_the_warp_are_refused_with_the_reason() {
    let sixteen = TILE_REDUCE
        .replace("thread_block_tile<32>", "thread_block_tile<16>")
        .replace(
            "tiled_partition<32>(cta);\n    auto",
            "tiled_partition<16>(cta);\n    auto",
        );
    let err = compile(&sixteen).expect_err("a tile of 16");
    assert!(
        err.contains("tiles of 16 threads are not supported, only the warp (32)"),
        "{err}"
    );
    let of_tile = TILE_REDUCE.replace(
        "tiled_partition<32>(cta);\n    float",
        "tiled_partition<32>(tile32);\n    float",
    );
    let err = compile(&of_tile).expect_err("a tile of a tile");
    assert!(err.contains("only tiles of the thread block"), "{err}");
    let unknown = TILE_REDUCE.replace("cg::sync(tile32);", "tile32.match_any(v);");
    let err = compile(&unknown).expect_err("match_any");
    assert!(
        err.contains("`thread_block_tile::match_any` is not supported yet"),
        "{err}"
    );
}

#[test]
fn grid_and_coalesced_groups_are_refused_naming_the_feature() {
    for ty in ["cg::grid_group", "cg::coalesced_group"] {
        let source = format!(
            "#include <cooperative_groups.h>\nnamespace cg = cooperative_groups;\n__global__ void warp_sums(float *out) {{\n    {ty} g = cg::this_grid();\n    out[0] = 1.0f;\n}}\n"
        );
        let err = compile(&source).expect_err(ty);
        assert!(
            err.contains(&format!("cooperative groups: `{ty}` is not supported")),
            "{err}"
        );
    }
}

#[test]
fn warp_size_alone_declares_the_subgroup_capability() {
    // llm.c's matmul_backward_bias_kernel4 reads `warpSize` and uses no
    // subgroup operation: the builtin alone needs the capability (it was an
    // internal compiler error).
    let source =
        "__global__ void warp_sums(float *out) { out[threadIdx.x] = threadIdx.x / warpSize; }";
    let opts = TranspileOptions {
        subgroups: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(source, "warp_sums", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("@builtin(subgroup_size)"), "{}", out.wgsl);
    assert!(
        out.sidecar.features.contains(&"subgroups".to_string()),
        "{:?}",
        out.sidecar.features
    );
}

/// `__shfl_xor_sync`/`__shfl_down_sync` of `double` and `long long` (the
/// CUDA samples' jacobi and simpleCudaGraphs reduce doubles in a warp): one
/// 64-bit subgroup shuffle, with the f64/int64 features on.
#[test]
fn sixty_four_bit_values_shuffle_whole() {
    let source = r#"
__global__ void swap_pairs(const double *in, double *out, const long long *k, long long *kout) {
    int t = threadIdx.x;
    out[t] = __shfl_xor_sync(0xffffffff, in[t], 1);
    kout[t] = __shfl_xor_sync(0xffffffff, k[t], 1);
    double v = in[t];
    for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);
    if (t == 0) out[64] = v;
}
"#;
    let opts = cudalens_wgsl::TranspileOptions {
        subgroups: true,
        enable_f64: true,
        enable_int64: true,
        source_name: Some("pairs.cu".into()),
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let out = common::compile(source, "swap_pairs", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    insta::assert_snapshot!(
        "sixty_four_bit_shuffles",
        &out.wgsl[out.wgsl.find("let t: i32").expect("body")..]
    );
    let without = cudalens_wgsl::TranspileOptions {
        enable_f64: false,
        ..opts.clone()
    };
    assert!(common::compile(source, "swap_pairs", &without).is_err());

    // The runner fills no 64-bit integer buffers yet: the run is of the
    // `double` half.
    let doubles = source
        .replace(", const long long *k, long long *kout", "")
        .replace("    kout[t] = __shfl_xor_sync(0xffffffff, k[t], 1);\n", "");
    let out = common::compile(&doubles, "swap_pairs", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let features = runner.adapter().map(|a| a.features);
    if !features.is_ok_and(|f| f.shader_f64 && f.subgroup) {
        eprintln!("skipping the run: the adapter lacks f64 or subgroups");
        return;
    }
    let input: Vec<f64> = (0..64).map(|i| i as f64 * 0.25 - 3.0).collect();
    let iface =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            cudalens_gpu::BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", cudalens_gpu::BufferSpec::zeros(65));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f64> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for t in 0..64 {
        assert_eq!(got[t], input[t ^ 1], "out[{t}]");
    }
}

/// `cg::reduce(tile, v, op)` over a warp tile is the subgroup reduction for
/// the operator (`cg::plus<T>()`, `cg::greater<T>{}`, ...), with the
/// namespace alias written inside the kernel; refused where the adapter's
/// subgroups are known not to be 32 lanes, or for another operator.
const TILE_CG_REDUCE: &str = r#"
#include <cooperative_groups.h>
__global__ void warp_sums(const float *in, float *out, int *bits) {
    namespace cg = cooperative_groups;
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    float v = in[blockIdx.x * blockDim.x + threadIdx.x];
    float s = cg::reduce(warp, v, cg::plus<float>());
    float m = cg::reduce(warp, v, cg::greater<float>{});
    int b = cg::reduce(warp, (int)threadIdx.x, cg::bit_or<int>());
    if (warp.thread_rank() == 0) {
        out[2 * (blockIdx.x * (blockDim.x / 32) + warp.meta_group_rank())] = s;
        out[2 * (blockIdx.x * (blockDim.x / 32) + warp.meta_group_rank()) + 1] = m;
        bits[blockIdx.x * (blockDim.x / 32) + warp.meta_group_rank()] = b;
    }
}
int main() { warp_sums<<<2, 64>>>(0, 0, 0); }
"#;

#[test]
fn cg_reduce_over_a_warp_tile_is_a_subgroup_reduction() {
    let wgsl = compile(TILE_CG_REDUCE).unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "let s: f32 = subgroupAdd(v);",
        "let m: f32 = subgroupMax(v);",
        "subgroupOr(",
    ] {
        assert!(wgsl.contains(want), "{want}:\n{wgsl}");
    }
    let other = TILE_CG_REDUCE.replace("cg::greater<float>{}", "cg::multiplies<float>{}");
    let err = compile(&other).expect_err("refused");
    assert!(
        err.contains("`cg::reduce` with `cg::multiplies<float>`"),
        "{err}"
    );
    let opts = TranspileOptions {
        subgroups: true,
        subgroup_size: Some(16),
        ..TranspileOptions::default()
    };
    let err = common::compile(TILE_CG_REDUCE, "warp_sums", &opts).expect_err("refused");
    assert!(
        err.iter()
            .any(|d| d.message.contains("needs 32-lane subgroups")),
        "{err:#?}"
    );
}

/// On an adapter whose subgroups are 32 lanes (NVIDIA's; lavapipe's are
/// narrower, and the run is skipped there), the reductions match CUDA's.
#[test]
fn cg_reduce_matches_cuda_on_32_lane_subgroups() {
    use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface};
    let Some(mut guard) = common::warp_runner("cg::reduce") else {
        return;
    };
    let runner = guard.as_mut().unwrap();
    let opts = TranspileOptions {
        subgroups: true,
        ..TranspileOptions::default()
    };
    let out =
        common::compile(TILE_CG_REDUCE, "warp_sums", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    let input: Vec<f32> = (0..128).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(128, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(8))
        .with_buffer("bits", BufferSpec::zeros(4));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let bits: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("bits").expect("bits").bytes);
    for w in 0..4 {
        let lanes = &input[32 * w..32 * w + 32];
        // Small integers: the sum is exact in any order.
        assert_eq!(got[2 * w], lanes.iter().sum::<f32>(), "sum of tile {w}");
        assert_eq!(
            got[2 * w + 1],
            lanes.iter().copied().fold(f32::MIN, f32::max),
            "max of tile {w}"
        );
        let tids = (32 * (w % 2)..32 * (w % 2) + 32).fold(0, |a, t| a | t as i32);
        assert_eq!(bits[w], tids, "bit_or of tile {w}");
    }
}

/// `auto block = cg::this_thread_block()` (HeCBench's groupnorm) declares
/// the block as its type does, and a tile or the block handed to a device
/// function (the samples' reduction `cg_reduce_n(v, tile)`, taking a
/// template `Group &`) is used there through its methods.
#[test]
fn groups_declared_with_auto_and_handed_to_device_functions() {
    let source = r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
template <typename T, typename Group> __device__ T reduce_n(T in, Group &threads) {
    return cg::reduce(threads, in, cg::plus<T>());
}
template <typename Group> __device__ void wait(Group &g) { g.sync(); }
__global__ void warp_sums(const float *in, float *out) {
    auto block = cg::this_thread_block();
    const auto again = cg::this_thread_block();
    auto warp = cg::tiled_partition<32>(block);
    float v = reduce_n(in[block.thread_rank()], warp);
    wait(again);
    if (warp.thread_rank() == 0) out[warp.meta_group_rank()] = v;
}
int main() { warp_sums<<<1, 64>>>(0, 0); }
"#;
    let wgsl = compile(source).unwrap_or_else(|e| panic!("{e}"));
    for want in ["return subgroupAdd(in_1);", "workgroupBarrier();"] {
        assert!(wgsl.contains(want), "{want}:\n{wgsl}");
    }
}

/// `__syncwarp()` becomes `subgroupBarrier()`, which wgpu accepts only on
/// a device opened with SUBGROUP_BARRIER: the sidecar names the feature
/// and the runner asks for it (before, every kernel with `__syncwarp` was
/// refused at shader creation, on lavapipe and NVIDIA alike).
#[test]
fn syncwarp_kernels_run_on_the_adapter() {
    use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface};
    let source = r#"
__global__ void swap_pairs(float *x) {
    __shared__ float s[32];
    int t = threadIdx.x;
    s[t] = x[t];
    __syncwarp();
    x[t] = s[t ^ 1];
}
int main() { swap_pairs<<<1, 32>>>(0); }
"#;
    let opts = TranspileOptions {
        subgroups: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(source, "swap_pairs", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("subgroupBarrier();"), "{}", out.wgsl);
    assert_eq!(out.sidecar.features, ["subgroups", "subgroup_barrier"]);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let runner = guard.as_mut().unwrap();
    let report = runner.adapter().expect("adapter report");
    if !report.features.subgroup_barrier {
        eprintln!("adapter {}: no subgroup barrier, not executed", report.name);
        return;
    }
    let x: Vec<f32> = (0..32).map(|i| i as f32).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "x",
            BufferSpec::bytes(32, bytemuck::cast_slice(&x).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("x").expect("x").bytes);
    let want: Vec<f32> = (0..32).map(|i: usize| (i ^ 1) as f32).collect();
    assert_eq!(got, want);
}

/// `cg::coalesced_threads()` (HeCBench's filter: the warp-aggregated
/// atomic increment): the lanes active where the group is made, one
/// ballot taken there, so `g.size()` inside `if (g.thread_rank() == 0)`
/// still counts every lane of the group; `g.shfl(v, 0)` reads the group's
/// first lane. A shuffle from another rank is refused.
#[test]
fn a_coalesced_group_is_the_ballot_taken_where_it_is_made() {
    let source = r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__device__ int agg_inc(int *ctr) {
    auto g = cg::coalesced_threads();
    int res = 0;
    if (g.thread_rank() == 0) res = atomicAdd(ctr, g.size());
    return g.shfl(res, 0) + g.thread_rank();
}
__global__ void warp_sums(int *dst, int *n, const int *src) {
    int i = threadIdx.x;
    if (src[i] > 0) dst[agg_inc(n)] = src[i];
}
"#;
    let wgsl = compile(source).unwrap_or_else(|e| panic!("{e}"));
    let body = &wgsl[wgsl.find("fn agg_inc").expect("agg_inc")..];
    let ballot = body.find("subgroupBallot(true).x").expect("the ballot");
    let branch = body.find("if (").expect("the branch");
    assert!(ballot < branch, "{body}");
    assert!(
        body.contains("atomicAdd(&n[0], i32(countOneBits(g_lanes"),
        "{body}"
    );
    assert!(
        body.contains("subgroupShuffle(res, firstTrailingBit(g_lanes"),
        "{body}"
    );
    let refused =
        compile(&source.replace("g.shfl(res, 0)", "g.shfl(res, 1)")).expect_err("refused");
    assert!(
        refused.contains("of a coalesced group is not supported"),
        "{refused}"
    );
}
