//! The naga module built directly from the lowering's trees (`build.rs`)
//! against the module naga parses from the WGSL text: for every kernel it
//! builds, naga must accept it and print it exactly as the parsed one
//! (temporaries renumbered); a kernel whose body still holds text is
//! reported as not built, never compared on a guess.

mod common;

use common::{compile, kernels_dir, suite};
use cudalens_wgsl::emit::Structure;
use cudalens_wgsl::{TranspileOptions, transpile_all};

fn options() -> TranspileOptions {
    TranspileOptions {
        subgroups: true,
        ..TranspileOptions::default()
    }
}

fn structure(source: &str, kernel: &str) -> Structure {
    compile(source, kernel, &options())
        .unwrap_or_else(|d| panic!("{kernel}: {d:#?}"))
        .structure
}

#[track_caller]
fn assert_built_same(source: &str, kernel: &str) {
    let s = structure(source, kernel);
    assert_eq!(
        (s.built_same, s.built_differs, s.built_invalid, s.not_built),
        (1, 0, 0, 0),
        "{kernel}: {s:?}"
    );
}

#[test]
fn suite_kernels_built_directly_print_as_their_text() {
    let mut built = Vec::new();
    for (stem, source) in suite() {
        let model = common::model_of(&source);
        let mut opts = options();
        opts.source_name = Some(format!("{stem}.cu"));
        for (kernel, out) in transpile_all(&model, &source, &opts) {
            let Ok(out) = out else { continue };
            let s = out.structure;
            assert_eq!(
                (s.built_differs, s.built_invalid),
                (0, 0),
                "{stem}::{kernel}: built, but not the module its text gives"
            );
            assert_eq!(s.built_same + s.not_built, 1, "{stem}::{kernel}: {s:?}");
            if s.built_same == 1 {
                built.push(format!("{stem}::{kernel}"));
            }
        }
    }
    // The tiled matmul, the shared-memory reductions and the stencil use
    // barriers, shared arrays, loops and device functions: all built.
    for k in [
        "matmul_tiled::matmul_tiled",
        "reduce_interleaved_bank::reduce_interleaved_bank",
        "stencil2d::stencil2d",
        "transpose_shared::transpose_shared",
        "histogram::histogram",
    ] {
        assert!(built.contains(&k.to_string()), "{k} not built: {built:?}");
    }
    assert!(kernels_dir().exists());
}

#[test]
fn short_circuit_conditions_and_loop_locals() {
    // `&&` short-circuits in WGSL (naga lowers it to a local and an `if`);
    // a `var` declared in a loop is zeroed or set at every iteration.
    let src = r#"
__global__ void k(const float* a, float* out, int n, int m) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n && a[i] > 0.0f) {
        for (int j = 0; j < m; j++) {
            float acc = 0.0f;
            int step = 2;
            while (step < m || j == 0) { acc += a[i] * step; step *= 2; if (step > 64) break; }
            out[i] += acc;
        }
    }
}
"#;
    assert_built_same(src, "k");
}

#[test]
fn device_functions_switch_and_shared_memory() {
    let src = r#"
__device__ float twice(float x) { return 2.0f * x; }
__device__ void bump(float* p, int i) { p[i] += 1.0f; }

__global__ void k(float* out, const int* sel, int n) {
    __shared__ float tile[64];
    int t = threadIdx.x;
    tile[t] = 0.0f;
    __syncthreads();
    switch (sel[t]) {
        case 0: tile[t] = twice(1.5f); break;
        case 1: case 2: tile[t] = 3.0f; break;
        default: tile[t] = -1.0f;
    }
    __syncthreads();
    if (t < n) { out[t] = tile[63 - t]; bump(out, t); }
}
"#;
    assert_built_same(src, "k");
}

#[test]
fn warp_shuffles_and_atomics() {
    let src = r#"
__global__ void k(const float* in, float* out, unsigned* count) {
    float v = in[threadIdx.x];
    for (int d = 16; d > 0; d >>= 1) v += __shfl_xor_sync(0xffffffff, v, d);
    if ((threadIdx.x & 31) == 0) { out[threadIdx.x / 32] = v; atomicAdd(count, 1u); }
}
"#;
    assert_built_same(src, "k");
}

