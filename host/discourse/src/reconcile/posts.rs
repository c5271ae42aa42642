//! Posts and accepted answers that webhooks missed, read back from `GET /posts.json`.
//!
//! Discourse never retries a delivery that could not connect, so a `post_created` or `accepted_solution` sent while
//! Cadre was down is lost. `GET /posts.json` (PostsController#latest) lists the site's latest public posts, newest
//! first: those whose ids lie in `(before - 50, before]` (`before` defaults to the last post's id; private messages
//! and deleted posts are left out, so a window may hold fewer than 50), each serialized with discourse-solved's
//! `accepted_answer` (this post is its topic's solution) and `topic_accepted_answer`. Windows are read backwards
//! until `max_posts` posts are seen, then applied oldest first (a topic's first post before its answers), each
//! through the webhook's own path (`webhook::handle`), so the filters and dedup keys are the webhook's: a post
//! already recorded is a duplicate that writes nothing, a post whose webhook comes late is a duplicate then. A
//! listed post that Discourse shows as its topic's solution and Cadre does not is accepted (taking the accept from
//! the previous answer, as a webhook would); one Cadre holds as accepted that Discourse no longer shows as the
//! solution is unaccepted. A topic whose solution lies outside the listed posts is compared by [`super::solved`].
//!
//! A post Cadre holds whose id lies within the windows read but which Discourse no longer lists was deleted there, or
//! its topic was (the listing leaves out deleted posts and posts of deleted topics). Its `post_destroyed` may have
//! been missed, so Cadre asks for it, `GET /posts/{id}.json` (PostsController#show), at most
//! [`DESTROYED_CHECKS`] posts a run: to staff — the admin API user — a deleted post is shown with its `deleted_at`,
//! and a post deleted permanently is 404. Either is recorded as the webhook would record `post_destroyed`
//! (`webhook::destroyed_by_id`); a post shown without `deleted_at` (its topic was deleted: Discourse sends
//! `post_destroyed` only for the topic's first post) or any other answer is left alone. Posts older than the windows
//! are never compared. Owns the reading and the comparison; the recording is `webhook`'s.

use std::sync::Arc;

use hyper::Method;
use serde_json::{Value, json};

use cadre_core::Forum;

use super::{ReconcileError, now_ms};
use crate::api::{Api, ApiError};
use crate::server::ForumThread;
use crate::settings::DiscourseSettings;
use crate::tables;
use crate::webhook::{self, Handled, WebhookError};

/// How many post ids one `GET /posts.json` covers (PostsController#latest).
pub const WINDOW: i64 = 50;

/// At most this many posts missing from the listing are asked for one by one in a run (the rest wait for the next
/// run), so a topic of many answers deleted at once cannot spend the site's budget.
pub const DESTROYED_CHECKS: usize = 10;

/// What a posts reconcile did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PostsReport {
    /// `GET /posts.json` requests sent.
    pub requests: usize,
    /// Posts Discourse listed.
    pub listed: usize,
    /// Posts recorded that no webhook brought.
    pub posts_added: usize,
    /// Accepts recorded that no webhook brought.
    pub accepts_added: usize,
    /// Unaccepts recorded (the solution moved or was withdrawn and the webhook was missed).
    pub unaccepts_added: usize,
    /// Listed posts the filters leave out (whispers, small actions, filtered categories, unknown topics).
    pub skipped: usize,
    /// Topics of the listing whose solution is not listed, asked for (`GET /t/{id}.json`, see [`super::solved`]).
    pub topics_checked: usize,
    /// Posts Cadre holds that Discourse no longer lists, asked for one by one (`GET /posts/{id}.json`).
    pub missing_checked: usize,
    /// Of those, posts found deleted (or gone) on Discourse and recorded as destroyed.
    pub destroyed_added: usize,
}

/// The latest public posts, newest first: windows of [`WINDOW`] ids read backwards until `max_posts` posts are seen
/// (and never more than `max_posts / 50 + 2` requests, so a run of empty windows cannot spend the budget).
async fn latest(api: &Api, max_posts: usize) -> Result<(Vec<Value>, usize), ApiError> {
    let mut posts = Vec::new();
    let mut before: Option<i64> = None;
    let mut requests = 0;
    let max_requests = max_posts.div_ceil(WINDOW as usize) + 2;
    while posts.len() < max_posts && requests < max_requests {
        let path = match before {
            None => "/posts.json".to_owned(),
            Some(before) => format!("/posts.json?before={before}"),
        };
        let reply = api.call(Method::GET, &path, &[]).await?;
        requests += 1;
        if !reply.ok() {
            tracing::warn!(path, status = reply.status, error = reply.error_text(), "reconcile: cannot list posts");
            break;
        }
        let page: Vec<Value> = reply.body.get("latest_posts").and_then(Value::as_array).cloned().unwrap_or_default();
        let oldest = page.iter().filter_map(|p| p.get("id").and_then(Value::as_i64)).min();
        before = match (oldest, before) {
            // The next window ends just below the oldest post seen: nothing between is skipped or read twice.
            (Some(oldest), _) => Some(oldest - 1),
            // A window of only private or deleted posts: step over it.
            (None, Some(before)) => Some(before - WINDOW),
            // An empty site (or its last 50 ids all invisible): nothing to read.
            (None, None) => break,
        };
        posts.extend(page);
        if before.is_some_and(|b| b <= 0) {
            break;
        }
    }
    Ok((posts, requests))
}

