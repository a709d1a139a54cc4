//! Code actions: quick fixes from the analyses' fixes and from plugins,
//! "Ignore this finding here" (a `cudalens-ignore` comment), "fix all" (only
//! the fixes proven safe, `Fix::safe`, so it can run on save), and with the
//! cursor in a kernel "Transpile `k` to WGSL".

use cudalens_analysis::rules::{self, Category};
use cudalens_analysis::suppress::ignore_edit;
use cudalens_analysis::{Diagnostic, Edit};
use cudalens_plugin_host::protocol::{PluginDiagnostic, TextEdit as PluginEdit};
use cudalens_syntax::{Position, Span};

use crate::Snapshot;
use crate::commands::{Command, KernelTarget};
use crate::kernels::kernel_at;
use crate::text::touches;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    QuickFix,
    Refactor,
    /// `source.fixAll.cudalens`.
    FixAll,
}

/// What an action changes.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionEdits {
    /// Edits on the snapshot's own text.
    Document(Vec<Edit>),
    /// A plugin's edits (LSP positions; an edit without a URI is on this document).
    Plugin(Vec<PluginEdit>),
}

/// The diagnostic an action fixes.
#[derive(Debug, Clone, PartialEq)]
pub enum FixedDiagnostic {
    Analysis(Diagnostic),
    Plugin {
        /// The plugin's name.
        source: String,
        diagnostic: PluginDiagnostic,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CodeAction {
    pub title: String,
    pub kind: ActionKind,
    pub fixes: Option<FixedDiagnostic>,
    pub edits: Option<ActionEdits>,
    pub command: Option<Command>,
    pub preferred: Option<bool>,
}

impl CodeAction {
    fn new(title: String, kind: ActionKind) -> CodeAction {
        CodeAction {
            title,
            kind,
            fixes: None,
            edits: None,
            command: None,
            preferred: None,
        }
    }
}

/// The actions for `range`. `wants(kind)` says whether the client asked for
/// that kind; `explicit` is true when it named the kinds it wants (fix-all
/// is offered only then: on save, or run as a command, never in the light
/// bulb).
pub fn code_actions(
    snapshot: &Snapshot,
    range: Span,
    explicit: bool,
    wants: impl Fn(ActionKind) -> bool,
) -> Vec<CodeAction> {
    let mut actions = Vec::new();
    if wants(ActionKind::QuickFix) {
        actions.extend(quick_fixes(snapshot, range));
        actions.extend(plugin_actions(snapshot, range));
        actions.extend(ignore_actions(snapshot, range));
    }
    if wants(ActionKind::Refactor)
        && let Some(transpile) = transpile_action(snapshot, range)
    {
        actions.push(transpile);
    }
    if explicit
        && wants(ActionKind::FixAll)
        && let Some(fix_all) = fix_all(snapshot)
    {
        actions.push(fix_all);
    }
    actions
}

/// "Transpile `k` to WGSL" for the kernel around the cursor.
fn transpile_action(snapshot: &Snapshot, range: Span) -> Option<CodeAction> {
    let kernel = kernel_at(&snapshot.analyzed.model, range.start)?;
    let mut action = CodeAction::new(
        format!("Transpile `{}` to WGSL", kernel.name),
        ActionKind::Refactor,
    );
    action.command = Some(Command::Transpile(KernelTarget {
        uri: snapshot.uri.clone(),
        kernel: Some(kernel.name.clone()),
        position: Some(snapshot.index.position(range.start)),
    }));
    Some(action)
}

/// The analyses' fixes for diagnostics touching `range`. Safe fixes are
/// preferred (the editor's default quick fix); others say what to check.
fn quick_fixes(snapshot: &Snapshot, range: Span) -> Vec<CodeAction> {
    let diagnostics = &snapshot.analyzed.analysis.diagnostics;
    let touching = diagnostics.iter().filter(|d| touches(d.span, range));
    touching
        .flat_map(|d| {
            d.fixes.iter().map(move |fix| {
                let title = if fix.safe || fix.explanation.is_empty() {
                    fix.title.clone()
                } else {
                    format!("{} — {}", fix.title, fix.explanation)
                };
                let mut action = CodeAction::new(title, ActionKind::QuickFix);
                action.fixes = Some(FixedDiagnostic::Analysis(d.clone()));
                action.edits = Some(ActionEdits::Document(fix.edits.clone()));
                action.preferred = Some(fix.safe);
                action
            })
        })
        .collect()
}

/// "Ignore this finding here" for each cudalens diagnostic touching
/// `range`: a `// cudalens-ignore[code]: ` comment for the user to give a
/// reason in. Never preferred, never in fix-all: silencing is a decision.
/// Not offered for the suppression rules (their findings are about the
/// comments), for `file-too-large` (the file is not read), nor where no
/// comment line can go (`ignore_edit`).
fn ignore_actions(snapshot: &Snapshot, range: Span) -> Vec<CodeAction> {
    let text = &snapshot.text;
    let diagnostics = &snapshot.analyzed.analysis.diagnostics;
    let mut out: Vec<CodeAction> = Vec::new();
    for d in diagnostics.iter().filter(|d| touches(d.span, range)) {
        let Some(rule) = rules::find(d.code) else {
            continue;
        };
        if rule.category == Category::Suppression || rule.code == rules::file_too_large::CODE {
            continue;
        }
        let Some(edit) = ignore_edit(text, d.span, d.code) else {
            continue;
        };
        // Two findings of one rule on a line need one comment.
        let duplicate = out
            .iter()
            .any(|a| a.edits.as_ref() == Some(&ActionEdits::Document(vec![edit.clone()])));
        if duplicate {
            continue;
        }
        let title = format!("Ignore this finding here ({})", d.code);
        let mut action = CodeAction::new(title, ActionKind::QuickFix);
        action.fixes = Some(FixedDiagnostic::Analysis(d.clone()));
        action.edits = Some(ActionEdits::Document(vec![edit]));
        action.preferred = Some(false);
        out.push(action);
    }
    out
}

/// Plugin diagnostics with edits under the cursor, and plugin code actions
/// for the kernel under the cursor.
fn plugin_actions(snapshot: &Snapshot, range: Span) -> Vec<CodeAction> {
    let mut out = Vec::new();
    let (start, end) = (
        snapshot.index.position(range.start),
        snapshot.index.position(range.end),
    );
    for found in &snapshot.plugin_results {
        let result = &found.analysis;
        for d in result.diagnostics.iter().filter(|d| !d.edits.is_empty()) {
            if positions_touch(d.range.start, d.range.end, start, end) {
                let title = format!("{} ({})", d.message, result.source);
                let mut action = CodeAction::new(title, ActionKind::QuickFix);
                action.edits = Some(ActionEdits::Plugin(d.edits.clone()));
                action.fixes = Some(FixedDiagnostic::Plugin {
                    source: result.source.clone(),
                    diagnostic: d.clone(),
                });
                out.push(action);
            }
        }
        if touches(found.kernel_span, range) {
            out.extend(result.code_actions.iter().map(|a| {
                let title = format!("{} ({})", a.title, result.source);
                let mut action = CodeAction::new(title, ActionKind::QuickFix);
                action.edits = Some(ActionEdits::Plugin(a.edits.clone()));
                action.preferred = Some(a.is_preferred);
                action
            }));
        }
    }
    out
}

/// True when the range `a_start..a_end` (plugin positions) touches `b_start..b_end`.
fn positions_touch(
    a_start: cudalens_plugin_host::protocol::Position,
    a_end: cudalens_plugin_host::protocol::Position,
    b_start: Position,
    b_end: Position,
) -> bool {
    let a_start = Position::new(a_start.line, a_start.character);
    let a_end = Position::new(a_end.line, a_end.character);
    a_start <= b_end && b_start <= a_end
}

/// Every safe fix in the file, as one action; overlapping fixes are skipped
/// (the first wins), so the result is always applicable.
fn fix_all(snapshot: &Snapshot) -> Option<CodeAction> {
    let mut edits: Vec<Edit> = Vec::new();
    let mut taken: Vec<Span> = Vec::new();
    let mut fixes = 0;
    let safe_fixes = snapshot
        .analyzed
        .analysis
        .diagnostics
        .iter()
        .flat_map(|d| d.fixes.iter().filter(|f| f.safe).take(1));
    for fix in safe_fixes {
        let overlaps = fix.edits.iter().any(|e| {
            taken
                .iter()
                .any(|t| (e.span.start < t.end && t.start < e.span.end) || e.span == *t)
        });
        if overlaps {
            continue;
        }
        taken.extend(fix.edits.iter().map(|e| e.span));
        edits.extend(fix.edits.iter().cloned());
        fixes += 1;
    }
    if edits.is_empty() {
        return None;
    }
    let title = format!(
        "Apply {fixes} safe cudalens fix{}",
        if fixes == 1 { "" } else { "es" }
    );
    let mut action = CodeAction::new(title, ActionKind::FixAll);
    action.edits = Some(ActionEdits::Document(edits));
    Some(action)
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::fixture;

    /// Each action: title, kind, preferred, command, and the document with
    /// its edits applied (the lines that changed).
    fn check(text: &str, explicit: bool, kinds: &[ActionKind], expect: Expect) {
        let f = fixture::analyze(text);
        let range = f.ranges.first().copied().unwrap_or_else(|| {
            let at = f.cursor();
            Span::new(at, at)
        });
        let actions = code_actions(&f.snapshot, range, explicit, |k| kinds.contains(&k));
        let mut out = String::new();
        for a in &actions {
            out.push_str(&format!(
                "{} ({:?}, preferred {:?}, fixes {})\n",
                a.title,
                a.kind,
                a.preferred,
                a.fixes.is_some()
            ));
            if let Some(command) = &a.command {
                out.push_str(&format!("  runs {command:?}\n"));
            }
            if let Some(ActionEdits::Document(edits)) = &a.edits {
                out.push_str(&changed_lines(&f.snapshot.text, edits));
            }
        }
        expect.assert_eq(&out);
    }

    /// The lines of `text` with `edits` applied that differ from `text`
    /// (between the unchanged lines at either end), numbered as after the edit.
    fn changed_lines(text: &str, edits: &[Edit]) -> String {
        let mut sorted = edits.to_vec();
        sorted.sort_by_key(|e| std::cmp::Reverse(e.span.start));
        let mut edited = text.to_string();
        for e in sorted {
            edited.replace_range(e.span.start..e.span.end, &e.new_text);
        }
        let before: Vec<&str> = text.lines().collect();
        let after: Vec<&str> = edited.lines().collect();
        let same_start = before
            .iter()
            .zip(&after)
            .take_while(|(b, a)| b == a)
            .count();
        let same_end = before[same_start..]
            .iter()
            .rev()
            .zip(after[same_start..].iter().rev())
            .take_while(|(b, a)| b == a)
            .count();
        after[same_start..after.len() - same_end]
            .iter()
            .enumerate()
            .map(|(i, line)| format!("{}: {}\n", same_start + i + 1, line.trim()))
            .collect()
    }

    use fixture::TRANSPOSE;

    #[test]
    fn quick_fix_pads_the_tile() {
        let all = [
            ActionKind::QuickFix,
            ActionKind::Refactor,
            ActionKind::FixAll,
        ];
        check(
            TRANSPOSE,
            false,
            &all,
            expect![[r#"
                Pad `tile` by one column (32→33) to spread rows across banks (32-way → 1-way) (QuickFix, preferred Some(true), fixes true)
                2: __shared__ float tile[32][33];
                Ignore this finding here (bank-conflict) (QuickFix, preferred Some(false), fixes true)
                3: // cudalens-ignore[bank-conflict]:
                Transpile `transpose` to WGSL (Refactor, preferred None, fixes false)
                  runs Transpile(KernelTarget { uri: "file:///fixture/main.cu", kernel: Some("transpose"), position: Some(Position { line: 2, character: 4 }) })
            "#]],
        );
    }

    #[test]
    fn fix_all_only_when_asked_for() {
        check(
            TRANSPOSE,
            true,
            &[ActionKind::FixAll],
            expect![[r#"
            Apply 1 safe cudalens fix (FixAll, preferred None, fixes false)
            2: __shared__ float tile[32][33];
        "#]],
        );
    }

    #[test]
    fn transpile_outside_a_diagnostic() {
        let text = "__global__ void k(float* y) {\n  y[threadIdx.x] = $00;\n}\n";
        check(
            text,
            false,
            &[ActionKind::Refactor],
            expect![[r#"
            Transpile `k` to WGSL (Refactor, preferred None, fixes false)
              runs Transpile(KernelTarget { uri: "file:///fixture/main.cu", kernel: Some("k"), position: Some(Position { line: 1, character: 19 }) })
        "#]],
        );
    }

    /// A plugin's diagnostic with edits under the cursor, and its code
    /// action for the kernel around the cursor.
    #[test]
    fn plugin_fixes_and_actions() {
        use cudalens_plugin_host::PluginAnalysis;
        use cudalens_plugin_host::protocol::{
            CodeAction as PluginAction, Position as P, Range as R,
        };

        let f = fixture::analyze("__global__ void k(float* y) {\n  y[$0threadIdx.x] = 0;\n}\n");
        let range = R::new(P::new(1, 2), P::new(1, 16));
        let edit = PluginEdit {
            uri: None,
            range,
            new_text: "y[threadIdx.x + 1]".into(),
        };
        let analysis = PluginAnalysis {
            source: "checker".into(),
            diagnostics: vec![PluginDiagnostic {
                range,
                code: "off-by-one".into(),
                message: "Shift the index".into(),
                edits: vec![edit.clone()],
                ..Default::default()
            }],
            code_actions: vec![PluginAction {
                title: "Use 128 threads".into(),
                edits: vec![edit],
                is_preferred: true,
            }],
        };
        let kernel_span = f.snapshot.analyzed.model.functions[0].span;
        let snapshot = f.snapshot.with_plugin_results(vec![crate::PluginFindings {
            kernel_span,
            analysis,
        }]);
        let at = Span::new(f.cursor(), f.cursor());
        let actions = code_actions(&snapshot, at, false, |k| k == ActionKind::QuickFix);
        let shown: Vec<String> = actions
            .iter()
            .map(|a| {
                let edits = match &a.edits {
                    Some(ActionEdits::Plugin(edits)) => edits.len(),
                    _ => 0,
                };
                format!(
                    "{} ({} edits, fixes {}, preferred {:?})",
                    a.title,
                    edits,
                    a.fixes.is_some(),
                    a.preferred
                )
            })
            .collect();
        expect![[r#"
            [
                "Shift the index (checker) (1 edits, fixes true, preferred None)",
                "Use 128 threads (checker) (1 edits, fixes false, preferred Some(true))",
            ]
        "#]]
        .assert_debug_eq(&shown);
    }

    /// The edits of the "Ignore this finding here" actions at the range,
    /// each as the whole edited text.
    fn ignore_edits(text: &str) -> (fixture::Fixture, Vec<String>) {
        let f = fixture::analyze(text);
        let range = f.ranges[0];
        let edited = code_actions(&f.snapshot, range, false, |k| k == ActionKind::QuickFix)
            .into_iter()
            .filter(|a| a.title.starts_with("Ignore this finding here"))
            .map(|a| {
                let Some(ActionEdits::Document(edits)) = &a.edits else {
                    panic!("no edits: {a:?}")
                };
                let mut edited = f.snapshot.text.to_string();
                for e in edits.iter().rev() {
                    edited.replace_range(e.span.start..e.span.end, &e.new_text);
                }
                edited
            })
            .collect();
        (f, edited)
    }

    /// The comment goes on the line before, indented as the finding, and
    /// silences it: analysed again, only the missing reason is reported.
    #[test]
    fn ignoring_a_finding_silences_it() {
        let (f, edited) = ignore_edits(TRANSPOSE);
        let [edited] = edited.as_slice() else {
            panic!("one action: {edited:?}")
        };
        let diff = changed_lines(
            &f.snapshot.text,
            &[Edit {
                span: Span::new(0, f.snapshot.text.len()),
                new_text: edited.clone(),
            }],
        );
        expect![[r#"
            3: // cudalens-ignore[bank-conflict]:
        "#]]
        .assert_eq(&diff);
        assert!(edited.contains("\n    // cudalens-ignore[bank-conflict]: \n    tile["));
        let codes = |f: &fixture::Fixture| -> Vec<&'static str> {
            let diagnostics = &f.snapshot.analyzed.analysis.diagnostics;
            diagnostics.iter().map(|d| d.code).collect()
        };
        assert_eq!(codes(&f), ["bank-conflict"]);
        let again = fixture::analyze(edited);
        assert_eq!(codes(&again), ["suppression-without-reason"]);
    }

    /// A second rule on a line already suppressing one joins its comment.
    #[test]
    fn ignoring_joins_a_suppression_on_the_line() {
        let text = r#"
            __global__ void t(float* out, const float* in) {
                __shared__ float tile[32][32];
                tile[threadIdx.x][threadIdx.y] = in[threadIdx.x * 32]; // cudalens-ignore[uncoalesced-access]: measured
            //  ^^^^
                __syncthreads();
                out[threadIdx.x] = tile[threadIdx.y][threadIdx.x];
            }
            void run(float* o, const float* i) { t<<<1, dim3(32, 32)>>>(o, i); }
            "#;
        let (f, edited) = ignore_edits(text);
        let [edited] = edited.as_slice() else {
            panic!("one action: {edited:?}")
        };
        assert!(
            edited.contains("// cudalens-ignore[uncoalesced-access, bank-conflict]: measured"),
            "{edited}"
        );
        assert_eq!(edited.lines().count(), f.snapshot.text.lines().count());
    }

    /// No comment line can go after a line continued with a backslash (in a
    /// macro it would end the macro), and none for the suppression rules.
    #[test]
    fn not_offered_where_a_comment_cannot_go() {
        let continued = r#"
            __global__ void t(float* out) {
                __shared__ float tile[32][32];
                float v = 1.0f; \
                tile[threadIdx.x][threadIdx.y] = v;
            //  ^^^^
                __syncthreads();
                out[threadIdx.x] = tile[threadIdx.y][threadIdx.x];
            }
            void run(float* o) { t<<<1, dim3(32, 32)>>>(o); }
            "#;
        let f = fixture::analyze(continued);
        let on_the_line: Vec<&str> = f
            .snapshot
            .analyzed
            .analysis
            .diagnostics
            .iter()
            .filter(|d| touches(d.span, f.ranges[0]))
            .map(|d| d.code)
            .collect();
        assert_eq!(
            on_the_line,
            ["bank-conflict"],
            "the finding spans the continuation"
        );
        let (_, edited) = ignore_edits(continued);
        assert_eq!(edited, Vec::<String>::new());
        let reasonless = "int x; // cudalens-ignore[bank-conflict]\n//     ^^^^\n";
        let (_, edited) = ignore_edits(reasonless);
        assert_eq!(edited, Vec::<String>::new());
    }

    #[test]
    fn nothing_outside_kernels() {
        let f = fixture::analyze("int x;$0\n");
        let at = Span::new(f.cursor(), f.cursor());
        assert!(code_actions(&f.snapshot, at, false, |_| true).is_empty());
    }
}
