//! State shared while lowering one kernel: the module being assembled
//! ([`Module`]) and the per-function lowering context ([`FnLower`]) with its
//! scopes, values, places and pointer views.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::Span;
use cudalens_syntax::ir::{ExprKind, Stmt, StmtKind, Type as CType, UnOp};

use crate::TranspileOptions;
use crate::analysis::Analysis;
use crate::decl::{Decl, Item, Member};
use crate::diag::TranspileDiagnostic;
use crate::emit::WStmt;
use crate::names::{NameSupply, wgsl_ident};
use crate::types::Packed;
use crate::types::{Konst, Scalar, Ty, literal, map_value_type};
use crate::validate::Needs;
use crate::wexpr::WExpr;

/// Operator precedence of a WGSL expression text, to parenthesize only where
/// WGSL's (stricter than C's) grammar needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prec {
    Primary,
    Unary,
    Mul,
    Add,
    Shift,
    Rel,
    BitAnd,
    BitOr,
    BitXor,
    LogAnd,
    LogOr,
}

/// How deep specializations may nest (each instance of a recursive
/// template is a new one). Real call chains stay far below; 32 keeps the
/// lowering inside a 2 MiB thread stack (the server's workers', tests')
/// even in debug builds (64 overflowed there).
pub(crate) const MAX_CALL_DEPTH: usize = 32;

/// How an array element used with atomics is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicRepr {
    /// `atomic<i32>` / `atomic<u32>`, and `atomic<f32>` in storage buffers
    /// when the adapter has native float atomics.
    Native(Scalar),
    /// A CUDA `float` stored as its bits in `atomic<u32>` (float atomics
    /// become compare-exchange loops).
    F32Bits,
    /// A CUDA `double` stored as its bits in `atomic<u64>` (with the
    /// adapter's 64-bit atomics; `atomicAdd(double*)` becomes a
    /// compare-exchange loop, as `float`'s without float atomics).
    F64Bits,
    /// An 8- or 16-bit integer (or `bool`) buffer packed into 32-bit words
    /// (not an atomic in CUDA: the words are atomic so that threads writing
    /// neighbouring elements do not lose each other's writes).
    Packed(Packed),
    /// Not memory: an 8- or 16-bit local variable held as an `i32` in the
    /// type's range; every store narrows the value (C converts on store).
    Narrow(Packed),
    /// Not atomic: a view of `N`-lane vectors over an array of their
    /// scalars (`reinterpret_cast<float4*>(x)` of a `float*` buffer): the
    /// vector `v[i]` is the scalars `x[N * i] ..= x[N * i + N - 1]`, as in
    /// C's memory (vectors are their lanes, in order, without padding).
    Lanes(u8),
    /// Not atomic, and only on pointers: an `int` view of a `float` array
    /// held as `F32Bits` (`(int *)&buffer[n]` of an `extern __shared__
    /// float` that atomics update, HeCBench scatterAdd): the same
    /// `atomic<u32>` words, loaded and stored as `i32` bits; atomics
    /// through it are refused.
    IntBits,
    /// Not atomic, and only on pointers: 32-bit scalars (`N` = 1) or
    /// vectors of `N` 32-bit lanes over an `f16` array (`float4` packs of
    /// eight `__half`s, HeCBench vadd and relu): lane `l` of `v[i]` is
    /// the bits of halves `2N·i + 2l` and `2N·i + 2l + 1` (`bitcast` of a
    /// `vec2<f16>`), in C's order.
    HalfPairs(u8),
    /// Not atomic, and only on pointers: a 64-bit scalar over an array of
    /// 32-bit ones of this type (`*(uint64 *)buff` of a `uint32 buff[8]`,
    /// HeCBench ntt): element `i` is words `2i` (low) and `2i + 1` (high),
    /// little-endian as in C's memory.
    WordPairs(Scalar),
    /// Not atomic: the halves of a thread's own vector of 32-bit lanes of
    /// this type (`reinterpret_cast<__half *>(&a_vec)` of a local `uint4`,
    /// HeCBench fma): half `j` is the low (`j` even) or high half of lane
    /// `j / 2`; a store rewrites that lane.
    HalfOfWord(Scalar),
    /// Not atomic: component `lane` of a vector of `lanes` lanes that a
    /// `Bits` place holds as one scalar of type `stored` (`vec_h1->x` of
    /// `const __half2 *vec_h1 = (__half2 *)&vec_val.x`, HeCBench gemv): read
    /// as that component of the bits; a store rewrites the scalar.
    BitsLane { stored: Scalar, lanes: u8, lane: u8 },
    /// Not atomic: a `Lanes` view whose vector is another scalar type of
    /// the same width than the array's (`reinterpret_cast<const uint4
    /// *>(x)` of a `float` array, the array's scalar here): lane `l` of
    /// `v[i]` is `bitcast` of `x[N * i + l]`.
    LanesBits(u8, Scalar),
    /// Not atomic, and only on pointers: a view of the scalars of an array
    /// of `N`-lane vectors (`(float *)v` of a `float2*` buffer): the
    /// scalar `s[i]` is lane `i % N` of `v[i / N]`.
    Spread(u8),
    /// Not atomic, and only on pointers: a view of an array of scalars
    /// of this type as another scalar type of the same width (`(int
    /// *)&scores[k]` of a `float` array): its bits, `bitcast` on every
    /// read and write.
    Bits(Scalar),
    /// Not atomic, and only on pointers: a view of 32-bit words over an
    /// 8- or 16-bit array held one element to an `i32` (`Narrow`): the
    /// word `w[i]` is elements `n * i ..` (`n` = 4 or 2), little-endian
    /// as in C's memory (`((unsigned int *)s_Hist)[i] = 0` of a
    /// `__shared__ unsigned char` array).
    Words(Packed),
    /// Not atomic: a 3-component vector struct member held as an
    /// `array<T, 3>` (C's 12 bytes for `float3`): read as `vec3(t[0],
    /// t[1], t[2])`, written lane by lane.
    Triple,
    /// Not atomic: a C `bool` struct member held in the low byte of the
    /// `u32` word it starts (the other bytes are the struct's padding):
    /// read as that byte `!= 0`, written as 0 or 1.
    ByteBool,
    /// Not atomic, and only on pointers: a `Spread` view whose scalars are
    /// read as another scalar type of the same width (`(int *)&s[k]` of
    /// `float *s = (float *)f4`, a `float4` array): lane `i % N` of
    /// `v[i / N]`, its bits `bitcast` on every read and write.
    SpreadBits(u8, Scalar),
    /// Not atomic: a member held in bits `offset..offset + width` of a
    /// `u32` word of its struct (`syntax::types::BitField`: a bit-field,
    /// or a `short` of an anonymous struct in a union of one word). Read
    /// as C promotes it (an `int`, or `unsigned` for a 32-bit unsigned
    /// one), stored by rewriting those bits: C makes a bit-field and its
    /// neighbours in the word one memory location, so no other thread may
    /// be writing them.
    BitField { offset: u8, width: u8, signed: bool },
    /// Not atomic: an 8- or 16-bit member of a struct, held in the `u32`
    /// words of the struct's byte run (`types::ByteRuns`); the place is an
    /// element of the run in the member's own size, its bits found as a
    /// packed buffer's are. An array member's place adds `first` to its
    /// index. `private`: the struct is a variable of this thread, so a
    /// store may rewrite the word; in a buffer or `__shared__` memory
    /// another thread may be writing a neighbouring member of that word.
    MemberBytes {
        packed: Packed,
        first: u32,
        private: bool,
    },
    /// Not atomic, and only on pointers: a view of an array of 2-lane
    /// vectors as 4-lane ones (`(float4 *)v` of a `float2*` buffer): the
    /// vector `w[i]` is `v[2 * i]` then `v[2 * i + 1]`, as in C's memory.
    Pairs,
    /// A struct of `count` members of one 32- or 64-bit scalar type, with
    /// no padding, that atomics update (`atomicCAS(&table[slot].key, ...)`
    /// of `struct KeyValue { uint32_t key, value; }`): each element held
    /// as `array<atomic<T>, count>` (C's bytes), member `k` its `[k]`,
    /// read and written through `atomicLoad`/`atomicStore`; `bits`: the
    /// floats' bits in `u32`/`u64` atomics (`F32Bits`/`F64Bits`).
    Members {
        count: u8,
        scalar: Scalar,
        bits: bool,
    },
}

