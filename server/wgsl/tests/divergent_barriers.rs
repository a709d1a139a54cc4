//! WGSL requires `workgroupBarrier()` in uniform control flow and naga does
//! not check it: a barrier only some threads of a block reach is refused
//! (with the line and the reason), and barriers every thread reaches are
//! transpiled as before. The two shapes `early_exit.rs` rewrites (early
//! returns, a thread-dependent `if` at the top of the kernel after which
//! no barrier comes) are tested in `early_returns.rs`.

mod common;

use cudalens_wgsl::{Severity, TranspileOptions};

const HOST: &str = "\n";

/// The refusals for `kernel` as (text at the span, message); `None` when it
/// transpiles.
fn refusals(kernel: &str) -> Option<Vec<(String, String)>> {
    let source = format!("{kernel}{HOST}");
    match common::compile(&source, "k", &TranspileOptions::default()) {
        Ok(_) => None,
        Err(diags) => Some(
            diags
                .into_iter()
                .filter(|d| d.severity == Severity::Error)
                .map(|d| (d.span.text(&source).to_string(), d.message))
                .collect(),
        ),
    }
}

fn assert_refused(kernel: &str, at: &str, reason: &str) {
    let errors = refusals(kernel).expect("a divergent barrier must not be transpiled");
    assert!(
        errors.iter().any(|(text, msg)| text == at
            && msg.contains(reason)
            && msg.contains("uniform control flow")),
        "no refusal at `{at}` saying `{reason}`: {errors:#?}"
    );
}

fn assert_transpiles(kernel: &str) {
    if let Some(errors) = refusals(kernel) {
        panic!("refused a kernel whose barriers every thread reaches: {errors:#?}");
    }
}

#[test]
fn barrier_under_a_thread_index_condition() {
    // A barrier follows the `if`: the threads that skip the block would
    // meet it where the others meet the first (`early_returns.rs` moves
    // the barriers out of the block only where none follows).
    let kernel = "__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    s[threadIdx.x] = x[threadIdx.x];\n    if (threadIdx.x < 32) {\n        s[threadIdx.x] += s[threadIdx.x + 32];\n        __syncthreads();\n    }\n    __syncthreads();\n    x[threadIdx.x] = s[0];\n}";
    assert_refused(
        kernel,
        "__syncthreads()",
        "__syncthreads() on line 6 is inside a condition that depends on the thread (the condition on line 4)",
    );
}

#[test]
fn barrier_under_a_value_each_thread_loads() {
    assert_refused(
        "__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    float v = x[blockIdx.x * 64 + threadIdx.x];\n    for (int r = 0; r < n; r++) {\n        if (v > 0.0f) { s[threadIdx.x] = v; __syncthreads(); }\n    }\n}",
        "__syncthreads()",
        "depends on the thread",
    );
}

#[test]
fn barrier_after_a_thread_dependent_early_return_that_does_work_first() {
    // `if (i >= n) return;` alone becomes a flag (`early_returns.rs`); a
    // branch that writes before it returns is left to the user.
    assert_refused(
        "__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    int i = blockIdx.x * blockDim.x + threadIdx.x;\n    if (i >= n) { x[0] = 1.0f; return; }\n    s[threadIdx.x] = x[i];\n    __syncthreads();\n    x[i] = s[63 - threadIdx.x];\n}",
        "__syncthreads()",
        "after a thread-dependent early return (the return on line 4)",
    );
}

#[test]
fn barrier_in_a_loop_whose_trip_count_depends_on_the_thread() {
    assert_refused(
        "__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    for (int j = 0; j < threadIdx.x; j++) {\n        s[threadIdx.x] += x[j];\n        __syncthreads();\n    }\n}",
        "__syncthreads()",
        "depends on the thread",
    );
}

#[test]
fn device_function_reaching_a_barrier_called_under_a_thread_condition() {
    assert_refused(
        "__device__ void stage(float* s) { s[threadIdx.x] *= 2.0f; __syncthreads(); }\n__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    if (threadIdx.x % 2 == 0) stage(s);\n    x[threadIdx.x] = s[threadIdx.x];\n}",
        "stage(s)",
        "`stage()`, which reaches __syncthreads(),",
    );
}

#[test]
fn barrier_under_a_thread_condition_inside_a_called_device_function() {
    assert_refused(
        "__device__ void stage(float* s, int lane) { if (threadIdx.x < 16) { s[lane] += 1.0f; __syncthreads(); } }\n__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    stage(s, threadIdx.x);\n    x[threadIdx.x] = s[threadIdx.x];\n}",
        "__syncthreads()",
        "depends on the thread",
    );
}

