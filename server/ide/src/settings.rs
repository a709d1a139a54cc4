//! `cudalens.*` settings: parsing (from `workspace/configuration`,
//! `didChangeConfiguration` and `initializationOptions`) and defaults.
//! `server/cudalens/settings.schema.json` documents the same keys for the
//! VS Code extension; a test keeps the two in step.
//!
//! Parsing is lenient per key: a value of the wrong type falls back to the
//! default with a warning, so one typo does not reset every other setting.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde_json::Value;

use cudalens_analysis::{AnalysisConfig, diagnostic::rule_exists};
use cudalens_occupancy::Arch;
use cudalens_syntax::preprocess::include::CompileFlags;

use crate::pipeline::{parse_block, parse_define};

/// Where to find nvcc for exact register counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NvccSetting {
    /// Look for `nvcc` on PATH (the default).
    FromPath,
    /// `cudalens.nvcc.path` set to "": never run nvcc.
    Disabled,
    Explicit(PathBuf),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub arch: String,
    pub default_block: [u32; 3],
    pub include_paths: Vec<PathBuf>,
    pub defines: Vec<(String, String)>,
    pub disabled_rules: HashSet<String>,
    pub occupancy_threshold: f64,
    pub inlay_hints: bool,
    pub inlay_access_cost: bool,
    pub nvcc: NvccSetting,
    pub max_file_size_mb: u64,
    /// Seconds without an edit or request after which a document's tree and
    /// analysis caches are freed (0: never).
    pub hibernate_after_secs: u64,
    /// How many open documents keep their tree and analysis caches, most
    /// recently analysed first; the others hibernate at once (0: no limit).
    pub keep_analyzed_documents: usize,
    /// The user's plugin declarations, as given (parsed by the plugin host).
    pub plugins: Value,
    pub disabled_plugins: HashSet<String>,
    pub trust_workspace: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            arch: "sm_90".into(),
            default_block: [256, 1, 1],
            include_paths: Vec::new(),
            defines: Vec::new(),
            disabled_rules: HashSet::new(),
            occupancy_threshold: 0.5,
            inlay_hints: true,
            inlay_access_cost: false,
            nvcc: NvccSetting::FromPath,
            max_file_size_mb: 8,
            hibernate_after_secs: 30,
            keep_analyzed_documents: 3,
            plugins: Value::Null,
            disabled_plugins: HashSet::new(),
            trust_workspace: false,
        }
    }
}

