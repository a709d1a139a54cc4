//! Suite benchmark driver: transpiles every kernel of
//! `server/wgsl/tests/kernels/*.cu` with cudalens-wgsl, runs it on the best
//! wgpu adapter with deterministic inputs, and writes everything the native
//! CUDA harness (`tests/gpu-bench/cuda/harness.cu`) needs to run the very same
//! launches on the very same inputs:
//!
//! ```text
//! OUT/kernels.txt               kernel stems, one per line, in run order
//! OUT/in/<stem>.txt             launch manifest (grid, block, args, buffers)
//! OUT/in/<stem>.<buf>.bin       initial contents of every storage buffer (LE)
//! OUT/wgsl/<stem>.wgsl          the WGSL that was timed
//! OUT/wgsl/<stem>.<buf>.bin     every read_write buffer after ONE launch on
//!                               the pristine inputs
//! OUT/wgsl.jsonl                one JSON object per kernel (timings, adapter)
//! ```
//!
//! Usage: `suite_bench --out DIR [--kernels DIR] [--small] [--only a,b]
//! [--warmup N] [--iters N] [--ablate] [--unchecked]` (`--kernels` defaults to this
//! checkout's `server/wgsl/tests/kernels`).
//! `--small` uses tiny sizes (lavapipe / CI); the default sizes are meant for
//! a datacenter GPU (2^24-element vectors, 2048² matmuls, 4096² images).
//! `--ablate` also times, for kernels whose WGSL contains `storageBarrier()`,
//! a variant with those calls deleted (they only order device memory; the
//! suite kernels communicate through workgroup memory), to measure what the
//! `__syncthreads` → `storageBarrier(); workgroupBarrier();` mapping costs.
//! `--unchecked` also times every kernel with wgpu's runtime checks off
//! (`RuntimeChecks::Unchecked`: no bounds clamps, no loop bounding), as
//! native CUDA runs, and records it as `"unchecked"` in `wgsl.jsonl`.
//! `--passes N` runs the whole suite N times and records the last pass (every
//! run has a device of its own, see `Runner::run`, so passes only add warm-up).
//!
//! Inputs: SplitMix64 (same generator as `server/wgsl/tests/execute.rs`),
//! seed = 1000 + the kernel's position in `SPECS`, floats uniform in [-1, 1),
//! integers uniform in the ranges stated per kernel below.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue, Runner, RuntimeChecks};
use cudalens_syntax::preprocess::include::CompileFlags;
use cudalens_syntax::{BuildOptions, analyze_source};
use cudalens_wgsl::{TranspileOptions, transpile};

/// SplitMix64, as in `server/wgsl/tests/execute.rs`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    fn f32(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn f32s(&mut self, n: usize) -> Vec<u8> {
        (0..n).flat_map(|_| self.f32().to_le_bytes()).collect()
    }
    fn i32s(&mut self, n: usize, lo: i32, hi: i32) -> Vec<u8> {
        (0..n)
            .flat_map(|_| (lo + (self.next() % (hi - lo + 1) as u64) as i32).to_le_bytes())
            .collect()
    }
}

/// One storage buffer: binding name, C element type the CUDA harness uses
/// (`f32`, `i32`, `u32`), initial contents.
struct Buf {
    name: &'static str,
    ctype: &'static str,
    bytes: Vec<u8>,
}

/// One launch of one suite kernel.
struct Case {
    stem: &'static str,
    size: String,
    grid: [u32; 3],
    block: [u32; 3],
    /// Bytes of `extern __shared__` memory, as in the CUDA launch.
    dynamic_shared_bytes: u32,
    /// By-value arguments by CUDA parameter index.
    args: Vec<(usize, f64)>,
    bufs: Vec<Buf>,
    /// Compulsory DRAM traffic per launch (for GB/s), and FLOPs (matmul).
    bytes: u64,
    flops: u64,
    /// Timed iterations (a few kernels are slow enough to need fewer).
    iterations: u32,
}

