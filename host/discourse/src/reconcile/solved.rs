//! Accepted answers older than the posts a reconcile reads: an accept (or its withdrawal, or its move to another
//! answer) made while Cadre was down on an answer that `GET /posts.json` no longer reaches.
//!
//! Each post the listing shows carries discourse-solved's `topic_accepted_answer` (its topic has a solution) beside
//! `accepted_answer` (this post is it). For a topic of the listing whose solution is not among the listed posts:
//! - Discourse says the topic has **no** solution and Cadre holds an accept in it: the accept is withdrawn, recorded
//!   as the `unaccepted_solution` webhook would record it — no request needed;
//! - Discourse says it **has** one and Cadre holds none, or holds one the listing does not show: Cadre asks for the
//!   topic, `GET /t/{id}.json` (at most [`TOPIC_CHECKS`] topics a run), whose discourse-solved field names the
//!   solution: `accepted_answers`, serialized posts with their ids (current plugin, TopicViewSerializerExtension with
//!   AcceptedAnswersSerializer), or `accepted_answer` `{post_number, username, …}` (older plugin), whose post id is
//!   read from the first chunk of `post_stream.posts` or, past it, `GET /posts/by_number/{topic}/{n}.json`. If Cadre's
//!   accept is not among them, the (latest) solution is accepted as the `accepted_solution` webhook would accept it,
//!   which takes the accept from the previous answer.
//!
//! Topics that never appear in the listing (no recent post) are not compared: an accept sends no post, so an accept
//! on a quiet topic missed while Cadre was down waits for the topic's next post, or for staff to redeliver the
//! webhook. Owns the comparison; the recording is `webhook`'s.

use std::collections::BTreeMap;

use hyper::Method;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use cadre_core::Forum;

use super::{ReconcileError, now_ms};
use crate::api::{Api, ApiError};
use crate::server::ForumThread;
use crate::tables;
use crate::webhook::{self, Handled, WebhookError};

/// At most this many topics are asked for (`GET /t/{id}.json`) in a run; the rest wait for the next.
pub const TOPIC_CHECKS: usize = 10;

/// What the comparison did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SolvedReport {
    /// Requests sent (`GET /t/{id}.json`, `GET /posts/by_number/…`).
    pub requests: usize,
    /// Topics asked for.
    pub topics_checked: usize,
    /// Accepts recorded.
    pub accepts_added: usize,
    /// Unaccepts recorded.
    pub unaccepts_added: usize,
}

/// What the listing says about one topic.
#[derive(Default)]
struct Seen {
    listed: Vec<i64>,
    solution_listed: bool,
    /// `topic_accepted_answer` of the newest listed post that has it (absent without discourse-solved).
    solved: Option<bool>,
}

fn topics(posts: &[Value]) -> BTreeMap<i64, Seen> {
    let mut topics: BTreeMap<i64, Seen> = BTreeMap::new();
    // Oldest first: the newest post's view of the topic is the one kept.
    for post in posts {
        let (Some(id), Some(topic)) =
            (post.get("id").and_then(Value::as_i64), post.get("topic_id").and_then(Value::as_i64))
        else {
            continue;
        };
        let seen = topics.entry(topic).or_default();
        seen.listed.push(id);
        seen.solution_listed |= post.get("accepted_answer").and_then(Value::as_bool) == Some(true);
        if let Some(solved) = post.get("topic_accepted_answer").and_then(Value::as_bool) {
            seen.solved = Some(solved);
        }
    }
    topics
}

/// The Discourse post Cadre holds as the accepted answer of a topic, if any.
fn held(forum: &Forum, topic: i64) -> Result<Option<i64>, WebhookError> {
    let Some(question) = tables::question_of(forum.conn(), topic)? else { return Ok(None) };
    Ok(forum
        .conn()
        .query_row(
            "SELECT d.post_id FROM accepts a JOIN discourse_posts d ON d.cadre_id = a.answer_id WHERE a.question_id = ?1",
            params![question as i64],
            |r| r.get(0),
        )
        .optional()?)
}

