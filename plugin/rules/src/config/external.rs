//! `[[external]]`: the external event kinds the program knows (contract 0.2.0), what each is worth, and the
//! `when.external` criteria that count them.
//!
//! Owns parsing and checking both: a kind must be spelt as the contract says (`certification.passed`,
//! `org.example/thing`) and declared once; a criterion may only name a declared kind, and a typo is reported with
//! its path and line and the kinds that are declared, the same way an unknown setting is. Does not own what a
//! kind does at event time (`crate::external`).

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use toml::de::DeValue;

use super::reader::{Reader, Table, join};
use super::{MAX_DAYS, MAX_POINTS};

/// At most this many external kinds: each is a store record per member that criteria may read.
const MAX_KINDS: usize = 32;
/// The largest count a windowed criterion may ask for: the program keeps this many recent times per kind.
pub const MAX_WINDOWED_COUNT: i64 = 32;

/// One external kind and what it is worth (`[[external]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalKind {
    /// The kind, as events carry it.
    pub kind: String,
    /// A label for moderators (`"Certifications passed"`).
    pub name: String,
    /// Points per event of this kind.
    pub points: i64,
    /// Most points a member earns from this kind per UTC day (0 = no cap).
    pub max_points_per_day: i64,
}

/// A criterion on external events: at least `count` events of `kind`, within the last `within_days` days if set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalReq {
    /// The kind.
    pub kind: String,
    /// How many.
    pub count: i64,
    /// Only events this recent count (days before the event being handled).
    pub within_days: Option<i64>,
}

/// Every `[[external]]` entry.
pub(super) fn kinds(r: &mut Reader<'_>, root: &Table<'_>) -> Vec<ExternalKind> {
    let mut out: Vec<ExternalKind> = Vec::new();
    let Some(value) = root.get("external") else {
        return out;
    };
    let DeValue::Array(items) = value.get_ref() else {
        let found = super::reader::describe(value.get_ref());
        r.error("external", value.span().start, format!("expected an array of tables ([[external]]), found {found}"));
        return out;
    };
    if items.len() > MAX_KINDS {
        r.error("external", value.span().start, format!("at most {MAX_KINDS} external kinds, found {}", items.len()));
    }
    for (index, item) in items.iter().enumerate() {
        let path = format!("external[{index}]");
        let offset = item.span().start;
        let DeValue::Table(table) = item.get_ref() else {
            r.error(&path, offset, "expected a table".to_owned());
            continue;
        };
        r.known_keys(table, &path, &["kind", "name", "points", "max-points-per-day"]);
        let kind = r.string(table, "kind", &path, offset, cadre_model::MAX_KIND_BYTES);
        let at = table.get("kind").map_or(offset, |v| v.span().start);
        let kind = kind.and_then(|kind| match cadre_model::check_kind(&kind) {
            Ok(()) => Some(kind),
            Err(problem) => {
                r.error(&join(&path, "kind"), at, problem);
                None
            }
        });
        if let Some(kind) = &kind
            && out.iter().any(|k| &k.kind == kind)
        {
            r.error(&join(&path, "kind"), at, format!("duplicate external kind \"{kind}\""));
        }
        let name = r.optional_string(table, "name", &path, 64);
        let points = r.int(Some(table), "points", &path, 0, 0, MAX_POINTS);
        let max_points_per_day = r.int(Some(table), "max-points-per-day", &path, 0, 0, MAX_POINTS);
        if let Some(kind) = kind {
            let name = name.unwrap_or_else(|| kind.clone());
            out.push(ExternalKind { kind, name, points, max_points_per_day });
        }
    }
    out
}

/// `when.external = { "kind" = 3, "other.kind" = { count = 1, within-days = 730 } }`, each kind checked against
/// the declared ones.
pub(super) fn criteria(
    r: &mut Reader<'_>,
    when: &Table<'_>,
    when_path: &str,
    declared: &[ExternalKind],
) -> Vec<ExternalReq> {
    let mut out = Vec::new();
    let path = join(when_path, "external");
    let Some(table) = r.table(Some(when), "external", &path) else {
        return out;
    };
    for (key, value) in table.iter() {
        let kind: &str = key.get_ref().as_ref();
        let item_path = format!("{path}.\"{kind}\"");
        if !declared.iter().any(|k| k.kind == kind) {
            let known: Vec<&str> = declared.iter().map(|k| k.kind.as_str()).collect();
            let expected = if known.is_empty() {
                "none is declared: add an [[external]] entry".to_owned()
            } else {
                format!("expected one of: {}", known.join(", "))
            };
            r.error(&item_path, key.span().start, format!("unknown external kind ({expected})"));
            continue;
        }
        let (count, within_days) = match value.get_ref() {
            DeValue::Table(spec) => {
                r.known_keys(spec, &item_path, &["count", "within-days"]);
                let within =
                    spec.get("within-days").and_then(|v| r.int_value(v, &join(&item_path, "within-days"), 1, MAX_DAYS));
                let max = if within.is_some() { MAX_WINDOWED_COUNT } else { i64::MAX };
                let count = r.int(Some(spec), "count", &item_path, 1, 1, max);
                (count, within)
            }
            _ => match r.int_value(value, &item_path, 1, i64::MAX) {
                Some(count) => (count, None),
                None => continue,
            },
        };
        out.push(ExternalReq { kind: kind.to_owned(), count, within_days });
    }
    out
}
