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
            "struct B { float *data; int n; };\n__global__ void k(B *b) { b[1].data[0] = 1.0f; }",
            "member `data` of struct `B` is a pointer: WGSL cannot follow pointers held in memory",
        ),
        (
            "struct B { float3 keys[2]; int n; };\n__global__ void k(B *b) { b[0].n = 1; }",
            "struct `B`: the elements of the array member `keys` (`float3`) are 12 bytes apart in C but 16 in WGSL",
        ),
        (
            "struct P { float a; int b; };\n__constant__ P c_p = {1.0f, 2};\nvoid set(P p) { cudaMemcpyToSymbol(c_p, &p, sizeof(P)); }\n__global__ void k(float *o) { o[0] = c_p.a; }",
            "the host copies into this initialised struct",
        ),
        (
            "struct B { char c[3]; };\n__global__ void k(B *b) { b[0].c[0] = 1; }",
            "struct `B` is 3 bytes in C but 4 in WGSL",
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

/// The runner fills buffers of structs from the layout in the sidecar
/// (`element_layout`): every number with a value of its type, a `bool`
/// word with 0 or 1, a pointer member's bytes with zeros. A kernel reads
/// every kind of member and writes what it computed into the same
/// element; on lavapipe, the result is checked against Rust reading the
/// element's other members from the same bytes.
#[test]
fn the_runner_fills_buffers_of_structs_member_by_member() {
    let source = r#"
struct Inner { int id; float w[2]; };
struct Body { float3 pos; bool live; int n; float *trail; Inner in; float sum; };
__global__ void weigh(Body *b) {
    int i = threadIdx.x;
    Body x = b[i];
    b[i].sum = x.pos.x + x.pos.y * x.pos.z + (x.live ? 10.0f : 20.0f) + x.n + x.in.id * x.in.w[1];
}
"#;
    let out = compile(source, "weigh").unwrap_or_else(|e| panic!("{e}"));
    let sidecar = out.sidecar.to_json();
    let iface =
        cudalens_gpu::KernelInterface::from_json(&sidecar).unwrap_or_else(|e| panic!("{e}"));
    let layout = iface.bindings[0].layout.clone().expect("layout");
    let leaves: Vec<(String, String, u64)> = (layout.leaves.iter())
        .map(|l| (l.name.clone(), l.ty.clone(), l.offset))
        .collect();
    insta::assert_debug_snapshot!("body_layout", (layout.stride, leaves));

    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    let bench = cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [64, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("b", cudalens_gpu::BufferSpec::random(64));
    let result = runner.run(&bench).expect("run");
    let bytes = result.output("b").expect("b").bytes.clone();
    let f = |at: usize| f32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let i = |at: usize| i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let stride = layout.stride as usize;
    assert_eq!(bytes.len(), 64 * stride);
    let mut lives = [0; 2];
    for e in 0..64 {
        let at = e * stride;
        // C's offsets: pos 0, live 12, n 16, trail 24, in 32 (id, w[2]), sum 44.
        let live = i(at + 12);
        assert!(live == 0 || live == 1, "live word {live}");
        lives[live as usize] += 1;
        assert_eq!(&bytes[at + 24..at + 32], &[0; 8], "pointer bytes");
        for k in [0, 4, 8, 36, 40] {
            assert!(
                (-1.0..1.0).contains(&f(at + k)),
                "float at {k}: {}",
                f(at + k)
            );
        }
        assert!((-100..=100).contains(&i(at + 16)));
        let want = f(at)
            + f(at + 4) * f(at + 8)
            + if live == 1 { 10.0 } else { 20.0 }
            + i(at + 16) as f32
            + i(at + 32) as f32 * f(at + 40);
        assert!(
            (f(at + 44) - want).abs() <= 1e-4 * want.abs().max(1.0),
            "sum of element {e}"
        );
    }
    assert!(
        lives[0] > 0 && lives[1] > 0,
        "both bool values drawn: {lives:?}"
    );
}

/// A ray of two `float3` members held in a local (three scalars each, as
/// every `float3` member is) and a matrix of `float4` rows
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
fn local_structs_and_array_members_match_c() {
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
    // The runner is told each element's layout: C's `float4 m[3]` rows.
    let iface = cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json())
        .unwrap_or_else(|e| panic!("{e}"));
    let layout = iface.bindings[0].layout.as_ref().expect("layout");
    let offsets: Vec<(&str, u64)> = (layout.leaves.iter())
        .map(|l| (l.name.as_str(), l.offset))
        .collect();
    assert_eq!(
        (layout.stride, offsets),
        (64, vec![("m[0]", 0), ("m[1]", 16), ("m[2]", 32), ("n", 48)])
    );
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
    // One element, laid out as C's `Segment` (a `float3` is 12 bytes).
    let iface = cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json())
        .unwrap_or_else(|e| panic!("{e}"));
    let layout = iface.bindings[0].layout.as_ref().expect("layout");
    assert_eq!(layout.stride, 32);
    assert_eq!(
        layout.leaves.iter().map(|l| l.offset).collect::<Vec<_>>(),
        [0, 4, 8, 16, 24]
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

/// Pointer members the kernel follows (HeCBench's ECL graphs passed by
/// value, `g.nindex[i]`; a struct of device pointers in device memory,
/// `clusters->means[i]` in the gaussian mixture): each is a buffer of its
/// own, bound after the parameters and named in the sidecar (`member_of`)
/// so the host side knows what fills it; members of structs held by value
/// (`d_vars.u_star.u0` in HeCBench's d3q19-bgk) and 8-bit elements (packed
/// four to a word) too. A member the kernel changes, a struct other than
/// the argument's first, and atomics are refused.
const MEMBER_BUFFERS: &str = r#"
struct Graph { int nodes; int *nindex; int *nlist; float *weight; };
struct Clusters { float *means; float *N; int k; };
__device__ float total(const float *w, int from, int to) {
    float s = 0.0f;
    for (int j = from; j < to; j++) s += w[j];
    return s;
}
__global__ void degree(Graph g, int *deg) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < g.nodes) {
        float w = total(g.weight, g.nindex[i], g.nindex[i + 1]);
        deg[i] = g.nindex[i + 1] - g.nindex[i] + g.nlist[g.nindex[i]] + (int)w;
    }
}
__global__ void seed(Clusters *c, const float *data, int n) {
    int i = threadIdx.x;
    if (i < n) { c->means[i] = data[i] * 2.0f; (*c).N[i] = c[0].means[i] + c->k; }
}
struct U { float *u0; float *u1; };
struct Vars { U u_star; unsigned char *flag; float *r; };
__device__ float first_u0(Vars w, int i) { return w.u_star.u0[i] + w.r[i]; }
__device__ float via(Vars w, int i) { return first_u0(w, i); }
__global__ void handed(Vars v, float *out) { out[threadIdx.x] = via(v, threadIdx.x); }
__device__ float copy_moved(Vars w) { w.r = w.u_star.u1; return w.r[0]; }
__global__ void handed_moved(Vars v, float *out) { out[0] = copy_moved(v); }
__global__ void used_then_moved(Vars v, float *out) { out[1] = v.r[0]; out[0] = copy_moved(v); }
__global__ void moved_pointer(Clusters *c) { c++; c->means[0] = 1.0f; }
__global__ void init(Vars v, int n) {
    int i = threadIdx.x;
    if (i < n && v.flag[i] != 0) { v.u_star.u0[i] = v.r[i]; v.flag[i] = 0; }
}
__global__ void moved(Graph g) { g.nlist = g.nindex; g.nlist[0] = 1; }
__global__ void nested_moved(Vars v) { v.u_star.u1 = v.r; v.u_star.u1[0] = 1.0f; }
__global__ void other(Clusters *c) { c[1].means[0] = 1.0f; }
__global__ void counted(Graph g) { atomicAdd(&g.nlist[0], 1); }
"#;

