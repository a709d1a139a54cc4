//! Sizes and alignments of CUDA types: scalars, CUDA vector types, and structs
//! laid out as nvcc lays them out (natural alignment).

use std::collections::HashMap;

use serde::Serialize;

use crate::ir::Type;

/// Size and alignment in bytes of a scalar or CUDA vector type name.
/// The keywords of C's type names (what the grammar never reads as a
/// variable's name).
pub const C_TYPE_KEYWORDS: &[&str] = &[
    "void", "bool", "char", "short", "int", "long", "float", "double", "signed", "unsigned",
    "const", "volatile", "struct",
];

pub fn builtin_layout(base: &str) -> Option<(u64, u64)> {
    let scalar = |n: u64| Some((n, n));
    match base {
        "char" | "signed char" | "unsigned char" | "bool" | "int8_t" | "uint8_t" | "char1"
        | "uchar1" => scalar(1),
        "short" | "unsigned short" | "int16_t" | "uint16_t" | "half" | "__half"
        | "__nv_bfloat16" | "short1" | "ushort1" => scalar(2),
        "int" | "unsigned int" | "float" | "int32_t" | "uint32_t" | "int1" | "uint1" | "float1"
        | "__half2" | "half2" | "__nv_bfloat162" | "char4" | "uchar4" | "short2" | "ushort2" => {
            scalar(4)
        }
        // `long` is 8 bytes on the Linux hosts CUDA targets (LP64).
        "long" | "unsigned long" | "long long" | "unsigned long long" | "double" | "int64_t"
        | "uint64_t" | "size_t" | "ptrdiff_t" | "clock_t" | "double1" | "longlong1"
        | "ulonglong1" | "long1" | "ulong1" => scalar(8),
        "int2" | "uint2" | "float2" | "short4" | "ushort4" => scalar(8),
        "int3" | "uint3" | "float3" | "dim3" => Some((12, 4)),
        "int4" | "uint4" | "float4" | "double2" | "longlong2" | "ulonglong2" | "long2"
        | "ulong2" => scalar(16),
        "double3" | "longlong3" => Some((24, 8)),
        "double4" | "longlong4" | "ulonglong4" | "long4" | "ulong4" => Some((32, 16)),
        "char2" | "uchar2" => scalar(2),
        "char3" | "uchar3" => Some((3, 1)),
        "short3" | "ushort3" => Some((6, 2)),
        _ => None,
    }
}

/// Canonical spelling of a written base type: `unsigned` → `unsigned int`,
/// `long int` → `long`, `signed int` → `int`, whitespace collapsed.
pub fn normalize_base(written: &str) -> String {
    let words: Vec<&str> = written
        .split_whitespace()
        .filter(|w| {
            !matches!(
                *w,
                "const" | "volatile" | "__restrict__" | "struct" | "class" | "enum"
            )
        })
        .collect();
    let joined = words.join(" ");
    match joined.as_str() {
        "unsigned" | "unsigned int" => "unsigned int".into(),
        "signed" | "signed int" => "int".into(),
        "long int" | "signed long" | "long signed int" => "long".into(),
        "unsigned long int" => "unsigned long".into(),
        "long long int" | "signed long long" => "long long".into(),
        "unsigned long long int" => "unsigned long long".into(),
        "short int" | "signed short" => "short".into(),
        "unsigned short int" => "unsigned short".into(),
        "uint" => "unsigned int".into(),
        // glibc's `sys/types.h` (which CUDA's headers include on Linux).
        "ulong" => "unsigned long".into(),
        // The toolkit's `cuComplex.h` and `cufft.h` (which cudalens does not
        // read): complex numbers are `float2`/`double2`.
        "cuFloatComplex" | "cuComplex" | "cufftComplex" => "float2".into(),
        "cuDoubleComplex" | "cufftDoubleComplex" => "double2".into(),
        "cufftReal" => "float".into(),
        "cufftDoubleReal" => "double".into(),
        _ => joined
            .trim_start_matches("::")
            .trim_start_matches("std::")
            .to_string(),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StructField {
    pub name: String,
    pub ty: Type,
    /// Elements of an array member (the product of `dims`); 1 for a scalar.
    pub array_len: u64,
    /// An array member's extents, outermost first (`e[3][3]` → `[3, 3]`);
    /// empty for a scalar member.
    pub dims: Vec<u64>,
    pub offset: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StructDef {
    pub name: String,
    pub fields: Vec<StructField>,
    pub size: u64,
    pub align: u64,
}

/// A member held in some bits of a 32-bit word of its struct: a bit-field
/// (`unsigned value : 11;`), or a 16- or 8-bit integer of an anonymous
/// struct inside a union of one word (the samples' dct8x8 `PackedShorts`:
/// `union { struct { short hShort1, hShort2; }; unsigned int hInt; }`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BitField {
    pub name: String,
    /// The member of the struct that holds the word (a hidden `unsigned
    /// int` member for bit-fields; for a union, its one word).
    pub unit: String,
    /// The first bit, from the word's least significant (Itanium ABI, as
    /// nvcc lays them out on Linux).
    pub offset: u32,
    pub width: u32,
    pub signed: bool,
}

/// Structs larger than this (a terabyte) stay unknown: no device holds
/// one, and sizes near `u64::MAX` would overflow the arithmetic of every
/// layout that uses them.
const MAX_STRUCT_BYTES: u64 = 1 << 40;

/// An array type's name: `typedef int tab4_t[4][4][4][4];`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArrayAlias {
    pub element: Type,
    /// Extents, outermost first.
    pub dims: Vec<u64>,
}

/// Structs and aliases known in a translation unit.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TypeTable {
    pub structs: HashMap<String, StructDef>,
    pub aliases: HashMap<String, Type>,
    /// Names of array types. Kept apart from `aliases` (which cannot
    /// carry extents) so that such a name never passes for its element
    /// type: declarations expand it into their dimensions, and anywhere
    /// else it is an unknown type.
    pub array_aliases: HashMap<String, ArrayAlias>,
    /// Union names. A union laid out (`add_union`) is in `structs` too,
    /// every member at offset 0: what reads it as a struct must check here.
    pub unions: std::collections::HashSet<String>,
    /// The parameter names of class templates (`Vector` of `template
    /// <typename Scalar, typename Ordinal> struct Vector`), for member
    /// types named through an instance (`Vector<double, int>::ScalarType`,
    /// an alias `Vector::ScalarType` of `Scalar`).
    pub class_params: HashMap<String, Vec<String>>,
    /// The members of each struct held in bits of one of its words.
    pub bitfields: HashMap<String, Vec<BitField>>,
}

