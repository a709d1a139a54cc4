//! Items the grammar cannot parse as written: a macro in declaration
//! position (`RAFT_KERNEL void k(...)`, `struct __align__(8) S`), a macro
//! that opens a namespace, an `#if` that splits a declaration. Such an item
//! is preprocessed (its conditionals decided, its macros expanded), parsed
//! again from the expanded text, and lowered from that tree through a
//! [`SourceMap`], so every span still points at what the user wrote.
//!
//! Clean items never come here: they are lowered from the file's own tree,
//! which stays incremental. An item that still does not parse after
//! expansion gets one note, at low severity (cudalens is not the compiler).

use std::path::Path;

use std::sync::Arc;

use tree_sitter::Node;

use super::builder::{Builder, Cx, ExpandedRegion, IncludeSite, MAX_SYNTAX_NOTES};
use super::source_map::SourceMap;
use crate::document::parse;
use crate::preprocess::conditionals::Conditionals;
use crate::preprocess::lex::{TokKind, Token, tokenize_spans};
use crate::preprocess::macros::MacroDef;
use crate::preprocess::scan::{self, Directive};
use crate::span::{Severity, Span};

impl Builder<'_> {
    /// Applies a directive that is not a conditional, written at `line` (a
    /// span in `file`, `None`: the main file) with the text `text`.
    pub(super) fn apply_directive(
        &mut self,
        cx: &Cx,
        file: Option<&Path>,
        line: Span,
        text: &str,
        d: &Directive,
    ) {
        match d {
            Directive::Define {
                name,
                name_at,
                params,
                body,
            } => {
                let def = MacroDef {
                    name: name.clone(),
                    params: params.clone(),
                    body: crate::preprocess::lex::tokenize(body),
                    file: file.map(Path::to_path_buf),
                    name_span: Span::new(line.start + name_at.start, line.start + name_at.end),
                };
                self.add_macro(def, text);
            }
            Directive::Undef(name) => self.undef(name),
            Directive::Include { written, system } => {
                let site = IncludeSite {
                    from: file,
                    span: line,
                    path_span: line,
                };
                self.follow_include(cx, written, *system, site);
            }
            Directive::Pragma(arg) => self.pragma(file, arg),
            _ => {}
        }
    }

    /// The value of a conditional directive read from text in `file`.
    pub(super) fn directive_value(&self, d: &Directive, file: Option<&Path>) -> bool {
        match d {
            Directive::Ifdef { name, negated } | Directive::Elifdef { name, negated } => {
                self.macros.is_defined(name) != *negated
            }
            Directive::If(c) | Directive::Elif(c) => self.pp_condition(c, file).unwrap_or(false),
            _ => false,
        }
    }

    /// The file's top-level nodes. Under a broken root (see
    /// [`crate::SyntaxTrees::root_is_broken`]) each run of fragments, from
    /// the first up to the next node that starts an item at the start of a
    /// line, is one region: preprocessed (which picks one arm of the `#if`
    /// that split it) and parsed again. The whole items between are lowered
    /// as in any file, and cached as such, so an edit in one of them no
    /// longer re-expands the whole file.
    pub(super) fn top_level_items(&mut self, cx: &Cx, nodes: &[Node], broken_root: bool) {
        if !broken_root {
            return self.item_list(cx, nodes);
        }
        for (run, fragments) in broken_root_runs(nodes) {
            let run = &nodes[run];
            if !fragments {
                self.item_list(cx, run);
                continue;
            }
            if self.out_of_time(run[0].start_byte()) {
                return;
            }
            let span = Span::new(run[0].start_byte(), run[run.len() - 1].end_byte());
            self.expanded_items(cx, span);
        }
    }

    /// Lowers the items of one list (a file's top level, a namespace's
    /// body, an active `#if` branch): clean nodes as they are, each run of
    /// nodes with syntax errors from its preprocessed text.
    pub(super) fn item_list(&mut self, cx: &Cx, nodes: &[Node]) {
        let mut i = 0;
        while i < nodes.len() {
            let node = nodes[i];
            if self.out_of_time(cx.span(node).start) {
                return;
            }
            let broken = node.has_error() && !intact_container(node);
            if !(broken || cx.is_raw() && self.declared_through_macro(cx, node)) {
                if node.is_named() {
                    self.items(cx, node, None);
                }
                i += 1;
                continue;
            }
            // A run of broken nodes, with a `;` that ends the last one.
            let mut end = i + 1;
            while end < nodes.len()
                && (nodes[end].has_error() && !intact_container(nodes[end])
                    || cx.text(nodes[end]).trim() == ";")
            {
                end += 1;
            }
            // A run that stops mid-declaration (`template <...> CUTLASS_GLOBAL`
            // before an `#ifdef` holding its `__launch_bounds__`) takes the
            // nodes after it up to the end of the declaration.
            let mut extra = 0;
            while end < nodes.len()
                && extra < MAX_RUN_EXTENSION
                && !run_ends_an_item(cx, &nodes[i..end])
            {
                end += 1;
                extra += 1;
            }
            // A run that leaves a brace open (`union U { struct __align__(8)
            // { short lo, hi; }; unsigned int w; };`, which the grammar
            // splits at the inner struct's end, the union's other members
            // read as file-scope declarations) takes the nodes up to the
            // brace that closes it.
            let mut open = brace_balance(
                Span::new(nodes[i].start_byte(), nodes[end - 1].end_byte()).text(cx.src),
            );
            while open > 0 && end < nodes.len() && extra < MAX_RUN_EXTENSION {
                open += brace_balance(cx.text(nodes[end]));
                end += 1;
                extra += 1;
                while end < nodes.len() && cx.text(nodes[end]).trim() == ";" {
                    end += 1;
                }
            }
            let run = &nodes[i..end];
            if cx.is_raw() {
                let span = Span::new(run[0].start_byte(), run[end - i - 1].end_byte());
                self.expanded_items(cx, span);
            } else {
                // Already expanded text: lower what parsed, say what did not.
                for &n in run {
                    self.items(cx, n, None);
                }
                self.unparsed_note(cx, run);
            }
            i = end;
        }
    }

    /// A declaration that parsed, but only because a macro stands where
    /// the grammar saw something else: `template <...> RAFT_KERNEL k(...)`
    /// reads as a function returning `RAFT_KERNEL` until the macro (`static
    /// __global__ void`) is expanded, and `DEFINE_KERNEL(name, int N) {...}`
    /// as a function named `DEFINE_KERNEL` (C's implicit `int`) until the
    /// macro writes the kernel's real head.
    fn declared_through_macro(&self, cx: &Cx, node: Node) -> bool {
        let decl = if node.kind() == "template_declaration" {
            let mut c = node.walk();
            node.named_children(&mut c)
                .filter(|n| matches!(n.kind(), "function_definition" | "declaration"))
                .last()
        } else {
            Some(node)
        };
        let Some(decl) = decl.filter(|d| matches!(d.kind(), "function_definition" | "declaration"))
        else {
            return false;
        };
        match decl.child_by_field_name("type") {
            Some(t) => t.kind() == "type_identifier" && self.macros.is_defined(cx.text(t)),
            None => decl
                .child_by_field_name("declarator")
                .filter(|d| d.kind() == "function_declarator")
                .and_then(|d| d.child_by_field_name("declarator"))
                .is_some_and(|name| {
                    self.macros
                        .get(cx.text(name))
                        .is_some_and(|m| m.params.is_some())
                }),
        }
    }

    /// One note for a run of nodes that does not parse (main file only).
    fn unparsed_note(&mut self, cx: &Cx, run: &[Node]) {
        if !cx.is_main() {
            return;
        }
        // Each item of the run (a function each) records its own first
        // error: one broken function must not hide the next. The note
        // names the run's first.
        let errors: Vec<Node> = run.iter().filter_map(|n| first_error(*n)).collect();
        self.model
            .unparsed
            .extend(errors.iter().map(|e| cx.span(*e)));
        let notes = self
            .model
            .diagnostics
            .iter()
            .filter(|d| d.code == "syntax")
            .count();
        if notes >= MAX_SYNTAX_NOTES {
            return;
        }
        let Some(&first_error) = errors.first() else {
            return;
        };
        let span = cx.span(first_error);
        let shown = snippet(cx.text(first_error).lines().next().unwrap_or("").trim(), 40);
        let what = if first_error.is_missing() {
            format!("a missing `{}`", first_error.kind())
        } else {
            format!("`{shown}`")
        };
        self.diag(
            cx,
            span,
            Severity::Info,
            "syntax",
            format!(
                "cudalens cannot parse this code at {what}, even with its macros expanded; \
                 what it declares is analysed only as far as it parsed"
            ),
        );
    }

    /// Preprocesses the source bytes `span` of `cx` (raw text), parses the
    /// result and lowers its items through a source map.
    fn expanded_items(&mut self, cx: &Cx, span: Span) {
        // The expansion depends only on the text and the macros in force
        // when the region's directives are conditionals (their one side
        // effect, the inactive spans, is kept with it): the previous build's
        // is reused, or an edit anywhere in a file of macro-declared kernels
        // would re-expand and re-parse them all. A region that defines or
        // includes is expanded every time, for its effects.
        let region = span.text(cx.src);
        let reusable = scan::lines(region)
            .iter()
            .filter(|l| l.directive)
            .all(|l| only_decides_conditionals(&scan::directive(l.range.text(region))));
        // What the header's build left out of the region changes its text.
        let left_out: Vec<u8> = cx
            .skipped
            .iter()
            .filter(|r| r.start < span.end && r.end > span.start)
            .flat_map(|r| [r.start.to_le_bytes(), r.end.to_le_bytes()])
            .flatten()
            .collect();
        let key = crate::fingerprint::hash_parts(&[
            cx.file
                .map_or(&b""[..], |f| f.as_os_str().as_encoded_bytes()),
            region.as_bytes(),
            &self.macro_hash.to_le_bytes(),
            &left_out,
        ]);
        let cached = reusable
            .then(|| {
                self.old_regions
                    .remove(&key)
                    .or_else(|| self.new_regions.get(&key).cloned())
            })
            .flatten();
        let expanded = match cached {
            Some(e) => {
                let e = match e.start == span.start {
                    true => e,
                    false => Arc::new(e.moved_to(span.start)),
                };
                self.model.inactive.extend_from_slice(&e.inactive);
                e
            }
            None => {
                let inactive_before = self.model.inactive.len();
                let (text, mut map) = self.expand_region(cx, span);
                map.key = key;
                let Some(tree) = parse(&mut self.expansion_parser, &text, None) else {
                    return;
                };
                Arc::new(ExpandedRegion {
                    start: span.start,
                    text,
                    map,
                    tree,
                    inactive: self.model.inactive[inactive_before..].to_vec(),
                })
            }
        };
        if reusable {
            self.new_regions.insert(key, expanded.clone());
        }
        let ecx = Cx {
            src: &expanded.text,
            file: cx.file,
            origin: None,
            map: Some(&expanded.map),
            skipped: cx.skipped,
        };
        let root = expanded.tree.root_node();
        let mut c = root.walk();
        let children: Vec<Node> = root.children(&mut c).collect();
        self.item_list(&ecx, &children);
    }

    /// The preprocessed text of `span` (conditionals decided, directives
    /// applied, macros expanded) and its map back to the source.
    fn expand_region(&mut self, cx: &Cx, span: Span) -> (String, SourceMap) {
        let src = cx.src;
        let region = span.text(src);
        let mut pieces: Vec<(Token, Span)> = Vec::new();
        let mut pending: Vec<(Token, Span)> = Vec::new();
        let mut conds = Conditionals::default();
        let mut inactive_from: Option<usize> = None;
        // Code lines are tokenized in runs, so a block comment that spans
        // lines stays a comment.
        let mut code: Option<Span> = None;
        for line in scan::lines(region) {
            let abs = Span::new(span.start + line.range.start, span.start + line.range.end);
            let line_text = abs.text(src);
            if !line.directive {
                if conds.active() {
                    code = Some(code.map_or(abs, |c| Span::new(c.start, abs.end)));
                }
                continue;
            }
            if let Some(run) = code.take() {
                pending.extend(tokens_outside(src, run, cx.skipped));
            }
            // A directive ends the code before it (an invocation spanning a
            // directive is left as written).
            self.flush(cx, &mut pending, &mut pieces);
            let d = scan::directive(line_text);
            let was_active = conds.active();
            let is_conditional = conds.apply(&d, |d| self.directive_value(d, cx.file));
            if is_conditional {
                let now_active = conds.active();
                if cx.is_main() {
                    match (was_active, now_active) {
                        (true, false) => inactive_from = Some(abs.end),
                        (false, _) => {
                            if let Some(from) = inactive_from.take() {
                                self.model.inactive.push(Span::new(from, abs.start));
                            }
                            if !now_active {
                                inactive_from = Some(abs.end);
                            }
                        }
                        _ => {}
                    }
                }
                continue;
            }
            if !conds.active() {
                continue;
            }
            if let Directive::Pragma(arg) = &d
                && arg.starts_with("unroll")
            {
                // Kept in the text: it belongs to the loop that follows,
                // which lowering pairs it with.
                pieces.push((pragma_line(arg), abs));
                continue;
            }
            self.apply_directive(cx, cx.file, abs, line_text, &d);
        }
        if let Some(run) = code.take() {
            pending.extend(tokens_outside(src, run, cx.skipped));
        }
        self.flush(cx, &mut pending, &mut pieces);
        if let Some(from) = inactive_from
            && cx.is_main()
        {
            self.model.inactive.push(Span::new(from, span.end));
        }
        let keep = balanced(&pieces);
        let mut out = String::with_capacity(region.len() + region.len() / 4);
        let mut map = SourceMap::default();
        let mut prev: Option<&Token> = None;
        for ((t, s), keep) in pieces.iter().zip(keep) {
            if keep {
                map.push(&mut out, prev, t, *s, src);
                prev = Some(t);
            }
        }
        (out, map)
    }

    /// Expands the pending tokens and appends them to `pieces`.
    fn flush(
        &mut self,
        cx: &Cx,
        pending: &mut Vec<(Token, Span)>,
        pieces: &mut Vec<(Token, Span)>,
    ) {
        if pending.is_empty() {
            return;
        }
        let tokens = std::mem::take(pending);
        let expanded = match self.macros.expand_mapped(tokens.clone()) {
            Ok(e) => e,
            Err(err) => {
                let at = self.failing_invocation(&tokens).unwrap_or(tokens[0].1);
                self.diag(cx, at, Severity::Hint, "macro-recursion", err.to_string());
                tokens
            }
        };
        let mut i = 0;
        while i < expanded.len() {
            let (t, s) = &expanded[i];
            // `_Pragma("unroll")` (from a macro such as CUTLASS_PRAGMA_UNROLL)
            // becomes the `#pragma` line it stands for; other pragmas
            // (diagnostics, `nv_diag_suppress`) are dropped.
            if t.kind == TokKind::Ident
                && t.text == "_Pragma"
                && let [(open, _), (arg, _), (close, _), ..] = &expanded[i + 1..]
                && open.is("(")
                && arg.kind == TokKind::Str
                && close.is(")")
            {
                let inner = arg.text.strip_prefix('"').unwrap_or(&arg.text);
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                if inner.trim_start().starts_with("unroll") {
                    pieces.push((pragma_line(inner.trim()), *s));
                }
                i += 4;
                continue;
            }
            // `#pragma unroll` as a macro's body (CUTLASS_PRAGMA_UNROLL under
            // nvcc): nvcc honours it; the tokens of the expansion, which all
            // map to the invocation, are the pragma.
            if t.is("#")
                && let Some((next, _)) = expanded.get(i + 1)
                && next.kind == TokKind::Ident
                && next.text == "pragma"
            {
                let len = expanded[i..].iter().take_while(|(_, at)| at == s).count();
                // `len` counts the tokens mapped to the invocation from
                // `#`: a `pragma` mapped elsewhere makes it 1.
                let words: Vec<&str> = expanded
                    .get(i + 2..i + len)
                    .unwrap_or_default()
                    .iter()
                    .map(|(t, _)| t.text.as_str())
                    .collect();
                if words.first() == Some(&"unroll") {
                    pieces.push((pragma_line(&words.join(" ")), *s));
                }
                i += len.max(2);
                continue;
            }
            pieces.push((t.clone(), *s));
            i += 1;
        }
    }
}

