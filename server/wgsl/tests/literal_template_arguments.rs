//! A template parameter deduced from a literal argument of the launch
//! (`cross_kernel<<<g, b>>>(n, d_o, d_a, d_b, 1, 1, 1)` with `StrideType
//! ostride`: HeCBench's cross): C++ gives `1` the type `int`, `1.0f`
//! `float`, `2.0` `double`, `1u` `unsigned int`; the other parameters come
//! through the host template `eval<float>` as before.

mod common;

use cudalens_wgsl::TranspileOptions;

const SOURCE: &str = r#"
template <typename T, typename StrideType, typename Scale>
__global__ void strided(int n, T *out, const T *x, StrideType stride, Scale scale) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)
        out[i * stride] = x[i * stride] * scale;
}
template <typename T>
void eval(int n) {
    T *d_o, *d_x;
    strided<<<4, 256>>>(n, d_o, d_x, 1, 2.0f);
    strided<<<4, 256>>>(n, d_o, d_x, 1u, -2.0);
}
int main() { eval<float>(1024); }
"#;

#[test]
fn literal_arguments_give_their_cpp_types() {
    let opts = TranspileOptions {
        enable_f64: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(SOURCE, "strided", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("array<f32>"),
        "T from eval<float>:\n{}",
        out.wgsl
    );
    // The first launch: an `int` stride and a `float` scale.
    assert!(out.wgsl.contains("stride: i32"), "{}", out.wgsl);
    assert!(out.wgsl.contains("scale: f32"), "{}", out.wgsl);
}

/// A template recursing on its value argument down to an explicit
/// specialization (HeCBench's wlcpow: `__TEA_core<N - 1>(v0, v1, sum)` in
/// `__TEA_core<N>`, ended by `template <> __TEA_core<0>`), and template
/// arguments written as expressions of macros (`2 * RADIUS`): each
/// instance is its own function. One with no end is refused; it used to
/// overflow the transpiler's stack.
#[test]
fn template_recursion_ends_at_its_specialization() {
    let source = r#"
#define RADIUS 2
template <int N> __device__ void rounds(unsigned int &a, unsigned int &b) {
    a += b * N;
    b ^= a;
    rounds<N - 1>(a, b);
}
template <> __device__ void rounds<0>(unsigned int &a, unsigned int &b) {}
template <int N> __device__ void endless(unsigned int &a) { a++; endless<N + 1>(a); }

__global__ void mix(unsigned int *out) {
    unsigned int a = threadIdx.x, b = 7u;
    rounds<2 * RADIUS>(a, b);
    out[threadIdx.x] = a ^ b;
}
__global__ void runaway(unsigned int *out) {
    unsigned int a = 0;
    endless<0>(a);
    out[0] = a;
}
"#;
    let out = common::compile_as("tea.cu", source, "mix").unwrap_or_else(|e| panic!("{e}"));
    if let Some(got) = common::run_block::<u32>(&out, 32, &[], ("out", 32)) {
        let want: Vec<u32> = (0..32u32)
            .map(|t| {
                let (mut a, mut b) = (t, 7u32);
                for n in (1..=4u32).rev() {
                    a = a.wrapping_add(b.wrapping_mul(n));
                    b ^= a;
                }
                a ^ b
            })
            .collect();
        assert_eq!(got, want);
    }
    let err = common::compile_as("tea.cu", source, "runaway").expect_err("refused");
    assert!(err.contains("calls nested more than 32 deep"), "{err}");
}

/// Explicit specializations on `bool` (`pick<true>`) are found by their
/// written argument (evaluating template arguments as expressions had
/// turned `true` into `1` and lost them).
#[test]
fn bool_specializations_are_found() {
    let source = r#"
template <bool B> __device__ float pick(float x);
template <> __device__ float pick<true>(float x) { return x * 2.0f; }
template <> __device__ float pick<false>(float x) { return x + 1.0f; }
__global__ void k(float *o) { o[threadIdx.x] = pick<true>(o[threadIdx.x]) + pick<false>(1.0f); }
"#;
    let out = common::compile_as("pick.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("fn pick_true_") && out.wgsl.contains("fn pick_false_"),
        "{}",
        out.wgsl
    );
}

/// A device function as the argument of a function-pointer template
/// parameter (llm.c's `blockReduce<warpReduceSum>(x)`, whose parameter is a
/// `float (*)(float)`): known where the call is, so each instance calls it
/// directly, also when the template hands its parameter on to another.
#[test]
fn function_template_arguments_are_called_directly() {
    let source = r#"
using unary_t = float (*)(float);
__device__ float twice(float x) { return 2.0f * x; }
__device__ float square(float x) { return x * x; }
template <unary_t f> __device__ float apply_twice(float v) { return f(f(v)); }
template <unary_t g> __device__ float handed_on(float v) { return apply_twice<g>(v) + 1.0f; }

__global__ void k(float *out) {
    float x = threadIdx.x;
    out[threadIdx.x] = apply_twice<twice>(x) + apply_twice<&square>(x) + handed_on<twice>(x);
}
"#;
    let out = common::compile_as("fp.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    // One instance per function argument.
    for want in [
        "fn apply_twice_twice(",
        "fn apply_twice_square(",
        "fn handed_on_twice(",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    if let Some(got) = common::run_block::<f32>(&out, 32, &[], ("out", 32)) {
        let want: Vec<f32> = (0..32)
            .map(|t| {
                let x = t as f32;
                4.0 * x + x.powi(4) + (4.0 * x + 1.0)
            })
            .collect();
        assert_eq!(got, want);
    }
    // Used other than called, it stays a function pointer.
    let taken = r#"
using unary_t = float (*)(float);
__device__ float twice(float x) { return 2.0f * x; }
template <unary_t f> __device__ float keep(float v) { unary_t h = f; return h(v); }
__global__ void k(float *out) { out[0] = keep<twice>(1.0f); }
"#;
    let err = common::compile_as("fp.cu", taken, "k").expect_err("a function pointer value");
    assert!(err.contains("function pointers"), "{err}");
}
