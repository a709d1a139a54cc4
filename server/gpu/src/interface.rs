//! The kernel interface the CUDA→WGSL transpiler emits next to the WGSL.
//!
//! ```json
//! {
//!   "source_kernel": "saxpy",
//!   "entry_point": "saxpy",
//!   "workgroup_size": [256, 1, 1],
//!   "workgroup_size_overrides": ["BLOCK_DIM_X", "BLOCK_DIM_Y", "BLOCK_DIM_Z"],
//!   "dynamic_shared_override": null,
//!   "features": ["subgroups"],
//!   "bindings": [
//!     {"group": 0, "binding": 0, "name": "x", "kind": "storage_read", "element": "f32", "param_index": 1},
//!     {"group": 0, "binding": 1, "name": "y", "kind": "storage_read_write", "element": "f32", "param_index": 2},
//!     {"group": 0, "binding": 2, "name": "params", "kind": "uniform", "size": 32,
//!      "fields": [{"name": "n", "type": "i32", "offset": 0, "param_index": 0},
//!                 {"name": "a", "type": "f32", "offset": 4, "param_index": 3},
//!                 {"name": "__grid_dim", "type": "vec3<u32>", "offset": 16, "param_index": null}]}
//!   ]
//! }
//! ```
//!
//! * `workgroup_size` is the size baked into the WGSL (used when there are no overrides).
//! * `workgroup_size_overrides` names the `override` constants for the x/y/z
//!   workgroup size; the runner sets them from the CUDA block size. Empty or
//!   absent means the size is fixed.
//! * `dynamic_shared_override` names an `override` set to the CUDA launch's
//!   dynamic shared memory size **in bytes**.
//! * `features`: `"subgroups"`, `"f16"`, `"f64"`; the adapter must support them.
//! * `param_index` is the CUDA kernel parameter position the binding/field
//!   carries; `null` for runner-filled fields. The uniform field
//!   [`GRID_DIM_FIELD`] receives the CUDA grid size (see [`crate::grid`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::GpuError;

/// Uniform field the runner fills with the CUDA grid size (`vec3<u32>`).
pub const GRID_DIM_FIELD: &str = "__grid_dim";

/// Kernel interface: entry point, launch-shape overrides and bindings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelInterface {
    /// Name of the CUDA `__global__` function this was transpiled from.
    pub source_kernel: String,
    /// WGSL `@compute` entry point.
    pub entry_point: String,
    /// Workgroup size as written in the WGSL.
    pub workgroup_size: [u32; 3],
    /// Override-constant names for workgroup x/y/z (empty = fixed size).
    #[serde(default)]
    pub workgroup_size_overrides: Vec<String>,
    /// Override-constant name receiving the dynamic shared memory size: in
    /// elements of `dynamic_shared_element_bytes` when that is given, else in bytes.
    #[serde(default)]
    pub dynamic_shared_override: Option<String>,
    #[serde(default)]
    pub dynamic_shared_element_bytes: Option<u32>,
    /// Override-constant name receiving the grid layout (see
    /// [`crate::grid::GridLayout`]); absent in hand-written kernels.
    #[serde(default)]
    pub grid_layout_override: Option<String>,
    /// Override-constant name receiving how many CUDA blocks share one
    /// workgroup; present only where blocks cannot observe it.
    #[serde(default)]
    pub blocks_per_workgroup_override: Option<String>,
    /// WGSL extensions the kernel needs (`subgroups`, `f16`, `f64`).
    /// Kernel pointer parameters the kernel compares with NULL → the
    /// `bool` override saying the host passed NULL (set from
    /// [`crate::Benchmark::null_pointers`]).
    #[serde(default)]
    pub null_pointer_overrides: BTreeMap<String, String>,
    #[serde(default)]
    pub features: Vec<String>,
    pub bindings: Vec<Binding>,
}

/// How a binding is declared in WGSL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingKind {
    /// `var<storage, read>`: a kernel input.
    StorageRead,
    /// `var<storage, read_write>`: a kernel output (read back after the run).
    StorageReadWrite,
    /// `var<uniform>`: the packed scalar parameters.
    Uniform,
    /// A sampled texture for a CUDA texture object (`element`: its WGSL
    /// type). Not filled by this runner yet: `validate` refuses it.
    Texture,
    /// The sampler of the texture bound before it. Refused as `Texture`.
    Sampler,
}

