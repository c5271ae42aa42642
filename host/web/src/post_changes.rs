//! Editing and deleting posts, on the web: the edit page and its form, the delete button, their JSON twins, and
//! the moderators' view of a post's history (every earlier text, and deleted posts).
//!
//! The author may edit or delete their own post; a moderator any post. Everyone else — and anyone asking about a
//! post they may not see, a deleted one included — gets exactly the not-found answer a missing post gets. What the
//! program earned from a deleted post is taken back in the deletion's transaction (`Forum::delete_post`).
//!
//! Owns these handlers only; the rules are `cadre_core::forum::edits`, the transaction `events::post_changes`.

use axum::Form;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::api::{ApiResult, check};
use super::auth::{Member, Who, now_ms, random_token};
use super::error::{ApiError, WebError};
use super::html::{ago, csrf, date_time, page};
use super::markdown;
use super::pages::{PageResult, form_error};
use super::post_ref::PostRef;
use cadre_core::forum::read::{self, Post};
use cadre_core::forum::visibility::{Viewer, visible_post_category};

/// The post a member asks to change, if they may see it and may change it (author or moderator); not found
/// otherwise, whichever the reason.
async fn changeable(state: &AppState, member: &Member, post: u64) -> Result<Post, WebError> {
    let (viewer, me, moderator) = (Viewer::Member(member.id), member.id, member.moderator);
    let post = state.forum.read(move |conn| read::post(conn, viewer, post)).await?.ok_or(WebError::NotFound)?;
    if post.author_id != Some(me) && !moderator {
        return Err(WebError::NotFound);
    }
    Ok(post)
}

/// Edit a post the member may see and change. Returns (topic, post).
pub async fn edit(
    state: &AppState,
    member: &Member,
    post: u64,
    title: Option<String>,
    body: String,
) -> Result<(u64, u64), WebError> {
    let who = member.id;
    state
        .forum
        .run(move |forum| -> Result<(u64, u64), WebError> {
            let viewer = Viewer::Member(who);
            visible_post_category(forum.conn(), viewer, post)?.ok_or(WebError::NotFound)?;
            let target = read::post(forum.conn(), viewer, post)?.ok_or(WebError::NotFound)?;
            forum.edit_post(who, post, title.as_deref(), &body, now_ms())?;
            Ok((target.topic, post))
        })
        .await?
}

/// Delete a post the member may see and change. Returns the topic's public path to go back to: the topic, or its
/// category when the topic itself went.
pub async fn delete(state: &AppState, member: &Member, post: u64, reason: String) -> Result<String, WebError> {
    let who = member.id;
    let external_id = format!("web:delete:{who}:{}", &random_token()[..16]);
    let ids = state.forum.ids().clone();
    state
        .forum
        .run(move |forum| -> Result<String, WebError> {
            let viewer = Viewer::Member(who);
            visible_post_category(forum.conn(), viewer, post)?.ok_or(WebError::NotFound)?;
            let target = read::post(forum.conn(), viewer, post)?.ok_or(WebError::NotFound)?;
            let category = read::topic(forum.conn(), viewer, target.topic)?.map(|t| t.category.slug);
            let deleted = forum.delete_post(&external_id, who, post, &reason, now_ms())?;
            Ok(if deleted.posts.contains(&deleted.topic) {
                format!("/c/{}", category.unwrap_or_default())
            } else {
                format!("/t/{}", ids.post(deleted.topic))
            })
        })
        .await?
}

/// The edit form.
#[derive(Debug, Deserialize)]
pub struct EditForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// The new title (questions; absent keeps it).
    #[serde(default)]
    pub title: Option<String>,
    /// The new text.
    #[serde(default)]
    pub body: String,
}

/// The delete form.
#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// Why (kept in the audit log; optional for one's own post).
    #[serde(default)]
    pub reason: String,
}

