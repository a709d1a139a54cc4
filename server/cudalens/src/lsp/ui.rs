//! The services' [`Ui`] over the LSP client: messages, questions
//! (`window/showMessageRequest`), `$/progress` with cancellation,
//! `window/showDocument` and `workspace/applyEdit`, each only as far as the
//! client said it supports them.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use dashmap::DashMap;
use tower_lsp_server::ls_types as lsp;
use tower_lsp_server::{Cancellable, Client, OngoingProgress, Unbounded};

use cudalens_plugin_host::BoxFuture;
use cudalens_plugin_host::protocol::TextEdit;

use super::capabilities::ClientSupport;
use super::convert;
use crate::services::{Level, Progress, Ui};

pub struct ClientUi {
    client: Client,
    support: Arc<RwLock<ClientSupport>>,
    /// Cancellation flags of running progress reports, by token.
    cancels: Arc<DashMap<String, Arc<AtomicBool>>>,
    next_token: AtomicU64,
}

impl ClientUi {
    pub fn new(client: Client, support: Arc<RwLock<ClientSupport>>) -> Self {
        ClientUi {
            client,
            support,
            cancels: Arc::default(),
            next_token: AtomicU64::new(0),
        }
    }

    fn support(&self) -> ClientSupport {
        self.support.read().map(|s| *s).unwrap_or_default()
    }

    /// `window/workDoneProgress/cancel`: the job stops at its next check.
    pub fn cancel(&self, token: &lsp::ProgressToken) {
        let key = match token {
            lsp::NumberOrString::Number(n) => n.to_string(),
            lsp::NumberOrString::String(s) => s.clone(),
        };
        if let Some(flag) = self.cancels.get(&key) {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

fn message_type(level: Level) -> lsp::MessageType {
    match level {
        Level::Error => lsp::MessageType::ERROR,
        Level::Warning => lsp::MessageType::WARNING,
        Level::Info => lsp::MessageType::INFO,
        Level::Log => lsp::MessageType::LOG,
    }
}

impl Ui for ClientUi {
    fn show(&self, level: Level, message: String) -> BoxFuture<'_, ()> {
        Box::pin(self.client.show_message(message_type(level), message))
    }

    fn log(&self, level: Level, message: String) -> BoxFuture<'_, ()> {
        Box::pin(self.client.log_message(message_type(level), message))
    }

    fn ask<'a>(
        &'a self,
        level: Level,
        message: String,
        choices: &'a [&'a str],
    ) -> BoxFuture<'a, Option<String>> {
        Box::pin(async move {
            if !self.support().show_message_request {
                return None;
            }
            let actions = choices
                .iter()
                .map(|title| lsp::MessageActionItem {
                    title: title.to_string(),
                    properties: Default::default(),
                })
                .collect();
            let answer = self
                .client
                .show_message_request(message_type(level), message, Some(actions))
                .await;
            answer.ok().flatten().map(|item| item.title)
        })
    }

    fn progress(&self, title: String) -> BoxFuture<'_, Box<dyn Progress>> {
        Box::pin(async move {
            let cancel = Arc::new(AtomicBool::new(false));
            let none = |cancel| -> Box<dyn Progress> {
                Box::new(ClientProgress {
                    ongoing: None,
                    token: None,
                    cancels: None,
                    cancel,
                })
            };
            if !self.support().work_done_progress {
                return none(cancel);
            }
            let n = self.next_token.fetch_add(1, Ordering::Relaxed);
            let key = format!("cudalens/gpu/{n}");
            let token = lsp::NumberOrString::String(key.clone());
            if self
                .client
                .create_work_done_progress(token.clone())
                .await
                .is_err()
            {
                return none(cancel);
            }
            self.cancels.insert(key.clone(), cancel.clone());
            let ongoing = self
                .client
                .progress(token, title)
                .with_cancel_button()
                .begin()
                .await;
            Box::new(ClientProgress {
                ongoing: Some(ongoing),
                token: Some(key),
                cancels: Some(self.cancels.clone()),
                cancel,
            })
        })
    }

    fn open(&self, path: &Path) -> BoxFuture<'_, bool> {
        let path = path.to_path_buf();
        Box::pin(async move {
            let Some(uri) = convert::path_to_uri(&path) else {
                return false;
            };
            if !self.support().show_document {
                let message = format!("wrote {}", path.display());
                self.client
                    .show_message(lsp::MessageType::INFO, message)
                    .await;
                return false;
            }
            let params = lsp::ShowDocumentParams {
                uri,
                external: None,
                take_focus: Some(true),
                selection: None,
            };
            self.client.show_document(params).await.unwrap_or(false)
        })
    }

    fn apply_edits<'a>(
        &'a self,
        uri: &'a str,
        edits: &'a [TextEdit],
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let uri: lsp::Uri = uri.parse().map_err(|_| format!("invalid uri {uri}"))?;
            let edit = convert::from_plugin_edits(&uri, edits);
            match self.client.apply_edit(edit).await {
                Ok(response) if response.applied => Ok(()),
                Ok(response) => Err(format!(
                    "the editor did not apply the edits{}",
                    response
                        .failure_reason
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                )),
                Err(e) => Err(format!("applying the edits failed: {e}")),
            }
        })
    }
}

/// `$/progress` for one job when the client supports it; the cancellation
/// flag exists either way (timeouts use it).
struct ClientProgress {
    ongoing: Option<OngoingProgress<Unbounded, Cancellable>>,
    token: Option<String>,
    cancels: Option<Arc<DashMap<String, Arc<AtomicBool>>>>,
    cancel: Arc<AtomicBool>,
}

impl Progress for ClientProgress {
    fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    fn report(&self, message: String) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(p) = &self.ongoing {
                p.report_with_message(message, None).await;
            }
        })
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            if let (Some(key), Some(cancels)) = (&self.token, &self.cancels) {
                cancels.remove(key);
            }
            if let Some(p) = self.ongoing {
                p.finish().await;
            }
        })
    }
}
