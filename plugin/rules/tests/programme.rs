//! Badges, tiers, moderators' decisions, inactivity and the member record.

mod common;

use cadre_rules::Program;
use cadre_rules::model::{Effect, Event, ModeratorAction, PostKind};
use common::{Forum, accept, grants, like, post};

const NO_LIMITS: &str = "[caps]\nlikes-received-per-day = 0\n[antigaming]\npair-likes-per-day = 0\npair-likes-per-week = 0\nmutual-likes-flag = 0\n";

fn forum(rest: &str) -> Forum {
    Forum::new(&format!("{NO_LIMITS}{rest}"))
}

const LADDER: &str = r#"
[[badges]]
id = "helper"
name = "Helper"
level = "bronze"
description = "2 accepted answers"
ladder = "answers"
when = { accepted-answers = 2 }

[[badges]]
id = "expert"
name = "Expert"
level = "silver"
description = "4 accepted answers and 100 points"
ladder = "answers"
when = { accepted-answers = 4, points = 100 }

[[badges]]
id = "star"
name = "Star"
level = "gold"
description = "30 points, can be lost"
can-be-lost = true
when = { points = 30 }

[[badges]]
id = "all-rounder"
name = "All-rounder"
level = "gold"
description = "Star and Helper"
when = { badges = ["star", "helper"] }
"#;

#[test]
fn badges_are_granted_once_each_in_ladder_order_when_all_their_criteria_hold() {
    let mut f = forum(LADDER);
    for answer in 0..4 {
        f.send(Event::AnswerAccepted(accept(answer, Some(1), Some(2), answer as i64)));
    }
    assert_eq!(grants(&f.effects), [(1, "helper".into()), (1, "star".into()), (1, "all-rounder".into())]);
    for i in 0..5 {
        f.like(like(i, 1, Some(1), Some(10 + i), 9));
    }
    assert_eq!(grants(&f.effects).last(), Some(&(1, "expert".into())), "4 accepted answers and 110 points");
    f.like(like(99, 1, Some(1), Some(50), 10));
    assert_eq!(grants(&f.effects).len(), 4, "never granted twice");
}

#[test]
fn a_badge_is_revoked_only_when_its_settings_say_it_can_be_lost() {
    let mut f = forum(LADDER);
    f.send(Event::AnswerAccepted(accept(1, Some(1), Some(2), 0)));
    f.send(Event::AnswerAccepted(accept(2, Some(1), Some(2), 0)));
    f.send(Event::AnswerUnaccepted(accept(2, Some(1), Some(2), 1)));
    let revoked: Vec<&str> = f
        .effects
        .iter()
        .filter_map(|e| match e {
            Effect::RevokeBadge { badge, .. } => Some(badge.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(revoked, ["star"], "helper cannot be lost; star can (15 points < 30)");
}

#[test]
fn the_default_badge_is_declared_and_granted_at_100_points() {
    let mut f = forum("");
    for i in 0..10 {
        f.like(like(i, 1, Some(1), Some(10 + i), 0));
    }
    assert_eq!(grants(&f.effects), [(1, "rising-star".into())]);
    assert_eq!(Program::info().badges[0].id, "rising-star");
}

fn tier(mode: &str, extra: &str) -> String {
    format!(
        "badges = []\n{NO_LIMITS}[review]\nrenominate-after-days = 30\n[[tiers]]\nid = \"legends\"\nname = \"Legends\"\ndescription = \"d\"\nmode = \"{mode}\"\nwhen = {{ accepted-answers = 2, distinct-likers = 2 }}\n{extra}"
    )
}

/// Make member 1 qualify: two accepted answers (11, 12) liked by two members; answer 12 is liked more.
fn qualify(f: &mut Forum, day: i64) -> Vec<Effect> {
    let mut out = Vec::new();
    let base = day as u64 * 100;
    out.extend(f.send(Event::AnswerAccepted(accept(11, Some(1), Some(2), day))));
    out.extend(f.send(Event::AnswerAccepted(accept(12, Some(1), Some(2), day))));
    for (i, (answer, liker)) in [(12, 3), (12, 4), (11, 3)].into_iter().enumerate() {
        out.extend(f.send(Event::LikeAdded(like(base + i as u64, answer, Some(1), Some(liker), day))));
    }
    out
}

fn kinds(effects: &[Effect]) -> Vec<&'static str> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::GrantAccess { .. } => Some("grant"),
            Effect::Nominate { .. } => Some("nominate"),
            Effect::RevokeAccess { .. } => Some("revoke"),
            Effect::NotifyModerators { .. } => Some("notify"),
            _ => None,
        })
        .collect()
}