impl AtomicRepr {
    /// A value held in part of a word (8/16-bit elements and members, bit
    /// fields): `++` and `+=` read and store it, never an atomic of the word.
    pub fn is_part_of_word(self) -> bool {
        matches!(
            self,
            AtomicRepr::Packed(_)
                | AtomicRepr::Narrow(_)
                | AtomicRepr::MemberBytes { .. }
                | AtomicRepr::BitField { .. }
        )
    }

    /// For `Members`: how each member is held.
    pub fn member(self) -> Option<AtomicRepr> {
        match self {
            AtomicRepr::Members { scalar, bits, .. } => Some(match (bits, scalar.bits() == 64) {
                (false, _) => AtomicRepr::Native(scalar),
                (true, false) => AtomicRepr::F32Bits,
                (true, true) => AtomicRepr::F64Bits,
            }),
            _ => None,
        }
    }

    /// For a float held as its bits in an integer atomic: the float type and
    /// the integer type of its bits (`("f32", "u32")`).
    pub fn float_bits(self) -> Option<(&'static str, &'static str)> {
        match self {
            AtomicRepr::F32Bits => Some(("f32", "u32")),
            AtomicRepr::F64Bits => Some(("f64", "u64")),
            _ => None,
        }
    }

    /// A view of other-typed memory, not an atomic or narrow representation.
    pub fn is_view(self) -> bool {
        matches!(
            self,
            AtomicRepr::Lanes(_)
                | AtomicRepr::LanesBits(..)
                | AtomicRepr::IntBits
                | AtomicRepr::HalfPairs(_)
                | AtomicRepr::WordPairs(_)
                | AtomicRepr::HalfOfWord(_)
                | AtomicRepr::BitsLane { .. }
                | AtomicRepr::Spread(_)
                | AtomicRepr::SpreadBits(..)
                | AtomicRepr::Bits(_)
                | AtomicRepr::Pairs
                | AtomicRepr::Words(_)
        )
    }
}

/// A CUDA pointer that the compiler tracks statically: an array (a storage
/// binding, a workgroup or local array) and an element offset.
#[derive(Clone, Debug, PartialEq)]
pub struct PtrVal {
    /// The array (`x`, `tile[r]`, `(*p)`) or a scalar variable.
    pub base: WExpr,
    /// The array's element type (the pointee).
    pub elem: Ty,
    pub atomic: Option<AtomicRepr>,
    pub offset: Option<Box<Val>>,
    /// The module-scope variable behind `base` when `base` is just its name
    /// (device functions can only receive those).
    pub module_root: Option<String>,
    pub mutable: bool,
    /// `&scalar`: no indexing, only `*p`.
    pub scalar_target: bool,
    /// The pointee is itself an array `elem[rows[0]][rows[1]]…` (a
    /// parameter `float w[6][5][5]` points at `float[5][5]`): `p[i]` is
    /// then a pointer again, `rows[1..]`-shaped, at `i × rows[0] × …`
    /// elements, and only a pointer with no rows reaches an element.
    pub rows: Vec<u32>,
}

impl PtrVal {
    /// The first element of the module-scope array `name` (a storage
    /// binding): no offset, no rows.
    pub fn module_array(
        name: String,
        elem: Ty,
        atomic: Option<AtomicRepr>,
        mutable: bool,
    ) -> PtrVal {
        PtrVal {
            base: name.clone().into(),
            elem,
            atomic,
            offset: None,
            module_root: Some(name),
            mutable,
            scalar_target: false,
            rows: Vec::new(),
        }
    }
}

/// A lowered expression: a WGSL expression tree with its type.
#[derive(Clone, Debug, PartialEq)]
pub struct Val {
    pub expr: WExpr,
    pub ty: Ty,
    pub prec: Prec,
    pub konst: Option<Konst>,
    pub ptr: Option<Box<PtrVal>>,
}

impl Val {
    pub fn new(expr: impl Into<WExpr>, ty: Ty, prec: Prec) -> Val {
        Val {
            expr: expr.into(),
            ty,
            prec,
            konst: None,
            ptr: None,
        }
    }

    pub fn atom(expr: impl Into<WExpr>, ty: Ty) -> Val {
        Val::new(expr, ty, Prec::Primary)
    }

    /// The expression as WGSL text.
    pub fn text(&self) -> String {
        self.expr.to_string()
    }

    pub fn konst(k: Konst, s: Scalar) -> Val {
        let k = k.convert(s);
        let text = literal(k, s);
        let negative = match k {
            Konst::Int(v) => v < 0,
            Konst::Float(f) => f.is_sign_negative(),
            Konst::Bool(_) => false,
        };
        Val {
            expr: WExpr::Literal(text),
            ty: Ty::Scalar(s),
            prec: if negative { Prec::Unary } else { Prec::Primary },
            konst: Some(k),
            ptr: None,
        }
    }

