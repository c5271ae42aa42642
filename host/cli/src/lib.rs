//! The `cadre` command and the glue over Cadre's crates.
//!
//! Owns: the command line ([`cli`]: parsing, then one module per command group), the host's own settings file
//! ([`settings`]), the demo community ([`demo`], with its deterministic generator [`rng`]) and the benchmarks
//! ([`bench`], which return figures; the CLI turns them into output and exit codes). Does not own anything the
//! commands act on: that lives in the crates below, one direction only —
//!
//! ```text
//! cadre (this crate) ─┬─> cadre-web ────┐
//!                     └─> cadre-import ─┴─> cadre-core ─> cadre-runtime ─> cadre-model
//! ```
//!
//! The re-exports below give the end-to-end tests and embedders one path to each crate (`cadre::forum`,
//! `cadre::runtime`, …).

pub mod bench;
pub mod cli;
pub mod demo;
pub mod rng;
pub mod settings;

pub use cadre_bundled as bundled;
pub use cadre_core::{Forum, ForumError, db, events, forum, program};
pub use cadre_discourse as discourse;
pub use cadre_import::{ingest, replay};
pub use cadre_model as model;
pub use cadre_runtime as runtime;
pub use cadre_web as web;
