//! The leak test: every route of the router (from `cadre::web::routes()`, the table the router is built from, so a
//! new route is covered the moment it exists), as an anonymous visitor, a member without access and a member
//! whose access was removed, against two forums that differ only in whether the private Insiders content exists.
//! Every answer must be byte-for-byte the same in both (status, redirect, body): then no private title, body, id
//! or count can show, and a private thing answers exactly as a missing one. The private words must not appear at
//! all; routes that name a private thing must be the not-found page; the moderator panel must be not-found too.

use axum::http::{Method, StatusCode};

use crate::web_world::{DELETED_WORDS, PRIVATE_WORDS, World, world};

/// A route's path with every parameter filled with a private (or, in the other forum, missing) value.
fn fill(path: &str, w: &World) -> String {
    fill_with(path, w, w.private)
}

/// A route's path with its topic and post filled with `ids` (private, deleted, or in the other forum missing).
fn fill_with(path: &str, w: &World, ids: crate::web_world::PrivateIds) -> String {
    let filled = path
        .replace("{slug}", "insiders")
        .replace("{topic}", &w.id(ids.topic))
        .replace("{post}", &w.id(ids.answer))
        .replace("{name}", "secretive")
        .replace("{member}", "secretive")
        .replace("{nomination}", "1")
        .replace("{token}", &"0".repeat(64));
    assert!(!filled.contains('{'), "the leak test does not know a parameter of {path}: name it after what it takes");
    // Every GET also searches for a word of the private title (the search routes use it; the others ignore it).
    format!("{filled}?q=roadmap")
}

const FORM: &str = "title=Leak+probe&body=probe&reason=probe&name=secretive&password=probe-password&tier=insiders\
                    &decision=approve&settings=x&action=check";
const JSON: &str = r#"{"title":"Leak probe","body":"probe","name":"probe-name","password":"probe-password",
    "member":"secretive","tier":"insiders","reason":"probe","approve":true,"settings":"x","action":"check"}"#;

async fn answer(w: &World, who: Option<u64>, method: &Method, path: &str) -> (StatusCode, String, String) {
    answer_at(w, who, method, &fill(path, w)).await
}

