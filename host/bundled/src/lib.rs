//! The WebAssembly components built from this repository by `build.rs`: the bundled super-user program, embedded
//! so that `cadre` can install it with no file to find, and the directory of the hostile test components.
//!
//! Owns nothing else. It is a crate of its own so that the slow nested guest build runs only when a guest's
//! sources change, and so that every crate that needs the program (the importers, the command) reaches it the
//! same way.

/// The bundled program component's bytes.
pub const PROGRAM_WASM: &[u8] = include_bytes!(env!("CADRE_PLUGIN_WASM"));

/// Where the built test components are (hostile fixtures, for the end-to-end tests).
pub const TEST_COMPONENTS_DIR: &str = env!("CADRE_TEST_COMPONENTS");
