//! Per-member state in the store, and the per-event cache that loads each member once and writes it back once.
//!
//! Store layout (values are `codec` integer records unless noted):
//! - `m/<member>` — [`MemberState`]: points by kind, points lost, counts, today's cap counters, recent activity;
//! - `m/<member>/ring` — points per UTC day for the last [`RING_DAYS`] days (the record's trend);
//! - `m/<member>/h/<n>` — how many likers have exactly `n` current likes on the member's posts, so the top liker's
//!   count stays exact when likes are removed (without scanning every liker);
//! - `m/<member>/acc` — the member's accepted answers (packed `u64`s), for the evidence's best answers;
//! - `m/<member>/flags` — gaming flags raised against the member (UTF-8 lines);
//! - other keys are owned by `scoring`, `antigaming`, `badges` and `tiers`.
//!
//! Everything a hook needs about a member is in one record so that a like costs a handful of store calls.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::kv::{Kv, codec};
use crate::model::MemberId;

/// How points are grouped in a member's record, and the `rule` key of their awards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Likes on answers.
    AnswerLiked,
    /// Likes on questions.
    QuestionLiked,
    /// Likes on replies.
    ReplyLiked,
    /// Answers accepted (to the answerer).
    AnswerAccepted,
    /// Accepting an answer (to the asker).
    Accepting,
    /// Creating a post.
    PostCreated,
    /// Giving a like.
    LikeGiven,
    /// Being active on a day.
    ActiveDay,
}

impl Kind {
    /// Every kind, in record order.
    pub const ALL: [Kind; 8] = [
        Kind::AnswerLiked,
        Kind::QuestionLiked,
        Kind::ReplyLiked,
        Kind::AnswerAccepted,
        Kind::Accepting,
        Kind::PostCreated,
        Kind::LikeGiven,
        Kind::ActiveDay,
    ];

    /// The rule key of awards of this kind.
    pub fn key(self) -> &'static str {
        match self {
            Kind::AnswerLiked => "answer-liked",
            Kind::QuestionLiked => "question-liked",
            Kind::ReplyLiked => "reply-liked",
            Kind::AnswerAccepted => "answer-accepted",
            Kind::Accepting => "accepting",
            Kind::PostCreated => "post-created",
            Kind::LikeGiven => "like-given",
            Kind::ActiveDay => "active-day",
        }
    }

    /// A label for moderators.
    pub fn label(self) -> &'static str {
        match self {
            Kind::AnswerLiked => "Points from likes on answers",
            Kind::QuestionLiked => "Points from likes on questions",
            Kind::ReplyLiked => "Points from likes on replies",
            Kind::AnswerAccepted => "Points from accepted answers",
            Kind::Accepting => "Points for accepting answers",
            Kind::PostCreated => "Points for posting",
            Kind::LikeGiven => "Points for giving likes",
            Kind::ActiveDay => "Points for active days",
        }
    }

    /// Index into [`MemberState::by_kind`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The kind stored in a record as an integer.
    pub fn from_index(index: i64) -> Kind {
        Kind::ALL.get(index as usize).copied().unwrap_or(Kind::AnswerLiked)
    }
}

/// Everything the program keeps about one member, in one record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemberState {
    /// Total points.
    pub points: i64,
    /// Points by [`Kind`].
    pub by_kind: [i64; 8],
    /// Points withheld by daily caps.
    pub lost_caps: i64,
    /// Points withheld by anti-gaming rules (self-likes, pair limits, young likers, self-accepts).
    pub lost_gaming: i64,
    /// Accepted answers that count (not self-accepted, not community wiki).
    pub accepted_answers: i64,
    /// Known members with at least one current like on the member's posts.
    pub distinct_likers: i64,
    /// Current likes from the member's most frequent liker.
    pub top_liker_likes: i64,
    /// Current likes from known likers.
    pub known_likes: i64,
    /// Current likes received (known and unknown likers).
    pub likes_received: i64,
    /// Current likes given.
    pub likes_given: i64,
    /// Posts created.
    pub posts: i64,
    /// Distinct UTC days with activity, ever.
    pub days_active: i64,
    /// The UTC day the cap counters below belong to.
    pub cap_day: i64,
    /// Capped points received on `cap_day`.
    pub received_today: i64,
    /// Capped points for giving on `cap_day`.
    pub given_today: i64,
    /// Last active UTC day + 1 (0 = never active).
    pub last_active: i64,
    /// Activity bitmap: bit `i` = active on day `last_active - 1 - i` (128 days).
    pub active_bits: u128,
}

