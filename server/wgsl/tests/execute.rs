//! Runs the transpiled suite on a real adapter (lavapipe in CI) through the
//! `cudalens-gpu` runner and compares with Rust reference implementations:
//! integers bit-exact, floats within the ULP bound stated per test.
//!
//! Without an adapter these tests fail, unless `CUDALENS_SKIP_GPU_TESTS=1`.

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, ClampCheck, KernelInterface, ParamValue};

/// A deterministic input generator (SplitMix64).
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

    fn f32s(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.f32()).collect()
    }

    fn i32s(&mut self, n: usize, lo: i32, hi: i32) -> Vec<i32> {
        (0..n)
            .map(|_| lo + (self.next() % (hi - lo + 1) as u64) as i32)
            .collect()
    }
}

fn bytes<T: bytemuck::Pod>(v: &[T]) -> Vec<u8> {
    bytemuck::cast_slice(v).to_vec()
}

struct Launch<'a> {
    stem: &'a str,
    grid: [u32; 3],
    block: [u32; 3],
    /// Elements of the `extern __shared__` array.
    dynamic_shared_elements: u32,
    args: Vec<(usize, f64)>,
    buffers: Vec<(&'a str, Vec<u8>)>,
}

/// Transpiles and runs one suite kernel once; returns the read-back outputs
/// by binding name, or `None` when GPU tests are skipped.
fn run(launch: Launch) -> Option<std::collections::HashMap<String, Vec<u8>>> {
    let opts = common::suite_options(launch.stem);
    run_with(launch, &opts)
}

/// [`run`] with explicit transpile options.
fn run_with(
    launch: Launch,
    opts: &cudalens_wgsl::TranspileOptions,
) -> Option<std::collections::HashMap<String, Vec<u8>>> {
    let mut guard = common::gpu_runner()?;
    let runner = guard.as_mut()?;
    let out = common::compile_suite_with(launch.stem, opts);
    let json = out.sidecar.to_json();
    let iface =
        KernelInterface::from_json(&json).expect("sidecar parses as a cudalens-gpu interface");
    let mut bench =
        Benchmark::new(out.wgsl.clone(), iface, launch.grid, launch.block).with_iterations(0, 1);
    // As a CUDA launch would: bytes of dynamic shared memory (the runner
    // converts them to the override's element count).
    bench.launch.dynamic_shared_bytes =
        launch.dynamic_shared_elements * out.sidecar.dynamic_shared_element_bytes.unwrap_or(1);
    for (index, value) in launch.args {
        bench = bench.with_arg(index, ParamValue::Scalar(value));
    }
    for (name, data) in launch.buffers {
        let elements = (data.len() / 4) as u64;
        bench = bench.with_buffer(name, BufferSpec::bytes(elements, data));
    }
    // The verification launch runs the clamp-counting variant: these
    // launches are sized so that nothing is clamped.
    let check = cudalens_wgsl::clamp_counting_variant(&out)
        .unwrap_or_else(|e| panic!("{}: {e}", launch.stem));
    bench.clamp_check = Some(ClampCheck {
        wgsl: check.wgsl,
        group: check.group,
        binding: check.binding,
        module: Some(cudalens_gpu::NagaModule(check.module.0)),
    });
    let counted = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{}: run failed: {e}\n{}", launch.stem, out.wgsl));
    assert_eq!(
        counted.clamped_accesses,
        Some(0),
        "{}: accesses were clamped",
        launch.stem
    );
    // The outputs the tests check come from a second run without the
    // counting variant: the pipeline made from the module the transpiler
    // built directly, what `bench` runs and times.
    assert_eq!(
        out.structure.built_same, 1,
        "{}: {:?}",
        launch.stem, out.structure
    );
    bench.clamp_check = None;
    bench.module = Some(cudalens_gpu::NagaModule(out.module.0.clone()));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{}: run of the built module failed: {e}", launch.stem));
    Some(
        result
            .outputs
            .iter()
            .map(|o| (o.name.clone(), o.bytes.clone()))
            .collect(),
    )
}

fn f32s(b: &[u8]) -> Vec<f32> {
    bytemuck::pod_collect_to_vec(b)
}

