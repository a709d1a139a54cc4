//! The documentation is true: the rule pages in `docs/rules/` are what the
//! rule registry generates (`CUDALENS_BLESS=1 cargo test -p cudalens --test
//! docs` rewrites them), and every flag, JSON key and setting the READMEs
//! document exists, and the reverse.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

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

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The text of a Markdown section: from its heading line to the next heading
/// of the same or a higher level.
fn section<'a>(text: &'a str, heading: &str) -> &'a str {
    let start = text
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading}"));
    let level = heading.chars().take_while(|c| *c == '#').count();
    let body = &text[start + heading.len() + 2..];
    let end = body
        .match_indices("\n#")
        .find(|(i, _)| {
            let line = &body[i + 1..];
            let hashes = line.chars().take_while(|c| *c == '#').count();
            hashes <= level && line[hashes..].starts_with(' ')
        })
        .map_or(body.len(), |(i, _)| i);
    &body[..end]
}

/// The first fenced code block of `text`.
fn first_block(text: &str) -> &str {
    let start = text.find("```").expect("a code block");
    let body = &text[start..];
    let body = &body[body.find('\n').map_or(0, |i| i + 1)..];
    &body[..body.find("```").expect("closed block")]
}

/// `--long` and `-s` options written in `text`.
fn flags_in(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len() {
        let boundary = i == 0 || " [(|`,\n".contains(chars[i - 1]);
        if !boundary || chars[i] != '-' {
            continue;
        }
        let flag: String = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || **c == '-')
            .collect();
        let long =
            flag.len() > 2 && flag.starts_with("--") && flag.as_bytes()[2].is_ascii_lowercase();
        let short = flag.len() == 2 && flag.as_bytes()[1].is_ascii_alphabetic();
        if long || short {
            out.insert(flag);
        }
    }
    out
}

/// The options clap defines for a (sub)command, without --help/--version.
fn clap_flags(command: &clap::Command) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for arg in command.get_arguments() {
        if let Some(long) = arg.get_long().filter(|l| !["help", "version"].contains(l)) {
            out.insert(format!("--{long}"));
        }
        if let Some(short) = arg.get_short().filter(|s| !['h', 'V'].contains(s)) {
            out.insert(format!("-{short}"));
        }
    }
    out
}

#[test]
fn documented_flags_exist_and_every_flag_is_documented() {
    use clap::CommandFactory;
    let cli = cudalens::cli::Cli::command();
    let server = read("server/cudalens/README.md");
    let overview = first_block(&server);
    for sub in cli.get_subcommands() {
        let name = sub.get_name();
        let defined = clap_flags(sub);
        let documented = if name == "lsp" {
            let line = overview
                .lines()
                .find(|l| l.starts_with("cudalens lsp"))
                .expect("cudalens lsp in the overview");
            flags_in(line.split('#').next().unwrap_or(""))
        } else {
            flags_in(first_block(section(
                &server,
                &format!("## `cudalens {name}`"),
            )))
        };
        assert_eq!(
            documented, defined,
            "server/cudalens/README.md, `cudalens {name}`: documented (left) vs defined (right)"
        );
    }
    // Top-level options: the overview block.
    let top: BTreeSet<String> = flags_in(overview)
        .into_iter()
        .filter(|f| overview.contains(&format!("cudalens {f}")) && f != "--help")
        .collect();
    assert_eq!(top, clap_flags(&cli), "top-level options in the overview");
    // Every flag in README.md's examples belongs to its subcommand.
    let readme = read("README.md");
    for block in readme.split("```sh\n").skip(1) {
        let block = &block[..block.find("```").unwrap_or(block.len())];
        for line in block.lines() {
            let line = line.split('#').next().unwrap_or("");
            let Some(rest) = line.trim().strip_prefix("cudalens ") else {
                continue;
            };
            let name = rest.split_whitespace().next().unwrap_or("");
            let Some(sub) = cli.find_subcommand(name) else {
                continue;
            };
            let defined = clap_flags(sub);
            for flag in flags_in(rest) {
                assert!(
                    defined.contains(&flag),
                    "README.md: `cudalens {name} {flag}` does not exist"
                );
            }
        }
    }
}

