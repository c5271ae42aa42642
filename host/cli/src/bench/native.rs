//! The bundled program's rules linked natively (the `cadre-rules` crate), for benchmarks only: they measure what
//! the sandbox costs by running the same rules on the same events without it.
//!
//! [`NativeRules`] stands in for the installed component in the forum's pipeline (`Forum::use_stand_in`): these
//! rules over the forum's own key/value store, with the same all-or-nothing writes and effect validation, so that
//! both pay for exactly the same database work. [`NativeProgram`] is the rules over an in-memory map, for timing
//! calls alone. Production always runs the component; nothing outside `bench` uses this module.

use std::collections::HashMap;

use cadre_core::events::ProgramCalls;
use cadre_model::{Declaration, Effect, Event};
use cadre_rules::{Kv, Program};
use cadre_runtime::{CallError, CallErrorKind, KvBackend, Limits, PluginName};

/// A call's view of a [`KvBackend`]: reads fall through, writes wait until the call succeeded.
struct Overlay<'a> {
    backend: &'a mut dyn KvBackend,
    writes: HashMap<String, Option<Vec<u8>>>,
    failed: Option<String>,
}

impl Kv for Overlay<'_> {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        if let Some(value) = self.writes.get(key) {
            return value.clone();
        }
        self.backend.get(key).unwrap_or_else(|e| {
            self.failed = Some(e.to_string());
            None
        })
    }
    fn set(&mut self, key: &str, value: &[u8]) {
        self.writes.insert(key.to_owned(), Some(value.to_vec()));
    }
    fn delete(&mut self, key: &str) {
        self.writes.insert(key.to_owned(), None);
    }
}

/// The rules called natively over a host key/value backend (the forum's store), standing in for the component.
pub struct NativeRules {
    name: PluginName,
    program: Program,
    backend: Box<dyn KvBackend>,
    declaration: Declaration,
    limits: Limits,
}

impl NativeRules {
    /// The rules with these settings over `backend`; `declaration` is what the component declared for them.
    pub fn new(
        settings: &str,
        declaration: Declaration,
        backend: Box<dyn KvBackend>,
    ) -> Result<NativeRules, Vec<cadre_rules::ConfigError>> {
        let name = PluginName { name: cadre_rules::PLUGIN_NAME.into(), version: "native".into() };
        Ok(NativeRules {
            name,
            program: Program::configure(settings)?,
            backend,
            declaration,
            limits: Limits::default(),
        })
    }
}

impl NativeRules {
    fn error(&self, kind: CallErrorKind) -> CallError {
        CallError { plugin: self.name.clone(), kind }
    }
}

impl ProgramCalls for NativeRules {
    fn deliver(&mut self, event: &Event) -> Result<Vec<Effect>, CallError> {
        let mut overlay = Overlay { backend: self.backend.as_mut(), writes: HashMap::new(), failed: None };
        let effects: Vec<Effect> = self.program.handle(&mut overlay, event);
        let (failed, writes) = (overlay.failed, overlay.writes);
        if let Some(detail) = failed {
            return Err(self.error(CallErrorKind::Backend { detail }));
        }
        cadre_runtime::validate::validate_effects(&effects, &self.declaration, &self.limits)
            .map_err(|kind| self.error(kind))?;
        let writes = writes.into_iter().collect();
        self.backend.apply(writes).map_err(|e| self.error(CallErrorKind::Backend { detail: e.to_string() }))?;
        Ok(effects)
    }
    fn declared(&self) -> &Declaration {
        &self.declaration
    }
}

/// A native key/value store shaped like the host's (a hash map).
#[derive(Debug, Default)]
pub struct NativeKv(HashMap<String, Vec<u8>>);

impl Kv for NativeKv {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.0.get(key).cloned()
    }
    fn set(&mut self, key: &str, value: &[u8]) {
        self.0.insert(key.to_owned(), value.to_vec());
    }
    fn delete(&mut self, key: &str) {
        self.0.remove(key);
    }
}

/// The rules, configured, over a native store.
pub struct NativeProgram {
    program: Program,
    kv: NativeKv,
}

impl NativeProgram {
    /// Configure the rules with TOML settings.
    pub fn new(settings: &str) -> Result<NativeProgram, Vec<cadre_rules::ConfigError>> {
        Ok(NativeProgram { program: Program::configure(settings)?, kv: NativeKv::default() })
    }

    /// Deliver one event.
    pub fn call(&mut self, event: &Event) -> Vec<Effect> {
        self.program.handle(&mut self.kv, event)
    }
}
