//! Which rules a workspace turns off, from its `cudalens.toml`:
//!
//! ```toml
//! disabledRules = ["grid-too-small"]              # every file under this directory
//!
//! [disabledRulesPerPath]                          # globs relative to this file
//! "third_party/**" = ["bank-conflict", "uncoalesced-access"]
//! "tests/**/*.cu" = ["low-occupancy"]
//! ```
//!
//! In globs `*` stays within one directory and `**` crosses directories.
//!
//! The nearest `cudalens.toml` above a file applies (as the nearest
//! `compile_commands.json` does). Other keys (`[[plugins]]`) are read by
//! their own owners and ignored here. Used by `cudalens check`; the
//! language server can use [`RuleConfig::disabled_for`] the same way.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use cudalens_analysis::rules;

/// The name of the workspace configuration file.
pub const FILE_NAME: &str = "cudalens.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFile {
    #[serde(default)]
    disabled_rules: Vec<String>,
    #[serde(default)]
    disabled_rules_per_path: BTreeMap<String, Vec<String>>,
}

/// The rule settings of one `cudalens.toml`.
#[derive(Debug)]
pub struct RuleConfig {
    /// The directory holding the file: globs are relative to it.
    root: PathBuf,
    everywhere: Vec<String>,
    globs: GlobSet,
    /// The rules of each glob, in the order of `globs`.
    per_glob: Vec<Vec<String>>,
}

impl RuleConfig {
    /// Parses the text of `<root>/cudalens.toml`. Unknown rule codes and bad
    /// globs are errors: a typo must not silently enable a rule.
    pub fn parse(root: &Path, text: &str) -> Result<RuleConfig, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| e.to_string())?;
        check_codes(&raw.disabled_rules, "disabledRules")?;
        let mut builder = GlobSetBuilder::new();
        let mut per_glob = Vec::new();
        for (pattern, codes) in raw.disabled_rules_per_path {
            check_codes(&codes, &format!("disabledRulesPerPath.\"{pattern}\""))?;
            // `*` stays within one directory, as in .gitignore; `**` crosses them.
            let glob = GlobBuilder::new(&pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("disabledRulesPerPath: bad glob `{pattern}`: {e}"))?;
            builder.add(glob);
            per_glob.push(codes);
        }
        Ok(RuleConfig {
            root: root.to_path_buf(),
            everywhere: raw.disabled_rules,
            globs: builder
                .build()
                .map_err(|e| format!("disabledRulesPerPath: {e}"))?,
            per_glob,
        })
    }

    /// Reads `dir/cudalens.toml`; `Ok(None)` when there is none.
    pub fn load(dir: &Path) -> Result<Option<RuleConfig>, String> {
        let path = dir.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => RuleConfig::parse(dir, &text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// The rules turned off for `file` (absolute, or relative to the current
    /// directory as the root is).
    pub fn disabled_for(&self, file: &Path) -> Vec<&str> {
        let mut out: Vec<&str> = self.everywhere.iter().map(String::as_str).collect();
        if let Ok(relative) = file.strip_prefix(&self.root) {
            for i in self.globs.matches(relative) {
                out.extend(self.per_glob[i].iter().map(String::as_str));
            }
        }
        out
    }
}

fn check_codes(codes: &[String], key: &str) -> Result<(), String> {
    match codes.iter().find(|c| rules::find(c).is_none()) {
        Some(code) => Err(format!(
            "{key}: unknown rule `{code}` (`cudalens rules` lists them)"
        )),
        None => Ok(()),
    }
}

/// The directory of the nearest `cudalens.toml` at or above `dir`.
pub fn find_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(FILE_NAME).is_file())
        .map(Path::to_path_buf)
}

