//! `check --format sarif`: SARIF 2.1.0, the format GitHub code scanning (and
//! most CI dashboards) ingest. One run; one rule per code from the rule
//! registry with its documentation page as `helpUri`; results with the
//! rule, level, message, repository-relative location (`%SRCROOT%`), related
//! locations, fixes and a line-shift-proof fingerprint.
//!
//! GitHub's upload limits are kept: at most [`MAX_RESULTS`] results per run
//! (the most severe first) and [`MAX_RELATED`] related locations per result;
//! what is cut is said in the run's tool notifications.
//! `server/cudalens/tests/sarif.rs` validates the output against the vendored
//! schema (`server/cudalens/tests/data/sarif-schema-2.1.0.json`).

use serde::Serialize;

use cudalens_analysis::rules::{self, Rule};
use cudalens_syntax::Severity;

use super::findings::{FINGERPRINT_KEY, Finding, ProjectRoot, Region};

/// GitHub rejects runs with more results than this.
pub const MAX_RESULTS: usize = 25_000;
/// GitHub keeps only this many locations of a result.
pub const MAX_RELATED: usize = 100;

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";

#[derive(Serialize)]
pub struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    original_uri_base_ids: std::collections::BTreeMap<&'static str, ArtifactLocation>,
    column_kind: &'static str,
    results: Vec<SarifResult>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: &'static str,
    rules: Vec<ReportingDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReportingDescriptor {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    help_uri: String,
    default_configuration: Configuration,
    properties: RuleProperties,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
struct RuleProperties {
    tags: Vec<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    uri_base_id: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: &'static str,
    rule_index: usize,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fixes: Vec<SarifFix>,
    partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: SarifRegion,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifRegion {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifFix {
    description: Text,
    artifact_changes: Vec<ArtifactChange>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactChange {
    artifact_location: ArtifactLocation,
    replacements: Vec<Replacement>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Replacement {
    deleted_region: SarifRegion,
    inserted_content: Text,
}

/// What the run could not do: files that failed or were skipped.
pub struct RunNotes<'a> {
    pub failures: &'a [String],
    pub skipped: &'a [String],
    /// `--baseline` was given: results carry `baselineState`.
    pub with_baseline: bool,
}

/// The SARIF log of `findings`.
pub fn log(root: &ProjectRoot, findings: &[&Finding], notes: &RunNotes<'_>) -> Log {
    let mut notifications: Vec<Notification> = notes
        .failures
        .iter()
        .map(|f| Notification {
            level: "error",
            message: Text { text: f.clone() },
        })
        .chain(notes.skipped.iter().map(|s| Notification {
            level: "note",
            message: Text { text: s.clone() },
        }))
        .collect();
    // The most severe first, so that what GitHub keeps (and shows) matters most.
    let mut ordered: Vec<&Finding> = findings.to_vec();
    ordered.sort_by_key(|f| std::cmp::Reverse(f.severity));
    if ordered.len() > MAX_RESULTS {
        notifications.push(Notification {
            level: "warning",
            message: Text {
                text: format!(
                    "{} results over GitHub's limit of {MAX_RESULTS} per run were left out (the least severe)",
                    ordered.len() - MAX_RESULTS
                ),
            },
        });
        ordered.truncate(MAX_RESULTS);
    }
    let results = ordered
        .iter()
        .map(|f| result(f, notes.with_baseline))
        .collect();
    let mut base_ids = std::collections::BTreeMap::new();
    base_ids.insert(
        SRCROOT,
        ArtifactLocation {
            uri: directory_uri(&root.dir),
            uri_base_id: None,
        },
    );
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "cudalens",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: env!("CARGO_PKG_REPOSITORY"),
                    rules: rules::ALL.iter().map(|r| descriptor(r)).collect(),
                },
            },
            invocations: vec![Invocation {
                execution_successful: notes.failures.is_empty(),
                tool_execution_notifications: notifications,
            }],
            original_uri_base_ids: base_ids,
            column_kind: "utf16CodeUnits",
            results,
        }],
    }
}

