//! The "interleave a pure-map loop across threads" quick fix keeps the
//! kernel's meaning: the original and the fixed kernel are transpiled to WGSL
//! and run on a real adapter (lavapipe in CI) with the same input, and must
//! write identical outputs (and the expected ones).
//!
//! Without an adapter these tests fail, unless `CUDALENS_SKIP_GPU_TESTS=1`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cudalens_analysis::{AnalysisConfig, Fix, analyze};
use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue, Runner};
use cudalens_syntax::preprocess::include::CompileFlags;
use cudalens_syntax::{BuildOptions, FileModel, analyze_source};
use cudalens_wgsl::{TranspileOptions, transpile};

const SCALE_CHUNKS: &str = r#"__global__ void scale_chunks(const float* in, float* out, int per_thread) {
  int t = blockIdx.x * blockDim.x + threadIdx.x;
  for (int k = 0; k < per_thread; ++k)
    out[t * per_thread + k] = 2.0f * in[t * per_thread + k];
}
void host(const float* in, float* out, int per_thread) {
  scale_chunks<<<64, 256>>>(in, out, per_thread);
}
"#;

/// The index-local form, with a constant chunk, a read-modify-write of a
/// second output and math between.
const AXPB: &str = r#"#define CHUNK 8
__global__ void axpb(const float* x, float* y, float* z, float a, float b) {
  const int gid = threadIdx.x + blockDim.x * blockIdx.x;
  for (int j = 0; j < CHUNK; j++) {
    int idx = j + CHUNK * gid;
    float v = x[idx];
    y[idx] = fmaxf(a * v + b, 0.0f);
    z[idx] += v * v;
  }
}
void host(const float* x, float* y, float* z) { axpb<<<128, 128>>>(x, y, z, 2.0f, -0.5f); }
"#;

fn model_of(source: &str) -> FileModel {
    let provider: HashMap<PathBuf, String> = HashMap::new();
    analyze_source(
        source,
        &BuildOptions {
            path: Some(Path::new("pure_map.cu")),
            flags: CompileFlags::default(),
            provider: &provider,
            max_include_depth: 8,
            deadline: None,
        },
    )
}

/// The pure-map fix on the source's uncoalesced accesses.
fn pure_map_fix(source: &str) -> Fix {
    let model = model_of(source);
    let analysis = analyze(&model, source, &AnalysisConfig::default());
    analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == "uncoalesced-access")
        .flat_map(|d| &d.fixes)
        .find(|f| f.title.starts_with("Interleave the"))
        .unwrap_or_else(|| panic!("no pure-map fix: {:#?}", analysis.diagnostics))
        .clone()
}

fn apply(source: &str, fix: &Fix) -> String {
    let mut edits = fix.edits.clone();
    edits.sort_by_key(|e| std::cmp::Reverse(e.span.start));
    let mut out = source.to_string();
    for e in edits {
        out.replace_range(e.span.start..e.span.end, &e.new_text);
    }
    out
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Deterministic inputs in [-1, 1) (SplitMix64).
fn inputs(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = s;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 40) as f32 / (1u64 << 23) as f32 - 1.0
        })
        .collect()
}

struct Run<'a> {
    kernel: &'a str,
    grid: u32,
    block: u32,
    scalars: Vec<(usize, f64)>,
    /// Every buffer with its initial contents (outputs start with a sentinel
    /// so an element nobody writes shows up).
    buffers: Vec<(&'a str, Vec<f32>)>,
}