/// One `@group(g) @binding(b)` resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Binding {
    pub group: u32,
    pub binding: u32,
    pub name: String,
    pub kind: BindingKind,
    /// Element type of a storage array (`f32`, `vec4<f32>`, ...).
    #[serde(default)]
    pub element: Option<String>,
    #[serde(default)]
    pub param_index: Option<usize>,
    /// Byte size of a uniform struct.
    #[serde(default)]
    pub size: Option<u64>,
    /// Fields of a uniform struct.
    #[serde(default)]
    pub fields: Vec<UniformField>,
    /// A storage binding of a fixed number of elements that no kernel
    /// parameter carries (a CUDA file-scope `__constant__`/`__device__`
    /// variable): the buffer has exactly this many.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u64>,
    /// Its initial contents, one value per scalar lane in memory order
    /// (the rest zero); absent: the caller decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<Vec<f64>>,
    /// The buffer a pointer member of a struct argument points at: that
    /// parameter and member (the caller fills it; its size is unknown here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_of: Option<MemberOf>,
    /// A buffer of CUDA structs (`element` names the WGSL struct): every
    /// scalar and vector of one element with its offset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<ElementLayout>,
}

/// One element of a buffer of structs (the transpiler's `element_layout`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ElementLayout {
    /// Bytes from one element to the next.
    pub stride: u64,
    pub leaves: Vec<LayoutLeaf>,
}

/// A scalar or vector inside a struct element.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayoutLeaf {
    /// The member's path (`pos.x`, `cells[3].mass`).
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub offset: u64,
    pub role: LeafRole,
    /// How many of it there are, `stride` bytes apart (an array member of
    /// many elements, `stack[0..65536]`, is one leaf); 1 when absent.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stride: u64,
}

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl LayoutLeaf {
    /// The offset of each of its `count` copies.
    pub fn offsets(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.count.max(1)).map(|k| self.offset + k * self.stride)
    }
}

/// What a leaf holds, which decides how it is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeafRole {
    /// A number: random values of its type.
    Value,
    /// A C `bool` in the low byte of a `u32` word: 0 or 1.
    Bool,
    /// A device pointer's bits: zero (the runner cannot give them a meaning).
    Pointer,
    /// A `u32` word of a struct's 8- or 16-bit members: each byte in [0, 100].
    Bytes,
}

/// The element type of a storage buffer: a WGSL scalar or vector, or a
/// CUDA struct laid out as described.
#[derive(Debug, Clone, PartialEq)]
pub enum ElementType {
    Plain(WgslType),
    Struct(ElementLayout),
}

impl ElementType {
    /// Bytes from one element to the next.
    pub fn array_stride(&self) -> u64 {
        match self {
            ElementType::Plain(t) => t.array_stride(),
            ElementType::Struct(l) => l.stride,
        }
    }
}

impl Binding {
    /// The element type of this storage binding (`u32` when none is named).
    pub fn element_type(&self) -> Result<ElementType, GpuError> {
        let el = self.element.as_deref().unwrap_or("u32");
        let Some(layout) = &self.layout else {
            return WgslType::parse(el).map(ElementType::Plain);
        };
        for leaf in &layout.leaves {
            let ty = WgslType::parse(&leaf.ty)?;
            let last = (leaf.count.max(1) - 1).saturating_mul(leaf.stride);
            if leaf.offset.saturating_add(last).saturating_add(ty.size()) > layout.stride {
                return Err(GpuError::InvalidInterface(format!(
                    "storage binding {:?}: member {:?} ends past the element's {} bytes",
                    self.name, leaf.name, layout.stride
                )));
            }
        }
        Ok(ElementType::Struct(layout.clone()))
    }
}

/// A kernel parameter (a struct, or a pointer to one) and its pointer member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberOf {
    pub param_index: usize,
    pub member: String,
}

/// One field of a uniform struct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UniformField {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    /// Byte offset inside the struct (WGSL uniform layout, computed by the transpiler).
    pub offset: u64,
    #[serde(default)]
    pub param_index: Option<usize>,
}

/// Scalar kinds that may appear in host-shareable WGSL types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scalar {
    F16,
    F32,
    F64,
    I32,
    U32,
    /// 64-bit integers (WGSL `i64`/`u64`, with SHADER_INT64).
    I64,
    U64,
}

impl Scalar {
    pub fn size(self) -> u64 {
        match self {
            Scalar::F16 => 2,
            Scalar::F32 | Scalar::I32 | Scalar::U32 => 4,
            Scalar::F64 | Scalar::I64 | Scalar::U64 => 8,
        }
    }
}

