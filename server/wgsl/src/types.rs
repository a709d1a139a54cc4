//! WGSL types, the mapping from C/CUDA types, and C's implicit conversions
//! (usual arithmetic conversions) made explicit.

use cudalens_syntax::ir::Type as CType;
use cudalens_syntax::types::{TypeTable, normalize_base};

use crate::TranspileOptions;

/// A WGSL scalar type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scalar {
    Bool,
    I32,
    U32,
    I64,
    U64,
    F16,
    F32,
    F64,
}

impl Scalar {
    pub fn wgsl(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::I32 => "i32",
            Scalar::U32 => "u32",
            Scalar::I64 => "i64",
            Scalar::U64 => "u64",
            Scalar::F16 => "f16",
            Scalar::F32 => "f32",
            Scalar::F64 => "f64",
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Scalar::F16 | Scalar::F32 | Scalar::F64)
    }

    pub fn is_int(self) -> bool {
        matches!(self, Scalar::I32 | Scalar::U32 | Scalar::I64 | Scalar::U64)
    }

    pub fn is_signed_int(self) -> bool {
        matches!(self, Scalar::I32 | Scalar::I64)
    }

    pub fn bits(self) -> u32 {
        match self {
            Scalar::Bool => 1,
            Scalar::F16 => 16,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 32,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 64,
        }
    }

    /// Byte size in host-shareable memory.
    pub fn size(self) -> u64 {
        match self {
            Scalar::Bool => 4,
            Scalar::F16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
        }
    }
}

/// Length of a fixed-size WGSL array.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ArrayLen {
    Fixed(u32),
    /// Sized by a pipeline-overridable constant (dynamic shared memory).
    Override(String),
}

/// A WGSL type as the compiler tracks it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    Void,
    Scalar(Scalar),
    Vector(Scalar, u8),
    Array(Box<Ty>, ArrayLen),
    /// `array<T>` of a storage buffer (a CUDA pointer parameter).
    RuntimeArray(Box<Ty>),
    /// A CUDA pointer value that is not a storage binding: a view into an
    /// array (`base + offset`). Only exists at compile time.
    Pointer(Box<Ty>),
    /// A CUDA struct whose C layout is WGSL's (`struct_fields`), by its C
    /// name; declared in the module under [`Ty::wgsl`].
    Struct(String),
    /// The result of an expression that already failed with a diagnostic.
    Error,
}

impl Ty {
    pub const I32: Ty = Ty::Scalar(Scalar::I32);
    pub const U32: Ty = Ty::Scalar(Scalar::U32);
    pub const F32: Ty = Ty::Scalar(Scalar::F32);
    pub const BOOL: Ty = Ty::Scalar(Scalar::Bool);

    pub fn wgsl(&self) -> String {
        match self {
            Ty::Void => "void".into(),
            Ty::Scalar(s) => s.wgsl().into(),
            Ty::Vector(s, n) => format!("vec{n}<{}>", s.wgsl()),
            Ty::Array(e, ArrayLen::Fixed(n)) => format!("array<{}, {n}>", e.wgsl()),
            Ty::Array(e, ArrayLen::Override(n)) => format!("array<{}, {n}>", e.wgsl()),
            Ty::RuntimeArray(e) => format!("array<{}>", e.wgsl()),
            Ty::Pointer(e) => format!("ptr<{}>", e.wgsl()),
            Ty::Struct(name) => crate::names::wgsl_ident(name),
            Ty::Error => "i32".into(),
        }
    }

    pub fn scalar(&self) -> Option<Scalar> {
        match self {
            Ty::Scalar(s) | Ty::Vector(s, _) => Some(*s),
            _ => None,
        }
    }

    pub fn is_numeric_scalar(&self) -> bool {
        matches!(self, Ty::Scalar(s) if *s != Scalar::Bool)
    }

    pub fn is_value(&self) -> bool {
        matches!(
            self,
            Ty::Scalar(_) | Ty::Vector(..) | Ty::Struct(_) | Ty::Error
        )
    }

    /// The element type of arrays and pointers.
    pub fn element(&self) -> Option<&Ty> {
        match self {
            Ty::Array(e, _) | Ty::RuntimeArray(e) | Ty::Pointer(e) => Some(e),
            _ => None,
        }
    }

    /// The innermost element of nested arrays.
    pub fn leaf(&self) -> &Ty {
        match self.element() {
            Some(e) => e.leaf(),
            None => self,
        }
    }

    pub fn with_scalar(&self, s: Scalar) -> Ty {
        match self {
            Ty::Vector(_, n) => Ty::Vector(s, *n),
            _ => Ty::Scalar(s),
        }
    }

    /// WGSL uniform/storage (size, alignment) of a value type.
    pub fn host_layout(&self) -> Option<(u64, u64)> {
        match self {
            Ty::Scalar(s) => Some((s.size(), s.size())),
            Ty::Vector(s, n) => {
                let lanes = if *n == 3 { 4 } else { u64::from(*n) };
                Some((s.size() * u64::from(*n), s.size() * lanes))
            }
            _ => None,
        }
    }
}

