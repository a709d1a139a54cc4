//! Buffers of 8- and 16-bit integers and `bool`, packed four or two to a
//! `u32` word (little-endian, as CUDA lays them out): reads sign- or
//! zero-extend with `extractBits`, writes clear and set the element's bits
//! with two atomics so that neighbours sharing a word keep their writes.
//! Snapshot of the generated WGSL, refusals, and a run on a real adapter
//! (lavapipe here) checked against a Rust reference.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const KERNEL: &str = r#"
__global__ void bytes(const unsigned char *img, unsigned char *mask, short *delta,
                      const signed char *bias, const bool *keep, bool *flag, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        int v = img[i] + bias[i];
        mask[i] = v > 128 ? 255 : v + 1;
        delta[i] = delta[i] - v;
        flag[i] = keep[i] && v > 10;
        mask[i] += 1;
    }
}
int main() { bytes<<<2, 64>>>(0, 0, 0, 0, 0, 0, 100); }
"#;

fn compile(source: &str, kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    common::compile_as("packed.cu", source, kernel)
}

#[test]
fn narrow_buffers_are_packed_into_words() {
    let out = compile(KERNEL, "bytes").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("bytes_wgsl", out.wgsl);
    let elements: Vec<_> = out
        .sidecar
        .bindings
        .iter()
        .map(|b| (b.name.as_str(), b.element.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        elements,
        [
            ("img", "u32"),
            ("mask", "atomic<u32>"),
            ("delta", "atomic<u32>"),
            ("bias", "u32"),
            ("keep", "u32"),
            ("flag", "atomic<u32>"),
            ("params", ""),
        ]
    );
}

#[test]
fn what_packing_cannot_do_is_refused_with_the_reason() {
    for (source, want) in [
        (
            "__global__ void k(unsigned char *c) { atomicAdd(&c[0], 1); }",
            "atomic operations on 8- or 16-bit (or `bool`) buffers are not supported",
        ),
        (
            "struct S { unsigned char c[4]; };\n__global__ void k(S *s) { s[threadIdx.x].c[1] = 2; }",
            "a store to an 8- or 16-bit member of a struct in a buffer or `__shared__` memory is not supported",
        ),
    ] {
        let err = compile(source, "k").expect_err(source);
        assert!(err.contains(want), "{source}:\n{err}");
    }
}

#[test]
fn packed_buffers_match_a_reference_on_the_adapter() {
    let out = compile(KERNEL, "bytes").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    // 128 threads, n = 100: elements 100.. stay as they were.
    let len = 128usize;
    let n = 100usize;
    let img: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
    let bias: Vec<i8> = (0..len)
        .map(|i| (i as i32 * 13 % 200 - 100) as i8)
        .collect();
    let delta: Vec<i16> = (0..len).map(|i| (i as i32 * 300 - 12000) as i16).collect();
    let keep: Vec<u8> = (0..len).map(|i| u8::from(i % 3 != 0)).collect();
    let mask0: Vec<u8> = vec![7; len];
    let flag0: Vec<u8> = vec![1; len];
    let words = |bytes: &[u8]| BufferSpec::bytes(bytes.len().div_ceil(4) as u64, bytes.to_vec());
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(6, ParamValue::Scalar(n as f64))
        .with_buffer("img", words(&img))
        .with_buffer("mask", words(&mask0))
        .with_buffer("delta", words(bytemuck::cast_slice(&delta)))
        .with_buffer("bias", words(bytemuck::cast_slice(&bias)))
        .with_buffer("keep", words(&keep))
        .with_buffer("flag", words(&flag0));
    let result = runner.run(&bench).expect("run");
    let output = |name: &str| result.output(name).expect(name).bytes.clone();
    let mask = output("mask");
    let got_delta: Vec<i16> = bytemuck::pod_collect_to_vec(&output("delta"));
    let flag = output("flag");
    for i in 0..len {
        let (want_mask, want_delta, want_flag) = if i < n {
            let v = i32::from(img[i]) + i32::from(bias[i]);
            let m = if v > 128 { 255u8 } else { (v + 1) as u8 };
            (
                m.wrapping_add(1),
                (i32::from(delta[i]) - v) as i16,
                u8::from(keep[i] != 0 && v > 10),
            )
        } else {
            (mask0[i], delta[i], flag0[i])
        };
        assert_eq!(mask[i], want_mask, "mask[{i}]");
        assert_eq!(got_delta[i], want_delta, "delta[{i}]");
        assert_eq!(flag[i], want_flag, "flag[{i}]");
    }
}

#[test]
fn casts_to_narrow_types_wrap_as_cuda_does() {
    let source = r#"
__global__ void narrow(const float *f, const int *v, unsigned char *u8, int *s8, int *u16) {
    int i = threadIdx.x;
    u8[i] = (unsigned char)(f[i] * 2.0f);
    s8[i] = (signed char)v[i];
    u16[i] = (unsigned short)v[i] + 1;
}
"#;
    let out = compile(source, "narrow").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("extractBits(v[i], 0u, 8u)"),
        "{}",
        out.wgsl
    );
    assert!(out.wgsl.contains("(v[i] & 65535) + 1"), "{}", out.wgsl);
    // A narrow struct member is its bits in the struct's word
    // (`narrow_members.rs`), sign-extended.
    let member = compile(
        "struct P { short c; int d; };\n__global__ void narrow(P *o) { o[0].d = o[0].c; }",
        "narrow",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        member
            .wgsl
            .contains("o[0].d = extractBits(bitcast<i32>(o[0].bytes_0[0]), 0u, 16u);"),
        "{}",
        member.wgsl
    );

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let f: Vec<f32> = (0..64).map(|i| i as f32 * 1.75).collect();
    let v: Vec<i32> = (0..64).map(|i| i * 1013 - 30000).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "f",
            BufferSpec::bytes(64, bytemuck::cast_slice(&f).to_vec()),
        )
        .with_buffer(
            "v",
            BufferSpec::bytes(64, bytemuck::cast_slice(&v).to_vec()),
        )
        .with_buffer("u8", BufferSpec::zeros(16))
        .with_buffer("s8", BufferSpec::zeros(64))
        .with_buffer("u16", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let output = |name: &str| result.output(name).expect(name).bytes.clone();
    let u8s = output("u8");
    let s8: Vec<i32> = bytemuck::pod_collect_to_vec(&output("s8"));
    let u16: Vec<i32> = bytemuck::pod_collect_to_vec(&output("u16"));
    for i in 0..64 {
        // f * 2 stays below 256: the conversion is defined in C.
        assert_eq!(u8s[i], (f[i] * 2.0) as u8, "u8[{i}]");
        assert_eq!(s8[i], i32::from(v[i] as i8), "s8[{i}]");
        assert_eq!(u16[i], i32::from(v[i] as u16) + 1, "u16[{i}]");
    }
}

