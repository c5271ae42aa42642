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

// The records both versions share: one set of conversions (`shared_conversions!` in `contract/mod.rs`).
shared_conversions!();

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
