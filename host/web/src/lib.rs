//! The web forum and the moderator panel: server-rendered HTML that works without JavaScript, and a JSON API
//! under `/api/` for the same reads and writes (`axum`).
//!
//! [`ROUTES`](routes) is the one table of every route: [`app`] builds the router from it and the leak test walks
//! it, so a new route is tested for leaks the moment it exists. Modules: `auth` (sessions, passwords, CSRF),
//! `limits` (rate limits per name and per client address), `client` (which address a request comes from), `pages`
//! and `forms` (member HTML), `service` (member writes behind forms and API), `panel` and
//! `panel_pages` (the moderator panel), `api` (JSON), `html` (layout), `error` (the one error type),
//! `forum_thread` (the thread that owns the forum), `readers` (read-only connections for member reads), `post_ref`
//! (public ids in paths), `post_changes` (editing and deleting posts, their history for moderators), `recovery`
//! (one-time password reset links), `category_look` (category descriptions and colours), `panel_lists` (panel lists
//! paged, members by name), `uniform_errors` (one error format, axum's refusals included), `error_pages` (refusals in the layout), `settings` (how it is
//! deployed), `external` (events pushed by other systems). The `[web]` table of the
//! host's settings is [`WebSettings`]; the demo community lives in the `cadre` command.

mod api;
pub mod auth;
mod category_look;
pub mod client;
pub mod error;
mod error_pages;
pub mod external;
mod forms;
pub mod forum_thread;
mod html;
pub mod limits;
mod markdown;
mod pages;
mod paging;
mod panel;
mod panel_lists;
mod panel_pages;
mod post_changes;
mod post_ref;
pub mod readers;
mod recovery;
mod service;
pub mod settings;
mod uniform_errors;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, header};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};

pub use api::CSRF_HEADER;
pub use forum_thread::ForumHandle;

pub use settings::WebSettings;

/// What every handler shares: the forum thread, the rate limits, how cookies are marked and which proxies are
/// trusted to name the client.
#[derive(Clone)]
pub struct AppState {
    /// The forum (on its own thread).
    pub forum: ForumHandle,
    /// Failed log-ins per name and per address, sign-ups per address.
    pub limits: Arc<limits::RateLimits>,
    /// How the cookies the server sets are marked (`Secure` or not).
    pub cookies: auth::CookiePolicy,
    /// Reverse proxies whose `X-Forwarded-For` names the client (`[web] trusted-proxies`).
    pub trusted_proxies: Arc<[client::Network]>,
    /// Sources allowed to push external events, with their secrets (`[web] external-sources`).
    pub external_sources: Arc<std::collections::BTreeMap<String, String>>,
}

impl AppState {
    /// State over a running forum thread, with the default settings (plain HTTP).
    pub fn new(forum: ForumHandle) -> AppState {
        AppState::with_settings(forum, &WebSettings::default())
    }

    /// State over a running forum thread, served as the host's `[web]` settings say.
    pub fn with_settings(forum: ForumHandle, settings: &WebSettings) -> AppState {
        AppState {
            forum,
            limits: Arc::new(limits::RateLimits::default()),
            cookies: auth::CookiePolicy { secure: settings.secure_cookies },
            trusted_proxies: settings.trusted_proxies.clone().into(),
            external_sources: Arc::new(settings.external_sources.clone()),
        }
    }
}

/// Largest request body accepted (settings are limited to 64 KiB, posts to 64 KiB of text; forms encode them).
pub const MAX_BODY: usize = 256 << 10;