    /// Placeholder after an error diagnostic; never reported again.
    /// The value of an expression that could not be lowered (its error
    /// reported, or to be reported by the caller). Its text names no
    /// WGSL function: should one ever reach the module unreported (a
    /// message dropped with a trial lowering), validation fails and the
    /// kernel is refused, never compiled with a stand-in value.
    pub fn error() -> Val {
        Val::atom("cudalens_unlowered()", Ty::Error)
    }

    pub fn void() -> Val {
        Val::atom("", Ty::Void)
    }

    pub fn pointer(p: PtrVal) -> Val {
        Val {
            expr: p.base.clone(),
            ty: Ty::Pointer(Box::new(p.elem.clone())),
            prec: Prec::Primary,
            konst: None,
            ptr: Some(Box::new(p)),
        }
    }

    pub fn is_error(&self) -> bool {
        self.ty == Ty::Error
    }

    /// The expression as an operand where only `allowed` precedences go
    /// bare, parenthesized otherwise.
    pub fn operand_expr(&self, allowed: &[Prec]) -> WExpr {
        if allowed.contains(&self.prec) {
            self.expr.clone()
        } else {
            WExpr::paren(self.expr.clone())
        }
    }

    /// The expression as the base of `.x` / `[i]`.
    pub fn postfix_expr(&self) -> WExpr {
        self.operand_expr(&[Prec::Primary])
    }

    /// An identifier or literal: safe to repeat in the output.
    pub fn is_simple(&self) -> bool {
        self.konst.is_some()
            || (self.prec == Prec::Primary
                && self
                    .text()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'))
    }
}

/// A row of a function-local array of rows (`B[1]` of `double B[3][8]`).
#[derive(Clone, Debug, PartialEq)]
pub struct LocalRow {
    /// The whole array (`B`, `(*b_array)`) and its type.
    pub array: String,
    pub array_ty: Ty,
    /// The row's index, a WGSL expression free of effects.
    pub index: String,
}

/// An assignable location.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub expr: WExpr,
    pub ty: Ty,
    pub atomic: Option<AtomicRepr>,
    pub mutable: bool,
}

impl Place {
    /// The place as WGSL text.
    pub fn text(&self) -> String {
        self.expr.to_string()
    }
}

/// What a name means in the current scope.
#[derive(Clone, Debug, PartialEq)]
pub enum Sym {
    /// A scalar or vector variable (`var` when mutable, else `let`).
    Value { wgsl: String, ty: Ty, mutable: bool },
    /// An array: local (`var`), workgroup or storage (module scope).
    Array {
        wgsl: String,
        ty: Ty,
        mutable: bool,
        atomic: Option<AtomicRepr>,
        module_scope: bool,
    },
    /// A named constant (template value, `const int N = 4;`).
    Const(Val),
    /// A template parameter of function-pointer type bound to a device
    /// function (llm.c's `blockReduce<warpReduceSum>`): calls through it
    /// call that function.
    Function(String),
    /// A cooperative-groups handle to the thread block
    /// (`cg::thread_block cta = cg::this_thread_block();`): no WGSL value;
    /// its methods lower to barriers and builtins.
    ThreadBlock,
    /// A warp tile of the thread block (`thread_block_tile<32>`): no WGSL
    /// value; its methods lower to warp intrinsics (`groups.rs`).
    Tile,
    /// `coalesced_threads()`: the warp's lanes active where it was made,
    /// held as the WGSL `let` of their ballot mask (`groups.rs`).
    Coalesced(String),
    /// A pointer variable: a view into an array. When `offset_var` is set the
    /// view can move (`p += n`): the variable holds the element offset.
    Pointer {
        view: PtrVal,
        offset_var: Option<String>,
    },
    /// A pointer variable declared without a value (`float *p;`, or
    /// `= NULL`): its offset variable is declared; the first assignment
    /// (`p = base + k;`) binds it to its array and makes it a movable
    /// [`Sym::Pointer`]. `ty` is the declared pointer type.
    UnboundPointer { ty: CType, offset_var: String },
    /// A texture object read by sampling (`textures.rs`): the texture and
    /// sampler bindings, and the override saying its coordinates are
    /// already normalized.
    Texture {
        wgsl: String,
        sampler: String,
        normalized: String,
        dim: crate::types::TexDim,
    },
}

/// Builtins the entry point must expose through `var<private>` mirrors.
#[derive(Clone, Copy, Debug, Default)]
pub struct BuiltinUses {
    pub thread_idx: bool,
    pub block_idx: bool,
    pub grid_dim: bool,
    pub warp_size: bool,
    pub lane_id: bool,
}

/// A device function specialized for one call shape.
#[derive(Clone, Debug)]
pub struct Specialization {
    pub wgsl_name: String,
    pub ret: Ty,
    pub effectful: bool,
}

/// One file-scope variable bound as a storage buffer.
#[derive(Clone, Debug)]
pub struct DeviceGlobal {
    pub name: String,
    pub sym: Sym,
    /// `var<storage, ...> NAME: TYPE;`, bound when the kernel's bindings
    /// are numbered.
    pub decl: Decl,
    pub binding: crate::bindings::SidecarBinding,
}

impl DeviceGlobal {
    /// The file-scope variable `name` (a `__constant__`/`__device__`
    /// variable, a texture reference's linear memory) as the storage buffer
    /// `wgsl` of elements `element`, read through `sym` (read-write when
    /// `sym` is mutable) and declared by `decl`; its binding is numbered
    /// with the kernel's. `length`: its element count where fixed;
    /// `initial`: the values it starts with.
    pub fn storage(
        name: &str,
        wgsl: String,
        sym: Sym,
        decl: Decl,
        element: String,
        length: Option<u64>,
        initial: Option<Vec<f64>>,
    ) -> DeviceGlobal {
        use crate::bindings::BindingKind;
        let kind = if matches!(sym, Sym::Array { mutable: true, .. }) {
            BindingKind::StorageReadWrite
        } else {
            BindingKind::StorageRead
        };
        DeviceGlobal {
            name: name.to_string(),
            sym,
            decl,
            binding: crate::bindings::SidecarBinding {
                group: 0,
                binding: 0,
                name: wgsl,
                kind,
                element: Some(element),
                param_index: None,
                size: None,
                fields: Vec::new(),
                length,
                initial,
                member_of: None,
                layout: None,
            },
        }
    }
}

