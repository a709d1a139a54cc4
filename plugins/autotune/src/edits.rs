//! Turning a recommendation into source edits: `__launch_bounds__` on the declaration, and
//! the block argument at the launch site together with the grid computed from it.

use cudalens_plugin_protocol::text::advance;
use cudalens_plugin_protocol::{
    LaunchSite, LoopSite, Position, Range, TextEdit, TuneParams, Variant,
};

const LAUNCH_BOUNDS: &str = "__launch_bounds__";
const GLOBAL: &str = "__global__";

/// Edit that sets the first `__launch_bounds__` argument to `threads`, inserting the
/// attribute after `__global__` when there is none. Extra arguments (min blocks per SM)
/// are preserved.
pub fn launch_bounds_edit(params: &TuneParams, threads: u64) -> TextEdit {
    let head = &params.declaration_text;
    let start = params.declaration_range.start;
    if let Some(at) = head.find(LAUNCH_BOUNDS) {
        let open = head[at..].find('(').map(|i| at + i);
        let close = open.and_then(|o| head[o..].find(')').map(|i| o + i));
        if let (Some(open), Some(close)) = (open, close) {
            let args = &head[open + 1..close];
            let rest = args.find(',').map(|i| &args[i..]).unwrap_or("");
            return TextEdit {
                range: Range::new(advance(start, &head[..at]), advance(start, &head[..=close])),
                new_text: format!("{LAUNCH_BOUNDS}({threads}{rest})"),
                uri: None,
            };
        }
    }
    let insert_at = match head.find(GLOBAL) {
        Some(at) => advance(start, &head[..at + GLOBAL.len()]),
        None => start,
    };
    let new_text = if head.contains(GLOBAL) {
        format!(" {LAUNCH_BOUNDS}({threads})")
    } else {
        format!("{LAUNCH_BOUNDS}({threads}) ")
    };
    TextEdit {
        range: Range::new(insert_at, insert_at),
        new_text,
        uri: None,
    }
}

/// `#pragma unroll {factor}` above each loop the host unrolled for the variant (replacing a
/// pragma that is already there), so nvcc unrolls the CUDA source as the benchmark did.
pub fn unroll_pragma_edits(loops: &[LoopSite], factor: u32) -> Vec<TextEdit> {
    loops
        .iter()
        .map(|site| match site.pragma_range {
            Some(range) => TextEdit {
                range,
                new_text: format!("#pragma unroll {factor}"),
                uri: None,
            },
            None => {
                let line_start = Position::new(site.range.start.line, 0);
                TextEdit {
                    range: Range::new(line_start, line_start),
                    new_text: format!("{}#pragma unroll {factor}\n", site.indent),
                    uri: None,
                }
            }
        })
        .collect()
}

/// The block argument in source form: `128` or `dim3(16, 16)`.
pub fn block_expression(variant: &Variant) -> String {
    match variant.block {
        [x, 1, 1] => x.to_string(),
        [x, y, 1] => format!("dim3({x}, {y})"),
        [x, y, z] => format!("dim3({x}, {y}, {z})"),
    }
}

/// Edits of the launch's block argument, and of the grid argument that is computed from
/// it, so the launch still covers the same problem: `<<<(n + 255) / 256, 256>>>` becomes
/// `<<<(n + 127) / 128, 128>>>`. Only a literal block (`256`, `dim3(16, 16)`) whose value
/// appears in a grid written at the launch is rewritten; anything else (a named variable, a
/// grid that does not mention the block) is left alone, because changing only the block
/// would silently change how many threads run.
pub fn launch_site_edit(launch: &LaunchSite, variant: &Variant) -> Option<Vec<TextEdit>> {
    let old = literal_block(&launch.block_arg_text)?;
    let grid_range = launch.grid_arg_range?;
    let new_grid = rescale_grid(&launch.grid_arg_text, old, variant.block)?;
    let edit = |range, new_text| TextEdit {
        range,
        new_text,
        uri: Some(launch.uri.clone()),
    };
    Some(vec![
        edit(grid_range, new_grid),
        edit(launch.block_arg_range, block_expression(variant)),
    ])
}

