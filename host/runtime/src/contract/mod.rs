//! The contract versions this host speaks, one module each: the bindings `wasmtime::component::bindgen!` generates
//! from that version's WIT folder (`wit/0.1.0`, `wit/0.2.0`), and the conversions between them and the host's own
//! model (`cadre-model`).
//!
//! Nothing outside this folder sees generated types: the rest of the host, the event log included, speaks the
//! model. The newest version is [`latest`] and holds the import logic; older modules convert and forward. [`Pre`]
//! and [`Bindings`] are the one place that dispatches over versions (as Zed's extension host does with its
//! `Extension` enum): the loader picks the variant from the component's exports, and a call a version lacks is
//! answered here (a 0.1.0 program never receives an external event: the call returns no effects without entering
//! the guest). Adding a version is a module, a variant in each enum, and a line in [`VERSIONS`].

/// The conversions between a version's generated records and the model that every version shares so far, written
/// once: each version module invokes this with its own `t` (generated types) and `m` (`cadre_model`) in scope.
/// A version whose records differ writes those conversions itself instead (`post-created` and `like`, which 0.2.0
/// extends with context).
macro_rules! shared_conversions {
    () => {
        impl From<m::PostKind> for t::PostKind {
            fn from(kind: m::PostKind) -> t::PostKind {
                match kind {
                    m::PostKind::Question => t::PostKind::Question,
                    m::PostKind::Answer => t::PostKind::Answer,
                    m::PostKind::Reply => t::PostKind::Reply,
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
                        .map(|s| m::Setting {
                            path: s.path,
                            description: s.description,
                            default_value: s.default_value,
                        })
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
                    t::Effect::GrantBadge(b) => {
                        m::Effect::GrantBadge { member: b.member, badge: b.badge, reason: b.reason }
                    }
                    t::Effect::RevokeBadge(b) => {
                        m::Effect::RevokeBadge { member: b.member, badge: b.badge, reason: b.reason }
                    }
                    t::Effect::GrantAccess(a) => {
                        m::Effect::GrantAccess { member: a.member, tier: a.tier, reason: a.reason }
                    }
                    t::Effect::RevokeAccess(a) => {
                        m::Effect::RevokeAccess { member: a.member, tier: a.tier, reason: a.reason }
                    }
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
    };
}

pub mod v0_1_0;
pub mod v0_2_0;

pub use v0_2_0 as latest;

use cadre_model::{ConfigError, Declaration, Effect, Event, Figure, Info};
use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use crate::store::HostState;

/// The WIT package this host speaks, as it appears in component import/export names.
pub const CONTRACT_PACKAGE: &str = "cadre:forum";

/// Every version this host speaks, newest first (the loader tries them in this order).
pub const VERSIONS: [&str; 2] = [v0_2_0::VERSION, v0_1_0::VERSION];

/// What each version lets a component import from the contract (anything else of `cadre:forum` is refused).
pub fn contract_imports(version: &str) -> &'static [&'static str] {
    match version {
        v0_1_0::VERSION => &["store", "types"],
        _ => &["store", "types", "log"],
    }
}

/// Add every version's imports to a linker (their names differ by version, so they live side by side).
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    v0_1_0::Plugin::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)?;
    v0_2_0::Plugin::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
}

/// A pre-linked component of one contract version.
#[derive(Clone)]
pub enum Pre {
    /// Speaks `cadre:forum@0.1.0`.
    V0_1_0(v0_1_0::PluginPre<HostState>),
    /// Speaks `cadre:forum@0.2.0`.
    V0_2_0(v0_2_0::PluginPre<HostState>),
}

impl Pre {
    /// Wrap a pre-linked component as the bindings of `version` (one of [`VERSIONS`]).
    pub fn new(version: &str, pre: InstancePre<HostState>) -> wasmtime::Result<Pre> {
        Ok(match version {
            v0_1_0::VERSION => Pre::V0_1_0(v0_1_0::PluginPre::new(pre)?),
            _ => Pre::V0_2_0(v0_2_0::PluginPre::new(pre)?),
        })
    }

    /// The contract version the component speaks.
    pub fn version(&self) -> &'static str {
        match self {
            Pre::V0_1_0(_) => v0_1_0::VERSION,
            Pre::V0_2_0(_) => v0_2_0::VERSION,
        }
    }

    /// Instantiate in `store`.
    pub fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Bindings> {
        Ok(match self {
            Pre::V0_1_0(pre) => Bindings::V0_1_0(pre.instantiate(store)?),
            Pre::V0_2_0(pre) => Bindings::V0_2_0(pre.instantiate(store)?),
        })
    }
}

