//! `__dp4a` (HeCBench's dp4a `dot_product2`), the SIMD-in-a-word
//! `__vabs4/2`, `__vabsdiffs4/2`, `__vabsdiffu4/2` and `__vmaxs4` (relu's
//! `Relu_impl2`), `ldexpf` (rfs's `sumArrays`) and cuda_fp16.h's
//! comparisons, `__float22half2_rn` and half
//! math (relu's `ReluGrad_impl1`, gelu's `gelu_bias_loop`, crossEntropy's
//! `loss_bwd`). The integer and float functions run on a real adapter
//! (lavapipe here) against a reference in Rust; the half ones are
//! validated by naga with 16-bit floats (lavapipe has none).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const SOURCE: &str = r#"
__global__ void fns(const int *a, const int *b, const unsigned *ua, const unsigned *ub,
                    int *d, unsigned *ud, const float *x, const int *e, float *l, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    d[i] = __dp4a(a[i], b[i], i - 5);
    ud[i] = __dp4a(ua[i], ub[i], 7u);
    l[i] = ldexpf(x[i], e[i]);
}
"#;

/// A fixed sequence of words from `seed` (xorshift32).
fn xorshift(mut seed: u32) -> impl FnMut() -> u32 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    }
}

fn dp4a_signed(a: i32, b: i32, c: i32) -> i32 {
    (0..4).fold(c, |acc, k| {
        let byte = |v: i32| ((v >> (8 * k)) & 0xff) as u8 as i8 as i32;
        acc.wrapping_add(byte(a) * byte(b))
    })
}

fn dp4a_unsigned(a: u32, b: u32, c: u32) -> u32 {
    (0..4).fold(c, |acc, k| {
        let byte = |v: u32| (v >> (8 * k)) & 0xff;
        acc.wrapping_add(byte(a) * byte(b))
    })
}

