//! Must provoke: trap (a panic). on-like-added panics.
#![no_std]

use hostile_common::*;

struct Panics;

impl Hostile for Panics {
    fn like_added(event: types::Like) -> Vec<types::Effect> {
        store::set("written-before-the-panic", b"x");
        if event.like < u64::MAX {
            panic!("hostile component panicked on purpose");
        }
        Vec::new()
    }
}

hostile_component!(Panics);