/// The tokens of the source bytes `run`, with their spans in the source.
/// The tokens of `run` outside the ranges a header's build left out of its
/// tree (`skipped`, in order; each starts and ends between tokens): what
/// the parse left out, the preprocessed text leaves out too.
fn tokens_outside(src: &str, run: Span, skipped: &[std::ops::Range<usize>]) -> Vec<(Token, Span)> {
    let mut out = Vec::new();
    let mut from = run.start;
    let first = skipped.partition_point(|r| r.end <= run.start);
    for r in skipped[first..].iter().take_while(|r| r.start < run.end) {
        if r.start > from {
            out.extend(tokens_at(src, Span::new(from, r.start)));
        }
        from = from.max(r.end);
    }
    if from < run.end {
        out.extend(tokens_at(src, Span::new(from, run.end)));
    }
    out
}

fn tokens_at(src: &str, run: Span) -> impl Iterator<Item = (Token, Span)> {
    tokenize_spans(run.text(src))
        .into_iter()
        .map(move |(t, s)| (t, Span::new(run.start + s.start, run.start + s.end)))
}

impl Builder<'_> {
    /// The first macro invocation among `tokens` whose expansion alone
    /// exceeds the limits (asked only once the whole run failed).
    fn failing_invocation(&self, tokens: &[(Token, Span)]) -> Option<Span> {
        for (k, (t, span)) in tokens.iter().enumerate() {
            let Some(def) = self
                .macros
                .get(&t.text)
                .filter(|_| t.kind == TokKind::Ident)
            else {
                continue;
            };
            let mut end = k + 1;
            if def.params.is_some() && tokens.get(end).is_some_and(|(t, _)| t.is("(")) {
                let mut depth = 0usize;
                while end < tokens.len() {
                    if tokens[end].0.is("(") {
                        depth += 1;
                    } else if tokens[end].0.is(")") {
                        depth -= 1;
                        if depth == 0 {
                            end += 1;
                            break;
                        }
                    }
                    end += 1;
                }
            }
            if self.macros.expand_mapped(tokens[k..end].to_vec()).is_err() {
                return Some(Span::new(span.start, tokens[end - 1].1.end));
            }
        }
        None
    }
}

