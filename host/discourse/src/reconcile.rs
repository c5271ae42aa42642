//! Reconciliation through the admin API: what webhooks missed (Cadre was down: Discourse never retries a delivery
//! that could not connect), the unlikes Discourse never sends (there is no unlike webhook), and drift between what
//! Cadre granted and what Discourse shows. [`reconcile_all`] runs the four parts in order; each is also callable
//! alone.
//!
//! - **Posts and accepted answers** ([`posts`]): the latest posts from `GET /posts.json`, recorded through the webhook
//!   path when Cadre lacks them, with their `accepted_answer` flag compared with Cadre's accepts; a recorded post the
//!   listing leaves out is asked for (`GET /posts/{id}.json`) and, deleted or gone, recorded as destroyed; accepts of
//!   answers older than the listing, in the listed topics ([`solved`]).
//! - **Likes** ([`reconcile_likes`]): for each of the most recent recorded posts, who likes it now —
//!   `GET /post_action_users.json?id=POST&post_action_type_id=2`, read **page by page** (`page`, `limit` 200;
//!   Discourse adds `total_rows_post_action_users` only when the likes do not fit in one page) — compared with the
//!   likes Cadre holds: a liker Cadre lacks is recorded as a like (with the webhook's own dedup key, so the late
//!   webhook, if it comes, is a duplicate), a like Cadre holds that Discourse no longer shows is recorded as an
//!   unlike. One request per post (more for a post with more than 200 likes) at the site's 60 a minute is why it
//!   covers recent posts only; history comes from the backup import.
//! - **Groups** ([`reconcile_groups`]): each mapped group's members (`GET /groups/{name}/members.json`, 1,000 a page,
//!   paged by `offset` up to `meta.total`) against the tier members Cadre holds. A tier member missing from the group
//!   (an admin removed them by hand) is queued again in the outbox; a member Cadre put there who no longer holds the
//!   tier (taken away while write-back was off) is queued to be removed; a group member Cadre never put there (an
//!   admin added them by hand) is **reported** to moderators (a notice), never removed.
//! - **Badges** ([`badges`]): the same for each mirrored badge's grants, both ways.
//!
//! A reconcile that finds nothing changes nothing: no event, no outbox row, no notice.

pub mod badges;
pub mod posts;
pub mod solved;

pub use badges::{BadgeDrift, reconcile_badges};
pub use posts::{PostsReport, reconcile_posts};

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

pub(crate) fn now_ms() -> i64 {
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

/// Likes asked for per page of `post_action_users` (Discourse's default and largest page).
pub const LIKERS_PAGE: usize = 200;

/// Everyone who likes Discourse post `post` now, every page; `None` if Discourse will not say (the post was
/// deleted there, or another refusal), to be tried again next time.
async fn likers(api: &Api, post: i64) -> Result<Option<Vec<(i64, String)>>, ApiError> {
    let mut all: Vec<(i64, String)> = Vec::new();
    for page in 0.. {
        let path = format!("/post_action_users.json?id={post}&post_action_type_id=2&page={page}&limit={LIKERS_PAGE}");
        let reply = api.call(Method::GET, &path, &[]).await?;
        if !reply.ok() {
            tracing::info!(post, status = reply.status, "reconcile: Discourse did not list this post's likes");
            return Ok(None);
        }
        let rows: Vec<(i64, String)> = reply
            .body
            .get("post_action_users")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|u| Some((u.get("id")?.as_i64()?, u.get("username")?.as_str()?.to_owned())))
            .collect();
        let count = rows.len();
        for row in rows {
            if !all.iter().any(|(id, _)| *id == row.0) {
                all.push(row);
            }
        }
        // The total is given only when the likes span pages; without it this page was the only one. With it, read
        // until the pages read cover it (a like given meanwhile may shift a row; the next run sees it).
        let total = reply.body.get("total_rows_post_action_users").and_then(Value::as_u64).unwrap_or(0);
        if count == 0 || ((page + 1) * LIKERS_PAGE) as u64 >= total {
            break;
        }
    }
    Ok(Some(all))
}

/// Compare the likes of the `posts` most recent recorded posts with Discourse's and record the difference.
pub async fn reconcile_likes(api: &Api, forum: &ForumThread, posts: usize) -> Result<ReconcileReport, ReconcileError> {
    let mut report = ReconcileReport::default();
    for (post, cadre_post) in forum.run(move |f| recent_posts(f, posts)).await?? {
        let Some(likers) = likers(api, post).await? else {
            report.skipped += 1;
            continue;
        };
        let (added, removed) = forum.run(move |f| apply(f, post, cadre_post, &likers, now_ms())).await??;
        report.posts += 1;
        report.likes_added += added;
        report.likes_removed += removed;
    }
    Ok(report)
}

/// Members asked for per page of a group's members (Discourse refuses more than 1,000).
pub const MEMBERS_PAGE: usize = 1000;

