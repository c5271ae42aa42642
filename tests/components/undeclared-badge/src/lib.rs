//! Must provoke: invalid effect (undeclared badge, unknown tier). on-like-added grants a badge it never declared; on-post-created grants access to a tier it never declared.
#![no_std]

use hostile_common::*;

struct UndeclaredBadge;

impl Hostile for UndeclaredBadge {
    fn like_added(event: types::Like) -> Vec<types::Effect> {
        store::set("written-before-the-grant", b"x");
        let member = event.post_author.unwrap_or(0);
        let mut effects = one_point(member);
        effects.push(types::Effect::GrantBadge(types::BadgeChange {
            member,
            badge: "platinum-unicorn".into(),
            reason: "never declared".into(),
        }));
        effects
    }

    fn post_created(event: types::PostCreated) -> Vec<types::Effect> {
        alloc::vec![types::Effect::GrantAccess(types::AccessChange {
            member: event.author.unwrap_or(0),
            tier: "secret-cabal".into(),
            reason: "never declared".into(),
        })]
    }
}

extern crate alloc;
hostile_component!(UndeclaredBadge);
