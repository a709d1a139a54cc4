//! Which function bodies in a file's headers its build can leave unparsed.
//!
//! Opening a file of ggml's CUDA backend reads about 0.9 MB of headers, and
//! parsing them with tree-sitter was two thirds of the open. Most of that
//! text is the bodies of functions the file never reaches (the kernels of
//! other files and their helpers). So before the headers are parsed, a
//! lexical pass ([`outline`]) finds in every header the file can reach the
//! function bodies at file and namespace scope, with the identifiers in
//! them, and [`plan`] keeps every body whose function's name can be reached
//! from the identifiers of the main file, of the headers' declarations,
//! struct bodies and macros, and of the bodies kept so far. The others are
//! left out of the parse (tree-sitter's included ranges: offsets stay those
//! of the file) and their functions are modelled as declarations.
//!
//! Each step over-approximates what can be reached (every `#include`
//! whichever branch it stands in, every identifier whatever it names, every
//! overload of a name), and a body is always kept when the pass cannot be
//! sure of it: a directive inside it, an operator, a name that is a macro,
//! token pasting that could build its name, braces that do not balance. So
//! the model of the main file is the one a full parse gives (the tests and
//! the conformance runs compare the two).

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use crate::preprocess::lex::tokenize;
use crate::preprocess::scan::{self, Directive};

/// What the pass found in one file.
#[derive(Debug, Default)]
pub struct Outline {
    /// Function bodies at file or namespace scope, in order.
    bodies: Vec<Body>,
    /// Struct, class and union definitions there: what their members
    /// name is reached only when the record is.
    records: Vec<Record>,
    /// Identifiers outside those bodies and their signatures: declarations,
    /// struct bodies, initialisers, directives.
    roots: Vec<Box<str>>,
    /// Names of the macros the file defines.
    macros: Vec<Box<str>>,
    /// What `##` in the file's macros can glue names from.
    pastes: Pastes,
}

/// A function body at file or namespace scope.
#[derive(Debug)]
struct Body {
    /// Each identifier written just before a `(` of the signature (the
    /// function's name among them: `Foo::bar(` gives `bar`, a constructor
    /// with an initialiser list gives its members too).
    names: Vec<Box<str>>,
    /// The bytes between the braces.
    interior: Range<usize>,
    /// The identifiers of the signature and the body.
    idents: Vec<Box<str>>,
    /// Never left out: an operator, or a directive inside.
    keep: bool,
}

/// A struct, class or union defined at file or namespace scope (always
/// parsed; what it names counts only once it is reached).
#[derive(Debug)]
struct Record {
    /// The identifiers of its head, keywords aside: its name, and also
    /// base classes and template parameters (reaching any reaches it).
    names: Vec<Box<str>>,
    /// The identifiers of its members.
    idents: Vec<Box<str>>,
}

/// What `##` in a file's macros can build names from. A chain `a ## b ##
/// c` with one macro parameter builds `prefix ARG suffix`, ARG being the
/// argument's text (never macro-expanded), so a name of that shape is
/// reached when ARG is.
#[derive(Debug, Default)]
struct Pastes {
    /// (prefix, suffix) of each chain with one parameter.
    chains: Vec<(Box<str>, Box<str>)>,
    /// Names chains without parameters build.
    fixed: Vec<Box<str>>,
    /// A chain with two parameters or more: any name can come out.
    any: bool,
}

impl Outline {
    /// Every identifier of the file, for the main file: whatever it names
    /// is reached.
    fn all_idents(&self) -> impl Iterator<Item = &str> {
        self.roots
            .iter()
            .chain(
                self.bodies
                    .iter()
                    .flat_map(|b| b.idents.iter().chain(&b.names)),
            )
            .chain(
                self.records
                    .iter()
                    .flat_map(|r| r.idents.iter().chain(&r.names)),
            )
            .map(|s| &**s)
    }
}

/// The interiors of the bodies left out of one header, in order.
pub type Excluded = Arc<[Range<usize>]>;

/// The bodies a build leaves out, by header.
#[derive(Debug, Default, Clone)]
pub struct Plan {
    /// Off: every body is parsed (no plan could be made, or the last one
    /// missed a header the build read).
    active: bool,
    /// Each header the plan was made over: the hash of its text then and
    /// the interiors of its bodies left out, in order.
    headers: HashMap<PathBuf, (u64, Excluded)>,
    /// The names of the functions left out: the plan holds while the main
    /// file names none of them (see [`Plan::still_holds_for`]).
    skipped_names: Arc<HashSet<Box<str>>>,
    /// The main file's text as last checked.
    main: Arc<str>,
}