/// Transpiles `source`'s kernel and runs it once; the written buffers by name.
fn run(runner: &mut Runner, source: &str, r: &Run) -> HashMap<String, Vec<f32>> {
    let model = model_of(source);
    let opts = TranspileOptions {
        block_override: Some([r.block, 1, 1]),
        source_name: Some("pure_map.cu".into()),
        ..TranspileOptions::default()
    };
    let out = transpile(&model, source, r.kernel, &opts)
        .unwrap_or_else(|d| panic!("{}: {d:#?}\n{source}", r.kernel));
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("sidecar");
    let mut bench = Benchmark::new(out.wgsl.clone(), iface, [r.grid, 1, 1], [r.block, 1, 1])
        .with_iterations(0, 1);
    for (index, value) in &r.scalars {
        bench = bench.with_arg(*index, ParamValue::Scalar(*value));
    }
    for (name, data) in &r.buffers {
        bench = bench.with_buffer(name, BufferSpec::bytes(data.len() as u64, f32_bytes(data)));
    }
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{}: run failed: {e}\n{}", r.kernel, out.wgsl));
    result
        .outputs
        .iter()
        .map(|o| (o.name.clone(), o.to_f32()))
        .collect()
}

fn runner() -> Option<Runner> {
    match Runner::new(None) {
        Ok(r) => Some(r),
        Err(e) if std::env::var("CUDALENS_SKIP_GPU_TESTS").as_deref() == Ok("1") => {
            eprintln!("skipping GPU test: {e}");
            None
        }
        Err(e) => panic!(
            "no usable GPU adapter: {e}\ninstall a Vulkan driver (`apt-get install -y mesa-vulkan-drivers libvulkan1`) or set CUDALENS_SKIP_GPU_TESTS=1"
        ),
    }
}

/// Runs the original and the fixed source; asserts bit-identical outputs
/// and returns them.
fn same_outputs(runner: &mut Runner, source: &str, r: &Run) -> HashMap<String, Vec<f32>> {
    let fix = pure_map_fix(source);
    assert!(!fix.safe);
    let fixed = apply(source, &fix);
    assert_ne!(fixed, source);
    let before = run(runner, source, r);
    let after = run(runner, &fixed, r);
    assert!(!before.is_empty());
    for (name, want) in &before {
        let got = &after[name];
        assert_eq!(want.len(), got.len());
        for (i, (w, g)) in want.iter().zip(got).enumerate() {
            assert_eq!(
                w.to_bits(),
                g.to_bits(),
                "`{name}`[{i}]: original {w}, fixed {g}\n{fixed}"
            );
        }
    }
    before
}

#[test]
fn fixed_scale_chunks_computes_the_same_outputs() {
    let Some(mut runner) = runner() else { return };
    // 8 blocks of 64 threads, 5 elements each.
    let (grid, block, per_thread) = (8u32, 64u32, 5usize);
    let n = (grid * block) as usize * per_thread;
    let input = inputs(n, 7);
    let r = Run {
        kernel: "scale_chunks",
        grid,
        block,
        scalars: vec![(2, per_thread as f64)],
        buffers: vec![("in", input.clone()), ("out", vec![-7.0; n])],
    };
    let out = same_outputs(&mut runner, SCALE_CHUNKS, &r);
    let expected: Vec<f32> = input.iter().map(|x| 2.0 * x).collect();
    assert_eq!(out["out"], expected);
}

#[test]
fn fixed_index_local_loop_computes_the_same_outputs() {
    let Some(mut runner) = runner() else { return };
    let (grid, block, chunk) = (4u32, 32u32, 8usize);
    let n = (grid * block) as usize * chunk;
    let x = inputs(n, 11);
    let z0 = inputs(n, 12);
    let r = Run {
        kernel: "axpb",
        grid,
        block,
        scalars: vec![(3, 2.0), (4, -0.5)],
        buffers: vec![("x", x.clone()), ("y", vec![-7.0; n]), ("z", z0.clone())],
    };
    let out = same_outputs(&mut runner, AXPB, &r);
    let y: Vec<f32> = x.iter().map(|v| (2.0 * v - 0.5f32).max(0.0)).collect();
    assert_eq!(out["y"].len(), n);
    for i in 0..n {
        assert!((out["y"][i] - y[i]).abs() <= 1e-6, "y[{i}]");
        assert!(
            (out["z"][i] - (z0[i] + x[i] * x[i])).abs() <= 1e-6,
            "z[{i}]"
        );
    }
}
