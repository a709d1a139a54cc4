//! `textDocument/hover`: memory accesses (cost per warp request), shared
//! arrays (type, size), kernels (signature + occupancy table per launch),
//! launches (resolved configuration + occupancy), macros (definition), and
//! other functions (signature).

use std::fmt::Write as _;

use cudalens_analysis::{AccessReport, BlockSource, KernelReport, LaunchReport, MemorySpace};
use cudalens_occupancy::digits::group_digits;
use cudalens_occupancy::render;
use cudalens_syntax::Span;

use crate::Snapshot;
use crate::text::{BankConflict, bank_conflict, figure, shared_array_bytes, word_at};

/// What a hover shows: Markdown, and the span it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoverResult {
    pub markdown: String,
    pub span: Span,
}

/// The hover at `offset`: the innermost memory access, else a shared array's
/// name, a kernel's name, a launch, or a macro or function named there.
pub fn hover(snapshot: &Snapshot, offset: usize) -> Option<HoverResult> {
    let (markdown, span) = access(snapshot, offset)
        .or_else(|| shared_array(snapshot, offset))
        .or_else(|| kernel_definition(snapshot, offset))
        .or_else(|| launch(snapshot, offset))
        .or_else(|| by_name(snapshot, offset))?;
    Some(HoverResult { markdown, span })
}

/// The innermost memory access under the cursor: each of its reports (a
/// device function's access is judged per kernel and per call), once.
fn access(snapshot: &Snapshot, offset: usize) -> Option<(String, Span)> {
    let under = || (snapshot.analyzed.analysis.accesses.iter()).filter(|a| a.span.contains(offset));
    let span = under().map(|a| a.span).min_by_key(|s| s.len())?;
    let mut sections: Vec<String> = Vec::new();
    for a in under().filter(|a| a.span == span) {
        let md = access_markdown(a);
        if !sections.contains(&md) {
            sections.push(md);
        }
    }
    Some((sections.join("\n---\n\n"), span))
}

fn access_markdown(a: &AccessReport) -> String {
    let kind = format!("{:?}", a.kind).to_lowercase();
    let space = match a.space {
        MemorySpace::Global => "global",
        MemorySpace::Shared => "shared",
    };
    let mut md = format!(
        "**{space} {kind}** of `{}` ({}-byte elements) in `{}`\n\n",
        a.array, a.element_bytes, a.kernel
    );
    let waste = a.waste();
    if let (Some(sectors), Some(ideal)) = (a.sectors_per_request, a.ideal_sectors) {
        let _ = write!(
            md,
            "{} sectors per warp request (ideal {})",
            figure(sectors),
            figure(ideal)
        );
        if let Some(w) = waste {
            let _ = write!(md, " — {}× the ideal memory traffic", figure(w.ratio()));
        }
        md.push('\n');
    }
    if let Some(conflict) = bank_conflict(a) {
        let _ = match conflict {
            BankConflict::Wasteful(ways) => {
                write!(md, "{}-way bank conflict per warp request", figure(ways))
            }
            BankConflict::Minor(ways) => write!(
                md,
                "{}-way bank conflict per warp request: minor, not reported",
                figure(ways)
            ),
            BankConflict::None => write!(md, "no bank conflict"),
        };
        // Wide elements need several wavefronts even without a conflict.
        if let (Some(wavefronts), Some(ideal)) = (a.bank_conflict_ways, a.ideal_wavefronts)
            && figure(ideal) != "1"
        {
            let _ = write!(
                md,
                " ({} wavefronts per request, ideal {})",
                figure(wavefronts),
                figure(ideal)
            );
        }
        md.push('\n');
    }
    if a.block_assumed {
        md.push_str(
            "\n_Block size assumed (no launch gives it a constant value): set `cudalens.defaultBlockSize`._\n",
        );
    }
    md
}

