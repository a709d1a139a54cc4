//! Kernels in a header whose statements are lone macros (`STEPS` on its
//! own line, no `;`): the grammar cannot fit such bodies, and with three of
//! them in one header the header's tree has an ERROR root. The main file's
//! build preprocesses and re-parses such runs; a header read through an
//! `#include` now does the same, so its kernels are in the model and
//! compile in the includer's context (with template arguments from the
//! includer's launches, here through a host template `run<float>`).

mod common;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};
use cudalens_syntax::FileModel;
use cudalens_wgsl::{SourceTexts, TranspileOptions, TranspileOutput, transpile_in};

/// Our own kernels: each repeats an affine step written as macros.
const HEADER: &str = r#"
#define STEP s = s * v + 1.0f;
#define STEP2 STEP s2 = s2 * v - 1.0f;
#define STEPS \
    STEP STEP
#define STEPS2 \
    STEP2 STEP2
#define STEPS4 STEPS STEPS

template <class T>
__global__ void affine1(T *d, int n, T v) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    T s = d[i];
    for (int j = 0; j < n; ++j) {
        STEPS
    }
    d[i] = s;
}

template <class T>
__global__ void affine2(T *d, int n, T v) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    T s = d[i], s2 = 2.0f - s;
    for (int j = 0; j < n; ++j) {
        STEPS2
    }
    d[i] = s + s2;
}

template <class T>
__global__ void affine3(T *d, int n, T v) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    T s = d[i];
    for (int j = 0; j < n; ++j) {
        STEPS4
    }
    d[i] = s;
}
"#;

const MAIN: &str = r#"
#include "affine.h"
template <typename T>
void run(T *d, int n) {
    affine1<T><<<n / 64, 64>>>(d, 3, (T)0.5);
    affine2<T><<<n / 64, 64>>>(d, 3, (T)0.5);
    affine3<T><<<n / 64, 64>>>(d, 3, (T)0.5);
}
int main() {
    float *d;
    cudaMalloc((void **)&d, 128 * sizeof(float));
    run<float>(d, 128);
}
"#;

fn build() -> (FileModel, HashMap<PathBuf, String>) {
    common::model_with_headers(MAIN, &[("affine.h", HEADER)])
}

fn compile(kernel: &str) -> TranspileOutput {
    let (model, provider) = build();
    let texts = SourceTexts {
        main: MAIN,
        headers: provider
            .iter()
            .map(|(p, t)| (p.clone(), Arc::<str>::from(t.as_str())))
            .collect(),
    };
    transpile_in(&model, &texts, kernel, &TranspileOptions::default())
        .unwrap_or_else(|d| panic!("{kernel}: {d:#?}"))
}

#[test]
fn every_kernel_of_a_header_with_macro_statements_is_modelled() {
    let (model, _) = build();
    let mut names: Vec<&str> = model
        .kernels()
        .filter(|k| k.body.is_some())
        .map(|k| k.name.as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["affine1", "affine2", "affine3"]);
    for k in ["affine1", "affine2", "affine3"] {
        let out = compile(k);
        assert!(out.wgsl.contains("d: array<f32>"), "{k}: {}", out.wgsl);
    }
}

#[test]
fn the_expanded_macro_statements_compute_on_the_adapter() {
    let n = 128usize;
    let d: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 8.0).collect();
    let reference = |kernel: &str, x: f32| -> f32 {
        let v = 0.5f32;
        let (mut s, mut s2) = (x, 2.0 - x);
        for _ in 0..3 {
            match kernel {
                "affine1" => {
                    s = s * v + 1.0;
                    s = s * v + 1.0;
                }
                "affine2" => {
                    for _ in 0..2 {
                        s = s * v + 1.0;
                        s2 = s2 * v - 1.0;
                    }
                }
                _ => {
                    for _ in 0..4 {
                        s = s * v + 1.0;
                    }
                }
            }
        }
        if kernel == "affine2" { s + s2 } else { s }
    };
    for kernel in ["affine1", "affine2", "affine3"] {
        let out = compile(kernel);
        let Some(mut guard) = common::gpu_runner() else {
            return;
        };
        let Some(runner) = guard.as_mut() else { return };
        let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
        let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
            .with_iterations(0, 1)
            .with_arg(1, ParamValue::Scalar(3.0))
            .with_arg(2, ParamValue::Scalar(0.5))
            .with_buffer(
                "d",
                BufferSpec::bytes(n as u64, bytemuck::cast_slice(&d).to_vec()),
            );
        let result = runner.run(&bench).expect("run");
        let got: Vec<f32> = bytemuck::pod_collect_to_vec(
            &result
                .outputs
                .iter()
                .find(|o| o.name == "d")
                .expect("output d")
                .bytes,
        );
        for i in 0..n {
            let want = reference(kernel, d[i]);
            assert!(
                (got[i] - want).abs() <= 1e-5 * want.abs().max(1.0),
                "{kernel} d[{i}]: {} vs {want}",
                got[i]
            );
        }
    }
}