/// Maps a CUDA value type (no pointers) to WGSL. The error is a message for
/// the user.
pub fn map_value_type(
    written: &CType,
    types: &TypeTable,
    opts: &TranspileOptions,
) -> Result<Ty, String> {
    let resolved = types.resolve(written);
    let base = normalize_base(&resolved.base);
    // The error names the adapter feature (what `bench` reads from the
    // adapter), the transpile option and its CLI flag.
    let missing = |what: &str, option: &str| {
        let (feature, flag) = match option {
            "enable_f16" => ("SHADER_F16", "--f16"),
            "enable_f64" => ("SHADER_F64", "--f64"),
            _ => ("SHADER_INT64", "--int64"),
        };
        format!(
            "`{}` needs {what}: the adapter feature {feature} (NVIDIA's Vulkan driver has it); enable `{option}` in the transpile options (`cudalens transpile {flag}`)",
            written.display()
        )
    };
    let need = |flag: bool, s: Scalar, what: &str, option: &str| {
        if flag {
            Ok(Ty::Scalar(s))
        } else {
            Err(missing(what, option))
        }
    };
    let need_vector = |flag: bool, s: Scalar, n: u8, what: &str, option: &str| {
        if flag {
            Ok(Ty::Vector(s, n))
        } else {
            Err(missing(what, option))
        }
    };
    let vector = |s: Scalar, n: u8| Ok(Ty::Vector(s, n));
    match base.as_str() {
        "void" => Ok(Ty::Void),
        "bool" => Ok(Ty::BOOL),
        // CUDA's 1-lane vectors (`float1`, `int1`) are their scalar: `.x`
        // of a scalar reads it.
        "int" | "int32_t" | "signed" | "int1" => Ok(Ty::I32),
        "unsigned int" | "uint32_t" | "uint1" => Ok(Ty::U32),
        "float" | "float1" => Ok(Ty::F32),
        "half" | "__half" => need(opts.enable_f16, Scalar::F16, "16-bit floats", "enable_f16"),
        "double" | "double1" => need(opts.enable_f64, Scalar::F64, "64-bit floats", "enable_f64"),
        // `clock_t` is glibc's `long` (the samples' simpleHyperQ sums clocks).
        "long" | "long long" | "int64_t" | "ptrdiff_t" | "intptr_t" | "clock_t" | "long1"
        | "longlong1" => need(
            opts.enable_int64,
            Scalar::I64,
            "64-bit integers",
            "enable_int64",
        ),
        "unsigned long" | "unsigned long long" | "uint64_t" | "size_t" | "uintptr_t" | "ulong1"
        | "ulonglong1" => need(
            opts.enable_int64,
            Scalar::U64,
            "64-bit integers",
            "enable_int64",
        ),
        "float2" => vector(Scalar::F32, 2),
        "float3" => vector(Scalar::F32, 3),
        "float4" => vector(Scalar::F32, 4),
        "int2" => vector(Scalar::I32, 2),
        "int3" => vector(Scalar::I32, 3),
        "int4" => vector(Scalar::I32, 4),
        "uint2" => vector(Scalar::U32, 2),
        "uint3" | "dim3" => vector(Scalar::U32, 3),
        "uint4" => vector(Scalar::U32, 4),
        "half2" | "__half2" => need_vector(
            opts.enable_f16,
            Scalar::F16,
            2,
            "16-bit floats",
            "enable_f16",
        ),
        // 64-bit integer vectors of 2 and 4 lanes (their C and WGSL strides
        // agree: 16 and 32 bytes; 3 lanes would not, 24 against 32).
        "long2" | "longlong2" => need_vector(
            opts.enable_int64,
            Scalar::I64,
            2,
            "64-bit integers",
            "enable_int64",
        ),
        "long4" | "longlong4" => need_vector(
            opts.enable_int64,
            Scalar::I64,
            4,
            "64-bit integers",
            "enable_int64",
        ),
        "ulong2" | "ulonglong2" => need_vector(
            opts.enable_int64,
            Scalar::U64,
            2,
            "64-bit integers",
            "enable_int64",
        ),
        "ulong4" | "ulonglong4" => need_vector(
            opts.enable_int64,
            Scalar::U64,
            4,
            "64-bit integers",
            "enable_int64",
        ),
        "double2" => need_vector(
            opts.enable_f64,
            Scalar::F64,
            2,
            "64-bit floats",
            "enable_f64",
        ),
        "double3" => need_vector(
            opts.enable_f64,
            Scalar::F64,
            3,
            "64-bit floats",
            "enable_f64",
        ),
        "double4" => need_vector(
            opts.enable_f64,
            Scalar::F64,
            4,
            "64-bit floats",
            "enable_f64",
        ),
        "char" | "signed char" | "unsigned char" | "int8_t" | "uint8_t" | "short"
        | "unsigned short" | "int16_t" | "uint16_t" | "char4" | "uchar4" | "char2" | "uchar2"
        | "char3" | "uchar3" | "short2" | "ushort2" | "short3" | "ushort3" | "short4"
        | "ushort4" | "char1" | "uchar1" | "short1" | "ushort1" => Err(format!(
            "`{}`: WGSL has no 8- or 16-bit integer types",
            written.display()
        )),
        "cudaTextureObject_t" | "CUtexObject" => Err(format!(
            "`{}`: textures and surfaces are supported only as texture objects passed to the kernel and read there (not as values of device functions or locals)",
            written.display()
        )),
        "cudaSurfaceObject_t" | "CUsurfObject" => Err(format!(
            "`{}`: textures and surfaces: surface objects (`surf2Dread`/`surf2Dwrite`) are not supported",
            written.display()
        )),
        other
            if matches!(
                other
                    .trim_start_matches("::")
                    .trim_start_matches("cooperative_groups::")
                    .trim_start_matches("cg::"),
                "grid_group" | "multi_grid_group" | "coalesced_group" | "cluster_group"
            ) =>
        {
            Err(format!(
                "cooperative groups: `{other}` is not supported: a WGSL dispatch cannot synchronise or address groups beyond the thread block and its warps (`thread_block`, `thread_block_tile<32>` are supported)"
            ))
        }
        other if types.structs.contains_key(other) => {
            struct_members(other, types, opts).map(|_| Ty::Struct(other.to_string()))
        }
        other if types.unions.contains(other) => Err(format!(
            "`{other}` is a union: WGSL has no unions (its members cannot share bytes)"
        )),
        other => Err(format!("unknown or unsupported type `{other}`")),
    }
}

