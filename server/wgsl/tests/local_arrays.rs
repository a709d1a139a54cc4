//! Pointers into the caller's local arrays passed to device functions
//! (`butterfly(D)` with `float D[8]`, `butterfly(D + 4)`, `&D[k]`), and
//! passed on again by the callee (`&v[4]`, as LULESH's
//! `CalcElemVolumeDerivative` hands `&dvdx[3]` to `VoluDer`): a
//! `ptr<function, array<T, N>>` argument and the element offset. The
//! generated WGSL (snapshot), a refusal, and a run on a real adapter
//! (lavapipe here) against Rust.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const SOURCE: &str = r#"
__device__ void butterfly(float *v, int n) {
    for (int k = 0; k < n / 2; k++) {
        float a = v[k], b = v[k + n / 2];
        v[k] = a + b;
        v[k + n / 2] = a - b;
    }
}
__device__ float total(const float *v, int n) {
    float s = 0.0f;
    for (int k = 0; k < n; k++) s += v[k] * (k + 1);
    return s;
}
__device__ void halves(float *v) {
    butterfly(&v[4], 4);
    butterfly(v + 2, 2);
}
__global__ void transform(const float *in, float *out, int rows) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    float D[8];
    for (int k = 0; k < 8; k++) D[k] = in[r * 8 + k];
    butterfly(D, 8);
    butterfly(D + 4, 4);
    butterfly(&D[0], 4);
    halves(D);
    for (int k = 0; k < 8; k++) out[r * 9 + k] = D[k];
    out[r * 9 + 8] = total(D, 8);
}
int main() { transform<<<1, 32>>>(0, 0, 32); }
"#;

fn reference(row: &[f32]) -> Vec<f32> {
    fn butterfly(v: &mut [f32]) {
        let h = v.len() / 2;
        for k in 0..h {
            let (a, b) = (v[k], v[k + h]);
            v[k] = a + b;
            v[k + h] = a - b;
        }
    }
    let mut d = row.to_vec();
    butterfly(&mut d);
    butterfly(&mut d[4..8]);
    butterfly(&mut d[0..4]);
    butterfly(&mut d[4..8]);
    butterfly(&mut d[2..4]);
    let mut s = 0.0f32;
    for (k, x) in d.iter().enumerate() {
        s += x * (k + 1) as f32;
    }
    d.push(s);
    d
}

#[test]
fn local_arrays_are_passed_as_function_pointers_with_an_offset() {
    let out = common::compile_as("local.cu", SOURCE, "transform").unwrap_or_else(|e| panic!("{e}"));
    let start = out.wgsl.find("// __device__ butterfly").expect("butterfly");
    let end = out.wgsl.find("@compute").expect("entry");
    insta::assert_snapshot!("local_array_callees", &out.wgsl[start..end]);
    for call in [
        "butterfly(&D, 8)",
        "butterfly_2(&D, 4, 4)",
        "butterfly_2(&D, 0, 4)",
        "total(&D, 8)",
        "halves(&D)",
        "butterfly_2(&(*v_array_1), 4, 4)",
        "butterfly_2(&(*v_array_1), 2, 2)",
    ] {
        assert!(out.wgsl.contains(call), "{call}:\n{}", out.wgsl);
    }
}

