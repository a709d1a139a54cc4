//! What nvcc defines before the first line of a file, and what cudalens
//! assumes of the CUDA toolkit's own headers, which it does not read.
//!
//! cudalens models nvcc's *device* pass (the code that becomes the kernels):
//! `__CUDA_ARCH__` is defined, with the target architecture's value. Sources:
//! - nvcc's "NVCC Identification Macro" and "Virtual Architecture Macros"
//!   sections (<https://docs.nvidia.com/cuda/cuda-compiler-driver-nvcc/>):
//!   `__NVCC__`, `__CUDACC__`, `__CUDACC_VER_MAJOR__`/`MINOR`/`BUILD`, and
//!   `__CUDA_ARCH__` = the virtual architecture × 10 (sm_90 → 900) in device
//!   code only.
//! - nvcc passes the host compiler's own macros to both passes; the host
//!   compiler modelled is GCC 13 on x86-64 Linux with C++17 (nvcc 13's
//!   default dialect): `__cplusplus`, `__GNUC__`, `__linux__`, `__x86_64__`,
//!   `__LP64__`, the type sizes.
//! - The CUDA 13.0 runtime headers (`cuda_runtime_api.h`, `cuda.h`,
//!   `crt/host_defines.h`) define `CUDART_VERSION`, `CUDA_VERSION` and the
//!   `__align__` / `__builtin_align__` attributes: code tests them after
//!   including those headers, which cudalens cannot read. They include
//!   glibc's `<stdint.h>`, whose `INT8_C` … `UINTMAX_C` are defined too.
//!
//! Checked against nvcc 13.0.88 on the device machine (an H200): the device
//! pass's preprocessing command of `nvcc --dryrun -arch=sm_90`, run with
//! `-dM`, defines every macro below with these values (GCC 13 there);
//! `tests/realworld/nvcc_kernels.py` regenerates that list.

use super::macros::MacroDef;

/// The toolkit version modelled (CUDA 13.0).
const CUDA_MAJOR: u32 = 13;
const CUDA_MINOR: u32 = 0;

/// The object-like and function-like macros defined before a file's first
/// line, for the device pass of `arch` (e.g. 900 for sm_90).
pub fn predefined(arch: u32) -> Vec<MacroDef> {
    let version = CUDA_MAJOR * 1000 + CUDA_MINOR * 10;
    let objects: Vec<(&str, String)> = vec![
        // nvcc identification
        ("__NVCC__", "1".into()),
        ("__CUDACC__", "1".into()),
        ("__CUDACC_VER_MAJOR__", CUDA_MAJOR.to_string()),
        ("__CUDACC_VER_MINOR__", CUDA_MINOR.to_string()),
        ("__CUDACC_VER_BUILD__", "88".into()),
        ("__CUDA_API_VER_MAJOR__", CUDA_MAJOR.to_string()),
        ("__CUDA_API_VER_MINOR__", CUDA_MINOR.to_string()),
        ("__NVCC_DIAG_PRAGMA_SUPPORT__", "1".into()),
        ("__CUDACC_DEVICE_ATOMIC_BUILTINS__", "1".into()),
        // the device pass
        ("__CUDA_ARCH__", arch.to_string()),
        ("__CUDA_ARCH_LIST__", arch.to_string()),
        // the host compiler (GCC 13, x86-64 Linux, C++17)
        ("__cplusplus", "201703L".into()),
        ("__GNUC__", "13".into()),
        ("__GNUC_MINOR__", "3".into()),
        ("__GNUC_PATCHLEVEL__", "0".into()),
        ("__linux__", "1".into()),
        ("__unix__", "1".into()),
        ("__x86_64__", "1".into()),
        ("__LP64__", "1".into()),
        ("__CHAR_BIT__", "8".into()),
        ("__SIZEOF_INT__", "4".into()),
        ("__SIZEOF_LONG__", "8".into()),
        ("__SIZEOF_LONG_LONG__", "8".into()),
        ("__SIZEOF_POINTER__", "8".into()),
        ("__SIZEOF_SIZE_T__", "8".into()),
        // the CUDA headers cudalens does not read
        ("CUDART_VERSION", version.to_string()),
        ("CUDA_VERSION", version.to_string()),
        // GCC's `__typeof__` keyword (C code's `min`/`max` macros declare
        // their copies with it), which tree-sitter's C++ grammar does not
        // know, spelled as C++'s `decltype`; not a macro in nvcc.
        ("__typeof__", "decltype".into()),
        ("__typeof", "decltype".into()),
        // GCC's `__restrict` keyword (`const int* const __restrict p`,
        // HeCBench's mis), which the grammar does not know after `const`,
        // spelled `__restrict__`; not a macro in nvcc either.
        ("__restrict", "__restrict__".into()),
    ];
    let mut out: Vec<MacroDef> = objects
        .iter()
        .map(|(name, value)| MacroDef::object(name, value))
        .collect();
    out.push(MacroDef::function(
        "__CUDA_ARCH_HAS_FEATURE__",
        &["_FEAT"],
        "__CUDA_ARCH_FEAT_ ## _FEAT",
    ));
    out.push(MacroDef::function(
        "__align__",
        &["n"],
        "__attribute__((aligned(n)))",
    ));
    out.push(MacroDef::function(
        "__builtin_align__",
        &["a"],
        "__attribute__((aligned(a)))",
    ));
    // `<stdint.h>`'s constant macros as glibc writes them for LP64 (nvcc's
    // headers include it: code calls `UINT8_C(1)` without including it).
    for (name, suffix) in STDINT_CONSTANT_MACROS {
        let body = match suffix {
            "" => "c".to_string(),
            s => format!("c ## {s}"),
        };
        out.push(MacroDef::function(name, &["c"], &body));
    }
    out
}

