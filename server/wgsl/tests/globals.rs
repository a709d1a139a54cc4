//! File-scope `__constant__`, `__device__` and `__shared__` variables: the
//! generated WGSL and sidecar (snapshots), refusals with their reason, and a
//! run on a real adapter (lavapipe here) checked against a Rust reference.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

/// A 5-tap filter whose weights are an initialised `__constant__` array read
/// in a device function, a `__device__` scale, an uninitialised `__constant__`
/// bound (filled by the host in CUDA), a `__device__` histogram counted with
/// atomics, and a file-scope `__shared__` tile.
const FILTER: &str = r#"
#define TAPS 5
__constant__ float c_weights[TAPS] = {0.125f, 0.25f, -0.5f, 0.25f, 0.125f};
__constant__ int c_limit;
__device__ float d_scale = 2.0f;
__device__ unsigned int d_hits[4];
__device__ float2 d_pairs[2] = {make_float2(1.0f, -1.0f), make_float2(0.5f, 4.0f)};
__shared__ float tile[64 + TAPS - 1];

__device__ float tap(int local) {
    float acc = 0.0f;
    for (int k = 0; k < TAPS; k++) acc += c_weights[k] * tile[local + k];
    return acc;
}

__global__ void filter(const float *in, float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    tile[threadIdx.x] = i < n ? in[i] : 0.0f;
    if (threadIdx.x < TAPS - 1) {
        int j = i + blockDim.x;
        tile[threadIdx.x + blockDim.x] = j < n ? in[j] : 0.0f;
    }
    __syncthreads();
    if (i < c_limit) {
        out[i] = tap(threadIdx.x) * d_scale + d_pairs[i % 2].x * d_pairs[1].y;
        atomicAdd(&d_hits[i % 4], 1u);
    }
}

int main() { filter<<<4, 64>>>(0, 0, 256); }
"#;

fn compile(source: &str, kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    common::compile_as("globals.cu", source, kernel)
}

#[test]
fn file_scope_variables_become_bindings_filled_from_their_initialisers() {
    let out = compile(FILTER, "filter").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("filter_wgsl", out.wgsl);
    insta::assert_snapshot!("filter_sidecar", out.sidecar.to_json());
}

#[test]
fn what_a_binding_cannot_hold_is_refused_with_the_reason() {
    let cases = [
        (
            "__device__ float *d_ptr;\n__global__ void k(float *o) { o[0] = d_ptr[0]; }",
            "file-scope pointer variable `d_ptr`",
        ),
        (
            "__device__ int d_n;\n__device__ float d_table[2] = {1.0f, d_n};\n__global__ void k(float *o) { o[0] = d_table[1]; }",
            "initialiser of the file-scope variable `d_table` is not a list of compile-time constants",
        ),
        (
            "struct P { float a; int b; };\n__device__ P c_p = {1.0f, 2};\n__global__ void k(float *o) { c_p.a = 2.0f; o[0] = c_p.a; }",
            "file-scope variable `c_p` of type `P`: an initialised struct the kernel writes is not supported",
        ),
    ];
    for (source, want) in cases {
        let err = compile(source, "k").expect_err(source);
        assert!(err.contains(want), "{source}:\n{err}");
    }
}

#[test]
fn a_parameter_of_the_same_name_shadows_the_file_scope_variable() {
    // The CUDA samples keep host pointers in file-scope variables named as
    // the kernels' parameters (`static uint *d_PartialHistograms;`).
    let source =
        "static unsigned int *d_part;\n__global__ void k(unsigned int *d_part) { d_part[0] = 1; }";
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.sidecar.bindings.len(), 2);
}

#[test]
fn a_local_of_the_same_name_shadows_the_file_scope_variable() {
    let source = "__constant__ float w[4] = {1, 2, 3, 4};\n__global__ void k(float *o) { float w = 3.0f; o[0] = w; }";
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.wgsl.contains("var<storage, read> w"), "{}", out.wgsl);
    assert_eq!(out.sidecar.bindings.len(), 2);
}