/// The header a build reads is not one the plan was made over (or its
/// text changed since): the plan cannot vouch for the bodies it left out.
#[derive(Debug, PartialEq, Eq)]
pub struct Unplanned;

impl Plan {
    /// A plan that leaves nothing out.
    pub fn off() -> Plan {
        Plan::default()
    }

    /// The interiors of the bodies of `header` (whose text hashes to
    /// `hash`) to leave out, in order.
    pub fn excluded(&self, header: &std::path::Path, hash: u64) -> Result<Excluded, Unplanned> {
        if !self.active {
            return Ok(Arc::from([]));
        }
        match self.headers.get(header) {
            Some((h, ranges)) if *h == hash => Ok(ranges.clone()),
            _ => Err(Unplanned),
        }
    }

    /// The main file's text, edited into `main`, still names no function
    /// this plan left out (else the headers are read again with a new
    /// plan). Only what changed since the last check is read, as raw
    /// identifiers, comments and strings included (so deleting a `/*`
    /// cannot bring a name to life unseen): an edit costs microseconds.
    pub fn still_holds_for(&mut self, main: &str) -> bool {
        if self.skipped_names.is_empty() {
            return true;
        }
        let old = self.main.as_bytes();
        let new = main.as_bytes();
        let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let room = old.len().min(new.len()) - prefix;
        let suffix = old
            .iter()
            .rev()
            .zip(new.iter().rev())
            .take(room)
            .take_while(|(a, b)| a == b)
            .count();
        // Widened to whole identifiers (and so to character boundaries).
        let mut start = prefix;
        while start > 0 && is_ident_byte(new[start - 1]) {
            start -= 1;
        }
        let mut end = new.len() - suffix;
        while end < new.len() && is_ident_byte(new[end]) {
            end += 1;
        }
        let changed = main.get(start..end.max(start)).unwrap_or(main);
        let mut holds = true;
        raw_idents(changed, |id| holds &= !self.skipped_names.contains(id));
        if holds {
            self.main = Arc::from(main);
        }
        holds
    }

    /// How many bodies, and how many bytes of text, it leaves out.
    pub fn left_out(&self) -> (usize, usize) {
        let ranges = || self.headers.values().flat_map(|(_, r)| r.iter());
        (ranges().count(), ranges().map(|r| r.len()).sum())
    }
}

