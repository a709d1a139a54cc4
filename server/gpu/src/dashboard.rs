//! The benchmark dashboard: the whole history as one self-contained HTML
//! page (inline CSS and SVG, no script, nothing fetched), per kernel and
//! adapter: time and bandwidth over the runs with regressions marked,
//! native CUDA against WGSL, the last autotune sweep, the adapter of each run.
//!
//! A pure function of its input (the clock is a parameter), so it can be
//! snapshot-tested; every string from the history is escaped.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use crate::bench::TimingMethod;
use crate::history::{HistoryRecord, Regression, detect_regression};
use crate::report::{format_ms, format_utc};

/// What the page is made of.
#[derive(Debug, Clone, Copy)]
pub struct DashboardInput<'a> {
    /// The history's runs, oldest first, with their ids (`History::all_runs`).
    pub runs: &'a [(u64, HistoryRecord)],
    /// Shown in the header: where the history was read from.
    pub source: &'a str,
    /// When the page was made (Unix milliseconds).
    pub generated_ms: u64,
}

/// Charts show at most this many runs of a kernel (the newest).
pub const MAX_CHART_RUNS: usize = 200;
/// The tables of a kernel's runs and regressions list at most this many (the newest).
pub const MAX_TABLE_RUNS: usize = 500;

/// Runs whose timings can be drawn: finite, non-negative medians.
fn drawable(r: &HistoryRecord) -> bool {
    r.median_ms.is_finite() && r.median_ms >= 0.0
}

/// One kernel on one adapter, as `same_configuration` compares runs.
struct Group<'a> {
    file: &'a str,
    kernel: &'a str,
    adapter: &'a str,
    /// Oldest first.
    runs: Vec<Run<'a>>,
}

struct Run<'a> {
    id: u64,
    record: &'a HistoryRecord,
    regression: Option<Regression>,
    /// A candidate of a sweep other than its best: shown with the sweep,
    /// not on the time line.
    swept_out: bool,
}

/// File, kernel, adapter.
type GroupKey<'a> = (&'a str, &'a str, &'a str);

fn groups(runs: &[(u64, HistoryRecord)]) -> Vec<Group<'_>> {
    let mut by_key: BTreeMap<GroupKey, Vec<(u64, &HistoryRecord)>> = BTreeMap::new();
    for (id, r) in runs.iter().filter(|(_, r)| drawable(r)) {
        by_key
            .entry((r.file.as_str(), r.kernel.as_str(), r.adapter.as_str()))
            .or_default()
            .push((*id, r));
    }
    by_key
        .into_iter()
        .map(|((file, kernel, adapter), records)| {
            // The best candidate of each sweep stands for the sweep on the time line.
            let mut sweep_best: BTreeMap<u64, (u64, f64)> = BTreeMap::new();
            for (id, r) in &records {
                if let Some(s) = r.sweep {
                    let best = sweep_best.entry(s).or_insert((*id, r.median_ms));
                    if r.median_ms < best.1 {
                        *best = (*id, r.median_ms);
                    }
                }
            }
            // The best earlier run per configuration is all `detect_regression`
            // uses: keeping it makes a long history linear, not quadratic.
            let mut best_before: HashMap<([u32; 3], [u64; 3], TimingMethod), &HistoryRecord> =
                HashMap::new();
            let runs = records
                .iter()
                .map(|&(id, r)| {
                    let key = (r.workgroup_size, r.problem_size, r.timing_method);
                    let best = best_before.get(&key).copied();
                    if r.median_ms > 0.0 && best.is_none_or(|b| r.median_ms < b.median_ms) {
                        best_before.insert(key, r);
                    }
                    Run {
                        id,
                        record: r,
                        regression: best
                            .and_then(|b| detect_regression(r, std::slice::from_ref(b))),
                        swept_out: r
                            .sweep
                            .is_some_and(|s| sweep_best.get(&s).is_some_and(|b| b.0 != id)),
                    }
                })
                .collect();
            Group {
                file,
                kernel,
                adapter,
                runs,
            }
        })
        .collect()
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn dims<T: std::fmt::Display>(d: &[T; 3]) -> String {
    format!("{}×{}×{}", d[0], d[1], d[2])
}

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #656d76; --line: #d0d7de;
  --card: #f6f8fa; --accent: #0969da; --good: #1a7f37; --bad: #cf222e; --band: rgba(9,105,218,0.14);
  --s0: #0969da; --s1: #8250df; --s2: #bf8700; --s3: #1b7c83; --s4: #bc4c00; --s5: #4d2d00; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --line: #30363d; --card: #161b22;
    --accent: #4493f8; --good: #3fb950; --bad: #f85149; --band: rgba(68,147,248,0.18);
    --s0: #4493f8; --s1: #a371f7; --s2: #d29922; --s3: #39c5cf; --s4: #f0883e; --s5: #e3b341; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1100px; padding: 24px 32px 64px; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 0; }
