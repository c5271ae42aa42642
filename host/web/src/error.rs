//! The web layer's one error type. It says to the client only what the client may know: "not found" (the same
//! page for what does not exist and for what the viewer may not see), a refused input with its reason, an expired
//! form, a rate limit with when to try again — and for everything else "Something went wrong", with the cause logged, never
//! sent.

use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use cadre_core::forum::ForumError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Does not exist, or the viewer may not see it (indistinguishable on purpose).
    #[error("not found")]
    NotFound,
    /// The input was refused; the message is safe to show (it names only what the viewer sent or may see).
    #[error("{0}")]
    Invalid(String),
    /// A log-in with a wrong name or password (one message for both: it does not tell which names exist).
    #[error("wrong name or password")]
    BadCredentials,
    /// The input conflicts with what exists (a name already taken); the message is safe to show.
    #[error("{0}")]
    Conflict(String),
    /// Login needed for this action.
    #[error("log in first")]
    LoginRequired,
    /// The form's CSRF token is missing or wrong.
    #[error("this form has expired or did not come from this site; reload the page and try again")]
    Csrf,
    /// A rate limit refused the request unchecked: `what` says which (it names only the viewer's own name or
    /// address), `retry_after` is the wait in seconds (also sent as `Retry-After`).
    #[error("{what}; try again in {}", wait(*.retry_after))]
    RateLimited {
        /// What was limited ("too many sign-ups from this address").
        what: &'static str,
        /// Seconds until the next attempt is allowed.
        retry_after: u64,
    },
    /// The database cannot grow (its disk or its size limit is full): the write was not saved, and the forum
    /// works again once there is space. Said plainly, with `Retry-After`, rather than as "something went wrong".
    #[error("the forum cannot save anything right now: its disk is full. Nothing was saved; try again later")]
    DiskFull,
    /// Anything else: logged, never shown.
    #[error("internal: {0}")]
    Internal(String),
}

/// True when SQLite refused a write because the disk (or the database's size limit) is full.
fn disk_full(error: &rusqlite::Error) -> bool {
    matches!(error.sqlite_error_code(), Some(rusqlite::ErrorCode::DiskFull))
}

impl WebError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Invalid(_) => StatusCode::BAD_REQUEST,
            WebError::BadCredentials | WebError::LoginRequired => StatusCode::UNAUTHORIZED,
            WebError::Conflict(_) => StatusCode::CONFLICT,
            WebError::Csrf => StatusCode::FORBIDDEN,
            WebError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            WebError::DiskFull => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A refusal by a rate limit, from the limiter's wait in milliseconds.
    pub fn rate_limited(what: &'static str, wait_ms: u64) -> WebError {
        WebError::RateLimited { what, retry_after: wait_ms.div_ceil(1000).max(1) }
    }

    /// Put the `Retry-After` header on a response to this error, if it is a rate limit's.
    pub fn with_retry_after(&self, mut response: Response) -> Response {
        match self {
            WebError::RateLimited { retry_after, .. } => {
                response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
            }
            WebError::DiskFull => {
                response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(60u64));
            }
            _ => {}
        }
        response
    }

    /// What the client is told.
    pub fn public_message(&self) -> String {
        match self {
            WebError::Internal(detail) => {
                tracing::error!(%detail, "request failed");
                "Something went wrong".to_owned()
            }
            other => other.to_string(),
        }
    }
}

/// "1 minute", "15 minutes": a wait in seconds, rounded up to whole minutes.
fn wait(seconds: u64) -> String {
    match seconds.div_ceil(60).max(1) {
        1 => "1 minute".to_owned(),
        minutes => format!("{minutes} minutes"),
    }
}

impl From<ForumError> for WebError {
    fn from(error: ForumError) -> WebError {
        match error {
            // Callers check visibility before acting, so a NotFound here is about something the viewer may see or
            // something that does not exist; either way its text (it names ids) is not sent.
            ForumError::NotFound(_) => WebError::NotFound,
            ForumError::Invalid(message) => WebError::Invalid(message),
            ForumError::Settings(errors) => WebError::Invalid(cadre_core::error::render_errors(&errors)),
            // The program failing on the moderator's settings (a trap, running out of fuel) is about what they sent:
            // say so, as a refusal, rather than as the server's failure.
            ForumError::Program(error) => WebError::Invalid(error.to_string()),
            ForumError::Db(error) if disk_full(&error) => WebError::DiskFull,
            other => WebError::Internal(other.to_string()),
        }
    }
}

impl From<rusqlite::Error> for WebError {
    fn from(error: rusqlite::Error) -> WebError {
        if disk_full(&error) {
            return WebError::DiskFull;
        }
        WebError::Internal(error.to_string())
    }
}

impl From<super::forum_thread::Stopped> for WebError {
    fn from(error: super::forum_thread::Stopped) -> WebError {
        WebError::Internal(error.to_string())
    }
}

/// The bare not-found page, byte for byte the same for everyone; the server renders it in the layout with the
/// viewer's header instead (`error_pages`), which is the same for the same viewer whatever was not found.
pub const NOT_FOUND_PAGE: &str = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Not found · Cadre</title>\
<link rel=\"stylesheet\" href=\"/static/style.css\"></head><body><main class=\"narrow\"><h1>Page not found</h1>\
<p>There is nothing here. It may never have existed.</p><p><a href=\"/\">Back to the forum</a></p></main></body></html>";

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        use super::error_pages::{ErrorPage, mark};
        let status = self.status();
        if status == StatusCode::NOT_FOUND {
            let page = ErrorPage { title: "Not found".into(), message: None };
            return mark((status, Html(NOT_FOUND_PAGE)).into_response(), page);
        }
        let message = self.public_message();
        let title = status.canonical_reason().unwrap_or("Error");
        let page = super::html::message_page(title, &message);
        let response = self.with_retry_after((status, Html(page.into_string())).into_response());
        mark(response, ErrorPage { title: title.into(), message: Some(message) })
    }
}

/// The same error for the JSON API: `{"error": "..."}` with the same status.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl<E: Into<WebError>> From<E> for ApiError {
    fn from(error: E) -> ApiError {
        ApiError(error.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let message = if status == StatusCode::NOT_FOUND { "not found".to_owned() } else { self.0.public_message() };
        self.0.with_retry_after((status, axum::Json(serde_json::json!({ "error": message }))).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cadre_runtime::{CallError, CallErrorKind, PluginName};

    #[test]
    fn a_program_failing_on_the_moderators_settings_is_a_refusal_that_says_why_not_a_server_error() {
        let plugin = PluginName { name: "cadre-superuser".into(), version: "0.1.0".into() };
        let error = CallError { plugin, kind: CallErrorKind::OutOfFuel { fuel: 100 } };
        match WebError::from(ForumError::Program(Box::new(error))) {
            WebError::Invalid(message) => assert!(message.contains("ran out of fuel"), "{message}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
}