fn i32s(b: &[u8]) -> Vec<i32> {
    bytemuck::pod_collect_to_vec(b)
}

fn u32s(b: &[u8]) -> Vec<u32> {
    bytemuck::pod_collect_to_vec(b)
}

/// Distance in units in the last place between two finite floats.
fn ulps(a: f32, b: f32) -> u32 {
    let key = |x: f32| {
        let i = x.to_bits() as i32;
        if i < 0 { i32::MIN - i } else { i }
    };
    key(a).abs_diff(key(b))
}

fn assert_ulps(name: &str, got: &[f32], want: &[f32], max_ulps: u32) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            ulps(*g, *w) <= max_ulps,
            "{name}[{i}]: got {g}, want {w} (> {max_ulps} ULP)"
        );
    }
}

/// For sums whose order differs from the reference: `|got - want| <= tol * sum|terms|`.
fn assert_close(name: &str, got: &[f32], want: &[f32], magnitude: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{name}: length");
    for i in 0..got.len() {
        let bound = rel * magnitude[i].max(1e-30);
        assert!(
            (got[i] - want[i]).abs() <= bound,
            "{name}[{i}]: got {}, want {} (bound {bound})",
            got[i],
            want[i]
        );
    }
}

#[test]
fn saxpy() {
    let n = 10_000usize;
    let mut rng = Rng(1);
    let (x, y) = (rng.f32s(n), rng.f32s(n));
    let a = 2.5f32;
    let Some(out) = run(Launch {
        stem: "saxpy",
        grid: [n.div_ceil(256) as u32, 1, 1],
        block: [256, 1, 1],
        dynamic_shared_elements: 0,
        args: vec![(0, n as f64), (3, a as f64)],
        buffers: vec![("x", bytes(&x)), ("y", bytes(&y))],
    }) else {
        return;
    };
    // a*x + y may be contracted to an fma: allow the product's rounding error.
    let want: Vec<f32> = (0..n).map(|i| a * x[i] + y[i]).collect();
    let mag: Vec<f32> = (0..n).map(|i| (a * x[i]).abs() + y[i].abs()).collect();
    assert_close("y", &f32s(&out["y"]), &want, &mag, 1.2e-7);
}

/// `vector_add` over `n` elements in blocks of `block` threads, checked exactly.
fn check_vector_add(n: usize, block: u32, seed: u64) {
    let mut rng = Rng(seed);
    let (a, b) = (rng.f32s(n), rng.f32s(n));
    let Some(out) = run(Launch {
        stem: "vector_add",
        grid: [n.div_ceil(block as usize) as u32, 1, 1],
        block: [block, 1, 1],
        dynamic_shared_elements: 0,
        args: vec![(3, n as f64)],
        buffers: vec![("a", bytes(&a)), ("b", bytes(&b)), ("c", vec![0u8; 4 * n])],
    }) else {
        return;
    };
    let want: Vec<f32> = (0..n).map(|i| a[i] + b[i]).collect();
    assert_ulps("c", &f32s(&out["c"]), &want, 0);
}

#[test]
fn vector_add_exact_and_with_a_folded_grid() {
    // 66,000 blocks of 32 threads: merged eight per workgroup (8,250
    // workgroups, the last block 25 threads in range).
    check_vector_add(66_000 * 32 - 7, 32, 2);
}

#[test]
fn vector_add_merged_blocks_over_a_folded_grid() {
    // 262,161 blocks of 64 threads: the runner merges four per 256-thread
    // workgroup (the kernel has no shared memory or barrier), which still needs
    // more than 65,535 workgroups, so the dispatch is folded too; the last
    // workgroup has one block and the last block 59 threads in range.
    let n = 262_161 * 64 - 5;
    let plan =
        cudalens_gpu::plan_dispatch([262_161, 1, 1], [64, 1, 1], 65_535, true, 1024).unwrap();
    assert_eq!(plan.blocks_per_workgroup, 4);
    assert_eq!(plan.layout, cudalens_gpu::GridLayout::Linear1d);
    assert!(plan.dispatch[1] > 1, "{plan:?}");
    check_vector_add(n, 64, 3);
}

