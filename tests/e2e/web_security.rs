//! The web layer's defences, one attack per test: a forged form or API write (no CSRF token), script in a post,
//! password guessing, SQL in inputs — and the moderator panel's own forms (settings errors by line, decisions).

use axum::http::StatusCode;

use crate::web_world::{World, world};

async fn topics(w: &World) -> i64 {
    w.state
        .forum
        .run(|forum| forum.conn().query_row("SELECT COUNT(*) FROM posts", [], |r| r.get::<_, i64>(0)).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_or_api_write_without_the_csrf_token_is_refused_and_changes_nothing() {
    let w = world(false);
    let plain = w.visitor(Some(w.plain)).await;
    let before = topics(&w).await;
    // A cross-site form: the session cookie rides along, the token cannot.
    let (status, _, body) = w.post_form(&plain, "/c/general/topics", "title=Forged&body=forged", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body.contains("expired"), "{body}");
    // A wrong token is no better than none.
    let (status, _, _) = w.post_form(&plain, "/c/general/topics", "csrf=00ff&title=Forged&body=forged", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The JSON API wants the token in a header a cross-site page cannot set.
    let (status, _, _) = w.post_json(&plain, "/api/c/general/topics", r#"{"title":"Forged","body":"x"}"#, false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let anonymous = w.visitor(None).await;
    let (status, _, _) = w.post_form(&anonymous, "/login", "name=plain&password=whatever1", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "logging in needs the pre-session token too");
    assert_eq!(topics(&w).await, before);
    // With the token, the same form works.
    let (status, location, _) = w.post_form(&plain, "/c/general/topics", "title=Real&body=real", true).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert_eq!(topics(&w).await, before + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn script_in_a_title_or_post_is_shown_as_text_never_run() {
    let w = world(false);
    let plain = w.visitor(Some(w.plain)).await;
    let attack = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    let encoded = "%3Cscript%3Ealert(1)%3C%2Fscript%3E%3Cimg+src%3Dx+onerror%3Dalert(2)%3E";
    let (_, location, _) =
        w.post_form(&plain, "/c/general/topics", &format!("title={encoded}&body={encoded}"), true).await;
    for path in [location.clone(), "/".into(), "/latest".into(), "/search?q=script".into(), "/u/plain".into()] {
        let (status, _, body) = w.get(&plain, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!body.contains("<script>") && !body.contains("<img src=x"), "{path} runs the script: {body}");
    }
    let (_, _, page) = w.get(&plain, &location).await;
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "shown as text");
    let (_, _, json) = w.get(&plain, &format!("/api{location}")).await;
    assert!(json.contains(attack), "the API returns the text as it was written (JSON, not HTML)");
}

#[tokio::test(flavor = "multi_thread")]
async fn logging_in_is_refused_after_five_wrong_passwords_even_with_the_right_one() {
    let w = world(false);
    w.state
        .forum
        .run(move |forum| cadre::web::auth::set_password(forum.conn(), 3, "right-password").unwrap())
        .await
        .unwrap();
    let anonymous = w.visitor(None).await;
    let (status, location, _) = w.post_form(&anonymous, "/login", "name=plain&password=right-password", true).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/"), "the right password works");
    for _ in 0..cadre::web::limits::FAILED_LOGINS_PER_NAME.max {
        let (status, _, body) = w.post_form(&anonymous, "/login", "name=plain&password=wrong-guess", true).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(body.contains("wrong name or password"));
    }
    let (status, _, body) = w.post_form(&anonymous, "/login", "name=plain&password=right-password", true).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (status, _, _) =
        w.post_json(&anonymous, "/api/login", r#"{"name":"PLAIN","password":"right-password"}"#, true).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the API shares the limit, whatever the case of the name");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_name_registered_on_the_command_line_is_protected_by_the_login_limit_too() {
    // Regresses c5a8ab3, whose per-name limiter remembered only names sign-up accepts (3 to 32 characters).
    let w = world(false);
    w.state
        .forum
        .run(|forum| {
            let id = forum.register("jo", crate::util::day(0), false).unwrap();
            cadre::web::auth::set_password(forum.conn(), id, "right-password").unwrap();
        })
        .await
        .unwrap();
    let anonymous = w.visitor(None).await;
    for _ in 0..cadre::web::limits::FAILED_LOGINS_PER_NAME.max {
        let (status, _, _) =
            w.post_json(&anonymous, "/api/login", r#"{"name":"jo","password":"wrong-guess"}"#, true).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, body) =
        w.post_json(&anonymous, "/api/login", r#"{"name":"jo","password":"right-password"}"#, true).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(body.contains("too many failed log-ins for this name"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_in_inputs_is_data_because_every_query_binds_its_parameters() {
    let w = world(true);
    let plain = w.visitor(Some(w.plain)).await;
    for path in [
        "/search?q=%27%20OR%201%3D1%20--",
        "/search?q=%25",
        "/u/x%27%20OR%20%271%27%3D%271",
        "/c/insiders%27%20OR%20%271%27%3D%271",
        "/api/search?q=%22)%20UNION%20SELECT%20title%20FROM%20posts%20--",
    ] {
        let (status, _, body) = w.get(&plain, path).await;
        assert!(status == StatusCode::OK || status == StatusCode::NOT_FOUND, "{path}: {status}");
        assert!(!body.contains("Quokka"), "{path} leaked");
        assert!(!body.contains("Public question") || path.contains("%25"), "{path} matched everything");
    }
    // And in the source: a query text built with format! interpolates only named SQL constants, never a value.
    let mut files = Vec::new();
    for dir in ["../web/src", "../core/src/forum"] {
        for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_owned() + dir).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    let keywords = ["SELECT ", "INSERT ", "UPDATE ", "DELETE ", " WHERE "];
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "rs")) {
        let text = std::fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices("format!(") {
            let Some(literal) = first_string_literal(&text[at + "format!(".len()..]) else { continue };
            if !keywords.iter().any(|k| literal.contains(k)) {
                continue;
            }
            let mut rest = literal;
            while let Some(open) = rest.find('{') {
                let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
                let name = &rest[open + 1..close];
                assert!(
                    name.chars().all(|c| c.is_ascii_uppercase() || c == '_'),
                    "{}: SQL built with a value ({{{name}}}): bind it as a parameter",
                    file.display()
                );
                rest = &rest[close..];
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_setting_is_refused_with_each_error_beside_its_line_and_nothing_changes() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let bad = "[points]%0Aanswer-liked+%3D+%22lots%22%0A%0A[caps]%0Anonsense+%3D+1%0A";
    let (status, _, body) =
        w.post_form(&moderator, "/mod/settings", &format!("settings={bad}&action=apply"), true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("2 error(s); nothing was changed"), "{body}");
    assert!(body.contains("data-line=\"2\" data-path=\"points.answer-liked\""), "{body}");
    assert!(body.contains("data-line=\"5\" data-path=\"caps.nonsense\""), "{body}");
    let (_, _, settings) = w.get(&moderator, "/api/mod/settings").await;
    assert!(settings.contains("insiders") && !settings.contains("lots"), "the settings in force are unchanged");
    let (_, _, plain_view) = w.get(&w.visitor(Some(w.plain)).await, "/mod/settings").await;
    assert!(plain_view.contains("Page not found"));
}

#[tokio::test(flavor = "multi_thread")]
async fn profiles_show_badges_with_level_and_description_and_nothing_else_of_the_program() {
    let w = world(false);
    let (status, _, body) = w.get(&w.visitor(None).await, "/u/insider").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Helpful") && body.contains("bronze") && body.contains("Wrote an accepted answer"), "{body}");
    for word in ["points", "Points", "tier", "Insiders", "queue", "ledger"] {
        assert!(!body.contains(word), "the profile shows {word:?}");
    }
    let (_, _, json) = w.get(&w.visitor(None).await, "/api/u/insider").await;
    assert!(!json.contains("points") && json.contains("Helpful"), "{json}");
}

/// The text of the first string literal (plain or raw) at the start of `code`, after whitespace.
fn first_string_literal(code: &str) -> Option<&str> {
    let code = code.trim_start();
    if let Some(raw) = code.strip_prefix("r#\"") {
        return raw.find("\"#").map(|end| &raw[..end]);
    }
    let body = code.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return Some(&body[..i]),
            _ => escaped = false,
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn a_moderator_previews_a_change_and_nothing_moves_until_it_is_applied() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let settings = crate::web_world::SETTINGS.to_owned()
        + "\n[[badges]]\nid = \"asker\"\nname = \"Curious\"\nlevel = \"bronze\"\ndescription = \"Asked a question\"\nwhen = { posts = 1 }\n";
    let encoded: String = settings.bytes().map(|b| format!("%{b:02X}")).collect();
    let (status, _, body) =
        w.post_form(&moderator, "/mod/settings", &format!("settings={encoded}&action=preview"), true).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("What this change would do") && body.contains("Badges gained"), "{body}");
    assert!(body.contains("(asker)"), "the preview names the badge members would gain: {body}");
    let (_, _, profile) = w.get(&moderator, "/u/plain").await;
    assert!(!profile.contains("Curious"), "a preview changes nothing");
    let (_, _, body) =
        w.post_form(&moderator, "/mod/settings", &format!("settings={encoded}&action=recompute"), true).await;
    assert!(body.contains("What changed"), "{body}");
    let (_, _, profile) = w.get(&moderator, "/u/plain").await;
    assert!(profile.contains("Curious"), "applied to history, the badge is granted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_cookie_is_http_only_and_same_site_and_logging_out_ends_the_session() {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt;

    let w = world(false);
    let pre = crate::web_world::ANON;
    let request = Request::post("/signup")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("{}={pre}", cadre::web::auth::PRE_COOKIE))
        .body(Body::from(format!("csrf={pre}&name=newcomer&password=long-enough-pw")))
        .unwrap();
    let response = w.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("cadre_session=") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let token = cookie.trim_start_matches("cadre_session=").split(';').next().unwrap().to_owned();
    let stored: String = w
        .state
        .forum
        .run(|f| {
            f.conn().query_row("SELECT token_hash FROM sessions ORDER BY created_at DESC LIMIT 1", [], |r| r.get(0))
        })
        .await
        .unwrap()
        .unwrap();
    assert_ne!(stored, token, "only the token's hash is stored");
    let me = |token: String| {
        Request::get("/api/me").header(header::COOKIE, format!("cadre_session={token}")).body(Body::empty()).unwrap()
    };
    let body = axum::body::to_bytes(w.app.clone().oneshot(me(token.clone())).await.unwrap().into_body(), 1 << 20)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["member"]["name"], "newcomer");
    let csrf = json["csrf"].as_str().unwrap().to_owned();
    let logout = Request::post("/logout")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, format!("cadre_session={token}"))
        .body(Body::from(format!("csrf={csrf}")))
        .unwrap();
    assert_eq!(w.app.clone().oneshot(logout).await.unwrap().status(), StatusCode::SEE_OTHER);
    let body =
        axum::body::to_bytes(w.app.clone().oneshot(me(token)).await.unwrap().into_body(), 1 << 20).await.unwrap();
    assert_eq!(serde_json::from_slice::<serde_json::Value>(&body).unwrap()["member"], serde_json::Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_panel_shows_a_quarantined_plugin_with_its_dead_letters_and_retries_them() {
    let w = world(false);
    w.state
        .forum
        .run(|forum| {
            let wasm = std::fs::read(crate::util::component_path("panic")).unwrap();
            forum.install(&wasm, "system", crate::util::day(5)).unwrap();
            forum.set_quarantine_after(1);
            // Likes on the answer (post 2) and the question (post 1): the hostile program traps, and is quarantined.
            for (i, (liker, post)) in [(1, 2), (2, 1), (4, 2)].into_iter().enumerate() {
                forum.like(&format!("hostile-{i}"), liker, post, crate::util::day(6)).unwrap();
            }
        })
        .await
        .unwrap();
    let moderator = w.visitor(Some(w.moderator)).await;
    let (status, _, page) = w.get(&moderator, "/mod").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("yes — events are queued"), "quarantine shown: {page}");
    assert!(page.contains("is quarantined: new events queue up"), "the moderators' notice is shown: {page}");
    assert!(page.contains("panicked on purpose") || page.contains("trap"), "dead letters with their error: {page}");
    let (status, location, _) = w.post_form(&moderator, "/mod/retry", "", true).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/mod"));
    let (_, _, audit) = w.get(&moderator, "/mod/audit").await;
    assert!(audit.contains("retry-dead-letters") && audit.contains("quarantine"), "{audit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_panel_shows_the_write_back_outbox_with_its_failures_and_queues_them_again() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let (_, _, page) = w.get(&moderator, "/mod").await;
    assert!(!page.contains("Write-back outbox"), "no outbox section while write-back was never used: {page}");
    w.state
        .forum
        .run(|forum| {
            forum.set_write_back(true, crate::util::day(7)).unwrap();
            // What an adapter does when the other platform keeps refusing a change: it gives up on the row.
            forum
                .conn()
                .execute(
                    "UPDATE outbox SET state = 'failed', attempts = 10, last_error = 'HTTP 500 from discourse' \
                     WHERE id = (SELECT MIN(id) FROM outbox)",
                    [],
                )
                .unwrap();
        })
        .await
        .unwrap();
    let (status, _, page) = w.get(&moderator, "/mod").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Write-back outbox") && page.contains("is on"), "{page}");
    assert!(page.contains("1 failed") && page.contains("HTTP 500 from discourse"), "the failure and its error: {page}");
    let (status, location, _) = w.post_form(&moderator, "/mod/outbox/retry", "", true).await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/mod"));
    let (_, _, page) = w.get(&moderator, "/mod").await;
    assert!(page.contains("0 failed") && !page.contains("HTTP 500 from discourse"), "queued again: {page}");
    let (_, _, audit) = w.get(&moderator, "/mod/audit").await;
    assert!(audit.contains("retry-outbox"), "{audit}");
    // A member who is not a moderator cannot tell the route exists.
    let member = w.visitor(Some(w.plain)).await;
    let (status, _, _) = w.post_form(&member, "/mod/outbox/retry", "", true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn the_openapi_document_describes_every_api_route_of_the_router() {
    let doc: serde_json::Value = serde_json::from_str(cadre::web::OPENAPI).unwrap();
    let routes = cadre::web::routes();
    let api: Vec<_> = routes.iter().filter(|r| r.path.starts_with("/api/")).collect();
    for route in &api {
        let method = route.method.as_str().to_lowercase();
        assert!(doc["paths"][route.path][&method].is_object(), "openapi.json lacks {method} {}", route.path);
    }
    let documented: usize = doc["paths"].as_object().unwrap().values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(documented, api.len(), "openapi.json documents a route the router does not have");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_cookie_is_marked_secure_when_the_host_setting_says_so_and_only_then() {
    use cadre::settings::WebSettings;
    use serde_json::json;

    use crate::web_http::{Browser, serve, token_in};

    for secure in [false, true] {
        let w = world(false);
        let settings = WebSettings { secure_cookies: secure, ..WebSettings::default() };
        let base = serve(cadre::web::AppState::with_settings(w.state.forum.clone(), &settings)).await;
        let mut browser = Browser::new(&base, "127.0.0.1");
        // Every cookie the server sets, in the order a visitor meets them.
        let mut set = Vec::new();
        let signup = browser.get("/signup").await;
        set.extend(signup.set_cookies());
        let pre = token_in(&signup.body).unwrap();
        let signed_up =
            browser.post_form("/signup", &[("csrf", &pre), ("name", "newcomer"), ("password", "long-enough-pw")]).await;
        assert_eq!((signed_up.status, signed_up.location()), (StatusCode::SEE_OTHER, "/"), "{}", signed_up.body);
        set.extend(signed_up.set_cookies());
        let session_token = browser.form_token("/").await;
        let logged_out = browser.post_form("/logout", &[("csrf", &session_token)]).await;
        set.extend(logged_out.set_cookies());
        let api =
            browser.post_json("/api/login", json!({ "name": "newcomer", "password": "long-enough-pw" }), "1").await;
        assert_eq!(api.status, StatusCode::OK, "{}", api.body);
        set.extend(api.set_cookies());
        let csrf = serde_json::from_str::<serde_json::Value>(&api.body).unwrap()["csrf"].as_str().unwrap().to_owned();
        set.extend(browser.post_json("/api/logout", json!({}), &csrf).await.set_cookies());

        let names: Vec<&str> = set.iter().map(|c| c.split('=').next().unwrap()).collect();
        assert_eq!(
            names,
            ["cadre_pre", "cadre_session", "cadre_session", "cadre_session", "cadre_session"],
            "pre-session, form log-in, form log-out, API log-in, API log-out"
        );
        for cookie in &set {
            assert!(cookie.contains("HttpOnly"), "{cookie}");
            assert_eq!(cookie.contains("; Secure"), secure, "secure-cookies = {secure}: {cookie}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_panel_reads_hash_3_as_an_id_a_name_as_a_name_and_refuses_a_sign_up_name_of_digits() {
    let w = world(false);
    // An older database's member named "2", while #2 is `insider`.
    let legacy = w
        .state
        .forum
        .run(|forum| {
            forum.conn().execute("INSERT INTO members (name, joined_at) VALUES ('2', 0)", []).unwrap();
            forum.conn().last_insert_rowid()
        })
        .await
        .unwrap();
    assert_eq!(w.insider, 2);
    let moderator = w.visitor(Some(w.moderator)).await;
    let (status, _, body) = w.get(&moderator, "/api/mod/members/%232").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#""name":"insider""#), "{body}");
    let (status, _, body) = w.get(&moderator, &format!("/api/mod/members/%23{legacy}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#""name":"2""#), "{body}");
    let (status, _, body) = w.get(&moderator, "/api/mod/members/2").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a bare 2 is ambiguous here: {body}");
    assert!(body.contains("ambiguous"), "{body}");
    let (status, _, body) = w.get(&moderator, "/api/mod/members/plain").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains(r#""name":"plain""#), "{body}");
    // The panel links to members by #id, so a member named like a number never hides another.
    let (_, _, page) = w.get(&moderator, "/mod/members").await;
    assert!(page.contains(r#"href="/mod/members/%232""#), "{page}");
    let (status, _, page) = w.get(&moderator, "/mod/members/%232").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("insider"), "{page}");

    let anonymous = w.visitor(None).await;
    let (status, _, body) =
        w.post_json(&anonymous, "/api/signup", r#"{"name":"12345","password":"long-enough-pw"}"#, true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("cannot be all digits"), "{body}");
}
