//! One-to-one conversions between the WIT bindings and `cadre_rules::model`.

use alloc::vec::Vec;
use cadre_rules::ConfigError;
use cadre_rules::model as m;

use crate::cadre::forum::types as t;

fn kind(kind: t::PostKind) -> m::PostKind {
    match kind {
        t::PostKind::Question => m::PostKind::Question,
        t::PostKind::Answer => m::PostKind::Answer,
        t::PostKind::Reply => m::PostKind::Reply,
    }
}

pub fn post_created(e: t::PostCreated) -> m::PostCreated {
    m::PostCreated {
        post: e.post,
        kind: kind(e.kind),
        author: e.author,
        parent: e.parent,
        category: e.category,
        at: e.at,
        author_joined: e.author_joined,
        question_author: e.question_author,
    }
}

pub fn like(e: t::Like) -> m::Like {
    m::Like {
        like: e.like,
        post: e.post,
        post_kind: kind(e.post_kind),
        post_author: e.post_author,
        post_wiki: e.post_wiki,
        liker: e.liker,
        liker_joined: e.liker_joined,
        at: e.at,
        post_category: e.post_category,
    }
}

pub fn accept(e: t::Accept) -> m::Accept {
    m::Accept {
        answer: e.answer,
        answerer: e.answerer,
        answer_wiki: e.answer_wiki,
        question: e.question,
        asker: e.asker,
        at: e.at,
    }
}

fn manual(c: t::ManualChange) -> m::ManualChange {
    m::ManualChange { member: c.member, tier: c.tier, moderator: c.moderator, reason: c.reason, at: c.at }
}

pub fn moderator_action(a: t::ModeratorAction) -> m::ModeratorAction {
    match a {
        t::ModeratorAction::MemberAdded(c) => m::ModeratorAction::MemberAdded(manual(c)),
        t::ModeratorAction::MemberRemoved(c) => m::ModeratorAction::MemberRemoved(manual(c)),
        t::ModeratorAction::NominationApproved(c) => m::ModeratorAction::NominationApproved(manual(c)),
        t::ModeratorAction::NominationRejected(c) => m::ModeratorAction::NominationRejected(manual(c)),
    }
}

fn level(level: m::BadgeLevel) -> t::BadgeLevel {
    match level {
        m::BadgeLevel::Bronze => t::BadgeLevel::Bronze,
        m::BadgeLevel::Silver => t::BadgeLevel::Silver,
        m::BadgeLevel::Gold => t::BadgeLevel::Gold,
    }
}

fn badge(b: m::Badge) -> t::Badge {
    t::Badge { id: b.id, name: b.name, level: level(b.level), description: b.description }
}

fn tier(t: m::Tier) -> t::Tier {
    t::Tier { id: t.id, name: t.name, description: t.description }
}

pub fn info(i: m::Info) -> t::PluginInfo {
    t::PluginInfo {
        name: i.name,
        version: i.version,
        badges: i.badges.into_iter().map(badge).collect(),
        tiers: i.tiers.into_iter().map(tier).collect(),
        settings: i
            .settings
            .into_iter()
            .map(|s| t::Setting { path: s.path, description: s.description, default_value: s.default_value })
            .collect(),
    }
}

pub fn declaration(d: m::Declaration) -> t::Declaration {
    t::Declaration { badges: d.badges.into_iter().map(badge).collect(), tiers: d.tiers.into_iter().map(tier).collect() }
}

pub fn config_error(e: ConfigError) -> t::ConfigError {
    t::ConfigError { path: e.path, line: e.line, message: e.message }
}

pub fn figure(f: m::Figure) -> t::Figure {
    t::Figure { key: f.key, label: f.label, value: f.value, threshold: f.threshold }
}

fn evidence(e: m::Evidence) -> t::Evidence {
    t::Evidence {
        summary: e.summary,
        figures: e.figures.into_iter().map(figure).collect::<Vec<_>>(),
        posts: e.posts,
        gaming_flags: e.flags,
    }
}

pub fn effect(e: m::Effect) -> t::Effect {
    match e {
        m::Effect::AwardPoints { member, delta, rule, reason } => {
            t::Effect::AwardPoints(t::Award { member, delta, rule, reason })
        }
        m::Effect::GrantBadge { member, badge, reason } => {
            t::Effect::GrantBadge(t::BadgeChange { member, badge, reason })
        }
        m::Effect::RevokeBadge { member, badge, reason } => {
            t::Effect::RevokeBadge(t::BadgeChange { member, badge, reason })
        }
        m::Effect::GrantAccess { member, tier, reason } => {
            t::Effect::GrantAccess(t::AccessChange { member, tier, reason })
        }
        m::Effect::RevokeAccess { member, tier, reason } => {
            t::Effect::RevokeAccess(t::AccessChange { member, tier, reason })
        }
        m::Effect::Nominate { member, tier, evidence: ev } => {
            t::Effect::Nominate(t::Nomination { member, tier, evidence: evidence(ev) })
        }
        m::Effect::NotifyModerators { member, topic, message } => {
            t::Effect::NotifyModerators(t::Notice { member, topic, message })
        }
    }
}

pub fn external(e: t::ExternalEvent) -> m::ExternalEvent {
    m::ExternalEvent {
        kind: e.kind,
        member: e.member,
        at: e.at,
        source: e.source,
        external_id: e.external_id,
        attributes: e
            .attributes
            .into_iter()
            .map(|a| m::Attribute {
                name: a.name,
                value: match a.value {
                    t::AttributeValue::Text(text) => m::AttributeValue::Text(text),
                    t::AttributeValue::Integer(n) => m::AttributeValue::Integer(n),
                    t::AttributeValue::Boolean(b) => m::AttributeValue::Boolean(b),
                },
            })
            .collect(),
    }
}
