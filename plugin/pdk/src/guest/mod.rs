//! The WebAssembly half (compiled only for `wasm32`): the bindings wit-bindgen generates from `wit/forum.wit`
//! (`cadre:forum@0.2.0`), their one-to-one conversions to the crate's plain types, the host's store and log, and
//! the functions [`export_plugin!`](crate::export_plugin) wires the component's exports to.
//!
//! Owns: everything that touches the canonical ABI. Does not own: the guest runtime (allocator, panic handler,
//! `cabi_realloc`, `memcmp`: [`rt`]) or what a program does (its [`Plugin`] impl).

pub mod rt;

use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::plugin::{Plugin, configure as configure_plugin, declaration, describe as describe_plugin};
use crate::store::Store;
use crate::types as p;

/// The generated bindings of `cadre:forum@0.2.0`.
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit/forum.wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__cadre_pdk_export_bindings",
        default_bindings_module: "cadre_pdk::guest::bindings",
    });
}

use bindings::cadre::forum::types as t;

/// The configured program of one component instance. An instance runs one call at a time on one thread, so a
/// `RefCell` in a `static` is enough (`Sync` is sound: wasm32 without threads has one thread).
pub struct Slot<P>(RefCell<Option<P>>);

// SAFETY: see the type's documentation: a component instance is single-threaded.
unsafe impl<P> Sync for Slot<P> {}

impl<P: Plugin> Slot<P> {
    /// Empty: not configured yet.
    pub const fn new() -> Slot<P> {
        Slot(RefCell::new(None))
    }

    /// Run `f` on the configured program (configured with the defaults if the host has not configured it, which
    /// the host never does: it configures every fresh instance first).
    fn with<R>(&self, f: impl FnOnce(&P) -> R) -> R {
        if self.0.borrow().is_none() {
            let plugin = configure_plugin::<P>("")
                .unwrap_or_else(|errors| panic!("{} refuses its own default settings: {errors:?}", P::NAME));
            *self.0.borrow_mut() = Some(plugin);
        }
        f(self.0.borrow().as_ref().expect("configured above"))
    }
}

impl<P: Plugin> Default for Slot<P> {
    fn default() -> Slot<P> {
        Slot::new()
    }
}

/// The host's store (the `store` import).
pub struct HostStore;

impl Store for HostStore {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        bindings::cadre::forum::store::get(key)
    }
    fn set(&mut self, key: &str, value: &[u8]) {
        bindings::cadre::forum::store::set(key, value)
    }
    fn delete(&mut self, key: &str) {
        bindings::cadre::forum::store::delete(key)
    }
}

/// Hand a line to the host's `log` import.
pub(crate) fn log(level: crate::log::Level, message: &str) {
    use bindings::cadre::forum::log as host;
    let level = match level {
        crate::log::Level::Debug => host::Level::Debug,
        crate::log::Level::Info => host::Level::Info,
        crate::log::Level::Warn => host::Level::Warn,
        crate::log::Level::Error => host::Level::Error,
    };
    host::log(level, message)
}

// The exports, called by the code `export_plugin!` generates. -------------------------------------------------

/// `describe`.
pub fn describe<P: Plugin>() -> t::PluginInfo {
    let info = describe_plugin::<P>();
    t::PluginInfo {
        name: info.name,
        version: info.version,
        badges: info.badges.into_iter().map(badge).collect(),
        tiers: info.tiers.into_iter().map(tier).collect(),
        settings: info
            .settings
            .into_iter()
            .map(|s| t::Setting { path: s.path, description: s.description, default_value: s.default_value })
            .collect(),
    }
}

/// `configure`: adopt the settings if they are valid.
pub fn configure<P: Plugin>(slot: &Slot<P>, settings: String) -> Result<t::Declaration, Vec<t::ConfigError>> {
    match configure_plugin::<P>(&settings) {
        Ok(plugin) => {
            let declared = declaration(&plugin);
            *slot.0.borrow_mut() = Some(plugin);
            Ok(t::Declaration {
                badges: declared.badges.into_iter().map(badge).collect(),
                tiers: declared.tiers.into_iter().map(tier).collect(),
            })
        }
        Err(errors) => {
            Err(errors.into_iter().map(|e| t::ConfigError { path: e.path, line: e.line, message: e.message }).collect())
        }
    }
}

/// `member-record`.
pub fn member_record<P: Plugin>(slot: &Slot<P>, member: u64, now: i64) -> Vec<t::Figure> {
    slot.with(|plugin| plugin.member_record(&mut HostStore, member, now)).into_iter().map(figure).collect()
}

/// Every hook: the event converted, the plugin's hook called with the host's store, the effects converted back.
pub fn hook<P: Plugin>(slot: &Slot<P>, call: impl FnOnce(&P, &mut dyn Store) -> Vec<p::Effect>) -> Vec<t::Effect> {
    slot.with(|plugin| call(plugin, &mut HostStore)).into_iter().map(effect).collect()
}

