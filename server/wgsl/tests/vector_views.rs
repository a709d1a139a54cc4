//! Pointer casts between a scalar and vectors of it (`reinterpret_cast<const
//! float4*>(x)[i]` over a `float*` buffer, `(float *)v` over a `float2*`
//! one): views of the same memory in C's layout. The generated WGSL
//! (snapshot), refusals, and runs on a real adapter (lavapipe here) against
//! Rust.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

/// Vectorized SAXPY-like kernel (float4 loads and a float4 store through
/// casts, a component store through a local view) and a kernel reading a
/// `float2` buffer as scalars (complex numbers as re/im pairs).
const VIEWS: &str = r#"
__global__ void scale4(const float *x, float *y, float a, int n4) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n4) {
        float4 v = reinterpret_cast<const float4*>(x)[i];
        float4 w = reinterpret_cast<float4*>(y)[i];
        w.x += a * v.x; w.y += a * v.y; w.z += a * v.z; w.w += a * v.w;
        reinterpret_cast<float4*>(y)[i] = w;
        float4 *tail = (float4*)(y + 4 * n4);
        if (i == 0) tail[0].y = v.x + v.w;
    }
}

__global__ void magnitudes(const float2 *z, float *out, int n) {
    const float *parts = (const float *)z;
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = parts[2 * i] * parts[2 * i] + parts[2 * i + 1] * parts[2 * i + 1];
}
int main() { scale4<<<1, 64>>>(0, 0, 2.0f, 64); magnitudes<<<1, 64>>>(0, 0, 64); }
"#;

fn compile(source: &str, kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    common::compile_as("views.cu", source, kernel)
}

fn body(wgsl: &str) -> String {
    let from = wgsl.find("    let i: i32").expect("body");
    wgsl[from..].to_string()
}

#[test]
fn vector_views_read_and_write_the_scalars_in_place() {
    let out = compile(VIEWS, "scale4").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("scale4_body", body(&out.wgsl));
    let out = compile(VIEWS, "magnitudes").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("magnitudes_body", body(&out.wgsl));
}