/// The plan for a main file `text` whose reachable headers are `headers`.
pub fn plan(text: &str, headers: &[(PathBuf, u64, Arc<Outline>)]) -> Plan {
    let main = &outline(text);
    let all = || std::iter::once(main).chain(headers.iter().map(|(_, _, o)| &**o));
    if all().any(|o| o.pastes.any) {
        return Plan::off();
    }
    let macros: HashSet<&str> = all().flat_map(|o| o.macros.iter().map(|m| &**m)).collect();
    let chains: Vec<(&str, &str)> = all()
        .flat_map(|o| o.pastes.chains.iter().map(|(p, s)| (&**p, &**s)))
        .collect();
    // Which bodies are kept, and the names whose bodies and records are
    // waiting.
    let mut kept: Vec<Vec<bool>> = Vec::with_capacity(headers.len());
    let mut by_name: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    let mut records_by_name: HashMap<&str, Vec<&Record>> = HashMap::new();
    // Every identifier of the main file, in comments too (see
    // `Plan::still_holds_for`).
    let mut reached: HashSet<&str> = main.all_idents().collect();
    raw_idents(text, |id| {
        reached.insert(id);
    });
    reached.extend(all().flat_map(|o| o.pastes.fixed.iter().map(|f| &**f)));
    let mut work: Vec<&str> = Vec::new();
    for (h, (_, _, outline)) in headers.iter().enumerate() {
        reached.extend(outline.roots.iter().map(|s| &**s));
        for r in &outline.records {
            for n in &r.names {
                records_by_name.entry(n).or_default().push(r);
            }
        }
        let mut flags = Vec::with_capacity(outline.bodies.len());
        for (i, body) in outline.bodies.iter().enumerate() {
            let keep = body.keep
                || body.names.is_empty()
                || body.names.iter().any(|n| macros.contains(&**n));
            if keep {
                work.extend(body.idents.iter().map(|s| &**s));
            } else {
                for n in &body.names {
                    by_name.entry(n).or_default().push((h, i));
                }
            }
            flags.push(keep);
        }
        kept.push(flags);
    }
    work.extend(reached.iter().copied());
    let mut built = String::new();
    while let Some(name) = work.pop() {
        reached.insert(name);
        // The names `##` builds from this one.
        for (prefix, suffix) in &chains {
            built.clear();
            built.push_str(prefix);
            built.push_str(name);
            built.push_str(suffix);
            if built != name
                && let Some((key, _)) = by_name.get_key_value(built.as_str())
            {
                work.push(key);
            }
        }
        for r in records_by_name.remove(name).unwrap_or_default() {
            work.extend(
                r.idents
                    .iter()
                    .map(|s| &**s)
                    .filter(|s| !reached.contains(s)),
            );
        }
        let Some(bodies) = by_name.remove(name) else {
            continue;
        };
        for (h, i) in bodies {
            if !kept[h][i] {
                kept[h][i] = true;
                let body = &headers[h].2.bodies[i];
                work.extend(
                    body.idents
                        .iter()
                        .map(|s| &**s)
                        .filter(|s| !reached.contains(s)),
                );
            }
        }
    }
    let mut out = Plan {
        active: true,
        main: Arc::from(text),
        ..Plan::default()
    };
    let mut skipped = HashSet::new();
    for ((path, hash, outline), flags) in headers.iter().zip(&kept) {
        let ranges: Vec<Range<usize>> = outline
            .bodies
            .iter()
            .zip(flags)
            .filter(|(_, kept)| !**kept)
            .map(|(b, _)| {
                skipped.extend(b.names.iter().cloned());
                b.interior.clone()
            })
            .collect();
        out.headers.insert(path.clone(), (*hash, ranges.into()));
    }
    out.skipped_names = Arc::new(skipped);
    out
}

fn is_ident_byte(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80
}

/// Calls `f` with each identifier-like word of `text`, wherever it stands.
fn raw_idents<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !is_ident_byte(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_ident_byte(b[i]) {
            i += 1;
        }
        if !b[start].is_ascii_digit() {
            f(&text[start..i]);
        }
    }
}

/// Calls `f` with each identifier of `text` outside comments and literals.
fn scan_idents<'t>(text: &'t str, mut f: impl FnMut(&'t str)) {
    let mut lexer = Lexer::new(text);
    while let Some(tok) = lexer.next_token() {
        if let Tok::Ident(id) = tok {
            f(id);
        }
    }
}

