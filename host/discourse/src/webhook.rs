//! Discourse's webhooks as Cadre events: which deliveries count, what each becomes, and its dedup key.
//!
//! Runs on the forum thread after the signature was checked (`server`). Every delivery is handled in **one
//! transaction** (`Forum::batch`): the member it names, the forum change, the event, the adapter's bookkeeping.
//! Dedup keys are built from the event name and the object ids, never from `X-Discourse-Event-Id` (a retry gets a
//! new one): `discourse:post:<post>`, `discourse:post_liked:<post>:<liker>#<n>` (n = likes of that pair removed
//! before, so a like after an unlike is new), `discourse:accepted_solution:<post>#<n>` and
//! `discourse:unaccepted_solution:<post>#<n>` (n = times that answer lost its accept before).
//!
//! What counts: posts of type 1 (regular) in topics whose archetype and category the `[discourse]` filters keep;
//! never private messages, whispers (4), small actions (3) or moderator actions (2). A wiki post is recorded as
//! community wiki, so the program gives its likes nothing. A first post (`post_number` 1) is the topic's question;
//! every later post is an answer to it (discourse-solved can accept any of them). `post_destroyed` takes back what the
//! post earned, as a deletion in Cadre's own forum does (each live like becomes a like-removed event, its accept an
//! answer-unaccepted one; a topic's first post takes the topic's posts with it) and marks it, so later likes and
//! accepts on it are skipped; `post_recovered` clears the mark (its likes come back through reconciliation), or
//! records the post if it was never seen. Accepting another answer
//! unaccepts the old one first (`Forum::import_accept`), since Discourse sends nothing for it. Does not own
//! unlikes: Discourse sends none, reconciliation must find them.

use cadre_core::Forum;
use cadre_core::events::Outcome;
use cadre_core::forum::{ForumError, ImportedPost};
use cadre_model::PostKind;
use rusqlite::{OptionalExtension, params};
use serde_json::Value;

use crate::settings::DiscourseSettings;
use crate::tables;

/// What became of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// A new event was recorded at this position of the log.
    Recorded {
        /// The event's id.
        event_id: i64,
    },
    /// The adapter's view changed without a program event (a member, a destroyed or recovered post).
    Noted(String),
    /// Seen before (same dedup key): nothing was done.
    Duplicate,
    /// Not for the program (filtered, or about something Cadre does not track), with the reason.
    Skipped(String),
}

/// Why a delivery was refused (the server answers 400 or 500).
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    /// The body is not the payload the event names.
    #[error("malformed {event} payload: {reason}")]
    Malformed {
        /// The event.
        event: String,
        /// What is missing or wrong.
        reason: String,
    },
    /// The forum failed.
    #[error(transparent)]
    Forum(#[from] ForumError),
}

impl From<rusqlite::Error> for WebhookError {
    fn from(error: rusqlite::Error) -> WebhookError {
        WebhookError::Forum(error.into())
    }
}

/// The fields of a post payload Cadre reads.
struct Post {
    id: i64,
    user_id: i64,
    username: String,
    topic_id: i64,
    post_number: i64,
    post_type: i64,
    created_at: i64,
    wiki: bool,
    deleted: bool,
    archetype: String,
    category_id: Option<u64>,
    category_slug: Option<String>,
    topic_title: Option<String>,
}

fn malformed(event: &str, reason: impl Into<String>) -> WebhookError {
    WebhookError::Malformed { event: event.to_owned(), reason: reason.into() }
}

