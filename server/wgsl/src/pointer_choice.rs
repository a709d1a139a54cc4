//! A pointer chosen at run time between two of the kernel's buffers
//! (HeCBench concat: `if (idx1 < sz1_1) src_ptr = inp1; else src_ptr =
//! inp2;`; storeKVCache: `const auto cache = copy_k ? k_cache : v_cache;`).
//! A WGSL pointer names one variable, so the statements after the choice
//! (the rest of its block) are lowered once for each buffer:
//!
//! ```text
//! float *p;                        if (c) {
//! if (c) p = a; else p = b;   ==>     float *p; p = a; REST
//! REST                              } else {
//!                                     float *p; p = b; REST
//!                                   }
//! ```
//!
//! Each thread runs the same statements on the buffer its condition
//! chose, as in CUDA. Made only where the two candidates are different
//! pointer parameters of the kernel, the pointer is not read between its
//! declaration and the choice, and the rest holds no barrier (each copy
//! would be reached by only some threads) and no `goto`; at most
//! [`MAX_CHOICES`] choices are split one inside another, so a stretch of
//! the kernel is lowered at most four times. Anything else is left to the lowering, which refuses the
//! choice with its reason.

use std::collections::HashSet;

use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{Expr, ExprKind, Stmt, StmtKind, UnOp, VarDecl};
use cudalens_syntax::model::Function;

use crate::uniformity::Barriers;

/// How many choices are split one inside another (each doubles what
/// follows it).
const MAX_CHOICES: usize = 2;

/// `kernel` with its pointer choices split (see the module note); `None`
/// when it makes none.
pub(crate) fn rewrite(model: &FileModel, kernel: &Function) -> Option<Function> {
    let body = kernel.body.as_deref()?;
    let buffers: HashSet<&str> = (kernel.params.iter())
        .filter(|p| p.ty.pointer > 0)
        .map(|p| p.name.as_str())
        .collect();
    let mut splitter = Splitter {
        barriers: Barriers::of(model, kernel),
        buffers,
        splits: 0,
        depth: 0,
    };
    let new_body = splitter.stmt(body);
    if splitter.splits == 0 {
        return None;
    }
    let mut f = kernel.clone();
    f.body = Some(Box::new(new_body));
    Some(f)
}

struct Splitter<'a> {
    barriers: Barriers<'a>,
    buffers: HashSet<&'a str>,
    /// Choices split in all.
    splits: usize,
    /// Choices split around the statements being rewritten.
    depth: usize,
}

