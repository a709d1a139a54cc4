//! Array members of structs as real code writes them (HeCBench's frna and
//! prna `fparam_t`, dslash and su3's `su3_matrix`): multi-dimensional
//! members (`e[3][3]`), members whose type is an array typedef (`tab2_t
//! stack;` with `typedef int tab2_t[4][4]`), structs defined inside the
//! member that uses them, pointer typedefs of structs (`typedef struct
//! {...} *param_t;`), and `p->m[i]` through a pointer. Each laid out as C
//! lays it out (an array typedef member used to count as one `int`, so
//! every later member sat at a wrong offset) and run on the real adapter
//! against a Rust reference (our own kernels). Unions are laid out as
//! unions (they were laid out as structs).

mod common;

const TABLES: &str = r#"
typedef int tab2_t[4][4];
typedef enum { A, C, G, U } base_t;
typedef struct param {
  int use;
  tab2_t stack;
  int n;
  struct tri_t { base_t seq[3]; int val; } tri[8];
  float e[2][3];
} *param_t;

__global__ void tables(const param_t __restrict__ p, int *out) {
  int i = threadIdx.x;
  tab2_t local;
  local[i % 4][1] = p->tri[i % 8].seq[i % 3];
  out[2 * i] = p->stack[i % 4][(i / 4) % 4] + p->n + p->tri[i % 8].val + local[i % 4][1];
  out[2 * i + 1] = (int)(p->e[i % 2][i % 3] * 10.0f) + p->use;
}
"#;

/// C's bytes of the one `param`: use@0, stack@4..68, n@68, tri@72..200
/// (16 bytes each), e@200..224.
fn table_bytes() -> Vec<u8> {
    let mut b = Vec::new();
    let int = |b: &mut Vec<u8>, v: i32| b.extend_from_slice(&v.to_le_bytes());
    int(&mut b, 1000);
    for k in 0..16 {
        int(&mut b, k * 3);
    }
    int(&mut b, 500);
    for t in 0..8 {
        for s in 0..3 {
            int(&mut b, (t + s) % 4);
        }
        int(&mut b, t * 100);
    }
    for k in 0..6 {
        b.extend_from_slice(&(k as f32 * 0.5).to_le_bytes());
    }
    b
}

#[test]
fn array_members_keep_c_offsets_and_index_by_every_extent() {
    let out = common::compile_as("tables.cu", TABLES, "tables").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "    stack: array<array<i32, 4>, 4>,",
        "    tri: array<tri_t, 8>,",
        "    e: array<array<f32, 3>, 2>,",
        "    seq: array<i32, 3>,",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    const N: usize = 32;
    let Some(got) = common::run_block::<i32>(
        &out,
        N as u32,
        &[("p", 1, table_bytes())],
        ("out", 2 * N as u64),
    ) else {
        return;
    };
    for i in 0..N {
        let stack = (4 * (i % 4) + (i / 4) % 4) as i32 * 3;
        let t = (i % 8) as i32;
        let seq = (t + (i % 3) as i32) % 4;
        let e = ((3 * (i % 2) + i % 3) as f32 * 0.5 * 10.0) as i32;
        assert_eq!(
            &got[2 * i..2 * i + 2],
            &[stack + 500 + t * 100 + seq, e + 1000],
            "thread {i}"
        );
    }
}

#[test]
fn array_typedefs_and_pointer_typedefs_have_c_layouts() {
    let model = common::model_of(TABLES);
    let param = &model.types.structs["param"];
    let offsets: Vec<(&str, u64, &[u64])> = (param.fields.iter())
        .map(|f| (f.name.as_str(), f.offset, f.dims.as_slice()))
        .collect();
    assert_eq!(
        offsets,
        [
            ("use", 0, &[][..]),
            ("stack", 4, &[4, 4][..]),
            ("n", 68, &[][..]),
            ("tri", 72, &[8][..]),
            ("e", 200, &[2, 3][..]),
        ]
    );
    assert_eq!(param.size, 224);
    let f = model
        .functions
        .iter()
        .find(|f| f.name == "tables")
        .expect("kernel");
    assert_eq!(
        (f.params[0].ty.base.as_str(), f.params[0].ty.pointer),
        ("param", 1)
    );
    // `const param_t` makes the pointer const, not the struct.
    assert!(!f.params[0].ty.is_const);
}

#[test]
fn structs_with_members_of_unknown_extent_have_no_layout() {
    let model = common::model_of(
        "struct S { int a; float v[UNKNOWN_N]; int b; };\nstruct T { int a; int rest[]; };\n",
    );
    assert!(!model.types.structs.contains_key("S"));
    assert!(!model.types.structs.contains_key("T"));
}

