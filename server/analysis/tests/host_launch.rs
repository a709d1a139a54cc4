//! `host_launch::resolve`: the launch a program makes, read from its host
//! code, with where every number came from (fixtures in
//! `tests/corpus/host_launch/`).

mod common;

use cudalens_analysis::host_launch::{self, HostLaunch};

fn launches(file: &str, kernel: &str) -> Vec<HostLaunch> {
    let (text, model, _) = common::analyze_file(&common::corpus(&format!("host_launch/{file}")));
    let n = host_launch::launch_sites(&model, kernel).len();
    (0..n)
        .filter_map(|i| host_launch::resolve(&model, &text, kernel, i))
        .collect()
}

/// What `cudalens bench` prints about a launch, one line per number.
fn report(file: &str, kernel: &str) -> String {
    let mut out = String::new();
    for l in launches(file, kernel) {
        out.push_str(&format!("launch {}\n", l.location(file)));
        out.push_str(&format!("  grid  {}\n", l.grid.describe()));
        out.push_str(&format!("  block {}\n", l.block.describe()));
        for s in &l.scalars {
            out.push_str(&format!("  {} {}\n", s.param, s.describe()));
        }
        for a in l.assumptions() {
            out.push_str(&format!("  assumption: {a}\n"));
        }
    }
    out
}

#[test]
fn sizes_come_from_the_default_dataset_through_the_callers() {
    let l = &launches("scale_rows.cu", "scale_rows")[0];
    assert_eq!(l.block.value, Some([32, 8, 1]));
    // ceil(300 / 32) = 10, ceil(600 / 8) = 75.
    assert_eq!(l.grid.value, Some([10, 75, 1]));
    let values: Vec<_> = l
        .scalars
        .iter()
        .map(|s| (s.param.as_str(), s.value))
        .collect();
    assert_eq!(
        values,
        [
            ("rows", Some(host_launch::Num::Int(600))),
            ("cols", Some(host_launch::Num::Int(300))),
            // pick_factor(&factor) sets `*factor = 1.5f;`.
            ("factor", Some(host_launch::Num::Float(1.5))),
        ]
    );
    insta::assert_snapshot!(report("scale_rows.cu", "scale_rows"));
}

#[test]
fn a_loop_variable_takes_its_first_value_and_says_so() {
    let l = &launches("forms.cu", "bump")[0];
    assert_eq!(l.grid.value, Some([8192, 1, 1]));
    assert_eq!(l.block.value, Some([128, 1, 1]));
    assert_eq!(l.scalars[1].value, Some(host_launch::Num::Int(0)));
    assert!(l.assumptions().iter().any(|a| a.contains("first value")));
    insta::assert_snapshot!(report("forms.cu", "bump"));
}

#[test]
fn every_launch_of_a_kernel_is_resolved_in_file_order() {
    let all = launches("forms.cu", "fill");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].grid.value, Some([4096, 1, 1]));
    assert_eq!(all[1].grid.value, Some([16384, 1, 1]));
    assert_eq!(all[1].scalars[0].value, Some(host_launch::Num::Int(524288)));
    insta::assert_snapshot!(report("forms.cu", "fill"));
}

#[test]
fn member_reads_of_another_dim3_and_unknown_run_time_values() {
    let l = &launches("forms.cu", "blur")[0];
    assert_eq!(l.block.value, Some([16, 16, 1]));
    // The grid's y needs `height`, which main computes from argc.
    assert_eq!(l.grid.value, None);
    assert_eq!(l.scalars[0].value, Some(host_launch::Num::Int(1000)));
    assert_eq!(l.scalars[1].value, None);
    insta::assert_snapshot!(report("forms.cu", "blur"));
}

#[test]
fn min_and_max_of_constants() {
    let l = &launches("forms.cu", "stride_sum")[0];
    assert_eq!(l.block.value, Some([512, 1, 1]));
    assert_eq!(l.grid.value, Some([1024, 1, 1]));
    insta::assert_snapshot!(report("forms.cu", "stride_sum"));
}

