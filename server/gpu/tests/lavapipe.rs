//! Runs real kernels on whatever adapter wgpu finds (lavapipe on CI).
//!
//! Without any adapter these tests FAIL, unless `CUDALENS_SKIP_GPU_TESTS=1`.

use std::time::{Duration, Instant};

use cudalens_gpu::{
    Benchmark, BufferSpec, CandidateOutcome, GpuError, KernelInterface, NagaModule, ParamValue,
    Runner, TimingMethod, TimingPreference, TimingSource, autotune,
};

/// Opens a runner, or returns `None` (skip) only when explicitly allowed.
fn runner() -> Option<Runner> {
    match Runner::new(None) {
        Ok(r) => Some(r),
        Err(e) if std::env::var("CUDALENS_SKIP_GPU_TESTS").as_deref() == Ok("1") => {
            eprintln!("skipping GPU test (CUDALENS_SKIP_GPU_TESTS=1): {e}");
            None
        }
        Err(e) => panic!(
            "no usable GPU adapter: {e}\n\
             install a Vulkan driver (CI: `apt-get install mesa-vulkan-drivers libvulkan1`, see .ci/install.sh) \
             or set CUDALENS_SKIP_GPU_TESTS=1 to skip"
        ),
    }
}

macro_rules! runner_or_skip {
    () => {
        match runner() {
            Some(r) => r,
            None => return,
        }
    };
}

const SAXPY_JSON: &str = r#"{
  "source_kernel": "saxpy",
  "entry_point": "saxpy",
  "workgroup_size": [256, 1, 1],
  "workgroup_size_overrides": ["BLOCK_DIM_X", "BLOCK_DIM_Y", "BLOCK_DIM_Z"],
  "dynamic_shared_override": null,
  "features": ["subgroups"],
  "bindings": [
    {"group": 0, "binding": 0, "name": "x", "kind": "storage_read", "element": "f32", "param_index": 1},
    {"group": 0, "binding": 1, "name": "y", "kind": "storage_read_write", "element": "f32", "param_index": 2},
    {"group": 0, "binding": 2, "name": "params", "kind": "uniform", "size": 32,
     "fields": [{"name": "n", "type": "i32", "offset": 0, "param_index": 0},
                {"name": "a", "type": "f32", "offset": 4, "param_index": 3},
                {"name": "__grid_dim", "type": "vec3<u32>", "offset": 16, "param_index": null}]}
  ]
}"#;

/// What the transpiler emits for `saxpy`: linear block id from `__grid_dim`
/// (WGSL reserves `__` names, so the field is `grid_dim` in WGSL). No
/// `enable subgroups;`: naga 30 rejects it; subgroup builtins work without it
/// once the device has `Features::SUBGROUP`.
const SAXPY_WGSL: &str = r#"
override BLOCK_DIM_X: u32 = 256;
override BLOCK_DIM_Y: u32 = 1;
override BLOCK_DIM_Z: u32 = 1;

struct Params { n: i32, a: f32, grid_dim: vec3<u32> }

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(BLOCK_DIM_X, BLOCK_DIM_Y, BLOCK_DIM_Z)
fn saxpy(@builtin(workgroup_id) wg: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_id) lid: vec3<u32>) {
    let block = wg.x + wg.y * nwg.x + wg.z * nwg.x * nwg.y;
    let g = params.grid_dim;
    if (block >= g.x * g.y * g.z) { return; }
    let i = block * BLOCK_DIM_X + lid.x;
    if (i32(i) < params.n) {
        y[i] = params.a * x[i] + y[i];
    }
}
"#;

fn saxpy_bench(n: u32, block: u32) -> Benchmark {
    let iface = KernelInterface::from_json(SAXPY_JSON).expect("interface");
    Benchmark::new(SAXPY_WGSL, iface, [n.div_ceil(block), 1, 1], [block, 1, 1])
        .with_arg(0, ParamValue::Scalar(f64::from(n)))
        .with_arg(3, ParamValue::Scalar(2.5))
        .with_buffer("x", BufferSpec::random(u64::from(n)))
        .with_buffer("y", BufferSpec::random(u64::from(n)))
        .with_iterations(2, 10)
}

