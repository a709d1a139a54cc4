//! Exact register counts from nvcc.
//!
//! When nvcc is available, each analysed text is compiled in the background
//! with `nvcc --resource-usage` and the ptxas report feeds
//! `AnalysisConfig::registers`, replacing the estimate. Results are cached
//! by a hash of the text, flags and architecture; the editor never waits:
//! the estimate is published first and the document is re-analysed when
//! nvcc answers. One nvcc runs at a time (it is heavy), each under a timeout,
//! and only for text that stayed unchanged for `DEBOUNCE`.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use cudalens_ide::Snapshot;
use cudalens_ide::settings::{NvccSetting, Settings};
use cudalens_syntax::preprocess::include::CompileFlags;

use super::{Event, Events, Level, NewestVersion, Ui};
use crate::nvcc_registers;

/// Quiet time after the last edit before nvcc runs.
const DEBOUNCE: Duration = Duration::from_millis(500);
/// Cached results kept (texts); the oldest half is dropped past this.
const CACHE_LIMIT: usize = 256;

/// The nvcc service's handle: the register counts measured so far (read by
/// every analysis), and the queue of runs. One task takes the runs in
/// order, so one nvcc runs at a time; each finished run sends
/// [`Event::RegistersMeasured`].
#[derive(Clone)]
pub struct Nvcc {
    cache: Arc<Cache>,
    runs: mpsc::UnboundedSender<Run>,
}

#[derive(Default)]
struct Cache {
    /// Registers per kernel name, keyed by the text + flags + arch hash.
    results: Mutex<HashMap<u64, Arc<HashMap<String, u32>>>>,
    /// The executable found for a setting (PATH is searched once).
    executable: Mutex<Option<(NvccSetting, Option<PathBuf>)>>,
}

/// One text to compile, once it stayed unchanged for `DEBOUNCE`.
struct Run {
    key: u64,
    nvcc: PathBuf,
    snapshot: Arc<Snapshot>,
    flags: CompileFlags,
    newest: NewestVersion,
}

impl Nvcc {
    /// Starts the service's task (on the current async runtime).
    pub fn new(ui: Arc<dyn Ui>, events: Events) -> Self {
        let cache = Arc::new(Cache::default());
        let (runs, queue) = mpsc::unbounded_channel();
        tokio::spawn(run_in_order(cache.clone(), queue, ui, events));
        Nvcc { cache, runs }
    }

    /// Measured registers for exactly this text, or empty (the analyses then estimate).
    pub fn registers_for(
        &self,
        text: &str,
        flags: &CompileFlags,
        settings: &Settings,
    ) -> HashMap<String, u32> {
        if settings.nvcc == NvccSetting::Disabled {
            return HashMap::new();
        }
        let Ok(results) = self.cache.results.lock() else {
            return HashMap::new();
        };
        // Hashing the text costs a tenth of a millisecond per edit on a
        // large file: not worth it while nvcc has reported nothing.
        if results.is_empty() {
            return HashMap::new();
        }
        let key = cache_key(text, flags, &settings.arch);
        results.get(&key).map(|m| (**m).clone()).unwrap_or_default()
    }

    /// Queues an nvcc run for `snapshot` unless its result is known; it runs
    /// only if the text is still the newest after `DEBOUNCE`.
    pub fn schedule(&self, snapshot: &Arc<Snapshot>, flags: CompileFlags, newest: NewestVersion) {
        let settings = &snapshot.settings;
        let Some(nvcc) = self.cache.executable(settings) else {
            return;
        };
        if snapshot.analyzed.analysis.kernels.is_empty()
            || snapshot.text.len() > settings.max_file_bytes()
        {
            return;
        }
        let key = cache_key(&snapshot.text, &flags, &settings.arch);
        if self.cache.is_known(key) {
            return;
        }
        let run = Run {
            key,
            nvcc,
            snapshot: snapshot.clone(),
            flags,
            newest,
        };
        let runs = self.runs.clone();
        tokio::spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            let _ = runs.send(run);
        });
    }
}