/// A topic to ask Discourse for: (topic, the Discourse post Cadre holds as its accepted answer).
type Ask = (i64, Option<i64>);

/// Record the withdrawals the listing shows (how many), and say which topics to ask for.
fn compare(forum: &mut Forum, topics: &BTreeMap<i64, Seen>, now: i64) -> Result<(usize, Vec<Ask>), WebhookError> {
    tables::ensure(forum.conn())?;
    let mut unaccepts = 0;
    let mut ask = Vec::new();
    for (&topic, seen) in topics {
        if seen.solution_listed {
            continue;
        }
        let held = held(forum, topic)?;
        let known = tables::question_of(forum.conn(), topic)?.is_some();
        match (seen.solved, held) {
            (Some(false), Some(post)) if !seen.listed.contains(&post) => {
                if let Handled::Recorded { .. } = webhook::solved_by_id(forum, post, false, now)? {
                    unaccepts += 1;
                }
            }
            (Some(true), held)
                if known && ask.len() < TOPIC_CHECKS && held.is_none_or(|post| !seen.listed.contains(&post)) =>
            {
                ask.push((topic, held));
            }
            _ => {}
        }
    }
    Ok((unaccepts, ask))
}

/// The ids of a topic's accepted answers as Discourse shows them, oldest accept first; `None` if it would not say.
async fn solutions(api: &Api, topic: i64, report: &mut SolvedReport) -> Result<Option<Vec<i64>>, ApiError> {
    report.requests += 1;
    let reply = api.call(Method::GET, &format!("/t/{topic}.json"), &[]).await?;
    if !reply.ok() {
        tracing::info!(topic, status = reply.status, "reconcile: Discourse did not show the topic");
        return Ok(None);
    }
    if let Some(answers) = reply.body.get("accepted_answers").and_then(Value::as_array) {
        return Ok(Some(answers.iter().filter_map(|a| a.get("id").and_then(Value::as_i64)).collect()));
    }
    let Some(number) = reply.body.pointer("/accepted_answer/post_number").and_then(Value::as_i64) else {
        return Ok(None);
    };
    let chunk = reply.body.pointer("/post_stream/posts").and_then(Value::as_array);
    let listed = chunk.into_iter().flatten().find(|p| p.get("post_number").and_then(Value::as_i64) == Some(number));
    if let Some(id) = listed.and_then(|p| p.get("id")).and_then(Value::as_i64) {
        return Ok(Some(vec![id]));
    }
    report.requests += 1;
    let reply = api.call(Method::GET, &format!("/posts/by_number/{topic}/{number}.json"), &[]).await?;
    Ok(reply.ok().then(|| reply.body.get("id").and_then(Value::as_i64)).flatten().map(|id| vec![id]))
}

/// Compare the solutions of the listed `posts`' topics with Cadre's accepts and record the difference.
pub async fn reconcile_solved(
    api: &Api,
    forum: &ForumThread,
    posts: Vec<Value>,
) -> Result<SolvedReport, ReconcileError> {
    let mut report = SolvedReport::default();
    let seen = topics(&posts);
    let (unaccepts, ask) = forum.run(move |forum| compare(forum, &seen, now_ms())).await??;
    report.unaccepts_added = unaccepts;
    for (topic, held) in ask {
        report.topics_checked += 1;
        let Some(ids) = solutions(api, topic, &mut report).await? else { continue };
        let Some(&latest) = ids.last() else { continue };
        if held.is_some_and(|post| ids.contains(&post)) {
            continue;
        }
        if let Handled::Recorded { .. } =
            forum.run(move |forum| webhook::solved_by_id(forum, latest, true, now_ms())).await??
        {
            report.accepts_added += 1;
        }
    }
    Ok(report)
}
