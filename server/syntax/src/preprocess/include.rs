//! Finding included headers: next to the including file, in configured include
//! paths, or through `compile_commands.json` (its `-I` and `-D` flags, as
//! clangd uses it).

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where header text comes from. The LSP layer serves open documents from
/// memory and everything else from disk; tests use a map.
pub trait SourceProvider: Send + Sync {
    fn read(&self, path: &Path) -> Option<Arc<str>>;

    /// `read` would find a file there (asked before reading, so a header
    /// that an include guard makes empty is never read again).
    fn exists(&self, path: &Path) -> bool {
        self.read(path).is_some()
    }

    /// A fingerprint that changes whenever the text `read` gives may have
    /// changed (`None`: no file). By default the hash of the text; on disk
    /// the size and modification time, so checking that the headers behind
    /// a cached preamble are unchanged costs a `stat` each, not a read.
    fn version(&self, path: &Path) -> Option<u64> {
        self.read(path)
            .map(|text| crate::fingerprint::hash_parts(&[text.as_bytes()]))
    }
}

/// Reads headers from disk, skipping anything too large or not text.
pub struct FsProvider;

impl SourceProvider for FsProvider {
    fn read(&self, path: &Path) -> Option<Arc<str>> {
        let meta = std::fs::metadata(path).ok()?;
        if !meta.is_file() || meta.len() > crate::document::MAX_PARSE_BYTES as u64 {
            return None;
        }
        let bytes = std::fs::read(path).ok()?;
        Some(Arc::from(String::from_utf8_lossy(&bytes).as_ref()))
    }

    fn exists(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn version(&self, path: &Path) -> Option<u64> {
        let meta = std::fs::metadata(path).ok()?;
        let modified = meta.modified().ok()?;
        let since = modified.duration_since(std::time::UNIX_EPOCH).ok()?;
        Some(crate::fingerprint::hash_parts(&[
            &meta.len().to_le_bytes(),
            &since.as_nanos().to_le_bytes(),
        ]))
    }
}

impl SourceProvider for std::collections::HashMap<PathBuf, String> {
    fn read(&self, path: &Path) -> Option<Arc<str>> {
        self.get(path).map(|s| Arc::from(s.as_str()))
    }
}

/// Flags that shape preprocessing of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CompileFlags {
    pub include_dirs: Vec<PathBuf>,
    /// `-DNAME` (value "1") and `-DNAME=VALUE`.
    pub defines: Vec<(String, String)>,
    pub undefines: Vec<String>,
    /// The device architecture nvcc compiles for, as `__CUDA_ARCH__` reads
    /// (`-arch=sm_80` → 800); `None`: the configured one.
    pub cuda_arch: Option<u32>,
}

impl CompileFlags {
    /// Parses the flags of one compiler command line (nvcc, clang or gcc spelling),
    /// relative paths taken from `directory`.
    pub fn from_args(args: &[String], directory: &Path) -> CompileFlags {
        let mut flags = CompileFlags::default();
        let mut i = 0;
        let value = |i: &mut usize, arg: &str, prefixes: &[&str]| -> Option<String> {
            for p in prefixes {
                if arg == *p {
                    *i += 1;
                    return args.get(*i).cloned();
                }
                if let Some(rest) = arg.strip_prefix(p) {
                    return Some(rest.trim_start_matches('=').to_string());
                }
            }
            None
        };
        while i < args.len() {
            let arg = args[i].as_str();
            if let Some(dir) = value(
                &mut i,
                arg,
                &["--include-path", "-I", "-isystem", "-iquote"],
            ) {
                let p = PathBuf::from(&dir);
                flags.include_dirs.push(if p.is_absolute() {
                    p
                } else {
                    directory.join(p)
                });
            } else if let Some(def) = value(&mut i, arg, &["--define-macro", "-D"]) {
                match def.split_once('=') {
                    Some((n, v)) => flags.defines.push((n.to_string(), v.to_string())),
                    None => flags.defines.push((def, "1".to_string())),
                }
            } else if let Some(u) = value(&mut i, arg, &["--undefine-macro", "-U"]) {
                flags.undefines.push(u);
            } else if let Some(a) = value(
                &mut i,
                arg,
                &["--gpu-architecture", "-arch", "--cuda-gpu-arch", "-gencode"],
            ) {
                // The first architecture named is the pass cudalens models.
                if flags.cuda_arch.is_none() {
                    flags.cuda_arch = arch_number(&a);
                }
            }
            i += 1;
        }
        flags
    }
}

