//! Optimizer plugins: which to start (user settings + the workspace's
//! `cudalens.toml`, the latter only in a trusted workspace), sending each
//! kernel's model to `analyze` after the built-in analysis, and handing the
//! answers back to the document's task.

use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Value, json};
use tower_lsp_server::ls_types::{MessageActionItem, MessageType};

use cudalens_analysis::KernelReport;
use cudalens_plugin_host::{HostSettings, PluginAnalysis, PluginConfig, PluginHost};
use cudalens_syntax::Span;

use super::config::Settings;
use super::convert;
use super::features::shared_array_bytes;
use super::state::{DocEvent, ServerState, Snapshot};
use super::tune::GpuBenchmarks;

/// Quiet time after the last edit before plugins are asked.
const DEBOUNCE: Duration = Duration::from_millis(300);
const TRUST: &str = "Trust";
const DONT_TRUST: &str = "Don't trust";

/// One plugin's answer for one kernel.
#[derive(Debug, Clone)]
pub struct PluginFindings {
    pub kernel_span: Span,
    pub analysis: PluginAnalysis,
}

#[derive(Default)]
pub struct Plugins {
    host: RwLock<Option<Arc<PluginHost>>>,
    /// The user's answer to "trust this workspace?", remembered for the session.
    trusted: Mutex<Option<bool>>,
    shown_notices: Mutex<HashSet<String>>,
    /// Serialises restarts so the trust question is asked once.
    restarting: tokio::sync::Mutex<()>,
}

impl Plugins {
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
}

/// The plugin-related part of the settings: a change here restarts the host.
pub fn settings_key(s: &Settings) -> (Value, Vec<String>, bool) {
    let mut disabled: Vec<String> = s.disabled_plugins.iter().cloned().collect();
    disabled.sort();
    (s.plugins.clone(), disabled, s.trust_workspace)
}

/// (Re)starts the plugin host from the current settings and workspace.
pub async fn restart(state: Arc<ServerState>) {
    let _one_at_a_time = state.plugins.restarting.lock().await;
    let settings = state.settings();
    let mut notices = Vec::new();
    let user = PluginConfig::from_user_settings(&settings.plugins).unwrap_or_else(|e| {
        notices.push(format!("cudalens.plugins: {e}"));
        PluginConfig::default()
    });
    let workspace = match state.workspace_root() {
        Some(root) => {
            workspace_config(&state, &settings, &root.join("cudalens.toml"), &mut notices).await
        }
        None => PluginConfig::default(),
    };
    let mut config = user.merge(workspace);
    if let Some(root) = state.workspace_root() {
        let root = root.to_path_buf();
        let exported = tokio::task::spawn_blocking(move || export_history(&root))
            .await
            .ok()
            .flatten();
        if let Some(path) = exported {
            offer_history(&mut config, &path);
        }
    }
    let host = (!config.plugins.is_empty()).then(|| {
        Arc::new(PluginHost::new(
            config.clone(),
            HostSettings::default(),
            Arc::new(GpuBenchmarks::new(&state)),
        ))
    });
    notices.extend(config.notices);
    if let Some(host) = &host {
        for name in &settings.disabled_plugins {
            host.set_enabled(name, false).await;
        }
    }
    let had_plugins = host.is_some();
    if let Some(old) = state.plugins.replace(host) {
        old.shutdown().await;
    }
    for notice in notices {
        if state.plugins.first_time(&notice) {
            state.client.show_message(MessageType::INFO, notice).await;
        }
    }
    if had_plugins {
        state.reanalyze_all();
    }
}

