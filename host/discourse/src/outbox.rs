//! Draining the write-back outbox to Discourse: badges mirrored from the program's declaration, grants and revokes,
//! tier members added to and removed from the mapped groups.
//!
//! cadre-core writes an outbox row in the transaction of every grant or revoke (while write-back is on). The drain
//! takes rows in order and makes Discourse match **what Cadre holds now** for that member and badge or tier, so a
//! grant followed by a revoke sends nothing, and a row sent again after a crash changes nothing: a single-grant badge
//! granted twice returns the first grant (Discourse), a member already in the group is 422 `member_already_exist`,
//! treated as done, a revoke of a grant already gone is 404, treated as done. Discourse's ids are stored (the
//! `user_badge` id, for the revoke). A server error or no connection backs off (1 s, 2 s, 4 s … at most 15 min) and
//! gives up after [`MAX_ATTEMPTS`]; another refusal (unknown user, disabled badge, automatic group) fails the row at
//! once with Discourse's message, for a moderator to see and retry. The grants of the state queued when write-back is
//! turned on (rows marked `quiet`) ask Discourse not to notify the member ([`SUPPRESS_NOTIFICATION`]); group changes
//! never notify (Cadre does not send `notify_users`). Owns the sending; not the rows' creation.

use std::collections::BTreeMap;
use std::time::Duration;

use hyper::Method;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use cadre_model::{BadgeLevel, Declaration};

use crate::api::{Api, ApiError, Reply};
use crate::tables;

/// The parameter of `POST /user_badges.json` that grants a badge without notifying the member: added to Discourse by
/// "FEATURE: Support silent, post-linked badge grants through the API" (discourse/discourse PR #43911, merged
/// 2026-09-21; default: notify, as before). Cadre sends it with the grants of the state queued when write-back is
/// turned on (outbox rows marked `quiet`), never with later grants, which are news the member should hear. An older
/// Discourse ignores the parameter (its `UserBadgesController#create` reads only `username`, `badge_id`/`badge_name`
/// and `reason`) and notifies once per grant, as `BadgeGranter#grant` always did for a grant made through the API.
pub const SUPPRESS_NOTIFICATION: &str = "suppress_notification";

/// Attempts after which a row that keeps failing with server errors is given up (failed, retryable).
pub const MAX_ATTEMPTS: i64 = 10;

/// Why the drain stopped (the database failed; a row's own failure is recorded on the row instead).
#[derive(Debug, thiserror::Error)]
pub enum DrainError {
    /// The database failed.
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
}

/// What one drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Rows finished (sent, or nothing to send).
    pub done: usize,
    /// Rows that failed for good this time.
    pub failed: usize,
    /// Rows left waiting for a backoff.
    pub backing_off: usize,
}

/// The badge type Discourse uses for a level (1 gold, 2 silver, 3 bronze).
pub fn badge_type(level: BadgeLevel) -> u8 {
    match level {
        BadgeLevel::Gold => 1,
        BadgeLevel::Silver => 2,
        BadgeLevel::Bronze => 3,
    }
}