impl Settings {
    /// Reads settings from any of the shapes clients send: `{"cudalens": {...}}`,
    /// the `cudalens` section itself, nested (`inlayHints: {enable}`) or dotted
    /// (`"inlayHints.enable"`) keys. Missing keys keep their defaults. Returns
    /// the settings and a warning per ignored value.
    pub fn from_json(value: &Value) -> (Settings, Vec<String>) {
        let section = value.get("cudalens").unwrap_or(value);
        let mut s = Settings::default();
        let mut warnings = Vec::new();
        let mut read = Reader {
            section,
            warnings: &mut warnings,
        };
        if let Some(arch) = read.string("arch") {
            match Arch::parse(&arch) {
                Ok(_) => s.arch = arch,
                Err(e) => read.warn("arch", &e.to_string()),
            }
        }
        if let Some(v) = read.get("defaultBlockSize") {
            match block_from_json(v) {
                Some(b) => s.default_block = b,
                None => read.warn("defaultBlockSize", "expected a number or [x, y, z]"),
            }
        }
        if let Some(paths) = read.strings("includePaths") {
            s.include_paths = paths.into_iter().map(PathBuf::from).collect();
        }
        if let Some(v) = read.get("defines") {
            match defines_from_json(v) {
                Some(d) => s.defines = d,
                None => read.warn(
                    "defines",
                    "expected [\"NAME=VALUE\", ...] or {\"NAME\": \"VALUE\"}",
                ),
            }
        }
        if let Some(rules) = read.strings("disabledRules") {
            for rule in rules {
                if rule_exists(&rule) {
                    s.disabled_rules.insert(rule);
                } else {
                    read.warn("disabledRules", &format!("unknown rule `{rule}`"));
                }
            }
        }
        if let Some(t) = read.get("occupancyThreshold").map(Value::as_f64) {
            match t {
                Some(t) if (0.0..=1.0).contains(&t) => s.occupancy_threshold = t,
                _ => read.warn("occupancyThreshold", "expected a number between 0 and 1"),
            }
        }
        if let Some(b) = read.bool("inlayHints.enable") {
            s.inlay_hints = b;
        }
        if let Some(b) = read.bool("inlayHints.accessCost") {
            s.inlay_access_cost = b;
        }
        if let Some(path) = read.string("nvcc.path") {
            s.nvcc = match path.trim() {
                "" => NvccSetting::Disabled,
                p => NvccSetting::Explicit(PathBuf::from(p)),
            };
        }
        if let Some(mb) = read.get("maxFileSizeMB").map(Value::as_u64) {
            match mb {
                Some(mb) if mb > 0 => s.max_file_size_mb = mb,
                _ => read.warn("maxFileSizeMB", "expected a positive whole number"),
            }
        }
        if let Some(n) = read.get("keepAnalyzedDocuments").map(Value::as_u64) {
            match n {
                Some(n) => s.keep_analyzed_documents = n as usize,
                None => read.warn(
                    "keepAnalyzedDocuments",
                    "expected a whole number (0: no limit)",
                ),
            }
        }
        if let Some(secs) = read.get("hibernateAfterSeconds").map(Value::as_u64) {
            match secs {
                Some(secs) => s.hibernate_after_secs = secs,
                None => read.warn(
                    "hibernateAfterSeconds",
                    "expected a whole number (0: never)",
                ),
            }
        }
        if let Some(p) = read.get("plugins") {
            s.plugins = p.clone();
        }
        if let Some(names) = read.strings("disabledPlugins") {
            s.disabled_plugins = names.into_iter().collect();
        }
        if let Some(b) = read.bool("trustWorkspace") {
            s.trust_workspace = b;
        }
        (s, warnings)
    }

    /// The analysis settings, with measured register counts when known.
    pub fn analysis_config(&self, registers: HashMap<String, u32>) -> AnalysisConfig {
        AnalysisConfig {
            arch: self.arch.clone(),
            default_block: self.default_block,
            occupancy_threshold: self.occupancy_threshold,
            disabled_rules: self.disabled_rules.clone(),
            registers,
            threads: cudalens_analysis::parallel::cores(),
        }
    }

    /// Include paths and defines from settings, appended to `base` (the
    /// `compile_commands.json` flags, which come first as for clangd).
    pub fn compile_flags(&self, mut base: CompileFlags) -> CompileFlags {
        base.include_dirs.extend(self.include_paths.iter().cloned());
        base.defines.extend(self.defines.iter().cloned());
        base
    }

    pub fn max_file_bytes(&self) -> usize {
        usize::try_from(self.max_file_size_mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX)
    }
}

struct Reader<'a> {
    section: &'a Value,
    warnings: &'a mut Vec<String>,
}

impl Reader<'_> {
    /// `a.b` as a nested key or a dotted key; `null` counts as unset.
    fn get(&self, key: &str) -> Option<&Value> {
        let nested = key.split('.').try_fold(self.section, |v, part| v.get(part));
        nested
            .or_else(|| self.section.get(key))
            .filter(|v| !v.is_null())
    }

    fn warn(&mut self, key: &str, problem: &str) {
        self.warnings
            .push(format!("cudalens.{key}: {problem}; using the default"));
    }

    fn string(&mut self, key: &str) -> Option<String> {
        let v = self.get(key)?;
        match v.as_str() {
            Some(s) => Some(s.to_string()),
            None => {
                self.warn(key, "expected a string");
                None
            }
        }
    }

    fn bool(&mut self, key: &str) -> Option<bool> {
        let v = self.get(key)?;
        match v.as_bool() {
            Some(b) => Some(b),
            None => {
                self.warn(key, "expected true or false");
                None
            }
        }
    }

    fn strings(&mut self, key: &str) -> Option<Vec<String>> {
        let v = self.get(key)?;
        let list = v
            .as_array()
            .and_then(|a| a.iter().map(|s| s.as_str().map(String::from)).collect());
        if list.is_none() {
            self.warn(key, "expected an array of strings");
        }
        list
    }
}

