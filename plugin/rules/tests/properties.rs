//! Property tests over random event streams: caps are never exceeded, a like and its removal leave points as if
//! neither happened, refunds are exact, the same stream gives the same effects, badges are granted at most once, and
//! no effect names a badge or tier the configuration does not declare.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use cadre_rules::model::{
    Accept, DAY_MS, Effect, Event, Like, ManualChange, MemberId, ModeratorAction, PostCreated, PostKind,
};
use cadre_rules::{MemoryKv, Program};
use common::totals;
use proptest::prelude::*;

/// Every rule switched on, with small limits so that random streams hit them.
const FULL: &str = r#"
[points]
like-given = 1
post-created = 1
[caps]
likes-received-per-day = 25
likes-given-per-day = 2
[antigaming]
pair-likes-per-day = 2
pair-likes-per-week = 4
young-liker-days = 3
young-liker-percent = 50
mutual-likes-flag = 3
[review]
renominate-after-days = 2

[[badges]]
id = "b1"
name = "B1"
level = "bronze"
description = "d"
ladder = "l"
when = { points = 20 }
[[badges]]
id = "b2"
name = "B2"
level = "silver"
description = "d"
ladder = "l"
can-be-lost = true
when = { points = 60, distinct-likers = 2 }
[[badges]]
id = "b3"
name = "B3"
level = "gold"
description = "d"
when = { badges = ["b2"], accepted-answers = 1 }

[[tiers]]
id = "auto"
name = "Auto"
description = "d"
mode = "auto"
when = { points = 40 }
[tiers.inactivity]
inactive-days = 3
grace-days = 2
[[tiers]]
id = "vetted"
name = "Vetted"
description = "d"
requires-tier = "auto"
when = { accepted-answers = 1, distinct-likers = 2 }
"#;

/// No caps and no pair limits: the rules whose outcome depends on other likes are off.
const NO_LIMITS: &str = "[points]\nlike-given = 1\npost-created = 1\n[caps]\nlikes-received-per-day = 0\nlikes-given-per-day = 0\n[antigaming]\npair-likes-per-day = 0\npair-likes-per-week = 0\nyoung-liker-days = 3\nyoung-liker-percent = 50\nmutual-likes-flag = 2\n";

const POSTS: u64 = 12;
const KINDS: [PostKind; 3] = [PostKind::Question, PostKind::Answer, PostKind::Reply];

fn author(post: u64) -> Option<MemberId> {
    (post != 11).then_some(post % 6 + 1)
}

#[derive(Debug, Clone)]
enum Op {
    Like { post: u64, liker: Option<MemberId>, young: bool },
    Unlike(usize),
    Accept(u64),
    Unaccept(u64),
    Post(MemberId, usize),
    Moderator(u8, MemberId, bool),
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..POSTS, proptest::option::weighted(0.8, 1..7u64), any::<bool>())
            .prop_map(|(post, liker, young)| Op::Like { post, liker, young }),
        2 => any::<usize>().prop_map(Op::Unlike),
        1 => (0..4u64).prop_map(|a| Op::Accept(3 * a + 1)),
        1 => (0..4u64).prop_map(|a| Op::Unaccept(3 * a + 1)),
        1 => (1..7u64, 0..3usize).prop_map(|(m, k)| Op::Post(m, k)),
        1 => (0..4u8, 1..7u64, any::<bool>()).prop_map(|(k, m, t)| Op::Moderator(k, m, t)),
        1 => Just(Op::Tick),
    ]
}

fn stream() -> impl Strategy<Value = Vec<(Op, i64)>> {
    let step = prop_oneof![8 => Just(0i64), 1 => Just(1), 1 => Just(4)];
    proptest::collection::vec((op(), step), 1..80)
}

fn like_event(id: u64, post: u64, liker: Option<MemberId>, young: bool, at: i64) -> Like {
    Like {
        like: id,
        post,
        post_kind: KINDS[(post % 3) as usize],
        post_author: author(post),
        post_wiki: post == 10,
        liker,
        liker_joined: Some(if young { at - DAY_MS } else { 0 }),
        at,
        post_category: Some(1),
    }
}