#[test]
fn pointer_members_of_struct_arguments_are_buffers_of_their_own() {
    let out = compile(MEMBER_BUFFERS, "degree").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "var<storage, read> g_nindex: array<i32>; // what `g.nindex` points at",
        "var<storage, read> g_weight: array<f32>; // what `g.weight` points at",
        "deg[i] = g_nindex[i + 1] - g_nindex[i] + g_nlist[g_nindex[i]]",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let members: Vec<(String, usize, String)> = (out.sidecar.bindings.iter())
        .filter_map(|b| {
            let m = b.member_of.as_ref()?;
            Some((b.name.clone(), m.param_index, m.member.clone()))
        })
        .collect();
    assert_eq!(
        members,
        [
            ("g_nindex".to_string(), 0, "nindex".to_string()),
            ("g_weight".to_string(), 0, "weight".to_string()),
            ("g_nlist".to_string(), 0, "nlist".to_string()),
        ]
    );
    let out = compile(MEMBER_BUFFERS, "seed").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "var<storage, read_write> c_means: array<f32>;",
        "c_means[i] = data[i] * 2.0f;",
        "c_N[i] = c_means[i] + f32(c[",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let out = compile(MEMBER_BUFFERS, "init").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "var<storage, read_write> v_flag: array<atomic<u32>>; // what `v.flag` points at",
        "var<storage, read_write> v_u_star_u0: array<f32>; // what `v.u_star.u0` points at",
        "v_u_star_u0[i] = v_r[i];",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    // A device function handed the struct whole (HeCBench's d3q19-bgk
    // `collide_and_stream_g` hands `lbm_vars d_vars` on) reads the same
    // buffers, through any depth of calls.
    let out = compile(MEMBER_BUFFERS, "handed").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("return v_u_star_u0[i] + v_r[i];"),
        "{}",
        out.wgsl
    );
    for (kernel, want) in [
        ("handed_moved", "the pointer member `v.r` is assigned"),
        // The kernel's own use binds the buffer first; the copy's change
        // is still seen.
        ("used_then_moved", "the pointer member `v.r` is assigned"),
        ("moved_pointer", "the kernel moves `c`"),
        ("moved", "the pointer member `g.nlist` is assigned"),
        (
            "nested_moved",
            "the pointer member `v.u_star.u1` is assigned",
        ),
        (
            "other",
            "is a pointer: WGSL cannot follow pointers held in memory",
        ),
        (
            "counted",
            "atomic operations through `g`'s pointer members are not supported",
        ),
    ] {
        let err = compile(MEMBER_BUFFERS, kernel).expect_err(kernel);
        assert!(err.contains(want), "{kernel}: {err}");
    }
}

