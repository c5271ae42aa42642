//! The Cadre super-user program, as plain Rust.
//!
//! This crate owns the *rules*: how events become points, badges, tier access and nominations. It knows nothing
//! of WebAssembly or of the host: events come in as [`model`] types, state lives in a [`Kv`] store, and effects
//! go out as [`model::Effect`]s. `plugin/component` wraps it as a component (converting WIT types to these), and
//! the host calls it natively for benchmarks. It is `no_std` + `alloc` so that the component imports nothing but
//! its contract (no WASI).
#![no_std]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod config;
pub mod kv;
pub mod model;
mod program;
mod scoring;

pub use config::{Config, ConfigError};
pub use kv::{Kv, MemoryKv};
pub use program::{PLUGIN_NAME, PLUGIN_VERSION, Program};
