//! Identifier hygiene: CUDA names are kept unless WGSL reserves them.

use std::collections::HashSet;

/// WGSL keywords and reserved words (WGSL spec §15.2–15.3), plus the
/// predeclared type names that cannot be shadowed without confusion.
const WGSL_RESERVED: &[&str] = &[
    // Predeclared address spaces and access modes: a binding named after
    // one (`var<storage, read_write> storage`) refers to itself.
    "function",
    "private",
    "workgroup",
    "uniform",
    "storage",
    "handle",
    "read",
    "write",
    "read_write",
    "alias",
    "break",
    "case",
    "const",
    "const_assert",
    "continue",
    "continuing",
    "default",
    "diagnostic",
    "discard",
    "else",
    "enable",
    "false",
    "fn",
    "for",
    "if",
    "let",
    "loop",
    "override",
    "requires",
    "return",
    "struct",
    "switch",
    "true",
    "var",
    "while",
    "NULL",
    "Self",
    "abstract",
    "active",
    "alignas",
    "alignof",
    "as",
    "asm",
    "asm_fragment",
    "async",
    "attribute",
    "auto",
    "await",
    "become",
    "cast",
    "catch",
    "class",
    "co_await",
    "co_return",
    "co_yield",
    "coherent",
    "column_major",
    "common",
    "compile",
    "compile_fragment",
    "concept",
    "const_cast",
    "consteval",
    "constexpr",
    "constinit",
    "crate",
    "debugger",
    "decltype",
    "delete",
    "demote",
    "demote_to_helper",
    "do",
    "dynamic_cast",
    "enum",
    "explicit",
    "export",
    "extends",
    "extern",
    "external",
    "fallthrough",
    "filter",
    "final",
    "finally",
    "friend",
    "from",
    "fxgroup",
    "get",
    "goto",
    "groupshared",
    "highp",
    "impl",
    "implements",
    "import",
    "inline",
    "instanceof",
    "interface",
    "layout",
    "lowp",
    "macro",
    "macro_rules",
    "match",
    "mediump",
    "meta",
    "mod",
    "module",
    "move",
    "mut",
    "mutable",
    "namespace",
    "new",
    "nil",
    "noexcept",
    "noinline",
    "nointerpolation",
    "non_coherent",
    "noncoherent",
    "noperspective",
    "null",
    "nullptr",
    "of",
    "operator",
    "package",
    "packoffset",
    "partition",
    "pass",
    "patch",
    "pixelfragment",
    "precise",
    "precision",
    "premerge",
    "priv",
    "protected",
    "pub",
    "public",
    "readonly",
    "ref",
    "regardless",
    "register",
    "reinterpret_cast",
    "require",
    "resource",
    "restrict",
    "self",
    "set",
    "shared",
    "sizeof",
    "smooth",
    "snorm",
    "static",
    "static_assert",
    "static_cast",
    "std",
    "subroutine",
    "super",
    "target",
    "template",
    "this",
    "thread_local",
    "throw",
    "trait",
    "try",
    "type",
    "typedef",
    "typeid",
    "typename",
    "typeof",
    "union",
    "unless",
    "unorm",
    "unsafe",
    "unsized",
    "use",
    "using",
    "varying",
    "virtual",
    "volatile",
    "wgsl",
    "where",
    "with",
    "writeonly",
    "yield",
    "bool",
    "f16",
    "f32",
    "f64",
    "i32",
    "u32",
    "i64",
    "u64",
    "vec2",
    "vec3",
    "vec4",
    "array",
    "atomic",
    "ptr",
    "mat2x2",
    "mat3x3",
    "mat4x4",
    "sampler",
    "texture_2d",
];

/// Names the generated code uses at module scope or in every entry point;
/// user identifiers with these spellings get a suffix.
pub const GENERATED: &[&str] = &[
    "params",
    "Params",
    "thread_idx",
    "block_idx",
    "grid_dim",
    "warp_size",
    "lane_id",
    "local_id",
    "workgroup_id",
    "num_workgroups",
    "block_linear",
    "cuda_grid",
    "subgroup_size_in",
    "subgroup_lane_in",
    "BLOCK_DIM_X",
    "BLOCK_DIM_Y",
    "BLOCK_DIM_Z",
    "DYNAMIC_SHARED_ELEMENTS",
    "GRID_LAYOUT",
    "BLOCKS_PER_WORKGROUP",
    "cuda_sync_reduction",
    // WGSL builtin functions the generated code calls: a user variable of
    // the same name would shadow them.
    "select",
    "min",
    "max",
    "abs",
    "clamp",
    "sqrt",
    "inverseSqrt",
    "exp",
    "exp2",
    "log",
    "log2",
    "sin",
    "cos",
    "tan",
    "tanh",
    "pow",
    "fma",
    "floor",
    "ceil",
    "trunc",
    "round",
    "saturate",
    "bitcast",
    "atomicLoad",
    "atomicStore",
    "atomicAdd",
    "atomicSub",
    "atomicMin",
    "atomicMax",
    "atomicAnd",
    "atomicOr",
    "atomicXor",
    "atomicExchange",
    "atomicCompareExchangeWeak",
    "workgroupBarrier",
    "storageBarrier",
    "countOneBits",
    "reverseBits",
    "countLeadingZeros",
    "firstTrailingBit",
    "sign",
    "dot",
    "length",
];

/// A WGSL-safe spelling of a CUDA identifier. WGSL forbids a leading `__`
/// and its reserved words; both get a readable rewrite.
pub fn wgsl_ident(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut out = if let Some(rest) = cleaned.strip_prefix("__") {
        format!("u_{rest}")
    } else {
        cleaned
    };
    if out.is_empty() || out == "_" || out.starts_with(|c: char| c.is_ascii_digit()) {
        out = format!("v{out}");
    }
    if WGSL_RESERVED.contains(&out.as_str()) || GENERATED.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// Fresh names for temporaries, avoiding every name the source uses.
#[derive(Default)]
pub struct NameSupply {
    taken: HashSet<String>,
    counter: usize,
}

impl NameSupply {
    pub fn reserve(&mut self, name: &str) {
        self.taken.insert(name.to_string());
    }

    pub fn fresh(&mut self, hint: &str) -> String {
        loop {
            self.counter += 1;
            let candidate = format!("{hint}_{}", self.counter);
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

/// `message` with the names a pointer choice's split gave its copies
/// written as in the source (`s2_choice1a` → `s2`): diagnostics name what the user wrote.
pub(crate) fn as_written(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(CHOICE_SUFFIX) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + CHOICE_SUFFIX.len()..];
        let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let copy = tail[digits..].starts_with(['a', 'b']);
        if digits > 0 && copy {
            rest = &tail[digits + 1..];
        } else {
            out.push_str(CHOICE_SUFFIX);
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// What the names of a pointer choice's copies end with (then the
/// split's number and side: `pointer_choice.rs`).
pub(crate) const CHOICE_SUFFIX: &str = "_choice";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_reserved_and_double_underscore() {
        assert_eq!(wgsl_ident("loop"), "loop_");
        assert_eq!(wgsl_ident("__tmp"), "u_tmp");
        assert_eq!(wgsl_ident("tile"), "tile");
        assert_eq!(wgsl_ident("params"), "params_");
    }
}