#[test]
fn narrow_locals_wrap_on_every_store() {
    let source = r#"
__global__ void narrow(const int *v, unsigned char *out8, int *o) {
    int i = threadIdx.x;
    unsigned char c = v[i];
    signed char s = v[i];
    unsigned short h;
    h = v[i] * 3;
    c += 200;
    s++;
    h -= 1;
    out8[i] = c;
    o[i] = c + s + h;
}
"#;
    let out = compile(source, "narrow").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        "narrow_locals_body",
        &out.wgsl[out.wgsl.find("var c").expect("body")..]
    );
    let err = compile(
        "__global__ void narrow(unsigned int *o) { unsigned char c = 1; atomicAdd(&c, 1); o[0] = c; }",
        "narrow",
    )
    .expect_err("an atomic on a narrow local");
    assert!(err.contains("8- or 16-bit"), "{err}");

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let v: Vec<i32> = (0..64).map(|i| i * 977 - 31000).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "v",
            BufferSpec::bytes(64, bytemuck::cast_slice(&v).to_vec()),
        )
        .with_buffer("out8", BufferSpec::zeros(16))
        .with_buffer("o", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let out8 = result.output("out8").expect("out8").bytes.clone();
    let o: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("o").expect("o").bytes);
    for i in 0..64 {
        let c = (v[i] as u8).wrapping_add(200);
        let s = (v[i] as i8).wrapping_add(1);
        let h = ((v[i] * 3) as u16).wrapping_sub(1);
        assert_eq!(out8[i], c, "out8[{i}]");
        assert_eq!(o[i], i32::from(c) + i32::from(s) + i32::from(h), "o[{i}]");
    }
}