h3 { font-size: 1em; margin: 20px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9em; }
.muted { color: var(--muted); }
a { color: var(--accent); }
section.kernel { border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px; margin: 22px 0;
  background: var(--card); }
.meta { color: var(--muted); margin: 2px 0 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; font-size: .92em; }
th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; white-space: nowrap; padding: 0 8px; border-radius: 999px; font-size: .85em; font-weight: 600; }
.badge.bad { background: var(--bad); color: #fff; }
.badge.good { background: var(--good); color: #fff; }
.charts { display: flex; flex-wrap: wrap; gap: 12px 24px; }
figure { margin: 0; }
figcaption { font-weight: 600; margin: 8px 0 2px; }
svg.chart { display: block; max-width: 100%; height: auto; }
svg.chart text { fill: var(--muted); font: 11px system-ui, sans-serif; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .axis { stroke: var(--muted); stroke-width: 1; }
svg.chart .band { stroke: none; }
svg.chart line.whisker { stroke-width: 1.5; stroke-opacity: .55; }
svg.chart polyline { fill: none; stroke-width: 2; }
svg.chart circle { stroke: var(--bg); stroke-width: 1.5; }
svg.chart circle.regression { fill: var(--bad); stroke: var(--bad); stroke-width: 2; fill-opacity: .25; }
svg.chart rect.bar { fill: var(--accent); }
svg.chart polyline.native { stroke: var(--fg); stroke-dasharray: 5 4; stroke-width: 1.5; }
svg.chart rect.native { fill: var(--fg); }
.legend i.native { background: var(--fg); }
svg.chart rect.bar.best { fill: var(--good); }
.legend span { margin-right: 14px; white-space: nowrap; }
.legend i { display: inline-block; width: 12px; height: 3px; margin-right: 5px; vertical-align: middle; }
details summary { cursor: pointer; color: var(--accent); margin-top: 14px; }
p.empty { font-size: 1.1em; padding: 28px; border: 1px dashed var(--line); border-radius: 10px; }
"#;

/// Colour class of a configuration's series (cycles after six).
fn series_class(i: usize) -> String {
    format!("s{}", i % 6)
}

/// Renders the page.
pub fn render_dashboard(input: &DashboardInput<'_>) -> String {
    let groups = groups(input.runs);
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing may be fetched: the page works offline and in a webview.
    html.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
    html.push_str("<title>cudalens benchmark dashboard</title>\n<style>");
    html.push_str(STYLE);
    for i in 0..6 {
        let _ = writeln!(
            html,
            "svg.chart .s{i} {{ stroke: var(--s{i}); fill: var(--s{i}); }} svg.chart polyline.s{i} {{ fill: none; }} svg.chart .band.s{i} {{ fill: var(--s{i}); fill-opacity: .15; stroke: none; }} .legend i.s{i} {{ background: var(--s{i}); }}"
        );
    }
    html.push_str("</style>\n</head>\n<body>\n");
    html.push_str("<header>\n<h1>Benchmark dashboard</h1>\n");
    let kernels = groups.len();
    let runs = input.runs.len();
    let _ = writeln!(
        html,
        "<p class=\"meta\">{runs} run{} of {kernels} kernel{} in <code>{}</code> · generated {} UTC by cudalens</p>\n</header>",
        plural(runs),
        plural(kernels),
        escape_html(input.source),
        format_utc(input.generated_ms)
    );
    if groups.is_empty() {
        html.push_str(if input.runs.is_empty() {
            "<p class=\"empty\" id=\"empty\">No benchmark runs recorded yet. Run <code>cudalens bench FILE --kernel NAME</code> (or the ▶ Benchmark code lens) to record one, then make this report again.</p>\n"
        } else {
            "<p class=\"empty\" id=\"empty\">The history holds no run with a time that can be shown.</p>\n"
        });
        html.push_str("</body>\n</html>\n");
        return html;
    }
    summary_table(&mut html, &groups);
    for (i, group) in groups.iter().enumerate() {
        kernel_section(&mut html, i, group);
    }
    html.push_str("<footer class=\"muted\"><p>Times are medians per launch; the band spans the fastest launch to the 95th percentile. A run is a regression when its median is more than 10% slower than the best earlier run of the same workgroup and problem size. Native/WGSL above 1 means the WGSL kernel is faster.</p></footer>\n");
    html.push_str("</body>\n</html>\n");
    html
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn timeline<'g, 'a>(group: &'g Group<'a>) -> Vec<&'g Run<'a>> {
    let line: Vec<&Run> = group.runs.iter().filter(|r| !r.swept_out).collect();
    let skip = line.len().saturating_sub(MAX_CHART_RUNS);
    line.into_iter().skip(skip).collect()
}

fn summary_table(html: &mut String, groups: &[Group<'_>]) {
    html.push_str("<div class=\"scroll\"><table class=\"summary\">\n<thead><tr><th>kernel</th><th>file</th><th>adapter</th><th class=\"num\">runs</th><th class=\"num\">latest ms</th><th class=\"num\">best ms</th><th class=\"num\">latest GB/s</th><th class=\"num\">native/WGSL</th><th>status</th></tr></thead>\n<tbody>\n");
    for (i, g) in groups.iter().enumerate() {
        let line = timeline(g);
        let Some(latest) = line.last() else { continue };
        let best = g
            .runs
            .iter()
            .map(|r| r.record.median_ms)
            .fold(f64::INFINITY, f64::min);
        let ratio = g
            .runs
            .iter()
            .rev()
            .find_map(|r| native_ratio(r.record))
            .map_or_else(|| "–".to_string(), |x| format!("{x:.2}"));
        let status = match latest.regression {
            Some(reg) => format!(
                "<span class=\"badge bad\">regression +{:.0}%</span>",
                reg.slowdown * 100.0
            ),
            None => "<span class=\"badge good\">ok</span>".to_string(),
        };
        let _ = writeln!(
            html,
            "<tr><td><a href=\"#kernel-{i}\"><code>{}</code></a></td><td><code>{}</code></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{ratio}</td><td>{status}</td></tr>",
            escape_html(g.kernel),
            escape_html(g.file),
            escape_html(g.adapter),
            g.runs.len(),
            format_ms(latest.record.median_ms),
            format_ms(best),
            format_gbs(latest.record.gb_per_s),
        );
    }
    html.push_str("</tbody>\n</table></div>\n");
}

/// GB/s with three significant digits at least (a slow kernel's 0.00335).
fn format_gbs(x: f64) -> String {
    let x = finite_or_zero(x);
    if x >= 100.0 || x == 0.0 {
        format!("{x:.1}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        let decimals = (2 - x.log10().floor() as i32).clamp(2, 12) as usize;
        format!("{x:.decimals$}")
    }
}

fn finite_or_zero(x: f64) -> f64 {
    if x.is_finite() { x } else { 0.0 }
}

/// The run's (min, p95) spread when both are usable numbers.
fn spread(r: &HistoryRecord) -> Option<(f64, f64)> {
    r.min_ms
        .zip(r.p95_ms)
        .filter(|(lo, hi)| lo.is_finite() && hi.is_finite() && *lo >= 0.0 && lo <= hi)
}

/// native / WGSL (above 1: WGSL faster), when the run has a usable native time.
fn native_ratio(r: &HistoryRecord) -> Option<f64> {
    let native = r.native_ms.filter(|n| n.is_finite() && *n > 0.0)?;
    (r.median_ms > 0.0).then(|| native / r.median_ms)
}

fn adapter_line(r: &HistoryRecord) -> String {
    match &r.adapter_info {
        Some(info) => escape_html(&format!(
            "{} · {} · {} · driver {} {}",
            r.adapter, info.backend, info.device_type, info.driver, info.driver_info
        )),
        None => format!(
            "{} <span class=\"muted\">(backend and driver not recorded)</span>",
            escape_html(&r.adapter)
        ),
    }
}

fn kernel_section(html: &mut String, index: usize, group: &Group<'_>) {
    let line = timeline(group);
    let _ = writeln!(
        html,
        "<section class=\"kernel\" id=\"kernel-{index}\" data-kernel=\"{}\">\n<h2><code>{}</code></h2>\n<p class=\"meta\"><code>{}</code> · {}</p>",
        escape_html(group.kernel),
        escape_html(group.kernel),
        escape_html(group.file),
        line.last()
            .map_or_else(String::new, |r| adapter_line(r.record))
    );

    // One series per configuration: only those compare (`same_configuration`).
    let mut configs: Vec<([u32; 3], [u64; 3], TimingMethod)> = Vec::new();
    for r in &line {
        let key = (
            r.record.workgroup_size,
            r.record.problem_size,
            r.record.timing_method,
        );
        if !configs.contains(&key) {
            configs.push(key);
        }
    }
    let series_of = |r: &Run| {
        configs
            .iter()
            .position(|c| {
                *c == (
                    r.record.workgroup_size,
                    r.record.problem_size,
                    r.record.timing_method,
                )
            })
            .unwrap_or(0)
    };
    if group.runs.iter().filter(|r| !r.swept_out).count() > line.len() {
        let _ = writeln!(
            html,
            "<p class=\"muted\">The charts show the newest {MAX_CHART_RUNS} runs.</p>"
        );
    }
    html.push_str("<div class=\"legend\">");
    for (i, (wg, problem, method)) in configs.iter().enumerate() {
        // Runs timed another way are another series (never compared).
        let timed = match method {
            TimingMethod::OnePerPass => "",
            TimingMethod::BetweenDispatches => " · timed between dispatches",
            TimingMethod::PassAverage => " · batched dispatches",
        };
        let _ = write!(
            html,
            "<span><i class=\"{}\"></i>block {} · problem {}{timed}</span>",
            series_class(i),
            dims(wg),
            dims(problem)
        );
    }
    if line.iter().any(|r| r.record.native_ms.is_some()) {
        html.push_str("<span><i class=\"native\"></i>native CUDA (nvcc), same launch</span>");
    }
    html.push_str("</div>\n<div class=\"charts\">\n");
    let points = |value: &dyn Fn(&Run) -> f64, band: bool| -> Vec<Point> {
        line.iter()
            .enumerate()
            .map(|(x, r)| Point {
                x,
                y: finite_or_zero(value(r)),
                band: if band { spread(r.record) } else { None },
                series: series_of(r),
                regression: r.regression,
                title: run_title(r),
                native: if band {
                    r.record.native_ms.filter(|n| n.is_finite() && *n >= 0.0)
                } else {
                    None
                },
            })
            .collect()
    };
    let time_points = points(&|r: &Run| r.record.median_ms, true);
    let _ = writeln!(
        html,
        "<figure><figcaption>Median time per launch</figcaption>\n{}</figure>",
        line_chart("time", "ms", &time_points, configs.len())
    );
    let bw_points = points(&|r: &Run| r.record.gb_per_s, false);
    let _ = writeln!(
        html,
        "<figure><figcaption>Bandwidth</figcaption>\n{}</figure>",
        line_chart("bandwidth", "GB/s", &bw_points, configs.len())
    );
    html.push_str("</div>\n");

    regressions_table(html, group);
    native_table(html, group);
    last_sweep(html, group);
    runs_table(html, group);
    html.push_str("</section>\n");
}

fn run_title(r: &Run) -> String {
    let rec = r.record;
    let mut t = format!(
        "run {} · {} UTC · block {} · median {} ms · {} GB/s",
        r.id,
        format_utc(rec.timestamp_ms),
        dims(&rec.workgroup_size),
        format_ms(rec.median_ms),
        format_gbs(rec.gb_per_s)
    );
    if let Some((lo, hi)) = spread(rec) {
        let _ = write!(t, " (min {} – p95 {} ms)", format_ms(lo), format_ms(hi));
    }
    if let Some(reg) = r.regression {
        let _ = write!(
            t,
            " · REGRESSION +{:.0}% vs best {} ms",
            reg.slowdown * 100.0,
            format_ms(reg.best_previous_ms)
        );
    }
    t
}

struct Point {
    /// Index on the time line (0 = oldest shown).
    x: usize,
    y: f64,
    /// (min, p95), drawn as a band around the line.
    band: Option<(f64, f64)>,
    series: usize,
    regression: Option<Regression>,
    title: String,
    /// The same launch's native CUDA median, drawn as a dashed second line.
    native: Option<f64>,
}

const CHART_W: f64 = 470.0;
const CHART_H: f64 = 240.0;
const LEFT: f64 = 62.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 42.0;

/// Axis ticks: 0 up to a round maximum of steps of 1, 2 or 5 × 10^k.
fn ticks(max: f64) -> (f64, Vec<f64>) {
    if !(max.is_finite() && max > 0.0) {
        return (1.0, vec![0.0, 0.5, 1.0]);
    }
    let rough = max / 4.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= rough)
        .unwrap_or(10.0 * magnitude);
    let n = (max / step).ceil().max(1.0) as usize;
    let ticks = (0..=n).map(|i| i as f64 * step).collect();
    (n as f64 * step, ticks)
}

fn tick_label(v: f64, step: f64) -> String {
    // As many decimals as the step needs (0.25 needs two).
    let decimals = (0..12)
        .find(|d| {
            let scaled = step * 10f64.powi(*d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .unwrap_or(12) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A line chart of `points` (one polyline per series, x = run order), with
/// y ticks in `unit`, min–p95 bands and regressions ringed in red.
fn line_chart(kind: &str, unit: &str, points: &[Point], series: usize) -> String {
    let plot_w = CHART_W - LEFT - RIGHT;
    let plot_h = CHART_H - TOP - BOTTOM;
    let max = points
        .iter()
        .map(|p| {
            let high = p.band.map_or(p.y, |(_, hi)| hi.max(p.y));
            p.native.map_or(high, |n| n.max(high))
        })
        .fold(0.0_f64, f64::max);
    let (top, ys) = ticks(max);
    let step = ys.get(1).copied().unwrap_or(1.0);
    let n = points.len();
    let x_of = |x: usize| {
        if n <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * x as f64 / (n - 1) as f64
        }
    };
    let y_of = |v: f64| TOP + plot_h * (1.0 - (v / top).clamp(0.0, 1.0));
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg class=\"chart chart-{kind}\" data-points=\"{n}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{CHART_W}\" height=\"{CHART_H}\" viewBox=\"0 0 {CHART_W} {CHART_H}\" role=\"img\" aria-label=\"{kind} in {unit} over {n} runs\">"
    );
    for v in &ys {
        let y = y_of(*v);
        let _ = writeln!(
            svg,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT + plot_w,
            LEFT - 6.0,
            y + 4.0,
            tick_label(*v, step)
        );
    }
    let _ = writeln!(
        svg,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{LEFT}\" y1=\"{TOP}\" y2=\"{:.1}\"/><line class=\"axis\" x1=\"{LEFT}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
        TOP + plot_h,
        LEFT + plot_w,
        TOP + plot_h,
        TOP + plot_h
    );
    let _ = writeln!(
        svg,
        "<text x=\"14\" y=\"{:.1}\" transform=\"rotate(-90 14 {:.1})\" text-anchor=\"middle\">{unit}</text>",
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    // At most about ten labelled runs on the x axis.
    let every = n.div_ceil(10).max(1);
    for x in (0..n).filter(|x| x % every == 0 || *x == n - 1) {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x_of(x),
            TOP + plot_h + 16.0,
            x + 1
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">run (oldest → newest)</text>",
        LEFT + plot_w / 2.0,
        CHART_H - 6.0
    );
    for s in 0..series {
        let mine: Vec<&Point> = points.iter().filter(|p| p.series == s).collect();
        let banded: Vec<(usize, (f64, f64))> = mine
            .iter()
            .filter_map(|p| p.band.map(|b| (p.x, b)))
            .collect();
        if banded.len() >= 2 {
            let mut pts: Vec<String> = banded
                .iter()
                .map(|(x, (_, hi))| format!("{:.1},{:.1}", x_of(*x), y_of(*hi)))
                .collect();
            pts.extend(
                banded
                    .iter()
                    .rev()
                    .map(|(x, (lo, _))| format!("{:.1},{:.1}", x_of(*x), y_of(*lo))),
            );
            let _ = writeln!(
                svg,
                "<polygon class=\"band {}\" points=\"{}\"/>",
                series_class(s),
                pts.join(" ")
            );
        }
        // Each run's own spread too: a lone run has no band to show it.
        for (x, (lo, hi)) in &banded {
            let _ = writeln!(
                svg,
                "<line class=\"whisker {}\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/>",
                series_class(s),
                y_of(*lo),
                y_of(*hi),
                x = x_of(*x),
            );
        }
        let line: Vec<String> = mine
            .iter()
            .map(|p| format!("{:.1},{:.1}", x_of(p.x), y_of(p.y)))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline class=\"{}\" data-series=\"{s}\" points=\"{}\"/>",
            series_class(s),
            line.join(" ")
        );
    }
    let native: Vec<&Point> = points.iter().filter(|p| p.native.is_some()).collect();
    if !native.is_empty() {
        let line: Vec<String> = native
            .iter()
            .map(|p| format!("{:.1},{:.1}", x_of(p.x), y_of(p.native.unwrap_or_default())))
            .collect();
        let _ = writeln!(
            svg,
            "<polyline class=\"native\" data-series=\"native\" points=\"{}\"/>",
            line.join(" ")
        );
        for p in &native {
            let n = p.native.unwrap_or_default();
            let (x, y) = (x_of(p.x), y_of(n));
            let _ = writeln!(
                svg,
                "<rect class=\"native\" x=\"{:.1}\" y=\"{:.1}\" width=\"7\" height=\"7\"><title>native CUDA {} ms (WGSL {} ms)</title></rect>",
                x - 3.5,
                y - 3.5,
                format_ms(n),
                format_ms(p.y)
            );
        }
    }
    for p in points {
        let (class, r) = match p.regression {
            Some(_) => ("regression".to_string(), 6.5),
            None => (series_class(p.series), 4.0),
        };
        let _ = writeln!(
            svg,
            "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"{r}\"><title>{}</title></circle>",
            x_of(p.x),
            y_of(p.y),
            escape_html(&p.title)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn regressions_table(html: &mut String, group: &Group<'_>) {
    let mut flagged: Vec<&Run> = group
        .runs
        .iter()
        .rev()
        .filter(|r| !r.swept_out && r.regression.is_some())
        .take(MAX_TABLE_RUNS)
        .collect();
    flagged.reverse();
    if flagged.is_empty() {
        return;
    }
    html.push_str("<h3>Regressions</h3>\n<table class=\"regressions\">\n<thead><tr><th>run</th><th>when (UTC)</th><th>block</th><th class=\"num\">median ms</th><th class=\"num\">best before</th><th class=\"num\">slower by</th><th>WGSL</th></tr></thead>\n<tbody>\n");
    for r in flagged {
        let Some(reg) = r.regression else { continue };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\"><span class=\"badge bad\">+{:.0}%</span></td><td><code>{}</code></td></tr>",
            r.id,
            format_utc(r.record.timestamp_ms),
            dims(&r.record.workgroup_size),
            format_ms(reg.median_ms),
            format_ms(reg.best_previous_ms),
            reg.slowdown * 100.0,
            escape_html(short_hash(&r.record.wgsl_hash))
        );
    }
    html.push_str("</tbody>\n</table>\n");
}

fn short_hash(h: &str) -> &str {
    h.char_indices().nth(8).map_or(h, |(i, _)| &h[..i])
}

fn native_table(html: &mut String, group: &Group<'_>) {
    let mut native: Vec<(&Run, f64)> = group
        .runs
        .iter()
        .rev()
        .filter_map(|r| native_ratio(r.record).map(|x| (r, x)))
        .take(MAX_TABLE_RUNS)
        .collect();
    native.reverse();
    if native.is_empty() {
        return;
    }
    html.push_str("<h3>Native CUDA vs WGSL</h3>\n<table class=\"native\">\n<thead><tr><th>run</th><th>when (UTC)</th><th>block</th><th class=\"num\">native ms</th><th class=\"num\">WGSL ms</th><th class=\"num\">native/WGSL</th></tr></thead>\n<tbody>\n");
    for (r, ratio) in native {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{ratio:.2}</td></tr>",
            r.id,
            format_utc(r.record.timestamp_ms),
            dims(&r.record.workgroup_size),
            format_ms(r.record.native_ms.unwrap_or_default()),
            format_ms(r.record.median_ms),
        );
    }
    html.push_str("</tbody>\n</table>\n");
}

fn last_sweep(html: &mut String, group: &Group<'_>) {
    let Some(id) = group.runs.iter().rev().find_map(|r| r.record.sweep) else {
        return;
    };
    let mut candidates: Vec<&HistoryRecord> = group
        .runs
        .iter()
        .map(|r| r.record)
        .filter(|r| r.sweep == Some(id))
        .collect();
    // Smallest block first (the best is recorded last, whatever its size).
    candidates.sort_by_key(|r| {
        let [x, y, z] = r.workgroup_size.map(u64::from);
        (x * y * z, r.workgroup_size)
    });
    let best = candidates
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.median_ms.total_cmp(&b.1.median_ms))
        .map(|(i, _)| i);
    let _ = writeln!(
        html,
        "<h3>Last autotune sweep</h3>\n<p class=\"meta\">{} UTC · problem {} · {} candidate{} measured</p>\n{}",
        format_utc(id),
        candidates
            .first()
            .map_or_else(String::new, |r| dims(&r.problem_size)),
        candidates.len(),
        plural(candidates.len()),
        sweep_chart(&candidates, best)
    );
}

/// Horizontal bars: block size → median ms, the best in green.
fn sweep_chart(candidates: &[&HistoryRecord], best: Option<usize>) -> String {
    const ROW: f64 = 24.0;
    const LABEL: f64 = 96.0;
    const WIDTH: f64 = 640.0;
    const VALUE: f64 = 120.0;
    let plot_w = WIDTH - LABEL - VALUE;
    let max = candidates
        .iter()
        .map(|r| r.median_ms)
        .fold(0.0_f64, f64::max);
    let (top, xs) = ticks(max);
    let step = xs.get(1).copied().unwrap_or(1.0);
    let plot_h = ROW * candidates.len() as f64;
    let height = plot_h + 44.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<svg class=\"chart chart-sweep\" data-bars=\"{}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"median ms per block size\">",
        candidates.len()
    );
    let x_of = |v: f64| LABEL + plot_w * (v / top).clamp(0.0, 1.0);
    for v in &xs {
        let x = x_of(*v);
        let _ = writeln!(
            svg,
            "<line class=\"grid\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"4\" y2=\"{:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            plot_h + 4.0,
            plot_h + 18.0,
            tick_label(*v, step)
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">median ms per launch (lower is better)</text>",
        LABEL + plot_w / 2.0,
        plot_h + 36.0
    );
    for (i, r) in candidates.iter().enumerate() {
        let y = 4.0 + i as f64 * ROW;
        let is_best = best == Some(i);
        let w = (x_of(r.median_ms) - LABEL).max(1.0);
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text><rect class=\"bar{}\" x=\"{LABEL}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"2\"><title>block {} · median {} ms · {} GB/s</title></rect><text x=\"{:.1}\" y=\"{:.1}\">{} ms{}</text>",
            LABEL - 8.0,
            y + 15.0,
            dims(&r.workgroup_size),
            if is_best { " best" } else { "" },
            y + 3.0,
            ROW - 6.0,
            dims(&r.workgroup_size),
            format_ms(r.median_ms),
            format_gbs(r.gb_per_s),
            LABEL + w + 6.0,
            y + 15.0,
            format_ms(r.median_ms),
            if is_best { " ★ best" } else { "" }
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn runs_table(html: &mut String, group: &Group<'_>) {
    let _ = writeln!(
        html,
        "<details>\n<summary>All {} run{} (adapter, driver, WGSL hash)</summary>\n<table class=\"runs\">\n<thead><tr><th>run</th><th>when (UTC)</th><th>block</th><th>problem</th><th class=\"num\">median ms</th><th class=\"num\">min – p95 ms</th><th class=\"num\">GB/s</th><th class=\"num\">native ms</th><th>adapter</th><th>WGSL</th><th>flag</th></tr></thead>\n<tbody>",
        group.runs.len(),
        plural(group.runs.len())
    );
    for r in group.runs.iter().rev().take(MAX_TABLE_RUNS) {
        let rec = r.record;
        let spread = spread(rec).map_or_else(
            || "–".to_string(),
            |(lo, hi)| format!("{} – {}", format_ms(lo), format_ms(hi)),
        );
        let native = rec
            .native_ms
            .filter(|n| n.is_finite())
            .map_or_else(|| "–".to_string(), format_ms);
        let flag = match (r.regression, r.swept_out) {
            (Some(reg), false) => format!(
                "<span class=\"badge bad\">regression +{:.0}%</span>",
                reg.slowdown * 100.0
            ),
            (_, true) => "<span class=\"muted\">sweep candidate</span>".into(),
            (None, false) => String::new(),
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{spread}</td><td class=\"num\">{}</td><td class=\"num\">{native}</td><td>{}</td><td><code>{}</code></td><td>{flag}</td></tr>",
            r.id,
            format_utc(rec.timestamp_ms),
            dims(&rec.workgroup_size),
            dims(&rec.problem_size),
            format_ms(rec.median_ms),
            format_gbs(rec.gb_per_s),
            adapter_line(rec),
            escape_html(short_hash(&rec.wgsl_hash)),
        );
    }
    html.push_str("</tbody>\n</table>\n");
    if group.runs.len() > MAX_TABLE_RUNS {
        let _ = writeln!(
            html,
            "<p class=\"muted\">The newest {MAX_TABLE_RUNS} are listed; `cudalens history --export` has them all.</p>"
        );
    }
    html.push_str("</details>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::AdapterInfo;

    const DAY: u64 = 86_400_000;
    const T0: u64 = 1_767_225_600_000; // 2026-01-01

    fn run(kernel: &str, wg: u32, median_ms: f64, t: u64) -> HistoryRecord {
        HistoryRecord {
            timestamp_ms: t,
            file: "kernels/saxpy.cu".into(),
            kernel: kernel.into(),
            adapter: "llvmpipe (LLVM 19.1.7, 256 bits)".into(),
            workgroup_size: [wg, 1, 1],
            problem_size: [1 << 20, 1, 1],
            median_ms,
            gb_per_s: 12.0 / median_ms,
            wgsl_hash: "0123456789abcdef".into(),
            min_ms: Some(median_ms * 0.9),
            p95_ms: Some(median_ms * 1.2),
            adapter_info: Some(AdapterInfo {
                backend: "Vulkan".into(),
                device_type: "Cpu".into(),
                driver: "llvmpipe".into(),
                driver_info: "Mesa 25.0.7".into(),
            }),
            ..HistoryRecord::default()
        }
    }

    /// Three saxpy runs (the third a regression, the second with a native
    /// time), a sweep of three candidates, and an old-format run of another kernel.
    fn history() -> Vec<(u64, HistoryRecord)> {
        let mut runs = vec![
            run("saxpy", 256, 1.00, T0),
            run("saxpy", 256, 0.95, T0 + DAY),
            run("saxpy", 256, 1.40, T0 + 2 * DAY),
        ];
        runs[1].native_ms = Some(0.76);
        for (wg, ms) in [(64, 1.3), (128, 1.1), (256, 0.9)] {
            let mut r = run("saxpy", wg, ms, T0 + 3 * DAY);
            r.sweep = Some(T0 + 3 * DAY);
            runs.push(r);
        }
        runs.push(HistoryRecord {
            min_ms: None,
            p95_ms: None,
            adapter_info: None,
            file: "kernels/reduce.cu".into(),
            ..run("reduce", 128, 2.5, T0)
        });
        runs.into_iter()
            .enumerate()
            .map(|(i, r)| (i as u64 + 1, r))
            .collect()
    }

    fn page(runs: &[(u64, HistoryRecord)]) -> String {
        render_dashboard(&DashboardInput {
            runs,
            source: "/work/project/.cudalens/history.redb",
            generated_ms: T0 + 4 * DAY,
        })
    }

    #[test]
    fn dashboard_snapshot() {
        insta::assert_snapshot!(page(&history()));
    }

    #[test]
    fn marks_the_regression_on_the_chart_and_in_the_table() {
        let html = page(&history());
        let saxpy = &html[html.find("id=\"kernel-1\"").unwrap()..];
        // Run 3 is 47% slower than run 2's 0.95 ms.
        assert!(saxpy.contains("<circle class=\"regression\""));
        assert!(saxpy.contains("<h3>Regressions</h3>"));
        assert!(saxpy.contains("+47%"));
        assert!(saxpy.contains("REGRESSION +47% vs best 0.9500 ms"));
        // The sweep's best (0.9 ms) stands for the sweep: 4 points on the time line.
        assert!(saxpy.contains("class=\"chart chart-time\" data-points=\"4\""));
    }

    #[test]
    fn shows_native_time_and_ratio() {
        let html = page(&history());
        assert!(html.contains("<h3>Native CUDA vs WGSL</h3>"));
        // On the time chart: one native point, on run 2.
        assert_eq!(html.matches("<rect class=\"native\"").count(), 1);
        assert!(html.contains("native CUDA 0.7600 ms (WGSL 0.9500 ms)"));
        // 0.76 / 0.95
        assert!(html.contains(
            "<td class=\"num\">0.7600</td><td class=\"num\">0.9500</td><td class=\"num\">0.80</td>"
        ));
    }

    #[test]
    fn shows_the_last_sweep_with_its_best_bar() {
        let html = page(&history());
        assert!(html.contains("data-bars=\"3\""));
        assert_eq!(html.matches("class=\"bar best\"").count(), 1);
        assert!(html.contains("0.9000 ms ★ best"));
    }

    #[test]
    fn escapes_every_string_from_the_history() {
        let mut r = run("<script>alert(1)</script>", 256, 1.0, T0);
        r.file = "a\"b'<i>.cu".into();
        r.adapter = "GPU & <b>co</b>".into();
        r.wgsl_hash = "<hash>".into();
        r.adapter_info.as_mut().unwrap().driver_info = "<img src=x>".into();
        let html = page(&[(1, r)]);
        assert!(!html.contains("<script"));
        assert!(!html.contains("<i>"));
        assert!(!html.contains("<b>"));
        assert!(!html.contains("<img"));
        assert!(!html.contains("<hash>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("a&quot;b&#39;&lt;i&gt;.cu"));
        assert!(html.contains("GPU &amp; &lt;b&gt;co&lt;/b&gt;"));
    }

    #[test]
    fn an_empty_history_says_so() {
        let html = page(&[]);
        assert!(html.contains("No benchmark runs recorded yet"));
        assert!(html.contains("0 runs of 0 kernels"));
        assert!(!html.contains("<svg"));
        assert!(html.ends_with("</html>\n"));
    }

    #[test]
    fn survives_unusable_numbers() {
        let mut bad = run("k", 0, f64::NAN, T0);
        bad.gb_per_s = f64::INFINITY;
        let mut huge = run("k", 256, 1e300, T0 + 1);
        huge.gb_per_s = f64::NAN;
        huge.min_ms = Some(f64::NEG_INFINITY);
        let zero = run("k", 256, 0.0, T0 + 2);
        let html = page(&[(1, bad), (2, huge), (3, zero)]);
        assert!(!html.contains("NaN"));
        assert!(!html.contains("inf ") && !html.contains("inf<") && !html.contains("inf)"));
        assert!(html.contains("data-points=\"2\""));
        let only_nan = page(&[(1, run("k", 1, f64::NAN, T0))]);
        assert!(only_nan.contains("no run with a time"));
    }

    #[test]
    fn a_long_history_stays_fast_and_bounded() {
        let runs: Vec<(u64, HistoryRecord)> = (0..20_000u64)
            .map(|i| (i + 1, run("saxpy", 256, 1.0 + (i % 7) as f64 * 0.1, T0 + i)))
            .collect();
        let start = std::time::Instant::now();
        let html = page(&runs);
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        assert!(html.contains(&format!("data-points=\"{MAX_CHART_RUNS}\"")));
        assert!(html.contains("The charts show the newest 200 runs."));
        let table_rows = |class: &str| {
            let table = &html[html.find(&format!("<table class=\"{class}\">")).unwrap()..];
            table[..table.find("</table>").unwrap()]
                .matches("<tr><td>")
                .count()
        };
        assert_eq!(table_rows("runs"), MAX_TABLE_RUNS);
        assert_eq!(table_rows("regressions"), MAX_TABLE_RUNS);
    }

    #[test]
    fn the_page_fetches_nothing() {
        let html = page(&history());
        // SVG's namespace is an identifier, never fetched.
        let without_ns = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!without_ns.contains("http:") && !without_ns.contains("https:"));
        assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("@import"));
    }

    #[test]
    fn bandwidth_keeps_three_significant_digits() {
        assert_eq!(format_gbs(0.003_354), "0.00335");
        assert_eq!(format_gbs(0.5), "0.500");
        assert_eq!(format_gbs(13.333), "13.33");
        assert_eq!(format_gbs(2039.4), "2039.4");
        assert_eq!(format_gbs(f64::NAN), "0.0");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(0.95).1, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(ticks(140.0).0, 150.0);
        assert_eq!(tick_label(0.25, 0.25), "0.25");
        assert_eq!(tick_label(100.0, 50.0), "100");
    }
}
