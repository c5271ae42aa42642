//! A Discourse simulator for tests (feature `simulator`): an axum server on 127.0.0.1 implementing exactly the admin
//! endpoints Cadre calls, with Discourse's status codes and bodies, and a webhook sender that builds deliveries from
//! the payloads captured from a production Discourse (`tests/fixtures/*.fedora.json`), re-signed with the test
//! secret, delivered as Discourse does: once, no retry after a connection failure, no event for an unlike or for the
//! accept an accept of another answer replaces.
//!
//! Answers (from Discourse's controllers, see /work/shared/data/discourse/README.md): a wrong `Api-Key` is 403
//! `invalid_access`; past `limit` admin requests in a window, 429 with `Retry-After` and `extras.wait_seconds`;
//! `POST /user_badges.json` for an unknown user 404, a disabled badge 404, a single-grant badge already held returns
//! the existing grant, a grant created notifies the member unless `suppress_notification` is true (PR #43911; an
//! old site, [`Site::ignores_suppress_notification`], always notifies); `PUT /groups/{id}/members.json` all already
//! members 422 `… is already a member of this group.`, no known name 400, automatic group 403, a member added is
//! notified only with `notify_users=true`. Read-back endpoints page as Discourse does:
//! `GET /post_action_users.json` by `page` and `limit` (at most 200; `total_rows_post_action_users` only when the
//! likes span pages), `GET /posts.json` by windows of 50 post ids below `before` (no private messages, no deleted
//! posts; with discourse-solved's `accepted_answer`), `GET /posts/{id}.json` (to staff a deleted post with its
//! `deleted_at`; 404 once deleted permanently) and `GET /posts/by_number/{topic}/{n}.json`, `GET /t/{id}.json`
//! (discourse-solved's `accepted_answers`, or the older `accepted_answer`), `GET /user_badges.json?badge_id=` by
//! `offset` (at most 50 a page), `GET /groups/{name}/members.json` by `limit` (above 1,000 is 400) and `offset`.
//! [`Simulator::start_tls`] serves all of it over HTTPS with a certificate from a test CA made at start. Owns only
//! the test double; nothing in the binary uses it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use serde_json::{Value, json};

use crate::signature::sign;

/// A badge on the simulated site.
#[derive(Debug, Clone)]
pub struct SimBadge {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// 1 gold, 2 silver, 3 bronze.
    pub badge_type_id: i64,
    /// Enabled.
    pub enabled: bool,
    /// May be granted more than once.
    pub multiple_grant: bool,
}

/// A notification the simulated site created for a member (what they see under their avatar, and may be emailed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimNotification {
    /// Who is notified.
    pub user_id: i64,
    /// `granted_badge` (BadgeGranter.send_notification) or `group_added` (Group#notify_added_to_group, only when the
    /// request said `notify_users=true`).
    pub kind: &'static str,
    /// The badge granted, or the group's id.
    pub subject: i64,
}

/// The simulated site's state.
#[derive(Debug, Default)]
pub struct Site {
    /// Users: id → username.
    pub users: BTreeMap<i64, String>,
    /// Badges by id.
    pub badges: BTreeMap<i64, SimBadge>,
    /// Grants: user_badge id → (user id, badge id).
    pub user_badges: BTreeMap<i64, (i64, i64)>,
    /// Groups: name → (id, automatic, members).
    pub groups: BTreeMap<String, (i64, bool, BTreeSet<i64>)>,
    /// Likes: post id → users who like it now (an unlike removes the user and sends no webhook, as Discourse).
    pub likes: BTreeMap<i64, BTreeSet<i64>>,
    /// Posts the site holds (what `GET /posts.json` lists), by id.
    pub posts: BTreeMap<i64, SimPost>,
    /// Posts deleted (trashed: `deleted_at` set) but kept, by id: `GET /posts.json` leaves them out, `GET
    /// /posts/{id}.json` shows them to staff with their `deleted_at`.
    pub deleted_posts: BTreeSet<i64>,
    /// Accepted answers: topic id → the answer's post id (one per topic, as discourse-solved).
    pub solutions: BTreeMap<i64, i64>,
    /// Grant requests that created a grant (a second grant of a single-grant badge creates none).
    pub grants_created: u64,
    /// The notifications the site created, in order.
    pub notifications: Vec<SimNotification>,
    /// Serve `GET /t/{id}.json` as the older discourse-solved does: `accepted_answer` `{post_number, username, name,
    /// excerpt}` instead of the newer `accepted_answers` (full posts, with their ids).
    pub legacy_topic_view: bool,
    /// Behave as a Discourse from before 2026-09-21 (PR #43911), whose `POST /user_badges.json` ignores
    /// `suppress_notification` and notifies every grant it creates.
    pub ignores_suppress_notification: bool,
    /// Admin requests answered (429s included).
    pub requests: u64,
    /// 429s answered.
    pub refused: u64,
    /// How long each admin request takes to answer (a real site's latency; 0 by default).
    pub latency: Duration,
    next_id: i64,
    window_start: Option<Instant>,
    in_window: u32,
}

