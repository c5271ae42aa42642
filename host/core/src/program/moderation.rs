//! The program's part of a moderator's action — tier access and the review queue — shared by the live action and
//! by recomputing history. (The program hears of the action as an event; these rows are the host's record of it.)

use rusqlite::{Connection, params};

use super::rows::{AccessSource, ProgramRows, SqlRows};

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
    Ok(usize::from(moderator_action_to(&mut SqlRows(conn), action)?))
}

/// The rules of [`apply_moderator_action`] over any [`ProgramRows`] (the live database, or a recompute's projections
/// in memory); true when the action changed something.
pub fn moderator_action_to<R: ProgramRows>(rows: &mut R, action: &ModeratorAction) -> Result<bool, R::Error> {
    let change = action.change();
    let (member, tier, at, reason) = (change.member, change.tier.as_str(), change.at, change.reason.as_str());
    match action {
        ModeratorAction::MemberAdded(_) => rows.insert_access(member, tier, AccessSource::Invited, at, reason),
        ModeratorAction::MemberRemoved(_) => rows.delete_access(member, tier),
        ModeratorAction::NominationApproved(_) | ModeratorAction::NominationRejected(_) => {
            let approve = matches!(action, ModeratorAction::NominationApproved(_));
            let decided = rows.decide_pending(member, tier, approve, at, change.moderator, reason)?;
            if approve && decided {
                rows.replace_access(member, tier, AccessSource::Approved, at, reason)?;
            }
            Ok(decided)
        }
    }
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
