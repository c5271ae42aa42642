//! Reading typed values out of a spanned TOML tree while collecting every error.
//!
//! [`Reader`] never stops at the first problem: each accessor records what is wrong (with the setting's dotted
//! path and the 1-based line of the offending value) and returns `None` or the default, so that parsing carries on
//! and the moderator sees **all** errors at once.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use super::ConfigError;

/// A TOML table as the parser hands it out, with spans.
pub(crate) type Table<'i> = DeTable<'i>;
/// A TOML value with its span.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() as u32
}

/// `a.b`, or `b` when `a` is empty.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// The path a TOML syntax error is about, from the text of its line: the key of `key = …` or the table of
/// `[table]` / `[[table]]` (empty when the line is neither), so that `duplicate key` says which key.
pub fn key_at_line(text: &str, line: u32) -> String {
    let Some(content) = text.lines().nth(line.saturating_sub(1) as usize) else { return String::new() };
    let content = content.trim();
    let key = if let Some(table) = content.strip_prefix('[') {
        table.trim_start_matches('[').split(']').next().unwrap_or("")
    } else if let Some((key, _)) = content.split_once('=') {
        key
    } else {
        ""
    };
    let key = key.trim();
    // Only what looks like a key: a stray line of text is not echoed back as a path.
    if key.len() <= 128 && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_.\"' ".contains(c)) {
        key.to_owned()
    } else {
        String::new()
    }
}

/// Most errors reported for one document; the rest are summed up in a last line. Enough to fix a file by; a file of
/// ten thousand unknown keys costs the program neither fuel nor memory for each of them.
pub const MAX_ERRORS: usize = 50;

/// Walks a spanned TOML tree, reading typed values and collecting every error with its path and line.
pub struct Reader<'t> {
    /// Byte offsets where each line after the first starts (lines are found by binary search, not by counting
    /// newlines from the top for every error).
    line_starts: Vec<usize>,
    /// Every problem found so far (at most [`MAX_ERRORS`], then one line saying how many more).
    pub errors: Vec<ConfigError>,
    more: usize,
    _text: core::marker::PhantomData<&'t str>,
}

