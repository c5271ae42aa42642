//! One test per scoring rule: points per event kind, daily caps, anti-gaming, exact refunds, community wiki.
//! Each sets up the smallest configuration that isolates its rule, so it would fail without it.

mod common;

use cadre_rules::model::{Accept, DAY_MS, Effect, Event, Like, PostKind};
use common::{Forum, accept, like, liked, post};

/// No caps and no liker rules: only the rule under test is switched on by each test.
const PLAIN: &str = "[caps]\nlikes-received-per-day = 0\nlikes-given-per-day = 0\n[antigaming]\npair-likes-per-day = 0\npair-likes-per-week = 0\nmutual-likes-flag = 0\n";

fn with(extra: &str) -> Forum {
    // Later tables override: merge by replacing whole lines of PLAIN that `extra` redefines.
    let mut text = String::new();
    let mut section = "";
    for line in PLAIN.lines() {
        if line.starts_with('[') {
            section = line;
        } else if let Some((key, _)) = line.split_once(" = ") {
            let redefined = extra_section_has(extra, section, key);
            if redefined {
                continue;
            }
        }
        text.push_str(line);
        text.push('\n');
    }
    let mut merged = text;
    let mut current = String::new();
    for line in extra.lines() {
        if line.starts_with('[') {
            current = line.to_string();
            continue;
        }
        if let Some(at) = merged.find(&format!("{current}\n")) {
            merged.insert_str(at + current.len() + 1, &format!("{line}\n"));
        } else {
            merged.push_str(&format!("{current}\n{line}\n"));
        }
    }
    Forum::new(&merged)
}

fn extra_section_has(extra: &str, section: &str, key: &str) -> bool {
    let mut current = "";
    extra.lines().any(|line| {
        if line.starts_with('[') {
            current = line;
            false
        } else {
            current == section && line.starts_with(&format!("{key} ="))
        }
    })
}

#[test]
fn each_event_kind_gives_its_configured_points() {
    let mut forum = with(
        "[points]\nanswer-liked = 11\nquestion-liked = 7\nreply-liked = 3\nanswer-accepted = 20\naccepting = 4\npost-created = 1\nlike-given = 2\n",
    );
    assert_eq!(forum.like(liked(PostKind::Answer, 1, 1, 2, 0)), 11);
    assert_eq!(forum.like(liked(PostKind::Question, 2, 1, 2, 0)), 7);
    assert_eq!(forum.like(liked(PostKind::Reply, 3, 1, 2, 0)), 3);
    assert_eq!(forum.points_of(2), 6, "the liker got like-given three times");
    forum.send(Event::AnswerAccepted(accept(9, Some(1), Some(3), 0)));
    forum.send(post(10, PostKind::Question, 4, 0));
    assert_eq!(forum.points(), [(1, 41), (2, 6), (3, 4), (4, 1)].into());
}

#[test]
fn active_day_points_come_once_per_utc_day_of_activity() {
    let mut forum = with("[points]\nactive-day = 2\n");
    forum.send(post(1, PostKind::Question, 4, 0));
    forum.send(post(2, PostKind::Answer, 4, 0));
    forum.send(post(3, PostKind::Answer, 4, 1));
    assert_eq!(forum.points_of(4), 4);
}

#[test]
fn the_received_cap_gives_partial_credit_and_starts_fresh_the_next_day() {
    let mut forum = with("[points]\nanswer-liked = 15\n[caps]\nlikes-received-per-day = 40\n");
    let gains: Vec<i64> = (0..4).map(|i| forum.like(like(i, 1, Some(1), Some(10 + i), 10))).collect();
    assert_eq!(gains, [15, 15, 10, 0]);
    assert_eq!(forum.like(like(9, 1, Some(1), Some(30), 11)), 15);
    assert_eq!(forum.figure(1, 11, "points-withheld-by-caps"), 20.0);
}

#[test]
fn the_given_cap_limits_points_for_giving_likes_separately() {
    let mut forum = with("[points]\nlike-given = 3\n[caps]\nlikes-given-per-day = 7\n");
    for i in 0..4 {
        forum.like(like(i, 1, Some(10 + i), Some(2), 0));
    }
    assert_eq!(forum.points_of(2), 7, "3 + 3 + 1 (partial) + 0");
    assert_eq!(forum.points_of(10), 10, "the authors are not affected by the liker's cap");
}

