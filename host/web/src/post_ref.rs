//! The post a URL names (`/t/{topic}`, `/p/{post}`, and their API twins): its public id, or an old numeric link
//! from before public ids (see `cadre_core::forum::public_ids`). A name that cannot be a post answers exactly as a
//! missing post does, so probing names tells nothing.
//!
//! Owns the extraction only; whether the viewer may see the post is asked by the handler, as before.

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use cadre_core::forum::public_ids::Named;

use super::AppState;
use super::error::{ApiError, WebError};

/// A post named in the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostRef {
    /// Its number (internal).
    pub number: u64,
    /// Named by an old numeric link: pages redirect to its public id (once they know the viewer may see it).
    pub legacy: bool,
}

impl FromRequestParts<AppState> for PostRef {
    /// The not-found answer (the JSON one under `/api/`).
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<PostRef, Response> {
        let api = parts.uri.path().starts_with("/api/");
        let not_found =
            || if api { ApiError(WebError::NotFound).into_response() } else { WebError::NotFound.into_response() };
        let Path(name) = Path::<String>::from_request_parts(parts, state).await.map_err(|_| not_found())?;
        match state.forum.ids().resolve(&name) {
            Some(Named::Public(number)) => Ok(PostRef { number, legacy: false }),
            Some(Named::Legacy(number)) => Ok(PostRef { number, legacy: true }),
            None => Err(not_found()),
        }
    }
}
