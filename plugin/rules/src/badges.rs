//! Badge ladders: after each event, the touched members' badges are re-checked against their criteria.
//!
//! A badge is granted once (the member's held badges are kept in the store, so a repeated qualification is a
//! no-op) and revoked only when its settings say `can-be-lost = true` and the member no longer meets it. Badges are
//! checked in declaration order, so a badge that requires another (`when.badges`) sees it granted by the same event.
//!
//! Store layout: `m/<member>/badges` — the ids of the badges the member holds, one per line.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{Criteria, Measure};
use crate::external::Facts;
use crate::kv::Kv;
use crate::model::{Effect, MemberId};
use crate::scoring::Ctx;
use crate::state::MemberState;

/// A member's value for a measure.
pub fn measure(state: &MemberState, measure: Measure) -> i64 {
    match measure {
        Measure::Points => state.points,
        Measure::AcceptedAnswers => state.accepted_answers,
        Measure::DistinctLikers => state.distinct_likers,
        Measure::Posts => state.posts,
        Measure::DaysActive => state.days_active,
        Measure::LikesReceived => state.likes_received,
    }
}

/// Whether a member meets every numeric condition of `criteria` (ignoring required badges).
fn numbers_met(state: &MemberState, criteria: &Criteria) -> bool {
    Measure::ALL.iter().all(|&m| criteria.get(m).is_none_or(|min| measure(state, m) >= min))
}

/// Whether a member meets every condition of `criteria` (an empty `criteria` is met by nobody: see tiers).
pub fn meets(state: &MemberState, held: &[String], facts: &Facts, criteria: &Criteria) -> bool {
    let numbers = numbers_met(state, criteria);
    let badges = criteria.badges.iter().all(|b| held.contains(b));
    let any = criteria.min.iter().any(Option::is_some) || !criteria.badges.is_empty() || !criteria.external.is_empty();
    any && numbers && badges && facts.met(&criteria.external)
}

fn key(member: MemberId) -> String {
    format!("m/{member}/badges")
}

/// The badges a member holds.
pub fn held(kv: &mut dyn Kv, member: MemberId) -> Vec<String> {
    let bytes = kv.get(&key(member)).unwrap_or_default();
    String::from_utf8_lossy(&bytes).split('\n').filter(|s| !s.is_empty()).map(String::from).collect()
}

fn store(kv: &mut dyn Kv, member: MemberId, held: &[String]) {
    if held.is_empty() { kv.delete(&key(member)) } else { kv.set(&key(member), held.join("\n").as_bytes()) }
}

/// Grant and revoke badges for every member the event touched.
pub fn check(ctx: &mut Ctx<'_>) {
    if ctx.config.badges.is_empty() {
        return;
    }
    // A member can gain a badge only if some badge's numbers are met, and lose one only if a badge can be lost:
    // otherwise skip reading their held badges (most events leave most members where they were).
    let losable = ctx.config.badges.iter().any(|rule| rule.can_be_lost);
    for member in ctx.members.ids() {
        let state = *ctx.member(member);
        if !losable && !ctx.config.badges.iter().any(|rule| numbers_met(&state, &rule.when)) {
            continue;
        }
        let mut held = held(ctx.kv, member);
        let facts = Facts::load(ctx.config, ctx.kv, member, ctx.now);
        let mut changed = false;
        for rule in &ctx.config.badges {
            let id = &rule.badge.id;
            let has = held.contains(id);
            let met = meets(&state, &held, &facts, &rule.when);
            if met && !has {
                held.push(id.clone());
                changed = true;
                let reason =
                    format!("member {member} meets {}: {}", rule.badge.name, describe(&state, &facts, &rule.when));
                ctx.effects.push(Effect::GrantBadge { member, badge: id.clone(), reason });
            } else if !met && has && rule.can_be_lost {
                held.retain(|b| b != id);
                changed = true;
                let reason = format!(
                    "member {member} no longer meets {}: {}",
                    rule.badge.name,
                    describe(&state, &facts, &rule.when)
                );
                ctx.effects.push(Effect::RevokeBadge { member, badge: id.clone(), reason });
            }
        }
        if changed {
            store(ctx.kv, member, &held);
        }
    }
}

/// `points 120 (needs 100), accepted answers 3 (needs 1)`: the member's numbers against the criteria.
pub fn describe(state: &MemberState, facts: &Facts, criteria: &Criteria) -> String {
    let mut parts: Vec<String> = Measure::ALL
        .iter()
        .filter_map(|&m| {
            criteria.get(m).map(|min| format!("{} {} (needs {min})", m.label().to_lowercase(), measure(state, m)))
        })
        .collect();
    parts.extend(facts.describe(&criteria.external));
    if !criteria.badges.is_empty() {
        parts.push(format!("holds {}", criteria.badges.join(", ")));
    }
    parts.join(", ")
}
