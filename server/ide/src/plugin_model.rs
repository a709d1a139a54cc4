//! The kernel model plugins receive (`plugins/PROTOCOL.md`, "analyze"):
//! the kernel's source, parameters, shared arrays, the analyses' findings
//! inside it and its tuning features, with LSP ranges.

use serde_json::{Value, json};

use cudalens_analysis::{AccessReport, KernelReport, MemorySpace};
use cudalens_plugin_host::protocol::{
    AccessMetrics, AnalysisDiagnostic, AnalysisResults, KernelModel, KernelParameter,
    Position as PluginPosition, Range as PluginRange, Severity as PluginSeverity, SharedArray,
};
use cudalens_syntax::{LineIndex, Severity, Span};

use crate::Snapshot;
use crate::text::shared_array_bytes;

/// A span as a plugin range (plugin positions are LSP positions).
pub fn plugin_range(index: &LineIndex, span: Span) -> PluginRange {
    let (start, end) = (index.position(span.start), index.position(span.end));
    PluginRange::new(
        PluginPosition::new(start.line, start.character),
        PluginPosition::new(end.line, end.character),
    )
}

fn severity(severity: Severity) -> PluginSeverity {
    match severity {
        Severity::Error => PluginSeverity::Error,
        Severity::Warning => PluginSeverity::Warning,
        Severity::Info => PluginSeverity::Information,
        Severity::Hint => PluginSeverity::Hint,
    }
}

/// The kernel model sent to `analyze` for `kernel`.
pub fn kernel_model(snapshot: &Snapshot, kernel: &KernelReport) -> KernelModel {
    let index = &snapshot.index;
    let model = &snapshot.analyzed.model;
    let analysis = &snapshot.analyzed.analysis;
    let function = model.function(&kernel.name);
    let parameters = function
        .map(|f| {
            f.params
                .iter()
                .map(|p| KernelParameter {
                    name: p.name.clone(),
                    ty: p.ty.display(),
                })
                .collect()
        })
        .unwrap_or_default();
    let shared_arrays = function
        .map(|f| {
            f.shared_decls()
                .into_iter()
                .map(|d| SharedArray {
                    name: d.name.clone(),
                    element_type: d.ty.display(),
                    bytes: shared_array_bytes(model, f, d),
                })
                .collect()
        })
        .unwrap_or_default();
    let inside = |span: Span| kernel.span.start <= span.start && span.end <= kernel.span.end;
    let diagnostics = analysis
        .diagnostics
        .iter()
        .filter(|d| inside(d.span))
        .map(|d| AnalysisDiagnostic {
            code: d.code.to_string(),
            message: d.message.clone(),
            range: plugin_range(index, d.span),
            severity: Some(severity(d.severity)),
        })
        .collect();
    let accesses = analysis
        .accesses
        .iter()
        .filter(|a| *a.kernel == *kernel.name)
        .map(|a| access_metrics(index, a))
        .collect();
    let mut extra = serde_json::Map::new();
    // What tuners learn from; the same features are stored with benchmark runs.
    let features = cudalens_analysis::tuning::kernel_features(
        model,
        analysis,
        &kernel.name,
        &snapshot.settings.arch,
    );
    extra.insert("features".into(), json!(features));
    KernelModel {
        name: kernel.name.to_string(),
        uri: snapshot.uri.clone(),
        source: kernel.span.text(&snapshot.text).to_string(),
        range: plugin_range(index, kernel.span),
        block: kernel.block,
        parameters,
        shared_arrays,
        analysis: AnalysisResults {
            diagnostics,
            accesses,
        },
        target_arch: Some(snapshot.settings.arch.clone()),
        adapter: None,
        extra,
    }
}

/// One access: the report's numbers, with its range and pattern class.
fn access_metrics(index: &LineIndex, a: &AccessReport) -> AccessMetrics {
    let mut metrics = match serde_json::to_value(a) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    metrics.remove("span");
    metrics.remove("array");
    if let Some(sectors) = a.sectors_per_request {
        metrics.insert("transactions_per_request".into(), json!(sectors));
    }
    AccessMetrics {
        range: plugin_range(index, a.span),
        array: a.array.to_string(),
        pattern: access_pattern(a).to_string(),
        metrics,
    }
}