#[test]
fn cooperative_block_sync_under_a_thread_condition() {
    assert_refused(
        "#include <cooperative_groups.h>\nnamespace cg = cooperative_groups;\n__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    cg::thread_block block = cg::this_thread_block();\n    s[threadIdx.x] = x[threadIdx.x];\n    if (threadIdx.x == 0) { block.sync(); }\n    block.sync();\n    x[threadIdx.x] = s[0];\n}",
        "block.sync()",
        "depends on the thread",
    );
}

#[test]
fn uniform_conditions_keep_their_barriers() {
    // blockIdx, blockDim, gridDim, scalar parameters, constants, the counters
    // of uniform loops, a barrier after a thread-dependent `if`, and a
    // tree reduction whose `if (tid < s)` closes before the barrier.
    assert_transpiles(
        "#define TILE 64\n__global__ void k(float* x, int n) {\n    __shared__ float s[TILE];\n    unsigned tid = threadIdx.x;\n    s[tid] = x[blockIdx.x * blockDim.x + tid];\n    __syncthreads();\n    if (blockIdx.x > 0 && n > 4 && gridDim.x > 1 && blockDim.x == TILE) { __syncthreads(); }\n    for (int s2 = blockDim.x / 2; s2 > 0; s2 >>= 1) {\n        if (tid < s2) s[tid] += s[tid + s2];\n        __syncthreads();\n    }\n    for (int t = 0; t < n; t++) { s[tid] += 1.0f; __syncthreads(); }\n    if (tid == 0) x[blockIdx.x] = s[0];\n}",
    );
}

#[test]
fn uniform_early_returns_and_matched_branches_keep_their_barriers() {
    assert_transpiles(
        "__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    if (blockIdx.x * 64 >= n) return;\n    s[threadIdx.x] = x[threadIdx.x];\n    if (threadIdx.x < 32) { s[0] = 1.0f; __syncthreads(); } else { __syncthreads(); }\n    x[threadIdx.x] = s[0];\n}",
    );
}

#[test]
fn a_variable_reused_with_a_uniform_value_is_uniform_again() {
    assert_transpiles(
        "__global__ void k(float* x, int n) {\n    __shared__ float s[64];\n    int j = threadIdx.x;\n    s[j] = x[j];\n    j = n;\n    if (j > 8) { __syncthreads(); }\n    x[threadIdx.x] = s[0];\n}",
    );
}

#[test]
fn a_flag_one_thread_writes_to_global_memory_is_read_uniformly() {
    // HeCBench's fsm: the best thread updates `same[blockIdx.x]`, a barrier
    // follows, and every thread loops on the same element.
    assert_transpiles(
        "__global__ void k(float* x, int n, int* same) {\n    do {\n        if (threadIdx.x == 0) same[blockIdx.x]++;\n        __syncthreads();\n        x[threadIdx.x] += 1.0f;\n        __syncthreads();\n    } while (same[blockIdx.x] < n);\n}",
    );
    // A value each thread reads at its own index still varies.
    assert_refused(
        "__global__ void k(float* x, int n, int* same) {\n    if (same[threadIdx.x] > 0) { __syncthreads(); }\n    __syncthreads();\n}",
        "__syncthreads()",
        "depends on the thread",
    );
}

/// A barrier under a thread-dependent condition inside a device function a
/// header defines is refused too, at the header's line (until stop 34 the
/// header's functions were not walked, and the kernel transpiled).
#[test]
fn divergent_barriers_in_header_functions_are_refused_in_the_header() {
    let header = "__device__ void stage(float *s) {\n  if (threadIdx.x < 16) {\n    s[threadIdx.x] = 1.0f;\n    __syncthreads();\n  }\n}\n";
    let main = "#include \"stage.cuh\"\n__global__ void k(float *a) { __shared__ float s[32]; stage(s); a[threadIdx.x] = s[threadIdx.x]; }\n";
    let err = common::compile_with_headers(
        main,
        &[("stage.cuh", header)],
        "k",
        &TranspileOptions::default(),
    )
    .expect_err("refused");
    let barrier = err
        .iter()
        .find(|d| {
            d.message
                .contains("__syncthreads() on line 4 is inside a condition")
        })
        .unwrap_or_else(|| panic!("{err:#?}"));
    assert_eq!(
        barrier.file.as_deref(),
        Some(std::path::Path::new("stage.cuh"))
    );
    assert_eq!(
        &header[barrier.span.start..barrier.span.end],
        "__syncthreads()"
    );
}
