//! Reconciliation of likes through the admin API: the likes webhooks missed (Cadre was down: Discourse never
//! retries a delivery that could not connect) and the unlikes Discourse never sends (there is no unlike webhook).
//!
//! For each of the most recent recorded posts, one request — `GET /post_action_users.json?id=POST&post_action_type_id=2`,
//! who likes it now — compared with the likes Cadre holds for it: a liker Cadre lacks is recorded as a like (with
//! the webhook's own dedup key, so the late webhook, if it comes, is a duplicate), a like Cadre holds that Discourse no
//! longer shows is recorded as an unlike. A reconcile that finds nothing changes nothing. One request per post at the
//! site's 60 a minute is why it covers recent posts only (history comes from the backup import, not built yet).
//!
//! Group drift ([`reconcile_groups`]): each mapped group's members (`GET /groups/{name}/members.json`) against the
//! tier members Cadre holds. A tier member missing from the group (an admin removed them by hand) is queued again in
//! the outbox; a group member Cadre never put there (an admin added them by hand) is **reported** to moderators (a
//! notice), never removed. Not built yet: posts whose `post_created` was missed (`GET /posts.json`), badge drift.

use hyper::Method;
use rusqlite::params;
use serde_json::Value;

use cadre_core::Forum;

use crate::api::{Api, ApiError};
use crate::server::{ForumThread, Stopped};
use crate::tables;
use crate::webhook::{self, Handled, WebhookError};

/// What a reconcile did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Posts compared.
    pub posts: usize,
    /// Likes recorded that no webhook brought.
    pub likes_added: usize,
    /// Unlikes recorded.
    pub likes_removed: usize,
    /// Posts Discourse would not answer for (deleted there, or an error), left for the next run.
    pub skipped: usize,
}