/// A spec carrying a naga module runs the module, not its text: here the
/// module computes `a * x + y` and the text, were it compiled, `0`.
#[test]
fn a_naga_module_is_compiled_instead_of_the_text() {
    let mut runner = runner_or_skip!();
    let n = 300u32;
    let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let y = vec![1.0f32; n as usize];
    let module = wgpu::naga::front::wgsl::parse_str(SAXPY_WGSL).expect("saxpy parses");
    let zeroing = SAXPY_WGSL.replace("y[i] = params.a * x[i] + y[i];", "y[i] = 0.0 * x[i];");
    let mut bench = saxpy_bench(n, 64)
        .with_buffer("x", BufferSpec::bytes(u64::from(n), bytes_of(&x)))
        .with_buffer("y", BufferSpec::bytes(u64::from(n), bytes_of(&y)))
        .with_iterations(0, 1);
    bench.wgsl = zeroing;
    bench.module = Some(NagaModule(std::sync::Arc::new(module)));
    let mut y_at_7 = |bench: &Benchmark| {
        runner
            .run(bench)
            .expect("runs")
            .output("y")
            .expect("y")
            .to_f32()[7]
    };
    assert_eq!(y_at_7(&bench), 2.5 * 7.0 + 1.0);
    // Without the module, the text is compiled.
    bench.module = None;
    assert_eq!(y_at_7(&bench), 0.0);
}

#[test]
fn saxpy_matches_cpu_and_reports_sane_timings() {
    let mut runner = runner_or_skip!();
    let n = 10_000; // not a multiple of the block: exercises the bounds check
    let x: Vec<f32> = (0..n).map(|i| i as f32 * 0.5).collect();
    let y: Vec<f32> = (0..n).map(|i| 1.0 - i as f32).collect();
    let bench = saxpy_bench(n, 256)
        .with_buffer("x", BufferSpec::bytes(u64::from(n), bytes_of(&x)))
        .with_buffer("y", BufferSpec::bytes(u64::from(n), bytes_of(&y)));
    let r = runner.run(&bench).expect("saxpy runs");

    let out = r.output("y").expect("y read back").to_f32();
    assert_eq!(out.len(), n as usize);
    for i in 0..n as usize {
        let want = 2.5 * x[i] + y[i];
        assert!(
            (out[i] - want).abs() <= 1e-4 * want.abs().max(1.0),
            "y[{i}] = {} != {want}",
            out[i]
        );
    }
    let t = r.timing;
    assert_eq!(t.samples, 10);
    assert!(t.min_ms > 0.0 && t.median_ms > 0.0, "{t:?}");
    assert!(t.min_ms <= t.median_ms && t.median_ms <= t.p95_ms, "{t:?}");
    assert!(r.upload_ms > 0.0 && r.download_ms > 0.0);
    assert_eq!(
        (r.bytes_read, r.bytes_written),
        (4 * u64::from(n), 4 * u64::from(n))
    );
    assert!(r.gb_per_s > 0.0);
    assert_eq!(r.dispatch, [40, 1, 1]);
    let has_ts = runner.adapter().expect("adapter").features.timestamp_query;
    let expected = if has_ts {
        TimingSource::GpuTimestamps
    } else {
        TimingSource::WallClock
    };
    assert_eq!(r.timing_source, expected, "warnings: {:?}", r.warnings);
    eprintln!(
        "saxpy n={n} on {}: {:?} via {:?}",
        r.adapter, r.timing, r.timing_source
    );
}

fn bytes_of(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|f| f.to_le_bytes()).collect()
}

const VADD_JSON: &str = r#"{
  "source_kernel": "vector_add",
  "entry_point": "vector_add",
  "workgroup_size": [64, 1, 1],
  "workgroup_size_overrides": ["BLOCK_DIM_X", "BLOCK_DIM_Y", "BLOCK_DIM_Z"],
  "features": [],
  "bindings": [
    {"group": 0, "binding": 0, "name": "a", "kind": "storage_read", "element": "vec4<f32>", "param_index": 0},
    {"group": 0, "binding": 1, "name": "b", "kind": "storage_read", "element": "vec4<f32>", "param_index": 1},
    {"group": 0, "binding": 2, "name": "c", "kind": "storage_read_write", "element": "vec4<f32>", "param_index": 2},
    {"group": 1, "binding": 0, "name": "params", "kind": "uniform", "size": 16,
     "fields": [{"name": "n", "type": "u32", "offset": 0, "param_index": 3}]}
  ]
}"#;

