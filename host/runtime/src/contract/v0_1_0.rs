//! `cadre:forum@0.1.0`: its generated bindings and their conversions to and from the host's model.
//!
//! The only import, `store`, is `trappable`: a store call that breaks a limit returns a typed error that aborts
//! the hook (see [`crate::store`]), instead of handing the guest an error it could ignore. Its calls forward to the
//! newest version's ([`super::latest`]), which holds the logic. The conversions are one to one, except the context 0.2.0
//! added to two events (a post's question author, a like's category), which a 0.1.0 program is not given. 0.1.0 has no external events: the host never
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

/// 0.1.0's post has no `question-author`: the model's is dropped.
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

/// 0.1.0's like has no `post-category`: the model's is dropped.
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
