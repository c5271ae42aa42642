//! Cadre's host: a small forum with a sandboxed super-user program plugged into it.
//!
//! Modules, one concern each: [`runtime`] (wasmtime embedding: load, cache, limits, calls), [`cli`] (the `cadre`
//! command line), [`bundled`] (the program component built from `plugin/`), [`native`] (the same rules linked natively, for comparison), [`bench`] (the benchmarks).

pub mod bench;
pub mod bundled;
pub mod cli;
pub mod native;
pub mod runtime;
