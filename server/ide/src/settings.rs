//! `cudalens.*` settings, declared once in `SETTINGS`: each key with how
//! it is read, its description and schema; defaults come from
//! `Settings::default()`. Generated from the declaration and checked by
//! tests: `server/cudalens/settings.schema.json` (and from it the VS Code
//! `package.json` settings, `editors/vscode/scripts/sync-settings.mjs`); the
//! Neovim config's defaults are checked against it.
//!
//! Settings arrive from `workspace/configuration`, `didChangeConfiguration`
//! and `initializationOptions`. Parsing is lenient per key: a value of the
//! wrong type falls back to the default with a warning, so one typo does not
//! reset every other setting.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde_json::{Value, json};

use cudalens_analysis::{AnalysisConfig, rule_exists};
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
            key: "",
            warnings: &mut warnings,
        };
        for setting in SETTINGS {
            read.key = setting.key;
            if let Some(v) = read.get() {
                (setting.read)(&mut read, v, &mut s);
            }
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

/// Reads one setting at a time (`key`), collecting warnings.
struct Reader<'a> {
    section: &'a Value,
    key: &'static str,
    warnings: &'a mut Vec<String>,
}

impl<'a> Reader<'a> {
    /// `a.b` as a nested key or a dotted key; `null` counts as unset.
    fn get(&self) -> Option<&'a Value> {
        let section = self.section;
        let nested = self.key.split('.').try_fold(section, |v, part| v.get(part));
        nested
            .or_else(|| section.get(self.key))
            .filter(|v| !v.is_null())
    }

    fn warn(&mut self, problem: &str) {
        let key = self.key;
        self.warnings
            .push(format!("cudalens.{key}: {problem}; using the default"));
    }

    fn string(&mut self, v: &Value) -> Option<String> {
        let s = v.as_str().map(str::to_string);
        if s.is_none() {
            self.warn("expected a string");
        }
        s
    }

    fn bool(&mut self, v: &Value) -> Option<bool> {
        let b = v.as_bool();
        if b.is_none() {
            self.warn("expected true or false");
        }
        b
    }

    fn strings(&mut self, v: &Value) -> Option<Vec<String>> {
        let list = v
            .as_array()
            .and_then(|a| a.iter().map(|s| s.as_str().map(String::from)).collect());
        if list.is_none() {
            self.warn("expected an array of strings");
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

// ---------------------------------------------------------------- the declaration

/// One setting, declared once: its key (under `cudalens.`), how it is read
/// into [`Settings`], its default as the schema shows it (taken from
/// `Settings::default()`), and the rest of its JSON schema.
/// `settings.schema.json` is generated from these (and `package.json`'s
/// settings from the schema, by `editors/vscode/scripts/sync-settings.mjs`).
struct Setting {
    key: &'static str,
    description: &'static str,
    read: fn(&mut Reader, &Value, &mut Settings),
    default: fn(&Settings) -> Option<Value>,
    /// The schema without `description` and `default`.
    schema: fn() -> Value,
}

const SETTINGS: &[Setting] = &[
    Setting {
        key: "arch",
        description: "Target GPU architecture for occupancy and limits: sm_70, sm_75, sm_80, sm_86, sm_87, sm_89, sm_90, sm_100 or sm_120 (or 7.0 … 12.0).",
        read: |r, v, s| {
            if let Some(arch) = r.string(v) {
                match Arch::parse(&arch) {
                    Ok(_) => s.arch = arch,
                    Err(e) => r.warn(&e.to_string()),
                }
            }
        },
        default: |s| Some(json!(s.arch)),
        schema: || json!({"type": "string", "pattern": "^(sm_|compute_)?[0-9]+[a-z]?$"}),
    },
    Setting {
        key: "defaultBlockSize",
        description: "Block size assumed for kernels with no launch in the file (and no __launch_bounds__): a thread count or [x, y, z].",
        read: |r, v, s| match block_from_json(v) {
            Some(b) => s.default_block = b,
            None => r.warn("expected a number or [x, y, z]"),
        },
        default: |s| match s.default_block {
            [x, 1, 1] => Some(json!(x)),
            dims => Some(json!(dims)),
        },
        schema: || {
            json!({"oneOf": [
                {"type": "integer", "minimum": 1, "maximum": 1024},
                {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 3},
            ]})
        },
    },
    Setting {
        key: "includePaths",
        description: "Extra include directories, searched after those from compile_commands.json.",
        read: |r, v, s| {
            if let Some(paths) = r.strings(v) {
                s.include_paths = paths.into_iter().map(PathBuf::from).collect();
            }
        },
        default: |s| Some(json!(s.include_paths)),
        schema: || json!({"type": "array", "items": {"type": "string"}}),
    },
    Setting {
        key: "defines",
        description: "Preprocessor macros: [\"NAME\", \"NAME=VALUE\"] or {\"NAME\": \"VALUE\"}.",
        read: |r, v, s| match defines_from_json(v) {
            Some(d) => s.defines = d,
            None => r.warn("expected [\"NAME=VALUE\", ...] or {\"NAME\": \"VALUE\"}"),
        },
        default: |s| {
            Some(json!(
                s.defines
                    .iter()
                    .map(|(n, v)| format!("{n}={v}"))
                    .collect::<Vec<_>>()
            ))
        },
        schema: || {
            json!({"oneOf": [
                {"type": "array", "items": {"type": "string"}},
                {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean", "null"]}},
            ]})
        },
    },
    Setting {
        key: "disabledRules",
        description: "Rule codes whose diagnostics are not reported.",
        read: |r, v, s| {
            for rule in r.strings(v).unwrap_or_default() {
                if rule_exists(&rule) {
                    s.disabled_rules.insert(rule);
                } else {
                    r.warn(&format!("unknown rule `{rule}`"));
                }
            }
        },
        default: |s| Some(json!(sorted(&s.disabled_rules))),
        schema: || {
            let rules: Vec<&str> = cudalens_analysis::RULES
                .iter()
                .map(|(code, _)| *code)
                .collect();
            json!({"type": "array", "items": {"type": "string", "enum": rules}})
        },
    },
    Setting {
        key: "occupancyThreshold",
        description: "Theoretical occupancy below this fraction is reported (low-occupancy).",
        read: |r, v, s| match v.as_f64() {
            Some(t) if (0.0..=1.0).contains(&t) => s.occupancy_threshold = t,
            _ => r.warn("expected a number between 0 and 1"),
        },
        default: |s| Some(json!(s.occupancy_threshold)),
        schema: || json!({"type": "number", "minimum": 0, "maximum": 1}),
    },
    Setting {
        key: "inlayHints.enable",
        description: "Show occupancy after each kernel launch.",
        read: |r, v, s| {
            if let Some(b) = r.bool(v) {
                s.inlay_hints = b;
            }
        },
        default: |s| Some(json!(s.inlay_hints)),
        schema: || json!({"type": "boolean"}),
    },
    Setting {
        key: "inlayHints.accessCost",
        description: "Also show the cost of each memory access (sectors per request, bank-conflict ways).",
        read: |r, v, s| {
            if let Some(b) = r.bool(v) {
                s.inlay_access_cost = b;
            }
        },
        default: |s| Some(json!(s.inlay_access_cost)),
        schema: || json!({"type": "boolean"}),
    },
    Setting {
        key: "nvcc.path",
        description: "nvcc used for exact register counts (nvcc --resource-usage, in the background). Default: `nvcc` found on PATH; an empty string disables it.",
        read: |r, v, s| {
            if let Some(path) = r.string(v) {
                s.nvcc = match path.trim() {
                    "" => NvccSetting::Disabled,
                    p => NvccSetting::Explicit(PathBuf::from(p)),
                };
            }
        },
        // Searched on PATH: no value to show.
        default: |_| None,
        schema: || json!({"type": "string"}),
    },
    Setting {
        key: "maxFileSizeMB",
        description: "Files larger than this are not analysed (a notice is shown instead).",
        read: |r, v, s| match v.as_u64() {
            Some(mb) if mb > 0 => s.max_file_size_mb = mb,
            _ => r.warn("expected a positive whole number"),
        },
        default: |s| Some(json!(s.max_file_size_mb)),
        schema: || json!({"type": "integer", "minimum": 1}),
    },
    Setting {
        key: "keepAnalyzedDocuments",
        description: "How many open documents keep their analysis in memory (the most recently analysed ones, like clangd's AST cache), and their syntax tree once they or a header they include have been edited; the others keep only text and diagnostics and are rebuilt on their next edit or request. 0: no limit.",
        read: |r, v, s| match v.as_u64() {
            Some(n) => s.keep_analyzed_documents = usize::try_from(n).unwrap_or(usize::MAX),
            None => r.warn("expected a whole number (0: no limit)"),
        },
        default: |s| Some(json!(s.keep_analyzed_documents)),
        schema: || json!({"type": "integer", "minimum": 0}),
    },
    Setting {
        key: "hibernateAfterSeconds",
        description: "Seconds without edits or requests after which an open document's syntax tree and analysis are freed (its text and diagnostics stay; the next request or edit rebuilds them). 0 keeps everything in memory.",
        read: |r, v, s| match v.as_u64() {
            Some(secs) => s.hibernate_after_secs = secs,
            None => r.warn("expected a whole number (0: never)"),
        },
        default: |s| Some(json!(s.hibernate_after_secs)),
        schema: || json!({"type": "integer", "minimum": 0}),
    },
    Setting {
        key: "plugins",
        description: "Optimizer plugins to start (always trusted). See plugins/PROTOCOL.md.",
        read: |_, v, s| s.plugins = v.clone(),
        // Unset (`null`) means none.
        default: |s| {
            Some(if s.plugins.is_null() {
                json!([])
            } else {
                s.plugins.clone()
            })
        },
        schema: || {
            json!({"type": "array", "items": {
                "type": "object",
                "required": ["name", "command"],
                "properties": {
                    "name": {"type": "string", "description": "Shown as the source of the plugin's diagnostics."},
                    "command": {"type": "string", "description": "Executable: absolute, or a name on PATH."},
                    "args": {"type": "array", "items": {"type": "string"}, "default": []},
                    "enabled": {"type": "boolean", "default": true},
                    "options": {"description": "Sent to the plugin in initialize."},
                },
            }})
        },
    },
    Setting {
        key: "disabledPlugins",
        description: "Names of plugins (user or workspace) not to run.",
        read: |r, v, s| {
            if let Some(names) = r.strings(v) {
                s.disabled_plugins = names.into_iter().collect();
            }
        },
        default: |s| Some(json!(sorted(&s.disabled_plugins))),
        schema: || json!({"type": "array", "items": {"type": "string"}}),
    },
    Setting {
        key: "trustWorkspace",
        description: "Start the plugins declared in the workspace's cudalens.toml without asking. When false, cudalens asks once per session.",
        read: |r, v, s| {
            if let Some(b) = r.bool(v) {
                s.trust_workspace = b;
            }
        },
        default: |s| Some(json!(s.trust_workspace)),
        schema: || json!({"type": "boolean"}),
    },
];

fn sorted(set: &HashSet<String>) -> Vec<&String> {
    let mut items: Vec<&String> = set.iter().collect();
    items.sort();
    items
}

/// The JSON schema of the settings (`server/cudalens/settings.schema.json`),
/// keys sorted so the file is the same whatever serde_json's features.
pub fn json_schema() -> Value {
    let defaults = Settings::default();
    let mut properties = serde_json::Map::new();
    for setting in SETTINGS {
        let mut schema = (setting.schema)();
        if let Value::Object(map) = &mut schema {
            map.insert("description".into(), json!(setting.description));
            if let Some(default) = (setting.default)(&defaults) {
                map.insert("default".into(), default);
            }
        }
        properties.insert(format!("cudalens.{}", setting.key), schema);
    }
    sorted_keys(json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://example.invalid/cudalens/settings.schema.json",
        "title": "cudalens settings",
        "description": "Settings of the cudalens language server (the `cudalens` section of workspace/configuration, didChangeConfiguration or initializationOptions). Keys may also be given nested (`inlayHints: {enable}`) or dotted (`\"inlayHints.enable\"`). Generated from server/ide/src/settings.rs by its tests (UPDATE_EXPECT=1 cargo test -p cudalens-ide); do not edit.",
        "type": "object",
        "properties": properties,
    }))
}

fn sorted_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted_keys(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// `settings.schema.json` (read by the VS Code extension, and synced into
    /// its `package.json`) is generated from [`SETTINGS`].
    #[test]
    fn schema_is_generated_from_the_declaration() {
        let generated = serde_json::to_string_pretty(&json_schema()).expect("JSON") + "\n";
        expect_test::expect_file!["../../cudalens/settings.schema.json"].assert_eq(&generated);
    }

    /// The Neovim client sends these defaults explicitly: they must be the
    /// declared ones.
    #[test]
    fn neovim_defaults_are_the_declared_ones() {
        let lua = include_str!("../../../editors/nvim/lsp/cudalens.lua");
        let schema = json_schema();
        let lua_value = |text: &str| -> Value {
            match text.trim() {
                "{}" => json!([]),
                "true" => json!(true),
                "false" => json!(false),
                t if t.starts_with('\'') => json!(t.trim_matches('\'')),
                t => serde_json::from_str(t).unwrap_or(Value::Null),
            }
        };
        let mut checked = 0;
        for line in lua.lines().map(str::trim) {
            let Some((key, value)) = line.trim_end_matches(',').split_once(" = ") else {
                continue;
            };
            // `inlayHints = { enable = true, accessCost = false }`
            let pairs: Vec<(String, &str)> = match value.strip_prefix("{ ") {
                Some(inner) => inner
                    .trim_end_matches(" }")
                    .split(", ")
                    .filter_map(|p| p.split_once(" = "))
                    .map(|(k, v)| (format!("{key}.{k}"), v))
                    .collect(),
                None => vec![(key.to_string(), value)],
            };
            for (key, value) in pairs {
                let declared = &schema["properties"][format!("cudalens.{key}")]["default"];
                if declared.is_null() {
                    continue; // not a setting (cmd, filetypes, ...)
                }
                assert_eq!(
                    &lua_value(value),
                    declared,
                    "editors/nvim/lsp/cudalens.lua: {key}"
                );
                checked += 1;
            }
        }
        assert!(
            checked >= 10,
            "only {checked} defaults found in the Neovim config"
        );
    }

    #[test]
    fn every_key_is_read() {
        for setting in SETTINGS {
            let key = setting.key;
            let (_, warnings) = Settings::from_json(&json!({ key: [[[]]] }));
            let plugins = key == "plugins"; // any JSON: the plugin host checks it
            assert_eq!(warnings.len(), usize::from(!plugins), "{key}: {warnings:?}");
        }
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