/// The integer promotion of C: `bool` arithmetic happens in `int`.
pub fn promote(t: &Ty) -> Ty {
    match t {
        Ty::Scalar(Scalar::Bool) => Ty::I32,
        Ty::Vector(Scalar::Bool, n) => Ty::Vector(Scalar::I32, *n),
        other => other.clone(),
    }
}

/// C's usual arithmetic conversions: the type both operands convert to.
pub fn common_type(a: &Ty, b: &Ty) -> Ty {
    let (a, b) = (promote(a), promote(b));
    match (&a, &b) {
        (Ty::Error, _) | (_, Ty::Error) => Ty::Error,
        (Ty::Vector(sa, n), Ty::Vector(sb, _)) => Ty::Vector(common_scalar(*sa, *sb), *n),
        (Ty::Vector(sa, n), Ty::Scalar(sb)) | (Ty::Scalar(sb), Ty::Vector(sa, n)) => {
            Ty::Vector(common_scalar(*sa, *sb), *n)
        }
        (Ty::Scalar(sa), Ty::Scalar(sb)) => Ty::Scalar(common_scalar(*sa, *sb)),
        _ => a,
    }
}

fn common_scalar(a: Scalar, b: Scalar) -> Scalar {
    use Scalar::*;
    if a.is_float() || b.is_float() {
        let rank = |s: Scalar| match s {
            F64 => 3,
            F32 => 2,
            F16 => 1,
            _ => 0,
        };
        return if rank(a) >= rank(b) { a } else { b };
    }
    match (a, b) {
        (U64, _) | (_, U64) => U64,
        (I64, _) | (_, I64) => I64,
        (U32, _) | (_, U32) => U32,
        _ => I32,
    }
}

/// A compile-time constant value (literals and folded expressions).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Konst {
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl Konst {
    pub fn as_int(self) -> i128 {
        match self {
            Konst::Int(v) => v,
            Konst::Float(f) => f as i128,
            Konst::Bool(b) => b as i128,
        }
    }

    pub fn as_float(self) -> f64 {
        match self {
            Konst::Int(v) => v as f64,
            Konst::Float(f) => f,
            Konst::Bool(b) => b as i128 as f64,
        }
    }

    pub fn truthy(self) -> bool {
        match self {
            Konst::Int(v) => v != 0,
            Konst::Float(f) => f != 0.0,
            Konst::Bool(b) => b,
        }
    }

    /// The value converted to `s` with C semantics (integers wrap).
    pub fn convert(self, s: Scalar) -> Konst {
        match s {
            Scalar::Bool => Konst::Bool(self.truthy()),
            s if s.is_float() => Konst::Float(match s {
                Scalar::F32 => self.as_float() as f32 as f64,
                _ => self.as_float(),
            }),
            s => Konst::Int(wrap_int(self.as_int(), s)),
        }
    }
}

/// Wraps `v` into the range of the integer scalar `s` (two's complement).
pub fn wrap_int(v: i128, s: Scalar) -> i128 {
    match s {
        Scalar::I32 => v as i32 as i128,
        Scalar::U32 => v as u32 as i128,
        Scalar::I64 => v as i64 as i128,
        Scalar::U64 => v as u64 as i128,
        _ => v,
    }
}

/// WGSL literal text for a constant of scalar type `s`.
pub fn literal(k: Konst, s: Scalar) -> String {
    match (k.convert(s), s) {
        (Konst::Bool(b), _) => b.to_string(),
        (Konst::Int(v), Scalar::I32) => {
            if v == i32::MIN as i128 {
                "i32(-2147483648)".into()
            } else {
                v.to_string()
            }
        }
        (Konst::Int(v), Scalar::U32) => format!("{v}u"),
        // `-9223372036854775808li` is a negated literal one past `i64`'s
        // range: WGSL rejects it.
        (Konst::Int(v), Scalar::I64) if v == i128::from(i64::MIN) => {
            "(-9223372036854775807li - 1li)".into()
        }
        (Konst::Int(v), Scalar::I64) => format!("{v}li"),
        (Konst::Int(v), Scalar::U64) => format!("{v}lu"),
        (Konst::Float(f), s) => float_literal(f, s),
        (Konst::Int(v), _) => v.to_string(),
    }
}

