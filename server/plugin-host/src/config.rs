//! Which plugins to run: the user's settings and a workspace's `cudalens.toml`.
//!
//! Trust matters here: a `cudalens.toml` checked into a repository names executables, so
//! starting them on open would let any cloned repository run code. Workspace plugins are
//! therefore only returned when the embedding server says the user trusts the workspace.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

/// Where a plugin declaration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginOrigin {
    /// The user's own editor/server configuration: always trusted.
    User,
    /// A workspace `cudalens.toml` (its path).
    Workspace(PathBuf),
}

/// One declared plugin.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    pub name: String,
    /// Executable: an absolute path, a path relative to the declaring file, or a name on `PATH`.
    pub command: String,
    pub args: Vec<String>,
    pub enabled: bool,
    /// Sent verbatim as `initialize.options`.
    pub options: Value,
    /// Working directory for the process (the workspace root for workspace plugins).
    pub cwd: Option<PathBuf>,
    pub origin: PluginOrigin,
}

impl PluginSpec {
    /// A user-configured plugin with no options.
    pub fn user(name: impl Into<String>, command: impl Into<String>, args: Vec<String>) -> Self {
        PluginSpec {
            name: name.into(),
            command: command.into(),
            args,
            enabled: true,
            options: Value::Null,
            cwd: None,
            origin: PluginOrigin::User,
        }
    }
}

/// The shape of one declaration in settings JSON or TOML.
#[derive(Debug, Deserialize)]
struct RawDeclaration {
    name: String,
    command: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default = "enabled_by_default")]
    enabled: bool,
    #[serde(default)]
    options: Option<Value>,
}

fn enabled_by_default() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct WorkspaceFile {
    #[serde(default)]
    plugins: Vec<RawDeclaration>,
}

/// Why a configuration could not be read.
#[derive(Debug)]
pub enum ConfigError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    Toml {
        path: PathBuf,
        error: toml::de::Error,
    },
    Settings(serde_json::Error),
    Invalid(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io { path, error } => write!(f, "cannot read {}: {error}", path.display()),
            ConfigError::Toml { path, error } => write!(f, "invalid {}: {error}", path.display()),
            ConfigError::Settings(e) => write!(f, "invalid plugin settings: {e}"),
            ConfigError::Invalid(msg) => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A list of plugins to run plus human-readable notices (e.g. plugins skipped for trust).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PluginConfig {
    pub plugins: Vec<PluginSpec>,
    /// Messages the server should show the user (once).
    pub notices: Vec<String>,
}

impl PluginConfig {
    /// Parses the user's settings: a JSON array of `{name, command, args?, enabled?, options?}`.
    /// `null` means no plugins.
    pub fn from_user_settings(settings: &Value) -> Result<Self, ConfigError> {
        if settings.is_null() {
            return Ok(PluginConfig::default());
        }
        let raw: Vec<RawDeclaration> =
            serde_json::from_value(settings.clone()).map_err(ConfigError::Settings)?;
        let plugins = raw
            .into_iter()
            .map(|d| spec_from(d, PluginOrigin::User, None))
            .collect();
        let config = PluginConfig {
            plugins,
            notices: Vec::new(),
        };
        config.check_names()?;
        Ok(config)
    }

    /// Reads `[[plugins]]` from a workspace `cudalens.toml`.
    ///
    /// When `trusted` is false no plugin is returned; instead there is one notice per declared
    /// plugin saying it was not started because the workspace is not trusted. A missing file
    /// is not an error (no plugins).
    pub fn from_workspace_toml(path: &Path, trusted: bool) -> Result<Self, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(PluginConfig::default());
            }
            Err(error) => {
                return Err(ConfigError::Io {
                    path: path.to_owned(),
                    error,
                });
            }
        };
        let file: WorkspaceFile = toml::from_str(&text).map_err(|error| ConfigError::Toml {
            path: path.to_owned(),
            error,
        })?;
        let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if !trusted {
            let notices = file
                .plugins
                .iter()
                .map(|d| {
                    format!(
                        "plugin '{}' declared in {} was not started because the workspace is not trusted",
                        d.name,
                        path.display()
                    )
                })
                .collect();
            return Ok(PluginConfig {
                plugins: Vec::new(),
                notices,
            });
        }
        let origin = PluginOrigin::Workspace(path.to_owned());
        let plugins = file
            .plugins
            .into_iter()
            .map(|d| spec_from(d, origin.clone(), Some(&root)))
            .collect();
        let config = PluginConfig {
            plugins,
            notices: Vec::new(),
        };
        config.check_names()?;
        Ok(config)
    }

    /// Combines two configurations. On a name clash the entry from `self` wins (call it on
    /// the user configuration so user settings override the workspace), with a notice.
    pub fn merge(mut self, other: PluginConfig) -> PluginConfig {
        let known: HashSet<String> = self.plugins.iter().map(|p| p.name.clone()).collect();
        self.notices.extend(other.notices);
        for spec in other.plugins {
            if known.contains(&spec.name) {
                self.notices.push(format!(
                    "plugin '{}' is declared twice; the user configuration takes precedence",
                    spec.name
                ));
            } else {
                self.plugins.push(spec);
            }
        }
        self
    }

    fn check_names(&self) -> Result<(), ConfigError> {
        let mut seen = HashSet::new();
        for p in &self.plugins {
            if p.name.trim().is_empty() || p.command.trim().is_empty() {
                return Err(ConfigError::Invalid(
                    "a plugin needs a non-empty name and command".into(),
                ));
            }
            if !seen.insert(p.name.as_str()) {
                return Err(ConfigError::Invalid(format!(
                    "plugin name '{}' is used twice",
                    p.name
                )));
            }
        }
        Ok(())
    }
}