/// Outlines one file's text (see the module documentation).
pub fn outline(text: &str) -> Outline {
    let mut out = Outline::default();
    let mut roots: HashSet<&str> = HashSet::new();
    let mut macros: HashSet<&str> = HashSet::new();
    // Open braces: the body being outlined is the innermost `Body`.
    let mut braces: Vec<Brace> = Vec::new();
    let mut stmt = Statement::default();
    // The body or record being read: its start, depth, identifiers,
    // whether it must be kept, whether it is a record.
    let mut body: Option<(usize, usize, HashSet<&str>, bool, bool)> = None;
    let mut balanced = true;
    // The conditionals open inside the body: the brace depth at their `#if`
    // and at the end of their first branch. Each branch starts from the
    // depth at the `#if` (`#if A` / `if (a) {` / `#else` / `if (b) {` /
    // `#endif` opens one brace); branches that disagree leave the file
    // with nothing left out.
    let mut conditionals: Vec<(usize, Option<usize>)> = Vec::new();
    let mut lexer = Lexer::new(text);
    while let Some(tok) = lexer.next_token() {
        if let Some((_, depth, idents, keep, _)) = &mut body {
            match tok {
                Tok::Ident(id) => {
                    idents.insert(id);
                }
                // Conditionals and pragmas act inside the body only (an
                // unbalanced one unbalances the file, which then keeps
                // everything); a macro defined or a header included there
                // acts on what follows, so the body is kept.
                Tok::Directive(line) => {
                    let d = scan::directive(line);
                    match d {
                        Directive::Define { .. }
                        | Directive::Undef(_)
                        | Directive::Include { .. } => {
                            *keep = true;
                            directive(line, &mut roots, &mut macros, &mut out.pastes);
                        }
                        _ => scan_idents(line.get(1..).unwrap_or(""), |id| {
                            idents.insert(id);
                        }),
                    }
                    match d {
                        Directive::If(_) | Directive::Ifdef { .. } => {
                            conditionals.push((*depth, None))
                        }
                        Directive::Elif(_) | Directive::Elifdef { .. } | Directive::Else => {
                            match conditionals.last_mut() {
                                Some((at_if, first)) => {
                                    if first.is_some_and(|f| f != *depth) {
                                        balanced = false;
                                    }
                                    first.get_or_insert(*depth);
                                    *depth = *at_if;
                                }
                                None => balanced = false,
                            }
                        }
                        Directive::Endif => match conditionals.pop() {
                            Some((_, Some(first))) => {
                                if first != *depth {
                                    balanced = false;
                                }
                                *depth = first;
                            }
                            Some((_, None)) => {}
                            None => balanced = false,
                        },
                        _ => {}
                    }
                    if *depth == 0 {
                        // A branch closed the body: where it ends is not sure.
                        balanced = false;
                        *depth = 1;
                    }
                }
                Tok::Punct(b'{', _) => *depth += 1,
                Tok::Punct(b'}', at) => {
                    *depth -= 1;
                    if *depth == 0 {
                        if !conditionals.is_empty() {
                            balanced = false;
                            conditionals.clear();
                        }
                        let (start, _, idents, keep, record) = body.take().unwrap_or_default();
                        let mut all = std::mem::take(&mut stmt.idents);
                        if record {
                            let names: Vec<Box<str>> = all
                                .iter()
                                .filter(|id| !HEAD_KEYWORDS.contains(id))
                                .map(|id| Box::from(*id))
                                .collect();
                            if names.is_empty() {
                                roots.extend(idents);
                            } else {
                                out.records.push(Record {
                                    names,
                                    idents: idents.into_iter().map(Box::from).collect(),
                                });
                            }
                            stmt = Statement::default();
                            continue;
                        }
                        all.extend(idents);
                        out.bodies.push(Body {
                            names: stmt.names.drain(..).map(Box::from).collect(),
                            interior: start..at,
                            idents: all.into_iter().map(Box::from).collect(),
                            keep: keep || stmt.operator,
                        });
                        stmt = Statement::default();
                    }
                }
                _ => {}
            }
            continue;
        }
        let scope = braces.last().is_none_or(|b| *b == Brace::Scope);
        match tok {
            Tok::Directive(line) => directive(line, &mut roots, &mut macros, &mut out.pastes),
            Tok::Ident(id) if scope => stmt.ident(id),
            Tok::Ident(id) => {
                roots.insert(id);
            }
            Tok::Punct(b'{', at) if scope => match stmt.opens() {
                Brace::Body => body = Some((at + 1, 1, HashSet::new(), false, false)),
                Brace::Record => body = Some((at + 1, 1, HashSet::new(), false, true)),
                kind => {
                    roots.extend(stmt.idents.drain());
                    stmt = Statement::default();
                    braces.push(kind);
                }
            },
            Tok::Punct(b'{', _) => braces.push(Brace::Other),
            Tok::Punct(b'}', _) => {
                roots.extend(stmt.idents.drain());
                stmt = Statement::default();
                if braces.pop().is_none() {
                    balanced = false;
                }
            }
            Tok::Punct(c, _) if scope => stmt.punct(c, &mut roots),
            Tok::Punct(..) | Tok::Other => {
                if scope {
                    stmt.last_ident = None;
                }
            }
        }
    }
    roots.extend(stmt.idents.drain());
    let unclosed = body.is_some();
    if let Some((_, _, idents, ..)) = body.take() {
        roots.extend(idents);
    }
    let mut owned: Vec<Box<str>> = Vec::new();
    if !braces.is_empty() || !balanced || unclosed {
        // Braces that only balance across `#if` branches: nothing is left
        // out of this file, and everything in it is reached.
        for b in out.bodies.drain(..) {
            owned.extend(b.idents);
        }
        for r in out.records.drain(..) {
            owned.extend(r.idents);
        }
    }
    owned.extend(roots.into_iter().map(Box::from));
    out.roots = owned;
    out.macros = macros.into_iter().map(Box::from).collect();
    out
}

/// Words written before a `(` in a signature that are not the function's
/// name (`__launch_bounds__(256)`, `decltype(x)`).
const NOT_NAMES: &[&str] = &[
    "__launch_bounds__",
    "__attribute__",
    "__align__",
    "__declspec",
    "alignas",
    "decltype",
    "noexcept",
    "throw",
    "__cluster_dims__",
    "__maxnreg__",
];