#[test]
fn views_match_c_on_the_adapter() {
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n4 = 64usize;
    let x: Vec<f32> = (0..4 * n4).map(|i| (i % 13) as f32 - 6.0).collect();
    let y: Vec<f32> = (0..4 * n4 + 4).map(|i| (i % 7) as f32 * 0.5).collect();
    let out = compile(VIEWS, "scale4").unwrap_or_else(|e| panic!("{e}"));
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(2.0))
        .with_arg(3, ParamValue::Scalar(n4 as f64))
        .with_buffer(
            "x",
            BufferSpec::bytes(x.len() as u64, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer(
            "y",
            BufferSpec::bytes(y.len() as u64, bytemuck::cast_slice(&y).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("y").expect("y").bytes);
    let mut want = y.clone();
    for i in 0..4 * n4 {
        want[i] += 2.0 * x[i];
    }
    want[4 * n4 + 1] = x[0] + x[3];
    assert_eq!(got, want);

    let n = 64usize;
    let z: Vec<f32> = (0..2 * n).map(|i| (i % 5) as f32 - 2.5).collect();
    let out = compile(VIEWS, "magnitudes").unwrap_or_else(|e| panic!("{e}"));
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(n as f64))
        .with_buffer(
            "z",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&z).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let want: Vec<f32> = (0..n)
        .map(|i| z[2 * i] * z[2 * i] + z[2 * i + 1] * z[2 * i + 1])
        .collect();
    assert_eq!(got, want);
}

#[test]
fn what_a_view_cannot_do_is_refused() {
    for (body, what) in [
        // Three floats in: not a float4 boundary.
        (
            "float4 v = reinterpret_cast<const float4*>(x + 3)[0]; y[0] = v.x;",
            "not aligned to its 4 lanes",
        ),
        // Another width: no view.
        (
            "short4 v = reinterpret_cast<const short4*>(x)[0]; y[0] = v.x;",
            "WGSL has no 8- or 16-bit integer types",
        ),
        // The buffer holds atomics: no view of it.
        (
            "atomicAdd(&((float *)z)[1], 1.0f);",
            "view of other-typed memory",
        ),
    ] {
        let source = format!("__global__ void k(const float *x, float *y, float2 *z) {{ {body} }}");
        let err = compile(&source, "k").expect_err(what);
        assert!(err.contains(what), "{body}: {err}");
    }
}

/// A scalar array read and written as another scalar type of the same
/// width (HeCBench's match: `int *indices = (int*)&scores[k]` reuses a
/// `__shared__ float` array; scatterAdd: `(int*)&buffer[n]` of an
/// `extern __shared__ float`): the bits, `bitcast` both ways.
const BITS: &str = r#"
__global__ void bits(const float *x, float *y, unsigned *signs, int n) {
    __shared__ float scores[64];
    int t = threadIdx.x;
    scores[t] = x[t];
    int *indices = (int*)&scores[32];
    __syncthreads();
    if (t < 32) indices[t] = t * 3 - 40;
    __syncthreads();
    unsigned *raw = (unsigned *)y;
    if (t < 32) {
        y[t] = scores[t] + (float)indices[t];
        signs[t] = ((const unsigned *)x)[t] >> 31;
    } else {
        raw[t] = ((const unsigned *)x)[t] ^ 0x80000000u;
    }
}
int main() { bits<<<1, 64>>>(0, 0, 0, 64); }
"#;

#[test]
fn same_width_scalar_views_are_bitcasts_matching_c_on_the_adapter() {
    let out = compile(BITS, "bits").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "scores[32 + t] = bitcast<f32>(t * 3 - 40);",
        "bitcast<i32>(scores[32 + t])",
        "y[t] = bitcast<f32>(bitcast<u32>(x[t]) ^ 2147483648u);",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let x: Vec<f32> = (0..64).map(|i| (i as f32 - 20.25) * 1.5).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(64.0))
        .with_buffer(
            "x",
            BufferSpec::bytes(64, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer("y", BufferSpec::zeros(64))
        .with_buffer("signs", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let y: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("y").expect("y").bytes);
    let signs: Vec<u32> =
        bytemuck::pod_collect_to_vec(&result.output("signs").expect("signs").bytes);
    for t in 0..64 {
        if t < 32 {
            assert_eq!(y[t], x[t] + (t as i32 * 3 - 40) as f32, "y[{t}]");
            assert_eq!(signs[t], x[t].to_bits() >> 31, "signs[{t}]");
        } else {
            assert_eq!(y[t], -x[t], "y[{t}] has the sign bit flipped");
        }
    }
}

/// A `float2` buffer read and written as `float4`s (HeCBench's hexciton:
/// `real_vec_t *sigma_in = (real_vec_t*) sigma2_in` with `float2` complex
/// numbers and `float4` vectors): each `float4` is two consecutive
/// elements, whole or by component.
const PAIRS: &str = r#"
__global__ void pairs(const float2 *a, float2 *b, int n4) {
    const float4 *in = (const float4 *)a;
    float4 *out = (float4 *)b;
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n4) {
        float4 v = in[i];
        out[i] += make_float4(v.w, v.z, v.y, v.x);
        out[i].y = in[i].x * 2.0f;
    }
}
int main() { pairs<<<1, 32>>>(0, 0, 32); }
"#;

#[test]
fn pairs_of_two_lane_vectors_are_four_lane_views_matching_c_on_the_adapter() {
    let out = compile(PAIRS, "pairs").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "let v: vec4<f32> = vec4<f32>(a[2 * (i)], a[2 * (i) + 1]);",
        "b[2 * (i) + 0][1] = vec4<f32>(a[2 * (i)], a[2 * (i) + 1]).x * 2.0f;",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n4 = 32usize;
    let a: Vec<f32> = (0..4 * n4).map(|i| (i % 17) as f32 - 8.0).collect();
    let b: Vec<f32> = (0..4 * n4).map(|i| (i % 5) as f32 * 0.5).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bytes =
        |v: &[f32]| BufferSpec::bytes((v.len() / 2) as u64, bytemuck::cast_slice(v).to_vec());
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(n4 as f64))
        .with_buffer("a", bytes(&a))
        .with_buffer("b", bytes(&b));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("b").expect("b").bytes);
    for i in 0..n4 {
        let v = &a[4 * i..4 * i + 4];
        let want = [
            b[4 * i] + v[3],
            v[0] * 2.0,
            b[4 * i + 2] + v[1],
            b[4 * i + 3] + v[0],
        ];
        assert_eq!(got[4 * i..4 * i + 4], want, "out[{i}]");
    }
}

