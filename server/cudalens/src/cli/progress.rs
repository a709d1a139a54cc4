//! Progress on a terminal for long work (`check` over many files, `bench
//! --autotune`): done of total, the current item, elapsed time. Shown only
//! when stdout and stderr are both terminals; piped or machine-readable
//! runs print nothing extra.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress line on stderr, or nothing.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// `total` items called `unit`; `wanted` is false for JSON, SARIF and
    /// similar outputs.
    pub fn new(total: usize, unit: &str, wanted: bool) -> Progress {
        let interactive = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        if !(wanted && interactive) || total < 2 {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        let template = format!("{{elapsed:>4}} [{{bar:24}}] {{pos}}/{{len}} {unit} {{wide_msg}}");
        if let Ok(style) = ProgressStyle::with_template(&template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(Some(bar))
    }

    /// The item now being worked on.
    pub fn current(&self, item: &str) {
        if let Some(bar) = &self.0 {
            bar.set_message(item.to_string());
        }
    }

    /// One more item done.
    pub fn done_one(&self) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
        }
    }

    /// Removes the line (before the results are printed).
    pub fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}