/// `sm_80`, `compute_90a`, `arch=compute_80,code=sm_80` → 800, 900, 800.
fn arch_number(text: &str) -> Option<u32> {
    let at = text.find("sm_").or_else(|| text.find("compute_"))?;
    let digits: String = text[at..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse::<u32>().ok().map(|v| v * 10)
}

/// Looks for `compile_commands.json` in `dir` and its ancestors (and their `build/`).
pub fn find_compile_commands(dir: &Path) -> Option<PathBuf> {
    for d in dir.ancestors() {
        for candidate in [
            d.join("compile_commands.json"),
            d.join("build").join("compile_commands.json"),
        ] {
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// The flags `compile_commands.json` gives `file`: its own entry, else (as clangd
/// does for headers) the entry of a file in the same directory.
pub fn flags_from_compile_commands(json: &str, file: &Path) -> Option<CompileFlags> {
    let entries: Vec<serde_json::Value> = serde_json::from_str(json).ok()?;
    let entry_path = |e: &serde_json::Value| -> Option<(PathBuf, PathBuf)> {
        let dir = PathBuf::from(e.get("directory")?.as_str()?);
        let f = PathBuf::from(e.get("file")?.as_str()?);
        let f = if f.is_absolute() { f } else { dir.join(f) };
        Some((dir, f))
    };
    let same_file = entries
        .iter()
        .find(|e| entry_path(e).is_some_and(|(_, f)| f == file));
    let same_dir = || {
        entries
            .iter()
            .find(|e| entry_path(e).is_some_and(|(_, f)| f.parent() == file.parent()))
    };
    let entry = same_file.or_else(same_dir)?;
    let (dir, _) = entry_path(entry)?;
    let args: Vec<String> = if let Some(a) = entry.get("arguments").and_then(|a| a.as_array()) {
        a.iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect()
    } else {
        split_command(entry.get("command")?.as_str()?)
    };
    Some(CompileFlags::from_args(&args, &dir))
}

/// Splits a shell command line (quotes and backslashes, no expansion).
fn split_command(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_word = false;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (_, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (_, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// Resolves `#include "name"`: the including file's directory first, then the
/// include directories in order.
pub fn resolve_include(
    name: &str,
    including_dir: Option<&Path>,
    include_dirs: &[PathBuf],
    provider: &dyn SourceProvider,
) -> Option<(PathBuf, Arc<str>)> {
    let path = find_include(name, including_dir, include_dirs, provider)?;
    let text = read(provider, &path)?;
    Some((path, text))
}

/// The text of the header `find_include` found: cudalens's own
/// (`builtin_headers`) or the provider's.
pub fn read(provider: &dyn SourceProvider, path: &Path) -> Option<Arc<str>> {
    match super::builtin_headers::text(path) {
        Some(text) => Some(Arc::from(text)),
        None => provider.read(path),
    }
}

/// [`SourceProvider::version`] of a header `find_include` found (a
/// built-in one never changes).
pub fn version(provider: &dyn SourceProvider, path: &Path) -> Option<u64> {
    match super::builtin_headers::text(path) {
        Some(_) => Some(0),
        None => provider.version(path),
    }
}

/// Where `#include "name"` leads (as [`resolve_include`]), without reading it:
/// a file, or a header cudalens carries (`builtin_headers`).
pub fn find_include(
    name: &str,
    including_dir: Option<&Path>,
    include_dirs: &[PathBuf],
    provider: &dyn SourceProvider,
) -> Option<PathBuf> {
    including_dir
        .into_iter()
        .map(|d| d.join(name))
        .chain(include_dirs.iter().map(|d| d.join(name)))
        .find(|c| provider.exists(c))
        .map(|c| normalize(&c))
        // A library header out of reach that cudalens carries (read with
        // [`read`]).
        .or_else(|| super::builtin_headers::find(name))
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                // `../../x`: a leading `..` stays (popping it would climb down).
                let at_parent = matches!(
                    out.components().next_back(),
                    None | Some(std::path::Component::ParentDir)
                );
                if at_parent || !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_keeps_leading_parent_directories() {
        assert_eq!(
            normalize(Path::new("../../u/x.h")),
            PathBuf::from("../../u/x.h")
        );
        assert_eq!(
            normalize(Path::new("a/b/../../../u/./x.h")),
            PathBuf::from("../u/x.h")
        );
        assert_eq!(
            normalize(Path::new("/r/k/a/../../u/x.h")),
            PathBuf::from("/r/u/x.h")
        );
    }

    #[test]
    fn compile_commands_flags() {
        let json = r#"[{"directory": "/proj", "file": "src/a.cu",
            "command": "nvcc -Iinclude -I /abs/inc -DBLOCK=256 -DFAST --define-macro X=\"1 2\" -c src/a.cu"}]"#;
        let f = flags_from_compile_commands(json, Path::new("/proj/src/b.cu")).unwrap();
        assert_eq!(
            f.include_dirs,
            vec![PathBuf::from("/proj/include"), PathBuf::from("/abs/inc")]
        );
        assert_eq!(
            f.defines,
            vec![
                ("BLOCK".into(), "256".into()),
                ("FAST".into(), "1".into()),
                ("X".into(), "1 2".into())
            ]
        );
        assert!(flags_from_compile_commands("not json", Path::new("/x.cu")).is_none());
        let arch = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            CompileFlags::from_args(&args, Path::new("/")).cuda_arch
        };
        assert_eq!(arch(&["nvcc", "-arch=sm_80"]), Some(800));
        assert_eq!(
            arch(&["nvcc", "-gencode", "arch=compute_90a,code=sm_90a"]),
            Some(900)
        );
        assert_eq!(arch(&["clang++", "--cuda-gpu-arch=sm_120"]), Some(1200));
        assert_eq!(arch(&["nvcc", "-c", "a.cu"]), None);
    }
}
