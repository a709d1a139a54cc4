//! Optimizer plugins: which to start (user settings + the workspace's
//! `cudalens.toml`, the latter only in a trusted workspace), sending each
//! kernel's model to `analyze` after the built-in analysis, and reporting
//! the answers as [`Event::PluginResults`].

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Value, json};

use cudalens_ide::plugin_model::kernel_model;
use cudalens_ide::{PluginFindings, Settings, Snapshot};
use cudalens_plugin_host::{HostSettings, PluginConfig, PluginHost};

use super::tune::PluginBenchmarks;
use super::{Event, Events, Level, NewestVersion, Ui};

/// Quiet time after the last edit before plugins are asked.
const DEBOUNCE: Duration = Duration::from_millis(300);
const TRUST: &str = "Trust";
const DONT_TRUST: &str = "Don't trust";

/// The plugin service: the running host (if any plugin is configured) and
/// what the session remembers about trust and notices.
pub struct Plugins {
    host: RwLock<Option<Arc<PluginHost>>>,
    /// The user's answer to "trust this workspace?", remembered for the session.
    trusted: Mutex<Option<bool>>,
    shown_notices: Mutex<HashSet<String>>,
    /// Serialises restarts so the trust question is asked once.
    restarting: tokio::sync::Mutex<()>,
    ui: Arc<dyn Ui>,
    events: Events,
}

/// The plugin-related part of the settings: a change here restarts the host.
pub fn settings_key(s: &Settings) -> (Value, Vec<String>, bool) {
    let mut disabled: Vec<String> = s.disabled_plugins.iter().cloned().collect();
    disabled.sort();
    (s.plugins.clone(), disabled, s.trust_workspace)
}

impl Plugins {
    pub fn new(ui: Arc<dyn Ui>, events: Events) -> Self {
        Plugins {
            host: RwLock::default(),
            trusted: Mutex::default(),
            shown_notices: Mutex::default(),
            restarting: tokio::sync::Mutex::default(),
            ui,
            events,
        }
    }

    pub fn host(&self) -> Option<Arc<PluginHost>> {
        self.host.read().ok().and_then(|h| h.clone())
    }

    fn replace(&self, host: Option<Arc<PluginHost>>) -> Option<Arc<PluginHost>> {
        let mut guard = self.host.write().unwrap_or_else(|p| p.into_inner());
        std::mem::replace(&mut *guard, host)
    }

    fn remembered_trust(&self) -> Option<bool> {
        self.trusted.lock().ok().and_then(|t| *t)
    }

    fn remember_trust(&self, trusted: bool) {
        if let Ok(mut t) = self.trusted.lock() {
            *t = Some(trusted);
        }
    }

    /// True the first time a notice is seen.
    fn first_time(&self, notice: &str) -> bool {
        self.shown_notices
            .lock()
            .is_ok_and(|mut shown| shown.insert(notice.to_string()))
    }

    /// (Re)starts the plugin host from `settings` and the workspace at
    /// `root`; sends [`Event::PluginsStarted`] when plugins run.
    pub async fn restart(&self, settings: Arc<Settings>, root: Option<PathBuf>) {
        let _one_at_a_time = self.restarting.lock().await;
        let mut notices = Vec::new();
        let user = PluginConfig::from_user_settings(&settings.plugins).unwrap_or_else(|e| {
            notices.push(format!("cudalens.plugins: {e}"));
            PluginConfig::default()
        });
        let workspace = match &root {
            Some(root) => {
                self.workspace_config(&settings, &root.join("cudalens.toml"), &mut notices)
                    .await
            }
            None => PluginConfig::default(),
        };
        let mut config = user.merge(workspace);
        if let Some(root) = root {
            let exported = tokio::task::spawn_blocking(move || export_history(&root))
                .await
                .ok()
                .flatten();
            if let Some(path) = exported {
                offer_history(&mut config, &path);
            }
        }
        let host = (!config.plugins.is_empty()).then(|| {
            let benchmarks = PluginBenchmarks::new(self.events.clone());
            Arc::new(PluginHost::new(
                config.clone(),
                HostSettings::default(),
                Arc::new(benchmarks),
            ))
        });
        notices.extend(config.notices);
        if let Some(host) = &host {
            for name in &settings.disabled_plugins {
                host.set_enabled(name, false).await;
            }
        }
        let has_plugins = host.is_some();
        if let Some(old) = self.replace(host) {
            old.shutdown().await;
        }
        for notice in notices {
            if self.first_time(&notice) {
                self.ui.show(Level::Info, notice).await;
            }
        }
        if has_plugins {
            let _ = self.events.send(Event::PluginsStarted);
        }
    }