/// Words of a record's head that name nothing it defines.
const HEAD_KEYWORDS: &[&str] = &[
    "struct",
    "class",
    "union",
    "template",
    "typename",
    "public",
    "protected",
    "private",
    "virtual",
    "final",
    "alignas",
    "__align__",
    "__attribute__",
    "aligned",
    "const",
    "volatile",
    "static",
    "inline",
    "constexpr",
    "__device__",
    "__host__",
    "__forceinline__",
    "int",
    "bool",
    "unsigned",
    "size_t",
];

/// What an open brace at file or namespace scope opens.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Brace {
    /// A namespace or `extern "C"` block: functions inside are outlined.
    Scope,
    /// A function body.
    Body,
    /// A struct, class or union body.
    Record,
    /// A struct, enum, initialiser or anything else: read as a whole.
    Other,
}

/// The declaration being read at file or namespace scope.
#[derive(Default)]
struct Statement<'t> {
    idents: HashSet<&'t str>,
    names: Vec<&'t str>,
    last_ident: Option<&'t str>,
    parens: usize,
    /// Inside `template<...>` (its depth), or just after `template`.
    angle: usize,
    after_template: bool,
    namespace: bool,
    /// `struct`, `class` or `union`.
    record: bool,
    /// `enum`, `typedef`, `using`: a type, but not one read as a record.
    other_type: bool,
    extern_: bool,
    string: bool,
    assigned: bool,
    operator: bool,
}

impl<'t> Statement<'t> {
    fn ident(&mut self, id: &'t str) {
        self.idents.insert(id);
        if self.parens == 0 && self.angle == 0 {
            match id {
                "namespace" => self.namespace = true,
                "struct" | "class" | "union" => self.record = true,
                "enum" | "typedef" | "using" => self.other_type = true,
                "extern" => self.extern_ = true,
                "operator" => self.operator = true,
                "template" => self.after_template = true,
                _ => {}
            }
        }
        self.last_ident = Some(id);
    }

    fn punct(&mut self, c: u8, roots: &mut HashSet<&'t str>) {
        let last = self.last_ident.take();
        match c {
            b'(' => {
                if self.parens == 0
                    && self.angle == 0
                    && let Some(name) = last
                    && !NOT_NAMES.contains(&name)
                {
                    self.names.push(name);
                }
                self.parens += 1;
            }
            b')' => self.parens = self.parens.saturating_sub(1),
            b'<' if self.after_template || self.angle > 0 => {
                self.after_template = false;
                self.angle += 1;
            }
            b'>' if self.angle > 0 => self.angle -= 1,
            b'=' if self.parens == 0 && self.angle == 0 => self.assigned = true,
            b'"' => self.string = true,
            b';' if self.parens == 0 => {
                roots.extend(self.idents.drain());
                *self = Statement::default();
            }
            _ => {}
        }
        if c != b'<' {
            self.after_template = false;
        }
    }

    fn opens(&self) -> Brace {
        if self.namespace {
            Brace::Scope
        } else if self.record && !self.other_type && !self.assigned {
            Brace::Record
        } else if self.record || self.other_type || self.assigned {
            Brace::Other
        } else if !self.names.is_empty() {
            Brace::Body
        } else if self.extern_ && self.string {
            Brace::Scope
        } else {
            Brace::Other
        }
    }
}

/// Reads one directive line: its identifiers are reached, the macro it
/// defines is noted, and so is what its `##` can glue.
fn directive<'t>(
    line: &'t str,
    roots: &mut HashSet<&'t str>,
    macros: &mut HashSet<&'t str>,
    pastes: &mut Pastes,
) {
    // After the `#` (a `#` that starts the text is read as a directive).
    scan_idents(line.get(1..).unwrap_or(""), |id| {
        roots.insert(id);
    });
    let Directive::Define {
        name_at,
        params,
        body,
        ..
    } = scan::directive(line)
    else {
        return;
    };
    macros.insert(name_at.text(line));
    if !body.contains("##") {
        return;
    }
    let params = params.unwrap_or_default();
    let is_param = |t: &str| params.iter().any(|p| p == t) || t == "__VA_ARGS__";
    let tokens = tokenize(&body);
    let mut i = 0;
    while i < tokens.len() {
        // A chain: operands joined by `##`.
        let mut end = i;
        while tokens.get(end + 1).is_some_and(|t| t.is("##")) && end + 2 < tokens.len() {
            end += 2;
        }
        if end == i {
            i += 1;
            continue;
        }
        let operands: Vec<&str> = tokens[i..=end]
            .iter()
            .step_by(2)
            .map(|t| t.text.as_str())
            .collect();
        let params_at: Vec<usize> = (0..operands.len())
            .filter(|&k| is_param(operands[k]))
            .collect();
        match params_at[..] {
            [] => {
                // A fixed name.
                pastes.fixed.push(operands.concat().into());
            }
            [k] => pastes.chains.push((
                operands[..k].concat().into(),
                operands[k + 1..].concat().into(),
            )),
            _ => pastes.any = true,
        }
        i = end + 1;
    }
}