/// 32-bit words over an 8- or 16-bit `__shared__` array (the samples'
/// histogram64 zeroes its `uchar s_Hist[]` as `uint`s; dct8x8 hands
/// `(unsigned int *)` of its `short` block to a device function): each
/// word is its 4 (or 2) elements, little-endian as in C's memory.
const WORDS: &str = r#"
__device__ void swap_halves(unsigned int *w, int i) { w[i] = (w[i] << 16) | (w[i] >> 16); }
__global__ void words(const unsigned int *in, unsigned int *out, int *bytes, int *shorts) {
    __shared__ unsigned char b[256];
    __shared__ short h[128];
    int t = threadIdx.x;
    ((unsigned int *)b)[t] = in[t];
    ((unsigned int *)h)[t] = in[t] ^ 0x80008000u;
    __syncthreads();
    b[4 * t + 1] = 7;
    swap_halves((unsigned int *)h, t);
    __syncthreads();
    out[t] = ((unsigned int *)b)[t];
    bytes[t] = b[4 * t + 3];
    shorts[t] = h[2 * t];
}
int main() { words<<<1, 64>>>(0, 0, 0, 0); }
"#;

#[test]
fn words_over_8_and_16_bit_arrays_match_c_on_the_adapter() {
    let out = compile(WORDS, "words").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("b[4 * (t) + 3] = i32(extractBits("),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<u32> = (0..64u32)
        .map(|i| i.wrapping_mul(0x9e37_79b9) ^ 0x00ff_ff00)
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(64))
        .with_buffer("bytes", BufferSpec::zeros(64))
        .with_buffer("shorts", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let read = |name: &str| result.output(name).expect(name).bytes.clone();
    let words: Vec<u32> = bytemuck::pod_collect_to_vec(&read("out"));
    let bytes: Vec<i32> = bytemuck::pod_collect_to_vec(&read("bytes"));
    let shorts: Vec<i32> = bytemuck::pod_collect_to_vec(&read("shorts"));
    for (t, &w) in input.iter().enumerate() {
        assert_eq!(words[t], (w & 0xffff_00ff) | (7 << 8), "out[{t}]");
        assert_eq!(bytes[t], (w >> 24) as i32, "bytes[{t}]");
        // The word's halves swapped: the low short is the high one's bits.
        let swapped = (w ^ 0x8000_8000).rotate_left(16);
        assert_eq!(shorts[t], i32::from(swapped as u16 as i16), "shorts[{t}]");
    }
}

