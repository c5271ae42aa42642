//! The key/value store the program keeps all its state in.
//!
//! In the component this is the host's `store` import (transactional, size-limited); natively it is any [`Kv`]
//! implementation, such as [`MemoryKv`] for tests. Values are small fixed-layout records encoded by [`codec`].

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

/// A key/value store private to the program.
pub trait Kv {
    /// The value under `key`.
    fn get(&mut self, key: &str) -> Option<Vec<u8>>;
    /// Replace the value under `key`.
    fn set(&mut self, key: &str, value: &[u8]);
    /// Remove `key`.
    fn delete(&mut self, key: &str);
}

/// An in-memory store for tests and native runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryKv {
    /// The entries, ordered so that two stores compare and print deterministically.
    pub entries: BTreeMap<String, Vec<u8>>,
}

impl Kv for MemoryKv {
    fn get(&mut self, key: &str) -> Option<Vec<u8>> {
        self.entries.get(key).cloned()
    }
    fn set(&mut self, key: &str, value: &[u8]) {
        self.entries.insert(String::from(key), Vec::from(value));
    }
    fn delete(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

/// Fixed-width little-endian encoding of integer records, so that state is compact and needs no serializer.
pub mod codec {
    use alloc::vec::Vec;

    /// Encode a list of `i64` fields.
    pub fn encode(fields: &[i64]) -> Vec<u8> {
        let mut out = Vec::with_capacity(fields.len() * 8);
        for field in fields {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out
    }

    /// Decode `N` fields; missing trailing fields (a record written by an older version) read as 0.
    pub fn decode<const N: usize>(bytes: Option<&[u8]>) -> [i64; N] {
        let mut fields = [0i64; N];
        if let Some(bytes) = bytes {
            for (field, chunk) in fields.iter_mut().zip(bytes.chunks_exact(8)) {
                let mut buf = [0u8; 8];
                buf.copy_from_slice(chunk);
                *field = i64::from_le_bytes(buf);
            }
        }
        fields
    }
}
