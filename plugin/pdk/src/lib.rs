//! `cadre-pdk`: the kit for writing a Cadre super-user program (a plugin) in Rust.
//!
//! A program is a type implementing [`Plugin`]: two constants (name, version), a settings table, `configure`, and
//! only the hooks it needs (every hook defaults to "no effects"). [`export_plugin!`] turns it into a WebAssembly
//! component speaking `cadre:forum@0.2.0`; the same crate builds natively, where the hooks are plain functions
//! a test calls with a [`MemoryStore`].
//!
//! ```
//! use cadre_pdk::prelude::*;
//!
//! /// One point per answer.
//! struct Answers {
//!     points: i64,
//! }
//!
//! impl Plugin for Answers {
//!     const NAME: &'static str = "answers";
//!     const VERSION: &'static str = "0.1.0";
//!     const SETTINGS: &'static [Setting] =
//!         &[Setting::integer("points-per-answer", 1, 0, 100, "Points for each answer")];
//!
//!     fn configure(settings: &Settings) -> Result<Self, Vec<ConfigError>> {
//!         Ok(Answers { points: settings.integer("points-per-answer") })
//!     }
//!
//!     fn on_post_created(&self, _store: &mut dyn Store, event: &PostCreated) -> Vec<Effect> {
//!         match (event.kind, event.author) {
//!             (PostKind::Answer, Some(author)) => vec![Effect::award(author, self.points, "answer", "an answer")],
//!             _ => Vec::new(),
//!         }
//!     }
//! }
//!
//! cadre_pdk::export_plugin!(Answers);
//!
//! // Natively, a test calls the hooks with an in-memory store.
//! let plugin: Answers = cadre_pdk::configure("points-per-answer = 2").unwrap();
//! let answer = PostCreated {
//!     post: 2, kind: PostKind::Answer, author: Some(7), parent: Some(1), category: 1, at: 0,
//!     author_joined: None, question_author: Some(3),
//! };
//! let effects = plugin.on_post_created(&mut MemoryStore::new(), &answer);
//! assert_eq!(effects, vec![Effect::award(7, 2, "answer", "an answer")]);
//! ```
//!
//! What it carries:
//! - the contract (`wit/forum.wit`, `cadre:forum@0.2.0`) and, in the WebAssembly build only, its bindings and the
//!   guest runtime (allocator, a panic handler that passes the panic's message to the host's error, and the
//!   canonical ABI's `cabi_realloc`), so the component imports nothing but its contract;
//! - [`types`]: the contract's records as plain Rust types, the same in both builds;
//! - [`Store`] and [`MemoryStore`]; [`log`]; [`Settings`] with path/line errors from one [`Setting`] table that
//!   yields both `describe` and the defaults.
//!
//! A plugin crate is `#![cfg_attr(target_arch = "wasm32", no_std)]` (its WebAssembly build links this crate's
//! panic handler instead of std's, which would import WASI) and uses `alloc` (the [`prelude`] re-exports `String`,
//! `Vec`, `format!` and `vec!`). `cadre plugin new NAME` writes such a crate.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[doc(hidden)]
pub extern crate alloc as __alloc;

#[cfg(target_arch = "wasm32")]
pub mod guest;
pub mod log;
mod plugin;
pub mod settings;
pub mod store;
pub mod types;

pub use plugin::{Plugin, configure, declaration, describe};
pub use settings::{Setting, Settings};
pub use store::{MemoryStore, Store};

/// The contract version this crate speaks.
pub const CONTRACT: &str = "cadre:forum@0.2.0";

/// The contract's WIT text (`wit/forum.wit`), as carried by this crate.
pub const WIT: &str = include_str!("../wit/forum.wit");

