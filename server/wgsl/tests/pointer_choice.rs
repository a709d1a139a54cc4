//! A pointer chosen at run time between two of the kernel's buffers (an
//! `if` assigning it in both branches, as HeCBench concat does, or a
//! ternary at its declaration, as storeKVCache does): what follows the
//! choice is lowered once for each buffer. Our own kernels, run on a real
//! adapter (lavapipe here) against Rust references; a choice followed by
//! a barrier stays refused.

mod common;

/// Concatenation of two row blocks: each thread's source is one input or
/// the other, and its destination pointer is taken before `idx` changes.
const CONCAT: &str = r#"
__global__ void concat(const float *inp1, const float *inp2, float *output, const int *rows) {
    int idx = threadIdx.x;
    float *dst = output + idx;
    int first = rows[0];
    const float *src;
    int row;
    if (idx < first) {
        row = idx;
        src = inp1;
    } else {
        row = idx - first;
        src = inp2;
    }
    idx = -1;
    src += row;
    *dst = *src * 2.0f;
}
"#;

/// Each half of a warp copies into and from its own pair of buffers,
/// chosen by two ternaries (four copies of the loop).
const HALVES: &str = r#"
__global__ void halves(int *k_out, int *v_out, const int *k, const int *v, const int *count) {
    const int items = count[0];
    const int lane = threadIdx.x % 32;
    const bool first = lane < 16;
    const auto dst = first ? k_out : v_out;
    const auto src = first ? k : v;
    for (int i = 0; i < items; ++i) {
        dst[lane % 16 + 16 * i] = src[lane % 16 + 16 * i] + 100 * i;
    }
}
"#;

#[test]
fn each_thread_reads_the_buffer_its_condition_chose() {
    let out = common::compile_as("concat.cu", CONCAT, "concat").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("output[dst] = inp1["), "{}", out.wgsl);
    assert!(out.wgsl.contains("output[dst] = inp2["), "{}", out.wgsl);
    let a: Vec<f32> = (0..32).map(|i| i as f32).collect();
    let b: Vec<f32> = (0..32).map(|i| 100.0 + i as f32).collect();
    let first = 12i32;
    if let Some(got) = common::run_block::<f32>(
        &out,
        32,
        &[
            ("inp1", 32, bytemuck::cast_slice(&a).to_vec()),
            ("inp2", 32, bytemuck::cast_slice(&b).to_vec()),
            ("rows", 1, first.to_le_bytes().to_vec()),
        ],
        ("output", 32),
    ) {
        let want: Vec<f32> = (0..32)
            .map(|t| if t < 12 { a[t] * 2.0 } else { b[t - 12] * 2.0 })
            .collect();
        assert_eq!(got, want);
    }
}

#[test]
fn ternary_choices_write_the_buffer_chosen() {
    let out = common::compile_as("halves.cu", HALVES, "halves").unwrap_or_else(|e| panic!("{e}"));
    let k: Vec<i32> = (0..32).collect();
    let v: Vec<i32> = (0..32).map(|i| -i).collect();
    let items = 2usize;
    let run = |output: &str, other: &str| {
        common::run_block::<i32>(
            &out,
            32,
            &[
                ("k", 32, bytemuck::cast_slice(&k).to_vec()),
                ("v", 32, bytemuck::cast_slice(&v).to_vec()),
                ("count", 1, (items as i32).to_le_bytes().to_vec()),
                (other, 32, vec![0; 128]),
            ],
            (output, 32),
        )
    };
    let Some(k_out) = run("k_out", "v_out") else {
        return;
    };
    let v_out = run("v_out", "k_out").unwrap_or_default();
    let want = |src: &[i32]| -> Vec<i32> {
        (0..32)
            .map(|j| {
                if j < 16 * items {
                    src[j] + 100 * (j / 16) as i32
                } else {
                    0
                }
            })
            .collect()
    };
    assert_eq!(k_out, want(&k));
    assert_eq!(v_out, want(&v));
}

#[test]
fn a_choice_followed_by_a_barrier_stays_refused() {
    let source = CONCAT.replace("    idx = -1;", "    __syncthreads();\n    idx = -1;");
    let err = common::compile_as("barrier.cu", &source, "concat").expect_err("barrier after");
    assert!(err.contains("pointer `src` would change arrays"), "{err}");
}

/// An optional output (HeCBench kalman's `double *b_fc = fc_steps ? d_fc +
/// bid * fc_steps : nullptr;`): a pointer only ever dereferenced is a view
/// of its non-null side, since CUDA reaches no use where it is null. Run on
/// the adapter; the same pointer tested against null stays refused.
const OPTIONAL: &str = r#"
__global__ void forecast(const float *x, float *fc, const int *count) {
    int steps = count[0];
    float *b_fc = steps ? fc + threadIdx.x * steps : nullptr;
    for (int it = 0; it < steps; it++) b_fc[it] = x[threadIdx.x] + it;
}
"#;

#[test]
fn an_optional_output_is_a_view_of_its_buffer() {
    let out =
        common::compile_as("optional.cu", OPTIONAL, "forecast").unwrap_or_else(|e| panic!("{e}"));
    let x: Vec<f32> = (0..32).map(|i| i as f32 * 10.0).collect();
    let steps = 3usize;
    if let Some(got) = common::run_block::<f32>(
        &out,
        32,
        &[
            ("x", 32, bytemuck::cast_slice(&x).to_vec()),
            ("count", 1, (steps as i32).to_le_bytes().to_vec()),
        ],
        ("fc", 96),
    ) {
        let want: Vec<f32> = (0..96).map(|j| x[j / steps] + (j % steps) as f32).collect();
        assert_eq!(got, want);
    }
    let tested = OPTIONAL.replace("for (int it", "if (b_fc) for (int it");
    let err =
        common::compile_as("tested.cu", &tested, "forecast").expect_err("tested against null");
    assert!(err.contains("choosing between pointers"), "{err}");
}

/// What fails inside the copies of a split is reported once, naming the
/// variables as written (the copies' own names never reach the user).
#[test]
fn errors_in_the_copies_name_the_source() {
    let source = r#"
__global__ void k(float *a, float *b) {
    float *r = threadIdx.x ? a : b;
    float *s = r ? r : a;
    s[1] = 0;
}
"#;
    let err = common::compile(source, "k", &cudalens_wgsl::TranspileOptions::default())
        .expect_err("pointer as a condition");
    let messages: Vec<&str> = err.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.iter().all(|m| !m.contains("_choice")),
        "{messages:#?}"
    );
    let tested = messages
        .iter()
        .filter(|m| m.contains("pointer used as a condition"))
        .count();
    assert_eq!(tested, 1, "{messages:#?}");
}