fn zeros(name: &'static str, ctype: &'static str, n: usize) -> Buf {
    Buf {
        name,
        ctype,
        bytes: vec![0; 4 * n],
    }
}

fn buf(name: &'static str, ctype: &'static str, bytes: Vec<u8>) -> Buf {
    Buf { name, ctype, bytes }
}

/// The suite, with sizes. `small` selects CI sizes (odd, to exercise edges).
fn cases(small: bool, iterations: u32) -> Vec<Case> {
    let vec_n: usize = if small { 10_007 } else { 1 << 24 };
    let mat_n: usize = if small { 70 } else { 2048 };
    let (rows, cols): (usize, usize) = if small { (50, 70) } else { (4096, 4096) };
    let (w, h): (usize, usize) = if small { (67, 45) } else { (4096, 4096) };
    // control_flow's float atomicAdd on ONE address is a CAS loop in WGSL: its
    // cost grows with contention (2^22 threads did not finish in 300 s on an
    // H100), so it runs at 2^16 threads.
    let cf_n: usize = if small { 2_000 } else { 1 << 16 };
    let d = |n: usize, b: usize| n.div_ceil(b) as u32;
    let mut seed = 1000u64;
    let mut rng = || {
        seed += 1;
        Rng(seed)
    };
    let v = vec_n as u64;
    let mut out = Vec::new();

    // Vector ops: a, b, x, y uniform in [-1, 1).
    let mut r = rng();
    out.push(Case {
        stem: "vector_add",
        size: format!("n={vec_n}"),
        grid: [d(vec_n, 128), 1, 1],
        block: [128, 1, 1],
        dynamic_shared_bytes: 0,
        args: vec![(3, vec_n as f64)],
        bufs: vec![
            buf("a", "f32", r.f32s(vec_n)),
            buf("b", "f32", r.f32s(vec_n)),
            zeros("c", "f32", vec_n),
        ],
        bytes: 12 * v,
        flops: v,
        iterations,
    });
    let mut r = rng();
    out.push(Case {
        stem: "saxpy",
        size: format!("n={vec_n}"),
        grid: [d(vec_n, 256), 1, 1],
        block: [256, 1, 1],
        dynamic_shared_bytes: 0,
        args: vec![(0, vec_n as f64), (3, 2.5)],
        bufs: vec![
            buf("x", "f32", r.f32s(vec_n)),
            buf("y", "f32", r.f32s(vec_n)),
        ],
        bytes: 12 * v,
        flops: 2 * v,
        iterations,
    });
    // Matmuls: A, B uniform in [-1, 1); same inputs for both kernels.
    for stem in ["matmul_naive", "matmul_tiled"] {
        let mut r = Rng(1100);
        let m = mat_n as u64;
        out.push(Case {
            stem,
            size: format!("N={mat_n}"),
            grid: [d(mat_n, 16), d(mat_n, 16), 1],
            block: [16, 16, 1],
            dynamic_shared_bytes: 0,
            args: vec![(3, mat_n as f64)],
            bufs: vec![
                buf("A", "f32", r.f32s(mat_n * mat_n)),
                buf("B", "f32", r.f32s(mat_n * mat_n)),
                zeros("C", "f32", mat_n * mat_n),
            ],
            bytes: 12 * m * m,
            flops: 2 * m * m * m,
            iterations,
        });
    }
    // Transposes (rows x cols, floats): naive 32x8 threads per 32x8 tile,
    // shared 32x8 threads per 32x32 tile.
    for (stem, rows_per_block) in [("transpose_naive", 8), ("transpose_shared", 32)] {
        let mut r = Rng(1200);
        out.push(Case {
            stem,
            size: format!("{rows}x{cols}"),
            grid: [d(cols, 32), d(rows, rows_per_block), 1],
            block: [32, 8, 1],
            dynamic_shared_bytes: 0,
            args: vec![(2, rows as f64), (3, cols as f64)],
            bufs: vec![
                buf("in", "f32", r.f32s(rows * cols)),
                zeros("out", "f32", rows * cols),
            ],
            bytes: 8 * (rows * cols) as u64,
            flops: 0,
            iterations,
        });
    }
    // Integer reductions: inputs uniform in [-1e6, 1e6] (block sums fit in i32).
    for (stem, per_block, dynamic) in [
        ("reduce_interleaved_divergent", 256usize, 256u32 * 4),
        ("reduce_interleaved_bank", 256, 0),
        ("reduce_first_add", 512, 0),
        ("reduce_unrolled_volatile", 512, 0),
    ] {
        let mut r = Rng(1300);
        let blocks = vec_n.div_ceil(per_block);
        out.push(Case {
            stem,
            size: format!("n={vec_n}"),
            grid: [blocks as u32, 1, 1],
            block: [256, 1, 1],
            dynamic_shared_bytes: dynamic,
            args: vec![(2, vec_n as f64)],
            bufs: vec![
                buf("g_in", "i32", r.i32s(vec_n, -1_000_000, 1_000_000)),
                zeros("g_out", "i32", blocks),
            ],
            bytes: 4 * (v + blocks as u64),
            flops: v,
            iterations,
        });
    }
    // Float reductions: inputs uniform in [-1, 1).
    for stem in ["reduce_sequential", "reduce_warp_shfl"] {
        let mut r = Rng(1400);
        let blocks = vec_n.div_ceil(256);
        out.push(Case {
            stem,
            size: format!("n={vec_n}"),
            grid: [blocks as u32, 1, 1],
            block: [256, 1, 1],
            dynamic_shared_bytes: 0,
            args: vec![(2, vec_n as f64)],
            bufs: vec![
                buf("g_in", "f32", r.f32s(vec_n)),
                zeros("g_out", "f32", blocks),
            ],
            bytes: 4 * (v + blocks as u64),
            flops: v,
            iterations,
        });
    }
    let mut r = rng();
    out.push(Case {
        stem: "scan_hillis_steele",
        size: format!("n={vec_n}"),
        grid: [d(vec_n, 256), 1, 1],
        block: [256, 1, 1],
        dynamic_shared_bytes: 2 * 256 * 4,
        args: vec![(2, vec_n as f64)],
        bufs: vec![buf("in", "f32", r.f32s(vec_n)), zeros("out", "f32", vec_n)],
        bytes: 8 * v,
        flops: 8 * v,
        iterations,
    });
    let mut r = rng();
    out.push(Case {
        stem: "stencil2d",
        size: format!("{w}x{h}"),
        grid: [d(w, 16), d(h, 16), 1],
        block: [16, 16, 1],
        dynamic_shared_bytes: 0,
        args: vec![(2, w as f64), (3, h as f64), (4, 0.5), (5, 0.125)],
        bufs: vec![buf("in", "f32", r.f32s(w * h)), zeros("out", "f32", w * h)],
        bytes: 8 * (w * h) as u64,
        flops: 6 * (w * h) as u64,
        iterations,
    });
    // Histogram: values uniform in [0, 255]; the suite's fixed 32x128 launch.
    let mut r = rng();
    out.push(Case {
        stem: "histogram",
        size: format!("n={vec_n}"),
        grid: [32, 1, 1],
        block: [128, 1, 1],
        dynamic_shared_bytes: 0,
        args: vec![(2, vec_n as f64)],
        bufs: vec![
            buf("data", "u32", r.i32s(vec_n, 0, 255)),
            zeros("hist", "u32", 64),
        ],
        bytes: 4 * v,
        flops: 0,
        iterations,
    });
    let mut r = rng();
    out.push(Case {
        stem: "templates_device",
        size: format!("n={vec_n}"),
        grid: [d(vec_n, 128), 1, 1],
        block: [128, 1, 1],
        dynamic_shared_bytes: 0,
        args: vec![(2, vec_n as f64)],
        bufs: vec![buf("in", "f32", r.f32s(vec_n)), zeros("out", "f32", vec_n)],
        bytes: 8 * v,
        flops: 12 * v,
        iterations,
    });
    // control_flow: inputs uniform in [-100000, 100000]; `total` is a float
    // (a CAS loop on u32 bits in WGSL). Every thread hits the same address, so
    // the size is smaller and so is the iteration count.
    let mut r = rng();
    out.push(Case {
        stem: "control_flow",
        size: format!("n={cf_n}"),
        grid: [d(cf_n, 64), 1, 1],
        block: [64, 1, 1],
        dynamic_shared_bytes: 0,
        args: vec![(3, cf_n as f64)],
        bufs: vec![
            buf("in", "i32", r.i32s(cf_n, -100_000, 100_000)),
            zeros("out", "i32", cf_n),
            zeros("total", "f32", 1),
        ],
        bytes: 8 * cf_n as u64,
        flops: 0,
        iterations: iterations.min(20),
    });
    out
}

