//! Walks a translation unit in source order, running the preprocessor as it
//! goes (so each macro applies from its definition on), and records functions,
//! globals, types and launch sites.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use tree_sitter::Node;

use super::builder::{
    BuildOptions, Builder, Cx, DEFAULT_CUDA_ARCH, ExpandedRegion, IncludeSite,
    MAX_FULL_HEADER_BYTES, MAX_NESTING, MacroOnlyHeaders, MissingInclude, Preamble, Template,
};
use super::header_bodies::{self, Plan};
use super::headers::{HeaderStore, HeaderToParse, ParsedHeader};
use super::{
    ExecSpace, FileModel, Function, Include, LaunchBounds, Param, TemplateParam, TemplateParamKind,
};
use crate::document::cuda_parser;
use crate::fingerprint::{self, FingerprintMap, hash_parts};
use crate::ir::{Expr, ExprKind, Type, VarDecl};
use crate::preprocess::cexpr::eval_condition_with;
use crate::preprocess::conditionals::Conditionals;
use crate::preprocess::include::find_include;
use crate::preprocess::lex::tokenize;
use crate::preprocess::macros::{MacroDef, MacroTable};
use crate::preprocess::predefined::{is_toolkit_header, predefined};
use crate::preprocess::scan::{self, Directive};
use crate::span::{Severity, Span, SyntaxDiagnostic};
use crate::syntax_trees::SyntaxTrees;
use crate::types::normalize_base;

/// Lowered functions and parsed headers kept between builds of the same
/// document, so an edit re-lowers only the function it touched.
#[derive(Default)]
pub struct ModelCache {
    /// (file, text, macro state, template) hash → the function as last
    /// built and where it started then (shared with the models built).
    functions: FingerprintMap<(Arc<Function>, usize)>,
    /// Parsed headers; shared with other documents and files when made by
    /// [`ModelCache::sharing`].
    headers: Arc<HeaderStore>,
    /// Which header function bodies the builds leave out (see
    /// `header_bodies.rs`); made again when an edit names one of them.
    plan: Option<Plan>,
    /// Launch sites by caller fingerprint (see `launch::resolve_launches`).
    launches: super::launch::LaunchCache,
    /// The state after the file's leading directives (see [`Preamble`]).
    preamble: Option<Preamble>,
    /// Preprocessed and parsed items, by source text and macro state (see
    /// `region.rs`).
    regions: FingerprintMap<Arc<ExpandedRegion>>,
}

impl ModelCache {
    /// Makes the plan of `src`'s header bodies and starts parsing its
    /// headers on other threads, before `src` itself is parsed (the
    /// language server's open: the two overlap); the build of the same
    /// text takes the plan made.
    pub fn plan_ahead(&mut self, src: &str, opts: &BuildOptions) {
        if self.plan.is_none() {
            self.plan = Some(new_plan(src, opts, &self.headers));
        }
    }

    /// How many header function bodies, and how many bytes of them, the
    /// last build left out (see `header_bodies.rs`).
    pub fn header_bodies_left_out(&self) -> (usize, usize) {
        self.plan.as_ref().map_or((0, 0), Plan::left_out)
    }

    /// A cache whose headers come from (and go to) `store`, which other
    /// documents or files share.
    pub fn sharing(store: Arc<HeaderStore>) -> Self {
        ModelCache {
            headers: store,
            ..ModelCache::default()
        }
    }
}

/// Builds the model of `src` from its trees (`None` when the file was too large to parse).
pub fn build_model(src: &str, tree: Option<&SyntaxTrees>, opts: &BuildOptions) -> FileModel {
    build_model_cached(src, tree, opts, &mut ModelCache::default())
}

/// Like [`build_model`], reusing (and refreshing) `cache` from the previous build.
pub fn build_model_cached(
    src: &str,
    tree: Option<&SyntaxTrees>,
    opts: &BuildOptions,
    cache: &mut ModelCache,
) -> FileModel {
    let held = cache
        .plan
        .take()
        .and_then(|mut plan| plan.still_holds_for(src).then_some(plan));
    let plan = match held {
        Some(plan) => plan,
        None => {
            // A new plan: the headers are read again under it.
            cache.preamble = None;
            if tree.is_none() {
                Plan::off()
            } else {
                new_plan(src, opts, &cache.headers)
            }
        }
    };
    let (model, missed) = build_with_plan(src, tree, opts, cache, plan.clone());
    if !missed {
        cache.plan = Some(plan);
        return model;
    }
    // The build read a header fully that the plan's reading of the
    // `#include`s did not reach (a computed include, say): read every body.
    cache.preamble = None;
    cache.plan = Some(Plan::off());
    build_with_plan(src, tree, opts, cache, Plan::off()).0
}

/// A plan for `src` (off unless the store plans), with the headers it will
/// read handed to the store's prefetching threads.
fn new_plan(src: &str, opts: &BuildOptions, store: &Arc<HeaderStore>) -> Plan {
    if !store.plans_bodies() {
        return Plan::off();
    }
    let (plan, mut headers) = plan_header_bodies(src, opts, store);
    // What a build reads fully, about (it reads the rest for macros).
    let mut bytes = 0;
    headers.retain(|h| {
        bytes += h.text.len();
        bytes <= MAX_FULL_HEADER_BYTES
    });
    store.prefetch(headers);
    plan
}

/// Header text the plan of `header_bodies.rs` is made over at most; a file
/// that can reach more (CUTLASS's examples reach 5 to 23 MB) reads most of
/// it for macros only anyway, and gets no plan.
const MAX_PLANNED_HEADER_BYTES: usize = 2 * MAX_FULL_HEADER_BYTES;

/// The plan of `header_bodies.rs` for `src`, made over every header its
/// `#include`s can reach in whatever branch they stand, and those headers
/// in the order a build would first read them.
fn plan_header_bodies(
    src: &str,
    opts: &BuildOptions,
    store: &HeaderStore,
) -> (Plan, Vec<HeaderToParse>) {
    // Pushed last first, so the stack gives them in the order written.
    let push_includes =
        |directives: &[(Span, Directive)], from: Option<&Path>, stack: &mut Vec<_>| {
            let at = stack.len();
            for (_, d) in directives {
                if let Directive::Include { written, system } = d {
                    stack.push((from.map(Path::to_path_buf), written.clone(), *system));
                }
            }
            stack[at..].reverse();
        };
    let mut stack: Vec<(Option<PathBuf>, String, bool)> = Vec::new();
    push_includes(&scan::directives(src), None, &mut stack);
    let mut seen = HashSet::new();
    let mut headers = Vec::new();
    let mut bytes = 0;
    while let Some((from, written, system)) = stack.pop() {
        let dir = (!system)
            .then(|| from.as_deref().or(opts.path).and_then(Path::parent))
            .flatten();
        let Some(path) = find_include(&written, dir, &opts.flags.include_dirs, opts.provider)
        else {
            continue;
        };
        if opts.path == Some(path.as_path()) || !seen.insert(path.clone()) {
            continue;
        }
        let Some(text) = crate::preprocess::include::read(opts.provider, &path) else {
            continue;
        };
        bytes += text.len();
        if bytes > MAX_PLANNED_HEADER_BYTES {
            return (Plan::off(), Vec::new());
        }
        let hash = hash_parts(&[text.as_bytes()]);
        // Read once per content; the build reads them again from the store.
        let (directives, _) = store.directives(&path, hash, &text);
        push_includes(&directives, Some(&path), &mut stack);
        headers.push(HeaderToParse {
            path,
            hash,
            text,
            excluded: Arc::from([]),
        });
    }
    // Outlined once the reachable text is known to be within bounds.
    let outlines: Vec<_> = headers
        .iter()
        .map(|h| {
            (
                h.path.clone(),
                h.hash,
                store.outline(&h.path, h.hash, &h.text),
            )
        })
        .collect();
    let plan = header_bodies::plan(src, &outlines);
    for h in &mut headers {
        h.excluded = plan.excluded(&h.path, h.hash).unwrap_or_default();
    }
    (plan, headers)
}

/// One build under `plan`; also says whether the plan missed a header.
fn build_with_plan(
    src: &str,
    tree: Option<&SyntaxTrees>,
    opts: &BuildOptions,
    cache: &mut ModelCache,
    plan: Plan,
) -> (FileModel, bool) {
    let mut b = Builder::new(opts, cache.headers.clone(), plan);
    b.new_functions = fingerprint::map_with_capacity(cache.functions.len());
    b.old_functions = std::mem::take(&mut cache.functions);
    b.old_regions = std::mem::take(&mut cache.regions);
    b.predefine();
    let Some(tree) = tree else {
        b.model.diagnostics.push(SyntaxDiagnostic {
            span: Span::new(0, 0),
            severity: Severity::Info,
            code: "file-too-large",
            message: format!(
                "cudalens skipped this file: it is larger than {} MB",
                crate::document::MAX_PARSE_BYTES / (1024 * 1024)
            ),
        });
        return (b.model, false);
    };
    let cx = Cx {
        src,
        file: None,
        origin: None,
        map: None,
        skipped: &[],
    };
    let top_level = tree.top_level();
    let broken_root = tree.root_is_broken();
    let mut preamble_len = preamble_len(src, &top_level);
    if broken_root {
        // The preamble never takes part of a run of fragments.
        let first_run = super::region::broken_root_runs(&top_level)
            .into_iter()
            .find_map(|(run, fragments)| fragments.then_some(run.start));
        preamble_len = preamble_len.min(first_run.unwrap_or(usize::MAX));
    }
    let rest = match preamble_len {
        0 => &top_level[..],
        n => {
            let end = top_level[n - 1].end_byte();
            let key = hash_parts(&[
                &src.as_bytes()[..end],
                &b.macro_hash.to_le_bytes(),
                opts.path
                    .map_or(&b""[..], |p| p.as_os_str().as_encoded_bytes()),
            ]);
            match cache
                .preamble
                .take()
                .filter(|p| b.preamble_is_current(p, key))
            {
                Some(p) => {
                    b.restore(&p);
                    cache.preamble = Some(p);
                }
                None => {
                    b.top_level_items(&cx, &top_level[..n], broken_root);
                    cache.preamble = (b.out_of_time.is_none()).then(|| b.snapshot(key));
                }
            }
            &top_level[n..]
        }
    };
    b.top_level_items(&cx, rest, broken_root);
    b.report_budgets();
    b.model.macros = b.macros;
    b.model.index_functions();
    super::launch::resolve_launches(&mut b.model, &mut cache.launches);
    cache.functions = b.new_functions;
    cache.regions = b.new_regions;
    (b.model, b.plan_missed)
}

impl<'o> Builder<'o> {
    /// A builder with nothing read yet and no previous build to reuse.
    pub(super) fn new(
        opts: &'o BuildOptions<'o>,
        store: Arc<HeaderStore>,
        plan: super::header_bodies::Plan,
    ) -> Self {
        Builder {
            opts,
            model: FileModel::default(),
            macros: MacroTable::default(),
            include_stack: Vec::new(),
            expansion_parser: cuda_parser(),
            store,
            once: HashSet::new(),
            guards: HashMap::new(),
            full_header_bytes: 0,
            macro_only: MacroOnlyHeaders::default(),
            main_include: None,
            headers_read: Vec::new(),
            missing_includes: Vec::new(),
            out_of_time: None,
            pending_unroll: None,
            packing: Vec::new(),
            macro_hash: 0,
            launches_lowered: 0,
            nesting: 0,
            nesting_reported: false,
            nesting_refusals: 0,
            expansions: HashMap::new(),
            stmt_shapes: HashMap::new(),
            old_functions: FingerprintMap::default(),
            new_functions: FingerprintMap::default(),
            old_regions: FingerprintMap::default(),
            new_regions: FingerprintMap::default(),
            plan,
            plan_missed: false,
            namespaces: Vec::new(),
            receiver: None,
            class_template: None,
            pending_exec: Vec::new(),
        }
    }
}

/// Words that may stand alone in a preprocessor branch before a function
/// (see `items_inner`).
const EXEC_QUALIFIERS: [&str; 6] = [
    "__device__",
    "__host__",
    "__global__",
    "__forceinline__",
    "inline",
    "static",
];

