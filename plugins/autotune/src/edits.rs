//! Turning a recommendation into source edits: `__launch_bounds__` on the declaration and
//! the block argument at the launch site.

use cudalens_plugin_protocol::text::advance;
use cudalens_plugin_protocol::{LaunchSite, Range, TextEdit, TuneParams, Variant};

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

/// The block argument in source form: `128` or `dim3(16, 16)`.
pub fn block_expression(variant: &Variant) -> String {
    match variant.block {
        [x, 1, 1] => x.to_string(),
        [x, y, 1] => format!("dim3({x}, {y})"),
        [x, y, z] => format!("dim3({x}, {y}, {z})"),
    }
}

/// Edit of the launch's block argument, only when it is a literal (`256`, `dim3(16,16)`).
/// A named variable is left alone: it usually also feeds the grid computation, so
/// replacing only the launch argument would silently stop covering the whole problem.
pub fn launch_site_edit(launch: &LaunchSite, variant: &Variant) -> Option<TextEdit> {
    is_literal_block(&launch.block_arg_text).then(|| TextEdit {
        range: launch.block_arg_range,
        new_text: block_expression(variant),
        uri: Some(launch.uri.clone()),
    })
}

/// `256`, `256u`, `dim3(16, 16)`, `dim3(8,8,1)`.
fn is_literal_block(text: &str) -> bool {
    let text = text.trim();
    let inner = text
        .strip_prefix("dim3(")
        .and_then(|t| t.strip_suffix(')'))
        .unwrap_or(text);
    !inner.is_empty()
        && inner.split(',').all(|part| {
            let digits = part.trim().trim_end_matches(['u', 'U']);
            !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())
        })
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
    fn launch_site_only_rewrites_literals() {
        let mut site = LaunchSite {
            uri: "file:///m.cu".into(),
            block_arg_text: "dim3(16, 16)".into(),
            ..LaunchSite::default()
        };
        let v = Variant::with_block([32, 8, 1]);
        assert_eq!(launch_site_edit(&site, &v).unwrap().new_text, "dim3(32, 8)");
        site.block_arg_text = "256".into();
        assert_eq!(
            launch_site_edit(&site, &Variant::with_block([128, 1, 1]))
                .unwrap()
                .new_text,
            "128"
        );
        site.block_arg_text = "threads".into();
        assert!(launch_site_edit(&site, &v).is_none());
    }
}
