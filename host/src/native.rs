//! The bundled program's rules called natively (the `cadre-rules` crate linked into the host), behind the same
//! call shape as a component [`Plugin`](crate::runtime::Plugin): WIT events in, WIT effects out.
//!
//! It exists to measure what the sandbox costs (benchmarks compare it with the component on the same events,
//! conversions included, as the component does them too). Production always runs the component.

use std::collections::HashMap;

use cadre_rules::model as m;
use cadre_rules::{Kv, Program};

use crate::runtime::Event;
use crate::runtime::bindings as w;

/// A native key/value store shaped like the host's (a hash map).
#[derive(Debug, Default)]
pub struct NativeKv(HashMap<String, Vec<u8>>);

impl Kv for NativeKv {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
    fn set(&mut self, key: &str, value: &[u8]) {
        self.0.insert(key.to_owned(), value.to_vec());
    }
    fn delete(&mut self, key: &str) {
        self.0.remove(key);
    }
}

/// The rules, configured, over a native store.
pub struct NativeProgram {
    program: Program,
    kv: NativeKv,
}

impl NativeProgram {
    /// Configure the rules with TOML settings.
    pub fn new(settings: &str) -> Result<NativeProgram, Vec<cadre_rules::ConfigError>> {
        Ok(NativeProgram { program: Program::configure(settings)?, kv: NativeKv::default() })
    }

    /// Deliver one event.
    pub fn call(&mut self, event: &Event) -> Vec<w::Effect> {
        let event = to_model(event);
        self.program.handle(&mut self.kv, &event).into_iter().map(from_model).collect()
    }
}

fn kind(kind: w::PostKind) -> m::PostKind {
    match kind {
        w::PostKind::Question => m::PostKind::Question,
        w::PostKind::Answer => m::PostKind::Answer,
        w::PostKind::Reply => m::PostKind::Reply,
    }
}

fn like(e: &w::Like) -> m::Like {
    m::Like {
        like: e.like,
        post: e.post,
        post_kind: kind(e.post_kind),
        post_author: e.post_author,
        post_wiki: e.post_wiki,
        liker: e.liker,
        liker_joined: e.liker_joined,
        at: e.at,
    }
}

fn accept(e: &w::Accept) -> m::Accept {
    m::Accept {
        answer: e.answer,
        answerer: e.answerer,
        answer_wiki: e.answer_wiki,
        question: e.question,
        asker: e.asker,
        at: e.at,
    }
}

fn manual(c: &w::ManualChange) -> m::ManualChange {
    m::ManualChange {
        member: c.member,
        tier: c.tier.clone(),
        moderator: c.moderator,
        reason: c.reason.clone(),
        at: c.at,
    }
}

/// A WIT event as the rules' model event.
pub fn to_model(event: &Event) -> m::Event {
    match event {
        Event::PostCreated(e) => m::Event::PostCreated(m::PostCreated {
            post: e.post,
            kind: kind(e.kind),
            author: e.author,
            parent: e.parent,
            category: e.category,
            at: e.at,
            author_joined: e.author_joined,
        }),
        Event::LikeAdded(e) => m::Event::LikeAdded(like(e)),
        Event::LikeRemoved(e) => m::Event::LikeRemoved(like(e)),
        Event::AnswerAccepted(e) => m::Event::AnswerAccepted(accept(e)),
        Event::AnswerUnaccepted(e) => m::Event::AnswerUnaccepted(accept(e)),
        Event::Moderator(a) => m::Event::Moderator(match a {
            w::ModeratorAction::MemberAdded(c) => m::ModeratorAction::MemberAdded(manual(c)),
            w::ModeratorAction::MemberRemoved(c) => m::ModeratorAction::MemberRemoved(manual(c)),
            w::ModeratorAction::NominationApproved(c) => m::ModeratorAction::NominationApproved(manual(c)),
            w::ModeratorAction::NominationRejected(c) => m::ModeratorAction::NominationRejected(manual(c)),
        }),
        Event::Tick(now) => m::Event::Tick(*now),
    }
}

fn figure(f: m::Figure) -> w::Figure {
    w::Figure { key: f.key, label: f.label, value: f.value, threshold: f.threshold }
}

/// A rules' model effect as the WIT effect.
pub fn from_model(effect: m::Effect) -> w::Effect {
    match effect {
        m::Effect::AwardPoints { member, delta, rule, reason } => {
            w::Effect::AwardPoints(w::Award { member, delta, rule, reason })
        }
        m::Effect::GrantBadge { member, badge, reason } => {
            w::Effect::GrantBadge(w::BadgeChange { member, badge, reason })
        }
        m::Effect::RevokeBadge { member, badge, reason } => {
            w::Effect::RevokeBadge(w::BadgeChange { member, badge, reason })
        }
        m::Effect::GrantAccess { member, tier, reason } => {
            w::Effect::GrantAccess(w::AccessChange { member, tier, reason })
        }
        m::Effect::RevokeAccess { member, tier, reason } => {
            w::Effect::RevokeAccess(w::AccessChange { member, tier, reason })
        }
        m::Effect::Nominate { member, tier, evidence } => w::Effect::Nominate(w::Nomination {
            member,
            tier,
            evidence: w::Evidence {
                summary: evidence.summary,
                figures: evidence.figures.into_iter().map(figure).collect(),
                posts: evidence.posts,
                gaming_flags: evidence.flags,
            },
        }),
        m::Effect::NotifyModerators { member, topic, message } => {
            w::Effect::NotifyModerators(w::Notice { member, topic, message })
        }
    }
}