impl Site {
    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    /// The usernames in a group.
    pub fn group_members(&self, group: &str) -> BTreeSet<String> {
        self.groups
            .get(group)
            .map(|(_, _, members)| members.iter().filter_map(|u| self.users.get(u).cloned()).collect())
            .unwrap_or_default()
    }

    /// An admin grants badge `badge` to `user` by hand (no webhook Cadre uses): the new `user_badge` id.
    pub fn grant_by_hand(&mut self, user: i64, badge: i64) -> i64 {
        let id = self.id();
        self.user_badges.insert(id, (user, badge));
        id
    }

    /// The id of the badge named `name`.
    pub fn badge_id(&self, name: &str) -> Option<i64> {
        self.badges.values().find(|b| b.name == name).map(|b| b.id)
    }

    /// The badge names a user holds.
    pub fn badges_of(&self, username: &str) -> Vec<String> {
        let Some((&user, _)) = self.users.iter().find(|(_, name)| *name == username) else { return Vec::new() };
        let mut names: Vec<String> = self
            .user_badges
            .values()
            .filter(|(u, _)| *u == user)
            .filter_map(|(_, b)| self.badges.get(b).map(|b| b.name.clone()))
            .collect();
        names.sort();
        names
    }
}

/// A running simulator.
#[derive(Clone)]
pub struct Simulator {
    /// Its state.
    pub site: Arc<Mutex<Site>>,
    /// `http://127.0.0.1:port`, or `https://127.0.0.1:port` for [`Simulator::start_tls`].
    pub url: String,
    /// The PEM of the test CA that signed the simulator's certificate ([`Simulator::start_tls`] only): what a
    /// `ca-file` must hold for Cadre to trust it.
    pub ca_pem: Option<String>,
    /// The admin API key it accepts.
    pub api_key: String,
    /// The webhook secret it signs with.
    pub secret: String,
    limit: u32,
    window: Duration,
}

#[derive(Clone)]
struct SimState {
    sim: Simulator,
}

fn error(status: StatusCode, errors: &[&str], error_type: Option<&str>) -> Response {
    let mut body = json!({ "errors": errors });
    if let Some(t) = error_type {
        body["error_type"] = json!(t);
    }
    (status, axum::Json(body)).into_response()
}

impl Simulator {
    /// Start a simulator on a free loopback port allowing `limit` admin requests per `window` (Discourse: 60 a minute).
    pub async fn start(limit: u32, window: Duration) -> Simulator {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the simulator");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let sim = Simulator::new(url, None, limit, window);
        let app = sim.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        sim
    }

    /// As [`Simulator::start`], over HTTPS as a real site: a certificate for `127.0.0.1` and `localhost` signed by a
    /// test CA made now, whose PEM is [`Simulator::ca_pem`] (Cadre trusts it only if told to, through `ca-file`).
    pub async fn start_tls(limit: u32, window: Duration) -> Simulator {
        let (ca_pem, server_config) = test_certificates();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the simulator");
        let url = format!("https://{}", listener.local_addr().expect("address"));
        let sim = Simulator::new(url, Some(ca_pem), limit, window);
        let app = sim.router();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    // A client that refuses the certificate ends the handshake: nothing to serve.
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        sim
    }

    fn new(url: String, ca_pem: Option<String>, limit: u32, window: Duration) -> Simulator {
        Simulator {
            site: Arc::new(Mutex::new(Site::default())),
            url,
            ca_pem,
            api_key: "test-api-key-0123456789".into(),
            secret: "test-webhook-secret".into(),
            limit,
            window,
        }
    }

