//! What a file is by its name: CUDA source (`.cu`, `.cuh`), a C/C++ header
//! that may hold CUDA code (`.h`, `.hpp`, ...; kernels live in headers in
//! most libraries), or something else. `check` walks directories by it, and
//! the editor attaches to both kinds but reports on a C++ header only when
//! it holds CUDA code, so plain C++ headers of a mixed project stay quiet.

use std::path::Path;

/// Extensions of CUDA source files.
pub const CUDA_EXTENSIONS: &[&str] = &["cu", "cuh"];
/// Extensions of C/C++ headers.
pub const HEADER_EXTENSIONS: &[&str] = &["h", "hpp", "hh", "hxx", "inl"];
/// Extensions of C and C++ sources, which nvcc compiles as CUDA when told
/// to (`-x cu`): miniFE's `main.cpp` and leukocyte's `detect_main.c`
/// include their kernels' headers.
pub const CPP_SOURCE_EXTENSIONS: &[&str] = &["cpp", "cc", "cxx", "c"];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Cuda,
    /// A C/C++ header: analysed, reported only when it holds CUDA code.
    CppHeader,
    /// A C++ source: CUDA only where a build says `-x cu`.
    CppSource,
    Other,
}

impl FileKind {
    /// The kind of `path` by its extension (case as written: `.CU` is not CUDA for nvcc either).
    pub fn of(path: &Path) -> FileKind {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if CUDA_EXTENSIONS.contains(&ext) {
            FileKind::Cuda
        } else if HEADER_EXTENSIONS.contains(&ext) {
            FileKind::CppHeader
        } else if CPP_SOURCE_EXTENSIONS.contains(&ext) {
            FileKind::CppSource
        } else {
            FileKind::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_extension() {
        assert_eq!(FileKind::of(Path::new("a/k.cu")), FileKind::Cuda);
        assert_eq!(FileKind::of(Path::new("a/k.cuh")), FileKind::Cuda);
        assert_eq!(FileKind::of(Path::new("a/k.hpp")), FileKind::CppHeader);
        assert_eq!(FileKind::of(Path::new("a/k.h")), FileKind::CppHeader);
        assert_eq!(FileKind::of(Path::new("a/main.cpp")), FileKind::CppSource);
        assert_eq!(FileKind::of(Path::new("a/k.c")), FileKind::CppSource);
        assert_eq!(FileKind::of(Path::new("a/k.py")), FileKind::Other);
        assert_eq!(FileKind::of(Path::new("Makefile")), FileKind::Other);
    }
}
