//! A generated module's declarations as data (issue 19, item 1): each
//! override, struct, variable, constant and function header is a [`Decl`],
//! printed into the module's text (with the comments that explain it) and
//! built into the module's naga arenas (`build.rs`) from the same value, so
//! the two cannot disagree.
//!
//! Types are written as WGSL spells them (`array<atomic<u32>>`): the
//! lowering's [`crate::types::Ty`] prints them so, and the builder reads
//! that small grammar back (`build::TypeParser`).

use crate::bindings::{SourceLine, SourceMapEntry};
use crate::emit::WStmt;
use crate::wexpr::WExpr;

/// A module-scope declaration with its comments.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// Whole comment lines printed before it (each `// …\n`).
    pub doc: String,
    pub item: Item,
    /// A comment printed after it, on its last line.
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `override NAME: TY = INIT;` (INIT a literal).
    Override {
        name: String,
        ty: String,
        init: String,
    },
    /// `struct NAME { member: TY, … }`.
    Struct { name: String, members: Vec<Member> },
    /// `[@group(0) @binding(N)] var<SPACE> NAME: TY;`
    Var {
        space: Space,
        binding: Option<u32>,
        name: String,
        ty: String,
    },
    /// `const NAME: TY = INIT;`
    Const {
        name: String,
        ty: String,
        init: WExpr,
    },
    /// A function's header; its body is a [`crate::build::LoweredBody`] of
    /// the same name.
    Function(FunctionHeader),
}

/// A struct member, with an optional note after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Member {
    pub name: String,
    pub ty: String,
    pub note: Option<String>,
}

/// Where a module-scope variable lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Space {
    Storage {
        write: bool,
    },
    Uniform,
    Workgroup,
    Private,
    /// Textures and samplers: `var` with no address space.
    Handle,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FunctionHeader {
    pub name: String,
    pub params: Vec<Param>,
    pub result: Option<String>,
    /// An entry point's `@workgroup_size`, one expression per axis.
    pub workgroup_size: Option<[WExpr; 3]>,
}

/// A function parameter; an entry point's carry a builtin.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub builtin: Option<EntryBuiltin>,
    pub name: String,
    pub ty: String,
}

impl Param {
    pub fn new(name: impl Into<String>, ty: impl Into<String>) -> Param {
        Param {
            builtin: None,
            name: name.into(),
            ty: ty.into(),
        }
    }

    fn print(&self, out: &mut String) {
        if let Some(b) = self.builtin {
            out.push_str(&format!("@builtin({}) ", b.wgsl()));
        }
        out.push_str(&format!("{}: {}", self.name, self.ty));
    }
}

/// The builtins a generated entry point takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryBuiltin {
    LocalInvocationId,
    WorkgroupId,
    NumWorkgroups,
    SubgroupSize,
    SubgroupInvocationId,
}

impl EntryBuiltin {
    /// As WGSL spells it.
    pub fn wgsl(self) -> &'static str {
        match self {
            EntryBuiltin::LocalInvocationId => "local_invocation_id",
            EntryBuiltin::WorkgroupId => "workgroup_id",
            EntryBuiltin::NumWorkgroups => "num_workgroups",
            EntryBuiltin::SubgroupSize => "subgroup_size",
            EntryBuiltin::SubgroupInvocationId => "subgroup_invocation_id",
        }
    }

    /// As naga's IR names it.
    pub fn naga(self) -> naga::BuiltIn {
        match self {
            EntryBuiltin::LocalInvocationId => naga::BuiltIn::LocalInvocationId,
            EntryBuiltin::WorkgroupId => naga::BuiltIn::WorkGroupId,
            EntryBuiltin::NumWorkgroups => naga::BuiltIn::NumWorkGroups,
            EntryBuiltin::SubgroupSize => naga::BuiltIn::SubgroupSize,
            EntryBuiltin::SubgroupInvocationId => naga::BuiltIn::SubgroupInvocationId,
        }
    }
}

impl Space {
    fn keyword(self) -> &'static str {
        match self {
            Space::Storage { write: false } => "var<storage, read>",
            Space::Storage { write: true } => "var<storage, read_write>",
            Space::Uniform => "var<uniform>",
            Space::Workgroup => "var<workgroup>",
            Space::Private => "var<private>",
            Space::Handle => "var",
        }
    }
}

impl Decl {
    pub fn new(item: Item) -> Decl {
        Decl {
            doc: String::new(),
            item,
            note: None,
        }
    }

    /// The same declaration with comment lines before it (`text` without
    /// the `// `; one line per `\n`-separated part).
    pub fn documented(mut self, text: &str) -> Decl {
        for line in text.lines() {
            self.doc.push_str(&format!("// {line}\n"));
        }
        self
    }

    /// The same declaration with a note after it.
    pub fn noted(mut self, note: impl Into<String>) -> Decl {
        self.note = Some(note.into());
        self
    }

    pub fn var(space: Space, name: impl Into<String>, ty: impl Into<String>) -> Decl {
        Decl::new(Item::Var {
            space,
            binding: None,
            name: name.into(),
            ty: ty.into(),
        })
    }