    fn router(&self) -> Router {
        Router::new()
            .route("/admin/badges.json", get(list_badges).post(create_badge))
            .route("/user_badges.json", get(list_user_badges).post(grant))
            .route("/user_badges/{id}", delete(revoke))
            .route("/groups/{name}", get(show_group))
            .route("/groups/{id}/members.json", get(list_members).put(add_members).delete(remove_members))
            .route("/admin/users/{id}", get(show_user))
            .route("/post_action_users.json", get(post_action_users))
            .route("/posts.json", get(latest_posts))
            .route("/posts/{id}", get(show_post))
            .route("/posts/by_number/{topic}/{number}", get(post_by_number))
            .route("/t/{id}", get(show_topic))
            .with_state(SimState { sim: self.clone() })
    }

    /// Add a user.
    pub fn add_user(&self, id: i64, username: &str) {
        self.site.lock().unwrap().users.insert(id, username.to_owned());
    }

    /// A like (`true`) or its removal on the site's side; the caller sends the `post_liked` webhook if any.
    pub fn set_like(&self, post: i64, user: i64, liked: bool) {
        let mut site = self.site.lock().unwrap();
        let likers = site.likes.entry(post).or_default();
        if liked {
            likers.insert(user);
        } else {
            likers.remove(&user);
        }
    }

    /// A post is made on the site (the caller sends the `post_created` webhook, or not: Cadre may be down).
    pub fn add_post(&self, post: &SimPost) {
        self.site.lock().unwrap().posts.insert(post.id, post.clone());
    }

    /// Someone deletes post `id` on the site (the caller sends the `post_destroyed` webhook, or not): trashed, kept
    /// with its `deleted_at`, or, `permanently`, its row gone (PostDestroyer's `permanent` delete; `GET
    /// /posts/{id}.json` is then 404 even to staff).
    pub fn destroy(&self, id: i64, permanently: bool) {
        let mut site = self.site.lock().unwrap();
        if permanently {
            site.posts.remove(&id);
            site.deleted_posts.remove(&id);
        } else if site.posts.contains_key(&id) {
            site.deleted_posts.insert(id);
        }
    }

    /// The topic's owner accepts `post` as its solution (replacing any other: discourse-solved keeps one).
    pub fn accept(&self, post: &SimPost) {
        self.site.lock().unwrap().solutions.insert(post.topic_id, post.id);
    }

    /// Add a group (automatic groups refuse members).
    pub fn add_group(&self, name: &str, automatic: bool) -> i64 {
        let mut site = self.site.lock().unwrap();
        let id = site.id();
        site.groups.insert(name.to_owned(), (id, automatic, BTreeSet::new()));
        id
    }

    /// Wait as long as the site's latency says.
    async fn pause(&self) {
        let latency = self.site.lock().unwrap().latency;
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
    }

    /// Count an admin request against the budget: `Some(429)` past it.
    fn admit(&self, headers: &HeaderMap) -> Option<Response> {
        let key = headers.get("api-key").and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut site = self.site.lock().unwrap();
        site.requests += 1;
        if key != self.api_key {
            return Some(error(
                StatusCode::FORBIDDEN,
                &["You are not permitted to view the requested resource."],
                Some("invalid_access"),
            ));
        }
        let now = Instant::now();
        let start = *site.window_start.get_or_insert(now);
        if now.duration_since(start) >= self.window {
            site.window_start = Some(now);
            site.in_window = 0;
        }
        if site.in_window >= self.limit {
            site.refused += 1;
            let left = self.window.saturating_sub(now.duration_since(site.window_start.unwrap()));
            let seconds = left.as_secs_f64().ceil().max(1.0) as u64;
            let body = json!({
                "errors": [format!("You've performed this action too many times. Please wait {seconds} seconds before trying again.")],
                "error_type": "rate_limit",
                "extras": {"wait_seconds": seconds, "time_left": format!("{seconds} seconds")}
            });
            let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            // Discourse's Retry-After is whole seconds; a test's short window is honoured in fractions.
            let retry = format!("{:.3}", left.as_secs_f64().max(0.001));
            response.headers_mut().insert("retry-after", retry.parse().unwrap());
            response
                .headers_mut()
                .insert("discourse-rate-limit-error-code", "admin_api_key_rate_limit".parse().unwrap());
            return Some(response);
        }
        site.in_window += 1;
        None
    }