/// The access's class by the one verdict the diagnostics use
/// (`AccessReport::is_wasteful`).
fn access_pattern(a: &AccessReport) -> &'static str {
    match (a.space, a.is_wasteful()) {
        (MemorySpace::Global, true) => "uncoalesced",
        (MemorySpace::Global, false) => "coalesced",
        (MemorySpace::Shared, true) => "bank-conflict",
        (MemorySpace::Shared, false) => "conflict-free",
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::fixture;

    #[test]
    fn transpose_model() {
        let f = fixture::analyze(fixture::TRANSPOSE);
        let kernel = &f.snapshot.analyzed.analysis.kernels[0];
        let model = serde_json::to_value(kernel_model(&f.snapshot, kernel)).expect("JSON");
        let range = |v: &Value| {
            let (s, e) = (&v["start"], &v["end"]);
            format!(
                "{}:{}-{}:{}",
                s["line"], s["character"], e["line"], e["character"]
            )
        };
        let mut out = format!(
            "{} {} {} block {} arch {}\n",
            model["name"],
            model["uri"],
            range(&model["range"]),
            model["block"],
            model["target_arch"]
        );
        for p in model["parameters"].as_array().into_iter().flatten() {
            out.push_str(&format!("param {} {}\n", p["name"], p["type"]));
        }
        for s in model["shared_arrays"].as_array().into_iter().flatten() {
            out.push_str(&format!(
                "shared {} {} {} bytes\n",
                s["name"], s["element_type"], s["bytes"]
            ));
        }
        for d in model["analysis"]["diagnostics"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push_str(&format!(
                "diagnostic {} {} at {}\n",
                d["code"],
                d["severity"],
                range(&d["range"])
            ));
        }
        for a in model["analysis"]["accesses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            out.push_str(&format!(
                "access {} {} {} at {}\n",
                a["array"],
                a["kind"],
                a["pattern"],
                range(&a["range"])
            ));
        }
        out.push_str(&format!("has features {}\n", model["features"].is_object()));
        expect![[r#"
            "transpose" "file:///fixture/main.cu" 0:0-6:1 block [32,32,1] arch "sm_90"
            param "out" "float*"
            param "in" "const float*"
            shared "tile" "float" 4096 bytes
            diagnostic "bank-conflict" "warning" at 2:4-2:34
            access "tile" "store" "bank-conflict" at 2:4-2:34
            access "in" "load" "coalesced" at 2:37-2:71
            access "out" "store" "coalesced" at 5:4-5:39
            access "tile" "load" "conflict-free" at 5:42-5:72
            has features true
        "#]]
        .assert_eq(&out);
    }

    /// Patterns follow the one verdict: a `float4` shared access needing
    /// its 4 wavefronts is conflict-free.
    #[test]
    fn wide_shared_accesses_are_conflict_free() {
        let f = fixture::analyze(
            r#"
            __global__ void k(float4* out) {
                __shared__ float4 row[256];
                row[threadIdx.x] = out[threadIdx.x];
                __syncthreads();
                out[threadIdx.x] = row[threadIdx.x];
            }
            void run(float4* o) { k<<<1, 256>>>(o); }
            "#,
        );
        let kernel = &f.snapshot.analyzed.analysis.kernels[0];
        let model = kernel_model(&f.snapshot, kernel);
        let patterns: Vec<(String, &str)> = model
            .analysis
            .accesses
            .iter()
            .map(|a| (a.array.clone(), a.pattern.as_str()))
            .collect();
        expect![[r#"
            [
                (
                    "row",
                    "conflict-free",
                ),
                (
                    "out",
                    "coalesced",
                ),
                (
                    "out",
                    "coalesced",
                ),
                (
                    "row",
                    "conflict-free",
                ),
            ]
        "#]]
        .assert_debug_eq(&patterns);
    }
}