fn float_literal(f: f64, s: Scalar) -> String {
    let suffix = match s {
        Scalar::F16 => "h",
        Scalar::F64 => "lf",
        _ => "f",
    };
    if !f.is_finite() {
        // WGSL has no literal for infinities and NaN: build them from bits.
        let bits: u32 = if f.is_nan() {
            0x7fc0_0000
        } else if f > 0.0 {
            0x7f80_0000
        } else {
            0xff80_0000
        };
        let inner = format!("bitcast<f32>({bits:#x}u)");
        return match s {
            Scalar::F32 => inner,
            other => format!("{}({inner})", other.wgsl()),
        };
    }
    let text = match s {
        Scalar::F32 => format!("{:?}", f as f32),
        _ => format!("{f:?}"),
    };
    // `{:?}` prints `1e-5` / `1.0`: both are valid WGSL literals with a suffix.
    let text = if text.contains(['.', 'e']) {
        text
    } else {
        format!("{text}.0")
    };
    format!("{text}{suffix}")
}

/// WGSL storage (size, alignment) of a host-shareable value type; structs
/// from their fields.
fn wgsl_layout(
    ty: &Ty,
    types: &TypeTable,
    opts: &TranspileOptions,
    depth: u32,
) -> Option<(u64, u64)> {
    match ty {
        Ty::Struct(name) => {
            let fields = struct_fields(name, types, opts, depth + 1).ok()?;
            let mut offset = 0u64;
            let mut align = 1u64;
            for (_, t) in &fields {
                let (size, a) = wgsl_layout(t, types, opts, depth + 1)?;
                offset = offset.div_ceil(a) * a + size;
                align = align.max(a);
            }
            Some((offset.div_ceil(align) * align, align))
        }
        Ty::Array(elem, ArrayLen::Fixed(n)) => {
            let (size, a) = wgsl_layout(elem, types, opts, depth + 1)?;
            Some((size.div_ceil(a) * a * u64::from(*n), a))
        }
        Ty::Scalar(Scalar::Bool) => None,
        other => other.host_layout(),
    }
}

/// The fields of the CUDA struct `name` as WGSL types, when WGSL lays the
/// struct out as C does (every field at the same offset, the same size and
/// so the same array stride): only then can a buffer of them be shared. The
/// error says which field differs or cannot be expressed.
pub fn struct_fields(
    name: &str,
    types: &TypeTable,
    opts: &TranspileOptions,
    depth: u32,
) -> Result<Vec<(String, Ty)>, String> {
    fields_of(name, types, opts, depth, true)
}

/// The fields of the CUDA struct `name` as WGSL types, whatever the
/// layout: what a struct held only in function or workgroup memory needs,
/// where no one else reads its bytes (a `float3` member may sit at another
/// offset there). Where memory is shared with the host, `host_shareable`
/// checks the layout.
pub fn struct_members(
    name: &str,
    types: &TypeTable,
    opts: &TranspileOptions,
) -> Result<Vec<(String, Ty)>, String> {
    fields_of(name, types, opts, 0, false)
}

/// Whether buffers of `ty` hold what C's do: every struct in it laid out as
/// C lays it out (`struct_fields`); the error names what differs.
pub fn host_shareable(ty: &Ty, types: &TypeTable, opts: &TranspileOptions) -> Result<(), String> {
    match ty {
        Ty::Struct(name) => struct_fields(name, types, opts, 0).map(|_| ()),
        Ty::Array(elem, _) | Ty::RuntimeArray(elem) => host_shareable(elem, types, opts),
        _ => Ok(()),
    }
}