#[test]
fn the_filter_matches_a_reference_on_the_adapter() {
    let out = compile(FILTER, "filter").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 256usize;
    let limit = 200i32;
    let input: Vec<f32> = (0..n)
        .map(|i| ((i * 37) % 17) as f32 * 0.25 - 2.0)
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let mut bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(n as f64))
        .with_buffer(
            "in",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(n as u64));
    // What `cudalens bench` does: initialisers from the sidecar; the host's
    // `cudaMemcpyToSymbol(c_limit, ...)` stands for the value given here.
    for b in &out.sidecar.bindings {
        let Some(length) = b.length else { continue };
        let spec = match (&b.initial, b.name.as_str()) {
            (Some(values), _) => BufferSpec::values(length, values.clone()),
            (None, "c_limit") => BufferSpec::values(1, vec![f64::from(limit)]),
            (None, _) => BufferSpec::zeros(length),
        };
        bench = bench.with_buffer(&b.name, spec);
    }
    let result = runner.run(&bench).expect("run");
    let output = |name: &str| {
        result
            .outputs
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no output {name}"))
            .bytes
            .clone()
    };
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&output("out"));
    let weights = [0.125f32, 0.25, -0.5, 0.25, 0.125];
    let pairs = [[1.0f32, -1.0], [0.5, 4.0]];
    for i in 0..n {
        let want = if (i as i32) < limit {
            let block = i / 64 * 64;
            let local = i - block;
            let mut acc = 0.0f32;
            for (k, w) in weights.iter().enumerate() {
                let j = block + local + k;
                acc += w * if j < n { input[j] } else { 0.0 };
            }
            acc * 2.0 + pairs[i % 2][0] * pairs[1][1]
        } else {
            0.0
        };
        assert!(
            (got[i] - want).abs() <= 1e-5 * want.abs().max(1.0),
            "out[{i}]: got {}, want {want}",
            got[i]
        );
    }
    let hits: Vec<u32> = bytemuck::pod_collect_to_vec(&output("d_hits"));
    assert_eq!(hits, vec![50, 50, 50, 50]);
}

/// The CUDA samples' accessor for dynamic shared memory (written here).
const ACCESSOR_REDUCE: &str = r#"
template <class T> struct SharedMemory {
    __device__ inline operator T *() {
        extern __shared__ int __smem[];
        return (T *)__smem;
    }
    __device__ inline operator const T *() const {
        extern __shared__ int __smem[];
        return (T *)__smem;
    }
};

template <class T>
__global__ void block_sum(const T *in, T *out, unsigned int n) {
    T *sdata = SharedMemory<T>();
    unsigned int tid = threadIdx.x;
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    sdata[tid] = (i < n) ? in[i] : 0;
    __syncthreads();
    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (tid < s) sdata[tid] += sdata[tid + s];
        __syncthreads();
    }
    if (tid == 0) out[blockIdx.x] = sdata[0];
}

int main() { block_sum<float><<<4, 64, 64 * sizeof(float)>>>(0, 0, 256); }
"#;

#[test]
fn the_shared_memory_accessor_struct_is_the_dynamic_shared_array() {
    let out = compile(ACCESSOR_REDUCE, "block_sum").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("var<workgroup> SharedMemory_smem: array<f32, DYNAMIC_SHARED_ELEMENTS>;"),
        "{}",
        out.wgsl
    );
    // A struct whose operator does anything else is not taken for it.
    let other =
        ACCESSOR_REDUCE.replace("return (T *)__smem;", "__smem[0] = 1; return (T *)__smem;");
    assert!(compile(&other, "block_sum").is_err());

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<f32> = (0..256).map(|i| (i % 7) as f32 - 2.5).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let mut bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(256.0))
        .with_buffer(
            "in",
            BufferSpec::bytes(256, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(4));
    bench.launch.dynamic_shared_bytes = 64 * 4;
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let want: Vec<f32> = input.chunks(64).map(|c| c.iter().sum()).collect();
    assert_eq!(got, want);
}

/// `__shared__` scalars read as values (they were taken for arrays, and
/// `w[i] / total` for pointer arithmetic), one of them atomic.
const SHARED_SCALARS: &str = r#"
__global__ void normalize(const float *partial, float *w, unsigned int *counts, int n) {
    __shared__ float total;
    __shared__ unsigned int count;
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (threadIdx.x == 0) { total = partial[blockIdx.x]; count = 0; }
    __syncthreads();
    if (i < n) { w[i] = w[i] / total; atomicAdd(&count, 1u); }
    __syncthreads();
    if (threadIdx.x == 0) counts[blockIdx.x] = count;
}
int main() { normalize<<<2, 64>>>(0, 0, 0, 100); }
"#;

