//! Tiers of the program: who qualifies, auto-grant or nomination for review, moderators' decisions, invited versus
//! earned members, and demotion for inactivity.
//!
//! Each member has a status per tier ([`Status`]). Qualifying moves `none` to `earned` (mode `auto`, with a
//! `GrantAccess`) or to `nominated` (mode `review`, with a `Nominate` carrying evidence). Moderators' actions arrive
//! as events: an invitation marks the member `invited` (never counted as earned, and exempt from inactivity, since
//! moderators manage them by hand); an approval marks `earned`; a rejection or a removal starts a cool-down of
//! `review.renominate-after-days`, after which a member who still qualifies is nominated again, **never** granted
//! directly, even in `auto` mode. Inactivity (`tiers[].inactivity`) is checked on ticks: moderators are warned first,
//! and access is revoked only after the grace period if the member is still inactive; a demoted member who qualifies
//! again re-enters through the tier's mode.
//!
//! Store layout: `m/<member>/tier/<tier>` = `[status, since day, warned day + 1]`; `tier/<tier>/members/<shard>` =
//! the members who earned the tier (packed `u64`s, sharded by member id into [`INDEX_SHARDS`] keys so that no value
//! outgrows the store's 64 KiB limit before half a million members), which ticks walk for inactivity;
//! `tick/cursor` = where the walk stands (`[rule, shard, offset]`).
//!
//! A tick is **bounded**: it checks at most [`TICK_MEMBERS`] members and stops after the member whose check made
//! the call's effects reach [`TICK_EFFECTS`], then saves its place in `tick/cursor`; the next tick goes on from
//! there, and the walk starts again from the first tier once it has seen every earned member of every tier. So a
//! tier of any size costs each tick the same bounded fuel, effects and store writes (the host's limits per call:
//! 10 million fuel, 1,000 effects, 10,000 writes), and a round over a tier of 500,000 earned members takes 500
//! ticks — a few hours with a tick every minute, in keeping with inactivity counted in days.

use alloc::format;
use alloc::string::String;

use crate::badges;
use crate::config::{Mode, TierRule};
use crate::kv::{Kv, codec};
use crate::model::{Effect, ManualChange, MemberId, ModeratorAction, Timestamp, day_of};
use crate::record;
use crate::scoring::Ctx;
use crate::state::{self, MemberState};

/// A member's standing in one tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not in the tier and not nominated.
    None,
    /// Waiting in the moderators' review queue.
    Nominated,
    /// Entered by qualifying (auto-granted or approved).
    Earned,
    /// Added by hand by a moderator.
    Invited,
    /// Removed by a moderator.
    Removed,
    /// Nomination rejected by a moderator.
    Rejected,
    /// Access revoked for inactivity.
    Demoted,
}

impl Status {
    fn from_code(code: i64) -> Status {
        match code {
            1 => Status::Nominated,
            2 => Status::Earned,
            3 => Status::Invited,
            4 => Status::Removed,
            5 => Status::Rejected,
            6 => Status::Demoted,
            _ => Status::None,
        }
    }

    /// The number a member record shows for this status.
    pub fn code(self) -> i64 {
        self as i64
    }

    /// The word a member record shows for this status.
    pub fn word(self) -> &'static str {
        match self {
            Status::None => "not a member",
            Status::Nominated => "nominated, awaiting review",
            Status::Earned => "earned",
            Status::Invited => "invited",
            Status::Removed => "removed by a moderator",
            Status::Rejected => "nomination rejected",
            Status::Demoted => "demoted for inactivity",
        }
    }
}

/// A member's standing in a tier, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The status.
    pub status: Status,
    /// The UTC day it began.
    pub since: i64,
    /// The UTC day moderators were warned of inactivity, + 1 (0 = not warned).
    pub warned: i64,
}

fn key(member: MemberId, tier: &str) -> String {
    format!("m/{member}/tier/{tier}")
}

/// How many keys a tier's member index is spread over.
pub const INDEX_SHARDS: u64 = 64;

fn index_key(tier: &str, member: MemberId) -> String {
    format!("tier/{tier}/members/{}", member % INDEX_SHARDS)
}