const FIELDS: usize = 25;

impl MemberState {
    fn key(member: MemberId) -> String {
        format!("m/{member}")
    }

    /// Read a member's state (all zero when absent).
    pub fn load(kv: &mut dyn Kv, member: MemberId) -> MemberState {
        let f = codec::decode::<FIELDS>(kv.get(&MemberState::key(member)).as_deref());
        let mut by_kind = [0; 8];
        by_kind.copy_from_slice(&f[1..9]);
        MemberState {
            points: f[0],
            by_kind,
            lost_caps: f[9],
            lost_gaming: f[10],
            accepted_answers: f[11],
            distinct_likers: f[12],
            top_liker_likes: f[13],
            known_likes: f[14],
            likes_received: f[15],
            likes_given: f[16],
            posts: f[17],
            days_active: f[18],
            cap_day: f[19],
            received_today: f[20],
            given_today: f[21],
            last_active: f[22],
            active_bits: (f[23] as u64 as u128) | ((f[24] as u64 as u128) << 64),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut f = Vec::with_capacity(FIELDS + 1);
        f.push(self.points);
        f.extend_from_slice(&self.by_kind);
        f.extend_from_slice(&[
            self.lost_caps,
            self.lost_gaming,
            self.accepted_answers,
            self.distinct_likers,
            self.top_liker_likes,
            self.known_likes,
            self.likes_received,
            self.likes_given,
            self.posts,
            self.days_active,
            self.cap_day,
            self.received_today,
            self.given_today,
            self.last_active,
            self.active_bits as u64 as i64,
            (self.active_bits >> 64) as u64 as i64,
        ]);
        codec::encode(&f)
    }

    /// Record activity on `day`; true when it is the member's first activity that day.
    pub fn mark_active(&mut self, day: i64) -> bool {
        if self.last_active == 0 || day >= self.last_active {
            let last = self.last_active - 1;
            if self.last_active != 0 && day == last {
                return false;
            }
            let shift = if self.last_active == 0 { 128 } else { day - last };
            self.active_bits = if shift >= 128 { 0 } else { self.active_bits << shift };
            self.active_bits |= 1;
            self.last_active = day + 1;
            self.days_active += 1;
            return true;
        }
        // An event older than the last activity (the host delivers in order, so only within a day or on replays
        // of odd imports): set its bit if it is still in the window.
        let offset = self.last_active - 1 - day;
        if offset < 128 && self.active_bits & (1u128 << offset) == 0 {
            self.active_bits |= 1u128 << offset;
            self.days_active += 1;
            return true;
        }
        false
    }

    /// Days with activity among the `window` days ending on `today` (at most 128).
    pub fn days_active_within(&self, today: i64, window: i64) -> i64 {
        if self.last_active == 0 {
            return 0;
        }
        let offset = today - (self.last_active - 1);
        if offset < 0 {
            return self.active_bits.count_ones() as i64;
        }
        let keep = window - offset;
        if keep <= 0 {
            return 0;
        }
        let mask = if keep >= 128 { u128::MAX } else { (1u128 << keep) - 1 };
        (self.active_bits & mask).count_ones() as i64
    }
}

/// Days of per-day points kept for the trend (two 30-day windows).
pub const RING_DAYS: i64 = 60;

/// Points per UTC day over the last [`RING_DAYS`] days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ring {
    /// The newest day recorded.
    pub base: i64,
    /// Points per day, at `day mod RING_DAYS`.
    pub slots: [i64; RING_DAYS as usize],
}

