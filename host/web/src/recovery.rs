//! Account recovery without email, on the web: a moderator issues a one-time, expiring reset link for a member
//! (the member's panel page, or the API), passes it on by any channel, and the link's page sets a new password
//! (argon2id, as at sign-up), logs the member in, and is dead from then on.
//!
//! A link that is not live — never issued, expired, used, replaced by a newer one — gets one refusal, the same
//! words and status for each, on the page and in the API. Issuing and using a link are audited
//! (`cadre_core::forum::recovery`, which owns the table; this module owns the pages and forms).

use axum::Form;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::api::{ApiResult, check};
use super::auth::{self, Member, PASSWORD_LEN, Who, now_ms, random_token};
use super::error::{ApiError, WebError};
use super::html::{csrf, date_time, page};
use super::pages::{PageResult, form_error};
use cadre_core::forum::recovery;
use cadre_core::program::reports;

/// A link just issued: its path (`/reset/…`, to put after the forum's address) and for whom.
#[derive(Debug, Clone)]
pub struct IssuedLink {
    /// `/reset/<token>`.
    pub path: String,
    /// The member's name.
    pub name: String,
    /// When it stops working.
    pub expires_at: i64,
}

/// Issue a link for a member named by name or `#id`.
pub async fn issue(state: &AppState, moderator: &Member, member: String) -> Result<IssuedLink, WebError> {
    let (by, token) = (moderator.id, random_token());
    let path = format!("/reset/{token}");
    let issued = state
        .forum
        .run(move |forum| {
            let id = reports::resolve_member(forum.conn(), &member)?;
            forum.batch(|forum| recovery::issue(forum.conn(), by, id, &token, now_ms()))
        })
        .await??;
    Ok(IssuedLink { path, name: issued.name, expires_at: issued.expires_at })
}

/// Use a link: a new password for its member, then a session. Returns (session token, member name).
async fn redeem(state: &AppState, token: String, password: String) -> Result<(String, String), WebError> {
    if !PASSWORD_LEN.contains(&password.len()) {
        return Err(WebError::Invalid(format!(
            "a password has {} to {} characters",
            PASSWORD_LEN.start(),
            PASSWORD_LEN.end()
        )));
    }
    // Refuse a dead link before spending a hash on it.
    let probe = token.clone();
    state.forum.read(move |conn| Ok(recovery::live(conn, &probe, now_ms()))).await??;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    state
        .forum
        .run(move |forum| -> Result<(String, String), WebError> {
            let now = now_ms();
            let member = forum.batch(|forum| recovery::redeem(forum.conn(), &token, &hash, now))?;
            let name = forum.member_label(member)?;
            let (session, _) = auth::open_session(forum.conn(), member, now)?;
            Ok((session, name))
        })
        .await?
}