    /// The workspace's plugins: only when trusted (by setting, by an earlier
    /// answer, or by asking the user now).
    async fn workspace_config(
        &self,
        settings: &Settings,
        toml: &Path,
        notices: &mut Vec<String>,
    ) -> PluginConfig {
        let untrusted = match PluginConfig::from_workspace_toml(toml, false) {
            Ok(config) => config,
            Err(e) => {
                notices.push(e.to_string());
                return PluginConfig::default();
            }
        };
        if untrusted.notices.is_empty() {
            return untrusted; // declares no plugins
        }
        let trusted = if settings.trust_workspace {
            true
        } else if let Some(answer) = self.remembered_trust() {
            answer
        } else {
            let message = format!(
                "{} declares cudalens plugins, which are programs cudalens would run. Trust this workspace and start its plugins?",
                toml.display()
            );
            let answer = self
                .ui
                .ask(Level::Warning, message, &[TRUST, DONT_TRUST])
                .await;
            let answer = answer.as_deref() == Some(TRUST);
            self.remember_trust(answer);
            answer
        };
        if !trusted {
            return untrusted; // its notices say which plugins were not started
        }
        PluginConfig::from_workspace_toml(toml, true).unwrap_or_else(|e| {
            notices.push(e.to_string());
            PluginConfig::default()
        })
    }

    /// Asks the plugins about `snapshot`'s kernels once the text has been
    /// stable for `DEBOUNCE`.
    pub fn schedule(&self, snapshot: &Arc<Snapshot>, newest: NewestVersion) {
        let Some(host) = self.host() else {
            return;
        };
        if snapshot.analyzed.analysis.kernels.is_empty() {
            return;
        }
        let (ui, events, snapshot) = (self.ui.clone(), self.events.clone(), snapshot.clone());
        tokio::spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            if !newest.is(snapshot.version) {
                return;
            }
            let mut results = Vec::new();
            for kernel in &snapshot.analyzed.analysis.kernels {
                let report = host.analyze(&kernel_model(&snapshot, kernel)).await;
                for failure in report.failures {
                    let text = format!(
                        "cudalens: plugin {} failed: {}",
                        failure.plugin, failure.error
                    );
                    ui.log(Level::Warning, text).await;
                }
                results.extend(report.results.into_iter().map(|analysis| PluginFindings {
                    kernel_span: kernel.span,
                    analysis,
                }));
            }
            let _ = events.send(Event::PluginResults {
                uri: snapshot.uri.clone(),
                version: snapshot.version,
                results,
            });
        });
    }
}

/// Writes the workspace's benchmark history as tuner training data
/// (`.cudalens/tuning-history.jsonl`); `None` when there is no history.
fn export_history(root: &Path) -> Option<PathBuf> {
    let db = cudalens_gpu::history::History::default_path(root);
    if !db.exists() {
        return None;
    }
    let history = cudalens_gpu::history::History::open(root).ok()?;
    let export = crate::tuning_data::export(&history).ok()?;
    let path = db.with_file_name("tuning-history.jsonl");
    std::fs::write(&path, export.lines).ok()?;
    Some(path)
}

/// Every plugin gets the exported history as its `history` option unless
/// its configuration names one (PROTOCOL.md, "initialize").
fn offer_history(config: &mut PluginConfig, path: &Path) {
    for spec in &mut config.plugins {
        if spec.options.is_null() {
            spec.options = json!({});
        }
        if let Some(options) = spec.options.as_object_mut() {
            options
                .entry("history")
                .or_insert_with(|| json!(path.to_string_lossy()));
        }
    }
}
