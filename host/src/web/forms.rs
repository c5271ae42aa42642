//! The member forms' handlers: sign up, log in, log out, ask, answer, reply, like/unlike, accept/unaccept. Each
//! checks the CSRF token first, then acts through `service` (which checks visibility) and redirects back to the
//! topic (post/redirect/get), so a reload never posts twice.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::AppState;
use super::auth::{self, CookiePolicy, Who};
use super::client::ClientAddr;
use super::error::WebError;
use super::html::{csrf, page};
use super::pages::PageResult;
use super::service::{self, PostAction};
use crate::runtime::bindings::PostKind;

/// The log-in and sign-up form.
#[derive(Debug, Deserialize)]
pub struct CredentialsForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// Member name.
    #[serde(default)]
    pub name: String,
    /// Password.
    #[serde(default)]
    pub password: String,
}

/// A form with only a CSRF token (log out, like, accept, …).
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
}

/// A post form.
#[derive(Debug, Deserialize)]
pub struct PostForm {
    /// CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// Questions only.
    #[serde(default)]
    pub title: String,
    /// The text.
    #[serde(default)]
    pub body: String,
}

fn credentials_page(cookies: CookiePolicy, who: &Who, signup: bool, error: Option<&str>) -> Response {
    let (title, action, button) =
        if signup { ("Sign up", "/signup", "Create account") } else { ("Log in", "/login", "Log in") };
    let body = page(
        who,
        title,
        html! {
            div.narrow {
                h1 { (title) }
                @if let Some(error) = error { p.error #form-error { (error) } }
                form method="post" action=(action) {
                    (csrf(who))
                    label for="name" { "Name" }
                    input #name type="text" name="name" maxlength="32" required autocomplete="username";
                    label for="password" { "Password" }
                    input #password type="password" name="password" maxlength="128" required
                        autocomplete=(if signup { "new-password" } else { "current-password" });
                    p { button #submit type="submit" { (button) } }
                }
                @if signup { p.muted { "3 to 32 letters, digits, - or _; a password of 8 characters or more." } }
            }
        },
    );
    let status = if error.is_some() { axum::http::StatusCode::BAD_REQUEST } else { axum::http::StatusCode::OK };
    let cookie = who.pre_cookie(cookies).map(|c| (SET_COOKIE, c));
    (status, AppendHeaders(cookie), Html(body.into_string())).into_response()
}

/// `GET /signup`.
pub async fn signup_page(State(state): State<AppState>, who: Who) -> Response {
    credentials_page(state.cookies, &who, true, None)
}

/// `GET /login`.
pub async fn login_page(State(state): State<AppState>, who: Who) -> Response {
    credentials_page(state.cookies, &who, false, None)
}

fn logged_in(cookies: CookiePolicy, token: &str) -> Response {
    (AppendHeaders([(SET_COOKIE, cookies.session(token))]), Redirect::to("/")).into_response()
}

/// `POST /signup` (limited per client address).
pub async fn signup(
    State(state): State<AppState>,
    who: Who,
    ClientAddr(client): ClientAddr,
    Form(form): Form<CredentialsForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    match auth::sign_up(&state, client, form.name.trim(), &form.password).await {
        Ok((token, _)) => Ok(logged_in(state.cookies, &token)),
        Err(WebError::Invalid(message)) => Ok(credentials_page(state.cookies, &who, true, Some(&message))),
        Err(other) => Err(other),
    }
}

/// `POST /login` (failures limited per name and per client address).
pub async fn login(
    State(state): State<AppState>,
    who: Who,
    ClientAddr(client): ClientAddr,
    Form(form): Form<CredentialsForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    match auth::log_in(&state, client, form.name.trim(), &form.password).await {
        Ok((token, _)) => Ok(logged_in(state.cookies, &token)),
        Err(WebError::Invalid(message)) => Ok(credentials_page(state.cookies, &who, false, Some(&message))),
        Err(other) => Err(other),
    }
}

/// `POST /logout`.
pub async fn logout(State(state): State<AppState>, who: Who, Form(form): Form<TokenForm>) -> PageResult {
    who.check_csrf(&form.csrf)?;
    if let Some(member) = &who.member {
        auth::close_session(&state, member).await?;
    }
    Ok((AppendHeaders([(SET_COOKIE, state.cookies.clear_session())]), Redirect::to("/")).into_response())
}

fn to_topic(topic: u64, post: Option<u64>) -> Response {
    match post {
        Some(post) => Redirect::to(&format!("/t/{topic}#p{post}")).into_response(),
        None => Redirect::to(&format!("/t/{topic}")).into_response(),
    }
}

/// `POST /c/{slug}/topics`: ask a question.
pub async fn ask(
    State(state): State<AppState>,
    who: Who,
    Path(slug): Path<String>,
    Form(form): Form<PostForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let member = who.member()?;
    let topic = service::ask(&state, member, slug, form.title, form.body).await?;
    Ok(to_topic(topic, None))
}

/// `POST /t/{topic}/answers`: answer a question.
pub async fn answer(
    State(state): State<AppState>,
    who: Who,
    Path(topic): Path<u64>,
    Form(form): Form<PostForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let (topic, post) = service::respond(&state, who.member()?, PostKind::Answer, topic, form.body).await?;
    Ok(to_topic(topic, Some(post)))
}

/// `POST /p/{post}/replies`: reply to a post.
pub async fn reply(
    State(state): State<AppState>,
    who: Who,
    Path(parent): Path<u64>,
    Form(form): Form<PostForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let (topic, post) = service::respond(&state, who.member()?, PostKind::Reply, parent, form.body).await?;
    Ok(to_topic(topic, Some(post)))
}

async fn act(state: AppState, who: Who, post: u64, form: TokenForm, action: PostAction) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let topic = service::act(&state, who.member()?, post, action).await?;
    Ok(to_topic(topic, Some(post)))
}

/// `POST /p/{post}/like`.
pub async fn like(State(s): State<AppState>, who: Who, Path(p): Path<u64>, Form(f): Form<TokenForm>) -> PageResult {
    act(s, who, p, f, PostAction::Like).await
}

/// `POST /p/{post}/unlike`.
pub async fn unlike(State(s): State<AppState>, who: Who, Path(p): Path<u64>, Form(f): Form<TokenForm>) -> PageResult {
    act(s, who, p, f, PostAction::Unlike).await
}

/// `POST /p/{post}/accept`.
pub async fn accept(State(s): State<AppState>, who: Who, Path(p): Path<u64>, Form(f): Form<TokenForm>) -> PageResult {
    act(s, who, p, f, PostAction::Accept).await
}

/// `POST /p/{post}/unaccept`.
pub async fn unaccept(State(s): State<AppState>, who: Who, Path(p): Path<u64>, Form(f): Form<TokenForm>) -> PageResult {
    act(s, who, p, f, PostAction::Unaccept).await
}
