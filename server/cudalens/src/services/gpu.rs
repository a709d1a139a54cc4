//! The GPU worker: one thread owns the wgpu runner (instance and device,
//! opened by the first job that needs it) and runs jobs one at a time, in
//! the order sent. `cudalens bench`, the editor's benchmarks and plugins'
//! `host/benchmark` all go through it, so GPU work never overlaps and the
//! device is opened once. A panic in a job drops the runner (it may be
//! half-way through something); the next job opens a fresh one. The runner
//! is dropped on the worker when the last handle goes, before the process
//! exits.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex, mpsc};
use std::thread::ThreadId;
use std::time::Duration;

use tokio::sync::oneshot;

use cudalens_gpu::{GpuError, Runner};

use crate::pipeline::panic_message;

/// The runner as a job sees it: opened on first use.
pub struct RunnerSlot {
    runner: Option<Runner>,
    /// `--adapter`: the first adapter whose name contains this.
    adapter: Option<String>,
}

impl RunnerSlot {
    pub fn is_open(&self) -> bool {
        self.runner.is_some()
    }

    /// The runner, opening the GPU if no job has yet.
    pub fn get(&mut self) -> Result<&mut Runner, GpuError> {
        if self.runner.is_none() {
            self.runner = Some(Runner::new(self.adapter.as_deref())?);
        }
        match self.runner.as_mut() {
            Some(runner) => Ok(runner),
            None => unreachable!("opened above"),
        }
    }
}

type Job = Box<dyn FnOnce(&mut RunnerSlot) + Send>;

/// How long the last handle's drop waits for the worker to finish its queue
/// and drop the runner.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(5);

/// A handle to the worker; cheap to clone. When the last handle is dropped
/// the worker finishes the jobs queued, drops the runner and ends.
#[derive(Clone)]
pub struct GpuWorker {
    inner: Arc<Worker>,
}

struct Worker {
    jobs: Option<mpsc::Sender<Job>>,
    /// Says when the worker has ended (its runner dropped).
    ended: Mutex<Option<mpsc::Receiver<()>>>,
    thread: Option<ThreadId>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.jobs.take(); // the worker's queue ends here
        let ended = self.ended.get_mut().ok().and_then(Option::take);
        if let Some(ended) = ended
            && self.thread != Some(std::thread::current().id())
        {
            // The runner must be gone before the process exits: a wgpu
            // device torn down while the process exits crashes lavapipe.
            let _ = ended.recv_timeout(SHUTDOWN_WAIT);
        }
    }
}

impl GpuWorker {
    /// Starts the worker thread; `adapter` picks the adapter as `--adapter` does.
    pub fn start(adapter: Option<String>) -> GpuWorker {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ended_tx, ended) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("cudalens-gpu".into())
            .spawn(move || {
                let mut slot = RunnerSlot {
                    runner: None,
                    adapter,
                };
                for job in queue {
                    if catch_unwind(AssertUnwindSafe(|| job(&mut slot))).is_err() {
                        slot.runner = None;
                    }
                }
                drop(slot);
                let _ = ended_tx.send(());
            });
        let thread = match spawned {
            Ok(handle) => Some(handle.thread().id()),
            Err(e) => {
                // Every job then fails with "the GPU worker is not running".
                eprintln!("cudalens: cannot start the GPU worker thread: {e}");
                None
            }
        };
        GpuWorker {
            inner: Arc::new(Worker {
                jobs: Some(jobs),
                ended: Mutex::new(Some(ended)),
                thread,
            }),
        }
    }

    /// Runs `job` on the worker and waits for it without blocking the async
    /// runtime. A panic in the job becomes an error.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut RunnerSlot) -> T + Send + 'static,
    ) -> Result<T, String> {
        let (reply, answer) = oneshot::channel();
        self.send(job, move |result| {
            let _ = reply.send(result);
        })?;
        answer
            .await
            .unwrap_or_else(|_| Err("the GPU worker stopped".to_string()))
    }

    /// [`GpuWorker::run`] for callers off the async runtime (the CLI).
    pub fn run_blocking<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut RunnerSlot) -> T + Send + 'static,
    ) -> Result<T, String> {
        let (reply, answer) = mpsc::channel();
        self.send(job, move |result| {
            let _ = reply.send(result);
        })?;
        answer
            .recv()
            .unwrap_or_else(|_| Err("the GPU worker stopped".to_string()))
    }

    fn send<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut RunnerSlot) -> T + Send + 'static,
        reply: impl FnOnce(Result<T, String>) + Send + 'static,
    ) -> Result<(), String> {
        let wrapped: Job = Box::new(move |slot| {
            match catch_unwind(AssertUnwindSafe(|| job(slot))) {
                Ok(value) => reply(Ok(value)),
                Err(payload) => {
                    reply(Err(format!(
                        "internal error while benchmarking (please report): {}",
                        panic_message(&*payload)
                    )));
                    // Let the worker drop the runner.
                    std::panic::resume_unwind(Box::new("job panicked"));
                }
            }
        });
        let sent = self.inner.jobs.as_ref().map(|jobs| jobs.send(wrapped));
        match sent {
            Some(Ok(())) => Ok(()),
            _ => Err("the GPU worker is not running".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_run_in_order_and_a_panic_is_an_error() {
        let gpu = GpuWorker::start(None);
        assert_eq!(gpu.run_blocking(|slot| slot.is_open()), Ok(false));
        let panicked = gpu.run_blocking(|_| -> u32 { panic!("boom") });
        assert_eq!(
            panicked,
            Err("internal error while benchmarking (please report): boom".to_string())
        );
        // The worker survives and serves the next job.
        assert_eq!(gpu.run_blocking(|_| 7), Ok(7));
    }
}
