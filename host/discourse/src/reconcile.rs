//! Reconciliation of likes through the admin API: the likes webhooks missed (Cadre was down: Discourse never
//! retries a delivery that could not connect) and the unlikes Discourse never sends (there is no unlike webhook).
//!
//! For each of the most recent recorded posts, one request — `GET /post_action_users.json?id=POST&post_action_type_id=2`,
//! who likes it now — compared with the likes Cadre holds for it: a liker Cadre lacks is recorded as a like (with
//! the webhook's own dedup key, so the late webhook, if it comes, is a duplicate), a like Cadre holds that Discourse no
//! longer shows is recorded as an unlike. A reconcile that finds nothing changes nothing. One request per post at the
//! site's 60 a minute is why it covers recent posts only (history comes from the backup import, not built yet).
//! Not built yet either: posts whose `post_created` was missed (`GET /posts.json`), and group and badge drift.

use hyper::Method;
use rusqlite::params;
use serde_json::Value;

use cadre_core::forum::Forum;

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
