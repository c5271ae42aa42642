//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;

use cadre::runtime::{Event, Limits, Plugin, Runtime};
use cadre_model::{Effect, Like, PostCreated, PostKind};

/// A runtime with these limits and no artifact cache.
pub fn runtime(limits: Limits) -> Runtime {
    Runtime::new(limits, None).expect("the runtime starts")
}

/// The path of a built test component (`infinite-loop` → `…/infinite_loop.wasm`).
pub fn component_path(name: &str) -> PathBuf {
    PathBuf::from(cadre::bundled::TEST_COMPONENTS_DIR).join(format!("{}.wasm", name.replace('-', "_")))
}

/// Load a built test component.
pub fn load(runtime: &Runtime, name: &str) -> Plugin {
    let (plugin, _) = runtime.load_file(&component_path(name)).unwrap_or_else(|e| panic!("loading {name}: {e}"));
    plugin
}

/// Load the bundled super-user program, configured with `settings`.
pub fn program(runtime: &Runtime, settings: &str) -> Plugin {
    let (mut plugin, _) =
        runtime.load_bytes("bundled program", cadre::bundled::PROGRAM_WASM).expect("the bundled program loads");
    plugin.configure(settings).expect("configure runs").expect("settings are valid");
    plugin
}

/// Day `day` (since the epoch) at noon, in milliseconds.
pub fn day(day: i64) -> i64 {
    day * 86_400_000 + 43_200_000
}

/// A like on an answer by `author`, from `liker`.
pub fn like(id: u64, author: u64, liker: u64, at: i64) -> Event {
    Event::LikeAdded(like_record(id, author, liker, at))
}

/// The record of a like (for adding or removing it).
pub fn like_record(id: u64, author: u64, liker: u64, at: i64) -> Like {
    Like {
        like: id,
        post: 1000 + id,
        post_kind: PostKind::Answer,
        post_author: Some(author),
        post_wiki: false,
        liker: Some(liker),
        liker_joined: Some(0),
        at,
        post_category: Some(1),
    }
}

/// A question created by `author`.
pub fn post(id: u64, author: u64) -> Event {
    Event::PostCreated(PostCreated {
        post: id,
        kind: PostKind::Question,
        author: Some(author),
        parent: None,
        category: 1,
        at: day(1),
        author_joined: Some(0),
        question_author: None,
    })
}

/// Net points per member in a list of effects.
pub fn points_for(effects: &[Effect], member: u64) -> i64 {
    effects
        .iter()
        .map(|e| match e {
            Effect::AwardPoints { member: m, delta, .. } if *m == member => *delta,
            _ => 0,
        })
        .sum()
}
