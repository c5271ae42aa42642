//! External events in the rules (contract 0.2.0), by configuration alone: points per kind within a daily cap,
//! badges on counts of a kind, tiers requiring a kind within a window, the member record and nomination evidence,
//! and validation naming a misspelt kind.

mod common;

use cadre_rules::model::{DAY_MS, Effect, Event, ExternalEvent};
use cadre_rules::{Config, Program};
use common::{Forum, accept};

const SETTINGS: &str = r#"
[[external]]
kind = "event.attended"
name = "Events attended"
points = 50
max-points-per-day = 80

[[external]]
kind = "certification.passed"
name = "Certifications passed"
points = 500

[[badges]]
id = "regular-attendee"
name = "Regular Attendee"
level = "bronze"
description = "Attended 3 events"
when = { external = { "event.attended" = 3 } }

[[tiers]]
id = "certified"
name = "Certified"
description = "Certified in the last 2 years, with 2 accepted answers"
mode = "review"
when = { accepted-answers = 2, external = { "certification.passed" = { count = 1, within-days = 730 } } }
"#;

fn external(member: u64, kind: &str, day: i64) -> Event {
    Event::External(ExternalEvent {
        kind: kind.into(),
        member,
        at: day * DAY_MS + 1000,
        source: Some("lms".into()),
        external_id: Some(format!("{kind}-{day}")),
        attributes: Vec::new(),
    })
}

#[test]
fn points_per_kind_are_capped_per_day_and_each_ledger_line_says_why() {
    let mut f = Forum::new(SETTINGS);
    assert_eq!(common::points_of(&f.send(external(1, "event.attended", 10)), 1), 50);
    let second = f.send(external(1, "event.attended", 10));
    assert_eq!(common::points_of(&second, 1), 30, "the cap of 80 a day leaves 30");
    assert!(matches!(&second[0], Effect::AwardPoints { rule, reason, .. }
        if rule == "external:event.attended" && reason.contains("daily cap: 30 of 50")));
    assert_eq!(common::points_of(&f.send(external(1, "event.attended", 11)), 1), 50, "a new day, a new cap");
}

#[test]
fn a_badge_on_the_count_of_a_kind_is_granted_at_the_third_event() {
    let mut f = Forum::new(SETTINGS);
    f.send(external(1, "event.attended", 1));
    f.send(external(1, "event.attended", 2));
    let third = f.send(external(1, "event.attended", 3));
    assert!(
        third.iter().any(|e| matches!(e, Effect::GrantBadge { badge, reason, .. }
        if badge == "regular-attendee" && reason.contains("event.attended 3 (needs 3)"))),
        "{third:?}"
    );
}

#[test]
fn a_tier_requiring_a_kind_within_a_window_nominates_with_it_in_the_evidence_and_not_after_the_window() {
    let mut f = Forum::new(SETTINGS);
    f.send(external(1, "certification.passed", 100));
    f.send(Event::AnswerAccepted(accept(1, Some(1), Some(2), 101)));
    let nominated = f.send(Event::AnswerAccepted(accept(2, Some(1), Some(2), 102)));
    let evidence = nominated
        .iter()
        .find_map(|e| match e {
            Effect::Nominate { tier, evidence, .. } if tier == "certified" => Some(evidence.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{nominated:?}"));
    assert!(evidence.summary.contains("certification.passed 1 in the last 730 days (needs 1)"), "{}", evidence.summary);
    let figure = evidence.figures.iter().find(|f| f.key == "external-certification.passed").unwrap();
    assert_eq!((figure.value, figure.threshold), (1.0, Some(1.0)));

    // A certification older than two years does not qualify another member.
    f.send(external(5, "certification.passed", 100));
    f.send(Event::AnswerAccepted(accept(3, Some(5), Some(2), 100 + 731)));
    let late = f.send(Event::AnswerAccepted(accept(4, Some(5), Some(2), 100 + 732)));
    assert!(!late.iter().any(|e| matches!(e, Effect::Nominate { .. })), "{late:?}");
}

#[test]
fn a_member_with_no_posts_is_nominated_from_external_data_alone() {
    let mut f = Forum::new(cadre_rules::presets::INSIDERS);
    let effects = f.send(Event::External(ExternalEvent {
        kind: "customer.vetted".into(),
        member: 9,
        at: 50 * DAY_MS,
        source: Some("crm".into()),
        external_id: Some("acct-9".into()),
        attributes: Vec::new(),
    }));
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Nominate { member: 9, tier, .. } if tier == "insiders-customers"))
    );
}

#[test]
fn the_member_record_shows_each_kind_and_its_points() {
    let mut f = Forum::new(SETTINGS);
    f.send(external(1, "event.attended", 1));
    f.send(external(1, "event.attended", 2));
    assert_eq!(f.figure(1, 3, "external-event.attended"), 2.0);
    assert_eq!(f.figure(1, 3, "points-external-event.attended"), 100.0);
    assert_eq!(f.figure(1, 3, "external-certification.passed"), 0.0);
    assert_eq!(f.figure(1, 3, "points"), 100.0);
}

#[test]
fn an_event_of_an_undeclared_kind_changes_nothing() {
    let mut f = Forum::new(SETTINGS);
    assert!(f.send(external(1, "webinar.attended", 1)).is_empty());
    assert!(f.kv.entries.is_empty(), "no data kept that the configuration does not use");
}

#[test]
fn validation_names_a_misspelt_kind_with_its_path_line_and_the_declared_kinds() {
    let text = SETTINGS.replace(
        r#"when = { external = { "event.attended" = 3 } }"#,
        r#"when = { external = { "event.atended" = 3 } }"#,
    );
    let errors = Program::configure(&text).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "badges[0].when.external.\"event.atended\"");
    assert!(
        errors[0].message.contains("unknown external kind (expected one of: event.attended, certification.passed)")
    );
    assert!(errors[0].line.is_some());

    let bad_kind = SETTINGS.replace(r#"kind = "certification.passed""#, r#"kind = "Certification Passed""#);
    let errors = Config::parse(&bad_kind).unwrap_err();
    assert!(errors.iter().any(|e| e.path == "external[1].kind"), "{errors:?}");
}