#[test]
fn narrow_kernel_parameters_are_narrowed_values() {
    let source = "__global__ void fill(char *ptr, int *wide, int sz, char val) {\n    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i < sz) { ptr[i] = val; wide[i] = val * 2; }\n    val += 1;\n}\n";
    let out = compile(source, "fill").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("var val: i32 = extractBits(params.val, 0u, 8u); // 8-bit signed"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    // 200 as a (signed) char is -56.
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(64.0))
        .with_arg(3, ParamValue::Scalar(200.0))
        .with_buffer("ptr_", BufferSpec::zeros(16))
        .with_buffer("wide", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let ptr = result.output("ptr_").expect("ptr_").bytes.clone();
    let wide: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("wide").expect("wide").bytes);
    assert!(ptr.iter().all(|&b| b as i8 == -56), "{ptr:?}");
    assert!(wide.iter().all(|&w| w == -112), "{wide:?}");
}

#[test]
fn uchar4_buffers_and_variables_are_one_word_per_element() {
    let source = r#"
__global__ void shade(uchar4 *dst, const uchar4 *src, const char4 *d, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    uchar4 c = src[i];
    uchar4 e;
    e.x = c.x + 100;
    e.y = c.y * 2;
    e.z = 255 - c.z;
    e.w = d[i].x;
    c = make_uchar4(c.x + 1, c.y, c.z, 300);
    dst[i] = (i & 1) ? e : c;
}
"#;
    let out = compile(source, "shade").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        "uchar4_body",
        &out.wgsl[out.wgsl.find("var c").expect("body")..]
    );

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let src: Vec<u8> = (0..256).map(|i| (i * 53 % 256) as u8).collect();
    let d: Vec<i8> = (0..256).map(|i| (i * 29 % 256) as u8 as i8).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(60.0))
        .with_buffer("dst", BufferSpec::bytes(64, vec![9; 256]))
        .with_buffer("src", BufferSpec::bytes(64, src.clone()))
        .with_buffer(
            "d",
            BufferSpec::bytes(64, bytemuck::cast_slice(&d).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let dst = result.output("dst").expect("dst").bytes.clone();
    for i in 0..64 {
        let c = &src[i * 4..i * 4 + 4];
        let want: [u8; 4] = if i >= 60 {
            [9; 4]
        } else if i & 1 == 1 {
            [
                c[0].wrapping_add(100),
                c[1].wrapping_mul(2),
                255 - c[2],
                d[i * 4] as u8,
            ]
        } else {
            [c[0].wrapping_add(1), c[1], c[2], 300u32 as u8]
        };
        assert_eq!(&dst[i * 4..i * 4 + 4], &want, "dst[{i}]");
    }
}

#[test]
fn narrow_types_behind_typedefs_are_packed_too() {
    // `typedef unsigned char Bool;` (as in the samples' lineOfSight) and a
    // typedef'd 16-bit local: the same packing as the types they name.
    let source = "typedef unsigned char Bool;\ntypedef short Sample;\n__global__ void mark(const float *h, Bool *visible, int n) {\n    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    Sample s = (Sample)(h[i] * 1000.0f);\n    if (i < n) visible[i] = s > 0;\n}\n";
    let out = compile(source, "mark").unwrap_or_else(|e| panic!("{e}"));
    let visible = out
        .sidecar
        .bindings
        .iter()
        .find(|b| b.name == "visible")
        .expect("visible");
    assert_eq!(visible.element.as_deref(), Some("atomic<u32>"));
    assert!(
        out.wgsl.contains("// 8-bit unsigned elements, 4 to a word"),
        "{}",
        out.wgsl
    );
    assert!(out.wgsl.contains("var s: i32 = "), "{}", out.wgsl);
}

/// `uchar4`/`unsigned char` values passed to kernels and device functions
/// (the CUDA samples' Mandelbrot passes `const uchar4 colors`), and stores
/// into one component of a `uchar4` buffer element (`dst[i].y = ...`): the
/// other lanes of the word keep their bytes.
#[test]
fn uchar4_parameters_and_component_stores() {
    let source = r#"
__device__ int mix(const uchar4 a, unsigned char k) {
    k += 1;
    return a.x + a.w * k;
}
__global__ void paint(uchar4 *dst, const uchar4 base, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    dst[i] = base;
    dst[i].y = mix(base, i * 5);
    dst[i].z = i * 3;
}
"#;
    let out = compile(source, "paint").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        "uchar4_parameters",
        &out.wgsl[out.wgsl.find("fn mix").expect("mix")..]
    );

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    // The runner writes what it is given: 300 arrives as 300 and is narrowed
    // to 44 on entry, as C converts the argument.
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(1, ParamValue::Vector(vec![10.0, 200.0, 7.0, 300.0]))
        .with_arg(2, ParamValue::Scalar(60.0))
        .with_buffer("dst", BufferSpec::bytes(64, vec![9; 256]));
    let result = runner.run(&bench).expect("run");
    let dst = result.output("dst").expect("dst").bytes.clone();
    for i in 0..64usize {
        let k = ((i * 5) as u8).wrapping_add(1) as i32;
        let want: [u8; 4] = if i >= 60 {
            [9; 4]
        } else {
            [10, (10 + 44 * k) as u8, (i * 3) as u8, 44]
        };
        assert_eq!(&dst[i * 4..i * 4 + 4], &want, "dst[{i}]");
    }
}

