//! The member forms' handlers: sign up, log in, log out, ask, answer, reply, like/unlike, accept/unaccept. Each
//! checks the CSRF token first, then acts through `service` (which checks visibility) and redirects back to the
//! topic (post/redirect/get), so a reload never posts twice. A refused sign-up, log-in, question, answer or reply
//! renders its page again with the form filled as it was sent (never the password) and the reason at its top,
//! with the refusal's status; a forged form is refused as strictly as ever, on its own page.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::SET_COOKIE;
use axum::response::{AppendHeaders, Html, IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::AppState;
use super::auth::{self, CookiePolicy, Who};
use super::client::ClientAddr;
use super::error::WebError;
use super::html::{csrf, page};
use super::pages::{self, Draft, DraftForm, PageResult, form_error};
use super::post_ref::PostRef;
use super::service::{self, PostAction};
use cadre_core::forum::read;
use cadre_model::PostKind;

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

/// A refused log-in or sign-up, shown again: the name typed (never the password) and why.
struct Refusal<'a> {
    name: &'a str,
    error: &'a WebError,
}

fn credentials_page(cookies: CookiePolicy, who: &Who, signup: bool, refusal: Option<Refusal>) -> Response {
    let (title, action, button) =
        if signup { ("Sign up", "/signup", "Create account") } else { ("Log in", "/login", "Log in") };
    // What was typed comes back at most a little longer than a name can be (the field allows 32).
    let name: String = refusal.as_ref().map_or("", |r| r.name).chars().take(64).collect();
    let body = page(
        who,
        title,
        html! {
            div.narrow {
                h1 { (title) }
                @if let Some(refusal) = &refusal { (form_error(&refusal.error.public_message())) }
                form method="post" action=(action) {
                    (csrf(who))
                    label for="name" { "Name" }
                    input #name type="text" name="name" maxlength="32" required autocomplete="username"
                        value=(name) autofocus[refusal.is_some() && name.is_empty()];
                    label for="password" { "Password" }
                    input #password type="password" name="password" maxlength="128" required
                        autocomplete=(if signup { "new-password" } else { "current-password" })
                        autofocus[refusal.is_some() && !name.is_empty()];
                    p { button #submit type="submit" { (button) } }
                }
                @if signup { p.muted { "3 to 32 letters, digits, - or _; a password of 8 characters or more." } }
            }
        },
    );
    let status = refusal.as_ref().map_or(StatusCode::OK, |r| r.error.status());
    let cookie = who.pre_cookie(cookies).map(|c| (SET_COOKIE, c));
    let response = (status, AppendHeaders(cookie), Html(body.into_string())).into_response();
    match &refusal {
        Some(refusal) => refusal.error.with_retry_after(response),
        None => response,
    }
}

/// `GET /signup`.
pub async fn signup_page(State(state): State<AppState>, who: Who) -> Response {
    credentials_page(state.cookies, &who, true, None)
}

/// `GET /login`.
pub async fn login_page(State(state): State<AppState>, who: Who) -> Response {
    credentials_page(state.cookies, &who, false, None)
}

/// What a log-in or sign-up came to: logged in, or the form again with the refusal — a refused name or password
/// (400), a wrong one (401), a name taken (409), a rate limit (429). A forged form (403) and anything internal
/// are not the visitor's to fix in the form, and get their own page.
fn credentials_result(
    state: &AppState,
    who: &Who,
    signup: bool,
    name: &str,
    result: Result<(String, String), WebError>,
) -> PageResult {
    match result {
        Ok((token, _)) => {
            Ok((AppendHeaders([(SET_COOKIE, state.cookies.session(&token))]), Redirect::to("/")).into_response())
        }
        Err(
            error @ (WebError::Invalid(_)
            | WebError::BadCredentials
            | WebError::Conflict(_)
            | WebError::RateLimited { .. }),
        ) => Ok(credentials_page(state.cookies, who, signup, Some(Refusal { name, error: &error }))),
        Err(other) => Err(other),
    }
}

/// `POST /signup` (limited per client address).
pub async fn signup(
    State(state): State<AppState>,
    who: Who,
    ClientAddr(client): ClientAddr,
    Form(form): Form<CredentialsForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let name = form.name.trim();
    let result = auth::sign_up(&state, client, name, &form.password).await;
    credentials_result(&state, &who, true, name, result)
}

/// `POST /login` (failures limited per name and per client address).
pub async fn login(
    State(state): State<AppState>,
    who: Who,
    ClientAddr(client): ClientAddr,
    Form(form): Form<CredentialsForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let name = form.name.trim();
    let result = auth::log_in(&state, client, name, &form.password).await;
    credentials_result(&state, &who, false, name, result)
}

/// `POST /logout`.
pub async fn logout(State(state): State<AppState>, who: Who, Form(form): Form<TokenForm>) -> PageResult {
    who.check_csrf(&form.csrf)?;
    if let Some(member) = &who.member {
        auth::close_session(&state, member).await?;
    }
    Ok((AppendHeaders([(SET_COOKIE, state.cookies.clear_session())]), Redirect::to("/")).into_response())
}

/// Back to a topic (at a post), named by public ids.
fn to_topic(state: &AppState, topic: u64, post: Option<u64>) -> Response {
    let ids = state.forum.ids();
    match post {
        Some(post) => Redirect::to(&format!("/t/{}#p{}", ids.post(topic), ids.post(post))).into_response(),
        None => Redirect::to(&format!("/t/{}", ids.post(topic))).into_response(),
    }
}

/// `POST /c/{slug}/topics`: ask a question. Refused, the category page again with the question in its form.
pub async fn ask(
    State(state): State<AppState>,
    who: Who,
    Path(slug): Path<String>,
    Form(form): Form<PostForm>,
) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let member = who.member()?;
    match service::ask(&state, member, slug.clone(), form.title.clone(), form.body.clone()).await {
        Ok(topic) => Ok(to_topic(&state, topic, None)),
        Err(WebError::Invalid(error)) => {
            let draft = Draft { form: DraftForm::Ask, title: form.title, body: form.body, error };
            pages::category_page(&state, &who, slug, Some(&draft)).await
        }
        Err(other) => Err(other),
    }
}

