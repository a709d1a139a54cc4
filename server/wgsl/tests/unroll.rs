//! Loop unrolling (`TranspileOptions::unroll`, `#pragma unroll N`): the
//! emitted form (snapshot), which loops are left alone, `unrollable_loops`,
//! and execution on a real adapter showing that unrolled kernels compute
//! bit-identical results.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::validate::validate_wgsl;
use cudalens_wgsl::{TranspileOptions, TranspileOutput, unrollable_loops, unrollable_loops_with};

fn unrolled(factor: Option<u32>) -> TranspileOptions {
    TranspileOptions {
        unroll: factor,
        source_name: Some("unroll.cu".into()),
        ..TranspileOptions::default()
    }
}

fn compile(source: &str, kernel: &str, opts: &TranspileOptions) -> TranspileOutput {
    let out = common::compile(source, kernel, opts).unwrap_or_else(|d| panic!("{d:#?}"));
    let needs = validate_wgsl(&out.wgsl).unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    // No more than the options allow.
    assert!(needs.subgroups <= opts.subgroups, "{needs:?}");
    out
}

/// The texts of the loops `unrollable_loops` reports, up to the `)` of the header.
fn unrollable(source: &str, kernel: &str) -> Vec<String> {
    let model = common::model_of(source);
    unrollable_loops(&model, source, kernel)
        .iter()
        .map(|s| {
            let text = s.text(source);
            text[..text.find('{').unwrap_or(text.len())]
                .trim()
                .to_string()
        })
        .collect()
}

const SIMPLE: &str = r#"
__global__ void sum_rows(const float* x, float* y, int n, int m) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    if (row >= n) return;
    float acc = 0.0f;
    for (int j = 0; j < m; j++) {
        float v = x[row * m + j];
        acc += v * v;
    }
    y[row] = acc;
}
"#;

#[test]
fn simple_kernel_unrolled_by_four_matches_its_snapshot() {
    let out = compile(SIMPLE, "sum_rows", &unrolled(Some(4)));
    insta::assert_snapshot!("sum_rows_by_4_wgsl", out.wgsl);
    assert_eq!(
        unrollable(SIMPLE, "sum_rows"),
        ["for (int j = 0; j < m; j++)"]
    );
}

#[test]
fn none_and_one_change_nothing() {
    let plain = compile(SIMPLE, "sum_rows", &unrolled(None));
    assert!(!plain.wgsl.contains("unrolled"), "{}", plain.wgsl);
    assert_eq!(plain, compile(SIMPLE, "sum_rows", &unrolled(Some(1))));
    assert_eq!(plain, compile(SIMPLE, "sum_rows", &unrolled(Some(0))));
}

#[test]
fn guard_for_inclusive_bounds_and_constant_steps() {
    let src = r#"
__global__ void k(int* out, int m, unsigned u) {
    int acc = 0;
    for (int i = 1; i <= m; i += 3) { acc += i; }
    for (int i = 0; m > i; i = i + 2) { acc += i; }
    for (unsigned q = 0u; u >= q; ++q) { acc += (int)q; }
    out[0] = acc;
}
"#;
    let out = compile(src, "k", &unrolled(Some(4)));
    assert!(
        out.wgsl.contains("for (; i <= m && m - i >= 9; i += 3)"),
        "{}",
        out.wgsl
    );
    assert!(
        out.wgsl.contains("for (; m > i && m - i > 6; i = i + 2)"),
        "{}",
        out.wgsl
    );
    assert!(
        out.wgsl.contains("for (; u >= q && u - q >= 3u; q++)"),
        "{}",
        out.wgsl
    );
    assert_eq!(unrollable(src, "k").len(), 3);
}

#[test]
fn mixed_signedness_uses_cs_common_type() {
    let src = r#"
__global__ void k(int* out, unsigned n) {
    int acc = 0;
    for (int i = 0; i < n; i++) { acc += i; }
    out[0] = acc;
}
"#;
    let out = compile(src, "k", &unrolled(Some(2)));
    assert!(
        out.wgsl.contains("u32(i) < n && n - u32(i) > 1u"),
        "{}",
        out.wgsl
    );
}