/// 32-bit views of buffers of bytes packed four to a word (Rodinia's
/// dwt2d `(float *)d_src` of an `unsigned char *`, HeCBench's memtest
/// `(unsigned int *)ptr`, all-pairs-distance `*(char4 *)(data + i)`) and
/// a `float` view of a `__shared__ unsigned char` array: each word of the
/// view is the buffer's own word, read with a bitcast (or an atomic load
/// where the kernel writes the buffer's bytes).
#[test]
fn word_views_of_byte_buffers_run_on_the_adapter() {
    let source = r#"
__global__ void words(const unsigned char *src, unsigned char *dst, const char *data, int *out) {
    int t = threadIdx.x;
    const float *s = (const float *)src;
    unsigned int *d = (unsigned int *)dst;
    float *df = (float *)(dst + 256);
    char4 j = *(char4 *)(data + 4 * t);
    __shared__ unsigned char bytes[256];
    float *sf = (float *)bytes;
    sf[t] = s[t];
    __syncthreads();
    d[t] = (unsigned int)(sf[63 - t] * 2.0f);
    df[t] = s[t] + 1.0f;
    dst[512 + t] = (unsigned char)(t * 3);
    out[t] = j.x + j.y * 2 + j.z * 3 + j.w * 4;
}
"#;
    let out = compile(source, "words").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        "word_views_of_byte_buffers",
        &out.wgsl[out.wgsl.find("    var j").expect("body")..]
    );
    let err = compile(
        "__global__ void k(const unsigned char *b, float *o) { o[0] = *(const float *)(b + 2); }",
        "k",
    )
    .expect_err("a view inside a word");
    assert!(err.contains("not aligned to its 4 elements"), "{err}");

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let floats: Vec<f32> = (0..64).map(|i| i as f32 * 1.5 + 0.25).collect();
    let src: Vec<u8> = bytemuck::cast_slice(&floats).to_vec();
    let data: Vec<u8> = (0..256).map(|i| (i * 37 % 256) as u8).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("src", BufferSpec::bytes(256, src))
        .with_buffer("dst", BufferSpec::zeros(576))
        .with_buffer("data", BufferSpec::bytes(256, data.clone()))
        .with_buffer("out", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let dst = result.output("dst").expect("dst").bytes.clone();
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for t in 0..64usize {
        let word = u32::from_le_bytes(dst[4 * t..4 * t + 4].try_into().unwrap());
        assert_eq!(word, (floats[63 - t] * 2.0) as u32, "d[{t}]");
        let f = f32::from_le_bytes(dst[256 + 4 * t..260 + 4 * t].try_into().unwrap());
        assert_eq!(f, floats[t] + 1.0, "df[{t}]");
        assert_eq!(dst[512 + t], (t * 3) as u8, "dst[{}]", 512 + t);
        let j: Vec<i32> = (0..4).map(|l| i32::from(data[4 * t + l] as i8)).collect();
        assert_eq!(got[t], j[0] + j[1] * 2 + j[2] * 3 + j[3] * 4, "out[{t}]");
    }
}

/// `int *indices = (int *)&scores[k]` where `scores = (float *)buffer` of
/// a `__shared__ float4` array (HeCBench match's best-score reduction,
/// with our own kernel): the ints live in the float lanes, their bits
/// moved unchanged by `bitcast`, and the floats beside them untouched.
#[test]
fn int_views_of_float_lanes_of_a_vector_array_keep_their_bits() {
    let source = r#"
__global__ void best(const float *score, int *best_index, float *best_score) {
    __shared__ float4 buffer[8];
    int t = threadIdx.x;
    float *scores = (float *)buffer;
    int *indices = (int *)&scores[16];
    scores[t] = score[t];
    indices[t] = t * 3 + 1;
    __syncthreads();
    best_score[t] = scores[(t + 1) % 16];
    best_index[t] = indices[(t + 5) % 16];
}
"#;
    let out = common::compile_as("best.cu", source, "best").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("bitcast<i32>"), "{}", out.wgsl);
    let score: Vec<f32> = (0..16).map(|i| i as f32 * 0.5 - 2.0).collect();
    let zeros = vec![0u8; 64];
    let inputs = [
        ("score", 16, bytemuck::cast_slice(&score).to_vec()),
        ("best_score", 16, zeros.clone()),
    ];
    let Some(index) = common::run_block::<i32>(&out, 16, &inputs, ("best_index", 16)) else {
        return;
    };
    assert_eq!(
        index,
        (0..16)
            .map(|t| ((t + 5) % 16) * 3 + 1)
            .collect::<Vec<i32>>()
    );
    let inputs = [
        ("score", 16, bytemuck::cast_slice(&score).to_vec()),
        ("best_index", 16, zeros),
    ];
    let Some(best) = common::run_block::<f32>(&out, 16, &inputs, ("best_score", 16)) else {
        return;
    };
    assert_eq!(
        best,
        (0..16).map(|t| score[(t + 1) % 16]).collect::<Vec<f32>>()
    );
}

