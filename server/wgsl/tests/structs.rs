//! CUDA structs whose C layout is WGSL's: buffers of them, locals, member
//! reads and writes, `->` through a pointer view (snapshots), and the
//! refusals that name the member whose layout differs.

mod common;

/// A graph walk over a buffer of nodes, a distance through `->`, and a
/// struct holding a vector (our own kernels).
const STRUCTS: &str = r#"
struct Node { int starting; int no_of_edges; };
typedef struct { float lat, lng; } LatLong;
struct Cell { float2 v; float w; int tag; };
struct Padded { float3 p; int k; };

__global__ void visit(Node *nodes, const int *edges, int *cost, int n) {
    int tid = blockIdx.x * blockDim.x + threadIdx.x;
    if (tid < n) {
        Node me = nodes[tid];
        int sum = 0;
        for (int i = me.starting; i < me.starting + me.no_of_edges; i++) sum += edges[i];
        cost[tid] = sum;
        nodes[tid].no_of_edges = 0;
    }
}

__global__ void distance(const LatLong *where, float *d, int n, float lat, float lng) {
    int g = blockIdx.x * blockDim.x + threadIdx.x;
    const LatLong *p = where + g;
    if (g < n) d[g] = sqrtf((lat - p->lat) * (lat - p->lat) + (lng - p->lng) * (lng - p->lng));
}

__global__ void relax(Cell *c, Padded *q) {
    int i = threadIdx.x;
    Cell x = c[i];
    x.w += x.v.y;
    x.tag = q[i].k;
    c[i] = x;
}
"#;

fn compile(source: &str, kernel: &str) -> Result<cudalens_wgsl::TranspileOutput, String> {
    common::compile_as("structs.cu", source, kernel)
}

/// The struct declarations and the entry point's body.
fn parts(wgsl: &str) -> String {
    let decls: Vec<&str> = wgsl
        .split("\n\n")
        .filter(|b| b.starts_with("// CUDA `struct"))
        .collect();
    let body = &wgsl[wgsl.find("    let ").expect("body")..];
    format!("{}\n\n{body}", decls.join("\n\n"))
}

#[test]
fn buffers_of_structs_are_arrays_of_wgsl_structs() {
    for kernel in ["visit", "distance", "relax"] {
        let out = compile(STRUCTS, kernel).unwrap_or_else(|e| panic!("{kernel}: {e}"));
        insta::assert_snapshot!(format!("{kernel}_structs"), parts(&out.wgsl));
    }
    let out = compile(STRUCTS, "visit").expect("visit");
    let nodes = &out.sidecar.bindings[0];
    assert_eq!(
        (nodes.name.as_str(), nodes.element.as_deref()),
        ("nodes", Some("Node"))
    );
}

#[test]
fn layouts_wgsl_cannot_match_are_refused_naming_the_member() {
    let cases = [
        (
            "struct B { int k; float3 p; };\n__global__ void k(B *b) { b[0].k = 1; }",
            "struct `B`: member `p` is at byte 4 in C but 16 in WGSL",
        ),
        (
            "struct B { float *data; int n; };\n__global__ void k(B *b) { b[0].n = 1; }",
            "struct `B`: the pointer member `data` cannot be expressed in WGSL",
        ),
        (
            "struct B { int keys[4]; int n; };\n__global__ void k(B *b) { b[0].n = 1; }",
            "struct `B`: the array member `keys` is not supported yet",
        ),
        (
            "struct B { char c; int n; };\n__global__ void k(B *b) { b[0].n = 1; }",
            "struct `B`, member `c`",
        ),
        (
            "struct B { float a; int n; };\n__global__ void k(B b, float *o) { o[0] = b.a; }",
            "struct `B` passed by value to a kernel is not supported yet",
        ),
        (
            "struct B { float a; int n; };\n__global__ void k(B *b, float *o) { o[0] = b[0].c; }",
            "struct `B` has no member `c`",
        ),
    ];
    for (source, want) in cases {
        let err = compile(source, "k").expect_err(source);
        assert!(err.contains(want), "{source}:\n{err}");
    }
}

#[test]
fn the_runner_refuses_struct_buffers_it_cannot_fill() {
    let out = compile(STRUCTS, "visit").unwrap_or_else(|e| panic!("{e}"));
    let err =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect_err("structs");
    assert!(err.to_string().contains("holds structs (`Node`)"), "{err}");
}
