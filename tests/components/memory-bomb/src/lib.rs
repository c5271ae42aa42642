//! Must provoke: memory limit. on-like-added allocates without end.
#![no_std]

use hostile_common::*;

extern crate alloc;

struct MemoryBomb;

impl Hostile for MemoryBomb {
    fn like_added(_event: types::Like) -> Vec<types::Effect> {
        store::set("written-before-the-bomb", b"x");
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            // 1 MiB at a time, touched so that it is really used.
            hoard.push(alloc::vec![1u8; 1 << 20]);
            core::hint::black_box(&hoard);
        }
    }
}

hostile_component!(MemoryBomb);
