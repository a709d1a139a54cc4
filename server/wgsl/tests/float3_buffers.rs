//! `float3*` kernel parameters: C lays their elements out every 12 bytes,
//! WGSL's `array<vec3<f32>>` every 16, so the buffer is bound as its
//! scalars (`array<f32>`) and each element is read and written as its
//! three lanes, in the kernel and in the device functions it passes the
//! buffer to (our own kernel; snapshot, the refusal of atomics, and a run
//! on a real adapter, lavapipe here, against a Rust reference on the
//! buffers' C bytes).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const NORMALIZE: &str = r#"
__device__ float length2(const float3 *v, int i) {
    return v[i].x * v[i].x + v[i].y * v[i].y + v[i].z * v[i].z;
}
__global__ void normalize3(const float3 *in, float3 *out, float *len, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float3 p = in[i];
    float l = sqrtf(length2(in, i));
    len[i] = l;
    out[i] = make_float3(p.x / l, p.y / l, p.z / l);
    out[i].z += 1.0f;
}
"#;

fn compile() -> cudalens_wgsl::TranspileOutput {
    common::compile_as("normalize3.cu", NORMALIZE, "normalize3").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn float3_buffers_are_bound_as_their_scalars() {
    let out = compile();
    let module = &out.wgsl[out.wgsl.find("@group(0) @binding(0)").expect("bindings")..];
    insta::assert_snapshot!("normalize3_module", module);
    let elements: Vec<_> = out
        .sidecar
        .bindings
        .iter()
        .filter_map(|b| b.element.as_deref())
        .collect();
    assert_eq!(elements, ["f32", "f32", "f32"]);
}

#[test]
fn atomics_on_float3_buffers_are_refused() {
    let source = NORMALIZE.replace(
        "len[i] = l;",
        "len[i] = l;\n    atomicAdd(&out[0].x, 1.0f);",
    );
    let err = common::compile_as("normalize3.cu", &source, "normalize3").expect_err("refused");
    assert!(
        err.contains("atomic operations on buffers of 3-component vectors are not supported"),
        "{err}"
    );
}

#[test]
fn the_normalization_matches_a_reference_on_the_adapter() {
    let out = compile();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 90usize;
    // C's layout: x, y, z of each element, 12 bytes apart.
    let input: Vec<f32> = (0..3 * n)
        .map(|k| (k as f32 * 0.37).sin() * 4.0 + 0.5)
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(n as f64))
        .with_buffer(
            "in",
            BufferSpec::bytes((3 * n) as u64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros((3 * n) as u64))
        .with_buffer("len", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let bytes = |name: &str| {
        result
            .outputs
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no output {name}"))
            .bytes
            .clone()
    };
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes("out"));
    let len: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes("len"));
    for i in 0..n {
        let p = &input[3 * i..3 * i + 3];
        let l = (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]).sqrt();
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
        assert!(close(len[i], l), "len[{i}]: {} vs {l}", len[i]);
        let want = [p[0] / l, p[1] / l, p[2] / l + 1.0];
        for c in 0..3 {
            assert!(
                close(got[3 * i + c], want[c]),
                "out[{i}].{c}: {} vs {}",
                got[3 * i + c],
                want[c]
            );
        }
    }
}