/// How many top-level nodes make the file's preamble: everything up to its
/// last `#include` (most files include at the top; ggml's `mmq.cuh` also
/// includes at line 216 of 1,598). Edits below it reuse the state after it.
fn preamble_len(src: &str, top_level: &[Node]) -> usize {
    fn has_include(src: &str, n: Node) -> bool {
        match n.kind() {
            "preproc_include" => true,
            // An unparsed item keeps its directives as text (and the word
            // alone, in a comment or a name, is no include).
            "ERROR" => {
                let text = src.get(n.byte_range()).unwrap_or("");
                crate::preprocess::scan::lines(text).iter().any(|l| {
                    l.directive
                        && matches!(
                            crate::preprocess::scan::directive(l.range.text(text)),
                            Directive::Include { .. }
                        )
                })
            }
            _ => {
                let mut c = n.walk();
                let children: Vec<Node> = n.named_children(&mut c).collect();
                children.into_iter().any(|child| has_include(src, child))
            }
        }
    }
    top_level
        .iter()
        .rposition(|n| {
            let text = src.get(n.byte_range()).unwrap_or("");
            text.contains("include") && has_include(src, *n)
        })
        .map_or(0, |i| i + 1)
}

impl<'o> Builder<'o> {
    /// `p` was made for this preamble text and flags, and every header it
    /// read still has the text it had.
    fn preamble_is_current(&self, p: &Preamble, key: u64) -> bool {
        let dirs = &self.opts.flags.include_dirs;
        p.key == key
            && p.headers.iter().all(|(path, version)| {
                crate::preprocess::include::version(self.opts.provider, path) == Some(*version)
            })
            && p.missing_includes.iter().all(|m| {
                find_include(&m.written, m.dir.as_deref(), dirs, self.opts.provider).is_none()
            })
    }

    /// The state after the preamble, for the next build.
    fn snapshot(&self, key: u64) -> Preamble {
        Preamble {
            key,
            headers: self.headers_read.clone(),
            missing_includes: self.missing_includes.clone(),
            model: self.model.clone(),
            macros: self.macros.clone(),
            macro_hash: self.macro_hash,
            once: self.once.clone(),
            guards: self.guards.clone(),
            full_header_bytes: self.full_header_bytes,
            macro_only: self.macro_only.clone(),
            launches_lowered: self.launches_lowered,
        }
    }

    /// Continues from a preamble instead of walking it.
    fn restore(&mut self, p: &Preamble) {
        self.model = p.model.clone();
        self.macros = p.macros.clone();
        self.macro_hash = p.macro_hash;
        self.once = p.once.clone();
        self.guards = p.guards.clone();
        self.full_header_bytes = p.full_header_bytes;
        self.macro_only = p.macro_only.clone();
        self.launches_lowered = p.launches_lowered;
        self.headers_read = p.headers.clone();
        self.missing_includes = p.missing_includes.clone();
    }

    pub(super) fn diag(
        &mut self,
        cx: &Cx,
        span: Span,
        severity: Severity,
        code: &'static str,
        message: String,
    ) {
        if cx.is_main() {
            let span = cx.origin.unwrap_or(span);
            self.model.diagnostics.push(SyntaxDiagnostic {
                span,
                severity,
                code,
                message,
            });
        }
    }

    /// File-scope items (and items inside namespaces, `extern "C"`, active `#if` branches).
    /// `template`: the `template<...>` declaration the items stand in, if any
    /// (its parameters are lowered only when a function is, see `function`).
    pub(super) fn items(&mut self, cx: &Cx, node: Node, template: Option<Template>) {
        if self.nesting >= MAX_NESTING {
            self.nesting_refusals += 1;
            return;
        }
        self.nesting += 1;
        self.items_inner(cx, node, template);
        self.nesting -= 1;
    }

    fn items_inner(&mut self, cx: &Cx, node: Node, template: Option<Template>) {
        // `#ifdef GPU \n __device__ \n #endif \n inline T f(...)`: the
        // grammar leaves the qualifiers alone in the branch (an `ERROR`);
        // they belong to the function that follows.
        let qualifiers_only = node.kind() == "ERROR"
            && cx
                .text(node)
                .split_whitespace()
                .all(|w| EXEC_QUALIFIERS.contains(&w))
            && !cx.text(node).trim().is_empty();
        if qualifiers_only {
            let words = cx.text(node).split_whitespace();
            self.pending_exec = (EXEC_QUALIFIERS.iter())
                .filter(|q| words.clone().any(|w| w == **q))
                .copied()
                .collect();
            return;
        }
        if !matches!(
            node.kind(),
            "function_definition"
                | "template_declaration"
                | "comment"
                | "preproc_ifdef"
                | "preproc_if"
        ) {
            self.pending_exec.clear();
        }
        match node.kind() {
            "translation_unit" | "declaration_list" | "linkage_specification" => {
                let mut c = node.walk();
                let children: Vec<Node> = node.children(&mut c).collect();
                let children: Vec<Node> = match node.kind() {
                    // `extern "C" { ... }`: the items are its body's.
                    "linkage_specification" => match field!(node, "body") {
                        Some(body) if body.kind() == "declaration_list" => {
                            let mut c = body.walk();
                            body.children(&mut c).collect()
                        }
                        Some(item) => vec![item],
                        None => Vec::new(),
                    },
                    _ => children,
                };
                self.item_list(cx, &children);
            }
            "ERROR" => {
                let mut c = node.walk();
                let children: Vec<Node> = node.named_children(&mut c).collect();
                for child in children {
                    self.items(cx, child, None);
                }
            }
            "namespace_definition" => {
                if let Some(body) = field!(node, "body") {
                    // `namespace a::b {` names two; an anonymous one none.
                    let names: Vec<String> = field!(node, "name")
                        .map(|n| {
                            cx.text(n)
                                .split("::")
                                .map(|p| p.trim().to_string())
                                .collect()
                        })
                        .unwrap_or_default();
                    let depth = self.namespaces.len();
                    self.namespaces.extend(names);
                    self.items(cx, body, None);
                    self.namespaces.truncate(depth);
                }
            }
            "template_declaration" => {
                let mut c = node.walk();
                let children: Vec<Node> = node.named_children(&mut c).collect();
                for child in children {
                    if child.kind() != "template_parameter_list" {
                        let header = Template {
                            header: node,
                            direct: true,
                        };
                        self.items(cx, child, Some(header));
                    }
                }
            }
            "function_definition" => self.function(cx, node, template),
            "declaration" => {
                let is_prototype = field_children(node, "declarator")
                    .iter()
                    .any(|d| find_function_declarator(*d).is_some());
                if is_prototype {
                    self.function(cx, node, template);
                } else {
                    let decls = self.declaration(cx, node);
                    if let Some(t) = template {
                        let params = self.template_header_params(cx, t.header);
                        for d in &decls {
                            (self.model.variable_templates).insert(d.name.clone(), params.clone());
                        }
                    }
                    self.record_globals(decls);
                }
            }
            "struct_specifier" | "class_specifier" => {
                self.class_template = template.map(|t| {
                    let params = self.template_header_params(cx, t.header);
                    let text = field!(t.header, "parameters").map_or("", |p| cx.text(p));
                    (params, text.to_string())
                });
                // `struct vec_t<T, 3> {...}`: a specialisation of `vec_t`.
                if let Some(name) = field!(node, "name")
                    && name.kind() == "template_type"
                    && let Some(base) = field!(name, "name")
                {
                    (self.model.specialized_classes).insert(cx.text(base).to_string());
                }
                if let (Some((params, _)), Some(name), Some(_)) = (
                    &self.class_template,
                    field!(node, "name"),
                    field!(node, "body"),
                ) {
                    let template = super::class_instances::ClassTemplate {
                        params: params.clone(),
                        text: cx.text(node).to_string(),
                        file: cx.file.map(Path::to_path_buf),
                        span: cx.span(node),
                    };
                    (self.model.class_templates)
                        .insert(cx.text(name).to_string(), Arc::new(template));
                }
                self.struct_def(cx, node);
                self.class_template = None;
            }
            "union_specifier" => {
                if let Some(name) = field!(node, "name") {
                    self.model.types.unions.insert(cx.text(name).to_string());
                }
                self.struct_def(cx, node);
            }
            "type_definition" => self.typedef(cx, node),
            "alias_declaration" => {
                if let Some((name, t)) = self.alias_declaration(cx, node) {
                    self.model.types.aliases.insert(name, t);
                }
            }
            "enum_specifier" => {
                let underlying = self.enum_def(cx, node);
                if let (Some(name), Some(ty)) = (field!(node, "name"), underlying) {
                    self.model
                        .types
                        .aliases
                        .insert(cx.text(name).to_string(), ty);
                }
            }
            kind if kind.starts_with("preproc_") => {
                let active = self.preproc(cx, node);
                match template {
                    // Inside an `#if` the header no longer precedes the item directly.
                    Some(t) => {
                        for child in active {
                            self.items(cx, child, Some(Template { direct: false, ..t }));
                        }
                    }
                    None => self.item_list(cx, &active),
                }
            }
            _ => {}
        }
    }

    fn record_globals(&mut self, decls: Vec<VarDecl>) {
        for d in decls {
            let is_constant = d.ty.is_const || d.constexpr;
            // `const double dx = 1.0 / 512;` is no integer constant (read as
            // one, it would be 0): floating globals are lowered from their
            // initialisers.
            let floating = matches!(
                normalize_base(&self.model.types.resolve(&d.ty).base).as_str(),
                "float" | "double" | "long double" | "half" | "__half" | "__nv_bfloat16"
            );
            if is_constant
                && !floating
                && d.dims.is_empty()
                && d.ty.pointer == 0
                && let Some(init) = &d.init
                && let Some(v) = self.model.const_env().eval(init)
            {
                self.insert_const(&d.name, None, v);
            }
            self.model.globals.push(d);
        }
    }

    // ---- preprocessor -------------------------------------------------------

    /// Defines what nvcc defines before the first line (see
    /// `preprocess::predefined`), then the file's `-D`/`-U` flags; all of
    /// it, and the include paths (which decide what an `#include` or
    /// `__has_include` finds), is part of every cache key: functions,
    /// preprocessed items and the preamble.
    fn predefine(&mut self) {
        let flags = &self.opts.flags;
        for def in predefined(flags.cuda_arch.unwrap_or(DEFAULT_CUDA_ARCH)) {
            self.macros.define(def);
        }
        for (name, value) in &flags.defines {
            self.macros.define(MacroDef::object(name, value));
        }
        for name in &flags.undefines {
            self.macros.undef(name);
        }
        let flags_text = format!(
            "{:?}",
            (
                flags.cuda_arch,
                &flags.defines,
                &flags.undefines,
                &flags.include_dirs
            )
        );
        self.macro_hash = hash_parts(&[flags_text.as_bytes()]);
    }

    /// True once the build's deadline has passed; the first time, remembers
    /// `at` (where the main file stopped being read).
    pub(super) fn out_of_time(&mut self, at: usize) -> bool {
        if self.out_of_time.is_some() {
            return true;
        }
        let late = self.opts.deadline.is_some_and(|d| Instant::now() >= d);
        if late {
            self.out_of_time = Some(at);
        }
        late
    }

    /// The notices of budgets that cut the build short.
    fn report_budgets(&mut self) {
        if let Some(at) = self.out_of_time {
            self.model.diagnostics.push(SyntaxDiagnostic {
                span: Span::new(at, at),
                severity: Severity::Info,
                code: "analysis-budget",
                message: "cudalens ran out of its time budget for this file here: what follows \
                          (and any header still being read) was not analysed"
                    .to_string(),
            });
        }
        let m = &self.macro_only;
        if let Some(span) = m.first_include {
            let mb = |b: usize| b as f64 / (1024.0 * 1024.0);
            self.model.diagnostics.push(SyntaxDiagnostic {
                span,
                severity: Severity::Hint,
                code: "headers-macros-only",
                message: format!(
                    "{} header{} ({:.1} MB) reached through this include {} read for {} macros only: \
                     the file's budget of {:.0} MB of fully read headers was used up, so the \
                     functions and types {} declare{} are unknown to the analysis",
                    m.count,
                    if m.count == 1 { "" } else { "s" },
                    mb(m.bytes),
                    if m.count == 1 { "was" } else { "were" },
                    if m.count == 1 { "its" } else { "their" },
                    mb(MAX_FULL_HEADER_BYTES),
                    if m.count == 1 { "it" } else { "they" },
                    if m.count == 1 { "s" } else { "" },
                ),
            });
        }
    }