/// How a row's sending went.
enum Step {
    Done(Option<String>),
    Retry(String),
    Fail(String),
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Sends the outbox to one Discourse site.
pub struct Writer {
    /// The admin API.
    pub api: Api,
    /// Tier → Discourse group name.
    pub groups: BTreeMap<String, String>,
    /// The first backoff (doubles each attempt).
    pub backoff: Duration,
}

impl Writer {
    /// Create, or find by name, a Discourse badge for every badge the program declares that has none yet. Returns
    /// the names of the badges created.
    pub async fn mirror_badges(
        &self,
        conn: &Connection,
        declaration: &Declaration,
    ) -> Result<Result<Vec<String>, String>, DrainError> {
        tables::ensure(conn)?;
        let mut missing = Vec::new();
        for badge in &declaration.badges {
            let known = conn
                .query_row("SELECT 1 FROM discourse_badges WHERE badge = ?1", params![badge.id], |_| Ok(()))
                .optional()?;
            if known.is_none() {
                missing.push(badge.clone());
            }
        }
        if missing.is_empty() {
            return Ok(Ok(Vec::new()));
        }
        let existing = match self.api.call(Method::GET, "/admin/badges.json", &[]).await {
            Ok(reply) if reply.ok() => reply.body,
            Ok(reply) => return Ok(Err(format!("listing badges: {}", reply.error_text()))),
            Err(error) => return Ok(Err(error.to_string())),
        };
        let mut created = Vec::new();
        for badge in missing {
            let found = existing.get("badges").and_then(Value::as_array).and_then(|all| {
                all.iter().find(|b| b.get("name").and_then(Value::as_str) == Some(badge.name.as_str()))
            });
            let id = match found.and_then(|b| b.get("id")).and_then(Value::as_i64) {
                Some(id) => id,
                None => {
                    let form = [
                        ("name", badge.name.clone()),
                        ("badge_type_id", badge_type(badge.level).to_string()),
                        ("description", badge.description.clone()),
                        ("multiple_grant", "false".into()),
                        ("enabled", "true".into()),
                        ("listable", "true".into()),
                    ];
                    match self.api.call(Method::POST, "/admin/badges.json", &form).await {
                        Ok(reply) if reply.ok() => match reply.body.pointer("/badge/id").and_then(Value::as_i64) {
                            Some(id) => {
                                created.push(badge.name.clone());
                                id
                            }
                            None => return Ok(Err("creating a badge: no badge.id in the answer".into())),
                        },
                        Ok(reply) => return Ok(Err(format!("creating badge {}: {}", badge.name, reply.error_text()))),
                        Err(error) => return Ok(Err(error.to_string())),
                    }
                }
            };
            conn.execute(
                "INSERT OR REPLACE INTO discourse_badges (badge, discourse_id) VALUES (?1, ?2)",
                params![badge.id, id],
            )?;
        }
        Ok(Ok(created))
    }

    /// Send every pending row that is due, in order, while write-back is on; `declaration` is the program's (its
    /// badges are mirrored first).
    pub async fn drain(&self, conn: &Connection, declaration: &Declaration) -> Result<DrainReport, DrainError> {
        tables::ensure(conn)?;
        let mut report = DrainReport::default();
        let enabled: bool = conn.query_row("SELECT enabled FROM outbox_switch", [], |r| r.get(0))?;
        if !enabled {
            return Ok(report);
        }
        if let Err(error) = self.mirror_badges(conn, declaration).await? {
            tracing::warn!(error, "mirroring the program's badges to Discourse failed; will retry");
        }
        let mut after = 0i64;
        loop {
            let row: Option<(i64, String, i64, String, i64, bool)> = conn
                .query_row(
                    "SELECT id, change, member_id, subject, attempts, quiet FROM outbox \
                     WHERE state = 'pending' AND id > ?1 ORDER BY id LIMIT 1",
                    params![after],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
                )
                .optional()?;
            let Some((id, change, member, subject, attempts, quiet)) = row else { break };
            after = id;
            let due: bool =
                conn.query_row("SELECT next_attempt_at <= ?2 FROM outbox WHERE id = ?1", params![id, now_ms()], |r| {
                    r.get(0)
                })?;
            if !due {
                report.backing_off += 1;
                continue;
            }
            // The attempt is counted before anything is sent: a crash mid-request leaves a row that is sent again,
            // which changes nothing on Discourse (see the module header).
            conn.execute("UPDATE outbox SET attempts = attempts + 1 WHERE id = ?1", params![id])?;
            let step = self.send(conn, &change, member as u64, &subject, quiet).await?;
            match step {
                Step::Done(remote) => {
                    conn.execute(
                        "UPDATE outbox SET state = 'done', done_at = ?2, remote_id = COALESCE(?3, remote_id), last_error = NULL \
                         WHERE id = ?1",
                        params![id, now_ms(), remote],
                    )?;
                    report.done += 1;
                }
                Step::Fail(error) => {
                    conn.execute(
                        "UPDATE outbox SET state = 'failed', last_error = ?2 WHERE id = ?1",
                        params![id, error],
                    )?;
                    tracing::warn!(row = id, error, "write-back failed");
                    report.failed += 1;
                }
                Step::Retry(error) if attempts + 1 >= MAX_ATTEMPTS => {
                    conn.execute(
                        "UPDATE outbox SET state = 'failed', last_error = ?2 WHERE id = ?1",
                        params![id, error],
                    )?;
                    report.failed += 1;
                }
                Step::Retry(error) => {
                    let wait = self.backoff.saturating_mul(1 << attempts.min(20) as u32).min(Duration::from_secs(900));
                    conn.execute(
                        "UPDATE outbox SET last_error = ?2, next_attempt_at = ?3 WHERE id = ?1",
                        params![id, error, now_ms() + wait.as_millis() as i64],
                    )?;
                    report.backing_off += 1;
                    // Discourse is down or failing: the rows after this one would fail the same way.
                    break;
                }
            }
        }
        Ok(report)
    }

