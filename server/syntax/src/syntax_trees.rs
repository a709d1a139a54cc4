//! A file's syntax as tree-sitter trees: the tree of the last whole-file parse
//! plus trees of single top-level items parsed on their own since.
//!
//! Why: with the CUDA grammar most top-level items come out of the parser
//! "fragile" (its GLR stacks split on the C++ ambiguities), and tree-sitter
//! does not reuse fragile nodes. An incremental reparse after a one-character
//! edit therefore walked into every function of the file: 1.2 ms on a
//! 5,000-line file wherever the edit was. An edit strictly inside one
//! top-level item (the usual keystroke in a function body) now re-parses only
//! that item, alone, with tree-sitter's included ranges (so node offsets stay
//! those of the whole file); rust-analyzer re-parses the enclosing block for
//! the same reason. When the item alone does not parse cleanly as one item,
//! the whole file is re-parsed as before, so results never depend on which
//! path was taken.

use tree_sitter::{InputEdit, Node, Parser, Range, Tree};

use crate::parser::{MAX_PARSE_BYTES, parse};

/// Items larger than this are re-parsed with the whole file (incremental
/// parsing of a big item alone would not be cheaper).
const MAX_ITEM_BYTES: usize = 32 * 1024;

/// Item trees kept before the whole file is parsed again, folding them in.
const MAX_ITEM_TREES: usize = 64;

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct SyntaxTrees {
    /// The last whole-file parse, edited in step with every later edit (so
    /// its nodes outside re-parsed items have current offsets).
    whole: Tree,
    /// Top-level items parsed alone since, in file order, each covering
    /// exactly one item (a root with a single child and no errors).
    items: Vec<Tree>,
}

impl From<Tree> for SyntaxTrees {
    fn from(whole: Tree) -> Self {
        SyntaxTrees {
            whole,
            items: Vec::new(),
        }
    }
}

impl SyntaxTrees {
    /// A whole-file parse of `text`; `None` when the text is larger than
    /// [`MAX_PARSE_BYTES`] or the parser gave up (see [`parse`]).
    pub fn parse_whole(parser: &mut Parser, text: &str) -> Option<Self> {
        if text.len() > MAX_PARSE_BYTES {
            return None;
        }
        parse(parser, text, None).map(Self::from)
    }

