//! The last gate: only WGSL that naga parses and validates leaves the crate.

use naga::valid::{Capabilities, ShaderStages, SubgroupOperationSet, ValidationFlags, Validator};

/// What the generated module needs from the device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub f16: bool,
    pub f64: bool,
    pub int64: bool,
    pub subgroups: bool,
    pub subgroup_barrier: bool,
    pub float32_atomics: bool,
    pub int64_atomics: bool,
}

impl Needs {
    pub fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::empty();
        caps.set(Capabilities::SHADER_FLOAT16, self.f16);
        caps.set(Capabilities::FLOAT64, self.f64);
        caps.set(Capabilities::SHADER_INT64, self.int64);
        caps.set(Capabilities::SUBGROUP, self.subgroups);
        caps.set(Capabilities::SUBGROUP_BARRIER, self.subgroup_barrier);
        caps.set(Capabilities::SHADER_FLOAT32_ATOMIC, self.float32_atomics);
        caps.set(
            Capabilities::SHADER_INT64_ATOMIC_ALL_OPS,
            self.int64_atomics,
        );
        caps
    }

    /// What a module needs, from its sidecar's feature names (and its text,
    /// for `subgroupBarrier`, which needs no feature of its own): the
    /// inverse of [`Needs::feature_names`], to re-validate an output.
    pub fn from_features(features: &[String], wgsl: &str) -> Needs {
        let has = |name: &str| features.iter().any(|f| f == name);
        Needs {
            f16: has("shader_f16"),
            f64: has("shader_f64"),
            int64: has("shader_int64"),
            subgroups: has("subgroups"),
            subgroup_barrier: wgsl.contains("subgroupBarrier"),
            float32_atomics: has("float32_atomics"),
            int64_atomics: has("int64_atomics"),
        }
    }

    /// Feature names for the sidecar.
    pub fn feature_names(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.f16 {
            out.push("shader_f16".to_string());
        }
        if self.subgroups {
            out.push("subgroups".to_string());
        }
        if self.f64 {
            out.push("shader_f64".to_string());
        }
        if self.int64 {
            out.push("shader_int64".to_string());
        }
        if self.float32_atomics {
            out.push("float32_atomics".to_string());
        }
        if self.int64_atomics {
            out.push("int64_atomics".to_string());
        }
        out
    }
}

/// Why generated WGSL does not leave the crate.
#[derive(Debug)]
pub enum Rejection {
    /// naga rejects it: a transpiler bug (naga's message, rendered against
    /// the generated source).
    Invalid(String),
    /// naga accepts it but a Vulkan driver need not run it (see
    /// [`math_outside_vulkan`]).
    NotPortable(String),
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Invalid(m) | Rejection::NotPortable(m) => f.write_str(m),
        }
    }
}

/// Parses and validates `wgsl`, then checks what naga allows and Vulkan
/// does not.
pub fn validate_wgsl(wgsl: &str, needs: &Needs) -> Result<(), Rejection> {
    let module = naga::front::wgsl::parse_str(wgsl)
        .map_err(|e| Rejection::Invalid(e.emit_to_string(wgsl)))?;
    let mut validator = Validator::new(ValidationFlags::all(), needs.capabilities());
    if needs.subgroups {
        validator
            .subgroup_stages(ShaderStages::COMPUTE)
            .subgroup_operations(SubgroupOperationSet::all());
    }
    let info = validator
        .validate(&module)
        .map_err(|e| Rejection::Invalid(e.emit_to_string(wgsl)))?;
    if let Some((function, fun)) = math_outside_vulkan(&module, &info) {
        let fun = format!("{fun:?}").to_lowercase();
        return Err(Rejection::NotPortable(format!(
            "`{fun}` of a 64-bit float in `{function}`: naga accepts it, but Vulkan's SPIR-V (GLSL.std.450) defines it for 16- and 32-bit floats only (a kernel using such calls crashed NVIDIA's Vulkan driver); compute it in `float` where its precision is enough"
        )));
    }
    Ok(())
}

/// The first math function of a 64-bit float argument that SPIR-V's
/// GLSL.std.450 defines for 16- and 32-bit floats only (exponentials,
/// logarithms, powers, trigonometric and hyperbolic functions), with the
/// WGSL function it is in. The transpiler refuses those it writes itself at
/// the CUDA call; this catches any other way they are reached.
fn math_outside_vulkan(
    module: &naga::Module,
    info: &naga::valid::ModuleInfo,
) -> Option<(String, naga::MathFunction)> {
    use naga::MathFunction as M;
    let functions = module.functions.iter().map(|(h, f)| (f, &info[h])).chain(
        (module.entry_points.iter().enumerate())
            .map(|(i, e)| (&e.function, info.get_entry_point(i))),
    );
    for (function, finfo) in functions {
        for (_, expr) in function.expressions.iter() {
            let naga::Expression::Math { fun, arg, .. } = expr else {
                continue;
            };
            let restricted = matches!(
                fun,
                M::Exp
                    | M::Exp2
                    | M::Log
                    | M::Log2
                    | M::Pow
                    | M::Sin
                    | M::Cos
                    | M::Tan
                    | M::Asin
                    | M::Acos
                    | M::Atan
                    | M::Atan2
                    | M::Sinh
                    | M::Cosh
                    | M::Tanh
                    | M::Asinh
                    | M::Acosh
                    | M::Atanh
            );
            let f64_arg = finfo[*arg]
                .ty
                .inner_with(&module.types)
                .scalar()
                .is_some_and(|s| s.kind == naga::ScalarKind::Float && s.width == 8);
            if restricted && f64_arg {
                return Some((function.name.clone().unwrap_or_default(), *fun));
            }
        }
    }
    None
}
