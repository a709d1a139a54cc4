//! `if (i >= n) return;` before a `__syncthreads()` (HeCBench's `crs`,
//! `stencil3d`, `matern`, `aidw`; the CUDA samples' `shfl_scan`): the return
//! becomes a flag, the work after it is guarded by the flag and the barriers
//! stay where every thread reaches them (`early_exit.rs`). Runs on a real
//! adapter (lavapipe here) against a Rust reference, with sizes that leave
//! the last block partly empty; shapes the rewrite cannot keep the meaning
//! of are still refused.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::{Severity, TranspileOptions};

const SOURCE: &str = r#"
#define BLOCK 64
__global__ void neighbours(const float* x, float* y, int n) {
    __shared__ float s[BLOCK];
    int t = threadIdx.x;
    int i = blockIdx.x * blockDim.x + t;
    if (i >= n) return;
    const float v = x[i];
    s[t] = v * 2.0f;
    __syncthreads();
    y[i] = s[t ^ 1] + v;
}

__global__ void rows(const float* in, float* out, int size, int k) {
    __shared__ float sh[BLOCK];
    const unsigned int idx = blockDim.x * blockIdx.x + threadIdx.x;
    if (threadIdx.x >= BLOCK) {
        return;
    }
    if (idx >= size) {
        return;
    }
    float acc = 0.0f;
    for (int r = 0; r < k; r++) {
        sh[threadIdx.x] = in[r * size + idx];
        __syncthreads();
        if (threadIdx.x == 0) return;
        acc += sh[threadIdx.x - 1];
        __syncthreads();
    }
    out[idx] = acc;
}

int main() {
    float *x, *y;
    neighbours<<<4, BLOCK>>>(x, y, 200);
    rows<<<4, BLOCK>>>(x, y, 200, 3);
}
"#;

/// The generated function body, from the flag's declaration on.
fn rewritten_body(wgsl: &str, kernel: &str) -> String {
    let start = wgsl.find(&format!("fn {kernel}(")).expect("entry point");
    let body = &wgsl[start..];
    let from = body.find("var cudalens_exited").expect("the flag");
    body[from..]
        .lines()
        .take_while(|l| !l.starts_with('}'))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn early_returns_become_a_flag_that_guards_the_work() {
    let out =
        common::compile_as("early.cu", SOURCE, "neighbours").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!(rewritten_body(&out.wgsl, "neighbours"));
    assert!(
        out.warnings.iter().any(|d| d.severity == Severity::Warning
            && d.message.contains("still arrive at its later barriers")),
        "the rewrite is announced: {:#?}",
        out.warnings
    );
}

#[test]
fn guarded_kernels_compute_what_cuda_does_on_the_adapter() {
    let n = 200usize;
    let x: Vec<f32> = (0..4 * 64).map(|i| (i % 13) as f32 - 6.0).collect();
    let neighbours =
        common::compile_as("early.cu", SOURCE, "neighbours").unwrap_or_else(|e| panic!("{e}"));
    let rows = common::compile_as("early.cu", SOURCE, "rows").unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let mut run = |out: &cudalens_wgsl::TranspileOutput,
                   (input, output): (&str, &str),
                   args: &[(usize, f64)],
                   data: &[f32],
                   cells: usize| {
        let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
        // Sentinels: what no thread writes stays -1.
        let sentinels = vec![-1.0f32; cells];
        let mut bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [64, 1, 1])
            .with_iterations(0, 1)
            .with_buffer(
                input,
                BufferSpec::bytes(data.len() as u64, bytemuck::cast_slice(data).to_vec()),
            )
            .with_buffer(
                output,
                BufferSpec::bytes(cells as u64, bytemuck::cast_slice(&sentinels).to_vec()),
            );
        for (index, value) in args {
            bench = bench.with_arg(*index, ParamValue::Scalar(*value));
        }
        let result = runner
            .run(&bench)
            .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
        bytemuck::pod_collect_to_vec::<u8, f32>(&result.output(output).expect(output).bytes)
    };

    let y = run(&neighbours, ("x", "y"), &[(2, n as f64)], &x, 4 * 64);
    for i in 0..4 * 64 {
        let want = if i < n { x[i ^ 1] * 2.0 + x[i] } else { -1.0 };
        assert_eq!(y[i], want, "y[{i}]");
    }

    // 3 rows of a 200-wide matrix; thread 0 of each block returns between
    // the barriers of the first row and writes nothing.
    let (size, k) = (200usize, 3usize);
    let input: Vec<f32> = (0..size * k).map(|i| (i % 7) as f32).collect();
    let out = run(
        &rows,
        ("in", "out"),
        &[(2, size as f64), (3, k as f64)],
        &input,
        4 * 64,
    );
    for idx in 0..4 * 64 {
        let base = idx - idx % 64;
        let want = match idx % 64 {
            _ if idx >= size => -1.0,
            0 => -1.0,
            // Thread 0 wrote `sh[0]` in the first row only: its neighbour
            // reads that value in every row, as on the GPU.
            1 => k as f32 * input[base],
            _ => (0..k).map(|r| input[r * size + idx - 1]).sum(),
        };
        assert_eq!(out[idx], want, "out[{idx}]");
    }
}

/// The errors for `kernel` (a complete file whose kernel is `k`).
fn errors(kernel: &str) -> Vec<String> {
    match common::compile(kernel, "k", &TranspileOptions::default()) {
        Ok(_) => Vec::new(),
        Err(diags) => diags
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.message)
            .collect(),
    }
}

