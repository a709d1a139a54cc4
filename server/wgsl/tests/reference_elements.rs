//! Reference parameters the callee writes, bound to elements of
//! `__shared__` arrays (`Comparator(s_key[pos], ...)` in sorting networks):
//! the generated device function (snapshot) and a bitonic sort run on a
//! real adapter (lavapipe here) against a Rust reference.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_wgsl::TranspileOptions;

/// A bitonic sort of 128 key/value pairs per block (our own kernel).
const SORT: &str = r#"
__device__ inline void Comparator(unsigned int &keyA, unsigned int &valA, unsigned int &keyB, unsigned int &valB, unsigned int dir) {
    unsigned int t;
    if ((keyA > keyB) == dir) {
        t = keyA; keyA = keyB; keyB = t;
        t = valA; valA = valB; valB = t;
    }
}
__global__ void sortPairs(unsigned int *keys, unsigned int *vals, unsigned int dir) {
    __shared__ unsigned int s_key[128];
    __shared__ unsigned int s_val[128];
    unsigned int t = threadIdx.x;
    s_key[t] = keys[blockIdx.x * 128 + t];
    s_val[t] = vals[blockIdx.x * 128 + t];
    s_key[t + 64] = keys[blockIdx.x * 128 + t + 64];
    s_val[t + 64] = vals[blockIdx.x * 128 + t + 64];
    for (unsigned int size = 2; size <= 128; size <<= 1) {
        unsigned int ddd = dir ^ ((t & (size / 2)) != 0);
        for (unsigned int stride = size / 2; stride > 0; stride >>= 1) {
            __syncthreads();
            unsigned int pos = 2 * t - (t & (stride - 1));
            Comparator(s_key[pos], s_val[pos], s_key[pos + stride], s_val[pos + stride], ddd);
        }
    }
    __syncthreads();
    keys[blockIdx.x * 128 + t] = s_key[t];
    vals[blockIdx.x * 128 + t] = s_val[t];
    keys[blockIdx.x * 128 + t + 64] = s_key[t + 64];
    vals[blockIdx.x * 128 + t + 64] = s_val[t + 64];
}
int main() { sortPairs<<<2, 64>>>(0, 0, 1); }
"#;

fn compile(source: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    let opts = TranspileOptions {
        source_name: Some("sort.cu".into()),
        ..TranspileOptions::default()
    };
    common::compile(source, "sortPairs", &opts).map_err(|d| {
        d.iter()
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn shared_elements_passed_by_reference_are_written_in_place() {
    let out = compile(SORT).unwrap_or_else(|e| panic!("{e}"));
    let start = out
        .wgsl
        .find("// __device__ Comparator")
        .expect("Comparator");
    let end = start + out.wgsl[start..].find("\n}\n").expect("end") + 3;
    insta::assert_snapshot!("comparator", &out.wgsl[start..end]);
    assert!(
        out.wgsl
            .contains("Comparator_s_key_s_val_s_key_s_val(i32(pos), i32(pos), i32(pos + stride), i32(pos + stride), ddd);"),
        "{}",
        out.wgsl
    );
}

#[test]
fn an_atomic_element_is_refused_with_the_reason() {
    let source = "__device__ void bump(int &v) { v += 1; }\n__global__ void sortPairs(int *h) { atomicAdd(&h[0], 1); bump(h[threadIdx.x]); }";
    let err = compile(source).expect_err("atomic");
    assert!(err.contains("reference parameter `bump` writes"), "{err}");
}

#[test]
fn the_sort_matches_a_reference_on_the_adapter() {
    let out = compile(SORT).unwrap_or_else(|e| panic!("{e}"));
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let n = 256usize;
    let keys: Vec<u32> = (0..n as u32)
        .map(|i| i.wrapping_mul(2_654_435_761) >> 20)
        .collect();
    let vals: Vec<u32> = (0..n as u32).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(2, ParamValue::Scalar(1.0))
        .with_buffer(
            "keys",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&keys).to_vec()),
        )
        .with_buffer(
            "vals",
            BufferSpec::bytes(n as u64, bytemuck::cast_slice(&vals).to_vec()),
        );
    let result = runner.run(&bench).expect("run");
    let output = |name: &str| -> Vec<u32> {
        bytemuck::pod_collect_to_vec(
            &result
                .outputs
                .iter()
                .find(|o| o.name == name)
                .unwrap_or_else(|| panic!("no output {name}"))
                .bytes,
        )
    };
    let (got_keys, got_vals) = (output("keys"), output("vals"));
    for block in 0..2 {
        let range = block * 128..(block + 1) * 128;
        let mut want = keys[range.clone()].to_vec();
        want.sort_unstable();
        assert_eq!(got_keys[range.clone()], want[..], "block {block}");
        for i in range {
            assert_eq!(keys[got_vals[i] as usize], got_keys[i], "pair {i}");
        }
    }
}

/// Elements of a local array bound to reference parameters (HeCBench
/// tsa's `trotter_vert_pair(..., cell_r[part], ...)`), with the block's
/// `__shared__` rows passed whole to `float s[H][W]`: each element is
/// copied in and written back after the call.
const LOCAL_CELLS: &str = r#"
template <int H, int W>
__device__ void fill(float &cell, int y, float s[H][W]) {
  cell += s[y][threadIdx.x % W] + s[(y + 1) % H][0];
}
__global__ void cells(float *out) {
  __shared__ float s[4][8];
  float cell[2] = {1.0f, 2.0f};
  s[threadIdx.x / 8][threadIdx.x % 8] = threadIdx.x;
  __syncthreads();
  for (int p = 0; p < 2; ++p) fill<4, 8>(cell[p], (threadIdx.x / 8 + p) % 4, s);
  out[threadIdx.x] = cell[0] * 1000 + cell[1];
}
"#;

#[test]
fn local_elements_passed_by_reference_are_copied_in_and_back() {
    let out =
        common::compile_as("cells.cu", LOCAL_CELLS, "cells").unwrap_or_else(|e| panic!("{e:?}"));
    assert!(out.wgsl.contains("cell[p] = part_"), "{}", out.wgsl);
    let Some(got) = common::run_block::<f32>(&out, 32, &[], ("out", 32)) else {
        return;
    };
    let s = |y: usize, x: usize| (y * 8 + x) as f32;
    for (t, value) in got.iter().enumerate() {
        let cell = |p: usize, start: f32| {
            let y = (t / 8 + p) % 4;
            start + s(y, t % 8) + s((y + 1) % 4, 0)
        };
        assert_eq!(*value, cell(0, 1.0) * 1000.0 + cell(1, 2.0), "thread {t}");
    }
}
