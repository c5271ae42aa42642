//! `cadre:forum@0.1.0`: its generated bindings and their conversions to and from the host's model.
//!
//! The only import, `store`, is `trappable`: a store call that breaks a limit returns a typed error that aborts
//! the hook (see [`crate::store`]), instead of handing the guest an error it could ignore. Its calls forward to the
//! newest version's ([`super::latest`]), which holds the logic. The conversions are one to one: every field of every
//! record has a home in the model, so nothing is lost either way. 0.1.0 has no external events: the host never
//! delivers them to a 0.1.0 program (see [`super::Bindings`]).

use cadre_model as m;

wasmtime::component::bindgen!({
    path: "../../wit/0.1.0",
    world: "plugin",
    imports: { default: trappable },
});

pub use self::cadre::forum::types as t;

/// This module's contract version.
pub const VERSION: &str = "0.1.0";

impl From<m::PostKind> for t::PostKind {
    fn from(kind: m::PostKind) -> t::PostKind {
        match kind {
            m::PostKind::Question => t::PostKind::Question,
            m::PostKind::Answer => t::PostKind::Answer,
            m::PostKind::Reply => t::PostKind::Reply,
        }
    }
}

impl From<&m::PostCreated> for t::PostCreated {
    fn from(e: &m::PostCreated) -> t::PostCreated {
        t::PostCreated {
            post: e.post,
            kind: e.kind.into(),
            author: e.author,
            parent: e.parent,
            category: e.category,
            at: e.at,
            author_joined: e.author_joined,
        }
    }
}

impl From<&m::Like> for t::Like {
    fn from(e: &m::Like) -> t::Like {
        t::Like {
            like: e.like,
            post: e.post,
            post_kind: e.post_kind.into(),
            post_author: e.post_author,
            post_wiki: e.post_wiki,
            liker: e.liker,
            liker_joined: e.liker_joined,
            at: e.at,
        }
    }
}

impl From<&m::Accept> for t::Accept {
    fn from(e: &m::Accept) -> t::Accept {
        t::Accept {
            answer: e.answer,
            answerer: e.answerer,
            answer_wiki: e.answer_wiki,
            question: e.question,
            asker: e.asker,
            at: e.at,
        }
    }
}

impl From<&m::ModeratorAction> for t::ModeratorAction {
    fn from(action: &m::ModeratorAction) -> t::ModeratorAction {
        let change = |c: &m::ManualChange| t::ManualChange {
            member: c.member,
            tier: c.tier.clone(),
            moderator: c.moderator,
            reason: c.reason.clone(),
            at: c.at,
        };
        match action {
            m::ModeratorAction::MemberAdded(c) => t::ModeratorAction::MemberAdded(change(c)),
            m::ModeratorAction::MemberRemoved(c) => t::ModeratorAction::MemberRemoved(change(c)),
            m::ModeratorAction::NominationApproved(c) => t::ModeratorAction::NominationApproved(change(c)),
            m::ModeratorAction::NominationRejected(c) => t::ModeratorAction::NominationRejected(change(c)),
        }
    }
}

impl From<t::BadgeLevel> for m::BadgeLevel {
    fn from(level: t::BadgeLevel) -> m::BadgeLevel {
        match level {
            t::BadgeLevel::Bronze => m::BadgeLevel::Bronze,
            t::BadgeLevel::Silver => m::BadgeLevel::Silver,
            t::BadgeLevel::Gold => m::BadgeLevel::Gold,
        }
    }
}

impl From<t::Badge> for m::Badge {
    fn from(b: t::Badge) -> m::Badge {
        m::Badge { id: b.id, name: b.name, level: b.level.into(), description: b.description }
    }
}

impl From<t::Tier> for m::Tier {
    fn from(t: t::Tier) -> m::Tier {
        m::Tier { id: t.id, name: t.name, description: t.description }
    }
}

impl From<t::PluginInfo> for m::Info {
    fn from(info: t::PluginInfo) -> m::Info {
        m::Info {
            name: info.name,
            version: info.version,
            badges: info.badges.into_iter().map(Into::into).collect(),
            tiers: info.tiers.into_iter().map(Into::into).collect(),
            settings: info
                .settings
                .into_iter()
                .map(|s| m::Setting { path: s.path, description: s.description, default_value: s.default_value })
                .collect(),
        }
    }
}

impl From<t::Declaration> for m::Declaration {
    fn from(d: t::Declaration) -> m::Declaration {
        m::Declaration {
            badges: d.badges.into_iter().map(Into::into).collect(),
            tiers: d.tiers.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<t::ConfigError> for m::ConfigError {
    fn from(e: t::ConfigError) -> m::ConfigError {
        m::ConfigError { path: e.path, line: e.line, message: e.message }
    }
}

impl From<t::Figure> for m::Figure {
    fn from(f: t::Figure) -> m::Figure {
        m::Figure { key: f.key, label: f.label, value: f.value, threshold: f.threshold }
    }
}

impl From<t::Effect> for m::Effect {
    fn from(effect: t::Effect) -> m::Effect {
        match effect {
            t::Effect::AwardPoints(a) => {
                m::Effect::AwardPoints { member: a.member, delta: a.delta, rule: a.rule, reason: a.reason }
            }
            t::Effect::GrantBadge(b) => m::Effect::GrantBadge { member: b.member, badge: b.badge, reason: b.reason },
            t::Effect::RevokeBadge(b) => m::Effect::RevokeBadge { member: b.member, badge: b.badge, reason: b.reason },
            t::Effect::GrantAccess(a) => m::Effect::GrantAccess { member: a.member, tier: a.tier, reason: a.reason },
            t::Effect::RevokeAccess(a) => m::Effect::RevokeAccess { member: a.member, tier: a.tier, reason: a.reason },
            t::Effect::Nominate(n) => m::Effect::Nominate {
                member: n.member,
                tier: n.tier,
                evidence: m::Evidence {
                    summary: n.evidence.summary,
                    figures: n.evidence.figures.into_iter().map(Into::into).collect(),
                    posts: n.evidence.posts,
                    flags: n.evidence.gaming_flags,
                },
            },
            t::Effect::NotifyModerators(n) => {
                m::Effect::NotifyModerators { member: n.member, topic: n.topic, message: n.message }
            }
        }
    }
}

/// 0.1.0's store is 0.2.0's store: forward each call.
impl self::cadre::forum::store::Host for crate::store::HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        super::latest::cadre::forum::store::Host::get(self, key)
    }
    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<()> {
        super::latest::cadre::forum::store::Host::set(self, key, value)
    }
    fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        super::latest::cadre::forum::store::Host::delete(self, key)
    }
}

/// The `types` interface has no functions; the linker still wants its (empty) host trait.
impl t::Host for crate::store::HostState {}
