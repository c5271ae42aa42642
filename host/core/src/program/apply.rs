//! Applying a call's validated effects to the database, in the event's transaction.
//!
//! Points go to the ledger (one row per change, with the rule and reason; a row of 0 points says why something
//! earned nothing) and the running total; badges and tier
//! access are granted at most once and every grant or revoke that changes something is audited; nominations go to
//! the review queue (one pending nomination per member and tier); notices go to the moderators' list. The rules are
//! written once ([`apply_to`]) over the row operations of [`super::rows`], for the live database and for a recompute
//! in memory alike.

use rusqlite::Connection;

use super::rows::{AccessSource, ProgramRows, SqlRows};
use cadre_model::{Declaration, Effect};

/// Where the effects come from, for the ledger and the audit log.
pub struct Origin<'a> {
    /// The event that caused them.
    pub event_id: i64,
    /// When it happened.
    pub at: i64,
    /// Who decided: `program cadre-superuser 0.1.0`.
    pub actor: &'a str,
}

/// Apply every effect (already validated against `declaration` and the limits) to the live database, in the event's
/// transaction.
pub fn apply(
    conn: &Connection,
    origin: &Origin<'_>,
    declaration: &Declaration,
    effects: &[Effect],
) -> rusqlite::Result<()> {
    apply_to(&mut SqlRows(conn), origin, declaration, effects)
}

/// The rules of [`apply`], over any [`ProgramRows`]: the live database, or the in-memory projections of a recompute
/// (which therefore cannot apply an effect differently).
pub fn apply_to<R: ProgramRows>(
    rows: &mut R,
    origin: &Origin<'_>,
    declaration: &Declaration,
    effects: &[Effect],
) -> Result<(), R::Error> {
    // Audit a grant or revoke that changed something; a no-op grant or revoke is not audited.
    let audit = |rows: &mut R, changed: bool, action: &str, member: u64, subject: &str, reason: &str| {
        if !changed {
            return Ok(());
        }
        rows.audit(origin.at, origin.actor, action, Some(member), subject, reason, Some(origin.event_id))
    };
    for effect in effects {
        match effect {
            Effect::AwardPoints { member, delta, rule, reason } => {
                rows.ledger_line(*member, *delta, origin.event_id, rule, reason, origin.at)?;
                // A line of 0 points only explains (a withheld like): no total to touch.
                if *delta != 0 {
                    rows.add_to_total(*member, *delta)?;
                }
            }
            Effect::GrantBadge { member, badge: badge_id, reason } => {
                let badge = declaration.badges.iter().find(|b| &b.id == badge_id).expect("validated: declared badge");
                let inserted = rows.insert_badge(*member, badge, origin.at)?;
                audit(rows, inserted, "grant-badge", *member, &badge.id, reason)?;
            }
            Effect::RevokeBadge { member, badge, reason } => {
                let deleted = rows.delete_badge(*member, badge)?;
                audit(rows, deleted, "revoke-badge", *member, badge, reason)?;
            }
            Effect::GrantAccess { member, tier, reason } => {
                let inserted = rows.insert_access(*member, tier, AccessSource::Earned, origin.at, reason)?;
                audit(rows, inserted, "grant-access", *member, tier, reason)?;
            }
            Effect::RevokeAccess { member, tier, reason } => {
                let deleted = rows.delete_access(*member, tier)?;
                audit(rows, deleted, "revoke-access", *member, tier, reason)?;
            }
            Effect::Nominate { member, tier, evidence } => {
                let evidence_json = serde_json::to_string(evidence).expect("evidence serializes");
                let inserted = rows.insert_pending(*member, tier, &evidence_json, origin.at, origin.event_id)?;
                audit(rows, inserted, "nominate", *member, tier, &evidence.summary)?;
            }
            Effect::NotifyModerators { member, topic, message } => {
                rows.notice(*member, topic, message, origin.at, origin.event_id)?;
            }
        }
    }
    Ok(())
}
