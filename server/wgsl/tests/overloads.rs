//! Kernels that share a name (C++ overloads: segsort's `gen_copy` for
//! keys and for key/value pairs): each definition is compiled on its own,
//! with the template arguments and block of its own launches, and runs on a
//! real adapter (lavapipe here).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::{KernelDefinition, TranspileOptions, kernel_definitions};

/// Two `copy` kernels launched from two host templates, whose arguments
/// come from `main`'s variables: pairs with `int` keys and `float` values in
/// blocks of 64, keys alone as `unsigned` in blocks of 128.
const SORT: &str = r#"
template <typename K, typename T>
__global__ void copy(const K *key, const T *val, K *keyB, T *valB, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) { keyB[i] = key[i]; valB[i] = val[i]; }
}

template <typename K>
__global__ void copy(const K *key, K *keyB, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) keyB[i] = key[i] * 2u;
}

template <typename K, typename T>
void sort_pairs(K *k, T *v, K *kb, T *vb, int n) { copy<<<(n + 63) / 64, 64>>>(k, v, kb, vb, n); }

template <typename K>
void sort_keys(K *k, K *kb, int n) { copy<<<(n + 127) / 128, 128>>>(k, kb, n); }

int main() {
    int *k, *kb; float *v, *vb;
    sort_pairs(k, v, kb, vb, 100);
    unsigned *u, *ub;
    sort_keys(u, ub, 100);
}
"#;

fn compile_definition(index: usize) -> cudalens_wgsl::TranspileOutput {
    let model = common::model_of(SORT);
    let definitions = kernel_definitions(&model, "copy");
    assert_eq!(definitions.len(), 2, "both overloads have bodies");
    let opts = TranspileOptions {
        definition: Some(KernelDefinition::of(definitions[index])),
        ..TranspileOptions::default()
    };
    cudalens_wgsl::transpile(&model, SORT, "copy", &opts).unwrap_or_else(|d| panic!("{d:#?}"))
}

#[test]
fn each_overload_takes_its_own_launches_arguments_and_block() {
    let pairs = compile_definition(0);
    let keys = compile_definition(1);
    let element = |out: &cudalens_wgsl::TranspileOutput, name: &str| {
        (out.sidecar.bindings.iter())
            .find(|b| b.name == name)
            .and_then(|b| b.element.clone())
            .unwrap_or_else(|| panic!("binding {name}: {:#?}", out.sidecar.bindings))
    };
    assert_eq!(pairs.sidecar.instantiation, vec!["int", "float"]);
    assert_eq!(element(&pairs, "key"), "i32");
    assert_eq!(element(&pairs, "valB"), "f32");
    assert_eq!(pairs.sidecar.workgroup_size, [64, 1, 1]);

    assert_eq!(keys.sidecar.instantiation, vec!["unsigned int"]);
    assert_eq!(element(&keys, "keyB"), "u32");
    assert!(!keys.sidecar.bindings.iter().any(|b| b.name == "val"));
    assert_eq!(keys.sidecar.workgroup_size, [128, 1, 1]);

    // Without a choice, the first definition is compiled, as before.
    let model = common::model_of(SORT);
    let first = cudalens_wgsl::transpile(&model, SORT, "copy", &TranspileOptions::default())
        .expect("first definition");
    assert_eq!(first.wgsl, pairs.wgsl);

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<u32> = (0..100).map(|i| i * 7 + 3).collect();
    let iface = KernelInterface::from_json(&keys.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(keys.wgsl.clone(), iface, [1, 1, 1], [128, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(100.0))
        .with_buffer(
            "key",
            BufferSpec::bytes(100, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("keyB", BufferSpec::zeros(100));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", keys.wgsl));
    let got: Vec<u32> = bytemuck::pod_collect_to_vec(&result.output("keyB").expect("keyB").bytes);
    let want: Vec<u32> = input.iter().map(|k| k * 2).collect();
    assert_eq!(got, want);
}

/// A local handed to a reference parameter is a `var` when any overload of
/// that name writes it (HeCBench's cmembench: an empty `template <class T>
/// void add_vector(T &t, const T &v)` first, `add_vector(int &t, ...)`
/// that writes after it). Run on the adapter.
#[test]
fn a_local_written_by_a_later_overload_is_a_variable() {
    let source = r#"
template <class T>
__device__ void add_vector(T &target, const T &v) {}
__device__ void add_vector(int &target, const int &v) { target += v; }
__global__ void sum(const int *in, int *out) {
    int s = 0;
    for (int j = 0; j < 4; j++) add_vector(s, in[threadIdx.x * 4 + j]);
    out[threadIdx.x] = s;
}
"#;
    let out = common::compile_as("sum.cu", source, "sum").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<i32> = (0..256).map(|i| i * 3 - 100).collect();
    let Some(got) = common::run_block::<i32>(
        &out,
        64,
        &[("in", 256, bytemuck::cast_slice(&input).to_vec())],
        ("out", 64),
    ) else {
        return;
    };
    for i in 0..64 {
        let want: i32 = input[4 * i..4 * i + 4].iter().sum();
        assert_eq!(got[i], want, "out[{i}]");
    }
}

/// Two device templates of one name (HeCBench channelSum's `BlockReduce`,
/// `<T, kBlockDimX, kBlockDimY>` and `<T>`): `BlockReduce<T>(a, b)` calls
/// the one its explicit arguments can instantiate (the other's block
/// sizes are neither defaulted nor deducible). On lavapipe against Rust.
#[test]
fn explicit_template_arguments_pick_the_template_they_can_instantiate() {
    let source = r#"
template <typename T, int X, int Y>
__device__ void reduce(T &a, T &b) { a = a * X; b = b * Y; }
template <typename T>
__device__ void reduce(T &a, T &b) { a = a + b; b = a - b; }
template <typename T>
__global__ void both(const T *in, T *out) {
  T a = in[threadIdx.x], b = in[threadIdx.x] * 2;
  reduce<T>(a, b);
  T c = a, d = b;
  reduce<T, 3, 5>(c, d);
  out[threadIdx.x] = a * 1000 + b * 100 + c * 10 + d;
}
int main() { int *i, *o; both<<<1, 32>>>(i, o); }
"#;
    let out = common::compile_as("both.cu", source, "both").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<i32> = (0..32).collect();
    let Some(got) = common::run_in_out::<_, i32>(&out, &input) else {
        return;
    };
    for (t, x) in input.iter().enumerate() {
        let (a, b) = (x + 2 * x, x + 2 * x - 2 * x);
        let (c, d) = (a * 3, b * 5);
        assert_eq!(got[t], a * 1000 + b * 100 + c * 10 + d, "thread {t}");
    }
}
