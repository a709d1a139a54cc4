//! A variant of a generated kernel that counts the storage-buffer accesses
//! a bounds clamp catches. wgpu's bounds checks clamp an out-of-range index
//! into the buffer (`min(i, arrayLength - 1)`) without a trace, so a
//! benchmark whose buffers are smaller than what the kernel indexes times
//! a different workload than the program runs. The variant routes every
//! index of a storage binding through a helper that clamps the same way and
//! adds one to an `atomic<u32>` counter binding when it had to; the runner
//! uses it for its one verification launch and reports the count. The
//! `extern __shared__` array, sized by the launch's dynamic shared memory
//! (which `bench` may have had to assume), is counted the same way: an
//! index past it is clamped by naga's bounds checks as silently.
//!
//! The rewrite is a pass over the lowered bodies' trees (`WStmt`,
//! `WExpr`); the variant is printed from them and its module built from
//! them (`build.rs`), as the kernel's own is, so the runner compiles both
//! launches from modules built directly.

use crate::BindingKind;
use crate::build::LoweredBody;
use crate::decl::{Decl, FunctionHeader, Item, Param, Space, print_function};
use crate::emit::{WStmt, print_block};
use crate::validate::check;
use crate::wexpr::WExpr;
use crate::{ShaderModule, TranspileOutput};

/// The counter's name in the variant.
pub const CLAMP_COUNTER: &str = "cudalens_clamped";

/// The counting variant of a kernel and where its counter is bound.
#[derive(Clone, Debug, PartialEq)]
pub struct ClampCounting {
    pub wgsl: String,
    /// Its validated module: built directly from the rewritten trees where
    /// that prints exactly as `wgsl` (as for the kernel itself), else
    /// parsed from `wgsl`.
    pub module: ShaderModule,
    pub group: u32,
    pub binding: u32,
}

