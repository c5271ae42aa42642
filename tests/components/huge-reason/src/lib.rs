//! Must provoke: invalid effect (oversized string). on-like-added returns an award with a 10 MB reason.
#![no_std]

use hostile_common::*;

extern crate alloc;

struct HugeReason;

impl Hostile for HugeReason {
    fn like_added(event: types::Like) -> Vec<types::Effect> {
        store::set("written-before-the-reason", b"x");
        let reason = alloc::string::String::from_utf8(alloc::vec![b'r'; 10 << 20]).unwrap_or_default();
        alloc::vec![types::Effect::AwardPoints(types::Award {
            member: event.post_author.unwrap_or(0),
            delta: 1,
            rule: "huge".into(),
            reason,
        })]
    }
}

hostile_component!(HugeReason);
