//! The public face of the plugin host, used by the language server.

use std::sync::Arc;

use cudalens_plugin_protocol::requests::{Analyze, Tune};
use cudalens_plugin_protocol::{AnalyzeParams, KernelModel, TuneParams};
use tokio::task::JoinSet;

use crate::benchmark::BenchmarkService;
use crate::config::{HostSettings, PluginConfig};
use crate::process::{BenchContext, PluginLog};
use crate::status::{
    AnalyzeReport, PluginAnalysis, PluginError, PluginFailure, PluginStatus, TuneOutcome,
};
use crate::supervisor::PluginSlot;

/// Runs the configured plugins and routes requests to them.
///
/// Plugins start lazily on first use (or eagerly via [`PluginHost::start`]); every call is
/// bounded by the configured timeouts, and failures are returned, never panicked on.
/// Dropping the host kills all plugin processes.
pub struct PluginHost {
    slots: Vec<Arc<PluginSlot>>,
    settings: Arc<HostSettings>,
    bench: Arc<dyn BenchmarkService>,
    notices: Vec<String>,
}

impl PluginHost {
    /// Creates a host for `config`. No process is started yet.
    pub fn new(
        config: PluginConfig,
        settings: HostSettings,
        bench: Arc<dyn BenchmarkService>,
    ) -> Self {
        let slots = config
            .plugins
            .into_iter()
            .map(|spec| Arc::new(PluginSlot::new(spec, &settings)))
            .collect();
        PluginHost {
            slots,
            settings: Arc::new(settings),
            bench,
            notices: config.notices,
        }
    }

    /// Notices from configuration loading (e.g. plugins skipped in an untrusted workspace).
    pub fn notices(&self) -> &[String] {
        &self.notices
    }

    /// Starts every enabled plugin concurrently and performs the handshake. Failures show up
    /// in [`PluginHost::status`].
    pub async fn start(&self) {
        let mut tasks = JoinSet::new();
        for slot in &self.slots {
            let (slot, settings) = (Arc::clone(slot), self.settings.clone());
            tasks.spawn(async move { slot.ensure_started(&settings).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Sends `analyze` for one kernel model to every plugin that declared diagnostics or code
    /// actions, concurrently, each bounded by the analyze timeout.
    pub async fn analyze(&self, kernel: &KernelModel) -> AnalyzeReport {
        let params = Arc::new(AnalyzeParams {
            kernel: kernel.clone(),
        });
        let mut tasks = JoinSet::new();
        for (index, slot) in self.slots.iter().cloned().enumerate() {
            let settings = self.settings.clone();
            let params = params.clone();
            tasks.spawn(async move {
                let outcome = slot
                    .request::<Analyze>(
                        &params,
                        |c| c.diagnostics || c.code_actions,
                        settings.analyze_timeout,
                        &settings,
                        None,
                    )
                    .await;
                (index, slot.spec.name.clone(), outcome)
            });
        }
        let mut answers = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            // A panicking task would be a host bug; skip it rather than propagate.
            if let Ok(answer) = joined {
                answers.push(answer);
            }
        }
        answers.sort_by_key(|(index, ..)| *index); // deterministic order: configuration order
        let mut report = AnalyzeReport::default();
        for (_, name, outcome) in answers {
            match outcome {
                Ok(result) => report.results.push(PluginAnalysis {
                    source: name,
                    diagnostics: result.diagnostics,
                    code_actions: result.code_actions,
                }),
                // Disabled and non-diagnostic plugins are expected, not failures of this call.
                Err(PluginError::NotCapable(_) | PluginError::Disabled(_)) => {}
                Err(error) => report.failures.push(PluginFailure {
                    plugin: name,
                    error,
                }),
            }
        }
        report
    }

    /// Sends `tune` to the named plugin, or to the first plugin that can tune when `plugin`
    /// is `None`. The plugin's `host/benchmark` callbacks go to the [`BenchmarkService`].
    pub async fn tune(
        &self,
        plugin: Option<&str>,
        params: &TuneParams,
    ) -> Result<TuneOutcome, PluginFailure> {
        let candidates: Vec<&Arc<PluginSlot>> = match plugin {
            Some(name) => match self.slot(name) {
                Some(slot) => vec![slot],
                None => {
                    return Err(PluginFailure {
                        plugin: name.to_owned(),
                        error: PluginError::UnknownPlugin(name.to_owned()),
                    });
                }
            },
            None => self.slots.iter().collect(),
        };
        let context = BenchContext {
            service: self.bench.clone(),
            tune: Arc::new(params.clone()),
        };
        let mut last_failure = None;
        for slot in candidates {
            let outcome = slot
                .request::<Tune>(
                    params,
                    |c| c.tuning,
                    self.settings.tune_timeout,
                    &self.settings,
                    Some(&context),
                )
                .await;
            let name = slot.spec.name.clone();
            match outcome {
                Ok(result) => {
                    return Ok(TuneOutcome {
                        source: name,
                        result,
                    });
                }
                Err(error @ (PluginError::NotCapable(_) | PluginError::Disabled(_)))
                    if plugin.is_none() =>
                {
                    last_failure.get_or_insert(PluginFailure {
                        plugin: name,
                        error,
                    });
                }
                Err(error) => {
                    return Err(PluginFailure {
                        plugin: name,
                        error,
                    });
                }
            }
        }
        Err(last_failure.unwrap_or(PluginFailure {
            plugin: String::new(),
            error: PluginError::NotCapable("tune (no plugin declares tuning)".into()),
        }))
    }

    /// Name, state, restarts and last error of every declared plugin. Never blocks.
    pub fn status(&self) -> Vec<PluginStatus> {
        self.slots.iter().map(|s| s.status()).collect()
    }

    /// Enables or disables a plugin by name; returns false when there is no such plugin.
    /// Enabling also revives a plugin the host disabled, with a fresh restart budget.
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> bool {
        match self.slot(name) {
            Some(slot) => {
                slot.set_enabled(enabled, &self.settings).await;
                true
            }
            None => false,
        }
    }

    /// The last `lines` lines of a plugin's stderr and `$/log` output.
    pub fn log_tail(&self, name: &str, lines: usize) -> Vec<String> {
        self.slot(name)
            .map(|s| PluginLog::tail(&s.log, lines))
            .unwrap_or_default()
    }

    /// Sends `shutdown` + `exit` to every running plugin, killing those that do not comply.
    pub async fn shutdown(&self) {
        let mut tasks = JoinSet::new();
        for slot in &self.slots {
            let (slot, settings) = (Arc::clone(slot), self.settings.clone());
            tasks.spawn(async move { slot.stop(&settings).await });
        }
        while tasks.join_next().await.is_some() {}
    }

    fn slot(&self, name: &str) -> Option<&Arc<PluginSlot>> {
        self.slots.iter().find(|s| s.spec.name == name)
    }
}