/// Every member of the group `group` (id, username), every page; `None` if Discourse will not list them.
async fn group_members(api: &Api, group: &str) -> Result<Option<Vec<(i64, String)>>, ApiError> {
    let mut all: Vec<(i64, String)> = Vec::new();
    let mut offset = 0usize;
    loop {
        let path = format!("/groups/{}/members.json?limit={MEMBERS_PAGE}&offset={offset}", crate::api::encode(group));
        let reply = api.call(Method::GET, &path, &[]).await?;
        if !reply.ok() {
            tracing::warn!(group, status = reply.status, "reconcile: cannot list the group's members");
            return Ok(None);
        }
        let rows: Vec<(i64, String)> = reply
            .body
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|u| Some((u.get("id")?.as_i64()?, u.get("username")?.as_str()?.to_owned())))
            .collect();
        let count = rows.len();
        for row in rows {
            if !all.iter().any(|(id, _)| *id == row.0) {
                all.push(row);
            }
        }
        offset += MEMBERS_PAGE;
        let total = reply.body.pointer("/meta/total").and_then(Value::as_u64).unwrap_or(0) as usize;
        if count == 0 || offset >= total {
            return Ok(Some(all));
        }
    }
}

/// What a group reconcile found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDrift {
    /// Tier members missing from their group, queued again: (group, username).
    pub requeued: Vec<(String, String)>,
    /// Group members Cadre did not put there, reported: (group, username).
    pub reported: Vec<(String, String)>,
    /// Members Cadre put in the group who no longer hold the tier, queued to be removed: (group, username).
    pub removed: Vec<(String, String)>,
    /// Tier members found in the group without Cadre's record of putting them there: recorded, nothing sent.
    pub adopted: usize,
    /// Notices written this time (a member already reported is reported again in `reported`, not noticed again).
    pub noticed: usize,
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
        let Some(present) = group_members(api, group).await? else { continue };
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
        // Members found there that Cadre's mirror does not list as tier members. A tier member (a crash between
        // Discourse's answer and Cadre's record) is Cadre's: adopted. One Cadre put there who no longer holds the tier
        // (taken away while write-back was off) is queued to be removed. Anyone else was added by hand: tell the
        // moderators once, leave them in.
        for (user, name) in &present {
            if mirrored.iter().any(|(_, u)| u == user) {
                continue;
            }
            if let Some(member) = tables::member_of(conn, *user).map_err(db)? {
                let member = member as i64;
                let check = |sql: &str| conn.query_row(sql, params![tier, member], |r| r.get::<_, bool>(0));
                let holds = check("SELECT COUNT(*) > 0 FROM access WHERE tier = ?1 AND member_id = ?2").map_err(db)?;
                let ours = check("SELECT COUNT(*) > 0 FROM discourse_group_members WHERE tier = ?1 AND member_id = ?2")
                    .map_err(db)?;
                if holds {
                    conn.execute(
                        "INSERT OR IGNORE INTO discourse_group_members (tier, member_id) VALUES (?1, ?2)",
                        params![tier, member],
                    )
                    .map_err(db)?;
                    drift.adopted += 1;
                    continue;
                }
                if ours {
                    let busy = check(
                        "SELECT COUNT(*) > 0 FROM outbox WHERE subject = ?1 AND member_id = ?2 \
                         AND change IN ('grant-access', 'revoke-access') AND state <> 'done'",
                    )
                    .map_err(db)?;
                    if !busy {
                        conn.execute(
                            "INSERT INTO outbox (change, member_id, subject, at) VALUES ('revoke-access', ?1, ?2, ?3)",
                            params![member, tier, now],
                        )
                        .map_err(db)?;
                        drift.removed.push((group.clone(), name.clone()));
                    }
                    continue;
                }
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
                drift.noticed += 1;
            }
            drift.reported.push((group.clone(), name.clone()));
        }
    }
    Ok(drift)
}

/// What a whole reconcile did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Posts and accepted answers.
    pub posts: PostsReport,
    /// Likes and unlikes.
    pub likes: ReconcileReport,
    /// Group drift (write-back on only).
    pub groups: GroupDrift,
    /// Badge drift (write-back on only).
    pub badges: BadgeDrift,
}

impl Reconciled {
    /// Whether anything was recorded, queued, adopted or newly reported (a member reported before is not news).
    pub fn changed(&self) -> bool {
        let p = &self.posts;
        p.posts_added + p.accepts_added + p.unaccepts_added + p.destroyed_added > 0
            || self.likes.likes_added + self.likes.likes_removed > 0
            || !self.groups.requeued.is_empty()
            || !self.groups.removed.is_empty()
            || self.groups.adopted + self.groups.noticed > 0
            || !self.badges.regranted.is_empty()
            || !self.badges.revoked.is_empty()
            || self.badges.adopted + self.badges.noticed > 0
    }
}

/// Reconcile everything, in the order that makes each part see the previous one's work: the latest `posts` posts
/// and their accepts, then the likes of the `posts` most recent recorded posts (the recovered ones among them), then
/// the groups and badges. `conn` is a second connection to the forum's database (the outbox's).
pub async fn reconcile_all(
    api: &Api,
    forum: &ForumThread,
    conn: &rusqlite::Connection,
    settings: &std::sync::Arc<crate::settings::DiscourseSettings>,
    posts: usize,
) -> Result<Reconciled, ReconcileError> {
    let posts_report = reconcile_posts(api, forum, settings.clone(), posts).await?;
    let likes = reconcile_likes(api, forum, posts).await?;
    let now = now_ms();
    let groups = reconcile_groups(api, conn, &settings.groups, now).await?;
    let badges = reconcile_badges(api, conn, now).await?;
    Ok(Reconciled { posts: posts_report, likes, groups, badges })
}
