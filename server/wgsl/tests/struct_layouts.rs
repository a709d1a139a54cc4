//! Struct layouts beyond plain members, as nvcc lays them out: alignment
//! attributes (`__align__(16)`, `alignas(8)`, `__attribute__((aligned))`)
//! make a struct larger (WGSL pads it with words), a base class's members
//! come first, `static` members take no room (and are constants). Each of
//! these was laid out wrongly before and the WGSL said "the same layout as
//! C's". What the model cannot lay out exactly (`packed` with padding,
//! `#pragma pack`, anonymous struct and union members, virtual functions,
//! a base with tail padding, several bases, aligned members)
//! stays unknown and is refused; `packed` without padding to remove keeps
//! its offsets. Run on the real adapter against a Rust
//! reference (our own kernels).

mod common;

const LAYOUTS: &str = r#"
struct __align__(16) Aligned { float x; int y; };
struct Base { int a; float b; };
struct Derived : public Base { int c; };
struct WithStatic { static const int SCALE = 4; int v; };

__global__ void layouts(const Aligned *in, const Derived *d, const WithStatic *s,
                        Aligned *copy, float *out) {
    int i = threadIdx.x;
    Aligned local = {in[i].x * 2.0f, in[i].y + 1};
    copy[i] = local;
    out[i] = in[i].x + in[i].y + d[i].a + d[i].b + d[i].c + s[i].v * WithStatic::SCALE;
}
"#;

const N: usize = 32;

#[test]
fn aligned_derived_and_static_layouts_match_c() {
    let model = common::model_of(LAYOUTS);
    let size_align = |n: &str| {
        let d = &model.types.structs[n];
        (
            d.size,
            d.align,
            d.fields.iter().map(|f| f.offset).collect::<Vec<_>>(),
        )
    };
    assert_eq!(size_align("Aligned"), (16, 16, vec![0, 4]));
    assert_eq!(size_align("Derived"), (12, 4, vec![0, 4, 8]));
    assert_eq!(size_align("WithStatic"), (4, 4, vec![0]));
    assert_eq!(model.consts.get("WithStatic::SCALE"), Some(&4));

    let out =
        common::compile_as("layouts.cu", LAYOUTS, "layouts").unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.wgsl.contains("    pad_to_c_size: array<u32, 2>,"),
        "{}",
        out.wgsl
    );
    // 16 bytes an `Aligned`: x, y, then 8 bytes of padding.
    let mut aligned = Vec::new();
    let mut derived = Vec::new();
    let mut statics = Vec::new();
    for i in 0..N {
        aligned.extend_from_slice(&(i as f32 * 0.5).to_le_bytes());
        aligned.extend_from_slice(&(i as i32 * 3).to_le_bytes());
        aligned.extend_from_slice(&[0xAB; 8]);
        derived.extend_from_slice(&(i as i32).to_le_bytes());
        derived.extend_from_slice(&(i as f32 * 0.25).to_le_bytes());
        derived.extend_from_slice(&(100 - i as i32).to_le_bytes());
        statics.extend_from_slice(&(i as i32 * 7).to_le_bytes());
    }
    let inputs = |other: (&'static str, usize)| {
        vec![
            ("in", N as u64, aligned.clone()),
            ("d", N as u64, derived.clone()),
            ("s", N as u64, statics.clone()),
            (other.0, N as u64, vec![0u8; other.1 * N]),
        ]
    };
    let Some(got) =
        common::run_block::<f32>(&out, N as u32, &inputs(("copy", 16)), ("out", N as u64))
    else {
        return;
    };
    for (i, g) in got.iter().enumerate() {
        let x = i as f32 * 0.5;
        let want =
            x + (i * 3) as f32 + i as f32 + i as f32 * 0.25 + (100 - i) as f32 + (i * 7 * 4) as f32;
        assert_eq!(*g, want, "thread {i}");
    }
    let Some(copy) =
        common::run_block::<u8>(&out, N as u32, &inputs(("out", 4)), ("copy", N as u64))
    else {
        return;
    };
    for i in 0..N {
        let at = 16 * i;
        let x = f32::from_le_bytes(copy[at..at + 4].try_into().expect("4 bytes"));
        let y = i32::from_le_bytes(copy[at + 4..at + 8].try_into().expect("4 bytes"));
        assert_eq!((x, y), (i as f32, i as i32 * 3 + 1), "element {i}");
    }
}

#[test]
fn layouts_the_model_cannot_know_are_unknown() {
    let model = common::model_of(
        r#"
struct Packed { char c; int i; } __attribute__((packed));
struct Virtual { int a; virtual void f() {} };
struct Padded { double d; int a; };
struct OnPadded : Padded { int c; };
struct A { int a; };
struct B { int b; };
struct Both : A, B { int c; };
struct AlignedMember { int a; alignas(16) float x; };
struct __attribute__((__packed__)) Tight { float x, y, z; int type; };
struct AnonUnion { union { float f; int i; }; int k; };
struct AnonStruct { struct { int a, b; }; int k; };
#pragma pack(push, 1)
struct UnderPack { char c; int i; };
#pragma pack(pop)
struct AfterPack { char c; int i; };
"#,
    );
    for name in ["AnonUnion", "AnonStruct", "UnderPack"] {
        assert!(
            !model.types.structs.contains_key(name),
            "{name} has a layout"
        );
    }
    assert_eq!(model.types.structs["AfterPack"].size, 8);
    // A named struct defined inside another is a type, not a member.
    let nested = common::model_of("struct Outer { struct Inner { double d; }; int k; };");
    assert_eq!(nested.types.structs["Outer"].size, 4);
    assert_eq!(nested.types.structs["Inner"].size, 8);
    // `packed` without padding to remove (minibude's `Atom`): C's offsets,
    // alignment 1.
    let tight = &model.types.structs["Tight"];
    assert_eq!(
        (tight.size, tight.align, tight.fields[3].offset),
        (16, 1, 12)
    );
    for name in ["Packed", "Virtual", "OnPadded", "Both", "AlignedMember"] {
        assert!(
            !model.types.structs.contains_key(name),
            "{name} has a layout"
        );
    }
    assert!(model.types.structs.contains_key("Padded"));
}

/// Extents whose product overflows 64 bits leave the struct unknown, with
/// no overflow on the way (a debug build would panic).
#[test]
fn overflowing_sizes_are_unknown_not_a_panic() {
    let source = r#"
typedef int big_t[1000000000][1000000000][1000000000];
struct H { int a; big_t b; int c; };
union U { big_t x; int y; };
struct A { int a; float v[4000000000][4000000000]; };
__global__ void k(const H *h, const U *u, const A *a, int *out) { out[0] = h[0].c + u[0].y + a[0].a; }
"#;
    let model = common::model_of(source);
    for name in ["H", "U", "A"] {
        assert!(
            !model.types.structs.contains_key(name),
            "{name} has a layout"
        );
    }
    let err = common::compile_as("huge.cu", source, "k").expect_err("refused");
    assert!(err.contains("unknown or unsupported type `H`"), "{err}");
}