/// Types named through types (member types of member types, instances in
/// instances' arguments), as deep as real code goes: a type defined
/// through itself stops there, unknown.
const TYPE_NESTING: usize = 8;

/// Module-level state while one kernel is compiled.
pub struct Module<'m> {
    pub model: &'m FileModel,
    /// Class template instances the kernel uses that the model does not
    /// have yet (`class_instances.rs`): the kernel is compiled again with them.
    pub class_requests: std::collections::BTreeSet<(String, Vec<String>)>,
    pub texts: &'m crate::SourceTexts<'m>,
    pub opts: &'m TranspileOptions,
    pub diags: Vec<TranspileDiagnostic>,
    /// How much of the function bodies printed so far were trees.
    pub structure: crate::emit::Structure,
    /// The lowered function bodies, for building the module directly.
    pub bodies: Vec<crate::build::LoweredBody>,
    pub needs: Needs,
    pub uses: BuiltinUses,
    pub analysis: Analysis<'m>,
    /// Whether the kernel writes any storage buffer (barriers then also
    /// order storage memory).
    pub writes_storage: bool,
    /// Whether the kernel synchronises its block anywhere (`__syncthreads`,
    /// fences, `__syncwarp`): such a kernel cannot share a workgroup with
    /// other blocks.
    pub barriers: bool,
    /// `var<workgroup>` declarations, in order.
    pub workgroup_vars: Vec<Decl>,
    /// Kernel pointer parameters the kernel compares with `NULL`, and the
    /// `bool` override that says the host passed `NULL` (`expr.rs`).
    pub null_overrides: BTreeMap<String, String>,
    /// `(override name, default)` for dynamic shared memory.
    /// The `extern __shared__` override: name, default element count, element bytes.
    pub dynamic_shared: Option<(String, u32, u32)>,
    /// The `extern __shared__` array declared first: every other one of
    /// the kernel (and its device functions) starts at the same address,
    /// so one of the same element type is that array.
    pub dynamic_shared_array: Option<Sym>,
    /// Helper functions by name, with their text.
    pub helpers: BTreeSet<(&'static str, &'static str)>,
    /// Emitted device functions, callees first.
    pub functions: Vec<crate::decl::PrintedFunction>,
    pub specializations: HashMap<String, Specialization>,
    /// The symbols of the member operators the file defines (`<` of
    /// `Pair::operator<`), found once per kernel: an operand they take by
    /// address must be a variable.
    pub member_operators: HashSet<String>,
    /// The errors compiling each specialization reported: a call that
    /// finds it made reports them again, so that a trial lowering (whose
    /// messages are dropped) cannot leave a broken body unreported.
    pub specialization_errors: HashMap<String, Vec<TranspileDiagnostic>>,
    pub in_progress: HashSet<String>,
    /// Module-scope names in use.
    pub module_names: HashSet<String>,
    /// `__shared__` variables by `function::name` (a device function
    /// specialized twice still declares its shared array once).
    pub shared_vars: HashMap<String, Sym>,
    /// The launch's dynamic shared memory in bytes, for the override default.
    pub dynamic_shared_default_bytes: u64,
    /// The block size the `BLOCK_DIM_*` overrides default to (the launch's):
    /// loops whose trip sequence depends on `blockDim` are unrolled for it.
    pub block: [u32; 3],
    /// Spans of the `for` statements emitted unrolled (main-file functions
    /// only, each once, in the order they were lowered).
    pub unrolled_loops: Vec<Span>,
    /// The kernel's memory effects, device functions included (which
    /// file-scope variables it writes or uses atomically).
    pub kernel_effects: crate::analysis::Effects,
    /// File-scope `__constant__`/`__device__` variables bound so far.
    pub device_globals: Vec<DeviceGlobal>,
    /// File-scope variables that could not be bound (already reported).
    pub failed_globals: HashSet<String>,
    /// Initialised, read-only file-scope structs as WGSL `const`s: the C
    /// name, its symbol and the declaration (`globals.rs`).
    pub module_consts: Vec<(String, Sym, Decl)>,
    /// WGSL declarations of the CUDA structs in use, by WGSL name.
    pub structs: std::collections::BTreeMap<String, Decl>,
    /// Each source file's lines (`None`: the file compiled), indexed when
    /// a statement's line is first asked for (the source map).
    pub line_tables: HashMap<Option<std::path::PathBuf>, cudalens_syntax::line_table::LineTable>,
    /// The header whose function is being lowered (`None`: the file
    /// compiled): where the spans of the diagnostics made now point.
    pub current_file: Option<std::path::PathBuf>,
}

impl<'m> Module<'m> {
    /// Whether `f`'s text holds code the front end could not parse (even
    /// with macros expanded): what it lowered there is the parser's
    /// recovery, not what is written (`o[0] = 1.0f +;` read as `o[0] =
    /// 1.0f`), so `f` is refused with the place, never transpiled from a
    /// guess.
    pub fn refuse_unparsed(&mut self, f: &cudalens_syntax::model::Function) -> bool {
        if f.file.is_some() {
            return false; // headers' spans are not the main file's
        }
        let Some(&at) =
            (self.model.unparsed.iter()).find(|u| f.span.start <= u.start && u.end <= f.span.end)
        else {
            return false;
        };
        self.error(
            at,
            format!(
                "`{}` does not parse here: cudalens would transpile what the parser recovered, not what is written",
                f.name
            ),
        );
        true
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        let message = crate::names::as_written(&message.into());
        let d = TranspileDiagnostic::error(span, message).in_file(self.current_file.clone());
        if !self.diags.contains(&d) {
            self.diags.push(d);
        }
    }

    pub fn warning(&mut self, span: Span, message: impl Into<String>) {
        let message = crate::names::as_written(&message.into());
        let d = TranspileDiagnostic::warning(span, message).in_file(self.current_file.clone());
        if !self.diags.contains(&d) {
            self.diags.push(d);
        }
    }

