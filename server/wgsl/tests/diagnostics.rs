//! Every construct WGSL cannot express is an error diagnostic at the
//! construct's own span; nothing is dropped silently.

mod common;

use cudalens_wgsl::{Severity, TranspileOptions};

/// Compiles `body` inside a kernel and returns the error diagnostics as
/// (text at the span, message).
fn errors_for(kernel_src: &str, opts: &TranspileOptions) -> Vec<(String, String)> {
    let source = format!("{kernel_src}\nvoid host(float* x, int* y) {{ k<<<1, 64>>>(x, y); }}\n");
    match common::compile(&source, "k", opts) {
        Ok(out) => panic!("expected errors, got WGSL:\n{}", out.wgsl),
        Err(diags) => diags
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| (d.span.text(&source).to_string(), d.message))
            .collect(),
    }
}

fn assert_error_at(kernel_src: &str, construct: &str, message_part: &str) {
    let errors = errors_for(kernel_src, &TranspileOptions::default());
    assert!(
        errors
            .iter()
            .any(|(text, msg)| text == construct && msg.contains(message_part)),
        "no error at `{construct}` mentioning `{message_part}`: {errors:#?}"
    );
}

#[test]
fn printf() {
    // A `printf` statement is left out with a warning (tests/textures.rs);
    // one whose value is used cannot be.
    assert_error_at(
        "__global__ void k(float* x, int* y) { y[1] = printf(\"%d\\n\", y[0]); }",
        "printf(\"%d\\n\", y[0])",
        "printf",
    );
}

#[test]
fn printf_of_conversions_is_left_out_and_of_side_effects_refused() {
    // HeCBench's gemv checks print `__half2float(res[idx])`: a conversion
    // reads its argument only, so leaving the `printf` out loses nothing.
    let source = "#include <cuda_fp16.h>\n\
                  __global__ void k(const half* x, int* y) { int i = threadIdx.x; printf(\"%f %f\\n\", __half2float(x[i]), fabsf(__half2float(x[i]))); y[i] = i; }\n\
                  void host(half* x, int* y) { k<<<1, 64>>>(x, y); }\n";
    let opts = TranspileOptions {
        enable_f16: true,
        ..TranspileOptions::default()
    };
    let out = common::compile(source, "k", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.warnings
            .iter()
            .any(|d| d.message.contains("`printf` left out")),
        "{:?}",
        out.warnings
    );
    // A call of the file's own function, or an increment, may do something.
    for (kernel, construct) in [
        (
            "__device__ int bump(int* y) { return y[0]++; }\n__global__ void k(float* x, int* y) { printf(\"%d\\n\", bump(y)); }",
            "printf(\"%d\\n\", bump(y))",
        ),
        (
            "__global__ void k(float* x, int* y) { int i = 0; printf(\"%d\\n\", i++); y[0] = i; }",
            "printf(\"%d\\n\", i++)",
        ),
    ] {
        assert_error_at(kernel, construct, "an argument here has a side effect");
    }
}

