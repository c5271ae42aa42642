//! Fuzz check 4: the host's validation of the effects a program returns (`cadre_runtime::validate`), and what
//! the forum does with effects that pass it.
//!
//! From the input, [`arbitrary`] builds a declaration (badges and tiers) and a list of effects whose strings are
//! sometimes declared ids and sometimes anything, with sizes around the limits. The promises:
//! - validation never panics, refuses more than `max_effects_per_call` effects, and otherwise accepts exactly the
//!   lists in which every effect names a declared badge or tier within the size limits (checked here
//!   independently, effect by effect), naming the first bad effect's index;
//! - a list that passes is applied by the forum (`cadre_core::program::apply`, in a transaction on a real forum
//!   database) without an error or a panic.

use arbitrary::{Arbitrary, Unstructured};
use cadre_model::{Badge, BadgeLevel, Declaration, Effect, Evidence, Figure, Tier};
use cadre_runtime::Limits;
use cadre_runtime::error::CallErrorKind;
use cadre_runtime::validate::validate_effects;

/// A string: a declared id, a size near a limit, or arbitrary text.
fn text(u: &mut Unstructured<'_>, ids: &[String]) -> arbitrary::Result<String> {
    Ok(match u.int_in_range(0..=5)? {
        0 if !ids.is_empty() => u.choose(ids)?.clone(),
        1 => "x".repeat(u.int_in_range(0..=5000)?),
        2 => "é".repeat(u.int_in_range(0..=600)?),
        _ => String::arbitrary(u)?,
    })
}

fn declaration(u: &mut Unstructured<'_>) -> arbitrary::Result<Declaration> {
    let mut badges = Vec::new();
    for _ in 0..u.int_in_range(0..=4)? {
        let level = *u.choose(&[BadgeLevel::Bronze, BadgeLevel::Silver, BadgeLevel::Gold])?;
        badges.push(Badge {
            id: String::arbitrary(u)?,
            name: String::arbitrary(u)?,
            level,
            description: String::new(),
        });
    }
    let mut tiers = Vec::new();
    for _ in 0..u.int_in_range(0..=3)? {
        tiers.push(Tier { id: String::arbitrary(u)?, name: String::arbitrary(u)?, description: String::new() });
    }
    Ok(Declaration { badges, tiers })
}

fn effect(u: &mut Unstructured<'_>, badges: &[String], tiers: &[String]) -> arbitrary::Result<Effect> {
    let member = u.int_in_range(0..=4)?;
    let delta = match u.int_in_range(0..=3)? {
        0 => 0,
        1 => i64::arbitrary(u)?,
        _ => u.int_in_range(-1_000_000_001..=1_000_000_001)?,
    };
    Ok(match u.int_in_range(0..=6)? {
        0 => Effect::AwardPoints { member, delta, rule: text(u, &[])?, reason: text(u, &[])? },
        1 => Effect::GrantBadge { member, badge: text(u, badges)?, reason: text(u, &[])? },
        2 => Effect::RevokeBadge { member, badge: text(u, badges)?, reason: text(u, &[])? },
        3 => Effect::GrantAccess { member, tier: text(u, tiers)?, reason: text(u, &[])? },
        4 => Effect::RevokeAccess { member, tier: text(u, tiers)?, reason: text(u, &[])? },
        5 => {
            let mut figures = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                figures.push(Figure {
                    key: text(u, &[])?,
                    label: text(u, &[])?,
                    value: f64::arbitrary(u)?,
                    threshold: Option::arbitrary(u)?,
                });
            }
            let evidence =
                Evidence { summary: text(u, &[])?, figures, posts: Vec::arbitrary(u)?, flags: Vec::arbitrary(u)? };
            Effect::Nominate { member, tier: text(u, tiers)?, evidence }
        }
        _ => Effect::NotifyModerators {
            member: Option::arbitrary(u)?.map(|m: u8| u64::from(m % 5)),
            topic: text(u, &[])?,
            message: text(u, &[])?,
        },
    })
}

