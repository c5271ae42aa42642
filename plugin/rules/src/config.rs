//! The moderators' settings: parsing and validating the TOML configuration.
//!
//! A configuration is read into [`Config`] by walking the spanned TOML tree with a [`Reader`] that records
//! **every** problem (unknown keys, wrong types, out-of-range numbers, dangling references) with its path and line,
//! instead of stopping at the first. Nothing here has side effects: a bad configuration never replaces a good one
//! because the caller only swaps in a `Config` that validated completely.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use serde_spanned::Spanned;
use toml::de::{DeTable, DeValue};

use crate::model::{Badge, BadgeLevel};

/// One problem in a configuration, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted path with array indices, e.g. `badges[2].when.points`; empty for the whole document.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

/// Points per event kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Points {
    /// To an answer's author per like.
    pub answer_liked: i64,
    /// To a question's author per like.
    pub question_liked: i64,
    /// To a reply's author per like.
    pub reply_liked: i64,
}

/// Daily caps per member per UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caps {
    /// Points from likes received per day; 0 means no cap.
    pub likes_received_per_day: i64,
}

/// What a badge requires (all conditions must hold).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Criteria {
    /// Minimum points.
    pub points: Option<i64>,
}

/// A badge and the criteria that grant it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadgeRule {
    /// The badge as declared to the host.
    pub badge: Badge,
    /// When it is granted.
    pub when: Criteria,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Points per event kind.
    pub points: Points,
    /// Daily caps.
    pub caps: Caps,
    /// Badge rules, in declaration order.
    pub badges: Vec<BadgeRule>,
}

impl Default for Config {
    fn default() -> Self {
        Config::parse("").expect("the default configuration is valid")
    }
}

impl Config {
    /// Parse and validate a TOML document, reporting every problem found.
    pub fn parse(text: &str) -> Result<Config, Vec<ConfigError>> {
        let doc = match DeTable::parse(text) {
            Ok(doc) => doc,
            Err(err) => {
                let line = err.span().map(|span| line_of(text, span.start));
                return Err(alloc::vec![ConfigError {
                    path: String::new(),
                    line,
                    message: format!("not valid TOML: {}", err.message()),
                }]);
            }
        };
        let mut reader = Reader { text, errors: Vec::new() };
        let root = doc.get_ref();
        reader.known_keys(root, "", &["points", "caps", "badges"]);

        let points = reader.table(root, "points", "points");
        if let Some(table) = points {
            reader.known_keys(table, "points", &["answer-liked", "question-liked", "reply-liked"]);
        }
        let points = Points {
            answer_liked: reader.int(points, "answer-liked", "points", 10, 0, 1_000_000),
            question_liked: reader.int(points, "question-liked", "points", 10, 0, 1_000_000),
            reply_liked: reader.int(points, "reply-liked", "points", 2, 0, 1_000_000),
        };
        let caps = reader.table(root, "caps", "caps");
        if let Some(table) = caps {
            reader.known_keys(table, "caps", &["likes-received-per-day"]);
        }
        let caps =
            Caps { likes_received_per_day: reader.int(caps, "likes-received-per-day", "caps", 200, 0, 1_000_000_000) };

        let mut badges = Vec::new();
        match root.get("badges") {
            None => badges.push(default_badge()),
            Some(value) => match value.get_ref() {
                DeValue::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        let path = format!("badges[{index}]");
                        if let Some(badge) = reader.badge(item, &path) {
                            if badges.iter().any(|b: &BadgeRule| b.badge.id == badge.badge.id) {
                                reader.error(
                                    &format!("{path}.id"),
                                    item.span().start,
                                    format!("duplicate badge id \"{}\"", badge.badge.id),
                                );
                            }
                            badges.push(badge);
                        }
                    }
                }
                other => reader.wrong_type("badges", value.span().start, "an array of tables ([[badges]])", other),
            },
        }

        if reader.errors.is_empty() { Ok(Config { points, caps, badges }) } else { Err(reader.errors) }
    }
}

fn default_badge() -> BadgeRule {
    BadgeRule {
        badge: Badge {
            id: "rising-star".to_owned(),
            name: "Rising Star".to_owned(),
            level: BadgeLevel::Bronze,
            description: "Earned 100 points from other members' likes".to_owned(),
        },
        when: Criteria { points: Some(100) },
    }
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> u32 {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() as u32
}

/// Walks a spanned TOML tree, reading typed values and collecting every error with its path and line.
pub struct Reader<'t> {
    text: &'t str,
    /// Every problem found so far.
    pub errors: Vec<ConfigError>,
}

type Table<'i> = DeTable<'i>;