/// `POST /t/{topic}/answers`: answer a question. Refused, the topic again with the answer in its form.
pub async fn answer(State(state): State<AppState>, who: Who, topic: PostRef, Form(form): Form<PostForm>) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let topic = topic.number;
    match service::respond(&state, who.member()?, PostKind::Answer, topic, form.body.clone()).await {
        Ok((topic, post)) => Ok(to_topic(&state, topic, Some(post))),
        Err(WebError::Invalid(error)) => {
            let draft = Draft { form: DraftForm::Answer, title: String::new(), body: form.body, error };
            pages::topic_page(&state, &who, topic, Some(&draft)).await
        }
        Err(other) => Err(other),
    }
}

/// `POST /p/{post}/replies`: reply to a post. Refused, the topic again with the reply open under its post (the
/// pages offer replies to questions and answers; a refused reply to anything else gets the message page).
pub async fn reply(State(state): State<AppState>, who: Who, parent: PostRef, Form(form): Form<PostForm>) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let member = who.member()?;
    let parent = parent.number;
    let error = match service::respond(&state, member, PostKind::Reply, parent, form.body.clone()).await {
        Ok((topic, post)) => return Ok(to_topic(&state, topic, Some(post))),
        Err(WebError::Invalid(error)) => error,
        Err(other) => return Err(other),
    };
    let viewer = who.viewer();
    let target = state.forum.read(move |conn| read::post(conn, viewer, parent)).await?;
    match target {
        Some(target) if target.kind == "question" || target.kind == "answer" => {
            let draft = Draft { form: DraftForm::Reply(parent), title: String::new(), body: form.body, error };
            pages::topic_page(&state, &who, target.topic, Some(&draft)).await
        }
        Some(_) => Err(WebError::Invalid(error)),
        None => Err(WebError::NotFound),
    }
}

async fn act(state: AppState, who: Who, post: PostRef, form: TokenForm, action: PostAction) -> PageResult {
    who.check_csrf(&form.csrf)?;
    let topic = service::act(&state, who.member()?, post.number, action).await?;
    Ok(to_topic(&state, topic, Some(post.number)))
}

/// `POST /p/{post}/like`.
pub async fn like(State(s): State<AppState>, who: Who, p: PostRef, Form(f): Form<TokenForm>) -> PageResult {
    act(s, who, p, f, PostAction::Like).await
}

/// `POST /p/{post}/unlike`.
pub async fn unlike(State(s): State<AppState>, who: Who, p: PostRef, Form(f): Form<TokenForm>) -> PageResult {
    act(s, who, p, f, PostAction::Unlike).await
}

/// `POST /p/{post}/accept`.
pub async fn accept(State(s): State<AppState>, who: Who, p: PostRef, Form(f): Form<TokenForm>) -> PageResult {
    act(s, who, p, f, PostAction::Accept).await
}

/// `POST /p/{post}/unaccept`.
pub async fn unaccept(State(s): State<AppState>, who: Who, p: PostRef, Form(f): Form<TokenForm>) -> PageResult {
    act(s, who, p, f, PostAction::Unaccept).await
}
