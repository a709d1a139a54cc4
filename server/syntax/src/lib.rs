//! cudalens-syntax (work in progress).