    /// Applies a directive; for a conditional, returns the active branch's items.
    pub(super) fn preproc<'t>(&mut self, cx: &Cx, node: Node<'t>) -> Vec<Node<'t>> {
        match node.kind() {
            "preproc_def" | "preproc_function_def" => {
                self.define(cx, node);
                vec![]
            }
            "preproc_call" => {
                let directive = field!(node, "directive")
                    .map(|d| cx.text(d).to_string())
                    .unwrap_or_default();
                let arg = field!(node, "argument")
                    .map(|a| cx.text(a).trim().to_string())
                    .unwrap_or_default();
                match directive.as_str() {
                    "#undef" => self.undef(arg.split_whitespace().next().unwrap_or("")),
                    "#pragma" => self.pragma(cx.file, &arg),
                    _ => {}
                }
                vec![]
            }
            "preproc_include" => {
                self.include(cx, node);
                vec![]
            }
            "preproc_if" | "preproc_ifdef" => self.select_branch(cx, node),
            _ => vec![],
        }
    }

    /// `#pragma once` marks the file (`None`: the main file); `#pragma
    /// unroll [N]` waits for the loop it applies to.
    pub(super) fn pragma(&mut self, file: Option<&Path>, arg: &str) {
        let words: Vec<&str> = arg.split_whitespace().collect();
        match words.first() {
            Some(&"once") => {
                if let Some(f) = file.or(self.opts.path) {
                    self.once.insert(f.to_path_buf());
                }
            }
            Some(&"unroll") => {
                let n = words.get(1).and_then(|w| w.parse::<i64>().ok());
                self.pending_unroll = Some(n);
            }
            _ if arg.starts_with("pack") => {
                // `pack(push, 1)`, `pack(pop)`, `pack(2)`, `pack()`.
                let inner = arg
                    .split_once('(')
                    .and_then(|(_, r)| r.rsplit_once(')'))
                    .map_or("", |(i, _)| i);
                let parts: Vec<&str> = inner.split(',').map(str::trim).collect();
                match parts.as_slice() {
                    ["push", rest @ ..] => {
                        let value = rest.last().map(|v| v.to_string());
                        let current = self.packing.last().cloned().flatten();
                        self.packing.push(value.or(current));
                    }
                    ["pop", ..] => {
                        self.packing.pop();
                    }
                    [""] => {
                        if let Some(last) = self.packing.last_mut() {
                            *last = None;
                        }
                    }
                    [value] => match self.packing.last_mut() {
                        Some(last) => *last = Some(value.to_string()),
                        None => self.packing.push(Some(value.to_string())),
                    },
                    _ => self.packing.push(Some(inner.to_string())),
                }
            }
            _ => {}
        }
    }

    fn define(&mut self, cx: &Cx, node: Node) {
        let Some(name) = field!(node, "name") else {
            return;
        };
        let params = field!(node, "parameters").map(|p| {
            let mut c = p.walk();
            p.children(&mut c)
                .filter_map(|ch| match ch.kind() {
                    "identifier" => Some(cx.text(ch).to_string()),
                    "..." => Some("__VA_ARGS__".to_string()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        });
        let body = field!(node, "value")
            .map(|v| tokenize(cx.text(v)))
            .unwrap_or_default();
        let def = MacroDef {
            name: cx.text(name).to_string(),
            params,
            body,
            file: cx.file.map(Path::to_path_buf),
            name_span: cx.span(name),
        };
        self.add_macro(def, cx.text(node));
    }

    /// Defines `def`, written as `text` (part of the cache keys that follow).
    pub(super) fn add_macro(&mut self, def: MacroDef, text: &str) {
        self.macro_hash = hash_parts(&[&self.macro_hash.to_le_bytes(), b"def", text.as_bytes()]);
        let def = Arc::new(def);
        self.model.macro_defs.push(def.clone());
        self.macros.define_shared(def);
    }

    pub(super) fn undef(&mut self, name: &str) {
        if self.macros.is_defined(name) {
            self.macro_hash =
                hash_parts(&[&self.macro_hash.to_le_bytes(), b"undef", name.as_bytes()]);
            self.macros.undef(name);
        }
    }

    /// A `#if`/`#elif` condition's value with the macros in force (an
    /// error: cudalens cannot evaluate it).
    pub(super) fn pp_condition(
        &self,
        text: &str,
        including: Option<&Path>,
    ) -> Result<bool, String> {
        eval_condition_with(text, &self.macros, &|name, system| {
            self.has_include(name, system, including)
        })
    }

    /// `__has_include`: found where `#include` would find it, or a header
    /// of the standard library or the CUDA toolkit (which nvcc always finds).
    fn has_include(&self, name: &str, system: bool, including: Option<&Path>) -> bool {
        let dir = self.including_dir(including);
        let dir = if system { None } else { dir.as_deref() };
        find_include(name, dir, &self.opts.flags.include_dirs, self.opts.provider).is_some()
            || is_toolkit_header(name)
    }

    /// The directory `#include "..."` searches first: the including file's.
    fn including_dir(&self, including: Option<&Path>) -> Option<PathBuf> {
        including
            .or(self.opts.path)
            .and_then(Path::parent)
            .map(Path::to_path_buf)
    }

    fn select_branch<'t>(&mut self, cx: &Cx, node: Node<'t>) -> Vec<Node<'t>> {
        let mut current = Some(node);
        let mut taken = false;
        let mut active = Vec::new();
        while let Some(n) = current {
            let cond = match n.kind() {
                "preproc_if" | "preproc_elif" => {
                    let text = field!(n, "condition")
                        .map(|c| cx.text(c).to_string())
                        .unwrap_or_default();
                    match self.pp_condition(&text, cx.file) {
                        Ok(v) => v,
                        Err(msg) => {
                            let span = field!(n, "condition").map_or(cx.span(n), |c| cx.span(c));
                            self.diag(cx, span, Severity::Hint, "preprocessor", msg);
                            false
                        }
                    }
                }
                "preproc_ifdef" | "preproc_elifdef" => {
                    let name = field!(n, "name")
                        .map(|c| cx.text(c).to_string())
                        .unwrap_or_default();
                    let negated = n.child(0).is_some_and(|t| cx.text(t).ends_with("ndef"));
                    self.macros.is_defined(&name) != negated
                }
                "preproc_else" => true,
                _ => false,
            };
            let body = branch_body(n);
            if !taken && cond {
                taken = true;
                active = body;
            } else if cx.is_main()
                && let (Some(first), Some(last)) = (body.first(), body.last())
            {
                let (first, last) = (cx.span(*first), cx.span(*last));
                self.model.inactive.push(Span::new(first.start, last.end));
            }
            current = field!(n, "alternative");
        }
        active
    }

    fn include(&mut self, cx: &Cx, node: Node) {
        let Some(path_node) = field!(node, "path") else {
            return;
        };
        let raw = cx.text(path_node);
        let system = path_node.kind() == "system_lib_string";
        let written = raw.trim_matches(['"', '<', '>']).to_string();
        let site = IncludeSite {
            from: cx.file,
            span: cx.span(node),
            path_span: cx.span(path_node),
        };
        self.follow_include(cx, &written, system, site);
    }

    /// Follows `#include` of `written` (`system`: `<...>`): a header is
    /// entered at most once under `#pragma once` and never while it is
    /// being read (include guards make that a no-op anyway), read fully
    /// while the file's budget lasts and for its macros after that.
    pub(super) fn follow_include(
        &mut self,
        cx: &Cx,
        written: &str,
        system: bool,
        site: IncludeSite,
    ) {
        let including_dir = self.including_dir(site.from);
        // `<...>` searches the include paths only; `"..."` the including
        // file's directory first.
        let dir = if system {
            None
        } else {
            including_dir.as_deref()
        };
        let found = find_include(
            written,
            dir,
            &self.opts.flags.include_dirs,
            self.opts.provider,
        );
        let in_main = site.from.is_none() && cx.is_main();
        if in_main {
            self.model.includes.push(Include {
                span: site.span,
                written: written.to_string(),
                system,
                resolved: found.clone(),
            });
        }
        let Some(path) = found else {
            self.missing_includes.push(MissingInclude {
                written: written.to_string(),
                dir: dir.map(Path::to_path_buf),
            });
            if in_main && !system && !is_toolkit_header(written) {
                self.diag(
                    cx,
                    site.path_span,
                    Severity::Hint,
                    "include-not-found",
                    format!("header \"{written}\" not found next to the file or in the include paths; its macros are unknown"),
                );
            }
            return;
        };
        let guarded = self
            .guards
            .get(&path)
            .is_some_and(|g| self.macros.is_defined(g));
        if guarded
            || self.once.contains(&path)
            || self.include_stack.contains(&path)
            || self.opts.path == Some(path.as_path())
        {
            return;
        }
        let Some(text) = crate::preprocess::include::read(self.opts.provider, &path) else {
            return;
        };
        if self.include_stack.len() >= self.opts.max_include_depth {
            if !in_main {
                return;
            }
            self.diag(
                cx,
                site.span,
                Severity::Hint,
                "include-depth",
                format!(
                    "#include nesting deeper than {}: \"{written}\" not read",
                    self.opts.max_include_depth
                ),
            );
            return;
        }
        let main_offset = if in_main {
            site.span.start
        } else {
            self.main_include.map_or(0, |s| s.start)
        };
        if self.out_of_time(main_offset) {
            return;
        }
        if in_main {
            self.main_include = Some(site.span);
        }
        let hash = hash_parts(&[text.as_bytes()]);
        if let Some(version) = crate::preprocess::include::version(self.opts.provider, &path) {
            self.headers_read.push((path.clone(), version));
        }
        let (directives, guard) = self.store.directives(&path, hash, &text);
        if let Some(g) = guard {
            self.guards.insert(path.clone(), g);
        }
        self.include_stack.push(path.clone());
        if self.full_header_bytes + text.len() <= MAX_FULL_HEADER_BYTES {
            self.full_header_bytes += text.len();
            let excluded = self.plan.excluded(&path, hash).unwrap_or_else(|_| {
                self.plan_missed = true;
                Arc::from([])
            });
            let parsed = self.store.parsed(&path, hash, &text, &excluded);
            self.read_header_fully(&path, &parsed);
        } else {
            self.macro_only.count += 1;
            self.macro_only.bytes += text.len();
            if self.macro_only.first_include.is_none() {
                self.macro_only.first_include = self.main_include;
            }
            self.read_header_macros(cx, &path, &text, &directives);
        }
        self.include_stack.pop();
        if in_main {
            self.main_include = None;
        }
    }

    fn read_header_fully(&mut self, path: &Path, parsed: &ParsedHeader) {
        let Some(tree) = &parsed.tree else {
            return;
        };
        let hcx = Cx {
            src: &parsed.text,
            file: Some(path),
            origin: None,
            map: None,
            skipped: &parsed.excluded,
        };
        let root = tree.root_node();
        if root.is_error() {
            // As in the main file (see `top_level_items`): runs of fragments
            // are preprocessed and parsed again. Walking the ERROR root's
            // children alone loses every function whose body the grammar
            // split (a statement written as a lone macro, `OP_MACRO`
            // without `;`, in three functions of one header).
            let mut c = root.walk();
            let children: Vec<Node> = root.children(&mut c).collect();
            self.top_level_items(&hcx, &children, true);
            return;
        }
        self.items(&hcx, root, None);
    }

    /// Reads a header's directives alone: conditionals, macros, includes.
    fn read_header_macros(
        &mut self,
        cx: &Cx,
        path: &Path,
        text: &str,
        directives: &[(Span, Directive)],
    ) {
        let mut conds = Conditionals::default();
        for (span, d) in directives {
            if conds.apply(d, |d| self.directive_value(d, Some(path))) || !conds.active() {
                continue;
            }
            self.apply_directive(cx, Some(path), *span, span.text(text), d);
        }
    }

    // ---- declarations ---------------------------------------------------------

    fn function(&mut self, cx: &Cx, node: Node, template: Option<Template>) {
        // Reuse the previous build's lowering when the function's text and the
        // macros in force are unchanged (the common case while typing elsewhere).
        // The function's span includes its `template<...>` header when the
        // header directly precedes it.
        let outer = match template {
            Some(t) if t.direct => t.header,
            _ => node,
        };
        // The template parameters are part of the text hashed when the
        // header is; hashed apart when something stands between them (an
        // `#if` inside the template declaration).
        let params_apart = match template {
            Some(t) if !t.direct => cx.text(t.header),
            _ => "",
        };
        // A body left out of the tree keeps its text: the key says so.
        let skipped = field!(node, "body").is_some_and(|b| cx.is_skipped(b));
        let key = hash_parts(&[
            cx.file
                .map_or(&b""[..], |f| f.as_os_str().as_encoded_bytes()),
            cx.text(outer).as_bytes(),
            &self.macro_hash.to_le_bytes(),
            params_apart.as_bytes(),
            &cx.map.map_or(0, |m| m.key).to_le_bytes(),
            &[u8::from(skipped)],
            // A method's lowering depends on its struct (`methods.rs`) and
            // the struct's template parameters.
            self.receiver
                .as_ref()
                .map_or(&b""[..], |(r, _)| r.name.as_bytes()),
            self.receiver
                .as_ref()
                .map_or(&b""[..], |(r, _)| r.class_header.as_bytes()),
        ]);
        // Lowered from the source, or from an item's preprocessed text whose
        // source is part of the key (then it moves with that source); not
        // from a macro expansion inside an expression.
        let cacheable = cx.origin.is_none();
        let start = cx.span(outer).start;
        if cacheable
            && let Some((f, old_start)) = self
                .old_functions
                .remove(&key)
                .or_else(|| self.new_functions.get(&key).cloned())
        {
            // Where the function did not move, the model shares the cached
            // lowering; where it moved, it is shifted to where it starts now
            // and replaces the cached one (so it is shared next time).
            // Moved in place when nothing else holds it (the language
            // server publishes only an outline while it rebuilds), copied
            // otherwise.
            let mut f = f;
            if start != old_start {
                Arc::make_mut(&mut f).shift(start as isize - old_start as isize);
            }
            // Macros defined inside the body still take effect for what
            // follows (`#if` in bodies is common in host code; walking every
            // such body at each edit is not).
            let at = macro_directive_offsets(cx.text(node), node.start_byte());
            if !at.is_empty() {
                self.replay_body_directives(cx, node, &at);
            }
            self.new_functions.insert(key, (f.clone(), start));
            self.model.functions.push(f);
            return;
        }
        let before = self.model.functions.len();
        let launches_before = self.launches_lowered;
        let template = template.map(|t| self.template_header_params(cx, t.header));
        self.lower_function(cx, node, outer, template);
        let has_launches = self.launches_lowered > launches_before;
        if let Some(f) = self.model.functions.get_mut(before) {
            // Just pushed: the model holds the only reference.
            if let Some(f) = Arc::get_mut(f) {
                f.fingerprint = key;
                f.has_launches = has_launches;
            }
            if cacheable {
                self.new_functions.insert(key, (f.clone(), start));
            }
        }
    }

    /// Applies `#define`/`#undef` found inside a cached function body:
    /// `at` holds where their lines start, and only the nodes around them
    /// are visited (a body's `#if defined(...)` lines made every edit walk
    /// every node of such functions: a third of an edit in ggml's
    /// `mmq-load-tiles.cuh`).
    fn replay_body_directives(&mut self, cx: &Cx, node: Node, at: &[usize]) {
        let holds_directive = |n: &Node| {
            let r = n.byte_range();
            let first = at.partition_point(|&o| o < r.start);
            at.get(first).is_some_and(|&o| o < r.end)
        };
        let mut stack = vec![node];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "preproc_def" | "preproc_function_def" => self.define(cx, n),
                "preproc_call" => {
                    self.preproc(cx, n);
                    self.pending_unroll = None;
                }
                _ => {
                    let mut c = n.walk();
                    let children: Vec<Node> = n
                        .children(&mut c)
                        .filter(|ch| holds_directive(ch))
                        .collect();
                    stack.extend(children.into_iter().rev());
                }
            }
        }
    }

    fn lower_function(
        &mut self,
        cx: &Cx,
        node: Node,
        outer: Node,
        template: Option<Vec<TemplateParam>>,
    ) {
        let mut exec_words = std::mem::take(&mut self.pending_exec);
        let mut launch_bounds = None;
        let mut c = node.walk();
        let children: Vec<Node> = node.children(&mut c).collect();
        for ch in &children {
            match ch.kind() {
                "__global__" | "__device__" | "__host__" => exec_words.push(ch.kind()),
                "launch_bounds" => {
                    let mut c2 = ch.walk();
                    let args: Vec<Node> = ch.named_children(&mut c2).collect();
                    let max_threads = args.first().map(|a| self.expr(cx, *a));
                    let min_blocks = args.get(1).map(|a| self.expr(cx, *a));
                    launch_bounds = Some(Box::new(LaunchBounds {
                        span: cx.span(*ch),
                        max_threads,
                        min_blocks,
                    }));
                }
                "type_qualifier" | "storage_class_specifier" | "attribute_specifier" => {
                    for w in cx.text(*ch).split_whitespace() {
                        match w {
                            "__global__" => exec_words.push("__global__"),
                            "__device__" => exec_words.push("__device__"),
                            "__host__" => exec_words.push("__host__"),
                            "constexpr" => exec_words.push("constexpr"),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        let constexpr = exec_words.contains(&"constexpr");
        let exec = if exec_words.contains(&"__global__") {
            ExecSpace::Kernel
        } else if exec_words.contains(&"__device__") {
            if exec_words.contains(&"__host__") {
                ExecSpace::HostDevice
            } else {
                ExecSpace::Device
            }
        } else {
            ExecSpace::Host
        };
        let Some(declarator) = field_children(node, "declarator").into_iter().next() else {
            return;
        };
        let Some(declared) = declared_function(cx, node, declarator) else {
            return;
        };
        let (fdecl, name_node) = (declared.fdecl, declared.name_node);
        let mut ret = match declared.conversion {
            // `operator int()`: the type it converts to.
            Some(t) => self.type_from(cx, declarator, t),
            None if declared.operator_typed => Type::named(&normalize_base(cx.text(name_node))),
            None => field!(node, "type")
                .map(|t| self.type_from(cx, node, t))
                .unwrap_or_default(),
        };
        ret.pointer += pointer_depth_until(declarator, fdecl);
        let returns_reference = has_reference_until(declarator, fdecl);
        let params = field!(fdecl, "parameters")
            .map(|p| self.params(cx, p))
            .unwrap_or_default();
        let mut body = field!(node, "body")
            .filter(|b| !cx.is_skipped(*b))
            .map(|b| self.stmt(cx, b));
        // A constructor's member initialisers (`: x(a), v(0)`) run first,
        // as assignments to the members (`methods.rs` binds them to `this`).
        if self.receiver.is_some()
            && let Some(list) = children
                .iter()
                .find(|c| c.kind() == "field_initializer_list")
            && let Some(b) = &mut body
        {
            let inits = self.member_initializers(cx, *list);
            if let crate::ir::StmtKind::Block(stmts) = &mut b.kind {
                stmts.splice(0..0, inits);
            }
        }
        let decl_start = children
            .iter()
            .find(|c| c.kind() != "comment")
            .map_or(cx.span(node).start, |c| cx.span(*c).start);
        let name = declared.name;
        let f = Function {
            name: name.rsplit("::").next().unwrap_or(&name).to_string(),
            name_span: cx.span(name_node),
            span: cx.span(outer),
            decl_start,
            file: cx.file.map(Path::to_path_buf),
            exec,
            ret,
            returns_reference,
            template_params: template.unwrap_or_default(),
            params,
            launch_bounds,
            body: body.map(Box::new),
            fingerprint: 0,
            has_launches: false,
            constexpr,
        };
        let f = match &self.receiver {
            Some((r, is_static)) => match super::methods::as_method(f, r, *is_static) {
                Some(f) => f,
                None => return,
            },
            None => f,
        };
        self.model.functions.push(Arc::new(f));
    }

    /// `: x(a), v{0}` of a constructor: `x = a; v = 0;` (a member given
    /// several values, a nested object's constructor, stays unknown).
    fn member_initializers(&mut self, cx: &Cx, list: Node) -> Vec<crate::ir::Stmt> {
        use crate::ir::{Expr, ExprKind, Stmt, StmtKind};
        let mut out = Vec::new();
        let mut c = list.walk();
        for init in list.named_children(&mut c) {
            if init.kind() != "field_initializer" {
                continue;
            }
            let mut c2 = init.walk();
            let parts: Vec<Node> = init.named_children(&mut c2).collect();
            let Some(name) = parts.iter().find(|p| p.kind() == "field_identifier") else {
                continue;
            };
            let values: Vec<Node> = parts
                .iter()
                .filter(|p| matches!(p.kind(), "argument_list" | "initializer_list"))
                .flat_map(|a| {
                    let mut c3 = a.walk();
                    a.named_children(&mut c3).collect::<Vec<_>>()
                })
                .filter(|v| v.kind() != "comment")
                .collect();
            let span = cx.span(init);
            let value = match values.as_slice() {
                [v] => self.expr(cx, *v),
                _ => Expr::new(ExprKind::Unknown(cx.text(init).to_string()), span),
            };
            let target = Expr::new(ExprKind::Ident(cx.text(*name).to_string()), cx.span(*name));
            out.push(Stmt {
                kind: StmtKind::Expr(Expr::new(
                    ExprKind::Assign(None, Box::new(target), Box::new(value)),
                    span,
                )),
                span,
            });
        }
        out
    }

    fn params(&mut self, cx: &Cx, list: Node) -> Vec<Param> {
        let mut out = Vec::new();
        let mut c = list.walk();
        let children: Vec<Node> = list.named_children(&mut c).collect();
        for (i, p) in children.iter().copied().enumerate() {
            if !matches!(
                p.kind(),
                "parameter_declaration" | "optional_parameter_declaration"
            ) {
                continue;
            }
            let mut ty = field!(p, "type")
                .map(|t| self.type_from(cx, p, t))
                .unwrap_or_default();
            let mut dims = Vec::new();
            let (mut name, mut name_span) = match field!(p, "declarator") {
                Some(d) => {
                    let info = unwrap_declarator(cx, d);
                    ty.pointer += info.pointer + info.dims.len() as u8;
                    ty.restrict |= info.restrict;
                    dims = (info.dims.iter())
                        .map(|s| s.map(|s| self.expr(cx, s)))
                        .collect();
                    let added = self.expand_array_alias(&mut ty, &mut dims, info.name_span);
                    ty.pointer += added as u8;
                    // `const fArray *p` with `typedef double fArray[4][3]`:
                    // `const double p[][4][3]`, rows of the array type.
                    if ty.pointer == 1 && dims.is_empty() {
                        let mut element = Type {
                            pointer: 0,
                            ..ty.clone()
                        };
                        let mut rows = vec![None];
                        let n = self.expand_array_alias(&mut element, &mut rows, info.name_span);
                        if n > 0 {
                            dims = rows;
                            ty = Type {
                                pointer: 1 + n as u8,
                                ..element
                            };
                        }
                    }
                    (info.name, info.name_span)
                }
                None => (String::new(), cx.span(p)),
            };
            // `int* const __restrict x`: the grammar takes `__restrict` after
            // `const` for the name and leaves `x` in an ERROR after the
            // parameter.
            if matches!(name.as_str(), "__restrict" | "restrict")
                && let Some(err) = children.get(i + 1).filter(|n| n.kind() == "ERROR")
                && err.named_child_count() == 1
                && let Some(id) = err.named_child(0).filter(|n| n.kind() == "identifier")
            {
                name = cx.text(id).to_string();
                name_span = cx.span(id);
                ty.restrict = true;
            }
            let default = field!(p, "default_value").map(|d| self.expr(cx, d));
            out.push(Param {
                name,
                name_span,
                ty,
                dims,
                default,
            });
        }
        // `f(void)`: C's way of saying no parameters.
        if let [only] = out.as_slice()
            && only.name.is_empty()
            && only.ty.base == "void"
            && only.ty.pointer == 0
        {
            out.clear();
        }
        out
    }

    /// The parameters of a `template<...>` declaration.
    fn template_header_params(&mut self, cx: &Cx, header: Node) -> Vec<TemplateParam> {
        field!(header, "parameters")
            .map(|p| self.template_params(cx, p))
            .unwrap_or_default()
    }

    fn template_params(&mut self, cx: &Cx, list: Node) -> Vec<TemplateParam> {
        let mut out = Vec::new();
        let mut c = list.walk();
        let children: Vec<Node> = list.named_children(&mut c).collect();
        for p in children {
            let default = field!(p, "default_value")
                .or_else(|| field!(p, "default_type"))
                .map(|d| cx.text(d).to_string());
            match p.kind() {
                // `template <class> class Func`: a class template is its
                // argument (`Reduce<SumOp, float>`); bound as a type name,
                // `Func<T>` then names its instance. Left out, it moved
                // every later argument onto the wrong parameter.
                "type_parameter_declaration"
                | "optional_type_parameter_declaration"
                | "variadic_type_parameter_declaration"
                | "template_template_parameter_declaration" => {
                    // A template template parameter names itself in its
                    // last part (`class Func` after `template <class>`).
                    let own = match p.kind() {
                        "template_template_parameter_declaration" => {
                            let last = p.named_child_count().saturating_sub(1) as u32;
                            p.named_child(last).unwrap_or(p)
                        }
                        _ => p,
                    };
                    let name = field!(own, "name")
                        .or_else(|| last_named(own, "type_identifier"))
                        .map(|n| cx.text(n).to_string())
                        .unwrap_or_default();
                    out.push(TemplateParam {
                        name,
                        kind: TemplateParamKind::Type,
                        default,
                    });
                }
                "parameter_declaration" | "optional_parameter_declaration" => {
                    let ty = field!(p, "type")
                        .map(|t| self.type_from(cx, p, t))
                        .unwrap_or_default();
                    let name = field!(p, "declarator")
                        .map(|d| unwrap_declarator(cx, d).name)
                        .unwrap_or_default();
                    out.push(TemplateParam {
                        name,
                        kind: TemplateParamKind::Value(ty),
                        default,
                    });
                }
                _ => {}
            }
        }
        out
    }

    /// Lowers a `declaration` node into variable declarations.
    pub(super) fn declaration(&mut self, cx: &Cx, node: Node) -> Vec<VarDecl> {
        let mut words: Vec<String> = Vec::new();
        let mut c = node.walk();
        for (i, ch) in node.children(&mut c).enumerate() {
            let field = node.field_name_for_child(i as u32);
            if field.is_none() {
                words.extend(cx.text(ch).split_whitespace().map(String::from));
            }
        }
        let has = |w: &str| words.iter().any(|x| x == w);
        let base = field!(node, "type")
            .map(|t| self.type_from(cx, node, t))
            .unwrap_or_default();
        let mut out = Vec::new();
        for d in field_children(node, "declarator") {
            if d.kind() == "function_declarator" {
                // `dim3 block(BX, BY);` inside a body parses like a prototype
                // (the "most vexing parse"); CUDA code means a constructor call.
                if let Some(decl) = self.vexing_parse(cx, d, &base, &words) {
                    out.push(decl);
                }
                continue;
            }
            let info = unwrap_declarator(cx, d);
            if info.name.is_empty() {
                continue;
            }
            let mut ty = base.clone();
            ty.pointer += info.pointer;
            ty.restrict |= info.restrict;
            let mut dims = info
                .dims
                .iter()
                .map(|s| s.map(|s| self.expr(cx, s)))
                .collect();
            self.expand_array_alias(&mut ty, &mut dims, info.name_span);
            let (init, ctor_args) = match info.init {
                Some(v) if v.kind() == "argument_list" => {
                    let mut c = v.walk();
                    let args: Vec<Node> = v.named_children(&mut c).collect();
                    (
                        None,
                        Some(args.into_iter().map(|a| self.expr(cx, a)).collect()),
                    )
                }
                Some(v) => (Some(self.expr(cx, v)), None),
                None => (None, None),
            };
            out.push(VarDecl {
                name: info.name,
                name_span: info.name_span,
                span: cx.span(d),
                ty,
                dims,
                init,
                ctor_args,
                shared: has("__shared__"),
                is_extern: has("extern"),
                is_static: has("static"),
                constexpr: has("constexpr"),
            });
        }
        out
    }

    fn vexing_parse(&mut self, cx: &Cx, d: Node, base: &Type, words: &[String]) -> Option<VarDecl> {
        let name = field!(d, "declarator")?;
        if name.kind() != "identifier" {
            return None;
        }
        let params = field!(d, "parameters")?;
        let mut c = params.walk();
        let args: Vec<Node> = params.named_children(&mut c).collect();
        let mut ctor_args = Vec::new();
        for a in args {
            // Only `(NAME, NAME)`: a real prototype has typed parameters.
            // `(idx[i])` and `(f(x))` parse as a parameter of type `idx`
            // or `f` with an abstract declarator: expressions when that
            // name is no type.
            if a.kind() != "parameter_declaration" {
                return None;
            }
            if let Some(declarator) = field!(a, "declarator") {
                let named_type = field!(a, "type")
                    .filter(|t| t.kind() == "type_identifier")
                    .map(|t| cx.text(t));
                // `(a * b)`, `(a & b)`: a product or a mask, not a
                // parameter `b` of type `a *`, when `a` is no type.
                let expression = matches!(
                    declarator.kind(),
                    "abstract_array_declarator"
                        | "abstract_function_declarator"
                        | "pointer_declarator"
                        | "reference_declarator"
                ) && named_type
                    .is_some_and(|t| !self.model.types.is_known_name(t));
                if !expression {
                    return None;
                }
            }
            ctor_args.push(self.text_expr(cx, cx.text(a), cx.span(a)));
        }
        Some(VarDecl {
            name: cx.text(name).to_string(),
            name_span: cx.span(name),
            span: cx.span(d),
            ty: base.clone(),
            dims: Vec::new(),
            init: None,
            ctor_args: Some(ctor_args),
            shared: words.iter().any(|w| w == "__shared__"),
            is_extern: false,
            is_static: words.iter().any(|w| w == "static"),
            constexpr: words.iter().any(|w| w == "constexpr"),
        })
    }

    /// The type written in `type_node`, with qualifiers from its declaration `owner`.
    pub(super) fn type_from(&mut self, cx: &Cx, owner: Node, type_node: Node) -> Type {
        let mut ty = self.base_type(cx, type_node);
        // `acc_t` in a member function of a struct that says `using acc_t
        // = WelfordData<float, int>;`: the member type.
        if let Some((r, _)) = &self.receiver
            && ty.template_args.is_empty()
            && let Some(member) = self
                .model
                .types
                .aliases
                .get(&format!("{}::{}", r.name, ty.base))
        {
            let member = member.clone();
            ty = Type {
                pointer: ty.pointer + member.pointer,
                is_const: ty.is_const || member.is_const,
                ..member
            };
        }
        // `fparam_t p` with `typedef struct fparam {...} *fparam_t;`: a
        // pointer, written out here so that every later reader sees one.
        // `const fparam_t` makes the pointer const, not what it points at.
        let mut pointer_alias = false;
        if ty.template_args.is_empty() && self.model.types.aliases.contains_key(&ty.base) {
            let resolved = self.model.types.resolve(&ty);
            if resolved.pointer > 0 {
                ty = resolved;
                pointer_alias = true;
            }
        }
        let mut c = owner.walk();
        for ch in owner.children(&mut c) {
            if ch.kind() == "type_qualifier" {
                match cx.text(ch) {
                    "const" if pointer_alias => {}
                    "const" => ty.is_const = true,
                    "__restrict__" | "__restrict" | "restrict" => ty.restrict = true,
                    _ => {}
                }
            }
        }
        ty
    }

    fn base_type(&mut self, cx: &Cx, t: Node) -> Type {
        if t.kind() == "template_type" {
            let name = field!(t, "name")
                .map(|n| cx.text(n).to_string())
                .unwrap_or_default();
            let args = field!(t, "arguments")
                .map(|a| {
                    let mut c = a.walk();
                    a.named_children(&mut c)
                        .map(|n| cx.text(n).trim().to_string())
                        .collect()
                })
                .unwrap_or_default();
            return Type {
                base: normalize_base(&name),
                template_args: args,
                ..Type::default()
            };
        }
        let written = cx.text(t);
        let mut base = normalize_base(written);
        // A type hidden behind an object-like macro (`#define real float`).
        if cx.is_raw()
            && let Some(def) = self.macros.get(&base)
            && def.params.is_none()
            && let Ok(expanded) = self.macros.expand_text(&base)
        {
            base = normalize_base(&expanded);
        }
        Type::named(&base)
    }

    /// A `type_descriptor` (casts, sizeof, template arguments, `using`).
    pub(super) fn type_descriptor(&mut self, cx: &Cx, node: Node) -> Type {
        let Some(t) = field!(node, "type") else {
            return Type::named(&normalize_base(cx.text(node)));
        };
        let mut ty = self.type_from(cx, node, t);
        if let Some(d) = field!(node, "declarator") {
            ty.pointer += cx.text(d).matches('*').count() as u8;
        }
        ty
    }

    /// The types a struct's body names (`typedef Scalar ScalarType;`,
    /// `using index_t = int;`) as aliases `S::ScalarType`, and a class
    /// template's parameter names (`Vector<double>::ScalarType` is then
    /// `double`), whatever becomes of the struct's layout.
    fn member_types(
        &mut self,
        cx: &Cx,
        name: &str,
        body: Node,
        class_template: Option<&(Vec<TemplateParam>, String)>,
    ) {
        if let Some((params, _)) = class_template {
            let names = params.iter().map(|p| p.name.clone()).collect();
            self.model
                .types
                .class_params
                .insert(name.to_string(), names);
        }
        let mut c = body.walk();
        let children: Vec<Node> = body.named_children(&mut c).collect();
        for member in children {
            match member.kind() {
                "type_definition" => {
                    let Some(t) = field!(member, "type") else {
                        continue;
                    };
                    let ty = self.type_from(cx, member, t);
                    for d in field_children(member, "declarator") {
                        let info = unwrap_declarator(cx, d);
                        if info.dims.is_empty() {
                            let aliased = Type {
                                pointer: ty.pointer + info.pointer,
                                ..ty.clone()
                            };
                            let key = format!("{name}::{}", info.name);
                            self.model.types.aliases.insert(key, aliased);
                        }
                    }
                }
                "alias_declaration" => {
                    if let Some((alias, t)) = self.alias_declaration(cx, member) {
                        let key = format!("{name}::{alias}");
                        self.model.types.aliases.insert(key, t);
                    }
                }
                // `enum CallPut { Call, Put };` in `struct AsianOption`:
                // its enumerators are `AsianOption::Put` (and `Put` in the
                // struct's own scope), `CallPut` its underlying type.
                "field_declaration"
                    if let Some(t) = field!(member, "type")
                        && t.kind() == "enum_specifier" =>
                {
                    self.namespaces.push(name.to_string());
                    let underlying = self.enum_def(cx, t);
                    self.namespaces.pop();
                    if let (Some(enum_name), Some(ty)) = (field!(t, "name"), underlying) {
                        let enum_name = cx.text(enum_name).to_string();
                        let aliases = &mut self.model.types.aliases;
                        aliases.insert(format!("{name}::{enum_name}"), ty.clone());
                        aliases.entry(enum_name).or_insert(ty);
                    }
                }
                _ => {}
            }
        }
    }

    /// `using name = type;`: the name and the type.
    fn alias_declaration(&mut self, cx: &Cx, node: Node) -> Option<(String, Type)> {
        let (name, ty) = (field!(node, "name")?, field!(node, "type")?);
        Some((cx.text(name).to_string(), self.type_descriptor(cx, ty)))
    }

    fn struct_def(&mut self, cx: &Cx, node: Node) {
        let (Some(name), Some(_)) = (field!(node, "name"), field!(node, "body")) else {
            return;
        };
        let name = cx.text(name).to_string();
        self.struct_body(cx, &name, node);
    }

    /// Lays out the struct `spec` defines (a `struct_specifier` with a
    /// body) as nvcc does, under `name`. Whatever would make a guessed
    /// layout (bit-fields, `packed`, aligned members, virtual functions,
    /// several or padded bases, extents we cannot evaluate) leaves the
    /// struct unknown instead: every use of it is then refused.
    fn struct_body(&mut self, cx: &Cx, name: &str, spec: Node) {
        // Taken first: structs nested in this one are no class template.
        let class_template = self.class_template.take();
        let Some(body) = field!(spec, "body") else {
            return;
        };
        self.member_types(cx, name, body, class_template.as_ref());
        if self.packing.last().is_some_and(Option::is_some) {
            return;
        }
        // `struct __align__(16) S` (after the toolkit's macro),
        // `alignas(8)`, `__attribute__((aligned(32)))`: a larger alignment,
        // so a larger size.
        let Some((min_align, packed)) = self.struct_layout_attributes(cx, spec) else {
            return;
        };
        let mut fields = Vec::new();
        // `struct D : B {...}`: B's members first. Only one base, not
        // virtual, without tail padding (which another ABI rule may let
        // D's members reuse).
        let mut c1 = spec.walk();
        let bases: Vec<Node> = spec
            .children(&mut c1)
            .filter(|ch| ch.kind() == "base_class_clause")
            .collect();
        for clause in bases {
            let mut c = clause.walk();
            let named: Vec<Node> = clause
                .named_children(&mut c)
                .filter(|n| n.kind() != "access_specifier")
                .collect();
            if named.len() != 1 || cx.text(clause).contains("virtual") {
                return;
            }
            let base_name = normalize_base(cx.text(named[0]));
            let Some(base) = self.model.types.structs.get(&base_name) else {
                return;
            };
            let end = base.fields.last().map_or(0, |f| {
                let size = self.model.types.size_of(&f.ty).unwrap_or(0);
                f.offset
                    .saturating_add(size.saturating_mul(f.array_len.max(1)))
            });
            if !base.fields.is_empty() && end != base.size {
                return;
            }
            fields.extend(
                (base.fields.iter()).map(|f| (f.name.clone(), f.ty.clone(), f.dims.clone())),
            );
        }
        let mut c = body.walk();
        let children: Vec<Node> = body.named_children(&mut c).collect();
        let (mut units, mut bit_unit, mut bitfields) =
            (Vec::<BitUnit>::new(), None::<usize>, Vec::new());
        // `struct __align__(8) { short lo, hi; }` in a union: its alignment.
        let mut word_align = 1u64;
        for &f in &children {
            // A virtual function adds a hidden pointer to every object.
            if matches!(
                f.kind(),
                "field_declaration" | "function_definition" | "declaration"
            ) && cx.text(f).trim_start().starts_with("virtual")
            {
                return;
            }
            if f.kind() != "field_declaration" {
                continue;
            }
            // Members with alignment attributes of their own leave the
            // layout unknown.
            let mut c2 = f.walk();
            if f.named_children(&mut c2).any(|k| {
                k.kind() == "attribute_specifier"
                    || (k.kind() == "type_qualifier" && cx.text(k).starts_with("alignas"))
            }) {
                return;
            }
            // Bit-fields (`unsigned value : 11;`): consecutive ones share
            // 32-bit words, each a hidden `unsigned int` member; only
            // `int`/`unsigned` ones (what the layout check below can
            // confirm), never in a union.
            let mut c4 = f.walk();
            let clause = f
                .named_children(&mut c4)
                .find(|k| k.kind() == "bitfield_clause");
            if let Some(clause) = clause {
                if spec.kind() == "union_specifier" {
                    return;
                }
                let Some(t) = field!(f, "type") else { return };
                let base = self.type_from(cx, f, t);
                let resolved = self.model.types.resolve(&base);
                let signed = match normalize_base(&resolved.base).as_str() {
                    "int" | "int32_t" => true,
                    "unsigned int" | "uint32_t" => false,
                    _ => return,
                };
                let Some(width) = clause
                    .named_child(0)
                    .map(|w| self.expr(cx, w))
                    .and_then(|w| self.model.const_env().eval(&w))
                    .and_then(|w| u32::try_from(w).ok())
                    .filter(|w| *w <= 32)
                else {
                    return;
                };
                let declarators = field_children(f, "declarator");
                if declarators.len() > 1 || resolved.pointer > 0 {
                    return;
                }
                if width == 0 {
                    bit_unit = None;
                    continue;
                }
                let u = match bit_unit.filter(|&u| units[u].used + width <= 32) {
                    Some(u) => u,
                    None => BitUnit::add(&mut units, &mut fields, 0, width),
                };
                bit_unit = Some(u);
                if let Some(d) = declarators.first() {
                    bitfields.push(crate::types::BitField {
                        name: unwrap_declarator(cx, *d).name,
                        unit: units[u].name.clone(),
                        offset: units[u].used,
                        width,
                        signed,
                    });
                }
                units[u].used += width;
                continue;
            }
            bit_unit = None;
            // `static const int N = 4;` is no part of an object: a constant
            // named `S::N`.
            let mut c3 = f.walk();
            if f.children(&mut c3)
                .any(|k| k.kind() == "storage_class_specifier" && cx.text(k) == "static")
            {
                if let Some(v) = field!(f, "default_value")
                    && let Some(d) = field_children(f, "declarator").first()
                {
                    let e = self.expr(cx, v);
                    if let Some(v) = self.model.const_env().eval(&e) {
                        let member = unwrap_declarator(cx, *d).name;
                        self.model.consts.insert(format!("{name}::{member}"), v);
                    }
                }
                continue;
            }
            let declarators = field_children(f, "declarator");
            // `union { float f; int i; };` or `struct { int a, b; };`
            // without a name: its members are the enclosing struct's, at
            // offsets the model does not compute. With a name, a nested
            // type (`struct _TempStorage {...};`), no member.
            if declarators.is_empty()
                && let Some(t) = field!(f, "type")
                && matches!(
                    t.kind(),
                    "struct_specifier" | "union_specifier" | "class_specifier"
                )
                && field!(t, "body").is_some()
            {
                let Some(inner) = field!(t, "name") else {
                    // `union { struct { short lo, hi; }; unsigned int word; }`:
                    // the struct's integers are bits of the union's word.
                    if spec.kind() == "union_specifier"
                        && t.kind() == "struct_specifier"
                        && let Some((members, align)) =
                            self.anonymous_word_members(cx, t, &BitUnit::name(units.len()))
                    {
                        word_align = word_align.max(align);
                        BitUnit::add(&mut units, &mut fields, 32, 32);
                        bitfields.extend(members);
                        continue;
                    }
                    return;
                };
                self.nested_struct(cx, name, cx.text(inner).to_string(), t);
                continue;
            }
            let base = match field!(f, "type") {
                // `struct tloop_t { fbase_t seq[6]; int_t val; } tloop[120];`:
                // a struct defined where a member uses it.
                Some(t)
                    if matches!(
                        t.kind(),
                        "struct_specifier" | "class_specifier" | "union_specifier"
                    ) && field!(t, "body").is_some() =>
                {
                    let inner = match field!(t, "name") {
                        Some(n) => cx.text(n).to_string(),
                        None => {
                            let member = (declarators.first())
                                .map(|d| unwrap_declarator(cx, *d).name)
                                .unwrap_or_default();
                            format!("{name}_{member}")
                        }
                    };
                    let inner = self.nested_struct(cx, name, inner, t);
                    let mut ty = self.type_from(cx, f, t);
                    ty.base = inner;
                    ty
                }
                Some(t) => self.type_from(cx, f, t),
                None => Type::default(),
            };
            for d in declarators {
                // `void reduce(int dim);`: a member function declared here
                // and defined elsewhere, no part of an object.
                // (`void (*f)(int);` is a member: a pointer to a function.)
                if let Some(fd) = find_function_declarator(d)
                    && field!(fd, "declarator").is_some_and(|n| {
                        matches!(
                            n.kind(),
                            "field_identifier" | "identifier" | "operator_name" | "destructor_name"
                        )
                    })
                {
                    continue;
                }
                let info = unwrap_declarator(cx, d);
                let mut ty = base.clone();
                ty.pointer += info.pointer;
                // An extent we cannot evaluate (or `[]`) leaves the
                // struct's layout unknown: every later offset would be a
                // guess.
                let Some(mut dims) = self.extents(cx, &info.dims) else {
                    return;
                };
                // `tab4_t stack;`: an array type's name adds its extents.
                if let Some((element, more)) = self.model.types.array_element(&ty) {
                    dims.extend(more);
                    ty = element;
                }
                fields.push((info.name, ty, dims));
            }
        }
        let field_names = fields.iter().map(|(n, _, _)| n.clone()).collect();
        let union = spec.kind() == "union_specifier";
        // A class template's own name is no type: its instances are
        // (`class_instances.rs`), even where no member names a parameter.
        let primary_template = class_template.as_ref().is_some_and(|(p, _)| !p.is_empty());
        if union {
            self.model.types.unions.insert(name.to_string());
            // The union's word must be the size of an `unsigned int` of its
            // own (another member) for the anonymous struct's bits to be it.
            let word_member = fields.iter().any(|(n, t, dims)| {
                !units.iter().any(|u| u.name == *n)
                    && dims.is_empty()
                    && self.model.types.layout(t) == Some((4, 4))
            });
            if !units.is_empty() && !word_member {
                return;
            }
            self.model.types.add_union(name, fields);
            if !units.is_empty() {
                self.model
                    .types
                    .bitfields
                    .insert(name.to_string(), bitfields);
                if let Some(def) = self.model.types.structs.get_mut(name)
                    && word_align > def.align
                {
                    def.align = word_align;
                    def.size = def.size.div_ceil(word_align) * word_align;
                }
            }
        } else if !primary_template {
            self.model.types.add_struct(name, fields);
            if !units.is_empty() {
                if bit_units_laid_out_as_nvcc(&self.model.types, name, &units) {
                    self.model
                        .types
                        .bitfields
                        .insert(name.to_string(), bitfields);
                } else {
                    self.model.types.structs.remove(name);
                }
            }
        }
        if packed && !union {
            // `__attribute__((packed))` of members that leave no padding
            // (minibude's `Atom`: three floats and an int): the same
            // offsets, alignment 1. Padding would move them: unknown.
            let types = &self.model.types;
            let Some(def) = types.structs.get(name) else {
                return;
            };
            let mut end = 0;
            for f in &def.fields {
                if f.offset != end || min_align > 1 {
                    self.model.types.structs.remove(name);
                    return;
                }
                end = end.saturating_add(
                    (types.size_of(&f.ty).unwrap_or(0)).saturating_mul(f.array_len.max(1)),
                );
            }
            let def = self
                .model
                .types
                .structs
                .get_mut(name)
                .expect("laid out above");
            (def.size, def.align) = (end.max(1), 1);
        }
        if min_align > 1
            && let Some(def) = self.model.types.structs.get_mut(name)
        {
            def.align = def.align.max(min_align);
            def.size = def.size.div_ceil(def.align).saturating_mul(def.align);
        }
        if union {
            return;
        }
        // Member functions defined in the body: `name::m` (`methods.rs`),
        // member templates with their own header (`template <typename T>
        // T operator()(T a, T b)`).
        // Friends defined here are free functions (`friend C operator*(C a,
        // C b)`), each instance's its own: a class template's are built
        // with its instances (`class_instances.rs`), never with its
        // parameters unknown. `friend` after CUDA's attributes reaches
        // here as a plain definition (`parser.rs` blanks it): its text
        // tells.
        let is_friend = |m: Node| {
            let before_name = field_children(m, "declarator")
                .first()
                .map_or(m.end_byte(), |d| d.start_byte());
            let head = cx.src.get(m.start_byte()..before_name).unwrap_or("");
            head.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .any(|w| w == "friend")
        };
        let friends: Vec<Node> = children
            .iter()
            .filter_map(|c| match c.kind() {
                "friend_declaration" => {
                    let mut w = c.walk();
                    c.named_children(&mut w)
                        .find(|n| n.kind() == "function_definition")
                }
                "function_definition" if is_friend(*c) => Some(*c),
                _ => None,
            })
            .collect();
        if class_template.is_none() {
            let outer = self.receiver.take();
            for f in &friends {
                self.function(cx, *f, None);
            }
            self.receiver = outer;
        }
        let methods: Vec<(Node, Option<Node>, String, bool)> = children
            .iter()
            .filter_map(|c| match c.kind() {
                "function_definition" if is_friend(*c) => None,
                "function_definition" => Some((*c, None)),
                "template_declaration" => {
                    let mut w = c.walk();
                    let f = c
                        .named_children(&mut w)
                        .find(|n| n.kind() == "function_definition");
                    f.map(|f| (f, Some(*c)))
                }
                _ => None,
            })
            .filter_map(|(m, header)| {
                let d = field_children(m, "declarator").into_iter().next()?;
                let method = declared_function(cx, m, d)?.name;
                let mut c = m.walk();
                let is_static = m
                    .children(&mut c)
                    .any(|k| k.kind() == "storage_class_specifier" && cx.text(k) == "static");
                Some((m, header, method, is_static))
            })
            .collect();
        if methods.is_empty() {
            return;
        }
        let (class_params, class_header) = class_template.unwrap_or_default();
        let receiver = super::methods::Receiver {
            name: name.to_string(),
            class_params,
            class_header,
            fields: field_names,
            // Bare calls to these are calls on `this`; not the
            // constructor (`S(a)` in a method is a new object).
            methods: (methods.iter())
                .filter(|(_, _, m, _)| m != name && !m.starts_with("operator"))
                .map(|(_, _, m, s)| (m.clone(), *s))
                .collect(),
        };
        let outer = self.receiver.take();
        for (node, header, _, is_static) in methods {
            self.receiver = Some((receiver.clone(), is_static));
            let template = header.map(|header| Template {
                header,
                direct: true,
            });
            self.function(cx, node, template);
        }
        self.receiver = outer;
    }

    fn typedef(&mut self, cx: &Cx, node: Node) {
        let Some(t) = field!(node, "type") else {
            return;
        };
        if t.kind() == "union_specifier" {
            // `typedef union {...} U;`: a union under each name.
            let names = (field_children(node, "declarator").into_iter())
                .map(|d| unwrap_declarator(cx, d))
                .filter(|i| i.pointer == 0 && i.dims.is_empty())
                .map(|i| i.name)
                .chain(field!(t, "name").map(|n| cx.text(n).to_string()));
            self.model.types.unions.extend(names);
        }
        let mut base = self.type_from(cx, node, t);
        if t.kind() == "enum_specifier" {
            // `typedef enum { A, C, G, U } base_t;`: its enumerators are
            // constants and `base_t` its underlying integer type.
            let underlying = self.enum_def(cx, t);
            if let Some(ty) = underlying {
                if let Some(name) = field!(t, "name") {
                    self.model
                        .types
                        .aliases
                        .insert(cx.text(name).to_string(), ty.clone());
                }
                base = Type {
                    is_const: base.is_const,
                    ..ty
                };
            }
        }
        let declarators: Vec<DeclaratorInfo> = field_children(node, "declarator")
            .into_iter()
            .map(|d| unwrap_declarator(cx, d))
            .collect();
        if matches!(
            t.kind(),
            "struct_specifier" | "class_specifier" | "union_specifier"
        ) && field!(t, "body").is_some()
        {
            // The struct takes the name of the declarator that names it
            // (`typedef struct {...} P;`), else its tag (`typedef struct
            // fparam {...} *fparam_t;`); the other declarators are
            // pointers to it or arrays of it.
            let tag = field!(t, "name").map(|n| cx.text(n).to_string());
            let plain = (declarators.iter())
                .find(|i| i.pointer == 0 && i.dims.is_empty() && !i.name.is_empty())
                .map(|i| i.name.clone());
            let Some(name) = plain.or_else(|| tag.clone()).or_else(|| {
                let first = declarators.first()?;
                Some(format!("{}_struct", first.name))
            }) else {
                return;
            };
            self.struct_body(cx, &name, t);
            if let Some(tag) = tag.filter(|t| *t != name) {
                self.model.types.aliases.insert(tag, Type::named(&name));
            }
            base.base = name.clone();
            for info in &declarators {
                if info.name != name {
                    self.type_alias(cx, info, &base);
                }
            }
            return;
        }
        for info in &declarators {
            self.type_alias(cx, info, &base);
        }
    }

    /// `tab2_t t;` declares `int t[4][4]`: moves an array type name's
    /// extents into `dims` (after the declarator's own: `tab2_t t[3]` is
    /// `int t[3][4][4]`) and its element into `ty`. Returns how many
    /// extents it added.
    fn expand_array_alias(&self, ty: &mut Type, dims: &mut Vec<Option<Expr>>, span: Span) -> usize {
        let Some((element, more)) = self.model.types.array_element(ty) else {
            return 0;
        };
        for &n in &more {
            dims.push(Some(Expr {
                kind: ExprKind::Int {
                    value: n as i64,
                    unsigned: false,
                    long: false,
                },
                span,
                from_macro: false,
            }));
        }
        *ty = Type {
            restrict: ty.restrict,
            ..element
        };
        more.len()
    }

    /// The extents written in a declarator (`[N][2 * M]`), each evaluated;
    /// `None` when one is unknown or left out (`[]`).
    fn extents(&mut self, cx: &Cx, dims: &[Option<Node>]) -> Option<Vec<u64>> {
        let mut out = Vec::with_capacity(dims.len());
        for d in dims {
            let e = self.expr(cx, (*d)?);
            let n = self.model.const_env().eval(&e)?;
            out.push(u64::try_from(n).ok()?);
        }
        Some(out)
    }

    /// A struct defined inside the struct `outer` (`struct tri_t {...}
    /// tri[8];`, or a nested type): laid out under its own name, which
    /// `outer::inner` names too. Returns that name.
    fn nested_struct(&mut self, cx: &Cx, outer: &str, inner: String, spec: Node) -> String {
        self.struct_body(cx, &inner, spec);
        self.model
            .types
            .aliases
            .insert(format!("{outer}::{inner}"), Type::named(&inner));
        inner
    }

    /// The alignment the layout attributes of struct specifier `spec` ask
    /// for (1 without any) and whether one says `packed`; `None` when one
    /// cannot be read.
    fn struct_layout_attributes(&mut self, cx: &Cx, spec: Node) -> Option<(u64, bool)> {
        let (mut align, mut packed) = (1u64, false);
        let mut c = spec.walk();
        let attributes: Vec<Node> = spec
            .children(&mut c)
            .filter(|ch| matches!(ch.kind(), "alignas_qualifier" | "attribute_specifier"))
            .collect();
        for a in attributes {
            match self.layout_attribute(cx, a)? {
                0 => packed = true,
                n => align = align.max(n),
            }
        }
        Some((align, packed))
    }

    /// The alignment a layout attribute of a struct asks for (1 for an
    /// attribute that does not touch the layout, 0 for `packed`); `None`
    /// for one we cannot read.
    fn layout_attribute(&mut self, cx: &Cx, a: Node) -> Option<u64> {
        let text = cx.text(a);
        if text.contains("packed") {
            return (!text.contains("aligned")).then_some(0);
        }
        let argument = if a.kind() == "alignas_qualifier" {
            Some(a.named_child(0)?)
        } else if text.contains("aligned") {
            // `__attribute__((aligned(16)))`: the call's one argument
            // (`aligned` alone means the target's largest alignment).
            let mut stack = vec![a];
            let mut found = None;
            while let Some(n) = stack.pop() {
                if n.kind() == "call_expression"
                    && field!(n, "function")
                        .is_some_and(|f| matches!(cx.text(f), "aligned" | "__aligned__"))
                {
                    found = field!(n, "arguments").and_then(|args| args.named_child(0));
                    break;
                }
                let mut c = n.walk();
                stack.extend(n.named_children(&mut c));
            }
            Some(found?)
        } else {
            None
        };
        let Some(argument) = argument else {
            return Some(1);
        };
        if argument.kind().contains("type") {
            let ty = self.type_descriptor(cx, argument);
            return self.model.types.layout(&ty).map(|(_, a)| a);
        }
        let e = self.expr(cx, argument);
        let n = self.model.const_env().eval(&e)?;
        u64::try_from(n).ok().filter(|n| n.is_power_of_two())
    }

    /// Records `typedef <base> <declarator>;`: a name for a type, or for an
    /// array type when the declarator has extents.
    fn type_alias(&mut self, cx: &Cx, info: &DeclaratorInfo, base: &Type) {
        let mut ty = base.clone();
        ty.pointer += info.pointer;
        if info.pointer > 0 && !info.dims.is_empty() {
            // `typedef int (*row_t)[4]` and `typedef int *ptrs_t[4]` read
            // the same here: leave the name unknown rather than guess.
            return;
        }
        // An array type of unknown extent stays an unknown type.
        let Some(mut dims) = self.extents(cx, &info.dims) else {
            return;
        };
        let types = &mut self.model.types;
        // `typedef tab2_t tab3_t[3];`: an array of an array type.
        if let Some((element, more)) = types.array_element(&ty) {
            dims.extend(more);
            ty = element;
        }
        if dims.is_empty() {
            types.aliases.insert(info.name.clone(), ty);
        } else {
            types.array_aliases.insert(
                info.name.clone(),
                crate::types::ArrayAlias { element: ty, dims },
            );
        }
    }

    /// Records a file-scope constant under its name and under each
    /// qualified name that reaches it (`dUtils::AigConst0` in `namespace
    /// dUtils`, `Mode::Slow` for an enumerator of `enum class Mode`,
    /// `a::b::Mode::Slow`): a qualified use then finds this constant, not
    /// another namespace's of the same name.
    fn insert_const(&mut self, name: &str, enum_name: Option<&str>, value: i128) {
        let namespaces: Vec<&str> = self.namespaces.iter().map(String::as_str).collect();
        let mut scopes = vec![namespaces.clone()];
        // An unscoped enum's enumerators are also its namespace's names.
        if let Some(e) = enum_name {
            scopes[0].push(e);
            scopes.push(namespaces);
        }
        for scope in scopes {
            for from in 0..scope.len() {
                let qualified = format!("{}::{name}", scope[from..].join("::"));
                self.model.consts.insert(qualified, value);
            }
        }
        self.model.consts.insert(name.to_string(), value);
    }

    /// Records the enumerators of an enum definition as constants; returns
    /// its underlying type: the one written (`enum E : short`), `int` for an
    /// `enum class`, else (C++ [dcl.enum]) `int` when every value fits,
    /// then `unsigned int`, then `long`/`unsigned long` (what an unscoped
    /// enum promotes to as well). `None` without a body.
    fn enum_def(&mut self, cx: &Cx, node: Node) -> Option<Type> {
        let body = field!(node, "body")?;
        let written = field!(node, "base").map(|b| self.type_from(cx, node, b));
        let scoped = {
            let mut c = node.walk();
            node.children(&mut c)
                .any(|ch| matches!(cx.text(ch), "class" | "struct"))
        };
        let enum_name = field!(node, "name").map(|n| cx.text(n).to_string());
        let (mut low, mut high) = (0i128, 0i128);
        let mut next: Option<i128> = Some(0);
        let mut unknown = false;
        let mut c = body.walk();
        let children: Vec<Node> = body.named_children(&mut c).collect();
        for e in children {
            if e.kind() != "enumerator" {
                continue;
            }
            let Some(name) = field!(e, "name") else {
                continue;
            };
            if let Some(v) = field!(e, "value") {
                let ex = self.expr(cx, v);
                match self.model.const_env().eval(&ex) {
                    Some(v) => next = Some(v),
                    // `A = sizeof(T)` in a class template: unknown here,
                    // and so is every enumerator counted on from it.
                    None => next = None,
                }
            }
            let Some(value) = next else {
                unknown = true;
                continue;
            };
            self.insert_const(cx.text(name), enum_name.as_deref(), value);
            low = low.min(value);
            high = high.max(value);
            next = Some(value.wrapping_add(1));
        }
        let fits = |lo: i128, hi: i128| low >= lo && high <= hi;
        let base = match written {
            Some(t) => {
                return Some(Type {
                    is_const: false,
                    ..t
                });
            }
            // Scoped enums are `int` whatever their values.
            None if scoped => "int",
            // An unknown value could need a wider type.
            None if unknown => return None,
            None if fits(i32::MIN.into(), i32::MAX.into()) => "int",
            None if fits(0, u32::MAX.into()) => "unsigned int",
            None if fits(i64::MIN.into(), i64::MAX.into()) => "long",
            None => "unsigned long",
        };
        Some(Type::named(base))
    }
}

/// Where the `#define` and `#undef` lines of `text` start, as offsets from
/// `base` (the text's start in its source), in order.
fn macro_directive_offsets(text: &str, base: usize) -> Vec<usize> {
    if !text.contains('#') {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        if let Some(rest) = body.strip_prefix('#') {
            let word = rest.trim_start();
            if word.starts_with("define") || word.starts_with("undef") {
                out.push(base + line_start + (line.len() - body.len()));
            }
        }
        line_start += line.len();
    }
    out
}

/// The children of `n` under field `field` (a declaration may have several declarators).
pub(super) fn field_children<'t>(n: Node<'t>, field: &str) -> Vec<Node<'t>> {
    let mut c = n.walk();
    n.children_by_field_name(field, &mut c).collect()
}

fn last_named<'t>(n: Node<'t>, kind: &str) -> Option<Node<'t>> {
    let mut c = n.walk();
    n.named_children(&mut c)
        .filter(|ch| ch.kind() == kind)
        .last()
}

