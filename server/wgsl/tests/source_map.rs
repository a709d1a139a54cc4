//! The sidecar's source map (issue 19, item 1): where each lowered line of
//! the WGSL comes from in the CUDA source, a device function in a header
//! naming the header. Each line asserted is found by its text on both
//! sides, so the test reads as the mapping it checks.

mod common;

use cudalens_wgsl::bindings::SourceMapEntry;
use cudalens_wgsl::{TranspileOptions, TranspileOutput};

const HEADER: &str = "// scale.cuh\n__device__ float scale(float x, float s) {\n    float y = x * s;\n    return y + 1.0f;\n}\n";

const MAIN: &str = r#"#include "scale.cuh"

__global__ void k(const float* in, float* out, int n, float s) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;

    if (i >= n) {
        return;
    } else if (i == 0) {
        out[0] = 0.0f;
    } else {
        out[i] = scale(in[i], s);
    }
}
"#;

fn line_of(text: &str, needle: &str) -> u32 {
    1 + text
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in\n{text}")) as u32
}

/// The source place the map gives for WGSL line `wgsl_line`.
fn source_of(out: &TranspileOutput, wgsl_line: u32) -> Option<(Option<String>, u32)> {
    let entry: &SourceMapEntry = (out.sidecar.source_map.iter())
        .find(|e| (e.wgsl_lines[0]..=e.wgsl_lines[1]).contains(&wgsl_line))?;
    Some((entry.source.file.clone(), entry.source.line))
}

#[test]
fn lowered_lines_map_to_their_cuda_lines() {
    let out = common::compile_with_headers(
        MAIN,
        &[("scale.cuh", HEADER)],
        "k",
        &TranspileOptions::default(),
    )
    .unwrap_or_else(|d| panic!("{d:#?}"));
    let wgsl = &out.wgsl;
    for (wgsl_text, cuda_text) in [
        ("let i: i32 =", "int i = blockIdx.x"),
        ("if (i >= n) {", "if (i >= n) {"),
        ("} else if (i == 0) {", "} else if (i == 0) {"),
        ("out[0] = 0.0f;", "out[0] = 0.0f;"),
        ("= scale(", "out[i] = scale(in[i], s);"),
    ] {
        assert_eq!(
            source_of(&out, line_of(wgsl, wgsl_text)),
            Some((None, line_of(MAIN, cuda_text))),
            "`{wgsl_text}` in\n{wgsl}\n{:#?}",
            out.sidecar.source_map
        );
    }
    // The device function's statements: in the header, at their lines.
    for (wgsl_text, cuda_text) in [
        ("let y: f32 = ", "float y = x * s;"),
        ("return y + 1.0f;", "return y + 1.0f;"),
    ] {
        assert_eq!(
            source_of(&out, line_of(wgsl, wgsl_text)),
            Some((Some("scale.cuh".to_string()), line_of(HEADER, cuda_text))),
            "`{wgsl_text}` in\n{wgsl}"
        );
    }
    // The lines the lowering adds (the entry point's prologue, a
    // function's closing brace) are in no entry.
    for added in ["let cuda_grid = params.grid_dim;", "thread_idx = local_id;"] {
        assert_eq!(source_of(&out, line_of(wgsl, added)), None, "{added}");
    }
    assert_eq!(source_of(&out, 1 + line_of(wgsl, "return y + 1.0f;")), None);
    // In the sidecar's JSON: a flat entry, the file only where there is one.
    let json = serde_json::to_value(&out.sidecar.source_map).unwrap();
    let main_entry = (json.as_array().unwrap().iter())
        .find(|e| e.get("file").is_none())
        .unwrap();
    assert_eq!(main_entry.as_object().unwrap().len(), 2, "{json}");
    assert!(
        json.as_array()
            .unwrap()
            .iter()
            .any(|e| e["file"] == "scale.cuh")
    );
}

#[test]
fn a_statement_that_lowers_to_nothing_has_no_entry() {
    // `;` and a declaration without a value lower to nothing here: no
    // entry may point at the line after them as theirs.
    let src = "__global__ void k(float* out) {\n    ;\n    out[threadIdx.x] = 1.0f;\n}\n";
    let out = common::compile(src, "k", &TranspileOptions::default()).unwrap();
    let lines: Vec<u32> = out
        .sidecar
        .source_map
        .iter()
        .map(|e| e.source.line)
        .collect();
    assert_eq!(
        lines,
        vec![3],
        "{:#?}\n{}",
        out.sidecar.source_map,
        out.wgsl
    );
}
