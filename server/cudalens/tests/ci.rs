//! `cudalens check` in CI, with the real binary on real files: SARIF (valid
//! against the vendored SARIF 2.1.0 schema, stable fingerprints), GitHub
//! annotations, output pairs, exit statuses (3 from a forced internal
//! failure), suppressions, `cudalens.toml` per-path rules, baselines, and
//! no progress output when piped.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::cli::{cudalens, cudalens_env, read_json, stderr, stdout};

const KERNELS: &str = r#"#define TILE 32
__global__ void transpose(float* out, const float* in) {
  __shared__ float tile[TILE][TILE];
  tile[threadIdx.y][threadIdx.x] = in[threadIdx.y * TILE + threadIdx.x];
  __syncthreads();
  out[threadIdx.y * TILE + threadIdx.x] = tile[threadIdx.x][threadIdx.y];
}
void host(float* o, float* i) { transpose<<<264, dim3(32, 32)>>>(o, i); }
"#;

const STRIDED: &str = r#"__global__ void copy_strided(float* out, const float* in) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    out[i] = in[i * 2];
}
void launch(float* out, const float* in) { copy_strided<<<1024, 256>>>(out, in); }
"#;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dirs");
        std::fs::write(path, text).expect("write");
    }
    dir
}

fn schema_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json"),
    )
    .expect("vendored schema");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn assert_valid_sarif(log: &Value) {
    let validator = schema_validator();
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
}

#[test]
fn the_schema_check_rejects_what_sarif_forbids() {
    let validator = schema_validator();
    let bad = serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "r", "level": "severe"}]}]
    });
    assert!(
        validator.iter_errors(&bad).count() >= 2,
        "missing message and bad level"
    );
    let bad_uri = serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x", "informationUri": "not a uri"}}}]
    });
    assert!(!validator.is_valid(&bad_uri), "formats are checked");
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

#[test]
fn sarif_on_examples_is_valid_and_links_every_rule_to_its_page() {
    let root = repo_root();
    let out = cudalens(&["check", "examples", "--format", "sarif"], &root);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let log: Value = serde_json::from_slice(&out.stdout).expect("SARIF is JSON");
    assert_valid_sarif(&log);

    let json = cudalens(&["check", "examples", "--format", "json"], &root);
    let report: Value = serde_json::from_slice(&json.stdout).expect("JSON");
    let diagnostics: usize = report["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["diagnostics"].as_array().expect("diagnostics").len())
        .sum();
    let results = results(&log);
    assert!(diagnostics > 10);
    assert_eq!(results.len(), diagnostics, "one result per diagnostic");

    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    assert_eq!(rules.len(), cudalens_analysis::rules::ALL.len());
    for rule in rules {
        let id = rule["id"].as_str().expect("id");
        let help = rule["helpUri"].as_str().expect("helpUri");
        let page = help
            .split_once("/blob/main/")
            .map(|(_, path)| root.join(path))
            .expect("a repository URL");
        assert!(page.ends_with(format!("docs/rules/{id}.md")), "{help}");
        assert!(
            page.is_file(),
            "{help} does not resolve to {}",
            page.display()
        );
        assert!(help.starts_with("https://"), "{help}");
    }
    for r in results {
        let id = r["ruleId"].as_str().expect("ruleId");
        let index = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], id);
        let location = &r["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        let uri = location["artifactLocation"]["uri"].as_str().expect("uri");
        assert!(
            uri.starts_with("examples/") && root.join(uri).is_file(),
            "{uri}"
        );
        assert!(r["partialFingerprints"]["cudalens/v1"].is_string());
    }
    // The index definitions of an uncoalesced access come along, and fixes where there are some.
    assert!(results.iter().any(|r| {
        r["relatedLocations"]
            .as_array()
            .is_some_and(|l| !l.is_empty())
    }));
    assert!(
        results
            .iter()
            .any(|r| r["fixes"].as_array().is_some_and(|f| !f.is_empty()))
    );
}

