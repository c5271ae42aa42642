//! The program's entry points: describe, configure, handle an event, report a member.
//!
//! [`Program`] is the configured program. It holds only the validated [`Config`]; all state lives in the [`Kv`]
//! store passed to each call, so a fresh `Program` over the same store behaves identically (the host may discard
//! a component instance at any time).

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{Config, ConfigError};
use crate::kv::Kv;
use crate::model::{Declaration, Effect, Event, Figure, Info, MemberId, Setting, Timestamp};
use crate::scoring;

/// The program's name, as `describe` reports it.
pub const PLUGIN_NAME: &str = "cadre-superuser";
/// The program's version, as `describe` reports it.
pub const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A configured super-user program.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Program {
    config: Config,
}

impl Program {
    /// Name, version, default badges and tiers, and every setting with its default.
    pub fn info() -> Info {
        let declaration = Program::default().declaration();
        let setting = |path: &str, description: &str, default_value: &str| Setting {
            path: path.to_owned(),
            description: description.to_owned(),
            default_value: default_value.to_owned(),
        };
        Info {
            name: PLUGIN_NAME.to_owned(),
            version: PLUGIN_VERSION.to_owned(),
            badges: declaration.badges,
            tiers: declaration.tiers,
            settings: alloc::vec![
                setting("points.answer-liked", "Points to an answer's author for each like it receives.", "10"),
                setting("points.question-liked", "Points to a question's author for each like it receives.", "10"),
                setting("points.reply-liked", "Points to a reply's author for each like it receives.", "2"),
                setting(
                    "caps.likes-received-per-day",
                    "Most points a member can earn from likes received per UTC day (the like that crosses it gets partial credit); 0 = no cap.",
                    "200",
                ),
                setting(
                    "badges",
                    "Badge ladder: [[badges]] tables with id, name, level (bronze/silver/gold), description and when = { points = N }.",
                    "[{ id = \"rising-star\", name = \"Rising Star\", level = \"bronze\", when = { points = 100 } }]",
                ),
            ],
        }
    }

    /// Validate a TOML configuration; on success, the program configured by it.
    pub fn configure(settings: &str) -> Result<Program, Vec<ConfigError>> {
        Config::parse(settings).map(|config| Program { config })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The badges and tiers this configuration may grant.
    pub fn declaration(&self) -> Declaration {
        Declaration { badges: self.config.badges.iter().map(|rule| rule.badge.clone()).collect(), tiers: Vec::new() }
    }

    /// React to one event: update the store and return the effects.
    pub fn handle(&self, kv: &mut dyn Kv, event: &Event) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            Event::LikeAdded(like) => scoring::like_added(&self.config, kv, like, &mut effects),
            Event::LikeRemoved(like) => scoring::like_removed(kv, like, &mut effects),
            Event::PostCreated(_)
            | Event::AnswerAccepted(_)
            | Event::AnswerUnaccepted(_)
            | Event::Moderator(_)
            | Event::Tick(_) => {}
        }
        scoring::check_badges(&self.config, kv, &mut effects);
        effects
    }

    /// A moderator's view of one member.
    pub fn member_record(&self, kv: &mut dyn Kv, member: MemberId, _now: Timestamp) -> Vec<Figure> {
        let totals = scoring::Totals::load(kv, member);
        let figure = |key: &str, label: &str, value: i64| Figure {
            key: key.to_owned(),
            label: label.to_owned(),
            value: value as f64,
            threshold: None,
        };
        alloc::vec![
            figure("points", "Points", totals.points),
            figure("points-withheld-by-caps", "Points withheld by the daily cap", totals.withheld),
            figure("likes-received", "Likes received", totals.likes),
        ]
    }
}

/// `"member 7"`: how effects' reasons name members.
pub(crate) fn member_label(member: MemberId) -> String {
    format!("member {member}")
}
