//! C forms the front end must read as nvcc does before the transpiler sees
//! them (our own kernels, written after patterns of public code): a
//! range macro whose `(lo) && (x)` tree-sitter takes for a cast (Rodinia's
//! hotspot and pathfinder), a constant macro ending in `;` (the CUDA
//! samples' dwtHaar1D), helper_math.h-style overloads of builtins whose
//! bodies call the builtin (bilateralFilter), and `long` struct members (8
//! bytes, as on the Linux hosts CUDA targets).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

const FORMS: &str = r#"
#define IN_RANGE(x, min, max) ((x)>=(min) && (x)<=(max))
#define HALF 0.5f;

inline __device__ float2 make_float2(float s) { return make_float2(s, s); }
inline __device__ float2 fabs(float2 v) { return make_float2(fabs(v.x), fabs(v.y)); }

__global__ void window(const float *src, float *out, int n, int lo, int hi) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    bool inside = IN_RANGE(i, lo, hi);
    float2 p = make_float2(src[i], -src[i]);
    out[i] = 0.0f;
    if (inside) out[i] = fabs(p.y) * HALF;
}
"#;

fn compile() -> cudalens_wgsl::TranspileOutput {
    common::compile_as("forms.cu", FORMS, "window").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn range_macros_semicolon_constants_and_builtin_overloads_transpile() {
    let out = compile();
    let body = &out.wgsl[out.wgsl.find("let n: i32").expect("body")..];
    insta::assert_snapshot!("window_body", body);
}

#[test]
fn the_window_matches_a_reference_on_the_adapter() {
    let out = compile();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let (n, lo, hi) = (200usize, 37i32, 151i32);
    let input: Vec<f32> = (0..n).map(|i| i as f32 * 0.75 - 40.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(n as f64))
        .with_arg(3, ParamValue::Scalar(lo as f64))
        .with_arg(4, ParamValue::Scalar(hi as f64))
        .with_buffer(
            "src",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(
        &result
            .outputs
            .iter()
            .find(|o| o.name == "out")
            .expect("out")
            .bytes,
    );
    let want: Vec<f32> = (0..n)
        .map(|i| {
            let inside = (i as i32) >= lo && (i as i32) <= hi;
            if inside { input[i].abs() * 0.5 } else { 0.0 }
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn long_struct_members_sit_where_c_puts_them() {
    let source = "struct Rec { int tag; long offset; int n; };\n\
__global__ void k(const Rec *r, long *o) { o[threadIdx.x] = r[threadIdx.x].offset + r[threadIdx.x].n; }\n";
    let opts = TranspileOptions {
        enable_int64: true,
        source_name: Some("rec.cu".into()),
        ..TranspileOptions::default()
    };
    let out = common::compile(source, "k", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("offset: i64"), "{}", out.wgsl);
}

/// helper_math.h-style overloads of the vector constructors
/// (`make_float4(float s)`, `make_float4(float3 a, float w)`,
/// `make_float3(float4 a)`; the samples' boxFilter, recursiveGaussian):
/// each call with other than N arguments goes to the overload whose
/// parameter types are the argument types.
const OVERLOADS: &str = r#"
inline __device__ float4 make_float4(float s) { return make_float4(s, s, s, s); }
inline __device__ float4 make_float4(float3 a, float w) { return make_float4(a.x, a.y, a.z, w); }
inline __device__ float3 make_float3(float4 a) { return make_float3(a.x, a.y, a.z); }

__global__ void spread(const float *src, float4 *out) {
    int i = threadIdx.x;
    float4 s = make_float4(src[i]);
    float3 t = make_float3(make_float4(1.0f, 2.0f, 3.0f, 4.0f));
    out[i] = make_float4(t, src[i] * 2.0f) + s;
}
"#;

#[test]
fn vector_constructor_overloads_are_chosen_by_argument_types() {
    let out =
        common::compile_as("overloads.cu", OVERLOADS, "spread").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        "overloads",
        &out.wgsl[out.wgsl.find("// __device__").expect("functions")
            ..out.wgsl.find("@compute").expect("entry")]
    );
    let body = &out.wgsl[out.wgsl.find("let i: i32").expect("body")..];
    insta::assert_snapshot!("overloads_body", body);

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let src: Vec<f32> = (0..64).map(|i| i as f32 * 0.5).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "src",
            BufferSpec::bytes(64, bytemuck::cast_slice(&src).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let want: Vec<f32> = src
        .iter()
        .flat_map(|&s| [1.0 + s, 2.0 + s, 3.0 + s, s * 2.0 + s])
        .collect();
    assert_eq!(got, want);
}

/// Enum types are their underlying integer types (C++ [dcl.enum]): a
/// typedef of an anonymous enum (an RNA base), a named enum with a
/// negative enumerator, one too large for `int`, and one with a written
/// underlying type.
#[test]
fn enum_types_are_their_underlying_integers() {
    let source = r#"
typedef enum { A, C, G, U } base_t;
enum Sign { MINUS = -1, ZERO, PLUS };
enum Big { SMALL = 1, LARGE = 0x80000000 };
enum Wide : unsigned int { LOW, HIGH = 7 };
__global__ void pairs(const base_t *seq, int *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    base_t b = seq[i];
    Sign s = b == G ? PLUS : MINUS;
    enum Big big = LARGE;
    Wide w = HIGH;
    out[i] = (b == A && seq[i + 1] == U) + s * 10 + (int)(big >> 31) * 100 + (int)w * 1000;
}
"#;
    let out = common::compile_as("enums.cu", source, "pairs").unwrap_or_else(|e| panic!("{e}"));
    for decl in [
        "seq: array<i32>",
        "let b: i32",
        "let s: i32",
        "let big: u32",
        "let w: u32",
    ] {
        assert!(out.wgsl.contains(decl), "{decl}:\n{}", out.wgsl);
    }
}

/// `std::numeric_limits<T>` constants, with `T` a template parameter (a
/// segmented sort pads with `numeric_limits<K>::max()`).
#[test]
fn numeric_limits_are_cs_constants() {
    let source = r#"
#include <limits>
template <class K>
__global__ void pad(K *keys, float *f, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) keys[i] = std::numeric_limits<K>::max();
    if (i == 0) keys[1] = std::numeric_limits<K>::lowest();
    if (i == 0) f[0] = std::numeric_limits<float>::min();
    if (i == 0) f[2] = std::numeric_limits<float>::epsilon();
    if (i == 0) f[1] = -std::numeric_limits<float>::max();
}
int main() { unsigned int *k; float *f; pad<unsigned int><<<1, 64>>>(k, f, 10); }
"#;
    let out = common::compile_as("limits.cu", source, "pad").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "keys[i] = 4294967295u;",
        "keys[1] = 0u;",
        "f[0] = 1.1754944e-38f;",
        "f[2] = 1.1920929e-7f;",
        "f[1] = -3.4028235e38f;",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let err = common::compile_as(
        "limits.cu",
        "__global__ void k(int *o) { o[0] = std::numeric_limits<int>::epsilon(); }",
        "k",
    )
    .expect_err("epsilon of int");
    assert!(err.contains("numeric_limits<i32>::epsilon"), "{err}");
}

/// Functions of a namespace called by their qualified name (`aig::id(x)`,
/// beside a host-only `id` of the same name), with their effects (a write
/// through a pointer parameter); an ambiguous name is refused.
#[test]
fn namespace_qualified_calls_reach_the_function() {
    let source = r#"
inline int id(int lit) { return lit / 2; }
namespace aig {
__device__ __forceinline__ int id(int lit) { return lit >> 1; }
__device__ void mark(int *flags, int i) { flags[i] = 1; }
}
__global__ void nodes(const int *lits, int *ids, int *flags, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        ids[i] = aig::id(lits[i]);
        aig::mark(flags, i);
    }
}
"#;
    let out = common::compile_as("ns.cu", source, "nodes").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("ids[i] = id(lits[i]);"), "{}", out.wgsl);
    assert!(
        out.wgsl.contains("return lit >> 1") && !out.wgsl.contains("lit / 2"),
        "{}",
        out.wgsl
    );
    assert!(
        out.wgsl
            .contains("var<storage, read_write> flags: array<i32>"),
        "{}",
        out.wgsl
    );
    let ambiguous = r#"
namespace a { __device__ int f(int x) { return x; } }
namespace b { __device__ int f(int x) { return -x; } }
__global__ void k(int *o) { o[0] = b::f(1); }
"#;
    let err = common::compile_as("ns.cu", ambiguous, "k").expect_err("ambiguous");
    assert!(err.contains("unknown function `b::f`"), "{err}");
}

/// math.h's `M_*` constants are `double` (as an unsuffixed literal), and
/// `FLT_EPSILON`/`UINT32_MAX` their C values, when no header defines them.
#[test]
fn math_h_and_stdint_constants() {
    let source = r#"
__global__ void k(float *o, unsigned int *u) {
    o[0] = M_PI;
    o[1] = FLT_EPSILON;
    u[0] = UINT32_MAX;
}
"#;
    let out = common::compile_as("m.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "o[0] = 3.1415927f;",
        "o[1] = 1.1920929e-7f;",
        "u[0] = 4294967295u;",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f64: true,
        ..Default::default()
    };
    let source = "__global__ void k(double *o) { o[0] = M_PI * 2.0; }";
    let out = common::compile(source, "k", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        out.wgsl.contains("o[0] = 6.283185307179586lf;"),
        "{}",
        out.wgsl
    );
}

/// Rounding conversions, `signbit` and 64-bit bit counts, validated by naga
/// with the features they need.
#[test]
fn rounding_conversions_signbit_and_64_bit_counts() {
    let source = r#"
__global__ void k(const float *x, int *o, long *l, const unsigned long long *w) {
    int i = threadIdx.x;
    o[4 * i] = __float2int_rd(x[i]) + __float2int_ru(x[i]);
    o[4 * i + 1] = signbit(x[i]) ? 1 : 0;
    o[4 * i + 2] = __popcll(w[i]) + __clzll(w[i]);
    o[4 * i + 3] = (int)nearbyint(x[i]);
    l[i] = lrintf(x[i]) + lroundf(x[i]);
}
"#;
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        enable_f64: true,
        ..Default::default()
    };
    let out = common::compile(source, "k", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    for want in [
        "i32(floor(x[i])) + i32(ceil(x[i]))",
        "(bitcast<u32>(x[i]) >> 31u) != 0u",
        "countOneBits(u32(bits_",
        "i64(round(x[i])) + i64(cuda_roundf(x[i]))",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
}

/// Local type aliases (`using T_ACC = T;`, `typedef int4 copy_t;`) name
/// their type for the rest of the function; `static_assert` and comments
/// the front end keeps as statements have no run-time effect.
#[test]
fn local_aliases_static_asserts_and_stray_comments() {
    let source = r#"
#define BLOCK 64
template <typename T>
__global__ void moments(const T *x, float *o, const int4 *v, int4 *w) {
    using T_ACC = T;
    typedef int4 copy_t;
    static_assert(BLOCK % 32 == 0, "BLOCK must be a multiple of 32");
    T_ACC s = x[threadIdx.x] * (T_ACC)2;
    copy_t c = v[threadIdx.x];
    w[threadIdx.x] = c;
    o[threadIdx.x] = s;
}
int main() { moments<float><<<1, BLOCK>>>(0, 0, 0, 0); }
"#;
    let out = common::compile_as("alias.cu", source, "moments").unwrap_or_else(|e| panic!("{e}"));
    for want in ["let s: f32 = x[", "let c: vec4<i32> = v["] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
}

/// Braced lists assigned to vectors, structs and elements (`d[i] = {ox, oy,
/// oz, 0.f}`), and struct declarations initialised from one (`XYZ out = {0,
/// 0, 0}`): the type's value, missing members zero as C++ value-initializes.
#[test]
fn braced_lists_build_vectors_and_structs() {
    let source = r#"
struct XYZ { float x, y, z; };
struct Pair { float re; float im; int n; };
__global__ void k(float4 *d, XYZ *o, Pair *p, float ox) {
    int i = threadIdx.x;
    XYZ out = {0, 1.5f, i};
    o[i] = out;
    d[i] = {ox, 1.0f, 2.0f, 0.f};
    p[i] = {ox};
    float2 z;
    z = {ox, -ox};
    d[i].x += z.y;
}
"#;
    let out = common::compile_as("lists.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "let out: XYZ = XYZ(0.0f, 1.5f, f32(i));",
        "d[i] = vec4<f32>(ox, 1.0f, 2.0f, 0.0f);",
        "p[i] = Pair(ox, 0.0f, 0);",
        "z = vec2<f32>(ox, -ox);",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
}

/// A call of a function template with an explicit specialization for its
/// arguments (`template <> float P<7>(float x)`) calls the specialization,
/// the argument being a template value of the caller or a literal.
#[test]
fn explicit_specializations_are_called() {
    let source = r#"
template <int D> __device__ float P(float x);
template <> __device__ float P<3>(float x) { return x * 3.0f; }
template <> __device__ float P<5>(float x) { return x * 5.0f; }
template <int D> __global__ void k(float *o) { o[0] = P<D>(o[1]) + P<5>(o[2]); }
int main() { k<3><<<1, 1>>>(0); }
"#;
    let out = common::compile_as("spec.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("return x * 3.0f;"), "{}", out.wgsl);
    assert!(out.wgsl.contains("return x * 5.0f;"), "{}", out.wgsl);
}

/// cuda_fp16.h's `half2` intrinsics (a dot product in the style of the
/// samples' fp16 scalar product): `vec2<f16>` arithmetic, validated by naga
/// with 16-bit floats, and refused with the option named without them.
#[test]
fn half2_intrinsics_are_f16_vector_arithmetic() {
    let source = r#"
#include <cuda_fp16.h>
__global__ void dot(const half2 *a, const half2 *b, float *out, int n) {
    __shared__ half2 partial[64];
    half2 v = __float2half2_rn(0.f);
    for (int i = threadIdx.x; i < n; i += blockDim.x) v = __hfma2(a[i], b[i], v);
    partial[threadIdx.x] = __hadd2(v, __halves2half2(__float2half_rn(0.f), __hneg(__low2half(v))));
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.x] = __low2float(partial[0]) + __high2float(__hmul2(partial[1], partial[2]));
}
"#;
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f16: true,
        ..Default::default()
    };
    let out = common::compile(source, "dot", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    for want in [
        "vec2<f16>(f16(0.0f))",
        "fma(a[i], b[i], v)",
        "f32(partial[0].x)",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let err = common::compile_as("h.cu", source, "dot").expect_err("no f16");
    assert!(err.contains("16-bit floats"), "{err}");
}

/// `auto` pointers take their view from the initializer (`auto row = m +
/// r * n;`, `const auto v = reinterpret_cast<const float4*>(x)`), and an
/// `auto` copy of a struct stays a value.
#[test]
fn auto_pointers_are_views() {
    let source = r#"
struct P { float a, b; };
__constant__ P c_p;
__global__ void k(const float *m, float *o, int n) {
    int r = threadIdx.x;
    auto row = m + r * n;
    const auto v = reinterpret_cast<const float4*>(m);
    auto q = c_p;
    o[r] = row[1] + v[r].y + q.b;
}
"#;
    let out = common::compile_as("auto.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("m[row + 1]"), "{}", out.wgsl);
    assert!(out.wgsl.contains("m[4 * (r) + 1]"), "{}", out.wgsl);
    assert!(out.wgsl.contains("q.b"), "{}", out.wgsl);
}

/// `int* const __restrict x`: the grammar reads `__restrict` after `const`
/// as the parameter's name and leaves `x` in an error node; the front end
/// takes the name from there (the parameters keep their order and names).
#[test]
fn const_restrict_pointer_parameters_keep_their_names() {
    let source = r#"
__global__ void copy_if(const int* const __restrict src, int* const __restrict dst, const int* __restrict flags, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && flags[i]) dst[i] = src[i];
}
"#;
    let out =
        common::compile_as("restrict.cu", source, "copy_if").unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<_> = out
        .sidecar
        .bindings
        .iter()
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(names, ["src", "dst", "flags", "params"], "{}", out.wgsl);
    assert!(out.wgsl.contains("dst[i] = src[i];"), "{}", out.wgsl);
}

/// stdint.h's constant macros (`UINT32_C(255)` is `255U`, so the shift is
/// unsigned) and glibc's `ulong` (`unsigned long`, 64 bits).
#[test]
fn stdint_constant_macros_and_ulong() {
    let source = r#"
__global__ void k(unsigned int *u, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) u[i] = (UINT32_C(255) << 23) + INT32_C(-1) + (unsigned int)i;
}
"#;
    let out = common::compile_as("c.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("2139095039u"), "{}", out.wgsl);
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        ..Default::default()
    };
    let wide = "__global__ void w(ulong *o) { o[0] = (ulong)threadIdx.x * UINT64_C(4294967296); }";
    let w = common::compile(wide, "w", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(w.wgsl.contains("o: array<u64>"), "{}", w.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 70usize;
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(1, ParamValue::Scalar(n as f64))
        .with_buffer("u", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<u32> = bytemuck::pod_collect_to_vec(&result.outputs[0].bytes);
    for (i, g) in got.iter().enumerate().take(n) {
        assert_eq!(*g, (255u32 << 23).wrapping_sub(1) + i as u32, "u[{i}]");
    }
}

/// A store through an `auto` pointer (`auto row = out + r * n; row[i] = x;`,
/// `const auto c = out + k; *c = x;`) writes the buffer it points into: the
/// binding is `read_write` (before, only pointers declared with a `*` were
/// followed, and the store was refused as one into a read-only buffer).
#[test]
fn stores_through_auto_pointers_write_their_buffer() {
    let source = r#"
__global__ void scale_rows(const float *in, float *out, int *count, int n) {
    auto row = out + blockIdx.x * n;
    const auto c = count + blockIdx.x;
    auto x = in[blockIdx.x * n + threadIdx.x];
    row[threadIdx.x] = x * 2.0f;
    if (threadIdx.x == 0) *c = n;
}
"#;
    let out = common::compile_as("rows.cu", source, "scale_rows").unwrap_or_else(|e| panic!("{e}"));
    let written: Vec<_> = out
        .sidecar
        .bindings
        .iter()
        .filter(|b| b.kind == cudalens_wgsl::BindingKind::StorageReadWrite)
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(written, ["out", "count"], "{}", out.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let (rows, n) = (3usize, 32usize);
    let input: Vec<f32> = (0..rows * n).map(|i| i as f32 * 0.5 - 9.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(
        out.wgsl.clone(),
        iface,
        [rows as u32, 1, 1],
        [n as u32, 1, 1],
    )
    .with_iterations(0, 1)
    .with_arg(3, ParamValue::Scalar(n as f64))
    .with_buffer(
        "in",
        BufferSpec::bytes((rows * n) as u64, bytemuck::cast_slice(&input).to_vec()),
    )
    .with_buffer("out", BufferSpec::zeros((rows * n) as u64))
    .with_buffer("count", BufferSpec::zeros(rows as u64));
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
    let count: Vec<i32> = bytemuck::pod_collect_to_vec(&output("count"));
    for i in 0..rows * n {
        assert_eq!(got[i], input[i] * 2.0, "out[{i}]");
    }
    assert_eq!(count, vec![n as i32; rows]);
}

/// A file's overload of a math builtin for a vector with another result
/// (`float abs(float2 a)`, the magnitude, where WGSL's `abs` works per
/// component) is called, as C++ calls it; helper_math.h-style per-component
/// overloads (`float2 fabs(float2)`) still lower to the builtin.
#[test]
fn vector_overloads_of_builtins_with_other_results_are_called() {
    let source = r#"
inline __device__ float abs(const float2 a) { return sqrtf(a.x * a.x + a.y * a.y); }
inline __device__ float2 fabs(float2 v) { return make_float2(fabs(v.x), fabs(v.y)); }
__global__ void magnitude(const float2 *v, float *m, float2 *f, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    m[i] = abs(v[i]) + (float)abs(-i);
    f[i] = fabs(v[i]);
}
"#;
    let out = common::compile_as("abs.cu", source, "magnitude").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("fn abs_"), "{}", out.wgsl);
    assert!(out.wgsl.contains("f[i] = abs(v[i]);"), "{}", out.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let v: Vec<f32> = (0..2 * n).map(|k| k as f32 * 0.25 - 11.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(n as f64))
        .with_buffer(
            "v",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&v).to_vec()),
        )
        .with_buffer("m", BufferSpec::zeros(n as u64))
        .with_buffer("f", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let m: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("m").expect("m").bytes);
    let f: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("f").expect("f").bytes);
    for i in 0..n {
        let (x, y) = (v[2 * i], v[2 * i + 1]);
        let want = (x * x + y * y).sqrt() + i as f32;
        assert!(
            (m[i] - want).abs() <= 1e-5 * want.abs().max(1.0),
            "m[{i}]: {} vs {want}",
            m[i]
        );
        assert_eq!((f[2 * i], f[2 * i + 1]), (x.abs(), y.abs()), "f[{i}]");
    }
}

/// An object-like macro naming a function, called (`#define SQRT sqrtf`,
/// then `SQRT(x)`): the call expands as cpp expands it.
#[test]
fn object_like_macros_naming_functions_are_called() {
    let source = r#"
#define SQRT sqrtf
#define FABS fabsf
__global__ void k(const float *a, float *o, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) o[i] = SQRT(FABS(a[i]) * 2.0f);
}
"#;
    let out = common::compile_as("sqrt.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("o[i] = sqrt(abs(a[i]) * 2.0f);"),
        "{}",
        out.wgsl
    );
}

/// Comments right after an opening parenthesis or inside a braced list
/// (`0.433f * (   // sqrt(3) / 4` on its own line) are no operands: the
/// expression inside is lowered.
#[test]
fn comments_opening_parentheses_and_lists_are_skipped() {
    let source = r#"
__constant__ float table[] = {
    1.5f, // first
    -2.0f  /* second */
};
__global__ void k(const float *a, float *o) {
    int i = threadIdx.x;
    float x = 0.433f * (   // sqrt(3) / 4
        a[i] + 1.0f);
    float w[2] = { /* lanes */ x, x * 2.0f };
    o[i] = x + w[1] + table[1] + (
        // the last term
        a[0]);
}
"#;
    let out = common::compile_as("comments.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "0.433f * (a[i] + 1.0f)",
        "o[i] = x + w[1] + table[1] + a[0];",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
}

/// C++'s alternative tokens (`and`, `or`, `not`, `bitand`, `xor`, ...) are
/// the operators they spell, with their precedence; checked on the adapter.
#[test]
fn alternative_operator_tokens() {
    let source = r#"
__global__ void k(const int *a, int *o, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    bool v = a[i] > 0;
    o[i] = 0;
    if (not v or i + 1 == n) o[i] = 1;
    if (a[i] > 2 and i > 0) o[i] = (a[i] bitand 3) xor (compl i bitor 1);
}
"#;
    let out = common::compile_as("alt.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("if (!v || i + 1 == n)"), "{}", out.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let a: Vec<i32> = (0..n as i32).map(|i| (i * 7) % 11 - 3).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(n as f64))
        .with_buffer(
            "a",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&a).to_vec()),
        )
        .with_buffer("o", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("o").expect("o").bytes);
    for i in 0..n {
        let ii = i as i32;
        let mut want = 0;
        if a[i] <= 0 || ii + 1 == n as i32 {
            want = 1;
        }
        if a[i] > 2 && ii > 0 {
            want = (a[i] & 3) ^ (!ii | 1);
        }
        assert_eq!(got[i], want, "o[{i}]");
    }
}

/// `(T)-x` where `T` is a template parameter or a typedef: tree-sitter
/// reads a subtraction of a variable `T`; C casts the unary `-x`, which
/// binds tighter than any binary operator (`(T)-a * b` is
/// `((T)(-a)) * b`). Checked on the adapter.
#[test]
fn casts_of_a_unary_operand_to_a_named_type() {
    let source = r#"
typedef float real_t;
template <class T>
__global__ void k(const T *x, T *o, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    T a = x[i], b = x[(i + 1) % n];
    o[3 * i] = (T)-a * b + b;
    o[3 * i + 1] = (real_t)-a - b;
    o[3 * i + 2] = (T)-a < b ? (T)-2 : (T)+b;
}
int main() { float *x, *o; k<float><<<1, 64>>>(x, o, 64); }
"#;
    let out = common::compile_as("casts.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("o[3 * i] = -a * b + b;"), "{}", out.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5 - 13.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(n as f64))
        .with_buffer(
            "x",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer("o", BufferSpec::zeros(3 * n as u64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("o").expect("o").bytes);
    for i in 0..n {
        let (a, b) = (x[i], x[(i + 1) % n]);
        let want = [-a * b + b, -a - b, if -a < b { -2.0 } else { b }];
        assert_eq!(&got[3 * i..3 * i + 3], &want, "o[{i}]");
    }
}

/// A statement macro whose body is a braced block (HeCBench's tsp:
/// `#define swap(a, b) {float tmp = a; a = b; b = tmp;}`) is a block of
/// its own each time it is used, as in C; a macro of several statements
/// still declares into the enclosing scope.
#[test]
fn braced_statement_macros_are_blocks() {
    let source = r#"
#define swap(a, b) {float tmp = a;  a = b;  b = tmp;}
#define TWO float u = 1.0f; float w = 2.0f;
__global__ void k(float *px, float *py, float *o) {
    int i = threadIdx.x, j = 63 - threadIdx.x;
    if (i < j) {
        swap(px[i], px[j]);
        swap(py[i], py[j]);
    }
    TWO
    float tmp = u + w;
    o[i] = tmp;
}
int main() { k<<<1, 64>>>(0, 0, 0); }
"#;
    let out = common::compile_as("swap.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let x: Vec<f32> = (0..64).map(|i| i as f32).collect();
    let y: Vec<f32> = (0..64).map(|i| 100.0 + i as f32).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bytes = |v: &[f32]| BufferSpec::bytes(64, bytemuck::cast_slice(v).to_vec());
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("px", bytes(&x))
        .with_buffer("py", bytes(&y))
        .with_buffer("o", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let read = |name: &str| -> Vec<f32> {
        bytemuck::pod_collect_to_vec(&result.output(name).expect(name).bytes)
    };
    assert_eq!(read("px"), x.iter().rev().copied().collect::<Vec<f32>>());
    assert_eq!(read("py"), y.iter().rev().copied().collect::<Vec<f32>>());
    assert_eq!(read("o"), vec![3.0f32; 64]);
}

/// A compound literal (`(T2){a, b}`, whose braces the front end keeps) as
/// a function's returned value or as an argument takes the type the
/// function declares (HeCBench's fft: `return (T2){ cos(phi), sin(phi) };`
/// and `cmplx_mul(*a3, (T2){0, -1})` through a macro).
#[test]
fn compound_literals_take_the_declared_type() {
    let source = r#"
typedef float2 T2;
#define I (T2){ 0, 1 }
__device__ T2 cmplx_mul(T2 a, T2 b) { return (T2){ a.x*b.x - a.y*b.y, a.x*b.y + a.y*b.x }; }
__global__ void k(T2 *z) {
    int i = threadIdx.x;
    z[i] = cmplx_mul(z[i], I);
}
int main() { k<<<1, 32>>>(0); }
"#;
    let out = common::compile_as("cl.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let z: Vec<f32> = (0..64).map(|i| i as f32 - 10.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "z",
            BufferSpec::bytes(32, bytemuck::cast_slice(&z).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("z").expect("z").bytes);
    // Times i: (x, y) becomes (-y, x).
    let want: Vec<f32> = z.chunks(2).flat_map(|c| [-c[1], c[0]]).collect();
    assert_eq!(got, want);
}

/// `__brevll` (HeCBench's ntt `bit_rev_permutation`): each 32-bit half
/// reversed and the halves swapped, against Rust's `reverse_bits` on an
/// adapter with 64-bit integers.
#[test]
fn brevll_reverses_64_bits() {
    let source = r#"
__global__ void k(const unsigned long long *w, unsigned long long *r) {
    int i = threadIdx.x;
    r[i] = __brevll(w[i]) >> 3;
}
int main() { k<<<1, 32>>>(0, 0); }
"#;
    let opts = TranspileOptions {
        enable_int64: true,
        ..Default::default()
    };
    let out = common::compile(source, "k", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    if !runner.adapter().is_ok_and(|a| a.features.shader_int64) {
        eprintln!("no 64-bit integers on this adapter: __brevll not executed");
        return;
    }
    let w: Vec<u64> = (0..32u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (1 << i))
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "w",
            BufferSpec::bytes(32, bytemuck::cast_slice(&w).to_vec()),
        )
        .with_buffer("r", BufferSpec::zeros(32));
    let result = runner.run(&bench).expect("run");
    let got: Vec<u64> = bytemuck::pod_collect_to_vec(&result.output("r").expect("r").bytes);
    let want: Vec<u64> = w.iter().map(|x| x.reverse_bits() >> 3).collect();
    assert_eq!(got, want);
}

/// Namespaced constants and scoped enumerators used by their qualified
/// names (logic-rewrite's `dUtils::AigConst0`): each namespace's own value,
/// checked on the adapter.
#[test]
fn qualified_constants_take_their_namespaces_values() {
    let source = r#"
namespace a { const int X = 1; enum Kind { P = 3, Q }; }
namespace b { const int X = 20; namespace c { constexpr int Depth = 300; } }
enum class Mode { Fast = 2, Slow };
__global__ void pick(int *out) {
    int i = threadIdx.x;
    out[i] = a::X + b::X + b::c::Depth + (int)Mode::Slow * 1000 + a::Kind::Q * 10000 + a::P * 100000 + i;
}
"#;
    let out = common::compile_as("ns.cu", source, "pick").unwrap_or_else(|e| panic!("{e}"));
    let Some(got) = common::run_block::<i32>(&out, 32, &[], ("out", 32)) else {
        return;
    };
    let want: Vec<i32> = (0..32)
        .map(|i| 1 + 20 + 300 + 3000 + 40000 + 300000 + i)
        .collect();
    assert_eq!(got, want);
}

/// `sizeof` of a string literal is its bytes with the NUL, in array sizes
/// and in expressions (columnarSolver's `#define ENCRYPTEDLEN
/// ((int)sizeof(ENCRYPTED_T)-1)`, with our own message).
#[test]
fn sizeof_a_string_literal_counts_its_bytes_and_nul() {
    let source = r#"
#define MESSAGE "ab\tc\x41"
#define LEN ((int)sizeof(MESSAGE) - 1)
__global__ void lengths(int *out) {
    int cols[LEN + 1];
    for (int j = 0; j < LEN + 1; j++) cols[j] = j;
    out[threadIdx.x] = cols[LEN] * 100 + (int)sizeof("") * 10 + LEN;
}
"#;
    let out = common::compile_as("len.cu", source, "lengths").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("array<i32, 6>"), "{}", out.wgsl);
    let Some(got) = common::run_block::<i32>(&out, 4, &[], ("out", 4)) else {
        return;
    };
    assert_eq!(got, vec![5 * 100 + 10 + 5; 4]);
}

/// `std::is_same<T, U>::value` and `std::is_same_v` with the kernel's
/// template argument bound (logprob's `IS_FP16`): typedefs and spellings
/// of one type are the same type, `long` and `long long` are not.
#[test]
fn is_same_compares_the_bound_types() {
    let source = r#"
typedef unsigned int u32;
template <typename T>
__global__ void traits(const T *a, int *o) {
    const bool is_float = std::is_same<T, float>::value;
    o[threadIdx.x] = (int)is_float + 2 * (int)std::is_same_v<T, u32> + 4 * (int)std::is_same_v<T, unsigned>
        + 8 * (int)std::is_same<T *, unsigned int *>::value + 16 * (int)std::is_same_v<long, long long>
        + 32 * (int)std::is_same_v<uint32_t, unsigned int> + (int)a[threadIdx.x] * 64;
}
int main() { unsigned *a; int *o; traits<<<1, 8>>>(a, o); }
"#;
    let out = common::compile_as("traits.cu", source, "traits").unwrap_or_else(|e| panic!("{e}"));
    let err = common::compile_as("traits.cu", &source.replace("u32>", "mystery_t>"), "traits")
        .expect_err("an unknown type");
    assert!(
        err.contains("cannot tell whether these are one type"),
        "{err}"
    );
    let a: Vec<u32> = (0..8).collect();
    let inputs = [("a", 8, bytemuck::cast_slice(&a).to_vec())];
    let Some(got) = common::run_block::<i32>(&out, 8, &inputs, ("o", 8)) else {
        return;
    };
    let want: Vec<i32> = (0..8).map(|i| 2 + 4 + 8 + 32 + i * 64).collect();
    assert_eq!(got, want);
}

/// Locals initialised with parentheses that tree-sitter reads as
/// prototypes (marchingCubes' `constexpr unsigned int threadNum(voxelX *
/// voxelY);`), with our own kernel: the values, and a constant one as a
/// `__shared__` array's size.
#[test]
fn direct_initialised_locals_hold_their_values() {
    let source = r#"
#define W 4
constexpr int H = 8;
__global__ void direct(const unsigned *idx, unsigned *o) {
    constexpr unsigned int threadNum(W * H);
    constexpr unsigned int warps(threadNum / 32);
    unsigned int masked(idx[0] & H);
    unsigned int b(idx[blockIdx.x]);
    __shared__ unsigned s[threadNum];
    s[threadIdx.x] = b + masked + threadIdx.x;
    __syncthreads();
    o[threadIdx.x] = threadNum * 1000 + warps * 100 + s[threadNum - 1 - threadIdx.x];
}
"#;
    let out = common::compile_as("direct.cu", source, "direct").unwrap_or_else(|e| panic!("{e}"));
    let idx: Vec<u32> = vec![13, 7];
    let inputs = [("idx", 2, bytemuck::cast_slice(&idx).to_vec())];
    let Some(got) = common::run_block::<u32>(&out, 32, &inputs, ("o", 32)) else {
        return;
    };
    let want: Vec<u32> = (0..32u32)
        .map(|t| 32 * 1000 + 100 + 13 + (13 & 8) + (31 - t))
        .collect();
    assert_eq!(got, want);
}

/// Overloads of one name by argument count, templates among them
/// (addBiasResidualLayerNorm's `add(T, T)`, `add(T, T, T)` beside
/// `float2 add(float2, float2, float2)`): three floats call the template
/// that deduces `T = float`, three `float2`s the non-template.
#[test]
fn a_template_overload_is_called_where_it_deduces_the_arguments() {
    let source = r#"
template <typename T> __device__ T add(T a, T b) { return a + b; }
template <typename T> __device__ T add(T a, T b, T c) { return a + b + c; }
__device__ float2 add(float2 a, float2 b, float2 c) { return make_float2(a.x + b.x + c.x, 10.0f); }
__global__ void sums(const float *x, float *o) {
    int i = threadIdx.x;
    float2 v = add(make_float2(x[i], 0.0f), make_float2(1.0f, 0.0f), make_float2(2.0f, 0.0f));
    o[i] = add(x[i], 1.0f, 2.0f) * 100.0f + add(x[i], x[i]) + v.y;
}
"#;
    let out = common::compile_as("sums.cu", source, "sums").unwrap_or_else(|e| panic!("{e}"));
    let x: Vec<f32> = (0..16).map(|i| i as f32).collect();
    let inputs = [("x", 16, bytemuck::cast_slice(&x).to_vec())];
    let Some(got) = common::run_block::<f32>(&out, 16, &inputs, ("o", 16)) else {
        return;
    };
    let want: Vec<f32> = x
        .iter()
        .map(|v| (v + 3.0) * 100.0 + 2.0 * v + 10.0)
        .collect();
    assert_eq!(got, want);
}

/// `*reinterpret_cast<unsigned int *>(&i)` and `*(float *)&u` of local
/// scalars are their bits as the other type (quant3MatMul's
/// `as_unsigned`), checked on the adapter against Rust's bit casts.
#[test]
fn a_local_scalar_read_through_a_cast_pointer_is_a_bitcast() {
    let source = r#"
__device__ inline unsigned int as_unsigned(int i) { return *reinterpret_cast<unsigned int *>(&i); }
__global__ void bits(const int *x, unsigned *o, float *f) {
    int i = threadIdx.x;
    unsigned u = as_unsigned(x[i]);
    o[i] = u >> 1;
    f[i] = *(float *)&u;
}
"#;
    let out = common::compile_as("bits.cu", source, "bits").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("bitcast<u32>"), "{}", out.wgsl);
    let x: Vec<i32> = (0..16).map(|i| (i - 8) * 0x0101_0101).collect();
    let x_bytes = bytemuck::cast_slice(&x).to_vec();
    let zeros = vec![0u8; 64];
    let inputs = [("x", 16, x_bytes.clone()), ("f", 16, zeros.clone())];
    let Some(got) = common::run_block::<u32>(&out, 16, &inputs, ("o", 16)) else {
        return;
    };
    let want: Vec<u32> = x.iter().map(|&v| (v as u32) >> 1).collect();
    assert_eq!(got, want);
    let inputs = [("x", 16, x_bytes), ("o", 16, zeros)];
    let Some(floats) = common::run_block::<u32>(&out, 16, &inputs, ("f", 16)) else {
        return;
    };
    // The float written is the int's bits: compared as bits (NaNs included).
    assert_eq!(floats, x.iter().map(|&v| v as u32).collect::<Vec<_>>());
}

/// limits.h's and float.h's constants the file names without their
/// headers (HeCBench's rsbench `DBL_MAX`): narrow limits are `int`s, the
/// 64-bit ones their types (`i64::MIN` written so WGSL accepts it), and
/// refused without the adapter feature rather than narrowed.
#[test]
fn limits_constants_keep_their_types() {
    let source = r#"
__global__ void k(long long *o, double *d, int *s) {
    o[0] = LLONG_MIN; o[1] = LLONG_MAX; o[2] = (long long)ULLONG_MAX;
    d[0] = DBL_MAX; d[1] = -DBL_EPSILON;
    s[0] = SHRT_MAX + SHRT_MIN + UCHAR_MAX + CHAR_MIN;
}
"#;
    let all = TranspileOptions {
        enable_f64: true,
        enable_int64: true,
        source_name: Some("limits.cu".into()),
        ..TranspileOptions::default()
    };
    let out = common::compile(source, "k", &all).unwrap_or_else(|d| panic!("{d:#?}"));
    for want in [
        "o[0] = (-9223372036854775807li - 1li);",
        "o[1] = 9223372036854775807li;",
        "o[2] = -1li;",
        "d[0] = 1.7976931348623157e308lf;",
        "s[0] = 126;",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let plain = TranspileOptions {
        enable_int64: true,
        ..TranspileOptions::default()
    };
    let err = common::compile(
        "__global__ void g(float *f) { f[0] = DBL_MAX; }",
        "g",
        &plain,
    )
    .expect_err("no f64");
    assert!(
        err.iter().any(|d| d
            .message
            .contains("`DBL_MAX` is a `double`: it needs 64-bit floats")),
        "{err:#?}"
    );
}

/// `static constexpr` and `static const` locals with their initialisers
/// (vLLM's `float_to_int8_rn`, as HeCBench's quantVLLM has it) are
/// constants in every thread; `numeric_limits` of 8-bit types is C's
/// range. A mutable static local stays refused (it is one variable the
/// whole grid shares).
#[test]
fn static_constant_locals_are_constants() {
    let source = r#"
#include <cstdint>
#include <limits>
static inline __device__ int8_t to_i8(float x) {
  static constexpr auto lo = static_cast<float>(std::numeric_limits<int8_t>::min());
  static constexpr auto hi = static_cast<float>(std::numeric_limits<int8_t>::max());
  static const int bias = 3;
  float r = rintf(x);
  return static_cast<int8_t>(r < lo ? lo : (r > hi ? hi : r)) + bias - 3;
}
__global__ void quantize(const float *in, int *out) { out[threadIdx.x] = to_i8(in[threadIdx.x]); }
__global__ void counter(int *out) { static int calls = 0; out[threadIdx.x] = calls++; }
"#;
    let out = common::compile_as("q.cu", source, "quantize").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<f32> = (0..32).map(|i| (i as f32 - 16.0) * 13.7).collect();
    if let Some(got) = common::run_in_out::<_, i32>(&out, &input) {
        let want: Vec<i32> = (input.iter())
            .map(|x| x.round_ties_even().clamp(-128.0, 127.0) as i32)
            .collect();
        assert_eq!(got, want);
    }
    let err = common::compile_as("q.cu", source, "counter").expect_err("refused");
    assert!(err.contains("static/extern local variables"), "{err}");
}

/// `s < n && a[s] >= m`: tree-sitter reads `s<...>` as a template and `=
/// m` as an assignment to it (HeCBench mergeVS); the comparison it spells
/// is lowered, and an `enum` in a kernel's body gives constants.
#[test]
fn a_comparison_read_as_a_template_and_local_enums_transpile() {
    let source = r#"
__global__ void pick(const int *idx, int *out, int n, bool causal, int m) {
  enum { BASE = 3, NEXT };
  int s = threadIdx.x;
  if ((s < n && causal) || (s < n && !causal && idx[s] >= m)) out[s] = NEXT;
}
"#;
    let out = common::compile_as("pick.cu", source, "pick").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("(s < n && !(causal) && idx[") || out.wgsl.contains(">= m"),
        "{}",
        out.wgsl
    );
    let idx: Vec<i32> = (0..32).map(|i| i % 5).collect();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, cudalens_gpu::ParamValue::Scalar(30.0))
        .with_arg(3, cudalens_gpu::ParamValue::Scalar(0.0))
        .with_arg(4, cudalens_gpu::ParamValue::Scalar(2.0))
        .with_buffer(
            "idx",
            cudalens_gpu::BufferSpec::bytes(32, bytemuck::cast_slice(&idx).to_vec()),
        )
        .with_buffer("out", cudalens_gpu::BufferSpec::zeros(32));
    let result = runner.run(&bench).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for (s, v) in got.iter().enumerate() {
        let want = if s < 30 && idx[s] >= 2 { 4 } else { 0 };
        assert_eq!(*v, want, "thread {s}");
    }
}
