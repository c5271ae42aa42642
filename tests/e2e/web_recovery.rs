//! Account recovery without email: a moderator issues a one-time, expiring reset link (panel and command line),
//! audited; the link sets a new password once and is then dead; a used, expired, replaced or made-up link gets
//! the same refusal.

use axum::http::StatusCode;
use serde_json::Value;

use crate::web_world::{Visitor, World, world};

/// Log in as `name` with `password` through the API: the status.
async fn log_in(w: &World, name: &str, password: &str) -> StatusCode {
    let anonymous = w.visitor(None).await;
    let body = format!(r#"{{"name":"{name}","password":"{password}"}}"#);
    w.post_json(&anonymous, "/api/login", &body, true).await.0
}

/// POST a form and read the answer as sent (the world's helpers hide every token, the link's included).
async fn raw_post(w: &World, visitor: &Visitor, path: &str, content_type: &str, body: String) -> (StatusCode, String) {
    use tower::ServiceExt;
    let request = axum::http::Request::post(path)
        .header(axum::http::header::CONTENT_TYPE, content_type)
        .header(axum::http::header::COOKIE, visitor.cookie.as_str())
        .header(cadre::web::CSRF_HEADER, visitor.csrf.as_str())
        .body(axum::body::Body::from(body))
        .unwrap();
    let response = w.app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 24).await.unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

/// A link issued through the panel's form: its path, read from the page the moderator sees.
async fn issue_in_panel(w: &World, moderator: &Visitor, member: &str) -> String {
    let path = format!("/mod/members/{member}/reset-link");
    let form = "application/x-www-form-urlencoded";
    let (status, page) = raw_post(w, moderator, &path, form, format!("csrf={}", moderator.csrf)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let start =
        page.find("<code id=\"reset-url\">/reset/").expect("the page shows the link") + "<code id=\"reset-url\">".len();
    page[start..start + "/reset/".len() + 64].to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reset_link_sets_a_new_password_once_and_is_then_dead() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let link = issue_in_panel(&w, &moderator, "plain").await;
    // The link's page, to anyone holding it.
    let anonymous = w.visitor(None).await;
    let (status, _, page) = w.get(&anonymous, &link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("For <strong>plain</strong>"), "{page}");
    // A password too short: the form again, the link still live.
    let (status, _, page) = w.post_form(&anonymous, &link, "password=short", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{page}");
    assert!(page.contains("a password has 8 to"), "{page}");
    // Set: logged in, and the new password works.
    let (status, location, _) = w.post_form(&anonymous, &link, "password=new-secret-42", true).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/"));
    assert_eq!(log_in(&w, "plain", "new-secret-42").await, StatusCode::OK);
    // Then dead: the page and the form refuse, and the password stays.
    let used_page = w.get(&anonymous, &link).await;
    let used_post = w.post_form(&anonymous, &link, "password=attacker-pass", true).await;
    assert_eq!(used_page.0, StatusCode::BAD_REQUEST);
    assert_eq!(used_post.0, StatusCode::BAD_REQUEST);
    assert_eq!(log_in(&w, "plain", "attacker-pass").await, StatusCode::UNAUTHORIZED);
    // A made-up link answers exactly the same.
    let made_up = format!("/reset/{}", "ab".repeat(32));
    assert_eq!(w.get(&anonymous, &made_up).await, used_page, "a used link answers as one never issued");
    assert_eq!(w.post_form(&anonymous, &made_up, "password=attacker-pass", true).await, used_post);
    // Both audited, with names.
    let (_, _, audit) = w.get(&moderator, "/api/mod/audit").await;
    let audit: Value = serde_json::from_str(&audit).unwrap();
    let actions: Vec<&str> = audit.as_array().unwrap().iter().map(|row| row["action"].as_str().unwrap()).collect();
    assert!(actions.contains(&"reset-link-issued") && actions.contains(&"password-reset"), "{actions:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_or_replaced_link_gets_the_same_refusal_as_a_used_one() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let anonymous = w.visitor(None).await;
    let first = issue_in_panel(&w, &moderator, "insider").await;
    // The API issues another: the first dies.
    let (status, body) =
        raw_post(&w, &moderator, "/api/mod/members/insider/reset-link", "application/json", "{}".into()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = serde_json::from_str::<Value>(&body).unwrap()["link"].as_str().unwrap().to_owned();
    let made_up = format!("/reset/{}", "cd".repeat(32));
    let refusal = w.get(&anonymous, &made_up).await;
    assert_eq!(w.get(&anonymous, &first).await, refusal, "a replaced link is dead");
    // Expire the second (as if a day had passed).
    w.state
        .forum
        .run(|forum| forum.conn().execute("UPDATE reset_links SET expires_at = 1", []).unwrap())
        .await
        .unwrap();
    assert_eq!(w.get(&anonymous, &second).await, refusal, "an expired link is dead");
    let api = w.post_json(&anonymous, &format!("/api{second}"), r#"{"password":"new-secret-42"}"#, true).await;
    let api_made_up = w.post_json(&anonymous, &format!("/api{made_up}"), r#"{"password":"new-secret-42"}"#, true).await;
    assert_eq!(api.0, StatusCode::BAD_REQUEST);
    assert_eq!(api, api_made_up);
    // Only moderators issue links: for a member the route does not exist.
    let plain = w.visitor(Some(w.plain)).await;
    let (status, _, _) = w.post_form(&plain, "/mod/members/insider/reset-link", "", true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn the_command_line_issues_a_reset_link_that_the_forum_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("forum.db");
    let cadre = |args: &[&str]| {
        let out =
            std::process::Command::new(env!("CARGO_BIN_EXE_cadre")).arg("--db").arg(&db).args(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(cadre(&["member", "register", "mia", "--moderator"]).0, Some(0));
    assert_eq!(cadre(&["member", "register", "lost"]).0, Some(0));
    let (code, _, err) = cadre(&["member", "reset-link", "lost"]);
    assert_ne!(code, Some(0), "a moderator must be named: {err}");
    let (code, out, err) =
        cadre(&["--as", "mia", "member", "reset-link", "lost", "--base", "https://forum.example", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let value: Value = serde_json::from_str(&out).unwrap();
    let link = value["link"].as_str().unwrap();
    assert!(
        link.starts_with("https://forum.example/reset/") && link.len() == "https://forum.example/reset/".len() + 64
    );
    let token = &link[link.len() - 64..];
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (member, _) = cadre::forum::recovery::live(&conn, token, cadre::web::auth::now_ms()).unwrap();
    assert_eq!(member, cadre::forum::members::id_by_name(&conn, "lost").unwrap());
    let (_, audit, _) = cadre(&["audit", "--json"]);
    assert!(audit.contains("reset-link-issued") && audit.contains("mia"), "{audit}");
}
