//! Measures how naga's own WGSL backend prints the modules the transpiler
//! generates (issue 19's item 1 asks that WGSL be printed by it): for each
//! `.wgsl` file under the given directories (as `transpile` writes them,
//! `coverage.py --keep-wgsl`), the module is printed by naga
//! (`print` below, which writes again the workgroup size naga 30 leaves
//! out) and read back; the failures are counted by cause.
//!
//!     cargo run --release -p cudalens-wgsl --example naga_roundtrip -- DIR...

use std::collections::BTreeMap;
use std::path::Path;

use naga::back::wgsl::{WriterFlags, write_string};
use naga::{Expression, Handle, Module};

use cudalens_wgsl::validate::{Needs, Rejection, validate_with};

fn main() {
    let mut files = Vec::new();
    for dir in std::env::args().skip(1) {
        collect(Path::new(&dir), &mut files);
    }
    files.sort();
    let (mut modules, mut printed) = (0, 0);
    let mut causes: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        // Files of earlier versions that no longer validate are not counted.
        let Ok(checked) = cudalens_wgsl::validate::check(&text) else {
            continue;
        };
        modules += 1;
        match print(&checked.module, &checked.info, &checked.needs) {
            Ok(_) => printed += 1,
            Err(e) => {
                let e = e.to_string();
                let cause = if e.contains("array<") && e.contains("unexpected expression") {
                    "an array sized by an override is printed without its element type".to_string()
                } else if e.contains("is not where it was expected") {
                    "the entry point is renamed (a name ending in a digit gets `_`)".to_string()
                } else {
                    e.lines().next().unwrap_or("").to_string()
                };
                let entry = causes
                    .entry(cause)
                    .or_insert((0, path.display().to_string()));
                entry.0 += 1;
            }
        }
    }
    println!("{modules} modules, {printed} printed by naga and read back");
    for (cause, (n, example)) in &causes {
        println!("{n:5}  {cause}  (e.g. {example})");
    }
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "wgsl") {
            out.push(p);
        }
    }
}

/// The WGSL of `module` (validated: `info`), read back and validated again
/// with exactly `needs`.
///
/// naga 30's WGSL backend writes an entry point's workgroup size as the
/// numbers in `EntryPoint::workgroup_size` and ignores
/// `workgroup_size_overrides`, which for our kernels are `[1, 1, 1]` until
/// the pipeline sets `BLOCK_DIM_*`: the attribute is written again here
/// from the override expressions.
fn print(
    module: &Module,
    info: &naga::valid::ModuleInfo,
    needs: &Needs,
) -> Result<String, Rejection> {
    let invalid = |what: String| Rejection::Invalid(format!("naga's WGSL backend: {what}"));
    let mut text =
        write_string(module, info, WriterFlags::empty()).map_err(|e| invalid(format!("{e}")))?;
    for entry in &module.entry_points {
        let Some(overrides) = &entry.workgroup_size_overrides else {
            continue;
        };
        let size = entry.workgroup_size;
        let mut dims = Vec::new();
        for (axis, expr) in overrides.iter().enumerate() {
            dims.push(match expr {
                Some(h) => global_expression(module, *h)
                    .ok_or_else(|| invalid(format!("workgroup size of `{}`", entry.name)))?,
                None => size[axis].to_string(),
            });
        }
        let written = format!(
            "@workgroup_size({}, {}, {}) \nfn {}(",
            size[0], size[1], size[2], entry.name
        );
        let wanted = format!("@workgroup_size({}) \nfn {}(", dims.join(", "), entry.name);
        if text.matches(&written).count() != 1 {
            return Err(invalid(format!(
                "the workgroup size of `{}` is not where it was expected",
                entry.name
            )));
        }
        text = text.replacen(&written, &wanted, 1);
    }
    validate_with(&text, needs).map_err(|e| {
        invalid(format!(
            "its WGSL does not read back (a naga bug worked around badly: please report): {e}"
        ))
    })?;
    Ok(text)
}

/// An override expression of a workgroup size, as WGSL: overrides,
/// literals and the arithmetic between them.
fn global_expression(module: &Module, h: Handle<Expression>) -> Option<String> {
    use naga::{BinaryOperator as B, Literal};
    Some(match &module.global_expressions[h] {
        Expression::Override(o) => module.overrides[*o].name.clone()?,
        Expression::Literal(Literal::U32(v)) => format!("{v}u"),
        Expression::Literal(Literal::I32(v)) => format!("{v}i"),
        Expression::Literal(Literal::AbstractInt(v)) => format!("{v}"),
        Expression::Binary { op, left, right } => {
            let op = match op {
                B::Add => "+",
                B::Subtract => "-",
                B::Multiply => "*",
                B::Divide => "/",
                _ => return None,
            };
            format!(
                "({} {op} {})",
                global_expression(module, *left)?,
                global_expression(module, *right)?
            )
        }
        _ => return None,
    })
}