/// The statements/items of one `#if` branch (not its condition or its `#else`).
fn branch_body(n: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut c = n.walk();
    for (i, ch) in n.children(&mut c).enumerate() {
        if ch.is_named() && n.field_name_for_child(i as u32).is_none() && ch.kind() != "comment" {
            out.push(ch);
        }
    }
    out
}

fn find_function_declarator(mut d: Node) -> Option<Node> {
    for _ in 0..32 {
        match d.kind() {
            "function_declarator" => return Some(d),
            "pointer_declarator"
            | "reference_declarator"
            | "parenthesized_declarator"
            | "attributed_declarator" => {
                d = field!(d, "declarator")
                    .or_else(|| d.named_child(d.named_child_count().saturating_sub(1) as u32))?;
            }
            _ => return None,
        }
    }
    None
}

fn pointer_depth_until(mut d: Node, target: Node) -> u8 {
    let mut n = 0;
    while d.id() != target.id() {
        if d.kind() == "pointer_declarator" {
            n += 1;
        }
        match field!(d, "declarator") {
            Some(next) => d = next,
            None => break,
        }
    }
    n
}

/// What a function definition declares: its function declarator, the
/// node that spells its name, and the name (`f`, `S::f`).
struct DeclaredFunction<'t> {
    fdecl: Node<'t>,
    name_node: Node<'t>,
    name: String,
    /// `operator int()`: the type it converts to (`int`, also its name).
    conversion: Option<Node<'t>>,
    /// After CUDA's attributes the grammar reads `operator int()` as a
    /// function `int()` of type `operator`: `name_node` spells the type.
    operator_typed: bool,
}