    /// How memory of element type `elem` that atomics use is declared;
    /// `storage`: in a storage buffer (native float atomics exist only
    /// there). Err: why it cannot be.
    pub fn atomic_repr(&mut self, elem: &Ty, storage: bool) -> Result<AtomicRepr, String> {
        let wide = "64-bit atomics need an adapter with 64-bit integer atomics (wgpu's SHADER_INT64_ATOMIC_ALL_OPS; `--int64-atomics`)";
        match elem {
            Ty::Scalar(s @ (Scalar::I32 | Scalar::U32)) => Ok(AtomicRepr::Native(*s)),
            Ty::Scalar(Scalar::F32) if storage && self.opts.float_atomics => {
                self.needs.float32_atomics = true;
                Ok(AtomicRepr::Native(Scalar::F32))
            }
            Ty::Scalar(Scalar::F32) => Ok(AtomicRepr::F32Bits),
            Ty::Scalar(s @ (Scalar::I64 | Scalar::U64)) if self.opts.int64_atomics => {
                self.needs.int64 = true;
                self.needs.int64_atomics = true;
                Ok(AtomicRepr::Native(*s))
            }
            Ty::Scalar(Scalar::F64) if self.opts.int64_atomics => {
                self.needs.int64 = true;
                self.needs.f64 = true;
                self.needs.int64_atomics = true;
                Ok(AtomicRepr::F64Bits)
            }
            Ty::Scalar(Scalar::I64 | Scalar::U64 | Scalar::F64) => Err(wide.into()),
            // Atomics on members of a struct of one scalar type.
            Ty::Struct(name) => {
                let why = format!(
                    "atomics on members of struct `{name}` need its members to be one 32- or 64-bit scalar type, with no padding"
                );
                let fields = crate::types::struct_fields(name, &self.model.types, self.opts, 0)
                    .map_err(|_| why.clone())?;
                let size = self.model.types.structs.get(name).map(|d| d.size);
                let Some(Ty::Scalar(first)) = fields.first().map(|(_, t)| t.clone()) else {
                    return Err(why);
                };
                let count = u8::try_from(fields.len()).map_err(|_| why.clone())?;
                let width = u64::from(first.bits() / 8);
                if fields.iter().any(|(_, t)| *t != Ty::Scalar(first))
                    || size != Some(u64::from(count) * width)
                {
                    return Err(why);
                }
                let member = self.atomic_repr(&Ty::Scalar(first), storage)?;
                Ok(AtomicRepr::Members {
                    count,
                    scalar: first,
                    bits: matches!(member, AtomicRepr::F32Bits | AtomicRepr::F64Bits),
                })
            }
            _ => Err("atomics need 32- or 64-bit integer or float elements".into()),
        }
    }

    /// A fresh module-scope name based on `name`.
    pub fn module_name(&mut self, name: &str) -> String {
        let base = wgsl_ident(name);
        let mut candidate = base.clone();
        let mut n = 1;
        while !self.module_names.insert(candidate.clone()) {
            n += 1;
            candidate = format!("{base}_{n}");
        }
        candidate
    }
}

/// One `cub::BlockReduce` (or `cub::WarpReduce`) specialization the function names.
#[derive(Clone, Debug)]
pub struct BlockReducer {
    pub value: CType,
    /// BLOCK_DIM_X · BLOCK_DIM_Y · BLOCK_DIM_Z (32 for a warp's).
    pub threads: u32,
    /// A `cub::WarpReduce`: over the warp's lanes (a subgroup reduction).
    pub warp: bool,
}

/// What `cub.rs` knows while one function is lowered (here, so that the
/// lowering's state does not import the module that reads it).
#[derive(Default)]
pub struct BlockReduceState {
    pub reducers: HashMap<String, BlockReducer>,
    /// `TempStorage` variable → its reducer's alias.
    pub storage: HashMap<String, String>,
    /// `TempStorage` variable → its workgroup array (declared on first use).
    pub arrays: HashMap<String, String>,
}

/// Lowers the body of one function (the kernel or a device function).
pub struct FnLower<'a, 'm> {
    pub m: &'a mut Module<'m>,
    pub scopes: Vec<HashMap<String, Sym>>,
    pub names: NameSupply,
    pub ret: Ty,
    /// The function returns an 8/16-bit type (or `uchar4`): `ret` is the
    /// promoted type and every returned value is narrowed.
    pub narrow_ret: Option<Packed>,
    pub is_kernel: bool,
    /// The CUDA function name (for its analysis facts).
    pub function: String,
    /// Template type parameters bound to CUDA type spellings.
    pub template_types: HashMap<String, CType>,
    /// Names assigned anywhere in the body (they need `var`).
    pub assigned: HashSet<String>,
    /// Pointer parameters this specialization received as null
    /// (`Arg::Null`): tests against null fold, any other use is refused.
    pub null_params: HashSet<String>,
    /// Names whose address is taken anywhere in the body (`&x`): they may
    /// change through a pointer.
    pub addr_taken: HashSet<String>,
    /// Locals of a shared-memory accessor struct (`SharedMemory<T> smem;`),
    /// bound as pointers to the block's dynamic shared memory: their
    /// methods without arguments (`smem.getPointer()`) hand it out.
    pub shared_accessors: HashSet<String>,
    /// Depth of fallthrough-`switch` emulation loops (where `continue` cannot go).
    pub emulated_switch_depth: usize,
    pub loop_depth: usize,
    /// Depth of `switch` statements (where `break` is valid).
    pub switch_depth: usize,
    /// Whether the call lowered last has side effects (it must not be
    /// dropped or reordered).
    pub last_effectful: bool,
    /// Statements the entry point must run before the body.
    pub pending_prologue: Vec<WStmt>,
    /// The call being lowered is a statement whose value is discarded
    /// (set by `expr_stmt`, taken by the first call that asks).
    pub result_discarded: bool,
    /// CUB block reductions: aliases of `cub::BlockReduce<...>` and their
    /// `TempStorage` variables (`cub.rs`).
    pub block_reduce: BlockReduceState,
    /// The caller's local arrays this device function received, by the
    /// WGSL text of their base (`(*dvdx_array)`): their array types, so
    /// that pointers into them can be passed on.
    pub local_array_params: HashMap<String, Ty>,
    /// Rows of local arrays of rows, by their WGSL text (`B[1]`,
    /// `(*b_array)[b_row]`): the whole array's text and type and the row's
    /// index. WGSL passes only whole variables by pointer, so a row is
    /// passed as its array and the index.
    pub local_rows: HashMap<String, LocalRow>,
    /// This device function's parameters that hold one of the kernel's
    /// struct arguments, whole: the kernel's name and the parameter's.
    pub struct_args: HashMap<String, (String, String)>,
    /// Assignments that point a pointer at another array from there on
    /// (`pointer_rebinding.rs`), by their spans.
    pub rebindable: HashSet<Span>,
    /// Names used in the body other than dereferenced (`p[i]`, `*p`,
    /// `p->m`): passed, compared, tested, copied.
    pub pointer_values: HashSet<String>,
}