/// A `#pragma` kept in expanded text, on a line of its own.
fn pragma_line(arg: &str) -> Token {
    Token {
        kind: TokKind::Punct,
        text: format!("\n#pragma {arg}\n"),
        space_before: true,
    }
}

/// Which tokens of a region's expansion to keep for the grammar:
/// - namespaces that balance: a macro such as `CUB_NAMESPACE_BEGIN` opens
///   `namespace cub { inline namespace v {` in one item and its `_END`
///   closes them in another, so a region holds openers without closers or
///   closers without openers; those are dropped (namespaces do not change
///   what cudalens models), and so are GNU attributes on namespaces;
/// - CUDA's extended lambdas, `[=] __device__ (int i) {...}` (RAFT, ggml):
///   the execution space after the capture list, which the C++ grammar
///   does not know, is dropped;
/// - `extern template` (an explicit instantiation declaration, ggml's
///   fattn-mma-f16.cuh) reads as the `template` instantiation it declares.
fn balanced(tokens: &[(Token, Span)]) -> Vec<bool> {
    let mut keep = vec![true; tokens.len()];
    for i in 1..tokens.len() {
        let t = &tokens[i].0;
        let lambda_space = t.kind == TokKind::Ident
            && matches!(t.text.as_str(), "__device__" | "__host__")
            && (tokens[i - 1].0.is("]") || !keep[i - 1]);
        if lambda_space {
            keep[i] = false;
        }
        if t.text == "template" && tokens[i - 1].0.text == "extern" {
            keep[i - 1] = false;
        }
    }
    // Open braces: (the brace's index, where its namespace header starts).
    let mut open: Vec<(usize, Option<usize>)> = Vec::new();
    let mut header_start: Option<usize> = None;
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i].0;
        match t.text.as_str() {
            "namespace" if t.kind == TokKind::Ident => {
                let inline = i > 0 && tokens[i - 1].0.text == "inline";
                header_start = Some(if inline { i - 1 } else { i });
            }
            "__attribute__" if header_start.is_some() => {
                // `__attribute__((...))` up to its balanced closing parenthesis.
                let mut depth = 0usize;
                let mut j = i + 1;
                while j < tokens.len() {
                    if tokens[j].0.is("(") {
                        depth += 1;
                    } else if tokens[j].0.is(")") {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            break;
                        }
                    }
                    j += 1;
                }
                for k in keep.iter_mut().take((j + 1).min(tokens.len())).skip(i) {
                    *k = false;
                }
                i = j + 1;
                continue;
            }
            "{" if t.kind == TokKind::Punct => open.push((i, header_start.take())),
            // Every `}` closes the innermost open brace; one with none open is dropped.
            "}" if t.kind == TokKind::Punct && open.pop().is_none() => keep[i] = false,
            ";" if t.kind == TokKind::Punct => header_start = None,
            _ => {}
        }
        i += 1;
    }
    for (brace, header) in open {
        if let Some(start) = header {
            for k in keep.iter_mut().take(brace + 1).skip(start) {
                *k = false;
            }
        }
    }
    keep
}