#[test]
fn block_reduction_over_a_folded_1d_grid() {
    // 70,001 blocks with barriers: never merged, folded into 2D, blockIdx.x is
    // the linear workgroup index (GRID_LAYOUT 1) and surplus workgroups return.
    let blocks = 70_001usize;
    let n = blocks * 32 - 3;
    let mut rng = Rng(6);
    let input = rng.i32s(n, -1_000_000, 1_000_000);
    let Some(out) = run(Launch {
        stem: "reduce_interleaved_divergent",
        grid: [blocks as u32, 1, 1],
        block: [32, 1, 1],
        dynamic_shared_elements: 32,
        args: vec![(2, n as f64)],
        buffers: vec![("g_in", bytes(&input)), ("g_out", vec![0u8; 4 * blocks])],
    }) else {
        return;
    };
    assert_eq!(i32s(&out["g_out"]), block_sums(&input, 32, blocks));
}

fn matmul_reference(a: &[f32], b: &[f32], n: usize) -> (Vec<f32>, Vec<f32>) {
    let mut c = vec![0f32; n * n];
    let mut mag = vec![0f32; n * n];
    for r in 0..n {
        for col in 0..n {
            let (mut s, mut m) = (0f32, 0f32);
            for k in 0..n {
                s += a[r * n + k] * b[k * n + col];
                m += (a[r * n + k] * b[k * n + col]).abs();
            }
            c[r * n + col] = s;
            mag[r * n + col] = m;
        }
    }
    (c, mag)
}

#[test]
fn matmul_naive_and_tiled() {
    let n = 70usize; // not a multiple of the 16x16 tile
    let mut rng = Rng(3);
    let (a, b) = (rng.f32s(n * n), rng.f32s(n * n));
    let (want, mag) = matmul_reference(&a, &b, n);
    for stem in ["matmul_naive", "matmul_tiled"] {
        let Some(out) = run(Launch {
            stem,
            grid: [n.div_ceil(16) as u32, n.div_ceil(16) as u32, 1],
            block: [16, 16, 1],
            dynamic_shared_elements: 0,
            args: vec![(3, n as f64)],
            buffers: vec![
                ("A", bytes(&a)),
                ("B", bytes(&b)),
                ("C", vec![0u8; 4 * n * n]),
            ],
        }) else {
            return;
        };
        // Same summation order; only fma contraction may differ (n roundings).
        assert_close(stem, &f32s(&out["C"]), &want, &mag, n as f32 * 1.2e-7);
    }
}

#[test]
fn transposes_exact() {
    let (rows, cols) = (50usize, 70usize);
    let mut rng = Rng(4);
    let input = rng.f32s(rows * cols);
    let mut want = vec![0f32; rows * cols];
    for y in 0..rows {
        for x in 0..cols {
            want[x * rows + y] = input[y * cols + x];
        }
    }
    // The naive kernel maps one thread to one element; the tiled one a 32x32 tile to a 32x8 block.
    for (stem, rows_per_block) in [("transpose_naive", 8), ("transpose_shared", 32)] {
        let Some(out) = run(Launch {
            stem,
            grid: [
                cols.div_ceil(32) as u32,
                rows.div_ceil(rows_per_block) as u32,
                1,
            ],
            block: [32, 8, 1],
            dynamic_shared_elements: 0,
            args: vec![(2, rows as f64), (3, cols as f64)],
            buffers: vec![("in", bytes(&input)), ("out", vec![0u8; 4 * rows * cols])],
        }) else {
            return;
        };
        assert_ulps(stem, &f32s(&out["out"]), &want, 0);
    }
}

/// Per-block sums of `chunk` consecutive elements (wrapping, as CUDA).
fn block_sums(v: &[i32], chunk: usize, blocks: usize) -> Vec<i32> {
    (0..blocks)
        .map(|b| {
            v.iter()
                .skip(b * chunk)
                .take(chunk)
                .fold(0i32, |s, x| s.wrapping_add(*x))
        })
        .collect()
}