/// A member's standing in a tier.
pub fn standing(kv: &mut dyn Kv, member: MemberId, tier: &str) -> Standing {
    let [status, since, warned] = codec::decode::<3>(kv.get(&key(member, tier)).as_deref());
    Standing { status: Status::from_code(status), since, warned }
}

fn set_standing(kv: &mut dyn Kv, member: MemberId, tier: &str, standing: Standing) {
    kv.set(&key(member, tier), &codec::encode(&[standing.status.code(), standing.since, standing.warned]));
}

fn index(kv: &mut dyn Kv, tier: &str, member: MemberId, present: bool) {
    let key = index_key(tier, member);
    let mut members = state::load_ids(kv, &key);
    let had = members.contains(&member);
    if present && !had {
        members.push(member);
    } else if !present && had {
        members.retain(|&m| m != member);
    } else {
        return;
    }
    state::store_ids(kv, &key, &members);
}

/// Grant or nominate every touched member who now qualifies for a tier.
pub fn check(ctx: &mut Ctx<'_>, today: i64) {
    if ctx.config.tiers.is_empty() {
        return;
    }
    for member in ctx.members.ids() {
        let state = *ctx.member(member);
        let facts = crate::external::Facts::load(ctx.config, ctx.kv, member, ctx.now);
        let mut held = None;
        for rule in &ctx.config.tiers {
            let needs_badges = !rule.when.badges.is_empty();
            let held =
                if needs_badges { held.get_or_insert_with(|| badges::held(ctx.kv, member)).as_slice() } else { &[] };
            // The cheap test first: most events leave most members short of every tier.
            if !badges::meets(&state, held, &facts, &rule.when) {
                continue;
            }
            let mut standing = standing(ctx.kv, member, &rule.tier.id);
            let cooled = today >= standing.since + ctx.config.review.renominate_after_days;
            let eligible = match standing.status {
                Status::None | Status::Demoted => true,
                Status::Removed | Status::Rejected => cooled,
                Status::Nominated | Status::Earned | Status::Invited => false,
            };
            if !eligible {
                continue;
            }
            if let Some(required) = &rule.after
                && !matches!(standing_of(ctx.kv, member, required), Status::Earned | Status::Invited)
            {
                continue;
            }
            let straight_in = rule.mode == Mode::Auto && matches!(standing.status, Status::None | Status::Demoted);
            if straight_in {
                let reason = format!("member {member} qualifies: {}", badges::describe(&state, &facts, &rule.when));
                ctx.effects.push(Effect::GrantAccess { member, tier: rule.tier.id.clone(), reason });
                standing = Standing { status: Status::Earned, since: today, warned: 0 };
                index(ctx.kv, &rule.tier.id, member, true);
            } else {
                let evidence = record::evidence(ctx.config, ctx.kv, member, &state, &facts, rule, standing.status);
                ctx.effects.push(Effect::Nominate { member, tier: rule.tier.id.clone(), evidence });
                standing = Standing { status: Status::Nominated, since: today, warned: 0 };
            }
            set_standing(ctx.kv, member, &rule.tier.id, standing);
        }
    }
}

fn standing_of(kv: &mut dyn Kv, member: MemberId, tier: &str) -> Status {
    standing(kv, member, tier).status
}

/// Record a moderator's decision (the host has already changed access).
pub fn moderator(ctx: &mut Ctx<'_>, action: &ModeratorAction) {
    let (change, status, earned): (&ManualChange, Status, bool) = match action {
        ModeratorAction::MemberAdded(c) => (c, Status::Invited, false),
        ModeratorAction::MemberRemoved(c) => (c, Status::Removed, false),
        ModeratorAction::NominationApproved(c) => (c, Status::Earned, true),
        ModeratorAction::NominationRejected(c) => (c, Status::Rejected, false),
    };
    let standing = Standing { status, since: day_of(change.at), warned: 0 };
    set_standing(ctx.kv, change.member, &change.tier, standing);
    index(ctx.kv, &change.tier, change.member, earned);
    // Touch the member: an invitation to one tier may satisfy another tier's `requires-tier`.
    ctx.member(change.member);
}

/// Most earned members one tick checks for inactivity. A check costs a few thousand fuel (two store reads, at
/// most two writes), so 1,000 stay well inside the 10 million fuel of a call, whatever the tier's size.
pub const TICK_MEMBERS: usize = 1_000;