#[test]
fn an_auto_tier_grants_access_once_when_a_member_qualifies() {
    let mut f = Forum::new(&tier("auto", ""));
    assert_eq!(kinds(&qualify(&mut f, 0)), ["grant"]);
    assert_eq!(kinds(&qualify(&mut f, 1)), Vec::<&str>::new());
    assert_eq!(f.record(1, 1)["tier-legends"].label, "Legends: earned");
}

#[test]
fn a_review_tier_nominates_with_figures_best_answers_concentration_and_flags() {
    let mut f = Forum::new(&tier("review", ""));
    let effects = qualify(&mut f, 0);
    let Some(Effect::Nominate { member: 1, tier, evidence }) =
        effects.iter().find(|e| matches!(e, Effect::Nominate { .. }))
    else {
        panic!("{effects:?}")
    };
    assert_eq!(tier, "legends");
    assert_eq!(evidence.posts, [12, 11], "most liked accepted answer first");
    let accepted = evidence.figures.iter().find(|f| f.key == "accepted-answers").unwrap();
    assert_eq!((accepted.value, accepted.threshold), (2.0, Some(2.0)));
    let share = evidence.figures.iter().find(|f| f.key == "top-liker-share").unwrap();
    assert_eq!(share.value, 0.5, "nominated at the second like: one like from each of two likers");
    assert!(evidence.summary.contains("Legends"), "{}", evidence.summary);
}

#[test]
fn gaming_flags_appear_in_a_later_nominations_evidence() {
    let mut f = Forum::new(&tier("review", "").replace("mutual-likes-flag = 0", "mutual-likes-flag = 1"));
    f.like(like(500, 77, Some(1), Some(3), 0));
    f.like(like(501, 78, Some(3), Some(1), 0));
    let effects = qualify(&mut f, 1);
    let Some(Effect::Nominate { evidence, .. }) = effects.iter().find(|e| matches!(e, Effect::Nominate { .. })) else {
        panic!("{effects:?}")
    };
    assert_eq!(evidence.flags, ["mutual likes with member 3: gave 1, received 1"]);
}

#[test]
fn an_invited_member_is_marked_invited_and_never_nominated_or_granted_by_the_program() {
    let mut f = Forum::new(&tier("auto", ""));
    assert!(f.moderator(ModeratorAction::MemberAdded, 1, "legends", 0).is_empty());
    assert_eq!(kinds(&qualify(&mut f, 1)), Vec::<&str>::new());
    let record = f.record(1, 1);
    assert_eq!(record["tier-legends"].label, "Legends: invited");
    assert_eq!(record["tier-legends"].value, 3.0);
}

#[test]
fn a_removed_member_who_qualifies_again_goes_to_review_after_the_cool_down_never_straight_back_in() {
    let mut f = Forum::new(&tier("auto", ""));
    assert_eq!(kinds(&qualify(&mut f, 0)), ["grant"]);
    f.moderator(ModeratorAction::MemberRemoved, 1, "legends", 1);
    assert_eq!(kinds(&qualify(&mut f, 2)), Vec::<&str>::new(), "within the cool-down");
    assert_eq!(kinds(&qualify(&mut f, 31)), ["nominate"], "auto mode, yet review");
    assert_eq!(f.record(1, 31)["tier-legends"].label, "Legends: nominated, awaiting review");
}

