//! A pointer parameter the kernel moves (`d_key += base`) passed on to a
//! device function (`count(d_key + stride, ...)`, as the samples' merge
//! sort does): the specialised function takes the element offset
//! (snapshot), and a run on a real adapter (lavapipe here) matches a Rust
//! reference.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

/// Ranks each key of a block's first half among its second half (our own kernel).
const RANKS: &str = r#"
__device__ unsigned int count_below(unsigned int val, unsigned int *data, unsigned int L) {
    unsigned int c = 0;
    for (unsigned int i = 0; i < L; i++) c += data[i] < val;
    return c;
}
__global__ void ranks(unsigned int *d_rank, unsigned int *d_key, unsigned int stride) {
    unsigned int i = threadIdx.x;
    d_key += blockIdx.x * 2 * stride;
    d_rank += blockIdx.x * 2 * stride;
    if (i < stride) d_rank[i] = count_below(d_key[i], d_key + stride, stride);
}
"#;

fn compile() -> cudalens_wgsl::TranspileOutput {
    let opts = TranspileOptions {
        source_name: Some("ranks.cu".into()),
        ..TranspileOptions::default()
    };
    common::compile(RANKS, "ranks", &opts).unwrap_or_else(|d| panic!("{d:#?}"))
}

#[test]
fn a_moved_buffer_pointer_is_passed_as_its_offset() {
    let out = compile();
    let start = out
        .wgsl
        .find("// __device__ count_below")
        .expect("device function");
    let body = &out.wgsl[start..];
    let end = body.find("@compute").expect("entry");
    let call = out
        .wgsl
        .lines()
        .find(|l| l.contains("= count_below_d_key("))
        .expect("call");
    insta::assert_snapshot!("count_below", format!("{}{}", &body[..end], call.trim()));
}

#[test]
fn the_ranks_match_a_reference_on_the_adapter() {
    let out = compile();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let (blocks, stride) = (3usize, 32usize);
    let n = blocks * 2 * stride;
    let keys: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(2_654_435_761) >> 24)
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [blocks as u32, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(stride as f64))
        .with_buffer("d_rank", BufferSpec::zeros(n as u64))
        .with_buffer(
            "d_key",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&keys).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let got: Vec<u32> =
        bytemuck::pod_collect_to_vec(&result.output("d_rank").expect("d_rank").bytes);
    for b in 0..blocks {
        let base = b * 2 * stride;
        for i in 0..stride {
            let want = keys[base + stride..base + 2 * stride]
                .iter()
                .filter(|&&k| k < keys[base + i])
                .count() as u32;
            assert_eq!(got[base + i], want, "block {b}, key {i}");
        }
    }
}

