//! What in a file's headers its build can leave unparsed.
//!
//! Opening a file of ggml's CUDA backend reads about 0.9 MB of headers, and
//! parsing them with tree-sitter was two thirds of the open. Most of that
//! text is what the file never reaches: the bodies of other files' kernels
//! and their helpers, API declarations (`ggml.h`), lookup tables
//! (`ggml-common.h`). So before the headers are parsed, a lexical pass
//! ([`outline`]) finds in every header the file can reach, at file and
//! namespace scope: function bodies, function declarations and explicit
//! instantiations (also those written through a macro, `extern
//! DECL_CASE(int);`, expanded with every header's macros), `#define`s,
//! records, `static_assert`s and long runs of numbers, each with the
//! identifiers in it. [`plan`] then reaches names from the main file's code
//! and directives, and from the headers' other declarations (types,
//! variables, initialisers): a body, declaration or instantiation is kept
//! once a name it defines is reached, a macro's replacement once the macro
//! is, a record's members once the record is, and what is kept reaches
//! more. What is not kept is left out of the parse (tree-sitter's included
//! ranges: offsets stay those of the file); a function whose body is left
//! out is modelled as a declaration. `static_assert`s and a table's values
//! (at least [`MIN_TABLE_RUN`] bytes of numbers) are always left out: the
//! model checks no assertion, and the editor's diagnostics never read a
//! header table's values (`check`, `transpile` and `bench` build without a
//! plan, every value read).
//!
//! Each step over-approximates what can be reached (every `#include`
//! whichever branch it stands in, every identifier whatever it names, every
//! overload of a name, every definition of a macro), and an item is always
//! kept when the pass cannot be sure of it: a directive inside it, an
//! operator, a name that is a macro whose expansion is unsure, a macro
//! that can write a statement, token pasting that could build its name,
//! braces that do not balance. Names the main file writes only in comments
//! and strings are not reached; an edit that could bring one to life is
//! seen by [`Plan::still_holds_for`]. So the model of the main file is the
//! one a full parse gives, for everything the main file reaches (the tests
//! and the conformance runs compare the two).

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
    /// Function declarations (no body) there: each is read only when its
    /// name is reached.
    decls: Vec<Decl>,
    /// Long runs of number literals at file or namespace scope, the
    /// values of lookup tables (see [`MIN_TABLE_RUN`]).
    tables: Vec<Range<usize>>,
    /// `#define`s: what a replacement names is reached once its macro is.
    defines: Vec<Define>,
    /// `static_assert(...);` at file or namespace scope: always left out.
    asserts: Vec<Range<usize>>,
    /// Declarations at file or namespace scope written with words before a
    /// `(` that may be macros (`DECLARE_CASE(float);`): what they declare
    /// is known once the macros of every header are (see [`plan`]).
    macro_statements: Vec<MacroStatement>,
    /// Identifiers outside those bodies and their signatures: declarations,
    /// struct bodies, initialisers, directives.
    roots: Vec<Box<str>>,
    /// Names of the macros the file defines.
    macros: Vec<Box<str>>,
    /// Those of them whose replacement holds `;`, `{` or `}`: a
    /// declaration that uses one may declare more than it shows.
    statement_macros: Vec<Box<str>>,
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

/// A function declaration at file or namespace scope: `void f(int);`.
#[derive(Debug)]
struct Decl {
    name: Box<str>,
    /// Its text (expanded when its name is a macro: `DECLARE(f);`).
    text: Box<str>,
    /// From its first token to its `;`, inclusive.
    range: Range<usize>,
    /// Its identifiers, the name among them.
    idents: Vec<Box<str>>,
}

/// A macro definition.
#[derive(Debug)]
struct Define {
    name: Box<str>,
    params: Option<Vec<String>>,
    body: Box<str>,
    /// The identifiers of its parameters and replacement.
    idents: Vec<Box<str>>,
}

/// A declaration that is not plainly one function's: see
/// [`Outline::macro_statements`].
#[derive(Debug)]
struct MacroStatement {
    text: Box<str>,
    /// From its first token to its `;`, inclusive.
    range: Range<usize>,
    idents: Vec<Box<str>>,
    /// The words written before a `(` at its top level.
    names: Vec<Box<str>>,
}

