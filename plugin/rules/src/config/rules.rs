//! `[[badges]]` and `[[tiers]]`: parsing each entry, then the checks that span entries (duplicate ids, references
//! to badges or tiers that do not exist, ladders whose thresholds do not increase with level).
//!
//! Entries that fail to parse still contribute their id (when it was readable), so that one broken badge does not
//! also produce a spurious "no such badge" error at every place that names it.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use toml::de::DeValue;

use super::reader::{Reader, Table, Value, join};
use super::{BadgeRule, Criteria, ExternalKind, Inactivity, MAX_DAYS, Measure, Mode, TierRule};
use crate::model::{Badge, BadgeLevel, Tier};

/// At most this many badges: each touched member's badges are checked on every event.
const MAX_BADGES: usize = 100;
/// At most this many tiers.
const MAX_TIERS: usize = 20;

/// Criteria with where each part was written, for later cross-checks.
#[derive(Default)]
pub(super) struct Spanned {
    criteria: Criteria,
    /// Offset of each measure's value (0 when absent).
    at: [usize; 6],
    /// Each required badge with its offset.
    badge_refs: Vec<(String, usize)>,
    path: String,
}

/// One `[[badges]]` entry.
pub(super) struct ParsedBadge {
    id: Option<(String, usize)>,
    /// The complete rule, when every field was valid.
    pub rule: BadgeRule,
    when: Spanned,
    path: String,
}

/// One `[[tiers]]` entry.
pub(super) struct ParsedTier {
    id: Option<(String, usize)>,
    /// The complete rule, when every field was valid.
    pub rule: TierRule,
    requires: Option<(String, usize)>,
    when: Spanned,
    path: String,
}

fn items<'a, 'i>(r: &mut Reader<'_>, root: &'a Table<'i>, key: &str) -> Option<&'a [Value<'i>]> {
    let value = root.get(key)?;
    match value.get_ref() {
        DeValue::Array(items) => Some(&items[..]),
        other => {
            let found = super::reader::describe(other);
            r.error(key, value.span().start, format!("expected an array of tables ([[{key}]]), found {found}"));
            None
        }
    }
}

fn as_table<'a, 'i>(r: &mut Reader<'_>, item: &'a Value<'i>, path: &str) -> Option<&'a Table<'i>> {
    match item.get_ref() {
        DeValue::Table(table) => Some(table),
        other => {
            let found = super::reader::describe(other);
            r.error(path, item.span().start, format!("expected a table, found {found}"));
            None
        }
    }
}

fn id_with_offset(r: &mut Reader<'_>, table: &Table<'_>, path: &str, offset: usize) -> Option<(String, usize)> {
    let id = r.id(table, "id", path, offset)?;
    Some((id, table.get("id").map_or(offset, |v| v.span().start)))
}

/// Parse `when = { ... }`: every measure key plus `badges = [...]`. `required` = at least one condition.
fn criteria(
    r: &mut Reader<'_>,
    table: &Table<'_>,
    path: &str,
    offset: usize,
    required: bool,
    declared: &[ExternalKind],
) -> Spanned {
    let when_path = join(path, "when");
    let mut out = Spanned { path: when_path.clone(), ..Spanned::default() };
    let Some(when) = r.table(Some(table), "when", &when_path) else {
        if required && table.get("when").is_none() {
            r.error(&when_path, offset, "missing (a badge needs at least one criterion)".to_owned());
        }
        return out;
    };
    let mut keys: Vec<&str> = Measure::ALL.iter().map(|m| m.key()).collect();
    keys.push("badges");
    keys.push("external");
    r.known_keys(when, &when_path, &keys);
    out.criteria.external = super::external::criteria(r, when, &when_path, declared);
    for measure in Measure::ALL {
        if let Some(value) = when.get(measure.key()) {
            out.at[measure as usize] = value.span().start;
            out.criteria.min[measure as usize] = r.int_value(value, &join(&when_path, measure.key()), 0, i64::MAX);
        }
    }
    out.badge_refs = r.id_list(when, "badges", &when_path);
    out.criteria.badges = out.badge_refs.iter().map(|(id, _)| id.clone()).collect();
    if when.iter().next().is_none() {
        r.error(&when_path, offset, "empty (name at least one criterion)".to_owned());
    }
    out
}

/// Every `[[badges]]` entry; the default ladder when the key is absent.
pub(super) fn badges(r: &mut Reader<'_>, root: &Table<'_>, declared: &[ExternalKind]) -> Vec<ParsedBadge> {
    let Some(items) = items(r, root, "badges") else {
        if root.get("badges").is_some() {
            return Vec::new();
        }
        return alloc::vec![default_badge()];
    };
    if items.len() > MAX_BADGES {
        r.error("badges", 0, format!("at most {MAX_BADGES} badges, found {}", items.len()));
    }
    let mut out: Vec<ParsedBadge> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("badges[{index}]");
        let offset = item.span().start;
        let Some(table) = as_table(r, item, &path) else {
            continue;
        };
        r.known_keys(table, &path, &["id", "name", "level", "description", "ladder", "can-be-lost", "when"]);
        let id = id_with_offset(r, table, &path, offset);
        let name = r.string(table, "name", &path, offset, 64);
        let description = r.string(table, "description", &path, offset, 256);
        let level = match r.string(table, "level", &path, offset, 16).as_deref() {
            Some("bronze") => Some(BadgeLevel::Bronze),
            Some("silver") => Some(BadgeLevel::Silver),
            Some("gold") => Some(BadgeLevel::Gold),
            Some(other) => {
                let at = table.get("level").map_or(offset, |v| v.span().start);
                r.error(
                    &join(&path, "level"),
                    at,
                    format!("expected \"bronze\", \"silver\" or \"gold\", found \"{other}\""),
                );
                None
            }
            None => None,
        };
        let ladder = r.optional_id(table, "ladder", &path);
        let can_be_lost = r.boolean(Some(table), "can-be-lost", &path, false);
        let when = criteria(r, table, &path, offset, true, declared);
        if let Some((dup, at)) = &id
            && out.iter().any(|b| b.id.as_ref().is_some_and(|(other, _)| other == dup))
        {
            r.error(&join(&path, "id"), *at, format!("duplicate badge id \"{dup}\""));
        }
        let rule = BadgeRule {
            badge: Badge {
                id: id.as_ref().map(|(id, _)| id.clone()).unwrap_or_default(),
                name: name.unwrap_or_default(),
                level: level.unwrap_or(BadgeLevel::Bronze),
                description: description.unwrap_or_default(),
            },
            ladder,
            can_be_lost,
            when: when.criteria.clone(),
        };
        out.push(ParsedBadge { id, rule, when, path });
    }
    out
}

