//! A small forum served by the real router (`cadre::web::app`), for the web tests: members with and without
//! access to a private Insiders category, and helpers to send requests as any of them through `oneshot`.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cadre::Forum;
use cadre::forum::NewPost;
use cadre::runtime::{Limits, Runtime};
use cadre::web::{self, AppState, ForumHandle, auth};
use cadre_model::PostKind;
use tower::ServiceExt;

use crate::util::day;

/// Settings: one review tier, and a badge the public content earns (the private content earns none).
pub const SETTINGS: &str = r#"
[[badges]]
id = "helpful"
name = "Helpful"
level = "bronze"
description = "Wrote an accepted answer"
when = { accepted-answers = 1 }

[[tiers]]
id = "insiders"
name = "Insiders"
description = "Vetted experts"
mode = "review"
when = { points = 100000 }
"#;

/// The words of the private content: none may appear in any response to someone without access.
pub const PRIVATE_WORDS: [&str; 4] = ["Quokka", "wombat-secret-body", "Insiders lounge", "/c/insiders"];

/// The words of the deleted content: none may appear in any response to a member.
pub const DELETED_WORDS: [&str; 4] = ["Vanished riddle", "gone-question-body", "gone-answer-body", "gone-answer-two"];

/// Ids of the private content (the same numbers name nothing in the world without it).
#[derive(Debug, Clone, Copy)]
pub struct PrivateIds {
    /// The private question.
    pub topic: u64,
    /// An answer in it.
    pub answer: u64,
}

/// A served forum and who is in it.
pub struct World {
    pub _dir: tempfile::TempDir,
    pub state: AppState,
    pub app: Router,
    pub moderator: u64,
    pub insider: u64,
    pub plain: u64,
    pub removed: u64,
    pub private: PrivateIds,
    /// A deleted public topic and a deleted public answer (in the forum without the private content, these
    /// numbers name nothing).
    pub deleted: PrivateIds,
}

/// The forum: with `private`, the Insiders category and its posts exist (created last, so every public id is the
/// same in both versions).
pub fn world(private: bool) -> World {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("forum.db");
    let (ids_tx, ids_rx) = std::sync::mpsc::channel();
    let forum = ForumHandle::spawn(move || {
        let mut forum = Forum::open(&path, Runtime::new(Limits::default(), None)?)?;
        // The two forums (with and without the private content) share their public-id key, as they share
        // everything else: then every public post has the same public id in both.
        forum.conn().execute("UPDATE forum_keys SET public_ids = ?1", [PUBLIC_ID_KEY.to_vec()])?;
        forum.install(cadre::bundled::PROGRAM_WASM, "system", day(0))?;
        forum.configure(SETTINGS, "system", day(0))?;
        let moderator = forum.register("moderator", day(0), true)?;
        let insider = forum.register("insider", day(0), false)?;
        let plain = forum.register("plain", day(0), false)?;
        let removed = forum.register("removed", day(0), false)?;
        let secretive = forum.register("secretive", day(0), false)?;
        for member in [insider, secretive, removed] {
            forum.add_member(moderator, member, "insiders", "test", day(1))?;
        }
        forum.remove_member(moderator, removed, "insiders", "test: removed", day(2))?;
        let general = forum.create_category("general", "General", None)?;
        let post = |kind, author, category, parent, title: Option<&str>, body: &str, at| NewPost {
            kind,
            author,
            category,
            parent,
            title: title.map(str::to_owned),
            body: body.to_owned(),
            at,
        };
        let (q, _) = forum.create_post(
            "q1",
            post(PostKind::Question, plain, Some(general), None, Some("Public question"), "How?", day(3)),
        )?;
        let (a, _) = forum.create_post("a1", post(PostKind::Answer, insider, None, Some(q), None, "Thus.", day(3)))?;
        forum.like("l1", plain, a, day(3))?;
        forum.accept("x1", plain, a, day(3))?;
        let mut ids = PrivateIds { topic: 0, answer: 0 };
        let next: i64 = forum.conn().query_row("SELECT MAX(id) + 1 FROM posts", [], |r| r.get(0))?;
        ids.topic = next as u64;
        ids.answer = next as u64 + 1;
        if private {
            let lounge = forum.create_category("insiders", "Insiders lounge", Some("insiders"))?;
            let (pq, _) = forum.create_post(
                "pq",
                post(
                    PostKind::Question,
                    secretive,
                    Some(lounge),
                    None,
                    Some("Quokka roadmap"),
                    "wombat-secret-body",
                    day(4),
                ),
            )?;
            let (pa, _) = forum.create_post(
                "pa",
                post(PostKind::Answer, insider, None, Some(pq), None, "wombat-secret-body 2", day(4)),
            )?;
            forum.create_post(
                "pr",
                post(PostKind::Reply, secretive, None, Some(pa), None, "wombat-secret-body 3", day(4)),
            )?;
            forum.like("pl", secretive, pa, day(4))?;
            forum.accept("px", secretive, pa, day(4))?;
            assert_eq!((pq, pa), (ids.topic, ids.answer));
        }
        // Deleted content, in the forum with the private content only: a public answer with a like, and a public
        // question whose answer was liked and accepted, both deleted. To members it must be as if never written.
        let deleted = PrivateIds { topic: ids.topic + 3, answer: ids.topic + 5 };
        if private {
            let (dq, _) = forum.create_post(
                "dq",
                post(
                    PostKind::Question,
                    plain,
                    Some(general),
                    None,
                    Some("Vanished riddle"),
                    "gone-question-body",
                    day(5),
                ),
            )?;
            let (da, _) = forum
                .create_post("da", post(PostKind::Answer, insider, None, Some(dq), None, "gone-answer-body", day(5)))?;
            forum.like("dl", plain, da, day(5))?;
            forum.accept("dx", plain, da, day(5))?;
            let (dp, _) = forum
                .create_post("dp", post(PostKind::Answer, plain, None, Some(q), None, "gone-answer-two", day(5)))?;
            forum.like("dl2", insider, dp, day(5))?;
            forum.delete_post("del-answer", plain, dp, "", day(6))?;
            forum.delete_post("del-topic", moderator, dq, "spam", day(6))?;
            assert_eq!((dq, dp), (deleted.topic, deleted.answer));
        }
        // As if the forum had been upgraded to public ids now: every post so far keeps its old numeric link.
        forum.conn().execute("UPDATE forum_keys SET legacy_posts_up_to = (SELECT MAX(id) FROM posts)", [])?;
        ids_tx.send((moderator, insider, plain, removed, ids, deleted)).unwrap();
        Ok(forum)
    })
    .unwrap();
    let (moderator, insider, plain, removed, private, deleted) = ids_rx.recv().unwrap();
    let state = AppState::new(forum);
    World { _dir: dir, app: web::app(state.clone()), state, moderator, insider, plain, removed, private, deleted }
}

