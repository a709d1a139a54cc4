//! `cub::BlockReduce` (HeCBench's accuracy, attention, dp, gd, scel, ...):
//! the alias, its `TempStorage` and `Sum`/`Reduce` (with `num_valid` too)
//! become a tree reduction over a workgroup array. A run on a real adapter
//! (lavapipe here) against a Rust reference; what is not supported is
//! refused with the reason.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const SOURCE: &str = r#"
#include <cub/cub.cuh>
#define THREADS 128
template <typename T>
__global__ void stats(const T *in, T *sum, T *maximum, T *partial, int n) {
    typedef cub::BlockReduce<T, THREADS> BlockReduce;
    __shared__ typename BlockReduce::TempStorage temp;
    using MaxReduce = cub::BlockReduce<T, THREADS>;
    __shared__ typename MaxReduce::TempStorage max_temp;
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    T x = i < n ? in[i] : (T)0;
    T total = BlockReduce(temp).Sum(x);
    T top = MaxReduce(max_temp).Reduce(x, cub::Max());
    T first = BlockReduce(temp).Sum(x, 10);
    if (threadIdx.x == 0) {
        sum[blockIdx.x] = total;
        maximum[blockIdx.x] = top;
        partial[blockIdx.x] = first;
    }
}
int main() {
    float *a, *b, *c, *d;
    stats<float><<<4, THREADS>>>(a, b, c, d, 500);
}
"#;