fn fields_of(
    name: &str,
    types: &TypeTable,
    opts: &TranspileOptions,
    depth: u32,
    strict: bool,
) -> Result<Vec<(String, Ty)>, String> {
    let Some(def) = types.structs.get(name) else {
        return Err(format!("unknown or unsupported type `{name}`"));
    };
    if depth > 8 {
        return Err(format!("struct `{name}`: nested too deeply"));
    }
    if types.unions.contains(name) {
        let storage = union_word(def, types, opts)?;
        let mut fields = vec![(UNION_BITS.to_string(), Ty::Scalar(storage))];
        // Over-aligned by a member (dct8x8's `PackedShorts`): padding
        // words to C's size, as a struct's.
        if let Some(words) = over_alignment_padding(def, &fields, types, opts, depth) {
            fields.push((
                "pad_to_c_size".to_string(),
                Ty::Array(Box::new(Ty::U32), ArrayLen::Fixed(words)),
            ));
        }
        return Ok(fields);
    }
    let bytes = byte_runs(def, types)?;
    let mut fields = Vec::new();
    let mut offset = 0u64;
    let mut align = 1u64;
    for f in &def.fields {
        if let Some(m) = bytes.member(&f.name) {
            // Narrow members: their run's words, once, where the run starts.
            let run = &bytes.runs[m.run];
            if !bytes.starts_run(&f.name) {
                continue;
            }
            let ty = Ty::Array(Box::new(Ty::U32), ArrayLen::Fixed(run.words));
            if strict {
                offset = offset.div_ceil(4) * 4;
                if offset != run.start {
                    return Err(format!(
                        "struct `{name}`: member `{}` is at byte {} in C but {offset} in WGSL",
                        f.name, f.offset
                    ));
                }
                offset += 4 * u64::from(run.words);
                align = align.max(4);
            }
            fields.push((run.field.clone(), ty));
            continue;
        }
        // The front end records 1 for a scalar member.
        if !f.dims.is_empty() && pointer_member(f, types) {
            return Err(format!(
                "struct `{name}`: the member `{}` is an array of pointers, which WGSL cannot hold",
                f.name
            ));
        }
        let elem = if pointer_member(f, types) {
            // A device pointer (8 bytes, 8-aligned on the 64-bit hosts CUDA
            // targets): its bits, kept when the struct is copied; WGSL cannot
            // follow it, so using the member is refused (`FnLower::struct_field`).
            Ty::Vector(Scalar::U32, 2)
        } else if triple_member(f, types, opts) {
            // `float3 pos`: three scalars, C's 12 bytes (a WGSL `vec3` takes
            // 16), read and written as a vector (`AtomicRepr::Triple`).
            match map_value_type(&f.ty, types, opts) {
                Ok(Ty::Vector(s, 3)) => Ty::Array(Box::new(Ty::Scalar(s)), ArrayLen::Fixed(3)),
                Ok(other) => other,
                Err(e) => return Err(format!("struct `{name}`, member `{}`: {e}", f.name)),
            }
        } else if bool_in_word(def, f, types) {
            // A C `bool` followed by padding: the word it starts, read and
            // written through its low byte (`AtomicRepr::ByteBool`).
            Ty::U32
        } else {
            map_value_type(&f.ty, types, opts)
                .map_err(|e| format!("struct `{name}`, member `{}`: {e}", f.name))?
        };
        if !strict {
            let ty = member_array(name, f, elem)?;
            fields.push((f.name.clone(), ty));
            continue;
        }
        // `float4 m[3]`: an array member whose elements are as far apart
        // in WGSL as in C.
        let ty = if f.dims.is_empty() {
            elem
        } else {
            let stride =
                wgsl_layout(&elem, types, opts, depth).map(|(size, a)| size.div_ceil(a) * a);
            let c_size = types.size_of(&f.ty);
            if stride.is_none() || stride != c_size {
                return Err(format!(
                    "struct `{name}`: the elements of the array member `{}` (`{}`) are {} bytes apart in C but {} in WGSL",
                    f.name,
                    f.ty.display(),
                    c_size.map_or("?".to_string(), |n| n.to_string()),
                    stride.map_or("?".to_string(), |n| n.to_string())
                ));
            }
            member_array(name, f, elem)?
        };
        let Some((size, a)) = wgsl_layout(&ty, types, opts, depth) else {
            return Err(format!(
                "struct `{name}`: the member `{}` (`{}`) is not host-shareable in WGSL",
                f.name,
                f.ty.display()
            ));
        };
        offset = offset.div_ceil(a) * a;
        if offset != f.offset {
            return Err(format!(
                "struct `{name}`: member `{}` is at byte {} in C but {offset} in WGSL (a 3-component vector or alignment differs)",
                f.name, f.offset
            ));
        }
        offset += size;
        align = align.max(a);
        fields.push((f.name.clone(), ty));
    }
    // `struct __align__(16) S { float x; }`: C's 16 bytes, WGSL's 4 but
    // for a last member of padding words (same in both modes: the struct
    // is declared once).
    if let Some(words) = over_alignment_padding(def, &fields, types, opts, depth) {
        let mut pad = "pad_to_c_size".to_string();
        while fields.iter().any(|(n, _)| *n == pad) {
            pad.insert(0, '_');
        }
        fields.push((pad, Ty::Array(Box::new(Ty::U32), ArrayLen::Fixed(words))));
        offset = offset.div_ceil(4) * 4 + 4 * u64::from(words);
        align = align.max(4);
    }
    if !strict {
        return Ok(fields);
    }
    let size = offset.div_ceil(align) * align;
    if size != def.size {
        return Err(format!(
            "struct `{name}` is {} bytes in C but {size} in WGSL",
            def.size
        ));
    }
    Ok(fields)
}

/// The `u32` words a struct aligned beyond its members (`__align__(16)`,
/// `alignas(8)`) needs after `fields` for WGSL's size to be C's; `None`
/// when it needs none or no words can make it (a WGSL layout unknown, or
/// a size that is not a whole number of words).
fn over_alignment_padding(
    def: &cudalens_syntax::types::StructDef,
    fields: &[(String, Ty)],
    types: &TypeTable,
    opts: &TranspileOptions,
    depth: u32,
) -> Option<u32> {
    let (mut end, mut align) = (0u64, 1u64);
    for (_, ty) in fields {
        let (size, a) = wgsl_layout(ty, types, opts, depth)?;
        end = end.div_ceil(a) * a + size;
        align = align.max(a);
    }
    if def.size <= end.div_ceil(align) * align || def.align <= align {
        return None;
    }
    let start = end.div_ceil(4) * 4;
    let bytes = def.size.checked_sub(start)?;
    if bytes == 0 || !bytes.is_multiple_of(4) || !def.size.is_multiple_of(align.max(4)) {
        return None;
    }
    u32::try_from(bytes / 4).ok()
}

/// Elements (scalars or vectors) of a possibly nested fixed array; 1 for
/// anything else.
pub(crate) fn flat_len(ty: &Ty) -> u64 {
    match ty {
        Ty::Array(e, ArrayLen::Fixed(n)) => u64::from(*n) * flat_len(e),
        _ => 1,
    }
}

/// An element of a buffer packed 4 (8-bit) or 2 (16-bit) to a `u32` word,
/// little-endian as in CUDA's memory: element `i` is bits
/// `(i % n) * bits ..` of word `i / n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Packed {
    pub bits: u8,
    pub signed: bool,
    /// C `bool`: a byte read as `!= 0`, written as 0 or 1.
    pub boolean: bool,
    /// The kernel writes the buffer: its words are `atomic<u32>`.
    pub written: bool,
    /// 1, or the lanes of a vector type (`uchar4`/`char4` fill a word;
    /// `uchar2`, `uchar3`, `short2`, `short4` are their lanes in order,
    /// each a packed scalar: element `i`'s lane `k` is scalar `lanes * i + k`).
    pub lanes: u8,
}