#[test]
fn byte_dot_products_and_ldexp_match_a_reference_on_the_adapter() {
    let out = common::compile_as("fns.cu", SOURCE, "fns").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("extractBits(a[i], 24u, 8u)"),
        "{}",
        out.wgsl
    );
    assert!(out.wgsl.contains("fn cuda_ldexpf"), "{}", out.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    // Bytes of every sign and size, from a fixed generator.
    let mut next = xorshift(0x2545_f491);
    let (a, b, ua, ub): (Vec<i32>, Vec<i32>, Vec<u32>, Vec<u32>) = (0..n)
        .map(|_| (next() as i32, next() as i32, next(), next()))
        .fold(Default::default(), |mut v, (p, q, r, s)| {
            v.0.push(p);
            v.1.push(q);
            v.2.push(r);
            v.3.push(s);
            v
        });
    // Exponents past the bias overflow to infinity and underflow to zero,
    // as in CUDA (WGSL's `ldexp` alone leaves them undefined).
    let x: Vec<f32> = (0..n).map(|i| (i as f32 - 20.5) * 1.75).collect();
    let e: Vec<i32> = (0..n)
        .map(|i| [-3, 0, 7, 127, 200, -200, -140, 130][i % 8])
        .collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bytes = |v: &[u8]| BufferSpec::bytes(n as u64, v.to_vec());
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(9, ParamValue::Scalar(n as f64))
        .with_buffer("a", bytes(bytemuck::cast_slice(&a)))
        .with_buffer("b", bytes(bytemuck::cast_slice(&b)))
        .with_buffer("ua", bytes(bytemuck::cast_slice(&ua)))
        .with_buffer("ub", bytes(bytemuck::cast_slice(&ub)))
        .with_buffer("x", bytes(bytemuck::cast_slice(&x)))
        .with_buffer("e", bytes(bytemuck::cast_slice(&e)))
        .with_buffer("d", BufferSpec::zeros(n as u64))
        .with_buffer("ud", BufferSpec::zeros(n as u64))
        .with_buffer("l", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let read = |name: &str| -> Vec<u8> { result.output(name).expect(name).bytes.clone() };
    let d: Vec<i32> = bytemuck::pod_collect_to_vec(&read("d"));
    let ud: Vec<u32> = bytemuck::pod_collect_to_vec(&read("ud"));
    let l: Vec<f32> = bytemuck::pod_collect_to_vec(&read("l"));
    for i in 0..n {
        assert_eq!(
            d[i],
            dp4a_signed(a[i], b[i], i as i32 - 5),
            "__dp4a({}, {})",
            a[i],
            b[i]
        );
        assert_eq!(
            ud[i],
            dp4a_unsigned(ua[i], ub[i], 7),
            "__dp4a({}u, {}u)",
            ua[i],
            ub[i]
        );
        // Exact: a power of two scales without rounding (denormal results
        // aside, which -140 and -200 take to zero or keep by the adapter's
        // flush mode: 0 or the exact denormal both pass).
        let want = (f64::from(x[i]) * 2f64.powi(e[i])) as f32;
        let denormal = want != 0.0 && want.abs() < f32::MIN_POSITIVE;
        assert!(
            l[i] == want || denormal && l[i] == 0.0,
            "ldexpf({}, {}) = {}, want {want}",
            x[i],
            e[i],
            l[i]
        );
    }
}

#[test]
fn half_comparisons_conversions_and_math_are_f16() {
    let source = r#"
#include <cuda_fp16.h>
__global__ void k(const half2 *a, const half2 *b, half2 *o, const float2 *f, half *h) {
    int i = threadIdx.x;
    o[i] = __hmul2(__hgt2(a[i], b[i]), a[i]);
    half2 t = __float22half2_rn(f[i]);
    h[i] = __hle(h[i], __low2half(t)) ? hexp(h[i]) : hsqrt(h[i]);
    o[i + 32] = h2log(t);
    o[i + 64] = __hmax2(__habs2(a[i]), __h2div(a[i], b[i]));
    h[i + 32] = __hmin(__habs(h[i]), __hdiv(h[i], __hmax(h[i], __low2half(t))));
}
"#;
    assert_f16_kernel_has(
        source,
        &[
            "select(vec2<f16>(0.0h), vec2<f16>(1.0h), (a[i] > b[i]))",
            "vec2<f16>(f[i])",
            "(h[i] <= t.x)",
            "exp(h[i])",
            "sqrt(h[i])",
            "log(t)",
            "max(abs(a[i]), (a[i] / b[i]))",
            "min(abs(h[i]), (h[i] / max(h[i], t.x)))",
        ],
    );
}

/// Kernel `k` of `source`, compiled with 16-bit floats, has each of
/// `wants` in its WGSL (validated by naga; lavapipe has no f16 to run it
/// on), and without them is refused for wanting them.
fn assert_f16_kernel_has(source: &str, wants: &[&str]) {
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f16: true,
        ..Default::default()
    };
    let out = common::compile(source, "k", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    for want in wants {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let err = common::compile_as("h.cu", source, "k").expect_err("no f16");
    assert!(err.contains("16-bit floats"), "{err}");
}

/// A `half`'s bits as `unsigned short`/`short` and back (HeCBench
/// f16atomic's `__ushort_as_half((unsigned short)0x3c00U)`): through
/// `unpack2x16float`'s and `pack2x16float`'s low lane, the 16 bits
/// sign-extended for `short`.
#[test]
fn half_bits_are_the_low_lane_of_a_word() {
    let source = r#"
#include <cuda_fp16.h>
__global__ void k(const unsigned short *u, const short *s, half *h, unsigned short *bu, short *bs) {
    int i = threadIdx.x;
    h[i] = __hadd(__ushort_as_half((unsigned short)0x3c00U), __short_as_half(s[i]));
    bu[i] = __half_as_ushort(h[i]);
    bs[i] = __half_as_short(__ushort_as_half(u[i]));
}
"#;
    assert_f16_kernel_has(
        source,
        &[
            "f16(unpack2x16float(u32((15360 & 65535))).x)",
            "f16(unpack2x16float(bitcast<u32>(",
            "pack2x16float(vec2<f32>(f32(h[",
            "extractBits(bitcast<i32>(pack2x16float(",
        ],
    );
}

const SIMD: &str = r#"
__global__ void simd(const unsigned *a, const unsigned *b, unsigned *o, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    o[7 * i] = __vabs4(a[i]);
    o[7 * i + 1] = __vabs2(a[i]);
    o[7 * i + 2] = __vabsdiffs2(a[i], b[i]);
    o[7 * i + 3] = __vmaxs4(a[i], b[i]);
    o[7 * i + 4] = __vabsdiffs4(a[i], b[i]);
    o[7 * i + 5] = __vabsdiffu2(a[i], b[i]);
    o[7 * i + 6] = __vabsdiffu4(a[i], b[i]);
}
"#;

/// Each lane of `bits` bits of `a` (and `b`), signed or not, through `f`.
fn lanes(bits: u32, signed: bool, a: u32, b: u32, f: impl Fn(i32, i32) -> i32) -> u32 {
    (0..32 / bits).fold(0u32, |r, k| {
        let lane = |v: u32| {
            let shift = 32 - bits;
            let top = (v >> (k * bits)) << shift;
            match signed {
                true => (top as i32) >> shift,
                false => (top >> shift) as i32,
            }
        };
        let mask = (1u32 << bits) - 1;
        r | ((f(lane(a), lane(b)) as u32 & mask) << (k * bits))
    })
}

#[test]
fn simd_in_a_word_intrinsics_match_a_reference_on_the_adapter() {
    let out = common::compile_as("simd.cu", SIMD, "simd").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let mut next = xorshift(0x9e37_79b9);
    let mut a: Vec<u32> = (0..n).map(|_| next()).collect();
    let b: Vec<u32> = (0..n).map(|_| next()).collect();
    // The lanes' extremes: -128 and -32768 have no positive counterpart.
    a[0] = 0x8080_8080;
    a[1] = 0x7f80_01ff;
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(n as f64))
        .with_buffer(
            "a",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&a).to_vec()),
        )
        .with_buffer(
            "b",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&b).to_vec()),
        )
        .with_buffer("o", BufferSpec::zeros(7 * n as u64));
    let result = runner.run(&bench).expect("run");
    let o: Vec<u32> = bytemuck::pod_collect_to_vec(&result.output("o").expect("o").bytes);
    for i in 0..n {
        let want = [
            lanes(8, true, a[i], 0, |x, _| x.abs()),
            lanes(16, true, a[i], 0, |x, _| x.abs()),
            lanes(16, true, a[i], b[i], |x, y| (x - y).abs()),
            lanes(8, true, a[i], b[i], |x, y| x.max(y)),
            lanes(8, true, a[i], b[i], |x, y| (x - y).abs()),
            lanes(16, false, a[i], b[i], |x, y| (x - y).abs()),
            lanes(8, false, a[i], b[i], |x, y| (x - y).abs()),
        ];
        let names = [
            "__vabs4",
            "__vabs2",
            "__vabsdiffs2",
            "__vmaxs4",
            "__vabsdiffs4",
            "__vabsdiffu2",
            "__vabsdiffu4",
        ];
        for (k, name) in names.iter().enumerate() {
            assert_eq!(o[7 * i + k], want[k], "{name}({:#x}, {:#x})", a[i], b[i]);
        }
    }
}

