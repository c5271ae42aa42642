//! The JSON API under `/api/`: the same reads and writes as the pages, with the same visibility (a private or
//! missing thing is `404 {"error":"not found"}` either way) and the same moderator-only panel. Writes need the
//! header `X-Cadre-CSRF`: the session's token (from `/api/login`, `/api/signup` or `/api/me`) when logged in; any
//! non-empty value for signing up or logging in (a custom header cannot be sent cross-site without CORS, which
//! this server never allows).

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::http::header::SET_COOKIE;
use axum::response::{AppendHeaders, IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::auth::{self, Who};
use super::client::ClientAddr;
use super::error::{ApiError, WebError};
use super::paging::{self, ListQuery};
use super::panel;
use super::post_ref::PostRef;
use super::service::{self, PostAction};
use cadre_core::forum::read;
use cadre_model::PostKind;

/// The header API writes carry.
pub const CSRF_HEADER: &str = "x-cadre-csrf";

/// An API answer.
pub type ApiResult = Result<Response, ApiError>;

fn ok(value: impl serde::Serialize) -> ApiResult {
    Ok(Json(value).into_response())
}

pub(crate) fn check(who: &Who, headers: &HeaderMap) -> Result<(), WebError> {
    let token = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
    match &who.member {
        Some(_) => who.check_csrf(token),
        None if token.is_empty() => Err(WebError::Csrf),
        None => Ok(()),
    }
}

/// A read on a read-only connection (it does not wait behind writes); `None` is not found.
async fn read<R: Send + 'static>(
    state: &AppState,
    job: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<Option<R>> + Send + 'static,
) -> Result<R, ApiError> {
    Ok(state.forum.read(job).await?.ok_or(WebError::NotFound)?)
}

/// `GET /api/categories`.
pub async fn categories(State(state): State<AppState>, who: Who) -> ApiResult {
    let viewer = who.viewer();
    ok(read(&state, move |f| read::categories(f, viewer).map(Some)).await?)
}

/// A page of a list, with a `Link: <…>; rel="next"` header naming the next page when there is one (the body keeps
/// its shape: a list stays a list).
fn paged(state: &AppState, value: impl serde::Serialize, base: &str, next: Option<read::Cursor>) -> ApiResult {
    let mut response = Json(value).into_response();
    if let Some(next) = next {
        let link = format!("<{base}after={}>; rel=\"next\"", paging::after_param(state.forum.ids(), next));
        if let Ok(value) = axum::http::HeaderValue::from_str(&link) {
            response.headers_mut().insert(axum::http::header::LINK, value);
        }
    }
    Ok(response)
}

/// `GET /api/latest?after=`: a page of the latest topics.
pub async fn latest(State(state): State<AppState>, who: Who, Query(query): Query<ListQuery>) -> ApiResult {
    let viewer = who.viewer();
    let after = paging::cursor(state.forum.ids(), query.after.as_deref());
    let page = read(&state, move |f| read::topics_page(f, viewer, None, after).map(Some)).await?;
    paged(&state, page.items, "/api/latest?", page.next)
}

/// `GET /api/c/{slug}?after=`: the category and a page of its topics.
pub async fn category(
    State(state): State<AppState>,
    who: Who,
    Path(slug): Path<String>,
    Query(query): Query<ListQuery>,
) -> ApiResult {
    let viewer = who.viewer();
    let after = paging::cursor(state.forum.ids(), query.after.as_deref());
    let (category, page) = read(&state, move |f| {
        let Some(category) = read::category(f, viewer, &slug)? else { return Ok(None) };
        let page = read::topics_page(f, viewer, Some(category.id), after)?;
        Ok(Some((category, page)))
    })
    .await?;
    let base = format!("/api/c/{}?", category.slug);
    paged(&state, json!({ "category": category, "topics": page.items }), &base, page.next)
}

/// `GET /api/t/{topic}`.
pub async fn topic(State(state): State<AppState>, who: Who, id: PostRef) -> ApiResult {
    let viewer = who.viewer();
    ok(read(&state, move |f| read::topic(f, viewer, id.number)).await?)
}