    pub fn bound(mut self, binding: u32) -> Decl {
        if let Item::Var { binding: b, .. } = &mut self.item {
            *b = Some(binding);
        }
        self
    }

    pub fn override_(name: impl Into<String>, ty: &str, init: impl Into<String>) -> Decl {
        Decl::new(Item::Override {
            name: name.into(),
            ty: ty.into(),
            init: init.into(),
        })
    }

    /// The declared name.
    pub fn name(&self) -> &str {
        match &self.item {
            Item::Override { name, .. }
            | Item::Struct { name, .. }
            | Item::Var { name, .. }
            | Item::Const { name, .. } => name,
            Item::Function(h) => &h.name,
        }
    }

    /// Prints the declaration and its comments, ending with a newline (a
    /// function: its header, up to and including the `{` line).
    pub fn print(&self, out: &mut String) {
        out.push_str(&self.doc);
        match &self.item {
            Item::Override { name, ty, init } => {
                out.push_str(&format!("override {name}: {ty} = {init};"))
            }
            Item::Struct { name, members } => {
                out.push_str(&format!("struct {name} {{\n"));
                for m in members {
                    out.push_str(&format!("    {}: {},", m.name, m.ty));
                    if let Some(note) = &m.note {
                        out.push_str(&format!(" // {note}"));
                    }
                    out.push('\n');
                }
                out.push('}');
            }
            Item::Var {
                space,
                binding,
                name,
                ty,
            } => {
                if let Some(b) = binding {
                    out.push_str(&format!("@group(0) @binding({b}) "));
                }
                out.push_str(&format!("{} {name}: {ty};", space.keyword()));
            }
            Item::Const { name, ty, init } => {
                out.push_str(&format!("const {name}: {ty} = {init};"))
            }
            Item::Function(h) => h.print(out),
        }
        if let Some(note) = &self.note {
            out.push_str(&format!(" // {note}"));
        }
        out.push('\n');
    }
}

impl FunctionHeader {
    fn print(&self, out: &mut String) {
        let result = self
            .result
            .as_ref()
            .map(|r| format!(" -> {r}"))
            .unwrap_or_default();
        match &self.workgroup_size {
            Some(size) => {
                out.push_str(&format!(
                    "@compute @workgroup_size({}, {}, {})\nfn {}(\n",
                    size[0], size[1], size[2], self.name
                ));
                for p in &self.params {
                    out.push_str("    ");
                    p.print(out);
                    out.push_str(",\n");
                }
                out.push_str(&format!("){result} {{"));
            }
            None => {
                out.push_str(&format!("fn {}(", self.name));
                for (i, p) in self.params.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    p.print(out);
                }
                out.push_str(&format!("){result} {{"));
            }
        }
    }
}

/// A module's text as it is assembled, with the declarations it prints
/// (in order) and the helper functions written as WGSL (the prelude the
/// builder parses).
#[derive(Default)]
pub struct Assembly {
    pub text: String,
    pub decls: Vec<Decl>,
    pub prelude: String,
    /// The functions' origins, at bytes of `text`.
    pub origins: Vec<(usize, Option<SourceLine>)>,
}

impl Assembly {
    /// Text that declares nothing: comments, blank lines, `enable`.
    pub fn write(&mut self, text: &str) {
        self.text.push_str(text);
    }

    pub fn put(&mut self, decl: Decl) {
        decl.print(&mut self.text);
        self.decls.push(decl);
    }

    /// A helper function written as WGSL (`cuda_roundf`), after a blank line.
    pub fn helper(&mut self, wgsl: &str) {
        self.text.push('\n');
        self.text.push_str(wgsl);
        self.text.push('\n');
        self.prelude.push_str(wgsl);
        self.prelude.push('\n');
    }

    /// A function: its header's declaration, its text and origins.
    pub fn function(&mut self, f: PrintedFunction) {
        let at = self.text.len();
        self.origins
            .extend(f.origins.into_iter().map(|(o, source)| (at + o, source)));
        self.text.push_str(&f.text);
        self.decls.push(f.header);
    }
}

/// A function printed: its header's declaration, its text, and the
/// source lines its statements come from (at bytes of the text; `None`
/// where its body ends).
#[derive(Clone, Debug, PartialEq)]
pub struct PrintedFunction {
    pub header: Decl,
    pub text: String,
    pub origins: Vec<(usize, Option<SourceLine>)>,
}

/// A lowered function body: the function's WGSL name, its printed body
/// (as it appears in the module text) and its statement tree, which the
/// builder builds (`build.rs`).
#[derive(Clone, Debug, PartialEq)]
pub struct LoweredBody {
    pub name: String,
    pub printed: String,
    pub stmts: Vec<WStmt>,
}

