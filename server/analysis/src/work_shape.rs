//! Whether a kernel's work depends on its launch's block size: an autotuner
//! that varies the block over the same problem compares the same work only
//! when each thread's place in the problem comes from the global thread
//! index (`blockIdx * blockDim + threadIdx`, grid-stride loops). A block
//! index scaled by a constant (`blockIdx.x * 256`, a `#define`d tile), a
//! `__shared__` tile sized in the code, or a thread index used without its
//! block dimension fix the block's share of the problem in the code, and a
//! different block then computes something else.

use std::collections::HashMap;

use cudalens_syntax::Span;
use cudalens_syntax::ir::{Axis, BinOp, Builtin, Expr, ExprKind, StmtKind};
use cudalens_syntax::model::Function;

/// Why the kernel's work depends on its launch, at the construct.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaunchDependentWork {
    pub span: Span,
    pub reason: String,
}

/// The first construct of `kernel` (in source order) that makes its work
/// depend on the block size; `None` when every index goes through the
/// global thread index.
pub fn launch_dependent_work(kernel: &Function) -> Option<LaunchDependentWork> {
    let body = kernel.body.as_ref()?;
    let mut found: Vec<LaunchDependentWork> = Vec::new();
    for d in kernel.shared_decls() {
        let reason = if d.is_extern || d.dims.iter().any(Option::is_none) {
            format!(
                "`extern __shared__ {}[]` keeps the launch's dynamic shared memory for every candidate block",
                d.name
            )
        } else if !d.dims.is_empty() && !d.dims.iter().flatten().any(mentions_block_dim) {
            format!(
                "`__shared__ {}` is a tile sized in the code, not by the block",
                d.name
            )
        } else {
            continue;
        };
        found.push(LaunchDependentWork {
            span: d.span,
            reason,
        });
    }
    let aliases = Aliases::of(kernel);
    let mut uses_block_dim = [false; 3];
    let mut first_thread_idx: [Option<Span>; 3] = [None; 3];
    body.walk_exprs(&mut |e| match aliases.builtin(e) {
        Some((Builtin::BlockDim, axis)) => uses_block_dim[axis.index()] = true,
        Some((Builtin::ThreadIdx, axis)) => {
            first_thread_idx[axis.index()].get_or_insert(e.span);
        }
        _ => {}
    });
    body.walk(&mut |s| {
        for e in s.own_exprs() {
            // A declaration that only names a builtin is an alias, judged where used.
            if matches!(&s.kind, StmtKind::Decl(_)) && aliases.builtin(e).is_some() {
                continue;
            }
            scaled_block_indices(e, &aliases, &mut found);
        }
    });
    for axis in [Axis::X, Axis::Y, Axis::Z] {
        if let (Some(span), false) = (first_thread_idx[axis.index()], uses_block_dim[axis.index()])
        {
            let a = axis.name();
            found.push(LaunchDependentWork {
                span,
                reason: format!(
                    "threadIdx.{a} is used without blockDim.{a}: each block covers as much of the problem as the code, not the launch, says"
                ),
            });
        }
    }
    found.into_iter().min_by_key(|f| (f.span.start, f.span.end))
}

/// Records each `blockIdx.d` of `e` that is not multiplied by `blockDim.d`.
fn scaled_block_indices(e: &Expr, aliases: &Aliases, out: &mut Vec<LaunchDependentWork>) {
    if let ExprKind::Binary(BinOp::Mul, a, b) = &e.kind {
        let pair = (aliases.builtin(a), aliases.builtin(b));
        if let (Some((Builtin::BlockIdx, x)), Some((Builtin::BlockDim, y)))
        | (Some((Builtin::BlockDim, y)), Some((Builtin::BlockIdx, x))) = pair
            && x == y
        {
            return;
        }
    }
    if let Some((Builtin::BlockIdx, axis)) = aliases.builtin(e) {
        let a = axis.name();
        out.push(LaunchDependentWork {
            span: e.span,
            reason: format!(
                "blockIdx.{a} is used other than times blockDim.{a}: the block's share of the problem is fixed in the code"
            ),
        });
        return;
    }
    for c in e.children() {
        scaled_block_indices(c, aliases, out);
    }
}

