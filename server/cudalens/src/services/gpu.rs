//! The GPU worker: one thread owns the wgpu runner (instance and device,
//! opened by the first job that needs it) and runs jobs one at a time, in
//! the order sent. `cudalens bench`, the editor's benchmarks and plugins'
//! `host/benchmark` all go through it, so GPU work never overlaps and the
//! device is opened once. A panic in a job drops the runner (it may be
//! half-way through something); the next job opens a fresh one.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;

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

/// A handle to the worker; cheap to clone. The thread ends when the last
/// handle is dropped.
#[derive(Clone)]
pub struct GpuWorker {
    jobs: mpsc::Sender<Job>,
}

impl GpuWorker {
    /// Starts the worker thread; `adapter` picks the adapter as `--adapter` does.
    pub fn start(adapter: Option<String>) -> GpuWorker {
        let (jobs, queue) = mpsc::channel::<Job>();
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
            });
        if let Err(e) = spawned {
            // Every job then fails with "the GPU worker is not running".
            eprintln!("cudalens: cannot start the GPU worker thread: {e}");
        }
        GpuWorker { jobs }
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
        self.jobs
            .send(wrapped)
            .map_err(|_| "the GPU worker is not running".to_string())
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
