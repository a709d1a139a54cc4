//! Running the real `cudalens` binary as a command line.

use std::path::Path;
use std::process::{Command, Output};

/// `cudalens ARGS` in `dir`, with `env` added (RUST_BACKTRACE removed, so
/// stderr is what users see).
pub fn cudalens_env(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cudalens"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_BACKTRACE");
    for (k, v) in env {
        command.env(k, v);
    }
    command.output().expect("run cudalens")
}

pub fn cudalens(args: &[&str], dir: &Path) -> Output {
    cudalens_env(args, dir, &[])
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A file's JSON.
pub fn read_json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
