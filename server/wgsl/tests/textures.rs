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
            "__device__ float at(cudaTextureObject_t t, float x) { return tex2D<float>(t, x, 0.5f); }\n__global__ void k(float *o, cudaTextureObject_t t) { o[0] = at(t, 1.0f); }",
            "texture object `t` is passed to a function or copied",
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
            "__global__ void k(float *o, cudaTextureObject_t t) { o[0] = tex1D<float>(t, 0.5f); }",
            "`tex1D` is not supported",
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