/// Nodes a run of broken nodes takes after it to reach the end of its
/// declaration, at most.
const MAX_RUN_EXTENSION: usize = 16;

/// A directive whose only effect in a region is deciding what is active
/// (`#pragma unroll` stays in the text for the loop after it).
fn only_decides_conditionals(d: &Directive) -> bool {
    match d {
        Directive::If(_)
        | Directive::Ifdef { .. }
        | Directive::Elif(_)
        | Directive::Elifdef { .. }
        | Directive::Else
        | Directive::Endif => true,
        Directive::Pragma(arg) => arg.starts_with("unroll"),
        _ => false,
    }
}

/// Kinds of node that make a whole top-level item (or a part of the file
/// outside any item: comments, directives).
const ITEM_KINDS: &[&str] = &[
    "function_definition",
    "template_declaration",
    "template_instantiation",
    "declaration",
    "type_definition",
    "alias_declaration",
    "using_declaration",
    "static_assert_declaration",
    "namespace_definition",
    "namespace_alias_definition",
    "linkage_specification",
    "concept_definition",
];

/// The children of a broken root in runs, each with whether it is a run of
/// fragments (see [`Builder::top_level_items`]): whole items up to the first
/// fragment, then the fragments up to the next node that starts an item.
pub(super) fn broken_root_runs(nodes: &[Node]) -> Vec<(std::ops::Range<usize>, bool)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < nodes.len() {
        let first_fragment = nodes[i..]
            .iter()
            .position(|&n| is_fragment(n))
            .map_or(nodes.len(), |p| i + p);
        if first_fragment == nodes.len() {
            runs.push((i..first_fragment, false));
            break;
        }
        // A run starts at the start of a line: a fragment in mid-line (the
        // `;` after a `#define` whose `}` closed a namespace for the grammar,
        // in CUB's `util_type.cuh`) takes the nodes of its line with it.
        let start = (i..=first_fragment)
            .rev()
            .find(|&k| nodes[k].start_position().column == 0)
            .unwrap_or(i);
        if start > i {
            runs.push((i..start, false));
        }
        let end = nodes[first_fragment + 1..]
            .iter()
            .position(|&n| starts_an_item(n))
            .map_or(nodes.len(), |p| first_fragment + 1 + p);
        runs.push((start..end, true));
        i = end;
    }
    runs
}