fn descriptor(rule: &Rule) -> ReportingDescriptor {
    ReportingDescriptor {
        id: rule.code,
        name: rule
            .code
            .split('-')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect(),
        short_description: Text {
            text: format!("{}.", capitalised(rule.summary)),
        },
        full_description: Text {
            text: unwrap_lines(rule.detects),
        },
        help: Help {
            text: format!("{}\n\n{}", unwrap_lines(rule.why), unwrap_lines(rule.fix)),
            markdown: rules::markdown(rule),
        },
        help_uri: rule.docs_url(),
        default_configuration: Configuration {
            level: level(rule.default_severity),
        },
        properties: RuleProperties {
            tags: vec!["cuda", rule.category.as_str()],
        },
    }
}

fn result(f: &Finding, with_baseline: bool) -> SarifResult {
    let location = |region: Region, id: Option<usize>, message: Option<String>| Location {
        id,
        physical_location: PhysicalLocation {
            artifact_location: artifact(f),
            region: sarif_region(region),
        },
        message: message.map(|text| Text { text }),
    };
    let mut fingerprints = std::collections::BTreeMap::new();
    fingerprints.insert(FINGERPRINT_KEY, f.fingerprint.clone());
    SarifResult {
        rule_id: f.code,
        rule_index: rules::ALL
            .iter()
            .position(|r| r.code == f.code)
            .unwrap_or(0),
        level: level(f.severity),
        message: Text {
            text: f.message.clone(),
        },
        locations: vec![location(f.region, None, None)],
        related_locations: f
            .related
            .iter()
            .take(MAX_RELATED)
            .enumerate()
            .map(|(i, r)| location(r.region, Some(i + 1), Some(r.message.clone())))
            .collect(),
        fixes: f
            .fixes
            .iter()
            .map(|fix| SarifFix {
                description: Text {
                    text: fix.title.clone(),
                },
                artifact_changes: vec![ArtifactChange {
                    artifact_location: artifact(f),
                    replacements: fix
                        .replacements
                        .iter()
                        .map(|r| Replacement {
                            deleted_region: sarif_region(r.region),
                            inserted_content: Text {
                                text: r.new_text.clone(),
                            },
                        })
                        .collect(),
                }],
            })
            .collect(),
        partial_fingerprints: fingerprints,
        baseline_state: with_baseline.then_some(if f.baselined { "unchanged" } else { "new" }),
    }
}

fn artifact(f: &Finding) -> ArtifactLocation {
    if f.in_root {
        ArtifactLocation {
            uri: encode(&f.path),
            uri_base_id: Some(SRCROOT),
        }
    } else {
        ArtifactLocation {
            uri: format!("file://{}", encode(&f.path)),
            uri_base_id: None,
        }
    }
}

fn sarif_region(r: Region) -> SarifRegion {
    SarifRegion {
        start_line: r.start_line,
        start_column: r.start_column,
        end_line: r.end_line,
        end_column: r.end_column,
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info | Severity::Hint => "note",
    }
}

/// A directory as an absolute `file://` URI ending in `/` (SARIF requires it
/// for base ids).
fn directory_uri(dir: &std::path::Path) -> String {
    let mut path = dir.display().to_string().replace('\\', "/");
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    if !path.ends_with('/') {
        path.push('/');
    }
    format!("file://{}", encode(&path))
}

/// Percent-encodes a path for a URI, keeping `/`.
fn encode(path: &str) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    utf8_percent_encode(path, KEEP).to_string()
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|f| f.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Doc text wrapped at 88 columns, as one paragraph per blank-line block.
fn unwrap_lines(text: &str) -> String {
    text.trim()
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uris() {
        assert_eq!(encode("src/a b/ü.cu"), "src/a%20b/%C3%BC.cu");
        assert_eq!(
            directory_uri(std::path::Path::new("/work/my repo")),
            "file:///work/my%20repo/"
        );
    }
}
