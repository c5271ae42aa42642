//! The bundled program's rules called natively (the `cadre-rules` crate linked into the host), behind the same
//! call shape as a component [`Plugin`](crate::runtime::Plugin): WIT events in, WIT effects out.
//!
//! It exists to measure what the sandbox costs (benchmarks compare it with the component on the same events,
//! conversions included, as the component does them too). Production always runs the component.
//!
//! [`Rules`] is the program as the event pipeline calls it: the component ([`Plugin`](crate::runtime::Plugin)) or,
//! for `cadre bench replay` only, [`NativeRules`] (these rules over the forum's own key/value table, with the same
//! all-or-nothing writes and effect validation), so that both pay for exactly the same database work.

use std::collections::HashMap;

use cadre_rules::model as m;
use cadre_rules::{Kv, Program};

use crate::runtime::bindings as w;
use crate::runtime::{Event, KvBackend, Limits, Plugin};

/// The program as the event pipeline calls it: one event in, validated effects out; the program's store writes
/// are committed only when the call succeeds.
pub trait Rules {
    /// Deliver one event; an error is the program's failure (the pipeline dead-letters the event).
    fn deliver(&mut self, event: &Event) -> Result<Vec<w::Effect>, String>;
    /// The badges and tiers its effects may name.
    fn declared(&self) -> &w::Declaration;
}

impl Rules for Plugin {
    fn deliver(&mut self, event: &Event) -> Result<Vec<w::Effect>, String> {
        self.call(event).map_err(|e| e.to_string())
    }
    fn declared(&self) -> &w::Declaration {
        self.declaration()
    }
}

/// A call's view of a [`KvBackend`]: reads fall through, writes wait until the call succeeded.
struct Overlay<'a> {
    backend: &'a mut dyn KvBackend,
    writes: HashMap<String, Option<Vec<u8>>>,
    failed: Option<String>,
}

impl Kv for Overlay<'_> {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        if let Some(value) = self.writes.get(key) {
            return value.clone();
        }
        self.backend.get(key).unwrap_or_else(|e| {
            self.failed = Some(e.to_string());
            None
        })
    }
    fn set(&mut self, key: &str, value: &[u8]) {
        self.writes.insert(key.to_owned(), Some(value.to_vec()));
    }
    fn delete(&mut self, key: &str) {
        self.writes.insert(key.to_owned(), None);
    }
}

/// The rules called natively over a host key/value backend (the forum's `kv` table), behind [`Rules`].
pub struct NativeRules {
    program: Program,
    backend: Box<dyn KvBackend>,
    declaration: w::Declaration,
    limits: Limits,
}

impl NativeRules {
    /// The rules with these settings over `backend`; `declaration` is what the component declared for them.
    pub fn new(
        settings: &str,
        declaration: w::Declaration,
        backend: Box<dyn KvBackend>,
    ) -> Result<NativeRules, Vec<cadre_rules::ConfigError>> {
        Ok(NativeRules { program: Program::configure(settings)?, backend, declaration, limits: Limits::default() })
    }
}

impl Rules for NativeRules {
    fn deliver(&mut self, event: &Event) -> Result<Vec<w::Effect>, String> {
        let event = to_model(event);
        let mut overlay = Overlay { backend: self.backend.as_mut(), writes: HashMap::new(), failed: None };
        let effects: Vec<w::Effect> = self.program.handle(&mut overlay, &event).into_iter().map(from_model).collect();
        if let Some(error) = overlay.failed {
            return Err(format!("store backend failed: {error}"));
        }
        crate::runtime::effects::validate_effects(&effects, &self.declaration, &self.limits)
            .map_err(|kind| format!("{kind}"))?;
        let writes = overlay.writes.into_iter().collect();
        self.backend.apply(writes).map_err(|e| format!("store backend failed: {e}"))?;
        Ok(effects)
    }
    fn declared(&self) -> &w::Declaration {
        &self.declaration
    }
}

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
