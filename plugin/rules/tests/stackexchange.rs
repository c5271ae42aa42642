//! The `stackexchange` preset, one small hand-made event stream per rule of `PRESET.md`.

mod common;

use cadre_rules::model::{Accept, Event, PostKind};
use cadre_rules::presets::STACKEXCHANGE;
use common::{Forum, accept, like, liked};

/// An imported upvote: unknown liker.
fn upvote(id: u64, kind: PostKind, author: Option<u64>, day: i64) -> cadre_rules::model::Like {
    cadre_rules::model::Like { post_kind: kind, ..like(id, 500 + id, author, None, day) }
}

#[test]
fn rule_1_an_upvote_gives_ten_on_answers_and_questions_and_five_when_configured() {
    let mut forum = Forum::new(STACKEXCHANGE);
    assert_eq!(forum.like(upvote(1, PostKind::Answer, Some(7), 0)), 10);
    assert_eq!(forum.like(upvote(2, PostKind::Question, Some(7), 0)), 10);
    let mut old = Forum::new(&STACKEXCHANGE.replace("question-liked = 10", "question-liked = 5"));
    assert_eq!(old.like(upvote(2, PostKind::Question, Some(7), 0)), 5);
}

#[test]
fn rule_2_the_upvote_that_crosses_200_a_day_gets_partial_credit_and_later_ones_nothing() {
    let mut forum = Forum::new(&STACKEXCHANGE.replace("question-liked = 10", "question-liked = 5"));
    for id in 0..19 {
        assert_eq!(forum.like(upvote(id, PostKind::Answer, Some(7), 3)), 10);
    }
    assert_eq!(forum.like(upvote(19, PostKind::Question, Some(7), 3)), 5, "190 + 5");
    assert_eq!(forum.like(upvote(20, PostKind::Answer, Some(7), 3)), 5, "partial: only 5 of 10 fit");
    assert_eq!(forum.like(upvote(21, PostKind::Answer, Some(7), 3)), 0);
    assert_eq!(forum.like(upvote(22, PostKind::Answer, Some(7), 4)), 10, "a new UTC day");
    assert_eq!(forum.points_of(7), 210);
}

#[test]
fn rule_2_unknown_likers_are_not_one_person_so_only_the_cap_limits_them() {
    let mut forum = Forum::new(STACKEXCHANGE);
    let gained: i64 = (0..20).map(|id| forum.like(upvote(id, PostKind::Answer, Some(7), 0))).sum();
    assert_eq!(gained, 200);
}

#[test]
fn rule_3_an_accept_gives_fifteen_and_two_outside_the_cap() {
    let mut forum = Forum::new(STACKEXCHANGE);
    for id in 0..25 {
        forum.like(upvote(id, PostKind::Answer, Some(7), 0));
    }
    forum.send(Event::AnswerAccepted(accept(1, Some(7), Some(8), 0)));
    assert_eq!(forum.points_of(7), 215);
    assert_eq!(forum.points_of(8), 2);
}

#[test]
fn rule_3_a_self_accept_gives_nothing_at_all() {
    let mut forum = Forum::new(STACKEXCHANGE);
    let effects = forum.send(Event::AnswerAccepted(accept(1, Some(7), Some(7), 0)));
    assert!(common::totals(&effects).is_empty(), "{effects:?}");
    assert!(
        effects.iter().all(|e| matches!(e, cadre_rules::model::Effect::AwardPoints { delta: 0, .. })),
        "only ledger lines of 0 saying why"
    );
    assert_eq!(forum.points_of(7), 0);
}

#[test]
fn rule_3_the_asker_still_gets_two_when_the_answers_owner_is_missing() {
    let mut forum = Forum::new(STACKEXCHANGE);
    forum.send(Event::AnswerAccepted(accept(1, None, Some(8), 0)));
    assert_eq!(forum.points(), [(8, 2)].into());
}

#[test]
fn rule_3_the_answerer_still_gets_fifteen_when_the_asker_is_missing() {
    let mut forum = Forum::new(STACKEXCHANGE);
    forum.send(Event::AnswerAccepted(accept(1, Some(7), None, 0)));
    assert_eq!(forum.points(), [(7, 15)].into());
}

#[test]
fn a_post_without_an_owner_earns_nothing() {
    let mut forum = Forum::new(STACKEXCHANGE);
    forum.send(Event::LikeAdded(upvote(1, PostKind::Answer, None, 0)));
    assert!(forum.points().is_empty());
}

#[test]
fn rule_4_votes_on_a_community_wiki_earn_its_owner_nothing_but_the_asker_keeps_two() {
    let mut forum = Forum::new(STACKEXCHANGE);
    let mut wiki_like = upvote(1, PostKind::Answer, Some(7), 0);
    wiki_like.post_wiki = true;
    assert_eq!(forum.like(wiki_like), 0);
    forum.send(Event::AnswerAccepted(Accept { answer_wiki: true, ..accept(1, Some(7), Some(8), 0) }));
    assert_eq!(forum.points(), [(8, 2)].into());
}

#[test]
fn rule_4_a_wiki_upvote_does_not_use_up_the_owners_daily_cap() {
    let mut forum = Forum::new(STACKEXCHANGE);
    for id in 0..5 {
        let mut wiki_like = upvote(id, PostKind::Answer, Some(7), 0);
        wiki_like.post_wiki = true;
        forum.like(wiki_like);
    }
    let gained: i64 = (10..30).map(|id| forum.like(upvote(id, PostKind::Answer, Some(7), 0))).sum();
    assert_eq!(gained, 200);
}

#[test]
fn rule_5_nothing_else_gives_points_posting_giving_likes_or_being_active() {
    let mut forum = Forum::new(STACKEXCHANGE);
    forum.send(common::post(1, PostKind::Question, 7, 0));
    forum.send(Event::LikeAdded(liked(PostKind::Reply, 1, 8, 7, 0)));
    assert!(forum.points().is_empty(), "{:?}", forum.effects);
}

#[test]
fn a_member_with_ten_thousand_accepted_answers_keeps_earning_and_no_stored_value_outgrows_the_hosts_limit() {
    // The largest Stack Exchange sites have members with tens of thousands of accepted answers; every value the
    // program stores must stay under the host's 64 KiB limit, or the host refuses the write and the member's events
    // stop.
    let mut forum = Forum::new(STACKEXCHANGE);
    for answer in 0..10_000 {
        forum.send(Event::AnswerAccepted(accept(answer, Some(7), Some(8 + answer % 50), (answer / 100) as i64)));
    }
    assert_eq!(forum.points_of(7), 150_000);
    let largest = forum.kv.entries.iter().map(|(key, value)| (value.len(), key.clone())).max().unwrap();
    assert!(largest.0 <= 64 * 1024, "{} holds {} bytes", largest.1, largest.0);
}
