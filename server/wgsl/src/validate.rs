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
        out
    }
}

/// Parses and validates `wgsl`; the error is naga's message, rendered
/// against the generated source.
pub fn validate_wgsl(wgsl: &str, needs: &Needs) -> Result<(), String> {
    let module = naga::front::wgsl::parse_str(wgsl).map_err(|e| e.emit_to_string(wgsl))?;
    let mut validator = Validator::new(ValidationFlags::all(), needs.capabilities());
    if needs.subgroups {
        validator
            .subgroup_stages(ShaderStages::COMPUTE)
            .subgroup_operations(SubgroupOperationSet::all());
    }
    validator
        .validate(&module)
        .map_err(|e| e.emit_to_string(wgsl))?;
    Ok(())
}