/// A `bool` member followed by padding (Rodinia's and HeCBench's b+tree
/// `knode::is_leaf` before `int num_keys`) is the `u32` word it starts:
/// read through its low byte (the host leaves the padding undefined),
/// written as 0 or 1; the struct keeps C's layout. Two `bool`s sharing a
/// word are still refused.
#[test]
fn bool_members_followed_by_padding_are_words() {
    let source = r#"
typedef struct knode { int location; int keys[5]; bool is_leaf; int num_keys; } knode;
struct Flags { bool a; bool b; int n; };
__global__ void find(knode *nodes, int *out, int n) {
    int i = threadIdx.x;
    if (i < n) {
        knode k = nodes[i];
        out[i] = k.is_leaf ? k.keys[0] : -1;
        nodes[i].is_leaf = out[i] > 3;
    }
}
__global__ void flags(Flags *f, int *o) { o[0] = f[0].a; }
"#;
    let out = compile(source, "find").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "    is_leaf: u32,",
        "out[i] = select(-1, k.keys[0], (k.is_leaf & 0xffu) != 0u);",
        "nodes[i].is_leaf = select(0u, 1u, out[i] > 3);",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    // Two bools in one word: a byte run (`narrow_members.rs`), each its byte.
    let out = compile(source, "flags").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl
            .contains("o[0] = i32(extractBits(f[0].bytes_0[0], 0u, 8u) != 0u);"),
        "{}",
        out.wgsl
    );
}

/// A 3-component vector member (`float3 pos`, `double3 v` in HeCBench's
/// sph `fluid_particle`, `uint3 gridSize` in the particles `SimParams`) is
/// three scalars, `array<T, 3>`, so the struct keeps C's layout (a WGSL
/// `vec3` takes 16 bytes where C's takes 12): read as a vector, written
/// lane by lane, one lane read or written alone.
#[test]
fn three_component_members_are_three_scalars() {
    let source = r#"
struct R { float3 o; float3 d; };
struct B { int a; float3 p; };
__constant__ R c_r;
__global__ void k(R *r, B b, float *o) {
    R x = {make_float3(1.0f, 2.0f, 3.0f), r[0].d};
    x.o.y += b.p.z;
    r[1].o = x.o * 2.0f;
    float3 v = r[1].o;
    o[0] = x.o.y + r[0].d.z + c_r.d.x + v.z;
}
"#;
    let out = compile(source, "k").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "    o: array<f32, 3>,",
        "    p: array<f32, 3>,",
        "var x: R = R(array<f32, 3>(lanes_1.x, lanes_1.y, lanes_1.z), array<f32, 3>(lanes_2.x, lanes_2.y, lanes_2.z));",
        "x.o[1] += vec3<f32>(b.p[0], b.p[1], b.p[2]).z;",
        "r[1].o[0] = lanes_",
        "let v: vec3<f32> = vec3<f32>(r[1].o[0], r[1].o[1], r[1].o[2]);",
        "o[0] = x.o[1] + r[0].d[2] + vec3<f32>(c_r.d[0], c_r.d[1], c_r.d[2]).x + v.z;",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
}