/// A child of a broken root that starts a whole item: an item's kind, at
/// the start of its line (a declaration indented inside a function whose
/// braces the grammar lost is a fragment of that function).
fn starts_an_item(n: Node) -> bool {
    ITEM_KINDS.contains(&n.kind()) && n.start_position().column == 0
}

/// A child of a broken root that is part of an item the grammar could not
/// fit (a lone `template`, `{`, a statement, ...). Comments and directives
/// are neither: they belong to whatever run they stand in.
fn is_fragment(n: Node) -> bool {
    let neutral = n.kind() == "comment" || n.kind().starts_with("preproc_");
    !neutral && !starts_an_item(n)
}

/// A run of nodes ends with a whole declaration. Its last node decides
/// (the whole run's text only when that node holds no code at all).
fn run_ends_an_item(cx: &Cx, run: &[Node]) -> bool {
    let last = run[run.len() - 1];
    tail_ends_an_item(cx.text(last)).unwrap_or_else(|| {
        let whole = Span::new(run[0].start_byte(), last.end_byte());
        tail_ends_an_item(whole.text(cx.src)).unwrap_or(true)
    })
}

/// [`ends_an_item`] on the text's last lines, widened until they hold code:
/// a run's last node can be a function of hundreds of lines, and only its
/// last token matters. A window that starts inside a block comment (a `*/`
/// without its `/*`) is widened too.
fn tail_ends_an_item(text: &str) -> Option<bool> {
    let mut window = 512;
    while window < text.len() {
        // The window starts after a newline, which is a char boundary in
        // UTF-8 wherever the byte count put it.
        let start = text.len() - window;
        let newline = text.as_bytes()[start..].iter().position(|&b| b == b'\n');
        let from = newline.map_or(text.len(), |i| start + i + 1);
        let tail = &text[from..];
        let opens = tail.find("/*");
        let closes_earlier = tail.find("*/").is_some_and(|c| opens.is_none_or(|o| c < o));
        let continued = text[..from].trim_end_matches(['\n', '\r']).ends_with('\\');
        if !closes_earlier
            && !continued
            && let Some(ends) = ends_an_item(tail)
        {
            return Some(ends);
        }
        window *= 4;
    }
    ends_an_item(text)
}