/// One route: method, path (axum syntax, `{param}`), handler.
pub struct Route {
    /// GET or POST.
    pub method: Method,
    /// The path pattern.
    pub path: &'static str,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

fn r(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Route {
    Route { method, path, handler }
}

/// Every route of the server. Path parameters are named for what they take: `{slug}` a category, `{topic}` a
/// question's id, `{post}` any post's id, `{name}` a member's name, `{member}` a member's name or id,
/// `{nomination}` a nomination's id, `{token}` a reset link's token — the leak test fills each with private and missing values.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        r(M::GET, "/", get(pages::index)),
        r(M::GET, "/latest", get(pages::latest)),
        r(M::GET, "/c/{slug}", get(pages::category)),
        r(M::POST, "/c/{slug}/topics", post(forms::ask)),
        r(M::GET, "/t/{topic}", get(pages::topic)),
        r(M::POST, "/t/{topic}/answers", post(forms::answer)),
        r(M::GET, "/p/{post}", get(pages::permalink)),
        r(M::POST, "/p/{post}/replies", post(forms::reply)),
        r(M::POST, "/p/{post}/like", post(forms::like)),
        r(M::POST, "/p/{post}/unlike", post(forms::unlike)),
        r(M::POST, "/p/{post}/accept", post(forms::accept)),
        r(M::POST, "/p/{post}/unaccept", post(forms::unaccept)),
        r(M::GET, "/p/{post}/edit", get(post_changes::edit_form)),
        r(M::POST, "/p/{post}/edit", post(post_changes::edit_submit)),
        r(M::POST, "/p/{post}/delete", post(post_changes::delete_submit)),
        r(M::GET, "/search", get(pages::search)),
        r(M::GET, "/u/{name}", get(pages::profile)),
        r(M::GET, "/signup", get(forms::signup_page)),
        r(M::POST, "/signup", post(forms::signup)),
        r(M::GET, "/login", get(forms::login_page)),
        r(M::POST, "/login", post(forms::login)),
        r(M::POST, "/logout", post(forms::logout)),
        r(M::GET, "/reset/{token}", get(recovery::reset_form)),
        r(M::POST, "/reset/{token}", post(recovery::reset_submit)),
        r(M::GET, "/mod", get(panel_pages::status)),
        r(M::POST, "/mod/retry", post(panel_pages::retry)),
        r(M::POST, "/mod/outbox/retry", post(panel_pages::retry_outbox)),
        r(M::POST, "/mod/recompute", post(panel_pages::recompute)),
        r(M::GET, "/mod/settings", get(panel_pages::settings)),
        r(M::POST, "/mod/settings", post(panel_pages::save_settings)),
        r(M::GET, "/mod/queue", get(panel_pages::queue)),
        r(M::POST, "/mod/queue/{nomination}", post(panel_pages::decide)),
        r(M::GET, "/mod/members", get(panel_pages::members)),
        r(M::POST, "/mod/members/add", post(panel_pages::add)),
        r(M::POST, "/mod/members/remove", post(panel_pages::remove)),
        r(M::GET, "/mod/members/{member}", get(panel_pages::member)),
        r(M::POST, "/mod/members/{member}/reset-link", post(recovery::issue_submit)),
        r(M::GET, "/mod/categories", get(panel_pages::categories)),
        r(M::POST, "/mod/categories", post(panel_pages::create_category)),
        r(M::POST, "/mod/categories/{slug}", post(category_look::submit)),
        r(M::GET, "/mod/audit", get(panel_pages::audit)),
        r(M::GET, "/mod/posts/{post}", get(post_changes::mod_history)),
        r(M::GET, "/api/categories", get(api::categories)),
        r(M::GET, "/api/latest", get(api::latest)),
        r(M::GET, "/api/c/{slug}", get(api::category)),
        r(M::POST, "/api/c/{slug}/topics", post(api::ask)),
        r(M::GET, "/api/t/{topic}", get(api::topic)),
        r(M::POST, "/api/t/{topic}/answers", post(api::answer)),
        r(M::GET, "/api/p/{post}", get(api::post)),
        r(M::POST, "/api/p/{post}/replies", post(api::reply)),
        r(M::POST, "/api/p/{post}/like", post(api::like)),
        r(M::POST, "/api/p/{post}/unlike", post(api::unlike)),
        r(M::POST, "/api/p/{post}/accept", post(api::accept)),
        r(M::POST, "/api/p/{post}/unaccept", post(api::unaccept)),
        r(M::POST, "/api/p/{post}/edit", post(post_changes::api_edit)),
        r(M::POST, "/api/p/{post}/delete", post(post_changes::api_delete)),
        r(M::GET, "/api/search", get(api::search)),
        r(M::GET, "/api/u/{name}", get(api::profile)),
        r(M::GET, "/api/me", get(api::me)),
        r(M::POST, "/api/signup", post(api::signup)),
        r(M::POST, "/api/login", post(api::login)),
        r(M::POST, "/api/logout", post(api::logout)),
        r(M::POST, "/api/reset/{token}", post(recovery::api_reset)),
        r(M::GET, "/api/mod/status", get(api::mod_status)),
        r(M::GET, "/api/mod/queue", get(api::mod_queue)),
        r(M::POST, "/api/mod/queue/{nomination}", post(api::mod_decide)),
        r(M::GET, "/api/mod/members", get(api::mod_members)),
        r(M::POST, "/api/mod/members/add", post(api::mod_add)),
        r(M::POST, "/api/mod/members/remove", post(api::mod_remove)),
        r(M::GET, "/api/mod/members/{member}", get(api::mod_member)),
        r(M::POST, "/api/mod/members/{member}/reset-link", post(recovery::api_issue)),
        r(M::GET, "/api/mod/audit", get(api::mod_audit)),
        r(M::GET, "/api/mod/posts/{post}", get(post_changes::api_mod_history)),
        r(M::GET, "/api/mod/settings", get(api::mod_settings)),
        r(M::POST, "/api/mod/settings", post(api::mod_configure)),
        r(M::POST, "/api/mod/retry", post(api::mod_retry)),
        r(M::POST, "/api/mod/categories", post(api::mod_create_category)),
        r(M::POST, "/api/mod/categories/{slug}", post(category_look::api_submit)),
        r(M::POST, "/api/external", post(external::receive)),
        r(M::GET, "/api/openapi.json", get(openapi)),
        r(M::GET, "/static/style.css", get(style)),
    ]
}