/// `256`, `256u`, `dim3(16, 16)`, `dim3(8,8,1)` as dimensions.
fn literal_block(text: &str) -> Option<[u32; 3]> {
    let text = text.trim();
    let inner = text
        .strip_prefix("dim3(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text);
    let parts: Vec<&str> = inner.split(',').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut dims = [1u32; 3];
    for (d, part) in dims.iter_mut().zip(&parts) {
        let digits = part.trim().trim_end_matches(['u', 'U']);
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        *d = digits.parse().ok().filter(|&v| v > 0)?;
    }
    Some(dims)
}

/// The grid text with each axis' block constants (`B`, and `B - 1` of a rounding-up
/// division) replaced by the new block's; `None` unless every axis whose block changes is
/// visibly computed from it. Axis i of a `dim3(...)` grid is its i-th argument; a plain
/// expression is the x axis.
fn rescale_grid(grid: &str, old: [u32; 3], new: [u32; 3]) -> Option<String> {
    let trimmed = grid.trim();
    let axes: Vec<&str> = match trimmed
        .strip_prefix("dim3(")
        .and_then(|t| t.strip_suffix(')'))
    {
        Some(inner) => split_top_level(inner),
        None => vec![trimmed],
    };
    let mut out = Vec::with_capacity(axes.len());
    for (i, axis) in axes.iter().enumerate() {
        let (from, to) = (old.get(i).copied()?, new.get(i).copied()?);
        if from == to {
            out.push(axis.to_string());
            continue;
        }
        let rewritten = replace_numbers(axis, &[(from, to), (from - 1, to - 1)]);
        if rewritten == *axis {
            return None; // this axis does not derive from the block
        }
        out.push(rewritten);
    }
    // A block axis that changes but has no grid axis (`<<<n, dim3(16, 16)>>>` → 32x8).
    if (axes.len()..3).any(|i| old[i] != new[i]) {
        return None;
    }
    Some(if axes.len() == 1 && !trimmed.starts_with("dim3(") {
        out.remove(0)
    } else {
        format!("dim3({})", out.join(", "))
    })
}

/// Splits at commas outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut parts) = (0i32, 0, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(text[start..].trim());
    parts
}

