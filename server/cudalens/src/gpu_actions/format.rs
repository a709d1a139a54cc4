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
