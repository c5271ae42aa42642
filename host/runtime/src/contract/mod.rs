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