impl Packed {
    /// The packed element type of a buffer of `base` (a normalized C type).
    pub fn of(base: &str, written: bool) -> Option<Packed> {
        let (bits, signed, boolean, lanes) = match base {
            "uchar4" => (8, false, false, 4),
            "char4" => (8, true, false, 4),
            "uchar2" => (8, false, false, 2),
            "char2" => (8, true, false, 2),
            "uchar3" => (8, false, false, 3),
            "char3" => (8, true, false, 3),
            "ushort2" => (16, false, false, 2),
            "short2" => (16, true, false, 2),
            "ushort3" => (16, false, false, 3),
            "short3" => (16, true, false, 3),
            "ushort4" => (16, false, false, 4),
            "short4" => (16, true, false, 4),
            _ => {
                let (bits, signed, boolean) = Self::scalar(base)?;
                (bits, signed, boolean, 1)
            }
        };
        Some(Packed {
            bits,
            signed,
            boolean,
            written,
            lanes,
        })
    }

    fn scalar(base: &str) -> Option<(u8, bool, bool)> {
        Some(match base {
            // nvcc's `char` is signed on every host it supports but Arm's;
            // x86-64 and the CUDA ABI make it signed.
            // A 1-lane vector (`uchar1`) is its scalar (`.x` reads it).
            "char" | "signed char" | "int8_t" | "char1" => (8, true, false),
            "unsigned char" | "uint8_t" | "uchar" | "uchar1" => (8, false, false),
            "short" | "signed short" | "short int" | "int16_t" | "short1" => (16, true, false),
            "unsigned short" | "unsigned short int" | "uint16_t" | "ushort" | "ushort1" => {
                (16, false, false)
            }
            "bool" => (8, false, true),
            _ => return None,
        })
    }

    /// One lane of a vector element (what a component holds).
    pub fn lane(&self) -> Packed {
        Packed { lanes: 1, ..*self }
    }

    /// A vector element that fills its 32-bit word (`uchar4`, `char4`):
    /// read and written whole (`pack4xU8`); other vectors lane by lane.
    pub fn is_word(&self) -> bool {
        self.lanes == 4 && self.bits == 8
    }

    /// The C type's name, for comments.
    pub fn describe(&self) -> &'static str {
        match (self.bits, self.signed, self.boolean) {
            _ if self.lanes > 1 => match (self.bits, self.signed, self.lanes) {
                (8, true, 4) => "char4",
                (8, false, 4) => "uchar4",
                (8, true, 3) => "char3",
                (8, false, 3) => "uchar3",
                (8, true, _) => "char2",
                (8, false, _) => "uchar2",
                (_, true, 4) => "short4",
                (_, false, 4) => "ushort4",
                (_, true, 3) => "short3",
                (_, false, 3) => "ushort3",
                (_, true, _) => "short2",
                _ => "ushort2",
            },
            (_, _, true) => "bool",
            (8, true, _) => "8-bit signed",
            (8, false, _) => "8-bit unsigned",
            (_, true, _) => "16-bit signed",
            _ => "16-bit unsigned",
        }
    }

    /// The value type of an element in WGSL: C promotes 8- and 16-bit
    /// integers to `int`.
    pub fn value_type(&self) -> Ty {
        if self.boolean {
            Ty::BOOL
        } else if self.lanes > 1 {
            Ty::Vector(Scalar::I32, self.lanes)
        } else {
            Ty::I32
        }
    }
}

/// Where a struct's 8- and 16-bit integer members live (`char x;`,
/// `int8_t board[12];`, `uchar4 c;`): WGSL has no such types, so each run
/// of 32-bit words that only these members (and padding) occupy is one
/// WGSL field, `array<u32, n>`, at C's offset; the struct keeps C's layout
/// and a member is its bits in those words (`AtomicRepr::MemberBytes`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ByteRuns {
    pub runs: Vec<ByteRun>,
    /// Each narrow member by its C name.
    pub members: Vec<(String, ByteMember)>,
}

/// One WGSL field holding narrow members: `words` words from byte `start`.
#[derive(Clone, Debug, PartialEq)]
pub struct ByteRun {
    pub field: String,
    pub start: u64,
    pub words: u32,
}

/// A narrow member: in run `run`, its first element is element `first` of
/// the run counted in the member's own element size (`packed_word` finds
/// the word and bits of element `i` of that size).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ByteMember {
    pub run: usize,
    pub packed: Packed,
    pub first: u32,
    /// The C array length (1 for a scalar member).
    pub len: u64,
}

impl ByteRuns {
    pub fn member(&self, name: &str) -> Option<&ByteMember> {
        self.members.iter().find(|(n, _)| n == name).map(|(_, m)| m)
    }

    /// Whether the member `name` is the first of its run (where the run's
    /// field stands in the struct).
    pub fn starts_run(&self, name: &str) -> bool {
        self.member(name).is_some_and(|m| {
            self.members
                .iter()
                .find(|(_, o)| o.run == m.run)
                .map(|(n, _)| n.as_str())
                == Some(name)
        })
    }
}