fn block_from_json(v: &Value) -> Option<[u32; 3]> {
    match v {
        Value::Number(n) => parse_block(&n.to_string()),
        Value::String(s) => parse_block(s),
        Value::Array(items) if (1..=3).contains(&items.len()) => {
            let mut dims = [1u32; 3];
            for (slot, item) in dims.iter_mut().zip(items) {
                *slot = u32::try_from(item.as_u64()?).ok().filter(|&d| d > 0)?;
            }
            Some(dims)
        }
        _ => None,
    }
}

fn defines_from_json(v: &Value) -> Option<Vec<(String, String)>> {
    match v {
        Value::Array(items) => items.iter().map(|i| parse_define(i.as_str()?)).collect(),
        Value::Object(map) => map
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    Value::String(s) => s.clone(),
                    Value::Null => "1".to_string(),
                    other => other.to_string(),
                };
                parse_define(name).map(|(n, _)| (n, value))
            })
            .collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_for_null_and_empty() {
        assert_eq!(Settings::from_json(&Value::Null).0, Settings::default());
        assert_eq!(Settings::from_json(&json!({})).0, Settings::default());
    }

    #[test]
    fn nested_and_dotted_keys() {
        let (s, warnings) = Settings::from_json(&json!({"cudalens": {
            "arch": "sm_80",
            "defaultBlockSize": [16, 16],
            "inlayHints": {"accessCost": true},
            "inlayHints.enable": false,
            "nvcc": {"path": ""},
            "defines": {"TILE": 32, "FAST": null},
            "disabledRules": ["bank-conflict"],
        }}));
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(s.arch, "sm_80");
        assert_eq!(s.default_block, [16, 16, 1]);
        assert!(s.inlay_access_cost && !s.inlay_hints);
        assert_eq!(s.nvcc, NvccSetting::Disabled);
        assert!(s.defines.contains(&("TILE".into(), "32".into())));
        assert!(s.defines.contains(&("FAST".into(), "1".into())));
        assert!(s.disabled_rules.contains("bank-conflict"));
    }

    /// `settings.schema.json` (for the VS Code extension) must list every key read
    /// here and every rule code.
    #[test]
    fn schema_matches_the_settings() {
        let schema: Value =
            serde_json::from_str(include_str!("../../cudalens/settings.schema.json"))
                .expect("valid JSON schema");
        let mut keys: Vec<&String> = schema["properties"]
            .as_object()
            .map(|o| o.keys().collect())
            .unwrap_or_default();
        keys.sort();
        let expected = [
            "cudalens.arch",
            "cudalens.defaultBlockSize",
            "cudalens.defines",
            "cudalens.disabledPlugins",
            "cudalens.disabledRules",
            "cudalens.hibernateAfterSeconds",
            "cudalens.includePaths",
            "cudalens.inlayHints.accessCost",
            "cudalens.inlayHints.enable",
            "cudalens.keepAnalyzedDocuments",
            "cudalens.maxFileSizeMB",
            "cudalens.nvcc.path",
            "cudalens.occupancyThreshold",
            "cudalens.plugins",
            "cudalens.trustWorkspace",
        ];
        assert_eq!(keys, expected);
        let rules: Vec<&str> = schema["properties"]["cudalens.disabledRules"]["items"]["enum"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let known: Vec<&str> = cudalens_analysis::RULES
            .iter()
            .map(|(code, _)| *code)
            .collect();
        assert_eq!(rules, known);
    }

    #[test]
    fn bad_values_warn_and_keep_defaults() {
        let (s, warnings) = Settings::from_json(&json!({
            "arch": "sm_1", "occupancyThreshold": 7, "disabledRules": ["nope"],
            "defaultBlockSize": "big", "maxFileSizeMB": 2
        }));
        assert_eq!(s.arch, "sm_90");
        assert_eq!(s.occupancy_threshold, 0.5);
        assert!(s.disabled_rules.is_empty());
        assert_eq!(s.default_block, [256, 1, 1]);
        assert_eq!(s.max_file_size_mb, 2);
        assert_eq!(warnings.len(), 4, "{warnings:?}");
    }
}