/// A WGSL scalar or vector type (`f32`, `vec3<u32>`, `vec4h`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WgslType {
    pub scalar: Scalar,
    /// 1 for scalars, 2..=4 for vectors.
    pub lanes: u32,
}

impl WgslType {
    /// Parses `f32`, `vec2<f32>`, `vec4f`, `vec3i`, `vec2h`, ...
    pub fn parse(text: &str) -> Result<Self, GpuError> {
        let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        // `atomic<u32>` has the layout of `u32`.
        let t = t
            .strip_prefix("atomic<")
            .and_then(|x| x.strip_suffix('>'))
            .map(str::to_string)
            .unwrap_or(t);
        let bad = || GpuError::InvalidInterface(format!("unsupported WGSL type {text:?}"));
        let scalar_of = |s: &str| match s {
            "f16" | "h" => Some(Scalar::F16),
            "f32" | "f" => Some(Scalar::F32),
            "f64" => Some(Scalar::F64),
            "i32" | "i" => Some(Scalar::I32),
            "u32" | "u" => Some(Scalar::U32),
            "i64" => Some(Scalar::I64),
            "u64" => Some(Scalar::U64),
            _ => None,
        };
        if let Some(rest) = t.strip_prefix("vec") {
            let lanes = rest
                .chars()
                .next()
                .and_then(|c| c.to_digit(10))
                .filter(|n| (2..=4).contains(n))
                .ok_or_else(bad)?;
            let inner = &rest[1..];
            let scalar_name = inner
                .strip_prefix('<')
                .and_then(|s| s.strip_suffix('>'))
                .unwrap_or(inner);
            let scalar = scalar_of(scalar_name).ok_or_else(bad)?;
            return Ok(WgslType { scalar, lanes });
        }
        // Single-letter aliases exist only for vectors.
        match t.as_str() {
            "f16" | "f32" | "f64" | "i32" | "u32" | "i64" | "u64" => Ok(WgslType {
                scalar: scalar_of(&t).ok_or_else(bad)?,
                lanes: 1,
            }),
            _ => Err(bad()),
        }
    }

    /// Size in bytes (`vec3<f32>` = 12).
    pub fn size(&self) -> u64 {
        self.scalar.size() * u64::from(self.lanes)
    }

    /// WGSL alignment (`vec3` aligns like `vec4`).
    pub fn align(&self) -> u64 {
        let lanes = if self.lanes == 3 { 4 } else { self.lanes };
        self.scalar.size() * u64::from(lanes)
    }

    /// Stride of `array<T>` in a storage buffer.
    pub fn array_stride(&self) -> u64 {
        self.size().div_ceil(self.align()) * self.align()
    }
}

impl KernelInterface {
    /// Parses the transpiler's JSON and checks it.
    pub fn from_json(json: &str) -> Result<Self, GpuError> {
        let iface: KernelInterface = serde_json::from_str(json)
            .map_err(|e| GpuError::InvalidInterface(format!("JSON: {e}")))?;
        iface.validate()?;
        Ok(iface)
    }

