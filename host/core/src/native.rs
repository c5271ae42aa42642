//! The bundled program's rules called natively (the `cadre-rules` crate linked into the host), behind the same
//! call shape as a component [`Plugin`](cadre_runtime::Plugin): the model's events in, its effects out (no conversion: the rules speak the host's model).
//!
//! It exists to measure what the sandbox costs (benchmarks compare it with the component on the same events,
//! conversions included, as the component does them too). Production always runs the component.
//!
//! [`Rules`] is the program as the event pipeline calls it: the component ([`Plugin`](cadre_runtime::Plugin)) or,
//! for `cadre bench replay` only, [`NativeRules`] (these rules over the forum's own key/value table, with the same
//! all-or-nothing writes and effect validation), so that both pay for exactly the same database work.

use std::collections::HashMap;

use cadre_model::{Declaration, Effect, Event};
use cadre_rules::{Kv, Program};

use cadre_runtime::{KvBackend, Limits, Plugin};

/// The program as the event pipeline calls it: one event in, validated effects out; the program's store writes
/// are committed only when the call succeeds.
pub trait Rules {
    /// Deliver one event; an error is the program's failure (the pipeline dead-letters the event).
    fn deliver(&mut self, event: &Event) -> Result<Vec<Effect>, String>;
    /// The badges and tiers its effects may name.
    fn declared(&self) -> &Declaration;
}

impl Rules for Plugin {
    fn deliver(&mut self, event: &Event) -> Result<Vec<Effect>, String> {
        self.call(event).map_err(|e| e.to_string())
    }
    fn declared(&self) -> &Declaration {
        self.declaration()
    }
}

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

/// The rules called natively over a host key/value backend (the forum's `kv` table), behind [`Rules`].
pub struct NativeRules {
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
        Ok(NativeRules { program: Program::configure(settings)?, backend, declaration, limits: Limits::default() })
    }
}

impl Rules for NativeRules {
    fn deliver(&mut self, event: &Event) -> Result<Vec<Effect>, String> {
        let mut overlay = Overlay { backend: self.backend.as_mut(), writes: HashMap::new(), failed: None };
        let effects: Vec<Effect> = self.program.handle(&mut overlay, event);
        if let Some(error) = overlay.failed {
            return Err(format!("store backend failed: {error}"));
        }
        cadre_runtime::validate::validate_effects(&effects, &self.declaration, &self.limits)
            .map_err(|kind| format!("{kind}"))?;
        let writes = overlay.writes.into_iter().collect();
        self.backend.apply(writes).map_err(|e| format!("store backend failed: {e}"))?;
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
