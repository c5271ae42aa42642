//! Editing and deleting posts through the real router: a deleted answer gives back what it earned (through
//! like-removed and answer-unaccepted events, seen in the member's points and ledger), an edit keeps a revision
//! only moderators see, a deleted post answers exactly as a missing one, and only the author or a moderator may
//! change a post.

use axum::http::StatusCode;
use serde_json::Value;

use crate::web_world::{Visitor, World, world};

/// A moderator's view of a member: points and ledger, from the panel's API.
async fn standing(w: &World, moderator: &Visitor, name: &str) -> (i64, Vec<Value>) {
    let (status, _, body) = w.get(moderator, &format!("/api/mod/members/{name}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: Value = serde_json::from_str(&body).unwrap();
    (view["summary"]["points"].as_i64().unwrap(), view["ledger"].as_array().unwrap().clone())
}

fn field(body: &str, key: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    value[key].as_str().unwrap_or_else(|| panic!("no {key} in {body}")).to_owned()
}

/// `plain` asks, `insider` answers, `plain` likes and accepts: returns (topic, answer) public ids.
async fn answered_and_liked(w: &World, plain: &Visitor, insider: &Visitor) -> (String, String) {
    let (status, _, body) = w
        .post_json(plain, "/api/c/general/topics", r#"{"title":"Rotating logs","body":"How do I rotate logs?"}"#, true)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let topic = field(&body, "topic");
    let (status, _, body) =
        w.post_json(insider, &format!("/api/t/{topic}/answers"), r#"{"body":"Use logrotate weekly."}"#, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer = field(&body, "post");
    for action in ["like", "accept"] {
        let (status, _, body) = w.post_json(plain, &format!("/api/p/{answer}/{action}"), "{}", true).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
    }
    (topic, answer)
}

async fn event_kinds(w: &World) -> Vec<String> {
    w.state
        .forum
        .run(|forum| {
            forum
                .conn()
                .prepare("SELECT kind FROM events ORDER BY id")
                .unwrap()
                .query_map([], |row| row.get::<_, String>(0))
                .unwrap()
                .collect::<Result<Vec<_>, _>>()
                .unwrap()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_liked_accepted_answer_takes_back_its_points_through_events_the_program_understands() {
    let w = world(false);
    let (moderator, plain, insider) =
        (w.visitor(Some(w.moderator)).await, w.visitor(Some(w.plain)).await, w.visitor(Some(w.insider)).await);
    let (before, _) = standing(&w, &moderator, "insider").await;
    let (topic, answer) = answered_and_liked(&w, &plain, &insider).await;
    let (earned, _) = standing(&w, &moderator, "insider").await;
    assert!(earned > before, "the like and the accept earned points: {before} → {earned}");
    let events_before = event_kinds(&w).await.len();

    // The author deletes it with the page's form.
    let (status, location, _) = w.post_form(&insider, &format!("/p/{answer}/delete"), "reason=", true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/t/{topic}"));

    let (after, ledger) = standing(&w, &moderator, "insider").await;
    assert_eq!(after, before, "every point the answer earned is taken back");
    let taken: Vec<&Value> = ledger.iter().filter(|row| row["delta"].as_i64().unwrap() < 0).collect();
    assert!(!taken.is_empty(), "the ledger shows what was taken back: {ledger:?}");
    let kinds = event_kinds(&w).await;
    assert_eq!(
        &kinds[events_before..],
        ["answer-unaccepted", "like-removed"],
        "one event each, in the log, for the accept and the like"
    );
    // The page shows the answer no more, and the count went back.
    let (_, _, page) = w.get(&plain, &format!("/t/{topic}")).await;
    assert!(!page.contains("Use logrotate weekly."), "{page}");
    assert!(page.contains("0 answers"), "{page}");
    // The program's view agrees: the member record the program keeps counts no accepted answer from it.
    let (status, _, body) = w.get(&moderator, "/api/mod/audit").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("post-deleted"), "the deletion is audited: {body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_keeps_a_revision_that_moderators_see_and_members_never_do() {
    let w = world(false);
    let (moderator, plain, insider) =
        (w.visitor(Some(w.moderator)).await, w.visitor(Some(w.plain)).await, w.visitor(Some(w.insider)).await);
    let (topic, answer) = answered_and_liked(&w, &plain, &insider).await;
    // The edit page offers the text; the API saves the new one.
    let (status, _, form) = w.get(&insider, &format!("/p/{answer}/edit")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(form.contains("Use logrotate weekly."), "{form}");
    let (status, _, body) = w
        .post_json(
            &insider,
            &format!("/api/p/{answer}/edit"),
            r#"{"body":"Use logrotate daily, with compress."}"#,
            true,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, page) = w.get(&plain, &format!("/t/{topic}")).await;
    assert!(page.contains("Use logrotate daily, with compress.") && page.contains("edited"), "{page}");
    assert!(!page.contains("Use logrotate weekly."), "members never see the old text: {page}");
    // The moderator sees both, and who edited.
    let (status, _, history) = w.get(&moderator, &format!("/mod/posts/{answer}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(history.contains("Use logrotate weekly.") && history.contains("Use logrotate daily"), "{history}");
    assert!(history.contains("by insider"), "{history}");
    let (status, _, json) = w.get(&moderator, &format!("/api/mod/posts/{answer}")).await;
    assert_eq!(status, StatusCode::OK);
    let json: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(json["revisions"][0]["body"], "Use logrotate weekly.");
    // A member asking for the history gets the not-found page, the same as for a post that never existed.
    let missing = w.id(999_999);
    for path in [format!("/mod/posts/{answer}"), format!("/api/mod/posts/{answer}")] {
        let seen = w.get(&plain, &path).await;
        let never = w.get(&plain, &path.replace(&answer, &missing)).await;
        assert_eq!(seen.0, StatusCode::NOT_FOUND);
        assert_eq!(seen, never, "{path}");
    }
    // A moderator's edit of someone else's post is audited.
    let (status, _, _) =
        w.post_form(&moderator, &format!("/p/{answer}/edit"), "body=Use+logrotate+%28moderated%29.", true).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, _, audit) = w.get(&moderator, "/api/mod/audit").await;
    assert!(audit.contains("post-edited"), "{audit}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_post_answers_exactly_as_a_post_that_never_existed() {
    let w = world(false);
    let (plain, insider) = (w.visitor(Some(w.plain)).await, w.visitor(Some(w.insider)).await);
    let (topic, answer) = answered_and_liked(&w, &plain, &insider).await;
    let (status, _, _) = w.post_json(&plain, &format!("/api/p/{topic}/delete"), "{}", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a member may not delete their own question once answered");
    let moderator = w.visitor(Some(w.moderator)).await;
    let (status, _, body) =
        w.post_json(&moderator, &format!("/api/p/{topic}/delete"), r#"{"reason":"duplicate"}"#, true).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let missing_topic = w.id(999_998);
    let missing_post = w.id(999_999);
    for who in [&plain, &insider, &w.visitor(None).await] {
        for (path, deleted, missing) in [
            ("/t/{}", &topic, &missing_topic),
            ("/api/t/{}", &topic, &missing_topic),
            ("/p/{}", &answer, &missing_post),
            ("/api/p/{}", &answer, &missing_post),
            ("/p/{}/edit", &answer, &missing_post),
        ] {
            let seen = w.get(who, &path.replace("{}", deleted)).await;
            let never = w.get(who, &path.replace("{}", missing)).await;
            assert_eq!(seen.0, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(seen, never, "{path}: a deleted post answers differently from a missing one");
        }
        for (path, body) in
            [("/api/p/{}/like", "{}"), ("/api/p/{}/edit", r#"{"body":"x"}"#), ("/api/p/{}/delete", "{}")]
        {
            let seen = w.post_json(who, &path.replace("{}", &answer), body, true).await;
            let never = w.post_json(who, &path.replace("{}", &missing_post), body, true).await;
            assert_eq!(seen, never, "{path}");
        }
    }
    let (_, _, search) = w.get(&plain, "/search?q=logrotate").await;
    assert!(!search.contains("logrotate weekly"), "search forgets a deleted post: {search}");
}

#[tokio::test(flavor = "multi_thread")]
async fn only_the_author_or_a_moderator_may_edit_or_delete_a_post() {
    let w = world(false);
    let (plain, insider) = (w.visitor(Some(w.plain)).await, w.visitor(Some(w.insider)).await);
    let (_, answer) = answered_and_liked(&w, &plain, &insider).await;
    // Someone else's post: the same not-found as a missing post, and nothing changes.
    let missing = w.id(999_999);
    let path = "/p/{}/edit";
    assert_eq!(w.get(&plain, &path.replace("{}", &answer)).await, w.get(&plain, &path.replace("{}", &missing)).await);
    let (status, _, _) = w.post_form(&plain, &format!("/p/{answer}/edit"), "body=hijacked", true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = w.post_form(&plain, &format!("/p/{answer}/delete"), "reason=x", true).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Without the form's token, nothing either.
    let (status, _, _) = w.post_form(&insider, &format!("/p/{answer}/delete"), "reason=x", false).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = w.get(&plain, &format!("/api/p/{answer}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Use logrotate weekly."), "{body}");
    // An empty edit is refused with the form again, the text kept.
    let (status, _, page) = w.post_form(&insider, &format!("/p/{answer}/edit"), "body=+", true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.contains("a post needs 1 to"), "{page}");
}
