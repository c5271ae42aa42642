//! The bundled super-user program, through the real component in the real host.

use cadre::runtime::{Event, Limits};
use cadre_model::Effect;

use crate::util::{day, like, like_record, points_for, program, runtime};

#[test]
fn likes_become_points_and_the_tenth_grants_the_badge_once() {
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, "");
    let mut badges = Vec::new();
    for id in 0..15 {
        let effects = plugin.call(&like(id, 7, 100 + id, day(id as i64))).unwrap();
        assert_eq!(points_for(&effects, 7), 10, "like {id}");
        badges.extend(effects.into_iter().filter_map(|e| match e {
            Effect::GrantBadge { member, badge, .. } => Some((member, badge)),
            _ => None,
        }));
    }
    assert_eq!(badges, vec![(7, "rising-star".to_owned())]);
}

#[test]
fn the_daily_cap_gives_partial_credit_then_nothing_until_the_next_utc_day() {
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, "[caps]\nlikes-received-per-day = 25\n");
    let gains: Vec<i64> =
        (0..4).map(|id| points_for(&plugin.call(&like(id, 7, 100 + id, day(3))).unwrap(), 7)).collect();
    assert_eq!(gains, [10, 10, 5, 0]);
    assert_eq!(points_for(&plugin.call(&like(9, 7, 200, day(4))).unwrap(), 7), 10);
}

#[test]
fn unlike_takes_back_exactly_what_the_like_gave() {
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, "[caps]\nlikes-received-per-day = 15\n");
    plugin.call(&like(1, 7, 8, day(3))).unwrap();
    plugin.call(&like(2, 7, 9, day(3))).unwrap();
    let removed = plugin.call(&Event::LikeRemoved(like_record(2, 7, 9, day(5)))).unwrap();
    assert_eq!(points_for(&removed, 7), -5, "the capped like gave 5, so its removal takes back 5");
}

#[test]
fn state_survives_a_new_instance_because_it_lives_in_the_host_store() {
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, "[caps]\nlikes-received-per-day = 15\n");
    plugin.call(&like(1, 7, 8, day(3))).unwrap();
    plugin.discard_instance();
    assert_eq!(points_for(&plugin.call(&like(2, 7, 9, day(3))).unwrap(), 7), 5, "the cap remembers the first like");
}

#[test]
fn a_bad_configuration_reports_every_error_and_keeps_the_one_in_force() {
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, "[caps]\nlikes-received-per-day = 15\n");
    let bad = "[points]\nanswer-liked = \"lots\"\n[caps]\nlikes-received-per-day = -1\nmystery = true\n";
    let errors = plugin.configure(bad).unwrap().unwrap_err();
    let paths: Vec<(&str, Option<u32>)> = errors.iter().map(|e| (e.path.as_str(), e.line)).collect();
    assert!(paths.contains(&("points.answer-liked", Some(2))), "{errors:?}");
    assert!(paths.contains(&("caps.likes-received-per-day", Some(4))), "{errors:?}");
    assert!(paths.contains(&("caps.mystery", Some(5))), "{errors:?}");
    assert_eq!(plugin.settings(), "[caps]\nlikes-received-per-day = 15\n");
    let gains: Vec<i64> =
        (0..2).map(|id| points_for(&plugin.call(&like(id, 7, 100 + id, day(3))).unwrap(), 7)).collect();
    assert_eq!(gains, [10, 5], "the old cap of 15 still holds");
}

#[test]
fn the_member_record_reports_points_and_what_the_cap_withheld() {
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, "[caps]\nlikes-received-per-day = 15\n");
    plugin.call(&like(1, 7, 8, day(3))).unwrap();
    plugin.call(&like(2, 7, 9, day(3))).unwrap();
    let record = plugin.member_record(7, day(3)).unwrap();
    let value = |key: &str| record.iter().find(|f| f.key == key).map(|f| f.value);
    assert_eq!(value("points"), Some(15.0));
    assert!(record.iter().any(|f| f.value == 5.0 && f.key.contains("cap")), "{record:?}");
}

#[test]
fn every_preset_is_accepted_by_the_component_and_declares_what_it_grants() {
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, "");
    for (name, text) in cadre_rules::presets::ALL {
        let declaration = plugin.configure(text).unwrap().unwrap_or_else(|e| panic!("preset {name}: {e:?}"));
        if name != "stackexchange" {
            assert!(!declaration.tiers.is_empty(), "preset {name} declares a tier with a private forum");
        }
    }
}

#[test]
fn the_stackexchange_preset_gives_the_accept_points_through_the_component() {
    use cadre_model::Accept;
    let runtime = runtime(Limits::default());
    let mut plugin = program(&runtime, cadre_rules::presets::STACKEXCHANGE);
    let accept = Accept { answer: 2, answerer: Some(7), answer_wiki: false, question: 1, asker: Some(8), at: day(2) };
    let effects = plugin.call(&Event::AnswerAccepted(accept)).unwrap();
    assert_eq!((points_for(&effects, 7), points_for(&effects, 8)), (15, 2));
    let self_accept =
        Accept { answer: 4, answerer: Some(8), answer_wiki: false, question: 3, asker: Some(8), at: day(2) };
    assert_eq!(points_for(&plugin.call(&Event::AnswerAccepted(self_accept)).unwrap(), 8), 0);
}
