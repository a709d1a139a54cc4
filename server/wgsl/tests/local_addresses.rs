//! Addresses of local variables given to device functions' pointer
//! parameters (`intersectBox(..., &tnear, &tfar)` in the CUDA samples'
//! volume renderers) and overloads chosen by argument types: the generated
//! functions (snapshot), the refusals, and a run on a real adapter
//! (lavapipe here) against a Rust reference.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

/// A clipped interval written through two pointer parameters, passed on
/// once more, and `scale` overloaded for `float` and `int` (our own kernel).
const CLIP: &str = r#"
__device__ void order(float *lo, float *hi) {
    if (*lo > *hi) { float t = *lo; *lo = *hi; *hi = t; }
}

__device__ int clip(float a, float b, float *lo, float *hi) {
    *lo = a;
    hi[0] = b;
    order(lo, hi);
    return *hi - *lo > 1.0f;
}

__device__ float scale(float x, float s) { return x * s; }
__device__ int scale(int x, int s) { return x * s + 1; }

__global__ void interval(const float *a, const float *b, float *width, int *wide, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    float lo, hi;
    int w = clip(a[i], b[i], &lo, &hi);
    width[i] = scale(hi - lo, 0.5f);
    wide[i] = scale(w, 3);
}
"#;

fn compile(source: &str, kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    common::compile_as("local_addresses.cu", source, kernel)
}

#[test]
fn local_addresses_are_function_pointers_and_overloads_follow_argument_types() {
    let out = compile(CLIP, "interval").unwrap_or_else(|e| panic!("{e}"));
    let functions = &out.wgsl[out.wgsl.find("// __device__").expect("device functions")
        ..out.wgsl.find("@compute").expect("entry point")];
    insta::assert_snapshot!("clip_functions", functions);
    assert!(
        out.wgsl.contains("clip(a[i], b[i], &lo, &hi)"),
        "{}",
        out.wgsl
    );
}

#[test]
fn what_a_local_address_cannot_do_is_refused_with_the_reason() {
    let cases = [
        (
            "__device__ void f(float *p) { p[1] = 0.0f; }\n__global__ void k(float *o) { float x = 1.0f; f(&x); o[0] = x; }",
            "indexing through the address of a scalar is not supported",
        ),
        (
            "__device__ void f(float *p) { p += 1; *p = 0.0f; }\n__global__ void k(float *o) { float x = 1.0f; f(&x); o[0] = x; }",
            "pointer parameter `p` is moved",
        ),
        (
            "__device__ void f(int *p) { *p = 0; }\n__global__ void k(float *o) { float x = 1.0f; f(&x); o[0] = x; }",
            "points at a `i32`, but the argument is the address of a `f32`",
        ),
    ];
    for (source, want) in cases {
        let err = compile(source, "k").expect_err(source);
        assert!(err.contains(want), "{source}:\n{err}");
    }
}

#[test]
fn the_interval_matches_a_reference_on_the_adapter() {
    let out = compile(CLIP, "interval").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 96usize;
    let a: Vec<f32> = (0..n).map(|i| (i as f32) * 0.37 - 9.0).collect();
    let b: Vec<f32> = (0..n).map(|i| 5.0 - (i as f32) * 0.21).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(4, ParamValue::Scalar(n as f64))
        .with_buffer(
            "a",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&a).to_vec()),
        )
        .with_buffer(
            "b",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&b).to_vec()),
        )
        .with_buffer("width", BufferSpec::zeros(n as u64))
        .with_buffer("wide", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let output = |name: &str| {
        result
            .outputs
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .bytes
            .clone()
    };
    let width: Vec<f32> = bytemuck::pod_collect_to_vec(&output("width"));
    let wide: Vec<i32> = bytemuck::pod_collect_to_vec(&output("wide"));
    for i in 0..n {
        let (lo, hi) = if a[i] > b[i] {
            (b[i], a[i])
        } else {
            (a[i], b[i])
        };
        let w = i32::from(hi - lo > 1.0);
        assert_eq!(width[i], (hi - lo) * 0.5, "width[{i}]");
        assert_eq!(wide[i], w * 3 + 1, "wide[{i}]");
    }
}

/// `vnormalize(&ray.dir)` (HeCBench aobench): a member of a local struct
/// passed by pointer is copied into a local, passed, and copied back (WGSL
/// passes only whole variables by pointer); two arguments naming the same
/// variable (`add(&r.x, &r.y)`, as secp256k1 does) stay refused, since the
/// callee could see one through the other. On lavapipe against Rust.
#[test]
fn members_passed_by_pointer_are_copied_in_and_out() {
    let source = r#"
struct Ray { float3 org; float3 dir; };
__device__ void scale(float3 *v, float s) { v->x *= s; v->y *= s; v->z = v->z * s + 1.0f; }
__device__ float length2(const float3 *v) { return v->x * v->x + v->y * v->y + v->z * v->z; }
__global__ void rays(const float *in, float *out) {
    int i = threadIdx.x;
    Ray ray;
    ray.org = make_float3(0.0f, 0.0f, 0.0f);
    ray.dir = make_float3(in[i], 2.0f, -1.0f);
    scale(&ray.dir, 3.0f);
    out[i] = ray.dir.x + ray.dir.z * 10.0f + length2(&ray.dir) * 100.0f + ray.org.y;
}
"#;
    let out = compile(source, "rays").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<f32> = (0..32).map(|i| i as f32 * 0.5 - 4.0).collect();
    let Some(got) = common::run_in_out::<_, f32>(&out, &input) else {
        return;
    };
    for (i, x) in input.iter().enumerate() {
        let d = [x * 3.0, 6.0, -3.0 + 1.0];
        let want = d[0] + d[2] * 10.0 + (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]) * 100.0;
        assert_eq!(got[i], want, "thread {i}");
    }
    // `affine(p, &params.rows[i][0])` (HeCBench flame): a row inside a
    // struct, copied into a local array and passed at the element.
    let rows = r#"
struct Params { float rows[4][3]; int n; };
__device__ float affine(float x, const float *w) { return w[0] * x + w[1] - w[2]; }
__device__ void bump(float *w) { w[1] += 10.0f; }
__global__ void apply(const float *in, float *out) {
    int i = threadIdx.x;
    Params params;
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 3; c++) params.rows[r][c] = r * 3 + c;
    bump(&params.rows[i % 4][0]);
    out[i] = affine(in[i], &params.rows[i % 4][0]) + params.rows[(i + 1) % 4][1];
}
"#;
    let out = compile(rows, "apply").unwrap_or_else(|e| panic!("{e}"));
    if let Some(got) = common::run_in_out::<_, f32>(&out, &input) {
        for (i, x) in input.iter().enumerate() {
            let w = |r: usize, c: usize| {
                (r * 3 + c) as f32 + if c == 1 && r == i % 4 { 10.0 } else { 0.0 }
            };
            let r = i % 4;
            let want = w(r, 0) * x + w(r, 1) - w(r, 2) + w((i + 1) % 4, 1);
            assert_eq!(got[i], want, "thread {i}");
        }
    }
    let aliasing = "struct P { float x, y; };\n__device__ void add(float *a, const float *b) { *a += *b; }\n\
        __global__ void k(float *o) { P r; r.x = 1.0f; r.y = 2.0f; add(&r.x, &r.y); o[0] = r.x; }";
    assert!(compile(aliasing, "k").is_err());
}
