//! Reads for moderators: a member's summary, ledger and audit trail, the review queue with evidence, the audit
//! log, dead letters and notices. Every function here returns serializable rows, so the CLI prints them as text
//! or `--json` and the web panel renders the same rows. These are moderator views: callers must check that the
//! viewer is a moderator (they expose points and the queue).

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::forum::ForumError;
use cadre_model::Evidence;

/// One ledger row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct LedgerRow {
    /// Row id (the ledger's order).
    pub id: i64,
    /// Points added (negative: taken back).
    pub delta: i64,
    /// Running total after this row.
    pub total: i64,
    /// The rule that gave them.
    pub rule: String,
    /// Why, in words.
    pub reason: String,
    /// The event that caused it.
    pub event_id: Option<i64>,
    /// When.
    pub at: i64,
}

/// A member as moderators see them.
#[derive(Debug, Clone, Serialize)]
pub struct MemberSummary {
    /// Member id.
    pub id: u64,
    /// Name.
    pub name: String,
    /// When they joined.
    pub joined_at: i64,
    /// Whether they are a moderator.
    pub moderator: bool,
    /// Points (sum of the ledger).
    pub points: i64,
    /// Badges: (id, name, level, granted at).
    pub badges: Vec<BadgeRow>,
    /// Tier access, with how it was obtained (earned, approved, invited).
    pub access: Vec<AccessRow>,
    /// Pending nominations.
    pub pending_nominations: Vec<i64>,
}

/// A badge a member holds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BadgeRow {
    /// Badge id.
    pub badge: String,
    /// Display name.
    pub name: String,
    /// bronze, silver or gold.
    pub level: String,
    /// What earns it.
    pub description: String,
    /// When it was granted.
    pub granted_at: i64,
}

/// A member's access to a tier.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AccessRow {
    /// The tier.
    pub tier: String,
    /// `earned` (by the program), `approved` (a moderator approved a nomination) or `invited` (added by hand).
    pub source: String,
    /// Since when.
    pub granted_at: i64,
    /// Why.
    pub reason: String,
}

/// A nomination in the review queue.
#[derive(Debug, Clone, Serialize)]
pub struct Nomination {
    /// Its id (for approve / reject).
    pub id: i64,
    /// The candidate.
    pub member_id: u64,
    /// The candidate's name.
    pub member_name: String,
    /// The tier.
    pub tier: String,
    /// pending, approved or rejected.
    pub status: String,
    /// What qualified them.
    pub evidence: Evidence,
    /// When nominated.
    pub created_at: i64,
    /// The decision's reason, once decided.
    pub decision_reason: Option<String>,
}

/// One audit row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AuditRow {
    /// Row id.
    pub id: i64,
    /// When.
    pub at: i64,
    /// Who: `program cadre-superuser 0.1.0`, `moderator alice (#3)`, `system`.
    pub actor: String,
    /// What: grant-badge, revoke-access, settings, member-added, nomination-approved, quarantine, …
    pub action: String,
    /// The member concerned.
    pub member_id: Option<u64>,
    /// The badge, tier, setting or plugin concerned.
    pub subject: String,
    /// Why.
    pub reason: String,
}

/// A dead letter: an event the program failed on.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DeadLetter {
    /// The event.
    pub event_id: i64,
    /// Its kind.
    pub kind: String,
    /// The last error.
    pub error: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// The program's status.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ProgramStatus {
    /// Name and version.
    pub name: String,
    /// Version.
    pub version: String,
    /// SHA-256 of the component.
    pub hash: String,
    /// The version before (what rollback returns to).
    pub previous: Option<String>,
    /// Whether it is quarantined.
    pub quarantined: bool,
    /// Unresolved dead letters.
    pub dead_letters: i64,
    /// Events delivered so far.
    pub processed_up_to: i64,
    /// Events in the log.
    pub events: i64,
    /// The settings in force (TOML).
    pub settings: String,
    /// The recompute a rollback offered, until one is applied.
    pub recompute_offer: Option<crate::events::RecomputeOffer>,
}

/// A member by name or id (`alice`, `#7`; see [`crate::forum::names::resolve_member`]).
pub fn resolve_member(conn: &Connection, name_or_id: &str) -> Result<u64, ForumError> {
    crate::forum::names::resolve_member(conn, name_or_id)
}