/// A union of scalars of one width (svd3x3's `union un { float f;
/// unsigned int ui; }`): one word, each member its bits, so a store to one
/// member is seen through the other (it was laid out as a struct of two
/// words: the punning read stale bits). Other unions are refused by name.
#[test]
fn unions_of_one_width_are_one_word_read_through_bitcasts() {
    let source = r#"
union bits { float f; unsigned int u; };
typedef union { int i; float f; } pun_t;
union mixed { float f; double d; };
__global__ void punning(const float *in, unsigned int *out, float *back) {
  bits b;
  b.f = in[threadIdx.x];
  b.u = b.u ^ 0x80000000u;
  pun_t p = {7};
  out[threadIdx.x] = b.u + p.i;
  back[threadIdx.x] = b.f;
}
__global__ void mixed_widths(const mixed *in, float *out) { out[0] = in[0].f; }
"#;
    let model = common::model_of(source);
    let bits = &model.types.structs["bits"];
    assert_eq!((bits.size, bits.fields[1].offset), (4, 0));
    assert_eq!(model.types.structs["mixed"].size, 8);

    let out = common::compile_as("u.cu", source, "punning").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<f32> = (0..32).map(|i| i as f32 * 1.5 - 7.0).collect();
    let inputs = |other: &'static str| {
        vec![
            ("in", 32u64, bytemuck::cast_slice(&input).to_vec()),
            (other, 32u64, vec![0u8; 128]),
        ]
    };
    if let Some(got) = common::run_block::<u32>(&out, 32, &inputs("back"), ("out", 32)) {
        let want: Vec<u32> = (input.iter())
            .map(|x| (x.to_bits() ^ 0x8000_0000).wrapping_add(7))
            .collect();
        assert_eq!(got, want);
    }
    if let Some(got) = common::run_block::<f32>(&out, 32, &inputs("out"), ("back", 32)) {
        let want: Vec<f32> = input.iter().map(|x| -x).collect();
        assert_eq!(got, want);
    }
    let err = common::compile_as("u.cu", source, "mixed_widths").expect_err("refused");
    assert!(
        err.contains("`mixed` is a union: WGSL has no unions"),
        "{err}"
    );
    // Aligned beyond its word: C's 16 bytes, the word then padding words.
    let aligned = "union __align__(16) W { float f; unsigned int u; };\n\
                   __global__ void k(const W *w, float *o) { o[threadIdx.x] = w[threadIdx.x].f; }\n";
    assert_eq!(common::model_of(aligned).types.structs["W"].size, 16);
    let out = common::compile_as("w.cu", aligned, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("pad_to_c_size: array<u32, 3>"),
        "{}",
        out.wgsl
    );
    let words: Vec<f32> = (0..128).map(|i| i as f32).collect();
    let w = ("w", 32u64, bytemuck::cast_slice(&words).to_vec());
    if let Some(got) = common::run_block::<f32>(&out, 32, &[w], ("o", 32)) {
        let want: Vec<f32> = (0..32).map(|i| (4 * i) as f32).collect();
        assert_eq!(got, want);
    }
}

/// A long array member (frna's `tab8_t int22`, 65,536 ints) is one layout
/// leaf repeated (`count`, `stride`) for the runner and the comparison;
/// short ones keep a leaf per element.
#[test]
fn long_array_members_are_one_repeated_leaf() {
    let source = r#"
struct Tables { int n; float big[100]; short small[4]; };
__global__ void k(const Tables *t, float *out) { out[threadIdx.x] = t[0].big[threadIdx.x] + t[0].n; }
"#;
    let out = common::compile_as("t.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    let sidecar: serde_json::Value = out.sidecar.to_json().parse().expect("json");
    let leaves = sidecar["bindings"][0]["layout"]["leaves"]
        .as_array()
        .expect("leaves")
        .clone();
    let big = leaves
        .iter()
        .find(|l| l["name"] == "big[0..100]")
        .unwrap_or_else(|| panic!("{leaves:#?}"));
    assert_eq!(
        (&big["offset"], &big["count"], &big["stride"]),
        (&4.into(), &100.into(), &4.into())
    );
    // `n` has no count: one.
    assert!(
        leaves
            .iter()
            .any(|l| l["name"] == "n" && l.get("count").is_none())
    );
}

/// HeCBench's phmm: a kernel parameter pointing at an array typedef
/// (`const fArray *in` with `typedef double fArray[4][3][2]`) is `const
/// double in[][4][3][2]`: rows of that array, indexed `in[i][j][k][l]`.
#[test]
fn pointers_to_array_typedefs_are_rows_of_the_array() {
    let source = r#"
typedef float fArray[4][3][2];
__global__ void k(const fArray *__restrict__ in, fArray *__restrict__ out, int i) {
  int b = threadIdx.x;
  out[i][1][b % 3][0] = in[i - 1][2][b % 3][1] * 2.0f;
}
void host(fArray *a, fArray *b) { k<<<1, 3>>>(a, b, 1); }
"#;
    let out = common::compile_as("rows.cu", source, "k").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains(
            "out[i * 24 + 6 + b % 3 * 2 + 0] = in[(i - 1) * 24 + 12 + b % 3 * 2 + 1] * 2.0f;"
        ),
        "{}",
        out.wgsl
    );
}
