//! `check --baseline FILE`: adopt cudalens on an existing code base without
//! fixing everything first. The first run (or `--update-baseline`) records
//! the current findings by fingerprint; later runs report and fail only on
//! findings not in the file, and say which recorded ones are gone.
//!
//! Findings are matched by path, code and [fingerprint](super::findings),
//! counted (two identical findings need two entries), so lines inserted above
//! a recorded finding keep it recorded.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::findings::Finding;

const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// One recorded finding. `line` and `message` only help a reviewer read the
/// file; matching uses `path`, `code` and `fingerprint`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub path: String,
    pub code: String,
    pub fingerprint: String,
    pub line: u32,
    pub message: String,
}

type Key = (String, String, String);

fn key(path: &str, code: &str, fingerprint: &str) -> Key {
    (path.to_string(), code.to_string(), fingerprint.to_string())
}

impl Baseline {
    /// `Ok(None)` when `path` does not exist yet.
    pub fn read(path: &Path) -> Result<Option<Baseline>, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read the baseline {}: {e}", path.display())),
        };
        let baseline: Baseline = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a cudalens baseline: {e}", path.display()))?;
        if baseline.version != VERSION {
            return Err(format!(
                "{}: baseline version {} (this cudalens reads version {VERSION})",
                path.display(),
                baseline.version
            ));
        }
        Ok(Some(baseline))
    }

    /// The baseline of `findings`, sorted by path and line.
    pub fn of(findings: &[&Finding]) -> Baseline {
        let mut entries: Vec<Entry> = findings
            .iter()
            .map(|f| Entry {
                path: f.path.clone(),
                code: f.code.to_string(),
                fingerprint: f.fingerprint.clone(),
                line: f.region.start_line,
                message: f.message.clone(),
            })
            .collect();
        entries.sort_by(|a, b| (&a.path, a.line, &a.code).cmp(&(&b.path, b.line, &b.code)));
        Baseline {
            version: VERSION,
            findings: entries,
        }
    }

    pub fn write(&self, path: &Path) -> Result<(), String> {
        let json = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        std::fs::write(path, json + "\n")
            .map_err(|e| format!("cannot write the baseline {}: {e}", path.display()))
    }

    /// Marks the findings of one file recorded here as `baselined`, each entry
    /// matching at most one finding. Returns the entries used.
    pub fn mark(&self, findings: &mut [Finding]) -> Vec<Key> {
        let Some(path) = findings.first().map(|f| f.path.clone()) else {
            return Vec::new();
        };
        let mut available: HashMap<Key, usize> = HashMap::new();
        for e in self.findings.iter().filter(|e| e.path == path) {
            *available
                .entry(key(&e.path, &e.code, &e.fingerprint))
                .or_default() += 1;
        }
        let mut used = Vec::new();
        for f in findings.iter_mut() {
            let k = key(&f.path, f.code, &f.fingerprint);
            if let Some(n) = available.get_mut(&k).filter(|n| **n > 0) {
                *n -= 1;
                f.baselined = true;
                used.push(k);
            }
        }
        used
    }

    /// The entries no finding used: fixed (or changed) since recording.
    pub fn gone(&self, used: &[Key]) -> Vec<&Entry> {
        let mut left: HashMap<&Key, usize> = HashMap::new();
        for k in used {
            *left.entry(k).or_default() += 1;
        }
        self.findings
            .iter()
            .filter(
                |e| match left.get_mut(&key(&e.path, &e.code, &e.fingerprint)) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        false
                    }
                    _ => true,
                },
            )
            .collect()
    }
}