#[test]
fn integer_reductions_exact() {
    let n = 5_000usize;
    let mut rng = Rng(5);
    let input = rng.i32s(n, -1_000_000, 1_000_000);
    let cases = [
        ("reduce_interleaved_divergent", 256usize, 256u32),
        ("reduce_interleaved_bank", 256, 0),
        ("reduce_first_add", 512, 0),
    ];
    for (stem, per_block, dynamic) in cases {
        let blocks = n.div_ceil(per_block);
        let Some(out) = run(Launch {
            stem,
            grid: [blocks as u32, 1, 1],
            block: [256, 1, 1],
            dynamic_shared_elements: dynamic,
            args: vec![(2, n as f64)],
            buffers: vec![("g_in", bytes(&input)), ("g_out", vec![0u8; 4 * blocks])],
        }) else {
            return;
        };
        assert_eq!(
            i32s(&out["g_out"]),
            block_sums(&input, per_block, blocks),
            "{stem}"
        );
    }
}

#[test]
fn float_sequential_reduction_bit_exact() {
    let n = 3_000usize;
    let mut rng = Rng(6);
    let input = rng.f32s(n);
    let blocks = n.div_ceil(256);
    let Some(out) = run(Launch {
        stem: "reduce_sequential",
        grid: [blocks as u32, 1, 1],
        block: [256, 1, 1],
        dynamic_shared_elements: 0,
        args: vec![(2, n as f64)],
        buffers: vec![("g_in", bytes(&input)), ("g_out", vec![0u8; 4 * blocks])],
    }) else {
        return;
    };
    // The same tree in the same order: every f32 addition rounds identically.
    let want: Vec<f32> = (0..blocks)
        .map(|b| {
            let mut s: Vec<f32> = (0..256)
                .map(|t| input.get(b * 256 + t).copied().unwrap_or(0.0))
                .collect();
            let mut stride = 128;
            while stride > 0 {
                for t in 0..stride {
                    s[t] += s[t + stride];
                }
                stride /= 2;
            }
            s[0]
        })
        .collect();
    assert_ulps("g_out", &f32s(&out["g_out"]), &want, 0);
}

#[test]
fn warp_shuffle_reduction_when_subgroups_are_available() {
    let fixed_width = {
        let Some(mut guard) = common::gpu_runner() else {
            return;
        };
        let report = guard.as_mut().unwrap().adapter().expect("adapter report");
        if !report.features.subgroup {
            eprintln!(
                "adapter {} has no subgroups: shuffle reduction not executed",
                report.name
            );
            return;
        }
        (report.subgroup_min_size == report.subgroup_max_size).then_some(report.subgroup_max_size)
    };
    let n = 4_000usize;
    let mut rng = Rng(7);
    let input = rng.f32s(n);
    let blocks = n.div_ceil(256);
    let Some(out) = run(Launch {
        stem: "reduce_warp_shfl",
        grid: [blocks as u32, 1, 1],
        block: [256, 1, 1],
        dynamic_shared_elements: 0,
        args: vec![(2, n as f64)],
        buffers: vec![("g_in", bytes(&input)), ("g_out", vec![0u8; 4 * blocks])],
    }) else {
        return;
    };
    // The tree's shape follows the subgroup size: compare against the exact sum.
    let chunks: Vec<&[f32]> = input.chunks(256).collect();
    let want: Vec<f32> = chunks
        .iter()
        .map(|c| c.iter().map(|x| *x as f64).sum::<f64>() as f32)
        .collect();
    let mag: Vec<f32> = chunks
        .iter()
        .map(|c| c.iter().map(|x| x.abs()).sum())
        .collect();
    assert_close("g_out", &f32s(&out["g_out"]), &want, &mag, 256.0 * 1.2e-7);

    // With the adapter's one subgroup size compiled in as a constant, the
    // same launch gives the same bits.
    let Some(width) = fixed_width else { return };
    let opts = cudalens_wgsl::TranspileOptions {
        subgroup_size: Some(width),
        ..common::suite_options("reduce_warp_shfl")
    };
    let wgsl = common::compile_suite_with("reduce_warp_shfl", &opts).wgsl;
    assert!(
        wgsl.contains(&format!("const warp_size: i32 = {width};")),
        "{wgsl}"
    );
    let fixed = run_with(
        Launch {
            stem: "reduce_warp_shfl",
            grid: [blocks as u32, 1, 1],
            block: [256, 1, 1],
            dynamic_shared_elements: 0,
            args: vec![(2, n as f64)],
            buffers: vec![("g_in", bytes(&input)), ("g_out", vec![0u8; 4 * blocks])],
        },
        &opts,
    );
    assert_eq!(
        fixed.map(|o| o["g_out"].clone()),
        Some(out["g_out"].clone())
    );
}