#[test]
fn accepts_are_exempt_from_the_cap_by_default_and_capped_when_configured() {
    let mut exempt = with("[caps]\nlikes-received-per-day = 10\n");
    exempt.like(like(1, 1, Some(1), Some(2), 0));
    exempt.send(Event::AnswerAccepted(accept(1, Some(1), Some(2), 0)));
    assert_eq!(exempt.points_of(1), 25);
    let mut capped = with("[caps]\nlikes-received-per-day = 20\naccepts-exempt = false\n");
    capped.like(like(1, 1, Some(1), Some(2), 0));
    capped.send(Event::AnswerAccepted(accept(1, Some(1), Some(2), 0)));
    assert_eq!(capped.points_of(1), 20, "10 + 10 of 15");
}

#[test]
fn a_self_like_gives_nothing_to_anyone_and_is_counted_as_withheld() {
    let mut forum = with("[points]\nlike-given = 1\n");
    let effects = forum.send(Event::LikeAdded(like(1, 1, Some(5), Some(5), 0)));
    assert!(common::totals(&effects).is_empty(), "{effects:?}");
    assert_eq!(forum.figure(5, 0, "points-withheld-by-antigaming"), 11.0);
    assert_eq!(forum.figure(5, 0, "likes-received"), 0.0);
}

#[test]
fn a_self_accept_gives_nothing_to_anyone() {
    let mut forum = with("");
    let effects = forum.send(Event::AnswerAccepted(accept(1, Some(5), Some(5), 0)));
    assert!(common::totals(&effects).is_empty(), "{effects:?}");
    assert_eq!(forum.figure(5, 0, "accepted-answers"), 0.0);
}

