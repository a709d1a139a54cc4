//! `uncoalesced-access`: a global load or store whose warp requests touch
//! more 32-byte sectors than the same lanes need. Computed by
//! [`crate::memory`] (message and fixes in `memory/report.rs`), judged by
//! [`crate::memory::verdict`].

use super::{Category, ExampleKind, Rule};
use crate::diagnostic::Severity;

pub const CODE: &str = "uncoalesced-access";

pub const RULE: Rule = Rule {
    code: CODE,
    summary: "a global memory access touching more 32-byte sectors per warp request than needed",
    default_severity: Severity::Warning,
    category: Category::Performance,
    detects: "\
A load, store or atomic on global memory whose warp requests touch more 32-byte
sectors than a perfectly coalesced request of the same active lanes would: adjacent
threads reading elements far apart (a stride), a row-per-thread loop, a misaligned
start, or a transposed thread mapping. It is reported as a **warning** from twice
the ideal traffic and as a note (**info**) between 15 % excess and 2×.",
    why: "\
The memory system moves whole 32-byte sectors. When the 32 threads of a warp read 32
consecutive floats the request needs 4 sectors; when they read every second float it
needs 8, and with a stride of 8 floats or more, 32: the kernel moves up to 8× the
bytes it uses, and a memory-bound kernel runs up to that much slower.",
    measured: "\
cudalens runs the kernel symbolically for a whole thread block (every thread's
address, every loop iteration whose pattern changes) and counts, per warp request,
the distinct sectors touched (`sectors_per_request`) against the ideal for the same
lanes (`ideal_sectors`). An access is reported when the excess share
(actual − ideal) / actual is above 15 %, Nsight Compute's own threshold, through the
one verdict function every part of cudalens uses (`memory::verdict`).

On the committed ground truth (`tests/ground-truth`, Nsight Compute 2025.3 on an
H100 and an H200) the sector counts agree exactly with ncu for all 28 (kernel,
load/store) pairs of the global-memory corpus and all 6 of the runtime-pitch corpus,
and an access is flagged exactly when ncu shows more than 15 % excess.
A stride through a name cudalens cannot resolve that is not a kernel parameter
(`x128::size`, an uninstantiated template parameter) is unknown and not reported; a
contiguous access misaligned only by a constant element offset next to an aligned
access of the same array (a stencil's `a[i - 1]`, `a[i + 1]`) is not reported either:
the extra sector is the neighbour's, served by L1. Nor is a load of a field of a
struct element when the warp's lanes share records and its loads of those structs
use at least 85 % of every sector it touches (small fixed-format records read
whole by groups of lanes, such as quantised blocks): the sectors are fetched once
and the other fields hit in L1. One record per thread read field by field (the
array-of-structs pattern) stays reported.
A contiguous access is not called misaligned when the misalignment comes from a
runtime element offset (`a[x + 1 + t]`, `t` a parameter): where `t` puts the data
in its sector cannot be known. Nor when a launch passes the buffer at an offset
into its allocation (`in + padding`, `&buf[i]`, or a variable set so): the host's
offset decides the alignment (the CUDA samples' FDTD3d pads its volume so that
the reads after the halo align; ncu measures no excess there).
A runtime part of an address (a row pitch, an offset from a parameter) is counted as
a whole number of sectors (`cudaMalloc` aligns to 256 bytes); when that matters the
message says so and gives the average over all alignments. A stride only known at run
time is assumed large and said as \"up to\"; so is a runtime byte count divided by an
element size (`nb1 / sizeof(float)`: a byte stride in elements, exact by the code's
own premise), while `nb1 / 4` stays unknown.
An access inside a function of an included header is reported at the header, once,
with how each kernel reaches it, when `check` analyses both the header and a file
whose kernel calls the function. There only the helper's own indexing is judged: not
under an assumed block, not a contiguous access's misalignment or idle lanes (the
caller's pointer and condition set those), not a field of a fixed-format record.",
    example: r#"
__global__ void copy_2d(float* out, const float* in) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    int col = blockIdx.y * blockDim.y + threadIdx.y;
    out[row * 1024 + col] = in[row * 1024 + col];
  //^^^^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global store: 32 sectors per warp request (ideal 4) — adjacent threads are 1024 floats apart (through row = blockIdx.x*blockDim.x+threadIdx.x)
    //                      ^^^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: 32 sectors per warp request (ideal 4) — adjacent threads are 1024 floats apart (through row = blockIdx.x*blockDim.x+threadIdx.x)
}

