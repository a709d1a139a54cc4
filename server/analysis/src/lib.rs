//! cudalens-analysis (work in progress).
