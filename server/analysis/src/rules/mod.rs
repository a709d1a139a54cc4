//! The rule registry: every diagnostic code cudalens reports, one module per
//! rule with its code, one-line summary, default severity, documentation
//! (what it detects, why it costs, how it is measured, an example and its
//! fix) and inline-annotated fixture tests.
//!
//! The documentation pages in `docs/rules/`, `cudalens rules`, `--explain`,
//! and SARIF's rule metadata come from [`ALL`] (the editor's `codeDescription`
//! links are to come from it too: `Rule::docs_url`).
//!
//! ```
//! use cudalens_analysis::rules;
//! let rule = rules::find("bank-conflict").expect("a rule");
//! assert_eq!(rule.code, "bank-conflict");
//! assert!(rule.docs_url().ends_with("docs/rules/bank-conflict.md"));
//! assert!(rules::find("no-such-rule").is_none());
//! ```

pub mod analysis_budget;
pub mod bank_conflict;
pub mod barrier_in_divergent_code;
pub mod block_size_not_multiple_of_32;
pub mod file_too_large;
pub mod grid_too_small;
pub mod headers_macros_only;
pub mod include_depth;
pub mod include_not_found;
pub mod launch_exceeds_limit;
pub mod low_occupancy;
pub mod macro_recursion;
pub mod missing_syncthreads;
pub mod preprocessor;
pub mod suppression_without_reason;
pub mod syntax;
pub mod uncoalesced_access;
pub mod unused_suppression;

#[cfg(test)]
pub(crate) mod fixture;
mod page;

pub use page::markdown;

use crate::diagnostic::Severity;

/// Where rule pages live, relative to the repository root.
pub const DOCS_DIR: &str = "docs/rules";

/// The rule pages' address: the repository (the workspace's `repository`
/// key) and [`DOCS_DIR`] on its main branch.
pub const DOCS_URL_BASE: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/rules/");

/// What a rule is about (SARIF tags, grouping in `cudalens rules`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// The kernel is correct but wastes the GPU.
    Performance,
    /// The kernel can deadlock or compute wrong results.
    Correctness,
    /// cudalens could not read part of the file as written.
    FrontEnd,
    /// A `cudalens-ignore` comment is wrong.
    Suppression,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Performance => "performance",
            Category::Correctness => "correctness",
            Category::FrontEnd => "front-end",
            Category::Suppression => "suppression",
        }
    }
}

/// Whether a rule's documented example is run as a fixture test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExampleKind {
    /// Analysed in the tests: the annotations are exactly what cudalens reports
    /// and the fixed code reports nothing.
    Checked,
    /// Needs more than one file's text (headers, a size limit): shown only.
    Illustrative,
}

/// One rule: everything said about a diagnostic code outside the analysis
/// that computes it.
#[derive(Debug)]
pub struct Rule {
    /// Stable code, e.g. `bank-conflict`: what `--disable`, suppressions,
    /// baselines and SARIF's `ruleId` use.
    pub code: &'static str,
    /// One line, no final period.
    pub summary: &'static str,
    /// The most severe level the rule reports at (some findings are milder).
    pub default_severity: Severity,
    pub category: Category,
    /// Markdown: what the rule detects.
    pub detects: &'static str,
    /// Markdown: why it costs (or breaks) on a GPU.
    pub why: &'static str,
    /// Markdown: how the finding is established and how far it is verified.
    pub measured: &'static str,
    /// CUDA source with `// ^^^ severity[code]: message` annotations.
    pub example: &'static str,
    pub example_kind: ExampleKind,
    /// The example, fixed.
    pub fixed: &'static str,
    /// Markdown: how to fix it and which quick fixes cudalens offers.
    pub fix: &'static str,
}

impl Rule {
    /// The rule's documentation page (see [`DOCS_URL_BASE`]).
    pub fn docs_url(&self) -> String {
        format!("{DOCS_URL_BASE}{}.md", self.code)
    }

    /// The page's path relative to the repository root.
    pub fn docs_path(&self) -> String {
        format!("{DOCS_DIR}/{}.md", self.code)
    }
}

/// Every rule, front end first, then the analyses in the order they run.
pub const ALL: &[&Rule] = &[
    &syntax::RULE,
    &preprocessor::RULE,
    &include_not_found::RULE,
    &include_depth::RULE,
    &macro_recursion::RULE,
    &headers_macros_only::RULE,
    &file_too_large::RULE,
    &analysis_budget::RULE,
    &uncoalesced_access::RULE,
    &bank_conflict::RULE,
    &low_occupancy::RULE,
    &block_size_not_multiple_of_32::RULE,
    &launch_exceeds_limit::RULE,
    &grid_too_small::RULE,
    &barrier_in_divergent_code::RULE,
    &missing_syncthreads::RULE,
    &unused_suppression::RULE,
    &suppression_without_reason::RULE,
];

/// The rule with this code.
pub fn find(code: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.code == code)
}

/// Every rule code cudalens emits with its one-line summary, in the order of
/// [`ALL`] (which has everything else about each rule).
pub const RULES: &[(&str, &str)] = &legacy_table();

const fn legacy_table() -> [(&'static str, &'static str); ALL.len()] {
    let mut table = [("", ""); ALL.len()];
    let mut i = 0;
    while i < table.len() {
        table[i] = (ALL[i].code, ALL[i].summary);
        i += 1;
    }
    table
}

pub fn rule_exists(code: &str) -> bool {
    find(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_summaries_one_line() {
        let mut seen = std::collections::HashSet::new();
        for rule in ALL {
            assert!(seen.insert(rule.code), "{} twice", rule.code);
            assert!(
                rule.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{}",
                rule.code
            );
            assert!(!rule.summary.contains('\n') && !rule.summary.ends_with('.'));
            for (name, text) in [
                ("detects", rule.detects),
                ("why", rule.why),
                ("measured", rule.measured),
                ("example", rule.example),
                ("fixed", rule.fixed),
                ("fix", rule.fix),
            ] {
                assert!(!text.trim().is_empty(), "{}: {name} is empty", rule.code);
            }
        }
    }

    #[test]
    fn every_checked_example_reports_exactly_its_annotations_and_its_fix_nothing() {
        for rule in ALL
            .iter()
            .filter(|r| r.example_kind == ExampleKind::Checked)
        {
            let found = fixture::check_diagnostics(rule.example);
            assert!(
                found.contains(&rule.code),
                "{}: the example does not show the rule",
                rule.code
            );
            fixture::check_diagnostics(rule.fixed);
        }
    }

    #[test]
    fn the_legacy_table_lists_every_rule() {
        let legacy: Vec<&str> = crate::RULES.iter().map(|(c, _)| *c).collect();
        let codes: Vec<&str> = ALL.iter().map(|r| r.code).collect();
        assert_eq!(legacy, codes);
        for (code, summary) in crate::RULES {
            assert_eq!(find(code).map(|r| r.summary), Some(*summary));
        }
    }
}
