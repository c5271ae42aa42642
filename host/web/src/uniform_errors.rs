//! One error format for every refusal, including the framework's own. axum's extractors refuse a request before
//! any handler runs (bad JSON, a missing field, the wrong content type, a body over the limit, a path parameter of
//! the wrong type) and answer in plain text; this layer rewrites those answers: under `/api/` as
//! `{"error": "…"}` with the same status, elsewhere as the styled message page. Answers already in the right form
//! (every `WebError`) pass unchanged.
//!
//! Owns the rewriting only; the messages are axum's, which name only what the client sent.

use axum::extract::Request;
use axum::http::header::{self, CONTENT_TYPE};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

/// Longest rejection text kept (axum's are one line).
const MAX_MESSAGE: usize = 4 << 10;

/// The middleware: rewrite a plain-text refusal in the route's format.
pub async fn uniform_errors(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    let plain = response.headers().get(CONTENT_TYPE).is_none_or(|value| value.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_owned();
    let message = if text.is_empty() { status.canonical_reason().unwrap_or("refused").to_owned() } else { text };
    let mut rewritten = if api {
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
    } else {
        let title = status.canonical_reason().unwrap_or("Error");
        let page = (status, Html(super::html::message_page(title, &message).into_string())).into_response();
        let styled = super::error_pages::ErrorPage { title: title.into(), message: Some(message) };
        super::error_pages::mark(page, styled)
    };
    // Headers the refusal carried (Retry-After, Allow, …) stay; the body's own are the new body's.
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().entry(name.clone()).or_insert(value.clone());
        }
    }
    rewritten
}
