//! Which kernel a command means: the one it names, or the one around its
//! position. Only kernels with a body in the main file count (the ones that
//! can be transpiled, benchmarked and tuned).

use cudalens_syntax::model::Function;
use cudalens_syntax::{FileModel, LineIndex};

use crate::commands::KernelTarget;

/// The kernel (defined in the main file, with a body) whose text holds `offset`.
pub fn kernel_at(model: &FileModel, offset: usize) -> Option<&Function> {
    model.kernels().find(|k| {
        k.body.is_some() && k.in_main_file() && k.span.start <= offset && offset <= k.span.end
    })
}

/// Kernels of the main file with a body, in source order, each once.
pub fn kernel_names(model: &FileModel) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for k in model
        .kernels()
        .filter(|k| k.body.is_some() && k.in_main_file())
    {
        if !names.contains(&k.name) {
            names.push(k.name.clone());
        }
    }
    names
}

/// The kernel `target` names, or the one around its position in `text`
/// (`index` is `text`'s line index). The error is for the user.
pub fn resolve_kernel(
    model: &FileModel,
    index: &LineIndex,
    target: &KernelTarget,
) -> Result<String, String> {
    if let Some(name) = &target.kernel {
        return kernel_names(model)
            .contains(name)
            .then(|| name.clone())
            .ok_or_else(|| format!("no kernel `{name}` with a body in this file"));
    }
    let offset = target.position.map_or(0, |p| index.offset(p));
    kernel_at(model, offset)
        .map(|k| k.name.clone())
        .ok_or_else(|| "place the cursor inside a kernel".to_string())
}

/// Which definition of an overloaded kernel `target` means (the one its
/// position is in), with its 1-based number among the name's definitions;
/// `None` when the name has one definition (the transpiler's default).
pub fn overload_at(
    model: &FileModel,
    index: &LineIndex,
    target: &KernelTarget,
) -> Option<(cudalens_wgsl::KernelDefinition, usize)> {
    let offset = index.offset(target.position?);
    let k = kernel_at(model, offset)?;
    if target.kernel.as_ref().is_some_and(|name| *name != k.name) {
        return None;
    }
    let all = cudalens_wgsl::kernel_definitions(model, &k.name);
    let number = all.iter().position(|f| std::ptr::eq(*f, k))? + 1;
    (all.len() > 1).then(|| (cudalens_wgsl::KernelDefinition::of(k), number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    const TWO_KERNELS: &str = "__global__ void a(float* y) {\n  y[0] = 1;\n}\n\
                               __global__ void b(float* y);\n\
                               __global__ void c(float* y) { y[1] = 2; }\n";

    fn target(kernel: Option<&str>, line: u32) -> KernelTarget {
        KernelTarget {
            uri: fixture::URI.into(),
            kernel: kernel.map(String::from),
            position: Some(cudalens_syntax::Position::new(line, 2)),
        }
    }

    #[test]
    fn by_name_or_position() {
        let f = fixture::analyze(TWO_KERNELS);
        let model = &f.snapshot.analyzed.model;
        let resolve = |t: &KernelTarget| resolve_kernel(model, &f.snapshot.index, t);
        assert_eq!(kernel_names(model), ["a", "c"]);
        assert_eq!(resolve(&target(None, 1)), Ok("a".into()));
        assert_eq!(resolve(&target(Some("c"), 1)), Ok("c".into()));
        assert_eq!(
            resolve(&target(Some("b"), 0)),
            Err("no kernel `b` with a body in this file".into())
        );
        assert_eq!(
            resolve(&target(None, 3)),
            Err("place the cursor inside a kernel".into())
        );
    }

    #[test]
    fn the_overload_around_the_position() {
        let f = fixture::analyze(
            "__global__ void k(int* a) { a[0] = 1; }\n\
             __global__ void k(int* a, int n) { a[n] = 2; }\n\
             __global__ void one(int* a) { a[0] = 3; }\n",
        );
        let model = &f.snapshot.analyzed.model;
        let overload =
            |kernel: &str, line| overload_at(model, &f.snapshot.index, &target(Some(kernel), line));
        assert_eq!(overload("k", 0).map(|(_, n)| n), Some(1));
        let (second, n) = overload("k", 1).expect("second");
        assert_eq!(n, 2);
        assert!(second.is(cudalens_wgsl::kernel_definitions(model, "k")[1]));
        assert_eq!(overload("one", 2), None, "one definition: the default");
        assert_eq!(
            overload("one", 1),
            None,
            "the position is in another kernel"
        );
    }
}
