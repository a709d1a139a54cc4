//! Block-size-independent features of a kernel, for tuners: what the
//! learned tuner plugin trains on and predicts from. The same features are
//! sent to plugins (`KernelModel.extra.features`) and stored with every
//! benchmark run in the workspace history, so a model trained on history
//! sees exactly what it is later asked about.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use cudalens_occupancy::{Arch, OccupancyInput, occupancy};
use cudalens_syntax::FileModel;
use cudalens_syntax::ir::{BinOp, Expr, ExprKind, StmtKind};
use cudalens_syntax::model::Function;

use crate::FileAnalysis;
use crate::memory::{AccessReport, MemorySpace};

/// Block sizes the features carry an occupancy for: the benchmark runner's
/// autotune candidates (`cudalens-gpu`'s `CANDIDATES_1D`/`CANDIDATES_2D`).
pub const CANDIDATE_BLOCKS: [[u32; 3]; 15] = [
    [32, 1, 1],
    [64, 1, 1],
    [128, 1, 1],
    [256, 1, 1],
    [512, 1, 1],
    [1024, 1, 1],
    [8, 8, 1],
    [16, 8, 1],
    [8, 16, 1],
    [16, 16, 1],
    [32, 4, 1],
    [32, 8, 1],
    [32, 16, 1],
    [64, 4, 1],
    [32, 32, 1],
];

/// The learned tuner's `KernelFeatures` (plugins/learned-tuner/src/features.rs).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TuningFeatures {
    /// `coalesced`, `strided`, `random`, `tiled` or `stencil`.
    pub access_pattern: &'static str,
    /// Arithmetic operations per byte of global traffic, counted statically
    /// (each operation and access once, loops not weighted).
    pub arithmetic_intensity: f64,
    pub shared_mem_bytes: u64,
    pub registers: u32,
    /// Theoretical occupancy on the target architecture per candidate block (`256`, `16x16`).
    pub occupancy: BTreeMap<String, f64>,
    pub is_2d: bool,
    /// Threads of work; 0 when the caller does not know it yet.
    pub problem_size: u64,
}

/// `256`, `16x16`, `8x8x4`.
pub fn block_label(block: [u32; 3]) -> String {
    match block {
        [x, 1, 1] => x.to_string(),
        [x, y, 1] => format!("{x}x{y}"),
        [x, y, z] => format!("{x}x{y}x{z}"),
    }
}

/// Features of `kernel` from its analysis; `None` when it was not analysed.
pub fn kernel_features(
    model: &FileModel,
    analysis: &FileAnalysis,
    kernel: &str,
    arch: &str,
) -> Option<TuningFeatures> {
    let report = analysis.kernels.iter().find(|k| k.name == kernel)?;
    let function = model.function(kernel)?;
    let accesses: Vec<&AccessReport> = analysis
        .accesses
        .iter()
        .filter(|a| &*a.kernel == kernel)
        .collect();
    let dynamic_smem = report
        .launches
        .iter()
        .find_map(|l| l.dynamic_smem)
        .unwrap_or(0);
    let shared_mem_bytes = report.static_smem.unwrap_or(0) + dynamic_smem;
    let registers = report.registers.count;
    let occupancy = Arch::parse(arch)
        .map(|arch| {
            CANDIDATE_BLOCKS
                .iter()
                .map(|&block| {
                    let threads = block.iter().product();
                    let input =
                        OccupancyInput::new(threads, registers).with_static_smem(shared_mem_bytes);
                    let value = occupancy(arch, &input).map_or(0.0, |r| r.occupancy);
                    (block_label(block), value)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(TuningFeatures {
        access_pattern: access_pattern(function, &accesses),
        arithmetic_intensity: arithmetic_intensity(function, &accesses),
        shared_mem_bytes,
        registers,
        occupancy,
        is_2d: report.block.is_some_and(|b| b[1] > 1) || uses_second_axis(function),
        problem_size: 0,
    })
}

/// Shared memory makes a kernel `tiled`; three or more accesses to one
/// buffer (neighbour reads, misaligned by nature) a `stencil`; an
/// uncoalesced global access makes it `strided`, an unanalysable one `random`.
fn access_pattern(function: &Function, accesses: &[&AccessReport]) -> &'static str {
    let global: Vec<&&AccessReport> = accesses
        .iter()
        .filter(|a| a.space == MemorySpace::Global)
        .collect();
    if accesses.iter().any(|a| a.space == MemorySpace::Shared)
        || !function.shared_decls().is_empty()
    {
        return "tiled";
    }
    let mut per_array = BTreeMap::<&str, usize>::new();
    for a in &global {
        *per_array.entry(&*a.array).or_default() += 1;
    }
    if per_array.values().any(|&n| n >= 3) {
        return "stencil";
    }
    if global.iter().any(|a| a.is_wasteful()) {
        return "strided";
    }
    if global.iter().any(|a| a.sectors_per_request.is_none()) {
        return "random";
    }
    "coalesced"
}

/// Arithmetic on data (`+ - * /` and calls whose operands involve a float
/// literal, a float variable or a memory load; index and loop bookkeeping
/// excluded), per byte of global memory the kernel's accesses move.
fn arithmetic_intensity(function: &Function, accesses: &[&AccessReport]) -> f64 {
    let bytes: u64 = accesses
        .iter()
        .filter(|a| a.space == MemorySpace::Global)
        .map(|a| u64::from(a.element_bytes))
        .sum();
    let Some(body) = &function.body else {
        return 0.0;
    };
    if bytes == 0 {
        return 0.0;
    }
    let is_float = |ty: &cudalens_syntax::ir::Type| {
        ty.pointer == 0 && ["float", "double", "half", "__half"].contains(&ty.base.as_str())
    };
    let float_vars: HashSet<&str> = function
        .params
        .iter()
        .filter(|p| is_float(&p.ty))
        .map(|p| p.name.as_str())
        .chain(
            function
                .local_decls()
                .into_iter()
                .filter(|d| is_float(&d.ty) && d.dims.is_empty())
                .map(|d| d.name.as_str()),
        )
        .collect();
    let on_data = |e: &Expr| {
        let mut data = false;
        e.walk(&mut |x| {
            data |= match &x.kind {
                ExprKind::Float { .. } | ExprKind::Index(..) | ExprKind::Call { .. } => true,
                ExprKind::Ident(name) => float_vars.contains(name.as_str()),
                _ => false,
            }
        });
        data
    };
    let mut ops = 0u64;
    body.walk(&mut |stmt| {
        if let StmtKind::For { .. } = &stmt.kind {
            return; // loop headers are bookkeeping
        }
        for expr in stmt.own_exprs() {
            expr.walk(&mut |e| match &e.kind {
                ExprKind::Binary(op, ..) | ExprKind::Assign(Some(op), ..)
                    if is_arithmetic(op) && on_data(e) =>
                {
                    ops += 1
                }
                ExprKind::Call { .. } => ops += 1,
                _ => {}
            });
        }
    });
    ops as f64 / bytes as f64
}

fn is_arithmetic(op: &BinOp) -> bool {
    matches!(op, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div)
}

/// The kernel indexes with `threadIdx.y`, `blockIdx.y`, ... (or z): a 2D/3D problem.
pub fn uses_second_axis(function: &Function) -> bool {
    let mut found = false;
    if let Some(body) = &function.body {
        body.walk_exprs(&mut |e| {
            if let ExprKind::Builtin(_, axis) = &e.kind {
                found |= axis.index() > 0;
            }
        });
    }
    found
}