/// Runs `out` (a kernel of words `a`, `b` and outputs `o`) in one block
/// of `a.len()` threads; the `outputs` words of `o`.
fn run_words(
    runner: &mut cudalens_gpu::Runner,
    out: &cudalens_wgsl::TranspileOutput,
    a: &[u32],
    b: &[u32],
    outputs: usize,
) -> Vec<u32> {
    let n = a.len() as u64;
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let words = |v: &[u32]| BufferSpec::bytes(n, bytemuck::cast_slice(v).to_vec());
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [n as u32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("a", words(a))
        .with_buffer("b", words(b))
        .with_buffer("o", BufferSpec::zeros(outputs as u64));
    let result = runner.run(&bench).expect("run");
    bytemuck::pod_collect_to_vec(&result.output("o").expect("o").bytes)
}

/// A lane function of the reference: each lane's value of `a` and `b`.
type Lane = fn(i32, i32) -> i32;

/// The rest of the SIMD family (HeCBench intrinsics-simd calls them all),
/// per the CUDA Math API: (name, lane bits, signed lanes, arity, lane).
fn simd_family() -> Vec<(String, u32, bool, usize, Lane)> {
    let mut family: Vec<(String, u32, bool, usize, Lane)> = Vec::new();
    for (n, bits) in [("4", 8u32), ("2", 16)] {
        let add =
            |name: &str, signed, arity, f: Lane| (format!("__{name}{n}"), bits, signed, arity, f);
        family.extend([
            add("vadd", false, 2, |x, y| x + y),
            add("vsub", false, 2, |x, y| x - y),
            add("vneg", true, 1, |x, _| -x),
            add("vmaxs", true, 2, |x, y| x.max(y)),
            add("vmaxu", false, 2, |x, y| x.max(y)),
            add("vmins", true, 2, |x, y| x.min(y)),
            add("vminu", false, 2, |x, y| x.min(y)),
            add("vhaddu", false, 2, |x, y| (x + y) >> 1),
            add("vavgu", false, 2, |x, y| (x + y + 1) >> 1),
            // Half away from zero (NVIDIA's simd_functions.h).
            add("vavgs", true, 2, |x, y| match x + y {
                s if s < 0 => s >> 1,
                s => (s + 1) >> 1,
            }),
            add("vsubus", false, 2, |x, y| (x - y).max(0)),
            add("vcmpeq", false, 2, |x, y| -i32::from(x == y)),
            add("vcmpne", false, 2, |x, y| -i32::from(x != y)),
            add("vcmpges", true, 2, |x, y| -i32::from(x >= y)),
            add("vcmpgeu", false, 2, |x, y| -i32::from(x >= y)),
            add("vcmpgts", true, 2, |x, y| -i32::from(x > y)),
            add("vcmpgtu", false, 2, |x, y| -i32::from(x > y)),
            add("vcmples", true, 2, |x, y| -i32::from(x <= y)),
            add("vcmpleu", false, 2, |x, y| -i32::from(x <= y)),
            add("vcmplts", true, 2, |x, y| -i32::from(x < y)),
            add("vcmpltu", false, 2, |x, y| -i32::from(x < y)),
            add("vseteq", false, 2, |x, y| i32::from(x == y)),
            add("vsetne", false, 2, |x, y| i32::from(x != y)),
            add("vsetges", true, 2, |x, y| i32::from(x >= y)),
            add("vsetgeu", false, 2, |x, y| i32::from(x >= y)),
            add("vsetgts", true, 2, |x, y| i32::from(x > y)),
            add("vsetgtu", false, 2, |x, y| i32::from(x > y)),
            add("vsetles", true, 2, |x, y| i32::from(x <= y)),
            add("vsetleu", false, 2, |x, y| i32::from(x <= y)),
            add("vsetlts", true, 2, |x, y| i32::from(x < y)),
            add("vsetltu", false, 2, |x, y| i32::from(x < y)),
        ]);
        // Saturated: to the signed lane's range, or the unsigned one's.
        let saturated: [(&str, bool, usize, Lane, Lane); 5] = [
            (
                "vabsss",
                true,
                1,
                |x, _| x.abs().min(127),
                |x, _| x.abs().min(32767),
            ),
            (
                "vaddss",
                true,
                2,
                |x, y| (x + y).clamp(-128, 127),
                |x, y| (x + y).clamp(-32768, 32767),
            ),
            (
                "vsubss",
                true,
                2,
                |x, y| (x - y).clamp(-128, 127),
                |x, y| (x - y).clamp(-32768, 32767),
            ),
            (
                "vaddus",
                false,
                2,
                |x, y| (x + y).min(255),
                |x, y| (x + y).min(65535),
            ),
            (
                "vnegss",
                true,
                1,
                |x, _| (-x).min(127),
                |x, _| (-x).min(32767),
            ),
        ];
        for (name, signed, arity, bytes, halves) in saturated {
            family.push(add(
                name,
                signed,
                arity,
                if bits == 8 { bytes } else { halves },
            ));
        }
    }
    family
}

#[test]
fn the_rest_of_the_simd_family_matches_a_reference_on_the_adapter() {
    let family = simd_family();
    let calls: String = family
        .iter()
        .enumerate()
        .map(|(k, (name, _, _, arity, _))| {
            let args = if *arity == 1 { "a[i]" } else { "a[i], b[i]" };
            format!("    o[{m} * i + {k}] = {name}({args});\n", m = family.len())
        })
        .collect();
    let source = format!(
        "__global__ void simd(const unsigned *a, const unsigned *b, unsigned *o) {{\n    int i = threadIdx.x;\n{calls}}}\n"
    );
    let out = common::compile_as("simd.cu", &source, "simd").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let mut next = xorshift(0x2545_f491);
    let mut a: Vec<u32> = (0..n).map(|_| next()).collect();
    let mut b: Vec<u32> = (0..n).map(|_| next()).collect();
    // Lanes at their extremes, and equal lanes for the comparisons.
    a[0] = 0x8080_8080;
    b[0] = 0x7f7f_7f7f;
    a[1] = 0x7fff_8000;
    b[1] = 0x7fff_8000;
    a[2] = 0xffff_00ff;
    b[2] = 0x0001_ff01;
    let m = family.len();
    let o = run_words(runner, &out, &a, &b, m * n);
    for i in 0..n {
        for (k, (name, bits, signed, _, f)) in family.iter().enumerate() {
            let want = lanes(*bits, *signed, a[i], b[i], f);
            assert_eq!(o[m * i + k], want, "{name}({:#x}, {:#x})", a[i], b[i]);
        }
    }
}

/// A three-operand lane function of the DPX reference: each lane's value
/// of `a`, `b`, `c` and how a sum wraps to the lane.
type Lane3 = fn(i64, i64, i64, &dyn Fn(i64) -> i64) -> i64;

/// `f` of each lane of `bits` bits (16 or 32) of `a`, `b`, `c`, signed or
/// not, the result's low bits put back in the lane.
fn lanes3(bits: u32, signed: bool, words: [u32; 3], f: Lane3) -> u32 {
    let value = |w: u32, k: u32| {
        let v = (u64::from(w) >> k) & ((1u64 << bits) - 1);
        match signed && v >> (bits - 1) == 1 {
            true => v as i64 - (1i64 << bits),
            false => v as i64,
        }
    };
    let wrap = move |v: i64| {
        let low = v & ((1i64 << bits) - 1);
        match signed && low >> (bits - 1) == 1 {
            true => low - (1i64 << bits),
            false => low,
        }
    };
    (0..32).step_by(bits as usize).fold(0u32, |r, k| {
        let [x, y, z] = words.map(|w| value(w, k));
        let lane = (f(x, y, z, &wrap) as u64 & ((1u64 << bits) - 1)) << k;
        r | lane as u32
    })
}

/// sm_90's DPX functions as the CUDA Math API defines them (HeCBench
/// intrinsics-simd calls them all): (name, lane bits, signed, arity, lane).
fn dpx_family() -> Vec<(String, u32, bool, usize, Lane3)> {
    let mut family: Vec<(String, u32, bool, usize, Lane3)> = Vec::new();
    for (suffix, bits, signed) in [
        ("s32", 32, true),
        ("u32", 32, false),
        ("s16x2", 16, true),
        ("u16x2", 16, false),
    ] {
        let mut add = |name: &str, arity, f: Lane3| {
            family.push((format!("__{name}_{suffix}"), bits, signed, arity, f))
        };
        add("viaddmax", 3, |x, y, z, w| w(x + y).max(z));
        add("viaddmin", 3, |x, y, z, w| w(x + y).min(z));
        add("vimax3", 3, |x, y, z, _| x.max(y).max(z));
        add("vimin3", 3, |x, y, z, _| x.min(y).min(z));
        add("vimax", 2, |x, y, _, _| x.max(y));
        add("vimin", 2, |x, y, _, _| x.min(y));
        if signed {
            let mut relu = |name: &str, arity, f: Lane3| {
                family.push((format!("__{name}_{suffix}_relu"), bits, signed, arity, f))
            };
            relu("viaddmax", 3, |x, y, z, w| w(x + y).max(z).max(0));
            relu("viaddmin", 3, |x, y, z, w| w(x + y).min(z).max(0));
            relu("vimax3", 3, |x, y, z, _| x.max(y).max(z).max(0));
            relu("vimin3", 3, |x, y, z, _| x.min(y).min(z).max(0));
            relu("vimax", 2, |x, y, _, _| x.max(y).max(0));
            relu("vimin", 2, |x, y, _, _| x.min(y).max(0));
        }
    }
    family
}

/// The DPX functions (with `c = a ^ b`, as the GPU program of
/// `tests/ground-truth/simd-intrinsics` takes them), `__vibmax`/`__vibmin`
/// and their predicates, and the `__vsad*` sums of lane differences, on
/// the adapter against [`lanes3`].
#[test]
fn dpx_functions_and_lane_sums_match_a_reference_on_the_adapter() {
    let family = dpx_family();
    let m = family.len() + 4 + 8;
    let mut calls: String = family
        .iter()
        .enumerate()
        .map(|(k, (name, _, _, arity, _))| {
            let args = if *arity == 2 {
                "a[i], b[i]"
            } else {
                "a[i], b[i], a[i] ^ b[i]"
            };
            format!("    o[{m} * i + {k}] = {name}({args});\n")
        })
        .collect();
    let sads = ["__vsads4", "__vsads2", "__vsadu4", "__vsadu2"];
    for (k, name) in sads.iter().enumerate() {
        let at = family.len() + k;
        calls += &format!("    o[{m} * i + {at}] = {name}(a[i], b[i]);\n");
    }
    let chosen = [
        "__vibmax_s32",
        "__vibmin_u32",
        "__vibmax_s16x2",
        "__vibmin_u16x2",
    ];
    for (k, name) in chosen.iter().enumerate() {
        let at = family.len() + 4 + 2 * k;
        let preds = if name.ends_with("16x2") {
            "&hi, &lo"
        } else {
            "&hi"
        };
        calls += &format!(
            "    hi = false; lo = false;\n    o[{m} * i + {at}] = {name}(a[i], b[i], {preds});\n    o[{m} * i + {at} + 1] = (hi ? 2u : 0u) | (lo ? 1u : 0u);\n"
        );
    }
    let source = format!(
        "__global__ void dpx(const unsigned *a, const unsigned *b, unsigned *o) {{\n    int i = threadIdx.x;\n    bool hi, lo;\n{calls}}}\n"
    );
    let out = common::compile_as("dpx.cu", &source, "dpx").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let mut next = xorshift(0x2545_f491);
    let mut a: Vec<u32> = (0..n).map(|_| next()).collect();
    let mut b: Vec<u32> = (0..n).map(|_| next()).collect();
    // Sums past the lanes' ranges, equal lanes, the extremes.
    (a[0], b[0]) = (0x7fff_7fff, 0x0001_7fff);
    (a[1], b[1]) = (0x8000_0000, 0x8000_ffff);
    (a[2], b[2]) = (0xffff_ffff, 0x0000_0001);
    let o = run_words(runner, &out, &a, &b, m * n);
    for i in 0..n {
        let words = [a[i], b[i], a[i] ^ b[i]];
        for (k, (name, bits, signed, _, f)) in family.iter().enumerate() {
            let want = lanes3(*bits, *signed, words, *f);
            assert_eq!(o[m * i + k], want, "{name}({:#x}, {:#x})", a[i], b[i]);
        }
        for (k, name) in sads.iter().enumerate() {
            let (bits, signed) = (
                if name.ends_with('4') { 8 } else { 16 },
                name.contains("sads"),
            );
            let diffs = lanes3(bits, signed, words, |x, y, _, _| (x - y).abs());
            let sum: u32 = (0..32)
                .step_by(bits as usize)
                .map(|k| (diffs >> k) & ((1u32 << bits) - 1))
                .sum();
            let got = o[m * i + family.len() + k];
            assert_eq!(got, sum, "{name}({:#x}, {:#x})", a[i], b[i]);
        }
        for (k, name) in chosen.iter().enumerate() {
            let at = m * i + family.len() + 4 + 2 * k;
            let (bits, signed) = (
                if name.ends_with("16x2") { 16 } else { 32 },
                name.contains("_s"),
            );
            let max = name.contains("max");
            let pick: Lane3 = if max {
                |x, y, _, _| x.max(y)
            } else {
                |x, y, _, _| x.min(y)
            };
            assert_eq!(o[at], lanes3(bits, signed, words, pick), "{name} value");
            let chose_a: Lane3 = if max {
                |x, y, _, _| i64::from(x >= y)
            } else {
                |x, y, _, _| i64::from(x <= y)
            };
            let per_lane = lanes3(bits, signed, words, chose_a);
            let want = match bits {
                16 => ((per_lane >> 16) & 1) << 1 | (per_lane & 1),
                _ => per_lane << 1,
            };
            assert_eq!(
                o[at + 1],
                want,
                "{name} predicates of ({:#x}, {:#x})",
                a[i],
                b[i]
            );
        }
    }
}

/// `__byte_perm(x, y, s)` as the CUDA Math API defines it: byte `n` of the
/// result is byte `(s >> 4n) & 7` of `y:x`.
fn byte_perm(x: u32, y: u32, s: u32) -> u32 {
    let bytes = (u64::from(y) << 32) | u64::from(x);
    (0..4).fold(0, |r, n| {
        let k = (s >> (4 * n)) & 7;
        r | ((((bytes >> (8 * k)) & 0xff) as u32) << (8 * n))
    })
}

/// `__byte_perm` with the constant byte swap of HeCBench bitcracker's
/// `decrypt_vmk_with_mac` and with selectors read at run time (f16max's
/// `half_max` computes its own), on the adapter against [`byte_perm`].
#[test]
fn byte_permutes_match_the_documented_selection_on_the_adapter() {
    let source = r#"
__global__ void perm(const unsigned *a, const unsigned *b, const unsigned *s, unsigned *o) {
    int i = threadIdx.x;
    o[2 * i] = __byte_perm(a[i], 0, 0x0123);
    o[2 * i + 1] = __byte_perm(a[i], b[i], s[i] & 0x7777);
}
"#;
    let out = common::compile_as("perm.cu", source, "perm").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("fn cuda_byte_perm("), "{}", out.wgsl);
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 64usize;
    let mut next = xorshift(0x1234_5678);
    let words = |next: &mut dyn FnMut() -> u32| (0..n).map(|_| next()).collect::<Vec<u32>>();
    let (a, b, s) = (words(&mut next), words(&mut next), words(&mut next));
    let bytes = |v: &[u32]| BufferSpec::bytes(n as u64, bytemuck::cast_slice(v).to_vec());
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("a", bytes(&a))
        .with_buffer("b", bytes(&b))
        .with_buffer("s", bytes(&s))
        .with_buffer("o", BufferSpec::zeros(2 * n as u64));
    let result = runner.run(&bench).expect("run");
    let o: Vec<u32> = bytemuck::pod_collect_to_vec(&result.output("o").expect("o").bytes);
    for i in 0..n {
        assert_eq!(o[2 * i], a[i].swap_bytes(), "swap of {:#x}", a[i]);
        let want = byte_perm(a[i], b[i], s[i] & 0x7777);
        assert_eq!(
            o[2 * i + 1],
            want,
            "({:#x}, {:#x}, {:#x})",
            a[i],
            b[i],
            s[i]
        );
    }
}

