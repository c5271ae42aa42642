//! The styled error pages: not-found (404), refused input (400) and every other HTML refusal rendered inside the
//! forum's own layout — the header with the viewer's log-in state, the search box, the footer — instead of a bare
//! page.
//!
//! Error responses are made where the error happens (`WebError`, axum's rejections in `uniform_errors`), often
//! before anyone has asked who the viewer is; they carry an [`ErrorPage`] mark. This layer, outside every route,
//! looks the viewer up from the request's cookies and renders the marked page in the layout. The page depends only
//! on the viewer and the error: a private thing and a missing thing still answer byte for byte the same to the same
//! viewer (the leak test compares them).
//!
//! Owns the re-rendering only. What is refused, and why, is the handlers'.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use maud::html;

use super::AppState;
use super::auth::Who;
use super::html::page;

/// The mark an HTML error response carries: what its styled page says.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// The page's title and heading.
    pub title: String,
    /// The message (`None`: the not-found text).
    pub message: Option<String>,
}

/// Mark an HTML error response to be rendered in the layout.
pub fn mark(mut response: Response, error: ErrorPage) -> Response {
    response.extensions_mut().insert(error);
    response
}

/// The middleware: render a marked error response in the layout, with the viewer's header.
pub async fn styled_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/api/") {
        return next.run(request).await;
    }
    let (uri, headers) = (request.uri().clone(), request.headers().clone());
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<ErrorPage>().cloned() else { return response };
    let mut parts = Request::builder().uri(uri).body(()).expect("a request of a valid uri").into_parts().0;
    parts.headers = headers;
    // A failed viewer lookup (the database) shows the page as to an anonymous visitor.
    let who = Who::from_request_parts(&mut parts, &state).await.unwrap_or(Who {
        member: None,
        pre: String::new(),
        fresh_pre: false,
    });
    let content = html! {
        div.narrow.error-page {
            @match &error.message {
                None => {
                    h1 { "Page not found" }
                    p { "There is nothing here. It may never have existed." }
                }
                Some(message) => {
                    h1 { (error.title) }
                    p.error { (message) }
                }
            }
            p { a href="/" { "Back to the forum" } " · " a href="/latest" { "Latest topics" } }
        }
    };
    let title = if error.message.is_none() { "Not found" } else { error.title.as_str() };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page(&who, title, content).into_string()))
}
