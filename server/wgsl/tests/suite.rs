//! The kernel suite: every file in `tests/kernels` compiles, validates with
//! naga, and matches its reviewed WGSL and sidecar snapshots.

mod common;

use cudalens_wgsl::transpile_all;
use cudalens_wgsl::validate::{Needs, validate_with};

use common::{model_of, suite, suite_options};

#[test]
fn every_suite_kernel_compiles_validates_and_matches_its_snapshot() {
    let files = suite();
    assert!(files.len() >= 15, "suite has {} files", files.len());
    for (stem, source) in files {
        let model = model_of(&source);
        let results = transpile_all(&model, &source, &suite_options(&stem));
        assert!(!results.is_empty(), "{stem}: no kernels");
        for (kernel, result) in results {
            let out = result.unwrap_or_else(|d| panic!("{stem}/{kernel}: {d:#?}"));
            // Independent re-validation with exactly the advertised features.
            let needs = Needs::from_feature_names(&out.sidecar.features);
            validate_with(&out.wgsl, &needs).unwrap_or_else(|e| panic!("{stem}/{kernel}: {e}"));
            insta::assert_snapshot!(format!("{stem}__{kernel}_wgsl"), out.wgsl);
            insta::assert_snapshot!(format!("{stem}__{kernel}_sidecar"), out.sidecar.to_json());
            let warnings: Vec<String> = out.warnings.iter().map(|w| w.message.clone()).collect();
            if stem == "reduce_unrolled_volatile" {
                assert!(
                    warnings.iter().any(|w| w.contains("volatile")),
                    "{warnings:?}"
                );
            } else {
                assert!(
                    warnings.is_empty(),
                    "{stem}: unexpected warnings {warnings:?}"
                );
            }
        }
    }
}

#[test]
fn saxpy_sidecar_is_the_documented_schema() {
    let out = common::compile_suite("saxpy");
    let json: serde_json::Value = serde_json::from_str(&out.sidecar.to_json()).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        r#"{ "source_kernel": "saxpy", "entry_point": "saxpy", "workgroup_size": [256,1,1],
  "workgroup_size_overrides": ["BLOCK_DIM_X","BLOCK_DIM_Y","BLOCK_DIM_Z"],
  "dynamic_shared_override": null, "grid_layout_override": "GRID_LAYOUT",
  "blocks_per_workgroup_override": "BLOCKS_PER_WORKGROUP", "features": [],
  "bindings": [
    {"group":0,"binding":0,"name":"x","kind":"storage_read","element":"f32","param_index":1},
    {"group":0,"binding":1,"name":"y","kind":"storage_read_write","element":"f32","param_index":2},
    {"group":0,"binding":2,"name":"params","kind":"uniform","size":32,"fields":[
       {"name":"n","type":"i32","offset":0,"param_index":0},{"name":"a","type":"f32","offset":4,"param_index":3},
       {"name":"__grid_dim","type":"vec3<u32>","offset":16,"param_index":null}]}],
  "source_map": [
    {"wgsl_lines":[58,58],"line":3},{"wgsl_lines":[59,59],"line":4},{"wgsl_lines":[60,61],"line":5}]}"#,
    )
    .unwrap();
    assert_eq!(json, expected);
}

#[test]
fn atomics_and_dynamic_shared_memory_are_declared_as_such() {
    let hist = common::compile_suite("histogram");
    assert!(
        hist.wgsl
            .contains("var<workgroup> local_hist: array<atomic<u32>, 64>;")
    );
    assert!(
        hist.wgsl
            .contains("var<storage, read_write> hist: array<atomic<u32>>;")
    );
    assert!(hist.wgsl.contains("atomicStore(&local_hist[b], 0u);"));
    let element = hist.sidecar.bindings[1].element.as_deref();
    assert_eq!(element, Some("atomic<u32>"));

    let scan = common::compile_suite("scan_hillis_steele");
    assert_eq!(
        scan.sidecar.dynamic_shared_override.as_deref(),
        Some("DYNAMIC_SHARED_ELEMENTS")
    );
    assert!(
        scan.wgsl
            .contains("override DYNAMIC_SHARED_ELEMENTS: u32 = 512u;"),
        "{}",
        scan.wgsl
    );
    assert!(
        scan.wgsl
            .contains("var<workgroup> temp: array<f32, DYNAMIC_SHARED_ELEMENTS>;")
    );

    let cf = common::compile_suite("control_flow");
    assert!(
        cf.wgsl
            .contains("var<storage, read_write> total: array<atomic<u32>>;")
    );
    assert!(cf.wgsl.contains("atomicCompareExchangeWeak"));
}

#[test]
fn barriers_order_storage_only_when_threads_share_a_buffer() {
    // Reads A and B, writes C: no thread reads what another wrote in global
    // memory, so the barrier is a workgroup barrier only.
    let tiled = common::compile_suite("matmul_tiled");
    assert!(tiled.wgsl.contains("workgroupBarrier();"));
    assert!(!tiled.wgsl.contains("storageBarrier();"), "{}", tiled.wgsl);
    // Writes then reads a neighbour's element of the same buffer: both barriers.
    let src = "__global__ void share(float* buf) {\n  int i = blockIdx.x * blockDim.x + threadIdx.x;\n  buf[i] = 1.0f;\n  __syncthreads();\n  buf[i] += buf[blockIdx.x * blockDim.x + (threadIdx.x + 1) % blockDim.x];\n}\nvoid host(float* b) { share<<<4, 64>>>(b); }\n";
    let out = common::compile(src, "share", &cudalens_wgsl::TranspileOptions::default())
        .expect("compiles");
    assert!(out.wgsl.contains("storageBarrier();"), "{}", out.wgsl);
}

#[test]
fn warp_shuffles_use_subgroups() {
    let out = common::compile_suite("reduce_warp_shfl");
    assert_eq!(out.sidecar.features, vec!["subgroups".to_string()]);
    assert!(out.wgsl.contains("subgroupShuffleDown"));
    assert!(out.wgsl.contains("@builtin(subgroup_size)"));
}