/// Whether the text's last code token (directive lines and comments aside)
/// ends a declaration, `;` or `}`; `None` when it holds no code.
fn ends_an_item(text: &str) -> Option<bool> {
    let mut code = String::with_capacity(text.len());
    for l in scan::lines(text) {
        if !l.directive {
            code.push_str(l.range.text(text));
        }
        code.push('\n');
    }
    crate::preprocess::lex::tokenize(&code)
        .pop()
        .map(|last| last.is(";") || last.is("}"))
}

/// A namespace, `extern "C"` block or `#if` whose own structure parsed:
/// its broken items are handled one by one inside it.
fn intact_container(n: Node) -> bool {
    match n.kind() {
        "namespace_definition" | "linkage_specification" => {
            let Some(body) = n.child_by_field_name("body") else {
                return false;
            };
            let mut c = n.walk();
            let own_ok = n
                .children(&mut c)
                .filter(|ch| ch.id() != body.id())
                .all(|ch| !ch.has_error());
            let closed = body
                .child(body.child_count().saturating_sub(1))
                .is_some_and(|last| last.kind() == "}" && !last.is_missing());
            own_ok && body.kind() == "declaration_list" && closed
        }
        "preproc_if" | "preproc_ifdef" | "preproc_elif" | "preproc_elifdef" | "preproc_else" => n
            .child_by_field_name("condition")
            .or_else(|| n.child_by_field_name("name"))
            .is_none_or(|c| !c.has_error()),
        _ => false,
    }
}