/// The variant of a compiled kernel that counts clamped storage-buffer and
/// dynamic shared memory indices: its function bodies' trees rewritten
/// (every index of such an array through a counting clamp), printed and
/// built as the kernel was; an error when the variant does not validate
/// (the caller then says the clamps were not counted).
pub fn clamp_counting_variant(out: &TranspileOutput) -> Result<ClampCounting, String> {
    let (wgsl, sidecar) = (&out.wgsl, &out.sidecar);
    let storage: Vec<&str> = sidecar
        .bindings
        .iter()
        .filter(|b| {
            matches!(
                b.kind,
                BindingKind::StorageRead | BindingKind::StorageReadWrite
            )
        })
        .map(|b| b.name.as_str())
        .collect();
    let binding = sidecar
        .bindings
        .iter()
        .filter(|b| b.group == 0)
        .map(|b| b.binding + 1)
        .max()
        .unwrap_or(0);
    let shared = sidecar
        .dynamic_shared_override
        .as_deref()
        .map(|size| dynamic_shared_arrays(&out.decls.decls, size))
        .unwrap_or_default();
    let mut counted_arrays = storage.clone();
    counted_arrays.extend(shared.iter().map(|(name, _)| *name));
    let mut used = Vec::new();
    let mut text = wgsl.clone();
    let mut bodies = Vec::new();
    for body in &out.bodies {
        let stmts: Vec<WStmt> = (body.stmts.iter())
            .map(|s| s.map_exprs(&mut |e| counted(e, &counted_arrays, true, &mut used)))
            .collect();
        let mut printed = String::new();
        print_block(&mut printed, &stmts, 1);
        let at = body_at(&text, body).ok_or_else(|| {
            format!(
                "the clamp-counting variant: `{}`'s body is not where it was printed",
                body.name
            )
        })?;
        text.replace_range(at..at + body.printed.len(), &printed);
        bodies.push(LoweredBody {
            name: body.name.clone(),
            printed,
            stmts,
        });
    }
    // The counter and its clamps go before the first lowered function: a
    // function is built after those it calls (naga's arenas hold no
    // forward reference, and the builder takes the functions in order).
    let mut added_decls = vec![
        Decl::var(
            Space::Storage { write: true },
            CLAMP_COUNTER,
            "atomic<u32>",
        )
        .bound(binding)
        .documented(
            "Counts the storage and dynamic shared indices the bounds clamps below caught (cudalens bench).",
        ),
    ];
    let mut added = String::from("\n");
    added_decls[0].print(&mut added);
    for (name, counting) in &used {
        // A file-scope variable is a fixed-size array: its outer length;
        // the dynamic shared array: the override the runner sets.
        let length = match shared.iter().find(|(n, _)| n == name) {
            Some((_, size)) => WExpr::name(*size),
            None => fixed_length(&out.decls.decls, name).map_or_else(
                || {
                    WExpr::call(
                        "arrayLength",
                        vec![WExpr::unary("&", WExpr::name(name.clone()))],
                    )
                },
                |n| WExpr::literal(format!("{n}u")),
            ),
        };
        let mut caught = Vec::new();
        if *counting {
            caught.push(WStmt::Eval(WExpr::call(
                "atomicAdd",
                vec![
                    WExpr::unary("&", WExpr::name(CLAMP_COUNTER)),
                    WExpr::literal("1u"),
                ],
            )));
        }
        caught.push(WStmt::Return(Some(WExpr::binary(
            WExpr::name("n"),
            "-",
            WExpr::literal("1u"),
        ))));
        let stmts = vec![
            WStmt::let_("n", length),
            WStmt::If {
                cond: WExpr::binary(WExpr::name("i"), ">=", WExpr::name("n")),
                then: caught,
                els: Vec::new(),
            },
            WStmt::Return(Some(WExpr::name("i"))),
        ];
        let header = Decl::new(Item::Function(FunctionHeader {
            name: helper_name(name, *counting),
            params: vec![Param::new("i", "u32")],
            result: Some("u32".into()),
            workgroup_size: None,
        }));
        let (function, body) = print_function(header, stmts);
        added.push('\n');
        added.push_str(&function.text);
        bodies.push(body);
        added_decls.push(function.header);
    }
    // After the helpers written as WGSL (the prelude, which the builder
    // declares first), before the lowered functions: the same order in
    // the text and the built module, so naga names their locals alike.
    let mut decls = out.decls.clone();
    let first_function = (decls.decls.iter())
        .position(|d| matches!(d.item, Item::Function(_)))
        .unwrap_or(decls.decls.len());
    let at = decls.decls.get(first_function).and_then(|header| {
        let mut printed = String::from("\n");
        header.print(&mut printed);
        text.find(&printed)
    });
    text.insert_str(at.unwrap_or(text.len()), &added);
    decls
        .decls
        .splice(first_function..first_function, added_decls);
    let checked =
        check(&text).map_err(|e| format!("the clamp-counting variant does not validate: {e}"))?;
    let (_, built) = crate::build::built_as_text(&decls, &checked, &bodies);
    Ok(ClampCounting {
        module: ShaderModule(std::sync::Arc::new(built.unwrap_or(checked.module))),
        wgsl: text,
        group: 0,
        binding,
    })
}

/// Where `body` starts in `text`: after its function's `{` line.
fn body_at(text: &str, body: &LoweredBody) -> Option<usize> {
    let start = text.find(&format!("fn {}(", body.name))?;
    let at = start + text[start..].find("{\n")? + 2;
    text[at..].starts_with(&body.printed).then_some(at)
}

/// `name[e]` → `name[cudalens_clamp_name(u32(e))]` in a tree, for every
/// array of `arrays` (inside `e` too); as [`rewrite`] does in text (which
/// text left in a tree still goes through).
fn counted(e: &WExpr, arrays: &[&str], counting: bool, used: &mut Vec<(String, bool)>) -> WExpr {
    let mut go = |e: &WExpr, counting: bool| Box::new(counted(e, arrays, counting, used));
    match e {
        WExpr::Index(base, index) => {
            let index = go(index, counting);
            match &**base {
                WExpr::Name(name) if arrays.contains(&name.as_str()) => {
                    if !used.iter().any(|(u, c)| u == name && *c == counting) {
                        used.push((name.clone(), counting));
                    }
                    let clamped = WExpr::call(
                        helper_name(name, counting),
                        vec![WExpr::call("u32", vec![*index])],
                    );
                    WExpr::index((**base).clone(), clamped)
                }
                _ => WExpr::Index(go(base, counting), index),
            }
        }
        // Both sides of a `select` are evaluated; the program may use only one.
        WExpr::Call(callee, args) => {
            let counting = counting && callee != "select";
            WExpr::Call(
                callee.clone(),
                args.iter().map(|a| *go(a, counting)).collect(),
            )
        }
        WExpr::Unary(op, e) => WExpr::Unary(op, go(e, counting)),
        WExpr::Binary(l, op, r) => {
            let l = go(l, counting);
            WExpr::Binary(l, op, go(r, counting))
        }
        WExpr::Member(e, m) => WExpr::Member(go(e, counting), m.clone()),
        WExpr::Paren(e) => WExpr::Paren(go(e, counting)),
        WExpr::Text(t) => WExpr::Text(rewrite(t, arrays, counting, used)),
        WExpr::Name(_) | WExpr::Literal(_) => e.clone(),
    }
}

