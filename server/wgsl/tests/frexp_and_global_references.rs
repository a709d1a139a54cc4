//! `frexpf` (exact on the bits: subnormals, zeros, infinities and NaN
//! included) and `__shared__`/`__device__` scalars passed to reference
//! parameters a device function writes: the generated WGSL (snapshots),
//! refusals, and runs on a real adapter (lavapipe here) against Rust.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface};

const FREXP: &str = r#"
__global__ void split(const float *in, float *fraction, int *exponent, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        int e;
        fraction[i] = frexpf(in[i], &e);
        exponent[i] = e;
    }
}
int main() { split<<<1, 64>>>(0, 0, 0, 64); }
"#;

fn compile(source: &str, kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    common::compile_as("frexp.cu", source, kernel)
}

/// C's `frexpf` (CUDA without `-ftz`): infinities and NaN come back as
/// they are with exponent 0 (CUDA leaves it unspecified).
fn frexp_reference(x: f32) -> (u32, i32) {
    let bits = x.to_bits();
    let biased = (bits >> 23) & 0xff;
    let mantissa = bits & 0x7f_ffff;
    if biased == 0xff || bits & 0x7fff_ffff == 0 {
        return (bits, 0);
    }
    if biased == 0 {
        // Subnormal: scale into the normal range exactly, then split.
        let (f, e) = frexp_reference(x * 2f32.powi(64));
        assert!(mantissa != 0);
        return (f, e - 64);
    }
    ((bits & 0x807f_ffff) | 0x3f00_0000, biased as i32 - 126)
}

fn frexp_inputs() -> Vec<f32> {
    let mut v = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        0.5,
        3.0,
        -1000.25,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MAX,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        f32::from_bits(1),           // smallest subnormal
        f32::from_bits(0x8000_0001), // its negative
        f32::from_bits(0x007f_ffff), // largest subnormal
        f32::from_bits(0x0000_0300),
        f32::from_bits(0x8012_3456),
        1e-30,
        123456.78,
    ];
    let mut seed = 0x1234_5678u32;
    while v.len() < 64 {
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        v.push(f32::from_bits(seed));
    }
    v
}

#[test]
fn frexp_reference_is_c_frexp() {
    assert_eq!(frexp_reference(8.0), (0.5f32.to_bits(), 4));
    assert_eq!(frexp_reference(-3.0), ((-0.75f32).to_bits(), 2));
    assert_eq!(frexp_reference(f32::from_bits(1)), (0.5f32.to_bits(), -148));
}

#[test]
fn frexp_is_computed_on_the_bits() {
    let out = compile(FREXP, "split").unwrap_or_else(|e| panic!("{e}"));
    let start = out.wgsl.find("let bits").expect("bits");
    let end = start + out.wgsl[start..].find("exponent").expect("store");
    insta::assert_snapshot!("frexp_body", &out.wgsl[start..end]);
    assert!(!out.wgsl.contains("frexp("), "{}", out.wgsl);
}

#[test]
fn frexp_matches_c_on_the_adapter_including_subnormals_and_specials() {
    let out = compile(FREXP, "split").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input = frexp_inputs();
    let n = input.len();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, cudalens_gpu::ParamValue::Scalar(n as f64))
        .with_buffer(
            "in",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("fraction", BufferSpec::zeros(n as u64))
        .with_buffer("exponent", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let output = |name: &str| -> Vec<u32> {
        bytemuck::pod_collect_to_vec(&result.output(name).expect(name).bytes)
    };
    let (fraction, exponent) = (output("fraction"), output("exponent"));
    for (i, &x) in input.iter().enumerate() {
        let (f, e) = frexp_reference(x);
        if x.is_nan() {
            assert!(f32::from_bits(fraction[i]).is_nan(), "frexpf(NaN)");
        } else {
            assert_eq!(fraction[i], f, "fraction of {x:e} ({:#x})", x.to_bits());
        }
        assert_eq!(
            exponent[i] as i32,
            e,
            "exponent of {x:e} ({:#x})",
            x.to_bits()
        );
    }
}

#[test]
fn frexp_of_a_double_or_an_integer_is_refused() {
    let source = "__global__ void k(float *o) { int e; int k = threadIdx.x; o[0] = frexp(k, &e); }";
    let err = compile(source, "k").expect_err("int");
    assert!(err.contains("`frexp` of a `i32`"), "{err}");
    let source = "__global__ void k(double *o) { int e; o[0] = frexp(o[1], &e); }";
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f64: true,
        ..Default::default()
    };
    let err = common::compile(source, "k", &opts).expect_err("double");
    assert!(
        err.iter().any(|d| d.message.contains("`frexp` of a `f64`")),
        "{err:?}"
    );
}

