//! `cudalens rules [CODE]`: every rule with its severity and summary, or one
//! rule's documentation page (the same Markdown as `docs/rules/CODE.md`).
//! `cudalens --explain CODE` prints the page too, as rustc does.

use std::process::ExitCode;

use cudalens_analysis::rules;

use super::exit;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A rule code: print its documentation.
    pub code: Option<String>,
    /// Print the list as JSON (code, summary, default severity, category, docs URL).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> ExitCode {
    match args.code {
        Some(code) => explain(&code),
        None if args.json => {
            let list: Vec<serde_json::Value> = rules::ALL
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code,
                        "summary": r.summary,
                        "default_severity": r.default_severity.as_str(),
                        "category": r.category.as_str(),
                        "docs_url": r.docs_url(),
                    })
                })
                .collect();
            match serde_json::to_string_pretty(&list) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("error: {e}"),
            }
            ExitCode::from(exit::OK)
        }
        None => {
            print!("{}", table());
            ExitCode::from(exit::OK)
        }
    }
}

/// Prints the page of `code`, or says which codes exist.
pub fn explain(code: &str) -> ExitCode {
    match rules::find(code) {
        Some(rule) => {
            print!("{}", rules::markdown(rule));
            ExitCode::from(exit::OK)
        }
        None => {
            let known: Vec<&str> = rules::ALL.iter().map(|r| r.code).collect();
            eprintln!("error: unknown rule `{code}`; rules: {}", known.join(", "));
            ExitCode::from(exit::USAGE)
        }
    }
}

/// `code  severity  summary`, one rule a line, aligned.
pub fn table() -> String {
    let width = rules::ALL.iter().map(|r| r.code.len()).max().unwrap_or(0);
    let mut out = String::new();
    for r in rules::ALL {
        out.push_str(&format!(
            "{:width$}  {:7}  {}\n",
            r.code,
            r.default_severity.as_str(),
            r.summary
        ));
    }
    out.push_str(
        "\n`cudalens rules CODE` (or `cudalens --explain CODE`) prints a rule's documentation.\n",
    );
    out
}
