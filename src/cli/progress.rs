//! Progress of long work (demo generation, ingest, starting an audit) on
//! stderr, drawn by indicatif only when stderr is a terminal: a pipe or a
//! log file gets no progress noise.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::progress::Progress;

/// A bar for one piece of work, cleared when dropped.
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar titled `title`; hidden unless stderr is a terminal.
    pub fn new(title: &str) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self { bar: ProgressBar::hidden() };
        }
        let style = ProgressStyle::with_template("{spinner} {prefix} [{bar:24}] {pos}/{len} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::new(0).with_style(style).with_prefix(crate::text::visible(title));
        bar.enable_steady_tick(Duration::from_millis(120));
        Self { bar }
    }

    /// A line on stderr that does not tear the bar.
    pub fn note(&self, line: &str) {
        self.bar.suspend(|| tell!("{}", crate::text::visible(line)));
    }
}

impl Progress for Bar {
    fn step(&self, what: &str, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
        self.bar.set_message(crate::text::visible(what));
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
