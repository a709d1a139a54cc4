//! Benchmark history in an embedded database (`redb`) at
//! `<workspace>/.cudalens/history.redb`, with regression detection.
//!
//! Records are stored as JSON under an increasing `u64` id, so the format can
//! grow fields (`#[serde(default)]`) without a migration.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::adapter::AdapterReport;
use crate::bench::{BenchmarkResult, TimingMethod};
use crate::error::GpuError;

const RUNS: TableDefinition<u64, &str> = TableDefinition::new("runs");

/// A run is a regression when its median is this much slower than the best
/// previous run of the same configuration.
pub const REGRESSION_THRESHOLD: f64 = 0.10;

/// One stored benchmark run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HistoryRecord {
    /// Unix time in milliseconds.
    pub timestamp_ms: u64,
    /// Source file the kernel came from (workspace-relative preferred).
    pub file: String,
    pub kernel: String,
    pub adapter: String,
    pub workgroup_size: [u32; 3],
    /// Problem size in threads (default: grid × block).
    pub problem_size: [u64; 3],
    pub median_ms: f64,
    pub gb_per_s: f64,
    /// FNV-1a 64 of the WGSL, hex: tells code changes apart from noise.
    pub wgsl_hash: String,
    /// What a tuner learns from, computed by the caller when the run was
    /// recorded: `{"kernel": {...}, "adapter": {...}}` (opaque to the runner;
    /// see `cudalens history export`). Absent in runs recorded before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuning: Option<serde_json::Value>,
    /// Fastest and p95 launch of the run (the spread around the median);
    /// absent in runs recorded before the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
    /// Median of the same launch compiled by nvcc (`bench --native`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub native_ms: Option<f64>,
    /// Set on every candidate of one autotune sweep (the same value for all
    /// of them, the sweep's start time), so the sweep can be shown again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<u64>,
    /// Backend and driver of the adapter; `adapter` is only its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adapter_info: Option<AdapterInfo>,
    /// How the run's samples were taken (`BenchmarkResult::timing_method`):
    /// a batched median leaves out the per-pass cost a one-per-pass median
    /// has, so the two are not compared. Runs recorded before the field
    /// existed were one per pass.
    #[serde(default)]
    pub timing_method: TimingMethod,
}

/// What identifies the software a run went through besides the adapter's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterInfo {
    /// `Vulkan`, `Metal`, `Dx12`, ...
    pub backend: String,
    /// `DiscreteGpu`, `Cpu`, ...
    pub device_type: String,
    pub driver: String,
    pub driver_info: String,
}

impl From<&AdapterReport> for AdapterInfo {
    fn from(a: &AdapterReport) -> Self {
        AdapterInfo {
            backend: a.backend.clone(),
            device_type: a.device_type.clone(),
            driver: a.driver.clone(),
            driver_info: a.driver_info.clone(),
        }
    }
}

impl HistoryRecord {
    /// A record for `result`, stamped now; the problem size is grid × block.
    pub fn from_result(result: &BenchmarkResult, file: &str, wgsl: &str) -> Self {
        let problem_size =
            [0, 1, 2].map(|i| u64::from(result.grid[i]) * u64::from(result.workgroup_size[i]));
        HistoryRecord {
            timestamp_ms: now_ms(),
            file: file.to_string(),
            kernel: result.kernel.clone(),
            adapter: result.adapter.clone(),
            workgroup_size: result.workgroup_size,
            problem_size,
            median_ms: result.timing.median_ms,
            gb_per_s: result.gb_per_s,
            wgsl_hash: content_hash(wgsl),
            tuning: None,
            min_ms: Some(result.timing.min_ms),
            p95_ms: Some(result.timing.p95_ms),
            native_ms: None,
            sweep: None,
            adapter_info: None,
            timing_method: result.timing_method,
        }
    }

    /// Same kernel, adapter, workgroup size, problem size and way of
    /// timing: timings are comparable.
    pub fn same_configuration(&self, other: &HistoryRecord) -> bool {
        self.kernel == other.kernel
            && self.adapter == other.adapter
            && self.workgroup_size == other.workgroup_size
            && self.problem_size == other.problem_size
            && self.timing_method == other.timing_method
    }
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// FNV-1a 64-bit hash as 16 hex digits (stable across platforms and releases).
pub fn content_hash(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// A slowdown against the best previous run of the same configuration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Regression {
    pub best_previous_ms: f64,
    pub median_ms: f64,
    /// `median / best_previous - 1` (0.25 = 25% slower).
    pub slowdown: f64,
}

/// Flags `newest` when its median is more than [`REGRESSION_THRESHOLD`]
/// slower than the best of `previous` with the same configuration.
pub fn detect_regression(newest: &HistoryRecord, previous: &[HistoryRecord]) -> Option<Regression> {
    let best_previous_ms = previous
        .iter()
        .filter(|p| p.same_configuration(newest))
        .map(|p| p.median_ms)
        .filter(|m| *m > 0.0)
        .min_by(f64::total_cmp)?;
    let slowdown = newest.median_ms / best_previous_ms - 1.0;
    (slowdown > REGRESSION_THRESHOLD).then_some(Regression {
        best_previous_ms,
        median_ms: newest.median_ms,
        slowdown,
    })
}

/// A stored run with its regression flag (relative to the runs before it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunWithFlag {
    pub id: u64,
    pub record: HistoryRecord,
    pub regression: Option<Regression>,
}