#[test]
fn assert_of_a_function_that_only_computes_is_left_out() {
    // HeCBench's logic-rewrite: `assert(dUtils::AigIsNode(id, nPIs))`, a
    // function of a namespace that returns a comparison and changes
    // nothing; one that writes memory (`bump`) is an effect.
    let source = "namespace u { __host__ __device__ int twice(int v) { int t = v; t += v; return t; }\n\
                  __host__ __device__ int is_node(int id, int n) { return twice(id) > n && fabsf((float)id) >= 0.0f; } }\n\
                  __global__ void k(float* x, int* y) { int i = threadIdx.x; assert(u::is_node(i, 3)); y[i] = i; }\n\
                  void host(float* x, int* y) { k<<<1, 64>>>(x, y); }\n";
    let out = common::compile(source, "k", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(!out.wgsl.contains("is_node"), "{}", out.wgsl);
    for (kernel, construct) in [
        (
            "__device__ int bump(int* y) { return y[0]++ > 0; }\n__global__ void k(float* x, int* y) { assert(bump(y)); }",
            "assert(bump(y))",
        ),
        (
            "__device__ int g; __device__ int seen(int v) { g = v; return v; }\n__global__ void k(float* x, int* y) { assert(seen(y[0])); }",
            "assert(seen(y[0]))",
        ),
    ] {
        assert_error_at(kernel, construct, "an argument here has a side effect");
    }
}

#[test]
fn assert_is_left_out_as_with_ndebug() {
    // HeCBench's assert and the CUDA samples' simpleAssert: `assert(c)` is
    // left out with a warning (a build with NDEBUG does the same; WGSL
    // cannot stop a dispatch), not refused.
    let source = "__global__ void k(float* x, int* y) { int i = threadIdx.x; assert(i < 64); y[i] = i; }\n\
                  void host(float* x, int* y) { k<<<1, 64>>>(x, y); }\n";
    let out = common::compile(source, "k", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(!out.wgsl.contains("assert"), "{}", out.wgsl);
    assert!(
        out.warnings
            .iter()
            .any(|d| d.message.contains("`assert` left out") && d.message.contains("NDEBUG")),
        "{:?}",
        out.warnings
    );
    // One whose condition has a side effect cannot be left out.
    assert_error_at(
        "__global__ void k(float* x, int* y) { int i = threadIdx.x; assert(y[i]++ < 3); }",
        "assert(y[i]++ < 3)",
        "side effect",
    );
    // `__trap()` stops the kernel: no equivalent.
    assert_error_at(
        "__global__ void k(float* x, int* y) { if (y[0] < 0) __trap(); }",
        "__trap()",
        "no WGSL equivalent",
    );
}

#[test]
fn math_of_constants_outside_their_domain_is_computed_as_c_does() {
    // HeCBench's prna: `#define INF (-LOG(0))`. naga evaluates `log(0.0f)`
    // itself and rejects it (an internal error before); C gives -inf.
    let source = "__global__ void k(float* x, int* y) { x[0] = -logf(0.0f); x[1] = sqrtf(-1.0f); x[2] = logf(2.0f); }\n\
                  void host(float* x, int* y) { k<<<1, 1>>>(x, y); }\n";
    let out = common::compile(source, "k", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(
        out.wgsl.contains("x[0] = bitcast<f32>(0x7f800000u)"),
        "{}",
        out.wgsl
    );
    assert!(out.wgsl.contains("0x7fc00000u"), "{}", out.wgsl);
    assert!(out.wgsl.contains("0.6931472f"), "{}", out.wgsl);
}

#[test]
fn a_negative_constant_index_of_a_buffer() {
    // Was an internal error (naga: "Accessing via a negative index").
    assert_error_at(
        "__global__ void k(float* x, int* y) { x[-1] = x[0]; }",
        "-1",
        "before the start of the buffer",
    );
}

#[test]
fn dynamic_parallelism() {
    assert_error_at(
        "__global__ void child(float* x) {}\n__global__ void k(float* x, int* y) { child<<<1, 1>>>(x); }",
        "child<<<1, 1>>>(x)",
        "dynamic parallelism",
    );
}

#[test]
fn recursion() {
    assert_error_at(
        "__device__ int fact(int n) { return n <= 1 ? 1 : n * fact(n - 1); }\n__global__ void k(float* x, int* y) { y[0] = fact(5); }",
        "fact(n - 1)",
        "recursi",
    );
}

#[test]
fn reinterpret_cast_of_pointers() {
    assert_error_at(
        "__global__ void k(float2* x, int* y) { int4 v = reinterpret_cast<int4*>(x)[0]; y[0] = v.x; }",
        "reinterpret_cast<int4*>(x)",
        // Both element types are named: the user sees which view is missing.
        "pointer cast from `vec2<f32>` elements to `vec4<i32>` elements",
    );
}

#[test]
fn inline_asm() {
    let errors = errors_for(
        "__global__ void k(float* x, int* y) { int lane; asm(\"mov.u32 %0, %%laneid;\" : \"=r\"(lane)); y[0] = lane; }",
        &TranspileOptions::default(),
    );
    assert!(
        errors
            .iter()
            .any(|(text, msg)| text.starts_with("asm") && msg.contains("assembly")),
        "{errors:#?}"
    );
}

#[test]
fn textures() {
    assert_error_at(
        "__global__ void k(float* x, int* y, cudaSurfaceObject_t surf) { x[0] = surf2Dread<float>(surf, 0, 0); }",
        "surf",
        "surface objects",
    );
}

#[test]
fn function_pointers() {
    assert_error_at(
        "__device__ float twice(float v) { return 2.0f * v; }\n__global__ void k(float* x, int* y) { float (*f)(float) = twice; x[0] = f(x[0]); }",
        "f(x[0])",
        "function pointers",
    );
}

#[test]
fn arbitrary_pointer_arithmetic() {
    assert_error_at(
        "__global__ void k(float* x, int* y) { long p = (long)x; y[0] = (int)p; }",
        "p = (long)x",
        "64-bit",
    );
    assert_error_at(
        "__global__ void k(float* x, int* y) { float* p = x + 4; float* q = x; y[0] = p - q; }",
        "p - q",
        "pointer difference",
    );
}

#[test]
fn goto_and_labels() {
    assert_error_at(
        "__global__ void k(float* x, int* y) { if (y[0]) goto done; x[0] = 1.0f; done: y[1] = 2; }",
        "goto done;",
        "goto",
    );
}

#[test]
fn warp_intrinsics_need_the_subgroups_option() {
    assert_error_at(
        "__global__ void k(float* x, int* y) { x[0] = __shfl_down_sync(0xffffffff, x[0], 1); }",
        "__shfl_down_sync(0xffffffff, x[0], 1)",
        "subgroups",
    );
    let ok = common::compile(
        "__global__ void k(float* x) { x[0] = __shfl_down_sync(0xffffffff, x[0], 1); }",
        "k",
        &TranspileOptions {
            subgroups: true,
            ..TranspileOptions::default()
        },
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn doubles_and_halves_need_their_options() {
    assert_error_at(
        "__global__ void k(float* x, int* y) { double d = x[0]; x[0] = (float)d; }",
        "d = x[0]",
        "enable_f64",
    );
    let ok = common::compile(
        "__global__ void k(double* x) { x[0] = x[0] * 2.0; }",
        "k",
        &TranspileOptions {
            enable_f64: true,
            ..TranspileOptions::default()
        },
    )
    .expect("f64 kernel");
    assert_eq!(ok.sidecar.features, vec!["shader_f64".to_string()]);
    // Vectors of doubles too, and the message names the adapter feature.
    assert_error_at(
        "__global__ void k(float* x) { double3 v = make_double3(1.0, 2.0, 3.0); x[0] = (float)v.x; }",
        "v = make_double3(1.0, 2.0, 3.0)",
        "the adapter feature SHADER_F64",
    );
    assert_error_at(
        "__global__ void k(float* x, long n) { x[0] = (float)n; }",
        "n",
        "the adapter feature SHADER_INT64",
    );
}

#[test]
fn sixty_four_bit_indices_narrow_to_u32() {
    let out = common::compile(
        "__global__ void k(float* x, long n) { long i = n + threadIdx.x; x[i] = 1.0f; }",
        "k",
        &TranspileOptions {
            enable_int64: true,
            ..TranspileOptions::default()
        },
    )
    .expect("int64 kernel");
    assert!(out.wgsl.contains("x[u32(i)]"), "{}", out.wgsl);
}

#[test]
fn unsequenced_side_effects() {
    assert_error_at(
        "__global__ void k(float* x, int* y) { int i = 0; y[i] = i++; }",
        "y[i] = i++",
        "unsequenced",
    );
}

#[test]
fn unknown_functions_and_globals() {
    assert_error_at(
        "__global__ void k(float* x, int* y) { x[0] = mystery(1.0f); }",
        "mystery(1.0f)",
        "unknown function",
    );
    // A name of CUDA's own (`__` …) the transpiler has no WGSL for: an
    // intrinsic, said so (not "function pointers").
    assert_error_at(
        "__global__ void k(unsigned* x) { x[0] = __hfma_relu(x[1], x[2], x[3]); }",
        "__hfma_relu(x[1], x[2], x[3])",
        "`__hfma_relu`: a CUDA intrinsic cudalens does not transpile yet",
    );
    // An intrinsic cudalens has, whose argument fails (llm.c's
    // `__ldcs(x + i)` of a parameter of a type it refused): the argument's
    // error alone, not also "not transpiled yet".
    let errors = errors_for(
        "__global__ void k(float* o, int i) { o[0] = __ldcs(nowhere + i); __stcs(o + i, 1.0f); }",
        &TranspileOptions::default(),
    );
    assert!(
        errors
            .iter()
            .any(|(_, m)| m.contains("unknown identifier `nowhere`")),
        "{errors:#?}"
    );
    assert!(
        !errors.iter().any(|(_, m)| m.contains("__ldcs")),
        "{errors:#?}"
    );
    assert_error_at(
        "__device__ float* coeffs;\n__global__ void k(float* x, int* y) { x[0] = coeffs[1]; }",
        "coeffs",
        "file-scope pointer variable `coeffs`",
    );
}

#[test]
fn several_errors_are_reported_together() {
    let errors = errors_for(
        "__global__ void k(float* x, int* y) { clock(); int i = 0; y[i] = i++; }",
        &TranspileOptions::default(),
    );
    assert!(errors.len() >= 2, "{errors:#?}");
}

#[test]
fn missing_kernel_is_an_error() {
    let r = common::compile(
        "__global__ void k(float* x) {}",
        "nope",
        &TranspileOptions::default(),
    );
    assert!(r.is_err());
}

#[test]
fn cooperative_groups_thread_block() {
    let src = r#"
#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void reverse(float* x) {
    cg::thread_block cta = cg::this_thread_block();
    __shared__ float tile[256];
    unsigned int t = cta.thread_rank();
    tile[t] = x[blockIdx.x * cta.size() + t];
    cg::sync(cta);
    x[blockIdx.x * cta.size() + t] = tile[cta.size() - 1 - t];
    cta.sync();
}
"#;
    let out = common::compile(src, "reverse", &TranspileOptions::default()).expect("cg kernel");
    assert_eq!(
        out.wgsl.matches("workgroupBarrier()").count(),
        2,
        "{}",
        out.wgsl
    );
    // The block's linear thread index and size from the builtins.
    assert!(out.wgsl.contains("thread_idx.x"), "{}", out.wgsl);
    assert!(out.wgsl.contains("BLOCK_DIM_X"), "{}", out.wgsl);
    // A group passed to a device function.
    let passed = r#"
namespace cg = cooperative_groups;
__device__ void sum_into(float* s, const cg::thread_block& cta) {
    unsigned int t = cta.thread_rank();
    cg::sync(cta);
    if (t == 0) s[0] += s[1];
}
__global__ void k(float* x) {
    cg::thread_block cta = cg::this_thread_block();
    __shared__ float s[64];
    s[threadIdx.x] = x[threadIdx.x];
    sum_into(s, cta);
    x[0] = s[0];
}
"#;
    let out = common::compile(passed, "k", &TranspileOptions::default()).expect("group argument");
    assert_eq!(
        out.wgsl.matches("workgroupBarrier()").count(),
        1,
        "{}",
        out.wgsl
    );
    assert_error_at(
        "#include <cooperative_groups.h>\nnamespace cg = cooperative_groups;\n__global__ void k(float* x) { cg::thread_block b = cg::this_thread_block(); x[0] = b.group_index().x; }",
        "b.group_index()",
        "not supported yet",
    );
}

#[test]
fn members_of_by_value_parameters_can_be_assigned() {
    let src = r#"
__device__ uint4 scan4(uint4 v) {
    v.y += v.x;
    v.z += v.y;
    return v;
}
__global__ void k(uint4* x, float2 scale) {
    scale.y = scale.x * 2.0f;
    x[threadIdx.x] = scan4(x[threadIdx.x]);
    x[0].x = (unsigned int)scale.y;
}
"#;
    let out = common::compile(src, "k", &TranspileOptions::default()).expect("member assignments");
    assert!(
        out.wgsl.contains("var v: vec4<u32> = v_in;"),
        "{}",
        out.wgsl
    );
}

#[test]
fn reference_parameters_the_callee_writes_point_at_the_callers_local() {
    let src = r#"
__device__ void comparator(unsigned int& a, unsigned int& b, unsigned int dir) {
    if ((a > b) == dir) { unsigned int t = a; a = b; b = t; }
}
__device__ void vel(float d, float3& v) { v.x = d; v.y = 2.0f * d; }
__global__ void k(unsigned int* keys, float* x) {
    unsigned int a = keys[0], b = keys[1];
    comparator(a, b, 1u);
    keys[0] = a;
    keys[1] = b;
    float3 v;
    vel(x[0], v);
    x[1] = v.x + v.y;
}
"#;
    let out =
        common::compile(src, "k", &TranspileOptions::default()).expect("reference parameters");
    assert!(out.wgsl.contains("a: ptr<function, u32>"), "{}", out.wgsl);
    assert!(
        out.wgsl.contains("v: ptr<function, vec3<f32>>"),
        "{}",
        out.wgsl
    );
    assert!(out.wgsl.contains("(&a, &b, 1u)"), "{}", out.wgsl);
    // Only a local variable or an array element (tests/reference_elements.rs)
    // can be pointed at.
    assert_error_at(
        "__device__ void set(float& out, float d) { out = d; }\n__global__ void k(float* x) { float2 v = make_float2(0.0f, 0.0f); set(v.x, x[0]); x[1] = v.y; }",
        "v.x",
        "reference parameter `set` writes: pass a local variable",
    );
    // Read-only references are values.
    let ok = common::compile(
        "__device__ float sq(const float& d) { return d * d; }\n__global__ void k(float* x) { x[0] = sq(x[1]); }",
        "k",
        &TranspileOptions::default(),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

/// Generated WGSL that naga rejected (internal errors found on public
/// code): a buffer named after an address space, an 8-bit loop variable
/// whose declaration carries a comment, and a math function of a constant
/// `double` (naga's constant evaluator has none for 64-bit floats; such
/// functions of doubles are refused now, see
/// `transcendental_functions_of_doubles_are_refused`).
#[test]
fn former_internal_errors_validate_or_are_refused() {
    let all = TranspileOptions {
        enable_f64: true,
        enable_int64: true,
        ..TranspileOptions::default()
    };
    let storage = "__global__ void k(float *storage, const float *read) { storage[threadIdx.x] = read[threadIdx.x]; }";
    let out = common::compile(storage, "k", &all).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("storage_: array<f32>"), "{}", out.wgsl);
    let narrow_loop = r#"
__global__ void k(const unsigned long *data, int *r) {
    unsigned long x = data[threadIdx.x];
    char cnt = 0;
    for (char i = 0; i < 64; i++) { cnt = cnt + (x & 0x1); x = x >> 1; }
    r[threadIdx.x] = cnt;
}"#;
    common::compile(narrow_loop, "k", &all).unwrap_or_else(|d| panic!("{d:#?}"));
    let constant = "__global__ void k(double* x) { x[0] = sqrt(fabs(-1.0) * x[1]); }";
    let out = common::compile(constant, "k", &all).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("abs(c_"), "{}", out.wgsl);
}

/// `exp`, `pow`, `cos`, `atan`, `log`, … of a `double`: naga validates the
/// WGSL, but SPIR-V's GLSL.std.450 defines them for 16- and 32-bit floats
/// only, and NVIDIA's Vulkan driver crashed (segmentation fault) building
/// a kernel with them on the H100 (`bench --native`, 2026-12-05). Those
/// `f64_math.rs` does not compute in software are refused with the reason
/// (`double_math.rs` tests the others); `sqrt`, `fabs`, `floor` and `fma`
/// of doubles are fine.
#[test]
fn transcendental_functions_of_doubles_are_refused() {
    let all = TranspileOptions {
        enable_f64: true,
        ..TranspileOptions::default()
    };
    for call in ["exp2(x[0])", "sinh(x[0])", "tanh(x[0])", "exp10(x[0])"] {
        let source = format!("__global__ void k(double* x) {{ x[2] = {call}; }}");
        let errors = match common::compile(&source, "k", &all) {
            Ok(out) => panic!("{call}: expected an error, got WGSL:\n{}", out.wgsl),
            Err(d) => d,
        };
        assert!(
            errors.iter().any(|d| d.span.text(&source) == call
                && d.message.contains("of a `double`")
                && d.message.contains("GLSL.std.450")),
            "{call}: {errors:#?}"
        );
    }
    // Reached another way (`sincos` writes `sin` and `cos`): the check of
    // the validated module refuses it, at the kernel.
    let sincos =
        "__global__ void k(double* x) { double s, c; sincos(x[0], &s, &c); x[1] = s + c; }";
    let errors = common::compile(sincos, "k", &all).expect_err("sincos of a double");
    assert!(
        errors
            .iter()
            .any(|d| d.message.starts_with("`sin` of a 64-bit float in `k`")
                && !d.message.contains("internal")),
        "{errors:#?}"
    );
    let fine = "__global__ void k(double* x) { x[2] = sqrt(x[0]) + floor(x[1]) + fma(x[0], x[1], 1.0) + fabs(x[1]); }";
    common::compile(fine, "k", &all).unwrap_or_else(|d| panic!("{d:#?}"));
    // The float variants of doubles compute in float, as C converts their
    // arguments: nothing to refuse.
    let narrowed = "__global__ void k(double* x) { x[2] = expf(x[0]) + powf(x[0], 2.0) + atan2f(x[0], x[1]); }";
    let out = common::compile(narrowed, "k", &all).unwrap_or_else(|d| panic!("{d:#?}"));
    for f in ["exp(f32(", "pow(f32(", "atan2(f32("] {
        assert!(out.wgsl.contains(f), "{f}: {}", out.wgsl);
    }
    // The float versions of the same calls are untouched.
    let floats =
        "__global__ void k(float* x) { x[2] = expf(x[0]) + powf(x[0], 1.5f) + cosf((float)x[1]); }";
    common::compile(floats, "k", &TranspileOptions::default()).unwrap_or_else(|d| panic!("{d:#?}"));
}

/// A negative constant stored into a written 16-bit buffer (the packed
/// store took `u32(-1)`, which WGSL rejects for a constant).
#[test]
fn a_negative_constant_stored_into_a_packed_buffer_validates() {
    let source = "__global__ void k(short *s) { s[threadIdx.x] = -1; }";
    let out = common::compile(source, "k", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("bitcast<u32>(i32(-1))"), "{}", out.wgsl);
}

/// A runtime call in device code is refused by name; a device function of
/// the file whose name starts the same way (HeCBench's rys
/// `cuda_ij2intindex`) is called.
#[test]
fn runtime_calls_are_refused_but_device_functions_named_like_them_are_called() {
    assert_error_at(
        "__global__ void k(float* x, int* y) { int *p; cudaMalloc(&p, 4); y[0] = 1; }",
        "cudaMalloc(&p, 4)",
        "dynamic memory",
    );
    assert_error_at(
        "__global__ void k(float* x, int* y) { cudaDeviceSynchronize(); y[0] = 1; }",
        "cudaDeviceSynchronize()",
        "is a CUDA runtime API call",
    );
    // Declared here, defined in another file (separate compilation).
    assert_error_at(
        "__device__ int cuda_helper(int i);\n__global__ void k(float* x, int* y) { y[0] = cuda_helper(1); }",
        "cuda_helper(1)",
        "has no definition in this file",
    );
    let source = "__device__ int cuda_ij2intindex(int i, int j) { return i > j ? i * (i + 1) / 2 + j : j * (j + 1) / 2 + i; }\n\
__global__ void k(float* x, int* y) { y[threadIdx.x] = cuda_ij2intindex(threadIdx.x, 3); }\n";
    let out = common::compile(source, "k", &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("fn cuda_ij2intindex("), "{}", out.wgsl);
}

#[test]
fn a_body_that_does_not_parse_is_refused() {
    // The parser recovers `o[0] = 1.0f +;` as `o[0] = 1.0f`; transpiling
    // that would change what the kernel does without a word.
    for (body, at) in [("y[0] = 1 +;", "+"), ("x[0] = (;", "= (")] {
        let src = format!("__global__ void k(float* x, int* y) {{\n    {body}\n}}");
        let errors = errors_for(&src, &TranspileOptions::default());
        assert!(
            errors
                .iter()
                .any(|(text, msg)| text.starts_with(at) && msg.contains("does not parse")),
            "{body}: {errors:#?}"
        );
    }
}