/// One token of the lexical pass.
enum Tok<'t> {
    Ident(&'t str),
    /// A punctuation byte and its offset (`"` stands for a string literal).
    Punct(u8, usize),
    /// A whole directive line.
    Directive(&'t str),
    /// A number or character literal.
    Other,
}

/// A lexer for the pass: identifiers, braces and the few punctuators that
/// shape declarations; comments skipped, literals and directives whole.
struct Lexer<'t> {
    text: &'t str,
    at: usize,
    /// Only blanks since the last newline (a `#` here starts a directive).
    line_start: bool,
}

impl<'t> Lexer<'t> {
    fn new(text: &'t str) -> Self {
        Lexer {
            text,
            at: 0,
            line_start: true,
        }
    }

    fn next_token(&mut self) -> Option<Tok<'t>> {
        let b = self.text.as_bytes();
        loop {
            let i = self.at;
            let c = *b.get(i)?;
            match c {
                b'\n' => {
                    self.line_start = true;
                    self.at += 1;
                }
                b' ' | b'\t' | b'\r' | 0x0b | 0x0c => self.at += 1,
                b'\\' if matches!(b.get(i + 1), Some(b'\n' | b'\r')) => self.at += 2,
                b'/' if b.get(i + 1) == Some(&b'/') => {
                    self.at = find_byte(b, i, b'\n');
                }
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    self.at = find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
                }
                b'#' if self.line_start => {
                    let end = directive_end(b, i);
                    self.at = end;
                    return Some(Tok::Directive(&self.text[i..end]));
                }
                _ => {
                    self.line_start = false;
                    return Some(self.token(i, c));
                }
            }
        }
    }

    fn token(&mut self, i: usize, c: u8) -> Tok<'t> {
        let b = self.text.as_bytes();
        if is_ident_byte(c) && !c.is_ascii_digit() {
            let mut j = i + 1;
            while j < b.len() && is_ident_byte(b[j]) {
                j += 1;
            }
            let id = &self.text[i..j];
            if b.get(j) == Some(&b'"') && matches!(id, "R" | "LR" | "uR" | "UR" | "u8R") {
                self.at = raw_string_end(b, j);
                return Tok::Punct(b'"', i);
            }
            self.at = j;
            return Tok::Ident(id);
        }
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let mut j = i + 1;
            while j < b.len() {
                let d = b[j];
                let hex = b[i..j].starts_with(b"0x") || b[i..j].starts_with(b"0X");
                let exponent = if hex {
                    b"pP".as_slice()
                } else {
                    b"eEpP".as_slice()
                };
                let exponent_sign = matches!(d, b'+' | b'-') && exponent.contains(&b[j - 1]);
                if d.is_ascii_alphanumeric()
                    || d == b'.'
                    || d == b'_'
                    || d == b'\''
                    || exponent_sign
                {
                    j += 1;
                } else {
                    break;
                }
            }
            self.at = j;
            return Tok::Other;
        }
        match c {
            b'"' => {
                self.at = literal_end(b, i, b'"');
                Tok::Punct(b'"', i)
            }
            b'\'' => {
                self.at = literal_end(b, i, b'\'');
                Tok::Other
            }
            _ => {
                self.at = i + 1;
                Tok::Punct(c, i)
            }
        }
    }
}

fn find_byte(b: &[u8], from: usize, byte: u8) -> usize {
    b[from..]
        .iter()
        .position(|&c| c == byte)
        .map_or(b.len(), |p| from + p)
}

fn find(b: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(pat.len())
        .position(|w| w == pat)
        .map(|p| from + p)
}