/// A struct of tables passed by value to a device function and indexed at
/// run time (HeCBench flame's `ConstMemParams`): the parameter is copied
/// into a variable once and the variable indexed. Indexing the parameter
/// itself hung lavapipe (60 s) and lost NVIDIA's device (H100, stop 37).
#[test]
fn struct_values_holding_arrays_are_indexed_through_a_variable() {
    let source = r#"
struct VP { int idx; float factor; };
struct Params { VP vp[20][5]; float pre[20][6]; float colors[20]; };
__device__ float step(float x, int idx, const Params params) {
    float out = 0.0f;
    for (int i = 0; i < 5; i++) {
        if (fabsf(params.vp[idx][i].factor) < 0.01f) continue;
        switch (params.vp[idx][i].idx) {
            case 0: out += params.vp[idx][i].factor * x; break;
            case 1: { out += params.pre[idx][i]; break; }
            default: out += params.colors[idx]; break;
        }
    }
    return out;
}
__global__ void tables(const float *in, float *out, const Params params) {
    int i = threadIdx.x;
    out[i] = step(in[i], i % 20, params);
}
"#;
    let out = common::compile_as("tables.cu", source, "tables").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("var params__1: Params_ = params__1_in;"),
        "{}",
        out.wgsl
    );
    let Some(mut guard) = common::gpu_runner() else {
        return;
    };
    let Some(runner) = guard.as_mut() else { return };
    // The struct's bytes: vp (20×5 of {int, float}), pre (20×6), colors (20).
    let mut bytes: Vec<u8> = Vec::new();
    for f in 0..20i32 {
        for v in 0..5i32 {
            bytes.extend(((f + v) % 3).to_le_bytes());
            bytes.extend(
                (if v == 4 {
                    0.0f32
                } else {
                    0.5 * v as f32 + 0.25
                })
                .to_le_bytes(),
            );
        }
    }
    for k in 0..120 {
        bytes.extend((k as f32 * 0.125).to_le_bytes());
    }
    for f in 0..20i32 {
        bytes.extend((f as f32).to_le_bytes());
    }
    let input: Vec<f32> = (0..32).map(|i| i as f32 - 10.0).collect();
    let iface =
        cudalens_gpu::KernelInterface::from_json(&out.sidecar.to_json()).expect("interface");
    let bench = cudalens_gpu::Benchmark::new(out.wgsl.clone(), iface, [1, 1, 1], [32, 1, 1])
        .with_iterations(0, 1)
        .with_buffer("params_", cudalens_gpu::BufferSpec::bytes(1, bytes))
        .with_buffer(
            "in",
            cudalens_gpu::BufferSpec::bytes(32, bytemuck::cast_slice(&input).to_vec()),
        )
        .with_buffer("out", cudalens_gpu::BufferSpec::zeros(32));
    let result = runner
        .run(&bench)
        .unwrap_or_else(|e| panic!("{e}\n{}", out.wgsl));
    let got: Vec<f32> = bytemuck::pod_collect_to_vec(&result.output("out").expect("out").bytes);
    for (t, x) in input.iter().enumerate() {
        let f = t % 20;
        let mut want = 0.0f32;
        for v in 0..5 {
            let factor = if v == 4 {
                0.0f32
            } else {
                0.5 * v as f32 + 0.25
            };
            if factor.abs() < 0.01 {
                continue;
            }
            want += match (f + v) % 3 {
                0 => factor * x,
                1 => (f * 6 + v) as f32 * 0.125,
                _ => f as f32,
            };
        }
        assert_eq!(got[t], want, "thread {t}");
    }
}
