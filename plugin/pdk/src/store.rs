//! The program's key/value store, as a trait a hook is handed: the host's store in the WebAssembly build, a
//! [`MemoryStore`] in a native test.
//!
//! Owns: the [`Store`] trait (bytes in, bytes out, plus typed helpers for the common integer counters) and
//! [`MemoryStore`]. Does not own: the host's limits (keys at most 256 bytes, values at most 64 KiB, 10,000 writes per
//! call; the host aborts a call that breaks one) or the transaction (the host keeps a hook's writes only if the hook
//! succeeds; a native test that wants the same must clone the store before the call).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// The program's private key/value store.
pub trait Store {
    /// The value under `key`, if any.
    fn get(&mut self, key: &str) -> Option<Vec<u8>>;
    /// Store `value` under `key`.
    fn set(&mut self, key: &str, value: &[u8]);
    /// Remove `key` (a no-op if absent).
    fn delete(&mut self, key: &str);

    /// The integer under `key` (8 bytes, little-endian), 0 when absent or not 8 bytes long.
    fn get_i64(&mut self, key: &str) -> i64 {
        self.get(key).and_then(|bytes| <[u8; 8]>::try_from(bytes).ok()).map_or(0, i64::from_le_bytes)
    }

    /// Store an integer under `key` (8 bytes, little-endian); 0 deletes the key, so counters cost nothing at rest.
    fn set_i64(&mut self, key: &str, value: i64) {
        if value == 0 { self.delete(key) } else { self.set(key, &value.to_le_bytes()) }
    }

    /// Add `delta` to the integer under `key` and return the new value.
    fn add_i64(&mut self, key: &str, delta: i64) -> i64 {
        let value = self.get_i64(key).saturating_add(delta);
        self.set_i64(key, value);
        value
    }

    /// Whether `key` holds a value.
    fn contains(&mut self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

/// A store in memory: what a native test hands a hook. Cloning it snapshots it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStore {
    entries: BTreeMap<String, Vec<u8>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every key, in order (to check what a hook left behind).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }
}

impl Store for MemoryStore {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.entries.get(key).cloned()
    }
    fn set(&mut self, key: &str, value: &[u8]) {
        self.entries.insert(key.into(), value.into());
    }
    fn delete(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_read_zero_when_absent_and_a_zero_counter_takes_no_key() {
        let mut store = MemoryStore::new();
        assert_eq!(store.get_i64("answers:3"), 0);
        assert_eq!(store.add_i64("answers:3", 2), 2);
        assert_eq!(store.add_i64("answers:3", -2), 0);
        assert!(store.is_empty(), "{store:?}");
    }
}
