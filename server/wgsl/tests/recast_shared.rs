//! Raw dynamic shared memory used as one other type
//! (`extern __shared__ unsigned char smem[]; T *tile = reinterpret_cast<T*>(smem);`,
//! HeCBench's convolution1D, fma and sosfil): declared as that type, with a
//! warning saying so; a run on a real adapter (lavapipe here) against a
//! Rust reference. Raw memory used as two types is bytes, each type a
//! view of 32-bit words over them (`vector_views.rs`).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const SOURCE: &str = r#"
template <typename T>
__global__ void blur(const T *in, T *out, int n) {
    extern __shared__ unsigned char smem[];
    T *tile = reinterpret_cast<T *>(smem);
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    tile[threadIdx.x + 1] = i < n ? in[i] : (T)0;
    if (threadIdx.x == 0) tile[0] = i > 0 ? in[i - 1] : (T)0;
    if (threadIdx.x == blockDim.x - 1) tile[blockDim.x + 1] = i + 1 < n ? in[i + 1] : (T)0;
    __syncthreads();
    if (i < n) out[i] = (tile[threadIdx.x] + tile[threadIdx.x + 1] + tile[threadIdx.x + 2]) / (T)3;
}
int main() {
    float *a, *b;
    blur<float><<<4, 64, 66 * sizeof(float)>>>(a, b, 256);
}
"#;

#[test]
fn raw_shared_memory_used_as_one_type_is_declared_as_it() {
    let out = common::compile_as("blur.cu", SOURCE, "blur").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("array<f32, DYNAMIC_SHARED_ELEMENTS>"),
        "{}",
        out.wgsl
    );
    assert_eq!(out.sidecar.dynamic_shared_element_bytes, Some(4));
    assert!(
        out.warnings
            .iter()
            .any(|d| d.message.contains("only ever used through `float*` casts")),
        "{:?}",
        out.warnings
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 256usize;
    let input: Vec<f32> = (0..n).map(|i| (i % 13) as f32).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let mut bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(n as f64))
        .with_buffer(
            "in",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(n as u64));
    bench.launch.dynamic_shared_bytes = 66 * 4;
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let at = |j: isize| -> f32 {
        if j < 0 || j as usize >= n {
            0.0
        } else {
            input[j as usize]
        }
    };
    for (i, value) in got.iter().enumerate() {
        let want = (at(i as isize - 1) + at(i as isize) + at(i as isize + 1)) / 3.0;
        assert_eq!(*value, want, "out[{i}]");
    }
}

#[test]
fn raw_shared_memory_used_as_two_types_is_words_over_its_bytes() {
    let source = r#"
__global__ void k(float *o, int *p) {
    extern __shared__ char smem[];
    float *f = reinterpret_cast<float *>(smem);
    int *q = reinterpret_cast<int *>(smem);
    f[threadIdx.x] = o[threadIdx.x];
    q[threadIdx.x + 64] = p[threadIdx.x];
    __syncthreads();
    o[threadIdx.x] = f[63 - threadIdx.x] + q[127 - threadIdx.x];
}
int main() { k<<<1, 64, 512>>>(0, 0); }
"#;
    let out = common::compile_as("two.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("var<workgroup> smem: array<i32, DYNAMIC_SHARED_ELEMENTS>"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let o: Vec<f32> = (0..64).map(|i| i as f32 * 0.5).collect();
    let p: Vec<i32> = (0..64).map(|i| i * 7 - 100).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let mut bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "o",
            BufferSpec::bytes(64, bytemuck::cast_slice(&o).to_vec()),
        )
        .with_buffer(
            "p",
            BufferSpec::bytes(64, bytemuck::cast_slice(&p).to_vec()),
        );
    bench.launch.dynamic_shared_bytes = 512;
    let result = (runner.run(&bench)).unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("o").expect("o").bytes);
    for t in 0..64 {
        // f[63 - t] is o[63 - t]; q[127 - t] is p[63 - t], stored in words 64.. .
        assert_eq!(got[t], o[63 - t] + p[63 - t] as f32, "o[{t}]");
    }
}

/// Two `extern __shared__` arrays of one element type (the samples'
/// threadFenceReduction: `sdata` in a device function, `smem` in the
/// kernel) start at the same address: one array, what is written through
/// one read through the other. Of two element types: still refused.
#[test]
fn extern_shared_arrays_of_one_type_are_the_same_memory() {
    let source = r#"
__device__ void fill(const float *in) {
    extern __shared__ float sdata[];
    sdata[threadIdx.x] = in[threadIdx.x] * 2.0f;
}
__global__ void alias(const float *in, float *out) {
    fill(in);
    __syncthreads();
    extern float __shared__ smem[];
    out[threadIdx.x] = smem[63 - threadIdx.x];
}
"#;
    let out = common::compile_as("alias.cu", source, "alias").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.wgsl.matches("var<workgroup>").count(),
        1,
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<f32> = (0..64).map(|i| i as f32 + 0.5).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let mut bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(64));
    bench.launch.dynamic_shared_bytes = 64 * 4;
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for (i, v) in got.iter().enumerate() {
        assert_eq!(*v, input[63 - i] * 2.0, "out[{i}]");
    }
    let mixed = source.replace(
        "extern float __shared__ smem[]",
        "extern int __shared__ smem[]",
    );
    let err = common::compile_as("mixed.cu", &mixed, "alias").expect_err("two types");
    assert!(err.contains("only one `extern __shared__` array"), "{err}");
}
