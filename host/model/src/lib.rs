//! Cadre's own model of what happens in a forum and what a program asks for: events in, effects out.
//!
//! Owns: the types every other part speaks — the host's event log stores [`Event`] in the serde form written here
//! (feature `serde`), the pipeline applies [`Effect`]s, and the bundled program's rules (`cadre-rules`) take and
//! return the same types, so there is one model instead of hand-kept copies. Does not own: any contract version's
//! generated bindings. Each contract version (`wit/`) has one conversion module in the host's runtime
//! (`cadre-runtime`, `contract::v0_1_0`) and one in a guest (`plugin/component/src/convert.rs`); a new contract
//! version adds a conversion module, never a change here that would rewrite the log.
//!
//! The serde form is **stable**: it is what the event log of every existing database holds (it was first written
//! by the 0.1.0 bindings, and a test in this crate pins it byte for byte). Rename nothing here without a migration.
//!
//! `no_std` + `alloc`, so that a WebAssembly guest can use it without importing anything.
#![no_std]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use alloc::string::String;
use alloc::vec::Vec;

mod external;
pub use external::{
    Attribute, AttributeValue, ExternalEvent, MAX_ATTRIBUTE_NAME_BYTES, MAX_ATTRIBUTE_TEXT_BYTES, MAX_ATTRIBUTES,
    MAX_EXTERNAL_ID_BYTES, MAX_KIND_BYTES, MAX_SOURCE_BYTES, check_kind,
};

/// Milliseconds since the Unix epoch, UTC.
pub type Timestamp = i64;
/// A forum member.
pub type MemberId = u64;
/// A post.
pub type PostId = u64;

/// Milliseconds in a day; the UTC day of an event is `at.div_euclid(DAY_MS)`.
pub const DAY_MS: i64 = 86_400_000;

/// The UTC day number of a timestamp.
pub fn day_of(at: Timestamp) -> i64 {
    at.div_euclid(DAY_MS)
}

/// Question, answer or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum PostKind {
    /// Opens a topic.
    Question,
    /// Answers a question.
    Answer,
    /// Replies to a post.
    Reply,
}

/// A post was created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct PostCreated {
    /// The post.
    pub post: PostId,
    /// Its kind.
    pub kind: PostKind,
    /// Its author, if known.
    pub author: Option<MemberId>,
    /// The question or post it answers / replies to.
    pub parent: Option<PostId>,
    /// Its category.
    pub category: u64,
    /// When.
    pub at: Timestamp,
    /// When the author joined, if known.
    pub author_joined: Option<Timestamp>,
    /// Who asked the question whose topic the post is in (an answer's or a reply's asker), if known; `None` for a
    /// question. Added with contract 0.2.0: absent from the serde form when `None`, so events logged before it read
    /// and write back unchanged (the schema's version 9 filled it in for those).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub question_author: Option<MemberId>,
}

/// A like added or removed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Like {
    /// The like's id (a removal carries the id of the like it reverses).
    pub like: u64,
    /// The liked post.
    pub post: PostId,
    /// The liked post's kind.
    pub post_kind: PostKind,
    /// The liked post's author, if known.
    pub post_author: Option<MemberId>,
    /// Whether the post was a community wiki when liked.
    pub post_wiki: bool,
    /// Who liked it; `None` in imported history.
    pub liker: Option<MemberId>,
    /// When the liker joined, if known.
    pub liker_joined: Option<Timestamp>,
    /// When.
    pub at: Timestamp,
    /// The category of the liked post's topic. Added with contract 0.2.0: absent from the serde form when `None`
    /// (only in events logged before it; the schema's version 9 filled it in for those).
    #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "Option::is_none"))]
    pub post_category: Option<u64>,
}

/// An answer accepted or unaccepted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Accept {
    /// The answer.
    pub answer: PostId,
    /// Its author, if known.
    pub answerer: Option<MemberId>,
    /// Whether the answer was a community wiki when accepted.
    pub answer_wiki: bool,
    /// The question.
    pub question: PostId,
    /// The asker, if known.
    pub asker: Option<MemberId>,
    /// When.
    pub at: Timestamp,
}

/// A moderator's action on one member and tier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ManualChange {
    /// The member.
    pub member: MemberId,
    /// The tier id.
    pub tier: String,
    /// The moderator.
    pub moderator: MemberId,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// What a moderator did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum ModeratorAction {
    /// Invited a member into a tier by hand.
    MemberAdded(ManualChange),
    /// Removed a member from a tier.
    MemberRemoved(ManualChange),
    /// Approved a nomination.
    NominationApproved(ManualChange),
    /// Rejected a nomination.
    NominationRejected(ManualChange),
}