// Conversions, one to one. -------------------------------------------------------------------------------------

/// A post kind from the bindings.
pub fn post_kind(kind: t::PostKind) -> p::PostKind {
    match kind {
        t::PostKind::Question => p::PostKind::Question,
        t::PostKind::Answer => p::PostKind::Answer,
        t::PostKind::Reply => p::PostKind::Reply,
    }
}

/// A post-created event from the bindings.
pub fn post_created(e: t::PostCreated) -> p::PostCreated {
    p::PostCreated {
        post: e.post,
        kind: post_kind(e.kind),
        author: e.author,
        parent: e.parent,
        category: e.category,
        at: e.at,
        author_joined: e.author_joined,
        question_author: e.question_author,
    }
}

/// A like from the bindings.
pub fn like(e: t::Like) -> p::Like {
    p::Like {
        like: e.like,
        post: e.post,
        post_kind: post_kind(e.post_kind),
        post_author: e.post_author,
        post_wiki: e.post_wiki,
        liker: e.liker,
        liker_joined: e.liker_joined,
        at: e.at,
        post_category: e.post_category,
    }
}

/// An accept from the bindings.
pub fn accept(e: t::Accept) -> p::Accept {
    p::Accept {
        answer: e.answer,
        answerer: e.answerer,
        answer_wiki: e.answer_wiki,
        question: e.question,
        asker: e.asker,
        at: e.at,
    }
}

/// A moderator action from the bindings.
pub fn moderator_action(action: t::ModeratorAction) -> p::ModeratorAction {
    let change = |c: t::ManualChange| p::ManualChange {
        member: c.member,
        tier: c.tier,
        moderator: c.moderator,
        reason: c.reason,
        at: c.at,
    };
    match action {
        t::ModeratorAction::MemberAdded(c) => p::ModeratorAction::MemberAdded(change(c)),
        t::ModeratorAction::MemberRemoved(c) => p::ModeratorAction::MemberRemoved(change(c)),
        t::ModeratorAction::NominationApproved(c) => p::ModeratorAction::NominationApproved(change(c)),
        t::ModeratorAction::NominationRejected(c) => p::ModeratorAction::NominationRejected(change(c)),
    }
}

/// An external event from the bindings.
pub fn external_event(e: t::ExternalEvent) -> p::ExternalEvent {
    p::ExternalEvent {
        kind: e.kind,
        member: e.member,
        at: e.at,
        source: e.source,
        external_id: e.external_id,
        attributes: e
            .attributes
            .into_iter()
            .map(|a| p::Attribute {
                name: a.name,
                value: match a.value {
                    t::AttributeValue::Text(text) => p::AttributeValue::Text(text),
                    t::AttributeValue::Integer(n) => p::AttributeValue::Integer(n),
                    t::AttributeValue::Boolean(b) => p::AttributeValue::Boolean(b),
                },
            })
            .collect(),
    }
}

fn badge(b: p::Badge) -> t::Badge {
    let level = match b.level {
        p::BadgeLevel::Bronze => t::BadgeLevel::Bronze,
        p::BadgeLevel::Silver => t::BadgeLevel::Silver,
        p::BadgeLevel::Gold => t::BadgeLevel::Gold,
    };
    t::Badge { id: b.id, name: b.name, level, description: b.description }
}

fn tier(x: p::Tier) -> t::Tier {
    t::Tier { id: x.id, name: x.name, description: x.description }
}

fn figure(f: p::Figure) -> t::Figure {
    t::Figure { key: f.key, label: f.label, value: f.value, threshold: f.threshold }
}

fn effect(effect: p::Effect) -> t::Effect {
    match effect {
        p::Effect::AwardPoints { member, delta, rule, reason } => {
            t::Effect::AwardPoints(t::Award { member, delta, rule, reason })
        }
        p::Effect::GrantBadge { member, badge, reason } => {
            t::Effect::GrantBadge(t::BadgeChange { member, badge, reason })
        }
        p::Effect::RevokeBadge { member, badge, reason } => {
            t::Effect::RevokeBadge(t::BadgeChange { member, badge, reason })
        }
        p::Effect::GrantAccess { member, tier, reason } => {
            t::Effect::GrantAccess(t::AccessChange { member, tier, reason })
        }
        p::Effect::RevokeAccess { member, tier, reason } => {
            t::Effect::RevokeAccess(t::AccessChange { member, tier, reason })
        }
        p::Effect::Nominate { member, tier, evidence } => t::Effect::Nominate(t::Nomination {
            member,
            tier,
            evidence: t::Evidence {
                summary: evidence.summary,
                figures: evidence.figures.into_iter().map(figure).collect(),
                posts: evidence.posts,
                gaming_flags: evidence.gaming_flags,
            },
        }),
        p::Effect::NotifyModerators { member, topic, message } => {
            t::Effect::NotifyModerators(t::Notice { member, topic, message })
        }
    }
}
