//! A loaded plugin and the calls into it: instantiate from the pre-linked component, configure, call a hook
//! under the limits, classify failures, validate effects, commit store writes.
//!
//! One live instance (with its own `Store`) is kept between calls for speed. Any trap poisons a `Store`, so after
//! a failed call the instance is dropped and the next call instantiates afresh (and re-applies the configuration).
//! The instance never outlives a failure, and its store writes of a failed call are never committed.

use std::sync::Arc;

use wasmtime::{Engine, Store, Trap};

use cadre_model::{ConfigError, Declaration, Effect, Event, Figure, Info as PluginInfo};

use super::contract::{Bindings, Pre};
use super::error::{CallError, CallErrorKind, PluginName};
use super::limits::Limits;
use super::log::{LogBuffer, LogLine};
use super::store::{HostState, KvBackend, MemoryBackend, Overlay, StoreLimitExceeded};
use super::validate::validate_effects;

/// How many calls' worth of fuel (and of deadline) instantiating and configuring an instance get: settings are read
/// once per instance, and a moderator's 100-badge file must not fail where a like hook would be stopped.
pub const CONFIGURE_FUEL_FACTOR: u64 = 10;

/// Refuses linear-memory growth past the limit with a typed error (so the failure is named, not just an
/// allocation failure inside the guest).
pub struct MemoryLimiter {
    memory_bytes: usize,
}

/// Raised by [`MemoryLimiter`] and turned into [`CallErrorKind::MemoryLimit`].
#[derive(Debug, thiserror::Error)]
#[error("memory limit: requested {requested} bytes, limit {limit}")]
struct MemoryLimitHit {
    requested: usize,
    limit: usize,
}

/// Tables grow only for function references; 100,000 entries is far beyond any real program.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl wasmtime::ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
            return Err(MemoryLimitHit { requested: desired, limit: self.memory_bytes }.into());
        }
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// An instantiated plugin with its store.
struct Live {
    store: Store<HostState>,
    bindings: Bindings,
}

/// A loaded, configurable plugin. Not `Sync`: one call at a time.
pub struct Plugin {
    pub(super) name: PluginName,
    pub(super) info: PluginInfo,
    pub(super) hash: String,
    pub(super) forbidden_imports: Vec<String>,
    pub(super) pre: Pre,
    pub(super) engine: Engine,
    pub(super) limits: Arc<Limits>,
    settings: String,
    declaration: Declaration,
    backend: Option<Box<dyn KvBackend>>,
    live: Option<Live>,
    /// What the last call logged (contract 0.2.0's `log` import).
    last_log: Vec<LogLine>,
    /// What this plugin may still write to the host's log this minute.
    log_rate: super::log::RateLimit,
}

impl Plugin {
    pub(super) fn new(
        pre: Pre,
        engine: Engine,
        limits: Arc<Limits>,
        hash: String,
        forbidden_imports: Vec<String>,
        what: &str,
    ) -> Result<Plugin, super::LoadError> {
        let mut plugin = Plugin {
            name: PluginName { name: what.to_owned(), version: String::new() },
            info: PluginInfo {
                name: String::new(),
                version: String::new(),
                badges: vec![],
                tiers: vec![],
                settings: vec![],
            },
            hash,
            forbidden_imports,
            pre,
            engine,
            limits,
            settings: String::new(),
            declaration: Declaration { badges: vec![], tiers: vec![] },
            backend: Some(Box::new(MemoryBackend::default())),
            live: None,
            last_log: Vec::new(),
            log_rate: Default::default(),
        };
        let describe_error = |source| super::LoadError::Describe { what: what.to_owned(), source: Box::new(source) };
        plugin.info = plugin.with_scratch(|live| live.bindings.describe(&mut live.store)).map_err(describe_error)?;
        plugin.name = PluginName { name: plugin.info.name.clone(), version: plugin.info.version.clone() };
        plugin.declaration = Declaration { badges: plugin.info.badges.clone(), tiers: plugin.info.tiers.clone() };
        Ok(plugin)
    }