fn reset_page(who: &Who, name: &str, token: &str, error: Option<&str>) -> maud::Markup {
    page(
        who,
        "Set a new password",
        html! {
            div.narrow {
                h1 { "Set a new password" }
                p { "For " strong { (name) } ". This link works once." }
                @if let Some(error) = error { (form_error(error)) }
                form method="post" action={ "/reset/" (token) } {
                    (csrf(who))
                    label for="password" { "New password" }
                    input #password type="password" name="password" minlength=(PASSWORD_LEN.start()) maxlength=(PASSWORD_LEN.end())
                        required autocomplete="new-password" autofocus[error.is_some()];
                    p { button #reset-submit type="submit" { "Set password and log in" } }
                }
            }
        },
    )
}

fn token_ok(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `GET /reset/{token}`: the new-password form, or the one refusal.
pub async fn reset_form(State(state): State<AppState>, who: Who, Path(token): Path<String>) -> PageResult {
    if !token_ok(&token) {
        return Err(WebError::Invalid(recovery::DEAD_LINK.into()));
    }
    let probe = token.clone();
    let (_, name) = state.forum.read(move |conn| Ok(recovery::live(conn, &probe, now_ms()))).await??;
    let cookie = who.pre_cookie(state.cookies).map(|c| (SET_COOKIE, c));
    Ok((AppendHeaders(cookie), Html(reset_page(&who, &name, &token, None).into_string())).into_response())
}

/// The new-password form.
#[derive(Debug, Deserialize)]
pub struct ResetForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// The new password.
    #[serde(default)]
    pub password: String,
}

/// `POST /reset/{token}`: set the password, log in, go to the forum. A refused password shows the form again.
pub async fn reset_submit(
    State(state): State<AppState>,
    who: Who,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    if !token_ok(&token) {
        return Err(WebError::Invalid(recovery::DEAD_LINK.into()));
    }
    match redeem(&state, token.clone(), form.password).await {
        Ok((session, _)) => {
            Ok((AppendHeaders([(SET_COOKIE, state.cookies.session(&session))]), Redirect::to("/")).into_response())
        }
        Err(WebError::Invalid(error)) if error != recovery::DEAD_LINK => {
            let probe = token.clone();
            let (_, name) = state.forum.read(move |conn| Ok(recovery::live(conn, &probe, now_ms()))).await??;
            let page = reset_page(&who, &name, &token, Some(&error));
            Ok((StatusCode::BAD_REQUEST, Html(page.into_string())).into_response())
        }
        Err(other) => Err(other),
    }
}

/// A new password in the API.
#[derive(Debug, Deserialize)]
pub struct ResetBody {
    /// The new password.
    pub password: String,
}

/// `POST /api/reset/{token}`: set the password and log in (the session cookie is set).
pub async fn api_reset(
    State(state): State<AppState>,
    who: Who,
    headers: HeaderMap,
    Path(token): Path<String>,
    Json(body): Json<ResetBody>,
) -> ApiResult {
    check(&who, &headers)?;
    if !token_ok(&token) {
        return Err(ApiError(WebError::Invalid(recovery::DEAD_LINK.into())));
    }
    let (session, name) = redeem(&state, token, body.password).await?;
    Ok((AppendHeaders([(SET_COOKIE, state.cookies.session(&session))]), Json(json!({ "member": name })))
        .into_response())
}

/// The panel's card on a member's page: the button that issues a link, and the link just issued.
pub fn panel_card(who: &Who, member: &str, issued: Option<&IssuedLink>) -> maud::Markup {
    html! {
        section.card #reset-link {
            h2 { "Password reset" }
            @if let Some(link) = issued {
                p.ok { "A one-time link for " strong { (link.name) } ", valid until " (date_time(link.expires_at)) " UTC. "
                       "Give it to them privately; it is shown only now." }
                p { code #reset-url { (link.path) } }
                p.muted { "Put it after this forum's address, e.g. https://forum.example" (link.path) }
            } @else {
                p.muted { "Members who lost their password get a one-time link from a moderator (valid 24 hours; a new link replaces the old one). Recorded in the audit log." }
            }
            form method="post" action={ "/mod/members/" (super::pages::form_urlencoded(member)) "/reset-link" } {
                (csrf(who))
                button #issue-reset type="submit" { "Issue a reset link" }
            }
        }
    }
}

/// `POST /api/mod/members/{member}/reset-link`: issue a link.
pub async fn api_issue(State(state): State<AppState>, who: Who, h: HeaderMap, Path(member): Path<String>) -> ApiResult {
    let moderator = who.moderator()?;
    check(&who, &h)?;
    let link = issue(&state, moderator, member).await?;
    Ok(Json(json!({ "member": link.name, "link": link.path, "expires_at": link.expires_at })).into_response())
}

/// The issue form (a CSRF token only).
#[derive(Debug, Deserialize)]
pub struct IssueForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
}

/// `POST /mod/members/{member}/reset-link`: issue a link and show the member's page with it.
pub async fn issue_submit(
    State(state): State<AppState>,
    who: Who,
    Path(member): Path<String>,
    Form(form): Form<IssueForm>,
) -> Result<Response, WebError> {
    let moderator = who.moderator()?;
    who.check_csrf(&form.csrf)?;
    let link = issue(&state, moderator, member.clone()).await?;
    super::panel_pages::member_page(&state, &who, member, Some(&link), Default::default()).await
}