/// The function `node` (a definition whose first declarator is
/// `declarator`) declares; a conversion operator (HeCBench idivide's
/// `int_fastdiv::operator int() const`) is named `operatorint`.
fn declared_function<'t>(
    cx: &Cx,
    node: Node<'t>,
    declarator: Node<'t>,
) -> Option<DeclaredFunction<'t>> {
    if declarator.kind() == "operator_cast" {
        let t = field!(declarator, "type")?;
        let fdecl = field!(declarator, "declarator")
            .filter(|d| d.kind() == "abstract_function_declarator")?;
        return Some(DeclaredFunction {
            fdecl,
            name_node: t,
            name: format!("operator{}", cx.text(t)),
            conversion: Some(t),
            operator_typed: false,
        });
    }
    let fdecl = find_function_declarator(declarator)?;
    let name_node = field!(fdecl, "declarator")?;
    let operator_typed = field!(node, "type").is_some_and(|t| cx.text(t) == "operator");
    let name = match operator_typed {
        true => format!("operator{}", cx.text(name_node)),
        false => cx.text(name_node).to_string(),
    };
    Some(DeclaredFunction {
        fdecl,
        name_node,
        name,
        conversion: None,
        operator_typed,
    })
}

/// Whether a `&`/`&&` stands between `d` and the function declarator
/// `target` (`float &at(int i)`).
fn has_reference_until(mut d: Node, target: Node) -> bool {
    while d.id() != target.id() {
        if d.kind() == "reference_declarator" {
            return true;
        }
        // A reference declarator holds its inner declarator unnamed.
        let last = d.named_child_count().saturating_sub(1) as u32;
        match field!(d, "declarator").or_else(|| d.named_child(last)) {
            Some(next) => d = next,
            None => break,
        }
    }
    false
}