/// A member's summary.
pub fn member(conn: &Connection, member: u64) -> Result<MemberSummary, ForumError> {
    let (name, joined_at, moderator): (String, i64, bool) = conn
        .query_row("SELECT name, joined_at, is_moderator FROM members WHERE id = ?1", params![member as i64], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("member {member}")))?;
    let points = conn.query_row(
        "SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE member_id = ?1",
        params![member as i64],
        |row| row.get(0),
    )?;
    let badges = conn
        .prepare("SELECT badge, name, level, description, granted_at FROM badges WHERE member_id = ?1 ORDER BY granted_at, badge")?
        .query_map(params![member as i64], |row| {
            Ok(BadgeRow { badge: row.get(0)?, name: row.get(1)?, level: row.get(2)?, description: row.get(3)?, granted_at: row.get(4)? })
        })?
        .collect::<Result<_, _>>()?;
    let access = conn
        .prepare("SELECT tier, source, granted_at, reason FROM access WHERE member_id = ?1 ORDER BY tier")?
        .query_map(params![member as i64], |row| {
            Ok(AccessRow { tier: row.get(0)?, source: row.get(1)?, granted_at: row.get(2)?, reason: row.get(3)? })
        })?
        .collect::<Result<_, _>>()?;
    let pending_nominations = conn
        .prepare("SELECT id FROM nominations WHERE member_id = ?1 AND status = 'pending' ORDER BY id")?
        .query_map(params![member as i64], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(MemberSummary { id: member, name, joined_at, moderator, points, badges, access, pending_nominations })
}

/// A member's ledger, oldest first, with the running total: "why does this member have 4,310 points?".
pub fn ledger(conn: &Connection, member: u64) -> Result<Vec<LedgerRow>, ForumError> {
    let mut total = 0;
    let rows = conn
        .prepare("SELECT id, delta, rule, reason, event_id, at FROM ledger WHERE member_id = ?1 ORDER BY id")?
        .query_map(params![member as i64], |row| {
            Ok((row.get::<_, i64>(0)?, row.get::<_, i64>(1)?, row.get(2)?, row.get(3)?, row.get(4)?, row.get(5)?))
        })?
        .collect::<Result<Vec<(i64, i64, String, String, Option<i64>, i64)>, _>>()?;
    Ok(rows
        .into_iter()
        .map(|(id, delta, rule, reason, event_id, at)| {
            total += delta;
            LedgerRow { id, delta, total, rule, reason, event_id, at }
        })
        .collect())
}

pub(crate) fn nomination_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Nomination> {
    let evidence: String = row.get(5)?;
    let evidence = serde_json::from_str(&evidence).unwrap_or(Evidence {
        summary: "(evidence unreadable)".into(),
        figures: vec![],
        posts: vec![],
        flags: vec![],
    });
    Ok(Nomination {
        id: row.get(0)?,
        member_id: row.get::<_, i64>(1)? as u64,
        member_name: row.get(2)?,
        tier: row.get(3)?,
        status: row.get(4)?,
        evidence,
        created_at: row.get(6)?,
        decision_reason: row.get(7)?,
    })
}

pub(crate) const NOMINATION_SELECT: &str = "SELECT n.id, n.member_id, m.name, n.tier, n.status, n.evidence, n.created_at, n.reason \
     FROM nominations n JOIN members m ON m.id = n.member_id";

/// The review queue: pending nominations, oldest first (or every nomination with `all`).
pub fn queue(conn: &Connection, all: bool) -> Result<Vec<Nomination>, ForumError> {
    let filter = if all { "" } else { " WHERE n.status = 'pending'" };
    let sql = format!("{NOMINATION_SELECT}{filter} ORDER BY n.id");
    Ok(conn.prepare(&sql)?.query_map([], nomination_from_row)?.collect::<Result<_, _>>()?)
}

/// One nomination.
pub fn nomination(conn: &Connection, id: i64) -> Result<Nomination, ForumError> {
    let sql = format!("{NOMINATION_SELECT} WHERE n.id = ?1");
    conn.query_row(&sql, params![id], nomination_from_row)
        .optional()?
        .ok_or_else(|| ForumError::NotFound(format!("nomination {id}")))
}

