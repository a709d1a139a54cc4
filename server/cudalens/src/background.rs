//! Work the language server's document tasks hand to blocking threads so
//! that nothing waits for it.

use std::sync::Arc;

use cudalens_ide::Snapshot;

/// Makes the snapshot's outline on a blocking thread now that its
/// diagnostics are out, so the next edit does not wait for it (see
/// `release_published_model`).
pub fn prepare_outline(snapshot: &Arc<Snapshot>) {
    let snapshot = snapshot.clone();
    tokio::task::spawn_blocking(move || drop(snapshot.analyzed.outline()));
}

/// Frees a replaced snapshot or a dropped syntax tree on a blocking thread:
/// freeing a large file's model, analysis or tree takes milliseconds, which
/// nothing should wait for.
pub fn drop_in_background<T: Send + 'static>(value: Option<T>) {
    if let Some(value) = value {
        tokio::task::spawn_blocking(move || drop(value));
    }
}
