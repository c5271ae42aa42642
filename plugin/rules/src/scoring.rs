//! Points for likes with a daily cap and exact refunds, and the badge ladder.
//!
//! State layout in the store (all values are `codec` integer records):
//! - `m/<member>/totals` — points, points withheld by caps, likes received;
//! - `m/<member>/day` — the UTC day of the last capped award and the like points earned that day;
//! - `like/<id>` — the member credited for a like and the exact points it gave (what its removal refunds);
//! - `m/<member>/badge/<id>` — present once the badge was granted (badges are granted once).

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use crate::config::Config;
use crate::kv::{Kv, codec};
use crate::model::{Effect, Like, MemberId, PostKind, day_of};

/// A member's running totals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Points.
    pub points: i64,
    /// Points withheld by the daily cap.
    pub withheld: i64,
    /// Likes received (net of removals).
    pub likes: i64,
}

impl Totals {
    fn key(member: MemberId) -> alloc::string::String {
        format!("m/{member}/totals")
    }

    /// Read a member's totals (zero when absent).
    pub fn load(kv: &mut dyn Kv, member: MemberId) -> Totals {
        let [points, withheld, likes] = codec::decode::<3>(kv.get(&Totals::key(member)).as_deref());
        Totals { points, withheld, likes }
    }

    fn store(&self, kv: &mut dyn Kv, member: MemberId) {
        kv.set(&Totals::key(member), &codec::encode(&[self.points, self.withheld, self.likes]));
    }
}

/// Members touched by this call, so that badges are checked only for them.
const TOUCHED: &str = "call/touched";

fn touch(kv: &mut dyn Kv, member: MemberId) {
    let mut touched = kv.get(TOUCHED).unwrap_or_default();
    touched.extend_from_slice(&member.to_le_bytes());
    kv.set(TOUCHED, &touched);
}

/// A like was added: credit the post's author, within the daily cap.
pub fn like_added(config: &Config, kv: &mut dyn Kv, like: &Like, effects: &mut Vec<Effect>) {
    let Some(author) = like.post_author else { return };
    let (rule, full) = match like.post_kind {
        PostKind::Answer => ("answer-liked", config.points.answer_liked),
        PostKind::Question => ("question-liked", config.points.question_liked),
        PostKind::Reply => ("reply-liked", config.points.reply_liked),
    };
    if like.liker == Some(author) || like.post_wiki {
        kv.set(&format!("like/{}", like.like), &codec::encode(&[author as i64, 0]));
        return;
    }
    let day = day_of(like.at);
    let day_key = format!("m/{author}/day");
    let [last_day, earned] = codec::decode::<2>(kv.get(&day_key).as_deref());
    let earned_today = if last_day == day { earned } else { 0 };
    let cap = config.caps.likes_received_per_day;
    let given = if cap == 0 { full } else { full.min((cap - earned_today).max(0)) };
    kv.set(&day_key, &codec::encode(&[day, earned_today + given]));
    kv.set(&format!("like/{}", like.like), &codec::encode(&[author as i64, given]));

    let mut totals = Totals::load(kv, author);
    totals.points += given;
    totals.withheld += full - given;
    totals.likes += 1;
    totals.store(kv, author);
    touch(kv, author);
    if given > 0 {
        let capped =
            if given < full { format!(" (daily cap: {given} of {full})") } else { alloc::string::String::new() };
        effects.push(Effect::AwardPoints {
            member: author,
            delta: given,
            rule: rule.to_string(),
            reason: format!("like {} on post {}{capped}", like.like, like.post),
        });
    }
}

/// A like was removed: take back exactly what it gave.
pub fn like_removed(kv: &mut dyn Kv, like: &Like, effects: &mut Vec<Effect>) {
    let key = format!("like/{}", like.like);
    let Some(record) = kv.get(&key) else { return };
    kv.delete(&key);
    let [author, given] = codec::decode::<2>(Some(&record));
    let author = author as MemberId;
    let mut totals = Totals::load(kv, author);
    totals.points -= given;
    totals.likes -= 1;
    totals.store(kv, author);
    if given > 0 {
        effects.push(Effect::AwardPoints {
            member: author,
            delta: -given,
            rule: "refund".to_string(),
            reason: format!("like {} on post {} removed", like.like, like.post),
        });
    }
}

