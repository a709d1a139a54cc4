//! What a tuning plugin is asked (`plugins/PROTOCOL.md`, "tune"): the
//! kernel model, the declaration head and the launch's arguments it may
//! rewrite, the adapter's limits, whether the kernel is 2-D, and the loops
//! the transpiler can unroll.

use serde_json::{Value, json};

use cudalens_gpu::AdapterReport;
use cudalens_plugin_host::protocol::{AdapterInfo, BlockLimits, LaunchSite, LoopSite, TuneParams};
use cudalens_syntax::Span;

use crate::Snapshot;
use crate::plugin_model::{kernel_model, plugin_range};

/// Default problem size of 1D kernels when neither flags nor the launch give one.
pub const DEFAULT_SIZE_1D: u32 = 1 << 20;
/// Default side of 2D kernels.
pub const DEFAULT_SIZE_2D: u32 = 512;
/// Model field (an extension of the protocol's kernel model) carrying the
/// problem size every variant of one `tune` is timed on.
pub const PROBLEM_SIZE: &str = "problem_size";

/// Problem size (elements, or the side of a 2D problem) of the variants a
/// tuning plugin asks for when the command names none: fixed, so that every
/// block size covers the same work.
pub fn tune_problem_size(is_2d: bool) -> u32 {
    if is_2d {
        DEFAULT_SIZE_2D
    } else {
        DEFAULT_SIZE_1D
    }
}

/// The device limits a tuner should respect, from the adapter. `warp_size`
/// is CUDA's 32: the kernel is tuned for NVIDIA hardware even when it is
/// timed elsewhere.
pub fn block_limits(adapter: &AdapterReport) -> BlockLimits {
    let l = &adapter.limits;
    BlockLimits {
        max_threads_per_block: l.max_compute_invocations_per_workgroup,
        max_block_dims: [
            l.max_compute_workgroup_size_x,
            l.max_compute_workgroup_size_y,
            l.max_compute_workgroup_size_z,
        ],
        warp_size: 32,
    }
}

/// The `tune` request for `kernel`; `size` overrides the problem size.
pub fn tune_params(
    snapshot: &Snapshot,
    kernel: &str,
    adapter: &AdapterReport,
    size: Option<u32>,
) -> Result<TuneParams, String> {
    let model = &snapshot.analyzed.model;
    let report = snapshot
        .analyzed
        .analysis
        .kernels
        .iter()
        .find(|k| k.name == kernel)
        .ok_or_else(|| format!("`{kernel}` has not been analysed"))?;
    let function = model
        .kernels()
        .find(|k| k.name == kernel && k.body.is_some() && k.in_main_file())
        .ok_or_else(|| format!("no kernel `{kernel}` with a body in this file"))?;
    let range = |span: Span| plugin_range(&snapshot.index, span);
    // The same decision as the benchmark's launch (`gpu_actions::prepare`).
    let is_2d = report.block.is_some_and(|b| b[1] > 1)
        || cudalens_analysis::tuning::uses_second_axis(function);
    let size = size.unwrap_or_else(|| tune_problem_size(is_2d));

    let mut kernel_model = kernel_model(snapshot, report);
    kernel_model.adapter = Some(AdapterInfo {
        name: adapter.name.clone(),
        backend: adapter.backend.clone(),
        limits: json!({
            "max_compute_invocations_per_workgroup": adapter.limits.max_compute_invocations_per_workgroup,
            "subgroup_size": adapter.subgroup_max_size,
        }),
    });
    kernel_model.extra.insert(PROBLEM_SIZE.into(), json!(size));
    if let Some(features) = kernel_model
        .extra
        .get_mut("features")
        .and_then(Value::as_object_mut)
    {
        let threads = if is_2d {
            u64::from(size).pow(2)
        } else {
            u64::from(size)
        };
        features.insert("problem_size".into(), json!(threads));
    }

    let head = Span::new(
        function.decl_start,
        function.name_span.start.max(function.decl_start),
    );
    let text = &snapshot.text;
    let in_text = |s: &Span| s.end <= text.len();
    let launch = model.launches_of(kernel).find_map(|l| {
        let block = l.block_arg_span.filter(in_text)?;
        let grid = l
            .grid
            .as_ref()
            .filter(|g| !g.from_macro)
            .map(|g| g.span)
            .filter(in_text);
        Some(LaunchSite {
            uri: snapshot.uri.clone(),
            block_arg_range: range(block),
            block_arg_text: block.text(text).to_string(),
            grid_arg_range: grid.map(range),
            grid_arg_text: grid.map(|g| g.text(text).to_string()).unwrap_or_default(),
        })
    });
    let unroll_loops: Vec<LoopSite> = cudalens_wgsl::unrollable_loops(model, text, kernel)
        .into_iter()
        .filter(in_text)
        .map(|span| loop_site(text, span, range))
        .collect();
    Ok(TuneParams {
        kernel: kernel_model,
        declaration_range: range(head),
        declaration_text: head.text(text).to_string(),
        launch,
        limits: block_limits(adapter),
        is_2d,
        unroll_allowed: !unroll_loops.is_empty(),
        unroll_loops,
    })
}