/// Every event the program reacts to. The event log stores it in this serde form:
/// `{"type":"like-added","event":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", content = "event", rename_all = "kebab-case"))]
pub enum Event {
    /// A post was created.
    PostCreated(PostCreated),
    /// A like was added.
    LikeAdded(Like),
    /// A like was removed.
    LikeRemoved(Like),
    /// An answer was accepted.
    AnswerAccepted(Accept),
    /// An acceptance was withdrawn.
    AnswerUnaccepted(Accept),
    /// A moderator acted.
    Moderator(ModeratorAction),
    /// Time passed.
    Tick(Timestamp),
    /// Something happened to a member outside the forum (contract 0.2.0; a 0.1.0 program never receives it).
    External(ExternalEvent),
}

impl Event {
    /// The event's kind, as the log names it (`like-added`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Event::PostCreated(_) => "post-created",
            Event::LikeAdded(_) => "like-added",
            Event::LikeRemoved(_) => "like-removed",
            Event::AnswerAccepted(_) => "answer-accepted",
            Event::AnswerUnaccepted(_) => "answer-unaccepted",
            Event::Moderator(_) => "moderator-action",
            Event::Tick(_) => "tick",
            Event::External(_) => "external",
        }
    }

    /// The members whose standing this event can move, sorted, without repeats (dead letters are ordered per
    /// member: a later event of a member waits behind an earlier failed one).
    pub fn members(&self) -> Vec<MemberId> {
        let mut members: Vec<MemberId> = match self {
            Event::PostCreated(e) => e.author.into_iter().collect(),
            Event::LikeAdded(e) | Event::LikeRemoved(e) => e.post_author.into_iter().chain(e.liker).collect(),
            Event::AnswerAccepted(e) | Event::AnswerUnaccepted(e) => e.answerer.into_iter().chain(e.asker).collect(),
            Event::Moderator(action) => alloc::vec![action.change().member],
            Event::Tick(_) => Vec::new(),
            Event::External(e) => alloc::vec![e.member],
        };
        members.sort_unstable();
        members.dedup();
        members
    }
}

impl ModeratorAction {
    /// The member, tier, moderator and reason of the action, whichever it is.
    pub fn change(&self) -> &ManualChange {
        match self {
            ModeratorAction::MemberAdded(c)
            | ModeratorAction::MemberRemoved(c)
            | ModeratorAction::NominationApproved(c)
            | ModeratorAction::NominationRejected(c) => c,
        }
    }
}

/// Bronze, silver or gold.
///
/// Serialised lowercase (`"bronze"`), the spelling of the settings' TOML, in every JSON output. Databases written
/// before that hold `"Bronze"` (in a program's stored declaration); the capitalised form is still read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum BadgeLevel {
    /// Entry level.
    #[cfg_attr(feature = "serde", serde(alias = "Bronze"))]
    Bronze,
    /// Middle level.
    #[cfg_attr(feature = "serde", serde(alias = "Silver"))]
    Silver,
    /// Top level.
    #[cfg_attr(feature = "serde", serde(alias = "Gold"))]
    Gold,
}

/// A badge the program may grant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Badge {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Level.
    pub level: BadgeLevel,
    /// What earns it.
    pub description: String,
}

/// A tier with a private forum.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Tier {
    /// Stable id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description for moderators.
    pub description: String,
}

/// One documented setting.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Setting {
    /// TOML path.
    pub path: String,
    /// What it does.
    pub description: String,
    /// Default, as TOML.
    pub default_value: String,
}

/// What the program says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Info {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Default badges.
    pub badges: Vec<Badge>,
    /// Default tiers.
    pub tiers: Vec<Tier>,
    /// Settings with defaults.
    pub settings: Vec<Setting>,
}

/// What a configuration declares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Declaration {
    /// Badges that may be granted.
    pub badges: Vec<Badge>,
    /// Tiers that access may be granted to.
    pub tiers: Vec<Tier>,
}

/// One number for moderators.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Figure {
    /// Stable key.
    pub key: String,
    /// Label.
    pub label: String,
    /// Value.
    pub value: f64,
    /// Threshold it was measured against.
    pub threshold: Option<f64>,
}

/// Why a member is nominated.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Evidence {
    /// One line summary.
    pub summary: String,
    /// Numbers.
    pub figures: Vec<Figure>,
    /// Best posts.
    pub posts: Vec<PostId>,
    /// Gaming flags.
    #[cfg_attr(feature = "serde", serde(rename = "gaming_flags"))]
    pub flags: Vec<String>,
}