/// `kernel` is refused for a barrier not every thread reaches (`why`
/// says which shape).
fn refused(kernel: &str, why: &str) {
    let errors = errors(kernel);
    assert!(
        errors.iter().any(|e| e.contains("uniform control flow")),
        "{why}: must be refused, got {errors:#?}"
    );
}

#[test]
fn what_the_flag_cannot_keep_the_meaning_of_is_still_refused() {
    refused(
        "__global__ void k(const int* len, float* out, int n) {\n  __shared__ float s[64];\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i >= n) return;\n  int m = len[i];\n  for (int j = 0; j < m; j++) { s[threadIdx.x] = j; __syncthreads(); }\n  out[i] = s[threadIdx.x];\n}\n",
        "a loop bound the guarded work loads",
    );
    refused(
        "__global__ void k(float* x, int n) {\n  __shared__ float s[64];\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i >= n) return;\n  for (int r = 0; r < 4; r++) {\n    s[threadIdx.x] = x[i];\n    if (x[i] > 0.0f) break;\n    __syncthreads();\n  }\n}\n",
        "a `break` before the barrier of a loop",
    );
    refused(
        "__global__ void k(float* x, int n) {\n  __shared__ float s[64];\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i >= n) return;\n  for (int r = 0; r < x[0]; r++) { s[threadIdx.x] = r; __syncthreads(); }\n}\n",
        "a loop header that reads memory",
    );
    refused(
        "__global__ void k(float* x, int n) {\n  __shared__ float s[64];\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i >= n) return;\n  if (x[i] > 0.0f) { s[threadIdx.x] = 1.0f; __syncthreads(); }\n}\n",
        "a barrier under a condition",
    );
}

/// A thread-dependent `if` at the top of the kernel whose block holds the
/// barriers (HeCBench's sad `if (gid < n) { ...; __syncthreads(); ... }`,
/// streamcluster, the CUDA samples' imageDenoising): the barriers move out
/// of the block, the threads that skip it wait at them, and the work is
/// guarded by a flag; announced with a warning at the condition. Run on
/// the adapter against a Rust reference with a last block partly skipped.
#[test]
fn barriers_of_a_thread_dependent_block_move_out_of_it() {
    let source = r#"
__global__ void k(const int* a, const int* v, int* counts, int* z, int n) {
    __shared__ int s;
    int gid = blockIdx.x * blockDim.x + threadIdx.x;
    if (gid < n) {
        if (threadIdx.x == 0) s = 0;
        __syncthreads();
        int mine = a[gid] == *v;
        if (mine) atomicAdd(&s, 1);
        __syncthreads();
        if (threadIdx.x == 0) counts[blockIdx.x] = s;
    } else {
        z[gid] = 7;
    }
    if (gid < n) z[gid] = 1;
}
int main() { int *a, *v, *c, *z; k<<<4, 64>>>(a, v, c, z, 200); }
"#;
    let out = common::compile_as("guarded.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.warnings.iter().any(|d| d.severity == Severity::Warning
            && d.message
                .contains("the barriers are moved out of the block")
            && d.span.text(source) == "gid < n"),
        "the rewrite is announced at the condition: {:#?}",
        out.warnings
    );
    let n = 200usize;
    let a: Vec<i32> = (0..4 * 64).map(|i| i % 5).collect();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [4, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(4, ParamValue::Scalar(n as f64))
        .with_buffer(
            "a",
            BufferSpec::bytes(256, bytemuck::cast_slice(&a).to_vec()),
        )
        .with_buffer("v", BufferSpec::bytes(1, 3i32.to_le_bytes().to_vec()))
        .with_buffer("counts", BufferSpec::zeros(4))
        .with_buffer("z", BufferSpec::zeros(256));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let counts: Vec<i32> =
        bytemuck::pod_collect_to_vec(&result.output("counts").expect("counts").bytes);
    let z: Vec<i32> = bytemuck::pod_collect_to_vec(&result.output("z").expect("z").bytes);
    for (b, got) in counts.iter().enumerate() {
        let want = (b * 64..(b * 64 + 64).min(n))
            .filter(|&i| a[i] == 3)
            .count() as i32;
        assert_eq!(*got, want, "counts[{b}]");
    }
    for (i, got) in z.iter().enumerate() {
        assert_eq!(*got, if i < n { 1 } else { 7 }, "z[{i}]");
    }
}

#[test]
fn a_thread_dependent_block_is_refused_where_moving_its_barriers_would_change_it() {
    refused(
        "__global__ void k(float* x, int n) {\n  __shared__ float s[64];\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) { s[threadIdx.x] = x[i]; __syncthreads(); }\n  __syncthreads();\n  x[i] = s[0];\n}\n",
        "a barrier after the block",
    );
    refused(
        "__global__ void k(float* x, int n) {\n  __shared__ float s[64];\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  if (i < n) { if (x[i] < 0.0f) return; s[threadIdx.x] = x[i]; __syncthreads(); x[i] = s[0]; }\n  x[0] = 1.0f;\n}\n",
        "a return before the block's barrier (the statements after the block would run)",
    );
    refused(
        "__global__ void k(float* x, int n) {\n  __shared__ float s[64];\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  for (int r = 0; r < n; r++) {\n    if (i < n) { s[threadIdx.x] = x[i]; __syncthreads(); }\n  }\n}\n",
        "a block inside a loop (a thread that skips it goes on to the next round)",
    );
}