/// Where `#pragma unroll N` goes for the loop at `span`: its line's
/// indentation, and the pragma line already above it, if any.
fn loop_site(
    text: &str,
    span: Span,
    range: impl Fn(Span) -> cudalens_plugin_host::protocol::Range,
) -> LoopSite {
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = text[line_start..span.start]
        .chars()
        .take_while(|c| c.is_whitespace())
        .collect();
    let pragma_range = line_start
        .checked_sub(1)
        .map(|newline| {
            let prev_start = text[..newline].rfind('\n').map_or(0, |i| i + 1);
            let line = text[prev_start..newline].trim_end_matches('\r');
            let first = prev_start + (line.len() - line.trim_start().len());
            (first, prev_start + line.len())
        })
        .filter(|&(first, end)| text[first..end].starts_with("#pragma unroll"))
        .map(|(first, end)| range(Span::new(first, end)));
    LoopSite {
        range: range(span),
        indent,
        pragma_range,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::fixture;

    fn adapter() -> AdapterReport {
        serde_json::from_value(json!({
            "name": "llvmpipe", "backend": "Vulkan", "device_type": "Cpu",
            "vendor_id": 0x10005, "device_id": 0, "driver": "", "driver_info": "",
            "subgroup_min_size": 8, "subgroup_max_size": 8,
            "features": {"timestamp_query": true, "timestamp_query_inside_passes": false,
                "shader_f16": false, "shader_f64": false, "shader_int64": false, "subgroup": true},
            "limits": {"max_compute_workgroup_size_x": 1024, "max_compute_workgroup_size_y": 1024,
                "max_compute_workgroup_size_z": 64, "max_compute_invocations_per_workgroup": 1024,
                "max_compute_workgroup_storage_size": 32768, "max_storage_buffer_binding_size": 134217728,
                "max_buffer_size": 268435456, "max_compute_workgroups_per_dimension": 65535},
        }))
        .expect("an adapter report")
    }

    /// Every part of the request a plugin rewrites, with its text.
    fn show(f: &fixture::Fixture, params: &TuneParams) -> String {
        let text = |r: &cudalens_plugin_host::protocol::Range| {
            let index = &f.snapshot.index;
            let position = |p: cudalens_plugin_host::protocol::Position| {
                index.offset(cudalens_syntax::Position::new(p.line, p.character))
            };
            f.snapshot.text[position(r.start)..position(r.end)].to_string()
        };
        let mut out = format!(
            "kernel {} (is_2d {}, problem {:?}, block {:?})\ndeclaration {:?}\n",
            params.kernel.name,
            params.is_2d,
            params.kernel.extra.get(PROBLEM_SIZE),
            params.kernel.block,
            text(&params.declaration_range),
        );
        if let Some(l) = &params.launch {
            let grid = l.grid_arg_range.as_ref().map(text);
            out.push_str(&format!(
                "launch block {:?} grid {grid:?}\n",
                text(&l.block_arg_range)
            ));
        }
        for l in &params.unroll_loops {
            let pragma = l.pragma_range.as_ref().map(text);
            out.push_str(&format!(
                "loop {:?} indent {:?} pragma {pragma:?}\n",
                text(&l.range).lines().next().unwrap_or(""),
                l.indent,
            ));
        }
        out.push_str(&format!("limits {:?}\n", params.limits));
        out
    }

    #[test]
    fn one_dimensional_kernel_with_a_launch_and_loops() {
        let f = fixture::analyze(
            r#"
            __global__ __launch_bounds__(256) void sum_rows(const float* m, float* out, int n) {
                int row = blockIdx.x * blockDim.x + threadIdx.x;
                float acc = 0.0f;
                #pragma unroll 2
                for (int k = 0; k < 64; ++k) {
                    acc += m[row * 64 + k];
                }
                out[row] = acc;
            }
            void run(const float* m, float* out, int n) {
                sum_rows<<<(n + 255) / 256, 256>>>(m, out, n);
            }
            "#,
        );
        let params = tune_params(&f.snapshot, "sum_rows", &adapter(), None).expect("params");
        expect![[r##"
            kernel sum_rows (is_2d false, problem Some(Number(1048576)), block Some([256, 1, 1]))
            declaration "__global__ __launch_bounds__(256) void "
            launch block "256" grid Some("(n + 255) / 256")
            loop "for (int k = 0; k < 64; ++k) {" indent "    " pragma Some("#pragma unroll 2")
            limits BlockLimits { max_threads_per_block: 1024, max_block_dims: [1024, 1024, 64], warp_size: 32 }
        "##]]
        .assert_eq(&show(&f, &params));
    }

    #[test]
    fn a_y_index_makes_a_kernel_two_dimensional() {
        let f = fixture::analyze(
            r#"
            __global__ void scale(float* img, int w) {
                int x = blockIdx.x * blockDim.x + threadIdx.x;
                int y = blockIdx.y;
                img[y * w + x] *= 2.0f;
            }
            "#,
        );
        let params = tune_params(&f.snapshot, "scale", &adapter(), Some(128)).expect("params");
        expect![[r#"
            kernel scale (is_2d true, problem Some(Number(128)), block None)
            declaration "__global__ void "
            limits BlockLimits { max_threads_per_block: 1024, max_block_dims: [1024, 1024, 64], warp_size: 32 }
        "#]]
        .assert_eq(&show(&f, &params));
        let features = params.kernel.extra.get("features").expect("features");
        assert_eq!(features["problem_size"], json!(128 * 128));
    }

    #[test]
    fn unknown_kernels_are_errors() {
        let f = fixture::analyze("__global__ void k(float* y);\n");
        let error = tune_params(&f.snapshot, "k", &adapter(), None).map(|_| ());
        assert_eq!(error, Err("`k` has not been analysed".to_string()));
    }
}
