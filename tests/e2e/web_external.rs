//! `POST /api/external` over real HTTP on loopback: a source pushes an external event with its token or an HMAC
//! signature; an unsigned or wrongly signed request, a replayed id, and an oversize or malformed body each change
//! nothing and get a 4xx naming the problem.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use cadre::web::external::{SIGNATURE_HEADER, SOURCE_HEADER, hmac_sha256};
use cadre::web::{AppState, WebSettings};

use crate::web_http::{Answer, Browser, serve};
use crate::web_world::world;

const SECRET: &str = "lms-secret-7f3a";

async fn push(base: &str, source: &str, auth: Option<(&str, String)>, body: &str) -> Answer {
    let mut request = Request::post(format!("{base}/api/external"))
        .header(header::CONTENT_TYPE, "application/json")
        .header(SOURCE_HEADER, source);
    if let Some((name, value)) = auth {
        request = request.header(name, value);
    }
    Browser::new(base, "127.0.0.1").send(request, Body::from(body.to_owned())).await
}

fn signed(body: &str) -> Option<(&'static str, String)> {
    Some((SIGNATURE_HEADER, format!("sha256={}", hex::encode(hmac_sha256(SECRET.as_bytes(), body.as_bytes())))))
}

fn bearer(token: &str) -> Option<(&'static str, String)> {
    Some(("authorization", format!("Bearer {token}")))
}

async fn external_events(state: &AppState) -> i64 {
    state
        .forum
        .run(|forum| forum.conn().query_row("SELECT COUNT(*) FROM events WHERE kind = 'external'", [], |r| r.get(0)))
        .await
        .unwrap()
        .unwrap()
}

fn body(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","member":"plain","kind":"certification.passed","at":"2026-03-09T10:00:00Z","attributes":{{"score":87}}}}"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_or_token_bearing_event_is_recorded_once_and_a_replay_changes_nothing() {
    let w = world(false);
    let settings =
        WebSettings { external_sources: [("lms".to_owned(), SECRET.to_owned())].into(), ..WebSettings::default() };
    let state = AppState::with_settings(w.state.forum.clone(), &settings);
    let base = serve(state.clone()).await;

    let first = body("exam-1");
    let answer = push(&base, "lms", signed(&first), &first).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains(r#""duplicate":false"#), "{}", answer.body);
    let replay = push(&base, "lms", signed(&first), &first).await;
    assert_eq!(replay.status, StatusCode::OK, "{}", replay.body);
    assert!(replay.body.contains(r#""duplicate":true"#), "{}", replay.body);
    let second = body("exam-2");
    assert_eq!(push(&base, "lms", bearer(SECRET), &second).await.status, StatusCode::OK);
    assert_eq!(external_events(&state).await, 2, "the replay added nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_wrongly_signed_oversize_and_malformed_requests_are_refused_naming_the_problem() {
    let w = world(false);
    let settings =
        WebSettings { external_sources: [("lms".to_owned(), SECRET.to_owned())].into(), ..WebSettings::default() };
    let state = AppState::with_settings(w.state.forum.clone(), &settings);
    let base = serve(state.clone()).await;
    let good = body("exam-1");

    // Unsigned, signed with another key, a wrong token, an unknown source: one 401 for all.
    let forged = Some((SIGNATURE_HEADER, format!("sha256={}", hex::encode(hmac_sha256(b"guess", good.as_bytes())))));
    for (source, auth) in [("lms", None), ("lms", forged), ("lms", bearer("guess")), ("crm", bearer(SECRET))] {
        let answer = push(&base, source, auth, &good).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{source}: {}", answer.body);
        assert!(answer.body.contains("unknown source or bad credentials"), "{}", answer.body);
    }
    // A signature over another body (the body was changed in transit).
    let tampered = good.replace("87", "99");
    assert_eq!(push(&base, "lms", signed(&good), &tampered).await.status, StatusCode::UNAUTHORIZED);

    let oversize = format!(
        r#"{{"id":"x","member":"plain","kind":"a.b","at":"2026-03-09T10:00:00Z","pad":"{}"}}"#,
        "x".repeat(20_000)
    );
    let answer = push(&base, "lms", signed(&oversize), &oversize).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", answer.body);
    assert!(answer.body.contains("at most 16384"), "{}", answer.body);

    let malformed = r#"{"id":"x","member":"plain""#;
    let answer = push(&base, "lms", signed(malformed), malformed).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert!(answer.body.contains("not a valid event"), "{}", answer.body);

    let misspelt = good.replace("certification.passed", "Certification Passed");
    let answer = push(&base, "lms", signed(&misspelt), &misspelt).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert!(answer.body.contains("kind: \\\"Certification Passed\\\""), "{}", answer.body);

    let nobody = good.replace("\"plain\"", "\"nobody\"");
    let answer = push(&base, "lms", signed(&nobody), &nobody).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
    assert!(answer.body.contains("nobody"), "{}", answer.body);

    assert_eq!(external_events(&state).await, 0, "no refused request changed anything");
}