/// (ruleId, fingerprint, startLine) of every result for `dir`'s files.
fn fingerprints(dir: &Path) -> Vec<(String, String, u64)> {
    let out = cudalens(&["check", ".", "--format", "sarif"], dir);
    let log: Value = serde_json::from_slice(&out.stdout).expect("SARIF");
    assert_valid_sarif(&log);
    let mut found: Vec<(String, String, u64)> = results(&log)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or_default().to_string(),
                r["partialFingerprints"]["cudalens/v1"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"]
                    .as_u64()
                    .unwrap_or_default(),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn fingerprints_survive_lines_inserted_above_the_findings() {
    let dir = project(&[("k.cu", KERNELS), ("s.cu", STRIDED)]);
    let before = fingerprints(dir.path());
    assert!(before.len() >= 2, "{before:?}");
    // An unrelated kernel and comments above every finding: 6 more lines.
    let above = "// Copyright notice\n\n__global__ void unrelated(float* a) {\n    a[threadIdx.x] = 0.0f;\n}\n\n";
    std::fs::write(dir.path().join("k.cu"), format!("{above}{KERNELS}")).expect("write");
    std::fs::write(dir.path().join("s.cu"), format!("{above}{STRIDED}")).expect("write");
    let after = fingerprints(dir.path());
    assert_eq!(before.len(), after.len(), "{before:?}\n{after:?}");
    for (b, a) in before.iter().zip(&after) {
        assert_eq!((&b.0, &b.1), (&a.0, &a.1), "fingerprint changed");
        assert_eq!(b.2 + 6, a.2, "the finding moved down 6 lines");
    }
    // Editing the flagged line itself is a different finding.
    std::fs::write(
        dir.path().join("s.cu"),
        STRIDED.replace("in[i * 2]", "in[i * 4]"),
    )
    .expect("write");
    let edited = fingerprints(dir.path());
    assert!(edited.iter().any(|e| !before.iter().any(|b| b.1 == e.1)));
}

#[test]
fn github_annotations_are_workflow_commands() {
    let dir = project(&[("src/k.cu", KERNELS), ("src/s.cu", STRIDED)]);
    let out = cudalens(&["check", "src", "--format", "github"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for line in &lines {
        let (command, rest) = line
            .strip_prefix("::")
            .and_then(|l| l.split_once(' '))
            .expect("::command properties::message");
        assert!(["error", "warning", "notice"].contains(&command), "{line}");
        let (properties, message) = rest.split_once("::").expect("::message");
        assert!(!message.is_empty());
        let keys: Vec<&str> = properties
            .split(',')
            .map(|p| p.split_once('=').expect("key=value").0)
            .collect();
        assert_eq!(
            keys,
            ["file", "line", "col", "endLine", "endColumn", "title"],
            "{line}"
        );
        for p in properties.split(',') {
            let value = p.split_once('=').expect("key=value").1;
            assert!(
                !value.contains(':') && !value.contains('\n'),
                "unescaped {value}"
            );
        }
    }
    insta::assert_snapshot!(text);
}

#[test]
fn one_run_writes_text_to_the_terminal_and_sarif_and_annotations_to_files() {
    let dir = project(&[("src/k.cu", KERNELS)]);
    let out = cudalens(
        &[
            "check",
            "src",
            "--output-format",
            "sarif",
            "--output",
            "out.sarif",
            "--output-format",
            "github",
            "--output",
            "annotations.txt",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("warning[bank-conflict]"),
        "{}",
        stdout(&out)
    );
    let log = read_json(&dir.path().join("out.sarif"));
    assert_valid_sarif(&log);
    assert_eq!(results(&log).len(), 1);
    let annotations = std::fs::read_to_string(dir.path().join("annotations.txt")).expect("written");
    assert!(
        annotations.starts_with("::warning file=src/k.cu,line=6,"),
        "{annotations}"
    );

    // Unpaired flags are a usage error.
    let out = cudalens(&["check", "src", "--output-format", "sarif"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn exit_status_3_when_cudalens_itself_fails() {
    let dir = project(&[("src/k.cu", KERNELS), ("src/s.cu", STRIDED)]);
    // A forced panic inside the analysis of one file.
    let out = cudalens_env(
        &["check", "src", "--format", "sarif"],
        dir.path(),
        &[("CUDALENS_INJECT_PANIC", "k.cu")],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("src/k.cu: internal error in cudalens"),
        "{err}"
    );
    // The other file is still reported, and SARIF says the run failed.
    let log: Value = serde_json::from_slice(&out.stdout).expect("SARIF");
    assert_valid_sarif(&log);
    assert_eq!(results(&log).len(), 1);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(
        invocation["toolExecutionNotifications"][0]["level"],
        "error"
    );
    // Failing beats findings: exit 3 even with --deny warning.
    let out = cudalens_env(
        &["check", "src", "--deny", "warning"],
        dir.path(),
        &[("CUDALENS_INJECT_PANIC", "k.cu")],
    );
    assert_eq!(out.status.code(), Some(3));
    // An input that cannot be read.
    #[cfg(target_os = "linux")]
    {
        let out = cudalens(&["check", "/proc/self/mem"], dir.path());
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    }
    // An output that cannot be written.
    let out = cudalens(
        &[
            "check",
            "src",
            "--output-format",
            "sarif",
            "--output",
            "no/such/dir/out.sarif",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    // And the other statuses: clean, findings, usage.
    assert_eq!(
        cudalens(&["check", "src"], dir.path()).status.code(),
        Some(0)
    );
    assert_eq!(
        cudalens(&["check", "src", "--deny", "warning"], dir.path())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        cudalens(&["check", "missing/"], dir.path()).status.code(),
        Some(2)
    );
}

fn codes(dir: &Path, path: &str) -> Vec<String> {
    let out = cudalens(&["check", path, "--format", "json"], dir);
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    report["files"]
        .as_array()
        .expect("files")
        .iter()
        .flat_map(|f| f["diagnostics"].as_array().expect("diagnostics").clone())
        .map(|d| d["code"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn suppressions_silence_findings_and_are_checked_themselves() {
    let suppressed = STRIDED.replace(
        "    out[i] = in[i * 2];",
        "    // cudalens-ignore[uncoalesced-access]: only the even elements are wanted\n    out[i] = in[i * 2];",
    );
    let trailing = KERNELS.replace(
        "tile[threadIdx.x][threadIdx.y];",
        "tile[threadIdx.x][threadIdx.y]; // cudalens-ignore[bank-conflict]",
    );
    let file_wide = format!(
        "// cudalens-ignore-file[grid-too-small, bank-conflict]: tiny test grid\n{STRIDED}"
    );
    let dir = project(&[
        ("a.cu", &suppressed),
        ("b.cu", &trailing),
        ("c.cu", &file_wide),
    ]);
    assert!(
        codes(dir.path(), "a.cu").is_empty(),
        "{:?}",
        codes(dir.path(), "a.cu")
    );
    // Silenced, but the reason is missing.
    assert_eq!(codes(dir.path(), "b.cu"), ["suppression-without-reason"]);
    // The file-wide one has nothing to silence for bank-conflict.
    assert_eq!(
        codes(dir.path(), "c.cu"),
        [
            "unused-suppression",
            "unused-suppression",
            "uncoalesced-access"
        ]
    );
    let out = cudalens(&["check", "c.cu"], dir.path());
    let text = stdout(&out);
    assert!(
        text.contains("unused suppression: no `bank-conflict` finding in this file"),
        "{text}"
    );
    assert!(
        text.contains("= help: Remove the unused suppression (review before applying)"),
        "{text}"
    );
    // Turned off like any rule.
    let out = cudalens(
        &[
            "check",
            "c.cu",
            "--disable",
            "unused-suppression",
            "--format",
            "json",
        ],
        dir.path(),
    );
    assert!(!stdout(&out).contains("unused-suppression"));
}

#[test]
fn cudalens_toml_disables_rules_per_path() {
    let toml = "disabledRules = [\"grid-too-small\"]\n\n[disabledRulesPerPath]\n\"third_party/**\" = [\"bank-conflict\"]\n";
    let dir = project(&[
        ("cudalens.toml", toml),
        ("src/k.cu", KERNELS),
        ("third_party/lib/k.cu", KERNELS),
    ]);
    assert_eq!(codes(dir.path(), "src"), ["bank-conflict"]);
    assert!(codes(dir.path(), "third_party").is_empty());
    // From a subdirectory too: the nearest cudalens.toml above the file applies.
    assert!(codes(&dir.path().join("third_party"), "lib").is_empty());
    // A typo is an error, not a silently enabled rule.
    std::fs::write(
        dir.path().join("cudalens.toml"),
        "disabledRules = [\"bank-conflicts\"]\n",
    )
    .expect("write");
    let out = cudalens(&["check", "src"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown rule `bank-conflicts`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_baseline_fails_only_on_new_findings_and_reports_fixed_ones() {
    let dir = project(&[("src/k.cu", KERNELS)]);
    let deny = [
        "check",
        "src",
        "--deny",
        "warning",
        "--baseline",
        "cudalens-baseline.json",
    ];
    // First run: records and passes.
    let out = cudalens(&deny, dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("records 1 finding"),
        "{}",
        stderr(&out)
    );
    let recorded = read_json(&dir.path().join("cudalens-baseline.json"));
    assert_eq!(recorded["findings"][0]["code"], "bank-conflict");
    assert_eq!(recorded["findings"][0]["path"], "src/k.cu");
    // Same code, moved down by new lines: still recorded, nothing shown.
    let moved = format!("// a header comment\n\n{KERNELS}");
    std::fs::write(dir.path().join("src/k.cu"), &moved).expect("write");
    let out = cudalens(&deny, dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("(1 in the baseline not shown)"),
        "{}",
        stderr(&out)
    );
    // A new finding fails, and only it is shown; SARIF marks both.
    std::fs::write(dir.path().join("src/s.cu"), STRIDED).expect("write");
    let out = cudalens(&deny, dir.path());
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("uncoalesced-access") && !text.contains("bank-conflict"),
        "{text}"
    );
    let mut sarif = deny.to_vec();
    sarif.extend(["--format", "sarif"]);
    let log: Value = serde_json::from_slice(&cudalens(&sarif, dir.path()).stdout).expect("SARIF");
    assert_valid_sarif(&log);
    let mut states: Vec<(&str, &str)> = results(&log)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().unwrap_or(""),
                r["baselineState"].as_str().unwrap_or(""),
            )
        })
        .collect();
    states.sort();
    assert_eq!(
        states,
        [
            ("bank-conflict", "unchanged"),
            ("uncoalesced-access", "new")
        ]
    );
    // The recorded finding fixed: reported as gone.
    std::fs::write(
        dir.path().join("src/k.cu"),
        moved.replace("[TILE][TILE]", "[TILE][TILE + 1]"),
    )
    .expect("write");
    let out = cudalens(&deny, dir.path());
    assert!(
        stderr(&out).contains("1 finding recorded in cudalens-baseline.json no longer reported"),
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("src/k.cu:6: [bank-conflict]"),
        "{}",
        stderr(&out)
    );
    // --update-baseline accepts the current state.
    let mut update = deny.to_vec();
    update.push("--update-baseline");
    assert_eq!(cudalens(&update, dir.path()).status.code(), Some(0));
    assert_eq!(cudalens(&deny, dir.path()).status.code(), Some(0));
    // A corrupt baseline is a usage error, not an empty one.
    std::fs::write(dir.path().join("cudalens-baseline.json"), "{").expect("write");
    assert_eq!(cudalens(&deny, dir.path()).status.code(), Some(2));
}

#[test]
fn piped_runs_print_no_progress() {
    let root = repo_root();
    for format in ["text", "json", "sarif", "github"] {
        let out = cudalens(
            &["check", "examples", "tests/corpus", "--format", format],
            &root,
        );
        let err = stderr(&out);
        assert!(
            !err.contains('\r') && !err.contains('\u{1b}'),
            "{format}: {err:?}"
        );
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "{format}: only the summary: {err}");
        // The summary alone (the file count grows with the corpus).
        let checked = lines[0]
            .strip_prefix("cudalens: ")
            .and_then(|rest| rest.split_once(" files checked: "));
        assert!(
            checked.is_some_and(|(n, _)| n.parse::<u32>().is_ok_and(|n| n > 10)),
            "{err}"
        );
    }
}

#[test]
fn rules_and_explain_print_the_rule_pages() {
    let root = repo_root();
    let out = cudalens(&["rules"], &root);
    assert_eq!(out.status.code(), Some(0));
    for rule in cudalens_analysis::rules::ALL {
        assert!(stdout(&out).contains(rule.code), "{}", rule.code);
    }
    let page = std::fs::read_to_string(root.join("docs/rules/bank-conflict.md")).expect("page");
    for args in [
        &["--explain", "bank-conflict"][..],
        &["rules", "bank-conflict"],
    ] {
        let out = cudalens(args, &root);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(stdout(&out), page);
    }
    let out = cudalens(&["--explain", "bank-conflicts"], &root);
    assert_eq!(out.status.code(), Some(2));
    let out = cudalens(&["rules", "--json"], &root);
    let list: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(cudalens_analysis::rules::ALL.len())
    );
}