void launch(float* out, const float* in) {
    copy_2d<<<dim3(32, 32), dim3(32, 32)>>>(out, in);
}
"#,
    example_kind: ExampleKind::Checked,
    fixed: r#"
__global__ void copy_2d(float* out, const float* in) {
    int row = blockIdx.y * blockDim.y + threadIdx.y;
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    out[row * 1024 + col] = in[row * 1024 + col];
}

void launch(float* out, const float* in) {
    copy_2d<<<dim3(32, 32), dim3(32, 32)>>>(out, in);
}
"#,
    fix: "\
Make adjacent threads (`threadIdx.x`) touch adjacent elements: swap a transposed
thread mapping (cudalens offers this when the index is `row * W + col` with `row`
from `threadIdx.x`), interleave a loop in which each thread walks its own chunk
(`t * K + k` → `k * (gridDim.x * blockDim.x) + t`, offered when re-analysis shows it
coalesces), read wider vector types, or stage the data through shared memory. None of
these quick fixes is applied on save: each changes which thread does which work.
The fixed code below is the example with the offered swap applied (the grid is
square, so the launch stays as it is).",
};

#[cfg(test)]
mod tests {
    use super::super::fixture::check_diagnostics;

    #[test]
    fn the_offered_swap_is_the_documented_fix() {
        super::super::fixture::check_fix(super::RULE.example, super::CODE, super::RULE.fixed);
    }

    #[test]
    fn a_row_per_thread_loop_with_its_interleaving_fix() {
        check_diagnostics(
            r#"
__global__ void scale_rows(float* out, const float* in) {
    int row = blockIdx.x * blockDim.x + threadIdx.x;
    for (int col = 0; col < 64; ++col) {
        out[row * 64 + col] = 2.0f * in[row * 64 + col];
      //^^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global store: 32 sectors per warp request (ideal 4) — adjacent threads are 64 floats apart (through row = blockIdx.x*blockDim.x+threadIdx.x) (block size assumed 256×1×1: no launch resolves it)
        //                           ^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: 32 sectors per warp request (ideal 4) — adjacent threads are 64 floats apart (through row = blockIdx.x*blockDim.x+threadIdx.x) (block size assumed 256×1×1: no launch resolves it)
    }
}
"#,
        );
    }

    #[test]
    fn cooperative_groups_ranks_are_lanes() {
        // llm.c's softmax_forward_kernel5_lowp reads `x[4*i + k]` with
        // `i = warp.thread_rank()`: 49% of its sectors excessive on the H200.
        // A tile's rank is the lane, its meta-group rank the warp: one warp
        // per row reads the row in order; the block's rank is the thread.
        check_diagnostics(
            r#"
namespace cg = cooperative_groups;
__global__ void rows(float* out, const float* in) {
    cg::thread_block block = cg::this_thread_block();
    cg::thread_block_tile<32> warp = cg::tiled_partition<32>(block);
    int row = blockIdx.x * warp.meta_group_size() + warp.meta_group_rank();
    float sum = 0.0f;
    for (int i = warp.thread_rank(); i < 256; i += warp.size()) {
        sum += in[row * 1024 + 4 * i];
             //^^^^^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: 16 sectors per warp request (ideal 4) — adjacent threads are 4 floats apart
        sum += in[row * 1024 + i];
    }
    out[blockIdx.x * block.size() + block.thread_rank()] = sum;
}
void run(float* out, const float* in) { rows<<<64, 128>>>(out, in); }
"#,
        );
    }

