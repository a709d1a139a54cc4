//! Measurements remembered across `tune` calls (and optionally loaded from a JSON-lines
//! file of `{"kernel": name, "block": [x,y,z], "median_ms": t}` records).

use std::collections::HashMap;
use std::path::Path;

use cudalens_plugin_protocol::Variant;
use serde_json::Value;

/// A measured block and its best median time in ms.
pub type Measurement = ([u32; 3], f64);

#[derive(Debug, Default)]
pub struct History {
    /// kernel name → (block, best median seen).
    best_by_kernel: HashMap<String, Vec<([u32; 3], f64)>>,
}

impl History {
    /// Loads records; unreadable lines are skipped (the file is advisory).
    pub fn load(path: &Path) -> History {
        let mut history = History::default();
        let Ok(text) = std::fs::read_to_string(path) else {
            return history;
        };
        for line in text.lines() {
            let Ok(record) = serde_json::from_str::<Value>(line) else {
                continue;
            };
            let kernel = record
                .get("kernel")
                .and_then(|k| k.as_str().or_else(|| k.get("name")?.as_str()));
            let block = record
                .get("block")
                .and_then(|b| serde_json::from_value::<[u32; 3]>(b.clone()).ok());
            let ms = record.get("median_ms").and_then(Value::as_f64);
            if let (Some(kernel), Some(block), Some(ms)) = (kernel, block, ms) {
                history.record(kernel, &Variant::with_block(block), ms);
            }
        }
        history
    }

    pub fn record(&mut self, kernel: &str, variant: &Variant, median_ms: f64) {
        if variant.unroll.is_some() || !median_ms.is_finite() || median_ms <= 0.0 {
            return; // only plain block-size measurements are comparable with the kernel's block
        }
        let entries = self.best_by_kernel.entry(kernel.to_owned()).or_default();
        match entries.iter_mut().find(|(b, _)| *b == variant.block) {
            Some(entry) => entry.1 = entry.1.min(median_ms),
            None => entries.push((variant.block, median_ms)),
        }
    }

    /// Fastest measured block for `kernel` and the time measured for `current`, if any.
    pub fn compare(&self, kernel: &str, current: [u32; 3]) -> Option<(Measurement, Option<f64>)> {
        let entries = self.best_by_kernel.get(kernel)?;
        let best = entries.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1))?;
        let current_ms = entries.iter().find(|(b, _)| *b == current).map(|e| e.1);
        Some((best, current_ms))
    }
}
