//! Must provoke: trap (a panic). on-like-added, on-tick and on-moderator-action panic (posts go through).
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

    fn tick(now: types::Timestamp) -> Vec<types::Effect> {
        if now > i64::MIN {
            panic!("hostile component panicked on a tick");
        }
        Vec::new()
    }

    fn moderator_action(_event: types::ModeratorAction) -> Vec<types::Effect> {
        if core::hint::black_box(true) {
            panic!("hostile component panicked on a moderator action");
        }
        Vec::new()
    }
}

hostile_component!(Panics);