    #[test]
    fn sizes_from_the_callers_and_a_flat_index_split_by_them() {
        // llm.c's attention_query_key_kernel1: `main` sets T and C and passes
        // them down through the function that launches; the kernel splits a
        // flat index with `idx % T` and `(idx / T) % T`, so adjacent threads
        // read keys C floats apart (84% of the sectors excessive on the
        // H200). Nested loops of known trip counts (32 × 32 × 64) are
        // evaluated symbolically instead of spending the statement budget,
        // so the store after them is still seen.
        check_diagnostics(
            r#"
__global__ void query_key(float* out, const float* inp, int T, int C) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    int t2 = idx % T;
    int t = (idx / T) % T;
    const float* key = inp + t2 * C;
    const float* query = inp + t * C;
    float v = 0.0f;
    for (int i = 0; i < 4; i++) {
        v += query[i] * key[i];
                      //^^^^^^ warning[uncoalesced-access]: uncoalesced global load: 32 sectors per warp request (ideal 4) — adjacent threads are 768 floats apart
    }
    out[idx] = v;
}

__global__ void tiles(float* out, const float* in, int n) {
    __shared__ float tile[64];
    float acc = 0.0f;
    for (int j = 0; j < n; j++) {
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < 64; k++) {
                acc += in[k];
            }
        }
    }
    tile[threadIdx.x] = acc;
    __syncthreads();
    out[threadIdx.x * 64] = tile[threadIdx.x];
  //^^^^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global store: 32 sectors per warp request (ideal 4) — adjacent threads are 64 floats apart
}

void attention(float* out, const float* inp, int T, int C) {
    query_key<<<T * T / 256, 256>>>(out, inp, T, C);
    tiles<<<1, 64>>>(out, inp, T / 32);
}