/// `GET /api/p/{post}`.
pub async fn post(State(state): State<AppState>, who: Who, id: PostRef) -> ApiResult {
    let viewer = who.viewer();
    ok(read(&state, move |f| read::post(f, viewer, id.number)).await?)
}

/// `GET /api/search?q=&after=`: a page of hits.
pub async fn search(State(state): State<AppState>, who: Who, Query(query): Query<ListQuery>) -> ApiResult {
    let viewer = who.viewer();
    let after = paging::cursor(state.forum.ids(), query.after.as_deref());
    let q = query.q.clone();
    let page = read(&state, move |f| read::search_page(f, viewer, &q, after).map(Some)).await?;
    let base = format!("/api/search?q={}&", super::pages::form_urlencoded(&query.q));
    paged(&state, page.items, &base, page.next)
}

/// `GET /api/u/{name}`: badges and visible activity.
pub async fn profile(State(state): State<AppState>, who: Who, Path(name): Path<String>) -> ApiResult {
    let viewer = who.viewer();
    ok(read(&state, move |f| read::profile(f, viewer, &name)).await?)
}

/// `GET /api/me`: who is logged in, and the CSRF token for writes.
pub async fn me(who: Who) -> ApiResult {
    ok(match &who.member {
        Some(m) => json!({ "member": { "id": m.id, "name": m.name, "moderator": m.moderator }, "csrf": m.csrf }),
        None => json!({ "member": null }),
    })
}

/// Credentials.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    /// Member name.
    pub name: String,
    /// Password.
    pub password: String,
}

fn session_answer(state: &AppState, name: &str, token: &str, csrf: &str) -> ApiResult {
    Ok((AppendHeaders([(SET_COOKIE, state.cookies.session(token))]), Json(json!({ "name": name, "csrf": csrf })))
        .into_response())
}

/// `POST /api/signup` (limited per client address).
pub async fn signup(
    State(state): State<AppState>,
    who: Who,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Json(c): Json<Credentials>,
) -> ApiResult {
    check(&who, &headers)?;
    let (token, csrf) = auth::sign_up(&state, client, c.name.trim(), &c.password).await?;
    session_answer(&state, c.name.trim(), &token, &csrf)
}

/// `POST /api/login` (failures limited per name and per client address).
pub async fn login(
    State(state): State<AppState>,
    who: Who,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Json(c): Json<Credentials>,
) -> ApiResult {
    check(&who, &headers)?;
    let (token, csrf) = auth::log_in(&state, client, c.name.trim(), &c.password).await?;
    session_answer(&state, c.name.trim(), &token, &csrf)
}

/// `POST /api/logout`.
pub async fn logout(State(state): State<AppState>, who: Who, headers: HeaderMap) -> ApiResult {
    check(&who, &headers)?;
    if let Some(member) = &who.member {
        auth::close_session(&state, member).await?;
    }
    Ok((AppendHeaders([(SET_COOKIE, state.cookies.clear_session())]), Json(json!({ "ok": true }))).into_response())
}

/// A new post.
#[derive(Debug, Deserialize)]
pub struct NewPostBody {
    /// Questions only.
    #[serde(default)]
    pub title: String,
    /// The text.
    pub body: String,
}

/// `POST /api/c/{slug}/topics`.
pub async fn ask(
    State(state): State<AppState>,
    who: Who,
    headers: HeaderMap,
    Path(slug): Path<String>,
    Json(p): Json<NewPostBody>,
) -> ApiResult {
    check(&who, &headers)?;
    let topic = service::ask(&state, who.member()?, slug, p.title, p.body).await?;
    ok(json!({ "topic": state.forum.ids().post(topic) }))
}

async fn respond(
    state: AppState,
    who: Who,
    headers: HeaderMap,
    kind: PostKind,
    parent: u64,
    body: String,
) -> ApiResult {
    check(&who, &headers)?;
    let (topic, post) = service::respond(&state, who.member()?, kind, parent, body).await?;
    let ids = state.forum.ids();
    ok(json!({ "topic": ids.post(topic), "post": ids.post(post) }))
}

