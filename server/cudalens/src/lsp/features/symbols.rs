//! `textDocument/documentSymbol`: functions of the file (kernels marked
//! `__global__` in the detail) with their `__shared__` arrays and the
//! launches they make as children.

use tower_lsp_server::ls_types as lsp;

use cudalens_syntax::Span;
use cudalens_syntax::model::Function;

use crate::lsp::convert;
use crate::lsp::state::Snapshot;

pub fn document_symbols(snapshot: &Snapshot) -> Vec<lsp::DocumentSymbol> {
    snapshot
        .analyzed
        .model
        .functions
        .iter()
        .filter(|f| f.in_main_file() && f.body.is_some())
        .map(|f| function_symbol(snapshot, f))
        .collect()
}

fn function_symbol(snapshot: &Snapshot, f: &Function) -> lsp::DocumentSymbol {
    let mut children: Vec<lsp::DocumentSymbol> = f
        .shared_decls()
        .into_iter()
        .map(|d| {
            symbol(
                snapshot,
                d.name.clone(),
                Some(format!("__shared__ {}", d.ty.display())),
                lsp::SymbolKind::ARRAY,
                d.span,
                d.name_span,
                None,
            )
        })
        .collect();
    children.extend(
        snapshot
            .analyzed
            .model
            .launches
            .iter()
            .filter(|l| f.span.start <= l.span.start && l.span.end <= f.span.end)
            .map(|l| {
                symbol(
                    snapshot,
                    format!("{}<<<…>>>", l.kernel),
                    Some(format!("grid {} · block {}", l.grid_dims, l.block_dims)),
                    lsp::SymbolKind::EVENT,
                    l.span,
                    l.name_span,
                    None,
                )
            }),
    );
    children.sort_by_key(|c| (c.range.start.line, c.range.start.character));
    symbol(
        snapshot,
        f.name.clone(),
        Some(f.signature()),
        lsp::SymbolKind::FUNCTION,
        f.span,
        f.name_span,
        Some(children),
    )
}

#[allow(deprecated)] // `deprecated` must still be spelled out in the struct literal
fn symbol(
    snapshot: &Snapshot,
    name: String,
    detail: Option<String>,
    kind: lsp::SymbolKind,
    span: Span,
    name_span: Span,
    children: Option<Vec<lsp::DocumentSymbol>>,
) -> lsp::DocumentSymbol {
    let range = convert::range(&snapshot.index, span);
    // The selection must lie inside the range (clients reject the symbol otherwise).
    let selection = if span.start <= name_span.start && name_span.end <= span.end {
        convert::range(&snapshot.index, name_span)
    } else {
        range
    };
    lsp::DocumentSymbol {
        name,
        detail,
        kind,
        tags: None,
        deprecated: None,
        range,
        selection_range: selection,
        children,
    }
}