pub(super) struct DeclaratorInfo<'t> {
    pub name: String,
    pub name_span: Span,
    pub pointer: u8,
    pub restrict: bool,
    pub dims: Vec<Option<Node<'t>>>,
    pub init: Option<Node<'t>>,
}

pub(super) fn unwrap_declarator<'t>(cx: &Cx, mut d: Node<'t>) -> DeclaratorInfo<'t> {
    let mut info = DeclaratorInfo {
        name: String::new(),
        name_span: cx.span(d),
        pointer: 0,
        restrict: false,
        dims: Vec::new(),
        init: None,
    };
    for _ in 0..64 {
        match d.kind() {
            "init_declarator" => {
                info.init = field!(d, "value");
            }
            "pointer_declarator" => {
                info.pointer += 1;
                let mut c = d.walk();
                for ch in d.children(&mut c) {
                    if ch.kind() == "type_qualifier"
                        && matches!(cx.text(ch), "__restrict__" | "__restrict" | "restrict")
                    {
                        info.restrict = true;
                    }
                }
            }
            "array_declarator" => info.dims.insert(0, field!(d, "size")),
            "reference_declarator" | "parenthesized_declarator" | "attributed_declarator" => {
                match d.named_child(0) {
                    Some(n) => {
                        d = n;
                        continue;
                    }
                    None => break,
                }
            }
            "identifier" | "field_identifier" | "type_identifier" | "qualified_identifier" => {
                info.name = cx.text(d).to_string();
                info.name_span = cx.span(d);
                break;
            }
            _ => break,
        }
        match field!(d, "declarator") {
            Some(next) => d = next,
            None => break,
        }
    }
    info
}