/// The first ERROR or MISSING node in `n`, in source order.
fn first_error(n: Node) -> Option<Node> {
    if n.is_error() || n.is_missing() {
        return Some(n);
    }
    if !n.has_error() {
        return None;
    }
    let mut c = n.walk();
    let children: Vec<Node> = n.children(&mut c).collect();
    children.into_iter().find_map(first_error)
}

#[cfg(test)]
mod tests {
    use super::{broken_root_runs, tail_ends_an_item};

    /// Two functions in a row that open a brace in both arms of an `#if`
    /// (as ggml's `mmq-load-tiles.cuh` does) make the whole file's root an
    /// ERROR; the items before and after stay whole, the two broken ones
    /// (with the directives inside them) make one run.
    #[test]
    fn a_broken_root_splits_into_whole_items_and_runs_of_fragments() {
        let broken = "template <int W> __global__ void NAME(float* x, int n) {\n\
                      \x20   int i = threadIdx.x;\n\
                      #if defined(WIDE)\n    if (i < n) {\n#else\n    {\n#endif\n\
                      \x20       x[i] = 1.0f;\n    }\n}\n\n";
        let text = format!(
            "#include \"defs.cuh\"\n__device__ int twice(int a) {{ return a * 2; }}\n\n{}{}\
             // after\n__global__ void after(float* y) {{ y[threadIdx.x] = twice(1); }}\n",
            broken.replace("NAME", "split"),
            broken.replace("NAME", "split_again"),
        );
        let trees =
            crate::SyntaxTrees::parse_whole(&mut crate::document::cuda_parser(), &text).unwrap();
        assert!(
            trees.root_is_broken(),
            "the grammar now fits it: pick another case"
        );
        let nodes = trees.top_level();
        let runs: Vec<(String, bool)> = broken_root_runs(&nodes)
            .into_iter()
            .map(|(r, fragments)| {
                let span = nodes[r.start].start_byte()..nodes[r.end - 1].end_byte();
                (text[span].lines().next().unwrap().to_string(), fragments)
            })
            .collect();
        assert_eq!(
            runs,
            [
                ("#include \"defs.cuh\"".to_string(), false),
                (
                    "template <int W> __global__ void split(float* x, int n) {".to_string(),
                    true
                ),
                (
                    "__global__ void after(float* y) { y[threadIdx.x] = twice(1); }".to_string(),
                    false
                ),
            ]
        );
    }