/// Replaces whole integer literals (not digits inside names like `n2`) per `pairs`.
fn replace_numbers(text: &str, pairs: &[(u32, u32)]) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let in_name = i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if c.is_ascii_digit() && !in_name {
            let end = (i..bytes.len())
                .find(|&j| !bytes[j].is_ascii_digit())
                .unwrap_or(bytes.len());
            let literal = &text[i..end];
            let followed_by_name = bytes.get(end).is_some_and(|b| {
                (b.is_ascii_alphanumeric() || *b == b'_') && !matches!(b, b'u' | b'U')
            });
            let value: Option<u32> = literal.parse().ok();
            match pairs.iter().find(|(from, _)| Some(*from) == value) {
                Some((_, to)) if !followed_by_name => out.push_str(&to.to_string()),
                _ => out.push_str(literal),
            }
            i = end;
        } else {
            out.push(c as char);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use cudalens_plugin_protocol::Position;

    fn params(head: &str) -> TuneParams {
        TuneParams {
            declaration_range: Range::new(Position::new(4, 0), advance(Position::new(4, 0), head)),
            declaration_text: head.into(),
            ..TuneParams::default()
        }
    }

    #[test]
    fn inserts_launch_bounds_after_global() {
        let edit = launch_bounds_edit(&params("__global__ void "), 128);
        assert_eq!(
            edit.range,
            Range::new(Position::new(4, 10), Position::new(4, 10))
        );
        assert_eq!(edit.new_text, " __launch_bounds__(128)");
    }

    #[test]
    fn replaces_existing_launch_bounds_keeping_min_blocks() {
        let edit = launch_bounds_edit(&params("__global__ __launch_bounds__(256, 2) void "), 512);
        assert_eq!(
            edit.range,
            Range::new(Position::new(4, 11), Position::new(4, 36))
        );
        assert_eq!(edit.new_text, "__launch_bounds__(512, 2)");
    }

    #[test]
    fn unroll_pragmas_are_inserted_or_replace_the_existing_one() {
        let fresh = LoopSite {
            range: Range::new(Position::new(7, 4), Position::new(9, 5)),
            indent: "    ".into(),
            pragma_range: None,
        };
        let existing = LoopSite {
            range: Range::new(Position::new(12, 4), Position::new(13, 5)),
            indent: "    ".into(),
            pragma_range: Some(Range::new(Position::new(11, 4), Position::new(11, 18))),
        };
        let edits = unroll_pragma_edits(&[fresh, existing], 4);
        assert_eq!(
            edits[0].range,
            Range::new(Position::new(7, 0), Position::new(7, 0))
        );
        assert_eq!(edits[0].new_text, "    #pragma unroll 4\n");
        assert_eq!(edits[1].range.start, Position::new(11, 4));
        assert_eq!(edits[1].new_text, "#pragma unroll 4");
    }

    fn site(block: &str, grid: &str) -> LaunchSite {
        LaunchSite {
            uri: "file:///m.cu".into(),
            block_arg_text: block.into(),
            grid_arg_range: Some(Range::default()),
            grid_arg_text: grid.into(),
            ..LaunchSite::default()
        }
    }

    fn rewrite(block: &str, grid: &str, to: [u32; 3]) -> Option<(String, String)> {
        let edits = launch_site_edit(&site(block, grid), &Variant::with_block(to))?;
        Some((edits[0].new_text.clone(), edits[1].new_text.clone()))
    }

    #[test]
    fn rewrites_the_block_and_the_grid_computed_from_it() {
        assert_eq!(
            rewrite("256", "(n + 255) / 256", [128, 1, 1]),
            Some(("(n + 127) / 128".into(), "128".into()))
        );
        assert_eq!(
            rewrite("256u", "cdiv(n2, 256)", [512, 1, 1]),
            Some(("cdiv(n2, 512)".into(), "512".into()))
        );
        assert_eq!(
            rewrite(
                "dim3(16, 16)",
                "dim3((w + 15) / 16, (h + 15) / 16)",
                [32, 8, 1]
            ),
            Some((
                "dim3((w + 31) / 32, (h + 7) / 8)".into(),
                "dim3(32, 8)".into()
            ))
        );
    }

    #[test]
    fn leaves_launches_it_cannot_keep_equivalent() {
        // A named block, a grid that does not mention the block, a literal grid, a grid
        // argument hidden in a variable, and a 2D block with a 1D grid expression.
        assert_eq!(rewrite("threads", "(n + 255) / 256", [128, 1, 1]), None);
        assert_eq!(rewrite("256", "blocks", [128, 1, 1]), None);
        assert_eq!(rewrite("256", "80", [128, 1, 1]), None);
        assert_eq!(rewrite("dim3(16, 16)", "grid", [32, 8, 1]), None);
        assert_eq!(rewrite("dim3(16, 16)", "(n + 15) / 16", [32, 8, 1]), None);
        let mut no_grid = site("256", "(n + 255) / 256");
        no_grid.grid_arg_range = None;
        assert!(launch_site_edit(&no_grid, &Variant::with_block([128, 1, 1])).is_none());
        // Digits inside names are not constants.
        assert_eq!(
            rewrite("32", "(n32 + 31) / 32", [64, 1, 1]),
            Some(("(n32 + 63) / 64".into(), "64".into()))
        );
    }
}
