//! cudalens plugin protocol types.
