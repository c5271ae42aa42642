//! Typed failures of loading and calling a plugin. Every error names the plugin and its version.

use std::path::PathBuf;

/// Which plugin, for error messages: `cadre-superuser 0.1.0`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PluginName {
    /// Name from `describe` (or the file name before `describe` could run).
    pub name: String,
    /// Version from `describe` (empty before `describe` could run).
    pub version: String,
}

impl std::fmt::Display for PluginName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.version.is_empty() { write!(f, "{}", self.name) } else { write!(f, "{} {}", self.name, self.version) }
    }
}

/// Why loading a component failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read plugin file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a WebAssembly component (a core module, or not wasm at all).
    #[error("{what} is not a WebAssembly component: {detail}")]
    NotAComponent {
        /// The file or source.
        what: String,
        /// What wasmtime said.
        detail: String,
    },
    /// The component speaks another version of the contract, or not this contract at all.
    #[error(
        "{what} does not speak this host's contract: it {found}; this host speaks {host} (a plugin exports \
         cadre:forum/program and cadre:forum/hooks of one of these versions)"
    )]
    ContractMismatch {
        /// The file or source.
        what: String,
        /// What the component exports or imports instead.
        found: String,
        /// The versions the host speaks.
        host: &'static str,
    },
    /// `describe` failed while loading.
    #[error("{what}: describe failed: {source}")]
    Describe {
        /// The file or source.
        what: String,
        /// The call's failure.
        source: Box<CallError>,
    },
    /// Any other engine failure (compiling, caching).
    #[error("{what}: {detail}")]
    Engine {
        /// The file or source.
        what: String,
        /// What went wrong.
        detail: String,
    },
}

/// Why a call into a plugin failed. The call had no effect: its store writes are discarded and, if it trapped,
/// its instance too.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin {plugin}: {kind}")]
pub struct CallError {
    /// Which plugin.
    pub plugin: PluginName,
    /// What happened.
    pub kind: CallErrorKind,
}

/// What went wrong in a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallErrorKind {
    /// The call used up its fuel.
    #[error("ran out of fuel ({fuel} units per call)")]
    OutOfFuel {
        /// The per-call fuel limit.
        fuel: u64,
    },
    /// The call ran past its wall-clock deadline.
    #[error("ran past its deadline of {millis} ms")]
    Deadline {
        /// The deadline.
        millis: u64,
    },
    /// The call tried to grow memory past the limit.
    #[error("exceeded its memory limit: tried to grow linear memory to {requested} bytes, limit {limit}")]
    MemoryLimit {
        /// Bytes requested.
        requested: usize,
        /// The limit.
        limit: usize,
    },
    /// The guest trapped (a panic, `unreachable`, out-of-bounds access …).
    #[error("trapped: {message}")]
    Trap {
        /// The trap message.
        message: String,
    },
    /// The guest called an import Cadre does not provide (WASI filesystem, clocks, random, …).
    #[error(
        "called `{import}`, which Cadre does not provide (plugins get no filesystem, clock, network, randomness or environment)"
    )]
    ForbiddenImport {
        /// The import's name.
        import: String,
    },
    /// A key/value call broke a limit.
    #[error("key/value store limit: {what}")]
    StoreLimit {
        /// Which limit, with the numbers.
        what: String,
    },
    /// The call returned more effects than allowed.
    #[error("returned {count} effects; at most {limit} are allowed per call")]
    TooManyEffects {
        /// How many it returned.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// An effect was refused.
    #[error("invalid effect #{index} ({effect}): {reason}")]
    InvalidEffect {
        /// Its position in the returned list (0-based).
        index: usize,
        /// A short description (`grant-badge "gold-star" to member 7`).
        effect: String,
        /// Why (undeclared badge, unknown tier, oversized string …).
        reason: String,
    },
    /// The plugin has not been configured (its configuration was refused).
    #[error("is not configured: {detail}")]
    NotConfigured {
        /// Why.
        detail: String,
    },
    /// The host's own store backend failed (not the plugin's fault, e.g. a database error).
    #[error("store backend failed: {detail}")]
    Backend {
        /// What failed.
        detail: String,
    },
    /// Instantiating failed (e.g. its initial memory is over the limit).
    #[error("could not be instantiated: {detail}")]
    Instantiate {
        /// What wasmtime said.
        detail: String,
    },
}