    /// Deliver a webhook as Discourse does: the body signed with the secret, once. Returns the status, or `None`
    /// when the connection failed (Discourse records that and never retries).
    pub async fn deliver(&self, target: &str, event: &str, event_type: &str, body: &Value) -> Option<(u16, Value)> {
        self.deliver_raw(target, event, event_type, serde_json::to_vec(body).unwrap(), None).await
    }

    /// Deliver raw bytes with a given signature (`None`: signed correctly).
    pub async fn deliver_raw(
        &self,
        target: &str,
        event: &str,
        event_type: &str,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> Option<(u16, Value)> {
        use http_body_util::{BodyExt, Full};
        let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http::<Full<bytes::Bytes>>();
        let signature = signature.unwrap_or_else(|| sign(self.secret.as_bytes(), &body));
        let delivery = { self.site.lock().unwrap().id() };
        let request = hyper::Request::post(format!("{target}/hooks/discourse"))
            .header("content-type", "application/json")
            .header("x-discourse-instance", self.url.as_str())
            .header("x-discourse-event-id", delivery.to_string())
            .header("x-discourse-event-type", event_type)
            .header("x-discourse-event", event)
            .header("x-discourse-event-signature", signature)
            .body(Full::new(bytes::Bytes::from(body)))
            .unwrap();
        let response = client.request(request).await.ok()?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.ok()?.to_bytes();
        Some((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }
}

/// A test CA and a leaf certificate for `127.0.0.1` / `localhost` signed by it: the CA's PEM and the server's TLS
/// configuration.
fn test_certificates() -> (String, rustls::ServerConfig) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "Cadre test CA (simulator)");
    let ca_cert = ca_params.self_signed(&ca_key).expect("the CA certificate");
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().expect("a server key");
    let mut leaf_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).expect("leaf parameters");
    leaf_params.distinguished_name.push(DnType::CommonName, "discourse simulator");
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).expect("the server certificate");
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
        .expect("the server's TLS configuration");
    (ca_cert.pem(), config)
}

fn fixture(text: &str, group: &str) -> Value {
    let captured: Value = serde_json::from_str(text).expect("fixture");
    captured["body"][group].clone()
}

/// A post's fields for a payload.
#[derive(Debug, Clone)]
pub struct SimPost {
    /// posts.id
    pub id: i64,
    /// Author.
    pub user_id: i64,
    /// Author's name.
    pub username: String,
    /// topics.id
    pub topic_id: i64,
    /// 1 for the topic's first post.
    pub post_number: i64,
    /// Category.
    pub category_id: i64,
    /// 1 regular, 3 small action, 4 whisper.
    pub post_type: i64,
    /// `regular` or `private_message`.
    pub archetype: &'static str,
    /// Wiki.
    pub wiki: bool,
}

impl SimPost {
    /// A regular post.
    pub fn new(id: i64, user: (i64, &str), topic_id: i64, post_number: i64) -> SimPost {
        SimPost {
            id,
            user_id: user.0,
            username: user.1.to_owned(),
            topic_id,
            post_number,
            category_id: 7,
            post_type: 1,
            archetype: "regular",
            wiki: false,
        }
    }

    fn fill(&self, mut post: Value) -> Value {
        post["id"] = json!(self.id);
        post["user_id"] = json!(self.user_id);
        post["username"] = json!(self.username);
        post["topic_id"] = json!(self.topic_id);
        post["post_number"] = json!(self.post_number);
        post["category_id"] = json!(self.category_id);
        post["post_type"] = json!(self.post_type);
        post["topic_archetype"] = json!(self.archetype);
        post["wiki"] = json!(self.wiki);
        post["reply_to_post_number"] = if self.post_number > 1 { json!(1) } else { Value::Null };
        post
    }

    /// The `post_created` body (the captured one, with these ids).
    pub fn created(&self) -> Value {
        json!({ "post": self.fill(fixture(include_str!("../tests/fixtures/post_created.fedora.json"), "post")) })
    }

    /// The `post_liked` body for a like by `liker`.
    pub fn liked(&self, liker: (i64, &str)) -> Value {
        let mut like = fixture(include_str!("../tests/fixtures/post_liked.fedora.json"), "like");
        like["post"] = self.fill(like["post"].clone());
        like["user"]["id"] = json!(liker.0);
        like["user"]["username"] = json!(liker.1);
        json!({ "like": like })
    }