/// `__shared__` arrays of 8/16-bit elements (the CUDA samples' dct8x8,
/// bisect, simpleCUDA2GL) hold one `i32` per element, narrowed on every
/// store; a pointer of the same narrow type can point into them
/// (`short *p = block + off`), as into a packed buffer.
#[test]
fn narrow_shared_arrays_and_pointers_into_them() {
    let source = r#"
__global__ void scale(const int *in, int *out, unsigned char *bytes) {
    __shared__ short s[65];
    __shared__ uchar4 q[64];
    int t = threadIdx.x;
    short *p = s + 1;
    p[t] = in[t] * 1000;
    q[t] = make_uchar4(t, t * 2, 300, in[t]);
    q[t].z += 1;
    if (t == 0) s[0] = -1;
    __syncthreads();
    out[t] = s[(t + 1) % 65] + s[t];
    unsigned char *b = bytes + 4 * t;
    b[0] = q[63 - t].x;
    b[1] = q[63 - t].z;
}
"#;
    let out = compile(source, "scale").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        "narrow_shared",
        &out.wgsl[out.wgsl.find("let t: i32").expect("body")..]
    );

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<i32> = (0..64).map(|i| i * 37 - 900).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(64))
        .with_buffer("bytes", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let s: Vec<i32> = std::iter::once(-1)
        .chain(input.iter().map(|v| (v * 1000) as i16 as i32))
        .collect();
    let want: Vec<i32> = (0..64).map(|t| s[(t + 1) % 65] + s[t]).collect();
    assert_eq!(got, want);
    let bytes = result.output("bytes").expect("bytes").bytes.clone();
    for t in 0..64usize {
        let src = 63 - t;
        // z: 300 stored as 44, plus one.
        assert_eq!(&bytes[t * 4..t * 4 + 2], &[src as u8, 45], "bytes[{t}]");
    }
}

/// A device function returning an 8/16-bit type (dct8x8's
/// `short unfixh(int x)`) returns the promoted value, narrowed.
#[test]
fn narrow_return_values_wrap_as_cuda_does() {
    let source = "__device__ short unfix(int x) { return (x + 0x8000) >> 8; }\n\
__global__ void k(const int *in, int *out) { int t = threadIdx.x; out[t] = unfix(in[t]) + 1; }\n";
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("return extractBits((x + 32768) >> 8u, 0u, 16u);"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<i32> = (0..64).map(|i| i * 900_001 - 20_000_000).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(64));
    let result = runner.run(&bench).expect("run");
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let want: Vec<i32> = input
        .iter()
        .map(|x| (((x + 0x8000) >> 8) as i16) as i32 + 1)
        .collect();
    assert_eq!(got, want);
}

