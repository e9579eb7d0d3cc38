//! The progress bar on stderr for long runs: inputs done, events, events/s.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar that only draws when stderr is a terminal.
pub struct Progress {
    bar: ProgressBar,
    started: Instant,
    events: u64,
    unit: &'static str,
}

impl Progress {
    /// A bar over `inputs` inputs; hidden when `hidden` or stderr is not a
    /// terminal.
    pub fn new(inputs: usize, hidden: bool) -> Progress {
        Progress::counting(inputs, hidden, "events")
    }

    /// A bar over `inputs` inputs that counts `unit` (such as `messages`).
    pub fn counting(inputs: usize, hidden: bool, unit: &'static str) -> Progress {
        let bar = if hidden || !std::io::stderr().is_terminal() {
            ProgressBar::with_draw_target(Some(inputs as u64), ProgressDrawTarget::hidden())
        } else {
            ProgressBar::new(inputs as u64)
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files  {msg}  {prefix}",
            )
            .expect("the progress template is valid"),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress {
            bar,
            started: Instant::now(),
            events: 0,
            unit,
        }
    }

    /// Counts decoded events (or whatever the bar counts).
    pub fn add_events(&mut self, n: u64) {
        self.events += n;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let unit = self.unit;
        self.bar.set_message(format!(
            "{} {unit}  {:.0} {unit}/s",
            self.events,
            self.events as f64 / secs
        ));
    }

    /// Shows the input being read.
    pub fn file_start(&self, file: &str) {
        let name = file.rsplit(['/', '\\']).next().unwrap_or(file);
        self.bar.set_prefix(crate::output::fit(name, 32, true));
    }

    /// Counts one finished input.
    pub fn file_done(&self) {
        self.bar.inc(1);
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
