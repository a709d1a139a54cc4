//! Kernel parameters as WGSL resources: pointers become storage buffers,
//! scalars are packed into one uniform struct with WGSL's uniform layout
//! rules, and the JSON sidecar describes both for the GPU runner.

use serde::{Deserialize, Serialize};

use crate::types::Ty;

/// The JSON sidecar that travels with the WGSL (schema shared with `cudalens-gpu`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sidecar {
    pub source_kernel: String,
    pub entry_point: String,
    pub workgroup_size: [u32; 3],
    pub workgroup_size_overrides: Vec<String>,
    pub dynamic_shared_override: Option<String>,
    /// Bytes per element of the `extern __shared__` array: the runner divides
    /// the launch's dynamic shared bytes by this to set the override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_shared_element_bytes: Option<u32>,
    /// Override telling the kernel how the runner laid the grid over the
    /// dispatch: 0 exact, 1 a 1D grid linear over the workgroups, 2 folded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_layout_override: Option<String>,
    /// Override for how many CUDA blocks share a workgroup (present only for
    /// kernels where blocks cannot observe it); the workgroup is
    /// `BLOCK_DIM_X * n` wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks_per_workgroup_override: Option<String>,
    /// Kernel pointer parameters the kernel compares with `NULL` → the
    /// `bool` override saying the host passed `NULL` (default false: the
    /// runner binds a buffer for every pointer parameter).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub null_pointer_overrides: std::collections::BTreeMap<String, String>,
    pub features: Vec<String>,
    pub bindings: Vec<SidecarBinding>,
    /// The template arguments the kernel was compiled with, as C++ spells
    /// them (`["float", "256"]`); empty for a kernel that is no template.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instantiation: Vec<String>,
    /// Where the WGSL's lines come from in the CUDA source, in order: the
    /// lines a lowered statement printed (a line the lowering added, the
    /// entry point's prologue say, is in none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_map: Vec<SourceMapEntry>,
}

/// A place in the CUDA source: a file (`None`: the file transpiled; else a
/// header it includes, as the model names it) and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub line: u32,
}

/// WGSL lines `wgsl_lines[0]..=wgsl_lines[1]` (1-based) come from `source`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceMapEntry {
    pub wgsl_lines: [u32; 2],
    #[serde(flatten)]
    pub source: SourceLine,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingKind {
    StorageRead,
    StorageReadWrite,
    Uniform,
    /// A sampled texture (`element` is its WGSL type, `texture_2d<f32>`)
    /// for a CUDA texture object parameter (`param_index`).
    Texture,
    /// The sampler that goes with the texture bound just before it.
    Sampler,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SidecarBinding {
    pub group: u32,
    pub binding: u32,
    pub name: String,
    pub kind: BindingKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param_index: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<UniformField>,
    /// A file-scope `__constant__`/`__device__` variable: its number of
    /// elements (the buffer has exactly this many).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Its initialiser's values, vector lanes flattened, in memory order
    /// (the rest of the buffer is zero); absent when it has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<Vec<f64>>,
    /// What a pointer member of a struct argument points at
    /// (`member_buffers.rs`): the host fills it from that member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_of: Option<MemberOf>,
    /// For a buffer of structs: each scalar and vector of an element, with
    /// its offset (`element_layout.rs`), so that the runner can fill it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<crate::element_layout::ElementLayout>,
}

/// The kernel parameter (a struct, or a pointer to one) and the pointer
/// member whose buffer a binding is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberOf {
    pub param_index: usize,
    pub member: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UniformField {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub offset: u64,
    pub param_index: Option<usize>,
}

impl Sidecar {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// The sidecar's name for the grid-size field. WGSL forbids identifiers that
/// start with `__`, so the WGSL member is [`GRID_DIM_MEMBER`].
pub const GRID_DIM_FIELD: &str = "__grid_dim";
pub const GRID_DIM_MEMBER: &str = "grid_dim";
pub const GRID_LAYOUT_OVERRIDE: &str = "GRID_LAYOUT";
pub const BLOCKS_PER_WORKGROUP_OVERRIDE: &str = "BLOCKS_PER_WORKGROUP";

/// One member of the `Params` uniform struct.
#[derive(Clone, Debug, PartialEq)]
pub struct UniformMember {
    /// The WGSL member name.
    pub member: String,
    /// The name in the sidecar.
    pub sidecar_name: String,
    /// The WGSL type stored in the buffer (`bool` travels as `u32`).
    pub stored: Ty,
    pub offset: u64,
    pub param_index: Option<usize>,
}

/// Lays out `(member, sidecar name, type, param index)` with WGSL uniform
/// rules: members at their alignment (`vec3`/`vec4` at 16), struct size
/// rounded up to the largest alignment and to 16 (uniform buffers bind in
/// 16-byte units).
pub fn layout_uniform(
    members: Vec<(String, String, Ty, Option<usize>)>,
) -> (Vec<UniformMember>, u64) {
    let mut offset = 0u64;
    let mut align_max = 16u64;
    let mut out = Vec::new();
    for (member, sidecar_name, stored, param_index) in members {
        let (size, align) = stored.host_layout().unwrap_or((4, 4));
        offset = offset.div_ceil(align) * align;
        align_max = align_max.max(align);
        out.push(UniformMember {
            member,
            sidecar_name,
            stored,
            offset,
            param_index,
        });
        offset += size;
    }
    let size = offset.div_ceil(align_max) * align_max;
    (out, size.max(16))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Scalar;

    #[test]
    fn saxpy_layout_matches_the_schema() {
        let (members, size) = layout_uniform(vec![
            ("n".into(), "n".into(), Ty::I32, Some(0)),
            ("a".into(), "a".into(), Ty::F32, Some(3)),
            (
                GRID_DIM_MEMBER.into(),
                GRID_DIM_FIELD.into(),
                Ty::Vector(Scalar::U32, 3),
                None,
            ),
        ]);
        let offsets: Vec<u64> = members.iter().map(|m| m.offset).collect();
        assert_eq!(offsets, vec![0, 4, 16]);
        assert_eq!(size, 32);
    }
}