impl<'a, 'm> FnLower<'a, 'm> {
    pub fn new(
        m: &'a mut Module<'m>,
        function: &str,
        body: Option<&Stmt>,
        is_kernel: bool,
    ) -> Self {
        let mut names = NameSupply::default();
        let mut assigned = HashSet::new();
        let mut addr_taken = HashSet::new();
        if let Some(body) = body {
            body.walk_exprs(&mut |e| match &e.kind {
                ExprKind::Ident(n) => names.reserve(&wgsl_ident(n)),
                ExprKind::Assign(_, t, _) | ExprKind::IncDec { target: t, .. } => {
                    // `v.y += 1`: a member of `v` assigned makes `v` mutable
                    // (a by-value parameter then gets a `var` copy).
                    // So does an element of an array member (`t.v[0] = 1`),
                    // but not an element through a pointer (`b[i].x = 1`).
                    let mut root = &**t;
                    let mut through_member = true;
                    loop {
                        match &root.kind {
                            // `p->x = 1` writes through `p`, which stays put.
                            ExprKind::Member {
                                base, arrow: true, ..
                            } => {
                                root = base;
                                through_member = false;
                            }
                            ExprKind::Member { base, .. } => {
                                root = base;
                                through_member = true;
                            }
                            ExprKind::Index(base, _) => {
                                root = base;
                                through_member = false;
                            }
                            _ => break,
                        }
                    }
                    if let Some(n) = root.as_ident()
                        && through_member
                    {
                        assigned.insert(n.to_string());
                    }
                }
                ExprKind::Unary(UnOp::AddrOf, t) => {
                    // `&x` may be written through: `x` needs a `var`; so
                    // does `x` of `&x.z` (a part of the thread's own
                    // variable, read and written through the pointer).
                    if let Some(n) = t.as_ident() {
                        assigned.insert(n.to_string());
                    }
                    let mut root = &**t;
                    let mut part = false;
                    while let ExprKind::Member { base, .. } | ExprKind::Index(base, _) = &root.kind
                    {
                        part |= matches!(root.kind, ExprKind::Member { arrow: false, .. });
                        root = base;
                    }
                    if let Some(n) = root.as_ident() {
                        addr_taken.insert(n.to_string());
                        if part {
                            assigned.insert(n.to_string());
                        }
                    }
                }
                _ => {}
            });
            // A local passed to a reference parameter the callee writes
            // (`swap(a, b)` with `float& x`) is assigned there.
            // `a < b` of a struct with a member `operator<`: the call
            // `a.operator<(b)` takes `&a`, so `a` is a `var` (a parameter
            // copied into one).
            body.walk_exprs(&mut |e| {
                if let ExprKind::Binary(op, a, _) = &e.kind
                    && m.member_operators.contains(op.as_str())
                    && let Some(n) = a.as_ident()
                {
                    assigned.insert(n.to_string());
                    addr_taken.insert(n.to_string());
                }
                // `obj.m()`: a member function takes `&obj` (`method_call`),
                // so `obj` is a `var`.
                if let ExprKind::Call(call) = &e.kind
                    && !call.arrow
                    && let Some(obj) = &call.receiver
                {
                    let mut root = &**obj;
                    while let ExprKind::Member {
                        base, arrow: false, ..
                    }
                    | ExprKind::Index(base, _) = &root.kind
                    {
                        root = base;
                    }
                    if let Some(n) = root.as_ident() {
                        assigned.insert(n.to_string());
                        addr_taken.insert(n.to_string());
                    }
                }
                // `rng()` of an object: its `operator()` takes `&rng`.
                if let ExprKind::Call(call) = &e.kind
                    && call.receiver.is_none()
                    && call.template_args.is_empty()
                    && !call.callee.contains("::")
                    && m.model.function(&call.callee).is_none()
                {
                    assigned.insert(call.callee.clone());
                    addr_taken.insert(call.callee.clone());
                }
                // Any overload of that name may be the one called (the
                // template `add_vector(T &t, ...)` with an empty body beside
                // `add_vector(int &t, ...)`, which writes).
                if let ExprKind::Call(call) = &e.kind {
                    let name = call.callee.trim_start_matches("::");
                    let overloads = (m.model.functions.iter())
                        .filter(|f| f.name == name && f.body.is_some())
                        .filter(|f| f.accepts_arguments(call.args.len()));
                    for callee in overloads {
                        for (p, a) in callee.params.iter().zip(&call.args) {
                            if let Some(n) = a.as_ident()
                                && p.ty.pointer == 0
                                && crate::source_facts::writes_reference(m.texts, callee, p)
                            {
                                assigned.insert(n.to_string());
                            }
                        }
                    }
                }
            });
            body.walk(&mut |s| {
                if let cudalens_syntax::ir::StmtKind::Decl(ds) = &s.kind {
                    for d in ds {
                        names.reserve(&wgsl_ident(&d.name));
                    }
                }
            });
        }
        for n in &m.module_names {
            names.reserve(n);
        }
        FnLower {
            m,
            scopes: vec![HashMap::new()],
            names,
            ret: Ty::Void,
            narrow_ret: None,
            is_kernel,
            function: function.to_string(),
            template_types: HashMap::new(),
            assigned,
            null_params: HashSet::new(),
            addr_taken,
            shared_accessors: HashSet::new(),
            emulated_switch_depth: 0,
            loop_depth: 0,
            switch_depth: 0,
            last_effectful: false,
            result_discarded: false,
            pending_prologue: Vec::new(),
            block_reduce: Default::default(),
            local_array_params: HashMap::new(),
            local_rows: HashMap::new(),
            struct_args: HashMap::new(),
            rebindable: body.map(sequential_rebindings).unwrap_or_default(),
            pointer_values: body.map(values_used).unwrap_or_default(),
        }
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>) -> Val {
        self.m.error(span, message);
        Val::error()
    }

    pub fn push_scope(&mut self) {
        self.scopes.push(HashMap::new());
    }

    pub fn pop_scope(&mut self) {
        self.scopes.pop();
    }

    pub fn lookup(&self, name: &str) -> Option<&Sym> {
        self.scopes.iter().rev().find_map(|s| s.get(name))
    }

    /// Replaces what `name` means in the innermost scope that declares it.
    pub fn redeclare(&mut self, name: &str, sym: Sym) {
        if let Some(s) = self.scopes.iter_mut().rev().find(|s| s.contains_key(name)) {
            s.insert(name.to_string(), sym);
        }
    }

