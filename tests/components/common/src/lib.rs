//! What every hostile test component shares: the `cadre:forum@0.1.0` bindings, the no_std runtime, a harmless
//! default for every export, and [`hostile_component!`] to export a type that overrides just its attack.
//!
//! Each hostile component declares one badge (`"declared"`) and one tier (`"insiders"`), so the host's
//! validation of *undeclared* names can be told apart from a plugin that declares nothing.
#![no_std]

extern crate alloc;

// Allocator, panic handler, `cabi_realloc` and `memcmp`.
extern crate cadre_guest_rt;

pub use alloc::string::String;
pub use alloc::vec::Vec;

wit_bindgen::generate!({
    path: "../../../wit/0.1.0",
    world: "plugin",
    pub_export_macro: true,
    default_bindings_module: "hostile_common",
});

pub use cadre::forum::{store, types};
pub use exports::cadre::forum::{hooks, program};

/// What the hostile components declare.
pub fn declaration() -> types::Declaration {
    types::Declaration {
        badges: alloc::vec![types::Badge {
            id: "declared".into(),
            name: "Declared".into(),
            level: types::BadgeLevel::Bronze,
            description: "The only badge hostile components declare".into(),
        }],
        tiers: alloc::vec![types::Tier {
            id: "insiders".into(),
            name: "Insiders".into(),
            description: "A tier".into()
        }],
    }
}

/// `describe` for a hostile component named `name`.
pub fn describe(name: &str) -> types::PluginInfo {
    let declaration = declaration();
    types::PluginInfo {
        name: name.into(),
        version: "0.0.1".into(),
        badges: declaration.badges,
        tiers: declaration.tiers,
        settings: Vec::new(),
    }
}

/// An honest award of one point, for hooks that should behave.
pub fn one_point(member: u64) -> Vec<types::Effect> {
    alloc::vec![types::Effect::AwardPoints(types::Award {
        member,
        delta: 1,
        rule: "ok".into(),
        reason: "a harmless hook".into(),
    })]
}

/// The hooks; every default behaves (awards the post's author one point on a like), so each component overrides
/// only its attack.
pub trait Hostile {
    /// `on-like-added`.
    fn like_added(event: types::Like) -> Vec<types::Effect> {
        store::set("last-like", &event.like.to_le_bytes());
        one_point(event.post_author.unwrap_or(0))
    }
    /// `on-post-created`.
    fn post_created(_event: types::PostCreated) -> Vec<types::Effect> {
        Vec::new()
    }
    /// `on-tick`.
    fn tick(_now: types::Timestamp) -> Vec<types::Effect> {
        Vec::new()
    }
    /// `on-moderator-action`.
    fn moderator_action(_event: types::ModeratorAction) -> Vec<types::Effect> {
        Vec::new()
    }
    /// `configure`: accepts anything and declares [`declaration`].
    fn configure(_settings: String) -> Result<types::Declaration, Vec<types::ConfigError>> {
        Ok(declaration())
    }
}

/// Export `$t` (which implements [`Hostile`]) as the component.
#[macro_export]
macro_rules! hostile_component {
    ($t:ident) => {
        impl $crate::program::Guest for $t {
            fn describe() -> $crate::types::PluginInfo {
                $crate::describe(stringify!($t))
            }
            fn configure(settings: $crate::String) -> Result<$crate::types::Declaration, $crate::Vec<$crate::types::ConfigError>> {
                <$t as $crate::Hostile>::configure(settings)
            }
            fn member_record(_member: u64, _now: i64) -> $crate::Vec<$crate::types::Figure> {
                $crate::Vec::new()
            }
        }
        impl $crate::hooks::Guest for $t {
            fn on_post_created(event: $crate::types::PostCreated) -> $crate::Vec<$crate::types::Effect> {
                <$t as $crate::Hostile>::post_created(event)
            }
            fn on_like_added(event: $crate::types::Like) -> $crate::Vec<$crate::types::Effect> {
                <$t as $crate::Hostile>::like_added(event)
            }
            fn on_like_removed(_event: $crate::types::Like) -> $crate::Vec<$crate::types::Effect> {
                $crate::Vec::new()
            }
            fn on_answer_accepted(_event: $crate::types::Accept) -> $crate::Vec<$crate::types::Effect> {
                $crate::Vec::new()
            }
            fn on_answer_unaccepted(_event: $crate::types::Accept) -> $crate::Vec<$crate::types::Effect> {
                $crate::Vec::new()
            }
            fn on_moderator_action(event: $crate::types::ModeratorAction) -> $crate::Vec<$crate::types::Effect> {
                <$t as $crate::Hostile>::moderator_action(event)
            }
            fn on_tick(now: i64) -> $crate::Vec<$crate::types::Effect> {
                <$t as $crate::Hostile>::tick(now)
            }
        }
        $crate::export!($t with_types_in $crate);
    };
}