/// A template parameter named like one of the caller's is bound by the
/// callee's own arguments: in `blend<unsigned char, float>`, `pick<R>` is
/// `pick<float>`, whose `T a` is a `float`, not the caller's 8-bit `T`
/// (the CUDA samples' bicubicTexture: `cubicFilter<R>(fx, tex2D<T>(...))`
/// with `T = uchar`, which did not validate).
#[test]
fn a_callees_template_parameter_is_not_the_callers_narrow_one() {
    let source = r#"
template <class T> __device__ T pick(float x, T a, T b) { return x < 0.5f ? a : b; }
template <class T, class R> __device__ R blend(const T *in, int i) {
    return pick<R>(0.25f, (R)in[i], (R)in[i + 1]);
}
__global__ void k(const unsigned char *in, float *out) {
    int i = threadIdx.x;
    out[i] = blend<unsigned char, float>(in, i);
}
int main() { k<<<1, 32>>>(0, 0); }
"#;
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("a: f32, b: f32) -> f32"), "{}", out.wgsl);
}

/// Local arrays of 8/16-bit elements (HeCBench's md5hash `unsigned char
/// key[8]`, deredundancy `char bases[4]`, base64e's `const uchar
/// chars[] = "…"`) hold one `i32` per element like `__shared__` ones:
/// initializers and every store are narrowed, a string literal gives its
/// bytes and NUL, the array can be handed to a device function taking the
/// same narrow type, and a 32-bit view combines four elements.
#[test]
fn narrow_local_arrays_and_string_initializers() {
    let source = r#"
__device__ int total(const unsigned char *p, int n) {
    int s = 0;
    for (int i = 0; i < n; i++) s += p[i];
    return s;
}
__global__ void local_bytes(const int *in, int *out) {
    char bases[4];
    unsigned char key[8] = {0, 200, 255, 256, 1};
    const unsigned char tab[] = "AB\x7f\n";
    signed char neg[2] = {-1, 130};
    short wide[2][2] = {{40000, -2}, {3}};
    int t = threadIdx.x;
    for (int i = 0; i < 4; i++) bases[i] = in[t] + i * 100;
    key[t % 8] += 100;
    wide[t % 2][1] += in[t];
    unsigned int *w = (unsigned int *)key;
    out[2 * t] = bases[t % 4] + key[t % 8] + tab[t % 5] + neg[t % 2] + total(key, 8)
        + wide[t % 2][1] + wide[0][0];
    out[2 * t + 1] = (int)w[t % 2];
}
"#;
    let out = compile(source, "local_bytes").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(
        "narrow_local_arrays",
        &out.wgsl[out.wgsl.find("var bases").expect("body")..]
    );
    let err = compile(
        "__global__ void k(int *o) { char s[2] = \"abc\"; o[0] = s[0]; }",
        "k",
    )
    .expect_err("a string longer than its array");
    assert!(err.contains("longer than the array"), "{err}");

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let input: Vec<i32> = (0..64).map(|i| i * 53 - 1700).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(128));
    let result = runner.run(&bench).expect("run");
    let got: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    let tab: [u8; 5] = [b'A', b'B', 0x7f, b'\n', 0];
    let neg: [i8; 2] = [-1, 130u8 as i8];
    for t in 0..64usize {
        let bases: Vec<i32> = (0..4)
            .map(|i| i32::from((input[t] + i * 100) as i8))
            .collect();
        let mut key: [u8; 8] = [0, 200, 255, 0, 1, 0, 0, 0];
        key[t % 8] = key[t % 8].wrapping_add(100);
        let mut wide: [[i16; 2]; 2] = [[40000u16 as i16, -2], [3, 0]];
        wide[t % 2][1] = (i32::from(wide[t % 2][1]) + input[t]) as i16;
        let sum: i32 = key.iter().map(|&b| i32::from(b)).sum();
        let want = bases[t % 4]
            + i32::from(key[t % 8])
            + i32::from(tab[t % 5])
            + i32::from(neg[t % 2])
            + sum
            + i32::from(wide[t % 2][1])
            + i32::from(wide[0][0]);
        assert_eq!(got[2 * t], want, "out[{}]", 2 * t);
        let word = u32::from_le_bytes(key[4 * (t % 2)..4 * (t % 2) + 4].try_into().unwrap());
        assert_eq!(got[2 * t + 1], word as i32, "out[{}]", 2 * t + 1);
    }
}