/// Effects after which a tick stops early (warnings and revocations): a quarter of the host's 1,000 per call, so
/// the effects of the event's other rules still fit.
pub const TICK_EFFECTS: usize = 250;

const TICK_CURSOR: &str = "tick/cursor";

/// Inactivity: warn moderators about earned members idle for `inactive-days`, then revoke access after the grace
/// period if they are still idle. Walks the next slice of the tiers' members (see the module header).
pub fn tick(ctx: &mut Ctx<'_>, now: Timestamp) {
    let today = day_of(now);
    let [mut rule_at, mut shard, mut offset] = codec::decode::<3>(ctx.kv.get(TICK_CURSOR).as_deref());
    let effects_before = ctx.effects.len();
    let mut checked = 0;
    let rules = &ctx.config.tiers;
    while checked < TICK_MEMBERS && ctx.effects.len() - effects_before < TICK_EFFECTS {
        let Some(rule) = usize::try_from(rule_at).ok().and_then(|at| rules.get(at)) else {
            // Every tier walked (or the settings now have fewer tiers): the next tick starts a new round.
            (rule_at, shard, offset) = (0, 0, 0);
            break;
        };
        if rule.inactivity.after_days == 0 || !(0..INDEX_SHARDS as i64).contains(&shard) {
            (rule_at, shard, offset) = (rule_at + 1, 0, 0);
            continue;
        }
        let key = index_key(&rule.tier.id, shard as u64);
        let members = state::load_ids(ctx.kv, &key);
        let from = usize::try_from(offset).unwrap_or(0).min(members.len());
        let mut walked = 0;
        for &member in &members[from..] {
            if checked == TICK_MEMBERS || ctx.effects.len() - effects_before >= TICK_EFFECTS {
                break;
            }
            inactivity(ctx, rule, member, today);
            checked += 1;
            walked += 1;
        }
        // Members the checks took out of this shard were among those walked: the rest moved up by as many places.
        let removed = members.len() - state::load_ids(ctx.kv, &key).len();
        let next = from + walked - removed.min(walked);
        if from + walked >= members.len() {
            (shard, offset) = (shard + 1, 0);
        } else {
            offset = next as i64;
        }
    }
    if [rule_at, shard, offset] == [0, 0, 0] {
        ctx.kv.delete(TICK_CURSOR);
    } else {
        ctx.kv.set(TICK_CURSOR, &codec::encode(&[rule_at, shard, offset]));
    }
}

fn inactivity(ctx: &mut Ctx<'_>, rule: &TierRule, member: MemberId, today: i64) {
    let tier = &rule.tier.id;
    let mut standing = standing(ctx.kv, member, tier);
    if standing.status != Status::Earned {
        index(ctx.kv, tier, member, false);
        return;
    }
    // Read without touching: a tick should not re-check badges of every tier member.
    let state = MemberState::load(ctx.kv, member);
    let last = if state.last_active == 0 { standing.since } else { (state.last_active - 1).max(standing.since) };
    let idle = today - last;
    let (after, grace) = (rule.inactivity.after_days, rule.inactivity.grace_days);
    if idle < after {
        if standing.warned != 0 {
            standing.warned = 0;
            set_standing(ctx.kv, member, tier, standing);
        }
    } else if standing.warned == 0 {
        standing.warned = today + 1;
        set_standing(ctx.kv, member, tier, standing);
        ctx.effects.push(Effect::NotifyModerators {
            member: Some(member),
            topic: "inactivity-warning".into(),
            message: format!(
                "Member {member} has not been active in {} for {idle} days; access will be revoked in {grace} days \
                 unless they are active again.",
                rule.tier.name
            ),
        });
    } else if today >= standing.warned - 1 + grace {
        ctx.effects.push(Effect::RevokeAccess {
            member,
            tier: tier.clone(),
            reason: format!("inactive for {idle} days (moderators warned {} days ago)", today - (standing.warned - 1)),
        });
        set_standing(ctx.kv, member, tier, Standing { status: Status::Demoted, since: today, warned: 0 });
        index(ctx.kv, tier, member, false);
    }
}
