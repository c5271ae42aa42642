//! The rate limits a forum on the internet needs, over real connections (the client's address is the
//! connection's, as in `cadre serve`): sign-ups per address, failed log-ins per address across many names, and
//! behind a trusted proxy, per forwarded address. A limited request gets 429, a message saying when to try again
//! and `Retry-After`, on the HTML forms and the JSON API alike.

use axum::http::StatusCode;
use cadre::settings::WebSettings;
use cadre::web::AppState;
use cadre::web::client::Network;
use cadre::web::limits::{FAILED_LOGINS_PER_ADDRESS, FAILED_LOGINS_PER_NAME, SIGNUPS_PER_ADDRESS};
use serde_json::json;

use crate::web_http::{Answer, Browser, serve};
use crate::web_world::{World, world};

/// A new visitor from `from` opens the sign-up form and sends it.
async fn sign_up(base: &str, from: &str, name: &str) -> Answer {
    let mut browser = Browser::new(base, from);
    let csrf = browser.form_token("/signup").await;
    browser.post_form("/signup", &[("csrf", &csrf), ("name", name), ("password", "long-enough-pw")]).await
}

/// Log in through the form, as the browser's visitor.
async fn log_in(browser: &mut Browser, name: &str, password: &str) -> Answer {
    let csrf = browser.form_token("/login").await;
    browser.post_form("/login", &[("csrf", &csrf), ("name", name), ("password", password)]).await
}

fn assert_limited(answer: &Answer, what: &str) {
    assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS, "{}", answer.body);
    assert!(answer.body.contains(what) && answer.body.contains("try again in "), "{}", answer.body);
    let retry = answer.headers.get("retry-after").expect("a Retry-After header").to_str().unwrap();
    assert!(retry.parse::<u64>().is_ok_and(|s| (1..=3600).contains(&s)), "Retry-After: {retry}");
}

