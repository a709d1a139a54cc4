//! Training data for tuners: the features stored with each benchmark run,
//! and the export of the workspace's run history as the JSON lines the
//! learned tuner plugin reads (its `Record`: kernel id, kernel features,
//! adapter features, block, median time).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use cudalens_analysis::FileAnalysis;
use cudalens_gpu::history::{History, HistoryRecord};
use cudalens_gpu::{AdapterReport, GpuError};
use cudalens_syntax::FileModel;

/// `{"kernel": features, "adapter": features}` for a run of `kernel` on
/// `adapter`; `None` when the kernel was not analysed.
pub fn tuning_record(
    model: &FileModel,
    analysis: &FileAnalysis,
    kernel: &str,
    arch: &str,
    adapter: &AdapterReport,
) -> Option<Value> {
    let features = cudalens_analysis::tuning::kernel_features(model, analysis, kernel, arch)?;
    Some(json!({"kernel": features, "adapter": adapter_features(adapter)}))
}

/// The learned tuner's `AdapterFeatures` of `adapter`.
pub fn adapter_features(adapter: &AdapterReport) -> Value {
    let vendor = match adapter.vendor_id {
        0x10de => "nvidia",
        0x1002 | 0x1022 => "amd",
        0x8086 => "intel",
        _ => "",
    };
    json!({
        "name": adapter.name,
        "vendor": vendor,
        "subgroup_size": adapter.subgroup_max_size.max(1),
        "max_invocations": adapter.limits.max_compute_invocations_per_workgroup,
    })
}

/// What [`export`] wrote.
#[derive(Debug, Default, PartialEq)]
pub struct Export {
    /// JSON lines, one run each.
    pub lines: String,
    pub runs: usize,
    pub kernels: usize,
    /// Runs recorded without features (before they were stored) or with a
    /// non-positive time.
    pub skipped: usize,
}

/// The runs in `history` as learned-tuner records. The problem size of each
/// run goes into its kernel features (it is not known when the features are
/// computed, only when the run is).
pub fn export(history: &History) -> Result<Export, GpuError> {
    Ok(export_records(
        history.all_runs()?.into_iter().map(|(_, r)| r),
    ))
}

fn export_records(runs: impl Iterator<Item = HistoryRecord>) -> Export {
    let mut out = Export::default();
    let mut kernels = BTreeMap::new();
    for run in runs {
        let Some(line) = learned_tuner_record(&run) else {
            out.skipped += 1;
            continue;
        };
        out.lines.push_str(&line.to_string());
        out.lines.push('\n');
        out.runs += 1;
        kernels.insert(line["kernel_id"].to_string(), ());
    }
    out.kernels = kernels.len();
    out
}

fn learned_tuner_record(run: &HistoryRecord) -> Option<Value> {
    let tuning = run.tuning.as_ref()?;
    if !(run.median_ms.is_finite() && run.median_ms > 0.0) {
        return None;
    }
    let mut kernel = tuning.get("kernel")?.clone();
    let problem: u64 = run.problem_size.iter().map(|&d| d.max(1)).product();
    kernel
        .as_object_mut()?
        .insert("problem_size".into(), json!(problem));
    Some(json!({
        "kernel_id": format!("{}::{}", run.file, run.kernel),
        "kernel": kernel,
        "adapter": tuning.get("adapter").cloned().unwrap_or(Value::Null),
        "block": run.workgroup_size,
        "median_ms": run.median_ms,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kernel: &str, block: u32, ms: f64, tuning: Option<Value>) -> HistoryRecord {
        HistoryRecord {
            timestamp_ms: 1,
            file: "k.cu".into(),
            kernel: kernel.into(),
            adapter: "GPU".into(),
            workgroup_size: [block, 1, 1],
            problem_size: [1 << 20, 1, 1],
            median_ms: ms,
            gb_per_s: 1.0,
            wgsl_hash: "0".into(),
            tuning,
            ..HistoryRecord::default()
        }
    }

    #[test]
    fn exports_runs_with_features_only() {
        let features = json!({"kernel": {"access_pattern": "coalesced", "problem_size": 0},
                              "adapter": {"name": "GPU", "vendor": "nvidia"}});
        let export = export_records(
            [
                run("a", 128, 0.5, Some(features.clone())),
                run("a", 256, 0.4, Some(features.clone())),
                run("b", 256, 0.4, Some(features)),
                run("old", 256, 0.4, None),
            ]
            .into_iter(),
        );
        assert_eq!((export.runs, export.kernels, export.skipped), (3, 2, 1));
        let first: Value = serde_json::from_str(export.lines.lines().next().unwrap()).unwrap();
        assert_eq!(first["kernel_id"], "k.cu::a");
        assert_eq!(first["block"], json!([128, 1, 1]));
        assert_eq!(first["kernel"]["problem_size"], json!(1 << 20));
        assert_eq!(first["adapter"]["vendor"], "nvidia");
    }
}
