//! Fuzz check 6: the web forum's forms and JSON API bodies through the real router (`cadre_web::app`), sent with
//! `tower::ServiceExt::oneshot` (no socket).
//!
//! Each input is one to four requests on a fresh copy of a small forum (the bundled program under the `insiders`
//! preset; a moderator, a member, a category, a question with an answer, a private category): each request picks a
//! route from the router's own table ([`cadre_web::routes`]) with its path parameters filled with real or made-up
//! ids, a visitor (anonymous, member, moderator), a valid or wrong CSRF token, a content type, and a body — form
//! fields or a JSON object over the fields the forms and API know, or raw bytes. The promise: no answer is a server
//! error (5xx) and nothing panics; what a visitor sends wrong is refused with a 4xx.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use axum::body::Body;
use axum::http::{Method, Request, header};
use cadre_core::forum::NewPost;
use cadre_model::PostKind;
use cadre_web::{AppState, ForumHandle, auth};
use tower::ServiceExt;

use crate::common;

/// The fields the forms and the JSON API read.
const FIELDS: [&str; 20] = [
    "csrf",
    "name",
    "password",
    "title",
    "body",
    "settings",
    "action",
    "approve",
    "reason",
    "decision",
    "member",
    "tier",
    "slug",
    "id",
    "kind",
    "at",
    "attributes",
    "next",
    "q",
    "page",
];

/// Sessions made in the template (the same in every copy): (member token, member csrf, moderator token, csrf).
static SESSIONS: OnceLock<[String; 4]> = OnceLock::new();

fn template(forum: &mut cadre_core::Forum) {
    let moderator = forum.register("moderator", 0, true).expect("a member");
    let member = forum.register("member", 0, false).expect("a member");
    let general = forum.create_category("general", "General", None).expect("a category");
    forum.create_category("insiders", "Insiders", Some("insiders")).expect("a category");
    let post = |kind, author, category, parent, title: Option<&str>| NewPost {
        kind,
        author,
        category,
        parent,
        title: title.map(str::to_owned),
        body: "Body **text**".to_owned(),
        at: 1_000,
    };
    let (q, _) = forum.create_post("q1", post(PostKind::Question, member, Some(general), None, Some("Q?"))).unwrap();
    forum.create_post("a1", post(PostKind::Answer, moderator, None, Some(q), None)).unwrap();
    let now = auth::now_ms();
    let (m, mc) = auth::open_session(forum.conn(), member, now).expect("a session");
    let (d, dc) = auth::open_session(forum.conn(), moderator, now).expect("a session");
    auth::set_password(forum.conn(), member, "correct horse battery").expect("a password");
    SESSIONS.set([m, mc, d, dc]).expect("made once");
}

fn string(u: &mut Unstructured<'_>, choices: &[&str]) -> arbitrary::Result<String> {
    if u.ratio(1, 2)? { Ok((*u.choose(choices)?).to_owned()) } else { String::arbitrary(u) }
}

fn json_value(u: &mut Unstructured<'_>, depth: u8) -> arbitrary::Result<serde_json::Value> {
    use serde_json::Value;
    Ok(match u.int_in_range(0..=6)? {
        0 => Value::Null,
        1 => Value::Bool(bool::arbitrary(u)?),
        2 => Value::from(i64::arbitrary(u)?),
        3 => Value::from(f64::arbitrary(u)?),
        4 if depth < 2 => {
            Value::Array((0..u.int_in_range(0..=3)?).map(|_| json_value(u, depth + 1)).collect::<Result<_, _>>()?)
        }
        5 if depth < 2 => Value::Object(fields(u, depth + 1)?),
        _ => Value::String(string(u, &["member", "moderator", "insiders", "general", "approve", "", "x"])?),
    })
}

fn fields(u: &mut Unstructured<'_>, depth: u8) -> arbitrary::Result<serde_json::Map<String, serde_json::Value>> {
    let mut map = serde_json::Map::new();
    for _ in 0..u.int_in_range(0..=6)? {
        let name = string(u, &FIELDS)?;
        map.insert(name, json_value(u, depth)?);
    }
    Ok(map)
}