#[test]
fn shared_scalars_are_values() {
    let out = compile(SHARED_SCALARS, "normalize").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("w[i] = w[i] / total;"), "{}", out.wgsl);
    assert!(
        out.wgsl
            .contains("counts[block_idx.x] = atomicLoad(&count);"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let w: Vec<f32> = (0..128).map(|i| i as f32).collect();
    let partial = [2.0f32, 4.0];
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(100.0))
        .with_buffer(
            "partial",
            BufferSpec::bytes(2, bytemuck::cast_slice(&partial).to_vec()),
        )
        .with_buffer(
            "w",
            BufferSpec::bytes(128, bytemuck::cast_slice(&w).to_vec()),
        )
        .with_buffer("counts", BufferSpec::zeros(2));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("w").expect("w").bytes);
    for (i, g) in got.iter().enumerate() {
        let want = if i < 100 {
            w[i] / partial[i / 64]
        } else {
            w[i]
        };
        assert_eq!(*g, want, "w[{i}]");
    }
    let counts: Vec<u32> =
        bytemuck::pod_collect_to_vec(&result.output("counts").expect("counts").bytes);
    assert_eq!(counts, vec![64, 36]);
}

#[test]
fn file_scope_scalars_can_be_atomic() {
    let source = "__device__ unsigned int d_count;\n__device__ int d_total = 5;\n__global__ void k(const int *in, int *out) {\n    atomicAdd(&d_count, 1u);\n    atomicAdd(&d_total, in[threadIdx.x]);\n    if (threadIdx.x == 0) out[0] = d_count + d_total;\n}\n";
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("var<storage, read_write> d_count: atomic<u32>;"),
        "{}",
        out.wgsl
    );
    assert!(
        out.wgsl
            .contains("out[0] = i32(atomicLoad(&d_count) + u32(atomicLoad(&d_total)));"),
        "{}",
        out.wgsl
    );
    let total = out
        .sidecar
        .bindings
        .iter()
        .find(|b| b.name == "d_total")
        .expect("d_total");
    assert_eq!(total.initial, Some(vec![5.0]));
    assert_eq!(total.element.as_deref(), Some("atomic<i32>"));
}

#[test]
fn initialised_narrow_constants_hold_their_c_values_one_to_a_word() {
    // A quantisation table of `short`s (as JPEG samples keep them) and a
    // byte table: each value as C converts it (40000 as a short, 256 as a
    // byte), one per `i32`.
    let source = "__constant__ short Q[] = {32, -33, 40000, 7};\n__constant__ unsigned char U[4] = {255, 256, 3, 4};\n__global__ void quant(float *x, int n) {\n    int i = threadIdx.x;\n    if (i < n) x[i] = x[i] / Q[i % 4] + U[i % 4];\n}\n";
    let out = compile(source, "quant").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains(
            "var<storage, read> Q: array<i32, 4>; // 16-bit signed values, one to an i32"
        ),
        "{}",
        out.wgsl
    );
    let initial = |name: &str| {
        out.sidecar
            .bindings
            .iter()
            .find(|b| b.name == name)
            .and_then(|b| b.initial.clone())
            .unwrap_or_default()
    };
    assert_eq!(initial("Q"), [32.0, -33.0, -25536.0, 7.0]);
    assert_eq!(initial("U"), [255.0, 0.0, 3.0, 4.0]);
    let err = compile(
        "__device__ short s_count[4];\n__global__ void k(int *o) { s_count[0] = 1; o[0] = s_count[1]; }",
        "k",
    )
    .expect_err("written narrow global");
    assert!(err.contains("only read-only ones"), "{err}");
}

