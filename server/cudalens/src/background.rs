//! Work the language server's document tasks hand to blocking threads so
//! that nothing waits for it.

use std::path::PathBuf;
use std::sync::Arc;

use cudalens_ide::Snapshot;
use cudalens_syntax::model::ModelCache;
use cudalens_syntax::preprocess::include::CompileFlags;
use tokio::task::JoinHandle;

use crate::gpu_actions::compile_commands_flags;
use crate::lsp::state::{DocEvent, ServerState};
use crate::pipeline::{self, Caches};

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

/// On an open (among `events`) of a document without caches yet: plans
/// the file's header bodies and starts parsing its
/// headers (`ModelCache::plan_ahead`) on a blocking thread while the file
/// itself is parsed on another, then looks for launches of its kernels in
/// the files beside it (`siblings`); gives the caches to build with and
/// the file's flags from `compile_commands.json`.
pub fn plan_ahead(
    events: &[DocEvent],
    has_caches: bool,
    path: &Option<PathBuf>,
    state: &ServerState,
    siblings: &crate::launches_elsewhere::Siblings,
) -> Option<JoinHandle<(Caches, CompileFlags)>> {
    let text = events.iter().find_map(|e| match e {
        DocEvent::Open { text, .. } if !has_caches => Some(text.clone()),
        _ => None,
    })?;
    let (settings, provider) = (state.settings(), state.source_provider());
    let (store, path, siblings) = (state.headers.clone(), path.clone(), siblings.clone());
    Some(tokio::task::spawn_blocking(move || {
        let base = compile_commands_flags(path.as_deref());
        let mut caches = Caches {
            model: ModelCache::sharing(store),
            ..Caches::default()
        };
        if text.len() <= settings.max_file_bytes() {
            let flags = settings.compile_flags(base.clone());
            pipeline::plan_ahead(
                &mut caches,
                &text,
                path.as_deref(),
                flags.clone(),
                &provider,
            );
            siblings.prepare(path.as_deref(), &text, &flags, &provider);
        }
        (caches, base)
    }))
}
