//! Badge drift: the grants Discourse shows for each mirrored badge against the badges Cadre's members hold.
//!
//! For each of the program's badges that Cadre mirrored to Discourse, its grants are read page by page
//! (`GET /user_badges.json?badge_id=ID&offset=N`, UserBadgesController#index: newest first, at most 50 a page in
//! current Discourse, 96 in older ones; read until a page comes back short) and compared with Cadre's view, as the
//! group reconcile does for tiers:
//! - a member who holds the badge in Cadre but not on Discourse (an admin revoked it by hand, or Discourse lost it)
//!   is queued to be granted again;
//! - a grant Cadre made (its `user_badge` id is in Cadre's mirror) of a badge the member no longer holds in Cadre (the
//!   revoke happened while write-back was off, or never reached Discourse) is queued to be revoked;
//! - a grant Cadre did not make (an admin granted it by hand) is **reported** to moderators (a notice, once) and left;
//! - a grant Cadre holds under an id it had lost (a crash between Discourse's answer and the mirror's update) is
//!   adopted: the id is stored, nothing is sent.
//!
//! Nothing is queued for a member and badge that already have a pending or failed outbox row (the drain, or a
//! moderator's retry, owns those). Needs write-back on, as the group reconcile: while it is off Cadre manages nothing
//! on Discourse and reports nothing. Reads `conn` (the forum's database) directly and writes only outbox rows, the
//! mirror and notices, and only when something drifted. Owns the comparison; the sending is the outbox drain's.

use std::collections::BTreeMap;

use hyper::Method;
use rusqlite::{Connection, params};
use serde_json::Value;

use super::ReconcileError;
use crate::api::Api;
use crate::tables;

/// A page of `GET /user_badges.json` (UserBadgesController::MAX_INDEX_LIMIT); older Discourse sends 96.
pub const PAGE: usize = 50;

/// What a badge reconcile found: (badge name on Discourse, username) pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BadgeDrift {
    /// Held in Cadre, missing on Discourse: queued to be granted again.
    pub regranted: Vec<(String, String)>,
    /// Granted by Cadre on Discourse, no longer held in Cadre: queued to be revoked.
    pub revoked: Vec<(String, String)>,
    /// On Discourse, never granted by Cadre: reported to moderators, left.
    pub reported: Vec<(String, String)>,
    /// Grants of Cadre's found under an id Cadre had lost: stored.
    pub adopted: usize,
    /// Notices written this time (a grant reported before is listed in `reported` again, not noticed again).
    pub noticed: usize,
}

/// One grant on Discourse.
struct Grant {
    user_badge: i64,
    user: i64,
}

/// Every grant of the Discourse badge `badge_id`, or `None` if Discourse will not list it (deleted or disabled).
async fn grants(api: &Api, conn: &Connection, badge_id: i64) -> Result<Option<Vec<Grant>>, ReconcileError> {
    let mut all: Vec<Grant> = Vec::new();
    loop {
        let path = format!("/user_badges.json?badge_id={badge_id}&offset={}&limit={PAGE}", all.len());
        let reply = api.call(Method::GET, &path, &[]).await?;
        if !reply.ok() {
            tracing::warn!(badge_id, status = reply.status, "reconcile: Discourse will not list the badge's grants");
            return Ok(None);
        }
        // Users come beside the grants ({"users": [...], "user_badge_info": {"user_badges": [...]}}): keep their
        // names, the outbox needs them.
        for user in reply.body.get("users").and_then(Value::as_array).into_iter().flatten() {
            if let (Some(id), Some(name)) =
                (user.get("id").and_then(Value::as_i64), user.get("username").and_then(Value::as_str))
            {
                tables::remember_username(conn, id, name).map_err(db)?;
            }
        }
        let page: Vec<Grant> = reply
            .body
            .pointer("/user_badge_info/user_badges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|g| {
                let user = g.get("user_id").or_else(|| g.pointer("/user/id")).and_then(Value::as_i64)?;
                Some(Grant { user_badge: g.get("id")?.as_i64()?, user })
            })
            .collect();
        let short = page.len() < PAGE;
        // A grant listed twice (one granted meanwhile shifts the offsets) counts once.
        for grant in page {
            if !all.iter().any(|g| g.user_badge == grant.user_badge) {
                all.push(grant);
            }
        }
        if short {
            return Ok(Some(all));
        }
    }
}

fn db(error: rusqlite::Error) -> ReconcileError {
    ReconcileError::Forum(error.into())
}

/// Whether the outbox already has an unfinished badge change for this member and badge.
fn busy(conn: &Connection, member: i64, badge: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT COUNT(*) > 0 FROM outbox WHERE member_id = ?1 AND subject = ?2 \
         AND change IN ('grant-badge', 'revoke-badge') AND state <> 'done'",
        params![member, badge],
        |r| r.get(0),
    )
}