/// An instantiated component of one contract version; every call takes and returns the host's model.
pub enum Bindings {
    /// Speaks `cadre:forum@0.1.0`.
    V0_1_0(v0_1_0::Plugin),
    /// Speaks `cadre:forum@0.2.0`.
    V0_2_0(v0_2_0::Plugin),
}

/// A configuration outcome in the model's terms.
pub type Configured = Result<Declaration, Vec<ConfigError>>;

impl Bindings {
    /// `describe`.
    pub fn describe(&self, store: &mut Store<HostState>) -> wasmtime::Result<Info> {
        Ok(match self {
            Bindings::V0_1_0(b) => b.cadre_forum_program().call_describe(store)?.into(),
            Bindings::V0_2_0(b) => b.cadre_forum_program().call_describe(store)?.into(),
        })
    }

    /// `configure`.
    pub fn configure(&self, store: &mut Store<HostState>, settings: &str) -> wasmtime::Result<Configured> {
        fn model<D: Into<Declaration>, E: Into<ConfigError>>(outcome: Result<D, Vec<E>>) -> Configured {
            outcome.map(Into::into).map_err(|errors| errors.into_iter().map(Into::into).collect())
        }
        Ok(match self {
            Bindings::V0_1_0(b) => model(b.cadre_forum_program().call_configure(store, settings)?),
            Bindings::V0_2_0(b) => model(b.cadre_forum_program().call_configure(store, settings)?),
        })
    }

    /// `member-record`.
    pub fn member_record(&self, store: &mut Store<HostState>, member: u64, now: i64) -> wasmtime::Result<Vec<Figure>> {
        Ok(match self {
            Bindings::V0_1_0(b) => {
                b.cadre_forum_program().call_member_record(store, member, now)?.into_iter().map(Into::into).collect()
            }
            Bindings::V0_2_0(b) => {
                b.cadre_forum_program().call_member_record(store, member, now)?.into_iter().map(Into::into).collect()
            }
        })
    }

    /// The hook for `event`. An event the component's version does not know (an external event for 0.1.0) is
    /// not delivered: no effects, and the guest is not entered.
    pub fn hook(&self, store: &mut Store<HostState>, event: &Event) -> wasmtime::Result<Vec<Effect>> {
        match self {
            Bindings::V0_1_0(b) => {
                let hooks = b.cadre_forum_hooks();
                let effects = match event {
                    Event::PostCreated(e) => hooks.call_on_post_created(store, e.into())?,
                    Event::LikeAdded(e) => hooks.call_on_like_added(store, e.into())?,
                    Event::LikeRemoved(e) => hooks.call_on_like_removed(store, e.into())?,
                    Event::AnswerAccepted(e) => hooks.call_on_answer_accepted(store, e.into())?,
                    Event::AnswerUnaccepted(e) => hooks.call_on_answer_unaccepted(store, e.into())?,
                    Event::Moderator(e) => hooks.call_on_moderator_action(store, &e.into())?,
                    Event::Tick(now) => hooks.call_on_tick(store, *now)?,
                    // Not available prior to 0.2.0.
                    Event::External(_) => Vec::new(),
                };
                Ok(effects.into_iter().map(Into::into).collect())
            }
            Bindings::V0_2_0(b) => {
                let hooks = b.cadre_forum_hooks();
                let effects = match event {
                    Event::PostCreated(e) => hooks.call_on_post_created(store, e.into())?,
                    Event::LikeAdded(e) => hooks.call_on_like_added(store, e.into())?,
                    Event::LikeRemoved(e) => hooks.call_on_like_removed(store, e.into())?,
                    Event::AnswerAccepted(e) => hooks.call_on_answer_accepted(store, e.into())?,
                    Event::AnswerUnaccepted(e) => hooks.call_on_answer_unaccepted(store, e.into())?,
                    Event::Moderator(e) => hooks.call_on_moderator_action(store, &e.into())?,
                    Event::Tick(now) => hooks.call_on_tick(store, *now)?,
                    Event::External(e) => hooks.call_on_external_event(store, &e.into())?,
                };
                Ok(effects.into_iter().map(Into::into).collect())
            }
        }
    }
}
