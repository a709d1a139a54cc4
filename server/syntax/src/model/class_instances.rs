//! Instances of class templates used as value types (`template <typename
//! T> struct Pair { T a, b; __device__ T sum() const; };` used as
//! `Pair<float>`): the template's text with the instance's arguments for
//! its parameters, built as an ordinary struct with its member functions
//! under a name of its own ([`instance_name`]: `Pair__float`). The
//! transpiler asks for the instances a kernel uses once their arguments
//! are known (a kernel's own template arguments included) and compiles
//! against a copy of the file's model that has them
//! ([`FileModel::with_class_instances`]).

use serde::Serialize;
use std::path::{Path, PathBuf};

use super::builder::{BuildOptions, Cx};
use super::{FileModel, TemplateParam, TemplateParamKind};
use crate::Span;

/// A class template as written.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClassTemplate {
    pub params: Vec<TemplateParam>,
    /// The `struct_specifier`'s text, `struct Pair { ... }`.
    pub text: String,
    /// The header it is defined in (`None`: the main file).
    pub file: Option<PathBuf>,
    /// Where it is defined: every span of an instance points here.
    pub span: Span,
}

/// How many instances one request may add: an instance whose members
/// instantiate more (`Node<T>` holding `Node<Node<T>>`) stops there.
const MAX_INSTANCES: usize = 64;

/// The struct name of `class<args>`: an identifier (`Pair<unsigned int,
/// 4>` is `Pair__unsigned_int__4`), so that the instance can be built
/// from text and named in WGSL.
pub fn instance_name(class: &str, args: &[String]) -> String {
    let mut name = class.replace("::", "_");
    for a in args {
        name.push_str("__");
        let mut last_underscore = false;
        for c in a.trim().chars() {
            match c {
                c if c.is_ascii_alphanumeric() => {
                    name.push(c);
                    last_underscore = false;
                }
                '*' => name.push_str("ptr"),
                '-' => name.push_str("neg"),
                _ if !last_underscore => {
                    name.push('_');
                    last_underscore = true;
                }
                _ => {}
            }
        }
    }
    name
}

impl ClassTemplate {
    /// The text of the instance `class<args>`: arguments for parameters
    /// (defaults where fewer are given) and the class's own name, where
    /// written bare in its body (its constructors, `Pair other`), the
    /// instance's. `None` when an argument is missing.
    fn instance_text(&self, class: &str, args: &[String]) -> Option<String> {
        let written: Vec<String> = (self.params.iter().enumerate())
            .map(|(i, p)| args.get(i).cloned().or_else(|| p.default.clone()))
            .collect::<Option<_>>()?;
        // A value parameter's argument in parentheses: `N - 1` stays one term.
        let argument = |word: &str| {
            let i = self.params.iter().position(|p| p.name == word)?;
            Some(match self.params[i].kind {
                TemplateParamKind::Value(_) => format!("({})", written[i]),
                TemplateParamKind::Type => written[i].clone(),
            })
        };
        let own = class.rsplit("::").next().unwrap_or(class);
        let instance = instance_name(class, &written);
        // `Pair<K, V>` inside the body names an instance by its arguments
        // (the transpiler resolves it); bare `Pair` is this one.
        let mut text = String::new();
        let body = crate::types::replace_words(&self.text, argument);
        let mut rest = body.as_str();
        while let Some(at) = find_word(rest, own) {
            text.push_str(&rest[..at]);
            let after = &rest[at + own.len()..];
            match after.trim_start().starts_with('<') {
                true => text.push_str(own),
                false => text.push_str(&instance),
            }
            rest = after;
        }
        text.push_str(rest);
        Some(format!("{text};"))
    }
}

/// Where the whole word `word` first stands in `text`.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        if !before.is_some_and(is_ident) && !after.is_some_and(is_ident) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

impl FileModel {
    /// A copy of this model with the instances `requests` (a class
    /// template's name and its arguments) built: structs named by
    /// [`instance_name`], their member functions `Pair__float::sum`. An
    /// instance that cannot be built (no such template, an argument
    /// missing, a layout nvcc's cannot be known for) is left out: its uses
    /// stay unknown types.
    pub fn with_class_instances(&self, requests: &[(String, Vec<String>)]) -> FileModel {
        let opts = BuildOptions::default();
        let mut b = super::builder::Builder::new(
            &opts,
            super::headers::HeaderStore::new(),
            super::header_bodies::Plan::off(),
        );
        b.model = self.clone();
        b.macros = self.macros.clone();
        let mut parser = crate::document::cuda_parser();
        for (class, args) in requests.iter().take(MAX_INSTANCES) {
            let Some(template) = self.class_templates.get(class).cloned() else {
                continue;
            };
            if self.specialized_classes.contains(class) {
                continue;
            }
            if b.model
                .types
                .structs
                .contains_key(&instance_name(class, args))
            {
                continue;
            }
            let Some(text) = template.instance_text(class, args) else {
                continue;
            };
            let text = b.macros.expand_text(&text).unwrap_or(text);
            let Some(tree) = crate::document::parse(&mut parser, &text, None) else {
                continue;
            };
            let root = tree.root_node();
            let cx = Cx {
                src: &text,
                file: template.file.as_deref().map(Path::new),
                origin: Some(template.span),
                map: None,
                skipped: &[],
            };
            let mut c = root.walk();
            let items: Vec<_> = root.named_children(&mut c).collect();
            for item in items {
                b.items(&cx, item, None);
            }
            let name = instance_name(class, args);
            if b.model.types.structs.contains_key(&name) {
                (b.model.class_instances).insert(name, (class.clone(), args.clone()));
            }
        }
        let mut model = b.model;
        model.macros = b.macros;
        model.index_functions();
        model
    }
}
