//! The Cadre super-user program, as plain Rust.
//!
//! This crate owns the *rules*: how events become points, badges, tier access and nominations. It knows nothing
//! of WebAssembly or of the host: events come in as [`model`] types, state lives in a [`Kv`] store, and effects
//! go out as [`model::Effect`]s. `plugin/component` wraps it as a component (converting WIT types to these), and
//! the host calls it natively for benchmarks. It is `no_std` + `alloc` so that the component imports nothing but
//! its contract (no WASI).
//!
//! Modules: [`config`] (settings, validation, the documented list of settings), `scoring` (points, caps, exact
//! refunds), `accepts` (accept points and their refunds), `antigaming` (per-pair limits, young accounts, mutual-like flags), `badges` (ladders), `tiers`
//! (qualification, review, invited vs earned, inactivity), `record` (member record and nomination evidence),
//! `state` (the per-member record in the store), [`presets`] (the TOML presets), `program` (the entry points).
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

mod accepts;
mod antigaming;
mod badges;
pub mod config;
mod external;
pub mod kv;
pub mod presets;
mod program;
mod record;
mod scoring;
mod state;
mod tiers;

pub use cadre_model as model;
pub use config::{Config, ConfigError};
pub use kv::{Kv, MemoryKv};
pub use program::{PLUGIN_NAME, PLUGIN_VERSION, Program};
pub use tiers::{TICK_EFFECTS, TICK_MEMBERS};
