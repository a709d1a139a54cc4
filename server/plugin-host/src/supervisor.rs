//! Supervision of one declared plugin: lazy start, handshake, restart budget, status.

use std::sync::Mutex as StdMutex;
use std::time::Duration;

use cudalens_plugin_protocol::requests::{Initialize, Request};
use cudalens_plugin_protocol::{
    Capabilities, HostInfo, InitializeParams, InitializeResult, PROTOCOL_VERSION,
    is_compatible_version,
};
use serde_json::Value;
use tokio::sync::Mutex as AsyncMutex;
use tokio::time::{Instant, timeout_at};

use crate::config::{HostSettings, PluginSpec};
use crate::process::{BenchContext, CallError, PluginLog, PluginProcess, SharedLog};
use crate::status::{PluginError, PluginState, PluginStatus};

struct SlotStatus {
    state: PluginState,
    restarts: u32,
    info: Option<InitializeResult>,
    last_error: Option<String>,
}

pub(crate) struct PluginSlot {
    pub(crate) spec: PluginSpec,
    status: StdMutex<SlotStatus>,
    /// Held for the whole of a call: plugins are sequential, one request at a time.
    process: AsyncMutex<Option<PluginProcess>>,
    pub(crate) log: SharedLog,
}

/// Which requests a call needs the plugin to support.
pub(crate) type CapabilityCheck = fn(&Capabilities) -> bool;

impl PluginSlot {
    pub(crate) fn new(spec: PluginSpec, settings: &HostSettings) -> Self {
        let state = if spec.enabled {
            PluginState::NotStarted
        } else {
            PluginState::DisabledByUser
        };
        PluginSlot {
            spec,
            status: StdMutex::new(SlotStatus {
                state,
                restarts: 0,
                info: None,
                last_error: None,
            }),
            process: AsyncMutex::new(None),
            log: PluginLog::shared(settings.stderr_lines),
        }
    }

