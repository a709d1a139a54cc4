//! Texture objects and `printf`: the generated WGSL and sidecar
//! (snapshots), refusals with their reason, and a `tex1Dfetch` kernel run
//! on a real adapter (lavapipe here) checked against a Rust reference.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::BindingKind;

/// A gather through a texture object bound to linear memory, and a 2-D
/// resampling through a sampled texture object (our own kernels).
const TEXTURES: &str = r#"
texture<int, 1, cudaReadModeElementType> t_keys;

__global__ void keyed(float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = tex1Dfetch(t_keys, i) + 0.5f;
}

__global__ void gather(cudaTextureObject_t values, const int *index, float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = 2.0f * tex1Dfetch<float>(values, index[i]) + 1.0f;
}

__global__ void resample(float4 *out, cudaTextureObject_t image, int w, int h, float scale) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h) {
        float4 c = tex2D<float4>(image, (x + 0.5f) * scale, (y + 0.5f) * scale);
        float a = tex2D<float>(image, x + 0.5f, y + 0.5f);
        out[y * w + x] = make_float4(c.x, c.y, c.z, a);
    }
}

__global__ void volume(float *out, cudaTextureObject_t vol, cudaTextureObject_t layers, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = tex3D<float>(vol, i, 0.5f, 0.5f) + tex2DLayered<float>(layers, i, 0.5f, 1);
}

__global__ void traced(float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i == 0) printf("n = %d, block %d\n", n, blockIdx.x);
    if (i < n) out[i] = i;
}
"#;

/// Texture objects the kernel passes to its device functions (our own
/// kernels): a sampled one read through a template element type, a 1-D
/// one read with `tex1D` through a typedef of `float2`, and a fetched one,
/// with a default argument.
const THROUGH_FUNCTIONS: &str = r#"
typedef float2 cplx;

template <class T, class R>
__device__ R smooth(const cudaTextureObject_t tex, float x, float y) {
    return 0.25f * (tex2D<R>(tex, x - 0.5f, y) + tex2D<R>(tex, x + 0.5f, y))
         + 0.5f * tex2D<R>(tex, x, y);
}

__device__ float4 pixel(int x, int y, cudaTextureObject_t img) {
    return tex2D<float4>(img, x, y);
}

__global__ void blur(float *out, int w, int h, cudaTextureObject_t img) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x < w && y < h)
        out[y * w + x] = smooth<unsigned char, float>(img, x + 0.5f, y + 0.5f) + pixel(x, y, img).w;
}

__device__ cplx lookup(cudaTextureObject_t ramp, float s) { return tex1D<cplx>(ramp, s); }

__global__ void colour(cplx *out, const float *s, int n, cudaTextureObject_t ramp) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = lookup(ramp, s[i]);
}

__device__ float weighted(cudaTextureObject_t t, int i, float w = 0.5f, int skip = 2 * 3) {
    return w * tex1Dfetch<float>(t, i) + tex1Dfetch<float>(t, i + skip);
}

__global__ void pairs(float *out, int n, cudaTextureObject_t values) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = weighted(values, i) + weighted(values, i, 2.0f);
}
"#;

fn compile(source: &str, kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    common::compile_as("textures.cu", source, kernel)
}

#[test]
fn a_fetched_texture_object_is_a_read_only_buffer() {
    let out = compile(TEXTURES, "gather").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("gather_wgsl", out.wgsl);
    let b = &out.sidecar.bindings[0];
    assert_eq!(
        (b.name.as_str(), b.kind, b.element.as_deref(), b.param_index),
        ("values", BindingKind::StorageRead, Some("f32"), Some(0))
    );
}

#[test]
fn a_texture_reference_read_with_tex1dfetch_is_a_read_only_buffer() {
    let out = compile(TEXTURES, "keyed").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("var<storage, read> t_keys: array<i32>; // texture reference `t_keys`"),
        "{}",
        out.wgsl
    );
    assert!(out.wgsl.contains("f32(t_keys[i]) + 0.5f"), "{}", out.wgsl);
    let b = out
        .sidecar
        .bindings
        .iter()
        .find(|b| b.name == "t_keys")
        .expect("t_keys");
    assert_eq!(
        (b.kind, b.param_index, b.length),
        (BindingKind::StorageRead, None, None)
    );
}

#[test]
fn a_sampled_texture_object_is_a_texture_and_a_sampler() {
    let out = compile(TEXTURES, "resample").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("resample_wgsl", out.wgsl);
    insta::assert_snapshot!("resample_sidecar", out.sidecar.to_json());
    let out = compile(TEXTURES, "volume").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("var vol: texture_3d<f32>;"),
        "{}",
        out.wgsl
    );
    assert!(
        out.wgsl.contains("var layers: texture_2d_array<f32>;"),
        "{}",
        out.wgsl
    );
}

#[test]
fn the_runner_refuses_textures_it_cannot_fill() {
    let out = compile(TEXTURES, "resample").unwrap_or_else(|e| panic!("{e}"));
    let err = KernelInterface::from_json(&out.sidecar.to_json()).expect_err("textures");
    assert!(err.to_string().contains("texture"), "{err}");
}

#[test]
fn printf_is_left_out_with_a_warning() {
    let out = compile(TEXTURES, "traced").unwrap_or_else(|e| panic!("{e}"));
    assert!(!out.wgsl.contains("printf"), "{}", out.wgsl);
    assert!(
        out.warnings
            .iter()
            .any(|d| !d.is_error() && d.message.contains("`printf` left out")),
        "{:?}",
        out.warnings
    );
    let body = &out.wgsl[out.wgsl.find("@compute").expect("entry point")..];
    insta::assert_snapshot!("traced_body", body);
}