/// Why a reconcile stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The forum failed.
    #[error(transparent)]
    Forum(#[from] cadre_core::forum::ForumError),
    /// The forum thread stopped.
    #[error(transparent)]
    Stopped(#[from] Stopped),
    /// Discourse could not be reached.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A like could not be recorded.
    #[error(transparent)]
    Webhook(#[from] WebhookError),
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// The `limit` most recent recorded, live Discourse posts: (Discourse id, Cadre id).
fn recent_posts(forum: &Forum, limit: usize) -> Result<Vec<(i64, u64)>, cadre_core::forum::ForumError> {
    tables::ensure(forum.conn())?;
    let mut statement = forum
        .conn()
        .prepare("SELECT post_id, cadre_id FROM discourse_posts WHERE destroyed = 0 ORDER BY post_id DESC LIMIT ?1")?;
    let rows = statement.query_map(params![limit as i64], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Make Cadre's likes of one post match `likers` (Discourse user id, username), in one transaction.
fn apply(
    forum: &mut Forum,
    post: i64,
    cadre_post: u64,
    likers: &[(i64, String)],
    now: i64,
) -> Result<(usize, usize), WebhookError> {
    let mut refused = None;
    let result = forum.batch(|forum| {
        let run = |forum: &mut Forum| -> Result<(usize, usize), WebhookError> {
            let held: Vec<i64> = forum
                .conn()
                .prepare(
                    "SELECT CAST(substr(m.external_id, 16) AS INTEGER) FROM likes l JOIN members m ON m.id = l.liker_id \
                     WHERE l.post_id = ?1 AND l.removed_at IS NULL AND m.external_id LIKE 'discourse:user:%'",
                )?
                .query_map(params![cadre_post as i64], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            let mut removed = 0;
            for user in held.iter().filter(|user| !likers.iter().any(|(id, _)| id == *user)) {
                if matches!(webhook::unlike_by_id(forum, post, *user, now)?, Handled::Recorded { .. }) {
                    removed += 1;
                }
            }
            let mut added = 0;
            for (user, name) in likers.iter().filter(|(user, _)| !held.contains(user)) {
                if matches!(webhook::like_by_id(forum, post, *user, name, now)?, Handled::Recorded { .. }) {
                    added += 1;
                }
            }
            Ok((added, removed))
        };
        run(forum).map_err(|error| match error {
            WebhookError::Forum(error) => error,
            other => {
                refused = Some(other);
                cadre_core::forum::ForumError::Invalid("refused".into())
            }
        })
    });
    match (result, refused) {
        (_, Some(error)) => Err(error),
        (result, None) => Ok(result?),
    }
}

/// Compare the likes of the `posts` most recent recorded posts with Discourse's and record the difference.
pub async fn reconcile_likes(api: &Api, forum: &ForumThread, posts: usize) -> Result<ReconcileReport, ReconcileError> {
    let mut report = ReconcileReport::default();
    for (post, cadre_post) in forum.run(move |f| recent_posts(f, posts)).await?? {
        let reply =
            api.call(Method::GET, &format!("/post_action_users.json?id={post}&post_action_type_id=2"), &[]).await?;
        if !reply.ok() {
            tracing::info!(post, status = reply.status, "reconcile: Discourse did not list this post's likes");
            report.skipped += 1;
            continue;
        }
        let likers: Vec<(i64, String)> = reply
            .body
            .get("post_action_users")
            .and_then(Value::as_array)
            .map(|users| {
                users
                    .iter()
                    .filter_map(|u| Some((u.get("id")?.as_i64()?, u.get("username")?.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let (added, removed) = forum.run(move |f| apply(f, post, cadre_post, &likers, now_ms())).await??;
        report.posts += 1;
        report.likes_added += added;
        report.likes_removed += removed;
    }
    Ok(report)
}

/// What a group reconcile found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDrift {
    /// Tier members missing from their group, queued again: (group, username).
    pub requeued: Vec<(String, String)>,
    /// Group members Cadre did not put there, reported: (group, username).
    pub reported: Vec<(String, String)>,
}

/// Compare each mapped group with the tier's members and repair or report the drift. Reads `conn` (the forum's
/// database) directly; writes outbox rows and moderators' notices, and only when something drifted. Needs write-back
/// on (off, Cadre does not manage the groups yet and reports nothing).
pub async fn reconcile_groups(
    api: &Api,
    conn: &rusqlite::Connection,
    groups: &std::collections::BTreeMap<String, String>,
    now: i64,
) -> Result<GroupDrift, ReconcileError> {
    tables::ensure(conn).map_err(cadre_core::forum::ForumError::from)?;
    let mut drift = GroupDrift::default();
    let on: bool = conn
        .query_row("SELECT enabled FROM outbox_switch", [], |r| r.get(0))
        .map_err(cadre_core::forum::ForumError::from)?;
    if !on {
        return Ok(drift);
    }
    for (tier, group) in groups {
        let reply = api
            .call(Method::GET, &format!("/groups/{}/members.json?limit=1000", crate::api::encode(group)), &[])
            .await?;
        if !reply.ok() {
            tracing::warn!(group, status = reply.status, "reconcile: cannot list the group's members");
            continue;
        }
        let present: Vec<(i64, String)> = reply
            .body
            .get("members")
            .and_then(Value::as_array)
            .map(|all| {
                all.iter()
                    .filter_map(|u| Some((u.get("id")?.as_i64()?, u.get("username")?.as_str()?.to_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let db = |e: rusqlite::Error| ReconcileError::Forum(e.into());
        // Tier members Cadre put in the group (its mirror) that are no longer there: queue them again.
        let mirrored: Vec<(i64, i64)> = conn
            .prepare(
                "SELECT g.member_id, CAST(substr(m.external_id, 16) AS INTEGER) FROM discourse_group_members g \
                 JOIN members m ON m.id = g.member_id JOIN access a ON a.member_id = g.member_id AND a.tier = g.tier \
                 WHERE g.tier = ?1",
            )
            .and_then(|mut s| s.query_map(params![tier], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(db)?;
        for (member, user) in &mirrored {
            if !present.iter().any(|(id, _)| id == user) {
                conn.execute(
                    "DELETE FROM discourse_group_members WHERE tier = ?1 AND member_id = ?2",
                    params![tier, member],
                )
                .map_err(db)?;
                conn.execute(
                    "INSERT INTO outbox (change, member_id, subject, at) VALUES ('grant-access', ?1, ?2, ?3)",
                    params![member, tier, now],
                )
                .map_err(db)?;
                let name = tables::username(conn, *user).map_err(db)?.unwrap_or_else(|| user.to_string());
                drift.requeued.push((group.clone(), name));
            }
        }
        // Members nobody in Cadre put there: tell the moderators once per member, leave them in.
        for (user, name) in &present {
            if mirrored.iter().any(|(_, u)| u == user) {
                continue;
            }
            let message = format!(
                "{name} is in the Discourse group {group} (tier {tier}) but Cadre did not put them there: added by hand? \
                 Cadre leaves them in; add them to the tier (cadre member add) or remove them in Discourse."
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
            }
            drift.reported.push((group.clone(), name.clone()));
        }
    }
    Ok(drift)
}