/// An uninitialised read-only byte table the host fills
/// (`cudaMemcpyToSymbol`, as HeCBench d3q19-bgk's `C_dirs` and popcount's
/// `lut`): bound as C's bytes packed into words, so the host's bytes are
/// the buffer's, and each element read with C's sign. Run on the adapter
/// with signed bytes and 16-bit values across word boundaries.
#[test]
fn host_filled_narrow_constants_are_c_bytes_packed_in_words() {
    let source = "__constant__ char dirs[7];\n__constant__ unsigned short weights[3];\n__global__ void k(int *o) {\n    int i = threadIdx.x;\n    o[i] = dirs[i % 7] * 1000 + weights[i % 3];\n}\n";
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("var<storage, read> dirs: array<u32, 2>; // 7 8-bit signed values as C's bytes, packed into words"),
        "{}",
        out.wgsl
    );
    let binding = |name: &str| {
        out.sidecar
            .bindings
            .iter()
            .find(|b| b.name == name)
            .cloned()
            .expect(name)
    };
    assert_eq!(binding("dirs").length, Some(2));
    assert_eq!(binding("weights").length, Some(2));
    assert_eq!(binding("dirs").initial, None);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let dirs: [i8; 8] = [1, -1, 0, 127, -128, 5, -7, 0];
    let weights: [u16; 4] = [65535, 2, 40000, 0];
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("o", BufferSpec::zeros(32))
        .with_buffer(
            "dirs",
            BufferSpec::bytes(2, bytemuck::cast_slice(&dirs).to_vec()),
        )
        .with_buffer(
            "weights",
            BufferSpec::bytes(2, bytemuck::cast_slice(&weights).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let bytes = &result
        .outputs
        .iter()
        .find(|o| o.name == "o")
        .expect("o")
        .bytes;
    let got: Vec<i32> = bytemuck::cast_slice(bytes).to_vec();
    let want: Vec<i32> = (0..32)
        .map(|i| i32::from(dirs[i % 7]) * 1000 + i32::from(weights[i % 3]))
        .collect();
    assert_eq!(got, want);
}

/// A variable template (`template <typename T> __constant__ T mask[N];`,
/// HeCBench's convolution1D) read as `mask<T>[j]` in a kernel template:
/// the binding takes the kernel's `T` (here `double`, from the launch).
/// `mask<float>` in a kernel instantiated otherwise stays refused rather
/// than silently read as another instance. Run on the adapter.
#[test]
fn variable_templates_take_the_kernels_template_argument() {
    let source = r#"
template <typename T>
__constant__ T mask[4];
template <typename T>
__global__ void conv(const T *in, T *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    T s = 0;
    for (int j = 0; j < 4; j++) if (i + j < n) s += in[i + j] * mask<T>[j];
    if (i < n) out[i] = s;
}
__global__ void other(const double *in, double *out) { out[0] = in[0] * mask<float>[0]; }
int main() { double *a, *b; conv<double><<<1, 64>>>(a, b, 64); }
"#;
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f64: true,
        source_name: Some("conv.cu".into()),
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let out = common::compile(source, "conv", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("var<storage, read> mask: array<f64, 4>;"),
        "{}",
        out.wgsl
    );
    let err = common::compile(source, "other", &opts).expect_err("another instance");
    assert!(
        err.iter().any(|d| d.message.contains("mask<float>")),
        "{err:#?}"
    );

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    if !runner.adapter().is_ok_and(|a| a.features.shader_f64) {
        return;
    }
    let input: Vec<f64> = (0..64).map(|i| f64::from(i) * 0.5 - 3.0).collect();
    let mask = [0.5f64, -1.0, 2.0, 0.25];
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(64.0))
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(64))
        .with_buffer(
            "mask",
            BufferSpec::bytes(4, bytemuck::cast_slice(&mask).to_vec()),
        );
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f64> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for i in 0..64 {
        let want: f64 = (0..4)
            .filter(|j| i + j < 64)
            .map(|j| input[i + j] * mask[j])
            .sum();
        assert_eq!(got[i], want, "out[{i}]");
    }
}

/// An initialised `__constant__` struct (HeCBench's seam-carving
/// `BORDER_PIXEL = {.r=0, .g=0, .b=0}`, designated) that no kernel writes
/// and the host never copies into: a WGSL `const`. Designators set their
/// member and positional items continue after it, as in C; the host's
/// `cudaMemcpyToSymbol` into it, or a kernel writing it, is refused. Run
/// on the adapter.
#[test]
fn initialised_constant_structs_are_wgsl_constants() {
    let source = r#"
typedef struct { int r; int g; int b; float w; } pixel;
__constant__ pixel BORDER = {.g = 2, 5, .r = -1};
__global__ void shade(const int *x, float *out) {
    int i = threadIdx.x;
    pixel own = {x[i], 0, 0, 0.5f};
    pixel p = i % 2 ? BORDER : own;
    pixel q = {.w = 0.25f};
    out[i] = p.r + p.g * 10 + p.b * 100 + p.w + q.w;
}
"#;
    let out = common::compile_as("border.cu", source, "shade").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("const BORDER: pixel = pixel(-1, 2, 5, 0.0f);"),
        "{}",
        out.wgsl
    );
    let x: Vec<i32> = (0..32).map(|i| i * 3 - 40).collect();
    let Some(got) = common::run_block::<f32>(
        &out,
        32,
        &[("x", 32, bytemuck::cast_slice(&x).to_vec())],
        ("out", 32),
    ) else {
        return;
    };
    for i in 0..32 {
        let want = if i % 2 == 1 {
            -1.0 + 20.0 + 500.0 + 0.25
        } else {
            x[i] as f32 + 0.5 + 0.25
        };
        assert_eq!(got[i], want, "out[{i}]");
    }

    for (host, want) in [
        (
            "void set() { pixel p = {1, 2, 3, 0}; cudaMemcpyToSymbol(BORDER, &p, sizeof(p)); }",
            "the host copies into this initialised struct",
        ),
        ("", "struct `pixel` has no member `a`"),
    ] {
        let source = format!(
            "typedef struct {{ int r; int g; int b; float w; }} pixel;\n__constant__ pixel BORDER = {{.{} = 1}};\n{host}\n__global__ void k(float *o) {{ o[0] = BORDER.r; }}",
            if host.is_empty() { "a" } else { "r" }
        );
        let err = common::compile_as("border.cu", &source, "k").expect_err("refused");
        assert!(err.contains(want), "{want}:\n{err}");
    }
}

