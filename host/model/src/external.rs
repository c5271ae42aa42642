//! Events from outside the forum (contract 0.2.0's `external-event`): a CRM, a learning platform or an event tool
//! reports that something happened to a member, and the bounds every such event must keep.
//!
//! Owns: [`ExternalEvent`], its attributes, and [`ExternalEvent::check`], the one validation every way in (JSON
//! Lines ingest, `cadre event`, the HTTP endpoint) and the host's recording use, so a program only ever sees
//! well-formed events. Does not own: deduplication (the host's event log, by source and external id) or what an
//! event is worth (the program's configuration).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use crate::{MemberId, Timestamp};

/// Longest `kind`, in bytes: room for a domain and three segments, short enough to use as a settings key.
pub const MAX_KIND_BYTES: usize = 64;
/// Longest `source`, in bytes.
pub const MAX_SOURCE_BYTES: usize = 64;
/// Longest `external_id`, in bytes: a UUID, a URL-safe hash or a CRM's record id fits with room to spare.
pub const MAX_EXTERNAL_ID_BYTES: usize = 128;
/// Most attributes on one event: enough for an exam's name, score and level, small enough to keep events cheap.
pub const MAX_ATTRIBUTES: usize = 16;
/// Longest attribute name, in bytes.
pub const MAX_ATTRIBUTE_NAME_BYTES: usize = 32;
/// Longest text attribute value, in bytes (a title or a product name, not a document).
pub const MAX_ATTRIBUTE_TEXT_BYTES: usize = 256;

/// The value of one attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum AttributeValue {
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// Yes or no.
    Boolean(bool),
}

/// One named value an external event carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: AttributeValue,
}

/// Something that happened to a member outside the forum.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ExternalEvent {
    /// What happened, e.g. `certification.passed` or `org.example/thing`.
    pub kind: String,
    /// The member it concerns.
    pub member: MemberId,
    /// When it happened.
    pub at: Timestamp,
    /// The reporting system, if any.
    pub source: Option<String>,
    /// The reporting system's id for it, if any.
    pub external_id: Option<String>,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

impl ExternalEvent {
    /// Every problem with the event's bounds and spelling, each naming its field; empty when it is well-formed.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(problem) = check_kind(&self.kind) {
            problems.push(format!("kind: {problem}"));
        }
        if let Some(source) = &self.source {
            if source.is_empty() || source.len() > MAX_SOURCE_BYTES {
                problems.push(format!("source: must be 1 to {MAX_SOURCE_BYTES} bytes"));
            } else if !source.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)) {
                problems.push(format!("source: {source:?} may hold only lowercase letters, digits, `.`, `-` and `_`"));
            }
        }
        if let Some(id) = &self.external_id {
            if id.is_empty() || id.len() > MAX_EXTERNAL_ID_BYTES {
                problems.push(format!("external_id: must be 1 to {MAX_EXTERNAL_ID_BYTES} bytes"));
            } else if id.chars().any(char::is_control) {
                problems.push("external_id: may not hold control characters".into());
            }
        }
        if self.attributes.len() > MAX_ATTRIBUTES {
            problems.push(format!("attributes: {} given, at most {MAX_ATTRIBUTES}", self.attributes.len()));
        }
        for (i, attribute) in self.attributes.iter().enumerate() {
            let name = &attribute.name;
            let segment_ok = !name.is_empty()
                && name.len() <= MAX_ATTRIBUTE_NAME_BYTES
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
            if !segment_ok {
                problems.push(format!(
                    "attributes[{i}]: name {name:?} must be 1 to {MAX_ATTRIBUTE_NAME_BYTES} lowercase letters, digits, `-` or `_`"
                ));
            }
            if self.attributes[..i].iter().any(|a| &a.name == name) {
                problems.push(format!("attributes[{i}]: {name:?} is given twice"));
            }
            if let AttributeValue::Text(text) = &attribute.value
                && text.len() > MAX_ATTRIBUTE_TEXT_BYTES
            {
                problems.push(format!(
                    "attributes[{i}]: {name:?} is {} bytes long, at most {MAX_ATTRIBUTE_TEXT_BYTES}",
                    text.len()
                ));
            }
        }
        problems
    }

    /// The attribute called `name`, if the event has one.
    pub fn attribute(&self, name: &str) -> Option<&AttributeValue> {
        self.attributes.iter().find(|a| a.name == name).map(|a| &a.value)
    }
}

/// Check a kind's spelling: `[domain/]segment(.segment)*`, each segment lowercase letters, digits, `-`, `_`.
pub fn check_kind(kind: &str) -> Result<(), String> {
    if kind.is_empty() || kind.len() > MAX_KIND_BYTES {
        return Err(format!("must be 1 to {MAX_KIND_BYTES} bytes"));
    }
    let (domain, name) = match kind.split_once('/') {
        Some((domain, name)) => (Some(domain), name),
        None => (None, kind),
    };
    let word = |s: &str, extra: &[u8]| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || extra.contains(&b))
    };
    if let Some(domain) = domain
        && (!word(domain, b".-") || domain.starts_with('.') || domain.ends_with('.'))
    {
        return Err(format!("{kind:?}: the domain before `/` may hold only lowercase letters, digits, `.` and `-`"));
    }
    if !name.split('.').all(|segment| word(segment, b"-_")) {
        return Err(format!(
            "{kind:?} must be dot-separated segments of lowercase letters, digits, `-` and `_` (e.g. `certification.passed`)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn event(kind: &str) -> ExternalEvent {
        ExternalEvent {
            kind: kind.to_string(),
            member: 1,
            at: 0,
            source: Some("lms".into()),
            external_id: Some("exam-1".into()),
            attributes: vec![Attribute { name: "score".into(), value: AttributeValue::Integer(87) }],
        }
    }

    #[test]
    fn well_formed_kinds_pass_and_misspelt_ones_are_named() {
        for kind in ["certification.passed", "event.attended", "org.example/thing", "referral.made", "nps_9"] {
            assert!(event(kind).check().is_empty(), "{kind}");
        }
        for kind in ["", "Certification.Passed", "a..b", ".a", "a b", "/a", "org./a", "a/b/c"] {
            let problems = event(kind).check();
            assert!(problems.len() == 1 && problems[0].starts_with("kind: "), "{kind}: {problems:?}");
        }
    }

    #[test]
    fn oversize_and_repeated_attributes_are_refused_naming_each() {
        let mut e = event("event.attended");
        e.attributes =
            (0..17).map(|i| Attribute { name: format!("a{i}"), value: AttributeValue::Boolean(true) }).collect();
        e.attributes[1].name = "a0".into();
        e.attributes[2].value = AttributeValue::Text("x".repeat(257));
        let problems = e.check();
        assert!(problems.iter().any(|p| p.contains("17 given, at most 16")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("attributes[1]") && p.contains("twice")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("attributes[2]") && p.contains("257 bytes")), "{problems:?}");
    }
}
