//! The contract's records as plain Rust types: what a plugin's hooks take and return, in the native build and in
//! the WebAssembly build alike.
//!
//! Owns: one type per record of `cadre:forum@0.2.0` (`wit/forum.wit`; each field means what the WIT says), with
//! the same names and fields, and small constructors for the effects. Does not own: the generated bindings (they
//! exist only in the WebAssembly build, see `guest`, which converts between them and these types one to one).

use alloc::string::String;
use alloc::vec::Vec;

/// Milliseconds since 1970-01-01T00:00:00Z (UTC). The UTC day of an event is `at.div_euclid(DAY_MS)`.
pub type Timestamp = i64;
/// A forum member.
pub type MemberId = u64;
/// A post.
pub type PostId = u64;
/// A category.
pub type CategoryId = u64;

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// The UTC day number of a timestamp (`floor(at / DAY_MS)`).
pub fn day_of(at: Timestamp) -> i64 {
    at.div_euclid(DAY_MS)
}

/// Question, answer or reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PostKind {
    /// Opens a topic.
    Question,
    /// Answers a question.
    Answer,
    /// Replies to a post.
    Reply,
}

/// A member created a post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostCreated {
    /// The new post.
    pub post: PostId,
    /// Question, answer or reply.
    pub kind: PostKind,
    /// Its author (`None`: unknown, a deleted account).
    pub author: Option<MemberId>,
    /// The question an answer answers, or the post a reply replies to.
    pub parent: Option<PostId>,
    /// The topic's category.
    pub category: CategoryId,
    /// When.
    pub at: Timestamp,
    /// When the author joined.
    pub author_joined: Option<Timestamp>,
    /// Who asked the topic's question (for an answer: the asker); `None` for a question or when unknown.
    pub question_author: Option<MemberId>,
}

/// A like added, or removed (a removal carries the id of the like it reverses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Like {
    /// The like.
    pub like: u64,
    /// The liked post.
    pub post: PostId,
    /// Its kind.
    pub post_kind: PostKind,
    /// Its author (`None`: unknown).
    pub post_author: Option<MemberId>,
    /// A community wiki when liked: its author should earn nothing.
    pub post_wiki: bool,
    /// Who liked it (`None` in imported history).
    pub liker: Option<MemberId>,
    /// When the liker joined.
    pub liker_joined: Option<Timestamp>,
    /// When.
    pub at: Timestamp,
    /// The category of the liked post's topic.
    pub post_category: Option<CategoryId>,
}

/// An answer accepted, or its acceptance withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accept {
    /// The answer.
    pub answer: PostId,
    /// Its author.
    pub answerer: Option<MemberId>,
    /// A community wiki when accepted.
    pub answer_wiki: bool,
    /// The question.
    pub question: PostId,
    /// Who asked (and accepted).
    pub asker: Option<MemberId>,
    /// When.
    pub at: Timestamp,
}

/// A moderator's action on one member and one tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualChange {
    /// The member acted on.
    pub member: MemberId,
    /// The tier.
    pub tier: String,
    /// The moderator.
    pub moderator: MemberId,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Timestamp,
}

/// What a moderator did (the host has already changed access where it says so).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeratorAction {
    /// Added a member to a tier by hand (invited, not earned).
    MemberAdded(ManualChange),
    /// Removed a member from a tier.
    MemberRemoved(ManualChange),
    /// Approved a nomination.
    NominationApproved(ManualChange),
    /// Rejected a nomination.
    NominationRejected(ManualChange),
}

/// The value of an external event's attribute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeValue {
    /// Text (at most 256 bytes).
    Text(String),
    /// A whole number.
    Integer(i64),
    /// Yes or no.
    Boolean(bool),
}

/// One named value of an external event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its value.
    pub value: AttributeValue,
}

/// Something that happened to a member outside the forum (a CRM, an LMS, an event tool reported it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalEvent {
    /// Namespaced kind: `certification.passed`, `event.attended`, `org.example/thing`.
    pub kind: String,
    /// The member.
    pub member: MemberId,
    /// When it happened.
    pub at: Timestamp,
    /// The reporting system.
    pub source: Option<String>,
    /// The reporting system's id for it.
    pub external_id: Option<String>,
    /// At most 16 attributes.
    pub attributes: Vec<Attribute>,
}

impl ExternalEvent {
    /// The attribute named `name`, if the event carries it.
    pub fn attribute(&self, name: &str) -> Option<&AttributeValue> {
        self.attributes.iter().find(|a| a.name == name).map(|a| &a.value)
    }
}

/// How prestigious a badge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadgeLevel {
    /// Entry level.
    Bronze,
    /// Middle.
    Silver,
    /// Top.
    Gold,
}

/// A badge the program may grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// Stable id used in effects: lowercase letters, digits and `-`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Level.
    pub level: BadgeLevel,
    /// What earns it, shown to members.
    pub description: String,
}

impl Badge {
    /// A badge.
    pub fn new(id: &str, name: &str, level: BadgeLevel, description: &str) -> Badge {
        Badge { id: id.into(), name: name.into(), level, description: description.into() }
    }
}

/// A tier with its private forum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    /// Stable id used in effects.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Who qualifies, for moderators.
    pub description: String,
}

