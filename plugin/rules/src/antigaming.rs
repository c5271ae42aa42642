//! Anti-gaming rules that need to know who liked whom: per-pair limits (per UTC day and per rolling 7 days),
//! young accounts, and mutual-liking pairs flagged to moderators.
//!
//! Self-likes and self-accepts are handled where points are computed (`scoring`): they need no state. Unknown
//! likers (imported history) never reach this module, so they are neither limited nor lumped together as one
//! person.
//!
//! Store layout: `pair/<liker>/<author>` = `[current likes, flagged, newest day, likes on each of the last 7 days]`.
//! The current-likes count also gives the author's distinct likers and top liker (see `state`). A pair's counts go
//! down again when a like is removed, so a like and its removal leave the pair as if neither happened.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::AntiGaming;
use crate::kv::{Kv, codec};
use crate::model::{DAY_MS, Effect, MemberId, Timestamp};

const WEEK: i64 = 7;

#[derive(Default)]
struct Pair {
    current: i64,
    flagged: i64,
    newest: i64,
    days: [i64; WEEK as usize],
}

impl Pair {
    fn key(liker: MemberId, author: MemberId) -> String {
        format!("pair/{liker}/{author}")
    }

    fn load(kv: &mut dyn Kv, liker: MemberId, author: MemberId) -> Pair {
        let f = codec::decode::<10>(kv.get(&Pair::key(liker, author)).as_deref());
        let mut days = [0; WEEK as usize];
        days.copy_from_slice(&f[3..]);
        Pair { current: f[0], flagged: f[1], newest: f[2], days }
    }

    fn store(&self, kv: &mut dyn Kv, liker: MemberId, author: MemberId) {
        if self.current == 0 && self.flagged == 0 && self.days.iter().all(|&d| d == 0) {
            kv.delete(&Pair::key(liker, author));
            return;
        }
        let mut f = Vec::with_capacity(10);
        f.extend_from_slice(&[self.current, self.flagged, self.newest]);
        f.extend_from_slice(&self.days);
        kv.set(&Pair::key(liker, author), &codec::encode(&f));
    }

    /// Move the window forward to `day` (clearing the days that fell out).
    fn advance(&mut self, day: i64) {
        if day > self.newest {
            let first = (self.newest + 1).max(day - WEEK + 1);
            for d in first..=day {
                self.days[d.rem_euclid(WEEK) as usize] = 0;
            }
            self.newest = day;
        }
    }

    fn in_window(&self, day: i64) -> bool {
        day <= self.newest && day > self.newest - WEEK
    }

    /// Likes on the 7 days ending on `day`, as far as the window holds them.
    fn week(&self, day: i64) -> i64 {
        (day - WEEK + 1..=day).filter(|&d| self.in_window(d)).map(|d| self.days[d.rem_euclid(WEEK) as usize]).sum()
    }
}

/// Which per-pair limit a like went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairLimit {
    /// `antigaming.pair-likes-per-day`.
    Day,
    /// `antigaming.pair-likes-per-week` (rolling 7 days).
    Week,
}

/// What the liker rules decided about one like from a known liker to a known author (not a self-like).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Over a per-pair limit (which one): the like earns nothing.
    pub over_pair_limit: Option<PairLimit>,
    /// The percentage of its points the like still gives (100, or less for a young account).
    pub percent: i64,
    /// The liker's current likes on the author's posts before this one.
    pub before: i64,
}

/// A known liker liked a known author's post: count it, and decide how much it may earn.
#[allow(clippy::too_many_arguments)]
pub fn like_added(
    rules: &AntiGaming,
    kv: &mut dyn Kv,
    liker: MemberId,
    author: MemberId,
    at: Timestamp,
    liker_joined: Option<Timestamp>,
    effects: &mut Vec<Effect>,
) -> Verdict {
    let day = at.div_euclid(DAY_MS);
    let mut pair = Pair::load(kv, liker, author);
    pair.advance(day);
    let today = if pair.in_window(day) { pair.days[day.rem_euclid(WEEK) as usize] } else { 0 };
    let over_day = rules.pair_likes_per_day > 0 && today >= rules.pair_likes_per_day;
    let over_week = rules.pair_likes_per_week > 0 && pair.week(day) >= rules.pair_likes_per_week;
    if pair.in_window(day) {
        pair.days[day.rem_euclid(WEEK) as usize] += 1;
    }
    let before = pair.current;
    pair.current += 1;

    let young =
        rules.young_liker_days > 0 && liker_joined.is_some_and(|joined| at - joined < rules.young_liker_days * DAY_MS);
    let percent = if young { rules.young_liker_percent } else { 100 };

    let threshold = rules.mutual_likes_flag;
    if threshold > 0 && pair.flagged == 0 && pair.current >= threshold {
        let mut reverse = Pair::load(kv, author, liker);
        if reverse.current >= threshold {
            pair.flagged = 1;
            reverse.flagged = 1;
            reverse.store(kv, author, liker);
            flag_mutual(kv, liker, author, pair.current, reverse.current, effects);
        }
    }
    pair.store(kv, liker, author);
    let over_pair_limit = if over_day {
        Some(PairLimit::Day)
    } else if over_week {
        Some(PairLimit::Week)
    } else {
        None
    };
    Verdict { over_pair_limit, percent, before }
}