fn spec_from(d: RawDeclaration, origin: PluginOrigin, root: Option<&Path>) -> PluginSpec {
    // A command with a path separator is relative to the declaring file; a bare name is
    // looked up on PATH (e.g. `python3`).
    let command = match root {
        Some(root) if Path::new(&d.command).is_relative() && d.command.contains(['/', '\\']) => {
            root.join(&d.command).to_string_lossy().into_owned()
        }
        _ => d.command,
    };
    PluginSpec {
        name: d.name,
        command,
        args: d.args,
        enabled: d.enabled,
        options: d.options.unwrap_or(Value::Null),
        cwd: root.map(Path::to_path_buf),
        origin,
    }
}

/// Timeouts and limits of the host.
#[derive(Debug, Clone)]
pub struct HostSettings {
    /// Name and version sent in `initialize`.
    pub host_name: String,
    pub host_version: String,
    /// Time for spawn + `initialize`.
    pub initialize_timeout: Duration,
    /// Time for one `analyze` call.
    pub analyze_timeout: Duration,
    /// Time for one whole `tune` call, benchmark callbacks included.
    pub tune_timeout: Duration,
    /// Time for `shutdown` + `exit` before the process is killed.
    pub shutdown_timeout: Duration,
    /// How often a failing plugin is restarted before it is disabled.
    pub max_restarts: u32,
    /// How many stderr lines are kept per plugin.
    pub stderr_lines: usize,
}

impl Default for HostSettings {
    fn default() -> Self {
        HostSettings {
            host_name: "cudalens".into(),
            host_version: env!("CARGO_PKG_VERSION").into(),
            initialize_timeout: Duration::from_secs(10),
            analyze_timeout: Duration::from_secs(5),
            tune_timeout: Duration::from_secs(600),
            shutdown_timeout: Duration::from_secs(2),
            max_restarts: 3,
            stderr_lines: 200,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temp_toml(contents: &str) -> PathBuf {
        // A directory per call: tests run in parallel and must not share files.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!(
            "cudalens-config-test-{}-{n}-{}",
            std::process::id(),
            contents.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cudalens.toml");
        std::fs::write(&path, contents).unwrap();
        path
    }

    const TOML: &str = r#"
[[plugins]]
name = "local"
command = "./tools/my-plugin"
args = ["--fast"]
options = { history = "bench.jsonl" }

[[plugins]]
name = "py"
command = "python3"
enabled = false
"#;

    #[test]
    fn trusted_workspace_yields_plugins_with_resolved_paths() {
        let path = temp_toml(TOML);
        let config = PluginConfig::from_workspace_toml(&path, true).unwrap();
        assert!(config.notices.is_empty());
        let local = &config.plugins[0];
        assert_eq!(
            local.command,
            path.parent()
                .unwrap()
                .join("./tools/my-plugin")
                .to_string_lossy()
        );
        assert_eq!(local.args, ["--fast"]);
        assert_eq!(local.options, json!({"history": "bench.jsonl"}));
        assert_eq!(local.cwd.as_deref(), path.parent());
        assert_eq!(config.plugins[1].command, "python3");
        assert!(!config.plugins[1].enabled);
    }

    #[test]
    fn untrusted_workspace_yields_only_notices() {
        let path = temp_toml(TOML);
        let config = PluginConfig::from_workspace_toml(&path, false).unwrap();
        assert!(config.plugins.is_empty());
        assert_eq!(config.notices.len(), 2);
        assert!(config.notices[0].contains("'local'"));
        assert!(config.notices[0].contains("not trusted"));
    }

    #[test]
    fn missing_file_means_no_plugins_and_bad_toml_is_an_error() {
        let missing = std::env::temp_dir().join("cudalens-definitely-missing/cudalens.toml");
        assert_eq!(
            PluginConfig::from_workspace_toml(&missing, true).unwrap(),
            PluginConfig::default()
        );
        let bad = temp_toml("[[plugins]]\nname = 3\n");
        assert!(PluginConfig::from_workspace_toml(&bad, true).is_err());
    }

    #[test]
    fn user_settings_and_merge() {
        let user = PluginConfig::from_user_settings(&json!([
            {"name": "py", "command": "/usr/bin/python3", "args": ["x.py"]}
        ]))
        .unwrap();
        assert!(user.plugins[0].enabled);
        let ws = PluginConfig::from_workspace_toml(&temp_toml(TOML), true).unwrap();
        let merged = user.merge(ws);
        assert_eq!(merged.plugins.len(), 2);
        assert_eq!(merged.plugins[0].command, "/usr/bin/python3");
        assert!(merged.notices[0].contains("declared twice"));
        assert!(PluginConfig::from_user_settings(&json!([{"name": "a"}])).is_err());
        assert!(
            PluginConfig::from_user_settings(&json!([
                {"name": "a", "command": "x"}, {"name": "a", "command": "y"}
            ]))
            .is_err()
        );
    }
}