impl Default for Ring {
    fn default() -> Ring {
        Ring { base: 0, slots: [0; RING_DAYS as usize] }
    }
}

impl Ring {
    fn key(member: MemberId) -> String {
        format!("m/{member}/ring")
    }

    /// Read a member's ring.
    pub fn load(kv: &mut dyn Kv, member: MemberId) -> Ring {
        let f = codec::decode::<{ RING_DAYS as usize + 1 }>(kv.get(&Ring::key(member)).as_deref());
        let mut slots = [0; RING_DAYS as usize];
        slots.copy_from_slice(&f[1..]);
        Ring { base: f[0], slots }
    }

    fn store(&self, kv: &mut dyn Kv, member: MemberId) {
        let mut f = Vec::with_capacity(RING_DAYS as usize + 1);
        f.push(self.base);
        f.extend_from_slice(&self.slots);
        kv.set(&Ring::key(member), &codec::encode(&f));
    }

    /// Add `delta` points on `day` (days older than the window are not kept).
    pub fn add(&mut self, day: i64, delta: i64) {
        if day > self.base {
            let first = (self.base + 1).max(day - RING_DAYS + 1);
            for d in first..=day {
                self.slots[d.rem_euclid(RING_DAYS) as usize] = 0;
            }
            self.base = day;
        }
        if day > self.base - RING_DAYS {
            self.slots[day.rem_euclid(RING_DAYS) as usize] += delta;
        }
    }

    /// Points on the days `from..=to`, as far as the window still holds them.
    pub fn sum(&self, from: i64, to: i64) -> i64 {
        let from = from.max(self.base - RING_DAYS + 1);
        let to = to.min(self.base);
        (from..=to).map(|d| self.slots[d.rem_euclid(RING_DAYS) as usize]).sum()
    }
}

struct Entry {
    state: MemberState,
    original: MemberState,
    ring: Option<(Ring, bool)>,
}

/// The members one event touches, each loaded once and written back once by [`Members::flush`]. The touched
/// members are also the ones whose badges and tiers are re-checked after the event.
#[derive(Default)]
pub struct Members {
    entries: BTreeMap<MemberId, Entry>,
}

impl Members {
    /// The state of `member`, loading it on first use.
    pub fn get(&mut self, kv: &mut dyn Kv, member: MemberId) -> &mut MemberState {
        &mut self.entry(kv, member).state
    }

    fn entry(&mut self, kv: &mut dyn Kv, member: MemberId) -> &mut Entry {
        self.entries.entry(member).or_insert_with(|| {
            let state = MemberState::load(kv, member);
            Entry { state, original: state, ring: None }
        })
    }

    /// Add `delta` points on `day` to the member's trend ring.
    pub fn add_to_ring(&mut self, kv: &mut dyn Kv, member: MemberId, day: i64, delta: i64) {
        let entry = self.entry(kv, member);
        let (ring, dirty) = entry.ring.get_or_insert_with(|| (Ring::load(kv, member), false));
        ring.add(day, delta);
        *dirty = true;
    }

    /// The touched members, in id order (so effects come out in a deterministic order).
    pub fn ids(&self) -> Vec<MemberId> {
        self.entries.keys().copied().collect()
    }

    /// Write back every changed record.
    pub fn flush(&mut self, kv: &mut dyn Kv) {
        for (member, entry) in &self.entries {
            if entry.state != entry.original {
                kv.set(&MemberState::key(*member), &entry.state.encode());
            }
            if let Some((ring, true)) = &entry.ring {
                ring.store(kv, *member);
            }
        }
    }
}

/// Likers with exactly `count` current likes on `author`'s posts (see the module header).
fn histogram_add(kv: &mut dyn Kv, author: MemberId, count: i64, delta: i64) {
    if count <= 0 {
        return;
    }
    let key = format!("m/{author}/h/{count}");
    let [n] = codec::decode::<1>(kv.get(&key).as_deref());
    if n + delta <= 0 { kv.delete(&key) } else { kv.set(&key, &codec::encode(&[n + delta])) }
}