    /// The `accepted_solution` / `unaccepted_solution` body.
    pub fn solved(&self) -> Value {
        json!({ "solved": self.fill(fixture(include_str!("../tests/fixtures/accepted_solution.fedora.json"), "solved")) })
    }
}

async fn list_badges(State(s): State<SimState>, headers: HeaderMap) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let site = s.sim.site.lock().unwrap();
    let badges: Vec<Value> = site
        .badges
        .values()
        .map(|b| json!({"id": b.id, "name": b.name, "badge_type_id": b.badge_type_id, "enabled": b.enabled, "multiple_grant": b.multiple_grant}))
        .collect();
    axum::Json(json!({ "badges": badges })).into_response()
}

async fn create_badge(
    State(s): State<SimState>,
    headers: HeaderMap,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let mut site = s.sim.site.lock().unwrap();
    let name = form.get("name").cloned().unwrap_or_default();
    if site.badges.values().any(|b| b.name == name) {
        return error(StatusCode::UNPROCESSABLE_ENTITY, &["Name has already been taken"], None);
    }
    let id = site.id();
    let badge = SimBadge {
        id,
        name: name.clone(),
        badge_type_id: form.get("badge_type_id").and_then(|t| t.parse().ok()).unwrap_or(3),
        enabled: form.get("enabled").is_none_or(|e| e == "true"),
        multiple_grant: form.get("multiple_grant").is_some_and(|m| m == "true"),
    };
    site.badges.insert(id, badge.clone());
    axum::Json(json!({"badge": {"id": id, "name": name, "badge_type_id": badge.badge_type_id}})).into_response()
}

async fn grant(State(s): State<SimState>, headers: HeaderMap, Form(form): Form<BTreeMap<String, String>>) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let mut site = s.sim.site.lock().unwrap();
    let username = form.get("username").cloned().unwrap_or_default();
    let Some((&user, _)) = site.users.iter().find(|(_, n)| **n == username) else {
        return error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found"));
    };
    let badge_id: i64 = form.get("badge_id").and_then(|b| b.parse().ok()).unwrap_or(0);
    let Some(badge) = site.badges.get(&badge_id).cloned().filter(|b| b.enabled) else {
        return error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found"));
    };
    if !badge.multiple_grant
        && let Some((&existing, _)) = site.user_badges.iter().find(|(_, (u, b))| *u == user && *b == badge_id)
    {
        return axum::Json(json!({"user_badge": {"id": existing, "badge_id": badge_id, "user_id": user}}))
            .into_response();
    }
    let id = site.id();
    site.user_badges.insert(id, (user, badge_id));
    site.grants_created += 1;
    // BadgeGranter#grant notifies a grant it creates unless told not to (`suppress_notification`, a boolean parameter
    // since PR #43911) or `suppress_notification?` holds: an old bronze grant (unreachable here: the API grants now)
    // or a beginner badge for a member who skips new-user tips (not Cadre's badges).
    let suppress = !site.ignores_suppress_notification && form.get("suppress_notification").is_some_and(|v| truthy(v));
    if !suppress {
        site.notifications.push(SimNotification { user_id: user, kind: "granted_badge", subject: badge_id });
    }
    axum::Json(json!({"user_badge": {"id": id, "badge_id": badge_id, "user_id": user, "granted_by_id": -1}}))
        .into_response()
}

/// A boolean request parameter as Rails casts it (`ActiveModel::Type::Boolean`): blank is nil, and `0`, `f`,
/// `false`, `off` (any case) are false; anything else is true.
fn truthy(value: &str) -> bool {
    !value.is_empty() && !["0", "f", "false", "off"].contains(&value.to_ascii_lowercase().as_str())
}

async fn revoke(State(s): State<SimState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let id: i64 = id.trim_end_matches(".json").parse().unwrap_or(0);
    match s.sim.site.lock().unwrap().user_badges.remove(&id) {
        Some(_) => axum::Json(json!({"success": "OK"})).into_response(),
        None => error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found")),
    }
}

async fn show_group(State(s): State<SimState>, headers: HeaderMap, Path(name): Path<String>) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let name = name.trim_end_matches(".json");
    match s.sim.site.lock().unwrap().groups.get(name) {
        Some((id, automatic, members)) => {
            axum::Json(json!({"group": {"id": id, "name": name, "automatic": automatic, "user_count": members.len()}}))
                .into_response()
        }
        None => error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found")),
    }
}

