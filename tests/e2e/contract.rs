//! Both contract versions, end to end: a component built from the frozen `wit/0.1.0` (`counter-v0-1-0`) and its
//! 0.2.0 build (`counter-v0-2-0`, same store keys) in the same forum over the same event log, including the upgrade
//! from one to the other; external events reach only 0.2.0 programs; the 0.2.0 `log` import and panic messages.

use cadre::Forum;
use cadre::events::Delivery;
use cadre::forum::NewPost;
use cadre::runtime::{CallErrorKind, Event, Limits, LogLevel, Runtime};
use cadre_model::{Attribute, AttributeValue, ExternalEvent, PostKind};
use rusqlite::params;

use crate::util::{component_path, day, like, load, points_for, runtime};

fn external(member: u64, kind: &str, id: &str, at: i64) -> ExternalEvent {
    ExternalEvent {
        kind: kind.into(),
        member,
        at,
        source: Some("lms".into()),
        external_id: Some(id.into()),
        attributes: vec![Attribute { name: "score".into(), value: AttributeValue::Integer(87) }],
    }
}

#[test]
fn a_component_built_from_the_frozen_0_1_0_wit_runs_unchanged_and_never_receives_external_events() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "counter-v0-1-0");
    assert_eq!(plugin.contract_version(), "0.1.0");
    let effects = plugin.call(&like(1, 3, 4, day(1))).unwrap();
    assert_eq!(points_for(&effects, 3), 1);
    let effects = plugin.call(&Event::External(external(3, "certification.passed", "x-1", day(1)))).unwrap();
    assert!(effects.is_empty(), "a 0.1.0 program is not given the event: {effects:?}");
}

#[test]
fn a_0_2_0_component_receives_external_events_and_its_log_lines_are_kept() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "counter-v0-2-0");
    assert_eq!(plugin.contract_version(), "0.2.0");
    assert_eq!(plugin.name().to_string(), "counter 2.0.0");
    let effects = plugin.call(&Event::External(external(3, "certification.passed", "x-1", day(1)))).unwrap();
    assert_eq!(points_for(&effects, 3), 5);
    let log = plugin.last_log();
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].level, LogLevel::Info);
    assert_eq!(log[0].message, "external certification.passed for member 3");
}

#[test]
fn a_panic_in_a_0_2_0_plugin_reaches_the_hosts_error_with_its_message() {
    let runtime = runtime(Limits::default());
    let mut plugin = load(&runtime, "counter-v0-2-0");
    let error = plugin.call(&Event::External(external(3, "test.panic", "x-9", day(1)))).unwrap_err();
    let CallErrorKind::Trap { message } = &error.kind else { panic!("{error}") };
    assert!(message.contains("asked to panic by event x-9"), "{message}");
    assert!(message.contains("src/lib.rs"), "the panic's location is named: {message}");
    // The host is unharmed: the next call runs on a fresh instance.
    assert_eq!(points_for(&plugin.call(&like(1, 3, 4, day(1))).unwrap(), 3), 1);
}

