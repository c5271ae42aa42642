//! Progress of a long replay on stderr: an `indicatif` bar with events/s and ETA on a terminal, plain periodic
//! lines (every few seconds) when stderr is a file or a pipe, nothing when quiet.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// How often the plain lines are written when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);

/// A progress display.
pub struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    total: u64,
    done: u64,
    started: Instant,
    last_line: Instant,
}

impl Progress {
    /// A display for `total` items: a bar on a terminal, plain lines otherwise; `quiet` shows nothing.
    pub fn new(total: u64, quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr_with_hz(4));
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} events · {rate} · ETA {eta}")
                    .expect("the template is valid")
                    .with_key("rate", |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0} events/s", state.per_sec());
                    })
                    .progress_chars("=> "),
            );
            bar
        });
        let now = Instant::now();
        Progress { bar, plain: !quiet && !terminal, total, done: 0, started: now, last_line: now }
    }

    /// `count` more items done.
    pub fn advance(&mut self, count: u64) {
        self.done += count;
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
        } else if self.plain && self.last_line.elapsed() >= PLAIN_EVERY {
            self.last_line = Instant::now();
            let elapsed = self.started.elapsed().as_secs_f64();
            let rate = self.done as f64 / elapsed.max(1e-9);
            let eta = self.total.saturating_sub(self.done) as f64 / rate.max(1e-9);
            eprintln!(
                "replay: {}/{} events ({:.1} %), {:.0} events/s, ETA {:.0} s",
                self.done,
                self.total,
                100.0 * self.done as f64 / self.total.max(1) as f64,
                rate,
                eta
            );
        }
    }

    /// Done: clear the bar (on a terminal) or write a last line (otherwise).
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        } else if self.plain {
            let elapsed = self.started.elapsed().as_secs_f64();
            eprintln!(
                "replay: {} events in {:.1} s ({:.0} events/s)",
                self.done,
                elapsed,
                self.done as f64 / elapsed.max(1e-9)
            );
        }
    }
}