fn edit_page(who: &Who, post: &Post, title: &str, body: &str, error: Option<&str>) -> Markup {
    let heading = if post.kind == "question" { "Edit your question" } else { "Edit your post" };
    page(
        who,
        "Edit",
        html! {
            div.narrow {
                p.muted { a href={ "/t/" (post.public_topic) "#p" (post.public_id) } { "← Back to the topic" } }
                h1 { (heading) }
                @if let Some(error) = error { (form_error(error)) }
                form method="post" action={ "/p/" (post.public_id) "/edit" } {
                    (csrf(who))
                    @if post.kind == "question" {
                        label for="title" { "Title" }
                        input #title type="text" name="title" maxlength="300" required value=(title);
                    }
                    label for="body" { "Text" }
                    textarea #body name="body" rows="10" maxlength="65536" required { (body) }
                    p { button #edit-submit type="submit" { "Save changes" } }
                    p.muted { "Moderators can see what the post said before an edit." }
                }
            }
        },
    )
}

/// `GET /p/{post}/edit`: the edit form, for the author or a moderator.
pub async fn edit_form(State(state): State<AppState>, who: Who, id: PostRef) -> PageResult {
    let member = who.member.as_ref().ok_or(WebError::NotFound)?;
    let post = changeable(&state, member, id.number).await?;
    let title = post.title.clone().unwrap_or_default();
    Ok(Html(edit_page(&who, &post, &title, &post.body, None).into_string()).into_response())
}

/// `POST /p/{post}/edit`: save; refused, the form again with the text sent and the reason (400).
pub async fn edit_submit(
    State(state): State<AppState>,
    who: Who,
    id: PostRef,
    Form(form): Form<EditForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let member = who.member()?;
    match edit(&state, member, id.number, form.title.clone(), form.body.clone()).await {
        Ok((topic, post)) => {
            let ids = state.forum.ids();
            Ok(Redirect::to(&format!("/t/{}#p{}", ids.post(topic), ids.post(post))).into_response())
        }
        Err(WebError::Invalid(error)) => {
            let post = changeable(&state, member, id.number).await?;
            let title = form.title.as_deref().unwrap_or_default();
            let page = edit_page(&who, &post, title, &form.body, Some(&error));
            Ok((StatusCode::BAD_REQUEST, Html(page.into_string())).into_response())
        }
        Err(other) => Err(other),
    }
}

/// `POST /p/{post}/delete`: delete, then back to the topic (or its category, when the topic went).
pub async fn delete_submit(
    State(state): State<AppState>,
    who: Who,
    id: PostRef,
    Form(form): Form<DeleteForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let to = delete(&state, who.member()?, id.number, form.reason).await?;
    Ok(Redirect::to(&to).into_response())
}

/// An edit in the API.
#[derive(Debug, Deserialize)]
pub struct EditBody {
    /// The new title (questions; absent keeps it).
    #[serde(default)]
    pub title: Option<String>,
    /// The new text.
    pub body: String,
}

/// A deletion in the API.
#[derive(Debug, Default, Deserialize)]
pub struct DeleteBody {
    /// Why (kept in the audit log).
    #[serde(default)]
    pub reason: String,
}

/// `POST /api/p/{post}/edit`.
pub async fn api_edit(
    State(state): State<AppState>,
    who: Who,
    headers: HeaderMap,
    id: PostRef,
    Json(body): Json<EditBody>,
) -> ApiResult {
    check(&who, &headers)?;
    let (topic, post) = edit(&state, who.member()?, id.number, body.title, body.body).await?;
    let ids = state.forum.ids();
    Ok(Json(json!({ "topic": ids.post(topic), "post": ids.post(post) })).into_response())
}

/// `POST /api/p/{post}/delete`.
pub async fn api_delete(
    State(state): State<AppState>,
    who: Who,
    headers: HeaderMap,
    id: PostRef,
    Json(body): Json<DeleteBody>,
) -> ApiResult {
    check(&who, &headers)?;
    delete(&state, who.member()?, id.number, body.reason).await?;
    Ok(Json(json!({ "deleted": state.forum.ids().post(id.number) })).into_response())
}

/// A post's history, for moderators (deleted posts too).
async fn history(state: &AppState, post: u64) -> Result<cadre_core::forum::edits::History, WebError> {
    state.forum.run(move |forum| forum.post_history(post)).await??.ok_or(WebError::NotFound)
}

/// `GET /mod/posts/{post}`: a post as moderators see it — its text now, whether and by whom it was deleted, and
/// every text it had before an edit, newest first.
pub async fn mod_history(State(state): State<AppState>, who: Who, id: PostRef) -> PageResult {
    who.moderator()?;
    let h = history(&state, id.number).await?;
    let ids = state.forum.ids();
    let content = html! {
        nav.mod { a href="/mod" { "Status" } a href="/mod/audit" { "Audit log" } }
        h1 { "Post history" }
        p.muted {
            (h.kind) " by " (h.author.as_deref().unwrap_or("a deleted account")) " · written " (date_time(h.created_at)) " UTC"
            @if h.deleted_at.is_none() { " · " a href={ "/t/" (ids.post(h.topic)) "#p" (ids.post(h.id)) } { "in its topic" } }
        }
        @if let Some(at) = h.deleted_at {
            p.error #deleted { "Deleted " (ago(at)) " by " (h.deleted_by.as_deref().unwrap_or("a deleted account"))
                ". Members see nothing of it." }
        }
        section.card #current {
            h2 { "Now" @if let Some(at) = h.edited_at { span.muted { " · edited " (ago(at)) } } }
            @if let Some(t) = &h.title { h3 { (t) } }
            div.body { (markdown::render(&h.body)) }
        }
        h2 { "Earlier versions (" (h.revisions.len()) ")" }
        @if h.revisions.is_empty() { p.muted { "Never edited." } }
        @for r in h.revisions.iter().rev() {
            section.card.revision {
                p.muted { "Replaced " (ago(r.replaced_at)) " by " (r.editor.as_deref().unwrap_or("a deleted account")) }
                @if let Some(t) = &r.title { h3 { (t) } }
                div.body { (markdown::render(&r.body)) }
            }
        }
    };
    Ok(Html(page(&who, "Post history", content).into_string()).into_response())
}

/// `GET /api/mod/posts/{post}`: the same as JSON.
pub async fn api_mod_history(State(state): State<AppState>, who: Who, id: PostRef) -> ApiResult {
    who.moderator().map_err(ApiError)?;
    let h = history(&state, id.number).await?;
    Ok(Json(h).into_response())
}