/// `POST /api/t/{topic}/answers`.
pub async fn answer(
    State(state): State<AppState>,
    who: Who,
    headers: HeaderMap,
    topic: PostRef,
    Json(p): Json<NewPostBody>,
) -> ApiResult {
    respond(state, who, headers, PostKind::Answer, topic.number, p.body).await
}

/// `POST /api/p/{post}/replies`.
pub async fn reply(
    State(state): State<AppState>,
    who: Who,
    headers: HeaderMap,
    post: PostRef,
    Json(p): Json<NewPostBody>,
) -> ApiResult {
    respond(state, who, headers, PostKind::Reply, post.number, p.body).await
}

async fn act(state: AppState, who: Who, headers: HeaderMap, post: PostRef, action: PostAction) -> ApiResult {
    check(&who, &headers)?;
    let topic = service::act(&state, who.member()?, post.number, action).await?;
    let ids = state.forum.ids();
    ok(json!({ "topic": ids.post(topic), "post": ids.post(post.number) }))
}

/// `POST /api/p/{post}/like`.
pub async fn like(State(s): State<AppState>, who: Who, h: HeaderMap, p: PostRef) -> ApiResult {
    act(s, who, h, p, PostAction::Like).await
}

/// `POST /api/p/{post}/unlike`.
pub async fn unlike(State(s): State<AppState>, who: Who, h: HeaderMap, p: PostRef) -> ApiResult {
    act(s, who, h, p, PostAction::Unlike).await
}

/// `POST /api/p/{post}/accept`.
pub async fn accept(State(s): State<AppState>, who: Who, h: HeaderMap, p: PostRef) -> ApiResult {
    act(s, who, h, p, PostAction::Accept).await
}

/// `POST /api/p/{post}/unaccept`.
pub async fn unaccept(State(s): State<AppState>, who: Who, h: HeaderMap, p: PostRef) -> ApiResult {
    act(s, who, h, p, PostAction::Unaccept).await
}

/// `GET /api/mod/status`.
pub async fn mod_status(State(state): State<AppState>, who: Who) -> ApiResult {
    who.moderator()?;
    ok(panel::status(&state).await?)
}

/// `GET /api/mod/queue[?before=ID|?after=ID]`: a page of pending nominations, oldest first.
pub async fn mod_queue(
    State(state): State<AppState>,
    who: Who,
    axum::extract::Query(query): axum::extract::Query<crate::panel_lists::PanelQuery>,
) -> ApiResult {
    who.moderator()?;
    let page = panel::queue(&state, query.keyset()).await?;
    // Still a plain array of nominations (as before paging), the pages on either side in a `Link` header (RFC 8288).
    let links: Vec<String> =
        [("prev", page.older.map(|id| format!("before={id}"))), ("next", page.newer.map(|id| format!("after={id}")))]
            .into_iter()
            .filter_map(|(rel, query)| query.map(|query| format!("</api/mod/queue?{query}>; rel=\"{rel}\"")))
            .collect();
    let mut response = Json(page.rows).into_response();
    if !links.is_empty() {
        let value = axum::http::HeaderValue::from_str(&links.join(", ")).expect("ids and ASCII make a valid header");
        response.headers_mut().insert(axum::http::header::LINK, value);
    }
    Ok(response)
}

/// `GET /api/mod/members[?before=ID|?after=ID]`: a page of tier access, newest grants first, with the ids of the
/// pages on either side (`newer`, `older`; null at an end).
pub async fn mod_members(
    State(state): State<AppState>,
    who: Who,
    axum::extract::Query(query): axum::extract::Query<crate::panel_lists::PanelQuery>,
) -> ApiResult {
    who.moderator()?;
    let (page, tiers) = panel::access_holders(&state, query.keyset()).await?;
    ok(json!({ "access": page.rows, "newer": page.newer, "older": page.older, "tiers": tiers }))
}

/// `GET /api/mod/members/{member}`: summary, record, ledger, audit.
pub async fn mod_member(State(state): State<AppState>, who: Who, Path(member): Path<String>) -> ApiResult {
    who.moderator()?;
    ok(panel::member(&state, member).await?)
}