/// The history database.
pub struct History {
    db: redb::Database,
    path: PathBuf,
}

fn db_err(e: impl Display) -> GpuError {
    GpuError::History(e.to_string())
}

impl History {
    /// `<workspace_root>/.cudalens/history.redb`.
    pub fn default_path(workspace_root: &Path) -> PathBuf {
        workspace_root.join(".cudalens").join("history.redb")
    }

    /// Opens (creating if needed) the workspace's history.
    pub fn open(workspace_root: &Path) -> Result<Self, GpuError> {
        Self::open_file(&Self::default_path(workspace_root))
    }

    /// Opens (creating if needed) a history database at `path`.
    pub fn open_file(path: &Path) -> Result<Self, GpuError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| db_err(format!("{}: {e}", dir.display())))?;
        }
        let db =
            redb::Database::create(path).map_err(|e| db_err(format!("{}: {e}", path.display())))?;
        // Create the table up front so readers never see "table does not exist".
        let txn = db.begin_write().map_err(db_err)?;
        txn.open_table(RUNS).map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(History {
            db,
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends a run; returns its id.
    pub fn append(&self, record: &HistoryRecord) -> Result<u64, GpuError> {
        let json = serde_json::to_string(record).map_err(db_err)?;
        let txn = self.db.begin_write().map_err(db_err)?;
        let id = {
            let mut table = txn.open_table(RUNS).map_err(db_err)?;
            let id = table
                .last()
                .map_err(db_err)?
                .map_or(1, |(k, _)| k.value() + 1);
            table.insert(id, json.as_str()).map_err(db_err)?;
            id
        };
        txn.commit().map_err(db_err)?;
        Ok(id)
    }

    /// All runs, oldest first.
    pub fn all_runs(&self) -> Result<Vec<(u64, HistoryRecord)>, GpuError> {
        let txn = self.db.begin_read().map_err(db_err)?;
        let table = txn.open_table(RUNS).map_err(db_err)?;
        let mut runs = Vec::new();
        for entry in table.range::<u64>(..).map_err(db_err)? {
            let (k, v) = entry.map_err(db_err)?;
            // Skip records this version cannot read rather than failing the query.
            if let Ok(record) = serde_json::from_str::<HistoryRecord>(v.value()) {
                runs.push((k.value(), record));
            }
        }
        Ok(runs)
    }

    /// The last `n` runs of `kernel` on `adapter`, newest first, each flagged
    /// against the runs of the same configuration before it.
    pub fn last_runs(
        &self,
        kernel: &str,
        adapter: &str,
        n: usize,
    ) -> Result<Vec<RunWithFlag>, GpuError> {
        let runs: Vec<(u64, HistoryRecord)> = self
            .all_runs()?
            .into_iter()
            .filter(|(_, r)| r.kernel == kernel && r.adapter == adapter)
            .collect();
        let mut flagged: Vec<RunWithFlag> = Vec::with_capacity(n.min(runs.len()));
        for (i, (id, record)) in runs.iter().enumerate().rev().take(n) {
            let previous: Vec<HistoryRecord> = runs[..i].iter().map(|(_, r)| r.clone()).collect();
            flagged.push(RunWithFlag {
                id: *id,
                regression: detect_regression(record, &previous),
                record: record.clone(),
            });
        }
        Ok(flagged)
    }

    /// Whether the newest run of `kernel` on `adapter` regressed.
    pub fn latest_regression(
        &self,
        kernel: &str,
        adapter: &str,
    ) -> Result<Option<Regression>, GpuError> {
        Ok(self
            .last_runs(kernel, adapter, 1)?
            .into_iter()
            .next()
            .and_then(|r| r.regression))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kernel: &str, wg: u32, median_ms: f64, t: u64) -> HistoryRecord {
        HistoryRecord {
            timestamp_ms: t,
            file: "kernels/saxpy.cu".into(),
            kernel: kernel.into(),
            adapter: "llvmpipe".into(),
            workgroup_size: [wg, 1, 1],
            problem_size: [1 << 20, 1, 1],
            median_ms,
            gb_per_s: 8.0 / median_ms,
            wgsl_hash: content_hash("fn main() {}"),
            tuning: None,
            min_ms: None,
            p95_ms: None,
            native_ms: None,
            sweep: None,
            adapter_info: None,
            timing_method: Default::default(),
        }
    }

    #[test]
    fn reads_runs_recorded_before_the_dashboard_fields() {
        let old = r#"{"timestamp_ms":1,"file":"a.cu","kernel":"k","adapter":"llvmpipe",
            "workgroup_size":[256,1,1],"problem_size":[1024,1,1],"median_ms":0.5,
            "gb_per_s":2.0,"wgsl_hash":"00"}"#;
        let r: HistoryRecord = serde_json::from_str(old).unwrap();
        assert_eq!((r.native_ms, r.sweep, r.min_ms), (None, None, None));
        assert!(r.adapter_info.is_none());
        assert_eq!(r.timing_method, TimingMethod::OnePerPass);
    }

    /// A batched median leaves out the per-pass cost a one-per-pass median
    /// has: an old one-per-pass run is no baseline for a batched one (a
    /// microsecond kernel read 4x faster batched on lavapipe), nor the
    /// other way round.
    #[test]
    fn runs_timed_differently_are_not_compared() {
        let old = record("saxpy", 256, 0.010, 1);
        let mut batched = record("saxpy", 256, 0.040, 2);
        batched.timing_method = TimingMethod::PassAverage;
        assert!(!batched.same_configuration(&old));
        assert!(detect_regression(&batched, std::slice::from_ref(&old)).is_none());
        let mut later = record("saxpy", 256, 0.050, 3);
        later.timing_method = TimingMethod::PassAverage;
        assert!(detect_regression(&later, &[old, batched]).is_some());
    }

    #[test]
    fn new_fields_round_trip() {
        let mut r = record("saxpy", 256, 1.0, 7);
        r.native_ms = Some(0.8);
        r.sweep = Some(7);
        r.min_ms = Some(0.9);
        r.adapter_info = Some(AdapterInfo {
            backend: "Vulkan".into(),
            device_type: "Cpu".into(),
            driver: "llvmpipe".into(),
            driver_info: "Mesa 25".into(),
        });
        let json = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<HistoryRecord>(&json).unwrap(), r);
    }

    #[test]
    fn appends_and_queries_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        assert!(history.path().ends_with(".cudalens/history.redb"));
        for (i, ms) in [1.0, 0.9, 0.95].into_iter().enumerate() {
            history.append(&record("saxpy", 256, ms, i as u64)).unwrap();
        }
        history.append(&record("other", 256, 5.0, 9)).unwrap();
        let runs = history.last_runs("saxpy", "llvmpipe", 2).unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), vec![3, 2]);
        assert!(runs.iter().all(|r| r.regression.is_none()));
        assert!(history.last_runs("saxpy", "H100", 5).unwrap().is_empty());

        // Persisted: reopening sees the same runs.
        drop(history);
        let history = History::open(dir.path()).unwrap();
        assert_eq!(history.all_runs().unwrap().len(), 4);
    }

    #[test]
    fn flags_runs_over_ten_percent_slower_than_the_best_same_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open_file(&dir.path().join("h.redb")).unwrap();
        history.append(&record("saxpy", 256, 1.0, 1)).unwrap();
        history.append(&record("saxpy", 256, 1.2, 2)).unwrap();
        history.append(&record("saxpy", 128, 5.0, 3)).unwrap(); // other config: no baseline
        history.append(&record("saxpy", 256, 1.09, 4)).unwrap(); // within 10%
        let runs = history.last_runs("saxpy", "llvmpipe", 10).unwrap();
        let flags: Vec<bool> = runs.iter().map(|r| r.regression.is_some()).collect();
        assert_eq!(flags, vec![false, false, true, false]);
        let r = runs[2].regression.unwrap();
        assert_eq!(r.best_previous_ms, 1.0);
        assert!((r.slowdown - 0.2).abs() < 1e-9);
        assert_eq!(
            history.latest_regression("saxpy", "llvmpipe").unwrap(),
            None
        );
        history.append(&record("saxpy", 256, 1.5, 5)).unwrap();
        assert!(
            history
                .latest_regression("saxpy", "llvmpipe")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(content_hash(""), "cbf29ce484222325");
        assert_ne!(content_hash("a"), content_hash("b"));
    }
}