    /// The file's top-level nodes (named and not, e.g. a stray `;`) in order.
    /// When the whole file did not parse as one translation unit (the root
    /// is an ERROR: ggml's `mmq-load-tiles.cuh` opens a brace in both arms
    /// of an `#if`), these are the root's children, complete items and the
    /// fragments of the broken ones alike; see [`Self::root_is_broken`].
    pub fn top_level(&self) -> Vec<Node<'_>> {
        let root = self.whole.root_node();
        if self.root_is_broken() {
            let mut c = root.walk();
            return root.children(&mut c).collect();
        }
        if root.kind() != "translation_unit" {
            return vec![root];
        }
        let items: Vec<Node> = self.items.iter().map(item_node).collect();
        let mut out = Vec::with_capacity(root.child_count() as usize + items.len());
        // Both lists are in file order: merge them, leaving out the whole-file
        // nodes an item tree replaces (each overlaps the item before or after).
        let mut next = 0;
        let mut c = root.walk();
        for node in root.children(&mut c) {
            // A zero-width node (a MISSING `;` of error recovery) at an
            // item's start goes before the item, keeping the list ordered.
            let empty = node.start_byte() == node.end_byte();
            while next < items.len()
                && (items[next].start_byte() < node.start_byte()
                    || (items[next].start_byte() == node.start_byte() && !empty))
            {
                out.push(items[next]);
                next += 1;
            }
            let replaced = next.checked_sub(1).is_some_and(|p| overlap(node, items[p]))
                || items.get(next).is_some_and(|&i| overlap(node, i));
            if !replaced {
                out.push(node);
            }
        }
        out.extend_from_slice(&items[next..]);
        out
    }

    /// The whole-file parse ended in an ERROR root: its children mix whole
    /// items with the fragments of items the grammar could not fit.
    pub fn root_is_broken(&self) -> bool {
        self.whole.root_node().is_error()
    }

    /// How many top-level items are held as trees of their own (re-parsed
    /// alone since the last whole-file parse).
    pub fn reparsed_items(&self) -> usize {
        self.items.len()
    }

    /// Each top-level node's S-expression, one per line (tests compare
    /// incremental results with a fresh parse through this).
    pub fn to_sexp(&self) -> String {
        let nodes: Vec<String> = self.top_level().iter().map(|n| n.to_sexp()).collect();
        nodes.join("\n")
    }

    /// The top-level item that strictly contains the bytes `start..end`
    /// (an edit there can be re-parsed with the item alone).
    fn enclosing_item(&self, start: usize, end: usize) -> Option<(Option<usize>, Node<'_>)> {
        for (i, tree) in self.items.iter().enumerate() {
            let node = item_node(tree);
            if node.start_byte() < start && end < node.end_byte() {
                return Some((Some(i), node));
            }
        }
        let root = self.whole.root_node();
        if root.kind() != "translation_unit" {
            return None;
        }
        let node = root.first_child_for_byte(start)?;
        let inside = node.start_byte() < start && end < node.end_byte();
        let replaced = self.items.iter().any(|t| overlap(node, item_node(t)));
        (inside && node.is_named() && !node.has_error() && !replaced).then_some((None, node))
    }

    /// Applies one edit of the text (already made to `text`) and re-parses.
    /// Re-parses only the enclosing top-level item when the edit lies
    /// strictly inside one and the item still parses as one clean item.
    pub fn edit_and_reparse(
        &mut self,
        parser: &mut Parser,
        text: &str,
        edit: &InputEdit,
        new_end_point: impl Fn(usize) -> tree_sitter::Point,
    ) -> bool {
        let target = self
            .enclosing_item(edit.start_byte, edit.old_end_byte)
            .map(|(i, n)| (i, n.start_byte(), n.start_position(), n.end_byte()));
        self.edit(edit);
        let Some((index, start, start_point, old_end)) = target else {
            return self.reparse_whole(parser, text);
        };
        let end = (old_end + edit.new_end_byte).saturating_sub(edit.old_end_byte);
        if end - start > MAX_ITEM_BYTES || self.items.len() >= MAX_ITEM_TREES {
            return self.reparse_whole(parser, text);
        }
        let range = Range {
            start_byte: start,
            end_byte: end,
            start_point,
            end_point: new_end_point(end),
        };
        let old = index.map(|i| &self.items[i]);
        match parse_item(parser, text, range, old) {
            Some(tree) => {
                match index {
                    Some(i) => self.items[i] = tree,
                    None => {
                        let at = self
                            .items
                            .partition_point(|t| item_node(t).start_byte() < start);
                        self.items.insert(at, tree);
                    }
                }
                true
            }
            None => self.reparse_whole(parser, text),
        }
    }

    /// Records an edit in every tree (their offsets after it shift).
    pub fn edit(&mut self, edit: &InputEdit) {
        self.whole.edit(edit);
        for tree in &mut self.items {
            tree.edit(edit);
        }
    }

    /// Parses the whole file again (incrementally), folding item trees in.
    /// False when the parser gave up (see [`parse`]).
    pub fn reparse_whole(&mut self, parser: &mut Parser, text: &str) -> bool {
        match parse(parser, text, Some(&self.whole)) {
            Some(tree) => {
                *self = tree.into();
                true
            }
            None => false,
        }
    }
}

/// The two nodes share at least one byte.
fn overlap(a: Node, b: Node) -> bool {
    a.start_byte() < b.end_byte() && b.start_byte() < a.end_byte()
}

/// The one item an item tree holds.
fn item_node(tree: &Tree) -> Node<'_> {
    let root = tree.root_node();
    root.child(0).unwrap_or(root)
}

/// Parses the bytes of `range` alone (offsets stay the file's). `None` unless
/// they form exactly one top-level item without syntax errors.
fn parse_item(parser: &mut Parser, text: &str, range: Range, old: Option<&Tree>) -> Option<Tree> {
    parser.set_included_ranges(&[range]).ok()?;
    let tree = parse(parser, text, old);
    // Back to the whole file for the next parse (an empty list means all of it).
    let _ = parser.set_included_ranges(&[]);
    let tree = tree?;
    let root = tree.root_node();
    let item = root.child(0)?;
    let clean = !root.has_error()
        && root.child_count() == 1
        && item.is_named()
        && item.start_byte() == range.start_byte
        && item.end_byte() == range.end_byte;
    clean.then_some(tree)
}