/// The audit log, newest first, optionally for one member; at most `limit` rows.
pub fn audit_log(conn: &Connection, member: Option<u64>, limit: usize) -> Result<Vec<AuditRow>, ForumError> {
    let rows = conn
        .prepare(
            "SELECT id, at, actor, action, member_id, subject, reason FROM audit \
             WHERE (?1 IS NULL OR member_id = ?1) ORDER BY id DESC LIMIT ?2",
        )?
        .query_map(params![member.map(|m| m as i64), limit as i64], |row| {
            Ok(AuditRow {
                id: row.get(0)?,
                at: row.get(1)?,
                actor: row.get(2)?,
                action: row.get(3)?,
                member_id: row.get::<_, Option<i64>>(4)?.map(|m| m as u64),
                subject: row.get(5)?,
                reason: row.get(6)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Unresolved dead letters, in log order.
pub fn dead_letters(conn: &Connection) -> Result<Vec<DeadLetter>, ForumError> {
    Ok(conn
        .prepare(
            "SELECT d.event_id, e.kind, d.error, d.attempts FROM dead_letters d JOIN events e ON e.id = d.event_id \
             ORDER BY d.event_id",
        )?
        .query_map([], |row| {
            Ok(DeadLetter { event_id: row.get(0)?, kind: row.get(1)?, error: row.get(2)?, attempts: row.get(3)? })
        })?
        .collect::<Result<_, _>>()?)
}

/// The installed program's status, if one is installed.
pub fn program_status(conn: &Connection) -> Result<Option<ProgramStatus>, ForumError> {
    let row = conn
        .query_row(
            "SELECT v.name, v.version, v.hash, pv.name || ' ' || pv.version, p.quarantined, p.processed_up_to, p.settings \
             FROM program p JOIN plugin_versions v ON v.id = p.active_version \
             LEFT JOIN plugin_versions pv ON pv.id = p.previous_version",
            [],
            |row| {
                Ok(ProgramStatus {
                    name: row.get(0)?,
                    version: row.get(1)?,
                    hash: row.get(2)?,
                    previous: row.get(3)?,
                    quarantined: row.get(4)?,
                    dead_letters: 0,
                    processed_up_to: row.get(5)?,
                    events: 0,
                    settings: row.get(6)?,
                    recompute_offer: None,
                })
            },
        )
        .optional()?;
    let Some(mut status) = row else { return Ok(None) };
    status.dead_letters = conn.query_row("SELECT COUNT(*) FROM dead_letters", [], |row| row.get(0))?;
    status.events = conn.query_row("SELECT COALESCE(MAX(id), 0) FROM events", [], |row| row.get(0))?;
    status.recompute_offer = recompute_offer(conn)?;
    Ok(Some(status))
}

/// A message to moderators (quarantine, gaming flags, inactivity warnings, …).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Notice {
    /// Row id.
    pub id: i64,
    /// When.
    pub at: i64,
    /// The member concerned, if any.
    pub member_id: Option<u64>,
    /// A short key: `quarantine`, `mutual-likes`, `inactivity-warning`, …
    pub topic: String,
    /// The message.
    pub message: String,
}

/// Notices for moderators, newest first; at most `limit`.
pub fn notices(conn: &Connection, limit: usize) -> Result<Vec<Notice>, ForumError> {
    Ok(conn
        .prepare("SELECT id, at, member_id, topic, message FROM notices ORDER BY id DESC LIMIT ?1")?
        .query_map(params![limit as i64], |row| {
            Ok(Notice {
                id: row.get(0)?,
                at: row.get(1)?,
                member_id: row.get::<_, Option<i64>>(2)?.map(|m| m as u64),
                topic: row.get(3)?,
                message: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

/// A recompute offered after a rollback, or after an upgrade that replaced a failing version (quarantined, or with
/// dead letters waiting): the events those versions handled (all of them, failed or not) were seen by a program
/// that is no longer in force, so what it made of them (or did not) stays until history is recomputed under the
/// one in force. Kept in `program.recompute_offer` until a recompute is applied.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecomputeOffer {
    /// The versions taken out of force since the last recompute (rolled back, or replaced while failing; name and
    /// version), in order.
    pub rolled_back: Vec<String>,
    /// The version in force since the last of those changes (restored by a rollback, or installed by an upgrade).
    pub restored: String,
    /// The first event a version no longer in force handled.
    pub first_event: i64,
    /// The last event in the log when the last of them was taken out of force.
    pub last_event: i64,
    /// When that happened.
    pub at: i64,
}

impl RecomputeOffer {
    /// How many events the rolled-back versions handled.
    pub fn events(&self) -> i64 {
        self.last_event - self.first_event + 1
    }
}

/// The open recompute offer in `conn`'s forum, if any.
pub fn recompute_offer(conn: &rusqlite::Connection) -> Result<Option<RecomputeOffer>, ForumError> {
    let json: Option<String> =
        conn.query_row("SELECT recompute_offer FROM program", [], |row| row.get(0)).optional()?.flatten();
    Ok(json.and_then(|json| serde_json::from_str(&json).ok()))
}