/// Turn ops into events with nondecreasing times (each op advances time by its step in days, plus a minute).
fn events(ops: &[(Op, i64)]) -> Vec<Event> {
    let mut at = 100 * DAY_MS;
    let mut likes: Vec<Like> = Vec::new();
    let mut out = Vec::new();
    for (op, step) in ops {
        at += step * DAY_MS + 60_000;
        let accept = |answer: u64| Accept {
            answer,
            answerer: author(answer),
            answer_wiki: answer == 10,
            question: answer - 1,
            asker: author(answer - 1),
            at,
        };
        out.push(match op {
            Op::Like { post, liker, young } => {
                let like = like_event(likes.len() as u64 + 1, *post, *liker, *young, at);
                likes.push(like.clone());
                Event::LikeAdded(like)
            }
            Op::Unlike(pick) if !likes.is_empty() => {
                Event::LikeRemoved(Like { at, ..likes[pick % likes.len()].clone() })
            }
            Op::Unlike(_) => Event::Tick(at),
            Op::Accept(answer) => Event::AnswerAccepted(accept(*answer)),
            Op::Unaccept(answer) => Event::AnswerUnaccepted(accept(*answer)),
            Op::Post(member, kind) => Event::PostCreated(PostCreated {
                post: 100 + out.len() as u64,
                kind: KINDS[*kind],
                author: Some(*member),
                parent: None,
                category: 1,
                at,
                author_joined: None,
                question_author: None,
            }),
            Op::Moderator(kind, member, tier) => {
                let change = ManualChange {
                    member: *member,
                    tier: if *tier { "auto" } else { "vetted" }.into(),
                    moderator: 99,
                    reason: "r".into(),
                    at,
                };
                Event::Moderator(match kind {
                    0 => ModeratorAction::MemberAdded(change),
                    1 => ModeratorAction::MemberRemoved(change),
                    2 => ModeratorAction::NominationApproved(change),
                    _ => ModeratorAction::NominationRejected(change),
                })
            }
            Op::Tick => Event::Tick(at),
        });
    }
    out
}

/// Each event's effects.
fn run(settings: &str, events: &[Event]) -> Vec<Vec<Effect>> {
    let program = Program::configure(settings).unwrap();
    let mut kv = MemoryKv::default();
    events.iter().map(|e| program.handle(&mut kv, e)).collect()
}

fn all(effects: &[Vec<Effect>]) -> Vec<Effect> {
    effects.iter().flatten().cloned().collect()
}

/// Insert a like (fresh id) before position `i` and its removal before position `j` (in the stream with the like).
fn with_like_and_unlike(
    events: &[Event],
    i: usize,
    j: usize,
    post: u64,
    liker: Option<MemberId>,
    young: bool,
) -> Vec<Event> {
    let at = |k: usize| events.get(k.min(events.len().saturating_sub(1))).map_or(0, time) - 1;
    let like = like_event(1_000_000, post, liker, young, at(i));
    let mut out = events.to_vec();
    out.insert(i, Event::LikeAdded(like.clone()));
    let j = j.clamp(i + 1, out.len());
    let removed_at = if j < out.len() { time(&out[j]) - 1 } else { time(&out[j - 1]) };
    out.insert(j, Event::LikeRemoved(Like { at: removed_at.max(like.at), ..like }));
    out
}

fn time(event: &Event) -> i64 {
    match event {
        Event::PostCreated(p) => p.at,
        Event::LikeAdded(l) | Event::LikeRemoved(l) => l.at,
        Event::AnswerAccepted(a) | Event::AnswerUnaccepted(a) => a.at,
        Event::Moderator(ModeratorAction::MemberAdded(c) | ModeratorAction::MemberRemoved(c)) => c.at,
        Event::Moderator(ModeratorAction::NominationApproved(c) | ModeratorAction::NominationRejected(c)) => c.at,
        Event::Tick(at) => *at,
        Event::External(e) => e.at,
    }
}

const LIKED: [&str; 3] = ["answer-liked", "question-liked", "reply-liked"];