/// `GET /api/mod/audit`.
pub async fn mod_audit(State(state): State<AppState>, who: Who) -> ApiResult {
    who.moderator()?;
    ok(panel::audit(&state).await?)
}

/// `GET /api/mod/settings`: the settings in force.
pub async fn mod_settings(State(state): State<AppState>, who: Who) -> ApiResult {
    who.moderator()?;
    ok(json!({ "settings": panel::settings(&state).await? }))
}

/// New settings.
#[derive(Debug, Deserialize)]
pub struct SettingsBody {
    /// TOML.
    pub settings: String,
    /// `check` (default), `preview`, `apply` (from now on) or `recompute` (apply to all history).
    #[serde(default = "check_action")]
    pub action: panel::SettingsAction,
}

/// `POST /api/mod/settings`: every error with its path and line, or applied.
pub async fn mod_configure(
    State(state): State<AppState>,
    who: Who,
    h: HeaderMap,
    Json(b): Json<SettingsBody>,
) -> ApiResult {
    let moderator = who.moderator()?;
    check(&who, &h)?;
    ok(panel::configure(&state, moderator, b.settings, b.action).await?)
}

fn check_action() -> panel::SettingsAction {
    panel::SettingsAction::Check
}

/// A decision.
#[derive(Debug, Deserialize)]
pub struct DecisionBody {
    /// Approve (otherwise reject).
    pub approve: bool,
    /// Why.
    pub reason: String,
}

/// `POST /api/mod/queue/{nomination}`.
pub async fn mod_decide(
    State(state): State<AppState>,
    who: Who,
    h: HeaderMap,
    Path(nomination): Path<i64>,
    Json(b): Json<DecisionBody>,
) -> ApiResult {
    let moderator = who.moderator()?;
    check(&who, &h)?;
    panel::decide(&state, moderator, nomination, b.approve, &b.reason).await?;
    ok(json!({ "ok": true }))
}

/// An access change.
#[derive(Debug, Deserialize)]
pub struct AccessBody {
    /// Member name or id.
    pub member: String,
    /// The tier.
    pub tier: String,
    /// Why.
    pub reason: String,
}

async fn set_access(state: AppState, who: Who, h: HeaderMap, b: AccessBody, add: bool) -> ApiResult {
    let moderator = who.moderator()?;
    check(&who, &h)?;
    panel::set_access(&state, moderator, b.member, b.tier, add, &b.reason).await?;
    ok(json!({ "ok": true }))
}

/// `POST /api/mod/members/add`.
pub async fn mod_add(State(s): State<AppState>, who: Who, h: HeaderMap, Json(b): Json<AccessBody>) -> ApiResult {
    set_access(s, who, h, b, true).await
}

/// `POST /api/mod/members/remove`.
pub async fn mod_remove(State(s): State<AppState>, who: Who, h: HeaderMap, Json(b): Json<AccessBody>) -> ApiResult {
    set_access(s, who, h, b, false).await
}

/// `POST /api/mod/retry`.
pub async fn mod_retry(State(state): State<AppState>, who: Who, h: HeaderMap) -> ApiResult {
    let moderator = who.moderator()?;
    check(&who, &h)?;
    let (resolved, remaining) = panel::retry(&state, moderator).await?;
    ok(json!({ "resolved": resolved, "remaining": remaining }))
}

/// A new category.
#[derive(Debug, Deserialize)]
pub struct CategoryBody {
    /// URL name.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// The tier it is private to (absent: public).
    #[serde(default)]
    pub tier: Option<String>,
}

/// `POST /api/mod/categories`.
pub async fn mod_create_category(
    State(state): State<AppState>,
    who: Who,
    h: HeaderMap,
    Json(b): Json<CategoryBody>,
) -> ApiResult {
    let moderator = who.moderator()?;
    check(&who, &h)?;
    let id = panel::create_category(&state, moderator, b.slug, b.name, b.tier).await?;
    ok(json!({ "category": id }))
}
