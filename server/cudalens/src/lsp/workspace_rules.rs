//! Watching `cudalens.toml` from the editor: clients that can watch files
//! (dynamic registration of `workspace/didChangeWatchedFiles`) are asked to
//! report changes to it, and every open document is then analysed again at
//! once. (The rules it turns off for a document are read at every analysis
//! by `rule_config::disabled_for`, so an edit always sees them, whatever the
//! client.)

use tower_lsp_server::ls_types as lsp;

use crate::rule_config::FILE_NAME;

/// The files the client is asked to watch.
pub const WATCH_GLOB: &str = "**/cudalens.toml";

/// The registration asking the client to report changes to `cudalens.toml`.
pub fn watcher_registration() -> lsp::Registration {
    let options = lsp::DidChangeWatchedFilesRegistrationOptions {
        watchers: vec![lsp::FileSystemWatcher {
            glob_pattern: lsp::GlobPattern::String(WATCH_GLOB.to_string()),
            kind: None,
        }],
    };
    lsp::Registration {
        id: "cudalens-toml".to_string(),
        method: "workspace/didChangeWatchedFiles".to_string(),
        register_options: serde_json::to_value(options).ok(),
    }
}

/// True when one of the changes is to a `cudalens.toml`.
pub fn touches_config(params: &lsp::DidChangeWatchedFilesParams) -> bool {
    params
        .changes
        .iter()
        .any(|c| c.uri.path().as_str().ends_with(&format!("/{FILE_NAME}")))
}
