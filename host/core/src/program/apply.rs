//! Applying a call's validated effects to the database, in the event's transaction.
//!
//! Points go to the ledger (one row per change, with the rule and reason; a row of 0 points says why something
//! earned nothing) and the running total; badges and tier
//! access are granted at most once and every grant or revoke that changes something is audited; nominations go to
//! the review queue (one pending nomination per member and tier); notices go to the moderators' list.

use rusqlite::{Connection, params};

use super::audit;
use cadre_model::{BadgeLevel, Declaration, Effect};

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
            Effect::AwardPoints { member, delta, rule, reason } => {
                conn.prepare_cached(
                    "INSERT INTO ledger (member_id, delta, event_id, rule, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![*member as i64, delta, origin.event_id, rule, reason, origin.at])?;
                // A line of 0 points only explains (a withheld like): no total to touch.
                if *delta == 0 {
                    continue;
                }
                conn.prepare_cached(
                    "INSERT INTO points (member_id, total) VALUES (?1, ?2) \
                     ON CONFLICT(member_id) DO UPDATE SET total = total + ?2",
                )?
                .execute(params![*member as i64, delta])?;
            }
            Effect::GrantBadge { member, badge: badge_id, reason } => {
                let badge = declaration.badges.iter().find(|b| &b.id == badge_id).expect("validated: declared badge");
                let inserted = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO badges (member_id, badge, name, level, description, granted_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?
                    .execute(params![
                        *member as i64,
                        badge.id,
                        badge.name,
                        level(badge.level),
                        badge.description,
                        origin.at
                    ])?;
                audit_change(conn, origin, inserted, "grant-badge", Some(*member), &badge.id, reason)?;
            }
            Effect::RevokeBadge { member, badge: badge_id, reason } => {
                let deleted = conn
                    .prepare_cached("DELETE FROM badges WHERE member_id = ?1 AND badge = ?2")?
                    .execute(params![*member as i64, badge_id])?;
                audit_change(conn, origin, deleted, "revoke-badge", Some(*member), badge_id, reason)?;
            }
            Effect::GrantAccess { member, tier, reason } => {
                let inserted = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, 'earned', ?3, ?4)",
                    )?
                    .execute(params![*member as i64, tier, origin.at, reason])?;
                audit_change(conn, origin, inserted, "grant-access", Some(*member), tier, reason)?;
            }
            Effect::RevokeAccess { member, tier, reason } => {
                let deleted = conn
                    .prepare_cached("DELETE FROM access WHERE member_id = ?1 AND tier = ?2")?
                    .execute(params![*member as i64, tier])?;
                audit_change(conn, origin, deleted, "revoke-access", Some(*member), tier, reason)?;
            }
            Effect::Nominate { member, tier, evidence } => {
                let evidence_json = serde_json::to_string(evidence).expect("evidence serializes");
                let inserted = conn
                    .prepare_cached(
                        "INSERT OR IGNORE INTO nominations (member_id, tier, evidence, status, created_at, event_id) \
                         VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
                    )?
                    .execute(params![*member as i64, tier, evidence_json, origin.at, origin.event_id])?;
                audit_change(conn, origin, inserted, "nominate", Some(*member), tier, &evidence.summary)?;
            }
            Effect::NotifyModerators { member, topic, message } => {
                conn.prepare_cached(
                    "INSERT INTO notices (member_id, topic, message, at, event_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![
                    member.map(|m| m as i64),
                    topic,
                    message,
                    origin.at,
                    origin.event_id
                ])?;
            }
        }
    }
    Ok(())
}