/// The shortest run of number literals left out of a header's parse: a
/// lookup table's values (ggml's `ggml-common.h` holds 110 KB of them).
/// The editor's diagnostics never read a header table's values, and
/// `transpile`, `bench` and `check` build without a plan (every value read).
const MIN_TABLE_RUN: usize = 1024;

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
            .chain(self.decls.iter().flat_map(|d| d.idents.iter()))
            .chain(self.defines.iter().flat_map(|d| d.idents.iter()))
            .chain(self.macro_statements.iter().flat_map(|m| m.idents.iter()))
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
    /// identifiers, comments and strings included: an edit costs
    /// microseconds. An edit that could end or open a comment or a string
    /// (a `/`, `*`, quote, backslash or line break in or beside it) can
    /// bring code to life anywhere after it: the whole file's code is read
    /// again then (about a millisecond for 200 KB).
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
        // What changed, in the old text and the new, and the bytes beside
        // it (a `/` typed after a `/` opens a comment).
        let changed_old = &old[prefix..old.len() - suffix];
        let changed_new = &new[prefix..new.len() - suffix];
        let beside = [prefix.checked_sub(1), Some(new.len() - suffix)]
            .into_iter()
            .flatten()
            .filter_map(|i| new.get(i));
        let lexes = |c: &u8| matches!(c, b'/' | b'*' | b'"' | b'\'' | b'\\');
        let delimits = changed_old
            .iter()
            .chain(changed_new)
            .any(|c| lexes(c) || matches!(c, b'\n' | b'\r'))
            || beside.into_iter().any(lexes);
        if holds && delimits {
            scan_idents(main, |id| holds &= !self.skipped_names.contains(id));
        }
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
    let statement_macros: HashSet<&str> = all()
        .flat_map(|o| o.statement_macros.iter().map(|m| &**m))
        .collect();
    let chains: Vec<(&str, &str)> = all()
        .flat_map(|o| o.pastes.chains.iter().map(|(p, s)| (&**p, &**s)))
        .collect();
    let mut defines: HashMap<&str, Vec<&Define>> = HashMap::new();
    for d in all().flat_map(|o| &o.defines) {
        defines.entry(&d.name).or_default().push(d);
    }
    // What each declaration written through macros declares, found by
    // expanding it (see `MacroExpander`), before anything borrows it.
    let mut expander = MacroExpander::new(&defines);
    let expanded: Vec<Vec<Option<Vec<Box<str>>>>> = headers
        .iter()
        .map(|(_, _, o)| {
            o.macro_statements
                .iter()
                .map(|m| expander.declared_names(&m.text, &m.names, &m.idents))
                .collect()
        })
        .collect();
    // A declaration named by a macro (`DECLARE(f);`): what it expands to.
    let expanded_decls: Vec<Vec<Option<Vec<Box<str>>>>> = headers
        .iter()
        .map(|(_, _, o)| {
            o.decls
                .iter()
                .map(|d| {
                    macros.contains(&*d.name).then(|| {
                        expander.declared_names(&d.text, std::slice::from_ref(&d.name), &d.idents)
                    })?
                })
                .collect()
        })
        .collect();
    // Which bodies and declarations are kept, and the names whose bodies,
    // declarations and records are waiting.
    let mut kept: Vec<Vec<bool>> = Vec::with_capacity(headers.len());
    let mut kept_decls: Vec<Vec<bool>> = Vec::with_capacity(headers.len());
    let mut kept_statements: Vec<Vec<bool>> = Vec::with_capacity(headers.len());
    let mut by_name: HashMap<&str, Vec<(usize, Waiting)>> = HashMap::new();
    let mut records_by_name: HashMap<&str, Vec<&Record>> = HashMap::new();
    // Every identifier of the main file's code and directives (one that an
    // edit brings out of a comment or a string is seen by
    // `Plan::still_holds_for`).
    let mut reached: HashSet<&str> = main.all_idents().collect();
    reached.extend(all().flat_map(|o| o.pastes.fixed.iter().map(|f| &**f)));
    let mut work: Vec<&str> = Vec::new();
    for (h, (_, _, outline)) in headers.iter().enumerate() {
        reached.extend(outline.roots.iter().map(|s| &**s));
        // A declaration through macros is read once a name it declares is
        // reached; one whose expansion could not be read, always.
        let mut flags = Vec::with_capacity(outline.macro_statements.len());
        for (i, (m, declared)) in outline
            .macro_statements
            .iter()
            .zip(&expanded[h])
            .enumerate()
        {
            match declared {
                Some(names) => {
                    for n in names {
                        by_name
                            .entry(n)
                            .or_default()
                            .push((h, Waiting::Statement(i)));
                    }
                }
                None => work.extend(m.idents.iter().map(|s| &**s)),
            }
            flags.push(declared.is_none());
        }
        kept_statements.push(flags);
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
                    by_name.entry(n).or_default().push((h, Waiting::Body(i)));
                }
            }
            flags.push(keep);
        }
        kept.push(flags);
        // A declaration whose name is a macro, or that uses a macro that
        // can write a statement, may declare what it does not show.
        let mut flags = Vec::with_capacity(outline.decls.len());
        for (i, decl) in outline.decls.iter().enumerate() {
            let declared = match &expanded_decls[h][i] {
                Some(names) => Some(names.as_slice()),
                None if macros.contains(&*decl.name) => None,
                None => Some(std::slice::from_ref(&decl.name)),
            };
            let keep = declared.is_none()
                || decl
                    .idents
                    .iter()
                    .any(|id| statement_macros.contains(&**id));
            if keep {
                work.extend(decl.idents.iter().map(|s| &**s));
            } else {
                for n in declared.unwrap_or_default() {
                    by_name.entry(n).or_default().push((h, Waiting::Decl(i)));
                }
            }
            flags.push(keep);
        }
        kept_decls.push(flags);
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
            if built == name {
                continue;
            }
            if let Some((key, _)) = by_name.get_key_value(built.as_str()) {
                work.push(key);
            }
            if let Some((key, _)) = defines.get_key_value(built.as_str()) {
                work.push(key);
            }
        }
        // A macro reached: what its replacement names is; a record: what
        // its members name.
        let replacements = defines.remove(name).unwrap_or_default();
        let members = records_by_name.remove(name).unwrap_or_default();
        for idents in replacements
            .iter()
            .map(|d| &d.idents)
            .chain(members.iter().map(|r| &r.idents))
        {
            work.extend(idents.iter().map(|s| &**s).filter(|s| !reached.contains(s)));
        }
        let Some(waiting) = by_name.remove(name) else {
            continue;
        };
        for (h, item) in waiting {
            let (flag, idents) = match item {
                Waiting::Body(i) => (&mut kept[h][i], &headers[h].2.bodies[i].idents),
                Waiting::Decl(i) => (&mut kept_decls[h][i], &headers[h].2.decls[i].idents),
                Waiting::Statement(i) => (
                    &mut kept_statements[h][i],
                    &headers[h].2.macro_statements[i].idents,
                ),
            };
            if !*flag {
                *flag = true;
                work.extend(idents.iter().map(|s| &**s).filter(|s| !reached.contains(s)));
            }
        }
    }
    let mut out = Plan {
        active: true,
        main: Arc::from(text),
        ..Plan::default()
    };
    let mut skipped = HashSet::new();
    for (h, ((((path, hash, outline), flags), decl_flags), (statement_flags, declared))) in headers
        .iter()
        .zip(&kept)
        .zip(&kept_decls)
        .zip(kept_statements.iter().zip(&expanded))
        .enumerate()
    {
        let mut ranges: Vec<Range<usize>> = outline
            .bodies
            .iter()
            .zip(flags)
            .filter(|(_, kept)| !**kept)
            .map(|(b, _)| {
                skipped.extend(b.names.iter().cloned());
                b.interior.clone()
            })
            .collect();
        for ((d, names), _) in outline
            .decls
            .iter()
            .zip(&expanded_decls[h])
            .zip(decl_flags)
            .filter(|(_, kept)| !**kept)
        {
            match names {
                Some(names) => skipped.extend(names.iter().cloned()),
                None => {
                    skipped.insert(d.name.clone());
                }
            }
            ranges.push(d.range.clone());
        }
        for ((m, names), _) in outline
            .macro_statements
            .iter()
            .zip(declared)
            .zip(statement_flags)
            .filter(|(_, kept)| !**kept)
        {
            skipped.extend(names.iter().flatten().cloned());
            ranges.push(m.range.clone());
        }
        ranges.extend(outline.tables.iter().cloned());
        ranges.extend(outline.asserts.iter().cloned());
        // In order, none inside another (a table inside a left-out body).
        ranges.sort_by_key(|r| (r.start, std::cmp::Reverse(r.end)));
        let mut disjoint: Vec<Range<usize>> = Vec::with_capacity(ranges.len());
        for r in ranges {
            if disjoint.last().is_none_or(|last| r.start >= last.end) {
                disjoint.push(r);
            }
        }
        out.headers.insert(path.clone(), (*hash, disjoint.into()));
    }
    out.skipped_names = Arc::new(skipped);
    out
}