    pub fn declare(&mut self, name: &str, sym: Sym) {
        if let Some(s) = self.scopes.last_mut() {
            s.insert(name.to_string(), sym);
        }
    }

    /// A WGSL name for a new local `name`: its own spelling unless an outer
    /// scope of the same function already uses it (WGSL would shadow too,
    /// but distinct names read better in loops lowered to `loop`).
    pub fn local_name(&mut self, name: &str) -> String {
        let base = wgsl_ident(name);
        if self.m.module_names.contains(&base) {
            return self.names.fresh(&base);
        }
        base
    }

    pub fn last_call_effectful(&self, _v: &Val) -> bool {
        self.last_effectful
    }

    pub fn fresh(&mut self, hint: &str) -> String {
        self.names.fresh(hint)
    }

    /// Maps a CUDA value type, substituting template type parameters.
    pub fn map_type(&mut self, ty: &CType, span: Span) -> Ty {
        let ty = self.subst_type(ty);
        let ty = self.class_instance(&ty).unwrap_or(ty);
        match map_value_type(&ty, &self.m.model.types, self.m.opts) {
            Ok(t) => {
                self.note_type(&t);
                t
            }
            Err(msg) => {
                self.m.error(span, msg);
                Ty::Error
            }
        }
    }

    /// `Pair<float>` (or `Pair<T>` with `T` bound) of a class template:
    /// its instance's struct (`class_instances.rs`), asked of the model
    /// when it has none yet (the kernel is compiled again with it).
    /// `None` for any other type.
    pub fn class_instance(&mut self, ty: &CType) -> Option<CType> {
        self.class_instance_at(ty, 0)
    }

    /// [`Self::class_instance`] `depth` arguments deep: an argument bound
    /// to a type that names itself (`T` as `Pair<T, int>`) stops there.
    fn class_instance_at(&mut self, ty: &CType, depth: usize) -> Option<CType> {
        if depth >= TYPE_NESTING {
            return None;
        }
        // `typedef gmx::BasicVector<float> Float3;`: the instance it names.
        let resolved;
        let ty = match ty.template_args.is_empty() && !ty.base.contains('<') {
            true => {
                resolved = self.m.model.types.resolve(ty);
                &resolved
            }
            false => ty,
        };
        // `Pair<float, int>` bound to a type parameter is one name.
        let (class, written_args) = match ty.template_args.is_empty() {
            true => cudalens_syntax::types::template_instance(&ty.base)?,
            false => (ty.base.as_str(), ty.template_args.clone()),
        };
        // `gmx::BasicVector<float>`: the model knows templates by their
        // own names.
        let class = class.trim().trim_start_matches("::");
        let class = match self.m.model.class_templates.contains_key(class) {
            true => class,
            false => class
                .rsplit("::")
                .next()
                .filter(|c| self.m.model.class_templates.contains_key(*c))?,
        };
        let mut args = Vec::new();
        for written in &written_args {
            let written = written.trim();
            let arg = match self.lookup(written) {
                Some(Sym::Const(v)) => v.konst.map(|k| k.as_int().to_string())?,
                _ => {
                    // `CustomComplex<dataType>` with `#define dataType
                    // double`, `Pair<real_t>` with a typedef: the type named.
                    let written = match self.m.model.macros.get(written) {
                        Some(m) if m.params.is_none() => {
                            self.m.model.macros.expand_text(written).unwrap_or_default()
                        }
                        _ => written.to_string(),
                    };
                    let t = self.subst_type(&CType::named(written.trim()));
                    let t = self.m.model.types.resolve(&t);
                    let nested = (t.template_args.is_empty())
                        .then(|| cudalens_syntax::types::template_instance(&t.base))
                        .flatten()
                        .is_some_and(|(c, _)| self.m.model.class_templates.contains_key(c.trim()));
                    let t = match self.class_instance_at(&t, depth + 1) {
                        Some(instance) => instance,
                        None if nested => return None,
                        None => t,
                    };
                    t.display()
                }
            };
            args.push(arg);
        }
        let name = cudalens_syntax::model::class_instances::instance_name(class, &args);
        if !self.m.model.types.structs.contains_key(&name) {
            self.m.class_requests.insert((class.to_string(), args));
        }
        Some(CType {
            base: name,
            template_args: Vec::new(),
            ..ty.clone()
        })
    }

    pub fn subst_type(&self, ty: &CType) -> CType {
        self.subst_type_at(ty, 0)
    }

    /// [`Self::subst_type`] `depth` member types deep: a member type
    /// defined through itself (`typedef typename S<T>::X X;`) stops
    /// there, unknown.
    fn subst_type_at(&self, ty: &CType, depth: usize) -> CType {
        match self.template_types.get(&ty.base) {
            Some(bound) => CType {
                pointer: ty.pointer + bound.pointer,
                is_const: ty.is_const || bound.is_const,
                ..bound.clone()
            },
            None => match self.member_type(ty, depth) {
                Some(member) => member,
                None => self
                    .subst_arguments(ty, depth)
                    .unwrap_or_else(|| ty.clone()),
            },
        }
    }

    /// `Pair<T, int>` (one name, as a template argument is written) with
    /// the bound parameters inside substituted: `Pair<float, int>`.
    fn subst_arguments(&self, ty: &CType, depth: usize) -> Option<CType> {
        if depth >= TYPE_NESTING || self.template_types.is_empty() {
            return None;
        }
        let (class, args) = cudalens_syntax::types::template_instance(&ty.base)?;
        let mut changed = false;
        let args: Vec<String> = (args.iter())
            .map(|a| {
                let t = self.subst_type_at(&CType::named(a.trim()), depth + 1);
                let written = t.display();
                changed |= written != a.trim();
                written
            })
            .collect();
        changed.then(|| CType {
            base: format!("{class}<{}>", args.join(", ")),
            ..ty.clone()
        })
    }

