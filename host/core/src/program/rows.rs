//! The program's tables as row operations: what an effect or a moderator's action may do to one row of `ledger`,
//! `points`, `badges`, `access`, `nominations`, `notices` and `audit`, with SQL's semantics spelled out (`INSERT OR
//! IGNORE` keeps the first row and says whether it inserted, a delete says whether a row was there).
//!
//! The rules that choose these operations — which effect writes what, that a 0-point line touches no total, that
//! a grant or revoke that changed nothing is not audited, that an approval replaces the access row — are written
//! once, generically, in [`super::apply::apply_to`] and [`super::moderation::moderator_action_to`]. They run on the
//! live database through [`SqlRows`] (the event's transaction) and on the in-memory projections of a recompute
//! (`events::memory`, preview and apply), so the two cannot drift apart. This module does not decide anything.

use rusqlite::{Connection, params};

use cadre_model::{Badge, BadgeLevel};

/// Where an access row came from (the `access.source` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessSource {
    /// Earned: granted by the program.
    Earned,
    /// Invited by a moderator.
    Invited,
    /// A moderator approved the member's nomination.
    Approved,
}

impl AccessSource {
    /// The column's value.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessSource::Earned => "earned",
            AccessSource::Invited => "invited",
            AccessSource::Approved => "approved",
        }
    }
}

/// A badge level as the `badges.level` column holds it.
pub fn level_name(level: BadgeLevel) -> &'static str {
    match level {
        BadgeLevel::Bronze => "bronze",
        BadgeLevel::Silver => "silver",
        BadgeLevel::Gold => "gold",
    }
}

/// The row operations on the program's tables. Each returns whether it changed a row where SQL would tell.
pub trait ProgramRows {
    /// The store's failure (SQLite's error; a map never fails).
    type Error;
    /// Append one ledger line.
    fn ledger_line(
        &mut self,
        member: u64,
        delta: i64,
        event_id: i64,
        rule: &str,
        reason: &str,
        at: i64,
    ) -> Result<(), Self::Error>;
    /// Add `delta` (not 0) to the member's running total, creating it.
    fn add_to_total(&mut self, member: u64, delta: i64) -> Result<(), Self::Error>;
    /// Give the member `badge` unless they have it (the first grant is kept); true when inserted.
    fn insert_badge(&mut self, member: u64, badge: &Badge, at: i64) -> Result<bool, Self::Error>;
    /// Take the badge away; true when the member had it.
    fn delete_badge(&mut self, member: u64, badge: &str) -> Result<bool, Self::Error>;
    /// Give the member access to `tier` unless they have it; true when inserted.
    fn insert_access(
        &mut self,
        member: u64,
        tier: &str,
        source: AccessSource,
        at: i64,
        reason: &str,
    ) -> Result<bool, Self::Error>;
    /// Give the member access to `tier`, replacing the row they had.
    fn replace_access(
        &mut self,
        member: u64,
        tier: &str,
        source: AccessSource,
        at: i64,
        reason: &str,
    ) -> Result<(), Self::Error>;
    /// Take the access away; true when the member had it.
    fn delete_access(&mut self, member: u64, tier: &str) -> Result<bool, Self::Error>;
    /// Put a pending nomination in the queue unless one is pending for the member and tier; true when inserted.
    fn insert_pending(
        &mut self,
        member: u64,
        tier: &str,
        evidence_json: &str,
        at: i64,
        event_id: i64,
    ) -> Result<bool, Self::Error>;
    /// Decide the pending nomination of the member for `tier`; true when one was pending.
    fn decide_pending(
        &mut self,
        member: u64,
        tier: &str,
        approve: bool,
        at: i64,
        moderator: u64,
        reason: &str,
    ) -> Result<bool, Self::Error>;
    /// A notice to the moderators.
    fn notice(
        &mut self,
        member: Option<u64>,
        topic: &str,
        message: &str,
        at: i64,
        event_id: i64,
    ) -> Result<(), Self::Error>;
    /// One audit row (see [`super::audit`]).
    #[allow(clippy::too_many_arguments)]
    fn audit(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        member: Option<u64>,
        subject: &str,
        reason: &str,
        event_id: Option<i64>,
    ) -> Result<(), Self::Error>;
}

/// The row operations on the live database, in the connection's open transaction.
pub struct SqlRows<'a>(pub &'a Connection);

