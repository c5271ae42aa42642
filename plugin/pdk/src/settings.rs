//! A program's settings: one table of [`Setting`]s that yields both what `describe` lists and the defaults that
//! `configure("")` adopts, and a TOML reader that checks a moderator's document against it, reporting **every**
//! problem with its path and line.
//!
//! Owns: the table's entry types, [`Settings`] (the values in force, read by path), and the reader (unknown keys,
//! wrong types, out-of-range integers, control characters, TOML syntax). Does not own: rules between settings
//! (`a` must be below `b`): a plugin checks those in [`crate::Plugin::configure`], using [`Settings::error`] so its
//! errors carry a path and line too.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use crate::types::{ConfigError, SettingInfo};

/// Most errors reported for one document (then one line counting the rest): enough to fix a file by, and a file of
/// ten thousand unknown keys costs the program neither fuel nor memory for each.
pub const MAX_ERRORS: usize = 50;

/// Longest text setting, in bytes.
pub const MAX_TEXT_BYTES: usize = 1024;

/// What kind of value a setting holds, with its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number in `min..=max`.
    Integer {
        /// The default.
        default: i64,
        /// Smallest accepted.
        min: i64,
        /// Largest accepted.
        max: i64,
    },
    /// `true` or `false`.
    Boolean {
        /// The default.
        default: bool,
    },
    /// Text (at most [`MAX_TEXT_BYTES`], no control characters).
    Text {
        /// The default.
        default: &'static str,
    },
}

/// One entry of a program's settings table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// Its dotted path in the TOML document (`points-per-answer`, `caps.answers-per-day`): lowercase letters,
    /// digits and `-` in each segment.
    pub path: &'static str,
    /// What it does, for moderators (`describe` lists it).
    pub description: &'static str,
    /// Its kind and default.
    pub kind: Kind,
}

impl Setting {
    /// An integer setting in `min..=max`.
    pub const fn integer(path: &'static str, default: i64, min: i64, max: i64, description: &'static str) -> Setting {
        Setting { path, description, kind: Kind::Integer { default, min, max } }
    }

    /// A boolean setting.
    pub const fn boolean(path: &'static str, default: bool, description: &'static str) -> Setting {
        Setting { path, description, kind: Kind::Boolean { default } }
    }

    /// A text setting.
    pub const fn text(path: &'static str, default: &'static str, description: &'static str) -> Setting {
        Setting { path, description, kind: Kind::Text { default } }
    }

    /// The default as TOML (`5`, `true`, `"weekly"`), as `describe` lists it.
    pub fn default_toml(&self) -> String {
        match self.kind {
            Kind::Integer { default, .. } => default.to_string(),
            Kind::Boolean { default } => default.to_string(),
            Kind::Text { default } => quote(default),
        }
    }

    fn default_value(&self) -> Value {
        match self.kind {
            Kind::Integer { default, .. } => Value::Integer(default),
            Kind::Boolean { default } => Value::Boolean(default),
            Kind::Text { default } => Value::Text(default.to_owned()),
        }
    }
}

