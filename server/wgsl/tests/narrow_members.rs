//! 8- and 16-bit struct members (`char x`, `short v`, `int8_t board[12]`,
//! as in HeCBench's ldpc `h_element`, nqueen `QueenRoot` and kernelLaunch's
//! argument structs): the words they fill are one `array<u32, n>` field, so
//! buffers of the struct keep C's layout; members are read through their
//! bits, written in the thread's own copies, and refused where a store
//! would rewrite a word another thread may be writing. Run on the real
//! adapter against a Rust reference (our own kernels).

mod common;

/// x@0 y@1 v@2 | n@4 | tag@8..14 w@14: two byte runs (bytes 0..4 and
/// 8..16) around an `int`.
const CELLS: &str = r#"
struct Cell { char x; unsigned char y; short v; int n; signed char tag[6]; unsigned short w; };
struct Args { char bytes[8]; };

__global__ void cells(const Cell *in, Args a, int *out) {
    int i = threadIdx.x;
    Cell c = in[i];
    Cell d = {(char)(c.x - 1), 200, (short)-300, i, {1, -2, 3}, 65535};
    d.tag[5] = c.tag[i % 6];
    d.y += 60;
    d.v = c.v * 2;
    int s = c.x + c.y + c.v + c.n + c.w + a.bytes[i % 8];
    for (int k = 0; k < 6; k++) s += c.tag[k] * (k + 1);
    out[4 * i] = s;
    out[4 * i + 1] = d.x + d.y + d.v + d.n;
    out[4 * i + 2] = d.tag[0] + d.tag[1] + d.tag[2] + d.tag[3] + d.tag[5];
    out[4 * i + 3] = d.w + in[i].tag[2];
}

__global__ void copy_cells(const Cell *in, Cell *out) {
    int i = threadIdx.x;
    Cell c = in[i];
    c.tag[1] = 7;
    c.y = c.x;
    c.w = c.w + 1;
    out[i] = c;
}

__global__ void shared_store(Cell *cells) {
    cells[threadIdx.x].x = 1;
}
"#;

const N: usize = 32;

/// The input cells: C's bytes, 16 to a cell.
fn cells() -> Vec<u8> {
    let mut bytes = Vec::new();
    for i in 0..N {
        let x = (i as i8).wrapping_mul(7).wrapping_sub(100);
        let y = (i * 9 + 130) as u8;
        let v = (i as i16) * -1000 + 5;
        let n = i as i32 * 3;
        let tag: [i8; 6] =
            std::array::from_fn(|k| (i as i8).wrapping_sub((k as i8).wrapping_mul(30)));
        let w = (i as u16) * 2000 + 1;
        bytes.push(x as u8);
        bytes.push(y);
        bytes.extend_from_slice(&v.to_le_bytes());
        bytes.extend_from_slice(&n.to_le_bytes());
        bytes.extend(tag.iter().map(|&t| t as u8));
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    bytes
}

#[test]
fn narrow_members_are_words_of_the_struct() {
    let out = common::compile_as("narrow.cu", CELLS, "cells").unwrap_or_else(|e| panic!("{e}"));
    for want in [
        "    bytes_0: array<u32, 1>, // bytes 0..: `x` (8-bit signed), `y` (8-bit unsigned), `v` (16-bit signed)",
        "    n: i32,",
        "    bytes_8: array<u32, 2>, // bytes 8..: `tag` (8-bit signed), `w` (16-bit unsigned)",
    ] {
        assert!(out.wgsl.contains(want), "{want}:\n{}", out.wgsl);
    }
    let layout = (out.sidecar.to_json())
        .parse::<serde_json::Value>()
        .expect("json")["bindings"][0]["layout"]
        .clone();
    let leaves: Vec<String> = (layout["leaves"].as_array().expect("leaves").iter())
        .map(|l| format!("{} {} {} {}", l["name"], l["type"], l["offset"], l["role"]))
        .collect();
    assert_eq!(
        leaves,
        [
            r#""x,y,v" "u32" 0 "bytes""#,
            r#""n" "i32" 4 "value""#,
            r#""tag" "u32" 8 "bytes""#,
            r#""tag,w" "u32" 12 "bytes""#,
        ]
    );

    let args: Vec<u8> = (0..8i8).map(|k| (k * -15) as u8).collect();
    let input = cells();
    let Some(got) = common::run_block::<i32>(
        &out,
        N as u32,
        &[("in", N as u64, input.clone()), ("a", 1, args.clone())],
        ("out", 4 * N as u64),
    ) else {
        return;
    };
    for i in 0..N {
        let at = 16 * i;
        let c = &input[at..at + 16];
        let x = i32::from(c[0] as i8);
        let y = i32::from(c[1]);
        let v = i32::from(i16::from_le_bytes([c[2], c[3]]));
        let n = i32::from_le_bytes([c[4], c[5], c[6], c[7]]);
        let tag: Vec<i32> = (0..6).map(|k| i32::from(c[8 + k] as i8)).collect();
        let w = i32::from(u16::from_le_bytes([c[14], c[15]]));
        let mut s = x + y + v + n + w + i32::from(args[i % 8] as i8);
        for (k, t) in tag.iter().enumerate() {
            s += t * (k as i32 + 1);
        }
        let d_x = i32::from((x - 1) as i8);
        let d_y = (200 + 60) % 256;
        let d_v = i32::from((v * 2) as i16);
        let d_tag5 = tag[i % 6];
        let want = [
            s,
            d_x + d_y + d_v + i as i32,
            1 - 2 + 3 + d_tag5,
            65535 + tag[2],
        ];
        assert_eq!(&got[4 * i..4 * i + 4], &want, "cell {i}");
    }
}

#[test]
fn whole_structs_with_narrow_members_are_stored_as_c_lays_them_out() {
    let out =
        common::compile_as("narrow.cu", CELLS, "copy_cells").unwrap_or_else(|e| panic!("{e}"));
    let input = cells();
    let Some(got) = common::run_block::<u8>(
        &out,
        N as u32,
        &[("in", N as u64, input.clone())],
        ("out", N as u64),
    ) else {
        return;
    };
    let mut want = input.clone();
    for i in 0..N {
        let at = 16 * i;
        want[at + 9] = 7;
        want[at + 1] = want[at];
        let w = u16::from_le_bytes([want[at + 14], want[at + 15]]).wrapping_add(1);
        want[at + 14..at + 16].copy_from_slice(&w.to_le_bytes());
    }
    assert_eq!(got, want);
}

#[test]
fn stores_to_narrow_members_in_shared_memory_are_refused() {
    let err = common::compile_as("narrow.cu", CELLS, "shared_store").expect_err("refused");
    assert!(
        err.contains("a store to an 8- or 16-bit member of a struct in a buffer or `__shared__` memory is not supported"),
        "{err}"
    );
}

/// A `half` beside a `short` in one word: no WGSL layout matches C's.
#[test]
fn narrow_members_sharing_a_word_with_others_are_refused_by_name() {
    let source = r#"
#include <cuda_fp16.h>
struct Mixed { short s; half h; };
__global__ void k(const Mixed *m, float *o) { o[0] = m[0].s; }
"#;
    let opts = cudalens_wgsl::TranspileOptions {
        enable_f16: true,
        ..Default::default()
    };
    let err = common::compile(source, "k", &opts).expect_err("refused");
    let messages: Vec<&str> = err.iter().map(|d| d.message.as_str()).collect();
    assert!(
        messages.iter().any(|m| m.contains(
            "the 8- or 16-bit member `s` shares a 32-bit word with member `h`"
        )),
        "{messages:?}"
    );
}