/// What waits for a name to be reached: a body, a declaration or a
/// declaration through macros, by index.
#[derive(Clone, Copy)]
enum Waiting {
    Body(usize),
    Decl(usize),
    Statement(usize),
}

/// Expands declarations written through macros (`extern DECL_CASE(int);`)
/// with the macros of every header the file can reach, to find what they
/// declare. A macro defined differently in two `#if` branches leaves what
/// its statements declare unknown, and so does one built on it; unless its
/// definitions differ only in names (`#define cudaStream_t hipStream_t`
/// for HIP, `musaStream_t` for MUSA): then the shape of a declaration is
/// sure, and only a name one of them writes is not.
struct MacroExpander {
    table: crate::preprocess::macros::MacroTable,
    /// Macros whose expansion is not sure.
    unsure: HashSet<String>,
    /// The names written by macros whose definitions differ only in names.
    renamed: HashSet<String>,
}

impl MacroExpander {
    fn new(defines: &HashMap<&str, Vec<&Define>>) -> Self {
        use crate::preprocess::macros::MacroDef;
        let mut table = crate::preprocess::macros::MacroTable::default();
        let mut unsure: HashSet<String> = HashSet::new();
        let mut renamed: HashSet<String> = HashSet::new();
        // A definition's tokens, with every name the same.
        let shape = |d: &Define| -> Vec<String> {
            tokenize(&d.body)
                .into_iter()
                .map(|t| match t.kind {
                    crate::preprocess::lex::TokKind::Ident => String::new(),
                    _ => t.text,
                })
                .collect()
        };
        for (name, defs) in defines {
            let first = defs[0];
            if defs[1..]
                .iter()
                .any(|d| d.params != first.params || d.body != first.body)
            {
                if defs[1..]
                    .iter()
                    .all(|d| d.params == first.params && shape(d) == shape(first))
                {
                    renamed.extend(
                        defs.iter()
                            .flat_map(|d| d.idents.iter().map(|i| i.to_string())),
                    );
                } else {
                    unsure.insert(name.to_string());
                    continue;
                }
            }
            table.define(MacroDef {
                name: name.to_string(),
                params: first.params.clone(),
                body: tokenize(&first.body),
                file: None,
                name_span: crate::span::Span::default(),
            });
        }
        // Built on an unsure macro: unsure (to a fixed point).
        loop {
            let more: Vec<String> = defines
                .iter()
                .filter(|(name, defs)| {
                    !unsure.contains(**name)
                        && defs
                            .iter()
                            .any(|d| d.idents.iter().any(|id| unsure.contains(&**id)))
                })
                .map(|(name, _)| name.to_string())
                .collect();
            if more.is_empty() {
                break;
            }
            unsure.extend(more);
        }
        MacroExpander {
            table,
            unsure,
            renamed,
        }
    }