/// A convergence flag in shared memory and a counter in a `__device__`
/// scalar, each written by a device function through a reference.
const GLOBAL_REFS: &str = r#"
__device__ unsigned int d_calls;

__device__ void raise_flag(unsigned int &flag, unsigned int v) {
    if (v > flag) flag = v;
}

__device__ void count(unsigned int &c) { c += 1u; }

__global__ void flags(const unsigned int *in, unsigned int *out) {
    __shared__ unsigned int converged;
    if (threadIdx.x == 0) converged = 0u;
    __syncthreads();
    for (unsigned int t = 0; t < blockDim.x; t++) {
        if (threadIdx.x == t) raise_flag(converged, in[blockIdx.x * blockDim.x + t]);
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        out[blockIdx.x] = converged;
        if (blockIdx.x == 0) count(d_calls);
    }
}
int main() { flags<<<2, 32>>>(0, 0); }
"#;

#[test]
fn module_scope_scalars_passed_by_reference_are_written_by_the_callee() {
    let out = compile(GLOBAL_REFS, "flags").unwrap_or_else(|e| panic!("{e}"));
    let start = out
        .wgsl
        .find("// __device__ raise_flag")
        .expect("raise_flag");
    let end = out.wgsl.find("@compute").expect("entry");
    insta::assert_snapshot!("global_reference_callees", &out.wgsl[start..end]);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<u32> = (0..64u32).map(|i| (i * 7919) % 1000).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(2))
        .with_buffer("d_calls", BufferSpec::values(1, vec![41.0]));
    let result = runner.run(&bench).expect("run");
    let output = |name: &str| -> Vec<u32> {
        bytemuck::pod_collect_to_vec(&result.output(name).expect(name).bytes)
    };
    let want: Vec<u32> = input.chunks(32).map(|c| *c.iter().max().unwrap()).collect();
    assert_eq!(output("out"), want);
    assert_eq!(output("d_calls"), vec![42]);
}

#[test]
fn a_module_scalar_of_another_type_is_refused() {
    let source = "__device__ void bump(int &v) { v += 1; }\n__global__ void k(int *o) { __shared__ float s; bump(s); o[0] = 1; }";
    let err = compile(source, "k").expect_err("type");
    assert!(err.contains("reference parameter `v`"), "{err}");
}

/// A `__shared__` flag passed by reference to a function that clears it
/// with `atomicExch` (the eigenvalue bisection's convergence flag): the
/// variable is atomic, and the callee's reads and writes are atomic too.
const ATOMIC_FLAG: &str = r#"
__device__ void check(unsigned int v, unsigned int &converged) {
    if (v % 7u == 0u) atomicExch(&converged, 0u);
}
__global__ void converge(const unsigned int *in, unsigned int *out) {
    __shared__ unsigned int converged;
    if (threadIdx.x == 0) converged = 1u;
    __syncthreads();
    check(in[blockIdx.x * blockDim.x + threadIdx.x], converged);
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = converged;
}
int main() { converge<<<4, 32>>>(0, 0); }
"#;

#[test]
fn an_atomic_shared_flag_passed_by_reference() {
    let out = compile(ATOMIC_FLAG, "converge").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("var<workgroup> converged: atomic<u32>;"),
        "{}",
        out.wgsl
    );
    assert!(
        out.wgsl.contains("atomicExchange(&converged, 0u)"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    // Block 1 holds a multiple of 7; the others do not.
    let input: Vec<u32> = (0..128u32)
        .map(|i| if i == 40 { 21 } else { 7 * i + 1 })
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(128, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(4));
    let result = runner.run(&bench).expect("run");
    let got: Vec<u32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    assert_eq!(got, vec![1, 0, 1, 1]);
}
