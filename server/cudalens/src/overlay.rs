//! The server's view of files: open documents' unsaved text first, then the
//! disk, so a header edited but not saved is what its includers see.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use dashmap::DashMap;

use cudalens_syntax::preprocess::include::{FsProvider, SourceProvider};

/// Reads headers from open documents (unsaved text) before the disk.
pub struct OverlayProvider {
    open: Arc<DashMap<PathBuf, Arc<str>>>,
}

impl OverlayProvider {
    pub fn new(open: Arc<DashMap<PathBuf, Arc<str>>>) -> Self {
        OverlayProvider { open }
    }
}

impl SourceProvider for OverlayProvider {
    fn read(&self, path: &Path) -> Option<Arc<str>> {
        if let Some(text) = self.open.get(path) {
            return Some(text.clone());
        }
        FsProvider.read(path)
    }

    fn version(&self, path: &Path) -> Option<u64> {
        if let Some(text) = self.open.get(path) {
            return Some(cudalens_syntax::fingerprint::hash_parts(&[text.as_bytes()]));
        }
        FsProvider.version(path)
    }
}
