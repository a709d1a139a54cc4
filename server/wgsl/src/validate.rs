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
        // `pack2x16float`/`unpack2x16float` are core WGSL (every WebGPU
        // adapter has them); naga asks for a capability only downlevel
        // GLES targets lack.
        let mut caps = Capabilities::SHADER_FLOAT16_IN_FLOAT32;
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

    /// The inverse of [`Needs::feature_names`]: what a sidecar's features
    /// allow (to validate an output again with exactly those).
    pub fn from_feature_names(features: &[String]) -> Needs {
        let has = |name: &str| features.iter().any(|f| f == name);
        Needs {
            f16: has("shader_f16"),
            f64: has("shader_f64"),
            int64: has("shader_int64"),
            subgroups: has("subgroups"),
            subgroup_barrier: has("subgroup_barrier"),
            float32_atomics: has("float32_atomics"),
            int64_atomics: has("int64_atomics"),
        }
    }

    /// The first feature the module needs that `opts` leaves out.
    pub fn beyond(&self, opts: &crate::TranspileOptions) -> Option<&'static str> {
        [
            (self.f16 && !opts.enable_f16, "shader_f16"),
            (self.f64 && !opts.enable_f64, "shader_f64"),
            (self.int64 && !opts.enable_int64, "shader_int64"),
            (self.subgroups && !opts.subgroups, "subgroups"),
            (
                self.float32_atomics && !opts.float_atomics,
                "float32_atomics",
            ),
            (self.int64_atomics && !opts.int64_atomics, "int64_atomics"),
        ]
        .into_iter()
        .find_map(|(beyond, name)| beyond.then_some(name))
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
        if self.subgroup_barrier {
            out.push("subgroup_barrier".to_string());
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
/// does not. What the module needs from the device is read from the
/// module itself ([`Needs::of_module`]), and the module is validated with
/// exactly those capabilities: the sidecar's features are what naga saw,
/// not what the transpiler meant to write.
pub fn validate_wgsl(wgsl: &str) -> Result<Needs, Rejection> {
    check(wgsl).map(|checked| checked.needs)
}

/// A module naga read and validated, and what it needs from the device.
pub struct Checked {
    pub needs: Needs,
    pub module: naga::Module,
    /// Validated with exactly `needs`.
    pub info: naga::valid::ModuleInfo,
}

/// [`validate_wgsl`], keeping the module.
pub fn check(wgsl: &str) -> Result<Checked, Rejection> {
    let module = naga::front::wgsl::parse_str(wgsl)
        .map_err(|e| Rejection::Invalid(e.emit_to_string(wgsl)))?;
    // Types first (every capability the transpiler can use allowed), then
    // validation with only those the module turns out to need.
    let info = validator_for_everything()
        .validate(&module)
        .map_err(|e| Rejection::Invalid(e.emit_to_string(wgsl)))?;
    let needs = Needs::of_module(&module, &info);
    let info = validate_module(wgsl, &module, &needs)?;
    if let Some(function) = partial_pointer_argument(&module, &info) {
        return Err(Rejection::Invalid(format!(
            "a call in `{function}` passes a pointer to part of a variable (an element or member): WGSL passes only whole variables by pointer, and naga's SPIR-V backend (wgpu's path to Vulkan) fails on it (a transpiler bug: please report)"
        )));
    }
    if let Some((function, fun)) = math_outside_vulkan(&module, &info) {
        let fun = format!("{fun:?}").to_lowercase();
        return Err(Rejection::NotPortable(format!(
            "`{fun}` of a 64-bit float in `{function}`: naga accepts it, but Vulkan's SPIR-V (GLSL.std.450) defines it for 16- and 32-bit floats only (a kernel using such calls crashed NVIDIA's Vulkan driver); compute it in `float` where its precision is enough"
        )));
    }
    if let Some(failure) = spirv_failure(&module, &info) {
        return Err(Rejection::Invalid(format!(
            "naga's SPIR-V backend (wgpu's path to Vulkan) fails on the generated module at its default launch settings, so creating its pipeline would fail or crash: {failure} (a transpiler bug: please report)"
        )));
    }
    Ok(Checked {
        needs,
        module,
        info,
    })
}

/// Validates a module built directly (`build.rs`) as [`check`] validates
/// one it parsed: what it needs read from the module, then validation with
/// exactly those capabilities. The build compares the result with the
/// parsed module, which went through [`check`]'s further gates.
pub fn validate_built(module: &naga::Module) -> Result<Needs, String> {
    let info = validator_for_everything()
        .validate(module)
        .map_err(|e| format!("{:?}", e.into_inner()))?;
    let needs = Needs::of_module(module, &info);
    validator_for(&needs)
        .validate(module)
        .map_err(|e| format!("{:?}", e.into_inner()))?;
    Ok(needs)
}

/// Validates `wgsl` with exactly the capabilities of `needs` (a sidecar's
/// features read back with [`Needs::from_feature_names`]).
pub fn validate_with(wgsl: &str, needs: &Needs) -> Result<(), Rejection> {
    let module = naga::front::wgsl::parse_str(wgsl)
        .map_err(|e| Rejection::Invalid(e.emit_to_string(wgsl)))?;
    validate_module(wgsl, &module, needs).map(|_| ())
}

fn validate_module(
    wgsl: &str,
    module: &naga::Module,
    needs: &Needs,
) -> Result<naga::valid::ModuleInfo, Rejection> {
    validator_for(needs)
        .validate(module)
        .map_err(|e| Rejection::Invalid(e.emit_to_string(wgsl)))
}

/// A validator allowing every capability the transpiler can use.
pub fn validator_for_everything() -> Validator {
    validator_for(&Needs {
        f16: true,
        f64: true,
        int64: true,
        subgroups: true,
        subgroup_barrier: true,
        float32_atomics: true,
        int64_atomics: true,
    })
}

fn validator_for(needs: &Needs) -> Validator {
    let mut validator = Validator::new(ValidationFlags::all(), needs.capabilities());
    if needs.subgroups {
        validator
            .subgroup_stages(ShaderStages::COMPUTE)
            .subgroup_operations(SubgroupOperationSet::all());
    }
    validator
}

impl Needs {
    /// What a validated module needs from the device: the widths of the
    /// scalars its declarations and expressions have, its atomics, its
    /// subgroup operations, builtins and barriers.
    pub fn of_module(module: &naga::Module, info: &naga::valid::ModuleInfo) -> Needs {
        use naga::{Binding, BuiltIn, ScalarKind, TypeInner};
        let mut needs = Needs::default();
        let scalar = |inner: &TypeInner, needs: &mut Needs| {
            if let TypeInner::Atomic(s) = inner {
                match (s.kind, s.width) {
                    (ScalarKind::Float, 4) => needs.float32_atomics = true,
                    (_, 8) => needs.int64_atomics = true,
                    _ => {}
                }
            }
            let Some(s) = inner.scalar() else { return };
            match (s.kind, s.width) {
                (ScalarKind::Float, 2) => needs.f16 = true,
                (ScalarKind::Float, 8) => needs.f64 = true,
                (ScalarKind::Sint | ScalarKind::Uint, 8) => needs.int64 = true,
                _ => {}
            }
        };
        // Arrays and structs hold their scalars in other types of the
        // arena, each visited on its own.
        for (_, ty) in module.types.iter() {
            scalar(&ty.inner, &mut needs);
        }
        let functions = module.functions.iter().map(|(h, f)| (f, &info[h])).chain(
            (module.entry_points.iter().enumerate())
                .map(|(i, e)| (&e.function, info.get_entry_point(i))),
        );
        for (function, finfo) in functions {
            for (handle, _) in function.expressions.iter() {
                scalar(finfo[handle].ty.inner_with(&module.types), &mut needs);
            }
            subgroup_statements(&function.body, &mut needs);
        }
        let subgroup_builtin = |b: &Option<Binding>| {
            matches!(
                b,
                Some(Binding::BuiltIn(
                    BuiltIn::SubgroupSize
                        | BuiltIn::SubgroupInvocationId
                        | BuiltIn::NumSubgroups
                        | BuiltIn::SubgroupId
                ))
            )
        };
        for e in &module.entry_points {
            if e.function
                .arguments
                .iter()
                .any(|a| subgroup_builtin(&a.binding))
            {
                needs.subgroups = true;
            }
        }
        needs
    }
}

/// Subgroup operations and barriers anywhere in `block`.
fn subgroup_statements(block: &naga::Block, needs: &mut Needs) {
    use naga::Statement as S;
    for statement in block.iter() {
        match statement {
            S::SubgroupBallot { .. }
            | S::SubgroupGather { .. }
            | S::SubgroupCollectiveOperation { .. } => needs.subgroups = true,
            // naga (and so wgpu) asks for subgroups as well.
            S::ControlBarrier(b) | S::MemoryBarrier(b) if b.contains(naga::Barrier::SUB_GROUP) => {
                needs.subgroup_barrier = true;
                needs.subgroups = true;
            }
            S::Block(b) => subgroup_statements(b, needs),
            S::If { accept, reject, .. } => {
                subgroup_statements(accept, needs);
                subgroup_statements(reject, needs);
            }
            S::Switch { cases, .. } => {
                for case in cases {
                    subgroup_statements(&case.body, needs);
                }
            }
            S::Loop {
                body, continuing, ..
            } => {
                subgroup_statements(body, needs);
                subgroup_statements(continuing, needs);
            }
            _ => {}
        }
    }
}

/// The first math function of a 64-bit float argument that SPIR-V's
/// GLSL.std.450 defines for 16- and 32-bit floats only (exponentials,
/// logarithms, powers, trigonometric and hyperbolic functions), with the
/// WGSL function it is in. The transpiler refuses those it writes itself at
/// the CUDA call; this catches any other way they are reached.
/// The first function that passes a `function`- or `private`-space
/// pointer argument which is not a whole variable (`&rows[1]`,
/// `&ray.dir`). WGSL forbids it without the `unrestricted_pointer_parameters`
/// language extension; naga validates it, then its SPIR-V backend panics.
fn partial_pointer_argument(
    module: &naga::Module,
    info: &naga::valid::ModuleInfo,
) -> Option<String> {
    fn calls<'a>(block: &'a naga::Block, out: &mut Vec<&'a [naga::Handle<naga::Expression>]>) {
        for statement in block.iter() {
            match statement {
                naga::Statement::Call { arguments, .. } => out.push(arguments),
                naga::Statement::Block(b) => calls(b, out),
                naga::Statement::If { accept, reject, .. } => {
                    calls(accept, out);
                    calls(reject, out);
                }
                naga::Statement::Switch { cases, .. } => {
                    for case in cases {
                        calls(&case.body, out);
                    }
                }
                naga::Statement::Loop {
                    body, continuing, ..
                } => {
                    calls(body, out);
                    calls(continuing, out);
                }
                _ => {}
            }
        }
    }
    let functions = module.functions.iter().map(|(h, f)| (f, &info[h])).chain(
        (module.entry_points.iter().enumerate())
            .map(|(i, e)| (&e.function, info.get_entry_point(i))),
    );
    for (function, finfo) in functions {
        let mut arguments = Vec::new();
        calls(&function.body, &mut arguments);
        for &argument in arguments.iter().flat_map(|a| a.iter()) {
            let local_pointer = matches!(
                finfo[argument].ty.inner_with(&module.types),
                naga::TypeInner::Pointer {
                    space: naga::AddressSpace::Function | naga::AddressSpace::Private,
                    ..
                } | naga::TypeInner::ValuePointer {
                    space: naga::AddressSpace::Function | naga::AddressSpace::Private,
                    ..
                }
            );
            let whole = matches!(
                function.expressions[argument],
                naga::Expression::LocalVariable(_)
                    | naga::Expression::GlobalVariable(_)
                    | naga::Expression::FunctionArgument(_)
            );
            if local_pointer && !whole {
                return Some(function.name.clone().unwrap_or_default());
            }
        }
    }
    None
}

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