/// The packed kind of a struct member held in a byte run, if it is one
/// (a `bool` alone in its word stays `bool_in_word`'s).
pub fn narrow_member(
    def: &cudalens_syntax::types::StructDef,
    f: &cudalens_syntax::types::StructField,
    types: &TypeTable,
) -> Option<Packed> {
    let t = types.resolve(&f.ty);
    if t.pointer != 0 || bool_in_word(def, f, types) {
        return None;
    }
    // Vectors other than `uchar4`/`char4` (`uchar3`, `short2` members)
    // stay refused (`map_value_type`).
    Packed::of(&normalize_base(&t.base), false).filter(|k| k.lanes == 1 || k.is_word())
}

/// The byte runs of the struct `def` (empty when it has no narrow member);
/// an error when a narrow member shares a word with another member (a
/// `half` beside a `short`), which WGSL cannot lay out as C does.
pub fn byte_runs(
    def: &cudalens_syntax::types::StructDef,
    types: &TypeTable,
) -> Result<ByteRuns, String> {
    let name = &def.name;
    let words_of = |offset: u64, bytes: u64| (offset / 4)..(offset + bytes.max(1)).div_ceil(4);
    let mut narrow = Vec::new();
    for f in &def.fields {
        if let Some(k) = narrow_member(def, f, types) {
            if f.dims.len() > 1 {
                return Err(format!(
                    "struct `{name}`: the 8- or 16-bit member `{}` is an array of more than one dimension, which is not supported",
                    f.name
                ));
            }
            let unit = u64::from(k.bits / 8) * u64::from(k.lanes);
            if !f.offset.is_multiple_of(unit) {
                return Err(format!(
                    "struct `{name}`: member `{}` is at byte {}, not a multiple of its size",
                    f.name, f.offset
                ));
            }
            narrow.push((f, k, words_of(f.offset, unit.saturating_mul(f.array_len))));
        }
    }
    if narrow.is_empty() {
        return Ok(ByteRuns::default());
    }
    for f in &def.fields {
        if narrow.iter().any(|(n, ..)| n.name == f.name) {
            continue;
        }
        let bytes = types
            .size_of(&f.ty)
            .unwrap_or(4)
            .saturating_mul(f.array_len);
        let words = words_of(f.offset, bytes);
        if let Some((n, ..)) = narrow
            .iter()
            .find(|(_, _, w)| w.start < words.end && words.start < w.end)
        {
            return Err(format!(
                "struct `{name}`: the 8- or 16-bit member `{}` shares a 32-bit word with member `{}`, which WGSL cannot lay out as C does",
                n.name, f.name
            ));
        }
    }
    let taken = |field: &str| def.fields.iter().any(|f| f.name == field);
    let mut out = ByteRuns::default();
    for (f, k, words) in narrow {
        let joins = out
            .runs
            .last()
            .is_some_and(|r| r.start / 4 + u64::from(r.words) >= words.start);
        if joins {
            let r = out.runs.last_mut().expect("a run");
            let end = (r.start / 4 + u64::from(r.words)).max(words.end);
            r.words = u32::try_from(end - r.start / 4).map_err(|_| "struct too large")?;
        } else {
            let mut field = format!("bytes_{}", words.start * 4);
            while taken(&field) {
                field.insert(0, '_');
            }
            out.runs.push(ByteRun {
                field,
                start: words.start * 4,
                words: u32::try_from(words.end - words.start).map_err(|_| "struct too large")?,
            });
        }
        let run = out.runs.len() - 1;
        let unit = u64::from(k.bits / 8) * u64::from(k.lanes);
        let first = (f.offset - out.runs[run].start) / unit;
        out.members.push((
            f.name.clone(),
            ByteMember {
                run,
                packed: k,
                first: u32::try_from(first).map_err(|_| "struct too large")?,
                len: f.array_len,
            },
        ));
    }
    Ok(out)
}

/// The one member of a union's WGSL struct: the bits all its members share.
pub const UNION_BITS: &str = "bits";

/// The word a union is held in: a union whose members are all scalars of
/// one width (`union { float f; unsigned int u; }`, svd3x3's punning
/// union) is that width's unsigned integer, each member its bits read
/// through `bitcast`. Any other union is refused: WGSL has no unions.
pub fn union_word(
    def: &cudalens_syntax::types::StructDef,
    types: &TypeTable,
    opts: &TranspileOptions,
) -> Result<Scalar, String> {
    let name = &def.name;
    let mut width = None;
    for f in &def.fields {
        let scalar = match map_value_type(&f.ty, types, opts) {
            Ok(Ty::Scalar(s)) if f.dims.is_empty() && types.resolve(&f.ty).pointer == 0 => s,
            _ => {
                return Err(format!(
                    "`{name}` is a union: WGSL has no unions (only a union of scalars of one width, read through their bits, is supported; member `{}` is not one)",
                    f.name
                ));
            }
        };
        let w = scalar.size();
        if *width.get_or_insert(w) != w || !matches!(w, 4 | 8) || scalar == Scalar::Bool {
            return Err(format!(
                "`{name}` is a union: WGSL has no unions (only a union of 32-bit or of 64-bit scalars, read through their bits, is supported)"
            ));
        }
    }
    let word = match width {
        Some(4) => Scalar::U32,
        Some(8) => Scalar::U64,
        _ => return Err(format!("`{name}` is a union without members")),
    };
    // `union __align__(16) U { float f; unsigned u; }`: C's 16 bytes,
    // which one word is not.
    // Or over-aligned by a member (dct8x8's `struct __align__(8) { short
    // hShort1, hShort2; }`): the word, then padding words to C's size.
    let over_aligned = width.is_some_and(|w| def.size.is_multiple_of(w) && def.align == def.size);
    if Some(def.size) != width && !over_aligned {
        return Err(format!(
            "`{name}` is a union of {} bytes in C (its alignment) but one {}-byte word in WGSL",
            def.size,
            word.size()
        ));
    }
    Ok(word)
}