fn queue(conn: &Connection, change: &str, member: i64, badge: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO outbox (change, member_id, subject, at) VALUES (?1, ?2, ?3, ?4)",
        params![change, member, badge, now],
    )?;
    Ok(())
}

fn name_of(conn: &Connection, user: i64) -> rusqlite::Result<String> {
    Ok(tables::username(conn, user)?.unwrap_or_else(|| format!("user {user}")))
}

/// Compare every mirrored badge's grants on Discourse with Cadre's and repair or report the drift.
pub async fn reconcile_badges(api: &Api, conn: &Connection, now: i64) -> Result<BadgeDrift, ReconcileError> {
    tables::ensure(conn).map_err(db)?;
    let mut drift = BadgeDrift::default();
    let on: bool = conn.query_row("SELECT enabled FROM outbox_switch", [], |r| r.get(0)).map_err(db)?;
    if !on {
        return Ok(drift);
    }
    let mirrored: Vec<(String, i64)> = conn
        .prepare("SELECT badge, discourse_id FROM discourse_badges ORDER BY badge")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(db)?;
    for (badge, badge_id) in mirrored {
        let Some(present) = grants(api, conn, badge_id).await? else { continue };
        let label: String = conn
            .query_row("SELECT COALESCE(MAX(name), ?1) FROM badges WHERE badge = ?1", params![badge], |r| r.get(0))
            .map_err(db)?;
        // Members holding the badge in Cadre, with their Discourse user id.
        let held: Vec<(i64, i64)> = conn
            .prepare(
                "SELECT b.member_id, CAST(substr(m.external_id, 16) AS INTEGER) FROM badges b \
                 JOIN members m ON m.id = b.member_id WHERE b.badge = ?1 AND m.external_id LIKE 'discourse:user:%'",
            )
            .and_then(|mut s| s.query_map(params![badge], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(db)?;
        let mirror: BTreeMap<i64, i64> = conn
            .prepare("SELECT member_id, user_badge_id FROM discourse_user_badges WHERE badge = ?1")
            .and_then(|mut s| s.query_map(params![badge], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(db)?;
        for (member, user) in &held {
            let on_site = present.iter().find(|g| g.user == *user);
            match (on_site, mirror.get(member)) {
                (Some(grant), Some(id)) if grant.user_badge == *id => {}
                (Some(grant), _) => {
                    conn.execute(
                        "INSERT OR REPLACE INTO discourse_user_badges (member_id, badge, user_badge_id) VALUES (?1, ?2, ?3)",
                        params![member, badge, grant.user_badge],
                    )
                    .map_err(db)?;
                    drift.adopted += 1;
                }
                (None, mirrored) => {
                    if busy(conn, *member, &badge).map_err(db)? {
                        continue;
                    }
                    if mirrored.is_some() {
                        // Cadre's grant is gone from Discourse: forget its id, so the drain grants afresh.
                        conn.execute(
                            "DELETE FROM discourse_user_badges WHERE member_id = ?1 AND badge = ?2",
                            params![member, badge],
                        )
                        .map_err(db)?;
                    }
                    queue(conn, "grant-badge", *member, &badge, now).map_err(db)?;
                    drift.regranted.push((label.clone(), name_of(conn, *user).map_err(db)?));
                }
            }
        }
        for grant in present.iter().filter(|g| !held.iter().any(|(_, user)| *user == g.user)) {
            let member = tables::member_of(conn, grant.user).map_err(db)?.map(|m| m as i64);
            let ours = member.is_some_and(|m| mirror.get(&m) == Some(&grant.user_badge));
            let name = name_of(conn, grant.user).map_err(db)?;
            match member {
                Some(member) if ours => {
                    if !busy(conn, member, &badge).map_err(db)? {
                        queue(conn, "revoke-badge", member, &badge, now).map_err(db)?;
                        drift.revoked.push((label.clone(), name));
                    }
                }
                _ => {
                    let message = format!(
                        "{name} holds the Discourse badge {label} but Cadre did not grant it: granted by hand? Cadre \
                         leaves it; revoke it in Discourse if it was a mistake."
                    );
                    let known: bool = conn
                        .query_row(
                            "SELECT COUNT(*) > 0 FROM notices WHERE topic = 'discourse-drift' AND message = ?1",
                            params![message],
                            |r| r.get(0),
                        )
                        .map_err(db)?;
                    if !known {
                        conn.execute(
                            "INSERT INTO notices (member_id, topic, message, at) VALUES (NULL, 'discourse-drift', ?1, ?2)",
                            params![message, now],
                        )
                        .map_err(db)?;
                        drift.noticed += 1;
                    }
                    drift.reported.push((label.clone(), name));
                }
            }
        }
    }
    Ok(drift)
}