proptest! {
    #[test]
    fn caps_are_never_exceeded_per_member_and_utc_day(ops in stream()) {
        let events = events(&ops);
        let effects = run(FULL, &events);
        // (member, day of the like) → net points from likes received / given; refunds count on the like's day.
        let mut received: BTreeMap<(MemberId, i64), i64> = BTreeMap::new();
        let mut given: BTreeMap<(MemberId, i64), i64> = BTreeMap::new();
        let mut first_seen: BTreeMap<u64, Like> = BTreeMap::new();
        for (event, out) in events.iter().zip(&effects) {
            let like = match event {
                Event::LikeAdded(l) => { first_seen.entry(l.like).or_insert_with(|| l.clone()); l }
                Event::LikeRemoved(l) => &first_seen[&l.like],
                _ => continue,
            };
            let day = like.at.div_euclid(DAY_MS);
            for effect in out {
                let Effect::AwardPoints { member, delta, rule, .. } = effect else { continue };
                if Some(*member) == like.liker && (rule == "like-given" || rule == "refund") {
                    *given.entry((*member, day)).or_default() += delta;
                } else if Some(*member) == like.post_author && (LIKED.contains(&rule.as_str()) || rule == "refund") {
                    *received.entry((*member, day)).or_default() += delta;
                } else {
                    prop_assert!(false, "unexpected award {effect:?} for {event:?}");
                }
            }
        }
        prop_assert!(received.values().all(|&p| (0..=25).contains(&p)), "{received:?}");
        prop_assert!(given.values().all(|&p| (0..=2).contains(&p)), "{given:?}");
    }

    #[test]
    fn a_like_and_its_later_removal_in_any_interleaving_leave_points_as_if_neither_happened(
        ops in stream(), i in any::<usize>(), j in any::<usize>(),
        post in 0..POSTS, liker in proptest::option::of(1..7u64), young in any::<bool>(),
    ) {
        let events = events(&ops);
        let i = i % (events.len() + 1);
        let j = i + 1 + j % (events.len() + 1 - i);
        let with = with_like_and_unlike(&events, i, j, post, liker, young);
        prop_assert_eq!(totals(&all(&run(NO_LIMITS, &with))), totals(&all(&run(NO_LIMITS, &events))));
    }

    #[test]
    fn with_caps_and_pair_limits_a_like_removed_at_once_leaves_points_as_if_neither_happened(
        ops in stream(), i in any::<usize>(), post in 0..POSTS, liker in proptest::option::of(1..7u64), young in any::<bool>(),
    ) {
        let events = events(&ops);
        let i = i % (events.len() + 1);
        let with = with_like_and_unlike(&events, i, i + 1, post, liker, young);
        prop_assert_eq!(totals(&all(&run(FULL, &with))), totals(&all(&run(FULL, &events))));
    }

    #[test]
    fn every_removal_refunds_exactly_what_its_like_or_accept_gave_and_only_once(ops in stream()) {
        let events = events(&ops);
        let effects = run(FULL, &events);
        let mut given: BTreeMap<(bool, u64), BTreeMap<MemberId, i64>> = BTreeMap::new();
        for (event, out) in events.iter().zip(&effects) {
            let awards = totals(out);
            match event {
                Event::LikeAdded(l) => { given.insert((true, l.like), awards); }
                Event::AnswerAccepted(a) => { given.entry((false, a.answer)).or_insert(awards); }
                Event::LikeRemoved(l) => {
                    let expected: BTreeMap<MemberId, i64> = given.remove(&(true, l.like)).unwrap_or_default()
                        .into_iter().map(|(m, p)| (m, -p)).collect();
                    prop_assert_eq!(awards, expected);
                }
                Event::AnswerUnaccepted(a) => {
                    let expected: BTreeMap<MemberId, i64> = given.remove(&(false, a.answer)).unwrap_or_default()
                        .into_iter().map(|(m, p)| (m, -p)).collect();
                    prop_assert_eq!(awards, expected);
                }
                _ => {}
            }
        }
    }

    #[test]
    fn the_same_stream_always_gives_the_same_effects(ops in stream()) {
        let events = events(&ops);
        prop_assert_eq!(run(FULL, &events), run(FULL, &events));
    }

    #[test]
    fn badges_are_granted_at_most_once_and_effects_name_only_declared_badges_and_tiers(ops in stream()) {
        let events = events(&ops);
        let declaration = Program::configure(FULL).unwrap().declaration();
        let badges: BTreeSet<&str> = declaration.badges.iter().map(|b| b.id.as_str()).collect();
        let tiers: BTreeSet<&str> = declaration.tiers.iter().map(|t| t.id.as_str()).collect();
        let mut held: BTreeSet<(MemberId, String)> = BTreeSet::new();
        for effect in all(&run(FULL, &events)) {
            match &effect {
                Effect::GrantBadge { member, badge, .. } => {
                    prop_assert!(badges.contains(badge.as_str()), "{effect:?}");
                    prop_assert!(held.insert((*member, badge.clone())), "granted twice: {effect:?}");
                }
                Effect::RevokeBadge { member, badge, .. } => {
                    prop_assert_eq!(badge.as_str(), "b2", "only b2 can be lost");
                    prop_assert!(held.remove(&(*member, badge.clone())), "revoked without a grant: {effect:?}");
                }
                Effect::GrantAccess { tier, .. } | Effect::RevokeAccess { tier, .. } | Effect::Nominate { tier, .. } => {
                    prop_assert!(tiers.contains(tier.as_str()), "{effect:?}");
                }
                Effect::AwardPoints { .. } | Effect::NotifyModerators { .. } => {}
            }
        }
    }
}
