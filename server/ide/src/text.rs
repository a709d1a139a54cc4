//! Small helpers the features share: the word under the cursor, span
//! overlap, cost figures, the bytes of a `__shared__` array.

use cudalens_syntax::Span;

/// The identifier (letters, digits, `_`) around `offset`, with its span.
pub fn word_at(text: &str, offset: usize) -> Option<(&str, Span)> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let offset = offset.min(text.len());
    let before = text.get(..offset)?;
    let after = text.get(offset..)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_ident(c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = offset + after.find(|c: char| !is_ident(c)).unwrap_or(after.len());
    let word = text.get(start..end)?;
    (!word.is_empty() && !word.starts_with(|c: char| c.is_ascii_digit()))
        .then_some((word, Span::new(start, end)))
}

/// Bytes of one `__shared__` array when its size folds to a constant.
pub fn shared_array_bytes(
    model: &cudalens_syntax::FileModel,
    function: &cudalens_syntax::model::Function,
    decl: &cudalens_syntax::ir::VarDecl,
) -> Option<u64> {
    let file_env = model.const_env();
    let env = function.const_env(&file_env);
    let mut bytes = env.size_of(&decl.ty)?;
    for dim in &decl.dims {
        let n = u64::try_from(env.eval(dim.as_ref()?)?).ok()?;
        bytes = bytes.checked_mul(n)?;
    }
    Some(bytes)
}

/// True when `a` and `b` overlap or touch (a cursor at either end counts).
pub fn touches(a: Span, b: Span) -> bool {
    a.start <= b.end && b.start <= a.end
}

/// A cost figure without noise: `4`, `3.9`.
pub fn figure(value: f64) -> String {
    if (value - value.round()).abs() < 0.05 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words() {
        let text = "a = TILE_SIZE*2;";
        assert_eq!(word_at(text, 6).map(|w| w.0), Some("TILE_SIZE"));
        assert_eq!(word_at(text, 13).map(|w| w.0), Some("TILE_SIZE"));
        assert_eq!(word_at(text, 14), None);
        assert_eq!(word_at(text, 99), None);
        assert_eq!(word_at("é x", 1), None);
    }

    #[test]
    fn figures() {
        assert_eq!(figure(4.01), "4");
        assert_eq!(figure(3.93), "3.9");
    }
}