    /// The names `m` declares, when it is only declarations of functions
    /// or explicit instantiations once expanded; `None` when that is not
    /// sure (it stays a root).
    fn declared_names(
        &mut self,
        text: &str,
        names: &[Box<str>],
        idents: &[Box<str>],
    ) -> Option<Vec<Box<str>>> {
        let through_macro = names
            .iter()
            .any(|n| self.table.get(n).is_some_and(|d| d.params.is_some()));
        if !through_macro || idents.iter().any(|id| self.unsure.contains(&**id)) {
            return None;
        }
        let text = self.table.expand_text(text).ok()?;
        let o = outline(&text);
        let only_declarations = o.roots.is_empty()
            && o.bodies.is_empty()
            && o.records.is_empty()
            && o.macro_statements.is_empty()
            && o.defines.is_empty()
            && !o.decls.is_empty();
        let names: Vec<Box<str>> = o.decls.into_iter().map(|d| d.name).collect();
        let sure = only_declarations && !names.iter().any(|n| self.renamed.contains(&**n));
        sure.then_some(names)
    }
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
    let mut statement_macros: HashSet<&str> = HashSet::new();
    let mut table = TableRun::default();
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
                            directive(line, &mut out.defines, &mut macros, &mut out.pastes);
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
        if scope || braces.last() == Some(&Brace::Other) {
            table.feed(&tok, scope && stmt.parens > 0, &mut out.tables);
        }
        match tok {
            Tok::Directive(line) => {
                if stmt.start.is_some() {
                    stmt.not_one_function = true;
                    stmt.directive = true;
                }
                if let Some(name) = directive(line, &mut out.defines, &mut macros, &mut out.pastes)
                {
                    statement_macros.insert(name);
                }
            }
            Tok::Ident(id) if scope => {
                stmt.starts_at(id.as_ptr() as usize - text.as_ptr() as usize);
                stmt.ident(id);
            }
            Tok::Punct(b';', at) if scope && stmt.parens == 0 => {
                let done = std::mem::take(&mut stmt);
                if done
                    .start
                    .is_some_and(|s| text[s..].starts_with("static_assert"))
                    && !done.directive
                {
                    // Declares nothing; the model does not check it.
                    out.asserts.push(done.start.unwrap_or(at)..at + 1);
                    continue;
                }
                let declared = done
                    .declared_function()
                    .or_else(|| done.instantiated_template());
                match (declared, done.start) {
                    (Some((name, start)), _) => out.decls.push(Decl {
                        name: name.into(),
                        text: text[start..at + 1].into(),
                        range: start..at + 1,
                        idents: done.idents.into_iter().map(Box::from).collect(),
                    }),
                    (None, Some(start)) if !done.names.is_empty() && !done.directive => {
                        out.macro_statements.push(MacroStatement {
                            text: text[start..at + 1].into(),
                            range: start..at + 1,
                            idents: done.idents.into_iter().map(Box::from).collect(),
                            names: done.names.into_iter().map(Box::from).collect(),
                        })
                    }
                    _ => roots.extend(done.idents),
                }
            }
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
            Tok::Punct(c, at) if scope => {
                stmt.starts_at(at);
                stmt.punct(c, &mut roots);
            }
            Tok::Punct(..) | Tok::Number(_) | Tok::Other => {
                if scope {
                    if stmt.start.is_none() {
                        stmt.not_one_function = true;
                    }
                    stmt.last_ident = None;
                    stmt.paren_head = ParenHead::Done;
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
    table.feed(&Tok::Other, false, &mut out.tables);
    if !braces.is_empty() || !balanced || unclosed {
        // Where declarations are is not sure either.
        for d in out.decls.drain(..) {
            owned.extend(d.idents);
        }
        for m in out.macro_statements.drain(..) {
            owned.extend(m.idents);
        }
    }
    owned.extend(roots.into_iter().map(Box::from));
    out.roots = owned;
    out.macros = macros.into_iter().map(Box::from).collect();
    out.statement_macros = statement_macros.into_iter().map(Box::from).collect();
    out
}

/// A run of number literals being read outside function bodies: `1, 2,
/// -3, ...` (a sign, a number, a comma), as a lookup table's values are
/// written inside `= { ... }` or between the macros that open and close
/// one (ggml's `GGML_TABLE_BEGIN(...) ... GGML_TABLE_END()`).
#[derive(Default)]
struct TableRun {
    /// Where the run started, where its last whole element (or the comma
    /// after it) ended, and where its last comma ended.
    span: Option<(usize, usize, usize)>,
    /// The last token read: 0 after a comma or at the start, 1 after a
    /// sign, 2 after a number.
    state: u8,
    /// The token before the run could open a list: `{`, `,` or `)`.
    may_start: bool,
}

impl TableRun {
    /// Reads one token; `in_parens`: inside a call's or a declarator's
    /// parentheses at file scope, where numbers are arguments. A finished
    /// run of at least [`MIN_TABLE_RUN`] bytes goes to `tables`.
    fn feed(&mut self, tok: &Tok, in_parens: bool, tables: &mut Vec<Range<usize>>) {
        match (tok, self.span) {
            (Tok::Number(r), Some((start, _, comma))) if self.state != 2 && !in_parens => {
                self.span = Some((start, r.end, comma));
                self.state = 2;
            }
            (Tok::Punct(b',', at), Some((start, ..))) if self.state == 2 => {
                self.span = Some((start, at + 1, at + 1));
                self.state = 0;
            }
            (Tok::Punct(b'-' | b'+', _), Some(_)) if self.state == 0 => self.state = 1,
            (Tok::Punct(b'-' | b'+', at), None) if self.may_start && !in_parens => {
                self.span = Some((*at, *at, *at));
                self.state = 1;
            }
            (Tok::Number(r), None) if self.may_start && !in_parens => {
                self.span = Some((r.start, r.end, r.start));
                self.state = 2;
            }
            _ => {
                if let Some((start, end, comma)) = self.span.take() {
                    // A run that ends with a number and goes on with an
                    // operator (`..., 3 * x }`) leaves its last element.
                    let operator =
                        matches!(tok, Tok::Punct(c, _) if !matches!(c, b'}' | b')' | b';'));
                    let end = if self.state == 2 && operator {
                        comma
                    } else {
                        end
                    };
                    if end - start >= MIN_TABLE_RUN {
                        tables.push(start..end);
                    }
                }
                self.state = 0;
                self.may_start = matches!(tok, Tok::Punct(b'{' | b',' | b')', _));
            }
        }
    }
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

/// Words written before a `(` that make a declarator in parentheses, not
/// a function (`int (x);`, `void (*handler)(int)`).
const TYPE_WORDS: &[&str] = &[
    "void",
    "bool",
    "char",
    "short",
    "int",
    "long",
    "float",
    "double",
    "signed",
    "unsigned",
    "auto",
    "const",
    "volatile",
    "static_assert",
    "sizeof",
    "alignof",
    "typeof",
    "__typeof__",
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
    /// The offset of its first token.
    start: Option<usize>,
    /// What makes it more than one function's declaration: a `,` between
    /// declarators, a directive inside, a literal where a declaration
    /// starts, a declarator in parentheses (`void (*p)(int)`).
    not_one_function: bool,
    /// Reading what follows the `(` after the name, for a declarator in
    /// parentheses: `(*`, `(&`, `(^` or `(Class::*`.
    paren_head: ParenHead,
    /// A directive stands inside it.
    directive: bool,
    /// An explicit instantiation (`template` and a word: `template void
    /// f<int>(int);`), and the template it instantiates.
    instantiation: bool,
    instantiated: Option<&'t str>,
}

/// See [`Statement::paren_head`].
#[derive(Default, Clone, Copy, PartialEq, Eq)]
enum ParenHead {
    #[default]
    Done,
    /// Just after the `(`.
    Open,
    /// After a name there (a `::` must follow).
    Name,
    /// After a `:` of a `::`.
    Colon,
}

impl<'t> Statement<'t> {
    /// The declaration as a function declaration: its name and its first
    /// byte, when it declares exactly one function and nothing else.
    fn declared_function(&self) -> Option<(&'t str, usize)> {
        // `struct` here only names a type (`struct tensor * f(...)`): a
        // record with a body never ends at a `;` of the statement.
        let plain = !(self.namespace
            || self.other_type
            || self.assigned
            || self.operator
            || self.not_one_function
            || self.angle > 0);
        match (plain, &self.names[..], self.start) {
            (true, [name], Some(start)) if !TYPE_WORDS.contains(name) => Some((name, start)),
            _ => None,
        }
    }

    /// The template an explicit instantiation instantiates, and the
    /// declaration's first byte: it matters only once the template does.
    fn instantiated_template(&self) -> Option<(&'t str, usize)> {
        let plain = !(self.namespace || self.assigned || self.directive || self.parens > 0);
        match (plain && self.instantiation, self.instantiated, self.start) {
            (true, Some(name), Some(start)) => Some((name, start)),
            _ => None,
        }
    }

    fn starts_at(&mut self, at: usize) {
        self.start.get_or_insert(at);
    }

    fn ident(&mut self, id: &'t str) {
        self.idents.insert(id);
        self.paren_head = match self.paren_head {
            ParenHead::Open | ParenHead::Colon => ParenHead::Name,
            _ => ParenHead::Done,
        };
        if self.parens == 0 && self.angle == 0 {
            // `template void f<int>(int);`: `template` and a word.
            if self.after_template && id != "template" {
                self.instantiation = true;
            }
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
                    self.paren_head = ParenHead::Open;
                    self.parens += 1;
                    return;
                }
                self.parens += 1;
            }
            b'*' | b'&' | b'^' if matches!(self.paren_head, ParenHead::Open | ParenHead::Colon) => {
                self.not_one_function = true
            }
            b':' if self.paren_head != ParenHead::Done => {
                self.paren_head = ParenHead::Colon;
                return;
            }
            b',' if self.parens == 0 && self.angle == 0 => self.not_one_function = true,
            b')' => self.parens = self.parens.saturating_sub(1),
            b'<' if self.after_template || self.angle > 0 => {
                if self.instantiation && self.angle == 0 && self.instantiated.is_none() {
                    self.instantiated = last;
                }
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
        self.paren_head = ParenHead::Done;
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

/// Reads one directive line: a `#define` is noted, with what its
/// replacement names (reached once the macro is) and what its `##` can
/// glue. Other directives reach nothing: a condition, an `#include` or a
/// pragma names no code. Gives the macro's name when its replacement holds
/// `;`, `{` or `}` (see [`Outline::statement_macros`]).
fn directive<'t>(
    line: &'t str,
    defines: &mut Vec<Define>,
    macros: &mut HashSet<&'t str>,
    pastes: &mut Pastes,
) -> Option<&'t str> {
    let Directive::Define {
        name_at,
        params,
        body,
        ..
    } = scan::directive(line)
    else {
        return None;
    };
    let name = name_at.text(line);
    macros.insert(name);
    let writes_statement = body.contains([';', '{', '}']).then_some(name);
    let mut idents = Vec::new();
    // After the `#` (a `#` that starts the text is read as a directive).
    scan_idents(line.get(1..).unwrap_or(""), |id| {
        if id != name && id != "define" {
            idents.push(Box::from(id));
        }
    });
    defines.push(Define {
        name: name.into(),
        params: params.clone(),
        body: body.as_str().into(),
        idents,
    });
    if !body.contains("##") {
        return writes_statement;
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
    writes_statement
}

/// One token of the lexical pass.
enum Tok<'t> {
    Ident(&'t str),
    /// A punctuation byte and its offset (`"` stands for a string literal).
    Punct(u8, usize),
    /// A whole directive line.
    Directive(&'t str),
    /// A number literal: its bytes.
    Number(Range<usize>),
    /// A character literal.
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
            return Tok::Number(i..j);
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

    /// The text of each range `main`'s plan leaves out of `header`.
    fn texts_left_out(main: &str, header: &str) -> Vec<String> {
        let outlines = [(PathBuf::from("h.h"), 7, Arc::new(outline(header)))];
        let plan = plan(main, &outlines);
        let ranges = plan.excluded(std::path::Path::new("h.h"), 7).unwrap();
        ranges
            .iter()
            .map(|r| header[r.clone()].to_string())
            .collect()
    }

    #[test]
    fn declarations_are_left_out_until_their_name_is_reached() {
        let header = "\
            #define API __attribute__((visibility(\"default\")))\n\
            #define DECLARE(n) void n(int)\n\
            #define TWO void hidden(int); void\n\
            API struct tensor * used(struct context * ctx, int n);\n\
            API struct tensor * unused(struct context * ctx);\n\
            template <typename T> __device__ T unused_template(T x);\n\
            int a, unused_pair(int);\n\
            void (*unused_pointer)(int);\n\
            int (Holder::*unused_member)(int);\n\
            static int unused_value = initial(0);\n\
            typedef void unused_type(int);\n\
            DECLARE(unused_macro_named);\n\
            TWO unused_statement_macro(int);\n\
            void unused_branches(\n#if A\nint\n#else\nfloat\n#endif\n);\n\
            namespace ns { float unused_in_namespace(float); }\n\
            template void instantiated<int>(int*);\n\
            #define INSTANTIATE(T) template __global__ void scaled<T>(T*, T)\n\
            extern INSTANTIATE(float);\n\
            #if A\n#define TWICE(n) void n(int)\n#else\n#define TWICE(n) int n;\n#endif\n\
            TWICE(unsure);\n";
        // A declaration is read once a name it declares is (through its
        // macros, expanded); one that declares more than one function (a
        // second declarator, a pointer in parentheses, an initialiser, a
        // typedef, a macro that may write a statement, a directive inside,
        // a macro defined differently in two branches) is always read.
        assert_eq!(
            texts_left_out("void f() { used(0, 1); }", header),
            [
                "API struct tensor * unused(struct context * ctx);",
                "template <typename T> __device__ T unused_template(T x);",
                "DECLARE(unused_macro_named);",
                "float unused_in_namespace(float);",
                "template void instantiated<int>(int*);",
                "extern INSTANTIATE(float);",
            ]
        );
        // An instantiation matters once its template does.
        let left = texts_left_out(
            "void f() { scaled<<<1, 1>>>(p, 2.0f); instantiated(p); }",
            header,
        );
        assert!(
            !left
                .iter()
                .any(|t| t.contains("instantiated<int>") || t.contains("INSTANTIATE")),
            "{left:?}"
        );
        assert!(
            !texts_left_out("void f() { unused(0); }", header)
                .iter()
                .any(|t| t.contains("unused(struct"))
        );
    }

    #[test]
    fn the_values_of_long_tables_are_left_out() {
        let values = |n: usize, sep: &str| {
            (0..n)
                .map(|i| format!("{}{i}", if i % 3 == 0 { "-" } else { "" }))
                .collect::<Vec<_>>()
                .join(sep)
        };
        let long = values(300, ", ");
        let header = format!(
            "#define TABLE_BEGIN(t, n, s) static const __device__ t n[s] = {{\n\
             #define TABLE_END() }};\n\
             TABLE_BEGIN(int, by_macro, 300)\n{long},\nTABLE_END()\n\
             __constant__ int braced[300] = {{ {long} }};\n\
             __constant__ int short_one[4] = {{ 1, 2, 3, 4 }};\n\
             __constant__ int computed[301] = {{ {long}, 7 * 3 }};\n\
             __constant__ float3 nested[2] = {{ {{ 1, 2, 3 }}, {{ 4, 5, 6 }} }};\n"
        );
        let left = texts_left_out("", &header);
        // Whole values, with the comma after the last one, or without an
        // element an operator goes on with.
        assert_eq!(left.len(), 3, "{left:?}");
        assert_eq!(left[0], format!("{long},"));
        assert_eq!(left[1], long);
        assert_eq!(left[2], format!("{long},"));
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

    #[test]
    fn an_edit_that_brings_a_name_out_of_a_comment_ends_the_plan() {
        let header = "__device__ float unused(float x) { return x; }\n";
        let outlines = [(PathBuf::from("h.cuh"), 1, Arc::new(outline(header)))];
        // Named only in a comment or a string: left out.
        for main in [
            "int a; // then unused(a)\nint b;\n",
            "int a; /* unused(a) */ int b;\n",
            "const char* s = \"unused(a)\";\n",
        ] {
            let made = plan(main, &outlines);
            assert_eq!(made.left_out().0, 1, "{main}");
        }
        let mut p = plan("int a; // then unused(a)\nint b;\n", &outlines);
        // A line break, far from the name, ends the comment before it.
        assert!(
            !p.clone()
                .still_holds_for("int a; // then\n unused(a)\nint b;\n")
        );
        assert!(
            !p.clone()
                .still_holds_for("int a; / then unused(a)\nint b;\n")
        );
        assert!(p.still_holds_for("int a; // then unused(a)\nint bc;\n"));
        let mut p = plan("int a; /* unused(a) */ int b;\n", &outlines);
        assert!(
            !p.clone()
                .still_holds_for("int a; /* */ unused(a) */ int b;\n")
        );
        assert!(p.still_holds_for("int a; /* unused(a) */ int b, c;\n"));
        // Deleting what stood between `*` and `/` closes the comment.
        let mut p = plan("int a; /* c *x/ unused(a);\n", &outlines);
        assert_eq!(p.left_out().0, 1);
        assert!(!p.clone().still_holds_for("int a; /* c */ unused(a);\n"));
        assert!(p.still_holds_for("int a; /* cd *x/ unused(a);\n"));
    }
}