/// Transpiles the suite file `stem` (its kernel has the file's name, except
/// `templates_device`), as `server/wgsl/tests/common/mod.rs` does.
fn transpile_suite(
    kernels: &Path,
    stem: &str,
    subgroups: bool,
    float_atomics: bool,
    subgroup_size: Option<u32>,
) -> Result<cudalens_wgsl::TranspileOutput, String> {
    let source = std::fs::read_to_string(kernels.join(format!("{stem}.cu")))
        .map_err(|e| format!("{stem}.cu: {e}"))?;
    let provider: HashMap<PathBuf, String> = HashMap::new();
    let model = analyze_source(
        &source,
        &BuildOptions {
            path: Some(Path::new("test.cu")),
            flags: CompileFlags::default(),
            provider: &provider,
            max_include_depth: 8,
            deadline: None,
        },
    );
    let kernel = if stem == "templates_device" {
        "smooth_squares"
    } else {
        stem
    };
    let opts = TranspileOptions {
        subgroups,
        float_atomics,
        subgroup_size,
        source_name: Some(format!("{stem}.cu")),
        ..TranspileOptions::default()
    };
    transpile(&model, &source, kernel, &opts).map_err(|d| format!("{stem}: {d:?}"))
}

/// Hand-written variants of a kernel's WGSL (`DIR/<stem>.<tag>.wgsl`), timed
/// unchecked on the same inputs, for ablations. A variant may change the
/// block with a `// variant-block: X Y Z` line (the grid then covers the same
/// threads).
/// Returns `,"variants":{tag:{median_ms, min_ms, outputs_identical}}` or "".
fn time_variants(
    dir: &Path,
    stem: &str,
    reference: &[cudalens_gpu::OutputBuffer],
    launch: ([u32; 3], [u32; 3]),
    runner: &mut Runner,
    make: impl Fn(String, [u32; 3], [u32; 3]) -> Benchmark,
) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return String::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&format!("{stem}.")) && n.ends_with(".wgsl"))
        })
        .collect();
    files.sort();
    let mut parts = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let tag = &name[stem.len() + 1..name.len() - ".wgsl".len()];
        let wgsl = std::fs::read_to_string(&path).unwrap();
        let dims = |key: &str| -> Option<[u32; 3]> {
            let line = wgsl.lines().find_map(|l| l.strip_prefix(key))?;
            let v: Vec<u32> = line
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            (v.len() == 3).then(|| [v[0], v[1], v[2]])
        };
        // Same threads in total: the grid follows a changed block.
        let block = dims("// variant-block:").unwrap_or(launch.1);
        let grid = [0, 1, 2].map(|i| (launch.0[i] * launch.1[i]).div_ceil(block[i]));
        match runner.run(&make(wgsl, grid, block)) {
            Ok(r) => {
                let same = r
                    .outputs
                    .iter()
                    .zip(reference)
                    .all(|(a, b)| a.bytes == b.bytes);
                eprintln!(
                    "{stem} variant {tag}: {:.4} ms (identical {same})",
                    r.timing.median_ms
                );
                parts.push(format!(
                    "{}:{{\"median_ms\":{:.6},\"min_ms\":{:.6},\"outputs_identical\":{same}}}",
                    json_str(tag),
                    r.timing.median_ms,
                    r.timing.min_ms
                ));
            }
            Err(e) => eprintln!("{stem} variant {tag} failed: {e}"),
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(",\"variants\":{{{}}}", parts.join(","))
    }
}