impl Cache {
    /// The nvcc to run under `settings`, if any.
    fn executable(&self, settings: &Settings) -> Option<PathBuf> {
        let mut cached = self.executable.lock().ok()?;
        if let Some((setting, found)) = cached.as_ref()
            && *setting == settings.nvcc
        {
            return found.clone();
        }
        let found = nvcc_registers::executable(&settings.nvcc);
        *cached = Some((settings.nvcc.clone(), found.clone()));
        found
    }

    fn store(&self, key: u64, registers: HashMap<String, u32>) {
        if let Ok(mut results) = self.results.lock() {
            if results.len() >= CACHE_LIMIT {
                let stale: Vec<u64> = results.keys().take(CACHE_LIMIT / 2).copied().collect();
                for k in stale {
                    results.remove(&k);
                }
            }
            results.insert(key, Arc::new(registers));
        }
    }

    fn is_known(&self, key: u64) -> bool {
        self.results.lock().is_ok_and(|r| r.contains_key(&key))
    }
}

/// The service's task: the runs whose debounce has passed, one at a time.
async fn run_in_order(
    cache: Arc<Cache>,
    mut queue: mpsc::UnboundedReceiver<Run>,
    ui: Arc<dyn Ui>,
    events: Events,
) {
    while let Some(run) = queue.recv().await {
        let snapshot = &run.snapshot;
        // Superseded by an edit (that version queued its own run), or
        // measured by an earlier run of the same text.
        if !run.newest.is(snapshot.version) || cache.is_known(run.key) {
            continue;
        }
        let registers = match run_nvcc(&run.nvcc, snapshot, &run.flags, run.key).await {
            Ok(registers) => registers,
            Err(message) => {
                let text = format!(
                    "cudalens: nvcc register counts unavailable for {}: {message}",
                    snapshot.uri
                );
                ui.log(Level::Log, text).await;
                HashMap::new() // cached too, so a file nvcc rejects is not recompiled on every open
            }
        };
        cache.store(run.key, registers);
        let _ = events.send(Event::RegistersMeasured {
            uri: snapshot.uri.clone(),
        });
    }
}

/// Compiles the snapshot's text (written to a temporary file, since the
/// editor's text may be unsaved) and reads the ptxas report.
async fn run_nvcc(
    nvcc: &Path,
    snapshot: &Snapshot,
    flags: &CompileFlags,
    key: u64,
) -> Result<HashMap<String, u32>, String> {
    let source =
        std::env::temp_dir().join(format!("cudalens-{}-{key:016x}.cu", std::process::id()));
    tokio::fs::write(&source, snapshot.text.as_bytes())
        .await
        .map_err(|e| format!("cannot write {}: {e}", source.display()))?;
    // Quoted includes resolve next to the real file, not the temporary copy.
    let dir = snapshot.path.as_deref().and_then(Path::parent);
    let mut cmd = tokio::process::Command::from(nvcc_registers::command(
        nvcc,
        &snapshot.settings.arch,
        &source,
        dir,
        flags,
    ));
    cmd.kill_on_drop(true);
    let output = tokio::time::timeout(nvcc_registers::TIMEOUT, cmd.output()).await;
    let _ = tokio::fs::remove_file(&source).await;
    let output = output
        .map_err(|_| format!("timed out after {} s", nvcc_registers::TIMEOUT.as_secs()))?
        .map_err(|e| format!("cannot run {}: {e}", nvcc.display()))?;
    nvcc_registers::registers_from(&output)
}

fn cache_key(text: &str, flags: &CompileFlags, arch: &str) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3Default::new();
    text.hash(&mut h);
    flags.include_dirs.hash(&mut h);
    flags.defines.hash(&mut h);
    arch.hash(&mut h);
    h.finish()
}