fn group_by_id(site: &mut Site, id: i64) -> Option<&mut (i64, bool, BTreeSet<i64>)> {
    site.groups.values_mut().find(|(gid, _, _)| *gid == id)
}

fn named_users(site: &Site, form: &BTreeMap<String, String>) -> (Vec<(i64, String)>, Vec<String>) {
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for name in form.get("usernames").map(|u| u.split(',').map(str::trim).collect::<Vec<_>>()).unwrap_or_default() {
        match site.users.iter().find(|(_, n)| *n == name) {
            Some((&id, n)) => known.push((id, n.clone())),
            None => unknown.push(name.to_owned()),
        }
    }
    (known, unknown)
}

async fn add_members(
    State(s): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let mut site = s.sim.site.lock().unwrap();
    let (known, _) = named_users(&site, &form);
    let Some((_, automatic, members)) = group_by_id(&mut site, id) else {
        return error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found"));
    };
    if *automatic {
        return error(
            StatusCode::FORBIDDEN,
            &["You are not permitted to view the requested resource."],
            Some("invalid_access"),
        );
    }
    if known.is_empty() {
        return error(
            StatusCode::BAD_REQUEST,
            &["You supplied invalid parameters to the request: usernames"],
            Some("invalid_parameters"),
        );
    }
    let new: Vec<&(i64, String)> = known.iter().filter(|(u, _)| !members.contains(u)).collect();
    if new.is_empty() {
        let message = format!("'{}' is already a member of this group.", known[0].1);
        return error(StatusCode::UNPROCESSABLE_ENTITY, &[message.as_str()], None);
    }
    let names: Vec<String> = new.iter().map(|(_, n)| n.clone()).collect();
    let added: Vec<i64> = new.iter().map(|(u, _)| *u).collect();
    for u in &added {
        members.insert(*u);
    }
    // GroupsController#add_members notifies only when `notify_users` is "true".
    if form.get("notify_users").is_some_and(|v| v == "true") {
        for u in added {
            site.notifications.push(SimNotification { user_id: u, kind: "group_added", subject: id });
        }
    }
    axum::Json(json!({"success": "OK", "usernames": names})).into_response()
}

async fn remove_members(
    State(s): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let mut site = s.sim.site.lock().unwrap();
    let (known, unknown) = named_users(&site, &form);
    let Some((_, _, members)) = group_by_id(&mut site, id) else {
        return error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found"));
    };
    let mut removed = Vec::new();
    let mut skipped = unknown;
    for (u, n) in known {
        if members.remove(&u) { removed.push(n) } else { skipped.push(n) }
    }
    axum::Json(json!({"success": "OK", "usernames": removed, "skipped_usernames": skipped})).into_response()
}

async fn show_user(State(s): State<SimState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let id: i64 = id.trim_end_matches(".json").parse().unwrap_or(0);
    match s.sim.site.lock().unwrap().users.get(&id) {
        Some(name) => axum::Json(json!({"id": id, "username": name})).into_response(),
        None => error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found")),
    }
}

async fn post_action_users(
    State(s): State<SimState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<BTreeMap<String, String>>,
) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let site = s.sim.site.lock().unwrap();
    let post: i64 = query.get("id").and_then(|p| p.parse().ok()).unwrap_or(0);
    if query.get("post_action_type_id").map(String::as_str) != Some("2") {
        return error(
            StatusCode::BAD_REQUEST,
            &["You supplied invalid parameters to the request: post_action_type_id"],
            Some("invalid_parameters"),
        );
    }
    // `page` (from 0) and `limit` (default 200, at most 200), ordered as Discourse orders them (here by user id);
    // `total_rows_post_action_users` only when the likes do not fit in one page (post_action_users_controller.rb).
    let page: usize = query.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let limit: usize = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(200).clamp(1, 200);
    let all: Vec<Value> = site
        .likes
        .get(&post)
        .map(|likers| {
            likers
                .iter()
                .filter_map(|u| site.users.get(u).map(|name| json!({"id": u, "username": name, "name": name})))
                .collect()
        })
        .unwrap_or_default();
    let total = all.len();
    let users: Vec<Value> = all.into_iter().skip(page * limit).take(limit).collect();
    let mut body = json!({ "post_action_users": users });
    if total > limit {
        body["total_rows_post_action_users"] = json!(total);
    }
    axum::Json(body).into_response()
}