#[test]
fn sizeof_a_typedef_name_is_its_size() {
    // `sizeof(uint)` parses as the size of an expression `uint`; the name is
    // no variable but a typedef (the merge sort's `nextPowerOfTwo`).
    let source = "typedef unsigned int uint;\n__global__ void bits(uint *o) { const uint W = sizeof(uint) * 8; o[0] = W; }";
    let opts = TranspileOptions::default();
    let out = common::compile(source, "bits", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("const W: u32 = 32u;"), "{}", out.wgsl);
    // A variable of that name is still the variable.
    let source =
        "__global__ void bits(double *o, int n) { float uint = 1.0f; o[0] = sizeof(uint) + n; }";
    let opts = TranspileOptions {
        enable_f64: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(source, "bits", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("4u"), "{}", out.wgsl);
}

/// A local pointer moved within a `__shared__` array (`start = smem +
/// off`, as HeCBench's segsort hands `start` and `start + lhs_len` to
/// `find_kth3`, and the samples' eigenvalue bisection its `s_cl_*`
/// pointers): a device function takes the array and the offset.
const SHARED_MOVED: &str = r#"
__device__ int sum_of(const int *a, int n) {
    int s = 0;
    for (int i = 0; i < n; i++) s += a[i];
    return s;
}
__global__ void halves(const int *in, int *out) {
    __shared__ int smem[64];
    int t = threadIdx.x;
    smem[t] = in[t];
    __syncthreads();
    int *start;
    start = smem + (t / 8) * 8;
    out[t] = sum_of(start, 4) * 100 + sum_of(start + 4, 4);
}
int main() { halves<<<1, 64>>>(0, 0); }
"#;

#[test]
fn a_pointer_moved_in_shared_memory_is_passed_with_its_offset_on_the_adapter() {
    let out =
        common::compile_as("moved.cu", SHARED_MOVED, "halves").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("sum_of_smem(start, 4)"), "{}", out.wgsl);
    assert!(
        out.wgsl.contains("sum_of_smem(start + 4, 4)"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<i32> = (0..64).map(|i| (i * 7) % 13 - 6).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for (t, got) in got.iter().enumerate() {
        let base = (t / 8) * 8;
        let first: i32 = input[base..base + 4].iter().sum();
        let second: i32 = input[base + 4..base + 8].iter().sum();
        assert_eq!(*got, first * 100 + second, "out[{t}]");
    }
}

/// HeCBench's jenkins-hash walks its keys as `uint3`s: `v = *k++;` reads
/// where the pointer stands and moves it on (`*++k` moves it first). Run
/// on the adapter against a Rust reference.
#[test]
fn increments_inside_a_dereference_read_then_move() {
    let source = r#"
__global__ void walk(const unsigned int *keys, unsigned int *out) {
    int id = threadIdx.x;
    const uint3 *k = (const uint3 *)(keys + id * 12);
    uint3 v = *k++;
    unsigned int a = v.x + 2u * v.y + 3u * v.z;
    v = *k++;
    a += 5u * v.x;
    v = *++k;
    out[id] = a + 7u * v.z;
}
void host(unsigned int *k, unsigned int *o) { walk<<<1, 8>>>(k, o); }
"#;
    let out = common::compile_as("walk.cu", source, "walk").unwrap_or_else(|e| panic!("{e}"));
    let keys: Vec<u32> = (0..96).map(|i| i * 3 + 1).collect();
    let Some(got) = common::run_block::<u32>(
        &out,
        8,
        &[("keys", 96, bytemuck::cast_slice(&keys).to_vec())],
        ("out", 8),
    ) else {
        return;
    };
    for (id, got) in got.iter().enumerate() {
        let at = |i: usize| keys[id * 12 + i];
        let want = at(0) + 2 * at(1) + 3 * at(2) + 5 * at(3) + 7 * at(11);
        assert_eq!(*got, want, "out[{id}]");
    }
}

/// HeCBench seam-carving's double-buffered `__shared__` rows: two
/// pointers into one array swapped through `pointer_swap((void **)&a,
/// (void **)&b)`, a device function whose body only swaps `*p1` and
/// `*p2`: the two offsets swapped. On lavapipe against Rust; a function
/// that does anything else with the pointers to pointers stays refused.
#[test]
fn a_pointer_swap_helper_swaps_the_offsets() {
    let source = r#"
__device__ void pointer_swap(void **p1, void **p2) {
  void *tmp;
  tmp = *p1;
  *p1 = *p2;
  *p2 = tmp;
}
__global__ void ping_pong(const int *in, int *out) {
  __shared__ int cache[64];
  int *cur = cache;
  int *next = &(cache[32]);
  int t = threadIdx.x;
  cur[t] = in[t];
  __syncthreads();
  for (int step = 0; step < 3; step++) {
    next[t] = cur[t] + cur[(t + 1) % 32];
    __syncthreads();
    pointer_swap((void **)&cur, (void **)&next);
  }
  out[t] = cur[t];
}
"#;
    let out = common::compile_as("swap.cu", source, "ping_pong").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<i32> = (0..32).map(|i| i * 3 - 20).collect();
    if let Some(got) = common::run_in_out::<_, i32>(&out, &input) {
        let mut cur = input.clone();
        for _ in 0..3 {
            cur = (0..32).map(|t| cur[t] + cur[(t + 1) % 32]).collect();
        }
        assert_eq!(got, cur);
    }
    let copies = source.replace("  *p2 = tmp;\n", "");
    let err = common::compile_as("copy.cu", &copies, "ping_pong").expect_err("not a swap");
    assert!(err.contains("pointer casts"), "{err}");
}

/// A pointer pointed at another array by a statement of the block that
/// declares it (HeCBench epistasis's `SNPi`, one phenotype's table then
/// the other's): from there on it reads the new array. Run on lavapipe
/// against Rust; the same assignment under a condition, where the pointer
/// would hold either array at run time, stays refused.
#[test]
fn a_pointer_pointed_at_another_array_in_its_block_reads_it_from_there() {
    let source = r#"
__global__ void k(const float *a, const float *b, float *o, const int *count) {
  int n = count[0];
  const float *p;
  p = a + threadIdx.x;
  float s = 0;
  for (int i = 0; i < n; i++) s += p[i];
  p = &b[2 * threadIdx.x];
  for (int i = 0; i < n; i++) s += 10.0f * p[i];
  o[threadIdx.x] = s;
}
"#;
    let out = common::compile_as("rebind.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    let a: Vec<f32> = (0..64).map(|i| i as f32).collect();
    let b: Vec<f32> = (0..96).map(|i| (i % 7) as f32 - 3.0).collect();
    let n = 3usize;
    if let Some(got) = common::run_block::<f32>(
        &out,
        32,
        &[
            ("a", 64, bytemuck::cast_slice(&a).to_vec()),
            ("b", 96, bytemuck::cast_slice(&b).to_vec()),
            ("count", 1, (n as i32).to_le_bytes().to_vec()),
        ],
        ("o", 32),
    ) {
        let want: Vec<f32> = (0..32)
            .map(|t| {
                let first: f32 = (0..n).map(|i| a[t + i]).sum();
                let second: f32 = (0..n).map(|i| 10.0 * b[2 * t + i]).sum();
                first + second
            })
            .collect();
        assert_eq!(got, want);
    }
    let conditional = source.replace("  p = &b[", "  if (n > 1) p = &b[");
    let err = common::compile_as("either.cu", &conditional, "k").expect_err("either array");
    assert!(err.contains("would change arrays"), "{err}");
}
