//! The byte layout of a buffer of CUDA structs, for the runner: every
//! scalar or vector the struct holds (nested structs and array members
//! flattened) with its offset and role, so that `bench` can fill such a
//! buffer with values of the right types and compare it with native CUDA's
//! field by field. Only structs whose WGSL layout is C's reach buffers
//! (`types::struct_fields` checks it), so C's offsets are the buffer's.

use serde::{Deserialize, Serialize};

use crate::TranspileOptions;
use cudalens_syntax::types::TypeTable;

use crate::types::{
    Ty, bool_in_word, map_value_type, pointer_member, struct_fields, triple_member,
};

/// More leaves than this per element (a struct holding a large array) and
/// the runner is not told the layout: it refuses the buffer as before.
const MAX_LEAVES: usize = 4096;

/// One element of a buffer of structs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ElementLayout {
    /// Bytes from one element to the next (C's `sizeof`).
    pub stride: u64,
    pub leaves: Vec<LayoutLeaf>,
}

/// A scalar or vector inside the element.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayoutLeaf {
    /// The member's path (`pos.x` is a leaf `pos` of type `f32` at lane
    /// offsets; `cells[3].mass`).
    pub name: String,
    /// Its WGSL type (`f32`, `vec2<u32>`).
    #[serde(rename = "type")]
    pub ty: String,
    pub offset: u64,
    pub role: LeafRole,
    /// How many of it there are, `stride` bytes apart: an array member of
    /// more than [`REPEAT_AT`] scalars or vectors is one leaf (frna's
    /// `int_t int22[4]…[4]`, 65,536 of them); 1 when absent.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub count: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stride: u64,
}

/// Array members of more elements than this are one repeated leaf.
const REPEAT_AT: u64 = 64;

fn one() -> u64 {
    1
}

fn is_one(n: &u64) -> bool {
    *n == 1
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeafRole {
    /// A number: filled with values of its type.
    Value,
    /// A C `bool` held in the low byte of this `u32` word: 0 or 1.
    Bool,
    /// A device pointer's 8 bytes: the runner cannot give it a meaning,
    /// so it stays zero (the kernel may only copy it).
    Pointer,
    /// A `u32` word of 8- or 16-bit members (`types::ByteRuns`): each
    /// byte a small value.
    Bytes,
}

/// The layout of a buffer element of type `ty`, when it is a struct that
/// buffers can hold.
pub fn of(ty: &Ty, types: &TypeTable, opts: &TranspileOptions) -> Option<ElementLayout> {
    let Ty::Struct(name) = ty else {
        return None;
    };
    let stride = types.structs.get(name)?.size;
    let mut leaves = Vec::new();
    flatten(name, "", 0, types, opts, 0, &mut leaves)?;
    Some(ElementLayout { stride, leaves })
}

fn flatten(
    name: &str,
    prefix: &str,
    base: u64,
    types: &TypeTable,
    opts: &TranspileOptions,
    depth: u32,
    out: &mut Vec<LayoutLeaf>,
) -> Option<()> {
    let def = types.structs.get(name)?;
    // Checks C's layout is WGSL's (and so the offsets below are the buffer's).
    struct_fields(name, types, opts, depth).ok()?;
    // A union: its one word (every member's bits).
    if types.unions.contains(name) {
        let word = crate::types::union_word(def, types, opts).ok()?;
        out.push(LayoutLeaf {
            name: match prefix.is_empty() {
                true => crate::types::UNION_BITS.to_string(),
                false => format!("{prefix}.{}", crate::types::UNION_BITS),
            },
            ty: Ty::Scalar(word).wgsl(),
            offset: base,
            role: LeafRole::Value,
            count: 1,
            stride: 0,
        });
        return Some(());
    }
    let runs = crate::types::byte_runs(def, types).ok()?;
    for f in &def.fields {
        if let Some(m) = runs.member(&f.name) {
            // A run's words, once, at its first member; each named by the
            // members whose bytes it holds.
            if !runs.starts_run(&f.name) {
                continue;
            }
            let run = &runs.runs[m.run];
            for w in 0..u64::from(run.words) {
                let word = run.start + 4 * w..run.start + 4 * w + 4;
                let names: Vec<&str> = (def.fields.iter())
                    .filter(|g| runs.member(&g.name).is_some_and(|o| o.run == m.run))
                    .filter(|g| {
                        let bytes = types.size_of(&g.ty).unwrap_or(1) * g.array_len;
                        g.offset < word.end && word.start < g.offset + bytes
                    })
                    .map(|g| g.name.as_str())
                    .collect();
                let names = names.join(",");
                out.push(LayoutLeaf {
                    name: match prefix.is_empty() {
                        true => names,
                        false => format!("{prefix}.{names}"),
                    },
                    ty: "u32".into(),
                    offset: base + word.start,
                    role: LeafRole::Bytes,
                    count: 1,
                    stride: 0,
                });
            }
            continue;
        }
        let path = if prefix.is_empty() {
            f.name.clone()
        } else {
            format!("{prefix}.{}", f.name)
        };
        let (role, ty) = if pointer_member(f, types) {
            (LeafRole::Pointer, Ty::Vector(crate::types::Scalar::U32, 2))
        } else if bool_in_word(def, f, types) {
            (LeafRole::Bool, Ty::U32)
        } else if triple_member(f, types, opts) {
            // Three scalars, C's 12 bytes: three leaves.
            let Ok(Ty::Vector(s, 3)) = map_value_type(&f.ty, types, opts) else {
                return None;
            };
            for (lane, axis) in ["x", "y", "z"].iter().enumerate() {
                out.push(LayoutLeaf {
                    name: format!("{path}.{axis}"),
                    ty: Ty::Scalar(s).wgsl(),
                    offset: base + f.offset + s.size() * lane as u64,
                    role: LeafRole::Value,
                    count: 1,
                    stride: 0,
                });
            }
            continue;
        } else {
            (LeafRole::Value, map_value_type(&f.ty, types, opts).ok()?)
        };
        let size = types.size_of(&f.ty)?;
        // A long array of numbers: one leaf repeated (the runner and the
        // comparison walk its copies).
        if f.array_len > REPEAT_AT && matches!(ty, Ty::Scalar(_) | Ty::Vector(..)) {
            out.push(LayoutLeaf {
                name: format!("{path}[0..{}]", f.array_len),
                ty: ty.wgsl(),
                offset: base + f.offset,
                role,
                count: f.array_len,
                stride: size,
            });
            if out.len() > MAX_LEAVES {
                return None;
            }
            continue;
        }
        for i in 0..f.array_len {
            let offset = base + f.offset + i * size;
            // `e[1][2]` for element 5 of `e[3][3]`.
            let mut path = path.clone();
            let mut rest = i;
            let mut index = Vec::new();
            for &n in f.dims.iter().rev() {
                index.push(rest % n.max(1));
                rest /= n.max(1);
            }
            for k in index.iter().rev() {
                path.push_str(&format!("[{k}]"));
            }
            match &ty {
                Ty::Struct(inner) => flatten(inner, &path, offset, types, opts, depth + 1, out)?,
                Ty::Scalar(_) | Ty::Vector(..) => out.push(LayoutLeaf {
                    name: path,
                    ty: ty.wgsl(),
                    offset,
                    role,
                    count: 1,
                    stride: 0,
                }),
                _ => return None,
            }
            if out.len() > MAX_LEAVES {
                return None;
            }
        }
    }
    Some(())
}