/// The ledger lines of 0 points `member` got in `effects`, as `rule: reason`.
fn withheld(effects: &[Effect], member: u64) -> Vec<String> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::AwardPoints { member: m, delta: 0, rule, reason } if *m == member => {
                Some(format!("{rule}: {reason}"))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_like_that_earns_nothing_still_leaves_a_ledger_line_of_0_points_naming_the_rule() {
    // The daily cap: the like that crosses it gets the part that fits (its line says so), the next one a 0 line.
    let mut capped = with(
        "[points]\nanswer-liked = 15\nlike-given = 3\n[caps]\nlikes-received-per-day = 20\nlikes-given-per-day = 3\n",
    );
    capped.like(like(1, 1, Some(1), Some(2), 0));
    let partial = capped.send(Event::LikeAdded(like(2, 1, Some(1), Some(2), 0)));
    assert!(
        partial.iter().any(|e| matches!(e, Effect::AwardPoints { member: 1, delta: 5, reason, .. } if reason.contains("daily cap: 5 of 15"))),
        "{partial:?}"
    );
    assert_eq!(withheld(&partial, 2), ["like-given: gave like 2 on post 1: withheld by daily cap (3 reached)"]);
    let nothing = capped.send(Event::LikeAdded(like(3, 1, Some(1), Some(4), 0)));
    assert_eq!(withheld(&nothing, 1), ["answer-liked: like 3 on answer 1: withheld by daily cap (20 reached)"]);

    // The per-pair limits, per day and per rolling week, name the pair and the limit.
    let mut pair = with("[points]\nlike-given = 1\n[antigaming]\npair-likes-per-day = 1\n");
    pair.like(like(1, 1, Some(1), Some(2), 0));
    let over = pair.send(Event::LikeAdded(like(2, 1, Some(1), Some(2), 0)));
    assert_eq!(withheld(&over, 1), ["answer-liked: like 2 on answer 1: pair limit: member 2 → member 1 1 a day"]);
    assert_eq!(withheld(&over, 2), ["like-given: gave like 2 on post 1: pair limit: member 2 → member 1 1 a day"]);
    let mut week = with("[antigaming]\npair-likes-per-week = 1\n");
    week.like(like(1, 1, Some(1), Some(2), 0));
    let over = week.send(Event::LikeAdded(like(2, 1, Some(1), Some(2), 3)));
    assert_eq!(withheld(&over, 1), ["answer-liked: like 2 on answer 1: pair limit: member 2 → member 1 1 in 7 days"]);

    // A young liker whose likes count 0%.
    let mut young = with("[antigaming]\nyoung-liker-days = 7\n");
    let fresh = young.send(Event::LikeAdded(Like { liker_joined: Some(0), ..like(1, 1, Some(1), Some(2), 3) }));
    assert_eq!(withheld(&fresh, 1), ["answer-liked: like 1 on answer 1: liker account younger than 7 days"]);

    // A self-like (each points rule worth something gets its line), and a community wiki.
    let mut own = with("[points]\nlike-given = 1\n");
    let selfish = own.send(Event::LikeAdded(like(1, 1, Some(5), Some(5), 0)));
    assert_eq!(
        withheld(&selfish, 5),
        [
            "answer-liked: like 1 on answer 1: self-like, not counted",
            "like-given: gave like 1 on post 1: self-like, not counted"
        ]
    );
    let wiki = own.send(Event::LikeAdded(Like { post_wiki: true, ..like(2, 2, Some(1), Some(2), 0) }));
    assert_eq!(withheld(&wiki, 1), ["answer-liked: like 2 on answer 2: community wiki, not counted"]);
    assert_eq!(common::totals(&wiki), [(2, 1)].into(), "the liker still gets theirs");

    // A rule worth 0 points explains nothing: no line (like-given is 0 by default).
    let mut plain = with("");
    let paid = plain.send(Event::LikeAdded(like(1, 1, Some(1), Some(2), 0)));
    assert!(withheld(&paid, 2).is_empty(), "{paid:?}");
}

#[test]
fn an_accept_that_earns_nothing_still_leaves_a_ledger_line_of_0_points_naming_the_rule() {
    let mut forum = with("");
    let selfish = forum.send(Event::AnswerAccepted(accept(1, Some(5), Some(5), 0)));
    assert_eq!(
        withheld(&selfish, 5),
        [
            "answer-accepted: answer 1 accepted on question 10001: self-accept, not counted",
            "accepting: accepted answer 1 on question 10001: self-accept, not counted"
        ]
    );
    let wiki = forum.send(Event::AnswerAccepted(Accept { answer_wiki: true, ..accept(2, Some(1), Some(3), 0) }));
    assert_eq!(
        withheld(&wiki, 1),
        ["answer-accepted: answer 2 accepted on question 10002: community wiki, not counted"]
    );
    let mut capped = with("[caps]\nlikes-received-per-day = 10\naccepts-exempt = false\n");
    capped.like(like(1, 1, Some(1), Some(2), 0));
    let nothing = capped.send(Event::AnswerAccepted(accept(1, Some(1), Some(2), 0)));
    assert_eq!(
        withheld(&nothing, 1),
        ["answer-accepted: answer 1 accepted on question 10001: withheld by daily cap (10 reached)"]
    );
    assert_eq!(common::totals(&nothing), [(2, 2)].into(), "the asker's own cap has room");
    assert_eq!(capped.figure(1, 0, "accepted-answers"), 1.0, "it still counts as accepted");
}

#[test]
fn the_same_liker_counts_only_up_to_the_pair_limit_per_day() {
    let mut forum = with("[antigaming]\npair-likes-per-day = 2\n");
    let gains: Vec<i64> = (0..4).map(|i| forum.like(like(i, i, Some(1), Some(2), 0))).collect();
    assert_eq!(gains, [10, 10, 0, 0]);
    assert_eq!(forum.like(like(9, 9, Some(1), Some(3), 0)), 10, "another liker is not limited");
    assert_eq!(forum.like(like(10, 10, Some(1), Some(2), 1)), 10, "the next day");
}

#[test]
fn the_same_liker_counts_only_up_to_the_pair_limit_per_rolling_week() {
    let mut forum = with("[antigaming]\npair-likes-per-week = 3\n");
    let gains: Vec<i64> =
        [0, 2, 4, 6, 9].iter().enumerate().map(|(i, &d)| forum.like(like(i as u64, 1, Some(1), Some(2), d))).collect();
    assert_eq!(gains, [10, 10, 10, 0, 10], "day 9 sees days 3..=9: two likes (refused ones count too)");
}

#[test]
fn unknown_likers_are_exempt_from_liker_rules_and_not_lumped_together() {
    let mut forum = with("[antigaming]\npair-likes-per-day = 1\nyoung-liker-days = 30\n");
    let gained: i64 = (0..5).map(|i| forum.like(like(i, 1, Some(1), None, 0))).sum();
    assert_eq!(gained, 50);
    assert_eq!(forum.figure(1, 0, "distinct-likers"), 0.0, "an unknown liker is nobody in particular");
    assert_eq!(forum.figure(1, 0, "likes-received"), 5.0);
}

#[test]
fn likes_from_young_accounts_count_nothing_or_the_configured_percentage() {
    let young = |id| Like { liker_joined: Some(0), ..like(id, 1, Some(1), Some(20 + id), 3) };
    let mut nothing = with("[antigaming]\nyoung-liker-days = 7\n");
    assert_eq!(nothing.like(young(1)), 0);
    assert_eq!(nothing.like(Like { at: 8 * DAY_MS, ..young(2) }), 10, "a week old: counts in full");
    let mut half = with("[antigaming]\nyoung-liker-days = 7\nyoung-liker-percent = 50\n");
    assert_eq!(half.like(young(1)), 5);
}

#[test]
fn a_mutual_liking_pair_is_flagged_to_moderators_once_with_the_counts() {
    let mut forum = with("[antigaming]\nmutual-likes-flag = 3\n");
    for i in 0..10 {
        forum.like(like(2 * i, 100 + i, Some(1), Some(2), i as i64));
        forum.like(like(2 * i + 1, 200 + i, Some(2), Some(1), i as i64));
    }
    let notices: Vec<&Effect> = forum.effects.iter().filter(|e| matches!(e, Effect::NotifyModerators { .. })).collect();
    assert_eq!(notices.len(), 1, "once per pair, not every like");
    let Effect::NotifyModerators { topic, message, .. } = notices[0] else { unreachable!() };
    assert_eq!(topic, "mutual-likes");
    assert!(message.contains("3 times"), "{message}");
}

#[test]
fn an_unlike_refunds_exactly_the_partial_credit_its_like_got_and_a_second_unlike_nothing() {
    let mut forum = with("[caps]\nlikes-received-per-day = 15\n");
    forum.like(like(1, 1, Some(1), Some(2), 10));
    let partial = like(2, 1, Some(1), Some(3), 10);
    assert_eq!(forum.like(partial.clone()), 5);
    assert_eq!(common::points_of(&forum.unlike(partial.clone()), 1), -5);
    assert!(forum.unlike(partial).is_empty(), "a second removal refunds nothing");
    assert_eq!(forum.points_of(1), 10);
}

#[test]
fn an_unlike_refunds_what_the_like_gave_whatever_happened_in_between() {
    let mut forum = with("[points]\nlike-given = 1\n[caps]\nlikes-received-per-day = 30\n");
    let first = like(1, 1, Some(1), Some(2), 0);
    forum.like(first.clone());
    for i in 2..6 {
        forum.like(like(i, 1, Some(1), Some(10 + i), 0));
    }
    forum.like(like(7, 1, Some(1), Some(2), 4));
    let refund = forum.unlike(Like { post_author: Some(99), at: 9 * DAY_MS, ..first });
    assert_eq!(common::totals(&refund), [(1, -10), (2, -1)].into(), "the stored record decides, not the event");
}

#[test]
fn a_same_day_unlike_frees_its_room_under_the_cap() {
    let mut forum = with("[caps]\nlikes-received-per-day = 20\n");
    forum.like(like(1, 1, Some(1), Some(2), 0));
    let second = like(2, 1, Some(1), Some(3), 0);
    forum.like(second.clone());
    forum.unlike(second);
    assert_eq!(forum.like(like(3, 1, Some(1), Some(4), 0)), 10, "as if the removed like never happened");
}

#[test]
fn an_unaccept_takes_back_exactly_what_the_accept_gave_to_both_and_only_once() {
    let mut forum = with("");
    let a = accept(1, Some(1), Some(2), 0);
    forum.send(Event::AnswerAccepted(a.clone()));
    forum.send(Event::AnswerAccepted(a.clone()));
    assert_eq!(forum.points(), [(1, 15), (2, 2)].into(), "a repeated accept counts once");
    let refund = forum.send(Event::AnswerUnaccepted(Accept { asker: None, ..a.clone() }));
    assert_eq!(common::totals(&refund), [(1, -15), (2, -2)].into(), "the asker's points too");
    assert!(forum.send(Event::AnswerUnaccepted(a)).is_empty());
    assert_eq!(forum.figure(1, 0, "accepted-answers"), 0.0);
}

#[test]
fn a_community_wiki_earns_its_author_nothing_from_likes_or_accepts_but_the_asker_keeps_theirs() {
    let mut forum = with("");
    assert_eq!(forum.like(Like { post_wiki: true, ..like(1, 1, Some(1), Some(2), 0) }), 0);
    forum.send(Event::AnswerAccepted(Accept { answer_wiki: true, ..accept(1, Some(1), Some(3), 0) }));
    assert_eq!(forum.points(), [(3, 2)].into());
    assert_eq!(forum.figure(1, 0, "accepted-answers"), 0.0);
}