/// Apply the listed posts, oldest first, each in its own transaction (the webhook's).
fn apply(
    forum: &mut Forum,
    settings: &DiscourseSettings,
    posts: &[Value],
    now: i64,
) -> Result<PostsReport, WebhookError> {
    let mut report = PostsReport { listed: posts.len(), ..PostsReport::default() };
    for post in posts {
        let Some(id) = post.get("id").and_then(Value::as_i64) else { continue };
        tables::ensure(forum.conn())?;
        if tables::post(forum.conn(), id)?.is_none() {
            match webhook::handle(forum, settings, "post_created", &json!({ "post": post }), now)? {
                Handled::Recorded { .. } => report.posts_added += 1,
                Handled::Skipped(why) => {
                    tracing::debug!(post = id, why, "reconcile: post not recorded");
                    report.skipped += 1;
                    continue;
                }
                Handled::Duplicate | Handled::Noted(_) => {}
            }
        }
        // Without discourse-solved (or with it off) the field is absent: nothing to compare.
        let event = match post.get("accepted_answer").and_then(Value::as_bool) {
            Some(true) => "accepted_solution",
            Some(false) => "unaccepted_solution",
            None => continue,
        };
        // An accepted answer Cadre already holds is a duplicate; an unaccept of an answer Cadre does not hold as
        // accepted is a skip. Neither writes anything.
        if let Handled::Recorded { .. } = webhook::handle(forum, settings, event, &json!({ "solved": post }), now)? {
            if event == "accepted_solution" {
                report.accepts_added += 1;
            } else {
                report.unaccepts_added += 1;
            }
        }
    }
    Ok(report)
}

/// Read the latest `max_posts` posts from Discourse and record the posts, accepts and unaccepts Cadre missed.
pub async fn reconcile_posts(
    api: &Api,
    forum: &ForumThread,
    settings: Arc<DiscourseSettings>,
    max_posts: usize,
) -> Result<PostsReport, ReconcileError> {
    let (mut posts, requests) = latest(api, max_posts).await?;
    posts.sort_by_key(|p| p.get("id").and_then(Value::as_i64).unwrap_or(0));
    posts.dedup_by_key(|p| p.get("id").and_then(Value::as_i64).unwrap_or(0));
    let listed: Vec<i64> = posts.iter().filter_map(|p| p.get("id").and_then(Value::as_i64)).collect();
    let read = posts.clone();
    let mut report = forum.run(move |forum| apply(forum, &settings, &posts, now_ms())).await??;
    report.requests = requests;
    let solved = super::solved::reconcile_solved(api, forum, read).await?;
    report.requests += solved.requests;
    report.topics_checked = solved.topics_checked;
    report.accepts_added += solved.accepts_added;
    report.unaccepts_added += solved.unaccepts_added;
    let missing = forum.run(move |forum| missing(forum, &listed)).await??;
    for post in missing {
        report.missing_checked += 1;
        report.requests += 1;
        if destroyed_on_discourse(api, post).await?
            && let Handled::Noted(_) = forum.run(move |forum| webhook::destroyed_by_id(forum, post, now_ms())).await??
        {
            report.destroyed_added += 1;
        }
    }
    Ok(report)
}

/// The live posts Cadre holds with ids within the listed windows (from the oldest listed up) that the listing left
/// out, newest first, at most [`DESTROYED_CHECKS`].
fn missing(forum: &Forum, listed: &[i64]) -> Result<Vec<i64>, cadre_core::forum::ForumError> {
    let Some(&oldest) = listed.iter().min() else { return Ok(Vec::new()) };
    tables::ensure(forum.conn())?;
    let mut statement = forum
        .conn()
        .prepare("SELECT post_id FROM discourse_posts WHERE destroyed = 0 AND post_id >= ?1 ORDER BY post_id DESC")?;
    let held = statement.query_map([oldest], |r| r.get::<_, i64>(0))?;
    let mut out = Vec::new();
    for post in held {
        let post = post?;
        if !listed.contains(&post) {
            out.push(post);
            if out.len() == DESTROYED_CHECKS {
                break;
            }
        }
    }
    Ok(out)
}

/// Whether Discourse shows post `post` as deleted (`deleted_at` set) or has no such post (404) — to staff, as the
/// admin API user is.
async fn destroyed_on_discourse(api: &Api, post: i64) -> Result<bool, ApiError> {
    let reply = api.call(Method::GET, &format!("/posts/{post}.json"), &[]).await?;
    if reply.status == 404 {
        return Ok(true);
    }
    if !reply.ok() {
        tracing::info!(post, status = reply.status, "reconcile: Discourse did not show a post it no longer lists");
        return Ok(false);
    }
    Ok(reply.body.get("deleted_at").is_some_and(|d| !d.is_null()))
}
