//! Must provoke: key/value store limits. on-like-added writes a 1 MiB key; on-post-created writes millions of keys; on-tick fills the store with large values.
#![no_std]

use hostile_common::*;

extern crate alloc;

struct KvFlood;

impl Hostile for KvFlood {
    fn like_added(_event: types::Like) -> Vec<types::Effect> {
        let key = alloc::string::String::from_utf8(alloc::vec![b'k'; 1 << 20]).unwrap_or_default();
        store::set(&key, b"x");
        Vec::new()
    }

    fn post_created(_event: types::PostCreated) -> Vec<types::Effect> {
        for i in 0..5_000_000u32 {
            store::set(&alloc::format!("k{i}"), &i.to_le_bytes());
        }
        Vec::new()
    }

    fn tick(_now: i64) -> Vec<types::Effect> {
        // 60 KiB values (each under the per-value limit) until the total-size limit trips.
        let value = alloc::vec![7u8; 60 << 10];
        for i in 0..1_000_000u32 {
            store::set(&alloc::format!("big{i}"), &value);
        }
        Vec::new()
    }
}

hostile_component!(KvFlood);
