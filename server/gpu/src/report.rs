//! Markdown reports with an inline SVG chart of the autotune sweep.
//!
//! Output is a pure function of its input (no clock, no locale), so it can be
//! snapshot-tested and diffed.

use std::fmt::Write as _;

use crate::adapter::AdapterReport;
use crate::autotune::{AutotuneResult, CandidateOutcome};
use crate::bench::BenchmarkResult;
use crate::history::RunWithFlag;

/// What goes into a report; every part is optional.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportInput<'a> {
    pub hardware: Option<&'a AdapterReport>,
    pub benchmark: Option<&'a BenchmarkResult>,
    pub autotune: Option<&'a AutotuneResult>,
    pub history: &'a [RunWithFlag],
}

fn dims(d: [u32; 3]) -> String {
    format!("{}×{}×{}", d[0], d[1], d[2])
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Markdown table cells must not contain `|`.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

/// UTC `YYYY-MM-DD HH:MM` from Unix milliseconds (civil-from-days).
pub fn format_utc(timestamp_ms: u64) -> String {
    let secs = timestamp_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Horizontal bar chart of the sweep's median times; the best bar is green,
/// skipped candidates are listed with a grey "skipped" label.
pub fn render_autotune_svg(sweep: &AutotuneResult) -> String {
    const WIDTH: u32 = 640;
    const ROW: u32 = 26;
    const TOP: u32 = 34;
    const LABEL_W: u32 = 110;
    const VALUE_W: u32 = 110;
    let bar_span = f64::from(WIDTH - LABEL_W - VALUE_W - 10);
    let rows = sweep.entries.len() as u32;
    let height = TOP + rows * ROW + 10;
    let max_ms = sweep
        .entries
        .iter()
        .filter_map(|e| e.median_ms())
        .fold(0.0_f64, f64::max);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r##"<text x="10" y="20" font-size="14" font-weight="bold">{} — median ms per workgroup size (lower is better)</text>"##,
        escape_xml(&sweep.kernel)
    );
    for (i, entry) in sweep.entries.iter().enumerate() {
        let y = TOP + i as u32 * ROW;
        let text_y = y + 15;
        let is_best = sweep.best == Some(i);
        let weight = if is_best {
            r#" font-weight="bold""#
        } else {
            ""
        };
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{text_y}" text-anchor="end"{weight}>{}</text>"#,
            LABEL_W - 8,
            dims(entry.workgroup_size)
        );
        match &entry.outcome {
            CandidateOutcome::Measured { timing, .. } => {
                let fraction = if max_ms > 0.0 {
                    timing.median_ms / max_ms
                } else {
                    0.0
                };
                let w = (fraction * bar_span).max(1.0);
                let fill = if is_best { "#2e9e44" } else { "#4a78c2" };
                let _ = writeln!(
                    svg,
                    r#"<rect x="{LABEL_W}" y="{}" width="{w:.1}" height="{}" fill="{fill}"><title>{} ms</title></rect>"#,
                    y + 3,
                    ROW - 8,
                    format_ms(timing.median_ms)
                );
                let best_mark = if is_best { " ★ best" } else { "" };
                let _ = writeln!(
                    svg,
                    r#"<text x="{:.1}" y="{text_y}"{weight}>{} ms{best_mark}</text>"#,
                    f64::from(LABEL_W) + w + 6.0,
                    format_ms(timing.median_ms)
                );
            }
            CandidateOutcome::Skipped { reason } => {
                let _ = writeln!(
                    svg,
                    r##"<text x="{LABEL_W}" y="{text_y}" fill="#888888">skipped<title>{}</title></text>"##,
                    escape_xml(reason)
                );
            }
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// Milliseconds with three significant decimals at least: `123.4`, `1.234`, `0.0420`.
pub fn format_ms(ms: f64) -> String {
    if ms >= 100.0 {
        format!("{ms:.1}")
    } else if ms >= 1.0 {
        format!("{ms:.3}")
    } else {
        format!("{ms:.4}")
    }
}

/// Renders the whole report as Markdown.
pub fn render_markdown(input: &ReportInput<'_>) -> String {
    let mut md = String::new();
    let kernel = input
        .benchmark
        .map(|b| b.kernel.as_str())
        .or(input.autotune.map(|a| a.kernel.as_str()))
        .unwrap_or("kernel");
    let _ = writeln!(md, "# cudalens benchmark: `{kernel}`\n");

    if let Some(hw) = input.hardware {
        let _ = writeln!(md, "## Hardware\n\n```text\n{hw}\n```\n");
    }

    if let Some(b) = input.benchmark {
        let source = b.timing_description();
        let _ = writeln!(md, "## Result\n");
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(md, "| adapter | {} |", cell(&b.adapter));
        let merged = if b.blocks_per_workgroup > 1 {
            format!(", {} blocks per workgroup", b.blocks_per_workgroup)
        } else {
            String::new()
        };
        let _ = writeln!(
            md,
            "| launch | grid {} × block {} (dispatch {}{merged}) |",
            dims(b.grid),
            dims(b.workgroup_size),
            dims(b.dispatch)
        );
        let _ = writeln!(md, "| runtime checks | {} |", b.runtime_checks.describe());
        let _ = match b.clamped_accesses {
            Some(0) => writeln!(
                md,
                "| clamped accesses | none (counted on the verification launch) |"
            ),
            Some(n) => writeln!(
                md,
                "| clamped accesses | **{n} out of bounds, clamped: the time below is not the kernel's workload** |"
            ),
            None => writeln!(md, "| clamped accesses | not counted |"),
        };
        let _ = writeln!(
            md,
            "| time per dispatch | min {} / median {} / p95 {} / mean {} ms ({} samples, {source}) |",
            format_ms(b.timing.min_ms),
            format_ms(b.timing.median_ms),
            format_ms(b.timing.p95_ms),
            format_ms(b.timing.mean_ms),
            b.timing.samples
        );
        let _ = writeln!(
            md,
            "| bandwidth | {:.2} GB/s ({} B read + {} B written) |",
            b.gb_per_s, b.bytes_read, b.bytes_written
        );
        if let Some(g) = b.gflop_per_s {
            let _ = writeln!(md, "| compute | {g:.2} GFLOP/s |");
        }
        let _ = writeln!(
            md,
            "| transfers | upload {} ms, download {} ms (wall clock) |",
            format_ms(b.upload_ms),
            format_ms(b.download_ms)
        );
        md.push('\n');
        for w in &b.warnings {
            let _ = writeln!(md, "> ⚠ {w}\n");
        }
    }

    if let Some(sweep) = input.autotune {
        let _ = writeln!(md, "## Autotune (problem {})\n", dims(sweep.problem_size));
        if let Some(why) = &sweep.work_depends_on_launch {
            let _ = writeln!(
                md,
                "> ⚠ **Not a ranking**: the kernel's work depends on its block size ({}), so each candidate computed something else.\n",
                cell(why)
            );
        }
        md.push_str(&render_autotune_svg(sweep));
        let _ = writeln!(
            md,
            "\n| workgroup | grid | median ms | GB/s | status |\n|---|---|---|---|---|"
        );
        for (i, e) in sweep.entries.iter().enumerate() {
            let (median, gbs, status) = match &e.outcome {
                CandidateOutcome::Measured {
                    timing, gb_per_s, ..
                } => (
                    format_ms(timing.median_ms),
                    format!("{gb_per_s:.2}"),
                    if sweep.best == Some(i) {
                        "**best**".to_string()
                    } else {
                        "ok".to_string()
                    },
                ),
                CandidateOutcome::Skipped { reason } => {
                    ("–".into(), "–".into(), format!("skipped: {}", cell(reason)))
                }
            };
            let _ = writeln!(
                md,
                "| {} | {} | {median} | {gbs} | {status} |",
                dims(e.workgroup_size),
                dims(e.grid)
            );
        }
        md.push('\n');
    }

    if !input.history.is_empty() {
        let _ = writeln!(md, "## Recent runs\n");
        let _ = writeln!(
            md,
            "| # | when (UTC) | workgroup | problem | median ms | GB/s | WGSL | flag |\n|---|---|---|---|---|---|---|---|"
        );
        for run in input.history {
            let r = &run.record;
            let flag = match run.regression {
                Some(reg) => format!(
                    "⚠ regression +{:.0}% vs best {} ms",
                    reg.slowdown * 100.0,
                    format_ms(reg.best_previous_ms)
                ),
                None => String::new(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {}×{}×{} | {} | {:.2} | `{}` | {flag} |",
                run.id,
                format_utc(r.timestamp_ms),
                dims(r.workgroup_size),
                r.problem_size[0],
                r.problem_size[1],
                r.problem_size[2],
                format_ms(r.median_ms),
                r.gb_per_s,
                &r.wgsl_hash[..r.wgsl_hash.len().min(8)]
            );
        }
        md.push('\n');
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::tests::fake_adapter;
    use crate::autotune::AutotuneEntry;
    use crate::bench::{RuntimeChecks, TimingMethod, TimingSource};
    use crate::history::{HistoryRecord, Regression};
    use crate::stats::TimingStats;

    fn stats(median_ms: f64) -> TimingStats {
        TimingStats {
            samples: 20,
            min_ms: median_ms * 0.9,
            median_ms,
            p95_ms: median_ms * 1.2,
            mean_ms: median_ms * 1.05,
        }
    }

    fn sweep() -> AutotuneResult {
        let measured = |wg: u32, ms: f64| AutotuneEntry {
            workgroup_size: [wg, 1, 1],
            grid: [(1 << 20) / wg, 1, 1],
            outcome: CandidateOutcome::Measured {
                timing: stats(ms),
                gb_per_s: 8.0 * 1_048_576.0 / (ms * 1e6),
                gflop_per_s: None,
                timing_method: Default::default(),
            },
        };
        AutotuneResult {
            kernel: "saxpy".into(),
            adapter: "NVIDIA H100 80GB HBM3".into(),
            problem_size: [1 << 20, 1, 1],
            entries: vec![
                measured(64, 0.080),
                measured(128, 0.052),
                measured(256, 0.042),
                AutotuneEntry {
                    workgroup_size: [2048, 1, 1],
                    grid: [512, 1, 1],
                    outcome: CandidateOutcome::Skipped {
                        reason: "exceeds the adapter's workgroup limits".into(),
                    },
                },
            ],
            best: Some(2),
            best_result: None,
            work_depends_on_launch: None,
        }
    }

    fn benchmark() -> BenchmarkResult {
        BenchmarkResult {
            kernel: "saxpy".into(),
            adapter: "NVIDIA H100 80GB HBM3".into(),
            workgroup_size: [256, 1, 1],
            grid: [4096, 1, 1],
            dispatch: [4096, 1, 1],
            blocks_per_workgroup: 1,
            runtime_checks: RuntimeChecks::BoundsOnly,
            timing_source: TimingSource::GpuTimestamps,
            timing_method: TimingMethod::BetweenDispatches,
            dispatches_per_pass: 32,
            timing: stats(0.042),
            samples_ms: vec![0.042; 20],
            compile_ms: 3.0,
            upload_ms: 1.25,
            download_ms: 0.75,
            bytes_read: 4 << 20,
            bytes_written: 4 << 20,
            gb_per_s: 199.73,
            gflop_per_s: Some(49.93),
            warnings: vec![],
            outputs: vec![],
            clamped_accesses: None,
        }
    }

    fn history() -> Vec<RunWithFlag> {
        let rec = |ms: f64, t: u64| HistoryRecord {
            timestamp_ms: t,
            file: "saxpy.cu".into(),
            kernel: "saxpy".into(),
            adapter: "NVIDIA H100 80GB HBM3".into(),
            workgroup_size: [256, 1, 1],
            problem_size: [1 << 20, 1, 1],
            median_ms: ms,
            gb_per_s: 200.0,
            wgsl_hash: "0123456789abcdef".into(),
            tuning: None,
            min_ms: None,
            p95_ms: None,
            native_ms: None,
            sweep: None,
            adapter_info: None,
            timing_method: Default::default(),
        };
        vec![
            RunWithFlag {
                id: 2,
                record: rec(0.050, 1_767_225_600_000),
                regression: Some(Regression {
                    best_previous_ms: 0.042,
                    median_ms: 0.050,
                    slowdown: 0.050 / 0.042 - 1.0,
                }),
            },
            RunWithFlag {
                id: 1,
                record: rec(0.042, 1_767_139_200_000),
                regression: None,
            },
        ]
    }

    #[test]
    fn svg_chart_snapshot() {
        insta::assert_snapshot!(render_autotune_svg(&sweep()));
    }

    #[test]
    fn markdown_report_snapshot() {
        let hw = fake_adapter("NVIDIA H100 80GB HBM3", "DiscreteGpu");
        let (bench, sweep, history) = (benchmark(), sweep(), history());
        let md = render_markdown(&ReportInput {
            hardware: Some(&hw),
            benchmark: Some(&bench),
            autotune: Some(&sweep),
            history: &history,
        });
        insta::assert_snapshot!(md);
    }

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00");
        assert_eq!(format_utc(1_767_225_600_000), "2026-01-01 00:00");
        assert_eq!(format_utc(951_827_696_000), "2000-02-29 12:34");
    }
}