    /// The Discourse username of a member, looked up once and cached.
    async fn username(&self, conn: &Connection, member: u64) -> Result<Result<String, Step>, DrainError> {
        let Some(user_id) = tables::user_of(conn, member)? else {
            return Ok(Err(Step::Fail(format!("member {member} has no Discourse account"))));
        };
        if let Some(name) = tables::username(conn, user_id)? {
            return Ok(Ok(name));
        }
        match self.api.call(Method::GET, &format!("/admin/users/{user_id}.json"), &[]).await {
            Ok(reply) if reply.ok() => match reply.body.get("username").and_then(Value::as_str) {
                Some(name) => {
                    tables::remember_username(conn, user_id, name)?;
                    Ok(Ok(name.to_owned()))
                }
                None => Ok(Err(Step::Fail(format!("user {user_id}: no username in the answer")))),
            },
            other => Ok(Err(classify(other, "looking up the user"))),
        }
    }

    async fn send(
        &self,
        conn: &Connection,
        change: &str,
        member: u64,
        subject: &str,
        quiet: bool,
    ) -> Result<Step, DrainError> {
        match change {
            "grant-badge" | "revoke-badge" => self.sync_badge(conn, member, subject, quiet).await,
            _ => self.sync_group(conn, member, subject).await,
        }
    }