/// A function's declaration and its body's statements, printed together:
/// the function as the module's text holds it (its origins at bytes of
/// that text, the body's end last), and its body for the builder.
pub fn print_function(header: Decl, stmts: Vec<WStmt>) -> (PrintedFunction, LoweredBody) {
    let mut text = String::new();
    header.print(&mut text);
    let body_at = text.len();
    let mut origins: Vec<(usize, Option<SourceLine>)> =
        (crate::emit::print_block_mapped(&mut text, &stmts, 1).into_iter())
            .map(|(at, source)| (at, Some(source)))
            .collect();
    let body_end = text.len();
    origins.push((body_end, None));
    let body = LoweredBody {
        name: header.name().to_string(),
        printed: text[body_at..body_end].to_string(),
        stmts,
    };
    text.push_str("}\n");
    let function = PrintedFunction {
        header,
        text,
        origins,
    };
    (function, body)
}

/// `origins` (at bytes of `text`; `None` where a function's body ends) as
/// the sidecar's source map: each place's WGSL lines, up to the next
/// place or the body's end; consecutive lines of one place merged.
pub fn source_map(text: &str, origins: &[(usize, Option<SourceLine>)]) -> Vec<SourceMapEntry> {
    let mut map: Vec<SourceMapEntry> = Vec::new();
    let (mut line, mut counted) = (1u32, 0usize);
    let mut open: Option<(u32, SourceLine)> = None;
    for (at, source) in origins {
        line += text.as_bytes()[counted..*at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        counted = *at;
        if let Some((first, place)) = open.take() {
            // A statement that printed nothing ends where it starts.
            if line > first {
                match map.last_mut() {
                    Some(last) if last.source == place && last.wgsl_lines[1] + 1 == first => {
                        last.wgsl_lines[1] = line - 1
                    }
                    _ => map.push(SourceMapEntry {
                        wgsl_lines: [first, line - 1],
                        source: place,
                    }),
                }
            }
        }
        open = source.clone().map(|s| (line, s));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declarations_print_as_wgsl_with_their_comments() {
        let mut out = String::new();
        Decl::override_("BLOCK_DIM_X", "u32", "256u").print(&mut out);
        Decl::var(Space::Storage { write: true }, "out", "array<atomic<u32>>")
            .bound(1)
            .noted("16-bit signed elements, 2 to a word")
            .print(&mut out);
        Decl::new(Item::Struct {
            name: "pixel".into(),
            members: vec![
                Member {
                    name: "r".into(),
                    ty: "i32".into(),
                    note: None,
                },
                Member {
                    name: "p".into(),
                    ty: "u32".into(),
                    note: Some("a pointer's bits".into()),
                },
            ],
        })
        .documented("CUDA `struct pixel`")
        .print(&mut out);
        assert_eq!(
            out,
            "override BLOCK_DIM_X: u32 = 256u;\n\
             @group(0) @binding(1) var<storage, read_write> out: array<atomic<u32>>; // 16-bit signed elements, 2 to a word\n\
             // CUDA `struct pixel`\n\
             struct pixel {\n    r: i32,\n    p: u32, // a pointer's bits\n}\n"
        );
    }

    #[test]
    fn origins_become_line_ranges() {
        let at = |line: u32| SourceLine { file: None, line };
        // Four printed lines: two of C line 3 (an `if` and its body's
        // first line), one of line 5, a closing brace, the body's end.
        let text = "a\nb\nc\n}\n";
        let origins = vec![
            (0, Some(at(3))),
            (2, Some(at(3))),
            (4, Some(at(4))), // printed nothing: ends where it starts
            (4, Some(at(5))),
            (8, None),
        ];
        let map = source_map(text, &origins);
        let ranges: Vec<([u32; 2], u32)> =
            map.iter().map(|e| (e.wgsl_lines, e.source.line)).collect();
        assert_eq!(ranges, vec![([1, 2], 3), ([3, 4], 5)]);
    }

    #[test]
    fn function_headers() {
        let device = Decl::new(Item::Function(FunctionHeader {
            name: "f".into(),
            params: vec![
                Param::new("a", "i32"),
                Param::new("p", "ptr<function, f32>"),
            ],
            result: Some("f32".into()),
            workgroup_size: None,
        }));
        let (printed, body) = print_function(device, vec![WStmt::Return(Some(WExpr::name("a")))]);
        assert_eq!(
            (body.name.as_str(), body.printed.as_str()),
            ("f", "    return a;\n")
        );
        assert_eq!(
            printed.text,
            "fn f(a: i32, p: ptr<function, f32>) -> f32 {\n    return a;\n}\n"
        );
        let entry = Decl::new(Item::Function(FunctionHeader {
            name: "k".into(),
            params: vec![Param {
                builtin: Some(EntryBuiltin::LocalInvocationId),
                name: "local_id".into(),
                ty: "vec3<u32>".into(),
            }],
            result: None,
            workgroup_size: Some([
                WExpr::name("BLOCK_DIM_X"),
                WExpr::name("BLOCK_DIM_Y"),
                WExpr::name("BLOCK_DIM_Z"),
            ]),
        }));
        let mut out = String::new();
        entry.print(&mut out);
        assert_eq!(
            out,
            "@compute @workgroup_size(BLOCK_DIM_X, BLOCK_DIM_Y, BLOCK_DIM_Z)\nfn k(\n    @builtin(local_invocation_id) local_id: vec3<u32>,\n) {\n"
        );
    }
}