/// Locals declared once from a builtin (`int bx = blockIdx.x;`) and never
/// assigned again: they stand for it.
struct Aliases(HashMap<String, (Builtin, Axis)>);

impl Aliases {
    fn of(f: &Function) -> Self {
        let reassigned = f.reassigned_vars();
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for d in f.local_decls() {
            *counts.entry(d.name.as_str()).or_default() += 1;
        }
        let mut map = HashMap::new();
        for d in f.local_decls() {
            if counts.get(d.name.as_str()) != Some(&1) || reassigned.contains(&d.name) {
                continue;
            }
            if let Some(b) = d.init.as_ref().and_then(|i| builtin_of(i.without_casts())) {
                map.insert(d.name.clone(), b);
            }
        }
        Aliases(map)
    }

    fn builtin(&self, e: &Expr) -> Option<(Builtin, Axis)> {
        let e = e.without_casts();
        match &e.kind {
            ExprKind::Ident(n) => self.0.get(n).copied(),
            _ => builtin_of(e),
        }
    }
}

fn builtin_of(e: &Expr) -> Option<(Builtin, Axis)> {
    match &e.kind {
        ExprKind::Builtin(b, axis) => Some((*b, *axis)),
        _ => None,
    }
}

fn mentions_block_dim(e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| found |= matches!(x.kind, ExprKind::Builtin(Builtin::BlockDim, _)));
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap as Map;
    use std::path::{Path, PathBuf};

    use cudalens_syntax::preprocess::include::CompileFlags;
    use cudalens_syntax::{BuildOptions, analyze_source};

    fn judge(source: &str) -> Option<(String, String)> {
        let provider: Map<PathBuf, String> = Map::new();
        let model = analyze_source(
            source,
            &BuildOptions {
                path: Some(Path::new("k.cu")),
                flags: CompileFlags::default(),
                provider: &provider,
                max_include_depth: 8,
                deadline: None,
            },
        );
        let kernel = model.function("k").expect("kernel k");
        launch_dependent_work(kernel).map(|w| (w.span.text(source).to_string(), w.reason))
    }

    #[test]
    fn global_index_and_grid_stride_kernels_do_the_same_work_at_any_block() {
        assert_eq!(
            judge(
                "__global__ void k(float* y, const float* x, int n) {\n    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += blockDim.x * gridDim.x)\n        y[i] += 2.0f * x[i];\n}"
            ),
            None
        );
        assert_eq!(
            judge(
                "__global__ void k(float* y, int w, int h) {\n    int bx = blockIdx.x, by = blockIdx.y;\n    int c = bx * blockDim.x + threadIdx.x;\n    int r = (int)blockDim.y * by + threadIdx.y;\n    if (r < h && c < w) y[r * w + c] = 0.0f;\n}"
            ),
            None
        );
    }

    #[test]
    fn fixed_tiles_and_scaled_block_indices_depend_on_the_launch() {
        let (at, why) = judge(
            "#define BLOCK 16\n__global__ void k(float* c, const float* a, int n) {\n    __shared__ float tile[BLOCK][BLOCK];\n    int row = blockIdx.y * BLOCK + threadIdx.y;\n    tile[threadIdx.y][threadIdx.x] = a[row * n + threadIdx.x];\n    __syncthreads();\n    c[row] = tile[0][threadIdx.x];\n}",
        )
        .expect("a fixed tile");
        assert_eq!(at, "tile[BLOCK][BLOCK]");
        assert!(why.contains("tile sized in the code"), "{why}");
        let (at, why) = judge(
            "__global__ void k(float* y, int n) {\n    int i = blockIdx.x * 256 + threadIdx.x;\n    if (i < n) y[i] = 0.0f;\n}",
        )
        .expect("a block index scaled by a constant");
        assert_eq!(at, "blockIdx.x");
        assert!(why.contains("other than times blockDim.x"), "{why}");
        let (at, why) =
            judge("__global__ void k(float* y) { y[threadIdx.x] = 1.0f; }").expect("one block");
        assert_eq!(at, "threadIdx.x");
        assert!(why.contains("without blockDim.x"), "{why}");
    }
}
