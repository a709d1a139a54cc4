//! Small helpers the features share: the word under the cursor, span
//! overlap, cost figures, bank conflicts as shown, the bytes of a
//! `__shared__` array.

use cudalens_analysis::{AccessReport, MemorySpace};
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

/// A shared access's bank conflict as hovers and inlay hints show it, judged
/// by the one verdict the diagnostics use (`AccessReport::waste`), in
/// "ways" relative to a conflict-free access of the same width (a `float4`
/// access needs 4 wavefronts without any conflict: 1-way).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BankConflict {
    /// Reported as `bank-conflict`: this many times the ideal wavefronts.
    Wasteful(f64),
    /// Above the ideal but within what the verdict tolerates.
    Minor(f64),
    None,
}

/// `None` for a global access or a shared one without counts.
pub fn bank_conflict(a: &AccessReport) -> Option<BankConflict> {
    if a.space != MemorySpace::Shared {
        return None;
    }
    let wavefronts = a.bank_conflict_ways?;
    let ideal = a.ideal_wavefronts.filter(|i| *i > 0.0).unwrap_or(1.0);
    let ways = wavefronts / ideal;
    Some(match a.waste() {
        Some(w) => BankConflict::Wasteful(w.ratio()),
        None if figure(ways) != "1" && ways > 1.0 => BankConflict::Minor(ways),
        None => BankConflict::None,
    })
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