    /// Another plugin on the same compiled component with the same settings, an empty in-memory store and no
    /// instance yet (for recomputing history into a scratch database without touching this one).
    pub fn fork(&self) -> Plugin {
        Plugin {
            name: self.name.clone(),
            info: self.info.clone(),
            hash: self.hash.clone(),
            forbidden_imports: self.forbidden_imports.clone(),
            pre: self.pre.clone(),
            engine: self.engine.clone(),
            limits: self.limits.clone(),
            settings: self.settings.clone(),
            declaration: self.declaration.clone(),
            backend: Some(Box::new(MemoryBackend::default())),
            live: None,
            last_log: Vec::new(),
            log_rate: Default::default(),
        }
    }

    /// The contract version the component speaks (`"0.1.0"` or `"0.2.0"`).
    pub fn contract_version(&self) -> &'static str {
        self.pre.version()
    }

    /// The lines the last call logged, each already shown in the host's log with the plugin's name and version
    /// (0.2.0's `log` import; a 0.1.0 plugin never logs).
    pub fn last_log(&self) -> &[LogLine] {
        &self.last_log
    }

    /// The lines the last call logged, leaving none: a caller that delivers events one at a time (`cadre plugin
    /// test`) takes them after each, so that an event the program was not called for (one waiting behind a dead
    /// letter) shows no lines of an earlier call.
    pub fn take_last_log(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.last_log)
    }

    /// The plugin's name and version.
    pub fn name(&self) -> &PluginName {
        &self.name
    }

    /// What `describe` said.
    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    /// SHA-256 of the component's bytes (hex).
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// Imports outside the contract (e.g. WASI); each traps if called.
    pub fn forbidden_imports(&self) -> &[String] {
        &self.forbidden_imports
    }

    /// The settings in force (TOML).
    pub fn settings(&self) -> &str {
        &self.settings
    }

    /// The badges and tiers that effects may name under the settings in force.
    pub fn declaration(&self) -> &Declaration {
        &self.declaration
    }

    /// Use another key/value backend from now on (e.g. the forum database). Returns the previous one.
    pub fn set_backend(&mut self, backend: Box<dyn KvBackend>) -> Box<dyn KvBackend> {
        self.backend.replace(backend).expect("the backend is only taken during a call")
    }

    /// The key/value backend.
    pub fn backend_mut(&mut self) -> &mut dyn KvBackend {
        self.backend.as_deref_mut().expect("the backend is only taken during a call")
    }

    /// Check settings without adopting them: `Ok(Err(errors))` lists every problem.
    /// Settings longer than [`MAX_SETTINGS_BYTES`](crate::limits::MAX_SETTINGS_BYTES) are refused here, by the
    /// host, before the program sees them, as an error like the program's own.
    pub fn check(&mut self, settings: &str) -> Result<Result<Declaration, Vec<ConfigError>>, CallError> {
        if let Some(error) = crate::limits::settings_too_large(settings.len()) {
            return Ok(Err(vec![error]));
        }
        self.with_scratch(|live| live.bindings.configure(&mut live.store, settings))
    }

    /// Adopt new settings if they are valid; otherwise keep the ones in force and return every error.
    pub fn configure(&mut self, settings: &str) -> Result<Result<Declaration, Vec<ConfigError>>, CallError> {
        let outcome = self.check(settings)?;
        if let Ok(declaration) = &outcome {
            self.settings = settings.to_owned();
            self.declaration = declaration.clone();
            // The live instance holds the old configuration; the next call instantiates with the new one.
            self.live = None;
        }
        Ok(outcome)
    }

    /// Deliver one event: run its hook under the limits, validate the effects and, if all is well, commit the
    /// hook's store writes to the backend. On any failure nothing is committed.
    pub fn call(&mut self, event: &Event) -> Result<Vec<Effect>, CallError> {
        let effects = self.with_live(|live| live.bindings.hook(&mut live.store, event))?;
        let live = self.live.as_mut().expect("a successful call keeps its instance");
        let writes = live.store.data_mut().overlay.take_writes();
        if let Err(kind) = validate_effects(&effects, &self.declaration, &self.limits) {
            return Err(CallError { plugin: self.name.clone(), kind });
        }
        self.backend_mut().apply(writes).map_err(|e| CallError {
            plugin: self.name.clone(),
            kind: CallErrorKind::Backend { detail: e.to_string() },
        })?;
        Ok(effects)
    }

    /// A moderator's view of one member (read-only: the call's store writes are discarded).
    pub fn member_record(&mut self, member: u64, now: i64) -> Result<Vec<Figure>, CallError> {
        let figures = self.with_live(|live| live.bindings.member_record(&mut live.store, member, now))?;
        if let Some(live) = self.live.as_mut() {
            live.store.data_mut().overlay.reset();
        }
        Ok(figures)
    }

    /// Fuel left after the last call (for benchmarks and tests of fuel use).
    pub fn fuel_used_by_last_call(&self) -> Option<u64> {
        let fuel = self.limits.fuel_per_call?;
        let live = self.live.as_ref()?;
        live.store.get_fuel().ok().map(|left| fuel - left)
    }

    /// Drop the live instance; the next call instantiates afresh. (Benchmarks use it to time instantiation.)
    pub fn discard_instance(&mut self) {
        self.live = None;
    }

    /// Instantiate a throwaway instance (not configured, not kept): what every fresh start of a plugin pays.
    /// Benchmarks time it.
    pub fn instantiate_once(&self) -> Result<(), CallError> {
        self.instantiate().map(drop)
    }

    /// Instantiate a store and instance under the limits.
    fn instantiate(&self) -> Result<Live, CallError> {
        let state = HostState {
            limiter: MemoryLimiter { memory_bytes: self.limits.memory_bytes },
            overlay: Overlay::default(),
            backend: None,
            limits: self.limits.clone(),
            log: LogBuffer::default(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        // Instantiating is followed by configuring (reading the settings), once per instance rather than once per
        // event: it gets [`CONFIGURE_FUEL_FACTOR`] times a call's fuel, so that settings the host accepts by size
        // (`MAX_SETTINGS_BYTES`) are read in full, never cut off by "ran out of fuel".
        if let Some(fuel) = self.limits.fuel_per_call {
            store.set_fuel(fuel.saturating_mul(CONFIGURE_FUEL_FACTOR)).expect("fuel metering is enabled");
        }
        store.set_epoch_deadline(self.limits.deadline_ticks().saturating_mul(CONFIGURE_FUEL_FACTOR));
        let bindings = self.pre.instantiate(&mut store).map_err(|e| self.classify(e, "instantiate", None))?;
        Ok(Live { store, bindings })
    }

    /// Give a store a fresh budget of fuel and a fresh deadline.
    fn arm(&self, store: &mut Store<HostState>) {
        if let Some(fuel) = self.limits.fuel_per_call {
            store.set_fuel(fuel).expect("fuel metering is enabled whenever a fuel limit is set");
        }
        store.set_epoch_deadline(self.limits.deadline_ticks());
    }

    /// Run `f` on the live instance (instantiating and configuring one if needed), with the backend lent to the
    /// store for the duration. On failure the instance is dropped.
    fn with_live<R>(&mut self, f: impl FnOnce(&mut Live) -> wasmtime::Result<R>) -> Result<R, CallError> {
        if self.live.is_none() {
            let mut live = self.instantiate()?;
            let settings = self.settings.clone();
            let configured = live.bindings.configure(&mut live.store, &settings);
            match configured {
                Ok(Ok(_)) => self.live = Some(live),
                Ok(Err(errors)) => {
                    let detail =
                        errors.iter().map(|e| format!("{}: {}", e.path, e.message)).collect::<Vec<_>>().join("; ");
                    return Err(CallError { plugin: self.name.clone(), kind: CallErrorKind::NotConfigured { detail } });
                }
                Err(e) => {
                    let said = live.store.data_mut().log.take();
                    return Err(self.classify(e, "configure", last_error(&said)));
                }
            }
        }
        let mut live = self.live.take().expect("instantiated above");
        self.arm(&mut live.store);
        live.store.data_mut().overlay.reset();
        live.store.data_mut().backend = self.backend.take();
        let result = f(&mut live);
        self.backend = live.store.data_mut().backend.take();
        self.last_log = live.store.data_mut().log.take();
        super::log::emit(&self.name, &mut self.log_rate, &self.last_log);
        match result {
            Ok(value) => {
                self.live = Some(live);
                Ok(value)
            }
            // The store may be poisoned: drop it with the instance and its uncommitted writes.
            Err(e) => Err(self.classify(e, "call", last_error(&self.last_log))),
        }
    }

    /// Run `f` on a throwaway instance with an empty in-memory store (describe, check), with the configuring
    /// budget of fuel.
    fn with_scratch<R>(&mut self, f: impl FnOnce(&mut Live) -> wasmtime::Result<R>) -> Result<R, CallError> {
        let mut live = self.instantiate()?;
        live.store.data_mut().backend = Some(Box::new(MemoryBackend::default()));
        let result = f(&mut live);
        self.last_log = live.store.data_mut().log.take();
        super::log::emit(&self.name, &mut self.log_rate, &self.last_log);
        result.map_err(|e| self.classify(e, "call", last_error(&self.last_log)))
    }

    /// Turn a wasmtime error into the typed failure it stands for; `said` is the last `error` line the call logged
    /// (a panic's message), attached to a trap so that its author sees why.
    fn classify(&self, error: wasmtime::Error, stage: &str, said: Option<&str>) -> CallError {
        let kind = if let Some(hit) = error.downcast_ref::<MemoryLimitHit>() {
            CallErrorKind::MemoryLimit { requested: hit.requested, limit: hit.limit }
        } else if let Some(StoreLimitExceeded(what)) = error.downcast_ref::<StoreLimitExceeded>() {
            CallErrorKind::StoreLimit { what: what.clone() }
        } else if let Some(trap) = error.downcast_ref::<Trap>() {
            match trap {
                Trap::OutOfFuel => {
                    let fuel = self.limits.fuel_per_call.unwrap_or(0);
                    let configuring = matches!(stage, "instantiate" | "configure" | "check");
                    CallErrorKind::OutOfFuel { fuel: if configuring { fuel * CONFIGURE_FUEL_FACTOR } else { fuel } }
                }
                Trap::Interrupt => CallErrorKind::Deadline { millis: self.limits.deadline.as_millis() as u64 },
                other => CallErrorKind::Trap { message: with_said(other.to_string(), said) },
            }
        } else if let Some(import) = forbidden_import(&error) {
            CallErrorKind::ForbiddenImport { import }
        } else if stage == "instantiate" {
            CallErrorKind::Instantiate { detail: format!("{error:#}") }
        } else {
            CallErrorKind::Trap { message: with_said(format!("{error:#}"), said) }
        };
        CallError { plugin: self.name.clone(), kind }
    }
}

/// The name in wasmtime's "unknown import: `NAME` has not been defined" trap, raised by the stubs that stand in
/// for imports outside the contract.
fn forbidden_import(error: &wasmtime::Error) -> Option<String> {
    let text = format!("{error:#}");
    let rest = text.split("unknown import: `").nth(1)?;
    Some(rest.split('`').next()?.to_owned())
}

/// The last `error` line of a call's log.
fn last_error(lines: &[LogLine]) -> Option<&str> {
    lines.iter().rev().find(|l| l.level == super::log::LogLevel::Error).map(|l| l.message.as_str())
}

/// A trap's message with what the plugin said before it (`wasm trap: … (the plugin logged: panicked at …)`).
fn with_said(message: String, said: Option<&str>) -> String {
    match said {
        Some(said) => format!("{message} (the plugin logged: {said})"),
        None => message,
    }
}
