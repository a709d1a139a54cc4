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
}