/// HeCBench's hungarian sets `__device__ bool repeat_kernel` from some
/// threads for the host to read: a word whose low byte is C's byte (read
/// `!= 0`, written 0 or 1). A `bool` array (four to a word in C) is
/// refused.
#[test]
fn device_bool_flags_are_the_low_byte_of_a_word() {
    let source = "__device__ bool found;\n__device__ bool flags[8];\n\
                  __global__ void k(const int *x, int *seen) {\n  if (x[threadIdx.x] == 7) found = true;\n  __syncthreads();\n  if (threadIdx.x == 0) seen[0] = found ? 1 : 0;\n}\n\
                  __global__ void g(int *x) { flags[threadIdx.x % 8] = x[threadIdx.x] > 0; }\n\
                  int main() { k<<<1, 64>>>(0, 0); g<<<1, 64>>>(0); }\n";
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("var<storage, read_write> found: u32;")
            && out.wgsl.contains("found = select(0u, 1u, true);"),
        "{}",
        out.wgsl
    );
    let err = compile(source, "g").expect_err("a bool array");
    assert!(err.contains("a `bool` array or atomic"), "{err}");

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    for (seven_at, want) in [(Some(13usize), 1), (None, 0)] {
        let x: Vec<i32> = (0..64)
            .map(|i| if Some(i) == seven_at { 7 } else { 1 })
            .collect();
        let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
        let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
            .with_iterations(0, 1)
            .with_buffer(
                "x",
                BufferSpec::bytes(64, bytemuck::cast_slice(&x).to_vec()),
            )
            .with_buffer("seen", BufferSpec::zeros(1))
            .with_buffer("found", BufferSpec::zeros(1));
        let result = runner.run(&bench).expect("run");
        let seen: Vec<i32> =
            bytemuck::pod_collect_to_vec(&result.output("seen").expect("seen").bytes);
        let found: Vec<u32> =
            bytemuck::pod_collect_to_vec(&result.output("found").expect("found").bytes);
        assert_eq!(
            (seen[0], found[0]),
            (want, want as u32),
            "7 at {seven_at:?}"
        );
    }
}

/// `static constexpr auto` constants take their initialiser's type, as C++
/// deduces it (HeCBench's perlin: `constexpr auto INVSQRT2 = .7071...;`,
/// `constexpr auto N_GRADIENTS = 8;`): a double and an int, on lavapipe.
#[test]
fn constexpr_auto_constants_have_their_initialisers_type() {
    let source = "static constexpr auto HALF = .5;\nstatic constexpr auto COUNT = 8;\n\
        __global__ void k(double *o) { int t = threadIdx.x; o[t] = HALF * (t % COUNT) + COUNT / 3; }";
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f64: true,
        ..Default::default()
    };
    let out = common::compile(source, "k", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(out.wgsl.contains("f64"), "{}", out.wgsl);
    let Some(got) = common::run_block::<f64>(&out, 32, &[], ("o", 32)) else {
        return;
    };
    for (t, v) in got.iter().enumerate() {
        assert_eq!(*v, 0.5 * (t % 8) as f64 + 2.0, "thread {t}");
    }
}

/// A floating constant global initialised by a division of integral
/// floats (`const Real dx = xLength / NUM;` with `#define xLength 1.0`,
/// HeCBench lid-driven-cavity) is that quotient: the front end read it as
/// the integer 0, and every `/ (FOUR * dx)` divided by zero. Found by the
/// native comparison on the H100 (stop 40). On lavapipe against Rust.
#[test]
fn a_floating_constant_global_keeps_its_fraction() {
    let source = r#"
#define xLength 1.0
#define NUM 512
#define FOUR 4.0f
const float dx = xLength / NUM;
const int cells = 4096 / NUM;
__global__ void scaled(const float *in, float *out) {
    out[threadIdx.x] = in[threadIdx.x] / (FOUR * dx) + cells;
}
"#;
    let out = common::compile_as("dx.cu", source, "scaled").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<f32> = (0..32).map(|i| i as f32 * 0.25).collect();
    let Some(got) = common::run_in_out::<_, f32>(&out, &input) else {
        return;
    };
    for (t, x) in input.iter().enumerate() {
        assert_eq!(got[t], x / (4.0 * (1.0 / 512.0)) + 8.0, "thread {t}");
    }
}
