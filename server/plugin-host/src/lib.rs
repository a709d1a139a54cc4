//! cudalens-plugin-host (work in progress).
