//! Must provoke: out of fuel. on-like-added loops forever.
#![no_std]

use hostile_common::*;

struct InfiniteLoop;

impl Hostile for InfiniteLoop {
    fn like_added(event: types::Like) -> Vec<types::Effect> {
        // Writes first, so the test can check that a failed call keeps none of its writes.
        store::set("written-before-the-loop", b"x");
        let mut counter = event.like;
        loop {
            counter = core::hint::black_box(counter.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

hostile_component!(InfiniteLoop);
