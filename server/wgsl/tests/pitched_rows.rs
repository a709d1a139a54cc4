//! Rows of a pitched allocation addressed through a byte pointer
//! (`(float2 *)((char *)v + y * pitch) + x`): the generated WGSL
//! (snapshot), refusals with their reason, and a run on a real adapter
//! (lavapipe here) against a Rust reference.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

/// Adds a force to the velocities of a pitched 2-D field (our own kernel).
const FIELD: &str = r#"
__global__ void push(float2 *v, int w, int h, int pitch, float fx) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    int y = blockIdx.y * blockDim.y + threadIdx.y;
    if (x >= w || y >= h) return;
    float2 *cell = (float2 *)((char *)v + y * pitch) + x;
    float2 t = *cell;
    t.x += fx * x;
    t.y -= fx;
    *cell = t;
}

__global__ void push64(float2 *v, int w, size_t pitch) {
    int x = threadIdx.x;
    float2 *row = reinterpret_cast<float2 *>(reinterpret_cast<char *>(v) + blockIdx.x * pitch);
    row[x].y = 1.0f;
}
"#;

fn compile(
    source: &str,
    kernel: &str,
    int64: bool,
) -> Result<cudalens_wgsl::TranspileOutput, String> {
    let opts = TranspileOptions {
        source_name: Some("field.cu".into()),
        enable_int64: int64,
        ..TranspileOptions::default()
    };
    common::compile(source, kernel, &opts).map_err(|d| {
        d.iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn a_byte_offset_is_an_element_offset() {
    let out = compile(FIELD, "push", false).unwrap_or_else(|e| panic!("{e}"));
    let body = &out.wgsl[out.wgsl.find("let fx: f32").expect("body")..];
    insta::assert_snapshot!("push_body", body);
    // A 64-bit pitch is divided before the index is narrowed.
    let out = compile(FIELD, "push64", true).unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("/ 8lu)"), "{}", out.wgsl);
}

#[test]
fn offsets_that_cannot_be_elements_are_refused() {
    let cases = [
        (
            "__global__ void k(float *v) { float2 *p = (float2 *)((char *)v + 8); p[0].x = 1.0f; }",
            "pointer cast from `f32` elements, moved by a byte offset, to `vec2<f32>` elements",
        ),
        (
            "__global__ void k(float *v) { float *p = (float *)((char *)v + 6); p[0] = 1.0f; }",
            "a byte offset of 6 is not a multiple of the 4-byte element",
        ),
    ];
    for (source, want) in cases {
        let err = compile(source, "k", false).expect_err(source);
        assert!(err.contains(want), "{source}:\n{err}");
    }
}

#[test]
fn the_field_matches_a_reference_on_the_adapter() {
    let out = compile(FIELD, "push", false).unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let (w, h, pitch_elems) = (20usize, 6usize, 32usize);
    let field: Vec<[f32; 2]> = (0..h * pitch_elems)
        .map(|i| [i as f32 * 0.5, 100.0 - i as f32])
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 2, 1], [16, 4, 1])
        .with_iterations(0, 1)
        .with_arg(1, ParamValue::Scalar(w as f64))
        .with_arg(2, ParamValue::Scalar(h as f64))
        .with_arg(3, ParamValue::Scalar((pitch_elems * 8) as f64))
        .with_arg(4, ParamValue::Scalar(0.25))
        .with_buffer(
            "v",
            BufferSpec::bytes(field.len() as u64, bytemuck::cast_slice(&field).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let got: Vec<[f32; 2]> = bytemuck::pod_collect_to_vec(
        &result
            .outputs
            .iter()
            .find(|o| o.name == "v")
            .expect("v")
            .bytes,
    );
    for y in 0..h {
        for x in 0..pitch_elems {
            let i = y * pitch_elems + x;
            let want = if x < w {
                [field[i][0] + 0.25 * x as f32, field[i][1] - 0.25]
            } else {
                field[i]
            };
            assert_eq!(got[i], want, "({x}, {y})");
        }
    }
}