impl Splitter<'_> {
    fn stmt(&mut self, s: &Stmt) -> Stmt {
        let kind = match &s.kind {
            StmtKind::Block(items) => StmtKind::Block(self.block(items)),
            StmtKind::If { cond, then, els } => StmtKind::If {
                cond: cond.clone(),
                then: Box::new(self.stmt(then)),
                els: els.as_ref().map(|e| Box::new(self.stmt(e))),
            },
            StmtKind::For {
                init,
                cond,
                step,
                body,
                unroll,
            } => StmtKind::For {
                init: init.clone(),
                cond: cond.clone(),
                step: step.clone(),
                body: Box::new(self.stmt(body)),
                unroll: *unroll,
            },
            StmtKind::While { cond, body } => StmtKind::While {
                cond: cond.clone(),
                body: Box::new(self.stmt(body)),
            },
            StmtKind::DoWhile { body, cond } => StmtKind::DoWhile {
                body: Box::new(self.stmt(body)),
                cond: cond.clone(),
            },
            other => other.clone(),
        };
        Stmt { kind, span: s.span }
    }

    /// The statements of a block, the first choice among them split.
    fn block(&mut self, items: &[Stmt]) -> Vec<Stmt> {
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if self.depth < MAX_CHOICES
                && let Some((split, moved)) = self.split_at(items, i)
            {
                // The declaration the branches now make for themselves.
                if let Some(name) = moved {
                    out.retain(|s: &Stmt| !matches!(&s.kind, StmtKind::Decl(ds) if ds.len() == 1 && ds[0].name == name && ds[0].init.is_none()));
                }
                out.push(split);
                return out;
            }
            out.push(self.stmt(item));
        }
        out
    }

    /// The split of `items[i..]` where `items[i]` makes a choice: a
    /// declaration `T *p = c ? a : b;`, or the `if` choosing `p` declared
    /// earlier in `items` without a value (then also `p`, whose
    /// declaration moves into the branches).
    fn split_at(&mut self, items: &[Stmt], i: usize) -> Option<(Stmt, Option<String>)> {
        let item = &items[i];
        let rest = &items[i + 1..];
        if !self.rest_splittable(items, i) {
            return None;
        }
        let mut moved = None;
        let (cond, then, els) = match &item.kind {
            StmtKind::Decl(ds) => {
                let [d] = ds.as_slice() else { return None };
                let Some(Expr {
                    kind: ExprKind::Ternary(c, a, b),
                    ..
                }) = &d.init
                else {
                    return None;
                };
                if !(d.ty.pointer > 0 || d.ty.base == "auto") || !self.different_buffers(a, b) {
                    return None;
                }
                let declare = |value: &Expr| {
                    vec![Stmt {
                        kind: StmtKind::Decl(vec![VarDecl {
                            init: Some(value.clone()),
                            ..d.clone()
                        }]),
                        span: item.span,
                    }]
                };
                ((**c).clone(), declare(a), declare(b))
            }
            StmtKind::If { .. } => {
                // `T *p;` earlier in the block, `p` not named since: the
                // branches declare their own `p` instead.
                let (at, declared) =
                    items[..i]
                        .iter()
                        .enumerate()
                        .rev()
                        .find_map(|(j, s)| match &s.kind {
                            StmtKind::Decl(ds) => ds
                                .iter()
                                .find(|d| {
                                    d.init.is_none()
                                        && d.ty.pointer > 0
                                        && self.assigned_choice(item, &d.name).is_some()
                                })
                                .map(|d| (j, d)),
                            _ => None,
                        })?;
                if items[at + 1..i].iter().any(|s| names(s, &declared.name)) {
                    return None;
                }
                let (c, then, els) = self.assigned_choice(item, &declared.name)?;
                moved = Some(declared.name.clone());
                let declare = Stmt {
                    kind: StmtKind::Decl(vec![declared.clone()]),
                    span: item.span,
                };
                let branch = |b: &Stmt| {
                    let mut v = vec![declare.clone()];
                    match &b.kind {
                        StmtKind::Block(inner) => v.extend(inner.iter().cloned()),
                        _ => v.push(b.clone()),
                    }
                    v
                };
                (c.clone(), branch(then), branch(els))
            }
            _ => return None,
        };
        self.splits += 1;
        self.depth += 1;
        let split = self.splits;
        let mut branch = |mut head: Vec<Stmt>, side: char| {
            head.extend(rest.iter().cloned());
            // Each copy declares its own names, so that what the analyses
            // learn of one (`p` aliases `a`) is not overwritten by the other.
            rename_declared(
                &mut head,
                &format!("{}{split}{side}", crate::names::CHOICE_SUFFIX),
            );
            Stmt {
                kind: StmtKind::Block(self.block(&head)),
                span: item.span,
            }
        };
        let then = branch(then, 'a');
        let els = branch(els, 'b');
        self.depth -= 1;
        let split = Stmt {
            kind: StmtKind::If {
                cond,
                then: Box::new(then),
                els: Some(Box::new(els)),
            },
            span: item.span,
        };
        Some((split, moved))
    }

    /// `if (c) { ...; p = a; } else { ...; p = b; }` with `a`, `b`
    /// different buffers, each assignment a statement of its branch:
    /// (c, then, else).
    fn assigned_choice<'s>(&self, s: &'s Stmt, p: &str) -> Option<(&'s Expr, &'s Stmt, &'s Stmt)> {
        let StmtKind::If {
            cond,
            then,
            els: Some(els),
        } = &s.kind
        else {
            return None;
        };
        let value = |b: &'s Stmt| -> Option<&'s Expr> {
            let items = match &b.kind {
                StmtKind::Block(v) => v.as_slice(),
                _ => std::slice::from_ref(b),
            };
            let mut found = None;
            for item in items {
                match &item.kind {
                    StmtKind::Expr(Expr {
                        kind: ExprKind::Assign(None, t, v),
                        ..
                    }) if t.as_ident() == Some(p) => found = Some(&**v),
                    // Any other use of `p` in the branch: not a plain choice.
                    _ if names(item, p) => return None,
                    _ => {}
                }
            }
            found
        };
        let (a, b) = (value(then)?, value(els)?);
        self.different_buffers(a, b).then_some((cond, then, els))
    }

    /// No barrier and no `goto` or label after `items[i]`.
    fn rest_splittable(&self, items: &[Stmt], i: usize) -> bool {
        items[i + 1..].iter().all(|s| {
            let mut jumps = false;
            s.walk(&mut |x| jumps |= matches!(x.kind, StmtKind::Goto(_) | StmtKind::Label(..)));
            !jumps && !self.barriers.in_stmt(s)
        })
    }

    fn different_buffers(&self, a: &Expr, b: &Expr) -> bool {
        match (root(a), root(b)) {
            (Some(x), Some(y)) => x != y && self.buffers.contains(x) && self.buffers.contains(y),
            _ => false,
        }
    }
}

/// The variable a pointer expression points into (`(float *)inp + k`,
/// `&buf[i]`: `inp`, `buf`).
fn root(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Ident(n) => Some(n),
        ExprKind::Cast { expr, .. } => root(expr),
        ExprKind::Unary(UnOp::AddrOf, x) => match &x.kind {
            ExprKind::Index(base, _) => root(base),
            _ => None,
        },
        ExprKind::Binary(
            cudalens_syntax::ir::BinOp::Add | cudalens_syntax::ir::BinOp::Sub,
            a,
            _,
        ) => root(a),
        _ => None,
    }
}

/// Whether `s` names `name` anywhere.
fn names(s: &Stmt, name: &str) -> bool {
    let mut found = false;
    s.walk_exprs(&mut |e| found |= matches!(&e.kind, ExprKind::Ident(n) if n == name));
    found
}

/// Every pointer (or `auto`) declared in `stmts`, and its uses there,
/// given `suffix`.
fn rename_declared(stmts: &mut [Stmt], suffix: &str) {
    let mut declared: HashSet<String> = HashSet::new();
    for s in stmts.iter() {
        s.walk(&mut |x| {
            if let StmtKind::Decl(ds) = &x.kind {
                declared.extend(
                    (ds.iter())
                        .filter(|d| d.ty.pointer > 0 || d.ty.base == "auto")
                        .map(|d| d.name.clone()),
                );
            }
        });
    }
    for s in stmts.iter_mut() {
        s.walk_mut(&mut |x| {
            if let StmtKind::Decl(ds) = &mut x.kind {
                for d in ds.iter_mut().filter(|d| declared.contains(&d.name)) {
                    d.name.push_str(suffix);
                }
            }
        });
        s.walk_exprs_mut(&mut |e| {
            if let ExprKind::Ident(n) = &mut e.kind
                && declared.contains(n.as_str())
            {
                n.push_str(suffix);
            }
        });
    }
}
