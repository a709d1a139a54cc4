//! A rule's documentation page, in Markdown: what `docs/rules/<code>.md`
//! holds and what `cudalens rules CODE` / `--explain CODE` prints.

use std::fmt::Write as _;

use super::{Category, ExampleKind, Rule};

/// The whole page of `rule`.
pub fn markdown(rule: &Rule) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# `{}`\n", rule.code);
    let _ = writeln!(out, "{}.\n", capitalised(rule.summary));
    let _ = writeln!(
        out,
        "Default severity: **{}** · Category: {}\n",
        rule.default_severity.as_str(),
        rule.category.as_str()
    );
    section(&mut out, "What it detects", rule.detects);
    section(&mut out, "Why it costs", rule.why);
    section(&mut out, "How it is measured", rule.measured);
    let _ = writeln!(out, "## Example\n");
    if rule.example_kind == ExampleKind::Illustrative {
        let _ = writeln!(
            out,
            "(Illustrative: it needs more than one file to reproduce.)\n"
        );
    }
    code_block(&mut out, rule.example);
    let _ = writeln!(out, "## How to fix it\n");
    let _ = writeln!(out, "{}\n", rule.fix.trim());
    code_block(&mut out, rule.fixed);
    let _ = writeln!(out, "## Turning it off\n");
    out.push_str(&turning_off(rule));
    out
}

fn section(out: &mut String, title: &str, body: &str) {
    let _ = writeln!(out, "## {title}\n\n{}\n", body.trim());
}

fn code_block(out: &mut String, code: &str) {
    let _ = writeln!(out, "```cuda\n{}\n```\n", code.trim_matches('\n'));
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn turning_off(rule: &Rule) -> String {
    let code = rule.code;
    let mut out = String::new();
    // A file too large is never analysed, so a comment in it cannot be read.
    let comments_apply =
        rule.category != Category::Suppression && rule.code != super::file_too_large::CODE;
    if comments_apply {
        let _ = writeln!(
            out,
            "- One finding: `// cudalens-ignore[{code}]: <reason>` at the end of its line or on \
             the line before. A reason is required, and a comment that suppresses nothing is \
             reported (`unused-suppression`)."
        );
        let _ = writeln!(
            out,
            "- One file: `// cudalens-ignore-file[{code}]: <reason>` anywhere in the file."
        );
    }
    let _ = writeln!(
        out,
        "- Some paths, in `cudalens check`: `[disabledRulesPerPath]` in `cudalens.toml`, e.g. \
         `\"third_party/**\" = [\"{code}\"]` (globs relative to the file)."
    );
    let _ = writeln!(
        out,
        "- Everywhere: `cudalens check --disable {code}` or `disabledRules = [\"{code}\"]` in \
         `cudalens.toml`; in the editor, the setting `cudalens.disabledRules`."
    );
    out
}
