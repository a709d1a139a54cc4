//! Code lenses: above each kernel, its occupancy (clicking runs
//! `cudalens.showOccupancyTable`, answered by [`occupancy_table`]); kernels
//! defined in the file also get "▶ Benchmark" and "Autotune".

use cudalens_analysis::KernelReport;
use cudalens_syntax::Span;

use crate::Snapshot;
use crate::commands::{Command, KernelTarget, OccupancyTableArgs};
use crate::hover::kernel_markdown;
use crate::inlay_hints::launch_label;

/// A title above `span` that runs `command` when clicked.
#[derive(Debug, Clone, PartialEq)]
pub struct CodeLens {
    pub span: Span,
    pub title: String,
    pub command: Command,
}

/// Occupancy lenses first, then the GPU lenses.
pub fn code_lenses(snapshot: &Snapshot) -> Vec<CodeLens> {
    let mut lenses = occupancy_lenses(snapshot);
    lenses.extend(gpu_lenses(snapshot));
    lenses
}

/// "▶ Benchmark" and "Autotune" above each kernel with a body in this file.
fn gpu_lenses(snapshot: &Snapshot) -> Vec<CodeLens> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for k in snapshot.analyzed.model.kernels() {
        if k.body.is_none() || !k.in_main_file() || !seen.insert(&k.name) {
            continue;
        }
        let target = KernelTarget {
            uri: snapshot.uri.clone(),
            kernel: Some(k.name.clone()),
            position: Some(snapshot.index.position(k.name_span.start)),
        };
        let benchmark = Command::Benchmark(target.clone());
        for (title, command) in [
            ("▶ Benchmark", benchmark),
            ("Autotune", Command::Autotune(target)),
        ] {
            out.push(CodeLens {
                span: k.name_span,
                title: title.to_string(),
                command,
            });
        }
    }
    out
}

fn occupancy_lenses(snapshot: &Snapshot) -> Vec<CodeLens> {
    snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        // A kernel of an included file: its name is in that file (its
        // launches here get hovers and inlay hints).
        .filter(|k| k.file.is_none())
        .map(|k| CodeLens {
            span: k.name_span,
            title: lens_title(k),
            command: Command::ShowOccupancyTable(OccupancyTableArgs {
                uri: snapshot.uri.clone(),
                kernel: k.name.clone(),
            }),
        })
        .collect()
}

fn lens_title(k: &KernelReport) -> String {
    let Some(first) = k.launches.first() else {
        return "no launch configuration".to_string();
    };
    let mut title = launch_label(first);
    match &first.launched_in {
        // A launch in another file that includes this one.
        Some(place) if !first.block_source.assumed() => {
            title.push_str(&format!(" (launch in {place})"))
        }
        _ if first.span.is_none() => title.push_str(" (block size assumed)"),
        _ => {}
    }
    if k.launches.len() > 1 {
        title.push_str(&format!(" · {} launches", k.launches.len()));
    }
    title
}

/// The answer of `cudalens.showOccupancyTable [uri, kernel]`.
pub fn occupancy_table(snapshot: &Snapshot, kernel: &str) -> Option<String> {
    let k = snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        .find(|k| k.name == kernel)?;
    Some(format!(
        "### `{}`\n\n{}",
        k.name,
        kernel_markdown(snapshot, k)
    ))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::fixture;

    #[test]
    fn occupancy_then_gpu_lenses() {
        let f = fixture::analyze(
            r#"
            __global__ void saxpy(float a, float* y) { y[threadIdx.x] *= a; }
            __global__ void unused(float* y) { y[0] = 1.0f; }
            void run(float* y) { saxpy<<<8, 128>>>(2.0f, y); saxpy<<<8, 96>>>(1.0f, y); }
            "#,
        );
        let shown: Vec<String> = code_lenses(&f.snapshot)
            .iter()
            .map(|l| format!("{} | {} | {:?}", f.text_of(l.span), l.title, l.command))
            .collect();
        expect![[r#"
            [
                "saxpy | occupancy 100% (64/64 warps) — limited by warps · 2 launches | ShowOccupancyTable(OccupancyTableArgs { uri: \"file:///fixture/main.cu\", kernel: \"saxpy\" })",
                "unused | occupancy 100% (64/64 warps) — limited by warps (block size assumed) | ShowOccupancyTable(OccupancyTableArgs { uri: \"file:///fixture/main.cu\", kernel: \"unused\" })",
                "saxpy | ▶ Benchmark | Benchmark(KernelTarget { uri: \"file:///fixture/main.cu\", kernel: Some(\"saxpy\"), position: Some(Position { line: 0, character: 16 }) })",
                "saxpy | Autotune | Autotune(KernelTarget { uri: \"file:///fixture/main.cu\", kernel: Some(\"saxpy\"), position: Some(Position { line: 0, character: 16 }) })",
                "unused | ▶ Benchmark | Benchmark(KernelTarget { uri: \"file:///fixture/main.cu\", kernel: Some(\"unused\"), position: Some(Position { line: 1, character: 16 }) })",
                "unused | Autotune | Autotune(KernelTarget { uri: \"file:///fixture/main.cu\", kernel: Some(\"unused\"), position: Some(Position { line: 1, character: 16 }) })",
            ]
        "#]].assert_debug_eq(&shown);
    }

    #[test]
    fn occupancy_table_command() {
        let f = fixture::analyze("__global__ void k(float* y) { y[threadIdx.x] = 0; }\n");
        let table = occupancy_table(&f.snapshot, "k").expect("a table");
        expect![[r#"
            ### `k`

            ```cuda
            __global__ void k(float* y)
            ```
            Registers: ~5–24/thread (estimated; nvcc makes this exact)

            ---
            **No launch in this file**: block 256×1×1 (assumed: cudalens.defaultBlockSize)

            **100%** on `sm_90`: 8 blocks/SM × 256 threads = 64/64 warps

            | Limit | Blocks/SM | Notes |
            |---|---:|---|
            | Warps (8/block) | **8** | 64 warp slots per SM |
            | Blocks per SM | 32 | hardware cap |
            | Registers (5–24/thread, estimated) | 10–32 | 256–768 per warp allocated |
            | Shared memory (1,024 B/block allocated) | 228 | carveout 8 KB |

        "#]]
        .assert_eq(&table);
        assert_eq!(occupancy_table(&f.snapshot, "missing"), None);
    }
}
