//! The program's entry points: describe, configure, handle an event, report a member.
//!
//! [`Program`] is the configured program. It holds only the validated [`Config`]; all state lives in the [`Kv`]
//! store passed to each call, so a fresh `Program` over the same store behaves identically (the host may discard
//! a component instance at any time). Each event runs in three steps: the rule for the event (scoring or a
//! moderator's decision), then badges and tiers for every member it touched, then one write per changed record.

use alloc::borrow::ToOwned;
use alloc::vec::Vec;

use crate::config::{Config, ConfigError, settings::SETTINGS};
use crate::kv::Kv;
use crate::model::{Declaration, Effect, Event, Figure, Info, MemberId, Setting, Timestamp, day_of};
use crate::scoring::Ctx;
use crate::state::Members;
use crate::{accepts, badges, external, record, scoring, tiers};

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
        let settings = SETTINGS
            .iter()
            .map(|(path, default_value, description)| Setting {
                path: (*path).to_owned(),
                description: (*description).to_owned(),
                default_value: (*default_value).to_owned(),
            })
            .collect();
        Info {
            name: PLUGIN_NAME.to_owned(),
            version: PLUGIN_VERSION.to_owned(),
            badges: declaration.badges,
            tiers: declaration.tiers,
            settings,
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
        Declaration {
            badges: self.config.badges.iter().map(|rule| rule.badge.clone()).collect(),
            tiers: self.config.tiers.iter().map(|rule| rule.tier.clone()).collect(),
        }
    }

    /// React to one event: update the store and return the effects.
    pub fn handle(&self, kv: &mut dyn Kv, event: &Event) -> Vec<Effect> {
        let now = event_at(event);
        let mut ctx = Ctx { config: &self.config, kv, members: Members::default(), effects: Vec::new(), now };
        let at = match event {
            Event::PostCreated(post) => {
                scoring::post_created(&mut ctx, post);
                post.at
            }
            Event::LikeAdded(like) => {
                scoring::like_added(&mut ctx, like);
                like.at
            }
            Event::LikeRemoved(like) => {
                scoring::like_removed(&mut ctx, like);
                like.at
            }
            Event::AnswerAccepted(accept) => {
                accepts::answer_accepted(&mut ctx, accept);
                accept.at
            }
            Event::AnswerUnaccepted(accept) => {
                accepts::answer_unaccepted(&mut ctx, accept);
                accept.at
            }
            Event::Moderator(action) => {
                tiers::moderator(&mut ctx, action);
                action_at(action)
            }
            Event::Tick(now) => {
                tiers::tick(&mut ctx, *now);
                *now
            }
            Event::External(event) => {
                external::external_event(&mut ctx, event);
                event.at
            }
        };
        badges::check(&mut ctx);
        tiers::check(&mut ctx, day_of(at));
        ctx.members.flush(ctx.kv);
        ctx.effects
    }

    /// A moderator's view of one member: points by kind, points withheld, counts, activity, trend, tier status.
    pub fn member_record(&self, kv: &mut dyn Kv, member: MemberId, now: Timestamp) -> Vec<Figure> {
        record::member_record(&self.config, kv, member, now)
    }
}

fn action_at(action: &crate::model::ModeratorAction) -> Timestamp {
    use crate::model::ModeratorAction as A;
    match action {
        A::MemberAdded(c) | A::MemberRemoved(c) | A::NominationApproved(c) | A::NominationRejected(c) => c.at,
    }
}

fn event_at(event: &Event) -> Timestamp {
    match event {
        Event::PostCreated(e) => e.at,
        Event::LikeAdded(e) | Event::LikeRemoved(e) => e.at,
        Event::AnswerAccepted(e) | Event::AnswerUnaccepted(e) => e.at,
        Event::Moderator(action) => action_at(action),
        Event::Tick(now) => *now,
        Event::External(e) => e.at,
    }
}
