//! Must provoke: forbidden import. A `std` component whose hooks try to reach outside the sandbox:
//! `on-like-added` reads `/etc/passwd`, `on-post-created` reads the wall clock, `on-tick` reads an environment
//! variable, `member-record` asks for randomness (through `HashMap`'s random seed). Each must get nothing.

wit_bindgen::generate!({
    path: "../../../wit/0.1.0",
    world: "plugin",
});

use cadre::forum::types;
use exports::cadre::forum::{hooks, program};

struct WasiSnoop;

fn award(member: u64, reason: String) -> Vec<types::Effect> {
    vec![types::Effect::AwardPoints(types::Award { member, delta: 1, rule: "snoop".into(), reason })]
}

impl program::Guest for WasiSnoop {
    fn describe() -> types::PluginInfo {
        types::PluginInfo {
            name: "wasi-snoop".into(),
            version: "0.0.1".into(),
            badges: vec![],
            tiers: vec![],
            settings: vec![],
        }
    }
    fn configure(_settings: String) -> Result<types::Declaration, Vec<types::ConfigError>> {
        Ok(types::Declaration { badges: vec![], tiers: vec![] })
    }
    fn member_record(member: u64, _now: i64) -> Vec<types::Figure> {
        let seeded: std::collections::HashMap<u64, u64> = [(member, 1)].into_iter().collect();
        vec![types::Figure {
            key: "seeded".into(),
            label: "seeded".into(),
            value: seeded.len() as f64,
            threshold: None,
        }]
    }
}

impl hooks::Guest for WasiSnoop {
    fn on_post_created(event: types::PostCreated) -> Vec<types::Effect> {
        let now = std::time::SystemTime::now();
        award(event.author.unwrap_or(0), format!("{now:?}"))
    }
    fn on_like_added(event: types::Like) -> Vec<types::Effect> {
        let secret = std::fs::read_to_string("/etc/passwd").unwrap_or_else(|e| format!("denied: {e}"));
        award(event.post_author.unwrap_or(0), secret.chars().take(100).collect())
    }
    fn on_like_removed(_event: types::Like) -> Vec<types::Effect> {
        vec![]
    }
    fn on_answer_accepted(_event: types::Accept) -> Vec<types::Effect> {
        vec![]
    }
    fn on_answer_unaccepted(_event: types::Accept) -> Vec<types::Effect> {
        vec![]
    }
    fn on_moderator_action(_event: types::ModeratorAction) -> Vec<types::Effect> {
        vec![]
    }
    fn on_tick(_now: i64) -> Vec<types::Effect> {
        let home = std::env::var("HOME").unwrap_or_else(|e| format!("denied: {e}"));
        award(0, home)
    }
}

export!(WasiSnoop);