/// glibc's `<stdint.h>` on LP64: each constant macro and the suffix it
/// pastes to its argument.
const STDINT_CONSTANT_MACROS: [(&str, &str); 10] = [
    ("INT8_C", ""),
    ("INT16_C", ""),
    ("INT32_C", ""),
    ("INT64_C", "L"),
    ("UINT8_C", ""),
    ("UINT16_C", ""),
    ("UINT32_C", "U"),
    ("UINT64_C", "UL"),
    ("INTMAX_C", "L"),
    ("UINTMAX_C", "UL"),
];

/// `__has_include(<name>)` for headers of the C and C++ standard libraries
/// and the CUDA toolkit, which cudalens does not read but nvcc always finds.
pub fn is_toolkit_header(name: &str) -> bool {
    const PREFIXES: [&str; 6] = [
        "cuda/",
        "cub/",
        "thrust/",
        "nv/",
        "crt/",
        "cooperative_groups/",
    ];
    const CUDA: [&str; 18] = [
        "cuda.h",
        "cuda_runtime.h",
        "cuda_runtime_api.h",
        "cuda_fp16.h",
        "cuda_bf16.h",
        "cuda_fp8.h",
        "cuda_fp6.h",
        "cuda_fp4.h",
        "cuda_pipeline.h",
        "cuda_awbarrier.h",
        "cooperative_groups.h",
        "mma.h",
        "device_launch_parameters.h",
        "vector_types.h",
        "cuda_texture_types.h",
        "math_constants.h",
        "cublas_v2.h",
        "curand_kernel.h",
    ];
    if PREFIXES.iter().any(|p| name.starts_with(p)) || CUDA.contains(&name) {
        return true;
    }
    // The standard library: C headers (`stdint.h`) and C++ ones (`cstdint`, `vector`).
    let std_cpp = !name.contains('/')
        && !name.contains('.')
        && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    const C_STD: [&str; 16] = [
        "assert.h",
        "ctype.h",
        "errno.h",
        "float.h",
        "limits.h",
        "math.h",
        "stdarg.h",
        "stdbool.h",
        "stddef.h",
        "stdint.h",
        "stdio.h",
        "stdlib.h",
        "string.h",
        "time.h",
        "inttypes.h",
        "wchar.h",
    ];
    std_cpp || C_STD.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::macros::MacroTable;

    #[test]
    fn device_pass_of_the_target() {
        let mut t = MacroTable::default();
        for d in predefined(800) {
            t.define(d);
        }
        assert_eq!(t.expand_text("__CUDA_ARCH__").unwrap(), "800");
        assert_eq!(
            t.expand_text("struct __align__(8) S").unwrap(),
            "struct __attribute__((aligned(8))) S"
        );
        assert!(
            crate::preprocess::cexpr::eval_condition(
                "CUDART_VERSION >= 12000 && defined(__CUDACC__)",
                &t
            )
            .unwrap()
        );
        assert_eq!(t.expand_text("UINT8_C(255)").unwrap(), "255");
        assert_eq!(t.expand_text("UINT64_C(1)").unwrap(), "1UL");
    }

    #[test]
    fn toolkit_headers() {
        assert!(is_toolkit_header("cuda_fp16.h"));
        assert!(is_toolkit_header("cuda/std/cstdint"));
        assert!(is_toolkit_header("vector"));
        assert!(!is_toolkit_header("raft/core/resources.hpp"));
        assert!(!is_toolkit_header("ggml.h"));
    }
}