    fn with_status<T>(&self, f: impl FnOnce(&mut SlotStatus) -> T) -> T {
        f(&mut self.status.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn status(&self) -> PluginStatus {
        self.with_status(|s| PluginStatus {
            name: self.spec.name.clone(),
            origin: self.spec.origin.clone(),
            state: s.state.clone(),
            restarts: s.restarts,
            version: s.info.as_ref().map(|i| i.version.clone()),
            capabilities: s.info.as_ref().map(|i| i.capabilities),
            last_error: s.last_error.clone(),
        })
    }

    fn refuse_if_disabled(&self) -> Result<(), PluginError> {
        self.with_status(|s| match &s.state {
            PluginState::Disabled { reason } => Err(PluginError::Disabled(reason.clone())),
            PluginState::DisabledByUser => Err(PluginError::Disabled(
                "disabled in the configuration".into(),
            )),
            _ => Ok(()),
        })
    }

    /// Sends one request, starting or restarting the process first when needed, and parses
    /// the result. Everything, including waiting for another call on this plugin, is bounded
    /// by `timeout`.
    pub(crate) async fn request<R: Request>(
        &self,
        params: &R::Params,
        needs: CapabilityCheck,
        timeout: Duration,
        settings: &HostSettings,
        bench: Option<&BenchContext>,
    ) -> Result<R::Result, PluginError> {
        let method = R::METHOD;
        let params = serde_json::to_value(params).unwrap_or(Value::Null);
        let deadline = Instant::now() + timeout;
        self.refuse_if_disabled()?;
        let mut guard = timeout_at(deadline, self.process.lock())
            .await
            .map_err(|_| PluginError::Busy)?;
        self.refuse_if_disabled()?; // may have been disabled while we waited
        if guard.is_none() {
            *guard = Some(self.start(settings, deadline).await?);
        }
        let capable = self.with_status(|s| s.info.as_ref().is_some_and(|i| needs(&i.capabilities)));
        if !capable {
            return Err(PluginError::NotCapable(method.to_owned()));
        }
        let Some(process) = guard.as_mut() else {
            return Err(PluginError::Failed("plugin process missing".into()));
        };
        let outcome = timeout_at(deadline, process.call(method, params, bench)).await;
        let timed_out = outcome.is_err().then_some(timeout);
        let fault = match outcome {
            Ok(Ok(value)) => match serde_json::from_value::<R::Result>(value) {
                Ok(parsed) => return Ok(parsed),
                Err(e) => format!("answered {method} with a malformed result: {e}"),
            },
            Ok(Err(CallError::Rpc(error))) => return Err(PluginError::Rpc(error)),
            Ok(Err(CallError::Fault(message))) => message,
            Err(_) => format!("did not answer {method} within {timeout:?}"),
        };
        // The stream may be mid-message or the plugin wedged: discard the process.
        if let Some(mut process) = guard.take() {
            process.kill();
        }
        Err(self.record_fault(fault, settings, timed_out))
    }

    /// Starts the process now unless it runs or is disabled (bounded by the initialize timeout).
    pub(crate) async fn ensure_started(&self, settings: &HostSettings) -> Result<(), PluginError> {
        let deadline = Instant::now() + settings.initialize_timeout;
        self.refuse_if_disabled()?;
        let mut guard = timeout_at(deadline, self.process.lock())
            .await
            .map_err(|_| PluginError::Busy)?;
        if guard.is_none() {
            *guard = Some(self.start(settings, deadline).await?);
        }
        Ok(())
    }

    /// Spawns the process and performs the `initialize` handshake.
    async fn start(
        &self,
        settings: &HostSettings,
        deadline: Instant,
    ) -> Result<PluginProcess, PluginError> {
        self.with_status(|s| {
            if matches!(s.state, PluginState::Restarting) {
                s.restarts += 1;
            }
            s.state = PluginState::Starting;
        });
        let mut process = match PluginProcess::spawn(&self.spec, self.log.clone()) {
            Ok(p) => p,
            Err(e) => {
                let message = format!("could not start `{}`: {e}", self.spec.command);
                return Err(self.record_fault(message, settings, None));
            }
        };
        let params = InitializeParams {
            protocol_version: PROTOCOL_VERSION.into(),
            host: HostInfo {
                name: settings.host_name.clone(),
                version: settings.host_version.clone(),
            },
            options: self.spec.options.clone(),
        };
        let params = serde_json::to_value(params).unwrap_or(Value::Null);
        let init_deadline = deadline.min(Instant::now() + settings.initialize_timeout);
        let answer = timeout_at(
            init_deadline,
            process.call(Initialize::METHOD, params, None),
        )
        .await;
        let failure = match answer {
            Ok(Ok(value)) => match serde_json::from_value::<InitializeResult>(value) {
                Ok(info) if is_compatible_version(&info.protocol_version) => {
                    self.with_status(|s| {
                        s.state = PluginState::Running;
                        s.info = Some(info);
                    });
                    return Ok(process);
                }
                Ok(info) => {
                    process.kill();
                    let reason = format!(
                        "speaks protocol {} but the host speaks {PROTOCOL_VERSION}",
                        info.protocol_version
                    );
                    // Restarting cannot fix a version mismatch.
                    self.with_status(|s| {
                        s.state = PluginState::Disabled {
                            reason: reason.clone(),
                        };
                        s.last_error = Some(reason.clone());
                    });
                    return Err(PluginError::Disabled(reason));
                }
                Err(e) => format!("answered initialize with a malformed result: {e}"),
            },
            Ok(Err(CallError::Rpc(e))) => format!("refused initialize: {e}"),
            Ok(Err(CallError::Fault(message))) => message,
            Err(_) => format!(
                "did not answer initialize within {:?}",
                settings.initialize_timeout
            ),
        };
        process.kill();
        Err(self.record_fault(failure, settings, None))
    }

    /// Records a failure: schedules a restart, or disables the plugin once the restart budget
    /// is spent. Returns the error to hand to the caller.
    fn record_fault(
        &self,
        message: String,
        settings: &HostSettings,
        timed_out: Option<Duration>,
    ) -> PluginError {
        let message = format!("plugin '{}' {message}", self.spec.name);
        let disabled = self.with_status(|s| {
            s.last_error = Some(message.clone());
            if s.restarts >= settings.max_restarts {
                s.state = PluginState::Disabled {
                    reason: format!(
                        "disabled after {} restarts; last error: {message}",
                        s.restarts
                    ),
                };
                true
            } else {
                s.state = PluginState::Restarting;
                false
            }
        });
        match (timed_out, disabled) {
            (Some(after), false) => PluginError::Timeout { after, message },
            _ => PluginError::Failed(if disabled {
                format!("{message} (now disabled)")
            } else {
                message
            }),
        }
    }

    /// Enables (resetting the restart budget) or disables the plugin. Disabling stops it.
    pub(crate) async fn set_enabled(&self, enabled: bool, settings: &HostSettings) {
        if enabled {
            self.with_status(|s| {
                if matches!(
                    s.state,
                    PluginState::DisabledByUser | PluginState::Disabled { .. }
                ) {
                    s.state = PluginState::NotStarted;
                    s.restarts = 0;
                }
            });
        } else {
            self.with_status(|s| s.state = PluginState::DisabledByUser);
            self.stop(settings).await;
        }
    }

    /// Stops the process politely (bounded by the shutdown timeout).
    pub(crate) async fn stop(&self, settings: &HostSettings) {
        let Ok(mut guard) =
            tokio::time::timeout(settings.shutdown_timeout, self.process.lock()).await
        else {
            return; // a call is in flight; it is bounded by its own timeout
        };
        if let Some(process) = guard.take() {
            process.shutdown(settings.shutdown_timeout).await;
        }
        self.with_status(|s| {
            if matches!(s.state, PluginState::Running | PluginState::Starting) {
                s.state = PluginState::Stopped;
            }
        });
    }
}