/// The workgroup arrays sized by the dynamic shared memory override `size`
/// (`var<workgroup> s_f: array<f32, DYNAMIC_SHARED_ELEMENTS>;`), with it.
fn dynamic_shared_arrays<'a>(decls: &'a [Decl], size: &'a str) -> Vec<(&'a str, &'a str)> {
    let suffix = format!(", {size}>");
    (decls.iter())
        .filter_map(|d| match &d.item {
            Item::Var {
                space: Space::Workgroup,
                name,
                ty,
                ..
            } if ty.starts_with("array<") && ty.ends_with(&suffix) => Some((name.as_str(), size)),
            _ => None,
        })
        .collect()
}

/// The outer length of the storage binding `name` when it is declared as a
/// fixed-size array (`var<storage, read> c: array<array<f32, 4>, 3>;` → 3).
fn fixed_length(decls: &[Decl], name: &str) -> Option<u32> {
    decls.iter().find_map(|d| match &d.item {
        Item::Var {
            space: Space::Storage { .. },
            binding: Some(_),
            name: n,
            ty,
        } if n == name => {
            let inner = ty.strip_prefix("array<")?.strip_suffix('>')?;
            let (_, n) = inner.rsplit_once(',')?;
            n.trim().parse().ok()
        }
        _ => None,
    })
}

fn helper_name(binding: &str, counting: bool) -> String {
    if counting {
        format!("cudalens_clamp_{binding}")
    } else {
        format!("cudalens_clamp_quiet_{binding}")
    }
}