impl TypeTable {
    /// The member `field` of struct `name` when it is held in bits of a
    /// word ([`BitField`]).
    pub fn bitfield(&self, name: &str, field: &str) -> Option<&BitField> {
        self.bitfields.get(name)?.iter().find(|b| b.name == field)
    }

    /// The member type `member` of the instance `class<args>` of a class
    /// template (`Vector<double, int>::ScalarType` of `typedef Scalar
    /// ScalarType;`: `double`), or of a plain struct (`args` empty); `None`
    /// when the struct names no such type or an argument is missing.
    pub fn member_type(&self, class: &str, args: &[String], member: &str) -> Option<Type> {
        let aliased = self.aliases.get(&format!("{class}::{member}"))?;
        let params = self.class_params.get(class);
        match params.and_then(|p| p.iter().position(|n| *n == aliased.base)) {
            Some(i) => {
                let mut t = Type::named(&normalize_base(args.get(i)?));
                t.pointer += aliased.pointer;
                t.is_const |= aliased.is_const;
                Some(t)
            }
            None => Some(aliased.clone()),
        }
    }

    /// Follows typedefs/usings to the underlying type.
    pub fn resolve(&self, ty: &Type) -> Type {
        let mut t = ty.clone();
        for _ in 0..16 {
            match self.aliases.get(&t.base) {
                Some(a) => {
                    let pointer = t.pointer + a.pointer;
                    let is_const = t.is_const || a.is_const;
                    t = Type {
                        pointer,
                        is_const,
                        ..a.clone()
                    };
                }
                None => break,
            }
        }
        t
    }

    /// The element and extents of an array type's name (`tab2_t` of
    /// `typedef int tab2_t[4][4]`: `int`, `[4, 4]`), its constness joined
    /// to the element's; `None` for any other type, pointers included.
    pub fn array_element(&self, ty: &Type) -> Option<(Type, Vec<u64>)> {
        if ty.pointer > 0 {
            return None;
        }
        let a = self.array_aliases.get(&ty.base)?;
        let element = Type {
            is_const: ty.is_const || a.element.is_const,
            ..a.element.clone()
        };
        Some((element, a.dims.clone()))
    }

    /// How many names the table knows: it grows with every type defined,
    /// so caches of lowered text key on it.
    pub fn known_count(&self) -> usize {
        self.structs.len() + self.aliases.len() + self.array_aliases.len() + self.unions.len()
    }