/// Something the program asks the host to do.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum Effect {
    /// Award (or take back) points.
    AwardPoints {
        /// Who.
        member: MemberId,
        /// How many.
        delta: i64,
        /// Rule key.
        rule: String,
        /// Explanation.
        reason: String,
    },
    /// Grant a badge.
    GrantBadge {
        /// Who.
        member: MemberId,
        /// Badge id.
        badge: String,
        /// Why.
        reason: String,
    },
    /// Revoke a badge.
    RevokeBadge {
        /// Who.
        member: MemberId,
        /// Badge id.
        badge: String,
        /// Why.
        reason: String,
    },
    /// Grant access to a tier's private forum.
    GrantAccess {
        /// Who.
        member: MemberId,
        /// Tier id.
        tier: String,
        /// Why.
        reason: String,
    },
    /// Revoke access.
    RevokeAccess {
        /// Who.
        member: MemberId,
        /// Tier id.
        tier: String,
        /// Why.
        reason: String,
    },
    /// Nominate for review.
    Nominate {
        /// Who.
        member: MemberId,
        /// Tier id.
        tier: String,
        /// Why.
        evidence: Evidence,
    },
    /// Tell moderators.
    NotifyModerators {
        /// Concerning whom.
        member: Option<MemberId>,
        /// Topic key.
        topic: String,
        /// Message.
        message: String,
    },
}

/// One problem in a configuration, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct ConfigError {
    /// Dotted path with array indices, e.g. `badges[2].when.points`; empty for the whole document.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<u32>,
    /// What is wrong.
    pub message: String,
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

#[cfg(all(test, feature = "serde"))]
mod stable_form {
    //! The event log of every existing database holds these exact strings: the form may not change.
    use super::*;
    use alloc::string::ToString;

    fn round_trip(json: &str) -> Event {
        let event: Event = serde_json::from_str(json).expect("the logged form parses");
        assert_eq!(serde_json::to_string(&event).unwrap(), json, "the logged form is written back byte for byte");
        event
    }

    #[test]
    fn badge_levels_are_written_lowercase_as_in_the_settings_and_the_old_capitalised_form_is_still_read() {
        assert_eq!(serde_json::to_string(&BadgeLevel::Bronze).unwrap(), "\"bronze\"");
        assert_eq!(serde_json::to_string(&BadgeLevel::Gold).unwrap(), "\"gold\"");
        for (text, level) in [("\"Silver\"", BadgeLevel::Silver), ("\"silver\"", BadgeLevel::Silver)] {
            assert_eq!(serde_json::from_str::<BadgeLevel>(text).unwrap(), level);
        }
    }

    #[test]
    fn events_keep_the_form_the_0_1_0_log_holds() {
        let post = round_trip(
            r#"{"type":"post-created","event":{"post":7,"kind":"Answer","author":3,"parent":5,"category":1,"at":1000,"author_joined":null}}"#,
        );
        assert!(matches!(post, Event::PostCreated(PostCreated { kind: PostKind::Answer, .. })));
        round_trip(
            r#"{"type":"like-added","event":{"like":9,"post":7,"post_kind":"Question","post_author":3,"post_wiki":false,"liker":4,"liker_joined":5,"at":6}}"#,
        );
        round_trip(
            r#"{"type":"answer-unaccepted","event":{"answer":7,"answerer":null,"answer_wiki":true,"question":5,"asker":2,"at":8}}"#,
        );
        let action = round_trip(
            r#"{"type":"moderator","event":{"MemberAdded":{"member":3,"tier":"insiders","moderator":1,"reason":"top customer","at":9}}}"#,
        );
        assert_eq!(action.members(), alloc::vec![3]);
        assert_eq!(round_trip(r#"{"type":"tick","event":86400000}"#).kind(), "tick");
    }

    #[test]
    fn the_0_2_0_context_fields_are_written_after_the_0_1_0_ones_and_only_when_known() {
        let answer = round_trip(
            r#"{"type":"post-created","event":{"post":8,"kind":"Answer","author":3,"parent":5,"category":1,"at":1000,"author_joined":null,"question_author":2}}"#,
        );
        assert!(matches!(answer, Event::PostCreated(PostCreated { question_author: Some(2), .. })));
        let like = round_trip(
            r#"{"type":"like-added","event":{"like":9,"post":7,"post_kind":"Question","post_author":3,"post_wiki":false,"liker":4,"liker_joined":5,"at":6,"post_category":1}}"#,
        );
        assert!(matches!(like, Event::LikeAdded(Like { post_category: Some(1), .. })));
    }

    #[test]
    fn external_events_have_a_form_of_their_own_next_to_the_0_1_0_ones() {
        let external = round_trip(
            r#"{"type":"external","event":{"kind":"certification.passed","member":3,"at":10,"source":"lms","external_id":"x-1","attributes":[{"name":"score","value":{"Integer":87}},{"name":"exam","value":{"Text":"admin"}},{"name":"proctored","value":{"Boolean":true}}]}}"#,
        );
        assert_eq!(external.kind(), "external");
        assert_eq!(external.members(), alloc::vec![3]);
    }

    #[test]
    fn evidence_keeps_its_stored_field_names() {
        let evidence = Evidence {
            summary: "s".to_string(),
            figures: Vec::new(),
            posts: alloc::vec![1],
            flags: alloc::vec!["f".to_string()],
        };
        assert_eq!(
            serde_json::to_string(&evidence).unwrap(),
            r#"{"summary":"s","figures":[],"posts":[1],"gaming_flags":["f"]}"#
        );
    }
}