int main() {
    int T = 1024;
    int C = 768;
    attention(0, 0, T, C);
    return 0;
}
"#,
        );
    }

    #[test]
    fn rows_whose_starts_are_not_sector_aligned_cost_their_average() {
        // llm.c's softmax_forward_kernel2..7: one block per row of V = 50,257
        // floats, so row b starts b × 201,028 bytes in, and most warps
        // straddle one more sector (ncu on the H200: 18% of the sectors
        // excessive). The block index takes every value, so the average over
        // the alignments it gives is the cost, not an assumption; a row of
        // 1,024 floats stays aligned and silent.
        check_diagnostics(
            r#"
__global__ void row_max(float* out, const float* in, int C) {
    const float* x = in + blockIdx.x * C;
    float m = -1e30f;
    for (int i = threadIdx.x; i < C; i += blockDim.x) {
        m = fmaxf(m, x[i]);
                   //^^^^ info[uncoalesced-access]: uncoalesced global load: 4.9 sectors per warp request (ideal 4) — threads are contiguous, but where a block's data starts moves by a number of bytes that is not a multiple of 32 from block to block, so most warps straddle one more sector (averaged over the blocks) (through i = threadIdx.x)
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = m;
}
__global__ void row_max_aligned(float* out, const float* in, int C) {
    const float* x = in + blockIdx.x * C;
    float m = -1e30f;
    for (int i = threadIdx.x; i < C; i += blockDim.x) {
        m = fmaxf(m, x[i]);
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = m;
}
int main() {
    int V = 50257;
    row_max<<<64, 256>>>(0, 0, V);
    row_max_aligned<<<64, 256>>>(0, 0, 1024);
    return 0;
}
"#,
        );
    }

    #[test]
    fn a_size_from_one_of_several_calls_is_not_assumed() {
        // Two callers pass different sizes: the stride stays the symbol C
        // (neither 1 from the first call nor 768 from the second).
        check_diagnostics(
            r#"
__global__ void rows(float* out, const float* in, int C) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = in[i * C];
    //       ^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: up to 32 sectors per warp request (ideal 4) — adjacent threads are C floats apart (through i = blockIdx.x*blockDim.x+threadIdx.x)
}
void run(float* out, const float* in, int C) {
    rows<<<64, 256>>>(out, in, C);
}
int main() {
    run(0, 0, 1);
    run(0, 0, 768);
    return 0;
}
"#,
        );
    }

    #[test]
    fn coalesced_and_grid_stride_accesses_are_silent() {
        check_diagnostics(
            r#"
__global__ void saxpy(int n, float a, const float* x, float* y) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        y[i] = a * x[i] + y[i];
    }
}

void launch(int n, float a, const float* x, float* y) {
    saxpy<<<264, 256>>>(n, a, x, y);
}
"#,
        );
    }

    #[test]
    fn a_stride_through_an_unresolved_constant_is_not_claimed() {
        // `Packed::size` is a constant cudalens cannot see (a static member of
        // a type from elsewhere): the stride is unknown, so nothing is said.
        // A stride through a kernel parameter (a row pitch) is still judged.
        check_diagnostics(
            r#"
__global__ void k(float* out, const float* in, int pitch) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i * Packed::size] = in[i * Packed::size];
    out[i * pitch] = 1.0f;
  //^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global store: up to 32 sectors per warp request (ideal 4) — adjacent threads are pitch floats apart (through i = blockIdx.x*blockDim.x+threadIdx.x) (block size assumed 256×1×1: no launch resolves it)
}
"#,
        );
    }

    #[test]
    fn stencil_neighbours_of_an_aligned_access_are_not_misaligned_waste() {
        // a[i - 1] and a[i + 1] fetch one sector beyond a[i]'s, which the
        // neighbouring access needs anyway (L1 serves it): not reported.
        check_diagnostics(
            r#"
__global__ void jacobi(float* b, const float* a, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i > 0 && i < n - 1) {
        b[i] = 0.33f * (a[i - 1] + a[i] + a[i + 1]);
    }
}

void launch(float* b, const float* a) {
    jacobi<<<4096, 256>>>(b, a, 4096 * 256);
}
"#,
        );
    }

    #[test]
    fn a_byte_stride_divided_by_the_element_size_is_a_runtime_stride() {
        // `nb / sizeof(float)` turns a byte stride into elements (exact by the
        // code's premise): a runtime stride like `nb` itself, judged as one.
        // `nb / 4` states no such premise (nor does a quotient of anything
        // but a name): unknown, silent.
        check_diagnostics(
            r#"
__global__ void rows(float* out, const float* in, int nb, int n) {
    int t = threadIdx.x;
    const int stride = nb / sizeof(float);
    out[t] = in[t * stride];
           //^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: up to 32 sectors per warp request (ideal 4) — adjacent threads are nb / sizeof(float) floats apart (through t = threadIdx.x)
    out[t + 256] = in[t * (nb / 4)];
    out[t + 512] = in[t * ((nb + n) / sizeof(float))];
}

void launch(float* out, const float* in, int nb, int n) {
    rows<<<1, 256>>>(out, in, nb, n);
}
"#,
        );
    }

    /// A finding inside a device function is made at the access, once for
    /// every kernel that reaches it, with each kernel's calls as related
    /// information; an access in a function of an included file is never
    /// put on a line of this one (its text is not this file's).
    #[test]
    fn a_device_function_finding_is_placed_once_with_its_call_chains() {
        let header = "#pragma once\n// two lines so that the header's access\n// would fall inside the kernel\n__device__ float far(const float* in, int i) {\n    return in[i * 32];\n}\n";
        let main = r#"#include "far.cuh"
__device__ float at(const float* in, int i) { return in[i * 16]; }
__device__ float via(const float* in, int i) { return at(in, i); }
__global__ void k1(float* out, const float* in) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = far(in, i) + via(in, i);
}
__global__ void k2(float* out, const float* in) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = at(in, i);
}
void run(float* o, const float* i) { k1<<<264, 256>>>(o, i); k2<<<264, 256>>>(o, i); }
"#;
        let path = std::path::PathBuf::from("/project/main.cu");
        let files: std::collections::HashMap<std::path::PathBuf, String> = [(
            std::path::PathBuf::from("/project/far.cuh"),
            header.to_string(),
        )]
        .into();
        let opts = cudalens_syntax::BuildOptions {
            path: Some(&path),
            provider: &files,
            ..cudalens_syntax::BuildOptions::default()
        };
        let model = cudalens_syntax::analyze_source(main, &opts);
        let analysis = crate::analyze(&model, main, &crate::AnalysisConfig::default());
        let found: Vec<_> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.code == super::CODE)
            .collect();
        assert_eq!(found.len(), 1, "{found:#?}");
        let d = found[0];
        assert_eq!(d.span.text(main), "in[i * 16]");
        let calls: Vec<(&str, &str)> = d
            .related
            .iter()
            .filter(|r| r.message.contains(" calls "))
            .map(|r| (r.span.text(main), r.message.as_str()))
            .collect();
        assert_eq!(
            calls,
            [
                ("via(in, i)", "kernel `k1` calls `via` here"),
                ("at(in, i)", "`via` calls `at` here (from kernel `k1`)"),
                ("at(in, i)", "kernel `k2` calls `at` here"),
            ]
        );
        // The included file's access is a finding of that file, at the
        // access in its text, with how `k1` reaches it.
        let there: Vec<_> = analysis.elsewhere.iter().collect();
        assert_eq!(there.len(), 1, "{there:#?}");
        let f = there[0];
        assert_eq!(&*f.file, std::path::Path::new("/project/far.cuh"));
        assert_eq!(f.diagnostic.code, super::CODE);
        assert_eq!(f.diagnostic.span.text(header), "in[i * 32]");
        assert!(f.diagnostic.fixes.is_empty());
        let at = |text: &str, what: &str| {
            let start = text.find(what).expect("in the text");
            crate::Span::new(start, start + what.len())
        };
        assert_eq!(
            f.entries,
            [crate::Entry {
                kernel: "k1".into(),
                call: at(main, "far(in, i)"),
                callee: "far".into(),
                anchor: at(header, "far"),
                via: vec![],
            }]
        );
    }

    /// A device function called from several places is judged per call
    /// (llm.c's `st_vec` stores to `__shared__` tiles and, at a third call,
    /// to the output): the strided global call's finding, with its own
    /// numbers and its own call as the note, not one of the others'.
    #[test]
    fn a_device_function_is_judged_per_call() {
        let main = r#"
__device__ void put(float* p, float v) { *p = v; }
__global__ void k(float* out, float* wide) {
    __shared__ float tile[256];
    put(&tile[threadIdx.x], 1.0f);
    put(out + threadIdx.x, 2.0f);
    put(wide + threadIdx.x * 32, tile[threadIdx.x]);
}
void run(float* o, float* w) { k<<<64, 256>>>(o, w); }
"#;
        let model =
            cudalens_syntax::analyze_source(main, &cudalens_syntax::BuildOptions::default());
        let analysis = crate::analyze(&model, main, &crate::AnalysisConfig::default());
        let found: Vec<_> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.code == super::CODE)
            .collect();
        assert_eq!(found.len(), 1, "{found:#?}");
        let d = found[0];
        assert_eq!(d.span.text(main), "*p");
        assert!(
            d.message.contains("32 sectors per warp request (ideal 4)"),
            "{}",
            d.message
        );
        let calls: Vec<&str> = d.related.iter().map(|r| r.span.text(main)).collect();
        assert_eq!(calls, ["put(wide + threadIdx.x * 32, tile[threadIdx.x])"]);
    }

    #[test]
    fn records_read_whole_by_the_warp_are_silent_and_a_single_field_is_not() {
        // 16-byte records: a 2-byte scale, a 2-byte bias and 12 one-byte
        // codes. Eight lanes take eight records, four lanes share each one:
        // every field load spans the warp's 4 sectors, and together they use
        // every byte of them (fetched once, then served by L1). `rec->codes +
        // 3 * part` is an address, not a load. Reading only one field of each
        // record (`scale_only`) moves 16 bytes for every 2 used: reported.
        check_diagnostics(
            r#"
struct Rec { short scale; short bias; unsigned char codes[12]; };

__global__ void decode(const Rec* recs, float* out) {
    int r = threadIdx.x % 8;
    int part = threadIdx.x / 8;
    const Rec* rec = recs + blockIdx.x * 8 + r;
    float scale = rec->scale;
    float bias = rec->bias;
    const unsigned char* c = rec->codes + 3 * part;
    float acc = 0.0f;
    for (int l = 0; l < 3; ++l) {
        acc += scale * c[l] + bias;
    }
    out[blockIdx.x * 32 + threadIdx.x] = acc;
}

__global__ void scale_only(const Rec* recs, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = recs[i].scale;
    //       ^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: 16 sectors per warp request (ideal 2) — adjacent threads are 8 shorts apart
}

// One record per thread, read whole field by field: each load moves twice
// the sectors a vector load would (the array-of-structs pattern).
struct Pair { float a; float b; };

__global__ void own_pair(const Pair* pairs, float* out) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = pairs[i].a + pairs[i].b;
    //       ^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: 8 sectors per warp request (ideal 4) — adjacent threads are 2 floats apart
    //                    ^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: 8 sectors per warp request (ideal 4) — adjacent threads are 2 floats apart
}

void launch(const Rec* recs, float* out, int n, const Pair* pairs) {
    decode<<<n / 8, 32>>>(recs, out);
    scale_only<<<n / 256, 256>>>(recs, out);
    own_pair<<<n / 256, 256>>>(pairs, out);
}
"#,
        );
    }

    #[test]
    fn a_contiguous_access_at_a_runtime_offset_is_silent_and_one_after_a_pitch_is_not() {
        // `b[x + 1 + t]` with `t` a kernel parameter: adjacent threads are
        // adjacent floats; where the runtime offset puts the first one in its
        // sector is unknown, so nothing is claimed about it.
        check_diagnostics(
            r#"
__global__ void shift(float* b, const float* m, int t) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    b[x + 1 + t] -= m[x + 1 + t] * b[t];
}

// `cols` also scales the row: a pitch, counted aligned, so the `+ 1` is a
// known misalignment and is reported.
__global__ void next_row(float* out, const float* in, int cols) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    out[x] = in[cols * blockIdx.y + cols + x + 1];
    //       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ info[uncoalesced-access]: uncoalesced global load: 5 sectors per warp request (ideal 4) — threads are contiguous but the warp's data starts 4 bytes into a 32-byte sector (misaligned) (through x = blockIdx.x*blockDim.x+threadIdx.x); counted with the runtime part of the address 32-byte aligned (4.9 on average if it is not)
}