impl<'t> Reader<'t> {
    /// A reader over the document `text` (used to turn byte offsets into lines).
    pub fn new(text: &'t str) -> Reader<'t> {
        let line_starts = text.bytes().enumerate().filter(|(_, b)| *b == b'\n').map(|(at, _)| at + 1).collect();
        Reader { line_starts, errors: Vec::new(), more: 0, _text: core::marker::PhantomData }
    }

    /// Record an error at a byte offset.
    pub fn error(&mut self, path: &str, offset: usize, message: String) {
        if self.errors.len() >= MAX_ERRORS {
            self.more += 1;
            return;
        }
        let line = Some(1 + self.line_starts.partition_point(|&start| start <= offset) as u32);
        self.errors.push(ConfigError { path: path.to_owned(), line, message });
    }

    /// The errors, with a last one saying how many were not listed.
    pub fn finish(mut self) -> Vec<ConfigError> {
        if self.more > 0 {
            self.errors.push(ConfigError {
                path: String::new(),
                line: None,
                message: format!("… and {} more error(s) not listed (at most {MAX_ERRORS} are)", self.more),
            });
        }
        self.errors
    }

    fn wrong_type(&mut self, path: &str, offset: usize, expected: &str, found: &DeValue<'_>) {
        let found = describe(found);
        self.error(path, offset, format!("expected {expected}, found {found}"));
    }

    /// Report every key of `table` that is not in `known`.
    pub fn known_keys(&mut self, table: &Table<'_>, path: &str, known: &[&str]) {
        for (key, _) in table.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                let full = join(path, key.get_ref());
                let expected = known.join(", ");
                self.error(&full, key.span().start, format!("unknown setting (expected one of: {expected})"));
            }
        }
    }

    /// The sub-table `key` of `table` (absent = `None`), checking its type. `path` is the sub-table's own path.
    pub fn table<'a, 'i>(&mut self, table: Option<&'a Table<'i>>, key: &str, path: &str) -> Option<&'a Table<'i>> {
        let value = table?.get(key)?;
        match value.get_ref() {
            DeValue::Table(inner) => Some(inner),
            other => {
                self.wrong_type(path, value.span().start, "a table", other);
                None
            }
        }
    }

    /// An integer in `min..=max`, or `default` when absent or wrong.
    pub fn int(&mut self, table: Option<&Table<'_>>, key: &str, path: &str, default: i64, min: i64, max: i64) -> i64 {
        let full = join(path, key);
        let Some(value) = table.and_then(|t| t.get(key)) else {
            return default;
        };
        self.int_value(value, &full, min, max).unwrap_or(default)
    }

    /// An integer value in `min..=max`.
    pub fn int_value(&mut self, value: &Value<'_>, path: &str, min: i64, max: i64) -> Option<i64> {
        let offset = value.span().start;
        let range = if max == i64::MAX { format!("≥ {min}") } else { format!("from {min} to {max}") };
        match value.get_ref() {
            DeValue::Integer(int) => match i64::from_str_radix(&int.as_str().replace('_', ""), int.radix()) {
                Ok(n) if (min..=max).contains(&n) => Some(n),
                _ => {
                    self.error(path, offset, format!("expected an integer {range}, found {}", int.as_str()));
                    None
                }
            },
            other => {
                self.wrong_type(path, offset, &format!("an integer {range}"), other);
                None
            }
        }
    }

    /// A boolean, or `default` when absent or wrong.
    pub fn boolean(&mut self, table: Option<&Table<'_>>, key: &str, path: &str, default: bool) -> bool {
        let Some(value) = table.and_then(|t| t.get(key)) else {
            return default;
        };
        match value.get_ref() {
            DeValue::Boolean(b) => *b,
            other => {
                self.wrong_type(&join(path, key), value.span().start, "true or false", other);
                default
            }
        }
    }

    /// A string (non-empty, at most `max_len` bytes); `None` when absent (no error) or wrong (error).
    pub fn optional_string(&mut self, table: &Table<'_>, key: &str, path: &str, max_len: usize) -> Option<String> {
        let value = table.get(key)?;
        let full = join(path, key);
        match value.get_ref() {
            // Badge and tier names and descriptions are printed on moderators' terminals and members' pages: an
            // escape sequence, bell, newline or NUL in one could rewrite a terminal or forge a line.
            DeValue::String(s) if s.chars().any(char::is_control) => {
                self.error(
                    &full,
                    value.span().start,
                    "control characters (escape, bell, newline, NUL, …) are not allowed".into(),
                );
                None
            }
            DeValue::String(s) if !s.is_empty() && s.len() <= max_len => Some(s.as_ref().to_owned()),
            DeValue::String(_) => {
                self.error(
                    &full,
                    value.span().start,
                    format!("expected a non-empty string of at most {max_len} bytes"),
                );
                None
            }
            other => {
                self.wrong_type(&full, value.span().start, "a string", other);
                None
            }
        }
    }

    /// A required string (non-empty, at most `max_len` bytes); a missing one is reported at `offset`.
    pub fn string(
        &mut self,
        table: &Table<'_>,
        key: &str,
        path: &str,
        offset: usize,
        max_len: usize,
    ) -> Option<String> {
        if table.get(key).is_none() {
            self.error(&join(path, key), offset, "missing (expected a string)".to_owned());
            return None;
        }
        self.optional_string(table, key, path, max_len)
    }

    /// A required identifier: lowercase letters, digits and `-`, 1 to 48 bytes.
    pub fn id(&mut self, table: &Table<'_>, key: &str, path: &str, offset: usize) -> Option<String> {
        let id = self.string(table, key, path, offset, 48)?;
        self.check_id(id, table, key, path, offset)
    }

    /// An optional identifier (as [`Reader::id`], but absent is fine).
    pub fn optional_id(&mut self, table: &Table<'_>, key: &str, path: &str) -> Option<String> {
        let id = self.optional_string(table, key, path, 48)?;
        self.check_id(id, table, key, path, 0)
    }

    fn check_id(&mut self, id: String, table: &Table<'_>, key: &str, path: &str, offset: usize) -> Option<String> {
        if is_id(&id) {
            Some(id)
        } else {
            let at = table.get(key).map_or(offset, |v| v.span().start);
            self.error(
                &join(path, key),
                at,
                format!("\"{id}\" is not an identifier (use lowercase letters, digits and -)"),
            );
            None
        }
    }

    /// An array of identifiers (absent = empty), each with its byte offset for later reference checks.
    pub fn id_list(&mut self, table: &Table<'_>, key: &str, path: &str) -> Vec<(String, usize)> {
        let mut out = Vec::new();
        let Some(value) = table.get(key) else {
            return out;
        };
        let full = join(path, key);
        match value.get_ref() {
            DeValue::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    let item_path = format!("{full}[{index}]");
                    match item.get_ref() {
                        DeValue::String(s) if is_id(s) => out.push((s.as_ref().to_owned(), item.span().start)),
                        other => self.wrong_type(&item_path, item.span().start, "an identifier string", other),
                    }
                }
            }
            other => self.wrong_type(&full, value.span().start, "an array of identifiers", other),
        }
        out
    }
}

fn is_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 48 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A value as an error message names it: its type, and the value itself when short.
pub(crate) fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(s) => format!("\"{s}\""),
        DeValue::Integer(i) => format!("the integer {}", i.as_str()),
        DeValue::Float(f) => format!("the number {}", f.as_str()),
        DeValue::Boolean(b) => format!("{b}"),
        DeValue::Datetime(_) => "a date".to_owned(),
        DeValue::Array(_) => "an array".to_owned(),
        DeValue::Table(_) => "a table".to_owned(),
    }
}
