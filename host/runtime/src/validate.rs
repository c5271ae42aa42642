//! Validation of the effects a hook returns: deny by default.
//!
//! A plugin may only name badges and tiers its configuration declared, only within the size limits, and only up
//! to the per-call effect count. The first invalid effect fails the whole call (the host applies all of a call's
//! effects or none), and the error says which effect and why.

use cadre_model::{Declaration, Effect};

use super::error::CallErrorKind;
use super::limits::Limits;

/// Check every effect of one call.
pub fn validate_effects(effects: &[Effect], declaration: &Declaration, limits: &Limits) -> Result<(), CallErrorKind> {
    if effects.len() > limits.max_effects_per_call {
        return Err(CallErrorKind::TooManyEffects { count: effects.len(), limit: limits.max_effects_per_call });
    }
    for (index, effect) in effects.iter().enumerate() {
        check(effect, declaration, limits).map_err(|reason| CallErrorKind::InvalidEffect {
            index,
            effect: describe(effect),
            reason,
        })?;
    }
    Ok(())
}

/// A short description of an effect for error messages.
pub fn describe(effect: &Effect) -> String {
    match effect {
        Effect::AwardPoints { member, delta, .. } => format!("award-points {delta:+} to member {member}"),
        Effect::GrantBadge { member, badge, .. } => format!("grant-badge {:?} to member {member}", clip(badge)),
        Effect::RevokeBadge { member, badge, .. } => format!("revoke-badge {:?} from member {member}", clip(badge)),
        Effect::GrantAccess { member, tier, .. } => format!("grant-access {:?} to member {member}", clip(tier)),
        Effect::RevokeAccess { member, tier, .. } => format!("revoke-access {:?} from member {member}", clip(tier)),
        Effect::Nominate { member, tier, .. } => format!("nominate member {member} for {:?}", clip(tier)),
        Effect::NotifyModerators { topic, .. } => format!("notify-moderators {:?}", clip(topic)),
    }
}

/// At most 48 bytes of a plugin-supplied string, so an error message cannot be blown up by the plugin.
fn clip(text: &str) -> &str {
    let mut end = text.len().min(48);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn check(effect: &Effect, declaration: &Declaration, limits: &Limits) -> Result<(), String> {
    let size = |what: &str, text: &str, max: usize| {
        if text.len() > max { Err(format!("{what} of {} bytes; at most {max} allowed", text.len())) } else { Ok(()) }
    };
    let badge = |id: &str| {
        if declaration.badges.iter().any(|b| b.id == id) {
            Ok(())
        } else {
            Err(format!("badge {:?} is not declared by the plugin's configuration", clip(id)))
        }
    };
    let tier = |id: &str| {
        if declaration.tiers.iter().any(|t| t.id == id) {
            Ok(())
        } else {
            Err(format!("tier {:?} is not declared by the plugin's configuration", clip(id)))
        }
    };
    match effect {
        Effect::AwardPoints { delta, rule, reason, .. } => {
            size("rule", rule, limits.max_rule_bytes)?;
            size("reason", reason, limits.max_reason_bytes)?;
            // A zero award is a ledger line explaining why something earned nothing (a cap, an anti-gaming rule):
            // it changes no total, but it must say why.
            if *delta == 0 && reason.trim().is_empty() {
                return Err("an award of 0 points must give its reason (the ledger line is its only purpose)".into());
            }
            // Far beyond any real award, and keeps every total far from overflow.
            if delta.unsigned_abs() > 1_000_000_000 {
                return Err(format!("delta {delta} is out of range (±1,000,000,000)"));
            }
            Ok(())
        }
        Effect::GrantBadge { badge: id, reason, .. } | Effect::RevokeBadge { badge: id, reason, .. } => {
            size("reason", reason, limits.max_reason_bytes)?;
            badge(id)
        }
        Effect::GrantAccess { tier: id, reason, .. } | Effect::RevokeAccess { tier: id, reason, .. } => {
            size("reason", reason, limits.max_reason_bytes)?;
            tier(id)
        }
        Effect::Nominate { tier: id, evidence: e, .. } => {
            let bytes = e.summary.len()
                + e.flags.iter().map(String::len).sum::<usize>()
                + e.figures.iter().map(|f| f.key.len() + f.label.len() + 16).sum::<usize>()
                + e.posts.len() * 8;
            if bytes > limits.max_evidence_bytes {
                return Err(format!("evidence of {bytes} bytes; at most {} allowed", limits.max_evidence_bytes));
            }
            tier(id)
        }
        Effect::NotifyModerators { topic, message, .. } => {
            size("topic", topic, limits.max_rule_bytes)?;
            size("message", message, limits.max_notice_bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn award(delta: i64, reason: &str) -> Effect {
        Effect::AwardPoints { member: 7, delta, rule: "answer-liked".into(), reason: reason.into() }
    }

    #[test]
    fn an_award_of_0_points_is_a_ledger_line_that_must_say_why() {
        let (declaration, limits) = (Declaration { badges: vec![], tiers: vec![] }, Limits::default());
        let why = award(0, "like 4 on answer 2: withheld by daily cap (200 reached)");
        assert!(validate_effects(&[why], &declaration, &limits).is_ok());
        let error = validate_effects(&[award(0, " ")], &declaration, &limits).unwrap_err();
        assert!(matches!(error, CallErrorKind::InvalidEffect { index: 0, .. }), "{error:?}");
        assert!(validate_effects(&[award(5, "")], &declaration, &limits).is_ok(), "a real award may be terse");
    }
}