/// Milliseconds since the epoch of an RFC 3339 time (`2023-02-09T10:19:46.324Z`).
pub fn parse_time(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

fn int(v: &Value, key: &str, event: &str) -> Result<i64, WebhookError> {
    v.get(key).and_then(Value::as_i64).ok_or_else(|| malformed(event, format!("`{key}` is missing or not a number")))
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn parse_post(v: &Value, event: &str) -> Result<Post, WebhookError> {
    if !v.is_object() {
        return Err(malformed(event, "the post is not an object"));
    }
    let created = text(v, "created_at").ok_or_else(|| malformed(event, "`created_at` is missing"))?;
    Ok(Post {
        id: int(v, "id", event)?,
        user_id: int(v, "user_id", event)?,
        username: text(v, "username").ok_or_else(|| malformed(event, "`username` is missing"))?,
        topic_id: int(v, "topic_id", event)?,
        post_number: int(v, "post_number", event)?,
        post_type: v.get("post_type").and_then(Value::as_i64).unwrap_or(1),
        created_at: parse_time(&created).ok_or_else(|| malformed(event, format!("`created_at` {created:?}")))?,
        wiki: v.get("wiki").and_then(Value::as_bool).unwrap_or(false),
        deleted: v.get("deleted_at").is_some_and(|d| !d.is_null()),
        archetype: text(v, "topic_archetype").unwrap_or_else(|| "regular".to_owned()),
        category_id: v.get("category_id").and_then(Value::as_u64),
        category_slug: text(v, "category_slug"),
        topic_title: text(v, "topic_title"),
    })
}

/// Why a post does not count, if it does not.
fn filtered(settings: &DiscourseSettings, post: &Post) -> Option<String> {
    if post.archetype == "private_message" {
        return Some("a private message".into());
    }
    match post.post_type {
        1 => {}
        2 => return Some("a moderator action post".into()),
        3 => return Some("a small action".into()),
        4 => return Some("a whisper".into()),
        other => return Some(format!("post type {other}")),
    }
    if !settings.counts(&post.archetype, post.category_id) {
        return Some(format!(
            "archetype {:?} / category {:?} is filtered out by [discourse]",
            post.archetype, post.category_id
        ));
    }
    None
}

/// The member for a Discourse user (created on first sight, its name cached). System users (id < 1) are nobody.
fn member(forum: &mut Forum, user_id: i64, username: &str, at: i64) -> Result<Option<u64>, WebhookError> {
    if user_id < 1 {
        return Ok(None);
    }
    let id = forum.import_member(&tables::member_key(user_id), username, at)?;
    tables::remember_username(forum.conn(), user_id, username)?;
    Ok(Some(id))
}

fn outcome(outcome: Outcome) -> Handled {
    if outcome.duplicate { Handled::Duplicate } else { Handled::Recorded { event_id: outcome.event_id } }
}

/// Handle one verified delivery of `event` (the `X-Discourse-Event` header) with its parsed body, received at `now`
/// (ms). All of it commits together or not at all.
pub fn handle(
    forum: &mut Forum,
    settings: &DiscourseSettings,
    event: &str,
    body: &Value,
    now: i64,
) -> Result<Handled, WebhookError> {
    // `Forum::batch` rolls back on its own error type: a malformed body is kept aside, the transaction rolled back.
    let mut refused: Option<WebhookError> = None;
    let result = forum.batch(|forum| match dispatch(forum, settings, event, body, now) {
        Ok(handled) => Ok(handled),
        Err(WebhookError::Forum(error)) => Err(error),
        Err(malformed) => {
            refused = Some(malformed);
            Err(ForumError::Invalid("malformed".into()))
        }
    });
    match (result, refused) {
        (_, Some(malformed)) => Err(malformed),
        (Ok(handled), None) => Ok(handled),
        (Err(error), None) => Err(error.into()),
    }
}

fn dispatch(
    forum: &mut Forum,
    settings: &DiscourseSettings,
    event: &str,
    body: &Value,
    now: i64,
) -> Result<Handled, WebhookError> {
    {
        tables::ensure(forum.conn())?;
        match event {
            "ping" => Ok(Handled::Skipped("ping".into())),
            "post_created" | "post_recovered" => {
                let post = parse_post(body.get("post").unwrap_or(&Value::Null), event)?;
                post_seen(forum, settings, &post, event == "post_recovered")
            }
            "post_destroyed" => {
                let post = parse_post(body.get("post").unwrap_or(&Value::Null), event)?;
                mark_destroyed(forum, post.id, now)
            }
            "post_liked" => {
                let like = body.get("like").ok_or_else(|| malformed(event, "no `like` object"))?;
                let post = parse_post(like.get("post").unwrap_or(&Value::Null), event)?;
                let user = like.get("user").ok_or_else(|| malformed(event, "no `like.user`"))?;
                let liker_id = int(user, "id", event)?;
                let liker_name = text(user, "username").ok_or_else(|| malformed(event, "`like.user.username`"))?;
                like_by_id(forum, post.id, liker_id, &liker_name, now)
            }
            "accepted_solution" | "unaccepted_solution" => {
                let post = parse_post(body.get("solved").unwrap_or(&Value::Null), event)?;
                solved_by_id(forum, post.id, event == "accepted_solution", now)
            }
            "user_created" => {
                let user = body.get("user").ok_or_else(|| malformed(event, "no `user` object"))?;
                let id = int(user, "id", event)?;
                let name = text(user, "username").ok_or_else(|| malformed(event, "`user.username`"))?;
                let joined = text(user, "created_at").and_then(|t| parse_time(&t)).unwrap_or(now);
                match member(forum, id, &name, joined)? {
                    Some(member) => Ok(Handled::Noted(format!("user {id} is member {member}"))),
                    None => Ok(Handled::Skipped(format!("user {id} is a system user"))),
                }
            }
            other => Ok(Handled::Skipped(format!("event {other:?} is not one Cadre uses"))),
        }
    }
}

fn post_seen(
    forum: &mut Forum,
    settings: &DiscourseSettings,
    post: &Post,
    recovered: bool,
) -> Result<Handled, WebhookError> {
    if let Some((_, _, destroyed)) = tables::post(forum.conn(), post.id)? {
        if recovered && destroyed {
            // A first post recovered is the topic restored: its posts count again. Their likes come back through
            // reconciliation (each a new like: the refund removed the old one), their accept through the
            // solutions it reads.
            if post.post_number == 1 {
                forum
                    .conn()
                    .execute("UPDATE discourse_posts SET destroyed = 0 WHERE topic_id = ?1", params![post.topic_id])?;
            } else {
                forum
                    .conn()
                    .execute("UPDATE discourse_posts SET destroyed = 0 WHERE post_id = ?1", params![post.id])?;
            }
            return Ok(Handled::Noted(format!("post {} recovered", post.id)));
        }
        return Ok(Handled::Duplicate);
    }
    if let Some(reason) = filtered(settings, post) {
        return Ok(Handled::Skipped(reason));
    }
    if post.deleted {
        return Ok(Handled::Skipped("the post is deleted".into()));
    }
    let author = member(forum, post.user_id, &post.username, post.created_at)?;
    let wiki_since = post.wiki.then_some(post.created_at);
    let imported = if post.post_number == 1 {
        let category_id = post.category_id.unwrap_or(0);
        let slug = format!("discourse-{category_id}");
        let name = post.category_slug.clone().unwrap_or_else(|| slug.clone());
        let category = forum.ensure_category(&slug, &name, None)?;
        ImportedPost {
            kind: PostKind::Question,
            author,
            parent: None,
            category: Some(category),
            title: Some(post.topic_title.clone().unwrap_or_default()),
            body: String::new(),
            at: post.created_at,
            wiki_since,
        }
    } else {
        let Some(question) = tables::question_of(forum.conn(), post.topic_id)? else {
            tracing::warn!(post = post.id, topic = post.topic_id, "post skipped: its topic's first post is unknown");
            return Ok(Handled::Skipped(format!("topic {}'s first post was never recorded", post.topic_id)));
        };
        ImportedPost {
            kind: PostKind::Answer,
            author,
            parent: Some(question),
            category: None,
            title: None,
            body: String::new(),
            at: post.created_at,
            wiki_since,
        }
    };
    let (cadre_id, result) = forum.import_post(&tables::post_key(post.id), imported)?;
    if post.post_number == 1 {
        forum
            .conn()
            .prepare_cached("INSERT OR IGNORE INTO discourse_topics (topic_id, question_id) VALUES (?1, ?2)")?
            .execute(params![post.topic_id, cadre_id as i64])?;
    }
    forum
        .conn()
        .prepare_cached("INSERT OR IGNORE INTO discourse_posts (post_id, cadre_id, topic_id) VALUES (?1, ?2, ?3)")?
        .execute(params![post.id, cadre_id as i64, post.topic_id])?;
    Ok(outcome(result))
}

/// What `post_destroyed` does, as a deletion does in Cadre's own forum: take back what the post earned — each live
/// like recorded as a like-removed event, its accept as an answer-unaccepted event (`Forum::take_back`, keys
/// `discourse:post_destroyed:<post>#unlike-<like>` and `#unaccept-<answer>`) — and mark it destroyed, so later likes
/// and accepts on it are skipped. A topic's first post destroyed is the topic deleted (Discourse sends
/// `post_destroyed` for the first post only): every post recorded in the topic goes with it. A post already marked
/// is a duplicate; one never recorded is a skip.
fn mark_destroyed(forum: &mut Forum, post_id: i64, at: i64) -> Result<Handled, WebhookError> {
    let Some((cadre_id, topic_id, destroyed)) = tables::post(forum.conn(), post_id)? else {
        return Ok(Handled::Skipped(format!("post {post_id} was never recorded")));
    };
    if destroyed {
        return Ok(Handled::Duplicate);
    }
    let whole_topic = tables::question_of(forum.conn(), topic_id)? == Some(cadre_id);
    let doomed: Vec<u64> = if whole_topic {
        forum
            .conn()
            .prepare_cached(
                "SELECT cadre_id FROM discourse_posts WHERE topic_id = ?1 AND destroyed = 0 ORDER BY post_id",
            )?
            .query_map(params![topic_id], |row| row.get::<_, i64>(0))?
            .map(|id| id.map(|id| id as u64))
            .collect::<Result<_, _>>()?
    } else {
        vec![cadre_id]
    };
    if whole_topic {
        forum.conn().execute("UPDATE discourse_posts SET destroyed = 1 WHERE topic_id = ?1", params![topic_id])?;
    } else {
        forum.conn().execute("UPDATE discourse_posts SET destroyed = 1 WHERE post_id = ?1", params![post_id])?;
    }
    let refunds = forum.take_back(&format!("discourse:post_destroyed:{post_id}"), &doomed, at)?;
    let what =
        if whole_topic { format!("topic {topic_id} ({} post(s))", doomed.len()) } else { format!("post {post_id}") };
    Ok(Handled::Noted(format!(
        "{what} destroyed: {} refund event(s) (its likes removed, its accept withdrawn); later likes and accepts on it \
         are ignored",
        refunds.len()
    )))
}

/// Record that Discourse post `post_id` was destroyed (reconciliation found it deleted, or gone, on Discourse) at
/// `at`: the `post_destroyed` webhook's own effect, in one transaction.
pub fn destroyed_by_id(forum: &mut Forum, post_id: i64, at: i64) -> Result<Handled, WebhookError> {
    tables::ensure(forum.conn())?;
    Ok(forum.batch(|forum| {
        mark_destroyed(forum, post_id, at).map_err(|e| match e {
            WebhookError::Forum(e) => e,
            other => ForumError::Invalid(other.to_string()),
        })
    })?)
}

/// The recorded, live Cadre post of a Discourse post, or why there is none.
fn live_post(forum: &Forum, post: i64) -> Result<Result<u64, String>, WebhookError> {
    Ok(match tables::post(forum.conn(), post)? {
        None => Err(format!("post {post} was never recorded (filtered, or its webhook was missed)")),
        Some((_, _, true)) => Err(format!("post {post} was destroyed")),
        Some((id, _, false)) => Ok(id),
    })
}

/// Record that Discourse user `liker_id` likes Discourse post `post_id` (a webhook, reconciliation).
pub fn like_by_id(
    forum: &mut Forum,
    post_id: i64,
    liker_id: i64,
    liker_name: &str,
    now: i64,
) -> Result<Handled, WebhookError> {
    like_with_generation(forum, post_id, liker_id, liker_name, now, None)
}

/// As [`like_by_id`], with the like's generation (how many likes of this pair were removed before it) given by the
/// caller — the backup knows it from its rows, so importing again finds the same keys — instead of counted.
pub fn like_with_generation(
    forum: &mut Forum,
    post_id: i64,
    liker_id: i64,
    liker_name: &str,
    now: i64,
    generation: Option<i64>,
) -> Result<Handled, WebhookError> {
    let cadre_post = match live_post(forum, post_id)? {
        Ok(id) => id,
        Err(reason) => return Ok(Handled::Skipped(reason)),
    };
    let Some(liker) = member(forum, liker_id, liker_name, now)? else {
        return Ok(Handled::Skipped("liked by a system user".into()));
    };
    let (active, removed): (i64, i64) = forum
        .conn()
        .prepare_cached(
            "SELECT COUNT(*) FILTER (WHERE removed_at IS NULL), COUNT(*) FILTER (WHERE removed_at IS NOT NULL) \
             FROM likes WHERE post_id = ?1 AND liker_id = ?2",
        )?
        .query_row(params![cadre_post as i64, liker as i64], |row| Ok((row.get(0)?, row.get(1)?)))?;
    if active > 0 {
        return Ok(Handled::Duplicate);
    }
    let key = format!("discourse:post_liked:{post_id}:{liker_id}#{}", generation.unwrap_or(removed));
    Ok(outcome(forum.import_like(&key, Some(liker), cadre_post, now)?))
}

/// Record that Discourse user `liker_id` no longer likes Discourse post `post_id` (reconciliation, the backup).
pub fn unlike_by_id(forum: &mut Forum, post_id: i64, liker_id: i64, at: i64) -> Result<Handled, WebhookError> {
    let Some((cadre_post, _, _)) = tables::post(forum.conn(), post_id)? else {
        return Ok(Handled::Skipped(format!("post {post_id} was never recorded")));
    };
    let Some(liker) = tables::member_of(forum.conn(), liker_id)? else {
        return Ok(Handled::Skipped(format!("user {liker_id} is not known")));
    };
    let active: Option<(String, i64)> = forum
        .conn()
        .prepare_cached(
            "SELECT l.external_id, (SELECT COUNT(*) FROM likes r WHERE r.post_id = l.post_id \
             AND r.liker_id = l.liker_id AND r.removed_at IS NOT NULL) \
             FROM likes l WHERE l.post_id = ?1 AND l.liker_id = ?2 AND l.removed_at IS NULL \
             AND l.external_id IS NOT NULL",
        )?
        .query_row(params![cadre_post as i64, liker as i64], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let Some((like_key, generation)) = active else {
        return Ok(Handled::Duplicate);
    };
    let key = format!("discourse:post_unliked:{post_id}:{liker_id}#{generation}");
    Ok(outcome(forum.import_unlike(&key, &like_key, at)?))
}

fn accept_generation_key(post_id: i64) -> String {
    format!("accept:{post_id}")
}

/// Record that Discourse post `post_id` was accepted as its topic's solution (`accepted`) or no longer is (a webhook,
/// the backup).
pub fn solved_by_id(forum: &mut Forum, post_id: i64, accepted: bool, now: i64) -> Result<Handled, WebhookError> {
    let cadre_post = match live_post(forum, post_id)? {
        Ok(id) => id,
        Err(reason) => return Ok(Handled::Skipped(reason)),
    };
    let conn = forum.conn();
    let kind: String =
        conn.query_row("SELECT kind FROM posts WHERE id = ?1", params![cadre_post as i64], |r| r.get(0))?;
    if kind == "question" {
        return Ok(Handled::Skipped("a topic's first post cannot be its solution".into()));
    }
    let is_accepted =
        conn.query_row("SELECT 1 FROM accepts WHERE answer_id = ?1", params![cadre_post as i64], |_| Ok(())).is_ok();
    let generation = tables::generation(conn, &accept_generation_key(post_id))?;
    if accepted {
        if is_accepted {
            return Ok(Handled::Duplicate);
        }
        // The answer this accept replaces loses its accept (the core records the derived unaccept): count it.
        let replaced: Option<i64> = conn
            .query_row(
                "SELECT d.post_id FROM accepts a JOIN discourse_posts d ON d.cadre_id = a.answer_id \
                 WHERE a.question_id = (SELECT topic_id FROM posts WHERE id = ?1)",
                params![cadre_post as i64],
                |row| row.get(0),
            )
            .ok();
        let key = format!("discourse:accepted_solution:{post_id}#{generation}");
        let result = forum.import_accept(&key, cadre_post, now)?;
        if let Some(replaced) = replaced
            && !result.duplicate
        {
            tables::bump_generation(forum.conn(), &accept_generation_key(replaced))?;
        }
        Ok(outcome(result))
    } else {
        if !is_accepted {
            return Ok(Handled::Skipped(format!("post {post_id} is not the accepted answer")));
        }
        let key = format!("discourse:unaccepted_solution:{post_id}#{generation}");
        let result = forum.import_unaccept(&key, cadre_post, now)?;
        if !result.duplicate {
            tables::bump_generation(forum.conn(), &accept_generation_key(post_id))?;
        }
        Ok(outcome(result))
    }
}