/// Vectors of another scalar type of the same width over a scalar array
/// (vLLM's merge_attn_states in HeCBench attentionMergeState: `uint4`
/// packs of a `float` buffer; rmsnorm's `load_data`: a local `float
/// regs[4]` stored as one `uint4`), and the lanes of a local `uint4` as
/// `float`s, one bound to a reference parameter: the bits, `bitcast`.
const LANE_BITS: &str = r#"
__device__ void twice(float &d, float s) { d = 2.0f * s; }
__global__ void lane_bits(const float *x, float *y, unsigned *bits) {
    int i = threadIdx.x;
    uint4 v = reinterpret_cast<const uint4 *>(x)[i];
    float regs[4];
    *reinterpret_cast<uint4 *>(regs) = v;
    regs[1] += 1.0f;
    uint4 pack;
    for (int l = 0; l < 4; ++l) twice(reinterpret_cast<float *>(&pack)[l], regs[l]);
    reinterpret_cast<uint4 *>(y)[i] = pack;
    bits[i] = v.x ^ v.w;
}
"#;

#[test]
fn vectors_of_another_scalar_type_are_the_bits_of_the_lanes() {
    let out = compile(LANE_BITS, "lane_bits").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "bitcast<vec4<u32>>(vec4<f32>(x[4 * (i) + 0], x[4 * (i) + 1], x[4 * (i) + 2], x[4 * (i) + 3]))",
        "bitcast<f32>(pack[l])",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let x: Vec<f32> = (0..128).map(|i| (i as f32 - 40.5) * 0.75).collect();
    let inputs = [
        ("x", 128, bytemuck::cast_slice(&x).to_vec()),
        ("y", 128, vec![0u8; 512]),
        ("bits", 32, vec![0u8; 128]),
    ];
    let Some(y) = common::run_block::<f32>(&out, 32, &inputs, ("y", 128)) else {
        return;
    };
    let bits = common::run_block::<u32>(&out, 32, &inputs, ("bits", 32)).expect("ran before");
    for i in 0..32 {
        for l in 0..4 {
            let want = 2.0 * (x[4 * i + l] + if l == 1 { 1.0 } else { 0.0 });
            assert_eq!(y[4 * i + l], want, "y[{}]", 4 * i + l);
        }
        assert_eq!(
            bits[i],
            x[4 * i].to_bits() ^ x[4 * i + 3].to_bits(),
            "bits[{i}]"
        );
    }
}

/// An `int` view of a `__shared__ float` array that atomics update (held
/// as float bits in `atomic<u32>` words; HeCBench scatterAdd keeps its
/// indices after its sums in one `extern __shared__ float buffer[]`): the
/// same words, loaded and stored as `i32` bits.
const INT_VIEW_OF_FLOAT_ATOMICS: &str = r#"
__global__ void sums(const int *dest, const float *x, float *out) {
  extern __shared__ float buffer[];
  int *slots = (int *)&buffer[32];
  int t = threadIdx.x;
  buffer[t] = 0.0f;
  slots[t] = dest[t] % 32;
  __syncthreads();
  atomicAdd(&buffer[slots[t]], x[t]);
  __syncthreads();
  out[t] = buffer[t] + (float)slots[t] * 1000.0f;
}
int main() { sums<<<1, 32, 64 * sizeof(float)>>>(0, 0, 0); }
"#;

#[test]
fn int_views_of_float_atomics_share_their_words() {
    let out = compile(INT_VIEW_OF_FLOAT_ATOMICS, "sums").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("bitcast<i32>(atomicLoad(&buffer[32 + "),
        "{}",
        out.wgsl
    );
    let dest: Vec<i32> = (0..32).map(|t| (t * 7 + 3) % 40).collect();
    let x: Vec<f32> = (0..32).map(|t| t as f32 * 0.25).collect();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let mut bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "dest",
            BufferSpec::bytes(32, bytemuck::cast_slice(&dest).to_vec()),
        )
        .with_buffer(
            "x",
            BufferSpec::bytes(32, bytemuck::cast_slice(&x).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(32));
    // The launch's `64 * sizeof(float)` bytes of dynamic shared memory.
    bench.launch.dynamic_shared_bytes = 256;
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for t in 0..32 {
        let sum: f32 = (0..32)
            .filter(|&u| dest[u] % 32 == t as i32)
            .map(|u| x[u])
            .sum();
        let want = sum + (dest[t] % 32) as f32 * 1000.0;
        assert!(
            (got[t] - want).abs() < 1e-3,
            "out[{t}]: {} vs {want}",
            got[t]
        );
    }
}

