//! External events (contract 0.2.0): what a certification passed, an event attended or a renewal is worth, and the
//! per-member counts that badge and tier criteria read (`when.external`).
//!
//! Owns the store record per member and kind, `m/<member>/x/<kind>`: `[count, points, cap-day, points-that-day,
//! recent times…]` (`codec` integers; at most [`MAX_WINDOWED_COUNT`] most recent times, enough for any windowed
//! criterion). Does not own the configuration (`config::external`) or the checks that use the counts (`badges`,
//! `tiers`). An event of a kind the configuration does not declare changes nothing: a program keeps no data it was
//! not configured to use.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{Config, ExternalReq, MAX_WINDOWED_COUNT};
use crate::kv::{Kv, codec};
use crate::model::{DAY_MS, ExternalEvent, MemberId, Timestamp, day_of};
use crate::scoring::Ctx;

/// What the program keeps about one member and one external kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindRecord {
    /// Events of the kind, ever.
    pub count: i64,
    /// Points earned from them.
    pub points: i64,
    cap_day: i64,
    points_that_day: i64,
    /// The most recent times, oldest first.
    pub recent: Vec<Timestamp>,
}

const HEAD: usize = 4;

fn key(member: MemberId, kind: &str) -> String {
    format!("m/{member}/x/{kind}")
}

impl KindRecord {
    fn load(kv: &mut dyn Kv, member: MemberId, kind: &str) -> KindRecord {
        let Some(bytes) = kv.get(&key(member, kind)) else { return KindRecord::default() };
        let fields: Vec<i64> = bytes.chunks_exact(8).map(|c| codec::decode::<1>(Some(c))[0]).collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or(0);
        KindRecord {
            count: field(0),
            points: field(1),
            cap_day: field(2),
            points_that_day: field(3),
            recent: fields.get(HEAD..).map(<[i64]>::to_vec).unwrap_or_default(),
        }
    }

    fn store(&self, kv: &mut dyn Kv, member: MemberId, kind: &str) {
        let mut fields = alloc::vec![self.count, self.points, self.cap_day, self.points_that_day];
        fields.extend_from_slice(&self.recent);
        kv.set(&key(member, kind), &codec::encode(&fields));
    }

    /// Events of the kind at or after `since`.
    fn since(&self, since: Timestamp) -> i64 {
        self.recent.iter().filter(|&&at| at >= since).count() as i64
    }
}

/// A member's external records for the kinds the configuration declares, as of `now`: what criteria test.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    now: Timestamp,
    kinds: BTreeMap<String, KindRecord>,
}

impl Facts {
    /// Load a member's records (no store read when the configuration declares no external kind).
    pub fn load(config: &Config, kv: &mut dyn Kv, member: MemberId, now: Timestamp) -> Facts {
        let kinds = config.external.iter().map(|k| (k.kind.clone(), KindRecord::load(kv, member, &k.kind))).collect();
        Facts { now, kinds }
    }

    /// The member's value for a criterion: events of its kind, within its window if it has one.
    pub fn value(&self, req: &ExternalReq) -> i64 {
        let Some(record) = self.kinds.get(&req.kind) else { return 0 };
        match req.within_days {
            Some(days) => record.since(self.now - days * DAY_MS),
            None => record.count,
        }
    }

    /// Whether every external criterion is met.
    pub fn met(&self, reqs: &[ExternalReq]) -> bool {
        reqs.iter().all(|req| self.value(req) >= req.count)
    }

    /// `certification.passed 1 in the last 730 days (needs 1)`, one part per criterion.
    pub fn describe(&self, reqs: &[ExternalReq]) -> Vec<String> {
        reqs.iter()
            .map(|req| match req.within_days {
                Some(days) => {
                    format!("{} {} in the last {days} days (needs {})", req.kind, self.value(req), req.count)
                }
                None => format!("{} {} (needs {})", req.kind, self.value(req), req.count),
            })
            .collect()
    }

    /// A member's record of one kind.
    pub fn record(&self, kind: &str) -> Option<&KindRecord> {
        self.kinds.get(kind)
    }
}

/// React to an external event: count it, and award its points within the kind's daily cap.
pub(crate) fn external_event(ctx: &mut Ctx<'_>, event: &ExternalEvent) {
    let Some(kind) = ctx.config.external.iter().find(|k| k.kind == event.kind) else { return };
    let member = event.member;
    let mut record = KindRecord::load(ctx.kv, member, &kind.kind);
    record.count += 1;
    record.recent.push(event.at);
    record.recent.sort_unstable();
    let excess = record.recent.len().saturating_sub(MAX_WINDOWED_COUNT as usize);
    record.recent.drain(..excess);
    let day = day_of(event.at);
    if day != record.cap_day {
        record.cap_day = day;
        record.points_that_day = 0;
    }
    let room = if kind.max_points_per_day == 0 {
        kind.points
    } else {
        (kind.max_points_per_day - record.points_that_day).clamp(0, kind.points)
    };
    record.points += room;
    record.points_that_day += room;
    record.store(ctx.kv, member, &kind.kind);
    let rule = format!("external:{}", kind.kind);
    let source = event.source.as_deref().map(|s| format!(" from {s}")).unwrap_or_default();
    if room > 0 {
        let state = ctx.member(member);
        state.points += room;
        ctx.members.add_to_ring(ctx.kv, member, day, room);
        let reason = if room < kind.points {
            format!("{}{source} (daily cap: {room} of {})", kind.name, kind.points)
        } else {
            format!("{}{source}", kind.name)
        };
        ctx.effects.push(crate::model::Effect::AwardPoints { member, delta: room, rule, reason });
    } else {
        // Touch the member so their badges and tiers are re-checked (a count may have crossed a criterion).
        ctx.member(member);
        if kind.points > 0 {
            let reason = format!("{}{source}: daily cap of {} reached", kind.name, kind.max_points_per_day);
            ctx.effects.push(crate::model::Effect::AwardPoints { member, delta: 0, rule, reason });
        }
    }
}