#[test]
fn compare_exchange_loops() {
    // Float atomics, `atomicCAS` and `atomicInc` are compare-exchange
    // loops on the bits: `atomicCompareExchangeWeak`'s result struct.
    let src = r#"
__global__ void k(float* sum, int* lock, unsigned* ticket, const float* in) {
    int i = threadIdx.x;
    atomicAdd(&sum[i % 4], in[i]);
    float old = atomicExch(&sum[4], in[i]);
    while (atomicCAS(lock, 0, 1) != 0) {}
    atomicExch(lock, 0);
    unsigned t = atomicInc(ticket, 100u);
    sum[5 + i] = old + t;
}
"#;
    assert_built_same(src, "k");
}

#[test]
fn packed_bytes_and_abstract_numbers() {
    // 8- and 16-bit buffers are packed in 32-bit words: `extractBits`
    // reads, `atomicAnd`/`atomicOr` writes, shifts and masks whose
    // unsuffixed literals are WGSL's abstract numbers, converted and
    // folded as naga's front end converts and folds them.
    let src = r#"
__global__ void k(unsigned char* img, short* s, const unsigned char* in, bool* flag) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    img[i] = in[i] > 128 ? 255 : in[i] + 1;
    s[i] = (short)(img[i] - 300);
    s[2 * 3 + i] = -1;
    flag[i] = true;
}
"#;
    assert_built_same(src, "k");
}

#[test]
fn local_constants_narrow_locals_and_shadowed_builtins() {
    // A local `const` folds where it is used; a `char` local carries its
    // note (`// 8-bit signed`); a device function named like a WGSL
    // builtin (`normalize`) is the one called, as naga resolves it.
    let src = r#"
__device__ float3 normalize(float3 v) {
    float l = sqrtf(v.x * v.x + v.y * v.y + v.z * v.z);
    return make_float3(v.x / l, v.y / l, v.z / l);
}
__global__ void k(float* o) {
    const float s = 0.5f;
    float3 d = normalize(make_float3(1.0f, 2.0f, 3.0f));
    char c = 3;
    short t = c * 2;
    o[threadIdx.x] = s * cosf(0.5f) + d.x + t;
}
"#;
    assert_built_same(src, "k");
}

#[test]
fn texture_sampling_and_block_reduce() {
    let src = r#"
#include <cub/cub.cuh>
__global__ void sample(cudaTextureObject_t tex, float* out) {
    int x = threadIdx.x;
    out[x] = tex2D<float>(tex, x + 0.5f, 0.5f);
}
__global__ void reduce(const int* in, int* out) {
    typedef cub::BlockReduce<int, 128> R;
    __shared__ typename R::TempStorage t;
    int s = R(t).Sum(in[threadIdx.x]);
    if (threadIdx.x == 0) out[blockIdx.x] = s;
}
"#;
    assert_built_same(src, "sample");
    assert_built_same(src, "reduce");
}

#[test]
fn constructed_objects_and_elements_passed_by_reference() {
    // A class constructed into a temporary (`var object_1: Complex;` and
    // its constructor called on it), an array element passed by reference
    // (`bump(s[t])`: the array and the index), a struct-returning call
    // stored in a `var` of that struct (its named type, not a copy).
    let src = r#"
struct Complex {
    float re, im;
    __device__ Complex(float r, float i) : re(r), im(i) {}
};
__device__ Complex mul(Complex a, Complex b) {
    return Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}
__device__ void bump(float& x) { x += 1.0f; }
__global__ void k(float* o) {
    __shared__ float s[64];
    int t = threadIdx.x;
    s[t] = 0.0f;
    bump(s[t]);
    Complex c = mul(Complex(o[t], 1.0f), Complex(2.0f, o[t]));
    o[t] = c.re + s[t];
}
"#;
    let out = compile(src, "k", &options()).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains(": Complex;"), "{}", out.wgsl);
    assert_built_same(src, "k");
}