#[test]
fn local_arrays_passed_to_device_functions_match_c_on_the_adapter() {
    let out = common::compile_as("local.cu", SOURCE, "transform").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let rows = 32usize;
    let input: Vec<f32> = (0..rows * 8).map(|i| ((i * 7) % 11) as f32 - 5.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(rows as f64))
        .with_buffer(
            "in",
            BufferSpec::bytes(input.len() as u64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros((rows * 9) as u64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for r in 0..rows {
        assert_eq!(
            got[r * 9..r * 9 + 9],
            reference(&input[r * 8..r * 8 + 8])[..],
            "row {r}"
        );
    }
}

#[test]
fn a_pointer_of_another_element_type_is_refused() {
    let source = "__device__ void f(int *v) { v[0] = 1; }\n__global__ void k(int *o) { float D[4]; f((int *)D); o[0] = 1; }";
    assert!(common::compile_as("local.cu", source, "k").is_err());
}

/// `s->x` through a pointer to an element of a local vector array
/// (`float4 *s = ss + j; s->x += ...`, as HeCBench's dwconv1d
/// accumulates): the member of the element it points at, on lavapipe.
#[test]
fn members_of_a_vector_reached_through_a_pointer_are_its_components() {
    let source = r#"
__global__ void lanes(const float *in, float *out) {
    int t = threadIdx.x;
    float4 ss[2];
    for (int j = 0; j < 2; j++) ss[j] = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    for (int j = 0; j < 2; j++) {
        float4 *s = ss + j;
        s->x += in[t] * (j + 1);
        s->y += in[t] + j;
        s->z -= in[t];
        s->w = s->x + s->y;
    }
    out[t] = ss[0].x + 10.0f * ss[1].y + 100.0f * ss[1].z + 1000.0f * ss[0].w;
}
"#;
    let out = common::compile_as("lanes.cu", source, "lanes").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<f32> = (0..32).map(|i| i as f32 * 0.5).collect();
    let Some(got) = common::run_in_out::<_, f32>(&out, &input) else {
        return;
    };
    for (t, x) in input.iter().enumerate() {
        let want = x + 10.0 * (x + 1.0) + 100.0 * -x + 1000.0 * (x + x);
        assert_eq!(got[t], want, "thread {t}");
    }
}

/// A local array of rows passed whole to `float b[][4]` (LULESH's
/// `CalcElemShapeFunctionDerivatives(..., B, ...)` with `Real_t B[3][8]`,
/// xlqc's `double G[][MAXROOTS]`) and a row of it to `float *` (`B[1]`,
/// and `const float *r = b[0]` in the callee): the rows keep their shape,
/// a row is a local array of its own. On lavapipe against Rust.
#[test]
fn local_arrays_of_rows_and_their_rows_are_passed_to_device_functions() {
    let source = r#"
__device__ void fill(float b[][4], float s) {
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 4; c++) b[r][c] = s * (r * 4 + c);
    const float *first = b[0];
    b[1][0] += first[3];
}
__device__ float total(const float *row, int n) {
    float t = 0.0f;
    for (int c = 0; c < n; c++) t += row[c] * (c + 1);
    return t;
}
__global__ void rows(const float *in, float *out) {
    int t = threadIdx.x;
    float B[2][4];
    fill(B, in[t]);
    out[t] = total(B[1], 4) + 100.0f * total(B[0], 4);
}
"#;
    let out = common::compile_as("rows.cu", source, "rows").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("array<array<f32, 4>, 2>"), "{}", out.wgsl);
    let input: Vec<f32> = (0..32).map(|i| (i % 5) as f32 - 1.5).collect();
    let Some(got) = common::run_in_out::<_, f32>(&out, &input) else {
        return;
    };
    for (t, s) in input.iter().enumerate() {
        let mut b = [[0.0f32; 4]; 2];
        for (r, row) in b.iter_mut().enumerate() {
            for (c, v) in row.iter_mut().enumerate() {
                *v = s * (r * 4 + c) as f32;
            }
        }
        b[1][0] += b[0][3];
        let total = |row: &[f32; 4]| -> f32 {
            row.iter()
                .enumerate()
                .map(|(c, v)| v * (c + 1) as f32)
                .sum()
        };
        assert_eq!(got[t], total(&b[1]) + 100.0 * total(&b[0]), "thread {t}");
    }
}

/// A local pointer naming a local array (`float *L_b = L;`, HeCBench
/// libor) passed on is that array: on lavapipe against Rust.
#[test]
fn a_local_pointer_to_a_local_array_is_passed_as_the_array() {
    let source = r#"
__device__ void scale(float *v, int n, float s) { for (int k = 0; k < n; k++) v[k] *= s; }
__global__ void aliased(const float *in, float *out) {
    int t = threadIdx.x;
    float L[4];
    for (int k = 0; k < 4; k++) L[k] = in[t] + k;
    float *L_b = L;
    scale(L_b, 4, 2.0f);
    out[t] = L[0] + L[3] * 10.0f;
}
"#;
    let out = common::compile_as("alias.cu", source, "aliased").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<f32> = (0..32).map(|i| i as f32 * 0.5).collect();
    let Some(got) = common::run_in_out::<_, f32>(&out, &input) else {
        return;
    };
    for (t, x) in input.iter().enumerate() {
        assert_eq!(got[t], 2.0 * x + 10.0 * 2.0 * (x + 3.0), "thread {t}");
    }
}

/// A `static const` local array of constants (HeCBench fresnel's
/// Chebyshev coefficients, `static double const c[] = {...}`) is those
/// constants in every thread, its `sizeof` C's: on lavapipe against Rust.
#[test]
fn a_static_const_local_array_is_its_constants() {
    let source = r#"
__device__ float horner(float x, const float *c, int degree) {
    float s = 0.0f;
    for (int i = 0; i <= degree; i++) s = s * x + c[i];
    return s;
}
__device__ static float series(float x) {
    static float const c[] = { 0.5f, -1.25f, 2.0f };
    static const int degree = sizeof(c) / sizeof(float) - 1;
    return horner(x, c, degree);
}
__global__ void chebyshev(const float *in, float *out) {
    out[threadIdx.x] = series(in[threadIdx.x]);
}
"#;
    let out =
        common::compile_as("series.cu", source, "chebyshev").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<f32> = (0..32).map(|i| i as f32 * 0.25 - 4.0).collect();
    let Some(got) = common::run_in_out::<_, f32>(&out, &input) else {
        return;
    };
    for (t, x) in input.iter().enumerate() {
        let want = (0.5f32 * x + -1.25) * x + 2.0;
        assert_eq!(got[t], want, "thread {t}");
    }
}

/// `sizeof` of an array variable is the whole array (`sizeof(c) /
/// sizeof(c[0])`), not the pointer its value decays to: it read 8 for
/// every local array before. 8-bit elements count as bytes.
#[test]
fn sizeof_an_array_variable_is_the_array() {
    let source = r#"
__global__ void sizes(int *o) {
   const float c[] = { 0.5f, -1.25f, 2.0f };
   float d[5][2];
   unsigned char b[7];
   b[threadIdx.x % 7] = 1; d[0][0] = 1;
   o[threadIdx.x] = sizeof(c) * 10000 + sizeof(d) * 100 + sizeof(b) + (int)c[threadIdx.x % 3];
}
"#;
    let out = common::compile_as("sizes.cu", source, "sizes").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("124007u"), "{}", out.wgsl);
}