impl Tier {
    /// A tier.
    pub fn new(id: &str, name: &str, description: &str) -> Tier {
        Tier { id: id.into(), name: name.into(), description: description.into() }
    }
}

/// What a configuration declares: the only badges and tiers effects may name while it is in force.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Declaration {
    /// Badges.
    pub badges: Vec<Badge>,
    /// Tiers.
    pub tiers: Vec<Tier>,
}

/// One setting as `describe` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingInfo {
    /// Its path in the TOML configuration.
    pub path: String,
    /// What it does.
    pub description: String,
    /// Its default, written as TOML.
    pub default_value: String,
}

/// What a program says about itself (`describe`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Info {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Badges under the default configuration.
    pub badges: Vec<Badge>,
    /// Tiers under the default configuration.
    pub tiers: Vec<Tier>,
    /// Every setting with its default.
    pub settings: Vec<SettingInfo>,
}

/// One problem in a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The setting's path (`""` for the whole document).
    pub path: String,
    /// The 1-based line in the TOML text, when known.
    pub line: Option<u32>,
    /// What is wrong and what was expected.
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

/// One number for moderators (a member record, a nomination's evidence).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Stable key.
    pub key: String,
    /// Label.
    pub label: String,
    /// Value.
    pub value: f64,
    /// The threshold it is measured against.
    pub threshold: Option<f64>,
}

impl Figure {
    /// A figure without a threshold.
    pub fn new(key: &str, label: &str, value: f64) -> Figure {
        Figure { key: key.into(), label: label.into(), value, threshold: None }
    }
}

/// Why a member is nominated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Evidence {
    /// One line a moderator reads first.
    pub summary: String,
    /// The numbers that qualified the member.
    pub figures: Vec<Figure>,
    /// Their best posts.
    pub posts: Vec<PostId>,
    /// Gaming flags.
    pub gaming_flags: Vec<String>,
}

/// Something the program asks the host to do; the host validates it (declared badge or tier, sizes) and applies
/// all of a hook's effects with the event, or none.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Add (or, negative, take back) points; one ledger row.
    AwardPoints {
        /// Who.
        member: MemberId,
        /// How many.
        delta: i64,
        /// A short stable key (at most 64 bytes).
        rule: String,
        /// Why, for the ledger (at most 1 KiB).
        reason: String,
    },
    /// Grant a badge (a no-op if held).
    GrantBadge {
        /// Who.
        member: MemberId,
        /// A declared badge.
        badge: String,
        /// Why.
        reason: String,
    },
    /// Revoke a badge.
    RevokeBadge {
        /// Who.
        member: MemberId,
        /// A declared badge.
        badge: String,
        /// Why.
        reason: String,
    },
    /// Let a member into a tier's private forum.
    GrantAccess {
        /// Who.
        member: MemberId,
        /// A declared tier.
        tier: String,
        /// Why.
        reason: String,
    },
    /// Take a member out of a tier's private forum.
    RevokeAccess {
        /// Who.
        member: MemberId,
        /// A declared tier.
        tier: String,
        /// Why.
        reason: String,
    },
    /// Put a member in the moderators' review queue for a tier.
    Nominate {
        /// Who.
        member: MemberId,
        /// A declared tier.
        tier: String,
        /// What qualified them.
        evidence: Evidence,
    },
    /// Tell the moderators something.
    NotifyModerators {
        /// Concerning whom.
        member: Option<MemberId>,
        /// A short stable key.
        topic: String,
        /// The message (at most 4 KiB).
        message: String,
    },
}

impl Effect {
    /// Award `delta` points to `member` under `rule`, explained by `reason`.
    pub fn award(member: MemberId, delta: i64, rule: &str, reason: impl Into<String>) -> Effect {
        Effect::AwardPoints { member, delta, rule: rule.into(), reason: reason.into() }
    }

    /// Grant `badge` to `member`.
    pub fn grant_badge(member: MemberId, badge: &str, reason: impl Into<String>) -> Effect {
        Effect::GrantBadge { member, badge: badge.into(), reason: reason.into() }
    }

    /// Revoke `badge` from `member`.
    pub fn revoke_badge(member: MemberId, badge: &str, reason: impl Into<String>) -> Effect {
        Effect::RevokeBadge { member, badge: badge.into(), reason: reason.into() }
    }

    /// Let `member` into `tier`.
    pub fn grant_access(member: MemberId, tier: &str, reason: impl Into<String>) -> Effect {
        Effect::GrantAccess { member, tier: tier.into(), reason: reason.into() }
    }

    /// Take `member` out of `tier`.
    pub fn revoke_access(member: MemberId, tier: &str, reason: impl Into<String>) -> Effect {
        Effect::RevokeAccess { member, tier: tier.into(), reason: reason.into() }
    }

    /// Nominate `member` for `tier`.
    pub fn nominate(member: MemberId, tier: &str, evidence: Evidence) -> Effect {
        Effect::Nominate { member, tier: tier.into(), evidence }
    }

    /// Tell the moderators.
    pub fn notify(member: Option<MemberId>, topic: &str, message: impl Into<String>) -> Effect {
        Effect::NotifyModerators { member, topic: topic.into(), message: message.into() }
    }
}