#[test]
fn each_copy_has_its_own_scope() {
    let out = compile(SIMPLE, "sum_rows", &unrolled(Some(3)));
    let copies = out
        .wgsl
        .lines()
        .filter(|l| l.trim_start().starts_with("let v: f32"))
        .count();
    // Three copies in the main loop, one in the remainder loop.
    assert_eq!(copies, 4, "{}", out.wgsl);
}

/// Loops that must not be unrolled: the WGSL is the same with and without
/// the option, and `unrollable_loops` reports nothing.
#[track_caller]
fn assert_not_unrolled(body: &str) {
    let src = format!(
        "__device__ int helper_sync(int v) {{ __syncthreads(); return v; }}\n\
         __global__ void k(int* out, const int* in, int n) {{\n\
         __shared__ int tile[64];\n\
         int acc = 0;\n\
         {body}\n\
         out[threadIdx.x] = acc;\n\
         }}\n"
    );
    let opts = TranspileOptions {
        subgroups: true,
        ..unrolled(Some(4))
    };
    let with = compile(&src, "k", &opts);
    let without = compile(
        &src,
        "k",
        &TranspileOptions {
            unroll: None,
            ..opts.clone()
        },
    );
    assert_eq!(with.wgsl, without.wgsl, "unrolled:\n{}", with.wgsl);
    assert!(unrollable(&src, "k").is_empty(), "{body}");
}

#[test]
fn loops_that_leave_early_are_not_unrolled() {
    assert_not_unrolled("for (int i = 0; i < n; i++) { if (in[i] < 0) break; acc += in[i]; }");
    assert_not_unrolled("for (int i = 0; i < n; i++) { if (in[i] < 0) continue; acc += in[i]; }");
    assert_not_unrolled("for (int i = 0; i < n; i++) { if (in[i] < 0) return; acc += in[i]; }");
    assert_not_unrolled(
        "for (int i = 0; i < n; i++) { for (int j = 0; j < 4; j++) { if (in[j] < 0) return; } acc += 1; }",
    );
    assert_not_unrolled(
        "for (int i = 0; i < n; i++) { switch (in[i]) { case 0: continue; default: acc += 1; } }",
    );
}

#[test]
fn loops_that_synchronize_are_not_unrolled() {
    assert_not_unrolled(
        "for (int i = 0; i < n; i++) { tile[threadIdx.x % 64] = in[i]; __syncthreads(); acc += tile[0]; }",
    );
    assert_not_unrolled("for (int i = 0; i < n; i++) { acc += helper_sync(in[i]); }");
    assert_not_unrolled(
        "for (int i = 0; i < n; i++) { acc += __shfl_down_sync(0xffffffff, in[i], 1); }",
    );
    assert_not_unrolled("for (int i = 0; i < n; i++) { __threadfence(); acc += in[i]; }");
}

#[test]
fn loops_with_a_changing_induction_variable_or_bound_are_not_unrolled() {
    // `i` assigned in the body, or through a pointer.
    assert_not_unrolled("for (int i = 0; i < n; i++) { acc += in[i]; if (acc > 9) i += 2; }");
    assert_not_unrolled("for (int i = 0; i < n; i++) { acc += in[i]; i++; }");
    // `!=` and other conditions.
    assert_not_unrolled("for (int i = 0; i != n; i++) { acc += in[i]; }");
    assert_not_unrolled("for (int i = 0; i < n && acc < 100; i++) { acc += in[i]; }");
    assert_not_unrolled("for (int i = n; i > 0; i--) { acc += in[i]; }");
    assert_not_unrolled("for (int i = 0; i < n; i += 0) { acc += in[i]; }");
    assert_not_unrolled("for (int i = 0; i < n; i += n) { acc += in[i]; }");
    // A bound that changes in the body, or is read from memory.
    assert_not_unrolled("int m = n; for (int i = 0; i < m; i++) { acc += in[i]; m--; }");
    assert_not_unrolled("for (int i = 0; i < in[0]; i++) { acc += in[i]; }");
    assert_not_unrolled("for (int i = 0; i < acc; i++) { acc += in[i]; }");
    // A float induction variable or bound.
    assert_not_unrolled("for (float f = 0.0f; f < 10.0f; f += 1.0f) { acc += 1; }");
    assert_not_unrolled("for (int i = 0; i < 10.5f; i++) { acc += in[i]; }");
}