/// `__umulhi`, `__mulhi`, `__umul64hi`, `__mul64hi` (HeCBench merkle's
/// `mul_hi` of `ulong4` lanes): the high half of the full product, from
/// the operands' halves, against Rust's wide products on lavapipe; and
/// `ULONG_MAX`/`LONG_MIN` as LP64 Linux defines them.
#[test]
fn high_halves_of_products_match_wide_arithmetic_on_the_adapter() {
    let source = r#"
__global__ void hi(const unsigned long long *a, const unsigned long long *b, unsigned long long *o) {
    int i = threadIdx.x;
    unsigned long long x = a[i], y = b[i];
    unsigned int x32 = (unsigned int)x, y32 = (unsigned int)y;
    o[5 * i] = __umul64hi(x, y);
    o[5 * i + 1] = (unsigned long long)__mul64hi((long long)x, (long long)y);
    o[5 * i + 2] = __umulhi(x32, y32);
    o[5 * i + 3] = (unsigned int)__mulhi((int)x32, (int)y32);
    o[5 * i + 4] = (x & 1) ? ULONG_MAX : (unsigned long long)LONG_MIN;
}
"#;
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        ..Default::default()
    };
    let out = common::compile(source, "hi", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    let a: Vec<u64> = (0..32u64)
        .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (i << 60))
        .collect();
    let b: Vec<u64> = (0..32u64)
        .map(|i| {
            (i + 7)
                .wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                .rotate_left(i as u32)
        })
        .collect();
    let Some(got) = common::run_block::<u64>(
        &out,
        32,
        &[
            ("a", 32, bytemuck::cast_slice(&a).to_vec()),
            ("b", 32, bytemuck::cast_slice(&b).to_vec()),
        ],
        ("o", 160),
    ) else {
        return;
    };
    for i in 0..32 {
        let (x, y) = (a[i], b[i]);
        let (x32, y32) = (x as u32, y as u32);
        let want = [
            ((x as u128 * y as u128) >> 64) as u64,
            ((x as i64 as i128 * y as i64 as i128) >> 64) as i64 as u64,
            ((x32 as u64 * y32 as u64) >> 32) as u32 as u64,
            ((x32 as i32 as i64 * y32 as i32 as i64) >> 32) as i32 as u32 as u64,
            if x & 1 == 1 {
                u64::MAX
            } else {
                i64::MIN as u64
            },
        ];
        assert_eq!(&got[5 * i..5 * i + 5], &want[..], "thread {i}");
    }
}