impl<'t> Reader<'t> {
    /// Record an error at a byte offset.
    pub fn error(&mut self, path: &str, offset: usize, message: String) {
        let line = Some(line_of(self.text, offset));
        self.errors.push(ConfigError { path: path.to_owned(), line, message });
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

    /// The sub-table `key` of `table` (absent = empty), checking its type.
    pub fn table<'a, 'i>(&mut self, table: &'a Table<'i>, key: &str, path: &str) -> Option<&'a Table<'i>> {
        let value = table.get(key)?;
        match value.get_ref() {
            DeValue::Table(inner) => Some(inner),
            other => {
                self.wrong_type(path, value.span().start, "a table", other);
                None
            }
        }
    }

    /// An integer in `min..=max`, or `default` when absent.
    pub fn int(&mut self, table: Option<&Table<'_>>, key: &str, path: &str, default: i64, min: i64, max: i64) -> i64 {
        let full = join(path, key);
        let Some(value) = table.and_then(|t| t.get(key)) else { return default };
        self.int_value(value, &full, min, max).unwrap_or(default)
    }

    /// An integer value in `min..=max`.
    pub fn int_value(&mut self, value: &Spanned<DeValue<'_>>, path: &str, min: i64, max: i64) -> Option<i64> {
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

    /// A required string (non-empty, at most `max_len` bytes).
    pub fn string(
        &mut self,
        table: &Table<'_>,
        key: &str,
        path: &str,
        offset: usize,
        max_len: usize,
    ) -> Option<String> {
        let full = join(path, key);
        let Some(value) = table.get(key) else {
            self.error(&full, offset, "missing (expected a string)".to_owned());
            return None;
        };
        match value.get_ref() {
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

    /// An identifier: lowercase letters, digits and `-`, 1 to 48 bytes.
    pub fn id(&mut self, table: &Table<'_>, key: &str, path: &str, offset: usize) -> Option<String> {
        let id = self.string(table, key, path, offset, 48)?;
        if id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
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

    fn badge(&mut self, item: &Spanned<DeValue<'_>>, path: &str) -> Option<BadgeRule> {
        let offset = item.span().start;
        let DeValue::Table(table) = item.get_ref() else {
            self.wrong_type(path, offset, "a table", item.get_ref());
            return None;
        };
        self.known_keys(table, path, &["id", "name", "level", "description", "when"]);
        let id = self.id(table, "id", path, offset);
        let name = self.string(table, "name", path, offset, 64);
        let description = self.string(table, "description", path, offset, 256);
        let level = match self.string(table, "level", path, offset, 16).as_deref() {
            Some("bronze") => Some(BadgeLevel::Bronze),
            Some("silver") => Some(BadgeLevel::Silver),
            Some("gold") => Some(BadgeLevel::Gold),
            Some(other) => {
                let at = table.get("level").map_or(offset, |v| v.span().start);
                self.error(
                    &join(path, "level"),
                    at,
                    format!("expected \"bronze\", \"silver\" or \"gold\", found \"{other}\""),
                );
                None
            }
            None => None,
        };
        let when_path = join(path, "when");
        let when = self.table(table, "when", &when_path);
        if let Some(when) = when {
            self.known_keys(when, &when_path, &["points"]);
        } else if table.get("when").is_none() {
            self.error(&when_path, offset, "missing (a badge needs at least one criterion)".to_owned());
        }
        let criteria = Criteria {
            points: when
                .and_then(|w| w.get("points"))
                .and_then(|v| self.int_value(v, &join(&when_path, "points"), 0, i64::MAX)),
        };
        Some(BadgeRule {
            badge: Badge { id: id?, name: name?, level: level?, description: description? },
            when: criteria,
        })
    }
}

/// `a.b`, or `b` when `a` is empty.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_owned() } else { format!("{path}.{key}") }
}

/// A value as an error message names it: its type, and the value itself when short.
fn describe(value: &DeValue<'_>) -> String {
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

    #[test]
    fn empty_document_gives_the_defaults() {
        let config = Config::parse("").unwrap();
        assert_eq!(config.points.answer_liked, 10);
        assert_eq!(config.caps.likes_received_per_day, 200);
        assert_eq!(config.badges.len(), 1);
    }

    #[test]
    fn every_error_is_reported_with_path_and_line() {
        let text = "[points]\nanswer-liked = \"lots\"\nbogus = 1\n\n[[badges]]\nid = \"x\"\nname = \"X\"\nlevel = \"platinum\"\ndescription = \"d\"\nwhen = { points = -5 }\n";
        let errors = Config::parse(text).unwrap_err();
        let found: Vec<(String, Option<u32>)> = errors.iter().map(|e| (e.path.clone(), e.line)).collect();
        assert!(found.contains(&("points.answer-liked".into(), Some(2))), "{errors:?}");
        assert!(found.contains(&("points.bogus".into(), Some(3))), "{errors:?}");
        assert!(found.contains(&("badges[0].level".into(), Some(8))), "{errors:?}");
        assert!(found.contains(&("badges[0].when.points".into(), Some(10))), "{errors:?}");
        assert_eq!(errors.len(), 4, "{errors:?}");
        let message = &errors.iter().find(|e| e.path == "points.answer-liked").unwrap().message;
        assert_eq!(message, "expected an integer from 0 to 1000000, found \"lots\"");
    }

    #[test]
    fn broken_toml_is_refused_with_its_line() {
        let errors = Config::parse("[points]\nanswer-liked = = 3\n").unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, Some(2));
    }
}