impl Builder<'_> {
    /// The members of an anonymous struct inside a union, as bits of the
    /// word the hidden member `unit` holds: only 8-, 16- and 32-bit
    /// integers, one declarator each, no arrays, laid out with C's
    /// alignment within 4 bytes; `None` for anything else.
    fn anonymous_word_members(
        &mut self,
        cx: &Cx,
        spec: Node,
        unit: &str,
    ) -> Option<(Vec<crate::types::BitField>, u64)> {
        let body = field!(spec, "body")?;
        let (align, packed) = self.struct_layout_attributes(cx, spec)?;
        if packed {
            return None;
        }
        let mut c = body.walk();
        let children: Vec<Node> = body.named_children(&mut c).collect();
        let mut members = Vec::new();
        let mut end = 0u32;
        for f in children {
            if f.kind() == "comment" {
                continue;
            }
            if f.kind() != "field_declaration" {
                return None;
            }
            let t = field!(f, "type")?;
            let written = self.type_from(cx, f, t);
            let ty = self.model.types.resolve(&written);
            let (bytes, signed) = match normalize_base(&ty.base).as_str() {
                "char" | "signed char" | "int8_t" => (1, true),
                "unsigned char" | "uint8_t" => (1, false),
                "short" | "int16_t" => (2, true),
                "unsigned short" | "uint16_t" => (2, false),
                "int" | "int32_t" => (4, true),
                "unsigned int" | "uint32_t" => (4, false),
                _ => return None,
            };
            for d in field_children(f, "declarator") {
                let info = unwrap_declarator(cx, d);
                if ty.pointer > 0 || info.pointer > 0 || !info.dims.is_empty() {
                    return None;
                }
                let offset = end.div_ceil(bytes) * bytes;
                end = offset + bytes;
                if end > 4 {
                    return None;
                }
                members.push(crate::types::BitField {
                    name: info.name,
                    unit: unit.to_string(),
                    offset: offset * 8,
                    width: bytes * 8,
                    signed,
                });
            }
        }
        (!members.is_empty()).then_some((members, align))
    }
}

