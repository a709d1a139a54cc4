//! Operators the file defines for CUDA's vector types. C++ calls them for
//! `a * b`; WGSL's `*` on vectors is per component. A body that is just
//! that (helper_math.h's) keeps WGSL's operator; any other — a complex
//! product on `float2`, HeCBench merkle's `ulong4 operator<` giving masks,
//! tgvnn's `operator*=(float2 &, float2)` — is called, and an operator the
//! transpiler cannot pick is refused. Before, `a * b` silently became
//! WGSL's per-component product.

mod common;

/// Our own kernel: complex arithmetic on `float2` through the file's
/// operators, next to per-component ones.
const COMPLEX: &str = r#"
__device__ float2 operator*(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }
__device__ float2 operator+(float2 a, float2 b) { return make_float2(a.x + b.x, a.y + b.y); }
__device__ float2 operator*(float2 a, float s) { return make_float2(a.x * s, a.y * s); }
__device__ float2 operator-(float2 a) { return make_float2(a.x, -a.y); }
__device__ void operator*=(float2 &a, const float2 b) {
    float s = a.x, t = a.y;
    a.x = s * b.x - t * b.y;
    a.y = t * b.x + s * b.y;
}
__global__ void mix(const float2 *a, const float2 *b, float2 *o) {
    int i = threadIdx.x;
    float2 p = a[i] * b[i] + (-a[i]) * 2.0f;
    p *= b[i];
    o[i] = p;
}
"#;

fn compile(source: &str, kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    common::compile_as("operators.cu", source, kernel)
}

#[test]
fn operators_that_are_not_per_component_are_called() {
    let out = compile(COMPLEX, "mix").unwrap_or_else(|e| panic!("{e}"));
    let body = &out.wgsl[out.wgsl.find("let i: i32").expect("body")..];
    insta::assert_snapshot!("mix_body", body);
    // The per-component `+` and `* float` stay WGSL's operators.
    assert!(!out.wgsl.contains("fn operator_add"), "{}", out.wgsl);
}

fn mul(a: [f32; 2], b: [f32; 2]) -> [f32; 2] {
    [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]]
}

#[test]
fn the_complex_products_match_a_reference_on_the_adapter() {
    let out = compile(COMPLEX, "mix").unwrap_or_else(|e| panic!("{e}"));
    let a: Vec<f32> = (0..64).map(|i| (i % 7) as f32 - 3.0).collect();
    let b: Vec<f32> = (0..64).map(|i| (i % 5) as f32 * 0.5 - 1.0).collect();
    let Some(got) = common::run_block::<f32>(
        &out,
        32,
        &[
            ("a", 32, bytemuck::cast_slice(&a).to_vec()),
            ("b", 32, bytemuck::cast_slice(&b).to_vec()),
        ],
        ("o", 32),
    ) else {
        return;
    };
    for i in 0..32 {
        let (x, y) = ([a[2 * i], a[2 * i + 1]], [b[2 * i], b[2 * i + 1]]);
        let conj = [x[0] * 2.0, -x[1] * 2.0];
        let p = mul(x, y);
        let want = mul([p[0] + conj[0], p[1] + conj[1]], y);
        assert_eq!(&got[2 * i..2 * i + 2], &want[..], "thread {i}");
    }
}

#[test]
fn an_operator_that_cannot_be_picked_is_refused_not_replaced() {
    // `float4 * float4` with only a `float2` product defined: C++ would not
    // compile it; WGSL's per-component product is not what the file means.
    let source = "__device__ float2 operator*(float2 a, float2 b) { return make_float2(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }\n\
        __global__ void k(float4 *o, const float4 *a) { int i = threadIdx.x; o[i] = a[i] * a[i]; }";
    let err = compile(source, "k").expect_err("refused");
    assert!(err.contains("operator*"), "{err}");
    // A compound operator of the file on a target with side effects would
    // evaluate the target twice: refused.
    let source = "__device__ void operator*=(float2 &a, const float2 b) { float s = a.x; a.x = s * b.x - a.y * b.y; a.y = a.y * b.x + s * b.y; }\n\
        __global__ void k(float2 *o) { int i = threadIdx.x; float2 v[2]; v[0] = o[i]; v[1] = o[i]; int j = 0; v[j++] *= o[i]; o[i] = v[0]; }";
    let err = compile(source, "k").expect_err("refused");
    assert!(err.contains("side effects"), "{err}");
    // Declared, defined nowhere the transpiler reads: refused too.
    let source = "__device__ float2 operator+(float2 a, float2 b);\n\
        __global__ void k(float2 *o) { int i = threadIdx.x; o[i] = o[i] + o[i]; }";
    let err = compile(source, "k").expect_err("refused");
    assert!(err.contains("declared but not defined"), "{err}");
    // A per-component `^` for `uchar4` (HeCBench aes) is WGSL's own.
    let source = "__device__ int2 operator^(int2 a, int2 b) { return make_int2(a.x ^ b.x, a.y ^ b.y); }\n\
        __global__ void k(int2 *o, const int2 *a) { int i = threadIdx.x; o[i] = a[i] ^ a[i + 1]; }";
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("a[i] ^ a[i + 1]"), "{}", out.wgsl);
}