/// Whether two runs left every output buffer bit-identical.
fn same_outputs(a: &[cudalens_gpu::OutputBuffer], b: &[cudalens_gpu::OutputBuffer]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.bytes == y.bytes)
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn main() {
    let mut out_dir: Option<PathBuf> = None;
    let (mut small, mut ablate, mut unchecked) = (false, false, false);
    let mut passes = 1u32;
    let (mut warmup, mut iterations) = (10u32, 100u32);
    let mut only: Option<Vec<String>> = None;
    let mut variants: Option<PathBuf> = None;
    let mut kernels = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wgsl/tests/kernels");
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out_dir = args.next().map(PathBuf::from),
            "--small" => small = true,
            "--kernels" => kernels = args.next().map(PathBuf::from).expect("--kernels DIR"),
            "--ablate" => ablate = true,
            "--unchecked" => unchecked = true,
            "--variants" => variants = args.next().map(PathBuf::from),
            "--passes" => {
                passes = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&p| p > 0)
                    .expect("--passes N (N >= 1)")
            }
            "--warmup" => {
                warmup = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--warmup N")
            }
            "--iters" => iterations = args.next().and_then(|v| v.parse().ok()).expect("--iters N"),
            "--only" => {
                only = args
                    .next()
                    .map(|v| v.split(',').map(str::to_string).collect())
            }
            _ => {
                eprintln!(
                    "usage: suite_bench --out DIR [--kernels DIR] [--small] [--only a,b] [--warmup N] [--iters N] [--ablate] [--unchecked] [--passes N] [--variants DIR]"
                );
                std::process::exit(2);
            }
        }
    }
    let out_dir = out_dir.expect("--out DIR is required");
    for sub in ["in", "wgsl"] {
        std::fs::create_dir_all(out_dir.join(sub)).expect("create output dirs");
    }

    let mut runner = Runner::new(None).unwrap_or_else(|e| {
        eprintln!("no usable GPU adapter: {e}");
        std::process::exit(1)
    });
    let report = runner.adapter().expect("adapter report");
    let subgroups = report.features.subgroup;
    // Native `atomic<f32>` where the adapter has it (control_flow's total).
    let float_atomics = report.features.shader_float32_atomic;
    // One subgroup size (32 on the H100): compiled in as `warpSize`.
    let fixed_warp = report.fixed_subgroup_size();
    eprintln!(
        "adapter: {} ({}, {}, driver {} {}), subgroups {} [{}..{}], timestamps {}",
        report.name,
        report.backend,
        report.device_type,
        report.driver,
        report.driver_info,
        subgroups,
        report.subgroup_min_size,
        report.subgroup_max_size,
        report.features.timestamp_query
    );

    let mut listed = String::new();
    let mut jsonl = String::new();
    let mut failures = 0;
    // A GPU that has just started runs its first ~second of work at low
    // clocks; earlier passes warm it and only the last pass is recorded.
    for pass in 1..=passes {
        if pass > 1 {
            eprintln!("pass {pass} of {passes}");
        }
        listed.clear();
        jsonl.clear();
        failures = 0;
        for case in cases(small, iterations) {
            if only
                .as_ref()
                .is_some_and(|o| !o.iter().any(|s| s == case.stem))
            {
                continue;
            }
            let stem = case.stem;
            let compiled =
                match transpile_suite(&kernels, stem, subgroups, float_atomics, fixed_warp) {
                    Ok(c) => c,
                    Err(e) => {
                        // Without subgroups reduce_warp_shfl does not transpile.
                        eprintln!("{stem}: skipped, transpile failed: {e}");
                        let line = format!(
                            "{{\"kernel\":{},\"skipped\":{}}}",
                            json_str(stem),
                            json_str(&e)
                        );
                        println!("{line}");
                        jsonl.push_str(&line);
                        jsonl.push('\n');
                        continue;
                    }
                };
            std::fs::write(out_dir.join(format!("wgsl/{stem}.wgsl")), &compiled.wgsl).unwrap();

            // Manifest for the CUDA harness, then the inputs.
            let mut manifest = String::new();
            let g = case.grid;
            let b = case.block;
            writeln!(manifest, "kernel {stem}").unwrap();
            writeln!(manifest, "size {}", case.size).unwrap();
            writeln!(manifest, "grid {} {} {}", g[0], g[1], g[2]).unwrap();
            writeln!(manifest, "block {} {} {}", b[0], b[1], b[2]).unwrap();
            writeln!(
                manifest,
                "dynamic_shared_bytes {}",
                case.dynamic_shared_bytes
            )
            .unwrap();
            writeln!(manifest, "warmup {warmup}").unwrap();
            writeln!(manifest, "iterations {}", case.iterations).unwrap();
            writeln!(manifest, "bytes {}", case.bytes).unwrap();
            writeln!(manifest, "flops {}", case.flops).unwrap();
            for (i, v) in &case.args {
                writeln!(manifest, "arg {i} {v:.17e}").unwrap();
            }
            for bf in &case.bufs {
                let binding = compiled.sidecar.bindings.iter().find(|x| x.name == bf.name);
                let writable =
                    binding.is_some_and(|x| x.kind == cudalens_wgsl::BindingKind::StorageReadWrite);
                writeln!(
                    manifest,
                    "buf {} {} {} {}",
                    bf.name,
                    bf.ctype,
                    bf.bytes.len() / 4,
                    if writable { "rw" } else { "r" }
                )
                .unwrap();
                std::fs::write(
                    out_dir.join(format!("in/{stem}.{}.bin", bf.name)),
                    &bf.bytes,
                )
                .unwrap();
            }
            std::fs::write(out_dir.join(format!("in/{stem}.txt")), manifest).unwrap();
            listed.push_str(stem);
            listed.push('\n');
            // Written as we go: the CUDA harness can run even if a later kernel fails.
            std::fs::write(out_dir.join("kernels.txt"), &listed).unwrap();

            let iface = KernelInterface::from_json(&compiled.sidecar.to_json())
                .expect("sidecar parses as a cudalens-gpu interface");
            let make = |wgsl: String| {
                let mut bench = Benchmark::new(wgsl, iface.clone(), case.grid, case.block)
                    .with_iterations(warmup, case.iterations)
                    .with_timeout(Duration::from_secs(120));
                bench.runtime_checks = RuntimeChecks::Checked;
                bench.launch.dynamic_shared_bytes = case.dynamic_shared_bytes;
                bench.bytes_read = Some(case.bytes);
                bench.bytes_written = Some(0);
                if case.flops > 0 {
                    bench.flops = Some(case.flops);
                }
                for (i, v) in &case.args {
                    bench = bench.with_arg(*i, ParamValue::Scalar(*v));
                }
                for bf in &case.bufs {
                    bench = bench.with_buffer(
                        bf.name,
                        BufferSpec::bytes((bf.bytes.len() / 4) as u64, bf.bytes.clone()),
                    );
                }
                bench
            };
            let result = match runner.run(&make(compiled.wgsl.clone())) {
                Ok(r) => r,
                Err(e) => {
                    failures += 1;
                    eprintln!("{stem}: run failed: {e}");
                    let line = format!(
                        "{{\"kernel\":{},\"error\":{}}}",
                        json_str(stem),
                        json_str(&e.to_string())
                    );
                    println!("{line}");
                    jsonl.push_str(&line);
                    jsonl.push('\n');
                    continue;
                }
            };
            for o in &result.outputs {
                std::fs::write(
                    out_dir.join(format!("wgsl/{stem}.{}.bin", o.name)),
                    &o.bytes,
                )
                .unwrap();
            }
            // Extra timings of the same inputs, each as `,"key":{...}`.
            let mut ablation = String::new();
            let mut extra = |bench: Benchmark, key: &str, runner: &mut Runner| match runner
                .run(&bench)
            {
                Ok(r) => ablation.push_str(&format!(
                    ",\"{key}\":{{\"median_ms\":{:.6},\"min_ms\":{:.6},\"outputs_identical\":{}}}",
                    r.timing.median_ms,
                    r.timing.min_ms,
                    same_outputs(&r.outputs, &result.outputs)
                )),
                Err(e) => eprintln!("{stem}: {key} run failed: {e}"),
            };
            // Optional ablation: the same kernel without storageBarrier().
            if ablate && compiled.wgsl.contains("storageBarrier();") {
                let variant = compiled.wgsl.replace("storageBarrier();", "");
                extra(make(variant), "no_storage_barrier", &mut runner);
            }
            // Optional: the same shader with bounds checks but no loop bounding,
            // and without wgpu's bounds clamps and loop bounds.
            if unchecked {
                for (checks, key) in [
                    (RuntimeChecks::BoundsOnly, "bounds_only"),
                    (RuntimeChecks::Unchecked, "unchecked"),
                ] {
                    let mut bench = make(compiled.wgsl.clone());
                    bench.runtime_checks = checks;
                    extra(bench, key, &mut runner);
                }
            }
            if let Some(dir) = &variants {
                ablation.push_str(&time_variants(
                    dir,
                    stem,
                    &result.outputs,
                    (case.grid, case.block),
                    &mut runner,
                    |wgsl, grid, block| {
                        let mut bench = make(wgsl);
                        bench.launch.grid = grid;
                        bench.launch.block = block;
                        bench.runtime_checks = RuntimeChecks::Unchecked;
                        bench
                    },
                ));
            }
            let t = &result.timing;
            let line = format!(
                concat!(
                    "{{\"kernel\":{},\"size\":{},\"grid\":{:?},\"block\":{:?},\"dispatch\":{:?},",
                    "\"dynamic_shared_bytes\":{},\"warmup\":{},\"iterations\":{},",
                    "\"median_ms\":{:.6},\"min_ms\":{:.6},\"p95_ms\":{:.6},\"mean_ms\":{:.6},",
                    "\"bytes\":{},\"gb_per_s\":{:.3},\"gflop_per_s\":{},\"adapter\":{},\"backend\":{},",
                    "\"driver\":{},\"subgroups\":{},\"timing_source\":{},\"compile_ms\":{:.2},",
                    "\"warnings\":{}{}}}"
                ),
                json_str(stem),
                json_str(&case.size),
                case.grid,
                case.block,
                result.dispatch,
                case.dynamic_shared_bytes,
                warmup,
                case.iterations,
                t.median_ms,
                t.min_ms,
                t.p95_ms,
                t.mean_ms,
                case.bytes,
                result.gb_per_s,
                result
                    .gflop_per_s
                    .map_or("null".to_string(), |v| format!("{v:.1}")),
                json_str(&report.name),
                json_str(&report.backend),
                json_str(&format!("{} {}", report.driver, report.driver_info)),
                subgroups,
                serde_json::to_string(&result.timing_source).unwrap(),
                result.compile_ms,
                serde_json::to_string(&result.warnings).unwrap(),
                ablation,
            );
            println!("{line}");
            jsonl.push_str(&line);
            jsonl.push('\n');
        }
    }
    std::fs::write(out_dir.join("kernels.txt"), listed).unwrap();
    std::fs::write(out_dir.join("wgsl.jsonl"), jsonl).unwrap();
    if failures > 0 {
        std::process::exit(1);
    }
}