/// Why naga's SPIR-V backend cannot write `module` once its overrides take
/// their defaults (arrays sized by one: a large size), as wgpu does when it
/// creates the pipeline on Vulkan:
/// the override-specialized module fails validation (a subgroup builtin
/// with a multi-dimensional workgroup), or the backend errs or panics
/// (naga 30 panics on a local variable initialised by an override
/// expression it cannot fold, `var a: i32 = extractBits(i32(BLOCK_DIM_X),
/// 0u, 16u);`). Checked here so that what validates also runs.
fn spirv_failure(module: &naga::Module, info: &naga::valid::ModuleInfo) -> Option<String> {
    use naga::back::{PipelineConstants, pipeline_constants::process_overrides, spv};
    // Arrays sized by an override (`extern __shared__`) take a large size:
    // the runner sets it from the launch, and a constant index past the
    // default is no error (HeCBench's ced indexes `(L + 1) * (L + 2) + L + 1`
    // with `L = blockDim.x`, 66,306 at the default 256 threads).
    let mut constants = PipelineConstants::default();
    for (_, ty) in module.types.iter() {
        if let naga::TypeInner::Array {
            size: naga::ArraySize::Pending(o),
            ..
        } = ty.inner
            && let Some(name) = &module.overrides[o].name
        {
            constants.insert(name.clone(), f64::from(1u32 << 24));
        }
    }
    let (module, info) = match process_overrides(module, info, None, &constants) {
        Ok(specialized) => specialized,
        Err(naga::back::pipeline_constants::PipelineConstantError::ValidationError(e)) => {
            return Some(error_chain(&e.into_inner()));
        }
        Err(e) => return Some(format!("{e}")),
    };
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        spv::write_vec(&module, &info, &spv::Options::default(), None)
    }));
    match written {
        Ok(Ok(_)) => None,
        Ok(Err(e)) => Some(format!("{e}")),
        Err(_) => Some("it panics".to_string()),
    }
}