const VADD_WGSL: &str = r#"
override BLOCK_DIM_X: u32 = 64;
override BLOCK_DIM_Y: u32 = 1;
override BLOCK_DIM_Z: u32 = 1;
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@group(1) @binding(0) var<uniform> params: Params;

@compute @workgroup_size(BLOCK_DIM_X, BLOCK_DIM_Y, BLOCK_DIM_Z)
fn vector_add(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    if (i < params.n) { c[i] = a[i] + b[i]; }
}
"#;

#[test]
fn vector_add_with_random_inputs_and_wall_clock_timing() {
    let mut runner = runner_or_skip!();
    let n: u32 = 4096;
    let iface = KernelInterface::from_json(VADD_JSON).expect("interface");
    let mut bench = Benchmark::new(VADD_WGSL, iface, [n.div_ceil(128), 1, 1], [128, 1, 1])
        .with_arg(3, ParamValue::Scalar(f64::from(n)))
        .with_buffer("a", BufferSpec::random(u64::from(n)))
        .with_buffer("b", BufferSpec::random(u64::from(n)))
        .with_buffer("c", BufferSpec::zeros(u64::from(n)))
        .with_iterations(1, 5);
    bench.timing = TimingPreference::WallClock;
    bench.flops = Some(4 * u64::from(n));
    let r = runner.run(&bench).expect("vector add runs");
    assert_eq!(r.timing_source, TimingSource::WallClock);
    assert!(r.gflop_per_s.is_some_and(|g| g > 0.0));
    let c = r.output("c").expect("c").to_f32();
    assert_eq!(c.len(), 4 * n as usize);
    // Random inputs are k/1024 in [-1, 1): sums are exact, and not all zero.
    assert!(
        c.iter()
            .all(|v| (-2.0..2.0).contains(v) && (v * 1024.0).fract() == 0.0)
    );
    assert!(c.iter().filter(|v| **v != 0.0).count() > c.len() / 2);

    // Same seeds → same data: a second run reproduces the output bit for bit.
    let again = runner.run(&bench).expect("second run");
    assert_eq!(
        again.output("c").map(|o| &o.bytes),
        Some(&r.output("c").expect("c").bytes)
    );
}

/// A microsecond kernel is timed without the compute pass's fixed cost:
/// by default its dispatches are batched in one pass (the batch grown past
/// one dispatch) and the result says so; one dispatch per pass (the old
/// method, whose every sample holds a pass) is still there on request.
/// The figures themselves are in BENCHMARKS.md (timings do not belong in
/// unit tests).
#[test]
fn tiny_kernels_are_timed_in_batches_not_one_pass_each() {
    let mut runner = runner_or_skip!();
    let features = runner.adapter().expect("adapter").features;
    if !features.timestamp_query {
        eprintln!("adapter lacks TIMESTAMP_QUERY: batching needs timestamps");
        return;
    }
    // One workgroup of 64 threads: far below a millisecond on any adapter.
    let tiny = saxpy_bench(64, 64).with_iterations(3, 30);
    let timed = |preference: TimingPreference, runner: &mut Runner| {
        let mut bench = tiny.clone();
        bench.timing = preference;
        let r = runner.run(&bench).expect("tiny saxpy runs");
        assert_eq!(
            r.timing_source,
            TimingSource::GpuTimestamps,
            "{:?}",
            r.warnings
        );
        assert_eq!(r.timing.samples, 30);
        eprintln!(
            "{preference:?}: {:?} ({})",
            r.timing,
            r.timing_description()
        );
        r
    };
    let one_per_pass = timed(TimingPreference::OnePerPass, &mut runner);
    assert_eq!(one_per_pass.timing_method, TimingMethod::OnePerPass);
    assert_eq!(one_per_pass.dispatches_per_pass, 1);

    let auto = timed(TimingPreference::Auto, &mut runner);
    assert_eq!(auto.timing_method, TimingMethod::PassAverage);
    // The batch grew past one dispatch: a single one lasts far less than
    // the batch's target.
    assert!(auto.dispatches_per_pass > 1, "{auto:?}");
    // How much faster the batched figure is belongs in BENCHMARKS.md, not
    // here: with other tests running on the same cores, a batched median
    // read 0.024 ms against one-per-pass 0.008 ms once in CI.

    // Per-dispatch timestamps: one sample per dispatch, several per pass.
    let between = timed(TimingPreference::BetweenDispatches, &mut runner);
    if features.timestamp_query_inside_passes {
        assert_eq!(between.timing_method, TimingMethod::BetweenDispatches);
        assert!(between.dispatches_per_pass > 1, "{between:?}");
    } else {
        assert_eq!(between.timing_method, TimingMethod::PassAverage);
    }
    // Batching happens after the verification launch: outputs are one launch's.
    assert_eq!(auto.output("y"), one_per_pass.output("y"));
    // Results from before the field existed read as one dispatch per pass.
    let mut old = serde_json::to_value(&auto).expect("json");
    let object = old.as_object_mut().expect("object");
    object.remove("timing_method");
    object.remove("dispatches_per_pass");
    let old: cudalens_gpu::BenchmarkResult = serde_json::from_value(old).expect("old record");
    assert_eq!(
        (old.timing_method, old.dispatches_per_pass),
        (TimingMethod::OnePerPass, 1)
    );
}