/// The WGSL type of an array member of `elem`s: nested arrays, innermost
/// extent last (`su3_complex e[3][3]` is `array<array<C, 3>, 3>`, whose
/// elements lie where C's do when `elem`'s stride is its C size);
/// `elem` itself for a scalar member.
fn member_array(
    name: &str,
    f: &cudalens_syntax::types::StructField,
    elem: Ty,
) -> Result<Ty, String> {
    let mut ty = elem;
    for &n in f.dims.iter().rev() {
        let len = u32::try_from(n).ok().filter(|n| *n > 0).ok_or_else(|| {
            format!(
                "struct `{name}`: the array member `{}` has {} elements",
                f.name, f.array_len
            )
        })?;
        ty = Ty::Array(Box::new(ty), ArrayLen::Fixed(len));
    }
    Ok(ty)
}

/// Member `f` of a struct is a pointer (see `struct_fields`).
pub fn pointer_member(f: &cudalens_syntax::types::StructField, types: &TypeTable) -> bool {
    types.resolve(&f.ty).pointer > 0
}

/// A struct member of a 3-component vector type (`float3`, `double3`,
/// `int3`), not an array of them: held as three scalars in C's layout.
pub fn triple_member(
    f: &cudalens_syntax::types::StructField,
    types: &TypeTable,
    opts: &TranspileOptions,
) -> bool {
    f.dims.is_empty()
        && types.resolve(&f.ty).pointer == 0
        && matches!(map_value_type(&f.ty, types, opts), Ok(Ty::Vector(_, 3)))
}

/// A scalar C `bool` member (one byte) that starts a 4-byte-aligned word
/// whose other three bytes are padding (`bool is_leaf; int num_keys;`):
/// WGSL holds it as that `u32` word, so the struct keeps C's layout.
pub fn bool_in_word(
    def: &cudalens_syntax::types::StructDef,
    f: &cudalens_syntax::types::StructField,
    types: &TypeTable,
) -> bool {
    let t = types.resolve(&f.ty);
    if t.pointer != 0
        || !f.dims.is_empty()
        || normalize_base(&t.base) != "bool"
        || !f.offset.is_multiple_of(4)
    {
        return false;
    }
    let next = (def.fields.iter())
        .map(|g| g.offset)
        .filter(|&o| o > f.offset)
        .min()
        .unwrap_or(def.size);
    next >= f.offset + 4
}

/// The WGSL texture a sampled read needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TexDim {
    /// `tex1D` of a 1-D CUDA array: WGSL cannot sample a `texture_1d` in a
    /// compute shader, so it is a 2-D texture of height 1 read at row 0.5
    /// (a sample there takes row 0 alone, whatever the filtering).
    D1,
    D2,
    D3,
    D2Array,
    Cube,
}

impl TexDim {
    pub fn of_call(name: &str) -> Option<TexDim> {
        Some(match name {
            "tex1D" => TexDim::D1,
            "tex2D" => TexDim::D2,
            "tex3D" => TexDim::D3,
            "tex2DLayered" => TexDim::D2Array,
            "texCubemap" => TexDim::Cube,
            _ => return None,
        })
    }

    pub fn wgsl(self) -> &'static str {
        match self {
            TexDim::D1 | TexDim::D2 => "texture_2d<f32>",
            TexDim::D3 => "texture_3d<f32>",
            TexDim::D2Array => "texture_2d_array<f32>",
            TexDim::Cube => "texture_cube<f32>",
        }
    }

    /// Coordinate arguments after the texture object (and the layer).
    pub fn coords(self) -> usize {
        match self {
            TexDim::D1 => 1,
            TexDim::D2 | TexDim::D2Array => 2,
            TexDim::D3 | TexDim::Cube => 3,
        }
    }
}

/// A texture object's type name (`cudaTextureObject_t`): here, below both
/// the kernel's bindings (`textures.rs`) and the calls that pass one on
/// (`functions.rs`).
pub fn is_texture_object(ty: &CType) -> bool {
    ty.pointer == 0 && matches!(ty.base.as_str(), "cudaTextureObject_t" | "CUtexObject")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_follow_c() {
        assert_eq!(common_type(&Ty::I32, &Ty::U32), Ty::U32);
        assert_eq!(common_type(&Ty::I32, &Ty::F32), Ty::F32);
        assert_eq!(common_type(&Ty::BOOL, &Ty::BOOL), Ty::I32);
        assert_eq!(
            common_type(&Ty::Scalar(Scalar::I64), &Ty::U32),
            Ty::Scalar(Scalar::I64)
        );
    }

    #[test]
    fn literals() {
        assert_eq!(literal(Konst::Int(-1), Scalar::U32), "4294967295u");
        assert_eq!(literal(Konst::Int(3), Scalar::F32), "3.0f");
        assert_eq!(literal(Konst::Float(1e-30), Scalar::F32), "1e-30f");
        assert_eq!(literal(Konst::Float(0.5), Scalar::I32), "0");
        assert_eq!(
            literal(Konst::Float(f64::INFINITY), Scalar::F32),
            "bitcast<f32>(0x7f800000u)"
        );
    }
}