/// Every object key anywhere in `value`.
fn keys(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                out.insert(k.clone());
                keys(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

#[test]
fn documented_json_keys_are_emitted_and_every_key_is_documented() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("blob.cu"), b"\x7fELF\0binary").expect("write");
    // A kernel launched from the file that includes it (`file`, `launched_in`).
    std::fs::write(
        dir.path().join("scale_kernel.cu"),
        "__global__ void scale(float* a) { a[blockIdx.x * blockDim.x + threadIdx.x] *= 2.0f; }\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("scale.cu"),
        "#include \"scale_kernel.cu\"\n#define BLOCK 16\nvoid run(float* a) { scale<<<64, BLOCK>>>(a); }\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args([
            "check",
            "--format",
            "json",
            "--nvcc",
            "off",
            "examples",
            "tests/corpus",
        ])
        .arg(dir.path().join("blob.cu"))
        .arg(dir.path().join("scale_kernel.cu"))
        .arg(dir.path().join("scale.cu"))
        .current_dir(repo_root())
        .output()
        .expect("run cudalens");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let mut emitted = BTreeSet::new();
    keys(&report, &mut emitted);

    let server = read("server/cudalens/README.md");
    let docs = section(&server, "### JSON report (`--format json`, version 1)");
    let mut documented = BTreeSet::new();
    let bytes = docs.as_bytes();
    for (i, _) in docs.match_indices('"') {
        let rest = &docs[i + 1..];
        let Some(end) = rest.find('"') else { continue };
        let word = &rest[..end];
        let after = rest[end + 1..].trim_start();
        if !word.is_empty()
            && word.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && after.starts_with(':')
            && (i == 0 || bytes[i - 1] != b'"')
        {
            documented.insert(word.to_string());
        }
    }
    assert_eq!(
        documented, emitted,
        "JSON keys: documented in server/cudalens/README.md (left) vs emitted by check --format json (right)"
    );
    // README.md's summary names keys in backticks: each must be emitted.
    let readme = read("README.md");
    let usage = section(&readme, "## Usage");
    let summary = &usage[usage
        .find("`--format json` prints")
        .expect("the JSON summary")..];
    let summary = &summary[..summary.find("\n\n").unwrap_or(summary.len())];
    for word in summary.split('`').skip(1).step_by(2) {
        if word.contains('_') && word.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            assert!(
                emitted.contains(word),
                "README.md documents JSON key `{word}`, never emitted"
            );
        }
    }
}

/// `cudalens.*` settings named in backticks in the rows of a Markdown table
/// (`.accessCost` after `cudalens.inlayHints.enable` is `cudalens.inlayHints.accessCost`).
fn table_settings(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("| `cudalens.") || l.starts_with("| `"))
    {
        let first_cell = line.split('|').nth(1).unwrap_or("");
        let mut last = String::new();
        for word in first_cell.split('`').skip(1).step_by(2) {
            let name = if let Some(tail) = word.strip_prefix('.') {
                match last.rsplit_once('.') {
                    Some((head, _)) => format!("{head}.{tail}"),
                    None => continue,
                }
            } else if word.starts_with("cudalens.") {
                word.to_string()
            } else {
                continue;
            };
            last = name.clone();
            out.insert(name);
        }
    }
    out
}

#[test]
fn every_setting_is_documented_everywhere_and_nothing_else_is() {
    let schema: serde_json::Value =
        serde_json::from_str(&read("server/cudalens/settings.schema.json")).expect("schema");
    let defined: BTreeSet<String> = schema["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    let readme = read("README.md");
    assert_eq!(
        table_settings(section(&readme, "## Configuration")),
        defined,
        "README.md's settings table (left) vs settings.schema.json (right)"
    );
    let server = read("server/cudalens/README.md");
    assert_eq!(
        table_settings(section(&server, "### Settings")),
        defined,
        "server/cudalens/README.md's settings table (left) vs settings.schema.json (right)"
    );
    let nvim = read("editors/nvim/README.md");
    let list = &nvim[nvim
        .find("The settings are those of")
        .expect("the settings list")..];
    let list = &list[list.find('(').expect("(")..list.find(')').expect(")")];
    let nvim_settings: BTreeSet<String> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|s| format!("cudalens.{s}"))
        .collect();
    assert_eq!(
        nvim_settings, defined,
        "editors/nvim/README.md's list (left) vs the schema"
    );
    // The extension contributes the schema, plus its own client settings, documented in its README.
    let package: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/package.json")).expect("package.json");
    let contributed: BTreeSet<String> = package["contributes"]["configuration"]["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .cloned()
        .collect();
    let vscode = read("editors/vscode/README.md");
    for key in contributed.difference(&defined) {
        let short = key.trim_start_matches("cudalens.");
        assert!(
            vscode.contains(&format!("`{short}")),
            "editors/vscode/README.md lacks `{key}`"
        );
    }
    assert!(
        defined.is_subset(&contributed),
        "the extension must contribute every setting"
    );
}

#[test]
fn documented_architectures_exist() {
    let check_help = Command::new(env!("CARGO_BIN_EXE_cudalens"))
        .args(["check", "--help"])
        .output()
        .expect("run cudalens");
    let texts = [
        read("README.md"),
        read("server/cudalens/README.md"),
        read("server/cudalens/settings.schema.json"),
        read("editors/vscode/package.json"),
        String::from_utf8_lossy(&check_help.stdout).into_owned(),
    ];
    let mut seen = 0;
    for text in &texts {
        for (i, _) in text.match_indices("sm_") {
            let digits: String = text[i + 3..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.is_empty() {
                continue;
            }
            let arch = format!("sm_{digits}");
            assert!(
                cudalens_occupancy::Arch::parse(&arch).is_ok(),
                "documentation names {arch}, which --arch rejects"
            );
            seen += 1;
        }
    }
    assert!(seen > 10);
}
