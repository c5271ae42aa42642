//! Host-side bindings generated from `wit/forum.wit` (`cadre:forum@0.1.0`).
//!
//! The only import, `store`, is `trappable`: a store call that breaks a limit returns a typed error that aborts
//! the hook (see [`super::kv`]), instead of handing the guest an error it could ignore.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "plugin",
    imports: { default: trappable },
    additional_derives: [serde::Serialize, serde::Deserialize],
});

pub use self::cadre::forum::types::*;

/// The WIT package version this host speaks.
pub const CONTRACT_VERSION: &str = "0.1.0";
/// The WIT package this host speaks, as it appears in component import/export names.
pub const CONTRACT_PACKAGE: &str = "cadre:forum";
