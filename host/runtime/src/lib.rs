//! The plugin runtime: wasmtime with the component model, running untrusted super-user programs under limits.
//!
//! Owns: the engine and its configuration (fuel, epochs), the epoch ticker thread, loading a component (finding
//! which contract version it speaks, `cadre:forum@0.1.0` or `@0.2.0`, from its exports; compiling once and caching the artifact by content hash, pre-linking it into an
//! `InstancePre`), and calling it ([`Plugin`]). Does not own: where events come from, what effects mean, or where
//! plugin state is persisted (the forum pipeline passes a [`KvBackend`]).

pub mod cache;
pub mod contract;
pub mod error;
mod instance;
pub mod limits;
pub mod log;
pub mod store;
pub mod validate;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine};

pub use cadre_model::Event;
pub use contract::CONTRACT_PACKAGE;

/// The newest contract version this host speaks (it speaks every one in [`contract::VERSIONS`]).
pub const CONTRACT_VERSION: &str = contract::latest::VERSION;
/// The versions this host speaks, as error messages name them.
pub const SPOKEN_VERSIONS: &str = "cadre:forum@0.1.0 and cadre:forum@0.2.0";
pub use cache::{ArtifactCache, Origin};
pub use error::{CallError, CallErrorKind, LoadError, PluginName};
pub use instance::{CONFIGURE_FUEL_FACTOR, Plugin};
pub use limits::Limits;
pub use log::{LogLevel, LogLine};
pub use store::{HostState, KvBackend, MemoryBackend};

/// Increments the engine's epoch at a fixed interval so that epoch deadlines measure wall-clock time.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: Engine, tick: std::time::Duration) -> EpochTicker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("cadre-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(tick);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        EpochTicker { stop, thread: Some(thread) }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The engine, linker, limits and artifact cache shared by every plugin loaded from it.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    limits: Arc<Limits>,
    cache: Option<ArtifactCache>,
    _ticker: EpochTicker,
}

/// What loading a component reported besides the plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadReport {
    /// Compiled now or loaded from the artifact cache.
    pub origin: Origin,
}

impl Runtime {
    /// A runtime with these limits; `cache` is where compiled artifacts are kept (none: compile every time).
    pub fn new(limits: Limits, cache: Option<ArtifactCache>) -> wasmtime::Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.consume_fuel(limits.fuel_per_call.is_some());
        config.epoch_interruption(true);
        // Plugins are synchronous: skipping the async task bookkeeping roughly halves the cost of a call.
        config.concurrency_support(false);
        let engine = Engine::new(&config)?;
        let mut linker = Linker::new(&engine);
        contract::add_to_linker(&mut linker)?;
        let ticker = EpochTicker::start(engine.clone(), limits.epoch_tick);
        Ok(Runtime { engine, linker, limits: Arc::new(limits), cache, _ticker: ticker })
    }

    /// The engine (for benchmarks).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The limits every call runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Load a component file.
    pub fn load_file(&self, path: &Path) -> Result<(Plugin, LoadReport), LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
        self.load_bytes(&path.display().to_string(), &bytes)
    }

    /// Load a component from bytes; `what` names it in errors (a file name).
    pub fn load_bytes(&self, what: &str, bytes: &[u8]) -> Result<(Plugin, LoadReport), LoadError> {
        let engine_error = |e: wasmtime::Error| LoadError::Engine { what: what.to_owned(), detail: format!("{e:#}") };
        check_is_component(what, bytes)?;
        let hash = cache::content_hash(bytes);
        let (component, origin) = match &self.cache {
            Some(cache) => cache.load(&self.engine, bytes, &hash).map_err(engine_error)?,
            None => (Component::new(&self.engine, bytes).map_err(engine_error)?, Origin::Compiled),
        };
        let (version, forbidden) = check_contract(what, &self.engine, &component)?;
        let mut linker = self.linker.clone();
        if !forbidden.is_empty() {
            // Everything outside the contract (e.g. the WASI interfaces a std guest imports) is linked to a stub
            // that traps with "unknown import", so the guest gets nothing: no files, clock, randomness or env.
            linker.define_unknown_imports_as_traps(&component).map_err(engine_error)?;
        }
        let pre = linker.instantiate_pre(&component).map_err(engine_error)?;
        let pre = contract::Pre::new(version, pre).map_err(engine_error)?;
        let plugin = Plugin::new(pre, self.engine.clone(), self.limits.clone(), hash, forbidden, what)?;
        Ok((plugin, LoadReport { origin }))
    }
}

/// Refuse what is not a component before handing it to the compiler, with a message a moderator understands.
fn check_is_component(what: &str, bytes: &[u8]) -> Result<(), LoadError> {
    const MAGIC: &[u8] = b"\0asm";
    let not_a_component = |detail: &str| LoadError::NotAComponent { what: what.to_owned(), detail: detail.to_owned() };
    if bytes.len() < 8 || &bytes[..4] != MAGIC {
        return Err(not_a_component("the file does not start with the WebAssembly magic number"));
    }
    // Bytes 4..8: a core module has version 1 and layer 0; a component has layer 1.
    if bytes[6..8] == [0, 0] {
        return Err(not_a_component(
            "it is a core WebAssembly module; build a component (cargo build --target wasm32-wasip2) against wit/",
        ));
    }
    Ok(())
}

/// Find the contract version the component speaks (it exports `program` and `hooks` of that version); return it
/// with the component's imports outside the contract.
fn check_contract(
    what: &str,
    engine: &Engine,
    component: &Component,
) -> Result<(&'static str, Vec<String>), LoadError> {
    let ty = component.component_type();
    let name = |interface: &str, version: &str| format!("{CONTRACT_PACKAGE}/{interface}@{version}");
    let exports: Vec<String> = ty.exports(engine).map(|(name, _)| name.to_owned()).collect();
    let imports: Vec<String> = ty.imports(engine).map(|(name, _)| name.to_owned()).collect();
    let speaks = |version: &str| ["program", "hooks"].iter().all(|i| exports.contains(&name(i, version)));
    let Some(version) = contract::VERSIONS.into_iter().find(|v| speaks(v)) else {
        let ours: Vec<&String> = exports.iter().filter(|e| e.starts_with(CONTRACT_PACKAGE)).collect();
        let found = if let Some(other) = ours.first() {
            let version = other.rsplit('@').next().unwrap_or("?");
            format!("exports {other} (contract version {version})")
        } else if exports.is_empty() {
            "exports nothing".to_owned()
        } else {
            format!("exports {}", exports.join(", "))
        };
        return Err(LoadError::ContractMismatch { what: what.to_owned(), found, host: SPOKEN_VERSIONS });
    };
    let allowed: Vec<String> = contract::contract_imports(version).iter().map(|i| name(i, version)).collect();
    let mut forbidden = Vec::new();
    for import in imports {
        if allowed.contains(&import) {
            continue;
        }
        if import.starts_with(CONTRACT_PACKAGE) {
            let found = format!("exports cadre:forum@{version} but imports {import}");
            return Err(LoadError::ContractMismatch { what: what.to_owned(), found, host: SPOKEN_VERSIONS });
        }
        forbidden.push(import);
    }
    Ok((version, forbidden))
}