/// `GET /posts.json?before=ID`: the latest public posts, newest first, among ids `(before - 50, before]` (`before`
/// defaults to the last post's id), as PostsController#latest; each with discourse-solved's `accepted_answer` and
/// `topic_accepted_answer`. Private messages are not listed; whispers are, to staff.
async fn latest_posts(
    State(s): State<SimState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<BTreeMap<String, String>>,
) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let site = s.sim.site.lock().unwrap();
    let before: i64 = query.get("before").and_then(|b| b.parse().ok()).unwrap_or(0);
    let last = if before <= 0 { site.posts.keys().next_back().copied().unwrap_or(0) } else { before };
    let template = fixture(include_str!("../tests/fixtures/post_created.fedora.json"), "post");
    let posts: Vec<Value> = site
        .posts
        .range(last - 49..=last)
        .rev()
        .filter(|(id, p)| p.archetype != "private_message" && !site.deleted_posts.contains(id))
        .map(|(_, p)| {
            let mut post = p.fill(template.clone());
            // PostSerializer has no topic_archetype (the webhook's serializer adds it).
            post.as_object_mut().expect("an object").remove("topic_archetype");
            post["accepted_answer"] = json!(site.solutions.get(&p.topic_id) == Some(&p.id));
            post["topic_accepted_answer"] = json!(site.solutions.contains_key(&p.topic_id));
            post
        })
        .collect();
    axum::Json(json!({ "latest_posts": posts })).into_response()
}

/// `GET /posts/{id}.json`: one post, as PostsController#show finds it (`find_post_using`: the post `with_deleted`,
/// and a deleted post or a post of a deleted topic only to those who can moderate its topic, staff included, with
/// its `deleted_at`); 404 when no row has that id (permanently deleted). The admin API user is staff.
async fn show_post(State(s): State<SimState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let id: i64 = id.trim_end_matches(".json").parse().unwrap_or(0);
    let site = s.sim.site.lock().unwrap();
    match site.posts.get(&id) {
        Some(post) => axum::Json(serialized(&site, post)).into_response(),
        None => error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found")),
    }
}

/// A post as PostSerializer shows it to staff, with discourse-solved's fields.
fn serialized(site: &Site, post: &SimPost) -> Value {
    let mut body = post.fill(fixture(include_str!("../tests/fixtures/post_created.fedora.json"), "post"));
    body.as_object_mut().expect("an object").remove("topic_archetype");
    body["deleted_at"] =
        if site.deleted_posts.contains(&post.id) { json!("2026-01-05T10:00:00.000Z") } else { Value::Null };
    body["accepted_answer"] = json!(site.solutions.get(&post.topic_id) == Some(&post.id));
    body["topic_accepted_answer"] = json!(site.solutions.contains_key(&post.topic_id));
    body
}

/// `GET /posts/by_number/{topic}/{number}.json`: PostsController#by_number, the same answer as `show` for the post
/// with that number in that topic.
async fn post_by_number(
    State(s): State<SimState>,
    headers: HeaderMap,
    Path((topic, number)): Path<(i64, String)>,
) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let number: i64 = number.trim_end_matches(".json").parse().unwrap_or(0);
    let site = s.sim.site.lock().unwrap();
    match site.posts.values().find(|p| p.topic_id == topic && p.post_number == number) {
        Some(post) => axum::Json(serialized(&site, post)).into_response(),
        None => error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found")),
    }
}