/// A hidden word of bit-fields while a struct is read: its member name,
/// the bits given out, and the width of its first bit-field.
struct BitUnit {
    name: String,
    used: u32,
    first_width: u32,
}

impl BitUnit {
    /// The hidden member holding word `index` (no C name can clash: the
    /// model's own prefix).
    fn name(index: usize) -> String {
        format!("cudalens_bits{index}")
    }

    /// A new word, `used` bits given out, as the struct's next member
    /// (an `unsigned int`); its index.
    fn add(
        units: &mut Vec<BitUnit>,
        fields: &mut Vec<(String, Type, Vec<u64>)>,
        used: u32,
        first_width: u32,
    ) -> usize {
        let name = BitUnit::name(units.len());
        fields.push((name.clone(), Type::named("unsigned int"), Vec::new()));
        units.push(BitUnit {
            name,
            used,
            first_width,
        });
        units.len() - 1
    }
}

/// Whether the hidden words of bit-fields sit where the Itanium ABI
/// (nvcc's on Linux) puts the bits: a word begins at a 4-byte boundary
/// only where the first bit-field would not fit in the word that holds
/// the previous member's end, and the member after it starts where the
/// bits end (rounded up to its alignment), as after a whole word.
fn bit_units_laid_out_as_nvcc(
    types: &crate::types::TypeTable,
    name: &str,
    units: &[BitUnit],
) -> bool {
    let Some(def) = types.structs.get(name) else {
        return false;
    };
    let end_of = |f: &crate::types::StructField| {
        let size = types.size_of(&f.ty).unwrap_or(0);
        f.offset + size * f.array_len.max(1)
    };
    for unit in units {
        let Some(i) = def.fields.iter().position(|f| f.name == unit.name) else {
            return false;
        };
        let previous_end = if i == 0 {
            0
        } else {
            end_of(&def.fields[i - 1])
        };
        let bit = (previous_end % 4) * 8;
        if previous_end % 4 != 0 && bit + u64::from(unit.first_width) <= 32 {
            return false;
        }
        let bits_end = def.fields[i].offset + u64::from(unit.used).div_ceil(8);
        let next_start = match def.fields.get(i + 1) {
            Some(next) => {
                let align = types.layout(&next.ty).map_or(1, |l| l.1);
                if bits_end.div_ceil(align) * align != next.offset {
                    return false;
                }
                continue;
            }
            None => bits_end.div_ceil(def.align) * def.align,
        };
        if next_start != def.size {
            return false;
        }
    }
    true
}