#[test]
fn stencil_within_one_ulp() {
    let (w, h) = (67usize, 45usize);
    let mut rng = Rng(8);
    let input = rng.f32s(w * h);
    let (center, side) = (0.5f32, 0.125f32);
    let Some(out) = run(Launch {
        stem: "stencil2d",
        grid: [w.div_ceil(16) as u32, h.div_ceil(16) as u32, 1],
        block: [16, 16, 1],
        dynamic_shared_elements: 0,
        args: vec![
            (2, w as f64),
            (3, h as f64),
            (4, center as f64),
            (5, side as f64),
        ],
        buffers: vec![("in", bytes(&input)), ("out", vec![0u8; 4 * w * h])],
    }) else {
        return;
    };
    let mut want = input.clone();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let sum = input[i - 1] + input[i + 1] + input[i - w] + input[i + w];
            want[i] = center.mul_add(input[i], side * sum);
        }
    }
    assert_ulps("out", &f32s(&out["out"]), &want, 1);
}

#[test]
fn histogram_exact() {
    let n = 10_000usize;
    let mut rng = Rng(9);
    let data: Vec<u32> = rng.i32s(n, 0, 255).into_iter().map(|v| v as u32).collect();
    let Some(out) = run(Launch {
        stem: "histogram",
        grid: [32, 1, 1],
        block: [128, 1, 1],
        dynamic_shared_elements: 0,
        args: vec![(2, n as f64)],
        buffers: vec![("data", bytes(&data)), ("hist", vec![0u8; 4 * 64])],
    }) else {
        return;
    };
    let mut want = vec![0u32; 64];
    for v in &data {
        want[(*v % 64) as usize] += 1;
    }
    assert_eq!(u32s(&out["hist"]), want);
}

#[test]
fn hillis_steele_scan_bit_exact() {
    let n = 1_000usize;
    let mut rng = Rng(10);
    let input = rng.f32s(n);
    let threads = 256usize;
    let blocks = n.div_ceil(threads);
    let Some(out) = run(Launch {
        stem: "scan_hillis_steele",
        grid: [blocks as u32, 1, 1],
        block: [threads as u32, 1, 1],
        dynamic_shared_elements: 2 * threads as u32,
        args: vec![(2, n as f64)],
        buffers: vec![("in", bytes(&input)), ("out", vec![0u8; 4 * n])],
    }) else {
        return;
    };
    let mut want = vec![0f32; n];
    for b in 0..blocks {
        let mut cur: Vec<f32> = (0..threads)
            .map(|t| input.get(b * threads + t).copied().unwrap_or(0.0))
            .collect();
        let mut offset = 1;
        while offset < threads {
            cur = (0..threads)
                .map(|t| {
                    if t >= offset {
                        cur[t] + cur[t - offset]
                    } else {
                        cur[t]
                    }
                })
                .collect();
            offset *= 2;
        }
        for t in 0..threads {
            if b * threads + t < n {
                want[b * threads + t] = cur[t];
            }
        }
    }
    assert_ulps("out", &f32s(&out["out"]), &want, 0);
}

#[test]
fn templates_and_device_functions() {
    let n = 1_000usize;
    let mut rng = Rng(11);
    let input = rng.f32s(n);
    let Some(out) = run(Launch {
        stem: "templates_device",
        grid: [n.div_ceil(128) as u32, 1, 1],
        block: [128, 1, 1],
        dynamic_shared_elements: 0,
        args: vec![(2, n as f64)],
        buffers: vec![("in", bytes(&input)), ("out", vec![0u8; 4 * n])],
    }) else {
        return;
    };
    let want: Vec<f32> = (0..n as i64)
        .map(|i| {
            let mut acc = 0f32;
            for d in -2..=2 {
                let j = i + d;
                let v = if j < 0 || j >= n as i64 {
                    0.0
                } else {
                    input[j as usize]
                };
                acc += v * v;
            }
            acc / 5.0 + 1.0
        })
        .collect();
    // WGSL allows 2.5 ULP for division.
    assert_ulps("out", &f32s(&out["out"]), &want, 3);
}

