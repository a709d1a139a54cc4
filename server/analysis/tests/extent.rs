//! `memory::extent::buffer_extents`: how far into each buffer a kernel
//! reaches for a launch, and no claim where an access is not understood.

mod common;

use std::collections::HashMap;

use cudalens_analysis::context::contexts_for;
use cudalens_analysis::memory::extent::buffer_extents;

fn extents(
    src: &str,
    kernel: &str,
    block: [u32; 3],
    grid: [u32; 3],
    scalars: &[(&str, i128)],
) -> HashMap<String, Option<u64>> {
    let (model, _) = common::analyze_text(src);
    let f = model.function(kernel).expect("kernel");
    let launches: Vec<_> = model.launches_of(kernel).collect();
    let mut ctx = contexts_for(&model, &launches, f, &Default::default())
        .into_iter()
        .next()
        .expect("a context");
    ctx.block = block;
    ctx.param_values = scalars.iter().map(|(n, v)| (n.to_string(), *v)).collect();
    buffer_extents(&model, f, &ctx, grid)
}

const ATAX: &str = r#"
__global__ void row_dot(const float* A, const float* x, float* tmp, int nx, int ny) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < nx) {
        float s = 0.0f;
        for (int j = 0; j < ny; j++) s += A[i * ny + j] * x[j];
        tmp[i] = s;
    }
}
"#;

#[test]
fn a_grid_of_threads_walking_rows_reaches_the_whole_matrix() {
    let e = extents(
        ATAX,
        "row_dot",
        [256, 1, 1],
        [16, 1, 1],
        &[("nx", 4096), ("ny", 1000)],
    );
    // Thread 4095 reads row 4095: bytes up to (4095 * 1000 + 999 + 1) * 4.
    assert_eq!(e["A"], Some(4096 * 1000 * 4));
    assert_eq!(e["x"], Some(1000 * 4));
    assert_eq!(e["tmp"], Some(4096 * 4));
}

#[test]
fn unknown_trip_counts_and_data_dependent_indices_are_not_bounded() {
    // ny unknown: no bound for A or x (the loop's iterations have no range).
    let e = extents(ATAX, "row_dot", [256, 1, 1], [16, 1, 1], &[("nx", 4096)]);
    assert_eq!(e["A"], None);
    let gather = r#"
__global__ void gather(const int* idx, const float* v, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = v[idx[i]];
}
"#;
    let e = extents(gather, "gather", [128, 1, 1], [4, 1, 1], &[]);
    // `v[idx[i]]` is not understood: no buffer of the kernel is claimed.
    assert!(e.values().all(Option::is_none), "{e:?}");
}
