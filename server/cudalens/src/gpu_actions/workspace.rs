//! The workspace around a file: where its benchmark history and reports go,
//! its `compile_commands.json` flags, and its model when read from disk (the
//! CLI's input, and the editor's for closed files), with the device
//! functions it declares linked in from the other `.cu` files of its
//! directory (`nvcc -rdc` programs).

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
    let mut model = unit_model(path, text, extra);
    link_separate_units(&mut model, path, extra);
    model
}

/// How many other files of the directory are read for definitions.
const MAX_UNITS_READ: usize = 16;

/// Device functions the file declares and calls but defines in another
/// `.cu` of its directory, as a program built with `nvcc -rdc` links
/// them (HeCBench's logan): their definitions, and the device functions
/// of that file those call, are added from the other file's own model (its
/// own macros and includes), marked as that file's. A name defined in
/// several other files is left undefined (which one links is the build's),
/// and so is one whose helpers share a name with what the model holds
/// already (fresnel's two files' `static` Chebyshev helpers would be one
/// function here).
fn link_separate_units(model: &mut FileModel, path: &Path, extra: &CompileFlags) {
    let defined = |m: &FileModel, name: &str| {
        m.functions
            .iter()
            .any(|f| f.name == name && f.body.is_some())
    };
    let mut wanted: Vec<String> = (model.functions.iter())
        .filter(|f| f.runs_on_device() && !f.is_kernel() && f.body.is_none())
        .map(|f| f.name.clone())
        .filter(|n| !defined(model, n))
        .collect();
    if wanted.is_empty() {
        return;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut others: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cu") && p.file_name() != path.file_name())
        .collect();
    others.sort();
    others.truncate(MAX_UNITS_READ);
    // Each unit's model, built once, when one of the names is in its text.
    let mut units: Vec<(PathBuf, Option<FileModel>, String)> = others
        .into_iter()
        .filter_map(|p| Some((p.clone(), None, std::fs::read_to_string(&p).ok()?)))
        .collect();
    // Definitions may call functions of a third unit: a few rounds.
    for _round in 0..4 {
        wanted.sort();
        wanted.dedup();
        wanted.retain(|n| !defined(model, n));
        if wanted.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for name in std::mem::take(&mut wanted) {
            // The definition, with the functions of its own file it calls
            // (a `static` helper is that file's own).
            let mut linked: Vec<Vec<cudalens_syntax::model::Function>> = Vec::new();
            for (other, unit, text) in &mut units {
                if !text.contains(name.as_str()) {
                    continue;
                }
                let unit = unit.get_or_insert_with(|| unit_model(other, text, extra));
                let Some(def) = (unit.functions.iter()).find(|f| {
                    f.name == name && f.body.is_some() && f.runs_on_device() && f.in_main_file()
                }) else {
                    continue;
                };
                let mut group = vec![(**def).clone()];
                if let Some(body) = &def.body {
                    group.extend(
                        (unit.device_functions_called_by(body).into_iter())
                            .filter(|f| f.in_main_file())
                            .cloned(),
                    );
                }
                // The file's own operators (`inline __device__ ulong4
                // operator<(...)` in merkle's rescue_prime.cu), which its
                // functions' `a < b` call.
                group.extend(
                    (unit.functions.iter())
                        .filter(|f| {
                            f.name.starts_with("operator")
                                && f.body.is_some()
                                && f.runs_on_device()
                                && f.in_main_file()
                        })
                        .map(|f| (**f).clone()),
                );
                for f in &mut group {
                    f.file = Some(other.clone());
                    if let Some(body) = &f.body {
                        body.walk_exprs(&mut |e| {
                            if let cudalens_syntax::ir::ExprKind::Call(c) = &e.kind
                                && unit
                                    .functions
                                    .iter()
                                    .any(|g| g.name == c.callee && g.body.is_none())
                            {
                                next.push(c.callee.clone());
                            }
                        });
                    }
                }
                linked.push(group);
            }
            // Defined in exactly one other file (the one the build links),
            // and naming nothing this model holds from elsewhere: two
            // files' `static` helpers of one name would be one function
            // here. What an earlier name linked from the same file is
            // there already (merkle's `merge` calls what
            // `apply_rescue_permutation` linked).
            if let [group] = linked.as_slice() {
                // One function once (overloads, as rescue_prime.cu's two
                // `operator-`, are different functions).
                let signature = |f: &cudalens_syntax::model::Function| {
                    let params: Vec<String> =
                        f.params.iter().map(|p| format!("{:?}", p.ty)).collect();
                    (f.name.clone(), params)
                };
                let held = |f: &cudalens_syntax::model::Function, same_file: bool| {
                    model.functions.iter().any(|g| {
                        g.body.is_some()
                            && match same_file {
                                true => g.file == f.file && signature(g) == signature(f),
                                false => g.file != f.file && g.name == f.name,
                            }
                    })
                };
                let mut names: Vec<_> = group.iter().map(signature).collect();
                names.sort();
                names.dedup();
                if names.len() == group.len() && !group.iter().any(|f| held(f, false)) {
                    let new: Vec<_> = (group.iter())
                        .filter(|f| !held(f, true))
                        .cloned()
                        .map(std::sync::Arc::new)
                        .collect();
                    model.functions.extend(new);
                }
            }
        }
        wanted = next;
    }
    model.index_functions();
}

fn unit_model(path: &Path, text: &str, extra: &CompileFlags) -> FileModel {
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