/// A TOML basic string.
fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// What `describe` lists for a table: every setting with its default.
pub fn describe(table: &[Setting]) -> Vec<SettingInfo> {
    table
        .iter()
        .map(|s| SettingInfo {
            path: s.path.into(),
            description: s.description.into(),
            default_value: s.default_toml(),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Integer(i64),
    Boolean(bool),
    Text(String),
}

/// The settings in force: every setting of the table, set by the document or defaulted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// In table order: the setting, its value, the line the document set it on.
    values: Vec<(&'static str, Value, Option<u32>)>,
}

impl Settings {
    /// Every setting at its default (what `configure("")` adopts).
    pub fn defaults(table: &[Setting]) -> Settings {
        Settings { values: table.iter().map(|s| (s.path, s.default_value(), None)).collect() }
    }

    /// Read a moderator's TOML document against `table`; `Err` lists every problem, sorted by line.
    pub fn parse(table: &[Setting], text: &str) -> Result<Settings, Vec<ConfigError>> {
        let doc = match DeTable::parse(text) {
            Ok(doc) => doc,
            Err(error) => {
                let line = error.span().map(|span| line_of(text, span.start));
                return Err(alloc::vec![ConfigError {
                    path: String::new(),
                    line,
                    message: format!("not valid TOML: {}", error.message().trim()),
                }]);
            }
        };
        let mut reader = Reader { text, table, settings: Settings::defaults(table), errors: Vec::new(), more: 0 };
        reader.table(doc.get_ref(), "");
        if reader.more > 0 {
            let more = reader.more;
            reader.errors.push(ConfigError {
                path: String::new(),
                line: None,
                message: format!("… and {more} more error(s) not listed (at most {MAX_ERRORS} are)"),
            });
        }
        if reader.errors.is_empty() {
            Ok(reader.settings)
        } else {
            reader.errors.sort_by_key(|e| e.line.unwrap_or(u32::MAX));
            Err(reader.errors)
        }
    }

    fn value(&self, path: &str) -> &Value {
        match self.values.iter().find(|(p, _, _)| *p == path) {
            Some((_, value, _)) => value,
            None => panic!("`{path}` is not in the plugin's settings table"),
        }
    }

    /// An integer setting's value. Panics if `path` is not an integer setting of the table (a mistake a native
    /// test finds at once).
    pub fn integer(&self, path: &str) -> i64 {
        match self.value(path) {
            Value::Integer(n) => *n,
            other => panic!("`{path}` is not an integer setting ({other:?})"),
        }
    }

    /// A boolean setting's value (panics as [`Settings::integer`]).
    pub fn boolean(&self, path: &str) -> bool {
        match self.value(path) {
            Value::Boolean(b) => *b,
            other => panic!("`{path}` is not a boolean setting ({other:?})"),
        }
    }

    /// A text setting's value (panics as [`Settings::integer`]).
    pub fn text(&self, path: &str) -> &str {
        match self.value(path) {
            Value::Text(t) => t,
            other => panic!("`{path}` is not a text setting ({other:?})"),
        }
    }

    /// The line the document set `path` on (`None`: defaulted).
    pub fn line(&self, path: &str) -> Option<u32> {
        self.values.iter().find(|(p, _, _)| *p == path).and_then(|(_, _, line)| *line)
    }

    /// An error about `path` at the line the document set it on: for rules between settings that a plugin checks
    /// in [`crate::Plugin::configure`].
    pub fn error(&self, path: &str, message: impl Into<String>) -> ConfigError {
        ConfigError { path: path.into(), line: self.line(path), message: message.into() }
    }
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> u32 {
    1 + text.as_bytes()[..offset.min(text.len())].iter().filter(|&&b| b == b'\n').count() as u32
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

struct Reader<'a> {
    text: &'a str,
    table: &'a [Setting],
    settings: Settings,
    errors: Vec<ConfigError>,
    more: usize,
}

impl Reader<'_> {
    fn error(&mut self, path: &str, offset: usize, message: String) {
        if self.errors.len() >= MAX_ERRORS {
            self.more += 1;
            return;
        }
        self.errors.push(ConfigError { path: path.into(), line: Some(line_of(self.text, offset)), message });
    }

    /// The keys a table at `path` may hold: the next segment of every setting under it.
    fn expected(&self, path: &str) -> String {
        let mut keys: Vec<&str> = self
            .table
            .iter()
            .filter_map(|s| if path.is_empty() { Some(s.path) } else { s.path.strip_prefix(path)?.strip_prefix('.') })
            .map(|rest| rest.split('.').next().unwrap_or(rest))
            .collect();
        keys.dedup();
        keys.join(", ")
    }

    fn table(&mut self, table: &DeTable<'_>, path: &str) {
        for (key, value) in table.iter() {
            let full = join(path, key.get_ref());
            self.value(&full, key.span().start, value);
        }
    }

    fn value(&mut self, path: &str, key_at: usize, value: &Spanned<DeValue<'_>>) {
        let at = value.span().start;
        if let Some(setting) = self.table.iter().find(|s| s.path == path).copied() {
            let line = Some(line_of(self.text, at));
            let read = match (setting.kind, value.get_ref()) {
                (Kind::Integer { min, max, .. }, DeValue::Integer(int)) => {
                    let range = if max == i64::MAX { format!("≥ {min}") } else { format!("from {min} to {max}") };
                    match i64::from_str_radix(&int.as_str().replace('_', ""), int.radix()) {
                        Ok(n) if (min..=max).contains(&n) => Some(Value::Integer(n)),
                        _ => {
                            self.error(path, at, format!("expected an integer {range}, found {}", int.as_str()));
                            None
                        }
                    }
                }
                (Kind::Boolean { .. }, DeValue::Boolean(b)) => Some(Value::Boolean(*b)),
                (Kind::Text { .. }, DeValue::String(s)) if s.chars().any(char::is_control) => {
                    self.error(path, at, "control characters (newline, escape, NUL, …) are not allowed".into());
                    None
                }
                (Kind::Text { .. }, DeValue::String(s)) if s.len() > MAX_TEXT_BYTES => {
                    self.error(path, at, format!("longer than {MAX_TEXT_BYTES} bytes"));
                    None
                }
                (Kind::Text { .. }, DeValue::String(s)) => Some(Value::Text(s.as_ref().to_owned())),
                (kind, found) => {
                    let expected = match kind {
                        Kind::Integer { .. } => "an integer",
                        Kind::Boolean { .. } => "true or false",
                        Kind::Text { .. } => "a string",
                    };
                    self.error(path, at, format!("expected {expected}, found {}", describe_value(found)));
                    None
                }
            };
            if let Some(read) = read {
                let slot = self.settings.values.iter_mut().find(|(p, _, _)| *p == path).expect("in the table");
                slot.1 = read;
                slot.2 = line;
            }
            return;
        }
        let prefix = format!("{path}.");
        let is_section = self.table.iter().any(|s| s.path.starts_with(&prefix));
        match value.get_ref() {
            DeValue::Table(inner) if is_section => self.table(inner, path),
            _ if is_section => {
                self.error(path, at, format!("expected a table (of: {})", self.expected(path)));
            }
            _ => {
                let parent = path.rsplit_once('.').map_or("", |(parent, _)| parent);
                let expected = self.expected(parent);
                let message = if expected.is_empty() {
                    "unknown setting (this program has no settings)".to_owned()
                } else {
                    format!("unknown setting (expected one of: {expected})")
                };
                self.error(path, key_at, message);
            }
        }
    }
}

/// A value as an error message names it.
fn describe_value(value: &DeValue<'_>) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &[Setting] = &[
        Setting::integer("points-per-answer", 1, 0, 1_000, "Points for each answer"),
        Setting::integer("caps.answers-per-day", 5, 0, i64::MAX, "Answers that earn points per day"),
        Setting::boolean("caps.self-answers", false, "Whether answering one's own question earns points"),
        Setting::text("badge-name", "First \"Responder\"", "The badge's display name"),
    ];

    #[test]
    fn the_empty_document_is_every_default_and_describe_lists_the_same_defaults() {
        let settings = Settings::parse(TABLE, "").unwrap();
        assert_eq!(settings, Settings::defaults(TABLE));
        assert_eq!(settings.integer("caps.answers-per-day"), 5);
        let described = describe(TABLE);
        assert_eq!(described[2].default_value, "false");
        assert_eq!(described[3].default_value, r#""First \"Responder\"""#);
        for info in &described {
            // Each listed default, written back as a document, reads as the default itself.
            let (section, key) = info.path.rsplit_once('.').unwrap_or(("", &info.path));
            let doc = if section.is_empty() {
                format!("{key} = {}\n", info.default_value)
            } else {
                format!("[{section}]\n{key} = {}\n", info.default_value)
            };
            assert_eq!(
                Settings::parse(TABLE, &doc).unwrap(),
                Settings::defaults(TABLE).with_line(&info.path, doc.lines().count() as u32)
            );
        }
    }

    impl Settings {
        fn with_line(mut self, path: &str, line: u32) -> Settings {
            self.values.iter_mut().find(|(p, _, _)| *p == path).unwrap().2 = Some(line);
            self
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_path_and_line() {
        let doc = "points-per-answer = \"lots\"\n[caps]\nanswers-per-day = -1\nself-answer = true\n[extra]\nx = 1\n";
        let errors = Settings::parse(TABLE, doc).unwrap_err();
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "line 1: points-per-answer: expected an integer, found \"lots\"",
                "line 3: caps.answers-per-day: expected an integer ≥ 0, found -1",
                "line 4: caps.self-answer: unknown setting (expected one of: answers-per-day, self-answers)",
                "line 5: extra: unknown setting (expected one of: points-per-answer, caps, badge-name)",
            ]
        );
    }

    #[test]
    fn a_syntax_error_names_its_line() {
        let errors = Settings::parse(TABLE, "points-per-answer = 1\npoints-per-answer = 2\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, Some(2), "{errors:?}");
        assert!(errors[0].message.starts_with("not valid TOML"), "{errors:?}");
    }

    #[test]
    fn a_plugins_own_rule_points_at_the_line_of_the_setting() {
        let settings = Settings::parse(TABLE, "\n\npoints-per-answer = 7\n").unwrap();
        let error = settings.error("points-per-answer", "must not exceed caps.answers-per-day");
        assert_eq!(error.to_string(), "line 3: points-per-answer: must not exceed caps.answers-per-day");
        assert_eq!(settings.error("badge-name", "x").line, None, "a defaulted setting has no line");
    }
}
