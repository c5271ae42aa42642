//! The plugin's private key/value store: where it lives ([`KvBackend`]), and the per-call [`Overlay`] that makes a
//! call's writes all-or-nothing and enforces the store limits.
//!
//! A call reads through the overlay to the backend and writes only to the overlay. When the call succeeds (and
//! its effects validate) the caller commits the overlay's writes to the backend in the same transaction as the
//! event; when it fails they are dropped. The backend is whatever the host keeps plugin state in: memory for tests
//! and benchmarks, the forum's SQLite database in production.

use std::collections::HashMap;

use super::contract::latest::cadre::forum::store;
use super::limits::Limits;

/// A failure of the backend itself (not the plugin's fault), e.g. a database error.
pub type BackendError = Box<dyn std::error::Error + Send + Sync>;

/// Where a plugin's key/value state is kept between calls.
pub trait KvBackend {
    /// The value under `key`.
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, BackendError>;
    /// Bytes currently held (keys + values), for the total-size limit.
    fn total_bytes(&self) -> u64;
    /// Apply a successful call's writes (`None` deletes).
    fn apply(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), BackendError>;
}

/// An in-memory backend (tests, benchmarks, inspection).
#[derive(Debug, Default, Clone)]
pub struct MemoryBackend {
    entries: HashMap<String, Vec<u8>>,
    bytes: u64,
}

impl MemoryBackend {
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    /// True when no key is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// The value under `key`.
    pub fn value(&self, key: &str) -> Option<&[u8]> {
        self.entries.get(key).map(Vec::as_slice)
    }
}

impl KvBackend for MemoryBackend {
    fn get(&mut self, key: &str) -> Result<Option<Vec<u8>>, BackendError> {
        Ok(self.entries.get(key).cloned())
    }
    fn total_bytes(&self) -> u64 {
        self.bytes
    }
    fn apply(&mut self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), BackendError> {
        for (key, value) in writes {
            let added = value.as_ref().map_or(0, |v| (key.len() + v.len()) as u64);
            let removed = match value {
                Some(value) => self.entries.insert(key.clone(), value),
                None => self.entries.remove(&key),
            }
            .map_or(0, |old| (key.len() + old.len()) as u64);
            self.bytes = self.bytes + added - removed;
        }
        Ok(())
    }
}

/// One key touched by the current call.
#[derive(Debug)]
struct Entry {
    /// The value as the call sees it now.
    current: Option<Vec<u8>>,
    /// Whether the call wrote it.
    dirty: bool,
}

/// A typed store-limit violation, raised as a trap so that the hook is aborted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct StoreLimitExceeded(pub String);

/// A call's view of the store: reads fall through to the backend, writes stay here until committed.
#[derive(Debug, Default)]
pub struct Overlay {
    entries: HashMap<String, Entry>,
    writes: usize,
    /// Net change of the store's size if this call's writes were committed.
    delta_bytes: i64,
    /// The backend's size when the call first wrote (asked once per call: it cannot change during the call).
    backend_bytes: Option<u64>,
}

impl Overlay {
    fn load<'a>(&'a mut self, backend: &mut dyn KvBackend, key: &str) -> wasmtime::Result<&'a mut Entry> {
        if !self.entries.contains_key(key) {
            let current = backend.get(key).map_err(|e| wasmtime::Error::msg(format!("store backend failed: {e}")))?;
            self.entries.insert(key.to_owned(), Entry { current, dirty: false });
        }
        Ok(self.entries.get_mut(key).expect("just inserted"))
    }

    /// The call's writes, to commit on success.
    pub fn take_writes(&mut self) -> Vec<(String, Option<Vec<u8>>)> {
        let writes = self.entries.drain().filter(|(_, e)| e.dirty).map(|(k, e)| (k, e.current)).collect();
        self.reset();
        writes
    }

    /// Forget everything (a failed call).
    pub fn reset(&mut self) {
        self.entries.clear();
        self.writes = 0;
        self.delta_bytes = 0;
        self.backend_bytes = None;
    }
}

/// The per-store state of a plugin instance: its memory limiter and the current call's store view.
pub struct HostState {
    pub(crate) limiter: super::instance::MemoryLimiter,
    pub(crate) overlay: Overlay,
    /// The backend, present only while a call is running.
    pub(crate) backend: Option<Box<dyn KvBackend>>,
    pub(crate) limits: std::sync::Arc<Limits>,
    /// The current call's log lines (contract 0.2.0's `log` import).
    pub(crate) log: super::log::LogBuffer,
}

impl HostState {
    fn backend(&mut self) -> wasmtime::Result<(&mut Overlay, &mut dyn KvBackend)> {
        match self.backend.as_deref_mut() {
            Some(backend) => Ok((&mut self.overlay, backend)),
            None => Err(wasmtime::Error::msg("the store is not available outside a hook call")),
        }
    }

    fn check_key(&self, key: &str) -> wasmtime::Result<()> {
        if key.len() > self.limits.max_key_bytes {
            return Err(StoreLimitExceeded(format!(
                "key of {} bytes; at most {} allowed",
                key.len(),
                self.limits.max_key_bytes
            ))
            .into());
        }
        Ok(())
    }

    fn write(&mut self, key: String, value: Option<Vec<u8>>) -> wasmtime::Result<()> {
        self.check_key(&key)?;
        let limits = self.limits.clone();
        if let Some(value) = &value
            && value.len() > limits.max_value_bytes
        {
            return Err(StoreLimitExceeded(format!(
                "value of {} bytes under key {:?}; at most {} allowed",
                value.len(),
                truncate(&key),
                limits.max_value_bytes
            ))
            .into());
        }
        if self.overlay.writes >= limits.max_writes_per_call {
            return Err(
                StoreLimitExceeded(format!("more than {} writes in one call", limits.max_writes_per_call)).into()
            );
        }
        let (overlay, backend) = self.backend()?;
        let backend_bytes = *overlay.backend_bytes.get_or_insert_with(|| backend.total_bytes());
        let entry = overlay.load(backend, &key)?;
        let before = entry.current.as_ref().map_or(0, |v| (key.len() + v.len()) as i64);
        let after = value.as_ref().map_or(0, |v| (key.len() + v.len()) as i64);
        entry.current = value;
        entry.dirty = true;
        overlay.writes += 1;
        overlay.delta_bytes += after - before;
        let total = backend_bytes as i64 + overlay.delta_bytes;
        if total > limits.max_store_bytes as i64 {
            return Err(StoreLimitExceeded(format!(
                "store would hold {total} bytes; at most {} allowed",
                limits.max_store_bytes
            ))
            .into());
        }
        Ok(())
    }
}

fn truncate(key: &str) -> &str {
    let mut end = key.len().min(40);
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    &key[..end]
}

impl store::Host for HostState {
    fn get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        self.check_key(&key)?;
        let (overlay, backend) = self.backend()?;
        Ok(overlay.load(backend, &key)?.current.clone())
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<()> {
        self.write(key, Some(value))
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<()> {
        self.write(key, None)
    }
}
