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
            "struct B { float *data; int n; };\n__global__ void k(B *b) { b[0].data[0] = 1.0f; }",
            "member `data` of struct `B` is a pointer: WGSL cannot follow pointers held in memory",
        ),
        (
            "struct B { float3 keys[2]; int n; };\n__global__ void k(B *b) { b[0].n = 1; }",
            "struct `B`: the elements of the array member `keys` (`float3`) are 12 bytes apart in C but 16 in WGSL",
        ),
        (
            "struct R { float3 o; float3 d; };\n__constant__ R c_r;\n__global__ void k(float *o) { o[0] = c_r.d.x; }",
            "file-scope variable `c_r`: struct `R`: member `d` is at byte 12 in C but 16 in WGSL",
        ),
        (
            "struct R { float3 o; float3 d; };\n__global__ void k(R *r, float *o) { R x; x.o = make_float3(1.0f); o[0] = x.o.y + r[0].d.z; }",
            "struct `R`: member `d` is at byte 12 in C but 16 in WGSL",
        ),
        (
            "struct P { float a; int b; };\n__constant__ P c_p = {1.0f, 2};\n__global__ void k(float *o) { o[0] = c_p.a; }",
            "initialised structs are not supported yet",
        ),
        (
            "struct B { char c; int n; };\n__global__ void k(B *b) { b[0].n = 1; }",
            "struct `B`, member `c`",
        ),
        (
            "struct B { int a; float3 p; };\n__global__ void k(B b, float *o) { o[0] = b.p.x; }",
            "struct `B` passed by value to the kernel: struct `B`: member `p` is at byte 4 in C but 16 in WGSL",
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

/// A pointer member the kernel does not use (Rodinia streamcluster's
/// `Point::coord`) keeps its 8 bytes as two words, so the members after it
/// sit where C puts them.
#[test]
fn unused_pointer_members_keep_their_bytes() {
    let source = "typedef struct { float weight; float *coord; long assign; float cost; } Point;\n\
__global__ void k(const Point *p, float *o) { int i = threadIdx.x; o[i] = p[i].weight * p[i].cost + p[i].assign; }\n";
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        source_name: Some("structs.cu".into()),
        ..cudalens_wgsl::TranspileOptions::default()
    };
    let out = common::compile(source, "k", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    insta::assert_snapshot!("pointer_member_structs", parts(&out.wgsl));
}

#[test]
fn the_runner_refuses_struct_buffers_it_cannot_fill() {
    let out = compile(STRUCTS, "visit").unwrap_or_else(|e| panic!("{e}"));
    let err =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect_err("structs");
    assert!(err.to_string().contains("holds structs (`Node`)"), "{err}");
}

/// A ray of two `float3` members held only in a local (no one else reads
/// its bytes, so WGSL's own layout serves) and a matrix of `float4` rows
/// in `__constant__` memory and in a buffer (an array member as far apart
/// as in C), as in the CUDA samples' volume renderers (our own kernel).
const RAYS: &str = r#"
struct Ray { float3 o; float3 d; };
struct Rows { float4 m[3]; int n; };
__constant__ Rows c_view;

__device__ float dot4(float4 a, float4 b) { return a.x * b.x + a.y * b.y + a.z * b.z + a.w * b.w; }

__global__ void march(const Rows *extra, float *out, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) return;
    Ray r;
    r.o = make_float3(0.0f, 0.0f, (float)i);
    r.d = make_float3(dot4(c_view.m[0], make_float4(1.0f, 0.0f, 0.0f, 0.0f)),
                      dot4(c_view.m[1], extra[0].m[2]), 1.0f);
    out[i] = r.o.z + r.d.x * r.d.y + extra[0].n;
}
"#;

#[test]
fn local_structs_keep_wgsl_layout_and_array_members_match_c() {
    let out = compile(RAYS, "march").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("march_structs", parts(&out.wgsl));
    let view = out
        .sidecar
        .bindings
        .iter()
        .find(|b| b.name == "c_view")
        .expect("c_view");
    assert_eq!(
        (view.element.as_deref(), view.length, view.initial.is_none()),
        (Some("Rows"), Some(1), true)
    );
    let err =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect_err("structs");
    assert!(err.to_string().contains("holds structs"), "{err}");
}

/// A struct passed by value to a kernel (the CUDA samples' lineOfSight
/// `const Ray ray`, LargeKernelParameter's `param_t`): one struct in a
/// read-only storage buffer, and a `var` copy when the kernel writes its
/// parameter (our own kernel).
const BY_VALUE: &str = r#"
struct Segment { float3 origin; float2 dir; int length; };
struct Table { int v[8]; };

__device__ float2 at(Segment s, int i) { return make_float2(s.origin.x + i * s.dir.x, s.origin.y + i * s.dir.y); }

__global__ void walk(const Segment seg, Table t, float *out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    t.v[0] += 1;
    if (i < seg.length) out[i] = at(seg, i).y + t.v[i % 8];
}
"#;

#[test]
fn structs_passed_by_value_are_one_struct_in_a_read_only_buffer() {
    let out = compile(BY_VALUE, "walk").unwrap_or_else(|e| panic!("{e}"));
    insta::assert_snapshot!("walk_structs", parts(&out.wgsl));
    let decls: Vec<&str> = out
        .wgsl
        .lines()
        .filter(|l| l.contains("var<storage"))
        .collect();
    assert_eq!(
        decls,
        [
            "@group(0) @binding(0) var<storage, read> seg: Segment;",
            "@group(0) @binding(1) var<storage, read> t: Table;",
            "@group(0) @binding(2) var<storage, read_write> out: array<f32>;",
        ]
    );
    let seg = &out.sidecar.bindings[0];
    assert_eq!(
        (seg.param_index, seg.length, seg.element.as_deref()),
        (Some(0), Some(1), Some("Segment"))
    );
    let err =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect_err("structs");
    assert!(
        err.to_string().contains("holds structs (`Segment`)"),
        "{err}"
    );
}

/// 64-bit integer vectors (HeCBench's compute-score and merkle: `ulong4`):
/// `vec2/vec4<u64>`, whose strides are C's; in a struct where C aligns a
/// `ulong4` to 16 bytes and WGSL to 32, refused with the offsets.
#[test]
fn sixty_four_bit_integer_vectors() {
    let opts = cudalens_wgsl::TranspileOptions {
        enable_int64: true,
        ..Default::default()
    };
    let source = "__global__ void k(ulong4 *v, long2 *w) {\n\
                  int i = threadIdx.x;\n\
                  ulong4 a = v[i];\n\
                  v[i] = make_ulong4(a.w, a.z, a.y, a.x + 1);\n\
                  w[i].x += w[i].y;\n}\n\
                  int main() { k<<<1, 32>>>(0, 0); }\n";
    let out = common::compile(source, "k", &opts).unwrap_or_else(|d| panic!("{d:#?}"));
    assert!(out.wgsl.contains("array<vec4<u64>>"), "{}", out.wgsl);
    assert!(out.wgsl.contains("array<vec2<i64>>"), "{}", out.wgsl);
    let misaligned = "struct S { int tag; ulong4 h; };\n\
                      __global__ void k(S *s) { s[threadIdx.x].h.x = 1; }\n\
                      int main() { k<<<1, 32>>>(0); }\n";
    let err = common::compile(misaligned, "k", &opts).expect_err("C aligns ulong4 to 16");
    assert!(
        err.iter()
            .any(|d| d.message.contains("at byte 16 in C but 32 in WGSL")),
        "{err:#?}"
    );
}