#[test]
fn initializer_lists() {
    // Braced initializers of a struct, an array and a vector: composites
    // whose components are converted as naga's front end converts them
    // (a missing member zeroed, `dim3`'s missing extents 1).
    let src = r#"
struct P { float x; int n; float w; };
__global__ void k(float* o, int m) {
    P p = {o[0], m};
    float a[4] = {1.0f, 2.0f, o[1]};
    float2 v = {o[2], 3.0f};
    dim3 d(m);
    o[threadIdx.x] = p.x + p.n + p.w + a[threadIdx.x & 3] + v.y + d.y;
}
"#;
    assert_built_same(src, "k");
}

#[test]
fn frexp_as_bits() {
    // `frexpf` as C defines it at subnormals, zeros, infinities and NaN:
    // the float's bits taken apart (`||` short-circuits there too). The
    // exponent goes to a local, or to a buffer (which its pointer argument
    // writes: the buffer is bound read-write).
    let src = "__global__ void k(float* o, int* e) { int t = threadIdx.x; int ex; float f = frexpf(o[t], &ex); o[t] = f + ex + frexpf(f, &e[t]); }";
    assert_built_same(src, "k");
}

#[test]
fn a_value_read_and_dropped() {
    // `_ = o[i];`: naga's front end names the dropped value `phony`.
    let src = "__global__ void k(float* o) { o[threadIdx.x]; o[0] = 1.0f; }";
    assert_built_same(src, "k");
}

#[test]
fn segmented_shuffles_and_unrolled_loops() {
    // Shuffles within segments of 16 lanes; `__syncthreads_count`'s
    // counter; a loop unrolled by 4 (its guarded main loop and the rest).
    let src = r#"
__global__ void k(const float* in, float* out, int n) {
    float v = in[threadIdx.x];
    float s = __shfl_down_sync(0xffffffff, v, 1, 16) + __shfl_xor_sync(0xffffffff, v, 2, 16)
        + __shfl_up_sync(0xffffffff, v, 1, 16) + __shfl_sync(0xffffffff, v, 3, 16);
    int c = __syncthreads_count(v > 0.0f) + __syncthreads_and(v > 1.0f);
    #pragma unroll 4
    for (int i = 0; i < n; i++) { s += in[i]; }
    out[threadIdx.x] = s + c;
}
"#;
    assert_built_same(src, "k");
}

#[test]
fn the_module_shipped_is_the_one_built() {
    // The output's module is the built one (not a parse of the text): its
    // expressions are in the builder's order, so it differs from the
    // parsed module's arenas while printing the same.
    let src = "__global__ void k(float* o, int n) { int i = blockIdx.x * blockDim.x + threadIdx.x; if (i < n) o[i] = 2.0f * o[i]; }";
    let out = compile(src, "k", &options()).unwrap();
    assert_eq!(out.structure.built_same, 1);
    let parsed = naga::front::wgsl::parse_str(&out.wgsl).unwrap();
    let print = |m: &naga::Module| {
        let info = cudalens_wgsl::validate::validator_for_everything()
            .validate(m)
            .unwrap();
        let text = naga::back::wgsl::write_string(m, &info, naga::back::wgsl::WriterFlags::empty());
        cudalens_wgsl::build::renumbered(&text.unwrap())
    };
    assert_eq!(print(&out.module.0), print(&parsed));
    assert_ne!(format!("{:?}", out.module.0), format!("{parsed:?}"));

    // So is the clamp-counting variant's (its trees rewritten, then built).
    let variant = cudalens_wgsl::clamp_counting_variant(&out).unwrap();
    assert!(
        variant
            .wgsl
            .contains("o[cudalens_clamp_o(u32(i))] = 2.0f * o[cudalens_clamp_o(u32(i))];")
    );
    let parsed = naga::front::wgsl::parse_str(&variant.wgsl).unwrap();
    assert_eq!(print(&variant.module.0), print(&parsed));
    assert_ne!(format!("{:?}", variant.module.0), format!("{parsed:?}"));
}