/// The CUDA semantics of `control_flow.cu`, written out in Rust.
fn control_flow_reference(v: i32) -> i32 {
    let mut acc: i32 = 0;
    let mut k = 0;
    loop {
        k += 1;
        if k % 3 != 0 {
            acc += k;
        }
        if k >= (v & 7) {
            break;
        }
    }
    match v % 4 {
        0 => acc += 10,
        1 | 2 => acc -= 3,
        _ => acc = acc.wrapping_mul(2),
    }
    match v & 3 {
        3 => acc += 3,
        2 => acc += 2,
        _ => acc ^= 5,
    }
    let w = 1;
    let u = v as u32;
    acc = (acc as u32).wrapping_add((u >> 3).wrapping_add(w as u32)) as i32;
    let mut x = ((v & 255) as u32) + 1;
    let mut steps = 0;
    while x != 1 && steps < 1000 {
        x = if x.is_multiple_of(2) {
            x / 2
        } else {
            3u32.wrapping_mul(x).wrapping_add(1)
        };
        steps += 1;
    }
    acc = acc.wrapping_add(steps);
    acc = acc.wrapping_add(if v < 0 { -v } else { v / 3 });
    acc.wrapping_add(v % 5)
}

#[test]
fn control_flow_matches_c_semantics() {
    let n = 2_000usize;
    let mut rng = Rng(12);
    let input = rng.i32s(n, -100_000, 100_000);
    let Some(out) = run(Launch {
        stem: "control_flow",
        grid: [n.div_ceil(64) as u32, 1, 1],
        block: [64, 1, 1],
        dynamic_shared_elements: 0,
        args: vec![(3, n as f64)],
        buffers: vec![
            ("in", bytes(&input)),
            ("out", vec![0u8; 4 * n]),
            ("total", vec![0u8; 4]),
        ],
    }) else {
        return;
    };
    let want: Vec<i32> = input.iter().map(|v| control_flow_reference(*v)).collect();
    assert_eq!(i32s(&out["out"]), want);
    // The float atomic sum's order is unspecified (as in CUDA): compare the value.
    let exact: f64 = want.iter().map(|a| (*a as f32 * 0.5) as f64).sum();
    let mag: f64 = want.iter().map(|a| (*a as f32 * 0.5).abs() as f64).sum();
    let total = f32s(&out["total"])[0] as f64;
    assert!(
        (total - exact).abs() <= mag * n as f64 * 1.2e-7,
        "total {total} vs {exact}"
    );
}

/// Reference parameters the callee writes (`ptr<function, T>` in WGSL):
/// the sorting networks' compare-and-swap, run on the adapter.
#[test]
fn reference_parameters_write_back_to_the_caller() {
    let src = r#"
__device__ void comparator(unsigned int& a, unsigned int& b, unsigned int dir) {
    if ((a > b) == dir) { unsigned int t = a; a = b; b = t; }
}
__global__ void pairs(unsigned int* keys) {
    unsigned int i = blockIdx.x * blockDim.x + threadIdx.x;
    unsigned int a = keys[2 * i], b = keys[2 * i + 1];
    comparator(a, b, i & 1u);
    keys[2 * i] = a;
    keys[2 * i + 1] = b;
}
"#;
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else {
        return;
    };
    let out = common::compile(src, "pairs", &common::suite_options("pairs")).expect("compiles");
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let n = 256usize;
    let mut rng = Rng(5);
    let keys: Vec<u32> = (0..2 * n).map(|_| (rng.next() % 1000) as u32).collect();
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [128, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("keys", BufferSpec::bytes(2 * n as u64, bytes(&keys)));
    let result = runner.run(&bench).expect("runs");
    let got = u32s(&result.output("keys").expect("keys").bytes);
    for i in 0..n {
        let (a, b) = (keys[2 * i], keys[2 * i + 1]);
        let dir = (i & 1) as u32;
        let want = if u32::from(a > b) == dir {
            (b, a)
        } else {
            (a, b)
        };
        assert_eq!((got[2 * i], got[2 * i + 1]), want, "pair {i}");
    }
}
