//! `textDocument/publishDiagnostics`: the built-in analyses' diagnostics plus
//! the plugins' (each with the plugin's name as `source`), and the WGSL
//! transpiler's from the last `cudalens.transpile`/`benchmark` on this version.

use std::sync::Arc;

use serde::Serialize;
use tower_lsp_server::ls_types as lsp;

use cudalens_analysis::rules;
use cudalens_syntax::Span;

use super::convert;
use super::state::{ServerState, Snapshot};

/// Publishes with the snapshot's version, so clients can drop stale results.
///
/// Converting and serialising hundreds of diagnostics takes milliseconds on a
/// large file, so they are serialised on a blocking thread, straight from the
/// analysis's diagnostics, and the bytes written to the output stream (see
/// `transport::Output`) instead of going through the client.
pub async fn publish(state: &ServerState, snapshot: &Arc<Snapshot>) {
    let wgsl = state.wgsl_diagnostics_for(&snapshot.uri, snapshot.version);
    let related_information = state.support().related_information;
    let snapshot = snapshot.clone();
    let body = tokio::task::spawn_blocking(move || {
        let (snapshot, wgsl) = (&snapshot, &wgsl);
        let diagnostics = wire_diagnostics(snapshot, wgsl, related_information);
        serialize_notification(&snapshot.uri, &diagnostics, Some(snapshot.version))
    })
    .await;
    if let Ok(body) = body {
        let _ = state.output.send(&body).await;
    }
}

/// Clears the diagnostics of a closed document (through the same stream as
/// [`publish`], so the two stay in order).
pub async fn clear(state: &ServerState, uri: &lsp::Uri) {
    let _ = state
        .output
        .send(&serialize_notification(uri.as_str(), &[], None))
        .await;
}

/// The JSON-RPC notification, serialised in one pass.
fn serialize_notification(uri: &str, diagnostics: &[Wire], version: Option<i32>) -> Vec<u8> {
    #[derive(Serialize)]
    struct Notification<'a> {
        jsonrpc: &'static str,
        method: &'static str,
        params: Params<'a>,
    }
    /// `lsp::PublishDiagnosticsParams`, borrowing.
    #[derive(Serialize)]
    struct Params<'a> {
        uri: &'a str,
        diagnostics: &'a [Wire<'a>],
        #[serde(skip_serializing_if = "Option::is_none")]
        version: Option<i32>,
    }
    let message = Notification {
        jsonrpc: "2.0",
        method: "textDocument/publishDiagnostics",
        params: Params {
            uri,
            diagnostics,
            version,
        },
    };
    // Serialising plain data structures into memory cannot fail.
    serde_json::to_vec(&message).unwrap_or_default()
}

/// The snapshot's diagnostics as they go on the wire (what [`collect`] and
/// `convert::diagnostic` build, without copying every message).
fn wire_diagnostics<'a>(
    snapshot: &'a Snapshot,
    wgsl: &'a [lsp::Diagnostic],
    related_information: bool,
) -> Vec<Wire<'a>> {
    if snapshot.is_header_without_cuda() {
        return Vec::new();
    }
    let mut positions = snapshot.index.cursor();
    let mut range = |span: Span| {
        let (start, end) = (positions.position(span.start), positions.position(span.end));
        lsp::Range::new(
            lsp::Position::new(start.line, start.character),
            lsp::Position::new(end.line, end.character),
        )
    };
    let mut wire = Vec::new();
    for d in &snapshot.analyzed.analysis.diagnostics {
        let range_of_d = range(d.span);
        let related = if related_information {
            d.related
                .iter()
                .map(|r| WireRelated {
                    location: WireLocation {
                        uri: &snapshot.uri,
                        range: range(r.span),
                    },
                    message: &r.message,
                })
                .collect()
        } else {
            Vec::new()
        };
        wire.push(Wire::Builtin(WireDiagnostic {
            range: range_of_d,
            severity: convert::severity(d.severity),
            code: d.code,
            code_description: rules::find(d.code).map(|rule| WireCodeDescription {
                href: rule.docs_url(),
            }),
            source: convert::SOURCE,
            message: &d.message,
            related_information: related,
        }));
    }
    let from_plugins = snapshot.plugin_results.iter().flat_map(|found| {
        let result = &found.analysis;
        result.diagnostics.iter().map(|d| {
            let mut converted = convert::from_plugin_diagnostic(&result.source, d);
            if !related_information {
                converted.related_information = None;
            }
            Wire::Owned(converted)
        })
    });
    wire.extend(from_plugins);
    wire.extend(wgsl.iter().map(|d| {
        if related_information || d.related_information.is_none() {
            Wire::Converted(d)
        } else {
            Wire::Owned(lsp::Diagnostic {
                related_information: None,
                ..d.clone()
            })
        }
    }));
    wire
}

