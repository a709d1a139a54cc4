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