/// Grant every badge whose criteria the touched members now meet (once each).
pub fn check_badges(config: &Config, kv: &mut dyn Kv, effects: &mut Vec<Effect>) {
    let Some(touched) = kv.get(TOUCHED) else { return };
    kv.delete(TOUCHED);
    for chunk in touched.chunks_exact(8) {
        let mut buf = [0u8; 8];
        buf.copy_from_slice(chunk);
        let member = MemberId::from_le_bytes(buf);
        let totals = Totals::load(kv, member);
        for rule in &config.badges {
            let key = format!("m/{member}/badge/{}", rule.badge.id);
            let met = rule.when.points.is_none_or(|min| totals.points >= min);
            if met && kv.get(&key).is_none() {
                kv.set(&key, &[1]);
                effects.push(Effect::GrantBadge {
                    member,
                    badge: rule.badge.id.clone(),
                    reason: format!("{} reached {} points", crate::program::member_label(member), totals.points),
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Program;
    use crate::kv::MemoryKv;
    use crate::model::Event;

    fn like(id: u64, author: MemberId, liker: MemberId, day: i64) -> Like {
        Like {
            like: id,
            post: 100 + id,
            post_kind: PostKind::Answer,
            post_author: Some(author),
            post_wiki: false,
            liker: Some(liker),
            liker_joined: None,
            at: day * crate::model::DAY_MS + 1000,
        }
    }

    fn points(effects: &[Effect]) -> i64 {
        effects.iter().map(|e| if let Effect::AwardPoints { delta, .. } = e { *delta } else { 0 }).sum()
    }

    #[test]
    fn the_like_that_crosses_the_cap_gets_partial_credit_and_the_next_day_starts_fresh() {
        let program = Program::configure("[points]\nanswer-liked = 15\n[caps]\nlikes-received-per-day = 40\n").unwrap();
        let mut kv = MemoryKv::default();
        let gains: Vec<i64> =
            (0..4).map(|i| points(&program.handle(&mut kv, &Event::LikeAdded(like(i, 1, 2 + i, 10))))).collect();
        assert_eq!(gains, [15, 15, 10, 0]);
        assert_eq!(points(&program.handle(&mut kv, &Event::LikeAdded(like(9, 1, 3, 11)))), 15);
    }

    #[test]
    fn unlike_refunds_exactly_what_the_like_gave() {
        let program = Program::configure("[caps]\nlikes-received-per-day = 15\n").unwrap();
        let mut kv = MemoryKv::default();
        program.handle(&mut kv, &Event::LikeAdded(like(1, 1, 2, 10)));
        let partial = like(2, 1, 3, 10);
        assert_eq!(points(&program.handle(&mut kv, &Event::LikeAdded(partial.clone()))), 5);
        assert_eq!(points(&program.handle(&mut kv, &Event::LikeRemoved(partial.clone()))), -5);
        assert_eq!(
            points(&program.handle(&mut kv, &Event::LikeRemoved(partial))),
            0,
            "a second removal refunds nothing"
        );
        assert_eq!(Totals::load(&mut kv, 1).points, 10);
    }

    #[test]
    fn self_likes_give_nothing() {
        let program = Program::default();
        let mut kv = MemoryKv::default();
        assert!(program.handle(&mut kv, &Event::LikeAdded(like(1, 1, 1, 10))).is_empty());
    }

    #[test]
    fn a_badge_is_granted_once_when_its_threshold_is_reached() {
        let program = Program::default();
        let mut kv = MemoryKv::default();
        let mut grants = 0;
        for i in 0..30 {
            let effects = program.handle(&mut kv, &Event::LikeAdded(like(i, 1, 100 + i, i as i64)));
            grants += effects.iter().filter(|e| matches!(e, Effect::GrantBadge { .. })).count();
            if i == 9 {
                assert_eq!(grants, 1, "the 10th like reaches 100 points");
            }
        }
        assert_eq!(grants, 1);
    }
}
