//! Numbers in messages: `2,372 GB/s`, `0.0420 ms`, the one-line summary.

use cudalens_gpu::{AdapterReport, BenchmarkResult};

pub use cudalens_gpu::report::format_ms;

/// `1234567.8` → `1,234,568`; below 100 keeps decimals (`42.37`).
pub fn thousands(value: f64) -> String {
    if value.abs() < 100.0 {
        return format!("{value:.2}");
    }
    let digits = format!("{:.0}", value.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if value < 0.0 { format!("-{out}") } else { out }
}

/// `k: median 0.042 ms, 2,372 GB/s on NVIDIA H100 (Vulkan)`.
pub fn summary_line(result: &BenchmarkResult, adapter: &AdapterReport) -> String {
    format!(
        "{}: median {} ms, {} GB/s on {} ({})",
        result.kernel,
        format_ms(result.timing.median_ms),
        thousands(result.gb_per_s),
        adapter.name,
        adapter.backend
    )
}

/// `256`, `32×8`, `4×4×4`.
pub fn dims(d: [u32; 3]) -> String {
    match d {
        [x, 1, 1] => x.to_string(),
        [x, y, 1] => format!("{x}×{y}"),
        [x, y, z] => format!("{x}×{y}×{z}"),
    }
}

/// The program's own launch as the host code makes it: where, and grid,
/// block and each scalar with its provenance; a part that `source` (the
/// flags given) overrides says so.
pub fn host_lines(
    h: &cudalens_analysis::host_launch::HostLaunch,
    file: &str,
    source: &str,
    block: Option<[u32; 3]>,
) -> Vec<String> {
    let (grid_note, scalar_note) = match source {
        "flags" => (" [--grid given: not used]", " [--grid given: not used]"),
        "size" => (" [--size given: not used]", " [--size given: not used]"),
        _ => ("", ""),
    };
    let block_note = if h.block.value.is_some() && h.block.value != block {
        " [--block given: not used]"
    } else {
        ""
    };
    let mut out = vec![
        format!("host:      {}", h.location(file)),
        format!("  grid     {}{grid_note}", h.grid.describe()),
        format!("  block    {}{block_note}", h.block.describe()),
    ];
    for s in &h.scalars {
        out.push(format!("  {:<8} {}{scalar_note}", s.param, s.describe()));
    }
    // Only the allocations that resolved: an unresolved one adds nothing
    // the buffers line does not say.
    for b in h.buffers.iter().filter(|b| b.bytes.is_some()) {
        out.push(format!("  {:<8} {}{scalar_note}", b.param, b.describe()));
    }
    out
}

/// What a benchmark ran and where each part came from, one `label: value`
/// line each: the program's launch when the host code was read (with what
/// it assumes), the launch run, the scalars, the buffers and the globals.
/// `cudalens bench` prints it and every report (CLI and editor) holds it, so
/// no number is shown without the workload it measured.
pub fn launch_lines(l: &super::LaunchInfo, file: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(h) = &l.host {
        out.extend(host_lines(h, file, l.source, Some(l.block)));
        for a in h.launch_assumptions() {
            out.push(format!("assumed:   {a}"));
        }
    }
    let source = match l.source {
        "flags" => "from --grid/--block",
        "host" => "from the program's host code",
        "host-reblocked" => "the host code's grid × block, re-divided by --block",
        "launch" => "from the launch in the file",
        "size" => "from --size",
        _ => "default size",
    };
    out.push(format!(
        "launch:    grid {} × block {}, problem {} ({source})",
        dims(l.grid),
        dims(l.block),
        dims(l.problem_size)
    ));
    let args: Vec<String> = l
        .args
        .iter()
        .zip(
            l.arg_origins
                .iter()
                .map(Some)
                .chain(std::iter::repeat(None)),
        )
        .map(|((n, v), origin)| match origin.map(String::as_str) {
            Some("host") | None => format!("{n}={v}"),
            Some(o) => format!("{n}={v} ({o})"),
        })
        .collect();
    out.push(format!(
        "scalars:   {}",
        if args.is_empty() {
            "none".into()
        } else {
            args.join(", ")
        }
    ));
    let buffers: Vec<String> = l
        .extents
        .iter()
        .map(|(name, extent)| {
            let allocated = l
                .allocations
                .iter()
                .find_map(|(a, n)| (a == name).then_some(*n));
            if let Some((_, g)) = l.given.iter().find(|(g, _)| g == name) {
                return match extent {
                    Some(n) => {
                        format!("{name} {g} (given with --buffer; the kernel can index {n})")
                    }
                    None => format!("{name} {g} (given with --buffer)"),
                };
            }
            match (extent, allocated) {
                (Some(n), Some(a)) if a > *n => {
                    format!("{name} {a} (the program's allocation; the kernel can index {n})")
                }
                (Some(n), _) => format!("{name} {n} (what the kernel can index)"),
                (None, Some(a)) => {
                    format!("{name} {a} (the program's allocation; not bounded by the analysis)")
                }
                (None, None) => {
                    format!("{name} {} (not bounded by the analysis)", l.buffer_elements)
                }
            }
        })
        .collect();
    out.push(format!("buffers:   {} elements", buffers.join(", ")));
    for (name, elements, fill) in &l.globals {
        out.push(format!(
            "global:    {name} {elements} elements, filled with {fill}"
        ));
    }
    if let Some((bytes, origin)) = &l.dynamic_shared {
        out.push(format!(
            "shared:    {bytes} bytes of `extern __shared__` ({origin})"
        ));
    }
    if let Some(why) = &l.clamps_not_counted {
        out.push(format!("clamps:    not counted: {why}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(2372.4), "2,372");
        assert_eq!(thousands(1_234_567.0), "1,234,567");
        assert_eq!(thousands(42.371), "42.37");
        assert_eq!(thousands(999.0), "999");
    }
}