async fn set_password(w: &World, member: u64, password: &'static str) {
    w.state
        .forum
        .run(move |forum| cadre::web::auth::set_password(forum.conn(), member, password).unwrap())
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_ups_from_one_address_are_limited_and_other_addresses_are_not() {
    let w = world(false);
    let base = serve(AppState::new(w.state.forum.clone())).await;
    // A refused sign-up (the name is taken) creates no account and does not count.
    assert_eq!(sign_up(&base, "127.0.0.1", "plain").await.status, StatusCode::CONFLICT);
    for i in 0..SIGNUPS_PER_ADDRESS.max {
        let answer = sign_up(&base, "127.0.0.1", &format!("newcomer{i}")).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "sign-up {i} of the allowed ones: {}", answer.body);
    }
    let refused = sign_up(&base, "127.0.0.1", "one-too-many").await;
    assert_limited(&refused, "too many sign-ups from this address");
    assert!(refused.body.contains("try again in 60 minutes"), "{}", refused.body);
    assert!(refused.body.contains("value=\"one-too-many\""), "the sign-up form again, the name kept: {}", refused.body);
    let mut api = Browser::new(&base, "127.0.0.1");
    let answer =
        api.post_json("/api/signup", json!({ "name": "one-too-many", "password": "long-enough-pw" }), "1").await;
    assert_limited(&answer, "too many sign-ups from this address");
    assert_eq!(api.get("/u/one-too-many").await.status, StatusCode::NOT_FOUND, "no account was created");
    // Someone else, at another address, signs up as usual.
    let elsewhere = sign_up(&base, "127.0.0.2", "one-too-many").await;
    assert_eq!((elsewhere.status, elsewhere.location()), (StatusCode::SEE_OTHER, "/"), "{}", elsewhere.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_log_ins_across_many_names_from_one_address_are_limited() {
    let w = world(false);
    set_password(&w, w.plain, "right-password").await;
    let base = serve(AppState::new(w.state.forum.clone())).await;
    let mut guesser = Browser::new(&base, "127.0.0.1");
    for i in 0..FAILED_LOGINS_PER_ADDRESS.max {
        // Every name stays under its own limit (plain gets 4 wrong guesses of 5): only the address's count can
        // stop this.
        let name = if i % 5 == 0 { "plain".to_owned() } else { format!("guess{i}") };
        let answer = log_in(&mut guesser, &name, "password1").await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "attempt {i}: {}", answer.body);
        assert!(answer.body.contains("wrong name or password"));
    }
    const { assert!(FAILED_LOGINS_PER_ADDRESS.max / 5 < FAILED_LOGINS_PER_NAME.max) };
    // Now even the right password is refused unchecked from this address, on the form and the API.
    assert_limited(&log_in(&mut guesser, "plain", "right-password").await, "too many failed log-ins from this address");
    let answer = guesser.post_json("/api/login", json!({ "name": "plain", "password": "right-password" }), "1").await;
    assert_limited(&answer, "too many failed log-ins from this address");
    // The member, from their own address, logs in.
    let mut member = Browser::new(&base, "127.0.0.2");
    let answer = log_in(&mut member, "plain", "right-password").await;
    assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/"), "{}", answer.body);
}

/// An office behind one address: more members than the failure limit log in at the same moment, all with the right
/// password. None is refused (an attempt counts as a failure until its password is checked, and before the gate 21
/// at once were refused with not one failure), and the limit still stops a guesser afterwards (the test above).
#[tokio::test(flavor = "multi_thread")]
async fn more_members_than_the_failure_limit_logging_in_at_once_from_one_address_all_get_in() {
    let w = world(false);
    let count = FAILED_LOGINS_PER_ADDRESS.max + 12;
    let names: Vec<String> = (0..count).map(|i| format!("office{i}")).collect();
    let registered = names.clone();
    let ids: Vec<u64> = w
        .state
        .forum
        .run(move |forum| registered.iter().map(|name| forum.register(name, 0, false).unwrap()).collect())
        .await
        .unwrap();
    for id in ids {
        set_password(&w, id, "office-password").await;
    }
    let state = AppState::new(w.state.forum.clone());
    let limits = state.limits.clone();
    let base = serve(state).await;
    let attempts = names.into_iter().map(|name| {
        let base = base.clone();
        tokio::spawn(async move {
            let mut api = Browser::new(&base, "127.0.0.1");
            api.post_json("/api/login", json!({ "name": name, "password": "office-password" }), "1").await
        })
    });
    let answers = futures_join(attempts).await;
    let refused: Vec<&Answer> = answers.iter().filter(|a| a.status != StatusCode::OK).collect();
    assert!(refused.is_empty(), "{} of {count} refused, e.g. {} {}", refused.len(), refused[0].status, refused[0].body);
    assert!(limits.login_gates.is_empty(), "every gate is forgotten once its log-ins end");
}

async fn futures_join(tasks: impl Iterator<Item = tokio::task::JoinHandle<Answer>>) -> Vec<Answer> {
    let tasks: Vec<_> = tasks.collect();
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    answers
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit_and_nobody_else_can_claim_one() {
    let w = world(false);
    let proxy = Network::try_from("127.0.0.1".to_owned()).unwrap();
    let settings = WebSettings { trusted_proxies: vec![proxy], ..WebSettings::default() };
    let base = serve(AppState::with_settings(w.state.forum.clone(), &settings)).await;
    // Through the proxy (127.0.0.1), one client fails until it is limited …
    let mut first = Browser::new(&base, "127.0.0.1");
    first.forwarded_for = Some("203.0.113.7".into());
    for i in 0..FAILED_LOGINS_PER_ADDRESS.max {
        assert_eq!(log_in(&mut first, &format!("guess{i}"), "password1").await.status, StatusCode::UNAUTHORIZED);
    }
    assert_limited(&log_in(&mut first, "guess", "password1").await, "too many failed log-ins from this address");
    // … and another client behind the same proxy is not.
    let mut second = Browser::new(&base, "127.0.0.1");
    second.forwarded_for = Some("203.0.113.8".into());
    assert_eq!(log_in(&mut second, "guess", "password1").await.status, StatusCode::UNAUTHORIZED);
    // A client that is not the proxy cannot pick its address with the header: it is limited as itself.
    let mut direct = Browser::new(&base, "127.0.0.2");
    for i in 0..FAILED_LOGINS_PER_ADDRESS.max {
        direct.forwarded_for = Some(format!("198.51.100.{i}"));
        assert_eq!(log_in(&mut direct, &format!("guess{i}"), "password1").await.status, StatusCode::UNAUTHORIZED);
    }
    direct.forwarded_for = Some("198.51.100.250".into());
    assert_limited(&log_in(&mut direct, "guess", "password1").await, "too many failed log-ins from this address");
}

#[tokio::test(flavor = "multi_thread")]
async fn guessers_failing_with_a_members_name_cannot_lock_the_member_out_they_only_slow_the_name_down() {
    use cadre::web::limits::{FAILED_LOGINS_PER_NAME_BEFORE_SLOW, RateLimits};
    let w = world(false);
    set_password(&w, w.plain, "right-password").await;
    let slow = std::time::Duration::from_millis(400);
    let mut state = AppState::new(w.state.forum.clone());
    state.limits = std::sync::Arc::new(RateLimits { slow_login: slow, ..RateLimits::default() });
    let base = serve(state).await;
    // Guessers at several addresses fail with plain's name until each address is refused for that name …
    let guessers = FAILED_LOGINS_PER_NAME_BEFORE_SLOW.max.div_ceil(FAILED_LOGINS_PER_NAME.max) + 1;
    for g in 0..guessers {
        let mut guesser = Browser::new(&base, &format!("127.0.1.{g}"));
        for i in 0..FAILED_LOGINS_PER_NAME.max {
            let answer = log_in(&mut guesser, "plain", "password1").await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "guesser {g}, attempt {i}: {}", answer.body);
        }
        assert_limited(
            &log_in(&mut guesser, "PLAIN", "right-password").await,
            "too many failed log-ins for this name from this address",
        );
    }
    // … and the member, from their own address, still logs in: on the slow path, not refused.
    let mut member = Browser::new(&base, "127.0.0.2");
    let started = std::time::Instant::now();
    let answer = log_in(&mut member, "plain", "right-password").await;
    assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/"), "{}", answer.body);
    assert!(started.elapsed() >= slow, "the name is under attack: the attempt waited {:?}", started.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_as_long_as_the_forum_allows_signs_up_and_logs_in_and_a_longer_one_is_refused_by_the_same_limit() {
    use cadre::forum::names::MAX_NAME;
    let w = world(false);
    let base = serve(AppState::new(w.state.forum.clone())).await;
    let longest = "a".repeat(MAX_NAME);
    assert_eq!(sign_up(&base, "127.0.0.1", &longest).await.status, StatusCode::SEE_OTHER);
    let mut member = Browser::new(&base, "127.0.0.3");
    let answer = log_in(&mut member, &longest, "long-enough-pw").await;
    assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/"), "{}", answer.body);
    // A member registered on the command line with a long name (the forum's limit) logs in on the web too.
    let long_cli = format!("{}-cli", "b".repeat(MAX_NAME - 4));
    let name = long_cli.clone();
    let id = w.state.forum.run(move |forum| forum.register(&name, 0, false).unwrap()).await.unwrap();
    set_password(&w, id, "right-password").await;
    let answer = log_in(&mut Browser::new(&base, "127.0.0.4"), &long_cli, "right-password").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let too_long = "c".repeat(MAX_NAME + 1);
    let refused = sign_up(&base, "127.0.0.5", &too_long).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains(&format!("3 to {MAX_NAME}")), "{}", refused.body);
    let refused = w.state.forum.run(move |forum| forum.register(&too_long, 0, false)).await.unwrap();
    assert!(refused.unwrap_err().to_string().contains(&format!("1 to {MAX_NAME} characters")));
}

#[tokio::test(flavor = "multi_thread")]
async fn names_differing_only_in_case_or_unicode_spelling_are_one_name_on_sign_up_and_log_in() {
    let w = world(false);
    set_password(&w, w.plain, "right-password").await;
    let base = serve(AppState::new(w.state.forum.clone())).await;
    for lookalike in ["Plain", "PLAIN"] {
        let refused = sign_up(&base, "127.0.0.1", lookalike).await;
        assert_eq!(refused.status, StatusCode::CONFLICT, "{lookalike}: {}", refused.body);
        assert!(refused.body.contains("is taken"), "{}", refused.body);
    }
    // Full-width letters are not allowed on the web form, but the forum refuses them as plain's too.
    let fullwidth = "\u{ff50}\u{ff4c}\u{ff41}\u{ff49}\u{ff4e}".to_owned();
    let refused = w.state.forum.run(move |forum| forum.register(&fullwidth, 0, true)).await.unwrap();
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("is taken (by \"plain\""), "{message}");
    let answer = log_in(&mut Browser::new(&base, "127.0.0.2"), "PLAIN", "right-password").await;
    assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/"), "logs in as plain: {}", answer.body);
}