    /// Only the last code token counts, however long the text: a comment
    /// opened before the window, a continued directive or trailing
    /// directives do not fool it.
    #[test]
    fn the_last_code_token_decides() {
        let body = "  x += 1; // é😀\n".repeat(400);
        let function = format!("void f() {{\n{body}}}\n");
        assert_eq!(tail_ends_an_item(&function), Some(true));
        let open = format!("void f() {{\n{body}  g(");
        assert_eq!(tail_ends_an_item(&open), Some(false));
        let comment = format!("void f() {{\n{body}}}\n/*\n{}*/\n", "  x;\n".repeat(200));
        assert_eq!(tail_ends_an_item(&comment), Some(true));
        let directive = format!(
            "int a = 1;\n#define M(x) \\\n{}  }}\n",
            "  x; \\\n".repeat(200)
        );
        assert_eq!(tail_ends_an_item(&directive), Some(true));
        let continued = format!("KERNEL(k)\n#if 1\n{}#endif\n", "// note\n".repeat(300));
        assert_eq!(tail_ends_an_item(&continued), Some(false));
        assert_eq!(tail_ends_an_item("// nothing\n"), None);
    }
}

/// At most `max` characters of `line` for a message, cut between words (a
/// cut inside `__attribute__((aligned(16)))` left unbalanced brackets), with
/// "…" when something was left out.
fn snippet(line: &str, max: usize) -> String {
    if line.chars().count() <= max {
        return line.to_string();
    }
    let mut out = String::new();
    for word in line.split_whitespace() {
        let len = out.chars().count() + usize::from(!out.is_empty()) + word.chars().count();
        if len > max {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() {
        out = line.chars().take(max).collect();
    }
    out.push_str(" …");
    out
}

#[cfg(test)]
mod snippet_tests {
    use super::snippet;

    #[test]
    fn long_lines_are_cut_between_words_and_say_so() {
        assert_eq!(snippet("= (1.0f +", 40), "= (1.0f +");
        assert_eq!(
            snippet(
                "typedef struct __attribute__((aligned(16))) { float a; } T;",
                40
            ),
            "typedef struct …"
        );
        assert_eq!(
            snippet(&"x".repeat(50), 40),
            format!("{} …", "x".repeat(40))
        );
    }
}

/// `{` less `}` among the tokens of `text` (strings and comments aside).
fn brace_balance(text: &str) -> i64 {
    let mut balance = 0i64;
    for (t, _) in tokenize_spans(text) {
        if t.kind == TokKind::Punct {
            match t.text.as_str() {
                "{" => balance += 1,
                "}" => balance -= 1,
                _ => {}
            }
        }
    }
    balance
}