fn histogram_get(kv: &mut dyn Kv, author: MemberId, count: i64) -> i64 {
    codec::decode::<1>(kv.get(&format!("m/{author}/h/{count}")).as_deref())[0]
}

/// A known liker's current likes on `author`'s posts went from `before` to `before + 1`.
pub fn liker_added(kv: &mut dyn Kv, state: &mut MemberState, author: MemberId, before: i64) {
    state.known_likes += 1;
    if before == 0 {
        state.distinct_likers += 1;
    }
    histogram_add(kv, author, before, -1);
    histogram_add(kv, author, before + 1, 1);
    state.top_liker_likes = state.top_liker_likes.max(before + 1);
}

/// A known liker's current likes on `author`'s posts went from `before` to `before - 1`.
pub fn liker_removed(kv: &mut dyn Kv, state: &mut MemberState, author: MemberId, before: i64) {
    if before <= 0 {
        return;
    }
    state.known_likes -= 1;
    if before == 1 {
        state.distinct_likers -= 1;
    }
    histogram_add(kv, author, before, -1);
    histogram_add(kv, author, before - 1, 1);
    if before == state.top_liker_likes && histogram_get(kv, author, before) == 0 {
        state.top_liker_likes = before - 1;
    }
}

/// Read a packed list of `u64`s.
pub fn load_ids(kv: &mut dyn Kv, key: &str) -> Vec<u64> {
    let bytes = kv.get(key).unwrap_or_default();
    bytes.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8]))).collect()
}

/// Write a packed list of `u64`s (deleting the key when empty).
pub fn store_ids(kv: &mut dyn Kv, key: &str, ids: &[u64]) {
    if ids.is_empty() {
        kv.delete(key);
    } else {
        let bytes: Vec<u8> = ids.iter().flat_map(|id| id.to_le_bytes()).collect();
        kv.set(key, &bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::MemoryKv;

    #[test]
    fn a_member_state_survives_a_round_trip_through_the_store() {
        let mut kv = MemoryKv::default();
        let mut members = Members::default();
        let state = members.get(&mut kv, 7);
        state.points = 42;
        state.by_kind[3] = 15;
        state.active_bits = (1u128 << 100) | 5;
        state.last_active = 9;
        let expected = *state;
        members.flush(&mut kv);
        assert_eq!(MemberState::load(&mut kv, 7), expected);
    }

    #[test]
    fn days_active_counts_each_day_once_and_windows_look_back_from_today() {
        let mut s = MemberState::default();
        assert!(s.mark_active(100));
        assert!(!s.mark_active(100));
        assert!(s.mark_active(101));
        assert!(s.mark_active(140));
        assert_eq!(s.days_active, 3);
        assert_eq!(s.days_active_within(140, 30), 1);
        assert_eq!(s.days_active_within(140, 90), 3);
        assert_eq!(s.days_active_within(300, 90), 0);
    }

    #[test]
    fn the_ring_keeps_sixty_days_and_forgets_older_ones() {
        let mut ring = Ring::default();
        ring.add(10, 5);
        ring.add(11, 7);
        ring.add(75, 1);
        assert_eq!(ring.sum(0, 75), 1, "days 10 and 11 fell out of the window");
        ring.add(70, 3);
        assert_eq!(ring.sum(46, 75), 4);
    }

    #[test]
    fn the_top_likers_count_stays_exact_when_likes_are_removed() {
        let mut kv = MemoryKv::default();
        let mut s = MemberState::default();
        // liker A: 3 likes, liker B: 3 likes.
        for before in 0..3 {
            liker_added(&mut kv, &mut s, 1, before);
            liker_added(&mut kv, &mut s, 1, before);
        }
        assert_eq!((s.top_liker_likes, s.distinct_likers), (3, 2));
        liker_removed(&mut kv, &mut s, 1, 3);
        assert_eq!(s.top_liker_likes, 3, "B still has 3");
        liker_removed(&mut kv, &mut s, 1, 3);
        assert_eq!(s.top_liker_likes, 2);
    }
}
