//! The [`Plugin`] trait a program implements — every hook has a default that does nothing, so a program writes only
//! the hooks it needs — and the functions the component glue and native tests share ([`describe`], [`configure`]).
//!
//! Owns: what `describe` and `configure` answer, derived from the plugin's constants and its settings table, so the
//! two cannot disagree. Does not own: the bindings (`guest`, WebAssembly only) or the store (`store`).

use alloc::vec::Vec;

use crate::settings::{Setting, Settings};
use crate::store::Store;
use crate::types::{
    Accept, Badge, ConfigError, Declaration, Effect, ExternalEvent, Figure, Info, Like, MemberId, ModeratorAction,
    PostCreated, Tier, Timestamp,
};

/// A super-user program. Implement the constants, [`Plugin::configure`] and the hooks you need; export it with
/// [`export_plugin!`](crate::export_plugin). The host calls `configure` on every fresh instance before any hook, so
/// a value of `Self` is "the program under these settings"; everything that must last between events goes in the
/// [`Store`].
pub trait Plugin: Sized + 'static {
    /// The program's name (`describe`'s `name`).
    const NAME: &'static str;
    /// Its version (semantic versioning).
    const VERSION: &'static str;
    /// Every setting it understands, with its default: `describe` lists this table and `configure("")` adopts its
    /// defaults.
    const SETTINGS: &'static [Setting] = &[];

    /// The program under `settings` (already checked against [`Plugin::SETTINGS`]). Return errors for rules between
    /// settings ([`Settings::error`] gives them a path and line).
    fn configure(settings: &Settings) -> Result<Self, Vec<ConfigError>>;

    /// The badges effects may name under this configuration (none by default).
    fn badges(&self) -> Vec<Badge> {
        Vec::new()
    }

    /// The tiers effects may name under this configuration (none by default).
    fn tiers(&self) -> Vec<Tier> {
        Vec::new()
    }

    /// A post (question, answer or reply) was created.
    fn on_post_created(&self, _store: &mut dyn Store, _event: &PostCreated) -> Vec<Effect> {
        Vec::new()
    }
    /// A like was added.
    fn on_like_added(&self, _store: &mut dyn Store, _event: &Like) -> Vec<Effect> {
        Vec::new()
    }
    /// A like was removed (same `like` id as the like it reverses).
    fn on_like_removed(&self, _store: &mut dyn Store, _event: &Like) -> Vec<Effect> {
        Vec::new()
    }
    /// An answer was accepted.
    fn on_answer_accepted(&self, _store: &mut dyn Store, _event: &Accept) -> Vec<Effect> {
        Vec::new()
    }
    /// An acceptance was withdrawn.
    fn on_answer_unaccepted(&self, _store: &mut dyn Store, _event: &Accept) -> Vec<Effect> {
        Vec::new()
    }
    /// A moderator acted.
    fn on_moderator_action(&self, _store: &mut dyn Store, _event: &ModeratorAction) -> Vec<Effect> {
        Vec::new()
    }
    /// Time passed (at least daily).
    fn on_tick(&self, _store: &mut dyn Store, _now: Timestamp) -> Vec<Effect> {
        Vec::new()
    }
    /// Something happened to a member outside the forum.
    fn on_external_event(&self, _store: &mut dyn Store, _event: &ExternalEvent) -> Vec<Effect> {
        Vec::new()
    }
    /// A moderator's view of a member (read-only: the host discards writes made here).
    fn member_record(&self, _store: &mut dyn Store, _member: MemberId, _now: Timestamp) -> Vec<Figure> {
        Vec::new()
    }
}

/// What the program says about itself: its name, version, settings table and the badges and tiers of its defaults.
/// Panics if the defaults do not configure (a native test calling this finds such a mistake before any host does).
pub fn describe<P: Plugin>() -> Info {
    let defaults = match configure::<P>("") {
        Ok(plugin) => plugin,
        Err(errors) => panic!("{} refuses its own default settings: {errors:?}", P::NAME),
    };
    Info {
        name: P::NAME.into(),
        version: P::VERSION.into(),
        badges: defaults.badges(),
        tiers: defaults.tiers(),
        settings: crate::settings::describe(P::SETTINGS),
    }
}

/// The program under a moderator's TOML settings (`""`: every default), or every error found.
pub fn configure<P: Plugin>(settings: &str) -> Result<P, Vec<ConfigError>> {
    let settings = Settings::parse(P::SETTINGS, settings)?;
    P::configure(&settings)
}

/// What a configured program declares.
pub fn declaration<P: Plugin>(plugin: &P) -> Declaration {
    Declaration { badges: plugin.badges(), tiers: plugin.tiers() }
}
