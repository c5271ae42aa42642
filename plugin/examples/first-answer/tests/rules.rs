//! The program's rules, natively: its hooks called with an in-memory store, no host, no WebAssembly.

use cadre_pdk::prelude::*;
use first_answer::{FIRST_RESPONDER, FirstAnswer};

fn answer(post: u64, author: u64, question: u64, asker: u64, at: i64) -> PostCreated {
    PostCreated {
        post,
        kind: PostKind::Answer,
        author: Some(author),
        parent: Some(question),
        category: 1,
        at,
        author_joined: Some(0),
        question_author: Some(asker),
    }
}

fn points(effects: &[Effect]) -> i64 {
    effects.iter().map(|e| if let Effect::AwardPoints { delta, .. } = e { *delta } else { 0 }).sum()
}

fn badges(effects: &[Effect]) -> Vec<&str> {
    effects
        .iter()
        .filter_map(|e| if let Effect::GrantBadge { badge, .. } = e { Some(badge.as_str()) } else { None })
        .collect()
}

#[test]
fn the_first_answer_to_a_question_earns_the_badge_and_later_ones_do_not() {
    let plugin: FirstAnswer = cadre_pdk::configure("").unwrap();
    let mut store = MemoryStore::new();
    let first = plugin.on_post_created(&mut store, &answer(10, 2, 1, 1, 0));
    assert_eq!((points(&first), badges(&first)), (1, vec![FIRST_RESPONDER]));
    let second = plugin.on_post_created(&mut store, &answer(11, 3, 1, 1, 0));
    assert_eq!((points(&second), badges(&second)), (1, vec![]));
}

#[test]
fn answers_earn_one_point_each_up_to_five_a_day_and_the_cap_resets_the_next_day() {
    let plugin: FirstAnswer = cadre_pdk::configure("").unwrap();
    let mut store = MemoryStore::new();
    let earned: Vec<i64> =
        (0..7).map(|i| points(&plugin.on_post_created(&mut store, &answer(10 + i, 2, 100 + i, 1, 0)))).collect();
    assert_eq!(earned, [1, 1, 1, 1, 1, 0, 0]);
    let capped = plugin.on_post_created(&mut store, &answer(20, 2, 200, 1, 1_000));
    assert!(
        matches!(&capped[0], Effect::AwardPoints { reason, .. } if reason.contains("daily cap of 5 reached")),
        "{capped:?}"
    );
    let next_day = plugin.on_post_created(&mut store, &answer(21, 2, 201, 1, DAY_MS));
    assert_eq!(points(&next_day), 1);
}

#[test]
fn answering_ones_own_question_earns_nothing_unless_the_moderators_allow_it() {
    let plugin: FirstAnswer = cadre_pdk::configure("").unwrap();
    let mut store = MemoryStore::new();
    assert!(plugin.on_post_created(&mut store, &answer(10, 1, 1, 1, 0)).is_empty());
    assert!(log::take_lines().iter().any(|(_, line)| line.contains("answered their own question 1")));
    let lenient: FirstAnswer = cadre_pdk::configure("self-answers-count = true").unwrap();
    let effects = lenient.on_post_created(&mut MemoryStore::new(), &answer(10, 1, 1, 1, 0));
    assert_eq!((points(&effects), badges(&effects)), (1, vec![FIRST_RESPONDER]));
}

#[test]
fn describe_lists_the_settings_table_and_the_defaults_declare_the_badge() {
    let info = cadre_pdk::describe::<FirstAnswer>();
    let settings: Vec<(&str, &str)> =
        info.settings.iter().map(|s| (s.path.as_str(), s.default_value.as_str())).collect();
    assert_eq!(
        settings,
        [("points-per-answer", "1"), ("max-answer-points-per-day", "5"), ("self-answers-count", "false")]
    );
    assert_eq!(info.badges[0].id, FIRST_RESPONDER);
}

#[test]
fn settings_errors_name_the_setting_and_its_line() {
    let errors =
        cadre_pdk::configure::<FirstAnswer>("\npoints-per-answer = 9\nmax-answer-points-per-day = 5\n").err().unwrap();
    assert_eq!(
        errors[0].to_string(),
        "line 2: points-per-answer: 9 points per answer would always be cut to the daily cap of 5"
    );
    let errors = cadre_pdk::configure::<FirstAnswer>("points-per-answr = 2").err().unwrap();
    assert!(errors[0].message.starts_with("unknown setting (expected one of: points-per-answer,"), "{errors:?}");
}

#[test]
fn the_member_record_counts_answers_and_first_answers() {
    let plugin: FirstAnswer = cadre_pdk::configure("").unwrap();
    let mut store = MemoryStore::new();
    plugin.on_post_created(&mut store, &answer(10, 2, 1, 1, 0));
    plugin.on_post_created(&mut store, &answer(11, 2, 1, 1, 0));
    let record = plugin.member_record(&mut store, 2, 0);
    assert_eq!(record.iter().map(|f| f.value).collect::<Vec<_>>(), [2.0, 1.0]);
}