async fn answer_at(w: &World, who: Option<u64>, method: &Method, url: &str) -> (StatusCode, String, String) {
    let visitor = w.visitor(who).await;
    let url = url.to_owned();
    let path = url.as_str();
    match (method, path.starts_with("/api/")) {
        (&Method::GET, _) => w.get(&visitor, &url).await,
        (_, false) => w.post_form(&visitor, &url, FORM, true).await,
        (_, true) => w.post_json(&visitor, &url, JSON, true).await,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_route_tells_anyone_without_access_that_the_private_forum_exists() {
    let with = world(true);
    let without = world(false);
    let routes = cadre::web::routes();
    assert!(routes.len() > 40, "the route table is the whole router");
    let mut checked = 0;
    for (label, who_with, who_without) in [
        ("anonymous", None, None),
        ("member without access", Some(with.plain), Some(without.plain)),
        ("removed member", Some(with.removed), Some(without.removed)),
    ] {
        // The not-found page carries the header, with the viewer's log-in state: compare with this viewer's own.
        let not_found = with.get(&with.visitor(who_with).await, "/no-such-page").await;
        assert_eq!(not_found.0, StatusCode::NOT_FOUND);
        for route in &routes {
            let seen = answer(&with, who_with, &route.method, route.path).await;
            let baseline = answer(&without, who_without, &route.method, route.path).await;
            let what = format!("{} {} as {label}", route.method, route.path);
            assert_eq!(seen, baseline, "{what}: the answer depends on the private content");
            for word in PRIVATE_WORDS.iter().chain(&DELETED_WORDS) {
                assert!(!seen.2.contains(word), "{what}: the answer shows {word:?}");
            }
            let topic_link = format!("/t/{}\"", with.id(with.private.topic));
            let post_link = format!("/p/{}\"", with.id(with.private.answer));
            assert!(!seen.2.contains(&topic_link) && !seen.2.contains(&post_link), "{what}: a private id shows");
            let names_private = ["{slug}", "{topic}", "{post}"].iter().any(|p| route.path.contains(p));
            if route.method == Method::GET && names_private {
                assert_eq!(seen.0, StatusCode::NOT_FOUND, "{what}");
                if !route.path.starts_with("/api/") {
                    assert_eq!(seen.2, not_found.2, "{what}: not the not-found page");
                }
            }
            if route.path.starts_with("/mod") || route.path.starts_with("/api/mod") {
                assert_eq!(seen.0, StatusCode::NOT_FOUND, "{what}: the panel exists only for moderators");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 3 * routes.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_insider_sees_the_private_forum_on_every_kind_of_page() {
    let w = world(true);
    let insider = w.visitor(Some(w.insider)).await;
    for path in [
        "/".to_owned(),
        "/latest".to_owned(),
        "/c/insiders".to_owned(),
        format!("/t/{}", w.id(w.private.topic)),
        "/search?q=Quokka".to_owned(),
        "/u/secretive".to_owned(),
        format!("/api/t/{}", w.id(w.private.topic)),
        "/api/search?q=Quokka".to_owned(),
    ] {
        let (status, _, body) = w.get(&insider, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.contains("Quokka") || body.contains("Insiders lounge"), "{path}: the insider misses it");
    }
    let (status, location, _) = w.get(&insider, &format!("/p/{}", w.id(w.private.answer))).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/t/{}#p{}", w.id(w.private.topic), w.id(w.private.answer)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_removed_member_loses_the_private_forum_on_the_very_next_request() {
    let w = world(true);
    let insider = w.visitor(Some(w.insider)).await;
    assert_eq!(w.get(&insider, "/c/insiders").await.0, StatusCode::OK);
    let moderator = w.visitor(Some(w.moderator)).await;
    let (status, location, _) = w
        .post_form(&moderator, "/mod/members/remove", "name=insider&tier=insiders&reason=left+the+company", true)
        .await;
    assert_eq!((status, location.as_str()), (StatusCode::SEE_OTHER, "/mod/members"));
    let (status, _, body) = w.get(&insider, "/c/insiders").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.contains("Quokka"));
    let (_, _, audit) = w.get(&moderator, "/mod/audit").await;
    assert!(audit.contains("left the company"), "the removal and its reason are in the audit log");
    let (_, _, queue) = w.get(&moderator, "/mod/members").await;
    assert!(queue.contains("invited"), "invited members are marked as such");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_category_a_moderator_makes_private_is_seen_only_by_the_tier() {
    let w = world(false);
    let moderator = w.visitor(Some(w.moderator)).await;
    let (status, _, _) =
        w.post_form(&moderator, "/mod/categories", "slug=backstage&name=Backstage&tier=insiders", true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, body) = w.post_form(&moderator, "/mod/categories", "slug=x&name=X&tier=nonesuch", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "only a declared tier: {body}");
    let insider = w.visitor(Some(w.insider)).await;
    assert!(w.get(&insider, "/").await.2.contains("Backstage"));
    let plain = w.visitor(Some(w.plain)).await;
    assert!(!w.get(&plain, "/").await.2.contains("Backstage"));
    assert_eq!(w.get(&plain, "/c/backstage").await.0, StatusCode::NOT_FOUND);
}

/// The id-counting attack (issue 18): a member answers, private posts are written meanwhile, the member answers
/// again, and then tries to learn from the ids how many private posts there were, and to reach them by number.
#[tokio::test(flavor = "multi_thread")]
async fn ids_do_not_let_a_member_count_or_reach_private_posts_written_between_their_own() {
    let with = world(true);
    let without = world(false);
    let mut seen = Vec::new();
    for (w, private) in [(&with, true), (&without, false)] {
        let plain = w.visitor(Some(w.plain)).await;
        let question = w.id(1);
        let first = w.post_form(&plain, &format!("/t/{question}/answers"), "body=First+answer", true).await;
        assert_eq!(first.0, StatusCode::SEE_OTHER, "{}", first.2);
        if private {
            // Meanwhile, in the forum with the private category, an insider writes three private posts.
            let (insider, topic) = (w.insider, w.private.topic);
            w.state
                .forum
                .run(move |forum| {
                    for n in 0..3 {
                        let post = cadre::forum::NewPost {
                            kind: cadre_model::PostKind::Reply,
                            author: insider,
                            category: None,
                            parent: Some(topic),
                            title: None,
                            body: format!("wombat-secret-body meanwhile {n}"),
                            at: crate::util::day(5),
                        };
                        forum.create_post(&format!("meanwhile-{n}"), post).unwrap();
                    }
                })
                .await
                .unwrap();
        }
        let second = w.post_form(&plain, &format!("/t/{question}/answers"), "body=Second+answer", true).await;
        assert_eq!(second.0, StatusCode::SEE_OTHER, "{}", second.2);
        let id_of = |location: &str| location.rsplit("#p").next().unwrap().to_owned();
        let (a, b) = (id_of(&first.1), id_of(&second.1));
        assert_eq!((a.len(), b.len()), (16, 16), "public ids, not numbers: {a} {b}");
        // Every id near the member's own (as a number, up and down), and every small number, names nothing: the
        // not-found page, exactly as on a forum without private posts.
        let not_found = w.get(&plain, "/t/ffffffffffffffff").await;
        assert_eq!(not_found.0, StatusCode::NOT_FOUND);
        let mut probes = Vec::new();
        for own in [&a, &b] {
            let value = u64::from_str_radix(own, 16).unwrap();
            for delta in 1..=8u64 {
                probes.push(format!("{:016x}", value.wrapping_add(delta)));
                probes.push(format!("{:016x}", value.wrapping_sub(delta)));
            }
        }
        let newest = w
            .state
            .forum
            .run(|f| f.conn().query_row("SELECT MAX(id) FROM posts", [], |r| r.get::<_, i64>(0)))
            .await
            .unwrap()
            .unwrap();
        // Numbers of posts written since public ids (above the legacy mark) have no numeric name at all.
        let mark = w
            .state
            .forum
            .run(|f| f.conn().query_row("SELECT legacy_posts_up_to FROM forum_keys", [], |r| r.get::<_, i64>(0)))
            .await
            .unwrap()
            .unwrap();
        for number in mark + 1..=newest + 3 {
            probes.push(number.to_string());
        }
        for probe in &probes {
            for path in [format!("/t/{probe}"), format!("/p/{probe}")] {
                let answer = w.get(&plain, &path).await;
                assert_eq!(answer, not_found, "{path} answers unlike a missing post");
            }
        }
        seen.push((a, b));
    }
    // Each member's two answers got unrelated ids in both forums (six private posts apart in one, none in the
    // other): nothing in them to subtract.
    assert!(seen.iter().all(|(a, b)| a != b));
}

/// Old numeric links keep working for what the viewer may see (redirected to the public id), and answer as missing
/// for a private post, exactly as for a number that never existed.
#[tokio::test(flavor = "multi_thread")]
async fn old_numeric_links_redirect_to_public_ids_without_reopening_the_leak() {
    let with = world(true);
    let without = world(false);
    for w in [&with, &without] {
        let plain = w.visitor(Some(w.plain)).await;
        let (status, location, _) = w.get(&plain, "/t/1").await;
        assert_eq!((status, location), (StatusCode::PERMANENT_REDIRECT, format!("/t/{}", w.id(1))));
        let (status, location, _) = w.get(&plain, "/p/2").await;
        assert_eq!((status, location), (StatusCode::SEE_OTHER, format!("/t/{}#p{}", w.id(1), w.id(2))));
    }
    let plain_with = with.visitor(Some(with.plain)).await;
    let plain_without = without.visitor(Some(without.plain)).await;
    for path in [format!("/t/{}", with.private.topic), format!("/p/{}", with.private.answer)] {
        let seen = with.get(&plain_with, &path).await;
        assert_eq!(seen.0, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(seen, without.get(&plain_without, &path).await, "{path}: a private number answers as a missing one");
    }
    let insider = with.visitor(Some(with.insider)).await;
    let (status, location, _) = with.get(&insider, &format!("/t/{}", with.private.topic)).await;
    assert_eq!((status, location), (StatusCode::PERMANENT_REDIRECT, format!("/t/{}", with.id(with.private.topic))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_post_answers_every_route_exactly_as_a_post_that_never_existed() {
    // In `with`, the deleted topic and answer exist (deleted); in `without` their numbers name nothing. The whole
    // rest of `with` (counts, last activity, profiles, search) is compared with `without` by the test above.
    let with = world(true);
    let without = world(false);
    let routes = cadre::web::routes();
    let mut checked = 0;
    for (label, who_with, who_without) in [
        ("anonymous", None, None),
        ("member", Some(with.plain), Some(without.plain)),
        ("insider", Some(with.insider), Some(without.insider)),
    ] {
        let not_found = with.get(&with.visitor(who_with).await, "/no-such-page").await;
        for route in routes.iter().filter(|r| r.path.contains("{topic}") || r.path.contains("{post}")) {
            let seen = answer_at(&with, who_with, &route.method, &fill_with(route.path, &with, with.deleted)).await;
            let baseline =
                answer_at(&without, who_without, &route.method, &fill_with(route.path, &without, without.deleted))
                    .await;
            let what = format!("{} {} as {label}", route.method, route.path);
            assert_eq!(seen, baseline, "{what}: a deleted post answers differently from a missing one");
            for word in DELETED_WORDS {
                assert!(!seen.2.contains(word), "{what}: the answer shows {word:?}");
            }
            let member_route =
                route.method == Method::GET && !route.path.starts_with("/mod") && !route.path.starts_with("/api/mod");
            if member_route {
                assert_eq!(seen.0, StatusCode::NOT_FOUND, "{what}");
                if !route.path.starts_with("/api/") {
                    assert_eq!(seen.2, not_found.2, "{what}: not the not-found page");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 30, "{checked}");
}