#[test]
fn what_wgsl_textures_cannot_do_is_refused_with_the_reason() {
    let cases = [
        (
            "__global__ void k(float *o, cudaTextureObject_t t) { cudaTextureObject_t u = t; o[0] = tex2D<float>(u, 0.5f, 0.5f); }",
            "texture object `t` is copied or passed where no texture object is expected",
        ),
        (
            "__device__ float at(cudaTextureObject_t t, float x) { return tex2D<int>(t, x, 0.5f); }\n__global__ void k(float *o, cudaTextureObject_t t) { o[0] = at(t, 1.0f); }",
            "reads of `int` elements are not supported",
        ),
        (
            "__device__ float at(cudaTextureObject_t t, float x) { return tex2D<float>(t, x, 0.5f); }\n__global__ void k(float *o, cudaTextureObject_t t) { o[0] = at(t, 1.0f) + tex3D<float>(t, 0.5f, 0.5f, 0.5f); }",
            "read in two ways",
        ),
        (
            "__global__ void k(int *o, cudaTextureObject_t t) { o[0] = tex2D<int>(t, 0.5f, 0.5f); }",
            "reads of `int` elements are not supported",
        ),
        (
            "__global__ void k(float *o, cudaTextureObject_t t) { o[0] = tex2D<float>(t, 0.5f, 0.5f) + tex1Dfetch<float>(t, 0); }",
            "read in two ways",
        ),
        (
            "__global__ void k(float *o, cudaTextureObject_t t) { o[0] = tex2D<float>(t, 0.5f, 0.5f) + tex3D<float>(t, 0.5f, 0.5f, 0.5f); }",
            "read in two ways",
        ),
        (
            "texture<float, 2, cudaReadModeElementType> t_img;\n__global__ void k(float *o) { o[0] = tex2D(t_img, 0.5f, 0.5f); }",
            "texture reference `t_img` (`texture<float, 2, cudaReadModeElementType>`): `tex2D` is not supported",
        ),
        (
            "__global__ void k(float *o, cudaTextureObject_t t) { o[0] = tex1Dfetch<float>(t, 0); }\nvoid make(cudaTextureDesc *d) { d->readMode = cudaReadModeNormalizedFloat; }",
            "creates a texture with `cudaReadModeNormalizedFloat`",
        ),
        (
            "__global__ void k(float *o, cudaTextureObject_t t) { o[0] = tex2DLod<float>(t, 0.5f, 0.5f, 1.0f); }",
            "`tex2DLod` is not supported",
        ),
        (
            "__device__ float shade(float x, float w = x) { return x * w; }\n__global__ void k(float *o, float a) { o[0] = shade(a); }",
            "the default argument of `w` is not a constant expression",
        ),
        (
            "__global__ void k(int *o, int n) { o[0] = printf(\"%d\", n); }",
            "its result is used",
        ),
        (
            "__global__ void k(int *o, int n) { printf(\"%d\", n++); o[0] = n; }",
            "side effect",
        ),
    ];
    for (source, want) in cases {
        let err = compile(source, "k").expect_err(source);
        assert!(err.contains(want), "{source}:\n{err}");
    }
}

#[test]
fn the_gather_matches_a_reference_on_the_adapter() {
    let out = compile(TEXTURES, "gather").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 128usize;
    let values: Vec<f32> = (0..n).map(|i| (i as f32) * 0.5 - 7.0).collect();
    let index: Vec<i32> = (0..n).map(|i| ((i * 29 + 3) % n) as i32).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(n as f64))
        .with_buffer(
            "values",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&values).to_vec()),
        )
        .with_buffer(
            "index",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&index).to_vec()),
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
    for i in 0..n {
        let want = 2.0 * values[index[i] as usize] + 1.0;
        assert_eq!(got[i], want, "out[{i}]");
    }
}

#[test]
fn a_texture_object_passed_to_device_functions_is_read_there() {
    let out = compile(THROUGH_FUNCTIONS, "blur").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("blur_wgsl", out.wgsl);
    let kinds: Vec<_> = out
        .sidecar
        .bindings
        .iter()
        .map(|b| (b.name.as_str(), b.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("out", BindingKind::StorageReadWrite),
            ("img", BindingKind::Texture),
            ("img_sampler", BindingKind::Sampler),
            ("params", BindingKind::Uniform),
        ]
    );
}

#[test]
fn a_tex1d_texture_is_a_2d_texture_of_height_one() {
    let out = compile(THROUGH_FUNCTIONS, "colour").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("colour_wgsl", out.wgsl);
    let b = out
        .sidecar
        .bindings
        .iter()
        .find(|b| b.name == "ramp")
        .expect("ramp");
    assert_eq!(
        (b.kind, b.element.as_deref()),
        (BindingKind::Texture, Some("texture_2d<f32>"))
    );
}

/// `weighted(values, i) + weighted(values, i, 2.0f)` with `w = 0.5f` and
/// `skip = 6` by default, through a fetched texture passed to the device
/// function, on the adapter against a Rust reference.
#[test]
fn a_fetched_texture_and_default_arguments_match_a_reference_on_the_adapter() {
    let out = compile(THROUGH_FUNCTIONS, "pairs").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("weighted_values("), "{}", out.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 100usize;
    let values: Vec<f32> = (0..n + 6).map(|i| (i as f32) * 0.25 - 3.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(1, ParamValue::Scalar(n as f64))
        .with_buffer(
            "values",
            BufferSpec::bytes(values.len() as u64, bytemuck::cast_slice(&values).to_vec()),
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
    for i in 0..n {
        let want = (0.5 * values[i] + values[i + 6]) + (2.0 * values[i] + values[i + 6]);
        assert_eq!(got[i], want, "out[{i}]");
    }
}