/// The fp8 value nearest `x` (ties to the even code), by decoding all the
/// codes: an oracle independent of the WGSL helper's bit arithmetic.
fn fp8_oracle(x: f32, e5m2: bool, satfinite: bool) -> u8 {
    let (m, bias, maxnorm) = if e5m2 { (2, 15, 0x7b) } else { (3, 7, 0x7e) };
    let decode = |code: u8| -> f64 {
        let e = i32::from(code >> m);
        let f = f64::from(code & ((1 << m) - 1));
        if e == 0 {
            f * 2f64.powi(1 - bias - m)
        } else {
            (1.0 + f / f64::from(1 << m)) * 2f64.powi(e - bias)
        }
    };
    if x.is_nan() {
        return 0x7f;
    }
    let sign = if x.is_sign_negative() { 0x80 } else { 0 };
    let over = if satfinite {
        maxnorm
    } else if e5m2 {
        0x7c
    } else {
        0x7f
    };
    let a = f64::from(x.abs());
    if x.is_infinite() {
        return sign | over;
    }
    // Past the largest finite value by half a step, or at the tie when
    // the code after it is even (E5M2's infinity; E4M3's 0x7F is odd):
    // overflow.
    let top = decode(maxnorm);
    let half = (top - decode(maxnorm - 1)) / 2.0;
    if a > top + half || (a == top + half && (maxnorm + 1) % 2 == 0) {
        return sign | over;
    }
    let mut best = 0u8;
    for code in 0..=maxnorm {
        let (d, b) = ((decode(code) - a).abs(), (decode(best) - a).abs());
        if d < b || (d == b && code % 2 == 0) {
            best = code;
        }
    }
    sign | best
}

