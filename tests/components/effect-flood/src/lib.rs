//! Must provoke: too many effects. on-like-added returns 100,000 awards.
#![no_std]

use hostile_common::*;

struct EffectFlood;

impl Hostile for EffectFlood {
    fn like_added(event: types::Like) -> Vec<types::Effect> {
        store::set("written-before-the-flood", b"x");
        (0..100_000).flat_map(|_| one_point(event.post_author.unwrap_or(0))).collect()
    }
}

hostile_component!(EffectFlood);