/// The JSON API described in OpenAPI 3.1 (a test checks it names every `/api/` route of [`routes`]).
pub const OPENAPI: &str = include_str!("openapi.json");

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

async fn style() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], html::STYLE)
}

/// Not found: the JSON answer under `/api/`, the not-found page elsewhere.
async fn not_found(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        error::ApiError(error::WebError::NotFound).into_response()
    } else {
        error::WebError::NotFound.into_response()
    }
}

/// The server: every route of [`routes`], the not-found page for everything else (an unknown path and a known
/// path with the wrong method alike), a bound on request bodies, and headers that keep pages out of frames and
/// caches.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        router = router.route(route.path, route.handler);
    }
    router
        // Before any extractor reads the body: a non-moderator never learns that a panel route exists (a body the
        // route would refuse must not answer differently from a missing page).
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), moderators_only))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        // Outside the routes: the extractors' own refusals (bad JSON, body too large, …) get the one format.
        .layer(axum::middleware::from_fn(uniform_errors::uniform_errors))
        // Outside that: every HTML refusal in the layout, with the viewer's header.
        .layer(axum::middleware::from_fn_with_state(state.clone(), error_pages::styled_errors))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

/// Serve [`app`] on `listener` until `shutdown` completes: what `cadre serve` runs, and what the tests over real
/// HTTP run. Each request carries its connection's peer address, which the per-address rate limits key on.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// The moderator panel (`/mod…`, `/api/mod/…`) answers everyone else with not-found, whatever they send.
async fn moderators_only(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    let panel = path == "/mod" || path.starts_with("/mod/") || path.starts_with("/api/mod/");
    if !panel {
        return next.run(request).await;
    }
    let uri = request.uri().clone();
    let (mut parts, body) = request.into_parts();
    match <auth::Who as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &state).await {
        Ok(who) if who.member.as_ref().is_some_and(|m| m.moderator) => {
            next.run(axum::extract::Request::from_parts(parts, body)).await
        }
        Ok(_) => not_found(uri).await,
        Err(error) => error.into_response(),
    }
}

async fn security_headers(mut response: axum::response::Response) -> axum::response::Response {
    let headers = response.headers_mut();
    headers.insert(header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, header::HeaderValue::from_static("nosniff"));
    headers.entry(header::CACHE_CONTROL).or_insert(header::HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static("default-src 'self'; script-src 'none'; frame-ancestors 'none'"),
    );
    response
}