#[test]
fn break_and_continue_of_nested_loops_are_fine() {
    let src = r#"
__global__ void k(int* out, const int* in, int n) {
    int acc = 0;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < 8; j++) {
            if (in[j] == i) break;
            if (in[j] < 0) continue;
            acc += in[j];
        }
        switch (in[i]) {
            case 1: acc += 1; break;
            default: acc -= 1; break;
        }
    }
    out[0] = acc;
}
"#;
    // The inner loop leaves early itself, so only the outer one qualifies.
    assert_eq!(unrollable(src, "k"), ["for (int i = 0; i < n; i++)"]);
    compile(src, "k", &unrolled(Some(4)));
}

#[test]
fn pragma_unroll_n_is_honoured_and_the_option_overrides_it() {
    let src = r#"
__global__ void k(int* out, int n) {
    int acc = 0;
#pragma unroll 4
    for (int i = 0; i < n; i++) { acc += i; }
#pragma unroll
    for (int i = 0; i < n; i++) { acc ^= i; }
    for (int i = 0; i < n; i++) { acc -= i; }
    out[0] = acc;
}
"#;
    let by_pragma = compile(src, "k", &unrolled(None));
    assert_eq!(
        by_pragma.wgsl.matches("unrolled by 4").count(),
        1,
        "{}",
        by_pragma.wgsl
    );
    assert!(by_pragma.wgsl.contains("n - i > 3"), "{}", by_pragma.wgsl);
    let off = compile(src, "k", &unrolled(Some(1)));
    assert!(!off.wgsl.contains("unrolled"), "{}", off.wgsl);
    let all = compile(src, "k", &unrolled(Some(2)));
    assert_eq!(all.wgsl.matches("unrolled by 2").count(), 3, "{}", all.wgsl);
}

#[test]
fn unrollable_loops_points_at_the_for_statements() {
    let src = r#"
__device__ float dot4(const float* a, int k) {
    float s = 0.0f;
    for (int q = 0; q < k; q++) s += a[q];
    return s;
}
__global__ void k(const float* a, float* out, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) { if (a[i] > 0.0f) break; }
    for (int i = 0; i < n; i++) { s += dot4(a, i); }
    out[0] = s;
}
"#;
    let model = common::model_of(src);
    let spans = unrollable_loops(&model, src, "k");
    let texts: Vec<&str> = spans.iter().map(|s| s.text(src)).collect();
    assert_eq!(
        texts,
        [
            "for (int q = 0; q < k; q++) s += a[q];",
            "for (int i = 0; i < n; i++) { s += dot4(a, i); }",
        ]
    );
    assert_eq!(
        unrollable_loops_with(&model, src, "k", &TranspileOptions::default()),
        spans
    );
    assert!(unrollable_loops(&model, src, "no_such_kernel").is_empty());
    // A body without braces is unrolled into blocks too.
    let out = compile(src, "k", &unrolled(Some(2)));
    assert_eq!(out.wgsl.matches("unrolled by 2").count(), 2, "{}", out.wgsl);
}

// ---- execution -------------------------------------------------------------

