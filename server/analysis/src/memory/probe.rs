//! Bank conflicts that a run-time argument decides.
//!
//! A shared-memory index built from a scalar kernel argument the launch
//! does not fix (`pos = 2 * tid - (tid & (size - 1))` in the CUDA samples'
//! scan, `s[tid * stride]`) has no single answer, and the main analysis
//! stays silent on it. Here the kernel is run again with that argument set
//! to each power of two from 1 to 1024, one argument at a time, and an
//! access that conflicts for some of them is reported as a note naming
//! the values that conflict and those that do not: a conditional finding,
//! never a claim about the one value the program passes. (The runs and
//! their judgement are `report::conflicts_by_parameter`'s.)

use std::collections::HashSet;

use cudalens_syntax::model::Function;

use crate::context::KernelContext;
use crate::diagnostic::{Diagnostic, Severity};

/// Every note made here says this (diagnostics of several kernels on one
/// access are merged by it).
pub const RUNTIME_ARGUMENT_NOTE: &str = "is a run-time argument here";

/// The values tried: the powers of two sizes, strides and tile widths take.
const VALUES: [i128; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Scalar arguments tried, at most (each costs `VALUES.len()` runs).
const MAX_PARAMETERS: usize = 2;
/// The work all the runs may take together, in runs' budgets.
pub(super) const WORK_SHARE: f64 = 2.0;

/// The scalar arguments worth trying: integers the launch leaves unknown
/// (not template parameters), at most [`MAX_PARAMETERS`].
pub(super) fn candidates<'k>(kernel: &'k Function, ctx: &KernelContext) -> Vec<&'k str> {
    let template_names: HashSet<&str> = kernel
        .template_params
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    kernel
        .params
        .iter()
        .filter(|p| {
            p.ty.pointer == 0
                && crate::host_launch::is_int_type(&p.ty.base)
                && !ctx.param_values.contains_key(&p.name)
                && !template_names.contains(p.name.as_str())
        })
        .map(|p| p.name.as_str())
        .take(MAX_PARAMETERS)
        .collect()
}

/// `ctx` with `param` set to each of [`VALUES`], in order.
pub(super) fn configurations<'m>(
    ctx: &KernelContext<'m>,
    param: &str,
) -> impl Iterator<Item = (i128, KernelContext<'m>)> {
    let ctx = ctx.clone();
    let param = param.to_string();
    VALUES.into_iter().map(move |value| {
        let mut probe = ctx.clone();
        probe.param_values.insert(param.clone(), value);
        (value, probe)
    })
}

/// The finding made at `first`, the first of the `conflicting` values of
/// `param`, reworded as the note for all of them (`clean`: the values
/// evaluated without a conflict).
pub(super) fn conditional_note(
    mut d: Diagnostic,
    param: &str,
    first: i128,
    conflicting: &[i128],
    clean: &[i128],
) -> Diagnostic {
    let message = d
        .message
        .split(" — ")
        .next()
        .unwrap_or(&d.message)
        .to_string();
    d.message = format!(
        "{message} when `{param}` is {} — `{param}` {RUNTIME_ARGUMENT_NOTE}: of the powers of two from 1 to 1024 tried, these conflict (the figures are for {param} = {first}){}",
        list(conflicting),
        if clean.is_empty() {
            String::new()
        } else {
            format!(" and {} do not", list(clean))
        }
    );
    d.severity = Severity::Info;
    d.fixes.clear();
    d
}

/// `1, 2, 4 and 8`; runs of consecutive powers of two as `4–64`.
fn list(values: &[i128]) -> String {
    let mut runs: Vec<(i128, i128)> = Vec::new();
    for &v in values {
        match runs.last_mut() {
            Some((_, hi)) if *hi * 2 == v => *hi = v,
            _ => runs.push((v, v)),
        }
    }
    let parts: Vec<String> = runs
        .iter()
        .map(|&(lo, hi)| match hi / lo.max(1) {
            1 => lo.to_string(),
            2 => format!("{lo}, {hi}"),
            _ => format!("{lo}–{hi}"),
        })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::list;

    #[test]
    fn value_lists_read_as_ranges() {
        assert_eq!(list(&[4, 8, 16, 32, 64]), "4–64");
        assert_eq!(list(&[2, 4]), "2, 4");
        assert_eq!(list(&[1, 4, 8, 16, 1024]), "1, 4–16, 1024");
    }
}