/// An error and its sources: `Entry point k at Compute is invalid: Workgroup size is multi dimensional, ...`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needs(body: &str) -> Needs {
        validate_wgsl(body).unwrap_or_else(|e| panic!("{e}\n{body}"))
    }

    const ENTRY: &str =
        "@compute @workgroup_size(32)\nfn main(@builtin(local_invocation_id) id: vec3<u32>";

    #[test]
    fn pointers_to_parts_of_variables_are_not_passed() {
        let call = |arg: &str| {
            format!(
                "@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n\
                 fn f(p: ptr<function, array<f32, 4>>) {{ (*p)[0] = 1.0; }}\n\
                 {ENTRY}) {{\n    var rows: array<array<f32, 4>, 2>;\n    var row: array<f32, 4>;\n    f({arg});\n    x[id.x] = rows[1][0] + row[0];\n}}"
            )
        };
        assert!(validate_wgsl(&call("&row")).is_ok());
        let err = validate_wgsl(&call("&rows[1]")).expect_err("a row is part of a variable");
        assert!(err.to_string().contains("whole variables"), "{err}");
    }

    #[test]
    fn a_plain_module_needs_nothing() {
        let wgsl = format!(
            "@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n{ENTRY}) {{ x[id.x] = x[id.x] * 2.0; }}"
        );
        assert_eq!(needs(&wgsl), Needs::default());
    }

    #[test]
    fn scalar_widths_come_from_declarations_and_expressions() {
        let wgsl = format!(
            "enable f16;\n@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n{ENTRY}) {{\n    let h = f16(x[0]);\n    let d = i64(id.x) * 3li;\n    x[1] = f32(h) + f32(d) + f32(f64(x[2]));\n}}"
        );
        let n = needs(&wgsl);
        assert!(n.f16 && n.int64 && n.f64, "{n:?}");
        assert!(
            !n.subgroups && !n.float32_atomics && !n.int64_atomics,
            "{n:?}"
        );
    }

    #[test]
    fn atomics_subgroup_operations_builtins_and_barriers_are_found() {
        let wgsl = format!(
            "@group(0) @binding(0) var<storage, read_write> f: array<atomic<f32>>;\n@group(0) @binding(1) var<storage, read_write> u: array<atomic<u64>>;\n{ENTRY}, @builtin(subgroup_size) width: u32) {{\n    if (id.x < 4u) {{ atomicAdd(&f[0], 1.0); }}\n    loop {{ atomicAdd(&u[0], 1lu); break; }}\n}}"
        );
        let n = needs(&wgsl);
        assert!(
            n.float32_atomics && n.int64_atomics && n.int64 && n.subgroups,
            "{n:?}"
        );
        let wgsl = format!(
            "@group(0) @binding(0) var<storage, read_write> x: array<f32>;\n{ENTRY}) {{\n    switch (id.x) {{ case 0u: {{ x[0] = subgroupAdd(x[1]); }} default: {{ subgroupBarrier(); }} }}\n}}"
        );
        let n = needs(&wgsl);
        assert!(n.subgroups && n.subgroup_barrier, "{n:?}");
        let wgsl = format!("{ENTRY}) {{ if (id.x == 0u) {{ subgroupBarrier(); }} }}");
        let n = needs(&wgsl);
        assert!(
            n.subgroups && n.subgroup_barrier,
            "subgroupBarrier alone: {n:?}"
        );
    }

    #[test]
    fn a_target_without_a_needed_feature_is_named() {
        let n = Needs {
            f64: true,
            ..Needs::default()
        };
        let opts = crate::TranspileOptions::default();
        assert_eq!(n.beyond(&opts), Some("shader_f64"));
        let opts = crate::TranspileOptions {
            enable_f64: true,
            ..Default::default()
        };
        assert_eq!(n.beyond(&opts), None);
    }
}