#[test]
fn autotune_sweep_picks_a_valid_candidate() {
    let mut runner = runner_or_skip!();
    let n = 1 << 15;
    let base = saxpy_bench(n, 256).with_iterations(1, 3);
    let started = Instant::now();
    let sweep = autotune(&mut runner, &base, [n, 1, 1], None).expect("sweep");
    eprintln!("autotune took {:?}", started.elapsed());
    assert!(!sweep.entries.is_empty());
    let best = sweep.best_entry().expect("some candidate ran");
    assert!(matches!(best.outcome, CandidateOutcome::Measured { .. }));
    assert!(
        cudalens_gpu::autotune::CANDIDATES_1D.contains(&best.workgroup_size),
        "{:?}",
        best.workgroup_size
    );
    assert_eq!(best.grid, [n.div_ceil(best.workgroup_size[0]), 1, 1]);
    let best_ms = best.median_ms().expect("measured");
    assert!(
        sweep
            .entries
            .iter()
            .filter_map(|e| e.median_ms())
            .all(|m| m >= best_ms)
    );
    // Every candidate's output is correct, so the best one's is too.
    let y = sweep
        .best_result
        .as_ref()
        .and_then(|r| r.output("y"))
        .expect("outputs");
    assert_eq!(y.to_f32().len(), n as usize);

    // A candidate the adapter cannot run is skipped with a reason, not fatal.
    let odd = [[64, 1, 1], [4096, 1, 1]];
    let sweep = autotune(&mut runner, &base, [n, 1, 1], Some(&odd)).expect("sweep");
    assert!(
        matches!(&sweep.entries[1].outcome, CandidateOutcome::Skipped { reason } if reason.contains("limits"))
    );
    assert_eq!(sweep.best, Some(0));
}

#[test]
fn invalid_wgsl_is_an_error_not_a_panic() {
    let mut runner = runner_or_skip!();
    let mut bench = saxpy_bench(256, 64);
    bench.wgsl = SAXPY_WGSL.replace(
        "y[i] = params.a * x[i] + y[i];",
        "y[i] = params.a * x[i] + ;",
    );
    match runner.run(&bench) {
        Err(GpuError::Compile(msg)) => assert!(!msg.is_empty()),
        other => panic!("expected a compile error, got {other:?}"),
    }
    // Shader/interface disagreement (uniform declared as storage) is caught too.
    let mut bench = saxpy_bench(256, 64);
    bench.wgsl = SAXPY_WGSL.replace("var<uniform> params", "var<storage, read> params");
    assert!(matches!(runner.run(&bench), Err(GpuError::Compile(_))));
    // Missing arguments are reported before touching the GPU.
    let mut bench = saxpy_bench(256, 64);
    bench.args.remove(&3);
    assert!(
        matches!(runner.run(&bench), Err(GpuError::InvalidBenchmark(m)) if m.contains("parameter 3"))
    );
    // The runner stays usable.
    runner
        .run(&saxpy_bench(256, 64))
        .expect("valid kernel still runs");
}