/// Loops whose trip counts are not multiples of the unroll factor, with
/// per-thread start points (including zero-trip and negative ranges) and
/// order-sensitive accumulations (integer hashes and float sums).
const LOOPS: &str = r#"
__global__ void loops(const int* in, int* out, float* fout, int n, int m, unsigned u) {
    int t = blockIdx.x * blockDim.x + threadIdx.x;
    int acc = 0;
    for (int i = 0; i < n; i++) {
        int v = in[(t + i) % 64];
        acc = acc * 31 + v;
    }
    int acc2 = 0;
    for (int j = t % 5; j <= m; j += 3) {
        acc2 = acc2 * 7 + j;
    }
    unsigned acc3 = 0u;
    for (unsigned k = 0u; (unsigned)t % 11u + u > k; ++k) {
        acc3 = acc3 * 3u + k;
    }
    int acc4 = 0;
    for (int i = -t; i < n - t; i = i + 2) {
        for (int j = 0; j <= i % 3 + 1; j++) {
            if (j == 2) break;
            acc4 = acc4 * 5 + i * j;
        }
    }
    int acc5 = 0;
    for (int a = t % 3; a < 5; a++) {
        for (int b = a; b <= 7; b += 2) {
            acc5 = acc5 * 3 + a * b;
        }
    }
    float f = 0.0f;
    for (int i = t; i < n; i += 4) {
        f = f * 0.75f + (float)in[i % 64] * 0.1f;
    }
    out[t * 5 + 0] = acc;
    out[t * 5 + 1] = acc2;
    out[t * 5 + 2] = (int)acc3;
    out[t * 5 + 3] = acc4;
    out[t * 5 + 4] = acc5;
    fout[t] = f;
}
"#;

const THREADS: usize = 64;

fn run_loops(factor: Option<u32>) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut guard = common::gpu_runner()?;
    let runner = guard.as_mut()?;
    let out = compile(LOOPS, "loops", &unrolled(factor));
    if let Some(f) = factor {
        // Seven loops; the inner `b` loop appears in the outer loop's f
        // copies and its remainder loop.
        let loops = 6 + f as usize + 1;
        assert_eq!(
            out.wgsl.matches("unrolled by").count(),
            loops,
            "{}",
            out.wgsl
        );
    }
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("sidecar");
    let input: Vec<i32> = (0..64).map(|i| (i * 7919 + 13) % 1000 - 500).collect();
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(37.0))
        .with_arg(4, ParamValue::Scalar(40.0))
        .with_arg(5, ParamValue::Scalar(6.0))
        .with_buffer(
            "in",
            BufferSpec::bytes(64, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(5 * THREADS as u64))
        .with_buffer("fout", BufferSpec::zeros(THREADS as u64));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("run failed: {e}\n{}", out.wgsl));
    let get = |name: &str| result.output(name).expect(name).bytes.clone();
    Some((get("out"), get("fout")))
}

/// The integer results computed on the host, as the kernel defines them.
fn loops_reference() -> Vec<i32> {
    let input: Vec<i32> = (0..64).map(|i| (i * 7919 + 13) % 1000 - 500).collect();
    let (n, m, u) = (37i32, 40i32, 6u32);
    let mut out = Vec::new();
    for t in 0..THREADS as i32 {
        let mut acc = 0i32;
        for i in 0..n {
            acc = acc
                .wrapping_mul(31)
                .wrapping_add(input[((t + i) % 64) as usize]);
        }
        let mut acc2 = 0i32;
        let mut j = t % 5;
        while j <= m {
            acc2 = acc2.wrapping_mul(7).wrapping_add(j);
            j += 3;
        }
        let mut acc3 = 0u32;
        for k in 0..(t as u32 % 11 + u) {
            acc3 = acc3.wrapping_mul(3).wrapping_add(k);
        }
        let mut acc4 = 0i32;
        let mut i = -t;
        while i < n - t {
            for j in 0..=(i % 3 + 1) {
                if j == 2 {
                    break;
                }
                acc4 = acc4.wrapping_mul(5).wrapping_add(i * j);
            }
            i += 2;
        }
        let mut acc5 = 0i32;
        for a in t % 3..5 {
            for b in (a..=7).step_by(2) {
                acc5 = acc5.wrapping_mul(3).wrapping_add(a * b);
            }
        }
        out.extend([acc, acc2, acc3 as i32, acc4, acc5]);
    }
    out
}

#[test]
fn unrolled_kernels_compute_bit_identical_results() {
    let Some((ints, floats)) = run_loops(None) else {
        return;
    };
    let ints_i32: Vec<i32> = bytemuck::pod_collect_to_vec(&ints);
    assert_eq!(ints_i32, loops_reference());
    for factor in [2, 3, 4, 8] {
        let (i, f) = run_loops(Some(factor)).expect("runner");
        assert!(i == ints, "integer outputs differ with unroll {factor}");
        assert!(f == floats, "float outputs differ with unroll {factor}");
    }
}

