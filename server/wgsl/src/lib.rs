//! cudalens-wgsl (work in progress).