fn shared_array(snapshot: &Snapshot, offset: usize) -> Option<(String, Span)> {
    let model = &snapshot.analyzed.model;
    model
        .functions
        .iter()
        .filter(|f| f.in_main_file() && f.span.contains(offset))
        .find_map(|f| {
            let d = f
                .shared_decls()
                .into_iter()
                .find(|d| d.name_span.contains(offset))?;
            let dims: String = d
                .dims
                .iter()
                .map(|dim| {
                    format!(
                        "[{}]",
                        dim.as_ref().map_or("", |e| e.span.text(&snapshot.text))
                    )
                })
                .collect();
            let extern_ = if d.is_extern { "extern " } else { "" };
            let size = match (d.is_extern, shared_array_bytes(model, f, d)) {
                (true, _) => "dynamic: sized by the launch's third `<<<>>>` argument".to_string(),
                (false, Some(bytes)) => format!("{} bytes per block", group_digits(bytes)),
                (false, None) => "size depends on a value cudalens could not resolve".to_string(),
            };
            let md = format!(
                "```cuda\n{extern_}__shared__ {} {}{dims}\n```\n{size}",
                d.ty.display(),
                d.name
            );
            Some((md, d.name_span))
        })
}

fn kernel_definition(snapshot: &Snapshot, offset: usize) -> Option<(String, Span)> {
    let k = snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        .find(|k| k.file.is_none() && k.name_span.contains(offset))?;
    Some((kernel_markdown(snapshot, k), k.name_span))
}

/// Signature plus one occupancy table per launch (also the
/// `cudalens.showOccupancyTable` command's answer).
pub(crate) fn kernel_markdown(snapshot: &Snapshot, k: &KernelReport) -> String {
    let model = &snapshot.analyzed.model;
    let mut md = String::new();
    if let Some(f) = model.function(&k.name) {
        let _ = writeln!(md, "```cuda\n{}\n```", f.signature());
    }
    let regs = &k.registers;
    if regs.estimated {
        let _ = writeln!(
            md,
            "Registers: ~{}–{}/thread (estimated; nvcc makes this exact)\n",
            regs.low, regs.high
        );
    } else {
        let _ = writeln!(md, "Registers: {}/thread (from nvcc)\n", regs.count);
    }
    for l in &k.launches {
        let _ = writeln!(md, "---\n{}\n", launch_heading(snapshot, l));
        md.push_str(&launch_body(l));
        md.push('\n');
    }
    md
}

fn launch_heading(snapshot: &Snapshot, l: &LaunchReport) -> String {
    let block = format!("{}×{}×{}", l.block[0], l.block[1], l.block[2]);
    let source = block_source_label(l.block_source);
    match (l.span, &l.launched_in) {
        (Some(span), _) => format!(
            "**Launch at line {}**: block {block} ({source})",
            snapshot.index.position(span.start).line + 1
        ),
        (None, Some(place)) => format!("**Launch in `{place}`**: block {block} ({source})"),
        (None, None) => format!("**No launch in this file**: block {block} ({source})"),
    }
}

fn block_source_label(source: BlockSource) -> &'static str {
    match source {
        BlockSource::Launch => "from the launch",
        BlockSource::LaunchBounds => "from __launch_bounds__",
        BlockSource::Template => "from a template argument",
        BlockSource::Default => "assumed: cudalens.defaultBlockSize",
    }
}

fn launch_body(l: &LaunchReport) -> String {
    match (&l.occupancy, &l.error) {
        (Some(report), _) => render::markdown_table(report),
        (None, Some(error)) => format!("Cannot launch: {error}\n"),
        (None, None) => String::new(),
    }
}

fn launch(snapshot: &Snapshot, offset: usize) -> Option<(String, Span)> {
    let (k, l, span) = snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        .flat_map(|k| k.launches.iter().map(move |l| (k, l)))
        .filter_map(|(k, l)| Some((k, l, l.span?)))
        .find(|(_, _, span)| span.contains(offset))?;
    let mut md = format!("**`{}`** launch\n\n", k.name);
    let grid = l.grid.map_or("unresolved".to_string(), |g| {
        format!("{}×{}×{}", g[0], g[1], g[2])
    });
    let smem = match (&l.dynamic_smem, &l.dynamic_smem_unresolved) {
        (Some(b), _) => format!("{} B", group_digits(*b)),
        (None, Some(what)) => {
            format!("{what}, set at run time (not counted: occupancy is at most what follows)")
        }
        (None, None) => "none".to_string(),
    };
    let _ = writeln!(
        md,
        "grid {grid} · block {}×{}×{} · dynamic shared memory {smem}\n",
        l.block[0], l.block[1], l.block[2]
    );
    if let Some(report) = &l.occupancy {
        let _ = writeln!(md, "{}\n", render::summary_line(report));
    }
    md.push_str(&launch_body(l));
    if let Some(best) = l.best_block_size {
        let _ = write!(
            md,
            "\nBest block size for this kernel's resources: {best}\n"
        );
    }
    Some((md, span))
}

