//! The kernel model plugins receive (`plugins/PROTOCOL.md`, "analyze"):
//! the kernel's source, parameters, shared arrays, the analyses' findings
//! inside it and its tuning features, with LSP ranges.

use serde_json::{Value, json};

use cudalens_analysis::{AccessReport, KernelReport};
use cudalens_plugin_host::protocol::{Position as PluginPosition, Range as PluginRange};
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

/// The severity names of the protocol.
pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "information",
        Severity::Hint => "hint",
    }
}

/// The kernel model sent to `analyze` for `kernel`.
pub fn kernel_model(snapshot: &Snapshot, kernel: &KernelReport) -> Value {
    let index = &snapshot.index;
    let model = &snapshot.analyzed.model;
    let analysis = &snapshot.analyzed.analysis;
    let function = model.function(&kernel.name);
    let parameters: Vec<Value> = function
        .map(|f| {
            f.params
                .iter()
                .map(|p| json!({"name": p.name, "type": p.ty.display()}))
                .collect()
        })
        .unwrap_or_default();
    let shared_arrays: Vec<Value> = function
        .map(|f| {
            f.shared_decls()
                .into_iter()
                .map(|d| json!({"name": d.name, "element_type": d.ty.display(), "bytes": shared_array_bytes(model, f, d)}))
                .collect()
        })
        .unwrap_or_default();
    let inside = |span: Span| kernel.span.start <= span.start && span.end <= kernel.span.end;
    let range = |span: Span| serde_json::to_value(plugin_range(index, span)).unwrap_or(Value::Null);
    let diagnostics: Vec<Value> = analysis
        .diagnostics
        .iter()
        .filter(|d| inside(d.span))
        .map(|d| json!({"code": d.code, "message": d.message, "severity": severity_name(d.severity), "range": range(d.span)}))
        .collect();
    let accesses: Vec<Value> = analysis
        .accesses
        .iter()
        .filter(|a| *a.kernel == *kernel.name)
        .map(|a| {
            let mut v = serde_json::to_value(a).unwrap_or_else(|_| json!({}));
            if let Value::Object(map) = &mut v {
                map.remove("span");
                map.insert("range".into(), range(a.span));
                map.insert("pattern".into(), json!(access_pattern(a)));
                if let Some(sectors) = a.sectors_per_request {
                    map.insert("transactions_per_request".into(), json!(sectors));
                }
            }
            v
        })
        .collect();
    json!({
        "name": kernel.name,
        "uri": snapshot.uri,
        "source": kernel.span.text(&snapshot.text),
        "range": range(kernel.span),
        "block": kernel.block,
        "parameters": parameters,
        "shared_arrays": shared_arrays,
        "analysis": {"diagnostics": diagnostics, "accesses": accesses},
        "target_arch": snapshot.settings.arch,
        "adapter": null,
        // What tuners learn from; the same features are stored with benchmark runs.
        "features": cudalens_analysis::tuning::kernel_features(model, analysis, &kernel.name, &snapshot.settings.arch),
    })
}

fn access_pattern(a: &AccessReport) -> &'static str {
    match (a.sectors_per_request, a.ideal_sectors, a.bank_conflict_ways) {
        (Some(s), Some(ideal), _) if s > ideal + 0.5 => "uncoalesced",
        (Some(_), _, _) => "coalesced",
        (_, _, Some(ways)) if ways > 1.0 => "bank-conflict",
        _ => "conflict-free",
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::fixture;

    #[test]
    fn transpose_model() {
        let f = fixture::analyze(
            r#"
            __global__ void transpose(float* out, const float* in) {
                __shared__ float tile[32][32];
                tile[threadIdx.x][threadIdx.y] = in[threadIdx.y * 32 + threadIdx.x];
                __syncthreads();
                out[threadIdx.y * 32 + threadIdx.x] = tile[threadIdx.y][threadIdx.x];
            }
            void run(float* o, const float* i) { transpose<<<1, dim3(32, 32)>>>(o, i); }
            "#,
        );
        let kernel = &f.snapshot.analyzed.analysis.kernels[0];
        let model = kernel_model(&f.snapshot, kernel);
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
            "transpose" "file:///fixture/main.cu" 0:0-5:1 block [32,32,1] arch "sm_90"
            param "out" "float*"
            param "in" "const float*"
            shared "tile" "float" 4096 bytes
            diagnostic "bank-conflict" "warning" at 2:4-2:34
            access "tile" "store" "bank-conflict" at 2:4-2:34
            access "in" "load" "coalesced" at 2:37-2:71
            access "out" "store" "coalesced" at 4:4-4:39
            access "tile" "load" "conflict-free" at 4:42-4:72
            has features true
        "#]]
        .assert_eq(&out);
    }
}
