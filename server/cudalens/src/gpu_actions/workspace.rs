//! The workspace around a file: where its benchmark history and reports go,
//! its `compile_commands.json` flags, and its model when read from disk (the
//! CLI's input, and the editor's for closed files).

use std::path::{Path, PathBuf};

use cudalens_syntax::preprocess::include::{
    CompileFlags, FsProvider, find_compile_commands, flags_from_compile_commands,
};
use cudalens_syntax::{BuildOptions, FileModel};

/// The workspace of `file`: the nearest ancestor holding `.git` or
/// `cudalens.toml`, else the file's directory.
pub fn workspace_root_for(file: &Path) -> PathBuf {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    let dir = absolute
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    dir.ancestors()
        .find(|d| d.join(".git").exists() || d.join("cudalens.toml").exists())
        .map_or(dir.clone(), Path::to_path_buf)
}

/// `file` relative to `root` when inside it (for history records and messages).
pub fn display_relative(file: &Path, root: &Path) -> String {
    let absolute = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    absolute
        .strip_prefix(root)
        .unwrap_or(&absolute)
        .display()
        .to_string()
}

/// The flags `compile_commands.json` gives `path` (the database found as
/// clangd finds it: the file's directory and its ancestors, and their `build/`).
pub fn compile_commands_flags(path: Option<&Path>) -> CompileFlags {
    let Some(path) = path else {
        return CompileFlags::default();
    };
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    absolute
        .parent()
        .and_then(find_compile_commands)
        .and_then(|db| std::fs::read_to_string(db).ok())
        .and_then(|json| flags_from_compile_commands(&json, &absolute))
        .unwrap_or_default()
}

/// Builds the model of a file on disk as `check` does: its
/// `compile_commands.json` flags, then `extra` (`-I`/`-D` from the command
/// line, `cudalens.includePaths`/`defines` in the editor), includes read
/// from disk, and the front end's time budget.
pub fn model_of_file(path: &Path, text: &str, extra: &CompileFlags) -> FileModel {
    let mut flags = compile_commands_flags(Some(path));
    flags
        .include_dirs
        .extend(extra.include_dirs.iter().cloned());
    flags.defines.extend(extra.defines.iter().cloned());
    flags.undefines.extend(extra.undefines.iter().cloned());
    flags.cuda_arch = flags.cuda_arch.or(extra.cuda_arch);
    cudalens_syntax::analyze_source(
        text,
        &BuildOptions {
            path: Some(path),
            flags,
            provider: &FsProvider,
            max_include_depth: crate::pipeline::MAX_INCLUDE_DEPTH,
            deadline: Some(std::time::Instant::now() + crate::pipeline::BUILD_TIME_BUDGET),
        },
    )
}
