//! The write-back switch over the outbox (schema version 6): the one public way to turn the mirroring of grants to
//! another platform on or off, and to see what is queued. Triggers in the schema write the rows; adapters (the
//! Discourse one) drain them. Owns only the switch and its read-outs: what a row means on the other platform, and
//! how it is sent, is the adapter's business.

use rusqlite::params;

use crate::{Forum, ForumError};

/// A change the adapter gave up sending, with why (for the moderators' status page).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OutboxFailure {
    /// The row (the order changes happened in).
    pub id: i64,
    /// `grant-badge`, `revoke-badge`, `grant-access` or `revoke-access`.
    pub change: String,
    /// Whose badge or access.
    pub member_id: u64,
    /// The badge or tier.
    pub subject: String,
    /// How many times it was tried.
    pub attempts: i64,
    /// The last error the other platform answered.
    pub last_error: Option<String>,
}

/// How many outbox rows are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    /// Waiting to be sent (including those backing off after an error).
    pub pending: u64,
    /// Sent and confirmed.
    pub done: u64,
    /// Given up on (a moderator can retry them).
    pub failed: u64,
}

impl Forum {
    /// Whether write-back is on (off until a moderator turns it on).
    pub fn write_back_enabled(&self) -> Result<bool, ForumError> {
        Ok(self.conn.query_row("SELECT enabled FROM outbox_switch", [], |row| row.get(0))?)
    }

    /// Turn write-back on or off. Turning it on queues the current state once — every badge and tier access the
    /// forum holds now, as rows marked `quiet` — in the same transaction that flips the switch, so that nothing
    /// granted before (an imported history) is lost and nothing is queued twice. Later grants and revokes are queued
    /// by the schema's triggers as they happen. Turning it off keeps what is queued (the adapter stops sending).
    /// Returns how many rows were queued.
    pub fn set_write_back(&mut self, enabled: bool, at: i64) -> Result<usize, ForumError> {
        self.batch(|forum| {
            let was: bool = forum.conn.query_row("SELECT enabled FROM outbox_switch", [], |row| row.get(0))?;
            if was == enabled {
                return Ok(0);
            }
            forum.conn.execute("UPDATE outbox_switch SET enabled = ?1", params![enabled])?;
            if !enabled {
                return Ok(0);
            }
            let badges = forum.conn.execute(
                "INSERT INTO outbox (change, member_id, subject, at, quiet) \
                 SELECT 'grant-badge', member_id, badge, ?1, 1 FROM badges ORDER BY granted_at, member_id",
                params![at],
            )?;
            let access = forum.conn.execute(
                "INSERT INTO outbox (change, member_id, subject, at, quiet) \
                 SELECT 'grant-access', member_id, tier, ?1, 1 FROM access ORDER BY granted_at, member_id",
                params![at],
            )?;
            Ok(badges + access)
        })
    }

    /// How many outbox rows are pending, done and failed.
    pub fn outbox_counts(&self) -> Result<OutboxCounts, ForumError> {
        let mut counts = OutboxCounts::default();
        let mut statement = self.conn.prepare("SELECT state, COUNT(*) FROM outbox GROUP BY state")?;
        let rows = statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
        for row in rows {
            let (state, n) = row?;
            match state.as_str() {
                "pending" => counts.pending = n as u64,
                "done" => counts.done = n as u64,
                _ => counts.failed = n as u64,
            }
        }
        Ok(counts)
    }

    /// The changes given up on, oldest first (at most `limit`).
    pub fn outbox_failures(&self, limit: usize) -> Result<Vec<OutboxFailure>, ForumError> {
        let mut statement = self.conn.prepare(
            "SELECT id, change, member_id, subject, attempts, last_error FROM outbox WHERE state = 'failed' \
             ORDER BY id LIMIT ?1",
        )?;
        let rows = statement.query_map(params![limit as i64], |row| {
            Ok(OutboxFailure {
                id: row.get(0)?,
                change: row.get(1)?,
                member_id: row.get::<_, i64>(2)? as u64,
                subject: row.get(3)?,
                attempts: row.get(4)?,
                last_error: row.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Put every failed outbox row back in the queue (a moderator's retry).
    pub fn retry_outbox(&mut self) -> Result<usize, ForumError> {
        Ok(self.conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = 0 WHERE state = 'failed'",
            [],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forum() -> Forum {
        let runtime = cadre_runtime::Runtime::new(cadre_runtime::Limits::default(), None).unwrap();
        Forum::with_connection(crate::db::open_in_memory().unwrap(), runtime).unwrap()
    }

    fn rows(forum: &Forum) -> Vec<(String, i64, String, bool)> {
        forum
            .conn()
            .prepare("SELECT change, member_id, subject, quiet FROM outbox ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn nothing_is_queued_while_write_back_is_off_and_switching_on_queues_the_current_state_once() {
        let mut forum = forum();
        let grant = "INSERT INTO badges (member_id, badge, name, level, description, granted_at) VALUES (?1, ?2, 'n', 'bronze', 'd', 5)";
        forum.conn().execute(grant, params![1, "helper"]).unwrap();
        forum.conn().execute(grant, params![2, "helper"]).unwrap();
        forum.conn().execute("DELETE FROM badges WHERE member_id = 2", []).unwrap();
        assert!(!forum.write_back_enabled().unwrap());
        assert!(rows(&forum).is_empty(), "history imported before write-back is on queues nothing");

        assert_eq!(forum.set_write_back(true, 10).unwrap(), 1);
        assert_eq!(forum.set_write_back(true, 11).unwrap(), 0, "already on: nothing queued twice");
        forum.conn().execute(grant, params![3, "helper"]).unwrap();
        forum.conn().execute("DELETE FROM badges WHERE member_id = 1", []).unwrap();
        forum
            .conn()
            .execute("INSERT INTO access (member_id, tier, source, granted_at, reason) VALUES (3, 'inner', 'earned', 7, 'r')", [])
            .unwrap();
        assert_eq!(
            rows(&forum),
            vec![
                ("grant-badge".into(), 1, "helper".into(), true),
                ("grant-badge".into(), 3, "helper".into(), false),
                ("revoke-badge".into(), 1, "helper".into(), false),
                ("grant-access".into(), 3, "inner".into(), false),
            ]
        );
        assert_eq!(forum.outbox_counts().unwrap(), OutboxCounts { pending: 4, done: 0, failed: 0 });
        forum.set_write_back(false, 12).unwrap();
        forum.conn().execute(grant, params![4, "helper"]).unwrap();
        assert_eq!(rows(&forum).len(), 4, "off again: nothing more is queued, what was queued stays");
    }
}