impl ProgramRows for SqlRows<'_> {
    type Error = rusqlite::Error;

    fn ledger_line(
        &mut self,
        member: u64,
        delta: i64,
        event_id: i64,
        rule: &str,
        reason: &str,
        at: i64,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO ledger (member_id, delta, event_id, rule, reason, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![member as i64, delta, event_id, rule, reason, at])?;
        Ok(())
    }

    fn add_to_total(&mut self, member: u64, delta: i64) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO points (member_id, total) VALUES (?1, ?2) \
                 ON CONFLICT(member_id) DO UPDATE SET total = total + ?2",
            )?
            .execute(params![member as i64, delta])?;
        Ok(())
    }

    fn insert_badge(&mut self, member: u64, badge: &Badge, at: i64) -> rusqlite::Result<bool> {
        let inserted = self
            .0
            .prepare_cached(
                "INSERT OR IGNORE INTO badges (member_id, badge, name, level, description, granted_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![member as i64, badge.id, badge.name, level_name(badge.level), badge.description, at])?;
        Ok(inserted > 0)
    }

    fn delete_badge(&mut self, member: u64, badge: &str) -> rusqlite::Result<bool> {
        let deleted = self
            .0
            .prepare_cached("DELETE FROM badges WHERE member_id = ?1 AND badge = ?2")?
            .execute(params![member as i64, badge])?;
        Ok(deleted > 0)
    }

    fn insert_access(
        &mut self,
        member: u64,
        tier: &str,
        source: AccessSource,
        at: i64,
        reason: &str,
    ) -> rusqlite::Result<bool> {
        let inserted = self
            .0
            .prepare_cached(
                "INSERT OR IGNORE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![member as i64, tier, source.as_str(), at, reason])?;
        Ok(inserted > 0)
    }

    fn replace_access(
        &mut self,
        member: u64,
        tier: &str,
        source: AccessSource,
        at: i64,
        reason: &str,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT OR REPLACE INTO access (member_id, tier, source, granted_at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![member as i64, tier, source.as_str(), at, reason])?;
        Ok(())
    }

    fn delete_access(&mut self, member: u64, tier: &str) -> rusqlite::Result<bool> {
        let deleted = self
            .0
            .prepare_cached("DELETE FROM access WHERE member_id = ?1 AND tier = ?2")?
            .execute(params![member as i64, tier])?;
        Ok(deleted > 0)
    }

    fn insert_pending(
        &mut self,
        member: u64,
        tier: &str,
        evidence_json: &str,
        at: i64,
        event_id: i64,
    ) -> rusqlite::Result<bool> {
        let inserted = self
            .0
            .prepare_cached(
                "INSERT OR IGNORE INTO nominations (member_id, tier, evidence, status, created_at, event_id) \
                 VALUES (?1, ?2, ?3, 'pending', ?4, ?5)",
            )?
            .execute(params![member as i64, tier, evidence_json, at, event_id])?;
        Ok(inserted > 0)
    }

    fn decide_pending(
        &mut self,
        member: u64,
        tier: &str,
        approve: bool,
        at: i64,
        moderator: u64,
        reason: &str,
    ) -> rusqlite::Result<bool> {
        let decided = self
            .0
            .prepare_cached(
                "UPDATE nominations SET status = ?1, decided_at = ?2, decided_by = ?3, reason = ?4 \
             WHERE member_id = ?5 AND tier = ?6 AND status = 'pending'",
            )?
            .execute(params![
                if approve { "approved" } else { "rejected" },
                at,
                moderator as i64,
                reason,
                member as i64,
                tier
            ])?;
        Ok(decided > 0)
    }

    fn notice(
        &mut self,
        member: Option<u64>,
        topic: &str,
        message: &str,
        at: i64,
        event_id: i64,
    ) -> rusqlite::Result<()> {
        self.0
            .prepare_cached(
                "INSERT INTO notices (member_id, topic, message, at, event_id) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![member.map(|m| m as i64), topic, message, at, event_id])?;
        Ok(())
    }

    fn audit(
        &mut self,
        at: i64,
        actor: &str,
        action: &str,
        member: Option<u64>,
        subject: &str,
        reason: &str,
        event_id: Option<i64>,
    ) -> rusqlite::Result<()> {
        super::audit(self.0, at, actor, action, member, subject, reason, event_id)
    }
}