    /// Make Discourse hold `badge` for `member` exactly when Cadre does. A `quiet` row (the state queued when
    /// write-back was turned on) is granted with `suppress_notification=true`: see [`SUPPRESS_NOTIFICATION`].
    async fn sync_badge(&self, conn: &Connection, member: u64, badge: &str, quiet: bool) -> Result<Step, DrainError> {
        let held = conn
            .query_row(
                "SELECT 1 FROM badges WHERE member_id = ?1 AND badge = ?2",
                params![member as i64, badge],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        let mirrored: Option<i64> = conn
            .query_row(
                "SELECT user_badge_id FROM discourse_user_badges WHERE member_id = ?1 AND badge = ?2",
                params![member as i64, badge],
                |r| r.get(0),
            )
            .optional()?;
        match (held, mirrored) {
            (true, None) => {
                let Some(badge_id): Option<i64> = conn
                    .query_row("SELECT discourse_id FROM discourse_badges WHERE badge = ?1", params![badge], |r| {
                        r.get(0)
                    })
                    .optional()?
                else {
                    return Ok(Step::Retry(format!("badge {badge} is not mirrored on Discourse yet")));
                };
                let name = match self.username(conn, member).await? {
                    Ok(name) => name,
                    Err(step) => return Ok(step),
                };
                let mut form = vec![("username", name), ("badge_id", badge_id.to_string())];
                if quiet {
                    form.push((SUPPRESS_NOTIFICATION, "true".into()));
                }
                match self.api.call(Method::POST, "/user_badges.json", &form).await {
                    Ok(reply) if reply.ok() => match reply.body.pointer("/user_badge/id").and_then(Value::as_i64) {
                        Some(id) => {
                            conn.execute(
                                "INSERT OR REPLACE INTO discourse_user_badges (member_id, badge, user_badge_id) VALUES (?1, ?2, ?3)",
                                params![member as i64, badge, id],
                            )?;
                            Ok(Step::Done(Some(id.to_string())))
                        }
                        None => Ok(Step::Fail("granted, but no user_badge.id in the answer".into())),
                    },
                    other => Ok(classify(other, "granting the badge")),
                }
            }
            (false, Some(user_badge)) => {
                match self.api.call(Method::DELETE, &format!("/user_badges/{user_badge}.json"), &[]).await {
                    Ok(reply) if reply.ok() || reply.status == 404 => {
                        conn.execute(
                            "DELETE FROM discourse_user_badges WHERE member_id = ?1 AND badge = ?2",
                            params![member as i64, badge],
                        )?;
                        Ok(Step::Done(Some(user_badge.to_string())))
                    }
                    other => Ok(classify(other, "revoking the badge")),
                }
            }
            _ => Ok(Step::Done(None)),
        }
    }

    async fn group_id(&self, conn: &Connection, tier: &str, name: &str) -> Result<Result<i64, Step>, DrainError> {
        let known: Option<i64> = conn
            .query_row(
                "SELECT discourse_id FROM discourse_groups WHERE tier = ?1 AND name = ?2",
                params![tier, name],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = known {
            return Ok(Ok(id));
        }
        match self.api.call(Method::GET, &format!("/groups/{}.json", crate::api::encode(name)), &[]).await {
            Ok(reply) if reply.ok() => match reply.body.pointer("/group/id").and_then(Value::as_i64) {
                Some(id) => {
                    conn.execute(
                        "INSERT OR REPLACE INTO discourse_groups (tier, name, discourse_id) VALUES (?1, ?2, ?3)",
                        params![tier, name, id],
                    )?;
                    Ok(Ok(id))
                }
                None => Ok(Err(Step::Fail(format!("group {name}: no group.id in the answer")))),
            },
            other => Ok(Err(classify(other, &format!("finding the group {name}")))),
        }
    }

    async fn sync_group(&self, conn: &Connection, member: u64, tier: &str) -> Result<Step, DrainError> {
        let Some(group) = self.groups.get(tier) else {
            return Ok(Step::Done(Some(format!("tier {tier} has no Discourse group in [discourse.groups]"))));
        };
        let held = conn
            .query_row("SELECT 1 FROM access WHERE member_id = ?1 AND tier = ?2", params![member as i64, tier], |_| {
                Ok(())
            })
            .optional()?
            .is_some();
        let mirrored = conn
            .query_row(
                "SELECT 1 FROM discourse_group_members WHERE tier = ?1 AND member_id = ?2",
                params![tier, member as i64],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if held == mirrored {
            return Ok(Step::Done(None));
        }
        let group_id = match self.group_id(conn, tier, group).await? {
            Ok(id) => id,
            Err(step) => return Ok(step),
        };
        let name = match self.username(conn, member).await? {
            Ok(name) => name,
            Err(step) => return Ok(step),
        };
        let method = if held { Method::PUT } else { Method::DELETE };
        let reply = self.api.call(method, &format!("/groups/{group_id}/members.json"), &[("usernames", name)]).await;
        let already = |r: &Reply| r.status == 422 && r.error_text().contains("already a member");
        match reply {
            Ok(r) if r.ok() || (held && already(&r)) => {
                if held {
                    conn.execute(
                        "INSERT OR IGNORE INTO discourse_group_members (tier, member_id) VALUES (?1, ?2)",
                        params![tier, member as i64],
                    )?;
                } else {
                    conn.execute(
                        "DELETE FROM discourse_group_members WHERE tier = ?1 AND member_id = ?2",
                        params![tier, member as i64],
                    )?;
                }
                Ok(Step::Done(Some(group_id.to_string())))
            }
            other => Ok(classify(other, if held { "adding to the group" } else { "removing from the group" })),
        }
    }
}

/// A failed answer: server errors and lost connections are retried, other refusals fail the row.
fn classify(reply: Result<Reply, ApiError>, what: &str) -> Step {
    match reply {
        Err(error) => Step::Retry(format!("{what}: {error}")),
        Ok(r) if r.status >= 500 => Step::Retry(format!("{what}: HTTP {} {}", r.status, r.error_text())),
        Ok(r) => Step::Fail(format!("{what}: HTTP {} {}", r.status, r.error_text())),
    }
}