#[test]
fn assignments_before_the_launch_are_followed_only_when_they_always_run() {
    let l = &launches("assigned.cu", "shrink")[0];
    // blocks.x = ceil((1000 - 1) / 64) at k = 0.
    assert_eq!(l.grid.value, Some([16, 1, 1]));
    assert_eq!(l.block.value, Some([64, 1, 1]));
    let s = &launches("assigned.cu", "scale")[0];
    assert_eq!(s.scalars[0].value, Some(host_launch::Num::Int(4000)));
    // `m` is assigned under `if (flag)`.
    assert_eq!(s.grid.value, None);
    insta::assert_snapshot!(format!(
        "{}{}",
        report("assigned.cu", "shrink"),
        report("assigned.cu", "scale")
    ));
}

/// Every launch of every kernel in the repository's own CUDA files resolves
/// without a panic, and a resolved grid or block is never zero.
#[test]
fn every_launch_in_the_corpus_resolves_without_panicking() {
    let mut files = Vec::new();
    let mut dirs = vec![
        common::repo_root().join("tests/corpus"),
        common::repo_root().join("examples"),
    ];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "cu" || x == "cuh") {
                files.push(p);
            }
        }
    }
    let mut launches_seen = 0;
    for path in files {
        let (text, model, _) = common::analyze_file(&path);
        let kernels: Vec<String> = model.launches.iter().map(|l| l.kernel.clone()).collect();
        for k in kernels {
            for i in 0..host_launch::launch_sites(&model, &k).len() {
                let l = host_launch::resolve(&model, &text, &k, i).expect("a launch");
                launches_seen += 1;
                for d in [l.grid.value, l.block.value].into_iter().flatten() {
                    assert!(d.iter().all(|&v| v > 0), "{}: {k}: {d:?}", path.display());
                }
                let _ = (l.grid.describe(), l.block.describe(), l.assumptions());
            }
        }
    }
    assert!(launches_seen > 10, "{launches_seen}");
}

#[test]
fn a_loop_over_a_constant_array_gives_one_launch_per_value() {
    let (text, model, _) = common::analyze_file(&common::corpus("host_launch/block_sweep.cu"));
    // bench follows the first value and says so.
    let first = host_launch::resolve(&model, &text, "scale", 0).expect("launch");
    assert_eq!(first.block.value, Some([32, 1, 1]));
    assert!(
        first
            .assumptions()
            .iter()
            .any(|a| a.contains("runs over the 3 values of `block_sizes`")),
        "{:?}",
        first.assumptions()
    );
    // The analysis takes each value, with no assumption left.
    let each = host_launch::resolve_each(&model, &text, "scale", 0);
    let blocks: Vec<_> = each.iter().map(|l| l.block.value).collect();
    assert_eq!(
        blocks,
        [Some([32, 1, 1]), Some([128, 1, 1]), Some([512, 1, 1])]
    );
    // The grid depends on the value: read once, with the loop's assumption.
    assert!(
        each.iter()
            .all(|l| l.grid.value == Some([128, 1, 1]) && !l.grid.how.assumptions.is_empty()),
        "{:?}",
        each.iter().map(|l| &l.grid).collect::<Vec<_>>()
    );
    assert!(each.iter().all(|l| l.block.how.assumptions.is_empty()));
}

fn resolve_text(text: &str, kernel: &str) -> HostLaunch {
    let (model, _) = common::analyze_text(text);
    host_launch::resolve(&model, text, kernel, 0).expect("a launch")
}

