//! `POST /hooks/discourse`: the webhook endpoint, and the thread that owns the forum while it serves.
//!
//! The signature is checked on the raw bytes, in constant time, before anything parses them: 401 otherwise. Then:
//! 400 for a missing event name or a body that is not the event's payload; 200 with `{"recorded": …}`,
//! `{"duplicate": true}`, `{"noted": …}` or `{"skipped": …}` only **after** the delivery's transaction committed; 500
//! if the database failed (nothing was recorded; Discourse redelivers if `retry_web_hook_events` is on, and
//! reconciliation covers it otherwise). The delivery id (`X-Discourse-Event-Id`) is logged, never used as a key.
//! Owns the HTTP side only; what a delivery means is `webhook`'s.

use std::sync::Arc;
use std::sync::mpsc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use cadre_core::Forum;

use crate::settings::{DiscourseSettings, Secret};
use crate::signature;
use crate::webhook::{self, Handled, WebhookError};

/// The path Discourse's webhook must point at.
pub const HOOK_PATH: &str = "/hooks/discourse";
/// Largest body accepted: a post payload carries its raw and cooked text (Discourse caps a post at 32,000
/// characters by default; both forms, escaped, stay well under this).
pub const MAX_BODY: usize = 2 << 20;

type Job = Box<dyn FnOnce(&mut Forum) + Send>;

/// A handle to the thread that owns the forum (a `Forum` holds one SQLite connection and may not be shared).
#[derive(Clone)]
pub struct ForumThread {
    jobs: mpsc::Sender<Job>,
}

/// The forum thread has stopped.
#[derive(Debug, thiserror::Error)]
#[error("the forum thread has stopped")]
pub struct Stopped;

impl ForumThread {
    /// Start the thread; `open` builds the forum on it. Returns once it is open, or with `open`'s error.
    pub fn spawn(open: impl FnOnce() -> anyhow::Result<Forum> + Send + 'static) -> anyhow::Result<ForumThread> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, opened) = mpsc::channel::<anyhow::Result<()>>();
        std::thread::Builder::new().name("cadre-discourse-forum".into()).spawn(move || {
            let mut forum = match open() {
                Ok(forum) => {
                    let _ = ready.send(Ok(()));
                    forum
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            for job in queue {
                forum.follow_program_in_force();
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut forum)));
            }
        })?;
        opened.recv().map_err(|_| anyhow::anyhow!("the forum thread stopped while opening the forum"))??;
        Ok(ForumThread { jobs })
    }

    /// Run `job` on the forum thread.
    pub async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Forum) -> R + Send + 'static,
    ) -> Result<R, Stopped> {
        let (reply, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |forum: &mut Forum| {
                let _ = reply.send(job(forum));
            }))
            .map_err(|_| Stopped)?;
        result.await.map_err(|_| Stopped)
    }
}

/// What the webhook handler shares.
#[derive(Clone)]
pub struct HookState {
    /// The forum.
    pub forum: ForumThread,
    /// The `[discourse]` filters.
    pub settings: Arc<DiscourseSettings>,
    /// The webhook secret.
    pub secret: Arc<Secret>,
}

/// The router with the webhook route.
pub fn router(state: HookState) -> Router {
    Router::new().route(HOOK_PATH, post(hook)).layer(DefaultBodyLimit::max(MAX_BODY)).with_state(state)
}

/// Serve the webhook route on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, state: HookState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

fn answer(status: StatusCode, body: serde_json::Value) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn hook(State(state): State<HookState>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let delivery = header("x-discourse-event-id");
    if !signature::verify(state.secret.expose().as_bytes(), &body, &header("x-discourse-event-signature")) {
        tracing::warn!(delivery, "webhook refused: bad or missing signature");
        return answer(StatusCode::UNAUTHORIZED, json!({"error": "bad or missing X-Discourse-Event-Signature"}));
    }
    let event = header("x-discourse-event");
    if event.is_empty() {
        return answer(StatusCode::BAD_REQUEST, json!({"error": "no X-Discourse-Event header"}));
    }
    let parsed: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(error) => {
            tracing::warn!(delivery, event, %error, "webhook refused: body is not JSON");
            return answer(StatusCode::BAD_REQUEST, json!({"error": format!("the body is not JSON: {error}")}));
        }
    };
    let settings = state.settings.clone();
    let job_event = event.clone();
    let result = state.forum.run(move |forum| webhook::handle(forum, &settings, &job_event, &parsed, now_ms())).await;
    match result {
        Ok(Ok(handled)) => {
            tracing::info!(delivery, event, ?handled, "webhook");
            let body = match handled {
                Handled::Recorded { event_id } => json!({"recorded": event_id}),
                Handled::Duplicate => json!({"duplicate": true}),
                Handled::Noted(what) => json!({"noted": what}),
                Handled::Skipped(why) => json!({"skipped": why}),
            };
            answer(StatusCode::OK, body)
        }
        Ok(Err(WebhookError::Malformed { event, reason })) => {
            tracing::warn!(delivery, event, reason, "webhook refused: malformed");
            answer(StatusCode::BAD_REQUEST, json!({"error": format!("malformed {event} payload: {reason}")}))
        }
        Ok(Err(error)) => {
            tracing::error!(delivery, event, %error, "webhook failed: nothing recorded");
            answer(StatusCode::INTERNAL_SERVER_ERROR, json!({"error": "Something went wrong; nothing was recorded"}))
        }
        Err(Stopped) => answer(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "the forum is not running"})),
    }
}
