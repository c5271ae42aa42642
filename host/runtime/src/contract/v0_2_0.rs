//! `cadre:forum@0.2.0`, the newest contract version (aliased as [`super::latest`]): its generated bindings and
//! their conversions to and from the host's model. It holds the import logic: the `store` calls live in
//! [`crate::store`] on this version's trait, the `log` call in [`crate::log`]; the 0.1.0 module forwards to them.
//!
//! The imports are `trappable`: a store call that breaks a limit returns a typed error that aborts the hook,
//! instead of handing the guest an error it could ignore. The conversions are one to one: every field of every
//! record has a home in the model, so nothing is lost either way. What 0.2.0 adds to 0.1.0: the external event
//! and the context of a post (its question's author) and of a like (its post's category), converted here; and the
//! log import.

use cadre_model as m;

wasmtime::component::bindgen!({
    path: "../../wit/0.2.0",
    world: "plugin",
    imports: { default: trappable },
});

pub use self::cadre::forum::types as t;

/// This module's contract version.
pub const VERSION: &str = "0.2.0";

// The records both versions share: one set of conversions (`shared_conversions!` in `contract/mod.rs`).
shared_conversions!();

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
            question_author: e.question_author,
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
            post_category: e.post_category,
        }
    }
}

impl From<&m::ExternalEvent> for t::ExternalEvent {
    fn from(e: &m::ExternalEvent) -> t::ExternalEvent {
        t::ExternalEvent {
            kind: e.kind.clone(),
            member: e.member,
            at: e.at,
            source: e.source.clone(),
            external_id: e.external_id.clone(),
            attributes: e
                .attributes
                .iter()
                .map(|a| t::Attribute {
                    name: a.name.clone(),
                    value: match &a.value {
                        m::AttributeValue::Text(text) => t::AttributeValue::Text(text.clone()),
                        m::AttributeValue::Integer(n) => t::AttributeValue::Integer(*n),
                        m::AttributeValue::Boolean(b) => t::AttributeValue::Boolean(*b),
                    },
                })
                .collect(),
        }
    }
}

/// The `types` interface has no functions; the linker still wants its (empty) host trait.
impl t::Host for crate::store::HostState {}
