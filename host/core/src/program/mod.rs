//! What the program's decisions become in the forum: effects applied to the database (ledger, points, badges,
//! tier access, review queue, notices), moderators' decisions, and the audit log of all of it.
//!
//! Owns the tables `ledger`, `points`, `badges`, `access`, `nominations`, `notices`, `audit` and `kv`. Does not own
//! when anything happens: the event pipeline (`events`) calls in here inside the event's transaction.

pub mod apply;
pub mod moderation;
pub mod outbox;
pub mod panel_pages;
pub mod reports;
pub mod rows;
pub mod store_cache;

use rusqlite::{Connection, params};

/// Write one audit row. (One argument per column of the row: a struct would only rename them.)
#[allow(clippy::too_many_arguments)]
pub fn audit(
    conn: &Connection,
    at: i64,
    actor: &str,
    action: &str,
    member: Option<u64>,
    subject: &str,
    reason: &str,
    event_id: Option<i64>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, member_id, subject, reason, event_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![at, actor, action, member.map(|m| m as i64), subject, reason, event_id])?;
    Ok(())
}