/// `reinterpret_cast<uintptr_t>(p) % 16` before a `float4` access
/// (HeCBench fma): the residue of `p`'s byte offset, the array's first
/// element taken at a multiple of 256. Both paths of the kernel compute
/// the same values; the aligned one goes through the `float4` view. Any
/// other use of an address as a number stays refused.
const ALIGNMENT_TEST: &str = r#"
__global__ void add4(const float *a, float *c, int shift) {
  int i = threadIdx.x;
  const float *a_ptr = &a[i * 4 + shift];
  float *c_ptr = &c[i * 4 + shift];
  if (reinterpret_cast<uintptr_t>(a_ptr) % 16 == 0 && ((size_t)c_ptr & 15) == 0) {
    float4 v = *reinterpret_cast<const float4 *>(a_ptr);
    float4 w = *reinterpret_cast<float4 *>(c_ptr);
    w.x += v.x; w.y += v.y; w.z += v.z; w.w += v.w;
    *reinterpret_cast<float4 *>(c_ptr) = w;
  } else {
    for (int j = 0; j < 4; ++j) c_ptr[j] += a_ptr[j] + 100.0f;
  }
}
"#;

#[test]
fn address_residues_follow_the_byte_offset() {
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let out = common::compile(ALIGNMENT_TEST, "add4", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(out.wgsl.contains("* 4u % 16u"), "{}", out.wgsl);
    let refused = ALIGNMENT_TEST.replace("% 16 == 0", "% 12 == 0");
    let err = common::compile(&refused, "add4", &opts).expect_err("modulus 12");
    assert!(
        err.iter().any(|d| d.message.contains("pointer casts")),
        "{err:?}"
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let a: Vec<f32> = (0..132).map(|i| i as f32).collect();
    for shift in [0, 1] {
        let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
        let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
            .with_iterations(0, 1)
            .with_arg(2, ParamValue::Scalar(f64::from(shift)))
            .with_buffer(
                "a",
                BufferSpec::bytes(132, bytemuck::cast_slice(&a).to_vec()),
            )
            .with_buffer("c", BufferSpec::zeros(132));
        let result = runner.run(&bench).expect("run");
        let c: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("c").expect("c").bytes);
        for k in 0..128 {
            let at = k + shift as usize;
            let want = a[at] + if shift == 0 { 0.0 } else { 100.0 };
            assert_eq!(c[at], want, "shift {shift}, c[{at}]");
        }
    }
}

/// Packs of eight `__half`s as a `float4` (HeCBench vadd and relu, vLLM's
/// 128-bit loads): each 32-bit lane two halves, in C's order; a lane of a
/// local `float4` read and written as a `__half2` (`*(__half2 *)&a8.x`),
/// and the whole local as four (`(half2 *)&c8`).
const HALF_PACKS: &str = r#"
#include <cuda_fp16.h>
__global__ void add8(const __half *a, const __half *b, __half *c) {
  int i = threadIdx.x;
  float4 a8 = reinterpret_cast<const float4 *>(a)[i];
  float4 b8 = reinterpret_cast<const float4 *>(b)[i];
  float4 c8;
  *reinterpret_cast<__half2 *>(&c8.x) = __hadd2(*reinterpret_cast<__half2 *>(&a8.x), *reinterpret_cast<__half2 *>(&b8.x));
  *reinterpret_cast<__half2 *>(&c8.y) = __hadd2(*reinterpret_cast<__half2 *>(&a8.y), *reinterpret_cast<__half2 *>(&b8.y));
  half2 *a2 = reinterpret_cast<half2 *>(&a8);
  half2 *b2 = reinterpret_cast<half2 *>(&b8);
  half2 *c2 = reinterpret_cast<half2 *>(&c8);
  for (int k = 2; k < 4; ++k) c2[k] = __hmul2(__hadd2(a2[k], b2[k]), __float2half2_rn(2.f));
  reinterpret_cast<float4 *>(c)[i] = c8;
}
"#;

#[test]
fn half_packs_are_pairs_of_halves_in_32_bit_lanes() {
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f16: true,
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let out = common::compile(HALF_PACKS, "add8", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    for want in [
        "bitcast<f32>(pack2x16float(vec2<f32>(vec2<f16>(a[8 * (i) + 0], a[8 * (i) + 0 + 1]))))",
        "vec2<f16>(unpack2x16float(bitcast<u32>(a8.x)))",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    if !runner.adapter().is_ok_and(|r| r.features.shader_f16) {
        return;
    }
    let a: Vec<u16> = (0..256).map(|k| half_bits(k as f32 * 0.5 - 20.0)).collect();
    let b: Vec<u16> = (0..256).map(|k| half_bits((k % 7) as f32 * 0.25)).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "a",
            BufferSpec::bytes(256, bytemuck::cast_slice(&a).to_vec()),
        )
        .with_buffer(
            "b",
            BufferSpec::bytes(256, bytemuck::cast_slice(&b).to_vec()),
        )
        .with_buffer("c", BufferSpec::zeros(256));
    let result = runner.run(&bench).expect("run");
    let c: Vec<u16> = bytemuck::pod_collect_to_vec(&result.output("c").expect("c").bytes);
    for (k, got) in c.iter().enumerate() {
        // Small multiples of a quarter: exact in half precision.
        let sum = k as f32 * 0.5 - 20.0 + (k % 7) as f32 * 0.25;
        let want = if k % 8 < 4 { sum } else { 2.0 * sum };
        assert_eq!(*got, half_bits(want), "c[{k}]");
    }
}

/// The IEEE half with the value of `x` (exact for the small quarter
/// multiples the test uses).
fn half_bits(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    if x == 0.0 {
        return sign;
    }
    let exponent = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    let mantissa = ((bits >> 13) & 0x3ff) as u16;
    sign | ((exponent as u16) << 10) | mantissa
}

/// The halves of a thread's own `uint4` (`reinterpret_cast<__half
/// *>(&a_vec)`, HeCBench fma's half kernels) read and written one by one,
/// and a 64-bit view of a local array of 32-bit words (`*(uint64 *)buff`,
/// HeCBench ntt's modular reduction): C's little-endian layout.
const HALVES_AND_WORD_PAIRS: &str = r#"
#include <cuda_fp16.h>
__global__ void fma8(const __half *a, __half *c) {
  int i = threadIdx.x;
  uint4 a_vec = reinterpret_cast<const uint4 *>(a)[i];
  uint4 c_vec = reinterpret_cast<const uint4 *>(c)[i];
  __half *a_halfs = reinterpret_cast<__half *>(&a_vec);
  __half *c_halfs = reinterpret_cast<__half *>(&c_vec);
  for (int j = 0; j < 8; ++j) c_halfs[j] += a_halfs[j] * a_halfs[7 - j];
  reinterpret_cast<uint4 *>(c)[i] = c_vec;
}
__global__ void wide(const unsigned int *w, unsigned long long *out) {
  int i = threadIdx.x;
  unsigned int buff[4];
  for (int k = 0; k < 4; ++k) buff[k] = w[4 * i + k];
  if (*(unsigned long long *)buff > 5000000000ull) *(unsigned long long *)buff -= 5000000000ull;
  ((unsigned long long *)buff)[1] += 1;
  out[2 * i] = *(unsigned long long *)buff;
  out[2 * i + 1] = ((unsigned long long *)buff)[1];
}
"#;

#[test]
fn halves_of_local_words_and_word_pairs_follow_c_layout() {
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f16: true,
        enable_int64: true,
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let halves =
        common::compile(HALVES_AND_WORD_PAIRS, "fma8", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(halves.wgsl.contains("[(j) % 2]"), "{}", halves.wgsl);
    let pairs =
        common::compile(HALVES_AND_WORD_PAIRS, "wide", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let report = runner.adapter().expect("adapter");
    if report.features.shader_int64 {
        let w: Vec<u32> = (0..128u32).map(|k| k.wrapping_mul(2_654_435_761)).collect();
        let iface = KernelInterface::from_json(&pairs.sidecar.to_json()).expect("interface");
        let bench = Benchmark::new(pairs.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
            .with_iterations(0, 1)
            .with_buffer(
                "w",
                BufferSpec::bytes(128, bytemuck::cast_slice(&w).to_vec()),
            )
            .with_buffer("out", BufferSpec::zeros(64));
        let result = runner.run(&bench).expect("run");
        let out: Vec<u64> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
        for i in 0..32 {
            let word = |k: usize| u64::from(w[4 * i + k]);
            let mut low = word(0) | word(1) << 32;
            if low > 5_000_000_000 {
                low -= 5_000_000_000;
            }
            let high = (word(2) | word(3) << 32).wrapping_add(1);
            assert_eq!((out[2 * i], out[2 * i + 1]), (low, high), "thread {i}");
        }
    }
    if report.features.shader_f16 {
        let a: Vec<u16> = (0..256).map(|k| half_bits((k % 9) as f32 - 4.0)).collect();
        let c: Vec<u16> = (0..256).map(|k| half_bits((k % 5) as f32 * 0.5)).collect();
        let iface = KernelInterface::from_json(&halves.sidecar.to_json()).expect("interface");
        let bench = Benchmark::new(halves.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
            .with_iterations(0, 1)
            .with_buffer(
                "a",
                BufferSpec::bytes(256, bytemuck::cast_slice(&a).to_vec()),
            )
            .with_buffer(
                "c",
                BufferSpec::bytes(256, bytemuck::cast_slice(&c).to_vec()),
            );
        let result = runner.run(&bench).expect("run");
        let got: Vec<u16> = bytemuck::pod_collect_to_vec(&result.output("c").expect("c").bytes);
        for (k, g) in got.iter().enumerate() {
            let (i, j) = (k / 8, k % 8);
            let av = |j: usize| ((8 * i + j) % 9) as f32 - 4.0;
            let want = (k % 5) as f32 * 0.5 + av(j) * av(7 - j);
            assert_eq!(*g, half_bits(want), "c[{k}]");
        }
    }
}

/// Components of a `__half2` read and written through a pointer to a
/// lane of a local `float4` (HeCBench gemv's `(__half2 *)&vec_val.x`, then
/// `vec_h1->x`), in a loop bounded by `iter < n >> 3`, which tree-sitter
/// (and WGSL's own parser, without parentheses) reads as a template
/// `iter<n>`.
const HALF2_COMPONENTS: &str = r#"
#include <cuda_fp16.h>
__global__ void dots(const float4 *in, float *out, unsigned int n) {
  int i = threadIdx.x;
  float sum = 0;
  for (int iter = 0; iter < n >> 3; iter++) {
    float4 v = in[i * (n >> 3) + iter];
    const __half2 *h = (__half2 *)&v.y;
    sum += static_cast<float>(h->x) * 2.0f + static_cast<float>(h->y);
  }
  float4 w = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
  __half2 *hw = (__half2 *)&w.z;
  hw->y = __float2half(3.0f);
  out[i] = sum + w.z;
}
"#;

#[test]
fn components_of_half2_views_of_float_lanes_read_and_write_their_halves() {
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f16: true,
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let out = common::compile(HALF2_COMPONENTS, "dots", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        out.wgsl.contains("iter < (i32(n >> 3u))") || out.wgsl.contains("< (n >> 3u)"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    if !runner.adapter().is_ok_and(|r| r.features.shader_f16) {
        return;
    }
    // n = 16: two float4s a thread; lane y holds halves (k, k + 1) / 4.
    let mut data = vec![0f32; 32 * 2 * 4];
    for (e, chunk) in data.chunks_mut(4).enumerate() {
        let lo = u32::from(half_bits(e as f32 * 0.25));
        let hi = u32::from(half_bits((e + 1) as f32 * 0.25));
        chunk[1] = f32::from_bits(lo | hi << 16);
    }
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(16.0))
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&data).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(32));
    let result = runner.run(&bench).expect("run");
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for (i, g) in got.iter().enumerate() {
        let sum: f32 = (2 * i..2 * i + 2)
            .map(|e| e as f32 * 0.25 * 2.0 + (e + 1) as f32 * 0.25)
            .sum();
        // `w.z` holds half 3.0 (0x4200) in its high half: the float 32.0.
        assert_eq!(*g, sum + 32.0, "out[{i}]");
    }
}