#[test]
fn a_rejected_nominee_is_not_renominated_until_the_cool_down_has_passed() {
    let mut f = Forum::new(&tier("review", ""));
    assert_eq!(kinds(&qualify(&mut f, 0)), ["nominate"]);
    f.moderator(ModeratorAction::NominationRejected, 1, "legends", 1);
    assert_eq!(kinds(&qualify(&mut f, 20)), Vec::<&str>::new());
    assert_eq!(kinds(&qualify(&mut f, 31)), ["nominate"]);
    f.moderator(ModeratorAction::NominationApproved, 1, "legends", 32);
    assert_eq!(f.record(1, 32)["tier-legends"].label, "Legends: earned");
}

#[test]
fn a_tier_that_requires_another_waits_until_the_member_is_in_it() {
    let text = tier(
        "auto",
        "[[tiers]]\nid = \"gold\"\nname = \"Gold\"\ndescription = \"d\"\nmode = \"auto\"\nrequires-tier = \"legends\"\nwhen = { accepted-answers = 1 }\n",
    );
    let mut f = Forum::new(&text);
    f.send(Event::AnswerAccepted(accept(1, Some(1), Some(2), 0)));
    assert_eq!(kinds(&f.effects), Vec::<&str>::new(), "not in legends yet");
    let effects = qualify(&mut f, 1);
    let tiers: Vec<&str> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::GrantAccess { tier, .. } => Some(tier.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(tiers, ["legends", "gold"]);
}

#[test]
fn inactivity_warns_moderators_first_and_revokes_after_the_grace_period() {
    let mut f = Forum::new(&tier("auto", "[tiers.inactivity]\ninactive-days = 10\ngrace-days = 5\n"));
    qualify(&mut f, 0);
    f.send(post(1, PostKind::Answer, 1, 0));
    let tick = |f: &mut Forum, day: i64| kinds(&f.send(Event::Tick(day * cadre_rules::model::DAY_MS)));
    assert_eq!(tick(&mut f, 9), Vec::<&str>::new());
    assert_eq!(tick(&mut f, 10), ["notify"]);
    assert_eq!(tick(&mut f, 12), Vec::<&str>::new(), "warned once");
    assert_eq!(tick(&mut f, 15), ["revoke"]);
    assert_eq!(f.record(1, 15)["tier-legends"].label, "Legends: demoted for inactivity");
}

#[test]
fn activity_during_the_grace_period_keeps_access_and_the_default_never_demotes() {
    let mut f = Forum::new(&tier("auto", "[tiers.inactivity]\ninactive-days = 10\ngrace-days = 5\n"));
    qualify(&mut f, 0);
    f.send(Event::Tick(10 * cadre_rules::model::DAY_MS));
    f.send(post(1, PostKind::Answer, 1, 12));
    assert_eq!(kinds(&f.send(Event::Tick(16 * cadre_rules::model::DAY_MS))), Vec::<&str>::new());
    let mut never = Forum::new(&tier("auto", ""));
    qualify(&mut never, 0);
    assert_eq!(kinds(&never.send(Event::Tick(5000 * cadre_rules::model::DAY_MS))), Vec::<&str>::new());
}

#[test]
fn the_member_record_shows_points_by_kind_losses_likers_activity_and_trend() {
    let mut f = Forum::new("[caps]\nlikes-received-per-day = 15\n[antigaming]\npair-likes-per-day = 1\n");
    f.like(like(1, 1, Some(1), Some(2), 0));
    f.like(like(2, 1, Some(1), Some(2), 0)); // over the pair limit
    f.like(like(3, 1, Some(1), Some(3), 0)); // 5 of 10 under the cap
    f.send(Event::AnswerAccepted(accept(1, Some(1), Some(2), 40)));
    f.send(post(7, PostKind::Answer, 1, 45));
    let r = f.record(1, 45);
    let v = |k: &str| r[k].value;
    assert_eq!((v("points"), v("points-answer-liked"), v("points-answer-accepted")), (30.0, 15.0, 15.0));
    assert_eq!((v("points-withheld-by-caps"), v("points-withheld-by-antigaming")), (5.0, 10.0));
    assert_eq!((v("distinct-likers"), v("likes-received"), v("accepted-answers")), (2.0, 3.0, 1.0));
    assert!((v("top-liker-share") - 2.0 / 3.0).abs() < 1e-9);
    assert_eq!((v("days-active-30"), v("days-active-90"), v("posts")), (1.0, 1.0, 1.0));
    assert_eq!((v("points-last-30-days"), v("points-previous-30-days"), v("trend")), (15.0, 15.0, 0.0));
}

#[test]
fn info_lists_every_setting_with_its_default() {
    let info = Program::info();
    let paths: Vec<&str> = info.settings.iter().map(|s| s.path.as_str()).collect();
    for path in
        ["points.answer-liked", "caps.accepts-exempt", "antigaming.young-liker-days", "tiers[].inactivity.grace-days"]
    {
        assert!(paths.contains(&path), "{path}");
    }
    assert!(info.settings.iter().all(|s| !s.default_value.is_empty() && !s.description.is_empty()));
}

#[test]
fn a_tier_with_ten_thousand_members_is_indexed_within_the_hosts_value_limit_and_ticks_reach_all_of_them() {
    let mut f = Forum::new(&tier("auto", "[tiers.inactivity]\ninactive-days = 10\ngrace-days = 5\n"));
    for member in 1..=10_000u64 {
        let (a, b) = (member * 10, member * 10 + 1);
        f.send(Event::AnswerAccepted(accept(a, Some(member), Some(20_000), 0)));
        f.send(Event::AnswerAccepted(accept(b, Some(member), Some(20_000), 0)));
        f.send(Event::LikeAdded(like(a, a, Some(member), Some(20_001), 0)));
        f.send(Event::LikeAdded(like(b, b, Some(member), Some(20_002), 0)));
    }
    assert_eq!(kinds(&f.effects).iter().filter(|k| **k == "grant").count(), 10_000);
    let largest = f.kv.entries.iter().map(|(key, value)| (value.len(), key.clone())).max().unwrap();
    assert!(largest.0 <= 64 * 1024, "{} holds {} bytes", largest.1, largest.0);
    // Each tick is bounded (a slice of the tier); successive ticks walk on from where the last one stopped, and
    // every member is warned exactly once.
    let mut warned = std::collections::BTreeSet::new();
    let mut ticks = 0;
    while warned.len() < 10_000 {
        ticks += 1;
        assert!(ticks <= 10_000 / cadre_rules::TICK_EFFECTS + 2, "the walk does not advance");
        let effects = f.send(Event::Tick(10 * cadre_rules::model::DAY_MS));
        assert!(effects.len() <= cadre_rules::TICK_EFFECTS, "{} effects in one tick", effects.len());
        for effect in effects {
            if let Effect::NotifyModerators { member: Some(member), .. } = effect {
                assert!(warned.insert(member), "member {member} warned twice");
            }
        }
    }
}

#[test]
fn a_tick_checks_a_bounded_slice_and_a_round_resumes_where_the_last_tick_stopped() {
    use cadre_rules::TICK_MEMBERS;
    let mut f = Forum::new(&tier("auto", "[tiers.inactivity]\ninactive-days = 10\ngrace-days = 5\n"));
    let members = TICK_MEMBERS as u64 * 2 + 7;
    for member in 1..=members {
        let (a, b) = (member * 10, member * 10 + 1);
        f.send(Event::AnswerAccepted(accept(a, Some(member), Some(90_000), 0)));
        f.send(Event::AnswerAccepted(accept(b, Some(member), Some(90_000), 0)));
        f.send(Event::LikeAdded(like(a, a, Some(member), Some(90_001), 0)));
        f.send(Event::LikeAdded(like(b, b, Some(member), Some(90_002), 0)));
    }
    // Nobody is idle yet: ticks warn nobody, each checks one slice, and the round ends after three.
    for tick in 1..=3 {
        assert!(f.send(Event::Tick(5 * cadre_rules::model::DAY_MS)).is_empty());
        assert_eq!(f.kv.entries.contains_key("tick/cursor"), tick < 3, "after tick {tick}");
    }
    assert!(!f.kv.entries.contains_key("tick/cursor"), "the round is over: the next tick starts from the first tier");
}