/// How many values the block-shaped loop of `body` is written out for
/// (None when it is left a loop), in a 256-thread kernel.
fn block_shaped_copies(decls: &str, body: &str) -> Option<usize> {
    let src = format!(
        "#define HALF 128\n__global__ void k(int* x) {{\n    __shared__ int s_data[256];\n    unsigned int tid = threadIdx.x;\n    s_data[tid] = x[tid];\n    __syncthreads();\n{decls}\n{body}\n    x[tid] = s_data[tid];\n}}\nvoid run(int* x) {{ k<<<1, 256>>>(x); }}\n"
    );
    let out = compile(&src, "k", &unrolled(None));
    let marker = " values for this block size";
    let at = out.wgsl.find(marker)?;
    let line_start = out.wgsl[..at].rfind("takes ").unwrap() + "takes ".len();
    Some(out.wgsl[line_start..at].parse().unwrap())
}

#[test]
fn block_shaped_loops_are_written_out_for_the_launch_block() {
    let tree =
        "        if (tid < s) s_data[tid] += s_data[tid + s];\n        __syncthreads();\n    }";
    let cases = [
        (
            "for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {",
            Some(8),
        ),
        ("for (int s = 1; s < blockDim.x; s *= 2) {", Some(8)),
        (
            "for (unsigned int s = blockDim.x / 2; s > 32; s >>= 1) {",
            Some(2),
        ),
        (
            "for (int s = blockDim.x >> 1; s != 0; s = s / 2) {",
            Some(8),
        ),
        (
            "for (int s = HALF; s >= blockDim.x / 64; s -= 32) {",
            Some(4),
        ),
        // Empty for this block: the copies are none, the loop stays for others.
        ("for (int s = blockDim.x; s < 100; s++) {", Some(0)),
    ];
    for (header, want) in cases {
        assert_eq!(
            block_shaped_copies("", &format!("    {header}\n{tree}")),
            want,
            "{header}"
        );
    }
}

#[test]
fn loops_not_shaped_by_the_block_alone_stay_loops() {
    let tree =
        "        if (tid < s) s_data[tid] += s_data[tid + s];\n        __syncthreads();\n    }";
    for (decls, header) in [
        // Not blockDim: constant trips are the driver's to unroll.
        ("", "for (int s = 128; s > 0; s >>= 1) {"),
        // A runtime bound, or a parameter. (A thread-dependent start would
        // put the barrier under a thread-dependent trip count: refused,
        // tests/divergent_barriers.rs.)
        (
            "    int lim = x[0];",
            "for (int s = 1; s < blockDim.x + lim; s *= 2) {",
        ),
        // Never ends (0 * 2 = 0), or too many trips to write out.
        ("", "for (int s = 0; s < blockDim.x; s *= 2) {"),
        ("", "for (int s = 0; s < blockDim.x; s++) {"),
        // Negative values: C's unsigned arithmetic would wrap.
        ("", "for (int s = blockDim.x / 2; s > -4; s -= 64) {"),
        // Declared outside the loop.
        (
            "    unsigned int s;",
            "for (s = blockDim.x / 2; s > 0; s >>= 1) {",
        ),
        // `#pragma unroll 1` asks for a loop.
        (
            "",
            "#pragma unroll 1\n    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {",
        ),
    ] {
        assert_eq!(
            block_shaped_copies(decls, &format!("    {header}\n{tree}")),
            None,
            "{header}"
        );
    }
    // The body changes the variable, or leaves the loop.
    for body in [
        "        s_data[tid] += s;\n        if (s == 4) s = 1;\n        __syncthreads();\n    }",
        "        if (s_data[0] == 0) break;\n        __syncthreads();\n    }",
        "        if (s_data[0] == 0) return;\n        __syncthreads();\n    }",
    ] {
        let src = format!("    for (unsigned int s = blockDim.x / 2; s > 0; s >>= 1) {{\n{body}");
        assert_eq!(block_shaped_copies("", &src), None, "{body}");
    }
}
