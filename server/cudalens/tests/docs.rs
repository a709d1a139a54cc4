//! The documentation is true: the rule pages in `docs/rules/` are what the
//! rule registry generates (`CUDALENS_BLESS=1 cargo test -p cudalens --test
//! docs` rewrites them), and every flag, JSON key and setting the READMEs
//! document exists, and the reverse.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use cudalens_analysis::rules;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bless() -> bool {
    std::env::var_os("CUDALENS_BLESS").is_some()
}

/// The index page of `docs/rules/`.
fn index() -> String {
    let mut out = String::from(
        "# cudalens rules\n\nOne page per rule, generated from the rule registry \
         (`server/analysis/src/rules/`); `cudalens rules` lists them and \
         `cudalens rules CODE` prints a page.\n\n| Rule | Default severity | Category | Summary |\n|---|---|---|---|\n",
    );
    for r in rules::ALL {
        out.push_str(&format!(
            "| [`{0}`]({0}.md) | {1} | {2} | {3} |\n",
            r.code,
            r.default_severity.as_str(),
            r.category.as_str(),
            r.summary
        ));
    }
    out
}

#[test]
fn rule_pages_are_generated_from_the_registry() {
    let dir = repo_root().join(rules::DOCS_DIR);
    let mut expected: Vec<(String, String)> = rules::ALL
        .iter()
        .map(|r| (format!("{}.md", r.code), rules::markdown(r)))
        .collect();
    expected.push(("README.md".into(), index()));
    if bless() {
        std::fs::create_dir_all(&dir).expect("docs/rules");
        for (name, text) in &expected {
            std::fs::write(dir.join(name), text).expect("write page");
        }
    }
    let mut stale = Vec::new();
    for (name, text) in &expected {
        match std::fs::read_to_string(dir.join(name)) {
            Ok(found) if found == *text => {}
            _ => stale.push(name.clone()),
        }
    }
    assert!(
        stale.is_empty(),
        "docs/rules is out of date ({stale:?}): run `CUDALENS_BLESS=1 cargo test -p cudalens --test docs`"
    );
    let names: BTreeSet<String> = expected.into_iter().map(|(n, _)| n).collect();
    for entry in std::fs::read_dir(&dir).expect("docs/rules") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        assert!(
            names.contains(&name),
            "docs/rules/{name} belongs to no rule"
        );
    }
}