/// A like from a known liker to a known author, cast on `day`, was removed: uncount it. Returns the liker's
/// current likes on the author's posts before the removal.
pub fn like_removed(kv: &mut dyn Kv, liker: MemberId, author: MemberId, day: i64) -> i64 {
    let mut pair = Pair::load(kv, liker, author);
    let before = pair.current;
    if pair.in_window(day) {
        let slot = &mut pair.days[day.rem_euclid(WEEK) as usize];
        *slot = (*slot - 1).max(0);
    }
    pair.current = (pair.current - 1).max(0);
    pair.store(kv, liker, author);
    before
}

/// Tell moderators about a mutual-liking pair (once per pair), and keep the flag on both members' records for the
/// evidence of any later nomination.
fn flag_mutual(kv: &mut dyn Kv, a: MemberId, b: MemberId, a_to_b: i64, b_to_a: i64, effects: &mut Vec<Effect>) {
    for (member, other, given, received) in [(a, b, a_to_b, b_to_a), (b, a, b_to_a, a_to_b)] {
        let line = format!("mutual likes with member {other}: gave {given}, received {received}");
        add_flag(kv, member, &line);
    }
    effects.push(Effect::NotifyModerators {
        member: Some(b),
        topic: "mutual-likes".into(),
        message: format!(
            "Members {a} and {b} like each other's posts a lot: {a} → {b} {a_to_b} times, {b} → {a} {b_to_a} times. \
             This may be a like ring; their likes still count within the per-pair limits."
        ),
    });
}

/// Append a gaming flag (one line) to a member's record.
pub fn add_flag(kv: &mut dyn Kv, member: MemberId, line: &str) {
    let key = format!("m/{member}/flags");
    let mut flags = kv.get(&key).unwrap_or_default();
    // Keep the record bounded: evidence is capped at 16 KiB by the host.
    if flags.len() + line.len() < 4096 {
        if !flags.is_empty() {
            flags.push(b'\n');
        }
        flags.extend_from_slice(line.as_bytes());
        kv.set(&key, &flags);
    }
}

/// The gaming flags raised against a member.
pub fn flags(kv: &mut dyn Kv, member: MemberId) -> Vec<String> {
    let bytes = kv.get(&format!("m/{member}/flags")).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes);
    text.split('\n').filter(|l| !l.is_empty()).map(String::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::MemoryKv;

    fn rules() -> AntiGaming {
        AntiGaming {
            pair_likes_per_day: 2,
            pair_likes_per_week: 3,
            young_liker_days: 7,
            young_liker_percent: 50,
            mutual_likes_flag: 2,
        }
    }

    #[test]
    fn the_pair_limit_per_day_stops_the_third_like_of_the_day() {
        let (mut kv, mut fx) = (MemoryKv::default(), Vec::new());
        let v: Vec<bool> =
            (0..3).map(|_| like_added(&rules(), &mut kv, 1, 2, 5, None, &mut fx).over_pair_limit.is_some()).collect();
        assert_eq!(v, [false, false, true]);
    }

    #[test]
    fn the_pair_limit_per_week_rolls_over_seven_days() {
        let (mut kv, mut fx) = (MemoryKv::default(), Vec::new());
        let at = |day: i64| day * DAY_MS;
        let v: Vec<bool> = [0, 1, 2, 3, 9]
            .iter()
            .map(|&d| like_added(&rules(), &mut kv, 1, 2, at(d), None, &mut fx).over_pair_limit.is_some())
            .collect();
        assert_eq!(v, [false, false, false, true, false], "day 9 sees only day 3 (refused likes count too)");
    }

    #[test]
    fn young_accounts_give_the_configured_percentage() {
        let (mut kv, mut fx) = (MemoryKv::default(), Vec::new());
        assert_eq!(like_added(&rules(), &mut kv, 1, 2, 3 * DAY_MS, Some(0), &mut fx).percent, 50);
        assert_eq!(like_added(&rules(), &mut kv, 3, 2, 8 * DAY_MS, Some(0), &mut fx).percent, 100);
    }

    #[test]
    fn a_mutual_pair_is_flagged_once_with_both_counts() {
        let (mut kv, mut fx) = (MemoryKv::default(), Vec::new());
        for day in 0..3 {
            like_added(&rules(), &mut kv, 1, 2, day * DAY_MS, None, &mut fx);
            like_added(&rules(), &mut kv, 2, 1, day * DAY_MS, None, &mut fx);
        }
        assert_eq!(fx.len(), 1, "{fx:?}");
        assert_eq!(flags(&mut kv, 1), ["mutual likes with member 2: gave 2, received 2"]);
    }

    #[test]
    fn a_removed_like_frees_its_place_in_the_pair_limit() {
        let (mut kv, mut fx) = (MemoryKv::default(), Vec::new());
        like_added(&rules(), &mut kv, 1, 2, 5, None, &mut fx);
        like_added(&rules(), &mut kv, 1, 2, 5, None, &mut fx);
        assert_eq!(like_removed(&mut kv, 1, 2, 0), 2);
        assert!(like_added(&rules(), &mut kv, 1, 2, 5, None, &mut fx).over_pair_limit.is_none());
    }
}