/// A macro or function named under the cursor.
fn by_name(snapshot: &Snapshot, offset: usize) -> Option<(String, Span)> {
    let (word, span) = word_at(&snapshot.text, offset)?;
    let model = &snapshot.analyzed.model;
    if let Some(def) = model.macro_defs.iter().rev().find(|m| m.name == word) {
        let place = def
            .file
            .as_ref()
            .map(|p| format!("\n\nDefined in `{}`", p.display()))
            .unwrap_or_default();
        return Some((format!("```cuda\n{}\n```{place}", def.signature()), span));
    }
    if let Some(k) = snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        .find(|k| k.name == word)
    {
        return Some((kernel_markdown(snapshot, k), span));
    }
    let f = model.function(word)?;
    Some((format!("```cuda\n{}\n```", f.signature()), span))
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::fixture;

    /// The hover at `$0`, its span checked against the `^^^` range.
    fn check(text: &str, expect: Expect) {
        let f = fixture::analyze(text);
        let found = hover(&f.snapshot, f.cursor()).expect("a hover");
        assert_eq!(
            f.ranges,
            [found.span],
            "hover span: {:?}",
            f.text_of(found.span)
        );
        expect.assert_eq(&found.markdown);
    }

    #[test]
    fn bank_conflict_access() {
        check(
            r#"
            __global__ void t(float* out) {
                __shared__ float tile[32][32];
                ti$0le[threadIdx.x][threadIdx.y] = 1.0f;
            //  ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
                __syncthreads();
                out[threadIdx.x] = tile[threadIdx.y][threadIdx.x];
            }
            void run(float* out) { t<<<1, dim3(32, 32)>>>(out); }
            "#,
            expect![[r#"
                **shared store** of `tile` (4-byte elements) in `t`

                32-way bank conflict per warp request
            "#]],
        );
    }

    /// A `float4` access needs 4 wavefronts without any conflict: it is
    /// conflict-free, as the diagnostics (none here) say.
    /// A helper storing through a `__shared__` tile and a strided buffer:
    /// the hover has each call's report.
    #[test]
    fn a_helper_access_shows_each_call() {
        check(
            r#"
            __device__ void put(float* p, float v) { *$0p = v; }
            //                                       ^^^^
            __global__ void k(float* wide) {
                __shared__ float tile[256];
                put(&tile[threadIdx.x], 1.0f);
                put(wide + threadIdx.x * 32, tile[threadIdx.x]);
            }
            void run(float* w) { k<<<64, 256>>>(w); }
            "#,
            expect![[r#"
                **shared store** of `tile` (4-byte elements) in `k`

                no bank conflict

                ---

                **global store** of `wide` (4-byte elements) in `k`

                32 sectors per warp request (ideal 4) — 8× the ideal memory traffic
            "#]],
        );
    }

    #[test]
    fn wide_shared_access_without_conflict() {
        check(
            r#"
            __global__ void k(float4* out) {
                __shared__ float4 tile[256];
                tile[threadIdx.x] = out[threadIdx.x];
                __syncthreads();
                out[threadIdx.x] = ti$0le[threadIdx.x];
                //                 ^^^^^^^^^^^^^^^^^^^
            }
            void run(float4* o) { k<<<1, 256>>>(o); }
            "#,
            expect![[r#"
                **shared load** of `tile` (16-byte elements) in `k`

                no bank conflict (4 wavefronts per request, ideal 4)
            "#]],
        );
    }

    /// A `float4` column of a row-major tile: each request needs 8 times the
    /// wavefronts of a conflict-free one.
    #[test]
    fn wide_shared_access_with_a_conflict() {
        check(
            r#"
            __global__ void k(float4* out) {
                __shared__ float4 tile[32][32];
                tile[threadIdx.x][0] = out[threadIdx.x];
                __syncthreads();
                out[threadIdx.x] = ti$0le[threadIdx.x][1];
                //                 ^^^^^^^^^^^^^^^^^^^^^^
            }
            void run(float4* o) { k<<<1, 32>>>(o); }
            "#,
            expect![[r#"
                **shared load** of `tile` (16-byte elements) in `k`

                8-way bank conflict per warp request (32 wavefronts per request, ideal 4)
            "#]],
        );
    }

    #[test]
    fn uncoalesced_global_access() {
        check(
            r#"
            __global__ void strided(float* out, const float* in, int n) {
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                out[i] = in$0[i * 32];
                //       ^^^^^^^^^^^^
            }
            void run(float* o, const float* i) { strided<<<64, 256>>>(o, i, 1); }
            "#,
            expect![[r#"
                **global load** of `in` (4-byte elements) in `strided`

                32 sectors per warp request (ideal 4) — 8× the ideal memory traffic
            "#]],
        );
    }

    #[test]
    fn shared_array_declaration() {
        check(
            r#"
            #define TILE 16
            __global__ void k(float* out) {
                __shared__ float ti$0le[TILE][TILE + 1];
                //               ^^^^^^
                out[threadIdx.x] = 0.0f;
            }
            "#,
            expect![[r#"
                ```cuda
                __shared__ float tile[TILE][TILE + 1]
                ```
                1,088 bytes per block"#]],
        );
    }

    #[test]
    fn kernel_name_shows_occupancy_per_launch() {
        check(
            r#"
            __global__ void sa$0xpy(float a, float* y, int n) {
            //              ^^^^^^^
                int i = blockIdx.x * blockDim.x + threadIdx.x;
                if (i < n) y[i] *= a;
            }
            void run(float* y, int n) { saxpy<<<(n + 255) / 256, 256>>>(2.0f, y, n); }
            "#,
            expect![[r#"
                ```cuda
                __global__ void saxpy(float a, float* y, int n)
                ```
                Registers: ~6–30/thread (estimated; nvcc makes this exact)

                ---
                **Launch at line 6**: block 256×1×1 (from the launch)

                **100%** on `sm_90`: 8 blocks/SM × 256 threads = 64/64 warps

                | Limit | Blocks/SM | Notes |
                |---|---:|---|
                | Warps (8/block) | **8** | 64 warp slots per SM |
                | Blocks per SM | 32 | hardware cap |
                | Registers (6–30/thread, estimated) | 8–32 | 256–1,024 per warp allocated |
                | Shared memory (1,024 B/block allocated) | 228 | carveout 8 KB |

            "#]],
        );
    }

    #[test]
    fn launch() {
        check(
            r#"
            __global__ void k(float* y) { y[threadIdx.x] = 0.0f; }
            void run(float* y) { k<<<8, 1$0024>>>(y); }
            //                   ^^^^^^^^^^^^^^^^^^^
            "#,
            expect![[r#"
                **`k`** launch

                grid 8×1×1 · block 1024×1×1 · dynamic shared memory none

                occupancy 100% (64/64 warps) — limited by warps: 1024 threads/block

                **100%** on `sm_90`: 2 blocks/SM × 1024 threads = 64/64 warps

                | Limit | Blocks/SM | Notes |
                |---|---:|---|
                | Warps (32/block) | **2** | 64 warp slots per SM |
                | Blocks per SM | 32 | hardware cap |
                | Registers (5–24/thread, estimated) | 2–8 | 256–768 per warp allocated |
                | Shared memory (1,024 B/block allocated) | 228 | carveout 8 KB |

                Best block size for this kernel's resources: 1024
            "#]],
        );
    }

    #[test]
    fn macro_from_a_header() {
        check(
            r#"
            #include "tile.h"
            __global__ void k(float* y) { y[threadIdx.x] = TI$0LE; }
            //                                             ^^^^^^
            //- /fixture/tile.h
            #define TILE 32
            "#,
            expect![[r#"
                ```cuda
                #define TILE 32
                ```

                Defined in `/fixture/tile.h`"#]],
        );
    }

    #[test]
    fn nothing_in_whitespace() {
        let f = fixture::analyze("__global__ void k() {}\n$0\n");
        assert_eq!(hover(&f.snapshot, f.cursor()), None);
    }
}
