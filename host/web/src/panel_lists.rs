//! The moderator panel's long lists, a page at a time (keyset on the row id, links to newer and older pages), and
//! members named by name wherever the panel lists them: the audit log (everyone's, or one member's), a member's
//! ledger, notices and write-back failures.
//!
//! Owns the page query parameters, the pager and the name lookup; the paged queries are
//! `cadre_core::program::panel_pages`.

use std::collections::HashMap;

use maud::{Markup, html};
use rusqlite::OptionalExtension;
use serde::Deserialize;

use cadre_core::program::panel_pages::Keyset;
use cadre_core::program::reports::AuditRow;

use super::html::date_time;

/// Rows on one page of a panel list.
pub const PANEL_PAGE: usize = 50;

/// Nominations on a page of the review queue (each shows its evidence and a form, so fewer than other lists).
pub const QUEUE_PAGE: usize = 20;

/// A panel list's query: `?before=ID` (older rows) or `?after=ID` (newer rows); neither: the newest. `member`
/// filters the audit log to one member.
#[derive(Debug, Default, Deserialize)]
pub struct PanelQuery {
    /// Rows older than this id.
    #[serde(default)]
    pub before: Option<i64>,
    /// Rows newer than this id.
    #[serde(default)]
    pub after: Option<i64>,
    /// The audit log of one member (name or `#id`).
    #[serde(default)]
    pub member: Option<String>,
}

impl PanelQuery {
    /// Where the page starts.
    pub fn keyset(&self) -> Keyset {
        match (self.before, self.after) {
            (Some(before), _) => Keyset::Before(before),
            (None, Some(after)) => Keyset::After(after),
            (None, None) => Keyset::Newest,
        }
    }
}

/// "← Newer" and "Older →" under a list; `base` is the path with its other parameters (`/mod/audit?`).
pub fn pager(base: &str, newer: Option<i64>, older: Option<i64>) -> Markup {
    html! {
        @if newer.is_some() || older.is_some() {
            nav.pager.pager-mod aria-label="Pages" {
                @if let Some(id) = newer { a.newer rel="prev" href={ (base) "after=" (id) } { "← Newer" } }
                @if let Some(id) = older { a.older rel="next" href={ (base) "before=" (id) } { "Older →" } }
            }
        }
    }
}

/// "← Earlier" and "Later →" under the review queue (oldest first, unlike the other lists).
pub fn queue_pager(earlier: Option<i64>, later: Option<i64>) -> Markup {
    html! {
        @if earlier.is_some() || later.is_some() {
            nav.pager.pager-mod aria-label="Pages" {
                @if let Some(id) = earlier { a.newer rel="prev" href={ "/mod/queue?before=" (id) } { "← Earlier" } }
                @if let Some(id) = later { a.older rel="next" href={ "/mod/queue?after=" (id) } { "Later →" } }
            }
        }
    }
}

/// The names of these members, by id (one query).
pub fn names(
    conn: &rusqlite::Connection,
    ids: impl IntoIterator<Item = u64>,
) -> rusqlite::Result<HashMap<u64, String>> {
    let mut statement = conn.prepare_cached("SELECT name FROM members WHERE id = ?1")?;
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(&id) {
            continue;
        }
        if let Some(name) = statement.query_row([id as i64], |row| row.get::<_, String>(0)).optional()? {
            names.insert(id, name);
        }
    }
    Ok(names)
}

/// A member as the panel links them: their name (the id only if the member is gone).
pub fn member_link(names: &HashMap<u64, String>, id: u64) -> Markup {
    html! {
        a href={ "/mod/members/%23" (id) } {
            @if let Some(name) = names.get(&id) { (name) } @else { "#" (id) }
        }
    }
}

/// The audit table, with members by name.
pub fn audit_table(rows: &[AuditRow], names: &HashMap<u64, String>) -> Markup {
    html! {
        table.audit {
            tr { th { "When" } th { "Who" } th { "What" } th { "Member" } th { "Subject" } th { "Why" } }
            @for a in rows {
                tr { td { (date_time(a.at)) } td { (a.actor) } td { (a.action) }
                     td { @if let Some(m) = a.member_id { (member_link(names, m)) } }
                     td { (a.subject) } td { (a.reason) } }
            }
        }
    }
}

/// A nomination's evidence summary with the member named: the program writes `member 4 qualifies …` (it knows
/// ids, not names); moderators read `dave qualifies …`.
pub fn named_summary(summary: &str, member: u64, name: &str) -> String {
    let prefix = format!("member {member} ");
    match summary.strip_prefix(&prefix) {
        Some(rest) => format!("{name} {rest}"),
        None => summary.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::named_summary;

    #[test]
    fn evidence_names_the_member_instead_of_their_id() {
        assert_eq!(
            named_summary("member 4 qualifies for Insiders: 120 points", 4, "dave"),
            "dave qualifies for Insiders: 120 points"
        );
        assert_eq!(named_summary("member 40 qualifies", 4, "dave"), "member 40 qualifies", "only the member's own id");
    }
}