/// Vectors of 8- and 16-bit lanes other than `uchar4` (`uchar3` pixels,
/// `short2` points, `char2`; HeCBench's base64e reads `reinterpret_cast<
/// const uchar3 *>(bytes)[id]`, distort and dpid keep `uchar3` images,
/// flame `short2` points; distort's `uchar3 &result` written by a device
/// function): each lane is a packed scalar, element `i`'s lane
/// `k` the scalar `n·i + k` of the buffer, read as a vector and stored lane
/// by lane (a whole element or one component). Run on the adapter against
/// a Rust reference (our own kernel).
#[test]
fn vectors_of_narrow_lanes_are_their_packed_lanes() {
    let source = r#"
__device__ void fill(uchar3 &r, int v) { r.x = v; r.y = v + 1; r.z = 300; }
__global__ void pixels(const unsigned char *bytes, uchar3 *dst, short2 *pts, int *sums) {
    int i = threadIdx.x;
    uchar3 p = reinterpret_cast<const uchar3 *>(bytes)[i];
    char2 d = make_char2(p.x - p.y, p.z);
    dst[i] = make_uchar3(p.z, p.y + 100, p.x);
    dst[i].y = dst[i].y + 1;
    short2 q = pts[i];
    pts[i] = make_short2(q.y, q.x * 300);
    uchar3 t;
    fill(t, 250 + i);
    sums[i] = p.x + p.y + p.z + d.x * 1000 + d.y + t.x + t.y * 3 + t.z * 7;
}
"#;
    let out = compile(source, "pixels").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("// uchar3 elements: 3 lanes of 8 bits each, 4 lanes to a word"),
        "{}",
        out.wgsl
    );
    const N: usize = 64;
    let bytes: Vec<u8> = (0..3 * N).map(|b| (b * 37 % 251) as u8).collect();
    let pts: Vec<i16> = (0..2 * N).map(|v| (v as i16) * 211 - 20000).collect();
    let mut words = bytes.clone();
    words.resize((3 * N).div_ceil(4) * 4, 0);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [N as u32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("bytes", BufferSpec::bytes(words.len() as u64 / 4, words))
        .with_buffer("dst", BufferSpec::zeros((3 * N as u64).div_ceil(4)))
        .with_buffer(
            "pts",
            BufferSpec::bytes(N as u64, bytemuck::cast_slice(&pts).to_vec()),
        )
        .with_buffer("sums", BufferSpec::zeros(N as u64));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let output = |name: &str| result.output(name).expect(name).bytes.clone();
    let dst = output("dst");
    let got_pts: Vec<i16> = bytemuck::pod_collect_to_vec(&output("pts"));
    let sums: Vec<i32> = bytemuck::pod_collect_to_vec(&output("sums"));
    for i in 0..N {
        let (x, y, z) = (bytes[3 * i], bytes[3 * i + 1], bytes[3 * i + 2]);
        assert_eq!(
            &dst[3 * i..3 * i + 3],
            &[z, y.wrapping_add(101), x],
            "dst[{i}]"
        );
        let dx = i32::from(x.wrapping_sub(y) as i8);
        let dy = i32::from(z as i8);
        assert_eq!(
            sums[i],
            i32::from(x)
                + i32::from(y)
                + i32::from(z)
                + dx * 1000
                + dy
                + (250 + i as i32) % 256
                + (251 + i as i32) % 256 * 3
                + 44 * 7,
            "sums[{i}]"
        );
        let (qx, qy) = (pts[2 * i], pts[2 * i + 1]);
        assert_eq!(
            (got_pts[2 * i], got_pts[2 * i + 1]),
            (qy, qx.wrapping_mul(300)),
            "pts[{i}]"
        );
    }
}

