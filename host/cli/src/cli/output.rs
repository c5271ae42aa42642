//! Printing results: JSON for scripts (`--json`), plain text for people, and times as RFC 3339.

use serde::Serialize;

/// Print `value` as pretty JSON, or the text `render` makes.
pub fn print<T: Serialize>(json: bool, value: &T, render: impl FnOnce(&T) -> String) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(value)?);
    } else {
        print!("{}", render(value));
    }
    Ok(())
}

/// A timestamp (ms since the epoch) as `2024-05-01 12:00 UTC`.
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map_or_else(|| ms.to_string(), |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
}

/// Now, in ms since the epoch.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}
