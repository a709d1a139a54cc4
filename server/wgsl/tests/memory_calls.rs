//! `memcpy` and `memset` on typed arrays: element loops, run on a real
//! adapter (lavapipe here) against a Rust reference, and refused with the
//! reason where WGSL has no bytes to copy.

mod common;

/// A Runge-Kutta-like step copying its result back through the caller's
/// local array (HeCBench grrt's `memcpy(y, ytemp, N * sizeof(double))`),
/// an `int` array filled with `0xff` bytes, and a slice of a buffer
/// cleared by `memset(p + k, 0, n * sizeof(int))` with a run-time `n`.
const STEP: &str = r#"
#define N 6
__device__ void step(float *y, const float *dy) {
    float ytemp[N];
    for (int i = 0; i < N; i++) ytemp[i] = y[i] + 2.0f * dy[i];
    memcpy(y, ytemp, N * sizeof(float));
}

__global__ void k(float *out, int *flags, const int *count) {
    int n = count[0];
    float y[N], dy[N];
    for (int i = 0; i < N; i++) { y[i] = threadIdx.x + i; dy[i] = 0.5f * i; }
    step(y, dy);
    for (int i = 0; i < N; i++) out[threadIdx.x * N + i] = y[i];
    int f[4];
    memset(f, 0xff, sizeof(f));
    for (int j = 0; j < 4; j++) flags[4 * threadIdx.x + j] = 7;
    memset(flags + 4 * threadIdx.x, 0, n * sizeof(int));
    flags[4 * threadIdx.x + 3] += f[2];
}
"#;

#[test]
fn copies_and_fills_match_a_reference_on_the_adapter() {
    let out = common::compile_as("step.cu", STEP, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("(*y_array_1)[cudalens_element] = ytemp[cudalens_element];"),
        "{}",
        out.wgsl
    );
    let threads = 8u32;
    let n = 2i32;
    let flags: Vec<i32> = (0..threads as i32 * 4).map(|i| 100 + i).collect();
    let outputs = u64::from(threads) * 6;
    let run = |output: (&str, u64)| {
        let mut inputs = vec![("count", 1, n.to_le_bytes().to_vec())];
        if output.0 == "flags" {
            inputs.push(("out", outputs, vec![0; outputs as usize * 4]));
        } else {
            inputs.push((
                "flags",
                flags.len() as u64,
                bytemuck::cast_slice(&flags).to_vec(),
            ));
        }
        common::run_block::<i32>(&out, threads, &inputs, output)
    };
    let Some(got_flags) = run(("flags", flags.len() as u64)) else {
        return;
    };
    // Each thread's four words: 7, the first `n` cleared, the last plus
    // `f[2]` (`0xffffffff` read as an `int`).
    let want_flags: Vec<i32> = (0..flags.len())
        .map(|i| match i % 4 {
            0 | 1 => 0,
            2 => 7,
            _ => 6,
        })
        .collect();
    assert_eq!(got_flags, want_flags);
    let got: Vec<f32> = bytemuck::cast_slice(&run(("out", outputs)).unwrap_or_default()).to_vec();
    let want: Vec<f32> = (0..threads)
        .flat_map(|t| (0..6).map(move |i| (t + i) as f32 + 2.0 * 0.5 * i as f32))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn what_has_no_whole_elements_is_refused_with_the_reason() {
    let cases = [
        (
            "__global__ void k(float *a, int *b) { memcpy(a, b, 16); }",
            "copies bytes between different types",
        ),
        (
            "__global__ void k(float *a, float *b) { memcpy(a, b, 6); }",
            "not a known whole number of 4-byte elements",
        ),
        (
            "__global__ void k(float *a, int n) { memset(a, 1, n * sizeof(float)); }",
            "non-zero byte into floats",
        ),
        (
            "__global__ void k(float *a, float *b, int i) { memcpy(a + i++, b, 8); }",
            "side effect",
        ),
        (
            "__global__ void k(float *a, float *b) { if (memcpy(a, b, 8)) a[0] = 1; }",
            "result is used",
        ),
    ];
    for (source, want) in cases {
        let err = common::compile_as("refused.cu", source, "k").expect_err(source);
        assert!(err.contains(want), "{source}:\n{err}");
    }
}
