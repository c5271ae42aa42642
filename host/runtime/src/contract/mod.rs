//! The contract versions this host speaks, one module each: the bindings `wasmtime::component::bindgen!` generates
//! from that version's WIT folder, and the conversions between them and the host's own model (`cadre-model`).
//!
//! Nothing outside this folder sees generated types: the rest of the host, the event log included, speaks the
//! model. Adding a contract version is a new module here (bindgen over its WIT folder, `From` conversions, and the
//! calls it adds) plus a branch in the loader that picks the module by the component's exports; the pipeline and
//! the log do not change.

pub mod v0_1_0;

/// The WIT package this host speaks, as it appears in component import/export names.
pub const CONTRACT_PACKAGE: &str = "cadre:forum";