/// One diagnostic on the wire.
#[derive(Serialize)]
#[serde(untagged)]
enum Wire<'a> {
    Builtin(WireDiagnostic<'a>),
    Converted(&'a lsp::Diagnostic),
    Owned(lsp::Diagnostic),
}

/// `lsp::Diagnostic` as `convert::diagnostic` fills it, borrowing.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDiagnostic<'a> {
    range: lsp::Range,
    severity: lsp::DiagnosticSeverity,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code_description: Option<WireCodeDescription>,
    source: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_information: Vec<WireRelated<'a>>,
}

/// `lsp::CodeDescription`: the rule's page.
#[derive(Serialize)]
struct WireCodeDescription {
    href: String,
}

#[derive(Serialize)]
struct WireRelated<'a> {
    location: WireLocation<'a>,
    message: &'a str,
}

#[derive(Serialize)]
struct WireLocation<'a> {
    uri: &'a str,
    range: lsp::Range,
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::pipeline;
    use cudalens_ide::Settings;
    use cudalens_syntax::LineIndex;
    use cudalens_syntax::preprocess::include::FsProvider;

    /// The diagnostics as `convert` builds them: what the wire form must equal.
    fn collect(snapshot: &Snapshot) -> Vec<lsp::Diagnostic> {
        let uri: lsp::Uri = snapshot.uri.parse().unwrap();
        let builtin = snapshot
            .analyzed
            .analysis
            .diagnostics
            .iter()
            .map(|d| convert::diagnostic(&uri, &snapshot.index, d));
        let from_plugins = snapshot.plugin_results.iter().flat_map(|found| {
            let result = &found.analysis;
            result
                .diagnostics
                .iter()
                .map(|d| convert::from_plugin_diagnostic(&result.source, d))
        });
        builtin.chain(from_plugins).collect()
    }

    /// A kernel with a bank conflict and an uncoalesced access (which has
    /// related information), on lines after non-ASCII text.
    fn snapshot(text: &str) -> Snapshot {
        let settings = Settings::default();
        let config = settings.analysis_config(Default::default());
        let tree = cudalens_syntax::SyntaxTrees::parse_whole(
            &mut cudalens_syntax::document::cuda_parser(),
            text,
        );
        let analyzed = pipeline::run(pipeline::Request {
            text,
            tree: tree.as_ref(),
            path: None,
            flags: Default::default(),
            provider: &FsProvider,
            config: &config,
            caches: None,
            launches_elsewhere: &[],
        });
        Snapshot::new(
            "file:///tmp/k.cu".into(),
            None,
            3,
            text.into(),
            LineIndex::new(text),
            analyzed,
            Arc::new(settings),
        )
    }

    #[test]
    fn wire_form_is_what_convert_builds() {
        let ascii = "__global__ void t(float* out, const float* in, int n) {\r\n\
            __shared__ float tile[32][32];\n\
            int i = blockIdx.x * blockDim.x + threadIdx.x;\n\
            tile[threadIdx.x][threadIdx.y] = in[i * n];\n\
            __syncthreads();\n\
            out[i] = tile[threadIdx.y][threadIdx.x];\n}\n";
        let unicode = format!("// Transposé 😀\n{ascii}");
        for text in [ascii, unicode.as_str()] {
            let snapshot = snapshot(text);
            assert!(snapshot.analyzed.analysis.diagnostics.len() >= 2);
            assert!(
                snapshot
                    .analyzed
                    .analysis
                    .diagnostics
                    .iter()
                    .any(|d| !d.related.is_empty())
            );
            for related in [true, false] {
                let mut expected = collect(&snapshot);
                if !related {
                    for d in &mut expected {
                        d.related_information = None;
                    }
                }
                let wire = wire_diagnostics(&snapshot, &[], related);
                assert_eq!(
                    serde_json::to_value(&wire).unwrap(),
                    serde_json::to_value(&expected).unwrap()
                );
            }
        }
    }

    #[test]
    fn notification_is_the_one_the_client_would_send() {
        let uri: lsp::Uri = "file:///tmp/k.cu".parse().unwrap();
        let diagnostic = lsp::Diagnostic {
            range: lsp::Range::new(lsp::Position::new(1, 2), lsp::Position::new(1, 7)),
            severity: Some(lsp::DiagnosticSeverity::WARNING),
            message: "32-way shared-memory bank conflict".into(),
            ..Default::default()
        };
        let body = serialize_notification(uri.as_str(), &[Wire::Converted(&diagnostic)], Some(4));
        let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let expected = serde_json::json!({
            "jsonrpc": "2.0",
            "method": "textDocument/publishDiagnostics",
            "params": lsp::PublishDiagnosticsParams::new(uri, vec![diagnostic], Some(4)),
        });
        assert_eq!(parsed, expected);
    }
}
