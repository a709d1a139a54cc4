//! `cudalens report`: the workspace's benchmark history as one
//! self-contained HTML page (`cudalens_gpu::dashboard`), optionally opened
//! in the system's browser.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use cudalens_gpu::history::{History, now_ms};
use cudalens_gpu::{DashboardInput, GpuError, render_dashboard};

use super::exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The workspace whose `.cudalens/history.redb` is read (default: the
    /// nearest directory from here up that has one, as `bench` writes it at
    /// the project's root).
    #[arg(long, value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// Where to write the page (default: `<workspace>/.cudalens/report.html`); `-` for stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Open the page in the system's browser once written.
    #[arg(long)]
    pub open: bool,
}

/// How long to wait for a `bench` (or the editor) that holds the history
/// open while it records a run: a few hundred milliseconds at most.
const LOCK_WAIT: Duration = Duration::from_secs(3);

pub fn run(args: Args) -> ExitCode {
    let workspace = args.workspace.clone().unwrap_or_else(nearest_workspace);
    let path = History::default_path(&workspace);
    if !path.is_file() {
        eprintln!(
            "error: no benchmark history at {} (run `cudalens bench FILE --kernel NAME` in this workspace first, or pass --workspace DIR)",
            path.display()
        );
        return ExitCode::from(exit::USAGE);
    }
    let runs = match read_runs(&path) {
        Ok(runs) => runs,
        Err(e) => {
            eprintln!("error: cannot read the benchmark history: {e}");
            return ExitCode::from(exit::FAILURE);
        }
    };
    let source = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
    let html = render_dashboard(&DashboardInput {
        runs: &runs,
        source: &source.display().to_string(),
        generated_ms: now_ms(),
    });
    let to_stdout = args.output.as_deref().is_some_and(|o| o.as_os_str() == "-");
    if to_stdout {
        if args.open {
            eprintln!("error: --open needs a file, not `--output -`");
            return ExitCode::from(exit::USAGE);
        }
        if let Err(e) = std::io::stdout().write_all(html.as_bytes()) {
            eprintln!("error: stdout: {e}");
            return ExitCode::from(exit::FAILURE);
        }
        return ExitCode::from(exit::OK);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| workspace.join(".cudalens").join("report.html"));
    if let Err(e) = write_page(&output, &html) {
        eprintln!("error: {e}");
        return ExitCode::from(exit::FAILURE);
    }
    eprintln!("report: {} ({} runs)", output.display(), runs.len());
    if args.open {
        open_in_browser(&output);
    }
    ExitCode::from(exit::OK)
}

/// The current directory or its nearest ancestor with a history; the
/// current directory when none has one.
fn nearest_workspace() -> PathBuf {
    let here = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    here.ancestors()
        .find(|d| History::default_path(d).is_file())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Every run of the history, waiting briefly while another process holds it.
fn read_runs(path: &Path) -> Result<Vec<(u64, cudalens_gpu::HistoryRecord)>, GpuError> {
    let start = std::time::Instant::now();
    loop {
        match History::open_file(path).and_then(|h| h.all_runs()) {
            Ok(runs) => return Ok(runs),
            // redb allows one process at a time; `bench` holds it only while recording.
            Err(GpuError::History(e))
                if e.contains("already open") && start.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    }
}

fn write_page(path: &Path, html: &str) -> Result<(), String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, html).map_err(|e| format!("{}: {e}", path.display()))
}

/// Best effort: the page is written either way, so a missing opener is a note.
fn open_in_browser(page: &Path) {
    let page = std::path::absolute(page).unwrap_or_else(|_| page.to_path_buf());
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else if cfg!(windows) {
        "explorer"
    } else {
        "xdg-open"
    };
    match std::process::Command::new(opener)
        .arg(&page)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(_) => eprintln!("opening it with {opener}"),
        Err(e) => eprintln!(
            "note: could not start {opener} ({e}); open {} in a browser",
            page.display()
        ),
    }
}