    /// `typename V::ScalarType` with `V` bound to `Vector<double, int>`
    /// (or written so): the struct's member type (`typedef Scalar
    /// ScalarType;`) with the class template's arguments for its
    /// parameters: `double`.
    fn member_type(&self, ty: &CType, depth: usize) -> Option<CType> {
        if depth >= TYPE_NESTING {
            return None;
        }
        let written = ty.base.trim().trim_start_matches("typename ").trim();
        let (qualifier, member) = written.rsplit_once("::")?;
        let qualifier = match self.template_types.get(qualifier.trim()) {
            Some(bound) if bound.pointer == 0 => bound.clone(),
            Some(_) => return None,
            None => CType::named(qualifier.trim()),
        };
        // The class and its arguments, written apart or in the name.
        let (class, args) = match qualifier.base.contains('<') {
            true => {
                let (class, args) = cudalens_syntax::types::template_instance(&qualifier.base)?;
                (class.to_string(), args)
            }
            false => (qualifier.base.clone(), qualifier.template_args.clone()),
        };
        let member = self
            .m
            .model
            .types
            .member_type(&class, &args, member.trim())?;
        // An argument may name a template parameter of this function.
        let bound = self.subst_type_at(&CType::named(&member.base), depth + 1);
        let found = CType {
            pointer: member.pointer + bound.pointer,
            is_const: member.is_const || bound.is_const,
            ..bound
        };
        Some(CType {
            pointer: ty.pointer + found.pointer,
            is_const: ty.is_const || found.is_const,
            ..found
        })
    }

    /// The packed 8/16-bit (or `bool`) kind of a value type, through
    /// template parameters and typedefs (`typedef unsigned char Bool;`).
    pub fn packed_of(&self, ty: &CType, written: bool) -> Option<Packed> {
        let t = self.m.model.types.resolve(&self.subst_type(ty));
        if t.pointer != 0 {
            return None;
        }
        Packed::of(&cudalens_syntax::types::normalize_base(&t.base), written)
    }

    /// Declares the struct `name` (and the structs it holds) in the module.
    pub fn note_struct(&mut self, name: &str) {
        let wgsl = Ty::Struct(name.to_string()).wgsl();
        if self.m.structs.contains_key(&wgsl) {
            return;
        }
        let Ok(fields) = crate::types::struct_members(name, &self.m.model.types, self.m.opts)
        else {
            return;
        };
        let layout =
            if crate::types::struct_fields(name, &self.m.model.types, self.m.opts, 0).is_ok() {
                "the same layout as C's"
            } else {
                "not C's layout: held only in function and workgroup memory"
            };
        let def = self.m.model.types.structs.get(name);
        let runs = def
            .and_then(|d| crate::types::byte_runs(d, &self.m.model.types).ok())
            .unwrap_or_default();
        let mut members = Vec::new();
        for (f, t) in &fields {
            let note = if let Some(r) = runs.runs.iter().position(|r| r.field == *f) {
                let packed: Vec<String> = (runs.members.iter())
                    .filter(|(_, m)| m.run == r)
                    .map(|(n, m)| format!("`{n}` ({})", m.packed.describe()))
                    .collect();
                Some(format!(
                    "bytes {}..: {}",
                    runs.runs[r].start,
                    packed.join(", ")
                ))
            } else {
                def.and_then(|d| d.fields.iter().find(|m| &m.name == f))
                    .filter(|m| crate::types::pointer_member(m, &self.m.model.types))
                    .map(|m| format!("`{}`: a pointer's bits, never followed", m.ty.display()))
            };
            members.push(Member {
                name: wgsl_ident(f),
                ty: t.wgsl(),
                note,
            });
        }
        if fields.is_empty() {
            // A stateless functor (`struct Max { op() }`): C gives it one
            // byte, WGSL no struct without a member.
            members.push(Member {
                name: "empty_".into(),
                ty: "u32".into(),
                note: Some("C's empty struct: nothing to hold".into()),
            });
        }
        let decl = Decl::new(Item::Struct {
            name: wgsl.clone(),
            members,
        })
        .documented(&format!("CUDA `struct {name}` ({layout})"));
        self.m.structs.insert(wgsl, decl);
        for (_, t) in fields {
            self.note_type(&t);
        }
    }

    /// Records the device features a type needs.
    pub fn note_type(&mut self, t: &Ty) {
        if let Ty::Struct(name) = t.leaf() {
            let name = name.clone();
            self.note_struct(&name);
            return;
        }
        match t.leaf().scalar() {
            Some(Scalar::F16) => self.m.needs.f16 = true,
            Some(Scalar::F64) => self.m.needs.f64 = true,
            Some(Scalar::I64 | Scalar::U64) => self.m.needs.int64 = true,
            _ => {}
        }
    }

    /// Binds `v` to a `let` unless it is already safe to repeat.
    pub fn materialize(&mut self, v: Val, hint: &str, out: &mut Vec<WStmt>) -> Val {
        if v.is_simple() || v.is_error() || v.ty == Ty::Void || v.ptr.is_some() {
            return v;
        }
        let name = self.fresh(hint);
        out.push(WStmt::let_(name.clone(), v.expr));
        Val::atom(WExpr::Name(name), v.ty)
    }
}

/// The spans of the plain assignments (`pointer_rebinding.rs` lowers them) `p = ...;` that are statements of
/// the block declaring the pointer `p`, after its declaration.
pub(crate) fn sequential_rebindings(body: &Stmt) -> HashSet<Span> {
    let mut found = HashSet::new();
    body.walk(&mut |s| {
        let StmtKind::Block(items) = &s.kind else {
            return;
        };
        let mut declared: HashSet<&str> = HashSet::new();
        for item in items {
            match &item.kind {
                StmtKind::Decl(ds) => {
                    for d in ds.iter().filter(|d| d.ty.pointer > 0 && d.dims.is_empty()) {
                        declared.insert(&d.name);
                    }
                }
                StmtKind::Expr(e) => {
                    if let ExprKind::Assign(None, target, _) = &e.kind
                        && target.as_ident().is_some_and(|n| declared.contains(n))
                    {
                        found.insert(e.span);
                    }
                }
                _ => {}
            }
        }
    });
    found
}

/// The names `body` uses other than by dereferencing them (`p[i]`, `*p`,
/// `p->m`): what a pointer's value reaches.
fn values_used(body: &Stmt) -> HashSet<String> {
    fn visit(e: &cudalens_syntax::ir::Expr, dereferenced: bool, out: &mut HashSet<String>) {
        match &e.kind {
            ExprKind::Ident(n) if !dereferenced => {
                out.insert(n.clone());
            }
            ExprKind::Index(base, index) => {
                visit(base, true, out);
                visit(index, false, out);
            }
            ExprKind::Unary(UnOp::Deref, x) => visit(x, true, out),
            ExprKind::Member {
                base, arrow: true, ..
            } => visit(base, true, out),
            _ => e.for_each_child(&mut |c| visit(c, false, out)),
        }
    }
    let mut out = HashSet::new();
    body.walk(&mut |s| {
        for e in s.own_exprs() {
            visit(e, false, &mut out);
        }
    });
    out
}