fn default_badge() -> ParsedBadge {
    let mut when = Spanned::default();
    when.criteria.min[Measure::Points as usize] = Some(100);
    ParsedBadge {
        id: Some(("rising-star".to_owned(), 0)),
        rule: BadgeRule {
            badge: Badge {
                id: "rising-star".to_owned(),
                name: "Rising Star".to_owned(),
                level: BadgeLevel::Bronze,
                description: "Earned 100 points from other members' recognition".to_owned(),
            },
            ladder: None,
            can_be_lost: false,
            when: when.criteria.clone(),
        },
        when,
        path: "badges[0]".to_owned(),
    }
}

/// Every `[[tiers]]` entry (none by default: a tier needs a private forum the operator sets up).
pub(super) fn tiers(r: &mut Reader<'_>, root: &Table<'_>, declared: &[ExternalKind]) -> Vec<ParsedTier> {
    let Some(items) = items(r, root, "tiers") else {
        return Vec::new();
    };
    if items.len() > MAX_TIERS {
        r.error("tiers", 0, format!("at most {MAX_TIERS} tiers, found {}", items.len()));
    }
    let mut out: Vec<ParsedTier> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let path = format!("tiers[{index}]");
        let offset = item.span().start;
        let Some(table) = as_table(r, item, &path) else {
            continue;
        };
        let keys = &["id", "name", "description", "mode", "requires-tier", "when", "inactivity"];
        r.known_keys(table, &path, keys);
        let id = id_with_offset(r, table, &path, offset);
        let name = r.string(table, "name", &path, offset, 64);
        let description = r.string(table, "description", &path, offset, 512);
        let mode = match r.optional_string(table, "mode", &path, 16).as_deref() {
            None | Some("review") => Mode::Review,
            Some("auto") => Mode::Auto,
            Some(other) => {
                let at = table.get("mode").map_or(offset, |v| v.span().start);
                r.error(&join(&path, "mode"), at, format!("expected \"auto\" or \"review\", found \"{other}\""));
                Mode::Review
            }
        };
        let requires = r
            .optional_id(table, "requires-tier", &path)
            .map(|id| (id, table.get("requires-tier").map_or(offset, |v| v.span().start)));
        // A tier without `when` is invitation-only: nobody qualifies by numbers.
        let when = criteria(r, table, &path, offset, false, declared);
        let inactivity_path = join(&path, "inactivity");
        let t = r.table(Some(table), "inactivity", &inactivity_path);
        if let Some(inactivity) = t {
            r.known_keys(inactivity, &inactivity_path, &["inactive-days", "grace-days"]);
        }
        let inactivity = Inactivity {
            after_days: r.int(t, "inactive-days", &inactivity_path, 0, 0, MAX_DAYS),
            grace_days: r.int(t, "grace-days", &inactivity_path, 14, 0, MAX_DAYS),
        };
        if let Some((dup, at)) = &id
            && out.iter().any(|t| t.id.as_ref().is_some_and(|(other, _)| other == dup))
        {
            r.error(&join(&path, "id"), *at, format!("duplicate tier id \"{dup}\""));
        }
        let rule = TierRule {
            tier: Tier {
                id: id.as_ref().map(|(id, _)| id.clone()).unwrap_or_default(),
                name: name.unwrap_or_default(),
                description: description.unwrap_or_default(),
            },
            mode,
            after: requires.as_ref().map(|(id, _)| id.clone()),
            when: when.criteria.clone(),
            inactivity,
        };
        out.push(ParsedTier { id, rule, requires, when, path });
    }
    out
}

