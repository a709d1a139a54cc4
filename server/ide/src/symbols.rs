//! Document symbols: the file's functions (kernels with their `__global__`
//! signature as detail) with their `__shared__` arrays and the launches they
//! make as children.

use cudalens_syntax::Span;
use cudalens_syntax::model::Function;

use crate::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Function,
    SharedArray,
    Launch,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub detail: Option<String>,
    pub kind: SymbolKind,
    pub span: Span,
    /// Inside `span` (clients reject a symbol whose selection is not).
    pub name_span: Span,
    pub children: Vec<Symbol>,
}

/// Functions with a body in this file, in source order.
pub fn document_symbols(snapshot: &Snapshot) -> Vec<Symbol> {
    snapshot
        .analyzed
        .model
        .functions
        .iter()
        .filter(|f| f.in_main_file() && f.body.is_some())
        .map(|f| function_symbol(snapshot, f))
        .collect()
}

fn function_symbol(snapshot: &Snapshot, f: &Function) -> Symbol {
    let mut children: Vec<Symbol> = f
        .shared_decls()
        .into_iter()
        .map(|d| {
            symbol(
                d.name.clone(),
                Some(format!("__shared__ {}", d.ty.display())),
                SymbolKind::SharedArray,
                d.span,
                d.name_span,
            )
        })
        .collect();
    children.extend(
        snapshot
            .analyzed
            .model
            .launches
            .iter()
            .filter(|l| l.is_local() && f.span.start <= l.span.start && l.span.end <= f.span.end)
            .map(|l| {
                symbol(
                    format!("{}<<<…>>>", l.kernel),
                    Some(format!("grid {} · block {}", l.grid_dims, l.block_dims)),
                    SymbolKind::Launch,
                    l.span,
                    l.name_span,
                )
            }),
    );
    children.sort_by_key(|c| snapshot.index.position(c.span.start));
    let mut function = symbol(
        f.name.clone(),
        Some(f.signature()),
        SymbolKind::Function,
        f.span,
        f.name_span,
    );
    function.children = children;
    function
}

fn symbol(
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    name_span: Span,
) -> Symbol {
    let inside = span.start <= name_span.start && name_span.end <= span.end;
    Symbol {
        name,
        detail,
        kind,
        span,
        name_span: if inside { name_span } else { span },
        children: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;
    use crate::fixture;

    fn outline(symbols: &[Symbol], text: &str, depth: usize, out: &mut String) {
        for s in symbols {
            let detail = s.detail.as_deref().unwrap_or("");
            let name_text = s.name_span.text(text);
            out.push_str(&format!(
                "{}{:?} {} [{name_text}] {detail}\n",
                "  ".repeat(depth),
                s.kind,
                s.name
            ));
            outline(&s.children, text, depth + 1, out);
        }
    }

    #[test]
    fn functions_with_shared_arrays_and_launches() {
        let f = fixture::analyze(
            r#"
            __global__ void reduce(const float* in, float* out) {
                __shared__ float partial[256];
                partial[threadIdx.x] = in[threadIdx.x];
            }
            __device__ float declared_only(float x);
            void run(const float* in, float* out) {
                reduce<<<16, 256>>>(in, out);
            }
            "#,
        );
        let mut out = String::new();
        outline(
            &document_symbols(&f.snapshot),
            &f.snapshot.text,
            0,
            &mut out,
        );
        expect![[r#"
            Function reduce [reduce] __global__ void reduce(const float* in, float* out)
              SharedArray partial [partial] __shared__ float
            Function run [run] void run(const float* in, float* out)
              Launch reduce<<<…>>> [reduce<<<16, 256>>>(in, out)] grid 16 · block 256
        "#]]
        .assert_eq(&out);
    }
}
