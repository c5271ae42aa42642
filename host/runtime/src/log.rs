//! The `log` import (contract 0.2.0): lines a program writes during a call, bounded, and shown with its name and
//! version.
//!
//! Owns: the per-call [`LogBuffer`] (at most [`MAX_LINES_PER_CALL`] lines of at most [`MAX_LINE_BYTES`] bytes; the
//! rest are counted, not kept), the host side of the import, the per-plugin [`RateLimit`] on what reaches the host's
//! own log (at most [`MAX_LINES_PER_MINUTE`]; a replay of a million events must not write a million lines), and
//! [`LogLine`]'s display. Does not own: where lines go after a call ([`crate::Plugin`] hands them to `tracing`
//! through the rate limit and keeps the last call's, all of them, for `cadre plugin test`).

use crate::contract::latest::cadre::forum::log;
use crate::store::HostState;

/// Most lines kept from one call: enough to explain a decision, too few for a loop to flood the host's log.
pub const MAX_LINES_PER_CALL: usize = 20;
/// Longest line kept, in bytes; longer lines are cut at a character boundary and marked with `…`.
pub const MAX_LINE_BYTES: usize = 1024;

/// How important a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Detail for the program's author.
    Debug,
    /// Worth knowing.
    Info,
    /// Looks wrong.
    Warn,
    /// The call is about to fail (a panic's message).
    Error,
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        })
    }
}

/// One line a program logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// Its level.
    pub level: LogLevel,
    /// The text (at most [`MAX_LINE_BYTES`]).
    pub message: String,
}

/// The lines of the current call.
#[derive(Debug, Default)]
pub struct LogBuffer {
    lines: Vec<LogLine>,
    dropped: usize,
}

impl LogBuffer {
    /// Keep a line, or count it as dropped when the call already logged its share.
    pub fn push(&mut self, level: LogLevel, mut message: String) {
        if self.lines.len() >= MAX_LINES_PER_CALL {
            self.dropped += 1;
            return;
        }
        if message.len() > MAX_LINE_BYTES {
            let mut end = MAX_LINE_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
            message.push('…');
        }
        self.lines.push(LogLine { level, message });
    }

    /// The call's lines (and a last line counting the dropped ones), leaving the buffer empty.
    pub fn take(&mut self) -> Vec<LogLine> {
        let mut lines = std::mem::take(&mut self.lines);
        let dropped = std::mem::take(&mut self.dropped);
        if dropped > 0 {
            lines.push(LogLine {
                level: LogLevel::Warn,
                message: format!("{dropped} more lines dropped (at most {MAX_LINES_PER_CALL} per call)"),
            });
        }
        lines
    }
}

impl log::Host for HostState {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            log::Level::Debug => LogLevel::Debug,
            log::Level::Info => LogLevel::Info,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Error => LogLevel::Error,
        };
        self.log.push(level, message);
        Ok(())
    }
}

/// Most of a plugin's lines shown in the host's log per minute; the rest are counted, and the count is shown once
/// the minute is over. Ten a second is plenty to follow a live forum and bounds what a replay or a chatty program
/// writes to the operator's log.
pub const MAX_LINES_PER_MINUTE: u32 = 600;

/// What a plugin may still write to the host's log this minute.
#[derive(Debug, Clone, Default)]
pub struct RateLimit {
    window_start: Option<std::time::Instant>,
    shown: u32,
    suppressed: u64,
}

impl RateLimit {
    /// Which of `lines` to show at `now`: those within the minute's allowance, preceded by a line counting what the
    /// previous minute suppressed.
    pub fn admit(&mut self, now: std::time::Instant, lines: &[LogLine]) -> Vec<LogLine> {
        let mut shown = Vec::new();
        let new_window = self.window_start.is_none_or(|start| now.duration_since(start).as_secs() >= 60);
        if new_window {
            if self.suppressed > 0 {
                shown.push(LogLine {
                    level: LogLevel::Warn,
                    message: format!(
                        "{} more lines not shown (at most {MAX_LINES_PER_MINUTE} a minute)",
                        self.suppressed
                    ),
                });
            }
            *self = RateLimit { window_start: Some(now), shown: 0, suppressed: 0 };
        }
        for line in lines {
            if self.shown < MAX_LINES_PER_MINUTE {
                self.shown += 1;
                shown.push(line.clone());
            } else {
                self.suppressed += 1;
            }
        }
        shown
    }
}

/// Hand a call's lines to the host's log, each prefixed with the program's name and version, as far as the
/// plugin's rate limit allows.
pub(crate) fn emit(plugin: &crate::PluginName, rate: &mut RateLimit, lines: &[LogLine]) {
    if lines.is_empty() {
        return;
    }
    for line in &rate.admit(std::time::Instant::now(), lines) {
        match line.level {
            LogLevel::Debug => tracing::debug!(target: "cadre::plugin", "{plugin}: {}", line.message),
            LogLevel::Info => tracing::info!(target: "cadre::plugin", "{plugin}: {}", line.message),
            LogLevel::Warn => tracing::warn!(target: "cadre::plugin", "{plugin}: {}", line.message),
            LogLevel::Error => tracing::error!(target: "cadre::plugin", "{plugin}: {}", line.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_lines_keeps_twenty_and_counts_the_rest() {
        let mut buffer = LogBuffer::default();
        for i in 0..25 {
            buffer.push(LogLevel::Info, format!("line {i}"));
        }
        let lines = buffer.take();
        assert_eq!(lines.len(), MAX_LINES_PER_CALL + 1);
        assert_eq!(lines.last().unwrap().message, "5 more lines dropped (at most 20 per call)");
        assert!(buffer.take().is_empty(), "the next call starts empty");
    }

    #[test]
    fn the_host_log_shows_600_lines_a_minute_and_then_counts_what_it_did_not_show() {
        let mut rate = RateLimit::default();
        let start = std::time::Instant::now();
        let line = LogLine { level: LogLevel::Info, message: "x".into() };
        let batch = vec![line; 20];
        let shown: usize = (0..40).map(|_| rate.admit(start, &batch).len()).sum();
        assert_eq!(shown, MAX_LINES_PER_MINUTE as usize, "800 lines in one minute, 600 shown");
        let next = rate.admit(start + std::time::Duration::from_secs(61), &batch[..1]);
        assert_eq!(next[0].message, "200 more lines not shown (at most 600 a minute)");
        assert_eq!(next.len(), 2, "then the new minute's line");
    }

    #[test]
    fn an_oversize_line_is_cut_at_a_character_boundary() {
        let mut buffer = LogBuffer::default();
        buffer.push(LogLevel::Error, "é".repeat(MAX_LINE_BYTES));
        let line = &buffer.take()[0];
        assert!(line.message.len() <= MAX_LINE_BYTES + '…'.len_utf8());
        assert!(line.message.ends_with('…'));
    }
}