/// The end of a string or character literal opened at `i` (an unclosed one
/// ends with its line).
fn literal_end(b: &[u8], i: usize, quote: u8) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'\n' => return j,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// The end of a raw string literal whose `"` is at `quote`.
fn raw_string_end(b: &[u8], quote: usize) -> usize {
    let Some(open) = b[quote..]
        .iter()
        .position(|&c| c == b'(')
        .map(|p| quote + p)
    else {
        return b.len();
    };
    let mut close = Vec::with_capacity(open - quote + 1);
    close.push(b')');
    close.extend_from_slice(&b[quote + 1..open]);
    close.push(b'"');
    find(b, open, &close).map_or(b.len(), |p| p + close.len())
}

/// The end of the directive line starting at `i` (continuations joined).
fn directive_end(b: &[u8], i: usize) -> usize {
    let mut j = i;
    while j < b.len() {
        match b[j] {
            b'\\' if b.get(j + 1) == Some(&b'\n') => j += 2,
            b'\\' if b.get(j + 1) == Some(&b'\r') && b.get(j + 2) == Some(&b'\n') => j += 3,
            b'\n' => return j,
            b'/' if b.get(j + 1) == Some(&b'*') => {
                // A block comment may carry the line on.
                j = find(b, j + 2, b"*/").map_or(b.len(), |p| p + 2);
            }
            b'/' if b.get(j + 1) == Some(&b'/') => return find_byte(b, j, b'\n'),
            _ => j += 1,
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_left_out(main: &str, headers: &[(&str, &str)]) -> Vec<String> {
        let outlines: Vec<(PathBuf, u64, Arc<Outline>)> = headers
            .iter()
            .map(|(p, t)| (PathBuf::from(p), 7, Arc::new(outline(t))))
            .collect();
        let plan = plan(main, &outlines);
        let mut out = Vec::new();
        for (p, t) in headers {
            for r in plan.excluded(std::path::Path::new(p), 7).unwrap().iter() {
                // The function's name: the last identifier before the `(`
                // preceding the body.
                let head = &t[..r.start];
                let head = &head[..head.rfind('(').unwrap_or(0)];
                let name = head
                    .rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .find(|s| !s.is_empty())
                    .unwrap_or("");
                out.push(name.to_string());
            }
        }
        out
    }

    #[test]
    fn bodies_reached_from_the_main_file_are_kept() {
        let header = "\
            #pragma once\n\
            __device__ float leaf(float x) { return x * 2.0f; }\n\
            __device__ float helper(float x) { return leaf(x) + 1.0f; }\n\
            __device__ float unused(float x) { return x; }\n\
            namespace ns { __global__ void other_kernel(float* p) { p[0] = unused(1.0f); } }\n\
            struct S { __device__ float m() { return member_only(); } };\n\
            __device__ float member_only() { return 0.0f; }\n\
            template <typename T> struct Unused { __device__ T m() { return from_unused(); } };\n\
            __device__ float from_unused() { return 0.0f; }\n";
        let main = "#include \"h.cuh\"\n\
            __global__ void k(float* p) { S s; p[threadIdx.x] = helper(p[0]) + s.m(); }\n";
        // `other_kernel` and the `unused` it calls are left out, and what
        // the members of a struct the file never names call; what `k`
        // reaches, through a struct it uses too, is kept.
        assert_eq!(
            names_left_out(main, &[("h.cuh", header)]),
            ["unused", "other_kernel", "from_unused"]
        );
    }

    #[test]
    fn what_the_pass_cannot_be_sure_of_is_kept() {
        // A macro defined inside, an operator, a macro-named definition,
        // braces that balance only across branches.
        let header = "\
            #define DEFINE_KERNEL(n) __global__ void n(float* p)\n\
            __device__ int with_define(int x) {\n#define ONE 1\n return ONE; }\n\
            __device__ float3 operator+(float3 a, float3 b) { return a; }\n\
            DEFINE_KERNEL(made_by_macro) { p[0] = 1.0f; }\n";
        assert_eq!(
            names_left_out("int main() {}", &[("h.cuh", header)]),
            Vec::<String>::new()
        );
        let unbalanced = "#if A\nvoid f(int a) {\n#else\nvoid f() {\n#endif\n}\nvoid g() { }\n";
        assert!(names_left_out("", &[("u.h", unbalanced)]).is_empty());
    }

    #[test]
    fn conditionals_and_pragmas_inside_a_body_go_with_it() {
        let header = "\
            __device__ float fast(float x) { return x; }\n\
            __device__ float reached(float x) {\n#if FAST\n return fast(x);\n#else\n return x;\n#endif\n}\n\
            __device__ float unreached(float* p) {\n float s = 0;\n#pragma unroll\n for (int i = 0; i < 4; ++i) s += p[i];\n#ifdef SLOW\n s = slow(s);\n#endif\n return s;\n}\n";
        // `fast`, named under an `#if` of a reached body, is reached; a body
        // whose branches open a brace each is read as one.
        let header = format!(
            "{header}__global__ void __launch_bounds__(128) openers(int* p) {{\n\
             #if A\n if (p[0]) {{\n#else\n if (p[1]) {{\n#endif\n p[2] = 0; }}\n}}\n"
        );
        let header = header.as_str();
        assert_eq!(
            names_left_out("float f() { return reached(1.0f); }", &[("h.cuh", header)]),
            ["unreached", "openers"]
        );
    }

    #[test]
    fn token_pasting_keeps_the_names_it_can_build() {
        let header = "\
            #define LAUNCH(name) name##_kernel<<<1, 1>>>()\n\
            #define LOCALS(prefix) int prefix##0 = 0\n\
            __global__ void scale_kernel() { }\n\
            __global__ void other_kernel() { }\n\
            __device__ int ne0() { return 0; }\n\
            __device__ int x0() { return 0; }\n";
        // `scale_kernel` is built from `scale`; `x0` would be built from an
        // `x` the file names, `ne0` from no name it has.
        assert_eq!(
            names_left_out(
                "void f() { LAUNCH(scale); LOCALS(x); }",
                &[("h.cuh", header)]
            ),
            ["other_kernel", "ne0"]
        );
        let glue = "#define GLUE(a, b) a##_##b\n__global__ void x_y() { }\n";
        assert!(names_left_out("", &[("h.cuh", glue)]).is_empty());
        let fixed = "#define FIXED() fixed##_name()\n__device__ void fixed_name() { }\n";
        assert!(names_left_out("", &[("h.cuh", fixed)]).is_empty());
    }

    #[test]
    fn initialisers_lambdas_and_records_are_not_bodies() {
        let header = "\
            __constant__ float table[] = { 1.0f, 2.0f };\n\
            auto lambda = [](int x) { return x; };\n\
            template <typename T, int N = 2> struct Box { T v[N]; };\n\
            extern \"C\" { __global__ void in_extern_c(float* p) { p[0] = 0; } }\n\
            template <typename T> __device__ T twice(T x) { return x + x; }\n";
        assert_eq!(
            names_left_out("", &[("h.cuh", header)]),
            ["in_extern_c", "twice"]
        );
    }

    #[test]
    fn comments_strings_and_raw_strings_hide_braces_and_names() {
        let header = "\
            // void commented() {\n\
            /* } */ __device__ const char* s() { return \"}{\"; }\n\
            __device__ const char* r() { return R\"x(})x\"; }\n\
            __device__ int c() { return '}'; }\n";
        assert_eq!(names_left_out("", &[("h.cuh", header)]), ["s", "r", "c"]);
    }

    #[test]
    fn a_plan_holds_until_the_main_file_names_a_function_it_left_out() {
        let header = "__device__ float unused(float x) { return x; }\n";
        let outlines = [(PathBuf::from("h.cuh"), 1, Arc::new(outline(header)))];
        let mut plan = plan("int a;", &outlines);
        assert_eq!(
            plan.excluded(std::path::Path::new("h.cuh"), 2),
            Err(Unplanned)
        );
        assert_eq!(
            plan.excluded(std::path::Path::new("other.cuh"), 1),
            Err(Unplanned)
        );
        assert!(
            Plan::off()
                .excluded(std::path::Path::new("h.cuh"), 2)
                .unwrap()
                .is_empty()
        );
        assert!(plan.still_holds_for("int a;\nint b;\n"));
        assert!(plan.still_holds_for("int a;\nint b = 2;\n"));
        // Named in a comment: a `/*` deleted later would bring it to life.
        assert!(
            !plan
                .clone()
                .still_holds_for("int a;\nint b = 2; // unused\n")
        );
        assert!(!plan.still_holds_for("int a = unused(1.0f);\nint b = 2;\n"));
    }
}
