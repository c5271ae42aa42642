//! Issue 18's pages: member reads that do not wait behind the writer, and one error format for every refusal of
//! the JSON API (axum's own included) and the styled page for the HTML routes. (The plans of the page queries are
//! checked in `cadre-core`, `forum::read::tests`; public ids in `web_leak`.)

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cadre::web;

use crate::web_world::world;

#[tokio::test(flavor = "multi_thread")]
async fn member_pages_answer_while_the_writer_is_busy() {
    let w = world(true);
    let plain = w.visitor(Some(w.plain)).await;
    // The forum thread (the one writer) is held for three seconds, as by a long write.
    let busy = w.state.forum.clone();
    let writer = tokio::spawn(async move { busy.run(|_| std::thread::sleep(Duration::from_secs(3))).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    for path in ["/".to_owned(), "/latest".to_owned(), format!("/t/{}", w.id(1)), "/api/latest".to_owned()] {
        let (status, _, body) = w.get(&plain, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(body.contains("Public question"), "{path}");
        assert!(body.contains("plain") || path.starts_with("/api/"), "{path}: the session was read too");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_secs(2), "the reads waited for the writer: {took:?}");
    writer.await.unwrap().unwrap();
}

/// Send `body` with `content_type` to `path` as `visitor`; status, content type and body.
async fn send(
    w: &crate::web_world::World,
    visitor: &crate::web_world::Visitor,
    path: &str,
    content_type: &str,
    body: String,
) -> (StatusCode, String) {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, content_type)
        .header(web::CSRF_HEADER, visitor.csrf.as_str())
        .body(Body::from(body))
        .unwrap();
    let (status, _, body) = w.send(visitor, request).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_api_refusal_is_an_error_object_with_its_status_and_html_routes_answer_with_the_styled_page() {
    let w = world(false);
    let anonymous = w.visitor(None).await;
    let plain = w.visitor(Some(w.plain)).await;
    let moderator = w.visitor(Some(w.moderator)).await;
    let answers = format!("/api/t/{}/answers", w.id(1));
    let json = "application/json";
    for (what, visitor, path, content_type, body, status) in [
        ("bad JSON", &anonymous, "/api/login".to_owned(), json, "{".to_owned(), StatusCode::BAD_REQUEST),
        (
            "missing field",
            &anonymous,
            "/api/login".to_owned(),
            json,
            r#"{"name":"x"}"#.to_owned(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "wrong content type",
            &anonymous,
            "/api/login".to_owned(),
            "text/plain",
            r#"{"name":"x","password":"y"}"#.to_owned(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "body too large",
            &plain,
            answers.clone(),
            json,
            format!(r#"{{"body":"{}"}}"#, "x".repeat(web::MAX_BODY + 1)),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "non-numeric id",
            &moderator,
            "/api/mod/queue/abc".to_owned(),
            json,
            r#"{"approve":true,"reason":"r"}"#.to_owned(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "a name that is no post",
            &plain,
            "/api/p/not-a-post/like".to_owned(),
            json,
            "{}".to_owned(),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (got, text) = send(&w, visitor, &path, content_type, body).await;
        assert_eq!(got, status, "{what}: {text}");
        let value: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{what}: not JSON: {text}"));
        let object = value.as_object().unwrap();
        assert_eq!(object.len(), 1, "{what}: {text}");
        assert!(object["error"].as_str().is_some_and(|e| !e.is_empty()), "{what}: {text}");
    }
    // A form sent as JSON to an HTML route: the styled page, with the status.
    let (status, page) = send(&w, &plain, "/login", json, "{}".to_owned()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(page.starts_with("<!DOCTYPE html>") && page.contains("/static/style.css"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn long_lists_come_in_pages_with_older_and_newest_links_that_name_no_numbers() {
    let w = world(true);
    w.state
        .forum
        .run(|forum| {
            let general: i64 =
                forum.conn().query_row("SELECT id FROM categories WHERE slug = 'general'", [], |r| r.get(0)).unwrap();
            let author = forum.member_id("plain").unwrap();
            for n in 0..70 {
                let post = cadre::forum::NewPost {
                    kind: cadre_model::PostKind::Question,
                    author,
                    category: Some(general as u64),
                    parent: None,
                    title: Some(format!("Paged topic {n:02}")),
                    body: format!("Body of paged topic {n:02}"),
                    at: crate::util::day(10) + n,
                };
                forum.create_post(&format!("paged-{n}"), post).unwrap();
            }
        })
        .await
        .unwrap();
    let plain = w.visitor(Some(w.plain)).await;
    for first in ["/latest", "/c/general", "/search?q=paged+topic", "/u/plain"] {
        let (status, _, page1) = w.get(&plain, first).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert!(page1.contains("Paged topic 69") && !page1.contains("Newest"), "{first}: newest first");
        let older = page1.split("rel=\"next\" href=\"").nth(1).expect("an Older link").split('"').next().unwrap();
        let older = older.replace("&amp;", "&");
        let after = older.split("after=").nth(1).unwrap();
        let (_, id) = after.split_once('.').unwrap();
        assert_eq!(id.len(), 16, "the cursor names a public id: {after}");
        let (status, _, page2) = w.get(&plain, &older).await;
        assert_eq!(status, StatusCode::OK, "{older}");
        assert!(page2.contains("Newest"), "{older}: a link back");
        for n in 0..70 {
            let name = format!("Paged topic {n:02}<");
            let on = [&page1, &page2].iter().filter(|p| p.contains(&name)).count();
            assert_eq!(on, 1, "{first}: {name} on exactly one page");
        }
        assert!(!page2.contains("Paged topic 69<"), "{older}: page two starts after page one");
    }
    // The API pages the same lists, naming the next page in a Link header.
    let mut seen = 0;
    let mut next = Some("/api/latest".to_owned());
    while let Some(path) = next.take() {
        let request = Request::get(&path).header(header::COOKIE, plain.cookie.as_str()).body(Body::empty()).unwrap();
        let response = tower::ServiceExt::oneshot(w.app.clone(), request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        next = response.headers().get(header::LINK).map(|link| {
            let link = link.to_str().unwrap();
            link[link.find('<').unwrap() + 1..link.find('>').unwrap()].to_owned()
        });
        let body = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
        seen += serde_json::from_slice::<Vec<serde_json::Value>>(&body).unwrap().len();
    }
    assert_eq!(seen, 71, "every topic the member may see, once, over the API's pages");
    let (_, _, short) = w.get(&plain, "/search?q=pa").await;
    assert!(short.contains("at least 3 letters"), "too short to look up");
}

#[tokio::test(flavor = "multi_thread")]
async fn posts_and_profiles_show_generated_avatars_and_relative_times_with_the_exact_time_on_hover() {
    let w = world(false);
    let plain = w.visitor(Some(w.plain)).await;
    let (_, _, topic) = w.get(&plain, &format!("/t/{}", w.id(1))).await;
    assert!(topic.contains("<span class=\"avatar c") && topic.contains("aria-hidden=\"true\">P</span>"), "{topic}");
    assert!(topic.contains(" ago</time>") && topic.contains(" UTC\""), "relative time, exact on hover: {topic}");
    assert!(!topic.contains("style="), "no inline style (the content security policy forbids it)");
    let (_, _, profile) = w.get(&plain, "/u/insider").await;
    assert!(profile.contains("aria-hidden=\"true\">I</span>insider"), "{profile}");
}