/// Everything a plugin usually names: `use cadre_pdk::prelude::*;`.
pub mod prelude {
    pub use crate::log;
    pub use crate::settings::{Setting, Settings};
    pub use crate::store::{MemoryStore, Store};
    pub use crate::types::*;
    pub use crate::{Plugin, export_plugin};
    pub use alloc::borrow::ToOwned;
    pub use alloc::string::{String, ToString};
    pub use alloc::vec::Vec;
    pub use alloc::{format, vec};
}

/// Export `$plugin` (a type implementing [`Plugin`](crate::Plugin)) as the component's `program` and `hooks`.
/// Expands to nothing in a native build, so the same crate builds for `cargo test`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::guest::bindings::cadre::forum::types as __t;
            use $crate::guest::bindings::exports::cadre::forum::{hooks as __hooks, program as __program};
            use $crate::guest as __g;

            static __CADRE_PLUGIN: __g::Slot<$plugin> = __g::Slot::new();
            struct __CadreComponent;

            impl __program::Guest for __CadreComponent {
                fn describe() -> __t::PluginInfo {
                    __g::describe::<$plugin>()
                }
                fn configure(
                    settings: $crate::__alloc::string::String,
                ) -> ::core::result::Result<__t::Declaration, $crate::__alloc::vec::Vec<__t::ConfigError>> {
                    __g::configure(&__CADRE_PLUGIN, settings)
                }
                fn member_record(member: u64, now: i64) -> $crate::__alloc::vec::Vec<__t::Figure> {
                    __g::member_record(&__CADRE_PLUGIN, member, now)
                }
            }

            impl __hooks::Guest for __CadreComponent {
                fn on_post_created(event: __t::PostCreated) -> $crate::__alloc::vec::Vec<__t::Effect> {
                    let event = __g::post_created(event);
                    __g::hook(&__CADRE_PLUGIN, |p, s| $crate::Plugin::on_post_created(p, s, &event))
                }
                fn on_like_added(event: __t::Like) -> $crate::__alloc::vec::Vec<__t::Effect> {
                    let event = __g::like(event);
                    __g::hook(&__CADRE_PLUGIN, |p, s| $crate::Plugin::on_like_added(p, s, &event))
                }
                fn on_like_removed(event: __t::Like) -> $crate::__alloc::vec::Vec<__t::Effect> {
                    let event = __g::like(event);
                    __g::hook(&__CADRE_PLUGIN, |p, s| $crate::Plugin::on_like_removed(p, s, &event))
                }
                fn on_answer_accepted(event: __t::Accept) -> $crate::__alloc::vec::Vec<__t::Effect> {
                    let event = __g::accept(event);
                    __g::hook(&__CADRE_PLUGIN, |p, s| $crate::Plugin::on_answer_accepted(p, s, &event))
                }
                fn on_answer_unaccepted(event: __t::Accept) -> $crate::__alloc::vec::Vec<__t::Effect> {
                    let event = __g::accept(event);
                    __g::hook(&__CADRE_PLUGIN, |p, s| $crate::Plugin::on_answer_unaccepted(p, s, &event))
                }
                fn on_moderator_action(event: __t::ModeratorAction) -> $crate::__alloc::vec::Vec<__t::Effect> {
                    let event = __g::moderator_action(event);
                    __g::hook(&__CADRE_PLUGIN, |p, s| $crate::Plugin::on_moderator_action(p, s, &event))
                }
                fn on_tick(now: i64) -> $crate::__alloc::vec::Vec<__t::Effect> {
                    __g::hook(&__CADRE_PLUGIN, |p, s| $crate::Plugin::on_tick(p, s, now))
                }
                fn on_external_event(event: __t::ExternalEvent) -> $crate::__alloc::vec::Vec<__t::Effect> {
                    let event = __g::external_event(event);
                    __g::hook(&__CADRE_PLUGIN, |p, s| $crate::Plugin::on_external_event(p, s, &event))
                }
            }

            $crate::guest::bindings::__cadre_pdk_export_bindings!(__CadreComponent with_types_in $crate::guest::bindings);
        };
    };
}