    /// Structural checks that the WGSL compiler cannot make for us.
    pub fn validate(&self) -> Result<(), GpuError> {
        let invalid = |m: String| Err(GpuError::InvalidInterface(m));
        if !matches!(self.workgroup_size_overrides.len(), 0 | 3) {
            return invalid(format!(
                "workgroup_size_overrides must name 0 or 3 constants, got {}",
                self.workgroup_size_overrides.len()
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for b in &self.bindings {
            if !seen.insert((b.group, b.binding)) {
                return invalid(format!(
                    "duplicate @group({}) @binding({})",
                    b.group, b.binding
                ));
            }
            match b.kind {
                BindingKind::StorageRead | BindingKind::StorageReadWrite => {
                    let el = b.element.as_deref().ok_or_else(|| {
                        GpuError::InvalidInterface(format!(
                            "storage binding {:?} has no element type",
                            b.name
                        ))
                    })?;
                    if b.layout.is_none()
                        && WgslType::parse(el).is_err()
                        && el.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        // A CUDA struct the transpiler declared: its layout is
                        // not in the sidecar.
                        return invalid(format!(
                            "storage binding {:?} holds structs (`{el}`), which this runner cannot fill yet",
                            b.name
                        ));
                    }
                    b.element_type()?;
                }
                BindingKind::Texture | BindingKind::Sampler => {
                    return invalid(format!(
                        "binding {:?}: the kernel reads a CUDA texture object through a WGSL texture and sampler, which this runner cannot create and fill yet (`tex1Dfetch` reads are buffers and run)",
                        b.name
                    ));
                }
                BindingKind::Uniform => {
                    for f in &b.fields {
                        let ty = WgslType::parse(&f.ty)?;
                        if f.offset % ty.align() != 0 {
                            return invalid(format!(
                                "uniform field {:?} at offset {} is misaligned for {}",
                                f.name, f.offset, f.ty
                            ));
                        }
                        if let Some(size) = b.size
                            && f.offset + ty.size() > size
                        {
                            return invalid(format!(
                                "uniform field {:?} ends past the struct size {size}",
                                f.name
                            ));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the workgroup size can be changed without recompiling WGSL.
    pub fn has_workgroup_overrides(&self) -> bool {
        self.workgroup_size_overrides.len() == 3
    }

    /// Whether the kernel recomputes its block index from `__grid_dim`, so the
    /// runner may fold large grids.
    pub fn supports_grid_folding(&self) -> bool {
        self.bindings
            .iter()
            .flat_map(|b| &b.fields)
            .any(|f| f.name == GRID_DIM_FIELD)
    }

    pub fn storage_bindings(&self) -> impl Iterator<Item = &Binding> {
        self.bindings
            .iter()
            .filter(|b| b.kind != BindingKind::Uniform)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SAXPY_JSON: &str = r#"{
      "source_kernel": "saxpy", "entry_point": "saxpy", "workgroup_size": [256, 1, 1],
      "workgroup_size_overrides": ["BLOCK_DIM_X", "BLOCK_DIM_Y", "BLOCK_DIM_Z"],
      "dynamic_shared_override": null, "features": ["subgroups"],
      "bindings": [
        {"group": 0, "binding": 0, "name": "x", "kind": "storage_read", "element": "f32", "param_index": 1},
        {"group": 0, "binding": 1, "name": "y", "kind": "storage_read_write", "element": "f32", "param_index": 2},
        {"group": 0, "binding": 2, "name": "params", "kind": "uniform", "size": 32,
         "fields": [{"name": "n", "type": "i32", "offset": 0, "param_index": 0},
                    {"name": "a", "type": "f32", "offset": 4, "param_index": 3},
                    {"name": "__grid_dim", "type": "vec3<u32>", "offset": 16, "param_index": null}]}
      ]}"#;

    #[test]
    fn parses_the_contract_example() {
        let i = KernelInterface::from_json(SAXPY_JSON).unwrap();
        assert_eq!(i.entry_point, "saxpy");
        assert!(i.has_workgroup_overrides());
        assert!(i.supports_grid_folding());
        assert_eq!(i.bindings[2].fields[2].ty, "vec3<u32>");
        assert_eq!(i.bindings[0].kind, BindingKind::StorageRead);
        assert_eq!(i.storage_bindings().count(), 2);
    }

    #[test]
    fn parses_wgsl_types_with_layout() {
        let t = WgslType::parse("vec3<f32>").unwrap();
        assert_eq!((t.size(), t.align(), t.array_stride()), (12, 16, 16));
        let t = WgslType::parse("vec4i").unwrap();
        assert_eq!((t.scalar, t.lanes, t.array_stride()), (Scalar::I32, 4, 16));
        let t = WgslType::parse("atomic<u32>").unwrap();
        assert_eq!((t.scalar, t.lanes), (Scalar::U32, 1));
        let t = WgslType::parse("f16").unwrap();
        assert_eq!(t.array_stride(), 2);
        assert_eq!(WgslType::parse("vec2 < f16 >").unwrap().size(), 4);
        assert!(WgslType::parse("mat4x4<f32>").is_err());
        assert!(WgslType::parse("f").is_err());
    }

    #[test]
    fn rejects_inconsistent_interfaces() {
        let bad = SAXPY_JSON.replace(r#""offset": 4"#, r#""offset": 2"#);
        assert!(KernelInterface::from_json(&bad).is_err());
        let bad = SAXPY_JSON.replace(r#""binding": 1,"#, r#""binding": 0,"#);
        assert!(
            KernelInterface::from_json(&bad)
                .unwrap_err()
                .to_string()
                .contains("duplicate")
        );
        let bad = SAXPY_JSON.replace(r#", "BLOCK_DIM_Z""#, "");
        assert!(KernelInterface::from_json(&bad).is_err());
        assert!(KernelInterface::from_json("{").is_err());
    }
}
