//! The super-user program bundled with Cadre: the component built from `plugin/` by `build.rs`, embedded in the
//! binary so that `cadre` can install it with no file to find.

/// The bundled program component's bytes.
pub const PROGRAM_WASM: &[u8] = include_bytes!(env!("CADRE_PLUGIN_WASM"));

/// Where the built test components are (hostile fixtures, for the end-to-end tests).
pub const TEST_COMPONENTS_DIR: &str = env!("CADRE_TEST_COMPONENTS");
