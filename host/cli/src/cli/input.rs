//! Reading the files a moderator names on the command line (settings, components) with a bound: each reader stops
//! one byte past its documented limit, so `/dev/zero` or a mistaken multi-gigabyte file costs a few kilobytes of
//! memory and an error naming the file and the limit (exit code 2, input refused), never gigabytes.
//!
//! Does not own the limits on what the files say (the program checks settings, the runtime checks components) nor
//! the JSON Lines and Stack Exchange readers (`cadre-import`, which stream with limits of their own).

use std::io::Read;
use std::path::Path;

/// A file refused before anything in it was used: too large, or settings that are not UTF-8. Exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputRefused(pub String);

/// Largest component file read by `plugin inspect`, `install` and `upgrade`: 16 MiB. The bundled program is a few
/// hundred kilobytes; a component many times that is not a super-user program, and compiling it costs the server.
pub const MAX_COMPONENT_BYTES: u64 = 16 << 20;

/// The bytes of `file`, or [`InputRefused`] naming `what`, the file and `limit` when it holds more.
pub fn read_limited(file: &Path, limit: u64, what: &str) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    // A file that cannot be opened (missing, a directory, not allowed) is input refused, like any other bad
    // argument: exit code 2, nothing done.
    let opened = std::fs::File::open(file)
        .map_err(|error| InputRefused(format!("cannot read {what} {}: {error}", file.display())))?;
    let mut bytes = Vec::new();
    opened.take(limit + 1).read_to_end(&mut bytes).with_context(|| format!("reading {what} {}", file.display()))?;
    if bytes.len() as u64 > limit {
        return Err(InputRefused(format!(
            "{what} {} is larger than {limit} bytes ({}), the most Cadre reads for it",
            file.display(),
            human(limit)
        ))
        .into());
    }
    Ok(bytes)
}

/// A settings file: at most [`MAX_SETTINGS_BYTES`](cadre_runtime::limits::MAX_SETTINGS_BYTES), UTF-8 (an error
/// names the line and column of the first byte that is not), a leading byte-order mark dropped.
pub fn read_settings(file: &Path) -> anyhow::Result<String> {
    let bytes = read_limited(file, cadre_runtime::limits::MAX_SETTINGS_BYTES as u64, "settings file")?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(text.to_owned()),
        Err(e) => {
            let before = &bytes[..e.valid_up_to()];
            let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
            let column = 1 + before.iter().rev().take_while(|&&b| b != b'\n').count();
            Err(InputRefused(format!(
                "settings file {}: line {line}, column {column}: not valid UTF-8 (settings are UTF-8 text)",
                file.display()
            ))
            .into())
        }
    }
}

/// `65536` → `64 KiB`.
fn human(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}
