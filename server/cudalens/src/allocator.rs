//! The memory allocator of everything built on this crate: mimalloc, for
//! Rust's allocations (`#[global_allocator]` below) and tree-sitter's C
//! allocations (installed by [`install`]).
//!
//! Why: a model build and an analysis allocate and free many small objects;
//! with glibc's malloc a third of an edit's time went to malloc and free, and
//! memory freed by hibernating documents stayed resident. Measured in
//! BENCHMARKS.md ("Allocator").

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Points tree-sitter's allocations at mimalloc. Call first thing in `main`,
/// before any parser or tree exists (tree-sitter's own rule); later calls do
/// nothing. (mimalloc's own tuning is a build flag: see .cargo/config.toml.)
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the four functions are one allocator family with malloc's
        // alignment, and `Once` runs this before any tree-sitter object is
        // made by the callers that use it (`main`, the examples).
        unsafe {
            tree_sitter::set_allocator(Some(tree_sitter::Allocator {
                malloc: libmimalloc_sys::mi_malloc,
                calloc: libmimalloc_sys::mi_calloc,
                realloc: libmimalloc_sys::mi_realloc,
                free: libmimalloc_sys::mi_free,
            }));
        }
    });
}

/// Hands memory that is free but still held by the allocator back to the
/// operating system (after a document hibernates), so resident memory shrinks.
pub fn release_freed_memory() {
    // SAFETY: only collects the allocator's own free pages.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// Runs `f` on one long-lived thread and hands back its result (`Err` if it
/// panicked). For data that outlives the work that produced it, such as what
/// an idle document keeps: mimalloc gives each thread its own pages, so
/// values built here fill a few pages densely, instead of sitting scattered
/// through pages of the short-lived analysis threads, which then stay
/// resident for a few live objects each (measured: 50 idle documents
/// 68–70 → 56–62 MB resident).
pub fn on_long_lived_thread<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> tokio::sync::oneshot::Receiver<T> {
    type Job = Box<dyn FnOnce() + Send>;
    static JOBS: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> =
        std::sync::OnceLock::new();
    let (result, receiver) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        // A panic drops `result`: the receiver sees the error, the thread lives on.
        if let Ok(value) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            let _ = result.send(value);
        }
    });
    let jobs = JOBS.get_or_init(|| {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let spawned = std::thread::Builder::new()
            .name("cudalens-long-lived".into())
            .spawn(move || queue.into_iter().for_each(|job| job()));
        if let Err(e) = spawned {
            eprintln!("cudalens: no thread for long-lived data ({e}); building it in place");
        }
        std::sync::Mutex::new(jobs)
    });
    let unsent = match jobs.lock() {
        Ok(jobs) => jobs.send(job).err().map(|e| e.0),
        Err(_) => Some(job),
    };
    // No thread to take it: build here rather than not at all.
    if let Some(job) = unsent {
        job();
    }
    receiver
}

#[cfg(test)]
mod tests {
    use super::on_long_lived_thread;

    #[test]
    fn long_lived_thread_returns_results_and_outlives_panics() {
        let first = on_long_lived_thread(|| std::thread::current().id());
        let thread = first.blocking_recv().expect("a result");
        assert_ne!(thread, std::thread::current().id(), "built elsewhere");
        let panicked = on_long_lived_thread(|| -> u32 { panic!("in a job") });
        assert!(
            panicked.blocking_recv().is_err(),
            "a panic is an error, not a hang"
        );
        let after = on_long_lived_thread(|| std::thread::current().id());
        assert_eq!(
            after.blocking_recv().ok(),
            Some(thread),
            "the same thread lives on"
        );
    }
}