/// The rules the nearest `cudalens.toml` above `file` turns off for it. A
/// file that cannot be read or is invalid turns none off and says why.
pub fn disabled_for(file: &Path) -> Result<Vec<String>, String> {
    let Some(root) = file.parent().and_then(find_root) else {
        return Ok(Vec::new());
    };
    let config = RuleConfig::load(&root)?;
    Ok(config
        .map(|c| {
            c.disabled_for(file)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default())
}

/// What a broken `cudalens.toml` is reported as.
pub fn problem_message(error: &str) -> String {
    format!("cudalens: {error}; the rules it turns off stay on until it is fixed")
}

/// Problems already shown, so a broken file is reported once, not at every
/// analysis; forgotten when a `cudalens.toml` changes.
#[derive(Default)]
pub struct Reported(Mutex<HashSet<String>>);

impl Reported {
    /// True the first time `problem` is seen since the last [`Reported::forget`].
    pub fn first_time(&self, problem: &str) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.insert(problem.to_string())
    }

    pub fn forget(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everywhere_and_per_path() {
        let root = Path::new("/repo");
        let config = RuleConfig::parse(
            root,
            r#"
disabledRules = ["grid-too-small"]
[disabledRulesPerPath]
"third_party/**" = ["bank-conflict"]
"*.cuh" = ["low-occupancy"]

[[plugins]]
name = "x"
command = "y"
"#,
        )
        .expect("valid");
        assert_eq!(
            config.disabled_for(Path::new("/repo/third_party/cub/a.cu")),
            ["grid-too-small", "bank-conflict"]
        );
        assert_eq!(
            config.disabled_for(Path::new("/repo/src/a.cu")),
            ["grid-too-small"]
        );
        assert_eq!(
            config.disabled_for(Path::new("/repo/k.cuh")),
            ["grid-too-small", "low-occupancy"]
        );
        assert_eq!(
            config.disabled_for(Path::new("/repo/src/k.cuh")),
            ["grid-too-small"]
        );
        assert_eq!(
            config.disabled_for(Path::new("/elsewhere/a.cu")),
            ["grid-too-small"]
        );
    }

    #[test]
    fn unknown_rules_bad_globs_and_bad_toml_are_errors() {
        let root = Path::new("/repo");
        let err = RuleConfig::parse(root, "disabledRules = [\"bank-conflicts\"]").unwrap_err();
        assert!(err.contains("unknown rule `bank-conflicts`"), "{err}");
        let err = RuleConfig::parse(root, "[disabledRulesPerPath]\n\"a/[\" = []").unwrap_err();
        assert!(err.contains("bad glob"), "{err}");
        assert!(RuleConfig::parse(root, "disabledRules = 3").is_err());
        assert!(RuleConfig::parse(root, "").is_ok());
    }

    #[test]
    fn nearest_file_per_path_and_broken_files() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("third_party/cub")).expect("dirs");
        let config = "disabledRules = [\"grid-too-small\"]\n\
                      [disabledRulesPerPath]\n\"third_party/**\" = [\"bank-conflict\"]\n";
        std::fs::write(root.join(FILE_NAME), config).expect("write");
        assert_eq!(
            disabled_for(&root.join("third_party/cub/k.cu")),
            Ok(vec![
                "grid-too-small".to_string(),
                "bank-conflict".to_string()
            ])
        );
        assert_eq!(
            disabled_for(&root.join("k.cu")),
            Ok(vec!["grid-too-small".to_string()])
        );
        std::fs::write(root.join(FILE_NAME), "disabledRules = [\"bank-conflicts\"]")
            .expect("write");
        let error = disabled_for(&root.join("k.cu")).expect_err("unknown rule");
        assert!(error.contains("unknown rule `bank-conflicts`"), "{error}");
        assert_eq!(disabled_for(Path::new("/")), Ok(Vec::new()));
    }

    #[test]
    fn problems_are_reported_once_until_forgotten() {
        let reported = Reported::default();
        assert!(reported.first_time("a"));
        assert!(!reported.first_time("a"));
        assert!(reported.first_time("b"));
        reported.forget();
        assert!(reported.first_time("a"));
    }
}