void launch(float* b, const float* m, int n, int t, float* out, const float* in, int cols) {
    shift<<<n / 256, 256>>>(b, m, t);
    next_row<<<dim3(n / 256, n), 256>>>(out, in, cols);
}
"#,
        );
    }

    #[test]
    fn a_grid_stride_loop_keeps_the_average_over_its_blocks_shifts() {
        // The CUDA samples' fp16ScalarProduct starts each block's loop at
        // `threadIdx.x + blockDim.x + blockIdx.x`: blocks are one element
        // apart, so most warps straddle one more sector (ncu on the H100:
        // 18% of the sectors excessive). The loop's `i += gridDim.x *
        // blockDim.x` moves by whole sectors and does not hide that.
        check_diagnostics(
            r#"
__global__ void dot(const float* a, float* out, int size) {
    const int stride = gridDim.x * blockDim.x;
    float v = 0;
    for (int i = threadIdx.x + blockDim.x + blockIdx.x; i < size; i += stride) {
        v += a[i];
           //^^^^ info[uncoalesced-access]: uncoalesced global load: 4.9 sectors per warp request (ideal 4) — threads are contiguous, but where a block's data starts moves by a number of bytes that is not a multiple of 32 from block to block, so most warps straddle one more sector (averaged over the blocks) (through i = threadIdx.x+blockDim.x+blockIdx.x)
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}
__global__ void dot_aligned(const float* a, float* out, int size) {
    float v = 0;
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < size; i += gridDim.x * blockDim.x) {
        v += a[i];
    }
    out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}
void run(const float* a, float* out) {
    dot<<<128, 128>>>(a, out, 1 << 20);
    dot_aligned<<<128, 128>>>(a, out, 1 << 20);
}
"#,
        );
    }

    #[test]
    fn a_contiguous_access_into_a_buffer_the_host_offsets_is_silent() {
        // The host passes `in + pad` (the CUDA samples' FDTD3d pads its
        // volume so that the reads after the halo align): where the warp's
        // data starts in its sector depends on that offset, not on the
        // kernel's `+ 4`. The same kernel launched on the allocation itself
        // is misaligned by 16 bytes, and a strided access stays reported
        // whatever the offset.
        check_diagnostics(
            r#"
__global__ void halo(float* out, const float* in, int pitch) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    out[x] = in[x + 4] + in[x * pitch];
    //                   ^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: up to 32 sectors per warp request (ideal 4) — adjacent threads are pitch floats apart (through x = blockIdx.x*blockDim.x+threadIdx.x)
}

__global__ void halo_here(float* out, const float* in) {
    int x = blockIdx.x * blockDim.x + threadIdx.x;
    out[x] = in[x + 4];
    //       ^^^^^^^^^ info[uncoalesced-access]: uncoalesced global load: 5 sectors per warp request (ideal 4) — threads are contiguous but the warp's data starts 16 bytes into a 32-byte sector (misaligned) (through x = blockIdx.x*blockDim.x+threadIdx.x)
}

void launch(float* out, float* buffer, int n, int pitch) {
    const int pad = 32 - 4;
    float* in = buffer + pad;
    halo<<<n / 256, 256>>>(out, in, pitch);
    halo_here<<<n / 256, 256>>>(out, buffer);
}
"#,
        );
    }

    #[test]
    fn messages_name_pointers_the_x_carrier_and_keep_brackets() {
        // A table of pointers filled with threadIdx.x on the outer index:
        // its elements are pointers (not "`void` elements"), and what puts
        // adjacent threads apart is `b` (threadIdx.x), not `r` (threadIdx.y).
        // A carrier's initial value keeps the brackets it needs.
        check_diagnostics(
            r#"
__global__ void fill_table(const char* base, const void** table, int rows, int batches, long step) {
    int b = blockIdx.x * blockDim.x + threadIdx.x;
    int r = blockIdx.y * blockDim.y + threadIdx.y;
    if (b >= batches || r >= rows) return;
    table[r + b * rows] = base + (r + b * rows) * step;
  //^^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global store: up to 16 sectors per warp request (ideal 8) — adjacent threads are rows pointers apart (through b = blockIdx.x*blockDim.x+threadIdx.x)
}

__global__ void quads(float* out, const float* in) {
    int q = (blockIdx.x * blockDim.x + threadIdx.x) * 4;
    out[q] = in[q];
  //^^^^^^ warning[uncoalesced-access]: uncoalesced global store: 16 sectors per warp request (ideal 4) — adjacent threads are 4 floats apart (through q = (blockIdx.x*blockDim.x+threadIdx.x)*4)
    //       ^^^^^ warning[uncoalesced-access]: uncoalesced global load: 16 sectors per warp request (ideal 4) — adjacent threads are 4 floats apart (through q = (blockIdx.x*blockDim.x+threadIdx.x)*4)
}

void launch(const char* base, const void** table, int rows, int batches, long step, float* out, const float* in) {
    fill_table<<<dim3(batches / 16, rows / 16), dim3(16, 16)>>>(base, table, rows, batches, step);
    quads<<<64, 256>>>(out, in);
}
"#,
        );
    }

    #[test]
    fn narrow_blocks_and_partial_warps_are_explained_as_they_are() {
        // 8×8 blocks of 2-byte elements: each warp covers four rows of 16
        // bytes, `pitch` apart. The threads of a row are contiguous: what
        // costs is the rows (not "1 shorts apart"). A warp of which only two
        // lanes (one per row) run is said to be so, not "0 bytes apart".
        check_diagnostics(
            r#"
__global__ void tiles8(short* out, const short* in, int pitch) {
    int x = blockIdx.x * 8 + threadIdx.x;
    int y = blockIdx.y * 8 + threadIdx.y;
    out[y * pitch + x] = in[y * pitch + x];
  //^^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global store: up to 4 sectors per warp request (ideal 2) — threads are contiguous along x, but each warp spans 4 rows of 8 threads, pitch shorts apart (through x = blockIdx.x*8+threadIdx.x)
    //                   ^^^^^^^^^^^^^^^^^ warning[uncoalesced-access]: uncoalesced global load: up to 4 sectors per warp request (ideal 2) — threads are contiguous along x, but each warp spans 4 rows of 8 threads, pitch shorts apart (through x = blockIdx.x*8+threadIdx.x)
}

__global__ void first_column(float* out, const float* in) {
    __shared__ float col[16];
    if (threadIdx.x == 0) col[threadIdx.y] = in[blockIdx.y * 16 + threadIdx.y + 7];
    //                                       ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ info[uncoalesced-access]: uncoalesced global load: 1.2 sectors per warp request (ideal 1) — only 2 of 32 lanes are active under a thread-dependent condition
    __syncthreads();
    out[blockIdx.y * 256 + threadIdx.y * 16 + threadIdx.x] = col[threadIdx.y];
}

void launch(short* o, const short* i, int pitch, float* out, const float* in) {
    tiles8<<<dim3(64, 64), dim3(8, 8)>>>(o, i, pitch);
    first_column<<<dim3(1, 64), dim3(16, 16)>>>(out, in);
}
"#,
        );
    }
}
