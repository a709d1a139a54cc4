//! Exact register counts from nvcc: the command the server's background
//! service ([`crate::services::nvcc`]) and `cudalens check` both run, and
//! the reading of its ptxas report. One definition, so the editor and CI
//! agree on what "nvcc's register count" means.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use cudalens_ide::settings::NvccSetting;
use cudalens_occupancy::parse_ptxas_output;
use cudalens_syntax::preprocess::include::CompileFlags;

/// The longest one compilation may take before it is abandoned.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// `nvcc --resource-usage -arch=ARCH -c -o /dev/null SOURCE` with the
/// file's include paths and macros. `source_dir` is the directory of the
/// real file, searched first for quoted includes (the server compiles a
/// temporary copy of unsaved text).
pub fn command(
    nvcc: &Path,
    arch: &str,
    source: &Path,
    source_dir: Option<&Path>,
    flags: &CompileFlags,
) -> Command {
    let mut cmd = Command::new(nvcc);
    cmd.arg("--resource-usage")
        .arg(format!("-arch={arch}"))
        .args(["-c", "-o", "/dev/null"]);
    if let Some(dir) = source_dir {
        cmd.arg(format!("-I{}", dir.display()));
    }
    for dir in &flags.include_dirs {
        cmd.arg(format!("-I{}", dir.display()));
    }
    for (name, value) in &flags.defines {
        cmd.arg(format!("-D{name}={value}"));
    }
    cmd.arg(source).stdin(Stdio::null());
    cmd
}

/// The registers per kernel of a finished compilation, or its first error.
pub fn registers_from(output: &Output) -> Result<HashMap<String, u32>, String> {
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    if !output.status.success() {
        let first_error = report
            .lines()
            .find(|l| l.contains("error"))
            .unwrap_or("compilation failed");
        return Err(first_error.trim().to_string());
    }
    Ok(kernel_registers(&report))
}

/// Runs `cmd` to the end, or kills it after `timeout` (for `check`, which
/// has no async runtime).
pub fn run_blocking(mut cmd: Command, timeout: Duration) -> Result<HashMap<String, u32>, String> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run nvcc: {e}"))?;
    // The report is small, but read it while waiting so a full pipe never
    // stalls nvcc.
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let out_thread = std::thread::spawn(move || read_all(stdout));
    let err_thread = std::thread::spawn(move || read_all(stderr));
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {} s", timeout.as_secs()));
            }
            Err(e) => return Err(format!("waiting for nvcc: {e}")),
        }
    };
    let output = Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    };
    registers_from(&output)
}

fn read_all(pipe: Option<impl std::io::Read>) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Some(mut p) = pipe {
        let _ = p.read_to_end(&mut buf);
    }
    buf
}

/// Registers per kernel from a ptxas report, under both the qualified name
/// and the bare name the model uses. Template instantiations of one kernel
/// keep the largest count (occupancy is then never overstated).
pub fn kernel_registers(report: &str) -> HashMap<String, u32> {
    let mut out: HashMap<String, u32> = HashMap::new();
    for usage in parse_ptxas_output(report)
        .into_iter()
        .filter(|u| u.is_entry)
    {
        let qualified = usage
            .demangled_name
            .clone()
            .unwrap_or_else(|| usage.mangled_name.clone());
        let bare = qualified
            .rsplit("::")
            .next()
            .unwrap_or(&qualified)
            .to_string();
        for name in [qualified, bare] {
            let entry = out.entry(name).or_insert(0);
            *entry = (*entry).max(usage.registers);
        }
    }
    out
}

/// The nvcc a setting names: `None` when disabled or not on PATH.
pub fn executable(setting: &NvccSetting) -> Option<PathBuf> {
    match setting {
        NvccSetting::Disabled => None,
        NvccSetting::Explicit(path) => Some(path.clone()),
        NvccSetting::FromPath => find_on_path("nvcc"),
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_by_bare_and_qualified_name() {
        let report = "\
ptxas info    : 0 bytes gmem
ptxas info    : Compiling entry function '_Z5saxpyifPKfPf' for 'sm_90'
ptxas info    : Function properties for _Z5saxpyifPKfPf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 40 registers, used 0 barriers, 400 bytes cmem[0]
ptxas info    : Compiling entry function '_ZN2ns6reduceILi256EEEvPf' for 'sm_90'
ptxas info    : Function properties for _ZN2ns6reduceILi256EEEvPf
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 24 registers, used 1 barriers, 1024 bytes smem, 400 bytes cmem[0]
";
        let regs = kernel_registers(report);
        assert_eq!(regs.get("saxpy"), Some(&40));
        assert_eq!(regs.get("reduce"), Some(&24));
        assert_eq!(regs.get("ns::reduce"), Some(&24));
    }

    #[cfg(unix)]
    #[test]
    fn a_compiler_that_hangs_is_killed_and_one_that_fails_says_why() {
        let hang = {
            let mut c = Command::new("sleep");
            c.arg("30");
            c
        };
        let started = Instant::now();
        let err = run_blocking(hang, Duration::from_millis(200)).unwrap_err();
        assert!(err.contains("timed out"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(10));
        let fail = {
            let mut c = Command::new("sh");
            c.args([
                "-c",
                "echo 'x.cu(3): error: identifier \"y\" is undefined' >&2; exit 2",
            ]);
            c
        };
        let err = run_blocking(fail, TIMEOUT).unwrap_err();
        assert!(err.contains("identifier \"y\" is undefined"), "{err}");
    }
}
