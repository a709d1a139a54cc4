//! Multidimensional array parameters (`float preact[6][24][24]` in
//! HeCBench's mnist, `double phi[][Y][Z]` passed on to device functions in
//! ace and che): C adjusts each to a pointer to its inner rows, so the
//! buffer is the flat elements and `w[i][j][k]` is element
//! `(i × 5 + j) × 5 + k`. The generated indexing (snapshot), refusals, and
//! a run on a real adapter (lavapipe here) against Rust.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface};

/// A 5×5 convolution in mnist's shape (weights of 6 maps, one row handed
/// to a device function), and a 3-D stencil whose grids go to a device
/// function whole.
const SOURCE: &str = r#"
#define Y 4
#define Z 8
__device__ float row_sum(const float *row, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += row[i];
    return s;
}
__global__ void conv(float input[12][12], float preact[6][8][8], float weight[6][5][5]) {
    int m = blockIdx.x, i = threadIdx.y, j = threadIdx.x;
    float acc = 0.0f;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            acc += weight[m][a][b] * input[i + a][j + b];
    preact[m][i][j] = acc + row_sum(input[i], 12);
}

__device__ double dz(double phi[][Y][Z], int x, int y, int z) {
    return phi[x][y][z + 1] - phi[x][y][z];
}
__global__ void grad(double out[][Y][Z], double phi[][Y][Z]) {
    int x = blockIdx.x, y = threadIdx.y, z = threadIdx.x;
    if (z + 1 < Z) out[x][y][z] = dz(phi, x, y, z);
}
"#;

fn compile(kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f64: true,
        ..Default::default()
    };
    common::compile(SOURCE, kernel, &opts).map_err(|e| format!("{e:?}"))
}

fn body(wgsl: &str) -> String {
    let from = wgsl.find("    let m: i32").expect("body");
    wgsl[from..].to_string()
}

#[test]
fn indices_of_array_parameters_step_by_their_rows() {
    let out = compile("conv").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("conv_body", body(&out.wgsl));
    // The buffers are the flat elements, as the host allocates them.
    for binding in [
        "input: array<f32>",
        "preact: array<f32>",
        "weight: array<f32>",
    ] {
        assert!(out.wgsl.contains(binding), "{binding}: {}", out.wgsl);
    }
    let out = compile("grad").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("return phi[x * 32 + y * 8 + (z + 1)] - phi[x * 32 + y * 8 + z];"),
        "{}",
        out.wgsl
    );
}

/// `w[1][2]` is still a row (`float[5]`): `*w[1][2]` is its first
/// element, 1 × 25 + 2 × 5 (the constants fold).
#[test]
fn dereferenced_rows_reach_their_first_element() {
    let source = r#"
__global__ void k(float w[4][5][5], float *o) {
    o[0] = *w[1][2] + w[3][4][4];
    o[1] = ***(w + 2);
}
"#;
    let out = common::compile(source, "k", &Default::default()).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(out.wgsl.contains("o[0] = w[35] + w[99];"), "{}", out.wgsl);
    assert!(out.wgsl.contains("o[1] = w[50];"), "{}", out.wgsl);
}

/// A moved array parameter, and rows of another shape than the callee's
/// (which nvcc rejects as well), are refused with the reason.
#[test]
fn moved_array_parameters_and_rows_of_another_shape_are_refused() {
    let source = r#"
__device__ float first(float r[][3]) { return r[0][0]; }
__global__ void k(float w[4][5][5], float *o) { o[1] = first(w[1]); }
__global__ void moved(float w[][5]) { w += 5; w[0][0] = 1.0f; }
"#;
    let err = common::compile(source, "k", &Default::default()).expect_err("refused");
    let text = format!("{err:?}");
    assert!(
        text.contains("parameter `r` points at rows of [3] elements, its argument at [5]"),
        "{text}"
    );
    let err = common::compile(source, "moved", &Default::default()).expect_err("refused");
    assert!(
        format!("{err:?}").contains("an array parameter that the kernel moves is not supported"),
        "{err:?}"
    );
}

#[test]
fn convolution_over_array_parameters_matches_rust_on_the_adapter() {
    let out = compile("conv").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<f32> = (0..144).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
    let weight: Vec<f32> = (0..150).map(|i| ((i * 3) % 5) as f32 * 0.25).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bytes = |v: &[f32]| BufferSpec::bytes(v.len() as u64, bytemuck::cast_slice(v).to_vec());
    let bench = Benchmark::new(out.wgsl.clone(), iface, [6, 1, 1], [8, 8, 1])
        .with_iterations(0, 1)
        .with_buffer("input", bytes(&input))
        .with_buffer("weight", bytes(&weight))
        .with_buffer("preact", BufferSpec::zeros(6 * 64));
    let result = runner.run(&bench).expect("run");
    let preact: Vec<f32> =
        bytemuck::pod_collect_to_vec(&result.output("preact").expect("preact").bytes);
    for m in 0..6 {
        for i in 0..8 {
            for j in 0..8 {
                let mut acc = 0.0f32;
                for a in 0..5 {
                    for b in 0..5 {
                        acc += weight[m * 25 + a * 5 + b] * input[(i + a) * 12 + j + b];
                    }
                }
                let row: f32 = input[i * 12..i * 12 + 12].iter().sum();
                assert_eq!(
                    preact[m * 64 + i * 8 + j],
                    acc + row,
                    "preact[{m}][{i}][{j}]"
                );
            }
        }
    }
}
