//! The embedding server's side of `host/benchmark`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use cudalens_plugin_protocol::{BenchResult, TuneParams, Variant};

/// A boxed, sendable future (keeps [`BenchmarkService`] usable as a trait object).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a plugin asked to benchmark, with the context of the `tune` call it belongs to.
#[derive(Debug, Clone)]
pub struct BenchmarkRequest {
    /// The plugin asking.
    pub plugin: String,
    /// The `tune` request being served (kernel model, launch site, limits).
    pub tune: Arc<TuneParams>,
    /// The configuration to time.
    pub variant: Variant,
}

/// Implemented by the embedding server (compile the variant, run it, report the median).
///
/// Any `Fn(BenchmarkRequest) -> impl Future<Output = BenchResult>` closure implements it too.
pub trait BenchmarkService: Send + Sync + 'static {
    fn benchmark(&self, request: BenchmarkRequest) -> BoxFuture<'_, BenchResult>;
}

impl<F, Fut> BenchmarkService for F
where
    F: Fn(BenchmarkRequest) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = BenchResult> + Send + 'static,
{
    fn benchmark(&self, request: BenchmarkRequest) -> BoxFuture<'_, BenchResult> {
        Box::pin(self(request))
    }
}

/// For hosts without a GPU: every benchmark fails with an explanation.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBenchmarks;

impl BenchmarkService for NoBenchmarks {
    fn benchmark(&self, _request: BenchmarkRequest) -> BoxFuture<'_, BenchResult> {
        Box::pin(async { BenchResult::failure("benchmarking is not available on this host") })
    }
}
