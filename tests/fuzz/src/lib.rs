//! The checks behind Cadre's fuzz targets, one module per target, each a `run(data: &[u8])` that panics when the
//! input breaks one of Cadre's promises (and only then).
//!
//! The libFuzzer targets in `fuzz/fuzz_targets/` (a crate of its own, nightly, outside the default workspace) are
//! one line each over these functions; this crate is a member of the main workspace, and its stable test
//! (`tests/regressions.rs`) runs every crash the fuzzers found, kept in `fuzz/regressions/<target>/`, and the
//! small seed corpora in `fuzz/seeds/<target>/` through the same functions. `fuzz/seeds/build.py` makes the
//! corpora and the seeds from real files.
//!
//! Modules: [`ingest`] (a JSON Lines file through `cadre ingest`'s reader), [`settings`] (the program's TOML
//! through the bundled component's `configure`, against the native rules), [`stackexchange`] (dump files through
//! `cadre replay`), [`effects`] (the host's effect validation), [`differential`] (the bundled component against
//! the native rules over event sequences), [`web`] (forms and JSON bodies through the router). [`common`] holds
//! what they share (a runtime with an artifact cache, a template forum database).
//!
//! Does not own any product behaviour: a crash found here is fixed in the crate it comes from.

pub mod common;
pub mod differential;
pub mod effects;
pub mod ingest;
pub mod settings;
pub mod stackexchange;
pub mod web;