/// The public-id key both forums use.
pub const PUBLIC_ID_KEY: [u8; 32] = [42; 32];

/// A visitor: a member's fresh session, or an anonymous visitor with a fixed pre-session token.
#[derive(Debug, Clone)]
pub struct Visitor {
    /// The session cookie's token (member) or the pre-session token (anonymous).
    pub cookie: String,
    /// The CSRF token their forms carry.
    pub csrf: String,
}

/// The anonymous visitor's fixed token (64 hex digits, as the server's).
pub const ANON: &str = "a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0";

impl World {
    /// The public id of post number `post` (what URLs name it by).
    pub fn id(&self, post: u64) -> String {
        self.state.forum.ids().post(post)
    }

    /// A new session for `member` (`None`: anonymous).
    pub async fn visitor(&self, member: Option<u64>) -> Visitor {
        match member {
            None => Visitor { cookie: format!("{}={ANON}", auth::PRE_COOKIE), csrf: ANON.to_owned() },
            Some(id) => {
                let (token, csrf) = self
                    .state
                    .forum
                    .run(move |forum| auth::open_session(forum.conn(), id, auth::now_ms()))
                    .await
                    .unwrap()
                    .unwrap();
                Visitor { cookie: format!("{}={token}", auth::SESSION_COOKIE), csrf }
            }
        }
    }

    /// Send a request; returns status, `Location` and body (with the visitor's tokens replaced by placeholders,
    /// so two forums' answers can be compared byte for byte).
    pub async fn send(&self, visitor: &Visitor, request: Request<Body>) -> (StatusCode, String, String) {
        let mut request = request;
        request.headers_mut().insert(header::COOKIE, visitor.cookie.parse().unwrap());
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location =
            response.headers().get(header::LOCATION).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
        let body = String::from_utf8_lossy(&body).replace(&visitor.csrf, "{CSRF}");
        let token = visitor.cookie.split('=').nth(1).unwrap_or_default();
        (status, location, hide_new_tokens(&body.replace(token, "{TOKEN}")))
    }

    /// GET a path.
    pub async fn get(&self, visitor: &Visitor, path: &str) -> (StatusCode, String, String) {
        self.send(visitor, Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// POST a form (the visitor's CSRF token is added unless `csrf` is false).
    pub async fn post_form(
        &self,
        visitor: &Visitor,
        path: &str,
        fields: &str,
        csrf: bool,
    ) -> (StatusCode, String, String) {
        let body = if csrf { format!("csrf={}&{fields}", visitor.csrf) } else { fields.to_owned() };
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(visitor, request).await
    }

    /// POST JSON to the API (with the `X-Cadre-CSRF` header unless `csrf` is false).
    pub async fn post_json(
        &self,
        visitor: &Visitor,
        path: &str,
        json: &str,
        csrf: bool,
    ) -> (StatusCode, String, String) {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if csrf {
            request = request.header(web::CSRF_HEADER, visitor.csrf.as_str());
        }
        self.send(visitor, request.body(Body::from(json.to_owned())).unwrap()).await
    }
}

/// Replace every run of 64 hex digits (a token the server just made: a new session's CSRF token) by `{NEW}`.
fn hide_new_tokens(body: &str) -> String {
    let bytes = body.as_bytes();
    let mut out = String::with_capacity(body.len());
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if run == 64 {
            out.push_str("{NEW}");
            i += run;
        } else {
            // Copy the hex run, or one whole character.
            let step = if run > 0 { run } else { body[i..].chars().next().map_or(1, char::len_utf8) };
            out.push_str(&body[i..i + step]);
            i += step;
        }
    }
    out
}
