//! Applying a call's validated effects to the database, in the event's transaction.
//!
//! Points go to the ledger (one row per change, with the rule and reason; a row of 0 points says why something
//! earned nothing) and the running total; badges and tier
//! access are granted at most once and every grant or revoke that changes something is audited; nominations go to
//! the review queue (one pending nomination per member and tier); notices go to the moderators' list.

use rusqlite::{Connection, params};

use super::audit;
use crate::runtime::bindings::{BadgeLevel, Declaration, Effect};

/// Where the effects come from, for the ledger and the audit log.
pub struct Origin<'a> {
    /// The event that caused them.
    pub event_id: i64,
    /// When it happened.
    pub at: i64,
    /// Who decided: `program cadre-superuser 0.1.0`.
    pub actor: &'a str,
}

fn level(level: BadgeLevel) -> &'static str {
    match level {
        BadgeLevel::Bronze => "bronze",
        BadgeLevel::Silver => "silver",
        BadgeLevel::Gold => "gold",
    }
}

/// Audit a grant or revoke that changed something (`changed` rows); a no-op grant or revoke is not audited.
fn audit_change(
    conn: &Connection,
    origin: &Origin<'_>,
    changed: usize,
    action: &str,
    member: Option<u64>,
    subject: &str,
    reason: &str,
) -> rusqlite::Result<()> {
    if changed == 0 {
        return Ok(());
    }
    audit(conn, origin.at, origin.actor, action, member, subject, reason, Some(origin.event_id))
}

/// Apply every effect (already validated against `declaration` and the limits).
pub fn apply(
    conn: &Connection,
    origin: &Origin<'_>,
    declaration: &Declaration,
    effects: &[Effect],
) -> rusqlite::Result<()> {
    for effect in effects {
        match effect {
            Effect::AwardPoints(award) => {
                conn.prepare_cached(
                    "INSERT INTO ledger (member_id, delta, event_id, rule, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    award.member as i64,
                    award.delta,
                    origin.event_id,
                    award.rule,
                    award.reason,
                    origin.at
                ])?;
                // A line of 0 points only explains (a withheld like): no total to touch.
                if award.delta == 0 {
                    continue;
                }
                conn.prepare_cached(
                    "INSERT INTO points (member_id, total) VALUES (?1, ?2) \
                     ON CONFLICT(member_id) DO UPDATE SET total = total + ?2",
                )?
                .execute(params![award.member as i64, award.delta])?;
            }
            Effect::GrantBadge(change) => {
                let badge =
                    declaration.badges.iter().find(|b| b.id == change.badge).expect("validated: declared badge");
                let inserted = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO badges (member_id, badge, name, level, description, granted_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![
                        change.member as i64,
                        badge.id,
                        badge.name,
                        level(badge.level),
                        badge.description,
                        origin.at
                    ])?;
                audit_change(conn, origin, inserted, "grant-badge", Some(change.member), &badge.id, &change.reason)?;
            }
            Effect::RevokeBadge(change) => {
                let deleted = conn
                    .prepare_cached("DELETE FROM badges WHERE member_id = ?1 AND badge = ?2")?
                    .execute(params![change.member as i64, change.badge])?;
                audit_change(
                    conn,
                    origin,
                    deleted,
                    "revoke-badge",
                    Some(change.member),
                    &change.badge,
                    &change.reason,
                )?;
            }
            Effect::GrantAccess(change) => {
                let inserted = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, 'earned', ?3, ?4)",
                    )?
                    .execute(params![change.member as i64, change.tier, origin.at, change.reason])?;
                audit_change(
                    conn,
                    origin,
                    inserted,
                    "grant-access",
                    Some(change.member),
                    &change.tier,
                    &change.reason,
                )?;
            }
            Effect::RevokeAccess(change) => {
                let deleted = conn
                    .prepare_cached("DELETE FROM access WHERE member_id = ?1 AND tier = ?2")?
                    .execute(params![change.member as i64, change.tier])?;
                audit_change(
                    conn,
                    origin,
                    deleted,
                    "revoke-access",
                    Some(change.member),
                    &change.tier,
                    &change.reason,
                )?;
            }
            Effect::Nominate(nomination) => {
                let evidence = serde_json::to_string(&nomination.evidence).expect("evidence serializes");
                let inserted = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO nominations (member_id, tier, evidence, status, created_at, event_id) \
                         VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
                    )?
                    .execute(params![
                        nomination.member as i64,
                        nomination.tier,
                        evidence,
                        origin.at,
                        origin.event_id
                    ])?;
                audit_change(
                    conn,
                    origin,
                    inserted,
                    "nominate",
                    Some(nomination.member),
                    &nomination.tier,
                    &nomination.evidence.summary,
                )?;
            }
            Effect::NotifyModerators(notice) => {
                conn.prepare_cached(
                    "INSERT INTO notices (member_id, topic, message, at, event_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    notice.member.map(|m| m as i64),
                    notice.topic,
                    notice.message,
                    origin.at,
                    origin.event_id
                ])?;
            }
        }
    }
    Ok(())
}