/// A parameter set before the launch (llm.c's `softmax_forward3` sets
/// `block_size = 32;` whatever its caller passed) and a one-line helper
/// (the CUDA samples' `iDivUp`) are followed; a function called twice
/// with the same value is no assumption, with different values it is.
#[test]
fn parameters_set_before_the_launch_helpers_and_repeated_calls() {
    let text = r#"
__global__ void k(float* p, int n) { p[threadIdx.x] = n; }
static unsigned int div_up(unsigned int a, unsigned int b) { return (a % b != 0) ? (a / b + 1) : (a / b); }
void launch(float* p, int n, int block) {
    block = div_up(1920, 16);
    k<<<div_up(n, block), block>>>(p, n);
}
void dispatch(int which, float* p, int block) {
    switch (which) {
        case 1: launch(p, 4096, block); break;
        case 2: launch(p, 4096, block); break;
    }
}
int main() { float* p; dispatch(1, p, 64); }
"#;
    let l = resolve_text(text, "k");
    assert_eq!(l.block.value, Some([120, 1, 1]));
    assert!(l.block.how.certain(), "{:?}", l.block.how);
    // ceil(4096 / 120) = 35, with n the same at both calls.
    assert_eq!(l.grid.value, Some([35, 1, 1]));
    assert!(l.grid.how.certain(), "{:?}", l.grid.how);
    assert!(l.assumptions().is_empty(), "{:?}", l.assumptions());

    let differing = text.replace("case 2: launch(p, 4096", "case 2: launch(p, 8192");
    let l = resolve_text(&differing, "k");
    assert_eq!(l.grid.value, Some([35, 1, 1]));
    assert_eq!(
        l.grid.how.assumptions,
        ["launch is called 2 times: the first call (line 10) is followed"]
    );
    // The block does not depend on the call: still certain.
    assert!(l.block.how.certain(), "{:?}", l.block.how);

    // A helper that is more than one `return` is not followed.
    let longer = text.replace(
        "{ return (a % b != 0) ? (a / b + 1) : (a / b); }",
        "{ unsigned int q = a / b; return (a % b != 0) ? q + 1 : q; }",
    );
    let l = resolve_text(&longer, "k");
    assert_eq!(l.block.value, None);
    // A helper that calls itself is not followed, and says so.
    let recursive = text.replace(
        "{ return (a % b != 0) ? (a / b + 1) : (a / b); }",
        "{ return a > b ? div_up(a - b, b) + 1 : 1; }",
    );
    let r = resolve_text(&recursive, "k");
    assert_eq!(r.block.value, None);
    assert!(
        r.block
            .how
            .unresolved
            .as_deref()
            .is_some_and(|w| w.contains("`div_up` calls itself")),
        "{:?}",
        r.block.how
    );
    assert!(
        l.block
            .how
            .unresolved
            .as_deref()
            .is_some_and(|w| w.contains("div_up(1920, 16)")),
        "{:?}",
        l.block.how
    );
}

/// The allocation each pointer argument points at: the last `cudaMalloc`
/// before the launch in the launching function (through casts, error
/// checking wrappers and `sizeof` of a macro-named type), or in its
/// caller for a pointer passed in; an offset pointer or a buffer allocated
/// nowhere in the file stays unresolved with the reason.
#[test]
fn buffers_take_the_size_the_program_allocates() {
    let text = r#"
#define DATA_TYPE float
#define M 2048
#define CHECK(x) x
__global__ void k(DATA_TYPE* a, DATA_TYPE* b, DATA_TYPE* c, double* d, float* e, int n) { a[threadIdx.x] = n; }
void run(int n, double* d_in) {
    DATA_TYPE *a_gpu, *b_gpu, *c_gpu, *e_gpu;
    cudaMalloc((void **)&a_gpu, sizeof(DATA_TYPE) * M * 16);
    cudaMalloc((void **)&a_gpu, sizeof(DATA_TYPE) * M * n);
    cudaMalloc(&b_gpu, n * sizeof(float));
    CHECK(cudaMalloc(&c_gpu, n * sizeof(float)));
    k<<<n / 256, 256>>>(a_gpu, b_gpu + 4, c_gpu, d_in, e_gpu, n);
}
int main() {
    double* d;
    cudaMallocManaged(&d, 1000 * sizeof(*d));
    run(4096, d);
}
"#;
    let l = resolve_text(text, "k");
    let got: Vec<String> = l
        .buffers
        .iter()
        .map(|b| format!("{}: {}", b.param, b.describe()))
        .collect();
    insta::assert_debug_snapshot!(got);
}

/// A pointer argument the launch passes as NULL (llm.c's `matmul_forward`
/// with no bias): `bench` sets the kernel's NULL test from it.
#[test]
fn null_pointer_arguments_are_marked() {
    let text = r#"
__global__ void k(float* out, const float* bias, const float* w, int n) { out[threadIdx.x] = n; }
int main() {
    float *out, *w;
    cudaMalloc(&out, 256 * sizeof(float));
    k<<<1, 256>>>(out, NULL, (const float*)nullptr, 256);
    k<<<1, 256>>>(out, 0, w, 256);
}
"#;
    let l = resolve_text(text, "k");
    let null: Vec<(&str, bool)> = l
        .buffers
        .iter()
        .map(|b| (b.param.as_str(), b.null))
        .collect();
    assert_eq!(null, [("out", false), ("bias", true), ("w", true)]);
}