const BUSY_WGSL: &str = r#"
override BLOCK_DIM_X: u32 = 64;
override BLOCK_DIM_Y: u32 = 1;
override BLOCK_DIM_Z: u32 = 1;
struct Params { outer: u32 }
@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(BLOCK_DIM_X, BLOCK_DIM_Y, BLOCK_DIM_Z)
fn busy(@builtin(global_invocation_id) gid: vec3<u32>) {
    // An LCG chain: serial, and no closed form for the compiler to find.
    var acc = bitcast<u32>(out[gid.x]) + gid.x;
    // Nested: llvmpipe caps a single loop at 65,535 iterations.
    for (var o = 0u; o < params.outer; o++) {
        for (var k = 0u; k < 60000u; k++) {
            acc = acc * 1664525u + (acc >> 13u) + 1013904223u;
        }
    }
    out[gid.x] = bitcast<f32>(acc);
}
"#;

const BUSY_JSON: &str = r#"{
  "source_kernel": "busy", "entry_point": "busy", "workgroup_size": [64, 1, 1],
  "workgroup_size_overrides": ["BLOCK_DIM_X", "BLOCK_DIM_Y", "BLOCK_DIM_Z"],
  "bindings": [
    {"group": 0, "binding": 0, "name": "out", "kind": "storage_read_write", "element": "f32", "param_index": 0},
    {"group": 0, "binding": 1, "name": "params", "kind": "uniform", "size": 16,
     "fields": [{"name": "outer", "type": "u32", "offset": 0, "param_index": 1}]}
  ]
}"#;

/// Vulkan cannot cancel a running dispatch (and llvmpipe silently caps every
/// loop at 65,535 iterations, so a truly infinite loop ends anyway), so the
/// kernel is long but finite — about 2 s on lavapipe with 2 cores, calibrated
/// for lavapipe: a fast GPU finishes it within the timeout. The runner must
/// return `Timeout` long before the kernel ends and open a fresh device next.
#[test]
fn long_kernel_hits_the_timeout() {
    let mut runner = runner_or_skip!();
    let iface = KernelInterface::from_json(BUSY_JSON).expect("interface");
    let bench = Benchmark::new(BUSY_WGSL, iface, [300, 1, 1], [64, 1, 1])
        .with_arg(1, ParamValue::Scalar(4.0))
        .with_buffer("out", BufferSpec::zeros(300 * 64))
        .with_iterations(0, 1)
        .with_timeout(Duration::from_millis(200));
    let started = Instant::now();
    let err = runner.run(&bench).expect_err("must time out");
    let waited = started.elapsed();
    assert!(
        matches!(err, GpuError::Timeout { after_ms: 200 }),
        "{err:?}"
    );
    assert!(waited < Duration::from_secs(3), "returned after {waited:?}");
    // The next call gets a fresh device.
    let ok = runner
        .run(&saxpy_bench(512, 64))
        .expect("runner recovers after a timeout");
    assert_eq!(ok.output("y").map(|o| o.bytes.len()), Some(2048));
}

const BLOCK_ID_JSON: &str = r#"{
  "source_kernel": "write_block_id", "entry_point": "write_block_id", "workgroup_size": [32, 1, 1],
  "workgroup_size_overrides": ["BLOCK_DIM_X", "BLOCK_DIM_Y", "BLOCK_DIM_Z"],
  "bindings": [
    {"group": 0, "binding": 0, "name": "out", "kind": "storage_read_write", "element": "u32", "param_index": 0},
    {"group": 0, "binding": 1, "name": "params", "kind": "uniform", "size": 16,
     "fields": [{"name": "__grid_dim", "type": "vec3<u32>", "offset": 0, "param_index": null}]}
  ]
}"#;

const BLOCK_ID_WGSL: &str = r#"
override BLOCK_DIM_X: u32 = 32;
override BLOCK_DIM_Y: u32 = 1;
override BLOCK_DIM_Z: u32 = 1;
struct Params { grid_dim: vec3<u32> }
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(BLOCK_DIM_X, BLOCK_DIM_Y, BLOCK_DIM_Z)
fn write_block_id(@builtin(workgroup_id) wg: vec3<u32>,
                  @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
    let block = wg.x + wg.y * nwg.x + wg.z * nwg.x * nwg.y;
    let g = params.grid_dim;
    if (block >= g.x * g.y * g.z) { return; }
    if (lid == 0u) { out[block] = block + 1u; }
}
"#;

