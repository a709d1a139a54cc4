//! cudalens-gpu (work in progress).