/// One request an input asks for.
fn request(u: &mut Unstructured<'_>, ids: &[String]) -> arbitrary::Result<Request<Body>> {
    let routes = cadre_web::routes();
    let route = u.choose(&routes)?;
    let mut path = String::new();
    for segment in route.path.split('/').skip(1) {
        path.push('/');
        if segment.starts_with('{') {
            let value = match u.int_in_range(0..=3)? {
                0 | 1 => u.choose(ids)?.clone(),
                2 => u
                    .choose(&[
                        "general",
                        "insiders",
                        "member",
                        "moderator",
                        "1",
                        "2",
                        "0",
                        "-1",
                        "99999999999999999999",
                    ])?
                    .to_string(),
                _ => String::arbitrary(u)?
                    .bytes()
                    .filter(|b| b.is_ascii_alphanumeric() || b"-_.%~".contains(b))
                    .map(char::from)
                    .collect(),
            };
            path.push_str(&value);
        } else {
            path.push_str(segment);
        }
    }
    if u.ratio(1, 4)? {
        let query: String =
            String::arbitrary(u)?.chars().filter(|c| !c.is_control() && *c != ' ' && *c != '#').collect();
        path.push('?');
        path.push_str(&query);
    }
    let sessions = SESSIONS.get().expect("the template was made");
    let (cookie, csrf) = match u.int_in_range(0..=2)? {
        0 => (format!("{}={}", auth::PRE_COOKIE, "a0".repeat(32)), "a0".repeat(32)),
        1 => (format!("{}={}", auth::SESSION_COOKIE, sessions[0]), sessions[1].clone()),
        _ => (format!("{}={}", auth::SESSION_COOKIE, sessions[2]), sessions[3].clone()),
    };
    let csrf = if u.ratio(7, 8)? { csrf } else { String::arbitrary(u)? };
    let mut builder = Request::builder().method(route.method.clone()).uri(path.as_str());
    builder = builder.header(header::COOKIE, cookie);
    if route.method == Method::GET {
        // A path or header the input made that is not valid HTTP cannot be sent at all: not a request.
        return builder.body(Body::empty()).map_err(|_| arbitrary::Error::IncorrectFormat);
    }
    let json = route.path.starts_with("/api/");
    let body = match u.int_in_range(0..=5)? {
        0 => Vec::<u8>::arbitrary(u)?,
        1..=2 if !json => {
            let mut pairs = vec![("csrf".to_owned(), csrf.clone())];
            for _ in 0..u.int_in_range(0..=5)? {
                let value = string(u, &["member", "moderator", "insiders", "approve", "reject", "check", "save", ""])?;
                pairs.push((string(u, &FIELDS)?, value));
            }
            pairs.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&").into_bytes()
        }
        _ => serde_json::to_vec(&serde_json::Value::Object(fields(u, 0)?)).expect("json"),
    };
    let content_type = match u.int_in_range(0..=5)? {
        0 => String::arbitrary(u)?,
        1 => "text/plain".to_owned(),
        _ if json => "application/json".to_owned(),
        _ => "application/x-www-form-urlencoded".to_owned(),
    };
    if let Ok(value) = header::HeaderValue::from_str(&content_type) {
        builder = builder.header(header::CONTENT_TYPE, value);
    }
    builder = builder.header(
        cadre_web::CSRF_HEADER,
        header::HeaderValue::from_str(&csrf).unwrap_or(header::HeaderValue::from_static("x")),
    );
    builder.body(Body::from(body)).map_err(|_| arbitrary::Error::IncorrectFormat)
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.*".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Check one input (panics on a broken promise).
pub fn run(data: &[u8]) {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    }
    let db = common::fresh_forum("web", common::preset("insiders"), template);
    let opened = db.clone();
    let forum =
        ForumHandle::spawn(move || Ok(cadre_core::Forum::open(&opened, common::runtime())?)).expect("the forum");
    let ids: Vec<String> = (1..=3).map(|post| forum.ids().post(post)).collect();
    let app = cadre_web::app(AppState::new(forum));
    let mut u = Unstructured::new(data);
    RUNTIME.with(|runtime| {
        for _ in 0..4 {
            let Ok(request) = request(&mut u, &ids) else { break };
            let described = format!("{} {}", request.method(), request.uri());
            let response = runtime.block_on(app.clone().oneshot(request)).expect("infallible");
            let status = response.status();
            if status.is_server_error() {
                let body = runtime.block_on(axum::body::to_bytes(response.into_body(), 1 << 20)).unwrap_or_default();
                panic!("{described}: {status}: {}", String::from_utf8_lossy(&body));
            }
            if u.is_empty() {
                break;
            }
        }
    });
    drop(app);
    common::remove_db(&db);
}
