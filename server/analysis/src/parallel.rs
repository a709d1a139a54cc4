//! Work spread over threads, for the analyses and for `cudalens check`.

/// The machine's cores (1 when unknown). Asked once: on Linux the answer
/// reads several cgroup files, which cost more than a small analysis.
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// `f(0..n)` in order, on `threads` threads. A panic in `f` is raised
/// again here, as if `f` had run on this thread.
///
/// The threads belong to a pool that lives as long as the process (one per
/// thread count asked for), not threads started per call: what `f` returns
/// outlives the call (per-kernel results stay in the analysis caches), and
/// mimalloc keeps a thread's pages with it, so results built on threads that
/// then exit pinned those threads' pages (mostly garbage) for good — 111
/// threads' worth after opening 50 files.
pub fn map_in_order<T: Send>(n: usize, threads: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    use rayon::prelude::*;
    match pool(threads) {
        Some(pool) if n > 1 => pool.install(|| (0..n).into_par_iter().map(&f).collect()),
        _ => (0..n).map(f).collect(),
    }
}

/// The pool of `threads` threads (`None` for one thread, or when the
/// system gives no threads: the caller then works alone).
fn pool(threads: usize) -> Option<std::sync::Arc<rayon::ThreadPool>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    if threads <= 1 {
        return None;
    }
    let mut pools = POOLS.get_or_init(Default::default).lock().ok()?;
    if let Some(pool) = pools.get(&threads) {
        return Some(pool.clone());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("cudalens-analysis-{i}"))
        .build()
        .ok()?;
    let pool = Arc::new(pool);
    pools.insert(threads, pool.clone());
    Some(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_in_order_and_panics_raised_here() {
        for threads in [1, 2, 7] {
            let squares = map_in_order(50, threads, |i| i * i);
            assert_eq!(squares, (0..50).map(|i| i * i).collect::<Vec<_>>());
        }
        let caught = std::panic::catch_unwind(|| map_in_order(8, 3, |i| assert_ne!(i, 5)));
        assert!(caught.is_err());
    }
}