/// `__nv_cvt_float_to_fp8` in both formats and saturation modes (HeCBench
/// f8cast) against the oracle on lavapipe: ties, denormals, the largest
/// values, overflow, infinities, NaN, -0.
#[test]
fn float_to_fp8_rounds_to_nearest_even_and_saturates_as_ptx() {
    let source = r#"
__global__ void cvt(const float *x, unsigned char *o) {
    int i = threadIdx.x;
    o[4 * i] = __nv_cvt_float_to_fp8(x[i], __NV_SATFINITE, __NV_E4M3);
    o[4 * i + 1] = __nv_cvt_float_to_fp8(x[i], __NV_NOSAT, __NV_E4M3);
    o[4 * i + 2] = __nv_cvt_float_to_fp8(x[i], __NV_SATFINITE, __NV_E5M2);
    o[4 * i + 3] = __nv_cvt_float_to_fp8(x[i], __NV_NOSAT, __NV_E5M2);
}
"#;
    let out = common::compile_as("fp8.cu", source, "cvt").unwrap_or_else(|e| panic!("{e}"));
    let mut xs: Vec<f32> = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        1.0625,
        1.1875,
        448.0,
        464.0,
        463.9,
        480.0,
        57344.0,
        61440.0,
        61439.0,
        1e30,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        2f32.powi(-9),
        2f32.powi(-10),
        1.5 * 2f32.powi(-10),
        2f32.powi(-16),
        2f32.powi(-17),
        3.0 * 2f32.powi(-18),
        0.3,
        -2.75,
        1e-30,
        96.0,
        104.0,
    ];
    xs.extend((0..100).map(|i| (i as f32 - 50.0) * 1.37));
    xs.truncate(128);
    let n = xs.len();
    let Some(got) = common::run_block::<u8>(
        &out,
        n as u32,
        &[("x", n as u64, bytemuck::cast_slice(&xs).to_vec())],
        ("o", (4 * n) as u64),
    ) else {
        return;
    };
    for (i, x) in xs.iter().enumerate() {
        let want = [
            fp8_oracle(*x, false, true),
            fp8_oracle(*x, false, false),
            fp8_oracle(*x, true, true),
            fp8_oracle(*x, true, false),
        ];
        assert_eq!(&got[4 * i..4 * i + 4], &want[..], "x = {x:e}");
    }
}