#[test]
fn the_counting_variant_of_a_packed_byte_table() {
    // A `__constant__` byte table is bound with a note on its bytes after
    // its declaration: the counting clamp still takes its fixed length
    // (HeCBench popcount's `pc5` had its clamps "not counted").
    let src = "__constant__ unsigned char lut[256] = {1, 2, 3};\n__global__ void k(int* o) { o[threadIdx.x] = lut[threadIdx.x]; }";
    let out = compile(src, "k", &options()).unwrap();
    assert!(
        out.wgsl.contains("lut: array<i32, 256>; //"),
        "{}",
        out.wgsl
    );
    let variant = cudalens_wgsl::clamp_counting_variant(&out).unwrap();
    assert!(variant.wgsl.contains("let n = 256u;"), "{}", variant.wgsl);
}

#[test]
fn every_kind_of_declaration_is_built() {
    // Since stop 47 the declarations are built too (`decl.rs`,
    // `build/declarations.rs`), not parsed: a struct holding a struct whose
    // name sorts after it (declared first, as the front end orders by use;
    // HeCBench black-scholes' `blackScholesMertStruct` had failed), an
    // initialised `__constant__` struct (a WGSL `const`), a `__device__`
    // array (a binding), an `extern __shared__` array (sized by an
    // override), a `__shared__` tile, a NULL-compared pointer (a `bool`
    // override), the builtins' private variables and a helper function
    // written as WGSL (the prelude).
    let src = r#"
struct Yield { float rate; int days; };
struct Alpha { Yield y; float s; };
struct pixel { int r; int g; };
__constant__ pixel BORDER = {1, 2};
__device__ float table[4] = {1.0f, 2.0f, 3.0f, 4.0f};
__global__ void k(const Alpha* a, float* out, const float* maybe, int n) {
    extern __shared__ float dyn[];
    __shared__ float tile[64];
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    tile[threadIdx.x % 64] = a[i % n].y.rate * a[i % n].s;
    dyn[threadIdx.x] = table[i % 4] + (float)BORDER.g;
    __syncthreads();
    float extra = maybe == NULL ? 0.0f : maybe[i];
    if (i < n) out[i] = roundf(tile[threadIdx.x % 64] + dyn[threadIdx.x]) + extra;
}
"#;
    let out = compile(src, "k", &options()).unwrap_or_else(|d| panic!("{d:#?}"));
    for declared in [
        "struct Alpha {",
        "struct Yield {",
        "const BORDER: pixel = pixel(1, 2);",
        "var<storage, read> table: array<f32, 4>;",
        "var<workgroup> dyn: array<f32, DYNAMIC_SHARED_ELEMENTS>;",
        "var<workgroup> tile: array<f32, 64>;",
        ": bool = false;",
        "var<private> thread_idx: vec3<u32>;",
        "fn cuda_roundf(",
    ] {
        assert!(out.wgsl.contains(declared), "{declared}:\n{}", out.wgsl);
    }
    assert_built_same(src, "k");
}

#[test]
fn the_counting_variant_of_a_kernel_with_helpers_is_built() {
    // The counting clamps (locals `i`, `n`) go after the helpers written
    // as WGSL (`cuda_exp_f64` has a local `n`), where the builder declares
    // them: placed before the helpers in the text, naga named the locals
    // of the text's module otherwise, and 39 of the suites' 1,960 variants
    // (Rodinia particlefilter's `likelihood_kernel`…) fell back to the
    // parsed module.
    let src =
        "__global__ void k(const double* a, double* o) { int i = threadIdx.x; o[i] = exp(a[i]); }";
    let opts = TranspileOptions {
        enable_f64: true,
        ..options()
    };
    let out = compile(src, "k", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("fn cuda_exp_f64("), "{}", out.wgsl);
    let variant = cudalens_wgsl::clamp_counting_variant(&out).unwrap();
    let parsed = naga::front::wgsl::parse_str(&variant.wgsl).unwrap();
    assert!(
        format!("{:?}", variant.module.0) != format!("{parsed:?}"),
        "the variant's module is the parsed one"
    );
}