/// Writes the workspace's benchmark history as tuner training data
/// (`.cudalens/tuning-history.jsonl`); `None` when there is no history.
fn export_history(root: &Path) -> Option<std::path::PathBuf> {
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

/// The workspace's plugins: only when trusted (by setting, by an earlier
/// answer, or by asking the user now).
async fn workspace_config(
    state: &ServerState,
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
    } else if let Some(answer) = state.plugins.remembered_trust() {
        answer
    } else {
        let answer = ask_trust(state, toml).await;
        state.plugins.remember_trust(answer);
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

async fn ask_trust(state: &ServerState, toml: &Path) -> bool {
    if !state.support().show_message_request {
        return false;
    }
    let message = format!(
        "{} declares cudalens plugins, which are programs cudalens would run. Trust this workspace and start its plugins?",
        toml.display()
    );
    let actions = [TRUST, DONT_TRUST]
        .map(|title| MessageActionItem {
            title: title.to_string(),
            properties: Default::default(),
        })
        .to_vec();
    matches!(
        state.client.show_message_request(MessageType::WARNING, message, Some(actions)).await,
        Ok(Some(item)) if item.title == TRUST
    )
}

/// Asks the plugins about `snapshot`'s kernels once the text has been stable
/// for [`DEBOUNCE`]; the answers go to the document's task.
pub fn schedule(state: &Arc<ServerState>, snapshot: &Arc<Snapshot>, generation: u64) {
    let Some(host) = state.plugins.host() else {
        return;
    };
    if snapshot.analyzed.analysis.kernels.is_empty() {
        return;
    }
    let (state, snapshot) = (state.clone(), snapshot.clone());
    tokio::spawn(async move {
        tokio::time::sleep(DEBOUNCE).await;
        if !state.is_current(&snapshot.uri, generation, snapshot.version) {
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
                state.client.log_message(MessageType::WARNING, text).await;
            }
            results.extend(report.results.into_iter().map(|analysis| PluginFindings {
                kernel_span: kernel.span,
                analysis,
            }));
        }
        state.send(
            &snapshot.uri,
            DocEvent::PluginResults {
                version: snapshot.version,
                results,
            },
        );
    });
}

/// The kernel model sent to `analyze` (PROTOCOL.md, "analyze").
pub fn kernel_model(snapshot: &Snapshot, kernel: &KernelReport) -> Value {
    let index = &snapshot.index;
    let model = &snapshot.analyzed.model;
    let analysis = &snapshot.analyzed.analysis;
    let function = model.function(&kernel.name);
    let parameters: Vec<Value> = function
        .map(|f| {
            f.params
                .iter()
                .map(|p| json!({"name": p.name, "type": p.ty.display()}))
                .collect()
        })
        .unwrap_or_default();
    let shared_arrays: Vec<Value> = function
        .map(|f| {
            f.shared_decls()
                .into_iter()
                .map(|d| json!({"name": d.name, "element_type": d.ty.display(), "bytes": shared_array_bytes(model, f, d)}))
                .collect()
        })
        .unwrap_or_default();
    let inside = |span: Span| kernel.span.start <= span.start && span.end <= kernel.span.end;
    let range = |span: Span| {
        serde_json::to_value(convert::to_plugin_range(convert::range(index, span)))
            .unwrap_or(Value::Null)
    };
    let diagnostics: Vec<Value> = analysis
        .diagnostics
        .iter()
        .filter(|d| inside(d.span))
        .map(|d| json!({"code": d.code, "message": d.message, "severity": convert::plugin_severity_name(d.severity), "range": range(d.span)}))
        .collect();
    let accesses: Vec<Value> = analysis
        .accesses
        .iter()
        .filter(|a| *a.kernel == *kernel.name)
        .map(|a| {
            let mut v = serde_json::to_value(a).unwrap_or_else(|_| json!({}));
            if let Value::Object(map) = &mut v {
                map.remove("span");
                map.insert("range".into(), range(a.span));
                map.insert("pattern".into(), json!(access_pattern(a)));
                if let Some(sectors) = a.sectors_per_request {
                    map.insert("transactions_per_request".into(), json!(sectors));
                }
            }
            v
        })
        .collect();
    json!({
        "name": kernel.name,
        "uri": snapshot.uri.as_str(),
        "source": kernel.span.text(&snapshot.text),
        "range": range(kernel.span),
        "block": kernel.block,
        "parameters": parameters,
        "shared_arrays": shared_arrays,
        "analysis": {"diagnostics": diagnostics, "accesses": accesses},
        "target_arch": snapshot.settings.arch,
        "adapter": null,
        // What tuners learn from; the same features are stored with benchmark runs.
        "features": cudalens_analysis::tuning::kernel_features(model, analysis, &kernel.name, &snapshot.settings.arch),
    })
}

fn access_pattern(a: &cudalens_analysis::AccessReport) -> &'static str {
    match (a.sectors_per_request, a.ideal_sectors, a.bank_conflict_ways) {
        (Some(s), Some(ideal), _) if s > ideal + 0.5 => "uncoalesced",
        (Some(_), _, _) => "coalesced",
        (_, _, Some(ways)) if ways > 1.0 => "bank-conflict",
        _ => "conflict-free",
    }
}