/// `clock_t` as data is glibc's `long` (the samples' simpleHyperQ `sum`
/// adds up the clocks other kernels wrote): 64 bits, on lavapipe.
#[test]
fn clock_t_values_are_64_bit_integers() {
    let source = "__global__ void sum(clock_t *d_clocks, int n) {\n\
        clock_t s = 0;\n for (int i = 0; i < n; i++) s += d_clocks[i];\n\
        if (threadIdx.x == 0) d_clocks[n] = s; }";
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        ..Default::default()
    };
    let out = common::compile(source, "sum", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(out.wgsl.contains("array<i64>"), "{}", out.wgsl);
}

/// The nearest-even float of `v`, then stepped one place down or up where
/// the mode says and the nearest lies on the wrong side (Rust's `as` rounds
/// to nearest even): an oracle for the directed conversions.
fn directed<F: Copy + PartialOrd>(
    v: i128,
    nearest: F,
    exact: fn(F) -> i128,
    down: fn(F) -> F,
    up: fn(F) -> F,
    mode: &str,
) -> F {
    let r = nearest;
    let (lo, hi) = match exact(r).cmp(&v) {
        std::cmp::Ordering::Greater => (down(r), r),
        std::cmp::Ordering::Less => (r, up(r)),
        std::cmp::Ordering::Equal => (r, r),
    };
    match mode {
        "rd" => lo,
        "ru" => hi,
        "rz" if v >= 0 => lo,
        "rz" => hi,
        _ => r,
    }
}