/// References to badges and tiers that do not exist, cycles of `requires-tier`, and ladders out of order.
pub(super) fn check_references(r: &mut Reader<'_>, badges: &[ParsedBadge], tiers: &[ParsedTier]) {
    let badge_ids: Vec<&str> = badges.iter().filter_map(|b| b.id.as_ref().map(|(id, _)| id.as_str())).collect();
    let tier_ids: Vec<&str> = tiers.iter().filter_map(|t| t.id.as_ref().map(|(id, _)| id.as_str())).collect();
    let check_badges = |r: &mut Reader<'_>, when: &Spanned, own: Option<&str>| {
        for (index, (id, at)) in when.badge_refs.iter().enumerate() {
            let path = format!("{}.badges[{index}]", when.path);
            if Some(id.as_str()) == own {
                r.error(&path, *at, format!("a badge cannot require itself (\"{id}\")"));
            } else if !badge_ids.contains(&id.as_str()) {
                r.error(&path, *at, format!("no badge \"{id}\" is declared in [[badges]]"));
            }
        }
    };
    for badge in badges {
        check_badges(r, &badge.when, badge.id.as_ref().map(|(id, _)| id.as_str()));
    }
    for tier in tiers {
        check_badges(r, &tier.when, None);
        let Some((required, at)) = &tier.requires else {
            continue;
        };
        let path = join(&tier.path, "requires-tier");
        if !tier_ids.contains(&required.as_str()) {
            r.error(&path, *at, format!("no tier \"{required}\" is declared in [[tiers]]"));
            continue;
        }
        // Follow the chain: a cycle would make every tier in it unreachable.
        let mut current = required.as_str();
        for _ in 0..=tiers.len() {
            if tier.id.as_ref().is_some_and(|(own, _)| own == current) {
                r.error(&path, *at, format!("\"{required}\" leads back to this tier (requires-tier forms a cycle)"));
                break;
            }
            match tiers.iter().find(|t| t.id.as_ref().is_some_and(|(id, _)| id == current)) {
                Some(next) => match &next.requires {
                    Some((id, _)) => current = id.as_str(),
                    None => break,
                },
                None => break,
            }
        }
    }
    check_ladders(r, badges);
}

/// Within a ladder, each level appears once and a higher level requires strictly more of everything a lower one
/// requires (a silver that is easier than its bronze would be granted first, which members read as a bug).
fn check_ladders(r: &mut Reader<'_>, badges: &[ParsedBadge]) {
    for (index, high) in badges.iter().enumerate() {
        let Some(ladder) = &high.rule.ladder else {
            continue;
        };
        for low in &badges[..index] {
            if low.rule.ladder.as_ref() != Some(ladder) {
                continue;
            }
            let (low, high) = match low.rule.badge.level.cmp(&high.rule.badge.level) {
                core::cmp::Ordering::Less => (low, high),
                core::cmp::Ordering::Greater => (high, low),
                core::cmp::Ordering::Equal => {
                    let level = level_name(high.rule.badge.level);
                    let path = join(&high.path, "level");
                    let message =
                        format!("ladder \"{ladder}\" already has a {level} badge (\"{}\")", low.rule.badge.id);
                    r.error(&path, high.id.as_ref().map_or(0, |(_, at)| *at), message);
                    continue;
                }
            };
            for measure in Measure::ALL {
                let Some(low_min) = low.rule.when.get(measure) else {
                    continue;
                };
                let low_level = level_name(low.rule.badge.level);
                let path = join(&high.when.path, measure.key());
                match high.rule.when.get(measure) {
                    Some(high_min) if high_min > low_min => {}
                    Some(high_min) => {
                        let at = high.when.at[measure as usize];
                        let message = format!(
                            "{high_min} must be greater than {low_min}, what the {low_level} badge \"{}\" in ladder \"{ladder}\" requires",
                            low.rule.badge.id
                        );
                        r.error(&path, at, message);
                    }
                    None => {
                        let at = high.id.as_ref().map_or(0, |(_, at)| *at);
                        let message = format!(
                            "missing: the {low_level} badge \"{}\" in ladder \"{ladder}\" requires {} ≥ {low_min}, so this one must require more",
                            low.rule.badge.id,
                            measure.key()
                        );
                        r.error(&path, at, message);
                    }
                }
            }
        }
    }
}

fn level_name(level: BadgeLevel) -> &'static str {
    match level {
        BadgeLevel::Bronze => "bronze",
        BadgeLevel::Silver => "silver",
        BadgeLevel::Gold => "gold",
    }
}