/// `name[e]` → `name[cudalens_clamp_name(u32(e))]` for every array of
/// `arrays` (inside `e` too), outside comments. Inside `select(...)` the
/// clamp does not count: the transpiler evaluates both sides of a
/// side-effect-free `c ? a : b` with `select`, so an index there may be
/// one the CUDA program never uses (`i < n ? in[i] : 0`).
fn rewrite(text: &str, arrays: &[&str], counting: bool, used: &mut Vec<(String, bool)>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + text.len() / 4);
    let mut i = 0;
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    while i < bytes.len() {
        if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'/') {
            let end = text[i..].find('\n').map_or(text.len(), |e| i + e);
            out.push_str(&text[i..end]);
            i = end;
            continue;
        }
        if is_ident(bytes[i]) && (i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == b'.')) {
            let start = i;
            while i < bytes.len() && is_ident(bytes[i]) {
                i += 1;
            }
            let word = &text[start..i];
            out.push_str(word);
            if word == "select"
                && bytes.get(i) == Some(&b'(')
                && let Some(close) = matching_paren(text, i)
            {
                out.push('(');
                out.push_str(&rewrite(&text[i + 1..close], arrays, false, used));
                out.push(')');
                i = close + 1;
                continue;
            }
            if !arrays.contains(&word) {
                continue;
            }
            let mut j = i;
            while j < bytes.len() && bytes[j] == b' ' {
                j += 1;
            }
            if bytes.get(j) != Some(&b'[') {
                continue;
            }
            let Some(close) = matching_bracket(text, j) else {
                continue;
            };
            let inner = rewrite(&text[j + 1..close], arrays, counting, used);
            out.push_str(&format!("[{}(u32({inner}))]", helper_name(word, counting)));
            if !used.iter().any(|(u, c)| u == word && *c == counting) {
                used.push((word.to_string(), counting));
            }
            i = close + 1;
            continue;
        }
        let c = text[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// The index of the `)` closing the `(` at `open`.
fn matching_paren(text: &str, open: usize) -> Option<usize> {
    matching(text, open, ('(', ')'))
}

/// The index of the `]` closing the `[` at `open`.
fn matching_bracket(text: &str, open: usize) -> Option<usize> {
    matching(text, open, ('[', ']'))
}

/// The index of the `close` that pairs with the `open_char` at `open`, on
/// the same line and statement.
fn matching(text: &str, open: usize, (open_char, close): (char, char)) -> Option<usize> {
    let mut depth = 0i32;
    for (k, c) in text[open..].char_indices() {
        if c == open_char {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(open + k);
            }
        } else if c == '\n' || c == ';' {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_size_bindings_clamp_to_their_outer_length() {
        let storage = |binding, name: &str, ty: &str| {
            Decl::var(Space::Storage { write: false }, name, ty).bound(binding)
        };
        let wgsl = [
            storage(0, "a", "array<f32>"),
            storage(2, "c_w", "array<array<f32, 4>, 3>"),
            storage(3, "hits", "array<atomic<u32>, 8>"),
            storage(4, "lut", "array<u32, 64>")
                .noted("256 8-bit unsigned values as C's bytes, packed into words"),
            Decl::var(Space::Workgroup, "w", "array<f32, 16>"),
        ];
        let wgsl = wgsl.as_slice();
        assert_eq!(fixed_length(wgsl, "a"), None);
        assert_eq!(fixed_length(wgsl, "c_w"), Some(3));
        assert_eq!(fixed_length(wgsl, "hits"), Some(8));
        assert_eq!(fixed_length(wgsl, "w"), None);
        assert_eq!(fixed_length(wgsl, "lut"), Some(64));
    }

    /// The clamps the two rewrites below use, in order of first use.
    fn expected_uses() -> Vec<(String, bool)> {
        vec![
            ("out".to_string(), true),
            ("a".to_string(), true),
            ("a".to_string(), false),
        ]
    }

    #[test]
    fn indices_of_storage_bindings_in_trees_are_routed_through_the_counting_clamp() {
        let storage = ["a", "out"];
        let mut used = Vec::new();
        let name = |n: &str| WExpr::name(n);
        let index = |b: &str, i: WExpr| WExpr::index(WExpr::name(b), i);
        // out[i] = a[a[j] + 1] * tile[k];
        let inner = WExpr::binary(index("a", name("j")), "+", WExpr::literal("1"));
        let value = WExpr::binary(index("a", inner), "*", index("tile", name("k")));
        let store = WStmt::assign(index("out", name("i")), value);
        // let z = select(0.0, a[i], i < n); let y = params.a[0];
        let pick = WExpr::call(
            "select",
            vec![
                WExpr::literal("0.0"),
                index("a", name("i")),
                WExpr::binary(name("i"), "<", name("n")),
            ],
        );
        let member = WExpr::index(WExpr::member(name("params"), "a"), WExpr::literal("0"));
        let stmts = [store, WStmt::let_("z", pick), WStmt::let_("y", member)];
        let mut printed = String::new();
        let rewritten: Vec<WStmt> = (stmts.iter())
            .map(|s| s.map_exprs(&mut |e| counted(e, &storage, true, &mut used)))
            .collect();
        print_block(&mut printed, &rewritten, 0);
        assert_eq!(
            printed,
            "out[cudalens_clamp_out(u32(i))] = a[cudalens_clamp_a(u32(a[cudalens_clamp_a(u32(j))] + 1))] * tile[k];\nlet z = select(0.0, a[cudalens_clamp_quiet_a(u32(i))], i < n);\nlet y = params.a[0];\n"
        );
        assert_eq!(used, expected_uses());
    }

    #[test]
    fn indices_of_storage_bindings_are_routed_through_the_counting_clamp() {
        let storage = ["a", "out"];
        let mut used = Vec::new();
        let text = "out[i] = a[a[j] + 1] * tile[k]; // a[x] in a comment\nlet y = params.a[0];\nlet z = select(0.0, a[i], i < n);";
        assert_eq!(
            rewrite(text, &storage, true, &mut used),
            "out[cudalens_clamp_out(u32(i))] = a[cudalens_clamp_a(u32(a[cudalens_clamp_a(u32(j))] + 1))] * tile[k]; // a[x] in a comment\nlet y = params.a[0];\nlet z = select(0.0, a[cudalens_clamp_quiet_a(u32(i))], i < n);"
        );
        assert_eq!(used, expected_uses());
    }
}
