//! Names of the CUDA builtins the transpiler lowers itself, for the
//! lowering (`intrinsics`) and for the analysis that runs before it.

/// CUDA builtins that only read their arguments: the math functions and
/// the conversions (`__half2float`, `__float2int_rn`, `make_float2`).
/// What `printf` or `assert` left out may drop a call to one of these.
pub(crate) fn pure_builtin(name: &str, args: usize) -> bool {
    let name = name.trim_start_matches("::").trim_start_matches("std::");
    let conversion = name.starts_with("__")
        && name[2..].contains('2')
        && !name.contains("atomic")
        && !name.contains("shfl");
    conversion
        || name.starts_with("make_")
        || float_unary(name).is_some()
        || builtin_before_functions(name, args)
}

/// Builtins that `FnLower::call` lowers itself even where the file defines
/// a function of the same name (helper_math.h's vector overloads such as
/// `fabs(float2)` or `make_float2(float s)`, whose bodies call the scalar
/// builtin): such a call never reaches the file's function.
pub(crate) fn builtin_before_functions(name: &str, args: usize) -> bool {
    const MATH: &[&str] = &[
        "log1pf",
        "expm1f",
        "cbrtf",
        "fminf",
        "fmaxf",
        "fmin",
        "fmax",
        "min",
        "max",
        "umin",
        "umax",
        "powf",
        "__powf",
        "pow",
        "atan2f",
        "atan2",
        "fmodf",
        "fmod",
        "fmaf",
        "fma",
        "__fmaf_rn",
        "abs",
        "labs",
        "log10f",
        "log10",
        "exp10f",
        "exp10",
        "roundf",
        "round",
        "copysignf",
        "copysign",
    ];
    // `make_float4(x, y, z, w)`; with other argument counts the file's
    // overload is called (`FnLower::overload_for`).
    let vector_constructor = name.strip_prefix("make_").is_some_and(|rest| {
        let digits = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        digits.parse::<usize>().is_ok_and(|lanes| lanes == args)
    });
    float_unary(name).is_some() || MATH.contains(&name) || vector_constructor
}

/// Unary float functions with a direct WGSL builtin.
pub(crate) fn float_unary(name: &str) -> Option<&'static str> {
    Some(match name {
        "sqrtf" | "sqrt" | "__fsqrt_rn" => "sqrt",
        "rsqrtf" | "rsqrt" | "__frsqrt_rn" => "inverseSqrt",
        "expf" | "__expf" | "exp" => "exp",
        "exp2f" | "exp2" => "exp2",
        "logf" | "__logf" | "log" => "log",
        "log2f" | "__log2f" | "log2" => "log2",
        "sinf" | "__sinf" | "sin" => "sin",
        "cosf" | "__cosf" | "cos" => "cos",
        "tanf" | "__tanf" | "tan" => "tan",
        "tanhf" | "tanh" => "tanh",
        "sinhf" | "sinh" => "sinh",
        "coshf" | "cosh" => "cosh",
        "asinf" | "asin" => "asin",
        "acosf" | "acos" => "acos",
        "atanf" | "atan" => "atan",
        "floorf" | "floor" => "floor",
        "ceilf" | "ceil" => "ceil",
        "truncf" | "trunc" => "trunc",
        "rintf" | "rint" | "nearbyintf" | "nearbyint" => "round",
        "fabsf" | "fabs" => "abs",
        "__saturatef" => "saturate",
        _ => return None,
    })
}
