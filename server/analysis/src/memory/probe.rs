//! Bank conflicts that a run-time argument decides.
//!
//! A shared-memory index built from a scalar kernel argument the launch
//! does not fix (`pos = 2 * tid - (tid & (size - 1))` in the CUDA samples'
//! scan, `s[tid * stride]`) has no single answer, and the main analysis
//! stays silent on it. Here the kernel is run again with that argument set
//! to each power of two from 1 to 1024, one argument at a time, and an
//! access that conflicts for some of them is reported as a note naming
//! the values that conflict and those that do not: a conditional finding,
//! never a claim about the one value the program passes.

use std::collections::{BTreeMap, HashSet};

use cudalens_syntax::FileModel;
use cudalens_syntax::model::Function;

use super::MemorySpace;
use super::eval::Interp;
use super::report::{Judge, Tally};
use crate::context::KernelContext;
use crate::diagnostic::{Diagnostic, Severity, Span};
use crate::divergence::ThreadDependence;
use crate::rules::bank_conflict::CODE as BANK_CONFLICT;

/// Every note made here says this (diagnostics of several kernels on one
/// access are merged by it).
pub const RUNTIME_ARGUMENT_NOTE: &str = "is a run-time argument here";

/// The values tried: the powers of two sizes, strides and tile widths take.
const VALUES: [i128; 11] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
/// Scalar arguments tried, at most (each costs `VALUES.len()` runs).
const MAX_PARAMETERS: usize = 2;

/// Notes for the accesses of `unknown` (shared accesses whose index did
/// not evaluate under `ctx`) that conflict for some values of one unknown
/// integer argument.
pub(super) fn conflicts_by_parameter(
    model: &FileModel,
    source: &str,
    kernel: &Function,
    ctx: &KernelContext,
    unknown: &HashSet<Span>,
) -> Vec<Diagnostic> {
    let file_env = model.const_env();
    let td = ThreadDependence::of(kernel);
    let template_names: HashSet<&str> = kernel
        .template_params
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let candidates = kernel
        .params
        .iter()
        .filter(|p| {
            p.ty.pointer == 0
                && crate::host_launch::is_int_type(&p.ty.base)
                && !ctx.param_values.contains_key(&p.name)
                && !template_names.contains(p.name.as_str())
        })
        .take(MAX_PARAMETERS);
    let mut out = Vec::new();
    for param in candidates {
        // Per access: the finding at each value that conflicts, and the
        // values that were evaluated without one.
        let mut flagged: BTreeMap<Span, Vec<(i128, Diagnostic)>> = BTreeMap::new();
        let mut evaluated: BTreeMap<Span, Vec<i128>> = BTreeMap::new();
        for value in VALUES {
            let mut probe = ctx.clone();
            probe.param_values.insert(param.name.clone(), value);
            let tenv = probe.env(&file_env);
            let env = kernel.const_env(&tenv);
            let mut interp = Interp::new(model, env, &probe);
            interp.run(kernel);
            if interp.exhausted() {
                return out;
            }
            let events: Vec<_> = std::mem::take(&mut interp.events)
                .into_iter()
                .filter(|e| e.space == MemorySpace::Shared && unknown.contains(&e.span))
                .collect();
            let mut tally = Tally::default();
            let reason = |c: &KernelContext| c.unresolved_block_reason(source);
            let runtime = |name: &str| kernel.params.iter().any(|p| p.name == name);
            tally.add(&events, &interp.syms, &probe, &reason, &runtime, &|_| false);
            let contexts = [probe.clone()];
            let judge = Judge {
                model,
                source,
                kernel,
                contexts: &contexts,
                td: &td,
            };
            let (reports, diags) = judge.findings(&tally, None);
            for r in &reports {
                evaluated.entry(r.span).or_default().push(value);
            }
            for (d, _) in diags {
                if d.code == BANK_CONFLICT {
                    flagged.entry(d.span).or_default().push((value, d));
                }
            }
        }
        for (span, hits) in flagged {
            let values: Vec<i128> = hits.iter().map(|(v, _)| *v).collect();
            let clean: Vec<i128> = evaluated
                .get(&span)
                .into_iter()
                .flatten()
                .copied()
                .filter(|v| !values.contains(v))
                .collect();
            // The finding at the first conflicting value, reworded.
            let Some((first, mut d)) = hits.into_iter().next() else {
                continue;
            };
            let name = &param.name;
            let message = d
                .message
                .split(" — ")
                .next()
                .unwrap_or(&d.message)
                .to_string();
            d.message = format!(
                "{message} when `{name}` is {} — `{name}` {RUNTIME_ARGUMENT_NOTE}: of the powers of two from 1 to 1024 tried, these conflict (the figures are for {name} = {first}){}",
                list(&values),
                if clean.is_empty() {
                    String::new()
                } else {
                    format!(" and {} do not", list(&clean))
                }
            );
            d.severity = Severity::Info;
            d.fixes.clear();
            out.push(d);
        }
        if !out.is_empty() {
            // One argument explains them; a second would repeat them.
            break;
        }
    }
    out
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
