//! cudalens-occupancy (work in progress).
