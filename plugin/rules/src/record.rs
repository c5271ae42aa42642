//! What moderators see about a member: the per-member record (the "individual health view") and the evidence
//! attached to a nomination.
//!
//! Both are read-only views of the state the other modules keep; nothing here writes to the store.

use alloc::format;
use alloc::vec::Vec;

use crate::accepts;
use crate::antigaming;
use crate::badges;
use crate::config::{Config, Measure, TierRule};
use crate::external::Facts;
use crate::kv::Kv;
use crate::model::{Evidence, Figure, MemberId, PostId, Timestamp, day_of};
use crate::scoring;
use crate::state::{Kind, MemberState, Ring};
use crate::tiers::{self, Status};

fn figure(key: &str, label: &str, value: f64, threshold: Option<f64>) -> Figure {
    Figure { key: key.into(), label: label.into(), value, threshold }
}

/// The share of a member's likes from known likers that come from their most frequent liker (0 when none).
fn top_liker_share(state: &MemberState) -> f64 {
    if state.known_likes == 0 { 0.0 } else { state.top_liker_likes as f64 / state.known_likes as f64 }
}

/// A moderator's view of one member as of `now`.
pub fn member_record(config: &Config, kv: &mut dyn Kv, member: MemberId, now: Timestamp) -> Vec<Figure> {
    let state = MemberState::load(kv, member);
    let today = day_of(now);
    let n = |v: i64| v as f64;
    let mut out = alloc::vec![figure("points", "Points", n(state.points), None)];
    for kind in Kind::ALL {
        out.push(figure(&format!("points-{}", kind.key()), kind.label(), n(state.by_kind[kind.index()]), None));
    }
    let ring = Ring::load(kv, member);
    let last_30 = ring.sum(today - 29, today);
    let previous_30 = ring.sum(today - 59, today - 30);
    out.extend([
        figure("points-withheld-by-caps", "Points withheld by daily caps", n(state.lost_caps), None),
        figure("points-withheld-by-antigaming", "Points withheld by anti-gaming rules", n(state.lost_gaming), None),
        figure("accepted-answers", "Accepted answers", n(state.accepted_answers), None),
        figure("likes-received", "Likes received", n(state.likes_received), None),
        figure("distinct-likers", "Distinct likers (known members)", n(state.distinct_likers), None),
        figure("top-liker-share", "Share of likes from the top liker", top_liker_share(&state), None),
        figure("likes-given", "Likes given", n(state.likes_given), None),
        figure("posts", "Posts", n(state.posts), None),
        figure("days-active", "Days active (ever)", n(state.days_active), None),
        figure("days-active-30", "Days active in the last 30 days", n(state.days_active_within(today, 30)), None),
        figure("days-active-90", "Days active in the last 90 days", n(state.days_active_within(today, 90)), None),
        figure("points-last-30-days", "Points in the last 30 days", n(last_30), None),
        figure("points-previous-30-days", "Points in the 30 days before", n(previous_30), None),
        figure("trend", "Trend: last 30 days minus the 30 before", n(last_30 - previous_30), None),
        figure("badges", "Badges held", n(badges::held(kv, member).len() as i64), None),
    ]);
    let facts = Facts::load(config, kv, member, now);
    for kind in &config.external {
        let record = facts.record(&kind.kind).cloned().unwrap_or_default();
        out.push(figure(&format!("external-{}", kind.kind), &kind.name, n(record.count), None));
        let label = format!("Points from {}", kind.name.to_lowercase());
        out.push(figure(&format!("points-external-{}", kind.kind), &label, n(record.points), None));
    }
    for rule in &config.tiers {
        let status = tiers::standing(kv, member, &rule.tier.id).status;
        let label = format!("{}: {}", rule.tier.name, status.word());
        out.push(figure(&format!("tier-{}", rule.tier.id), &label, n(status.code()), None));
    }
    out
}

/// Why a member is nominated for a tier: the numbers that qualified them (with thresholds), their best accepted
/// answers, how concentrated their likes are, and any gaming flags.
pub fn evidence(
    config: &Config,
    kv: &mut dyn Kv,
    member: MemberId,
    state: &MemberState,
    facts: &Facts,
    rule: &TierRule,
    previous: Status,
) -> Evidence {
    let mut figures: Vec<Figure> = Measure::ALL
        .iter()
        .filter_map(|&m| {
            let min = rule.when.get(m)?;
            Some(figure(m.key(), m.label(), badges::measure(state, m) as f64, Some(min as f64)))
        })
        .collect();
    for req in &rule.when.external {
        let label = match req.within_days {
            Some(days) => format!("{} in the last {days} days", kind_name(config, &req.kind)),
            None => kind_name(config, &req.kind).into(),
        };
        figures.push(figure(
            &format!("external-{}", req.kind),
            &label,
            facts.value(req) as f64,
            Some(req.count as f64),
        ));
    }
    let share = top_liker_share(state);
    figures.push(figure("top-liker-share", "Share of likes from the top liker", share, None));
    figures.push(figure("distinct-likers", "Distinct likers (known members)", state.distinct_likers as f64, None));
    figures.push(figure(
        "points-withheld-by-antigaming",
        "Points withheld by anti-gaming rules",
        state.lost_gaming as f64,
        None,
    ));
    let mut seen = Vec::new();
    figures.retain(|f| {
        let fresh = !seen.contains(&f.key);
        seen.push(f.key.clone());
        fresh
    });

    let mut flags = antigaming::flags(kv, member);
    if state.known_likes >= 10 && share >= 0.5 {
        flags.push(format!("likes concentrated: {:.0}% of {} likes from one member", share * 100.0, state.known_likes));
    }
    let mut summary =
        format!("member {member} qualifies for {}: {}", rule.tier.name, badges::describe(state, facts, &rule.when));
    if matches!(previous, Status::Removed | Status::Rejected | Status::Demoted) {
        summary.push_str(&format!(" (previously {})", previous.word()));
    }
    Evidence { summary, figures, posts: best_answers(kv, member, config.review.best_answers as usize), flags }
}

/// The member's accepted answers, most liked first (ties: older post first), at most `limit`.
fn best_answers(kv: &mut dyn Kv, member: MemberId, limit: usize) -> Vec<PostId> {
    if limit == 0 {
        return Vec::new();
    }
    // Bounded for prolific members: only the most recent accepted answers are kept, and ranked.
    let answers = accepts::accepted_answers(kv, member);
    let mut ranked: Vec<(i64, PostId)> = answers.iter().map(|&a| (scoring::post_likes(kv, a), a)).collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.into_iter().take(limit).map(|(_, post)| post).collect()
}

/// The display name of an external kind (the kind itself when the configuration gives none).
fn kind_name<'c>(config: &'c Config, kind: &'c str) -> &'c str {
    config.external.iter().find(|k| k.kind == kind).map_or(kind, |k| k.name.as_str())
}
