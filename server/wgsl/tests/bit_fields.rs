//! Members held in bits of a 32-bit word: bit-fields laid out as nvcc
//! lays them out on Linux (the Itanium ABI; HeCBench logic-rewrite's
//! `Cut` with `unsigned truthtable : 16, value : 11, nLeaves : 4` before a
//! `bool`), and the `short`s of an anonymous struct in a union of one word
//! (the samples' dct8x8 `PackedShorts`). Our own kernels, run on a real
//! adapter (lavapipe here) against the bits a Rust reference packs.

mod common;

const CUTS: &str = r#"
struct Cut {
  int sign, leaves[4];
  unsigned truthtable : 16;
  unsigned value : 11;
  unsigned nLeaves : 4;
  bool used;
};
__global__ void update_cuts(Cut *cuts, int *out) {
  int i = threadIdx.x;
  Cut *cut = cuts + i;
  out[i] = (cut->truthtable - 70000) / 2 + cut->nLeaves * 3;
  cut->value = cut->value + 1000;
  cut->nLeaves++;
  cut->used = 1;
}
"#;

/// One `Cut` as nvcc lays it out: `sign`, `leaves` (20 bytes), the
/// bit-fields' word at 20, `used` at byte 24, 28 bytes in all.
fn cut_bytes(truthtable: u32, value: u32, n_leaves: u32) -> Vec<u8> {
    let mut b = vec![0u8; 28];
    let word = truthtable | (value << 16) | (n_leaves << 27);
    b[20..24].copy_from_slice(&word.to_le_bytes());
    b
}

#[test]
fn bit_fields_are_read_promoted_and_written_in_place() {
    let out = common::compile_as("cuts.cu", CUTS, "update_cuts").unwrap_or_else(|e| panic!("{e}"));
    assert!(out.wgsl.contains("insertBits("), "{}", out.wgsl);
    let input: Vec<(u32, u32, u32)> = (0..32u32)
        .map(|i| ((i * 4099) & 0xffff, (i * 97) & 0x7ff, i % 16))
        .collect();
    let bytes: Vec<u8> = input
        .iter()
        .flat_map(|&(t, v, n)| cut_bytes(t, v, n))
        .collect();
    let Some(got) = common::run_block::<i32>(&out, 32, &[("cuts", 32, bytes.clone())], ("out", 32))
    else {
        return;
    };
    for (i, &(t, _, n)) in input.iter().enumerate() {
        // A 16-bit unsigned bit-field is promoted to `int`: the difference
        // is negative, not a wrapped `unsigned`.
        assert_eq!(got[i], (t as i32 - 70000) / 2 + n as i32 * 3, "cut {i}");
    }
    let Some(words) =
        common::run_block::<u32>(&out, 32, &[("out", 32, vec![0; 128])], ("cuts", 32 * 7))
    else {
        return;
    };
    // `cuts` zeroed as the output: value 0 + 1000, nLeaves 0 + 1, used 1.
    for i in 0..32 {
        assert_eq!(words[7 * i + 5], (1000 << 16) | (1 << 27), "cut {i}'s bits");
        assert_eq!(words[7 * i + 6], 1, "cut {i}'s used");
    }
}

#[test]
fn bit_fields_the_layout_cannot_confirm_are_refused() {
    // nvcc puts `a` in the byte after `c` (the word that holds `c` has
    // room): a word of its own would move it.
    let src = r#"
struct Odd { char c; unsigned a : 4; };
__global__ void k(Odd *o, int *out) { out[threadIdx.x] = o[threadIdx.x].a; }
"#;
    let e = common::compile_as("odd.cu", src, "k").expect_err("layout unconfirmed");
    assert!(e.contains("unknown or unsupported type `Odd`"), "{e}");
}

const SHORTS: &str = r#"
union PackedShorts {
  struct {
    short hShort1;
    short hShort2;
  };
  unsigned int hInt;
};
__global__ void swap_halves(const unsigned int *in, unsigned int *v) {
  PackedShorts sh;
  sh.hInt = in[threadIdx.x];
  int lo = sh.hShort1, hi = sh.hShort2;
  sh.hShort1 = hi;
  sh.hShort2 = lo - 1;
  v[threadIdx.x] = sh.hInt;
}
"#;

#[test]
fn shorts_of_an_anonymous_struct_are_halves_of_the_union_word() {
    let out =
        common::compile_as("shorts.cu", SHORTS, "swap_halves").unwrap_or_else(|e| panic!("{e}"));
    let input: Vec<u32> = (0..32u32)
        .map(|i| i.wrapping_mul(0x9e37_79b9) ^ (i << 7))
        .collect();
    let Some(got) = common::run_block::<u32>(
        &out,
        32,
        &[("in", 32, bytemuck::cast_slice(&input).to_vec())],
        ("v", 32),
    ) else {
        return;
    };
    for (i, (v, w)) in got.iter().zip(&input).enumerate() {
        // Each half sign-extended (a `short`), the new high half `lo - 1`.
        let (lo, hi) = (*w as u16 as i16, (*w >> 16) as u16 as i16);
        let want = (hi as u16 as u32) | (((i32::from(lo) - 1) as u16 as u32) << 16);
        assert_eq!(*v, want, "word {i}");
    }
}