/// `GET /t/{id}.json`: TopicsController#show, the fields Cadre reads: `post_stream.posts` (the first chunk, 20 posts
/// in `post_number` order, deleted ones left out) and `post_stream.stream` (every post id), and discourse-solved's
/// accepted answer when the topic has one — `accepted_answers`, each a serialized post (TopicViewSerializerExtension
/// with AcceptedAnswersSerializer), or, as the older plugin, `accepted_answer` `{post_number, username, name,
/// excerpt}`. 404 when the topic has no post.
async fn show_topic(State(s): State<SimState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let id: i64 = id.trim_end_matches(".json").parse().unwrap_or(0);
    let site = s.sim.site.lock().unwrap();
    let mut posts: Vec<&SimPost> =
        site.posts.values().filter(|p| p.topic_id == id && !site.deleted_posts.contains(&p.id)).collect();
    if posts.is_empty() {
        return error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found"));
    }
    posts.sort_by_key(|p| p.post_number);
    let chunk: Vec<Value> = posts.iter().take(20).map(|p| serialized(&site, p)).collect();
    let stream: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let mut body = json!({"id": id, "posts_count": posts.len(), "post_stream": {"posts": chunk, "stream": stream}});
    if let Some(answer) = site.solutions.get(&id).and_then(|a| site.posts.get(a)) {
        if site.legacy_topic_view {
            body["accepted_answer"] = json!({
                "post_number": answer.post_number, "username": answer.username, "name": answer.username, "excerpt": ""
            });
        } else {
            let mut post = serialized(&site, answer);
            post["accepter"] = json!({"id": -1, "username": "system"});
            body["accepted_answers"] = json!([post]);
        }
    }
    axum::Json(body).into_response()
}

/// `GET /user_badges.json?badge_id=ID&offset=N&limit=L`: a badge's grants, newest first, at most 50 a page
/// (UserBadgesController#index: `limit` defaults to 96 and is capped at 50), the users beside them; 404 for an
/// unknown or disabled badge.
async fn list_user_badges(
    State(s): State<SimState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<BTreeMap<String, String>>,
) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let site = s.sim.site.lock().unwrap();
    let badge_id: i64 = query.get("badge_id").and_then(|b| b.parse().ok()).unwrap_or(0);
    let Some(badge) = site.badges.get(&badge_id).filter(|b| b.enabled) else {
        return error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found"));
    };
    let offset: usize = query.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let limit: usize = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(96).clamp(1, 50);
    let grants: Vec<(i64, i64)> = site
        .user_badges
        .iter()
        .rev()
        .filter(|(_, (_, b))| *b == badge_id)
        .map(|(id, (user, _))| (*id, *user))
        .skip(offset)
        .take(limit)
        .collect();
    let user_badges: Vec<Value> = grants
        .iter()
        .map(|(id, user)| json!({"id": id, "granted_at": "2026-01-01T00:00:00.000Z", "badge_id": badge_id, "user_id": user, "granted_by_id": -1}))
        .collect();
    let users: Vec<Value> = grants
        .iter()
        .filter_map(|(_, user)| site.users.get(user).map(|name| json!({"id": user, "username": name})))
        .collect();
    axum::Json(json!({
        "badges": [{"id": badge.id, "name": badge.name, "badge_type_id": badge.badge_type_id}],
        "users": users,
        "user_badge_info": {"user_badges": user_badges, "grant_count": null, "username": null}
    }))
    .into_response()
}

/// `GET /groups/{name}/members.json?limit=L&offset=N`: `limit` defaults to 50 and above 1,000 is 400, as
/// GroupsController#members; `meta.total` counts every member.
async fn list_members(
    State(s): State<SimState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    axum::extract::Query(query): axum::extract::Query<BTreeMap<String, String>>,
) -> Response {
    s.sim.pause().await;
    if let Some(r) = s.sim.admit(&headers) {
        return r;
    }
    let limit: i64 = query.get("limit").and_then(|l| l.parse().ok()).unwrap_or(50);
    let offset: i64 = query.get("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    if !(0..=1000).contains(&limit) || offset < 0 {
        return error(
            StatusCode::BAD_REQUEST,
            &["You supplied invalid parameters to the request: limit"],
            Some("invalid_parameters"),
        );
    }
    let site = s.sim.site.lock().unwrap();
    match site.groups.get(&name) {
        Some((_, _, members)) => {
            let mut all: Vec<(i64, String)> =
                members.iter().filter_map(|u| site.users.get(u).map(|n| (*u, n.clone()))).collect();
            all.sort_by(|a, b| a.1.cmp(&b.1));
            let total = all.len();
            let page: Vec<Value> = all
                .into_iter()
                .skip(offset as usize)
                .take(limit as usize)
                .map(|(u, n)| json!({"id": u, "username": n}))
                .collect();
            axum::Json(
                json!({"members": page, "owners": [], "meta": {"total": total, "limit": limit, "offset": offset}}),
            )
            .into_response()
        }
        None => error(StatusCode::NOT_FOUND, &["The requested URL or resource could not be found."], Some("not_found")),
    }
}