fn badges(forum: &Forum, member: u64) -> Vec<String> {
    let mut statement = forum.conn().prepare("SELECT badge FROM badges WHERE member_id = ?1").unwrap();
    statement.query_map(params![member as i64], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

fn points(forum: &Forum, member: u64) -> i64 {
    forum
        .conn()
        .query_row("SELECT COALESCE(SUM(delta), 0) FROM ledger WHERE member_id = ?1", params![member as i64], |r| {
            r.get(0)
        })
        .unwrap()
}

#[test]
fn an_upgrade_from_a_0_1_0_build_to_its_0_2_0_build_keeps_the_store_and_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut forum = Forum::open(&dir.path().join("forum.db"), Runtime::new(Limits::default(), None).unwrap()).unwrap();
    let v1 = std::fs::read(component_path("counter-v0-1-0")).unwrap();
    let v2 = std::fs::read(component_path("counter-v0-2-0")).unwrap();
    forum.install(&v1, "system", day(0)).unwrap();
    let author = forum.register("author", 0, false).unwrap();
    let likers: Vec<u64> = (0..3).map(|i| forum.register(&format!("liker{i}"), 0, false).unwrap()).collect();
    let general = forum.create_category("general", "General", None).unwrap();
    let post = NewPost {
        kind: PostKind::Question,
        author,
        category: Some(general),
        parent: None,
        title: Some("A question".into()),
        body: "Details".into(),
        at: day(1),
    };
    let (post, _) = forum.create_post("q1", post).unwrap();
    forum.like("like-0", likers[0], post, day(1)).unwrap();
    forum.like("like-1", likers[1], post, day(1)).unwrap();

    // Under 0.1.0 the external event is logged but the program is not given it.
    let outcome = forum.record_external(external(author, "certification.passed", "exam-1", day(1))).unwrap();
    assert_eq!(outcome.delivery, Delivery::Applied { effects: 0 });
    assert_eq!(points(&forum, author), 2);

    forum.install(&v2, "system", day(2)).unwrap();
    // The third like is counted on top of the two the 0.1.0 build stored: the store survived the upgrade.
    forum.like("like-2", likers[2], post, day(2)).unwrap();
    assert_eq!(badges(&forum, author), vec!["declared".to_owned()]);
    let outcome = forum.record_external(external(author, "event.attended", "webinar-7", day(2))).unwrap();
    assert_eq!(outcome.delivery, Delivery::Applied { effects: 1 });
    assert_eq!(points(&forum, author), 3 + 5);

    // A replay of the same source and external id changes nothing.
    let replay = forum.record_external(external(author, "event.attended", "webinar-7", day(2))).unwrap();
    assert!(replay.duplicate);
    assert_eq!(points(&forum, author), 8);
    let logged: i64 =
        forum.conn().query_row("SELECT COUNT(*) FROM events WHERE kind = 'external'", [], |r| r.get(0)).unwrap();
    assert_eq!(logged, 2, "both external events are in the log, once each");
}

#[test]
fn an_external_event_for_an_unknown_member_or_with_a_misspelt_kind_is_refused_and_not_logged() {
    let dir = tempfile::tempdir().unwrap();
    let mut forum = Forum::open(&dir.path().join("forum.db"), Runtime::new(Limits::default(), None).unwrap()).unwrap();
    forum.install(cadre::bundled::PROGRAM_WASM, "system", day(0)).unwrap();
    let member = forum.register("member", 0, false).unwrap();
    let error = forum.record_external(external(member + 100, "event.attended", "a", day(1))).unwrap_err();
    assert!(error.to_string().contains(&format!("member #{}", member + 100)), "{error}");
    let error = forum.record_external(external(member, "Event Attended", "b", day(1))).unwrap_err();
    assert!(error.to_string().contains("kind: \"Event Attended\""), "{error}");
    let logged: i64 = forum.conn().query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0)).unwrap();
    assert_eq!(logged, 0);
}

#[test]
fn a_0_2_0_program_is_told_an_answers_question_author_and_a_likes_category_and_a_0_1_0_program_runs_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut forum = Forum::open(&dir.path().join("forum.db"), Runtime::new(Limits::default(), None).unwrap()).unwrap();
    forum.install(&std::fs::read(component_path("counter-v0-2-0")).unwrap(), "system", day(0)).unwrap();
    let asker = forum.register("asker", 0, false).unwrap();
    let answerer = forum.register("answerer", 0, false).unwrap();
    forum.create_category("general", "General", None).unwrap();
    let help = forum.create_category("help", "Help", None).unwrap();
    let new_post = |kind, author, parent| NewPost {
        kind,
        author,
        category: Some(help),
        parent,
        title: (kind == PostKind::Question).then(|| "A question".into()),
        body: "Details".into(),
        at: day(1),
    };
    let (question, _) = forum.create_post("q1", new_post(PostKind::Question, asker, None)).unwrap();
    assert!(forum.plugin_mut().unwrap().last_log().is_empty(), "a question has no asker besides its author");
    let (answer, _) = forum.create_post("a1", new_post(PostKind::Answer, answerer, Some(question))).unwrap();
    let said: Vec<String> = forum.plugin_mut().unwrap().last_log().iter().map(|l| l.message.clone()).collect();
    assert_eq!(said, vec![format!("post {answer} answers a question by member {asker}")]);
    forum.like("like-1", asker, answer, day(1)).unwrap();
    let said: Vec<String> = forum.plugin_mut().unwrap().last_log().iter().map(|l| l.message.clone()).collect();
    assert_eq!(said, vec![format!("like of post {answer} in category {help}")]);

    // The 0.1.0 build gets the same events without the context and counts as before.
    forum.install(&std::fs::read(component_path("counter-v0-1-0")).unwrap(), "system", day(2)).unwrap();
    forum.like("like-2", answerer, question, day(2)).unwrap();
    assert_eq!(points(&forum, asker), 1);
}
