//! The member actions behind both the HTML forms and the JSON API: post a question, answer or reply, like and
//! unlike, accept and unaccept. Each runs as one job on the forum thread that first asks `visibility` whether the
//! member may see the target — a private or missing target is [`WebError::NotFound`] either way — and then goes
//! through the forum's event pipeline like any other event.

use cadre_core::Forum;
use cadre_core::forum::visibility::{Viewer, visible_post_category};
use cadre_core::forum::{NewPost, read};
use cadre_model::PostKind;

use super::AppState;
use super::auth::{Member, now_ms, random_token};
use super::error::WebError;

/// A fresh external id for an event that comes from the web (`web:like:7:…`).
fn external_id(kind: &str, member: &Member) -> String {
    format!("web:{kind}:{}:{}", member.id, &random_token()[..16])
}

async fn run<R: Send + 'static>(
    state: &AppState,
    job: impl FnOnce(&mut Forum) -> Result<R, WebError> + Send + 'static,
) -> Result<R, WebError> {
    state.forum.run(job).await?
}

/// Ask a question in the category `slug`. Returns the new topic's id.
pub async fn ask(
    state: &AppState,
    member: &Member,
    slug: String,
    title: String,
    body: String,
) -> Result<u64, WebError> {
    let (author, id) = (member.id, external_id("post", member));
    run(state, move |forum| {
        let viewer = Viewer::Member(author);
        let category = read::category(forum.conn(), viewer, &slug)?.ok_or(WebError::NotFound)?;
        let post = NewPost {
            kind: PostKind::Question,
            author,
            category: Some(category.id),
            parent: None,
            title: Some(title),
            body,
            at: now_ms(),
        };
        Ok(forum.create_post(&id, post)?.0)
    })
    .await
}

/// Answer a question, or reply to a post. Returns (topic, new post).
pub async fn respond(
    state: &AppState,
    member: &Member,
    kind: PostKind,
    parent: u64,
    body: String,
) -> Result<(u64, u64), WebError> {
    let (author, id) = (member.id, external_id("post", member));
    run(state, move |forum| {
        let viewer = Viewer::Member(author);
        let target = read::post(forum.conn(), viewer, parent)?.ok_or(WebError::NotFound)?;
        if kind == PostKind::Answer && target.kind != "question" {
            return Err(WebError::NotFound);
        }
        let post = NewPost { kind, author, category: None, parent: Some(parent), title: None, body, at: now_ms() };
        Ok((target.topic, forum.create_post(&id, post)?.0))
    })
    .await
}

/// What to do to a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostAction {
    /// Like it.
    Like,
    /// Take the like back.
    Unlike,
    /// Accept the answer (the asker only).
    Accept,
    /// Withdraw the acceptance.
    Unaccept,
}

/// Like, unlike, accept or unaccept a post the member can see. Returns the post's topic.
pub async fn act(state: &AppState, member: &Member, post: u64, action: PostAction) -> Result<u64, WebError> {
    let (who, id) = (member.id, external_id("act", member));
    run(state, move |forum| {
        let viewer = Viewer::Member(who);
        visible_post_category(forum.conn(), viewer, post)?.ok_or(WebError::NotFound)?;
        let target = read::post(forum.conn(), viewer, post)?.ok_or(WebError::NotFound)?;
        let at = now_ms();
        match action {
            PostAction::Like => forum.like(&id, who, post, at)?,
            PostAction::Unlike => forum.unlike(&id, who, post, at)?,
            PostAction::Accept => forum.accept(&id, who, post, at)?,
            PostAction::Unaccept => forum.unaccept(&id, who, post, at)?,
        };
        Ok(target.topic)
    })
    .await
}
