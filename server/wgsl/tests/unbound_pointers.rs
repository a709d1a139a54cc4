//! Pointer variables declared without a value (`const float *src;`, or
//! `= NULL`) and bound by their first assignment (`src = a + split;` in
//! one branch, `src = a;` in the other, as in public code that picks a row
//! or an input per thread): the pointer is a view of that array whose
//! element offset is a variable declared with it; a later assignment into
//! another array, and a use before any assignment, are refused (our own
//! kernels; snapshot, refusals, and a run on a real adapter, lavapipe here,
//! against a Rust reference).

mod common;

use cudalens_gpu::{Benchmark, BufferSpec, KernelInterface, ParamValue};

const GATHER: &str = r#"
__global__ void gather(const float *a, float *out, int *slots, int n, int split) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    const float *src;
    int *slot = NULL;
    int k;
    if (i < split) {
        src = a;
        k = i;
    } else {
        src = a + split;
        k = i - split;
    }
    src += 1;
    slot = slots + i;
    out[i] = src[k - 1] * 2.0f + src[0];
    *slot = k;
}
"#;

fn compile() -> cudalens_wgsl::TranspileOutput {
    common::compile_as("gather.cu", GATHER, "gather").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn pointers_declared_without_a_value_are_bound_by_their_first_assignment() {
    let out = compile();
    let body = &out.wgsl[out.wgsl.find("let n: i32").expect("body")..];
    insta::assert_snapshot!("gather_body", body);
    // `slot` writes `slots` through the assignment that binds it.
    let written: Vec<_> = out
        .sidecar
        .bindings
        .iter()
        .filter(|b| b.kind == cudalens_wgsl::BindingKind::StorageReadWrite)
        .map(|b| b.name.as_str())
        .collect();
    assert_eq!(written, ["out", "slots"]);
}

#[test]
fn a_pointer_that_changes_arrays_or_is_read_unassigned_is_refused() {
    // Into another array under a condition: the pointer would hold either
    // at run time (a choice in both branches of an `if` is split instead,
    // see pointer_choice.rs).
    let changes = GATHER.replace("src += 1;", "if (k > 3) src = out;");
    let err = common::compile_as("gather.cu", &changes, "gather").expect_err("refused");
    assert!(err.contains("pointer `src` would change arrays"), "{err}");
    let early = GATHER.replace("    int k;\n", "    int k = (int)src[0];\n");
    let err = common::compile_as("gather.cu", &early, "gather").expect_err("refused");
    assert!(
        err.contains("pointer `src` is used before it is assigned"),
        "{err}"
    );
}

#[test]
fn the_bound_pointers_compute_on_the_adapter() {
    let out = compile();
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let (n, split) = (100usize, 37usize);
    // `src[k]` with `k = i - split` reads up to `a[split + n - split]`.
    let a: Vec<f32> = (0..n + 1).map(|i| i as f32 * 0.5 - 7.0).collect();
    let iface = KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = Benchmark::new(out.wgsl.clone(), iface, [2, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_arg(3, ParamValue::Scalar(n as f64))
        .with_arg(4, ParamValue::Scalar(split as f64))
        .with_buffer(
            "a",
            BufferSpec::bytes((n + 1) as u64, bytemuck::cast_slice(&a).to_vec()),
        )
        .with_buffer("out", BufferSpec::zeros(n as u64))
        .with_buffer("slots", BufferSpec::zeros(n as u64));
    let result = runner.run(&bench).expect("run");
    let bytes = |name: &str| {
        result
            .outputs
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no output {name}"))
            .bytes
            .clone()
    };
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&bytes("out"));
    let slots: Vec<i32> = bytemuck::pod_collect_to_vec(&bytes("slots"));
    for i in 0..n {
        let (base, k) = if i < split {
            (0, i)
        } else {
            (split, i - split)
        };
        let src = base + 1;
        let want = a[src + k - 1] * 2.0 + a[src];
        assert_eq!(got[i], want, "out[{i}]");
        assert_eq!(slots[i], k as i32, "slots[{i}]");
    }
}