    /// Whether `name` names a type: a struct, a typedef or a builtin
    /// (CUDA's vectors included).
    pub fn is_known_name(&self, name: &str) -> bool {
        self.structs.contains_key(name)
            || self.aliases.contains_key(name)
            || self.array_aliases.contains_key(name)
            || self.unions.contains(name)
            || builtin_layout(name).is_some()
    }

    /// (size, align) of a type; pointers are 8 bytes.
    pub fn layout(&self, ty: &Type) -> Option<(u64, u64)> {
        let t = self.resolve(ty);
        if t.pointer > 0 {
            return Some((8, 8));
        }
        builtin_layout(&t.base).or_else(|| self.structs.get(&t.base).map(|s| (s.size, s.align)))
    }

    pub fn size_of(&self, ty: &Type) -> Option<u64> {
        self.layout(ty).map(|l| l.0)
    }

    /// Lays out a struct from its fields (name, type, array extents) with
    /// C rules.
    pub fn add_struct(&mut self, name: &str, fields: Vec<(String, Type, Vec<u64>)>) {
        self.lay_out(name, fields, false);
    }

    /// Lays out a union: every member at offset 0, the size of the
    /// largest rounded to the largest alignment (C's rules). Recorded with
    /// the structs; `unions` tells it apart.
    pub fn add_union(&mut self, name: &str, fields: Vec<(String, Type, Vec<u64>)>) {
        self.lay_out(name, fields, true);
    }

    fn lay_out(&mut self, name: &str, fields: Vec<(String, Type, Vec<u64>)>, union: bool) {
        let (mut end, mut align) = (0u64, 1u64);
        let mut out = Vec::new();
        for (fname, fty, dims) in fields {
            let n = dims.iter().fold(1u64, |a, &d| a.saturating_mul(d));
            let Some((size, a)) = self.layout(&fty) else {
                // Unknown member type: the struct's layout is unknown.
                return;
            };
            let offset = match union {
                true => 0,
                false => end.div_ceil(a).saturating_mul(a),
            };
            align = align.max(a);
            end = end.max(offset.saturating_add(size.saturating_mul(n.max(1))));
            out.push(StructField {
                name: fname,
                ty: fty,
                array_len: n,
                dims,
                offset,
            });
        }
        let size = end.div_ceil(align).max(1).saturating_mul(align);
        if size > MAX_STRUCT_BYTES {
            return;
        }
        self.structs.insert(
            name.to_string(),
            StructDef {
                name: name.to_string(),
                fields: out,
                size,
                align,
            },
        );
    }

    /// The field `name` of the struct type `ty`.
    pub fn field(&self, ty: &Type, name: &str) -> Option<&StructField> {
        let t = self.resolve(ty);
        self.structs
            .get(&t.base)?
            .fields
            .iter()
            .find(|f| f.name == name)
    }
}

/// `Vector<double, Pair<int, 2>>` → `("Vector", ["double", "Pair<int,
/// 2>"])`: a template's name and its arguments as written; `None` unless
/// `<...>` closes the text.
pub fn template_instance(text: &str) -> Option<(&str, Vec<String>)> {
    let (name, rest) = text.split_once('<')?;
    let inner = rest.trim_end().strip_suffix('>')?;
    Some((name.trim(), split_top_level(inner)))
}

/// `written` with each identifier-like word that `replace` maps replaced
/// (template parameters by their arguments in a written type: `Pair<T>`
/// with `T` bound to `float` is `Pair<float>`, or in a class template's
/// text); the rest as written. A word continuing a number (`1e5f`) is
/// one word with it, so never an identifier's.
pub fn replace_words(written: &str, replace: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        match replace(word) {
            Some(r) => out.push_str(&r),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in written.chars() {
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// `A, B<C, D>, E` → `["A", "B<C, D>", "E"]`: split at the commas outside
/// `<...>` and `(...)`.
pub fn split_top_level(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut depth, mut current) = (0i32, String::new());
    for c in list.chars() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut current).trim().to_string());
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current.trim().to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_layout() {
        let mut t = TypeTable::default();
        t.add_struct(
            "P",
            vec![
                ("a".into(), Type::named("char"), vec![]),
                ("b".into(), Type::named("double"), vec![]),
                ("c".into(), Type::named("float"), vec![3]),
            ],
        );
        let p = &t.structs["P"];
        assert_eq!((p.size, p.align), (32, 8));
        assert_eq!(p.fields[2].offset, 16);
        assert_eq!(normalize_base("unsigned"), "unsigned int");
        assert_eq!(normalize_base("const  long long int"), "long long");
    }
}
