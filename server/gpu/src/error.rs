//! The single error type of this crate. GPU failures are values, never panics.

/// Everything that can go wrong while detecting, compiling, running or
/// recording a kernel.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GpuError {
    /// No adapter at all (no Vulkan driver / ICD installed).
    #[error("no GPU adapter found: {0}")]
    NoAdapter(String),
    /// The adapter name filter matched nothing.
    #[error("no adapter matches {wanted:?}; available: {available}")]
    AdapterNotFound { wanted: String, available: String },
    /// `request_device` failed.
    #[error("could not open device: {0}")]
    RequestDevice(String),
    /// The transpiler's interface JSON is inconsistent.
    #[error("invalid kernel interface: {0}")]
    InvalidInterface(String),
    /// The benchmark spec is inconsistent with the interface (missing
    /// arguments, bad launch configuration, ...).
    #[error("invalid benchmark: {0}")]
    InvalidBenchmark(String),
    /// The kernel needs a feature (`subgroups`, `f16`, ...) the adapter lacks.
    #[error("adapter {adapter:?} lacks feature {feature:?}")]
    UnsupportedFeature { adapter: String, feature: String },
    /// WGSL parse / naga validation / pipeline creation failed.
    #[error("shader compilation failed: {0}")]
    Compile(String),
    /// A wgpu validation error while setting up or dispatching.
    #[error("validation error: {0}")]
    Validation(String),
    /// The device ran out of memory.
    #[error("out of memory: {0}")]
    OutOfMemory(String),
    /// The GPU work did not finish within the benchmark's timeout.
    #[error("timed out after {after_ms} ms waiting for the GPU")]
    Timeout { after_ms: u64 },
    /// The device was lost (driver reset, hang recovery, ...). The
    /// [`crate::Runner`] recreates the device on the next call.
    #[error("device lost: {0}")]
    DeviceLost(String),
    /// Any other wgpu failure (buffer mapping, internal errors).
    #[error("GPU error: {0}")]
    Internal(String),
    /// The history database failed.
    #[error("history database: {0}")]
    History(String),
}

impl GpuError {
    /// Whether the device should be discarded after this error: the GPU may
    /// still be busy (timeout) or unusable (device lost).
    pub fn poisons_device(&self) -> bool {
        matches!(self, GpuError::Timeout { .. } | GpuError::DeviceLost(_))
    }
}
