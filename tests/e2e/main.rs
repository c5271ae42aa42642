//! End-to-end tests: the real host with the real compiled components (built by host/build.rs).
//!
//! One test binary, one module per area (as wasmtime's `tests/all`):

/// Shared helpers: runtimes, components, events.
mod util;

/// Loading: the artifact cache, refusing non-components and other contract versions.
mod loading;

/// Every hostile component in tests/components, each against the limit it must trip.
mod hostile;

/// The bundled super-user program through the component: events in, validated effects out.
mod program;

/// The forum shim: SQLite, the exactly-once pipeline, ledger, queue, visibility.
mod forum;

/// The `cadre` binary: `plugin inspect`.
mod cli;

/// `cadre replay` on the Cardano Stack Exchange dump: exact agreement, resuming after kill -9.
mod replay;
