//! Must show: the 0.2.0 build of `counter-v0-1-0` (same rules, same store keys `likes:{member}`, version 2.0.0)
//! continues its count after an upgrade, receives external events (five points per event, rule `external`, and a
//! `log` line naming the kind), and a panic's message reaches the host's error (an external event of kind
//! `test.panic` panics with "asked to panic by event {external id}"). It logs the context 0.2.0 adds to events: an
//! answer's question author (`post 7 answers a question by member 3`) and a like's category (`like of post 7 in
//! category 2`).
#![no_std]

extern crate alloc;
extern crate cadre_guest_rt;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

wit_bindgen::generate!({
    path: "../../../wit/0.2.0",
    world: "plugin",
});

use cadre::forum::{log, store, types};
use exports::cadre::forum::{hooks, program};

struct Counter;

fn declaration() -> types::Declaration {
    types::Declaration {
        badges: alloc::vec![types::Badge {
            id: "declared".into(),
            name: "Liked thrice".into(),
            level: types::BadgeLevel::Bronze,
            description: "Three likes received".into(),
        }],
        tiers: Vec::new(),
    }
}

impl program::Guest for Counter {
    fn describe() -> types::PluginInfo {
        let declaration = declaration();
        types::PluginInfo {
            name: "counter".into(),
            version: "2.0.0".into(),
            badges: declaration.badges,
            tiers: declaration.tiers,
            settings: Vec::new(),
        }
    }
    fn configure(_settings: String) -> Result<types::Declaration, Vec<types::ConfigError>> {
        Ok(declaration())
    }
    fn member_record(member: u64, _now: i64) -> Vec<types::Figure> {
        let likes = count(member);
        alloc::vec![types::Figure {
            key: "likes".into(),
            label: "Likes received".into(),
            value: likes as f64,
            threshold: None
        }]
    }
}

fn count(member: u64) -> u64 {
    store::get(&format!("likes:{member}")).map_or(0, |v| u64::from_le_bytes(v.try_into().unwrap_or([0; 8])))
}

impl hooks::Guest for Counter {
    fn on_like_added(event: types::Like) -> Vec<types::Effect> {
        if let Some(category) = event.post_category {
            log::log(log::Level::Info, &format!("like of post {} in category {category}", event.post));
        }
        let Some(author) = event.post_author else { return Vec::new() };
        let likes = count(author) + 1;
        store::set(&format!("likes:{author}"), &likes.to_le_bytes());
        let mut effects = alloc::vec![types::Effect::AwardPoints(types::Award {
            member: author,
            delta: 1,
            rule: "like".into(),
            reason: format!("like number {likes} (counter 0.2.0)"),
        })];
        if likes == 3 {
            effects.push(types::Effect::GrantBadge(types::BadgeChange {
                member: author,
                badge: "declared".into(),
                reason: "three likes received".into(),
            }));
        }
        effects
    }
    fn on_post_created(event: types::PostCreated) -> Vec<types::Effect> {
        if let Some(asker) = event.question_author {
            log::log(log::Level::Info, &format!("post {} answers a question by member {asker}", event.post));
        }
        Vec::new()
    }
    fn on_like_removed(_event: types::Like) -> Vec<types::Effect> {
        Vec::new()
    }
    fn on_answer_accepted(_event: types::Accept) -> Vec<types::Effect> {
        Vec::new()
    }
    fn on_answer_unaccepted(_event: types::Accept) -> Vec<types::Effect> {
        Vec::new()
    }
    fn on_moderator_action(_event: types::ModeratorAction) -> Vec<types::Effect> {
        Vec::new()
    }
    fn on_tick(_now: i64) -> Vec<types::Effect> {
        Vec::new()
    }
    fn on_external_event(event: types::ExternalEvent) -> Vec<types::Effect> {
        if event.kind == "test.panic" {
            panic!("asked to panic by event {}", event.external_id.unwrap_or_default());
        }
        log::log(log::Level::Info, &format!("external {} for member {}", event.kind, event.member));
        alloc::vec![types::Effect::AwardPoints(types::Award {
            member: event.member,
            delta: 5,
            rule: "external".into(),
            reason: format!("{} (counter 0.2.0)", event.kind),
        })]
    }
}

export!(Counter);