/// The effects and declaration an input stands for.
pub fn case(data: &[u8]) -> arbitrary::Result<(Declaration, Vec<Effect>)> {
    let mut u = Unstructured::new(data);
    let declaration = declaration(&mut u)?;
    let badges: Vec<String> = declaration.badges.iter().map(|b| b.id.clone()).collect();
    let tiers: Vec<String> = declaration.tiers.iter().map(|t| t.id.clone()).collect();
    let mut effects = Vec::new();
    let count = if u.ratio(1, 16)? { u.int_in_range(0..=300)? } else { u.int_in_range(0..=6)? };
    for _ in 0..count {
        effects.push(effect(&mut u, &badges, &tiers)?);
    }
    Ok((declaration, effects))
}

/// The first effect that breaks a rule, by an independent reading of the documented limits.
fn expected_first_bad(effects: &[Effect], declaration: &Declaration, limits: &Limits) -> Option<usize> {
    let badge = |id: &str| declaration.badges.iter().any(|b| b.id == id);
    let tier = |id: &str| declaration.tiers.iter().any(|t| t.id == id);
    effects.iter().position(|effect| match effect {
        Effect::AwardPoints { delta, rule, reason, .. } => {
            rule.len() > limits.max_rule_bytes
                || reason.len() > limits.max_reason_bytes
                || (*delta == 0 && reason.trim().is_empty())
                || delta.unsigned_abs() > 1_000_000_000
        }
        Effect::GrantBadge { badge: id, reason, .. } | Effect::RevokeBadge { badge: id, reason, .. } => {
            reason.len() > limits.max_reason_bytes || !badge(id)
        }
        Effect::GrantAccess { tier: id, reason, .. } | Effect::RevokeAccess { tier: id, reason, .. } => {
            reason.len() > limits.max_reason_bytes || !tier(id)
        }
        Effect::Nominate { tier: id, evidence: e, .. } => {
            let bytes = e.summary.len()
                + e.flags.iter().map(String::len).sum::<usize>()
                + e.figures.iter().map(|f| f.key.len() + f.label.len() + 16).sum::<usize>()
                + e.posts.len() * 8;
            bytes > limits.max_evidence_bytes || !tier(id)
        }
        Effect::NotifyModerators { topic, message, .. } => {
            topic.len() > limits.max_rule_bytes || message.len() > limits.max_notice_bytes
        }
    })
}

/// Check one input (panics on a broken promise).
pub fn run(data: &[u8]) {
    let Ok((declaration, effects)) = case(data) else { return };
    let limits = Limits::default();
    let outcome = validate_effects(&effects, &declaration, &limits);
    if effects.len() > limits.max_effects_per_call {
        assert!(matches!(outcome, Err(CallErrorKind::TooManyEffects { .. })), "{} effects passed", effects.len());
        return;
    }
    match (expected_first_bad(&effects, &declaration, &limits), &outcome) {
        (None, Ok(())) => apply(&declaration, &effects),
        (Some(bad), Err(CallErrorKind::InvalidEffect { index, .. })) => {
            assert_eq!(*index, bad, "validation named another effect than the first bad one")
        }
        (expected, outcome) => panic!("expected first bad effect {expected:?}, validation said {outcome:?}"),
    }
}

/// Apply a validated list to a real forum database (members 1 to 3 and one event exist; the program may name
/// any member), as the pipeline does after a program's call, in a transaction rolled back afterwards.
fn apply(declaration: &Declaration, effects: &[Effect]) {
    thread_local! {
        static CONN: rusqlite::Connection = {
            let db = crate::common::fresh_forum("effects", crate::common::preset("legends"), |forum| {
                for name in ["ann", "bob", "cyd"] {
                    forum.register(name, 0, false).expect("a member");
                }
                forum.tick("tick-1", 0).expect("an event");
            });
            cadre_core::db::open(&db).expect("the forum database opens")
        };
    }
    CONN.with(|conn| {
        let tx = conn.unchecked_transaction().expect("a transaction");
        let event_id: i64 = tx.query_row("SELECT MAX(id) FROM events", [], |r| r.get(0)).expect("an event");
        let origin = cadre_core::program::apply::Origin { event_id, at: 0, actor: "program fuzz 0.1.0" };
        if let Err(error) = cadre_core::program::apply::apply(&tx, &origin, declaration, effects) {
            panic!("effects that passed validation failed to apply: {error}");
        }
        drop(tx);
    });
}