#[test]
fn grids_beyond_65535_workgroups_are_folded() {
    let mut runner = runner_or_skip!();
    let blocks: u32 = 70_000;
    let iface = KernelInterface::from_json(BLOCK_ID_JSON).expect("interface");
    let bench = Benchmark::new(BLOCK_ID_WGSL, iface, [blocks, 1, 1], [32, 1, 1])
        .with_buffer("out", BufferSpec::zeros(u64::from(blocks) + 1))
        .with_iterations(0, 1);
    let r = runner.run(&bench).expect("folded grid runs");
    assert_eq!(r.dispatch, [35_000, 2, 1]);
    let out = r.output("out").expect("out").to_u32();
    for (i, v) in out.iter().enumerate().take(blocks as usize) {
        assert_eq!(*v, i as u32 + 1, "block {i}");
    }
    assert_eq!(
        out[blocks as usize], 0,
        "no surplus workgroup wrote past the grid"
    );
}

const MERGED_JSON: &str = r#"{
  "source_kernel": "block_of_each_thread", "entry_point": "block_of_each_thread", "workgroup_size": [32, 1, 1],
  "workgroup_size_overrides": ["BLOCK_DIM_X", "BLOCK_DIM_Y", "BLOCK_DIM_Z"],
  "grid_layout_override": "GRID_LAYOUT", "blocks_per_workgroup_override": "BLOCKS_PER_WORKGROUP",
  "bindings": [
    {"group": 0, "binding": 0, "name": "out", "kind": "storage_read_write", "element": "u32", "param_index": 0},
    {"group": 0, "binding": 1, "name": "params", "kind": "uniform", "size": 16,
     "fields": [{"name": "__grid_dim", "type": "vec3<u32>", "offset": 0, "param_index": null}]}
  ]
}"#;

/// Each thread writes its CUDA block index + 1, recovering it the way
/// transpiled kernels do for a 1D grid (`GRID_LAYOUT` 0 or 1).
const MERGED_WGSL: &str = r#"
override BLOCK_DIM_X: u32 = 32;
override BLOCK_DIM_Y: u32 = 1;
override BLOCK_DIM_Z: u32 = 1;
override GRID_LAYOUT: u32 = 2;
override BLOCKS_PER_WORKGROUP: u32 = 1;
struct Params { grid_dim: vec3<u32> }
@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(BLOCK_DIM_X * BLOCKS_PER_WORKGROUP, BLOCK_DIM_Y, BLOCK_DIM_Z)
fn block_of_each_thread(@builtin(workgroup_id) wg: vec3<u32>,
                        @builtin(num_workgroups) nwg: vec3<u32>,
                        @builtin(local_invocation_id) lid: vec3<u32>) {
    var block = wg.x;
    if (GRID_LAYOUT != 0u) {
        block = (wg.x + wg.y * nwg.x) * BLOCKS_PER_WORKGROUP + lid.x / BLOCK_DIM_X;
        if (block >= params.grid_dim.x) { return; }
    }
    out[block * BLOCK_DIM_X + lid.x % BLOCK_DIM_X] = block + 1u;
}
"#;

#[test]
fn small_blocks_share_workgroups_unless_told_not_to() {
    let mut runner = runner_or_skip!();
    let blocks: u32 = 1001;
    let iface = KernelInterface::from_json(MERGED_JSON).expect("interface");
    let mut bench = Benchmark::new(MERGED_WGSL, iface, [blocks, 1, 1], [32, 1, 1])
        .with_buffer("out", BufferSpec::zeros(u64::from(blocks) * 32 + 1))
        .with_iterations(0, 1);
    for (merge, dispatch, per_workgroup) in [(true, [126, 1, 1], 8), (false, [1001, 1, 1], 1)] {
        bench.merge_small_blocks = merge;
        let r = runner.run(&bench).expect("runs");
        assert_eq!(
            (r.dispatch, r.blocks_per_workgroup),
            (dispatch, per_workgroup)
        );
        let out = r.output("out").expect("out").to_u32();
        for (i, v) in out.iter().enumerate().take(blocks as usize * 32) {
            assert_eq!(*v, i as u32 / 32 + 1, "thread {i} (merge {merge})");
        }
        assert_eq!(out[blocks as usize * 32], 0, "no slot past the grid wrote");
    }
}
