//! Cadre's host: a small forum with a sandboxed super-user program plugged into it.
//!
//! Modules, one concern each: [`db`] (SQLite schema and migrations), [`forum`] (members, posts, likes, accepts, visibility), [`events`] (the exactly-once event pipeline), [`program`] (effects, ledger, audit), [`runtime`] (wasmtime embedding: load, cache, limits, calls), [`web`] (the web forum, moderator panel and JSON API), [`cli`] (the `cadre`
//! command line), [`bundled`] (the program component built from `plugin/`), [`native`] (the same rules linked natively, for comparison), [`bench`] (the benchmarks).

pub mod bench;
pub mod bundled;
pub mod cli;
pub mod db;
pub mod events;
pub mod forum;
pub mod ingest;
pub mod native;
pub mod program;
pub mod replay;
pub mod rng;
pub mod runtime;
pub mod settings;
pub mod web;
