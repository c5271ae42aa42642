//! The program's part of a moderator's action — tier access and the review queue — shared by the live action and
//! by recomputing history. (The program hears of the action as an event; these rows are the host's record of it.)

use rusqlite::{Connection, params};

use crate::error::ForumError;
use cadre_model::ModeratorAction;

/// How the audit log names a moderator action.
pub fn moderator_action_name(action: &ModeratorAction) -> &'static str {
    match action {
        ModeratorAction::MemberAdded(_) => "member-added",
        ModeratorAction::MemberRemoved(_) => "member-removed",
        ModeratorAction::NominationApproved(_) => "nomination-approved",
        ModeratorAction::NominationRejected(_) => "nomination-rejected",
    }
}

/// The host's part of a moderator action — tier access and the review queue — shared by the live action and
/// by recomputing history. Returns how many rows it changed (0: the action changed nothing).
pub fn apply_moderator_action(conn: &Connection, action: &ModeratorAction) -> Result<usize, ForumError> {
    let change = action.change();
    let (member, tier, at, reason) = (change.member as i64, change.tier.as_str(), change.at, change.reason.as_str());
    let changed = match action {
        ModeratorAction::MemberAdded(_) => conn.execute(
            "INSERT OR IGNORE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, 'invited', ?3, ?4)",
            params![member, tier, at, reason],
        )?,
        ModeratorAction::MemberRemoved(_) => {
            conn.execute("DELETE FROM access WHERE member_id = ?1 AND tier = ?2", params![member, tier])?
        }
        ModeratorAction::NominationApproved(_) | ModeratorAction::NominationRejected(_) => {
            let approve = matches!(action, ModeratorAction::NominationApproved(_));
            let decided = conn.execute(
                "UPDATE nominations SET status = ?1, decided_at = ?2, decided_by = ?3, reason = ?4 \
                 WHERE member_id = ?5 AND tier = ?6 AND status = 'pending'",
                params![if approve { "approved" } else { "rejected" }, at, change.moderator as i64, reason, member, tier],
            )?;
            if approve && decided > 0 {
                conn.execute(
                    "INSERT OR REPLACE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, 'approved', ?3, ?4)",
                    params![member, tier, at, reason],
                )?;
            }
            decided
        }
    };
    Ok(changed)
}

/// The member and tier of a nomination a moderator may still decide (refusing an unknown or decided one).
pub fn pending_nomination(conn: &Connection, nomination: i64) -> Result<(u64, String), ForumError> {
    use rusqlite::OptionalExtension;
    let (member, tier, status): (i64, String, String) = conn
        .query_row("SELECT member_id, tier, status FROM nominations WHERE id = ?1", params![nomination], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("nomination {nomination}")))?;
    if status != "pending" {
        return Err(ForumError::Invalid(format!("nomination {nomination} was already {status}")));
    }
    Ok((member as u64, tier))
}
