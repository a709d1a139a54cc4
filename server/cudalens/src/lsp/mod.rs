//! The language server: handlers and conversion only. Features are
//! computed by `cudalens-ide`, background work by `crate::services`; this
//! module owns the documents (one task each), the client, and the wire.
//!
//! - `server.rs`: the `LanguageServer` handlers;
//! - `document.rs`: the per-document task (ordering, staleness, off-runtime work);
//! - `state.rs`: open documents, settings, client capabilities, the services;
//! - `main_loop.rs`: the services' events applied to the state;
//! - `ui.rs`: the services' `Ui` over the client;
//! - `capabilities.rs`: what the server offers and the client supports;
//! - `convert.rs`: cudalens ↔ LSP types; `diagnostics.rs`: publishing;
//! - `workspace_rules.rs`: watching `cudalens.toml` for changes;
//! - `transport.rs`: the malformed-message guard and the shared output stream.

pub mod capabilities;
pub mod convert;
pub mod diagnostics;
pub mod document;
pub mod main_loop;
pub mod server;
pub mod state;
pub mod transport;
pub mod ui;
pub mod workspace_rules;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tower_lsp_server::LspService;

/// Runs the server on stdin/stdout until `exit` or end of input.
/// Exit status 0 after `shutdown` + `exit`, 1 otherwise (as LSP specifies).
pub fn run_stdio() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cudalens: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown_requested = Arc::new(AtomicBool::new(false));
    let flag = shutdown_requested.clone();
    runtime.block_on(async move {
        let output = transport::Output::new(tokio::io::stdout());
        let direct = output.clone();
        let (service, socket) =
            LspService::build(|client| server::CudaLens::new(client, flag, direct))
                // tower-lsp-server has no handler for this notification (LSP 3.15).
                .custom_method(
                    "window/workDoneProgress/cancel",
                    server::CudaLens::work_done_progress_cancel,
                )
                .finish();
        transport::serve(tokio::io::stdin(), output, service, socket).await;
    });
    // Reading stdin occupies a blocking thread that would otherwise hold the runtime open.
    runtime.shutdown_timeout(Duration::from_millis(200));
    if shutdown_requested.load(Ordering::SeqCst) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
