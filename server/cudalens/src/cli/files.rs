//! Which files `check` analyses: explicit files as given, directories
//! searched recursively for `.cu`/`.cuh` and for C++ headers (`.h`, `.hpp`,
//! ...), which count only when they hold CUDA code (kernels live in headers
//! in most libraries); binary and over-large files skipped with a notice.

use std::path::{Path, PathBuf};

use cudalens_syntax::file_kind::FileKind;

/// A file to analyse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub path: PathBuf,
    /// A C++ header found by walking a directory: reported only if it
    /// holds CUDA code.
    pub only_if_cuda: bool,
}
/// Bytes inspected for NUL when deciding whether a file is binary (as git does).
const BINARY_SNIFF_BYTES: usize = 8000;

/// Expands the command-line paths into files, in a stable order.
/// Fails on the first path that does not exist.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<Source>, String> {
    discover_with(paths, false)
}

/// [`discover`], with the C++ sources of directories too when
/// `cpp_sources` (as files that count only if they hold CUDA code:
/// `transpile --included` compiles the kernels of the headers a `-x cu`
/// `main.cpp` includes).
pub fn discover_with(paths: &[PathBuf], cpp_sources: bool) -> Result<Vec<Source>, String> {
    let mut out = Vec::new();
    for path in paths {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if meta.is_dir() {
            walk(path, cpp_sources, &mut out);
        } else {
            out.push(Source {
                path: path.clone(),
                only_if_cuda: false,
            });
        }
    }
    Ok(out)
}

fn walk(dir: &Path, cpp_sources: bool, out: &mut Vec<Source>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        // `file_type` does not follow symlinks, so a link cycle cannot trap the walk.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && !hidden {
            walk(&path, cpp_sources, out);
        } else if kind.is_file() {
            match FileKind::of(&path) {
                FileKind::Cuda => out.push(Source {
                    path,
                    only_if_cuda: false,
                }),
                FileKind::CppHeader => out.push(Source {
                    path,
                    only_if_cuda: true,
                }),
                FileKind::CppSource if cpp_sources => out.push(Source {
                    path,
                    only_if_cuda: true,
                }),
                FileKind::CppSource | FileKind::Other => {}
            }
        }
    }
}

/// Why a source file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unread {
    /// Deliberately not analysed (binary, over the size limit): a notice.
    Skipped(String),
    /// Could not be read: the run is incomplete.
    Failed(String),
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::Skipped(why) | Unread::Failed(why) => f.write_str(why),
        }
    }
}

/// Reads a source file, or says why it is skipped or could not be read.
pub fn read_source(path: &Path, max_bytes: u64) -> Result<String, Unread> {
    let meta = std::fs::metadata(path).map_err(|e| Unread::Failed(format!("cannot read: {e}")))?;
    if meta.len() > max_bytes {
        return Err(Unread::Skipped(format!(
            "skipped: {} MB is over the {} MB limit (--max-file-size-mb)",
            meta.len() / (1024 * 1024),
            max_bytes / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| Unread::Failed(format!("cannot read: {e}")))?;
    if bytes[..bytes.len().min(BINARY_SNIFF_BYTES)].contains(&0) {
        return Err(Unread::Skipped("skipped: binary file".to_string()));
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}