/// `__int2float_rd/ru/rz`, `__ll2float_*`, `__ull2double_*`,
/// `__double2ll_*`, `__double2hiint`/`loint` and `__hiloint2double`
/// (HeCBench intrinsics-cast) against Rust on lavapipe, with values whose
/// low bits a float cannot hold.
#[test]
fn rounded_conversions_match_directed_rounding() {
    let source = r#"
__global__ void conv(const long long *x, float *f, double *d, long long *l) {
    int i = threadIdx.x;
    long long v = x[i];
    int w = (int)(v >> 20);
    f[8 * i] = __int2float_rd(w);
    f[8 * i + 1] = __int2float_ru(w);
    f[8 * i + 2] = __int2float_rz(w);
    f[8 * i + 3] = __ll2float_rd(v);
    f[8 * i + 4] = __ll2float_ru(v);
    f[8 * i + 5] = __ll2float_rn(v);
    f[8 * i + 6] = __uint2float_ru((unsigned)w) + __int2float_rn(v & 0xffff);
    f[8 * i + 7] = __ull2float_rz((unsigned long long)v);
    d[4 * i] = __ll2double_rd(v);
    d[4 * i + 1] = __ll2double_ru(v);
    d[4 * i + 2] = __ull2double_rn((unsigned long long)v);
    d[4 * i + 3] = __hiloint2double(__double2hiint(d[4 * i]), __double2loint(d[4 * i]));
    l[2 * i] = __double2ll_rd(d[4 * i] / 3.0);
    l[2 * i + 1] = __double2ll_ru(d[4 * i] / 3.0);
}
"#;
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        enable_f64: true,
        ..Default::default()
    };
    let out = common::compile(source, "conv", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    let xs: Vec<i64> = (0..32i64)
        .map(|i| {
            let base = 0x0123_4567_89ab_cdefi64
                .wrapping_mul(i + 1)
                .rotate_left(i as u32 * 3);
            if i % 3 == 0 { -base } else { base }
        })
        .collect();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer(
            "x",
            cudalens_gpu::BufferSpec::bytes(32, bytemuck::cast_slice(&xs).to_vec()),
        )
        .with_buffer("f", cudalens_gpu::BufferSpec::zeros(256))
        .with_buffer("d", cudalens_gpu::BufferSpec::zeros(128))
        .with_buffer("l", cudalens_gpu::BufferSpec::zeros(64));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let f: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("f").expect("f").bytes);
    let d: Vec<f64> = bytemuck::pod_collect_to_vec(&result.output("d").expect("d").bytes);
    let l: Vec<i64> = bytemuck::pod_collect_to_vec(&result.output("l").expect("l").bytes);
    let f32d =
        |v: i128, r: f32, m: &str| directed(v, r, |x| x as i128, f32::next_down, f32::next_up, m);
    let f64d =
        |v: i128, r: f64, m: &str| directed(v, r, |x| x as i128, f64::next_down, f64::next_up, m);
    for (i, &v) in xs.iter().enumerate() {
        let w = (v >> 20) as i32;
        let u = v as u64;
        let want_f = [
            f32d(w.into(), w as f32, "rd"),
            f32d(w.into(), w as f32, "ru"),
            f32d(w.into(), w as f32, "rz"),
            f32d(v.into(), v as f32, "rd"),
            f32d(v.into(), v as f32, "ru"),
            v as f32,
            f32d((w as u32).into(), w as u32 as f32, "ru") + (v & 0xffff) as f32,
            f32d(u.into(), u as f32, "rz"),
        ];
        assert_eq!(&f[8 * i..8 * i + 8], &want_f[..], "floats of {v}");
        let rd = f64d(v.into(), v as f64, "rd");
        let want_d = [rd, f64d(v.into(), v as f64, "ru"), u as f64, rd];
        assert_eq!(&d[4 * i..4 * i + 4], &want_d[..], "doubles of {v}");
        let third = rd / 3.0;
        assert_eq!(
            &l[2 * i..2 * i + 2],
            &[third.floor() as i64, third.ceil() as i64],
            "{v}"
        );
    }
}

/// `__int2float_rn(x)` and `__uint2float_rn(x)` of a `long long` take its
/// low 32 bits, as C converts the argument to the parameter's `int`
/// (HeCBench intrinsics-cast `cast2_intrinsics` differed from the H100
/// while the whole 64-bit value was converted).
#[test]
fn int_conversions_take_their_parameters_width() {
    let source = "__global__ void low(const long long *x, float *f) { int i = threadIdx.x;\n\
        f[2 * i] = __int2float_rn(x[i]); f[2 * i + 1] = __uint2float_rn(x[i]); }";
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        ..Default::default()
    };
    let out = common::compile(source, "low", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(out.wgsl.contains("f32(i32(x[i]))"), "{}", out.wgsl);
    assert!(out.wgsl.contains("f32(u32(x[i]))"), "{}", out.wgsl);
}

/// A float converted to `short`/`unsigned char` (a cast, a store, `__half`
/// to `short` as HeCBench flame does) is toward zero, saturated, NaN 0, as
/// the GPU's `cvt.rzi` (C leaves it undefined): on lavapipe.
#[test]
fn floats_to_narrow_integers_saturate() {
    let source = r#"
__global__ void sat(const float *x, short *s, unsigned char *u) {
    int i = threadIdx.x;
    s[i] = (short)x[i];
    u[i] = x[i];
}
"#;
    let out = common::compile_as("sat.cu", source, "sat").unwrap_or_else(|e| panic!("{e}"));
    let xs: Vec<f32> = vec![
        0.0,
        -0.0,
        1.9,
        -1.9,
        255.5,
        256.0,
        -1.0,
        32767.9,
        32768.0,
        -32769.0,
        1e30,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        100.25,
        -100.75,
    ];
    let n = xs.len();
    let x = ("x", n as u64, bytemuck::cast_slice(&xs).to_vec());
    let inputs = [x.clone(), ("u", n as u64, vec![0u8; n])];
    let Some(s) = common::run_block::<i16>(&out, n as u32, &inputs, ("s", n as u64)) else {
        return;
    };
    let want_s: Vec<i16> = xs.iter().map(|x| *x as i16).collect();
    assert_eq!(s[..n], want_s[..]);
    let inputs = [x, ("s", n as u64, vec![0u8; 2 * n])];
    let Some(u) = common::run_block::<u8>(&out, n as u32, &inputs, ("u", n as u64)) else {
        return;
    };
    let want_u: Vec<u8> = xs.iter().map(|x| *x as u8).collect();
    assert_eq!(u[..n], want_u[..]);
}

/// `__half2float(s)` of a `short` (HeCBench flame's `colors`): the value
/// becomes a `__half` first (11 significant bits), then a `float`; it was
/// converted straight to `float` before stop 37, and flame's
/// `kernel_iterate` differed from the H100 on values above 2048.
#[test]
fn half_parameters_round_integer_arguments_to_half() {
    let source = "__global__ void h(const short *s, float *f) { int i = threadIdx.x; f[i] = __half2float(s[i]); }";
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f16: true,
        ..Default::default()
    };
    let out = common::compile(source, "h", &opts).unwrap_or_else(|e| panic!("{e:?}"));
    assert!(out.wgsl.contains("f32(f16("), "{}", out.wgsl);
}