/// `(uchar4 *)rgba` of an `unsigned int *` buffer (the CUDA samples'
/// cudaNvSci `rgbToGrayscaleKernel`): each word is one `uchar4`, its bytes
/// in C's order, read with `unpack4xU8` and stored whole. Run on the
/// adapter against a Rust reference (our own kernel).
#[test]
fn uchar4_views_of_words_are_the_words() {
    let source = r#"
__global__ void gray(unsigned int *rgba, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    uchar4 *pix = (uchar4 *)rgba;
    if (i < n) {
        uchar4 p = pix[i];
        unsigned char g = (unsigned char)(p.x / 4 + p.y / 2 + p.z / 4);
        pix[i] = make_uchar4(g, g, p.w, 7);
    }
}
"#;
    let out = compile(source, "gray").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("rgba[u32(i)] = pack4xU8(vec4<u32>("),
        "{}",
        out.wgsl
    );
    let words: Vec<u32> = (0..64u32).map(|i| i.wrapping_mul(0x9e37_79b9)).collect();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(1, ParamValue::Scalar(64.0))
        .with_buffer(
            "rgba",
            BufferSpec::bytes(64, bytemuck::cast_slice(&words).to_vec()),
        );
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<u32> = bytemuck::pod_collect_to_vec(&result.output("rgba").expect("rgba").bytes);
    for (i, w) in words.iter().enumerate() {
        let [x, y, z, a] = w.to_le_bytes();
        let g = (u32::from(x) / 4 + u32::from(y) / 2 + u32::from(z) / 4) as u8;
        assert_eq!(got[i], u32::from_le_bytes([g, g, a, 7]), "rgba[{i}]");
    }
}

/// `(const uint8_t *)&a[k]` and `(const int8_t *)&a[k]` of `unsigned` and
/// `int` buffers (HeCBench dp4a): read-only views of their bytes in C's
/// order; `if constexpr (std::is_same_v<T, unsigned>)` lowers only the
/// branch its instance takes (the other need not compile). On lavapipe
/// against Rust.
#[test]
fn byte_views_of_word_buffers_read_c_bytes() {
    let source = r#"
#include <type_traits>
template <typename T>
__global__ void dot(const T *a, const T *b, int *d) {
    int i = threadIdx.x;
    int sum = 0;
    if constexpr (std::is_same_v<T, unsigned>) {
        const uint8_t *a8 = (const uint8_t *)&a[i];
        const uint8_t *b8 = (const uint8_t *)&b[i];
        sum = a8[0] * b8[0] + a8[1] * b8[1] + a8[2] * b8[2] + a8[3] * b8[3];
    } else {
        const int8_t *a8 = (const int8_t *)&a[i];
        const int8_t *b8 = (const int8_t *)&b[i];
        sum = a8[0] * b8[0] + a8[1] * b8[1] + a8[2] * b8[2] + a8[3] * b8[3];
    }
    d[i] = sum;
}
template __global__ void dot<unsigned>(const unsigned *, const unsigned *, int *);
template __global__ void dot<int>(const int *, const int *, int *);
"#;
    let a: Vec<u32> = (0..32u32)
        .map(|i| i.wrapping_mul(0x9E37_79B9) ^ 0x80ff_7f01)
        .collect();
    let b: Vec<u32> = (0..32u32)
        .map(|i| (i + 3).wrapping_mul(0x85EB_CA6B))
        .collect();
    for (ty, signed) in [("unsigned", false), ("int", true)] {
        let opts = cudalens_wgsl::TranspileOptions {
            instantiation: Some(vec![ty.to_string()]),
            ..Default::default()
        };
        let out = common::compile(source, "dot", &opts).unwrap_or_else(|e| panic!("{ty}: {e:?}"));
        let Some(got) = common::run_block::<i32>(
            &out,
            32,
            &[
                ("a", 32, bytemuck::cast_slice(&a).to_vec()),
                ("b", 32, bytemuck::cast_slice(&b).to_vec()),
            ],
            ("d", 32),
        ) else {
            return;
        };
        for i in 0..32 {
            let (x, y) = (a[i].to_le_bytes(), b[i].to_le_bytes());
            let want: i32 = (0..4)
                .map(|k| match signed {
                    true => i32::from(x[k] as i8) * i32::from(y[k] as i8),
                    false => i32::from(x[k]) * i32::from(y[k]),
                })
                .sum();
            assert_eq!(got[i], want, "{ty} thread {i}");
        }
    }
}