#[test]
fn block_reductions_match_a_reference_on_the_adapter() {
    let out = common::compile_as("stats.cu", SOURCE, "stats").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("var<workgroup> temp_reduce: array<f32, 128>"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 500usize;
    let input: Vec<f32> = (0..n).map(|i| ((i * 7) % 31) as f32).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [128, 1, 1])
        .with_iterations(0, 1)
        .with_arg(4, ParamValue::Scalar(n as f64))
        .with_buffer(
            "in",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("sum", BufferSpec::zeros(4))
        .with_buffer("maximum", BufferSpec::zeros(4))
        .with_buffer("partial", BufferSpec::zeros(4));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let read = |name: &str| -> Vec<f32> {
        bytemuck::pod_collect_to_vec(&result.output(name).expect(name).bytes)
    };
    let (sum, maximum, partial) = (read("sum"), read("maximum"), read("partial"));
    for b in 0..4 {
        let block: Vec<f32> = (b * 128..(b + 1) * 128)
            .map(|i| if i < n { input[i] } else { 0.0 })
            .collect();
        // Small integers: exact in any order of addition.
        assert_eq!(sum[b], block.iter().sum::<f32>(), "sum of block {b}");
        assert_eq!(
            maximum[b],
            block.iter().cloned().fold(f32::MIN, f32::max),
            "max of block {b}"
        );
        assert_eq!(
            partial[b],
            block[..10].iter().sum::<f32>(),
            "first 10 of block {b}"
        );
    }
}

#[test]
fn what_block_reduce_cannot_do_is_refused_with_the_reason() {
    let cases = [
        (
            "__global__ void k(float *o) {\n  typedef cub::BlockReduce<float, 64> R;\n  __shared__ typename R::TempStorage t;\n  o[0] = R(t).Reduce(o[threadIdx.x], [](float a, float b) { return a * b; });\n}\nint main() { k<<<1, 64>>>(0); }",
            "other than `cub::Sum()`",
        ),
        (
            "__global__ void k(float *o, int n) {\n  typedef cub::BlockReduce<float, n> R;\n}\nint main() { k<<<1, 64>>>(0, 3); }",
            "not a compile-time integer",
        ),
        // Only some threads reach the reduction's barriers (undefined in
        // CUDA too: every thread of the block must call it).
        (
            "__global__ void k(float *o) {\n  typedef cub::BlockReduce<float, 64> R;\n  __shared__ typename R::TempStorage t;\n  if (threadIdx.x < 32) o[0] = R(t).Sum(o[threadIdx.x]);\n}\nint main() { k<<<1, 64>>>(0); }",
            "uniform control flow",
        ),
    ];
    for (source, want) in cases {
        let err = common::compile_as("k.cu", source, "k").expect_err(source);
        assert!(err.contains(want), "{source}:\n{err}");
    }
}

/// HeCBench's quantVLLM reduces with a functor of its own (`Reduce(x,
/// Max{}, n)` with `struct Max { ... return t > u ? t : u; }`): a call
/// operator that picks the larger (or smaller) of its operands is that
/// reduction, one that adds them a sum (moe's `Sum`); any other body is
/// refused rather than guessed from the functor's name.
#[test]
fn functors_of_the_file_that_pick_the_larger_or_smaller_operand() {
    let source = |body: &str| {
        format!(
            "#include <cub/cub.cuh>\nstruct Max {{\n  template <typename T, typename U>\n  __device__ T operator()(T &&t, U &&u) const {{ {body} }}\n}};\n__global__ void k(const float *x, float *o) {{\n  typedef cub::BlockReduce<float, 64> R;\n  __shared__ typename R::TempStorage t;\n  float m = R(t).Reduce(x[threadIdx.x], Max{{}}, blockDim.x);\n  if (threadIdx.x == 0) o[0] = m;\n}}\nint main() {{ k<<<1, 64>>>(0, 0); }}"
        )
    };
    for (body, combine) in [
        ("return ((t) > (u)) ? (t) : (u);", "max("),
        ("return u < t ? t : u;", "max("),
        ("return t < u ? t : u;", "min("),
        (
            "return std::forward<T>(t) + std::forward<U>(u);",
            "] + t_reduce[",
        ),
    ] {
        let out = common::compile_as("k.cu", &source(body), "k").unwrap_or_else(|e| panic!("{e}"));
        assert!(out.wgsl.contains(combine), "{body}:\n{}", out.wgsl);
    }
    let err = common::compile_as("k.cu", &source("return t * u;"), "k").expect_err("a product");
    assert!(err.contains("other than `cub::Sum()`"), "{err}");
}

/// `cub::WarpReduce<float>` with one `TempStorage` per warp (HeCBench
/// softmax-online's baseline): `Reduce(x, Max())` with the file's own
/// functor and `Sum(x)` are the subgroup's reductions; not a block
/// barrier, so a warp-uniform early return before them is fine. Run where
/// the adapter's subgroups are the 32-lane warp (NVIDIA's; lavapipe's are
/// narrower, and only the WGSL is checked there); a narrower logical warp
/// and `valid_items` are refused, as are adapters with other subgroups.
const WARP: &str = r#"
#include <cub/cub.cuh>
struct Max {
    __device__ float operator()(float a, float b) const { return a > b ? a : b; }
};
__global__ void warp_stats(const float *in, float *out, int warps) {
    int warp = threadIdx.x / 32;
    if (blockIdx.x * 2 + warp >= warps) return;
    using WarpReduce = cub::WarpReduce<float>;
    __shared__ typename WarpReduce::TempStorage temp[2];
    float x = in[blockIdx.x * blockDim.x + threadIdx.x];
    float top = WarpReduce(temp[warp]).Reduce(x, Max());
    float total = WarpReduce(temp[warp]).Sum(x);
    if (threadIdx.x % 32 == 0) {
        out[2 * (blockIdx.x * 2 + warp)] = top;
        out[2 * (blockIdx.x * 2 + warp) + 1] = total;
    }
}
"#;

#[test]
fn warp_reductions_are_the_subgroups() {
    let opts = cudalens_wgsl::TranspileOptions {
        subgroups: true,
        source_name: Some("warp.cu".into()),
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let out = common::compile(WARP, "warp_stats", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    for want in ["subgroupMax(x)", "subgroupAdd(x)"] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    assert!(!out.wgsl.contains("workgroupBarrier"), "{}", out.wgsl);
    for (from, to, why) in [
        (
            "cub::WarpReduce<float>",
            "cub::WarpReduce<float, 16>",
            "logical warp of `16` threads",
        ),
        (".Sum(x)", ".Sum(x, 8)", "`valid_items`"),
    ] {
        let src = WARP.replace(from, to);
        let err = common::compile(&src, "warp_stats", &opts).expect_err(to);
        assert!(
            err.iter().any(|d| d.message.contains(why)),
            "{why}: {err:#?}"
        );
    }
    let narrow = cudalens_wgsl::TranspileOptions {
        subgroup_size: Some(16),
        ..opts.clone()
    };
    let err = common::compile(WARP, "warp_stats", &narrow).expect_err("16 lanes");
    assert!(
        err.iter()
            .any(|d| d.message.contains("needs 32-lane subgroups")),
        "{err:#?}"
    );
    let Some(mut guard) = common::warp_runner("cub::WarpReduce") else {
        return;
    };
    let runner = guard.as_mut().unwrap();
    let input: Vec<f32> = (0..128).map(|i| ((i * 37) % 101) as f32 - 50.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(3.0))
        .with_buffer(
            "in",
            BufferSpec::bytes(128, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(8));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for w in 0..4 {
        let lanes = &input[32 * w..32 * w + 32];
        let want = if w < 3 {
            [
                lanes.iter().copied().fold(f32::MIN, f32::max),
                lanes.iter().sum::<f32>(),
            ]
        } else {
            [0.0, 0.0]
        };
        assert_eq!(got[2 * w..2 * w + 2], want, "warp {w}");
    }
}
