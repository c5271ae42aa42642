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
//! solution is unaccepted. Posts recorded in Cadre but absent from the windows (older, or destroyed on Discourse)
//! are left alone. Owns the reading and the comparison; the recording is `webhook`'s.

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
    let mut report = forum.run(move |forum| apply(forum, &settings, &posts, now_ms())).await??;
    report.requests = requests;
    Ok(report)
}
