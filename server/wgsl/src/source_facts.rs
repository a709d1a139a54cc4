//! Facts read from the CUDA source that several lowering rooms need:
//! cooperative-groups spellings and reference parameters. A leaf module
//! (it imports no other room), so `context`, `stmt`, `functions` and
//! `unroll` can all use it without import circles.

use cudalens_syntax::ir::{ExprKind, UnOp};
use cudalens_syntax::model::{Function, Param};

use crate::SourceTexts;

/// `cg::thread_block`, `cooperative_groups::thread_block`, `thread_block`.
pub fn is_thread_block_type(base: &str) -> bool {
    strip_cg(base) == "thread_block"
}

/// `cg::this_thread_block` and its spellings.
pub fn is_this_thread_block(callee: &str) -> bool {
    strip_cg(callee) == "this_thread_block"
}

/// A name without its cooperative-groups namespace (`cg::` is the
/// samples' alias, `cooperative_groups::` the real one).
pub fn strip_cg(name: &str) -> &str {
    let name = name.trim().trim_start_matches("::");
    name.strip_prefix("cooperative_groups::")
        .or_else(|| name.strip_prefix("cg::"))
        .unwrap_or(name)
}

/// `cg::sync(g)` or `g.sync()`: a barrier of a cooperative group.
pub fn is_group_sync(callee: &str) -> bool {
    strip_cg(callee) == "sync" || callee.trim_end().ends_with(".sync")
}

/// Whether `name` is a struct whose conversion operator hands out the
/// block's dynamic shared memory, as the CUDA samples' `SharedMemory<T>`:
/// `struct SharedMemory { __device__ operator T *() { extern __shared__ int
/// __smem[]; return (T *)__smem; } }`. The model keeps no member
/// functions, so the struct's text is read: its body must declare an
/// `extern __shared__` array, have a conversion `operator`, and hold no
/// fields or other functions that could do something else.
pub fn is_shared_memory_accessor(texts: &SourceTexts<'_>, name: &str) -> bool {
    std::iter::once(texts.main)
        .chain(texts.headers.values().map(|t| &**t))
        .any(|text| struct_bodies(text, name).any(accessor_body))
}

/// Whether an object of struct `name` stands for the block's dynamic
/// shared memory, as the samples' other `SharedMemory<T>`s do: each
/// member function (`getPointer()`, `operator[](int i)`, `operator*()`)
/// declares an `extern __shared__` array and returns it, an element of it
/// or its first element, and the struct holds nothing else. Their
/// specializations are often written by a macro (`BUILD_SHAREDMEMORY_TYPE`),
/// read with its line continuations joined.
pub fn is_shared_memory_object(texts: &SourceTexts<'_>, name: &str) -> bool {
    std::iter::once(texts.main)
        .chain(texts.headers.values().map(|t| &**t))
        .any(|text| {
            let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
            struct_bodies(&joined, name).any(object_accessor_body)
        })
}

/// A body whose every function declares one `extern __shared__` array and
/// returns it (`return n;`, `return *n;`, `return n[i];`).
fn object_accessor_body(body: &str) -> bool {
    let arrays = body.matches("extern __shared__").count();
    arrays > 0
        && body.matches("return").count() == arrays
        && body.matches(';').count() == 2 * arrays
        && !body.contains("virtual")
        && body.split("return").skip(1).all(|r| {
            let returned = r.split(';').next().unwrap_or("").trim();
            let name = returned.trim_start_matches('*');
            let name = name.split('[').next().unwrap_or("").trim();
            !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// The bodies (between the braces) of `struct NAME { ... }` and its
/// specialisations `struct NAME<...> { ... }` in `text`.
fn struct_bodies<'t>(text: &'t str, name: &'t str) -> impl Iterator<Item = &'t str> + 't {
    text.match_indices("struct").filter_map(move |(at, _)| {
        let rest = &text[at + "struct".len()..];
        let after = rest.trim_start().strip_prefix(name)?;
        if !rest.starts_with(char::is_whitespace) {
            return None;
        }
        if after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
            return None;
        }
        let open = after.find('{')?;
        // Only template arguments may sit between the name and the brace.
        let between = after[..open].trim();
        if !(between.is_empty() || between.starts_with('<') && between.ends_with('>')) {
            return None;
        }
        let body = &after[open + 1..];
        let mut depth = 1usize;
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(&body[..i]);
                    }
                }
                _ => {}
            }
        }
        None
    })
}

/// A body made only of conversion operators that return a cast of an
/// `extern __shared__` array they declare.
fn accessor_body(body: &str) -> bool {
    let operators = body.matches("operator").count();
    operators > 0
        && body.matches("extern __shared__").count() == operators
        && body.matches("return").count() == operators
        // Nothing else: each operator's body has one declaration and one return.
        && body.matches(';').count() == 2 * operators
}

/// Whether `f` writes its parameter `p` and `p` may be a reference
/// (`v = ...`, `v.x = ...`, `v++`, or its address taken).
pub fn writes_reference(texts: &SourceTexts<'_>, f: &Function, p: &Param) -> bool {
    let Some(body) = &f.body else { return false };
    let mut writes = false;
    body.walk_exprs(&mut |e| {
        let target = match &e.kind {
            ExprKind::Assign(_, t, _) | ExprKind::IncDec { target: t, .. } => t,
            ExprKind::Unary(UnOp::AddrOf, t) => t,
            // `rng.next()`, `rng()`: a member function takes the object's
            // address and may change it.
            ExprKind::Call(c) if !c.arrow => match &c.receiver {
                Some(object) => object,
                None => {
                    writes |= c.callee == p.name;
                    return;
                }
            },
            _ => return,
        };
        let mut root = &**target;
        while let ExprKind::Member { base, .. } = &root.kind {
            root = base;
        }
        if root.as_ident() == Some(p.name.as_str()) {
            writes = true;
        }
    });
    writes && may_be_reference(texts, f, p)
}

/// Whether `p` is declared as a reference (`float3& v`): the model drops
/// the `&`, so the text before the name is read. Without the function's
/// text, it may be.
fn may_be_reference(texts: &SourceTexts<'_>, f: &Function, p: &Param) -> bool {
    let Some(text) = texts.text_of(f.file.as_deref()) else {
        return true;
    };
    text.get(..p.name_span.start)
        .and_then(|before| before.trim_end().chars().next_back())
        .is_none_or(|c| c == '&')
}
